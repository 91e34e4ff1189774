-- A dormant customer's sites are dormant with it (and wake with it): set by
-- the customer's status change, each change recorded on the site. Sites of
-- customers already dormant follow at once.
ALTER TABLE site ADD COLUMN dormant BOOLEAN NOT NULL DEFAULT FALSE;
UPDATE site SET dormant = TRUE
 WHERE EXISTS (SELECT 1 FROM customer c WHERE c.org_id = site.org_id AND c.id = site.customer_id AND c.status = 'dormant');

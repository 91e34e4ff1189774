-- Search terms carry their customer's sort name, so the customers a term
-- finds come off the index in name order: a page of the directory for a
-- common name reads its 50 rows instead of every match. Rebuilt rather
-- than altered, for the new primary key.
CREATE TABLE customer_search_by_name (
    org_id UUID NOT NULL,
    term TEXT COLLATE "C" NOT NULL,
    sort_name TEXT COLLATE "C" NOT NULL,
    customer_id UUID NOT NULL,
    source_id UUID NOT NULL,
    PRIMARY KEY (org_id, term, sort_name, customer_id, source_id)
);
INSERT INTO customer_search_by_name (org_id, term, sort_name, customer_id, source_id)
SELECT s.org_id, s.term, c.sort_name, s.customer_id, s.source_id
FROM customer_search s JOIN customer c ON c.org_id = s.org_id AND c.id = s.customer_id
ORDER BY 1, 2, 3, 4, 5;
DROP TABLE customer_search;
ALTER TABLE customer_search_by_name RENAME TO customer_search;
CREATE INDEX customer_search_by_source ON customer_search (org_id, customer_id, source_id);

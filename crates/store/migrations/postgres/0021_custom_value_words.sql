-- The directory's search now finds customers by the words of custom text
-- and choice values (their own, their sites' and their jobs'), each
-- value's words kept under a source of its own. Values given before this
-- get their words in Rust (the field's type decides, and words are folded
-- the way queries are) when the database is next migrated; each record is
-- taken off this list as it gets them.
CREATE TABLE custom_terms_pending (
    org_id UUID NOT NULL,
    entity TEXT NOT NULL CHECK (entity IN ('customer', 'site', 'job')),
    record_id UUID NOT NULL,
    PRIMARY KEY (org_id, entity, record_id)
);
INSERT INTO custom_terms_pending (org_id, entity, record_id) SELECT org_id, 'customer', id FROM customer WHERE custom_fields <> '{}';
INSERT INTO custom_terms_pending (org_id, entity, record_id) SELECT org_id, 'site', id FROM site WHERE custom_fields <> '{}';
INSERT INTO custom_terms_pending (org_id, entity, record_id) SELECT org_id, 'job', id FROM job WHERE custom_fields <> '{}';

-- A deleted customer is kept, read-only and out of every list, search and
-- count, until it is restored or its retention window ends: when, by whom
-- (the actor's name) and why. NULL `deleted_at`: not deleted.
ALTER TABLE customer ADD COLUMN deleted_at INTEGER;
ALTER TABLE customer ADD COLUMN deleted_by TEXT;
ALTER TABLE customer ADD COLUMN delete_reason TEXT;
-- The Deleted page, newest first, and the purge's "window ended" query.
CREATE INDEX customer_deleted ON customer (org_id, deleted_at, id) WHERE deleted_at IS NOT NULL;
-- A deleted customer's search terms, set aside so no search finds it, and
-- put back as they were when it is restored.
CREATE TABLE customer_search_deleted (
    org_id BLOB NOT NULL,
    customer_id BLOB NOT NULL,
    source_id BLOB NOT NULL,
    term TEXT NOT NULL,
    sort_name TEXT NOT NULL,
    PRIMARY KEY (org_id, customer_id, source_id, term)
) WITHOUT ROWID;

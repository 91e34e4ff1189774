-- Merging customers. The merged customer is set aside the way a deleted
-- one is (`deleted_at`: out of every list, search and count, read-only)
-- and `merged_into` names its survivor, so its id and code still resolve
-- there. One `customer_merge` row per merge keeps exactly what moved (the
-- ids per table, as JSON) and the survivor's fields before it, so the
-- merge can be undone within its window; `undone_at` ends it.
ALTER TABLE customer ADD COLUMN merged_into UUID;
CREATE TABLE customer_merge (
    org_id UUID NOT NULL,
    id UUID NOT NULL,
    survivor_id UUID NOT NULL,
    merged_id UUID NOT NULL,
    survivor_before TEXT NOT NULL,
    moved TEXT NOT NULL,
    merged_at BIGINT NOT NULL,
    merged_by TEXT NOT NULL,
    undone_at BIGINT,
    undone_by TEXT,
    PRIMARY KEY (org_id, id),
    FOREIGN KEY (org_id, survivor_id) REFERENCES customer (org_id, id),
    FOREIGN KEY (org_id, merged_id) REFERENCES customer (org_id, id)
);
-- A survivor's timeline reads the customers merged into it.
CREATE INDEX customer_merge_by_survivor ON customer_merge (org_id, survivor_id);
CREATE INDEX customer_merge_by_merged ON customer_merge (org_id, merged_id);
-- Pairs a person said are not duplicates: never suggested again. The pair
-- is stored in id order (`customer_a` < `customer_b`).
CREATE TABLE duplicate_dismissal (
    org_id UUID NOT NULL,
    customer_a UUID NOT NULL,
    customer_b UUID NOT NULL,
    dismissed_at BIGINT NOT NULL,
    dismissed_by TEXT NOT NULL,
    PRIMARY KEY (org_id, customer_a, customer_b)
);

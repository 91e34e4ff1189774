-- Typed custom fields. Each org defines fields for customers, sites and
-- jobs; a record keeps its values as JSON text beside its other columns
-- (customers have had the column from the start), read with the row.
-- The directory filters customers by them through the search-term index
-- (see crates/store/src/customers/search.rs), not through this text.
CREATE TABLE custom_field (
    org_id BLOB NOT NULL,
    id BLOB NOT NULL,
    entity TEXT NOT NULL CHECK (entity IN ('customer', 'site', 'job')),
    field_key TEXT NOT NULL,
    label TEXT NOT NULL,
    field_type TEXT NOT NULL CHECK (field_type IN ('text', 'number', 'money', 'date', 'yes_no', 'choice')),
    required BOOLEAN NOT NULL,
    options TEXT NOT NULL,
    position INTEGER NOT NULL,
    created_at INTEGER NOT NULL,
    updated_at INTEGER NOT NULL,
    PRIMARY KEY (org_id, id),
    UNIQUE (org_id, entity, field_key)
);
ALTER TABLE site ADD COLUMN custom_fields TEXT NOT NULL DEFAULT '{}';
ALTER TABLE job ADD COLUMN custom_fields TEXT NOT NULL DEFAULT '{}';

-- Sites are now found by their street and town, and filtered by town and
-- postcode: their new search terms are made in Rust (words are folded the
-- way queries are) when the database is next migrated, and each site is
-- taken off this list as it gets them.
CREATE TABLE site_terms_pending (
    org_id BLOB NOT NULL,
    site_id BLOB NOT NULL,
    PRIMARY KEY (org_id, site_id)
);
INSERT INTO site_terms_pending (org_id, site_id) SELECT org_id, id FROM site;

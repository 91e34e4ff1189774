-- Customer imports: one row per import of a file (who, which file, the
-- mapping used, its counts and where it stands), and the keys of every
-- imported customer, so importing the same file again creates nothing new.
--
-- A key is `ref:<reference>` when the file's reference column (a
-- customer's id in the system it came from) was mapped — unique per org,
-- so it is the customer's external reference — else `row:<fingerprint>`,
-- a hash of the row's cells.
CREATE TABLE import_run (
    org_id BLOB NOT NULL,
    id BLOB NOT NULL,
    file_name TEXT NOT NULL,
    user_id BLOB,
    actor_name TEXT NOT NULL,
    mapping TEXT NOT NULL,
    status TEXT NOT NULL CHECK (status IN ('uploaded', 'checked', 'queued', 'running', 'done', 'failed')),
    total_rows INTEGER NOT NULL,
    processed_rows INTEGER NOT NULL,
    created_count INTEGER NOT NULL,
    skipped_count INTEGER NOT NULL,
    invalid_count INTEGER NOT NULL,
    error TEXT,
    created_at INTEGER NOT NULL,
    updated_at INTEGER NOT NULL,
    PRIMARY KEY (org_id, id),
    FOREIGN KEY (org_id) REFERENCES org (id)
);
CREATE TABLE import_key (
    org_id BLOB NOT NULL,
    key TEXT NOT NULL,
    customer_id BLOB NOT NULL,
    import_id BLOB NOT NULL,
    PRIMARY KEY (org_id, key)
) WITHOUT ROWID;
CREATE INDEX import_key_by_customer ON import_key (org_id, customer_id);

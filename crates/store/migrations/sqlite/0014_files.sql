-- Files attached to a customer, to one of their records or to a message.
-- The content is a blob named by `sha256` in the org's folder of the blob
-- store; this row is what names it. A deleted file keeps its row (who
-- deleted it and when); its blob goes once no live row names it.

CREATE TABLE file (
    org_id BLOB NOT NULL,
    id BLOB NOT NULL,
    customer_id BLOB NOT NULL,
    record_type TEXT,
    record_id BLOB,
    record_code TEXT,
    message_id BLOB,
    name TEXT NOT NULL,
    media_type TEXT NOT NULL,
    size INTEGER NOT NULL CHECK (size >= 0),
    sha256 TEXT NOT NULL,
    -- A smaller JPEG of a picture, a blob of its own.
    thumbnail_sha256 TEXT,
    visibility TEXT NOT NULL CHECK (visibility IN ('internal', 'customer')),
    uploaded_by_type TEXT NOT NULL,
    uploaded_by_id BLOB,
    uploaded_by_name TEXT NOT NULL,
    created_at INTEGER NOT NULL,
    deleted_at INTEGER,
    deleted_by TEXT,
    PRIMARY KEY (org_id, id),
    FOREIGN KEY (org_id, customer_id) REFERENCES customer (org_id, id),
    FOREIGN KEY (org_id, message_id) REFERENCES message (org_id, id)
);
CREATE INDEX file_by_customer ON file (org_id, customer_id, created_at, id);
CREATE INDEX file_by_record ON file (org_id, record_id, created_at, id);
CREATE INDEX file_by_message ON file (org_id, message_id);
-- Is this blob still named by a live file?
CREATE INDEX file_by_blob ON file (org_id, sha256);
CREATE INDEX file_by_thumbnail ON file (org_id, thumbnail_sha256);

-- File names in the search within a customer's history (as message_text).
CREATE VIRTUAL TABLE file_text USING fts5(owner, name, tokenize = 'unicode61 remove_diacritics 2');
CREATE TRIGGER file_text_insert AFTER INSERT ON file BEGIN
    INSERT INTO file_text (rowid, owner, name) VALUES (new.rowid, 'c' || hex(new.customer_id), new.name);
END;
CREATE TRIGGER file_text_delete AFTER DELETE ON file BEGIN
    DELETE FROM file_text WHERE rowid = old.rowid;
END;

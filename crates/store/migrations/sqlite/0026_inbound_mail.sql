-- Inbound mail (and texts) that matched no customer wait in an inbox until
-- staff assign them to a customer (a message is written then) or dismiss
-- them. `message_ref` is the email's Message-ID (or the SMS gateway's id):
-- the same mail received twice is one item. The raw message is kept in the
-- blob store (`raw_sha256`, so a sweep keeps it while the item names it),
-- or as bounded text (`raw_text`, an SMS).
CREATE TABLE inbox_item (
    org_id BLOB NOT NULL REFERENCES org (id),
    id BLOB NOT NULL,
    channel TEXT NOT NULL CHECK (channel IN ('email', 'sms')),
    message_ref TEXT,
    from_address TEXT NOT NULL,
    from_name TEXT,
    subject TEXT,
    excerpt TEXT NOT NULL,
    raw_sha256 TEXT,
    raw_size INTEGER,
    raw_text TEXT,
    reason TEXT NOT NULL,
    received_at INTEGER NOT NULL,
    status TEXT NOT NULL CHECK (status IN ('open', 'assigned', 'dismissed')),
    assigned_customer_id BLOB,
    assigned_message_id BLOB,
    decided_by TEXT,
    decided_at INTEGER,
    PRIMARY KEY (org_id, id)
);
-- NULL references are distinct: only referenced items are deduplicated.
CREATE UNIQUE INDEX inbox_item_by_ref ON inbox_item (org_id, channel, message_ref);
-- The inbox: an org's items of a status, newest first.
CREATE INDEX inbox_item_by_status ON inbox_item (org_id, status, received_at, id);

-- The secret a mail server presents to POST /api/v1/inbound/email: one per
-- org, only its SHA-256 hash kept; a new one replaces the old.
CREATE TABLE inbound_secret (
    org_id BLOB NOT NULL REFERENCES org (id),
    secret_hash BLOB NOT NULL,
    created_at INTEGER NOT NULL,
    created_by TEXT NOT NULL,
    PRIMARY KEY (org_id)
);

-- Messages: notes, logged calls, emails, SMS, WhatsApp and portal messages,
-- letters. A deleted message keeps its row (who deleted it and when) with
-- its text blanked; the activity log keeps what it said.

CREATE TABLE message (
    org_id BLOB NOT NULL,
    id BLOB NOT NULL,
    customer_id BLOB NOT NULL,
    channel TEXT NOT NULL CHECK (channel IN ('note', 'call', 'email', 'sms', 'whatsapp', 'portal', 'letter')),
    direction TEXT NOT NULL CHECK (direction IN ('inbound', 'outbound', 'internal')),
    visibility TEXT NOT NULL CHECK (visibility IN ('internal', 'customer')),
    author_type TEXT NOT NULL,
    author_id BLOB,
    author_name TEXT NOT NULL,
    occurred_at INTEGER NOT NULL,
    subject TEXT,
    body TEXT NOT NULL,
    contact_id BLOB,
    record_type TEXT,
    record_id BLOB,
    record_code TEXT,
    duration_seconds INTEGER,
    outcome TEXT,
    pinned BOOLEAN NOT NULL DEFAULT FALSE,
    created_at INTEGER NOT NULL,
    edited_at INTEGER,
    deleted_at INTEGER,
    deleted_by TEXT,
    PRIMARY KEY (org_id, id),
    FOREIGN KEY (org_id, customer_id) REFERENCES customer (org_id, id)
);
-- A customer's messages newest first; a record's (a job's) messages.
CREATE INDEX message_by_customer ON message (org_id, customer_id, occurred_at, id);
CREATE INDEX message_by_record ON message (org_id, record_id, occurred_at, id);
-- The pinned ones above the profile: read without walking a busy
-- customer's every message.
CREATE INDEX message_pinned ON message (org_id, customer_id, occurred_at, id) WHERE pinned = TRUE;

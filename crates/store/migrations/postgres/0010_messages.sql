-- Messages: notes, logged calls, emails, SMS, WhatsApp and portal messages,
-- letters. A deleted message keeps its row (who deleted it and when) with
-- its text blanked; the activity log keeps what it said.

CREATE TABLE message (
    org_id UUID NOT NULL,
    id UUID NOT NULL,
    customer_id UUID NOT NULL,
    channel TEXT NOT NULL CHECK (channel IN ('note', 'call', 'email', 'sms', 'whatsapp', 'portal', 'letter')),
    direction TEXT NOT NULL CHECK (direction IN ('inbound', 'outbound', 'internal')),
    visibility TEXT NOT NULL CHECK (visibility IN ('internal', 'customer')),
    author_type TEXT NOT NULL,
    author_id UUID,
    author_name TEXT NOT NULL,
    occurred_at BIGINT NOT NULL,
    subject TEXT,
    body TEXT NOT NULL,
    contact_id UUID,
    record_type TEXT,
    record_id UUID,
    record_code TEXT,
    duration_seconds BIGINT,
    outcome TEXT,
    pinned BOOLEAN NOT NULL DEFAULT FALSE,
    created_at BIGINT NOT NULL,
    edited_at BIGINT,
    deleted_at BIGINT,
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

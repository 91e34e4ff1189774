-- Messages that travel: an email or SMS Dossier sends or receives keeps
-- its delivery state, the addresses or numbers it went to or came from,
-- and the identifiers that tie later news to it.
--
-- delivery_status: held (an automated send waiting for a pause to end)
-- → queued → sent → delivered | bounced, or failed (with the server's
-- answer in delivery_detail), or cancelled. NULL for what Dossier did
-- not send (notes, logged calls, received mail).
-- email_message_id: the RFC 5322 Message-ID without angle brackets,
-- fixed when the email is queued (a resend after a crash is the same
-- message) or read from a received one; replies find their thread by it.
-- provider_ref: the SMS gateway's id of a sent text; delivery receipts
-- find it by that.
-- recipients: JSON {"to": [...], "cc": [...]} of addresses or numbers.
ALTER TABLE message ADD COLUMN delivery_status TEXT
    CHECK (delivery_status IN ('held', 'queued', 'sent', 'delivered', 'bounced', 'failed', 'cancelled'));
ALTER TABLE message ADD COLUMN delivery_detail TEXT;
ALTER TABLE message ADD COLUMN delivery_updated_at BIGINT;
ALTER TABLE message ADD COLUMN email_message_id TEXT;
ALTER TABLE message ADD COLUMN provider_ref TEXT;
ALTER TABLE message ADD COLUMN recipients TEXT;
CREATE UNIQUE INDEX message_by_email_id ON message (org_id, email_message_id) WHERE email_message_id IS NOT NULL;
CREATE INDEX message_by_provider_ref ON message (org_id, provider_ref) WHERE provider_ref IS NOT NULL;

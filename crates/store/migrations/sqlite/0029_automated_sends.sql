-- What Dossier sent, or decided not to send, on its own: one row per
-- occurrence (the email of an invoice when issued, the receipt of a
-- payment, reminder level N of an invoice, a customer's statement for a
-- month). The key is unique per org, so an occurrence is acted on once,
-- whatever the retries and racing workers.
--
-- outcome: queued (an email went to the queue), held (an email waits for
-- the customer's pause to end, or for them to be active again), or
-- skipped (reason says why: opted out, no address, no mail server,
-- deactivated, already paid). message_id names the email of queued and
-- held ones. A row without a customer marks an org-wide run done: the
-- month's statements (`statements:2026-12`), so a month whose statement
-- day passed while no worker ran still gets them, once.
CREATE TABLE automated_send (
    org_id BLOB NOT NULL,
    key TEXT NOT NULL,
    purpose TEXT NOT NULL,
    customer_id BLOB,
    record_id BLOB,
    message_id BLOB,
    outcome TEXT NOT NULL CHECK (outcome IN ('queued', 'held', 'skipped')),
    reason TEXT,
    created_at INTEGER NOT NULL,
    PRIMARY KEY (org_id, key),
    FOREIGN KEY (org_id, customer_id) REFERENCES customer (org_id, id)
);
CREATE INDEX automated_send_by_message ON automated_send (org_id, message_id);
-- Held emails, found per customer when a pause ends.
CREATE INDEX message_held ON message (org_id, customer_id) WHERE delivery_status = 'held';

-- An org's own message templates, one per purpose (invoice, quote,
-- statement, payment receipt, portal link, payment reminder levels,
-- service reminder, staff invitation). A purpose without a row uses the
-- default Dossier ships; deleting the row goes back to it.
CREATE TABLE message_template (
    org_id UUID NOT NULL,
    purpose TEXT NOT NULL,
    subject TEXT NOT NULL,
    body TEXT NOT NULL,
    updated_at BIGINT NOT NULL,
    updated_by TEXT NOT NULL,
    PRIMARY KEY (org_id, purpose),
    FOREIGN KEY (org_id) REFERENCES org (id)
);

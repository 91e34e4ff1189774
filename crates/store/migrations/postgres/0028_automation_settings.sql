-- What an org lets Dossier do on its own (invoice emails, receipts,
-- payment reminders, statements, quote expiry), as JSON. An org without a
-- row has the defaults.
CREATE TABLE automation_settings (
    org_id UUID NOT NULL PRIMARY KEY,
    settings TEXT NOT NULL,
    updated_at BIGINT NOT NULL,
    FOREIGN KEY (org_id) REFERENCES org (id)
);

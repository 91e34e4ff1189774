-- What an org lets Dossier do on its own (invoice emails, receipts,
-- payment reminders, statements, quote expiry), as JSON. An org without a
-- row has the defaults.
CREATE TABLE automation_settings (
    org_id BLOB NOT NULL PRIMARY KEY,
    settings TEXT NOT NULL,
    updated_at INTEGER NOT NULL,
    FOREIGN KEY (org_id) REFERENCES org (id)
);

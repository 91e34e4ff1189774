-- Outbound email. smtp_settings: an org's own outgoing mail server (orgs
-- without one use the installation's DOSSIER_SMTP_URL). The password is
-- kept as given, because the server needs it as given; it is never read
-- back by the API or the web app, nor written to the activity log.
-- tls: none | starttls | tls.
CREATE TABLE smtp_settings (
    org_id BLOB PRIMARY KEY REFERENCES org (id),
    sender_name TEXT NOT NULL,
    sender_address TEXT NOT NULL,
    host TEXT NOT NULL,
    port INTEGER NOT NULL CHECK (port BETWEEN 1 AND 65535),
    tls TEXT NOT NULL CHECK (tls IN ('none', 'starttls', 'tls')),
    username TEXT,
    password TEXT,
    updated_at INTEGER NOT NULL
);

-- What an email carries, in order: a file of the customer (file_id), or a
-- document made when the email is sent (document: invoice | quote |
-- statement, with the invoice's or quote's id in record_id).
CREATE TABLE email_attachment (
    org_id BLOB NOT NULL,
    message_id BLOB NOT NULL,
    position INTEGER NOT NULL CHECK (position >= 0),
    file_id BLOB,
    document TEXT CHECK (document IN ('invoice', 'quote', 'statement')),
    record_id BLOB,
    PRIMARY KEY (org_id, message_id, position),
    FOREIGN KEY (org_id, message_id) REFERENCES message (org_id, id),
    CHECK ((file_id IS NULL) <> (document IS NULL))
);

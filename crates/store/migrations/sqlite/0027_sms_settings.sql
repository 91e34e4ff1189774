-- The SMS gateway of each org: where texts are POSTed (provider_url, JSON),
-- the API key sent as a bearer token, who texts say they are from
-- (sender: an alphanumeric name of at most 11 characters or an E.164
-- number), and the secret the provider signs its delivery-receipt and
-- inbound-SMS webhooks with (HMAC-SHA256). The secrets are kept as they
-- are (Dossier must use them) and are never shown again once set.
CREATE TABLE sms_settings (
    org_id BLOB NOT NULL REFERENCES org (id),
    provider_url TEXT,
    api_key TEXT,
    sender TEXT,
    webhook_secret TEXT,
    updated_at INTEGER NOT NULL,
    PRIMARY KEY (org_id)
) WITHOUT ROWID;

-- Idempotency keys of the JSON API: a POST sent again with the same
-- `Idempotency-Key` gets the first answer instead of being carried out
-- twice. Keyed by org, caller (the user behind the token or session) and
-- the key; kept at least 24 hours, then purged (see docs/api.md).
--
-- state: 'running' while the first request is carried out; 'committed'
-- once its use case's transaction committed (written in that transaction);
-- 'done' once its answer is stored. `attempt` names the request holding
-- the claim, so a request whose claim was retaken cannot commit.
CREATE TABLE idempotency_key (
    org_id BLOB NOT NULL,
    caller BLOB NOT NULL,
    client_key TEXT NOT NULL,
    -- SHA-256 of the method, path and body.
    request_hash BLOB NOT NULL,
    attempt BLOB NOT NULL,
    state TEXT NOT NULL CHECK (state IN ('running', 'committed', 'done')),
    created_at INTEGER NOT NULL,
    -- When the request holding the claim started (the claim is retaken
    -- when a 'running' one is too old).
    started_at INTEGER NOT NULL,
    status INTEGER,
    content_type TEXT,
    -- NULL when the answer is not kept (it held a secret shown once).
    body BLOB,
    PRIMARY KEY (org_id, caller, client_key),
    FOREIGN KEY (org_id) REFERENCES org (id)
);
CREATE INDEX idempotency_key_by_age ON idempotency_key (org_id, created_at);

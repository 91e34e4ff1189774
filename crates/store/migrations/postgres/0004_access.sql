-- Access: sign-in sessions, login throttling, invitations and customer
-- portal links. Secrets (session cookies, invitation and portal tokens) are
-- stored only as SHA-256 hashes, looked up by an org-led unique index.

ALTER TABLE app_user ADD COLUMN invite_hash BYTEA;
ALTER TABLE app_user ADD COLUMN invite_expires_at BIGINT;
CREATE UNIQUE INDEX app_user_by_invite ON app_user (org_id, invite_hash);
CREATE INDEX app_user_by_email ON app_user (email);

CREATE TABLE user_session (
    org_id UUID NOT NULL,
    id UUID NOT NULL,
    user_id UUID NOT NULL,
    token_hash BYTEA NOT NULL,
    created_at BIGINT NOT NULL,
    last_seen_at BIGINT NOT NULL,
    -- The absolute expiry; idle expiry is last_seen_at plus the idle limit.
    expires_at BIGINT NOT NULL,
    revoked_at BIGINT,
    address TEXT,
    user_agent TEXT,
    PRIMARY KEY (org_id, id),
    UNIQUE (org_id, token_hash),
    FOREIGN KEY (org_id, user_id) REFERENCES app_user (org_id, id)
);
CREATE INDEX user_session_by_user ON user_session (org_id, user_id);

-- Failed sign-ins per account (email) and per client address. Sign-in comes
-- before any org is known, so this one table is keyed by what is throttled.
CREATE TABLE login_throttle (
    subject TEXT PRIMARY KEY,
    failures BIGINT NOT NULL,
    first_failure_at BIGINT NOT NULL,
    locked_until BIGINT
);

CREATE TABLE portal_link (
    org_id UUID NOT NULL,
    id UUID NOT NULL,
    customer_id UUID NOT NULL,
    token_hash BYTEA NOT NULL,
    created_by TEXT NOT NULL,
    created_at BIGINT NOT NULL,
    expires_at BIGINT NOT NULL,
    revoked_at BIGINT,
    last_used_at BIGINT,
    PRIMARY KEY (org_id, id),
    UNIQUE (org_id, token_hash),
    FOREIGN KEY (org_id, customer_id) REFERENCES customer (org_id, id)
);
CREATE INDEX portal_link_by_customer ON portal_link (org_id, customer_id);

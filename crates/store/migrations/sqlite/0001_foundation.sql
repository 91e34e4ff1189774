-- Foundation: orgs, users, API tokens, customers, contacts, sites, search
-- terms, gapless code counters and the append-only, hash-chained activity log.
-- Every table carries org_id and every key and index leads with it.

CREATE TABLE org (
    id BLOB PRIMARY KEY,
    name TEXT NOT NULL,
    region TEXT NOT NULL,
    currency TEXT NOT NULL,
    timezone TEXT NOT NULL,
    created_at INTEGER NOT NULL
);

CREATE TABLE app_user (
    org_id BLOB NOT NULL REFERENCES org (id),
    id BLOB NOT NULL,
    email TEXT NOT NULL,
    name TEXT NOT NULL,
    role TEXT NOT NULL,
    password_hash TEXT,
    active BOOLEAN NOT NULL DEFAULT TRUE,
    created_at INTEGER NOT NULL,
    PRIMARY KEY (org_id, id),
    UNIQUE (org_id, email)
);

CREATE TABLE api_token (
    org_id BLOB NOT NULL,
    id BLOB NOT NULL,
    user_id BLOB NOT NULL,
    name TEXT NOT NULL,
    token_hash BLOB NOT NULL,
    created_at INTEGER NOT NULL,
    last_used_at INTEGER,
    revoked_at INTEGER,
    PRIMARY KEY (org_id, id),
    UNIQUE (org_id, token_hash),
    FOREIGN KEY (org_id, user_id) REFERENCES app_user (org_id, id)
);

CREATE TABLE code_counter (
    org_id BLOB NOT NULL REFERENCES org (id),
    kind TEXT NOT NULL,
    last INTEGER NOT NULL,
    PRIMARY KEY (org_id, kind)
) WITHOUT ROWID;

CREATE TABLE customer (
    org_id BLOB NOT NULL REFERENCES org (id),
    id BLOB NOT NULL,
    number INTEGER NOT NULL,
    kind TEXT NOT NULL CHECK (kind IN ('individual', 'business')),
    title TEXT,
    given_name TEXT,
    family_name TEXT,
    business_name TEXT,
    display_name TEXT NOT NULL,
    sort_name TEXT NOT NULL,
    email TEXT,
    phone TEXT,
    source TEXT,
    communication TEXT NOT NULL,
    auto_comms_paused BOOLEAN NOT NULL,
    auto_comms_paused_until TEXT,
    custom_fields TEXT NOT NULL,
    status TEXT NOT NULL CHECK (status IN ('active', 'dormant', 'blocked', 'deactivated')),
    status_reason TEXT,
    created_at INTEGER NOT NULL,
    updated_at INTEGER NOT NULL,
    PRIMARY KEY (org_id, id),
    UNIQUE (org_id, number)
);
CREATE INDEX customer_by_name ON customer (org_id, sort_name, id);
CREATE INDEX customer_by_status ON customer (org_id, status, sort_name, id);

CREATE TABLE customer_label (
    org_id BLOB NOT NULL,
    customer_id BLOB NOT NULL,
    label TEXT NOT NULL,
    PRIMARY KEY (org_id, customer_id, label),
    FOREIGN KEY (org_id, customer_id) REFERENCES customer (org_id, id)
) WITHOUT ROWID;
CREATE INDEX customer_label_by_label ON customer_label (org_id, label, customer_id);

CREATE TABLE contact (
    org_id BLOB NOT NULL,
    id BLOB NOT NULL,
    customer_id BLOB NOT NULL,
    title TEXT,
    given_name TEXT,
    family_name TEXT NOT NULL,
    position TEXT,
    roles TEXT NOT NULL,
    emails TEXT NOT NULL,
    phones TEXT NOT NULL,
    urls TEXT NOT NULL,
    is_primary BOOLEAN NOT NULL,
    is_billing BOOLEAN NOT NULL,
    created_at INTEGER NOT NULL,
    updated_at INTEGER NOT NULL,
    PRIMARY KEY (org_id, id),
    FOREIGN KEY (org_id, customer_id) REFERENCES customer (org_id, id)
);
CREATE INDEX contact_by_customer ON contact (org_id, customer_id);

CREATE TABLE site (
    org_id BLOB NOT NULL,
    id BLOB NOT NULL,
    customer_id BLOB NOT NULL,
    kind TEXT NOT NULL CHECK (kind IN ('billing', 'service', 'branch')),
    name TEXT,
    address_line1 TEXT NOT NULL,
    address_line2 TEXT,
    town TEXT,
    region TEXT,
    postcode TEXT NOT NULL,
    country TEXT NOT NULL,
    latitude REAL,
    longitude REAL,
    access_notes TEXT,
    active BOOLEAN NOT NULL,
    created_at INTEGER NOT NULL,
    updated_at INTEGER NOT NULL,
    PRIMARY KEY (org_id, id),
    FOREIGN KEY (org_id, customer_id) REFERENCES customer (org_id, id)
);
CREATE INDEX site_by_customer ON site (org_id, customer_id);

-- Prefix search: one row per term a customer can be found by, tagged with
-- the record it came from (the customer, one of its contacts or sites).
CREATE TABLE customer_search (
    org_id BLOB NOT NULL,
    term TEXT NOT NULL,
    customer_id BLOB NOT NULL,
    source_id BLOB NOT NULL,
    PRIMARY KEY (org_id, term, customer_id, source_id)
) WITHOUT ROWID;
CREATE INDEX customer_search_by_source ON customer_search (org_id, customer_id, source_id);

CREATE TABLE activity (
    org_id BLOB NOT NULL REFERENCES org (id),
    id BLOB NOT NULL,
    seq INTEGER NOT NULL,
    customer_id BLOB,
    subject_type TEXT NOT NULL,
    subject_id BLOB NOT NULL,
    subject_code TEXT,
    kind TEXT NOT NULL,
    grp TEXT NOT NULL,
    actor_type TEXT NOT NULL,
    actor_id BLOB,
    actor_name TEXT NOT NULL,
    occurred_at INTEGER NOT NULL,
    summary TEXT NOT NULL,
    changes TEXT NOT NULL,
    detail TEXT NOT NULL,
    visibility TEXT NOT NULL,
    links TEXT NOT NULL,
    content_hash BLOB NOT NULL,
    chain_hash BLOB NOT NULL,
    PRIMARY KEY (org_id, id),
    UNIQUE (org_id, seq)
);

-- Every entity an activity concerns; the customer timeline, a site's
-- timeline and the History tab are range scans of this index.
CREATE TABLE activity_link (
    org_id BLOB NOT NULL,
    entity_type TEXT NOT NULL,
    entity_id BLOB NOT NULL,
    activity_id BLOB NOT NULL,
    PRIMARY KEY (org_id, entity_type, entity_id, activity_id)
) WITHOUT ROWID;

-- The head of each org's hash chain: the last sequence number and its hash.
CREATE TABLE activity_chain (
    org_id BLOB PRIMARY KEY REFERENCES org (id),
    seq INTEGER NOT NULL,
    head BLOB NOT NULL
);

CREATE TRIGGER activity_refuses_update BEFORE UPDATE ON activity
BEGIN SELECT RAISE(ABORT, 'activity is append-only'); END;
CREATE TRIGGER activity_refuses_delete BEFORE DELETE ON activity
BEGIN SELECT RAISE(ABORT, 'activity is append-only'); END;
CREATE TRIGGER activity_link_refuses_update BEFORE UPDATE ON activity_link
BEGIN SELECT RAISE(ABORT, 'activity_link is append-only'); END;
CREATE TRIGGER activity_link_refuses_delete BEFORE DELETE ON activity_link
BEGIN SELECT RAISE(ABORT, 'activity_link is append-only'); END;

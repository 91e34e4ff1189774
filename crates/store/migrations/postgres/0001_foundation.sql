-- Foundation: orgs, users, API tokens, customers, contacts, sites, search
-- terms, gapless code counters and the append-only, hash-chained activity log.
-- Every table carries org_id and every key and index leads with it.
-- Text columns that lists are ordered or searched by use the "C" collation
-- (byte order), as SQLite does, so both backends order alike.

CREATE TABLE org (
    id UUID PRIMARY KEY,
    name TEXT NOT NULL,
    region TEXT NOT NULL,
    currency TEXT NOT NULL,
    timezone TEXT NOT NULL,
    created_at BIGINT NOT NULL
);

CREATE TABLE app_user (
    org_id UUID NOT NULL REFERENCES org (id),
    id UUID NOT NULL,
    email TEXT NOT NULL,
    name TEXT NOT NULL,
    role TEXT NOT NULL,
    password_hash TEXT,
    active BOOLEAN NOT NULL DEFAULT TRUE,
    created_at BIGINT NOT NULL,
    PRIMARY KEY (org_id, id),
    UNIQUE (org_id, email)
);

CREATE TABLE api_token (
    org_id UUID NOT NULL,
    id UUID NOT NULL,
    user_id UUID NOT NULL,
    name TEXT NOT NULL,
    token_hash BYTEA NOT NULL,
    created_at BIGINT NOT NULL,
    last_used_at BIGINT,
    revoked_at BIGINT,
    PRIMARY KEY (org_id, id),
    UNIQUE (org_id, token_hash),
    FOREIGN KEY (org_id, user_id) REFERENCES app_user (org_id, id)
);

CREATE TABLE code_counter (
    org_id UUID NOT NULL REFERENCES org (id),
    kind TEXT NOT NULL,
    last BIGINT NOT NULL,
    PRIMARY KEY (org_id, kind)
);

CREATE TABLE customer (
    org_id UUID NOT NULL REFERENCES org (id),
    id UUID NOT NULL,
    number BIGINT NOT NULL,
    kind TEXT NOT NULL CHECK (kind IN ('individual', 'business')),
    title TEXT,
    given_name TEXT,
    family_name TEXT,
    business_name TEXT,
    display_name TEXT NOT NULL,
    sort_name TEXT COLLATE "C" NOT NULL,
    email TEXT,
    phone TEXT,
    source TEXT,
    communication TEXT NOT NULL,
    auto_comms_paused BOOLEAN NOT NULL,
    auto_comms_paused_until TEXT,
    custom_fields TEXT NOT NULL,
    status TEXT NOT NULL CHECK (status IN ('active', 'dormant', 'blocked', 'deactivated')),
    status_reason TEXT,
    created_at BIGINT NOT NULL,
    updated_at BIGINT NOT NULL,
    PRIMARY KEY (org_id, id),
    UNIQUE (org_id, number)
);
CREATE INDEX customer_by_name ON customer (org_id, sort_name, id);
CREATE INDEX customer_by_status ON customer (org_id, status, sort_name, id);

CREATE TABLE customer_label (
    org_id UUID NOT NULL,
    customer_id UUID NOT NULL,
    label TEXT COLLATE "C" NOT NULL,
    PRIMARY KEY (org_id, customer_id, label),
    FOREIGN KEY (org_id, customer_id) REFERENCES customer (org_id, id)
);
CREATE INDEX customer_label_by_label ON customer_label (org_id, label, customer_id);

CREATE TABLE contact (
    org_id UUID NOT NULL,
    id UUID NOT NULL,
    customer_id UUID NOT NULL,
    title TEXT,
    given_name TEXT,
    family_name TEXT COLLATE "C" NOT NULL,
    position TEXT,
    roles TEXT NOT NULL,
    emails TEXT NOT NULL,
    phones TEXT NOT NULL,
    urls TEXT NOT NULL,
    is_primary BOOLEAN NOT NULL,
    is_billing BOOLEAN NOT NULL,
    created_at BIGINT NOT NULL,
    updated_at BIGINT NOT NULL,
    PRIMARY KEY (org_id, id),
    FOREIGN KEY (org_id, customer_id) REFERENCES customer (org_id, id)
);
CREATE INDEX contact_by_customer ON contact (org_id, customer_id);

CREATE TABLE site (
    org_id UUID NOT NULL,
    id UUID NOT NULL,
    customer_id UUID NOT NULL,
    kind TEXT NOT NULL CHECK (kind IN ('billing', 'service', 'branch')),
    name TEXT,
    address_line1 TEXT COLLATE "C" NOT NULL,
    address_line2 TEXT,
    town TEXT,
    region TEXT,
    postcode TEXT NOT NULL,
    country TEXT NOT NULL,
    latitude DOUBLE PRECISION,
    longitude DOUBLE PRECISION,
    access_notes TEXT,
    active BOOLEAN NOT NULL,
    created_at BIGINT NOT NULL,
    updated_at BIGINT NOT NULL,
    PRIMARY KEY (org_id, id),
    FOREIGN KEY (org_id, customer_id) REFERENCES customer (org_id, id)
);
CREATE INDEX site_by_customer ON site (org_id, customer_id);

-- Prefix search: one row per term a customer can be found by, tagged with
-- the record it came from (the customer, one of its contacts or sites).
CREATE TABLE customer_search (
    org_id UUID NOT NULL,
    term TEXT COLLATE "C" NOT NULL,
    customer_id UUID NOT NULL,
    source_id UUID NOT NULL,
    PRIMARY KEY (org_id, term, customer_id, source_id)
);
CREATE INDEX customer_search_by_source ON customer_search (org_id, customer_id, source_id);

CREATE TABLE activity (
    org_id UUID NOT NULL REFERENCES org (id),
    id UUID NOT NULL,
    seq BIGINT NOT NULL,
    customer_id UUID,
    subject_type TEXT NOT NULL,
    subject_id UUID NOT NULL,
    subject_code TEXT,
    kind TEXT NOT NULL,
    grp TEXT NOT NULL,
    actor_type TEXT NOT NULL,
    actor_id UUID,
    actor_name TEXT NOT NULL,
    occurred_at BIGINT NOT NULL,
    summary TEXT NOT NULL,
    changes TEXT NOT NULL,
    detail TEXT NOT NULL,
    visibility TEXT NOT NULL,
    links TEXT NOT NULL,
    content_hash BYTEA NOT NULL,
    chain_hash BYTEA NOT NULL,
    PRIMARY KEY (org_id, id),
    UNIQUE (org_id, seq)
);

-- Every entity an activity concerns; the customer timeline, a site's
-- timeline and the History tab are range scans of this index.
CREATE TABLE activity_link (
    org_id UUID NOT NULL,
    entity_type TEXT NOT NULL,
    entity_id UUID NOT NULL,
    activity_id UUID NOT NULL,
    PRIMARY KEY (org_id, entity_type, entity_id, activity_id)
);

-- The head of each org's hash chain: the last sequence number and its hash.
CREATE TABLE activity_chain (
    org_id UUID PRIMARY KEY REFERENCES org (id),
    seq BIGINT NOT NULL,
    head BYTEA NOT NULL
);

CREATE FUNCTION refuse_change() RETURNS trigger LANGUAGE plpgsql AS $$
BEGIN
    RAISE EXCEPTION '% is append-only', TG_TABLE_NAME;
END $$;

CREATE TRIGGER activity_append_only BEFORE UPDATE OR DELETE ON activity
FOR EACH ROW EXECUTE FUNCTION refuse_change();
CREATE TRIGGER activity_no_truncate BEFORE TRUNCATE ON activity
FOR EACH STATEMENT EXECUTE FUNCTION refuse_change();
CREATE TRIGGER activity_link_append_only BEFORE UPDATE OR DELETE ON activity_link
FOR EACH ROW EXECUTE FUNCTION refuse_change();
CREATE TRIGGER activity_link_no_truncate BEFORE TRUNCATE ON activity_link
FOR EACH STATEMENT EXECUTE FUNCTION refuse_change();

-- An org's settings beyond name, region, currency, time zone, terms and
-- address: how it writes dates and numbers, its tax rates (JSON: name,
-- rate_bp, default) and its logo, kept apart so that reading the org with
-- every request does not read the image.
ALTER TABLE org ADD COLUMN date_format TEXT NOT NULL DEFAULT 'iso';
ALTER TABLE org ADD COLUMN number_format TEXT NOT NULL DEFAULT 'comma_dot';
ALTER TABLE org ADD COLUMN tax_rates TEXT NOT NULL DEFAULT '[]';

CREATE TABLE org_logo (
    org_id UUID PRIMARY KEY REFERENCES org (id),
    content_type TEXT NOT NULL,
    bytes BYTEA NOT NULL,
    updated_at BIGINT NOT NULL
);

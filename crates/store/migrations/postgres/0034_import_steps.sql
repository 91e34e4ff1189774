-- Imports through the API and the web app: the uploaded file and the last
-- report are kept in the blob store (by hash); `step` says whether the
-- status is the dry run's (`check`) or the import's; `started_at` gives
-- rows per second and time left; `summary` holds the last report's counts
-- (JSON).
ALTER TABLE import_run ADD COLUMN file_sha256 TEXT;
ALTER TABLE import_run ADD COLUMN report_sha256 TEXT;
ALTER TABLE import_run ADD COLUMN step TEXT NOT NULL DEFAULT 'import' CHECK (step IN ('check', 'import'));
ALTER TABLE import_run ADD COLUMN started_at BIGINT;
ALTER TABLE import_run ADD COLUMN summary TEXT;

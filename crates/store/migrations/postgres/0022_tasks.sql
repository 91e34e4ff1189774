-- Background tasks: work that happens later (quote expiry today; sending,
-- reminders and schedules next), queued in the same transaction as the
-- write that causes it and run by a worker inside `dossier serve` or
-- `dossier worker`. ("job" already names a customer's work job.)
--
-- A worker claims a due task by setting it running, held by itself until
-- `held_until` (its lease); a task still running after its lease ran out
-- (the worker died) is claimed again. `dedupe_key` names one occurrence
-- (`quotes.expire:2026-12-08`): the same occurrence is never queued twice
-- in an org. The payload is JSON text of at most 64 KiB.
CREATE TABLE task (
    org_id UUID NOT NULL,
    id UUID NOT NULL,
    kind TEXT NOT NULL,
    payload TEXT NOT NULL CHECK (octet_length(payload) <= 65536),
    status TEXT NOT NULL CHECK (status IN ('queued', 'running', 'done', 'failed', 'cancelled')),
    run_at BIGINT NOT NULL,
    attempts INTEGER NOT NULL CHECK (attempts >= 0),
    max_attempts INTEGER NOT NULL CHECK (max_attempts >= 1),
    last_error TEXT,
    held_by TEXT,
    held_until BIGINT,
    dedupe_key TEXT,
    created_at BIGINT NOT NULL,
    updated_at BIGINT NOT NULL,
    finished_at BIGINT,
    PRIMARY KEY (org_id, id),
    FOREIGN KEY (org_id) REFERENCES org (id),
    CHECK ((status = 'running') = (held_by IS NOT NULL AND held_until IS NOT NULL))
);
-- NULL keys are distinct: only keyed occurrences are deduplicated.
CREATE UNIQUE INDEX task_by_dedupe_key ON task (org_id, dedupe_key);
-- Claiming scans across orgs (one worker serves every org), so these two
-- are led by status rather than org_id: queued tasks by when they are due,
-- running ones by when their lease runs out.
CREATE INDEX task_due ON task (status, run_at);
CREATE INDEX task_lease ON task (status, held_until);
-- The admin list: an org's tasks of a status, newest first.
CREATE INDEX task_by_status ON task (org_id, status, id);
-- Whether an org has a queued or running task of a kind (the daily runs).
CREATE INDEX task_by_kind ON task (org_id, kind, status);

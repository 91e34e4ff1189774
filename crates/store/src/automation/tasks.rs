//! The background task queue: enqueue within the caller's transaction,
//! claim due tasks in one statement, finish them guarded by their holder.
//!
//! Claiming is the one statement that differs by backend: on PostgreSQL
//! the due ids are selected `FOR UPDATE SKIP LOCKED`, so workers claiming
//! at the same time each get other tasks and none waits for another; on
//! SQLite the single writer runs one claim at a time.

use dossier_domain::ids::TaskId;
use dossier_domain::tasks::{Task, TaskKind, TaskStatus};
use sqlx::QueryBuilder;
use uuid::Uuid;

use crate::billing::parse_enum;
use crate::customers::timestamp;
use crate::{Handle, Result, StoreError, run};

/// A task as stored.
#[derive(Clone, Debug, sqlx::FromRow)]
pub struct TaskRow {
    pub org_id: Uuid,
    pub id: Uuid,
    pub kind: String,
    /// JSON text, at most 64 KiB.
    pub payload: String,
    pub status: String,
    /// Microseconds since the epoch, like every stored instant.
    pub run_at: i64,
    pub attempts: i32,
    pub max_attempts: i32,
    pub last_error: Option<String>,
    pub held_by: Option<String>,
    pub held_until: Option<i64>,
    pub dedupe_key: Option<String>,
    pub created_at: i64,
    pub updated_at: i64,
    pub finished_at: Option<i64>,
}

impl TaskRow {
    pub fn kind(&self) -> Result<TaskKind> {
        parse_enum("task kind", &self.kind, TaskKind::parse)
    }

    pub fn status(&self) -> Result<TaskStatus> {
        parse_enum("task status", &self.status, TaskStatus::parse)
    }

    pub fn payload(&self) -> Result<serde_json::Value> {
        serde_json::from_str(&self.payload).map_err(StoreError::corrupt)
    }

    pub fn into_task(self) -> Result<Task> {
        Ok(Task {
            id: TaskId(self.id),
            kind: self.kind()?,
            status: self.status()?,
            payload: self.payload()?,
            run_at: timestamp(self.run_at)?,
            attempts: self.attempts,
            max_attempts: self.max_attempts,
            last_error: self.last_error,
            held_by: self.held_by,
            held_until: self.held_until.map(timestamp).transpose()?,
            dedupe_key: self.dedupe_key,
            created_at: timestamp(self.created_at)?,
            updated_at: timestamp(self.updated_at)?,
            finished_at: self.finished_at.map(timestamp).transpose()?,
        })
    }
}

/// Queue a task. A task whose dedupe key the org has queued before (in any
/// status) is not queued again: returns whether it was.
pub async fn insert_task(h: &mut Handle<'_>, row: &TaskRow) -> Result<bool> {
    let done = run!(h, c => sqlx::query(
        "INSERT INTO task (org_id, id, kind, payload, status, run_at, attempts, max_attempts, last_error, held_by, held_until, dedupe_key, \
         created_at, updated_at, finished_at) VALUES ($1, $2, $3, $4, $5, $6, $7, $8, $9, $10, $11, $12, $13, $14, $15) \
         ON CONFLICT (org_id, dedupe_key) DO NOTHING")
        .bind(row.org_id).bind(row.id).bind(&row.kind).bind(&row.payload).bind(&row.status).bind(row.run_at).bind(row.attempts)
        .bind(row.max_attempts).bind(&row.last_error).bind(&row.held_by).bind(row.held_until).bind(&row.dedupe_key)
        .bind(row.created_at).bind(row.updated_at).bind(row.finished_at)
        .execute(c).await?.rows_affected());
    Ok(done == 1)
}

/// Claim up to `limit` tasks for `worker`, in one statement: queued ones
/// due by `now` (earliest first) and running ones whose holder's lease ran
/// out before `now` (it died). Each is set running, held by `worker` until
/// `lease_until`, with one more attempt counted.
pub async fn claim_tasks(h: &mut Handle<'_>, worker: &str, now: i64, lease_until: i64, limit: i64) -> Result<Vec<TaskRow>> {
    // The due ones are picked through the two status-led indexes.
    const DUE: &str = "SELECT org_id, id, run_at FROM task WHERE status = 'queued' AND run_at <= $1 \
         UNION ALL SELECT org_id, id, run_at FROM task WHERE status = 'running' AND held_until < $1";
    const SET: &str = "UPDATE task SET status = 'running', held_by = $2, held_until = $3, attempts = attempts + 1, updated_at = $1 ";
    Ok(match h {
        Handle::Sqlite(c) => {
            let sql = format!("{SET} WHERE (org_id, id) IN (SELECT org_id, id FROM ({DUE}) ORDER BY run_at LIMIT $4) RETURNING *");
            sqlx::query_as(sqlx::AssertSqlSafe(sql)).bind(now).bind(worker).bind(lease_until).bind(limit).fetch_all(&mut **c).await?
        }
        Handle::Postgres(c) => {
            // Row locks cannot be taken through a UNION: lock in one scan of
            // both conditions, each still served by its index.
            let sql = format!(
                "{SET} WHERE (org_id, id) IN (SELECT org_id, id FROM task WHERE (status = 'queued' AND run_at <= $1) \
                 OR (status = 'running' AND held_until < $1) ORDER BY run_at LIMIT $4 FOR UPDATE SKIP LOCKED) RETURNING *"
            );
            sqlx::query_as(sqlx::AssertSqlSafe(sql)).bind(now).bind(worker).bind(lease_until).bind(limit).fetch_all(&mut **c).await?
        }
    })
}

/// How a running task's attempt ended.
#[derive(Clone, Debug)]
pub enum Ending<'a> {
    /// It did its work.
    Done,
    /// It failed and is tried again at this time.
    RetryAt { run_at: i64, error: &'a str },
    /// It failed for good (its last attempt).
    Failed { error: &'a str },
}

/// End `worker`'s attempt at a task. Only the holder may: a worker whose
/// lease ran out and whose task another worker took cannot overwrite that
/// one's result. Returns whether it was written.
pub async fn end_attempt(h: &mut Handle<'_>, org_id: Uuid, id: Uuid, worker: &str, ending: Ending<'_>, now: i64) -> Result<bool> {
    let (status, run_at, error, finished_at) = match ending {
        Ending::Done => ("done", None, None, Some(now)),
        Ending::RetryAt { run_at, error } => ("queued", Some(run_at), Some(error), None),
        Ending::Failed { error } => ("failed", None, Some(error), Some(now)),
    };
    let done = run!(h, c => sqlx::query(
        "UPDATE task SET status = $4, run_at = COALESCE($5, run_at), last_error = COALESCE($6, last_error), finished_at = $7, updated_at = $8, \
         held_by = NULL, held_until = NULL WHERE org_id = $1 AND id = $2 AND status = 'running' AND held_by = $3")
        .bind(org_id).bind(id).bind(worker).bind(status).bind(run_at).bind(error).bind(finished_at).bind(now)
        .execute(c).await?.rows_affected());
    Ok(done == 1)
}

/// Give back a task `worker` claimed but did not start (it is stopping):
/// queued again as it was, its claim not counted as an attempt.
pub async fn release_task(h: &mut Handle<'_>, org_id: Uuid, id: Uuid, worker: &str, now: i64) -> Result<bool> {
    let done = run!(h, c => sqlx::query(
        "UPDATE task SET status = 'queued', attempts = attempts - 1, held_by = NULL, held_until = NULL, updated_at = $4 \
         WHERE org_id = $1 AND id = $2 AND status = 'running' AND held_by = $3")
        .bind(org_id).bind(id).bind(worker).bind(now).execute(c).await?.rows_affected());
    Ok(done == 1)
}

/// Extend `worker`'s lease on a task it still holds (long work in batches).
pub async fn renew_lease(h: &mut Handle<'_>, org_id: Uuid, id: Uuid, worker: &str, until: i64) -> Result<bool> {
    let done = run!(h, c => sqlx::query("UPDATE task SET held_until = $4 WHERE org_id = $1 AND id = $2 AND status = 'running' AND held_by = $3")
        .bind(org_id).bind(id).bind(worker).bind(until).execute(c).await?.rows_affected());
    Ok(done == 1)
}

pub async fn get_task(h: &mut Handle<'_>, org_id: Uuid, id: Uuid) -> Result<Option<TaskRow>> {
    Ok(run!(h, c => sqlx::query_as("SELECT * FROM task WHERE org_id = $1 AND id = $2").bind(org_id).bind(id).fetch_optional(c).await?))
}

/// An org's tasks newest first (by id, which is time-ordered), of one
/// status if given, below the id `before` (the previous page's last).
pub async fn list_tasks(h: &mut Handle<'_>, org_id: Uuid, status: Option<TaskStatus>, before: Option<Uuid>, limit: i64) -> Result<Vec<TaskRow>> {
    Ok(run!(h, c => {
        let mut q = QueryBuilder::new("SELECT * FROM task WHERE org_id = ");
        q.push_bind(org_id);
        if let Some(status) = status {
            q.push(" AND status = ").push_bind(status.as_str());
        }
        if let Some(before) = before {
            q.push(" AND id < ").push_bind(before);
        }
        q.push(" ORDER BY id DESC LIMIT ").push_bind(limit);
        q.build_query_as().fetch_all(c).await?
    }))
}

/// Queue a failed task again, due at `now`, with its attempts counted
/// afresh (its last error stays until it runs). Whether it was failed.
pub async fn requeue_failed(h: &mut Handle<'_>, org_id: Uuid, id: Uuid, now: i64) -> Result<bool> {
    let done = run!(h, c => sqlx::query(
        "UPDATE task SET status = 'queued', run_at = $3, attempts = 0, finished_at = NULL, updated_at = $3 WHERE org_id = $1 AND id = $2 AND status = 'failed'")
        .bind(org_id).bind(id).bind(now).execute(c).await?.rows_affected());
    Ok(done == 1)
}

/// Cancel a queued or failed task. Whether it was one.
pub async fn cancel_task(h: &mut Handle<'_>, org_id: Uuid, id: Uuid, now: i64) -> Result<bool> {
    let done = run!(h, c => sqlx::query(
        "UPDATE task SET status = 'cancelled', finished_at = $3, updated_at = $3 WHERE org_id = $1 AND id = $2 AND status IN ('queued', 'failed')")
        .bind(org_id).bind(id).bind(now).execute(c).await?.rows_affected());
    Ok(done == 1)
}

/// The orgs with no queued or running task of `kind`: whose recurring
/// work of that kind has no next run.
pub async fn orgs_without_pending(h: &mut Handle<'_>, kind: TaskKind) -> Result<Vec<Uuid>> {
    Ok(run!(h, c => sqlx::query_scalar(
        "SELECT id FROM org o WHERE NOT EXISTS (SELECT 1 FROM task t WHERE t.org_id = o.id AND t.kind = $1 AND t.status IN ('queued', 'running')) \
         ORDER BY created_at, id")
        .bind(kind.as_str()).fetch_all(c).await?))
}

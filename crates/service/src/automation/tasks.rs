//! Background tasks: queue work for later in the caller's transaction, and
//! run it in a worker (inside `dossier serve`, or `dossier worker` on its own).
//!
//! A worker claims due tasks in one statement, runs each kind's handler,
//! and marks the task done; a failed attempt is tried again after an
//! exponential backoff with jitter ([`dossier_domain::tasks::backoff`]:
//! 30 s doubling to at most an hour) and after its last attempt (5 by
//! default) the task is failed with its last error. A worker holds what it
//! claimed for a lease ([`WorkerSettings::lease`]); if it dies, another
//! worker takes the task once the lease has run out, so a task runs at
//! least once and — unless a lease is lost — exactly once. Handlers are
//! written to be safe to run again (quote expiry only touches quotes still
//! sent).
//!
//! A recurring kind queues its next occurrence in the same transaction as
//! it ends (done, or failed for good), keyed per occurrence so it is never
//! queued twice.
//!
//! Admins list the org's tasks, retry a failed one and cancel a queued or
//! failed one; each of those is recorded in the org's activity log.

use std::future::Future;
use std::time::{Duration, Instant};

use dossier_domain::activity::{ActivityKind, EntityRef, EntityType};
use dossier_domain::diff::FieldChange;
use dossier_domain::ids::{OrgId, TaskId};
use dossier_domain::permissions::{Action, Module};
pub use dossier_domain::tasks::{DEFAULT_MAX_ATTEMPTS, MAX_PAYLOAD_BYTES, Task, TaskKind, TaskStatus};
use dossier_domain::tasks::{Payload, backoff};
use dossier_store::queries as q;
use dossier_store::{Db, Ending, TaskRow, Tx};
use jiff::{SignedDuration, Timestamp};
use serde::Deserialize;
use serde_json::{Value, json};
use tokio::sync::watch;
use uuid::Uuid;

use crate::automation::{daily, quote_expiry, sends};
use crate::page::{Page, decode_cursor, paginate};
use crate::record::activity;
use crate::{Ctx, Result, ServiceError};

/// The longest error text kept of a failed attempt.
const MAX_ERROR_CHARS: usize = 2000;

/// A task to queue.
#[derive(Clone, Debug)]
pub struct NewTask {
    pub kind: TaskKind,
    /// What to work on: JSON of at most [`MAX_PAYLOAD_BYTES`].
    pub payload: Value,
    pub run_at: Timestamp,
    /// The occurrence this is: a key the org has queued before is not queued again.
    pub dedupe_key: Option<String>,
    /// Default [`DEFAULT_MAX_ATTEMPTS`].
    pub max_attempts: Option<i32>,
}

/// Queue a task for `ctx`'s org inside the caller's transaction: it exists
/// only if that transaction commits. Returns its id, or `None` if its
/// dedupe key was queued before (and so it was not queued again).
pub async fn enqueue_in(tx: &mut Tx, ctx: &Ctx, new: NewTask) -> Result<Option<TaskId>> {
    let payload = Payload::parse(&new.payload)?;
    let max_attempts = new.max_attempts.unwrap_or(DEFAULT_MAX_ATTEMPTS);
    if !(1..=100).contains(&max_attempts) {
        return Err(dossier_domain::ValidationErrors::one("max_attempts", "out_of_range", "must be between 1 and 100").into());
    }
    let now = ctx.now().as_microsecond();
    let row = TaskRow {
        org_id: ctx.org.id.0,
        id: TaskId::new().0,
        kind: new.kind.as_str().to_owned(),
        payload: payload.as_str().to_owned(),
        status: TaskStatus::Queued.as_str().to_owned(),
        run_at: new.run_at.as_microsecond(),
        attempts: 0,
        max_attempts,
        last_error: None,
        held_by: None,
        held_until: None,
        dedupe_key: new.dedupe_key,
        created_at: now,
        updated_at: now,
        finished_at: None,
    };
    Ok(q::insert_task(&mut tx.handle(), &row).await?.then_some(TaskId(row.id)))
}

/// Queue the first run of each recurring kind for a new org (in its
/// creating transaction): due at once.
pub(crate) async fn schedule_new_org_in(tx: &mut Tx, ctx: &Ctx) -> Result<()> {
    for kind in daily::KINDS {
        enqueue_in(tx, ctx, daily::occurrence(kind, ctx.today(), ctx.now())).await?;
    }
    Ok(())
}

/// Queue a run of each recurring kind for every org that has none queued
/// or running (orgs made before tasks existed, or whose chain an admin
/// cancelled): today's, due at once, or — if today's ran already —
/// tomorrow's. Runs when a worker starts. Returns how many were queued.
pub async fn ensure_scheduled(db: &Db) -> Result<usize> {
    let mut queued = 0;
    for kind in daily::KINDS {
        let missing = q::orgs_without_pending(&mut db.read().await?.handle(), kind).await?;
        for org_id in missing {
            let mut tx = db.begin().await?;
            let org = crate::orgs::load(&mut tx.handle(), org_id).await?;
            let ctx = Ctx::system(org, SYSTEM_NAME);
            if enqueue_in(&mut tx, &ctx, daily::occurrence(kind, ctx.today(), ctx.now())).await?.is_none() {
                enqueue_in(&mut tx, &ctx, daily::next(kind, &ctx.org, ctx.today(), ctx.now())).await?;
            }
            tx.commit().await?;
            queued += 1;
        }
    }
    Ok(queued)
}

/// The name background work acts under (a `system` actor).
pub const SYSTEM_NAME: &str = "Dossier";

// ---------------------------------------------------------------- the worker

/// How a worker runs. Every one has a default (see each field).
#[derive(Clone, Debug)]
pub struct WorkerSettings {
    /// How long an idle worker waits before looking for due tasks again
    /// (default 1 s).
    pub poll_interval: Duration,
    /// How many due tasks one claim takes (default 10); they are run one
    /// after another.
    pub batch_size: u32,
    /// How long a claimed task is held before another worker may take it
    /// (default 5 minutes). It starts when the batch is claimed, so it must
    /// outlast the whole batch; a long handler renews it between its own
    /// batches.
    pub lease: Duration,
}

impl Default for WorkerSettings {
    fn default() -> Self {
        Self { poll_interval: Duration::from_secs(1), batch_size: 10, lease: Duration::from_secs(300) }
    }
}

/// A task a worker holds, as its handler sees it.
#[derive(Clone, Debug)]
pub struct Claimed {
    pub org_id: OrgId,
    pub task: Task,
    worker: String,
    lease: Duration,
}

impl Claimed {
    /// Extend the lease (between batches of long work); false if it was lost.
    pub async fn renew(&self, db: &Db) -> Result<bool> {
        let until = (Timestamp::now() + self.lease).as_microsecond();
        let mut tx = db.begin().await?;
        let held = q::renew_lease(&mut tx.handle(), self.org_id.0, self.task.id.0, &self.worker, until).await?;
        tx.commit().await?;
        Ok(held)
    }
}

/// What runs a claimed task: [`Handlers`] in production; tests bring their own.
pub trait Runner: Send + Sync {
    /// Do the task's work; an error is the attempt's failure, kept as its text.
    fn run(&self, db: &Db, task: &Claimed) -> impl Future<Output = std::result::Result<(), String>> + Send;
}

/// Each kind's handler, with what they need beside the database.
#[derive(Clone, Debug, Default)]
pub struct Handlers {
    /// The blob store and mail server emails are sent with.
    pub outbox: crate::sending::email::Outbox,
    /// Where people reach Dossier: the start of the links emails hold.
    pub public_url: dossier_domain::public_url::PublicUrl,
}

impl Runner for Handlers {
    async fn run(&self, db: &Db, task: &Claimed) -> std::result::Result<(), String> {
        match task.task.kind {
            TaskKind::ExpireQuotes => quote_expiry::run(db, task).await.map(drop).map_err(|e| e.to_string()),
            TaskKind::SendSms => crate::sending::sms::run(db, task).await,
            TaskKind::SendEmail => crate::sending::email::run(db, &self.outbox, task).await,
            TaskKind::AutomatedEmail => sends::run(db, &self.outbox, task).await.map(drop).map_err(|e| e.to_string()),
            TaskKind::DailySends => sends::run_daily(db, task).await.map(drop).map_err(|e| e.to_string()),
            TaskKind::InvitationEmail => crate::invitations::run(db, &self.outbox, &self.public_url, task).await,
            TaskKind::PurgeDeleted => crate::data::deletion::run_purge(db, task).await.map(drop).map_err(|e| e.to_string()),
            TaskKind::CheckImport | TaskKind::RunImport => crate::data::import_runs::run_task(db, self.outbox.files.as_ref(), task).await,
        }
    }
}

/// A worker: claims due tasks of every org and runs them.
pub struct Worker<R> {
    db: Db,
    runner: std::sync::Arc<R>,
    id: String,
    settings: WorkerSettings,
}

impl<R: Runner + 'static> Worker<R> {
    /// A worker with a name of its own (process id and a random part).
    pub fn new(db: Db, runner: R, settings: WorkerSettings) -> Self {
        let id = format!("{}-{:08x}", std::process::id(), rand::random::<u32>());
        Self { db, runner: std::sync::Arc::new(runner), id, settings }
    }

    /// The name it holds tasks under.
    pub fn id(&self) -> &str {
        &self.id
    }

    /// Claim one batch of tasks due at `now` and run them. Returns how many
    /// were claimed (none: nothing is due).
    pub async fn work_once(&self, now: Timestamp) -> Result<usize> {
        self.work_batch(now, None).await
    }

    /// [`Worker::work_once`], giving back the tasks not yet started once
    /// `stop` turns true.
    async fn work_batch(&self, now: Timestamp, stop: Option<&watch::Receiver<bool>>) -> Result<usize> {
        let lease = SignedDuration::try_from(self.settings.lease).unwrap_or(SignedDuration::from_secs(300));
        let mut tx = self.db.begin().await?;
        let limit = i64::from(self.settings.batch_size.max(1));
        let rows = q::claim_tasks(&mut tx.handle(), &self.id, now.as_microsecond(), (now + lease).as_microsecond(), limit).await?;
        tx.commit().await?;
        let claimed = rows.len();
        let started = Instant::now();
        let mut rows = rows.into_iter();
        while let Some(row) = rows.next() {
            let at = now + SignedDuration::try_from(started.elapsed()).unwrap_or_default();
            if stop.is_some_and(|stop| *stop.borrow()) {
                // Stopping: what was not started goes back to the queue now,
                // rather than waiting for the lease to run out.
                let mut tx = self.db.begin().await?;
                for row in std::iter::once(row).chain(rows.by_ref()) {
                    q::release_task(&mut tx.handle(), row.org_id, row.id, &self.id, at.as_microsecond()).await?;
                }
                tx.commit().await?;
                break;
            }
            self.run_one(row, at).await?;
        }
        Ok(claimed)
    }

    async fn run_one(&self, row: TaskRow, now: Timestamp) -> Result<()> {
        let (org_id, attempts, max_attempts) = (OrgId(row.org_id), row.attempts, row.max_attempts);
        let id = row.id;
        let task = match row.into_task() {
            Ok(task) => task,
            Err(e) => return self.end(org_id, id, None, Ending::Failed { error: &format!("unreadable task: {e}") }, now).await,
        };
        if attempts > max_attempts {
            // Its worker died during the last attempt.
            let error = "its worker stopped during the last attempt (lease ran out)";
            return self.end(org_id, id, Some(&task), Ending::Failed { error }, now).await;
        }
        let claimed = Claimed { org_id, task, worker: self.id.clone(), lease: self.settings.lease };
        let started = Instant::now();
        // In a task of its own, so a handler that panics fails its attempt
        // rather than stopping the worker.
        let (runner, db, task) = (self.runner.clone(), self.db.clone(), claimed.clone());
        let outcome = match tokio::spawn(async move { runner.run(&db, &task).await }).await {
            Ok(outcome) => outcome,
            Err(failure) if failure.is_panic() => {
                let panic = failure.into_panic();
                let text = panic.downcast_ref::<&str>().map(|s| (*s).to_owned()).or_else(|| panic.downcast_ref::<String>().cloned());
                Err(format!("the handler panicked: {}", text.unwrap_or_else(|| "(no message)".into())))
            }
            Err(failure) => Err(format!("the handler was cancelled: {failure}")),
        };
        let now = now + SignedDuration::try_from(started.elapsed()).unwrap_or_default();
        match outcome {
            Ok(()) => self.end(org_id, id, Some(&claimed.task), Ending::Done, now).await,
            Err(error) => {
                let error: String = error.chars().take(MAX_ERROR_CHARS).collect();
                tracing::warn!(task = %id, kind = %claimed.task.kind, attempt = attempts, max_attempts, %error, "background task failed");
                if attempts < max_attempts {
                    let run_at = (now + backoff(attempts, rand::random::<f64>())).as_microsecond();
                    self.end(org_id, id, Some(&claimed.task), Ending::RetryAt { run_at, error: &error }, now).await
                } else {
                    self.end(org_id, id, Some(&claimed.task), Ending::Failed { error: &error }, now).await
                }
            }
        }
    }

    /// End the attempt, and — when the task ends for good — queue its
    /// kind's next occurrence, in one transaction. Nothing is written if
    /// this worker no longer holds the task.
    async fn end(&self, org_id: OrgId, id: Uuid, task: Option<&Task>, ending: Ending<'_>, now: Timestamp) -> Result<()> {
        let for_good = !matches!(ending, Ending::RetryAt { .. });
        let gave_up = match &ending {
            Ending::Failed { error } => Some(error.to_string()),
            _ => None,
        };
        let mut tx = self.db.begin().await?;
        if !q::end_attempt(&mut tx.handle(), org_id.0, id, &self.id, ending, now.as_microsecond()).await? {
            tracing::warn!(task = %id, worker = %self.id, "a background task's lease ran out and another worker took it; this attempt's result is dropped");
            return Ok(());
        }
        if let Some(task) = task.filter(|_| for_good) {
            let org = crate::orgs::load(&mut tx.handle(), org_id.0).await?;
            let ctx = Ctx::system(org, SYSTEM_NAME);
            if let Some(next) = next_occurrence(&ctx, task, now) {
                enqueue_in(&mut tx, &ctx, next).await?;
            }
            if let Some(error) = &gave_up {
                given_up_in(&mut tx, &ctx, task, error).await?;
            }
        }
        tx.commit().await?;
        Ok(())
    }

    /// Work until `stop` turns true: claim, run, and when nothing is due
    /// wait the poll interval. A task being run when asked to stop is
    /// finished first; the rest of its batch goes back to the queue. A database error is logged and tried again after
    /// the poll interval.
    pub async fn run_until_stopped(&self, mut stop: watch::Receiver<bool>) {
        tracing::info!(worker = %self.id, batch = self.settings.batch_size, poll_ms = self.settings.poll_interval.as_millis() as u64, "background task worker started");
        while !*stop.borrow() {
            let idle = match self.work_batch(Timestamp::now(), Some(&stop)).await {
                Ok(claimed) => claimed == 0,
                Err(error) => {
                    tracing::warn!(%error, "the background task worker could not claim or end tasks; trying again");
                    true
                }
            };
            if idle {
                tokio::select! {
                    _ = tokio::time::sleep(self.settings.poll_interval) => {}
                    _ = stop.changed() => {}
                }
            }
        }
        tracing::info!(worker = %self.id, "background task worker stopped");
    }
}

/// What a kind does when its task fails for good: an email or text is failed
/// with the last error, in the transaction that ends the task.
async fn given_up_in(tx: &mut Tx, ctx: &Ctx, task: &Task, error: &str) -> Result<()> {
    match task.kind {
        TaskKind::SendEmail | TaskKind::SendSms => crate::conversations::delivery::give_up_in(tx, ctx, task, error).await,
        TaskKind::InvitationEmail => crate::invitations::give_up_in(tx, ctx, task, error).await,
        TaskKind::ExpireQuotes | TaskKind::AutomatedEmail | TaskKind::DailySends | TaskKind::PurgeDeleted => Ok(()),
        TaskKind::CheckImport | TaskKind::RunImport => Ok(()),
    }
}

/// The next occurrence of a recurring task, if its kind recurs.
fn next_occurrence(ctx: &Ctx, task: &Task, now: Timestamp) -> Option<NewTask> {
    daily::is_daily(task.kind).then(|| daily::next(task.kind, &ctx.org, daily::day_of(&task.payload, ctx.today()), now))
}

// ---------------------------------------------------------------- admin use cases

/// Query parameters of the task list.
#[derive(Clone, Debug, Default, Deserialize, utoipa::IntoParams)]
#[serde(deny_unknown_fields)]
#[into_params(parameter_in = Query)]
pub struct TaskQuery {
    /// Only tasks of this status.
    pub status: Option<TaskStatus>,
    pub cursor: Option<String>,
    /// 1–200, default 50.
    #[param(minimum = 1, maximum = 200)]
    pub limit: Option<u32>,
}

/// The org's background tasks, newest first.
pub async fn list_tasks(db: &Db, ctx: &Ctx, query: TaskQuery) -> Result<Page<Task>> {
    ctx.require(Module::Tasks, Action::View)?;
    let limit = crate::page::limit(query.limit)?;
    let before = match query.cursor.as_deref() {
        Some(cursor) => Some(
            Uuid::parse_str(&decode_cursor(cursor)?)
                .map_err(|_| dossier_domain::ValidationErrors::one("cursor", "invalid_cursor", "is not a cursor this API returned"))?,
        ),
        None => None,
    };
    let rows = q::list_tasks(&mut db.read().await?.handle(), ctx.org.id.0, query.status, before, limit + 1).await?;
    paginate(rows, limit, |r| r.id.to_string(), |r| Ok(r.into_task()?))
}

async fn find(tx: &mut Tx, ctx: &Ctx, id: &str) -> Result<TaskRow> {
    let id = Uuid::parse_str(id).map_err(|_| ServiceError::NotFound("task"))?;
    q::get_task(&mut tx.handle(), ctx.org.id.0, id).await?.ok_or(ServiceError::NotFound("task"))
}

fn task_activity(
    ctx: &Ctx,
    kind: ActivityKind,
    row: &TaskRow,
    task_kind: TaskKind,
    summary: String,
    from: TaskStatus,
    to: TaskStatus,
) -> dossier_domain::activity::NewActivity {
    let change = FieldChange { field: "status".into(), old: json!(from.as_str()), new: json!(to.as_str()) };
    let mut record = activity(ctx, kind, None, EntityRef::new(EntityType::Task, row.id), None, summary, vec![change]);
    record.detail = json!({ "kind": task_kind.as_str(), "attempts": row.attempts, "last_error": row.last_error, "dedupe_key": row.dedupe_key });
    record
}

/// Queue a failed task again, due now, with its attempts counted afresh.
pub async fn retry_task(db: &Db, ctx: &Ctx, id: &str) -> Result<Task> {
    ctx.require(Module::Tasks, Action::Edit)?;
    let mut tx = db.begin().await?;
    let row = find(&mut tx, ctx, id).await?;
    let (kind, status) = (row.kind()?, row.status()?);
    if !status.is_retryable() {
        return Err(ServiceError::conflict("illegal_transition", format!("a {status} task cannot be retried: only a failed one")));
    }
    if !q::requeue_failed(&mut tx.handle(), row.org_id, row.id, ctx.now().as_microsecond()).await? {
        return Err(ServiceError::conflict("changed_meanwhile", "the task was changed meanwhile; reload and try again"));
    }
    let summary = format!("Background task \u{201c}{}\u{201d} queued again after {} failed attempt(s)", kind.label(), row.attempts);
    tx.append(task_activity(ctx, ActivityKind::TaskRetried, &row, kind, summary, status, TaskStatus::Queued)).await?;
    let done = q::get_task(&mut tx.handle(), row.org_id, row.id).await?.ok_or(ServiceError::NotFound("task"))?;
    tx.commit().await?;
    Ok(done.into_task()?)
}

/// Cancel a queued or failed task: it will not run (again).
pub async fn cancel_task(db: &Db, ctx: &Ctx, id: &str) -> Result<Task> {
    ctx.require(Module::Tasks, Action::Edit)?;
    let mut tx = db.begin().await?;
    let row = find(&mut tx, ctx, id).await?;
    let (kind, status) = (row.kind()?, row.status()?);
    if !status.is_cancellable() {
        return Err(ServiceError::conflict("illegal_transition", format!("a {status} task cannot be cancelled: only a queued or failed one")));
    }
    if !q::cancel_task(&mut tx.handle(), row.org_id, row.id, ctx.now().as_microsecond()).await? {
        return Err(ServiceError::conflict("changed_meanwhile", "the task was changed meanwhile (a worker may have taken it); reload and try again"));
    }
    let summary = format!("Background task \u{201c}{}\u{201d} cancelled while {status}", kind.label());
    tx.append(task_activity(ctx, ActivityKind::TaskCancelled, &row, kind, summary, status, TaskStatus::Cancelled)).await?;
    let done = q::get_task(&mut tx.handle(), row.org_id, row.id).await?.ok_or(ServiceError::NotFound("task"))?;
    tx.commit().await?;
    Ok(done.into_task()?)
}

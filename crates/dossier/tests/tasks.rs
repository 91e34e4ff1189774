//! Background tasks: queued with the write that causes them, claimed by one
//! worker at a time, retried with growing delays, failed with their last
//! error, taken over when their worker's lease runs out; the daily quote
//! expiry; the admin page and API.

mod common;

use std::collections::HashMap;
use std::sync::atomic::{AtomicBool, Ordering};
use std::sync::{Arc, Mutex};

use axum::http::StatusCode;
use dossier_domain::ids::TaskId;
use dossier_service::tasks::{self, Claimed, NewTask, Runner, Task, TaskKind, TaskQuery, TaskStatus, Worker, WorkerSettings};
use dossier_service::{Ctx, Db};
use jiff::{SignedDuration, Timestamp};
use serde_json::{Value, json};

/// A handler for tests: counts each task's runs, and fails the ones whose
/// payload says `"test": "fail"` while `failing` is set.
#[derive(Clone, Default)]
struct Counting {
    runs: Arc<Mutex<HashMap<uuid::Uuid, u32>>>,
    failing: Arc<AtomicBool>,
}

impl Counting {
    fn failing() -> Self {
        let counting = Counting::default();
        counting.failing.store(true, Ordering::SeqCst);
        counting
    }

    fn runs_of(&self, id: TaskId) -> u32 {
        self.runs.lock().unwrap().get(&id.0).copied().unwrap_or(0)
    }
}

impl Runner for Counting {
    async fn run(&self, _db: &Db, task: &Claimed) -> Result<(), String> {
        *self.runs.lock().unwrap().entry(task.task.id.0).or_default() += 1;
        tokio::task::yield_now().await;
        if task.task.payload["test"] == "fail" && self.failing.load(Ordering::SeqCst) {
            return Err(format!("boom on attempt {}", task.task.attempts));
        }
        Ok(())
    }
}

fn test_task(payload: Value, max_attempts: Option<i32>) -> NewTask {
    NewTask { kind: TaskKind::ExpireQuotes, payload, run_at: Timestamp::now(), dedupe_key: None, max_attempts }
}

async fn enqueue(db: &Db, ctx: &Ctx, new: NewTask) -> TaskId {
    let mut tx = db.begin().await.unwrap();
    let id = tasks::enqueue_in(&mut tx, ctx, new).await.unwrap().expect("queued");
    tx.commit().await.unwrap();
    id
}

async fn task(app: &common::TestApp, id: TaskId) -> Task {
    let (status, body) = app.get("/tasks?limit=200").await;
    assert_eq!(status, StatusCode::OK, "{body}");
    let found = body["items"].as_array().unwrap().iter().find(|t| t["id"] == id.0.to_string()).cloned();
    let found = found.unwrap_or_else(|| panic!("task {id} is not listed: {body}"));
    // The API's shape, read back into the service's.
    let mut conn = app.db.read().await.unwrap();
    let row = dossier_store::queries::get_task(&mut conn.handle(), app.org.id.0, id.0).await.unwrap().unwrap();
    assert_eq!(found["status"], row.status);
    row.into_task().unwrap()
}

fn worker<R: Runner + 'static>(app: &common::TestApp, runner: R) -> Worker<R> {
    Worker::new(app.db.clone(), runner, WorkerSettings { batch_size: 10, ..Default::default() })
}

both_backends!(a_task_queued_in_a_rolled_back_transaction_does_not_exist, |app| {
    let ctx = app.ctx();
    let mut tx = app.db.begin().await.unwrap();
    let id = tasks::enqueue_in(&mut tx, &ctx, test_task(json!({"test": "rolled back"}), None)).await.unwrap().unwrap();
    drop(tx);
    let kept = enqueue(&app.db, &ctx, test_task(json!({"test": "committed"}), None)).await;
    let (_, body) = app.get("/tasks").await;
    let ids: Vec<&str> = body["items"].as_array().unwrap().iter().map(|t| t["id"].as_str().unwrap()).collect();
    assert!(!ids.contains(&id.0.to_string().as_str()), "{body}");
    assert!(ids.contains(&kept.0.to_string().as_str()), "{body}");
});

both_backends!(the_same_occurrence_is_never_queued_twice, |app| {
    let ctx = app.ctx();
    let keyed = || NewTask { dedupe_key: Some("test:2026-12-08".into()), ..test_task(json!({}), None) };
    enqueue(&app.db, &ctx, keyed()).await;
    let mut tx = app.db.begin().await.unwrap();
    assert_eq!(tasks::enqueue_in(&mut tx, &ctx, keyed()).await.unwrap(), None);
    tx.commit().await.unwrap();
    // Another org may have the same key.
    let (other, _) = app.add_org("Other Org", "admin@other.example").await;
    let mut tx = app.db.begin().await.unwrap();
    assert!(tasks::enqueue_in(&mut tx, &Ctx::system(other, "Test"), keyed()).await.unwrap().is_some());
    tx.commit().await.unwrap();
});

both_backends!(a_failing_task_is_retried_with_growing_delays_then_failed_and_an_admin_retries_it, |app| {
    let runner = Counting::failing();
    let worker = worker(&app, runner.clone());
    let id = enqueue(&app.db, &app.ctx(), test_task(json!({"test": "fail"}), Some(3))).await;
    let mut delays = Vec::new();
    for attempt in 1..=3 {
        let due = task(&app, id).await.run_at;
        worker.work_once(due).await.unwrap();
        let after = task(&app, id).await;
        assert_eq!(after.attempts, attempt);
        assert_eq!(after.last_error.as_deref(), Some(format!("boom on attempt {attempt}").as_str()));
        if attempt < 3 {
            assert_eq!(after.status, TaskStatus::Queued);
            delays.push(after.run_at.duration_since(due));
        } else {
            assert_eq!(after.status, TaskStatus::Failed);
            assert!(after.finished_at.is_some());
        }
    }
    assert_eq!(runner.runs_of(id), 3);
    // Equal jitter: between half and all of 30 s, then of 60 s.
    assert!(delays[0] >= SignedDuration::from_secs(15) && delays[0] <= SignedDuration::from_secs(31), "{delays:?}");
    assert!(delays[1] >= SignedDuration::from_secs(30) && delays[1] <= SignedDuration::from_secs(61), "{delays:?}");
    // Failed for good: nothing more runs it, even much later.
    worker.work_once(Timestamp::now() + SignedDuration::from_hours(24)).await.unwrap();
    assert_eq!(runner.runs_of(id), 3);

    let (status, retried) = app.post(&format!("/tasks/{id}/retry"), json!(null)).await;
    assert_eq!(status, StatusCode::OK, "{retried}");
    assert_eq!((retried["status"].as_str(), retried["attempts"].as_i64()), (Some("queued"), Some(0)));
    assert!(app.log_kinds(&app.org).await.contains(&"task.retried".to_owned()));
    runner.failing.store(false, Ordering::SeqCst);
    worker.work_once(Timestamp::now()).await.unwrap();
    let done = task(&app, id).await;
    assert_eq!((done.status, done.attempts, runner.runs_of(id)), (TaskStatus::Done, 1, 4));
    // Done is done: it cannot be retried or cancelled.
    let (status, problem) = app.post(&format!("/tasks/{id}/retry"), json!(null)).await;
    assert_eq!((status, problem["code"].as_str()), (StatusCode::CONFLICT, Some("illegal_transition")));
    let (status, problem) = app.post(&format!("/tasks/{id}/cancel"), json!(null)).await;
    assert_eq!((status, problem["code"].as_str()), (StatusCode::CONFLICT, Some("illegal_transition")));
});

/// A handler with a bug.
struct Panics;

impl Runner for Panics {
    async fn run(&self, _db: &Db, _task: &Claimed) -> Result<(), String> {
        panic!("index out of bounds")
    }
}

both_backends!(a_handler_that_panics_fails_its_attempt_and_the_worker_carries_on, |app| {
    let id = enqueue(&app.db, &app.ctx(), test_task(json!({"test": "panic"}), None)).await;
    let worker = worker(&app, Panics);
    worker.work_once(Timestamp::now()).await.unwrap();
    let after = task(&app, id).await;
    assert_eq!((after.status, after.attempts), (TaskStatus::Queued, 1));
    assert_eq!(after.last_error.as_deref(), Some("the handler panicked: index out of bounds"));
    // The same worker goes on claiming.
    worker.work_once(after.run_at).await.unwrap();
    assert_eq!(task(&app, id).await.attempts, 2);
});

both_backends!(a_cancelled_task_never_runs, |app| {
    let runner = Counting::default();
    let id = enqueue(&app.db, &app.ctx(), test_task(json!({"test": "cancel me"}), None)).await;
    let (status, cancelled) = app.post(&format!("/tasks/{id}/cancel"), json!(null)).await;
    assert_eq!((status, cancelled["status"].as_str()), (StatusCode::OK, Some("cancelled")), "{cancelled}");
    worker(&app, runner.clone()).work_once(Timestamp::now()).await.unwrap();
    assert_eq!(runner.runs_of(id), 0);
    assert!(app.log_kinds(&app.org).await.contains(&"task.cancelled".to_owned()));
    let (status, problem) = app.post(&format!("/tasks/{}/cancel", uuid::Uuid::now_v7()), json!(null)).await;
    assert_eq!((status, problem["code"].as_str()), (StatusCode::NOT_FOUND, Some("not_found")));
});

both_backends!(workers_claiming_at_once_run_each_task_exactly_once, |app| {
    const TASKS: usize = 500;
    let ctx = app.ctx();
    let mut tx = app.db.begin().await.unwrap();
    let mut ids = Vec::new();
    for n in 0..TASKS {
        ids.push(tasks::enqueue_in(&mut tx, &ctx, test_task(json!({ "n": n }), None)).await.unwrap().unwrap());
    }
    tx.commit().await.unwrap();
    let runner = Counting::default();
    let started = std::time::Instant::now();
    let workers: Vec<_> = (0..4)
        .map(|_| {
            let worker = Worker::new(app.db.clone(), runner.clone(), WorkerSettings { batch_size: 5, ..Default::default() });
            tokio::spawn(async move {
                let mut claimed = 0;
                loop {
                    match worker.work_once(Timestamp::now()).await.unwrap() {
                        0 => break claimed,
                        n => claimed += n,
                    }
                }
            })
        })
        .collect();
    let mut claims = Vec::new();
    for worker in workers {
        claims.push(worker.await.unwrap());
    }
    let elapsed = started.elapsed();
    eprintln!(
        "{:?}: 4 workers ran {TASKS} tasks in {elapsed:?} ({:.0} tasks/s); claims per worker {claims:?}",
        app.backend,
        TASKS as f64 / elapsed.as_secs_f64()
    );
    for id in &ids {
        assert_eq!(runner.runs_of(*id), 1, "task {id} ran other than once");
    }
    let (_, done) = app.get("/tasks?status=done&limit=200").await;
    assert_eq!(done["items"].as_array().unwrap().len(), 200);
    let (_, queued) = app.get("/tasks?status=queued").await;
    // Only the org's next daily runs are left queued.
    assert!(
        queued["items"]
            .as_array()
            .unwrap()
            .iter()
            .all(|t| ["quotes.expire", "customers.purge", "sends.daily"].contains(&t["kind"].as_str().unwrap()) && t["payload"].get("day").is_some()),
        "{queued}"
    );
    let (_, running) = app.get("/tasks?status=running").await;
    assert_eq!(running["items"], json!([]));
});

both_backends!(a_task_whose_holders_lease_ran_out_is_taken_and_finished_by_another_worker, |app| {
    let id = enqueue(&app.db, &app.ctx(), test_task(json!({"test": "orphan"}), None)).await;
    let now = Timestamp::now();
    // A worker claims it for a one-second lease, then dies (it never ends the attempt).
    let mut tx = app.db.begin().await.unwrap();
    let claimed =
        dossier_store::queries::claim_tasks(&mut tx.handle(), "dead-worker", now.as_microsecond(), (now + SignedDuration::from_secs(1)).as_microsecond(), 10)
            .await
            .unwrap();
    tx.commit().await.unwrap();
    assert!(claimed.iter().any(|t| t.id == id.0));
    let runner = Counting::default();
    let other = worker(&app, runner.clone());
    // While the lease holds, nobody else takes it.
    other.work_once(now).await.unwrap();
    assert_eq!(runner.runs_of(id), 0);
    assert_eq!(task(&app, id).await.held_by.as_deref(), Some("dead-worker"));
    // After it, another worker does.
    other.work_once(now + SignedDuration::from_secs(2)).await.unwrap();
    let done = task(&app, id).await;
    assert_eq!((done.status, done.attempts, runner.runs_of(id)), (TaskStatus::Done, 2, 1));
    // The dead worker coming back cannot overwrite the result.
    let mut tx = app.db.begin().await.unwrap();
    let ending = dossier_store::Ending::Failed { error: "late" };
    let written = dossier_store::queries::end_attempt(&mut tx.handle(), app.org.id.0, id.0, "dead-worker", ending, now.as_microsecond()).await.unwrap();
    tx.commit().await.unwrap();
    assert!(!written);
    assert_eq!(task(&app, id).await.status, TaskStatus::Done);
});

both_backends!(a_sent_quote_past_its_valid_until_date_is_expired_by_the_daily_task, |app| {
    app.customer(json!({"family_name": "Lee"})).await;
    let today = Timestamp::now().to_zoned(app.org.zone()).date();
    let (yesterday, tomorrow) = (today.yesterday().unwrap(), today.tomorrow().unwrap());
    let lines = json!([{"description": "Boiler", "unit_price": 100_000}]);
    for (title, valid_until) in [("Past", yesterday), ("Still valid", today), ("Draft past", yesterday)] {
        let (status, quote) = app.post("/quotes", json!({"customer": "CUS-00001", "title": title, "valid_until": valid_until, "lines": lines})).await;
        assert_eq!(status, StatusCode::CREATED, "{quote}");
    }
    for code in ["EST-00001", "EST-00002"] {
        let (status, sent) = app.post(&format!("/quotes/{code}/status"), json!({"status": "sent"})).await;
        assert_eq!(status, StatusCode::OK, "{sent}");
    }
    // The org's first run was queued when it was made, due at once.
    let worker = Worker::new(app.db.clone(), tasks::Handlers::default(), WorkerSettings::default());
    assert!(worker.work_once(Timestamp::now()).await.unwrap() >= 1);

    let status_of = |code: &'static str| {
        let app = &app;
        async move { app.get(&format!("/quotes/{code}")).await.1["status"].as_str().unwrap().to_owned() }
    };
    assert_eq!(status_of("EST-00001").await, "expired");
    assert_eq!(status_of("EST-00002").await, "sent");
    assert_eq!(status_of("EST-00003").await, "draft");
    // Its history says the system expired it, as a manual move would.
    let (_, timeline) = app.get("/customers/CUS-00001/timeline?limit=200").await;
    let expiry: Vec<&Value> = timeline["items"]
        .as_array()
        .unwrap()
        .iter()
        .filter(|e| e["kind"] == "quote.status_changed" && e["subject_code"] == "EST-00001" && e["summary"].as_str().unwrap().contains("to expired"))
        .collect();
    assert_eq!(expiry.len(), 1, "{timeline}");
    assert_eq!((expiry[0]["actor"]["type"].as_str(), expiry[0]["actor"]["name"].as_str()), (Some("system"), Some("Dossier")), "{}", expiry[0]);

    // The next run is queued: tomorrow, five past midnight in the org's zone.
    let (_, queued) = app.get("/tasks?status=queued").await;
    let next: Vec<&Value> = queued["items"].as_array().unwrap().iter().filter(|t| t["kind"] == "quotes.expire").collect();
    assert_eq!(next.len(), 1, "{queued}");
    assert_eq!(next[0]["dedupe_key"], format!("quotes.expire:{tomorrow}"));
    let due: Timestamp = next[0]["run_at"].as_str().unwrap().parse().unwrap();
    let local = due.to_zoned(app.org.zone());
    assert_eq!((local.date(), local.hour(), local.minute()), (tomorrow, 0, 5));
    // Running again today changes nothing more.
    let (_, done) = app.get("/tasks?status=done").await;
    assert_eq!(done["items"].as_array().unwrap().iter().filter(|t| t["kind"] == "quotes.expire").count(), 1);
});

both_backends!(every_org_gets_its_daily_run_queued, |app| {
    // An org made before tasks existed has none: the worker's start queues
    // each daily kind (quote expiry, the purge of deleted customers, the daily
    // sends).
    app.db.execute_raw("DELETE FROM task").await.unwrap();
    assert_eq!(tasks::ensure_scheduled(&app.db).await.unwrap(), 3);
    assert_eq!(tasks::ensure_scheduled(&app.db).await.unwrap(), 0);
    let page = tasks::list_tasks(&app.db, &app.ctx(), TaskQuery { status: Some(TaskStatus::Queued), ..Default::default() }).await.unwrap();
    let mut kinds: Vec<TaskKind> = page.items.iter().map(|t| t.kind).collect();
    kinds.sort_by_key(|k| k.as_str());
    assert_eq!(kinds, [TaskKind::PurgeDeleted, TaskKind::ExpireQuotes, TaskKind::DailySends]);
    // Today's ran already: the next one queued is tomorrow's.
    Worker::new(app.db.clone(), tasks::Handlers::default(), WorkerSettings::default()).work_once(Timestamp::now()).await.unwrap();
    app.db.execute_raw("DELETE FROM task WHERE status = 'queued'").await.unwrap();
    assert_eq!(tasks::ensure_scheduled(&app.db).await.unwrap(), 3);
    let page = tasks::list_tasks(&app.db, &app.ctx(), TaskQuery { status: Some(TaskStatus::Queued), ..Default::default() }).await.unwrap();
    let tomorrow = Timestamp::now().to_zoned(app.org.zone()).date().tomorrow().unwrap();
    let mut keys: Vec<String> = page.items.iter().filter_map(|t| t.dedupe_key.clone()).collect();
    keys.sort();
    assert_eq!(keys, [format!("customers.purge:{tomorrow}"), format!("quotes.expire:{tomorrow}"), format!("sends.daily:{tomorrow}")]);
});

both_backends!(the_admin_page_lists_a_failed_task_and_its_retry_works, |app| {
    let runner = Counting::failing();
    let id = enqueue(&app.db, &app.ctx(), test_task(json!({"test": "fail"}), Some(1))).await;
    worker(&app, runner).work_once(Timestamp::now()).await.unwrap();
    let cookie = app.session("admin").await;
    let (status, admin) = app.page(Some(&cookie), "/admin").await;
    assert_eq!(status, StatusCode::OK);
    assert!(admin.contains("href=\"/admin/tasks\""), "{admin}");
    let (status, html) = app.page(Some(&cookie), "/admin/tasks?status=failed").await;
    assert_eq!(status, StatusCode::OK, "{html}");
    assert!(html.contains(&format!("data-task=\"{id}\" data-status=\"failed\"")), "{html}");
    assert!(html.contains("boom on attempt 1"), "{html}");
    assert!(html.contains(&format!("action=\"/admin/tasks/{id}/retry\"")), "{html}");
    let (status, location, _) = app.form(&cookie, &format!("/admin/tasks/{id}/retry"), &[]).await;
    assert_eq!((status, location.as_str()), (StatusCode::SEE_OTHER, "/admin/tasks"));
    assert_eq!(task(&app, id).await.status, TaskStatus::Queued);
    let (_, html) = app.page(Some(&cookie), "/admin/tasks").await;
    assert!(html.contains(&format!("data-task=\"{id}\" data-status=\"queued\"")), "{html}");
});

both_backends!(only_owners_and_admins_see_background_tasks, |app| {
    let id = enqueue(&app.db, &app.ctx(), test_task(json!({"test": "fail"}), Some(1))).await;
    worker(&app, Counting::failing()).work_once(Timestamp::now()).await.unwrap();
    let (_, token) = app.user("office").await;
    let (status, problem) = app.call_as(Some(&token), axum::http::Method::GET, "/tasks", None).await;
    assert_eq!((status, problem["code"].as_str()), (StatusCode::FORBIDDEN, Some("forbidden")));
    let (status, _) = app.call_as(Some(&token), axum::http::Method::POST, &format!("/tasks/{id}/retry"), None).await;
    assert_eq!(status, StatusCode::FORBIDDEN);
    let cookie = app.session("office").await;
    let (status, _) = app.page(Some(&cookie), "/admin/tasks").await;
    assert_eq!(status, StatusCode::FORBIDDEN);
    let (status, _, _) = app.form(&cookie, &format!("/admin/tasks/{id}/retry"), &[]).await;
    assert_eq!(status, StatusCode::FORBIDDEN);
    let (_, admin) = app.page(Some(&cookie), "/admin").await;
    assert!(!admin.contains("/admin/tasks"));
    assert_eq!(task(&app, id).await.status, TaskStatus::Failed);
    // A status that does not exist is refused with its field named.
    let (status, problem) = app.get("/tasks?status=sleeping").await;
    assert_eq!(status, StatusCode::UNPROCESSABLE_ENTITY, "{problem}");
});

/// A handler that asks its worker to stop as it runs its first task.
struct StopsAtOnce {
    stop: tokio::sync::watch::Sender<bool>,
    runs: Arc<Mutex<u32>>,
}

impl Runner for StopsAtOnce {
    async fn run(&self, _db: &Db, _task: &Claimed) -> Result<(), String> {
        *self.runs.lock().unwrap() += 1;
        self.stop.send_replace(true);
        Ok(())
    }
}

both_backends!(a_stopping_worker_finishes_the_task_in_hand_and_gives_back_the_rest, |app| {
    for n in 0..5 {
        enqueue(&app.db, &app.ctx(), test_task(json!({ "n": n }), None)).await;
    }
    let (stop, stopping) = tokio::sync::watch::channel(false);
    let runs = Arc::new(Mutex::new(0));
    let worker = Worker::new(app.db.clone(), StopsAtOnce { stop, runs: runs.clone() }, WorkerSettings::default());
    tokio::time::timeout(std::time::Duration::from_secs(30), worker.run_until_stopped(stopping)).await.expect("the worker stops");
    assert_eq!(*runs.lock().unwrap(), 1);
    let (_, running) = app.get("/tasks?status=running").await;
    assert_eq!(running["items"], json!([]));
    let (_, done) = app.get("/tasks?status=done").await;
    let done = done["items"].as_array().unwrap();
    assert_eq!(done.len(), 1);
    let (_, queued) = app.get("/tasks?status=queued").await;
    let queued = queued["items"].as_array().unwrap();
    // Of the six it claimed (with the org's first daily run), the five it did not start are queued again.
    let ours = |tasks: &Vec<Value>| tasks.iter().filter(|t| t["payload"].get("n").is_some()).count();
    assert_eq!(ours(queued) + ours(done), 5, "{queued:?}");
    assert!(queued.iter().all(|t| t["attempts"] == 0 && t["held_by"].is_null()), "{queued:?}");
});

//! `dossier bench-worker`: how many background tasks a worker runs per
//! second on this machine and database. Queues `--tasks` nightly quote
//! expiry runs for one org (each a real run: it reads the org, its
//! automations and its expiring quotes, and ends its task), then lets
//! `--workers` workers claim and run them until none is left, and prints
//! the figures as Markdown.

use std::time::{Duration, Instant};

use anyhow::Context;
use dossier_service::tasks::{self, Handlers, NewTask, TaskKind, Worker, WorkerSettings};
use dossier_service::{Ctx, Db, orgs};
use jiff::Timestamp;

/// Tasks queued per transaction.
const QUEUE_BATCH: usize = 500;

pub struct Options {
    pub db: String,
    pub tasks: usize,
    pub workers: usize,
    pub batch: u32,
}

pub async fn run(options: Options) -> anyhow::Result<String> {
    let db = Db::connect(&options.db).await.with_context(|| format!("cannot open {}", options.db))?;
    db.migrate().await.context("cannot migrate")?;
    let org = orgs::single_or_create(&db, "Worker Bench", "GB").await?;
    let ctx = Ctx::system(org, "Bench");
    let day = ctx.today().to_string();

    let queued_at = Instant::now();
    let mut left = options.tasks;
    let mut n = 0;
    while left > 0 {
        let mut tx = db.begin().await?;
        for _ in 0..left.min(QUEUE_BATCH) {
            let payload = serde_json::json!({ "day": day, "bench": n });
            tasks::enqueue_in(&mut tx, &ctx, NewTask { kind: TaskKind::ExpireQuotes, payload, run_at: Timestamp::now(), dedupe_key: None, max_attempts: None })
                .await?;
            n += 1;
        }
        tx.commit().await?;
        left -= left.min(QUEUE_BATCH);
    }
    let queue_time = queued_at.elapsed();

    let settings = WorkerSettings { poll_interval: Duration::from_millis(10), batch_size: options.batch, lease: Duration::from_secs(300) };
    let started = Instant::now();
    let mut handles = Vec::new();
    for _ in 0..options.workers.max(1) {
        let worker = Worker::new(db.clone(), Handlers::default(), settings.clone());
        handles.push(tokio::spawn(async move {
            let mut ran = 0usize;
            loop {
                match worker.work_once(Timestamp::now()).await {
                    Ok(0) => break Ok(ran),
                    Ok(n) => ran += n,
                    Err(e) => break Err(e),
                }
            }
        }));
    }
    let mut ran = Vec::new();
    for handle in handles {
        ran.push(handle.await.context("a worker panicked")??);
    }
    let run_time = started.elapsed();
    let total: usize = ran.iter().sum();
    db.close().await;

    let per_second = |count: usize, time: Duration| count as f64 / time.as_secs_f64().max(1e-9);
    let backend = if options.db.starts_with("postgres") { "PostgreSQL" } else { "SQLite" };
    Ok(format!(
        "| backend | tasks | workers | claim batch | queued per s | run per s | each worker ran |\n| --- | ---: | ---: | ---: | ---: | ---: | --- |\n\
         | {backend} | {total} | {} | {} | {:.0} | {:.0} | {} |\n",
        options.workers.max(1),
        options.batch,
        per_second(options.tasks, queue_time),
        per_second(total, run_time),
        ran.iter().map(usize::to_string).collect::<Vec<_>>().join(", "),
    ))
}

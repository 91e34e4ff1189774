//! What each subcommand does: open the database, call the service layer.

use std::io::Read;
use std::process::ExitCode;
use std::time::{Duration, Instant};

use anyhow::Context;
use dossier_service::bench::Scale;
use dossier_service::{Ctx, Db, PublicUrl, audit, demo, orgs, statement, users};
use indicatif::{ProgressBar, ProgressStyle};

use crate::cli::{AuditCommand, BenchScale, Command, DbArgs, DocumentKind, FileArgs, MailCommand, OrgCommand, TokenCommand, UserCommand, WorkerArgs};
use dossier_service::files::Files;

/// Open the database (creating a SQLite file's folder) and apply migrations.
async fn open(db: &DbArgs) -> anyhow::Result<Db> {
    let is_file = !db.url.contains("://") || db.url.starts_with("sqlite://");
    if is_file {
        let path = std::path::Path::new(db.url.strip_prefix("sqlite://").unwrap_or(&db.url));
        if let Some(dir) = path.parent().filter(|d| !d.as_os_str().is_empty()) {
            std::fs::create_dir_all(dir).with_context(|| format!("cannot create {}", dir.display()))?;
        }
    }
    let database = Db::connect(&db.url).await.with_context(|| format!("cannot open database {}", redact(&db.url)))?;
    database.migrate().await.context("cannot apply migrations")?;
    Ok(database)
}

/// The file store of `db` as configured.
fn files(db: &DbArgs, args: &FileArgs) -> anyhow::Result<Files> {
    let location = args.location.clone().unwrap_or_else(|| Files::default_folder(&db.url).display().to_string());
    Files::at(&location, args.files_staging.clone(), args.max_file_bytes, &args.file_types).map_err(anyhow::Error::msg)
}

/// A URL without its password, for messages.
fn redact(url: &str) -> String {
    match (url.find("://"), url.rfind('@')) {
        (Some(scheme), Some(at)) if at > scheme => {
            let credentials = &url[scheme + 3..at];
            match credentials.split_once(':') {
                Some((user, _)) => format!("{}{user}:***{}", &url[..scheme + 3], &url[at..]),
                None => url.to_owned(),
            }
        }
        _ => url.to_owned(),
    }
}

pub async fn run(command: Command) -> anyhow::Result<ExitCode> {
    match command {
        Command::Serve { db: args, listen, trust_proxy, files: file_args, no_worker, worker } => {
            let files = files(&args, &file_args)?;
            let db = open(&args).await?;
            db.checkpoint_in_background(Duration::from_millis(250)).await?;
            dossier_service::files::sweep_in_background(db.clone(), files.clone());
            let listener = tokio::net::TcpListener::bind(listen).await.with_context(|| format!("cannot listen on {listen}"))?;
            let (stop, stopping) = tokio::sync::watch::channel(false);
            let smtp = smtp_of(&worker)?;
            let public_url = worker.public_url.clone().unwrap_or_else(|| PublicUrl::for_listen(listener.local_addr().unwrap_or(listen)));
            let worker = if no_worker { None } else { Some(start_worker(&db, &worker, Some(files.clone()), &public_url, stopping).await?) };
            tracing::info!(address = %listener.local_addr()?, %public_url, backend = db.backend(), files = %files.blobs.describe(), "Dossier is listening");
            let shutdown = async move {
                shutdown_signal().await;
                stop.send_replace(true);
            };
            dossier_web::serve(listener, dossier_web::AppState { db: db.clone(), files, trust_proxy, smtp, public_url }, shutdown).await?;
            if let Some(worker) = worker {
                // The task in hand is finished first.
                worker.await.context("the background task worker panicked")?;
            }
            db.close().await;
            tracing::info!("stopped");
        }
        Command::Worker { db: args, files: file_args, worker } => {
            let files = files(&args, &file_args)?;
            let db = open(&args).await?;
            let (stop, stopping) = tokio::sync::watch::channel(false);
            let public_url = worker.public_url.clone().unwrap_or_else(|| {
                let default = PublicUrl::default();
                tracing::warn!(%default, "no --public-url / DOSSIER_PUBLIC_URL: links in emailed invitations start with {default}");
                default
            });
            let worker = start_worker(&db, &worker, Some(files), &public_url, stopping).await?;
            shutdown_signal().await;
            stop.send_replace(true);
            worker.await.context("the background task worker panicked")?;
            db.close().await;
            tracing::info!("stopped");
        }
        Command::SweepFiles { db: args, files: file_args, older_than_secs } => {
            let files = files(&args, &file_args)?;
            let db = open(&args).await?;
            let (staged, blobs) = files.sweep(&db, Duration::from_secs(older_than_secs)).await?;
            println!("removed {staged} abandoned upload(s) and {blobs} unnamed file content(s)");
        }
        Command::Migrate { db } => {
            let db = open(&db).await?;
            println!("migrations applied ({})", db.backend());
        }
        Command::Demo { db: args, customers, seed, single_org, listen, files: file_args } => {
            let files = files(&args, &file_args)?;
            let db = open(&args).await?;
            let bar = ProgressBar::new(u64::from(customers));
            bar.set_style(
                ProgressStyle::with_template("{spinner} customers {pos}/{len} [{bar:40}] {per_sec} eta {eta}").unwrap_or_else(|_| ProgressStyle::default_bar()),
            );
            let started = Instant::now();
            let loaded = demo::load(&db, demo::DemoOptions { customers, seed, per_transaction: None, files: Some(files), second_org: !single_org }, |done| {
                bar.set_position(done)
            })
            .await?;
            bar.finish_and_clear();
            println!(
                "Demo data loaded in {:.1}s: org \"{}\", {} customers, {} activities.",
                started.elapsed().as_secs_f64(),
                loaded.org.name,
                customers,
                loaded.activities
            );
            let base = PublicUrl::for_listen(listen);
            println!("Sign in:       {base}/ as {} / {}", loaded.admin_email, loaded.admin_password);
            println!("               (luis@demo.example, same password, is a fieldworker)");
            println!("API token:     {}", loaded.api_token);
            println!("Try:           curl -H 'Authorization: Bearer {}' '{base}/api/v1/customers?limit=5'", loaded.api_token);
            if let Some((name, email)) = &loaded.second_org {
                println!("Second org:    {name} (US dollars, Los Angeles time): sign in as {email} / {}", loaded.admin_password);
            }
            if let Some(url) = loaded.portal_url {
                println!("Portal:        {base}{url}  (CUS-00001's customer portal, valid 30 days)");
            }
        }
        Command::Org { command: OrgCommand::Create { db, name, currency, timezone, region, address } } => {
            let db = open(&db).await?;
            let address: Vec<&str> = address.iter().map(String::as_str).collect();
            let new = orgs::NewOrg { name: &name, region: &region, currency: &currency, timezone: &timezone, address: &address };
            let org = orgs::create_org(&db, &new).await?;
            println!("{}", org.id);
            eprintln!("created {} ({}, {}); add its first user with: dossier user add --org {} --role owner …", org.name, org.currency, org.timezone, org.id);
        }
        Command::Org { command: OrgCommand::List { db } } => {
            let db = open(&db).await?;
            for org in orgs::list(&db).await? {
                println!("{}\t{}\t{}\t{}", org.id, org.name, org.currency, org.timezone);
            }
        }
        Command::Org { command: OrgCommand::Settings { db, org } } => {
            let db = open(&db).await?;
            let org = users::org_for_cli(&db, org.org.as_deref(), users::OrgChoice::Existing).await?;
            let settings = orgs::settings(&db, &Ctx::system(org, "Command line")).await?;
            println!("{}", serde_json::to_string_pretty(&settings)?);
        }
        Command::User { command: UserCommand::Add { db, org, email, name, role, org_name, region } } => {
            let mut password = String::new();
            std::io::stdin().read_to_string(&mut password).context("cannot read the password from standard input")?;
            let password = password.trim_end_matches(['\n', '\r']).to_owned();
            let db = open(&db).await?;
            let org = users::org_for_cli(&db, org.org.as_deref(), users::OrgChoice::CreateIfNone { name: &org_name, region: &region }).await?;
            let ctx = Ctx::system(org, "Command line");
            let user = users::add_user(&db, &ctx, users::NewUser { email, name, role, password }).await?;
            println!("added {} <{}> as {} to {}", user.name, user.email, user.role, ctx.org.name);
        }
        Command::Token { command: TokenCommand::Create { db, org, email, name } } => {
            let db = open(&db).await?;
            let org = users::org_for_cli(&db, org.org.as_deref(), users::OrgChoice::Existing).await?;
            let ctx = Ctx::system(org, "Command line");
            let created = dossier_service::tokens::create_token(&db, &ctx, &email, &name).await?;
            println!("{}", created.token);
        }
        Command::Export { db: db_args, org, files: file_args, output } => {
            let db = open(&db_args).await?;
            let org = users::org_for_cli(&db, org.org.as_deref(), users::OrgChoice::Existing).await?;
            let files = files(&db_args, &file_args)?;
            let manifest = dossier_service::data::export::export_org(&db, &files.blobs, org.id, &output).await?;
            let rows: u64 = manifest.tables.iter().map(|t| t.rows).sum();
            println!(
                "{} exported to {}: {rows} rows in {} tables, {} files, activity chain head #{}",
                manifest.org_name,
                output.display(),
                manifest.tables.len(),
                manifest.files.len(),
                manifest.chain.seq
            );
            if !manifest.missing_files.is_empty() {
                println!("warning: {} files named by rows were not in the file store", manifest.missing_files.len());
            }
        }
        Command::Import { db: db_args, export: Some(path), files: file_args, .. } => {
            let db = open(&db_args).await?;
            let files = files(&db_args, &file_args)?;
            let loaded = dossier_service::data::export::load_export(&db, &files.blobs, &path, |_, _| {}).await?;
            let report = audit::verify_orgs(&db, Some(loaded.org()), |_| {}).await?;
            if let Some(bad) = report.first_bad {
                println!("{} loaded, but its activity chain does not verify here: {bad}", loaded.org_name);
                return Ok(ExitCode::FAILURE);
            }
            println!(
                "{} loaded from {}: {} rows, {} files; {} activity rows verified, the hash chain holds",
                loaded.org_name,
                path.display(),
                loaded.rows,
                loaded.files,
                report.rows_checked
            );
        }
        Command::Import { db, org, file, mapping, dry_run, report, by, .. } => {
            let db = open(&db).await?;
            let file = file.context("name the CSV or XLSX file to import")?;
            let args = crate::import::ImportArgs { org: org.org, file, mapping, dry_run, report, by };
            let report = crate::import::import_file(&db, args).await?;
            println!("{}", crate::import::summary(&report));
        }
        Command::ImportBench { db, rows } => {
            let db = open(&db).await?;
            crate::import::bench(&db, rows).await?;
        }
        Command::Statement { db, org, customer, as_of, from, output } => {
            let db = open(&db).await?;
            let org = users::org_for_cli(&db, org.org.as_deref(), users::OrgChoice::Existing).await?;
            let ctx = Ctx::system(org, "Command line");
            let pdf = statement::statement_pdf(&db, &ctx, &customer, statement::StatementQuery { as_of, from }).await?;
            std::fs::write(&output, pdf).with_context(|| format!("cannot write {}", output.display()))?;
            println!("statement of {customer} written to {}", output.display());
        }
        Command::Document { db, org, kind, reference, output } => {
            let db = open(&db).await?;
            let org = users::org_for_cli(&db, org.org.as_deref(), users::OrgChoice::Existing).await?;
            let ctx = Ctx::system(org, "Command line");
            let pdf = match kind {
                DocumentKind::Invoice => dossier_service::documents::invoice_pdf(&db, &ctx, &reference).await?,
                DocumentKind::Quote => dossier_service::documents::quote_pdf(&db, &ctx, &reference).await?,
            };
            std::fs::write(&output, pdf).with_context(|| format!("cannot write {}", output.display()))?;
            println!("{reference} written to {}", output.display());
        }
        Command::BenchWorker { db, tasks, workers, batch } => {
            print!("{}", crate::bench_worker::run(crate::bench_worker::Options { db, tasks, workers, batch }).await?);
        }
        Command::Bench { scale, db, clients, requests, warmup } => {
            let scale = match scale {
                BenchScale::S => Scale::S,
                BenchScale::M => Scale::M,
                BenchScale::L => Scale::L,
            };
            let db = db.unwrap_or_else(|| format!("dossier-data/bench-{}.db", format!("{scale:?}").to_lowercase()));
            if !db.starts_with("postgres")
                && let Some(folder) = std::path::Path::new(&db).parent()
            {
                std::fs::create_dir_all(folder).ok();
            }
            let report = crate::bench::run(crate::bench::BenchOptions { scale, db, clients, requests, warmup }).await?;
            println!("{report}");
        }
        Command::Mail { command: MailCommand::Ingest { db, org, files: file_args } } => return ingest_mail(&db, org.org.as_deref(), &file_args).await,
        Command::Openapi => {
            println!("{}", dossier_web::openapi().to_pretty_json()?);
        }
        Command::Audit { command: AuditCommand::Verify { export: Some(path), .. } } => {
            let report = dossier_service::data::export::verify_export(&path, |_| {})?;
            if let Some(bad) = report.first_bad {
                println!("FAILED after {} good rows: first bad row is {bad}", report.rows_checked);
                return Ok(ExitCode::FAILURE);
            }
            println!("OK: {} activity rows checked in the export {}; the hash chain holds up to its recorded head", report.rows_checked, path.display());
        }
        Command::Audit { command: AuditCommand::Verify { db, org, export: None } } => {
            let db = open(&db).await?;
            let only = match org {
                Some(reference) => Some(orgs::find(&db, &reference).await?.id),
                None => None,
            };
            let bar = ProgressBar::new_spinner();
            bar.enable_steady_tick(Duration::from_millis(200));
            let report = audit::verify_orgs(&db, only, |rows| bar.set_message(format!("{rows} rows checked"))).await?;
            bar.finish_and_clear();
            if let Some(bad) = report.first_bad {
                println!("FAILED after {} good rows: first bad row is {bad}", report.rows_checked);
                return Ok(ExitCode::FAILURE);
            }
            println!("OK: {} activity rows checked in {} org(s); the hash chain holds", report.rows_checked, report.orgs);
        }
    }
    Ok(ExitCode::SUCCESS)
}

/// What a mail server is told when it pipes mail to `dossier mail ingest`
/// (sysexits.h): a refused mail is returned to its sender, a fault of ours
/// is tried again later.
const EX_DATAERR: u8 = 65;
const EX_TEMPFAIL: u8 = 75;

/// `dossier mail ingest`: one mail from standard input.
async fn ingest_mail(db: &DbArgs, org: Option<&str>, file_args: &FileArgs) -> anyhow::Result<ExitCode> {
    use dossier_service::ServiceError;
    use dossier_service::sending::inbound;
    // Read at most one byte past the limit: a larger mail is refused
    // without being held in memory whole.
    let limit = inbound::MAX_MAIL_BYTES as u64 + 1;
    let mut raw = Vec::new();
    if let Err(e) = std::io::stdin().lock().take(limit).read_to_end(&mut raw) {
        eprintln!("error: cannot read the mail from standard input: {e}");
        return Ok(ExitCode::from(EX_TEMPFAIL));
    }
    let ingested = async {
        let files = files(db, file_args)?;
        let db = open(db).await?;
        let org = users::org_for_cli(&db, org, users::OrgChoice::Existing).await?;
        let ctx = Ctx::system(org, "Inbound email");
        let result = inbound::ingest(&db, &files, &ctx, &raw).await;
        db.close().await;
        Ok::<_, anyhow::Error>(result)
    }
    .await;
    match ingested {
        Ok(Ok(done)) => {
            println!("{}", done.describe());
            Ok(ExitCode::SUCCESS)
        }
        Ok(Err(ServiceError::Refused { code, message })) => {
            eprintln!("refused ({code}): {message}");
            Ok(ExitCode::from(EX_DATAERR))
        }
        Ok(Err(e)) => {
            eprintln!("error: {e}");
            Ok(ExitCode::from(EX_TEMPFAIL))
        }
        Err(e) => {
            eprintln!("error: {e:#}");
            Ok(ExitCode::from(EX_TEMPFAIL))
        }
    }
}

/// Queue the recurring tasks orgs lack, then run a background task worker
/// until `stopping` turns true.
async fn start_worker(
    db: &Db,
    args: &WorkerArgs,
    files: Option<Files>,
    public_url: &PublicUrl,
    stopping: tokio::sync::watch::Receiver<bool>,
) -> anyhow::Result<tokio::task::JoinHandle<()>> {
    use dossier_service::tasks::{Handlers, Worker, WorkerSettings, ensure_scheduled};
    let outbox = dossier_service::sending::email::Outbox { files, configured: smtp_of(args)? };
    let queued = ensure_scheduled(db).await.context("cannot queue the orgs' recurring tasks")?;
    if queued > 0 {
        tracing::info!(orgs = queued, "queued the daily quote expiry of orgs that had none");
    }
    let settings = WorkerSettings {
        poll_interval: Duration::from_millis(args.worker_poll_ms),
        batch_size: args.worker_batch,
        lease: Duration::from_secs(args.worker_lease_secs),
    };
    let worker = Worker::new(db.clone(), Handlers { outbox, public_url: public_url.clone() }, settings);
    Ok(tokio::spawn(async move { worker.run_until_stopped(stopping).await }))
}

/// The configured outgoing mail server (`--smtp-url`), if any. An error
/// names what is wrong but never the password.
fn smtp_of(args: &WorkerArgs) -> anyhow::Result<Option<dossier_service::sending::smtp::MailServer>> {
    args.smtp_url
        .as_deref()
        .filter(|u| !u.is_empty())
        .map(|url| dossier_service::sending::smtp::MailServer::from_url(url).map_err(|e| anyhow::anyhow!("--smtp-url / DOSSIER_SMTP_URL: {e}")))
        .transpose()
}

/// Resolves on Ctrl-C or SIGTERM.
async fn shutdown_signal() {
    let ctrl_c = async {
        if tokio::signal::ctrl_c().await.is_err() {
            std::future::pending::<()>().await;
        }
    };
    #[cfg(unix)]
    let terminate = async {
        match tokio::signal::unix::signal(tokio::signal::unix::SignalKind::terminate()) {
            Ok(mut signal) => {
                signal.recv().await;
            }
            Err(_) => std::future::pending::<()>().await,
        }
    };
    #[cfg(not(unix))]
    let terminate = std::future::pending::<()>();
    tokio::select! {
        () = ctrl_c => {},
        () = terminate => {},
    }
    tracing::info!("shutting down: finishing requests in flight");
}

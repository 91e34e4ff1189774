//! `dossier bench`: a dataset of a named scale, the server started on
//! loopback as its own process, and concurrent clients driving it over
//! HTTP, scenario by scenario. Prints latency percentiles and throughput per
//! scenario, the server's peak memory, the database's size and the machine,
//! as a Markdown section for `docs/performance.md`.

use std::fmt::Write as _;
use std::process::Stdio;
use std::sync::Arc;
use std::sync::atomic::{AtomicUsize, Ordering};
use std::time::{Duration, Instant};

use anyhow::{Context, bail};
use bytes::Bytes;
use dossier_service::Db;
use dossier_service::bench::{self, Dataset, Scale};
use http_body_util::{BodyExt, Full};
use hyper::{Method, Request};
use hyper_util::client::legacy::Client;
use hyper_util::client::legacy::connect::HttpConnector;
use hyper_util::rt::TokioExecutor;

pub struct BenchOptions {
    pub scale: Scale,
    pub db: String,
    pub clients: usize,
    pub requests: usize,
    pub warmup: usize,
}

type HttpClient = Client<HttpConnector, Full<Bytes>>;

/// One request a scenario makes: method, path and JSON body.
#[derive(Clone)]
struct Call {
    method: Method,
    path: String,
    body: Option<String>,
}

fn get(path: String) -> Call {
    Call { method: Method::GET, path, body: None }
}

/// A named workload: the `n`th operation is a sequence of calls, timed as one.
struct Scenario {
    name: String,
    op: Box<dyn Fn(usize) -> Vec<Call> + Send + Sync>,
}

struct Figures {
    name: String,
    ops: usize,
    p50: Duration,
    p95: Duration,
    p99: Duration,
    max: Duration,
    per_second: f64,
    errors: usize,
}

pub async fn run(options: BenchOptions) -> anyhow::Result<String> {
    let generated = generate_if_missing(&options).await?;
    let db = Db::connect(&options.db).await.with_context(|| format!("cannot open {}", options.db))?;
    let mut data = bench::prepare(&db, options.scale).await?;
    data.generated = generated.map(|seconds| (seconds, data.activities as f64 / seconds));
    let size = db.size_bytes().await?;
    db.close().await;

    let port = std::net::TcpListener::bind("127.0.0.1:0")?.local_addr()?.port();
    let mut server = tokio::process::Command::new(std::env::current_exe()?)
        .args(["serve", "--db", &options.db, "--listen", &format!("127.0.0.1:{port}")])
        .env("DOSSIER_LOG", "warn")
        .stdout(Stdio::null())
        .stderr(Stdio::inherit())
        .kill_on_drop(true)
        .spawn()
        .context("cannot start the server")?;
    let base = format!("http://127.0.0.1:{port}/api/v1");
    let client: HttpClient = Client::builder(TokioExecutor::new()).pool_max_idle_per_host(options.clients).build_http();
    wait_until_up(&client, &format!("http://127.0.0.1:{port}/healthz")).await?;

    let mut results = Vec::new();
    for scenario in scenarios(&data) {
        eprintln!("  {} …", scenario.name);
        results.push(drive(&client, &base, &data.token, &scenario, &options).await);
    }
    let peak_rss = server.id().and_then(peak_rss_kib);
    server.kill().await.ok();
    Ok(report(&options, &data, size, peak_rss, &results))
}

/// Generate the dataset with `dossier demo` (its own process, which keeps
/// itself on one core) unless the database already holds customers; returns
/// how long generating took.
async fn generate_if_missing(options: &BenchOptions) -> anyhow::Result<Option<f64>> {
    let db = Db::connect(&options.db).await.with_context(|| format!("cannot open {}", options.db))?;
    db.migrate().await?;
    let existing = db.count_rows("customer").await?;
    db.close().await;
    if existing > 0 {
        return Ok(None);
    }
    let demo = bench::demo_options(options.scale);
    eprintln!("generating the {:?} dataset: {} customers …", options.scale, demo.customers);
    let started = Instant::now();
    let status = tokio::process::Command::new(std::env::current_exe()?)
        .args(["demo", "--single-org", "--db", &options.db, "--customers", &demo.customers.to_string(), "--seed", &demo.seed.to_string()])
        .stdout(Stdio::null())
        .status()
        .await?;
    if !status.success() {
        bail!("generating the dataset failed");
    }
    Ok(Some(started.elapsed().as_secs_f64()))
}

async fn wait_until_up(client: &HttpClient, url: &str) -> anyhow::Result<()> {
    let started = Instant::now();
    loop {
        let request = Request::get(url).body(Full::new(Bytes::new()))?;
        if let Ok(response) = client.request(request).await
            && response.status().is_success()
        {
            return Ok(());
        }
        if started.elapsed() > Duration::from_secs(30) {
            bail!("the server did not come up within 30 s");
        }
        tokio::time::sleep(Duration::from_millis(50)).await;
    }
}

/// What the profile asks for when a customer is opened: the customer, the
/// summary (status bars, balances, pinned notes) and the first page of the
/// timeline.
fn open(code: &str) -> Vec<Call> {
    vec![get(format!("/customers/{code}")), get(format!("/customers/{code}/summary")), get(format!("/customers/{code}/timeline?limit=50"))]
}

/// The scenarios, each over a spread of customers so caches are not all hit.
fn scenarios(data: &Dataset) -> Vec<Scenario> {
    let customers = data.customers.max(1) as usize;
    // A fixed stride through the customers: deterministic and well spread.
    let typical = move |n: usize| format!("CUS-{:05}", (n * 7919) % customers + 1);
    // The writes' customers: the same stride, passing by those that refuse
    // the write (blocked, deactivated) so every write measured is made.
    let refusing: Arc<std::collections::HashSet<String>> = Arc::new(data.refusing.iter().cloned().collect());
    let writable = move |n: usize| (n..n + customers).map(typical).find(|code| !refusing.contains(code)).unwrap_or_else(|| typical(n));
    let heavy: Vec<String> = data.heavy.iter().map(|(code, ..)| code.clone()).collect();
    let deep = data.deep_cursors.clone();
    let mut all = vec![
        Scenario {
            name: "open a customer (typical): profile + summary (with pinned notes) + first timeline page".into(),
            op: Box::new(move |n| {
                let code = typical(n);
                open(&code)
            }),
        },
        Scenario {
            name: "open a customer (heaviest timelines)".into(),
            op: Box::new(move |n| {
                let code = heavy[n % heavy.len().max(1)].clone();
                open(&code)
            }),
        },
        Scenario {
            name: "timeline page 90 % back in a heavy history".into(),
            op: Box::new(move |n| {
                let (code, cursor) = &deep[n % deep.len().max(1)];
                vec![get(format!("/customers/{code}/timeline?limit=50&cursor={cursor}"))]
            }),
        },
    ];
    for kind in ["name prefix", "email fragment", "phone digits", "customer code"] {
        let terms: Vec<String> = data.searches.iter().filter(|(k, _)| *k == kind).map(|(_, t)| t.clone()).collect();
        if terms.is_empty() {
            continue;
        }
        all.push(Scenario {
            name: format!("search: {kind}"),
            op: Box::new(move |n| vec![get(format!("/customers?limit=20&q={}", encode(&terms[n % terms.len()])))]),
        });
    }
    // A value no earlier run on this dataset wrote: an update that changes
    // nothing writes nothing (no row, no activity), and would measure a read.
    let run = std::time::SystemTime::now().duration_since(std::time::UNIX_EPOCH).map_or(0, |d| d.as_secs());
    all.push(Scenario {
        name: "write: customer update (with its activity)".into(),
        op: Box::new({
            let writable = writable.clone();
            move |n| {
                let body = format!(r#"{{"source": "Benchmark {run}-{n}"}}"#);
                vec![Call { method: Method::PATCH, path: format!("/customers/{}", writable(n)), body: Some(body) }]
            }
        }),
    });
    all.push(Scenario {
        name: "write: post a note (with its activity)".into(),
        op: Box::new({
            let writable = writable.clone();
            move |n| {
                let body = format!(r#"{{"channel": "note", "body": "Benchmark note {run}-{n}: called back, all sorted."}}"#);
                vec![Call { method: Method::POST, path: format!("/customers/{}/messages", writable(n)), body: Some(body) }]
            }
        }),
    });
    all.push(Scenario {
        name: "write: invoice issued (with its activity)".into(),
        op: Box::new({
            let writable = writable.clone();
            move |n| {
                let body = format!(
                    r#"{{"customer": "{}", "issue": true, "lines": [{{"description": "Benchmark", "unit_price": {}, "tax_rate_bp": 2000}}]}}"#,
                    writable(n),
                    1000 + n
                );
                vec![Call { method: Method::POST, path: "/invoices".into(), body: Some(body) }]
            }
        }),
    });
    all.push(Scenario {
        name: "write: payment received (with its activity)".into(),
        op: Box::new({
            let writable = writable.clone();
            move |n| {
                let body = format!(r#"{{"customer": "{}", "amount": {}, "method": "card"}}"#, writable(n), 500 + n);
                vec![Call { method: Method::POST, path: "/payments".into(), body: Some(body) }]
            }
        }),
    });
    all
}

fn encode(text: &str) -> String {
    text.bytes().map(|b| if b.is_ascii_alphanumeric() { (b as char).to_string() } else { format!("%{b:02X}") }).collect()
}

/// Run `warmup` then `requests` operations of `scenario` from `clients`
/// concurrent clients; time each operation.
async fn drive(client: &HttpClient, base: &str, token: &str, scenario: &Scenario, options: &BenchOptions) -> Figures {
    let scenario_op = &scenario.op;
    let run_ops = |count: usize, offset: usize| {
        let next = Arc::new(AtomicUsize::new(0));
        let calls: Vec<Vec<Call>> = (0..count).map(|n| scenario_op(n + offset)).collect();
        let calls = Arc::new(calls);
        let tasks: Vec<_> = (0..options.clients)
            .map(|_| {
                let (client, next, calls) = (client.clone(), next.clone(), calls.clone());
                let (base, token) = (base.to_owned(), token.to_owned());
                tokio::spawn(async move {
                    let mut times = Vec::new();
                    let mut errors = 0;
                    loop {
                        let n = next.fetch_add(1, Ordering::Relaxed);
                        let Some(op) = calls.get(n) else { break };
                        let started = Instant::now();
                        for call in op {
                            if !send(&client, &base, &token, call).await {
                                errors += 1;
                            }
                        }
                        times.push(started.elapsed());
                    }
                    (times, errors)
                })
            })
            .collect();
        async move {
            let mut times = Vec::new();
            let mut errors = 0;
            for task in tasks {
                if let Ok((t, e)) = task.await {
                    times.extend(t);
                    errors += e;
                }
            }
            (times, errors)
        }
    };
    run_ops(options.warmup, 1_000_000).await;
    let started = Instant::now();
    let (mut times, errors) = run_ops(options.requests, 0).await;
    let elapsed = started.elapsed();
    times.sort();
    let at = |q: f64| times.get(((times.len() as f64 * q).ceil() as usize).saturating_sub(1)).copied().unwrap_or_default();
    Figures {
        name: scenario.name.clone(),
        ops: times.len(),
        p50: at(0.50),
        p95: at(0.95),
        p99: at(0.99),
        max: times.last().copied().unwrap_or_default(),
        per_second: times.len() as f64 / elapsed.as_secs_f64(),
        errors,
    }
}

async fn send(client: &HttpClient, base: &str, token: &str, call: &Call) -> bool {
    let mut request = Request::builder().method(call.method.clone()).uri(format!("{base}{}", call.path)).header("authorization", format!("Bearer {token}"));
    if call.body.is_some() {
        request = request.header("content-type", "application/json");
    }
    let Ok(request) = request.body(Full::new(Bytes::from(call.body.clone().unwrap_or_default()))) else { return false };
    match client.request(request).await {
        Ok(response) => {
            let ok = response.status().is_success();
            ok & response.into_body().collect().await.is_ok()
        }
        Err(_) => false,
    }
}

/// The server's peak resident memory (VmHWM), in KiB.
fn peak_rss_kib(pid: u32) -> Option<u64> {
    let status = std::fs::read_to_string(format!("/proc/{pid}/status")).ok()?;
    status.lines().find_map(|l| l.strip_prefix("VmHWM:")).and_then(|v| v.split_whitespace().next()?.parse().ok())
}

fn machine() -> String {
    let cores = std::thread::available_parallelism().map_or(0, |n| n.get());
    let memory = std::fs::read_to_string("/proc/meminfo")
        .ok()
        .and_then(|m| m.lines().find_map(|l| l.strip_prefix("MemTotal:")).and_then(|v| v.split_whitespace().next()?.parse::<u64>().ok()))
        .map_or_else(|| "?".to_owned(), |kib| format!("{:.1} GiB", kib as f64 / 1024.0 / 1024.0));
    let cpu = std::fs::read_to_string("/proc/cpuinfo")
        .ok()
        .and_then(|c| c.lines().find_map(|l| l.strip_prefix("model name").map(|v| v.trim_start_matches([' ', '\t', ':']).to_owned())))
        .unwrap_or_else(|| "unknown CPU".into());
    format!("{cores} cores ({cpu}), {memory} memory")
}

fn ms(d: Duration) -> String {
    format!("{:.2}", d.as_secs_f64() * 1000.0)
}

fn report(options: &BenchOptions, data: &Dataset, size: i64, peak_rss: Option<u64>, results: &[Figures]) -> String {
    let backend = if options.db.starts_with("postgres") { "PostgreSQL" } else { "SQLite" };
    let mut out = String::new();
    let _ = writeln!(
        out,
        "### {backend}, scale {:?}: {} customers, {} activity rows, {} work records, {} invoices\n",
        options.scale, data.customers, data.activities, data.works, data.invoices
    );
    let _ =
        writeln!(out, "Machine: {}. Clients: {}; {} operations per scenario after {} warm-up.\n", machine(), options.clients, options.requests, options.warmup);
    let _ = writeln!(out, "| scenario | ops | p50 ms | p95 ms | p99 ms | max ms | ops/s | errors |");
    let _ = writeln!(out, "| --- | ---: | ---: | ---: | ---: | ---: | ---: | ---: |");
    for r in results {
        let _ =
            writeln!(out, "| {} | {} | {} | {} | {} | {} | {:.0} | {} |", r.name, r.ops, ms(r.p50), ms(r.p95), ms(r.p99), ms(r.max), r.per_second, r.errors);
    }
    let _ = writeln!(out);
    if let Some((seconds, rate)) = data.generated {
        let _ = writeln!(out, "- Generated in {seconds:.1} s: {rate:.0} activity rows/s (with their customers, contacts, sites, works and money).");
    } else {
        let _ = writeln!(out, "- Dataset reused (generated earlier).");
    }
    let heavy: Vec<String> = data.heavy.iter().map(|(code, n, invoices)| format!("{code} ({n} entries, {invoices} invoices)")).collect();
    let _ = writeln!(out, "- Heaviest timelines: {}.", heavy.join(", "));
    let _ = writeln!(out, "- Server peak RSS: {}.", peak_rss.map_or_else(|| "unknown".into(), |kib| format!("{:.0} MB", kib as f64 / 1024.0)));
    let _ = writeln!(out, "- Database size: {:.0} MB.", size as f64 / 1_000_000.0);
    out
}

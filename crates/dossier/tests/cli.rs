//! The `dossier` binary as an operator uses it (SQLite).

use std::io::{Read, Write};
use std::net::TcpStream;
use std::path::Path;
use std::process::{Command, Output, Stdio};
use std::time::{Duration, Instant};

use dossier_service::Db;

#[path = "common/smtp.rs"]
mod smtp;

fn dossier(args: &[&str], db: &Path) -> Command {
    let mut command = Command::new(env!("CARGO_BIN_EXE_dossier"));
    command.args(args).arg("--db").arg(db).env_remove("DOSSIER_DATABASE_URL").env("DOSSIER_LOG", "warn");
    command
}

fn run(args: &[&str], db: &Path, stdin: &str) -> Output {
    let mut child = dossier(args, db).stdin(Stdio::piped()).stdout(Stdio::piped()).stderr(Stdio::piped()).spawn().unwrap();
    child.stdin.take().unwrap().write_all(stdin.as_bytes()).unwrap();
    child.wait_with_output().unwrap()
}

fn stdout(output: &Output) -> String {
    String::from_utf8_lossy(&output.stdout).into_owned()
}

/// A minimal HTTP/1.1 GET against the running server.
fn http_get(port: u16, path: &str, token: Option<&str>) -> (u16, String) {
    let mut stream = TcpStream::connect(("127.0.0.1", port)).unwrap();
    let auth = token.map(|t| format!("Authorization: Bearer {t}\r\n")).unwrap_or_default();
    write!(stream, "GET {path} HTTP/1.1\r\nHost: localhost\r\n{auth}Connection: close\r\n\r\n").unwrap();
    let mut response = String::new();
    stream.read_to_string(&mut response).unwrap();
    let status = response[9..12].parse().unwrap();
    let body = response.split_once("\r\n\r\n").map(|(_, b)| b.to_owned()).unwrap_or_default();
    (status, body)
}

fn free_port() -> u16 {
    std::net::TcpListener::bind("127.0.0.1:0").unwrap().local_addr().unwrap().port()
}

#[test]
fn an_operator_adds_a_user_creates_a_token_and_serves_the_api() {
    let dir = tempfile::tempdir().unwrap();
    let db = dir.path().join("data/dossier.db");

    let short = run(&["user", "add", "--email", "ops@example.com", "--name", "Olu Ops", "--role", "admin"], &db, "short\n");
    assert!(!short.status.success());
    assert!(String::from_utf8_lossy(&short.stderr).contains("password: must be at least 12 characters"));

    let added = run(&["user", "add", "--email", "ops@example.com", "--name", "Olu Ops", "--role", "admin"], &db, "a long enough password\n");
    assert!(added.status.success(), "{}", String::from_utf8_lossy(&added.stderr));
    assert!(stdout(&added).contains("added Olu Ops <ops@example.com> as admin"));

    let created = run(&["token", "create", "--email", "ops@example.com"], &db, "");
    assert!(created.status.success(), "{}", String::from_utf8_lossy(&created.stderr));
    let printed = stdout(&created);
    let token = printed.trim();
    assert_eq!(printed.lines().count(), 1, "only the token on stdout: {printed}");
    assert!(token.starts_with("dsr_"));
    let unknown = run(&["token", "create", "--email", "nobody@example.com"], &db, "");
    assert!(!unknown.status.success());
    let elsewhere = run(&["token", "create", "--email", "ops@example.com"], &dir.path().join("empty.db"), "");
    assert!(!elsewhere.status.success());
    assert!(String::from_utf8_lossy(&elsewhere.stderr).contains("no org yet"), "{}", String::from_utf8_lossy(&elsewhere.stderr));

    let port = free_port();
    let mut server = dossier(&["serve", "--listen", &format!("127.0.0.1:{port}")], &db).stdout(Stdio::null()).stderr(Stdio::null()).spawn().unwrap();
    let started = Instant::now();
    while TcpStream::connect(("127.0.0.1", port)).is_err() {
        assert!(started.elapsed() < Duration::from_secs(30), "server did not start");
        std::thread::sleep(Duration::from_millis(50));
    }
    assert_eq!(http_get(port, "/healthz", None), (200, "ok".into()));
    let (status, body) = http_get(port, "/api/v1/customers", Some(token));
    assert_eq!(status, 200, "{body}");
    assert!(body.contains("\"items\":[]"));
    assert_eq!(http_get(port, "/api/v1/customers", None).0, 401);
    let (status, spec) = http_get(port, "/api/openapi.json", None);
    assert_eq!(status, 200);
    assert!(spec.contains("/customers/{id}/timeline"));

    Command::new("kill").arg("-TERM").arg(server.id().to_string()).status().unwrap();
    let started = Instant::now();
    let exit = loop {
        if let Some(exit) = server.try_wait().unwrap() {
            break exit;
        }
        assert!(started.elapsed() < Duration::from_secs(20), "server did not stop on SIGTERM");
        std::thread::sleep(Duration::from_millis(50));
    };
    assert!(exit.success(), "graceful shutdown exits 0: {exit:?}");
}

#[tokio::test]
async fn audit_verify_passes_on_the_demo_and_names_the_first_altered_row() {
    let dir = tempfile::tempdir().unwrap();
    let db = dir.path().join("demo.db");
    // The printed links follow DOSSIER_LISTEN (an unspecified address is
    // reached on loopback), and the curl line quotes its URL for any shell.
    let demo = dossier(&["demo", "--customers", "40", "--seed", "3"], &db).env("DOSSIER_LISTEN", "0.0.0.0:9123").output().unwrap();
    assert!(demo.status.success(), "{}", String::from_utf8_lossy(&demo.stderr));
    let printed = stdout(&demo);
    assert!(printed.contains("admin@demo.example"), "{printed}");
    assert!(printed.contains("dsr_"), "{printed}");
    assert!(printed.contains("Sign in:       http://127.0.0.1:9123/ as") && !printed.contains(":8080"), "{printed}");
    assert!(printed.contains("'http://127.0.0.1:9123/api/v1/customers?limit=5'"), "{printed}");

    let verified = run(&["audit", "verify"], &db, "");
    assert!(verified.status.success(), "{}", stdout(&verified));
    let text = stdout(&verified);
    let rows: u64 = text.split_whitespace().nth(1).unwrap().parse().unwrap();
    assert!(text.starts_with("OK: ") && rows > 40, "{text}");

    let again = run(&["demo", "--customers", "5"], &db, "");
    assert!(!again.status.success(), "loading the demo twice is refused");

    let database = Db::connect(db.to_str().unwrap()).await.unwrap();
    database.execute_raw("DROP TRIGGER activity_refuses_update").await.unwrap();
    database.execute_raw("UPDATE activity SET actor_name = 'Someone else' WHERE seq = 20").await.unwrap();
    database.close().await;
    let failed = run(&["audit", "verify"], &db, "");
    assert_eq!(failed.status.code(), Some(1));
    let text = stdout(&failed);
    assert!(text.contains("row #20") && text.contains("content was altered"), "{text}");
}

#[tokio::test]
async fn the_same_seed_gives_the_same_demo_customers() {
    let dir = tempfile::tempdir().unwrap();
    let mut listings = Vec::new();
    for name in ["a.db", "b.db"] {
        let db = dir.path().join(name);
        assert!(run(&["demo", "--customers", "30", "--seed", "11"], &db, "").status.success());
        let database = Db::connect(db.to_str().unwrap()).await.unwrap();
        let org = dossier_service::users::org_for_cli(&database, Some("Demo Services"), dossier_service::users::OrgChoice::Existing).await.unwrap();
        let ctx = dossier_service::Ctx::system(org, "test");
        let page =
            dossier_service::customers::list_customers(&database, &ctx, dossier_service::customers::CustomerQuery { limit: Some(200), ..Default::default() })
                .await
                .unwrap();
        listings.push(page.items.into_iter().map(|c| (c.code, c.display_name, c.status, c.labels)).collect::<Vec<_>>());
        database.close().await;
    }
    assert_eq!(listings[0].len(), 30);
    assert_eq!(listings[0], listings[1]);
}

#[test]
fn migrate_is_idempotent() {
    let dir = tempfile::tempdir().unwrap();
    let db = dir.path().join("m.db");
    for _ in 0..2 {
        let output = run(&["migrate"], &db, "");
        assert!(output.status.success(), "{}", String::from_utf8_lossy(&output.stderr));
    }
}

#[test]
fn statement_writes_a_pdf_of_a_customer_and_refuses_an_unknown_one() {
    let dir = tempfile::tempdir().unwrap();
    let db = dir.path().join("s.db");
    assert!(run(&["demo", "--customers", "20", "--seed", "5"], &db, "").status.success());
    let pdf = dir.path().join("statement.pdf");
    // The demo holds two orgs: a command names the one it acts in.
    let ambiguous = run(&["statement", "CUS-00001", "-o", pdf.to_str().unwrap()], &db, "");
    assert!(String::from_utf8_lossy(&ambiguous.stderr).contains("name one with --org"));
    let written = run(&["statement", "CUS-00001", "--org", "Demo Services", "--as-of", "2026-06-30", "-o", pdf.to_str().unwrap()], &db, "");
    assert!(written.status.success(), "{}", String::from_utf8_lossy(&written.stderr));
    let text = std::process::Command::new("pdftotext").args(["-layout", pdf.to_str().unwrap(), "-"]).output().expect("pdftotext (poppler-utils)");
    let text = String::from_utf8_lossy(&text.stdout);
    for expected in ["Statement of account", "Demo Services", "12 Canal Street", "CUS-00001", "30/06/2026", "Closing balance"] {
        assert!(text.contains(expected), "{expected} missing:\n{text}");
    }

    let missing = run(&["statement", "CUS-09999", "--org", "Demo Services", "-o", dir.path().join("none.pdf").to_str().unwrap()], &db, "");
    assert!(!missing.status.success());
    assert!(String::from_utf8_lossy(&missing.stderr).contains("customer not found"), "{}", String::from_utf8_lossy(&missing.stderr));
    assert!(!dir.path().join("none.pdf").exists());

    // An invoice and a quote, the same way.
    for (kind, code, title) in [("invoice", "INV-00001", "Invoice"), ("quote", "EST-00001", "Quote")] {
        let out = dir.path().join(format!("{code}.pdf"));
        let written = run(&["document", kind, code, "--org", "Demo Services", "-o", out.to_str().unwrap()], &db, "");
        assert!(written.status.success(), "{}", String::from_utf8_lossy(&written.stderr));
        let text = std::process::Command::new("pdftotext").args(["-layout", out.to_str().unwrap(), "-"]).output().expect("pdftotext (poppler-utils)");
        let text = String::from_utf8_lossy(&text.stdout);
        assert!(text.contains(title) && text.contains(code) && text.contains("Demo Services") && text.contains("Total"), "{text}");
    }
    let missing = run(&["document", "invoice", "INV-99999", "--org", "Demo Services", "-o", dir.path().join("none.pdf").to_str().unwrap()], &db, "");
    assert!(!missing.status.success() && !dir.path().join("none.pdf").exists());
}

/// An HTTP/1.1 request with a body against the running server: status and body bytes.
fn http(port: u16, method: &str, path: &str, token: &str, content_type: &str, body: &[u8]) -> (u16, Vec<u8>) {
    let mut stream = TcpStream::connect(("127.0.0.1", port)).unwrap();
    let head = format!(
        "{method} {path} HTTP/1.1\r\nHost: localhost\r\nAuthorization: Bearer {token}\r\nContent-Type: {content_type}\r\nContent-Length: {}\r\nConnection: close\r\n\r\n",
        body.len()
    );
    stream.write_all(head.as_bytes()).unwrap();
    stream.write_all(body).unwrap();
    let mut response = Vec::new();
    stream.read_to_end(&mut response).unwrap();
    let split = response.windows(4).position(|w| w == b"\r\n\r\n").unwrap();
    let status = String::from_utf8_lossy(&response[9..12]).parse().unwrap();
    (status, response[split + 4..].to_vec())
}

/// A multipart body with one file.
fn multipart_file(name: &str, content: &[u8]) -> (String, Vec<u8>) {
    let boundary = "cli-test-boundary-9XkQ";
    let mut body = format!("--{boundary}\r\nContent-Disposition: form-data; name=\"file\"; filename=\"{name}\"\r\n\r\n").into_bytes();
    body.extend_from_slice(content);
    body.extend_from_slice(format!("\r\n--{boundary}--\r\n").as_bytes());
    (format!("multipart/form-data; boundary={boundary}"), body)
}

/// An org with an admin, a token and one customer: the token.
fn set_up(db: &Path) -> String {
    let added = run(&["user", "add", "--email", "ops@example.com", "--name", "Olu Ops", "--role", "admin"], db, "a long enough password\n");
    assert!(added.status.success(), "{}", String::from_utf8_lossy(&added.stderr));
    stdout(&run(&["token", "create", "--email", "ops@example.com"], db, "")).trim().to_owned()
}

fn serve(db: &Path, port: u16) -> std::process::Child {
    let server = dossier(&["serve", "--listen", &format!("127.0.0.1:{port}")], db).stdout(Stdio::null()).stderr(Stdio::null()).spawn().unwrap();
    let started = Instant::now();
    while TcpStream::connect(("127.0.0.1", port)).is_err() {
        assert!(started.elapsed() < Duration::from_secs(30), "server did not start");
        std::thread::sleep(Duration::from_millis(50));
    }
    server
}

/// Files under `folder`, recursively.
fn files_under(folder: &Path) -> Vec<std::path::PathBuf> {
    let mut found = Vec::new();
    for entry in std::fs::read_dir(folder).into_iter().flatten().flatten() {
        if entry.path().is_dir() { found.extend(files_under(&entry.path())) } else { found.push(entry.path()) }
    }
    found
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_server_killed_mid_upload_leaves_no_file_and_the_sweep_removes_its_staged_part() {
    let dir = tempfile::tempdir().unwrap();
    let db = dir.path().join("data/dossier.db");
    let token = set_up(&db);
    let port = free_port();
    let mut server = serve(&db, port);
    let (status, body) = http(port, "POST", "/api/v1/customers", &token, "application/json", br#"{"family_name": "Killed"}"#);
    assert_eq!(status, 201, "{}", String::from_utf8_lossy(&body));

    // Half of a 2 MB upload, then the server dies (kill -9).
    let (content_type, body) = multipart_file("big.txt", &vec![b'z'; 2_000_000]);
    let mut stream = TcpStream::connect(("127.0.0.1", port)).unwrap();
    let head = format!(
        "POST /api/v1/customers/CUS-00001/files HTTP/1.1\r\nHost: localhost\r\nAuthorization: Bearer {token}\r\nContent-Type: {content_type}\r\nContent-Length: {}\r\n\r\n",
        body.len()
    );
    stream.write_all(head.as_bytes()).unwrap();
    stream.write_all(&body[..body.len() / 2]).unwrap();
    stream.flush().unwrap();
    let staging = dir.path().join("data/files/staging");
    let started = Instant::now();
    while files_under(&staging).is_empty() {
        assert!(started.elapsed() < Duration::from_secs(10), "the upload never reached the staging area");
        std::thread::sleep(Duration::from_millis(20));
    }
    std::thread::sleep(Duration::from_millis(200));
    server.kill().unwrap();
    server.wait().unwrap();
    drop(stream);

    let files = dir.path().join("data/files");
    let kept: Vec<_> = files_under(&files).into_iter().filter(|p| !p.starts_with(&staging)).collect();
    assert!(kept.is_empty(), "no blob was kept: {kept:?}");
    assert_eq!(files_under(&staging).len(), 1, "the part written before the kill is only staged");
    let database = Db::connect(db.to_str().unwrap()).await.unwrap();
    assert_eq!(database.count_rows("file").await.unwrap(), 0, "no row names a file");
    database.close().await;

    let swept = run(&["sweep-files", "--older-than-secs", "0"], &db, "");
    assert!(swept.status.success(), "{}", String::from_utf8_lossy(&swept.stderr));
    assert!(stdout(&swept).contains("removed 1 abandoned upload(s) and 0 unnamed file content(s)"), "{}", stdout(&swept));
    assert!(files_under(&files).is_empty());

    // Restarted, the same upload goes through whole.
    let mut server = serve(&db, port);
    let (status, answer) = http(port, "POST", "/api/v1/customers/CUS-00001/files", &token, &content_type, &body);
    assert_eq!(status, 201, "{}", String::from_utf8_lossy(&answer));
    server.kill().unwrap();
    server.wait().unwrap();
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_backup_of_the_database_then_the_file_folder_restores_every_file() {
    let dir = tempfile::tempdir().unwrap();
    let db = dir.path().join("live/dossier.db");
    let token = set_up(&db);
    let port = free_port();
    let mut server = serve(&db, port);
    http(port, "POST", "/api/v1/customers", &token, "application/json", br#"{"family_name": "Backed Up"}"#);
    let photo = b"\x89PNG\r\n\x1a\n pretend picture".to_vec();
    let mut uploaded = Vec::new();
    for (name, content) in [("photo.png", photo.clone()), ("notes.txt", b"Boiler serial 42".to_vec())] {
        let (content_type, body) = multipart_file(name, &content);
        let (status, answer) = http(port, "POST", "/api/v1/customers/CUS-00001/files", &token, &content_type, &body);
        assert_eq!(status, 201, "{}", String::from_utf8_lossy(&answer));
        let answer: serde_json::Value = serde_json::from_slice(&answer).unwrap();
        uploaded.push((answer["items"][0]["id"].as_str().unwrap().to_owned(), content));
    }

    // As docs/backup.md says, while the server runs: the database first
    // (VACUUM INTO, one consistent snapshot), then the file folder.
    let backup = dir.path().join("backup");
    std::fs::create_dir_all(&backup).unwrap();
    let live = Db::connect(db.to_str().unwrap()).await.unwrap();
    live.execute_raw(&format!("VACUUM INTO '{}'", backup.join("dossier.db").display())).await.unwrap();
    live.close().await;
    let copied = Command::new("cp").arg("-a").arg(dir.path().join("live/files")).arg(&backup).status().unwrap();
    assert!(copied.success());
    server.kill().unwrap();
    server.wait().unwrap();

    // Restore elsewhere: the database file and the folder beside it.
    let restored = dir.path().join("restored");
    std::fs::create_dir_all(&restored).unwrap();
    std::fs::copy(backup.join("dossier.db"), restored.join("dossier.db")).unwrap();
    assert!(Command::new("cp").arg("-a").arg(backup.join("files")).arg(&restored).status().unwrap().success());
    let restored_db = restored.join("dossier.db");
    let verified = run(&["audit", "verify"], &restored_db, "");
    assert!(verified.status.success(), "{}", stdout(&verified));
    let mut server = serve(&restored_db, port);
    for (id, content) in &uploaded {
        let (status, body) = http(port, "GET", &format!("/api/v1/files/{id}/content"), &token, "text/plain", b"");
        assert_eq!((status, &body), (200, content), "file {id} came back whole");
    }
    server.kill().unwrap();
    server.wait().unwrap();
}

/// An HTTP/1.1 request against the running server: the whole answer, head and body.
fn http_raw(port: u16, method: &str, path: &str, headers: &[(&str, &str)], body: &str) -> String {
    let mut stream = TcpStream::connect(("127.0.0.1", port)).unwrap();
    let extra: String = headers.iter().map(|(name, value)| format!("{name}: {value}\r\n")).collect();
    write!(stream, "{method} {path} HTTP/1.1\r\nHost: localhost\r\n{extra}Content-Length: {}\r\nConnection: close\r\n\r\n{body}", body.len()).unwrap();
    let mut response = String::new();
    stream.read_to_string(&mut response).unwrap();
    response
}

fn pdf_text(path: &Path) -> String {
    let out = Command::new("pdftotext").args(["-layout", path.to_str().unwrap(), "-"]).output().expect("pdftotext (poppler-utils)");
    String::from_utf8_lossy(&out.stdout).into_owned()
}

#[test]
fn a_us_org_made_with_the_command_line_shows_dollars_and_its_own_time_in_the_web_app_and_its_pdfs() {
    let dir = tempfile::tempdir().unwrap();
    let db = dir.path().join("data/dossier.db");
    let british = set_up(&db);

    let created = run(
        &[
            "org",
            "create",
            "--name",
            "Sunrise Pool Care",
            "--currency",
            "usd",
            "--timezone",
            "America/New_York",
            "--region",
            "US",
            "--address-line",
            "1420 Ocean Ave",
            "--address-line",
            "Santa Monica, CA 90401",
        ],
        &db,
        "",
    );
    assert!(created.status.success(), "{}", String::from_utf8_lossy(&created.stderr));
    let org = stdout(&created).trim().to_owned();
    let bad = run(&["org", "create", "--name", "Nowhere", "--currency", "XYZ", "--timezone", "Mars/Olympus"], &db, "");
    let refused = String::from_utf8_lossy(&bad.stderr);
    assert!(!bad.status.success() && refused.contains("currency") && refused.contains("timezone"), "{refused}");
    // With two orgs, a command that acts in one must name it.
    let ambiguous = run(&["token", "create", "--email", "ops@example.com"], &db, "");
    assert!(String::from_utf8_lossy(&ambiguous.stderr).contains("--org"), "{}", String::from_utf8_lossy(&ambiguous.stderr));
    let added = run(&["user", "add", "--org", &org, "--email", "sam@sunrise.example", "--name", "Sam Sun", "--role", "owner"], &db, "a long enough password\n");
    assert!(added.status.success(), "{}", String::from_utf8_lossy(&added.stderr));
    let token = stdout(&run(&["token", "create", "--org", "Sunrise Pool Care", "--email", "sam@sunrise.example"], &db, "")).trim().to_owned();
    assert!(token.starts_with("dsr_"), "{token}");
    let listed = stdout(&run(&["org", "list"], &db, ""));
    assert!(listed.contains("My Business") && listed.contains(&format!("{org}\tSunrise Pool Care\tUSD\tAmerica/New_York")), "{listed}");

    let port = free_port();
    let mut server = serve(&db, port);
    let json = |path: &str, body: &str| {
        let (status, answer) = http(port, "POST", path, &token, "application/json", body.as_bytes());
        assert!(status < 300, "{path}: {status} {}", String::from_utf8_lossy(&answer));
    };
    json("/api/v1/customers", r#"{"family_name": "Rivera", "given_name": "Ana"}"#);
    // 16:00 UTC on 1 July is noon in New York.
    json(
        "/api/v1/jobs",
        r#"{"customer": "CUS-00001", "title": "Pool opening", "scheduled_start": "2026-07-01T16:00:00Z", "scheduled_end": "2026-07-01T18:00:00Z"}"#,
    );
    json(
        "/api/v1/invoices",
        r#"{"customer": "CUS-00001", "lines": [{"description": "Pool opening", "unit_price": 123450}], "issue": true, "issue_date": "2026-07-01"}"#,
    );
    // Each org sees its own customers only.
    let (_, theirs) = http_get(port, "/api/v1/customers", Some(&british));
    assert!(theirs.contains("\"items\":[]"), "{theirs}");

    let signed_in = http_raw(
        port,
        "POST",
        "/api/v1/session",
        &[("Content-Type", "application/json")],
        r#"{"email": "sam@sunrise.example", "password": "a long enough password"}"#,
    );
    let cookie = signed_in.lines().find_map(|l| l.strip_prefix("set-cookie: ")).and_then(|c| c.split(';').next()).expect(&signed_in).to_owned();
    let page = |path: &str| http_raw(port, "GET", path, &[("Cookie", &cookie)], "");
    let invoice = page("/invoices/INV-00001");
    assert!(invoice.contains("$1,234.50") && invoice.contains("07/01/2026"), "{invoice}");
    let job = page("/jobs/BOK-00001");
    assert!(job.contains("07/01/2026 12:00 – 07/01/2026 14:00"), "{job}");
    Command::new("kill").arg("-TERM").arg(server.id().to_string()).status().unwrap();
    server.wait().unwrap();

    let pdf = dir.path().join("invoice.pdf");
    let written = run(&["document", "invoice", "INV-00001", "--org", &org, "--output", pdf.to_str().unwrap()], &db, "");
    assert!(written.status.success(), "{}", String::from_utf8_lossy(&written.stderr));
    let text = pdf_text(&pdf);
    for expected in ["Sunrise Pool Care", "1420 Ocean Ave", "$1,234.50", "07/01/2026", "07/31/2026"] {
        assert!(text.contains(expected), "{expected} in {text}");
    }
    let statement = dir.path().join("statement.pdf");
    let written = run(&["statement", "CUS-00001", "--org", &org, "--as-of", "2026-07-02", "--output", statement.to_str().unwrap()], &db, "");
    assert!(written.status.success(), "{}", String::from_utf8_lossy(&written.stderr));
    let text = pdf_text(&statement);
    assert!(text.contains("$1,234.50") && text.contains("07/02/2026"), "{text}");
}

/// `dossier serve` with a worker that claims 10 tasks at a time and holds
/// them for 5 seconds, with `env` set.
fn serve_with_worker(db: &Path, port: u16, env: &[(&str, &str)]) -> std::process::Child {
    let args = ["serve", "--listen", &format!("127.0.0.1:{port}"), "--worker-batch", "10", "--worker-lease-secs", "5", "--worker-poll-ms", "100"];
    let server = dossier(&args, db).envs(env.iter().copied()).stdout(Stdio::null()).stderr(Stdio::null()).spawn().unwrap();
    let started = Instant::now();
    while TcpStream::connect(("127.0.0.1", port)).is_err() {
        assert!(started.elapsed() < Duration::from_secs(30), "server did not start");
        std::thread::sleep(Duration::from_millis(50));
    }
    server
}

/// Read `read` every 50 ms until `done` holds for every value it gives;
/// fails with `what` once `limit` has passed since `since`.
async fn until_all<K, V, F, Fut>(since: Instant, limit: Duration, what: &str, mut read: F, done: impl Fn(&V) -> bool) -> std::collections::HashMap<K, V>
where
    F: FnMut() -> Fut,
    Fut: std::future::Future<Output = std::collections::HashMap<K, V>>,
{
    loop {
        let now = read().await;
        if now.values().all(&done) {
            return now;
        }
        assert!(since.elapsed() < limit, "{what}");
        tokio::time::sleep(Duration::from_millis(50)).await;
    }
}

/// This test's tasks by id: status and attempts.
async fn crash_tasks(db: &Db, org: uuid::Uuid) -> std::collections::HashMap<uuid::Uuid, (String, i32)> {
    let mut conn = db.read().await.unwrap();
    let rows = dossier_store::queries::list_tasks(&mut conn.handle(), org, None, None, 100_000).await.unwrap();
    rows.into_iter().filter(|r| r.payload.contains("crash_test")).map(|r| (r.id, (r.status, r.attempts))).collect()
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_server_killed_while_tasks_run_finishes_every_task_after_restart_and_reruns_only_those_it_held() {
    use dossier_service::tasks::{self, NewTask, TaskKind};
    const TASKS: usize = 3000;
    let dir = tempfile::tempdir().unwrap();
    let db_path = dir.path().join("data/dossier.db");
    set_up(&db_path);
    let db = Db::connect(db_path.to_str().unwrap()).await.unwrap();
    let org = dossier_service::orgs::list(&db).await.unwrap().remove(0);
    let ctx = dossier_service::Ctx::system(org.clone(), "Test");
    let mut tx = db.begin().await.unwrap();
    for n in 0..TASKS {
        let payload = serde_json::json!({ "day": ctx.today().to_string(), "crash_test": n });
        let new = NewTask { kind: TaskKind::ExpireQuotes, payload, run_at: jiff::Timestamp::now(), dedupe_key: None, max_attempts: None };
        tasks::enqueue_in(&mut tx, &ctx, new).await.unwrap().unwrap();
    }
    tx.commit().await.unwrap();

    let port = free_port();
    let mut server = serve_with_worker(&db_path, port, &[]);
    let started = Instant::now();
    loop {
        let done = crash_tasks(&db, org.id.0).await.values().filter(|(status, _)| status == "done").count();
        if done >= TASKS / 6 {
            break;
        }
        assert!(started.elapsed() < Duration::from_secs(60), "the worker did not get going ({done} done)");
        tokio::time::sleep(Duration::from_millis(10)).await;
    }
    server.kill().unwrap(); // SIGKILL: no shutdown of any kind
    server.wait().unwrap();

    let at_kill = crash_tasks(&db, org.id.0).await;
    let held: Vec<uuid::Uuid> = at_kill.iter().filter(|(_, (status, _))| status == "running").map(|(id, _)| *id).collect();
    let done_at_kill = at_kill.values().filter(|(status, _)| status == "done").count();
    assert!(done_at_kill < TASKS, "the kill came after every task was done; nothing was tested");
    assert!(at_kill.values().all(|(status, attempts)| (status == "queued") == (*attempts == 0)));

    let restarted = Instant::now();
    let mut server = serve_with_worker(&db_path, port, &[]);
    let after = until_all(
        restarted,
        Duration::from_secs(120),
        "not every task finished after the restart",
        || crash_tasks(&db, org.id.0),
        |(status, _)| status == "done",
    )
    .await;
    let finished_in = restarted.elapsed();
    Command::new("kill").arg("-TERM").arg(server.id().to_string()).status().unwrap();
    assert!(server.wait().unwrap().success(), "the server stops cleanly, worker and all");

    assert_eq!(after.len(), TASKS);
    // Each attempt is counted when a worker claims the task: only those the
    // dead server held (their lease was lost) were claimed a second time.
    for (id, (_, attempts)) in &after {
        let expected = if held.contains(id) { 2 } else { 1 };
        assert_eq!(*attempts, expected, "task {id}: {attempts} attempts");
    }
    eprintln!(
        "kill -9 after {done_at_kill} of {TASKS} tasks were done; the dead server held {} (its claimed batch); after the restart all {TASKS} were done in {finished_in:?} \
         (the held ones once their 5 s lease ran out); {} tasks ran a second attempt, every other exactly one",
        held.len(),
        after.values().filter(|(_, attempts)| *attempts > 1).count()
    );
    db.close().await;
}

/// Each queued email's delivery state, by its Message-ID.
async fn email_states(db: &Db, org: uuid::Uuid, customer: uuid::Uuid) -> std::collections::HashMap<String, String> {
    let mut conn = db.read().await.unwrap();
    let filter = dossier_store::MessageFilter { customer_id: Some(customer), ..Default::default() };
    let rows = dossier_store::queries::list_messages(&mut conn.handle(), org, &filter, None, 10_000).await.unwrap();
    rows.into_iter().filter_map(|r| Some((r.email_message_id.clone()?, r.delivery_status.clone().unwrap_or_default()))).collect()
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_server_killed_while_emails_go_out_sends_every_one_after_restart_and_a_repeat_carries_the_same_message_id() {
    use dossier_service::sending::email::{self, EmailOutcome};
    const EMAILS: usize = 300;
    let Some(sink) = smtp::SmtpSink::start() else { return };
    let dir = tempfile::tempdir().unwrap();
    let db_path = dir.path().join("data/dossier.db");
    set_up(&db_path);
    let db = Db::connect(db_path.to_str().unwrap()).await.unwrap();
    let org = dossier_service::orgs::list(&db).await.unwrap().remove(0);
    let ctx = dossier_service::Ctx::system(org.clone(), "Test");
    let smtp = format!("smtp://127.0.0.1:{}?tls=none&from=Office%20<office@test.example>", sink.port);
    let server = dossier_service::sending::smtp::MailServer::from_url(&smtp).unwrap();
    let input: dossier_domain::customer::CustomerInput = serde_json::from_value(serde_json::json!({"family_name": "Lee", "email": "ann@lee.example"})).unwrap();
    let customer = dossier_service::customers::create_customer(&db, &ctx, input).await.unwrap();
    for n in 0..EMAILS {
        let input = serde_json::from_value(serde_json::json!({"to": ["ann@lee.example"], "subject": format!("Note {n}"), "body": "Hello"})).unwrap();
        let queued = email::compose(&db, &ctx, Some(&server), "CUS-00001", input).await.unwrap();
        assert!(matches!(queued, EmailOutcome::Queued(_)));
    }

    let port = free_port();
    let mut running = serve_with_worker(&db_path, port, &[("DOSSIER_SMTP_URL", &smtp)]);
    let started = Instant::now();
    while sink.messages().len() < EMAILS / 6 {
        assert!(started.elapsed() < Duration::from_secs(60), "the worker did not get going");
        tokio::time::sleep(Duration::from_millis(10)).await;
    }
    running.kill().unwrap(); // SIGKILL, in the middle of sending
    running.wait().unwrap();
    let arrived_at_kill = sink.messages().len();
    let at_kill = email_states(&db, org.id.0, customer.id.0).await;
    let sent_at_kill = at_kill.values().filter(|s| *s == "sent").count();
    assert!(sent_at_kill < EMAILS, "the kill came after every email was sent; nothing was tested");

    let restarted = Instant::now();
    let mut running = serve_with_worker(&db_path, port, &[("DOSSIER_SMTP_URL", &smtp)]);
    let read = || email_states(&db, org.id.0, customer.id.0);
    let after = until_all(restarted, Duration::from_secs(120), "not every email was sent after the restart", read, |s| s == "sent").await;
    Command::new("kill").arg("-TERM").arg(running.id().to_string()).status().unwrap();
    assert!(running.wait().unwrap().success());

    assert_eq!(after.len(), EMAILS);
    let mail = sink.messages();
    let mut seen: std::collections::HashMap<String, usize> = std::collections::HashMap::new();
    for m in &mail {
        *seen.entry(m.message_id.clone().expect("every email has a Message-ID")).or_default() += 1;
    }
    // Every queued email arrived; one that arrived twice (sent, then its
    // worker killed before it wrote "sent") is the same email: same Message-ID.
    assert_eq!(seen.len(), EMAILS, "each email arrived, under the Message-ID fixed when it was queued");
    assert!(seen.keys().all(|id| after.contains_key(id)), "nothing arrived that was not queued");
    let twice = seen.values().filter(|n| **n > 1).count();
    assert!(seen.values().all(|n| *n <= 2));
    eprintln!(
        "kill -9 after {arrived_at_kill} of {EMAILS} emails had arrived ({sent_at_kill} recorded as sent); after the restart all {EMAILS} were sent; \
         {twice} arrived twice with the same Message-ID (accepted by the server just before the kill, not yet recorded as sent)"
    );
    db.close().await;
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn dossier_worker_runs_the_queued_tasks_on_its_own_and_stops_on_sigterm() {
    let dir = tempfile::tempdir().unwrap();
    let db_path = dir.path().join("data/dossier.db");
    set_up(&db_path);
    let db = Db::connect(db_path.to_str().unwrap()).await.unwrap();
    let org = dossier_service::orgs::list(&db).await.unwrap().remove(0);
    let status_of_first_run = || async {
        let mut conn = db.read().await.unwrap();
        let rows = dossier_store::queries::list_tasks(&mut conn.handle(), org.id.0, None, None, 10).await.unwrap();
        rows.into_iter().map(|r| (r.dedupe_key.unwrap_or_default(), r.status)).collect::<Vec<_>>()
    };
    // The org's first daily runs (quote expiry, the purge of deleted
    // customers, the daily sends) were queued when `user add` made it.
    assert_eq!(status_of_first_run().await.len(), 3);
    let worker = dossier(&["worker", "--worker-poll-ms", "100"], &db_path).stdout(Stdio::null()).stderr(Stdio::piped()).spawn().unwrap();
    let started = Instant::now();
    let tasks = loop {
        let tasks = status_of_first_run().await;
        if tasks.iter().filter(|(_, status)| status == "done").count() == 3 {
            break tasks;
        }
        assert!(started.elapsed() < Duration::from_secs(30), "the worker never ran the first daily runs: {tasks:?}");
        tokio::time::sleep(Duration::from_millis(50)).await;
    };
    // Done, and the next day's runs queued.
    assert_eq!(tasks.iter().filter(|(_, status)| status == "queued").count(), 3, "{tasks:?}");
    Command::new("kill").arg("-TERM").arg(worker.id().to_string()).status().unwrap();
    let output = worker.wait_with_output().unwrap();
    assert!(output.status.success(), "{}", String::from_utf8_lossy(&output.stderr));
    db.close().await;
}

/// A fresh PostgreSQL database of its own on the test server, and its URL;
/// `None` (and a note) when no server is configured.
async fn fresh_postgres_database() -> Option<(String, String)> {
    let Some(url) = std::env::var("DOSSIER_TEST_POSTGRES_URL").ok().filter(|u| !u.is_empty()) else {
        eprintln!("skipped: DOSSIER_TEST_POSTGRES_URL is not set, so this PostgreSQL test did not run");
        return None;
    };
    let name = format!("dossier_cli_{}", uuid::Uuid::new_v4().simple());
    let admin = Db::connect(&url).await.expect("connect to PostgreSQL");
    admin.execute_raw(&format!("CREATE DATABASE {name}")).await.expect("create database");
    admin.close().await;
    let base = url.rsplit_once('/').map_or(url.as_str(), |(base, _)| base).to_owned();
    Some((format!("{base}/{name}"), name))
}

async fn drop_postgres_database(name: &str) {
    let url = std::env::var("DOSSIER_TEST_POSTGRES_URL").unwrap();
    let admin = Db::connect(&url).await.unwrap();
    admin.execute_raw(&format!("DROP DATABASE IF EXISTS {name} WITH (FORCE)")).await.ok();
    admin.close().await;
}

/// `dossier worker` on a database URL: claims `batch` tasks at a time, holds them 5 s.
fn worker_process(url: &str, batch: u32) -> std::process::Child {
    Command::new(env!("CARGO_BIN_EXE_dossier"))
        .args(["worker", "--db", url, "--worker-batch", &batch.to_string(), "--worker-lease-secs", "5", "--worker-poll-ms", "50"])
        .env_remove("DOSSIER_DATABASE_URL")
        .env("DOSSIER_LOG", "warn")
        .stdout(Stdio::null())
        .stderr(Stdio::null())
        .spawn()
        .unwrap()
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn several_worker_processes_on_postgresql_never_run_a_task_twice_and_a_kill_9_loses_none() {
    use dossier_service::tasks::{self, NewTask, TaskKind};
    const TASKS: usize = 3000;
    let Some((url, name)) = fresh_postgres_database().await else { return };
    let db = Db::connect(&url).await.unwrap();
    db.migrate().await.unwrap();
    let org = dossier_service::orgs::single_or_create(&db, "Kill Test", "GB").await.unwrap();
    let ctx = dossier_service::Ctx::system(org.clone(), "Test");
    let mut tx = db.begin().await.unwrap();
    for n in 0..TASKS {
        let payload = serde_json::json!({ "day": ctx.today().to_string(), "crash_test": n });
        let new = NewTask { kind: TaskKind::ExpireQuotes, payload, run_at: jiff::Timestamp::now(), dedupe_key: None, max_attempts: None };
        tasks::enqueue_in(&mut tx, &ctx, new).await.unwrap().unwrap();
    }
    tx.commit().await.unwrap();

    // Three worker processes claim from the same queue at once; the first
    // (the one to be killed) claims 100 at a time, so it is nearly always
    // holding some.
    let workers: Vec<std::process::Child> = (0..2).map(|_| worker_process(&url, 10)).collect();
    let held_by = |pid: u32| {
        let db = &db;
        let org = org.id.0;
        async move {
            let mut conn = db.read().await.unwrap();
            let rows = dossier_store::queries::list_tasks(&mut conn.handle(), org, Some(dossier_domain::tasks::TaskStatus::Running), None, 1000).await.unwrap();
            rows.into_iter().filter(|r| r.held_by.as_deref().is_some_and(|w| w.starts_with(&format!("{pid}-")))).map(|r| r.id).collect::<Vec<_>>()
        }
    };
    let started = Instant::now();
    // Kill a worker that holds tasks, without any shutdown; should it have
    // ended its batch in the instant before the kill, start another and
    // try again.
    let mut held_at_kill = Vec::new();
    let mut kills = 0;
    while held_at_kill.is_empty() {
        assert!(kills < 5, "five workers in a row were killed between batches");
        let mut victim = worker_process(&url, 100);
        loop {
            let done = crash_tasks(&db, org.id.0).await.values().filter(|(status, _)| status == "done").count();
            if done >= TASKS / 4 && !held_by(victim.id()).await.is_empty() {
                break;
            }
            assert!(started.elapsed() < Duration::from_secs(90), "the workers did not get going ({done} done)");
            tokio::time::sleep(Duration::from_millis(5)).await;
        }
        victim.kill().unwrap();
        victim.wait().unwrap();
        held_at_kill = held_by(victim.id()).await;
        kills += 1;
    }
    let at_kill = crash_tasks(&db, org.id.0).await;
    let running_at_kill = at_kill.values().filter(|(status, _)| status == "running").count();
    let done_at_kill = at_kill.values().filter(|(status, _)| status == "done").count();
    assert!(done_at_kill < TASKS, "every task was done before the kill; nothing was tested");

    let after =
        until_all(started, Duration::from_secs(180), "not every task finished after the kill", || crash_tasks(&db, org.id.0), |(status, _)| status == "done")
            .await;
    let finished_in = started.elapsed();
    for mut worker in workers {
        Command::new("kill").arg("-TERM").arg(worker.id().to_string()).status().unwrap();
        assert!(worker.wait().unwrap().success(), "a worker stops cleanly on SIGTERM");
    }

    assert_eq!(after.len(), TASKS);
    // A task is claimed by one worker at a time (FOR UPDATE SKIP LOCKED):
    // only those the killed worker held (running at the kill, their lease
    // lost) were claimed a second time; every other exactly once.
    let twice: Vec<&uuid::Uuid> = after.iter().filter(|(_, (_, attempts))| *attempts > 1).map(|(id, _)| id).collect();
    for id in &twice {
        assert!(held_at_kill.contains(id), "task {id} ran twice but the killed worker did not hold it");
        assert_eq!(after[*id].1, 2);
    }
    // What the killed worker held was taken over once its lease ran out.
    assert_eq!(twice.len(), held_at_kill.len(), "each task the killed worker held ran a second time");
    eprintln!(
        "3 worker processes on PostgreSQL ({kills} killed); kill -9 of one after {done_at_kill} of {TASKS} tasks were done, {running_at_kill} running then, {} of them held by \
         the killed one; all {TASKS} done {finished_in:?} after the start; {} ran a second attempt (the killed worker's, after its 5 s lease), every other exactly one",
        held_at_kill.len(),
        twice.len()
    );
    db.close().await;
    drop_postgres_database(&name).await;
}

#[test]
fn serve_and_worker_refuse_a_public_url_that_links_cannot_start_with() {
    let dir = tempfile::tempdir().unwrap();
    let db = dir.path().join("dossier.db");
    for command in ["serve", "worker"] {
        for bad in ["ftp://crm.example.com", "https://crm.example.com/?org=1", "crm.example.com"] {
            let output = run(&[command, "--public-url", bad], &db, "");
            assert!(!output.status.success(), "{command} started with {bad}");
            let error = String::from_utf8_lossy(&output.stderr);
            assert!(error.contains("--public-url"), "{command} {bad}: {error}");
        }
    }
    assert!(!db.exists(), "refused before the database is opened");
}

#[test]
fn an_operator_checks_a_file_then_imports_it_and_importing_it_again_creates_nothing() {
    let dir = tempfile::tempdir().unwrap();
    let db = dir.path().join("dossier.db");
    let added = run(&["user", "add", "--email", "ops@example.com", "--name", "Olu Ops", "--role", "admin"], &db, "a long enough password\n");
    assert!(added.status.success(), "{}", String::from_utf8_lossy(&added.stderr));
    let file = dir.path().join("clients.csv");
    std::fs::write(&file, "Name,Email,Phone\nAnn Lee,ann@example.com,07911 123456\nBo,not-an-email,\n").unwrap();
    let (file, report) = (file.to_str().unwrap(), dir.path().join("report.csv"));

    let checked = run(&["import", file, "--dry-run", "--report", report.to_str().unwrap()], &db, "");
    assert!(checked.status.success(), "{}", String::from_utf8_lossy(&checked.stderr));
    assert!(stdout(&checked).contains("2 rows: would import 1, 1 invalid"), "{}", stdout(&checked));
    assert!(String::from_utf8_lossy(&checked.stderr).contains("Email                          → email"));
    let written = std::fs::read_to_string(&report).unwrap();
    assert!(written.contains("3,invalid,,Email,invalid_email,"), "{written}");

    let imported = run(&["import", file, "--by", "Olu Ops"], &db, "");
    assert!(imported.status.success(), "{}", String::from_utf8_lossy(&imported.stderr));
    assert!(stdout(&imported).contains("2 rows: imported 1, 1 invalid"), "{}", stdout(&imported));
    let again = run(&["import", file], &db, "");
    assert!(stdout(&again).contains("imported 0, 1 invalid, 0 repeated in the file, 1 imported before"), "{}", stdout(&again));
    let verified = run(&["audit", "verify"], &db, "");
    assert!(verified.status.success(), "{}", String::from_utf8_lossy(&verified.stderr));
}

#[tokio::test]
async fn a_demo_org_exported_verifies_offline_and_imports_into_another_database() {
    let dir = tempfile::tempdir().unwrap();
    let (source, target, zip) = (dir.path().join("demo.db"), dir.path().join("moved.db"), dir.path().join("demo.zip"));
    let demo = dossier(&["demo", "--customers", "15", "--seed", "5"], &source).output().unwrap();
    assert!(demo.status.success(), "{}", String::from_utf8_lossy(&demo.stderr));
    let zip_arg = zip.to_str().unwrap();
    let exported = run(&["export", "--output", zip_arg, "--org", "Demo Services"], &source, "");
    assert!(exported.status.success(), "{}{}", stdout(&exported), String::from_utf8_lossy(&exported.stderr));
    assert!(stdout(&exported).contains("exported to"), "{}", stdout(&exported));
    let verified = run(&["audit", "verify", "--export", zip_arg], &source, "");
    assert!(verified.status.success() && stdout(&verified).starts_with("OK: "), "{}", stdout(&verified));
    let loaded = run(&["import", "--export", zip_arg], &target, "");
    assert!(loaded.status.success(), "{}{}", stdout(&loaded), String::from_utf8_lossy(&loaded.stderr));
    assert!(stdout(&loaded).contains("the hash chain holds"), "{}", stdout(&loaded));
    let again = run(&["audit", "verify"], &target, "");
    assert!(again.status.success(), "{}", stdout(&again));
    let twice = run(&["import", "--export", zip_arg], &target, "");
    assert!(!twice.status.success(), "loading the same org twice is refused");
}

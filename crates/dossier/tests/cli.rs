//! The `dossier` binary as an operator uses it (SQLite).

use std::io::{Read, Write};
use std::net::TcpStream;
use std::path::Path;
use std::process::{Command, Output, Stdio};
use std::time::{Duration, Instant};

use dossier_service::Db;

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
    let written = run(&["statement", "CUS-00001", "--as-of", "2026-06-30", "-o", pdf.to_str().unwrap()], &db, "");
    assert!(written.status.success(), "{}", String::from_utf8_lossy(&written.stderr));
    let text = std::process::Command::new("pdftotext").args(["-layout", pdf.to_str().unwrap(), "-"]).output().expect("pdftotext (poppler-utils)");
    let text = String::from_utf8_lossy(&text.stdout);
    for expected in ["Statement of account", "Demo Services", "12 Canal Street", "CUS-00001", "2026-06-30", "Closing balance"] {
        assert!(text.contains(expected), "{expected} missing:\n{text}");
    }

    let missing = run(&["statement", "CUS-09999", "-o", dir.path().join("none.pdf").to_str().unwrap()], &db, "");
    assert!(!missing.status.success());
    assert!(String::from_utf8_lossy(&missing.stderr).contains("customer not found"), "{}", String::from_utf8_lossy(&missing.stderr));
    assert!(!dir.path().join("none.pdf").exists());

    // An invoice and a quote, the same way.
    for (kind, code, title) in [("invoice", "INV-00001", "Invoice"), ("quote", "EST-00001", "Quote")] {
        let out = dir.path().join(format!("{code}.pdf"));
        let written = run(&["document", kind, code, "-o", out.to_str().unwrap()], &db, "");
        assert!(written.status.success(), "{}", String::from_utf8_lossy(&written.stderr));
        let text = std::process::Command::new("pdftotext").args(["-layout", out.to_str().unwrap(), "-"]).output().expect("pdftotext (poppler-utils)");
        let text = String::from_utf8_lossy(&text.stdout);
        assert!(text.contains(title) && text.contains(code) && text.contains("Demo Services") && text.contains("Total"), "{text}");
    }
    let missing = run(&["document", "invoice", "INV-99999", "-o", dir.path().join("none.pdf").to_str().unwrap()], &db, "");
    assert!(!missing.status.success() && !dir.path().join("none.pdf").exists());
}

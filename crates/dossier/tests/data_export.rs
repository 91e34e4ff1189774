//! A full export of an org: verified offline, and loaded into another
//! database — the way from SQLite to PostgreSQL.

mod common;

use std::io::{Read, Write};

use axum::http::{Method, StatusCode};
use common::{Backend, TestApp};
use dossier_service::audit;
use dossier_service::data::export::{load_export, verify_export};
use dossier_service::demo::{self, DemoOptions};
use dossier_store::data::tables::{EXPORTED, NOT_EXPORTED};
use serde_json::json;

/// An org id as SQL of the backend.
fn id_literal(backend: Backend, id: uuid::Uuid) -> String {
    match backend {
        Backend::Sqlite => format!("X'{}'", id.simple()),
        Backend::Postgres => format!("'{id}'"),
    }
}

async fn count_of_org(app: &TestApp, table: &str, column: &str, org: uuid::Uuid) -> i64 {
    app.db.count_raw(&format!("SELECT COUNT(*) FROM {table} WHERE {column} = {}", id_literal(app.backend, org))).await.unwrap()
}

#[tokio::test]
async fn a_demo_org_moves_from_sqlite_to_postgresql_through_its_export_and_verifies_there() {
    let source = TestApp::new(Backend::Sqlite).await.unwrap();
    let options = DemoOptions { customers: 30, seed: 7, per_transaction: None, files: Some(source.files.clone()), second_org: false };
    let demo = demo::load(&source.db, options, |_| {}).await.unwrap();
    let org = demo.org.id.0;
    // An erased customer: its tombstones travel and still verify.
    let (status, erased) = source.call_as(Some(&demo.api_token), Method::POST, "/customers/CUS-00003/erasure", Some(json!({"reason": "Request ER-1"}))).await;
    assert_eq!(status, StatusCode::OK, "{erased}");

    let dir = tempfile::tempdir().unwrap();
    let path = dir.path().join("demo.zip");
    let manifest = dossier_service::data::export::export_org(&source.db, &source.files.blobs, demo.org.id, &path).await.unwrap();
    assert!(manifest.files.len() >= 3 && manifest.missing_files.is_empty(), "the demo's photos travel: {:?}", manifest.files.len());
    let offline = verify_export(&path, |_| {}).unwrap();
    assert_eq!(offline.first_bad, None);
    assert_eq!(offline.rows_checked as i64, manifest.chain.seq);

    let Some(target) = TestApp::new(Backend::Postgres).await else { return };
    let loaded = load_export(&target.db, &target.files.blobs, &path, |_, _| {}).await.unwrap();
    assert_eq!(loaded.org_id, org);
    let report = audit::verify_orgs(&target.db, Some(demo.org.id), |_| {}).await.unwrap();
    assert_eq!(report.first_bad, None, "the chain verifies on PostgreSQL");
    assert_eq!(report.rows_checked as i64, manifest.chain.seq);

    // Every table holds the same rows.
    for (table, column) in EXPORTED.iter().copied() {
        assert_eq!(count_of_org(&source, table, column, org).await, count_of_org(&target, table, column, org).await, "{table}");
    }
    // The status bars, left out of the export, were rebuilt by the target's
    // triggers: the same counts, totals and balances (the source also keeps
    // emptied ones).
    for sum in ["count", "total", "balance"] {
        let sql = |backend| format!("SELECT CAST(COALESCE(SUM({sum}), 0) AS BIGINT) FROM customer_bar WHERE org_id = {}", id_literal(backend, org));
        let here = source.db.count_raw(&sql(Backend::Sqlite)).await.unwrap();
        assert_eq!(target.db.count_raw(&sql(Backend::Postgres)).await.unwrap(), here, "customer_bar {sum}");
    }
    let bars = |backend| format!("SELECT COUNT(*) FROM customer_bar WHERE count > 0 AND org_id = {}", id_literal(backend, org));
    assert_eq!(target.db.count_raw(&bars(Backend::Postgres)).await.unwrap(), source.db.count_raw(&bars(Backend::Sqlite)).await.unwrap());
    // The same answers from the API, with the same token, on the other side.
    for path in [
        "/customers?limit=50",
        "/customers/CUS-00001/summary",
        "/customers/CUS-00001/timeline?limit=100",
        "/customers/CUS-00003/timeline",
        "/invoices?limit=50",
    ] {
        let (status, there) = target.call_as(Some(&demo.api_token), Method::GET, path, None).await;
        let (_, here) = source.call_as(Some(&demo.api_token), Method::GET, path, None).await;
        assert_eq!(status, StatusCode::OK, "{path}: {there}");
        assert_eq!(there, here, "{path}");
    }
    let (_, files) = target.call_as(Some(&demo.api_token), Method::GET, "/customers/CUS-00001/files", None).await;
    if let Some(file) = files["items"].as_array().and_then(|f| f.first()) {
        let (status, _, bytes) = target
            .fetch(&format!("/api/v1/files/{}/content", file["id"].as_str().unwrap()), Some(("authorization", &format!("Bearer {}", demo.api_token))))
            .await;
        assert_eq!(status, StatusCode::OK);
        assert_eq!(bytes.len() as u64, file["size"].as_u64().unwrap());
    }

    // Loading it twice is refused and changes nothing.
    let again = load_export(&target.db, &target.files.blobs, &path, |_, _| {}).await.expect_err("the org is there already");
    assert!(again.to_string().contains("already holds the org"), "{again}");
}

/// A copy of the export at `from` with `edit` applied to one entry's text.
fn rewrite(from: &std::path::Path, to: &std::path::Path, entry: &str, edit: impl Fn(String) -> String) {
    let mut archive = zip::ZipArchive::new(std::fs::File::open(from).unwrap()).unwrap();
    let mut out = zip::ZipWriter::new(std::fs::File::create(to).unwrap());
    for i in 0..archive.len() {
        let mut file = archive.by_index(i).unwrap();
        let name = file.name().unwrap().to_string();
        let mut bytes = Vec::new();
        file.read_to_end(&mut bytes).unwrap();
        if name == entry {
            bytes = edit(String::from_utf8(bytes).unwrap()).into_bytes();
        }
        out.start_file(name, zip::write::SimpleFileOptions::default()).unwrap();
        out.write_all(&bytes).unwrap();
    }
    out.finish().unwrap();
}

both_backends!(an_altered_export_fails_its_offline_verification, |app| {
    app.customer(json!({"family_name": "Lee"})).await;
    app.patch("/customers/CUS-00001", json!({"given_name": "Ann"})).await;
    app.post("/customers/CUS-00001/messages", json!({"channel": "note", "body": "Prefers mornings"})).await;
    let dir = tempfile::tempdir().unwrap();
    let path = dir.path().join("org.zip");
    let manifest = dossier_service::data::export::export_org(&app.db, &app.files.blobs, app.org.id, &path).await.unwrap();
    assert_eq!(verify_export(&path, |_| {}).unwrap().first_bad, None);
    let customers = manifest.tables.iter().find(|t| t.name == "customer").unwrap();
    assert_eq!(customers.rows, 1);

    let altered = dir.path().join("altered.zip");
    rewrite(&path, &altered, "tables/activity.jsonl", |text| text.replace("Prefers mornings", "Never call"));
    let bad = verify_export(&altered, |_| {}).unwrap().first_bad.expect("an altered row is detected");
    assert!(bad.reason.contains("content was altered"), "{}", bad.reason);

    let cut = dir.path().join("cut.zip");
    rewrite(&path, &cut, "tables/activity.jsonl", |text| {
        let mut lines: Vec<&str> = text.lines().collect();
        lines.pop();
        lines.join("\n") + "\n"
    });
    let bad = verify_export(&cut, |_| {}).unwrap().first_bad.expect("a removed row is detected");
    assert!(bad.reason.contains("rows"), "{}", bad.reason);

    let not_zip = dir.path().join("not.zip");
    std::fs::write(&not_zip, b"hello").unwrap();
    let error = verify_export(&not_zip, |_| {}).expect_err("not an export");
    assert!(error.to_string().contains("not a Dossier export"), "{error}");
});

both_backends!(the_export_names_every_table_of_the_schema_or_says_why_not, |app| {
    let mut conn = app.db.read().await.unwrap();
    let tables = dossier_store::data::tables::table_names(&mut conn.handle()).await.unwrap();
    let listed: Vec<&str> = EXPORTED.iter().chain(NOT_EXPORTED).map(|(t, _)| *t).collect();
    for table in &tables {
        assert!(listed.contains(&table.as_str()), "table {table} is neither exported nor said not to be");
    }
    for table in &listed {
        assert!(tables.iter().any(|t| t == table), "{table} is listed but not in the schema");
    }
    // Every binary column is known: a UUID unless listed as bytes.
    for (table, _) in EXPORTED {
        let columns = dossier_store::data::tables::columns(&mut conn.handle(), table).await.unwrap();
        assert!(columns.iter().any(|c| c.name == "org_id" || (*table == "org" && c.name == "id")), "{table}");
    }
});

both_backends!(owners_and_admins_download_the_export_from_the_api_and_the_admin_page, |app| {
    app.customer(json!({"family_name": "Lee"})).await;
    let bearer = format!("Bearer {}", app.token);
    let (status, headers, bytes) = app.fetch("/api/v1/org/export", Some(("authorization", &bearer))).await;
    assert_eq!(status, StatusCode::OK);
    assert_eq!(headers["content-type"], "application/zip");
    let dir = tempfile::tempdir().unwrap();
    let path = dir.path().join("download.zip");
    std::fs::write(&path, &bytes).unwrap();
    let report = verify_export(&path, |_| {}).unwrap();
    assert_eq!(report.first_bad, None);
    assert!(report.rows_checked >= 2);

    let (_, office) = app.user("office").await;
    let (status, _) = app.call_as(Some(&office), Method::GET, "/org/export", None).await;
    assert_eq!(status, StatusCode::FORBIDDEN);

    let admin = app.session("admin").await;
    let (_, page) = app.page(Some(&admin), "/admin").await;
    assert!(page.contains("/settings/export.zip"), "the admin page links the export");
    let (status, headers, bytes) = app.fetch("/settings/export.zip", Some(("cookie", &admin))).await;
    assert_eq!(status, StatusCode::OK);
    assert!(headers["content-disposition"].to_str().unwrap().starts_with("attachment"));
    std::fs::write(&path, &bytes).unwrap();
    assert_eq!(verify_export(&path, |_| {}).unwrap().first_bad, None);
});

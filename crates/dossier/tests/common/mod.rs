//! The world each integration test runs in: a fresh database (a temporary
//! SQLite file, or a fresh PostgreSQL schema), migrated, with an org, an
//! admin and an API token, and the real router to call.
#![allow(dead_code)]

pub mod smtp;

use axum::body::Body;
use axum::http::{Method, Request, StatusCode};
use dossier_service::{Ctx, Db, Org, orgs, users};
use http_body_util::BodyExt;
use serde_json::{Value, json};
use tower::ServiceExt;

#[derive(Clone, Copy, Debug)]
pub enum Backend {
    Sqlite,
    Postgres,
}

/// The PostgreSQL server tests use, if any.
pub fn postgres_url() -> Option<String> {
    std::env::var("DOSSIER_TEST_POSTGRES_URL").ok().filter(|u| !u.is_empty())
}

/// Every test user's password.
pub const PASSWORD: &str = "correct horse battery";

pub struct TestApp {
    pub db: Db,
    pub router: axum::Router,
    pub org: Org,
    pub token: String,
    pub backend: Backend,
    /// The blob store uploads go to (a folder of the test's own).
    pub files: dossier_service::files::Files,
    pub files_dir: std::path::PathBuf,
    _dir: Option<tempfile::TempDir>,
    _files_dir: tempfile::TempDir,
}

impl TestApp {
    /// A fresh, migrated database of `backend`; `None` (and a note on
    /// stderr) when that backend is not available here.
    pub async fn new(backend: Backend) -> Option<TestApp> {
        let (db, dir) = match backend {
            Backend::Sqlite => {
                let dir = tempfile::tempdir().expect("temp dir");
                let db = Db::connect(dir.path().join("test.db").to_str().unwrap()).await.expect("open sqlite");
                (db, Some(dir))
            }
            Backend::Postgres => {
                let Some(url) = postgres_url() else {
                    eprintln!("skipped: DOSSIER_TEST_POSTGRES_URL is not set, so this PostgreSQL test did not run");
                    return None;
                };
                let schema = format!("t_{}", uuid::Uuid::new_v4().simple());
                let admin = Db::connect(&url).await.expect("connect to PostgreSQL");
                admin.execute_raw(&format!("CREATE SCHEMA {schema}")).await.expect("create schema");
                admin.close().await;
                (Db::connect_postgres_schema(&url, &schema).await.expect("connect to schema"), None)
            }
        };
        db.migrate().await.expect("migrate");
        let files_dir = tempfile::tempdir().expect("temp dir");
        let files = dossier_service::files::Files::open(files_dir.path(), None, &[]).expect("file store");
        let mut app = TestApp {
            router: dossier_web::app(dossier_web::AppState::new(db.clone(), files.clone())),
            org: placeholder_org(),
            token: String::new(),
            db,
            backend,
            files,
            files_dir: files_dir.path().to_owned(),
            _dir: dir,
            _files_dir: files_dir,
        };
        let (org, token) = app.add_org("Test Services", "admin@test.example").await;
        app.org = org;
        app.token = token;
        Some(app)
    }

    /// The same app keeping its files in `files` (another blob store).
    pub fn with_files(mut self, files: dossier_service::files::Files) -> Self {
        self.router = dossier_web::app(dossier_web::AppState::new(self.db.clone(), files.clone()));
        self.files = files;
        self
    }

    /// Another org in the same database, with its own admin and token.
    pub async fn add_org(&self, name: &str, admin_email: &str) -> (Org, String) {
        let mut tx = self.db.begin().await.unwrap();
        let org =
            orgs::create_org_in(&mut tx, &orgs::NewOrg::british(name, &["1 Test Street", "Leeds LS1 1AA"]), "Test", jiff::Timestamp::now()).await.unwrap();
        let ctx = Ctx::system(org.clone(), "Test");
        let new_user = users::NewUser { email: admin_email.into(), name: "Ada Admin".into(), role: "admin".into(), password: PASSWORD.into() };
        users::add_user_in(&mut tx, &ctx, new_user).await.unwrap();
        let token = dossier_service::tokens::create_token_in(&mut tx, &ctx, admin_email, "tests").await.unwrap();
        tx.commit().await.unwrap();
        (org, token.token)
    }

    pub fn ctx(&self) -> Ctx {
        Ctx::system(self.org.clone(), "Test")
    }

    /// Call the API as this org's admin.
    pub async fn call(&self, method: Method, path: &str, body: Option<Value>) -> (StatusCode, Value) {
        self.call_as(Some(&self.token), method, path, body).await
    }

    pub async fn get(&self, path: &str) -> (StatusCode, Value) {
        self.call(Method::GET, path, None).await
    }

    pub async fn post(&self, path: &str, body: Value) -> (StatusCode, Value) {
        self.call(Method::POST, path, Some(body)).await
    }

    pub async fn patch(&self, path: &str, body: Value) -> (StatusCode, Value) {
        self.call(Method::PATCH, path, Some(body)).await
    }

    pub async fn put(&self, path: &str, body: Value) -> (StatusCode, Value) {
        self.call(Method::PUT, path, Some(body)).await
    }

    pub async fn delete(&self, path: &str) -> (StatusCode, Value) {
        self.call(Method::DELETE, path, None).await
    }

    /// Call the API with `token` (or none); returns the status and the JSON body
    /// (`Null` when empty). Problem documents must carry their content type.
    pub async fn call_as(&self, token: Option<&str>, method: Method, path: &str, body: Option<Value>) -> (StatusCode, Value) {
        let mut request = Request::builder().method(method).uri(format!("/api/v1{path}"));
        if let Some(token) = token {
            request = request.header("authorization", format!("Bearer {token}"));
        }
        let request = match body {
            Some(body) => request.header("content-type", "application/json").body(Body::from(body.to_string())),
            None => request.body(Body::empty()),
        }
        .unwrap();
        let response = self.router.clone().oneshot(request).await.unwrap();
        let status = response.status();
        let content_type = response.headers().get("content-type").map(|v| v.to_str().unwrap().to_owned());
        let bytes = response.into_body().collect().await.unwrap().to_bytes();
        let json = if bytes.is_empty() {
            Value::Null
        } else {
            serde_json::from_slice(&bytes).unwrap_or_else(|_| Value::String(String::from_utf8_lossy(&bytes).into()))
        };
        if status.is_client_error() || status.is_server_error() {
            assert_eq!(content_type.as_deref(), Some("application/problem+json"), "{status} without a problem document: {json}");
            assert!(json["code"].is_string(), "problem without a code: {json}");
        }
        (status, json)
    }

    /// Send a request as built (headers, cookies, connection info) to `router`;
    /// returns the status, headers and JSON body (`Null` when empty).
    pub async fn send(router: &axum::Router, request: Request<Body>) -> (StatusCode, axum::http::HeaderMap, Value) {
        let response = router.clone().oneshot(request).await.unwrap();
        let (status, headers) = (response.status(), response.headers().clone());
        let bytes = response.into_body().collect().await.unwrap().to_bytes();
        let json = if bytes.is_empty() {
            Value::Null
        } else {
            serde_json::from_slice(&bytes).unwrap_or_else(|_| Value::String(String::from_utf8_lossy(&bytes).into()))
        };
        (status, headers, json)
    }

    /// The kinds of every activity of `org`'s log, oldest first.
    pub async fn log_kinds(&self, org: &Org) -> Vec<String> {
        let mut conn = self.db.read().await.unwrap();
        let rows = dossier_store::queries::activity_page(&mut conn.handle(), org.id.0, 0, i64::MAX, 100_000).await.unwrap();
        rows.into_iter().map(|r| r.kind).collect()
    }

    /// Create a customer through the API; returns its JSON.
    pub async fn customer(&self, body: Value) -> Value {
        let (status, customer) = self.post("/customers", body).await;
        assert_eq!(status, StatusCode::CREATED, "{customer}");
        customer
    }

    /// A user of `role` in the test org (`{role}@test.example`): their id
    /// and an API token.
    pub async fn user(&self, role: &str) -> (String, String) {
        let mut tx = self.db.begin().await.unwrap();
        let ctx = self.ctx();
        let email = format!("{role}@test.example");
        let user = users::NewUser { email: email.clone(), name: format!("{role} user"), role: role.into(), password: PASSWORD.into() };
        let user = users::add_user_in(&mut tx, &ctx, user).await.unwrap();
        let token = dossier_service::tokens::create_token_in(&mut tx, &ctx, &email, "tests").await.unwrap();
        tx.commit().await.unwrap();
        (user.id.0.to_string(), token.token)
    }

    /// A signed-in session of the user `role` (made with [`TestApp::user`]):
    /// the cookie to send (`name=value`).
    pub async fn session(&self, role: &str) -> String {
        use dossier_service::sessions::{self, Client, SignIn};
        let input = SignIn { email: format!("{role}@test.example"), password: PASSWORD.into() };
        let started = sessions::sign_in(&self.db, input, Client { address: None, user_agent: None }).await.unwrap();
        format!("dossier_session={}", started.cookie)
    }

    /// GET a page of the web app (with a session cookie, or none): its status and HTML.
    pub async fn page(&self, cookie: Option<&str>, path: &str) -> (StatusCode, String) {
        let mut request = Request::builder().uri(path);
        if let Some(cookie) = cookie {
            request = request.header(axum::http::header::COOKIE, cookie);
        }
        let (status, _, body) = Self::send(&self.router, request.body(Body::empty()).unwrap()).await;
        (status, body.as_str().map(str::to_owned).unwrap_or_else(|| body.to_string()))
    }

    /// POST a form of the web app: its status, where it redirects to (or
    /// empty) and the page it answered.
    pub async fn form(&self, cookie: &str, path: &str, form: &[(&str, &str)]) -> (StatusCode, String, String) {
        use axum::http::header;
        let encode = |t: &str| t.bytes().map(|b| if b.is_ascii_alphanumeric() { (b as char).to_string() } else { format!("%{b:02X}") }).collect::<String>();
        let body: Vec<String> = form.iter().map(|(k, v)| format!("{}={}", encode(k), encode(v))).collect();
        let request = Request::builder()
            .method(Method::POST)
            .uri(path)
            .header(header::COOKIE, cookie)
            .header(header::CONTENT_TYPE, "application/x-www-form-urlencoded")
            .body(Body::from(body.join("&")))
            .unwrap();
        let (status, headers, body) = Self::send(&self.router, request).await;
        let location = headers.get(header::LOCATION).map(|l| l.to_str().unwrap().to_owned()).unwrap_or_default();
        (status, location, body.as_str().map(str::to_owned).unwrap_or_default())
    }

    /// Upload through the API as `token`: text `fields` and `files` (name,
    /// content) as `multipart/form-data`.
    pub async fn upload_as(&self, token: Option<&str>, path: &str, fields: &[(&str, &str)], files: &[(&str, &[u8])]) -> (StatusCode, Value) {
        let (content_type, body) = multipart(fields, files);
        let mut request = Request::builder().method(Method::POST).uri(format!("/api/v1{path}")).header("content-type", content_type);
        if let Some(token) = token {
            request = request.header("authorization", format!("Bearer {token}"));
        }
        let (status, headers, json) = Self::send(&self.router, request.body(Body::from(body)).unwrap()).await;
        if status.is_client_error() || status.is_server_error() {
            assert_eq!(headers.get("content-type").map(|v| v.to_str().unwrap()), Some("application/problem+json"), "{status}: {json}");
        }
        (status, json)
    }

    pub async fn upload(&self, path: &str, fields: &[(&str, &str)], files: &[(&str, &[u8])]) -> (StatusCode, Value) {
        self.upload_as(Some(&self.token), path, fields, files).await
    }

    /// GET a path as built (with a bearer token or a cookie header): status,
    /// headers and the body's bytes.
    pub async fn fetch(&self, path: &str, header: Option<(&str, &str)>) -> (StatusCode, axum::http::HeaderMap, Vec<u8>) {
        let mut request = Request::builder().uri(path);
        if let Some((name, value)) = header {
            request = request.header(name, value);
        }
        let response = self.router.clone().oneshot(request.body(Body::empty()).unwrap()).await.unwrap();
        let (status, headers) = (response.status(), response.headers().clone());
        (status, headers, response.into_body().collect().await.unwrap().to_bytes().to_vec())
    }

    /// POST a web app form as `multipart/form-data` with files: its status,
    /// where it redirects to (or empty) and the page it answered.
    pub async fn form_with_files(&self, cookie: &str, path: &str, fields: &[(&str, &str)], files: &[(&str, &[u8])]) -> (StatusCode, String, String) {
        use axum::http::header;
        let (content_type, body) = multipart(fields, files);
        let request = Request::builder()
            .method(Method::POST)
            .uri(path)
            .header(header::COOKIE, cookie)
            .header(header::CONTENT_TYPE, content_type)
            .body(Body::from(body))
            .unwrap();
        let (status, headers, body) = Self::send(&self.router, request).await;
        let location = headers.get(header::LOCATION).map(|l| l.to_str().unwrap().to_owned()).unwrap_or_default();
        (status, location, body.as_str().map(str::to_owned).unwrap_or_default())
    }

    /// Run the worker, with this app's file store, until nothing is due.
    pub async fn work_until_idle(&self) {
        use dossier_service::sending::email::Outbox;
        use dossier_service::tasks::{Handlers, Worker, WorkerSettings};
        let handlers = Handlers { outbox: Outbox { files: Some(self.files.clone()), configured: None }, ..Default::default() };
        let worker = Worker::new(self.db.clone(), handlers, WorkerSettings::default());
        for _ in 0..50 {
            if worker.work_once(jiff::Timestamp::now()).await.unwrap() == 0 {
                return;
            }
        }
        panic!("the worker never ran out of due tasks");
    }

    /// Number of files (blobs) in the blob store, staging included.
    pub fn blobs_stored(&self) -> usize {
        fn walk(dir: &std::path::Path) -> usize {
            std::fs::read_dir(dir).map_or(0, |entries| entries.flatten().map(|e| if e.path().is_dir() { walk(&e.path()) } else { 1 }).sum())
        }
        walk(&self.files_dir)
    }

    /// Set the org's outgoing mail server to the SMTP test server on
    /// `port` (see `smtp::SmtpSink`), sending as "Test Services
    /// <office@test.example>".
    pub async fn use_mail_server(&self, port: u16) {
        let settings = json!({"sender_name": "Test Services", "sender_address": "office@test.example", "host": "127.0.0.1", "port": port, "tls": "none"});
        let (status, body) = self.call(Method::PUT, "/org/email-settings", Some(settings)).await;
        assert_eq!(status, StatusCode::OK, "{body}");
    }

    /// Number of rows in `table`, for checking that nothing was written.
    /// Turn off the database's append-only guard of the activity log, as
    /// an attacker with raw database access could.
    pub async fn disable_activity_guard(&self) {
        let sql = match self.backend {
            Backend::Sqlite => "DROP TRIGGER activity_refuses_update; DROP TRIGGER activity_refuses_delete;",
            Backend::Postgres => "ALTER TABLE activity DISABLE TRIGGER activity_append_only;",
        };
        self.db.execute_raw(sql).await.unwrap();
    }

    pub async fn count(&self, table: &'static str) -> i64 {
        self.db.count_rows(table).await.unwrap()
    }
}

/// A `multipart/form-data` body of text fields and files (`file` parts).
pub fn multipart(fields: &[(&str, &str)], files: &[(&str, &[u8])]) -> (String, Vec<u8>) {
    let boundary = "dossier-test-boundary-7MA4YWxkTrZu0gW";
    let mut body = Vec::new();
    for (name, value) in fields {
        body.extend_from_slice(format!("--{boundary}\r\nContent-Disposition: form-data; name=\"{name}\"\r\n\r\n{value}\r\n").as_bytes());
    }
    for (name, content) in files {
        body.extend_from_slice(
            format!("--{boundary}\r\nContent-Disposition: form-data; name=\"file\"; filename=\"{name}\"\r\nContent-Type: application/octet-stream\r\n\r\n")
                .as_bytes(),
        );
        body.extend_from_slice(content);
        body.extend_from_slice(b"\r\n");
    }
    body.extend_from_slice(format!("--{boundary}--\r\n").as_bytes());
    (format!("multipart/form-data; boundary={boundary}"), body)
}

/// A small real PNG picture (1 × 1).
pub const PNG: &[u8] = &[
    0x89, 0x50, 0x4E, 0x47, 0x0D, 0x0A, 0x1A, 0x0A, 0x00, 0x00, 0x00, 0x0D, 0x49, 0x48, 0x44, 0x52, 0x00, 0x00, 0x00, 0x01, 0x00, 0x00, 0x00, 0x01, 0x08, 0x06,
    0x00, 0x00, 0x00, 0x1F, 0x15, 0xC4, 0x89, 0x00, 0x00, 0x00, 0x0D, 0x49, 0x44, 0x41, 0x54, 0x78, 0x9C, 0x63, 0xF8, 0xCF, 0xC0, 0xF0, 0x1F, 0x00, 0x05, 0x00,
    0x01, 0xFF, 0x89, 0x99, 0x3D, 0x1D, 0x00, 0x00, 0x00, 0x00, 0x49, 0x45, 0x4E, 0x44, 0xAE, 0x42, 0x60, 0x82,
];

fn placeholder_org() -> Org {
    Org {
        id: dossier_domain::ids::OrgId::new(),
        name: String::new(),
        region: Default::default(),
        currency: "GBP".into(),
        timezone: "UTC".into(),
        payment_terms: dossier_domain::terms::PaymentTerms::DEFAULT,
        address: Vec::new(),
        date_format: Default::default(),
        number_format: Default::default(),
        tax_rates: Vec::new(),
        code_prefixes: Default::default(),
    }
}

/// Runs the test body once per backend: `mod name { fn sqlite(); fn postgres(); }`.
#[macro_export]
macro_rules! both_backends {
    ($name:ident, |$app:ident| $body:block) => {
        mod $name {
            #[allow(unused_imports)]
            use super::*;

            async fn body($app: $crate::common::TestApp) $body

            #[tokio::test(flavor = "multi_thread", worker_threads = 2)]
            async fn sqlite() {
                body($crate::common::TestApp::new($crate::common::Backend::Sqlite).await.unwrap()).await
            }

            #[tokio::test(flavor = "multi_thread", worker_threads = 2)]
            async fn postgres() {
                if let Some(app) = $crate::common::TestApp::new($crate::common::Backend::Postgres).await {
                    body(app).await
                }
            }
        }
    };
}

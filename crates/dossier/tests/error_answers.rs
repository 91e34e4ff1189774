//! Every error answer has the shape of where it was asked: a problem
//! document with a stable `code` under `/api`, an HTML page in the web app,
//! whoever answers it (a handler, an axum extractor, the router, the
//! deadline, the URI limit, CSRF protection). The request deadline holds for
//! work that waits (the SQLite writer) and for work that computes. Every 429
//! and 503 says when to retry. The bearer scheme is matched without regard
//! to case.

mod common;

use std::time::{Duration, Instant};

use axum::body::Body;
use axum::http::{HeaderMap, Method, Request, StatusCode, header};
use common::TestApp;
use dossier_service::sessions::{self, Client, SignIn};
use dossier_service::{Ctx, users};
use serde_json::{Value, json};
use tokio::io::{AsyncReadExt, AsyncWriteExt};

const PASSWORD: &str = "correct horse battery";

/// A staff user who signed in; their session cookie (`name=value`).
async fn staff_cookie(app: &TestApp, email: &str) -> String {
    let mut tx = app.db.begin().await.unwrap();
    let input = users::NewUser { email: email.into(), name: "Olga Office".into(), role: "office".into(), password: PASSWORD.into() };
    users::add_user_in(&mut tx, &Ctx::system(app.org.clone(), "Test"), input).await.unwrap();
    tx.commit().await.unwrap();
    let started =
        sessions::sign_in(&app.db, SignIn { email: email.into(), password: PASSWORD.into() }, Client { address: None, user_agent: None }).await.unwrap();
    format!("{}={}", "dossier_session", started.cookie)
}

fn request(method: Method, uri: &str, headers: &[(&str, &str)], body: Body) -> Request<Body> {
    let mut builder = Request::builder().method(method).uri(uri);
    for (name, value) in headers {
        builder = builder.header(*name, *value);
    }
    builder.body(body).unwrap()
}

fn content_type(headers: &HeaderMap) -> &str {
    headers.get(header::CONTENT_TYPE).map_or("", |v| v.to_str().unwrap())
}

/// The answer's status, headers and problem document; fails unless it is one.
async fn problem(router: &axum::Router, request: Request<Body>) -> (StatusCode, HeaderMap, Value) {
    let what = format!("{} {:.80}", request.method(), request.uri());
    let (status, headers, body) = TestApp::send(router, request).await;
    assert_eq!(content_type(&headers), "application/problem+json", "{what}: {status} {body}");
    assert!(body["code"].is_string() && body["status"] == status.as_u16(), "{what}: {body}");
    (status, headers, body)
}

/// The answer's status, headers and page; fails unless it is an HTML page.
async fn page(router: &axum::Router, request: Request<Body>) -> (StatusCode, HeaderMap, String) {
    let what = format!("{} {:.80}", request.method(), request.uri());
    let (status, headers, body) = TestApp::send(router, request).await;
    assert!(content_type(&headers).starts_with("text/html"), "{what}: {status} {:?} {body}", content_type(&headers));
    let text = body.as_str().unwrap_or_default().to_owned();
    assert!(text.contains("<h1>"), "{what}: not a page: {text}");
    (status, headers, text)
}

both_backends!(api_errors_answered_outside_the_handlers_are_problem_documents, |app| {
    let token = format!("Bearer {}", app.token);
    let auth = [("authorization", token.as_str())];
    let json = [("authorization", token.as_str()), ("content-type", "application/json")];
    let r = &app.router;

    // A path parameter that is not UTF-8: axum's Path rejection was text/plain.
    let (status, _, body) = problem(r, request(Method::GET, "/api/v1/customers/%ff", &auth, Body::empty())).await;
    assert_eq!((status, body["code"].as_str()), (StatusCode::BAD_REQUEST, Some("invalid_path")), "{body}");
    let (status, _, body) = problem(r, request(Method::GET, "/api/v1/customers/%ff/contacts", &auth, Body::empty())).await;
    assert_eq!((status, body["code"].as_str()), (StatusCode::BAD_REQUEST, Some("invalid_path")), "{body}");

    // A body over the 2 MB limit: 413 payload_too_large (the docs' code), not invalid_body.
    let big = format!("{{\"family_name\": \"{}\"}}", "a".repeat(3 << 20));
    let (status, _, body) = problem(r, request(Method::POST, "/api/v1/customers", &json, Body::from(big))).await;
    assert_eq!((status, body["code"].as_str()), (StatusCode::PAYLOAD_TOO_LARGE, Some("payload_too_large")), "{body}");

    // A path and query over 8 KiB.
    let long = format!("/api/v1/customers?q={}", "a".repeat(9000));
    let (status, _, body) = problem(r, request(Method::GET, &long, &auth, Body::empty())).await;
    assert_eq!((status, body["code"].as_str()), (StatusCode::URI_TOO_LONG, Some("uri_too_long")), "{body}");

    // The router's own answers keep their headers.
    let (status, headers, body) = problem(r, request(Method::PUT, "/api/v1/customers", &json, Body::from("{}"))).await;
    assert_eq!((status, body["code"].as_str()), (StatusCode::METHOD_NOT_ALLOWED, Some("method_not_allowed")));
    assert!(headers.contains_key(header::ALLOW));
    let (status, _, body) = problem(r, request(Method::GET, "/api/v1/no/such/route", &auth, Body::empty())).await;
    assert_eq!((status, body["code"].as_str()), (StatusCode::NOT_FOUND, Some("route_not_found")));
    let (status, _, body) = problem(r, request(Method::GET, "/api/nothing-here", &[], Body::empty())).await;
    assert_eq!((status, body["code"].as_str()), (StatusCode::NOT_FOUND, Some("route_not_found")));
});

both_backends!(web_app_errors_are_html_pages, |app| {
    let cookie = staff_cookie(&app, "olga@test.example").await;
    let cookie = cookie.as_str();
    let staff = [("cookie", cookie)];
    let r = &app.router;

    // Not UTF-8 in a page's path (axum's Path rejection was text/plain).
    let (status, _, _) = page(r, request(Method::GET, "/customers/%ff", &staff, Body::empty())).await;
    assert_eq!(status, StatusCode::BAD_REQUEST);

    // A form over the body limit (axum's Form rejection was text/plain).
    let form = [("content-type", "application/x-www-form-urlencoded")];
    let big = format!("email=a%40b.example&password={}", "a".repeat(3 << 20));
    let (status, _, text) = page(r, request(Method::POST, "/sign-in", &form, Body::from(big))).await;
    assert_eq!(status, StatusCode::PAYLOAD_TOO_LARGE);
    assert!(text.contains("larger than Dossier accepts"), "{text}");
    let big = format!("family_name={}", "a".repeat(3 << 20));
    let staff_form = [("cookie", cookie), ("content-type", "application/x-www-form-urlencoded")];
    let (status, _, _) = page(r, request(Method::POST, "/customers/new", &staff_form, Body::from(big))).await;
    assert_eq!(status, StatusCode::PAYLOAD_TOO_LARGE);
    // A form that is not a form.
    let (status, _, _) = page(r, request(Method::POST, "/sign-in", &[("content-type", "text/csv")], Body::from("a,b"))).await;
    assert_eq!(status, StatusCode::UNSUPPORTED_MEDIA_TYPE);

    // Answers of the router, the URI limit and CSRF protection (problem documents before).
    let (status, _, _) = page(r, request(Method::GET, "/no/such/page", &staff, Body::empty())).await;
    assert_eq!(status, StatusCode::NOT_FOUND);
    let (status, headers, _) = page(r, request(Method::DELETE, "/customers", &staff, Body::empty())).await;
    assert_eq!(status, StatusCode::METHOD_NOT_ALLOWED);
    assert!(headers.contains_key(header::ALLOW));
    let long = format!("/customers?q={}", "a".repeat(9000));
    let (status, _, _) = page(r, request(Method::GET, &long, &staff, Body::empty())).await;
    assert_eq!(status, StatusCode::URI_TOO_LONG);
    let forged = [("cookie", cookie), ("content-type", "application/x-www-form-urlencoded"), ("sec-fetch-site", "cross-site")];
    let (status, _, text) = page(r, request(Method::POST, "/customers/new", &forged, Body::from("family_name=Forged"))).await;
    assert_eq!(status, StatusCode::FORBIDDEN);
    assert!(text.contains("CSRF"), "{text}");
    assert_eq!(app.count("customer").await, 0);

    // The portal's pages too.
    let (status, _, _) = page(r, request(Method::GET, "/portal/%ff", &[], Body::empty())).await;
    assert_eq!(status, StatusCode::NOT_FOUND);
});

/// The deadline bounds the wait for the SQLite writer: a write that finds it
/// held is answered `503 timeout` with `Retry-After` at the deadline (before,
/// the timeout's answer had no body, and the pool's own 30 s timeout
/// answered 500).
#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_write_waiting_for_a_held_sqlite_writer_is_answered_at_the_deadline() {
    let app = TestApp::new(common::Backend::Sqlite).await.unwrap();
    let router = dossier_web::app_with_timeout(dossier_web::AppState::new(app.db.clone(), app.files.clone()), Duration::from_secs(1));
    let token = format!("Bearer {}", app.token);
    let json = [("authorization", token.as_str()), ("content-type", "application/json")];
    let create = || request(Method::POST, "/api/v1/customers", &json, Body::from(json!({"family_name": "Waits"}).to_string()));

    let cookie = staff_cookie(&app, "olga@test.example").await;
    let form = [("cookie", cookie.as_str()), ("content-type", "application/x-www-form-urlencoded")];

    let held = app.db.begin().await.unwrap();
    let started = Instant::now();
    let (status, headers, body) = problem(&router, create()).await;
    let took = started.elapsed();
    assert_eq!((status, body["code"].as_str()), (StatusCode::SERVICE_UNAVAILABLE, Some("timeout")), "{body}");
    let retry: u64 = headers[header::RETRY_AFTER].to_str().unwrap().parse().unwrap();
    assert!((1..=60).contains(&retry), "Retry-After {retry}");
    assert!(took < Duration::from_secs(3), "answered after {took:?}");
    eprintln!("a write behind a held writer was answered 503 timeout after {took:?} (deadline 1 s)");

    // The web app says it as a page, with a Retry-After too.
    let (status, headers, text) = page(&router, request(Method::POST, "/customers/new", &form, Body::from("kind=individual&family_name=Waits"))).await;
    assert_eq!(status, StatusCode::SERVICE_UNAVAILABLE, "{text}");
    assert!(headers.contains_key(header::RETRY_AFTER));

    drop(held);
    let (status, _, body) = TestApp::send(&router, create()).await;
    assert_eq!(status, StatusCode::CREATED, "{body}");
    assert_eq!(app.count("customer").await, 1, "the stopped request wrote nothing");
}

/// When the pool gives up waiting for the SQLite writer (its own 30 s) before
/// the deadline, the answer is 503 with `Retry-After` too, not a 500: on the
/// API and on a page.
#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_pool_that_gives_up_waiting_for_the_writer_answers_503_not_500() {
    let app = TestApp::new(common::Backend::Sqlite).await.unwrap();
    let router = dossier_web::app_with_timeout(dossier_web::AppState::new(app.db.clone(), app.files.clone()), Duration::from_secs(90));
    let cookie = staff_cookie(&app, "olga@test.example").await;
    let token = format!("Bearer {}", app.token);
    let json = [("authorization", token.as_str()), ("content-type", "application/json")];
    let form = [("cookie", cookie.as_str()), ("content-type", "application/x-www-form-urlencoded")];

    let held = app.db.begin().await.unwrap();
    let api = request(Method::POST, "/api/v1/customers", &json, Body::from(json!({"family_name": "Waits"}).to_string()));
    let web = request(Method::POST, "/customers/new", &form, Body::from("kind=individual&family_name=Waits"));
    let ((status, headers, body), (page_status, page_headers, text)) = tokio::join!(problem(&router, api), page(&router, web));
    assert_eq!((status, body["code"].as_str()), (StatusCode::SERVICE_UNAVAILABLE, Some("timeout")), "{body}");
    assert!(headers.contains_key(header::RETRY_AFTER));
    assert_eq!(page_status, StatusCode::SERVICE_UNAVAILABLE, "{text}");
    assert!(page_headers.contains_key(header::RETRY_AFTER));
    drop(held);
}

both_backends!(the_bearer_scheme_is_matched_without_regard_to_case, |app| {
    for scheme in ["Bearer", "bearer", "BEARER", "bEaReR"] {
        let value = format!("{scheme} {}", app.token);
        let (status, _, body) = TestApp::send(&app.router, request(Method::GET, "/api/v1/customers", &[("authorization", &value)], Body::empty())).await;
        assert_eq!(status, StatusCode::OK, "{scheme}: {body}");
    }
    for wrong in [format!("Basic {}", app.token), format!("Bearer{}", app.token), "Bearer".to_owned()] {
        let (status, _, body) = problem(&app.router, request(Method::GET, "/api/v1/customers", &[("authorization", &wrong)], Body::empty())).await;
        assert_eq!((status, body["code"].as_str()), (StatusCode::UNAUTHORIZED, Some("unauthenticated")), "{wrong}");
    }
});

both_backends!(every_too_many_attempts_answer_says_when_to_retry, |app| {
    let _ = staff_cookie(&app, "rita@test.example").await;
    let sign_in = |password: &str| {
        let body = json!({"email": "rita@test.example", "password": password}).to_string();
        request(Method::POST, "/api/v1/session", &[("content-type", "application/json")], Body::from(body))
    };
    let mut locked = None;
    for attempt in 1..=8 {
        let (status, headers, body) = TestApp::send(&app.router, sign_in("wrong password!")).await;
        if status == StatusCode::TOO_MANY_REQUESTS {
            locked = Some((attempt, headers, body));
            break;
        }
        assert_eq!(status, StatusCode::UNAUTHORIZED, "{body}");
    }
    let (attempt, headers, body) = locked.expect("the account locks within 8 attempts");
    assert_eq!(body["code"], "too_many_attempts");
    let retry: u64 = headers.get(header::RETRY_AFTER).expect("Retry-After on 429").to_str().unwrap().parse().unwrap();
    assert!((60..=15 * 60).contains(&retry), "Retry-After {retry} s for a 15-minute lock");
    eprintln!("locked after {attempt} attempts; Retry-After {retry} s");

    // The sign-in page says it too.
    let form = format!("email=rita%40test.example&password={}", PASSWORD.replace(' ', "+"));
    let (status, headers, _) =
        TestApp::send(&app.router, request(Method::POST, "/sign-in", &[("content-type", "application/x-www-form-urlencoded")], Body::from(form))).await;
    assert_eq!(status, StatusCode::TOO_MANY_REQUESTS);
    let page_retry: u64 = headers.get(header::RETRY_AFTER).expect("Retry-After on the page's 429").to_str().unwrap().parse().unwrap();
    assert!((60..=15 * 60).contains(&page_retry), "Retry-After {page_retry}");
});

/// One raw HTTP/1.1 exchange with a real server; the status line, headers
/// (lower-case names) and body.
async fn raw(address: std::net::SocketAddr, head: &str) -> (u16, Vec<(String, String)>, String) {
    let mut stream = tokio::net::TcpStream::connect(address).await.unwrap();
    stream.write_all(head.as_bytes()).await.unwrap();
    let mut answer = Vec::new();
    tokio::time::timeout(Duration::from_secs(10), stream.read_to_end(&mut answer)).await.expect("answered").unwrap();
    let text = String::from_utf8_lossy(&answer).into_owned();
    let (head, body) = text.split_once("\r\n\r\n").unwrap_or((&text, ""));
    let mut lines = head.lines();
    let status = lines.next().and_then(|l| l.split(' ').nth(1)).and_then(|s| s.parse().ok()).unwrap_or(0);
    let headers = lines.filter_map(|l| l.split_once(':')).map(|(n, v)| (n.trim().to_lowercase(), v.trim().to_owned())).collect();
    (status, headers, body.to_owned())
}

/// Over a real socket, where hyper parses the request: a long address and
/// invalid UTF-8 reach the app and get its answers.
#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_real_server_answers_long_and_malformed_addresses_with_problem_documents() {
    let app = TestApp::new(common::Backend::Sqlite).await.unwrap();
    let listener = tokio::net::TcpListener::bind("127.0.0.1:0").await.unwrap();
    let address = listener.local_addr().unwrap();
    let (stop, stopped) = tokio::sync::oneshot::channel::<()>();
    let server =
        tokio::spawn(dossier_web::serve(listener, dossier_web::AppState::new(app.db.clone(), app.files.clone()), async move { stopped.await.unwrap_or(()) }));

    let get = |target: &str, accept_close: bool| {
        let close = if accept_close { "Connection: close\r\n" } else { "" };
        format!("GET {target} HTTP/1.1\r\nHost: dossier.test\r\nAuthorization: Bearer {}\r\n{close}\r\n", app.token)
    };
    for (target, status, code) in [
        (format!("/api/v1/customers?q={}", "a".repeat(20_000)), 414, "uri_too_long"),
        (format!("/api/v1/customers/{}", "a".repeat(60_000)), 414, "uri_too_long"),
        ("/api/v1/customers/%ff".to_owned(), 400, "invalid_path"),
    ] {
        let (got, headers, body) = raw(address, &get(&target, true)).await;
        let content_type = headers.iter().find(|(n, _)| n == "content-type").map(|(_, v)| v.as_str());
        assert_eq!((got, content_type), (status, Some("application/problem+json")), "{:.60}: {body:.200}", target);
        let problem: Value = serde_json::from_str(&body).unwrap();
        assert_eq!(problem["code"], code);
    }
    let (got, headers, body) = raw(address, &get(&format!("/customers?q={}", "a".repeat(20_000)), true)).await;
    let content_type = headers.iter().find(|(n, _)| n == "content-type").map(|(_, v)| v.to_owned()).unwrap_or_default();
    assert_eq!(got, 414);
    assert!(content_type.starts_with("text/html") && body.contains("<h1>"), "{content_type}: {body:.200}");

    stop.send(()).unwrap();
    server.await.unwrap().unwrap();
}

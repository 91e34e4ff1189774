//! The security headers on every class of answer: API JSON, API PDF, API
//! errors, staff pages, the sign-in page, the web app's error page and
//! redirects, portal pages and PDF, static assets, the OpenAPI document and
//! the health check. Pages run under a Content-Security-Policy without
//! `unsafe-inline`, so they carry no inline script or style.

mod common;

use axum::body::Body;
use axum::http::{HeaderMap, Method, Request, StatusCode, header};
use common::TestApp;
use dossier_service::sessions::{self, Client, SignIn};
use dossier_service::{Ctx, users};
use http_body_util::BodyExt;
use serde_json::json;
use tower::ServiceExt;

const PASSWORD: &str = "correct horse battery";

/// Request headers: a token, a cookie, or none.
type Sent<'a> = &'a [(&'a str, &'a str)];

/// What an answer is, for the headers it must carry.
#[derive(Clone, Copy, Debug, PartialEq)]
enum Class {
    Api,
    Page,
    Portal,
    Asset,
}

async fn fetch(app: &TestApp, path: &str, headers: &[(&str, &str)]) -> (StatusCode, HeaderMap, Vec<u8>) {
    let mut builder = Request::builder().method(Method::GET).uri(path);
    for (name, value) in headers {
        builder = builder.header(*name, *value);
    }
    let response = app.router.clone().oneshot(builder.body(Body::empty()).unwrap()).await.unwrap();
    let (status, headers) = (response.status(), response.headers().clone());
    (status, headers, response.into_body().collect().await.unwrap().to_bytes().to_vec())
}

fn header(headers: &HeaderMap, name: header::HeaderName) -> &str {
    headers.get(&name).map_or("", |v| v.to_str().unwrap())
}

/// The headers every answer of `class` must carry; for HTML, the markup
/// must also need nothing the policy forbids.
fn check(path: &str, class: Class, headers: &HeaderMap, body: &[u8]) {
    let what = format!("{class:?} {path:.70}");
    assert_eq!(header(headers, header::X_CONTENT_TYPE_OPTIONS), "nosniff", "{what}");
    assert_eq!(header(headers, header::X_FRAME_OPTIONS), "DENY", "{what}");
    let csp = header(headers, header::CONTENT_SECURITY_POLICY);
    assert!(csp.contains("frame-ancestors 'none'"), "{what}: {csp:?}");
    assert!(!csp.contains("unsafe-inline") && !csp.contains("unsafe-eval"), "{what}: {csp:?}");
    let referrer = header(headers, header::REFERRER_POLICY);
    match class {
        Class::Portal => assert_eq!(referrer, "no-referrer", "{what}: the portal's address is its secret"),
        _ => assert!(["same-origin", "no-referrer"].contains(&referrer), "{what}: {referrer:?}"),
    }
    let cache = header(headers, header::CACHE_CONTROL);
    match class {
        Class::Asset => assert!(cache.starts_with("public"), "{what}: {cache:?}"),
        _ => assert_eq!(cache, "no-store", "{what}"),
    }
    if header(headers, header::CONTENT_TYPE).starts_with("text/html") {
        for directive in ["default-src 'none'", "script-src 'self'", "style-src 'self'", "form-action 'self'", "base-uri 'none'"] {
            assert!(csp.contains(directive), "{what}: {directive} missing from {csp:?}");
        }
        let html = String::from_utf8_lossy(body).to_lowercase();
        for forbidden in [" style=", "<style", "<script>", "javascript:", " onclick=", " onload=", " onsubmit=", " onchange=", " oninput="] {
            assert!(!html.contains(forbidden), "{what}: the page holds {forbidden:?}, which the policy blocks");
        }
        let scripts = html.matches("<script").count();
        assert_eq!(scripts, html.matches("<script src=\"/static/").count(), "{what}: only our own script files");
    }
}

both_backends!(every_class_of_answer_carries_the_security_headers, |app| {
    // A customer with work, an invoice and a payment, a staff member signed in, a portal link.
    app.customer(json!({"given_name": "Ann", "family_name": "Lee", "email": "ann@example.com", "labels": ["VIP"]})).await;
    app.post("/jobs", json!({"customer": "CUS-00001", "title": "Boiler service", "value": 12000})).await;
    let invoice = json!({"customer": "CUS-00001", "issue": true, "lines": [{"description": "Boiler service", "unit_price": 10000, "tax_rate_bp": 2000}]});
    assert_eq!(app.post("/invoices", invoice).await.0, StatusCode::CREATED);
    app.post("/payments", json!({"customer": "CUS-00001", "amount": 5000, "allocations": [{"invoice": "INV-00001", "amount": 5000}]})).await;
    let mut tx = app.db.begin().await.unwrap();
    let staff = users::NewUser { email: "olga@test.example".into(), name: "Olga".into(), role: "office".into(), password: PASSWORD.into() };
    users::add_user_in(&mut tx, &Ctx::system(app.org.clone(), "Test"), staff).await.unwrap();
    tx.commit().await.unwrap();
    let signed_in =
        sessions::sign_in(&app.db, SignIn { email: "olga@test.example".into(), password: PASSWORD.into() }, Client { address: None, user_agent: None });
    let cookie = format!("dossier_session={}", signed_in.await.unwrap().cookie);
    let (status, link) = app.post("/customers/CUS-00001/portal-links", json!({})).await;
    assert_eq!(status, StatusCode::CREATED, "{link}");
    let portal = link["url"].as_str().unwrap().to_owned();

    let token = format!("Bearer {}", app.token);
    let api: Sent = &[("authorization", &token)];
    let staff: Sent = &[("cookie", &cookie)];
    let answers: Vec<(String, Class, Sent, StatusCode)> = vec![
        ("/api/v1/customers".into(), Class::Api, api, StatusCode::OK),
        ("/api/v1/customers/CUS-00001".into(), Class::Api, api, StatusCode::OK),
        ("/api/v1/customers/CUS-00001/statement.pdf".into(), Class::Api, api, StatusCode::OK),
        ("/api/v1/customers/CUS-09999".into(), Class::Api, api, StatusCode::NOT_FOUND),
        ("/api/v1/customers".into(), Class::Api, &[], StatusCode::UNAUTHORIZED),
        ("/api/v1/customers/%ff".into(), Class::Api, api, StatusCode::BAD_REQUEST),
        ("/api/openapi.json".into(), Class::Api, &[], StatusCode::OK),
        ("/healthz".into(), Class::Api, &[], StatusCode::OK),
        ("/sign-in".into(), Class::Page, &[], StatusCode::OK),
        ("/customers".into(), Class::Page, &[], StatusCode::SEE_OTHER),
        ("/customers".into(), Class::Page, staff, StatusCode::OK),
        ("/customers?q=lee".into(), Class::Page, staff, StatusCode::OK),
        ("/customers?q=lee&partial=rows".into(), Class::Page, staff, StatusCode::OK),
        ("/customers/CUS-00001".into(), Class::Page, staff, StatusCode::OK),
        ("/customers/CUS-00001?tab=timeline".into(), Class::Page, staff, StatusCode::OK),
        ("/customers/CUS-00001?tab=contacts".into(), Class::Page, staff, StatusCode::OK),
        ("/customers/CUS-00001?tab=works".into(), Class::Page, staff, StatusCode::OK),
        ("/customers/CUS-00001?tab=billing".into(), Class::Page, staff, StatusCode::OK),
        ("/customers/CUS-00001?tab=history".into(), Class::Page, staff, StatusCode::OK),
        ("/customers/CUS-00001/edit".into(), Class::Page, staff, StatusCode::OK),
        ("/customers/CUS-00001/invoices/new".into(), Class::Page, staff, StatusCode::OK),
        ("/customers/new".into(), Class::Page, staff, StatusCode::OK),
        ("/invoices/INV-00001".into(), Class::Page, staff, StatusCode::OK),
        ("/jobs/BOK-00001".into(), Class::Page, staff, StatusCode::OK),
        ("/customers/CUS-09999".into(), Class::Page, staff, StatusCode::NOT_FOUND),
        ("/no/such/page".into(), Class::Page, staff, StatusCode::NOT_FOUND),
        (portal.clone(), Class::Portal, &[], StatusCode::OK),
        (format!("{portal}/statement.pdf"), Class::Portal, &[], StatusCode::OK),
        (format!("{portal}x"), Class::Portal, &[], StatusCode::NOT_FOUND),
        ("/static/app.css".into(), Class::Asset, &[], StatusCode::OK),
        ("/static/app.js".into(), Class::Asset, &[], StatusCode::OK),
        ("/static/portal.css".into(), Class::Asset, &[], StatusCode::OK),
    ];
    for (path, class, headers, expected) in answers {
        let (status, got, body) = fetch(&app, &path, headers).await;
        assert_eq!(status, expected, "{path}: {}", String::from_utf8_lossy(&body));
        check(&path, class, &got, &body);
    }
});

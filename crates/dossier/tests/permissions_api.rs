//! The permission matrix, enforced by the service layer: each role reaches
//! only its modules and actions (403 `forbidden` otherwise, nothing
//! written), on both backends; docs/permissions.md is generated from it.

mod common;

use std::path::PathBuf;

use axum::http::{Method, StatusCode};
use dossier_service::{Ctx, users};
use serde_json::{Value, json};

#[test]
fn docs_permissions_md_is_the_generated_matrix() {
    let generated = dossier_domain::permissions::markdown();
    let path = PathBuf::from(env!("CARGO_MANIFEST_DIR")).join("../../docs/permissions.md");
    if std::env::var_os("UPDATE_PERMISSIONS").is_some() {
        std::fs::write(&path, &generated).unwrap();
    }
    let committed = std::fs::read_to_string(&path).unwrap_or_default();
    assert!(committed == generated, "docs/permissions.md is out of date: run `UPDATE_PERMISSIONS=1 cargo nextest run -E 'test(docs_permissions)'`");
}

/// A user of `role` in the test org, and their API token.
async fn token_for(app: &common::TestApp, role: &str) -> String {
    let mut tx = app.db.begin().await.unwrap();
    let ctx = Ctx::system(app.org.clone(), "Test");
    let email = format!("{role}@test.example");
    let user = users::NewUser { email: email.clone(), name: format!("{role} user"), role: role.into(), password: "correct horse battery".into() };
    users::add_user_in(&mut tx, &ctx, user).await.unwrap();
    let token = users::create_token_in(&mut tx, &ctx, &email, "tests").await.unwrap();
    tx.commit().await.unwrap();
    token.token
}

async fn call(app: &common::TestApp, token: &str, method: Method, path: &str, body: Option<Value>) -> (StatusCode, Value) {
    app.call_as(Some(token), method, path, body).await
}

both_backends!(each_role_reaches_only_its_modules, |app| {
    app.customer(json!({"family_name": "Lee"})).await;
    let (status, _) = app.post("/invoices", json!({"customer": "CUS-00001", "issue": true, "lines": [{"description": "Visit", "unit_price": 1000}]})).await;
    assert_eq!(status, StatusCode::CREATED);
    let finance = token_for(&app, "finance").await;
    let sales = token_for(&app, "sales").await;
    let support = token_for(&app, "support").await;
    let fieldworker = token_for(&app, "fieldworker").await;

    // Finance handles money but does not write quotes.
    let (status, _) = call(&app, &finance, Method::POST, "/payments", Some(json!({"customer": "CUS-00001", "amount": 500}))).await;
    assert_eq!(status, StatusCode::CREATED);
    let (status, problem) = call(&app, &finance, Method::POST, "/quotes", Some(json!({"customer": "CUS-00001", "title": "x", "lines": []}))).await;
    assert_eq!((status, problem["code"].as_str()), (StatusCode::FORBIDDEN, Some("forbidden")));

    // Sales raises inquiries but takes no payments; refused means nothing written.
    let (status, _) = call(&app, &sales, Method::POST, "/inquiries", Some(json!({"customer": "CUS-00001", "title": "New boiler"}))).await;
    assert_eq!(status, StatusCode::CREATED);
    let payments = app.count("payment").await;
    let (status, _) = call(&app, &sales, Method::POST, "/payments", Some(json!({"customer": "CUS-00001", "amount": 500}))).await;
    assert_eq!(status, StatusCode::FORBIDDEN);
    assert_eq!(app.count("payment").await, payments);

    // Support sees invoices but cannot void them.
    let (status, _) = call(&app, &support, Method::GET, "/invoices/INV-00001", None).await;
    assert_eq!(status, StatusCode::OK);
    let (status, _) = call(&app, &support, Method::POST, "/invoices/INV-00001/void", Some(json!({"reason": "no"}))).await;
    assert_eq!(status, StatusCode::FORBIDDEN);
    let (_, invoice) = app.get("/invoices/INV-00001").await;
    assert_eq!(invoice["status"], "open");

    // A fieldworker never reaches money, statements or anyone's summary.
    for path in ["/invoices", "/payments", "/credit-notes", "/invoices/INV-00001", "/customers/CUS-00001/statement", "/customers/CUS-00001/summary"] {
        let (status, body) = call(&app, &fieldworker, Method::GET, path, None).await;
        assert_eq!(status, StatusCode::FORBIDDEN, "{path}: {body}");
        assert!(!body.to_string().contains("INV-00001"), "{path} leaked: {body}");
    }
});

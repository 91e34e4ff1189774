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

/// Tokens of a user of every role in `org`.
async fn tokens_of_every_role(app: &common::TestApp, org: &dossier_service::Org) -> Vec<(String, String)> {
    let mut tokens = Vec::new();
    for role in dossier_domain::role::Role::ALL {
        let mut tx = app.db.begin().await.unwrap();
        let ctx = Ctx::system(org.clone(), "Test");
        let email = format!("{role}@other.example");
        let user = users::NewUser { email: email.clone(), name: format!("Other {role}"), role: role.to_string(), password: "correct horse battery".into() };
        users::add_user_in(&mut tx, &ctx, user).await.unwrap();
        let token = users::create_token_in(&mut tx, &ctx, &email, "tests").await.unwrap();
        tx.commit().await.unwrap();
        tokens.push((role.to_string(), token.token));
    }
    tokens
}

/// A body that is valid for each write route, naming `a`'s records where a
/// route takes a reference in its body. A new write route must be added here.
fn body_for(method: &Method, path: &str, a: &Value) -> Option<Value> {
    let (customer, invoice) = (&a["customer"], &a["invoice"]);
    let body = match (method.as_str(), path) {
        ("GET" | "DELETE", _) => return None,
        ("PATCH", "/contacts/{id}") => json!({"position": "Boss"}),
        ("PATCH", "/customers/{id}") => json!({"source": "Radio"}),
        ("PATCH", "/sites/{id}") => json!({"access_notes": "Ring twice"}),
        ("POST", "/customers") => json!({"family_name": "Newcomer"}),
        ("POST", "/customers/{id}/contacts") => json!({"family_name": "Other"}),
        ("POST", "/customers/{id}/labels") => json!({"labels": ["VIP"]}),
        ("POST", "/customers/{id}/sites") => json!({"address_line1": "1 A Street", "postcode": "LS1 1AA"}),
        ("POST", "/customers/{id}/status") => json!({"status": "dormant", "reason": "Quiet"}),
        ("POST", "/inquiries") => json!({"customer": customer, "title": "Leak"}),
        ("POST", "/inquiries/{id}/convert") => json!({"into": "job"}),
        ("POST", "/inquiries/{id}/status") => json!({"status": "contacted"}),
        ("POST", "/quotes") => json!({"customer": customer, "title": "Quote", "lines": [{"description": "x", "unit_price": 100}]}),
        ("POST", "/quotes/{id}/status") => json!({"status": "sent"}),
        ("POST", "/jobs") => json!({"customer": customer, "title": "Job"}),
        ("POST", "/jobs/{id}/status") => json!({"status": "cancelled"}),
        ("POST", "/invoices") => json!({"customer": customer, "lines": [{"description": "x", "unit_price": 100}]}),
        ("POST", "/invoices/{id}/issue") => json!({}),
        ("POST", "/invoices/{id}/void") => json!({"reason": "Wrong"}),
        ("POST", "/payments") => json!({"customer": customer, "amount": 100}),
        ("POST", "/payments/{id}/allocations" | "/credit-notes/{id}/allocations") => json!({"allocations": [{"invoice": invoice, "amount": 1}]}),
        ("POST", "/credit-notes") => json!({"invoice": invoice, "amount": 1, "reason": "Sorry"}),
        (method, path) => panic!("no test body for {method} {path}: add one to body_for"),
    };
    Some(body)
}

both_backends!(no_route_lets_another_org_reach_a_record_whatever_the_role, |app| {
    // Org A (the test org) has one of everything, with a name no other data has.
    let customer = app.customer(json!({"given_name": "Zanzibar", "family_name": "Leakcheck", "labels": ["VIP"]})).await;
    let cus = customer["code"].as_str().unwrap().to_owned();
    let (_, contact) = app.post(&format!("/customers/{cus}/contacts"), json!({"family_name": "Leakcheck"})).await;
    let (_, site) = app.post(&format!("/customers/{cus}/sites"), json!({"address_line1": "9 Leakcheck Lane", "postcode": "LS9 9ZZ"})).await;
    let (_, inquiry) = app.post("/inquiries", json!({"customer": cus, "title": "Leakcheck inquiry"})).await;
    let (_, quote) = app.post("/quotes", json!({"customer": cus, "title": "Leakcheck quote", "lines": [{"description": "x", "unit_price": 100}]})).await;
    let (_, job) = app.post("/jobs", json!({"customer": cus, "title": "Leakcheck job"})).await;
    let (_, invoice) = app.post("/invoices", json!({"customer": cus, "issue": true, "lines": [{"description": "Leakcheck", "unit_price": 5000}]})).await;
    let (_, payment) = app.post("/payments", json!({"customer": cus, "amount": 100})).await;
    let (_, credit) = app.post("/credit-notes", json!({"customer": cus, "amount": 100, "reason": "Leakcheck"})).await;
    let ids = json!({
        "customer": customer["id"], "contact": contact["id"], "site": site["id"], "inquiry": inquiry["id"], "quote": quote["id"],
        "job": job["id"], "invoice": invoice["id"], "payment": payment["id"], "credit": credit["id"],
    });
    let secrets: Vec<String> = ids.as_object().unwrap().values().map(|v| v.as_str().unwrap().to_owned()).chain(["Leakcheck".to_owned()]).collect();
    let id_for = |path: &str| -> &str {
        let key = match path.split('/').nth(1).unwrap() {
            "customers" => "customer",
            "contacts" => "contact",
            "sites" => "site",
            "inquiries" => "inquiry",
            "quotes" => "quote",
            "jobs" => "job",
            "invoices" => "invoice",
            "payments" => "payment",
            "credit-notes" => "credit",
            other => panic!("no record for /{other}"),
        };
        ids[key].as_str().unwrap()
    };

    // Org B's users of every role call every route of the router with A's ids.
    let (org_b, _) = app.add_org("Other Services", "admin@other-org.example").await;
    let tokens = tokens_of_every_role(&app, &org_b).await;
    let spec: Value = serde_json::from_str(&dossier_web::openapi().to_json().unwrap()).unwrap();
    let mut answers = std::collections::BTreeMap::<u16, usize>::new();
    for (template, operations) in spec["paths"].as_object().unwrap() {
        for method in operations.as_object().unwrap().keys() {
            let method: Method = method.to_uppercase().parse().unwrap();
            let path = template.replace("{id}", id_for(template)).replace("{label}", "VIP");
            let body = body_for(&method, template, &ids);
            for (role, token) in &tokens {
                let (status, answer) = app.call_as(Some(token), method.clone(), &path, body.clone()).await;
                *answers.entry(status.as_u16()).or_default() += 1;
                let text = answer.to_string();
                for secret in &secrets {
                    assert!(!text.contains(secret.as_str()), "{role} {method} {path} leaked {secret}: {text}");
                }
                let refused_reference = status == StatusCode::UNPROCESSABLE_ENTITY && answer["errors"][0]["code"] == "not_found";
                let own_collection = !template.contains('{') && status.is_success();
                assert!(
                    matches!(status, StatusCode::NOT_FOUND | StatusCode::FORBIDDEN) || refused_reference || own_collection,
                    "{role} {method} {path}: {status} {text}"
                );
            }
        }
    }
    eprintln!("route × role calls checked, by answer: {answers:?}");
    assert!(answers.get(&404).is_some_and(|n| *n > 50) && answers.get(&403).is_some_and(|n| *n > 50), "{answers:?}");
    // A's records are as they were.
    let (_, invoice) = app.get(&format!("/invoices/{}", ids["invoice"].as_str().unwrap())).await;
    assert_eq!(invoice["status"], "open");
    let (_, customer) = app.get(&format!("/customers/{cus}")).await;
    assert_eq!(customer["status"], "active");
    assert_eq!(customer["source"], Value::Null);
});

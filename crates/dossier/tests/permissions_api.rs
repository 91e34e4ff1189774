//! The permission matrix, enforced by the service layer: each role reaches
//! only its modules and actions (403 `forbidden` otherwise, nothing
//! written), a fieldworker only their jobs and the customers behind them,
//! on both backends; docs/permissions.md is generated from it.

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
    user_for(app, role).await.1
}

/// A user of `role` in the test org: their id and API token.
async fn user_for(app: &common::TestApp, role: &str) -> (String, String) {
    app.user(role).await
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

    // A fieldworker never reaches money or statements, and a customer
    // without a job of theirs does not exist for them.
    for path in ["/invoices", "/payments", "/credit-notes", "/invoices/INV-00001", "/customers/CUS-00001/statement"] {
        let (status, body) = call(&app, &fieldworker, Method::GET, path, None).await;
        assert_eq!(status, StatusCode::FORBIDDEN, "{path}: {body}");
        assert!(!body.to_string().contains("INV-00001"), "{path} leaked: {body}");
    }
    let (status, _) = call(&app, &fieldworker, Method::GET, "/customers/CUS-00001/summary", None).await;
    assert_eq!(status, StatusCode::NOT_FOUND);
});

both_backends!(a_fieldworker_sees_only_their_jobs_and_the_customers_behind_them, |app| {
    let (fieldworker_id, fieldworker) = user_for(&app, "fieldworker").await;
    let office = token_for(&app, "office").await;
    let mine = app.customer(json!({"family_name": "Mine", "email": "mine@example.com"})).await;
    let theirs = app.customer(json!({"family_name": "Elsewhere", "email": "elsewhere@example.com"})).await;
    let (_, my_contact) = app.post("/customers/CUS-00001/contacts", json!({"family_name": "Mine"})).await;
    let (_, their_contact) = app.post("/customers/CUS-00002/contacts", json!({"family_name": "Elsewhere"})).await;
    let (_, their_site) = app.post("/customers/CUS-00002/sites", json!({"address_line1": "2 Far Road", "postcode": "LS2 2BB"})).await;
    let (status, my_job) = app.post("/jobs", json!({"customer": "CUS-00001", "title": "Fix boiler", "assignees": [fieldworker_id]})).await;
    assert_eq!(status, StatusCode::CREATED, "{my_job}");
    let (_, unassigned_job) = app.post("/jobs", json!({"customer": "CUS-00001", "title": "Someone else's visit"})).await;
    let (_, their_job) = app.post("/jobs", json!({"customer": "CUS-00002", "title": "Far job"})).await;
    let (status, _) = app.post("/invoices", json!({"customer": "CUS-00001", "issue": true, "lines": [{"description": "Boiler", "unit_price": 9000}]})).await;
    assert_eq!(status, StatusCode::CREATED);

    // Lists hold only what is theirs.
    let (status, jobs) = call(&app, &fieldworker, Method::GET, "/jobs", None).await;
    assert_eq!(status, StatusCode::OK);
    let codes: Vec<&str> = jobs["items"].as_array().unwrap().iter().map(|j| j["code"].as_str().unwrap()).collect();
    assert_eq!(codes, [my_job["code"].as_str().unwrap()]);
    let (_, jobs) = call(&app, &fieldworker, Method::GET, &format!("/jobs?assignee={}", uuid::Uuid::nil()), None).await;
    assert_eq!(jobs["items"], json!([]), "asking for another's jobs shows none");
    let (_, customers) = call(&app, &fieldworker, Method::GET, "/customers", None).await;
    let codes: Vec<&str> = customers["items"].as_array().unwrap().iter().map(|c| c["code"].as_str().unwrap()).collect();
    assert_eq!(codes, [mine["code"].as_str().unwrap()]);
    let (_, found) = call(&app, &fieldworker, Method::GET, "/customers?q=elsewhere", None).await;
    assert_eq!(found["items"], json!([]), "search finds only their customers");
    let (status, _) = call(&app, &fieldworker, Method::GET, "/customers?overdue=true", None).await;
    assert_eq!(status, StatusCode::FORBIDDEN, "who owes money is not theirs to ask");

    // Their customer, its contacts and their job are there; the rest is not.
    for path in ["/customers/CUS-00001".to_owned(), "/customers/CUS-00001/contacts".to_owned(), format!("/contacts/{}", my_contact["id"].as_str().unwrap())] {
        let (status, body) = call(&app, &fieldworker, Method::GET, &path, None).await;
        assert_eq!(status, StatusCode::OK, "{path}: {body}");
    }
    let (status, _) = call(&app, &fieldworker, Method::GET, &format!("/jobs/{}", my_job["code"].as_str().unwrap()), None).await;
    assert_eq!(status, StatusCode::OK);
    let hidden = [
        format!("/customers/{}", theirs["code"].as_str().unwrap()),
        "/customers/CUS-00002/timeline".to_owned(),
        format!("/contacts/{}", their_contact["id"].as_str().unwrap()),
        format!("/sites/{}", their_site["id"].as_str().unwrap()),
        format!("/jobs/{}", unassigned_job["code"].as_str().unwrap()),
        format!("/jobs/{}", their_job["id"].as_str().unwrap()),
    ];
    for path in &hidden {
        let (status, body) = call(&app, &fieldworker, Method::GET, path, None).await;
        assert_eq!(status, StatusCode::NOT_FOUND, "{path}: {body}");
        assert!(!body.to_string().contains("Elsewhere") && !body.to_string().contains("Far"), "{path} leaked: {body}");
    }

    // The timeline leaves out money and jobs that are not theirs; the
    // office sees both, so the narrowing is not vacuous.
    let subjects = |timeline: &Value| -> Vec<String> {
        timeline["items"]
            .as_array()
            .unwrap()
            .iter()
            .map(|a| format!("{} {}", a["subject"]["type"].as_str().unwrap(), a["subject_code"].as_str().unwrap_or("")))
            .collect()
    };
    let (status, timeline) = call(&app, &fieldworker, Method::GET, "/customers/CUS-00001/timeline", None).await;
    assert_eq!(status, StatusCode::OK);
    let seen = subjects(&timeline);
    assert!(seen.iter().any(|s| s == &format!("job {}", my_job["code"].as_str().unwrap())), "{seen:?}");
    assert!(seen.iter().any(|s| s.starts_with("customer ")), "{seen:?}");
    assert!(!seen.iter().any(|s| s.starts_with("invoice ") || s.ends_with(unassigned_job["code"].as_str().unwrap())), "{seen:?}");
    let (_, timeline) = call(&app, &office, Method::GET, "/customers/CUS-00001/timeline", None).await;
    let seen = subjects(&timeline);
    assert!(seen.iter().any(|s| s.starts_with("invoice ")) && seen.iter().any(|s| s.ends_with(unassigned_job["code"].as_str().unwrap())), "{seen:?}");

    // The summary has their jobs' bars and no money at all.
    let (status, summary) = call(&app, &fieldworker, Method::GET, "/customers/CUS-00001/summary", None).await;
    assert_eq!(status, StatusCode::OK, "{summary}");
    assert_eq!(summary["jobs"]["count"], 1, "{summary}");
    for absent in ["invoices", "open_balance", "overdue_balance", "ageing", "account_credit", "quotes", "inquiries"] {
        assert!(summary.get(absent).is_none(), "{absent} in {summary}");
    }
    let (_, summary) = call(&app, &office, Method::GET, "/customers/CUS-00001/summary", None).await;
    assert_eq!((summary["jobs"]["count"].as_i64(), summary["invoices"]["count"].as_i64(), summary["open_balance"].as_i64()), (Some(2), Some(1), Some(9000)));

    // They move their own job on, but do not reassign it or touch others'.
    let path = format!("/jobs/{}/status", my_job["code"].as_str().unwrap());
    let window = json!({"status": "scheduled", "scheduled_start": "2026-12-01T09:00:00Z", "scheduled_end": "2026-12-01T11:00:00Z"});
    let (status, moved) = call(&app, &fieldworker, Method::POST, &path, Some(window.clone())).await;
    assert_eq!((status, moved["status"].as_str()), (StatusCode::OK, Some("scheduled")), "{moved}");
    let (status, _) = call(&app, &fieldworker, Method::POST, &path, Some(json!({"status": "in_progress", "assignees": []}))).await;
    assert_eq!(status, StatusCode::FORBIDDEN);
    let (status, _) = call(&app, &fieldworker, Method::POST, &format!("/jobs/{}/status", their_job["code"].as_str().unwrap()), Some(window)).await;
    assert_eq!(status, StatusCode::NOT_FOUND);
    let (_, job) = app.get(&format!("/jobs/{}", their_job["code"].as_str().unwrap())).await;
    assert_eq!(job["status"], "to_schedule");
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
        let token = dossier_service::tokens::create_token_in(&mut tx, &ctx, &email, "tests").await.unwrap();
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
        ("POST", "/customers/labels") => json!({"customers": [customer], "add": ["Hijacked"]}),
        ("POST", "/customers/{id}/sites") => json!({"address_line1": "1 A Street", "postcode": "LS1 1AA"}),
        ("POST", "/customers/{id}/status") => json!({"status": "dormant", "reason": "Quiet"}),
        ("POST", "/customers/{id}/erasure") => json!({"reason": "Erasure request"}),
        // Restoring takes no body (deleting takes its reason as a query parameter).
        ("POST", "/customers/{id}/restore") => return None,
        ("POST", "/customers/{id}/merge") => json!({"merged": customer}),
        ("POST", "/duplicates/dismissals") => json!({"a": customer, "b": customer}),
        // Undoing a merge takes no body.
        ("POST", "/merges/{id}/undo") => return None,
        ("POST", "/inquiries") => json!({"customer": customer, "title": "Leak"}),
        ("POST", "/inquiries/{id}/convert") => json!({"into": "job"}),
        ("POST", "/inquiries/{id}/status") => json!({"status": "contacted"}),
        ("POST", "/quotes") => json!({"customer": customer, "title": "Quote", "lines": [{"description": "x", "unit_price": 100}]}),
        ("POST", "/quotes/{id}/status") => json!({"status": "sent"}),
        ("POST", "/jobs") => json!({"customer": customer, "title": "Job"}),
        ("POST", "/jobs/{id}/status") => json!({"status": "cancelled"}),
        ("PATCH", "/jobs/{id}") => json!({"custom_fields": {}}),
        ("POST", "/custom-fields") => json!({"entity": "customer", "key": "hijacked", "label": "Hijacked", "type": "text"}),
        ("PATCH", "/custom-fields/{id}") => json!({"label": "Hijacked"}),
        ("PUT", "/custom-fields/order") => json!({"entity": "customer", "keys": ["tier_check"]}),
        ("POST", "/invoices") => json!({"customer": customer, "lines": [{"description": "x", "unit_price": 100}]}),
        ("POST", "/invoices/{id}/issue") => json!({}),
        ("POST", "/invoices/{id}/void") => json!({"reason": "Wrong"}),
        ("POST", "/payments") => json!({"customer": customer, "amount": 100}),
        ("POST", "/payments/{id}/allocations" | "/credit-notes/{id}/allocations") => json!({"allocations": [{"invoice": invoice, "amount": 1}]}),
        ("POST", "/credit-notes") => json!({"invoice": invoice, "amount": 1, "reason": "Sorry"}),
        ("POST", "/payments/{id}/refunds" | "/credit-notes/{id}/refunds") => json!({"amount": 1, "reason": "Hijacked"}),
        ("POST", "/payments/{id}/allocations/{allocation}/unallocate" | "/credit-notes/{id}/allocations/{allocation}/unallocate") => {
            json!({"reason": "Hijacked"})
        }
        ("PATCH", "/invoices/{id}") => json!({"notes": "Hijacked"}),
        ("PATCH", "/quotes/{id}") => json!({"title": "Hijacked"}),
        ("POST", "/session") => json!({"email": "admin@test.example", "password": "not the password"}),
        ("POST", "/session/invitation") => json!({"token": "dsi_00000000000000000000000000000000_nothing", "password": "a long enough password"}),
        ("POST", "/users") => json!({"email": "newcomer@other-org.example", "name": "Newcomer", "role": "office"}),
        ("PATCH", "/users/{id}") => json!({"role": "office"}),
        // Settings and the logo are the caller's own org's.
        ("PATCH", "/org/settings") => json!({"name": "Hijacked"}),
        ("PUT", "/org/logo") => json!({"not": "an image"}),
        ("POST", "/tokens") => json!({"name": "Sync"}),
        ("POST", "/customers/{id}/portal-links") => json!({}),
        ("POST", "/customers/{id}/messages") => json!({"channel": "note", "body": "Hijacked"}),
        ("PATCH", "/messages/{id}") => json!({"body": "Hijacked", "pinned": true}),
        ("POST", "/customers/{id}/follow-ups") => json!({"title": "Hijacked", "due_on": "2026-12-31"}),
        ("PATCH", "/follow-ups/{id}") => json!({"status": "done"}),
        // Sent as multipart/form-data by the loop below.
        ("POST", "/customers/{id}/files") => json!({"multipart": {"record_type": "job", "record": a["job"]}}),
        // An import's file, sent as multipart/form-data (a picture: refused as no table).
        ("POST", "/imports") => json!({"multipart": {}}),
        ("POST", "/imports/{id}/dry-run") => json!({"columns": [null, null]}),
        ("POST", "/imports/{id}/run") => return None,
        // The mail server's hook takes a raw mail and only an inbound secret.
        ("POST", "/inbound/email") => return None,
        ("POST", "/inbox/{id}/assign") => json!({"customer": customer}),
        ("POST", "/inbox/{id}/dismiss") => return None,
        ("POST", "/org/inbound-secret") => json!({}),
        // Retrying and cancelling a task take no body, nor cancelling or resending an email.
        ("POST", "/tasks/{id}/retry" | "/tasks/{id}/cancel" | "/messages/{id}/cancel-delivery" | "/messages/{id}/resend") => return None,
        ("POST", "/customers/{id}/emails") => json!({"to": ["leakcheck@test.example"], "subject": "Hijacked", "body": "Hijacked"}),
        ("POST", "/customers/{id}/sms") => json!({"to": "+447911123456", "body": "Hijacked"}),
        ("PUT", "/org/sms-settings") => json!({"provider_url": "http://127.0.0.1:9/", "sender": "Acme"}),
        // The provider's webhooks are signed with the org's secret, not a user's token.
        ("POST", "/webhooks/sms/{org_id}/receipt") => json!({"id": "sm-1", "status": "delivered"}),
        ("POST", "/webhooks/sms/{org_id}/inbound") => json!({"id": "sm-2", "from": "+447700900123", "to": "+447700900000", "text": "Hijacked"}),
        ("PATCH", "/org/automations") => json!({"statements": true}),
        // Templates are the caller's own org's; a preview names A's customer and invoice.
        ("PUT", "/templates/{purpose}") => json!({"subject": "Hijacked", "body": "Hijacked"}),
        ("POST", "/templates/{purpose}/reset") => return None,
        ("POST", "/templates/{purpose}/preview") => json!({"customer": customer, "record": invoice}),
        // The mail server is the caller's own org's.
        ("PUT", "/org/email-settings") => json!({"sender_address": "a@b.example", "host": "mail.b.example", "port": 25, "tls": "none"}),
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
    let (_, payment) = app.post("/payments", json!({"customer": cus, "amount": 200, "allocations": [{"invoice": invoice["code"], "amount": 100}]})).await;
    let (_, credit) = app.post("/credit-notes", json!({"customer": cus, "amount": 100, "reason": "Leakcheck"})).await;
    let (_, portal_link) = app.post(&format!("/customers/{cus}/portal-links"), json!({})).await;
    let (_, message) = app
        .post(&format!("/customers/{cus}/messages"), json!({"channel": "note", "body": "Leakcheck note", "record_type": "job", "record": job["code"]}))
        .await;
    let (_, follow_up) = app.post(&format!("/customers/{cus}/follow-ups"), json!({"title": "Leakcheck follow-up", "due_on": "2026-12-31"})).await;
    let (status, file) = app
        .upload(&format!("/customers/{cus}/files"), &[("record_type", "job"), ("record", job["code"].as_str().unwrap())], &[("leakcheck.png", common::PNG)])
        .await;
    assert_eq!(status, StatusCode::CREATED, "{file}");
    let file = &file["items"][0];
    // A merge of two other customers of A.
    let twin = app.customer(json!({"family_name": "Twin"})).await;
    let other_twin = app.customer(json!({"family_name": "Twin"})).await;
    let (status, merge) = app.post(&format!("/customers/{}/merge", twin["code"].as_str().unwrap()), json!({"merged": other_twin["code"]})).await;
    assert_eq!(status, StatusCode::OK, "{merge}");
    let (_, users) = app.get("/users").await;
    let (_, tokens) = app.get("/tokens").await;
    let (_, field) = app.post("/custom-fields", json!({"entity": "customer", "key": "tier_check", "label": "Tier check", "type": "text"})).await;
    let (_, tasks) = app.get("/tasks").await;
    let (_, inbound) = app.post("/org/inbound-secret", json!({})).await;
    let mail = "From: leakcheck@nowhere.example\r\nSubject: Leakcheck mail\r\nMessage-ID: <leakcheck@nowhere.example>\r\n\r\nLeakcheck\r\n";
    let request = axum::http::Request::builder()
        .method(Method::POST)
        .uri("/api/v1/inbound/email")
        .header("authorization", format!("Bearer {}", inbound["secret"].as_str().unwrap()))
        .body(axum::body::Body::from(mail))
        .unwrap();
    let (status, _, unmatched) = common::TestApp::send(&app.router, request).await;
    assert_eq!(status, StatusCode::CREATED, "{unmatched}");
    let (status, import) = app.upload("/imports", &[], &[("leakcheck.csv", b"Last Name,Email\nLeakcheck,leakcheck@test.example\n")]).await;
    assert_eq!(status, StatusCode::CREATED, "{import}");
    let mut ids = json!({
        "inbox_item": unmatched["inbox_item"]["id"], "import": import["id"],
        "task": tasks["items"][0]["id"],
        "user": users[0]["id"], "token": tokens[0]["id"], "portal_link": portal_link["id"],
        "customer": customer["id"], "contact": contact["id"], "site": site["id"], "inquiry": inquiry["id"], "quote": quote["id"],
        "job": job["id"], "invoice": invoice["id"], "payment": payment["id"], "credit": credit["id"], "message": message["id"],
        "follow_up": follow_up["id"], "file": file["id"], "allocation": payment["allocations"][0]["id"], "merge": merge["id"],
    });
    let secrets: Vec<String> = ids.as_object().unwrap().values().map(|v| v.as_str().unwrap().to_owned()).chain(["Leakcheck".to_owned()]).collect();
    // The org's field definitions are read by all its staff (A's fieldworker
    // too), so their id is no secret; org B's callers must still get 404.
    ids["custom_field"] = field["id"].clone();
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
            "users" => "user",
            "tokens" => "token",
            "portal-links" => "portal_link",
            "messages" => "message",
            "follow-ups" => "follow_up",
            "files" => "file",
            "custom-fields" => "custom_field",
            "tasks" => "task",
            "inbox" => "inbox_item",
            "imports" => "import",
            "merges" => "merge",
            other => panic!("no record for /{other}"),
        };
        ids[key].as_str().unwrap()
    };

    // Org B's users of every role call every route of the router with A's ids.
    let (org_b, _) = app.add_org("Other Services", "admin@other-org.example").await;
    let mut tokens = tokens_of_every_role(&app, &org_b).await;
    // And A's own fieldworker, who is assigned none of these records.
    tokens.push(("A's fieldworker".to_owned(), token_for(&app, "fieldworker").await));
    let spec: Value = serde_json::from_str(&dossier_web::openapi().to_json().unwrap()).unwrap();
    let mut answers = std::collections::BTreeMap::<u16, usize>::new();
    for (template, operations) in spec["paths"].as_object().unwrap() {
        for method in operations.as_object().unwrap().keys() {
            let method: Method = method.to_uppercase().parse().unwrap();
            let path = if template.contains("{id}") { template.replace("{id}", id_for(template)) } else { template.clone() };
            let path = path
                .replace("{label}", "VIP")
                .replace("{allocation}", ids["allocation"].as_str().unwrap())
                .replace("{purpose}", "invoice")
                .replace("{org_id}", &app.org.id.0.to_string());
            let body = body_for(&method, template, &ids);
            for (role, token) in &tokens {
                let (status, answer) = match body.as_ref().and_then(|b| b.get("multipart")) {
                    Some(fields) => {
                        let fields: Vec<(&str, &str)> = fields.as_object().unwrap().iter().map(|(k, v)| (k.as_str(), v.as_str().unwrap_or_default())).collect();
                        app.upload_as(Some(token), &path, &fields, &[("hijack.png", common::PNG)]).await
                    }
                    None => app.call_as(Some(token), method.clone(), &path, body.clone()).await,
                };
                *answers.entry(status.as_u16()).or_default() += 1;
                let text = answer.to_string();
                for secret in &secrets {
                    assert!(!text.contains(secret.as_str()), "{role} {method} {path} leaked {secret}: {text}");
                }
                let refused_reference = status == StatusCode::UNPROCESSABLE_ENTITY && answer["errors"][0]["code"] == "not_found";
                // Routes without an id act on the caller's own org (a list, a
                // new record of theirs) or on the caller (their session).
                let own_collection = !template.contains('{') && (status.is_success() || status == StatusCode::UNPROCESSABLE_ENTITY);
                let own_session =
                    template.starts_with("/session") && matches!(status, StatusCode::UNAUTHORIZED | StatusCode::TOO_MANY_REQUESTS | StatusCode::NOT_FOUND);
                // A user's token is no inbound secret.
                let hook = (template == "/inbound/email" || template.starts_with("/webhooks/")) && status == StatusCode::UNAUTHORIZED;
                // An org's own templates (only the preview names A's records).
                let own_template = matches!(template.as_str(), "/templates/{purpose}" | "/templates/{purpose}/reset")
                    && (status.is_success() || status == StatusCode::UNPROCESSABLE_ENTITY);
                assert!(
                    matches!(status, StatusCode::NOT_FOUND | StatusCode::FORBIDDEN)
                        || refused_reference
                        || own_collection
                        || own_session
                        || hook
                        || own_template,
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

/// Every amount-like thing in an answer: a number under a money key, a
/// currency symbol before digits, or one of the amounts this test wrote.
fn amounts_in(value: &Value, key: Option<&str>, found: &mut Vec<String>) {
    const AMOUNTS: [&str; 4] = ["780.00", "912.34", "43.21", "55.55"];
    match value {
        Value::Object(map) => map.iter().for_each(|(k, v)| amounts_in(v, Some(k), found)),
        Value::Array(items) => items.iter().for_each(|v| amounts_in(v, key, found)),
        Value::Number(n)
            if key.is_some_and(|k| dossier_domain::reading::MONEY_FIELDS.contains(&k) || k.ends_with("_balance") || k == "account_credit")
                || [78000, 91234, 4321, 5555].contains(&n.as_i64().unwrap_or(0)) =>
        {
            found.push(format!("{}: {n}", key.unwrap_or("")));
        }
        Value::String(s) => {
            let symbol_digit = s.char_indices().any(|(i, c)| "£$€".contains(c) && s[i + c.len_utf8()..].starts_with(|d: char| d.is_ascii_digit()));
            if symbol_digit || AMOUNTS.iter().any(|a| s.contains(a)) {
                found.push(format!("{}: {s}", key.unwrap_or("")));
            }
        }
        _ => {}
    }
}

both_backends!(a_fieldworker_gets_no_amount_in_any_answer, |app| {
    let (fieldworker_id, fieldworker) = user_for(&app, "fieldworker").await;
    let customer = app.customer(json!({"family_name": "Moneyless", "email": "moneyless@example.com"})).await;
    let (_, site) = app.post("/customers/CUS-00001/sites", json!({"address_line1": "1 Cash Street", "postcode": "LS1 1AA"})).await;
    let (_, contact) = app.post("/customers/CUS-00001/contacts", json!({"family_name": "Moneyless"})).await;
    let (status, job) = app.post("/jobs", json!({"customer": "CUS-00001", "title": "Fix boiler", "value": 78000, "assignees": [fieldworker_id]})).await;
    assert_eq!(status, StatusCode::CREATED, "{job}");
    let path = format!("/jobs/{}/status", job["code"].as_str().unwrap());
    let (status, _) = app.post(&path, json!({"status": "scheduled", "scheduled_start": "2026-12-01T09:00:00Z", "scheduled_end": "2026-12-01T11:00:00Z"})).await;
    assert_eq!(status, StatusCode::OK);
    let (_, quote) =
        app.post("/quotes", json!({"customer": "CUS-00001", "title": "New boiler", "lines": [{"description": "Boiler", "unit_price": 5555}]})).await;
    let (_, invoice) = app
        .post("/invoices", json!({"customer": "CUS-00001", "issue": true, "job_ids": [job["id"]], "lines": [{"description": "Fix", "unit_price": 91234}]}))
        .await;
    let (_, payment) =
        app.post("/payments", json!({"customer": "CUS-00001", "amount": 4321, "allocations": [{"invoice": invoice["code"], "amount": 4321}]})).await;
    // Taken back from the invoice (which bills the fieldworker's job), then part refunded.
    let payment_code = payment["code"].as_str().unwrap();
    let allocation = payment["allocations"][0]["id"].as_str().unwrap();
    let (status, _) = app.post(&format!("/payments/{payment_code}/allocations/{allocation}/unallocate"), json!({"reason": "Wrong invoice"})).await;
    assert_eq!(status, StatusCode::OK);
    let (status, _) = app.post(&format!("/payments/{payment_code}/refunds"), json!({"amount": 1234, "reason": "Overpaid"})).await;
    assert_eq!(status, StatusCode::OK);
    let (status, note) =
        app.post("/customers/CUS-00001/messages", json!({"channel": "note", "body": "Gate code 1234", "record_type": "job", "record": job["code"]})).await;
    assert_eq!(status, StatusCode::CREATED, "{note}");
    let follow_up =
        json!({"title": "Bring the invoice copy", "due_on": "2026-12-31", "assignee_id": fieldworker_id, "record_type": "job", "record": job["code"]});
    let (status, follow_up) = app.post("/customers/CUS-00001/follow-ups", follow_up).await;
    assert_eq!(status, StatusCode::CREATED, "{follow_up}");
    let (status, file) =
        app.upload("/customers/CUS-00001/files", &[("record_type", "job"), ("record", job["code"].as_str().unwrap())], &[("meter.png", common::PNG)]).await;
    assert_eq!(status, StatusCode::CREATED, "{file}");
    // Staff see the amounts, so the scan below is not vacuous.
    let (_, timeline) = app.get("/customers/CUS-00001/timeline").await;
    let mut staff = Vec::new();
    amounts_in(&timeline, None, &mut staff);
    assert!(
        staff.iter().any(|a| a.contains("£780.00")) && staff.iter().any(|a| a.contains("£43.21")) && staff.iter().any(|a| a.contains("£12.34")),
        "{staff:?}"
    );

    let ids = json!({"customers": customer["id"], "sites": site["id"], "contacts": contact["id"], "jobs": job["id"], "quotes": quote["id"],
        "invoices": invoice["id"], "payments": payment["id"], "users": fieldworker_id, "messages": note["id"],
        "follow-ups": follow_up["id"], "files": file["items"][0]["id"]});
    let spec: Value = serde_json::from_str(&dossier_web::openapi().to_json().unwrap()).unwrap();
    let mut asked = 0;
    let mut paths: Vec<String> = vec!["/customers?q=moneyless".into(), "/customers?q=CUS-00001".into(), "/jobs?customer=CUS-00001".into()];
    for (template, operations) in spec["paths"].as_object().unwrap() {
        if operations.get("get").is_none() {
            continue;
        }
        let resource = template.split('/').nth(1).unwrap();
        paths.push(template.replace("{id}", ids[resource].as_str().unwrap_or("none")).replace("{label}", "VIP"));
    }
    for path in &paths {
        let (status, answer) = call(&app, &fieldworker, Method::GET, path, None).await;
        asked += usize::from(status.is_success());
        let mut found = Vec::new();
        amounts_in(&answer, None, &mut found);
        assert!(found.is_empty(), "GET {path} ({status}) shows a fieldworker amounts: {found:?}\n{answer}");
    }
    println!("{} GET answers scanned for a fieldworker, {asked} of them successful: no amount in any", paths.len());
    assert!(asked >= 8, "the fieldworker reached too few routes for the scan to mean anything: {asked}");
});

both_backends!(the_demo_spreads_its_jobs_over_several_fieldworkers, |app| {
    let loaded = dossier_service::demo::load(
        &app.db,
        dossier_service::demo::DemoOptions { customers: 80, seed: 3, per_transaction: None, files: None, second_org: true },
        |_| {},
    )
    .await
    .unwrap();
    let (_, all) = app.call_as(Some(&loaded.api_token), Method::GET, "/jobs?limit=200", None).await;
    let total = all["items"].as_array().unwrap().len();
    let mut seen = Vec::new();
    for email in ["luis@demo.example", "nadia@demo.example", "ben@demo.example"] {
        let mut tx = app.db.begin().await.unwrap();
        let token = dossier_service::tokens::create_token_in(&mut tx, &Ctx::system(loaded.org.clone(), "Test"), email, "tests").await.unwrap();
        tx.commit().await.unwrap();
        let (status, jobs) = app.call_as(Some(&token.token), Method::GET, "/jobs?limit=200", None).await;
        assert_eq!(status, StatusCode::OK, "{jobs}");
        seen.push(jobs["items"].as_array().unwrap().len());
    }
    println!("demo jobs: {total} in all; each fieldworker's: {seen:?}");
    assert!(seen.iter().all(|n| *n > 0 && *n < total), "every fieldworker has some of the jobs, none all: {seen:?} of {total}");
});

//! The right to erasure: a customer's personal data goes from the tables
//! and from the activity log's content, the money stays, and the audit
//! chain still verifies — while tampering with any other row, or passing a
//! change off as an erasure, still fails it. SQLite and PostgreSQL.

mod common;

use axum::http::{Method, StatusCode};
use common::Backend;
use dossier_service::audit;
use serde_json::{Value, json};

/// A name, address and phone no other row holds: where they still appear
/// after the erasure, it did not reach.
const SECRETS: [&str; 5] = ["Zebulon", "Quaxley", "zeb.quaxley@example.org", "7 Quince Lane", "Gate code 4417"];

/// Customer 1 (to be erased) with a contact, a site, a note, a file, an
/// issued invoice part paid, and a portal link; customer 2 (kept) with a
/// note of its own.
async fn history(app: &common::TestApp) {
    app.customer(json!({"given_name": "Zebulon", "family_name": "Quaxley", "email": "zeb.quaxley@example.org", "phone": "020 7946 0123"})).await;
    app.customer(json!({"family_name": "Keeper"})).await;
    let (status, _) = app
        .post(
            "/customers/CUS-00001/contacts",
            json!({"given_name": "Zebulon", "family_name": "Quaxley Jr", "emails": [{"address": "zeb.quaxley@example.org"}]}),
        )
        .await;
    assert_eq!(status, StatusCode::CREATED);
    let (status, _) =
        app.post("/customers/CUS-00001/sites", json!({"address_line1": "7 Quince Lane", "postcode": "LS1 4AP", "access_notes": "Gate code 4417"})).await;
    assert_eq!(status, StatusCode::CREATED);
    let (status, _) = app.post("/customers/CUS-00001/messages", json!({"channel": "note", "body": "Zebulon Quaxley asked for mornings"})).await;
    assert_eq!(status, StatusCode::CREATED);
    let (status, _) = app.post("/customers/CUS-00002/messages", json!({"channel": "note", "body": "Keeper pays on time"})).await;
    assert_eq!(status, StatusCode::CREATED);
    let (status, invoice) = app
        .post("/invoices", json!({"customer": "CUS-00001", "issue": true, "notes": "Post to 7 Quince Lane", "lines": [{"description": "Boiler service", "unit_price": 12_000}]}))
        .await;
    assert_eq!(status, StatusCode::CREATED, "{invoice}");
    let (status, payment) = app
        .post("/payments", json!({"customer": "CUS-00001", "amount": 5_000, "method": "card", "allocations": [{"invoice": "INV-00001", "amount": 5_000}]}))
        .await;
    assert_eq!(status, StatusCode::CREATED, "{payment}");
    let (status, link) = app.post("/customers/CUS-00001/portal-links", json!({})).await;
    assert_eq!(status, StatusCode::CREATED, "{link}");
}

/// How many rows of `table` still hold `text` in any of `columns`.
async fn rows_holding(app: &common::TestApp, table: &str, columns: &[&str], text: &str) -> i64 {
    let like: Vec<String> = columns.iter().map(|c| format!("COALESCE(CAST({c} AS TEXT), '') LIKE '%{text}%'")).collect();
    app.db.count_raw(&format!("SELECT COUNT(*) FROM {table} WHERE {}", like.join(" OR "))).await.unwrap()
}

async fn erase(app: &common::TestApp) -> Value {
    let (status, erasure) = app.post("/customers/CUS-00001/erasure", json!({"reason": "Erasure request ER-2026-17"})).await;
    assert_eq!(status, StatusCode::OK, "{erasure}");
    erasure
}

fn text(value: &Value) -> String {
    value.to_string()
}

both_backends!(an_erasure_removes_the_personal_data_from_the_tables_and_the_history_and_the_audit_still_verifies, |app| {
    history(&app).await;
    let (_, before) = app.get("/customers/CUS-00001/summary").await;
    let (_, kept_before) = app.get("/customers/CUS-00002/timeline").await;
    let rows_before = app.count("activity").await;
    assert!(rows_holding(&app, "activity", &["summary", "changes", "detail"], "Quaxley").await > 0, "the history names the customer before");

    let erasure = erase(&app).await;
    assert!(erasure["entries_erased"].as_u64().unwrap() >= 7, "{erasure}");
    let customer = &erasure["customer"];
    assert_eq!(customer["display_name"], "Erased customer");
    assert_eq!((&customer["email"], &customer["phone"], &customer["given_name"]), (&Value::Null, &Value::Null, &Value::Null));
    assert_eq!(customer["status"], "deactivated");
    assert!(customer["erased_at"].is_string(), "{customer}");

    // Gone from every table that held it, and from the history's content.
    for secret in SECRETS {
        assert_eq!(rows_holding(&app, "customer", &["title", "given_name", "family_name", "display_name", "sort_name", "email", "phone"], secret).await, 0);
        assert_eq!(rows_holding(&app, "contact", &["given_name", "family_name", "emails"], secret).await, 0, "{secret} in contacts");
        assert_eq!(rows_holding(&app, "site", &["address_line1", "access_notes"], secret).await, 0, "{secret} in sites");
        assert_eq!(rows_holding(&app, "message", &["subject", "body"], secret).await, 0, "{secret} in messages");
        assert_eq!(rows_holding(&app, "invoice", &["notes"], secret).await, 0, "{secret} in invoices");
        assert_eq!(rows_holding(&app, "customer_search", &["term", "sort_name"], &secret.to_lowercase()).await, 0, "{secret} in search");
        assert_eq!(rows_holding(&app, "activity", &["summary", "changes", "detail", "actor_name"], secret).await, 0, "{secret} in the history");
    }
    let (_, found) = app.get("/customers?q=quaxley").await;
    assert_eq!(found["items"], json!([]), "search finds nothing by the erased name");
    let (_, found) = app.get("/customers?q=CUS-00001").await;
    assert_eq!(found["items"][0]["code"], "CUS-00001", "the code still finds it");

    // The money stays as it was: numbers, dates, amounts, balance.
    let (_, invoice) = app.get("/invoices/INV-00001").await;
    assert_eq!((invoice["code"].as_str(), invoice["total"].as_i64(), invoice["status"].as_str()), (Some("INV-00001"), Some(12_000), Some("open")));
    assert!(invoice["issue_date"].is_string());
    let (_, after) = app.get("/customers/CUS-00001/summary").await;
    assert_eq!(after["balances"], before["balances"]);
    assert_eq!(after["bars"], before["bars"]);
    let (_, links) = app.get("/customers/CUS-00001/portal-links").await;
    let links = links.as_array().unwrap();
    assert!(!links.is_empty() && links.iter().all(|l| !l["revoked_at"].is_null()), "portal links revoked: {links:?}");

    // The timeline keeps its shape: every entry, with when, what kind and
    // which staff member, its content a tombstone; the erasure itself on top.
    let (_, timeline) = app.get("/customers/CUS-00001/timeline?limit=100").await;
    let items = timeline["items"].as_array().unwrap();
    assert_eq!(items[0]["kind"], "customer.erased");
    assert_eq!(items[0]["erased"], false);
    assert!(items[0]["summary"].as_str().unwrap().contains("Erasure request ER-2026-17"), "who and why are kept: {}", items[0]);
    assert_eq!(items[0]["detail"]["erased_rows"], erasure["entries_erased"]);
    assert!(items[1..].iter().all(|i| i["erased"] == true && i["summary"] == "Personal data erased"), "{timeline}");
    assert!(items.iter().any(|i| i["kind"] == "invoice.issued"));
    assert_eq!(app.count("activity").await, rows_before + 1, "nothing is removed from the log; one entry is added");

    // Nobody else's history changed.
    let (_, kept_after) = app.get("/customers/CUS-00002/timeline").await;
    assert_eq!(kept_after, kept_before);

    let report = audit::verify(&app.db, |_| {}).await.unwrap();
    assert_eq!(report.first_bad, None, "the chain verifies after the erasure");
    assert_eq!(report.rows_checked as i64, rows_before + 1);
    assert!(!text(&erasure).contains("Quaxley"));
});

/// The sequence number of the newest row about customer 2 ("Keeper").
async fn keepers_row(app: &common::TestApp) -> i64 {
    let (_, timeline) = app.get("/customers/CUS-00002/timeline?limit=1").await;
    let id = timeline["items"][0]["id"].as_str().unwrap().to_owned();
    app.db.count_raw(&format!("SELECT seq FROM activity WHERE id = {}", id_literal(app.backend, &id))).await.unwrap()
}

/// An activity id as SQL of the backend.
fn id_literal(backend: Backend, id: &str) -> String {
    match backend {
        Backend::Sqlite => format!("X'{}'", id.replace('-', "")),
        Backend::Postgres => format!("'{id}'"),
    }
}

async fn erasure_id(app: &common::TestApp) -> String {
    let (_, timeline) = app.get("/customers/CUS-00001/timeline?limit=1").await;
    id_literal(app.backend, timeline["items"][0]["id"].as_str().unwrap())
}

both_backends!(after_an_erasure_altering_another_row_still_fails_the_audit, |app| {
    history(&app).await;
    erase(&app).await;
    let seq = keepers_row(&app).await;
    app.disable_activity_guard().await;
    app.db.execute_raw(&format!("UPDATE activity SET summary = 'Keeper never paid' WHERE seq = {seq}")).await.unwrap();
    let bad = audit::verify(&app.db, |_| {}).await.unwrap().first_bad.expect("tampering detected");
    assert_eq!(bad.seq, seq);
    assert!(bad.reason.contains("content was altered"), "{}", bad.reason);
});

both_backends!(passing_a_change_off_as_part_of_an_erasure_fails_the_audit, |app| {
    history(&app).await;
    erase(&app).await;
    let seq = keepers_row(&app).await;
    let erasure = erasure_id(&app).await;
    app.disable_activity_guard().await;
    // Rewrite another customer's row and mark it as tombstoned by the real
    // erasure: its content is no longer checked, but the erasure's recorded
    // digest no longer matches its rows.
    app.db
        .execute_raw(&format!("UPDATE activity SET summary = 'Personal data erased', detail = '{{}}', erased_by = {erasure} WHERE seq = {seq}"))
        .await
        .unwrap();
    let bad = audit::verify(&app.db, |_| {}).await.unwrap().first_bad.expect("a forged tombstone is detected");
    assert!(bad.reason.contains("erasure recorded"), "{}", bad.reason);
});

both_backends!(a_tombstone_without_a_recorded_erasure_fails_the_audit, |app| {
    history(&app).await;
    let seq = keepers_row(&app).await;
    let rows = app.count("activity").await;
    app.disable_activity_guard().await;
    // Mark a row erased by an earlier row that is no erasure, or by one that
    // does not exist: neither is an erasure of this chain.
    let first_row = "(SELECT id FROM activity WHERE seq = 1)";
    app.db.execute_raw(&format!("UPDATE activity SET summary = 'Personal data erased', erased_by = {first_row} WHERE seq = {seq}")).await.unwrap();
    let bad = audit::verify(&app.db, |_| {}).await.unwrap().first_bad.expect("a tombstone naming a row before it is detected");
    assert!(bad.reason.contains("not an erasure of this chain"), "{}", bad.reason);
    assert!(rows > seq);
});

both_backends!(the_database_lets_an_erasure_replace_content_once_and_nothing_else, |app| {
    history(&app).await;
    erase(&app).await;
    for sql in [
        // Content without the tombstone mark.
        "UPDATE activity SET summary = 'rewritten' WHERE seq = 3",
        // A tombstone that changes the hashes.
        "UPDATE activity SET erased_by = id, content_hash = chain_hash WHERE erased_by IS NULL",
        // A tombstoned row again.
        "UPDATE activity SET summary = 'again' WHERE erased_by IS NOT NULL",
        "DELETE FROM activity WHERE erased_by IS NOT NULL",
    ] {
        let error = app.db.execute_raw(sql).await.expect_err(sql);
        assert!(error.to_string().contains("append-only"), "{sql}: {error}");
    }
    assert_eq!(audit::verify(&app.db, |_| {}).await.unwrap().first_bad, None);
});

both_backends!(only_admins_erase_with_a_reason_and_only_once, |app| {
    history(&app).await;
    let (_, office) = app.user("office").await;
    let (status, problem) = app.call_as(Some(&office), Method::POST, "/customers/CUS-00001/erasure", Some(json!({"reason": "asked"}))).await;
    assert_eq!(status, StatusCode::FORBIDDEN, "{problem}");
    let (status, problem) = app.post("/customers/CUS-00001/erasure", json!({})).await;
    assert_eq!((status, problem["code"].as_str()), (StatusCode::UNPROCESSABLE_ENTITY, Some("validation_failed")), "{problem}");
    let (status, problem) = app.post("/customers/CUS-00001/erasure", json!({"reason": "x".repeat(501)})).await;
    assert_eq!(status, StatusCode::UNPROCESSABLE_ENTITY, "{problem}");
    let (_, still) = app.get("/customers/CUS-00001").await;
    assert_eq!(still["family_name"], "Quaxley", "a refused erasure changes nothing");
    erase(&app).await;
    let (status, problem) = app.post("/customers/CUS-00001/erasure", json!({"reason": "again"})).await;
    assert_eq!((status, problem["code"].as_str()), (StatusCode::CONFLICT, Some("already_erased")), "{problem}");
    // An erased customer is deactivated: nothing new is written to it.
    let (status, _) = app.post("/customers/CUS-00001/messages", json!({"channel": "note", "body": "hello"})).await;
    assert_eq!(status, StatusCode::CONFLICT);
});

both_backends!(an_admin_erases_a_customer_from_its_profile_after_typing_its_code, |app| {
    history(&app).await;
    app.user("office").await;
    let office = app.session("office").await;
    let (_, page) = app.page(Some(&office), "/customers/CUS-00001").await;
    assert!(!page.contains("Erase personal data"), "office staff are not offered the erasure");
    let (status, _) = app.page(Some(&office), "/customers/CUS-00001/erasure").await;
    assert_eq!(status, StatusCode::OK, "the form shows, the erasure itself is refused");
    let (status, _, _) = app.form(&office, "/customers/CUS-00001/erasure", &[("reason", "asked"), ("confirm", "CUS-00001")]).await;
    assert_eq!(status, StatusCode::FORBIDDEN);

    let admin = app.session("admin").await;
    let (_, page) = app.page(Some(&admin), "/customers/CUS-00001").await;
    assert!(page.contains("/customers/CUS-00001/erasure"), "admins are offered the erasure");
    let (status, _, page) = app.form(&admin, "/customers/CUS-00001/erasure", &[("reason", "asked by phone"), ("confirm", "CUS-00002")]).await;
    assert_eq!(status, StatusCode::UNPROCESSABLE_ENTITY);
    assert!(page.contains("Type CUS-00001 to confirm"), "{page}");
    let (_, still) = app.get("/customers/CUS-00001").await;
    assert_eq!(still["family_name"], "Quaxley");
    let (status, location, _) = app.form(&admin, "/customers/CUS-00001/erasure", &[("reason", "asked by phone"), ("confirm", "CUS-00001")]).await;
    assert_eq!((status, location.as_str()), (StatusCode::SEE_OTHER, "/customers/CUS-00001?tab=history"));
    let (_, page) = app.page(Some(&admin), "/customers/CUS-00001?tab=history").await;
    assert!(page.contains("Erased customer") && !page.contains("Quaxley"), "{page}");
    assert!(page.contains("Personal data erased"));
    assert!(!page.contains("/customers/CUS-00001/erasure"), "an erased customer is not offered the erasure again");
});

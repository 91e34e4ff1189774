//! Deleting a customer and restoring it, on SQLite and PostgreSQL: a
//! deleted customer is gone from lists, search and counts, opens read-only
//! by its code with who deleted it, when and why, refuses every write to it
//! and to what it owns, loses its portal link and gets no automated email;
//! an admin restores it as it was within 30 days, and not after.

mod common;

use axum::http::{Method, StatusCode};
use common::TestApp;
use common::smtp::SmtpSink;
use dossier_domain::data::deletion::DeleteInput;
use dossier_service::automation::sends;
use jiff::{SignedDuration, Timestamp, ToSpan};
use serde_json::{Value, json};

async fn ok(app: &TestApp, method: Method, path: &str, body: Option<Value>) -> Value {
    let (status, answer) = app.call(method, path, body).await;
    assert!(status.is_success(), "{path}: {status} {answer}");
    answer
}

fn codes(page: &Value) -> Vec<String> {
    page["items"].as_array().unwrap().iter().map(|i| i["code"].as_str().unwrap().to_owned()).collect()
}

async fn history_length(app: &TestApp, customer: &str) -> usize {
    let (_, timeline) = app.get(&format!("/customers/{customer}/timeline?limit=200")).await;
    timeline["items"].as_array().unwrap().len()
}

async fn kinds(app: &TestApp, customer: &str) -> Vec<String> {
    let (_, timeline) = app.get(&format!("/customers/{customer}/timeline?limit=200")).await;
    timeline["items"].as_array().unwrap().iter().map(|i| i["kind"].as_str().unwrap().to_owned()).collect()
}

const LINES: &str = r#"[{"description": "Boiler service", "unit_price": 9000}]"#;

/// Lee (CUS-00001) with a contact, a site, an inquiry, a job, an issued
/// invoice and a follow-up; Kim (CUS-00002) with an inquiry.
async fn world(app: &TestApp) {
    let lines: Value = serde_json::from_str(LINES).unwrap();
    app.customer(json!({"given_name": "Ann", "family_name": "Leeming", "email": "ann@leeming.example", "labels": ["VIP"]})).await;
    app.customer(json!({"given_name": "Kim", "family_name": "Kowalski"})).await;
    ok(
        app,
        Method::POST,
        "/customers/CUS-00001/contacts",
        Some(json!({"given_name": "Bo", "family_name": "Leeming", "emails": [{"address": "bo@leeming.example"}]})),
    )
    .await;
    ok(app, Method::POST, "/customers/CUS-00001/sites", Some(json!({"address_line1": "1 Quarry Lane", "town": "Otley", "postcode": "LS21 1AA"}))).await;
    ok(app, Method::POST, "/inquiries", Some(json!({"customer": "CUS-00001", "title": "Leak"}))).await;
    ok(app, Method::POST, "/inquiries", Some(json!({"customer": "CUS-00002", "title": "Draught"}))).await;
    ok(app, Method::POST, "/jobs", Some(json!({"customer": "CUS-00001", "title": "Service"}))).await;
    ok(app, Method::POST, "/invoices", Some(json!({"customer": "CUS-00001", "issue": true, "lines": lines}))).await;
    ok(app, Method::POST, "/customers/CUS-00001/follow-ups", Some(json!({"title": "Call back", "due_on": "2026-12-31"}))).await;
}

both_backends!(a_deleted_customer_is_gone_from_lists_search_and_counts_and_opens_read_only_saying_who_when_and_why, |app| {
    world(&app).await;
    let (_, before) = app.get("/customers/CUS-00001").await;
    assert!(before.get("deleted").is_none(), "{before}");

    let deleted = ok(&app, Method::DELETE, "/customers/CUS-00001?reason=Duplicate%20of%20CUS-00002", None).await;
    let at: Timestamp = deleted["deleted"]["at"].as_str().unwrap().parse().unwrap();
    let until: Timestamp = deleted["deleted"]["restorable_until"].as_str().unwrap().parse().unwrap();
    assert_eq!(until.duration_since(at), SignedDuration::from_hours(24 * 30), "restorable for 30 days");
    assert_eq!(deleted["deleted"]["reason"], "Duplicate of CUS-00002");
    assert_eq!(deleted["deleted"]["by"], "Ada Admin", "{deleted}");

    // Gone from the directory, its search (name, email, contact, site) and
    // every list over all customers.
    assert_eq!(codes(&app.get("/customers").await.1), ["CUS-00002"]);
    assert_eq!(codes(&app.get("/customers?sort=code").await.1), ["CUS-00002"]);
    for q in ["leeming", "ann@leeming.example", "bo", "otley", "CUS-00001"] {
        let (status, found) = app.get(&format!("/customers?q={q}")).await;
        assert_eq!((status, codes(&found)), (StatusCode::OK, Vec::<String>::new()), "search for {q}");
    }
    assert_eq!(codes(&app.get("/customers?label=VIP").await.1), Vec::<String>::new());
    assert_eq!(codes(&app.get("/inquiries").await.1), ["INQ-00002"], "Kim's inquiry only");
    for list in ["/jobs", "/invoices", "/invoices?state=open", "/follow-ups?assignee=anyone"] {
        let (status, page) = app.get(list).await;
        assert_eq!(status, StatusCode::OK, "{list}: {page}");
        assert!(page["items"].as_array().unwrap().is_empty(), "{list}: {page}");
    }

    // Its id and code still open it, read-only, with the deletion.
    let (status, by_code) = app.get("/customers/CUS-00001").await;
    assert_eq!(status, StatusCode::OK);
    assert_eq!(by_code["deleted"], deleted["deleted"]);
    let (status, by_id) = app.get(&format!("/customers/{}", before["id"].as_str().unwrap())).await;
    assert_eq!((status, &by_id["deleted"]), (StatusCode::OK, &deleted["deleted"]));
    let (status, _) = app.get("/customers/CUS-00001/summary").await;
    assert_eq!(status, StatusCode::OK, "its own records can still be read");

    // The Deleted list has it, with who, when and why.
    let page = ok(&app, Method::GET, "/customers/deleted", None).await;
    assert_eq!(codes(&page), ["CUS-00001"]);
    assert_eq!(page["items"][0]["deleted"], deleted["deleted"]);
    // Its history records the step, with the reason.
    let (_, timeline) = app.get("/customers/CUS-00001/timeline?limit=200").await;
    let entry = timeline["items"].as_array().unwrap().iter().find(|e| e["kind"] == "customer.deleted").expect("customer.deleted").clone();
    assert!(entry["summary"].as_str().unwrap().contains("Duplicate of CUS-00002"), "{entry}");

    // A reason has a bound; a second delete is refused.
    let (status, problem) = app.delete(&format!("/customers/CUS-00002?reason={}", "x".repeat(501))).await;
    assert_eq!((status, problem["errors"][0]["field"].as_str()), (StatusCode::UNPROCESSABLE_ENTITY, Some("reason")), "{problem}");
    let (status, problem) = app.delete("/customers/CUS-00001").await;
    assert_eq!((status, problem["code"].as_str()), (StatusCode::CONFLICT, Some("already_deleted")));
});

both_backends!(nothing_of_a_deleted_customer_may_change_and_its_portal_link_stops_working, |app| {
    world(&app).await;
    let link = ok(&app, Method::POST, "/customers/CUS-00001/portal-links", Some(json!({}))).await;
    let url = link["url"].as_str().unwrap().to_owned();
    assert_eq!(app.page(None, &url).await.0, StatusCode::OK);
    let (_, contacts) = app.get("/customers/CUS-00001/contacts").await;
    let contact = contacts.as_array().unwrap()[0]["id"].as_str().unwrap().to_owned();
    ok(&app, Method::DELETE, "/customers/CUS-00001", None).await;
    let before = history_length(&app, "CUS-00001").await;

    assert_eq!(app.page(None, &url).await.0, StatusCode::NOT_FOUND, "its portal link stops working");
    let lines: Value = serde_json::from_str(LINES).unwrap();
    let attempts = [
        (Method::PATCH, "/customers/CUS-00001".to_owned(), json!({"source": "Radio"})),
        (Method::POST, "/customers/CUS-00001/status".to_owned(), json!({"status": "dormant", "reason": "Quiet"})),
        (Method::POST, "/customers/CUS-00001/labels".to_owned(), json!({"labels": ["Gold"]})),
        (Method::POST, "/customers/CUS-00001/contacts".to_owned(), json!({"family_name": "Other"})),
        (Method::PATCH, format!("/contacts/{contact}"), json!({"position": "Boss"})),
        (Method::POST, "/customers/CUS-00001/sites".to_owned(), json!({"address_line1": "2 Quarry Lane", "postcode": "LS21 1AB"})),
        (Method::POST, "/inquiries".to_owned(), json!({"customer": "CUS-00001", "title": "Another leak"})),
        (Method::POST, "/inquiries/INQ-00001/status".to_owned(), json!({"status": "contacted"})),
        (Method::POST, "/jobs".to_owned(), json!({"customer": "CUS-00001", "title": "Service"})),
        (Method::POST, "/jobs/BOK-00001/status".to_owned(), json!({"status": "cancelled"})),
        (Method::POST, "/invoices".to_owned(), json!({"customer": "CUS-00001", "lines": lines})),
        (Method::POST, "/invoices/INV-00001/void".to_owned(), json!({"reason": "Wrong"})),
        (Method::POST, "/payments".to_owned(), json!({"customer": "CUS-00001", "amount": 100})),
        (Method::POST, "/customers/CUS-00001/messages".to_owned(), json!({"channel": "note", "body": "Still here?"})),
        (Method::POST, "/customers/CUS-00001/follow-ups".to_owned(), json!({"title": "Again", "due_on": "2026-12-31"})),
        (Method::POST, "/customers/CUS-00001/portal-links".to_owned(), json!({})),
        (Method::DELETE, format!("/portal-links/{}", link["id"].as_str().unwrap()), Value::Null),
    ];
    for (method, path, body) in attempts {
        let body = (!body.is_null()).then_some(body);
        let (status, problem) = app.call(method.clone(), &path, body).await;
        assert_eq!((status, problem["code"].as_str()), (StatusCode::CONFLICT, Some("customer_deleted")), "{method} {path}: {problem}");
        assert!(problem["detail"].as_str().unwrap().contains("CUS-00001"), "{problem}");
    }
    let (status, problem) = app.upload("/customers/CUS-00001/files", &[], &[("photo.png", common::PNG)]).await;
    assert_eq!((status, problem["code"].as_str()), (StatusCode::CONFLICT, Some("customer_deleted")), "{problem}");
    assert_eq!(history_length(&app, "CUS-00001").await, before, "a refused write writes nothing");
    let (_, invoice) = app.get("/invoices/INV-00001").await;
    assert_eq!(invoice["status"], "open");

    // Restored, it works again: the same link opens, a note is written.
    ok(&app, Method::POST, "/customers/CUS-00001/restore", None).await;
    assert_eq!(app.page(None, &url).await.0, StatusCode::OK, "its link works again");
    ok(&app, Method::POST, "/customers/CUS-00001/messages", Some(json!({"channel": "note", "body": "Back"}))).await;
});

both_backends!(restoring_brings_the_customer_back_exactly_as_it_was, |app| {
    world(&app).await;
    let (_, customer) = app.get("/customers/CUS-00001").await;
    let (_, summary) = app.get("/customers/CUS-00001/summary").await;
    let (_, contacts) = app.get("/customers/CUS-00001/contacts").await;
    let (_, sites) = app.get("/customers/CUS-00001/sites").await;
    ok(&app, Method::DELETE, "/customers/CUS-00001?reason=By%20mistake", None).await;

    let restored = ok(&app, Method::POST, "/customers/CUS-00001/restore", None).await;
    assert!(restored.get("deleted").is_none(), "{restored}");
    assert_eq!(app.get("/customers/CUS-00001").await.1, customer, "the profile, status and labels as they were");
    // (Its last activity is the restore now.)
    let without_last = |mut summary: Value| {
        summary.as_object_mut().unwrap().remove("last_activity_at");
        summary
    };
    assert_eq!(without_last(app.get("/customers/CUS-00001/summary").await.1), without_last(summary), "its bars and balances as they were");
    assert_eq!(app.get("/customers/CUS-00001/contacts").await.1, contacts);
    assert_eq!(app.get("/customers/CUS-00001/sites").await.1, sites);
    // Back in the lists and every search.
    assert_eq!(codes(&app.get("/customers").await.1), ["CUS-00002", "CUS-00001"]);
    for q in ["leeming", "ann@leeming.example", "bo", "otley", "CUS-00001"] {
        assert_eq!(codes(&app.get(&format!("/customers?q={q}")).await.1), ["CUS-00001"], "search for {q}");
    }
    assert_eq!(codes(&app.get("/inquiries").await.1), ["INQ-00002", "INQ-00001"]);
    assert_eq!(codes(&app.get("/invoices").await.1), ["INV-00001"]);
    assert_eq!(app.get("/follow-ups?assignee=anyone").await.1["items"].as_array().unwrap().len(), 1);
    assert!(app.get("/customers/deleted").await.1["items"].as_array().unwrap().is_empty());
    // Each step is on its history; restoring twice is refused.
    let kinds = kinds(&app, "CUS-00001").await;
    assert_eq!(&kinds[..2], ["customer.restored", "customer.deleted"], "{kinds:?}");
    let (status, problem) = app.post("/customers/CUS-00001/restore", json!({})).await;
    assert_eq!((status, problem["code"].as_str()), (StatusCode::CONFLICT, Some("not_deleted")));
});

both_backends!(after_its_window_a_deleted_customer_cannot_be_restored_and_is_listed_for_the_purge, |app| {
    world(&app).await;
    // Deleted 31 days ago (the service's clock moved back), and Kim just now.
    let long_ago = app.ctx().at(Timestamp::now() - SignedDuration::from_hours(24 * 31));
    dossier_service::deletion::delete_customer(&app.db, &long_ago, "CUS-00001", DeleteInput { reason: Some("Moved away".into()) }).await.unwrap();
    ok(&app, Method::DELETE, "/customers/CUS-00002", None).await;

    let (status, problem) = app.post("/customers/CUS-00001/restore", json!({})).await;
    assert_eq!((status, problem["code"].as_str()), (StatusCode::CONFLICT, Some("restore_window_ended")), "{problem}");
    let (_, customer) = app.get("/customers/CUS-00001").await;
    assert!(customer["deleted"].is_object(), "still deleted: {customer}");
    let past: Vec<String> = dossier_service::deletion::past_window(&app.db, &app.ctx(), 10).await.unwrap().into_iter().map(|c| c.code).collect();
    assert_eq!(past, ["CUS-00001"], "only the one whose window ended");
    // Kim's window has not ended.
    ok(&app, Method::POST, "/customers/CUS-00002/restore", None).await;
});

both_backends!(the_nightly_purge_erases_customers_past_their_window_and_keeps_their_money, |app| {
    world(&app).await;
    let long_ago = app.ctx().at(Timestamp::now() - SignedDuration::from_hours(24 * 31));
    dossier_service::deletion::delete_customer(&app.db, &long_ago, "CUS-00001", DeleteInput { reason: Some("Moved away".into()) }).await.unwrap();
    ok(&app, Method::DELETE, "/customers/CUS-00002", None).await;
    let (_, invoice_before) = app.get("/invoices/INV-00001").await;

    let system = dossier_service::Ctx::system(app.org.clone(), "Dossier");
    assert_eq!(dossier_service::deletion::purge(&app.db, &system).await.unwrap(), 1, "only the one whose window ended");
    let (_, purged) = app.get("/customers/CUS-00001").await;
    assert_eq!(purged["display_name"], "Erased customer");
    assert!(purged["erased_at"].is_string() && purged["deleted"].is_object(), "{purged}");
    assert_eq!(purged["email"], Value::Null);
    let (_, invoice_after) = app.get("/invoices/INV-00001").await;
    assert_eq!(invoice_after, invoice_before, "the invoice keeps its number, dates and amounts");
    let (_, timeline) = app.get("/customers/CUS-00001/timeline").await;
    assert_eq!(timeline["items"][0]["kind"], "customer.erased");
    assert_eq!(timeline["items"][0]["actor"]["type"], "system");
    assert!(timeline["items"].as_array().unwrap()[1..].iter().all(|i| i["erased"] == true), "{timeline}");
    assert_eq!(dossier_service::deletion::purge(&app.db, &system).await.unwrap(), 0, "a purged customer is not purged again");
    // The other one is within its window: untouched, still restorable.
    ok(&app, Method::POST, "/customers/CUS-00002/restore", None).await;
    let (_, kim) = app.get("/customers/CUS-00002").await;
    assert_eq!(kim["family_name"], "Kowalski");
    assert_eq!(dossier_service::audit::verify(&app.db, |_| {}).await.unwrap().first_bad, None);
});

both_backends!(only_owners_and_admins_delete_see_and_restore_deleted_customers, |app| {
    world(&app).await;
    let mut staff = Vec::new();
    for role in ["office", "finance", "sales", "support", "fieldworker"] {
        let (_, token) = app.user(role).await;
        let (status, problem) = app.call_as(Some(&token), Method::DELETE, "/customers/CUS-00002", None).await;
        assert_eq!((status, problem["code"].as_str()), (StatusCode::FORBIDDEN, Some("forbidden")), "{role}");
        staff.push((role, token));
    }
    ok(&app, Method::DELETE, "/customers/CUS-00001", None).await;
    for (role, token) in &staff {
        let (status, _) = app.call_as(Some(token), Method::GET, "/customers/deleted", None).await;
        assert_eq!(status, StatusCode::FORBIDDEN, "{role}");
        let (status, _) = app.call_as(Some(token), Method::POST, "/customers/CUS-00001/restore", None).await;
        assert_eq!(status, StatusCode::FORBIDDEN, "{role}");
    }
    assert_eq!(codes(&app.get("/customers").await.1), ["CUS-00002"], "Kim stays; Lee stays deleted");
    let (_, owner) = app.user("owner").await;
    let (status, restored) = app.call_as(Some(&owner), Method::POST, "/customers/CUS-00001/restore", None).await;
    assert_eq!(status, StatusCode::OK, "an owner restores: {restored}");
    assert_eq!(codes(&app.get("/customers").await.1), ["CUS-00002", "CUS-00001"]);
});

both_backends!(automations_send_a_deleted_customer_nothing, |app| {
    let Some(sink) = SmtpSink::start() else { return };
    app.use_mail_server(sink.port).await;
    let settings = json!({"invoice_email": true, "payment_reminders": true, "reminder_days": [7], "statements": true, "statement_day": 15});
    ok(&app, Method::PATCH, "/org/automations", Some(settings)).await;
    let today = Timestamp::now().to_zoned(app.org.zone()).date();
    for name in ["Lee", "Kim"] {
        let code =
            app.customer(json!({"family_name": name, "email": format!("{}@home.example", name.to_lowercase())})).await["code"].as_str().unwrap().to_owned();
        let invoice = json!({"customer": code, "issue": true, "due_date": today, "lines": [{"description": "Boiler service", "unit_price": 10_000}]});
        ok(&app, Method::POST, "/invoices", Some(invoice)).await;
    }
    // Lee is deleted after its invoice's email was queued, before it went.
    ok(&app, Method::DELETE, "/customers/CUS-00001", None).await;
    app.work_until_idle().await;
    let daily = |day: jiff::civil::Date| {
        let (db, ctx) = (app.db.clone(), app.ctx());
        async move { sends::daily_run(&db, &ctx, day).await.unwrap() }
    };
    assert_eq!(daily(today.checked_add(8.days()).unwrap()).await.reminders, 1, "Kim's reminder only");
    let next_month = today.first_of_month().checked_add(1.month()).unwrap();
    assert_eq!(daily(next_month.checked_add(14.days()).unwrap()).await.statements, 1, "Kim's statement only");
    app.work_until_idle().await;
    let to: Vec<Vec<String>> = sink.messages().into_iter().map(|m| m.to).collect();
    // (The reminder's run may fall on a statement day too, so Kim may have two statements.)
    assert!(to.len() >= 3, "Kim's invoice, reminder and statement: {to:?}");
    assert!(to.iter().all(|to| to == &["kim@home.example"]), "nothing to Lee: {to:?}");
    assert!(!kinds(&app, "CUS-00001").await.iter().any(|k| k.starts_with("message.")), "nothing on Lee's history either");
});

/// Hand a raw mail to the inbound hook with the org's (new) inbound secret.
async fn deliver(app: &TestApp, raw: String) -> Value {
    let (status, made) = app.post("/org/inbound-secret", json!({})).await;
    assert_eq!(status, StatusCode::CREATED, "{made}");
    let request = axum::http::Request::builder()
        .method(Method::POST)
        .uri("/api/v1/inbound/email")
        .header("content-type", "message/rfc822")
        .header("authorization", format!("Bearer {}", made["secret"].as_str().unwrap()))
        .body(axum::body::Body::from(raw))
        .unwrap();
    let (status, _, done) = TestApp::send(&app.router, request).await;
    assert_eq!(status, StatusCode::CREATED, "{done}");
    done
}

both_backends!(mail_for_a_deleted_customer_waits_in_the_inbox, |app| {
    world(&app).await;
    // An email as if Dossier had sent it with this Message-ID (a test-only update).
    ok(
        &app,
        Method::POST,
        "/customers/CUS-00001/messages",
        Some(json!({"channel": "email", "direction": "outbound", "visibility": "customer", "body": "Tuesday?"})),
    )
    .await;
    let updated = app.db.execute_raw("UPDATE message SET email_message_id = 'sent-1@test.example' WHERE body = 'Tuesday?'").await.unwrap();
    assert_eq!(updated, 1);
    ok(&app, Method::DELETE, "/customers/CUS-00001", None).await;
    let mail = |from: &str, id: &str, extra: &str| {
        format!(
            "From: {from}\r\nTo: office@test.example\r\nSubject: Visit\r\nMessage-ID: <{id}>\r\n{extra}MIME-Version: 1.0\r\nContent-Type: text/plain\r\n\r\nHello\r\n"
        )
    };
    // Neither its thread nor its address finds it.
    let reply = deliver(&app, mail("someone@elsewhere.example", "r-1@elsewhere.example", "In-Reply-To: <sent-1@test.example>\r\n")).await;
    assert_eq!(reply["outcome"], "unmatched", "{reply}");
    let from_it = deliver(&app, mail("ann@leeming.example", "r-2@leeming.example", "")).await;
    assert_eq!(from_it["outcome"], "unmatched", "{from_it}");
    assert_eq!(from_it["inbox_item"]["reason"], "no customer or contact has this address");
});

both_backends!(in_the_web_app_an_admin_deletes_from_the_profile_and_restores_from_the_deleted_page, |app| {
    world(&app).await;
    app.user("office").await;
    let (admin, office) = (app.session("admin").await, app.session("office").await);
    let delete_link = "href=\"/customers/CUS-00001/delete\"";
    assert!(app.page(Some(&admin), "/customers/CUS-00001").await.1.contains(delete_link));
    assert!(!app.page(Some(&office), "/customers/CUS-00001").await.1.contains(delete_link), "only admins see Delete");
    assert!(app.page(Some(&admin), "/admin").await.1.contains("href=\"/admin/deleted\""));
    assert!(!app.page(Some(&office), "/admin").await.1.contains("href=\"/admin/deleted\""));
    assert_eq!(app.page(Some(&office), "/admin/deleted").await.0, StatusCode::FORBIDDEN);
    let (status, _, _) = app.form(&office, "/customers/CUS-00001/delete", &[("reason", "Mine now")]).await;
    assert_eq!(status, StatusCode::FORBIDDEN);

    // The confirmation; a reason too long is said beside its field, nothing deleted.
    let (status, confirm) = app.page(Some(&admin), "/customers/CUS-00001/delete").await;
    assert!(status == StatusCode::OK && confirm.contains("name=\"reason\""), "{confirm}");
    let long = "x".repeat(501);
    let (status, _, refused) = app.form(&admin, "/customers/CUS-00001/delete", &[("reason", &long)]).await;
    assert_eq!(status, StatusCode::UNPROCESSABLE_ENTITY, "{refused}");
    assert!(refused.contains("id=\"reason-error\""), "{refused}");
    assert!(app.get("/customers/CUS-00001").await.1.get("deleted").is_none());

    let (status, to, _) = app.form(&admin, "/customers/CUS-00001/delete", &[("reason", "Duplicate")]).await;
    assert_eq!((status, to.as_str()), (StatusCode::SEE_OTHER, "/customers/CUS-00001"));
    let (_, profile) = app.page(Some(&admin), "/customers/CUS-00001").await;
    assert!(profile.contains("id=\"deleted-banner\"") && profile.contains("restorable until") && profile.contains("Duplicate"), "{profile}");
    assert!(!profile.contains("href=\"/customers/CUS-00001/edit\"") && !profile.contains(delete_link), "read-only: no Edit, no Delete");
    assert!(!app.page(Some(&admin), "/customers").await.1.contains("href=\"/customers/CUS-00001\""), "gone from the directory");
    let (_, deleted) = app.page(Some(&admin), "/admin/deleted").await;
    assert!(deleted.contains("data-customer=\"CUS-00001\"") && deleted.contains("Duplicate"), "{deleted}");

    let (status, _, _) = app.form(&office, "/customers/CUS-00001/restore", &[]).await;
    assert_eq!(status, StatusCode::FORBIDDEN);
    let (status, to, _) = app.form(&admin, "/customers/CUS-00001/restore", &[]).await;
    assert_eq!((status, to.as_str()), (StatusCode::SEE_OTHER, "/admin/deleted?restored=CUS-00001"));
    assert!(app.page(Some(&admin), "/customers").await.1.contains("href=\"/customers/CUS-00001\""), "back in the directory");
    assert!(!app.page(Some(&admin), "/customers/CUS-00001").await.1.contains("deleted-banner"));
});

both_backends!(a_custom_field_removed_while_a_customer_is_deleted_leaves_no_words_to_find_it_by_once_restored, |app| {
    world(&app).await;
    let field = ok(&app, Method::POST, "/custom-fields", Some(json!({"entity": "customer", "key": "boiler", "label": "Boiler", "type": "text"}))).await;
    ok(&app, Method::PATCH, "/customers/CUS-00001", Some(json!({"custom_fields": {"boiler": "Worcester Bosch"}}))).await;
    assert_eq!(codes(&app.get("/customers?q=worcester").await.1), ["CUS-00001"]);
    ok(&app, Method::DELETE, "/customers/CUS-00001", None).await;
    let (status, _) = app.delete(&format!("/custom-fields/{}", field["id"].as_str().unwrap())).await;
    assert!(status.is_success(), "{status}");
    ok(&app, Method::POST, "/customers/CUS-00001/restore", None).await;
    assert_eq!(codes(&app.get("/customers?q=worcester").await.1), Vec::<String>::new(), "the removed field's words went with it");
    assert_eq!(codes(&app.get("/customers?q=leeming").await.1), ["CUS-00001"], "its other words came back");
});

both_backends!(a_deleted_customer_can_still_be_erased_and_its_set_aside_words_go_with_its_data, |app| {
    world(&app).await;
    ok(&app, Method::DELETE, "/customers/CUS-00001", None).await;
    // The purge's step: an erasure of a deleted customer is not refused.
    ok(&app, Method::POST, "/customers/CUS-00001/erasure", Some(json!({"reason": "Erasure request"}))).await;
    let restored = ok(&app, Method::POST, "/customers/CUS-00001/restore", None).await;
    assert!(restored["erased_at"].is_string(), "{restored}");
    for q in ["leeming", "ann@leeming.example", "bo", "otley"] {
        assert_eq!(codes(&app.get(&format!("/customers?q={q}")).await.1), Vec::<String>::new(), "nothing erased finds it: {q}");
    }
});

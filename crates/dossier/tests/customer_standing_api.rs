//! Statuses that act: a blocked customer gets no new work unless someone
//! records a reason to go ahead, and a deactivated customer is read-only
//! until reactivated; on SQLite and PostgreSQL.

mod common;

use axum::http::StatusCode;
use serde_json::{Value, json};

fn kinds(page: &Value) -> Vec<&str> {
    page["items"].as_array().unwrap().iter().map(|i| i["kind"].as_str().unwrap()).collect()
}

async fn ok(app: &common::TestApp, path: &str, body: Value) -> Value {
    let (status, answer) = app.post(path, body).await;
    assert!(status.is_success(), "{path}: {status} {answer}");
    answer
}

async fn history_length(app: &common::TestApp) -> usize {
    let (_, timeline) = app.get("/customers/CUS-00001/timeline?limit=200").await;
    timeline["items"].as_array().unwrap().len()
}

const LINES: &str = r#"[{"description": "Boiler service", "unit_price": 9000, "tax_rate_bp": 2000}]"#;

both_backends!(a_blocked_customer_gets_new_work_only_with_a_reason_to_go_ahead_which_its_history_keeps, |app| {
    app.customer(json!({"family_name": "Lee"})).await;
    let lines: Value = serde_json::from_str(LINES).unwrap();
    ok(&app, "/inquiries", json!({"customer": "CUS-00001", "title": "Leak"})).await;
    ok(&app, "/quotes", json!({"customer": "CUS-00001", "title": "New boiler", "lines": lines})).await;
    ok(&app, "/quotes/EST-00001/status", json!({"status": "sent"})).await;
    ok(&app, "/customers/CUS-00001/status", json!({"status": "blocked", "reason": "Three unpaid invoices"})).await;
    let before = history_length(&app).await;

    // Every way new work starts is refused, says why, and changes nothing.
    let attempts = [
        ("/inquiries", json!({"customer": "CUS-00001", "title": "Another leak"})),
        ("/quotes", json!({"customer": "CUS-00001", "title": "Radiators", "lines": lines})),
        ("/jobs", json!({"customer": "CUS-00001", "title": "Service"})),
        ("/invoices", json!({"customer": "CUS-00001", "lines": lines})),
        ("/inquiries/INQ-00001/convert", json!({"into": "job"})),
        ("/quotes/EST-00001/status", json!({"status": "accepted", "create_job": true})),
    ];
    for (path, body) in &attempts {
        let (status, problem) = app.post(path, body.clone()).await;
        assert_eq!((status, problem["code"].as_str()), (StatusCode::CONFLICT, Some("customer_blocked")), "{path}: {problem}");
        assert!(problem["detail"].as_str().unwrap().contains("Three unpaid invoices"), "{problem}");
    }
    assert_eq!(history_length(&app).await, before, "a refused request writes nothing");
    let (_, quote) = app.get("/quotes/EST-00001").await;
    assert_eq!(quote["status"], "sent", "the quote was not accepted without its job");

    // A reason past its bound is a field error.
    let (status, problem) = app.post("/jobs", json!({"customer": "CUS-00001", "title": "Service", "blocked_override": "x".repeat(501)})).await;
    assert_eq!((status, problem["errors"][0]["field"].as_str()), (StatusCode::UNPROCESSABLE_ENTITY, Some("blocked_override")));

    // With a reason, it goes ahead; the first number was not used up, and
    // the history says who went ahead and why, on the record and the customer.
    let job = ok(&app, "/jobs", json!({"customer": "CUS-00001", "title": "Service", "blocked_override": "Paid up front by card"})).await;
    assert_eq!(job["code"], "BOK-00001");
    let (_, timeline) = app.get("/jobs/BOK-00001/timeline").await;
    assert_eq!(kinds(&timeline), ["customer.block_overridden", "job.created"]);
    let entry = &timeline["items"][0];
    assert_eq!(entry["summary"], "BOK-00001 made although CUS-00001 is blocked: Paid up front by card");
    assert_eq!(entry["detail"]["blocked_because"], "Three unpaid invoices");
    assert_eq!(entry["actor"]["type"], "api");
    let converted = ok(&app, "/inquiries/INQ-00001/convert", json!({"into": "quote", "blocked_override": "Manager agreed"})).await;
    assert_eq!(converted["quote"]["code"], "EST-00002");
    let accepted = ok(&app, "/quotes/EST-00001/status", json!({"status": "accepted", "create_job": true, "blocked_override": "Signed before the block"})).await;
    assert_eq!(accepted["status"], "accepted");
    ok(&app, "/invoices", json!({"customer": "CUS-00001", "lines": lines, "blocked_override": "Work already done"})).await;
    let (_, timeline) = app.get("/customers/CUS-00001/timeline?kind=customer.block_overridden").await;
    assert_eq!(timeline["items"].as_array().unwrap().len(), 4);

    // Money still comes in, and moving existing work on is not new work.
    ok(&app, "/payments", json!({"customer": "CUS-00001", "amount": 1000, "method": "card"})).await;
    ok(&app, "/jobs/BOK-00001/status", json!({"status": "cancelled", "notes": "Not needed"})).await;

    // Reactivated, no reason is asked for.
    ok(&app, "/customers/CUS-00001/status", json!({"status": "active", "reason": "Paid up"})).await;
    ok(&app, "/jobs", json!({"customer": "CUS-00001", "title": "Next service"})).await;
});

both_backends!(a_deactivated_customer_is_read_only_until_reactivated, |app| {
    app.customer(json!({"family_name": "Lee"})).await;
    ok(&app, "/jobs", json!({"customer": "CUS-00001", "title": "Service"})).await;
    let contact = ok(&app, "/customers/CUS-00001/contacts", json!({"given_name": "Ann", "family_name": "Lee"})).await;
    ok(&app, "/customers/CUS-00001/status", json!({"status": "deactivated", "reason": "Moved away"})).await;
    let before = history_length(&app).await;

    let attempts = [
        ("PATCH", "/customers/CUS-00001".to_owned(), json!({"source": "Referral"})),
        ("POST", "/customers/CUS-00001/labels".to_owned(), json!({"labels": ["vip"]})),
        ("POST", "/customers/CUS-00001/contacts".to_owned(), json!({"given_name": "Bob", "family_name": "Lee"})),
        ("PATCH", format!("/contacts/{}", contact["id"].as_str().unwrap()), json!({"position": "Owner"})),
        ("POST", "/customers/CUS-00001/sites".to_owned(), json!({"address_line1": "1 High St", "postcode": "LS1 4AP"})),
        ("POST", "/customers/CUS-00001/messages".to_owned(), json!({"channel": "note", "body": "Called"})),
        ("POST", "/customers/CUS-00001/follow-ups".to_owned(), json!({"title": "Call back", "due_on": "2026-12-01"})),
        ("POST", "/jobs/BOK-00001/status".to_owned(), json!({"status": "cancelled", "notes": "Moved away"})),
        ("POST", "/jobs".to_owned(), json!({"customer": "CUS-00001", "title": "Service", "blocked_override": "Please"})),
        ("POST", "/payments".to_owned(), json!({"customer": "CUS-00001", "amount": 1000, "method": "card"})),
    ];
    for (method, path, body) in &attempts {
        let (status, problem) = match *method {
            "PATCH" => app.patch(path, body.clone()).await,
            _ => app.post(path, body.clone()).await,
        };
        assert_eq!((status, problem["code"].as_str()), (StatusCode::CONFLICT, Some("customer_deactivated")), "{method} {path}: {problem}");
        assert_eq!(problem["detail"], "CUS-00001 is deactivated and read-only; reactivate the customer first");
    }
    assert_eq!(history_length(&app).await, before, "a refused request writes nothing");
    let (_, job) = app.get("/jobs/BOK-00001").await;
    assert_eq!(job["status"], "to_schedule");

    ok(&app, "/customers/CUS-00001/status", json!({"status": "active", "reason": "Back in the area"})).await;
    let (status, _) = app.patch("/customers/CUS-00001", json!({"source": "Referral"})).await;
    assert_eq!(status, StatusCode::OK);
    ok(&app, "/jobs/BOK-00001/status", json!({"status": "cancelled", "notes": "Not needed"})).await;
});

both_backends!(the_web_app_says_what_a_status_means_and_asks_a_blocked_customer_s_new_work_for_a_reason, |app| {
    app.customer(json!({"family_name": "Lee"})).await;
    ok(&app, "/customers/CUS-00001/status", json!({"status": "blocked", "reason": "Three unpaid invoices"})).await;
    app.user("office").await;
    let cookie = app.session("office").await;
    let (_, profile) = app.page(Some(&cookie), "/customers/CUS-00001").await;
    assert!(profile.contains("No new inquiries, quotes, jobs or invoices unless someone records a reason to go ahead."), "{profile}");
    // The timeline reads as a story: under the day, the status change stands out.
    let (_, timeline) = app.page(Some(&cookie), "/customers/CUS-00001?tab=timeline").await;
    assert!(timeline.contains("<li class=\"day\"><h3>Today</h3></li>"), "{timeline}");
    assert!(timeline.contains("<strong class=\"status-change\">Active → Blocked</strong>"), "{timeline}");
    for path in ["/customers/CUS-00001/inquiries/new", "/customers/CUS-00001/quotes/new", "/customers/CUS-00001/jobs/new", "/customers/CUS-00001/invoices/new"]
    {
        let (status, form) = app.page(Some(&cookie), path).await;
        assert_eq!(status, StatusCode::OK);
        assert!(form.contains("CUS-00001 is blocked (Three unpaid invoices)") && form.contains("name=\"blocked_override\""), "{path}: {form}");
    }

    // Without a reason: refused, the reason asked for beside its field, nothing made.
    let (status, _, page) = app.form(&cookie, "/customers/CUS-00001/jobs/new", &[("title", "Service")]).await;
    assert_eq!(status, StatusCode::CONFLICT);
    assert!(page.contains("id=\"blocked_override-error\""), "{page}");
    assert!(page.contains("new work needs a reason to go ahead anyway"), "{page}");
    assert_eq!(app.count("job").await, 0);
    let (status, _, _) = app.form(&cookie, "/customers/CUS-00001/jobs/new", &[("title", "Service"), ("blocked_override", "Paid up front")]).await;
    assert_eq!(status, StatusCode::SEE_OTHER);
    assert_eq!(app.count("job").await, 1);

    ok(&app, "/customers/CUS-00001/status", json!({"status": "deactivated", "reason": "Moved away"})).await;
    let (_, profile) = app.page(Some(&cookie), "/customers/CUS-00001").await;
    assert!(profile.contains("Read-only: nothing can be added or changed until the customer is reactivated.") && profile.contains("Why: Moved away"));
    let (status, _, page) = app.form(&cookie, "/customers/CUS-00001/jobs/new", &[("title", "Service"), ("blocked_override", "Please")]).await;
    assert_eq!(status, StatusCode::CONFLICT);
    assert!(page.contains("CUS-00001 is deactivated and read-only"), "{page}");
    assert_eq!(app.count("job").await, 1);
});

both_backends!(a_dormant_customer_s_sites_sleep_and_wake_with_it_each_change_recorded, |app| {
    app.customer(json!({"family_name": "Lee"})).await;
    let first = ok(&app, "/customers/CUS-00001/sites", json!({"address_line1": "1 High St", "postcode": "LS1 4AP"})).await;
    ok(&app, "/customers/CUS-00001/sites", json!({"address_line1": "2 Low Rd", "postcode": "LS2 7AA"})).await;
    assert_eq!(first["dormant"], false);
    let dormant = |sites: &Value| sites.as_array().unwrap().iter().map(|s| s["dormant"].as_bool().unwrap()).collect::<Vec<_>>();

    ok(&app, "/customers/CUS-00001/status", json!({"status": "dormant", "reason": "No work for a year"})).await;
    let (_, sites) = app.get("/customers/CUS-00001/sites").await;
    assert_eq!(dormant(&sites), [true, true]);
    let site_id = first["id"].as_str().unwrap();
    let (_, timeline) = app.get(&format!("/sites/{site_id}/timeline")).await;
    assert_eq!(timeline["items"][0]["summary"], "Site 1 High St, LS1 4AP made dormant with its customer");
    assert_eq!(timeline["items"][0]["changes"], json!([{"field": "dormant", "old": false, "new": true}]));
    // A site added meanwhile is dormant with the rest.
    let added = ok(&app, "/customers/CUS-00001/sites", json!({"address_line1": "3 New St", "postcode": "LS3 1AA"})).await;
    assert_eq!(added["dormant"], true);

    ok(&app, "/customers/CUS-00001/status", json!({"status": "active", "reason": "Booked again"})).await;
    let (_, sites) = app.get("/customers/CUS-00001/sites").await;
    assert_eq!(dormant(&sites), [false, false, false]);
    let (_, timeline) = app.get(&format!("/sites/{site_id}/timeline")).await;
    assert_eq!(timeline["items"][0]["summary"], "Site 1 High St, LS1 4AP woken with its customer");
    // Blocked is not dormant: the sites stay awake.
    ok(&app, "/customers/CUS-00001/status", json!({"status": "blocked", "reason": "Unpaid"})).await;
    let (_, sites) = app.get("/customers/CUS-00001/sites").await;
    assert_eq!(dormant(&sites), [false, false, false]);
});

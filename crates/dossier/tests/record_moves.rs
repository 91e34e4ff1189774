//! Moving records on from their pages in the web app: the moves offered
//! are those the workflow allows, each calls the same use case as the API,
//! and a refused one comes back beside its field; on SQLite and PostgreSQL.

mod common;

use axum::http::StatusCode;
use serde_json::{Value, json};

/// The moves a record's page offers, by their names.
fn offered(page: &str) -> Vec<String> {
    page.match_indices("data-move=\"").map(|(at, m)| page[at + m.len()..].split('"').next().unwrap().to_owned()).collect()
}

async fn ok(app: &common::TestApp, path: &str, body: Value) -> Value {
    let (status, answer) = app.post(path, body).await;
    assert!(status.is_success(), "{path}: {status} {answer}");
    answer
}

both_backends!(a_job_is_scheduled_started_and_completed_from_its_page, |app| {
    app.customer(json!({"family_name": "Lee"})).await;
    ok(&app, "/jobs", json!({"customer": "CUS-00001", "title": "Boiler service"})).await;
    app.user("office").await;
    let cookie = app.session("office").await;

    let (_, page) = app.page(Some(&cookie), "/jobs/BOK-00001").await;
    assert_eq!(offered(&page), ["scheduled", "cancelled"]);

    // A window that ends before it starts: refused beside the end, nothing changes.
    let bad = [("move", "scheduled"), ("start", "2026-05-01T11:00"), ("end", "2026-05-01T09:00")];
    let (status, _, page) = app.form(&cookie, "/jobs/BOK-00001/move", &bad).await;
    assert_eq!(status, StatusCode::UNPROCESSABLE_ENTITY);
    assert!(page.contains("id=\"scheduled-end-error\""), "{page}");
    let (_, job) = app.get("/jobs/BOK-00001").await;
    assert_eq!(job["status"], "to_schedule");

    let (fieldworker, _) = app.user("fieldworker").await;
    let (_, page) = app.page(Some(&cookie), "/jobs/BOK-00001").await;
    assert!(page.contains(&format!("<option value=\"{fieldworker}\"")), "whom to send is chosen in the schedule form");
    let good = [("move", "scheduled"), ("start", "2026-05-01T09:00"), ("end", "2026-05-01T11:00"), ("assignee", fieldworker.as_str())];
    let (status, location, _) = app.form(&cookie, "/jobs/BOK-00001/move", &good).await;
    assert_eq!((status, location.as_str()), (StatusCode::SEE_OTHER, "/jobs/BOK-00001"));
    let (_, job) = app.get("/jobs/BOK-00001").await;
    assert_eq!(job["assignees"], json!([fieldworker]));
    // The window is read in the org's time zone (London: BST in May).
    assert_eq!((job["status"].as_str(), job["scheduled_start"].as_str()), (Some("scheduled"), Some("2026-05-01T08:00:00Z")));
    let (_, page) = app.page(Some(&cookie), "/jobs/BOK-00001").await;
    assert_eq!(offered(&page), ["to_schedule", "in_progress", "completed", "cancelled"]);

    app.form(&cookie, "/jobs/BOK-00001/move", &[("move", "in_progress")]).await;
    let (_, page) = app.page(Some(&cookie), "/jobs/BOK-00001").await;
    assert_eq!(offered(&page), ["completed", "aborted"]);
    app.form(&cookie, "/jobs/BOK-00001/move", &[("move", "completed"), ("notes", "Serviced, flue checked")]).await;
    let (_, job) = app.get("/jobs/BOK-00001").await;
    assert_eq!((job["status"].as_str(), job["completion_notes"].as_str()), (Some("completed"), Some("Serviced, flue checked")));
    let (_, page) = app.page(Some(&cookie), "/jobs/BOK-00001").await;
    assert!(offered(&page).is_empty() && !page.contains("Move it on"));
    assert!(page.contains("Serviced, flue checked"));

    // A move the workflow does not allow is refused by the use case, as in the API.
    let (status, _, page) = app.form(&cookie, "/jobs/BOK-00001/move", &[("move", "in_progress")]).await;
    assert_eq!(status, StatusCode::CONFLICT, "{page}");
    assert!(page.contains("A completed job cannot be moved"), "the reason reads as a sentence: {page}");
    let (_, timeline) = app.get("/jobs/BOK-00001/timeline").await;
    assert_eq!(timeline["items"].as_array().unwrap().len(), 4, "created, scheduled, started, completed");
});

both_backends!(a_draft_invoice_is_issued_and_another_voided_with_a_reason_from_their_pages, |app| {
    app.customer(json!({"family_name": "Lee"})).await;
    let lines = json!([{"description": "Service", "unit_price": 9000, "tax_rate_bp": 2000}]);
    ok(&app, "/invoices", json!({"customer": "CUS-00001", "lines": lines})).await;
    ok(&app, "/invoices", json!({"customer": "CUS-00001", "lines": lines})).await;
    app.user("finance").await;
    let cookie = app.session("finance").await;
    let (_, page) = app.page(Some(&cookie), "/invoices/INV-00001").await;
    assert_eq!(offered(&page), ["open", "void", "edit"]);

    let (status, location, _) = app.form(&cookie, "/invoices/INV-00001/move", &[("move", "open"), ("issue_date", "")]).await;
    assert_eq!((status, location.as_str()), (StatusCode::SEE_OTHER, "/invoices/INV-00001"));
    let (_, invoice) = app.get("/invoices/INV-00001").await;
    assert_eq!(invoice["status"], "open");

    let (status, _, page) = app.form(&cookie, "/invoices/INV-00002/move", &[("move", "void"), ("reason", "")]).await;
    assert_eq!(status, StatusCode::UNPROCESSABLE_ENTITY);
    assert!(page.contains("id=\"void-reason-error\""), "{page}");
    let (_, invoice) = app.get("/invoices/INV-00002").await;
    assert_eq!(invoice["status"], "draft");
    app.form(&cookie, "/invoices/INV-00002/move", &[("move", "void"), ("reason", "Raised twice")]).await;
    let (_, invoice) = app.get("/invoices/INV-00002").await;
    assert_eq!(invoice["status"], "void");
});

both_backends!(an_inquiry_is_converted_from_its_page_and_a_blocked_customer_s_asks_for_a_reason, |app| {
    app.customer(json!({"family_name": "Lee"})).await;
    ok(&app, "/inquiries", json!({"customer": "CUS-00001", "title": "Leak"})).await;
    app.user("office").await;
    let cookie = app.session("office").await;
    let (_, page) = app.page(Some(&cookie), "/inquiries/INQ-00001").await;
    assert_eq!(offered(&page), ["contacted", "qualified", "lost", "convert_quote", "convert_job"]);

    ok(&app, "/customers/CUS-00001/status", json!({"status": "blocked", "reason": "Unpaid"})).await;
    let (status, _, page) = app.form(&cookie, "/inquiries/INQ-00001/move", &[("move", "convert_job")]).await;
    assert_eq!(status, StatusCode::CONFLICT);
    assert!(page.contains("id=\"convert_job-blocked_override-error\""), "{page}");
    let (status, location, _) = app.form(&cookie, "/inquiries/INQ-00001/move", &[("move", "convert_job"), ("blocked_override", "Emergency leak")]).await;
    assert_eq!((status, location.as_str()), (StatusCode::SEE_OTHER, "/jobs/BOK-00001"));
    let (_, page) = app.page(Some(&cookie), "/inquiries/INQ-00001").await;
    assert!(offered(&page).is_empty() && page.contains("BOK-00001"), "converted: nothing left to move");
});

both_backends!(a_fieldworker_moves_their_own_job_but_sees_no_money_moves, |app| {
    app.customer(json!({"family_name": "Lee"})).await;
    let (fieldworker, _) = app.user("fieldworker").await;
    let lines = json!([{"description": "Service", "unit_price": 9000, "tax_rate_bp": 2000}]);
    ok(
        &app,
        "/jobs",
        json!({"customer": "CUS-00001", "title": "Service", "assignees": [fieldworker],
        "scheduled_start": "2026-05-01T09:00:00Z", "scheduled_end": "2026-05-01T11:00:00Z"}),
    )
    .await;
    ok(&app, "/invoices", json!({"customer": "CUS-00001", "lines": lines})).await;
    let cookie = app.session("fieldworker").await;
    let (_, page) = app.page(Some(&cookie), "/jobs/BOK-00001").await;
    assert!(offered(&page).contains(&"in_progress".to_owned()), "{page}");
    let (status, _, _) = app.form(&cookie, "/jobs/BOK-00001/move", &[("move", "in_progress")]).await;
    assert_eq!(status, StatusCode::SEE_OTHER);
    let (status, _, _) = app.form(&cookie, "/jobs/BOK-00001/move", &[("move", "completed"), ("notes", "Done")]).await;
    assert_eq!(status, StatusCode::SEE_OTHER);
    let (_, job) = app.get("/jobs/BOK-00001").await;
    assert_eq!(job["status"], "completed");
    let (status, _, _) = app.form(&cookie, "/invoices/INV-00001/move", &[("move", "void"), ("reason", "x")]).await;
    assert!(status == StatusCode::FORBIDDEN || status == StatusCode::NOT_FOUND, "{status}");
    let (_, invoice) = app.get("/invoices/INV-00001").await;
    assert_eq!(invoice["status"], "draft");
});

both_backends!(a_job_links_to_the_invoice_that_bills_it_and_the_invoice_to_its_jobs, |app| {
    app.customer(json!({"family_name": "Lee"})).await;
    let job = ok(&app, "/jobs", json!({"customer": "CUS-00001", "title": "Service", "value": 9000})).await;
    let lines = json!([{"description": "Service", "unit_price": 9000, "tax_rate_bp": 2000}]);
    let invoice = ok(&app, "/invoices", json!({"customer": "CUS-00001", "lines": lines, "job_ids": [job["id"]]})).await;
    let (_, billed) = app.get("/jobs/BOK-00001").await;
    assert_eq!(billed["invoice_id"], invoice["id"]);

    app.user("finance").await;
    let cookie = app.session("finance").await;
    let (_, page) = app.page(Some(&cookie), "/jobs/BOK-00001").await;
    assert!(page.contains("Billed on") && page.contains("<a href=\"/invoices/INV-00001\">INV-00001</a>"), "{page}");
    let (_, page) = app.page(Some(&cookie), "/invoices/INV-00001").await;
    assert!(page.contains("Bills the jobs") && page.contains("<a href=\"/jobs/BOK-00001\">BOK-00001</a>"), "{page}");
    // The job's own history tells that the invoice was raised for it.
    let (_, page) = app.page(Some(&cookie), "/jobs/BOK-00001").await;
    let history = page.split("aria-label=\"History\"").nth(1).expect("a History section");
    assert!(history.contains("INV-00001") && history.contains("Job BOK-00001"), "{history}");

    // A fieldworker's answer carries no invoice.
    let (fieldworker, token) = app.user("fieldworker").await;
    ok(
        &app,
        "/jobs/BOK-00001/status",
        json!({"status": "scheduled", "scheduled_start": "2026-05-01T09:00:00Z",
        "scheduled_end": "2026-05-01T11:00:00Z", "assignees": [fieldworker]}),
    )
    .await;
    let (_, seen) = app.call_as(Some(&token), axum::http::Method::GET, "/jobs/BOK-00001", None).await;
    assert!(seen.get("invoice_id").is_none() && seen.get("value").is_none(), "{seen}");

    // Voided, the invoice lets the job go.
    app.form(&cookie, "/invoices/INV-00001/move", &[("move", "void"), ("reason", "Wrong amount")]).await;
    let (_, released) = app.get("/jobs/BOK-00001").await;
    assert!(released.get("invoice_id").is_none(), "{released}");
});

both_backends!(a_fieldworker_s_day_lists_overdue_today_and_next_with_where_to_go, |app| {
    app.customer(json!({"family_name": "Lee", "phone": "07911 123456"})).await;
    let site = ok(&app, "/customers/CUS-00001/sites", json!({"address_line1": "1 High St", "postcode": "LS1 4AP", "access_notes": "Key under the mat"})).await;
    let (fieldworker, token) = app.user("fieldworker").await;
    let now = jiff::Timestamp::now();
    let hours = |h: i64| (now + jiff::SignedDuration::from_hours(h)).to_string();
    let job = |title: &str, start: i64, end: i64| {
        json!({"customer": "CUS-00001", "site_id": site["id"], "title": title, "assignees": [fieldworker],
            "scheduled_start": hours(start), "scheduled_end": hours(end)})
    };
    ok(&app, "/jobs", job("Missed visit", -30, -28)).await;
    ok(&app, "/jobs", job("Right now", -1, 1)).await;
    ok(&app, "/jobs", job("Next week", 24 * 7, 24 * 7 + 2)).await;
    ok(&app, "/jobs", json!({"customer": "CUS-00001", "title": "Someone else's"})).await;

    let (status, plan) = app.call_as(Some(&token), axum::http::Method::GET, "/my-jobs", None).await;
    assert_eq!(status, StatusCode::OK, "{plan}");
    let titles = |list: &str| plan[list].as_array().unwrap().iter().map(|j| j["title"].as_str().unwrap().to_owned()).collect::<Vec<_>>();
    assert_eq!(
        (titles("overdue"), titles("today"), titles("next")),
        (vec!["Missed visit".to_owned()], vec!["Right now".to_owned()], vec!["Next week".to_owned()])
    );
    assert!(plan["today"][0].get("value").is_none(), "no money for a fieldworker");

    let cookie = app.session("fieldworker").await;
    let (status, page) = app.page(Some(&cookie), "/my-jobs").await;
    assert_eq!(status, StatusCode::OK);
    assert!(page.contains("Right now") && page.contains("1 High St, LS1 4AP") && page.contains("tel:+447911123456"), "{page}");
    assert!(!page.contains("Someone else"));
    let (_, job_page) = app.page(Some(&cookie), "/jobs/BOK-00002").await;
    assert!(job_page.contains("Key under the mat") && job_page.contains("1 High St, LS1 4AP"), "{job_page}");
    assert!(job_page.contains("phone</dt><dd>+447911123456"), "{job_page}");
});

both_backends!(an_old_ongoing_job_stays_on_the_first_page_however_much_newer_work_is_finished, |app| {
    app.customer(json!({"family_name": "Lee"})).await;
    ok(&app, "/jobs", json!({"customer": "CUS-00001", "title": "The long one"})).await;
    ok(&app, "/quotes", json!({"customer": "CUS-00001", "title": "Open quote", "lines": [{"description": "x", "unit_price": 100}]})).await;
    for n in 0..101 {
        ok(&app, "/jobs", json!({"customer": "CUS-00001", "title": format!("Quick {n}")})).await;
        ok(&app, &format!("/jobs/BOK-{:05}/status", n + 2), json!({"status": "cancelled", "notes": "Not needed"})).await;
    }
    let (_, ongoing) = app.get("/jobs?customer=CUS-00001&ongoing=true").await;
    let codes: Vec<&str> = ongoing["items"].as_array().unwrap().iter().map(|j| j["code"].as_str().unwrap()).collect();
    assert_eq!(codes, ["BOK-00001"]);
    let (_, finished) = app.get("/jobs?customer=CUS-00001&ongoing=false&limit=200").await;
    assert_eq!(finished["items"].as_array().unwrap().len(), 101);
    let (_, quotes) = app.get("/quotes?customer=CUS-00001&ongoing=false").await;
    assert!(quotes["items"].as_array().unwrap().is_empty());

    app.user("office").await;
    let cookie = app.session("office").await;
    let (_, page) = app.page(Some(&cookie), "/customers/CUS-00001?tab=works&type=jobs").await;
    let ongoing_table = page.split("<h2>Ongoing jobs</h2>").nth(1).unwrap().split("<h2>Finished jobs</h2>").next().unwrap();
    assert!(ongoing_table.contains(">BOK-00001<") && !ongoing_table.contains("cursor="), "{page}");
    let finished_table = page.split("<h2>Finished jobs</h2>").nth(1).unwrap();
    assert!(!finished_table.contains(">BOK-00001<"), "{finished_table}");
    assert_eq!(finished_table.matches("<tr><td>").count(), 100, "a full page of finished jobs");
    assert!(finished_table.contains("cursor=") && !finished_table.contains("ongoing_cursor="), "the finished list pages on by itself: {finished_table}");
});

both_backends!(a_credit_note_is_raised_against_an_issued_invoice_from_its_page, |app| {
    app.customer(json!({"family_name": "Lee"})).await;
    let lines = json!([{"description": "Service", "unit_price": 10000, "tax_rate_bp": 2000}]);
    ok(&app, "/invoices", json!({"customer": "CUS-00001", "lines": lines, "issue": true})).await;
    app.user("finance").await;
    let cookie = app.session("finance").await;
    let (_, page) = app.page(Some(&cookie), "/invoices/INV-00001").await;
    assert_eq!(offered(&page), ["void", "credit_note"]);

    let (status, _, page) = app.form(&cookie, "/invoices/INV-00001/move", &[("move", "credit_note"), ("amount", "12.3.4"), ("reason", "Late")]).await;
    assert_eq!(status, StatusCode::UNPROCESSABLE_ENTITY);
    assert!(page.contains("id=\"credit_note-amount-error\""), "{page}");
    let (status, location, _) =
        app.form(&cookie, "/invoices/INV-00001/move", &[("move", "credit_note"), ("amount", "30.00"), ("reason", "Arrived late")]).await;
    assert_eq!((status, location.as_str()), (StatusCode::SEE_OTHER, "/credit-notes/CRN-00001"));
    let (_, invoice) = app.get("/invoices/INV-00001").await;
    assert_eq!((invoice["credited"].as_i64(), invoice["balance"].as_i64()), (Some(3000), Some(9000)));
});

both_backends!(what_is_left_of_a_payment_or_a_credit_note_is_set_against_an_invoice_from_its_page, |app| {
    app.customer(json!({"family_name": "Lee"})).await;
    let lines = json!([{"description": "Service", "unit_price": 10000, "tax_rate_bp": 0}]);
    ok(&app, "/invoices", json!({"customer": "CUS-00001", "lines": lines, "issue": true})).await;
    ok(&app, "/payments", json!({"customer": "CUS-00001", "amount": 6000, "method": "card"})).await;
    ok(&app, "/credit-notes", json!({"customer": "CUS-00001", "amount": 1500, "reason": "Goodwill"})).await;
    app.user("finance").await;
    let cookie = app.session("finance").await;
    let (_, page) = app.page(Some(&cookie), "/payments/PAY-00001").await;
    assert_eq!(offered(&page), ["allocate", "refund"]);

    let (status, _, page) = app.form(&cookie, "/payments/PAY-00001/move", &[("move", "allocate"), ("invoice", "INV-00001"), ("amount", "70.00")]).await;
    assert_eq!(status, StatusCode::UNPROCESSABLE_ENTITY, "more than is left of the payment");
    assert!(page.contains("id=\"allocate-amount-error\""), "{page}");
    let (status, _, _) = app.form(&cookie, "/payments/PAY-00001/move", &[("move", "allocate"), ("invoice", "INV-00001"), ("amount", "60.00")]).await;
    assert_eq!(status, StatusCode::SEE_OTHER);
    let (_, page) = app.page(Some(&cookie), "/payments/PAY-00001").await;
    assert_eq!(offered(&page), ["unallocate"], "nothing left to set against an invoice or refund, but the allocation may be taken back");
    let (status, _, _) = app.form(&cookie, "/credit-notes/CRN-00001/move", &[("move", "allocate"), ("invoice", "INV-00001"), ("amount", "15.00")]).await;
    assert_eq!(status, StatusCode::SEE_OTHER);
    let (_, invoice) = app.get("/invoices/INV-00001").await;
    assert_eq!((invoice["paid"].as_i64(), invoice["credited"].as_i64(), invoice["balance"].as_i64()), (Some(6000), Some(1500), Some(2500)));
});

both_backends!(account_credit_is_issued_from_the_billing_tab_and_set_against_an_invoice_later, |app| {
    app.customer(json!({"family_name": "Lee"})).await;
    app.user("finance").await;
    let cookie = app.session("finance").await;
    let (_, tab) = app.page(Some(&cookie), "/customers/CUS-00001?tab=billing").await;
    assert!(tab.contains("href=\"/customers/CUS-00001/credit-notes/new\""), "{tab}");
    let (status, _, page) = app.form(&cookie, "/customers/CUS-00001/credit-notes/new", &[("amount", "20.00"), ("reason", "")]).await;
    assert_eq!(status, StatusCode::UNPROCESSABLE_ENTITY);
    assert!(page.contains("id=\"reason-error\""), "{page}");
    let (status, location, _) = app.form(&cookie, "/customers/CUS-00001/credit-notes/new", &[("amount", "20.00"), ("reason", "Goodwill")]).await;
    assert_eq!((status, location.as_str()), (StatusCode::SEE_OTHER, "/credit-notes/CRN-00001"));
    let (_, credit) = app.get("/credit-notes/CRN-00001").await;
    assert_eq!((credit["amount"].as_i64(), credit["unallocated"].as_i64()), (Some(2000), Some(2000)));
    let (_, page) = app.page(Some(&cookie), "/credit-notes/CRN-00001").await;
    assert_eq!(offered(&page), ["allocate", "refund"], "it can be set against an invoice later, or paid out");
});

both_backends!(a_draft_invoice_s_lines_are_edited_from_its_page_and_only_while_it_is_a_draft, |app| {
    app.customer(json!({"family_name": "Lee"})).await;
    let lines = json!([{"description": "Service", "unit_price": 9000, "tax_rate_bp": 2000}]);
    ok(&app, "/invoices", json!({"customer": "CUS-00001", "lines": lines, "notes": "Gate code 1234"})).await;
    app.user("office").await;
    let cookie = app.session("office").await;
    let (_, page) = app.page(Some(&cookie), "/invoices/INV-00001").await;
    assert!(offered(&page).contains(&"edit".to_owned()), "{page}");
    assert!(page.contains("name=\"line1_description\" id=\"edit-line1_description\" value=\"Service\""), "the form starts from the draft's lines: {page}");
    assert!(page.contains("name=\"line1_unit_price\" id=\"edit-line1_unit_price\" value=\"90.00\""), "{page}");
    assert!(page.contains("Gate code 1234</textarea>"), "{page}");

    // A bad price on the second row: refused beside that row's field, nothing changes.
    let edit = |price: &'static str| {
        vec![
            ("move", "edit"),
            ("line1_description", "Service"),
            ("line1_quantity", "1"),
            ("line1_unit_price", "90.00"),
            ("line1_tax", "20"),
            ("line2_description", "Parts"),
            ("line2_quantity", "2"),
            ("line2_unit_price", price),
            ("line2_tax", ""),
            ("due_date", ""),
            ("notes", "Gate code 1234"),
        ]
    };
    let (status, _, page) = app.form(&cookie, "/invoices/INV-00001/move", &edit("12.3.4")).await;
    assert_eq!(status, StatusCode::UNPROCESSABLE_ENTITY);
    assert!(page.contains("id=\"edit-line2_unit_price-error\""), "{page}");
    let (_, invoice) = app.get("/invoices/INV-00001").await;
    assert_eq!(invoice["total"], 10_800);
    let (status, _, page) = app.form(&cookie, "/invoices/INV-00001/move", &[("move", "edit"), ("line1_description", ""), ("line1_unit_price", "")]).await;
    assert_eq!(status, StatusCode::UNPROCESSABLE_ENTITY, "no line left");
    assert!(page.contains("id=\"edit-line1_description-error\""), "{page}");

    let (status, location, _) = app.form(&cookie, "/invoices/INV-00001/move", &edit("15.00")).await;
    assert_eq!((status, location.as_str()), (StatusCode::SEE_OTHER, "/invoices/INV-00001"));
    let (_, invoice) = app.get("/invoices/INV-00001").await;
    assert_eq!((invoice["total"].as_i64(), invoice["lines"].as_array().unwrap().len()), (Some(13_800), 2));
    let (_, timeline) = app.get("/customers/CUS-00001/timeline?kind=invoice.edited").await;
    assert_eq!(timeline["items"][0]["actor"]["name"], "office user");

    // Issued, it is no longer offered, and a stale form is refused with the reason.
    app.form(&cookie, "/invoices/INV-00001/move", &[("move", "open")]).await;
    let (_, page) = app.page(Some(&cookie), "/invoices/INV-00001").await;
    assert!(!offered(&page).contains(&"edit".to_owned()), "{page}");
    let (status, _, page) = app.form(&cookie, "/invoices/INV-00001/move", &edit("20.00")).await;
    assert_eq!(status, StatusCode::CONFLICT);
    assert!(page.contains("INV-00001 is open: only a draft can be edited"), "{page}");
});

both_backends!(a_draft_quote_is_edited_from_its_page, |app| {
    app.customer(json!({"family_name": "Lee"})).await;
    ok(&app, "/quotes", json!({"customer": "CUS-00001", "title": "Boiler", "lines": [{"description": "Boiler", "unit_price": 200_000}]})).await;
    app.user("sales").await;
    let cookie = app.session("sales").await;
    let (_, page) = app.page(Some(&cookie), "/quotes/EST-00001").await;
    assert_eq!(offered(&page), ["sent", "edit"]);
    let form = [("move", "edit"), ("title", ""), ("valid_until", ""), ("line1_description", "Boiler"), ("line1_unit_price", "1800")];
    let (status, _, page) = app.form(&cookie, "/quotes/EST-00001/move", &form).await;
    assert_eq!(status, StatusCode::UNPROCESSABLE_ENTITY);
    assert!(page.contains("id=\"edit-title-error\""), "{page}");
    let form = [("move", "edit"), ("title", "Boiler, fitted"), ("valid_until", "2026-06-30"), ("line1_description", "Boiler"), ("line1_unit_price", "1800")];
    let (status, _, _) = app.form(&cookie, "/quotes/EST-00001/move", &form).await;
    assert_eq!(status, StatusCode::SEE_OTHER);
    let (_, quote) = app.get("/quotes/EST-00001").await;
    assert_eq!((quote["title"].as_str(), quote["total"].as_i64(), quote["valid_until"].as_str()), (Some("Boiler, fitted"), Some(180_000), Some("2026-06-30")));
    app.form(&cookie, "/quotes/EST-00001/move", &[("move", "sent")]).await;
    let (_, page) = app.page(Some(&cookie), "/quotes/EST-00001").await;
    assert!(!offered(&page).contains(&"edit".to_owned()));
});

both_backends!(a_payment_is_refunded_and_an_allocation_taken_back_from_its_page, |app| {
    app.customer(json!({"family_name": "Lee"})).await;
    let lines = json!([{"description": "Service", "unit_price": 10000, "tax_rate_bp": 0}]);
    ok(&app, "/invoices", json!({"customer": "CUS-00001", "lines": lines, "issue": true})).await;
    ok(&app, "/payments", json!({"customer": "CUS-00001", "amount": 15000, "allocations": [{"invoice": "INV-00001", "amount": 10000}]})).await;
    app.user("office").await;
    let cookie = app.session("office").await;
    let (_, page) = app.page(Some(&cookie), "/payments/PAY-00001").await;
    assert_eq!(offered(&page), ["allocate", "refund", "unallocate"]);
    assert!(page.contains("<a href=\"/invoices/INV-00001\">INV-00001</a>"), "the allocations link to their invoices: {page}");

    // More than is left: refused beside the refund's amount.
    let (status, _, page) =
        app.form(&cookie, "/payments/PAY-00001/move", &[("move", "refund"), ("amount", "60.00"), ("method", "card"), ("reason", "Overpaid")]).await;
    assert_eq!(status, StatusCode::UNPROCESSABLE_ENTITY);
    let refund_form = page.split("data-move=\"refund\"").nth(1).unwrap().split("</form>").next().unwrap();
    assert!(refund_form.contains("id=\"refund-amount-error\"") && refund_form.contains("neither allocated nor refunded"), "{refund_form}");
    let (status, _, _) =
        app.form(&cookie, "/payments/PAY-00001/move", &[("move", "refund"), ("amount", "50.00"), ("method", "card"), ("reason", "Overpaid")]).await;
    assert_eq!(status, StatusCode::SEE_OTHER);
    let (_, payment) = app.get("/payments/PAY-00001").await;
    assert_eq!((payment["refunded"].as_i64(), payment["unallocated"].as_i64()), (Some(5000), Some(0)));
    let (_, page) = app.page(Some(&cookie), "/payments/PAY-00001").await;
    assert!(page.contains("£50.00 on") && page.contains("by card: Overpaid"), "the refund is shown: {page}");
    assert_eq!(offered(&page), ["unallocate"]);

    // Taking the allocation back needs a reason; then the invoice is open again.
    let allocation = payment["allocations"][0]["id"].as_str().unwrap().to_owned();
    let (status, _, page) = app.form(&cookie, "/payments/PAY-00001/move", &[("move", "unallocate"), ("allocation", &allocation), ("reason", "")]).await;
    assert_eq!(status, StatusCode::UNPROCESSABLE_ENTITY);
    assert!(page.contains("id=\"unallocate-reason-error\""), "{page}");
    let (status, _, page) = app.form(&cookie, "/payments/PAY-00001/move", &[("move", "unallocate"), ("allocation", "made-up"), ("reason", "x")]).await;
    assert_eq!(status, StatusCode::UNPROCESSABLE_ENTITY);
    assert!(page.contains("id=\"unallocate-allocation-error\""), "{page}");
    let (status, _, _) =
        app.form(&cookie, "/payments/PAY-00001/move", &[("move", "unallocate"), ("allocation", &allocation), ("reason", "Wrong invoice")]).await;
    assert_eq!(status, StatusCode::SEE_OTHER);
    let (_, invoice) = app.get("/invoices/INV-00001").await;
    assert_eq!((invoice["status"].as_str(), invoice["balance"].as_i64()), (Some("open"), Some(10000)));
    let (_, page) = app.page(Some(&cookie), "/payments/PAY-00001").await;
    assert_eq!(offered(&page), ["allocate", "refund"]);
});

//! The customer summary — status bars, balances, ageing — and the rule that
//! every bar equals the list behind its "Show all", on both backends.

mod common;

use axum::http::StatusCode;
use serde_json::{Value, json};

/// Every item of a paginated list, read with `token`.
async fn all_items(app: &common::TestApp, token: &str, path: &str) -> Vec<Value> {
    let mut items = Vec::new();
    let mut url = format!("{path}&limit=2");
    loop {
        let (status, page) = app.call_as(Some(token), axum::http::Method::GET, &url, None).await;
        assert_eq!(status, StatusCode::OK, "{url}: {page}");
        items.extend(page["items"].as_array().unwrap().iter().cloned());
        match page["next_cursor"].as_str() {
            Some(cursor) => url = format!("{path}&limit=2&cursor={cursor}"),
            None => return items,
        }
    }
}

/// The bars kept by triggers equal the bars counted from the records.
async fn kept_bars_match_recount(app: &common::TestApp, org: uuid::Uuid) {
    use dossier_store::summary::{all_bars, recount_bars};
    let mut conn = app.db.read().await.unwrap();
    let key = |kept: &dossier_store::summary::CustomerBar| (kept.customer_id, kept.bar.record.clone(), kept.bar.status.clone());
    let mut kept = all_bars(&mut conn.handle(), org).await.unwrap();
    let mut counted = recount_bars(&mut conn.handle(), org).await.unwrap();
    kept.sort_by_key(key);
    counted.sort_by_key(key);
    assert!(!counted.is_empty());
    assert_eq!(kept, counted);
}

/// Each bar's count and total (and for invoices balance) equal the length
/// and sums of the list behind its "Show all".
async fn bars_match_lists(app: &common::TestApp, token: &str, customer: &str, summary: &Value) {
    let kinds = [
        ("inquiries", "/inquiries", "status", "estimated_value"),
        ("quotes", "/quotes", "status", "total"),
        ("jobs", "/jobs", "status", "value"),
        ("invoices", "/invoices", "state", "total"),
    ];
    for (section, path, param, amount) in kinds {
        for bar in summary[section]["bars"].as_array().unwrap() {
            let status = bar["status"].as_str().unwrap();
            let items = all_items(app, token, &format!("{path}?customer={customer}&{param}={status}")).await;
            let total: i64 = items.iter().map(|i| i[amount].as_i64().unwrap()).sum();
            assert_eq!(bar["count"].as_i64().unwrap(), items.len() as i64, "count of {section} {status}");
            assert_eq!(bar["total"].as_i64().unwrap(), total, "total of {section} {status}");
            assert!(items.iter().all(|i| i[param] == status), "{section} {status}: {items:?}");
            if section == "invoices" {
                let balance: i64 = items.iter().map(|i| i["balance"].as_i64().unwrap()).sum();
                assert_eq!(bar["balance"].as_i64().unwrap(), balance, "balance of invoices {status}");
            }
        }
    }
}

async fn invoice(app: &common::TestApp, body: Value) -> Value {
    let (status, invoice) = app.post("/invoices", body).await;
    assert_eq!(status, StatusCode::CREATED, "{invoice}");
    invoice
}

fn lines(unit_price: i64) -> Value {
    json!([{"description": "Service", "unit_price": unit_price}])
}

both_backends!(the_summary_shows_every_state_with_counts_totals_and_balances, |app| {
    app.customer(json!({"family_name": "Lee"})).await;
    let today = jiff::Timestamp::now().in_tz("Europe/London").unwrap().date(); // the org's time zone decides "today"
    let long_ago = today.checked_sub(jiff::Span::new().days(100)).unwrap().to_string();
    let weeks_ago = today.checked_sub(jiff::Span::new().days(45)).unwrap().to_string();
    // draft 10.00; open 20.00 (due in 30 days); overdue 30.00 (due 70 days ago) and 40.00 (due 15 days ago, 15.00 paid);
    // closed 50.00 (paid); credited 60.00; void 70.00.
    invoice(&app, json!({"customer": "CUS-00001", "lines": lines(1000)})).await;
    invoice(&app, json!({"customer": "CUS-00001", "issue": true, "lines": lines(2000)})).await;
    invoice(&app, json!({"customer": "CUS-00001", "issue": true, "issue_date": long_ago, "lines": lines(3000)})).await;
    invoice(&app, json!({"customer": "CUS-00001", "issue": true, "issue_date": weeks_ago, "lines": lines(4000)})).await;
    invoice(&app, json!({"customer": "CUS-00001", "issue": true, "lines": lines(5000)})).await;
    invoice(&app, json!({"customer": "CUS-00001", "issue": true, "lines": lines(6000)})).await;
    invoice(&app, json!({"customer": "CUS-00001", "lines": lines(7000)})).await;
    app.post("/invoices/INV-00007/void", json!({"reason": "Duplicate"})).await;
    let (status, _) = app
        .post(
            "/payments",
            json!({"customer": "CUS-00001", "amount": 7000, "allocations": [{"invoice": "INV-00005", "amount": 5000}, {"invoice": "INV-00004", "amount": 1500}]}),
        )
        .await;
    assert_eq!(status, StatusCode::CREATED);
    app.post("/credit-notes", json!({"invoice": "INV-00006", "amount": 6000, "reason": "Not done"})).await;
    for (title, value) in [("Leaking tap", 8000), ("New boiler", 250_000), ("Gutter clean", 0)] {
        let (status, _) = app.post("/inquiries", json!({"customer": "CUS-00001", "title": title, "estimated_value": value})).await;
        assert_eq!(status, StatusCode::CREATED);
    }
    app.post("/inquiries/INQ-00001/convert", json!({"into": "job"})).await;
    app.post("/inquiries/INQ-00002/convert", json!({"into": "quote"})).await;
    app.post("/quotes/EST-00001/status", json!({"status": "sent"})).await;
    let (status, _) = app.post("/jobs", json!({"customer": "CUS-00001", "title": "Service visit", "value": 9000})).await;
    assert_eq!(status, StatusCode::CREATED);
    app.post("/jobs/BOK-00002/status", json!({"status": "cancelled", "notes": "Customer away"})).await;

    let (status, summary) = app.get("/customers/CUS-00001/summary").await;
    assert_eq!(status, StatusCode::OK, "{summary}");
    let bar = |state: &str| summary["invoices"]["bars"].as_array().unwrap().iter().find(|b| b["status"] == state).unwrap().clone();
    assert_eq!((bar("draft")["count"].as_i64(), bar("draft")["total"].as_i64()), (Some(1), Some(1000)));
    assert_eq!((bar("open")["count"].as_i64(), bar("open")["total"].as_i64()), (Some(1), Some(2000)));
    assert_eq!((bar("overdue")["count"].as_i64(), bar("overdue")["total"].as_i64(), bar("overdue")["balance"].as_i64()), (Some(2), Some(7000), Some(5500)));
    assert_eq!((bar("closed")["count"].as_i64(), bar("closed")["total"].as_i64()), (Some(1), Some(5000)));
    assert_eq!((bar("credited")["count"].as_i64(), bar("credited")["total"].as_i64()), (Some(1), Some(6000)));
    assert_eq!((bar("void")["count"].as_i64(), bar("void")["total"].as_i64()), (Some(1), Some(7000)));
    // Every status is shown, even with nothing in it.
    let quote_statuses: Vec<&str> = summary["quotes"]["bars"].as_array().unwrap().iter().map(|b| b["status"].as_str().unwrap()).collect();
    assert_eq!(quote_statuses, ["draft", "sent", "accepted", "declined", "expired"]);
    assert_eq!(summary["jobs"]["bars"].as_array().unwrap().len(), 6);

    // 500 of the payment is account credit.
    assert_eq!(summary["account_credit"], 500);
    assert_eq!(summary["overdue_balance"], 5500);
    assert_eq!(summary["open_balance"], 2000 + 5500 - 500);
    assert_eq!(summary["debt_age_days"], 70);
    assert_eq!(summary["ageing"], json!({"current": 2000, "days_1_30": 2500, "days_31_60": 0, "days_61_90": 3000, "days_over_90": 0}));
    assert!(summary["last_activity_at"].is_string());

    let job_bar = |status: &str| summary["jobs"]["bars"].as_array().unwrap().iter().find(|b| b["status"] == status).unwrap().clone();
    assert_eq!((job_bar("to_schedule")["count"].as_i64(), job_bar("to_schedule")["total"].as_i64()), (Some(1), Some(8000)));
    assert_eq!((job_bar("cancelled")["count"].as_i64(), job_bar("cancelled")["total"].as_i64()), (Some(1), Some(9000)));
    assert_eq!(summary["inquiries"]["count"], 3);
    bars_match_lists(&app, &app.token, "CUS-00001", &summary).await;
    kept_bars_match_recount(&app, app.org.id.0).await;
});

both_backends!(open_balances_fall_into_ageing_buckets_by_days_past_due, |app| {
    app.customer(json!({"family_name": "Ager"})).await;
    let today = jiff::Timestamp::now().in_tz("Europe/London").unwrap().date();
    let cases = [(-3, 1), (0, 2), (1, 4), (30, 8), (31, 16), (60, 32), (61, 64), (90, 128), (91, 256)];
    for (days_past_due, amount) in cases {
        let due = today.checked_sub(jiff::Span::new().days(days_past_due)).unwrap();
        let issued = due.checked_sub(jiff::Span::new().days(100)).unwrap();
        invoice(&app, json!({"customer": "CUS-00001", "issue": true, "issue_date": issued.to_string(), "due_date": due.to_string(), "lines": lines(amount)}))
            .await;
    }
    let (status, summary) = app.get("/customers/CUS-00001/summary").await;
    assert_eq!(status, StatusCode::OK, "{summary}");
    assert_eq!(summary["ageing"], json!({"current": 3, "days_1_30": 12, "days_31_60": 48, "days_61_90": 192, "days_over_90": 256}));
    assert_eq!(summary["overdue_balance"], 511 - 3);
    assert_eq!(summary["open_balance"], 511);
    assert_eq!(summary["debt_age_days"], 91);
    let overdue = summary["invoices"]["bars"].as_array().unwrap().iter().find(|b| b["status"] == "overdue").unwrap().clone();
    assert_eq!((overdue["count"].as_i64(), overdue["total"].as_i64()), (Some(7), Some(508)));
    bars_match_lists(&app, &app.token, "CUS-00001", &summary).await;
});

both_backends!(an_empty_customer_has_empty_bars_and_nothing_owed, |app| {
    app.customer(json!({"family_name": "New"})).await;
    let (status, summary) = app.get("/customers/CUS-00001/summary").await;
    assert_eq!(status, StatusCode::OK);
    assert_eq!(summary["open_balance"], 0);
    assert_eq!(summary["debt_age_days"], Value::Null);
    assert_eq!(summary["invoices"]["count"], 0);
    assert!(summary["invoices"]["bars"].as_array().unwrap().iter().all(|b| b["count"] == 0));
    let (status, _) = app.get("/customers/CUS-00099/summary").await;
    assert_eq!(status, StatusCode::NOT_FOUND);
});

both_backends!(every_bar_of_demo_customers_matches_its_list, |app| {
    use dossier_service::demo;
    let loaded =
        demo::load(&app.db, demo::DemoOptions { customers: 150, seed: 9, per_transaction: None, files: None, second_org: true }, |_| {}).await.unwrap();
    let token = loaded.api_token;
    let get = |path: String| {
        let (app, token) = (&app, token.clone());
        async move { app.call_as(Some(&token), axum::http::Method::GET, &path, None).await.1 }
    };
    // The demo's custom fields are defined and filled in on its first customers.
    let fields = get("/custom-fields".into()).await;
    assert_eq!(fields.as_array().map(Vec::len), Some(5), "{fields}");
    let first = get("/customers/CUS-00001".into()).await;
    assert_eq!(first["custom_fields"], json!({"contract_tier": "Gold", "account_manager": "Priya Shah"}));
    // Customers with open or overdue invoices.
    let invoices = all_items(&app, &token, "/invoices?state=open").await;
    let overdue = all_items(&app, &token, "/invoices?state=overdue").await;
    assert!(!overdue.is_empty(), "the demo has overdue invoices");
    let mut customers: Vec<String> = overdue.iter().chain(&invoices).map(|i| i["customer_id"].as_str().unwrap().to_owned()).collect();
    customers.sort();
    customers.dedup();
    assert!(customers.len() >= 3, "{customers:?}");
    for customer in customers.iter().take(8) {
        let summary = get(format!("/customers/{customer}/summary")).await;
        bars_match_lists(&app, &token, customer, &summary).await;
        let statement = get(format!("/customers/{customer}/statement")).await;
        assert_eq!(statement["closing_balance"], summary["open_balance"], "{customer}");
    }
    let all_closed = all_items(&app, &token, "/invoices?state=closed").await;
    assert!(all_closed.len() > overdue.len(), "most demo invoices are paid: {} closed, {} overdue", all_closed.len(), overdue.len());
    kept_bars_match_recount(&app, loaded.org.id.0).await;
});

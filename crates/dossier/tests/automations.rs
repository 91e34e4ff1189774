//! Automations: what an org lets Dossier do on its own, changed through
//! the API and the settings page, and read by the work it governs (a
//! switched-off quote expiry leaves quotes sent); on SQLite and PostgreSQL.

mod common;

use axum::http::{Method, StatusCode};
use dossier_service::tasks::{self, Worker, WorkerSettings};
use jiff::Timestamp;
use serde_json::{Value, json};

fn codes(problem: &Value) -> Vec<(String, String)> {
    problem["errors"].as_array().map_or_else(Vec::new, |errors| {
        errors.iter().map(|e| (e["field"].as_str().unwrap_or("").to_owned(), e["code"].as_str().unwrap_or("").to_owned())).collect()
    })
}

both_backends!(an_admin_tunes_the_automations_and_each_change_is_one_entry_in_the_org_s_history, |app| {
    let (status, now) = app.get("/org/automations").await;
    assert_eq!(status, StatusCode::OK);
    assert_eq!(
        now,
        json!({"invoice_email": false, "payment_receipt": false, "payment_reminders": false, "reminder_days": [7, 14, 30], "statements": false, "statement_day": 1, "quote_expiry": true})
    );

    let before = app.count("activity").await;
    let (status, problem) = app.patch("/org/automations", json!({"reminder_days": [14, 7], "statement_day": 30, "invoice_email": true})).await;
    assert_eq!(status, StatusCode::UNPROCESSABLE_ENTITY);
    assert_eq!(codes(&problem), [("reminder_days".to_owned(), "not_increasing".to_owned()), ("statement_day".to_owned(), "out_of_range".to_owned())]);
    let (status, _) = app.patch("/org/automations", json!({"sends_faxes": true})).await;
    assert_eq!(status, StatusCode::UNPROCESSABLE_ENTITY);
    assert_eq!(app.get("/org/automations").await.1, now, "a refusal changes nothing");
    assert_eq!(app.count("activity").await, before);

    let (status, after) = app.patch("/org/automations", json!({"invoice_email": true, "payment_reminders": true, "reminder_days": [3, 10]})).await;
    assert_eq!(status, StatusCode::OK, "{after}");
    assert_eq!(after["invoice_email"], true);
    assert_eq!(after["reminder_days"], json!([3, 10]));
    assert_eq!(after["quote_expiry"], true, "what was left out stays");
    assert_eq!(app.count("activity").await, before + 1);
    // The same values again change nothing and record nothing.
    app.patch("/org/automations", json!({"invoice_email": true})).await;
    assert_eq!(app.count("activity").await, before + 1);

    let (_, office) = app.user("office").await;
    let (status, _) = app.call_as(Some(&office), Method::PATCH, "/org/automations", Some(json!({"statements": true}))).await;
    assert_eq!(status, StatusCode::FORBIDDEN);
    assert_eq!(app.get("/org/automations").await.1["statements"], false);
});

both_backends!(with_quote_expiry_switched_off_the_nightly_run_leaves_sent_quotes_as_they_are, |app| {
    app.customer(json!({"family_name": "Lee"})).await;
    let yesterday = Timestamp::now().to_zoned(app.org.zone()).date().yesterday().unwrap();
    let (status, quote) = app
        .post(
            "/quotes",
            json!({"customer": "CUS-00001", "title": "Boiler", "valid_until": yesterday, "lines": [{"description": "Boiler", "unit_price": 100_000}]}),
        )
        .await;
    assert_eq!(status, StatusCode::CREATED, "{quote}");
    app.post("/quotes/EST-00001/status", json!({"status": "sent"})).await;
    let (status, _) = app.patch("/org/automations", json!({"quote_expiry": false})).await;
    assert_eq!(status, StatusCode::OK);

    let worker = Worker::new(app.db.clone(), tasks::Handlers::default(), WorkerSettings::default());
    assert!(worker.work_once(Timestamp::now()).await.unwrap() >= 1, "the run ran");
    assert_eq!(app.get("/quotes/EST-00001").await.1["status"], "sent");
    // Switched back on, the next run expires it.
    app.patch("/org/automations", json!({"quote_expiry": true})).await;
    let (_, queued) = app.get("/tasks?status=queued").await;
    let next = queued["items"].as_array().unwrap().iter().find(|t| t["kind"] == "quotes.expire").expect("the next run is queued").clone();
    let run_at: Timestamp = next["run_at"].as_str().unwrap().parse().unwrap();
    assert!(worker.work_once(run_at).await.unwrap() >= 1);
    assert_eq!(app.get("/quotes/EST-00001").await.1["status"], "expired");
});

both_backends!(the_automations_page_saves_the_form_and_shows_a_bad_level_next_to_its_field, |app| {
    let cookie = app.session("admin").await;
    let (status, page) = app.page(Some(&cookie), "/settings/automations").await;
    assert_eq!(status, StatusCode::OK);
    assert!(page.contains("name=\"reminder_days\"") && page.contains("7, 14, 30"), "{page}");

    let form = [("invoice_email", "on"), ("reminder_days", "30, 7"), ("statement_day", "5"), ("quote_expiry", "on")];
    let (status, _, refused) = app.form(&cookie, "/settings/automations", &form).await;
    assert_eq!(status, StatusCode::UNPROCESSABLE_ENTITY);
    assert!(refused.contains("id=\"reminder_days-error\""), "{refused}");
    assert_eq!(app.get("/org/automations").await.1["invoice_email"], false);

    let form = [("invoice_email", "on"), ("reminder_days", "5, 15"), ("statement_day", "5")];
    let (status, location, _) = app.form(&cookie, "/settings/automations", &form).await;
    assert_eq!(status, StatusCode::SEE_OTHER);
    assert_eq!(location, "/settings/automations");
    let (_, now) = app.get("/org/automations").await;
    assert_eq!(now["invoice_email"], true);
    assert_eq!(now["reminder_days"], json!([5, 15]));
    assert_eq!(now["statement_day"], 5);
    assert_eq!(now["quote_expiry"], false, "an unticked box is off");
});

//! Inquiries, quotes and jobs and their workflows through the JSON API, on
//! SQLite and PostgreSQL.

mod common;

use axum::http::{Method, StatusCode};
use serde_json::{Value, json};

const WINDOW: (&str, &str) = ("2026-05-01T09:00:00Z", "2026-05-01T11:00:00Z");

fn codes(page: &Value) -> Vec<&str> {
    page["items"].as_array().unwrap().iter().map(|i| i["code"].as_str().unwrap()).collect()
}

fn kinds(page: &Value) -> Vec<&str> {
    page["items"].as_array().unwrap().iter().map(|i| i["kind"].as_str().unwrap()).collect()
}

async fn created(app: &common::TestApp, path: &str, body: Value) -> Value {
    let (status, record) = app.post(path, body).await;
    assert_eq!(status, StatusCode::CREATED, "{path}: {record}");
    record
}

async fn moved(app: &common::TestApp, path: &str, body: Value) -> Value {
    let (status, record) = app.post(path, body).await;
    assert_eq!(status, StatusCode::OK, "{path}: {record}");
    record
}

/// A second active user of the test org, to assign jobs to.
async fn fieldworker(app: &common::TestApp) -> String {
    let new = dossier_service::users::NewUser {
        email: "fred@test.example".into(),
        name: "Fred Fieldworker".into(),
        role: "support".into(),
        password: "correct horse battery".into(),
    };
    dossier_service::users::add_user(&app.db, &app.ctx(), new).await.unwrap().id.to_string()
}

both_backends!(each_record_type_gets_gapless_codes, |app| {
    app.customer(json!({"family_name": "Lee"})).await;
    for n in 1..=2 {
        let inquiry = created(&app, "/inquiries", json!({"customer": "CUS-00001", "title": format!("Leak {n}")})).await;
        assert_eq!(inquiry["code"], format!("INQ-0000{n}"));
        assert_eq!(inquiry["status"], "new");
        assert_eq!(inquiry["estimated_value"], 0);
        let quote = created(
            &app,
            "/quotes",
            json!({"customer": "CUS-00001", "title": "New boiler", "lines": [{"description": "Boiler", "unit_price": 100_000, "tax_rate_bp": 2000}]}),
        )
        .await;
        assert_eq!(quote["code"], format!("EST-0000{n}"));
        assert_eq!((quote["status"].as_str(), quote["subtotal"].as_i64(), quote["total"].as_i64()), (Some("draft"), Some(100_000), Some(120_000)));
        let job = created(&app, "/jobs", json!({"customer": "CUS-00001", "title": "Service", "value": 8_000})).await;
        assert_eq!(job["code"], format!("BOK-0000{n}"));
        assert_eq!(job["status"], "to_schedule");
    }
    // A refused create does not use up a number.
    let (status, problem) = app.post("/jobs", json!({"customer": "CUS-00001"})).await;
    assert_eq!(status, StatusCode::UNPROCESSABLE_ENTITY);
    assert_eq!(problem["errors"][0]["field"], "title");
    let scheduled = created(&app, "/jobs", json!({"customer": "CUS-00001", "title": "Booked", "scheduled_start": WINDOW.0, "scheduled_end": WINDOW.1})).await;
    assert_eq!((scheduled["code"].as_str(), scheduled["status"].as_str()), (Some("BOK-00003"), Some("scheduled")));
    let (_, by_code) = app.get("/jobs/BOK-00003").await;
    let (_, by_id) = app.get(&format!("/jobs/{}", scheduled["id"].as_str().unwrap())).await;
    assert_eq!(by_code, by_id);
});

both_backends!(an_inquiry_is_contacted_qualified_and_converted_into_a_job, |app| {
    app.customer(json!({"family_name": "Lee"})).await;
    let site = created(&app, "/customers/CUS-00001/sites", json!({"address_line1": "1 High St", "postcode": "LS1 4AP"})).await;
    let site_id = site["id"].as_str().unwrap();
    created(&app, "/inquiries", json!({"customer": "CUS-00001", "site_id": site_id, "title": "Radiator leak", "estimated_value": 15_000, "source": "phone"}))
        .await;
    let contacted = moved(&app, "/inquiries/INQ-00001/status", json!({"status": "contacted"})).await;
    assert_eq!(contacted["status"], "contacted");
    let qualified = moved(&app, "/inquiries/INQ-00001/status", json!({"status": "qualified", "reason": "Budget confirmed"})).await;
    assert_eq!(qualified["status"], "qualified");

    let converted = created(&app, "/inquiries/INQ-00001/convert", json!({"into": "job"})).await;
    assert_eq!(converted["inquiry"]["status"], "converted");
    assert_eq!(converted["inquiry"]["converted_to"], "BOK-00001");
    assert_eq!(converted.get("quote"), None);
    let job = &converted["job"];
    assert_eq!((job["code"].as_str(), job["status"].as_str(), job["value"].as_i64()), (Some("BOK-00001"), Some("to_schedule"), Some(15_000)));
    assert_eq!(job["inquiry_id"], converted["inquiry"]["id"]);
    assert_eq!(job["site_id"], site_id);

    // Converted is final: converting again or moving it is refused.
    let (status, problem) = app.post("/inquiries/INQ-00001/convert", json!({"into": "quote"})).await;
    assert_eq!(status, StatusCode::CONFLICT);
    assert_eq!(problem["code"], "illegal_transition");

    let (_, timeline) = app.get("/customers/CUS-00001/timeline?group=works").await;
    assert_eq!(kinds(&timeline), ["inquiry.converted", "job.created", "inquiry.status_changed", "inquiry.status_changed", "inquiry.created"]);
    let converted_entry = &timeline["items"][0];
    assert_eq!(converted_entry["detail"]["estimated_value"], 15_000);
    assert_eq!(converted_entry["changes"], json!([{"field": "status", "old": "qualified", "new": "converted"}]));
    assert_eq!(timeline["items"][1]["detail"]["value"], 15_000);
    assert_eq!(timeline["items"][2]["detail"]["reason"], "Budget confirmed");
    // The site's links carry the works too.
    let (_, site_timeline) = app.get(&format!("/sites/{site_id}/timeline")).await;
    assert!(kinds(&site_timeline).contains(&"job.created"), "{site_timeline}");
});

both_backends!(an_inquiry_converts_into_a_draft_quote_of_its_estimate, |app| {
    app.customer(json!({"family_name": "Lee"})).await;
    created(&app, "/inquiries", json!({"customer": "CUS-00001", "title": "Bathroom refit", "estimated_value": 250_000})).await;
    created(&app, "/inquiries", json!({"customer": "CUS-00001", "title": "Tap washer"})).await;
    let converted = created(&app, "/inquiries/INQ-00001/convert", json!({"into": "quote"})).await;
    let quote = &converted["quote"];
    assert_eq!((quote["code"].as_str(), quote["status"].as_str(), quote["total"].as_i64()), (Some("EST-00001"), Some("draft"), Some(250_000)));
    assert_eq!(quote["lines"][0]["description"], "Bathroom refit");
    assert_eq!(quote["inquiry_id"], converted["inquiry"]["id"]);
    assert_eq!(converted["inquiry"]["converted_to"], "EST-00001");
    // No estimate: one line at 0.
    let converted = created(&app, "/inquiries/INQ-00002/convert", json!({"into": "quote"})).await;
    assert_eq!((converted["quote"]["total"].as_i64(), converted["quote"]["lines"][0]["unit_price"].as_i64()), (Some(0), Some(0)));
    // A lost inquiry cannot be converted; `converted` cannot be set by hand.
    created(&app, "/inquiries", json!({"customer": "CUS-00001", "title": "Gutter"})).await;
    let (status, problem) = app.post("/inquiries/INQ-00003/status", json!({"status": "converted"})).await;
    assert_eq!((status, problem["code"].as_str()), (StatusCode::CONFLICT, Some("illegal_transition")));
    moved(&app, "/inquiries/INQ-00003/status", json!({"status": "lost", "reason": "Went elsewhere"})).await;
    let (status, _) = app.post("/inquiries/INQ-00003/convert", json!({"into": "job"})).await;
    assert_eq!(status, StatusCode::CONFLICT);
    let (status, problem) = app.post("/inquiries/INQ-00003/convert", json!({"into": "invoice"})).await;
    assert_eq!(status, StatusCode::UNPROCESSABLE_ENTITY, "{problem}");
});

both_backends!(a_quote_is_sent_and_accepted_creating_its_job, |app| {
    app.customer(json!({"family_name": "Lee"})).await;
    let site = created(&app, "/customers/CUS-00001/sites", json!({"address_line1": "1 High St", "postcode": "LS1 4AP"})).await;
    created(
        &app,
        "/quotes",
        json!({"customer": "CUS-00001", "site_id": site["id"], "title": "New boiler", "valid_until": "2026-06-30",
            "lines": [{"description": "Boiler", "unit_price": 100_000, "tax_rate_bp": 2000}, {"description": "Fitting", "quantity": 4, "unit_price": 5_000}]}),
    )
    .await;
    let sent = moved(&app, "/quotes/EST-00001/status", json!({"status": "sent"})).await;
    assert_eq!(sent["status"], "sent");
    let accepted = moved(&app, "/quotes/EST-00001/status", json!({"status": "accepted", "create_job": true})).await;
    assert_eq!(accepted["status"], "accepted");
    let job_id = accepted["job_id"].as_str().expect("a job was created");
    let (_, job) = app.get(&format!("/jobs/{job_id}")).await;
    assert_eq!((job["code"].as_str(), job["status"].as_str(), job["value"].as_i64()), (Some("BOK-00001"), Some("to_schedule"), Some(140_000)));
    assert_eq!((job["quote_id"].as_str(), job["title"].as_str()), (accepted["id"].as_str(), Some("New boiler")));
    assert_eq!((&job["customer_id"], &job["site_id"]), (&accepted["customer_id"], &site["id"]));

    let (_, timeline) = app.get("/customers/CUS-00001/timeline?group=works").await;
    assert_eq!(kinds(&timeline), ["quote.status_changed", "job.created", "quote.status_changed", "quote.created"]);
    assert_eq!(timeline["items"][0]["detail"]["total"], 140_000);
    assert_eq!(timeline["items"][0]["changes"], json!([{"field": "status", "old": "sent", "new": "accepted"}]));
});

both_backends!(a_job_is_scheduled_started_and_completed, |app| {
    app.customer(json!({"family_name": "Lee"})).await;
    let fred = fieldworker(&app).await;
    created(&app, "/jobs", json!({"customer": "CUS-00001", "title": "Boiler service", "value": 9_000})).await;

    // Scheduling needs a window.
    let before = app.count("activity").await;
    let (status, problem) = app.post("/jobs/BOK-00001/status", json!({"status": "scheduled"})).await;
    assert_eq!(status, StatusCode::UNPROCESSABLE_ENTITY, "{problem}");
    assert_eq!(problem["errors"][0]["field"], "scheduled_start");
    // Assignees must be users of the org.
    let stranger = uuid::Uuid::new_v4().to_string();
    let (status, problem) = app
        .post("/jobs/BOK-00001/status", json!({"status": "scheduled", "scheduled_start": WINDOW.0, "scheduled_end": WINDOW.1, "assignees": [stranger]}))
        .await;
    assert_eq!(status, StatusCode::UNPROCESSABLE_ENTITY, "{problem}");
    assert_eq!(problem["errors"][0]["field"], "assignees[0]");
    assert_eq!(app.count("activity").await, before);

    let scheduled =
        moved(&app, "/jobs/BOK-00001/status", json!({"status": "scheduled", "scheduled_start": WINDOW.0, "scheduled_end": WINDOW.1, "assignees": [fred]}))
            .await;
    assert_eq!(scheduled["status"], "scheduled");
    assert_eq!(scheduled["assignees"], json!([fred]));
    let started = moved(&app, "/jobs/BOK-00001/status", json!({"status": "in_progress"})).await;
    assert_eq!(started["status"], "in_progress");
    assert_eq!(started["scheduled_start"], scheduled["scheduled_start"]);
    let completed = moved(&app, "/jobs/BOK-00001/status", json!({"status": "completed", "notes": "Serviced, new seal fitted"})).await;
    assert_eq!((completed["status"].as_str(), completed["completion_notes"].as_str()), (Some("completed"), Some("Serviced, new seal fitted")));
    assert!(completed["completed_at"].is_string(), "{completed}");

    // Filter by assignee (the job_assignee rows are kept in step).
    created(&app, "/jobs", json!({"customer": "CUS-00001", "title": "Unassigned"})).await;
    let (_, mine) = app.get(&format!("/jobs?assignee={fred}")).await;
    assert_eq!(codes(&mine), ["BOK-00001"]);

    let (_, timeline) = app.get("/customers/CUS-00001/timeline?group=works").await;
    assert_eq!(kinds(&timeline), ["job.created", "job.status_changed", "job.status_changed", "job.status_changed", "job.created"]);
    let done = &timeline["items"][1];
    assert_eq!(done["summary"], "Job BOK-00001 moved from in progress to completed: Serviced, new seal fitted");
    assert_eq!(done["changes"], json!([{"field": "status", "old": "in_progress", "new": "completed"}]));
    assert_eq!((done["detail"]["value"].as_i64(), done["detail"]["notes"].as_str()), (Some(9_000), Some("Serviced, new seal fitted")));
});

both_backends!(an_illegal_transition_is_refused_and_changes_nothing, |app| {
    app.customer(json!({"family_name": "Lee"})).await;
    created(&app, "/jobs", json!({"customer": "CUS-00001", "title": "Service"})).await;
    created(&app, "/quotes", json!({"customer": "CUS-00001", "title": "Boiler", "lines": [{"description": "Boiler", "unit_price": 100}]})).await;
    let (_, job_before) = app.get("/jobs/BOK-00001").await;
    let (_, quote_before) = app.get("/quotes/EST-00001").await;
    let activities = app.count("activity").await;
    let jobs = app.count("job").await;

    let (status, problem) = app.post("/jobs/BOK-00001/status", json!({"status": "completed", "notes": "Too soon"})).await;
    assert_eq!((status, problem["code"].as_str()), (StatusCode::CONFLICT, Some("illegal_transition")));
    let (status, problem) = app.post("/quotes/EST-00001/status", json!({"status": "accepted", "create_job": true})).await;
    assert_eq!((status, problem["code"].as_str()), (StatusCode::CONFLICT, Some("illegal_transition")));

    assert_eq!(app.get("/jobs/BOK-00001").await.1, job_before);
    assert_eq!(app.get("/quotes/EST-00001").await.1, quote_before);
    assert_eq!(app.count("activity").await, activities);
    assert_eq!(app.count("job").await, jobs);
});

both_backends!(parties_must_belong_to_the_customer, |app| {
    app.customer(json!({"family_name": "Lee"})).await;
    app.customer(json!({"family_name": "Other"})).await;
    let other_site = created(&app, "/customers/CUS-00002/sites", json!({"address_line1": "2 Park Row", "postcode": "LS1 5HD"})).await;
    for path in ["/inquiries", "/jobs"] {
        let (status, problem) = app.post(path, json!({"customer": "CUS-00001", "site_id": other_site["id"], "title": "Leak"})).await;
        assert_eq!(status, StatusCode::UNPROCESSABLE_ENTITY, "{path}: {problem}");
        assert_eq!(problem["errors"][0]["field"], "site_id");
    }
    let (status, problem) = app.post("/quotes", json!({"site_id": other_site["id"], "title": "x", "lines": [{"description": "x", "unit_price": 1}]})).await;
    assert_eq!(status, StatusCode::UNPROCESSABLE_ENTITY);
    assert_eq!(problem["errors"][0]["field"], "customer");
    let (status, problem) = app.post("/jobs", json!({"customer": "CUS-00009", "title": "x"})).await;
    assert_eq!((status, problem["errors"][0]["field"].as_str()), (StatusCode::UNPROCESSABLE_ENTITY, Some("customer")));
    let (status, _) = app.post("/jobs", json!({"customer": "CUS-00001", "title": "x", "colour": "red"})).await;
    assert_eq!(status, StatusCode::UNPROCESSABLE_ENTITY);
    assert_eq!(app.count("inquiry").await + app.count("job").await, 0);
});

both_backends!(work_records_of_another_org_are_not_found, |app| {
    app.customer(json!({"family_name": "Lee"})).await;
    created(&app, "/inquiries", json!({"customer": "CUS-00001", "title": "Leak"})).await;
    created(&app, "/quotes", json!({"customer": "CUS-00001", "title": "Boiler", "lines": [{"description": "Boiler", "unit_price": 100}]})).await;
    let job = created(&app, "/jobs", json!({"customer": "CUS-00001", "title": "Service"})).await;
    let (_, other_token) = app.add_org("Other Services", "admin@other.example").await;
    let job_path = format!("/jobs/{}", job["id"].as_str().unwrap());
    for path in ["/inquiries/INQ-00001", "/quotes/EST-00001", "/jobs/BOK-00001", job_path.as_str()] {
        let (status, body) = app.call_as(Some(&other_token), Method::GET, path, None).await;
        assert_eq!(status, StatusCode::NOT_FOUND, "{path}: {body}");
    }
    let (status, _) = app.call_as(Some(&other_token), Method::POST, "/jobs/BOK-00001/status", Some(json!({"status": "cancelled"}))).await;
    assert_eq!(status, StatusCode::NOT_FOUND);
    let (status, problem) = app.call_as(Some(&other_token), Method::POST, "/jobs", Some(json!({"customer": "CUS-00001", "title": "x"}))).await;
    assert_eq!((status, problem["errors"][0]["field"].as_str()), (StatusCode::UNPROCESSABLE_ENTITY, Some("customer")));
    let (_, list) = app.call_as(Some(&other_token), Method::GET, "/jobs", None).await;
    assert_eq!(list["items"], json!([]));
});

both_backends!(lists_filter_by_customer_and_status, |app| {
    app.customer(json!({"family_name": "Lee"})).await;
    app.customer(json!({"family_name": "Other"})).await;
    for customer in ["CUS-00001", "CUS-00002", "CUS-00001"] {
        created(&app, "/inquiries", json!({"customer": customer, "title": "Leak"})).await;
        created(&app, "/quotes", json!({"customer": customer, "title": "Boiler", "lines": [{"description": "Boiler", "unit_price": 100}]})).await;
        created(&app, "/jobs", json!({"customer": customer, "title": "Service"})).await;
    }
    moved(&app, "/inquiries/INQ-00003/status", json!({"status": "contacted"})).await;
    moved(&app, "/quotes/EST-00001/status", json!({"status": "sent"})).await;
    moved(&app, "/jobs/BOK-00003/status", json!({"status": "cancelled", "notes": "Customer away"})).await;

    let (_, page) = app.get("/inquiries?customer=CUS-00001").await;
    assert_eq!(codes(&page), ["INQ-00003", "INQ-00001"]);
    let (_, page) = app.get("/inquiries?customer=CUS-00001&status=new").await;
    assert_eq!(codes(&page), ["INQ-00001"]);
    let (_, page) = app.get("/quotes?status=sent").await;
    assert_eq!(codes(&page), ["EST-00001"]);
    let (_, page) = app.get("/quotes?customer=CUS-00002").await;
    assert_eq!(codes(&page), ["EST-00002"]);
    let (_, page) = app.get("/jobs?customer=CUS-00001&status=to_schedule").await;
    assert_eq!(codes(&page), ["BOK-00001"]);
    let (_, page) = app.get("/jobs?status=cancelled").await;
    assert_eq!(codes(&page), ["BOK-00003"]);

    let (_, first) = app.get("/jobs?limit=2").await;
    assert_eq!(codes(&first), ["BOK-00003", "BOK-00002"]);
    let (_, rest) = app.get(&format!("/jobs?limit=2&cursor={}", first["next_cursor"].as_str().unwrap())).await;
    assert_eq!((codes(&rest), &rest["next_cursor"]), (vec!["BOK-00001"], &Value::Null));

    let (status, problem) = app.get("/jobs?status=done").await;
    assert_eq!(status, StatusCode::UNPROCESSABLE_ENTITY, "{problem}");
});

both_backends!(a_draft_quote_is_edited_and_a_sent_one_is_refused, |app| {
    app.customer(json!({"family_name": "Lee"})).await;
    let (_, quote) =
        app.post("/quotes", json!({"customer": "CUS-00001", "title": "Boiler", "lines": [{"description": "Boiler", "unit_price": 200_000}]})).await;
    assert_eq!(quote["total"], 200_000);
    let (status, problem) = app.patch("/quotes/EST-00001", json!({"title": "", "valid_until": "9999-01-01"})).await;
    assert_eq!(status, StatusCode::UNPROCESSABLE_ENTITY);
    let fields: Vec<&str> = problem["errors"].as_array().unwrap().iter().map(|e| e["field"].as_str().unwrap()).collect();
    assert_eq!(fields, ["title", "valid_until"]);

    let lines = json!([{"description": "Boiler", "unit_price": 180_000}, {"description": "Fitting", "quantity": "1.5", "unit_price": 4_000}]);
    let (status, edited) = app.patch("/quotes/EST-00001", json!({"title": "Boiler and fitting", "valid_until": "2026-06-30", "lines": lines})).await;
    assert_eq!(status, StatusCode::OK, "{edited}");
    assert_eq!(
        (edited["title"].as_str(), edited["total"].as_i64(), edited["valid_until"].as_str()),
        (Some("Boiler and fitting"), Some(186_000), Some("2026-06-30"))
    );
    let (_, timeline) = app.get("/customers/CUS-00001/timeline?kind=quote.edited").await;
    let changed: Vec<&str> = timeline["items"][0]["changes"].as_array().unwrap().iter().map(|c| c["field"].as_str().unwrap()).collect();
    assert_eq!(changed, ["lines", "subtotal", "title", "total", "valid_until"]);
    assert_eq!(timeline["items"][0]["group"], "works");

    app.post("/quotes/EST-00001/status", json!({"status": "sent"})).await;
    let (status, problem) = app.patch("/quotes/EST-00001", json!({"title": "Too late"})).await;
    assert_eq!((status, problem["code"].as_str()), (StatusCode::CONFLICT, Some("not_draft")));
    let (_, fieldworker) = app.user("fieldworker").await;
    let (status, _) = app.call_as(Some(&fieldworker), axum::http::Method::PATCH, "/quotes/EST-00001", Some(json!({"title": "x"}))).await;
    assert_eq!(status, StatusCode::FORBIDDEN);
});

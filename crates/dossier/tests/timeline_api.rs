//! The customer timeline: newest first, pages, and filters.

mod common;

use axum::http::StatusCode;
use dossier_domain::activity::{Actor, ActorType};
use dossier_domain::customer::{CustomerPatch, CustomerStatus, StatusChange};
use dossier_domain::patch::Patch;
use dossier_service::customers;
use jiff::Timestamp;
use serde_json::{Value, json};

fn summaries(page: &Value) -> Vec<String> {
    page["items"].as_array().unwrap().iter().map(|a| a["summary"].as_str().unwrap().to_owned()).collect()
}

/// A customer with history on known days, by a user and by the system.
async fn history(app: &common::TestApp) {
    let day = |d: &str| format!("{d}T10:00:00Z").parse::<Timestamp>().unwrap();
    let user = app.ctx();
    let mut staff = user.clone();
    staff.actor = Actor { kind: ActorType::User, id: None, name: "Priya Shah".into() };
    let mut tx = app.db.begin().await.unwrap();
    let input = serde_json::from_value::<dossier_domain::customer::CustomerInput>(json!({"family_name": "Lee"}))
        .unwrap()
        .parse(app.org.region, &Default::default())
        .unwrap();
    customers::create_customer_in(&mut tx, &staff.at(day("2024-01-10")), input).await.unwrap();
    for (i, date) in ["2024-02-01", "2024-03-01", "2024-04-01", "2024-05-01"].iter().enumerate() {
        let patch = CustomerPatch { source: Patch::Set(format!("Source {i}")), ..Default::default() };
        customers::update_customer_in(&mut tx, &staff.at(day(date)), "CUS-00001", patch).await.unwrap();
    }
    let change = StatusChange { status: CustomerStatus::Dormant, reason: "Quiet for a year".into() };
    customers::change_status_in(&mut tx, &user.at(day("2025-06-01")), "CUS-00001", change).await.unwrap();
    tx.commit().await.unwrap();
}

both_backends!(the_timeline_is_newest_first_and_pages_by_cursor, |app| {
    history(&app).await;
    let (_, page) = app.get("/customers/CUS-00001/timeline?limit=4").await;
    assert_eq!(
        summaries(&page),
        ["Status changed from active to dormant: Quiet for a year", "Profile updated: source", "Profile updated: source", "Profile updated: source"]
    );
    assert_eq!(page["items"][0]["occurred_at"], "2025-06-01T10:00:00Z");
    let cursor = page["next_cursor"].as_str().unwrap().to_owned();
    let (_, rest) = app.get(&format!("/customers/CUS-00001/timeline?limit=4&cursor={cursor}")).await;
    assert_eq!(summaries(&rest), ["Profile updated: source", "Customer CUS-00001 created: Lee"]);
    assert_eq!(rest["next_cursor"], Value::Null);
    assert_eq!(rest["items"][0]["changes"], json!([{"field": "source", "old": null, "new": "Source 0"}]));
});

both_backends!(the_timeline_filters_by_group_kind_actor_and_dates, |app| {
    history(&app).await;
    app.patch("/customers/CUS-00001", json!({"title": "Dr"})).await;
    let count = |page: &Value| page["items"].as_array().unwrap().len();

    let (_, page) = app.get("/customers/CUS-00001/timeline?kind=customer.status_changed").await;
    assert_eq!(summaries(&page), ["Status changed from active to dormant: Quiet for a year"]);
    let (_, page) = app.get("/customers/CUS-00001/timeline?actor=system").await;
    assert_eq!(count(&page), 1);
    assert_eq!(page["items"][0]["actor"]["name"], "Test");
    let (_, page) = app.get("/customers/CUS-00001/timeline?actor=api").await;
    assert_eq!(summaries(&page), ["Profile updated: title"]);
    let (_, page) = app.get("/customers/CUS-00001/timeline?actor=user,system").await;
    assert_eq!(count(&page), 6);
    let (_, page) = app.get("/customers/CUS-00001/timeline?group=profile").await;
    assert_eq!(count(&page), 7);
    let (_, page) = app.get("/customers/CUS-00001/timeline?group=billing,works").await;
    assert_eq!(count(&page), 0);
    let (_, page) = app.get("/customers/CUS-00001/timeline?from=2024-03-01&to=2024-04-01").await;
    assert_eq!(
        page["items"].as_array().unwrap().iter().map(|a| a["occurred_at"].as_str().unwrap()).collect::<Vec<_>>(),
        ["2024-04-01T10:00:00Z", "2024-03-01T10:00:00Z"]
    );
    let (_, page) = app.get("/customers/CUS-00001/timeline?from=2024-03-01T10:00:01Z&to=2024-04-01T10:00:00Z").await;
    assert_eq!(count(&page), 0, "from is inclusive, an instant `to` exclusive");

    for bad in ["group=nonsense", "actor=robot", "kind=customer.exploded", "from=yesterday", "to=2024-02-30", "limit=0", "cursor=zzz", "sort=asc"] {
        let (status, problem) = app.get(&format!("/customers/CUS-00001/timeline?{bad}")).await;
        assert_eq!(status, StatusCode::UNPROCESSABLE_ENTITY, "{bad}: {problem}");
    }
});

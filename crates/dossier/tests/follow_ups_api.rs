//! Follow-ups: a task with a due day and an assignee about a customer or
//! one of its records; "My follow-ups" by overdue, today and upcoming; done,
//! cancelled and rescheduled each recorded. Both backends.

mod common;

use axum::http::{Method, StatusCode};
use common::TestApp;
use jiff::ToSpan;
use serde_json::{Value, json};

fn day(offset: i64) -> String {
    (jiff::Zoned::now().with_time_zone(jiff::tz::TimeZone::UTC).date() + offset.days()).to_string()
}

async fn add(app: &TestApp, token: Option<&str>, body: Value) -> Value {
    let token = token.unwrap_or(&app.token).to_owned();
    let (status, created) = app.call_as(Some(&token), Method::POST, "/customers/CUS-00001/follow-ups", Some(body)).await;
    assert_eq!(status, StatusCode::CREATED, "{created}");
    created
}

fn titles(page: &Value) -> Vec<&str> {
    page["items"].as_array().unwrap().iter().map(|f| f["title"].as_str().unwrap()).collect()
}

both_backends!(follow_ups_are_listed_by_due_day_and_closed_or_moved_with_a_record_of_each, |app| {
    app.customer(json!({"family_name": "Lee"})).await;
    let (office_id, _) = app.user("office").await;
    let (_, quote) =
        app.post("/quotes", json!({"customer": "CUS-00001", "title": "New boiler", "lines": [{"description": "Boiler", "unit_price": 100}]})).await;
    let late = add(&app, None, json!({"title": "Call back about the leak", "due_on": day(-2)})).await;
    assert_eq!((late["overdue"].as_bool(), late["status"].as_str(), late["assignee_name"].as_str()), (Some(true), Some("open"), Some("Ada Admin")));
    let today = add(&app, None, json!({"title": "Chase the payment", "due_on": day(0)})).await;
    let soon = add(&app, None, json!({"title": "Send the quote", "due_on": day(7), "record_type": "quote", "record": quote["code"]})).await;
    assert_eq!(soon["record"]["code"], quote["code"]);
    add(&app, None, json!({"title": "Office's task", "due_on": day(1), "assignee_id": office_id})).await;

    // Mine: by due day, and by overdue, today and upcoming.
    let (_, mine) = app.get("/follow-ups").await;
    assert_eq!(titles(&mine), ["Call back about the leak", "Chase the payment", "Send the quote"]);
    for (due, expected) in [("overdue", "Call back about the leak"), ("today", "Chase the payment"), ("upcoming", "Send the quote")] {
        let (_, part) = app.get(&format!("/follow-ups?due={due}")).await;
        assert_eq!(titles(&part), [expected], "{due}");
    }
    let (_, theirs) = app.get(&format!("/follow-ups?assignee={office_id}")).await;
    assert_eq!(titles(&theirs), ["Office's task"]);
    let (_, first) = app.get("/follow-ups?limit=2").await;
    let (_, rest) = app.get(&format!("/follow-ups?limit=2&cursor={}", first["next_cursor"].as_str().unwrap())).await;
    assert_eq!(titles(&rest), ["Send the quote"]);

    // Done, cancelled, moved: each recorded; a closed one stays closed.
    let path = |f: &Value| format!("/follow-ups/{}", f["id"].as_str().unwrap());
    let (status, done) = app.patch(&path(&today), json!({"status": "done"})).await;
    assert_eq!((status, done["status"].as_str()), (StatusCode::OK, Some("done")), "{done}");
    let (status, again) = app.patch(&path(&today), json!({"status": "cancelled"})).await;
    assert_eq!((status, again["code"].as_str()), (StatusCode::CONFLICT, Some("follow_up_closed")));
    let (status, moved) = app.patch(&path(&late), json!({"due_on": day(3), "assignee_id": office_id, "reason": "Customer away"})).await;
    assert_eq!((status, moved["overdue"].as_bool(), moved["assignee_name"].as_str()), (StatusCode::OK, Some(false), Some("office user")), "{moved}");
    let (status, cancelled) = app.patch(&path(&soon), json!({"status": "cancelled", "reason": "Went elsewhere"})).await;
    assert_eq!((status, cancelled["status"].as_str()), (StatusCode::OK, Some("cancelled")));

    let (_, entries) = app.get("/customers/CUS-00001/timeline?group=communication").await;
    let kinds: Vec<(&str, &str)> = entries["items"].as_array().unwrap().iter().map(|e| (e["kind"].as_str().unwrap(), e["summary"].as_str().unwrap())).collect();
    assert_eq!(kinds[0], ("follow_up.cancelled", "Follow-up cancelled (Went elsewhere): Send the quote"));
    assert_eq!(kinds[1].0, "follow_up.rescheduled");
    assert_eq!(kinds[2], ("follow_up.done", "Follow-up done: Chase the payment"));
    let changes = &entries["items"][1]["changes"];
    assert_eq!((changes[0]["field"].as_str(), changes[1]["new"].as_str()), (Some("due_on"), Some("office user")), "{changes}");
    let (_, open) = app.get("/customers/CUS-00001/follow-ups").await;
    assert_eq!(titles(&open), ["Office's task", "Call back about the leak"]);
    let (_, closed) = app.get("/customers/CUS-00001/follow-ups?status=done").await;
    assert_eq!(titles(&closed), ["Chase the payment"]);
});

both_backends!(bad_follow_ups_are_refused_and_write_nothing, |app| {
    app.customer(json!({"family_name": "Lee"})).await;
    app.customer(json!({"family_name": "Neighbour"})).await;
    let (_, their_job) = app.post("/jobs", json!({"customer": "CUS-00002", "title": "Theirs"})).await;
    let (_, other_admin) = app.add_org("Other Services", "admin@other.example").await;
    let (_, others) = app.call_as(Some(&other_admin), Method::GET, "/users", None).await;
    let stranger = others[0]["id"].clone();
    let before = (app.count("follow_up").await, app.count("activity").await);
    let cases = [
        (json!({"due_on": day(1)}), "title", "required"),
        (json!({"title": "x"}), "due_on", "required"),
        (json!({"title": "x", "due_on": "9999-01-01"}), "due_on", "date_out_of_range"),
        (json!({"title": "two\nlines", "due_on": day(1)}), "title", "invalid_characters"),
        (json!({"title": "x", "due_on": day(1), "assignee_id": stranger}), "assignee_id", "not_found"),
        (json!({"title": "x", "due_on": day(1), "assignee_id": "00000000-0000-0000-0000-000000000000"}), "assignee_id", "not_found"),
        (json!({"title": "x", "due_on": day(1), "record_type": "job", "record": their_job["code"]}), "record", "not_found"),
    ];
    for (body, field, code) in cases {
        let (status, problem) = app.post("/customers/CUS-00001/follow-ups", body.clone()).await;
        assert_eq!(status, StatusCode::UNPROCESSABLE_ENTITY, "{body}: {problem}");
        assert!(problem["errors"].as_array().unwrap().iter().any(|e| e["field"] == field && e["code"] == code), "{body}: {problem}");
    }
    let (status, _) = app.post("/customers/CUS-00001/follow-ups", json!({"title": "x", "due_on": "not a day"})).await;
    assert!(status.is_client_error());
    assert_eq!((app.count("follow_up").await, app.count("activity").await), before, "nothing was written");
    let task = add(&app, None, json!({"title": "Call back", "due_on": day(1)})).await;
    let path = format!("/follow-ups/{}", task["id"].as_str().unwrap());
    for body in [json!({"status": "open"}), json!({"status": "done", "due_on": day(2)}), json!({})] {
        let (status, problem) = app.patch(&path, body.clone()).await;
        assert_eq!(status, StatusCode::UNPROCESSABLE_ENTITY, "{body}: {problem}");
    }
});

both_backends!(a_fieldworker_sees_and_adds_only_their_own_follow_ups, |app| {
    app.customer(json!({"family_name": "Lee"})).await;
    let (fieldworker_id, fieldworker) = app.user("fieldworker").await;
    let (_, job) = app.post("/jobs", json!({"customer": "CUS-00001", "title": "Mine", "assignees": [fieldworker_id]})).await;
    let theirs =
        add(&app, None, json!({"title": "Bring the part", "due_on": day(1), "assignee_id": fieldworker_id, "record_type": "job", "record": job["code"]})).await;
    let office = add(&app, None, json!({"title": "Chase the unpaid invoice", "due_on": day(1)})).await;
    let (_, mine) = app.call_as(Some(&fieldworker), Method::GET, "/follow-ups", None).await;
    assert_eq!(titles(&mine), ["Bring the part"]);
    let (_, anyone) = app.call_as(Some(&fieldworker), Method::GET, "/follow-ups?assignee=anyone", None).await;
    assert_eq!(titles(&anyone), ["Bring the part"], "everyone's, for a fieldworker, is their own");
    let (_, everyone) = app.get("/follow-ups?assignee=anyone").await;
    assert_eq!(titles(&everyone), ["Bring the part", "Chase the unpaid invoice"], "{everyone}");
    let (_, on_customer) = app.call_as(Some(&fieldworker), Method::GET, "/customers/CUS-00001/follow-ups", None).await;
    assert_eq!(titles(&on_customer), ["Bring the part"]);
    let (status, _) = app.call_as(Some(&fieldworker), Method::GET, &format!("/follow-ups/{}", office["id"].as_str().unwrap()), None).await;
    assert_eq!(status, StatusCode::NOT_FOUND);
    let (_, timeline) = app.call_as(Some(&fieldworker), Method::GET, "/customers/CUS-00001/timeline?group=communication", None).await;
    assert!(!timeline.to_string().contains("unpaid invoice"), "{timeline}");
    let (status, _) = app.call_as(Some(&fieldworker), Method::GET, &format!("/follow-ups?assignee={}", office["assignee_id"].as_str().unwrap()), None).await;
    assert_eq!(status, StatusCode::UNPROCESSABLE_ENTITY);
    let (status, done) =
        app.call_as(Some(&fieldworker), Method::PATCH, &format!("/follow-ups/{}", theirs["id"].as_str().unwrap()), Some(json!({"status": "done"}))).await;
    assert_eq!((status, done["status"].as_str()), (StatusCode::OK, Some("done")));
    let body = json!({"title": "On the customer", "due_on": day(1)});
    let (status, _) = app.call_as(Some(&fieldworker), Method::POST, "/customers/CUS-00001/follow-ups", Some(body)).await;
    assert_eq!(status, StatusCode::UNPROCESSABLE_ENTITY);
});

both_backends!(staff_see_their_follow_ups_on_a_page_and_close_them_there, |app| {
    app.customer(json!({"family_name": "Lee"})).await;
    app.user("office").await;
    let cookie = app.session("office").await;
    // Added through the form, it shows on the profile and on "My follow-ups".
    let yesterday = day(-1);
    let form = [("title", "Call back about the leak"), ("due_on", yesterday.as_str()), ("assignee_id", "")];
    let (status, location, page) = app.form(&cookie, "/customers/CUS-00001/follow-ups", &form).await;
    assert_eq!((status, location.as_str()), (StatusCode::SEE_OTHER, "/customers/CUS-00001"), "{page}");
    let (_, profile) = app.page(Some(&cookie), "/customers/CUS-00001").await;
    assert!(profile.contains("1 open") && profile.contains("Call back about the leak"), "{profile}");
    let (_, mine) = app.page(Some(&cookie), "/follow-ups").await;
    let overdue = &mine[mine.find("aria-label=\"Overdue\"").unwrap()..mine.find("aria-label=\"Today\"").unwrap()];
    assert!(overdue.contains("Call back about the leak") && overdue.contains(">Overdue<"), "{mine}");
    // A blank title is refused beside its field.
    let (status, _, page) = app.form(&cookie, "/customers/CUS-00001/follow-ups", &[("title", ""), ("due_on", day(1).as_str())]).await;
    assert_eq!(status, StatusCode::UNPROCESSABLE_ENTITY);
    assert!(page.contains("id=\"title-error\""), "{page}");
    // Done from the list.
    let (_, open) = app.get("/customers/CUS-00001/follow-ups").await;
    let id = open["items"][0]["id"].as_str().unwrap();
    let (status, location, _) = app.form(&cookie, &format!("/follow-ups/{id}/change"), &[("action", "done"), ("back", "/follow-ups")]).await;
    assert_eq!((status, location.as_str()), (StatusCode::SEE_OTHER, "/follow-ups"));
    let (_, closed) = app.get(&format!("/follow-ups/{id}")).await;
    assert_eq!(closed["status"], "done");
});

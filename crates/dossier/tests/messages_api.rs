//! Messages: notes, logged calls and the rest, on the timeline in the
//! Communication group; their audience enforced on the server (an internal
//! note never reaches the portal); edits and deletions by their author or
//! an admin, recorded; a fieldworker sees only the messages of their jobs.
//! Both backends.

mod common;

use axum::http::{Method, StatusCode};
use common::TestApp;
use serde_json::{Value, json};

/// The kinds and summaries of a customer's timeline, newest first.
async fn timeline(app: &TestApp, query: &str) -> Vec<(String, String)> {
    let (status, page) = app.get(&format!("/customers/CUS-00001/timeline{query}")).await;
    assert_eq!(status, StatusCode::OK, "{page}");
    page["items"].as_array().unwrap().iter().map(|e| (e["kind"].as_str().unwrap().to_owned(), e["summary"].as_str().unwrap().to_owned())).collect()
}

both_backends!(a_note_and_a_logged_call_are_on_the_timeline_in_the_communication_group, |app| {
    app.customer(json!({"given_name": "Ann", "family_name": "Lee"})).await;
    let (_, contact) = app.post("/customers/CUS-00001/contacts", json!({"given_name": "Bo", "family_name": "Lee"})).await;
    let (status, note) =
        app.post("/customers/CUS-00001/messages", json!({"channel": "note", "body": "Prefers mornings.\nDog in the garden.", "pinned": true})).await;
    assert_eq!(status, StatusCode::CREATED, "{note}");
    assert_eq!((note["direction"].as_str(), note["visibility"].as_str(), note["pinned"].as_bool()), (Some("internal"), Some("internal"), Some(true)));
    assert_eq!(note["body"], "Prefers mornings.\nDog in the garden.");
    let call = json!({"channel": "call", "direction": "inbound", "body": "Asked to move the service to Friday", "contact_id": contact["id"],
        "duration_seconds": 420, "outcome": "answered"});
    let (status, call) = app.post("/customers/CUS-00001/messages", call).await;
    assert_eq!(status, StatusCode::CREATED, "{call}");
    assert_eq!(call["author"]["name"], "Ada Admin");

    let communication = timeline(&app, "?group=communication").await;
    assert_eq!(communication.len(), 2, "{communication:?}");
    assert_eq!(communication[0], ("message.posted".into(), "Call with Bo Lee (answered, 7 min) logged: Asked to move the service to Friday".into()));
    assert_eq!(communication[1], ("message.posted".into(), "Note added and pinned: Prefers mornings.…".into()));
    // The contact's own timeline has the call too.
    let (_, contact_timeline) = app.get("/customers/CUS-00001/timeline?kind=message.posted").await;
    assert_eq!(contact_timeline["items"][0]["detail"]["contact"], "Bo Lee");

    // Lists: all, by channel, the pinned ones; pages follow.
    let (_, all) = app.get("/customers/CUS-00001/messages").await;
    assert_eq!(all["items"].as_array().unwrap().len(), 2);
    assert_eq!(all["items"][0]["id"], call["id"], "newest first");
    let (_, calls) = app.get("/customers/CUS-00001/messages?channel=call").await;
    assert_eq!(calls["items"].as_array().unwrap().len(), 1);
    let (_, pinned) = app.get("/customers/CUS-00001/messages?pinned=true").await;
    assert_eq!((pinned["items"].as_array().unwrap().len(), &pinned["items"][0]["id"]), (1, &note["id"]));
    // The summary that opens a customer carries the pinned notes.
    let (_, summary) = app.get("/customers/CUS-00001/summary").await;
    assert_eq!((summary["pinned"].as_array().unwrap().len(), &summary["pinned"][0]["id"]), (1, &note["id"]), "{summary}");
    let (_, first) = app.get("/customers/CUS-00001/messages?limit=1").await;
    let cursor = first["next_cursor"].as_str().unwrap();
    let (_, second) = app.get(&format!("/customers/CUS-00001/messages?limit=1&cursor={cursor}")).await;
    assert_eq!((&second["items"][0]["id"], &second["next_cursor"]), (&note["id"], &Value::Null));

    // A message about a job is on the job's timeline and in its list.
    let (_, job) = app.post("/jobs", json!({"customer": "CUS-00001", "title": "Boiler service"})).await;
    let code = job["code"].as_str().unwrap();
    let (status, on_job) =
        app.post("/customers/CUS-00001/messages", json!({"channel": "note", "body": "Bring the long ladder", "record_type": "job", "record": code})).await;
    assert_eq!(status, StatusCode::CREATED, "{on_job}");
    assert_eq!((on_job["record"]["type"].as_str(), on_job["record"]["code"].as_str()), (Some("job"), Some(code)));
    let (status, job_timeline) = app.get(&format!("/jobs/{code}/timeline")).await;
    assert_eq!(status, StatusCode::OK, "{job_timeline}");
    let kinds: Vec<(&str, &str)> =
        job_timeline["items"].as_array().unwrap().iter().map(|e| (e["kind"].as_str().unwrap(), e["summary"].as_str().unwrap())).collect();
    assert_eq!(kinds[0], ("message.posted", "Note on BOK-00001 added: Bring the long ladder"), "{kinds:?}");
    assert!(kinds.iter().any(|(kind, _)| *kind == "job.created") && !kinds.iter().any(|(_, s)| s.contains("Prefers mornings")), "{kinds:?}");
    let (_, job_messages) = app.get("/customers/CUS-00001/messages?channel=note").await;
    assert_eq!(job_messages["items"][0]["record"]["code"], code);

    // Unpinning is recorded; the chain of the log still verifies.
    let (status, unpinned) = app.patch(&format!("/messages/{}", note["id"].as_str().unwrap()), json!({"pinned": false})).await;
    assert_eq!((status, unpinned["pinned"].as_bool()), (StatusCode::OK, Some(false)), "{unpinned}");
    assert_eq!(timeline(&app, "?kind=message.unpinned").await.len(), 1);
    assert!(dossier_service::audit::verify(&app.db, |_| {}).await.unwrap().first_bad.is_none());
});

both_backends!(bad_messages_are_refused_and_write_nothing, |app| {
    app.customer(json!({"family_name": "Lee"})).await;
    app.customer(json!({"family_name": "Neighbour"})).await;
    let (_, their_contact) = app.post("/customers/CUS-00002/contacts", json!({"family_name": "Neighbour"})).await;
    let (_, their_job) = app.post("/jobs", json!({"customer": "CUS-00002", "title": "Theirs"})).await;
    let (other_org, other_token) = app.add_org("Other Services", "admin@other.example").await;
    let _ = other_org;
    let (_, other_customer) = app.call_as(Some(&other_token), Method::POST, "/customers", Some(json!({"family_name": "Elsewhere"}))).await;
    let (_, other_job) =
        app.call_as(Some(&other_token), Method::POST, "/jobs", Some(json!({"customer": other_customer["code"], "title": "Other org's"}))).await;
    let before = (app.count("message").await, app.count("activity").await);

    let cases: Vec<(Value, &str, &str)> = vec![
        (json!({"channel": "note", "body": ""}), "body", "required"),
        (json!({"channel": "note", "body": "x".repeat(100_000)}), "body", "too_long"),
        (json!({"channel": "note"}), "body", "required"),
        (json!({"body": "No channel"}), "channel", "required"),
        (json!({"channel": "call", "visibility": "customer", "body": "Spoke to someone"}), "contact_id", "contact_required"),
        (json!({"channel": "note", "direction": "outbound", "body": "x"}), "direction", "invalid_direction"),
        (json!({"channel": "note", "body": "x", "duration_seconds": 60}), "duration_seconds", "only_for_calls"),
        (json!({"channel": "note", "body": "x", "occurred_at": "2999-01-01T00:00:00Z"}), "occurred_at", "date_out_of_range"),
        (json!({"channel": "note", "body": "x", "occurred_at": "2100-01-01T00:00:00Z"}), "occurred_at", "in_the_future"),
        (json!({"channel": "note", "body": "x", "contact_id": their_contact["id"]}), "contact_id", "not_found"),
        (json!({"channel": "note", "body": "x", "record_type": "job", "record": their_job["code"]}), "record", "not_found"),
        (json!({"channel": "note", "body": "x", "record_type": "job", "record": other_job["id"]}), "record", "not_found"),
        (json!({"channel": "note", "body": "x", "record_type": "invoice", "record": "INV-99999"}), "record", "not_found"),
        (json!({"channel": "note", "body": "x", "record_type": "site", "record": "not-a-uuid"}), "record", "not_found"),
        (json!({"channel": "note", "body": "bidi \u{202E} override"}), "body", "invalid_characters"),
        (json!({"channel": "note", "body": "x", "subject": "two\nlines"}), "subject", "invalid_characters"),
    ];
    for (body, field, code) in cases {
        let (status, problem) = app.post("/customers/CUS-00001/messages", body.clone()).await;
        assert_eq!(status, StatusCode::UNPROCESSABLE_ENTITY, "{body:.200}: {problem}");
        let errors = problem["errors"].as_array().unwrap();
        assert!(errors.iter().any(|e| e["field"] == field && e["code"] == code), "{body:.200}: {problem}");
    }
    // An unknown channel is not a message at all; another org's customer does not exist.
    let (status, problem) = app.post("/customers/CUS-00001/messages", json!({"channel": "pigeon", "body": "x"})).await;
    assert!(status.is_client_error(), "{problem}");
    let path = format!("/customers/{}/messages", other_customer["id"].as_str().unwrap());
    let (status, _) = app.post(&path, json!({"channel": "note", "body": "x"})).await;
    assert_eq!(status, StatusCode::NOT_FOUND);
    assert_eq!((app.count("message").await, app.count("activity").await), before, "nothing was written");
});

both_backends!(only_the_author_or_an_admin_edits_or_deletes_and_both_are_recorded, |app| {
    app.customer(json!({"family_name": "Lee"})).await;
    let (_, office) = app.user("office").await;
    let (_, support) = app.user("support").await;
    let (status, note) =
        app.call_as(Some(&office), Method::POST, "/customers/CUS-00001/messages", Some(json!({"channel": "note", "body": "Owes us a call back"}))).await;
    assert_eq!(status, StatusCode::CREATED, "{note}");
    let path = format!("/messages/{}", note["id"].as_str().unwrap());

    // Someone else may pin it, not rewrite or delete it.
    let (status, refused) = app.call_as(Some(&support), Method::PATCH, &path, Some(json!({"body": "Rewritten"}))).await;
    assert_eq!((status, refused["code"].as_str()), (StatusCode::FORBIDDEN, Some("not_author")), "{refused}");
    let (status, _) = app.call_as(Some(&support), Method::DELETE, &path, None).await;
    assert_eq!(status, StatusCode::FORBIDDEN);
    let (status, pinned) = app.call_as(Some(&support), Method::PATCH, &path, Some(json!({"pinned": true}))).await;
    assert_eq!((status, pinned["pinned"].as_bool()), (StatusCode::OK, Some(true)), "{pinned}");

    // The author edits it: old and new text are in the log.
    let (status, edited) = app.call_as(Some(&office), Method::PATCH, &path, Some(json!({"body": "Called back, all sorted"}))).await;
    assert_eq!((status, edited["body"].as_str()), (StatusCode::OK, Some("Called back, all sorted")), "{edited}");
    assert!(edited["edited_at"].is_string());
    let (_, entries) = app.get("/customers/CUS-00001/timeline?kind=message.edited").await;
    let change = &entries["items"][0]["changes"][0];
    assert_eq!(
        (change["field"].as_str(), change["old"].as_str(), change["new"].as_str()),
        (Some("body"), Some("Owes us a call back"), Some("Called back, all sorted"))
    );
    assert_eq!(entries["items"][0]["actor"]["name"], "office user");

    // An admin deletes it: a mark stays, the text goes, the log keeps it.
    let (status, _) = app.delete(&path).await;
    assert_eq!(status, StatusCode::NO_CONTENT);
    let (_, deleted) = app.get(&path).await;
    assert_eq!(
        (deleted["body"].as_str(), deleted["deleted"]["by"].as_str(), deleted["pinned"].as_bool()),
        (Some(""), Some("Ada Admin"), Some(false)),
        "{deleted}"
    );
    let (_, entries) = app.get("/customers/CUS-00001/timeline?kind=message.deleted").await;
    assert_eq!(entries["items"][0]["summary"], "Note deleted by Ada Admin");
    assert_eq!(entries["items"][0]["changes"][0]["old"], "Called back, all sorted");
    let (_, listed) = app.get("/customers/CUS-00001/messages").await;
    assert_eq!(listed["items"][0]["deleted"]["by"], "Ada Admin", "a deleted message leaves its mark in the list");
    let (status, again) = app.delete(&path).await;
    assert_eq!((status, again["code"].as_str()), (StatusCode::CONFLICT, Some("message_deleted")));
    let (status, _) = app.patch(&path, json!({"body": "Back from the dead"})).await;
    assert_eq!(status, StatusCode::CONFLICT);
});

both_backends!(a_fieldworker_sees_and_writes_only_the_messages_of_their_jobs, |app| {
    app.customer(json!({"family_name": "Lee"})).await;
    let (fieldworker_id, fieldworker) = app.user("fieldworker").await;
    let (_, mine) = app.post("/jobs", json!({"customer": "CUS-00001", "title": "Mine", "assignees": [fieldworker_id]})).await;
    let (_, other) = app.post("/jobs", json!({"customer": "CUS-00001", "title": "Someone else's"})).await;
    let note = |job: &Value, body: &str| json!({"channel": "note", "body": body, "record_type": "job", "record": job["code"]});
    app.post("/customers/CUS-00001/messages", note(&mine, "Key under the mat")).await;
    let (_, hidden) = app.post("/customers/CUS-00001/messages", note(&other, "Other job's note")).await;
    let (_, about_customer) =
        app.post("/customers/CUS-00001/messages", json!({"channel": "call", "body": "Discussed the unpaid invoice", "pinned": true})).await;

    let as_fieldworker = |method: Method, path: String, body: Option<Value>| {
        let (app, token) = (&app, fieldworker.clone());
        async move { app.call_as(Some(&token), method, &path, body).await }
    };
    let (status, listed) = as_fieldworker(Method::GET, "/customers/CUS-00001/messages".into(), None).await;
    assert_eq!(status, StatusCode::OK, "{listed}");
    let bodies: Vec<&str> = listed["items"].as_array().unwrap().iter().map(|m| m["body"].as_str().unwrap()).collect();
    assert_eq!(bodies, ["Key under the mat"]);
    let (_, summary) = as_fieldworker(Method::GET, "/customers/CUS-00001/summary".into(), None).await;
    assert_eq!(summary["pinned"], json!([]), "another job's or the customer's pinned notes: {summary}");
    let (_, timeline) = as_fieldworker(Method::GET, "/customers/CUS-00001/timeline?group=communication".into(), None).await;
    let text = timeline.to_string();
    assert!(text.contains("Key under the mat") && !text.contains("Other job") && !text.contains("unpaid invoice"), "{text}");
    for id in [&hidden["id"], &about_customer["id"]] {
        let (status, _) = as_fieldworker(Method::GET, format!("/messages/{}", id.as_str().unwrap()), None).await;
        assert_eq!(status, StatusCode::NOT_FOUND);
    }
    // They add notes to their own job, and nowhere else.
    let (status, added) = as_fieldworker(Method::POST, "/customers/CUS-00001/messages".into(), Some(note(&mine, "Boiler needs a new pump"))).await;
    assert_eq!((status, added["author"]["name"].as_str()), (StatusCode::CREATED, Some("fieldworker user")), "{added}");
    let (status, refused) = as_fieldworker(Method::POST, "/customers/CUS-00001/messages".into(), Some(note(&other, "Sneaky"))).await;
    assert_eq!((status, refused["errors"][0]["code"].as_str()), (StatusCode::UNPROCESSABLE_ENTITY, Some("not_found")), "{refused}");
    let (status, refused) =
        as_fieldworker(Method::POST, "/customers/CUS-00001/messages".into(), Some(json!({"channel": "note", "body": "On the customer"}))).await;
    assert_eq!((status, refused["errors"][0]["field"].as_str()), (StatusCode::UNPROCESSABLE_ENTITY, Some("record")), "{refused}");
});

both_backends!(internal_notes_never_reach_the_portal_and_customer_messages_do, |app| {
    app.customer(json!({"given_name": "Pat", "family_name": "Portal"})).await;
    let (_, contact) = app.post("/customers/CUS-00001/contacts", json!({"given_name": "Pat", "family_name": "Portal"})).await;
    app.post("/customers/CUS-00001/messages", json!({"channel": "note", "body": "Internal: slow payer, be firm", "pinned": true})).await;
    let (status, _) = app
        .post("/customers/CUS-00001/messages", json!({"channel": "call", "body": "Internal call notes", "contact_id": contact["id"], "visibility": "internal"}))
        .await;
    assert_eq!(status, StatusCode::CREATED);
    let (status, shown) = app
        .post(
            "/customers/CUS-00001/messages",
            json!({"channel": "portal", "subject": "Your visit", "body": "We will come on Friday <b>9am</b>, see https://example.com/visit"}),
        )
        .await;
    assert_eq!((status, shown["visibility"].as_str()), (StatusCode::CREATED, Some("customer")), "{shown}");

    let (_, link) = app.post("/customers/CUS-00001/portal-links", json!({})).await;
    let url = link["url"].as_str().unwrap();
    let (status, html) = app.page(None, url).await;
    assert_eq!(status, StatusCode::OK);
    assert!(html.contains("We will come on Friday &lt;b&gt;9am&lt;/b&gt;"), "the body is shown as text: {html}");
    assert!(html.contains("<a href=\"https://example.com/visit\" rel=\"nofollow noopener noreferrer\""), "{html}");
    for internal in ["slow payer", "Internal call notes", "Internal:"] {
        assert!(!html.contains(internal), "{internal} reached the portal");
    }

    // The customer replies: a message by the customer, seen by staff.
    let cookie_free = [("body", "Friday is fine, thanks")];
    let path = format!("{url}/messages");
    let (status, location, _) = app.form("", &path, &cookie_free).await;
    assert_eq!((status, location.as_str()), (StatusCode::SEE_OTHER, format!("{url}?saved=message").as_str()));
    let (_, listed) = app.get("/customers/CUS-00001/messages?channel=portal").await;
    let reply = &listed["items"][0];
    assert_eq!(
        (reply["body"].as_str(), reply["direction"].as_str(), reply["author"]["type"].as_str()),
        (Some("Friday is fine, thanks"), Some("inbound"), Some("customer"))
    );
    let (_, entries) = app.get("/customers/CUS-00001/timeline?actor=customer&group=communication").await;
    assert_eq!(entries["items"][0]["actor"]["name"], "Pat Portal (via portal)");
    let (_, html) = app.page(None, url).await;
    assert!(html.contains("Friday is fine, thanks"), "{html}");
    // An empty reply is refused next to its field and writes nothing.
    let before = app.count("message").await;
    let (status, _, page) = app.form("", &path, &[("body", "  ")]).await;
    assert_eq!(status, StatusCode::UNPROCESSABLE_ENTITY);
    assert!(page.contains("id=\"body-error\""), "{page}");
    assert_eq!(app.count("message").await, before);

    // Staff "view as the customer": the same page, from the same code, nothing internal, nothing to send.
    app.user("office").await;
    let cookie = app.session("office").await;
    let (status, preview) = app.page(Some(&cookie), "/customers/CUS-00001/as-customer").await;
    assert_eq!(status, StatusCode::OK, "{preview}");
    assert!(preview.contains("This is what Pat Portal sees in their portal") && preview.contains("Friday is fine, thanks"), "{preview}");
    assert!(preview.contains("We will come on Friday &lt;b&gt;9am&lt;/b&gt;"), "{preview}");
    assert!(!preview.contains("slow payer") && !preview.contains("Internal call notes") && !preview.contains("<form"), "{preview}");
    // A fieldworker may not see the customer's portal.
    app.user("fieldworker").await;
    let cookie = app.session("fieldworker").await;
    let (status, _) = app.page(Some(&cookie), "/customers/CUS-00001/as-customer").await;
    assert!(matches!(status, StatusCode::FORBIDDEN | StatusCode::NOT_FOUND), "{status}");
});

both_backends!(staff_log_a_call_and_pin_a_note_from_the_profile_and_confirm_what_the_customer_will_see, |app| {
    app.customer(json!({"given_name": "Ann", "family_name": "Lee"})).await;
    app.user("office").await;
    let cookie = app.session("office").await;
    let (_, profile) = app.page(Some(&cookie), "/customers/CUS-00001").await;
    assert!(profile.contains("Add a note or log a call") && profile.contains("action=\"/customers/CUS-00001/messages\""), "{profile}");

    // A pinned note: straight onto the profile, on top of every tab.
    let back = "/customers/CUS-00001?tab=timeline";
    let note =
        [("channel", "note"), ("direction", "outbound"), ("visibility", "internal"), ("body", "Do not call after 6pm"), ("pinned", "on"), ("back", back)];
    let (status, location, page) = app.form(&cookie, "/customers/CUS-00001/messages", &note).await;
    assert_eq!((status, location.as_str()), (StatusCode::SEE_OTHER, back), "{page}");
    let (_, profile) = app.page(Some(&cookie), "/customers/CUS-00001?tab=contacts").await;
    let important = profile.find("Important").expect("pinned section");
    assert!(profile[important..].contains("Do not call after 6pm"), "{profile}");
    assert!(important < profile.find("Customer sections").unwrap(), "above the tabs");

    // A call with its length: on the timeline with its channel and audience.
    let call =
        [("channel", "call"), ("direction", "inbound"), ("visibility", "internal"), ("body", "Wants a quote"), ("duration_minutes", "5"), ("back", back)];
    let (status, _, _) = app.form(&cookie, "/customers/CUS-00001/messages", &call).await;
    assert_eq!(status, StatusCode::SEE_OTHER);
    let (_, timeline) = app.page(Some(&cookie), back).await;
    assert!(timeline.contains("Call (5 min) logged: Wants a quote") && timeline.contains(">Inbound<") && timeline.contains(">Staff only<"), "{timeline}");
    // The Communication group narrows by channel.
    let (_, calls) = app.page(Some(&cookie), "/customers/CUS-00001?tab=timeline&group=communication&channel=call").await;
    let list = &calls[calls.find("Filter by channel").unwrap()..];
    assert!(list.contains("Wants a quote") && !list.contains("Do not call after 6pm"), "{list}");

    // A bad length is refused next to its field, and nothing is written.
    let before = app.count("message").await;
    let bad = [("channel", "call"), ("direction", "inbound"), ("visibility", "internal"), ("body", "x"), ("duration_minutes", "five"), ("back", back)];
    let (status, _, page) = app.form(&cookie, "/customers/CUS-00001/messages", &bad).await;
    assert_eq!(status, StatusCode::UNPROCESSABLE_ENTITY);
    assert!(page.contains("id=\"duration_minutes-error\""), "{page}");
    // A message for the customer is shown first as they will see it, and only sent when confirmed.
    let shown = [("channel", "email"), ("direction", "outbound"), ("visibility", "customer"), ("body", "Your quote is attached <3"), ("back", back)];
    let (status, _, confirm) = app.form(&cookie, "/customers/CUS-00001/messages", &shown).await;
    assert_eq!(status, StatusCode::OK);
    assert!(
        confirm.contains("This goes to Ann Lee") && confirm.contains("Your quote is attached &lt;3") && confirm.contains("name=\"confirmed\" value=\"yes\""),
        "{confirm}"
    );
    assert_eq!(app.count("message").await, before, "not sent before it is confirmed");
    let mut confirmed = shown.to_vec();
    confirmed.push(("confirmed", "yes"));
    let (status, _, _) = app.form(&cookie, "/customers/CUS-00001/messages", &confirmed).await;
    assert_eq!(status, StatusCode::SEE_OTHER);
    assert_eq!(app.count("message").await, before + 1);
});

both_backends!(a_do_not_work_with_again_warning_shows_wherever_a_job_or_quote_is_started, |app| {
    app.customer(json!({"family_name": "Lee"})).await;
    let (status, flagged) = app.patch("/customers/CUS-00001", json!({"do_not_work_reason": "Abusive to our engineer in March"})).await;
    assert_eq!((status, flagged["do_not_work_reason"].as_str()), (StatusCode::OK, Some("Abusive to our engineer in March")), "{flagged}");
    let (_, history) = app.get("/customers/CUS-00001/history").await;
    assert_eq!(history["items"][0]["changes"][0]["field"], "do_not_work_reason");
    app.user("office").await;
    let cookie = app.session("office").await;
    for path in ["/customers/CUS-00001", "/customers/CUS-00001/jobs/new", "/customers/CUS-00001/quotes/new"] {
        let (status, page) = app.page(Some(&cookie), path).await;
        assert_eq!(status, StatusCode::OK);
        assert!(page.contains("Do not work with again") && page.contains("Abusive to our engineer in March"), "{path}: {page}");
    }
    // The form that fails still warns; a job can still be booked (it is a warning, not a block).
    let (status, _, page) = app.form(&cookie, "/customers/CUS-00001/jobs/new", &[("title", "")]).await;
    assert_eq!(status, StatusCode::UNPROCESSABLE_ENTITY);
    assert!(page.contains("Abusive to our engineer"), "{page}");
    let (status, _, _) = app.form(&cookie, "/customers/CUS-00001/jobs/new", &[("title", "Urgent leak")]).await;
    assert_eq!(status, StatusCode::SEE_OTHER);
    // Lifted, it is gone.
    app.patch("/customers/CUS-00001", json!({"do_not_work_reason": null})).await;
    let (_, page) = app.page(Some(&cookie), "/customers/CUS-00001/jobs/new").await;
    assert!(!page.contains("Do not work with again"), "{page}");
});

both_backends!(a_customers_history_is_searched_by_the_start_of_words_newest_first, |app| {
    app.customer(json!({"family_name": "Lee"})).await;
    app.customer(json!({"family_name": "Neighbour"})).await;
    let post = |customer: &str, body: Value| {
        let (app, path) = (&app, format!("/customers/{customer}/messages"));
        async move {
            let (status, message) = app.post(&path, body).await;
            assert_eq!(status, StatusCode::CREATED, "{message}");
            message
        }
    };
    post("CUS-00001", json!({"channel": "note", "body": "The boiler makes a knocking noise", "occurred_at": "2026-01-05T10:00:00Z"})).await;
    post("CUS-00001", json!({"channel": "call", "body": "Leak under the sink, booked", "occurred_at": "2026-02-05T10:00:00Z"})).await;
    post("CUS-00001", json!({"channel": "email", "subject": "Boiler service", "body": "Confirming Friday", "occurred_at": "2026-03-05T10:00:00Z"})).await;
    let gone = post("CUS-00001", json!({"channel": "note", "body": "Boiler code 1234 for the gate"})).await;
    post("CUS-00002", json!({"channel": "note", "body": "Their boiler is new"})).await;
    app.delete(&format!("/messages/{}", gone["id"].as_str().unwrap())).await;

    let found = |q: &str| {
        let (app, path) = (&app, format!("/customers/CUS-00001/messages?q={q}"));
        async move {
            let (status, page) = app.get(&path).await;
            assert_eq!(status, StatusCode::OK, "{page}");
            page["items"]
                .as_array()
                .unwrap()
                .iter()
                .map(|m| m["subject"].as_str().map_or_else(|| m["body"].as_str().unwrap().to_owned(), str::to_owned))
                .collect::<Vec<_>>()
        }
    };
    // The start of a word, in the subject or the body, newest first; never another customer's; a deleted text is not found.
    assert_eq!(found("boil").await, ["Boiler service", "The boiler makes a knocking noise"]);
    assert_eq!(found("BOILER%20knock").await, ["The boiler makes a knocking noise"], "every word must be there");
    assert_eq!(found("sink").await, ["Leak under the sink, booked"]);
    assert!(found("oiler").await.is_empty(), "words match from their start");
    assert!(found("gate").await.is_empty(), "a deleted message's words are gone");
    assert!(found("new").await.is_empty(), "another customer's words");
    let (status, _) = app.get(&format!("/customers/CUS-00001/messages?q={}", "x".repeat(201))).await;
    assert_eq!(status, StatusCode::UNPROCESSABLE_ENTITY);
    // Accents fold both ways, on both databases.
    post("CUS-00001", json!({"channel": "note", "body": "Débit réglé chez Müller, Łódź", "occurred_at": "2026-03-06T10:00:00Z"})).await;
    for q in ["regle%20muller", "R%C3%A9GL%C3%89", "d%C3%A9bit"] {
        assert_eq!(found(q).await, ["Débit réglé chez Müller, Łódź"], "{q}");
    }
    let (status, file) = app.upload("/customers/CUS-00001/files", &[], &[("Übergabe-Protokoll Straße.pdf", b"%PDF-1.4 x")]).await;
    assert_eq!(status, StatusCode::CREATED, "{file}");
    let (_, files) = app.get("/customers/CUS-00001/files?q=ubergabe%20protokoll").await;
    assert_eq!(files["items"].as_array().map(Vec::len), Some(1), "{files}");

    // The profile finds them too, with the words marked.
    app.user("office").await;
    let cookie = app.session("office").await;
    let (_, page) = app.page(Some(&cookie), "/customers/CUS-00001?tab=timeline&q=boiler").await;
    assert!(page.contains("The <mark>boiler</mark> makes a knocking noise") && !page.contains("Leak under the sink"), "{page}");
});

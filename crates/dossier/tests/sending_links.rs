//! Links that leave Dossier by email: a portal link emailed to the
//! customer (made and queued in one transaction, with the org's template
//! and the absolute URL after the public address), and a staff invitation
//! emailed by the worker (the secret made when it is sent). Real SMTP on
//! loopback, on SQLite and PostgreSQL.

mod common;

use axum::http::{Method, StatusCode};
use common::smtp::SmtpSink;
use dossier_service::PublicUrl;
use dossier_service::sending::email::Outbox;
use dossier_service::tasks::{Handlers, Worker, WorkerSettings};
use jiff::Timestamp;
use serde_json::{Value, json};

const PUBLIC: &str = "https://crm.test.example/office";

/// The app with its public address set, a customer (ann@lee.example, with
/// `communication`) whose primary contact is Bo (bo@lee.example), and the
/// org's mail server set to `sink`.
async fn world(mut app: common::TestApp, sink: &SmtpSink, communication: Value) -> common::TestApp {
    let state = dossier_web::AppState { public_url: PublicUrl::parse(PUBLIC).unwrap(), ..dossier_web::AppState::new(app.db.clone(), app.files.clone()) };
    app.router = dossier_web::app(state);
    app.customer(json!({"family_name": "Lee", "given_name": "Ann", "email": "ann@lee.example", "communication": communication})).await;
    let (status, contact) = app
        .post("/customers/CUS-00001/contacts", json!({"given_name": "Bo", "family_name": "Lee", "is_primary": true, "emails": [{"address": "bo@lee.example"}]}))
        .await;
    assert_eq!(status, StatusCode::CREATED, "{contact}");
    app.use_mail_server(sink.port).await;
    app
}

/// Run the worker once: every due task.
async fn work(app: &common::TestApp) -> usize {
    let handlers = Handlers { outbox: Outbox { files: Some(app.files.clone()), configured: None }, public_url: PublicUrl::parse(PUBLIC).unwrap() };
    Worker::new(app.db.clone(), handlers, WorkerSettings::default()).work_once(Timestamp::now()).await.unwrap()
}

/// The first `https://…` link in `text`.
fn link_in(text: &str) -> String {
    let start = text.find(PUBLIC).unwrap_or_else(|| panic!("no link after {PUBLIC} in {text}"));
    text[start..].split_whitespace().next().unwrap().to_owned()
}

both_backends!(a_portal_link_is_emailed_to_the_primary_contact_with_its_absolute_url_which_opens_the_portal, |app| {
    let Some(sink) = SmtpSink::start() else { return };
    let app = world(app, &sink, json!({})).await;
    let (status, created) = app.post("/customers/CUS-00001/portal-links", json!({"expires_in_days": 14, "email": {}})).await;
    assert_eq!(status, StatusCode::CREATED, "{created}");
    let path = created["url"].as_str().unwrap().to_owned();
    assert!(path.starts_with("/portal/"), "{created}");
    assert_eq!(created["message"]["delivery"]["status"], "queued");
    assert_eq!(created["message"]["recipients"]["to"], json!(["bo@lee.example"]), "the primary contact by default");

    work(&app).await;
    let mail = sink.messages();
    assert_eq!(mail.len(), 1, "one email arrived");
    assert_eq!(mail[0].to, vec!["bo@lee.example"]);
    assert_eq!(mail[0].subject.as_deref(), Some("Your documents at Test Services"));
    assert!(mail[0].body.starts_with("Dear Bo,"), "{}", mail[0].body);
    let url = link_in(&mail[0].body);
    assert_eq!(url, format!("{PUBLIC}{path}"), "the absolute link after the public address");
    let expires_on = created["expires_at"].as_str().unwrap().parse::<Timestamp>().unwrap().to_zoned(app.org.zone()).date();
    assert!(mail[0].body.contains(&format!("The link works until {}.", app.org.date(expires_on))), "{}", mail[0].body);

    // The link in the email opens the customer's portal.
    let (status, html) = app.page(None, url.strip_prefix("https://crm.test.example/office").unwrap()).await;
    assert_eq!(status, StatusCode::OK);
    assert!(html.contains("Ann Lee") && html.contains("CUS-00001"), "the portal of CUS-00001");

    let (_, timeline) = app.get("/customers/CUS-00001/timeline?limit=50").await;
    let kinds: Vec<&str> = timeline["items"].as_array().unwrap().iter().filter_map(|e| e["kind"].as_str()).collect();
    for kind in ["portal_link.created", "message.queued", "message.sent"] {
        assert!(kinds.contains(&kind), "{kind} not in {kinds:?}");
    }
    let (_, message) = app.get(&format!("/messages/{}", created["message"]["id"].as_str().unwrap())).await;
    assert_eq!(message["delivery"]["status"], "sent", "{message}");
});

both_backends!(an_opted_out_customer_is_not_emailed_a_link_without_a_reason_and_nothing_is_made, |app| {
    let Some(sink) = SmtpSink::start() else { return };
    let app = world(app, &sink, json!({"email": {"service": false}})).await;
    let before = (app.count("portal_link").await, app.count("message").await, app.count("task").await);
    let (status, problem) = app.post("/customers/CUS-00001/portal-links", json!({"email": {"to": ["ann@lee.example"]}})).await;
    assert_eq!((status, problem["errors"][0]["code"].as_str()), (StatusCode::UNPROCESSABLE_ENTITY, Some("opted_out")), "{problem}");
    assert_eq!((app.count("portal_link").await, app.count("message").await, app.count("task").await), before, "no link, no email, no task");

    // An address that is not theirs, and no mail server, are refused too.
    let (status, problem) =
        app.post("/customers/CUS-00001/portal-links", json!({"email": {"to": ["someone@else.example"], "override_reason": "asked by phone"}})).await;
    assert_eq!((status, problem["errors"][0]["code"].as_str()), (StatusCode::UNPROCESSABLE_ENTITY, Some("not_a_contact_address")), "{problem}");

    let (status, created) =
        app.post("/customers/CUS-00001/portal-links", json!({"email": {"to": ["ann@lee.example"], "override_reason": "asked for it by phone"}})).await;
    assert_eq!(status, StatusCode::CREATED, "{created}");
    work(&app).await;
    assert_eq!(sink.messages().len(), 1);
    assert_eq!(sink.messages()[0].to, vec!["ann@lee.example"]);
    assert!(sink.messages()[0].body.starts_with("Dear Ann,"), "the customer's own address greets the customer: {}", sink.messages()[0].body);
    let mut conn = app.db.read().await.unwrap();
    let rows = dossier_store::queries::activity_page(&mut conn.handle(), app.org.id.0, 0, i64::MAX, 10_000).await.unwrap();
    let queued = rows.iter().find(|r| r.kind == "message.queued").expect("message.queued");
    assert!(queued.detail.contains("asked for it by phone"), "the override reason is recorded: {}", queued.detail);
    drop(conn);

    // Without a link's email, the link is made to copy, as before.
    let (status, created) = app.post("/customers/CUS-00001/portal-links", json!({})).await;
    assert_eq!(status, StatusCode::CREATED);
    assert!(created.get("message").is_none(), "{created}");
});

both_backends!(a_link_is_not_emailed_without_a_mail_server, |app| {
    app.customer(json!({"family_name": "Lee", "email": "ann@lee.example"})).await;
    let (status, problem) = app.post("/customers/CUS-00001/portal-links", json!({"email": {}})).await;
    assert_eq!((status, problem["code"].as_str()), (StatusCode::CONFLICT, Some("no_mail_server")), "{problem}");
    assert_eq!(app.count("portal_link").await, 0);
    let (status, problem) = app.post("/users", json!({"email": "ivy@test.example", "name": "Ivy", "role": "support", "send_email": true})).await;
    assert_eq!((status, problem["code"].as_str()), (StatusCode::CONFLICT, Some("no_mail_server")), "{problem}");
    let (_, users) = app.get("/users").await;
    assert_eq!(users.as_array().unwrap().len(), 1, "nobody was invited");
});

both_backends!(an_emailed_invitation_holds_a_link_that_sets_the_password_and_no_token_is_answered, |app| {
    let Some(sink) = SmtpSink::start() else { return };
    app.use_mail_server(sink.port).await;
    let (status, invitation) = app.post("/users", json!({"email": "ivy@test.example", "name": "Ivy", "role": "support", "send_email": true})).await;
    assert_eq!(status, StatusCode::CREATED, "{invitation}");
    assert_eq!(invitation["emailed"], true);
    assert!(invitation.get("invitation_token").is_none(), "the token is only in the email: {invitation}");
    let (_, tasks) = app.get("/tasks?limit=50").await;
    let task = tasks["items"].as_array().unwrap().iter().find(|t| t["kind"] == "email.invitation").cloned().expect("an invitation task");
    assert!(!task["payload"].to_string().contains("dsi_"), "no secret waits in the task table: {task}");

    work(&app).await;
    let mail = sink.messages();
    assert_eq!(mail.len(), 1, "one email arrived");
    assert_eq!(mail[0].to, vec!["ivy@test.example"]);
    assert_eq!(mail[0].subject.as_deref(), Some("You are invited to Test Services on Dossier"));
    assert!(mail[0].body.contains("as support"), "{}", mail[0].body);
    let url = link_in(&mail[0].body);
    let token = url.strip_prefix(&format!("{PUBLIC}/invitation?token=")).unwrap_or_else(|| panic!("the web app's invitation page: {url}")).to_owned();

    // The page the link opens, then accepting with the token from the email.
    let (status, html) = app.page(None, &format!("/invitation?token={token}")).await;
    assert_eq!(status, StatusCode::OK);
    assert!(html.contains(&token), "the page carries the token");
    let (status, accepted) = app.call_as(None, Method::POST, "/session/invitation", Some(json!({"token": token, "password": "a long new password"}))).await;
    assert_eq!((status, accepted["invited"].as_bool()), (StatusCode::OK, Some(false)), "{accepted}");
    use dossier_service::sessions::{self, Client, SignIn};
    let signed_in = sessions::sign_in(
        &app.db,
        SignIn { email: "ivy@test.example".into(), password: "a long new password".into() },
        Client { address: None, user_agent: None },
    )
    .await;
    assert!(signed_in.is_ok(), "the password works");

    let kinds = app.log_kinds(&app.org).await;
    let order: Vec<&str> = kinds.iter().map(String::as_str).filter(|k| k.starts_with("user.invit") || *k == "user.password_set").collect();
    assert_eq!(order, ["user.invited", "user.invitation_sent", "user.password_set"]);
    // Working again sends nothing twice.
    work(&app).await;
    assert_eq!(sink.messages().len(), 1);
});

both_backends!(an_invitation_the_mail_server_refuses_is_recorded_on_the_user, |app| {
    let Some(sink) = SmtpSink::start() else { return };
    app.use_mail_server(sink.port).await;
    let (status, invitation) = app.post("/users", json!({"email": "reject-ivy@test.example", "name": "Ivy", "role": "support", "send_email": true})).await;
    assert_eq!(status, StatusCode::CREATED, "{invitation}");
    work(&app).await;
    assert!(sink.messages().is_empty());
    let user = invitation["user"]["id"].as_str().unwrap();
    let (_, history) = app.get(&format!("/users/{user}/timeline")).await;
    let kinds: Vec<&str> = history["items"].as_array().unwrap().iter().filter_map(|e| e["kind"].as_str()).collect();
    assert!(kinds.contains(&"user.invitation_failed"), "{kinds:?}");
    let (_, tasks) = app.get("/tasks?status=done").await;
    assert!(tasks["items"].as_array().unwrap().iter().any(|t| t["kind"] == "email.invitation"), "a refusal ends the task: {tasks}");
});

both_backends!(from_the_web_app_a_link_is_emailed_to_the_address_chosen_and_an_invitation_is_emailed_by_default, |app| {
    let Some(sink) = SmtpSink::start() else { return };
    let app = world(app, &sink, json!({})).await;
    app.user("office").await;
    let office = app.session("office").await;
    let (status, html) = app.page(Some(&office), "/customers/CUS-00001/portal-links").await;
    assert_eq!(status, StatusCode::OK);
    assert!(html.contains("Email the link") && html.contains("<option value=\"bo@lee.example\">"), "the addresses are offered");
    assert!(html.find("bo@lee.example").unwrap() < html.find("ann@lee.example").unwrap(), "the primary contact's first");
    let form = [("expires_in_days", "30"), ("send", "email"), ("to", "ann@lee.example"), ("override_reason", "")];
    let (status, _, html) = app.form(&office, "/customers/CUS-00001/portal-links", &form).await;
    assert_eq!(status, StatusCode::CREATED, "{html}");
    assert!(html.contains("id=\"link-emailed\"") && html.contains("ann@lee.example"), "{html}");
    work(&app).await;
    assert_eq!(sink.messages().iter().map(|m| m.to.clone()).collect::<Vec<_>>(), vec![vec!["ann@lee.example".to_owned()]]);

    let admin = app.session("admin").await;
    let (_, html) = app.page(Some(&admin), "/admin").await;
    assert!(html.contains("name=\"send_email\" value=\"on\" checked"), "ticked when a mail server is set");
    let form = [("email", "ivy@test.example"), ("name", "Ivy"), ("role", "support"), ("send_email", "on")];
    let (status, _, html) = app.form(&admin, "/users", &form).await;
    assert_eq!(status, StatusCode::CREATED, "{html}");
    assert!(html.contains("id=\"admin-notice\"") && !html.contains("/invitation?token="), "emailed, not shown: {html}");
    work(&app).await;
    assert!(sink.messages().iter().any(|m| m.to == ["ivy@test.example"]), "the invitation arrived");
});

both_backends!(an_invitation_of_a_user_deactivated_before_it_went_is_not_sent, |app| {
    let Some(sink) = SmtpSink::start() else { return };
    app.use_mail_server(sink.port).await;
    let (_, invitation) = app.post("/users", json!({"email": "ivy@test.example", "name": "Ivy", "role": "support", "send_email": true})).await;
    let user = invitation["user"]["id"].as_str().unwrap();
    let (status, _) = app.patch(&format!("/users/{user}"), json!({"active": false})).await;
    assert_eq!(status, StatusCode::OK);
    work(&app).await;
    assert!(sink.messages().is_empty(), "nothing goes to a deactivated user");
    assert!(!app.log_kinds(&app.org).await.iter().any(|k| k == "user.invitation_sent"));
});

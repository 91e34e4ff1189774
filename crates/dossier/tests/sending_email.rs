//! Emailing customers: composed from the record, checked against the
//! customer's addresses and preferences, confirmed by a dry run, queued,
//! and sent by the background worker to a real SMTP server on loopback
//! (aiosmtpd writing a Maildir), on SQLite and PostgreSQL.

mod common;

use axum::http::{Method, StatusCode};
use common::smtp::SmtpSink;
use dossier_service::sending::email::Outbox;
use dossier_service::tasks::{Handlers, Worker, WorkerSettings};
use jiff::{SignedDuration, Timestamp};
use serde_json::{Value, json};

/// A customer (ann@lee.example) with a contact (bo@lee.example), an issued
/// invoice INV-00001, the org's mail server set to `sink`; returns nothing
/// when the SMTP server is not available here.
async fn world(app: &common::TestApp, sink: &SmtpSink, communication: Value) {
    app.customer(json!({"family_name": "Lee", "given_name": "Ann", "email": "ann@lee.example", "communication": communication})).await;
    let (status, contact) = app
        .post("/customers/CUS-00001/contacts", json!({"given_name": "Bo", "family_name": "Lee", "emails": [{"address": "bo@lee.example"}, {"address": "reject-bo@lee.example"}, {"address": "later-bo@lee.example"}]}))
        .await;
    assert_eq!(status, StatusCode::CREATED, "{contact}");
    let (status, invoice) = app
        .post(
            "/invoices",
            json!({"customer": "CUS-00001", "issue": true, "lines": [{"description": "Boiler service", "unit_price": 9000, "tax_rate_bp": 2000}]}),
        )
        .await;
    assert_eq!(status, StatusCode::CREATED, "{invoice}");
    app.use_mail_server(sink.port).await;
}

/// Run the worker once at `at`: every due task.
async fn work(app: &common::TestApp, at: Timestamp) -> usize {
    let handlers = Handlers { outbox: Outbox { files: Some(app.files.clone()), configured: None }, ..Default::default() };
    Worker::new(app.db.clone(), handlers, WorkerSettings::default()).work_once(at).await.unwrap()
}

/// A file of the customer: shared on its invoice (`customer`), or internal.
async fn shared_file(app: &common::TestApp, name: &str, visibility: &str) -> String {
    let fields: &[(&str, &str)] =
        if visibility == "customer" { &[("record_type", "invoice"), ("record", "INV-00001"), ("visibility", "customer")] } else { &[] };
    let (status, uploaded) = app.upload("/customers/CUS-00001/files", fields, &[(name, b"%PDF-1.4 floor plan")]).await;
    assert_eq!(status, StatusCode::CREATED, "{uploaded}");
    uploaded["items"][0]["id"].as_str().unwrap().to_owned()
}

async fn task_row(app: &common::TestApp, message: &str) -> dossier_store::TaskRow {
    let (_, tasks) = app.get("/tasks?limit=200").await;
    let task = tasks["items"].as_array().unwrap().iter().find(|t| t["payload"]["message_id"] == message).cloned().expect("a send task");
    let mut conn = app.db.read().await.unwrap();
    let id = uuid::Uuid::parse_str(task["id"].as_str().unwrap()).unwrap();
    dossier_store::queries::get_task(&mut conn.handle(), app.org.id.0, id).await.unwrap().unwrap()
}

async fn stored_message_id(app: &common::TestApp, message: &str) -> String {
    let mut conn = app.db.read().await.unwrap();
    let id = uuid::Uuid::parse_str(message).unwrap();
    dossier_store::queries::get_message(&mut conn.handle(), app.org.id.0, id).await.unwrap().unwrap().email_message_id.expect("a Message-ID")
}

/// Every activity row of the org, as text (summary, changes, detail).
async fn org_log(app: &common::TestApp) -> String {
    let mut conn = app.db.read().await.unwrap();
    let rows = dossier_store::queries::activity_page(&mut conn.handle(), app.org.id.0, 0, i64::MAX, 10_000).await.unwrap();
    rows.iter().map(|r| format!("{} {} {} {}\n", r.kind, r.summary, r.changes, r.detail)).collect()
}

async fn counts(app: &common::TestApp) -> (i64, i64, i64, i64) {
    (app.count("message").await, app.count("task").await, app.count("activity").await, app.count("email_attachment").await)
}

both_backends!(an_email_with_the_invoice_pdf_and_a_file_arrives_as_queued_and_shows_as_sent, |app| {
    let Some(sink) = SmtpSink::start() else { return };
    world(&app, &sink, json!({})).await;
    let plan = shared_file(&app, "floor-plan.pdf", "customer").await;
    let (status, message) = app
        .post(
            "/customers/CUS-00001/emails",
            json!({"to": ["ANN@lee.example"], "cc": ["bo@lee.example"], "subject": "Your invoice INV-00001", "body": "Dear Ann,\nplease find your invoice attached.",
                   "record_type": "invoice", "record": "INV-00001",
                   "attachments": [{"document": "invoice", "record": "INV-00001"}, {"file": plan}]}),
        )
        .await;
    assert_eq!(status, StatusCode::CREATED, "{message}");
    assert_eq!((message["channel"].as_str(), message["visibility"].as_str()), (Some("email"), Some("customer")));
    assert_eq!(message["delivery"]["status"], "queued");
    assert_eq!(message["recipients"], json!({"to": ["ann@lee.example"], "cc": ["bo@lee.example"]}));
    let id = message["id"].as_str().unwrap().to_owned();
    let message_id = stored_message_id(&app, &id).await;
    assert!(message_id.ends_with("@test.example"), "{message_id}");

    work(&app, Timestamp::now()).await;
    let mail = sink.messages();
    assert_eq!(mail.len(), 1, "one email arrived");
    let mail = &mail[0];
    assert_eq!(mail.message_id.as_deref(), Some(message_id.as_str()), "the Message-ID fixed when it was queued");
    assert_eq!((mail.from.as_deref(), mail.from_name.as_deref()), (Some("office@test.example"), Some("Test Services")));
    assert_eq!(mail.to, vec!["ann@lee.example"]);
    assert_eq!(mail.cc, vec!["bo@lee.example"]);
    assert_eq!(mail.subject.as_deref(), Some("Your invoice INV-00001"));
    assert!(mail.body.contains("please find your invoice attached"), "{}", mail.body);
    let names: Vec<&str> = mail.attachments.iter().map(|(n, _)| n.as_str()).collect();
    assert_eq!(names, vec!["INV-00001.pdf", "floor-plan.pdf"]);
    assert!(mail.attachments.iter().all(|(_, bytes)| bytes.starts_with(b"%PDF")), "both attachments are PDFs");

    let (_, read) = app.get(&format!("/messages/{id}")).await;
    assert_eq!(read["delivery"]["status"], "sent", "{read}");
    let (_, listed) = app.get("/customers/CUS-00001/messages?channel=email").await;
    assert_eq!(listed["items"][0]["delivery"]["status"], "sent");
    let (_, timeline) = app.get("/customers/CUS-00001/timeline?limit=50").await;
    let kinds: Vec<&str> = timeline["items"].as_array().unwrap().iter().filter_map(|e| e["kind"].as_str()).collect();
    assert!(kinds.contains(&"message.queued") && kinds.contains(&"message.sent"), "{kinds:?}");
    // Running the worker again sends nothing twice.
    work(&app, Timestamp::now() + SignedDuration::from_hours(2)).await;
    assert_eq!(sink.messages().len(), 1);
});

both_backends!(a_dry_run_shows_the_email_and_what_allowed_it_and_writes_nothing, |app| {
    let Some(sink) = SmtpSink::start() else { return };
    world(&app, &sink, json!({})).await;
    let before = counts(&app).await;
    let (status, preview) = app
        .post(
            "/customers/CUS-00001/emails",
            json!({"to": ["ann@lee.example"], "subject": "Your invoice", "body": "Attached.", "record_type": "invoice", "record": "INV-00001",
                   "attachments": [{"document": "invoice", "record": "INV-00001"}], "dry_run": true}),
        )
        .await;
    assert_eq!(status, StatusCode::OK, "{preview}");
    assert_eq!(preview["from"], "Test Services <office@test.example>");
    assert_eq!(preview["purpose"], "billing");
    assert_eq!(preview["consent"]["reason"], "The customer agreed to billing messages by email");
    assert_eq!(preview["attachments"][0]["name"], "INV-00001.pdf");
    assert_eq!(counts(&app).await, before, "a dry run writes nothing");
    work(&app, Timestamp::now()).await;
    assert!(sink.messages().is_empty());
});

both_backends!(an_opted_out_customer_is_refused_unless_staff_give_a_reason_which_is_recorded, |app| {
    let Some(sink) = SmtpSink::start() else { return };
    world(&app, &sink, json!({"email": {"billing": false}})).await;
    let before = counts(&app).await;
    let email = json!({"to": ["ann@lee.example"], "subject": "Your invoice", "body": "Attached.", "record_type": "invoice", "record": "INV-00001"});
    let (status, problem) = app.post("/customers/CUS-00001/emails", email.clone()).await;
    assert_eq!(status, StatusCode::UNPROCESSABLE_ENTITY, "{problem}");
    assert_eq!(problem["errors"][0]["code"], "opted_out");
    assert!(problem["errors"][0]["message"].as_str().unwrap().contains("opted out of billing messages by email"), "{problem}");
    assert_eq!(counts(&app).await, before, "nothing written");

    let mut overridden = email.clone();
    overridden["override_reason"] = json!("The customer asked for this invoice on the phone");
    let (status, message) = app.post("/customers/CUS-00001/emails", overridden).await;
    assert_eq!(status, StatusCode::CREATED, "{message}");
    work(&app, Timestamp::now()).await;
    assert_eq!(sink.messages().len(), 1);
    let (_, timeline) = app.get("/customers/CUS-00001/timeline?limit=50").await;
    let queued = timeline["items"].as_array().unwrap().iter().find(|e| e["kind"] == "message.queued").cloned().expect("message.queued");
    assert_eq!(queued["detail"]["override_reason"], "The customer asked for this invoice on the phone", "{queued}");
    assert_eq!(queued["detail"]["consent"], "The customer opted out of billing messages by email");
});

both_backends!(nothing_internal_leaves_and_no_one_else_is_written_to, |app| {
    let Some(sink) = SmtpSink::start() else { return };
    world(&app, &sink, json!({})).await;
    app.customer(json!({"family_name": "Other", "email": "other@else.example"})).await;
    let internal = shared_file(&app, "internal-notes.pdf", "internal").await;
    let (_, note) = app.post("/customers/CUS-00001/messages", json!({"channel": "note", "body": "Slow payer; be firm"})).await;
    let before = counts(&app).await;
    let base = json!({"to": ["ann@lee.example"], "subject": "Hello", "body": "Hi"});
    let with = |key: &str, value: Value| {
        let mut body = base.clone();
        body[key] = value;
        body
    };
    let (status, problem) = app.post("/customers/CUS-00001/emails", with("attachments", json!([{"file": internal}]))).await;
    assert_eq!((status, problem["errors"][0]["code"].as_str()), (StatusCode::UNPROCESSABLE_ENTITY, Some("internal_attachment")), "{problem}");
    let (status, problem) = app.post("/customers/CUS-00001/emails", with("in_reply_to", note["id"].clone())).await;
    assert_eq!((status, problem["errors"][0]["code"].as_str()), (StatusCode::UNPROCESSABLE_ENTITY, Some("internal_message")), "{problem}");
    let (status, problem) = app.post("/customers/CUS-00001/emails", with("cc", json!(["other@else.example"]))).await;
    assert_eq!((status, problem["errors"][0]["code"].as_str()), (StatusCode::UNPROCESSABLE_ENTITY, Some("not_a_contact_address")), "{problem}");
    assert_eq!(problem["errors"][0]["field"], "cc[0]");
    assert_eq!(counts(&app).await, before, "nothing written");
    // A fieldworker does not email customers; a deactivated customer gets no email.
    let (_, fieldworker) = app.user("fieldworker").await;
    let (status, _) = app.call_as(Some(&fieldworker), Method::POST, "/customers/CUS-00001/emails", Some(base.clone())).await;
    assert_eq!(status, StatusCode::FORBIDDEN);
    let (status, _) = app.post("/customers/CUS-00002/status", json!({"status": "deactivated", "reason": "Moved away"})).await;
    assert_eq!(status, StatusCode::OK);
    let before = counts(&app).await;
    let (status, problem) = app.post("/customers/CUS-00002/emails", json!({"to": ["other@else.example"], "subject": "Hello", "body": "Hi"})).await;
    assert_eq!((status, problem["code"].as_str()), (StatusCode::CONFLICT, Some("customer_deactivated")), "{problem}");
    assert_eq!(counts(&app).await, before, "nothing written");
    work(&app, Timestamp::now()).await;
    assert!(sink.messages().is_empty());
});

both_backends!(a_recipient_the_server_refuses_fails_the_email_with_its_answer_and_it_can_be_resent_or_cancelled, |app| {
    let Some(sink) = SmtpSink::start() else { return };
    world(&app, &sink, json!({})).await;
    let (status, message) = app.post("/customers/CUS-00001/emails", json!({"to": ["reject-bo@lee.example"], "subject": "Hello", "body": "Hi"})).await;
    assert_eq!(status, StatusCode::CREATED, "{message}");
    let id = message["id"].as_str().unwrap().to_owned();
    work(&app, Timestamp::now()).await;
    let (_, read) = app.get(&format!("/messages/{id}")).await;
    assert_eq!(read["delivery"]["status"], "failed", "{read}");
    let detail = read["delivery"]["detail"].as_str().unwrap();
    assert!(detail.contains("550") && detail.contains("mailbox unavailable"), "{detail}");
    let task = task_row(&app, &id).await;
    assert_eq!((task.status.as_str(), task.attempts), ("done", 1), "a permanent refusal is not tried again");
    assert!(sink.messages().is_empty());

    // Sent again: queued with the same Message-ID, and refused again.
    let message_id = stored_message_id(&app, &id).await;
    let (status, again) = app.post(&format!("/messages/{id}/resend"), json!({})).await;
    assert_eq!((status, again["delivery"]["status"].as_str()), (StatusCode::OK, Some("queued")), "{again}");
    assert_eq!(stored_message_id(&app, &id).await, message_id);
    // Cancelled before the worker runs: it is not sent.
    let (status, cancelled) = app.post(&format!("/messages/{id}/cancel-delivery"), json!({})).await;
    assert_eq!((status, cancelled["delivery"]["status"].as_str()), (StatusCode::OK, Some("cancelled")), "{cancelled}");
    work(&app, Timestamp::now()).await;
    let (_, read) = app.get(&format!("/messages/{id}")).await;
    assert_eq!(read["delivery"]["status"], "cancelled");
    let (status, problem) = app.post(&format!("/messages/{id}/cancel-delivery"), json!({})).await;
    assert_eq!((status, problem["code"].as_str()), (StatusCode::CONFLICT, Some("illegal_transition")));
});

both_backends!(a_recipient_the_server_defers_is_tried_again_with_the_same_message_id_then_failed, |app| {
    let Some(sink) = SmtpSink::start() else { return };
    world(&app, &sink, json!({})).await;
    let (status, message) = app.post("/customers/CUS-00001/emails", json!({"to": ["later-bo@lee.example"], "subject": "Hello", "body": "Hi"})).await;
    assert_eq!(status, StatusCode::CREATED, "{message}");
    let id = message["id"].as_str().unwrap().to_owned();
    let message_id = stored_message_id(&app, &id).await;
    let mut at = Timestamp::now();
    work(&app, at).await;
    let task = task_row(&app, &id).await;
    assert_eq!((task.status.as_str(), task.attempts), ("queued", 1), "a passing refusal is tried again");
    assert!(task.last_error.as_deref().unwrap_or_default().contains("451"), "{:?}", task.last_error);
    let (_, read) = app.get(&format!("/messages/{id}")).await;
    assert_eq!(read["delivery"]["status"], "queued");
    for _ in 0..4 {
        at += SignedDuration::from_hours(2);
        work(&app, at).await;
    }
    let task = task_row(&app, &id).await;
    assert_eq!((task.status.as_str(), task.attempts), ("failed", 5));
    assert_eq!(stored_message_id(&app, &id).await, message_id, "every attempt is the same email");
    let (_, read) = app.get(&format!("/messages/{id}")).await;
    assert_eq!(read["delivery"]["status"], "failed", "given up: the email is failed with the last answer");
    assert!(read["delivery"]["detail"].as_str().unwrap().contains("451"), "{read}");
    assert!(sink.messages().is_empty());
});

both_backends!(the_mail_server_password_is_never_shown_nor_logged_and_only_admins_set_it, |app| {
    let (status, none) = app.get("/org/email-settings").await;
    assert_eq!((status, none["source"].as_str()), (StatusCode::OK, Some("none")), "{none}");
    let secret = "s3cret-Pa55word";
    let settings = json!({"sender_name": "Test Services", "sender_address": "office@test.example", "host": "mail.test.example", "port": 587,
                          "tls": "starttls", "username": "office", "password": secret});
    let (status, set) = app.call(Method::PUT, "/org/email-settings", Some(settings.clone())).await;
    assert_eq!(status, StatusCode::OK, "{set}");
    assert_eq!((set["source"].as_str(), set["password_set"].as_bool(), set["host"].as_str()), (Some("org"), Some(true), Some("mail.test.example")));
    let (_, read) = app.get("/org/email-settings").await;
    assert!(!read.to_string().contains(secret) && read["password_set"] == true, "{read}");
    // Left out, the password stays; empty, it goes.
    let mut without = settings.clone();
    without.as_object_mut().unwrap().remove("password");
    without["port"] = json!(2525);
    let (_, kept) = app.call(Method::PUT, "/org/email-settings", Some(without)).await;
    assert_eq!((kept["password_set"].as_bool(), kept["port"].as_i64()), (Some(true), Some(2525)));
    let text = org_log(&app).await;
    assert!(!text.contains(secret), "the activity log never holds the password");
    assert!(text.contains("Email settings changed"), "{text}");
    let mut cleared = settings.clone();
    cleared["password"] = json!("");
    let (_, cleared) = app.call(Method::PUT, "/org/email-settings", Some(cleared)).await;
    assert_eq!(cleared["password_set"], false);
    // Bad input changes nothing.
    let mut bad = settings.clone();
    bad["port"] = json!(0);
    bad["sender_address"] = json!("not an address");
    let (status, problem) = app.call(Method::PUT, "/org/email-settings", Some(bad)).await;
    assert_eq!(status, StatusCode::UNPROCESSABLE_ENTITY, "{problem}");
    // An office user (not an admin) neither reads nor sets them.
    let (_, office) = app.user("office").await;
    let (status, _) = app.call_as(Some(&office), Method::GET, "/org/email-settings", None).await;
    assert_eq!(status, StatusCode::FORBIDDEN);
    let (status, _) = app.call_as(Some(&office), Method::PUT, "/org/email-settings", Some(settings)).await;
    assert_eq!(status, StatusCode::FORBIDDEN);
});

both_backends!(the_email_settings_page_says_a_password_is_set_but_never_shows_it, |app| {
    let admin = app.session("admin").await;
    let secret = "page-Secret-77";
    let form = [
        ("sender_name", "Test Services"),
        ("sender_address", "office@test.example"),
        ("host", "mail.test.example"),
        ("port", "587"),
        ("tls", "starttls"),
        ("username", "office"),
        ("password", secret),
    ];
    let (status, location, _) = app.form(&admin, "/settings/email", &form).await;
    assert_eq!((status, location.as_str()), (StatusCode::SEE_OTHER, "/settings/email"));
    let (status, page) = app.page(Some(&admin), "/settings/email").await;
    assert_eq!(status, StatusCode::OK);
    assert!(page.contains("A password is set") && page.contains("mail.test.example"), "{page}");
    assert!(!page.contains(secret), "the password is never in the page");
    // A bad port is said next to its field, and the typed password is not echoed.
    let mut bad = form;
    bad[3] = ("port", "99999");
    let (status, _, page) = app.form(&admin, "/settings/email", &bad).await;
    assert_eq!(status, StatusCode::UNPROCESSABLE_ENTITY);
    assert!(page.contains("between 1 and 65535") && !page.contains(secret), "{page}");
    let (_, admin_page) = app.page(Some(&admin), "/admin").await;
    assert!(admin_page.contains("/settings/email"));
    // An office user is not let in.
    app.user("office").await;
    let office = app.session("office").await;
    let (status, _) = app.page(Some(&office), "/settings/email").await;
    assert_eq!(status, StatusCode::FORBIDDEN);
});

both_backends!(staff_email_an_invoice_from_its_page_review_it_and_see_it_sent_on_the_timeline, |app| {
    let Some(sink) = SmtpSink::start() else { return };
    world(&app, &sink, json!({"email": {"billing": false}})).await;
    app.user("office").await;
    let office = app.session("office").await;
    let (status, invoice_page) = app.page(Some(&office), "/invoices/INV-00001").await;
    assert_eq!(status, StatusCode::OK);
    let link = "/customers/CUS-00001/email?record_type=invoice&#38;record=INV-00001";
    assert!(
        invoice_page.contains(link),
        "the invoice page offers Email: {}",
        invoice_page.split("email-action").nth(1).unwrap_or("no email-action").chars().take(300).collect::<String>()
    );
    let (status, compose) = app.page(Some(&office), "/customers/CUS-00001/email?record_type=invoice&record=INV-00001").await;
    assert_eq!(status, StatusCode::OK);
    assert!(compose.contains("ann@lee.example") && compose.contains("bo@lee.example") && compose.contains("The invoice INV-00001 as a PDF"), "{compose}");
    // It starts from the org's invoice template, filled in for this invoice.
    assert!(
        compose.contains("value=\"Invoice INV-00001 from Test Services\"") && compose.contains("Please find attached invoice INV-00001 for £"),
        "{compose}"
    );
    let (status, _) = app
        .put(
            "/templates/invoice",
            json!({"subject": "Bill {{ invoice.code }}", "body": "Hello {{ contact.name }}, {{ invoice.balance }} to pay by {{ invoice.due_date }}."}),
        )
        .await;
    assert_eq!(status, StatusCode::OK);
    let (_, compose) = app.page(Some(&office), "/customers/CUS-00001/email?record_type=invoice&record=INV-00001").await;
    assert!(compose.contains("value=\"Bill INV-00001\"") && compose.contains(" to pay by "), "the org's own template: {compose}");
    let mut form = vec![
        ("to_0", "on"),
        ("cc_1", "on"),
        ("subject", "Your invoice INV-00001"),
        ("body", "Dear Ann,\nyour invoice is attached."),
        ("record_type", "invoice"),
        ("record", "INV-00001"),
        ("attach_record", "on"),
        ("purpose", ""),
    ];
    // Opted out of billing email: refused next to the reason field, nothing written.
    let before = counts(&app).await;
    let (status, _, refused) = app.form(&office, "/customers/CUS-00001/email", &form).await;
    assert_eq!(status, StatusCode::UNPROCESSABLE_ENTITY);
    assert!(refused.contains("opted out of billing messages by email") && refused.contains("override_reason-error"), "{refused}");
    form.push(("override_reason", "Asked for it on the phone"));
    let (status, _, review) = app.form(&office, "/customers/CUS-00001/email", &form).await;
    assert_eq!(status, StatusCode::OK, "{review}");
    assert!(
        review.contains("INV-00001.pdf") && review.contains("Test Services &#60;office@test.example&#62;") && review.contains("Asked for it on the phone"),
        "{review}"
    );
    assert_eq!(counts(&app).await, before, "the review writes nothing");
    form.push(("confirmed", "yes"));
    let (status, location, _) = app.form(&office, "/customers/CUS-00001/email", &form).await;
    assert_eq!((status, location.as_str()), (StatusCode::SEE_OTHER, "/customers/CUS-00001?tab=timeline"));
    work(&app, Timestamp::now()).await;
    let mail = sink.messages();
    assert_eq!(mail.len(), 1);
    assert_eq!((mail[0].to.clone(), mail[0].cc.clone()), (vec!["ann@lee.example".to_owned()], vec!["bo@lee.example".to_owned()]));
    assert!(mail[0].attachments[0].1.starts_with(b"%PDF"));
    let (_, timeline) = app.page(Some(&office), "/customers/CUS-00001?tab=timeline").await;
    assert!(
        timeline.contains("Your invoice INV-00001") && timeline.contains("Email (outbound) on INV-00001 sent"),
        "the timeline shows the email sent: {timeline}"
    );
});

both_backends!(an_email_to_a_customer_deactivated_after_it_was_queued_is_not_sent, |app| {
    let Some(sink) = SmtpSink::start() else { return };
    world(&app, &sink, json!({})).await;
    let (status, message) = app.post("/customers/CUS-00001/emails", json!({"to": ["ann@lee.example"], "subject": "Hello", "body": "Hi"})).await;
    assert_eq!(status, StatusCode::CREATED, "{message}");
    let id = message["id"].as_str().unwrap().to_owned();
    let (status, _) = app.post("/customers/CUS-00001/status", json!({"status": "deactivated", "reason": "Moved away"})).await;
    assert_eq!(status, StatusCode::OK);
    work(&app, Timestamp::now()).await;
    assert!(sink.messages().is_empty(), "nothing leaves for a deactivated customer");
    let task = task_row(&app, &id).await;
    assert_eq!(task.status, "done", "and it is not tried again");
    let (_, read) = app.get(&format!("/messages/{id}")).await;
    assert_eq!(read["delivery"]["status"], "queued");
});

//! The emails Dossier writes on its own, as the `system` actor, to a real
//! SMTP server on loopback (aiosmtpd writing a Maildir), on SQLite and
//! PostgreSQL: the invoice when issued, a receipt per payment, payment
//! reminders by level (once each, stopping when paid), monthly statements,
//! and the holding of automated mail for a paused or dormant customer
//! until that ends. The daily run is driven for chosen days (the clock the
//! tests move), never by sleeping.

mod common;

use axum::http::StatusCode;
use common::smtp::SmtpSink;
use dossier_service::automation::sends::{self, DailyReport};
use dossier_service::sending::email::Outbox;
use dossier_service::tasks::{Handlers, Worker, WorkerSettings};
use jiff::civil::Date;
use jiff::{Timestamp, ToSpan};
use serde_json::{Value, json};

/// The org's mail server set to `sink`, and `automations` switched on.
async fn set_up(app: &common::TestApp, sink: &SmtpSink, automations: Value) {
    app.use_mail_server(sink.port).await;
    let (status, body) = app.patch("/org/automations", automations).await;
    assert_eq!(status, StatusCode::OK, "{body}");
}

/// A customer CUS-0000n with its own address and a billing contact.
async fn customer(app: &common::TestApp, name: &str, extra: Value) -> String {
    let mut body = json!({"family_name": name, "given_name": "Ann", "email": format!("{}@home.example", name.to_lowercase())});
    for (k, v) in extra.as_object().unwrap() {
        body[k] = v.clone();
    }
    let code = app.customer(body).await["code"].as_str().unwrap().to_owned();
    let (status, contact) = app
        .post(
            &format!("/customers/{code}/contacts"),
            json!({"given_name": "Bo", "family_name": name, "is_billing": true, "emails": [{"address": format!("accounts@{}.example", name.to_lowercase())}]}),
        )
        .await;
    assert_eq!(status, StatusCode::CREATED, "{contact}");
    code
}

/// An issued invoice of `customer`, due today; returns its code.
async fn invoice(app: &common::TestApp, customer: &str, pence: i64) -> String {
    let today = today(app);
    let (status, invoice) = app
        .post("/invoices", json!({"customer": customer, "issue": true, "due_date": today, "lines": [{"description": "Boiler service", "unit_price": pence}]}))
        .await;
    assert_eq!(status, StatusCode::CREATED, "{invoice}");
    invoice["code"].as_str().unwrap().to_owned()
}

fn today(app: &common::TestApp) -> Date {
    Timestamp::now().to_zoned(app.org.zone()).date()
}

/// Run the worker until nothing is due.
async fn work(app: &common::TestApp) {
    let handlers = Handlers { outbox: Outbox { files: Some(app.files.clone()), configured: None }, ..Default::default() };
    let worker = Worker::new(app.db.clone(), handlers, WorkerSettings::default());
    for _ in 0..50 {
        if worker.work_once(Timestamp::now()).await.unwrap() == 0 {
            return;
        }
    }
    panic!("the worker never ran out of due tasks");
}

/// The daily run as of `day`, then the worker.
async fn daily(app: &common::TestApp, day: Date) -> DailyReport {
    let report = sends::daily_run(&app.db, &app.ctx(), day).await.unwrap();
    work(app).await;
    report
}

/// The customer's emails, newest first.
async fn emails(app: &common::TestApp, customer: &str) -> Vec<Value> {
    let (status, page) = app.get(&format!("/customers/{customer}/messages?channel=email")).await;
    assert_eq!(status, StatusCode::OK, "{page}");
    page["items"].as_array().unwrap().clone()
}

/// The customer's timeline entries of `kind`.
async fn entries(app: &common::TestApp, customer: &str, kind: &str) -> Vec<Value> {
    let (_, timeline) = app.get(&format!("/customers/{customer}/timeline?limit=200")).await;
    timeline["items"].as_array().unwrap().iter().filter(|e| e["kind"] == kind).cloned().collect()
}

both_backends!(an_issued_invoice_and_a_payment_are_emailed_to_the_billing_contact_by_the_system, |app| {
    let Some(sink) = SmtpSink::start() else { return };
    set_up(&app, &sink, json!({"invoice_email": true, "payment_receipt": true})).await;
    let lee = customer(&app, "Lee", json!({})).await;
    let code = invoice(&app, &lee, 12_000).await;
    work(&app).await;

    let mail = sink.messages();
    assert_eq!(mail.len(), 1, "the invoice went once");
    assert_eq!(mail[0].to, vec!["accounts@lee.example"], "to the billing contact");
    assert!(mail[0].subject.as_deref().unwrap_or("").contains(&code), "{:?}", mail[0].subject);
    assert!(mail[0].body.contains("Bo"), "the template greets the contact: {}", mail[0].body);
    assert_eq!(mail[0].attachments.len(), 1);
    assert_eq!(mail[0].attachments[0].0, format!("{code}.pdf"));
    assert!(mail[0].attachments[0].1.starts_with(b"%PDF"));
    let sent = emails(&app, &lee).await;
    assert_eq!(sent.len(), 1);
    assert_eq!(sent[0]["delivery"]["status"], "sent");
    assert_eq!(sent[0]["author"]["type"], "system", "{}", sent[0]);
    let queued = entries(&app, &lee, "message.queued").await;
    assert_eq!(queued.len(), 1);
    assert_eq!(queued[0]["actor"]["type"], "system", "{}", queued[0]);

    let (status, payment) =
        app.post("/payments", json!({"customer": lee, "amount": 12_000, "method": "card", "allocations": [{"invoice": code, "amount": 12_000}]})).await;
    assert_eq!(status, StatusCode::CREATED, "{payment}");
    work(&app).await;
    let mail = sink.messages();
    assert_eq!(mail.len(), 2, "a receipt followed");
    let receipt = mail.iter().find(|m| m.subject.as_deref().unwrap_or("").contains(payment["code"].as_str().unwrap()) || m.body.contains("120")).unwrap();
    assert_eq!(receipt.to, vec!["accounts@lee.example"]);
    // Running the worker again sends nothing twice.
    work(&app).await;
    assert_eq!(sink.messages().len(), 2);
    assert_eq!(app.count("automated_send").await, 2);

    // An invoice that names a contact goes to that contact.
    let (_, cy) =
        app.post(&format!("/customers/{lee}/contacts"), json!({"given_name": "Cy", "family_name": "Lee", "emails": [{"address": "cy@lee.example"}]})).await;
    let (status, body) =
        app.post("/invoices", json!({"customer": lee, "contact_id": cy["id"], "issue": true, "lines": [{"description": "Repair", "unit_price": 5_000}]})).await;
    assert_eq!(status, StatusCode::CREATED, "{body}");
    work(&app).await;
    let mail = sink.messages();
    assert_eq!(mail.len(), 3);
    assert!(mail.iter().any(|m| m.to == ["cy@lee.example"] && m.body.contains("Dear Cy")), "{mail:?}");
});

both_backends!(a_switched_off_automation_or_an_opted_out_customer_gets_no_automated_email, |app| {
    let Some(sink) = SmtpSink::start() else { return };
    set_up(&app, &sink, json!({"invoice_email": false})).await;
    let lee = customer(&app, "Lee", json!({})).await;
    invoice(&app, &lee, 5_000).await;
    work(&app).await;
    assert_eq!(sink.messages().len(), 0, "switched off: nothing");
    assert!(emails(&app, &lee).await.is_empty());

    app.patch("/org/automations", json!({"invoice_email": true})).await;
    let out = customer(&app, "Out", json!({"communication": {"email": {"billing": false}}})).await;
    invoice(&app, &out, 5_000).await;
    work(&app).await;
    assert_eq!(sink.messages().len(), 0, "the customer opted out of billing email");
    assert!(emails(&app, &out).await.is_empty());
    let mut conn = app.db.read().await.unwrap();
    let h = &mut conn.handle();
    let skipped: Vec<(String, Option<String>)> =
        dossier_store::queries::list_automated_sends(h, app.org.id.0, 100).await.unwrap().into_iter().map(|r| (r.outcome, r.reason)).collect();
    assert_eq!(skipped.len(), 1, "{skipped:?}");
    assert_eq!(skipped[0].0, "skipped");
    assert!(skipped[0].1.as_deref().unwrap_or("").contains("opted out of billing"), "{skipped:?}");
    drop(conn);
    // Staff see on the customer's timeline that it did not go, and why.
    let not_sent = entries(&app, &out, "message.not_sent").await;
    assert_eq!(not_sent.len(), 1);
    assert_eq!(not_sent[0]["visibility"], "internal");
    assert_eq!(not_sent[0]["summary"], "Invoice email not sent: The customer opted out of billing messages by email");
});

both_backends!(payment_reminders_go_once_per_level_and_stop_once_the_invoice_is_paid, |app| {
    let Some(sink) = SmtpSink::start() else { return };
    set_up(&app, &sink, json!({"payment_reminders": true, "reminder_days": [7, 14, 30]})).await;
    let lee = customer(&app, "Lee", json!({})).await;
    let owed = invoice(&app, &lee, 10_000).await;
    let kim = customer(&app, "Kim", json!({})).await;
    let paid = invoice(&app, &kim, 20_000).await;
    let day = today(&app);

    assert_eq!(daily(&app, day.checked_add(6.days()).unwrap()).await.reminders, 0, "not yet 7 days past due");
    assert_eq!(daily(&app, day.checked_add(8.days()).unwrap()).await.reminders, 2);
    let mail = sink.messages();
    assert_eq!(mail.len(), 2, "the first reminder of each invoice");
    assert!(mail.iter().any(|m| m.to == ["accounts@lee.example"] && m.subject.as_deref().unwrap_or("").contains(&owed)), "{mail:?}");
    // The same level again: nothing new.
    daily(&app, day.checked_add(9.days()).unwrap()).await;
    assert_eq!(sink.messages().len(), 2, "never twice for a level");

    // Kim pays; Lee does not.
    let (status, _) =
        app.post("/payments", json!({"customer": kim, "amount": 20_000, "method": "card", "allocations": [{"invoice": paid, "amount": 20_000}]})).await;
    assert_eq!(status, StatusCode::CREATED);
    daily(&app, day.checked_add(15.days()).unwrap()).await;
    let mail = sink.messages();
    assert_eq!(mail.len(), 3, "only the unpaid invoice gets its second reminder: {mail:?}");
    let second = mail.iter().filter(|m| m.to == ["accounts@lee.example"]).count();
    assert_eq!(second, 2);
    // Each reminder level used its own template.
    let subjects: Vec<_> = emails(&app, &lee).await.iter().map(|m| m["subject"].as_str().unwrap().to_owned()).collect();
    assert_eq!(subjects.len(), 2);
    assert_ne!(subjects[0], subjects[1], "level 2 and level 1 read differently: {subjects:?}");
    // Far past the last level, a daily run sends the last once and then nothing.
    daily(&app, day.checked_add(60.days()).unwrap()).await;
    daily(&app, day.checked_add(61.days()).unwrap()).await;
    assert_eq!(sink.messages().len(), 4);
});

both_backends!(a_paused_customer_s_reminder_is_held_and_released_when_the_pause_ends, |app| {
    let Some(sink) = SmtpSink::start() else { return };
    set_up(&app, &sink, json!({"payment_reminders": true, "reminder_days": [7]})).await;
    let day = today(&app);
    let until = day.checked_add(20.days()).unwrap();
    let lee = customer(&app, "Lee", json!({"auto_comms_paused": true, "auto_comms_paused_until": until})).await;
    invoice(&app, &lee, 10_000).await;

    assert_eq!(daily(&app, day.checked_add(8.days()).unwrap()).await.reminders, 1);
    assert_eq!(sink.messages().len(), 0, "held, not sent");
    let held = emails(&app, &lee).await;
    assert_eq!(held.len(), 1);
    assert_eq!(held[0]["delivery"]["status"], "held");
    assert_eq!(held[0]["delivery"]["detail"], format!("Automated messages are paused until {until}"));
    let entry = entries(&app, &lee, "message.held").await;
    assert_eq!(entry.len(), 1);
    assert_eq!(entry[0]["actor"]["type"], "system");
    assert!(entry[0]["summary"].as_str().unwrap().contains("paused until"), "{}", entry[0]);
    // Still paused the day before it ends: still held.
    assert_eq!(daily(&app, until.yesterday().unwrap()).await.released, 0);
    assert_eq!(sink.messages().len(), 0);

    // The pause ends: the day's run releases it and the worker sends it.
    assert_eq!(daily(&app, until).await.released, 1);
    let mail = sink.messages();
    assert_eq!(mail.len(), 1, "released and sent");
    assert_eq!(mail[0].to, vec!["accounts@lee.example"]);
    assert_eq!(emails(&app, &lee).await[0]["delivery"]["status"], "sent");
    assert_eq!(entries(&app, &lee, "message.queued").await.len(), 1, "queued once: when released");
});

both_backends!(staff_unpausing_or_reactivating_a_customer_releases_its_held_mail_and_a_settled_reminder_is_cancelled, |app| {
    let Some(sink) = SmtpSink::start() else { return };
    set_up(&app, &sink, json!({"payment_reminders": true, "reminder_days": [7], "invoice_email": true})).await;
    let day = today(&app);
    let lee = customer(&app, "Lee", json!({"auto_comms_paused": true})).await;
    invoice(&app, &lee, 10_000).await;
    work(&app).await;
    assert_eq!(emails(&app, &lee).await[0]["delivery"]["status"], "held", "paused with no end: the invoice email waits");
    let (status, _) = app.patch(&format!("/customers/{lee}"), json!({"auto_comms_paused": false})).await;
    assert_eq!(status, StatusCode::OK);
    work(&app).await;
    assert_eq!(sink.messages().len(), 1, "unpausing released it");

    // A dormant customer's reminder waits; the invoice is paid meanwhile;
    // made active again, the reminder is cancelled, not sent.
    let kim = customer(&app, "Kim", json!({})).await;
    let code = invoice(&app, &kim, 30_000).await;
    work(&app).await;
    assert_eq!(sink.messages().len(), 2, "Kim's invoice went");
    let (status, body) = app.post(&format!("/customers/{kim}/status"), json!({"status": "dormant", "reason": "moved away"})).await;
    assert_eq!(status, StatusCode::OK, "{body}");
    daily(&app, day.checked_add(8.days()).unwrap()).await;
    assert_eq!(sink.messages().len(), 3, "Lee, unpaused, got the first reminder; Kim's is held");
    let reminder = emails(&app, &kim).await.into_iter().find(|m| m["delivery"]["status"] == "held").expect("a held reminder");
    assert_eq!(reminder["delivery"]["detail"], "The customer is dormant");
    app.post("/payments", json!({"customer": kim, "amount": 30_000, "method": "card", "allocations": [{"invoice": code, "amount": 30_000}]})).await;
    let (status, body) = app.post(&format!("/customers/{kim}/status"), json!({"status": "active", "reason": "back"})).await;
    assert_eq!(status, StatusCode::OK, "{body}");
    work(&app).await;
    let subjects: Vec<_> = sink.messages().iter().filter_map(|m| m.subject.clone()).collect();
    assert_eq!(subjects.len(), 3, "the settled invoice's reminder did not go: {subjects:?}");
    assert!(!subjects.iter().any(|s| s.contains(&code) && s.contains("Reminder")), "{subjects:?}");
    let (_, after) = app.get(&format!("/messages/{}", reminder["id"].as_str().unwrap())).await;
    assert_eq!(after["delivery"]["status"], "cancelled");
    assert!(after["delivery"]["detail"].as_str().unwrap().contains("settled"), "{after}");
});

both_backends!(staff_send_a_held_email_at_once, |app| {
    let Some(sink) = SmtpSink::start() else { return };
    set_up(&app, &sink, json!({"invoice_email": true})).await;
    let lee = customer(&app, "Lee", json!({"auto_comms_paused": true})).await;
    invoice(&app, &lee, 10_000).await;
    work(&app).await;
    let held = emails(&app, &lee).await.remove(0);
    assert_eq!(held["delivery"]["status"], "held");
    let (status, body) = app.post(&format!("/messages/{}/resend", held["id"].as_str().unwrap()), json!({})).await;
    assert_eq!(status, StatusCode::OK, "{body}");
    work(&app).await;
    assert_eq!(sink.messages().len(), 1);
    let queued = entries(&app, &lee, "message.queued").await;
    assert_ne!(queued[0]["actor"]["type"], "system", "staff decided: {}", queued[0]);
});

both_backends!(statements_go_on_the_statement_day_to_customers_who_owe_once_a_month, |app| {
    let Some(sink) = SmtpSink::start() else { return };
    set_up(&app, &sink, json!({"statements": true, "statement_day": 15})).await;
    let lee = customer(&app, "Lee", json!({})).await;
    invoice(&app, &lee, 10_000).await;
    let kim = customer(&app, "Kim", json!({})).await;
    let paid = invoice(&app, &kim, 5_000).await;
    app.post("/payments", json!({"customer": kim, "amount": 5_000, "method": "card", "allocations": [{"invoice": paid, "amount": 5_000}]})).await;
    let next_month = today(&app).first_of_month().checked_add(1.month()).unwrap();
    let day = |n: i64| next_month.checked_add(n.days()).unwrap();

    assert_eq!(daily(&app, day(13)).await.statements, 0, "the 14th: before the statement day");
    assert_eq!(daily(&app, day(14)).await.statements, 1, "the 15th: only Lee owes");
    let mail = sink.messages();
    assert_eq!(mail.len(), 1);
    assert_eq!(mail[0].to, vec!["accounts@lee.example"]);
    assert_eq!(mail[0].attachments.len(), 1);
    assert_eq!(mail[0].attachments[0].0, format!("Statement {lee}.pdf"));
    assert!(mail[0].attachments[0].1.starts_with(b"%PDF"));
    // Later runs that month send nothing new.
    daily(&app, day(14)).await;
    daily(&app, day(20)).await;
    assert_eq!(sink.messages().len(), 1);
    // The month after, no run happened on the 15th: the first run after it sends them.
    let month_after = next_month.checked_add(1.month()).unwrap();
    assert_eq!(daily(&app, month_after.checked_add(17.days()).unwrap()).await.statements, 1);
    assert_eq!(sink.messages().len(), 2);
});

both_backends!(on_the_customer_s_emails_staff_see_a_held_email_with_its_reason_and_send_or_cancel_it, |app| {
    let Some(sink) = SmtpSink::start() else { return };
    set_up(&app, &sink, json!({"invoice_email": true})).await;
    let lee = customer(&app, "Lee", json!({"auto_comms_paused": true})).await;
    invoice(&app, &lee, 10_000).await;
    invoice(&app, &lee, 20_000).await;
    work(&app).await;
    let held = emails(&app, &lee).await;
    assert_eq!(held.len(), 2);
    let (first, second) = (held[1]["id"].as_str().unwrap().to_owned(), held[0]["id"].as_str().unwrap().to_owned());

    app.user("office").await;
    let cookie = app.session("office").await;
    let here = format!("/customers/{lee}?tab=timeline&group=communication&channel=email");
    let (status, html) = app.page(Some(&cookie), &here).await;
    assert_eq!(status, StatusCode::OK);
    assert!(html.contains("held: Automated messages are paused"), "{html}");
    assert!(html.contains(&format!("action=\"/messages/{first}/send\"")), "{html}");
    assert!(html.contains(&format!("action=\"/messages/{second}/cancel-sending\"")), "{html}");

    let (status, location, _) = app.form(&cookie, &format!("/messages/{first}/send"), &[("back", &here)]).await;
    assert_eq!((status, location.as_str()), (StatusCode::SEE_OTHER, here.as_str()));
    let (status, _, _) = app.form(&cookie, &format!("/messages/{second}/cancel-sending"), &[("back", &here)]).await;
    assert_eq!(status, StatusCode::SEE_OTHER);
    work(&app).await;
    assert_eq!(sink.messages().len(), 1, "the one sent now went; the cancelled one did not");
    let (_, html) = app.page(Some(&cookie), &here).await;
    assert!(html.contains("cancelled: cancelled by"), "{html}");
    assert!(!html.contains("Send now"), "nothing is held any more: {html}");

    // A fieldworker has no such buttons (they send no email).
    app.user("fieldworker").await;
    let fieldworker = app.session("fieldworker").await;
    let (_, html) = app.page(Some(&fieldworker), &here).await;
    assert!(!html.contains("cancel-sending"), "{html}");
});

both_backends!(on_the_customer_form_staff_pause_automated_mail_and_record_an_opt_out_and_the_sends_follow, |app| {
    let Some(sink) = SmtpSink::start() else { return };
    set_up(&app, &sink, json!({"invoice_email": true})).await;
    let lee = customer(&app, "Lee", json!({})).await;
    app.user("office").await;
    let cookie = app.session("office").await;
    let (status, html) = app.page(Some(&cookie), &format!("/customers/{lee}/edit")).await;
    assert_eq!(status, StatusCode::OK);
    assert!(html.contains("name=\"comm_email_billing\""), "{html}");
    assert!(html.contains("name=\"auto_comms_paused\""), "{html}");

    // Every box of the default preferences ticked but marketing; paused until a day.
    let until = today(&app).checked_add(10.days()).unwrap().to_string();
    let mut form: Vec<(String, String)> = vec![
        ("kind".into(), "individual".into()),
        ("given_name".into(), "Ann".into()),
        ("family_name".into(), "Lee".into()),
        ("email".into(), "lee@home.example".into()),
        ("auto_comms_paused".into(), "on".into()),
        ("auto_comms_paused_until".into(), until.clone()),
    ];
    for channel in ["email", "sms", "phone", "whatsapp", "post"] {
        for purpose in ["service", "billing"] {
            form.push((format!("comm_{channel}_{purpose}"), "on".into()));
        }
    }
    let fields = |form: &[(String, String)]| form.iter().map(|(k, v)| (k.clone(), v.clone())).collect::<Vec<_>>();
    let send = |form: Vec<(String, String)>| {
        let (app, cookie, lee) = (&app, &cookie, &lee);
        async move {
            let pairs: Vec<(&str, &str)> = form.iter().map(|(k, v)| (k.as_str(), v.as_str())).collect();
            app.form(cookie, &format!("/customers/{lee}/edit"), &pairs).await
        }
    };
    let (status, _, body) = send(fields(&form)).await;
    assert_eq!(status, StatusCode::SEE_OTHER, "{body}");
    let (_, customer) = app.get(&format!("/customers/{lee}")).await;
    assert_eq!(customer["auto_comms_paused"], true);
    assert_eq!(customer["auto_comms_paused_until"], until);
    assert_eq!(customer["communication"]["email"], json!({"service": true, "billing": true, "marketing": false}));

    invoice(&app, &lee, 10_000).await;
    work(&app).await;
    assert_eq!(sink.messages().len(), 0, "paused: held");
    assert_eq!(emails(&app, &lee).await[0]["delivery"]["status"], "held");

    // A bad date is shown next to its field and changes nothing.
    let mut bad = fields(&form);
    bad.retain(|(k, _)| k != "auto_comms_paused");
    bad.iter_mut().filter(|(k, _)| k == "auto_comms_paused_until").for_each(|(_, v)| *v = "next week".into());
    let (status, _, html) = send(bad).await;
    assert_eq!(status, StatusCode::UNPROCESSABLE_ENTITY, "{html}");
    assert!(html.contains("Must be a date, e.g. 2027-01-31"), "{html}");
    assert_eq!(app.get(&format!("/customers/{lee}")).await.1["auto_comms_paused"], true);

    // Unpaused on the form: the held invoice goes.
    let mut unpaused = fields(&form);
    unpaused.retain(|(k, _)| !k.starts_with("auto_comms"));
    let (status, _, _) = send(unpaused.clone()).await;
    assert_eq!(status, StatusCode::SEE_OTHER);
    work(&app).await;
    assert_eq!(sink.messages().len(), 1, "released when unpaused");

    // Billing email unticked: the next invoice is not emailed, and staff see why.
    unpaused.retain(|(k, _)| k != "comm_email_billing");
    send(unpaused).await;
    invoice(&app, &lee, 20_000).await;
    work(&app).await;
    assert_eq!(sink.messages().len(), 1, "opted out of billing email on the form");
    let (_, html) = app.page(Some(&cookie), &format!("/customers/{lee}?tab=timeline")).await;
    assert!(html.contains("Invoice email not sent: The customer opted out of billing messages by email"), "{html}");
});

both_backends!(a_contact_s_own_opt_out_stops_email_to_that_contact_manual_and_automated, |app| {
    let Some(sink) = SmtpSink::start() else { return };
    set_up(&app, &sink, json!({"invoice_email": true})).await;
    let lee = customer(&app, "Lee", json!({})).await;
    let (_, contacts) = app.get(&format!("/customers/{lee}/contacts")).await;
    let bo = contacts["items"].as_array().map_or_else(|| contacts[0].clone(), |items| items[0].clone());
    let bo_id = bo["id"].as_str().unwrap().to_owned();

    // On the contact's form: own preferences, billing email unticked.
    app.user("office").await;
    let cookie = app.session("office").await;
    let (status, html) = app.page(Some(&cookie), &format!("/contacts/{bo_id}/edit")).await;
    assert_eq!(status, StatusCode::OK);
    assert!(html.contains("name=\"own_communication\""), "{html}");
    let mut form = vec![("family_name", "Lee"), ("given_name", "Bo"), ("email", "accounts@lee.example"), ("is_billing", "on"), ("own_communication", "on")];
    form.extend([("comm_email_service", "on"), ("comm_sms_service", "on"), ("comm_sms_billing", "on")]);
    let (status, _, body) = app.form(&cookie, &format!("/contacts/{bo_id}/edit"), &form).await;
    assert_eq!(status, StatusCode::SEE_OTHER, "{body}");
    let (_, contact) = app.get(&format!("/contacts/{bo_id}")).await;
    assert_eq!(contact["communication"]["email"], json!({"service": true, "billing": false, "marketing": false}), "{contact}");

    // Staff emailing Bo about money are refused, naming Bo; the customer's own address is fine.
    let (status, problem) = app
        .post(&format!("/customers/{lee}/emails"), json!({"to": ["accounts@lee.example"], "subject": "Your bill", "body": "Hello", "purpose": "billing"}))
        .await;
    assert_eq!(status, StatusCode::UNPROCESSABLE_ENTITY, "{problem}");
    assert!(problem.to_string().contains("Bo Lee opted out of billing messages by email"), "{problem}");
    let (status, body) =
        app.post(&format!("/customers/{lee}/emails"), json!({"to": ["lee@home.example"], "subject": "Your bill", "body": "Hello", "purpose": "billing"})).await;
    assert_eq!(status, StatusCode::CREATED, "{body}");

    // The automated invoice email to Bo, the billing contact, does not go, and says why.
    invoice(&app, &lee, 10_000).await;
    work(&app).await;
    let mail = sink.messages();
    assert_eq!(mail.len(), 1, "only the manual email to the customer's own address: {mail:?}");
    let not_sent = entries(&app, &lee, "message.not_sent").await;
    assert_eq!(not_sent[0]["summary"], "Invoice email not sent: Bo Lee opted out of billing messages by email");
});

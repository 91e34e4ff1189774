//! Receiving email: a reply lands on the customer and record of the message
//! it answers, a contact's mail on their customer, an unknown sender's in
//! the inbox until staff assign it; the same mail twice is stored once;
//! attachments become files; a bounce marks the sent message bounced;
//! hostile mail is refused or read without a panic or a half-written
//! record. The HTTP hook takes only the org's inbound secret. Both
//! backends; the `dossier mail ingest` pipe on SQLite.

mod common;

use axum::body::Body;
use axum::http::{Method, Request, StatusCode};
use common::TestApp;
use serde_json::{Value, json};

/// Standard base64 (the tests write attachments into raw mails).
fn base64(bytes: &[u8]) -> String {
    const TABLE: &[u8; 64] = b"ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789+/";
    let mut out = String::new();
    for chunk in bytes.chunks(3) {
        let b = [chunk[0], *chunk.get(1).unwrap_or(&0), *chunk.get(2).unwrap_or(&0)];
        let n = (u32::from(b[0]) << 16) | (u32::from(b[1]) << 8) | u32::from(b[2]);
        for i in 0..4 {
            if i <= chunk.len() {
                out.push(TABLE[(n >> (18 - 6 * i) & 63) as usize] as char);
            } else {
                out.push('=');
            }
        }
    }
    out
}

/// A plain mail from `from` with these extra headers.
fn mail(from: &str, id: &str, extra: &str, body: &str) -> String {
    format!(
        "From: {from}\r\nTo: office@test.example\r\nSubject: About the visit\r\nMessage-ID: <{id}>\r\nDate: Mon, 07 Dec 2026 09:30:00 +0000\r\n{extra}\
         MIME-Version: 1.0\r\nContent-Type: text/plain; charset=utf-8\r\n\r\n{body}\r\n"
    )
}

/// A mail with a text part and these attachments (name, content).
fn mail_with_files(from: &str, id: &str, files: &[(&str, &[u8])]) -> String {
    let mut raw = format!(
        "From: {from}\r\nTo: office@test.example\r\nSubject: Photos\r\nMessage-ID: <{id}>\r\nMIME-Version: 1.0\r\n\
         Content-Type: multipart/mixed; boundary=\"part\"\r\n\r\n--part\r\nContent-Type: text/plain\r\n\r\nSee attached.\r\n"
    );
    for (name, content) in files {
        raw.push_str(&format!(
            "--part\r\nContent-Type: application/octet-stream; name=\"{name}\"\r\nContent-Disposition: attachment; filename=\"{name}\"\r\n\
             Content-Transfer-Encoding: base64\r\n\r\n{}\r\n",
            base64(content)
        ));
    }
    raw.push_str("--part--\r\n");
    raw
}

/// A new inbound secret, made by the admin through the API.
async fn secret(app: &TestApp) -> String {
    let (status, made) = app.post("/org/inbound-secret", json!({})).await;
    assert_eq!(status, StatusCode::CREATED, "{made}");
    made["secret"].as_str().unwrap().to_owned()
}

/// Hand a raw mail to the HTTP hook with `secret`.
async fn deliver(app: &TestApp, secret: Option<&str>, raw: impl Into<Vec<u8>>) -> (StatusCode, Value) {
    let mut request = Request::builder().method(Method::POST).uri("/api/v1/inbound/email").header("content-type", "message/rfc822");
    if let Some(secret) = secret {
        request = request.header("authorization", format!("Bearer {secret}"));
    }
    let (status, headers, json) = TestApp::send(&app.router, request.body(Body::from(raw.into())).unwrap()).await;
    if status.is_client_error() || status.is_server_error() {
        assert_eq!(headers.get("content-type").map(|v| v.to_str().unwrap()), Some("application/problem+json"), "{status}: {json}");
    }
    (status, json)
}

/// Messages, files and inbox items stored: what a refused mail must not change.
async fn stored(app: &TestApp) -> (i64, i64, i64) {
    (app.count("message").await, app.count("file").await, app.count("inbox_item").await)
}

/// A message of customer `customer` as if Dossier had sent it by email with
/// this Message-ID (the sending side sets it; here a test-only update).
async fn sent_email(app: &TestApp, customer: &str, body: Value, message_id: &str) -> Value {
    let (status, message) = app.post(&format!("/customers/{customer}/messages"), body).await;
    assert_eq!(status, StatusCode::CREATED, "{message}");
    let text = message["body"].as_str().unwrap().replace('\'', "''");
    let updated = app
        .db
        .execute_raw(&format!("UPDATE message SET email_message_id = '{message_id}', delivery_status = 'sent', delivery_updated_at = 1 WHERE body = '{text}'"))
        .await
        .unwrap();
    assert_eq!(updated, 1);
    message
}

async fn kinds(app: &TestApp, path: &str) -> Vec<(String, String)> {
    let (status, page) = app.get(path).await;
    assert_eq!(status, StatusCode::OK, "{page}");
    page["items"].as_array().unwrap().iter().map(|e| (e["kind"].as_str().unwrap().to_owned(), e["summary"].as_str().unwrap().to_owned())).collect()
}

both_backends!(a_reply_lands_on_the_customer_and_record_of_the_message_it_answers_once, |app| {
    let ann = app.customer(json!({"given_name": "Ann", "family_name": "Lee"})).await;
    app.customer(json!({"given_name": "Other", "family_name": "Person"})).await;
    let (_, job) = app.post("/jobs", json!({"customer": "CUS-00001", "title": "Boiler service"})).await;
    let job_code = job["code"].as_str().unwrap();
    let body = json!({"channel": "email", "direction": "outbound", "visibility": "customer", "body": "Your visit is on Tuesday",
        "record_type": "job", "record": job_code});
    sent_email(&app, "CUS-00001", body, "sent-1@test.example").await;
    let secret = secret(&app).await;

    // From an address nobody has: the thread decides.
    let reply = mail("Neighbour <neighbour@elsewhere.example>", "reply-1@elsewhere.example", "In-Reply-To: <sent-1@test.example>\r\n", "Tuesday is fine.");
    let (status, done) = deliver(&app, Some(&secret), reply.clone()).await;
    assert_eq!(status, StatusCode::CREATED, "{done}");
    assert_eq!(done["outcome"], "received");
    let message = &done["message"];
    assert_eq!(message["customer_id"], ann["id"]);
    assert_eq!(
        (message["channel"].as_str(), message["direction"].as_str(), message["visibility"].as_str()),
        (Some("email"), Some("inbound"), Some("customer"))
    );
    assert_eq!(message["record"]["code"], job_code, "the reply concerns the same record");
    assert_eq!(message["author"]["type"], "customer");
    assert_eq!(message["author"]["name"], "Neighbour <neighbour@elsewhere.example>");
    assert_eq!(message["subject"], "About the visit");
    assert_eq!(message["body"], "Tuesday is fine.");
    assert_eq!(message["occurred_at"], "2026-12-07T09:30:00Z");
    assert_eq!(message["recipients"], json!({"to": ["office@test.example"], "from": "neighbour@elsewhere.example"}));
    let timeline = kinds(&app, "/customers/CUS-00001/timeline?group=communication").await;
    assert_eq!(timeline[0], ("message.received".into(), "Email from neighbour@elsewhere.example received: About the visit".into()));
    assert!(kinds(&app, &format!("/jobs/{job_code}/timeline")).await.iter().any(|(k, _)| k == "message.received"));
    assert!(kinds(&app, "/customers/CUS-00002/timeline").await.iter().all(|(k, _)| k != "message.received"));

    // The same mail again (a server retrying): nothing new, the same message.
    let before = stored(&app).await;
    let (status, again) = deliver(&app, Some(&secret), reply).await;
    assert_eq!(status, StatusCode::OK, "{again}");
    assert_eq!((again["outcome"].as_str(), &again["message"]["id"]), (Some("already_received"), &message["id"]));
    assert_eq!(stored(&app).await, before);

    // A reply (by References) to an internal note lands on the customer, among staff only.
    sent_email(&app, "CUS-00001", json!({"channel": "note", "body": "Ask about the gate code"}), "note-1@test.example").await;
    let to_note = mail("ann@example.com", "reply-2@example.com", "References: <unknown@x.example> <note-1@test.example>\r\n", "It is 1234");
    let (status, done) = deliver(&app, Some(&secret), to_note).await;
    assert_eq!(status, StatusCode::CREATED, "{done}");
    assert_eq!((&done["message"]["customer_id"], done["message"]["visibility"].as_str()), (&ann["id"], Some("internal")));
});

both_backends!(mail_from_a_contacts_or_customers_address_lands_on_that_customer, |app| {
    app.customer(json!({"kind": "business", "business_name": "Acme Ltd"})).await;
    let (_, contact) =
        app.post("/customers/CUS-00001/contacts", json!({"given_name": "Bo", "family_name": "Lee", "emails": [{"address": "bo@acme.example"}]})).await;
    let cy = app.customer(json!({"given_name": "Cy", "family_name": "Young", "email": "cy@young.example"})).await;
    let secret = secret(&app).await;

    let (status, done) = deliver(&app, Some(&secret), mail("Bo Lee <BO@Acme.Example>", "bo-1@acme.example", "", "Please call me back.")).await;
    assert_eq!(status, StatusCode::CREATED, "{done}");
    assert_eq!(done["outcome"], "received");
    assert_eq!(done["message"]["contact_id"], contact["id"]);
    let (_, acme) = app.get("/customers/CUS-00001").await;
    assert_eq!(done["message"]["customer_id"], acme["id"]);
    let (status, done) = deliver(&app, Some(&secret), mail("cy@young.example", "cy-1@young.example", "", "Hello")).await;
    assert_eq!(status, StatusCode::CREATED, "{done}");
    assert_eq!((&done["message"]["customer_id"], &done["message"]["contact_id"]), (&cy["id"], &Value::Null));

    // An address two customers share decides nothing: the inbox.
    app.post("/customers/CUS-00002/contacts", json!({"family_name": "Lee", "emails": [{"address": "bo@acme.example"}]})).await;
    let (status, done) = deliver(&app, Some(&secret), mail("bo@acme.example", "bo-2@acme.example", "", "Which of you?")).await;
    assert_eq!(status, StatusCode::CREATED, "{done}");
    assert_eq!(done["outcome"], "unmatched");
    assert_eq!(done["inbox_item"]["reason"], "several customers have this address");
});

both_backends!(an_unknown_senders_mail_waits_in_the_inbox_until_assigned_once, |app| {
    let ann = app.customer(json!({"given_name": "Ann", "family_name": "Lee"})).await;
    let secret = secret(&app).await;
    let raw = mail_with_files("Stranger <stranger@nowhere.example>", "stranger-1@nowhere.example", &[("photo.png", common::PNG)]);
    let (status, done) = deliver(&app, Some(&secret), raw.clone()).await;
    assert_eq!(status, StatusCode::CREATED, "{done}");
    assert_eq!(done["outcome"], "unmatched");
    assert_eq!(app.count("message").await, 0);
    let (status, inbox) = app.get("/inbox").await;
    assert_eq!(status, StatusCode::OK, "{inbox}");
    let item = &inbox["items"][0];
    assert_eq!(
        (item["from_address"].as_str(), item["subject"].as_str(), item["reason"].as_str(), item["excerpt"].as_str(), item["status"].as_str()),
        (Some("stranger@nowhere.example"), Some("Photos"), Some("no customer or contact has this address"), Some("See attached."), Some("open"))
    );
    let id = item["id"].as_str().unwrap();

    let (status, problem) = app.post(&format!("/inbox/{id}/assign"), json!({"customer": "CUS-09999"})).await;
    assert_eq!(
        (status, problem["field"].as_str(), problem["errors"][0]["code"].as_str()),
        (StatusCode::UNPROCESSABLE_ENTITY, Some("customer"), Some("not_found"))
    );
    let (status, assigned) = app.post(&format!("/inbox/{id}/assign"), json!({"customer": "CUS-00001"})).await;
    assert_eq!(status, StatusCode::CREATED, "{assigned}");
    assert_eq!(assigned["message"]["customer_id"], ann["id"]);
    assert_eq!(assigned["message"]["author"]["name"], "Stranger <stranger@nowhere.example>");
    assert_eq!((assigned["inbox_item"]["status"].as_str(), &assigned["inbox_item"]["assigned_message_id"]), (Some("assigned"), &assigned["message"]["id"]));
    let timeline = kinds(&app, "/customers/CUS-00001/timeline?group=communication").await;
    assert!(
        timeline.contains(&("message.received".into(), "Email from stranger@nowhere.example received, assigned from the inbox by Ada Admin: Photos".into())),
        "{timeline:?}"
    );
    let (_, files) = app.get("/customers/CUS-00001/files").await;
    assert_eq!(files["items"].as_array().unwrap().len(), 1, "{files}");
    assert_eq!((files["items"][0]["name"].as_str(), &files["items"][0]["message_id"]), (Some("photo.png"), &assigned["message"]["id"]));

    // Once is enough: a second assignment is refused, and so is the same mail again.
    let (status, problem) = app.post(&format!("/inbox/{id}/assign"), json!({"customer": "CUS-00001"})).await;
    assert_eq!((status, problem["code"].as_str()), (StatusCode::CONFLICT, Some("inbox_item_decided")));
    let before = stored(&app).await;
    let (status, again) = deliver(&app, Some(&secret), raw).await;
    assert_eq!((status, again["outcome"].as_str(), &again["message"]["id"]), (StatusCode::OK, Some("already_received"), &assigned["message"]["id"]));
    assert_eq!(stored(&app).await, before);
    let (_, open) = app.get("/inbox").await;
    assert_eq!(open["items"], json!([]));

    // Another is dismissed: on the org's log, no longer open.
    deliver(&app, Some(&secret), mail("spam@nowhere.example", "spam-1@nowhere.example", "", "Buy now")).await;
    let (_, open) = app.get("/inbox").await;
    let spam = open["items"][0]["id"].as_str().unwrap().to_owned();
    let (status, dismissed) = app.post(&format!("/inbox/{spam}/dismiss"), json!({})).await;
    assert_eq!((status, dismissed["status"].as_str()), (StatusCode::OK, Some("dismissed")));
    assert!(app.log_kinds(&app.org).await.contains(&"inbox.dismissed".to_owned()));
    let (_, listed) = app.get("/inbox?status=dismissed").await;
    assert_eq!(listed["items"][0]["id"], spam.as_str());
    let (status, _) = app.post(&format!("/inbox/{spam}/assign"), json!({"customer": "CUS-00001"})).await;
    assert_eq!(status, StatusCode::CONFLICT);

    // A fieldworker does not work the inbox.
    let (_, fieldworker) = app.user("fieldworker").await;
    let (status, _) = app.call_as(Some(&fieldworker), Method::GET, "/inbox", None).await;
    assert_eq!(status, StatusCode::FORBIDDEN);
});

both_backends!(attachments_become_files_of_the_customer_with_the_message, |app| {
    app.customer(json!({"given_name": "Ann", "family_name": "Lee", "email": "ann@example.com"})).await;
    let secret = secret(&app).await;
    let raw = mail_with_files("ann@example.com", "files-1@example.com", &[("boiler.png", common::PNG), ("page.html", b"<html><script>x</script></html>")]);
    let (status, done) = deliver(&app, Some(&secret), raw).await;
    assert_eq!(status, StatusCode::CREATED, "{done}");
    assert_eq!(done["files"].as_array().unwrap().len(), 1, "{done}");
    assert_eq!((done["files"][0]["name"].as_str(), &done["files"][0]["message_id"]), (Some("boiler.png"), &done["message"]["id"]));
    assert_eq!(done["files"][0]["uploaded_by"]["type"], "customer");
    let body = done["message"]["body"].as_str().unwrap();
    assert!(body.starts_with("See attached.") && body.contains("[Attachment page.html was not kept"), "{body}");
    let (_, files) = app.get("/customers/CUS-00001/files").await;
    assert_eq!(files["items"].as_array().unwrap().len(), 1);
    let timeline = kinds(&app, "/customers/CUS-00001/timeline?group=communication").await;
    assert!(timeline.iter().any(|(k, _)| k == "file.attached"), "{timeline:?}");
});

both_backends!(the_hook_takes_only_the_orgs_current_inbound_secret, |app| {
    app.customer(json!({"given_name": "Ann", "family_name": "Lee", "email": "ann@example.com"})).await;
    let raw = mail("ann@example.com", "auth-1@example.com", "", "Hello");
    let before = stored(&app).await;
    let old = secret(&app).await;
    assert!(old.starts_with("dsm_"), "{old}");
    let new = secret(&app).await;
    let wrong = format!("{}x", &new[..new.len() - 1]);
    for token in [None, Some(wrong.as_str()), Some(old.as_str()), Some(app.token.as_str()), Some("dsm_nonsense")] {
        let (status, problem) = deliver(&app, token, raw.clone()).await;
        assert_eq!((status, problem["code"].as_str()), (StatusCode::UNAUTHORIZED, Some("unauthenticated")), "{token:?}");
    }
    assert_eq!(stored(&app).await, before, "nothing was stored");
    let (status, _) = deliver(&app, Some(&new), raw).await;
    assert_eq!(status, StatusCode::CREATED);
    // Making one is for admins; the answer is the only time it is shown.
    let (_, office) = app.user("office").await;
    let (status, _) = app.call_as(Some(&office), Method::POST, "/org/inbound-secret", Some(json!({}))).await;
    assert_eq!(status, StatusCode::FORBIDDEN);
    let kinds = app.log_kinds(&app.org).await;
    assert!(kinds.iter().filter(|k| *k == "org.settings_changed").count() >= 2);
});

both_backends!(hostile_mail_is_refused_or_read_without_a_panic_or_a_half_written_record, |app| {
    app.customer(json!({"given_name": "Ann", "family_name": "Lee", "email": "ann@example.com"})).await;
    let secret = secret(&app).await;

    // 26 MiB: refused before it is parsed.
    let before = stored(&app).await;
    let huge = format!("From: ann@example.com\r\nSubject: big\r\n\r\n{}", "a".repeat(26 * 1024 * 1024));
    let (status, problem) = deliver(&app, Some(&secret), huge).await;
    assert_eq!((status, problem["code"].as_str()), (StatusCode::PAYLOAD_TOO_LARGE, Some("too_large")));
    assert_eq!(stored(&app).await, before);

    // MIME parts nested 50 deep.
    let mut nested =
        String::from("From: ann@example.com\r\nSubject: deep\r\nMessage-ID: <deep@example.com>\r\nContent-Type: multipart/mixed; boundary=\"b0\"\r\n\r\n");
    for i in 1..50 {
        nested.push_str(&format!("--b{}\r\nContent-Type: multipart/mixed; boundary=\"b{i}\"\r\n\r\n", i - 1));
    }
    nested.push_str("--b49\r\nContent-Type: text/plain\r\n\r\ndeep inside\r\n");
    for i in (0..50).rev() {
        nested.push_str(&format!("--b{i}--\r\n"));
    }
    let (status, problem) = deliver(&app, Some(&secret), nested).await;
    assert_eq!((status, problem["code"].as_str()), (StatusCode::UNPROCESSABLE_ENTITY, Some("too_nested")));
    assert_eq!(stored(&app).await, before);

    // Nothing that reads as a mail.
    let (status, problem) = deliver(&app, Some(&secret), "\r\n\r\n").await;
    assert_eq!((status, problem["code"].as_str()), (StatusCode::UNPROCESSABLE_ENTITY, Some("unreadable_mail")));

    // A bogus charset, broken headers and stray bytes: whatever is kept is whole.
    let mut bogus = b"From: =?x-bogus?Q?Ann?= <ann@example.com\r\nSubject: =?no-such-charset?B?////?=\r\nMessage-ID: <<<bogus\r\n\
        Date: the day after tomorrow\r\nContent-Type: text/plain; charset=\"x-unknown-9\"\r\nContent-Transfer-Encoding: quoted-printable\r\n\
        Broken header without colon\r\n\r\nCaf=E9 =ZZ \xff\xfe\x00 end\r\n"
        .to_vec();
    bogus.extend_from_slice(&[0x80, 0x81, b'\r', b'\n']);
    let (status, done) = deliver(&app, Some(&secret), bogus).await;
    let after = stored(&app).await;
    match status {
        StatusCode::CREATED => {
            let grew = (after.0 - before.0) + (after.2 - before.2);
            assert_eq!(grew, 1, "exactly one message or inbox item: {done}");
            assert_eq!(after.1, before.1);
        }
        status => {
            assert!(status.is_client_error(), "{status}: {done}");
            assert_eq!(after, before);
        }
    }

    // Headers and no body at all.
    let before = stored(&app).await;
    let (status, done) = deliver(&app, Some(&secret), "From: ann@example.com\r\nSubject: Just a subject\r\nMessage-ID: <empty@example.com>\r\n").await;
    assert_eq!(status, StatusCode::CREATED, "{done}");
    assert_eq!((done["outcome"].as_str(), done["message"]["subject"].as_str()), (Some("received"), Some("Just a subject")));
    assert_eq!(done["message"]["body"], "(This email had no text.)");
    assert_eq!(stored(&app).await, (before.0 + 1, before.1, before.2));

    // An unknown charset's bytes are read lossily and the message kept.
    let latin = b"From: ann@example.com\r\nMessage-ID: <latin@example.com>\r\nContent-Type: text/plain; charset=iso-8859-1\r\n\r\nCaf\xe9 ol\xe9\r\n".to_vec();
    let (status, done) = deliver(&app, Some(&secret), latin).await;
    assert_eq!(status, StatusCode::CREATED, "{done}");
    assert_eq!(done["message"]["body"], "Café olé");
});

both_backends!(a_bounce_for_a_sent_message_marks_it_bounced_with_the_servers_answer, |app| {
    app.customer(json!({"given_name": "Ann", "family_name": "Lee"})).await;
    let body = json!({"channel": "email", "direction": "outbound", "visibility": "customer", "body": "Your invoice is attached"});
    let sent = sent_email(&app, "CUS-00001", body, "invoice-7@test.example").await;
    let secret = secret(&app).await;
    let dsn = "From: Mail Delivery System <MAILER-DAEMON@mx.example>\r\nTo: office@test.example\r\nSubject: Undelivered Mail Returned to Sender\r\n\
        Message-ID: <dsn-1@mx.example>\r\nMIME-Version: 1.0\r\nContent-Type: multipart/report; report-type=delivery-status; boundary=\"r\"\r\n\r\n\
        --r\r\nContent-Type: text/plain\r\n\r\nI'm sorry to have to inform you that your message could not be delivered.\r\n\
        --r\r\nContent-Type: message/delivery-status\r\n\r\nReporting-MTA: dns; mx.example\r\n\r\nFinal-Recipient: rfc822; gone@example.com\r\n\
        Action: failed\r\nStatus: 5.1.1\r\nDiagnostic-Code: smtp; 550 5.1.1 <gone@example.com>: Recipient address rejected\r\n\r\n\
        --r\r\nContent-Type: message/rfc822\r\n\r\nFrom: office@test.example\r\nTo: gone@example.com\r\nSubject: Your invoice\r\n\
        Message-ID: <invoice-7@test.example>\r\n\r\nYour invoice is attached\r\n--r--\r\n";
    let before = stored(&app).await;
    let (status, done) = deliver(&app, Some(&secret), dsn).await;
    assert_eq!(status, StatusCode::CREATED, "{done}");
    assert_eq!((done["outcome"].as_str(), &done["message"]["id"]), (Some("bounced"), &sent["id"]));
    assert_eq!(stored(&app).await, before, "a bounce is not a received message");
    let (_, message) = app.get(&format!("/messages/{}", sent["id"].as_str().unwrap())).await;
    assert_eq!(message["delivery"]["status"], "bounced");
    assert_eq!(message["delivery"]["detail"], "550 5.1.1 <gone@example.com>: Recipient address rejected");
    let timeline = kinds(&app, "/customers/CUS-00001/timeline?kind=message.bounced").await;
    assert_eq!(timeline.len(), 1, "{timeline:?}");
});

/// `dossier mail ingest` as a mail server's pipe runs it: the mail on
/// standard input, exit 0 when stored, 65 with one line when refused.
#[test]
fn a_mail_piped_into_dossier_mail_ingest_lands_on_the_customer() {
    use std::io::Write;
    use std::process::{Command, Stdio};
    let dir = tempfile::tempdir().unwrap();
    let db_path = dir.path().join("dossier.db");
    let run = |args: &[&str], stdin: &[u8]| {
        let mut child = Command::new(env!("CARGO_BIN_EXE_dossier"))
            .args(args)
            .arg("--db")
            .arg(&db_path)
            .env_remove("DOSSIER_DATABASE_URL")
            .env("DOSSIER_LOG", "warn")
            .stdin(Stdio::piped())
            .stdout(Stdio::piped())
            .stderr(Stdio::piped())
            .spawn()
            .unwrap();
        child.stdin.take().unwrap().write_all(stdin).unwrap();
        child.wait_with_output().unwrap()
    };
    let added = run(&["user", "add", "--email", "ops@example.com", "--name", "Olu Ops", "--role", "admin", "--org-name", "Acme"], b"a long enough password\n");
    assert!(added.status.success(), "{}", String::from_utf8_lossy(&added.stderr));
    let runtime = tokio::runtime::Builder::new_current_thread().enable_all().build().unwrap();
    let ctx = runtime.block_on(async {
        let db = dossier_service::Db::connect(db_path.to_str().unwrap()).await.unwrap();
        let org = dossier_service::orgs::single(&db).await.unwrap();
        let ctx = dossier_service::Ctx::system(org, "Test");
        let input = serde_json::from_value(json!({"given_name": "Ann", "family_name": "Lee", "email": "ann@example.com"})).unwrap();
        dossier_service::customers::create_customer(&db, &ctx, input).await.unwrap();
        db.close().await;
        ctx
    });

    let piped = run(&["mail", "ingest", "--org", "Acme"], mail("Ann Lee <ann@example.com>", "piped-1@example.com", "", "Sent from my phone").as_bytes());
    assert!(piped.status.success(), "{}", String::from_utf8_lossy(&piped.stderr));
    assert!(String::from_utf8_lossy(&piped.stdout).starts_with("received: message"), "{}", String::from_utf8_lossy(&piped.stdout));
    let again = run(&["mail", "ingest", "--org", "Acme"], mail("Ann Lee <ann@example.com>", "piped-1@example.com", "", "Sent from my phone").as_bytes());
    assert!(again.status.success());
    assert!(String::from_utf8_lossy(&again.stdout).starts_with("already received"));
    let refused = run(&["mail", "ingest", "--org", "Acme"], b"");
    assert_eq!(refused.status.code(), Some(65));
    let said = String::from_utf8_lossy(&refused.stderr);
    assert_eq!(said.lines().count(), 1, "{said}");
    assert!(said.starts_with("refused (unreadable_mail)"), "{said}");

    runtime.block_on(async {
        let db = dossier_service::Db::connect(db_path.to_str().unwrap()).await.unwrap();
        let page = dossier_service::messages::list_messages(&db, &ctx, "CUS-00001", Default::default()).await.unwrap();
        assert_eq!(page.items.len(), 1);
        assert_eq!((page.items[0].body.as_str(), page.items[0].direction.as_str()), ("Sent from my phone", "inbound"));
        db.close().await;
    });
}

both_backends!(staff_assign_unmatched_mail_on_the_inbox_page_and_admins_make_the_secret_there, |app| {
    let ann = app.customer(json!({"given_name": "Ann", "family_name": "Lee"})).await;
    app.user("office").await;
    app.user("fieldworker").await;
    let office = app.session("office").await;
    let admin = {
        app.user("owner").await;
        app.session("owner").await
    };

    // The secret: made on the settings page, shown once with how to use it.
    let (status, html) = app.page(Some(&admin), "/settings/inbound-email").await;
    assert_eq!(status, StatusCode::OK);
    assert!(html.contains("No secret has been made yet") && html.contains("dossier mail ingest --org"), "{html}");
    let (status, _, html) = app.form(&admin, "/settings/inbound-email", &[]).await;
    assert_eq!(status, StatusCode::OK);
    let secret = html.split("copy it now: <code>").nth(1).and_then(|s| s.split("</code>").next()).unwrap_or_default().to_owned();
    assert!(secret.starts_with("dsm_"), "{html}");
    let (_, html) = app.page(Some(&admin), "/settings/inbound-email").await;
    assert!(!html.contains(&secret), "shown once");
    let (status, _) = app.page(Some(&office), "/settings/inbound-email").await;
    assert_eq!(status, StatusCode::FORBIDDEN);

    deliver(&app, Some(&secret), mail("Stranger <stranger@nowhere.example>", "page-1@nowhere.example", "", "Can you quote for a new boiler?")).await;
    let (status, html) = app.page(Some(&office), "/inbox").await;
    assert_eq!(status, StatusCode::OK);
    assert!(html.contains("href=\"/inbox\""), "the nav links the inbox");
    assert!(html.contains("Stranger &#60;stranger@nowhere.example&#62;") && html.contains("Can you quote for a new boiler?"), "{html}");
    assert!(html.contains("no customer or contact has this address"));
    let (_, page) = app.get("/inbox").await;
    let id = page["items"][0]["id"].as_str().unwrap().to_owned();

    let (status, _, html) = app.form(&office, &format!("/inbox/{id}/assign"), &[("customer", "CUS-404")]).await;
    assert_eq!(status, StatusCode::UNPROCESSABLE_ENTITY);
    assert!(html.contains("No customer has the code &#39;CUS-404&#39;"), "{html}");
    assert!(html.contains("aria-invalid=\"true\""));
    let (status, location, _) = app.form(&office, &format!("/inbox/{id}/assign"), &[("customer", "CUS-00001")]).await;
    assert_eq!((status, location.as_str()), (StatusCode::SEE_OTHER, format!("/customers/{}", ann["id"].as_str().unwrap()).as_str()));
    let timeline = kinds(&app, "/customers/CUS-00001/timeline?kind=message.received").await;
    assert!(timeline[0].1.contains("assigned from the inbox by office user"), "{timeline:?}");
    let (_, html) = app.page(Some(&office), "/inbox").await;
    assert!(html.contains("No open mail."), "{html}");

    // A fieldworker has no inbox.
    let fieldworker = app.session("fieldworker").await;
    let (_, html) = app.page(Some(&fieldworker), "/my-jobs").await;
    assert!(!html.contains("href=\"/inbox\""));
    let (status, _) = app.page(Some(&fieldworker), "/inbox").await;
    assert_eq!(status, StatusCode::FORBIDDEN);
});

both_backends!(a_sweep_keeps_the_raw_mail_of_an_open_inbox_item, |app| {
    app.customer(json!({"given_name": "Ann", "family_name": "Lee"})).await;
    let secret = secret(&app).await;
    let raw = mail_with_files("stranger@nowhere.example", "sweep-1@nowhere.example", &[("photo.png", common::PNG)]);
    let (status, done) = deliver(&app, Some(&secret), raw).await;
    assert_eq!((status, done["outcome"].as_str()), (StatusCode::CREATED, Some("unmatched")));
    // Everything unnamed goes; the raw mail the item keeps does not.
    app.files.sweep(&app.db, std::time::Duration::ZERO).await.unwrap();
    let id = done["inbox_item"]["id"].as_str().unwrap();
    let (status, assigned) = app.post(&format!("/inbox/{id}/assign"), json!({"customer": "CUS-00001"})).await;
    assert_eq!(status, StatusCode::CREATED, "{assigned}");
    assert_eq!(assigned["files"][0]["name"], "photo.png");
});

//! Text messages end to end: a real HTTP server on loopback stands in for
//! the SMS provider; the worker sends what is queued; the provider's
//! signed webhooks move texts to delivered and bring texts in.

mod common;

use std::sync::{Arc, Mutex};

use axum::body::Body;
use axum::http::{HeaderMap, Request, StatusCode};
use dossier_service::sending::sms::sign;
use dossier_service::tasks::{Handlers, Worker, WorkerSettings};
use jiff::{SignedDuration, Timestamp};
use serde_json::{Value, json};

const SECRET: &str = "whsec-test-0123456789abcdef";
const API_KEY: &str = "key-live-abcdef123456";

/// What the stand-in provider received: each request's headers and JSON.
#[derive(Clone, Default)]
struct Provider {
    seen: Arc<Mutex<Vec<(HeaderMap, Value)>>>,
}

impl Provider {
    /// Serve on 127.0.0.1 (a free port): `{"id": "sm-N"}` for a number,
    /// 400 for one ending in 0000, 503 for one ending in 1111.
    async fn start() -> (Provider, String) {
        let provider = Provider::default();
        let seen = provider.seen.clone();
        let app = axum::Router::new().route(
            "/send",
            axum::routing::post(move |headers: HeaderMap, axum::Json(body): axum::Json<Value>| {
                let seen = seen.clone();
                async move {
                    let to = body["to"].as_str().unwrap_or_default().to_owned();
                    let n = {
                        let mut seen = seen.lock().unwrap();
                        seen.push((headers, body));
                        seen.len()
                    };
                    if to.ends_with("0000") {
                        (StatusCode::BAD_REQUEST, axum::Json(json!({"error": "number not reachable"})))
                    } else if to.ends_with("1111") {
                        (StatusCode::SERVICE_UNAVAILABLE, axum::Json(json!({"error": "try later"})))
                    } else {
                        (StatusCode::OK, axum::Json(json!({"id": format!("sm-{n}")})))
                    }
                }
            }),
        );
        let listener = tokio::net::TcpListener::bind("127.0.0.1:0").await.unwrap();
        let url = format!("http://{}/send", listener.local_addr().unwrap());
        tokio::spawn(async move { axum::serve(listener, app).await.unwrap() });
        (provider, url)
    }

    fn requests(&self) -> Vec<(HeaderMap, Value)> {
        self.seen.lock().unwrap().clone()
    }
}

/// An org set up to text through a stand-in provider, with a customer
/// (CUS-00001, phone 07912 345678) and its contact Bo (07912 340000, 07912
/// 341111 and 07912 346789).
async fn setup(app: &common::TestApp) -> Provider {
    let (provider, url) = Provider::start().await;
    let (status, body) = app
        .call(
            axum::http::Method::PUT,
            "/org/sms-settings",
            Some(json!({"provider_url": url, "api_key": API_KEY, "sender": "AcmePlumb", "webhook_secret": SECRET})),
        )
        .await;
    assert_eq!(status, StatusCode::OK, "{body}");
    app.customer(json!({"kind": "individual", "given_name": "Ann", "family_name": "Lee", "phone": "07912 345678"})).await;
    let (status, body) = app
        .post(
            "/customers/CUS-00001/contacts",
            json!({"given_name": "Bo", "family_name": "Lee", "phones": [{"number": "07912 340000"}, {"number": "07912 341111"}, {"number": "07912 346789"}]}),
        )
        .await;
    assert_eq!(status, StatusCode::CREATED, "{body}");
    provider
}

fn worker(app: &common::TestApp) -> Worker<Handlers> {
    Worker::new(app.db.clone(), Handlers::default(), WorkerSettings::default())
}

async fn message(app: &common::TestApp, id: &Value) -> Value {
    let (status, body) = app.get(&format!("/messages/{}", id.as_str().unwrap())).await;
    assert_eq!(status, StatusCode::OK, "{body}");
    body
}

/// POST a webhook body to `path` under /api/v1, signed with `secret` (or
/// with the header as given).
async fn webhook(app: &common::TestApp, path: &str, body: &Value, signature: Option<String>) -> (StatusCode, Value) {
    let bytes = body.to_string();
    let mut request = Request::builder().method("POST").uri(format!("/api/v1/webhooks/sms/{}/{path}", app.org.id.0)).header("content-type", "application/json");
    if let Some(signature) = signature {
        request = request.header("X-Dossier-Signature", signature);
    }
    let (status, _, json) = common::TestApp::send(&app.router, request.body(Body::from(bytes)).unwrap()).await;
    (status, json)
}

fn signed(body: &Value) -> Option<String> {
    Some(sign(SECRET, body.to_string().as_bytes()))
}

both_backends!(a_text_goes_to_the_provider_in_e164_and_a_signed_receipt_marks_it_delivered, |app| {
    let provider = setup(&app).await;
    let (status, queued) = app.post("/customers/CUS-00001/sms", json!({"to": "07912 345678", "body": "Your engineer arrives at 10:00."})).await;
    assert_eq!(status, StatusCode::CREATED, "{queued}");
    assert_eq!(queued["delivery"]["status"], "queued");
    assert_eq!(queued["recipients"]["to"], json!(["+447912345678"]));
    assert!(provider.requests().is_empty(), "nothing leaves before the worker runs");

    worker(&app).work_once(Timestamp::now()).await.unwrap();
    let requests = provider.requests();
    assert_eq!(requests.len(), 1);
    let (headers, body) = &requests[0];
    assert_eq!(body, &json!({"to": "+447912345678", "from": "AcmePlumb", "text": "Your engineer arrives at 10:00."}));
    assert_eq!(headers["authorization"], format!("Bearer {API_KEY}").as_str());
    assert_eq!(headers["idempotency-key"], queued["id"].as_str().unwrap());
    let sent = message(&app, &queued["id"]).await;
    assert_eq!(sent["delivery"]["status"], "sent", "{sent}");
    // The provider's id is kept (not shown by the API): receipts find the text by it.
    let mut conn = app.db.read().await.unwrap();
    let id = uuid::Uuid::parse_str(queued["id"].as_str().unwrap()).unwrap();
    let row = dossier_store::queries::get_message(&mut conn.handle(), app.org.id.0, id).await.unwrap().unwrap();
    assert_eq!(row.provider_ref.as_deref(), Some("sm-1"));
    drop(conn);

    // A badly signed receipt is refused and changes nothing.
    let receipt = json!({"id": "sm-1", "status": "delivered"});
    let (status, body) = webhook(&app, "receipt", &receipt, Some(sign("another-secret-0000000", receipt.to_string().as_bytes()))).await;
    assert_eq!((status, body["code"].as_str()), (StatusCode::UNAUTHORIZED, Some("invalid_signature")), "{body}");
    let (status, _) = webhook(&app, "receipt", &receipt, None).await;
    assert_eq!(status, StatusCode::UNAUTHORIZED);
    let other_body = json!({"id": "sm-1", "status": "failed"});
    let (status, _) = webhook(&app, "receipt", &other_body, signed(&receipt)).await;
    assert_eq!(status, StatusCode::UNAUTHORIZED, "a signature of another body");
    assert_eq!(message(&app, &queued["id"]).await["delivery"]["status"], "sent");

    let (status, body) = webhook(&app, "receipt", &receipt, signed(&receipt)).await;
    assert_eq!((status, body["outcome"].as_str()), (StatusCode::OK, Some("updated")), "{body}");
    assert_eq!(message(&app, &queued["id"]).await["delivery"]["status"], "delivered");
    let (status, body) = webhook(&app, "receipt", &receipt, signed(&receipt)).await;
    assert_eq!((status, body["outcome"].as_str()), (StatusCode::OK, Some("unchanged")), "a repeated receipt: {body}");
    let unknown = json!({"id": "sm-404", "status": "delivered"});
    let (status, _) = webhook(&app, "receipt", &unknown, signed(&unknown)).await;
    assert_eq!(status, StatusCode::NOT_FOUND);

    let kinds = app.log_kinds(&app.org).await;
    let kinds: Vec<&str> = kinds.iter().map(String::as_str).filter(|k| k.starts_with("message.")).collect();
    assert_eq!(kinds, ["message.queued", "message.sent", "message.delivered"]);
});

both_backends!(a_refused_text_fails_with_the_providers_answer_and_an_unavailable_provider_is_tried_again, |app| {
    let provider = setup(&app).await;
    let (status, refused) = app.post("/customers/CUS-00001/sms", json!({"to": "+44 7912 340000", "body": "Hello"})).await;
    assert_eq!(status, StatusCode::CREATED, "{refused}");
    assert!(refused["contact_id"].is_string(), "a contact's number names the contact: {refused}");
    worker(&app).work_once(Timestamp::now()).await.unwrap();
    let failed = message(&app, &refused["id"]).await;
    assert_eq!(failed["delivery"]["status"], "failed", "{failed}");
    let detail = failed["delivery"]["detail"].as_str().unwrap();
    assert!(detail.contains("400") && detail.contains("number not reachable"), "{detail}");

    let (_, later) = app.post("/customers/CUS-00001/sms", json!({"to": "07912 341111", "body": "Hello again"})).await;
    let mut now = Timestamp::now();
    worker(&app).work_once(now).await.unwrap();
    assert_eq!(message(&app, &later["id"]).await["delivery"]["status"], "queued", "a 503 leaves it queued for another attempt");
    let (_, tasks) = app.get("/tasks?status=queued").await;
    let task = tasks["items"].as_array().unwrap().iter().find(|t| t["kind"] == "sms.send").cloned().unwrap();
    assert_eq!(task["attempts"], 1);
    assert!(task["last_error"].as_str().unwrap().contains("503"), "{task}");
    for _ in 2..=5 {
        now += SignedDuration::from_hours(2);
        worker(&app).work_once(now).await.unwrap();
    }
    assert_eq!(provider.requests().iter().filter(|(_, b)| b["to"] == "+447912341111").count(), 5, "tried five times");
    let given_up = message(&app, &later["id"]).await;
    assert_eq!(given_up["delivery"]["status"], "failed", "{given_up}");
    assert!(given_up["delivery"]["detail"].as_str().unwrap().contains("503"), "{given_up}");
});

both_backends!(a_dry_run_shows_the_segments_and_writes_nothing, |app| {
    setup(&app).await;
    let (messages, activities, tasks) = (app.count("message").await, app.count("activity").await, app.count("task").await);
    let gsm = "a".repeat(161);
    let (status, preview) = app.post("/customers/CUS-00001/sms", json!({"to": "07912 345678", "body": gsm, "dry_run": true})).await;
    assert_eq!(status, StatusCode::OK, "{preview}");
    assert_eq!((preview["encoding"].as_str(), preview["characters"].as_u64(), preview["segments"].as_u64()), (Some("gsm7"), Some(161), Some(2)));
    assert_eq!(preview["to"], "+447912345678");
    assert_eq!(preview["consent"]["allowed"], true);
    assert_eq!(preview["consent"]["reason"], "The customer agreed to service messages by SMS");
    let ucs2 = format!("ж{}", "a".repeat(70));
    let (_, preview) = app.post("/customers/CUS-00001/sms", json!({"to": "07912 345678", "body": ucs2, "dry_run": true})).await;
    assert_eq!((preview["encoding"].as_str(), preview["characters"].as_u64(), preview["segments"].as_u64()), (Some("ucs2"), Some(71), Some(2)));
    let (_, preview) = app.post("/customers/CUS-00001/sms", json!({"to": "07912 345678", "body": "Price: 5€", "dry_run": true})).await;
    assert_eq!((preview["encoding"].as_str(), preview["characters"].as_u64()), (Some("gsm7"), Some(10)), "€ counts two");
    assert_eq!((app.count("message").await, app.count("activity").await, app.count("task").await), (messages, activities, tasks));

    let (status, body) = app.post("/customers/CUS-00001/sms", json!({"to": "07912 345678", "body": "a".repeat(1531), "dry_run": true})).await;
    assert_eq!((status, body["errors"][0]["code"].as_str()), (StatusCode::UNPROCESSABLE_ENTITY, Some("too_long")), "{body}");
    let (status, body) = app.post("/customers/CUS-00001/sms", json!({"to": "07912 999999", "body": "Hi"})).await;
    assert_eq!((status, body["errors"][0]["code"].as_str()), (StatusCode::UNPROCESSABLE_ENTITY, Some("not_a_contact_number")), "{body}");
    assert_eq!(body["errors"][0]["field"], "to");
    assert_eq!(app.count("message").await, messages);
});

both_backends!(an_opted_out_customer_is_refused_unless_staff_give_a_reason_which_is_recorded, |app| {
    setup(&app).await;
    let (status, body) = app.patch("/customers/CUS-00001", json!({"communication": {"sms": {"service": false}}})).await;
    assert_eq!(status, StatusCode::OK, "{body}");
    let (status, body) = app.post("/customers/CUS-00001/sms", json!({"to": "07912 345678", "body": "Hello"})).await;
    assert_eq!(status, StatusCode::UNPROCESSABLE_ENTITY, "{body}");
    assert_eq!((body["errors"][0]["code"].as_str(), body["errors"][0]["field"].as_str()), (Some("opted_out"), Some("override_reason")));
    assert!(body["errors"][0]["message"].as_str().unwrap().contains("opted out of service messages by SMS"), "{body}");
    let (status, queued) =
        app.post("/customers/CUS-00001/sms", json!({"to": "07912 345678", "body": "Hello", "override_reason": "Asked us to text on the phone today"})).await;
    assert_eq!(status, StatusCode::CREATED, "{queued}");
    let (_, timeline) = app.get("/customers/CUS-00001/timeline?group=communication").await;
    let entry = timeline["items"].as_array().unwrap().iter().find(|e| e["kind"] == "message.queued").cloned().unwrap();
    assert_eq!(entry["detail"]["override_reason"], "Asked us to text on the phone today", "{entry}");
    assert_eq!(entry["detail"]["consent"], "The customer opted out of service messages by SMS");
    // Marketing is opted out by default.
    let (status, body) = app.post("/customers/CUS-00001/sms", json!({"to": "07912 345678", "body": "Sale!", "purpose": "marketing", "dry_run": true})).await;
    assert_eq!((status, body["errors"][0]["code"].as_str()), (StatusCode::UNPROCESSABLE_ENTITY, Some("opted_out")));
    // A deactivated customer is read-only: no text, not even a preview.
    let (status, body) = app.post("/customers/CUS-00001/status", json!({"status": "deactivated", "reason": "Moved away"})).await;
    assert_eq!(status, StatusCode::OK, "{body}");
    let messages = app.count("message").await;
    for dry_run in [true, false] {
        let (status, body) =
            app.post("/customers/CUS-00001/sms", json!({"to": "07912 345678", "body": "Hello", "override_reason": "Urgent", "dry_run": dry_run})).await;
        assert_eq!((status, body["code"].as_str()), (StatusCode::CONFLICT, Some("customer_deactivated")), "{body}");
    }
    assert_eq!(app.count("message").await, messages);
});

both_backends!(a_signed_text_from_a_contacts_number_lands_on_its_customers_timeline_once, |app| {
    setup(&app).await;
    app.customer(json!({"kind": "individual", "family_name": "Other", "phone": "07912 555555"})).await;
    let text = json!({"id": "in-1", "from": "+447912346789", "to": "AcmePlumb", "text": "Running late?", "received_at": "2026-12-07T09:00:00Z"});
    let (status, _) = webhook(&app, "inbound", &text, Some(sign("wrong-secret-000000000", text.to_string().as_bytes()))).await;
    assert_eq!(status, StatusCode::UNAUTHORIZED);
    let messages = app.count("message").await;
    assert_eq!(messages, 0);

    let (status, body) = webhook(&app, "inbound", &text, signed(&text)).await;
    assert_eq!((status, body["outcome"].as_str()), (StatusCode::CREATED, Some("recorded")), "{body}");
    let received = message(&app, &body["message_id"]).await;
    assert_eq!(
        (received["channel"].as_str(), received["direction"].as_str(), received["visibility"].as_str()),
        (Some("sms"), Some("inbound"), Some("customer"))
    );
    assert_eq!(received["author"]["type"], "customer", "{received}");
    assert_eq!(received["recipients"]["from"], "+447912346789");
    assert!(received["contact_id"].is_string());
    let (_, timeline) = app.get("/customers/CUS-00001/timeline?group=communication").await;
    assert!(timeline["items"].as_array().unwrap().iter().any(|e| e["kind"] == "message.received"), "{timeline}");

    let (status, body) = webhook(&app, "inbound", &text, signed(&text)).await;
    assert_eq!((status, body["outcome"].as_str()), (StatusCode::OK, Some("repeated")), "{body}");
    assert_eq!(app.count("message").await, 1, "a repeated webhook creates nothing new");

    // The customer's own phone finds the customer (no contact).
    let own = json!({"id": "in-own", "from": "+447912555555", "to": "AcmePlumb", "text": "It's me"});
    let (status, body) = webhook(&app, "inbound", &own, signed(&own)).await;
    assert_eq!(status, StatusCode::CREATED, "{body}");
    let theirs = message(&app, &body["message_id"]).await;
    assert!(theirs["contact_id"].is_null(), "{theirs}");
    let (_, other) = app.get("/customers/CUS-00002").await;
    assert_eq!(theirs["customer_id"], other["id"]);
    assert_eq!(app.count("message").await, 2);

    let stranger = json!({"id": "in-2", "from": "+447912349999", "to": "AcmePlumb", "text": "Who is this?"});
    let (status, body) = webhook(&app, "inbound", &stranger, signed(&stranger)).await;
    assert_eq!((status, body["outcome"].as_str(), body["customers"].as_u64()), (StatusCode::ACCEPTED, Some("unmatched"), Some(0)), "{body}");
    // A number two customers share is no one customer's.
    app.post("/customers/CUS-00002/contacts", json!({"family_name": "Lodger", "phones": [{"number": "07912 346789"}]})).await;
    let shared = json!({"id": "in-3", "from": "+447912346789", "to": "AcmePlumb", "text": "Hi"});
    let (status, body) = webhook(&app, "inbound", &shared, signed(&shared)).await;
    assert_eq!((status, body["customers"].as_u64()), (StatusCode::ACCEPTED, Some(2)), "{body}");
    assert_eq!(app.count("message").await, 2);

    // Both wait in the inbox, once each however often the provider sends them.
    webhook(&app, "inbound", &stranger, signed(&stranger)).await;
    let (_, inbox) = app.get("/inbox?status=open").await;
    let items = inbox["items"].as_array().unwrap();
    assert_eq!(items.len(), 2, "{inbox}");
    assert!(items.iter().all(|i| i["channel"] == "sms"), "{inbox}");
    let stranger_item = items.iter().find(|i| i["from_address"] == "+447912349999").expect("the stranger's text");
    assert_eq!(stranger_item["reason"], "no customer has this number");
    assert!(stranger_item["excerpt"].as_str().unwrap().contains("Who is this?"));
    // Staff give it to a customer: it lands on their timeline as received.
    let (status, assigned) = app.post(&format!("/inbox/{}/assign", stranger_item["id"].as_str().unwrap()), json!({"customer": "CUS-00002"})).await;
    assert_eq!(status, StatusCode::CREATED, "{assigned}");
    let text = &assigned["message"];
    assert_eq!(
        (text["channel"].as_str(), text["direction"].as_str(), text["body"].as_str()),
        (Some("sms"), Some("inbound"), Some("Who is this?")),
        "{assigned}"
    );
    let (_, other) = app.get("/customers/CUS-00002").await;
    assert_eq!(text["customer_id"], other["id"]);
    let (_, timeline) = app.get("/customers/CUS-00002/timeline?group=communication").await;
    assert!(
        timeline["items"]
            .as_array()
            .unwrap()
            .iter()
            .any(|e| e["kind"] == "message.received" && e["summary"].as_str().unwrap().contains("assigned from the inbox")),
        "{timeline}"
    );
    let (status, _) = app.post(&format!("/inbox/{}/assign", stranger_item["id"].as_str().unwrap()), json!({"customer": "CUS-00001"})).await;
    assert_eq!(status, StatusCode::CONFLICT, "assigned once");
    assert_eq!(app.count("message").await, 3);
});

both_backends!(sms_settings_never_show_their_secrets_nor_write_them_in_the_log, |app| {
    setup(&app).await;
    let (status, settings) = app.get("/org/sms-settings").await;
    assert_eq!(status, StatusCode::OK);
    assert_eq!(settings["api_key_set"], true);
    assert_eq!(settings["webhook_secret_set"], true);
    assert_eq!(settings["sender"], "AcmePlumb");
    let shown = settings.to_string();
    assert!(!shown.contains(API_KEY) && !shown.contains(SECRET), "{shown}");

    // Left out keeps, empty clears.
    let (_, after) = app.call(axum::http::Method::PUT, "/org/sms-settings", Some(json!({"sender": "+447700900123"}))).await;
    assert_eq!((after["sender"].as_str(), after["api_key_set"].as_bool()), (Some("+447700900123"), Some(true)), "{after}");
    let (_, after) = app.call(axum::http::Method::PUT, "/org/sms-settings", Some(json!({"api_key": ""}))).await;
    assert_eq!(after["api_key_set"], false, "{after}");
    let (status, body) = app.call(axum::http::Method::PUT, "/org/sms-settings", Some(json!({"sender": "Much Too Long Name"}))).await;
    assert_eq!((status, body["errors"][0]["code"].as_str()), (StatusCode::UNPROCESSABLE_ENTITY, Some("invalid_sender")));

    let mut conn = app.db.read().await.unwrap();
    let rows = dossier_store::queries::activity_page(&mut conn.handle(), app.org.id.0, 0, i64::MAX, 10_000).await.unwrap();
    let settings_rows: Vec<_> = rows.iter().filter(|r| r.kind == "org.settings_changed").collect();
    assert_eq!(settings_rows.len(), 3, "set, sender changed, key cleared");
    for row in &rows {
        let text = format!("{} {} {}", row.summary, row.changes, row.detail);
        assert!(!text.contains(API_KEY) && !text.contains(SECRET), "a secret in the log: {text}");
    }
    assert!(settings_rows[0].changes.contains("api_key") && settings_rows[0].changes.contains("\"set\""), "{}", settings_rows[0].changes);

    // A fieldworker may not change them.
    let (_, fieldworker) = app.user("fieldworker").await;
    let (status, _) = app.call_as(Some(&fieldworker), axum::http::Method::PUT, "/org/sms-settings", Some(json!({"sender": "Nope"}))).await;
    assert_eq!(status, StatusCode::FORBIDDEN);
});

both_backends!(staff_review_an_sms_with_its_segments_and_consent_then_send_it_from_the_web_app, |app| {
    setup(&app).await;
    let cookie = app.session("admin").await;
    let (status, profile) = app.page(Some(&cookie), "/customers/CUS-00001").await;
    assert_eq!(status, StatusCode::OK);
    assert!(profile.contains("href=\"/customers/CUS-00001/sms\""), "the profile offers SMS");
    let (status, form) = app.page(Some(&cookie), "/customers/CUS-00001/sms").await;
    assert_eq!(status, StatusCode::OK);
    assert!(form.contains("+447912345678 · Ann Lee") && form.contains("+447912346789 · Bo Lee"), "{form}");

    let body = "a".repeat(161);
    let (status, _, review) = app.form(&cookie, "/customers/CUS-00001/sms", &[("to", "+447912346789"), ("body", &body), ("purpose", "service")]).await;
    assert_eq!(status, StatusCode::OK, "{review}");
    assert!(review.contains("+447912346789") && review.contains("2 segments (161 GSM-7 characters)"), "{review}");
    assert!(review.contains("The customer agreed to service messages by SMS"), "{review}");
    assert_eq!(app.count("message").await, 0, "a review writes nothing");

    let (status, to, _) =
        app.form(&cookie, "/customers/CUS-00001/sms", &[("to", "+447912346789"), ("body", &body), ("purpose", "service"), ("confirmed", "yes")]).await;
    assert_eq!(status, StatusCode::SEE_OTHER);
    assert_eq!(to, "/customers/CUS-00001?tab=timeline");
    assert_eq!(app.count("message").await, 1);
    let (_, timeline) = app.page(Some(&cookie), "/customers/CUS-00001?tab=timeline").await;
    assert!(timeline.contains("SMS to Bo Lee") && timeline.contains("queued"), "the tile shows where it stands");

    // Opted out: the reason is asked for next to its field.
    app.patch("/customers/CUS-00001", json!({"communication": {"sms": {"service": false}}})).await;
    let (status, _, again) = app.form(&cookie, "/customers/CUS-00001/sms", &[("to", "+447912346789"), ("body", "Hi"), ("purpose", "service")]).await;
    assert_eq!(status, StatusCode::UNPROCESSABLE_ENTITY);
    assert!(again.contains("override_reason-error") && again.contains("opted out of service messages by SMS"), "{again}");

    let (status, settings) = app.page(Some(&cookie), "/settings/sms").await;
    assert_eq!(status, StatusCode::OK);
    assert!(settings.contains("AcmePlumb") && !settings.contains(API_KEY) && !settings.contains(SECRET));
    let (status, to, _) = app.form(&cookie, "/settings/sms", &[("provider_url", "https://sms.example/send"), ("sender", "Acme"), ("api_key", "")]).await;
    assert_eq!((status, to.as_str()), (StatusCode::SEE_OTHER, "/settings/sms"));
    let (_, after) = app.get("/org/sms-settings").await;
    assert_eq!((after["sender"].as_str(), after["api_key_set"].as_bool()), (Some("Acme"), Some(true)), "a blank secret field keeps it: {after}");
});

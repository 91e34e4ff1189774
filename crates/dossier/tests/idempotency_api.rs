//! `Idempotency-Key` on the API's POSTs, on SQLite and PostgreSQL: a retry
//! gets the first answer, a reused key is refused, and copies of one
//! request sent at the same time do the work once.

mod common;

use axum::body::Body;
use axum::http::{HeaderMap, Request, StatusCode};
use common::TestApp;
use dossier_domain::customer::CustomerInput;
use dossier_service::idempotency::{self, Claimed, Key};
use dossier_service::{Ctx, customers, tokens, users};
use serde_json::{Value, json};

/// POST `body` to `path` as the holder of `token`, with `key` if given.
async fn post_with_key(app: &TestApp, token: &str, key: Option<&str>, path: &str, body: &Value) -> (StatusCode, HeaderMap, Value) {
    let mut request = Request::post(format!("/api/v1{path}")).header("authorization", format!("Bearer {token}")).header("content-type", "application/json");
    if let Some(key) = key {
        request = request.header("idempotency-key", key);
    }
    TestApp::send(&app.router, request.body(Body::from(body.to_string())).unwrap()).await
}

/// Another staff user of the app's org, with a token of their own.
async fn second_user(app: &TestApp) -> String {
    let ctx = app.ctx();
    let mut tx = app.db.begin().await.unwrap();
    let new_user = users::NewUser { email: "bo@test.example".into(), name: "Bo Admin".into(), role: "admin".into(), password: "correct horse battery".into() };
    users::add_user_in(&mut tx, &ctx, new_user).await.unwrap();
    let token = tokens::create_token_in(&mut tx, &ctx, "bo@test.example", "tests").await.unwrap();
    tx.commit().await.unwrap();
    token.token
}

/// The state of the admin's key `key`, straight from the store.
async fn key_state(app: &TestApp, ctx: &Ctx, key: &str) -> Option<String> {
    let mut reader = app.db.read().await.unwrap();
    let row = dossier_store::idempotency::get_key(&mut reader.handle(), app.org.id.0, ctx.user_id.unwrap().0, key).await.unwrap();
    row.map(|r| r.state)
}

both_backends!(the_same_key_and_body_get_the_first_answer_and_make_one_customer, |app| {
    let body = json!({"given_name": "Ann", "family_name": "Lee"});
    let (first_status, first_headers, first) = post_with_key(&app, &app.token, Some("create-ann-1"), "/customers", &body).await;
    assert_eq!(first_status, StatusCode::CREATED, "{first}");
    assert!(first_headers.get("idempotent-replayed").is_none());
    for _ in 0..2 {
        let (status, headers, again) = post_with_key(&app, &app.token, Some("create-ann-1"), "/customers", &body).await;
        assert_eq!(status, StatusCode::CREATED);
        assert_eq!(again, first, "a retry gets the first answer, not a new customer");
        assert_eq!(headers["content-type"], first_headers["content-type"]);
        assert_eq!(headers["idempotent-replayed"], "true");
    }
    assert_eq!(app.count("customer").await, 1);

    // Without a key, each POST is a new request.
    post_with_key(&app, &app.token, None, "/customers", &body).await;
    post_with_key(&app, &app.token, None, "/customers", &body).await;
    assert_eq!(app.count("customer").await, 3);
});

both_backends!(an_answer_that_was_an_error_is_replayed_too, |app| {
    let body = json!({"kind": "business"});
    let (status, _, first) = post_with_key(&app, &app.token, Some("bad-1"), "/customers", &body).await;
    assert_eq!(status, StatusCode::UNPROCESSABLE_ENTITY, "{first}");
    let (again_status, headers, again) = post_with_key(&app, &app.token, Some("bad-1"), "/customers", &body).await;
    assert_eq!((again_status, &again), (status, &first));
    assert_eq!(headers["content-type"], "application/problem+json");
    assert_eq!(headers["idempotent-replayed"], "true", "the error was replayed, not answered anew");
});

both_backends!(the_same_key_with_another_request_is_refused, |app| {
    let (status, _, _) = post_with_key(&app, &app.token, Some("k-1"), "/customers", &json!({"family_name": "Lee"})).await;
    assert_eq!(status, StatusCode::CREATED);
    let (status, _, problem) = post_with_key(&app, &app.token, Some("k-1"), "/customers", &json!({"family_name": "Leigh"})).await;
    assert_eq!(status, StatusCode::UNPROCESSABLE_ENTITY, "{problem}");
    assert_eq!(problem["code"], "idempotency_key_reused");
    // The same body to another route is another request as well.
    let (status, _, problem) = post_with_key(&app, &app.token, Some("k-1"), "/inquiries", &json!({"family_name": "Lee"})).await;
    assert_eq!(status, StatusCode::UNPROCESSABLE_ENTITY, "{problem}");
    assert_eq!(problem["code"], "idempotency_key_reused");
    assert_eq!(app.count("customer").await, 1);
});

both_backends!(keys_belong_to_their_caller, |app| {
    let body = json!({"family_name": "Lee"});
    let colleague = second_user(&app).await;
    let (_, other_org_token) = app.add_org("Other Services", "admin@other.example").await;
    let mut codes = Vec::new();
    for token in [&app.token, &colleague, &other_org_token] {
        let (status, headers, customer) = post_with_key(&app, token, Some("shared-key"), "/customers", &body).await;
        assert_eq!(status, StatusCode::CREATED, "{customer}");
        assert!(headers.get("idempotent-replayed").is_none(), "another caller's key is not this caller's");
        codes.push(customer["id"].clone());
    }
    codes.dedup();
    assert_eq!(codes.len(), 3);
    assert_eq!(app.count("customer").await, 3);
});

both_backends!(a_malformed_key_is_refused_before_anything_is_done, |app| {
    let body = json!({"family_name": "Lee"});
    let too_long = "k".repeat(256);
    for key in ["", "has space", "naïve", too_long.as_str()] {
        let request = Request::post("/api/v1/customers")
            .header("authorization", format!("Bearer {}", app.token))
            .header("content-type", "application/json")
            .header("idempotency-key", axum::http::HeaderValue::from_bytes(key.as_bytes()).unwrap())
            .body(Body::from(body.to_string()))
            .unwrap();
        let (status, headers, problem) = TestApp::send(&app.router, request).await;
        assert_eq!(status, StatusCode::BAD_REQUEST, "{key:?}: {problem}");
        assert_eq!(headers["content-type"], "application/problem+json");
        assert_eq!(problem["code"], "invalid_idempotency_key");
    }
    let longest = "k".repeat(255);
    let (status, _, _) = post_with_key(&app, &app.token, Some(&longest), "/customers", &body).await;
    assert_eq!(status, StatusCode::CREATED);
    assert_eq!(app.count("customer").await, 1);
});

both_backends!(a_thousand_duplicated_concurrent_creates_make_a_thousand_customers, |app| {
    let app = std::sync::Arc::new(app);
    let started = std::time::Instant::now();
    let mut requests = tokio::task::JoinSet::new();
    for i in 0..1000 {
        for _ in 0..2 {
            let app = app.clone();
            requests.spawn(async move {
                let body = json!({"family_name": format!("Lee {i}")});
                let (status, _, customer) = post_with_key(&app, &app.token, Some(&format!("create-{i}")), "/customers", &body).await;
                (i, status, customer)
            });
        }
    }
    let mut answers: std::collections::HashMap<i32, Vec<(StatusCode, Value)>> = Default::default();
    while let Some(answer) = requests.join_next().await {
        let (i, status, customer) = answer.unwrap();
        answers.entry(i).or_default().push((status, customer));
    }
    let customers = app.count("customer").await;
    let replayed = answers.values().filter(|pair| pair[0] == pair[1]).count();
    eprintln!(
        "{:?}: 1,000 keys sent twice at once (2,000 requests) made {customers} customers in {:?}; {replayed} second copies got the first answer",
        app.backend,
        started.elapsed()
    );
    assert_eq!(customers, 1000);
    // Each pair: one created the customer; the other got the same answer
    // (it waited) or, past the 20 s wait on a slow machine, was told that
    // the first is still running. Never a second customer.
    for (i, pair) in &answers {
        let created: Vec<_> = pair.iter().filter(|(status, _)| *status == StatusCode::CREATED).collect();
        assert!(!created.is_empty(), "key {i}: {pair:?}");
        if created.len() == 2 {
            assert_eq!(created[0], created[1], "both copies of key {i} get the same answer");
        } else {
            let other = pair.iter().find(|(status, _)| *status != StatusCode::CREATED).unwrap();
            assert_eq!((other.0, other.1["code"].as_str()), (StatusCode::CONFLICT, Some("idempotency_key_in_flight")), "key {i}");
        }
    }
    assert_eq!(app.count("idempotency_key").await, 1000);
});

both_backends!(the_use_cases_own_transaction_marks_the_key_so_a_crash_before_the_answer_does_nothing_twice, |app| {
    let ctx = tokens::authenticate(&app.db, &app.token).await.unwrap();
    let body = json!({"family_name": "Lee"});
    let hash = idempotency::fingerprint("POST", "/customers", body.to_string().as_bytes());
    let key = Key::parse(b"crash-1").unwrap();
    let Claimed::Won(claim) = idempotency::claim(&app.db, &ctx, &key, &hash, std::time::Duration::ZERO).await.unwrap() else { panic!("not claimed") };
    assert_eq!(key_state(&app, &ctx, "crash-1").await.as_deref(), Some("running"));
    let input = CustomerInput { family_name: Some("Lee".into()), ..Default::default() };
    idempotency::holding(claim, customers::create_customer(&app.db, &ctx, input)).await.unwrap();
    // The server "dies" here: the customer is committed, the answer never stored.
    assert_eq!(key_state(&app, &ctx, "crash-1").await.as_deref(), Some("committed"));
    app.db.execute_raw("UPDATE idempotency_key SET started_at = started_at - 120000000").await.unwrap();

    let (status, _, problem) = post_with_key(&app, &app.token, Some("crash-1"), "/customers", &body).await;
    assert_eq!(status, StatusCode::CONFLICT, "{problem}");
    assert_eq!(problem["code"], "idempotency_answer_unavailable");
    assert_eq!(app.count("customer").await, 1, "the retry did not create the customer again");
});

both_backends!(a_request_that_died_before_committing_is_carried_out_by_the_retry, |app| {
    let ctx = tokens::authenticate(&app.db, &app.token).await.unwrap();
    let body = json!({"family_name": "Lee"});
    let hash = idempotency::fingerprint("POST", "/customers", body.to_string().as_bytes());
    let key = Key::parse(b"died-1").unwrap();
    let Claimed::Won(dead) = idempotency::claim(&app.db, &ctx, &key, &hash, std::time::Duration::ZERO).await.unwrap() else { panic!("not claimed") };
    // While the first request may still be alive, a copy waits and is then told so.
    let copy = idempotency::claim(&app.db, &ctx, &key, &hash, std::time::Duration::from_millis(50)).await.unwrap();
    assert!(matches!(copy, Claimed::InFlight), "{copy:?}");

    app.db.execute_raw("UPDATE idempotency_key SET started_at = started_at - 120000000").await.unwrap();
    let (status, _, customer) = post_with_key(&app, &app.token, Some("died-1"), "/customers", &body).await;
    assert_eq!(status, StatusCode::CREATED, "{customer}");
    assert_eq!(app.count("customer").await, 1);

    // The first request wakes up late: its claim was retaken, so its commit fails.
    let input = CustomerInput { family_name: Some("Lee".into()), ..Default::default() };
    let late = idempotency::holding(dead, customers::create_customer(&app.db, &ctx, input)).await;
    assert!(late.is_err(), "a request whose claim was retaken must not commit");
    assert_eq!(app.count("customer").await, 1);
});

both_backends!(an_answer_holding_a_secret_is_not_kept_but_the_work_is_done_once, |app| {
    let body = json!({"name": "deploy"});
    let (status, _, created) = post_with_key(&app, &app.token, Some("token-1"), "/tokens", &body).await;
    assert_eq!(status, StatusCode::CREATED, "{created}");
    let secret = created["token"].as_str().unwrap().to_owned();
    let (status, _, problem) = post_with_key(&app, &app.token, Some("token-1"), "/tokens", &body).await;
    assert_eq!(status, StatusCode::CONFLICT, "{problem}");
    assert_eq!(problem["code"], "idempotency_answer_unavailable");
    assert_eq!(app.count("api_token").await, 2, "the test token and the one created");
    assert_eq!(app.count("idempotency_key").await, 1);
    let mut reader = app.db.read().await.unwrap();
    let ctx = tokens::authenticate(&app.db, &app.token).await.unwrap();
    let row = dossier_store::idempotency::get_key(&mut reader.handle(), app.org.id.0, ctx.user_id.unwrap().0, "token-1").await.unwrap().unwrap();
    assert_eq!(row.body, None, "the secret {secret} is not stored");
});

both_backends!(a_request_dropped_half_way_gives_its_key_up_at_once, |app| {
    let body = json!({"family_name": "Lee"});
    app.customer(json!({"family_name": "First"})).await;
    // Another writer holds the customer counter, so the keyed request
    // stops inside its use case (PostgreSQL: after claiming its key; SQLite,
    // one writer: before it).
    let mut blocker = app.db.begin().await.unwrap();
    dossier_store::queries::reserve_numbers(&mut blocker.handle(), app.org.id.0, "customer", 1).await.unwrap();
    let request = post_with_key(&app, &app.token, Some("dropped-1"), "/customers", &body);
    assert!(tokio::time::timeout(std::time::Duration::from_millis(500), request).await.is_err(), "the request should still be waiting");
    drop(blocker);

    // The client gave up and the request was dropped; its retry is carried
    // out (within its wait) instead of waiting 60 s for the claim to go stale.
    let (status, _, answer) = post_with_key(&app, &app.token, Some("dropped-1"), "/customers", &body).await;
    assert_eq!(status, StatusCode::CREATED, "the dropped request's key was not given up: {answer}");
    assert_eq!(app.count("customer").await, 2);
});

both_backends!(keys_are_kept_a_day_and_then_purged, |app| {
    let hour: i64 = 3_600_000_000;
    let (status, _, first) = post_with_key(&app, &app.token, Some("day-old"), "/customers", &json!({"family_name": "Lee"})).await;
    assert_eq!(status, StatusCode::CREATED);
    post_with_key(&app, &app.token, Some("fresh"), "/customers", &json!({"family_name": "Ng"})).await;
    // 23 hours later the key still answers with its first answer.
    app.db
        .execute_raw(&format!(
            "UPDATE idempotency_key SET created_at = created_at - {}, started_at = started_at - {} WHERE client_key = 'day-old'",
            23 * hour,
            23 * hour
        ))
        .await
        .unwrap();
    let (_, headers, again) = post_with_key(&app, &app.token, Some("day-old"), "/customers", &json!({"family_name": "Lee"})).await;
    assert_eq!((again, &headers["idempotent-replayed"]), (first, &axum::http::HeaderValue::from_static("true")));
    // Past 24 hours it is purged when the org claims its next key, and the
    // same key is a new key.
    app.db
        .execute_raw(&format!(
            "UPDATE idempotency_key SET created_at = created_at - {}, started_at = started_at - {} WHERE client_key = 'day-old'",
            2 * hour,
            2 * hour
        ))
        .await
        .unwrap();
    post_with_key(&app, &app.token, Some("next"), "/customers", &json!({"family_name": "Ode"})).await;
    assert_eq!(app.count("idempotency_key").await, 2, "the day-old key was purged; 'fresh' and 'next' are kept");
    let (status, headers, other) = post_with_key(&app, &app.token, Some("day-old"), "/customers", &json!({"family_name": "Other"})).await;
    assert_eq!(status, StatusCode::CREATED, "{other}");
    assert!(headers.get("idempotent-replayed").is_none());
    assert_eq!(app.count("customer").await, 4);
});

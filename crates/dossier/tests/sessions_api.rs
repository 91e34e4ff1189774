//! Signing in and out, sessions, CSRF protection, sign-in throttling, user
//! management and API tokens, on both backends; each security event is an
//! org-level activity.

mod common;

use std::net::SocketAddr;
use std::time::Instant;

use axum::body::Body;
use axum::extract::ConnectInfo;
use axum::http::{HeaderMap, Method, Request, StatusCode, header};
use common::TestApp;
use dossier_service::sessions;
use dossier_service::{Ctx, users};
use serde_json::{Value, json};

const PASSWORD: &str = "correct horse battery";

async fn add_user(app: &TestApp, email: &str, role: &str) {
    let mut tx = app.db.begin().await.unwrap();
    let input = users::NewUser { email: email.into(), name: format!("{role} person"), role: role.into(), password: PASSWORD.into() };
    users::add_user_in(&mut tx, &Ctx::system(app.org.clone(), "Test"), input).await.unwrap();
    tx.commit().await.unwrap();
}

/// A request to the API with optional JSON body, cookie and extra headers,
/// coming from `peer`.
fn request(method: Method, path: &str, body: Option<Value>, cookie: Option<&str>, extra: &[(&str, &str)], peer: &str) -> Request<Body> {
    let mut builder = Request::builder().method(method).uri(format!("/api/v1{path}")).header("host", "dossier.test");
    if let Some(cookie) = cookie {
        builder = builder.header(header::COOKIE, format!("theme=dark; dossier_session={cookie}"));
    }
    for (name, value) in extra {
        builder = builder.header(*name, *value);
    }
    let mut request = match body {
        Some(body) => builder.header("content-type", "application/json").body(Body::from(body.to_string())),
        None => builder.body(Body::empty()),
    }
    .unwrap();
    request.extensions_mut().insert(ConnectInfo(peer.parse::<SocketAddr>().unwrap()));
    request
}

async fn sign_in(app: &TestApp, email: &str, password: &str, peer: &str) -> (StatusCode, HeaderMap, Value) {
    TestApp::send(&app.router, request(Method::POST, "/session", Some(json!({"email": email, "password": password})), None, &[], peer)).await
}

/// The session cookie's value from a `Set-Cookie` answer.
fn cookie_of(headers: &HeaderMap) -> (String, String) {
    let set = headers.get(header::SET_COOKIE).expect("a cookie is set").to_str().unwrap().to_owned();
    let value = set.strip_prefix("dossier_session=").unwrap().split(';').next().unwrap().to_owned();
    (value, set)
}

both_backends!(signing_in_starts_a_session_in_a_safe_cookie_and_signing_out_ends_it, |app| {
    add_user(&app, "sam@test.example", "support").await;
    let (status, headers, session) = sign_in(&app, "Sam@Test.example ", PASSWORD, "10.0.0.1:5000").await;
    assert_eq!(status, StatusCode::OK, "{session}");
    assert_eq!((session["user"]["email"].as_str(), session["user"]["role"].as_str()), (Some("sam@test.example"), Some("support")));
    let (cookie, set_cookie) = cookie_of(&headers);
    for attribute in ["HttpOnly", "SameSite=Lax", "Path=/", "Max-Age=604800"] {
        assert!(set_cookie.contains(attribute), "{attribute} missing: {set_cookie}");
    }
    assert!(!set_cookie.contains("Secure"), "plain HTTP cannot keep a Secure cookie: {set_cookie}");

    // The cookie is the credential: it reads and writes as the user, with their role.
    let (status, _, _) = TestApp::send(&app.router, request(Method::GET, "/customers", None, Some(&cookie), &[], "10.0.0.1:5000")).await;
    assert_eq!(status, StatusCode::OK);
    let (status, _, created) = TestApp::send(
        &app.router,
        request(Method::POST, "/customers", Some(json!({"family_name": "Cookie"})), Some(&cookie), &[("sec-fetch-site", "same-origin")], "10.0.0.1:5000"),
    )
    .await;
    assert_eq!(status, StatusCode::CREATED, "{created}");
    let (_, timeline) = app.get("/customers/CUS-00001/timeline").await;
    assert_eq!(timeline["items"][0]["actor"]["type"], "user");
    assert_eq!(timeline["items"][0]["actor"]["name"], "support person");
    let (status, _, _) = TestApp::send(&app.router, request(Method::GET, "/users", None, Some(&cookie), &[], "10.0.0.1:5000")).await;
    assert_eq!(status, StatusCode::FORBIDDEN, "support does not manage users");
    let (status, _, me) = TestApp::send(&app.router, request(Method::GET, "/session", None, Some(&cookie), &[], "10.0.0.1:5000")).await;
    assert_eq!((status, me["user"]["email"].as_str()), (StatusCode::OK, Some("sam@test.example")));

    // Signing out revokes the session on the server, not just the cookie.
    let (status, headers, _) = TestApp::send(&app.router, request(Method::DELETE, "/session", None, Some(&cookie), &[], "10.0.0.1:5000")).await;
    assert_eq!(status, StatusCode::NO_CONTENT);
    assert!(cookie_of(&headers).1.contains("Max-Age=0"));
    let (status, _, problem) = TestApp::send(&app.router, request(Method::GET, "/customers", None, Some(&cookie), &[], "10.0.0.1:5000")).await;
    assert_eq!((status, problem["code"].as_str()), (StatusCode::UNAUTHORIZED, Some("unauthenticated")));
    let (status, _, _) = TestApp::send(&app.router, request(Method::GET, "/customers", None, Some("dss_garbage"), &[], "10.0.0.1:5000")).await;
    assert_eq!(status, StatusCode::UNAUTHORIZED);

    let kinds = app.log_kinds(&app.org).await;
    assert!(kinds.ends_with(&["user.signed_in".to_owned(), "customer.created".to_owned(), "user.signed_out".to_owned()]), "{kinds:?}");

    // Behind a trusted TLS proxy the cookie is Secure.
    let proxied = dossier_web::app(dossier_web::AppState { trust_proxy: true, ..dossier_web::AppState::new(app.db.clone(), app.files.clone()) });
    let login = request(
        Method::POST,
        "/session",
        Some(json!({"email": "sam@test.example", "password": PASSWORD})),
        None,
        &[("x-forwarded-proto", "https")],
        "10.0.0.1:5000",
    );
    let (status, headers, _) = TestApp::send(&proxied, login).await;
    assert_eq!(status, StatusCode::OK);
    assert!(cookie_of(&headers).1.contains("; Secure"));
});

both_backends!(a_session_ends_when_idle_too_long_or_too_old, |app| {
    add_user(&app, "eve@test.example", "office").await;
    let mut cookies = Vec::new();
    for _ in 0..2 {
        let (_, headers, _) = sign_in(&app, "eve@test.example", PASSWORD, "10.0.0.5:5000").await;
        cookies.push(cookie_of(&headers).0);
    }
    let reads = |cookie: String| {
        let router = app.router.clone();
        async move { TestApp::send(&router, request(Method::GET, "/customers", None, Some(&cookie), &[], "10.0.0.5:5000")).await.0 }
    };
    assert_eq!(reads(cookies[0].clone()).await, StatusCode::OK);
    // The first was last used longer ago than the idle limit; the second is
    // past its absolute expiry though used a moment ago.
    let idle = sessions::IDLE_LIMIT.as_micros() as i64 + 1_000_000;
    let sql = |set: String, cookie_index: usize| {
        format!("UPDATE user_session SET {set} WHERE id = (SELECT id FROM user_session ORDER BY created_at LIMIT 1 OFFSET {cookie_index})")
    };
    app.db.execute_raw(&sql(format!("last_seen_at = last_seen_at - {idle}"), 0)).await.unwrap();
    app.db.execute_raw(&sql("expires_at = last_seen_at - 1".to_owned(), 1)).await.unwrap();
    assert_eq!(reads(cookies[0].clone()).await, StatusCode::UNAUTHORIZED);
    assert_eq!(reads(cookies[1].clone()).await, StatusCode::UNAUTHORIZED);
});

both_backends!(a_state_changing_request_from_another_site_is_refused, |app| {
    add_user(&app, "ola@test.example", "office").await;
    let (_, headers, _) = sign_in(&app, "ola@test.example", PASSWORD, "10.0.0.2:5000").await;
    let (cookie, _) = cookie_of(&headers);
    let body = json!({"family_name": "Forged"});
    for forged in [[("sec-fetch-site", "cross-site"), ("origin", "https://evil.example")], [("origin", "https://evil.example"), ("x-ignored", "")]] {
        let (status, _, problem) =
            TestApp::send(&app.router, request(Method::POST, "/customers", Some(body.clone()), Some(&cookie), &forged, "10.0.0.2:5000")).await;
        assert_eq!((status, problem["code"].as_str()), (StatusCode::FORBIDDEN, Some("cross_origin_request")), "{forged:?}: {problem}");
    }
    assert_eq!(app.count("customer").await, 0, "nothing was written");
    let same_site = [("sec-fetch-site", "same-origin"), ("origin", "http://dossier.test")];
    let (status, _, _) = TestApp::send(&app.router, request(Method::POST, "/customers", Some(body), Some(&cookie), &same_site, "10.0.0.2:5000")).await;
    assert_eq!(status, StatusCode::CREATED);
    // Reading is never refused: a link from another site still opens the page.
    let (status, _, _) =
        TestApp::send(&app.router, request(Method::GET, "/customers", None, Some(&cookie), &[("sec-fetch-site", "cross-site")], "10.0.0.2:5000")).await;
    assert_eq!(status, StatusCode::OK);
});

both_backends!(failed_sign_ins_slow_down_then_lock_out_and_never_tell_whether_the_email_exists, |app| {
    add_user(&app, "fay@test.example", "finance").await;
    let mut answers = Vec::new();
    for attempt in 1..=sessions::ACCOUNT_FAILURES {
        // A known email with a wrong password, and an unknown email, from different addresses.
        let started = Instant::now();
        let (known, _, known_body) = sign_in(&app, "fay@test.example", "wrong password!!", &format!("10.1.0.{attempt}:5000")).await;
        let took = started.elapsed();
        let (unknown, _, unknown_body) = sign_in(&app, "nobody@test.example", "wrong password!!", &format!("10.2.0.{attempt}:5000")).await;
        assert_eq!((known, &known_body["code"], &known_body["detail"]), (unknown, &unknown_body["code"], &unknown_body["detail"]), "attempt {attempt}");
        assert!(took >= sessions::failure_delay(attempt), "attempt {attempt} was answered after {took:?}");
        answers.push((known, known_body["code"].as_str().unwrap().to_owned()));
    }
    let expected_last = (StatusCode::TOO_MANY_REQUESTS, "too_many_attempts".to_owned());
    assert!(answers[..answers.len() - 1].iter().all(|a| *a == (StatusCode::UNAUTHORIZED, "invalid_credentials".to_owned())), "{answers:?}");
    assert_eq!(answers.last(), Some(&expected_last));
    // Locked: even the right password is refused for now, quickly.
    let (status, _, problem) = sign_in(&app, "fay@test.example", PASSWORD, "10.3.0.1:5000").await;
    assert_eq!(status, StatusCode::TOO_MANY_REQUESTS, "{problem}");
    assert!(problem["detail"].as_str().unwrap().contains("try again in 15 minutes"), "{problem}");
    assert!(sessions::is_locked(&app.db, "fay@test.example").await.unwrap());

    let (_, users) = app.get("/users").await;
    let fay = users.as_array().unwrap().iter().find(|u| u["email"] == "fay@test.example").unwrap()["id"].as_str().unwrap().to_owned();
    let (status, timeline) = app.get(&format!("/users/{fay}/timeline")).await;
    assert_eq!(status, StatusCode::OK);
    assert_eq!(timeline["items"][0]["kind"], "user.locked_out", "{timeline}");
    assert_eq!(timeline["items"][1]["kind"], "user.sign_in_failed");
    let kinds = app.log_kinds(&app.org).await;
    let failed = kinds.iter().filter(|k| *k == "user.sign_in_failed").count();
    assert_eq!(failed as i64, sessions::ACCOUNT_FAILURES);
    assert_eq!(kinds.iter().filter(|k| *k == "user.locked_out").count(), 1);

    // One address guessing at many accounts is locked out too.
    for n in 0..sessions::ADDRESS_FAILURES {
        sign_in_fast(&app, &format!("guess{n}@test.example")).await;
    }
    add_user(&app, "gus@test.example", "sales").await;
    let (status, _, _) = sign_in(&app, "gus@test.example", PASSWORD, "10.9.9.9:5000").await;
    assert_eq!(status, StatusCode::TOO_MANY_REQUESTS, "the guessing address is locked out");
    let (status, _, _) = sign_in(&app, "gus@test.example", PASSWORD, "10.9.9.10:5000").await;
    assert_eq!(status, StatusCode::OK, "other addresses are not");
});

/// `n` wrong sign-ins sent at once; the answers' statuses, counted.
async fn concurrent_wrong_sign_ins(app: &TestApp, n: usize, email: impl Fn(usize) -> String, peer: impl Fn(usize) -> String) -> Vec<StatusCode> {
    let mut attempts = tokio::task::JoinSet::new();
    for i in 0..n {
        let (router, body) = (app.router.clone(), json!({"email": email(i), "password": "wrong password!!"}));
        let request = request(Method::POST, "/session", Some(body), None, &[], &peer(i));
        attempts.spawn(async move { TestApp::send(&router, request).await.0 });
    }
    attempts.join_all().await
}

fn tally(statuses: &[StatusCode], status: StatusCode) -> usize {
    statuses.iter().filter(|s| **s == status).count()
}

/// How 100 concurrent wrong attempts against a limit of `limit` were
/// answered: at most `limit` were let through to have their password
/// checked (401, or 429 for the one that started the lockout, or 503 if no
/// hashing slot freed up in time, which takes the attempt back); every other
/// attempt was refused unchecked (429). Returns whether the lockout holds.
fn held_to_the_limit(statuses: &[StatusCode], limit: i64) -> bool {
    let (checked, refused, busy) =
        (tally(statuses, StatusCode::UNAUTHORIZED), tally(statuses, StatusCode::TOO_MANY_REQUESTS), tally(statuses, StatusCode::SERVICE_UNAVAILABLE));
    println!("100 concurrent wrong passwords, limit {limit}: {checked} answered 401, {refused} answered 429, {busy} answered 503");
    assert_eq!(checked + refused + busy, statuses.len(), "{statuses:?}");
    let let_through = (checked + busy) as i64;
    assert!(let_through == limit - 1 || let_through == limit, "{let_through} let through for a limit of {limit}: {statuses:?}");
    let_through == limit - 1
}

both_backends!(a_hundred_concurrent_wrong_passwords_are_counted_each_and_lock_the_account_at_the_limit, |app| {
    add_user(&app, "cat@test.example", "finance").await;
    let statuses = concurrent_wrong_sign_ins(&app, 100, |_| "cat@test.example".into(), |i| format!("10.20.{}.{}:5000", i / 200, i % 200)).await;
    let locked = held_to_the_limit(&statuses, sessions::ACCOUNT_FAILURES);
    assert_eq!(locked, sessions::is_locked(&app.db, "cat@test.example").await.unwrap());
    if locked {
        let (status, _, problem) = sign_in(&app, "cat@test.example", PASSWORD, "10.21.0.1:5000").await;
        assert_eq!(status, StatusCode::TOO_MANY_REQUESTS, "the right password is refused while locked: {problem}");
        let kinds = app.log_kinds(&app.org).await;
        assert_eq!(kinds.iter().filter(|k| *k == "user.sign_in_failed").count() as i64, sessions::ACCOUNT_FAILURES);
        assert_eq!(kinds.iter().filter(|k| *k == "user.locked_out").count(), 1);
    }

    // One address guessing at a hundred accounts at once is held to its own limit.
    add_user(&app, "dan@test.example", "sales").await;
    let statuses = concurrent_wrong_sign_ins(&app, 100, |i| format!("guess{i}@test.example"), |_| "10.22.0.1:5000".into()).await;
    if held_to_the_limit(&statuses, sessions::ADDRESS_FAILURES) {
        let (status, _, _) = sign_in(&app, "dan@test.example", PASSWORD, "10.22.0.1:5000").await;
        assert_eq!(status, StatusCode::TOO_MANY_REQUESTS, "the guessing address is locked out");
    }
});

/// One failed sign-in for `email` from the guessing address.
async fn sign_in_fast(app: &TestApp, email: &str) {
    let (status, _, _) = sign_in(app, email, "wrong password!!", "10.9.9.9:5000").await;
    assert!(matches!(status, StatusCode::UNAUTHORIZED | StatusCode::TOO_MANY_REQUESTS));
}

both_backends!(admins_invite_users_change_roles_and_deactivate_them, |app| {
    let (status, invitation) = app.post("/users", json!({"email": "ivy@test.example", "name": "Ivy", "role": "support"})).await;
    assert_eq!(status, StatusCode::CREATED, "{invitation}");
    assert_eq!(invitation["user"]["invited"], true);
    let user = invitation["user"]["id"].as_str().unwrap().to_owned();
    let token = invitation["invitation_token"].as_str().unwrap().to_owned();
    let (status, _, _) = sign_in(&app, "ivy@test.example", PASSWORD, "10.4.0.1:5000").await;
    assert_eq!(status, StatusCode::UNAUTHORIZED, "no password yet");

    let accept = |password: &str| json!({"token": token, "password": password});
    let (status, problem) = app.call_as(None, Method::POST, "/session/invitation", Some(accept("short"))).await;
    assert_eq!((status, problem["errors"][0]["field"].as_str()), (StatusCode::UNPROCESSABLE_ENTITY, Some("password")));
    let (status, accepted) = app.call_as(None, Method::POST, "/session/invitation", Some(accept(PASSWORD))).await;
    assert_eq!((status, accepted["invited"].as_bool()), (StatusCode::OK, Some(false)), "{accepted}");
    let (status, _) = app.call_as(None, Method::POST, "/session/invitation", Some(accept("another long password"))).await;
    assert_eq!(status, StatusCode::NOT_FOUND, "an invitation is used once");
    let (status, headers, _) = sign_in(&app, "ivy@test.example", PASSWORD, "10.4.0.1:5000").await;
    assert_eq!(status, StatusCode::OK);
    let (cookie, _) = cookie_of(&headers);

    // Role changes take effect on the next request.
    let (status, _, _) = TestApp::send(&app.router, request(Method::GET, "/invoices", None, Some(&cookie), &[], "10.4.0.1:5000")).await;
    assert_eq!(status, StatusCode::OK);
    let (status, changed) = app.patch(&format!("/users/{user}"), json!({"role": "fieldworker"})).await;
    assert_eq!((status, changed["role"].as_str()), (StatusCode::OK, Some("fieldworker")));
    let (status, _, _) = TestApp::send(&app.router, request(Method::GET, "/invoices", None, Some(&cookie), &[], "10.4.0.1:5000")).await;
    assert_eq!(status, StatusCode::FORBIDDEN);

    // Admins cannot make owners, lock themselves out, or be handed bad roles.
    let (status, _) = app.patch(&format!("/users/{user}"), json!({"role": "owner"})).await;
    assert_eq!(status, StatusCode::FORBIDDEN);
    let (_, me) = app.get("/users").await;
    let admin = me.as_array().unwrap().iter().find(|u| u["email"] == "admin@test.example").unwrap()["id"].as_str().unwrap().to_owned();
    let (status, problem) = app.patch(&format!("/users/{admin}"), json!({"active": false})).await;
    assert_eq!((status, problem["code"].as_str()), (StatusCode::CONFLICT, Some("own_account")));
    let (status, problem) = app.patch(&format!("/users/{user}"), json!({"role": "wizard"})).await;
    assert_eq!((status, problem["errors"][0]["field"].as_str()), (StatusCode::UNPROCESSABLE_ENTITY, Some("role")));
    let (status, problem) = app.post("/users", json!({"email": "ivy@test.example", "name": "Ivy again", "role": "office"})).await;
    assert_eq!((status, problem["errors"][0]["code"].as_str()), (StatusCode::UNPROCESSABLE_ENTITY, Some("taken")));

    // Deactivating ends their session and tokens at once, and keeps them out.
    let (status, deactivated) = app.patch(&format!("/users/{user}"), json!({"active": false})).await;
    assert_eq!((status, deactivated["active"].as_bool()), (StatusCode::OK, Some(false)));
    let (status, _, _) = TestApp::send(&app.router, request(Method::GET, "/jobs", None, Some(&cookie), &[], "10.4.0.1:5000")).await;
    assert_eq!(status, StatusCode::UNAUTHORIZED);
    let (status, _, _) = sign_in(&app, "ivy@test.example", PASSWORD, "10.4.0.1:5000").await;
    assert_eq!(status, StatusCode::UNAUTHORIZED);

    let kinds = app.log_kinds(&app.org).await;
    for kind in ["user.invited", "user.password_set", "user.signed_in", "user.role_changed", "user.deactivated"] {
        assert!(kinds.iter().any(|k| k == kind), "{kind} not in {kinds:?}");
    }
});

both_backends!(api_tokens_are_shown_once_record_their_use_and_stop_when_revoked, |app| {
    let (status, created) = app.post("/tokens", json!({"name": "Accounting sync"})).await;
    assert_eq!(status, StatusCode::CREATED, "{created}");
    let secret = created["token"].as_str().unwrap().to_owned();
    let id = created["id"].as_str().unwrap().to_owned();
    let (_, listed) = app.get("/tokens").await;
    assert!(!listed.to_string().contains(&secret), "the secret is never listed");
    let mine = |listed: &Value| listed.as_array().unwrap().iter().find(|t| t["id"] == id.as_str()).cloned().unwrap();
    assert_eq!(mine(&listed)["last_used_at"], Value::Null);

    let (status, _) = app.call_as(Some(&secret), Method::GET, "/customers", None).await;
    assert_eq!(status, StatusCode::OK);
    let (_, listed) = app.get("/tokens").await;
    assert!(mine(&listed)["last_used_at"].is_string(), "{listed}");

    // Someone else's token is not theirs to revoke.
    add_user(&app, "sue@test.example", "support").await;
    let sue = dossier_service::tokens::create_token(&app.db, &app.ctx(), "sue@test.example", "sue's").await.unwrap().token;
    let (status, _) = app.call_as(Some(&sue), Method::DELETE, &format!("/tokens/{id}"), None).await;
    assert_eq!(status, StatusCode::NOT_FOUND);
    let (_, sues) = app.call_as(Some(&sue), Method::GET, "/tokens", None).await;
    assert_eq!(sues.as_array().unwrap().len(), 1, "support sees only their own: {sues}");

    let (status, revoked) = app.delete(&format!("/tokens/{id}")).await;
    assert_eq!((status, revoked["revoked_at"].is_string()), (StatusCode::OK, true), "{revoked}");
    let (status, _) = app.call_as(Some(&secret), Method::GET, "/customers", None).await;
    assert_eq!(status, StatusCode::UNAUTHORIZED);
    let kinds = app.log_kinds(&app.org).await;
    assert!(kinds.iter().any(|k| k == "api_token.revoked"), "{kinds:?}");
});

//! The customer portal: staff make a link; with it the customer sees only
//! their own invoices and messages, downloads their statement, and updates
//! their billing address and contact details, recorded as the customer's
//! doing. Revoked, expired or tampered links show nothing. Both backends.

mod common;

use axum::body::Body;
use axum::http::{Method, Request, StatusCode, header};
use common::TestApp;
use dossier_service::portal;
use jiff::{SignedDuration, Timestamp};
use serde_json::{Value, json};

/// GET or form-POST a portal page: status, headers, body text.
async fn portal_call(app: &TestApp, method: Method, path: &str, form: &[(&str, &str)], extra: &[(&str, &str)]) -> (StatusCode, axum::http::HeaderMap, Vec<u8>) {
    let mut builder = Request::builder().method(method.clone()).uri(path).header("host", "dossier.test");
    for (name, value) in extra {
        builder = builder.header(*name, *value);
    }
    let request = if method == Method::POST {
        let body: Vec<String> = form.iter().map(|(k, v)| format!("{}={}", encode(k), encode(v))).collect();
        builder.header(header::CONTENT_TYPE, "application/x-www-form-urlencoded").body(Body::from(body.join("&"))).unwrap()
    } else {
        builder.body(Body::empty()).unwrap()
    };
    let response = tower::ServiceExt::oneshot(app.router.clone(), request).await.unwrap();
    let (status, headers) = (response.status(), response.headers().clone());
    let bytes = http_body_util::BodyExt::collect(response.into_body()).await.unwrap().to_bytes().to_vec();
    (status, headers, bytes)
}

fn encode(text: &str) -> String {
    text.bytes().map(|b| if b.is_ascii_alphanumeric() || b"-_.~".contains(&b) { (b as char).to_string() } else { format!("%{b:02X}") }).collect()
}

async fn page(app: &TestApp, url: &str) -> (StatusCode, String) {
    let (status, headers, body) = portal_call(app, Method::GET, url, &[], &[]).await;
    assert_eq!(headers.get(header::CACHE_CONTROL).map(|v| v.to_str().unwrap()), Some("no-store"), "{url}");
    assert_eq!(headers.get(header::REFERRER_POLICY).map(|v| v.to_str().unwrap()), Some("no-referrer"), "{url}");
    (status, String::from_utf8(body).unwrap())
}

async fn staff_token(app: &TestApp, role: &str) -> String {
    app.user(role).await.1
}

both_backends!(a_customer_sees_only_their_own_account_through_their_link, |app| {
    app.customer(json!({"given_name": "Pat", "family_name": "Portal", "email": "pat@example.com"})).await;
    app.customer(json!({"family_name": "Neighbour"})).await;
    let invoice =
        |customer: &str, price: i64, issue: bool| json!({"customer": customer, "issue": issue, "lines": [{"description": "Work", "unit_price": price}]});
    for body in [invoice("CUS-00001", 12000, true), invoice("CUS-00001", 3000, true), invoice("CUS-00001", 999, false), invoice("CUS-00002", 7777, true)] {
        let (status, created) = app.post("/invoices", body).await;
        assert_eq!(status, StatusCode::CREATED, "{created}");
    }
    let (status, _) = app.post("/payments", json!({"customer": "CUS-00001", "amount": 3000, "allocations": [{"invoice": "INV-00002", "amount": 3000}]})).await;
    assert_eq!(status, StatusCode::CREATED);

    // Staff who may not see money cannot hand out the portal.
    for role in ["fieldworker", "sales"] {
        let token = staff_token(&app, role).await;
        let (status, _) = app.call_as(Some(&token), Method::POST, "/customers/CUS-00001/portal-links", Some(json!({}))).await;
        assert_eq!(status, StatusCode::FORBIDDEN, "{role}");
    }
    let office = staff_token(&app, "office").await;
    let (status, link) = app.call_as(Some(&office), Method::POST, "/customers/CUS-00001/portal-links", Some(json!({}))).await;
    assert_eq!(status, StatusCode::CREATED, "{link}");
    let url = link["url"].as_str().unwrap().to_owned();
    let expires: Timestamp = link["expires_at"].as_str().unwrap().parse().unwrap();
    let days = expires.duration_since(Timestamp::now()).as_hours() / 24;
    assert!((29..=30).contains(&days), "default 30 days, got {days}");
    let (_, links) = app.get("/customers/CUS-00001/portal-links").await;
    assert!(!links.to_string().contains(url.trim_start_matches("/portal/")), "the secret is never listed again");

    // The page: their open and past invoices and balance, nobody else's, no drafts.
    let (status, html) = page(&app, &url).await;
    assert_eq!(status, StatusCode::OK);
    for expected in ["Pat Portal", "CUS-00001", "INV-00001", "INV-00002", "£120.00", "Test Services"] {
        assert!(html.contains(expected), "{expected} missing");
    }
    for absent in ["INV-00003", "INV-00004", "Neighbour", "£77.77"] {
        assert!(!html.contains(absent), "{absent} shown");
    }
    assert!(html.find("INV-00001").unwrap() < html.find("Past invoices").unwrap(), "INV-00001 is open");
    assert!(html.find("INV-00002").unwrap() > html.find("Past invoices").unwrap(), "INV-00002 is paid");
    // Internal history is not a message to the customer.
    assert!(html.contains("No messages."), "internal entries shown");

    let (status, headers, pdf) = portal_call(&app, Method::GET, &format!("{url}/statement.pdf"), &[], &[]).await;
    assert_eq!((status, headers.get(header::CONTENT_TYPE).unwrap().to_str().unwrap()), (StatusCode::OK, "application/pdf"));
    assert!(pdf.starts_with(b"%PDF"));

    // A bad address is refused next to its field, keeping what was typed, and nothing changes.
    let sites = app.count("site").await;
    let bad = [("address_line1", "7 Lime Street"), ("postcode", ""), ("town", "Leeds")];
    let (status, _, body) = portal_call(&app, Method::POST, &format!("{url}/address"), &bad, &[]).await;
    let html = String::from_utf8(body).unwrap();
    assert_eq!(status, StatusCode::UNPROCESSABLE_ENTITY);
    assert!(html.contains("id=\"postcode-error\""), "no error next to postcode");
    assert!(html.contains("value=\"7 Lime Street\""), "typed value lost");
    assert_eq!(app.count("site").await, sites);

    // A good one is saved, as the customer's own doing.
    let good = [("address_line1", "7 Lime Street"), ("postcode", "ls2 7hy"), ("town", "Leeds")];
    let (status, headers, _) = portal_call(&app, Method::POST, &format!("{url}/address"), &good, &[("sec-fetch-site", "same-origin")]).await;
    assert_eq!(status, StatusCode::SEE_OTHER);
    assert_eq!(headers.get(header::LOCATION).unwrap().to_str().unwrap(), format!("{url}?saved=address"));
    let (_, sites) = app.get("/customers/CUS-00001/sites").await;
    assert_eq!((sites[0]["kind"].as_str(), sites[0]["postcode"].as_str()), (Some("billing"), Some("LS2 7HY")), "{sites}");
    let (status, _, _) = portal_call(&app, Method::POST, &format!("{url}/contact"), &[("email", "not an email"), ("phone", "")], &[]).await;
    assert_eq!(status, StatusCode::UNPROCESSABLE_ENTITY);
    let (status, _, _) = portal_call(&app, Method::POST, &format!("{url}/contact"), &[("email", "pat@new.example"), ("phone", "0113 496 0000")], &[]).await;
    assert_eq!(status, StatusCode::SEE_OTHER);
    let (_, customer) = app.get("/customers/CUS-00001").await;
    assert_eq!((customer["email"].as_str(), customer["phone"].as_str()), (Some("pat@new.example"), Some("+441134960000")), "{customer}");

    let (_, timeline) = app.get("/customers/CUS-00001/timeline?actor=customer").await;
    let kinds: Vec<&str> = timeline["items"].as_array().unwrap().iter().map(|a| a["kind"].as_str().unwrap()).collect();
    assert_eq!(kinds, ["customer.updated", "site.created"]);
    assert_eq!(timeline["items"][0]["actor"]["name"], "Pat Portal (via portal)");
    // What they did themselves is theirs to see again.
    let (_, html) = page(&app, &format!("{url}?saved=contact")).await;
    assert!(html.contains("Your contact details were saved.") && html.contains("Site 7 Lime Street"), "{html}");

    // A form posted from another site is refused.
    let (status, _, _) =
        portal_call(&app, Method::POST, &format!("{url}/contact"), &[("email", "evil@example.com")], &[("sec-fetch-site", "cross-site")]).await;
    assert_eq!(status, StatusCode::FORBIDDEN);

    // Revoked: the link shows nothing any more.
    let id = link["id"].as_str().unwrap();
    let (status, _) = app.call_as(Some(&office), Method::DELETE, &format!("/portal-links/{id}"), None).await;
    assert_eq!(status, StatusCode::OK);
    let (status, html) = page(&app, &url).await;
    assert_eq!(status, StatusCode::NOT_FOUND);
    assert!(html.contains("This link is not valid") && !html.contains("Pat"));
    let (_, timeline) = app.get("/customers/CUS-00001/timeline?group=portal").await;
    let kinds: Vec<&str> = timeline["items"].as_array().unwrap().iter().map(|a| a["kind"].as_str().unwrap()).collect();
    assert_eq!(kinds, ["portal_link.revoked", "portal_link.created"]);
});

both_backends!(expired_and_tampered_links_open_nothing, |app| {
    app.customer(json!({"family_name": "Lapsed"})).await;
    let long_ago = app.ctx().at(Timestamp::now() - SignedDuration::from_hours(24 * 31));
    let expired = portal::create_link(&app.db, &long_ago, "CUS-00001", portal::PortalLinkInput::default()).await.unwrap();
    let (status, html) = page(&app, &expired.url).await;
    assert_eq!(status, StatusCode::NOT_FOUND);
    assert!(!html.contains("Lapsed"));

    let (_, live) = app.post("/customers/CUS-00001/portal-links", json!({"expires_in_days": 1})).await;
    let url = live["url"].as_str().unwrap();
    let (status, _) = page(&app, url).await;
    assert_eq!(status, StatusCode::OK);
    let mut tampered = url.to_owned();
    let last = tampered.pop().unwrap();
    tampered.push(if last == 'A' { 'B' } else { 'A' });
    for bad in [tampered.as_str(), "/portal/nothing", "/portal/dsp_00000000000000000000000000000000_x"] {
        let (status, html) = page(&app, bad).await;
        assert_eq!(status, StatusCode::NOT_FOUND, "{bad}");
        assert!(!html.contains("Lapsed"));
    }
    let (status, problem) = app.post("/customers/CUS-00001/portal-links", json!({"expires_in_days": 0})).await;
    assert_eq!((status, problem["errors"][0]["field"].as_str()), (StatusCode::UNPROCESSABLE_ENTITY, Some("expires_in_days")));
    let _: Value = problem;
});

both_backends!(staff_make_copy_and_revoke_a_portal_link_from_the_profile, |app| {
    app.customer(json!({"family_name": "Lee"})).await;
    app.user("office").await;
    let cookie = app.session("office").await;
    let (_, profile) = app.page(Some(&cookie), "/customers/CUS-00001").await;
    assert!(profile.contains("href=\"/customers/CUS-00001/portal-links\""), "the profile offers its portal links");

    let (status, _, page) = app.form(&cookie, "/customers/CUS-00001/portal-links", &[("expires_in_days", "400")]).await;
    assert_eq!(status, StatusCode::UNPROCESSABLE_ENTITY);
    assert!(page.contains("must be 1 to 365"), "{page}");
    let (status, _, page) = app.form(&cookie, "/customers/CUS-00001/portal-links", &[("expires_in_days", "7")]).await;
    assert_eq!(status, StatusCode::CREATED);
    let url = page.split("value=\"").nth(1).unwrap().split('"').next().unwrap().to_owned();
    assert!(url.starts_with("/portal/"), "{url}");
    assert!(page.contains("data-copy=\"portal-url\"") && page.contains(">active<"), "{page}");
    let (status, _) = app.page(None, &url).await;
    assert_eq!(status, StatusCode::OK, "the link opens the portal");

    let id = page.split("data-link=\"").nth(1).unwrap().split('"').next().unwrap().to_owned();
    let (status, location, _) = app.form(&cookie, &format!("/portal-links/{id}/revoke"), &[]).await;
    assert_eq!((status, location.as_str()), (StatusCode::SEE_OTHER, "/customers/CUS-00001/portal-links"));
    let (status, _) = app.page(None, &url).await;
    assert_eq!(status, StatusCode::NOT_FOUND, "a revoked link opens nothing");
    let (_, page) = app.page(Some(&cookie), "/customers/CUS-00001/portal-links").await;
    assert!(page.contains(">revoked<") && !page.contains(">Revoke<"), "{page}");
    let (_, timeline) = app.get("/customers/CUS-00001/timeline?kind=portal_link.created,portal_link.revoked").await;
    assert_eq!(timeline["items"].as_array().unwrap().len(), 2);
});

both_backends!(the_portal_s_balance_and_invoices_follow_a_refund_and_an_allocation_taken_back, |app| {
    app.customer(json!({"family_name": "Portal"})).await;
    app.post("/invoices", json!({"customer": "CUS-00001", "issue": true, "lines": [{"description": "Work", "unit_price": 12000}]})).await;
    let (_, payment) =
        app.post("/payments", json!({"customer": "CUS-00001", "amount": 15000, "allocations": [{"invoice": "INV-00001", "amount": 12000}]})).await;
    let (_, link) = app.post("/customers/CUS-00001/portal-links", json!({})).await;
    let url = link["url"].as_str().unwrap().to_owned();
    let balance = |html: &str| html.split("class=\"balance\">").nth(1).unwrap().split('<').next().unwrap().to_owned();
    let is_open = |html: &str| html.find("INV-00001").unwrap() < html.find("Past invoices").unwrap();

    let (_, html) = page(&app, &url).await;
    assert_eq!(balance(&html), "-£30.00", "in credit by what the payment has left");
    assert!(!is_open(&html));

    let (status, _) = app.post("/payments/PAY-00001/refunds", json!({"amount": 3000, "reason": "Overpaid"})).await;
    assert_eq!(status, StatusCode::OK);
    let (_, html) = page(&app, &url).await;
    assert_eq!(balance(&html), "£0.00", "refunded: nothing owed either way");

    let allocation = payment["allocations"][0]["id"].as_str().unwrap();
    let (status, _) = app.post(&format!("/payments/PAY-00001/allocations/{allocation}/unallocate"), json!({"reason": "Paid the wrong account"})).await;
    assert_eq!(status, StatusCode::OK);
    let (_, html) = page(&app, &url).await;
    assert_eq!(balance(&html), "£0.00", "the payment's money is credit again, the invoice owed again");
    assert!(is_open(&html), "the invoice is open again");
    let (status, _, pdf) = portal_call(&app, Method::GET, &format!("{url}/statement.pdf"), &[], &[]).await;
    assert_eq!(status, StatusCode::OK);
    assert!(pdf.starts_with(b"%PDF"));
});

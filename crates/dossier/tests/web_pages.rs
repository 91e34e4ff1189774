//! The web app's main pages as HTML snapshots (insta), so a change to what
//! a page shows is seen in review. Dates, times and ids are redacted; the
//! rest of the page is compared as it is. Update with
//! `INSTA_UPDATE=always cargo nextest run -E 'binary(web_pages)'` and review
//! the diff.

mod common;

use axum::body::Body;
use axum::http::{Method, Request, StatusCode, header};
use common::TestApp;
use serde_json::json;

const PASSWORD: &str = "correct horse battery";

/// Sign in through the sign-in form; returns the session cookie.
async fn sign_in(app: &TestApp) -> String {
    let mut tx = app.db.begin().await.unwrap();
    let user =
        dossier_service::users::NewUser { email: "olga@test.example".into(), name: "Olga Office".into(), role: "office".into(), password: PASSWORD.into() };
    dossier_service::users::add_user_in(&mut tx, &app.ctx(), user).await.unwrap();
    tx.commit().await.unwrap();
    let body = format!("email=olga%40test.example&password={}&next=%2Fcustomers", PASSWORD.replace(' ', "+"));
    let request = Request::builder()
        .method(Method::POST)
        .uri("/sign-in")
        .header(header::CONTENT_TYPE, "application/x-www-form-urlencoded")
        .body(Body::from(body))
        .unwrap();
    let (status, headers, _) = TestApp::send(&app.router, request).await;
    assert_eq!(status, StatusCode::SEE_OTHER);
    assert_eq!(headers.get(header::LOCATION).unwrap(), "/customers");
    let cookie = headers.get(header::SET_COOKIE).unwrap().to_str().unwrap();
    cookie.split(';').next().unwrap().to_owned()
}

async fn html(app: &TestApp, cookie: Option<&str>, path: &str) -> (StatusCode, String) {
    app.page(cookie, path).await
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn main_pages_render_as_snapshotted() {
    let app = TestApp::new(common::Backend::Sqlite).await.unwrap();
    app.customer(json!({"given_name": "Ann", "family_name": "Lee", "email": "ann@example.com", "phone": "0113 496 0000", "labels": ["VIP"]})).await;
    app.customer(json!({"kind": "business", "business_name": "Shaw Builders", "email": "office@shaw.example"})).await;
    app.post("/customers/CUS-00001/contacts", json!({"family_name": "Lee", "given_name": "Bo", "position": "Partner", "is_billing": true})).await;
    app.post("/customers/CUS-00001/sites", json!({"address_line1": "1 High Street", "town": "Leeds", "postcode": "LS1 4AP"})).await;
    app.post("/jobs", json!({"customer": "CUS-00001", "title": "Boiler service", "value": 12000})).await;
    let (status, _) = app
        .post(
            "/invoices",
            json!({"customer": "CUS-00001", "issue": true, "lines": [{"description": "Boiler service", "unit_price": 10000, "tax_rate_bp": 2000}]}),
        )
        .await;
    assert_eq!(status, StatusCode::CREATED);
    app.post("/payments", json!({"customer": "CUS-00001", "amount": 5000, "allocations": [{"invoice": "INV-00001", "amount": 5000}]})).await;

    let (status, page) = html(&app, None, "/customers").await;
    assert_eq!(status, StatusCode::SEE_OTHER, "{page}");
    let cookie = sign_in(&app).await;
    let pages = [
        ("sign_in", "/sign-in"),
        ("directory", "/customers"),
        ("directory_search", "/customers?q=lee"),
        ("profile_activity", "/customers/CUS-00001"),
        ("profile_timeline", "/customers/CUS-00001?tab=timeline"),
        ("profile_contacts", "/customers/CUS-00001?tab=contacts"),
        ("profile_works", "/customers/CUS-00001?tab=works"),
        ("profile_billing", "/customers/CUS-00001?tab=billing"),
        ("profile_history", "/customers/CUS-00001?tab=history"),
        ("invoice", "/invoices/INV-00001"),
        ("invoice_list", "/invoices"),
        ("job_list", "/jobs"),
        ("new_invoice", "/customers/CUS-00001/invoices/new"),
        ("edit_customer", "/customers/CUS-00001/edit"),
    ];
    let mut settings = insta::Settings::clone_current();
    settings.add_filter(r"\d{4}-\d{2}-\d{2}T\d{2}:\d{2}:\d{2}(\.\d+)?Z", "[instant]");
    settings.add_filter(r"\d{4}-\d{2}-\d{2} \d{2}:\d{2}", "[date time]");
    settings.add_filter(r"\d{4}-\d{2}-\d{2}", "[date]");
    settings.add_filter(r"[0-9a-f]{8}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{12}", "[uuid]");
    settings.add_filter(r"cursor=[A-Za-z0-9_\-]+", "cursor=[cursor]");
    settings
        .bind_async(async {
            for (name, path) in pages {
                let (status, page) = html(&app, Some(&cookie), path).await;
                assert_eq!(status, StatusCode::OK, "{path}: {page}");
                insta::assert_snapshot!(name, page);
            }
        })
        .await;
}

/// POST a form as the signed-in user; returns the status and where it redirects.
async fn post_form(app: &TestApp, cookie: &str, path: &str, form: &[(&str, &str)]) -> (StatusCode, String, String) {
    app.form(cookie, path, form).await
}

both_backends!(editing_a_contact_in_the_form_keeps_what_the_form_does_not_show, |app| {
    app.customer(json!({"family_name": "Lee"})).await;
    let emails = json!([{"address": "bo@work.example"}, {"kind": "home", "address": "bo@home.example"}]);
    let (_, contact) = app.post("/customers/CUS-00001/contacts", json!({"family_name": "Lee", "given_name": "Bo", "emails": emails})).await;
    let id = contact["id"].as_str().unwrap();
    let cookie = sign_in(&app).await;

    // A bad email is refused next to its field; the typed values stay; nothing changes.
    let form = [("family_name", "Lee"), ("given_name", "Bo"), ("email", "not-an-email"), ("position", "Partner")];
    let (status, _, page) = post_form(&app, &cookie, &format!("/contacts/{id}/edit"), &form).await;
    assert_eq!(status, StatusCode::UNPROCESSABLE_ENTITY);
    assert!(page.contains("id=\"email-error\"") && page.contains("value=\"Partner\""), "{page}");
    let (_, unchanged) = app.get(&format!("/contacts/{id}")).await;
    assert_eq!(unchanged["position"], serde_json::Value::Null);

    let form = [("family_name", "Lee"), ("given_name", "Bo"), ("email", "bo@new.example"), ("position", "Partner"), ("is_billing", "on")];
    let (status, location, _) = post_form(&app, &cookie, &format!("/contacts/{id}/edit"), &form).await;
    assert_eq!((status, location.as_str()), (StatusCode::SEE_OTHER, "/customers/CUS-00001?tab=contacts"));
    let (_, changed) = app.get(&format!("/contacts/{id}")).await;
    let addresses: Vec<&str> = changed["emails"].as_array().unwrap().iter().map(|e| e["address"].as_str().unwrap()).collect();
    assert_eq!(addresses, ["bo@new.example", "bo@home.example"], "the second email is kept");
    assert_eq!((changed["position"].as_str(), changed["is_billing"].as_bool()), (Some("Partner"), Some(true)));

    // A site is edited the same way; its timeline records the change by the signed-in user.
    let (_, site) = app.post("/customers/CUS-00001/sites", json!({"address_line1": "1 High Street", "postcode": "LS1 4AP", "access_notes": "Gate 1234"})).await;
    let site_id = site["id"].as_str().unwrap();
    let form = [("kind", "service"), ("address_line1", "1 High Street"), ("postcode", "LS1 4AP"), ("access_notes", "Gate 9999")];
    let (status, _, _) = post_form(&app, &cookie, &format!("/sites/{site_id}/edit"), &form).await;
    assert_eq!(status, StatusCode::SEE_OTHER);
    let (_, timeline) = app.get(&format!("/sites/{site_id}/timeline")).await;
    assert_eq!(timeline["items"][0]["kind"], "site.updated");
    assert_eq!(timeline["items"][0]["actor"]["name"], "Olga Office");
    assert_eq!(timeline["items"][0]["changes"][0]["new"], "Gate 9999");
});

both_backends!(the_directory_says_why_a_search_matched_and_shows_phones_as_people_write_them, |app| {
    app.customer(json!({"kind": "business", "business_name": "Shaw Builders", "phone": "+44 20 7341 9703"})).await;
    app.post("/customers/CUS-00001/contacts", json!({"given_name": "John", "family_name": "Smith"})).await;
    app.customer(json!({"given_name": "Ann", "family_name": "Smith", "email": "ann@example.com", "phone": "020 7341 9704"})).await;
    app.customer(json!({"family_name": "Lee"})).await;
    app.post("/customers/CUS-00003/sites", json!({"address_line1": "1 Smith Street", "postcode": "LS1 4AP"})).await;

    // The API says which field matched each hit.
    let (_, found) = app.get("/customers?q=smith").await;
    let why: Vec<(String, String, String)> = found["items"]
        .as_array()
        .unwrap()
        .iter()
        .map(|c| (c["code"].as_str().unwrap().into(), c["matched"]["field"].as_str().unwrap().into(), c["matched"]["text"].as_str().unwrap().into()))
        .collect();
    assert!(why.contains(&("CUS-00001".into(), "contact_name".into(), "John Smith".into())), "{why:?}");
    assert!(why.contains(&("CUS-00002".into(), "name".into(), "Ann Smith".into())), "{why:?}");
    let (_, by_postcode) = app.get("/customers?q=LS1").await;
    assert_eq!((by_postcode["items"][0]["code"].as_str(), by_postcode["items"][0]["matched"]["field"].as_str()), (Some("CUS-00003"), Some("postcode")));
    let (_, listed) = app.get("/customers").await;
    assert!(listed["items"][0].get("matched").is_none(), "only search results say why they are there");

    // The directory shows it, and phones in the org's national format.
    let cookie = sign_in(&app).await;
    let (_, page) = html(&app, Some(&cookie), "/customers?q=smith").await;
    assert!(page.contains("Contact: John Smith"), "{page}");
    assert!(page.contains("020 7341 9703") && !page.contains(">+442073419703<"), "{page}");

    // A customer without contacts shows their own details on the Contacts tab.
    let (_, page) = html(&app, Some(&cookie), "/customers/CUS-00002?tab=contacts").await;
    assert!(!page.contains("No contacts."), "{page}");
    assert!(page.contains("ann@example.com") && page.contains(">020 7341 9704<") && page.contains("href=\"tel:+442073419704\""), "{page}");
});

both_backends!(site_and_job_forms_take_the_orgs_custom_fields_and_the_pages_show_them, |app| {
    app.customer(json!({"family_name": "Lee"})).await;
    for field in [
        json!({"entity": "site", "key": "boiler_make", "label": "Boiler make", "type": "text"}),
        json!({"entity": "site", "key": "rooms", "label": "Rooms", "type": "number"}),
        json!({"entity": "job", "key": "parking", "label": "Parking", "type": "yes_no"}),
        json!({"entity": "job", "key": "hours", "label": "Hours on site", "type": "number"}),
    ] {
        let (status, body) = app.post("/custom-fields", field).await;
        assert_eq!(status, StatusCode::CREATED, "{body}");
    }
    let cookie = sign_in(&app).await;

    // The new site form has an input per site field; a bad number is
    // refused next to its input, what was typed stays, and no site is made.
    let (_, page) = html(&app, Some(&cookie), "/customers/CUS-00001/sites/new").await;
    assert!(page.contains("name=\"custom_fields.boiler_make\"") && page.contains("name=\"custom_fields.rooms\""), "{page}");
    let mut form = vec![("kind", "service"), ("address_line1", "1 High Street"), ("postcode", "LS1 4AP"), ("custom_fields.boiler_make", "Vaillant")];
    let (status, _, page) = post_form(&app, &cookie, "/customers/CUS-00001/sites/new", &[form.as_slice(), &[("custom_fields.rooms", "abc")]].concat()).await;
    assert_eq!(status, StatusCode::UNPROCESSABLE_ENTITY);
    assert!(page.contains("id=\"custom_fields.rooms-error\"") && page.contains("value=\"Vaillant\""), "{page}");
    let (_, sites) = app.get("/customers/CUS-00001/sites").await;
    assert_eq!(sites.as_array().map(Vec::len), Some(0), "{sites}");

    form.push(("custom_fields.rooms", "4"));
    let (status, location, _) = post_form(&app, &cookie, "/customers/CUS-00001/sites/new", &form).await;
    assert_eq!((status, location.as_str()), (StatusCode::SEE_OTHER, "/customers/CUS-00001?tab=sites"));
    let (_, page) = html(&app, Some(&cookie), "/customers/CUS-00001?tab=sites").await;
    assert!(page.contains("Boiler make: Vaillant; Rooms: 4"), "{page}");

    // Editing the site shows its values and saves changed ones.
    let (_, sites) = app.get("/customers/CUS-00001/sites").await;
    let site_id = sites[0]["id"].as_str().unwrap().to_owned();
    let (_, page) = html(&app, Some(&cookie), &format!("/sites/{site_id}/edit")).await;
    assert!(page.contains("value=\"Vaillant\""), "{page}");
    let form =
        [("kind", "service"), ("address_line1", "1 High Street"), ("postcode", "LS1 4AP"), ("custom_fields.boiler_make", "Baxi"), ("custom_fields.rooms", "")];
    let (status, _, _) = post_form(&app, &cookie, &format!("/sites/{site_id}/edit"), &form).await;
    assert_eq!(status, StatusCode::SEE_OTHER);
    let (_, page) = html(&app, Some(&cookie), "/customers/CUS-00001?tab=sites").await;
    assert!(page.contains("Boiler make: Baxi") && !page.contains("Rooms: 4"), "{page}");

    // The new job form likewise; the job's page shows its values as facts.
    let (_, page) = html(&app, Some(&cookie), "/customers/CUS-00001/jobs/new").await;
    assert!(page.contains("name=\"custom_fields.parking\"") && page.contains("name=\"custom_fields.hours\""), "{page}");
    let form = [("title", "Boiler service"), ("custom_fields.parking", "on"), ("custom_fields.hours", "abc")];
    let (status, _, page) = post_form(&app, &cookie, "/customers/CUS-00001/jobs/new", &form).await;
    assert_eq!(status, StatusCode::UNPROCESSABLE_ENTITY);
    assert!(page.contains("id=\"custom_fields.hours-error\"") && page.contains("value=\"Boiler service\""), "{page}");
    let (_, jobs) = app.get("/jobs?customer=CUS-00001").await;
    assert_eq!(jobs["items"].as_array().map(Vec::len), Some(0), "{jobs}");

    let form = [("title", "Boiler service"), ("custom_fields.parking", "on"), ("custom_fields.hours", "2.5")];
    let (status, location, _) = post_form(&app, &cookie, "/customers/CUS-00001/jobs/new", &form).await;
    assert_eq!((status, location.as_str()), (StatusCode::SEE_OTHER, "/customers/CUS-00001?tab=works&type=jobs"));
    let (_, jobs) = app.get("/jobs?customer=CUS-00001").await;
    assert_eq!(jobs["items"][0]["custom_fields"], json!({"parking": true, "hours": 2.5}));
    let code = jobs["items"][0]["code"].as_str().unwrap();
    let (_, page) = html(&app, Some(&cookie), &format!("/jobs/{code}")).await;
    assert!(page.contains("<dt>Parking</dt><dd>Yes</dd>") && page.contains("<dt>Hours on site</dt><dd>2.5</dd>"), "{page}");
});

both_backends!(a_jobs_custom_fields_are_edited_from_its_page_and_its_history_shows_the_change, |app| {
    app.customer(json!({"family_name": "Lee"})).await;
    for field in [
        json!({"entity": "job", "key": "access", "label": "Access", "type": "text"}),
        json!({"entity": "job", "key": "hours", "label": "Hours on site", "type": "number"}),
    ] {
        let (status, body) = app.post("/custom-fields", field).await;
        assert_eq!(status, StatusCode::CREATED, "{body}");
    }
    let (status, job) =
        app.post("/jobs", json!({"customer": "CUS-00001", "title": "Boiler service", "custom_fields": {"access": "Side gate", "hours": 2}})).await;
    assert_eq!(status, StatusCode::CREATED, "{job}");
    let cookie = sign_in(&app).await;

    // The job's page links to the form, which holds the job's values.
    let (_, page) = html(&app, Some(&cookie), "/jobs/BOK-00001").await;
    assert!(page.contains("href=\"/jobs/BOK-00001/edit\""), "{page}");
    let (status, page) = html(&app, Some(&cookie), "/jobs/BOK-00001/edit").await;
    assert_eq!(status, StatusCode::OK);
    assert!(page.contains("value=\"Side gate\"") && page.contains("name=\"custom_fields.hours\" id=\"custom_fields.hours\" value=\"2\""), "{page}");

    // A bad number is refused beside its input, what was typed stays, and nothing changes.
    let form = [("custom_fields.access", "Back door"), ("custom_fields.hours", "two")];
    let (status, _, page) = post_form(&app, &cookie, "/jobs/BOK-00001/edit", &form).await;
    assert_eq!(status, StatusCode::UNPROCESSABLE_ENTITY);
    assert!(page.contains("id=\"custom_fields.hours-error\"") && page.contains("value=\"Back door\""), "{page}");
    let (_, unchanged) = app.get("/jobs/BOK-00001").await;
    assert_eq!(unchanged["custom_fields"], json!({"access": "Side gate", "hours": 2}));
    let (_, timeline) = app.get("/jobs/BOK-00001/timeline").await;
    assert!(timeline["items"].as_array().unwrap().iter().all(|e| e["kind"] != "job.updated"), "{timeline}");

    // Saved: back on the job's page, which shows the new value, and its
    // History the change, by the signed-in user.
    let form = [("custom_fields.access", "Back door"), ("custom_fields.hours", "2")];
    let (status, location, _) = post_form(&app, &cookie, "/jobs/BOK-00001/edit", &form).await;
    assert_eq!((status, location.as_str()), (StatusCode::SEE_OTHER, "/jobs/BOK-00001"));
    let (_, changed) = app.get("/jobs/BOK-00001").await;
    assert_eq!(changed["custom_fields"], json!({"access": "Back door", "hours": 2}));
    let (_, page) = html(&app, Some(&cookie), "/jobs/BOK-00001").await;
    assert!(page.contains("<dt>Access</dt><dd>Back door</dd>"), "{page}");
    let history = &page[page.find("aria-label=\"History\"").expect("a History section")..];
    assert!(history.contains("<td>custom_fields.access</td><td>Side gate</td><td>Back door</td>") && history.contains("Olga Office"), "{history}");

    // The directory finds the customer by the new words only, and says why.
    let (_, page) = html(&app, Some(&cookie), "/customers?q=door").await;
    assert!(page.contains("CUS-00001") && page.contains("Access: Back door"), "{page}");
    let (_, page) = html(&app, Some(&cookie), "/customers?q=gate").await;
    assert!(!page.contains("CUS-00001"), "{page}");

    // Someone who may not change jobs has no link, and the form refuses them.
    app.user("finance").await;
    let finance = app.session("finance").await;
    let (_, page) = html(&app, Some(&finance), "/jobs/BOK-00001").await;
    assert!(!page.contains("/jobs/BOK-00001/edit"), "{page}");
    let (status, _) = html(&app, Some(&finance), "/jobs/BOK-00001/edit").await;
    assert_eq!(status, StatusCode::FORBIDDEN);
    let (status, _, _) = post_form(&app, &finance, "/jobs/BOK-00001/edit", &[("custom_fields.access", "Roof")]).await;
    assert_eq!(status, StatusCode::FORBIDDEN);
    let (_, unchanged) = app.get("/jobs/BOK-00001").await;
    assert_eq!(unchanged["custom_fields"]["access"], "Back door");
});

both_backends!(a_sites_history_is_the_timeline_tab_narrowed_to_the_site, |app| {
    app.customer(json!({"family_name": "Lee"})).await;
    let (_, high) = app.post("/customers/CUS-00001/sites", json!({"address_line1": "1 High Street", "town": "Leeds", "postcode": "LS1 4AP"})).await;
    let (_, low) = app.post("/customers/CUS-00001/sites", json!({"address_line1": "9 Low Road", "town": "Leeds", "postcode": "LS2 7XY"})).await;
    let (high, low) = (high["id"].as_str().unwrap().to_owned(), low["id"].as_str().unwrap().to_owned());
    app.patch(&format!("/sites/{high}"), json!({"access_notes": "Key in the safe"})).await;
    let (status, job) = app.post("/jobs", json!({"customer": "CUS-00001", "site_id": high, "title": "Boiler service"})).await;
    assert_eq!(status, StatusCode::CREATED, "{job}");
    app.post("/jobs", json!({"customer": "CUS-00001", "site_id": low, "title": "Gutter clearing"})).await;
    let cookie = sign_in(&app).await;

    // Each site on the Sites tab links to its timeline.
    let (_, page) = html(&app, Some(&cookie), "/customers/CUS-00001?tab=sites").await;
    let link = format!("/customers/CUS-00001?tab=timeline&#38;site={high}");
    assert!(page.contains(&format!("href=\"{link}\">Timeline</a>")), "{page}");

    // There: the site's entries alone, as tiles of the same timeline, with
    // the way back to the whole timeline; the same entries as the API's.
    let (status, page) = html(&app, Some(&cookie), &format!("/customers/CUS-00001?tab=timeline&site={high}")).await;
    assert_eq!(status, StatusCode::OK, "{page}");
    assert!(page.contains("History of the site <strong>1 High Street, Leeds LS1 4AP</strong>"), "{page}");
    assert!(page.contains("href=\"/customers/CUS-00001?tab=timeline\">Whole timeline</a>"), "{page}");
    assert!(page.contains("Key in the safe") && page.contains("BOK-00001"), "{page}");
    assert!(!page.contains("9 Low Road") && !page.contains("BOK-00002"), "another site's entries: {page}");
    let (_, api) = app.get(&format!("/sites/{high}/timeline")).await;
    assert_eq!(page.matches("<li data-group=").count(), api["items"].as_array().unwrap().len(), "{page}");
    let (_, whole) = html(&app, Some(&cookie), "/customers/CUS-00001?tab=timeline").await;
    assert!(whole.contains("9 Low Road") && !whole.contains("History of the site"), "{whole}");

    // Its chips narrow the site's history, not the customer's.
    assert!(page.contains(&format!("{link}&#38;group=works\"")), "{page}");
    let (_, works) = html(&app, Some(&cookie), &format!("/customers/CUS-00001?tab=timeline&site={high}&group=works")).await;
    assert!(works.contains("BOK-00001") && !works.contains("Key in the safe"), "{works}");

    // Another customer's site, or no site at all, is not found here.
    app.customer(json!({"family_name": "Khan"})).await;
    let (_, other) = app.post("/customers/CUS-00002/sites", json!({"address_line1": "3 Harbour Road", "postcode": "LS6 2AB"})).await;
    let (status, _) = html(&app, Some(&cookie), &format!("/customers/CUS-00001?tab=timeline&site={}", other["id"].as_str().unwrap())).await;
    assert_eq!(status, StatusCode::NOT_FOUND);
    let (status, _) = html(&app, Some(&cookie), "/customers/CUS-00001?tab=timeline&site=nonsense").await;
    assert_eq!(status, StatusCode::NOT_FOUND);
});

/// The codes of `kind` a page links to (`INV-00001` from `href="/invoices/INV-00001"`), in order.
fn codes_linked(page: &str, kind: &str) -> Vec<String> {
    let marker = format!("href=\"/{kind}/");
    page.match_indices(&marker).map(|(at, _)| page[at + marker.len()..].split('"').next().unwrap().to_owned()).collect()
}

/// Where a page's "Next page" link goes, as a path to fetch.
fn next_link(page: &str) -> Option<String> {
    let end = page.find("\" rel=\"next\"")?;
    let start = page[..end].rfind("href=\"")? + "href=\"".len();
    Some(page[start..end].replace("&#38;", "&").replace("&amp;", "&"))
}

both_backends!(the_invoice_list_filtered_to_overdue_shows_overdue_invoices_and_not_paid_ones, |app| {
    app.customer(json!({"family_name": "Late"})).await;
    app.customer(json!({"family_name": "Paid"})).await;
    app.customer(json!({"family_name": "Punctual"})).await;
    let invoice = |customer: &str, due: &str| json!({"customer": customer, "issue": true, "issue_date": "2026-01-01", "due_date": due, "lines": [{"description": "Work", "unit_price": 1000}]});
    for body in [invoice("CUS-00001", "2026-01-15"), invoice("CUS-00002", "2026-01-15"), invoice("CUS-00003", "2099-01-01")] {
        let (status, created) = app.post("/invoices", body).await;
        assert_eq!(status, StatusCode::CREATED, "{created}");
    }
    let (status, _) = app.post("/payments", json!({"customer": "CUS-00002", "amount": 1000, "allocations": [{"invoice": "INV-00002", "amount": 1000}]})).await;
    assert_eq!(status, StatusCode::CREATED);
    app.user("office").await;
    let cookie = app.session("office").await;

    let (status, page) = html(&app, Some(&cookie), "/invoices?state=overdue").await;
    assert_eq!(status, StatusCode::OK, "{page}");
    assert_eq!(codes_linked(&page, "invoices"), ["INV-00001"], "{page}");
    assert!(page.contains("<a href=\"/customers/CUS-00001\">Late</a>"), "the customer is named and linked: {page}");
    assert!(page.contains("<span class=\"swatch c-red\"></span> Overdue"), "the state's badge: {page}");
    assert!(page.contains("£10.00"), "amounts in the org's money: {page}");
    assert!(page.contains("<option value=\"overdue\" selected>"), "the form keeps the filter: {page}");
    // The same list as the API's.
    let (_, api) = app.get("/invoices?state=overdue").await;
    assert_eq!(api["items"].as_array().unwrap().iter().map(|i| i["code"].as_str().unwrap()).collect::<Vec<_>>(), ["INV-00001"]);

    let (_, page) = html(&app, Some(&cookie), "/invoices").await;
    assert_eq!(codes_linked(&page, "invoices"), ["INV-00003", "INV-00002", "INV-00001"], "newest first: {page}");
    let (_, page) = html(&app, Some(&cookie), "/invoices?state=closed").await;
    assert_eq!(codes_linked(&page, "invoices"), ["INV-00002"], "{page}");
    let (_, page) = html(&app, Some(&cookie), "/invoices?customer=CUS-00003").await;
    assert_eq!(codes_linked(&page, "invoices"), ["INV-00003"], "{page}");

    // Filters that cannot be used are said in words, and nothing is listed.
    let (status, page) = html(&app, Some(&cookie), "/invoices?state=late").await;
    assert_eq!(status, StatusCode::OK);
    assert!(page.contains("role=\"alert\">State: “late” is not one of the list.<"), "{page}");
    assert!(codes_linked(&page, "invoices").is_empty(), "{page}");
    let (_, page) = html(&app, Some(&cookie), "/invoices?customer=CUS-99999").await;
    assert!(page.contains("role=\"alert\">Customer: there is no such customer"), "{page}");
    let (_, page) = html(&app, Some(&cookie), "/invoices?cursor=not-a-cursor").await;
    assert!(page.contains("role=\"alert\">Cursor: is not a cursor this API returned.<"), "{page}");
});

both_backends!(the_job_list_narrows_by_status_and_by_who_goes, |app| {
    app.customer(json!({"family_name": "Lee"})).await;
    app.customer(json!({"kind": "business", "business_name": "Shaw Builders"})).await;
    let (fieldworker, _) = app.user("fieldworker").await;
    let (status, _) = app.post("/jobs", json!({"customer": "CUS-00001", "title": "Boiler service", "value": 12000, "assignees": [fieldworker]})).await;
    assert_eq!(status, StatusCode::CREATED);
    app.post("/jobs", json!({"customer": "CUS-00002", "title": "Gutter clean", "value": 9000})).await;
    app.post("/jobs", json!({"customer": "CUS-00002", "title": "Roof repair"})).await;
    let (status, _) = app.post("/jobs/BOK-00003/status", json!({"status": "cancelled", "notes": "Customer away"})).await;
    assert_eq!(status, StatusCode::OK);
    app.user("office").await;
    let cookie = app.session("office").await;

    let (_, page) = html(&app, Some(&cookie), "/jobs").await;
    assert_eq!(codes_linked(&page, "jobs"), ["BOK-00003", "BOK-00002", "BOK-00001"], "{page}");
    assert!(page.contains("fieldworker user") && page.contains("£120.00"), "who goes, and the value: {page}");
    let (_, page) = html(&app, Some(&cookie), "/jobs?status=cancelled").await;
    assert_eq!(codes_linked(&page, "jobs"), ["BOK-00003"], "{page}");
    assert!(page.contains("<span class=\"swatch c-grey\"></span> Cancelled"), "{page}");
    let (_, page) = html(&app, Some(&cookie), "/jobs?status=to_schedule").await;
    assert_eq!(codes_linked(&page, "jobs"), ["BOK-00002", "BOK-00001"], "{page}");
    let (_, page) = html(&app, Some(&cookie), "/jobs?ongoing=false").await;
    assert_eq!(codes_linked(&page, "jobs"), ["BOK-00003"], "{page}");
    let (_, page) = html(&app, Some(&cookie), &format!("/jobs?assignee={fieldworker}")).await;
    assert_eq!(codes_linked(&page, "jobs"), ["BOK-00001"], "{page}");
    assert!(page.contains(&format!("<option value=\"{fieldworker}\" selected>fieldworker user</option>")), "{page}");
    let (_, page) = html(&app, Some(&cookie), "/jobs?status=finished").await;
    assert!(page.contains("role=\"alert\">Status: “finished” is not one of the list.<"), "{page}");
});

both_backends!(a_list_pages_through_with_the_next_link_and_never_repeats_a_record, |app| {
    app.customer(json!({"family_name": "Lee"})).await;
    for n in 1..=53 {
        let (status, _) = app.post("/inquiries", json!({"customer": "CUS-00001", "title": format!("Inquiry {n}")})).await;
        assert_eq!(status, StatusCode::CREATED);
    }
    let (status, _) = app.post("/inquiries/INQ-00007/status", json!({"status": "lost", "reason": "Went elsewhere"})).await;
    assert_eq!(status, StatusCode::OK);
    app.user("sales").await;
    let cookie = app.session("sales").await;

    let (_, first) = html(&app, Some(&cookie), "/inquiries?status=new").await;
    let mut seen = codes_linked(&first, "inquiries");
    assert_eq!(seen.len(), 50, "a page holds 50: {first}");
    let next = next_link(&first).expect("a next page");
    assert!(next.starts_with("/inquiries?status=new&cursor="), "the next page keeps the filter: {next}");
    let (status, second) = html(&app, Some(&cookie), &next).await;
    assert_eq!(status, StatusCode::OK, "{second}");
    seen.extend(codes_linked(&second, "inquiries"));
    assert_eq!(next_link(&second), None, "the last page: {second}");
    let mut expected: Vec<String> = (1..=53).rev().filter(|n| *n != 7).map(|n| format!("INQ-{n:05}")).collect();
    assert_eq!(seen, expected, "every new inquiry once, newest first");
    expected.sort();
    expected.dedup();
    assert_eq!(expected.len(), 52);
});

both_backends!(a_fieldworker_gets_no_money_lists_and_no_links_to_them, |app| {
    app.customer(json!({"family_name": "Lee"})).await;
    app.customer(json!({"family_name": "Other"})).await;
    let (fieldworker, _) = app.user("fieldworker").await;
    app.post("/jobs", json!({"customer": "CUS-00001", "title": "Mine", "value": 12000, "assignees": [fieldworker]})).await;
    app.post("/jobs", json!({"customer": "CUS-00002", "title": "Not mine"})).await;
    app.post("/invoices", json!({"customer": "CUS-00001", "issue": true, "lines": [{"description": "Work", "unit_price": 1000}]})).await;
    let cookie = app.session("fieldworker").await;

    for path in ["/invoices", "/invoices?state=overdue", "/invoices?state=bogus", "/payments", "/credit-notes", "/quotes", "/inquiries"] {
        let (status, page) = html(&app, Some(&cookie), path).await;
        assert_eq!(status, StatusCode::FORBIDDEN, "{path}: {page}");
        assert!(!page.contains("INV-00001"), "{path}: {page}");
    }
    let (status, page) = html(&app, Some(&cookie), "/jobs").await;
    assert_eq!(status, StatusCode::OK, "{page}");
    assert_eq!(codes_linked(&page, "jobs"), ["BOK-00001"], "only their own jobs: {page}");
    assert!(!page.contains("£") && !page.contains(">Value<"), "no amounts: {page}");
    assert!(!page.contains("name=\"assignee\""), "no one else to choose: {page}");
    let nav = &page[page.find("<nav aria-label=\"Main\">").unwrap()..page.find("</nav>").unwrap()];
    for hidden in ["/invoices", "/payments", "/credit-notes", "/quotes", "/inquiries", "/settings"] {
        assert!(!nav.contains(&format!("href=\"{hidden}\"")), "no link to {hidden}: {nav}");
    }
    for shown in ["/customers", "/jobs", "/my-jobs", "/follow-ups"] {
        assert!(nav.contains(&format!("href=\"{shown}\"")), "a link to {shown}: {nav}");
    }

    // The office sees every list in its navigation.
    app.user("office").await;
    let cookie = app.session("office").await;
    let (_, page) = html(&app, Some(&cookie), "/customers").await;
    for shown in ["/inquiries", "/quotes", "/jobs", "/invoices", "/payments", "/credit-notes"] {
        assert!(page.contains(&format!("<a href=\"{shown}\">")), "a link to {shown}: {page}");
    }
});

both_backends!(the_follow_ups_page_shows_everyones_under_anyone, |app| {
    app.customer(json!({"family_name": "Lee"})).await;
    let (office_id, _) = app.user("office").await;
    let (sales_id, _) = app.user("sales").await;
    let tomorrow = (jiff::Zoned::now().with_time_zone(jiff::tz::TimeZone::UTC).date() + jiff::ToSpan::days(1)).to_string();
    for (title, assignee) in [("Send the quote", &sales_id), ("Call back", &office_id)] {
        let (status, body) = app.post("/customers/CUS-00001/follow-ups", json!({"title": title, "due_on": tomorrow, "assignee_id": assignee})).await;
        assert_eq!(status, StatusCode::CREATED, "{body}");
    }
    let cookie = app.session("office").await;

    // Mine: the office user's own, by when.
    let (_, mine) = html(&app, Some(&cookie), "/follow-ups").await;
    assert!(mine.contains("<h1>My follow-ups</h1>") && mine.contains("aria-label=\"Upcoming\""), "{mine}");
    assert!(mine.contains("Call back") && !mine.contains("Send the quote"), "{mine}");
    // Anyone's: the sales user's too, with whose it is.
    let (status, anyone) = html(&app, Some(&cookie), "/follow-ups?assignee=anyone").await;
    assert_eq!(status, StatusCode::OK, "{anyone}");
    assert!(anyone.contains("<h1>Everyone&#39;s follow-ups</h1>"), "{anyone}");
    assert!(anyone.contains("Send the quote") && anyone.contains("sales user") && anyone.contains("Call back"), "{anyone}");
    // One person's.
    let (_, theirs) = html(&app, Some(&cookie), &format!("/follow-ups?assignee={sales_id}")).await;
    assert!(theirs.contains("Send the quote") && !theirs.contains("Call back"), "{theirs}");
    // Closed ones are found by their status.
    let (_, open) = app.get("/follow-ups?assignee=anyone").await;
    let id = open["items"].as_array().unwrap().iter().find(|f| f["title"] == "Send the quote").unwrap()["id"].as_str().unwrap().to_owned();
    let back = "/follow-ups?assignee=anyone&status=open";
    let (status, location, _) = app.form(&cookie, &format!("/follow-ups/{id}/change"), &[("action", "done"), ("back", back)]).await;
    assert_eq!((status, location.as_str()), (StatusCode::SEE_OTHER, back));
    let (_, open) = html(&app, Some(&cookie), back).await;
    assert!(!open.contains("Send the quote"), "{open}");
    let (_, done) = html(&app, Some(&cookie), "/follow-ups?assignee=anyone&status=done").await;
    assert!(done.contains("Send the quote") && !done.contains("Call back"), "{done}");
    let (_, bad) = html(&app, Some(&cookie), "/follow-ups?status=later").await;
    assert!(bad.contains("role=\"alert\">Status: “later” is not one of the list.<"), "{bad}");

    // The API lists everyone's the same way.
    let (_, everyone) = app.get("/follow-ups?assignee=anyone&status=done").await;
    assert_eq!(everyone["items"].as_array().unwrap().len(), 1, "{everyone}");
});

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn the_background_tasks_page_renders_as_snapshotted() {
    use dossier_service::tasks::{self, NewTask, TaskKind};
    use dossier_store::queries as q;
    let app = TestApp::new(common::Backend::Sqlite).await.unwrap();
    // The org's first quote expiry (done) and a task that failed its only attempt.
    let mut tx = app.db.begin().await.unwrap();
    let new = NewTask { kind: TaskKind::ExpireQuotes, payload: json!({}), run_at: jiff::Timestamp::now(), dedupe_key: None, max_attempts: Some(1) };
    let failing = tasks::enqueue_in(&mut tx, &app.ctx(), new).await.unwrap().unwrap();
    let now = jiff::Timestamp::now().as_microsecond();
    let claimed = q::claim_tasks(&mut tx.handle(), "snapshot-worker", now, now + 60_000_000, 10).await.unwrap();
    for task in claimed {
        let ending = if task.id == failing.0 { dossier_store::Ending::Failed { error: "the SMTP server said no" } } else { dossier_store::Ending::Done };
        assert!(q::end_attempt(&mut tx.handle(), task.org_id, task.id, "snapshot-worker", ending, now).await.unwrap());
    }
    tx.commit().await.unwrap();
    let cookie = app.session("admin").await;
    let mut settings = insta::Settings::clone_current();
    settings.add_filter(r"\d{4}-\d{2}-\d{2} \d{2}:\d{2}", "[date time]");
    settings.add_filter(r"[0-9a-f]{8}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{12}", "[uuid]");
    settings
        .bind_async(async {
            let (status, page) = html(&app, Some(&cookie), "/admin/tasks").await;
            assert_eq!(status, StatusCode::OK, "{page}");
            insta::assert_snapshot!("background_tasks", page);
        })
        .await;
}

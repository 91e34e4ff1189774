//! Lists as CSV (every matching row, cells safe for spreadsheets, the
//! customers' CSV re-importable), and one customer's export (a
//! data-subject access request), on SQLite and PostgreSQL.

mod common;

use std::io::Read;

use axum::body::Body;
use axum::http::{HeaderMap, Method, Request, StatusCode};
use dossier_domain::activity::{Actor, ActorType};
use dossier_domain::ids::UserId;
use dossier_domain::role::Role;
use dossier_service::data::import::{self, ImportFile};
use dossier_service::{Ctx, Org};
use http_body_util::BodyExt;
use serde_json::{Value, json};
use tower::ServiceExt;

/// GET `path` of the app with an `authorization` or `cookie` header and
/// an optional `Accept`: status, headers and the body's bytes.
async fn fetch(app: &common::TestApp, auth: (&str, &str), path: &str, accept: Option<&str>) -> (StatusCode, HeaderMap, Vec<u8>) {
    let mut request = Request::builder().uri(path).header(auth.0, auth.1);
    if let Some(accept) = accept {
        request = request.header("accept", accept);
    }
    let response = app.router.clone().oneshot(request.body(Body::empty()).unwrap()).await.unwrap();
    let (status, headers) = (response.status(), response.headers().clone());
    (status, headers, response.into_body().collect().await.unwrap().to_bytes().to_vec())
}

/// A list of the API as CSV, as `token`: status and the CSV's text.
async fn api_csv(app: &common::TestApp, token: &str, path: &str) -> (StatusCode, String) {
    let (status, headers, body) = fetch(app, ("authorization", &format!("Bearer {token}")), &format!("/api/v1{path}"), Some("text/csv")).await;
    if status == StatusCode::OK {
        assert_eq!(headers["content-type"], "text/csv; charset=utf-8");
        assert!(headers["content-disposition"].to_str().unwrap().starts_with("attachment; filename="));
    }
    (status, String::from_utf8(body).unwrap())
}

/// A CSV's header and rows.
fn parse(text: &str) -> (Vec<String>, Vec<Vec<String>>) {
    let mut reader = csv::Reader::from_reader(text.as_bytes());
    let header = reader.headers().unwrap().iter().map(str::to_owned).collect();
    let rows = reader.records().map(|r| r.unwrap().iter().map(str::to_owned).collect()).collect();
    (header, rows)
}

fn codes(page: &Value) -> Vec<String> {
    page["items"].as_array().unwrap().iter().map(|c| c["code"].as_str().unwrap().to_owned()).collect()
}

/// The admin of `org`, as a person (the importer names them).
fn admin_of(org: &Org) -> Ctx {
    let actor = Actor { kind: ActorType::User, id: None, name: "Ada Admin".into() };
    Ctx::new(org.clone(), actor, Some(UserId(uuid::Uuid::now_v7())), Some(Role::Admin))
}

async fn define_tier(app: &common::TestApp, token: &str) {
    let body = json!({"entity": "customer", "key": "tier", "label": "Tier", "type": "choice", "options": ["Gold", "Silver"]});
    let (status, field) = app.call_as(Some(token), Method::POST, "/custom-fields", Some(body)).await;
    assert_eq!(status, StatusCode::CREATED, "{field}");
}

both_backends!(a_filtered_csv_holds_every_row_of_the_filtered_list, |app| {
    define_tier(&app, &app.token).await;
    for (name, labels, tier) in
        [("Able", json!(["VIP"]), "Gold"), ("Baker", json!(["VIP"]), "Silver"), ("Cole", json!(["VIP"]), "Gold"), ("Dunn", json!([]), "Gold")]
    {
        app.customer(json!({"family_name": name, "labels": labels, "custom_fields": {"tier": tier}})).await;
    }
    // The directory with a label and a custom field filter: every match,
    // not one page (the limit is ignored), in the list's order.
    let (_, listed) = app.get("/customers?label=VIP&cf.tier=Gold&limit=200").await;
    let (status, text) = api_csv(&app, &app.token, "/customers?label=VIP&cf.tier=Gold&limit=1").await;
    assert_eq!(status, StatusCode::OK, "{text}");
    let (header, rows) = parse(&text);
    assert_eq!(header[0], "Reference");
    let exported: Vec<String> = rows.iter().map(|r| r[0].clone()).collect();
    assert_eq!(exported, codes(&listed));
    assert_eq!(exported, ["CUS-00001", "CUS-00003"]);

    // The lists of works and money, filtered by customer.
    for (path, body) in [
        ("/inquiries", json!({"customer": "CUS-00001", "title": "Leak"})),
        ("/inquiries", json!({"customer": "CUS-00002", "title": "Drip"})),
        ("/quotes", json!({"customer": "CUS-00001", "title": "Quote", "lines": [{"description": "x", "unit_price": 100}]})),
        ("/jobs", json!({"customer": "CUS-00001", "title": "Job"})),
        ("/jobs", json!({"customer": "CUS-00001", "title": "Second job"})),
        ("/invoices", json!({"customer": "CUS-00001", "issue": true, "lines": [{"description": "Visit", "unit_price": 8000}]})),
        ("/invoices", json!({"customer": "CUS-00001", "issue": true, "lines": [{"description": "Visit", "unit_price": 9000}]})),
        ("/invoices", json!({"customer": "CUS-00002", "issue": true, "lines": [{"description": "Visit", "unit_price": 7000}]})),
        ("/payments", json!({"customer": "CUS-00001", "amount": 5000, "method": "card"})),
        ("/credit-notes", json!({"customer": "CUS-00001", "amount": 1000, "reason": "Goodwill"})),
    ] {
        let (status, made) = app.post(path, body).await;
        assert_eq!(status, StatusCode::CREATED, "{path}: {made}");
    }
    for path in ["/inquiries", "/quotes", "/jobs", "/invoices", "/payments", "/credit-notes"] {
        for filter in ["?customer=CUS-00001", "?customer=CUS-00002", ""] {
            let (_, listed) = app.get(&format!("{path}{filter}")).await;
            let (status, text) = api_csv(&app, &app.token, &format!("{path}{filter}")).await;
            assert_eq!(status, StatusCode::OK, "{path}{filter}: {text}");
            let exported: Vec<String> = parse(&text).1.iter().map(|r| r[0].clone()).collect();
            assert_eq!(exported, codes(&listed), "{path}{filter}");
        }
    }
    let (_, text) = api_csv(&app, &app.token, "/invoices?customer=CUS-00001").await;
    let (header, rows) = parse(&text);
    assert_eq!(header, ["Invoice", "Customer code", "Customer", "State", "Issued", "Due", "Total", "To pay"]);
    assert_eq!((rows[0][1].as_str(), rows[0][2].as_str(), rows[0][6].as_str()), ("CUS-00001", "Able", "90.00"), "{rows:?}");

    // A bad filter is refused as the list refuses it.
    let (status, problem) = api_csv(&app, &app.token, "/invoices?state=lost").await;
    assert_eq!(status, StatusCode::UNPROCESSABLE_ENTITY, "{problem}");
    // Without Accept: text/csv, the list is JSON as before.
    let (status, page) = app.get("/invoices?limit=1").await;
    assert_eq!((status, page["items"].as_array().unwrap().len()), (StatusCode::OK, 1));
});

both_backends!(every_dangerous_first_character_is_neutralised, |app| {
    for source in ["=HYPERLINK(\"http://evil.example\")", "+1+2", "-2+3", "@SUM(A1)", "Referral"] {
        app.customer(json!({"family_name": format!("Source {source}"), "source": source, "phone": "+44 7911 123456"})).await;
    }
    let (_, text) = api_csv(&app, &app.token, "/customers?sort=code").await;
    let (header, rows) = parse(&text);
    let at = |name: &str| header.iter().position(|h| h == name).unwrap();
    let sources: Vec<&str> = rows.iter().map(|r| r[at("Source")].as_str()).collect();
    assert_eq!(sources, ["'=HYPERLINK(\"http://evil.example\")", "'+1+2", "'-2+3", "'@SUM(A1)", "Referral"]);
    assert!(rows.iter().all(|r| r[at("Phone")] == "'+447911123456"), "{rows:?}");
    assert!(!text.lines().skip(1).any(|line| line.starts_with(['=', '+', '-', '@', '\t', '\r'])), "{text}");
    // Tabs and carriage returns are refused or trimmed by every text field;
    // the neutralising function's own tests cover them.
});

both_backends!(the_customers_csv_reimports_as_nothing_new_here_and_as_new_customers_elsewhere, |app| {
    define_tier(&app, &app.token).await;
    let ann = json!({"given_name": "Ann", "family_name": "Able", "email": "ann@example.com", "phone": "+44 7911 123456",
                     "source": "-from the fair", "labels": ["VIP", "Garden"], "custom_fields": {"tier": "Gold"}});
    app.customer(ann).await;
    app.post("/customers/CUS-00001/sites", json!({"name": "Home", "address_line1": "1 High St", "town": "Leeds", "postcode": "LS1 4AP"})).await;
    app.customer(json!({"kind": "business", "business_name": "Acme Ltd", "email": "office@acme.example"})).await;
    let contact = json!({"given_name": "Bo", "family_name": "Owner", "position": "Director", "is_primary": true,
                         "emails": [{"address": "bo@acme.example"}], "phones": [{"kind": "mobile", "number": "07911 123457"}, {"kind": "work", "number": "020 7946 0123"}]});
    let (status, made) = app.post("/customers/CUS-00002/contacts", contact).await;
    assert_eq!(status, StatusCode::CREATED, "{made}");
    app.customer(json!({"given_name": "Cy", "family_name": "Cole"})).await;
    let (status, _) = app.post("/customers/CUS-00003/status", json!({"status": "dormant", "reason": "Quiet"})).await;
    assert_eq!(status, StatusCode::OK);

    let (status, text) = api_csv(&app, &app.token, "/customers").await;
    assert_eq!(status, StatusCode::OK, "{text}");
    let dir = tempfile::tempdir().unwrap();
    let path = dir.path().join("customers.csv");
    std::fs::write(&path, &text).unwrap();
    let file = ImportFile { path: path.clone(), file_name: "customers.csv".into() };

    // Into the same org: every column maps itself, nothing is invalid, nothing is new.
    let ctx = admin_of(&app.org);
    let preview = import::preview(&app.db, &ctx, &path).await.unwrap();
    assert!(preview.suggested.columns.iter().all(Option::is_some), "{:?} {:?}", preview.header, preview.suggested);
    assert_eq!(preview.header.len(), 29, "the importer's 28 columns and the Tier field");
    let report = import::dry_run(&app.db, &ctx, &file, preview.suggested.clone(), |_| {}).await.unwrap();
    assert_eq!((report.rows, report.invalid, report.valid, report.already_imported), (3, 0, 0, 3), "{report:#?}");
    let found: Vec<Option<&str>> = report.outcomes.iter().map(|o| o.customer.as_deref()).collect();
    assert_eq!(found, [Some("CUS-00001"), Some("CUS-00002"), Some("CUS-00003")]);
    let customers_before = app.count("customer").await;
    let report = import::run_import(&app.db, &ctx, &file, preview.suggested.clone(), |_| {}).await.unwrap();
    assert_eq!((report.created, report.already_imported), (0, 3));
    assert_eq!(app.count("customer").await, customers_before);

    // Into another org: the same file creates the three customers as they
    // were, though that org's own CUS-00001 (someone else) has a code of the file.
    let (fresh, token) = app.add_org("Fresh Services", "admin@fresh.example").await;
    define_tier(&app, &token).await;
    let (status, _) = app.call_as(Some(&token), Method::POST, "/customers", Some(json!({"family_name": "Zulu"}))).await;
    assert_eq!(status, StatusCode::CREATED);
    let ctx = admin_of(&fresh);
    let preview = import::preview(&app.db, &ctx, &path).await.unwrap();
    assert!(preview.suggested.columns.iter().all(Option::is_some));
    let report = import::dry_run(&app.db, &ctx, &file, preview.suggested.clone(), |_| {}).await.unwrap();
    assert_eq!((report.invalid, report.valid, report.already_imported), (0, 3, 0), "{report:#?}");
    let report = import::run_import(&app.db, &ctx, &file, preview.suggested, |_| {}).await.unwrap();
    assert_eq!(report.created, 3, "{report:#?}");
    let get = |path: String| {
        let token = token.clone();
        let app = &app;
        async move { app.call_as(Some(&token), Method::GET, &path, None).await.1 }
    };
    let created: Vec<Option<&str>> = report.outcomes.iter().map(|o| o.customer.as_deref()).collect();
    assert_eq!(created, [Some("CUS-00002"), Some("CUS-00003"), Some("CUS-00004")]);
    let ann = get("/customers/CUS-00002".into()).await;
    assert_eq!(
        (ann["phone"].as_str(), ann["email"].as_str(), ann["source"].as_str(), ann["custom_fields"]["tier"].as_str()),
        (Some("+447911123456"), Some("ann@example.com"), Some("-from the fair"), Some("Gold")),
        "{ann}"
    );
    let mut labels: Vec<&str> = ann["labels"].as_array().unwrap().iter().map(|l| l.as_str().unwrap()).collect();
    labels.sort_unstable();
    assert_eq!(labels, ["Garden", "VIP"]);
    let sites = get("/customers/CUS-00002/sites".into()).await;
    assert_eq!((sites[0]["postcode"].as_str(), sites[0]["town"].as_str()), (Some("LS1 4AP"), Some("Leeds")), "{sites}");
    let contacts = get("/customers/CUS-00003/contacts".into()).await;
    let bo = contacts.as_array().unwrap().iter().find(|c| c["family_name"] == "Owner").unwrap_or_else(|| panic!("{contacts}"));
    let numbers: Vec<&str> = bo["phones"].as_array().unwrap().iter().map(|p| p["number"].as_str().unwrap()).collect();
    assert!(numbers.contains(&"+447911123457") && numbers.contains(&"+442079460123"), "{bo}");
    assert_eq!(get("/customers/CUS-00004".into()).await["status"], "dormant");
});

both_backends!(a_fieldworker_gets_no_money_csv, |app| {
    app.customer(json!({"family_name": "Lee"})).await;
    let (_, fieldworker) = app.user("fieldworker").await;
    for path in ["/invoices", "/payments", "/credit-notes"] {
        let (status, text) = api_csv(&app, &fieldworker, path).await;
        assert_eq!(status, StatusCode::FORBIDDEN, "{path}: {text}");
    }
    let (status, text) = api_csv(&app, &fieldworker, "/jobs").await;
    assert_eq!(status, StatusCode::OK);
    assert!(!parse(&text).0.iter().any(|h| h == "Value"), "no amount for a fieldworker: {text}");
    let cookie = app.session("fieldworker").await;
    for path in ["/invoices.csv", "/payments.csv", "/credit-notes.csv"] {
        let (status, _, _) = fetch(&app, ("cookie", &cookie), path, None).await;
        assert_eq!(status, StatusCode::FORBIDDEN, "{path}");
    }
});

/// Every entry of a ZIP: name and content.
fn entries(bytes: &[u8]) -> Vec<(String, Vec<u8>)> {
    let mut archive = zip::ZipArchive::new(std::io::Cursor::new(bytes)).unwrap();
    (0..archive.len())
        .map(|i| {
            let mut file = archive.by_index(i).unwrap();
            let mut content = Vec::new();
            file.read_to_end(&mut content).unwrap();
            (file.name().unwrap().to_string(), content)
        })
        .collect()
}

both_backends!(a_customers_export_holds_everything_about_them_and_nothing_of_anyone_else, |app| {
    let sam = app.customer(json!({"given_name": "<script>alert(1)</script>", "family_name": "Smith", "email": "sam@example.com"})).await;
    app.post("/customers/CUS-00001/sites", json!({"address_line1": "1 High St", "postcode": "LS1 4AP"})).await;
    app.post("/customers/CUS-00001/contacts", json!({"given_name": "Sue", "family_name": "Smith"})).await;
    app.post("/customers/CUS-00001/messages", json!({"channel": "note", "body": "Gate code 4321"})).await;
    let (status, uploaded) = app.upload("/customers/CUS-00001/files", &[], &[("boiler notes.txt", b"Serial 12345")]).await;
    assert_eq!(status, StatusCode::CREATED, "{uploaded}");
    app.post("/inquiries", json!({"customer": "CUS-00001", "title": "Leak"})).await;
    app.post("/invoices", json!({"customer": "CUS-00001", "issue": true, "lines": [{"description": "Visit", "unit_price": 8000}]})).await;
    app.post("/payments", json!({"customer": "CUS-00001", "amount": 8000, "method": "card"})).await;
    let other = app.customer(json!({"family_name": "Otherperson", "email": "other@example.com"})).await;
    app.post("/customers/CUS-00002/messages", json!({"channel": "note", "body": "Other secret"})).await;
    app.post("/invoices", json!({"customer": "CUS-00002", "issue": true, "lines": [{"description": "Other visit", "unit_price": 100}]})).await;

    let auth = format!("Bearer {}", app.token);
    let (status, headers, zip) = fetch(&app, ("authorization", &auth), "/api/v1/customers/CUS-00001/export", None).await;
    assert_eq!(status, StatusCode::OK, "{}", String::from_utf8_lossy(&zip));
    assert_eq!(headers["content-type"], "application/zip");
    let entries = entries(&zip);
    let names: Vec<&str> = entries.iter().map(|(n, _)| n.as_str()).collect();
    for part in [
        "index.html",
        "profile/customer.json",
        "profile/labels.json",
        "contacts.json",
        "sites.json",
        "works/inquiries.json",
        "works/quotes.json",
        "works/jobs.json",
        "money/invoices.json",
        "money/payments.json",
        "money/credit_notes.json",
        "money/refunds.json",
        "messages.json",
        "files.json",
        "timeline.json",
    ] {
        assert!(names.contains(&part), "{part} missing from {names:?}");
    }
    let text = |name: &str| String::from_utf8(entries.iter().find(|(n, _)| n == name).unwrap().1.clone()).unwrap();
    let json = |name: &str| serde_json::from_str::<Value>(&text(name)).unwrap();
    assert_eq!(json("profile/customer.json")[0]["email"], "sam@example.com");
    assert_eq!(json("messages.json").as_array().unwrap().len(), 1);
    assert_eq!(json("messages.json")[0]["body"], "Gate code 4321");
    assert_eq!(json("money/invoices.json").as_array().unwrap().len(), 1);
    assert_eq!(json("works/inquiries.json")[0]["title"], "Leak");
    let timeline = json("timeline.json");
    let first = &timeline[0];
    assert_eq!((first["kind"].as_str(), first["actor_name"].as_str()), (Some("customer.created"), Some("Ada Admin")), "{first}");
    assert!(first["occurred_at"].as_str().unwrap().ends_with('Z'), "times are RFC 3339: {first}");
    // The file's content is inside, where files.json and the summary say.
    let files = json("files.json");
    let inside = files[0]["content"].as_str().unwrap();
    assert!(inside.starts_with("files/") && inside.ends_with("-boiler_notes.txt"), "{inside}");
    assert_eq!(entries.iter().find(|(n, _)| n == inside).unwrap().1, b"Serial 12345");

    // The summary names the customer, escapes their markup and runs nothing.
    let html = text("index.html");
    assert!(html.contains("&lt;script&gt;alert(1)&lt;/script&gt; Smith"), "{html}");
    assert!(!html.to_lowercase().contains("<script"), "{html}");
    assert!(html.contains(&format!("<a href=\"{inside}\">boiler notes.txt</a>")), "{html}");
    assert!(html.contains("Gate code 4321") && html.contains("CUS-00001"));

    // Nothing of the other customer.
    let other_id = other["id"].as_str().unwrap();
    for (name, content) in &entries {
        let content = String::from_utf8_lossy(content);
        for secret in ["Otherperson", "other@example.com", "Other secret", "Other visit", other_id] {
            assert!(!content.contains(secret), "{name} holds {secret}");
        }
    }
    // The export is in the customer's history: who, whose, when.
    let (_, timeline) = app.get("/customers/CUS-00001/timeline").await;
    let newest = &timeline["items"][0];
    assert_eq!(newest["kind"], "customer.data_exported", "{newest}");
    assert_eq!(newest["summary"], "Personal data of CUS-00001 exported by Ada Admin (a data-subject access request)");
    assert_eq!(newest["customer_id"], sam["id"]);

    // Only owners and admins; another org's admin finds no such customer.
    let (_, office) = app.user("office").await;
    let (status, _) = app.call_as(Some(&office), Method::GET, "/customers/CUS-00001/export", None).await;
    assert_eq!(status, StatusCode::FORBIDDEN);
    let (_, other_org) = app.add_org("Other Services", "admin@other.example").await;
    let (status, _) = app.call_as(Some(&other_org), Method::GET, &format!("/customers/{}/export", sam["id"].as_str().unwrap()), None).await;
    assert_eq!(status, StatusCode::NOT_FOUND);

    // A deleted customer still exports (the request still applies), and so
    // does an erased one, with what is left.
    let (status, _) = app.delete("/customers/CUS-00002").await;
    assert_eq!(status, StatusCode::OK);
    let (status, _, zip) = fetch(&app, ("authorization", &auth), "/api/v1/customers/CUS-00002/export", None).await;
    assert_eq!(status, StatusCode::OK, "{}", String::from_utf8_lossy(&zip));
    let (status, erased) = app.post("/customers/CUS-00001/erasure", json!({"reason": "Request 17"})).await;
    assert_eq!(status, StatusCode::OK, "{erased}");
    let (status, _, zip) = fetch(&app, ("authorization", &auth), "/api/v1/customers/CUS-00001/export", None).await;
    assert_eq!(status, StatusCode::OK);
    let entries = self::entries(&zip);
    let index = String::from_utf8(entries.iter().find(|(n, _)| n == "index.html").unwrap().1.clone()).unwrap();
    assert!(!index.contains("sam@example.com") && !index.contains("Gate code 4321"), "{index}");
    assert!(index.contains("INV-00001"), "the money records stay: {index}");
});

both_backends!(the_web_app_links_each_lists_csv_and_a_customers_data, |app| {
    app.customer(json!({"family_name": "Able", "labels": ["VIP"]})).await;
    app.customer(json!({"family_name": "Baker"})).await;
    let cookie = app.session("admin").await;
    let (status, page) = app.page(Some(&cookie), "/customers?label=VIP").await;
    assert_eq!(status, StatusCode::OK);
    assert!(page.contains("href=\"/customers.csv?label=VIP&#38;sort=name\""), "{page}");
    let (status, headers, body) = fetch(&app, ("cookie", &cookie), "/customers.csv?label=VIP&sort=name", None).await;
    assert_eq!((status, headers["content-type"].to_str().unwrap()), (StatusCode::OK, "text/csv; charset=utf-8"));
    let (_, rows) = parse(&String::from_utf8(body).unwrap());
    assert_eq!(rows.iter().map(|r| r[0].as_str()).collect::<Vec<_>>(), ["CUS-00001"]);

    app.post("/invoices", json!({"customer": "CUS-00002", "issue": true, "lines": [{"description": "Visit", "unit_price": 100}]})).await;
    let (_, page) = app.page(Some(&cookie), "/invoices?customer=CUS-00002&state=open").await;
    assert!(page.contains("href=\"/invoices.csv?customer=CUS-00002&#38;state=open\""), "{page}");
    let (status, _, body) = fetch(&app, ("cookie", &cookie), "/invoices.csv?customer=CUS-00002&state=open", None).await;
    assert_eq!(status, StatusCode::OK);
    assert_eq!(parse(&String::from_utf8(body).unwrap()).1.len(), 1);

    let (_, profile) = app.page(Some(&cookie), "/customers/CUS-00001").await;
    assert!(profile.contains("href=\"/customers/CUS-00001/export.zip\">Download their data</a>"), "{profile}");
    let (status, headers, _) = fetch(&app, ("cookie", &cookie), "/customers/CUS-00001/export.zip", None).await;
    assert_eq!((status, headers["content-type"].to_str().unwrap()), (StatusCode::OK, "application/zip"));
    app.user("office").await;
    let office = app.session("office").await;
    let (_, profile) = app.page(Some(&office), "/customers/CUS-00001").await;
    assert!(!profile.contains("Download their data"));
    let (status, _, _) = fetch(&app, ("cookie", &office), "/customers/CUS-00001/export.zip", None).await;
    assert_eq!(status, StatusCode::FORBIDDEN);
});

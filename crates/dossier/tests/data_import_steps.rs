//! Importing through the API and the web app, step by step: upload with a
//! preview and a suggested mapping, the dry run and its report, the import
//! of the valid rows (kept columns becoming custom fields), importing the
//! same file again, and what is refused; on SQLite and PostgreSQL.

mod common;

use axum::http::{Method, StatusCode};
use common::TestApp;
use serde_json::{Value, json};

/// A file as an old system exported it: Windows-1252, `;`-separated, a
/// street on two lines, a column Dossier has no place for (Favourite colour),
/// and something wrong on some lines.
fn messy_file() -> Vec<u8> {
    let text = "First Name;Last Name;E-mail Address;Mobile Phone;Status;Billing Street;Postal Code;Favourite colour\r\n\
                Zoë;Brontë;zoe@example.com;07911 123456;Active;\"Flat 2\r\n1 High St\";LS1 4AP;Green\r\n\
                Bob;Able;not-an-email;07911 123457;;;;\r\n\
                Cy;Baker;cy@example.com;;frozen;;;\r\n\
                Zoë;Brontë;zoe@example.com;07911 123456;Active;\"Flat 2\r\n1 High St\";LS1 4AP;Green\r\n\
                Ed;Dunn;taken@example.com;;dormant;2 Low Rd;LS2 7EW;Blue\r\n";
    encoding_rs::WINDOWS_1252.encode(text).0.into_owned()
}

async fn upload(app: &TestApp, name: &str, bytes: &[u8]) -> Value {
    let (status, run) = app.upload("/imports", &[], &[(name, bytes)]).await;
    assert_eq!(status, StatusCode::CREATED, "{run}");
    run
}

async fn import_of(app: &TestApp, id: &str) -> Value {
    let (status, run) = app.get(&format!("/imports/{id}")).await;
    assert_eq!(status, StatusCode::OK, "{run}");
    run
}

/// The suggested mapping with the last column kept as a custom field.
fn keeping_favourite_colour(run: &Value) -> Value {
    let mut columns = run["mapping"]["columns"].as_array().unwrap().clone();
    columns[7] = json!("keep");
    json!({ "columns": columns })
}

both_backends!(an_upload_goes_through_a_dry_run_to_the_import_of_its_valid_rows, |app| {
    app.customer(json!({"family_name": "Taken", "email": "taken@example.com"})).await;
    let run = upload(&app, "old-crm.csv", &messy_file()).await;
    let id = run["id"].as_str().unwrap().to_owned();
    assert_eq!(run["status"], "uploaded");
    assert_eq!(run["preview"]["shape"]["encoding"], "windows-1252");
    assert_eq!(run["preview"]["rows"][0][0], "Zoë");
    assert_eq!(run["preview"]["header"][7], "Favourite colour");
    assert_eq!(run["mapping"]["columns"][7], Value::Null, "Favourite colour is not suggested as anything");
    let suggested: Vec<Value> = run["mapping"]["columns"].as_array().unwrap()[..7].to_vec();
    assert_eq!(
        suggested,
        [json!("given_name"), json!("family_name"), json!("email"), json!("mobile"), json!("status"), json!("address_line1"), json!("postcode")]
    );

    // The dry run is the worker's; it writes nothing.
    let customers = app.count("customer").await;
    let fields = app.count("custom_field").await;
    let (status, queued) = app.post(&format!("/imports/{id}/dry-run"), keeping_favourite_colour(&run)).await;
    assert_eq!((status, queued["status"].as_str(), queued["step"].as_str()), (StatusCode::ACCEPTED, Some("queued"), Some("check")), "{queued}");
    let (status, twice) = app.post(&format!("/imports/{id}/run"), json!({})).await;
    assert_eq!((status, twice["code"].as_str()), (StatusCode::CONFLICT, Some("import_not_checked")), "no import before the dry run has run");
    app.work_until_idle().await;
    let checked = import_of(&app, &id).await;
    assert_eq!(checked["status"], "checked", "{checked}");
    let report = &checked["report"];
    let counts = ["rows", "valid", "invalid", "duplicates_in_file", "probable_duplicates"].map(|k| report[k].as_u64().unwrap());
    assert_eq!(counts, [5, 2, 2, 1, 1], "{report}");
    assert_eq!((checked["progress"]["rows_done"].as_u64(), checked["progress"]["percent"].as_u64()), (Some(5), Some(100)));
    assert_eq!((app.count("customer").await, app.count("custom_field").await), (customers, fields), "a dry run changes nothing");

    // Its report, per row and column, as CSV.
    let (status, headers, csv) = app.fetch(&format!("/api/v1/imports/{id}/report.csv"), Some(("authorization", &format!("Bearer {}", app.token)))).await;
    assert_eq!(status, StatusCode::OK);
    assert!(headers["content-type"].to_str().unwrap().starts_with("text/csv"));
    let csv = String::from_utf8(csv).unwrap();
    assert!(csv.contains("3,invalid,,E-mail Address,invalid_email,"), "{csv}");
    assert!(csv.contains("4,invalid,,Status,unknown_status,"), "{csv}");
    assert!(csv.contains("5,duplicate_in_file,"), "{csv}");
    assert!(csv.contains("6,valid,,E-mail Address,probable_duplicate,taken@example.com belongs to CUS-00001 already"), "{csv}");

    // The import: the valid rows, each one's history naming the file and the user.
    let (status, _) = app.post(&format!("/imports/{id}/run"), json!({})).await;
    assert_eq!(status, StatusCode::ACCEPTED);
    app.work_until_idle().await;
    let done = import_of(&app, &id).await;
    assert_eq!((done["status"].as_str(), done["report"]["created"].as_u64()), (Some("done"), Some(2)), "{done}");
    assert_eq!(app.count("customer").await, customers + 2);
    let (_, found) = app.get("/customers?q=zoe@example.com").await;
    let zoe = &found["items"][0];
    assert_eq!(zoe["custom_fields"]["favourite_colour"], "Green", "the kept column is a custom field now: {zoe}");
    let (_, sites) = app.get(&format!("/customers/{}/sites", zoe["code"].as_str().unwrap())).await;
    let site = &sites[0];
    assert_eq!((site["address_line1"].as_str(), site["address_line2"].as_str()), (Some("Flat 2"), Some("1 High St")), "{site}");
    let (_, timeline) = app.get(&format!("/customers/{}/timeline", zoe["code"].as_str().unwrap())).await;
    let created = timeline["items"].as_array().unwrap().iter().find(|a| a["kind"] == "customer.imported").expect("an imported entry");
    assert!(created["summary"].as_str().unwrap().contains("imported from old-crm.csv by Ada Admin"), "{created}");
    assert_eq!(created["actor"]["name"], "Ada Admin", "{created}");
    let (status, again) = app.post(&format!("/imports/{id}/run"), json!({})).await;
    assert_eq!((status, again["code"].as_str()), (StatusCode::CONFLICT, Some("import_not_checked")), "an import runs once");

    // The same file again creates nothing new.
    let second = upload(&app, "old-crm.csv", &messy_file()).await;
    let second_id = second["id"].as_str().unwrap().to_owned();
    assert_eq!(second["mapping"]["columns"][7], "cf.favourite_colour", "the kept column's field is suggested now");
    app.post(&format!("/imports/{second_id}/dry-run"), keeping_favourite_colour(&second)).await;
    app.work_until_idle().await;
    app.post(&format!("/imports/{second_id}/run"), json!({})).await;
    app.work_until_idle().await;
    let repeated = import_of(&app, &second_id).await;
    assert_eq!(
        (repeated["report"]["created"].as_u64(), repeated["report"]["already_imported"].as_u64()),
        (Some(0), Some(3)),
        "both rows of Zoë and Ed's: {repeated}"
    );
    assert_eq!(app.count("customer").await, customers + 2);
    let (_, list) = app.get("/imports").await;
    assert_eq!(list["items"].as_array().unwrap().len(), 2);
});

both_backends!(what_is_not_a_spreadsheet_or_does_not_fit_is_refused_and_changes_nothing, |app| {
    let (status, body) = app.upload("/imports", &[], &[("photo.jpg", b"\xff\xd8\xff\xe0 not a table")]).await;
    assert_eq!((status, body["errors"][0]["code"].as_str()), (StatusCode::UNPROCESSABLE_ENTITY, Some("unsupported_type")), "{body}");
    let (status, body) = app.upload("/imports", &[], &[("empty.csv", b"")]).await;
    assert_eq!(status, StatusCode::UNPROCESSABLE_ENTITY, "{body}");
    let (status, body) = app.upload("/imports", &[], &[("a.csv", b"Name\nAnn\n"), ("b.csv", b"Name\nBo\n")]).await;
    assert_eq!((status, body["code"].as_str()), (StatusCode::UNPROCESSABLE_ENTITY, Some("validation_failed")), "{body}");
    assert_eq!(app.count("import_run").await, 0);

    let tasks = app.count("task").await;
    let run = upload(&app, "people.csv", b"Last Name,Email,Extra\nLee,lee@example.com,x\n").await;
    let id = run["id"].as_str().unwrap();
    let (status, body) = app.post(&format!("/imports/{id}/dry-run"), json!({"columns": ["family_name", "email"]})).await;
    assert_eq!((status, body["errors"][0]["code"].as_str()), (StatusCode::UNPROCESSABLE_ENTITY, Some("wrong_column_count")), "{body}");
    let (status, body) = app.post(&format!("/imports/{id}/dry-run"), json!({"columns": ["family_name", "family_name", null]})).await;
    assert_eq!((status, body["errors"][0]["field"].as_str()), (StatusCode::UNPROCESSABLE_ENTITY, Some("columns[1]")), "{body}");
    let (status, body) = app.post(&format!("/imports/{id}/dry-run"), json!({"columns": ["family_name", "cf.nothing", null]})).await;
    assert_eq!((status, body["errors"][0]["code"].as_str()), (StatusCode::UNPROCESSABLE_ENTITY, Some("unknown_custom_field")), "{body}");
    assert_eq!(import_of(&app, id).await["status"], "uploaded", "a refused mapping queues nothing");
    assert_eq!(app.count("task").await, tasks);

    // Another org sees nothing of it; roles that may not create customers may not import.
    let (_, other) = app.add_org("Other Ltd", "boss@other.example").await;
    let (status, _) = app.call_as(Some(&other), Method::GET, &format!("/imports/{id}"), None).await;
    assert_eq!(status, StatusCode::NOT_FOUND);
    for role in ["fieldworker", "support"] {
        let (_, token) = app.user(role).await;
        let (status, _) = app.upload_as(Some(&token), "/imports", &[], &[("people.csv", b"Last Name\nLee\n")]).await;
        assert_eq!(status, StatusCode::FORBIDDEN, "{role}");
    }
});

both_backends!(the_web_app_takes_a_file_from_upload_to_imported, |app| {
    let cookie = app.session("admin").await;
    let (status, page) = app.page(Some(&cookie), "/imports").await;
    assert_eq!(status, StatusCode::OK);
    assert!(page.contains("/imports/template.csv"), "the template is offered");
    let (status, headers, template) = app.fetch("/imports/template.csv", Some(("cookie", &cookie))).await;
    assert_eq!(status, StatusCode::OK);
    assert!(headers["content-disposition"].to_str().unwrap().contains("dossier-import-template.csv"));
    let template = String::from_utf8(template).unwrap();
    assert!(template.lines().next().unwrap().contains("Email"), "{template}");

    let (status, _, page) = app.form_with_files(&cookie, "/imports", &[], &[("notes.pdf", b"%PDF-1.4")]).await;
    assert_eq!(status, StatusCode::UNPROCESSABLE_ENTITY);
    assert!(page.contains("id=\"file-error\"") && page.contains("Choose a CSV"), "the error is next to the file field");

    let (status, location, _) = app.form_with_files(&cookie, "/imports", &[], &[("old-crm.csv", &messy_file())]).await;
    assert_eq!(status, StatusCode::SEE_OTHER);
    let (_, page) = app.page(Some(&cookie), &location).await;
    assert!(page.contains("id=\"import-preview\"") && page.contains("Zoë"), "the first rows are shown");
    assert!(page.contains("<option value=\"given_name\" selected>"), "the suggested mapping is chosen");

    // A column mapped twice: the error is next to that column's select.
    let mut form: Vec<(String, String)> = ["given_name", "family_name", "email", "mobile", "status", "address_line1", "postcode", "keep"]
        .iter()
        .enumerate()
        .map(|(i, v)| (format!("column_{i}"), v.to_string()))
        .collect();
    form[1].1 = "given_name".into();
    let fields: Vec<(&str, &str)> = form.iter().map(|(k, v)| (k.as_str(), v.as_str())).collect();
    let (status, _, page) = app.form(&cookie, &format!("{location}/dry-run"), &fields).await;
    assert_eq!(status, StatusCode::UNPROCESSABLE_ENTITY);
    assert!(page.contains("id=\"column_1-error\""), "{page}");

    form[1].1 = "family_name".into();
    let fields: Vec<(&str, &str)> = form.iter().map(|(k, v)| (k.as_str(), v.as_str())).collect();
    let (status, back, _) = app.form(&cookie, &format!("{location}/dry-run"), &fields).await;
    assert_eq!((status, back.as_str()), (StatusCode::SEE_OTHER, location.as_str()));
    let (_, page) = app.page(Some(&cookie), &location).await;
    assert!(page.contains("http-equiv=\"refresh\"") && page.contains("id=\"import-progress\""), "a queued step shows its progress and reloads");
    app.work_until_idle().await;
    let (_, page) = app.page(Some(&cookie), &location).await;
    assert!(!page.contains("http-equiv=\"refresh\""));
    assert!(page.contains("5 rows: 2 would be imported, 2 invalid"), "{page}");
    assert!(page.contains("is not a valid email address"), "the report names the problem");
    assert!(page.contains("Import 2 valid rows"));

    let customers = app.count("customer").await;
    let (status, _, _) = app.form(&cookie, &format!("{location}/run"), &[]).await;
    assert_eq!(status, StatusCode::SEE_OTHER);
    app.work_until_idle().await;
    let (_, page) = app.page(Some(&cookie), &location).await;
    assert!(page.contains("5 rows: 2 imported"), "{page}");
    assert_eq!(app.count("customer").await, customers + 2);
    let (status, _, report) = app.fetch(&format!("{location}/report.csv"), Some(("cookie", &cookie))).await;
    assert_eq!(status, StatusCode::OK);
    assert!(String::from_utf8(report).unwrap().contains(",created,CUS-"), "the report says which rows went in");
});

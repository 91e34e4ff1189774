//! Org settings that act: the name and address on documents, the currency's
//! minor units and the number format in amounts, the time zone in "today",
//! the default terms and tax rate on new invoices, the next numbers, and
//! the logo on every PDF and in the portal; on SQLite and PostgreSQL.

mod common;

use axum::body::Body;
use axum::http::{Method, Request, StatusCode};
use serde_json::{Value, json};

use common::PNG as TINY_PNG;

fn codes(problem: &Value) -> Vec<(String, String)> {
    problem["errors"].as_array().map_or_else(Vec::new, |errors| {
        errors.iter().map(|e| (e["field"].as_str().unwrap_or("").to_owned(), e["code"].as_str().unwrap_or("").to_owned())).collect()
    })
}

fn pdf_text(pdf: &[u8]) -> String {
    let dir = tempfile::tempdir().unwrap();
    let path = dir.path().join("doc.pdf");
    std::fs::write(&path, pdf).unwrap();
    let out = std::process::Command::new("pdftotext").args(["-layout", path.to_str().unwrap(), "-"]).output().expect("pdftotext (poppler-utils)");
    String::from_utf8_lossy(&out.stdout).into_owned()
}

fn pdf_images(pdf: &[u8]) -> usize {
    let dir = tempfile::tempdir().unwrap();
    let path = dir.path().join("doc.pdf");
    std::fs::write(&path, pdf).unwrap();
    let out = std::process::Command::new("pdfimages").args(["-list", path.to_str().unwrap()]).output().expect("pdfimages (poppler-utils)");
    String::from_utf8_lossy(&out.stdout).lines().skip(2).count()
}

async fn put_logo(app: &common::TestApp, token: &str, bytes: &[u8]) -> (StatusCode, Value) {
    let request = Request::builder()
        .method(Method::PUT)
        .uri("/api/v1/org/logo")
        .header("authorization", format!("Bearer {token}"))
        .header("content-type", "image/png")
        .body(Body::from(bytes.to_vec()))
        .unwrap();
    let (status, _, body) = common::TestApp::send(&app.router, request).await;
    (status, body)
}

both_backends!(settings_are_read_changed_and_checked_and_each_change_is_in_the_org_s_history, |app| {
    let (_, settings) = app.get("/org/settings").await;
    assert_eq!(settings["currency"], "GBP");
    assert_eq!(settings["currency_minor_units"], 2);
    assert_eq!(settings["currency_locked"], false);
    assert_eq!(settings["next_numbers"]["invoice"], 1);
    assert_eq!(settings["has_logo"], false);

    // Invalid values are field errors, and nothing changes.
    let (status, problem) = app
        .patch(
            "/org/settings",
            json!({"currency": "dollars", "timezone": "Mars/Olympus", "tax_rates": [{"name": "A", "rate_bp": 2000, "default": true}, {"name": "B", "rate_bp": 500, "default": true}],
                   "next_numbers": {"widget": 3}, "address": vec!["line"; 7]}),
        )
        .await;
    assert_eq!(status, StatusCode::UNPROCESSABLE_ENTITY, "{problem}");
    let found = codes(&problem);
    for expected in [
        ("currency", "invalid_currency"),
        ("timezone", "invalid_timezone"),
        ("tax_rates", "several_defaults"),
        ("next_numbers.widget", "unknown_series"),
        ("address", "too_many"),
    ] {
        assert!(found.contains(&(expected.0.to_owned(), expected.1.to_owned())), "{expected:?} in {found:?}");
    }
    assert_eq!(app.get("/org/settings").await.1, settings);

    // A change is one activity naming the fields that changed.
    let (status, changed) = app
        .patch(
            "/org/settings",
            json!({"name": "Sunrise Pool Care", "currency": "usd", "timezone": "America/New_York", "region": "US", "date_format": "month_day_year",
                   "address": ["1420 Ocean Ave", "Santa Monica, CA 90401"], "payment_terms": {"basis": "net", "days": 14},
                   "tax_rates": [{"name": "Sales tax", "rate_bp": 950, "default": true}, {"name": "Exempt", "rate_bp": 0}], "next_numbers": {"invoice": 1001}}),
        )
        .await;
    assert_eq!(status, StatusCode::OK, "{changed}");
    assert_eq!(changed["currency"], "USD");
    assert_eq!(changed["next_numbers"]["invoice"], 1001);
    let kinds = app.log_kinds(&app.org).await;
    assert_eq!(kinds.iter().filter(|k| *k == "org.settings_changed").count(), 1, "{kinds:?}");
    let (status, same) = app.patch("/org/settings", json!({"name": "Sunrise Pool Care"})).await;
    assert_eq!((status, &same), (StatusCode::OK, &changed));
    assert_eq!(app.log_kinds(&app.org).await.len(), kinds.len(), "no change, no activity");

    // Only owners and admins change settings; staff read them; a fieldworker does not.
    let (_, office) = app.user("office").await;
    assert_eq!(app.call_as(Some(&office), Method::GET, "/org/settings", None).await.0, StatusCode::OK);
    let (status, problem) = app.call_as(Some(&office), Method::PATCH, "/org/settings", Some(json!({"name": "Mine now"}))).await;
    assert_eq!(status, StatusCode::FORBIDDEN, "{problem}");
    let (_, fieldworker) = app.user("fieldworker").await;
    assert_eq!(app.call_as(Some(&fieldworker), Method::GET, "/org/settings", None).await.0, StatusCode::FORBIDDEN);
});

both_backends!(new_invoices_follow_the_settings_and_the_currency_is_fixed_once_amounts_exist, |app| {
    let (status, _) = app
        .patch(
            "/org/settings",
            json!({"currency": "BHD", "number_format": "dot_comma", "payment_terms": {"basis": "net", "days": 10},
                   "tax_rates": [{"name": "VAT", "rate_bp": 1000, "default": true}], "next_numbers": {"invoice": 500}}),
        )
        .await;
    assert_eq!(status, StatusCode::OK);
    app.customer(json!({"family_name": "Haddad"})).await;
    // No rate on the line: the default rate. No terms on the customer: the org's.
    let (status, invoice) = app
        .post(
            "/invoices",
            json!({"customer": "CUS-00001", "lines": [{"description": "Pool service", "unit_price": 12500}], "issue": true, "issue_date": "2026-03-01"}),
        )
        .await;
    assert_eq!(status, StatusCode::CREATED, "{invoice}");
    assert_eq!(invoice["code"], "INV-00500");
    assert_eq!(invoice["lines"][0]["tax_rate_bp"], 1000);
    assert_eq!(invoice["total"], 13750);
    assert_eq!(invoice["due_date"], "2026-03-11");
    // A line that names its rate keeps it.
    let (_, second) =
        app.post("/invoices", json!({"customer": "CUS-00001", "lines": [{"description": "Chlorine", "unit_price": 2000, "tax_rate_bp": 0}]})).await;
    assert_eq!((second["code"].as_str(), second["total"].as_i64()), (Some("INV-00501"), Some(2000)));

    // Three decimals, dot-comma: 13.750 BHD.
    let (status, _, pdf) = app.fetch("/api/v1/invoices/INV-00500/pdf", Some(("authorization", &format!("Bearer {}", app.token)))).await;
    assert_eq!(status, StatusCode::OK);
    let text = pdf_text(&pdf);
    assert!(text.contains("BHD 13,750"), "{text}");
    assert!(text.contains("1 Test Street"), "the org's address is the sender: {text}");

    // The org now holds amounts: its currency stays; the series never goes back.
    let (status, problem) = app.patch("/org/settings", json!({"currency": "EUR"})).await;
    assert_eq!((status, problem["code"].as_str()), (StatusCode::CONFLICT, Some("currency_locked")), "{problem}");
    let (status, problem) = app.patch("/org/settings", json!({"next_numbers": {"invoice": 501}})).await;
    assert_eq!(status, StatusCode::UNPROCESSABLE_ENTITY);
    assert_eq!(codes(&problem), vec![("next_numbers.invoice".to_owned(), "below_issued".to_owned())]);
    let (_, settings) = app.get("/org/settings").await;
    assert_eq!(
        (settings["currency"].as_str(), settings["currency_locked"].as_bool(), settings["next_numbers"]["invoice"].as_i64()),
        (Some("BHD"), Some(true), Some(502))
    );
});

both_backends!(a_chosen_prefix_names_new_records_and_old_records_keep_their_codes, |app| {
    app.customer(json!({"family_name": "Okafor"})).await;
    let line = json!([{"description": "Service", "unit_price": 5000}]);
    let (_, first) = app.post("/invoices", json!({"customer": "CUS-00001", "lines": line, "issue": true})).await;
    assert_eq!(first["code"], "INV-00001");

    // A prefix is letters and digits starting with a letter, and two series never share one.
    let before = app.get("/org/settings").await.1;
    assert_eq!(before["code_prefixes"]["invoice"], "INV");
    let (status, problem) = app.patch("/org/settings", json!({"code_prefixes": {"quote": "1Q", "job": "BIL-", "widget": "W"}})).await;
    assert_eq!(status, StatusCode::UNPROCESSABLE_ENTITY, "{problem}");
    let mut found = codes(&problem);
    found.sort();
    assert_eq!(
        found,
        vec![
            ("code_prefixes.job".to_owned(), "invalid_prefix".to_owned()),
            ("code_prefixes.quote".to_owned(), "invalid_prefix".to_owned()),
            ("code_prefixes.widget".to_owned(), "unknown_series".to_owned())
        ]
    );
    let (status, problem) = app.patch("/org/settings", json!({"code_prefixes": {"quote": "inv"}})).await;
    assert_eq!((status, codes(&problem)), (StatusCode::UNPROCESSABLE_ENTITY, vec![("code_prefixes.quote".to_owned(), "duplicate".to_owned())]));
    assert_eq!(app.get("/org/settings").await.1, before, "a refused change changes nothing");

    let (status, settings) = app.patch("/org/settings", json!({"code_prefixes": {"invoice": "bil", "customer": "CL"}})).await;
    assert_eq!(status, StatusCode::OK, "{settings}");
    assert_eq!((settings["code_prefixes"]["invoice"].as_str(), settings["code_prefixes"]["quote"].as_str()), (Some("BIL"), Some("EST")));
    assert_eq!(settings["code_prefixes"]["customer"], "CL");

    // New records take the prefix; the old invoice keeps its number and both are found by their codes.
    let (_, second) = app.post("/invoices", json!({"customer": "CUS-00001", "lines": line, "issue": true})).await;
    assert_eq!(second["code"], "BIL-00002");
    assert_eq!(app.get("/invoices/bil-2").await.1["id"], second["id"]);
    assert_eq!(app.get("/invoices/INV-00001").await.1["code"], "INV-00001");
    assert_eq!(app.get("/invoices/INV-00002").await.0, StatusCode::NOT_FOUND);
    assert_eq!(app.get("/invoices/BIL-00001").await.0, StatusCode::NOT_FOUND);
    let customer = app.customer(json!({"family_name": "Adeyemi"})).await;
    assert_eq!(customer["code"], "CL-00002");
    let (_, results) = app.get("/customers?q=cl-2").await;
    assert_eq!(results["items"][0]["code"], "CL-00002", "{results}");
    let (_, results) = app.get("/customers?q=CUS-1").await;
    assert_eq!(results["items"][0]["code"], "CUS-00001", "{results}");
    let (_, payment) = app.post("/payments", json!({"customer": "CL-00002", "amount": 100})).await;
    assert_eq!(payment["code"], "PAY-00001", "{payment}");

    // Documents and statements carry each record's own code.
    let (status, _, pdf) = app.fetch("/api/v1/invoices/BIL-00002/pdf", Some(("authorization", &format!("Bearer {}", app.token)))).await;
    assert_eq!(status, StatusCode::OK);
    assert!(pdf_text(&pdf).contains("BIL-00002"));
    let (_, statement) = app.get("/customers/CUS-00001/statement").await;
    let listed: Vec<&str> = statement["open_items"].as_array().unwrap().iter().filter_map(|i| i["code"].as_str()).collect();
    assert_eq!(listed, vec!["INV-00001", "BIL-00002"], "{statement}");

    // Set back to the series' own, the prefix names the next record again.
    app.patch("/org/settings", json!({"code_prefixes": {"invoice": "INV"}})).await;
    let (_, third) = app.post("/invoices", json!({"customer": "CUS-00001", "lines": line})).await;
    assert_eq!(third["code"], "INV-00003");
});

both_backends!(the_logo_is_checked_kept_and_shown_on_documents_and_in_the_portal, |app| {
    // Not a picture, a broken one, and one too large are refused.
    assert_eq!(put_logo(&app, &app.token, b"GIF89a not a png").await.1["errors"][0]["code"], "unsupported_image");
    assert_eq!(put_logo(&app, &app.token, &TINY_PNG[..40]).await.1["errors"][0]["code"], "unsupported_image");
    let mut huge = TINY_PNG.to_vec();
    huge.resize(600 * 1024, 0);
    assert_eq!(put_logo(&app, &app.token, &huge).await.1["errors"][0]["code"], "too_large");
    let (_, office) = app.user("office").await;
    assert_eq!(put_logo(&app, &office, TINY_PNG).await.0, StatusCode::FORBIDDEN);
    assert_eq!(app.get("/org/logo").await.0, StatusCode::NOT_FOUND);

    let (status, settings) = put_logo(&app, &app.token, TINY_PNG).await;
    assert_eq!((status, settings["has_logo"].as_bool()), (StatusCode::OK, Some(true)), "{settings}");
    let (status, headers, bytes) = app.fetch("/api/v1/org/logo", Some(("authorization", &format!("Bearer {}", app.token)))).await;
    assert_eq!((status, headers["content-type"].to_str().unwrap(), bytes.as_slice()), (StatusCode::OK, "application/octet-stream", TINY_PNG));

    app.customer(json!({"family_name": "Haddad"})).await;
    app.post("/invoices", json!({"customer": "CUS-00001", "lines": [{"description": "Service", "unit_price": 5000}], "issue": true})).await;
    let bearer = format!("Bearer {}", app.token);
    for path in ["/api/v1/invoices/INV-00001/pdf", "/api/v1/customers/CUS-00001/statement.pdf"] {
        let (status, _, pdf) = app.fetch(path, Some(("authorization", &bearer))).await;
        assert_eq!(status, StatusCode::OK, "{path}");
        assert_eq!(pdf_images(&pdf), 1, "{path} carries the logo");
    }
    let (_, link) = app.post("/customers/CUS-00001/portal-links", json!({})).await;
    let url = link["url"].as_str().unwrap().to_owned();
    let (_, _, page) = app.fetch(&url, None).await;
    let page = String::from_utf8(page).unwrap();
    assert!(page.contains(&format!("src=\"{url}/logo\"")), "{page}");
    let (status, headers, bytes) = app.fetch(&format!("{url}/logo"), None).await;
    assert_eq!((status, headers["content-type"].to_str().unwrap(), bytes.len()), (StatusCode::OK, "image/png", TINY_PNG.len()));

    assert_eq!(app.delete("/org/logo").await.0, StatusCode::NO_CONTENT);
    let (_, _, pdf) = app.fetch("/api/v1/invoices/INV-00001/pdf", Some(("authorization", &bearer))).await;
    assert_eq!(pdf_images(&pdf), 0);
    let kinds = app.log_kinds(&app.org).await;
    assert_eq!(kinds.iter().filter(|k| *k == "org.settings_changed").count(), 2, "set and removed: {kinds:?}");
});

both_backends!(an_admin_changes_the_settings_and_the_logo_on_their_pages_with_errors_beside_their_fields, |app| {
    let cookie = app.session("admin").await;
    let (status, page) = app.page(Some(&cookie), "/settings").await;
    assert_eq!(status, StatusCode::OK);
    assert!(page.contains("name=\"currency\" id=\"currency\" value=\"GBP\"") && page.contains("name=\"next_invoice\""), "{page}");
    let form = |zone: &'static str| {
        vec![
            ("name", "Sunrise Pool Care"),
            ("address", "1420 Ocean Ave\nSanta Monica, CA 90401"),
            ("region", "US"),
            ("currency", "USD"),
            ("timezone", zone),
            ("date_format", "month_day_year"),
            ("number_format", "comma_dot"),
            ("terms_basis", "net"),
            ("terms_days", "15"),
            ("tax1_name", "Sales tax"),
            ("tax1_rate", "9.5"),
            ("tax1_default", "on"),
            ("tax2_name", "Exempt"),
            ("tax2_rate", "0"),
            ("next_invoice", "2001"),
            ("prefix_quote", "q"),
        ]
    };
    // A wrong time zone is shown beside its field, and nothing is saved.
    let (status, _, page) = app.form(&cookie, "/settings", &form("Mars/Olympus")).await;
    assert_eq!(status, StatusCode::UNPROCESSABLE_ENTITY);
    assert!(page.contains("id=\"timezone-error\""), "{page}");
    assert_eq!(app.get("/org/settings").await.1["currency"], "GBP");

    let (status, location, _) = app.form(&cookie, "/settings", &form("America/New_York")).await;
    assert_eq!((status, location.as_str()), (StatusCode::SEE_OTHER, "/settings"));
    let (_, settings) = app.get("/org/settings").await;
    assert_eq!((settings["currency"].as_str(), settings["timezone"].as_str()), (Some("USD"), Some("America/New_York")));
    assert_eq!(settings["tax_rates"], json!([{"name": "Sales tax", "rate_bp": 950, "default": true}, {"name": "Exempt", "rate_bp": 0, "default": false}]));
    assert_eq!(settings["next_numbers"]["invoice"], 2001);
    assert_eq!(settings["code_prefixes"]["quote"], "Q");
    let mut bad_prefix = form("America/New_York");
    bad_prefix.push(("prefix_job", "Job 2"));
    let (status, _, page) = app.form(&cookie, "/settings", &bad_prefix).await;
    assert_eq!(status, StatusCode::UNPROCESSABLE_ENTITY);
    assert!(page.contains("id=\"prefix_job-error\""), "{page}");

    // New invoices offer the org's rates with its default chosen, and amounts in dollars.
    app.customer(json!({"family_name": "Rivera"})).await;
    let (_, page) = app.page(Some(&cookie), "/customers/CUS-00001/invoices/new").await;
    assert!(page.contains("<option value=\"9.5\" selected>Sales tax (9.5 %)</option>"), "{page}");
    let (status, location, _) = app
        .form(
            &cookie,
            "/customers/CUS-00001/invoices/new",
            &[("line1_description", "Pool opening"), ("line1_quantity", "1"), ("line1_unit_price", "1,000.00"), ("line1_tax", "9.5"), ("issue", "on")],
        )
        .await;
    assert_eq!(status, StatusCode::SEE_OTHER, "{location}");
    let (_, page) = app.page(Some(&cookie), "/invoices/INV-02001").await;
    assert!(page.contains("$1,095.00"), "{page}");

    // The logo: a file that is not a picture is refused beside the field; a PNG is kept.
    let (status, _, page) = app.form_with_files(&cookie, "/settings/logo", &[], &[("logo.png", b"not a picture")]).await;
    assert_eq!(status, StatusCode::UNPROCESSABLE_ENTITY);
    assert!(page.contains("id=\"file-error\""), "{page}");
    let (status, location, _) = app.form_with_files(&cookie, "/settings/logo", &[], &[("logo.png", TINY_PNG)]).await;
    assert_eq!((status, location.as_str()), (StatusCode::SEE_OTHER, "/settings"));
    assert_eq!(app.get("/org/settings").await.1["has_logo"], true);

    // Office staff read the settings but do not change them.
    app.user("office").await;
    let office = app.session("office").await;
    let (status, page) = app.page(Some(&office), "/settings").await;
    assert!(status == StatusCode::OK && page.contains("Only owners and administrators change these settings."), "{page}");
    let (status, _, _) = app.form(&office, "/settings", &form("Europe/London")).await;
    assert_eq!(status, StatusCode::FORBIDDEN);
    assert_eq!(app.get("/org/settings").await.1["timezone"], "America/New_York");
});

both_backends!(two_admins_giving_two_series_one_prefix_at_once_cannot_both_win, |app| {
    let app = std::sync::Arc::new(app);
    for round in 0..10 {
        let prefix = format!("X{round}");
        let send = |series: &'static str| {
            let (app, prefix) = (app.clone(), prefix.clone());
            tokio::spawn(async move { app.patch("/org/settings", json!({"code_prefixes": {series: prefix}})).await })
        };
        let (quote, job) = (send("quote"), send("job"));
        let answers = [quote.await.unwrap(), job.await.unwrap()];
        let won = answers.iter().filter(|(status, _)| *status == StatusCode::OK).count();
        assert_eq!(won, 1, "round {round}: {answers:?}");
        let (_, settings) = app.get("/org/settings").await;
        let holders = ["quote", "job"].iter().filter(|s| settings["code_prefixes"][**s] == prefix.as_str()).count();
        assert_eq!(holders, 1, "round {round}: {settings}");
        // Both back to their own for the next round.
        app.patch("/org/settings", json!({"code_prefixes": {"quote": "EST", "job": "BOK"}})).await;
    }
});

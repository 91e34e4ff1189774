//! Statements of account, as JSON and as a real PDF, on both backends.

mod common;

use axum::body::Body;
use axum::http::{Request, StatusCode};
use http_body_util::BodyExt;
use serde_json::json;
use tower::ServiceExt;

both_backends!(a_statement_balances_and_its_pdf_shows_codes_and_totals, |app| {
    app.customer(json!({"given_name": "Zoë", "family_name": "Müller"})).await;
    app.post("/customers/CUS-00001/sites", json!({"kind": "billing", "address_line1": "1 High Street", "town": "Leeds", "postcode": "LS1 4AP"})).await;
    let today = jiff::Timestamp::now().in_tz("Europe/London").unwrap().date();
    let day = |days_ago: i64| today.checked_sub(jiff::Span::new().days(days_ago)).unwrap().to_string();
    for (issued, price) in [(day(80), 10_000), (day(40), 20_000), (day(5), 30_000)] {
        let (status, invoice) = app
            .post(
                "/invoices",
                json!({"customer": "CUS-00001", "issue": true, "issue_date": issued, "lines": [{"description": "Service", "unit_price": price}]}),
            )
            .await;
        assert_eq!(status, StatusCode::CREATED, "{invoice}");
    }
    app.post(
        "/payments",
        json!({"customer": "CUS-00001", "amount": 12_000, "received_on": day(30), "allocations": [{"invoice": "INV-00001", "amount": 10_000}]}),
    )
    .await;
    app.post("/credit-notes", json!({"invoice": "INV-00002", "amount": 5_000, "reason": "Discount agreed"})).await;

    let from = day(50);
    let (status, statement) = app.get(&format!("/customers/CUS-00001/statement?from={from}")).await;
    assert_eq!(status, StatusCode::OK, "{statement}");
    // Before the period: INV-00001 (100.00). In it: INV-00002, PAY-00001, INV-00003, CRN-00001.
    assert_eq!(statement["opening_balance"], 10_000);
    let codes: Vec<&str> = statement["lines"].as_array().unwrap().iter().map(|l| l["code"].as_str().unwrap()).collect();
    assert_eq!(codes, ["INV-00002", "PAY-00001", "INV-00003", "CRN-00001"]);
    assert_eq!(statement["closing_balance"], 10_000 + 20_000 - 12_000 + 30_000 - 5_000);
    let open: Vec<&str> = statement["open_items"].as_array().unwrap().iter().map(|i| i["code"].as_str().unwrap()).collect();
    assert_eq!(open, ["INV-00002", "INV-00003"]);
    assert_eq!(statement["unallocated_credits"][0]["unallocated"], 2_000);
    assert_eq!(statement["billing_address"], json!(["1 High Street", "Leeds LS1 4AP"]));
    // The statement's closing balance is the summary's open balance.
    let (_, summary) = app.get("/customers/CUS-00001/summary").await;
    assert_eq!(statement["closing_balance"], summary["open_balance"]);
    // As of a date before the payment, INV-00001 was still open.
    let (_, earlier) = app.get(&format!("/customers/CUS-00001/statement?as_of={}", day(35))).await;
    assert_eq!(earlier["closing_balance"], 30_000);
    assert_eq!(earlier["open_items"].as_array().unwrap().len(), 2);

    let request = Request::builder()
        .uri(format!("/api/v1/customers/CUS-00001/statement.pdf?from={from}"))
        .header("authorization", format!("Bearer {}", app.token))
        .body(Body::empty())
        .unwrap();
    let response = app.router.clone().oneshot(request).await.unwrap();
    assert_eq!(response.status(), StatusCode::OK);
    assert_eq!(response.headers()["content-type"], "application/pdf");
    let pdf = response.into_body().collect().await.unwrap().to_bytes();
    assert!(pdf.starts_with(b"%PDF-"));
    let dir = tempfile::tempdir().unwrap();
    let path = dir.path().join("statement.pdf");
    std::fs::write(&path, &pdf).unwrap();
    let output = std::process::Command::new("pdftotext")
        .args(["-layout", path.to_str().unwrap(), "-"])
        .output()
        .expect("pdftotext (Debian package poppler-utils; scripts/test installs it)");
    let text = String::from_utf8_lossy(&output.stdout);
    for expected in [
        "Statement of account",
        "Test Services",
        "1 Test Street",
        "Zoë Müller",
        "1 High Street",
        "CUS-00001",
        "INV-00002",
        "INV-00003",
        "PAY-00001",
        "CRN-00001",
        "£430.00",
        "£100.00",
    ] {
        assert!(text.contains(expected), "{expected} missing from the PDF text:\n{text}");
    }
});

both_backends!(staff_read_a_statement_for_the_dates_they_choose_on_its_page, |app| {
    app.customer(json!({"family_name": "Okafor"})).await;
    for (issued, price) in [("2026-01-10", 10_000), ("2026-02-10", 20_000)] {
        app.post(
            "/invoices",
            json!({"customer": "CUS-00001", "issue": true, "issue_date": issued, "lines": [{"description": "Service", "unit_price": price}]}),
        )
        .await;
    }
    let (_, payment) = app.post("/payments", json!({"customer": "CUS-00001", "amount": 15_000, "received_on": "2026-02-15"})).await;
    assert_eq!(payment["code"], "PAY-00001");
    let (status, refund) = app.post("/payments/PAY-00001/refunds", json!({"amount": 1_000, "reason": "Overpaid"})).await;
    assert_eq!(status, StatusCode::OK, "{refund}");

    app.user("office").await;
    let cookie = app.session("office").await;
    let (status, profile) = app.page(Some(&cookie), "/customers/CUS-00001?tab=billing").await;
    assert_eq!(status, StatusCode::OK);
    assert!(profile.contains("href=\"/customers/CUS-00001/statement\""), "the profile links its statement: {profile}");

    let (status, page) = app.page(Some(&cookie), "/customers/CUS-00001/statement?from=2026-02-01&as_of=2026-02-28").await;
    assert_eq!(status, StatusCode::OK, "{page}");
    // The January invoice is the opening balance; February's lines follow with a running balance.
    assert!(page.contains("<dt>Opening balance</dt><dd>£100.00</dd>") && page.contains("<dt>Closing balance</dt><dd>£150.00</dd>"), "{page}");
    for link in ["href=\"/invoices/INV-00002\"", "href=\"/payments/PAY-00001\"", "href=\"/invoices/INV-00001\""] {
        assert!(page.contains(link), "{link} in {page}");
    }
    assert!(page.contains("href=\"/api/v1/customers/CUS-00001/statement.pdf?from=2026-02-01&#38;as_of=2026-02-28\""), "the PDF has the same dates: {page}");
    // Without dates: today and the month before it, where today's refund is a line that opens its payment.
    let (status, page) = app.page(Some(&cookie), "/customers/CUS-00001/statement").await;
    assert_eq!(status, StatusCode::OK);
    assert!(page.contains("<td>Refund</td><td><a href=\"/payments/PAY-00001\">PAY-00001</a></td><td class=\"num\">£10.00</td>"), "{page}");

    // A wrong date is shown beside its field; so is a period that ends before it starts.
    let (status, page) = app.page(Some(&cookie), "/customers/CUS-00001/statement?as_of=2026-13-01").await;
    assert_eq!(status, StatusCode::UNPROCESSABLE_ENTITY);
    assert!(page.contains("id=\"as_of-error\"") && page.contains("value=\"2026-13-01\""), "{page}");
    let (status, page) = app.page(Some(&cookie), "/customers/CUS-00001/statement?from=2026-03-01&as_of=2026-02-01").await;
    assert_eq!(status, StatusCode::UNPROCESSABLE_ENTITY);
    assert!(page.contains("id=\"from-error\""), "{page}");

    // A fieldworker sees the customer of their job, never its money.
    let (fieldworker, _) = app.user("fieldworker").await;
    app.post("/jobs", json!({"customer": "CUS-00001", "title": "Service", "assignees": [fieldworker]})).await;
    let fieldworker = app.session("fieldworker").await;
    assert_eq!(app.page(Some(&fieldworker), "/customers/CUS-00001").await.0, StatusCode::OK);
    assert_eq!(app.page(Some(&fieldworker), "/customers/CUS-00001/statement").await.0, StatusCode::FORBIDDEN);
});

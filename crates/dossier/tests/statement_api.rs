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

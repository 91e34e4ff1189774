//! Invoice and quote PDFs: letterhead, billing address, lines, tax, totals,
//! due date and how to pay, read back with pdftotext; from the API, and for
//! the customer from the portal (their own issued invoices only). Both
//! backends.

mod common;

use axum::body::Body;
use axum::http::{Method, Request, StatusCode, header};
use common::TestApp;
use http_body_util::BodyExt;
use serde_json::json;
use tower::ServiceExt;

/// GET `path` (with the admin's token unless `token` is `Some(None)`): status and body.
async fn fetch(app: &TestApp, path: &str, token: Option<&str>) -> (StatusCode, String, Vec<u8>) {
    let mut request = Request::builder().method(Method::GET).uri(path);
    if let Some(token) = token {
        request = request.header(header::AUTHORIZATION, format!("Bearer {token}"));
    }
    let response = app.router.clone().oneshot(request.body(Body::empty()).unwrap()).await.unwrap();
    let status = response.status();
    let content_type = response.headers().get(header::CONTENT_TYPE).map(|v| v.to_str().unwrap().to_owned()).unwrap_or_default();
    (status, content_type, response.into_body().collect().await.unwrap().to_bytes().to_vec())
}

fn text_of(pdf: &[u8]) -> String {
    assert!(pdf.starts_with(b"%PDF-"), "not a PDF");
    let dir = tempfile::tempdir().unwrap();
    let path = dir.path().join("document.pdf");
    std::fs::write(&path, pdf).unwrap();
    let output = std::process::Command::new("pdftotext")
        .args(["-layout", path.to_str().unwrap(), "-"])
        .output()
        .expect("pdftotext (Debian package poppler-utils; scripts/test installs it)");
    String::from_utf8_lossy(&output.stdout).into_owned()
}

both_backends!(an_invoice_and_a_quote_print_as_pdfs_with_everything_a_customer_needs, |app| {
    app.customer(json!({"given_name": "Zoë", "family_name": "Müller"})).await;
    app.customer(json!({"family_name": "Neighbour"})).await;
    app.post("/customers/CUS-00001/sites", json!({"kind": "billing", "address_line1": "1 High Street", "town": "Leeds", "postcode": "LS1 4AP"})).await;
    let lines = json!([{"description": "Boiler service", "unit_price": 8000, "tax_rate_bp": 2000}, {"description": "Valve", "quantity": 2, "unit_price": 1250, "tax_rate_bp": 500}]);
    let (status, invoice) =
        app.post("/invoices", json!({"customer": "CUS-00001", "issue": true, "lines": lines, "notes": "Thank you for your business"})).await;
    assert_eq!(status, StatusCode::CREATED, "{invoice}");
    let due = invoice["due_date"].as_str().unwrap().to_owned();
    let (status, content_type, pdf) = fetch(&app, "/api/v1/invoices/INV-00001/pdf", Some(&app.token)).await;
    assert_eq!((status, content_type.as_str()), (StatusCode::OK, "application/pdf"));
    let text = text_of(&pdf);
    for expected in [
        "Invoice",
        "Test Services",
        "1 Test Street",
        "Zoë Müller",
        "1 High Street",
        "Leeds LS1 4AP",
        "INV-00001",
        "CUS-00001",
        "Boiler service",
        "Valve",
        "20%",
        "5%",
        "£80.00",
        "£25.00",
        "£105.00",
        "£17.25",
        "£122.25",
        due.as_str(),
        "How to pay",
        "Thank you for your business",
    ] {
        assert!(text.contains(expected), "{expected} missing from the invoice:\n{text}");
    }
    // A draft says so and asks for no payment.
    app.post("/invoices", json!({"customer": "CUS-00001", "lines": [{"description": "Later", "unit_price": 100}]})).await;
    let (_, _, draft) = fetch(&app, "/api/v1/invoices/INV-00002/pdf", Some(&app.token)).await;
    let draft = text_of(&draft);
    assert!(draft.contains("Draft invoice (not issued)") && !draft.contains("How to pay"), "{draft}");

    let (_, quote) = app.post("/quotes", json!({"customer": "CUS-00001", "title": "New boiler", "valid_until": "2027-01-31", "lines": [{"description": "Combi boiler", "unit_price": 150000, "tax_rate_bp": 2000}]})).await;
    let (status, _, pdf) = fetch(&app, &format!("/api/v1/quotes/{}/pdf", quote["code"].as_str().unwrap()), Some(&app.token)).await;
    assert_eq!(status, StatusCode::OK);
    let text = text_of(&pdf);
    for expected in ["Draft quote", "EST-00001", "New boiler", "Combi boiler", "£1,500.00", "£1,800.00", "2027-01-31", "Zoë Müller"] {
        assert!(text.contains(expected), "{expected} missing from the quote:\n{text}");
    }

    // Who may not see invoices gets none; an unknown one is not found.
    let (_, fieldworker) = app.user("fieldworker").await;
    let (status, _, _) = fetch(&app, "/api/v1/invoices/INV-00001/pdf", Some(&fieldworker)).await;
    assert_eq!(status, StatusCode::FORBIDDEN);
    let (status, content_type, _) = fetch(&app, "/api/v1/invoices/INV-09999/pdf", Some(&app.token)).await;
    assert_eq!((status, content_type.as_str()), (StatusCode::NOT_FOUND, "application/problem+json"));

    // The customer downloads their own issued invoice from the portal, not a draft or another's.
    app.post("/invoices", json!({"customer": "CUS-00002", "issue": true, "lines": [{"description": "Theirs", "unit_price": 100}]})).await;
    let (_, link) = app.post("/customers/CUS-00001/portal-links", json!({})).await;
    let url = link["url"].as_str().unwrap();
    let (_, page) = app.page(None, url).await;
    assert!(page.contains(&format!("href=\"{url}/invoices/INV-00001/pdf\"")), "{page}");
    let (status, _, pdf) = fetch(&app, &format!("{url}/invoices/INV-00001/pdf"), None).await;
    assert_eq!(status, StatusCode::OK);
    assert!(text_of(&pdf).contains("£122.25"));
    for other in ["INV-00002", "INV-00003", "INV-09999"] {
        let (status, _, _) = fetch(&app, &format!("{url}/invoices/{other}/pdf"), None).await;
        assert_eq!(status, StatusCode::NOT_FOUND, "{other}");
    }
});

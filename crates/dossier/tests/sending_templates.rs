//! Message templates: an org's own subject and text per purpose, checked
//! when saved (syntax, placeholders, bounded work), filled in for a real
//! customer and invoice, set back to the default, and edited with a
//! preview on the admin page; on SQLite and PostgreSQL.

mod common;

use serde_json::{Value, json};

fn codes(problem: &Value) -> Vec<(String, String)> {
    problem["errors"].as_array().map_or_else(Vec::new, |errors| {
        errors.iter().map(|e| (e["field"].as_str().unwrap_or("").to_owned(), e["code"].as_str().unwrap_or("").to_owned())).collect()
    })
}

both_backends!(an_org_writes_its_own_invoice_email_and_it_is_filled_in_for_a_real_invoice, |app| {
    let (status, all) = app.get("/templates").await;
    assert_eq!(status, 200, "{all}");
    let purposes: Vec<&str> = all.as_array().unwrap().iter().map(|t| t["purpose"].as_str().unwrap()).collect();
    assert!(purposes.contains(&"invoice") && purposes.contains(&"payment_reminder_3") && purposes.contains(&"staff_invitation"));
    let (_, invoice) = app.get("/templates/invoice").await;
    assert_eq!(invoice["customised"], false);
    assert!(invoice["placeholders"].as_array().unwrap().iter().any(|p| p["name"] == "invoice.due_date"));

    // Refusals change nothing.
    let before = app.count("activity").await;
    let (status, problem) = app.put("/templates/invoice", json!({"subject": "Invoice {{ invoice.code", "body": "Hi"})).await;
    assert_eq!(status, 422, "{problem}");
    assert_eq!(codes(&problem), [("subject".to_owned(), "template_syntax".to_owned())]);
    let (status, problem) = app.put("/templates/invoice", json!({"subject": "Invoice", "body": "Dear {{ customer.nmae }}, {{ quote.code }}"})).await;
    assert_eq!(status, 422);
    assert_eq!(codes(&problem), [("body".to_owned(), "unknown_placeholder".to_owned())]);
    assert!(problem["errors"][0]["message"].as_str().unwrap().contains("customer.nmae"), "{problem}");
    // A template that tries to spin is stopped, not run to the end.
    let (status, problem) = app
        .put("/templates/invoice", json!({"subject": "Invoice", "body": "{% for a in range(10000) %}{% for b in range(10000) %}x{% endfor %}{% endfor %}"}))
        .await;
    assert_eq!(status, 422, "{problem}");
    assert!(["template_error", "too_long"].contains(&problem["errors"][0]["code"].as_str().unwrap()), "{problem}");
    // No way out of the sandbox: there is nothing to include.
    let (status, _) = app.put("/templates/invoice", json!({"subject": "Invoice", "body": "{% include '/etc/passwd' %}"})).await;
    assert_eq!(status, 422);
    let (status, _) = app.put("/templates/nonsense", json!({"subject": "a", "body": "b"})).await;
    assert_eq!(status, 404);
    assert_eq!(app.count("activity").await, before);
    assert_eq!(app.count("message_template").await, 0);

    // Saved: one activity with what changed.
    let body = "Hello {{ contact.name }},\n\n{{ invoice.code }} for {{ invoice.total }} is due on {{ invoice.due_date }}.{% if invoice.balance != invoice.total %} Still to pay: {{ invoice.balance }}.{% endif %}\n\n{{ sender.name }}, {{ org.name }}";
    let (status, saved) = app.put("/templates/invoice", json!({"subject": "Your invoice {{ invoice.code }}", "body": body})).await;
    assert_eq!(status, 200, "{saved}");
    assert_eq!(saved["customised"], true);
    assert_eq!(app.count("activity").await, before + 1);

    // Filled in for a real customer's real invoice.
    let customer = app.customer(json!({"kind": "individual", "given_name": "Ann", "family_name": "Smith"})).await;
    let code = customer["code"].as_str().unwrap();
    let (status, inv) = app
        .post(
            "/invoices",
            json!({"customer": code, "issue": true, "issue_date": "2026-12-01", "lines": [{"description": "Boiler service", "unit_price": 24000}]}),
        )
        .await;
    assert_eq!(status, 201, "{inv}");
    let inv_code = inv["code"].as_str().unwrap();
    let (status, filled) = app.post("/templates/invoice/preview", json!({"customer": code, "record": inv_code})).await;
    assert_eq!(status, 200, "{filled}");
    assert_eq!(filled["subject"], format!("Your invoice {inv_code}"));
    let text = filled["body"].as_str().unwrap();
    assert!(text.starts_with("Hello Ann,"), "{text}");
    assert!(text.contains(&format!("{inv_code} for £240.00 is due on")), "{text}");
    assert!(!text.contains("Still to pay"), "{text}");
    // The preview of a text being edited, with the examples.
    let (status, sample) =
        app.post("/templates/quote/preview", json!({"subject": "{{ quote.code }}", "body": "{{ quote.total }} until {{ quote.valid_until }}"})).await;
    assert_eq!(status, 200);
    assert_eq!(sample["subject"], "QUO-00008");
    // An invoice template needs its invoice.
    let (status, problem) = app.post("/templates/invoice/preview", json!({"customer": code})).await;
    assert_eq!(status, 422);
    assert_eq!(codes(&problem), [("record".to_owned(), "required".to_owned())]);

    // Back to the default.
    let (status, reset) = app.post("/templates/invoice/reset", json!({})).await;
    assert_eq!(status, 200);
    assert_eq!(reset["customised"], false);
    assert_eq!(reset["subject"], "Invoice {{ invoice.code }} from {{ org.name }}");
    assert_eq!(app.count("message_template").await, 0);
    assert_eq!(app.count("activity").await, before + 2 + 2); // + the customer and the invoice
});

both_backends!(only_owners_and_admins_change_templates_and_a_fieldworker_reads_none, |app| {
    let (_, office) = app.user("office").await;
    let (_, fieldworker) = app.user("fieldworker").await;
    let (status, _) = app.call_as(Some(&office), axum::http::Method::GET, "/templates/invoice", None).await;
    assert_eq!(status, 200);
    let (status, _) = app.call_as(Some(&office), axum::http::Method::PUT, "/templates/invoice", Some(json!({"subject": "x", "body": "y"}))).await;
    assert_eq!(status, 403);
    let (status, _) = app.call_as(Some(&fieldworker), axum::http::Method::PUT, "/templates/invoice", Some(json!({"subject": "x", "body": "y"}))).await;
    assert_eq!(status, 403);
    // A fieldworker sees no amounts, not even the examples'.
    let (status, _) = app.call_as(Some(&fieldworker), axum::http::Method::GET, "/templates", None).await;
    assert_eq!(status, 403);
    assert_eq!(app.count("message_template").await, 0);
});

both_backends!(an_admin_previews_and_saves_a_template_on_its_page_and_sees_a_bad_placeholder_next_to_the_text, |app| {
    let cookie = app.session("admin").await;
    let (status, list) = app.page(Some(&cookie), "/settings/templates").await;
    assert_eq!(status, 200);
    assert!(list.contains("Payment reminder, final"), "{list}");
    let (status, page) = app.page(Some(&cookie), "/settings/templates/payment_reminder_2").await;
    assert_eq!(status, 200);
    assert!(page.contains("reminder.days_overdue") && page.contains("id=\"preview-body\""), "{page}");

    let text = "{{ invoice.code }} is {{ reminder.days_overdue }} days late";
    let (status, _, preview) =
        app.form(&cookie, "/settings/templates/payment_reminder_2", &[("subject", "Late: {{ invoice.code }}"), ("body", text), ("action", "preview")]).await;
    assert_eq!(status, 200);
    assert!(preview.contains("INV-00017 is 14 days late"), "{preview}");
    assert_eq!(app.count("message_template").await, 0, "a preview saves nothing");

    let (status, _, refused) =
        app.form(&cookie, "/settings/templates/payment_reminder_2", &[("subject", "Late"), ("body", "{{ invoice.number }}"), ("action", "save")]).await;
    assert_eq!(status, 422);
    assert!(refused.contains("id=\"body-error\"") && refused.contains("invoice.number"), "{refused}");
    assert_eq!(app.count("message_template").await, 0);

    let (status, location, _) =
        app.form(&cookie, "/settings/templates/payment_reminder_2", &[("subject", "Late: {{ invoice.code }}"), ("body", text), ("action", "save")]).await;
    assert_eq!(status, 303);
    assert_eq!(location, "/settings/templates/payment_reminder_2?saved=1");
    let (_, saved) = app.get("/templates/payment_reminder_2").await;
    assert_eq!(saved["body"], text);
});

//! Invoices, payments, credit notes and allocations through the JSON API,
//! on SQLite and PostgreSQL.

mod common;

use axum::http::StatusCode;
use serde_json::{Value, json};

/// A customer and an issued invoice of `lines` for it; returns the invoice.
async fn issued_invoice(app: &common::TestApp, customer: &str, unit_price: i64) -> Value {
    let (status, invoice) = app
        .post(
            "/invoices",
            json!({"customer": customer, "issue": true, "lines": [{"description": "Boiler service", "unit_price": unit_price, "tax_rate_bp": 2000}]}),
        )
        .await;
    assert_eq!(status, StatusCode::CREATED, "{invoice}");
    invoice
}

both_backends!(an_invoice_is_drafted_issued_and_gets_its_totals_and_due_date, |app| {
    app.customer(json!({"family_name": "Lee"})).await;
    let (status, draft) = app
        .post(
            "/invoices",
            json!({"customer": "CUS-00001", "lines": [
                {"description": "Labour", "quantity": 1.5, "unit_price": 3333, "tax_rate_bp": 2000},
                {"description": "Parts", "quantity": "2", "unit_price": 1250}
            ]}),
        )
        .await;
    assert_eq!(status, StatusCode::CREATED, "{draft}");
    assert_eq!(draft["code"], "INV-00001");
    // An invoice names its customer by code beside the id, in every answer.
    assert_eq!(draft["customer_code"], "CUS-00001");
    let (_, listed) = app.get("/invoices").await;
    assert_eq!(listed["items"][0]["customer_code"], "CUS-00001");
    let (_, read) = app.get("/invoices/INV-00001").await;
    assert_eq!(read["customer_code"], "CUS-00001");
    assert_eq!(draft["status"], "draft");
    assert_eq!(draft["lines"][0]["quantity"], "1.5");
    assert_eq!(draft["lines"][0]["net"], 5000);
    assert_eq!((draft["subtotal"].as_i64(), draft["tax"].as_i64(), draft["total"].as_i64()), (Some(7500), Some(1000), Some(8500)));
    assert_eq!(draft["issue_date"], Value::Null);

    let (status, open) = app.post("/invoices/INV-00001/issue", json!({})).await;
    assert_eq!(status, StatusCode::OK, "{open}");
    assert_eq!(open["status"], "open");
    assert_eq!(open["state"], "open");
    assert_eq!(open["due_date_source"], "org");
    let issued: jiff::civil::Date = open["issue_date"].as_str().unwrap().parse().unwrap();
    let due: jiff::civil::Date = open["due_date"].as_str().unwrap().parse().unwrap();
    assert_eq!(issued.until(due).unwrap().get_days(), 30, "the org's default terms are net 30");
    assert_eq!(open["balance"], 8500);

    // Issuing twice is an illegal transition and changes nothing.
    let (status, problem) = app.post("/invoices/INV-00001/issue", json!({})).await;
    assert_eq!(status, StatusCode::CONFLICT);
    assert_eq!(problem["code"], "illegal_transition");

    let (_, timeline) = app.get("/customers/CUS-00001/timeline?group=billing").await;
    let kinds: Vec<&str> = timeline["items"].as_array().unwrap().iter().map(|i| i["kind"].as_str().unwrap()).collect();
    assert_eq!(kinds, ["invoice.issued", "invoice.created"]);
    assert_eq!(timeline["items"][0]["detail"]["total"], 8500);
});

both_backends!(due_dates_follow_invoice_then_customer_then_org_terms, |app| {
    app.customer(json!({"family_name": "Org terms"})).await;
    app.customer(json!({"family_name": "Own terms", "payment_terms": {"basis": "net", "days": 7}})).await;
    let issue = |customer: &'static str, due: Option<&'static str>| {
        let mut body = json!({"customer": customer, "issue": true, "issue_date": "2026-01-10", "lines": [{"description": "Visit", "unit_price": 100}]});
        if let Some(due) = due {
            body["due_date"] = json!(due);
        }
        body
    };
    let (_, org) = app.post("/invoices", issue("CUS-00001", None)).await;
    assert_eq!((org["due_date"].as_str(), org["due_date_source"].as_str()), (Some("2026-02-09"), Some("org")));
    let (_, customer) = app.post("/invoices", issue("CUS-00002", None)).await;
    assert_eq!((customer["due_date"].as_str(), customer["due_date_source"].as_str()), (Some("2026-01-17"), Some("customer")));
    let (_, own) = app.post("/invoices", issue("CUS-00002", Some("2026-01-12"))).await;
    assert_eq!((own["due_date"].as_str(), own["due_date_source"].as_str()), (Some("2026-01-12"), Some("invoice")));
    // End-of-month terms on the customer.
    app.patch("/customers/CUS-00001", json!({"payment_terms": {"basis": "end_of_month", "days": 10}})).await;
    let (_, eom) = app.post("/invoices", issue("CUS-00001", None)).await;
    assert_eq!(eom["due_date"], "2026-02-10");
    // An old invoice issued long ago is overdue.
    assert_eq!(org["state"], "overdue");
});

both_backends!(payments_allocate_partially_and_over_allocation_is_refused, |app| {
    app.customer(json!({"family_name": "Lee"})).await;
    issued_invoice(&app, "CUS-00001", 10_000).await; // 120.00 with tax
    issued_invoice(&app, "CUS-00001", 5_000).await; // 60.00
    let (status, payment) = app
        .post("/payments", json!({"customer": "CUS-00001", "amount": 15_000, "method": "card", "allocations": [{"invoice": "INV-00001", "amount": 12_000}]}))
        .await;
    assert_eq!(status, StatusCode::CREATED, "{payment}");
    assert_eq!(payment["code"], "PAY-00001");
    assert_eq!((payment["allocated"].as_i64(), payment["unallocated"].as_i64()), (Some(12_000), Some(3_000)));
    let (_, first) = app.get("/invoices/INV-00001").await;
    assert_eq!((first["status"].as_str(), first["balance"].as_i64(), first["paid"].as_i64()), (Some("closed"), Some(0), Some(12_000)));

    // More than the invoice's balance, or more than the payment has left: refused, nothing written.
    let before = app.count("allocation").await;
    let (status, problem) = app.post("/payments/PAY-00001/allocations", json!({"allocations": [{"invoice": "INV-00002", "amount": 6_001}]})).await;
    assert_eq!(status, StatusCode::UNPROCESSABLE_ENTITY);
    assert_eq!(problem["errors"][0]["code"], "exceeds_invoice_balance");
    let (status, problem) = app.post("/payments/PAY-00001/allocations", json!({"allocations": [{"invoice": "INV-00002", "amount": 3_001}]})).await;
    assert_eq!(status, StatusCode::UNPROCESSABLE_ENTITY);
    assert_eq!(problem["errors"][0]["code"], "exceeds_unallocated");
    // A closed invoice takes nothing more.
    let (status, problem) = app.post("/payments/PAY-00001/allocations", json!({"allocations": [{"invoice": "INV-00001", "amount": 1}]})).await;
    assert_eq!(status, StatusCode::CONFLICT);
    assert_eq!(problem["code"], "invoice_not_open");
    assert_eq!(app.count("allocation").await, before);

    // The account credit is allocated later: partial payment of INV-00002.
    let (status, payment) = app.post("/payments/PAY-00001/allocations", json!({"allocations": [{"invoice": "INV-00002", "amount": 3_000}]})).await;
    assert_eq!(status, StatusCode::OK, "{payment}");
    assert_eq!(payment["unallocated"], 0);
    assert_eq!(payment["allocations"].as_array().unwrap().len(), 2);
    let (_, second) = app.get("/invoices/INV-00002").await;
    assert_eq!((second["status"].as_str(), second["balance"].as_i64()), (Some("open"), Some(3_000)));

    let (_, timeline) = app.get("/customers/CUS-00001/timeline?kind=payment.allocated").await;
    assert_eq!(timeline["items"].as_array().unwrap().len(), 2);
    assert_eq!(timeline["items"][0]["detail"]["amount"], 3_000);
    assert_eq!(timeline["items"][0]["group"], "billing");
});

both_backends!(credit_notes_reduce_an_invoice_or_become_account_credit, |app| {
    app.customer(json!({"family_name": "Lee"})).await;
    issued_invoice(&app, "CUS-00001", 10_000).await; // 120.00
    let (status, credit) = app.post("/credit-notes", json!({"invoice": "INV-00001", "amount": 12_000, "reason": "Job cancelled"})).await;
    assert_eq!(status, StatusCode::CREATED, "{credit}");
    assert_eq!(credit["code"], "CRN-00001");
    assert_eq!(credit["unallocated"], 0);
    let (_, invoice) = app.get("/invoices/INV-00001").await;
    assert_eq!((invoice["status"].as_str(), invoice["state"].as_str()), (Some("closed"), Some("credited")));

    // Standalone: account credit, allocated later.
    issued_invoice(&app, "CUS-00001", 5_000).await; // 60.00
    let (status, credit) = app.post("/credit-notes", json!({"customer": "CUS-00001", "amount": 1_000, "reason": "Goodwill"})).await;
    assert_eq!(status, StatusCode::CREATED, "{credit}");
    assert_eq!(credit["invoice_id"], Value::Null);
    assert_eq!(credit["unallocated"], 1_000);
    let (status, credit) = app.post("/credit-notes/CRN-00002/allocations", json!({"allocations": [{"invoice": "INV-00002", "amount": 1_000}]})).await;
    assert_eq!(status, StatusCode::OK, "{credit}");
    let (_, invoice) = app.get("/invoices/INV-00002").await;
    assert_eq!((invoice["balance"].as_i64(), invoice["credited"].as_i64()), (Some(5_000), Some(1_000)));

    // A credit bigger than the invoice's balance is refused, nothing written.
    let before = app.count("credit_note").await;
    let (status, problem) = app.post("/credit-notes", json!({"invoice": "INV-00002", "amount": 5_001, "reason": "Too much"})).await;
    assert_eq!(status, StatusCode::UNPROCESSABLE_ENTITY, "{problem}");
    assert_eq!(problem["errors"][0]["field"], "amount");
    assert_eq!(app.count("credit_note").await, before);
});

both_backends!(void_and_lists_by_state, |app| {
    app.customer(json!({"family_name": "Lee"})).await;
    app.customer(json!({"family_name": "Other"})).await;
    issued_invoice(&app, "CUS-00001", 100).await;
    let (_, draft) = app.post("/invoices", json!({"customer": "CUS-00001", "lines": [{"description": "Quote me", "unit_price": 100}]})).await;
    issued_invoice(&app, "CUS-00002", 100).await;
    let (status, voided) = app.post(&format!("/invoices/{}/void", draft["id"].as_str().unwrap()), json!({"reason": "Raised twice"})).await;
    assert_eq!(status, StatusCode::OK, "{voided}");
    assert_eq!(voided["status"], "void");
    let (status, problem) = app.post("/invoices/INV-00002/void", json!({"reason": "again"})).await;
    assert_eq!(status, StatusCode::CONFLICT);
    assert_eq!(problem["code"], "illegal_transition");

    let (_, open) = app.get("/invoices?customer=CUS-00001&state=open").await;
    let codes: Vec<&str> = open["items"].as_array().unwrap().iter().map(|i| i["code"].as_str().unwrap()).collect();
    assert_eq!(codes, ["INV-00001"]);
    let (_, all) = app.get("/invoices?limit=2").await;
    assert_eq!(all["items"].as_array().unwrap().len(), 2);
    let cursor = all["next_cursor"].as_str().unwrap();
    let (_, rest) = app.get(&format!("/invoices?limit=2&cursor={cursor}")).await;
    assert_eq!(rest["items"][0]["code"], "INV-00001");
    assert_eq!(rest["next_cursor"], Value::Null);
});

both_backends!(money_records_of_another_org_are_not_found, |app| {
    app.customer(json!({"family_name": "Lee"})).await;
    issued_invoice(&app, "CUS-00001", 100).await;
    app.post("/payments", json!({"customer": "CUS-00001", "amount": 50})).await;
    let (_, other_token) = app.add_org("Other Services", "admin@other.example").await;
    for path in ["/invoices/INV-00001", "/payments/PAY-00001"] {
        let (status, body) = app.call_as(Some(&other_token), axum::http::Method::GET, path, None).await;
        assert_eq!(status, StatusCode::NOT_FOUND, "{path}: {body}");
    }
    let (status, problem) = app.call_as(Some(&other_token), axum::http::Method::POST, "/payments", Some(json!({"customer": "CUS-00001", "amount": 50}))).await;
    assert_eq!(status, StatusCode::UNPROCESSABLE_ENTITY);
    assert_eq!(problem["errors"][0]["field"], "customer");
    let (_, list) = app.call_as(Some(&other_token), axum::http::Method::GET, "/invoices", None).await;
    assert_eq!(list["items"], json!([]));
});

both_backends!(concurrent_writers_get_gapless_invoice_payment_and_credit_codes, |app| {
    use dossier_domain::works::{CreditNoteInput, InvoiceInput, PaymentInput};
    use dossier_service::billing;
    app.customer(json!({"family_name": "Busy"})).await;
    let writers = 8;
    let each = 5;
    let tasks: Vec<_> = (0..writers)
        .map(|_| {
            let db = app.db.clone();
            let ctx = app.ctx();
            tokio::spawn(async move {
                let mut codes = Vec::new();
                for _ in 0..each {
                    let invoice: InvoiceInput =
                        serde_json::from_value(json!({"customer": "CUS-00001", "issue": true, "lines": [{"description": "Visit", "unit_price": 1000}]}))
                            .unwrap();
                    let invoice = billing::create_invoice(&db, &ctx, invoice).await.unwrap();
                    codes.push(invoice.code.clone());
                    // A credit note larger than the balance reserves a number, fails and gives it back.
                    let too_much: CreditNoteInput = serde_json::from_value(json!({"invoice": invoice.code, "amount": 1001, "reason": "x"})).unwrap();
                    assert!(billing::create_credit_note(&db, &ctx, too_much).await.is_err());
                    let credit: CreditNoteInput = serde_json::from_value(json!({"invoice": invoice.code, "amount": 100, "reason": "Goodwill"})).unwrap();
                    codes.push(billing::create_credit_note(&db, &ctx, credit).await.unwrap().code);
                    let payment: PaymentInput =
                        serde_json::from_value(json!({"customer": "CUS-00001", "amount": 900, "allocations": [{"invoice": invoice.code, "amount": 900}]}))
                            .unwrap();
                    codes.push(billing::record_payment(&db, &ctx, payment).await.unwrap().code);
                }
                codes
            })
        })
        .collect();
    let mut codes: Vec<String> = Vec::new();
    for task in tasks {
        codes.extend(task.await.unwrap());
    }
    codes.sort();
    let mut expected: Vec<String> = Vec::new();
    for prefix in ["CRN", "INV", "PAY"] {
        expected.extend((1..=writers * each).map(|n| format!("{prefix}-{n:05}")));
    }
    assert_eq!(codes, expected);
    // Every invoice was credited 1.00 and paid 9.00: all closed, nothing owed.
    let (_, summary) = app.get("/customers/CUS-00001/summary").await;
    assert_eq!(summary["open_balance"], 0);
    let closed = summary["invoices"]["bars"].as_array().unwrap().iter().find(|b| b["status"] == "closed").unwrap().clone();
    assert_eq!(closed["count"], writers * each);
});

both_backends!(an_invoice_is_never_over_allocated_by_one_request_or_by_racing_writers, |app| {
    use dossier_domain::works::AllocateInput;
    use dossier_service::billing;
    app.customer(json!({"family_name": "Lee"})).await;
    let (_, invoice) = app.post("/invoices", json!({"customer": "CUS-00001", "issue": true, "lines": [{"description": "Visit", "unit_price": 1000}]})).await;
    assert_eq!(invoice["total"], 1000);

    // The same invoice twice in one request: together more than its balance.
    let (status, problem) = app
        .post(
            "/payments",
            json!({"customer": "CUS-00001", "amount": 1200, "allocations": [{"invoice": "INV-00001", "amount": 600}, {"invoice": "INV-00001", "amount": 600}]}),
        )
        .await;
    assert_eq!(status, StatusCode::UNPROCESSABLE_ENTITY, "{problem}");
    assert_eq!(problem["errors"][0]["field"], "allocations[1].amount");
    assert_eq!((app.count("allocation").await, app.count("payment").await), (0, 0));

    // Eight payments of 3.00 race to pay the same 10.00 invoice: three fit.
    for _ in 0..8 {
        let (status, _) = app.post("/payments", json!({"customer": "CUS-00001", "amount": 300})).await;
        assert_eq!(status, StatusCode::CREATED);
    }
    let tasks: Vec<_> = (1..=8)
        .map(|n| {
            let (db, ctx) = (app.db.clone(), app.ctx());
            tokio::spawn(async move {
                let input: AllocateInput = serde_json::from_value(json!({"allocations": [{"invoice": "INV-00001", "amount": 300}]})).unwrap();
                billing::allocate_payment(&db, &ctx, &format!("PAY-{n:05}"), input).await
            })
        })
        .collect();
    let mut allocated = 0;
    for task in tasks {
        match task.await.unwrap() {
            Ok(_) => allocated += 1,
            Err(e) => assert!(matches!(e.code(), "validation_failed" | "changed_meanwhile"), "{e}"),
        }
    }
    assert_eq!(allocated, 3);
    let (_, invoice) = app.get("/invoices/INV-00001").await;
    assert_eq!((invoice["paid"].as_i64(), invoice["balance"].as_i64(), invoice["status"].as_str()), (Some(900), Some(100), Some("open")));
    assert_eq!(app.count("allocation").await, 3);
});

both_backends!(an_invoice_bills_only_its_own_customers_real_jobs_and_each_job_once, |app| {
    app.customer(json!({"family_name": "Lee"})).await;
    app.customer(json!({"family_name": "Other"})).await;
    let mut jobs = Vec::new();
    for customer in ["CUS-00001", "CUS-00002"] {
        let (status, job) = app.post("/jobs", json!({"customer": customer, "title": "Boiler service"})).await;
        assert_eq!(status, StatusCode::CREATED, "{job}");
        jobs.push(job["id"].as_str().unwrap().to_owned());
    }
    let (own, theirs) = (&jobs[0], &jobs[1]);
    let made_up = uuid::Uuid::now_v7().to_string();
    let invoice = |job_ids: Vec<&str>| json!({"customer": "CUS-00001", "job_ids": job_ids, "lines": [{"description": "Boiler service", "unit_price": 8000}]});

    // Another customer's job and a made-up id are refused, field by field, and nothing is written.
    let (status, problem) = app.post("/invoices", invoice(vec![own, theirs, &made_up])).await;
    assert_eq!(status, StatusCode::UNPROCESSABLE_ENTITY, "{problem}");
    let errors: Vec<(&str, &str)> = problem["errors"].as_array().unwrap().iter().map(|e| (e["field"].as_str().unwrap(), e["code"].as_str().unwrap())).collect();
    assert!(errors.contains(&("job_ids[1]", "unknown_job")) && errors.contains(&("job_ids[2]", "unknown_job")), "{problem}");
    assert_eq!(app.count("invoice").await, 0);

    // The job is billed once; a second invoice naming it is refused.
    let (status, first) = app.post("/invoices", invoice(vec![own])).await;
    assert_eq!(status, StatusCode::CREATED, "{first}");
    let (status, problem) = app.post("/invoices", invoice(vec![own])).await;
    assert_eq!(status, StatusCode::UNPROCESSABLE_ENTITY, "{problem}");
    assert_eq!(
        (problem["errors"][0]["code"].as_str(), problem["errors"][0]["message"].as_str()),
        (Some("already_billed"), Some("is already billed on INV-00001"))
    );
    assert_eq!(app.count("invoice").await, 1);
    let (_, job_timeline) = app.get("/customers/CUS-00001/timeline").await;
    assert!(job_timeline["items"].as_array().unwrap().iter().any(|i| i["kind"] == "invoice.created"));

    // Racing invoices for one job: exactly one wins.
    let (status, _) = app.post("/invoices/INV-00001/void", json!({"reason": "Wrong price"})).await;
    assert_eq!(status, StatusCode::OK, "voiding releases the job");
    let racing: Vec<_> = (0..8).map(|_| app.post("/invoices", invoice(vec![own]))).collect();
    let statuses: Vec<StatusCode> = futures::future::join_all(racing).await.into_iter().map(|(s, _)| s).collect();
    assert_eq!(statuses.iter().filter(|s| **s == StatusCode::CREATED).count(), 1, "{statuses:?}");
    assert!(statuses.iter().all(|s| matches!(*s, StatusCode::CREATED | StatusCode::UNPROCESSABLE_ENTITY)), "{statuses:?}");
});

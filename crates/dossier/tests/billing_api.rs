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

// ------------------------------------------------------------ refunds and taking allocations back

/// The kinds of the customer's billing timeline, newest first.
async fn billing_kinds(app: &common::TestApp) -> Vec<String> {
    let (_, timeline) = app.get("/customers/CUS-00001/timeline?group=billing").await;
    timeline["items"].as_array().unwrap().iter().map(|i| i["kind"].as_str().unwrap().to_owned()).collect()
}

both_backends!(a_payment_s_account_credit_is_refunded_never_beyond_what_is_left, |app| {
    app.customer(json!({"family_name": "Lee"})).await;
    issued_invoice(&app, "CUS-00001", 10_000).await; // 120.00
    let (_, payment) =
        app.post("/payments", json!({"customer": "CUS-00001", "amount": 15_000, "allocations": [{"invoice": "INV-00001", "amount": 12_000}]})).await;
    assert_eq!(payment["unallocated"], 3_000);

    // Bad input and more than is left are refused with stable codes; nothing is written.
    for (body, field, code) in [
        (json!({"amount": 3_001, "reason": "Overpaid"}), "amount", "exceeds_unallocated"),
        (json!({"amount": 0, "reason": "Overpaid"}), "amount", "not_positive"),
        (json!({"amount": 1_000}), "reason", "required"),
        (json!({"amount": 1_000, "reason": "x".repeat(501)}), "reason", "too_long"),
    ] {
        let (status, problem) = app.post("/payments/PAY-00001/refunds", body).await;
        assert_eq!(status, StatusCode::UNPROCESSABLE_ENTITY, "{problem}");
        assert_eq!((problem["errors"][0]["field"].as_str(), problem["errors"][0]["code"].as_str()), (Some(field), Some(code)), "{problem}");
    }
    let (status, _) = app.post("/payments/PAY-00001/refunds", json!({"amount": 100, "reason": "x", "method": "bitcoin"})).await;
    assert_eq!(status, StatusCode::UNPROCESSABLE_ENTITY, "an unknown method is refused");
    assert_eq!(app.count("refund").await, 0);

    let (status, refunded) =
        app.post("/payments/PAY-00001/refunds", json!({"amount": 2_000, "method": "card", "reference": "RF-1", "reason": "Overpaid"})).await;
    assert_eq!(status, StatusCode::OK, "{refunded}");
    assert_eq!((refunded["refunded"].as_i64(), refunded["unallocated"].as_i64(), refunded["allocated"].as_i64()), (Some(2_000), Some(1_000), Some(12_000)));
    assert_eq!((refunded["refunds"][0]["amount"].as_i64(), refunded["refunds"][0]["method"].as_str()), (Some(2_000), Some("card")));
    let (_, invoice) = app.get("/invoices/INV-00001").await;
    assert_eq!(invoice["balance"], 0, "a refund comes out of account credit, never out of an invoice");

    // The summary's credit, the statement's own refund line and its closing balance agree.
    let (_, summary) = app.get("/customers/CUS-00001/summary").await;
    assert_eq!((summary["account_credit"].as_i64(), summary["open_balance"].as_i64()), (Some(1_000), Some(-1_000)));
    let (_, statement) = app.get("/customers/CUS-00001/statement").await;
    let refund_line = statement["lines"].as_array().unwrap().iter().find(|l| l["kind"] == "refund").expect("the refund is a line of its own").clone();
    assert_eq!((refund_line["code"].as_str(), refund_line["amount"].as_i64()), (Some("PAY-00001"), Some(2_000)));
    let kinds: Vec<&str> = statement["lines"].as_array().unwrap().iter().map(|l| l["kind"].as_str().unwrap()).collect();
    assert_eq!(kinds, ["payment", "invoice", "refund"], "on one day a refund follows what it refunds");
    assert_eq!(statement["closing_balance"], summary["open_balance"]);
    assert_eq!(statement["unallocated_credits"][0]["unallocated"], 1_000);

    let (_, timeline) = app.get("/customers/CUS-00001/timeline?kind=payment.refunded").await;
    assert_eq!(timeline["items"][0]["detail"]["amount"], 2_000);
    assert_eq!(timeline["items"][0]["summary"], "£20.00 of PAY-00001 refunded to the customer by card: Overpaid");

    // Two refunds of all that is left, at once: exactly one is made.
    let (first, second) = tokio::join!(
        app.post("/payments/PAY-00001/refunds", json!({"amount": 1_000, "reason": "Closing the account"})),
        app.post("/payments/PAY-00001/refunds", json!({"amount": 1_000, "reason": "Closing the account"}))
    );
    let mut statuses = [first.0, second.0];
    statuses.sort();
    assert_eq!(statuses, [StatusCode::OK, StatusCode::UNPROCESSABLE_ENTITY]);
    let (_, payment) = app.get("/payments/PAY-00001").await;
    assert_eq!((payment["refunded"].as_i64(), payment["unallocated"].as_i64()), (Some(3_000), Some(0)));
    assert_eq!(app.count("refund").await, 2);
});

both_backends!(an_allocation_is_taken_back_with_a_reason_and_its_invoice_is_open_again, |app| {
    app.customer(json!({"family_name": "Lee"})).await;
    issued_invoice(&app, "CUS-00001", 10_000).await; // 120.00
    let (_, payment) =
        app.post("/payments", json!({"customer": "CUS-00001", "amount": 12_000, "allocations": [{"invoice": "INV-00001", "amount": 12_000}]})).await;
    let allocation = payment["allocations"][0]["id"].as_str().unwrap().to_owned();
    let path = format!("/payments/PAY-00001/allocations/{allocation}/unallocate");

    let (status, problem) = app.post(&path, json!({"reason": " "})).await;
    assert_eq!((status, problem["errors"][0]["field"].as_str()), (StatusCode::UNPROCESSABLE_ENTITY, Some("reason")));
    let (status, _) = app.post(&format!("/payments/PAY-00001/allocations/{}/unallocate", uuid::Uuid::now_v7()), json!({"reason": "x"})).await;
    assert_eq!(status, StatusCode::NOT_FOUND);
    let (status, _) = app.post("/payments/PAY-00001/allocations/not-an-id/unallocate", json!({"reason": "x"})).await;
    assert_eq!(status, StatusCode::NOT_FOUND);
    let (_, invoice) = app.get("/invoices/INV-00001").await;
    assert_eq!(invoice["status"], "closed", "refused: nothing changed");

    let (status, payment) = app.post(&path, json!({"reason": "Meant for another invoice"})).await;
    assert_eq!(status, StatusCode::OK, "{payment}");
    assert_eq!((payment["allocated"].as_i64(), payment["unallocated"].as_i64()), (Some(0), Some(12_000)));
    assert_eq!(payment["allocations"], json!([]));
    let (_, invoice) = app.get("/invoices/INV-00001").await;
    assert_eq!((invoice["status"].as_str(), invoice["paid"].as_i64(), invoice["balance"].as_i64()), (Some("open"), Some(0), Some(12_000)));
    assert_eq!(billing_kinds(&app).await[..2], ["invoice.reopened", "payment.unallocated"]);
    let (_, taken) = app.get("/customers/CUS-00001/timeline?kind=payment.unallocated").await;
    assert_eq!(taken["items"][0]["detail"]["reason"], "Meant for another invoice");

    // Twice is refused with its own code.
    let (status, problem) = app.post(&path, json!({"reason": "again"})).await;
    assert_eq!((status, problem["code"].as_str()), (StatusCode::CONFLICT, Some("already_unallocated")));

    // Open with nothing set against it, the invoice may now be voided; the
    // money is refunded. Statement and summary still agree.
    let (status, _) = app.post("/invoices/INV-00001/void", json!({"reason": "Billed in error"})).await;
    assert_eq!(status, StatusCode::OK);
    let (status, _) = app.post("/payments/PAY-00001/refunds", json!({"amount": 12_000, "reason": "Billed in error"})).await;
    assert_eq!(status, StatusCode::OK);
    let (_, summary) = app.get("/customers/CUS-00001/summary").await;
    assert_eq!((summary["open_balance"].as_i64(), summary["account_credit"].as_i64()), (Some(0), Some(0)));
    let (_, statement) = app.get("/customers/CUS-00001/statement").await;
    assert_eq!((statement["closing_balance"].as_i64(), statement["open_items"].as_array().unwrap().len()), (Some(0), 0));
    let kinds: Vec<&str> = statement["lines"].as_array().unwrap().iter().map(|l| l["kind"].as_str().unwrap()).collect();
    assert!(kinds.contains(&"refund") && !kinds.contains(&"invoice"), "a void invoice is not on the statement: {kinds:?}");
});

both_backends!(a_credit_note_s_allocation_is_taken_back_and_its_credit_paid_out, |app| {
    app.customer(json!({"family_name": "Lee"})).await;
    issued_invoice(&app, "CUS-00001", 10_000).await; // 120.00
    let (_, credit) = app.post("/credit-notes", json!({"invoice": "INV-00001", "amount": 12_000, "reason": "Job cancelled"})).await;
    let allocation = credit["allocations"][0]["id"].as_str().unwrap().to_owned();
    let (status, refused) = app.post("/credit-notes/CRN-00001/refunds", json!({"amount": 1, "reason": "x"})).await;
    assert_eq!((status, refused["errors"][0]["code"].as_str()), (StatusCode::UNPROCESSABLE_ENTITY, Some("exceeds_unallocated")));
    // An allocation of one source is not found through another.
    let (_, payment) = app.post("/payments", json!({"customer": "CUS-00001", "amount": 100})).await;
    let (status, _) = app.post(&format!("/payments/{}/allocations/{allocation}/unallocate", payment["code"].as_str().unwrap()), json!({"reason": "x"})).await;
    assert_eq!(status, StatusCode::NOT_FOUND);

    let (status, credit) = app.post(&format!("/credit-notes/CRN-00001/allocations/{allocation}/unallocate"), json!({"reason": "Customer wants it back"})).await;
    assert_eq!(status, StatusCode::OK, "{credit}");
    let (_, invoice) = app.get("/invoices/INV-00001").await;
    assert_eq!((invoice["status"].as_str(), invoice["credited"].as_i64(), invoice["balance"].as_i64()), (Some("open"), Some(0), Some(12_000)));
    let (status, credit) = app.post("/credit-notes/CRN-00001/refunds", json!({"amount": 5_000, "method": "cash", "reason": "Goodwill paid out"})).await;
    assert_eq!(status, StatusCode::OK, "{credit}");
    assert_eq!((credit["refunded"].as_i64(), credit["unallocated"].as_i64()), (Some(5_000), Some(7_000)));
    assert_eq!(billing_kinds(&app).await[0], "credit_note.refunded");
    let (_, statement) = app.get("/customers/CUS-00001/statement").await;
    let refund = statement["lines"].as_array().unwrap().iter().find(|l| l["kind"] == "refund").unwrap().clone();
    assert_eq!(refund["code"], "CRN-00001");
    let (_, summary) = app.get("/customers/CUS-00001/summary").await;
    assert_eq!(statement["closing_balance"], summary["open_balance"]);
    assert_eq!(summary["open_balance"], 12_000 - 7_000 - 100, "the open invoice less the credit left of the credit note and the payment");
});

both_backends!(a_draft_invoice_s_lines_are_edited_and_an_issued_one_is_refused, |app| {
    app.customer(json!({"family_name": "Lee"})).await;
    let (_, draft) = app
        .post(
            "/invoices",
            json!({"customer": "CUS-00001", "notes": "Gate code 1234", "lines": [{"description": "Service", "unit_price": 10_000, "tax_rate_bp": 2000}]}),
        )
        .await;
    assert_eq!(draft["total"], 12_000);

    let (status, problem) = app.patch("/invoices/INV-00001", json!({"lines": [{"description": "Parts", "unit_price": "lots"}]})).await;
    assert_eq!(status, StatusCode::UNPROCESSABLE_ENTITY, "{problem}");
    let (status, problem) = app.patch("/invoices/INV-00001", json!({"lines": [{"description": "", "unit_price": 100}], "due_date": "1800-01-01"})).await;
    assert_eq!(status, StatusCode::UNPROCESSABLE_ENTITY);
    let fields: Vec<&str> = problem["errors"].as_array().unwrap().iter().map(|e| e["field"].as_str().unwrap()).collect();
    assert_eq!(fields, ["lines[0].description", "due_date"]);
    let (status, _) = app.patch("/invoices/INV-00001", json!({"lines": []})).await;
    assert_eq!(status, StatusCode::UNPROCESSABLE_ENTITY);
    let (status, _) = app.patch("/invoices/INV-00001", json!({"customer": "CUS-00002"})).await;
    assert_eq!(status, StatusCode::UNPROCESSABLE_ENTITY, "only lines, due date and notes can be edited");

    let lines = json!([{"description": "Service", "unit_price": 10_000, "tax_rate_bp": 2000}, {"description": "Parts", "quantity": 2, "unit_price": 1_500}]);
    let (status, edited) = app.patch("/invoices/INV-00001", json!({"lines": lines, "due_date": "2026-12-31", "notes": null})).await;
    assert_eq!(status, StatusCode::OK, "{edited}");
    assert_eq!((edited["total"].as_i64(), edited["lines"].as_array().unwrap().len()), (Some(15_000), 2));
    assert_eq!((edited["due_date"].as_str(), edited["notes"].as_str()), (Some("2026-12-31"), None));
    let (_, timeline) = app.get("/customers/CUS-00001/timeline?kind=invoice.edited").await;
    let entry = &timeline["items"][0];
    assert_eq!(entry["summary"], "Draft invoice INV-00001 edited: total £120.00 → £150.00");
    let changed: Vec<&str> = entry["changes"].as_array().unwrap().iter().map(|c| c["field"].as_str().unwrap()).collect();
    assert_eq!(changed, ["due_date", "lines", "notes", "subtotal", "total"], "the tax did not change");
    let lines_change = entry["changes"].as_array().unwrap().iter().find(|c| c["field"] == "lines").unwrap();
    assert_eq!((lines_change["old"].as_array().unwrap().len(), lines_change["new"].as_array().unwrap().len()), (1, 2));
    // An edit that changes nothing records nothing.
    app.patch("/invoices/INV-00001", json!({"notes": null})).await;
    let (_, timeline) = app.get("/customers/CUS-00001/timeline?kind=invoice.edited").await;
    assert_eq!(timeline["items"].as_array().unwrap().len(), 1);
    // The bars follow the new total.
    let (_, summary) = app.get("/customers/CUS-00001/summary").await;
    let draft_bar = summary["invoices"]["bars"].as_array().unwrap().iter().find(|b| b["status"] == "draft").unwrap().clone();
    assert_eq!(draft_bar["total"], 15_000);

    // Issued, it is refused with a stable code and stays as it was.
    app.post("/invoices/INV-00001/issue", json!({})).await;
    let (status, problem) = app.patch("/invoices/INV-00001", json!({"notes": "Too late"})).await;
    assert_eq!((status, problem["code"].as_str()), (StatusCode::CONFLICT, Some("not_draft")));
    let (_, invoice) = app.get("/invoices/INV-00001").await;
    assert_eq!(invoice["notes"], Value::Null);
});

both_backends!(only_roles_that_edit_money_refund_take_back_or_edit_and_a_fieldworker_never_reaches_them, |app| {
    app.customer(json!({"family_name": "Lee"})).await;
    issued_invoice(&app, "CUS-00001", 100).await;
    app.post("/invoices", json!({"customer": "CUS-00001", "lines": [{"description": "Draft", "unit_price": 100}]})).await;
    let (_, payment) = app.post("/payments", json!({"customer": "CUS-00001", "amount": 500, "allocations": [{"invoice": "INV-00001", "amount": 120}]})).await;
    let allocation = payment["allocations"][0]["id"].as_str().unwrap().to_owned();
    let unallocate = format!("/payments/PAY-00001/allocations/{allocation}/unallocate");
    let refund = json!({"amount": 10, "reason": "x"});
    for role in ["fieldworker", "support", "sales"] {
        let (_, token) = app.user(role).await;
        for (method, path, body) in [
            (axum::http::Method::POST, "/payments/PAY-00001/refunds", refund.clone()),
            (axum::http::Method::POST, unallocate.as_str(), json!({"reason": "x"})),
            (axum::http::Method::PATCH, "/invoices/INV-00002", json!({"notes": "x"})),
        ] {
            let (status, problem) = app.call_as(Some(&token), method, path, Some(body)).await;
            assert_eq!((status, problem["code"].as_str()), (StatusCode::FORBIDDEN, Some("forbidden")), "{role} {path}");
        }
    }
    let (_, office) = app.user("office").await;
    let (status, _) = app.call_as(Some(&office), axum::http::Method::POST, "/payments/PAY-00001/refunds", Some(refund)).await;
    assert_eq!(status, StatusCode::OK, "the office may refund");
    let (status, _) = app.call_as(Some(&office), axum::http::Method::POST, &unallocate, Some(json!({"reason": "x"}))).await;
    assert_eq!(status, StatusCode::OK, "and take an allocation back");
    assert_eq!(app.count("refund").await, 1);
});

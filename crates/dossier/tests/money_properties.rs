//! Property: for any sequence of invoicing, payments, allocations, credit
//! notes, refunds and allocations taken back, every invoice's balance is its
//! total less what is set against it and never below zero, and it is closed
//! exactly when nothing is left; every payment's and credit note's credit is
//! its amount less what is allocated and refunded; the customer's open
//! balance is the sum of open invoice balances less account credit; the
//! statement's closing balance is the summary's open balance, its lines add
//! up from its opening balance, each refund is a line of its own, and its
//! ageing is the summary's. Refused steps change nothing. Both backends.

mod common;

use dossier_domain::ledger::{RefundInput, UnallocateInput};
use dossier_domain::works::{AllocateInput, CreditNoteInput, PaymentInput};
use dossier_service::{billing, ledger, statement, summary};
use proptest::prelude::*;
use serde_json::json;

#[derive(Clone, Debug)]
enum Step {
    /// Issue an invoice of this many pence (before 20 % tax).
    Invoice(i64),
    /// Receive a payment, allocating part of it to the n-th invoice.
    Pay { amount: i64, invoice: usize, allocate: i64 },
    /// Credit the n-th invoice.
    Credit { invoice: usize, amount: i64 },
    /// Standalone credit, later allocatable.
    AccountCredit(i64),
    /// Allocate what is left of the n-th payment or credit note to the m-th invoice.
    Allocate { payment: bool, source: usize, invoice: usize, amount: i64 },
    /// Refund part of the n-th payment's or credit note's credit.
    Refund { payment: bool, source: usize, amount: i64 },
    /// Take back the m-th standing allocation of the n-th payment or credit note.
    Unallocate { payment: bool, source: usize, which: usize },
}

fn step() -> impl Strategy<Value = Step> {
    prop_oneof![
        (1..50_000i64).prop_map(Step::Invoice),
        (1..60_000i64, 0..8usize, 0..60_000i64).prop_map(|(amount, invoice, allocate)| Step::Pay { amount, invoice, allocate }),
        (0..8usize, 1..30_000i64).prop_map(|(invoice, amount)| Step::Credit { invoice, amount }),
        (1..20_000i64).prop_map(Step::AccountCredit),
        (any::<bool>(), 0..8usize, 0..8usize, 1..40_000i64).prop_map(|(payment, source, invoice, amount)| Step::Allocate { payment, source, invoice, amount }),
        (any::<bool>(), 0..8usize, 1..40_000i64).prop_map(|(payment, source, amount)| Step::Refund { payment, source, amount }),
        (any::<bool>(), 0..8usize, 0..4usize).prop_map(|(payment, source, which)| Step::Unallocate { payment, source, which }),
    ]
}

fn input<T: serde::de::DeserializeOwned>(value: serde_json::Value) -> T {
    serde_json::from_value(value).unwrap()
}

async fn play(app: &common::TestApp, steps: &[Step]) {
    let (db, ctx) = (&app.db, app.ctx());
    let customer = app.customer(json!({"family_name": "Property"})).await;
    let customer = customer["code"].as_str().unwrap().to_owned();
    let (mut invoices, mut payments, mut credits) = (Vec::<String>::new(), Vec::<String>::new(), Vec::<String>::new());
    let pick = |codes: &Vec<String>, n: usize| codes.get(n % codes.len().max(1)).cloned();
    for step in steps {
        let allocations_before = app.count("allocation").await;
        let refunds_before = app.count("refund").await;
        let standing_before = standing(app, &customer).await;
        let result: Result<(), dossier_service::ServiceError> = match step {
            Step::Invoice(price) => {
                let body = json!({"customer": customer, "issue": true, "lines": [{"description": "Work", "unit_price": price, "tax_rate_bp": 2000}]});
                billing::create_invoice(db, &ctx, input(body)).await.map(|i| invoices.push(i.code))
            }
            Step::Pay { amount, invoice, allocate } => {
                let mut body = json!({"customer": customer, "amount": amount});
                if let (Some(invoice), true) = (pick(&invoices, *invoice), *allocate > 0) {
                    body["allocations"] = json!([{"invoice": invoice, "amount": allocate}]);
                }
                billing::record_payment(db, &ctx, input::<PaymentInput>(body)).await.map(|p| payments.push(p.code))
            }
            Step::Credit { invoice, amount } => match pick(&invoices, *invoice) {
                Some(invoice) => {
                    let body = json!({"invoice": invoice, "amount": amount, "reason": "Adjustment"});
                    billing::create_credit_note(db, &ctx, input::<CreditNoteInput>(body)).await.map(|c| credits.push(c.code))
                }
                None => Ok(()),
            },
            Step::AccountCredit(amount) => {
                let body = json!({"customer": customer, "amount": amount, "reason": "Goodwill"});
                billing::create_credit_note(db, &ctx, input::<CreditNoteInput>(body)).await.map(|c| credits.push(c.code))
            }
            Step::Allocate { payment, source, invoice, amount } => {
                let sources = if *payment { &payments } else { &credits };
                match (pick(sources, *source), pick(&invoices, *invoice)) {
                    (Some(source), Some(invoice)) => {
                        let body: AllocateInput = input(json!({"allocations": [{"invoice": invoice, "amount": amount}]}));
                        if *payment {
                            billing::allocate_payment(db, &ctx, &source, body).await.map(drop)
                        } else {
                            billing::allocate_credit_note(db, &ctx, &source, body).await.map(drop)
                        }
                    }
                    _ => Ok(()),
                }
            }
            Step::Refund { payment, source, amount } => {
                let body: RefundInput = input(json!({"amount": amount, "reason": "Refund"}));
                match (*payment, pick(if *payment { &payments } else { &credits }, *source)) {
                    (true, Some(source)) => ledger::refund_payment(db, &ctx, &source, body).await.map(drop),
                    (false, Some(source)) => ledger::refund_credit_note(db, &ctx, &source, body).await.map(drop),
                    (_, None) => Ok(()),
                }
            }
            Step::Unallocate { payment, source, which } => {
                let body = || UnallocateInput { reason: Some("Taken back".into()) };
                match (*payment, pick(if *payment { &payments } else { &credits }, *source)) {
                    (true, Some(source)) => {
                        let allocations = billing::get_payment(db, &ctx, &source).await.unwrap().allocations;
                        match allocations.get(*which) {
                            Some(a) => ledger::unallocate_payment(db, &ctx, &source, &a.id.to_string(), body()).await.map(drop),
                            None => Ok(()),
                        }
                    }
                    (false, Some(source)) => {
                        let allocations = billing::get_credit_note(db, &ctx, &source).await.unwrap().allocations;
                        match allocations.get(*which) {
                            Some(a) => ledger::unallocate_credit_note(db, &ctx, &source, &a.id.to_string(), body()).await.map(drop),
                            None => Ok(()),
                        }
                    }
                    (_, None) => Ok(()),
                }
            }
        };
        if let Err(e) = result {
            assert!(matches!(e.code(), "validation_failed" | "invoice_not_open"), "{step:?}: {e}");
            assert_eq!(app.count("allocation").await, allocations_before, "a refused step wrote allocations: {step:?}");
            assert_eq!(app.count("refund").await, refunds_before, "a refused step wrote refunds: {step:?}");
            assert_eq!(standing(app, &customer).await, standing_before, "a refused step moved money: {step:?}");
        }
    }

    // Every payment and credit note: credit = amount − allocations standing − refunds.
    let mut set_against = std::collections::HashMap::<String, i64>::new();
    let mut refunds = Vec::new();
    let mut sources = Vec::new();
    for code in payments.iter() {
        sources.push((code, serde_json::to_value(billing::get_payment(db, &ctx, code).await.unwrap()).unwrap()));
    }
    for code in credits.iter() {
        sources.push((code, serde_json::to_value(billing::get_credit_note(db, &ctx, code).await.unwrap()).unwrap()));
    }
    for (code, source) in sources {
        let sum = |list: &str| source[list].as_array().unwrap().iter().map(|a| a["amount"].as_i64().unwrap()).sum::<i64>();
        let (allocated, refunded) = (sum("allocations"), sum("refunds"));
        assert_eq!((source["allocated"].as_i64(), source["refunded"].as_i64()), (Some(allocated), Some(refunded)), "{code}");
        let left = source["unallocated"].as_i64().unwrap();
        assert_eq!(left, source["amount"].as_i64().unwrap() - allocated - refunded, "{code}");
        assert!(left >= 0, "{code}");
        refunds.extend(source["refunds"].as_array().unwrap().iter().map(|r| (code.clone(), r["amount"].as_i64().unwrap())));
        for a in source["allocations"].as_array().unwrap() {
            *set_against.entry(a["invoice_code"].as_str().unwrap().to_owned()).or_default() += a["amount"].as_i64().unwrap();
        }
    }
    // Every invoice: balance = total − payments − credits set against it, never negative.
    let mut open_balances = 0;
    for code in &invoices {
        let invoice = billing::get_invoice(db, &ctx, code).await.unwrap();
        let allocated = set_against.get(code).copied().unwrap_or(0);
        assert_eq!(invoice.balance.0, invoice.totals.total.0 - allocated, "{code}");
        assert_eq!(invoice.paid.0 + invoice.credited.0, allocated, "{code}");
        assert!(invoice.balance.0 >= 0, "{code}");
        assert_eq!(invoice.status.as_str() == "closed", invoice.balance.0 == 0, "{code} closes exactly when nothing is left");
        open_balances += invoice.balance.0;
    }
    let balances = summary::customer_summary(db, &ctx, &customer).await.unwrap().balances.expect("the system sees balances");
    assert_eq!(balances.open_balance.0, open_balances - balances.account_credit.0);
    let statement = statement::statement(db, &ctx, &customer, Default::default()).await.unwrap();
    assert_eq!(statement.closing_balance, balances.open_balance);
    assert_eq!(statement.ageing, balances.ageing, "the statement ages the open invoices as the summary does");
    let lines: i64 = statement.lines.iter().map(|l| l.amount.0).sum();
    assert_eq!(statement.opening_balance.0 + lines, statement.closing_balance.0, "the lines add up");
    let mut refund_lines: Vec<(String, i64)> = statement.lines.iter().filter(|l| l.kind == "refund").map(|l| (l.code.clone(), l.amount.0)).collect();
    refund_lines.sort();
    refunds.sort();
    assert_eq!(refund_lines, refunds, "each refund is a line of its own, under its payment's or credit note's code");
    let credit_left: i64 = statement.unallocated_credits.iter().map(|c| c.unallocated.0).sum();
    assert_eq!(credit_left, balances.account_credit.0);
}

/// The customer's open balance and account credit: any allocation made or
/// taken back, or any refund, changes one of them.
async fn standing(app: &common::TestApp, customer: &str) -> (i64, i64) {
    let balances = summary::customer_summary(&app.db, &app.ctx(), customer).await.unwrap().balances.unwrap();
    (balances.open_balance.0, balances.account_credit.0)
}

fn check(backend: common::Backend) {
    let runtime = tokio::runtime::Builder::new_multi_thread().worker_threads(2).enable_all().build().unwrap();
    let config = ProptestConfig { cases: 24, failure_persistence: None, ..ProptestConfig::default() };
    proptest!(config, |(steps in prop::collection::vec(step(), 1..25))| {
        runtime.block_on(async {
            if let Some(app) = common::TestApp::new(backend).await {
                play(&app, &steps).await;
            }
        });
    });
}

#[test]
fn balances_hold_for_any_sequence_sqlite() {
    check(common::Backend::Sqlite);
}

#[test]
fn balances_hold_for_any_sequence_postgres() {
    check(common::Backend::Postgres);
}

// ------------------------------------------------------------ extreme amounts

/// One money input sent through the API.
#[derive(Clone, Debug)]
enum MoneyInput {
    /// A one-line invoice or quote.
    Line {
        quote: bool,
        unit_price: i64,
        quantity: &'static str,
        tax_rate_bp: i64,
    },
    Payment(i64),
    CreditNote(i64),
    /// Part of a payment set against a fresh invoice of 12,000.
    Allocation(i64),
    JobValue(i64),
    InquiryValue(i64),
}

fn extreme() -> impl Strategy<Value = i64> {
    use dossier_domain::money::MAX_AMOUNT;
    prop_oneof![
        prop::sample::select(vec![i64::MIN, i64::MIN + 1, i64::MAX, MAX_AMOUNT, MAX_AMOUNT + 1, -MAX_AMOUNT, -MAX_AMOUNT - 1, 0, 1, -1]),
        any::<i64>(),
        -MAX_AMOUNT..=MAX_AMOUNT,
        -20_000..20_000i64,
    ]
}

fn money_input() -> impl Strategy<Value = MoneyInput> {
    let quantity = prop::sample::select(vec!["1", "2", "0.001", "1.5", "3.333", "999999.999", "1000000"]);
    let tax = prop_oneof![prop::sample::select(vec![0, 2000, 10_000, 10_001, -1, i64::MIN, i64::MAX]), 0..=10_000i64];
    prop_oneof![
        (any::<bool>(), extreme(), quantity, tax).prop_map(|(quote, unit_price, quantity, tax_rate_bp)| MoneyInput::Line {
            quote,
            unit_price,
            quantity,
            tax_rate_bp
        }),
        extreme().prop_map(MoneyInput::Payment),
        extreme().prop_map(MoneyInput::CreditNote),
        extreme().prop_map(MoneyInput::Allocation),
        extreme().prop_map(MoneyInput::JobValue),
        extreme().prop_map(MoneyInput::InquiryValue),
    ]
}

/// `n / d` rounded half away from zero, written again here rather than
/// taken from the code under test.
fn rounded(n: i128, d: i128) -> i128 {
    let (q, r) = (n / d, n % d);
    if 2 * r.abs() >= d { q + n.signum() } else { q }
}

fn thousandths(quantity: &str) -> i128 {
    let (whole, fraction) = quantity.split_once('.').unwrap_or((quantity, ""));
    whole.parse::<i128>().unwrap() * 1000 + format!("{fraction:0<3}").parse::<i128>().unwrap()
}

/// Either a 422 with a code for each field (`expected` is `None`), or the
/// stored amounts are the exact result; never anything else, never a 5xx.
fn accepted_or_refused(what: &MoneyInput, status: axum::http::StatusCode, body: &serde_json::Value, accept: bool) {
    if accept {
        assert!(status.is_success(), "{what:?} is within every bound but got {status}: {body}");
    } else {
        assert_eq!(status, axum::http::StatusCode::UNPROCESSABLE_ENTITY, "{what:?}: {body}");
        assert_eq!(body["code"], "validation_failed", "{what:?}: {body}");
        let codes: Vec<&str> = body["errors"].as_array().unwrap().iter().map(|e| e["code"].as_str().expect("every error has a code")).collect();
        assert!(!codes.is_empty(), "{what:?}: {body}");
    }
}

async fn send_money(app: &common::TestApp, customer: &str, what: &MoneyInput) {
    use dossier_domain::money::MAX_AMOUNT;
    let max = i128::from(MAX_AMOUNT);
    let positive = |m: i64| (1..=MAX_AMOUNT).contains(&m);
    match *what {
        MoneyInput::Line { quote, unit_price, quantity, tax_rate_bp } => {
            let net = rounded(thousandths(quantity) * i128::from(unit_price), 1000);
            // An out-of-range rate is refused whatever the tax would be.
            let rate_ok = (0..=10_000).contains(&tax_rate_bp);
            let tax = if rate_ok { rounded(net * i128::from(tax_rate_bp), 10_000) } else { 0 };
            let accept = i128::from(unit_price).abs() <= max && rate_ok && net.abs() <= max && (0..=max).contains(&(net + tax));
            let line = json!([{"description": "Work", "unit_price": unit_price, "quantity": quantity, "tax_rate_bp": tax_rate_bp}]);
            let (route, body) = if quote {
                ("/quotes", json!({"customer": customer, "title": "Extreme", "lines": line}))
            } else {
                ("/invoices", json!({"customer": customer, "issue": true, "lines": line}))
            };
            let (status, doc) = app.post(route, body).await;
            accepted_or_refused(what, status, &doc, accept);
            if accept {
                let stored = (&doc["lines"][0]["net"], &doc["lines"][0]["tax"], &doc["subtotal"], &doc["tax"], &doc["total"]);
                assert_eq!(stored, (&json!(net as i64), &json!(tax as i64), &json!(net as i64), &json!(tax as i64), &json!((net + tax) as i64)), "{what:?}");
                if !quote {
                    assert_eq!(doc["balance"], json!((net + tax) as i64), "{what:?}");
                }
            }
        }
        MoneyInput::Payment(amount) => {
            let (status, payment) = app.post("/payments", json!({"customer": customer, "amount": amount})).await;
            accepted_or_refused(what, status, &payment, positive(amount));
            if positive(amount) {
                assert_eq!((&payment["amount"], &payment["unallocated"]), (&json!(amount), &json!(amount)), "{what:?}");
            }
        }
        MoneyInput::CreditNote(amount) => {
            let (status, credit) = app.post("/credit-notes", json!({"customer": customer, "amount": amount, "reason": "Goodwill"})).await;
            accepted_or_refused(what, status, &credit, positive(amount));
            if positive(amount) {
                assert_eq!((&credit["amount"], &credit["unallocated"]), (&json!(amount), &json!(amount)), "{what:?}");
            }
        }
        MoneyInput::Allocation(amount) => {
            let (status, invoice) =
                app.post("/invoices", json!({"customer": customer, "issue": true, "lines": [{"description": "Work", "unit_price": 12_000}]})).await;
            assert_eq!(status, axum::http::StatusCode::CREATED, "{invoice}");
            let code = invoice["code"].as_str().unwrap();
            let body = json!({"customer": customer, "amount": MAX_AMOUNT, "allocations": [{"invoice": code, "amount": amount}]});
            let (status, payment) = app.post("/payments", body).await;
            let accept = (1..=12_000).contains(&amount);
            accepted_or_refused(what, status, &payment, accept);
            let (_, invoice) = app.get(&format!("/invoices/{code}")).await;
            let balance = if accept { 12_000 - amount } else { 12_000 };
            assert_eq!(invoice["balance"], json!(balance), "{what:?}");
            if accept {
                assert_eq!((&payment["allocated"], &payment["unallocated"]), (&json!(amount), &json!(MAX_AMOUNT - amount)), "{what:?}");
            }
        }
        MoneyInput::JobValue(value) => {
            let (status, job) = app.post("/jobs", json!({"customer": customer, "title": "Extreme", "value": value})).await;
            let accept = value == 0 || positive(value);
            accepted_or_refused(what, status, &job, accept);
            if accept {
                assert_eq!(job["value"], json!(value), "{what:?}");
            }
        }
        MoneyInput::InquiryValue(value) => {
            let (status, inquiry) = app.post("/inquiries", json!({"customer": customer, "title": "Extreme", "estimated_value": value})).await;
            let accept = value == 0 || positive(value);
            accepted_or_refused(what, status, &inquiry, accept);
            if accept {
                assert_eq!(inquiry["estimated_value"], json!(value), "{what:?}");
            }
        }
    }
}

fn check_extremes(backend: common::Backend) {
    let runtime = tokio::runtime::Builder::new_multi_thread().worker_threads(2).enable_all().build().unwrap();
    let Some(app) = runtime.block_on(common::TestApp::new(backend)) else { return };
    let customer = runtime.block_on(app.customer(json!({"family_name": "Extreme"})));
    let customer = customer["code"].as_str().unwrap().to_owned();
    let config = ProptestConfig { cases: 160, failure_persistence: None, ..ProptestConfig::default() };
    proptest!(config, |(inputs in prop::collection::vec(money_input(), 1..4))| {
        runtime.block_on(async {
            for input in &inputs {
                send_money(&app, &customer, input).await;
            }
        });
    });
}

#[test]
fn every_money_input_is_exact_or_refused_sqlite() {
    check_extremes(common::Backend::Sqlite);
}

#[test]
fn every_money_input_is_exact_or_refused_postgres() {
    check_extremes(common::Backend::Postgres);
}

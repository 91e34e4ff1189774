//! Property: for any sequence of invoicing, payments, allocations and credit
//! notes, every invoice's balance is its total less what was set against it
//! and never below zero; the customer's open balance is the sum of open
//! invoice balances less account credit; and the statement's closing balance
//! is the summary's open balance. Refused steps change nothing. Both backends.

mod common;

use dossier_domain::works::{AllocateInput, CreditNoteInput, PaymentInput};
use dossier_service::{billing, statement, summary};
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
}

fn step() -> impl Strategy<Value = Step> {
    prop_oneof![
        (1..50_000i64).prop_map(Step::Invoice),
        (1..60_000i64, 0..8usize, 0..60_000i64).prop_map(|(amount, invoice, allocate)| Step::Pay { amount, invoice, allocate }),
        (0..8usize, 1..30_000i64).prop_map(|(invoice, amount)| Step::Credit { invoice, amount }),
        (1..20_000i64).prop_map(Step::AccountCredit),
        (any::<bool>(), 0..8usize, 0..8usize, 1..40_000i64).prop_map(|(payment, source, invoice, amount)| Step::Allocate { payment, source, invoice, amount }),
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
        };
        if let Err(e) = result {
            assert!(matches!(e.code(), "validation_failed" | "invoice_not_open"), "{step:?}: {e}");
            assert_eq!(app.count("allocation").await, allocations_before, "a refused step wrote allocations: {step:?}");
        }
    }

    // Every invoice: balance = total − payments − credits set against it, never negative.
    let mut set_against = std::collections::HashMap::<String, i64>::new();
    for code in payments.iter() {
        for a in billing::get_payment(db, &ctx, code).await.unwrap().allocations {
            *set_against.entry(a.invoice_code).or_default() += a.amount.0;
        }
    }
    for code in credits.iter() {
        for a in billing::get_credit_note(db, &ctx, code).await.unwrap().allocations {
            *set_against.entry(a.invoice_code).or_default() += a.amount.0;
        }
    }
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

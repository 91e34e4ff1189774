//! Statements of account: a customer's invoices, payments and credit notes
//! over a period, with opening and closing balance, what is still open at
//! the statement date, unallocated credit and ageing — as JSON and as PDF.
//!
//! The balance at a date is every issued invoice and refund dated by then
//! minus every payment and credit note dated by then. Invoices still open at
//! the date are those whose allocations standing then do not cover them; a
//! payment's or credit note's credit left at the date is its amount less
//! those allocations and the refunds made of it by then.

use std::collections::HashMap;

use dossier_domain::ids::CustomerId;
use dossier_domain::money::Money;
use dossier_domain::permissions::{Action, Module};
use dossier_pdf::{Align, Column, Document, Section, Table};
use dossier_store::queries as q;
use dossier_store::{Db, parse_date};
use jiff::ToSpan;
use jiff::civil::Date;
use serde::{Deserialize, Serialize};

use crate::summary::Ageing;
use crate::{Ctx, Result, ServiceError, customers};

/// Query parameters of a statement.
#[derive(Clone, Debug, Default, Deserialize, utoipa::IntoParams)]
#[serde(deny_unknown_fields)]
#[into_params(parameter_in = Query)]
pub struct StatementQuery {
    /// The statement date (YYYY-MM-DD); default today.
    #[param(value_type = Option<String>, format = Date)]
    pub as_of: Option<Date>,
    /// First day of the period whose transactions are listed; default one month before `as_of`.
    #[param(value_type = Option<String>, format = Date)]
    pub from: Option<Date>,
}

/// One transaction in the period.
#[derive(Clone, Debug, PartialEq, Eq, Serialize, utoipa::ToSchema)]
pub struct StatementLine {
    #[schema(value_type = String, format = Date)]
    pub date: Date,
    /// `invoice`, `payment`, `credit_note` or `refund`.
    pub kind: String,
    /// The record's code; a refund's is the payment's or credit note's it was paid from.
    pub code: String,
    /// What `code` names: `invoice`, `payment` or `credit_note`.
    pub record: String,
    /// Positive for an invoice or a refund, negative for a payment or credit note.
    pub amount: Money,
    /// The balance after this line.
    pub balance: Money,
}

/// An invoice still open at the statement date.
#[derive(Clone, Debug, PartialEq, Eq, Serialize, utoipa::ToSchema)]
pub struct OpenItem {
    pub code: String,
    #[schema(value_type = String, format = Date)]
    pub issue_date: Date,
    #[schema(value_type = String, format = Date)]
    pub due_date: Date,
    pub total: Money,
    /// What was left to pay at the statement date.
    pub balance: Money,
    /// Days past due at the statement date; 0 when not yet due.
    pub days_overdue: i64,
}

/// A payment or credit note not (fully) set against invoices at the date.
#[derive(Clone, Debug, PartialEq, Eq, Serialize, utoipa::ToSchema)]
pub struct UnallocatedCredit {
    /// `payment` or `credit_note`.
    pub kind: String,
    pub code: String,
    #[schema(value_type = String, format = Date)]
    pub date: Date,
    pub amount: Money,
    pub unallocated: Money,
}

#[derive(Clone, Debug, PartialEq, Eq, Serialize, utoipa::ToSchema)]
pub struct Statement {
    pub customer_id: CustomerId,
    pub customer_code: String,
    pub customer_name: String,
    /// The billing address (the billing site, else the first site), one line each.
    pub billing_address: Vec<String>,
    pub currency: String,
    #[schema(value_type = String, format = Date)]
    pub from: Date,
    #[schema(value_type = String, format = Date)]
    pub as_of: Date,
    /// The balance at the end of the day before `from`.
    pub opening_balance: Money,
    pub lines: Vec<StatementLine>,
    /// The balance at the end of `as_of`: open items minus unallocated credit.
    pub closing_balance: Money,
    pub open_items: Vec<OpenItem>,
    pub unallocated_credits: Vec<UnallocatedCredit>,
    pub ageing: Ageing,
}

pub async fn statement(db: &Db, ctx: &Ctx, reference: &str, query: StatementQuery) -> Result<Statement> {
    ctx.require(Module::Statements, Action::View)?;
    let mut errors = dossier_domain::ValidationErrors::default();
    let as_of = errors.take(dossier_domain::dates::check_optional("as_of", query.as_of));
    let from = errors.take(dossier_domain::dates::check_optional("from", query.from));
    let (as_of, from) = errors.into_result(|| (as_of.flatten(), from.flatten()))?;
    let as_of = as_of.unwrap_or_else(|| ctx.today());
    let from = from.unwrap_or_else(|| as_of.checked_sub(1.month()).and_then(|d| d.checked_add(1.day())).unwrap_or(as_of));
    if from > as_of {
        return Err(dossier_domain::ValidationErrors::one("from", "after_as_of", "must not be after as_of").into());
    }
    let mut conn = db.read().await?;
    let h = &mut conn.handle();
    let customer = customers::find(h, ctx, reference).await?;
    let (org, id) = (ctx.org.id.0, customer.id);
    let entries = q::account_entries(h, org, id, as_of).await?;
    let mut allocated: HashMap<uuid::Uuid, i64> = HashMap::new();
    for (source, invoice, amount) in q::allocations_upto(h, org, id, as_of).await? {
        *allocated.entry(source).or_default() += amount;
        *allocated.entry(invoice).or_default() += amount;
    }
    // What was refunded of a payment or credit note is no longer its credit.
    for entry in entries.iter().filter(|e| e.kind == "refund") {
        if let Some(source) = entry.source_id {
            *allocated.entry(source).or_default() += entry.amount;
        }
    }

    let mut opening = Money::ZERO;
    let mut balance = Money::ZERO;
    let mut lines = Vec::new();
    let mut open_items = Vec::new();
    let mut unallocated_credits = Vec::new();
    let mut ageing = Ageing::default();
    for entry in entries {
        let date = parse_date(&entry.on_date)?;
        let owed = matches!(entry.kind.as_str(), "invoice" | "refund");
        let signed = if owed { Money(entry.amount) } else { -Money(entry.amount) };
        balance = balance + signed;
        let code = entry.code.clone();
        if date < from {
            opening = balance;
        } else {
            let record = entry.source_type.clone().unwrap_or_else(|| entry.kind.clone());
            lines.push(StatementLine { date, kind: entry.kind.clone(), code, record, amount: signed, balance });
        }
        if entry.kind == "refund" {
            continue;
        }
        let left = Money(entry.amount - allocated.get(&entry.id).copied().unwrap_or(0));
        if !left.is_positive() {
            continue;
        }
        if entry.kind == "invoice" {
            let due = entry.due_date.as_deref().map(parse_date).transpose()?.unwrap_or(date);
            let days_overdue = due.until(as_of).map_or(0, |span| i64::from(span.get_days())).max(0);
            ageing.add(days_overdue, left);
            open_items.push(OpenItem { code: entry.code.clone(), issue_date: date, due_date: due, total: Money(entry.amount), balance: left, days_overdue });
        } else {
            unallocated_credits.push(UnallocatedCredit {
                kind: entry.kind.clone(),
                code: entry.code.clone(),
                date,
                amount: Money(entry.amount),
                unallocated: left,
            });
        }
    }
    let (customer_name, customer_code, billing_address) = crate::documents::recipient(h, &customer).await?;
    Ok(Statement {
        customer_id: CustomerId(id),
        customer_code,
        customer_name,
        billing_address,
        currency: ctx.org.currency.clone(),
        from,
        as_of,
        opening_balance: opening,
        lines,
        closing_balance: balance,
        open_items,
        unallocated_credits,
        ageing,
    })
}

/// The statement as a PDF document.
pub async fn statement_pdf(db: &Db, ctx: &Ctx, reference: &str, query: StatementQuery) -> Result<Vec<u8>> {
    ctx.require(Module::Statements, Action::Export)?;
    let statement = statement(db, ctx, reference, query).await?;
    let logo = crate::documents::letterhead_logo(db, ctx).await?;
    dossier_pdf::render(&document(ctx, &statement, logo)).map_err(|e| ServiceError::Internal(format!("rendering the statement: {e}")))
}

fn document(ctx: &Ctx, s: &Statement, logo: Option<dossier_pdf::Image>) -> Document {
    let m = |amount: Money| amount.format(ctx.org.money_style());
    let d = |date: Date| ctx.org.date(date);
    let issuer = crate::documents::issuer(ctx);
    let mut recipient = vec![s.customer_name.clone()];
    recipient.extend(s.billing_address.iter().cloned());
    let kind_name = |kind: &str| match kind {
        "invoice" => "Invoice",
        "payment" => "Payment",
        "refund" => "Refund to you",
        _ => "Credit note",
    };
    let mut activity_rows = vec![vec![d(s.from), String::new(), "Opening balance".into(), String::new(), m(s.opening_balance)]];
    activity_rows.extend(s.lines.iter().map(|l| vec![d(l.date), l.code.clone(), kind_name(&l.kind).into(), m(l.amount), m(l.balance)]));
    let open_rows: Vec<Vec<String>> =
        s.open_items.iter().map(|i| vec![i.code.clone(), d(i.issue_date), d(i.due_date), i.days_overdue.to_string(), m(i.total), m(i.balance)]).collect();
    let mut sections = vec![
        Section::Heading("Account activity".into()),
        Section::Table(Table {
            columns: vec![
                Column::new("Date", 1.2, Align::Left),
                Column::new("Reference", 1.3, Align::Left),
                Column::new("Description", 1.6, Align::Left),
                Column::new("Amount", 1.3, Align::Right),
                Column::new("Balance", 1.3, Align::Right),
            ],
            rows: activity_rows,
        }),
        Section::Heading("Open invoices".into()),
    ];
    if open_rows.is_empty() {
        sections.push(Section::Paragraph("No invoices are open.".into()));
    } else {
        sections.push(Section::Table(Table {
            columns: vec![
                Column::new("Invoice", 1.2, Align::Left),
                Column::new("Issued", 1.2, Align::Left),
                Column::new("Due", 1.2, Align::Left),
                Column::new("Days late", 1.0, Align::Right),
                Column::new("Total", 1.2, Align::Right),
                Column::new("Balance", 1.2, Align::Right),
            ],
            rows: open_rows,
        }));
    }
    if !s.unallocated_credits.is_empty() {
        sections.push(Section::Heading("Unallocated credit".into()));
        sections.push(Section::Table(Table {
            columns: vec![
                Column::new("Reference", 1.3, Align::Left),
                Column::new("Date", 1.2, Align::Left),
                Column::new("Amount", 1.2, Align::Right),
                Column::new("Unallocated", 1.2, Align::Right),
            ],
            rows: s.unallocated_credits.iter().map(|c| vec![c.code.clone(), d(c.date), m(c.amount), m(c.unallocated)]).collect(),
        }));
    }
    let a = &s.ageing;
    sections.push(Section::Totals(vec![
        ("Current".into(), m(a.current), false),
        ("1–30 days overdue".into(), m(a.days_1_30), false),
        ("31–60 days overdue".into(), m(a.days_31_60), false),
        ("61–90 days overdue".into(), m(a.days_61_90), false),
        ("Over 90 days overdue".into(), m(a.days_over_90), false),
        ("Opening balance".into(), m(s.opening_balance), false),
        ("Closing balance".into(), m(s.closing_balance), true),
    ]));
    Document {
        title: "Statement of account".into(),
        logo,
        issuer,
        recipient,
        facts: vec![
            ("Statement date".into(), d(s.as_of)),
            ("Period".into(), format!("{} to {}", d(s.from), d(s.as_of))),
            ("Customer".into(), s.customer_code.clone()),
            ("Amount due".into(), m(s.closing_balance)),
        ],
        sections,
        footer: Some(format!("{} · statement for {} as of {}", ctx.org.name, s.customer_code, d(s.as_of))),
    }
}

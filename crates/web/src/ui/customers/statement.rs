//! A customer's statement of account on screen: the period's transactions
//! with a running balance, what is open at the statement date, unallocated
//! credit and ageing, for dates the user chooses; the same statement as a
//! PDF one click away. The API's `GET /customers/{id}/statement`.

use askama::Template;
use axum::extract::{Path, Query, State};
use axum::http::StatusCode;
use axum::response::Response;
use dossier_domain::ValidationErrors;
use dossier_domain::message::RecordType;
use dossier_domain::permissions::{Access, Action, Module};
use dossier_service::statement::{self, Statement, StatementQuery};
use dossier_service::{Ctx, ServiceError, customers};
use jiff::civil::Date;
use serde::Deserialize;

use super::{Table, code_cell};
use crate::AppState;
use crate::ui::forms::{Field, capitalised};
use crate::ui::nav::Viewer;
use crate::ui::records::page_of;
use crate::ui::views::{Cell, cell, num, words};
use crate::ui::{Staff, failure, page};

/// The dates as typed: read here, so a wrong one is shown beside its field.
#[derive(Clone, Debug, Default, Deserialize)]
pub struct Dates {
    pub from: Option<String>,
    pub as_of: Option<String>,
}

#[derive(Template)]
#[template(path = "ui/statement.html")]
struct StatementPage {
    user: Option<Viewer>,
    customer_code: String,
    customer_name: String,
    fields: Vec<Field>,
    facts: Vec<(&'static str, String)>,
    pdf: Option<String>,
    tables: Vec<Table>,
}

/// A typed date, blank for the default, or an error on its field.
fn date(errors: &mut ValidationErrors, field: &str, text: Option<&str>) -> Option<Date> {
    let text = text.map(str::trim).filter(|t| !t.is_empty())?;
    match text.parse::<Date>() {
        Ok(date) => Some(date),
        Err(_) => {
            errors.push(field, "invalid_date", "must be a date (YYYY-MM-DD)");
            None
        }
    }
}

/// A statement's record code (`kind`: `invoice`, `payment`,
/// `credit_note`), opening its page.
fn record_cell(kind: &str, code: &str) -> Cell {
    RecordType::parse(kind).and_then(page_of).map_or_else(|| cell(code), |page| code_cell(page, code))
}

fn tables(ctx: &Ctx, statement: &Statement) -> Vec<Table> {
    let style = ctx.org.money_style();
    let money = |m: dossier_domain::money::Money| num(m.format(style));
    let lines = statement
        .lines
        .iter()
        .map(|l| vec![cell(ctx.org.date(l.date)), cell(words(&l.kind)), record_cell(&l.record, &l.code), money(l.amount), money(l.balance)])
        .collect();
    let open = statement
        .open_items
        .iter()
        .map(|i| {
            let overdue = if i.days_overdue > 0 { format!("{} days", i.days_overdue) } else { "Not yet due".to_owned() };
            vec![
                code_cell("invoices", &i.code),
                cell(ctx.org.date(i.issue_date)),
                cell(ctx.org.date(i.due_date)),
                money(i.total),
                money(i.balance),
                cell(overdue),
            ]
        })
        .collect();
    let credits = statement
        .unallocated_credits
        .iter()
        .map(|c| vec![record_cell(&c.kind, &c.code), cell(ctx.org.date(c.date)), money(c.amount), money(c.unallocated)])
        .collect();
    let a = &statement.ageing;
    vec![
        Table {
            title: format!("Transactions {} – {}", ctx.org.date(statement.from), ctx.org.date(statement.as_of)),
            headers: vec![("Date", false), ("What", false), ("Record", false), ("Amount", true), ("Balance", true)],
            rows: lines,
            next: None,
            empty: "No transactions in this period.",
        },
        Table {
            title: "Open invoices".into(),
            headers: vec![("Invoice", false), ("Issued", false), ("Due", false), ("Total", true), ("Left to pay", true), ("Overdue", false)],
            rows: open,
            next: None,
            empty: "Nothing is open at the statement date.",
        },
        Table {
            title: "Credit not yet set against invoices".into(),
            headers: vec![("Record", false), ("Date", false), ("Amount", true), ("Unallocated", true)],
            rows: credits,
            next: None,
            empty: "No unallocated credit.",
        },
        Table {
            title: "Ageing".into(),
            headers: vec![("Not yet due", true), ("1–30 days", true), ("31–60 days", true), ("61–90 days", true), ("Over 90 days", true)],
            rows: vec![vec![money(a.current), money(a.days_1_30), money(a.days_31_60), money(a.days_61_90), money(a.days_over_90)]],
            next: None,
            empty: "",
        },
    ]
}

pub async fn show(State(s): State<AppState>, Staff(ctx): Staff, Path(code): Path<String>, Query(dates): Query<Dates>) -> Response {
    let customer = match customers::get_customer(&s.db, &ctx, &code).await {
        Ok(customer) => customer,
        Err(e) => return failure(e),
    };
    let mut errors = ValidationErrors::default();
    let query = StatementQuery { from: date(&mut errors, "from", dates.from.as_deref()), as_of: date(&mut errors, "as_of", dates.as_of.as_deref()) };
    let result = match errors.into_result(|| ()) {
        Ok(()) => statement::statement(&s.db, &ctx, &customer.code, query).await,
        Err(errors) => Err(ServiceError::Invalid(errors)),
    };
    let mut fields = vec![
        Field::new("from", "Transactions from", "date").value(dates.from.clone().unwrap_or_default()).hint("Default: a month before the statement date"),
        Field::new("as_of", "Statement date", "date").value(dates.as_of.clone().unwrap_or_default()).hint("Default: today"),
    ];
    let mut page_data = StatementPage {
        user: Some(Viewer::of(&ctx)),
        customer_code: customer.code.clone(),
        customer_name: customer.display_name.clone(),
        fields: Vec::new(),
        facts: Vec::new(),
        pdf: None,
        tables: Vec::new(),
    };
    let status = match result {
        Ok(statement) => {
            for (field, value) in fields.iter_mut().zip([statement.from, statement.as_of]) {
                field.value = value.to_string();
            }
            let style = ctx.org.money_style();
            page_data.facts = vec![("Opening balance", statement.opening_balance.format(style)), ("Closing balance", statement.closing_balance.format(style))];
            page_data.pdf = (ctx.access(Module::Statements, Action::Export) != Access::None)
                .then(|| format!("/api/v1/customers/{}/statement.pdf?from={}&as_of={}", customer.code, statement.from, statement.as_of));
            page_data.tables = tables(&ctx, &statement);
            StatusCode::OK
        }
        Err(ServiceError::Invalid(errors)) => {
            for e in errors.0 {
                match fields.iter_mut().find(|f| f.name == e.field) {
                    Some(field) => field.error = Some(capitalised(&e.message)),
                    None => fields[0].error = Some(capitalised(&e.message)),
                }
            }
            StatusCode::UNPROCESSABLE_ENTITY
        }
        Err(e) => return failure(e),
    };
    page_data.fields = fields;
    page(status, &page_data)
}

//! The business's lists of each kind of record — `/inquiries`, `/quotes`,
//! `/jobs`, `/invoices`, `/payments`, `/credit-notes` — newest first, a page
//! at a time. Each list is the API's list use case with the filters it
//! takes and its cursor, so the page and `GET /api/v1/{kind}` can never
//! disagree; a role that may not see a kind gets the same refusal here.

use std::collections::HashMap;

use askama::Template;
use axum::extract::{Query, State};
use axum::http::StatusCode;
use axum::response::Response;
use dossier_domain::ValidationErrors;
use dossier_domain::ids::{CustomerId, UserId};
use dossier_domain::permissions::{Action, Module};
use dossier_domain::workflow::{InquiryStatus, InvoiceState, JobStatus, QuoteStatus};
use dossier_service::billing::{InvoiceQuery, LedgerQuery};
use dossier_service::customers::CustomerName;
use dossier_service::data::lists::ListCsv;
use dossier_service::works::{InquiryQuery, JobQuery, QuoteQuery};
use dossier_service::{Ctx, Db, ServiceError, billing, customers, works};
use serde::Deserialize;

use super::forms::{blank_is_none, in_words};
use super::nav::Viewer;
use super::views::{self, Cell, cell, colour, link, num, words};
use super::{Staff, failure, page};
use crate::AppState;

/// Records a list page shows at a time.
const PAGE_SIZE: u32 = 50;

/// The filters of every list, as typed in the address; each list reads
/// those its API list takes. All text, so that a bad value is answered
/// with a message rather than refused before the page sees it.
#[derive(Deserialize, Default)]
pub struct ListParams {
    customer: Option<String>,
    status: Option<String>,
    state: Option<String>,
    ongoing: Option<String>,
    assignee: Option<String>,
    cursor: Option<String>,
}

/// One control of the filter form: a select of `options` (the first is
/// "any"), or a text input when there are none.
pub struct Filter {
    name: &'static str,
    label: &'static str,
    value: String,
    options: Vec<(String, String)>,
    placeholder: &'static str,
}

/// A record's code, opening its page.
fn code(kind: &str, code: &str) -> Cell {
    Cell { class: "nowrap", ..link(code, format!("/{kind}/{code}")) }
}

/// A status with the badge colour the status bars give it.
fn badge(kind: &str, status: &str) -> Cell {
    Cell { colour: Some(colour(kind, status)), class: "nowrap", ..cell(words(status)) }
}

/// The customer's name opening their profile, and their code.
fn customer(names: &HashMap<CustomerId, CustomerName>, id: CustomerId) -> Cell {
    match names.get(&id) {
        Some(c) => Cell { note: Some(c.code.clone()), ..link(c.name.clone(), format!("/customers/{}", c.code)) },
        None => cell("—"),
    }
}

#[derive(Template)]
#[template(path = "ui/list.html")]
struct ListPage {
    user: Option<Viewer>,
    title: &'static str,
    path: &'static str,
    filters: Vec<Filter>,
    /// Whether any filter is set (the form offers to clear them).
    narrowed: bool,
    headers: Vec<(&'static str, bool)>,
    rows: Vec<Vec<Cell>>,
    /// The next page: this list with the API's cursor.
    next: Option<String>,
    /// Why the filters could not be used, in words.
    error: Option<String>,
    empty: String,
    /// This list as filtered, as CSV: the "Export CSV" link.
    export: String,
}

/// What one kind's list found: its columns, rows and the next page's cursor.
struct Found {
    headers: Vec<(&'static str, bool)>,
    rows: Vec<Vec<Cell>>,
    next_cursor: Option<String>,
}

/// The filters as given, blank ones dropped.
struct Asked {
    customer: Option<String>,
    status: Option<String>,
    state: Option<String>,
    ongoing: Option<String>,
    assignee: Option<String>,
    cursor: Option<String>,
}

impl Asked {
    fn of(params: ListParams) -> Self {
        Asked {
            customer: blank_is_none(params.customer),
            status: blank_is_none(params.status),
            state: blank_is_none(params.state),
            ongoing: blank_is_none(params.ongoing),
            assignee: blank_is_none(params.assignee),
            cursor: blank_is_none(params.cursor),
        }
    }

    /// The filters of `names` that are set, as address parameters: for the
    /// next page's link.
    fn params(&self, names: &[&str]) -> Vec<(&'static str, String)> {
        let all = [("customer", &self.customer), ("status", &self.status), ("state", &self.state), ("ongoing", &self.ongoing), ("assignee", &self.assignee)];
        all.into_iter().filter(|(name, _)| names.contains(name)).filter_map(|(name, value)| Some((name, value.clone()?))).collect()
    }
}

/// `value` read as one of an enum's statuses, or an error on `field`.
fn parsed<T>(errors: &mut ValidationErrors, field: &str, value: Option<&str>, parse: impl Fn(&str) -> Option<T>) -> Option<T> {
    let value = value?;
    let found = parse(value);
    if found.is_none() {
        errors.push(field, "unknown_value", format!("“{value}” is not one of the list"));
    }
    found
}

/// `ongoing`: `true` (work still going on) or `false` (finished).
fn ongoing_of(errors: &mut ValidationErrors, value: Option<&str>) -> Option<bool> {
    parsed(errors, "ongoing", value, |v| match v {
        "true" => Some(true),
        "false" => Some(false),
        _ => None,
    })
}

/// A select of an enum's statuses, "Any" first.
fn status_filter<T: Copy>(name: &'static str, label: &'static str, value: &Option<String>, all: &[T], as_str: fn(T) -> &'static str) -> Filter {
    let options = std::iter::once((String::new(), "Any".to_owned())).chain(all.iter().map(|s| (as_str(*s).to_owned(), words(as_str(*s))))).collect();
    Filter { name, label, value: value.clone().unwrap_or_default(), options, placeholder: "" }
}

fn ongoing_filter(value: &Option<String>) -> Filter {
    let options = [("", "All"), ("true", "Ongoing"), ("false", "Finished")].iter().map(|(v, l)| ((*v).to_owned(), (*l).to_owned())).collect();
    Filter { name: "ongoing", label: "Show", value: value.clone().unwrap_or_default(), options, placeholder: "" }
}

fn customer_filter(value: &Option<String>) -> Filter {
    Filter { name: "customer", label: "Customer", value: value.clone().unwrap_or_default(), options: Vec::new(), placeholder: "Code, e.g. CUS-00001" }
}

/// The names of the customers of a page of records.
async fn names_of(db: &Db, ctx: &Ctx, ids: impl Iterator<Item = CustomerId>) -> Result<HashMap<CustomerId, CustomerName>, ServiceError> {
    customers::customer_names(db, ctx, &ids.collect::<Vec<_>>()).await
}

/// A list page of `kind` (one of [`super::records::KINDS`]).
pub async fn list(State(s): State<AppState>, Staff(ctx): Staff, Query(params): Query<ListParams>, kind: &'static str) -> Response {
    let asked = Asked::of(params);
    let (title, module, names): (&'static str, Module, &[&str]) = match kind {
        "inquiries" => ("Inquiries", Module::Inquiries, &["customer", "status", "ongoing"]),
        "quotes" => ("Quotes", Module::Quotes, &["customer", "status", "ongoing"]),
        "jobs" => ("Jobs", Module::Jobs, &["customer", "status", "ongoing", "assignee"]),
        "invoices" => ("Invoices", Module::Invoices, &["customer", "state"]),
        "payments" => ("Payments", Module::Payments, &["customer"]),
        _ => ("Credit notes", Module::CreditNotes, &["customer"]),
    };
    // The list use case refuses a role that may not see the kind; asked
    // here too, so that a refused role learns nothing from the filter form
    // (not even a message about its filters).
    if let Err(refused) = ctx.require(module, Action::View) {
        return failure(refused);
    }
    let found = match kind {
        "inquiries" => inquiries(&s.db, &ctx, &asked).await,
        "quotes" => quotes(&s.db, &ctx, &asked).await,
        "jobs" => jobs(&s.db, &ctx, &asked).await,
        "invoices" => invoices(&s.db, &ctx, &asked).await,
        "payments" => payments(&s.db, &ctx, &asked).await,
        _ => credit_notes(&s.db, &ctx, &asked).await,
    };
    let (found, error) = match found {
        Ok(found) => (Some(found), None),
        // Filters the page could not use: said in words above an empty list.
        Err(ServiceError::Invalid(invalid)) => (None, Some(invalid)),
        Err(ServiceError::NotFound("customer")) if asked.customer.is_some() => {
            (None, Some(ValidationErrors::one("customer", "not_found", "there is no such customer (give its code, e.g. CUS-00001)")))
        }
        Err(e) => return failure(e),
    };
    let filters = match filters(&s.db, &ctx, kind, &asked).await {
        Ok(filters) => filters,
        Err(e) => return failure(e),
    };
    let params = asked.params(names);
    let next = found.as_ref().and_then(|f| f.next_cursor.as_ref()).map(|cursor| {
        let mut query: Vec<String> = params.iter().map(|(k, v)| format!("{k}={}", super::sign_in::encode(v))).collect();
        query.push(format!("cursor={}", super::sign_in::encode(cursor)));
        format!("/{kind}?{}", query.join("&"))
    });
    let query: Vec<String> = params.iter().map(|(k, v)| format!("{k}={}", super::sign_in::encode(v))).collect();
    let export = if query.is_empty() { format!("/{kind}.csv") } else { format!("/{kind}.csv?{}", query.join("&")) };
    let error = error.as_ref().map(in_words);
    let narrowed = !params.is_empty();
    let lower = title.to_lowercase();
    let found = found.unwrap_or(Found { headers: Vec::new(), rows: Vec::new(), next_cursor: None });
    let page_data = ListPage {
        user: Some(Viewer::of(&ctx)),
        title,
        path: kind,
        filters,
        narrowed,
        headers: found.headers,
        rows: found.rows,
        next,
        error,
        empty: if narrowed { format!("No {lower} match these filters.") } else { format!("No {lower} yet.") },
        export,
    };
    page(StatusCode::OK, &page_data)
}

/// The filter form of `kind`, holding what was asked.
async fn filters(db: &Db, ctx: &Ctx, kind: &str, asked: &Asked) -> Result<Vec<Filter>, ServiceError> {
    let mut filters = match kind {
        "inquiries" => vec![status_filter("status", "Status", &asked.status, InquiryStatus::ALL, InquiryStatus::as_str), ongoing_filter(&asked.ongoing)],
        "quotes" => vec![status_filter("status", "Status", &asked.status, QuoteStatus::ALL, QuoteStatus::as_str), ongoing_filter(&asked.ongoing)],
        "jobs" => vec![status_filter("status", "Status", &asked.status, JobStatus::ALL, JobStatus::as_str), ongoing_filter(&asked.ongoing)],
        "invoices" => vec![status_filter("state", "State", &asked.state, InvoiceState::ALL, InvoiceState::as_str)],
        _ => Vec::new(),
    };
    // Someone who sees only their own jobs has no one else to choose.
    if kind == "jobs" && ctx.assigned_only(Module::Jobs).is_none() {
        let mut options = vec![(String::new(), "Anyone".to_owned())];
        options.extend(ctx.user_id.map(|_| ("me".to_owned(), "Me".to_owned())));
        let people = works::job_people(db, ctx).await?;
        options.extend(people.into_iter().filter(|p| p.active).map(|p| (p.id.to_string(), p.name)));
        filters.push(Filter { name: "assignee", label: "Assigned to", value: asked.assignee.clone().unwrap_or_default(), options, placeholder: "" });
    }
    filters.push(customer_filter(&asked.customer));
    Ok(filters)
}

async fn inquiries(db: &Db, ctx: &Ctx, asked: &Asked) -> Result<Found, ServiceError> {
    let mut errors = ValidationErrors::default();
    let status = parsed(&mut errors, "status", asked.status.as_deref(), InquiryStatus::parse);
    let ongoing = ongoing_of(&mut errors, asked.ongoing.as_deref());
    errors.into_result(|| ())?;
    let query = InquiryQuery { customer: asked.customer.clone(), status, ongoing, cursor: asked.cursor.clone(), limit: Some(PAGE_SIZE) };
    let page = works::list_inquiries(db, ctx, query).await?;
    let names = names_of(db, ctx, page.items.iter().map(|i| i.customer_id)).await?;
    let currency = ctx.org.money_style();
    let rows = page
        .items
        .iter()
        .map(|i| {
            vec![
                code("inquiries", &i.code),
                customer(&names, i.customer_id),
                cell(i.title.clone()),
                badge("inquiries", i.status.as_str()),
                cell(views::day(&ctx.org, i.created_at)),
                num(i.estimated_value.format(currency)),
            ]
        })
        .collect();
    let headers = vec![("Inquiry", false), ("Customer", false), ("Title", false), ("Status", false), ("Received", false), ("Estimated value", true)];
    Ok(Found { headers, rows, next_cursor: page.next_cursor })
}

async fn quotes(db: &Db, ctx: &Ctx, asked: &Asked) -> Result<Found, ServiceError> {
    let mut errors = ValidationErrors::default();
    let status = parsed(&mut errors, "status", asked.status.as_deref(), QuoteStatus::parse);
    let ongoing = ongoing_of(&mut errors, asked.ongoing.as_deref());
    errors.into_result(|| ())?;
    let query = QuoteQuery { customer: asked.customer.clone(), status, ongoing, cursor: asked.cursor.clone(), limit: Some(PAGE_SIZE) };
    let page = works::list_quotes(db, ctx, query).await?;
    let names = names_of(db, ctx, page.items.iter().map(|q| q.customer_id)).await?;
    let currency = ctx.org.money_style();
    let rows = page
        .items
        .iter()
        .map(|q| {
            vec![
                code("quotes", &q.code),
                customer(&names, q.customer_id),
                cell(q.title.clone()),
                badge("quotes", q.status.as_str()),
                cell(views::day(&ctx.org, q.created_at)),
                cell(q.valid_until.map(|d| ctx.org.date(d)).unwrap_or_default()),
                num(q.totals.total.format(currency)),
            ]
        })
        .collect();
    let headers = vec![("Quote", false), ("Customer", false), ("Title", false), ("Status", false), ("Made", false), ("Valid until", false), ("Total", true)];
    Ok(Found { headers, rows, next_cursor: page.next_cursor })
}

async fn jobs(db: &Db, ctx: &Ctx, asked: &Asked) -> Result<Found, ServiceError> {
    let mut errors = ValidationErrors::default();
    let status = parsed(&mut errors, "status", asked.status.as_deref(), JobStatus::parse);
    let ongoing = ongoing_of(&mut errors, asked.ongoing.as_deref());
    let assignee = parsed(&mut errors, "assignee", asked.assignee.as_deref(), |a| match a {
        "me" => ctx.user_id,
        id => uuid::Uuid::parse_str(id).ok().map(UserId),
    });
    errors.into_result(|| ())?;
    let query = JobQuery { customer: asked.customer.clone(), status, assignee, ongoing, cursor: asked.cursor.clone(), limit: Some(PAGE_SIZE) };
    let page = works::list_jobs(db, ctx, query).await?;
    let names = names_of(db, ctx, page.items.iter().map(|j| j.customer_id)).await?;
    let people: HashMap<UserId, String> = works::job_people(db, ctx).await?.into_iter().map(|p| (p.id, p.name)).collect();
    let currency = ctx.org.money_style();
    let sees_money = ctx.sees_money();
    let rows = page
        .items
        .iter()
        .map(|j| {
            let assignees: Vec<&str> = j.assignees.iter().map(|a| people.get(a).map_or("someone no longer here", String::as_str)).collect();
            let mut row = vec![
                code("jobs", &j.code),
                customer(&names, j.customer_id),
                cell(j.title.clone()),
                badge("jobs", j.status.as_str()),
                cell(super::my_jobs::when(ctx, j)),
                cell(if assignees.is_empty() { "—".to_owned() } else { assignees.join(", ") }),
            ];
            if sees_money {
                let value = match j.value {
                    Some(_) if j.free_of_charge => "Free of charge".to_owned(),
                    Some(value) => value.format(currency),
                    None => String::new(),
                };
                row.push(num(value));
            }
            row
        })
        .collect();
    let mut headers = vec![("Job", false), ("Customer", false), ("Title", false), ("Status", false), ("Scheduled", false), ("Assigned to", false)];
    if sees_money {
        headers.push(("Value", true));
    }
    Ok(Found { headers, rows, next_cursor: page.next_cursor })
}

async fn invoices(db: &Db, ctx: &Ctx, asked: &Asked) -> Result<Found, ServiceError> {
    let mut errors = ValidationErrors::default();
    let state = parsed(&mut errors, "state", asked.state.as_deref(), InvoiceState::parse);
    errors.into_result(|| ())?;
    let query = InvoiceQuery { customer: asked.customer.clone(), state, cursor: asked.cursor.clone(), limit: Some(PAGE_SIZE) };
    let page = billing::list_invoices(db, ctx, query).await?;
    let names = names_of(db, ctx, page.items.iter().map(|i| i.customer_id)).await?;
    let currency = ctx.org.money_style();
    let date = |d: Option<jiff::civil::Date>| d.map(|d| ctx.org.date(d)).unwrap_or_default();
    let rows = page
        .items
        .iter()
        .map(|i| {
            vec![
                code("invoices", &i.code),
                customer(&names, i.customer_id),
                badge("invoices", i.state.as_str()),
                cell(date(i.issue_date)),
                cell(date(i.due_date)),
                num(i.totals.total.format(currency)),
                num(i.balance.format(currency)),
            ]
        })
        .collect();
    let headers = vec![("Invoice", false), ("Customer", false), ("State", false), ("Issued", false), ("Due", false), ("Total", true), ("To pay", true)];
    Ok(Found { headers, rows, next_cursor: page.next_cursor })
}

async fn payments(db: &Db, ctx: &Ctx, asked: &Asked) -> Result<Found, ServiceError> {
    let query = LedgerQuery { customer: asked.customer.clone(), cursor: asked.cursor.clone(), limit: Some(PAGE_SIZE) };
    let page = billing::list_payments(db, ctx, query).await?;
    let names = names_of(db, ctx, page.items.iter().map(|p| p.customer_id)).await?;
    let currency = ctx.org.money_style();
    let rows = page
        .items
        .iter()
        .map(|p| {
            vec![
                code("payments", &p.code),
                customer(&names, p.customer_id),
                cell(ctx.org.date(p.received_on)),
                cell(words(p.method.as_str())),
                cell(p.reference.clone().unwrap_or_default()),
                num(p.amount.format(currency)),
                num(p.unallocated.format(currency)),
            ]
        })
        .collect();
    let headers = vec![
        ("Payment", false),
        ("Customer", false),
        ("Received", false),
        ("Method", false),
        ("Reference", false),
        ("Amount", true),
        ("Not yet allocated", true),
    ];
    Ok(Found { headers, rows, next_cursor: page.next_cursor })
}

async fn credit_notes(db: &Db, ctx: &Ctx, asked: &Asked) -> Result<Found, ServiceError> {
    let query = LedgerQuery { customer: asked.customer.clone(), cursor: asked.cursor.clone(), limit: Some(PAGE_SIZE) };
    let page = billing::list_credit_notes(db, ctx, query).await?;
    let names = names_of(db, ctx, page.items.iter().map(|c| c.customer_id)).await?;
    let currency = ctx.org.money_style();
    let rows = page
        .items
        .iter()
        .map(|c| {
            vec![
                code("credit-notes", &c.code),
                customer(&names, c.customer_id),
                cell(ctx.org.date(c.issue_date)),
                cell(c.reason.clone()),
                num(c.amount.format(currency)),
                num(c.unallocated.format(currency)),
            ]
        })
        .collect();
    let headers = vec![("Credit note", false), ("Customer", false), ("Issued", false), ("Reason", false), ("Amount", true), ("Not yet allocated", true)];
    Ok(Found { headers, rows, next_cursor: page.next_cursor })
}

/// The list of `kind` as filtered, every record of it, as CSV: the list
/// page's "Export CSV" link (see `dossier_service::data::lists`).
pub async fn export_csv(State(s): State<AppState>, Staff(ctx): Staff, Query(params): Query<ListParams>, kind: &'static str) -> Response {
    let asked = Asked::of(params);
    let mut errors = ValidationErrors::default();
    let customer = asked.customer.clone();
    let list = match kind {
        "inquiries" => ListCsv::Inquiries(InquiryQuery {
            customer,
            status: parsed(&mut errors, "status", asked.status.as_deref(), InquiryStatus::parse),
            ongoing: ongoing_of(&mut errors, asked.ongoing.as_deref()),
            ..Default::default()
        }),
        "quotes" => ListCsv::Quotes(QuoteQuery {
            customer,
            status: parsed(&mut errors, "status", asked.status.as_deref(), QuoteStatus::parse),
            ongoing: ongoing_of(&mut errors, asked.ongoing.as_deref()),
            ..Default::default()
        }),
        "jobs" => ListCsv::Jobs(JobQuery {
            customer,
            status: parsed(&mut errors, "status", asked.status.as_deref(), JobStatus::parse),
            ongoing: ongoing_of(&mut errors, asked.ongoing.as_deref()),
            assignee: parsed(&mut errors, "assignee", asked.assignee.as_deref(), |a| match a {
                "me" => ctx.user_id,
                id => uuid::Uuid::parse_str(id).ok().map(UserId),
            }),
            ..Default::default()
        }),
        "invoices" => {
            ListCsv::Invoices(InvoiceQuery { customer, state: parsed(&mut errors, "state", asked.state.as_deref(), InvoiceState::parse), ..Default::default() })
        }
        "payments" => ListCsv::Payments(LedgerQuery { customer, ..Default::default() }),
        _ => ListCsv::CreditNotes(LedgerQuery { customer, ..Default::default() }),
    };
    if let Err(invalid) = errors.into_result(|| ()) {
        return failure(invalid.into());
    }
    match crate::api::data::lists::csv_response(&s, &ctx, list).await {
        Ok(response) => response,
        Err(e) => failure(e),
    }
}

//! The customer directory and the customer profile with its tabs.

pub(super) mod erasure;
pub(super) mod profile_forms;
pub(super) mod statement;

use askama::Template;
use axum::Form;
use axum::extract::{Path, Query, RawQuery, State};
use axum::http::StatusCode;
use axum::response::{Html, IntoResponse, Redirect, Response};
use dossier_domain::activity::ActivityGroup;
use dossier_domain::contact_point::Region;
use dossier_domain::currency::MoneyStyle;
use dossier_domain::custom_fields::{FieldDefinition, FieldEntity, FieldType};
use dossier_domain::customer::{Customer, CustomerKind, CustomerStatus};
use dossier_domain::message::Channel;
use dossier_domain::permissions::{Access, Action, Module};
use dossier_domain::site::Site;
use dossier_domain::workflow::{InquiryStatus, InvoiceState, JobStatus, QuoteStatus};
use dossier_service::billing::{InvoiceQuery, LedgerQuery};
use dossier_service::customers::{BulkLabelsInput, CustomerQuery, CustomerSort};
use dossier_service::data::lists::ListCsv;
use dossier_service::files::{self, FileQuery};
use dossier_service::follow_ups::FollowUpQuery;
use dossier_service::messages::MessageQuery;
use dossier_service::summary::CustomerSummary;
use dossier_service::timeline::{HistoryQuery, TimelineQuery};
use dossier_service::works::{InquiryQuery, JobQuery, QuoteQuery};
use dossier_service::{Ctx, Db, ServiceError, billing, contacts, customers, follow_ups, messages, sites, summary, timeline, works};
use serde::Deserialize;

use super::files::{FileView, FilesTab, Uploader, uploader};
use super::follow_ups::FollowUpView;
use super::forms::blank_is_none;
use super::messages::{Composer, MessageView};
use super::views::{self, BarView, Cell, Entry, cell, link, num};
use super::{Staff, failure, page};
use crate::AppState;
use crate::ui::nav::Viewer;

// ---- the directory ----

#[derive(Deserialize, Default)]
pub struct DirectoryQuery {
    q: Option<String>,
    status: Option<String>,
    kind: Option<String>,
    label: Option<String>,
    town: Option<String>,
    postcode: Option<String>,
    overdue: Option<String>,
    sort: Option<String>,
    cursor: Option<String>,
    /// `rows`: only the results, for search as you type.
    partial: Option<String>,
    /// After a bulk label change: how many customers it touched.
    labelled: Option<usize>,
}

pub struct Row {
    code: String,
    name: String,
    /// Why a search found this customer when it is not by its own name
    /// ("Contact: Ann Smith").
    matched: Option<String>,
    email: String,
    phone: String,
    status: String,
    labels: Vec<String>,
}

#[derive(Template)]
#[template(path = "ui/customers.html")]
struct DirectoryPage {
    user: Option<Viewer>,
    q: String,
    status: String,
    kind: String,
    label: String,
    town: String,
    postcode: String,
    /// A control per filterable customer field, holding its filter.
    custom: Vec<CustomFilter>,
    overdue: bool,
    /// Whether the caller may filter by overdue invoices (they see money).
    sees_money: bool,
    notice: Option<String>,
    sorts: Sorts,
    can_edit: bool,
    statuses: Vec<(&'static str, String)>,
    rows: Vec<Row>,
    next: Option<String>,
    error: Option<String>,
    can_add: bool,
    /// Whether they may import customers from a file.
    can_import: bool,
    /// This search as CSV: the "Export CSV" link.
    export: String,
}

#[derive(Template)]
#[template(path = "ui/customer_rows.html")]
struct DirectoryRows<'a> {
    rows: &'a [Row],
    next: &'a Option<String>,
    sorts: &'a Sorts,
    can_edit: bool,
}

/// The column headers' sort links: each toggles its column's direction.
pub struct Sorts {
    code: String,
    name: String,
    code_mark: &'static str,
    name_mark: &'static str,
    /// The sort in force, for the search form to keep.
    current: String,
}

/// A custom field the directory filters by: a select of its options (a
/// choice, yes/no) or a text input.
pub struct CustomFilter {
    name: String,
    label: String,
    value: String,
    options: Vec<(String, String)>,
}

/// The directory's custom field controls, each holding what `asked` says of it.
fn custom_filters(definitions: &[FieldDefinition], asked: &[(String, String)]) -> Vec<CustomFilter> {
    definitions
        .iter()
        .filter(|d| d.spec.field_type.filterable())
        .map(|d| CustomFilter {
            name: format!("cf.{}", d.key),
            label: d.spec.label.clone(),
            value: asked.iter().find(|(k, _)| *k == d.key).map(|(_, v)| v.clone()).unwrap_or_default(),
            options: match d.spec.field_type {
                FieldType::Choice => d.spec.options.iter().map(|o| (o.clone(), o.clone())).collect(),
                FieldType::YesNo => vec![("true".into(), "Yes".into()), ("false".into(), "No".into())],
                _ => Vec::new(),
            },
        })
        .collect()
}

/// The sort a directory address asks for (name order when none or unknown).
fn sort_of(sort: Option<String>) -> CustomerSort {
    blank_is_none(sort).and_then(|s| serde_json::from_value::<CustomerSort>(serde_json::Value::String(s)).ok()).unwrap_or_default()
}

/// The directory's search as the list use case takes it: its filters, each
/// `cf.<key>` filter of the address (`raw`), its sort and page.
fn directory_list(ctx: &Ctx, query: &DirectoryQuery, raw: Option<&str>) -> CustomerQuery {
    let pairs: Vec<(String, String)> = serde_urlencoded::from_str(raw.unwrap_or_default()).unwrap_or_default();
    let custom: Vec<(String, String)> = pairs.into_iter().filter_map(|(k, v)| Some((k.strip_prefix("cf.")?.to_owned(), blank_is_none(Some(v))?))).collect();
    let overdue = ctx.sees(Module::Invoices) && query.overdue.is_some();
    CustomerQuery {
        q: blank_is_none(query.q.clone()),
        status: blank_is_none(query.status.clone()).as_deref().and_then(CustomerStatus::parse),
        kind: blank_is_none(query.kind.clone()).as_deref().and_then(CustomerKind::parse),
        label: blank_is_none(query.label.clone()),
        town: blank_is_none(query.town.clone()),
        postcode: blank_is_none(query.postcode.clone()),
        custom,
        overdue: overdue.then_some(true),
        sort: Some(sort_of(query.sort.clone())),
        cursor: query.cursor.clone(),
        limit: Some(50),
    }
}

/// The directory as filtered, every customer of it, as CSV in the
/// importer's columns (the "Export CSV" link keeps the filters).
pub async fn directory_csv(State(s): State<AppState>, Staff(ctx): Staff, Query(query): Query<DirectoryQuery>, RawQuery(raw): RawQuery) -> Response {
    let list = directory_list(&ctx, &query, raw.as_deref());
    match crate::api::data::lists::csv_response(&s, &ctx, ListCsv::Customers(list)).await {
        Ok(response) => response,
        Err(e) => failure(e),
    }
}

pub async fn directory(State(s): State<AppState>, Staff(ctx): Staff, Query(query): Query<DirectoryQuery>, RawQuery(raw): RawQuery) -> Response {
    let list = directory_list(&ctx, &query, raw.as_deref());
    let (q, status, kind, label) = (blank_is_none(query.q), blank_is_none(query.status), blank_is_none(query.kind), blank_is_none(query.label));
    let (town, postcode) = (blank_is_none(query.town), blank_is_none(query.postcode));
    let pairs: Vec<(String, String)> = serde_urlencoded::from_str(raw.as_deref().unwrap_or_default()).unwrap_or_default();
    let custom: Vec<(String, String)> = pairs.into_iter().filter_map(|(k, v)| Some((k.strip_prefix("cf.")?.to_owned(), blank_is_none(Some(v))?))).collect();
    let definitions = match dossier_service::custom_fields::list_definitions(&s.db, &ctx, Some(FieldEntity::Customer)).await {
        Ok(definitions) => definitions,
        Err(e) => return failure(e),
    };
    let sees_money = ctx.sees(Module::Invoices);
    let overdue = sees_money && query.overdue.is_some();
    let sort = list.sort.unwrap_or_default();
    // The same search with other parameters: for the next page and the sort links.
    let custom_names: Vec<(String, String)> = custom.iter().map(|(k, v)| (format!("cf.{k}"), v.clone())).collect();
    let filters: Vec<(&str, String)> = [("q", &q), ("status", &status), ("kind", &kind), ("label", &label), ("town", &town), ("postcode", &postcode)]
        .into_iter()
        .filter_map(|(k, v)| Some((k, v.clone()?)))
        .chain(overdue.then(|| ("overdue", "on".to_owned())))
        .chain(custom_names.iter().map(|(k, v)| (k.as_str(), v.clone())))
        .collect();
    let link = |extra: &[(&str, String)]| {
        let params: Vec<String> = filters.iter().chain(extra).map(|(k, v)| format!("{k}={}", super::sign_in::encode(v))).collect();
        format!("/customers?{}", params.join("&"))
    };
    let sort_name = |s: CustomerSort| serde_json::to_value(s).ok().and_then(|v| v.as_str().map(str::to_owned)).unwrap_or_default();
    let export = link(&[("sort", sort_name(sort))]).replacen("/customers?", "/customers.csv?", 1);
    let toggle = |up: CustomerSort, down: CustomerSort| if sort == up { down } else { up };
    let mark = |up: CustomerSort, down: CustomerSort| match sort {
        s if s == up => " ▲",
        s if s == down => " ▼",
        _ => "",
    };
    let sorts = Sorts {
        code: link(&[("sort", sort_name(toggle(CustomerSort::Code, CustomerSort::CodeDesc)))]),
        name: link(&[("sort", sort_name(toggle(CustomerSort::Name, CustomerSort::NameDesc)))]),
        code_mark: mark(CustomerSort::Code, CustomerSort::CodeDesc),
        name_mark: mark(CustomerSort::Name, CustomerSort::NameDesc),
        current: sort_name(sort),
    };
    let (rows, next, error) = match customers::list_customers(&s.db, &ctx, list).await {
        Ok(found) => {
            let rows = found.items.iter().map(|c| row(c, ctx.org.region)).collect();
            let next = found.next_cursor.map(|cursor| link(&[("sort", sorts.current.clone()), ("cursor", cursor)]));
            (rows, next, None)
        }
        Err(ServiceError::Invalid(errors)) => (Vec::new(), None, Some(errors.to_string())),
        Err(e) => return failure(e),
    };
    let can_edit = ctx.access(Module::Customers, Action::Edit) != Access::None;
    if query.partial.as_deref() == Some("rows") {
        return match (DirectoryRows { rows: &rows, next: &next, sorts: &sorts, can_edit }).render() {
            Ok(html) => Html(html).into_response(),
            Err(_) => StatusCode::INTERNAL_SERVER_ERROR.into_response(),
        };
    }
    let statuses = CustomerStatus::ALL.iter().map(|s| (s.as_str(), views::words(s.as_str()))).collect();
    let page_data = DirectoryPage {
        user: Some(Viewer::of(&ctx)),
        q: q.unwrap_or_default(),
        status: status.unwrap_or_default(),
        kind: kind.unwrap_or_default(),
        label: label.unwrap_or_default(),
        town: town.unwrap_or_default(),
        postcode: postcode.unwrap_or_default(),
        custom: custom_filters(&definitions, &custom),
        overdue,
        sees_money,
        notice: query.labelled.map(|n| format!("Labels changed on {n} customer{}.", if n == 1 { "" } else { "s" })),
        sorts,
        can_edit,
        statuses,
        rows,
        next,
        error,
        can_add: ctx.access(Module::Customers, Action::Create) != Access::None,
        can_import: ctx.access(Module::Customers, Action::Create) != Access::None && ctx.access(Module::Customers, Action::Export) != Access::None,
        export,
    };
    page(StatusCode::OK, &page_data)
}

/// The bulk label form under the directory: the ticked customers get the
/// label added or removed, all in one go.
pub async fn bulk_labels(State(s): State<AppState>, Staff(ctx): Staff, Form(pairs): Form<Vec<(String, String)>>) -> Response {
    let customers: Vec<String> = pairs.iter().filter(|(k, _)| k == "customer").map(|(_, v)| v.clone()).collect();
    let label: Vec<String> = pairs.iter().filter(|(k, v)| k == "bulk_label" && !v.trim().is_empty()).map(|(_, v)| v.trim().to_owned()).collect();
    let remove = pairs.iter().any(|(k, v)| k == "action" && v == "remove");
    let count = customers.len();
    let input = match remove {
        true => BulkLabelsInput { customers, add: Vec::new(), remove: label },
        false => BulkLabelsInput { customers, add: label, remove: Vec::new() },
    };
    match customers::bulk_labels(&s.db, &ctx, input).await {
        Ok(_) => Redirect::to(&format!("/customers?labelled={count}")).into_response(),
        Err(e) => failure(e),
    }
}

fn row(customer: &Customer, region: Region) -> Row {
    Row {
        code: customer.code.clone(),
        name: customer.display_name.clone(),
        matched: customer.matched.as_ref().and_then(views::match_reason),
        email: customer.profile.email.as_ref().map(|e| e.as_str().to_owned()).unwrap_or_default(),
        phone: customer.profile.phone.as_ref().map(|p| p.shown_in(region)).unwrap_or_default(),
        status: customer.status.to_string(),
        labels: customer.labels.clone(),
    }
}

// ---- the profile ----

#[derive(Deserialize, Default)]
pub struct ProfileQuery {
    tab: Option<String>,
    /// Works tab: inquiries, quotes or jobs.
    #[serde(rename = "type")]
    kind: Option<String>,
    status: Option<String>,
    /// Billing tab: an invoice state.
    state: Option<String>,
    /// Timeline: a group and an actor type to narrow to.
    group: Option<String>,
    actor: Option<String>,
    /// Timeline, Communication group: the messages of one channel.
    channel: Option<String>,
    /// Timeline: only what happened to one of the customer's sites (its id).
    site: Option<String>,
    /// Timeline: words to find in the customer's notes and messages; Files:
    /// words of file names.
    q: Option<String>,
    /// Files: the code of the record whose files to show.
    record: Option<String>,
    cursor: Option<String>,
    /// Works tab: the page of the ongoing work (`cursor` pages the finished).
    ongoing_cursor: Option<String>,
    /// The code of a customer merged into this one, whose code was opened.
    merged_from: Option<String>,
    /// The code of a customer whose merge into this one was just undone.
    unmerged: Option<String>,
}

/// A table of records, laid out the same on every tab.
pub struct Table {
    pub(super) title: String,
    pub(super) headers: Vec<(&'static str, bool)>,
    pub(super) rows: Vec<Vec<Cell>>,
    pub(super) next: Option<String>,
    pub(super) empty: &'static str,
}

pub(super) fn code_cell(kind: &str, code: &str) -> Cell {
    link(code, format!("/{kind}/{code}"))
}

pub struct Chip {
    label: String,
    href: String,
    on: bool,
}

pub struct ContactLine {
    /// The edit form, for those who may edit.
    edit: Option<String>,
    /// The page that deletes it (after asking), for those who may.
    delete: Option<String>,
    name: String,
    position: String,
    emails: Vec<String>,
    /// Each phone as linked (E.164) and as shown (the org's national format).
    phones: Vec<(String, String)>,
    flags: String,
}

#[derive(Template)]
#[template(path = "ui/customer.html")]
struct ProfilePage {
    user: Option<Viewer>,
    code: String,
    name: String,
    initials: String,
    kind: String,
    status: String,
    status_reason: Option<String>,
    /// What the status means, in words (beside the badge unless active).
    consequence: &'static str,
    /// Whether each label has its remove button.
    can_relabel: bool,
    /// "Do not work with again", and why.
    warning: Option<String>,
    labels: Vec<String>,
    location: String,
    /// The customer's custom field values: `(label, value)`.
    custom: Vec<(String, String)>,
    email: Option<String>,
    phone: Option<String>,
    debt: Option<String>,
    debt_age: Option<String>,
    credit: Option<String>,
    tab: &'static str,
    tabs: Vec<(&'static str, &'static str)>,
    bars: Vec<BarView>,
    entries: Vec<Entry>,
    chips: Vec<Chip>,
    actor_chips: Vec<Chip>,
    next: Option<String>,
    tables: Vec<Table>,
    contacts: Vec<ContactLine>,
    /// The statement of account's page, for those who see statements.
    statement: Option<String>,
    /// Buttons for the header (edit, status) and for the open tab.
    header_actions: Vec<(String, &'static str)>,
    actions: Vec<(String, &'static str)>,
    /// Important notes, above every tab.
    pinned: Vec<MessageView>,
    /// Open follow-ups, by due day, above every tab.
    follow_ups: Vec<FollowUpView>,
    /// Timeline, Communication group: a chip per channel, and the messages
    /// of the one chosen (instead of the entries).
    channel_chips: Vec<Chip>,
    messages: Option<Vec<MessageView>>,
    /// The words searched for in the customer's history, as typed.
    search: String,
    /// Timeline of one site: the site as one line, and the whole timeline's link.
    site: Option<(String, String)>,
    /// The quick "add a note / log a call" form (Activity and Timeline tabs).
    composer: Option<Composer>,
    /// The Files tab, and the files whose names match a history search.
    files: Vec<FileView>,
    file_filters: Vec<(String, String)>,
    uploader: Option<Uploader>,
    /// On a deleted customer: the banner that says so.
    deleted: Option<DeletedBanner>,
    /// What was merged into this customer (and can be undone), and notes.
    merges: super::data::merge::MergeBanners,
}

/// "Deleted on … by …, restorable until …", above a deleted customer's page.
struct DeletedBanner {
    at: String,
    by: String,
    until: String,
    reason: Option<String>,
    /// Whether the reader may restore it (owners and admins, within the window).
    can_restore: bool,
}

/// What the caller may start from a tab: each button only if their role allows it.
fn actions(ctx: &Ctx, code: &str, tab: &str) -> Vec<(String, &'static str)> {
    let may = |module: Module| ctx.access(module, Action::Create) != Access::None;
    let candidates: Vec<(bool, &str, &'static str)> = match tab {
        "contacts" => vec![(ctx.access(Module::Customers, Action::Edit) != Access::None, "contacts/new", "Add contact")],
        "sites" => vec![(ctx.access(Module::Customers, Action::Edit) != Access::None, "sites/new", "Add site")],
        "works" | "activity" => vec![
            (may(Module::Inquiries), "inquiries/new", "New inquiry"),
            (may(Module::Quotes), "quotes/new", "New quote"),
            (may(Module::Jobs), "jobs/new", "New job"),
            (may(Module::Messages) && ctx.assigned_only(Module::Messages).is_none(), "follow-ups/new", "Add follow-up"),
        ],
        "billing" => vec![
            (may(Module::Invoices), "invoices/new", "New invoice"),
            (may(Module::Payments), "payments/new", "Record payment"),
            (may(Module::CreditNotes), "credit-notes/new", "New credit note"),
        ],
        _ => Vec::new(),
    };
    candidates.into_iter().filter(|(allowed, ..)| *allowed).map(|(_, path, label)| (format!("/customers/{code}/{path}"), label)).collect()
}

/// The tabs a caller sees: Billing only with invoices in their reach.
fn tabs(ctx: &Ctx) -> Vec<(&'static str, &'static str)> {
    let mut tabs = vec![("activity", "Activity"), ("timeline", "Timeline"), ("contacts", "Contacts"), ("sites", "Sites"), ("works", "Works")];
    if ctx.sees(Module::Invoices) {
        tabs.push(("billing", "Billing"));
    }
    if ctx.sees(Module::Files) {
        tabs.push(("files", "Files"));
    }
    tabs.push(("history", "History"));
    tabs
}

pub async fn profile(State(s): State<AppState>, Staff(ctx): Staff, Path(id): Path<String>, Query(query): Query<ProfileQuery>) -> Response {
    let customer = match customers::get_customer(&s.db, &ctx, &id).await {
        Ok(customer) => customer,
        Err(e) => return failure(e),
    };
    if let Some(from) = &customer.merged_from {
        // A merged customer's code opens its survivor, which says so.
        return Redirect::to(&format!("/customers/{}?merged_from={}", customer.code, from.code)).into_response();
    }
    match profile_page(&s.db, &ctx, customer, query).await {
        Ok(page_data) => page(StatusCode::OK, &page_data),
        Err(e) => failure(e),
    }
}

async fn profile_page(db: &Db, ctx: &Ctx, customer: Customer, query: ProfileQuery) -> Result<ProfilePage, ServiceError> {
    let id = customer.code.clone();
    let id = id.as_str();
    let merges = super::data::merge::banners(db, ctx, &customer, query.merged_from.as_deref(), query.unmerged.as_deref()).await?;
    let summary = summary::customer_summary(db, ctx, id).await?;
    let definitions = dossier_service::custom_fields::list_definitions(db, ctx, Some(FieldEntity::Customer)).await?;
    let sites = sites::list_sites(db, ctx, id).await?;
    let tabs = tabs(ctx);
    let tab = tabs.iter().map(|(t, _)| *t).find(|t| Some(*t) == query.tab.as_deref()).unwrap_or("activity");
    let code = customer.code.clone();
    let currency = ctx.org.money_style();
    let place = sites
        .iter()
        .find(|s| s.profile.active)
        .map(|s| [s.profile.town.clone(), Some(s.profile.postcode.clone())].into_iter().flatten().collect::<Vec<_>>().join(" "));
    let balances = summary.balances.as_ref();
    let mut page_data = ProfilePage {
        user: Some(Viewer::of(ctx)),
        initials: views::initials(&customer.display_name),
        name: customer.display_name.clone(),
        kind: customer.profile.kind.to_string(),
        status: customer.status.to_string(),
        status_reason: customer.status_reason.clone(),
        consequence: customer.status.consequence(),
        can_relabel: ctx.access(Module::Customers, Action::Edit) != Access::None,
        warning: customer.profile.do_not_work_reason.clone(),
        labels: customer.labels.clone(),
        location: place.unwrap_or_default(),
        custom: super::custom_fields::inputs::shown(&definitions, &customer.profile.custom_fields, currency),
        email: customer.profile.email.as_ref().map(|e| e.as_str().to_owned()),
        phone: customer.profile.phone.as_ref().map(|p| p.to_string()),
        debt: balances.map(|b| b.overdue_balance.format(currency)),
        debt_age: balances.and_then(|b| b.debt_age_days).map(|d| format!("{d} days")),
        credit: balances.map(|b| b.account_credit.format(currency)),
        code: code.clone(),
        tab,
        tabs,
        bars: Vec::new(),
        entries: Vec::new(),
        chips: Vec::new(),
        actor_chips: Vec::new(),
        next: None,
        tables: Vec::new(),
        contacts: Vec::new(),
        statement: None,
        header_actions: match ctx.access(Module::Customers, Action::Edit) {
            Access::None => Vec::new(),
            _ => vec![(format!("/customers/{code}/edit"), "Edit"), (format!("/customers/{code}/status"), "Change status")],
        },
        actions: Vec::new(),
        pinned: Vec::new(),
        follow_ups: Vec::new(),
        channel_chips: Vec::new(),
        messages: None,
        search: String::new(),
        site: None,
        composer: None,
        files: Vec::new(),
        file_filters: Vec::new(),
        uploader: None,
        deleted: customer.deleted.as_ref().map(|d| DeletedBanner {
            at: views::day(&ctx.org, d.at),
            by: d.by.clone(),
            until: views::day(&ctx.org, d.restorable_until),
            reason: d.reason.clone(),
            can_restore: d.restorable(ctx.now()) && ctx.access(Module::DeletedCustomers, Action::Edit) != Access::None,
        }),
        merges,
    };
    let here = format!("/customers/{code}?tab={tab}");
    let pinned: Vec<_> = summary.pinned.iter().flatten().cloned().collect();
    page_data.pinned = pinned.iter().map(|m| MessageView::of(ctx, m, &here)).collect();
    super::messages::with_files(db, ctx, &pinned, &mut page_data.pinned, &here).await?;
    if ctx.sees(Module::Messages) {
        let open = follow_ups::customer_follow_ups(db, ctx, &code, FollowUpQuery { limit: Some(20), ..Default::default() }).await?;
        page_data.follow_ups = open.items.iter().map(|f| FollowUpView::of(ctx, f, &here)).collect();
    }
    if ctx.sees(Module::Invoices) && ctx.sees(Module::Messages) {
        page_data.header_actions.push((format!("/customers/{code}/as-customer"), "View as the customer"));
    }
    if ctx.sees(Module::PortalLinks) {
        page_data.header_actions.push((format!("/customers/{code}/portal-links"), "Portal links"));
    }
    if ctx.access(Module::Messages, Action::Create) != Access::None && ctx.assigned_only(Module::Messages).is_none() {
        page_data.header_actions.push((format!("/customers/{code}/sms"), "SMS"));
    }
    if ctx.access(Module::PersonalData, Action::Delete) != Access::None && customer.erased_at.is_none() {
        page_data.header_actions.push((format!("/customers/{code}/erasure"), "Erase personal data"));
    }
    if ctx.access(Module::PersonalData, Action::Export) != Access::None {
        page_data.header_actions.push((format!("/customers/{code}/export.zip"), "Download their data"));
    }
    if matches!(tab, "activity" | "timeline") {
        page_data.composer = super::messages::composer(ctx, &code, None, &format!("/customers/{code}?tab=timeline"));
    }
    match tab {
        "timeline" => timeline_tab(db, ctx, &code, &sites, &query, &mut page_data).await?,
        "history" => {
            let statuses = timeline::status_history(db, ctx, &code).await?;
            let rows = statuses
                .iter()
                .map(|e| {
                    let from = e.from.map_or_else(|| "—".to_owned(), |s| views::words(s.as_str()));
                    vec![
                        cell(views::day(&ctx.org, e.at)),
                        cell(from),
                        cell(views::words(e.to.as_str())),
                        cell(e.reason.clone().unwrap_or_default()),
                        cell(e.actor.name.clone()),
                    ]
                })
                .collect();
            let headers = vec![("When", false), ("From", false), ("To", false), ("Reason", false), ("By", false)];
            page_data.tables.push(Table { title: "Status history".into(), headers, rows, next: None, empty: "No status changes." });
            let found = timeline::customer_history(db, ctx, &code, HistoryQuery { cursor: query.cursor.clone(), limit: Some(50) }).await?;
            page_data.entries = views::story(ctx, &found.items);
            page_data.next = found.next_cursor.map(|c| format!("/customers/{code}?tab=history&cursor={c}"));
        }
        "contacts" => {
            let can_edit = ctx.access(Module::Customers, Action::Edit) != Access::None;
            let can_delete = can_edit;
            let region = ctx.org.region;
            let shown = |p: &dossier_domain::contact_point::Phone| (p.to_string(), p.shown_in(region));
            // The customer's own email and phone (those the header's buttons
            // use) come first, so the tab never says "No contacts" beside them.
            let own = (customer.profile.email.is_some() || customer.profile.phone.is_some()).then(|| ContactLine {
                edit: can_edit.then(|| format!("/customers/{code}/edit")),
                delete: None,
                name: customer.display_name.clone(),
                position: "Customer's own details".into(),
                emails: customer.profile.email.iter().map(|e| e.as_str().to_owned()).collect(),
                phones: customer.profile.phone.iter().map(shown).collect(),
                flags: String::new(),
            });
            page_data.contacts = own.into_iter().collect();
            page_data.contacts.extend(
                contacts::list_contacts(db, ctx, &code)
                    .await?
                    .into_iter()
                    .map(|c| ContactLine {
                        edit: can_edit.then(|| format!("/contacts/{}/edit", c.id.0)),
                        delete: can_delete.then(|| format!("/contacts/{}/delete", c.id.0)),
                        name: c.display_name.clone(),
                        position: c.profile.position.clone().unwrap_or_default(),
                        emails: c.profile.emails.iter().map(|e| e.address.as_str().to_owned()).collect(),
                        phones: c.profile.phones.iter().map(|p| shown(&p.number)).collect(),
                        flags: [c.profile.is_primary.then_some("primary"), c.profile.is_billing.then_some("billing")]
                            .into_iter()
                            .flatten()
                            .collect::<Vec<_>>()
                            .join(", "),
                    })
                    .collect::<Vec<_>>(),
            );
        }
        "sites" => {
            let can_edit = ctx.access(Module::Customers, Action::Edit) != Access::None;
            let sees_timeline = ctx.sees(Module::Timeline);
            // The org's site fields: a column of each site's values, when it has any.
            let fields = dossier_service::custom_fields::list_definitions(db, ctx, Some(FieldEntity::Site)).await?;
            let rows = sites
                .iter()
                .map(|s| {
                    let edit = if can_edit { link("Edit", format!("/sites/{}/edit", s.id.0)) } else { cell("") };
                    let delete = if can_edit { link("Delete", format!("/sites/{}/delete", s.id.0)) } else { cell("") };
                    // Its own timeline: the Timeline tab narrowed to the site.
                    let history = if sees_timeline { link("Timeline", format!("/customers/{code}?tab=timeline&site={}", s.id.0)) } else { cell("") };
                    let kind = views::words(s.profile.kind.as_str());
                    let mut row = vec![
                        cell(if s.dormant { format!("{kind} (dormant)") } else { kind }),
                        cell(s.profile.address_lines().join(", ")),
                        cell(s.profile.access_notes.clone().unwrap_or_default()),
                    ];
                    if !fields.is_empty() {
                        let values = super::custom_fields::inputs::shown(&fields, &s.profile.custom_fields, currency);
                        row.push(cell(values.iter().map(|(label, value)| format!("{label}: {value}")).collect::<Vec<_>>().join("; ")));
                    }
                    row.extend([history, edit, delete]);
                    row
                })
                .collect();
            let mut headers = vec![("Kind", false), ("Address", false), ("Access notes", false)];
            if !fields.is_empty() {
                headers.push(("Details", false));
            }
            headers.extend([("", false), ("", false), ("", false)]);
            page_data.tables.push(Table { title: "Sites".into(), headers, rows, next: None, empty: "No sites." });
        }
        "works" => works_tab(db, ctx, &code, &query, &mut page_data).await?,
        "files" => {
            let tab = FilesTab { record: query.record.clone(), q: query.q.clone(), cursor: query.cursor.clone() };
            let (files, next, filters) = super::files::files_tab(db, ctx, &code, tab).await?;
            (page_data.files, page_data.next, page_data.file_filters) = (files, next, filters);
            page_data.uploader = uploader(ctx, &code, None, &format!("/customers/{code}?tab=files"));
        }
        "billing" => billing_tab(db, ctx, &code, &query, &mut page_data).await?,
        _ => page_data.bars = bars(&summary, &code, currency),
    }
    page_data.actions = actions(ctx, &code, page_data.tab);
    if page_data.deleted.is_some() {
        // Read-only: no button that would change it (its erasure, the purge's step, may still be done, and its data downloaded).
        page_data.header_actions.retain(|(href, _)| href.ends_with("/as-customer") || href.ends_with("/erasure") || href.ends_with("/export.zip"));
        page_data.actions.clear();
        (page_data.composer, page_data.uploader, page_data.can_relabel) = (None, None, false);
    } else if ctx.access(Module::DeletedCustomers, Action::Delete) != Access::None {
        page_data.header_actions.push((format!("/customers/{code}/delete"), "Delete"));
    }
    if page_data.deleted.is_none() && ctx.access(Module::Merges, Action::Edit) != Access::None {
        page_data.header_actions.push((format!("/customers/{code}/merge"), "Merge…"));
    }
    Ok(page_data)
}

/// The Activity tab: a bar per record type the caller may see.
fn bars(summary: &CustomerSummary, code: &str, currency: MoneyStyle) -> Vec<BarView> {
    let mut bars = Vec::new();
    if let Some(b) = &summary.inquiries {
        bars.push(views::bar("Inquiries", "inquiries", "status", code, b, currency));
    }
    if let Some(b) = &summary.quotes {
        bars.push(views::bar("Quotes", "quotes", "status", code, b, currency));
    }
    if let Some(b) = &summary.jobs {
        bars.push(views::bar("Jobs", "jobs", "status", code, b, currency));
    }
    if let Some(b) = &summary.invoices {
        bars.push(views::bar("Invoices", "invoices", "state", code, b, currency));
    }
    bars
}

/// The Timeline tab: the customer's, or with `site` one of its sites'
/// alone (the same entries `GET /sites/{id}/timeline` gives), narrowed by
/// group and actor either way.
async fn timeline_tab(db: &Db, ctx: &Ctx, code: &str, sites: &[Site], query: &ProfileQuery, page_data: &mut ProfilePage) -> Result<(), ServiceError> {
    let group = query.group.as_deref().and_then(ActivityGroup::parse);
    let actor = query.actor.as_deref().filter(|a| ["user", "system", "customer", "api"].contains(a));
    let filter = TimelineQuery {
        group: group.map(|g| g.to_string()),
        actor: actor.map(str::to_owned),
        cursor: query.cursor.clone(),
        limit: Some(50),
        ..Default::default()
    };
    // Only a site of this customer: another's is not found here.
    let site = match query.site.as_deref() {
        Some(id) => Some(sites.iter().find(|s| Some(s.id.0) == uuid::Uuid::parse_str(id).ok()).ok_or(ServiceError::NotFound("site"))?),
        None => None,
    };
    let found = match site {
        Some(site) => timeline::site_timeline(db, ctx, &site.id.0.to_string(), filter).await?,
        None => timeline::customer_timeline(db, ctx, code, filter).await?,
    };
    page_data.site = site.map(|s| (s.profile.one_line(), format!("/customers/{code}?tab=timeline")));
    let link = |group: Option<&str>, actor: Option<&str>| {
        let mut href = format!("/customers/{code}?tab=timeline");
        if let Some(site) = site {
            href.push_str(&format!("&site={}", site.id.0));
        }
        if let Some(g) = group {
            href.push_str(&format!("&group={g}"));
        }
        if let Some(a) = actor {
            href.push_str(&format!("&actor={a}"));
        }
        href
    };
    let group_name = group.map(|g| g.as_str());
    page_data.chips = std::iter::once(Chip { label: "All".into(), href: link(None, actor), on: group.is_none() })
        .chain(ActivityGroup::ALL.iter().map(|g| Chip { label: views::words(g.as_str()), href: link(Some(g.as_str()), actor), on: group == Some(*g) }))
        .collect();
    page_data.actor_chips = std::iter::once(Chip { label: "Anyone".into(), href: link(group_name, None), on: actor.is_none() })
        .chain([("user", "Staff"), ("system", "System"), ("customer", "Customer"), ("api", "API")].iter().map(|(a, label)| Chip {
            label: (*label).to_owned(),
            href: link(group_name, Some(a)),
            on: actor == Some(*a),
        }))
        .collect();
    page_data.entries = views::story(ctx, &found.items);
    page_data.next = found.next_cursor.map(|c| format!("{}&cursor={c}", link(group_name, actor)));
    // Words typed: the customer's notes and messages that have them, newest first.
    if let Some(q) = blank_is_none(query.q.clone()).filter(|_| ctx.sees(Module::Messages)) {
        let here = format!("/customers/{code}?tab=timeline&q={}", super::sign_in::encode(&q));
        let words = messages::search_words(&q);
        let list = MessageQuery { q: Some(q.clone()), cursor: query.cursor.clone(), limit: Some(50), ..Default::default() };
        let found = messages::list_messages(db, ctx, code, list).await?;
        let mut views: Vec<MessageView> =
            found.items.iter().map(|m| MessageView { html: crate::rich_text::highlighted(&m.body, &words), ..MessageView::of(ctx, m, &here) }).collect();
        super::messages::with_files(db, ctx, &found.items, &mut views, &here).await?;
        page_data.messages = Some(views);
        // File names with the words, on the first page of results.
        if query.cursor.is_none() && ctx.sees(Module::Files) {
            let named = files::list_files(db, ctx, code, FileQuery { q: Some(q.clone()), limit: Some(20), ..Default::default() }).await?;
            page_data.files = named.items.iter().map(|f| FileView::of(ctx, f, &here)).collect();
        }
        page_data.next = found.next_cursor.map(|c| format!("{here}&cursor={c}"));
        page_data.search = q;
        // The words are searched in the whole customer's messages.
        page_data.site = None;
        return Ok(());
    }
    // A channel's messages are the customer's: not offered for one site.
    if group == Some(ActivityGroup::Communication) && ctx.sees(Module::Messages) && site.is_none() {
        let channel = query.channel.as_deref().and_then(Channel::parse);
        let base = link(group_name, None);
        page_data.channel_chips = std::iter::once(Chip { label: "Every channel".into(), href: base.clone(), on: channel.is_none() })
            .chain(Channel::ALL.iter().map(|c| Chip { label: c.noun().to_owned(), href: format!("{base}&channel={c}"), on: channel == Some(*c) }))
            .collect();
        if let Some(channel) = channel {
            let here = format!("{base}&channel={channel}");
            let list = MessageQuery { channel: Some(channel.to_string()), cursor: query.cursor.clone(), limit: Some(50), ..Default::default() };
            let found = messages::list_messages(db, ctx, code, list).await?;
            let mut views: Vec<MessageView> = found.items.iter().map(|m| MessageView::of(ctx, m, &here)).collect();
            super::messages::with_files(db, ctx, &found.items, &mut views, &here).await?;
            page_data.messages = Some(views);
            page_data.next = found.next_cursor.map(|c| format!("{here}&cursor={c}"));
        }
    }
    Ok(())
}

async fn works_tab(db: &Db, ctx: &Ctx, code: &str, query: &ProfileQuery, page_data: &mut ProfilePage) -> Result<(), ServiceError> {
    let status = query.status.as_deref();
    let currency = ctx.org.money_style();
    let kind = query.kind.as_deref().unwrap_or("jobs");
    if kind == "invoices" {
        return billing_tab(db, ctx, code, query, page_data).await;
    }
    page_data.chips = [("inquiries", "Inquiries", Module::Inquiries), ("quotes", "Quotes", Module::Quotes), ("jobs", "Jobs", Module::Jobs)]
        .into_iter()
        .filter(|(_, _, module)| ctx.sees(*module))
        .map(|(k, label, _)| Chip { label: label.to_owned(), href: format!("/customers/{code}?tab=works&type={k}"), on: k == kind })
        .collect();
    // Ongoing work and finished work come from two queries, each paged on
    // its own, so an old ongoing job is never pushed onto a later page by
    // newer finished ones. A status filter shows one list.
    let parts = match status {
        None => vec![(Some(true), query.ongoing_cursor.clone()), (Some(false), query.cursor.clone())],
        Some(_) => vec![(None, query.cursor.clone())],
    };
    for (ongoing, cursor) in parts {
        let customer = Some(code.to_owned());
        let limit = Some(100);
        let next = |c: Option<String>| {
            let param = if ongoing == Some(true) { "ongoing_cursor" } else { "cursor" };
            c.map(|c| format!("/customers/{code}?tab=works&type={kind}{}&{param}={c}", status.map(|s| format!("&status={s}")).unwrap_or_default()))
        };
        let (what, title) = match kind {
            "inquiries" => ("inquiries", "Inquiries"),
            "quotes" => ("quotes", "Quotes"),
            _ => ("jobs", "Jobs"),
        };
        let title = match ongoing {
            Some(true) => format!("Ongoing {what}"),
            Some(false) => format!("Finished {what}"),
            None => title.to_owned(),
        };
        let table = match kind {
            "inquiries" => {
                let found =
                    works::list_inquiries(db, ctx, InquiryQuery { customer, status: status.and_then(InquiryStatus::parse), ongoing, cursor, limit }).await?;
                let rows = found
                    .items
                    .iter()
                    .map(|i| {
                        vec![
                            code_cell("inquiries", &i.code),
                            cell(i.title.clone()),
                            cell(views::words(i.status.as_str())),
                            num(i.estimated_value.format(currency)),
                        ]
                    })
                    .collect();
                let headers = vec![("Inquiry", false), ("Title", false), ("Status", false), ("Estimated value", true)];
                Table { title, headers, rows, next: next(found.next_cursor), empty: "None." }
            }
            "quotes" => {
                let found = works::list_quotes(db, ctx, QuoteQuery { customer, status: status.and_then(QuoteStatus::parse), ongoing, cursor, limit }).await?;
                let rows = found
                    .items
                    .iter()
                    .map(|q| {
                        vec![code_cell("quotes", &q.code), cell(q.title.clone()), cell(views::words(q.status.as_str())), num(q.totals.total.format(currency))]
                    })
                    .collect();
                let headers = vec![("Quote", false), ("Title", false), ("Status", false), ("Total", true)];
                Table { title, headers, rows, next: next(found.next_cursor), empty: "None." }
            }
            _ => {
                let query = JobQuery { customer, status: status.and_then(JobStatus::parse), ongoing, assignee: None, cursor, limit };
                let found = works::list_jobs(db, ctx, query).await?;
                let rows = found
                    .items
                    .iter()
                    .map(|j| {
                        vec![
                            code_cell("jobs", &j.code),
                            cell(j.title.clone()),
                            cell(views::words(j.status.as_str())),
                            cell(j.scheduled_start.map(|at| views::day(&ctx.org, at)).unwrap_or_default()),
                            num(j.value.map(|v| v.format(currency)).unwrap_or_default()),
                        ]
                    })
                    .collect();
                let headers = vec![("Job", false), ("Title", false), ("Status", false), ("Scheduled", false), ("Value", true)];
                Table { title, headers, rows, next: next(found.next_cursor), empty: "None." }
            }
        };
        page_data.tables.push(table);
    }
    page_data.tab = "works";
    Ok(())
}

async fn billing_tab(db: &Db, ctx: &Ctx, code: &str, query: &ProfileQuery, page_data: &mut ProfilePage) -> Result<(), ServiceError> {
    let currency = ctx.org.money_style();
    let state = query.state.as_deref().or(query.status.as_deref()).and_then(InvoiceState::parse);
    let invoices =
        billing::list_invoices(db, ctx, InvoiceQuery { customer: Some(code.to_owned()), state, cursor: query.cursor.clone(), limit: Some(100) }).await?;
    let rows = invoices
        .items
        .iter()
        .map(|i| {
            let date = |d: Option<jiff::civil::Date>| d.map(|d| ctx.org.date(d)).unwrap_or_default();
            vec![
                code_cell("invoices", &i.code),
                cell(views::words(i.state.as_str())),
                cell(date(i.issue_date)),
                cell(date(i.due_date)),
                num(i.totals.total.format(currency)),
                num(i.balance.format(currency)),
            ]
        })
        .collect();
    let title = match state {
        Some(state) => format!("Invoices: {}", views::words(state.as_str())),
        None => "Invoices".to_owned(),
    };
    let next = invoices.next_cursor.map(|c| format!("/customers/{code}?tab=billing{}&cursor={c}", state.map(|s| format!("&state={s}")).unwrap_or_default()));
    let headers = vec![("Invoice", false), ("State", false), ("Issued", false), ("Due", false), ("Total", true), ("To pay", true)];
    page_data.tables.push(Table { title, headers, rows, next, empty: "No invoices." });
    if ctx.sees(Module::Payments) {
        let payments = billing::list_payments(db, ctx, LedgerQuery { customer: Some(code.to_owned()), cursor: None, limit: Some(100) }).await?;
        let rows = payments
            .items
            .iter()
            .map(|p| {
                vec![code_cell("payments", &p.code), cell(ctx.org.date(p.received_on)), num(p.amount.format(currency)), num(p.unallocated.format(currency))]
            })
            .collect();
        let headers = vec![("Payment", false), ("Received", false), ("Amount", true), ("Not yet allocated", true)];
        page_data.tables.push(Table { title: "Payments".into(), headers, rows, next: None, empty: "No payments." });
    }
    if ctx.sees(Module::CreditNotes) {
        let credits = billing::list_credit_notes(db, ctx, LedgerQuery { customer: Some(code.to_owned()), cursor: None, limit: Some(100) }).await?;
        let rows = credits
            .items
            .iter()
            .map(|c| vec![code_cell("credit-notes", &c.code), cell(ctx.org.date(c.issue_date)), cell(c.reason.clone()), num(c.amount.format(currency))])
            .collect();
        let headers = vec![("Credit note", false), ("Issued", false), ("Reason", false), ("Amount", true)];
        page_data.tables.push(Table { title: "Credit notes".into(), headers, rows, next: None, empty: "No credit notes." });
    }
    if ctx.sees(Module::Statements) {
        page_data.statement = Some(format!("/customers/{code}/statement"));
    }
    page_data.tab = "billing";
    Ok(())
}

/// Everything about the customer as a ZIP (a data-subject access request;
/// owners and admins): the profile's "Download their data".
pub async fn data_export(State(s): State<AppState>, Staff(ctx): Staff, Path(id): Path<String>) -> Response {
    match crate::api::data::export::customer_export_response(&s, &ctx, &id).await {
        Ok(response) => response,
        Err(e) => failure(e),
    }
}

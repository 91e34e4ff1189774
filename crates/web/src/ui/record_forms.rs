//! Forms that create a customer's records: inquiries, quotes, jobs,
//! invoices, and payments with what they pay; and the form that edits a
//! job's details.

use axum::Form;
use axum::extract::{Path, State};
use axum::http::StatusCode;
use axum::response::{IntoResponse, Redirect, Response};
use dossier_domain::ValidationErrors;
use dossier_domain::currency::MoneyStyle;
use dossier_domain::custom_fields::{CustomFields, FieldDefinition, FieldEntity};
use dossier_domain::customer::CustomerStatus;
use dossier_domain::money::{LineInput, MAX_LINES, Money};
use dossier_domain::orgs::default_tax_rate;
use dossier_domain::permissions::{Action, Module};
use dossier_domain::workflow::{InvoiceState, PaymentMethod};
use dossier_domain::works::{AllocationInput, CreditNoteInput, InquiryInput, InvoiceInput, Job, JobInput, JobPatch, PaymentInput, QuoteInput};
use dossier_service::billing::{self, InvoiceQuery};
use dossier_service::{Ctx, Db, ServiceError, custom_fields, customers, works};
use jiff::civil::Date;

use super::custom_fields::inputs;
use super::forms::{Field, FormPage, Section, Values, again, amount, basis_points, value};
use super::views::words;
use super::{Staff, failure};
use crate::AppState;
use crate::ui::nav::Viewer;

/// How many line rows a form offers (blank rows are left out).
const LINE_ROWS: usize = 5;

fn page(ctx: &Ctx, title: &str, code: &str, tab: &str, path: &str, submit: &'static str, sections: Vec<Section>) -> FormPage {
    FormPage {
        user: Some(Viewer::of(ctx)),
        title: format!("{title} for {code}"),
        back: format!("/customers/{code}?tab={tab}"),
        back_label: code.to_owned(),
        action: format!("/customers/{code}/{path}"),
        submit,
        sections,
        general: Vec::new(),
    }
}

/// Empty line rows. The tax of a line is chosen from the org's tax rates
/// (its default chosen), or typed where the org has none (blank: 0 %).
fn line_sections(ctx: &Ctx) -> Vec<Section> {
    let style = ctx.org.money_style();
    let tax = |n: usize| match ctx.org.tax_rates.as_slice() {
        [] => Field::new(format!("line{n}_tax"), "Tax %", "text"),
        rates => Field::new(format!("line{n}_tax"), "Tax", "select")
            .options(rates.iter().map(|r| (r.rate_bp.percent(), format!("{} ({} %)", r.name, r.rate_bp.percent()))))
            .value(default_tax_rate(rates).percent()),
    };
    (1..=LINE_ROWS)
        .map(|n| Section {
            legend: format!("Line {n}"),
            fields: vec![
                Field::new(format!("line{n}_description"), "Description", "text"),
                Field::new(format!("line{n}_quantity"), "Quantity", "text").value(if n == 1 { "1" } else { "" }),
                Field::new(format!("line{n}_unit_price"), "Unit price", "text").hint(format!("e.g. {}", Money(12_000).decimal(style))),
                tax(n),
            ],
        })
        .collect()
}

/// The filled-in line rows as API lines, with the form row each came from.
/// Rows are read up to one past the most a document may have, so too many
/// is refused by the use case rather than cut off here.
pub(super) fn lines(values: &Values, currency: MoneyStyle, errors: &mut ValidationErrors) -> (Vec<LineInput>, Vec<usize>) {
    let mut lines = Vec::new();
    let mut rows = Vec::new();
    for n in 1..=MAX_LINES + 1 {
        let field = |name: &str| format!("line{n}_{name}");
        if value(values, &field("description")).is_none() && value(values, &field("unit_price")).is_none() {
            continue;
        }
        let tax = basis_points(values, &field("tax"), errors);
        lines.push(LineInput {
            description: value(values, &field("description")),
            quantity: value(values, &field("quantity")).map(serde_json::Value::String),
            unit_price: amount(values, &field("unit_price"), currency, errors),
            tax_rate_bp: tax,
        });
        rows.push(n);
    }
    (lines, rows)
}

/// `lines[2].unit_price` → the form field of the row that line came from.
pub(super) fn line_field(field: &str, rows: &[usize]) -> String {
    let parsed =
        field.strip_prefix("lines[").and_then(|rest| rest.split_once(']')).and_then(|(i, rest)| Some((i.parse::<usize>().ok()?, rest.trim_start_matches('.'))));
    match parsed {
        Some((i, name)) if i < rows.len() => {
            let name = if name == "tax_rate_bp" { "tax" } else { name };
            format!("line{}_{name}", rows[i])
        }
        _ if field == "lines" => "line1_description".to_owned(),
        _ => field.to_owned(),
    }
}

/// The service's answer, unless reading the form already found input
/// errors: then those, and the service is not asked.
async fn unless_invalid<T>(errors: ValidationErrors, call: impl std::future::Future<Output = Result<T, ServiceError>>) -> Result<T, ServiceError> {
    errors.into_result(|| ())?;
    call.await
}

// ---- invoices ----

fn invoice_form(ctx: &Ctx, code: &str) -> FormPage {
    let mut sections = line_sections(ctx);
    sections.push(Section {
        legend: "Terms".into(),
        fields: vec![
            Field::new("due_date", "Due date", "date").hint("Blank: from the payment terms"),
            Field::new("notes", "Notes", "textarea"),
            Field::new("issue", "Issue it now", "checkbox").value("on"),
        ],
    });
    page(ctx, "New invoice", code, "billing", "invoices/new", "Create invoice", sections)
}

pub async fn new_invoice(State(s): State<AppState>, Staff(ctx): Staff, Path(code): Path<String>) -> Response {
    warned(&s.db, &ctx, &code, invoice_form(&ctx, &code)).await.show(StatusCode::OK)
}

pub async fn create_invoice(State(s): State<AppState>, Staff(ctx): Staff, Path(code): Path<String>, Form(values): Form<Values>) -> Response {
    let mut errors = ValidationErrors::default();
    let (lines, rows) = lines(&values, ctx.org.money_style(), &mut errors);
    let due_date = value(&values, "due_date")
        .and_then(|d| errors.take(d.parse::<Date>().map_err(|_| ValidationErrors::one("due_date", "invalid_date", "must be a date"))));
    let input = InvoiceInput {
        customer: Some(code.clone()),
        lines: Some(lines),
        due_date,
        notes: value(&values, "notes"),
        issue: Some(values.contains_key("issue")),
        blocked_override: value(&values, "blocked_override"),
        ..Default::default()
    };
    let result = unless_invalid(errors, billing::create_invoice(&s.db, &ctx, input)).await;
    match result {
        Ok(_) => Redirect::to(&format!("/customers/{code}?tab=billing")).into_response(),
        Err(e) => again(warned(&s.db, &ctx, &code, invoice_form(&ctx, &code)).await, &values, e, |f| line_field(f, &rows)),
    }
}

// ---- payments ----

/// The customer's open invoices, oldest due first, to set a payment against.
async fn open_invoices(db: &Db, ctx: &Ctx, code: &str) -> Result<Vec<dossier_domain::works::Invoice>, ServiceError> {
    let mut open = Vec::new();
    for state in [InvoiceState::Overdue, InvoiceState::Open] {
        let query = InvoiceQuery { customer: Some(code.to_owned()), state: Some(state), limit: Some(200), ..Default::default() };
        open.extend(billing::list_invoices(db, ctx, query).await?.items);
    }
    open.sort_by_key(|i| i.due_date);
    Ok(open)
}

fn payment_form(ctx: &Ctx, code: &str, invoices: &[dossier_domain::works::Invoice]) -> FormPage {
    let currency = ctx.org.money_style();
    let methods = PaymentMethod::ALL.iter().map(|m| (m.as_str().to_owned(), words(m.as_str())));
    let mut sections = vec![Section {
        legend: String::new(),
        fields: vec![
            Field::new("amount", "Amount", "text").required().hint("e.g. 120.00"),
            Field::new("method", "Method", "select").options(methods).value("bank_transfer"),
            Field::new("received_on", "Received on", "date").value(ctx.today().to_string()),
            Field::new("reference", "Reference", "text"),
        ],
    }];
    if !invoices.is_empty() {
        let fields = invoices
            .iter()
            .map(|i| {
                let due = i.due_date.map(|d| format!(", due {d}")).unwrap_or_default();
                Field::new(format!("pay_{}", i.code), format!("{} ({} to pay{due})", i.code, i.balance.format(currency)), "text").hint("Amount set against it")
            })
            .collect();
        sections.push(Section { legend: "Set against open invoices".into(), fields });
    }
    page(ctx, "Record payment", code, "billing", "payments/new", "Record payment", sections)
}

pub async fn new_payment(State(s): State<AppState>, Staff(ctx): Staff, Path(code): Path<String>) -> Response {
    match open_invoices(&s.db, &ctx, &code).await {
        Ok(invoices) => payment_form(&ctx, &code, &invoices).show(StatusCode::OK),
        Err(e) => failure(e),
    }
}

pub async fn create_payment(State(s): State<AppState>, Staff(ctx): Staff, Path(code): Path<String>, Form(values): Form<Values>) -> Response {
    let invoices = match open_invoices(&s.db, &ctx, &code).await {
        Ok(invoices) => invoices,
        Err(e) => return failure(e),
    };
    let currency = ctx.org.money_style();
    let mut errors = ValidationErrors::default();
    let mut allocated = Vec::new();
    let allocations: Vec<AllocationInput> = invoices
        .iter()
        .filter_map(|i| {
            let field = format!("pay_{}", i.code);
            let amount = amount(&values, &field, currency, &mut errors)?;
            allocated.push(field);
            Some(AllocationInput { invoice: Some(i.code.clone()), amount: Some(amount) })
        })
        .collect();
    let received_on = value(&values, "received_on")
        .and_then(|d| errors.take(d.parse::<Date>().map_err(|_| ValidationErrors::one("received_on", "invalid_date", "must be a date"))));
    let input = PaymentInput {
        customer: Some(code.clone()),
        amount: amount(&values, "amount", currency, &mut errors),
        method: value(&values, "method").and_then(|m| PaymentMethod::parse(&m)),
        reference: value(&values, "reference"),
        received_on,
        allocations: Some(allocations),
    };
    let result = unless_invalid(errors, billing::record_payment(&s.db, &ctx, input)).await;
    match result {
        Ok(_) => Redirect::to(&format!("/customers/{code}?tab=billing")).into_response(),
        Err(e) => again(payment_form(&ctx, &code, &invoices), &values, e, |f| {
            let index = f.strip_prefix("allocations[").and_then(|rest| rest.split_once(']')).and_then(|(i, _)| i.parse::<usize>().ok());
            match index {
                Some(i) if i < allocated.len() => allocated[i].clone(),
                _ if f == "allocations" => "amount".to_owned(),
                _ => f.to_owned(),
            }
        }),
    }
}

// ---- credit notes ----

fn credit_note_form(ctx: &Ctx, code: &str) -> FormPage {
    let fields = vec![Field::new("amount", "Amount", "text").required().hint("e.g. 45.00"), Field::new("reason", "Why", "text").required()];
    let mut form = page(ctx, "New credit note", code, "billing", "credit-notes/new", "Issue credit note", vec![Section { legend: String::new(), fields }]);
    form.general.push("Account credit for the customer, to set against invoices later (a credit note against one invoice is raised from its page).".into());
    form
}

pub async fn new_credit_note(Staff(ctx): Staff, Path(code): Path<String>) -> Response {
    credit_note_form(&ctx, &code).show(StatusCode::OK)
}

pub async fn create_credit_note(State(s): State<AppState>, Staff(ctx): Staff, Path(code): Path<String>, Form(values): Form<Values>) -> Response {
    let mut errors = ValidationErrors::default();
    let input = CreditNoteInput {
        customer: Some(code.clone()),
        invoice: None,
        amount: amount(&values, "amount", ctx.org.money_style(), &mut errors),
        reason: value(&values, "reason"),
    };
    match unless_invalid(errors, billing::create_credit_note(&s.db, &ctx, input)).await {
        Ok(credit) => Redirect::to(&format!("/credit-notes/{}", credit.code)).into_response(),
        Err(e) => again(credit_note_form(&ctx, &code), &values, e, str::to_owned),
    }
}

// ---- works ----

fn inquiry_form(ctx: &Ctx, code: &str) -> FormPage {
    let fields = vec![
        Field::new("title", "What they asked for", "text").required(),
        Field::new("description", "Details", "textarea"),
        Field::new("estimated_value", "Estimated value", "text").hint("e.g. 450.00"),
        Field::new("source", "Came in by", "text").hint("Phone, web form, referral…"),
    ];
    page(ctx, "New inquiry", code, "works&type=inquiries", "inquiries/new", "Create inquiry", vec![Section { legend: String::new(), fields }])
}

pub async fn new_inquiry(State(s): State<AppState>, Staff(ctx): Staff, Path(code): Path<String>) -> Response {
    warned(&s.db, &ctx, &code, inquiry_form(&ctx, &code)).await.show(StatusCode::OK)
}

pub async fn create_inquiry(State(s): State<AppState>, Staff(ctx): Staff, Path(code): Path<String>, Form(values): Form<Values>) -> Response {
    let mut errors = ValidationErrors::default();
    let input = InquiryInput {
        customer: Some(code.clone()),
        title: value(&values, "title"),
        description: value(&values, "description"),
        estimated_value: amount(&values, "estimated_value", ctx.org.money_style(), &mut errors),
        source: value(&values, "source"),
        blocked_override: value(&values, "blocked_override"),
        ..Default::default()
    };
    let result = unless_invalid(errors, works::create_inquiry(&s.db, &ctx, input)).await.map(drop);
    match result {
        Ok(()) => Redirect::to(&format!("/customers/{code}?tab=works&type=inquiries")).into_response(),
        Err(e) => again(warned(&s.db, &ctx, &code, inquiry_form(&ctx, &code)).await, &values, e, str::to_owned),
    }
}

fn quote_form(ctx: &Ctx, code: &str) -> FormPage {
    let mut sections = vec![Section {
        legend: String::new(),
        fields: vec![Field::new("title", "Title", "text").required(), Field::new("valid_until", "Valid until", "date")],
    }];
    sections.extend(line_sections(ctx));
    page(ctx, "New quote", code, "works&type=quotes", "quotes/new", "Create quote", sections)
}

/// `form` with what the customer's standing means for new work on top:
/// "do not work with again", and for a blocked customer why, with a field
/// for the reason to go ahead anyway (a deactivated one gets nothing new).
async fn warned(db: &Db, ctx: &Ctx, code: &str, mut form: FormPage) -> FormPage {
    let Ok(customer) = customers::get_customer(db, ctx, code).await else { return form };
    if let Some(reason) = customer.profile.do_not_work_reason {
        form.general.insert(0, format!("Do not work with again: {reason}"));
    }
    match customer.status {
        CustomerStatus::Blocked => {
            let why = customer.status_reason.map(|r| format!(" ({r})")).unwrap_or_default();
            form.general.insert(0, format!("{code} is blocked{why}: it is made only with a reason to go ahead, which is kept in its history."));
            let field = Field::new("blocked_override", "Reason to go ahead although the customer is blocked", "text").required();
            form.sections.insert(0, Section { legend: "Blocked customer".into(), fields: vec![field] });
        }
        CustomerStatus::Deactivated => {
            form.general.insert(0, format!("{code} is deactivated and read-only: reactivate the customer before adding anything."));
        }
        CustomerStatus::Active | CustomerStatus::Dormant => {}
    }
    form
}

pub async fn new_quote(State(s): State<AppState>, Staff(ctx): Staff, Path(code): Path<String>) -> Response {
    warned(&s.db, &ctx, &code, quote_form(&ctx, &code)).await.show(StatusCode::OK)
}

pub async fn create_quote(State(s): State<AppState>, Staff(ctx): Staff, Path(code): Path<String>, Form(values): Form<Values>) -> Response {
    let mut errors = ValidationErrors::default();
    let (lines, rows) = lines(&values, ctx.org.money_style(), &mut errors);
    let valid_until = value(&values, "valid_until")
        .and_then(|d| errors.take(d.parse::<Date>().map_err(|_| ValidationErrors::one("valid_until", "invalid_date", "must be a date"))));
    let input = QuoteInput {
        customer: Some(code.clone()),
        title: value(&values, "title"),
        valid_until,
        lines: Some(lines),
        blocked_override: value(&values, "blocked_override"),
        ..Default::default()
    };
    let result = unless_invalid(errors, works::create_quote(&s.db, &ctx, input)).await.map(drop);
    match result {
        Ok(()) => Redirect::to(&format!("/customers/{code}?tab=works&type=quotes")).into_response(),
        Err(e) => again(warned(&s.db, &ctx, &code, quote_form(&ctx, &code)).await, &values, e, |f| line_field(f, &rows)),
    }
}

fn job_form(ctx: &Ctx, code: &str, definitions: &[FieldDefinition]) -> FormPage {
    let fields = vec![
        Field::new("title", "What is to be done", "text").required(),
        Field::new("description", "Details", "textarea"),
        Field::new("value", "Value", "text").hint("e.g. 300.00"),
    ];
    let mut sections = vec![Section { legend: String::new(), fields }];
    if !definitions.is_empty() {
        sections.push(Section { legend: "Custom fields".into(), fields: inputs::inputs(definitions, &CustomFields::new(), ctx.org.money_style()) });
    }
    page(ctx, "New job", code, "works&type=jobs", "jobs/new", "Create job", sections)
}

/// The org's job fields, for the job form.
async fn job_definitions(db: &Db, ctx: &Ctx) -> Result<Vec<FieldDefinition>, ServiceError> {
    custom_fields::list_definitions(db, ctx, Some(FieldEntity::Job)).await
}

pub async fn new_job(State(s): State<AppState>, Staff(ctx): Staff, Path(code): Path<String>) -> Response {
    match job_definitions(&s.db, &ctx).await {
        Ok(definitions) => warned(&s.db, &ctx, &code, job_form(&ctx, &code, &definitions)).await.show(StatusCode::OK),
        Err(e) => failure(e),
    }
}

pub async fn create_job(State(s): State<AppState>, Staff(ctx): Staff, Path(code): Path<String>, Form(values): Form<Values>) -> Response {
    let definitions = match job_definitions(&s.db, &ctx).await {
        Ok(definitions) => definitions,
        Err(e) => return failure(e),
    };
    let mut errors = ValidationErrors::default();
    let custom = errors.take(inputs::read(&definitions, &values, &CustomFields::new(), ctx.org.money_style()));
    let input = JobInput {
        customer: Some(code.clone()),
        title: value(&values, "title"),
        description: value(&values, "description"),
        value: amount(&values, "value", ctx.org.money_style(), &mut errors),
        blocked_override: value(&values, "blocked_override"),
        custom_fields: custom,
        ..Default::default()
    };
    let result = unless_invalid(errors, works::create_job(&s.db, &ctx, input)).await.map(drop);
    match result {
        Ok(()) => Redirect::to(&format!("/customers/{code}?tab=works&type=jobs")).into_response(),
        Err(e) => again(warned(&s.db, &ctx, &code, job_form(&ctx, &code, &definitions)).await, &values, e, str::to_owned),
    }
}

// ---- a job's details ----

/// The form that edits what `PATCH /jobs/{id}` changes: the job's custom
/// field values, each input holding its value.
fn edit_job_form(ctx: &Ctx, job: &Job, definitions: &[FieldDefinition]) -> FormPage {
    let mut form = FormPage {
        user: Some(Viewer::of(ctx)),
        title: format!("Edit job {}: {}", job.code, job.title),
        back: format!("/jobs/{}", job.code),
        back_label: job.code.clone(),
        action: format!("/jobs/{}/edit", job.code),
        submit: "Save changes",
        sections: vec![Section { legend: "Custom fields".into(), fields: inputs::inputs(definitions, &job.custom_fields, ctx.org.money_style()) }],
        general: Vec::new(),
    };
    if definitions.is_empty() {
        form.general.push("Jobs have no custom fields yet: an owner or admin defines them under Admin, Custom fields.".into());
    }
    form
}

/// The job, and the org's job fields, for one who may edit jobs (the API's
/// rule: `PATCH /jobs/{id}` needs it, and a fieldworker only their own).
async fn job_to_edit(db: &Db, ctx: &Ctx, code: &str) -> Result<(Job, Vec<FieldDefinition>), ServiceError> {
    ctx.require(Module::Jobs, Action::Edit)?;
    let job = works::get_job(db, ctx, code).await?;
    Ok((job, job_definitions(db, ctx).await?))
}

pub async fn edit_job(State(s): State<AppState>, Staff(ctx): Staff, Path(code): Path<String>) -> Response {
    match job_to_edit(&s.db, &ctx, &code).await {
        Ok((job, definitions)) => edit_job_form(&ctx, &job, &definitions).show(StatusCode::OK),
        Err(e) => failure(e),
    }
}

/// Save the job's details and go back to its page; a refused value comes
/// back beside its input, and nothing changes.
pub async fn update_job(State(s): State<AppState>, Staff(ctx): Staff, Path(code): Path<String>, Form(values): Form<Values>) -> Response {
    let (job, definitions) = match job_to_edit(&s.db, &ctx, &code).await {
        Ok(found) => found,
        Err(e) => return failure(e),
    };
    let custom = match inputs::read(&definitions, &values, &job.custom_fields, ctx.org.money_style()) {
        Ok(custom) => custom,
        Err(errors) => return again(edit_job_form(&ctx, &job, &definitions), &values, errors.into(), str::to_owned),
    };
    match works::update_job(&s.db, &ctx, &code, JobPatch { custom_fields: Some(custom) }).await {
        Ok(job) => Redirect::to(&format!("/jobs/{}", job.code)).into_response(),
        Err(e) => again(edit_job_form(&ctx, &job, &definitions), &values, e, str::to_owned),
    }
}

//! The moves a record's status allows, as forms on its page: which ones is
//! read from the domain's workflow (`Workflow::allows`), so the page and
//! the API cannot disagree, and each is sent to the use case the API calls.
//! A refused move comes back on the record's page with the reason beside
//! the field it concerns.

use axum::Form;
use axum::extract::{Path, State};
use axum::http::StatusCode;
use axum::response::{IntoResponse, Redirect, Response};
use dossier_domain::ValidationErrors;
use dossier_domain::customer::CustomerStatus;
use dossier_domain::drafts::{InvoiceEdit, QuoteEdit};
use dossier_domain::ids::UserId;
use dossier_domain::ledger::{RefundInput, UnallocateInput};
use dossier_domain::money::Money;
use dossier_domain::money::{Line, MAX_LINES};
use dossier_domain::patch::Patch;
use dossier_domain::permissions::{Action, Module};
use dossier_domain::workflow::{InquiryStatus, InvoiceStatus, JobStatus, PaymentMethod, QuoteStatus, Workflow};
use dossier_domain::works::{
    AllocateInput, Allocation, AllocationInput, ConvertInput, ConvertInto, CreditNote, CreditNoteInput, Invoice, IssueInput, JobStatusInput, Payment, Quote,
};
use dossier_service::billing::{self, VoidInput};
use dossier_service::ledger;
use dossier_service::works::{self, InquiryStatusInput, QuoteStatusInput};
use dossier_service::{Ctx, Db, ServiceError};
use jiff::Timestamp;
use jiff::civil::{Date, DateTime};

use super::forms::{Field, Values, capitalised, value};
use super::{Staff, failure};
use crate::AppState;

/// The kinds of record whose pages offer moves, by their path.
pub const KINDS: [&str; 6] = ["inquiries", "quotes", "jobs", "invoices", "payments", "credit-notes"];

/// One move offered on a record's page: a button, and the fields it needs.
pub struct MoveForm {
    /// What the form posts as `move`: a status, or `convert_quote` / `convert_job`.
    pub name: String,
    pub label: String,
    pub fields: Vec<Field>,
    /// A move that ends or undoes something (cancel, void, lost).
    pub grave: bool,
    /// Why the last try of this move was refused, when not about one field.
    pub error: Option<String>,
}

impl MoveForm {
    fn new(name: impl Into<String>, label: impl Into<String>) -> Self {
        MoveForm { name: name.into(), label: label.into(), fields: Vec::new(), grave: false, error: None }
    }

    /// A field of this move, its id named after the move: a page offers
    /// several moves with a field of the same name (`amount`, `reason`).
    fn field(mut self, field: Field) -> Self {
        self.fields.push(Field { id: format!("{}-{}", self.name, field.name), ..field });
        self
    }

    fn grave(mut self) -> Self {
        self.grave = true;
        self
    }
}

/// A record, as its moves need it: its status, and for a draft what its
/// edit form starts from; for a payment or a credit note what is left of it
/// and its allocations (to take back).
pub enum Current {
    Inquiry(InquiryStatus),
    Quote(Box<Quote>),
    Job(JobStatus),
    Invoice(Box<Invoice>),
    Payment(Box<Payment>),
    CreditNote(Box<CreditNote>),
}

fn reason(label: &str, required: bool) -> Field {
    let field = Field::new("reason", label, "text");
    if required { field.required() } else { field }
}

fn go_ahead() -> Field {
    Field::new("blocked_override", "Reason to go ahead although the customer is blocked", "text").required()
}

/// The moves `ctx` may make from `current`, in the workflow's order.
/// `people`: whom a job may be assigned to when it is scheduled.
pub fn offered(ctx: &Ctx, current: &Current, customer: CustomerStatus, people: &[(UserId, String)]) -> Vec<MoveForm> {
    let blocked = customer == CustomerStatus::Blocked;
    let may = |module| ctx.access(module, Action::Edit) != dossier_domain::permissions::Access::None;
    if customer == CustomerStatus::Deactivated {
        return Vec::new();
    }
    let mut moves = Vec::new();
    match current {
        &Current::Inquiry(from) if may(Module::Inquiries) => {
            for to in InquiryStatus::ALL.iter().copied().filter(|to| from.allows(*to)) {
                moves.push(match to {
                    InquiryStatus::Contacted => MoveForm::new(to.as_str(), "Mark contacted"),
                    InquiryStatus::Qualified => MoveForm::new(to.as_str(), "Qualify").field(reason("Note", false)),
                    InquiryStatus::Lost => MoveForm::new(to.as_str(), "Mark lost").field(reason("Why it was lost", true)).grave(),
                    InquiryStatus::New => MoveForm::new(to.as_str(), "Reopen"),
                    InquiryStatus::Converted => continue,
                });
            }
            if from.is_open() {
                for (name, label, module) in [("convert_quote", "Convert into a quote", Module::Quotes), ("convert_job", "Convert into a job", Module::Jobs)] {
                    if ctx.access(module, Action::Create) != dossier_domain::permissions::Access::None {
                        let form = MoveForm::new(name, label);
                        moves.push(if blocked { form.field(go_ahead()) } else { form });
                    }
                }
            }
        }
        Current::Quote(quote) if may(Module::Quotes) => {
            let from = quote.status;
            for to in QuoteStatus::ALL.iter().copied().filter(|to| from.allows(*to)) {
                moves.push(match to {
                    QuoteStatus::Sent => MoveForm::new(to.as_str(), if from == QuoteStatus::Draft { "Mark sent" } else { "Send again" }),
                    QuoteStatus::Accepted => {
                        let form = MoveForm::new(to.as_str(), "Accepted").field(Field::new("create_job", "Create the job to schedule", "checkbox").value("on"));
                        if blocked { form.field(Field::new("blocked_override", "Reason to go ahead although the customer is blocked", "text")) } else { form }
                    }
                    QuoteStatus::Declined => MoveForm::new(to.as_str(), "Declined").grave(),
                    QuoteStatus::Expired => MoveForm::new(to.as_str(), "Expired").grave(),
                    QuoteStatus::Draft => continue,
                });
            }
            if from.is_editable() {
                let fields =
                    [Field::new("title", "Title", "text").required().value(quote.title.clone()), date_field("valid_until", "Valid until", quote.valid_until)];
                moves.push(edit_form(ctx, &quote.lines, fields));
            }
        }
        &Current::Job(from) if may(Module::Jobs) => {
            for to in JobStatus::ALL.iter().copied().filter(|to| from.allows(*to)) {
                moves.push(match to {
                    JobStatus::Scheduled => {
                        let who = std::iter::once((String::new(), "Keep who is assigned".to_owned()))
                            .chain(people.iter().map(|(id, name)| (id.to_string(), name.clone())));
                        MoveForm::new(to.as_str(), "Schedule")
                            .field(Field::new("start", format!("Start ({})", ctx.org.timezone), "datetime-local").required())
                            .field(Field::new("end", "End", "datetime-local").required())
                            .field(Field::new("assignee", "Who goes", "select").options(who))
                    }
                    JobStatus::InProgress => MoveForm::new(to.as_str(), "Start the job"),
                    JobStatus::Completed => MoveForm::new(to.as_str(), "Complete").field(Field::new("notes", "What was done", "textarea")),
                    JobStatus::Cancelled => MoveForm::new(to.as_str(), "Cancel").field(Field::new("notes", "Why", "text").required()).grave(),
                    JobStatus::Aborted => MoveForm::new(to.as_str(), "Abort").field(Field::new("notes", "Why", "text").required()).grave(),
                    JobStatus::ToSchedule => MoveForm::new(to.as_str(), if from == JobStatus::Scheduled { "Unschedule" } else { "Reopen" }),
                });
            }
        }
        Current::Invoice(invoice) => {
            let from = invoice.status;
            if from.allows(InvoiceStatus::Open) && may(Module::Invoices) {
                moves.push(MoveForm::new("open", "Issue").field(Field::new("issue_date", "Issue date", "date").value(ctx.today().to_string())));
            }
            if from.allows(InvoiceStatus::Void) && ctx.access(Module::Invoices, Action::Delete) != dossier_domain::permissions::Access::None {
                moves.push(MoveForm::new("void", "Void").field(reason("Why it is void", true)).grave());
            }
            // A credit note is set against an issued invoice with something left to pay.
            if from == InvoiceStatus::Open && ctx.access(Module::CreditNotes, Action::Create) != dossier_domain::permissions::Access::None {
                moves.push(
                    MoveForm::new("credit_note", "Raise a credit note")
                        .field(Field::new("amount", "Amount", "text").required().hint("e.g. 45.00"))
                        .field(reason("Why", true)),
                );
            }
            if from.is_editable() && may(Module::Invoices) {
                let fields = [date_field("due_date", "Due date", invoice.due_date).hint("Blank: from the payment terms"), {
                    Field::new("notes", "Notes", "textarea").value(invoice.notes.clone().unwrap_or_default())
                }];
                moves.push(edit_form(ctx, &invoice.lines, fields));
            }
        }
        Current::Payment(p) if may(Module::Payments) => moves.extend(ledger_moves(ctx, p.unallocated, &p.allocations)),
        Current::CreditNote(c) if may(Module::CreditNotes) => moves.extend(ledger_moves(ctx, c.unallocated, &c.allocations)),
        _ => {}
    }
    moves
}

/// A date field, starting from `date` if there is one.
fn date_field(name: &str, label: &str, date: Option<Date>) -> Field {
    Field::new(name, label, "date").value(date.map(|d| d.to_string()).unwrap_or_default())
}

/// A draft's edit form: a row per line (filled in from its lines, and two
/// blank rows to add one), then `fields`.
fn edit_form(ctx: &Ctx, lines: &[Line], fields: impl IntoIterator<Item = Field>) -> MoveForm {
    let currency = ctx.org.money_style();
    let mut form = MoveForm::new("edit", "Save the draft");
    for n in 1..=(lines.len() + 2).min(MAX_LINES) {
        let line = lines.get(n - 1);
        let shown = |pick: fn(&Line) -> String| line.map(pick).unwrap_or_default();
        form = form
            .field(Field::new(format!("line{n}_description"), format!("Line {n}"), "text").value(shown(|l| l.description.clone())))
            .field(Field::new(format!("line{n}_quantity"), "Quantity", "text").value(shown(|l| l.quantity.to_string())))
            .field(Field::new(format!("line{n}_unit_price"), "Unit price", "text").value(line.map(|l| l.unit_price.decimal(currency)).unwrap_or_default()))
            .field(Field::new(format!("line{n}_tax"), "Tax %", "text").value(shown(|l| l.tax_rate_bp.percent())));
    }
    fields.into_iter().fold(form, MoveForm::field)
}

/// What may be done with a payment's or credit note's money: set what is
/// left against an invoice or refund it to the customer, and take an
/// allocation back.
fn ledger_moves(ctx: &Ctx, left: Money, allocations: &[Allocation]) -> Vec<MoveForm> {
    let currency = ctx.org.money_style();
    let mut moves = Vec::new();
    if left.is_positive() {
        moves.push(
            MoveForm::new("allocate", format!("Set {} against an invoice", left.format(currency)))
                .field(Field::new("invoice", "Invoice", "text").required().hint("e.g. INV-00012"))
                .field(Field::new("amount", "Amount", "text").required().value(left.decimal(currency))),
        );
        let methods = PaymentMethod::ALL.iter().map(|m| (m.as_str().to_owned(), super::views::words(m.as_str())));
        moves.push(
            MoveForm::new("refund", "Refund to the customer")
                .field(Field::new("amount", "Amount", "text").required().value(left.decimal(currency)))
                .field(Field::new("method", "How", "select").options(methods).value(PaymentMethod::BankTransfer.as_str()))
                .field(Field::new("reference", "Reference", "text"))
                .field(reason("Why", true)),
        );
    }
    if !allocations.is_empty() {
        let options = allocations.iter().map(|a| (a.id.to_string(), format!("{} · {}", a.invoice_code, a.amount.format(currency))));
        moves.push(
            MoveForm::new("unallocate", "Take back from the invoice")
                .field(Field::new("allocation", "Allocation", "select").required().options(options))
                .field(reason("Why", true))
                .grave(),
        );
    }
    moves
}

/// Show a refused move's error on its form: beside the field it names, or
/// on the form itself. A move the page does not offer (the record moved on
/// meanwhile) gets its reason above the moves: returned. Errors that are
/// not about the input (forbidden, not found, a fault) are given back.
pub fn with_error(moves: &mut [MoveForm], name: &str, values: &Values, error: ServiceError) -> Result<Option<String>, ServiceError> {
    let Some(form) = moves.iter_mut().find(|m| m.name == name) else {
        return match error {
            ServiceError::Invalid(_) | ServiceError::Conflict { .. } => Ok(Some(capitalised(&error.to_string()))),
            other => Err(other),
        };
    };
    for field in &mut form.fields {
        if let Some(typed) = values.get(&field.name) {
            field.value = typed.clone();
        }
    }
    match error {
        ServiceError::Invalid(errors) => {
            for e in errors.0 {
                let field_name = field_of_move(&e.field);
                match form.fields.iter_mut().find(|f| f.name == field_name) {
                    Some(field) => field.error = Some(capitalised(&e.message)),
                    None => form.error = Some(capitalised(&format!("{}: {}", e.field, e.message))),
                }
            }
        }
        ServiceError::Conflict { code: "customer_blocked", message } if form.fields.iter().any(|f| f.name == "blocked_override") => {
            if let Some(field) = form.fields.iter_mut().find(|f| f.name == "blocked_override") {
                field.error = Some(capitalised(&message));
            }
        }
        ServiceError::Conflict { message, .. } => form.error = Some(capitalised(&message)),
        other => return Err(other),
    }
    Ok(None)
}

/// The form field an API field error of a move is shown beside.
fn field_of_move(field: &str) -> &str {
    match field {
        "scheduled_start" | "window" => "start",
        "scheduled_end" => "end",
        other if other.starts_with("assignees") => "assignee",
        "allocations" => "amount",
        other if other.starts_with("allocations[") => other.rsplit('.').next().unwrap_or(other),
        other => other,
    }
}

/// A `datetime-local` value, read in the org's time zone.
fn instant(ctx: &Ctx, values: &Values, name: &str, errors: &mut ValidationErrors) -> Option<Timestamp> {
    let text = value(values, name)?;
    let zone = ctx.org.zone();
    let parsed = DateTime::strptime("%Y-%m-%dT%H:%M", &text).ok().and_then(|d| d.to_zoned(zone).ok()).map(|z| z.timestamp());
    if parsed.is_none() {
        errors.push(name, "invalid_date", "must be a date and time");
    }
    parsed
}

/// Where a moved record's page is, and where to go after a move.
pub enum Moved {
    /// Back to the record's page.
    Stay,
    /// To another record made by the move (a converted inquiry's quote or job).
    To(String),
}

/// Make the move named in the form on the record of `kind` with `code`.
async fn make(db: &Db, ctx: &Ctx, kind: &str, code: &str, values: &Values) -> Result<Moved, ServiceError> {
    let name = value(values, "move").unwrap_or_default();
    let unknown = || ServiceError::from(ValidationErrors::one("move", "unknown_value", format!("'{name}' is not a move of this record")));
    let mut errors = ValidationErrors::default();
    match kind {
        "inquiries" => match name.as_str() {
            "convert_quote" | "convert_job" => {
                let into = if name == "convert_quote" { ConvertInto::Quote } else { ConvertInto::Job };
                let converted = works::convert_inquiry(db, ctx, code, ConvertInput { into, blocked_override: value(values, "blocked_override") }).await?;
                let to = converted.quote.map(|q| format!("/quotes/{}", q.code)).or(converted.job.map(|j| format!("/jobs/{}", j.code)));
                Ok(to.map_or(Moved::Stay, Moved::To))
            }
            status => {
                let status = InquiryStatus::parse(status).ok_or_else(unknown)?;
                works::move_inquiry(db, ctx, code, InquiryStatusInput { status, reason: value(values, "reason") }).await.map(|_| Moved::Stay)
            }
        },
        "quotes" if name == "edit" => {
            let (lines, rows) = super::record_forms::lines(values, ctx.org.money_style(), &mut errors);
            let valid_until = date_patch(values, "valid_until", &mut errors);
            errors.into_result(|| ())?;
            let edit = QuoteEdit { title: Some(values.get("title").cloned().unwrap_or_default()), valid_until, lines: Some(lines) };
            works::edit_quote(db, ctx, code, edit).await.map(|_| Moved::Stay).map_err(|e| on_rows(e, &rows))
        }
        "quotes" => {
            let status = QuoteStatus::parse(&name).ok_or_else(unknown)?;
            let input = QuoteStatusInput {
                status,
                create_job: (status == QuoteStatus::Accepted).then(|| values.contains_key("create_job")),
                blocked_override: value(values, "blocked_override"),
            };
            let quote = works::move_quote(db, ctx, code, input).await?;
            Ok(quote.job_id.filter(|_| status == QuoteStatus::Accepted).map_or(Moved::Stay, |job| Moved::To(format!("/jobs/{job}"))))
        }
        "jobs" => {
            let status = JobStatus::parse(&name).ok_or_else(unknown)?;
            let (start, end) = (instant(ctx, values, "start", &mut errors), instant(ctx, values, "end", &mut errors));
            errors.into_result(|| ())?;
            let assignees = match value(values, "assignee") {
                Some(id) => Some(vec![
                    uuid::Uuid::parse_str(&id).map(UserId).map_err(|_| ValidationErrors::one("assignee", "unknown_value", "choose someone from the list"))?,
                ]),
                None => None,
            };
            let input = JobStatusInput { status, scheduled_start: start, scheduled_end: end, assignees, notes: value(values, "notes") };
            works::move_job(db, ctx, code, input).await.map(|_| Moved::Stay)
        }
        "invoices" => match name.as_str() {
            "open" => {
                let issue_date = match value(values, "issue_date") {
                    Some(text) => Some(text.parse::<Date>().map_err(|_| ValidationErrors::one("issue_date", "invalid_date", "must be a date"))?),
                    None => None,
                };
                billing::issue_invoice(db, ctx, code, IssueInput { issue_date }).await.map(|_| Moved::Stay)
            }
            "void" => billing::void_invoice(db, ctx, code, VoidInput { reason: value(values, "reason") }).await.map(|_| Moved::Stay),
            "edit" => {
                let (lines, rows) = super::record_forms::lines(values, ctx.org.money_style(), &mut errors);
                let due_date = date_patch(values, "due_date", &mut errors);
                errors.into_result(|| ())?;
                let notes = value(values, "notes").map_or(Patch::Clear, Patch::Set);
                let edit = InvoiceEdit { lines: Some(lines), due_date, notes };
                billing::edit_invoice(db, ctx, code, edit).await.map(|_| Moved::Stay).map_err(|e| on_rows(e, &rows))
            }
            "credit_note" => {
                let amount = super::forms::amount(values, "amount", ctx.org.money_style(), &mut errors);
                errors.into_result(|| ())?;
                let input = CreditNoteInput { customer: None, invoice: Some(code.to_owned()), amount, reason: value(values, "reason") };
                let credit = billing::create_credit_note(db, ctx, input).await?;
                Ok(Moved::To(format!("/credit-notes/{}", credit.code)))
            }
            _ => Err(unknown()),
        },
        "payments" | "credit-notes" if name == "allocate" => {
            let amount = super::forms::amount(values, "amount", ctx.org.money_style(), &mut errors);
            errors.into_result(|| ())?;
            let input = AllocateInput { allocations: vec![AllocationInput { invoice: value(values, "invoice"), amount }] };
            match kind {
                "payments" => billing::allocate_payment(db, ctx, code, input).await.map(|_| Moved::Stay),
                _ => billing::allocate_credit_note(db, ctx, code, input).await.map(|_| Moved::Stay),
            }
        }
        "payments" | "credit-notes" if name == "refund" => {
            let amount = super::forms::amount(values, "amount", ctx.org.money_style(), &mut errors);
            let method = value(values, "method").and_then(|m| {
                errors.take(PaymentMethod::parse(&m).ok_or_else(|| ValidationErrors::one("method", "unknown_value", "choose how from the list")))
            });
            errors.into_result(|| ())?;
            let input = RefundInput { amount, method, reference: value(values, "reference"), reason: value(values, "reason") };
            match kind {
                "payments" => ledger::refund_payment(db, ctx, code, input).await.map(|_| Moved::Stay),
                _ => ledger::refund_credit_note(db, ctx, code, input).await.map(|_| Moved::Stay),
            }
        }
        "payments" | "credit-notes" if name == "unallocate" => {
            let allocation = value(values, "allocation").unwrap_or_default();
            let input = UnallocateInput { reason: value(values, "reason") };
            let done = match kind {
                "payments" => ledger::unallocate_payment(db, ctx, code, &allocation, input).await.map(|_| Moved::Stay),
                _ => ledger::unallocate_credit_note(db, ctx, code, &allocation, input).await.map(|_| Moved::Stay),
            };
            done.map_err(|e| match e {
                ServiceError::NotFound("allocation") => ValidationErrors::one("allocation", "not_found", "choose an allocation from the list").into(),
                other => other,
            })
        }
        "payments" | "credit-notes" => Err(unknown()),
        _ => Err(ServiceError::NotFound("page")),
    }
}

/// A date field of an edit: blank clears it.
fn date_patch(values: &Values, name: &str, errors: &mut ValidationErrors) -> Patch<Date> {
    match value(values, name) {
        None => Patch::Clear,
        Some(text) => {
            errors.take(text.parse::<Date>().map_err(|_| ValidationErrors::one(name, "invalid_date", "must be a date"))).map_or(Patch::Keep, Patch::Set)
        }
    }
}

/// An edit's input errors about its lines (`lines[1].unit_price`), named
/// by the form row each line came from (`line2_unit_price`).
fn on_rows(error: ServiceError, rows: &[usize]) -> ServiceError {
    match error {
        ServiceError::Invalid(mut errors) => {
            for e in &mut errors.0 {
                e.field = super::record_forms::line_field(&e.field, rows);
            }
            ServiceError::Invalid(errors)
        }
        other => other,
    }
}

/// `POST /{kind}/{code}/move`: make the move, then show the record (or
/// what the move made); refused, the record's page again with the reason.
pub async fn move_record(State(s): State<AppState>, Staff(ctx): Staff, Path(code): Path<String>, kind: &'static str, Form(values): Form<Values>) -> Response {
    match make(&s.db, &ctx, kind, &code, &values).await {
        Ok(Moved::Stay) => Redirect::to(&format!("/{kind}/{code}")).into_response(),
        Ok(Moved::To(path)) => Redirect::to(&path).into_response(),
        Err(error) => {
            let name = value(&values, "move").unwrap_or_default();
            let status = if matches!(error, ServiceError::Conflict { .. }) { StatusCode::CONFLICT } else { StatusCode::UNPROCESSABLE_ENTITY };
            match super::records::record_page_after(&s.db, &ctx, kind, &code, &name, &values, error).await {
                Ok(page_data) => super::page(status, &page_data),
                Err(e) => failure(e),
            }
        }
    }
}

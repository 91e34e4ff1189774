//! Money use cases: invoices, payments, credit notes and allocations.
//!
//! A payment or credit note is set against invoices by allocations; what is
//! not allocated is the customer's account credit. An invoice closes itself
//! when nothing is left to pay. Every step appends its activity (group
//! Billing) with the amounts in its detail.

use dossier_domain::ValidationErrors;
use dossier_domain::activity::{ActivityKind, EntityRef, EntityType};
use dossier_domain::code::CodeKind;
use dossier_domain::diff::diff;
use dossier_domain::drafts::{InvoiceDraft, InvoiceEdit};
use dossier_domain::ids::{AllocationId, CreditNoteId, CustomerId, InvoiceId, JobId, PaymentId};
use dossier_domain::money::{Money, Totals};
use dossier_domain::permissions::{Action, Module};
use dossier_domain::terms::due_date;
use dossier_domain::workflow::{InvoiceState, InvoiceStatus, Workflow};
use dossier_domain::works::{
    AllocateInput, Allocation, AllocationInput, AllocationRequest, CreditNote, CreditNoteInput, Invoice, InvoiceInput, IssueInput, NewCreditNote, NewInvoice,
    NewPayment, Parties, Payment, PaymentInput,
};
use dossier_store::queries as q;
use dossier_store::{
    AllocationRefused, AllocationRow, AllocationSource, CreditNoteRow, Db, Handle, InvoiceRow, JobClaim, Ledger, ListFilter, PaymentRow, RecordKey, Tx,
    due_date_source_text,
};
use jiff::civil::Date;
use serde::Deserialize;
use serde_json::json;

use crate::automation::sends::{self, Occurrence};
use crate::customers::standing::WorkPermit;
use crate::page::{Page, paginate};
use crate::record::{activity, check_parties, customer_for, find_coded, money, newest_rows, site_link, to_json, with_detail, written};
use crate::{Ctx, Result, ServiceError, customers};

/// A date a user gives for something that happened: never after today.
fn not_future(ctx: &Ctx, field: &str, date: Option<Date>) -> Result<Date> {
    let today = ctx.today();
    match date {
        Some(date) if date > today => Err(ValidationErrors::one(field, "in_future", "must not be after today").into()),
        Some(date) => Ok(date),
        None => Ok(today),
    }
}

pub(crate) async fn find_invoice(h: &mut Handle<'_>, ctx: &Ctx, reference: &str) -> Result<InvoiceRow> {
    find_coded(h, ctx, CodeKind::Invoice, "invoice", reference).await
}

pub(crate) async fn find_payment(h: &mut Handle<'_>, ctx: &Ctx, reference: &str) -> Result<PaymentRow> {
    find_coded(h, ctx, CodeKind::Payment, "payment", reference).await
}

pub(crate) async fn find_credit_note(h: &mut Handle<'_>, ctx: &Ctx, reference: &str) -> Result<CreditNoteRow> {
    find_coded(h, ctx, CodeKind::CreditNote, "credit note", reference).await
}

pub(crate) fn invoice_activity(ctx: &Ctx, kind: ActivityKind, row: &InvoiceRow, summary: String) -> dossier_domain::activity::NewActivity {
    let code = row.code().to_string();
    let record = activity(ctx, kind, Some(CustomerId(row.customer_id)), EntityRef::new(EntityType::Invoice, row.id), Some(code), summary, Vec::new());
    with_detail(record, json!({ "total": row.total, "paid": row.paid, "credited": row.credited, "balance": row.balance().0, "due_date": row.due_date }))
}

// ---------------------------------------------------------------- invoices

pub async fn create_invoice(db: &Db, ctx: &Ctx, mut input: InvoiceInput) -> Result<Invoice> {
    ctx.require(Module::Invoices, Action::Create)?;
    crate::orgs::default_tax(ctx, input.lines.iter_mut().flatten());
    let (parties, new) = input.parse()?;
    let mut tx = db.begin().await?;
    let done = create_invoice_in(&mut tx, ctx, parties, new).await?;
    tx.commit().await?;
    Ok(done)
}

/// [`create_invoice`] inside a caller's transaction (bulk loads such as the demo).
pub async fn create_invoice_in(tx: &mut Tx, ctx: &Ctx, parties: Parties, new: NewInvoice) -> Result<Invoice> {
    let h = &mut tx.handle();
    let customer = customer_for(h, ctx, parties.customer.as_deref()).await?;
    check_parties(h, ctx, customer.id, &parties).await?;
    let permit = WorkPermit::check(customer, parties.blocked_override.as_deref())?;
    let customer = permit.customer();
    let issue = new.issue.clone();
    let totals = Totals::of(&new.lines);
    let number = q::reserve_numbers(h, ctx.org.id.0, CodeKind::Invoice.counter(), 1).await?;
    let now = ctx.now().as_microsecond();
    let mut row = InvoiceRow {
        org_id: ctx.org.id.0,
        id: InvoiceId::new().0,
        number,
        code: ctx.org.code(CodeKind::Invoice, number),
        customer_id: customer.id,
        site_id: parties.site_id.map(|s| s.0),
        contact_id: parties.contact_id.map(|c| c.0),
        status: InvoiceStatus::Draft.as_str().into(),
        issue_date: None,
        due_date: new.due_date.map(|d| d.to_string()),
        due_date_source: None,
        due_date_override: new.due_date.map(|d| d.to_string()),
        lines: to_json(&new.lines)?,
        subtotal: totals.subtotal.0,
        tax: totals.tax.0,
        total: totals.total.0,
        paid: 0,
        credited: 0,
        job_ids: to_json(&new.job_ids)?,
        notes: new.notes,
        created_at: now,
        updated_at: now,
    };
    let kind = match issue {
        Some(issue) => {
            apply_issue(ctx, &mut row, customer, issue)?;
            ActivityKind::InvoiceIssued
        }
        None => ActivityKind::InvoiceCreated,
    };
    q::insert_invoice(h, &row).await?;
    claim_jobs(h, ctx, &row, &new.job_ids).await?;
    // The summary is rendered from the detail.
    let record = with_jobs(with_links(invoice_activity(ctx, kind, &row, String::new()), &parties), &new.job_ids);
    tx.append(record).await?;
    permit.note(tx, ctx, EntityRef::new(EntityType::Invoice, row.id), row.code()).await?;
    close_if_settled(tx, ctx, &mut row).await?;
    if kind == ActivityKind::InvoiceIssued {
        sends::schedule_in(tx, ctx, Occurrence::InvoiceIssued { invoice: row.id }).await?;
    }
    Ok(row.into_invoice(ctx.today(), permit.customer().code().to_string())?)
}

/// Claim each job for the invoice: it must be a job of the invoice's
/// customer that no other invoice (but a void one) bills. Each claim is one
/// conditional statement, so two invoices racing for a job cannot both win.
async fn claim_jobs(h: &mut Handle<'_>, ctx: &Ctx, row: &InvoiceRow, job_ids: &[JobId]) -> Result<()> {
    let mut errors = ValidationErrors::default();
    for (i, job) in job_ids.iter().enumerate() {
        let field = format!("job_ids[{i}]");
        match q::claim_job_for_invoice(h, ctx.org.id.0, job.0, row.customer_id, row.id).await? {
            JobClaim::Claimed => {}
            JobClaim::NotFound => errors.push(field, "unknown_job", "is not a job of this customer"),
            JobClaim::Billed(code) => errors.push(field, "already_billed", format!("is already billed on {code}")),
        }
    }
    Ok(errors.into_result(|| ())?)
}

/// The invoice's activity also reaches the timelines of the jobs it bills.
fn with_jobs(mut record: dossier_domain::activity::NewActivity, job_ids: &[JobId]) -> dossier_domain::activity::NewActivity {
    record.also_links.extend(job_ids.iter().map(|j| EntityRef::new(EntityType::Job, j.0)));
    record
}

fn with_links(mut record: dossier_domain::activity::NewActivity, parties: &Parties) -> dossier_domain::activity::NewActivity {
    record.also_links.extend(site_link(parties));
    record
}

/// Open a draft: its issue date, and its due date by precedence (the date
/// set on the invoice, the customer's terms, the org's terms).
fn apply_issue(ctx: &Ctx, row: &mut InvoiceRow, customer: &dossier_store::CustomerRow, issue: IssueInput) -> Result<()> {
    let status = row.status()?;
    if !status.allows(InvoiceStatus::Open) {
        return Err(ServiceError::conflict("illegal_transition", format!("a {status} invoice cannot be issued")));
    }
    let issued = not_future(ctx, "issue_date", issue.parse()?.issue_date)?;
    let on_invoice = row.due_date_override.as_deref().map(dossier_store::parse_date).transpose()?;
    let (due, source) = due_date(issued, on_invoice, customer.profile()?.payment_terms, ctx.org.payment_terms);
    if due < issued {
        return Err(ValidationErrors::one("due_date", "before_issue_date", format!("{due} is before the issue date {issued}")).into());
    }
    row.status = InvoiceStatus::Open.as_str().into();
    row.issue_date = Some(issued.to_string());
    row.due_date = Some(due.to_string());
    row.due_date_source = Some(due_date_source_text(source).into());
    row.updated_at = ctx.now().as_microsecond();
    Ok(())
}

pub async fn issue_invoice(db: &Db, ctx: &Ctx, reference: &str, input: IssueInput) -> Result<Invoice> {
    ctx.require(Module::Invoices, Action::Edit)?;
    let mut tx = db.begin().await?;
    let h = &mut tx.handle();
    let mut row = find_invoice(h, ctx, reference).await?;
    let customer = customers::find(h, ctx, &row.customer_id.to_string()).await?;
    apply_issue(ctx, &mut row, &customer, input)?;
    move_invoice(h, &row, InvoiceStatus::Draft).await?;
    let summary = String::new(); // rendered from the detail
    let mut record = invoice_activity(ctx, ActivityKind::InvoiceIssued, &row, summary);
    record.detail["due_date_source"] = json!(row.due_date_source);
    tx.append(record).await?;
    close_if_settled(&mut tx, ctx, &mut row).await?;
    sends::schedule_in(&mut tx, ctx, Occurrence::InvoiceIssued { invoice: row.id }).await?;
    tx.commit().await?;
    Ok(row.into_invoice(ctx.today(), customer.code().to_string())?)
}

/// The body of "void an invoice".
#[derive(Clone, Debug, Deserialize, utoipa::ToSchema)]
#[serde(deny_unknown_fields)]
pub struct VoidInput {
    pub reason: Option<String>,
}

/// Void a draft or an open invoice nothing has been set against.
pub async fn void_invoice(db: &Db, ctx: &Ctx, reference: &str, input: VoidInput) -> Result<Invoice> {
    ctx.require(Module::Invoices, Action::Delete)?;
    let reason = dossier_domain::text::required("reason", input.reason, 500)?;
    let mut tx = db.begin().await?;
    let h = &mut tx.handle();
    let mut row = find_invoice(h, ctx, reference).await?;
    let status = row.status()?;
    if !status.allows(InvoiceStatus::Void) {
        return Err(ServiceError::conflict("illegal_transition", format!("a {status} invoice cannot be voided")));
    }
    if row.paid > 0 || row.credited > 0 {
        return Err(ServiceError::conflict("invoice_has_allocations", "payments or credit notes are set against this invoice; credit it instead"));
    }
    row.status = InvoiceStatus::Void.as_str().into();
    row.updated_at = ctx.now().as_microsecond();
    move_invoice(h, &row, status).await?;
    let jobs: Vec<uuid::Uuid> = row.job_ids()?.into_iter().map(|j| j.0).collect();
    q::release_jobs_of_invoice(h, ctx.org.id.0, &jobs, row.id).await?;
    let summary = format!("Invoice {} voided: {reason}", row.code());
    let mut record = invoice_activity(ctx, ActivityKind::InvoiceVoided, &row, summary);
    record.detail["reason"] = json!(reason);
    tx.append(record).await?;
    let customer_code = customer_code_of(&mut tx.handle(), ctx, row.customer_id).await?;
    tx.commit().await?;
    Ok(row.into_invoice(ctx.today(), customer_code)?)
}

/// Change a draft's lines, due date or notes. An issued (or void) invoice
/// is refused with `not_draft`: it is corrected by a credit note. The
/// activity records each changed field, old and new (the lines as a whole,
/// each total); an edit that changes nothing records nothing.
pub async fn edit_invoice(db: &Db, ctx: &Ctx, reference: &str, mut edit: InvoiceEdit) -> Result<Invoice> {
    ctx.require(Module::Invoices, Action::Edit)?;
    crate::orgs::default_tax(ctx, edit.lines.iter_mut().flatten());
    let mut tx = db.begin().await?;
    let h = &mut tx.handle();
    let mut row = find_invoice(h, ctx, reference).await?;
    let status = row.status()?;
    if !status.is_editable() {
        return Err(ServiceError::conflict("not_draft", format!("{} is {status}: only a draft can be edited (correct it with a credit note)", row.code())));
    }
    let current = InvoiceDraft {
        lines: serde_json::from_str(&row.lines).map_err(|e| ServiceError::Internal(e.to_string()))?,
        totals: Totals { subtotal: Money(row.subtotal), tax: Money(row.tax), total: row.total() },
        due_date: row.due_date_override.as_deref().map(dossier_store::parse_date).transpose()?,
        notes: row.notes.clone(),
    };
    let edited = edit.apply(&current)?;
    let changes = diff(&current, &edited);
    let customer_code = customer_code_of(h, ctx, row.customer_id).await?;
    if changes.is_empty() {
        return Ok(row.into_invoice(ctx.today(), customer_code)?);
    }
    let read_at = row.updated_at;
    row.lines = to_json(&edited.lines)?;
    (row.subtotal, row.tax, row.total) = (edited.totals.subtotal.0, edited.totals.tax.0, edited.totals.total.0);
    row.due_date = edited.due_date.map(|d| d.to_string());
    row.due_date_override = row.due_date.clone();
    row.notes = edited.notes;
    row.updated_at = ctx.now().as_microsecond().max(read_at + 1);
    written(q::update_draft_invoice(h, &row, read_at).await?, row.code())?;
    let mut record = invoice_activity(ctx, ActivityKind::InvoiceEdited, &row, String::new());
    record.detail["previous_total"] = json!(current.totals.total.0);
    record.changes = changes;
    tx.append(record).await?;
    tx.commit().await?;
    Ok(row.into_invoice(ctx.today(), customer_code)?)
}

/// Write an invoice's move from `from`; refused if someone changed it since
/// it was read (a concurrent allocation, issue or void).
pub(crate) async fn move_invoice(h: &mut Handle<'_>, row: &InvoiceRow, from: InvoiceStatus) -> Result<()> {
    written(q::update_invoice(h, row, from).await?, row.code())
}

/// An open invoice with nothing left to pay closes, with its own activity.
async fn close_if_settled(tx: &mut Tx, ctx: &Ctx, row: &mut InvoiceRow) -> Result<()> {
    if row.status()? != InvoiceStatus::Open || row.balance().is_positive() {
        return Ok(());
    }
    row.status = InvoiceStatus::Closed.as_str().into();
    row.updated_at = ctx.now().as_microsecond();
    move_invoice(&mut tx.handle(), row, InvoiceStatus::Open).await?;
    let how = if row.credited >= row.total && row.total > 0 { "credited in full" } else { "paid in full" };
    let summary = format!("Invoice {} {how}", row.code());
    tx.append(invoice_activity(ctx, ActivityKind::InvoiceClosed, row, summary)).await?;
    Ok(())
}

pub async fn get_invoice(db: &Db, ctx: &Ctx, reference: &str) -> Result<Invoice> {
    ctx.require(Module::Invoices, Action::View)?;
    let mut conn = db.read().await?;
    let h = &mut conn.handle();
    let row = find_invoice(h, ctx, reference).await?;
    let customer_code = customer_code_of(h, ctx, row.customer_id).await?;
    Ok(row.into_invoice(ctx.today(), customer_code)?)
}

/// A customer's code by its id, for records that name their customer.
pub(crate) async fn customer_code_of(h: &mut Handle<'_>, ctx: &Ctx, customer_id: uuid::Uuid) -> Result<String> {
    q::customer_codes(h, ctx.org.id.0, &[customer_id]).await?.remove(&customer_id).ok_or(ServiceError::NotFound("customer"))
}

/// Query parameters of the invoice list.
#[derive(Clone, Debug, Default, Deserialize, utoipa::IntoParams)]
#[serde(deny_unknown_fields)]
#[into_params(parameter_in = Query)]
pub struct InvoiceQuery {
    /// Only this customer's (id or code).
    pub customer: Option<String>,
    /// draft, open, overdue, closed, credited or void: the status bars' states.
    pub state: Option<InvoiceState>,
    pub cursor: Option<String>,
    /// 1–200, default 50.
    #[param(minimum = 1, maximum = 200)]
    pub limit: Option<u32>,
}

/// Invoices newest first, narrowed by customer and state.
pub async fn list_invoices(db: &Db, ctx: &Ctx, query: InvoiceQuery) -> Result<Page<Invoice>> {
    ctx.require(Module::Invoices, Action::View)?;
    let mut conn = db.read().await?;
    let h = &mut conn.handle();
    let today = ctx.today();
    let filter = ListFilter { invoice_state: query.state.map(|state| (state, today)), ..Default::default() };
    let (rows, limit) = newest_rows::<InvoiceRow>(h, ctx, CodeKind::Invoice, query.customer.as_deref(), filter, query.cursor.as_deref(), query.limit).await?;
    let mut ids: Vec<uuid::Uuid> = rows.iter().map(|r| r.customer_id).collect();
    ids.sort();
    ids.dedup();
    let codes = q::customer_codes(h, ctx.org.id.0, &ids).await?;
    paginate(
        rows,
        limit,
        |r| r.number.to_string(),
        |r| {
            let code = codes.get(&r.customer_id).cloned().ok_or(ServiceError::NotFound("customer"))?;
            Ok(r.into_invoice(today, code)?)
        },
    )
}

// ---------------------------------------------------------------- allocations

/// What an allocation draws on: a payment or a credit note, and how much of
/// it is still free.
struct Source {
    kind: AllocationSource,
    customer_id: uuid::Uuid,
    code: String,
    unallocated: Money,
}

/// Set parts of `source` against invoices of the same customer: each amount
/// at most the invoice's balance, all together at most what the source has
/// left. Invoices paid off close.
async fn allocate_in(tx: &mut Tx, ctx: &Ctx, mut source: Source, requests: Vec<AllocationRequest>, field: &str) -> Result<Vec<Allocation>> {
    let mut errors = ValidationErrors::default();
    let mut invoices = Vec::with_capacity(requests.len());
    for (i, request) in requests.iter().enumerate() {
        let h = &mut tx.handle();
        let invoice = match find_invoice(h, ctx, &request.invoice).await {
            Ok(row) if row.customer_id == source.customer_id => row,
            Ok(_) | Err(ServiceError::NotFound(_)) => {
                errors.push(format!("{field}[{i}].invoice"), "not_found", "is not an invoice of this customer");
                continue;
            }
            Err(other) => return Err(other),
        };
        invoices.push((i, invoice));
    }
    if !errors.is_empty() {
        return Err(errors.into());
    }
    let mut made = Vec::with_capacity(invoices.len());
    for (i, invoice) in invoices {
        let amount = requests[i].amount;
        let status = invoice.status()?;
        if status != InvoiceStatus::Open {
            return Err(ServiceError::conflict("invoice_not_open", format!("{} is {status}: only open invoices take payments and credits", invoice.code())));
        }
        if amount > invoice.balance() {
            let message = format!("is more than the {} left to pay on {}", money(ctx, invoice.balance()), invoice.code());
            return Err(ValidationErrors::one(format!("{field}[{i}].amount"), "exceeds_invoice_balance", message).into());
        }
        if amount > source.unallocated {
            let message = format!("is more than the {} of {} not yet allocated", money(ctx, source.unallocated), source.code);
            return Err(ValidationErrors::one(format!("{field}[{i}].amount"), "exceeds_unallocated", message).into());
        }
        let row = AllocationRow {
            org_id: ctx.org.id.0,
            id: AllocationId::new().0,
            customer_id: source.customer_id,
            invoice_id: invoice.id,
            amount: amount.0,
            allocated_on: ctx.today().to_string(),
            created_at: ctx.now().as_microsecond(),
        };
        let (kind, subject) = match source.kind {
            AllocationSource::Payment(id) => (ActivityKind::PaymentAllocated, EntityRef::new(EntityType::Payment, id)),
            AllocationSource::CreditNote(id) => (ActivityKind::CreditNoteAllocated, EntityRef::new(EntityType::CreditNote, id)),
        };
        // The checks above give the reasons; the database repeats them in
        // the same statements, for writers racing us and for an invoice
        // named twice in one request.
        let mut invoice = match q::insert_allocation(&mut tx.handle(), &row, source.kind).await? {
            Ok(invoice) => invoice,
            Err(AllocationRefused::InvoiceBalance) => {
                let message = format!("is more than is left to pay on {}", invoice.code());
                return Err(ValidationErrors::one(format!("{field}[{i}].amount"), "exceeds_invoice_balance", message).into());
            }
            Err(AllocationRefused::SourceUnallocated) => {
                let message = format!("is more than is left of {}", source.code);
                return Err(ValidationErrors::one(format!("{field}[{i}].amount"), "exceeds_unallocated", message).into());
            }
        };
        source.unallocated = source.unallocated - amount;
        let summary = String::new(); // rendered from the detail
        let mut record = activity(ctx, kind, Some(CustomerId(source.customer_id)), subject, Some(source.code.clone()), summary, Vec::new());
        record.also_links.push(EntityRef::new(EntityType::Invoice, invoice.id));
        let detail = json!({ "amount": amount.0, "invoice": invoice.code().to_string(), "invoice_balance": invoice.balance().0 });
        tx.append(with_detail(record, detail)).await?;
        made.push(Allocation {
            id: AllocationId(row.id),
            invoice_id: InvoiceId(invoice.id),
            invoice_code: invoice.code().to_string(),
            amount,
            allocated_on: ctx.today(),
        });
        close_if_settled(tx, ctx, &mut invoice).await?;
    }
    Ok(made)
}

// ---------------------------------------------------------------- payments

pub async fn record_payment(db: &Db, ctx: &Ctx, input: PaymentInput) -> Result<Payment> {
    ctx.require(Module::Payments, Action::Create)?;
    let new = input.parse()?;
    let mut tx = db.begin().await?;
    let done = record_payment_in(&mut tx, ctx, new).await?;
    tx.commit().await?;
    Ok(done)
}

/// [`record_payment`] inside a caller's transaction (bulk loads such as the demo).
pub async fn record_payment_in(tx: &mut Tx, ctx: &Ctx, new: NewPayment) -> Result<Payment> {
    let h = &mut tx.handle();
    let customer = customer_for(h, ctx, Some(&new.customer)).await?;
    let received_on = not_future(ctx, "received_on", new.received_on)?;
    let number = q::reserve_numbers(h, ctx.org.id.0, CodeKind::Payment.counter(), 1).await?;
    let mut row = PaymentRow {
        org_id: ctx.org.id.0,
        id: PaymentId::new().0,
        number,
        code: ctx.org.code(CodeKind::Payment, number),
        customer_id: customer.id,
        amount: new.amount.0,
        allocated: 0,
        method: new.method.as_str().into(),
        reference: new.reference,
        received_on: received_on.to_string(),
        created_at: ctx.now().as_microsecond(),
        refunded: 0,
    };
    q::insert_payment(h, &row).await?;
    let summary = String::new(); // rendered from the detail
    let record = activity(
        ctx,
        ActivityKind::PaymentReceived,
        Some(CustomerId(customer.id)),
        EntityRef::new(EntityType::Payment, row.id),
        Some(row.code().to_string()),
        summary,
        Vec::new(),
    );
    tx.append(with_detail(record, json!({ "amount": row.amount, "method": row.method, "reference": row.reference, "received_on": row.received_on }))).await?;
    let source = Source { kind: AllocationSource::Payment(row.id), customer_id: row.customer_id, code: row.code().to_string(), unallocated: new.amount };
    let allocations = allocate_in(tx, ctx, source, new.allocations, "allocations").await?;
    row.allocated = allocations.iter().map(|a| a.amount.0).sum();
    sends::schedule_in(tx, ctx, Occurrence::PaymentRecorded { payment: row.id }).await?;
    Ok(row.into_payment(Ledger { allocations, refunds: Vec::new() })?)
}

/// A payment as just written, read back with its allocations.
pub(crate) async fn load_payment(h: &mut Handle<'_>, ctx: &Ctx, id: uuid::Uuid) -> Result<Payment> {
    let row: PaymentRow = q::get_coded(h, CodeKind::Payment, ctx.org.id.0, RecordKey::Id(id)).await?.ok_or(ServiceError::NotFound("payment"))?;
    payment_with_allocations(h, ctx, row).await
}

async fn payment_with_allocations(h: &mut Handle<'_>, ctx: &Ctx, row: PaymentRow) -> Result<Payment> {
    let ledger = q::ledgers_of(h, ctx.org.id.0, &[row.id]).await?.remove(&row.id).unwrap_or_default();
    Ok(row.into_payment(ledger)?)
}

fn allocation_requests(input: AllocateInput) -> Result<Vec<AllocationRequest>> {
    if input.allocations.is_empty() {
        return Err(ValidationErrors::one("allocations", "required", "name at least one invoice and amount").into());
    }
    Ok(AllocationInput::parse_all("allocations", input.allocations)?)
}

/// Set an earlier payment's unallocated amount against invoices.
pub async fn allocate_payment(db: &Db, ctx: &Ctx, reference: &str, input: AllocateInput) -> Result<Payment> {
    ctx.require(Module::Payments, Action::Edit)?;
    let requests = allocation_requests(input)?;
    let mut tx = db.begin().await?;
    let row = find_payment(&mut tx.handle(), ctx, reference).await?;
    let source = Source { kind: AllocationSource::Payment(row.id), customer_id: row.customer_id, code: row.code().to_string(), unallocated: row.unallocated() };
    allocate_in(&mut tx, ctx, source, requests, "allocations").await?;
    let payment = load_payment(&mut tx.handle(), ctx, row.id).await?;
    tx.commit().await?;
    Ok(payment)
}

pub async fn get_payment(db: &Db, ctx: &Ctx, reference: &str) -> Result<Payment> {
    ctx.require(Module::Payments, Action::View)?;
    let mut conn = db.read().await?;
    let h = &mut conn.handle();
    let row = find_payment(h, ctx, reference).await?;
    payment_with_allocations(h, ctx, row).await
}

/// Query parameters of the payment and credit note lists.
#[derive(Clone, Debug, Default, Deserialize, utoipa::IntoParams)]
#[serde(deny_unknown_fields)]
#[into_params(parameter_in = Query)]
pub struct LedgerQuery {
    /// Only this customer's (id or code).
    pub customer: Option<String>,
    pub cursor: Option<String>,
    /// 1–200, default 50.
    #[param(minimum = 1, maximum = 200)]
    pub limit: Option<u32>,
}

pub async fn list_payments(db: &Db, ctx: &Ctx, query: LedgerQuery) -> Result<Page<Payment>> {
    ctx.require(Module::Payments, Action::View)?;
    let mut conn = db.read().await?;
    let h = &mut conn.handle();
    let (rows, limit) =
        newest_rows::<PaymentRow>(h, ctx, CodeKind::Payment, query.customer.as_deref(), ListFilter::default(), query.cursor.as_deref(), query.limit).await?;
    let ids: Vec<uuid::Uuid> = rows.iter().map(|r| r.id).collect();
    let mut ledgers = q::ledgers_of(h, ctx.org.id.0, &ids).await?;
    paginate(
        rows,
        limit,
        |r| r.number.to_string(),
        |r| {
            let own = ledgers.remove(&r.id).unwrap_or_default();
            Ok(r.into_payment(own)?)
        },
    )
}

// ---------------------------------------------------------------- credit notes

/// Issue a credit note: against an invoice (its whole amount is set against
/// that invoice) or standalone (account credit, to allocate later).
pub async fn create_credit_note(db: &Db, ctx: &Ctx, input: CreditNoteInput) -> Result<CreditNote> {
    ctx.require(Module::CreditNotes, Action::Create)?;
    let new = input.parse()?;
    let mut tx = db.begin().await?;
    let done = create_credit_note_in(&mut tx, ctx, new).await?;
    tx.commit().await?;
    Ok(done)
}

/// [`create_credit_note`] inside a caller's transaction (bulk loads such as the demo).
pub async fn create_credit_note_in(tx: &mut Tx, ctx: &Ctx, new: NewCreditNote) -> Result<CreditNote> {
    let h = &mut tx.handle();
    let invoice = match &new.invoice {
        Some(reference) => match find_invoice(h, ctx, reference).await {
            Ok(row) => Some(row),
            Err(ServiceError::NotFound(_)) => return Err(ValidationErrors::one("invoice", "not_found", "no such invoice").into()),
            Err(other) => return Err(other),
        },
        None => None,
    };
    let customer = match (&new.customer, &invoice) {
        (Some(reference), _) => customer_for(h, ctx, Some(reference)).await?,
        (None, Some(invoice)) => customers::find(h, ctx, &invoice.customer_id.to_string()).await?,
        (None, None) => return Err(ValidationErrors::one("customer", "required", "give the customer, or the invoice the credit is against").into()),
    };
    if invoice.as_ref().is_some_and(|invoice| invoice.customer_id != customer.id) {
        return Err(ValidationErrors::one("invoice", "not_found", "is not an invoice of this customer").into());
    }
    let number = q::reserve_numbers(h, ctx.org.id.0, CodeKind::CreditNote.counter(), 1).await?;
    let row = CreditNoteRow {
        org_id: ctx.org.id.0,
        id: CreditNoteId::new().0,
        number,
        code: ctx.org.code(CodeKind::CreditNote, number),
        customer_id: customer.id,
        invoice_id: invoice.as_ref().map(|i| i.id),
        amount: new.amount.0,
        allocated: 0,
        reason: new.reason.clone(),
        issue_date: ctx.today().to_string(),
        created_at: ctx.now().as_microsecond(),
        refunded: 0,
    };
    q::insert_credit_note(h, &row).await?;
    let summary = String::new(); // rendered from the detail
    let record = activity(
        ctx,
        ActivityKind::CreditNoteIssued,
        Some(CustomerId(customer.id)),
        EntityRef::new(EntityType::CreditNote, row.id),
        Some(row.code().to_string()),
        summary,
        Vec::new(),
    );
    tx.append(with_detail(record, json!({ "amount": row.amount, "reason": row.reason, "invoice": invoice.as_ref().map(|i| i.code().to_string()) }))).await?;
    let mut allocations = Vec::new();
    if let Some(invoice) = &invoice {
        let source = Source { kind: AllocationSource::CreditNote(row.id), customer_id: row.customer_id, code: row.code().to_string(), unallocated: new.amount };
        let request = AllocationRequest { invoice: invoice.id.to_string(), amount: new.amount };
        allocations = allocate_in(tx, ctx, source, vec![request], "credit").await.map_err(|e| match e {
            ServiceError::Invalid(mut errors) => {
                for error in &mut errors.0 {
                    error.field = "amount".into();
                }
                ServiceError::Invalid(errors)
            }
            other => other,
        })?;
    }
    let mut row = row;
    row.allocated = allocations.iter().map(|a| a.amount.0).sum();
    Ok(row.into_credit_note(Ledger { allocations, refunds: Vec::new() })?)
}

/// A credit note as just written, read back with its allocations.
pub(crate) async fn load_credit_note(h: &mut Handle<'_>, ctx: &Ctx, id: uuid::Uuid) -> Result<CreditNote> {
    let row: CreditNoteRow = q::get_coded(h, CodeKind::CreditNote, ctx.org.id.0, RecordKey::Id(id)).await?.ok_or(ServiceError::NotFound("credit note"))?;
    credit_note_with_allocations(h, ctx, row).await
}

async fn credit_note_with_allocations(h: &mut Handle<'_>, ctx: &Ctx, row: CreditNoteRow) -> Result<CreditNote> {
    let ledger = q::ledgers_of(h, ctx.org.id.0, &[row.id]).await?.remove(&row.id).unwrap_or_default();
    Ok(row.into_credit_note(ledger)?)
}

/// Set a credit note's unallocated amount against invoices.
pub async fn allocate_credit_note(db: &Db, ctx: &Ctx, reference: &str, input: AllocateInput) -> Result<CreditNote> {
    ctx.require(Module::CreditNotes, Action::Edit)?;
    let requests = allocation_requests(input)?;
    let mut tx = db.begin().await?;
    let row = find_credit_note(&mut tx.handle(), ctx, reference).await?;
    let source =
        Source { kind: AllocationSource::CreditNote(row.id), customer_id: row.customer_id, code: row.code().to_string(), unallocated: row.unallocated() };
    allocate_in(&mut tx, ctx, source, requests, "allocations").await?;
    let credit = load_credit_note(&mut tx.handle(), ctx, row.id).await?;
    tx.commit().await?;
    Ok(credit)
}

pub async fn get_credit_note(db: &Db, ctx: &Ctx, reference: &str) -> Result<CreditNote> {
    ctx.require(Module::CreditNotes, Action::View)?;
    let mut conn = db.read().await?;
    let h = &mut conn.handle();
    let row = find_credit_note(h, ctx, reference).await?;
    credit_note_with_allocations(h, ctx, row).await
}

pub async fn list_credit_notes(db: &Db, ctx: &Ctx, query: LedgerQuery) -> Result<Page<CreditNote>> {
    ctx.require(Module::CreditNotes, Action::View)?;
    let mut conn = db.read().await?;
    let h = &mut conn.handle();
    let (rows, limit) =
        newest_rows::<CreditNoteRow>(h, ctx, CodeKind::CreditNote, query.customer.as_deref(), ListFilter::default(), query.cursor.as_deref(), query.limit)
            .await?;
    let ids: Vec<uuid::Uuid> = rows.iter().map(|r| r.id).collect();
    let mut ledgers = q::ledgers_of(h, ctx.org.id.0, &ids).await?;
    paginate(
        rows,
        limit,
        |r| r.number.to_string(),
        |r| {
            let own = ledgers.remove(&r.id).unwrap_or_default();
            Ok(r.into_credit_note(own)?)
        },
    )
}

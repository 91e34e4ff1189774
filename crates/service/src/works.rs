//! Work use cases: inquiries, quotes and jobs, and the moves of their
//! workflows.
//!
//! An inquiry is converted into a quote or a job; an accepted quote may
//! become a job. Every create and every move appends its activity (group
//! Works) with the amounts in its detail; a move the workflow does not allow
//! is refused with `illegal_transition` and changes nothing.

use dossier_domain::ValidationErrors;
use dossier_domain::activity::{ActivityKind, EntityRef, EntityType, NewActivity};
use dossier_domain::code::CodeKind;
use dossier_domain::custom_fields::{CustomFields, FieldEntity};
use dossier_domain::diff::{FieldChange, created, diff};
use dossier_domain::drafts::{QuoteDraft, QuoteEdit};
use dossier_domain::ids::{CustomerId, InquiryId, JobId, QuoteId, UserId};
use dossier_domain::money::{Line, Money, Quantity, TaxRate, Totals};
use dossier_domain::permissions::{Access, Action, Module};
use dossier_domain::workflow::{InquiryStatus, JobStatus, Ongoing, QuoteStatus, Workflow};
use dossier_domain::works::{
    ConvertInput, ConvertInto, Inquiry, InquiryInput, Job, JobInput, JobMove, JobPatch, JobStatusInput, NewInquiry, NewJob, Parties, Quote, QuoteInput,
};
use dossier_store::queries as q;
use dossier_store::{Db, Handle, InquiryRow, JobRow, ListFilter, QuoteRow, Tx};
use serde::{Deserialize, Serialize};
use serde_json::{Value, json};
use uuid::Uuid;

use crate::customers::standing::WorkPermit;
use crate::page::{Page, paginate};
use crate::record::{activity, check_parties, customer_for, field_list, find_coded, newest_rows, to_json, with_detail, written};
use crate::{Ctx, Result, ServiceError, search_terms};

/// A status as a summary shows it: `to schedule`, `in progress`.
fn words(status: impl std::fmt::Display) -> String {
    status.to_string().replace('_', " ")
}

fn status_change(old: impl std::fmt::Display, new: impl std::fmt::Display) -> FieldChange {
    FieldChange { field: "status".into(), old: json!(old.to_string()), new: json!(new.to_string()) }
}

/// Whom a work record is for, once checked: a customer, and optionally one
/// of its sites and one of its contacts.
#[derive(Clone, Copy, Debug)]
struct Owner {
    customer_id: Uuid,
    site_id: Option<Uuid>,
    contact_id: Option<Uuid>,
}

/// An activity about a work record of `owner`'s customer, linked to its site too.
fn work_activity(ctx: &Ctx, kind: ActivityKind, owner: Owner, subject: EntityRef, code: String, summary: String) -> NewActivity {
    let mut record = activity(ctx, kind, Some(CustomerId(owner.customer_id)), subject, Some(code), summary, Vec::new());
    record.also_links.extend(owner.site_id.map(|site| EntityRef::new(EntityType::Site, site)));
    record
}

// ---------------------------------------------------------------- lookups

async fn find_inquiry(h: &mut Handle<'_>, ctx: &Ctx, reference: &str) -> Result<InquiryRow> {
    find_coded(h, ctx, CodeKind::Inquiry, "inquiry", reference).await
}

async fn find_quote(h: &mut Handle<'_>, ctx: &Ctx, reference: &str) -> Result<QuoteRow> {
    find_coded(h, ctx, CodeKind::Quote, "quote", reference).await
}

pub(crate) async fn find_job(h: &mut Handle<'_>, ctx: &Ctx, reference: &str) -> Result<JobRow> {
    let row: JobRow = find_coded(h, ctx, CodeKind::Job, "job", reference).await?;
    crate::scope::check_job(h, ctx, row.id).await?;
    Ok(row)
}

/// The customer a new record is for, named in field `customer`, with the
/// site and contact checked to be its own.
/// The checked parties of a new record, and leave to start work for the
/// customer (see [`WorkPermit`]).
async fn owner_of(h: &mut Handle<'_>, ctx: &Ctx, parties: &Parties) -> Result<(Owner, WorkPermit)> {
    let customer = customer_for(h, ctx, parties.customer.as_deref()).await?;
    check_parties(h, ctx, customer.id, parties).await?;
    let owner = Owner { customer_id: customer.id, site_id: parties.site_id.map(|s| s.0), contact_id: parties.contact_id.map(|c| c.0) };
    Ok((owner, WorkPermit::check(customer, parties.blocked_override.as_deref())?))
}

/// Assignees must be active users of the org; each one that is not is
/// reported on `assignees[i]`.
async fn check_assignees(h: &mut Handle<'_>, ctx: &Ctx, assignees: &[UserId]) -> Result<()> {
    let mut errors = ValidationErrors::default();
    for (i, user) in assignees.iter().enumerate() {
        if !q::get_user(h, ctx.org.id.0, user.0).await?.is_some_and(|u| u.active) {
            errors.push(format!("assignees[{i}]"), "not_found", "is not an active user of this org");
        }
    }
    Ok(errors.into_result(|| ())?)
}

// ---------------------------------------------------------------- inquiries

fn inquiry_activity(ctx: &Ctx, kind: ActivityKind, row: &InquiryRow, summary: String) -> NewActivity {
    let owner = Owner { customer_id: row.customer_id, site_id: row.site_id, contact_id: row.contact_id };
    let record = work_activity(ctx, kind, owner, EntityRef::new(EntityType::Inquiry, row.id), row.code().to_string(), summary);
    with_detail(record, json!({ "estimated_value": row.estimated_value, "source": row.source }))
}

pub async fn create_inquiry(db: &Db, ctx: &Ctx, input: InquiryInput) -> Result<Inquiry> {
    ctx.require(Module::Inquiries, Action::Create)?;
    let (parties, new) = input.parse()?;
    let mut tx = db.begin().await?;
    let done = create_inquiry_in(&mut tx, ctx, parties, new).await?;
    tx.commit().await?;
    Ok(done)
}

/// [`create_inquiry`] inside a caller's transaction (bulk loads such as the demo).
pub async fn create_inquiry_in(tx: &mut Tx, ctx: &Ctx, parties: Parties, new: NewInquiry) -> Result<Inquiry> {
    let h = &mut tx.handle();
    let (owner, permit) = owner_of(h, ctx, &parties).await?;
    let number = q::reserve_numbers(h, ctx.org.id.0, CodeKind::Inquiry.counter(), 1).await?;
    let now = ctx.now().as_microsecond();
    let row = InquiryRow {
        org_id: ctx.org.id.0,
        id: InquiryId::new().0,
        number,
        code: ctx.org.code(CodeKind::Inquiry, number),
        customer_id: owner.customer_id,
        site_id: owner.site_id,
        contact_id: owner.contact_id,
        status: InquiryStatus::New.as_str().into(),
        title: new.title,
        description: new.description,
        estimated_value: new.estimated_value.0,
        source: new.source,
        converted_to: None,
        created_at: now,
        updated_at: now,
    };
    q::insert_inquiry(h, &row).await?;
    let summary = format!("Inquiry {} received: {}", row.code(), row.title);
    tx.append(inquiry_activity(ctx, ActivityKind::InquiryCreated, &row, summary)).await?;
    permit.note(tx, ctx, EntityRef::new(EntityType::Inquiry, row.id), row.code()).await?;
    Ok(row.into_inquiry()?)
}

pub async fn get_inquiry(db: &Db, ctx: &Ctx, reference: &str) -> Result<Inquiry> {
    ctx.require(Module::Inquiries, Action::View)?;
    let mut conn = db.read().await?;
    Ok(find_inquiry(&mut conn.handle(), ctx, reference).await?.into_inquiry()?)
}

/// Query parameters of the inquiry list.
#[derive(Clone, Debug, Default, Deserialize, utoipa::IntoParams)]
#[serde(deny_unknown_fields)]
#[into_params(parameter_in = Query)]
pub struct InquiryQuery {
    /// Only this customer's (id or code).
    pub customer: Option<String>,
    pub status: Option<InquiryStatus>,
    /// `true`: only work still going on (inquiries new, contacted or
    /// qualified; quotes draft or sent; jobs to schedule, scheduled or in
    /// progress); `false`: only finished work.
    pub ongoing: Option<bool>,
    pub cursor: Option<String>,
    /// 1–200, default 50.
    #[param(minimum = 1, maximum = 200)]
    pub limit: Option<u32>,
}

/// Inquiries newest first, narrowed by customer and status.
pub async fn list_inquiries(db: &Db, ctx: &Ctx, query: InquiryQuery) -> Result<Page<Inquiry>> {
    ctx.require(Module::Inquiries, Action::View)?;
    let mut conn = db.read().await?;
    let h = &mut conn.handle();
    let statuses = query.ongoing.map(InquiryStatus::named).unwrap_or_default();
    let filter = ListFilter { status: query.status.map(InquiryStatus::as_str), statuses, ..Default::default() };
    let (rows, limit) = newest_rows::<InquiryRow>(h, ctx, CodeKind::Inquiry, query.customer.as_deref(), filter, query.cursor.as_deref(), query.limit).await?;
    paginate(rows, limit, |r| r.number.to_string(), |r| Ok(r.into_inquiry()?))
}

/// The body of "move an inquiry on". `converted` is reached by converting.
#[derive(Clone, Debug, Deserialize, utoipa::ToSchema)]
#[serde(deny_unknown_fields)]
pub struct InquiryStatusInput {
    pub status: InquiryStatus,
    /// Why, e.g. when it is lost.
    pub reason: Option<String>,
}

pub async fn move_inquiry(db: &Db, ctx: &Ctx, reference: &str, input: InquiryStatusInput) -> Result<Inquiry> {
    ctx.require(Module::Inquiries, Action::Edit)?;
    let mut tx = db.begin().await?;
    let done = move_inquiry_in(&mut tx, ctx, reference, input).await?;
    tx.commit().await?;
    Ok(done)
}

/// [`move_inquiry`] inside a caller's transaction (bulk loads such as the demo).
pub async fn move_inquiry_in(tx: &mut Tx, ctx: &Ctx, reference: &str, input: InquiryStatusInput) -> Result<Inquiry> {
    let reason = dossier_domain::text::optional("reason", input.reason, 500)?;
    let h = &mut tx.handle();
    let mut row = find_inquiry(h, ctx, reference).await?;
    let from = row.status()?;
    let to = input.status;
    if !from.allows(to) {
        let hint = if to == InquiryStatus::Converted { " (convert it into a quote or job instead)" } else { "" };
        return Err(ServiceError::conflict("illegal_transition", format!("a {from} inquiry cannot be moved to {to}{hint}")));
    }
    row.status = to.as_str().into();
    row.updated_at = ctx.now().as_microsecond();
    written(q::update_inquiry(h, &row, from.as_str()).await?, row.code())?;
    let mut summary = format!("Inquiry {} moved from {} to {}", row.code(), words(from), words(to));
    if let Some(reason) = &reason {
        summary.push_str(&format!(": {reason}"));
    }
    let mut record = inquiry_activity(ctx, ActivityKind::InquiryStatusChanged, &row, summary);
    record.changes = vec![status_change(from, to)];
    record.detail["reason"] = json!(reason);
    tx.append(record).await?;
    Ok(row.into_inquiry()?)
}

/// What converting an inquiry answers: the inquiry, now converted, and the
/// quote or the job it became (the other is absent).
#[derive(Clone, Debug, Serialize, utoipa::ToSchema)]
pub struct Converted {
    pub inquiry: Inquiry,
    #[serde(skip_serializing_if = "Option::is_none")]
    pub quote: Option<Quote>,
    #[serde(skip_serializing_if = "Option::is_none")]
    pub job: Option<Job>,
}

/// Turn an open inquiry into a draft quote (one line: its title at its
/// estimated value) or a job to schedule (worth its estimated value).
pub async fn convert_inquiry(db: &Db, ctx: &Ctx, reference: &str, input: ConvertInput) -> Result<Converted> {
    ctx.require(Module::Inquiries, Action::Edit)?;
    ctx.require(if input.into == ConvertInto::Quote { Module::Quotes } else { Module::Jobs }, Action::Create)?;
    let mut tx = db.begin().await?;
    let done = convert_inquiry_in(&mut tx, ctx, reference, input).await?;
    tx.commit().await?;
    Ok(done)
}

/// [`convert_inquiry`] inside a caller's transaction (bulk loads such as the demo).
pub async fn convert_inquiry_in(tx: &mut Tx, ctx: &Ctx, reference: &str, input: ConvertInput) -> Result<Converted> {
    let h = &mut tx.handle();
    let mut inquiry = find_inquiry(h, ctx, reference).await?;
    let status = inquiry.status()?;
    if !status.is_open() {
        return Err(ServiceError::conflict("illegal_transition", format!("a {status} inquiry cannot be converted")));
    }
    let owner = Owner { customer_id: inquiry.customer_id, site_id: inquiry.site_id, contact_id: inquiry.contact_id };
    let go_ahead = dossier_domain::works::blocked_override(input.blocked_override)?;
    let permit = WorkPermit::for_customer(&mut tx.handle(), ctx, inquiry.customer_id, go_ahead.as_deref()).await?;
    let (quote, job, link, code) = match input.into {
        ConvertInto::Quote => {
            let line = Line::new(inquiry.title.clone(), Quantity::ONE, Money(inquiry.estimated_value), TaxRate(0));
            let quote = insert_quote_in(tx, ctx, owner, &permit, Some(inquiry.id), inquiry.title.clone(), None, vec![line]).await?;
            let code = quote.code().to_string();
            let link = EntityRef::new(EntityType::Quote, quote.id);
            (Some(quote.into_quote()?), None, link, code)
        }
        ConvertInto::Job => {
            let new = NewJob {
                title: inquiry.title.clone(),
                description: inquiry.description.clone(),
                window: None,
                assignees: Vec::new(),
                value: Money(inquiry.estimated_value),
                free_of_charge: false,
                custom_fields: CustomFields::new(),
            };
            let job = insert_job_in(tx, ctx, owner, &permit, Origin { inquiry_id: Some(inquiry.id), quote_id: None }, new).await?;
            let code = job.code().to_string();
            let link = EntityRef::new(EntityType::Job, job.id);
            (None, Some(job.into_job()?.for_reader(ctx.sees_money())), link, code)
        }
    };
    inquiry.status = InquiryStatus::Converted.as_str().into();
    inquiry.converted_to = Some(code.clone());
    inquiry.updated_at = ctx.now().as_microsecond();
    written(q::update_inquiry(&mut tx.handle(), &inquiry, status.as_str()).await?, inquiry.code())?;
    let summary = format!("Inquiry {} converted into {code}", inquiry.code());
    let mut record = inquiry_activity(ctx, ActivityKind::InquiryConverted, &inquiry, summary);
    record.changes = vec![status_change(status, InquiryStatus::Converted)];
    record.detail["converted_to"] = json!(code);
    record.also_links.push(link);
    tx.append(record).await?;
    Ok(Converted { inquiry: inquiry.into_inquiry()?, quote, job })
}

// ---------------------------------------------------------------- quotes

fn quote_activity(ctx: &Ctx, kind: ActivityKind, row: &QuoteRow, summary: String) -> NewActivity {
    let owner = Owner { customer_id: row.customer_id, site_id: row.site_id, contact_id: row.contact_id };
    let record = work_activity(ctx, kind, owner, EntityRef::new(EntityType::Quote, row.id), row.code().to_string(), summary);
    with_detail(record, json!({ "title": row.title, "subtotal": row.subtotal, "tax": row.tax, "total": row.total, "valid_until": row.valid_until }))
}

/// Insert a draft quote and append its QuoteCreated.
#[allow(clippy::too_many_arguments)]
async fn insert_quote_in(
    tx: &mut Tx,
    ctx: &Ctx,
    owner: Owner,
    permit: &WorkPermit,
    inquiry_id: Option<Uuid>,
    title: String,
    valid_until: Option<jiff::civil::Date>,
    lines: Vec<Line>,
) -> Result<QuoteRow> {
    let totals = Totals::of(&lines);
    let h = &mut tx.handle();
    let number = q::reserve_numbers(h, ctx.org.id.0, CodeKind::Quote.counter(), 1).await?;
    let now = ctx.now().as_microsecond();
    let row = QuoteRow {
        org_id: ctx.org.id.0,
        id: QuoteId::new().0,
        number,
        code: ctx.org.code(CodeKind::Quote, number),
        customer_id: owner.customer_id,
        site_id: owner.site_id,
        contact_id: owner.contact_id,
        inquiry_id,
        status: QuoteStatus::Draft.as_str().into(),
        title,
        valid_until: valid_until.map(|d| d.to_string()),
        lines: to_json(&lines)?,
        subtotal: totals.subtotal.0,
        tax: totals.tax.0,
        total: totals.total.0,
        job_id: None,
        created_at: now,
        updated_at: now,
    };
    q::insert_quote(h, &row).await?;
    let summary = String::new(); // rendered from the detail
    let mut record = quote_activity(ctx, ActivityKind::QuoteCreated, &row, summary);
    record.also_links.extend(inquiry_id.map(|id| EntityRef::new(EntityType::Inquiry, id)));
    tx.append(record).await?;
    permit.note(tx, ctx, EntityRef::new(EntityType::Quote, row.id), row.code()).await?;
    Ok(row)
}

pub async fn create_quote(db: &Db, ctx: &Ctx, mut input: QuoteInput) -> Result<Quote> {
    ctx.require(Module::Quotes, Action::Create)?;
    crate::orgs::default_tax(ctx, input.lines.iter_mut().flatten());
    let (parties, new) = input.parse()?;
    let mut tx = db.begin().await?;
    let (owner, permit) = owner_of(&mut tx.handle(), ctx, &parties).await?;
    let row = insert_quote_in(&mut tx, ctx, owner, &permit, None, new.title, new.valid_until, new.lines).await?;
    tx.commit().await?;
    Ok(row.into_quote()?)
}

pub async fn get_quote(db: &Db, ctx: &Ctx, reference: &str) -> Result<Quote> {
    ctx.require(Module::Quotes, Action::View)?;
    let mut conn = db.read().await?;
    Ok(find_quote(&mut conn.handle(), ctx, reference).await?.into_quote()?)
}

/// Change a draft quote's title, validity or lines. A quote sent to the
/// customer is refused with `not_draft` (send a new one instead). The
/// activity records each changed field, old and new; an edit that changes
/// nothing records nothing.
pub async fn edit_quote(db: &Db, ctx: &Ctx, reference: &str, mut edit: QuoteEdit) -> Result<Quote> {
    ctx.require(Module::Quotes, Action::Edit)?;
    crate::orgs::default_tax(ctx, edit.lines.iter_mut().flatten());
    let mut tx = db.begin().await?;
    let h = &mut tx.handle();
    let mut row = find_quote(h, ctx, reference).await?;
    let status = row.status()?;
    if !status.is_editable() {
        return Err(ServiceError::conflict("not_draft", format!("{} is {status}: only a draft can be edited (make a new quote instead)", row.code())));
    }
    let current = QuoteDraft {
        title: row.title.clone(),
        valid_until: row.valid_until.as_deref().map(dossier_store::parse_date).transpose()?,
        lines: serde_json::from_str(&row.lines).map_err(|e| ServiceError::Internal(e.to_string()))?,
        totals: Totals { subtotal: Money(row.subtotal), tax: Money(row.tax), total: Money(row.total) },
    };
    let edited = edit.apply(&current)?;
    let changes = diff(&current, &edited);
    if changes.is_empty() {
        return Ok(row.into_quote()?);
    }
    let read_at = row.updated_at;
    row.title = edited.title;
    row.valid_until = edited.valid_until.map(|d| d.to_string());
    row.lines = to_json(&edited.lines)?;
    (row.subtotal, row.tax, row.total) = (edited.totals.subtotal.0, edited.totals.tax.0, edited.totals.total.0);
    row.updated_at = ctx.now().as_microsecond().max(read_at + 1);
    written(q::update_draft_quote(h, &row, read_at).await?, row.code())?;
    let mut record = quote_activity(ctx, ActivityKind::QuoteEdited, &row, String::new());
    record.detail["previous_total"] = json!(current.totals.total.0);
    record.changes = changes;
    tx.append(record).await?;
    tx.commit().await?;
    Ok(row.into_quote()?)
}

/// Query parameters of the quote list.
#[derive(Clone, Debug, Default, Deserialize, utoipa::IntoParams)]
#[serde(deny_unknown_fields)]
#[into_params(parameter_in = Query)]
pub struct QuoteQuery {
    /// Only this customer's (id or code).
    pub customer: Option<String>,
    pub status: Option<QuoteStatus>,
    /// `true`: only work still going on (inquiries new, contacted or
    /// qualified; quotes draft or sent; jobs to schedule, scheduled or in
    /// progress); `false`: only finished work.
    pub ongoing: Option<bool>,
    pub cursor: Option<String>,
    /// 1–200, default 50.
    #[param(minimum = 1, maximum = 200)]
    pub limit: Option<u32>,
}

/// Quotes newest first, narrowed by customer and status.
pub async fn list_quotes(db: &Db, ctx: &Ctx, query: QuoteQuery) -> Result<Page<Quote>> {
    ctx.require(Module::Quotes, Action::View)?;
    let mut conn = db.read().await?;
    let h = &mut conn.handle();
    let statuses = query.ongoing.map(QuoteStatus::named).unwrap_or_default();
    let filter = ListFilter { status: query.status.map(QuoteStatus::as_str), statuses, ..Default::default() };
    let (rows, limit) = newest_rows::<QuoteRow>(h, ctx, CodeKind::Quote, query.customer.as_deref(), filter, query.cursor.as_deref(), query.limit).await?;
    paginate(rows, limit, |r| r.number.to_string(), |r| Ok(r.into_quote()?))
}

/// The body of "move a quote on".
#[derive(Clone, Debug, Deserialize, utoipa::ToSchema)]
#[serde(deny_unknown_fields)]
pub struct QuoteStatusInput {
    pub status: QuoteStatus,
    /// When accepting: also create the job to schedule, worth the quote's total.
    pub create_job: Option<bool>,
    /// With `create_job` for a blocked customer: why the job is made anyway.
    pub blocked_override: Option<String>,
}

pub async fn move_quote(db: &Db, ctx: &Ctx, reference: &str, input: QuoteStatusInput) -> Result<Quote> {
    ctx.require(Module::Quotes, Action::Edit)?;
    let to = input.status;
    let create_job = input.create_job.unwrap_or(false);
    if create_job {
        ctx.require(Module::Jobs, Action::Create)?;
    }
    if create_job && to != QuoteStatus::Accepted {
        return Err(ValidationErrors::one("create_job", "requires_accepted", "a job is created only when the quote is accepted").into());
    }
    let go_ahead = dossier_domain::works::blocked_override(input.blocked_override)?;
    let mut tx = db.begin().await?;
    let done = move_quote_in(&mut tx, ctx, reference, to, create_job, go_ahead.as_deref()).await?;
    tx.commit().await?;
    Ok(done)
}

/// [`move_quote`] inside a caller's transaction (bulk loads such as the demo),
/// once the caller has checked that it may create a job.
pub async fn move_quote_in(tx: &mut Tx, ctx: &Ctx, reference: &str, to: QuoteStatus, create_job: bool, go_ahead: Option<&str>) -> Result<Quote> {
    let mut row = find_quote(&mut tx.handle(), ctx, reference).await?;
    let from = row.status()?;
    if !from.allows(to) {
        return Err(ServiceError::conflict("illegal_transition", format!("a {from} quote cannot be moved to {to}")));
    }
    let owner = Owner { customer_id: row.customer_id, site_id: row.site_id, contact_id: row.contact_id };
    let job = if create_job {
        let new = NewJob {
            title: row.title.clone(),
            description: None,
            window: None,
            assignees: Vec::new(),
            value: Money(row.total),
            custom_fields: CustomFields::new(),
            free_of_charge: false,
        };
        let permit = WorkPermit::for_customer(&mut tx.handle(), ctx, row.customer_id, go_ahead).await?;
        Some(insert_job_in(tx, ctx, owner, &permit, Origin { inquiry_id: row.inquiry_id, quote_id: Some(row.id) }, new).await?)
    } else {
        None
    };
    row.status = to.as_str().into();
    row.job_id = job.as_ref().map(|j| j.id).or(row.job_id);
    row.updated_at = ctx.now().as_microsecond();
    written(q::update_quote(&mut tx.handle(), &row, from.as_str()).await?, row.code())?;
    let mut summary = format!("Quote {} moved from {} to {}", row.code(), words(from), words(to));
    if let Some(job) = &job {
        summary.push_str(&format!("; job {} created", job.code()));
    }
    let mut record = quote_activity(ctx, ActivityKind::QuoteStatusChanged, &row, summary);
    record.changes = vec![status_change(from, to)];
    if let Some(job) = &job {
        record.detail["job"] = json!(job.code().to_string());
        record.also_links.push(EntityRef::new(EntityType::Job, job.id));
    }
    tx.append(record).await?;
    Ok(row.into_quote()?)
}

// ---------------------------------------------------------------- jobs

/// What a job was made from.
#[derive(Clone, Copy, Debug, Default)]
struct Origin {
    inquiry_id: Option<Uuid>,
    quote_id: Option<Uuid>,
}

fn job_activity(ctx: &Ctx, kind: ActivityKind, row: &JobRow, summary: String) -> Result<NewActivity> {
    let owner = Owner { customer_id: row.customer_id, site_id: row.site_id, contact_id: row.contact_id };
    let record = work_activity(ctx, kind, owner, EntityRef::new(EntityType::Job, row.id), row.code().to_string(), summary);
    let window = row.window()?;
    let detail = json!({
        "title": row.title,
        "status": row.status,
        "value": row.value,
        "free_of_charge": row.free_of_charge,
        "scheduled_start": window.map(|(start, _)| start.to_string()),
        "scheduled_end": window.map(|(_, end)| end.to_string()),
        "assignees": row.assignees()?,
    });
    Ok(with_detail(record, detail))
}

/// Insert a job (scheduled when it has a window, else to schedule) and
/// append its JobCreated.
async fn insert_job_in(tx: &mut Tx, ctx: &Ctx, owner: Owner, permit: &WorkPermit, origin: Origin, new: NewJob) -> Result<JobRow> {
    let h = &mut tx.handle();
    check_assignees(h, ctx, &new.assignees).await?;
    let number = q::reserve_numbers(h, ctx.org.id.0, CodeKind::Job.counter(), 1).await?;
    let now = ctx.now().as_microsecond();
    let status = if new.window.is_some() { JobStatus::Scheduled } else { JobStatus::ToSchedule };
    let row = JobRow {
        org_id: ctx.org.id.0,
        id: JobId::new().0,
        number,
        code: ctx.org.code(CodeKind::Job, number),
        customer_id: owner.customer_id,
        site_id: owner.site_id,
        contact_id: owner.contact_id,
        inquiry_id: origin.inquiry_id,
        quote_id: origin.quote_id,
        status: status.as_str().into(),
        title: new.title,
        description: new.description,
        scheduled_start: new.window.map(|(start, _)| start.as_microsecond()),
        scheduled_end: new.window.map(|(_, end)| end.as_microsecond()),
        assignees: to_json(&new.assignees)?,
        value: new.value.0,
        free_of_charge: new.free_of_charge,
        completion_notes: None,
        completed_at: None,
        created_at: now,
        updated_at: now,
        invoice_id: None,
        custom_fields: to_json(&new.custom_fields)?,
    };
    q::insert_job(h, &row).await?;
    if !new.custom_fields.is_empty() {
        // The words of its text and choice values find its customer.
        let fields = crate::custom_fields::definitions(h, ctx, FieldEntity::Job).await?;
        q::add_search_terms(h, row.org_id, &search_terms::custom(&fields, row.customer_id, row.id, &new.custom_fields)).await?;
    }
    let summary = String::new(); // rendered from the detail
    let mut record = job_activity(ctx, ActivityKind::JobCreated, &row, summary)?;
    record.changes = created(&json!({ "custom_fields": new.custom_fields }));
    record.also_links.extend(origin.inquiry_id.map(|id| EntityRef::new(EntityType::Inquiry, id)));
    record.also_links.extend(origin.quote_id.map(|id| EntityRef::new(EntityType::Quote, id)));
    tx.append(record).await?;
    permit.note(tx, ctx, EntityRef::new(EntityType::Job, row.id), row.code()).await?;
    Ok(row)
}

pub async fn create_job(db: &Db, ctx: &Ctx, input: JobInput) -> Result<Job> {
    ctx.require(Module::Jobs, Action::Create)?;
    let fields = crate::custom_fields::definitions_of(db, ctx, FieldEntity::Job).await?;
    let (parties, new) = input.parse(&fields)?;
    let mut tx = db.begin().await?;
    let done = create_job_in(&mut tx, ctx, parties, new).await?;
    tx.commit().await?;
    Ok(done)
}

/// [`create_job`] inside a caller's transaction (bulk loads such as the demo).
pub async fn create_job_in(tx: &mut Tx, ctx: &Ctx, parties: Parties, new: NewJob) -> Result<Job> {
    let (owner, permit) = owner_of(&mut tx.handle(), ctx, &parties).await?;
    let row = insert_job_in(tx, ctx, owner, &permit, Origin::default(), new).await?;
    Ok(row.into_job()?.for_reader(ctx.sees_money()))
}

/// Change a job's custom field values (each checked against the org's job
/// fields; required ones must keep a value), recording each change.
pub async fn update_job(db: &Db, ctx: &Ctx, reference: &str, patch: JobPatch) -> Result<Job> {
    ctx.require(Module::Jobs, Action::Edit)?;
    let mut tx = db.begin().await?;
    let h = &mut tx.handle();
    let row = find_job(h, ctx, reference).await?;
    let fields = crate::custom_fields::definitions(h, ctx, FieldEntity::Job).await?;
    let current = row.clone().into_job()?.custom_fields;
    let updated = fields.apply(current.clone(), patch.custom_fields.unwrap_or_default())?;
    let changes = diff(&json!({ "custom_fields": current }), &json!({ "custom_fields": updated }));
    if changes.is_empty() {
        return Ok(row.into_job()?.for_reader(ctx.sees_money()));
    }
    let row = JobRow { custom_fields: to_json(&updated)?, updated_at: ctx.now().as_microsecond(), ..row };
    q::update_job_fields(h, &row).await?;
    search_terms::refresh_custom(h, row.org_id, row.customer_id, row.id, &fields, &current, &updated).await?;
    let owner = Owner { customer_id: row.customer_id, site_id: row.site_id, contact_id: row.contact_id };
    let summary = format!("Job {} updated: {}", row.code(), field_list(&changes));
    let mut record = work_activity(ctx, ActivityKind::JobUpdated, owner, EntityRef::new(EntityType::Job, row.id), row.code().to_string(), summary);
    record.changes = changes;
    tx.append(record).await?;
    tx.commit().await?;
    Ok(row.into_job()?.for_reader(ctx.sees_money()))
}

pub async fn get_job(db: &Db, ctx: &Ctx, reference: &str) -> Result<Job> {
    ctx.require(Module::Jobs, Action::View)?;
    let mut conn = db.read().await?;
    Ok(find_job(&mut conn.handle(), ctx, reference).await?.into_job()?.for_reader(ctx.sees_money()))
}

/// Query parameters of the job list.
#[derive(Clone, Debug, Default, Deserialize, utoipa::IntoParams)]
#[serde(deny_unknown_fields)]
#[into_params(parameter_in = Query)]
pub struct JobQuery {
    /// Only this customer's (id or code).
    pub customer: Option<String>,
    pub status: Option<JobStatus>,
    /// Only the jobs this user (id) is assigned to.
    pub assignee: Option<UserId>,
    /// `true`: only work still going on (inquiries new, contacted or
    /// qualified; quotes draft or sent; jobs to schedule, scheduled or in
    /// progress); `false`: only finished work.
    pub ongoing: Option<bool>,
    pub cursor: Option<String>,
    /// 1–200, default 50.
    #[param(minimum = 1, maximum = 200)]
    pub limit: Option<u32>,
}

/// Jobs newest first, narrowed by customer, status and assignee.
pub async fn list_jobs(db: &Db, ctx: &Ctx, query: JobQuery) -> Result<Page<Job>> {
    ctx.require(Module::Jobs, Action::View)?;
    let mut conn = db.read().await?;
    let h = &mut conn.handle();
    let assignee = match (ctx.assigned_only(Module::Jobs), query.assignee) {
        // Someone bounded to their own jobs asking for another's sees none.
        (Some(own), Some(asked)) if asked.0 != own => Some(Uuid::nil()),
        (Some(own), _) => Some(own),
        (None, asked) => asked.map(|u| u.0),
    };
    let statuses = query.ongoing.map(JobStatus::named).unwrap_or_default();
    let filter = ListFilter { status: query.status.map(JobStatus::as_str), statuses, assignee, ..Default::default() };
    let (rows, limit) = newest_rows::<JobRow>(h, ctx, CodeKind::Job, query.customer.as_deref(), filter, query.cursor.as_deref(), query.limit).await?;
    paginate(rows, limit, |r| r.number.to_string(), |r| Ok(r.into_job()?.for_reader(ctx.sees_money())))
}

/// Whom a job can be assigned to: the org's active users, by name.
pub async fn job_assignees(db: &Db, ctx: &Ctx) -> Result<Vec<(UserId, String)>> {
    ctx.require(Module::Jobs, Action::Edit)?;
    crate::users::active_names(db, ctx).await
}

/// A member of staff as a job list names them: among its assignees, and
/// in the list's "assigned to" filter (which offers those still active).
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct JobPerson {
    pub id: UserId,
    pub name: String,
    pub active: bool,
}

/// The org's staff, by name, for reading a list of jobs: who each job's
/// assignees are, and whom the list can be narrowed to.
pub async fn job_people(db: &Db, ctx: &Ctx) -> Result<Vec<JobPerson>> {
    ctx.require(Module::Jobs, Action::View)?;
    Ok(crate::users::all_names(db, ctx).await?.into_iter().map(|(id, name, active)| JobPerson { id, name, active }).collect())
}

/// A fieldworker's day: their scheduled and started jobs, split by when.
#[derive(Clone, Debug, Default, Serialize, utoipa::ToSchema)]
pub struct DayPlan {
    /// Whose window has ended but which are not completed.
    pub overdue: Vec<Job>,
    /// In progress, or whose window is today (in the org's time zone).
    pub today: Vec<Job>,
    /// From tomorrow on.
    pub next: Vec<Job>,
    /// More open jobs than [`MAX_PLANNED`] were assigned; the rest are left out.
    pub more: bool,
}

/// How many open jobs a day plan shows.
pub const MAX_PLANNED: i64 = 200;

/// The caller's open jobs for "My jobs": overdue, today, next.
pub async fn my_jobs(db: &Db, ctx: &Ctx) -> Result<DayPlan> {
    ctx.require(Module::Jobs, Action::View)?;
    let Some(me) = ctx.actor.id else { return Ok(DayPlan::default()) };
    let mut conn = db.read().await?;
    let mut rows = q::open_jobs_of(&mut conn.handle(), ctx.org.id.0, me, MAX_PLANNED + 1).await?;
    let more = rows.len() as i64 > MAX_PLANNED;
    rows.truncate(MAX_PLANNED as usize);
    let (now, today) = (ctx.now(), ctx.today());
    let zone = ctx.org.zone();
    let mut plan = DayPlan { more, ..Default::default() };
    for row in rows {
        let job = row.into_job()?.for_reader(ctx.sees_money());
        let day = job.scheduled_start.map(|start| start.to_zoned(zone.clone()).date());
        let ended = job.scheduled_end.is_some_and(|end| end < now);
        match (ended, job.status, day) {
            (true, _, _) => plan.overdue.push(job),
            (false, JobStatus::InProgress, _) => plan.today.push(job),
            (false, _, Some(day)) if day <= today => plan.today.push(job),
            _ => plan.next.push(job),
        }
    }
    Ok(plan)
}

/// Move a job on: scheduling needs a window (given, or already on the job);
/// completing records when and what was done; given assignees replace the
/// job's.
pub async fn move_job(db: &Db, ctx: &Ctx, reference: &str, input: JobStatusInput) -> Result<Job> {
    let access = ctx.require(Module::Jobs, Action::Edit)?;
    let change = input.parse()?;
    if access == Access::Assigned && change.assignees.is_some() {
        // Fieldworkers move their own jobs on; who does a job is the office's call.
        return Err(ServiceError::Forbidden { module: Module::Jobs.as_str(), action: "assign" });
    }
    let mut tx = db.begin().await?;
    let done = move_job_in(&mut tx, ctx, reference, change).await?;
    tx.commit().await?;
    Ok(done)
}

/// [`move_job`] inside a caller's transaction (bulk loads such as the demo).
pub async fn move_job_in(tx: &mut Tx, ctx: &Ctx, reference: &str, change: JobMove) -> Result<Job> {
    let h = &mut tx.handle();
    let mut row = find_job(h, ctx, reference).await?;
    let from = row.status()?;
    let to = change.status;
    if !from.allows(to) {
        return Err(ServiceError::conflict("illegal_transition", format!("a {} job cannot be moved to {}", words(from), words(to))));
    }
    let window = change.window.or(row.window()?);
    if to == JobStatus::Scheduled && window.is_none() {
        return Err(ValidationErrors::one("scheduled_start", "required", "a window (scheduled_start and scheduled_end) is needed to schedule a job").into());
    }
    let mut changes = vec![status_change(from, to)];
    if let Some((start, end)) = change.window {
        let old = row.window()?;
        if old != change.window {
            changes.push(FieldChange { field: "scheduled".into(), old: window_json(old), new: window_json(change.window) });
        }
        row.scheduled_start = Some(start.as_microsecond());
        row.scheduled_end = Some(end.as_microsecond());
    }
    let mut assignees_changed = false;
    if let Some(assignees) = &change.assignees {
        check_assignees(h, ctx, assignees).await?;
        let old = row.assignees()?;
        if &old != assignees {
            changes.push(FieldChange { field: "assignees".into(), old: json!(old), new: json!(assignees) });
            assignees_changed = true;
        }
        row.assignees = to_json(assignees)?;
    }
    let now = ctx.now();
    if to == JobStatus::Completed {
        row.completed_at = Some(now.as_microsecond());
        row.completion_notes = change.notes.clone();
    }
    row.status = to.as_str().into();
    row.updated_at = now.as_microsecond();
    written(q::update_job(h, &row, from.as_str(), assignees_changed).await?, row.code())?;
    let mut summary = format!("Job {} moved from {} to {}", row.code(), words(from), words(to));
    if let Some(notes) = &change.notes {
        summary.push_str(&format!(": {notes}"));
    }
    let mut record = job_activity(ctx, ActivityKind::JobStatusChanged, &row, summary)?;
    record.changes = changes;
    record.detail["notes"] = json!(change.notes);
    tx.append(record).await?;
    Ok(row.into_job()?.for_reader(ctx.sees_money()))
}

fn window_json(window: Option<(jiff::Timestamp, jiff::Timestamp)>) -> Value {
    window.map_or(Value::Null, |(start, end)| json!({ "start": start.to_string(), "end": end.to_string() }))
}

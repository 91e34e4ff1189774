//! The emails Dossier writes on its own, acting as the `system` actor:
//! the invoice when it is issued, a receipt when a payment is recorded,
//! payment reminders in levels, and monthly statements. Each is switched
//! on and tuned in the org's automations.
//!
//! **Once per occurrence.** The write that causes a send (issuing, a
//! payment, the daily run) queues an [`TaskKind::AutomatedEmail`] task
//! keyed by its occurrence (`invoice:<id>`, `receipt:<id>`,
//! `reminder:<id>:<level>`, `statement:<customer>:<month>`); the task
//! writes the email and records the occurrence in `automated_send` in one
//! transaction, so a retry, a second worker or a second daily run never
//! writes a second email for it.
//!
//! **What decides.** The email goes to the invoice's contact, else the
//! billing contact (else the primary contact, else the customer) with the org's template for its
//! purpose. It is *skipped*, with the reason kept, when the customer opted
//! out of billing email, has no address, is deactivated, when the org has
//! no mail server, or — a reminder — when the invoice was settled
//! meanwhile (`message.not_sent` on the customer's timeline, for staff,
//! says which and why). It is *held* (`message.held`, with the reason) for a
//! customer who is dormant or blocked or has paused automated messages;
//! [`release_in`] queues it when that ends (or cancels a reminder whose
//! invoice was settled meanwhile): when staff change the customer, and in
//! each daily run for pauses that ended by date. Staff may also cancel a
//! held email, or send it at once (`resend`).
//!
//! **The daily run** ([`run_daily`], each morning per org) releases held
//! emails whose pause ended, queues the reminder level each overdue invoice
//! has reached, and on the org's statement day (or the first run after
//! it) queues a statement for every customer with an open balance, once a
//! month. It pages through them, one short
//! transaction per page.

use dossier_domain::activity::{ActivityKind, EntityRef, EntityType, Visibility};
use dossier_domain::consent::{self, Permitted};
use dossier_domain::contact_point::Email;
use dossier_domain::customer::CustomerStatus;
use dossier_domain::ids::{ContactId, CustomerId};
use dossier_domain::message::{Channel, DeliveryStatus, Message, RecordRef, RecordType};
use dossier_domain::sending::email::{AttachmentInput, DocumentKind};
use dossier_domain::tasks::TaskKind;
use dossier_domain::templates::TemplatePurpose;
use dossier_domain::workflow::InvoiceStatus;
use dossier_store::queries as q;
use dossier_store::{AutomatedSendRow, CustomerRow, Db, Handle, Tx};
use jiff::civil::Date;
use serde::{Deserialize, Serialize};
use serde_json::json;
use uuid::Uuid;

use crate::automation::daily;
use crate::automation::tasks::{Claimed, NewTask, SYSTEM_NAME, enqueue_in};
use crate::conversations::delivery::move_in;
use crate::record::activity;
use crate::sending::email::{Outbox, Outgoing, check_attachments, enqueue_send_in, queue_in};
use crate::sending::templates::{FillFor, data_for, render_in};
use crate::{Ctx, Result, customers};

/// Rows handled per transaction of a daily run.
pub const PAGE: i64 = 100;

/// Something that calls for an automated email, once.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Serialize, Deserialize)]
#[serde(tag = "occasion", rename_all = "snake_case")]
pub enum Occurrence {
    /// An invoice was issued: email it, its PDF attached.
    InvoiceIssued { invoice: Uuid },
    /// A payment was recorded: email a receipt.
    PaymentRecorded { payment: Uuid },
    /// An invoice reached reminder level `level` (1 to 3) past its due date.
    Reminder { invoice: Uuid, level: u8 },
    /// A customer's statement for a month, its PDF attached.
    Statement { customer: Uuid, year: i16, month: i8 },
}

impl Occurrence {
    /// The key it is done once under.
    pub fn key(self) -> String {
        match self {
            Occurrence::InvoiceIssued { invoice } => format!("invoice:{invoice}"),
            Occurrence::PaymentRecorded { payment } => format!("receipt:{payment}"),
            Occurrence::Reminder { invoice, level } => format!("reminder:{invoice}:{level}"),
            Occurrence::Statement { customer, year, month } => format!("statement:{customer}:{year:04}-{month:02}"),
        }
    }

    pub fn purpose(self) -> TemplatePurpose {
        match self {
            Occurrence::InvoiceIssued { .. } => TemplatePurpose::Invoice,
            Occurrence::PaymentRecorded { .. } => TemplatePurpose::PaymentReceipt,
            Occurrence::Reminder { level, .. } => TemplatePurpose::payment_reminder(usize::from(level)),
            Occurrence::Statement { .. } => TemplatePurpose::Statement,
        }
    }

    /// Whether the org's automations have it switched on.
    fn switched_on(self, automations: &dossier_domain::automations::Automations) -> bool {
        match self {
            Occurrence::InvoiceIssued { .. } => automations.invoice_email,
            Occurrence::PaymentRecorded { .. } => automations.payment_receipt,
            Occurrence::Reminder { .. } => automations.payment_reminders,
            Occurrence::Statement { .. } => automations.statements,
        }
    }
}

/// Queue the automated email `occurrence` calls for, in the caller's
/// transaction, if the org has it switched on (and it was not queued
/// before).
pub(crate) async fn schedule_in(tx: &mut Tx, ctx: &Ctx, occurrence: Occurrence) -> Result<()> {
    let automations = crate::automation::settings::load(&mut tx.handle(), ctx.org.id.0).await?;
    if !occurrence.switched_on(&automations) {
        return Ok(());
    }
    let task = NewTask {
        kind: TaskKind::AutomatedEmail,
        payload: json!(occurrence),
        run_at: ctx.now(),
        dedupe_key: Some(format!("auto:{}", occurrence.key())),
        max_attempts: None,
    };
    enqueue_in(tx, ctx, task).await?;
    Ok(())
}

/// What became of an occurrence.
#[derive(Clone, Debug, PartialEq, Eq)]
pub enum Outcome {
    Queued(Box<Message>),
    Held(Box<Message>, String),
    Skipped(String),
    /// It was acted on before (or switched off since it was queued).
    Nothing,
}

/// The task: write the email an occurrence calls for.
pub(crate) async fn run(db: &Db, outbox: &Outbox, task: &Claimed) -> Result<Outcome> {
    let occurrence: Occurrence = serde_json::from_value(task.task.payload.clone())
        .map_err(|e| crate::ServiceError::Internal(format!("an automated email task names no occurrence: {e}")))?;
    let org = crate::orgs::load(&mut db.read().await?.handle(), task.org_id.0).await?;
    let ctx = Ctx::system(org, SYSTEM_NAME);
    write(db, &ctx, outbox, occurrence).await
}

/// What an occurrence is about.
struct About {
    customer: Uuid,
    record: Option<RecordRef>,
    /// The contact the record names (an invoice's contact), if any.
    contact: Option<Uuid>,
    /// Why there is nothing to send any more (a reminder of an invoice settled meanwhile).
    settled: Option<String>,
}

async fn about(h: &mut Handle<'_>, ctx: &Ctx, occurrence: Occurrence) -> Result<About> {
    let of_invoice = |row: &dossier_store::InvoiceRow, settled: Option<String>| About {
        customer: row.customer_id,
        record: Some(RecordRef { kind: RecordType::Invoice, id: row.id, code: Some(row.code().to_owned()) }),
        contact: row.contact_id,
        settled,
    };
    Ok(match occurrence {
        Occurrence::InvoiceIssued { invoice } => of_invoice(&crate::money::billing::find_invoice(h, ctx, &invoice.to_string()).await?, None),
        Occurrence::Reminder { invoice, .. } => {
            let row = crate::money::billing::find_invoice(h, ctx, &invoice.to_string()).await?;
            let settled =
                (row.status()? != InvoiceStatus::Open || row.balance().0 <= 0).then(|| format!("{} was settled before the reminder went", row.code()));
            of_invoice(&row, settled)
        }
        Occurrence::PaymentRecorded { payment } => {
            let row = crate::money::billing::find_payment(h, ctx, &payment.to_string()).await?;
            let record = RecordRef { kind: RecordType::Payment, id: row.id, code: Some(row.code().to_owned()) };
            About { customer: row.customer_id, record: Some(record), contact: None, settled: None }
        }
        Occurrence::Statement { customer, .. } => About { customer, record: None, contact: None, settled: None },
    })
}

/// Whom an automated email goes to: the contact the record names (an
/// invoice's), else the billing contact, else the primary contact, else
/// any contact with an address (each its first address), else the
/// customer's own address.
async fn recipient(h: &mut Handle<'_>, ctx: &Ctx, customer: &CustomerRow, named: Option<Uuid>) -> Result<Option<(Email, Option<ContactId>)>> {
    let own = customer.profile()?.email;
    let contacts: Vec<_> =
        q::list_contacts(h, ctx.org.id.0, customer.id).await?.into_iter().map(|r| r.into_contact()).collect::<std::result::Result<_, _>>()?;
    let with_email: Vec<_> = contacts.iter().filter(|c| !c.profile.emails.is_empty()).collect();
    let chosen = with_email
        .iter()
        .find(|c| Some(c.id.0) == named)
        .or_else(|| with_email.iter().find(|c| c.profile.is_billing))
        .or_else(|| with_email.iter().find(|c| c.profile.is_primary))
        .or_else(|| with_email.first());
    Ok(match (chosen, own) {
        (Some(c), _) => Some((c.profile.emails[0].address.clone(), Some(c.id))),
        (None, Some(own)) => Some((own, None)),
        (None, None) => None,
    })
}

/// Write the email for `occurrence` (queued or held), or record why not.
pub async fn write(db: &Db, ctx: &Ctx, outbox: &Outbox, occurrence: Occurrence) -> Result<Outcome> {
    let purpose = occurrence.purpose();
    // What the template reads, gathered before the writing transaction.
    let (customer_id, record, contact) = {
        let mut reader = db.read().await?;
        let h = &mut reader.handle();
        if !occurrence.switched_on(&crate::automation::settings::load(h, ctx.org.id.0).await?) {
            return Ok(Outcome::Nothing);
        }
        let about = about(h, ctx, occurrence).await?;
        if let Some(why) = about.settled {
            return skip(db, ctx, occurrence, about.customer, why).await;
        }
        let customer = customers::find(h, ctx, &about.customer.to_string()).await?;
        (about.customer, about.record, recipient(h, ctx, &customer, about.contact).await?)
    };
    let fill = FillFor {
        customer: Some(customer_id.to_string()),
        contact_id: contact.as_ref().and_then(|(_, c)| c.map(|c| c.0.to_string())),
        record: record.as_ref().map(|r| r.id.to_string()),
    };
    let data = data_for(db, ctx, purpose, &fill).await?;

    let mut tx = db.begin().await?;
    let h = &mut tx.handle();
    let customer = customers::find(h, ctx, &customer_id.to_string()).await?;
    let profile = customer.profile()?;
    let recipients = [contact.as_ref().and_then(|(_, c)| *c)];
    let permission =
        crate::sending::email::consent_for(h, ctx, customer_id, &profile.communication, &recipients, Channel::Email, purpose.consent_purpose()).await?;
    let server = crate::sending::smtp::server_for(h, ctx.org.id.0, outbox.configured.as_ref()).await?;
    let why_not = match (&contact, &server) {
        _ if customer.deleted_at.is_some() => Some(format!("{} is deleted", customer.code())),
        _ if customer.status()? == CustomerStatus::Deactivated => Some(format!("{} is deactivated", customer.code())),
        _ if !permission.allowed => Some(permission.reason.clone()),
        (None, _) => Some(format!("{} has no email address", customer.code())),
        (_, None) => Some("no outgoing mail server is set".to_owned()),
        _ => None,
    };
    let (Some((to, contact_id)), Some(server), None) = (contact, server, why_not.clone()) else {
        drop(tx);
        return skip(db, ctx, occurrence, customer_id, why_not.unwrap_or_default()).await;
    };
    let rendered = render_in(h, ctx, purpose, &data).await?;
    let documents: Vec<AttachmentInput> = match occurrence {
        Occurrence::InvoiceIssued { .. } | Occurrence::Reminder { .. } => {
            vec![AttachmentInput::Document { document: DocumentKind::Invoice, record: record.as_ref().map(|r| r.id.to_string()) }]
        }
        Occurrence::Statement { .. } => vec![AttachmentInput::Document { document: DocumentKind::Statement, record: None }],
        Occurrence::PaymentRecorded { .. } => Vec::new(),
    };
    let attachments = check_attachments(h, ctx, customer_id, customer.code(), &documents).await?;
    let held = consent::hold_reason(customer.status()?, profile.auto_comms_paused, profile.auto_comms_paused_until, ctx.today());
    let out = Outgoing {
        customer: CustomerId(customer_id),
        contact_id,
        record,
        to: vec![to],
        cc: Vec::new(),
        subject: rendered.subject,
        body: rendered.body,
        purpose: purpose.consent_purpose(),
        attachments,
        permitted: Permitted { consent: permission, overridden: None },
        in_reply_to: None,
        held: held.clone(),
    };
    let message = queue_in(&mut tx, ctx, &server, out).await?;
    let outcome = if held.is_some() { "held" } else { "queued" };
    if !record_in(&mut tx, ctx, occurrence, customer_id, Some(message.id.0), outcome, held.clone()).await? {
        return Ok(Outcome::Nothing); // written before: this transaction is dropped
    }
    tx.commit().await?;
    Ok(match held {
        Some(why) => Outcome::Held(Box::new(message), why),
        None => Outcome::Queued(Box::new(message)),
    })
}

/// Record that an occurrence sent nothing, and why: in `automated_send`
/// and, for staff, on the customer's timeline (`message.not_sent`).
async fn skip(db: &Db, ctx: &Ctx, occurrence: Occurrence, customer: Uuid, why: String) -> Result<Outcome> {
    let mut tx = db.begin().await?;
    let written = record_in(&mut tx, ctx, occurrence, customer, None, "skipped", Some(why.clone())).await?;
    if !written {
        return Ok(Outcome::Nothing);
    }
    let row = customers::find(&mut tx.handle(), ctx, &customer.to_string()).await?;
    // A read-only customer's history may not change: the reason stays in
    // `automated_send` only.
    if !row.read_only()? {
        let label = occurrence.purpose().label();
        let summary = format!("{label} email not sent: {why}");
        let subject = EntityRef::new(EntityType::Customer, customer);
        let mut entry = activity(ctx, ActivityKind::MessageNotSent, Some(CustomerId(customer)), subject, Some(row.code().to_owned()), summary, Vec::new());
        entry.visibility = Visibility::Internal;
        entry.detail = json!({ "purpose": occurrence.purpose(), "reason": why, "occurrence": occurrence.key() });
        tx.append(entry).await?;
    }
    tx.commit().await?;
    tracing::info!(org = %ctx.org.id, key = %occurrence.key(), reason = %why, "an automated email was not sent");
    Ok(Outcome::Skipped(why))
}

async fn record_in(
    tx: &mut Tx,
    ctx: &Ctx,
    occurrence: Occurrence,
    customer: Uuid,
    message: Option<Uuid>,
    outcome: &str,
    reason: Option<String>,
) -> Result<bool> {
    let record_id = match occurrence {
        Occurrence::InvoiceIssued { invoice } | Occurrence::Reminder { invoice, .. } => Some(invoice),
        Occurrence::PaymentRecorded { payment } => Some(payment),
        Occurrence::Statement { .. } => None,
    };
    let row = AutomatedSendRow {
        org_id: ctx.org.id.0,
        key: occurrence.key(),
        purpose: occurrence.purpose().as_str().to_owned(),
        customer_id: Some(customer),
        record_id,
        message_id: message,
        outcome: outcome.to_owned(),
        reason,
        created_at: ctx.now().as_microsecond(),
    };
    Ok(q::insert_automated_send(&mut tx.handle(), &row).await?)
}

// ---------------------------------------------------------------- held emails

/// Queue a customer's held emails if nothing holds them any more (the
/// customer is active and not paused on `today`); a reminder whose invoice
/// was settled meanwhile is cancelled instead. Returns how many were
/// released or cancelled. Runs in the caller's transaction: the customer
/// change that ends a hold releases its emails with it.
pub(crate) async fn release_in(tx: &mut Tx, ctx: &Ctx, customer: CustomerId, today: Date) -> Result<usize> {
    let h = &mut tx.handle();
    let held = q::held_messages(h, ctx.org.id.0, customer.0).await?;
    if held.is_empty() {
        return Ok(0);
    }
    let row = customers::find(h, ctx, &customer.0.to_string()).await?;
    let profile = row.profile()?;
    if consent::hold_reason(row.status()?, profile.auto_comms_paused, profile.auto_comms_paused_until, today).is_some() {
        return Ok(0);
    }
    let system = Ctx::system(ctx.org.clone(), SYSTEM_NAME);
    let mut moved = 0;
    for message in held {
        let message = message.into_message()?;
        if let Some(why) = settled_since(tx, &system, &message).await? {
            move_in(tx, &system, &message, DeliveryStatus::Cancelled, Some(&why)).await?;
        } else if let Some(queued) = move_in(tx, &system, &message, DeliveryStatus::Queued, Some("released: nothing holds it any more")).await? {
            enqueue_send_in(tx, &system, &queued, None).await?;
        }
        moved += 1;
    }
    Ok(moved)
}

/// Why a held reminder need not go any more: its invoice was settled.
async fn settled_since(tx: &mut Tx, ctx: &Ctx, message: &Message) -> Result<Option<String>> {
    let h = &mut tx.handle();
    let Some(sent) = q::automated_send_of_message(h, ctx.org.id.0, message.id.0).await? else { return Ok(None) };
    let reminder =
        [TemplatePurpose::PaymentReminder1, TemplatePurpose::PaymentReminder2, TemplatePurpose::PaymentReminder3].iter().any(|p| p.as_str() == sent.purpose);
    let (true, Some(invoice)) = (reminder, sent.record_id) else { return Ok(None) };
    let row = crate::money::billing::find_invoice(h, ctx, &invoice.to_string()).await?;
    Ok((row.status()? != InvoiceStatus::Open || row.balance().0 <= 0).then(|| format!("{} was settled while the reminder was held", row.code())))
}

// ---------------------------------------------------------------- the daily run

/// What a daily run did.
#[derive(Clone, Debug, Default, PartialEq, Eq)]
pub struct DailyReport {
    pub released: usize,
    pub reminders: usize,
    pub statements: usize,
}

/// The daily run for its day: release held emails whose pause ended,
/// queue the reminder level each overdue invoice has reached, and on the
/// statement day queue each owing customer's statement.
pub(crate) async fn run_daily(db: &Db, task: &Claimed) -> Result<DailyReport> {
    let org = crate::orgs::load(&mut db.read().await?.handle(), task.org_id.0).await?;
    let ctx = Ctx::system(org, SYSTEM_NAME);
    let day = daily::day_of(&task.task.payload, ctx.today());
    daily_run(db, &ctx, day).await
}

/// The daily run of `ctx`'s org as of `day` (what the worker's daily task
/// does; tests move the clock with it).
pub async fn daily_run(db: &Db, ctx: &Ctx, day: Date) -> Result<DailyReport> {
    let ctx = &Ctx::system(ctx.org.clone(), SYSTEM_NAME);
    let mut report = DailyReport { released: release_ended(db, ctx, day).await?, ..Default::default() };
    let automations = crate::automation::settings::load(&mut db.read().await?.handle(), ctx.org.id.0).await?;
    if automations.payment_reminders {
        report.reminders = queue_reminders(db, ctx, day, &automations.reminder_days).await?;
    }
    if automations.statements && day.day() >= automations.statement_day as i8 {
        report.statements = queue_statements(db, ctx, day).await?;
    }
    if report != DailyReport::default() {
        tracing::info!(org = %ctx.org.id, %day, ?report, "daily sends");
    }
    Ok(report)
}

async fn release_ended(db: &Db, ctx: &Ctx, day: Date) -> Result<usize> {
    let (mut after, mut released) = (Uuid::nil(), 0);
    loop {
        let customers = q::customers_with_held(&mut db.read().await?.handle(), ctx.org.id.0, after, PAGE).await?;
        let mut tx = db.begin().await?;
        for customer in &customers {
            released += release_in(&mut tx, ctx, CustomerId(*customer), day).await?;
        }
        tx.commit().await?;
        match customers.last() {
            Some(last) if customers.len() as i64 == PAGE => after = *last,
            _ => return Ok(released),
        }
    }
}

/// The reminder level an invoice `overdue` days past due has reached (1-based).
pub fn level_reached(reminder_days: &[u16], overdue: i64) -> Option<u8> {
    reminder_days.iter().rposition(|d| i64::from(*d) <= overdue).map(|i| i as u8 + 1)
}

async fn queue_reminders(db: &Db, ctx: &Ctx, day: Date, reminder_days: &[u16]) -> Result<usize> {
    let Some(first) = reminder_days.first() else { return Ok(0) };
    let due_by = day.checked_sub(jiff::Span::new().days(i64::from(*first))).unwrap_or(day).to_string();
    let (mut after, mut queued) = (0, 0);
    loop {
        let invoices = q::overdue_invoices(&mut db.read().await?.handle(), ctx.org.id.0, &due_by, after, PAGE).await?;
        let mut tx = db.begin().await?;
        for invoice in &invoices {
            let due: Date = dossier_store::parse_date(&invoice.due_date)?;
            let overdue = (day - due).get_days().into();
            if let Some(level) = level_reached(reminder_days, overdue) {
                schedule_in(&mut tx, ctx, Occurrence::Reminder { invoice: invoice.id, level }).await?;
                queued += 1;
            }
        }
        tx.commit().await?;
        match invoices.last() {
            Some(last) if invoices.len() as i64 == PAGE => after = last.number,
            _ => return Ok(queued),
        }
    }
}

/// Queue the month's statements, once: on the statement day, or on the
/// first daily run after it if no run happened that day. A mark
/// (`statements:<year-month>`, written after the last page) says the
/// month's are queued; a run stopped half-way is finished by the next
/// one (each customer's statement is keyed by month, so none goes twice).
async fn queue_statements(db: &Db, ctx: &Ctx, day: Date) -> Result<usize> {
    let mark = format!("statements:{:04}-{:02}", day.year(), day.month());
    if q::automated_send_done(&mut db.read().await?.handle(), ctx.org.id.0, &mark).await? {
        return Ok(0);
    }
    let (mut after, mut queued) = (Uuid::nil(), 0);
    loop {
        let owing = q::customers_owing(&mut db.read().await?.handle(), ctx.org.id.0, after, PAGE).await?;
        let mut tx = db.begin().await?;
        for customer in &owing {
            schedule_in(&mut tx, ctx, Occurrence::Statement { customer: *customer, year: day.year(), month: day.month() }).await?;
            queued += 1;
        }
        let last_page = (owing.len() as i64) < PAGE;
        if last_page {
            let row = AutomatedSendRow {
                org_id: ctx.org.id.0,
                key: mark.clone(),
                purpose: TemplatePurpose::Statement.as_str().to_owned(),
                customer_id: None,
                record_id: None,
                message_id: None,
                outcome: "queued".to_owned(),
                reason: Some(format!("the statements of {day} queued")),
                created_at: ctx.now().as_microsecond(),
            };
            q::insert_automated_send(&mut tx.handle(), &row).await?;
        }
        tx.commit().await?;
        match owing.last() {
            Some(last) if !last_page => after = *last,
            _ => return Ok(queued),
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn an_invoice_reaches_the_last_level_its_days_past_due_allow() {
        let days = [7, 14, 30];
        assert_eq!(level_reached(&days, 6), None);
        assert_eq!(level_reached(&days, 7), Some(1));
        assert_eq!(level_reached(&days, 29), Some(2));
        assert_eq!(level_reached(&days, 400), Some(3));
    }

    #[test]
    fn each_occurrence_has_its_own_key() {
        let id = Uuid::nil();
        assert_eq!(Occurrence::Reminder { invoice: id, level: 2 }.key(), format!("reminder:{id}:2"));
        assert_eq!(Occurrence::Statement { customer: id, year: 2026, month: 3 }.key(), format!("statement:{id}:2026-03"));
        assert_eq!(Occurrence::Reminder { invoice: id, level: 3 }.purpose(), TemplatePurpose::PaymentReminder3);
    }
}

//! Emailing a customer: compose (checked against the customer's addresses,
//! its preferences and what may leave Dossier), confirm (a dry run shows
//! the email and what allowed it), queue (the message, its activity, its
//! attachments and the send task in one transaction), and the send task
//! itself, which hands the email to the org's mail server.
//!
//! Nothing internal leaves: an internal file is refused as an attachment,
//! and a reply to an internal message is refused. The Message-ID is fixed
//! when the email is queued, so an email sent again after a crash is
//! recognisably the same email.

use dossier_domain::ValidationErrors;
use dossier_domain::activity::Visibility;
use dossier_domain::consent::{self, Consent, Purpose};
use dossier_domain::contact_point::Email;
use dossier_domain::ids::{ContactId, CustomerId, MessageId};
use dossier_domain::message::{Channel, Delivery, DeliveryStatus, Direction, Message, Recipients, RecordRef, RecordType};
use dossier_domain::permissions::{Access, Action, Module};
use dossier_domain::sending::email::{AttachmentInput, DocumentKind, EmailInput, MailServer};
use dossier_store::queries as q;
use dossier_store::{Db, EmailAttachmentRow, Handle, MessageRow, Tx};
use lettre::message::header::ContentType;
use lettre::message::{Attachment, Mailbox, MultiPart, SinglePart};
use serde::Serialize;
use serde_json::{Value, json};
use uuid::Uuid;

use crate::conversations::delivery::move_in;
use crate::conversations::messages::{contact_of, find as find_message, message_activity, resolve_record};
use crate::files::Files;
use crate::sending::smtp::{self, SendFailure};
use crate::tasks::{Claimed, NewTask, TaskKind, enqueue_in};
use crate::{Ctx, Result, ServiceError, customers};

/// One attachment as the preview shows it.
#[derive(Clone, Debug, PartialEq, Eq, Serialize, utoipa::ToSchema)]
pub struct AttachmentPreview {
    pub name: String,
    /// Bytes; for a document made when the email is sent, its size if it were made now.
    pub size: Option<u64>,
}

/// What a dry run shows: the email as it would leave, and what allowed it.
#[derive(Clone, Debug, PartialEq, Eq, Serialize, utoipa::ToSchema)]
pub struct EmailPreview {
    /// `Name <address>` of the org's mail server settings.
    pub from: String,
    pub to: Vec<String>,
    pub cc: Vec<String>,
    pub subject: String,
    pub body: String,
    pub purpose: Purpose,
    pub attachments: Vec<AttachmentPreview>,
    /// What the customer's preference says about this email.
    pub consent: Consent,
    /// The reason given to send against the preference.
    pub override_reason: Option<String>,
}

/// What composing did: queued the email, or (a dry run) only showed it.
#[derive(Clone, Debug)]
pub enum EmailOutcome {
    Queued(Box<Message>),
    Preview(Box<EmailPreview>),
}

/// An attachment, checked: what is stored with the email.
#[derive(Clone, Debug)]
pub(crate) struct Checked {
    name: String,
    size: Option<u64>,
    file: Option<Uuid>,
    document: Option<DocumentKind>,
    record: Option<Uuid>,
}

fn refuse(field: impl Into<String>, code: &'static str, message: impl Into<String>) -> ServiceError {
    ValidationErrors::one(field, code, message).into()
}

/// The customer's addresses and its contacts', with the contact each belongs to.
pub(crate) async fn addresses_of(h: &mut Handle<'_>, ctx: &Ctx, customer: Uuid, own: Option<Email>) -> Result<Vec<(Email, Option<ContactId>)>> {
    let mut all: Vec<(Email, Option<ContactId>)> = own.into_iter().map(|e| (e, None)).collect();
    for row in q::list_contacts(h, ctx.org.id.0, customer).await? {
        let contact = row.into_contact()?;
        all.extend(contact.profile.emails.into_iter().map(|e| (e.address, Some(contact.id))));
    }
    Ok(all)
}

/// What the preferences say about a send to `recipients` (each a contact
/// of the customer, or the customer itself): the customer's preference and
/// each contact's own ([`consent::consent_to`]).
pub(crate) async fn consent_for(
    h: &mut Handle<'_>,
    ctx: &Ctx,
    customer: Uuid,
    prefs: &dossier_domain::customer::CommunicationPreferences,
    recipients: &[Option<ContactId>],
    channel: Channel,
    purpose: Purpose,
) -> Result<Consent> {
    let mut contacts = Vec::new();
    if recipients.iter().any(Option::is_some) {
        for row in q::list_contacts(h, ctx.org.id.0, customer).await? {
            let contact = row.into_contact()?;
            if recipients.contains(&Some(contact.id)) {
                contacts.push((contact.display_name, contact.profile.communication));
            }
        }
    }
    let mut named: Vec<consent::Recipient<'_>> = contacts.iter().map(|(name, own)| Some((name.as_str(), own.as_ref()))).collect();
    if recipients.contains(&None) {
        named.push(None);
    }
    Ok(consent::consent_to(prefs, &named, channel, purpose))
}

/// Check every attachment: a customer-visible, undeleted file of this
/// customer, or an invoice or quote of this customer the caller may see,
/// or the customer's statement.
pub(crate) async fn check_attachments(h: &mut Handle<'_>, ctx: &Ctx, customer: Uuid, customer_code: &str, list: &[AttachmentInput]) -> Result<Vec<Checked>> {
    let mut checked = Vec::new();
    for (i, a) in list.iter().enumerate() {
        let field = format!("attachments[{i}]");
        match a {
            AttachmentInput::File { file } => {
                let not_found = || refuse(format!("{field}.file"), "not_found", "is not a file of this customer");
                let id = Uuid::parse_str(file).map_err(|_| not_found())?;
                let row = q::get_file(h, ctx.org.id.0, id).await?.ok_or_else(not_found)?;
                let stored = row.into_file()?;
                if stored.customer_id.0 != customer || stored.deleted.is_some() {
                    return Err(not_found());
                }
                if stored.visibility != Visibility::Customer {
                    return Err(refuse(
                        format!("{field}.file"),
                        "internal_attachment",
                        format!("{} is internal (staff only) and is never sent to a customer", stored.name),
                    ));
                }
                checked.push(Checked { name: stored.name, size: Some(stored.size), file: Some(stored.id.0), document: None, record: None });
            }
            AttachmentInput::Document { document, record } => {
                let (name, id) = match (document, record) {
                    (DocumentKind::Statement, _) => {
                        ctx.require(Module::Statements, Action::Export)?;
                        (format!("Statement {customer_code}.pdf"), None)
                    }
                    (kind, Some(reference)) => {
                        let record_type = if *kind == DocumentKind::Invoice { RecordType::Invoice } else { RecordType::Quote };
                        let found = resolve_record(h, ctx, customer, record_type, reference)
                            .await
                            .map_err(|_| refuse(format!("{field}.record"), "not_found", format!("is not a {kind} of this customer")))?;
                        (format!("{}.pdf", found.code.clone().unwrap_or_else(|| kind.as_str().to_owned())), Some(found.id))
                    }
                    (kind, None) => return Err(refuse(format!("{field}.record"), "required", format!("names the {kind}"))),
                };
                checked.push(Checked { name, size: None, file: None, document: Some(*document), record: id });
            }
        }
    }
    Ok(checked)
}

/// Compose an email to a customer: checked, then shown (`dry_run`) or
/// queued. Refused: an address that is not the customer's or a contact's
/// (`not_a_contact_address`), an internal file (`internal_attachment`), a
/// reply to an internal message (`internal_message`), a purpose the
/// customer opted out of by email without an override reason
/// (`opted_out`), and anything for a deactivated customer.
pub async fn compose(db: &Db, ctx: &Ctx, configured: Option<&MailServer>, customer: &str, input: EmailInput) -> Result<EmailOutcome> {
    let access = ctx.require(Module::Messages, Action::Create)?;
    if access == Access::Assigned {
        // A fieldworker's messages are notes on their jobs; email leaves from the office.
        return Err(ServiceError::Forbidden { module: "messages", action: "email customers" });
    }
    let draft = input.parse();
    let mut tx = db.begin().await?;
    let h = &mut tx.handle();
    let row = customers::find(h, ctx, customer).await?;
    let draft = draft?;
    let customer_id = row.id;
    let profile = row.profile()?;
    if row.status()? == dossier_domain::customer::CustomerStatus::Deactivated {
        let refusal = dossier_domain::customer::WorkRefused::Deactivated;
        return Err(ServiceError::conflict(refusal.code(), refusal.message(row.code())));
    }
    let server = smtp::server_for(h, ctx.org.id.0, configured)
        .await?
        .ok_or_else(|| ServiceError::conflict("no_mail_server", "no outgoing mail server is set: an admin sets one under Settings → Email"))?;
    let known = addresses_of(h, ctx, customer_id, profile.email.clone()).await?;
    let mut errors = ValidationErrors::default();
    for (field, list) in [("to", &draft.to), ("cc", &draft.cc)] {
        for (i, address) in list.iter().enumerate() {
            if !known.iter().any(|(k, _)| k == address) {
                errors.push(
                    format!("{field}[{i}]"),
                    "not_a_contact_address",
                    format!("{} is not an address of this customer or its contacts", address.as_str()),
                );
            }
        }
    }
    errors.into_result(|| ())?;
    let record = match &draft.record {
        Some((kind, reference)) => Some(resolve_record(h, ctx, customer_id, *kind, reference).await?),
        None => None,
    };
    let replied = match &draft.in_reply_to {
        Some(id) => {
            let replied =
                find_message(h, ctx, id).await.map_err(|_| refuse("in_reply_to", "not_found", "is not a message of this customer"))?.into_message()?;
            if replied.customer_id.0 != customer_id {
                return Err(refuse("in_reply_to", "not_found", "is not a message of this customer"));
            }
            if replied.visibility == Visibility::Internal {
                return Err(refuse("in_reply_to", "internal_message", "answers an internal message; what is internal is never sent to a customer"));
            }
            Some(replied)
        }
        None => None,
    };
    let attachments = check_attachments(h, ctx, customer_id, row.code(), &draft.attachments).await?;
    let purpose = draft.purpose();
    let recipients: Vec<Option<ContactId>> =
        draft.to.iter().chain(&draft.cc).map(|a| known.iter().filter(|(k, _)| k == a).map(|(_, c)| *c).max().flatten()).collect();
    let agreed = consent_for(h, ctx, customer_id, &profile.communication, &recipients, Channel::Email, purpose).await?;
    let permitted = consent::manual_send(agreed, draft.override_reason.clone())?;
    if draft.dry_run {
        let preview = EmailPreview {
            from: mailbox_text(&server),
            to: draft.to.iter().map(|e| e.as_str().to_owned()).collect(),
            cc: draft.cc.iter().map(|e| e.as_str().to_owned()).collect(),
            subject: draft.subject,
            body: draft.body,
            purpose,
            attachments: attachments.iter().map(|a| AttachmentPreview { name: a.name.clone(), size: a.size }).collect(),
            consent: permitted.consent,
            override_reason: permitted.overridden,
        };
        return Ok(EmailOutcome::Preview(Box::new(preview)));
    }
    let contact_id = known.iter().find(|(k, _)| Some(k) == draft.to.first()).and_then(|(_, c)| *c);
    let out = Outgoing {
        customer: CustomerId(customer_id),
        contact_id,
        record,
        to: draft.to,
        cc: draft.cc,
        subject: draft.subject,
        body: draft.body,
        purpose,
        attachments,
        permitted,
        in_reply_to: replied.and_then(|m| m.email_message_id),
        held: None,
    };
    let message = queue_in(&mut tx, ctx, &server, out).await?;
    tx.commit().await?;
    Ok(EmailOutcome::Queued(Box::new(message)))
}

fn mailbox_text(server: &MailServer) -> String {
    match server.sender_name.as_str() {
        "" => server.sender_address.as_str().to_owned(),
        name => format!("{name} <{}>", server.sender_address.as_str()),
    }
}

/// An email ready to queue (or to hold): checked recipients, text,
/// attachments, and what allowed it.
#[derive(Clone, Debug)]
pub(crate) struct Outgoing {
    pub customer: CustomerId,
    pub contact_id: Option<ContactId>,
    pub record: Option<RecordRef>,
    pub to: Vec<Email>,
    pub cc: Vec<Email>,
    pub subject: String,
    pub body: String,
    pub purpose: Purpose,
    pub attachments: Vec<Checked>,
    pub permitted: consent::Permitted,
    /// The Message-ID of the email this answers.
    pub in_reply_to: Option<String>,
    /// Why an automated email waits (`held`) instead of being queued.
    pub held: Option<String>,
}

/// Write the email (queued, with its send task; or held, with the
/// reason), its activity and its attachment list in the caller's
/// transaction. Its Message-ID is fixed here.
pub(crate) async fn queue_in(tx: &mut Tx, ctx: &Ctx, server: &MailServer, out: Outgoing) -> Result<Message> {
    let now = ctx.now();
    let id = MessageId::new();
    let status = if out.held.is_some() { DeliveryStatus::Held } else { DeliveryStatus::Queued };
    let message = Message {
        id,
        customer_id: out.customer,
        channel: Channel::Email,
        direction: Direction::Outbound,
        visibility: Visibility::Customer,
        author: ctx.actor.clone(),
        occurred_at: now,
        subject: Some(out.subject.clone()),
        body: out.body.clone(),
        contact_id: out.contact_id,
        record: out.record,
        duration_seconds: None,
        outcome: None,
        pinned: false,
        created_at: now,
        edited_at: None,
        deleted: None,
        delivery: Some(Delivery { status, detail: out.held.clone(), updated_at: now }),
        recipients: Some(Recipients {
            to: out.to.iter().map(|e| e.as_str().to_owned()).collect(),
            cc: out.cc.iter().map(|e| e.as_str().to_owned()).collect(),
            from: None,
        }),
        email_message_id: Some(format!("{}@{}", Uuid::now_v7(), server.domain())),
        provider_ref: None,
    };
    let h = &mut tx.handle();
    q::insert_messages(h, &[MessageRow::new(ctx.org.id.0, out.customer, &message)]).await?;
    let rows: Vec<EmailAttachmentRow> = out
        .attachments
        .iter()
        .enumerate()
        .map(|(i, a)| EmailAttachmentRow {
            org_id: ctx.org.id.0,
            message_id: id.0,
            position: i as i32,
            file_id: a.file,
            document: a.document.map(|d| d.as_str().to_owned()),
            record_id: a.record,
        })
        .collect();
    q::insert_email_attachments(h, &rows).await?;
    let contact = contact_of(h, ctx, out.contact_id).await?;
    let summary = match &out.held {
        None => format!("{} queued: {}", message.heading(contact.as_deref()), out.subject),
        Some(why) => format!("{} held: {} ({why})", message.heading(contact.as_deref()), out.subject),
    };
    let mut entry = message_activity(ctx, crate::conversations::delivery::activity_kind(status), &message, contact.as_deref(), summary);
    entry.detail["recipients"] = json!(message.recipients);
    entry.detail["purpose"] = json!(out.purpose);
    entry.detail["consent"] = json!(out.permitted.consent.reason);
    entry.detail["override_reason"] = json!(out.permitted.overridden);
    entry.detail["attachments"] = json!(out.attachments.iter().map(|a| a.name.clone()).collect::<Vec<_>>());
    entry.detail["delivery"] = json!({ "status": status, "detail": out.held });
    if out.permitted.overridden.is_some() || out.held.is_some() {
        // Why it was sent against the customer's wish, or why it waits, is for staff.
        entry.visibility = Visibility::Internal;
    }
    tx.append(entry).await?;
    if out.held.is_none() {
        enqueue_send_in(tx, ctx, &message, out.in_reply_to.as_deref()).await?;
    }
    Ok(message)
}

/// Queue the task that sends `message` (queued): one per queueing, so a
/// message queued again (resent, released) gets a task of its own.
pub(crate) async fn enqueue_send_in(tx: &mut Tx, ctx: &Ctx, message: &Message, in_reply_to: Option<&str>) -> Result<()> {
    for n in 0..=1000 {
        let key = if n == 0 { format!("email:{}", message.id.0) } else { format!("email:{}:{n}", message.id.0) };
        let task = NewTask {
            kind: TaskKind::SendEmail,
            payload: json!({ "message_id": message.id.0, "in_reply_to": in_reply_to }),
            run_at: ctx.now(),
            dedupe_key: Some(key),
            max_attempts: None,
        };
        if enqueue_in(tx, ctx, task).await?.is_some() {
            break;
        }
    }
    Ok(())
}

/// A sent message of the caller's that Dossier delivers, or 404.
async fn delivered_message(h: &mut Handle<'_>, ctx: &Ctx, id: &str) -> Result<Message> {
    let message = find_message(h, ctx, id).await?.into_message()?;
    if message.delivery.is_none() {
        return Err(ServiceError::conflict("not_sent", "this message is not one Dossier sends"));
    }
    Ok(message)
}

/// Stop a queued, held or failed email or text from going: it becomes
/// `cancelled` (a send task that finds it so does nothing).
pub async fn cancel_delivery(db: &Db, ctx: &Ctx, id: &str) -> Result<Message> {
    ctx.require(Module::Messages, Action::Create)?;
    let mut tx = db.begin().await?;
    let message = delivered_message(&mut tx.handle(), ctx, id).await?;
    let moved = move_in(&mut tx, ctx, &message, DeliveryStatus::Cancelled, Some(&format!("cancelled by {}", ctx.actor.name))).await?;
    let Some(moved) = moved else {
        let status = message.delivery.map_or("unsent", |d| d.status.as_str());
        return Err(ServiceError::conflict("illegal_transition", format!("a {status} message cannot be cancelled: only a queued, held or failed one")));
    };
    tx.commit().await?;
    Ok(moved)
}

/// Send a failed email again, or a held one now (staff decide, whatever
/// holds it): it is queued with the same Message-ID.
pub async fn resend(db: &Db, ctx: &Ctx, id: &str) -> Result<Message> {
    ctx.require(Module::Messages, Action::Create)?;
    let mut tx = db.begin().await?;
    let message = delivered_message(&mut tx.handle(), ctx, id).await?;
    let status = message.delivery.as_ref().map(|d| d.status);
    if message.channel != Channel::Email || !matches!(status, Some(DeliveryStatus::Failed | DeliveryStatus::Held)) {
        return Err(ServiceError::conflict("illegal_transition", "only a failed or held email can be sent (again)"));
    }
    let reason = (status == Some(DeliveryStatus::Held)).then(|| format!("sent by {} while held", ctx.actor.name));
    let Some(moved) = move_in(&mut tx, ctx, &message, DeliveryStatus::Queued, reason.as_deref()).await? else {
        return Err(ServiceError::conflict("changed_meanwhile", "the message was changed meanwhile; reload and try again"));
    };
    enqueue_send_in(&mut tx, ctx, &moved, None).await?;
    tx.commit().await?;
    Ok(moved)
}

// ---------------------------------------------------------------- the send task

/// What the send task needs beside the database: the blob store (files
/// attached) and the installation's mail server (orgs without their own).
#[derive(Clone, Debug, Default)]
pub struct Outbox {
    pub files: Option<Files>,
    pub configured: Option<MailServer>,
}

fn message_id_of(task: &Claimed) -> std::result::Result<Uuid, String> {
    task.task.payload.get("message_id").and_then(Value::as_str).and_then(|s| Uuid::parse_str(s).ok()).ok_or_else(|| "the task names no message".to_owned())
}

/// Send one queued email. A message no longer queued (cancelled, or sent
/// by an attempt that finished) is left alone. A server's permanent
/// refusal fails the message with its answer (the task is done: it is not
/// tried again); anything passing (a 4xx answer, no connection, a
/// timeout) is the attempt's error, and the worker tries again.
pub async fn run(db: &Db, outbox: &Outbox, task: &Claimed) -> std::result::Result<(), String> {
    let id = message_id_of(task)?;
    let org = {
        let mut conn = db.read().await.map_err(|e| e.to_string())?;
        crate::orgs::load(&mut conn.handle(), task.org_id.0).await.map_err(|e| e.to_string())?
    };
    let ctx = Ctx::system(org, crate::tasks::SYSTEM_NAME);
    let (message, attachments, server, deactivated) = {
        let mut conn = db.read().await.map_err(|e| e.to_string())?;
        let h = &mut conn.handle();
        let Some(row) = q::get_message(h, ctx.org.id.0, id).await.map_err(|e| e.to_string())? else { return Ok(()) };
        let message = row.into_message().map_err(|e| e.to_string())?;
        let attachments = q::email_attachments(h, ctx.org.id.0, id).await.map_err(|e| e.to_string())?;
        let server = smtp::server_for(h, ctx.org.id.0, outbox.configured.as_ref()).await.map_err(|e| e.to_string())?;
        let deactivated = is_deactivated(h, &ctx, &message).await.map_err(|e| e.to_string())?;
        (message, attachments, server, deactivated)
    };
    if message.delivery.as_ref().map(|d| d.status) != Some(DeliveryStatus::Queued) {
        return Ok(());
    }
    if deactivated {
        // Deactivated (or deleted) since it was queued: nothing of it may change, so it
        // is not sent (its "sent" could not be recorded, and a retry would
        // send it again); it stays queued until the customer is reactivated
        // and staff resend or cancel it.
        tracing::warn!(message = %message.id, "an email to a customer deactivated since it was queued was not sent");
        return Ok(());
    }
    let Some(server) = server else {
        return fail(db, &ctx, &message, "no outgoing mail server is set").await;
    };
    let in_reply_to = task.task.payload.get("in_reply_to").and_then(Value::as_str);
    let email = match build(db, outbox, &ctx, &server, &message, &attachments, in_reply_to).await {
        Ok(email) => email,
        Err(Built::Permanent(why)) => return fail(db, &ctx, &message, &why).await,
        Err(Built::Transient(why)) => return Err(why),
    };
    match smtp::deliver(&server, email).await {
        Ok(()) => {
            let mut tx = db.begin().await.map_err(|e| e.to_string())?;
            move_in(&mut tx, &ctx, &message, DeliveryStatus::Sent, None).await.map_err(|e| e.to_string())?;
            tx.commit().await.map_err(|e| e.to_string())
        }
        Err(SendFailure::Permanent(answer)) => fail(db, &ctx, &message, &answer).await,
        Err(SendFailure::Transient(answer)) => Err(answer),
    }
}

async fn fail(db: &Db, ctx: &Ctx, message: &Message, why: &str) -> std::result::Result<(), String> {
    let mut tx = db.begin().await.map_err(|e| e.to_string())?;
    move_in(&mut tx, ctx, message, DeliveryStatus::Failed, Some(why)).await.map_err(|e| e.to_string())?;
    tx.commit().await.map_err(|e| e.to_string())
}

/// Whether the message's customer is read-only: deactivated or deleted.
async fn is_deactivated(h: &mut Handle<'_>, ctx: &Ctx, message: &Message) -> Result<bool> {
    let customer = customers::find(h, ctx, &message.customer_id.0.to_string()).await?;
    Ok(customer.read_only()?)
}

enum Built {
    Permanent(String),
    Transient(String),
}

/// The email as it leaves: the stored Message-ID, From, To, Cc, Subject,
/// the text, and the attachments (files read now, documents made now).
async fn build(
    db: &Db,
    outbox: &Outbox,
    ctx: &Ctx,
    server: &MailServer,
    message: &Message,
    attachments: &[EmailAttachmentRow],
    in_reply_to: Option<&str>,
) -> std::result::Result<lettre::Message, Built> {
    let permanent = |what: &str, e: &dyn std::fmt::Display| Built::Permanent(format!("{what}: {e}"));
    let address = |a: &str| a.parse::<lettre::Address>().map_err(|e| permanent(&format!("the address {a}"), &e));
    let from = Mailbox::new((!server.sender_name.is_empty()).then(|| server.sender_name.clone()), address(server.sender_address.as_str())?);
    let mut builder = lettre::Message::builder().from(from).subject(message.subject.clone().unwrap_or_default());
    if let Some(id) = &message.email_message_id {
        builder = builder.message_id(Some(format!("<{id}>")));
    }
    if let Some(parent) = in_reply_to {
        builder = builder.in_reply_to(format!("<{parent}>")).references(format!("<{parent}>"));
    }
    let recipients = message.recipients.clone().unwrap_or_default();
    for to in &recipients.to {
        builder = builder.to(Mailbox::new(None, address(to)?));
    }
    for cc in &recipients.cc {
        builder = builder.cc(Mailbox::new(None, address(cc)?));
    }
    let text = SinglePart::plain(message.body.clone());
    if attachments.is_empty() {
        return builder.singlepart(text).map_err(|e| permanent("building the email", &e));
    }
    let mut parts = MultiPart::mixed().singlepart(text);
    for a in attachments {
        let (name, bytes, media) = attachment(db, outbox, ctx, message, a).await?;
        let content_type = ContentType::parse(&media).unwrap_or(ContentType::parse("application/octet-stream").expect("a known type"));
        parts = parts.singlepart(Attachment::new(name).body(bytes, content_type));
    }
    builder.multipart(parts).map_err(|e| permanent("building the email", &e))
}

async fn attachment(db: &Db, outbox: &Outbox, ctx: &Ctx, message: &Message, a: &EmailAttachmentRow) -> std::result::Result<(String, Vec<u8>, String), Built> {
    let pdf = "application/pdf".to_owned();
    if let Some(file) = a.file_id {
        let files = outbox.files.as_ref().ok_or_else(|| Built::Permanent("this worker has no file store to attach files from".into()))?;
        let mut conn = db.read().await.map_err(|e| Built::Transient(e.to_string()))?;
        let row = q::get_file(&mut conn.handle(), ctx.org.id.0, file).await.map_err(|e| Built::Transient(e.to_string()))?;
        let stored =
            row.ok_or_else(|| Built::Permanent("an attached file no longer exists".into()))?.into_file().map_err(|e| Built::Permanent(e.to_string()))?;
        if stored.deleted.is_some() || stored.visibility != Visibility::Customer {
            // It was deleted or made internal after the email was queued.
            return Err(Built::Permanent(format!("the attached file {} was deleted or made internal since", stored.name)));
        }
        let content = files.blobs.open(ctx.org.id.0, &stored.sha256).await.map_err(|e| Built::Transient(format!("reading {}: {e}", stored.name)))?;
        let mut bytes = Vec::with_capacity(usize::try_from(content.size).unwrap_or(0));
        let mut reader = content.reader;
        tokio::io::AsyncReadExt::read_to_end(&mut reader, &mut bytes).await.map_err(|e| Built::Transient(format!("reading {}: {e}", stored.name)))?;
        return Ok((stored.name, bytes, stored.media_type.as_str().to_owned()));
    }
    let render = |e: ServiceError| match e {
        ServiceError::Store(e) => Built::Transient(e.to_string()),
        e => Built::Permanent(format!("making the document: {e}")),
    };
    match a.document.as_deref().and_then(DocumentKind::parse) {
        Some(DocumentKind::Invoice) | Some(DocumentKind::Quote) => {
            let id = a.record_id.ok_or_else(|| Built::Permanent("a document attachment names no record".into()))?.to_string();
            let (bytes, code) = if a.document.as_deref() == Some("invoice") {
                let invoice = crate::billing::get_invoice(db, ctx, &id).await.map_err(render)?;
                (crate::documents::invoice_pdf(db, ctx, &id).await.map_err(render)?, invoice.code)
            } else {
                let quote = crate::works::get_quote(db, ctx, &id).await.map_err(render)?;
                (crate::documents::quote_pdf(db, ctx, &id).await.map_err(render)?, quote.code)
            };
            Ok((format!("{code}.pdf"), bytes, pdf))
        }
        Some(DocumentKind::Statement) => {
            let customer = message.customer_id.0.to_string();
            let bytes = crate::statement::statement_pdf(db, ctx, &customer, Default::default()).await.map_err(render)?;
            let code = crate::customers::get_customer(db, ctx, &customer).await.map_err(render)?.code;
            Ok((format!("Statement {code}.pdf"), bytes, pdf))
        }
        None => Err(Built::Permanent("an attachment is neither a file nor a document".into())),
    }
}

//! Receiving email: one raw message at a time, from a mail server's pipe
//! (`dossier mail ingest`) or its HTTP hook (`POST /inbound/email`).
//!
//! A mail is matched to the message it replies to (`In-Reply-To`, then
//! `References`), else to the one customer whose email or whose contact's
//! email sent it, else it waits in the inbox until staff assign it to a
//! customer or dismiss it. A matched mail becomes a received email message
//! with its attachments as the customer's files, in one transaction; a
//! delivery report about a message Dossier sent marks that one bounced.
//! The same mail received twice is stored once (its Message-ID).

use std::collections::BTreeMap;

use dossier_domain::ValidationErrors;
use dossier_domain::activity::{ActivityKind, Actor, ActorType, EntityRef, EntityType, Visibility};
use dossier_domain::diff::FieldChange;
use dossier_domain::file::StoredFile;
use dossier_domain::ids::{ContactId, CustomerId, MessageId};
use dossier_domain::message::{Channel, DeliveryStatus, Direction, Message, Recipients, RecordRef, excerpt};
use dossier_domain::permissions::{Access, Action, Module};
use dossier_domain::sending::inbound::{EXCERPT_CHARS, InboxChannel, InboxItem, InboxStatus, occurred_at};
use dossier_store::queries as q;
use dossier_store::{Db, Handle, InboxItemRow, MessageRow, Tx};
use serde::{Deserialize, Serialize};
use serde_json::json;
use sha2::{Digest, Sha256};
use uuid::Uuid;

pub use dossier_domain::sending::inbound::MAX_MAIL_BYTES;

use super::mail::{self, ReadMail};
use crate::conversations::messages::message_activity;
use crate::files::{Content, Files, Kept, Upload};
use crate::page::{Page, limit, paginate, time_cursor};
use crate::record::{activity, timestamp};
use crate::secrets::{self, SecretKind};
use crate::{Ctx, Result, ServiceError, customers, orgs};

/// What became of a received mail.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Serialize, utoipa::ToSchema)]
#[serde(rename_all = "snake_case")]
pub enum IngestOutcome {
    /// A new message on the customer's timeline.
    Received,
    /// This mail was received before: nothing new was stored.
    AlreadyReceived,
    /// It matched no customer: it waits in the inbox.
    Unmatched,
    /// A delivery report: the message it returned is now bounced.
    Bounced,
}

/// The answer to one received mail.
#[derive(Clone, Debug, Serialize, utoipa::ToSchema)]
pub struct Ingested {
    pub outcome: IngestOutcome,
    /// The message it became (or became before, or that bounced).
    pub message: Option<Message>,
    /// The files its attachments became.
    pub files: Vec<StoredFile>,
    /// The inbox item, when it matched no customer.
    pub inbox_item: Option<InboxItem>,
}

impl Ingested {
    fn message(outcome: IngestOutcome, message: Message, files: Vec<StoredFile>) -> Self {
        Self { outcome, message: Some(message), files, inbox_item: None }
    }

    fn inbox(outcome: IngestOutcome, item: InboxItem) -> Self {
        Self { outcome, message: None, files: Vec::new(), inbox_item: Some(item) }
    }

    /// One line for an operator (the command line's answer).
    pub fn describe(&self) -> String {
        match (self.outcome, &self.message, &self.inbox_item) {
            (IngestOutcome::Received, Some(m), _) => format!("received: message {} on customer {} with {} file(s)", m.id, m.customer_id, self.files.len()),
            (IngestOutcome::AlreadyReceived, Some(m), _) => format!("already received: message {}", m.id),
            (IngestOutcome::AlreadyReceived, _, Some(item)) => format!("already received: inbox item {}", item.id),
            (IngestOutcome::Unmatched, _, Some(item)) => format!("unmatched: inbox item {} ({})", item.id, item.reason),
            (IngestOutcome::Bounced, Some(m), _) => format!("bounce: message {} is bounced", m.id),
            _ => "done".to_owned(),
        }
    }
}

/// Who a mail is from, as the author of the message it becomes.
fn sender(mail: &ReadMail, customer: Option<Uuid>) -> Actor {
    let name = match (&mail.from_name, &mail.from_address) {
        (Some(name), Some(address)) => format!("{name} <{address}>"),
        (None, Some(address)) => address.clone(),
        (Some(name), None) => name.clone(),
        (None, None) => "Unknown sender".to_owned(),
    };
    Actor { kind: ActorType::Customer, id: customer, name }
}

/// The key the same mail is known by when received again: its Message-ID,
/// or for a mail without one, a hash of its bytes.
fn message_ref(mail: &ReadMail, raw: &[u8]) -> String {
    mail.message_id.clone().unwrap_or_else(|| format!("{:x}@no-message-id.dossier.invalid", Sha256::digest(raw)))
}

/// Take one raw RFC 5322 mail for the org of `ctx` (the system, acting for
/// the mail server). Refused (nothing kept) when out of bounds; see
/// [`mail::read`]. Ingesting the same mail again answers `already_received`.
pub async fn ingest(db: &Db, files: &Files, ctx: &Ctx, raw: &[u8]) -> Result<Ingested> {
    let mail = mail::read(raw, files.max_bytes)?;
    let reference = message_ref(&mail, raw);
    let org = ctx.org.id.0;
    let found = {
        let mut conn = db.read().await?;
        let h = &mut conn.handle();
        if let Some(known) = already(h, ctx, &reference).await? {
            return Ok(known);
        }
        if let Some(bounce) = &mail.bounce {
            let mut ours = None;
            for id in &bounce.original_ids {
                if let Some(row) = q::message_by_email_id(h, org, id).await?.filter(|m| m.direction == Direction::Outbound.as_str()) {
                    ours = Some(row.into_message()?);
                    break;
                }
            }
            if let Some(message) = ours {
                drop(conn);
                let mut tx = db.begin().await?;
                let moved = crate::delivery::move_in(&mut tx, ctx, &message, DeliveryStatus::Bounced, Some(&bounce.diagnostic)).await?;
                tx.commit().await?;
                return Ok(Ingested::message(IngestOutcome::Bounced, moved.unwrap_or(message), Vec::new()));
            }
        }
        find_customer(h, ctx, &mail).await?
    };
    match found {
        Found::Customer(target) => {
            let author = sender(&mail, Some(target.customer));
            let writer = Ctx::new(ctx.org.clone(), author.clone(), None, None);
            let (kept, notes) = keep_attachments(files, &writer, &mail).await?;
            let mut tx = db.begin().await?;
            // Received meanwhile (a mail server delivering it twice at once).
            if let Some(row) = q::message_by_email_id(&mut tx.handle(), org, &reference).await? {
                return Ok(Ingested::message(IngestOutcome::AlreadyReceived, row.into_message()?, Vec::new()));
            }
            let (message, stored) = write_received_in(&mut tx, &writer, MessageId::new(), &target, &mail, &reference, author, &notes, kept, None).await?;
            tx.commit().await?;
            Ok(Ingested::message(IngestOutcome::Received, message, stored))
        }
        Found::Nobody(reason) => {
            let sha256 = files.blobs.put(org, raw).await?;
            let row = InboxItemRow {
                from_name: mail.from_name.clone(),
                subject: mail.subject.clone(),
                raw_sha256: Some(sha256),
                raw_size: Some(raw.len() as i64),
                ..InboxItemRow::open(
                    org,
                    InboxChannel::Email,
                    reference.clone(),
                    mail.from_address.clone().unwrap_or_else(|| "(no sender)".to_owned()),
                    clip(&mail.body, EXCERPT_CHARS),
                    reason,
                    ctx.now().as_microsecond(),
                )
            };
            let mut tx = db.begin().await?;
            let h = &mut tx.handle();
            if !q::insert_inbox_item(h, &row).await? {
                let existing = q::inbox_item_by_ref(h, org, InboxChannel::Email.as_str(), &reference).await?.ok_or(ServiceError::NotFound("inbox item"))?;
                return Ok(Ingested::inbox(IngestOutcome::AlreadyReceived, item_of(existing)?));
            }
            tx.commit().await?;
            Ok(Ingested::inbox(IngestOutcome::Unmatched, item_of(row)?))
        }
    }
}

/// What the org holds of this mail already: the message or inbox item it became.
async fn already(h: &mut Handle<'_>, ctx: &Ctx, reference: &str) -> Result<Option<Ingested>> {
    if let Some(row) = q::message_by_email_id(h, ctx.org.id.0, reference).await? {
        return Ok(Some(Ingested::message(IngestOutcome::AlreadyReceived, row.into_message()?, Vec::new())));
    }
    if let Some(item) = q::inbox_item_by_ref(h, ctx.org.id.0, InboxChannel::Email.as_str(), reference).await? {
        // An assigned item's message is what the mail became.
        if let Some(message) = item.assigned_message_id
            && let Some(row) = q::get_message(h, ctx.org.id.0, message).await?
        {
            return Ok(Some(Ingested::message(IngestOutcome::AlreadyReceived, row.into_message()?, Vec::new())));
        }
        return Ok(Some(Ingested::inbox(IngestOutcome::AlreadyReceived, item_of(item)?)));
    }
    Ok(None)
}

/// Where a matched mail goes.
struct Target {
    customer: Uuid,
    record: Option<RecordRef>,
    visibility: Visibility,
    contact: Option<(ContactId, String)>,
}

enum Found {
    Customer(Target),
    /// Why no customer was found.
    Nobody(&'static str),
}

/// The customer a mail concerns: the thread it replies to, else the one
/// customer its sender's address belongs to.
async fn find_customer(h: &mut Handle<'_>, ctx: &Ctx, mail: &ReadMail) -> Result<Found> {
    for id in &mail.thread {
        let Some(row) = q::message_by_email_id(h, ctx.org.id.0, id).await? else { continue };
        let replied_to = row.into_message()?;
        let Ok(customer) = customers::find(h, ctx, &replied_to.customer_id.0.to_string()).await else { continue };
        // A deleted customer's history may not change: its replies wait in the inbox.
        if customer.deleted_at.is_some() {
            continue;
        }
        let contact = match &mail.from_address {
            Some(address) => owners_of(h, ctx, address).await?.remove(&customer.id).flatten(),
            None => None,
        };
        // A reply to a note stays among staff.
        let visibility = if replied_to.visibility == Visibility::Internal { Visibility::Internal } else { Visibility::Customer };
        return Ok(Found::Customer(Target { customer: customer.id, record: replied_to.record, visibility, contact }));
    }
    let Some(address) = &mail.from_address else { return Ok(Found::Nobody("the mail names no sender")) };
    let mut owners = owners_of(h, ctx, address).await?;
    match owners.len() {
        0 => Ok(Found::Nobody("no customer or contact has this address")),
        1 => {
            let (customer, contact) = owners.pop_first().expect("one owner");
            Ok(Found::Customer(Target { customer, record: None, visibility: Visibility::Customer, contact }))
        }
        _ => Ok(Found::Nobody("several customers have this address")),
    }
}

/// How many customers sharing one address are looked at.
const MAX_OWNERS: i64 = 50;

/// The customers whose own email or whose contact's email is `address`,
/// each with the contact it is (if a contact's).
async fn owners_of(h: &mut Handle<'_>, ctx: &Ctx, address: &str) -> Result<BTreeMap<Uuid, Option<(ContactId, String)>>> {
    let mut owners: BTreeMap<Uuid, Option<(ContactId, String)>> = BTreeMap::new();
    // The search index holds every email as a term; each hit is checked
    // against the record it came from (a custom field's words may hold an
    // address too).
    for (customer, source) in q::customers_with_email(h, ctx.org.id.0, address, MAX_OWNERS).await? {
        if source == customer {
            let Ok(row) = customers::find(h, ctx, &customer.to_string()).await else { continue };
            if row.email.as_deref() == Some(address) {
                owners.entry(customer).or_default();
            }
        } else if let Some(row) = q::get_contact(h, ctx.org.id.0, source).await?
            && row.customer_id == customer
        {
            let contact = row.into_contact()?;
            if contact.profile.emails.iter().any(|e| e.address.as_str() == address) {
                owners.insert(customer, Some((contact.id, contact.display_name)));
            }
        }
    }
    Ok(owners)
}

/// Check and keep a mail's attachments, one at a time: a type the org does
/// not accept is left out, with a note saying so in the message.
async fn keep_attachments(files: &Files, ctx: &Ctx, mail: &ReadMail) -> Result<(Vec<Kept>, Vec<String>)> {
    let mut kept = Vec::new();
    let mut notes = Vec::new();
    for attachment in &mail.attachments {
        if attachment.content.is_empty() {
            notes.push(format!("[Attachment {} was empty and was not kept.]", attachment.name));
            continue;
        }
        let mut staging = files.stage().await?;
        files.write(&mut staging, &attachment.content).await?;
        let upload = Upload { name: attachment.name.clone(), content: Content::Staged(files.finish(staging).await?) };
        match crate::files::keep(files, ctx, vec![upload]).await {
            Ok(mut one) => kept.append(&mut one),
            Err(ServiceError::Invalid(errors)) => {
                let why = errors.0.first().map(|e| e.message.clone()).unwrap_or_default();
                notes.push(format!("[Attachment {} was not kept: it {why}.]", attachment.name));
            }
            Err(e) => return Err(e),
        }
    }
    Ok((kept, notes))
}

/// The body a received message keeps: its text (or a mark that it had
/// none), then the notes about attachments left out, within the limit.
fn body_with_notes(body: &str, notes: &[String]) -> String {
    let body = if body.trim().is_empty() { "(This email had no text.)" } else { body };
    if notes.is_empty() {
        return body.to_owned();
    }
    let notes = notes.join("\n");
    let room = dossier_domain::limits::MAX_MESSAGE_BODY_CHARS.saturating_sub(notes.chars().count() + 2);
    let kept: String = body.chars().take(room).collect();
    format!("{kept}\n\n{notes}")
}

/// Write a received mail as a message of `target` (id `id`) with its kept
/// files, and record `message.received` by `ctx`'s actor; `assigned_from`
/// names the inbox item staff assigned it from.
#[allow(clippy::too_many_arguments)] // the parts of one received message
async fn write_received_in(
    tx: &mut Tx,
    ctx: &Ctx,
    id: MessageId,
    target: &Target,
    mail: &ReadMail,
    reference: &str,
    author: Actor,
    notes: &[String],
    kept: Vec<Kept>,
    assigned_from: Option<Uuid>,
) -> Result<(Message, Vec<StoredFile>)> {
    let now = ctx.now();
    let message = Message {
        id,
        customer_id: CustomerId(target.customer),
        channel: Channel::Email,
        direction: Direction::Inbound,
        visibility: target.visibility,
        author: Actor { id: Some(target.customer), ..author },
        occurred_at: occurred_at(mail.date, now),
        subject: mail.subject.clone(),
        body: body_with_notes(&mail.body, notes),
        contact_id: target.contact.as_ref().map(|(id, _)| *id),
        record: target.record.clone(),
        duration_seconds: None,
        outcome: None,
        pinned: false,
        created_at: now,
        edited_at: None,
        deleted: None,
        delivery: None,
        recipients: Some(Recipients { to: mail.to.clone(), cc: mail.cc.clone(), from: mail.from_address.clone() }),
        email_message_id: Some(reference.to_owned()),
        provider_ref: None,
    };
    q::insert_messages(&mut tx.handle(), &[MessageRow::new(ctx.org.id.0, message.customer_id, &message)]).await?;
    let contact = target.contact.as_ref().map(|(_, name)| name.as_str());
    let from = mail.from_address.as_deref().unwrap_or("an unknown sender");
    let assigned = if assigned_from.is_some() { format!(", assigned from the inbox by {}", ctx.actor.name) } else { String::new() };
    let summary = format!("Email from {from} received{assigned}: {}", excerpt(mail.subject.as_deref().unwrap_or(&message.body), 100));
    let mut record = message_activity(ctx, ActivityKind::MessageReceived, &message, contact, summary);
    record.detail["from"] = json!(mail.from_address);
    if let Some(item) = assigned_from {
        record.detail["inbox_item"] = json!(item);
        record.also_links.push(EntityRef::new(EntityType::InboxItem, item));
    }
    tx.append(record).await?;
    let stored = crate::files::record_message_files_in(tx, ctx, &message, kept).await?;
    Ok((message, stored))
}

fn clip(text: &str, max: usize) -> String {
    let text = text.trim();
    if text.chars().count() <= max {
        return text.to_owned();
    }
    let mut cut: String = text.chars().take(max).collect();
    cut.push('…');
    cut
}

fn item_of(row: InboxItemRow) -> Result<InboxItem> {
    let bad = |what: &str, value: &str| ServiceError::Internal(format!("inbox item {} has {what} '{value}'", row.id));
    Ok(InboxItem {
        id: row.id,
        channel: InboxChannel::parse(&row.channel).ok_or_else(|| bad("channel", &row.channel))?,
        status: InboxStatus::parse(&row.status).ok_or_else(|| bad("status", &row.status))?,
        from_address: row.from_address,
        from_name: row.from_name,
        subject: row.subject,
        excerpt: row.excerpt,
        reason: row.reason,
        received_at: timestamp(row.received_at)?,
        assigned_customer_id: row.assigned_customer_id.map(CustomerId),
        assigned_message_id: row.assigned_message_id.map(MessageId),
        decided_by: row.decided_by,
        decided_at: row.decided_at.map(timestamp).transpose()?,
    })
}

/// Who may work the inbox: staff who may write messages to any customer
/// (not a fieldworker, who reaches only their jobs).
fn require_inbox(ctx: &Ctx) -> Result<()> {
    match ctx.require(Module::Messages, Action::Create)? {
        Access::All => Ok(()),
        _ => Err(ServiceError::Forbidden { module: Module::Messages.as_str(), action: "work the inbox of" }),
    }
}

/// Whether the caller may work the inbox (the nav shows it to them).
pub fn may_work_inbox(ctx: &Ctx) -> bool {
    require_inbox(ctx).is_ok()
}

/// Query parameters of the inbox.
#[derive(Clone, Debug, Default, Deserialize, utoipa::IntoParams)]
#[serde(deny_unknown_fields)]
#[into_params(parameter_in = Query)]
pub struct InboxQuery {
    /// open (default), assigned or dismissed.
    pub status: Option<InboxStatus>,
    pub cursor: Option<String>,
    /// 1–200, default 50.
    #[param(minimum = 1, maximum = 200)]
    pub limit: Option<u32>,
}

/// The inbox: received mail that matched no customer, newest first.
pub async fn list_inbox(db: &Db, ctx: &Ctx, query: InboxQuery) -> Result<Page<InboxItem>> {
    require_inbox(ctx)?;
    let mut errors = ValidationErrors::default();
    let after = errors.take(time_cursor(query.cursor.as_deref())).flatten();
    let limit = errors.take(limit(query.limit));
    let Some(limit) = limit.filter(|_| errors.is_empty()) else { return Err(errors.into()) };
    let status = query.status.unwrap_or(InboxStatus::Open);
    let mut conn = db.read().await?;
    let rows = q::list_inbox(&mut conn.handle(), ctx.org.id.0, status.as_str(), after, limit + 1).await?;
    paginate(rows, limit, |r| format!("{}:{}", r.received_at, r.id), item_of)
}

/// How many mails wait in the inbox (for the nav), 0 for who may not see it.
pub async fn open_count(db: &Db, ctx: &Ctx) -> Result<i64> {
    if !may_work_inbox(ctx) {
        return Ok(0);
    }
    let mut conn = db.read().await?;
    Ok(q::count_inbox(&mut conn.handle(), ctx.org.id.0, InboxStatus::Open.as_str()).await?)
}

/// Body of "assign to a customer".
#[derive(Clone, Debug, Deserialize, utoipa::ToSchema)]
#[serde(deny_unknown_fields)]
pub struct AssignInput {
    /// The customer's code (CUS-00012) or id.
    pub customer: String,
}

async fn open_item(h: &mut Handle<'_>, ctx: &Ctx, id: &str) -> Result<InboxItemRow> {
    let not_found = || ServiceError::NotFound("inbox item");
    let id = Uuid::parse_str(id).map_err(|_| not_found())?;
    let row = q::get_inbox_item(h, ctx.org.id.0, id).await?.ok_or_else(not_found)?;
    if row.status != InboxStatus::Open.as_str() {
        return Err(decided(&row.status));
    }
    Ok(row)
}

fn decided(status: &str) -> ServiceError {
    ServiceError::conflict("inbox_item_decided", format!("this mail was {status} already"))
}

/// Give an unmatched mail to a customer: it becomes their received message
/// (with its attachments as their files) exactly as a matched mail would,
/// recorded as assigned by the caller; the item is marked assigned. An
/// item assigned or dismissed already is refused (`inbox_item_decided`).
pub async fn assign(db: &Db, files: &Files, ctx: &Ctx, item: &str, input: AssignInput) -> Result<Ingested> {
    require_inbox(ctx)?;
    ctx.require(Module::Files, Action::Create)?;
    let (row, customer, contact) = {
        let mut conn = db.read().await?;
        let h = &mut conn.handle();
        let row = open_item(h, ctx, item).await?;
        let reference = input.customer.trim();
        if reference.is_empty() {
            return Err(ValidationErrors::one("customer", "required", "give the customer's code, e.g. CUS-00012").into());
        }
        let customer = match customers::find(h, ctx, reference).await {
            Err(ServiceError::NotFound(_)) => {
                return Err(ValidationErrors::one("customer", "not_found", format!("no customer has the code '{reference}'")).into());
            }
            found => found?,
        };
        let contact = owners_of(h, ctx, &row.from_address).await?.remove(&customer.id).flatten();
        (row, customer, contact)
    };
    if row.channel == InboxChannel::Sms.as_str() {
        return assign_text(db, ctx, &row, customer.id).await;
    }
    let raw = match &row.raw_sha256 {
        Some(sha256) => {
            let mut raw = Vec::new();
            tokio::io::AsyncReadExt::read_to_end(&mut files.blobs.open(ctx.org.id.0, sha256).await?.reader, &mut raw).await?;
            raw
        }
        None => return Err(ServiceError::conflict("inbox_item_unreadable", "this item keeps no mail to assign")),
    };
    let mail = mail::read(&raw, files.max_bytes)?;
    let reference = row.message_ref.clone().unwrap_or_else(|| message_ref(&mail, &raw));
    let (kept, notes) = keep_attachments(files, ctx, &mail).await?;
    let target = Target { customer: customer.id, record: None, visibility: Visibility::Customer, contact };
    let id = MessageId::new();
    let mut tx = db.begin().await?;
    if !q::assign_inbox_item(&mut tx.handle(), ctx.org.id.0, row.id, customer.id, id.0, &ctx.actor.name, ctx.now().as_microsecond()).await? {
        let now = q::get_inbox_item(&mut tx.handle(), ctx.org.id.0, row.id).await?.map(|r| r.status).unwrap_or_default();
        return Err(decided(&now));
    }
    let author = sender(&mail, Some(customer.id));
    let (message, stored) = write_received_in(&mut tx, ctx, id, &target, &mail, &reference, author, &notes, kept, Some(row.id)).await?;
    tx.commit().await?;
    let item = {
        let mut conn = db.read().await?;
        q::get_inbox_item(&mut conn.handle(), ctx.org.id.0, row.id).await?.ok_or(ServiceError::NotFound("inbox item"))?
    };
    Ok(Ingested { outcome: IngestOutcome::Received, message: Some(message), files: stored, inbox_item: Some(item_of(item)?) })
}

/// Give an unmatched text to a customer: it becomes their received SMS, as
/// a matched one would, recorded as assigned by the caller.
async fn assign_text(db: &Db, ctx: &Ctx, row: &InboxItemRow, customer: Uuid) -> Result<Ingested> {
    let text = super::sms::received_of(row).ok_or_else(|| ServiceError::conflict("inbox_item_unreadable", "this item keeps no text to assign"))?;
    let id = MessageId::new();
    let mut tx = db.begin().await?;
    if !q::assign_inbox_item(&mut tx.handle(), ctx.org.id.0, row.id, customer, id.0, &ctx.actor.name, ctx.now().as_microsecond()).await? {
        let now = q::get_inbox_item(&mut tx.handle(), ctx.org.id.0, row.id).await?.map(|r| r.status).unwrap_or_default();
        return Err(decided(&now));
    }
    let contact = super::sms::contact_with_number(&mut tx, ctx, customer, &text.from).await?;
    let message = super::sms::record_received_in(&mut tx, ctx, id, customer, contact, text, Some(&ctx.actor.name)).await?;
    let item = q::get_inbox_item(&mut tx.handle(), ctx.org.id.0, row.id).await?.ok_or(ServiceError::NotFound("inbox item"))?;
    tx.commit().await?;
    Ok(Ingested { outcome: IngestOutcome::Received, message: Some(message), files: Vec::new(), inbox_item: Some(item_of(item)?) })
}

/// Put an unmatched mail aside (spam, a newsletter): recorded on the org's log.
pub async fn dismiss(db: &Db, ctx: &Ctx, item: &str) -> Result<InboxItem> {
    require_inbox(ctx)?;
    let mut tx = db.begin().await?;
    let h = &mut tx.handle();
    let row = open_item(h, ctx, item).await?;
    if !q::dismiss_inbox_item(h, ctx.org.id.0, row.id, &ctx.actor.name, ctx.now().as_microsecond()).await? {
        let now = q::get_inbox_item(h, ctx.org.id.0, row.id).await?.map(|r| r.status).unwrap_or_default();
        return Err(decided(&now));
    }
    let what = row.subject.as_deref().map(|s| format!(" \"{s}\"")).unwrap_or_default();
    let noun = if row.channel == InboxChannel::Sms.as_str() { "Text" } else { "Email" };
    let summary = format!("{noun}{what} from {} dismissed from the inbox by {}", row.from_address, ctx.actor.name);
    let changes = vec![FieldChange { field: "status".into(), old: json!("open"), new: json!("dismissed") }];
    let mut record = activity(ctx, ActivityKind::InboxDismissed, None, EntityRef::new(EntityType::InboxItem, row.id), row.subject.clone(), summary, changes);
    record.detail = json!({ "from": row.from_address, "subject": row.subject, "reason": row.reason });
    tx.append(record).await?;
    let row = q::get_inbox_item(&mut tx.handle(), ctx.org.id.0, row.id).await?.ok_or(ServiceError::NotFound("inbox item"))?;
    tx.commit().await?;
    item_of(row)
}

/// A new inbound secret: shown once, only its hash is kept.
#[derive(Clone, Debug, Serialize, utoipa::ToSchema)]
pub struct InboundSecret {
    /// Send as `Authorization: Bearer <secret>` to `POST /api/v1/inbound/email`.
    /// It is not shown again.
    pub secret: String,
    #[schema(value_type = String, format = DateTime)]
    pub created_at: jiff::Timestamp,
}

/// Whether the org has an inbound secret: when it was made and by whom.
pub async fn inbound_secret_made(db: &Db, ctx: &Ctx) -> Result<Option<(jiff::Timestamp, String)>> {
    ctx.require(Module::Settings, Action::Edit)?;
    let mut conn = db.read().await?;
    match q::inbound_secret(&mut conn.handle(), ctx.org.id.0).await? {
        Some((_, at, by)) => Ok(Some((timestamp(at)?, by))),
        None => Ok(None),
    }
}

/// Make a new inbound secret (owners and admins), replacing the old one:
/// a mail server still sending the old one is refused from now on.
pub async fn new_inbound_secret(db: &Db, ctx: &Ctx) -> Result<InboundSecret> {
    ctx.require(Module::Settings, Action::Edit)?;
    let secret = secrets::issue(SecretKind::InboundMail, ctx.org.id.0);
    let now = ctx.now();
    let mut tx = db.begin().await?;
    let h = &mut tx.handle();
    let had = q::inbound_secret(h, ctx.org.id.0).await?.is_some();
    q::set_inbound_secret(h, ctx.org.id.0, &secret.hash, now.as_microsecond(), &ctx.actor.name).await?;
    let changes = vec![FieldChange { field: "inbound_secret".into(), old: json!(if had { Some("set") } else { None }), new: json!("replaced") }];
    let verb = if had { "replaced" } else { "created" };
    let summary = format!("Inbound email secret {verb} by {}", ctx.actor.name);
    tx.append(activity(ctx, ActivityKind::OrgSettingsChanged, None, EntityRef::new(EntityType::Org, ctx.org.id.0), None, summary, changes)).await?;
    tx.commit().await?;
    Ok(InboundSecret { secret: secret.text, created_at: now })
}

/// The org a mail server's secret stands for, acting as the system; any
/// other secret (malformed, unknown, replaced) is `Unauthenticated`.
pub async fn authenticate(db: &Db, secret: &str) -> Result<Ctx> {
    let (org_id, hash) = secrets::read(SecretKind::InboundMail, secret).ok_or(ServiceError::Unauthenticated)?;
    let mut conn = db.read().await?;
    let h = &mut conn.handle();
    let Some((kept, _, _)) = q::inbound_secret(h, org_id).await? else { return Err(ServiceError::Unauthenticated) };
    // Both are SHA-256 hashes: comparing them tells nothing about the secret.
    if kept != hash {
        return Err(ServiceError::Unauthenticated);
    }
    let org = orgs::load(h, org_id).await?;
    Ok(Ctx::system(org, "Inbound email"))
}

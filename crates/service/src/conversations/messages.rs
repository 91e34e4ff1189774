//! Message use cases: add a note, log a call or any message, edit, delete,
//! pin, and the lists that show them (a customer's, a record's, the pinned
//! ones, the portal's).
//!
//! Who sees a message: anyone whose role reaches messages, except a
//! fieldworker, who sees (and adds) only the messages of jobs assigned to
//! them. The customer sees, in the portal, only `customer` messages.

use dossier_domain::ValidationErrors;
use dossier_domain::activity::{ActivityKind, EntityRef, EntityType, NewActivity, Visibility};
use dossier_domain::diff::diff;
use dossier_domain::file::StoredFile;
use dossier_domain::ids::{ContactId, CustomerId, MessageId};
use dossier_domain::message::{Message, MessageContent, MessageDraft, MessageInput, MessagePatch, RecordRef, RecordType, excerpt};
use dossier_domain::permissions::{Access, Action, Module, module_of};
use dossier_store::queries as q;
use dossier_store::{Db, Handle, MessageFilter, MessageRow, RecordOwner, Tx};
use serde::Deserialize;
use serde_json::json;
use uuid::Uuid;

use crate::files::Kept;
use crate::page::{Page, limit, paginate, time_cursor};
use crate::record::{activity, find_coded, written};
use crate::{Ctx, Result, ServiceError, customers};

/// How many pinned messages the profile shows above the timeline.
pub const PINNED_SHOWN: i64 = 20;

/// Query parameters of a message list.
#[derive(Clone, Debug, Default, Deserialize, utoipa::IntoParams)]
#[serde(deny_unknown_fields)]
#[into_params(parameter_in = Query)]
pub struct MessageQuery {
    /// Comma-separated channels: note, call, email, sms, whatsapp, portal, letter.
    pub channel: Option<String>,
    /// Only pinned (important) messages.
    pub pinned: Option<bool>,
    /// Words the subject or body must have (each as the start of a word),
    /// newest first; at most 8 words and 200 characters.
    #[param(max_length = 200)]
    pub q: Option<String>,
    pub cursor: Option<String>,
    /// 1–200, default 50.
    #[param(minimum = 1, maximum = 200)]
    pub limit: Option<u32>,
}

/// The filter every list of a caller starts from: a fieldworker's is
/// narrowed to the messages of their jobs.
fn scoped(ctx: &Ctx) -> Result<MessageFilter> {
    ctx.require(Module::Messages, Action::View)?;
    Ok(MessageFilter { jobs_assigned_to: ctx.assigned_only(Module::Messages), ..Default::default() })
}

/// The message with this id, if the caller may see it (else 404).
pub(crate) async fn find(h: &mut Handle<'_>, ctx: &Ctx, id: &str) -> Result<MessageRow> {
    let not_found = || ServiceError::NotFound("message");
    let id = Uuid::parse_str(id).map_err(|_| not_found())?;
    let row = q::get_message(h, ctx.org.id.0, id).await?.ok_or_else(not_found)?;
    crate::scope::check_customer(h, ctx, row.customer_id, "message").await?;
    if ctx.assigned_only(Module::Messages).is_some() {
        match (row.record_type.as_deref(), row.record_id) {
            (Some("job"), Some(job)) => crate::scope::check_job(h, ctx, job).await.map_err(|_| not_found())?,
            _ => return Err(not_found()),
        }
    }
    Ok(row)
}

/// The record a message names, checked: it exists, is the customer's, and
/// the caller may see it. Anything else is `not_found` on `record`.
pub(crate) async fn resolve_record(h: &mut Handle<'_>, ctx: &Ctx, customer: Uuid, kind: RecordType, reference: &str) -> Result<RecordRef> {
    let not_found =
        || ServiceError::from(ValidationErrors::one("record", "not_found", format!("is not a {} of this customer", kind.as_str().replace('_', " "))));
    if !ctx.sees(module_of(kind.entity())) {
        return Err(not_found());
    }
    let org = ctx.org.id.0;
    let (id, owner, code) = match kind.code_kind() {
        Some(code_kind) => {
            let row: RecordOwner = match find_coded(h, ctx, code_kind, "record", reference).await {
                Err(ServiceError::NotFound(_)) => return Err(not_found()),
                found => found?,
            };
            (row.id, row.customer_id, Some(row.code))
        }
        None => {
            let id = Uuid::parse_str(reference).map_err(|_| not_found())?;
            match kind {
                RecordType::Site => {
                    let site = q::get_site(h, org, id).await?.ok_or_else(not_found)?;
                    (site.id, site.customer_id, Some(site.profile()?.one_line()))
                }
                _ => {
                    let contact = q::get_contact(h, org, id).await?.ok_or_else(not_found)?;
                    (contact.id, contact.customer_id, Some(contact.clone().into_contact()?.display_name))
                }
            }
        }
    };
    if owner != customer {
        return Err(not_found());
    }
    if kind == RecordType::Job && crate::scope::check_job(h, ctx, id).await.is_err() {
        return Err(not_found());
    }
    Ok(RecordRef { kind, id, code })
}

/// The name of the customer's contact `id`, or `not_found` on `contact_id`.
async fn contact_name(h: &mut Handle<'_>, ctx: &Ctx, customer: Uuid, id: ContactId) -> Result<String> {
    match q::get_contact(h, ctx.org.id.0, id.0).await? {
        Some(row) if row.customer_id == customer => Ok(row.into_contact()?.display_name),
        _ => Err(ValidationErrors::one("contact_id", "not_found", "is not a contact of this customer").into()),
    }
}

/// The name of the contact a stored message was with, if it still exists.
pub(crate) async fn contact_of(h: &mut Handle<'_>, ctx: &Ctx, contact: Option<ContactId>) -> Result<Option<String>> {
    let Some(id) = contact else { return Ok(None) };
    Ok(q::get_contact(h, ctx.org.id.0, id.0).await?.map(|c| c.into_contact()).transpose()?.map(|c| c.display_name))
}

/// The activity recording `kind` of `message`: in the Communication group,
/// seen by whom the message is seen by, linked to what it concerns.
pub(crate) fn message_activity(ctx: &Ctx, kind: ActivityKind, message: &Message, contact: Option<&str>, summary: String) -> NewActivity {
    let subject = EntityRef::new(EntityType::Message, message.id.0);
    let mut record = activity(ctx, kind, Some(message.customer_id), subject, Some(message.channel.noun().to_owned()), summary, Vec::new());
    record.visibility = message.visibility;
    record.detail = json!({
        "channel": message.channel,
        "direction": message.direction,
        "visibility": message.visibility,
        "subject": message.subject,
        "body": message.body,
        "contact": contact,
        "record": message.record.as_ref().and_then(|r| r.code.clone()),
        "duration_seconds": message.duration_seconds,
        "outcome": message.outcome,
        "pinned": message.pinned,
    });
    record.also_links = message
        .record
        .iter()
        .map(|r| EntityRef::new(r.kind.entity(), r.id))
        .chain(message.contact_id.map(|c| EntityRef::new(EntityType::Contact, c.0)))
        .collect();
    record
}

/// Add a note, a logged call or another message to a customer.
pub async fn post_message(db: &Db, ctx: &Ctx, customer: &str, input: MessageInput) -> Result<Message> {
    Ok(post_message_with_files(db, ctx, customer, input, Vec::new()).await?.0)
}

/// Add a message with files that came with it (checked and kept by
/// [`crate::files::keep`]), in one transaction: the files take the
/// message's record and audience.
pub async fn post_message_with_files(db: &Db, ctx: &Ctx, customer: &str, input: MessageInput, files: Vec<Kept>) -> Result<(Message, Vec<StoredFile>)> {
    let access = ctx.require(Module::Messages, Action::Create)?;
    if !files.is_empty() {
        ctx.require(Module::Files, Action::Create)?;
    }
    let draft = input.parse(ctx.now());
    let mut tx = db.begin().await?;
    let customer = customers::find(&mut tx.handle(), ctx, customer).await?;
    let draft = draft?;
    if access == Access::Assigned && draft.record.as_ref().is_none_or(|(kind, _)| *kind != RecordType::Job) {
        return Err(ValidationErrors::one("record", "required", "a fieldworker's notes go on one of their jobs: give record_type job and its code").into());
    }
    let message = post_message_in(&mut tx, ctx, CustomerId(customer.id), draft).await?;
    let files = crate::files::record_message_files_in(&mut tx, ctx, &message, files).await?;
    tx.commit().await?;
    Ok((message, files))
}

/// Write a checked message of `customer` and record `message.posted`.
pub(crate) async fn post_message_in(tx: &mut Tx, ctx: &Ctx, customer: CustomerId, draft: MessageDraft) -> Result<Message> {
    let h = &mut tx.handle();
    let contact = match draft.contact_id {
        Some(id) => Some(contact_name(h, ctx, customer.0, id).await?),
        None => None,
    };
    let record = match &draft.record {
        Some((kind, reference)) => Some(resolve_record(h, ctx, customer.0, *kind, reference).await?),
        None => None,
    };
    let now = ctx.now();
    let message = Message {
        id: MessageId::new(),
        customer_id: customer,
        channel: draft.channel,
        direction: draft.direction,
        visibility: draft.visibility,
        author: ctx.actor.clone(),
        occurred_at: draft.occurred_at.unwrap_or(now),
        subject: draft.subject,
        body: draft.body,
        contact_id: draft.contact_id,
        record,
        duration_seconds: draft.duration_seconds,
        outcome: draft.outcome,
        pinned: draft.pinned,
        created_at: now,
        edited_at: None,
        deleted: None,
        delivery: None,
        recipients: None,
        email_message_id: None,
        provider_ref: None,
    };
    q::insert_messages(h, &[MessageRow::new(ctx.org.id.0, message.customer_id, &message)]).await?;
    let pinned = if message.pinned { " and pinned" } else { "" };
    let verb = if message.channel == dossier_domain::message::Channel::Note { "added" } else { "logged" };
    let summary = format!("{} {verb}{pinned}: {}", message.heading(contact.as_deref()), excerpt(&message.body, 100));
    tx.append(message_activity(ctx, ActivityKind::MessagePosted, &message, contact.as_deref(), summary)).await?;
    Ok(message)
}

/// Whether the caller wrote `message` (as a user or with that user's token)
/// or administers the org (or is the system): who may edit or delete it.
pub fn may_change(ctx: &Ctx, message: &Message) -> bool {
    ctx.is_author_or_admin(&message.author)
}

pub async fn get_message(db: &Db, ctx: &Ctx, id: &str) -> Result<Message> {
    ctx.require(Module::Messages, Action::View)?;
    let mut conn = db.read().await?;
    Ok(find(&mut conn.handle(), ctx, id).await?.into_message()?)
}

/// Change a message's words, audience or call details (its author or an
/// admin), or pin or unpin it (anyone who may write messages). Each change
/// is recorded with the old and new values.
pub async fn update_message(db: &Db, ctx: &Ctx, id: &str, patch: MessagePatch) -> Result<Message> {
    ctx.require(Module::Messages, Action::Create)?;
    let mut tx = db.begin().await?;
    let h = &mut tx.handle();
    let row = find(h, ctx, id).await?;
    let was_edited_at = row.edited_at;
    let mut message = row.into_message()?;
    if message.deleted.is_some() {
        return Err(ServiceError::conflict("message_deleted", "this message was deleted; it can no longer be changed"));
    }
    if !patch.only_pins() && !may_change(ctx, &message) {
        return Err(ServiceError::NotAuthor { what: "message", action: "edit" });
    }
    let pin = patch.pinned.filter(|p| *p != message.pinned);
    let old = message.content();
    let new = patch.apply(&message)?;
    let contact = contact_of(h, ctx, message.contact_id).await?;
    if new != old {
        let changes = diff(&old, &new);
        let now = ctx.now();
        let MessageContent { subject, body, visibility, duration_seconds, outcome } = new;
        message = Message { subject, body, visibility, duration_seconds, outcome, edited_at: Some(now), ..message };
        written(q::update_message(h, &MessageRow::new(ctx.org.id.0, message.customer_id, &message), was_edited_at).await?, "the message")?;
        if old.visibility != message.visibility {
            // What came with the message is seen by whom the message is.
            q::set_message_files_visibility(h, ctx.org.id.0, message.id.0, message.visibility).await?;
        }
        let audience = if old.visibility != message.visibility { format!(", now seen by {}", audience(message.visibility)) } else { String::new() };
        let summary = format!("{} edited{audience}: {}", message.heading(contact.as_deref()), excerpt(&message.body, 100));
        let mut record = message_activity(ctx, ActivityKind::MessageEdited, &message, contact.as_deref(), summary);
        // An audience change is shown to whoever could see either version.
        if old.visibility == Visibility::Customer {
            record.visibility = Visibility::Customer;
        }
        record.changes = changes;
        tx.append(record).await?;
    }
    if let Some(pinned) = pin {
        let h = &mut tx.handle();
        written(q::set_pinned(h, ctx.org.id.0, message.id.0, pinned).await?, "the message")?;
        message.pinned = pinned;
        let (kind, verb) = if pinned { (ActivityKind::MessagePinned, "pinned") } else { (ActivityKind::MessageUnpinned, "unpinned") };
        let summary = format!("{} {verb}: {}", message.heading(contact.as_deref()), excerpt(&message.body, 100));
        tx.append(message_activity(ctx, kind, &message, contact.as_deref(), summary)).await?;
    }
    tx.commit().await?;
    Ok(message)
}

fn audience(visibility: Visibility) -> &'static str {
    match visibility {
        Visibility::Customer => "the customer",
        Visibility::Internal => "staff only",
    }
}

/// Delete a message (its author or an admin): its text goes, a "deleted by
/// … at …" mark stays, and the activity keeps what it said.
pub async fn delete_message(db: &Db, ctx: &Ctx, id: &str) -> Result<Message> {
    ctx.require(Module::Messages, Action::Create)?;
    let mut tx = db.begin().await?;
    let h = &mut tx.handle();
    let message = find(h, ctx, id).await?.into_message()?;
    if !may_change(ctx, &message) {
        return Err(ServiceError::NotAuthor { what: "message", action: "delete" });
    }
    let now = ctx.now();
    if !q::delete_message(h, ctx.org.id.0, message.id.0, now.as_microsecond(), &ctx.actor.name).await? {
        return Err(ServiceError::conflict("message_deleted", "this message was deleted already"));
    }
    // Its files go with it (each keeps its "deleted by" mark).
    let files = q::delete_message_files(h, ctx.org.id.0, message.id.0, now.as_microsecond(), &ctx.actor.name).await?;
    let contact = contact_of(h, ctx, message.contact_id).await?;
    let with_files = match files {
        0 => String::new(),
        1 => " with its file".to_owned(),
        n => format!(" with its {n} files"),
    };
    let summary = format!("{}{with_files} deleted by {}", message.heading(contact.as_deref()), ctx.actor.name);
    let mut record = message_activity(ctx, ActivityKind::MessageDeleted, &message, contact.as_deref(), summary);
    record.changes = diff(&message.content(), &MessageContent { subject: None, body: String::new(), ..message.content() });
    tx.append(record).await?;
    tx.commit().await?;
    let deleted = dossier_domain::message::Deletion { by: ctx.actor.name.clone(), at: now };
    Ok(Message { body: String::new(), subject: None, pinned: false, deleted: Some(deleted), ..message })
}

impl MessageQuery {
    fn parse(&self, filter: &mut MessageFilter) -> Result<(Option<(i64, Uuid)>, i64), ValidationErrors> {
        let mut errors = ValidationErrors::default();
        if let Some(channels) = &self.channel {
            for channel in channels.split(',').map(str::trim).filter(|c| !c.is_empty()) {
                match dossier_domain::message::Channel::parse(channel) {
                    Some(c) => filter.channels.push(c),
                    None => errors.push("channel", "unknown_value", format!("'{channel}' is not a known channel")),
                }
            }
        }
        filter.pinned_only = self.pinned == Some(true);
        if let Some(q) = errors.take(dossier_domain::text::optional("q", self.q.clone(), 200)).flatten() {
            filter.words = search_words(&q);
        }
        // Cursors are `occurred_at:id` (microseconds since the epoch).
        let after = errors.take(time_cursor(self.cursor.as_deref())).flatten();
        let limit = errors.take(limit(self.limit));
        match limit {
            Some(limit) if errors.is_empty() => Ok((after, limit)),
            _ => Err(errors),
        }
    }
}

/// The words a search looks for: lower-case ASCII (accents folded), at most 8.
pub fn search_words(q: &str) -> Vec<String> {
    let mut words: Vec<String> = dossier_domain::text::words(q).collect();
    words.dedup();
    words.truncate(8);
    words
}

async fn page(h: &mut Handle<'_>, ctx: &Ctx, filter: MessageFilter, query: &MessageQuery) -> Result<Page<Message>> {
    let mut filter = filter;
    let (after, limit) = query.parse(&mut filter)?;
    let rows = q::list_messages(h, ctx.org.id.0, &filter, after, limit + 1).await?;
    paginate(rows, limit, |r| format!("{}:{}", r.occurred_at, r.id), |r| Ok(r.into_message()?))
}

/// A customer's messages, newest first (deleted ones as their marks).
pub async fn list_messages(db: &Db, ctx: &Ctx, customer: &str, query: MessageQuery) -> Result<Page<Message>> {
    let filter = scoped(ctx)?;
    let mut conn = db.read().await?;
    let h = &mut conn.handle();
    let customer = customers::find(h, ctx, customer).await?;
    page(h, ctx, MessageFilter { customer_id: Some(customer.id), ..filter }, &query).await
}

/// The messages about one record (a job, an invoice…), newest first, of
/// those the caller may see. `record` is the id of a record the caller was
/// shown (its page); messages are read within the caller's org and scope.
pub async fn record_messages(db: &Db, ctx: &Ctx, record: Uuid, query: MessageQuery) -> Result<Page<Message>> {
    let filter = scoped(ctx)?;
    let mut conn = db.read().await?;
    page(&mut conn.handle(), ctx, MessageFilter { record_id: Some(record), ..filter }, &query).await
}

/// The pinned (important) messages of a customer the caller may see (whose
/// id they were allowed to read), newest first: shown above everything on
/// the profile and in the customer summary.
pub(crate) async fn pinned_of(h: &mut Handle<'_>, ctx: &Ctx, customer: Uuid) -> Result<Vec<Message>> {
    let filter = MessageFilter { customer_id: Some(customer), pinned_only: true, ..scoped(ctx)? };
    first_messages(h, ctx, &filter, PINNED_SHOWN).await
}

/// The customer-visible messages of a customer, newest first, for the
/// portal and "view as the customer": deleted ones leave their mark.
pub(crate) async fn customer_visible(h: &mut Handle<'_>, ctx: &Ctx, customer: Uuid, limit: i64) -> Result<Vec<Message>> {
    let filter = MessageFilter { customer_id: Some(customer), customer_visible_only: true, ..Default::default() };
    first_messages(h, ctx, &filter, limit).await
}

/// The newest `limit` messages that pass `filter`, without paging.
async fn first_messages(h: &mut Handle<'_>, ctx: &Ctx, filter: &MessageFilter, limit: i64) -> Result<Vec<Message>> {
    let rows = q::list_messages(h, ctx.org.id.0, filter, None, limit).await?;
    Ok(rows.into_iter().map(MessageRow::into_message).collect::<Result<_, _>>()?)
}

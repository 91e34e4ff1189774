//! Messages: notes, logged calls, emails and the rest, per customer and
//! per record.

use dossier_domain::activity::{Actor, ActorType, Visibility};
use dossier_domain::ids::{ContactId, CustomerId, MessageId};
use dossier_domain::message::{CallOutcome, Channel, Deletion, Delivery, DeliveryStatus, Direction, Message, Recipients, RecordRef, RecordType};
use sqlx::QueryBuilder;
use uuid::Uuid;

use super::words::MESSAGE_WORDS;
use crate::customers::timestamp;
use crate::{Handle, Result, StoreError, run};

/// A message as stored.
#[derive(Clone, Debug, sqlx::FromRow)]
pub struct MessageRow {
    pub org_id: Uuid,
    pub id: Uuid,
    pub customer_id: Uuid,
    pub channel: String,
    pub direction: String,
    pub visibility: String,
    pub author_type: String,
    pub author_id: Option<Uuid>,
    pub author_name: String,
    pub occurred_at: i64,
    pub subject: Option<String>,
    pub body: String,
    pub contact_id: Option<Uuid>,
    pub record_type: Option<String>,
    pub record_id: Option<Uuid>,
    pub record_code: Option<String>,
    pub duration_seconds: Option<i64>,
    pub outcome: Option<String>,
    pub pinned: bool,
    pub created_at: i64,
    pub edited_at: Option<i64>,
    pub deleted_at: Option<i64>,
    pub deleted_by: Option<String>,
    pub delivery_status: Option<String>,
    pub delivery_detail: Option<String>,
    pub delivery_updated_at: Option<i64>,
    pub email_message_id: Option<String>,
    pub provider_ref: Option<String>,
    /// JSON of [`Recipients`].
    pub recipients: Option<String>,
}

impl MessageRow {
    /// The row of a new message.
    pub fn new(org_id: Uuid, customer_id: CustomerId, message: &Message) -> Self {
        Self {
            org_id,
            id: message.id.0,
            customer_id: customer_id.0,
            channel: message.channel.as_str().to_owned(),
            direction: message.direction.as_str().to_owned(),
            visibility: message.visibility.as_str().to_owned(),
            author_type: message.author.kind.as_str().to_owned(),
            author_id: message.author.id,
            author_name: message.author.name.clone(),
            occurred_at: message.occurred_at.as_microsecond(),
            subject: message.subject.clone(),
            body: message.body.clone(),
            contact_id: message.contact_id.map(|c| c.0),
            record_type: message.record.as_ref().map(|r| r.kind.as_str().to_owned()),
            record_id: message.record.as_ref().map(|r| r.id),
            record_code: message.record.as_ref().and_then(|r| r.code.clone()),
            duration_seconds: message.duration_seconds.map(i64::from),
            outcome: message.outcome.map(|o| o.as_str().to_owned()),
            pinned: message.pinned,
            created_at: message.created_at.as_microsecond(),
            edited_at: message.edited_at.map(|t| t.as_microsecond()),
            deleted_at: None,
            deleted_by: None,
            delivery_status: message.delivery.as_ref().map(|d| d.status.as_str().to_owned()),
            delivery_detail: message.delivery.as_ref().and_then(|d| d.detail.clone()),
            delivery_updated_at: message.delivery.as_ref().map(|d| d.updated_at.as_microsecond()),
            email_message_id: message.email_message_id.clone(),
            provider_ref: message.provider_ref.clone(),
            recipients: message.recipients.as_ref().map(|r| serde_json::to_string(r).expect("recipients serialise")),
        }
    }

    pub fn into_message(self) -> Result<Message> {
        let bad = |what: &str, value: &str| StoreError::corrupt(format!("message {} has {what} '{value}'", self.id));
        let record = match (&self.record_type, self.record_id) {
            (Some(kind), Some(id)) => {
                Some(RecordRef { kind: RecordType::parse(kind).ok_or_else(|| bad("record type", kind))?, id, code: self.record_code.clone() })
            }
            _ => None,
        };
        let deleted = match (self.deleted_at, &self.deleted_by) {
            (Some(at), by) => Some(Deletion { by: by.clone().unwrap_or_default(), at: timestamp(at)? }),
            _ => None,
        };
        let delivery = match (&self.delivery_status, self.delivery_updated_at) {
            (Some(status), Some(at)) => Some(Delivery {
                status: DeliveryStatus::parse(status).ok_or_else(|| bad("delivery status", status))?,
                detail: self.delivery_detail.clone(),
                updated_at: timestamp(at)?,
            }),
            _ => None,
        };
        let recipients = self
            .recipients
            .as_deref()
            .map(|r| serde_json::from_str::<Recipients>(r).map_err(|e| StoreError::corrupt(format!("message {} has recipients {e}", self.id))))
            .transpose()?;
        Ok(Message {
            id: MessageId(self.id),
            customer_id: CustomerId(self.customer_id),
            channel: Channel::parse(&self.channel).ok_or_else(|| bad("channel", &self.channel))?,
            direction: Direction::parse(&self.direction).ok_or_else(|| bad("direction", &self.direction))?,
            visibility: Visibility::parse(&self.visibility).ok_or_else(|| bad("visibility", &self.visibility))?,
            author: Actor {
                kind: ActorType::parse(&self.author_type).ok_or_else(|| bad("author type", &self.author_type))?,
                id: self.author_id,
                name: self.author_name.clone(),
            },
            occurred_at: timestamp(self.occurred_at)?,
            subject: self.subject.clone(),
            body: self.body.clone(),
            contact_id: self.contact_id.map(ContactId),
            record,
            duration_seconds: self.duration_seconds.map(|s| u32::try_from(s).map_err(StoreError::corrupt)).transpose()?,
            outcome: self.outcome.as_deref().map(|o| CallOutcome::parse(o).ok_or_else(|| bad("outcome", o))).transpose()?,
            pinned: self.pinned,
            created_at: timestamp(self.created_at)?,
            edited_at: self.edited_at.map(timestamp).transpose()?,
            deleted,
            delivery,
            recipients,
            email_message_id: self.email_message_id.clone(),
            provider_ref: self.provider_ref.clone(),
        })
    }
}

pub async fn insert_messages(h: &mut Handle<'_>, rows: &[MessageRow]) -> Result<()> {
    for chunk in crate::chunks::power_of_two(rows, 32) {
        run!(h, c => {
            let mut q = QueryBuilder::new(
                "INSERT INTO message (org_id, id, customer_id, channel, direction, visibility, author_type, author_id, author_name, occurred_at, \
                 subject, body, contact_id, record_type, record_id, record_code, duration_seconds, outcome, pinned, created_at, edited_at, \
                 delivery_status, delivery_detail, delivery_updated_at, email_message_id, provider_ref, recipients) ");
            q.push_values(chunk, |mut b, r| {
                b.push_bind(r.org_id).push_bind(r.id).push_bind(r.customer_id).push_bind(&r.channel).push_bind(&r.direction)
                    .push_bind(&r.visibility).push_bind(&r.author_type).push_bind(r.author_id).push_bind(&r.author_name).push_bind(r.occurred_at)
                    .push_bind(&r.subject).push_bind(&r.body).push_bind(r.contact_id).push_bind(&r.record_type).push_bind(r.record_id)
                    .push_bind(&r.record_code).push_bind(r.duration_seconds).push_bind(&r.outcome).push_bind(r.pinned).push_bind(r.created_at)
                    .push_bind(r.edited_at).push_bind(&r.delivery_status).push_bind(&r.delivery_detail).push_bind(r.delivery_updated_at)
                    .push_bind(&r.email_message_id).push_bind(&r.provider_ref).push_bind(&r.recipients);
            });
            q.build().execute(c).await.map(drop)?
        });
    }
    Ok(())
}

pub async fn get_message(h: &mut Handle<'_>, org_id: Uuid, id: Uuid) -> Result<Option<MessageRow>> {
    Ok(run!(h, c => sqlx::query_as("SELECT * FROM message WHERE org_id = $1 AND id = $2").bind(org_id).bind(id).fetch_optional(c).await?))
}

/// Write a message's new words, audience and call details, unless it was
/// deleted or edited meanwhile (`was_edited_at` is what the caller read):
/// `false` then, and nothing changes.
pub async fn update_message(h: &mut Handle<'_>, row: &MessageRow, was_edited_at: Option<i64>) -> Result<bool> {
    let done = run!(h, c => sqlx::query(
        "UPDATE message SET subject = $3, body = $4, visibility = $5, duration_seconds = $6, outcome = $7, edited_at = $8 \
         WHERE org_id = $1 AND id = $2 AND deleted_at IS NULL AND COALESCE(edited_at, -1) = COALESCE($9, -1)")
        .bind(row.org_id).bind(row.id).bind(&row.subject).bind(&row.body).bind(&row.visibility).bind(row.duration_seconds)
        .bind(&row.outcome).bind(row.edited_at).bind(was_edited_at)
        .execute(c).await?.rows_affected());
    Ok(done == 1)
}

/// Pin or unpin a message: `false` if it already was so, or is deleted.
pub async fn set_pinned(h: &mut Handle<'_>, org_id: Uuid, id: Uuid, pinned: bool) -> Result<bool> {
    let done = run!(h, c => sqlx::query("UPDATE message SET pinned = $3 WHERE org_id = $1 AND id = $2 AND pinned <> $3 AND deleted_at IS NULL")
        .bind(org_id).bind(id).bind(pinned).execute(c).await?.rows_affected());
    Ok(done == 1)
}

/// Blank a message's text and mark who deleted it: `false` if it was
/// deleted already.
pub async fn delete_message(h: &mut Handle<'_>, org_id: Uuid, id: Uuid, at: i64, by: &str) -> Result<bool> {
    let done = run!(h, c => sqlx::query(
        "UPDATE message SET deleted_at = $3, deleted_by = $4, body = '', subject = NULL, pinned = FALSE \
         WHERE org_id = $1 AND id = $2 AND deleted_at IS NULL")
        .bind(org_id).bind(id).bind(at).bind(by).execute(c).await?.rows_affected());
    Ok(done == 1)
}

/// Move a message's delivery to `status` if it is now in one of `from`
/// (one statement, so two workers or a worker and a webhook cannot both
/// move it): `false` if it was not, and nothing changes.
pub async fn set_delivery(
    h: &mut Handle<'_>,
    org_id: Uuid,
    id: Uuid,
    from: &[DeliveryStatus],
    status: DeliveryStatus,
    detail: Option<&str>,
    at: i64,
) -> Result<bool> {
    let done = run!(h, c => {
        let mut q = QueryBuilder::new("UPDATE message SET delivery_status = ");
        q.push_bind(status.as_str()).push(", delivery_detail = ").push_bind(detail).push(", delivery_updated_at = ").push_bind(at);
        q.push(" WHERE org_id = ").push_bind(org_id).push(" AND id = ").push_bind(id).push(" AND delivery_status IN (");
        let mut list = q.separated(", ");
        for s in from {
            list.push_bind(s.as_str());
        }
        q.push(")");
        q.build().execute(c).await?.rows_affected()
    });
    Ok(done == 1)
}

/// Record the SMS gateway's id of a sent text.
pub async fn set_provider_ref(h: &mut Handle<'_>, org_id: Uuid, id: Uuid, provider_ref: &str) -> Result<()> {
    run!(h, c => sqlx::query("UPDATE message SET provider_ref = $3 WHERE org_id = $1 AND id = $2")
        .bind(org_id).bind(id).bind(provider_ref).execute(c).await.map(drop)?);
    Ok(())
}

/// The org's message with this RFC 5322 Message-ID (without `<>`).
pub async fn message_by_email_id(h: &mut Handle<'_>, org_id: Uuid, email_message_id: &str) -> Result<Option<MessageRow>> {
    Ok(run!(h, c => sqlx::query_as("SELECT * FROM message WHERE org_id = $1 AND email_message_id = $2")
        .bind(org_id).bind(email_message_id).fetch_optional(c).await?))
}

/// The org's message the SMS gateway knows by this id.
pub async fn message_by_provider_ref(h: &mut Handle<'_>, org_id: Uuid, provider_ref: &str) -> Result<Option<MessageRow>> {
    Ok(run!(h, c => sqlx::query_as("SELECT * FROM message WHERE org_id = $1 AND provider_ref = $2")
        .bind(org_id).bind(provider_ref).fetch_optional(c).await?))
}

/// Which messages a list holds.
#[derive(Clone, Debug, Default)]
pub struct MessageFilter {
    pub customer_id: Option<Uuid>,
    /// Only those about this record (a job, an invoice…).
    pub record_id: Option<Uuid>,
    /// Only these channels (any when empty).
    pub channels: Vec<Channel>,
    pub pinned_only: bool,
    /// Only those the customer may see (the portal).
    pub customer_visible_only: bool,
    /// Leave deleted messages out (the portal, pinned notes).
    pub live_only: bool,
    /// Only those about jobs this user is assigned to (a fieldworker).
    pub jobs_assigned_to: Option<Uuid>,
    /// Only those whose subject or body has a word starting with each of
    /// these (lower-case ASCII letters and digits, as `text::words` gives).
    /// Needs `customer_id`.
    pub words: Vec<String>,
}

/// A page of messages, newest first (by when they were said), after the
/// `(occurred_at, id)` of the previous page's last.
pub async fn list_messages(h: &mut Handle<'_>, org_id: Uuid, filter: &MessageFilter, after: Option<(i64, Uuid)>, limit: i64) -> Result<Vec<MessageRow>> {
    let search = MESSAGE_WORDS.search(matches!(h, Handle::Sqlite(_)), filter.customer_id, &filter.words);
    Ok(run!(h, c => {
        let mut q = QueryBuilder::new("SELECT m.* FROM message m");
        if let Some(search) = &search {
            search.push_join(&mut q, "m");
        }
        q.push(" WHERE m.org_id = ");
        q.push_bind(org_id);
        if let Some(search) = &search {
            search.push_condition(&mut q, "m");
        }
        if let Some(customer) = filter.customer_id {
            q.push(" AND m.customer_id = ").push_bind(customer);
        }
        if let Some(record) = filter.record_id {
            q.push(" AND m.record_id = ").push_bind(record);
        }
        if !filter.channels.is_empty() {
            q.push(" AND m.channel IN (");
            let mut list = q.separated(", ");
            for channel in &filter.channels {
                list.push_bind(channel.as_str());
            }
            q.push(")");
        }
        if filter.pinned_only {
            q.push(" AND m.pinned = TRUE");
        }
        if filter.customer_visible_only {
            q.push(" AND m.visibility = 'customer'");
        }
        if filter.live_only {
            q.push(" AND m.deleted_at IS NULL");
        }
        if let Some(user) = filter.jobs_assigned_to {
            q.push(" AND m.record_type = 'job' AND m.record_id IN (SELECT job_id FROM job_assignee WHERE org_id = ").push_bind(org_id)
                .push(" AND user_id = ").push_bind(user).push(")");
        }
        if let Some((at, id)) = after {
            q.push(" AND (m.occurred_at < ").push_bind(at).push(" OR (m.occurred_at = ").push_bind(at).push(" AND m.id < ").push_bind(id).push("))");
        }
        q.push(" ORDER BY m.occurred_at DESC, m.id DESC LIMIT ").push_bind(limit);
        q.build_query_as().fetch_all(c).await?
    }))
}

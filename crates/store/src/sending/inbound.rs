//! Inbound mail: the inbox of mail that matched no customer, the per-org
//! secret a mail server presents, and who an address belongs to.

use dossier_domain::sending::inbound::{InboxChannel, InboxStatus};
use uuid::Uuid;

use crate::{Handle, Result, run};

/// An unmatched inbound mail (or text) as stored.
#[derive(Clone, Debug, sqlx::FromRow)]
pub struct InboxItemRow {
    pub org_id: Uuid,
    pub id: Uuid,
    pub channel: String,
    /// The email's Message-ID (or the gateway's id of a text).
    pub message_ref: Option<String>,
    pub from_address: String,
    pub from_name: Option<String>,
    pub subject: Option<String>,
    pub excerpt: String,
    /// The raw message in the blob store.
    pub raw_sha256: Option<String>,
    pub raw_size: Option<i64>,
    /// The raw text, bounded (a text message).
    pub raw_text: Option<String>,
    /// Why it matched no customer.
    pub reason: String,
    pub received_at: i64,
    pub status: String,
    pub assigned_customer_id: Option<Uuid>,
    pub assigned_message_id: Option<Uuid>,
    pub decided_by: Option<String>,
    pub decided_at: Option<i64>,
}

impl InboxItemRow {
    /// A new open item of `channel` from `from_address`, with why it
    /// matched no customer; what only some channels have (a sender's name,
    /// a subject, the raw message) is set by the caller.
    pub fn open(org_id: Uuid, channel: InboxChannel, message_ref: String, from_address: String, excerpt: String, reason: &str, received_at: i64) -> Self {
        Self {
            org_id,
            id: Uuid::now_v7(),
            channel: channel.as_str().to_owned(),
            message_ref: Some(message_ref),
            from_address,
            from_name: None,
            subject: None,
            excerpt,
            raw_sha256: None,
            raw_size: None,
            raw_text: None,
            reason: reason.to_owned(),
            received_at,
            status: InboxStatus::Open.as_str().to_owned(),
            assigned_customer_id: None,
            assigned_message_id: None,
            decided_by: None,
            decided_at: None,
        }
    }
}

/// Keep an item. One whose reference the org holds already is not kept
/// again: returns whether it was.
pub async fn insert_inbox_item(h: &mut Handle<'_>, row: &InboxItemRow) -> Result<bool> {
    let done = run!(h, c => sqlx::query(
        "INSERT INTO inbox_item (org_id, id, channel, message_ref, from_address, from_name, subject, excerpt, raw_sha256, raw_size, raw_text, reason, \
         received_at, status, assigned_customer_id, assigned_message_id, decided_by, decided_at) \
         VALUES ($1, $2, $3, $4, $5, $6, $7, $8, $9, $10, $11, $12, $13, $14, $15, $16, $17, $18) \
         ON CONFLICT (org_id, channel, message_ref) DO NOTHING")
        .bind(row.org_id).bind(row.id).bind(&row.channel).bind(&row.message_ref).bind(&row.from_address).bind(&row.from_name).bind(&row.subject)
        .bind(&row.excerpt).bind(&row.raw_sha256).bind(row.raw_size).bind(&row.raw_text).bind(&row.reason).bind(row.received_at).bind(&row.status)
        .bind(row.assigned_customer_id).bind(row.assigned_message_id).bind(&row.decided_by).bind(row.decided_at)
        .execute(c).await?.rows_affected());
    Ok(done == 1)
}

pub async fn get_inbox_item(h: &mut Handle<'_>, org_id: Uuid, id: Uuid) -> Result<Option<InboxItemRow>> {
    Ok(run!(h, c => sqlx::query_as("SELECT * FROM inbox_item WHERE org_id = $1 AND id = $2").bind(org_id).bind(id).fetch_optional(c).await?))
}

/// The item of `channel` with this reference (a Message-ID), if any.
pub async fn inbox_item_by_ref(h: &mut Handle<'_>, org_id: Uuid, channel: &str, message_ref: &str) -> Result<Option<InboxItemRow>> {
    Ok(run!(h, c => sqlx::query_as("SELECT * FROM inbox_item WHERE org_id = $1 AND channel = $2 AND message_ref = $3")
        .bind(org_id).bind(channel).bind(message_ref).fetch_optional(c).await?))
}

/// Items of a status, newest first, after the cursor `(received_at, id)`.
pub async fn list_inbox(h: &mut Handle<'_>, org_id: Uuid, status: &str, after: Option<(i64, Uuid)>, limit: i64) -> Result<Vec<InboxItemRow>> {
    Ok(match after {
        None => run!(h, c => sqlx::query_as(
            "SELECT * FROM inbox_item WHERE org_id = $1 AND status = $2 ORDER BY received_at DESC, id DESC LIMIT $3")
            .bind(org_id).bind(status).bind(limit).fetch_all(c).await?),
        Some((at, id)) => run!(h, c => sqlx::query_as(
            "SELECT * FROM inbox_item WHERE org_id = $1 AND status = $2 AND (received_at < $3 OR (received_at = $3 AND id < $4)) \
             ORDER BY received_at DESC, id DESC LIMIT $5")
            .bind(org_id).bind(status).bind(at).bind(id).bind(limit).fetch_all(c).await?),
    })
}

/// How many items of a status the org has (the nav's count).
pub async fn count_inbox(h: &mut Handle<'_>, org_id: Uuid, status: &str) -> Result<i64> {
    Ok(run!(h, c => sqlx::query_scalar("SELECT COUNT(*) FROM inbox_item WHERE org_id = $1 AND status = $2")
        .bind(org_id).bind(status).fetch_one(c).await?))
}

/// Mark an open item assigned to a customer's new message, in one
/// conditional statement: returns whether it was still open (two staff
/// assigning at once: only one does).
pub async fn assign_inbox_item(h: &mut Handle<'_>, org_id: Uuid, id: Uuid, customer: Uuid, message: Uuid, by: &str, at: i64) -> Result<bool> {
    let done = run!(h, c => sqlx::query(
        "UPDATE inbox_item SET status = 'assigned', assigned_customer_id = $3, assigned_message_id = $4, decided_by = $5, decided_at = $6 \
         WHERE org_id = $1 AND id = $2 AND status = 'open'")
        .bind(org_id).bind(id).bind(customer).bind(message).bind(by).bind(at).execute(c).await?.rows_affected());
    Ok(done == 1)
}

/// Mark an open item dismissed: returns whether it was still open.
pub async fn dismiss_inbox_item(h: &mut Handle<'_>, org_id: Uuid, id: Uuid, by: &str, at: i64) -> Result<bool> {
    let done = run!(h, c => sqlx::query(
        "UPDATE inbox_item SET status = 'dismissed', decided_by = $3, decided_at = $4 WHERE org_id = $1 AND id = $2 AND status = 'open'")
        .bind(org_id).bind(id).bind(by).bind(at).execute(c).await?.rows_affected());
    Ok(done == 1)
}

/// Set the org's inbound secret (its hash), replacing any other.
pub async fn set_inbound_secret(h: &mut Handle<'_>, org_id: Uuid, hash: &[u8], at: i64, by: &str) -> Result<()> {
    run!(h, c => sqlx::query(
        "INSERT INTO inbound_secret (org_id, secret_hash, created_at, created_by) VALUES ($1, $2, $3, $4) \
         ON CONFLICT (org_id) DO UPDATE SET secret_hash = excluded.secret_hash, created_at = excluded.created_at, created_by = excluded.created_by")
        .bind(org_id).bind(hash).bind(at).bind(by).execute(c).await.map(drop)?);
    Ok(())
}

/// The hash of the org's inbound secret, when it was made and by whom.
pub async fn inbound_secret(h: &mut Handle<'_>, org_id: Uuid) -> Result<Option<(Vec<u8>, i64, String)>> {
    Ok(run!(h, c => sqlx::query_as("SELECT secret_hash, created_at, created_by FROM inbound_secret WHERE org_id = $1")
        .bind(org_id).fetch_optional(c).await?))
}

/// The customers (and the record each address is on: the customer itself
/// or one of its contacts) whose email is `address` (lower case), through
/// the search index where every email is a term. At most `limit`.
pub async fn customers_with_email(h: &mut Handle<'_>, org_id: Uuid, address: &str, limit: i64) -> Result<Vec<(Uuid, Uuid)>> {
    Ok(run!(h, c => sqlx::query_as(
        "SELECT customer_id, source_id FROM customer_search WHERE org_id = $1 AND term = $2 ORDER BY customer_id, source_id LIMIT $3")
        .bind(org_id).bind(address).bind(limit).fetch_all(c).await?))
}

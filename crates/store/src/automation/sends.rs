//! What Dossier sent on its own, once per occurrence, and the work lists
//! its daily run goes through: overdue invoices, customers with an open
//! balance, customers with held emails.

use uuid::Uuid;

use crate::{Handle, MessageRow, Result, run};

/// One occurrence of an automated send and what came of it.
#[derive(Clone, Debug, sqlx::FromRow)]
pub struct AutomatedSendRow {
    pub org_id: Uuid,
    /// The occurrence (`invoice:<id>`, `reminder:<id>:2`, `statement:<customer>:2026-12`…).
    pub key: String,
    /// The template purpose it used.
    pub purpose: String,
    /// None for an org-wide run (the month's statements).
    pub customer_id: Option<Uuid>,
    pub record_id: Option<Uuid>,
    pub message_id: Option<Uuid>,
    /// queued, held or skipped.
    pub outcome: String,
    pub reason: Option<String>,
    pub created_at: i64,
}

/// Record an occurrence: `false` if the org recorded this key before (it
/// was acted on already, and nothing is written).
pub async fn insert_automated_send(h: &mut Handle<'_>, row: &AutomatedSendRow) -> Result<bool> {
    let done = run!(h, c => sqlx::query(
        "INSERT INTO automated_send (org_id, key, purpose, customer_id, record_id, message_id, outcome, reason, created_at) \
         VALUES ($1, $2, $3, $4, $5, $6, $7, $8, $9) ON CONFLICT (org_id, key) DO NOTHING")
        .bind(row.org_id).bind(&row.key).bind(&row.purpose).bind(row.customer_id).bind(row.record_id).bind(row.message_id)
        .bind(&row.outcome).bind(&row.reason).bind(row.created_at)
        .execute(c).await?.rows_affected());
    Ok(done == 1)
}

/// Whether the org recorded this key (an occurrence, or an org-wide run).
pub async fn automated_send_done(h: &mut Handle<'_>, org_id: Uuid, key: &str) -> Result<bool> {
    let found: Option<(String,)> = run!(h, c => sqlx::query_as("SELECT key FROM automated_send WHERE org_id = $1 AND key = $2")
        .bind(org_id).bind(key).fetch_optional(c).await?);
    Ok(found.is_some())
}

/// The automated send that wrote a message, if one did.
pub async fn automated_send_of_message(h: &mut Handle<'_>, org_id: Uuid, message_id: Uuid) -> Result<Option<AutomatedSendRow>> {
    Ok(run!(h, c => sqlx::query_as("SELECT * FROM automated_send WHERE org_id = $1 AND message_id = $2")
        .bind(org_id).bind(message_id).fetch_optional(c).await?))
}

/// An open invoice with something left to pay, due on or before a day.
#[derive(Clone, Debug, sqlx::FromRow)]
pub struct OverdueRow {
    pub id: Uuid,
    pub number: i64,
    pub customer_id: Uuid,
    pub due_date: String,
}

/// Open invoices with a balance due on or before `due_by` (`YYYY-MM-DD`),
/// numbered after `after`, in number order: one page of at most `limit`.
/// None of a deleted customer (nor in the two queries below): automations
/// send a deleted customer nothing.
pub async fn overdue_invoices(h: &mut Handle<'_>, org_id: Uuid, due_by: &str, after: i64, limit: i64) -> Result<Vec<OverdueRow>> {
    Ok(run!(h, c => sqlx::query_as(
        "SELECT id, number, customer_id, due_date FROM invoice \
         WHERE org_id = $1 AND status = 'open' AND due_date IS NOT NULL AND due_date <= $2 AND total > paid + credited AND number > $3 \
         AND NOT EXISTS (SELECT 1 FROM customer gone WHERE gone.org_id = invoice.org_id AND gone.id = invoice.customer_id AND gone.deleted_at IS NOT NULL) ORDER BY number LIMIT $4")
        .bind(org_id).bind(due_by).bind(after).bind(limit).fetch_all(c).await?))
}

/// Customers with an open invoice (an open balance), after `after` in id
/// order: one page of at most `limit`.
pub async fn customers_owing(h: &mut Handle<'_>, org_id: Uuid, after: Uuid, limit: i64) -> Result<Vec<Uuid>> {
    let rows: Vec<(Uuid,)> = run!(h, c => sqlx::query_as(
        "SELECT DISTINCT customer_id FROM invoice WHERE org_id = $1 AND status = 'open' AND total > paid + credited AND customer_id > $2 \
         AND NOT EXISTS (SELECT 1 FROM customer gone WHERE gone.org_id = invoice.org_id AND gone.id = invoice.customer_id AND gone.deleted_at IS NOT NULL) ORDER BY customer_id LIMIT $3")
        .bind(org_id).bind(after).bind(limit).fetch_all(c).await?);
    Ok(rows.into_iter().map(|(id,)| id).collect())
}

/// Customers with a held email, after `after` in id order: one page of at most `limit`.
pub async fn customers_with_held(h: &mut Handle<'_>, org_id: Uuid, after: Uuid, limit: i64) -> Result<Vec<Uuid>> {
    let rows: Vec<(Uuid,)> = run!(h, c => sqlx::query_as(
        "SELECT DISTINCT customer_id FROM message WHERE org_id = $1 AND delivery_status = 'held' AND customer_id > $2 \
         AND NOT EXISTS (SELECT 1 FROM customer gone WHERE gone.org_id = message.org_id AND gone.id = message.customer_id AND gone.deleted_at IS NOT NULL) ORDER BY customer_id LIMIT $3")
        .bind(org_id).bind(after).bind(limit).fetch_all(c).await?);
    Ok(rows.into_iter().map(|(id,)| id).collect())
}

/// A customer's held messages, oldest first.
pub async fn held_messages(h: &mut Handle<'_>, org_id: Uuid, customer_id: Uuid) -> Result<Vec<MessageRow>> {
    Ok(run!(h, c => sqlx::query_as(
        "SELECT * FROM message WHERE org_id = $1 AND customer_id = $2 AND delivery_status = 'held' ORDER BY created_at, id")
        .bind(org_id).bind(customer_id).fetch_all(c).await?))
}

/// The org's automated sends, newest first (at most `limit`).
pub async fn list_automated_sends(h: &mut Handle<'_>, org_id: Uuid, limit: i64) -> Result<Vec<AutomatedSendRow>> {
    Ok(run!(h, c => sqlx::query_as("SELECT * FROM automated_send WHERE org_id = $1 ORDER BY created_at DESC, key LIMIT $2")
        .bind(org_id).bind(limit).fetch_all(c).await?))
}

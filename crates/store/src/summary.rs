//! The figures of a customer's summary: counts and totals per status (the
//! status bars, kept in `customer_bar` by triggers), open invoices,
//! completed work, last activity.
//!
//! A kept bar groups by the same expression its list filters by (`status`,
//! or an invoice's state as [`crate::billing::push_invoice_state`] has it,
//! overdue split off from the open invoices when read), so a bar and the
//! list behind its "Show all" cannot disagree.

use uuid::Uuid;

use crate::{Handle, Result, run};

/// One kept bar: how many of a customer's records of one type have a
/// status, their total and their balance (see migration 0005).
#[derive(Clone, Debug, PartialEq, Eq, sqlx::FromRow)]
pub struct BarRow {
    /// The record type, named as `EntityType` names it: `inquiry`, `quote`,
    /// `job`, `invoice`, `payment` or `credit_note`.
    pub record: String,
    /// The stored status; for invoices `credited` is told apart from
    /// `closed`; payments and credit notes have the one status `all`.
    pub status: String,
    pub count: i64,
    /// The records' amounts: an inquiry's estimated value, a quote's or an
    /// invoice's total, a job's value, a payment's or credit note's amount.
    pub total: i64,
    /// What is left: of invoices, to pay; of payments and credit notes, to
    /// allocate; 0 for the others.
    pub balance: i64,
}

/// A customer's kept bars, every record type at once.
pub async fn customer_bars(h: &mut Handle<'_>, org_id: Uuid, customer_id: Uuid) -> Result<Vec<BarRow>> {
    Ok(run!(h, c => sqlx::query_as(
        "SELECT record, status, count, total, balance FROM customer_bar WHERE org_id = $1 AND customer_id = $2 AND count <> 0")
        .bind(org_id).bind(customer_id).fetch_all(c).await?))
}

/// A kept bar and its customer.
#[derive(Clone, Debug, PartialEq, Eq, sqlx::FromRow)]
pub struct CustomerBar {
    pub customer_id: Uuid,
    #[sqlx(flatten)]
    pub bar: BarRow,
}

/// The bars as counted from the records themselves, for every customer of
/// the org: what [`customer_bars`] must agree with.
pub async fn recount_bars(h: &mut Handle<'_>, org_id: Uuid) -> Result<Vec<CustomerBar>> {
    Ok(run!(h, c => sqlx::query_as(
        "SELECT customer_id, 'inquiry' AS record, status, COUNT(*) AS count, CAST(SUM(estimated_value) AS BIGINT) AS total, CAST(0 AS BIGINT) AS balance \
         FROM inquiry WHERE org_id = $1 GROUP BY 1, 2, 3 \
         UNION ALL SELECT customer_id, 'quote', status, COUNT(*), CAST(SUM(total) AS BIGINT), CAST(0 AS BIGINT) FROM quote WHERE org_id = $1 GROUP BY 1, 2, 3 \
         UNION ALL SELECT customer_id, 'job', status, COUNT(*), CAST(SUM(value) AS BIGINT), CAST(0 AS BIGINT) FROM job WHERE org_id = $1 GROUP BY 1, 2, 3 \
         UNION ALL SELECT customer_id, 'invoice', CASE WHEN status = 'closed' AND total > 0 AND credited >= total THEN 'credited' ELSE status END, \
                COUNT(*), CAST(SUM(total) AS BIGINT), CAST(SUM(total - paid - credited) AS BIGINT) FROM invoice WHERE org_id = $1 GROUP BY 1, 2, 3 \
         UNION ALL SELECT customer_id, 'payment', 'all', COUNT(*), CAST(SUM(amount) AS BIGINT), CAST(SUM(amount - allocated) AS BIGINT) FROM payment WHERE org_id = $1 GROUP BY 1, 2, 3 \
         UNION ALL SELECT customer_id, 'credit_note', 'all', COUNT(*), CAST(SUM(amount) AS BIGINT), CAST(SUM(amount - allocated) AS BIGINT) FROM credit_note WHERE org_id = $1 GROUP BY 1, 2, 3")
        .bind(org_id).fetch_all(c).await?))
}

/// Every kept bar of the org that is not empty.
pub async fn all_bars(h: &mut Handle<'_>, org_id: Uuid) -> Result<Vec<CustomerBar>> {
    Ok(run!(h, c => sqlx::query_as(
        "SELECT customer_id, record, status, count, total, balance FROM customer_bar WHERE org_id = $1 AND count <> 0")
        .bind(org_id).fetch_all(c).await?))
}

/// Counts and values of a customer's jobs by status, only those `assignee`
/// is assigned to (a fieldworker's own bars, counted live).
pub async fn assigned_job_counts(h: &mut Handle<'_>, org_id: Uuid, customer_id: Uuid, assignee: Uuid) -> Result<Vec<BarRow>> {
    Ok(run!(h, c => sqlx::query_as(
        "SELECT 'job' AS record, status, COUNT(*) AS count, CAST(COALESCE(SUM(value), 0) AS BIGINT) AS total, CAST(0 AS BIGINT) AS balance \
         FROM job WHERE org_id = $1 AND customer_id = $2 \
         AND id IN (SELECT job_id FROM job_assignee WHERE org_id = $1 AND user_id = $3) GROUP BY status")
        .bind(org_id).bind(customer_id).bind(assignee).fetch_all(c).await?))
}

/// One open invoice of a customer: its due date, total and balance.
#[derive(Clone, Debug, PartialEq, Eq, sqlx::FromRow)]
pub struct OpenInvoice {
    pub due_date: String,
    pub total: i64,
    pub balance: i64,
}

/// Due date, total and balance of each of a customer's open invoices, for
/// ageing and to tell the overdue ones from the others.
pub async fn open_invoices(h: &mut Handle<'_>, org_id: Uuid, customer_id: Uuid) -> Result<Vec<OpenInvoice>> {
    Ok(run!(h, c => sqlx::query_as(
        "SELECT due_date, total, total - paid - credited AS balance FROM invoice WHERE org_id = $1 AND customer_id = $2 AND status = 'open' ORDER BY due_date")
        .bind(org_id).bind(customer_id).fetch_all(c).await?))
}

/// Number and value of jobs completed since `since` (microseconds); only
/// those `assignee` is assigned to when given.
pub async fn completed_jobs_since(h: &mut Handle<'_>, org_id: Uuid, customer_id: Uuid, since: i64, assignee: Option<Uuid>) -> Result<(i64, i64)> {
    Ok(run!(h, c => sqlx::query_as(
        "SELECT COUNT(*), CAST(COALESCE(SUM(value), 0) AS BIGINT) FROM job \
         WHERE org_id = $1 AND customer_id = $2 AND status = 'completed' AND completed_at >= $3 \
         AND ($4 IS NULL OR id IN (SELECT job_id FROM job_assignee WHERE org_id = $1 AND user_id = $4))")
        .bind(org_id).bind(customer_id).bind(since).bind(assignee).fetch_one(c).await?))
}

/// When the newest activity on the customer's timeline happened (microseconds).
pub async fn last_activity_at(h: &mut Handle<'_>, org_id: Uuid, customer_id: Uuid) -> Result<Option<i64>> {
    Ok(run!(h, c => sqlx::query_scalar(
        "SELECT a.occurred_at FROM activity_link l JOIN activity a ON a.org_id = l.org_id AND a.id = l.activity_id \
         WHERE l.org_id = $1 AND l.entity_type = 'customer' AND l.entity_id = $2 ORDER BY l.activity_id DESC LIMIT 1")
        .bind(org_id).bind(customer_id).fetch_optional(c).await?))
}

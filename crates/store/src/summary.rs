//! The figures of a customer's summary: counts and totals per status (the
//! status bars), balances, account credit, completed work, last activity.
//!
//! Each bar groups by the same expression its list filters by (`status`, or
//! an invoice's state from [`crate::billing::push_invoice_state`]), so a bar
//! and the list behind its "Show all" cannot disagree.

use jiff::civil::Date;
use sqlx::QueryBuilder;
use uuid::Uuid;

use crate::billing::push_invoice_state;
use crate::{Handle, Result, run};

/// One bar: a status (or state), how many records and their amounts.
#[derive(Clone, Debug, PartialEq, Eq, sqlx::FromRow)]
pub struct StatusCount {
    pub status: String,
    pub count: i64,
    /// The records' amounts: an inquiry's estimated value, a quote's or an
    /// invoice's total, a job's value.
    pub total: i64,
    /// What is left to pay (invoices only; 0 for the others).
    pub balance: i64,
}

/// The work record tables that have status bars, and the amount each adds up.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum WorkTable {
    Inquiry,
    Quote,
    Job,
}

impl WorkTable {
    fn sql(self) -> &'static str {
        match self {
            WorkTable::Inquiry => {
                "SELECT status, COUNT(*) AS count, CAST(COALESCE(SUM(estimated_value), 0) AS BIGINT) AS total, CAST(0 AS BIGINT) AS balance \
                 FROM inquiry WHERE org_id = $1 AND customer_id = $2 GROUP BY status"
            }
            WorkTable::Quote => {
                "SELECT status, COUNT(*) AS count, CAST(COALESCE(SUM(total), 0) AS BIGINT) AS total, CAST(0 AS BIGINT) AS balance \
                 FROM quote WHERE org_id = $1 AND customer_id = $2 GROUP BY status"
            }
            WorkTable::Job => {
                "SELECT status, COUNT(*) AS count, CAST(COALESCE(SUM(value), 0) AS BIGINT) AS total, CAST(0 AS BIGINT) AS balance \
                 FROM job WHERE org_id = $1 AND customer_id = $2 \
                 AND ($3 IS NULL OR id IN (SELECT job_id FROM job_assignee WHERE org_id = $1 AND user_id = $3)) GROUP BY status"
            }
        }
    }
}

/// Counts and totals of a customer's records of one kind, by status; of
/// jobs, only those `assignee` is assigned to when given.
pub async fn status_counts(h: &mut Handle<'_>, org_id: Uuid, customer_id: Uuid, table: WorkTable, assignee: Option<Uuid>) -> Result<Vec<StatusCount>> {
    Ok(run!(h, c => {
        let query = sqlx::query_as(table.sql()).bind(org_id).bind(customer_id);
        match table {
            WorkTable::Job => query.bind(assignee),
            WorkTable::Inquiry | WorkTable::Quote => query,
        }.fetch_all(c).await?
    }))
}

/// Counts, totals and balances of a customer's invoices by state as of `today`.
pub async fn invoice_state_counts(h: &mut Handle<'_>, org_id: Uuid, customer_id: Uuid, today: Date) -> Result<Vec<StatusCount>> {
    Ok(run!(h, c => {
        let mut q = QueryBuilder::new("SELECT ");
        push_invoice_state(&mut q, today.to_string());
        q.push(" AS status, COUNT(*) AS count, CAST(COALESCE(SUM(total), 0) AS BIGINT) AS total, \
                CAST(COALESCE(SUM(total - paid - credited), 0) AS BIGINT) AS balance FROM invoice WHERE org_id = ")
            .push_bind(org_id)
            .push(" AND customer_id = ")
            .push_bind(customer_id)
            .push(" GROUP BY 1");
        q.build_query_as().fetch_all(c).await?
    }))
}

/// Due date and balance of each of a customer's open invoices, for ageing.
pub async fn open_invoice_balances(h: &mut Handle<'_>, org_id: Uuid, customer_id: Uuid) -> Result<Vec<(String, i64)>> {
    Ok(run!(h, c => sqlx::query_as(
        "SELECT due_date, total - paid - credited FROM invoice WHERE org_id = $1 AND customer_id = $2 AND status = 'open' ORDER BY due_date")
        .bind(org_id).bind(customer_id).fetch_all(c).await?))
}

/// What the customer has paid or been credited that is not set against any
/// invoice yet.
pub async fn account_credit(h: &mut Handle<'_>, org_id: Uuid, customer_id: Uuid) -> Result<i64> {
    Ok(run!(h, c => sqlx::query_scalar(
        "SELECT CAST(COALESCE((SELECT SUM(amount - allocated) FROM payment WHERE org_id = $1 AND customer_id = $2), 0) \
               + COALESCE((SELECT SUM(amount - allocated) FROM credit_note WHERE org_id = $1 AND customer_id = $2), 0) AS BIGINT)")
        .bind(org_id).bind(customer_id).fetch_one(c).await?))
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

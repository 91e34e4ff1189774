//! The figures of a customer's summary: counts and totals per status (the
//! status bars, kept in `customer_bar` by triggers), and in one more
//! statement the open invoices' ageing, completed work, last activity and
//! whether any note is pinned.
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
    /// allocate (neither allocated nor refunded); 0 for the others.
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
         UNION ALL SELECT customer_id, 'payment', 'all', COUNT(*), CAST(SUM(amount) AS BIGINT), CAST(SUM(amount - allocated - refunded) AS BIGINT) FROM payment WHERE org_id = $1 GROUP BY 1, 2, 3 \
         UNION ALL SELECT customer_id, 'credit_note', 'all', COUNT(*), CAST(SUM(amount) AS BIGINT), CAST(SUM(amount - allocated - refunded) AS BIGINT) FROM credit_note WHERE org_id = $1 GROUP BY 1, 2, 3")
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

/// The days that bound a summary's ageing buckets, as stored dates
/// (`YYYY-MM-DD`): today, and 30, 60 and 90 days before it.
#[derive(Clone, Debug)]
pub struct AgeingBounds {
    pub today: String,
    pub days_30: String,
    pub days_60: String,
    pub days_90: String,
}

/// What a summary needs besides the kept bars, read in one statement: the
/// jobs completed since a moment, the last activity, and the customer's
/// open invoices summed by how far past due they are (when asked for).
#[derive(Clone, Debug, Default, PartialEq, Eq, sqlx::FromRow)]
pub struct SummaryFacts {
    pub completed_count: i64,
    pub completed_value: i64,
    /// Microseconds.
    pub last_activity_at: Option<i64>,
    /// Balance of every open invoice.
    pub open_balance: i64,
    /// Open invoices due before today: how many, their totals.
    pub overdue_count: i64,
    pub overdue_total: i64,
    /// Balances of the open invoices 1–30, 31–60, 61–90 and over 90 days past due.
    pub days_1_30: i64,
    pub days_31_60: i64,
    pub days_61_90: i64,
    pub days_over_90: i64,
    /// The earliest due date of the open invoices.
    pub oldest_due: Option<String>,
    /// 1 when any message of the customer is pinned, else 0: the pinned
    /// notes are read only then (most customers have none).
    pub any_pinned: i64,
}

impl SummaryFacts {
    /// Balance of the open invoices past their due date.
    pub fn overdue_balance(&self) -> i64 {
        self.days_1_30 + self.days_31_60 + self.days_61_90 + self.days_over_90
    }
}

/// A customer's [`SummaryFacts`]: completed jobs since `since`
/// (microseconds), only those `assignee` is assigned to when given; the
/// invoice figures only with `ageing` (zero without).
pub async fn summary_facts(
    h: &mut Handle<'_>,
    org_id: Uuid,
    customer_id: Uuid,
    since: i64,
    assignee: Option<Uuid>,
    ageing: Option<&AgeingBounds>,
) -> Result<SummaryFacts> {
    let bound = |pick: fn(&AgeingBounds) -> &String| ageing.map(|a| pick(a).clone());
    Ok(run!(h, c => sqlx::query_as(
        "SELECT j.completed_count, j.completed_value, \
           (SELECT a.occurred_at FROM activity_link l JOIN activity a ON a.org_id = l.org_id AND a.id = l.activity_id \
            WHERE l.org_id = $1 AND l.entity_type = 'customer' AND l.entity_id = $2 ORDER BY l.activity_id DESC LIMIT 1) AS last_activity_at, \
           i.open_balance, i.overdue_count, i.overdue_total, i.days_1_30, i.days_31_60, i.days_61_90, i.days_over_90, i.oldest_due, \
           CAST(CASE WHEN EXISTS (SELECT 1 FROM message WHERE org_id = $1 AND customer_id = $2 AND pinned = TRUE) THEN 1 ELSE 0 END AS BIGINT) AS any_pinned \
         FROM (SELECT COUNT(*) AS completed_count, CAST(COALESCE(SUM(value), 0) AS BIGINT) AS completed_value FROM job \
               WHERE org_id = $1 AND customer_id = $2 AND status = 'completed' AND completed_at >= $3 \
               AND ($4 IS NULL OR id IN (SELECT job_id FROM job_assignee WHERE org_id = $1 AND user_id = $4))) j, \
              (SELECT CAST(COALESCE(SUM(total - paid - credited), 0) AS BIGINT) AS open_balance, \
                 CAST(COALESCE(SUM(CASE WHEN due_date < $5 THEN 1 ELSE 0 END), 0) AS BIGINT) AS overdue_count, \
                 CAST(COALESCE(SUM(CASE WHEN due_date < $5 THEN total ELSE 0 END), 0) AS BIGINT) AS overdue_total, \
                 CAST(COALESCE(SUM(CASE WHEN due_date < $5 AND due_date >= $6 THEN total - paid - credited ELSE 0 END), 0) AS BIGINT) AS days_1_30, \
                 CAST(COALESCE(SUM(CASE WHEN due_date < $6 AND due_date >= $7 THEN total - paid - credited ELSE 0 END), 0) AS BIGINT) AS days_31_60, \
                 CAST(COALESCE(SUM(CASE WHEN due_date < $7 AND due_date >= $8 THEN total - paid - credited ELSE 0 END), 0) AS BIGINT) AS days_61_90, \
                 CAST(COALESCE(SUM(CASE WHEN due_date < $8 THEN total - paid - credited ELSE 0 END), 0) AS BIGINT) AS days_over_90, \
                 MIN(due_date) AS oldest_due \
               FROM invoice WHERE org_id = $1 AND customer_id = $2 AND status = 'open' AND $5 IS NOT NULL) i")
        .bind(org_id).bind(customer_id).bind(since).bind(assignee)
        .bind(bound(|a| &a.today)).bind(bound(|a| &a.days_30)).bind(bound(|a| &a.days_60)).bind(bound(|a| &a.days_90))
        .fetch_one(c).await?))
}

//! Inquiries, quotes and jobs, and who is assigned to which job.
//!
//! A job's assignees are kept twice, in the same transaction: as a JSON
//! list on the job (what the API shows) and as `job_assignee` rows (what a
//! fieldworker's "my jobs" list scans).

use dossier_domain::ids::{CustomerId, InquiryId, InvoiceId, JobId, QuoteId, UserId};
use dossier_domain::money::{Line, Money, Totals};
use dossier_domain::workflow::{InquiryStatus, JobStatus, QuoteStatus};
use dossier_domain::works::{Inquiry, Job, Quote};
use jiff::Timestamp;
use uuid::Uuid;

use crate::billing::{parse_date, parse_enum};
use crate::customers::timestamp;
use crate::{Handle, Result, StoreError, run};

// ---------------------------------------------------------------- inquiries

#[derive(Clone, Debug, sqlx::FromRow)]
pub struct InquiryRow {
    pub org_id: Uuid,
    pub id: Uuid,
    pub number: i64,
    /// The code it was given (`INV-00042`): its series' prefix at the time and its number.
    pub code: String,
    pub customer_id: Uuid,
    pub site_id: Option<Uuid>,
    pub contact_id: Option<Uuid>,
    pub status: String,
    pub title: String,
    pub description: Option<String>,
    pub estimated_value: i64,
    pub source: Option<String>,
    /// The code of the quote or job it became.
    pub converted_to: Option<String>,
    pub created_at: i64,
    pub updated_at: i64,
}

impl InquiryRow {
    pub fn code(&self) -> &str {
        &self.code
    }

    pub fn status(&self) -> Result<InquiryStatus> {
        parse_enum("inquiry status", &self.status, InquiryStatus::parse)
    }

    pub fn into_inquiry(self) -> Result<Inquiry> {
        Ok(Inquiry {
            id: InquiryId(self.id),
            code: self.code().to_string(),
            customer_id: CustomerId(self.customer_id),
            site_id: self.site_id.map(Into::into),
            contact_id: self.contact_id.map(Into::into),
            status: self.status()?,
            title: self.title,
            description: self.description,
            estimated_value: Money(self.estimated_value),
            source: self.source,
            converted_to: self.converted_to,
            created_at: timestamp(self.created_at)?,
            updated_at: timestamp(self.updated_at)?,
        })
    }
}

pub async fn insert_inquiry(h: &mut Handle<'_>, row: &InquiryRow) -> Result<()> {
    run!(h, c => sqlx::query(
        "INSERT INTO inquiry (org_id, id, number, code, customer_id, site_id, contact_id, status, title, description, estimated_value, source, converted_to, \
         created_at, updated_at) VALUES ($1, $2, $3, $15, $4, $5, $6, $7, $8, $9, $10, $11, $12, $13, $14)")
        .bind(row.org_id).bind(row.id).bind(row.number).bind(row.customer_id).bind(row.site_id).bind(row.contact_id).bind(&row.status)
        .bind(&row.title).bind(&row.description).bind(row.estimated_value).bind(&row.source).bind(&row.converted_to)
        .bind(row.created_at).bind(row.updated_at).bind(&row.code)
        .execute(c).await.map(drop)?);
    Ok(())
}

/// Write an inquiry's status and what it was converted to, as in `row`.
/// Only if it is still in status `from`; returns whether it was written.
pub async fn update_inquiry(h: &mut Handle<'_>, row: &InquiryRow, from: &str) -> Result<bool> {
    let done = run!(h, c => sqlx::query("UPDATE inquiry SET status = $3, converted_to = $4, updated_at = $5 WHERE org_id = $1 AND id = $2 AND status = $6")
        .bind(row.org_id).bind(row.id).bind(&row.status).bind(&row.converted_to).bind(row.updated_at).bind(from)
        .execute(c).await?.rows_affected());
    Ok(done == 1)
}

// ---------------------------------------------------------------- quotes

#[derive(Clone, Debug, sqlx::FromRow)]
pub struct QuoteRow {
    pub org_id: Uuid,
    pub id: Uuid,
    pub number: i64,
    /// The code it was given (`INV-00042`): its series' prefix at the time and its number.
    pub code: String,
    pub customer_id: Uuid,
    pub site_id: Option<Uuid>,
    pub contact_id: Option<Uuid>,
    pub inquiry_id: Option<Uuid>,
    pub status: String,
    pub title: String,
    pub valid_until: Option<String>,
    pub lines: String,
    pub subtotal: i64,
    pub tax: i64,
    pub total: i64,
    /// The job made from it when it was accepted.
    pub job_id: Option<Uuid>,
    pub created_at: i64,
    pub updated_at: i64,
}

impl QuoteRow {
    pub fn code(&self) -> &str {
        &self.code
    }

    pub fn status(&self) -> Result<QuoteStatus> {
        parse_enum("quote status", &self.status, QuoteStatus::parse)
    }

    pub fn into_quote(self) -> Result<Quote> {
        let lines: Vec<Line> = serde_json::from_str(&self.lines).map_err(StoreError::corrupt)?;
        Ok(Quote {
            id: QuoteId(self.id),
            code: self.code().to_string(),
            customer_id: CustomerId(self.customer_id),
            site_id: self.site_id.map(Into::into),
            contact_id: self.contact_id.map(Into::into),
            inquiry_id: self.inquiry_id.map(InquiryId),
            status: self.status()?,
            title: self.title,
            valid_until: self.valid_until.as_deref().map(parse_date).transpose()?,
            lines,
            totals: Totals { subtotal: Money(self.subtotal), tax: Money(self.tax), total: Money(self.total) },
            job_id: self.job_id.map(JobId),
            created_at: timestamp(self.created_at)?,
            updated_at: timestamp(self.updated_at)?,
        })
    }
}

pub async fn insert_quote(h: &mut Handle<'_>, row: &QuoteRow) -> Result<()> {
    run!(h, c => sqlx::query(
        "INSERT INTO quote (org_id, id, number, code, customer_id, site_id, contact_id, inquiry_id, status, title, valid_until, lines, subtotal, tax, total, \
         job_id, created_at, updated_at) VALUES ($1, $2, $3, $18, $4, $5, $6, $7, $8, $9, $10, $11, $12, $13, $14, $15, $16, $17)")
        .bind(row.org_id).bind(row.id).bind(row.number).bind(row.customer_id).bind(row.site_id).bind(row.contact_id).bind(row.inquiry_id)
        .bind(&row.status).bind(&row.title).bind(&row.valid_until).bind(&row.lines).bind(row.subtotal).bind(row.tax).bind(row.total)
        .bind(row.job_id).bind(row.created_at).bind(row.updated_at).bind(&row.code)
        .execute(c).await.map(drop)?);
    Ok(())
}

/// Write a quote's status and job, as in `row`.
/// Only if it is still in status `from`; returns whether it was written.
pub async fn update_quote(h: &mut Handle<'_>, row: &QuoteRow, from: &str) -> Result<bool> {
    let done = run!(h, c => sqlx::query("UPDATE quote SET status = $3, job_id = $4, updated_at = $5 WHERE org_id = $1 AND id = $2 AND status = $6")
        .bind(row.org_id).bind(row.id).bind(&row.status).bind(row.job_id).bind(row.updated_at).bind(from)
        .execute(c).await?.rows_affected());
    Ok(done == 1)
}

/// Sent quotes whose valid-until date is before `today` (`YYYY-MM-DD`),
/// by number, at most `limit`: what expires. Quotes of deactivated
/// customers are left as they are (their records are read-only).
pub async fn expiring_quotes(h: &mut Handle<'_>, org_id: Uuid, today: &str, limit: i64) -> Result<Vec<QuoteRow>> {
    Ok(run!(h, c => sqlx::query_as(
        "SELECT q.* FROM quote q JOIN customer c ON c.org_id = q.org_id AND c.id = q.customer_id \
         WHERE q.org_id = $1 AND q.status = 'sent' AND q.valid_until < $2 AND c.status <> 'deactivated' AND c.deleted_at IS NULL ORDER BY q.number LIMIT $3")
        .bind(org_id).bind(today).bind(limit).fetch_all(c).await?))
}

/// Write a draft quote's title, validity, lines and totals as in `row`,
/// only if it is still a draft unchanged since it was read (`read_at`, its
/// `updated_at` then); returns whether it did.
pub async fn update_draft_quote(h: &mut Handle<'_>, row: &QuoteRow, read_at: i64) -> Result<bool> {
    let done = run!(h, c => sqlx::query(
        "UPDATE quote SET title = $3, valid_until = $4, lines = $5, subtotal = $6, tax = $7, total = $8, updated_at = $9 \
         WHERE org_id = $1 AND id = $2 AND status = 'draft' AND updated_at = $10")
        .bind(row.org_id).bind(row.id).bind(&row.title).bind(&row.valid_until).bind(&row.lines).bind(row.subtotal).bind(row.tax).bind(row.total)
        .bind(row.updated_at).bind(read_at)
        .execute(c).await?.rows_affected());
    Ok(done == 1)
}

// ---------------------------------------------------------------- jobs

#[derive(Clone, Debug, sqlx::FromRow)]
pub struct JobRow {
    pub org_id: Uuid,
    pub id: Uuid,
    pub number: i64,
    /// The code it was given (`INV-00042`): its series' prefix at the time and its number.
    pub code: String,
    pub customer_id: Uuid,
    pub site_id: Option<Uuid>,
    pub contact_id: Option<Uuid>,
    pub inquiry_id: Option<Uuid>,
    pub quote_id: Option<Uuid>,
    pub status: String,
    pub title: String,
    pub description: Option<String>,
    /// Microseconds since the epoch, like every stored instant.
    pub scheduled_start: Option<i64>,
    pub scheduled_end: Option<i64>,
    /// JSON list of user ids, kept in step with `job_assignee`.
    pub assignees: String,
    pub value: i64,
    pub free_of_charge: bool,
    pub completion_notes: Option<String>,
    pub completed_at: Option<i64>,
    pub created_at: i64,
    pub updated_at: i64,
    /// The invoice that bills it (not void): set only by claiming it for an
    /// invoice (see [`claim_job_for_invoice`]), never by the job's writes.
    #[sqlx(default)]
    pub invoice_id: Option<Uuid>,
    /// Custom field values as JSON text.
    pub custom_fields: String,
}

impl JobRow {
    pub fn code(&self) -> &str {
        &self.code
    }

    pub fn status(&self) -> Result<JobStatus> {
        parse_enum("job status", &self.status, JobStatus::parse)
    }

    pub fn assignees(&self) -> Result<Vec<UserId>> {
        serde_json::from_str(&self.assignees).map_err(StoreError::corrupt)
    }

    /// The scheduled window, if both ends are set.
    pub fn window(&self) -> Result<Option<(Timestamp, Timestamp)>> {
        match (self.scheduled_start, self.scheduled_end) {
            (Some(start), Some(end)) => Ok(Some((timestamp(start)?, timestamp(end)?))),
            _ => Ok(None),
        }
    }

    pub fn into_job(self) -> Result<Job> {
        Ok(Job {
            id: JobId(self.id),
            code: self.code().to_string(),
            customer_id: CustomerId(self.customer_id),
            site_id: self.site_id.map(Into::into),
            contact_id: self.contact_id.map(Into::into),
            inquiry_id: self.inquiry_id.map(InquiryId),
            quote_id: self.quote_id.map(QuoteId),
            status: self.status()?,
            assignees: self.assignees()?,
            title: self.title,
            description: self.description,
            scheduled_start: self.scheduled_start.map(timestamp).transpose()?,
            scheduled_end: self.scheduled_end.map(timestamp).transpose()?,
            value: Some(Money(self.value)),
            free_of_charge: self.free_of_charge,
            completion_notes: self.completion_notes,
            completed_at: self.completed_at.map(timestamp).transpose()?,
            invoice_id: self.invoice_id.map(InvoiceId),
            custom_fields: serde_json::from_str(&self.custom_fields).map_err(StoreError::corrupt)?,
            created_at: timestamp(self.created_at)?,
            updated_at: timestamp(self.updated_at)?,
        })
    }
}

/// Insert a job and its `job_assignee` rows.
pub async fn insert_job(h: &mut Handle<'_>, row: &JobRow) -> Result<()> {
    run!(h, c => sqlx::query(
        "INSERT INTO job (org_id, id, number, code, customer_id, site_id, contact_id, inquiry_id, quote_id, status, title, description, \
         scheduled_start, scheduled_end, assignees, value, free_of_charge, completion_notes, completed_at, created_at, updated_at, custom_fields) \
         VALUES ($1, $2, $3, $22, $4, $5, $6, $7, $8, $9, $10, $11, $12, $13, $14, $15, $16, $17, $18, $19, $20, $21)")
        .bind(row.org_id).bind(row.id).bind(row.number).bind(row.customer_id).bind(row.site_id).bind(row.contact_id)
        .bind(row.inquiry_id).bind(row.quote_id).bind(&row.status).bind(&row.title).bind(&row.description)
        .bind(row.scheduled_start).bind(row.scheduled_end).bind(&row.assignees).bind(row.value).bind(row.free_of_charge)
        .bind(&row.completion_notes).bind(row.completed_at).bind(row.created_at).bind(row.updated_at).bind(&row.custom_fields).bind(&row.code)
        .execute(c).await.map(drop)?);
    insert_assignees(h, row).await
}

async fn insert_assignees(h: &mut Handle<'_>, row: &JobRow) -> Result<()> {
    for user in row.assignees()? {
        run!(h, c => sqlx::query("INSERT INTO job_assignee (org_id, user_id, job_id) VALUES ($1, $2, $3)")
            .bind(row.org_id).bind(user.0).bind(row.id)
            .execute(c).await.map(drop)?);
    }
    Ok(())
}

/// Write a job's status, window, assignees and completion, as in `row`; the
/// `job_assignee` rows are replaced by the row's assignees.
/// Only if it is still in status `from`; returns whether it was written.
/// The assignee index is rewritten when `assignees_changed`.
pub async fn update_job(h: &mut Handle<'_>, row: &JobRow, from: &str, assignees_changed: bool) -> Result<bool> {
    let done = run!(h, c => sqlx::query(
        "UPDATE job SET status = $3, scheduled_start = $4, scheduled_end = $5, assignees = $6, completion_notes = $7, completed_at = $8, updated_at = $9 \
         WHERE org_id = $1 AND id = $2 AND status = $10")
        .bind(row.org_id).bind(row.id).bind(&row.status).bind(row.scheduled_start).bind(row.scheduled_end).bind(&row.assignees)
        .bind(&row.completion_notes).bind(row.completed_at).bind(row.updated_at).bind(from)
        .execute(c).await?.rows_affected());
    if done != 1 || !assignees_changed {
        return Ok(done == 1);
    }
    run!(h, c => sqlx::query("DELETE FROM job_assignee WHERE org_id = $1 AND job_id = $2").bind(row.org_id).bind(row.id).execute(c).await.map(drop)?);
    insert_assignees(h, row).await?;
    Ok(true)
}

/// Write a job's custom field values, as in `row`.
pub async fn update_job_fields(h: &mut Handle<'_>, row: &JobRow) -> Result<()> {
    run!(h, c => sqlx::query("UPDATE job SET custom_fields = $3, updated_at = $4 WHERE org_id = $1 AND id = $2")
        .bind(row.org_id).bind(row.id).bind(&row.custom_fields).bind(row.updated_at).execute(c).await.map(drop)?);
    Ok(())
}

/// Whether `user` is assigned to the job.
pub async fn is_assigned(h: &mut Handle<'_>, org_id: Uuid, user: Uuid, job_id: Uuid) -> Result<bool> {
    let found: Option<i64> = run!(h, c => sqlx::query_scalar("SELECT CAST(1 AS BIGINT) FROM job_assignee WHERE org_id = $1 AND user_id = $2 AND job_id = $3")
        .bind(org_id).bind(user).bind(job_id).fetch_optional(c).await?);
    Ok(found.is_some())
}

/// The jobs `user` is assigned to that are scheduled or in progress,
/// soonest first, at most `limit`.
pub async fn open_jobs_of(h: &mut Handle<'_>, org_id: Uuid, user: Uuid, limit: i64) -> Result<Vec<JobRow>> {
    Ok(run!(h, c => sqlx::query_as(
        "SELECT j.* FROM job_assignee a JOIN job j ON j.org_id = a.org_id AND j.id = a.job_id \
         WHERE a.org_id = $1 AND a.user_id = $2 AND j.status IN ('scheduled', 'in_progress') \
         AND NOT EXISTS (SELECT 1 FROM customer gone WHERE gone.org_id = j.org_id AND gone.id = j.customer_id AND gone.deleted_at IS NOT NULL) \
         ORDER BY j.scheduled_start, j.number LIMIT $3")
        .bind(org_id).bind(user).bind(limit).fetch_all(c).await?))
}

/// Whether `user` is assigned to any job of the customer.
pub async fn has_assigned_job(h: &mut Handle<'_>, org_id: Uuid, user: Uuid, customer_id: Uuid) -> Result<bool> {
    let found: Option<i64> = run!(h, c => sqlx::query_scalar(
        "SELECT CAST(1 AS BIGINT) FROM job_assignee a JOIN job j ON j.org_id = a.org_id AND j.id = a.job_id \
         WHERE a.org_id = $1 AND a.user_id = $2 AND j.customer_id = $3 LIMIT 1")
        .bind(org_id).bind(user).bind(customer_id).fetch_optional(c).await?);
    Ok(found.is_some())
}

/// What claiming a job for an invoice found.
#[derive(Clone, Debug, PartialEq, Eq)]
pub enum JobClaim {
    Claimed,
    /// No such job of this customer (made up, or another customer's).
    NotFound,
    /// Already billed by the invoice with this code.
    Billed(String),
}

/// Claim a job of `customer_id` for `invoice_id`, in one conditional
/// statement: it only succeeds if no other invoice holds the job.
pub async fn claim_job_for_invoice(h: &mut Handle<'_>, org_id: Uuid, job_id: Uuid, customer_id: Uuid, invoice_id: Uuid) -> Result<JobClaim> {
    let done = run!(h, c => sqlx::query("UPDATE job SET invoice_id = $4 WHERE org_id = $1 AND id = $2 AND customer_id = $3 AND invoice_id IS NULL")
        .bind(org_id).bind(job_id).bind(customer_id).bind(invoice_id).execute(c).await?.rows_affected());
    if done == 1 {
        return Ok(JobClaim::Claimed);
    }
    let holder: Option<String> = run!(h, c => sqlx::query_scalar(
        "SELECT i.code FROM job j JOIN invoice i ON i.org_id = j.org_id AND i.id = j.invoice_id WHERE j.org_id = $1 AND j.id = $2 AND j.customer_id = $3")
        .bind(org_id).bind(job_id).bind(customer_id).fetch_optional(c).await?);
    Ok(holder.map_or(JobClaim::NotFound, JobClaim::Billed))
}

/// Release the jobs an invoice held (it was voided), so they can be billed again.
pub async fn release_jobs_of_invoice(h: &mut Handle<'_>, org_id: Uuid, job_ids: &[Uuid], invoice_id: Uuid) -> Result<()> {
    for job_id in job_ids {
        run!(h, c => sqlx::query("UPDATE job SET invoice_id = NULL WHERE org_id = $1 AND id = $2 AND invoice_id = $3")
            .bind(org_id).bind(job_id).bind(invoice_id).execute(c).await.map(drop)?);
    }
    Ok(())
}

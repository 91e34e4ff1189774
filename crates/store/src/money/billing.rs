//! Invoices, payments, credit notes and the allocations between them.
//!
//! An invoice's `paid` and `credited` are the sums of its allocation rows,
//! written in the same transaction as each allocation; the database checks
//! they never exceed the total, and a payment's or credit note's `allocated`
//! never exceeds its amount.

use dossier_domain::ids::{AllocationId, CreditNoteId, CustomerId, InvoiceId, JobId, PaymentId, RefundId};
use dossier_domain::ledger::Refund;
use dossier_domain::money::{Line, Money, Totals};
use dossier_domain::terms::DueDateSource;
use dossier_domain::workflow::{InvoiceState, InvoiceStatus, PaymentMethod};
use dossier_domain::works::{Allocation, CreditNote, Invoice, Payment};
use jiff::civil::Date;
use std::collections::HashMap;

use sqlx::{Database, QueryBuilder};
use uuid::Uuid;

use crate::customers::timestamp;
use crate::{Handle, Result, StoreError, run};

/// A stored `YYYY-MM-DD` date.
pub fn parse_date(text: &str) -> Result<Date> {
    text.parse().map_err(StoreError::corrupt)
}

pub(crate) fn parse_enum<T>(what: &str, text: &str, parse: impl FnOnce(&str) -> Option<T>) -> Result<T> {
    parse(text).ok_or_else(|| StoreError::corrupt(format!("{what} '{text}'")))
}

// ---------------------------------------------------------------- invoices

#[derive(Clone, Debug, sqlx::FromRow)]
pub struct InvoiceRow {
    pub org_id: Uuid,
    pub id: Uuid,
    pub number: i64,
    /// The code it was given (`INV-00042`): its series' prefix at the time and its number.
    pub code: String,
    pub customer_id: Uuid,
    pub site_id: Option<Uuid>,
    pub contact_id: Option<Uuid>,
    pub status: String,
    pub issue_date: Option<String>,
    pub due_date: Option<String>,
    pub due_date_source: Option<String>,
    /// The due date set on the invoice itself, which beats payment terms.
    pub due_date_override: Option<String>,
    pub lines: String,
    pub subtotal: i64,
    pub tax: i64,
    pub total: i64,
    pub paid: i64,
    pub credited: i64,
    pub job_ids: String,
    pub notes: Option<String>,
    pub created_at: i64,
    pub updated_at: i64,
}

impl InvoiceRow {
    pub fn code(&self) -> &str {
        &self.code
    }

    pub fn status(&self) -> Result<InvoiceStatus> {
        parse_enum("invoice status", &self.status, InvoiceStatus::parse)
    }

    pub fn total(&self) -> Money {
        Money(self.total)
    }

    /// What is left to pay.
    pub fn balance(&self) -> Money {
        Money(self.total - self.paid - self.credited)
    }

    pub fn due(&self) -> Result<Option<Date>> {
        self.due_date.as_deref().map(parse_date).transpose()
    }

    pub fn state(&self, today: Date) -> Result<InvoiceState> {
        let due = self.due()?.unwrap_or(today);
        Ok(InvoiceState::of(self.status()?, due, today, self.total(), Money(self.credited)))
    }

    /// The jobs the invoice bills.
    pub fn job_ids(&self) -> Result<Vec<JobId>> {
        serde_json::from_str(&self.job_ids).map_err(StoreError::corrupt)
    }

    /// The invoice as the API shows it; `customer_code` is its customer's code.
    pub fn into_invoice(self, today: Date, customer_code: String) -> Result<Invoice> {
        let lines: Vec<Line> = serde_json::from_str(&self.lines).map_err(StoreError::corrupt)?;
        Ok(Invoice {
            id: InvoiceId(self.id),
            code: self.code().to_string(),
            customer_id: CustomerId(self.customer_id),
            customer_code,
            site_id: self.site_id.map(Into::into),
            contact_id: self.contact_id.map(Into::into),
            status: self.status()?,
            state: self.state(today)?,
            issue_date: self.issue_date.as_deref().map(parse_date).transpose()?,
            due_date: self.due()?,
            due_date_source: self.due_date_source.as_deref().map(|s| parse_enum("due date source", s, due_date_source)).transpose()?,
            totals: Totals { subtotal: Money(self.subtotal), tax: Money(self.tax), total: Money(self.total) },
            lines,
            paid: Money(self.paid),
            credited: Money(self.credited),
            balance: self.balance(),
            job_ids: self.job_ids()?,
            notes: self.notes,
            created_at: timestamp(self.created_at)?,
            updated_at: timestamp(self.updated_at)?,
        })
    }
}

fn due_date_source(text: &str) -> Option<DueDateSource> {
    match text {
        "invoice" => Some(DueDateSource::Invoice),
        "customer" => Some(DueDateSource::Customer),
        "org" => Some(DueDateSource::Org),
        _ => None,
    }
}

pub fn due_date_source_text(source: DueDateSource) -> &'static str {
    match source {
        DueDateSource::Invoice => "invoice",
        DueDateSource::Customer => "customer",
        DueDateSource::Org => "org",
    }
}

pub async fn insert_invoice(h: &mut Handle<'_>, row: &InvoiceRow) -> Result<()> {
    run!(h, c => sqlx::query(
        "INSERT INTO invoice (org_id, id, number, code, customer_id, site_id, contact_id, status, issue_date, due_date, due_date_source, due_date_override, \
         lines, subtotal, tax, total, paid, credited, job_ids, notes, created_at, updated_at) \
         VALUES ($1, $2, $3, $22, $4, $5, $6, $7, $8, $9, $10, $11, $12, $13, $14, $15, $16, $17, $18, $19, $20, $21)")
        .bind(row.org_id).bind(row.id).bind(row.number).bind(row.customer_id).bind(row.site_id).bind(row.contact_id).bind(&row.status)
        .bind(&row.issue_date).bind(&row.due_date).bind(&row.due_date_source).bind(&row.due_date_override).bind(&row.lines)
        .bind(row.subtotal).bind(row.tax).bind(row.total).bind(row.paid).bind(row.credited).bind(&row.job_ids).bind(&row.notes)
        .bind(row.created_at).bind(row.updated_at).bind(&row.code)
        .execute(c).await.map(drop)?);
    Ok(())
}

/// Write an invoice's status, dates and allocated sums as in `row`.
/// Move an invoice from status `from` to the status and dates in `row`,
/// only if nobody changed its status or its allocated sums since `row` was
/// read; returns whether it did.
pub async fn update_invoice(h: &mut Handle<'_>, row: &InvoiceRow, from: InvoiceStatus) -> Result<bool> {
    let done = run!(h, c => sqlx::query(
        "UPDATE invoice SET status = $3, issue_date = $4, due_date = $5, due_date_source = $6, updated_at = $7 \
         WHERE org_id = $1 AND id = $2 AND status = $8 AND paid = $9 AND credited = $10")
        .bind(row.org_id).bind(row.id).bind(&row.status).bind(&row.issue_date).bind(&row.due_date).bind(&row.due_date_source)
        .bind(row.updated_at).bind(from.as_str()).bind(row.paid).bind(row.credited)
        .execute(c).await?.rows_affected());
    Ok(done == 1)
}

/// Write a draft's lines, totals, due date and notes as in `row`, only if
/// it is still a draft unchanged since it was read (`read_at`, its
/// `updated_at` then); returns whether it did.
pub async fn update_draft_invoice(h: &mut Handle<'_>, row: &InvoiceRow, read_at: i64) -> Result<bool> {
    let done = run!(h, c => sqlx::query(
        "UPDATE invoice SET lines = $3, subtotal = $4, tax = $5, total = $6, due_date = $7, due_date_override = $8, notes = $9, updated_at = $10 \
         WHERE org_id = $1 AND id = $2 AND status = 'draft' AND updated_at = $11")
        .bind(row.org_id).bind(row.id).bind(&row.lines).bind(row.subtotal).bind(row.tax).bind(row.total).bind(&row.due_date)
        .bind(&row.due_date_override).bind(&row.notes).bind(row.updated_at).bind(read_at)
        .execute(c).await?.rows_affected());
    Ok(done == 1)
}

/// Append the SQL expression of an invoice's [`InvoiceState`] as of `today`.
/// The status bars group by it and the lists behind them filter by it: one
/// expression, so a bar and its list cannot disagree.
pub(crate) fn push_invoice_state<DB: Database>(q: &mut QueryBuilder<DB>, today: String)
where
    for<'t> String: sqlx::Encode<'t, DB> + sqlx::Type<DB>,
{
    q.push("(CASE WHEN status = 'open' AND due_date < ")
        .push_bind(today)
        .push(" THEN 'overdue' WHEN status = 'closed' AND total > 0 AND credited >= total THEN 'credited' ELSE status END)");
}

// ---------------------------------------------------------------- payments

#[derive(Clone, Debug, sqlx::FromRow)]
pub struct PaymentRow {
    pub org_id: Uuid,
    pub id: Uuid,
    pub number: i64,
    /// The code it was given (`INV-00042`): its series' prefix at the time and its number.
    pub code: String,
    pub customer_id: Uuid,
    pub amount: i64,
    pub allocated: i64,
    pub method: String,
    pub reference: Option<String>,
    pub received_on: String,
    pub created_at: i64,
    /// Returned to the customer from what was not allocated.
    pub refunded: i64,
}

impl PaymentRow {
    pub fn code(&self) -> &str {
        &self.code
    }

    /// What is neither allocated nor refunded: account credit.
    pub fn unallocated(&self) -> Money {
        Money(self.amount - self.allocated - self.refunded)
    }

    pub fn into_payment(self, ledger: Ledger) -> Result<Payment> {
        Ok(Payment {
            id: PaymentId(self.id),
            code: self.code().to_string(),
            customer_id: CustomerId(self.customer_id),
            amount: Money(self.amount),
            allocated: Money(self.allocated),
            refunded: Money(self.refunded),
            unallocated: self.unallocated(),
            method: parse_enum("payment method", &self.method, PaymentMethod::parse)?,
            reference: self.reference,
            received_on: parse_date(&self.received_on)?,
            allocations: ledger.allocations,
            refunds: ledger.refunds,
            created_at: timestamp(self.created_at)?,
        })
    }
}

pub async fn insert_payment(h: &mut Handle<'_>, row: &PaymentRow) -> Result<()> {
    run!(h, c => sqlx::query(
        "INSERT INTO payment (org_id, id, number, code, customer_id, amount, allocated, method, reference, received_on, created_at, refunded) \
         VALUES ($1, $2, $3, $12, $4, $5, $6, $7, $8, $9, $10, $11)")
        .bind(row.org_id).bind(row.id).bind(row.number).bind(row.customer_id).bind(row.amount).bind(row.allocated)
        .bind(&row.method).bind(&row.reference).bind(&row.received_on).bind(row.created_at).bind(row.refunded).bind(&row.code)
        .execute(c).await.map(drop)?);
    Ok(())
}

// ---------------------------------------------------------------- credit notes

#[derive(Clone, Debug, sqlx::FromRow)]
pub struct CreditNoteRow {
    pub org_id: Uuid,
    pub id: Uuid,
    pub number: i64,
    /// The code it was given (`INV-00042`): its series' prefix at the time and its number.
    pub code: String,
    pub customer_id: Uuid,
    pub invoice_id: Option<Uuid>,
    pub amount: i64,
    pub allocated: i64,
    pub reason: String,
    pub issue_date: String,
    pub created_at: i64,
    /// Paid out to the customer from what was not allocated.
    pub refunded: i64,
}

impl CreditNoteRow {
    pub fn code(&self) -> &str {
        &self.code
    }

    /// What is neither allocated nor refunded: account credit.
    pub fn unallocated(&self) -> Money {
        Money(self.amount - self.allocated - self.refunded)
    }

    pub fn into_credit_note(self, ledger: Ledger) -> Result<CreditNote> {
        Ok(CreditNote {
            id: CreditNoteId(self.id),
            code: self.code().to_string(),
            customer_id: CustomerId(self.customer_id),
            invoice_id: self.invoice_id.map(InvoiceId),
            amount: Money(self.amount),
            allocated: Money(self.allocated),
            refunded: Money(self.refunded),
            unallocated: self.unallocated(),
            reason: self.reason,
            issue_date: parse_date(&self.issue_date)?,
            allocations: ledger.allocations,
            refunds: ledger.refunds,
            created_at: timestamp(self.created_at)?,
        })
    }
}

pub async fn insert_credit_note(h: &mut Handle<'_>, row: &CreditNoteRow) -> Result<()> {
    run!(h, c => sqlx::query(
        "INSERT INTO credit_note (org_id, id, number, code, customer_id, invoice_id, amount, allocated, reason, issue_date, created_at, refunded) \
         VALUES ($1, $2, $3, $12, $4, $5, $6, $7, $8, $9, $10, $11)")
        .bind(row.org_id).bind(row.id).bind(row.number).bind(row.customer_id).bind(row.invoice_id).bind(row.amount).bind(row.allocated)
        .bind(&row.reason).bind(&row.issue_date).bind(row.created_at).bind(row.refunded).bind(&row.code)
        .execute(c).await.map(drop)?);
    Ok(())
}

// ---------------------------------------------------------------- allocations

/// Where an allocated amount comes from.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum AllocationSource {
    Payment(Uuid),
    CreditNote(Uuid),
}

impl AllocationSource {
    fn parts(self) -> (&'static str, Uuid) {
        match self {
            AllocationSource::Payment(id) => ("payment", id),
            AllocationSource::CreditNote(id) => ("credit_note", id),
        }
    }
}

/// A new allocation; where it comes from is its [`AllocationSource`].
#[derive(Clone, Debug)]
pub struct AllocationRow {
    pub org_id: Uuid,
    pub id: Uuid,
    pub customer_id: Uuid,
    pub invoice_id: Uuid,
    pub amount: i64,
    pub allocated_on: String,
    pub created_at: i64,
}

/// Why the database refused an allocation.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum AllocationRefused {
    /// The invoice is not open, or has less than the amount left to pay.
    InvoiceBalance,
    /// The payment or credit note has less than the amount left.
    SourceUnallocated,
}

/// Record an allocation: the source's `allocated` and the invoice's `paid`
/// or `credited` grow by its amount — only while the source has that much
/// left and the invoice is open with that much to pay. The conditions are
/// part of the updates, so concurrent writers cannot over-allocate. Returns
/// the invoice as it is now.
pub async fn insert_allocation(
    h: &mut Handle<'_>,
    row: &AllocationRow,
    source: AllocationSource,
) -> Result<std::result::Result<InvoiceRow, AllocationRefused>> {
    let (source_type, source_id) = source.parts();
    let (source_sql, invoice_sql) = match source {
        AllocationSource::Payment(_) => (
            "UPDATE payment SET allocated = allocated + $3 WHERE org_id = $1 AND id = $2 AND amount - allocated - refunded >= $3",
            "UPDATE invoice SET paid = paid + $3, updated_at = $4 \
             WHERE org_id = $1 AND id = $2 AND status = 'open' AND total - paid - credited >= $3 RETURNING *",
        ),
        AllocationSource::CreditNote(_) => (
            "UPDATE credit_note SET allocated = allocated + $3 WHERE org_id = $1 AND id = $2 AND amount - allocated - refunded >= $3",
            "UPDATE invoice SET credited = credited + $3, updated_at = $4 \
             WHERE org_id = $1 AND id = $2 AND status = 'open' AND total - paid - credited >= $3 RETURNING *",
        ),
    };
    let taken = run!(h, c => sqlx::query(source_sql).bind(row.org_id).bind(source_id).bind(row.amount).execute(c).await?.rows_affected());
    if taken != 1 {
        return Ok(Err(AllocationRefused::SourceUnallocated));
    }
    let invoice: Option<InvoiceRow> = run!(h, c => sqlx::query_as(invoice_sql)
        .bind(row.org_id).bind(row.invoice_id).bind(row.amount).bind(row.created_at).fetch_optional(c).await?);
    let Some(invoice) = invoice else { return Ok(Err(AllocationRefused::InvoiceBalance)) };
    run!(h, c => sqlx::query(
        "INSERT INTO allocation (org_id, id, customer_id, invoice_id, source_type, source_id, amount, allocated_on, created_at) \
         VALUES ($1, $2, $3, $4, $5, $6, $7, $8, $9)")
        .bind(row.org_id).bind(row.id).bind(row.customer_id).bind(row.invoice_id).bind(source_type).bind(source_id)
        .bind(row.amount).bind(&row.allocated_on).bind(row.created_at)
        .execute(c).await.map(drop)?);
    Ok(Ok(invoice))
}

/// What became of taking an allocation back.
#[derive(Clone, Debug)]
pub enum Reversal {
    /// Taken back: its amount, and its invoice as it is now.
    Done { amount: i64, invoice: Box<InvoiceRow> },
    /// The source has no such allocation.
    NotFound,
    /// It was taken back already (perhaps by someone else just now).
    AlreadyReversed,
}

/// Take an allocation back: it is marked reversed on `on` with `reason`,
/// and its source's `allocated` and its invoice's `paid` or `credited`
/// shrink by its amount. Only an allocation of `source` not yet reversed:
/// the condition is part of the statement, so two people taking back the
/// same allocation cannot both succeed.
pub async fn reverse_allocation(
    h: &mut Handle<'_>,
    org_id: Uuid,
    allocation_id: Uuid,
    source: AllocationSource,
    on: Date,
    at: i64,
    reason: &str,
) -> Result<Reversal> {
    let (source_type, source_id) = source.parts();
    let reversed: Option<(Uuid, i64)> = run!(h, c => sqlx::query_as(
        "UPDATE allocation SET reversed_on = $5, reversed_at = $6, reversal_reason = $7 \
         WHERE org_id = $1 AND id = $2 AND source_type = $3 AND source_id = $4 AND reversed_on IS NULL RETURNING invoice_id, amount")
        .bind(org_id).bind(allocation_id).bind(source_type).bind(source_id).bind(on.to_string()).bind(at).bind(reason)
        .fetch_optional(c).await?);
    let Some((invoice_id, amount)) = reversed else {
        let exists: Option<(i64,)> = run!(h, c => sqlx::query_as(
            "SELECT amount FROM allocation WHERE org_id = $1 AND id = $2 AND source_type = $3 AND source_id = $4")
            .bind(org_id).bind(allocation_id).bind(source_type).bind(source_id).fetch_optional(c).await?);
        return Ok(if exists.is_some() { Reversal::AlreadyReversed } else { Reversal::NotFound });
    };
    let (source_sql, invoice_sql) = match source {
        AllocationSource::Payment(_) => (
            "UPDATE payment SET allocated = allocated - $3 WHERE org_id = $1 AND id = $2 AND allocated >= $3",
            "UPDATE invoice SET paid = paid - $3, updated_at = $4 WHERE org_id = $1 AND id = $2 AND status IN ('open', 'closed') AND paid >= $3 RETURNING *",
        ),
        AllocationSource::CreditNote(_) => (
            "UPDATE credit_note SET allocated = allocated - $3 WHERE org_id = $1 AND id = $2 AND allocated >= $3",
            "UPDATE invoice SET credited = credited - $3, updated_at = $4 \
             WHERE org_id = $1 AND id = $2 AND status IN ('open', 'closed') AND credited >= $3 RETURNING *",
        ),
    };
    let given_back = run!(h, c => sqlx::query(source_sql).bind(org_id).bind(source_id).bind(amount).execute(c).await?.rows_affected());
    let invoice: Option<InvoiceRow> = run!(h, c => sqlx::query_as(invoice_sql).bind(org_id).bind(invoice_id).bind(amount).bind(at).fetch_optional(c).await?);
    match (given_back, invoice) {
        (1, Some(invoice)) => Ok(Reversal::Done { amount, invoice: Box::new(invoice) }),
        // The sums are kept with the allocation rows; disagreeing, they were corrupted.
        _ => Err(StoreError::corrupt(format!("allocation {allocation_id} disagrees with the sums of its {source_type} or invoice"))),
    }
}

/// A new refund of part of a payment or credit note.
#[derive(Clone, Debug)]
pub struct RefundRow {
    pub org_id: Uuid,
    pub id: Uuid,
    pub customer_id: Uuid,
    pub amount: i64,
    pub method: String,
    pub reference: Option<String>,
    pub reason: String,
    pub refunded_on: String,
    pub created_at: i64,
}

/// Record a refund: its source's `refunded` grows by its amount, only while
/// the source has that much neither allocated nor refunded. The condition
/// is part of the update, so two refunds at once cannot return more than
/// is there. Returns whether it was recorded.
pub async fn insert_refund(h: &mut Handle<'_>, row: &RefundRow, source: AllocationSource) -> Result<bool> {
    let (source_type, source_id) = source.parts();
    let sql = match source {
        AllocationSource::Payment(_) => "UPDATE payment SET refunded = refunded + $3 WHERE org_id = $1 AND id = $2 AND amount - allocated - refunded >= $3",
        AllocationSource::CreditNote(_) => {
            "UPDATE credit_note SET refunded = refunded + $3 WHERE org_id = $1 AND id = $2 AND amount - allocated - refunded >= $3"
        }
    };
    let taken = run!(h, c => sqlx::query(sql).bind(row.org_id).bind(source_id).bind(row.amount).execute(c).await?.rows_affected());
    if taken != 1 {
        return Ok(false);
    }
    run!(h, c => sqlx::query(
        "INSERT INTO refund (org_id, id, customer_id, source_type, source_id, amount, method, reference, reason, refunded_on, created_at) \
         VALUES ($1, $2, $3, $4, $5, $6, $7, $8, $9, $10, $11)")
        .bind(row.org_id).bind(row.id).bind(row.customer_id).bind(source_type).bind(source_id).bind(row.amount)
        .bind(&row.method).bind(&row.reference).bind(&row.reason).bind(&row.refunded_on).bind(row.created_at)
        .execute(c).await.map(drop)?);
    Ok(true)
}

/// What became of a payment or credit note: the allocations standing (not
/// taken back), and its refunds.
#[derive(Clone, Debug, Default)]
pub struct Ledger {
    pub allocations: Vec<Allocation>,
    pub refunds: Vec<Refund>,
}

/// The ledgers of payments or credit notes (by their ids): each standing
/// allocation with its invoice's code, and each refund, in two queries.
pub async fn ledgers_of(h: &mut Handle<'_>, org_id: Uuid, source_ids: &[Uuid]) -> Result<HashMap<Uuid, Ledger>> {
    let mut by_source: HashMap<Uuid, Ledger> = HashMap::new();
    if source_ids.is_empty() {
        return Ok(by_source);
    }
    let rows: Vec<(Uuid, Uuid, Uuid, String, i64, String)> = run!(h, c => {
        let mut q = QueryBuilder::new(
            "SELECT a.source_id, a.id, a.invoice_id, i.code, a.amount, a.allocated_on FROM allocation a \
             JOIN invoice i ON i.org_id = a.org_id AND i.id = a.invoice_id WHERE a.org_id = ");
        q.push_bind(org_id).push(" AND a.reversed_on IS NULL AND a.source_id IN ");
        // No ORDER BY: with one, SQLite walks all the org's allocations in
        // id order instead of the by-source index. Sorted below.
        crate::in_list::push_ids(&mut q, source_ids);
        q.build_query_as().fetch_all(c).await?
    });
    for (source, id, invoice_id, invoice_code, amount, on) in rows {
        by_source.entry(source).or_default().allocations.push(Allocation {
            id: AllocationId(id),
            invoice_id: InvoiceId(invoice_id),
            invoice_code,
            amount: Money(amount),
            allocated_on: parse_date(&on)?,
        });
    }
    type RefundTuple = (Uuid, Uuid, i64, String, Option<String>, String, String, i64);
    let refunds: Vec<RefundTuple> = run!(h, c => {
        let mut q = QueryBuilder::new(
            "SELECT source_id, id, amount, method, reference, reason, refunded_on, created_at FROM refund WHERE org_id = ");
        q.push_bind(org_id).push(" AND source_id IN ");
        crate::in_list::push_ids(&mut q, source_ids);
        q.build_query_as().fetch_all(c).await?
    });
    for (source, id, amount, method, reference, reason, on, created_at) in refunds {
        by_source.entry(source).or_default().refunds.push(Refund {
            id: RefundId(id),
            amount: Money(amount),
            method: parse_enum("payment method", &method, PaymentMethod::parse)?,
            reference,
            reason,
            refunded_on: parse_date(&on)?,
            created_at: timestamp(created_at)?,
        });
    }
    for ledger in by_source.values_mut() {
        ledger.allocations.sort_by_key(|a| a.id);
        ledger.refunds.sort_by_key(|r| r.id);
    }
    Ok(by_source)
}

// ---------------------------------------------------------------- statements

/// One invoice, payment, credit note or refund on a customer's account.
#[derive(Clone, Debug, sqlx::FromRow)]
pub struct AccountEntry {
    pub on_date: String,
    /// `invoice`, `payment`, `credit_note` or `refund`.
    pub kind: String,
    pub id: Uuid,
    /// The record's number and code; a refund's are its payment's or credit note's.
    pub number: i64,
    pub code: String,
    pub amount: i64,
    pub due_date: Option<String>,
    /// A refund's payment or credit note: `payment` or `credit_note`, and its id.
    pub source_type: Option<String>,
    pub source_id: Option<Uuid>,
}

/// Every issued invoice, payment, credit note and refund of a customer
/// dated on or before `upto`, in date order; within a day payments,
/// invoices, credit notes, then refunds (a refund follows what it refunds).
pub async fn account_entries(h: &mut Handle<'_>, org_id: Uuid, customer_id: Uuid, upto: Date) -> Result<Vec<AccountEntry>> {
    Ok(run!(h, c => sqlx::query_as(
        "SELECT * FROM (SELECT issue_date AS on_date, 'invoice' AS kind, id, number, code, total AS amount, due_date, \
                CAST(NULL AS TEXT) AS source_type, CASE WHEN 1 = 0 THEN id END AS source_id FROM invoice \
         WHERE org_id = $1 AND customer_id = $2 AND status IN ('open', 'closed') AND issue_date <= $3 \
         UNION ALL SELECT received_on, 'payment', id, number, code, amount, CAST(NULL AS TEXT), CAST(NULL AS TEXT), CASE WHEN 1 = 0 THEN id END FROM payment \
         WHERE org_id = $1 AND customer_id = $2 AND received_on <= $3 \
         UNION ALL SELECT issue_date, 'credit_note', id, number, code, amount, CAST(NULL AS TEXT), CAST(NULL AS TEXT), CASE WHEN 1 = 0 THEN id END FROM credit_note \
         WHERE org_id = $1 AND customer_id = $2 AND issue_date <= $3 \
         UNION ALL SELECT r.refunded_on, 'refund', r.id, COALESCE(p.number, n.number), COALESCE(p.code, n.code), r.amount, CAST(NULL AS TEXT), r.source_type, r.source_id FROM refund r \
         LEFT JOIN payment p ON r.source_type = 'payment' AND p.org_id = r.org_id AND p.id = r.source_id \
         LEFT JOIN credit_note n ON r.source_type = 'credit_note' AND n.org_id = r.org_id AND n.id = r.source_id \
         WHERE r.org_id = $1 AND r.customer_id = $2 AND r.refunded_on <= $3) entries \
         ORDER BY on_date, CASE kind WHEN 'payment' THEN 0 WHEN 'invoice' THEN 1 WHEN 'credit_note' THEN 2 ELSE 3 END, number")
        .bind(org_id).bind(customer_id).bind(upto.to_string()).fetch_all(c).await?))
}

/// A customer's allocations standing at the end of `upto` (made by then
/// and not taken back by then): (source, invoice, amount).
pub async fn allocations_upto(h: &mut Handle<'_>, org_id: Uuid, customer_id: Uuid, upto: Date) -> Result<Vec<(Uuid, Uuid, i64)>> {
    Ok(run!(h, c => sqlx::query_as(
        "SELECT source_id, invoice_id, amount FROM allocation WHERE org_id = $1 AND customer_id = $2 AND allocated_on <= $3 \
         AND (reversed_on IS NULL OR reversed_on > $3)")
        .bind(org_id).bind(customer_id).bind(upto.to_string()).fetch_all(c).await?))
}

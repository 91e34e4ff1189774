//! Work records and money records: inquiries, quotes, jobs, invoices,
//! payments and credit notes, as the API shows them and as clients send them.

use std::collections::BTreeMap;

use jiff::Timestamp;
use jiff::civil::Date;
use serde::{Deserialize, Serialize};
use serde_json::Value;

use crate::custom_fields::{CustomFields, CustomValue, Definitions};
use crate::error::ValidationErrors;
use crate::ids::{AllocationId, ContactId, CreditNoteId, CustomerId, InquiryId, InvoiceId, JobId, PaymentId, QuoteId, SiteId, UserId};
use crate::ledger::Refund;
use crate::limits::{MAX_ALLOCATIONS, MAX_ASSIGNEES, MAX_INVOICE_JOBS, check_count};
use crate::money::{Line, LineInput, Money, Totals};
use crate::terms::DueDateSource;
use crate::workflow::{InquiryStatus, InvoiceState, InvoiceStatus, JobStatus, PaymentMethod, QuoteStatus};
use crate::{dates, text};

/// What every work record belongs to: a customer (id or code), optionally
/// one of its sites and contacts; checked against the customer.
#[derive(Clone, Debug, Default, PartialEq)]
pub struct Parties {
    pub customer: Option<String>,
    pub site_id: Option<SiteId>,
    pub contact_id: Option<ContactId>,
    /// Why the record is made although the customer is blocked.
    pub blocked_override: Option<String>,
}

/// The bound on a reason to go ahead for a blocked customer.
pub const MAX_OVERRIDE_CHARS: usize = 500;

/// A reason to go ahead for a blocked customer, checked.
pub fn blocked_override(value: Option<String>) -> Result<Option<String>, ValidationErrors> {
    text::optional("blocked_override", value, MAX_OVERRIDE_CHARS)
}

/// A short title, required, one line.
fn title(field: &str, value: Option<String>) -> Result<String, ValidationErrors> {
    text::required(field, value, 200)
}

fn amount_or_zero(field: &str, minor: Option<i64>) -> Result<Money, ValidationErrors> {
    match minor {
        None | Some(0) => Ok(Money::ZERO),
        Some(m) => Money::positive(field, m),
    }
}

// ---------------------------------------------------------------- inquiry

#[derive(Clone, Debug, PartialEq, Serialize, utoipa::ToSchema)]
pub struct Inquiry {
    pub id: InquiryId,
    /// `INQ-00001`.
    pub code: String,
    pub customer_id: CustomerId,
    pub site_id: Option<SiteId>,
    pub contact_id: Option<ContactId>,
    pub status: InquiryStatus,
    pub title: String,
    pub description: Option<String>,
    /// What the work might be worth, in minor units (0 if unknown).
    pub estimated_value: Money,
    pub source: Option<String>,
    /// The quote or job it was converted into.
    pub converted_to: Option<String>,
    #[schema(value_type = String, format = DateTime)]
    pub created_at: Timestamp,
    #[schema(value_type = String, format = DateTime)]
    pub updated_at: Timestamp,
}

#[derive(Clone, Debug, Default, Serialize, Deserialize, utoipa::ToSchema)]
#[serde(deny_unknown_fields)]
pub struct InquiryInput {
    /// The customer's id or code (`CUS-00001`).
    #[schema(value_type = String, required = true, min_length = 1)]
    pub customer: Option<String>,
    pub site_id: Option<SiteId>,
    pub contact_id: Option<ContactId>,
    /// For a blocked customer: why the record is made anyway (kept in its
    /// history); without it the request is refused with `customer_blocked`.
    pub blocked_override: Option<String>,
    #[schema(value_type = String, required = true, min_length = 1)]
    pub title: Option<String>,
    pub description: Option<String>,
    pub estimated_value: Option<i64>,
    pub source: Option<String>,
}

#[derive(Clone, Debug, PartialEq)]
pub struct NewInquiry {
    pub title: String,
    pub description: Option<String>,
    pub estimated_value: Money,
    pub source: Option<String>,
}

impl InquiryInput {
    pub fn parse(self) -> Result<(Parties, NewInquiry), ValidationErrors> {
        let mut errors = ValidationErrors::default();
        let go_ahead = errors.take(blocked_override(self.blocked_override)).flatten();
        let title = errors.take(title("title", self.title));
        let description = errors.take(text::optional_multiline("description", self.description, 5000));
        let estimated_value = errors.take(amount_or_zero("estimated_value", self.estimated_value));
        let source = errors.take(text::optional("source", self.source, 100));
        match (title, description, estimated_value, source) {
            (Some(title), Some(description), Some(estimated_value), Some(source)) if errors.is_empty() => Ok((
                Parties { customer: self.customer, site_id: self.site_id, contact_id: self.contact_id, blocked_override: go_ahead },
                NewInquiry { title, description, estimated_value, source },
            )),
            _ => Err(errors),
        }
    }
}

/// What an inquiry becomes.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Serialize, Deserialize, utoipa::ToSchema)]
#[serde(rename_all = "snake_case")]
pub enum ConvertInto {
    Quote,
    Job,
}

#[derive(Clone, Debug, Serialize, Deserialize, utoipa::ToSchema)]
#[serde(deny_unknown_fields)]
pub struct ConvertInput {
    pub into: ConvertInto,
    /// For a blocked customer: why the quote or job is made anyway.
    pub blocked_override: Option<String>,
}

// ---------------------------------------------------------------- quote

#[derive(Clone, Debug, PartialEq, Serialize, utoipa::ToSchema)]
pub struct Quote {
    pub id: QuoteId,
    /// `EST-00001`.
    pub code: String,
    pub customer_id: CustomerId,
    pub site_id: Option<SiteId>,
    pub contact_id: Option<ContactId>,
    pub inquiry_id: Option<InquiryId>,
    pub status: QuoteStatus,
    pub title: String,
    #[schema(value_type = Option<String>, format = Date)]
    pub valid_until: Option<Date>,
    pub lines: Vec<Line>,
    #[serde(flatten)]
    pub totals: Totals,
    /// The job made from it when it was accepted.
    pub job_id: Option<JobId>,
    #[schema(value_type = String, format = DateTime)]
    pub created_at: Timestamp,
    #[schema(value_type = String, format = DateTime)]
    pub updated_at: Timestamp,
}

#[derive(Clone, Debug, Default, Serialize, Deserialize, utoipa::ToSchema)]
#[serde(deny_unknown_fields)]
pub struct QuoteInput {
    /// The customer's id or code (`CUS-00001`).
    #[schema(value_type = String, required = true, min_length = 1)]
    pub customer: Option<String>,
    pub site_id: Option<SiteId>,
    pub contact_id: Option<ContactId>,
    /// For a blocked customer: why the record is made anyway (kept in its
    /// history); without it the request is refused with `customer_blocked`.
    pub blocked_override: Option<String>,
    #[schema(value_type = String, required = true, min_length = 1)]
    pub title: Option<String>,
    #[schema(value_type = Option<String>, format = Date)]
    pub valid_until: Option<Date>,
    #[schema(value_type = Vec<LineInput>, required = true, min_items = 1)]
    pub lines: Option<Vec<LineInput>>,
}

#[derive(Clone, Debug, PartialEq)]
pub struct NewQuote {
    pub title: String,
    pub valid_until: Option<Date>,
    pub lines: Vec<Line>,
}

impl QuoteInput {
    pub fn parse(self) -> Result<(Parties, NewQuote), ValidationErrors> {
        let mut errors = ValidationErrors::default();
        let go_ahead = errors.take(blocked_override(self.blocked_override)).flatten();
        let title = errors.take(title("title", self.title));
        let lines = errors.take(LineInput::parse_all("lines", self.lines.unwrap_or_default()));
        let valid_until = errors.take(dates::check_optional("valid_until", self.valid_until));
        match (title, lines, valid_until) {
            (Some(title), Some(lines), Some(valid_until)) if errors.is_empty() => Ok((
                Parties { customer: self.customer, site_id: self.site_id, contact_id: self.contact_id, blocked_override: go_ahead },
                NewQuote { title, valid_until, lines },
            )),
            _ => Err(errors),
        }
    }
}

// ---------------------------------------------------------------- job

#[derive(Clone, Debug, PartialEq, Serialize, utoipa::ToSchema)]
pub struct Job {
    pub id: JobId,
    /// `BOK-00001`.
    pub code: String,
    pub customer_id: CustomerId,
    pub site_id: Option<SiteId>,
    pub contact_id: Option<ContactId>,
    pub inquiry_id: Option<InquiryId>,
    pub quote_id: Option<QuoteId>,
    pub status: JobStatus,
    pub title: String,
    pub description: Option<String>,
    #[schema(value_type = Option<String>, format = DateTime)]
    pub scheduled_start: Option<Timestamp>,
    #[schema(value_type = Option<String>, format = DateTime)]
    pub scheduled_end: Option<Timestamp>,
    pub assignees: Vec<UserId>,
    /// What the job is worth, in minor units; 0 when free of charge.
    /// Absent for a caller who may not see money (a fieldworker).
    #[serde(skip_serializing_if = "Option::is_none")]
    pub value: Option<Money>,
    pub free_of_charge: bool,
    pub completion_notes: Option<String>,
    #[schema(value_type = Option<String>, format = DateTime)]
    pub completed_at: Option<Timestamp>,
    /// The invoice that bills it (not void). Absent for a caller who may
    /// not see money (a fieldworker).
    #[serde(skip_serializing_if = "Option::is_none")]
    pub invoice_id: Option<InvoiceId>,
    /// Values of the org's job fields by key.
    #[schema(value_type = HashMap<String, CustomValue>)]
    pub custom_fields: CustomFields,
    #[schema(value_type = String, format = DateTime)]
    pub created_at: Timestamp,
    #[schema(value_type = String, format = DateTime)]
    pub updated_at: Timestamp,
}

impl Job {
    /// The job as a caller sees it: without its value unless they see money.
    pub fn for_reader(mut self, sees_money: bool) -> Job {
        if !sees_money {
            self.value = None;
            self.invoice_id = None;
        }
        self
    }
}

#[derive(Clone, Debug, Default, Serialize, Deserialize, utoipa::ToSchema)]
#[serde(deny_unknown_fields)]
pub struct JobInput {
    /// The customer's id or code (`CUS-00001`).
    #[schema(value_type = String, required = true, min_length = 1)]
    pub customer: Option<String>,
    pub site_id: Option<SiteId>,
    pub contact_id: Option<ContactId>,
    /// For a blocked customer: why the record is made anyway (kept in its
    /// history); without it the request is refused with `customer_blocked`.
    pub blocked_override: Option<String>,
    #[schema(value_type = String, required = true, min_length = 1)]
    pub title: Option<String>,
    pub description: Option<String>,
    #[schema(value_type = Option<String>, format = DateTime)]
    pub scheduled_start: Option<Timestamp>,
    #[schema(value_type = Option<String>, format = DateTime)]
    pub scheduled_end: Option<Timestamp>,
    pub assignees: Option<Vec<UserId>>,
    pub value: Option<i64>,
    pub free_of_charge: Option<bool>,
    /// Values of the org's job fields by key, each of its field's type.
    #[schema(value_type = Option<HashMap<String, CustomValue>>)]
    pub custom_fields: Option<BTreeMap<String, Value>>,
}

#[derive(Clone, Debug, PartialEq)]
pub struct NewJob {
    pub title: String,
    pub description: Option<String>,
    pub window: Option<(Timestamp, Timestamp)>,
    pub assignees: Vec<UserId>,
    pub value: Money,
    pub free_of_charge: bool,
    pub custom_fields: CustomFields,
}

/// The body of "update a job": its custom fields (its status moves on
/// through `/jobs/{id}/status`).
#[derive(Clone, Debug, Default, Serialize, Deserialize, utoipa::ToSchema)]
#[serde(deny_unknown_fields, default)]
pub struct JobPatch {
    /// Merged into the current values; a key set to `null` is removed.
    /// Required fields must keep a value.
    #[schema(value_type = Option<HashMap<String, CustomValue>>)]
    pub custom_fields: Option<BTreeMap<String, Value>>,
}

/// A scheduled window: both ends or neither, each within the date range
/// (see [`dates`]), the end after the start.
fn window(start: Option<Timestamp>, end: Option<Timestamp>) -> Result<Option<(Timestamp, Timestamp)>, ValidationErrors> {
    let mut errors = ValidationErrors::default();
    let start = errors.take(dates::check_optional_instant("scheduled_start", start));
    let end = errors.take(dates::check_optional_instant("scheduled_end", end));
    let (Some(start), Some(end)) = (start, end) else { return Err(errors) };
    match (start, end) {
        (None, None) => Ok(None),
        (Some(start), Some(end)) if end > start => Ok(Some((start, end))),
        (Some(_), Some(_)) => Err(ValidationErrors::one("scheduled_end", "before_start", "must be after the start")),
        (None, Some(_)) => Err(ValidationErrors::one("scheduled_start", "required", "is required with an end")),
        (Some(_), None) => Err(ValidationErrors::one("scheduled_end", "required", "is required with a start")),
    }
}

impl JobInput {
    /// The job, its custom fields checked against `fields` (the org's job fields).
    pub fn parse(self, fields: &Definitions) -> Result<(Parties, NewJob), ValidationErrors> {
        let mut errors = ValidationErrors::default();
        let custom_fields = errors.take(fields.apply(CustomFields::new(), self.custom_fields.unwrap_or_default()));
        let go_ahead = errors.take(blocked_override(self.blocked_override)).flatten();
        let title = errors.take(title("title", self.title));
        let description = errors.take(text::optional_multiline("description", self.description, 5000));
        let window = errors.take(window(self.scheduled_start, self.scheduled_end));
        let free_of_charge = self.free_of_charge.unwrap_or(false);
        let value = errors.take(amount_or_zero("value", self.value));
        if free_of_charge && value.is_some_and(Money::is_positive) {
            errors.push("value", "free_of_charge", "must be 0 for a free-of-charge job");
        }
        let mut assignees = self.assignees.unwrap_or_default();
        errors.take(check_count("assignees", assignees.len(), MAX_ASSIGNEES, "assignees"));
        assignees.sort();
        assignees.dedup();
        match (title, description, window, value, custom_fields) {
            (Some(title), Some(description), Some(window), Some(value), Some(custom_fields)) if errors.is_empty() => Ok((
                Parties { customer: self.customer, site_id: self.site_id, contact_id: self.contact_id, blocked_override: go_ahead },
                NewJob { title, description, window, assignees, value, free_of_charge, custom_fields },
            )),
            _ => Err(errors),
        }
    }
}

/// The body of "move a job on": the new status and what goes with it.
#[derive(Clone, Debug, Serialize, Deserialize, utoipa::ToSchema)]
#[serde(deny_unknown_fields)]
pub struct JobStatusInput {
    pub status: JobStatus,
    /// Required when scheduling, unless the job already has a window.
    #[schema(value_type = Option<String>, format = DateTime)]
    pub scheduled_start: Option<Timestamp>,
    #[schema(value_type = Option<String>, format = DateTime)]
    pub scheduled_end: Option<Timestamp>,
    /// Replaces the assignees when given.
    pub assignees: Option<Vec<UserId>>,
    /// What was done, when completing; why, when cancelling or aborting.
    pub notes: Option<String>,
}

/// A checked job move.
#[derive(Clone, Debug, PartialEq)]
pub struct JobMove {
    pub status: JobStatus,
    pub window: Option<(Timestamp, Timestamp)>,
    pub assignees: Option<Vec<UserId>>,
    pub notes: Option<String>,
}

impl JobStatusInput {
    pub fn parse(self) -> Result<JobMove, ValidationErrors> {
        let mut errors = ValidationErrors::default();
        let window = errors.take(window(self.scheduled_start, self.scheduled_end));
        let notes = errors.take(text::optional_multiline("notes", self.notes, 5000));
        if let Some(assignees) = &self.assignees {
            errors.take(check_count("assignees", assignees.len(), MAX_ASSIGNEES, "assignees"));
        }
        let assignees = self.assignees.map(|mut a| {
            a.sort();
            a.dedup();
            a
        });
        match (window, notes) {
            (Some(window), Some(notes)) if errors.is_empty() => Ok(JobMove { status: self.status, window, assignees, notes }),
            _ => Err(errors),
        }
    }
}

// ---------------------------------------------------------------- invoice

#[derive(Clone, Debug, PartialEq, Serialize, utoipa::ToSchema)]
pub struct Invoice {
    pub id: InvoiceId,
    /// `INV-00001`.
    pub code: String,
    pub customer_id: CustomerId,
    /// The customer's code, `CUS-00001`.
    pub customer_code: String,
    pub site_id: Option<SiteId>,
    pub contact_id: Option<ContactId>,
    pub status: InvoiceStatus,
    /// The status with *overdue* and *credited* told apart, as of today.
    pub state: InvoiceState,
    /// Set when it is issued (opened).
    #[schema(value_type = Option<String>, format = Date)]
    pub issue_date: Option<Date>,
    #[schema(value_type = Option<String>, format = Date)]
    pub due_date: Option<Date>,
    pub due_date_source: Option<DueDateSource>,
    pub lines: Vec<Line>,
    #[serde(flatten)]
    pub totals: Totals,
    /// Allocated from payments.
    pub paid: Money,
    /// Allocated from credit notes.
    pub credited: Money,
    /// Total − paid − credited.
    pub balance: Money,
    /// The jobs it bills.
    pub job_ids: Vec<JobId>,
    pub notes: Option<String>,
    #[schema(value_type = String, format = DateTime)]
    pub created_at: Timestamp,
    #[schema(value_type = String, format = DateTime)]
    pub updated_at: Timestamp,
}

#[derive(Clone, Debug, Default, Serialize, Deserialize, utoipa::ToSchema)]
#[serde(deny_unknown_fields)]
pub struct InvoiceInput {
    /// The customer's id or code (`CUS-00001`).
    #[schema(value_type = String, required = true, min_length = 1)]
    pub customer: Option<String>,
    pub site_id: Option<SiteId>,
    pub contact_id: Option<ContactId>,
    /// For a blocked customer: why the record is made anyway (kept in its
    /// history); without it the request is refused with `customer_blocked`.
    pub blocked_override: Option<String>,
    #[schema(value_type = Vec<LineInput>, required = true, min_items = 1)]
    pub lines: Option<Vec<LineInput>>,
    /// Overrides the customer's and the org's payment terms.
    #[schema(value_type = Option<String>, format = Date)]
    pub due_date: Option<Date>,
    pub job_ids: Option<Vec<JobId>>,
    pub notes: Option<String>,
    /// Issue it at once (status open) instead of leaving a draft.
    pub issue: Option<bool>,
    /// The issue date when issuing at once; default today, never in the future.
    #[schema(value_type = Option<String>, format = Date)]
    pub issue_date: Option<Date>,
}

#[derive(Clone, Debug, PartialEq)]
pub struct NewInvoice {
    pub lines: Vec<Line>,
    pub due_date: Option<Date>,
    pub job_ids: Vec<JobId>,
    pub notes: Option<String>,
    pub issue: Option<IssueInput>,
}

impl InvoiceInput {
    pub fn parse(self) -> Result<(Parties, NewInvoice), ValidationErrors> {
        let mut errors = ValidationErrors::default();
        let go_ahead = errors.take(blocked_override(self.blocked_override)).flatten();
        let lines = errors.take(LineInput::parse_all("lines", self.lines.unwrap_or_default()));
        let notes = errors.take(text::optional_multiline("notes", self.notes, 5000));
        let due_date = errors.take(dates::check_optional("due_date", self.due_date));
        let issue_date = errors.take(dates::check_optional("issue_date", self.issue_date));
        let mut job_ids = self.job_ids.unwrap_or_default();
        errors.take(check_count("job_ids", job_ids.len(), MAX_INVOICE_JOBS, "jobs"));
        job_ids.sort();
        job_ids.dedup();
        if self.issue_date.is_some() && self.issue != Some(true) {
            errors.push("issue_date", "requires_issue", "is set when the invoice is issued");
        }
        let issue = (self.issue == Some(true)).then_some(IssueInput { issue_date: issue_date.flatten() });
        match (lines, notes, due_date) {
            (Some(lines), Some(notes), Some(due_date)) if errors.is_empty() => Ok((
                Parties { customer: self.customer, site_id: self.site_id, contact_id: self.contact_id, blocked_override: go_ahead },
                NewInvoice { lines, due_date, job_ids, notes, issue },
            )),
            _ => Err(errors),
        }
    }
}

/// The body of "issue an invoice".
#[derive(Clone, Debug, Default, PartialEq, Serialize, Deserialize, utoipa::ToSchema)]
#[serde(deny_unknown_fields)]
pub struct IssueInput {
    /// Default today; never in the future.
    #[schema(value_type = Option<String>, format = Date)]
    pub issue_date: Option<Date>,
}

impl IssueInput {
    /// The issue date, if given, within the date range (see [`dates`]).
    pub fn parse(self) -> Result<IssueInput, ValidationErrors> {
        Ok(IssueInput { issue_date: dates::check_optional("issue_date", self.issue_date)? })
    }
}

// ---------------------------------------------------------------- payment

#[derive(Clone, Debug, PartialEq, Serialize, utoipa::ToSchema)]
pub struct Payment {
    pub id: PaymentId,
    /// `PAY-00001`.
    pub code: String,
    pub customer_id: CustomerId,
    pub amount: Money,
    /// Allocated to invoices.
    pub allocated: Money,
    /// Returned to the customer.
    pub refunded: Money,
    /// Neither allocated nor refunded: account credit.
    pub unallocated: Money,
    pub method: PaymentMethod,
    pub reference: Option<String>,
    #[schema(value_type = String, format = Date)]
    pub received_on: Date,
    /// The allocations standing (those taken back are in its timeline).
    pub allocations: Vec<Allocation>,
    pub refunds: Vec<Refund>,
    #[schema(value_type = String, format = DateTime)]
    pub created_at: Timestamp,
}

/// Part of a payment or credit note set against an invoice.
#[derive(Clone, Debug, PartialEq, Serialize, utoipa::ToSchema)]
pub struct Allocation {
    pub id: AllocationId,
    pub invoice_id: InvoiceId,
    pub invoice_code: String,
    pub amount: Money,
    #[schema(value_type = String, format = Date)]
    pub allocated_on: Date,
}

/// One allocation asked for: an invoice (id or code) and an amount.
#[derive(Clone, Debug, Default, Serialize, Deserialize, utoipa::ToSchema)]
#[serde(deny_unknown_fields)]
pub struct AllocationInput {
    /// The invoice's id or code (`INV-00001`).
    #[schema(value_type = String, required = true, min_length = 1)]
    pub invoice: Option<String>,
    #[schema(value_type = i64, required = true)]
    pub amount: Option<i64>,
}

/// A checked allocation request.
#[derive(Clone, Debug, PartialEq)]
pub struct AllocationRequest {
    pub invoice: String,
    pub amount: Money,
}

impl AllocationInput {
    /// At most [`MAX_ALLOCATIONS`], each naming an invoice and a positive amount.
    pub fn parse_all(field: &str, inputs: Vec<AllocationInput>) -> Result<Vec<AllocationRequest>, ValidationErrors> {
        check_count(field, inputs.len(), MAX_ALLOCATIONS, "allocations")?;
        let mut errors = ValidationErrors::default();
        let parsed = inputs
            .into_iter()
            .enumerate()
            .filter_map(|(i, a)| {
                let invoice = errors.take(text::required(&format!("{field}[{i}].invoice"), a.invoice, 100));
                let amount = match a.amount {
                    None => errors.take(Err(ValidationErrors::one(format!("{field}[{i}].amount"), "required", "is required"))),
                    Some(m) => errors.take(Money::positive(&format!("{field}[{i}].amount"), m)),
                };
                Some(AllocationRequest { invoice: invoice?, amount: amount? })
            })
            .collect();
        errors.into_result(|| parsed)
    }
}

#[derive(Clone, Debug, Default, Serialize, Deserialize, utoipa::ToSchema)]
#[serde(deny_unknown_fields)]
pub struct PaymentInput {
    /// The customer's id or code.
    #[schema(value_type = String, required = true, min_length = 1)]
    pub customer: Option<String>,
    #[schema(value_type = i64, required = true)]
    pub amount: Option<i64>,
    pub method: Option<PaymentMethod>,
    pub reference: Option<String>,
    /// Default today; never in the future.
    #[schema(value_type = Option<String>, format = Date)]
    pub received_on: Option<Date>,
    /// Set against these invoices at once; what is left is account credit.
    pub allocations: Option<Vec<AllocationInput>>,
}

#[derive(Clone, Debug, PartialEq)]
pub struct NewPayment {
    pub customer: String,
    pub amount: Money,
    pub method: PaymentMethod,
    pub reference: Option<String>,
    pub received_on: Option<Date>,
    pub allocations: Vec<AllocationRequest>,
}

impl PaymentInput {
    pub fn parse(self) -> Result<NewPayment, ValidationErrors> {
        let mut errors = ValidationErrors::default();
        let customer = errors.take(text::required("customer", self.customer, 100));
        let amount = match self.amount {
            None => errors.take(Err(ValidationErrors::one("amount", "required", "is required (minor units)"))),
            Some(m) => errors.take(Money::positive("amount", m)),
        };
        let reference = errors.take(text::optional("reference", self.reference, 200));
        let received_on = errors.take(dates::check_optional("received_on", self.received_on));
        let allocations = errors.take(AllocationInput::parse_all("allocations", self.allocations.unwrap_or_default()));
        match (customer, amount, reference, allocations, received_on) {
            (Some(customer), Some(amount), Some(reference), Some(allocations), Some(received_on)) if errors.is_empty() => {
                Ok(NewPayment { customer, amount, method: self.method.unwrap_or(PaymentMethod::BankTransfer), reference, received_on, allocations })
            }
            _ => Err(errors),
        }
    }
}

/// The body of "allocate a payment or credit note".
#[derive(Clone, Debug, Default, Serialize, Deserialize, utoipa::ToSchema)]
#[serde(deny_unknown_fields)]
pub struct AllocateInput {
    pub allocations: Vec<AllocationInput>,
}

// ---------------------------------------------------------------- credit note

#[derive(Clone, Debug, PartialEq, Serialize, utoipa::ToSchema)]
pub struct CreditNote {
    pub id: CreditNoteId,
    /// `CRN-00001`.
    pub code: String,
    pub customer_id: CustomerId,
    /// The invoice it was issued against; none for a standalone credit.
    pub invoice_id: Option<InvoiceId>,
    pub amount: Money,
    /// Allocated to invoices.
    pub allocated: Money,
    /// Paid out to the customer.
    pub refunded: Money,
    /// Neither allocated nor refunded: account credit.
    pub unallocated: Money,
    pub reason: String,
    #[schema(value_type = String, format = Date)]
    pub issue_date: Date,
    /// The allocations standing (those taken back are in its timeline).
    pub allocations: Vec<Allocation>,
    pub refunds: Vec<Refund>,
    #[schema(value_type = String, format = DateTime)]
    pub created_at: Timestamp,
}

#[derive(Clone, Debug, Default, Serialize, Deserialize, utoipa::ToSchema)]
#[serde(deny_unknown_fields)]
pub struct CreditNoteInput {
    /// The customer's id or code; may be left out when `invoice` is given.
    pub customer: Option<String>,
    /// The invoice (id or code) it credits; its whole amount is set against it.
    pub invoice: Option<String>,
    #[schema(value_type = i64, required = true)]
    pub amount: Option<i64>,
    #[schema(value_type = String, required = true, min_length = 1)]
    pub reason: Option<String>,
}

#[derive(Clone, Debug, PartialEq)]
pub struct NewCreditNote {
    pub customer: Option<String>,
    pub invoice: Option<String>,
    pub amount: Money,
    pub reason: String,
}

impl CreditNoteInput {
    pub fn parse(self) -> Result<NewCreditNote, ValidationErrors> {
        let mut errors = ValidationErrors::default();
        let customer = errors.take(text::optional("customer", self.customer, 100));
        let invoice = errors.take(text::optional("invoice", self.invoice, 100));
        if matches!((&customer, &invoice), (Some(None), Some(None))) {
            errors.push("customer", "required", "give the customer, or the invoice the credit is against");
        }
        let amount = match self.amount {
            None => errors.take(Err(ValidationErrors::one("amount", "required", "is required (minor units)"))),
            Some(m) => errors.take(Money::positive("amount", m)),
        };
        let reason = errors.take(text::required("reason", self.reason, 500));
        match (customer, invoice, amount, reason) {
            (Some(customer), Some(invoice), Some(amount), Some(reason)) if errors.is_empty() => Ok(NewCreditNote { customer, invoice, amount, reason }),
            _ => Err(errors),
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use serde_json::json;

    #[test]
    fn a_job_window_needs_both_ends_in_order() {
        let job = |body| serde_json::from_value::<JobInput>(body).unwrap().parse(&Definitions::default());
        let err = job(json!({"title": "Boiler service", "scheduled_start": "2026-05-01T09:00:00Z"})).unwrap_err();
        assert_eq!(err.0[0].field, "scheduled_end");
        let err = job(json!({"title": "x", "scheduled_start": "2026-05-01T09:00:00Z", "scheduled_end": "2026-05-01T08:00:00Z"})).unwrap_err();
        assert_eq!(err.0[0].code, "before_start");
        let err = job(json!({"title": "x", "free_of_charge": true, "value": 100})).unwrap_err();
        assert_eq!(err.0[0].code, "free_of_charge");
    }

    #[test]
    fn dates_and_lists_of_money_records_are_bounded() {
        let invoice = |body| serde_json::from_value::<InvoiceInput>(body).unwrap().parse().unwrap_err().0[0].clone();
        let line = json!([{"description": "Work", "unit_price": 100}]);
        let err = invoice(json!({"lines": line, "issue": true, "issue_date": "-009999-01-01", "due_date": "9999-12-31"}));
        assert_eq!((err.field.as_str(), err.code), ("due_date", "date_out_of_range"));
        let err = invoice(json!({"lines": line, "issue": true, "issue_date": "0001-01-01"}));
        assert_eq!((err.field.as_str(), err.code), ("issue_date", "date_out_of_range"));
        let err = serde_json::from_value::<JobInput>(json!({"title": "x", "scheduled_start": "0001-01-01T09:00:00Z", "scheduled_end": "9999-01-01T09:00:00Z"}))
            .unwrap()
            .parse(&Definitions::default())
            .unwrap_err();
        let found: Vec<_> = err.0.iter().map(|e| (e.field.as_str(), e.code)).collect();
        assert_eq!(found, [("scheduled_start", "date_out_of_range"), ("scheduled_end", "date_out_of_range")]);
        let err = serde_json::from_value::<PaymentInput>(json!({"customer": "CUS-1", "amount": 1, "received_on": "1899-12-31"})).unwrap().parse().unwrap_err();
        assert_eq!(err.0[0].code, "date_out_of_range");
        let allocations: Vec<_> = (0..=MAX_ALLOCATIONS).map(|_| json!({"invoice": "INV-1", "amount": 1})).collect();
        let err = serde_json::from_value::<PaymentInput>(json!({"customer": "CUS-1", "amount": 1, "allocations": allocations})).unwrap().parse().unwrap_err();
        assert_eq!((err.0[0].field.as_str(), err.0[0].code), ("allocations", "too_many"));
    }

    #[test]
    fn a_payment_needs_a_customer_and_a_positive_amount() {
        let err = serde_json::from_value::<PaymentInput>(json!({"amount": 0, "allocations": [{"invoice": "INV-1"}]})).unwrap().parse().unwrap_err();
        let fields: Vec<_> = err.0.iter().map(|e| e.field.as_str()).collect();
        assert_eq!(fields, ["customer", "amount", "allocations[0].amount"]);
    }

    #[test]
    fn a_credit_note_needs_a_customer_or_an_invoice() {
        let err = serde_json::from_value::<CreditNoteInput>(json!({"amount": 100, "reason": "Goodwill"})).unwrap().parse().unwrap_err();
        assert_eq!(err.0[0].field, "customer");
    }
}

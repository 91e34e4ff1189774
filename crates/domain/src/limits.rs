//! The bound on every list and map a client can send, in one place.
//!
//! Each request is checked against these before anything is written, so no
//! single request can make a transaction (and, on SQLite, the one writer)
//! work for long. docs/api.md ("Limits") lists the same numbers.

use crate::error::ValidationErrors;

pub use crate::dates::{MAX_DATE, MIN_DATE};
pub use crate::money::{MAX_AMOUNT, MAX_LINES};

/// Labels on one customer, and labels named in one request.
pub const MAX_LABELS: usize = 50;
/// Characters in one label.
pub const MAX_LABEL_CHARS: usize = 40;
/// Custom fields defined for one kind of record (customers, sites, jobs),
/// and keys in one request's `custom_fields`.
pub const MAX_CUSTOM_FIELDS: usize = 50;
/// Characters in a custom field's key (`a-z`, `0-9`, `_`).
pub const MAX_CUSTOM_FIELD_KEY_CHARS: usize = 64;
/// Characters in a custom field's text value.
pub const MAX_CUSTOM_FIELD_TEXT_CHARS: usize = 1000;
/// Customers in one bulk label change.
pub const MAX_BULK_CUSTOMERS: usize = 500;
/// Characters in the reason a customer was deleted.
pub const MAX_DELETE_REASON_CHARS: usize = 500;
/// Emails, phones and URLs of one contact (each).
pub const MAX_CONTACT_POINTS: usize = 10;
/// Entries in a contact's `roles` (there are three roles; repeats count).
pub const MAX_CONTACT_ROLES: usize = 10;
/// Allocations in one payment or one allocation request.
pub const MAX_ALLOCATIONS: usize = 100;
/// Assignees of one job.
pub const MAX_ASSIGNEES: usize = 20;
/// Jobs billed by one invoice.
pub const MAX_INVOICE_JOBS: usize = 100;
/// Characters in a message's body (a note, a logged call, an email's text).
pub const MAX_MESSAGE_BODY_CHARS: usize = 20_000;
/// Characters in a message's subject.
pub const MAX_MESSAGE_SUBJECT_CHARS: usize = 200;
/// Seconds a logged call may last (a day).
pub const MAX_CALL_SECONDS: u32 = 86_400;

/// The largest file an import reads: 50 MB (CSV or XLSX).
pub const MAX_IMPORT_FILE_BYTES: u64 = 50 * 1000 * 1000;
/// Rows of one import file, besides its header.
pub const MAX_IMPORT_ROWS: usize = 200_000;
/// Columns of one import file.
pub const MAX_IMPORT_COLUMNS: usize = 200;
/// Characters in one cell of an import file.
pub const MAX_IMPORT_CELL_CHARS: usize = 10_000;
/// Rows an import writes in one transaction.
pub const IMPORT_BATCH_ROWS: usize = 500;

/// `too_many` on `field` when `len` exceeds `max`.
pub fn check_count(field: &str, len: usize, max: usize, what: &str) -> Result<(), ValidationErrors> {
    if len > max { Err(ValidationErrors::one(field, "too_many", format!("at most {max} {what}"))) } else { Ok(()) }
}

/// Files one upload may carry.
pub const MAX_FILES_PER_UPLOAD: usize = 10;
/// Characters a stored file name keeps (the extension is kept whole).
pub const MAX_FILE_NAME_CHARS: usize = 200;
/// The default largest file: 25 MB (the operator may set another).
pub const DEFAULT_MAX_FILE_BYTES: u64 = 25 * 1000 * 1000;

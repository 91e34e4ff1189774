//! The service layer's errors. Each has a stable code the API shows.

use dossier_domain::ValidationErrors;
use dossier_store::StoreError;
use thiserror::Error;

#[derive(Debug, Error)]
pub enum ServiceError {
    /// Absent, or belonging to another org: the two are indistinguishable.
    #[error("{0} not found")]
    NotFound(&'static str),
    #[error(transparent)]
    Invalid(#[from] ValidationErrors),
    #[error("sign in, or send a valid bearer token")]
    Unauthenticated,
    /// Sign-in refused: the same answer for an unknown email and a wrong password.
    #[error("the email or password is wrong")]
    BadCredentials,
    /// Too many failed sign-ins for this account or from this address;
    /// the lockout ends in `seconds` (the message rounds up to minutes, so a
    /// 15-minute lock says 15).
    #[error("too many failed sign-ins; try again in {} minutes", seconds.div_ceil(60).max(1))]
    TooManyAttempts { seconds: u64 },
    /// Too much work of this kind is running (password checks): retry soon.
    #[error("the server is busy; try again in {retry_after_secs} seconds")]
    Busy { retry_after_secs: u64 },
    /// The caller's role does not reach this module or action.
    #[error("your role may not {action} {module}")]
    Forbidden { module: &'static str, action: &'static str },
    /// Only a record's author (or an admin) may change it: a message.
    #[error("only its author or an admin may {action} this {what}")]
    NotAuthor { what: &'static str, action: &'static str },
    /// The request is valid but the record's state does not allow it.
    #[error("{message}")]
    Conflict { code: &'static str, message: String },
    /// An upload past the configured size: nothing was kept.
    #[error("the {what} is larger than the limit of {} MB", *max as f64 / 1_000_000.0)]
    TooLarge { what: &'static str, max: u64 },
    /// Input that cannot be taken as it is (a received mail too large, too
    /// deeply nested or unreadable): nothing was kept.
    #[error("{message}")]
    Refused { code: &'static str, message: String },
    #[error(transparent)]
    Store(StoreError),
    /// A fault of ours outside the database (hashing, a worker thread).
    #[error("internal error: {0}")]
    Internal(String),
}

impl ServiceError {
    /// The stable, machine-readable code of this error.
    pub fn code(&self) -> &'static str {
        match self {
            ServiceError::NotFound(_) => "not_found",
            ServiceError::Invalid(_) => "validation_failed",
            ServiceError::Unauthenticated => "unauthenticated",
            ServiceError::BadCredentials => "invalid_credentials",
            ServiceError::TooManyAttempts { .. } => "too_many_attempts",
            ServiceError::Busy { .. } => "busy",
            ServiceError::Forbidden { .. } => "forbidden",
            ServiceError::NotAuthor { .. } => "not_author",
            ServiceError::Conflict { code, .. } => code,
            ServiceError::TooLarge { .. } => "file_too_large",
            ServiceError::Refused { code, .. } => code,
            ServiceError::Store(_) | ServiceError::Internal(_) => "internal",
        }
    }

    pub(crate) fn conflict(code: &'static str, message: impl Into<String>) -> Self {
        ServiceError::Conflict { code, message: message.into() }
    }
}

impl From<StoreError> for ServiceError {
    fn from(error: StoreError) -> Self {
        match error {
            StoreError::CustomerDeactivated(customer) => {
                let refusal = dossier_domain::customer::WorkRefused::Deactivated;
                ServiceError::conflict(refusal.code(), refusal.message(&customer))
            }
            StoreError::CustomerDeleted(customer) => {
                use dossier_domain::data::deletion::{DELETED_CODE, deleted_message};
                ServiceError::conflict(DELETED_CODE, deleted_message(&customer))
            }
            StoreError::CustomerMerged { customer, survivor } => {
                use dossier_domain::data::merge::{MERGED_CODE, merged_message};
                ServiceError::conflict(MERGED_CODE, merged_message(&customer, &survivor))
            }
            other => ServiceError::Store(other),
        }
    }
}

impl From<dossier_store::BlobError> for ServiceError {
    fn from(e: dossier_store::BlobError) -> Self {
        match e {
            dossier_store::BlobError::TooLarge { max } => ServiceError::TooLarge { what: "file", max },
            e => ServiceError::Store(e.into()),
        }
    }
}

impl From<std::io::Error> for ServiceError {
    fn from(e: std::io::Error) -> Self {
        dossier_store::BlobError::Io(e).into()
    }
}

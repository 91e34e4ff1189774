//! Deleting a customer is a soft delete: the customer is kept as it was,
//! out of every list, search and count and read-only, and can be restored
//! until its retention window ends ([`RESTORE_WINDOW_DAYS`]). After the
//! window the purge (erasure) takes it.

use jiff::{SignedDuration, Timestamp};
use serde::{Deserialize, Serialize};

use crate::error::ValidationErrors;
use crate::limits::MAX_DELETE_REASON_CHARS;
use crate::text;

/// Days a deleted customer can be restored, counted from its deletion.
/// The same for every org (not a setting yet).
pub const RESTORE_WINDOW_DAYS: i64 = 30;

/// When a customer deleted at `at` can no longer be restored.
pub fn restorable_until(at: Timestamp) -> Timestamp {
    at.saturating_add(SignedDuration::from_hours(24 * RESTORE_WINDOW_DAYS)).unwrap_or(at)
}

/// That a customer was deleted: when, by whom, why, and until when it can
/// be restored.
#[derive(Clone, Debug, PartialEq, Eq, Serialize, utoipa::ToSchema)]
pub struct Deleted {
    #[schema(value_type = String, format = DateTime)]
    pub at: Timestamp,
    /// The name of whoever deleted it (a user, an API client).
    pub by: String,
    pub reason: Option<String>,
    #[schema(value_type = String, format = DateTime)]
    pub restorable_until: Timestamp,
}

impl Deleted {
    pub fn new(at: Timestamp, by: String, reason: Option<String>) -> Self {
        Self { at, by, reason, restorable_until: restorable_until(at) }
    }

    /// Whether it can still be restored at `now`.
    pub fn restorable(&self, now: Timestamp) -> bool {
        now < self.restorable_until
    }
}

/// What "delete a customer" takes (the API: query parameters).
#[derive(Clone, Debug, Default, Serialize, Deserialize, utoipa::ToSchema, utoipa::IntoParams)]
#[serde(deny_unknown_fields)]
#[into_params(parameter_in = Query)]
pub struct DeleteInput {
    /// Why (at most 500 characters); shown on the Deleted page and in the history.
    #[param(max_length = 500)]
    pub reason: Option<String>,
}

impl DeleteInput {
    /// The reason, trimmed and bounded; blank is none.
    pub fn parse(self) -> Result<Option<String>, ValidationErrors> {
        text::optional_multiline("reason", self.reason, MAX_DELETE_REASON_CHARS)
    }
}

/// The stable problem code of a write to a deleted customer.
pub const DELETED_CODE: &str = "customer_deleted";

/// What a person is told when something of a deleted customer would change.
pub fn deleted_message(customer: &str) -> String {
    format!("{customer} is deleted and read-only; an admin can restore it from the Deleted page")
}

/// The stable problem code of a restore after the window ended.
pub const WINDOW_ENDED_CODE: &str = "restore_window_ended";

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn a_deleted_customer_is_restorable_for_thirty_days_and_not_a_moment_longer() {
        let at: Timestamp = "2026-01-01T10:00:00Z".parse().unwrap();
        let deleted = Deleted::new(at, "Ann".into(), None);
        assert_eq!(deleted.restorable_until, "2026-01-31T10:00:00Z".parse().unwrap());
        assert!(deleted.restorable("2026-01-31T09:59:59Z".parse().unwrap()));
        assert!(!deleted.restorable("2026-01-31T10:00:00Z".parse().unwrap()));
    }

    #[test]
    fn a_reason_is_optional_trimmed_and_bounded() {
        assert_eq!(DeleteInput { reason: Some("  ".into()) }.parse().unwrap(), None);
        assert_eq!(DeleteInput { reason: Some(" Duplicate ".into()) }.parse().unwrap(), Some("Duplicate".into()));
        assert!(DeleteInput { reason: Some("x".repeat(501)) }.parse().is_err());
    }
}

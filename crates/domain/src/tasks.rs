//! Background tasks: work that happens later, queued in the same
//! transaction as the write that causes it and run by a worker.
//!
//! ("Job" already names a customer's work job, so the queue's rows are
//! tasks.) A task is queued, then running (held by one worker until its
//! lease runs out), then done; a failed attempt queues it again after an
//! exponential backoff with jitter, and after its last attempt it is
//! failed with its last error. Admins may retry a failed task or cancel a
//! queued or failed one.

use jiff::{SignedDuration, Timestamp};
use serde::Serialize;
use serde_json::Value;

use crate::ValidationErrors;
use crate::customer::string_enum;
use crate::ids::TaskId;

string_enum!(
    /// What a task does. Each kind has its handler in the service layer.
    /// `quotes.expire`: expire every sent quote of the org whose
    /// valid-until date has passed; runs daily, just after midnight in the
    /// org's time zone. `email.send`: send one queued email (payload
    /// `{"message_id": …}`) through the org's mail server. `sms.send`: send
    /// one queued text message (payload `{"message_id": …}`).
    /// `email.invitation`: email a staff user their invitation (payload
    /// `{"user_id": …, "invited_by": …}`; the secret is made when it is sent).
    /// `customers.purge`: erase the personal data of customers deleted more
    /// than the restore window ago; runs daily at 03:00 in the org's time zone.
    /// `imports.check` and `imports.run`: the dry run and the import of an
    /// uploaded file (payload `{"import_id": …}`), as the user who started them.
    TaskKind {
        ExpireQuotes = "quotes.expire",
        SendEmail = "email.send",
        SendSms = "sms.send",
        AutomatedEmail = "email.automated",
        DailySends = "sends.daily",
        InvitationEmail = "email.invitation",
        PurgeDeleted = "customers.purge",
        CheckImport = "imports.check",
        RunImport = "imports.run",
    }
);

impl TaskKind {
    /// How the admin page names it.
    pub fn label(self) -> &'static str {
        match self {
            TaskKind::ExpireQuotes => "Expire quotes past their valid-until date",
            TaskKind::SendSms => "Send an SMS",
            TaskKind::SendEmail => "Send an email",
            TaskKind::AutomatedEmail => "Write an automated email (invoice, receipt, reminder, statement)",
            TaskKind::DailySends => "Payment reminders, statements and held emails of the day",
            TaskKind::InvitationEmail => "Email a staff invitation",
            TaskKind::PurgeDeleted => "Erase customers deleted longer ago than the restore window",
            TaskKind::CheckImport => "Check an uploaded import (dry run)",
            TaskKind::RunImport => "Import the valid rows of an uploaded file",
        }
    }
}

string_enum!(
    /// Where a task stands.
    TaskStatus { Queued = "queued", Running = "running", Done = "done", Failed = "failed", Cancelled = "cancelled" }
);

impl TaskStatus {
    /// Whether an admin may queue it again.
    pub fn is_retryable(self) -> bool {
        self == TaskStatus::Failed
    }

    /// Whether an admin may cancel it: not while a worker runs it, nor once finished.
    pub fn is_cancellable(self) -> bool {
        matches!(self, TaskStatus::Queued | TaskStatus::Failed)
    }
}

/// The largest payload a task carries, in bytes of JSON text: a task names
/// what to work on, it does not carry documents (the table checks it too).
pub const MAX_PAYLOAD_BYTES: usize = 64 * 1024;

/// How many times a task is tried before it is failed, unless queued with
/// another number.
pub const DEFAULT_MAX_ATTEMPTS: i32 = 5;

/// The delay before the second attempt; each further one doubles it.
pub const BACKOFF_BASE: SignedDuration = SignedDuration::from_secs(30);

/// The longest delay between two attempts.
pub const BACKOFF_CAP: SignedDuration = SignedDuration::from_secs(60 * 60);

/// How long to wait after failed attempt number `attempt` (1 for the
/// first): `BACKOFF_BASE × 2^(attempt−1)`, at most `BACKOFF_CAP`, of
/// which a random part (`jitter`, from 0 to 1) of the second half is
/// taken off, so tasks that failed together do not all come back at once
/// ("equal jitter": the delay is between half and all of the step).
pub fn backoff(attempt: i32, jitter: f64) -> SignedDuration {
    let doublings = attempt.saturating_sub(1).clamp(0, 30) as u32;
    let step = BACKOFF_BASE.as_secs_f64() * f64::from(2u32.saturating_pow(doublings.min(20)));
    let step = step.min(BACKOFF_CAP.as_secs_f64());
    let jitter = if jitter.is_finite() { jitter.clamp(0.0, 1.0) } else { 0.0 };
    SignedDuration::from_secs_f64(step / 2.0 + step / 2.0 * (1.0 - jitter))
}

/// A task's payload, checked: JSON of at most [`MAX_PAYLOAD_BYTES`].
#[derive(Clone, Debug, PartialEq)]
pub struct Payload(String);

impl Payload {
    pub fn parse(value: &Value) -> Result<Self, ValidationErrors> {
        let text = value.to_string();
        if text.len() > MAX_PAYLOAD_BYTES {
            return Err(ValidationErrors::one("payload", "too_large", format!("is {} bytes; at most {MAX_PAYLOAD_BYTES} are kept", text.len())));
        }
        Ok(Payload(text))
    }

    pub fn as_str(&self) -> &str {
        &self.0
    }
}

/// A task as the API and the admin page show it.
#[derive(Clone, Debug, Serialize, utoipa::ToSchema)]
pub struct Task {
    pub id: TaskId,
    pub kind: TaskKind,
    pub status: TaskStatus,
    /// What the task works on (JSON, at most 64 KiB).
    #[schema(value_type = Object)]
    pub payload: Value,
    /// When it is due (queued), or was last due.
    #[schema(value_type = String, format = DateTime)]
    pub run_at: Timestamp,
    /// Attempts started so far.
    pub attempts: i32,
    pub max_attempts: i32,
    /// Why the last attempt failed.
    pub last_error: Option<String>,
    /// The worker running it, while it runs.
    pub held_by: Option<String>,
    /// When that worker's lease runs out: after it, another worker takes the task.
    #[schema(value_type = Option<String>, format = DateTime)]
    pub held_until: Option<Timestamp>,
    /// The occurrence it is (`quotes.expire:2026-12-08`): never queued twice.
    pub dedupe_key: Option<String>,
    #[schema(value_type = String, format = DateTime)]
    pub created_at: Timestamp,
    #[schema(value_type = String, format = DateTime)]
    pub updated_at: Timestamp,
    /// When it was done, failed for good or cancelled.
    #[schema(value_type = Option<String>, format = DateTime)]
    pub finished_at: Option<Timestamp>,
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn backoff_doubles_from_the_base_up_to_the_cap() {
        assert_eq!(backoff(1, 0.0), BACKOFF_BASE);
        assert_eq!(backoff(2, 0.0), BACKOFF_BASE * 2);
        assert_eq!(backoff(3, 0.0), BACKOFF_BASE * 4);
        assert_eq!(backoff(40, 0.0), BACKOFF_CAP);
        assert_eq!(backoff(1, 1.0), BACKOFF_BASE / 2);
        assert!(backoff(3, 0.5) < backoff(3, 0.0) && backoff(3, 0.5) > backoff(2, 0.0));
    }

    #[test]
    fn a_payload_over_the_bound_is_refused() {
        assert!(Payload::parse(&serde_json::json!({ "day": "2026-12-08" })).is_ok());
        let big = "x".repeat(MAX_PAYLOAD_BYTES);
        assert!(Payload::parse(&serde_json::json!({ "text": big })).is_err());
    }
}

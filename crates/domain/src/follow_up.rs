//! Follow-ups: a task about a customer (or one of its records) with a due
//! day and an assignee — call back, send the quote, chase the payment.
//! Done, cancelled and rescheduled are recorded; *overdue* is derived (open
//! and due before today), never stored.

use jiff::Timestamp;
use jiff::civil::Date;
use serde::{Deserialize, Serialize};

use crate::customer::string_enum;
use crate::error::ValidationErrors;
use crate::ids::{CustomerId, FollowUpId, UserId};
use crate::message::{RecordRef, RecordType, record_reference};
use crate::{dates, text};

string_enum!(
    /// Where a follow-up stands.
    FollowUpStatus { Open = "open", Done = "done", Cancelled = "cancelled" }
);

/// A follow-up as it is read.
#[derive(Clone, Debug, PartialEq, Serialize, utoipa::ToSchema)]
pub struct FollowUp {
    pub id: FollowUpId,
    pub customer_id: CustomerId,
    /// The customer's code, for lists of many customers' follow-ups.
    pub customer_code: String,
    pub title: String,
    pub notes: Option<String>,
    #[schema(value_type = String, format = Date)]
    pub due_on: Date,
    pub assignee_id: UserId,
    pub assignee_name: String,
    pub status: FollowUpStatus,
    /// Open and due before today (in the org's time zone).
    pub overdue: bool,
    pub record: Option<RecordRef>,
    pub created_by: String,
    #[schema(value_type = String, format = DateTime)]
    pub created_at: Timestamp,
    /// When it was done or cancelled.
    #[schema(value_type = Option<String>, format = DateTime)]
    pub closed_at: Option<Timestamp>,
}

/// The body of "add a follow-up".
#[derive(Clone, Debug, Default, Serialize, Deserialize, utoipa::ToSchema)]
#[serde(deny_unknown_fields)]
pub struct FollowUpInput {
    /// What to do: "Call back about the quote".
    #[schema(value_type = String, required = true, min_length = 1, max_length = 200)]
    pub title: Option<String>,
    #[schema(max_length = 2000)]
    pub notes: Option<String>,
    #[schema(value_type = String, format = Date, required = true)]
    pub due_on: Option<Date>,
    /// Who does it; defaults to the caller.
    pub assignee_id: Option<UserId>,
    /// With `record`: the kind of record it is about.
    pub record_type: Option<RecordType>,
    /// The record's id, or its code (`EST-00012`) for works and money records.
    pub record: Option<String>,
}

/// A follow-up input, checked.
#[derive(Clone, Debug, PartialEq)]
pub struct FollowUpDraft {
    pub title: String,
    pub notes: Option<String>,
    pub due_on: Date,
    pub assignee_id: Option<UserId>,
    pub record: Option<(RecordType, String)>,
}

impl FollowUpInput {
    pub fn parse(self) -> Result<FollowUpDraft, ValidationErrors> {
        let mut errors = ValidationErrors::default();
        let title = errors.take(text::required("title", self.title, 200));
        let notes = errors.take(text::optional_multiline("notes", self.notes, 2000)).flatten();
        let due_on = match self.due_on {
            Some(day) => errors.take(dates::check("due_on", day)),
            None => {
                errors.push("due_on", "required", "is required (YYYY-MM-DD)");
                None
            }
        };
        let record = record_reference(&mut errors, self.record_type, self.record);
        match (title, due_on) {
            (Some(title), Some(due_on)) if errors.is_empty() => Ok(FollowUpDraft { title, notes, due_on, assignee_id: self.assignee_id, record }),
            _ => Err(errors),
        }
    }
}

/// The body of "mark a follow-up done, cancel it, or move it": a new status,
/// or (still open) a new due day and assignee.
#[derive(Clone, Debug, Default, Serialize, Deserialize, utoipa::ToSchema)]
#[serde(deny_unknown_fields)]
pub struct FollowUpChange {
    /// `done` or `cancelled` closes it; leave out to reschedule.
    pub status: Option<FollowUpStatus>,
    /// Rescheduling: the new due day.
    #[schema(value_type = Option<String>, format = Date)]
    pub due_on: Option<Date>,
    /// Rescheduling: hand it to someone else.
    pub assignee_id: Option<UserId>,
    /// Why (kept in the history).
    #[schema(max_length = 500)]
    pub reason: Option<String>,
}

/// What a change does, checked.
#[derive(Clone, Debug, PartialEq)]
pub enum FollowUpMove {
    Close { status: FollowUpStatus, reason: Option<String> },
    Reschedule { due_on: Option<Date>, assignee_id: Option<UserId>, reason: Option<String> },
}

impl FollowUpChange {
    pub fn parse(self) -> Result<FollowUpMove, ValidationErrors> {
        let reason = text::optional_multiline("reason", self.reason, 500)?;
        match self.status {
            Some(FollowUpStatus::Open) => Err(ValidationErrors::one("status", "invalid_transition", "a closed follow-up is not reopened: add a new one")),
            Some(status) if self.due_on.is_none() && self.assignee_id.is_none() => Ok(FollowUpMove::Close { status, reason }),
            Some(_) => Err(ValidationErrors::one("status", "invalid_change", "close a follow-up or reschedule it, not both")),
            None if self.due_on.is_none() && self.assignee_id.is_none() => {
                Err(ValidationErrors::one("status", "required", "say done or cancelled, or give a new due_on or assignee_id"))
            }
            None => Ok(FollowUpMove::Reschedule { due_on: dates::check_optional("due_on", self.due_on)?, assignee_id: self.assignee_id, reason }),
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use jiff::civil::date;

    #[test]
    fn a_follow_up_needs_a_title_and_a_sane_due_day() {
        let ok = FollowUpInput { title: Some("Call back".into()), due_on: Some(date(2026, 12, 8)), ..Default::default() };
        assert_eq!(ok.clone().parse().unwrap().due_on, date(2026, 12, 8));
        let codes = |input: FollowUpInput| input.parse().unwrap_err().0.into_iter().map(|e| (e.field, e.code)).collect::<Vec<_>>();
        assert_eq!(codes(FollowUpInput { title: None, ..ok.clone() }), [("title".to_owned(), "required")]);
        assert_eq!(codes(FollowUpInput { due_on: None, ..ok.clone() }), [("due_on".to_owned(), "required")]);
        assert_eq!(codes(FollowUpInput { due_on: Some(date(9999, 1, 1)), ..ok.clone() }), [("due_on".to_owned(), "date_out_of_range")]);
        assert_eq!(codes(FollowUpInput { record: Some("EST-00001".into()), ..ok }), [("record_type".to_owned(), "required")]);
    }

    #[test]
    fn a_change_closes_or_reschedules_never_both_and_never_reopens() {
        let done = FollowUpChange { status: Some(FollowUpStatus::Done), ..Default::default() };
        assert_eq!(done.clone().parse().unwrap(), FollowUpMove::Close { status: FollowUpStatus::Done, reason: None });
        assert!(FollowUpChange { status: Some(FollowUpStatus::Open), ..Default::default() }.parse().is_err());
        assert!(FollowUpChange { due_on: Some(date(2026, 12, 9)), ..done }.parse().is_err());
        assert!(FollowUpChange::default().parse().is_err());
        let moved = FollowUpChange { due_on: Some(date(2026, 12, 9)), ..Default::default() }.parse().unwrap();
        assert_eq!(moved, FollowUpMove::Reschedule { due_on: Some(date(2026, 12, 9)), assignee_id: None, reason: None });
    }
}

//! What an org lets Dossier do on its own, acting as the `system` actor:
//! email an invoice when it is issued, a receipt when a payment is
//! recorded, payment reminders in levels, monthly statements, and the
//! nightly expiry of quotes past their valid-until date. Each is on or
//! off and tuned per org; the sends among them start off, quote expiry
//! starts on (it sends nothing).

use serde::{Deserialize, Serialize};

use crate::error::ValidationErrors;

/// The most reminder levels an org may set.
pub const MAX_REMINDER_LEVELS: usize = 3;
/// The latest reminder, in days past due.
pub const MAX_REMINDER_DAYS: u16 = 365;
/// The latest day of the month statements may go out (every month has it).
pub const MAX_STATEMENT_DAY: u8 = 28;

/// An org's automations.
#[derive(Clone, Debug, PartialEq, Eq, Serialize, Deserialize, utoipa::ToSchema)]
#[serde(default)]
pub struct Automations {
    /// Email an invoice, its PDF attached, to the billing contact when it is issued.
    pub invoice_email: bool,
    /// Email a receipt when a payment is recorded.
    pub payment_receipt: bool,
    /// Email reminders of overdue invoices, one per level.
    pub payment_reminders: bool,
    /// Days past due of each reminder level: 1 to 3 levels, increasing,
    /// each 1 to 365 (default 7, 14 and 30).
    pub reminder_days: Vec<u16>,
    /// Email a statement, its PDF attached, to every customer with an open balance each month.
    pub statements: bool,
    /// The day of the month statements go out (1 to 28).
    pub statement_day: u8,
    /// Move sent quotes to expired once their valid-until date has passed.
    pub quote_expiry: bool,
}

impl Default for Automations {
    fn default() -> Self {
        Self {
            invoice_email: false,
            payment_receipt: false,
            payment_reminders: false,
            reminder_days: vec![7, 14, 30],
            statements: false,
            statement_day: 1,
            quote_expiry: true,
        }
    }
}

/// The body of "change automations": fields left out stay as they are.
#[derive(Clone, Debug, Default, Serialize, Deserialize, utoipa::ToSchema)]
#[serde(deny_unknown_fields, default)]
pub struct AutomationsPatch {
    pub invoice_email: Option<bool>,
    pub payment_receipt: Option<bool>,
    pub payment_reminders: Option<bool>,
    #[schema(max_items = 3)]
    pub reminder_days: Option<Vec<u16>>,
    pub statements: Option<bool>,
    #[schema(minimum = 1, maximum = 28)]
    pub statement_day: Option<u8>,
    pub quote_expiry: Option<bool>,
}

impl AutomationsPatch {
    /// The automations after this patch, checked.
    pub fn apply(self, current: &Automations) -> Result<Automations, ValidationErrors> {
        let next = Automations {
            invoice_email: self.invoice_email.unwrap_or(current.invoice_email),
            payment_receipt: self.payment_receipt.unwrap_or(current.payment_receipt),
            payment_reminders: self.payment_reminders.unwrap_or(current.payment_reminders),
            reminder_days: self.reminder_days.unwrap_or_else(|| current.reminder_days.clone()),
            statements: self.statements.unwrap_or(current.statements),
            statement_day: self.statement_day.unwrap_or(current.statement_day),
            quote_expiry: self.quote_expiry.unwrap_or(current.quote_expiry),
        };
        let mut errors = ValidationErrors::default();
        let days = &next.reminder_days;
        if days.is_empty() || days.len() > MAX_REMINDER_LEVELS {
            errors.push("reminder_days", "out_of_range", format!("needs 1 to {MAX_REMINDER_LEVELS} levels"));
        } else if days.iter().any(|d| !(1..=MAX_REMINDER_DAYS).contains(d)) {
            errors.push("reminder_days", "out_of_range", format!("each level is 1 to {MAX_REMINDER_DAYS} days past due"));
        } else if days.windows(2).any(|w| w[0] >= w[1]) {
            errors.push("reminder_days", "not_increasing", "each level comes later than the one before");
        }
        if !(1..=MAX_STATEMENT_DAY).contains(&next.statement_day) {
            errors.push("statement_day", "out_of_range", format!("must be a day from 1 to {MAX_STATEMENT_DAY}"));
        }
        errors.into_result(|| next)
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn reminder_levels_come_one_after_another_and_statements_go_on_a_day_every_month_has() {
        let now = Automations::default();
        let patch = |days: Vec<u16>| AutomationsPatch { reminder_days: Some(days), ..Default::default() }.apply(&now);
        assert!(patch(vec![3, 10]).is_ok());
        assert_eq!(patch(vec![]).unwrap_err().0[0].code, "out_of_range");
        assert_eq!(patch(vec![14, 7]).unwrap_err().0[0].code, "not_increasing");
        assert_eq!(patch(vec![7, 7]).unwrap_err().0[0].code, "not_increasing");
        assert_eq!(patch(vec![1, 2, 3, 4]).unwrap_err().0[0].code, "out_of_range");
        assert_eq!(patch(vec![0]).unwrap_err().0[0].code, "out_of_range");
        let day = AutomationsPatch { statement_day: Some(31), ..Default::default() }.apply(&now);
        assert_eq!(day.unwrap_err().0[0].field, "statement_day");
        let kept = AutomationsPatch { invoice_email: Some(true), ..Default::default() }.apply(&now).unwrap();
        assert!(kept.invoice_email && kept.quote_expiry && kept.reminder_days == [7, 14, 30]);
    }
}

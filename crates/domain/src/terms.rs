//! Payment terms and due dates.
//!
//! An invoice's due date is, in order of precedence: the date set on the
//! invoice, the customer's payment terms applied to the issue date, or the
//! org's default terms applied to the issue date.

use jiff::ToSpan;
use jiff::civil::Date;
use serde::{Deserialize, Serialize};

use crate::error::ValidationErrors;

/// How long a customer has to pay.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Serialize, Deserialize, utoipa::ToSchema)]
#[serde(tag = "basis", rename_all = "snake_case", deny_unknown_fields)]
pub enum PaymentTerms {
    /// Due `days` after the issue date ("net 30"); 0 is due on receipt.
    Net {
        #[schema(maximum = 365)]
        days: u16,
    },
    /// Due `days` after the last day of the issue date's month.
    EndOfMonth {
        #[schema(maximum = 365)]
        days: u16,
    },
}

/// Terms longer than a year are refused as a typo.
const MAX_DAYS: u16 = 365;

impl PaymentTerms {
    pub const DEFAULT: PaymentTerms = PaymentTerms::Net { days: 30 };

    pub fn check(self, field: &str) -> Result<Self, ValidationErrors> {
        let (PaymentTerms::Net { days } | PaymentTerms::EndOfMonth { days }) = self;
        if days > MAX_DAYS {
            return Err(ValidationErrors::one(format!("{field}.days"), "too_large", format!("must be at most {MAX_DAYS} days")));
        }
        Ok(self)
    }

    /// The due date of an invoice issued on `issued`.
    pub fn due_date(self, issued: Date) -> Date {
        let (start, days) = match self {
            PaymentTerms::Net { days } => (issued, days),
            PaymentTerms::EndOfMonth { days } => (issued.last_of_month(), days),
        };
        start.checked_add(i64::from(days).days()).unwrap_or(start)
    }

    /// "net 30", "end of month + 10".
    pub fn describe(self) -> String {
        match self {
            PaymentTerms::Net { days: 0 } => "due on receipt".into(),
            PaymentTerms::Net { days } => format!("net {days}"),
            PaymentTerms::EndOfMonth { days } => format!("end of month + {days}"),
        }
    }
}

/// Where an invoice's due date came from.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Serialize, utoipa::ToSchema)]
#[serde(rename_all = "snake_case")]
pub enum DueDateSource {
    Invoice,
    Customer,
    Org,
}

/// The due date by precedence: the invoice's own date, else the customer's
/// terms, else the org's.
pub fn due_date(issued: Date, on_invoice: Option<Date>, customer: Option<PaymentTerms>, org: PaymentTerms) -> (Date, DueDateSource) {
    match (on_invoice, customer) {
        (Some(date), _) => (date, DueDateSource::Invoice),
        (None, Some(terms)) => (terms.due_date(issued), DueDateSource::Customer),
        (None, None) => (org.due_date(issued), DueDateSource::Org),
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use jiff::civil::date;

    #[test]
    fn terms_give_due_dates() {
        assert_eq!(PaymentTerms::Net { days: 14 }.due_date(date(2026, 1, 20)), date(2026, 2, 3));
        assert_eq!(PaymentTerms::EndOfMonth { days: 10 }.due_date(date(2026, 2, 3)), date(2026, 3, 10));
        assert_eq!(PaymentTerms::EndOfMonth { days: 0 }.due_date(date(2024, 2, 3)), date(2024, 2, 29));
        assert!(PaymentTerms::Net { days: 366 }.check("payment_terms").is_err());
    }

    #[test]
    fn invoice_date_beats_customer_terms_beats_org_default() {
        let issued = date(2026, 3, 1);
        let org = PaymentTerms::Net { days: 30 };
        let customer = Some(PaymentTerms::Net { days: 7 });
        assert_eq!(due_date(issued, Some(date(2026, 3, 5)), customer, org), (date(2026, 3, 5), DueDateSource::Invoice));
        assert_eq!(due_date(issued, None, customer, org), (date(2026, 3, 8), DueDateSource::Customer));
        assert_eq!(due_date(issued, None, None, org), (date(2026, 3, 31), DueDateSource::Org));
    }
}

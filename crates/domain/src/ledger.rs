//! Taking money back out of the ledger: refunding what a payment or credit
//! note has left to the customer, and taking an allocation back.
//!
//! A refund draws only on what is neither allocated nor refunded (account
//! credit), so an invoice's balance never changes by a refund; to refund
//! money set against an invoice, take that allocation back first (the
//! invoice is then open again). A credit note's account credit may be paid
//! out the same way as a payment's: both are money the business owes the
//! customer. A refund and an un-allocation are dated the day they are
//! recorded, like allocations, so a statement as of any earlier day stays
//! as it was.

use jiff::Timestamp;
use jiff::civil::Date;
use serde::{Deserialize, Serialize};

use crate::error::ValidationErrors;
use crate::ids::RefundId;
use crate::money::Money;
use crate::text;
use crate::workflow::PaymentMethod;

/// Characters in the reason for a refund or an un-allocation.
pub const MAX_REASON_CHARS: usize = 500;
/// Characters in a refund's reference (a bank or card transaction's).
pub const MAX_REFERENCE_CHARS: usize = 200;

/// Money returned to the customer from a payment or credit note.
#[derive(Clone, Debug, PartialEq, Serialize, utoipa::ToSchema)]
pub struct Refund {
    pub id: RefundId,
    pub amount: Money,
    /// How the money went back.
    pub method: PaymentMethod,
    pub reference: Option<String>,
    pub reason: String,
    #[schema(value_type = String, format = Date)]
    pub refunded_on: Date,
    #[schema(value_type = String, format = DateTime)]
    pub created_at: Timestamp,
}

/// The body of "refund a payment or credit note".
#[derive(Clone, Debug, Default, Serialize, Deserialize, utoipa::ToSchema)]
#[serde(deny_unknown_fields)]
pub struct RefundInput {
    /// Minor units; at most what is neither allocated nor refunded.
    #[schema(value_type = i64, required = true)]
    pub amount: Option<i64>,
    /// Default: bank transfer.
    pub method: Option<PaymentMethod>,
    #[schema(max_length = 200)]
    pub reference: Option<String>,
    #[schema(value_type = String, required = true, min_length = 1, max_length = 500)]
    pub reason: Option<String>,
}

/// A checked refund request.
#[derive(Clone, Debug, PartialEq)]
pub struct NewRefund {
    pub amount: Money,
    pub method: PaymentMethod,
    pub reference: Option<String>,
    pub reason: String,
}

impl RefundInput {
    pub fn parse(self) -> Result<NewRefund, ValidationErrors> {
        let mut errors = ValidationErrors::default();
        let amount = match self.amount {
            None => errors.take(Err(ValidationErrors::one("amount", "required", "is required (minor units)"))),
            Some(m) => errors.take(Money::positive("amount", m)),
        };
        let reference = errors.take(text::optional("reference", self.reference, MAX_REFERENCE_CHARS));
        let reason = errors.take(text::required("reason", self.reason, MAX_REASON_CHARS));
        match (amount, reference, reason) {
            (Some(amount), Some(reference), Some(reason)) if errors.is_empty() => {
                Ok(NewRefund { amount, method: self.method.unwrap_or(PaymentMethod::BankTransfer), reference, reason })
            }
            _ => Err(errors),
        }
    }
}

/// The body of "take an allocation back".
#[derive(Clone, Debug, Default, Serialize, Deserialize, utoipa::ToSchema)]
#[serde(deny_unknown_fields)]
pub struct UnallocateInput {
    /// Why (kept in the timeline of the payment or credit note and the invoice).
    #[schema(value_type = String, required = true, min_length = 1, max_length = 500)]
    pub reason: Option<String>,
}

impl UnallocateInput {
    /// The reason, checked.
    pub fn parse(self) -> Result<String, ValidationErrors> {
        text::required("reason", self.reason, MAX_REASON_CHARS)
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use serde_json::json;

    #[test]
    fn a_refund_needs_a_positive_amount_and_a_reason() {
        let err = serde_json::from_value::<RefundInput>(json!({"amount": 0, "reference": "x".repeat(201)})).unwrap().parse().unwrap_err();
        let found: Vec<_> = err.0.iter().map(|e| (e.field.as_str(), e.code)).collect();
        assert_eq!(found, [("amount", "not_positive"), ("reference", "too_long"), ("reason", "required")]);
        let ok = serde_json::from_value::<RefundInput>(json!({"amount": 500, "reason": "Overpaid"})).unwrap().parse().unwrap();
        assert_eq!((ok.amount, ok.method), (Money(500), PaymentMethod::BankTransfer));
        assert!(serde_json::from_value::<RefundInput>(json!({"amount": 1, "reason": "x", "extra": 1})).is_err());
    }

    #[test]
    fn taking_an_allocation_back_needs_a_reason() {
        assert_eq!(UnallocateInput { reason: Some("  ".into()) }.parse().unwrap_err().0[0].code, "required");
        assert_eq!(UnallocateInput { reason: Some("Paid the wrong invoice".into()) }.parse().unwrap(), "Paid the wrong invoice");
    }
}

//! How an activity reads for the one reading it.
//!
//! The stored row holds what happened (kind, subject code, structured
//! detail); the one-line text of an entry that concerns money is rendered at
//! read time from that detail, with its amounts for a reader who may see
//! money and without them for one who may not. Such a reader also gets the
//! entry's detail and field changes without their amounts. The text written
//! into a new row is the money-free rendering, so nothing reader-specific is
//! baked into the log.

use serde_json::Value;

use crate::activity::{Activity, ActivityKind};
use crate::money::Money;

/// Keys of an activity's detail, and fields of its changes, that hold amounts.
pub const MONEY_FIELDS: &[&str] = &[
    "value",
    "estimated_value",
    "total",
    "subtotal",
    "tax",
    "paid",
    "credited",
    "balance",
    "amount",
    "invoice_balance",
    "previous_total",
    "unallocated",
    "unit_price",
    "net",
    "lines",
];

/// The one-line text of an entry of `kind` about `code`, from its `detail`:
/// with amounts in `currency` when given, without any when not. `None` for
/// kinds whose stored text carries no amount (it is shown as stored).
pub fn summary(kind: ActivityKind, code: &str, detail: &Value, currency: Option<&str>) -> Option<String> {
    let text = |key: &str| detail.get(key).and_then(Value::as_str).filter(|s| !s.is_empty());
    // " for £12.50" (with `joiner`), or nothing for a reader without money.
    let amount = |key: &str, joiner: &str| match (currency, detail.get(key).and_then(Value::as_i64)) {
        (Some(currency), Some(minor)) => format!("{joiner}{}", Money(minor).format(currency)),
        _ => String::new(),
    };
    let after = |prefix: &str, value: Option<&str>| value.map(|v| format!("{prefix}{v}")).unwrap_or_default();
    // "£12.50 of ", or `otherwise` for a reader without money.
    let share = |otherwise: &str| match (currency, detail.get("amount").and_then(Value::as_i64)) {
        (Some(currency), Some(minor)) => format!("{} of ", Money(minor).format(currency)),
        _ => otherwise.to_owned(),
    };
    Some(match kind {
        ActivityKind::JobCreated => {
            let status = after(" (", text("status").map(|s| s.replace('_', " ")).as_deref());
            let status = if status.is_empty() { status } else { format!("{status})") };
            format!("Job {code} created{status}{}{}", amount("value", " for "), after(": ", text("title")))
        }
        ActivityKind::QuoteCreated => format!("Draft quote {code} created{}{}", amount("total", " for "), after(": ", text("title"))),
        ActivityKind::InvoiceCreated => format!("Draft invoice {code} created{}", amount("total", " for ")),
        ActivityKind::InvoiceIssued => format!("Invoice {code} issued{}{}", amount("total", " for "), after(", due ", text("due_date"))),
        ActivityKind::PaymentReceived => {
            format!("Payment {code}{} received{}", amount("amount", " of "), after(" by ", text("method").map(|m| m.replace('_', " ")).as_deref()))
        }
        ActivityKind::PaymentAllocated | ActivityKind::CreditNoteAllocated => {
            format!("{}{code} allocated{}", share("Part of "), after(" to ", text("invoice")))
        }
        ActivityKind::PaymentUnallocated | ActivityKind::CreditNoteUnallocated => {
            format!("{}{code} taken back{}{}", share("An allocation of "), after(" from ", text("invoice")), after(": ", text("reason")))
        }
        ActivityKind::PaymentRefunded | ActivityKind::CreditNoteRefunded => {
            let how = after(" by ", text("method").map(|m| m.replace('_', " ")).as_deref());
            format!("{}{code} refunded to the customer{how}{}", share("Part of "), after(": ", text("reason")))
        }
        ActivityKind::InvoiceReopened => format!("Invoice {code} open again{}", amount("balance", ", left to pay ")),
        ActivityKind::InvoiceEdited | ActivityKind::QuoteEdited => {
            let what = if kind == ActivityKind::InvoiceEdited { "invoice" } else { "quote" };
            let totals = match (currency, detail.get("previous_total").and_then(Value::as_i64), detail.get("total").and_then(Value::as_i64)) {
                (Some(currency), Some(old), Some(new)) if old != new => format!(": total {} → {}", Money(old).format(currency), Money(new).format(currency)),
                _ => String::new(),
            };
            format!("Draft {what} {code} edited{totals}")
        }
        ActivityKind::CreditNoteIssued => {
            let against = text("invoice").map_or_else(|| " as account credit".to_owned(), |invoice| format!(" against {invoice}"));
            format!("Credit note {code}{}{against}{}", amount("amount", " of "), after(": ", text("reason")))
        }
        _ => return None,
    })
}

impl Activity {
    /// This entry as a reader sees it: its text rendered for them, and for a
    /// reader who may not see money (`currency` is `None`) no amount in its
    /// detail or changes either.
    pub fn for_reader(mut self, currency: Option<&str>) -> Activity {
        if self.erased {
            return self;
        }
        if let Some(text) = summary(self.kind, self.subject_code.as_deref().unwrap_or(""), &self.detail, currency) {
            self.summary = text;
        }
        if currency.is_none() {
            if let Value::Object(detail) = &mut self.detail {
                detail.retain(|key, _| !MONEY_FIELDS.contains(&key.as_str()));
            }
            self.changes.retain(|change| !MONEY_FIELDS.contains(&change.field.as_str()));
        }
        self
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use serde_json::json;

    #[test]
    fn a_job_reads_with_its_value_only_for_a_reader_who_sees_money() {
        let detail = json!({"status": "to_schedule", "title": "Fix boiler", "value": 78000});
        assert_eq!(
            summary(ActivityKind::JobCreated, "BOK-00001", &detail, Some("GBP")).unwrap(),
            "Job BOK-00001 created (to schedule) for £780.00: Fix boiler"
        );
        assert_eq!(summary(ActivityKind::JobCreated, "BOK-00001", &detail, None).unwrap(), "Job BOK-00001 created (to schedule): Fix boiler");
    }

    #[test]
    fn money_entries_read_the_same_as_they_were_written() {
        let allocated = json!({"amount": 1250, "invoice": "INV-00002"});
        assert_eq!(summary(ActivityKind::PaymentAllocated, "PAY-00001", &allocated, Some("GBP")).unwrap(), "£12.50 of PAY-00001 allocated to INV-00002");
        assert_eq!(summary(ActivityKind::PaymentAllocated, "PAY-00001", &allocated, None).unwrap(), "Part of PAY-00001 allocated to INV-00002");
        let issued = json!({"total": 9000, "due_date": "2026-12-31"});
        assert_eq!(summary(ActivityKind::InvoiceIssued, "INV-00001", &issued, Some("EUR")).unwrap(), "Invoice INV-00001 issued for €90.00, due 2026-12-31");
        let credit = json!({"amount": 500, "reason": "Late", "invoice": null});
        assert_eq!(summary(ActivityKind::CreditNoteIssued, "CRN-00001", &credit, None).unwrap(), "Credit note CRN-00001 as account credit: Late");
        let paid = json!({"amount": 500, "method": "bank_transfer"});
        assert_eq!(summary(ActivityKind::PaymentReceived, "PAY-00001", &paid, Some("GBP")).unwrap(), "Payment PAY-00001 of £5.00 received by bank transfer");
        assert_eq!(summary(ActivityKind::CustomerUpdated, "CUS-00001", &paid, Some("GBP")), None);
    }

    #[test]
    fn refunds_take_backs_and_edits_read_with_amounts_only_for_those_who_see_money() {
        let refund = json!({"amount": 2000, "method": "bank_transfer", "reason": "Overpaid"});
        assert_eq!(
            summary(ActivityKind::PaymentRefunded, "PAY-00001", &refund, Some("GBP")).unwrap(),
            "£20.00 of PAY-00001 refunded to the customer by bank transfer: Overpaid"
        );
        assert_eq!(
            summary(ActivityKind::PaymentRefunded, "PAY-00001", &refund, None).unwrap(),
            "Part of PAY-00001 refunded to the customer by bank transfer: Overpaid"
        );
        let back = json!({"amount": 6000, "invoice": "INV-00002", "reason": "Wrong invoice"});
        assert_eq!(
            summary(ActivityKind::PaymentUnallocated, "PAY-00001", &back, Some("GBP")).unwrap(),
            "£60.00 of PAY-00001 taken back from INV-00002: Wrong invoice"
        );
        assert_eq!(
            summary(ActivityKind::CreditNoteUnallocated, "CRN-00001", &back, None).unwrap(),
            "An allocation of CRN-00001 taken back from INV-00002: Wrong invoice"
        );
        let edited = json!({"previous_total": 12000, "total": 6000});
        assert_eq!(summary(ActivityKind::InvoiceEdited, "INV-00001", &edited, Some("GBP")).unwrap(), "Draft invoice INV-00001 edited: total £120.00 → £60.00");
        assert_eq!(summary(ActivityKind::QuoteEdited, "EST-00001", &edited, None).unwrap(), "Draft quote EST-00001 edited");
    }
}

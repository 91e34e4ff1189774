//! The status workflows of work records: which moves are allowed. A move
//! not listed here is refused with `illegal_transition` and changes nothing.

use jiff::civil::Date;

use crate::customer::string_enum;
use crate::money::Money;

string_enum!(
    /// An inquiry: a request that may become a quote or a job.
    InquiryStatus { New = "new", Contacted = "contacted", Qualified = "qualified", Converted = "converted", Lost = "lost" }
);

string_enum!(
    /// A quote (estimate).
    QuoteStatus { Draft = "draft", Sent = "sent", Accepted = "accepted", Declined = "declined", Expired = "expired" }
);

string_enum!(
    /// A job (booking).
    JobStatus {
        ToSchedule = "to_schedule",
        Scheduled = "scheduled",
        InProgress = "in_progress",
        Completed = "completed",
        Cancelled = "cancelled",
        Aborted = "aborted",
    }
);

string_enum!(
    /// An invoice's stored status. `closed` is reached when nothing is left
    /// to pay; *overdue* and *credited* are derived (see [`InvoiceState`]).
    InvoiceStatus { Draft = "draft", Open = "open", Closed = "closed", Void = "void" }
);

/// A status workflow: the moves a user may make.
pub trait Workflow: Copy + PartialEq + std::fmt::Display + 'static {
    /// Whether a user may move a record from `self` to `to`.
    fn allows(self, to: Self) -> bool;
}

impl Workflow for InquiryStatus {
    fn allows(self, to: Self) -> bool {
        use InquiryStatus::*;
        // Converting happens by the "convert" use case, which creates the quote or job.
        matches!((self, to), (New, Contacted) | (New | Contacted, Qualified) | (New | Contacted | Qualified, Lost) | (Lost, New))
    }
}

impl InquiryStatus {
    /// Whether it may still be converted into a quote or job.
    pub fn is_open(self) -> bool {
        matches!(self, InquiryStatus::New | InquiryStatus::Contacted | InquiryStatus::Qualified)
    }
}

/// Whether a record in this status is still going on (lists split ongoing
/// work from finished work by this).
pub trait Ongoing: Copy + 'static {
    const ALL_STATUSES: &'static [Self];
    fn is_ongoing(self) -> bool;
    fn text(self) -> &'static str;

    /// The stored statuses that are ongoing (`true`) or finished (`false`).
    fn named(ongoing: bool) -> Vec<&'static str> {
        Self::ALL_STATUSES.iter().filter(|s| s.is_ongoing() == ongoing).map(|s| s.text()).collect()
    }
}

impl Ongoing for InquiryStatus {
    const ALL_STATUSES: &'static [Self] = InquiryStatus::ALL;
    fn is_ongoing(self) -> bool {
        self.is_open()
    }
    fn text(self) -> &'static str {
        self.as_str()
    }
}

impl Ongoing for QuoteStatus {
    const ALL_STATUSES: &'static [Self] = QuoteStatus::ALL;
    fn is_ongoing(self) -> bool {
        matches!(self, QuoteStatus::Draft | QuoteStatus::Sent)
    }
    fn text(self) -> &'static str {
        self.as_str()
    }
}

impl Ongoing for JobStatus {
    const ALL_STATUSES: &'static [Self] = JobStatus::ALL;
    fn is_ongoing(self) -> bool {
        matches!(self, JobStatus::ToSchedule | JobStatus::Scheduled | JobStatus::InProgress)
    }
    fn text(self) -> &'static str {
        self.as_str()
    }
}

impl QuoteStatus {
    /// Whether its title, validity and lines may still be edited: only
    /// while a draft, before the customer has seen it.
    pub fn is_editable(self) -> bool {
        self == QuoteStatus::Draft
    }
}

impl Workflow for QuoteStatus {
    fn allows(self, to: Self) -> bool {
        use QuoteStatus::*;
        matches!((self, to), (Draft, Sent) | (Sent, Accepted | Declined | Expired) | (Expired | Declined, Sent))
    }
}

impl Workflow for JobStatus {
    fn allows(self, to: Self) -> bool {
        use JobStatus::*;
        matches!(
            (self, to),
            (ToSchedule, Scheduled)
                | (Scheduled, ToSchedule | InProgress | Completed)
                | (InProgress, Completed | Aborted)
                | (ToSchedule | Scheduled, Cancelled)
                | (Cancelled | Aborted, ToSchedule)
        )
    }
}

impl Workflow for InvoiceStatus {
    fn allows(self, to: Self) -> bool {
        use InvoiceStatus::*;
        // Closing is not a user's move: an invoice closes when it is paid or credited.
        matches!((self, to), (Draft, Open) | (Draft | Open, Void))
    }
}

impl InvoiceStatus {
    /// Whether its lines, due date and notes may still be edited: only
    /// while a draft; an issued invoice is corrected by a credit note.
    pub fn is_editable(self) -> bool {
        self == InvoiceStatus::Draft
    }
}

string_enum!(
    /// What an invoice shows as: its status, with *overdue* (open and past
    /// due) and *credited* (closed by credit notes alone) told apart. The
    /// status bars count invoices by this.
    InvoiceState { Draft = "draft", Open = "open", Overdue = "overdue", Closed = "closed", Credited = "credited", Void = "void" }
);

impl InvoiceState {
    pub fn of(status: InvoiceStatus, due: Date, today: Date, total: Money, credited: Money) -> InvoiceState {
        match status {
            InvoiceStatus::Draft => InvoiceState::Draft,
            InvoiceStatus::Void => InvoiceState::Void,
            InvoiceStatus::Open if due < today => InvoiceState::Overdue,
            InvoiceStatus::Open => InvoiceState::Open,
            InvoiceStatus::Closed if total.is_positive() && credited >= total => InvoiceState::Credited,
            InvoiceStatus::Closed => InvoiceState::Closed,
        }
    }
}

string_enum!(
    /// How a payment was made.
    PaymentMethod { Cash = "cash", Card = "card", BankTransfer = "bank_transfer", Cheque = "cheque", DirectDebit = "direct_debit", Other = "other" }
);

#[cfg(test)]
mod tests {
    use super::*;
    use jiff::civil::date;

    #[test]
    fn final_states_cannot_be_left_except_to_reopen() {
        assert!(!QuoteStatus::Accepted.allows(QuoteStatus::Draft));
        assert!(!JobStatus::Completed.allows(JobStatus::InProgress));
        assert!(JobStatus::Cancelled.allows(JobStatus::ToSchedule));
        assert!(!InvoiceStatus::Open.allows(InvoiceStatus::Closed));
        assert!(!InvoiceStatus::Void.allows(InvoiceStatus::Open));
        assert!(!InquiryStatus::New.allows(InquiryStatus::Converted));
        for status in InvoiceStatus::ALL {
            assert!(!status.allows(*status), "{status} → itself");
        }
    }

    #[test]
    fn overdue_and_credited_are_derived() {
        let today = date(2026, 5, 10);
        assert_eq!(InvoiceState::of(InvoiceStatus::Open, date(2026, 5, 9), today, Money(100), Money(0)), InvoiceState::Overdue);
        assert_eq!(InvoiceState::of(InvoiceStatus::Open, date(2026, 5, 10), today, Money(100), Money(0)), InvoiceState::Open);
        assert_eq!(InvoiceState::of(InvoiceStatus::Closed, date(2026, 5, 9), today, Money(100), Money(100)), InvoiceState::Credited);
        assert_eq!(InvoiceState::of(InvoiceStatus::Closed, date(2026, 5, 9), today, Money(100), Money(40)), InvoiceState::Closed);
    }
}

//! Message templates: the subject and body an org sends for each purpose
//! (an invoice, a quote, a statement, a receipt, a portal link, the levels
//! of payment reminder, a service reminder, a staff invitation), with
//! `{{ placeholders }}` filled from the customer and the record at send
//! time. Each purpose has a default; an org may change it and go back.
//!
//! Templates are written by staff, so they are rendered by a sandboxed
//! engine (no files, no includes, bounded work) and may name only the
//! placeholders of their purpose: a typo is refused when saved, not
//! discovered by a customer.

use serde::{Deserialize, Serialize};
use serde_json::{Value, json};

use crate::customer::string_enum;
use crate::error::ValidationErrors;
use crate::limits::{MAX_MESSAGE_BODY_CHARS, MAX_MESSAGE_SUBJECT_CHARS};
use crate::text;

string_enum!(
    /// What a template is for.
    TemplatePurpose {
        Invoice = "invoice",
        Quote = "quote",
        Statement = "statement",
        PaymentReceipt = "payment_receipt",
        PortalLink = "portal_link",
        PaymentReminder1 = "payment_reminder_1",
        PaymentReminder2 = "payment_reminder_2",
        PaymentReminder3 = "payment_reminder_3",
        ServiceReminder = "service_reminder",
        StaffInvitation = "staff_invitation",
    }
);

/// A placeholder a template may name, what it holds, and an example.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Serialize, utoipa::ToSchema)]
pub struct Placeholder {
    pub name: &'static str,
    pub meaning: &'static str,
    pub example: &'static str,
}

const fn p(name: &'static str, meaning: &'static str, example: &'static str) -> Placeholder {
    Placeholder { name, meaning, example }
}

/// Every customer message may name these.
const COMMON: &[Placeholder] = &[
    p("org.name", "your business's name", "Acme Heating"),
    p("customer.name", "the customer's name", "Ann Smith"),
    p("customer.code", "the customer's code", "CUS-00042"),
    p("contact.name", "whom the message greets: the contact it goes to, else the customer", "Ann"),
    p("sender.name", "who sends it: the member of staff, or the business for automated messages", "Sam Jones"),
];
const INVOICE: &[Placeholder] = &[
    p("invoice.code", "the invoice's code", "INV-00017"),
    p("invoice.total", "its total with currency", "£240.00"),
    p("invoice.balance", "what is still to pay", "£240.00"),
    p("invoice.issued_on", "the day it was issued", "7 Dec 2026"),
    p("invoice.due_date", "the day it is due", "21 Dec 2026"),
];
const QUOTE: &[Placeholder] = &[
    p("quote.code", "the quote's code", "QUO-00008"),
    p("quote.total", "its total with currency", "£1,450.00"),
    p("quote.valid_until", "the last day it can be accepted", "6 Jan 2027"),
];
const STATEMENT: &[Placeholder] =
    &[p("statement.balance", "the customer's open balance", "£312.50"), p("statement.as_of", "the day the statement is made", "7 Dec 2026")];
const PAYMENT: &[Placeholder] = &[
    p("payment.code", "the payment's code", "PAY-00031"),
    p("payment.amount", "how much was paid", "£120.00"),
    p("payment.received_on", "the day it was received", "7 Dec 2026"),
];
const PORTAL: &[Placeholder] = &[
    p("portal.url", "the customer's portal link", "https://dossier.example/portal/3f9c…"),
    p("portal.expires_on", "the last day the link works", "6 Jan 2027"),
];
const REMINDER: &[Placeholder] = &[p("reminder.days_overdue", "how many days the invoice is past due", "14")];
const SERVICE: &[Placeholder] =
    &[p("service.due_date", "the day the service is due", "15 Jan 2027"), p("service.what", "what is due for service", "Boiler service at 12 High Street")];
const INVITATION: &[Placeholder] = &[
    p("invitation.url", "the link that sets the new user's password", "https://dossier.example/invitations/…"),
    p("invitation.role", "the role they are invited to", "office"),
];

impl TemplatePurpose {
    /// What the customer's preference calls a message of this purpose:
    /// money is billing; quotes, links, visits and invitations are service.
    pub fn consent_purpose(self) -> crate::consent::Purpose {
        use TemplatePurpose::*;
        match self {
            Invoice | Statement | PaymentReceipt | PaymentReminder1 | PaymentReminder2 | PaymentReminder3 => crate::consent::Purpose::Billing,
            Quote | PortalLink | ServiceReminder | StaffInvitation => crate::consent::Purpose::Service,
        }
    }

    /// The payment reminder of `level` (1 to 3; a level past the last is the last).
    pub fn payment_reminder(level: usize) -> Self {
        match level {
            0 | 1 => TemplatePurpose::PaymentReminder1,
            2 => TemplatePurpose::PaymentReminder2,
            _ => TemplatePurpose::PaymentReminder3,
        }
    }

    pub fn label(self) -> &'static str {
        use TemplatePurpose::*;
        match self {
            Invoice => "Invoice",
            Quote => "Quote",
            Statement => "Statement",
            PaymentReceipt => "Payment receipt",
            PortalLink => "Portal link",
            PaymentReminder1 => "Payment reminder, first",
            PaymentReminder2 => "Payment reminder, second",
            PaymentReminder3 => "Payment reminder, final",
            ServiceReminder => "Service reminder",
            StaffInvitation => "Staff invitation",
        }
    }

    /// The placeholders a template of this purpose may name.
    pub fn placeholders(self) -> Vec<Placeholder> {
        use TemplatePurpose::*;
        let own: &[&[Placeholder]] = match self {
            Invoice => &[INVOICE],
            Quote => &[QUOTE],
            Statement => &[STATEMENT],
            PaymentReceipt => &[PAYMENT],
            PortalLink => &[PORTAL],
            PaymentReminder1 | PaymentReminder2 | PaymentReminder3 => &[INVOICE, REMINDER],
            ServiceReminder => &[SERVICE],
            // Staff are not customers: an invitation names the org, the
            // sender and the invitation only.
            StaffInvitation => return [&COMMON[..1], &COMMON[4..], INVITATION].concat(),
        };
        let mut all = COMMON.to_vec();
        for list in own {
            all.extend_from_slice(list);
        }
        all
    }

    /// Whether `name` (`invoice.code`) is a placeholder of this purpose.
    pub fn knows(self, name: &str) -> bool {
        self.placeholders().iter().any(|p| p.name == name)
    }

    /// The placeholders' examples as the nested object a template reads:
    /// what a preview without a real customer shows.
    pub fn sample(self) -> Value {
        let mut data = json!({});
        for p in self.placeholders() {
            let (object, field) = p.name.split_once('.').expect("placeholders are object.field");
            data[object][field] = Value::String(p.example.to_owned());
        }
        data
    }

    /// The subject and body an org has until it writes its own.
    pub fn default_text(self) -> (&'static str, &'static str) {
        use TemplatePurpose::*;
        match self {
            Invoice => (
                "Invoice {{ invoice.code }} from {{ org.name }}",
                "Dear {{ contact.name }},\n\nPlease find attached invoice {{ invoice.code }} for {{ invoice.total }}, due on {{ invoice.due_date }}.\n\nThank you for your business.\n\n{% if sender.name != org.name %}{{ sender.name }}\n{% endif %}{{ org.name }}",
            ),
            Quote => (
                "Quote {{ quote.code }} from {{ org.name }}",
                "Dear {{ contact.name }},\n\nPlease find attached our quote {{ quote.code }} for {{ quote.total }}. It is valid until {{ quote.valid_until }}.\n\nKind regards,\n{% if sender.name != org.name %}{{ sender.name }}\n{% endif %}{{ org.name }}",
            ),
            Statement => (
                "Your statement from {{ org.name }}",
                "Dear {{ contact.name }},\n\nPlease find attached your statement as of {{ statement.as_of }}. The balance is {{ statement.balance }}.\n\nKind regards,\n{{ org.name }}",
            ),
            PaymentReceipt => (
                "Thank you for your payment {{ payment.code }}",
                "Dear {{ contact.name }},\n\nWe received your payment of {{ payment.amount }} on {{ payment.received_on }}. Thank you.\n\n{{ org.name }}",
            ),
            PortalLink => (
                "Your documents at {{ org.name }}",
                "Dear {{ contact.name }},\n\nYou can see your invoices and documents at any time here:\n{{ portal.url }}\n\nThe link works until {{ portal.expires_on }}.\n\n{% if sender.name != org.name %}{{ sender.name }}\n{% endif %}{{ org.name }}",
            ),
            PaymentReminder1 => (
                "Reminder: invoice {{ invoice.code }} is due",
                "Dear {{ contact.name }},\n\nA friendly reminder that invoice {{ invoice.code }} ({{ invoice.balance }} to pay) was due on {{ invoice.due_date }}. If you have paid already, please ignore this message.\n\n{{ org.name }}",
            ),
            PaymentReminder2 => (
                "Second reminder: invoice {{ invoice.code }} is {{ reminder.days_overdue }} days overdue",
                "Dear {{ contact.name }},\n\nInvoice {{ invoice.code }} is now {{ reminder.days_overdue }} days overdue; {{ invoice.balance }} is still to pay. Please pay it, or tell us if something is wrong.\n\n{{ org.name }}",
            ),
            PaymentReminder3 => (
                "Final reminder: invoice {{ invoice.code }}",
                "Dear {{ contact.name }},\n\nInvoice {{ invoice.code }} is {{ reminder.days_overdue }} days overdue with {{ invoice.balance }} to pay. Please pay it within seven days.\n\n{{ org.name }}",
            ),
            ServiceReminder => (
                "Your service is due on {{ service.due_date }}",
                "Dear {{ contact.name }},\n\n{{ service.what }} is due on {{ service.due_date }}. Reply to this message or call us to book a visit.\n\n{{ org.name }}",
            ),
            StaffInvitation => (
                "You are invited to {{ org.name }} on Dossier",
                "Hello,\n\n{{ sender.name }} invited you to work in {{ org.name }}'s Dossier as {{ invitation.role }}. Choose your password here:\n{{ invitation.url }}\n\nThe link works once.",
            ),
        }
    }
}

/// The body of "change a template".
#[derive(Clone, Debug, Default, Serialize, Deserialize, utoipa::ToSchema)]
#[serde(deny_unknown_fields)]
pub struct TemplateInput {
    /// One line of at most 200 characters, with placeholders.
    #[schema(value_type = String, max_length = 200)]
    pub subject: Option<String>,
    /// Plain text of at most 20,000 characters, with placeholders.
    #[schema(value_type = String, max_length = 20000)]
    pub body: Option<String>,
}

/// A template's text, checked for size (its placeholders are checked by
/// the engine that renders it).
#[derive(Clone, Debug, PartialEq, Eq, Serialize, utoipa::ToSchema)]
pub struct TemplateText {
    pub subject: String,
    pub body: String,
}

impl TemplateInput {
    pub fn parse(self) -> Result<TemplateText, ValidationErrors> {
        let mut errors = ValidationErrors::default();
        let subject = errors.take(text::required("subject", self.subject, MAX_MESSAGE_SUBJECT_CHARS));
        let body = errors.take(text::required_multiline("body", self.body, MAX_MESSAGE_BODY_CHARS));
        match (subject, body) {
            (Some(subject), Some(body)) if errors.is_empty() => Ok(TemplateText { subject, body }),
            _ => Err(errors),
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn every_default_names_only_its_own_placeholders() {
        for purpose in TemplatePurpose::ALL {
            let (subject, body) = purpose.default_text();
            for text in [subject, body] {
                for name in text.split("{{").skip(1).map(|rest| rest.split("}}").next().unwrap().trim()) {
                    assert!(purpose.knows(name), "{purpose}: {name}");
                }
            }
        }
    }

    #[test]
    fn a_staff_invitation_names_no_customer() {
        assert!(!TemplatePurpose::StaffInvitation.knows("customer.name"));
        assert!(TemplatePurpose::PaymentReminder2.knows("reminder.days_overdue"));
        assert_eq!(TemplatePurpose::Invoice.sample()["invoice"]["code"], "INV-00017");
    }
}

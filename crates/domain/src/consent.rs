//! Whether Dossier may send a customer a message: the customer's
//! communication preferences per channel and purpose, and — for what
//! Dossier sends on its own — whether automated messages are held.
//!
//! A manual send the customer opted out of is refused with the reason,
//! unless staff override it with a reason of their own (which is
//! recorded). An automated send is never overridden: it is held while the
//! customer is dormant, blocked, deactivated or paused, and released when
//! that ends.

use jiff::civil::Date;
use serde::Serialize;

use crate::customer::{ChannelConsent, CommunicationPreferences, CustomerStatus, string_enum};
use crate::error::ValidationErrors;
use crate::message::Channel;
use crate::text;

string_enum!(
    /// Why a message is sent: what the customer agreed to receive is per purpose.
    Purpose { Service = "service", Billing = "billing", Marketing = "marketing" }
);

impl Purpose {
    fn noun(self) -> &'static str {
        match self {
            Purpose::Service => "service",
            Purpose::Billing => "billing",
            Purpose::Marketing => "marketing",
        }
    }
}

/// The longest override reason kept.
pub const MAX_OVERRIDE_REASON_CHARS: usize = 500;

/// What the preferences say about one send, in words a person reads
/// before confirming ("The customer agreed to billing messages by email").
#[derive(Clone, Debug, PartialEq, Eq, Serialize, utoipa::ToSchema)]
pub struct Consent {
    pub allowed: bool,
    pub reason: String,
}

/// The preference of `channel` (email, SMS, WhatsApp, letter, call) for `purpose`.
pub fn consent(prefs: &CommunicationPreferences, channel: Channel, purpose: Purpose) -> Consent {
    let (of, name): (Option<&ChannelConsent>, &str) = match channel {
        Channel::Email => (Some(&prefs.email), "email"),
        Channel::Sms => (Some(&prefs.sms), "SMS"),
        Channel::Whatsapp => (Some(&prefs.whatsapp), "WhatsApp"),
        Channel::Letter => (Some(&prefs.post), "post"),
        Channel::Call => (Some(&prefs.phone), "phone"),
        Channel::Note | Channel::Portal => (None, "the portal"),
    };
    let Some(of) = of else {
        return Consent { allowed: true, reason: format!("Messages in {name} need no consent") };
    };
    let allowed = match purpose {
        Purpose::Service => of.service,
        Purpose::Billing => of.billing,
        Purpose::Marketing => of.marketing,
    };
    let reason = match allowed {
        true => format!("The customer agreed to {} messages by {name}", purpose.noun()),
        false => format!("The customer opted out of {} messages by {name}", purpose.noun()),
    };
    Consent { allowed, reason }
}

/// One recipient of a send: a contact with its own preferences (its name
/// and them), or the customer itself (`None`).
pub type Recipient<'a> = Option<(&'a str, Option<&'a CommunicationPreferences>)>;

/// A send to some of a customer's people: the customer's preference, then
/// each recipient contact's own (a contact without its own follows the
/// customer's). The first refusal says who opted out; else the
/// customer's agreement stands.
pub fn consent_to(customer: &CommunicationPreferences, recipients: &[Recipient<'_>], channel: Channel, purpose: Purpose) -> Consent {
    let of_customer = consent(customer, channel, purpose);
    if !of_customer.allowed {
        return of_customer;
    }
    for (name, own) in recipients.iter().flatten() {
        if let Some(own) = own {
            let of_contact = consent(own, channel, purpose);
            if !of_contact.allowed {
                return Consent { allowed: false, reason: of_contact.reason.replacen("The customer", name, 1) };
            }
        }
    }
    of_customer
}

/// A manual send that may go: what allowed it, and the override reason
/// if staff sent it against the customer's preference.
#[derive(Clone, Debug, PartialEq, Eq, Serialize, utoipa::ToSchema)]
pub struct Permitted {
    pub consent: Consent,
    pub overridden: Option<String>,
}

/// Check a manual send: allowed by the preference, or overridden with a
/// reason; else refused (`opted_out`, on `override_reason`) with the
/// preference's reason.
pub fn manual_send(consent: Consent, override_reason: Option<String>) -> Result<Permitted, ValidationErrors> {
    let reason = text::optional("override_reason", override_reason, MAX_OVERRIDE_REASON_CHARS)?;
    match (consent.allowed, reason) {
        (true, _) => Ok(Permitted { consent, overridden: None }),
        (false, Some(reason)) => Ok(Permitted { consent, overridden: Some(reason) }),
        (false, None) => {
            Err(ValidationErrors::one("override_reason", "opted_out", format!("{}; to send anyway, give a reason (it is recorded)", consent.reason)))
        }
    }
}

/// Why an automated message to this customer is held today, if it is:
/// a dormant, blocked or deactivated customer gets none, nor one who
/// paused automated messages (until `paused_until`, the day they resume).
pub fn hold_reason(status: CustomerStatus, paused: bool, paused_until: Option<Date>, today: Date) -> Option<String> {
    match status {
        CustomerStatus::Dormant => return Some("The customer is dormant".to_owned()),
        CustomerStatus::Blocked => return Some("The customer is blocked".to_owned()),
        CustomerStatus::Deactivated => return Some("The customer is deactivated".to_owned()),
        CustomerStatus::Active => {}
    }
    match (paused, paused_until) {
        (true, Some(until)) if today < until => Some(format!("Automated messages are paused until {until}")),
        (true, None) => Some("Automated messages are paused".to_owned()),
        _ => None,
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use jiff::civil::date;

    #[test]
    fn a_send_follows_the_preference_of_its_channel_and_purpose() {
        let prefs = CommunicationPreferences::default();
        assert!(consent(&prefs, Channel::Email, Purpose::Billing).allowed);
        let marketing = consent(&prefs, Channel::Sms, Purpose::Marketing);
        assert!(!marketing.allowed);
        assert_eq!(marketing.reason, "The customer opted out of marketing messages by SMS");
        assert!(consent(&prefs, Channel::Portal, Purpose::Marketing).allowed);
    }

    #[test]
    fn a_contact_who_opted_out_stops_a_send_to_them_but_not_to_the_customer() {
        let customer = CommunicationPreferences::default();
        let mut bo = CommunicationPreferences::default();
        bo.email.billing = false;
        let to_bo = consent_to(&customer, &[Some(("Bo Lee", Some(&bo)))], Channel::Email, Purpose::Billing);
        assert!(!to_bo.allowed);
        assert_eq!(to_bo.reason, "Bo Lee opted out of billing messages by email");
        assert!(consent_to(&customer, &[None, Some(("Cy Lee", None))], Channel::Email, Purpose::Billing).allowed);
        assert!(consent_to(&customer, &[Some(("Bo Lee", Some(&bo)))], Channel::Email, Purpose::Service).allowed);
        let mut out = CommunicationPreferences::default();
        out.email.billing = false;
        assert_eq!(consent_to(&out, &[None], Channel::Email, Purpose::Billing).reason, "The customer opted out of billing messages by email");
    }

    #[test]
    fn an_opted_out_send_needs_a_reason_to_go() {
        let no = Consent { allowed: false, reason: "The customer opted out of billing messages by email".into() };
        let err = manual_send(no.clone(), None).unwrap_err();
        assert_eq!(err.0[0].code, "opted_out");
        assert!(manual_send(no.clone(), Some("  ".into())).is_err());
        let sent = manual_send(no, Some("Asked for it on the phone".into())).unwrap();
        assert_eq!(sent.overridden.as_deref(), Some("Asked for it on the phone"));
    }

    #[test]
    fn automated_messages_are_held_for_a_customer_who_does_not_want_them_until_the_pause_ends() {
        let today = date(2026, 12, 7);
        assert_eq!(hold_reason(CustomerStatus::Active, false, None, today), None);
        assert!(hold_reason(CustomerStatus::Dormant, false, None, today).is_some());
        assert!(hold_reason(CustomerStatus::Blocked, false, None, today).is_some());
        assert!(hold_reason(CustomerStatus::Active, true, None, today).is_some());
        assert!(hold_reason(CustomerStatus::Active, true, Some(date(2026, 12, 8)), today).is_some());
        assert_eq!(hold_reason(CustomerStatus::Active, true, Some(today), today), None);
    }
}

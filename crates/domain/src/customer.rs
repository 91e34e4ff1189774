//! Customers: individuals and businesses, their profile, status and labels.

use std::collections::BTreeMap;

use jiff::Timestamp;
use jiff::civil::Date;
use serde::{Deserialize, Serialize};
use serde_json::Value;

use crate::contact_point::{Email, Phone, Region};
use crate::custom_fields::{CustomFields, CustomValue, Definitions};
use crate::error::ValidationErrors;
use crate::ids::CustomerId;
use crate::limits::{MAX_LABEL_CHARS, MAX_LABELS, check_count};
use crate::patch::Patch;
use crate::terms::PaymentTerms;
use crate::{dates, text};

/// An enum stored and shown as a fixed lower-case string.
///
/// `$text` is a `tt`, not a `literal`: a `literal` fragment reaches derive
/// macros wrapped in an invisible group, which utoipa does not read, so the
/// OpenAPI document listed the Rust variant names instead of these strings.
macro_rules! string_enum {
    ($(#[$meta:meta])* $name:ident { $($variant:ident = $text:tt),+ $(,)? }) => {
        $(#[$meta])*
        #[derive(Clone, Copy, Debug, PartialEq, Eq, Hash, PartialOrd, Ord, serde::Serialize, serde::Deserialize, utoipa::ToSchema)]
        pub enum $name {
            $(#[serde(rename = $text)] $variant),+
        }

        impl $name {
            pub const ALL: &'static [$name] = &[$($name::$variant),+];

            pub fn as_str(self) -> &'static str {
                match self { $($name::$variant => $text),+ }
            }

            pub fn parse(text: &str) -> Option<Self> {
                match text { $($text => Some($name::$variant),)+ _ => None }
            }
        }

        impl std::fmt::Display for $name {
            fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
                f.write_str(self.as_str())
            }
        }
    };
}
pub(crate) use string_enum;

string_enum!(
    /// A person or a business.
    CustomerKind { Individual = "individual", Business = "business" }
);

string_enum!(
    /// Where a customer stands. Dormant stops automated communications.
    CustomerStatus { Active = "active", Dormant = "dormant", Blocked = "blocked", Deactivated = "deactivated" }
);

/// Why new work cannot be started for a customer.
#[derive(Clone, Debug, PartialEq, Eq)]
pub enum WorkRefused {
    /// Blocked, and no reason to go ahead was given.
    Blocked { reason: Option<String> },
    /// Deactivated: read-only until reactivated.
    Deactivated,
}

impl WorkRefused {
    /// The stable problem code.
    pub fn code(&self) -> &'static str {
        match self {
            WorkRefused::Blocked { .. } => "customer_blocked",
            WorkRefused::Deactivated => "customer_deactivated",
        }
    }

    /// What a person is told, naming the customer.
    pub fn message(&self, customer: &str) -> String {
        match self {
            WorkRefused::Blocked { reason: Some(reason) } => {
                format!("{customer} is blocked ({reason}): new work needs a reason to go ahead anyway")
            }
            WorkRefused::Blocked { reason: None } => format!("{customer} is blocked: new work needs a reason to go ahead anyway"),
            WorkRefused::Deactivated => format!("{customer} is deactivated and read-only; reactivate the customer first"),
        }
    }
}

impl CustomerStatus {
    /// What the status means for the business, in words: shown next to the
    /// status badge.
    pub fn consequence(self) -> &'static str {
        match self {
            CustomerStatus::Active => "Work and messages as usual.",
            CustomerStatus::Dormant => "No automated messages; the customer's sites are dormant too.",
            CustomerStatus::Blocked => "No new inquiries, quotes, jobs or invoices unless someone records a reason to go ahead.",
            CustomerStatus::Deactivated => "Read-only: nothing can be added or changed until the customer is reactivated.",
        }
    }

    /// Whether new work (an inquiry, a quote, a job, an invoice) may be
    /// started: `Ok(None)` freely, `Ok(Some(reason))` for a blocked
    /// customer with a reason to go ahead, which the new record's activity
    /// keeps. `status_reason` is why the customer was blocked.
    pub fn new_work(self, status_reason: Option<&str>, go_ahead: Option<&str>) -> Result<Option<String>, WorkRefused> {
        match self {
            CustomerStatus::Active | CustomerStatus::Dormant => Ok(None),
            CustomerStatus::Blocked => match go_ahead {
                Some(reason) => Ok(Some(reason.to_owned())),
                None => Err(WorkRefused::Blocked { reason: status_reason.map(str::to_owned) }),
            },
            CustomerStatus::Deactivated => Err(WorkRefused::Deactivated),
        }
    }

    /// Whether the customer's records may be changed at all.
    pub fn writable(self) -> Result<(), WorkRefused> {
        match self {
            CustomerStatus::Deactivated => Err(WorkRefused::Deactivated),
            _ => Ok(()),
        }
    }
}

/// What a customer agreed to receive on one channel, per purpose.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Serialize, Deserialize, utoipa::ToSchema)]
#[serde(deny_unknown_fields, default)]
pub struct ChannelConsent {
    /// Appointment reminders, job updates.
    pub service: bool,
    /// Invoices, statements, payment reminders.
    pub billing: bool,
    /// Offers and newsletters: off unless the customer opted in.
    pub marketing: bool,
}

impl Default for ChannelConsent {
    fn default() -> Self {
        Self { service: true, billing: true, marketing: false }
    }
}

/// Communication preferences per channel and purpose.
#[derive(Clone, Copy, Debug, Default, PartialEq, Eq, Serialize, Deserialize, utoipa::ToSchema)]
#[serde(deny_unknown_fields, default)]
pub struct CommunicationPreferences {
    pub email: ChannelConsent,
    pub sms: ChannelConsent,
    pub phone: ChannelConsent,
    pub whatsapp: ChannelConsent,
    pub post: ChannelConsent,
}

/// The editable profile of a customer: what a PATCH changes and what the
/// History tab shows diffs of.
#[derive(Clone, Debug, PartialEq, Serialize, Deserialize, utoipa::ToSchema)]
pub struct CustomerProfile {
    pub kind: CustomerKind,
    pub title: Option<String>,
    pub given_name: Option<String>,
    /// Required for individuals.
    pub family_name: Option<String>,
    /// Required for businesses.
    pub business_name: Option<String>,
    pub email: Option<Email>,
    pub phone: Option<Phone>,
    /// How the customer heard of the business.
    pub source: Option<String>,
    pub communication: CommunicationPreferences,
    /// Automated messages (reminders, campaigns) are held while set.
    pub auto_comms_paused: bool,
    #[schema(value_type = Option<String>, format = Date)]
    pub auto_comms_paused_until: Option<Date>,
    /// Overrides the org's default payment terms.
    pub payment_terms: Option<PaymentTerms>,
    /// Values of the org's customer fields by key.
    #[schema(value_type = HashMap<String, CustomValue>)]
    pub custom_fields: CustomFields,
    /// Set: "do not work with again", and why. Staff starting a job or a
    /// quote for the customer see it as a warning.
    pub do_not_work_reason: Option<String>,
}

/// The name an erased customer shows.
pub const ERASED_CUSTOMER_NAME: &str = "Erased customer";

impl CustomerProfile {
    /// A profile of `kind` with nothing filled in and default preferences.
    pub fn empty(kind: CustomerKind) -> Self {
        Self {
            kind,
            title: None,
            given_name: None,
            family_name: None,
            business_name: None,
            email: None,
            phone: None,
            source: None,
            communication: CommunicationPreferences::default(),
            auto_comms_paused: false,
            auto_comms_paused_until: None,
            payment_terms: None,
            custom_fields: CustomFields::new(),
            do_not_work_reason: None,
        }
    }

    /// What an erasure leaves: the kind, payment terms and a placeholder
    /// name; every personal field, preference and custom value gone.
    pub fn erased(&self) -> Self {
        let name = Some(ERASED_CUSTOMER_NAME.to_owned());
        let (family_name, business_name) = match self.kind {
            CustomerKind::Individual => (name, None),
            CustomerKind::Business => (None, name),
        };
        Self { family_name, business_name, payment_terms: self.payment_terms, ..Self::empty(self.kind) }
    }

    /// The name shown everywhere: the business name, or the person's names.
    pub fn display_name(&self) -> String {
        match (self.kind, &self.business_name) {
            (CustomerKind::Business, Some(name)) => name.clone(),
            _ => [self.given_name.as_deref(), self.family_name.as_deref()].into_iter().flatten().collect::<Vec<_>>().join(" "),
        }
    }
}

/// A customer as the API shows it.
#[derive(Clone, Debug, PartialEq, Serialize, utoipa::ToSchema)]
pub struct Customer {
    pub id: CustomerId,
    /// `CUS-00001`, gapless per org.
    pub code: String,
    pub display_name: String,
    #[serde(flatten)]
    pub profile: CustomerProfile,
    pub status: CustomerStatus,
    pub status_reason: Option<String>,
    pub labels: Vec<String>,
    #[schema(value_type = String, format = DateTime)]
    pub created_at: Timestamp,
    #[schema(value_type = String, format = DateTime)]
    pub updated_at: Timestamp,
    /// When the customer's personal data was erased (an admin's erasure
    /// request): names, addresses and texts are gone, money records stay.
    #[schema(value_type = Option<String>, format = DateTime)]
    pub erased_at: Option<Timestamp>,
    /// In search results only: which field the query matched.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub matched: Option<crate::search::SearchMatch>,
    /// Only on a deleted customer (read-only until restored): when, by
    /// whom, why, and until when it can be restored.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub deleted: Option<crate::data::deletion::Deleted>,
    /// Only when this customer was answered for the code or id of a
    /// customer merged into it: which one, and the merge.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub merged_from: Option<crate::data::merge::MergedFrom>,
}

/// The body of "create a customer".
#[derive(Clone, Debug, Default, Serialize, Deserialize, utoipa::ToSchema)]
#[serde(deny_unknown_fields)]
pub struct CustomerInput {
    pub kind: Option<CustomerKind>,
    pub title: Option<String>,
    pub given_name: Option<String>,
    pub family_name: Option<String>,
    pub business_name: Option<String>,
    pub email: Option<String>,
    pub phone: Option<String>,
    pub source: Option<String>,
    pub communication: Option<CommunicationPreferences>,
    pub auto_comms_paused: Option<bool>,
    #[schema(value_type = Option<String>, format = Date)]
    pub auto_comms_paused_until: Option<Date>,
    pub payment_terms: Option<PaymentTerms>,
    /// Values of the org's customer fields by key, each of its field's type.
    #[schema(value_type = Option<HashMap<String, CustomValue>>)]
    pub custom_fields: Option<BTreeMap<String, Value>>,
    pub labels: Option<Vec<String>>,
    /// "Do not work with again", and why (at most 500 characters).
    #[schema(max_length = 500)]
    pub do_not_work_reason: Option<String>,
}

/// A customer ready to be stored: every field valid.
#[derive(Clone, Debug, PartialEq)]
pub struct NewCustomer {
    pub profile: CustomerProfile,
    pub labels: Vec<Label>,
}

impl CustomerInput {
    /// The customer, its custom fields checked against `fields` (the org's
    /// customer fields).
    pub fn parse(self, region: Region, fields: &Definitions) -> Result<NewCustomer, ValidationErrors> {
        let mut errors = ValidationErrors::default();
        let custom_fields = errors.take(fields.apply(CustomFields::new(), self.custom_fields.unwrap_or_default()));
        let labels = errors.take(Label::parse_all("labels", self.labels.unwrap_or_default()));
        let raw = RawProfile {
            kind: self.kind.unwrap_or(CustomerKind::Individual),
            title: self.title,
            given_name: self.given_name,
            family_name: self.family_name,
            business_name: self.business_name,
            email: Checked::Input(self.email),
            phone: Checked::Input(self.phone),
            source: self.source,
            communication: self.communication.unwrap_or_default(),
            auto_comms_paused: self.auto_comms_paused.unwrap_or(false),
            auto_comms_paused_until: self.auto_comms_paused_until,
            payment_terms: self.payment_terms,
            custom_fields: custom_fields.unwrap_or_default(),
            do_not_work_reason: self.do_not_work_reason,
        };
        let profile = errors.take(raw.parse(region));
        match (profile, labels) {
            (Some(profile), Some(labels)) if errors.is_empty() => Ok(NewCustomer { profile, labels }),
            _ => Err(errors),
        }
    }
}

/// The body of "update a customer": absent fields stay, `null` clears.
#[derive(Clone, Debug, Default, Serialize, Deserialize, utoipa::ToSchema)]
#[serde(deny_unknown_fields, default)]
pub struct CustomerPatch {
    pub kind: Option<CustomerKind>,
    #[schema(value_type = Option<String>)]
    pub title: Patch<String>,
    #[schema(value_type = Option<String>)]
    pub given_name: Patch<String>,
    #[schema(value_type = Option<String>)]
    pub family_name: Patch<String>,
    #[schema(value_type = Option<String>)]
    pub business_name: Patch<String>,
    #[schema(value_type = Option<String>)]
    pub email: Patch<String>,
    #[schema(value_type = Option<String>)]
    pub phone: Patch<String>,
    #[schema(value_type = Option<String>)]
    pub source: Patch<String>,
    pub communication: Option<CommunicationPreferences>,
    pub auto_comms_paused: Option<bool>,
    #[schema(value_type = Option<String>, format = Date)]
    pub auto_comms_paused_until: Patch<Date>,
    #[schema(value_type = Option<PaymentTerms>)]
    pub payment_terms: Patch<PaymentTerms>,
    /// Merged into the current values; a key set to `null` is removed.
    /// Each value is checked against its field's type; required fields
    /// must keep a value.
    #[schema(value_type = Option<HashMap<String, CustomValue>>)]
    pub custom_fields: Option<BTreeMap<String, Value>>,
    /// "Do not work with again", and why; `null` lifts the warning.
    #[schema(value_type = Option<String>, max_length = 500)]
    pub do_not_work_reason: Patch<String>,
}

impl CustomerPatch {
    /// The profile after this patch, checked as a whole (custom fields
    /// against `fields`, the org's customer fields).
    pub fn apply(self, current: &CustomerProfile, region: Region, fields: &Definitions) -> Result<CustomerProfile, ValidationErrors> {
        let custom_fields = fields.apply(current.custom_fields.clone(), self.custom_fields.unwrap_or_default())?;
        let raw = RawProfile {
            kind: self.kind.unwrap_or(current.kind),
            title: self.title.into_option(|| current.title.clone()),
            given_name: self.given_name.into_option(|| current.given_name.clone()),
            family_name: self.family_name.into_option(|| current.family_name.clone()),
            business_name: self.business_name.into_option(|| current.business_name.clone()),
            email: match self.email {
                Patch::Keep => Checked::Valid(current.email.clone()),
                other => Checked::Input(other.into_option(|| None)),
            },
            phone: match self.phone {
                Patch::Keep => Checked::Valid(current.phone.clone()),
                other => Checked::Input(other.into_option(|| None)),
            },
            source: self.source.into_option(|| current.source.clone()),
            communication: self.communication.unwrap_or(current.communication),
            auto_comms_paused: self.auto_comms_paused.unwrap_or(current.auto_comms_paused),
            auto_comms_paused_until: self.auto_comms_paused_until.apply(current.auto_comms_paused_until),
            payment_terms: self.payment_terms.apply(current.payment_terms),
            custom_fields,
            do_not_work_reason: self.do_not_work_reason.into_option(|| current.do_not_work_reason.clone()),
        };
        raw.parse(region)
    }
}

/// A value still to be parsed, or one that already was (an unchanged field
/// of a patched record is not parsed again).
enum Checked<T> {
    Input(Option<String>),
    Valid(Option<T>),
}

impl<T> Checked<T> {
    fn parse(self, errors: &mut ValidationErrors, field: &str, max: usize, parse: impl FnOnce(&str) -> Result<T, ValidationErrors>) -> Option<Option<T>> {
        match self {
            Checked::Valid(value) => Some(value),
            Checked::Input(text) => match text::optional(field, text, max) {
                Ok(Some(text)) => errors.take(parse(&text).map(Some)),
                other => errors.take(other.map(|_| None)),
            },
        }
    }
}

/// A profile before its text fields are checked.
struct RawProfile {
    kind: CustomerKind,
    title: Option<String>,
    given_name: Option<String>,
    family_name: Option<String>,
    business_name: Option<String>,
    email: Checked<Email>,
    phone: Checked<Phone>,
    source: Option<String>,
    communication: CommunicationPreferences,
    auto_comms_paused: bool,
    auto_comms_paused_until: Option<Date>,
    payment_terms: Option<PaymentTerms>,
    custom_fields: CustomFields,
    do_not_work_reason: Option<String>,
}

impl RawProfile {
    fn parse(self, region: Region) -> Result<CustomerProfile, ValidationErrors> {
        let mut errors = ValidationErrors::default();
        let title = errors.take(text::optional("title", self.title, 40));
        let given_name = errors.take(text::optional("given_name", self.given_name, 100));
        let family_name = errors.take(text::optional("family_name", self.family_name, 100));
        let business_name = errors.take(text::optional("business_name", self.business_name, 200));
        let source = errors.take(text::optional("source", self.source, 100));
        let do_not_work_reason = errors.take(text::optional_multiline("do_not_work_reason", self.do_not_work_reason, 500));
        let email = self.email.parse(&mut errors, "email", 254, |text| Email::parse("email", text));
        let phone = self.phone.parse(&mut errors, "phone", 40, |text| Phone::parse("phone", text, region));
        match self.kind {
            CustomerKind::Individual if matches!(family_name, Some(None)) => errors.push("family_name", "required", "is required for an individual"),
            CustomerKind::Business if matches!(business_name, Some(None)) => errors.push("business_name", "required", "is required for a business"),
            _ => {}
        }
        if let Some(terms) = self.payment_terms {
            errors.take(terms.check("payment_terms"));
        }
        if let Some(until) = self.auto_comms_paused_until {
            errors.take(dates::check("auto_comms_paused_until", until));
        }
        if self.auto_comms_paused_until.is_some() && !self.auto_comms_paused {
            errors.push("auto_comms_paused_until", "requires_pause", "can only be set while automated communications are paused");
        }
        if !errors.is_empty() {
            return Err(errors);
        }
        Ok(CustomerProfile {
            kind: self.kind,
            title: title.flatten(),
            given_name: given_name.flatten(),
            family_name: family_name.flatten(),
            business_name: business_name.flatten(),
            email: email.flatten(),
            phone: phone.flatten(),
            source: source.flatten(),
            communication: self.communication,
            auto_comms_paused: self.auto_comms_paused,
            auto_comms_paused_until: self.auto_comms_paused_until,
            payment_terms: self.payment_terms,
            custom_fields: self.custom_fields,
            do_not_work_reason: do_not_work_reason.flatten(),
        })
    }
}

/// A label on a customer ("VIP", "Key account"): trimmed, single-spaced.
#[derive(Clone, Debug, PartialEq, Eq, PartialOrd, Ord, Hash)]
pub struct Label(String);

impl Label {
    /// Runs of spaces become one; line breaks and other control characters
    /// are refused (see [`text`]).
    pub fn parse(field: &str, text: &str) -> Result<Self, ValidationErrors> {
        let collapsed = text.split(|c: char| c.is_whitespace() && !c.is_control()).filter(|w| !w.is_empty()).collect::<Vec<_>>().join(" ");
        Ok(Self(text::required(field, Some(collapsed), MAX_LABEL_CHARS)?))
    }

    /// Parse a list of at most [`MAX_LABELS`], dropping duplicates.
    pub fn parse_all(field: &str, texts: Vec<String>) -> Result<Vec<Self>, ValidationErrors> {
        check_count(field, texts.len(), MAX_LABELS, "labels")?;
        let mut errors = ValidationErrors::default();
        let mut labels: Vec<Label> = texts.iter().enumerate().filter_map(|(i, t)| errors.take(Label::parse(&format!("{field}[{i}]"), t))).collect();
        labels.sort();
        labels.dedup();
        errors.into_result(|| labels)
    }

    pub fn as_str(&self) -> &str {
        &self.0
    }

    pub fn into_string(self) -> String {
        self.0
    }
}

/// The body of "change a customer's status".
#[derive(Clone, Debug, Serialize, Deserialize, utoipa::ToSchema)]
#[serde(deny_unknown_fields)]
pub struct StatusChangeInput {
    pub status: CustomerStatus,
    /// Why; shown in the status history.
    pub reason: Option<String>,
}

/// A checked status change.
#[derive(Clone, Debug, PartialEq)]
pub struct StatusChange {
    pub status: CustomerStatus,
    pub reason: String,
}

impl StatusChangeInput {
    pub fn parse(self) -> Result<StatusChange, ValidationErrors> {
        Ok(StatusChange { status: self.status, reason: text::required_multiline("reason", self.reason, 500)? })
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use serde_json::json;

    fn input(body: Value) -> Result<NewCustomer, ValidationErrors> {
        serde_json::from_value::<CustomerInput>(body).unwrap().parse(Region::default(), &Definitions::default())
    }

    #[test]
    fn a_blocked_customer_gets_new_work_only_with_a_reason_and_a_deactivated_one_never() {
        assert_eq!(CustomerStatus::Active.new_work(None, None), Ok(None));
        assert_eq!(CustomerStatus::Dormant.new_work(None, None), Ok(None));
        let refused = CustomerStatus::Blocked.new_work(Some("Unpaid invoices"), None).unwrap_err();
        assert_eq!(refused.code(), "customer_blocked");
        assert!(refused.message("CUS-00001").contains("Unpaid invoices"));
        assert_eq!(CustomerStatus::Blocked.new_work(None, Some("Paid up front")), Ok(Some("Paid up front".into())));
        assert_eq!(CustomerStatus::Deactivated.new_work(None, Some("Please")), Err(WorkRefused::Deactivated));
        assert_eq!(CustomerStatus::Deactivated.writable(), Err(WorkRefused::Deactivated));
        assert_eq!(CustomerStatus::Blocked.writable(), Ok(()));
    }

    #[test]
    fn an_individual_needs_a_family_name_and_a_business_a_business_name() {
        let err = input(json!({"kind": "individual", "given_name": "Ann"})).unwrap_err();
        assert_eq!(err.0[0].field, "family_name");
        let err = input(json!({"kind": "business", "family_name": "Smith"})).unwrap_err();
        assert_eq!(err.0[0].field, "business_name");
        let ok = input(json!({"kind": "business", "business_name": " Acme  Ltd "})).unwrap();
        assert_eq!(ok.profile.display_name(), "Acme  Ltd");
    }

    #[test]
    fn every_bad_field_is_reported_at_once() {
        let err = input(json!({"family_name": "", "email": "x", "phone": "1", "custom_fields": {"undefined": 1}})).unwrap_err();
        let fields: Vec<_> = err.0.iter().map(|e| e.field.as_str()).collect();
        assert_eq!(fields, vec!["custom_fields.undefined", "email", "phone", "family_name"]);
    }

    #[test]
    fn patch_keeps_absent_fields_and_clears_null_ones() {
        let mut created = input(json!({"given_name": "Ann", "family_name": "Lee", "source": "Google"})).unwrap();
        // A value stored before its field was defined can still be cleared.
        created.profile.custom_fields.insert("gate".into(), CustomValue::Text("1234".into()));
        let patch: CustomerPatch = serde_json::from_value(json!({"source": null, "phone": "07911 123456", "custom_fields": {"gate": null}})).unwrap();
        let updated = patch.apply(&created.profile, Region::default(), &Definitions::default()).unwrap();
        assert_eq!(updated.given_name.as_deref(), Some("Ann"));
        assert_eq!(updated.source, None);
        assert_eq!(updated.phone.unwrap().as_str(), "+447911123456");
        assert!(updated.custom_fields.is_empty());
    }

    #[test]
    fn clearing_a_required_name_is_refused() {
        let created = input(json!({"family_name": "Lee"})).unwrap();
        let patch: CustomerPatch = serde_json::from_value(json!({"family_name": null})).unwrap();
        assert_eq!(patch.apply(&created.profile, Region::default(), &Definitions::default()).unwrap_err().0[0].code, "required");
    }

    #[test]
    fn labels_are_bounded() {
        let labels: Vec<String> = (0..=MAX_LABELS).map(|i| format!("label {i}")).collect();
        assert_eq!(input(json!({"family_name": "Lee", "labels": labels})).unwrap_err().0[0].code, "too_many");
        assert_eq!(Label::parse("label", &"x".repeat(MAX_LABEL_CHARS + 1)).unwrap_err().0[0].code, "too_long");
        assert_eq!(Label::parse("label", " Key \u{a0}  account ").unwrap().as_str(), "Key account");
        assert_eq!(Label::parse("label", "VIP\nBlocked").unwrap_err().0[0].code, "invalid_characters");
    }

    #[test]
    fn names_refuse_spoofing_characters_and_are_nfc() {
        let err = input(json!({"family_name": "Lee\u{202E}gnp.exe"})).unwrap_err();
        assert_eq!((err.0[0].field.as_str(), err.0[0].code), ("family_name", "invalid_characters"));
        assert_eq!(input(json!({"family_name": "Lee\r\nBcc: x"})).unwrap_err().0[0].code, "invalid_characters");
        assert_eq!(input(json!({"family_name": "Jose\u{301}"})).unwrap().profile.family_name.as_deref(), Some("Jos\u{e9}"));
    }

    #[test]
    fn unknown_fields_are_rejected() {
        assert!(serde_json::from_value::<CustomerInput>(json!({"family_name": "Lee", "shoe_size": 9})).is_err());
        assert!(serde_json::from_value::<CustomerPatch>(json!({"status": "blocked"})).is_err());
    }
}

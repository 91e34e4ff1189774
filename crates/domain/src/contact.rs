//! Contacts: the people at a customer, with typed emails and phones.

use jiff::Timestamp;
use serde::{Deserialize, Serialize};

use crate::contact_point::{Email, Phone, Region};
use crate::customer::{CommunicationPreferences, string_enum};
use crate::error::ValidationErrors;
use crate::ids::{ContactId, CustomerId};
use crate::limits::{MAX_CONTACT_POINTS, MAX_CONTACT_ROLES, check_count};
use crate::patch::Patch;
use crate::text;

string_enum!(
    /// What a contact is the person to talk to about.
    ContactRole { Billing = "billing", Scheduling = "scheduling", Technical = "technical" }
);
string_enum!(EmailKind { Work = "work", Home = "home", Other = "other" });
string_enum!(PhoneKind { Mobile = "mobile", Work = "work", Home = "home", Other = "other" });

#[derive(Clone, Debug, PartialEq, Eq, Serialize, Deserialize, utoipa::ToSchema)]
pub struct ContactEmail {
    pub kind: EmailKind,
    pub address: Email,
}

#[derive(Clone, Debug, PartialEq, Eq, Serialize, Deserialize, utoipa::ToSchema)]
pub struct ContactPhone {
    pub kind: PhoneKind,
    /// E.164.
    pub number: Phone,
}

/// The editable part of a contact.
#[derive(Clone, Debug, PartialEq, Eq, Serialize, Deserialize, utoipa::ToSchema)]
pub struct ContactProfile {
    pub title: Option<String>,
    pub given_name: Option<String>,
    pub family_name: String,
    /// Job title or position, free text.
    pub position: Option<String>,
    pub roles: Vec<ContactRole>,
    pub emails: Vec<ContactEmail>,
    pub phones: Vec<ContactPhone>,
    pub urls: Vec<String>,
    /// The customer's main contact; at most one per customer.
    pub is_primary: bool,
    /// Receives invoices and statements.
    pub is_billing: bool,
    /// What this person agreed to receive, when it differs from the
    /// customer's; none: as the customer's. A send to the contact needs
    /// both.
    pub communication: Option<CommunicationPreferences>,
}

impl ContactProfile {
    pub fn display_name(&self) -> String {
        [self.given_name.as_deref(), Some(self.family_name.as_str())].into_iter().flatten().collect::<Vec<_>>().join(" ")
    }
}

#[derive(Clone, Debug, PartialEq, Serialize, utoipa::ToSchema)]
pub struct Contact {
    pub id: ContactId,
    pub customer_id: CustomerId,
    pub display_name: String,
    #[serde(flatten)]
    pub profile: ContactProfile,
    #[schema(value_type = String, format = DateTime)]
    pub created_at: Timestamp,
    #[schema(value_type = String, format = DateTime)]
    pub updated_at: Timestamp,
}

#[derive(Clone, Debug, Serialize, Deserialize, utoipa::ToSchema)]
#[serde(deny_unknown_fields)]
pub struct EmailInput {
    #[serde(default = "default_email_kind")]
    pub kind: EmailKind,
    pub address: String,
}

fn default_email_kind() -> EmailKind {
    EmailKind::Work
}

#[derive(Clone, Debug, Serialize, Deserialize, utoipa::ToSchema)]
#[serde(deny_unknown_fields)]
pub struct PhoneInput {
    #[serde(default = "default_phone_kind")]
    pub kind: PhoneKind,
    /// In any format; numbers without a country code use the org's region.
    pub number: String,
}

fn default_phone_kind() -> PhoneKind {
    PhoneKind::Mobile
}

/// The body of "add a contact".
#[derive(Clone, Debug, Default, Serialize, Deserialize, utoipa::ToSchema)]
#[serde(deny_unknown_fields)]
pub struct ContactInput {
    pub title: Option<String>,
    pub given_name: Option<String>,
    #[schema(value_type = String, required = true, min_length = 1)]
    pub family_name: Option<String>,
    pub position: Option<String>,
    pub roles: Option<Vec<ContactRole>>,
    pub emails: Option<Vec<EmailInput>>,
    pub phones: Option<Vec<PhoneInput>>,
    pub urls: Option<Vec<String>>,
    pub is_primary: Option<bool>,
    pub is_billing: Option<bool>,
    /// The contact's own preferences; absent: as the customer's.
    pub communication: Option<CommunicationPreferences>,
}

impl ContactInput {
    pub fn parse(self, region: Region) -> Result<ContactProfile, ValidationErrors> {
        RawContact {
            title: self.title,
            given_name: self.given_name,
            family_name: self.family_name,
            position: self.position,
            roles: self.roles.unwrap_or_default(),
            emails: Lists::Raw(self.emails.unwrap_or_default()),
            phones: Lists::Raw(self.phones.unwrap_or_default()),
            urls: self.urls.unwrap_or_default(),
            is_primary: self.is_primary.unwrap_or(false),
            is_billing: self.is_billing.unwrap_or(false),
            communication: self.communication,
        }
        .parse(region)
    }
}

/// The body of "update a contact": absent fields stay, `null` clears; lists
/// are replaced whole.
#[derive(Clone, Debug, Default, Serialize, Deserialize, utoipa::ToSchema)]
#[serde(deny_unknown_fields, default)]
pub struct ContactPatch {
    #[schema(value_type = Option<String>)]
    pub title: Patch<String>,
    #[schema(value_type = Option<String>)]
    pub given_name: Patch<String>,
    #[schema(value_type = Option<String>)]
    pub family_name: Patch<String>,
    #[schema(value_type = Option<String>)]
    pub position: Patch<String>,
    pub roles: Option<Vec<ContactRole>>,
    pub emails: Option<Vec<EmailInput>>,
    pub phones: Option<Vec<PhoneInput>>,
    pub urls: Option<Vec<String>>,
    pub is_primary: Option<bool>,
    pub is_billing: Option<bool>,
    /// The contact's own preferences; `null`: as the customer's again.
    #[schema(value_type = Option<CommunicationPreferences>)]
    pub communication: Patch<CommunicationPreferences>,
}

impl ContactPatch {
    pub fn apply(self, current: &ContactProfile, region: Region) -> Result<ContactProfile, ValidationErrors> {
        RawContact {
            title: self.title.into_option(|| current.title.clone()),
            given_name: self.given_name.into_option(|| current.given_name.clone()),
            family_name: self.family_name.into_option(|| Some(current.family_name.clone())),
            position: self.position.into_option(|| current.position.clone()),
            roles: self.roles.unwrap_or_else(|| current.roles.clone()),
            emails: self.emails.map_or_else(|| Lists::Parsed(current.emails.clone()), Lists::Raw),
            phones: self.phones.map_or_else(|| Lists::Parsed(current.phones.clone()), Lists::Raw),
            urls: self.urls.unwrap_or_else(|| current.urls.clone()),
            is_primary: self.is_primary.unwrap_or(current.is_primary),
            is_billing: self.is_billing.unwrap_or(current.is_billing),
            communication: self.communication.apply(current.communication),
        }
        .parse(region)
    }
}

/// A list that is either new input or already valid.
enum Lists<R, P> {
    Raw(Vec<R>),
    Parsed(Vec<P>),
}

impl<R, P> Lists<R, P> {
    fn len(&self) -> usize {
        match self {
            Lists::Raw(list) => list.len(),
            Lists::Parsed(list) => list.len(),
        }
    }
}

struct RawContact {
    title: Option<String>,
    given_name: Option<String>,
    family_name: Option<String>,
    position: Option<String>,
    roles: Vec<ContactRole>,
    emails: Lists<EmailInput, ContactEmail>,
    phones: Lists<PhoneInput, ContactPhone>,
    urls: Vec<String>,
    is_primary: bool,
    is_billing: bool,
    communication: Option<CommunicationPreferences>,
}

impl RawContact {
    fn parse(self, region: Region) -> Result<ContactProfile, ValidationErrors> {
        let mut errors = ValidationErrors::default();
        // Lists are bounded before any entry is parsed.
        let counts = [
            ("roles", self.roles.len(), MAX_CONTACT_ROLES),
            ("emails", self.emails.len(), MAX_CONTACT_POINTS),
            ("phones", self.phones.len(), MAX_CONTACT_POINTS),
            ("urls", self.urls.len(), MAX_CONTACT_POINTS),
        ];
        for (field, len, max) in counts {
            errors.take(check_count(field, len, max, field));
        }
        if !errors.is_empty() {
            return Err(errors);
        }
        let title = errors.take(text::optional("title", self.title, 40));
        let given_name = errors.take(text::optional("given_name", self.given_name, 100));
        let family_name = errors.take(text::required("family_name", self.family_name, 100));
        let position = errors.take(text::optional("position", self.position, 100));
        let emails = match self.emails {
            Lists::Parsed(list) => list,
            Lists::Raw(list) => list
                .into_iter()
                .enumerate()
                .filter_map(|(i, e)| {
                    errors.take(Email::parse(&format!("emails[{i}].address"), &e.address).map(|address| ContactEmail { kind: e.kind, address }))
                })
                .collect(),
        };
        let phones = match self.phones {
            Lists::Parsed(list) => list,
            Lists::Raw(list) => list
                .into_iter()
                .enumerate()
                .filter_map(|(i, p)| {
                    errors.take(Phone::parse(&format!("phones[{i}].number"), &p.number, region).map(|number| ContactPhone { kind: p.kind, number }))
                })
                .collect(),
        };
        let urls: Vec<String> = self
            .urls
            .into_iter()
            .enumerate()
            .filter_map(|(i, url)| {
                let field = format!("urls[{i}]");
                let url = errors.take(text::required(&field, Some(url), 500))?;
                if url.starts_with("https://") || url.starts_with("http://") {
                    Some(url)
                } else {
                    errors.push(field, "invalid_url", "must start with http:// or https://");
                    None
                }
            })
            .collect();
        let mut roles = self.roles;
        roles.sort();
        roles.dedup();
        match (title, given_name, family_name, position) {
            (Some(title), Some(given_name), Some(family_name), Some(position)) if errors.is_empty() => Ok(ContactProfile {
                title,
                given_name,
                family_name,
                position,
                roles,
                emails,
                phones,
                urls,
                is_primary: self.is_primary,
                is_billing: self.is_billing,
                communication: self.communication,
            }),
            _ => Err(errors),
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use serde_json::{Value, json};

    #[test]
    fn a_contact_needs_a_family_name_and_valid_points_of_contact() {
        let input: ContactInput = serde_json::from_value(json!({
            "given_name": "Bo", "emails": [{"address": "bo@example.com"}, {"address": "nope"}],
            "phones": [{"number": "07911 123457"}]
        }))
        .unwrap();
        let err = input.parse(Region::default()).unwrap_err();
        let fields: Vec<_> = err.0.iter().map(|e| e.field.as_str()).collect();
        assert_eq!(fields, vec!["family_name", "emails[1].address"]);
    }

    #[test]
    fn a_contacts_lists_are_bounded_before_they_are_read() {
        let emails: Vec<Value> = (0..=MAX_CONTACT_POINTS).map(|i| json!({"address": format!("a{i}@example.com")})).collect();
        let input: ContactInput = serde_json::from_value(json!({"family_name": "Lee", "emails": emails, "urls": vec!["https://x.example"; 11]})).unwrap();
        let err = input.parse(Region::default()).unwrap_err();
        let found: Vec<_> = err.0.iter().map(|e| (e.field.as_str(), e.code)).collect();
        assert_eq!(found, [("emails", "too_many"), ("urls", "too_many")]);
        let input: ContactInput = serde_json::from_value(json!({"family_name": "Lee", "emails": [{"address": "a\u{200B}b@example.com"}]})).unwrap();
        assert_eq!(input.parse(Region::default()).unwrap_err().0[0].code, "invalid_characters");
    }

    #[test]
    fn patch_replaces_lists_and_keeps_the_rest() {
        let input: ContactInput = serde_json::from_value(json!({"family_name": "Lee", "phones": [{"number": "07911 123457", "kind": "work"}]})).unwrap();
        let contact = input.parse(Region::default()).unwrap();
        let patch: ContactPatch = serde_json::from_value(json!({"emails": [{"address": "LEE@example.com", "kind": "home"}]})).unwrap();
        let updated = patch.apply(&contact, Region::default()).unwrap();
        assert_eq!(updated.phones, contact.phones);
        assert_eq!(updated.emails[0].address.as_str(), "lee@example.com");
        assert_eq!(updated.emails[0].kind, EmailKind::Home);
    }
}

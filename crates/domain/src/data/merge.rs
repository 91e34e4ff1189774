//! Merging two customers: which of the two values of each profile field
//! survives, what a merge records, and how long it can be undone.
//!
//! A merge moves everything of the merged customer (contacts, sites, works,
//! money, messages, follow-ups, files) to the survivor and keeps a record of
//! exactly which rows moved and of the survivor's profile before, so it can
//! be undone within [`UNDO_WINDOW_DAYS`]; nothing is destroyed.

use std::collections::BTreeMap;

use jiff::{SignedDuration, Timestamp};
use serde::{Deserialize, Serialize};
use uuid::Uuid;

use crate::customer::CustomerProfile;
use crate::error::ValidationErrors;

/// Days a merge can be undone, counted from the merge: the same window as
/// restoring a deleted customer.
pub const UNDO_WINDOW_DAYS: i64 = crate::data::deletion::RESTORE_WINDOW_DAYS;

/// When a merge made at `at` can no longer be undone.
pub fn undoable_until(at: Timestamp) -> Timestamp {
    at.saturating_add(SignedDuration::from_hours(24 * UNDO_WINDOW_DAYS)).unwrap_or(at)
}

/// Stable problem codes of refused merges and undos.
pub const MERGED_CODE: &str = "customer_merged";
pub const INTO_ITSELF_CODE: &str = "merge_into_itself";
pub const ERASED_CODE: &str = "customer_erased";
pub const UNDONE_CODE: &str = "merge_undone";
pub const UNDO_WINDOW_ENDED_CODE: &str = "undo_window_ended";

/// What a person is told when something of a merged customer would change.
pub fn merged_message(customer: &str, survivor: &str) -> String {
    format!("{customer} was merged into {survivor} and is read-only; change {survivor} instead")
}

/// Whose value of a field survives the merge.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Serialize, Deserialize, utoipa::ToSchema)]
#[serde(rename_all = "snake_case")]
pub enum Side {
    Survivor,
    Merged,
}

/// The profile fields a merge chooses between, besides each custom field
/// (`custom.<key>`). `name` is the kind and every name together.
pub const FIELDS: &[&str] = &["name", "email", "phone", "source", "payment_terms", "communication", "do_not_work"];

/// At most this many field choices in one merge (the fields above and the
/// org's custom fields).
pub const MAX_FIELD_CHOICES: usize = FIELDS.len() + crate::limits::MAX_CUSTOM_FIELDS;

/// The body of "merge a customer into this one".
#[derive(Clone, Debug, Default, Serialize, Deserialize, utoipa::ToSchema)]
#[serde(deny_unknown_fields)]
pub struct MergeInput {
    /// The customer merged into the survivor: its code or id.
    pub merged: String,
    /// Per field (`name`, `email`, `phone`, `source`, `payment_terms`,
    /// `communication`, `do_not_work`, `custom.<key>`), whose value
    /// survives. A field left out keeps the survivor's value, or takes the
    /// merged customer's where the survivor has none.
    #[serde(default)]
    #[schema(value_type = HashMap<String, Side>)]
    pub fields: BTreeMap<String, Side>,
}

impl MergeInput {
    /// The merged customer's reference and the field choices, checked:
    /// known fields only, bounded.
    pub fn parse(self) -> Result<(String, BTreeMap<String, Side>), ValidationErrors> {
        let mut errors = ValidationErrors::default();
        let merged = self.merged.trim().to_owned();
        if merged.is_empty() {
            errors.push("merged", "required", "is required: the code or id of the customer to merge into this one");
        } else if merged.chars().count() > 100 {
            errors.push("merged", "too_long", "is at most 100 characters");
        }
        if self.fields.len() > MAX_FIELD_CHOICES {
            errors.push("fields", "too_many", format!("at most {MAX_FIELD_CHOICES} fields"));
        }
        for field in self.fields.keys() {
            let custom = field.strip_prefix("custom.").is_some_and(|key| !key.is_empty() && key.len() <= crate::limits::MAX_CUSTOM_FIELD_KEY_CHARS);
            if !FIELDS.contains(&field.as_str()) && !custom {
                let shown: String = field.chars().take(64).collect();
                errors.push(
                    format!("fields.{shown}"),
                    "unknown_field",
                    format!("is not a field a merge chooses: one of {}, or custom.<key>", FIELDS.join(", ")),
                );
            }
        }
        errors.into_result(|| (merged, self.fields))
    }
}

/// The survivor's profile after the merge: per field the chosen side's
/// value; a field not chosen keeps the survivor's value unless it has none
/// and the merged customer has one.
pub fn merged_profile(survivor: &CustomerProfile, merged: &CustomerProfile, choices: &BTreeMap<String, Side>) -> CustomerProfile {
    let take = |field: &str, survivor_empty: bool, merged_empty: bool| match choices.get(field) {
        Some(side) => *side == Side::Merged,
        None => survivor_empty && !merged_empty,
    };
    let mut out = survivor.clone();
    if take("name", false, false) {
        out.kind = merged.kind;
        out.title = merged.title.clone();
        out.given_name = merged.given_name.clone();
        out.family_name = merged.family_name.clone();
        out.business_name = merged.business_name.clone();
    }
    if take("email", survivor.email.is_none(), merged.email.is_none()) {
        out.email = merged.email.clone();
    }
    if take("phone", survivor.phone.is_none(), merged.phone.is_none()) {
        out.phone = merged.phone.clone();
    }
    if take("source", survivor.source.is_none(), merged.source.is_none()) {
        out.source = merged.source.clone();
    }
    if take("payment_terms", survivor.payment_terms.is_none(), merged.payment_terms.is_none()) {
        out.payment_terms = merged.payment_terms;
    }
    if take("communication", false, false) {
        out.communication = merged.communication;
        out.auto_comms_paused = merged.auto_comms_paused;
        out.auto_comms_paused_until = merged.auto_comms_paused_until;
    }
    if take("do_not_work", survivor.do_not_work_reason.is_none(), merged.do_not_work_reason.is_none()) {
        out.do_not_work_reason = merged.do_not_work_reason.clone();
    }
    let keys: Vec<&String> = survivor.custom_fields.keys().chain(merged.custom_fields.keys()).collect();
    for key in keys {
        let (ours, theirs) = (survivor.custom_fields.get(key), merged.custom_fields.get(key));
        if take(&format!("custom.{key}"), ours.is_none(), theirs.is_none()) {
            match theirs {
                Some(value) => out.custom_fields.insert(key.clone(), value.clone()),
                None => out.custom_fields.remove(key),
            };
        }
    }
    out
}

/// The fields whose values differ between two profiles, in [`FIELDS`]
/// order then the custom fields': what the Merge page offers a choice for.
pub fn differing_fields(survivor: &CustomerProfile, merged: &CustomerProfile) -> Vec<String> {
    let names = |p: &CustomerProfile| (p.kind, p.title.clone(), p.given_name.clone(), p.family_name.clone(), p.business_name.clone());
    let communication = |p: &CustomerProfile| (p.communication, p.auto_comms_paused, p.auto_comms_paused_until);
    let mut out = Vec::new();
    let mut differs = |field: &str, yes: bool| {
        if yes {
            out.push(field.to_owned());
        }
    };
    differs("name", names(survivor) != names(merged));
    differs("email", survivor.email != merged.email);
    differs("phone", survivor.phone != merged.phone);
    differs("source", survivor.source != merged.source);
    differs("payment_terms", survivor.payment_terms != merged.payment_terms);
    differs("communication", communication(survivor) != communication(merged));
    differs("do_not_work", survivor.do_not_work_reason != merged.do_not_work_reason);
    let mut keys: Vec<&String> = survivor.custom_fields.keys().chain(merged.custom_fields.keys()).collect();
    keys.sort();
    keys.dedup();
    for key in keys {
        differs(&format!("custom.{key}"), survivor.custom_fields.get(key) != merged.custom_fields.get(key));
    }
    out
}

/// The ids of the rows a merge moved from the merged customer to the
/// survivor, per table, and the contacts whose primary flag it cleared
/// (the survivor keeps its own primary contact). Undoing moves exactly
/// these back.
#[derive(Clone, Debug, Default, PartialEq, Eq, Serialize, Deserialize)]
pub struct Moved {
    pub tables: BTreeMap<String, Vec<Uuid>>,
    #[serde(default)]
    pub unprimaried_contacts: Vec<Uuid>,
    /// Labels the survivor did not have and took from the merged customer.
    #[serde(default)]
    pub added_labels: Vec<String>,
}

impl Moved {
    /// How many rows moved, per table (for the API and the history).
    pub fn counts(&self) -> BTreeMap<String, usize> {
        self.tables.iter().map(|(table, ids)| (table.clone(), ids.len())).collect()
    }
}

/// A customer as a merge names it.
#[derive(Clone, Debug, PartialEq, Eq, Serialize, utoipa::ToSchema)]
pub struct MergeParty {
    pub id: Uuid,
    pub code: String,
    pub display_name: String,
}

/// A merge as the API shows it.
#[derive(Clone, Debug, PartialEq, Eq, Serialize, utoipa::ToSchema)]
pub struct Merge {
    pub id: Uuid,
    pub survivor: MergeParty,
    pub merged: MergeParty,
    #[schema(value_type = String, format = DateTime)]
    pub merged_at: Timestamp,
    pub merged_by: String,
    /// How many rows moved to the survivor, per table.
    #[schema(value_type = HashMap<String, usize>)]
    pub moved: BTreeMap<String, usize>,
    /// Until when it can be undone.
    #[schema(value_type = String, format = DateTime)]
    pub undoable_until: Timestamp,
    #[schema(value_type = Option<String>, format = DateTime)]
    pub undone_at: Option<Timestamp>,
    pub undone_by: Option<String>,
}

impl Merge {
    /// Whether it can still be undone at `now`.
    pub fn undoable(&self, now: Timestamp) -> bool {
        self.undone_at.is_none() && now < self.undoable_until
    }
}

/// On a customer answered for the code or id of a customer merged into
/// it: which customer that was, and the merge.
#[derive(Clone, Debug, PartialEq, Eq, Serialize, utoipa::ToSchema)]
pub struct MergedFrom {
    /// The merged customer's id and code (the ones asked for).
    pub id: Uuid,
    pub code: String,
    /// The merge: `POST /api/v1/merges/{merge_id}/undo` undoes it.
    pub merge_id: Uuid,
    #[schema(value_type = String, format = DateTime)]
    pub merged_at: Timestamp,
    #[schema(value_type = String, format = DateTime)]
    pub undoable_until: Timestamp,
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::contact_point::Email;
    use crate::custom_fields::CustomValue;
    use crate::customer::CustomerKind;

    fn person(given: &str, family: &str) -> CustomerProfile {
        CustomerProfile { given_name: Some(given.into()), family_name: Some(family.into()), ..CustomerProfile::empty(CustomerKind::Individual) }
    }

    #[test]
    fn by_default_the_survivor_keeps_its_values_and_fills_its_blanks_from_the_merged() {
        let mut survivor = person("Ann", "Smith");
        survivor.source = Some("Web".into());
        let mut merged = person("Anne", "Smyth");
        merged.email = Some(Email::from_stored("anne@example.com".into()));
        merged.source = Some("Flyer".into());
        merged.custom_fields.insert("gate".into(), CustomValue::Text("1234".into()));
        let out = merged_profile(&survivor, &merged, &BTreeMap::new());
        assert_eq!((out.given_name.as_deref(), out.family_name.as_deref()), (Some("Ann"), Some("Smith")));
        assert_eq!(out.source.as_deref(), Some("Web"));
        assert_eq!(out.email.as_ref().map(Email::as_str), Some("anne@example.com"));
        assert_eq!(out.custom_fields.get("gate"), Some(&CustomValue::Text("1234".into())));
    }

    #[test]
    fn a_choice_takes_that_side_even_when_it_is_empty() {
        let mut survivor = person("Ann", "Smith");
        survivor.email = Some(Email::from_stored("ann@example.com".into()));
        survivor.custom_fields.insert("gate".into(), CustomValue::Text("1".into()));
        let merged = person("Anne", "Smyth");
        let choices: BTreeMap<String, Side> =
            [("name".into(), Side::Merged), ("email".into(), Side::Merged), ("custom.gate".into(), Side::Merged)].into_iter().collect();
        let out = merged_profile(&survivor, &merged, &choices);
        assert_eq!(out.display_name(), "Anne Smyth");
        assert_eq!(out.email, None);
        assert!(out.custom_fields.is_empty());
        assert_eq!(differing_fields(&survivor, &merged), ["name", "email", "custom.gate"]);
    }

    #[test]
    fn the_input_names_known_fields_only_and_is_bounded() {
        let input =
            |merged: &str, fields: &[&str]| MergeInput { merged: merged.into(), fields: fields.iter().map(|f| (f.to_string(), Side::Merged)).collect() };
        assert!(input("CUS-00002", &["email", "custom.gate"]).parse().is_ok());
        let errors = input("", &["colour", "custom."]).parse().unwrap_err();
        let fields: Vec<&str> = errors.0.iter().map(|e| e.field.as_str()).collect();
        assert_eq!(fields, ["merged", "fields.colour", "fields.custom."]);
        let many: Vec<String> = (0..MAX_FIELD_CHOICES + 1).map(|i| format!("custom.f{i}")).collect();
        let refs: Vec<&str> = many.iter().map(String::as_str).collect();
        assert_eq!(input("CUS-00002", &refs).parse().unwrap_err().0[0].code, "too_many");
    }

    #[test]
    fn a_merge_is_undoable_for_thirty_days() {
        let at: Timestamp = "2026-01-01T10:00:00Z".parse().unwrap();
        assert_eq!(undoable_until(at), "2026-01-31T10:00:00Z".parse().unwrap());
    }
}

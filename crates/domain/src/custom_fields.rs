//! Typed custom fields: per org, admins define fields for customers, sites
//! and jobs (text, number, money, date, yes/no, a choice from a list),
//! required or not, in an order. A record keeps its values by key; each
//! value is checked against its definition when it is written.
//!
//! Bounds: at most [`MAX_FIELD_DEFINITIONS`] definitions per kind of record,
//! keys of 1–[`MAX_CUSTOM_FIELD_KEY_CHARS`] characters (`a-z`, `0-9`, `_`,
//! starting with a letter), labels of at most [`MAX_FIELD_LABEL_CHARS`],
//! at most [`MAX_CHOICE_OPTIONS`] options of at most
//! [`MAX_CHOICE_OPTION_CHARS`] each, text values of at most
//! [`MAX_CUSTOM_FIELD_TEXT_CHARS`].

use std::collections::BTreeMap;

use jiff::Timestamp;
use jiff::civil::Date;
use serde::{Deserialize, Serialize};
use serde_json::{Number, Value};

use crate::customer::string_enum;
use crate::error::ValidationErrors;
use crate::ids::CustomFieldId;
use crate::limits::check_count;
pub use crate::limits::{MAX_CUSTOM_FIELD_KEY_CHARS, MAX_CUSTOM_FIELD_TEXT_CHARS, MAX_CUSTOM_FIELDS as MAX_FIELD_DEFINITIONS};
use crate::money::Money;
use crate::{dates, text};

/// Characters in a field's label.
pub const MAX_FIELD_LABEL_CHARS: usize = 100;
/// Options of one choice field.
pub const MAX_CHOICE_OPTIONS: usize = 50;
/// Characters in one option of a choice field.
pub const MAX_CHOICE_OPTION_CHARS: usize = 100;
/// The largest number a number field holds, either side of zero.
pub const MAX_NUMBER: f64 = 1e15;

string_enum!(
    /// The kinds of record that carry custom fields.
    FieldEntity { Customer = "customer", Site = "site", Job = "job" }
);

string_enum!(
    /// What a field holds. In JSON: text, a date (`YYYY-MM-DD`) and a choice
    /// are strings, a number is a number, money an integer in minor units,
    /// yes/no a boolean.
    FieldType { Text = "text", Number = "number", Money = "money", Date = "date", YesNo = "yes_no", Choice = "choice" }
);

impl FieldType {
    /// Whether the directory filters customers by this field's value
    /// (equality; text case-insensitively).
    pub fn filterable(self) -> bool {
        matches!(self, FieldType::Text | FieldType::Choice | FieldType::YesNo)
    }

    /// Whether the directory's search finds customers by the words of this
    /// field's values (see [`crate::search::custom_value_terms`]).
    pub fn searchable(self) -> bool {
        matches!(self, FieldType::Text | FieldType::Choice)
    }
}

/// The value of one custom field, as its type writes it in JSON.
#[derive(Clone, Debug, PartialEq, Eq, Serialize, Deserialize, utoipa::ToSchema)]
#[serde(untagged)]
pub enum CustomValue {
    Bool(bool),
    /// A number, or an amount of money in minor units.
    #[schema(value_type = f64)]
    Number(Number),
    /// Text, a date (`YYYY-MM-DD`) or a choice.
    Text(String),
}

impl CustomValue {
    /// How the directory's filter compares it: text folded to lower case
    /// (at most 200 characters of it), yes/no as `true`/`false`.
    pub fn filter_text(&self) -> String {
        match self {
            CustomValue::Bool(b) => b.to_string(),
            CustomValue::Number(n) => n.to_string(),
            CustomValue::Text(t) => t.chars().take(200).collect::<String>().to_lowercase(),
        }
    }

    /// As a person reads it (money in minor units is the caller's to format).
    pub fn shown(&self) -> String {
        match self {
            CustomValue::Bool(true) => "Yes".into(),
            CustomValue::Bool(false) => "No".into(),
            CustomValue::Number(n) => n.to_string(),
            CustomValue::Text(t) => t.clone(),
        }
    }
}

/// Custom field values by key.
pub type CustomFields = BTreeMap<String, CustomValue>;

/// What a definition says about its field, besides which record and key:
/// what its activities diff.
#[derive(Clone, Debug, PartialEq, Eq, Serialize, Deserialize, utoipa::ToSchema)]
pub struct FieldSpec {
    /// What people read on forms and pages.
    pub label: String,
    #[serde(rename = "type")]
    pub field_type: FieldType,
    /// A record cannot be created or saved without a value.
    pub required: bool,
    /// The values a choice field offers, in order; empty for other types.
    pub options: Vec<String>,
}

/// A field an org defined.
#[derive(Clone, Debug, PartialEq, Eq, Serialize, utoipa::ToSchema)]
pub struct FieldDefinition {
    pub id: CustomFieldId,
    pub entity: FieldEntity,
    /// The key values are stored and sent under (`gate_code`); fixed once made.
    pub key: String,
    #[serde(flatten)]
    pub spec: FieldSpec,
    /// Where it comes among its record's fields (from 1).
    pub position: i64,
    #[schema(value_type = String, format = DateTime)]
    pub created_at: Timestamp,
    #[schema(value_type = String, format = DateTime)]
    pub updated_at: Timestamp,
}

/// The body of "define a field".
#[derive(Clone, Debug, Default, Serialize, Deserialize, utoipa::ToSchema)]
#[serde(deny_unknown_fields)]
pub struct DefinitionInput {
    #[schema(value_type = FieldEntity, required = true)]
    pub entity: Option<FieldEntity>,
    /// 1–64 characters of `a-z`, `0-9` and `_`, starting with a letter.
    #[schema(value_type = String, required = true, min_length = 1, max_length = 64)]
    pub key: Option<String>,
    #[schema(value_type = String, required = true, min_length = 1, max_length = 100)]
    pub label: Option<String>,
    #[serde(rename = "type")]
    #[schema(value_type = FieldType, required = true)]
    pub field_type: Option<FieldType>,
    pub required: Option<bool>,
    /// For a choice field: 1–50 options, each 1–100 characters, distinct
    /// ignoring case.
    pub options: Option<Vec<String>>,
}

/// A checked new definition.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct NewDefinition {
    pub entity: FieldEntity,
    pub key: String,
    pub spec: FieldSpec,
}

impl DefinitionInput {
    pub fn parse(self) -> Result<NewDefinition, ValidationErrors> {
        let mut errors = ValidationErrors::default();
        if self.entity.is_none() {
            errors.push("entity", "required", "is required: customer, site or job");
        }
        let key = errors.take(parse_key(self.key));
        if self.field_type.is_none() {
            errors.push("type", "required", "is required: text, number, money, date, yes_no or choice");
        }
        let spec =
            errors.take(RawSpec { label: self.label, field_type: self.field_type, required: self.required.unwrap_or(false), options: self.options }.parse());
        match (self.entity, key, spec) {
            (Some(entity), Some(key), Some(spec)) if errors.is_empty() => Ok(NewDefinition { entity, key, spec }),
            _ => Err(errors),
        }
    }
}

/// The body of "change a field": absent parts stay. Its key and record
/// kind are fixed.
#[derive(Clone, Debug, Default, Serialize, Deserialize, utoipa::ToSchema)]
#[serde(deny_unknown_fields, default)]
pub struct DefinitionPatch {
    pub label: Option<String>,
    /// Refused (`custom_field_in_use`) while any record holds a value.
    #[serde(rename = "type")]
    pub field_type: Option<FieldType>,
    pub required: Option<bool>,
    pub options: Option<Vec<String>>,
}

impl DefinitionPatch {
    /// The spec after this patch, checked as a whole.
    pub fn apply(self, current: &FieldSpec) -> Result<FieldSpec, ValidationErrors> {
        let field_type = self.field_type.unwrap_or(current.field_type);
        // Options stay only while the field stays a choice.
        let options = match (self.options, field_type) {
            (Some(options), _) => Some(options),
            (None, FieldType::Choice) => Some(current.options.clone()),
            (None, _) => None,
        };
        RawSpec {
            label: Some(self.label.unwrap_or_else(|| current.label.clone())),
            field_type: Some(field_type),
            required: self.required.unwrap_or(current.required),
            options,
        }
        .parse()
    }
}

/// The body of "put the fields in order".
#[derive(Clone, Debug, Serialize, Deserialize, utoipa::ToSchema)]
#[serde(deny_unknown_fields)]
pub struct OrderInput {
    pub entity: FieldEntity,
    /// Every key of the record kind's fields, in the new order.
    pub keys: Vec<String>,
}

fn parse_key(key: Option<String>) -> Result<String, ValidationErrors> {
    let key = text::required("key", key, MAX_CUSTOM_FIELD_KEY_CHARS)?;
    let valid = key.starts_with(|c: char| c.is_ascii_lowercase()) && key.bytes().all(|b| b.is_ascii_lowercase() || b.is_ascii_digit() || b == b'_');
    if valid {
        Ok(key)
    } else {
        Err(ValidationErrors::one("key", "invalid_key", format!("must be 1-{MAX_CUSTOM_FIELD_KEY_CHARS} characters of a-z, 0-9 and _, starting with a letter")))
    }
}

struct RawSpec {
    label: Option<String>,
    field_type: Option<FieldType>,
    required: bool,
    options: Option<Vec<String>>,
}

impl RawSpec {
    fn parse(self) -> Result<FieldSpec, ValidationErrors> {
        let mut errors = ValidationErrors::default();
        let label = errors.take(text::required("label", self.label, MAX_FIELD_LABEL_CHARS));
        let options = match (self.field_type, self.options) {
            (Some(FieldType::Choice), Some(options)) => errors.take(parse_options(options)),
            (Some(FieldType::Choice), None) => {
                errors.push("options", "required", "a choice field needs its options");
                None
            }
            (_, Some(options)) if !options.is_empty() => {
                errors.push("options", "not_a_choice", "only a choice field has options");
                None
            }
            _ => Some(Vec::new()),
        };
        match (label, self.field_type, options) {
            (Some(label), Some(field_type), Some(options)) if errors.is_empty() => Ok(FieldSpec { label, field_type, required: self.required, options }),
            _ => Err(errors),
        }
    }
}

fn parse_options(options: Vec<String>) -> Result<Vec<String>, ValidationErrors> {
    check_count("options", options.len(), MAX_CHOICE_OPTIONS, "options")?;
    let mut errors = ValidationErrors::default();
    let mut parsed: Vec<String> = Vec::with_capacity(options.len());
    for (i, option) in options.into_iter().enumerate() {
        let field = format!("options[{i}]");
        if let Some(option) = errors.take(text::required(&field, Some(option), MAX_CHOICE_OPTION_CHARS)) {
            if parsed.iter().any(|o| o.to_lowercase() == option.to_lowercase()) {
                errors.push(field, "duplicate_option", format!("'{option}' is already an option"));
            } else {
                parsed.push(option);
            }
        }
    }
    if parsed.is_empty() && errors.is_empty() {
        errors.push("options", "required", "a choice field needs at least one option");
    }
    errors.into_result(|| parsed)
}

impl FieldDefinition {
    /// `value` checked against this field's type, for `field`.
    pub fn parse_value(&self, field: &str, value: Value) -> Result<CustomValue, ValidationErrors> {
        let wrong = |what: &str| ValidationErrors::one(field, "invalid_custom_value", format!("must be {what}"));
        match (self.spec.field_type, value) {
            (FieldType::Text, Value::String(s)) => Ok(CustomValue::Text(text::required(field, Some(s), MAX_CUSTOM_FIELD_TEXT_CHARS)?)),
            (FieldType::Text, _) => Err(wrong("text")),
            (FieldType::Number, Value::Number(n)) if n.as_f64().is_some_and(|v| v.is_finite() && v.abs() <= MAX_NUMBER) => Ok(CustomValue::Number(n)),
            (FieldType::Number, _) => Err(wrong("a number from -1e15 to 1e15")),
            (FieldType::Money, Value::Number(n)) => match n.as_i64() {
                Some(minor) => Money::bounded(field, minor).map(|m| CustomValue::Number(m.minor().into())),
                None => Err(wrong("an amount in minor units (a whole number, e.g. 1250 for 12.50)")),
            },
            (FieldType::Money, _) => Err(wrong("an amount in minor units (a whole number, e.g. 1250 for 12.50)")),
            (FieldType::Date, Value::String(s)) => match s.trim().parse::<Date>() {
                Ok(day) => Ok(CustomValue::Text(dates::check(field, day)?.to_string())),
                Err(_) => Err(wrong("a date, YYYY-MM-DD")),
            },
            (FieldType::Date, _) => Err(wrong("a date, YYYY-MM-DD")),
            (FieldType::YesNo, Value::Bool(b)) => Ok(CustomValue::Bool(b)),
            (FieldType::YesNo, _) => Err(wrong("true or false")),
            (FieldType::Choice, Value::String(s)) => match self.spec.options.iter().find(|o| o.as_str() == s.trim()) {
                Some(option) => Ok(CustomValue::Text(option.clone())),
                None => Err(ValidationErrors::one(field, "not_an_option", format!("must be one of: {}", self.spec.options.join(", ")))),
            },
            (FieldType::Choice, _) => Err(wrong("one of the field's options")),
        }
    }
}

/// The fields of one kind of record, in their order: what its values are
/// checked against.
#[derive(Clone, Debug, Default, PartialEq, Eq)]
pub struct Definitions(pub Vec<FieldDefinition>);

impl Definitions {
    pub fn get(&self, key: &str) -> Option<&FieldDefinition> {
        self.0.iter().find(|d| d.key == key)
    }

    pub fn iter(&self) -> impl Iterator<Item = &FieldDefinition> {
        self.0.iter()
    }

    /// The same fields, none of them required: for someone who is never
    /// shown them (a customer in the portal).
    pub fn none_required(mut self) -> Self {
        for definition in &mut self.0 {
            definition.spec.required = false;
        }
        self
    }

    /// Merge `changes` into `current`: `null` removes a key (any key, so a
    /// value stored before its field was defined can be cleared), anything
    /// else must be a valid value of a defined field. Then every required
    /// field must have a value: on creation and on every update.
    pub fn apply(&self, mut current: CustomFields, changes: BTreeMap<String, Value>) -> Result<CustomFields, ValidationErrors> {
        check_count("custom_fields", changes.len(), MAX_FIELD_DEFINITIONS, "custom fields")?;
        let mut errors = ValidationErrors::default();
        for (key, value) in changes {
            // A key too long to be one is not echoed back as a field name.
            let field = if key.len() <= MAX_CUSTOM_FIELD_KEY_CHARS { format!("custom_fields.{key}") } else { "custom_fields".to_owned() };
            if value.is_null() {
                current.remove(&key);
                continue;
            }
            match self.get(&key) {
                Some(definition) => {
                    if let Some(value) = errors.take(definition.parse_value(&field, value)) {
                        current.insert(key, value);
                    }
                }
                None => errors.push(field, "unknown_custom_field", "is not a custom field of this kind of record; an admin defines fields first"),
            }
        }
        for definition in self.0.iter().filter(|d| d.spec.required && !current.contains_key(&d.key)) {
            if !errors.0.iter().any(|e| e.field == format!("custom_fields.{}", definition.key)) {
                errors.push(format!("custom_fields.{}", definition.key), "required", format!("{} is required", definition.spec.label));
            }
        }
        errors.into_result(|| current)
    }

    /// What the directory can filter this record kind by: `(key, value)`
    /// pairs checked against their fields. Keys are given without `cf.`.
    pub fn filters(&self, asked: &[(String, String)]) -> Result<Vec<(String, String)>, ValidationErrors> {
        check_count("cf", asked.len(), 10, "custom field filters")?;
        let mut errors = ValidationErrors::default();
        let mut filters = Vec::new();
        for (key, value) in asked {
            let field = if key.len() <= MAX_CUSTOM_FIELD_KEY_CHARS { format!("cf.{key}") } else { "cf".to_owned() };
            let Some(definition) = self.get(key) else {
                errors.push(field, "unknown_custom_field", "is not a custom field of customers");
                continue;
            };
            if !definition.spec.field_type.filterable() {
                errors.push(field, "not_filterable", "only text, choice and yes/no fields filter the directory");
                continue;
            }
            let value = match definition.spec.field_type {
                FieldType::YesNo => match value.trim().to_lowercase().as_str() {
                    "true" | "yes" | "on" => Some(Value::Bool(true)),
                    "false" | "no" | "off" => Some(Value::Bool(false)),
                    _ => {
                        errors.push(field.clone(), "invalid_custom_value", "must be true or false");
                        None
                    }
                },
                // Any letter case finds a choice, as it finds text.
                FieldType::Choice => match definition.spec.options.iter().find(|o| o.to_lowercase() == value.trim().to_lowercase()) {
                    Some(option) => Some(Value::String(option.clone())),
                    None => Some(Value::String(value.clone())),
                },
                _ => Some(Value::String(value.clone())),
            };
            if let Some(value) = value.and_then(|v| errors.take(definition.parse_value(&field, v))) {
                filters.push((key.clone(), value.filter_text()));
            }
        }
        errors.into_result(|| filters)
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use serde_json::json;

    fn definition(key: &str, body: Value) -> FieldDefinition {
        let mut body = body;
        body["entity"] = json!("customer");
        body["key"] = json!(key);
        body["label"] = json!(key);
        let new = serde_json::from_value::<DefinitionInput>(body).unwrap().parse().unwrap();
        FieldDefinition {
            id: CustomFieldId::new(),
            entity: new.entity,
            key: new.key,
            spec: new.spec,
            position: 1,
            created_at: Timestamp::UNIX_EPOCH,
            updated_at: Timestamp::UNIX_EPOCH,
        }
    }

    fn fields() -> Definitions {
        Definitions(vec![
            definition("gate", json!({"type": "text"})),
            definition("dogs", json!({"type": "number"})),
            definition("deposit", json!({"type": "money"})),
            definition("since", json!({"type": "date"})),
            definition("vip", json!({"type": "yes_no"})),
            definition("tier", json!({"type": "choice", "options": ["Gold", "Silver"], "required": true})),
        ])
    }

    fn changes(body: Value) -> BTreeMap<String, Value> {
        serde_json::from_value(body).unwrap()
    }

    #[test]
    fn each_value_is_checked_against_its_fields_type() {
        let ok = fields()
            .apply(CustomFields::new(), changes(json!({"gate": " 1234 ", "dogs": 2.5, "deposit": 1250, "since": "2024-02-29", "vip": true, "tier": "Gold"})))
            .unwrap();
        assert_eq!(ok["gate"], CustomValue::Text("1234".into()));
        assert_eq!(ok["deposit"], CustomValue::Number(1250.into()));
        assert_eq!(ok["since"], CustomValue::Text("2024-02-29".into()));
        let err = fields()
            .apply(
                CustomFields::new(),
                changes(json!({"gate": 1, "dogs": "two", "deposit": 12.5, "since": "2024-02-30", "vip": "yes", "tier": "Bronze", "shoe": 9})),
            )
            .unwrap_err();
        let codes: Vec<_> = err.0.iter().map(|e| (e.field.as_str(), e.code)).collect();
        assert_eq!(
            codes,
            [
                ("custom_fields.deposit", "invalid_custom_value"),
                ("custom_fields.dogs", "invalid_custom_value"),
                ("custom_fields.gate", "invalid_custom_value"),
                ("custom_fields.shoe", "unknown_custom_field"),
                ("custom_fields.since", "invalid_custom_value"),
                ("custom_fields.tier", "not_an_option"),
                ("custom_fields.vip", "invalid_custom_value"),
            ]
        );
    }

    #[test]
    fn a_required_field_needs_a_value_on_creation_and_after_every_change() {
        let err = fields().apply(CustomFields::new(), changes(json!({"vip": true}))).unwrap_err();
        assert_eq!((err.0[0].field.as_str(), err.0[0].code), ("custom_fields.tier", "required"));
        let current = fields().apply(CustomFields::new(), changes(json!({"tier": "Gold"}))).unwrap();
        assert_eq!(fields().apply(current.clone(), changes(json!({"tier": null}))).unwrap_err().0[0].code, "required");
        assert!(fields().apply(current, changes(json!({"vip": false}))).is_ok());
    }

    #[test]
    fn definitions_are_bounded_and_a_choice_has_distinct_options() {
        let parse = |body: Value| serde_json::from_value::<DefinitionInput>(body).unwrap().parse().map_err(|e| (e.0[0].field.clone(), e.0[0].code));
        assert_eq!(parse(json!({"entity": "site", "key": "Bad Key", "label": "x", "type": "text"})), Err(("key".into(), "invalid_key")));
        assert_eq!(parse(json!({"entity": "site", "key": "1st", "label": "x", "type": "text"})), Err(("key".into(), "invalid_key")));
        assert_eq!(parse(json!({"entity": "job", "key": "k", "label": "x", "type": "choice"})), Err(("options".into(), "required")));
        assert_eq!(
            parse(json!({"entity": "job", "key": "k", "label": "x", "type": "choice", "options": ["Red", "red"]})),
            Err(("options[1]".into(), "duplicate_option"))
        );
        assert_eq!(parse(json!({"entity": "job", "key": "k", "label": "x", "type": "text", "options": ["a"]})), Err(("options".into(), "not_a_choice")));
        let many: Vec<String> = (0..=MAX_CHOICE_OPTIONS).map(|i| format!("o{i}")).collect();
        assert_eq!(parse(json!({"entity": "job", "key": "k", "label": "x", "type": "choice", "options": many})), Err(("options".into(), "too_many")));
        assert_eq!(parse(json!({"entity": "job", "key": "k", "label": "x".repeat(101), "type": "text"})), Err(("label".into(), "too_long")));
    }

    #[test]
    fn the_directory_filters_by_text_choice_and_yes_no_only() {
        let asked = |pairs: &[(&str, &str)]| fields().filters(&pairs.iter().map(|(k, v)| (k.to_string(), v.to_string())).collect::<Vec<_>>());
        assert_eq!(
            asked(&[("tier", "gold"), ("vip", "yes"), ("gate", "AB 12")]).unwrap(),
            [("tier".into(), "gold".into()), ("vip".into(), "true".into()), ("gate".into(), "ab 12".into())]
        );
        assert_eq!(asked(&[("dogs", "2")]).unwrap_err().0[0].code, "not_filterable");
        assert_eq!(asked(&[("tier", "Bronze")]).unwrap_err().0[0].code, "not_an_option");
        assert_eq!(asked(&[("nope", "x")]).unwrap_err().0[0].code, "unknown_custom_field");
    }
}

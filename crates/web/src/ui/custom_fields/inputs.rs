//! Custom fields on the record forms and pages: an input per field by its
//! type (a choice a select, yes/no a checkbox, a date a date input, money
//! an amount in the org's currency), read back into the API's JSON values,
//! and the values shown on a record's page.

use std::collections::BTreeMap;

use dossier_domain::ValidationErrors;
use dossier_domain::currency::MoneyStyle;
use dossier_domain::custom_fields::{CustomFields, CustomValue, FieldDefinition, FieldType};
use dossier_domain::money::Money;
use serde_json::Value;

use crate::ui::forms::{Field, Values, value};

/// The form field a field's value is typed in: named as its errors are.
fn name(definition: &FieldDefinition) -> String {
    format!("custom_fields.{}", definition.key)
}

/// An input per field, holding the record's value.
pub fn inputs(definitions: &[FieldDefinition], values: &CustomFields, currency: MoneyStyle) -> Vec<Field> {
    definitions
        .iter()
        .map(|d| {
            let current = values.get(&d.key);
            let kind = match d.spec.field_type {
                FieldType::Text | FieldType::Number | FieldType::Money => "text",
                FieldType::Date => "date",
                FieldType::YesNo => "checkbox",
                FieldType::Choice => "select",
            };
            let shown = match (d.spec.field_type, current) {
                (FieldType::Money, Some(CustomValue::Number(n))) => n.as_i64().map(|minor| Money(minor).decimal(currency)).unwrap_or_default(),
                (FieldType::YesNo, Some(CustomValue::Bool(true))) => "on".into(),
                (FieldType::YesNo, _) => String::new(),
                (_, Some(value)) => value.shown(),
                (_, None) => String::new(),
            };
            let mut field = Field::new(name(d), d.spec.label.clone(), kind).value(shown);
            if d.spec.field_type == FieldType::Choice {
                field = field.options(std::iter::once((String::new(), "—".to_owned())).chain(d.spec.options.iter().map(|o| (o.clone(), o.clone()))));
            }
            if d.spec.field_type == FieldType::Money {
                field = field.hint(format!("An amount in {}", currency.currency.code()));
            }
            if d.spec.required { field.required() } else { field }
        })
        .collect()
}

/// What the form says of each field, as the API's `custom_fields`: a blank
/// input clears its value; an unticked yes/no is `false` once it had a
/// value (a record that never had one stays without). Amounts and numbers
/// typed wrongly are errors on their input.
pub fn read(definitions: &[FieldDefinition], form: &Values, current: &CustomFields, currency: MoneyStyle) -> Result<BTreeMap<String, Value>, ValidationErrors> {
    let mut errors = ValidationErrors::default();
    let mut values = BTreeMap::new();
    for d in definitions {
        let field = name(d);
        let typed = value(form, &field);
        let json = match (d.spec.field_type, typed) {
            (FieldType::YesNo, _) if form.contains_key(&field) => Some(Value::Bool(true)),
            (FieldType::YesNo, _) if current.contains_key(&d.key) => Some(Value::Bool(false)),
            (FieldType::YesNo, _) => None,
            (_, None) => Some(Value::Null),
            (FieldType::Money, Some(text)) => errors.take(Money::parse_decimal(&field, &text, currency)).map(|m| Value::from(m.minor())),
            (FieldType::Number, Some(text)) => match whole_or_decimal(&text.replace(',', "")) {
                Some(number) => Some(Value::Number(number)),
                None => {
                    errors.push(field.clone(), "invalid_custom_value", "must be a number such as 12 or 3.5");
                    None
                }
            },
            (_, Some(text)) => Some(Value::String(text)),
        };
        if let Some(json) = json {
            values.insert(d.key.clone(), json);
        }
    }
    errors.into_result(|| values)
}

/// A typed number: a whole number stays whole (`4`, not `4.0`).
fn whole_or_decimal(text: &str) -> Option<serde_json::Number> {
    text.parse::<i64>().ok().map(serde_json::Number::from).or_else(|| text.parse::<f64>().ok().and_then(serde_json::Number::from_f64))
}

/// The record's values as read on its page: `(label, value)` in the
/// fields' order, money in the org's currency; fields without a value are
/// left out.
pub fn shown(definitions: &[FieldDefinition], values: &CustomFields, currency: MoneyStyle) -> Vec<(String, String)> {
    definitions
        .iter()
        .filter_map(|d| {
            let value = values.get(&d.key)?;
            let text = match (d.spec.field_type, value) {
                (FieldType::Money, CustomValue::Number(n)) => n.as_i64().map_or_else(|| n.to_string(), |minor| Money(minor).format(currency)),
                _ => value.shown(),
            };
            Some((d.spec.label.clone(), text))
        })
        .collect()
}

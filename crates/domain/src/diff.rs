//! Field-level diffs `{field, old, new}` between two versions of a record.

use serde::{Deserialize, Serialize};
use serde_json::Value;

/// One changed field. Nested fields are named with dots
/// (`communication.email.marketing`, `custom_fields.gate_code`).
#[derive(Clone, Debug, PartialEq, Serialize, Deserialize, utoipa::ToSchema)]
pub struct FieldChange {
    pub field: String,
    #[schema(value_type = Value)]
    pub old: Value,
    #[schema(value_type = Value)]
    pub new: Value,
}

/// The fields that differ between `old` and `new`, in field order. Objects
/// are compared member by member; arrays and scalars as a whole.
pub fn diff<T: Serialize>(old: &T, new: &T) -> Vec<FieldChange> {
    let old = serde_json::to_value(old).unwrap_or(Value::Null);
    let new = serde_json::to_value(new).unwrap_or(Value::Null);
    let mut changes = Vec::new();
    diff_values("", &old, &new, &mut changes);
    changes
}

/// Every field of `new` as a change from nothing — for a record's creation.
pub fn created<T: Serialize>(new: &T) -> Vec<FieldChange> {
    let new = serde_json::to_value(new).unwrap_or(Value::Null);
    let mut changes = Vec::new();
    diff_values("", &Value::Null, &new, &mut changes);
    changes.retain(|c| !c.new.is_null() && c.new != Value::Array(vec![]) && c.new != Value::Bool(false));
    changes
}

/// The fields where a new record differs from `defaults`, each as a change
/// from nothing: a creation records what was chosen, not every default.
pub fn created_from<T: Serialize>(defaults: &T, new: &T) -> Vec<FieldChange> {
    let mut changes = diff(defaults, new);
    for change in &mut changes {
        change.old = Value::Null;
    }
    changes
}

fn diff_values(path: &str, old: &Value, new: &Value, out: &mut Vec<FieldChange>) {
    match (old, new) {
        (Value::Object(a), Value::Object(b)) => {
            let keys: std::collections::BTreeSet<&String> = a.keys().chain(b.keys()).collect();
            for key in keys {
                let child = if path.is_empty() { key.clone() } else { format!("{path}.{key}") };
                diff_values(&child, a.get(key).unwrap_or(&Value::Null), b.get(key).unwrap_or(&Value::Null), out);
            }
        }
        (Value::Null, Value::Object(b)) => {
            for (key, value) in b {
                let child = if path.is_empty() { key.clone() } else { format!("{path}.{key}") };
                diff_values(&child, &Value::Null, value, out);
            }
        }
        (Value::Object(a), Value::Null) => {
            for (key, value) in a {
                let child = if path.is_empty() { key.clone() } else { format!("{path}.{key}") };
                diff_values(&child, value, &Value::Null, out);
            }
        }
        _ if old != new => out.push(FieldChange { field: path.to_owned(), old: old.clone(), new: new.clone() }),
        _ => {}
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use serde_json::json;

    #[test]
    fn diff_names_each_changed_field_with_old_and_new() {
        let old = json!({"name": "Ann", "town": "Leeds", "prefs": {"sms": true, "email": true}, "tags": ["a"]});
        let new = json!({"name": "Ann", "town": null, "prefs": {"sms": false, "email": true}, "tags": ["a", "b"]});
        let changes = diff(&old, &new);
        assert_eq!(
            changes,
            vec![
                FieldChange { field: "prefs.sms".into(), old: json!(true), new: json!(false) },
                FieldChange { field: "tags".into(), old: json!(["a"]), new: json!(["a", "b"]) },
                FieldChange { field: "town".into(), old: json!("Leeds"), new: json!(null) },
            ]
        );
        assert!(diff(&old, &old).is_empty());
    }

    #[test]
    fn created_lists_the_fields_that_were_given() {
        let changes = created(&json!({"name": "Ann", "town": null, "flags": {"vip": true}}));
        let fields: Vec<_> = changes.iter().map(|c| c.field.as_str()).collect();
        assert_eq!(fields, vec!["flags.vip", "name"]);
    }
}

//! Partial updates: a field can be left alone, cleared (JSON `null`) or set.

use serde::{Deserialize, Deserializer, Serialize, Serializer};

/// One field of a PATCH body. Use with `#[serde(default)]` so a missing field
/// is [`Patch::Keep`].
#[derive(Clone, Debug, Default, PartialEq)]
pub enum Patch<T> {
    #[default]
    Keep,
    Clear,
    Set(T),
}

impl<T> Patch<T> {
    /// The new value of an optional field, given its current value.
    pub fn apply(self, current: Option<T>) -> Option<T> {
        match self {
            Patch::Keep => current,
            Patch::Clear => None,
            Patch::Set(value) => Some(value),
        }
    }

    /// The value as a plain `Option` for parsing: `Keep` → current, `Clear` → `None`.
    pub fn into_option(self, current: impl FnOnce() -> Option<T>) -> Option<T> {
        match self {
            Patch::Keep => current(),
            Patch::Clear => None,
            Patch::Set(value) => Some(value),
        }
    }
}

/// Shown as its value, or `null` when left alone or cleared (OpenAPI uses
/// this for the schema's default).
impl<T: Serialize> Serialize for Patch<T> {
    fn serialize<S: Serializer>(&self, serializer: S) -> Result<S::Ok, S::Error> {
        match self {
            Patch::Set(value) => value.serialize(serializer),
            Patch::Keep | Patch::Clear => serializer.serialize_none(),
        }
    }
}

impl<'de, T: Deserialize<'de>> Deserialize<'de> for Patch<T> {
    fn deserialize<D: Deserializer<'de>>(deserializer: D) -> Result<Self, D::Error> {
        Ok(match Option::<T>::deserialize(deserializer)? {
            Some(value) => Patch::Set(value),
            None => Patch::Clear,
        })
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[derive(Deserialize)]
    struct Body {
        #[serde(default)]
        name: Patch<String>,
    }

    #[test]
    fn missing_null_and_value_are_three_different_things() {
        let keep: Body = serde_json::from_str("{}").unwrap();
        let clear: Body = serde_json::from_str(r#"{"name":null}"#).unwrap();
        let set: Body = serde_json::from_str(r#"{"name":"Ann"}"#).unwrap();
        assert_eq!(keep.name, Patch::Keep);
        assert_eq!(clear.name, Patch::Clear);
        assert_eq!(set.name, Patch::Set("Ann".into()));
    }
}

//! Free text fields: trimmed, length-limited, never made of control characters.

use crate::error::ValidationErrors;

/// Trim `value`; an empty result is `None`. Longer than `max` characters or
/// holding control characters (other than newlines in multi-line text) is an error.
pub fn optional(field: &str, value: Option<String>, max: usize) -> Result<Option<String>, ValidationErrors> {
    let Some(value) = value else { return Ok(None) };
    let trimmed = value.trim();
    if trimmed.is_empty() {
        return Ok(None);
    }
    if trimmed.chars().count() > max {
        return Err(ValidationErrors::one(field, "too_long", format!("must be at most {max} characters")));
    }
    if trimmed.chars().any(|c| c.is_control() && c != '\n' && c != '\r' && c != '\t') {
        return Err(ValidationErrors::one(field, "invalid_characters", "must not contain control characters"));
    }
    Ok(Some(trimmed.to_owned()))
}

/// Like [`optional`], but the field must be present and not blank.
pub fn required(field: &str, value: Option<String>, max: usize) -> Result<String, ValidationErrors> {
    optional(field, value, max)?.ok_or_else(|| ValidationErrors::one(field, "required", "is required"))
}

/// Lower-case ASCII-folded words of `text`, for search keys.
pub fn words(text: &str) -> impl Iterator<Item = String> + '_ {
    text.split(|c: char| !c.is_alphanumeric()).filter(|w| !w.is_empty()).map(|w| w.to_lowercase())
}

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

/// The lower-case words of `text` with accents and other scripts folded to
/// ASCII (`José Łukasz` → `jose`, `lukasz`), for search terms and queries alike.
pub fn words(text: &str) -> impl Iterator<Item = String> + '_ {
    text.split(|c: char| !c.is_alphanumeric()).filter(|w| !w.is_empty()).flat_map(|w| {
        let folded = if w.is_ascii() { w.to_owned() } else { deunicode::deunicode(w) };
        folded.split(|c: char| !c.is_ascii_alphanumeric()).filter(|p| !p.is_empty()).map(str::to_ascii_lowercase).collect::<Vec<_>>()
    })
}

#[cfg(test)]
mod tests {
    #[test]
    fn words_are_lower_cased_and_folded_to_ascii() {
        let words: Vec<String> = super::words("José  O'Brien-Łukasz Müller").collect();
        assert_eq!(words, ["jose", "o", "brien", "lukasz", "muller"]);
    }
}

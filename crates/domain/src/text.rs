//! Free text fields: the one place every piece of text a client sends is
//! checked. Text is normalised to NFC, trimmed and length-limited.
//!
//! Single-line text (names, titles, labels, references, codes, line
//! descriptions) holds no line breaks, tabs or other control characters.
//! Multi-line text (notes, descriptions, access notes, reasons) may hold
//! line breaks (`\r\n` and `\r` become `\n`) and tabs, and no other control
//! character. Neither holds characters that change how text around them is
//! shown without being visible themselves: bidirectional overrides and
//! isolates (U+202A–U+202E, U+2066–U+2069, U+200E, U+200F, U+061C),
//! zero-width characters (U+200B–U+200D, U+2060, U+FEFF), and the line and
//! paragraph separators U+2028 and U+2029.

use unicode_normalization::UnicodeNormalization;

use crate::error::ValidationErrors;

/// Whether a field may hold line breaks.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum Lines {
    Single,
    Multi,
}

/// Why a character is refused, or `None` if it is allowed in `lines` text.
pub fn refused(c: char, lines: Lines) -> Option<&'static str> {
    match c {
        '\n' | '\t' if lines == Lines::Multi => None,
        '\n' | '\r' | '\u{2028}' | '\u{2029}' => Some("must be one line (no line breaks)"),
        '\u{202A}'..='\u{202E}' | '\u{2066}'..='\u{2069}' | '\u{200E}' | '\u{200F}' | '\u{061C}' => {
            Some("must not contain characters that change the direction of text")
        }
        '\u{200B}'..='\u{200D}' | '\u{2060}' | '\u{FEFF}' => Some("must not contain invisible (zero-width) characters"),
        c if c.is_control() => Some("must not contain control characters"),
        _ => None,
    }
}

/// The checked form of `value`: NFC, line breaks unified in multi-line text,
/// trimmed; `None` when nothing is left. Longer than `max` characters or
/// holding a refused character (see [`refused`]) is an error on `field`.
pub fn clean(field: &str, value: Option<String>, max: usize, lines: Lines) -> Result<Option<String>, ValidationErrors> {
    let Some(value) = value else { return Ok(None) };
    // Refuse an absurd length before doing any work on it.
    if value.len() > max.saturating_mul(4).saturating_add(64) {
        return Err(too_long(field, max));
    }
    let value: String = match lines {
        Lines::Multi => value.replace("\r\n", "\n").replace('\r', "\n").nfc().collect(),
        Lines::Single => value.nfc().collect(),
    };
    let trimmed = value.trim();
    if trimmed.is_empty() {
        return Ok(None);
    }
    if trimmed.chars().count() > max {
        return Err(too_long(field, max));
    }
    if let Some((c, why)) = trimmed.chars().find_map(|c| refused(c, lines).map(|why| (c, why))) {
        return Err(ValidationErrors::one(field, "invalid_characters", format!("{why}; found U+{:04X}", u32::from(c))));
    }
    Ok(Some(trimmed.to_owned()))
}

fn too_long(field: &str, max: usize) -> ValidationErrors {
    ValidationErrors::one(field, "too_long", format!("must be at most {max} characters"))
}

/// Single-line text: trimmed; an empty result is `None`.
pub fn optional(field: &str, value: Option<String>, max: usize) -> Result<Option<String>, ValidationErrors> {
    clean(field, value, max, Lines::Single)
}

/// Like [`optional`], but the field must be present and not blank.
pub fn required(field: &str, value: Option<String>, max: usize) -> Result<String, ValidationErrors> {
    optional(field, value, max)?.ok_or_else(|| ValidationErrors::one(field, "required", "is required"))
}

/// Multi-line text (notes, descriptions): trimmed; an empty result is `None`.
pub fn optional_multiline(field: &str, value: Option<String>, max: usize) -> Result<Option<String>, ValidationErrors> {
    clean(field, value, max, Lines::Multi)
}

/// Like [`optional_multiline`], but the field must be present and not blank.
pub fn required_multiline(field: &str, value: Option<String>, max: usize) -> Result<String, ValidationErrors> {
    optional_multiline(field, value, max)?.ok_or_else(|| ValidationErrors::one(field, "required", "is required"))
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
    use super::*;

    #[test]
    fn words_are_lower_cased_and_folded_to_ascii() {
        let words: Vec<String> = super::words("José  O'Brien-Łukasz Müller").collect();
        assert_eq!(words, ["jose", "o", "brien", "lukasz", "muller"]);
    }

    fn code(value: &str, lines: Lines) -> Result<Option<String>, &'static str> {
        clean("f", Some(value.to_owned()), 100, lines).map_err(|e| e.0[0].code)
    }

    #[test]
    fn single_line_text_refuses_breaks_and_spoofing_characters() {
        for bad in [
            "a\nb",
            "a\rb",
            "a\tb",
            "a\u{0}b",
            "a\u{7f}b",
            "a\u{85}b",
            "a\u{2028}b",
            "evil\u{202E}txt.exe",
            "a\u{2066}b\u{2069}",
            "a\u{200B}b",
            "a\u{200D}b",
            "\u{FEFF}x\u{FEFF}y",
            "a\u{2060}b",
            "a\u{200F}b",
        ] {
            assert_eq!(code(bad, Lines::Single), Err("invalid_characters"), "{bad:?}");
        }
        assert_eq!(code("  Ann  ", Lines::Single), Ok(Some("Ann".into())));
        assert_eq!(code("   ", Lines::Single), Ok(None));
    }

    #[test]
    fn multi_line_text_keeps_line_breaks_but_not_spoofing_characters() {
        assert_eq!(code("one\r\ntwo\rthree\n\tfour", Lines::Multi), Ok(Some("one\ntwo\nthree\n\tfour".into())));
        for bad in ["a\u{202E}b", "a\u{200B}b", "a\u{0}b", "a\u{1b}[31m"] {
            assert_eq!(code(bad, Lines::Multi), Err("invalid_characters"), "{bad:?}");
        }
    }

    #[test]
    fn text_is_normalised_to_nfc_before_it_is_measured() {
        // "é" written as e + combining acute accent is one character in NFC.
        assert_eq!(code("Jose\u{301}", Lines::Single), Ok(Some("Jos\u{e9}".into())));
        assert_eq!(clean("f", Some("e\u{301}".repeat(3)), 3, Lines::Single).unwrap(), Some("\u{e9}".repeat(3)));
        assert_eq!(code(&"x".repeat(101), Lines::Single), Err("too_long"));
    }
}

//! Record codes such as `CUS-00001`: a prefix per series (the org may
//! choose its own, `INV` → `BIL`) and a gapless number per org. A record
//! keeps the code it was given: a later change of prefix names new records
//! only.

use std::fmt;
use std::str::FromStr;

/// The kinds of record that carry a human code.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Hash, PartialOrd, Ord)]
pub enum CodeKind {
    Customer,
    Inquiry,
    Quote,
    Job,
    Invoice,
    Payment,
    CreditNote,
}

impl CodeKind {
    pub const ALL: [CodeKind; 7] =
        [CodeKind::Customer, CodeKind::Inquiry, CodeKind::Quote, CodeKind::Job, CodeKind::Invoice, CodeKind::Payment, CodeKind::CreditNote];

    /// The prefix of this series' codes unless the org chose another.
    pub fn prefix(self) -> &'static str {
        match self {
            CodeKind::Customer => "CUS",
            CodeKind::Inquiry => "INQ",
            CodeKind::Quote => "EST",
            CodeKind::Job => "BOK",
            CodeKind::Invoice => "INV",
            CodeKind::Payment => "PAY",
            CodeKind::CreditNote => "CRN",
        }
    }

    /// The key of this kind's counter row.
    pub fn counter(self) -> &'static str {
        match self {
            CodeKind::Customer => "customer",
            CodeKind::Inquiry => "inquiry",
            CodeKind::Quote => "quote",
            CodeKind::Job => "job",
            CodeKind::Invoice => "invoice",
            CodeKind::Payment => "payment",
            CodeKind::CreditNote => "credit_note",
        }
    }

    /// The series a client names by its counter key (`invoice`).
    pub fn of_counter(key: &str) -> Option<CodeKind> {
        CodeKind::ALL.into_iter().find(|k| k.counter() == key)
    }
}

/// The most characters of a prefix an org may choose.
pub const MAX_PREFIX_CHARS: usize = 10;

/// A prefix an org chose for a series: 1 to [`MAX_PREFIX_CHARS`] ASCII
/// letters and digits starting with a letter, kept upper-case, so a code is
/// never mistaken for a phone number and reads the same however it is typed.
pub fn check_prefix(text: &str) -> Option<String> {
    let text = text.trim();
    let valid = (1..=MAX_PREFIX_CHARS).contains(&text.len())
        && text.bytes().all(|b| b.is_ascii_alphanumeric())
        && text.bytes().next().is_some_and(|b| b.is_ascii_alphabetic());
    valid.then(|| text.to_ascii_uppercase())
}

/// A record's code as it is stored and shown: prefix and number,
/// zero-padded to five digits.
pub fn code_text(prefix: &str, number: i64) -> String {
    format!("{prefix}-{number:05}")
}

/// A code as a person or a route names a record: any prefix and a number,
/// read case-insensitively with the padding optional (`inv-42`). Which
/// series it belongs to is decided by where it is looked up: a record
/// matches when its stored code is this one's normal form.
#[derive(Clone, Debug, PartialEq, Eq, Hash)]
pub struct CodeRef {
    /// Upper-case.
    pub prefix: String,
    pub number: i64,
}

impl CodeRef {
    pub fn parse(text: &str) -> Option<Self> {
        let (prefix, digits) = text.trim().split_once('-')?;
        let prefix = check_prefix(prefix)?;
        if digits.is_empty() || digits.len() > 18 || !digits.bytes().all(|b| b.is_ascii_digit()) {
            return None;
        }
        let number = i64::from_str(digits).ok()?;
        (number > 0).then_some(Self { prefix, number })
    }
}

impl fmt::Display for CodeRef {
    /// The normal form, as records store it.
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(&code_text(&self.prefix, self.number))
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn codes_format_with_five_digits_and_parse_back() {
        assert_eq!(code_text("CUS", 42), "CUS-00042");
        assert_eq!(CodeRef::parse("cus-42").map(|c| c.to_string()).as_deref(), Some("CUS-00042"));
        assert_eq!(CodeRef::parse(" bil2026-123456 ").map(|c| c.to_string()).as_deref(), Some("BIL2026-123456"));
        for bad in ["CUS-", "CUS-0", "CUS-1x", "-42", "0113-4960", "C-S-1", "CUS-99999999999999999999", "ÉTÉ-1"] {
            assert_eq!(CodeRef::parse(bad), None, "{bad}");
        }
    }

    #[test]
    fn prefixes_are_letters_and_digits_starting_with_a_letter() {
        assert_eq!(check_prefix(" bil "), Some("BIL".into()));
        assert_eq!(check_prefix("INV2026"), Some("INV2026".into()));
        for bad in ["", "2026", "IN-V", "ABCDEFGHIJK", "ÄB", "IN V"] {
            assert_eq!(check_prefix(bad), None, "{bad}");
        }
    }
}

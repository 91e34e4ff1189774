//! Record codes such as `CUS-00001`: a prefix per record type and a gapless
//! number per org.

use std::fmt;
use std::str::FromStr;

/// The kinds of record that carry a human code.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Hash)]
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
}

/// A record code: prefix and number, shown zero-padded to five digits.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Hash)]
pub struct Code {
    pub kind: CodeKind,
    pub number: i64,
}

impl Code {
    pub fn new(kind: CodeKind, number: i64) -> Self {
        Self { kind, number }
    }

    /// Parse `CUS-00042` (case-insensitive, padding optional) as a code of `kind`.
    pub fn parse(kind: CodeKind, text: &str) -> Option<Self> {
        let text = text.trim();
        let (prefix, digits) = text.split_once('-')?;
        if !prefix.eq_ignore_ascii_case(kind.prefix()) || digits.is_empty() || !digits.bytes().all(|b| b.is_ascii_digit()) {
            return None;
        }
        let number = i64::from_str(digits).ok()?;
        (number > 0).then_some(Self { kind, number })
    }
}

impl fmt::Display for Code {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write!(f, "{}-{:05}", self.kind.prefix(), self.number)
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn codes_format_with_five_digits_and_parse_back() {
        let code = Code::new(CodeKind::Customer, 42);
        assert_eq!(code.to_string(), "CUS-00042");
        assert_eq!(Code::parse(CodeKind::Customer, "cus-42"), Some(code));
        assert_eq!(Code::parse(CodeKind::Customer, "CUS-123456").unwrap().to_string(), "CUS-123456");
        assert_eq!(Code::parse(CodeKind::Customer, "INV-00042"), None);
        assert_eq!(Code::parse(CodeKind::Customer, "CUS-"), None);
        assert_eq!(Code::parse(CodeKind::Customer, "CUS-0"), None);
        assert_eq!(Code::parse(CodeKind::Customer, "CUS-1x"), None);
    }
}

//! Currencies (ISO 4217, with their minor units) and the way an org writes
//! numbers: what an amount in minor units means and how it is shown.

use serde::{Deserialize, Serialize};

use crate::error::ValidationErrors;

/// An ISO 4217 currency: its code and how many minor units make a major one
/// (10^`exponent`: pence 2, yen 0, fils 3).
#[derive(Clone, Copy, Debug, PartialEq, Eq, Hash)]
pub struct Currency {
    code: &'static str,
    exponent: u32,
}

/// Active ISO 4217 codes whose minor unit is not the hundredth.
const EXPONENTS: &[(&str, u32)] = &[
    ("BIF", 0),
    ("CLP", 0),
    ("DJF", 0),
    ("GNF", 0),
    ("ISK", 0),
    ("JPY", 0),
    ("KMF", 0),
    ("KRW", 0),
    ("PYG", 0),
    ("RWF", 0),
    ("UGX", 0),
    ("UYI", 0),
    ("VND", 0),
    ("VUV", 0),
    ("XAF", 0),
    ("XOF", 0),
    ("XPF", 0),
    ("BHD", 3),
    ("IQD", 3),
    ("JOD", 3),
    ("KWD", 3),
    ("LYD", 3),
    ("OMR", 3),
    ("TND", 3),
    ("CLF", 4),
    ("UYW", 4),
];

/// Every other active ISO 4217 code (minor unit: the hundredth).
const HUNDREDTHS: &str = "AED AFN ALL AMD ANG AOA ARS AUD AWG AZN BAM BBD BDT BGN BMD BND BOB BOV BRL BSD BTN BWP BYN BZD CAD CDF CHE CHF CHW \
    CNY COP COU CRC CUP CVE CZK DKK DOP DZD EGP ERN ETB EUR FJD FKP GBP GEL GHS GIP GMD GTQ GYD HKD HNL HTG HUF IDR ILS INR IRR JMD KES \
    KGS KHR KPW KYD KZT LAK LBP LKR LRD LSL MAD MDL MGA MKD MMK MNT MOP MRU MUR MVR MWK MXN MXV MYR MZN NAD NGN NIO NOK NPR NZD PAB PEN \
    PGK PHP PKR PLN QAR RON RSD RUB SAR SBD SCR SDG SEK SGD SHP SLE SOS SRD SSP STN SVC SYP SZL THB TJS TMT TOP TRY TTD TWD TZS UAH USD \
    USN UYU UZS VED VES WST XCD XCG YER ZAR ZMW ZWG";

impl Currency {
    pub const GBP: Currency = Currency { code: "GBP", exponent: 2 };

    /// The currency of an ISO 4217 code (upper case), if it is one.
    pub fn of(code: &str) -> Option<Currency> {
        if let Some(&(code, exponent)) = EXPONENTS.iter().find(|(c, _)| *c == code) {
            return Some(Currency { code, exponent });
        }
        HUNDREDTHS.split_ascii_whitespace().find(|c| *c == code).map(|code| Currency { code, exponent: 2 })
    }

    /// A code as typed (any case, spaces around), or `invalid_currency` on `field`.
    pub fn parse(field: &str, text: &str) -> Result<Currency, ValidationErrors> {
        Currency::of(&text.trim().to_ascii_uppercase())
            .ok_or_else(|| ValidationErrors::one(field, "invalid_currency", "must be an ISO 4217 currency code, e.g. GBP, EUR, USD"))
    }

    pub fn code(self) -> &'static str {
        self.code
    }

    /// Decimal places of the minor unit: 2 for GBP, 0 for JPY, 3 for BHD.
    pub fn exponent(self) -> u32 {
        self.exponent
    }

    /// What an amount is written after: a symbol, or the code and a space.
    pub fn prefix(self) -> &'static str {
        match self.code {
            "GBP" => "£",
            "EUR" => "€",
            "USD" | "AUD" | "CAD" | "NZD" | "SGD" | "HKD" | "MXN" => "$",
            "JPY" => "¥",
            "INR" => "₹",
            _ => "",
        }
    }
}

/// How digits are grouped and the fraction separated.
#[derive(Clone, Copy, Debug, Default, PartialEq, Eq, Hash, Serialize, Deserialize, utoipa::ToSchema)]
#[serde(rename_all = "snake_case")]
pub enum NumberFormat {
    /// `1,234.56` (UK, US).
    #[default]
    CommaDot,
    /// `1.234,56` (Germany, Italy, Spain).
    DotComma,
    /// `1 234,56` (France, Nordics; a narrow no-break space).
    SpaceComma,
    /// `1'234.56` (Switzerland).
    ApostropheDot,
}

impl NumberFormat {
    pub const ALL: [NumberFormat; 4] = [NumberFormat::CommaDot, NumberFormat::DotComma, NumberFormat::SpaceComma, NumberFormat::ApostropheDot];

    /// The separator between groups of thousands and before the fraction.
    pub fn separators(self) -> (char, char) {
        match self {
            NumberFormat::CommaDot => (',', '.'),
            NumberFormat::DotComma => ('.', ','),
            NumberFormat::SpaceComma => ('\u{202f}', ','),
            NumberFormat::ApostropheDot => ('\'', '.'),
        }
    }

    pub fn as_str(self) -> &'static str {
        match self {
            NumberFormat::CommaDot => "comma_dot",
            NumberFormat::DotComma => "dot_comma",
            NumberFormat::SpaceComma => "space_comma",
            NumberFormat::ApostropheDot => "apostrophe_dot",
        }
    }

    pub fn parse(text: &str) -> Option<NumberFormat> {
        NumberFormat::ALL.into_iter().find(|f| f.as_str() == text)
    }

    /// The format as an example: `1,234.56`.
    pub fn example(self) -> String {
        let (group, fraction) = self.separators();
        format!("1{group}234{fraction}56")
    }
}

/// How an org shows amounts: its currency and its number format. Amounts
/// are formatted and parsed with one of these (`&str` codes convert to one
/// with the default number format, for callers outside an org).
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub struct MoneyStyle {
    pub currency: Currency,
    pub numbers: NumberFormat,
}

impl MoneyStyle {
    pub fn new(currency: Currency, numbers: NumberFormat) -> Self {
        Self { currency, numbers }
    }
}

/// An unknown code is shown with its letters and two decimals.
impl From<&str> for MoneyStyle {
    fn from(code: &str) -> Self {
        let currency = Currency::of(code).unwrap_or(Currency { code: "XXX", exponent: 2 });
        MoneyStyle { currency, numbers: NumberFormat::default() }
    }
}

impl From<&String> for MoneyStyle {
    fn from(code: &String) -> Self {
        MoneyStyle::from(code.as_str())
    }
}

impl From<&MoneyStyle> for MoneyStyle {
    fn from(style: &MoneyStyle) -> Self {
        *style
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn minor_units_follow_iso_4217() {
        assert_eq!(Currency::of("JPY").map(Currency::exponent), Some(0));
        assert_eq!(Currency::of("BHD").map(Currency::exponent), Some(3));
        assert_eq!(Currency::of("USD").map(Currency::exponent), Some(2));
        assert_eq!(Currency::of("XYZ"), None);
        assert_eq!(Currency::parse("currency", " usd ").map(Currency::code), Ok("USD"));
        assert!(Currency::parse("currency", "dollars").is_err());
    }

    #[test]
    fn every_listed_code_is_three_capitals_and_listed_once() {
        let mut all: Vec<&str> = HUNDREDTHS.split_ascii_whitespace().chain(EXPONENTS.iter().map(|(c, _)| *c)).collect();
        assert!(all.iter().all(|c| c.len() == 3 && c.bytes().all(|b| b.is_ascii_uppercase())));
        let count = all.len();
        all.sort_unstable();
        all.dedup();
        assert_eq!(all.len(), count);
    }
}

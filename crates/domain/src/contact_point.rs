//! Email addresses and phone numbers, stored normalised.

use std::fmt;
use std::str::FromStr;

use serde::{Deserialize, Serialize};

use crate::error::ValidationErrors;

/// An ISO 3166-1 alpha-2 region used to read phone numbers written without
/// a country code (the org's default region).
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub struct Region(phonenumber::country::Id);

impl Region {
    pub fn parse(code: &str) -> Option<Self> {
        phonenumber::country::Id::from_str(&code.trim().to_ascii_uppercase()).ok().map(Self)
    }

    pub fn code(self) -> String {
        format!("{:?}", self.0)
    }
}

impl Default for Region {
    fn default() -> Self {
        Self(phonenumber::country::Id::GB)
    }
}

/// An email address, lower-cased.
#[derive(Clone, Debug, PartialEq, Eq, Serialize, Deserialize, utoipa::ToSchema)]
#[serde(transparent)]
#[schema(value_type = String, format = "email")]
pub struct Email(String);

impl Email {
    pub fn parse(field: &str, text: &str) -> Result<Self, ValidationErrors> {
        let text = crate::text::required(field, Some(text.to_owned()), 254)?;
        let text = text.as_str();
        if text.len() > 254 || !email_address::EmailAddress::is_valid(text) {
            return Err(ValidationErrors::one(field, "invalid_email", format!("'{text}' is not a valid email address")));
        }
        Ok(Self(text.to_lowercase()))
    }

    pub fn as_str(&self) -> &str {
        &self.0
    }
}

/// A phone number in E.164 form (`+447911123456`).
#[derive(Clone, Debug, PartialEq, Eq, Serialize, Deserialize, utoipa::ToSchema)]
#[serde(transparent)]
#[schema(value_type = String, example = "+447911123456")]
pub struct Phone(String);

impl Phone {
    /// Read a number as a person writes it; numbers without a country code
    /// are read in `region`.
    pub fn parse(field: &str, text: &str, region: Region) -> Result<Self, ValidationErrors> {
        let invalid =
            || ValidationErrors::one(field, "invalid_phone", format!("'{}' is not a valid phone number (default region {})", text.trim(), region.code()));
        if text.trim().is_empty() || text.len() > 40 {
            return Err(invalid());
        }
        let number = phonenumber::parse(Some(region.0), text.trim()).map_err(|_| invalid())?;
        if !phonenumber::is_valid(&number) {
            return Err(invalid());
        }
        Ok(Self(number.format().mode(phonenumber::Mode::E164).to_string()))
    }

    /// Trust a value read back from storage.
    pub fn from_stored(e164: String) -> Self {
        Self(e164)
    }

    pub fn as_str(&self) -> &str {
        &self.0
    }

    /// The digit strings this number is found by: the international digits
    /// and the national number (`447911123456`, `7911123456`). A query
    /// written with a trunk `0` is read without it (see `search::query_terms`).
    pub fn search_digits(&self) -> Vec<String> {
        let international: String = self.0.chars().filter(char::is_ascii_digit).collect();
        // Country calling codes are a prefix code of one to three digits, so
        // the first prefix that is a known code is this number's.
        let national = (1..=3.min(international.len())).find_map(|len| {
            let code: u16 = international[..len].parse().ok()?;
            phonenumber::metadata::DATABASE.by_code(&code).map(|_| international[len..].to_owned())
        });
        let mut keys = vec![international.clone()];
        keys.extend(national);
        keys
    }
}

impl Phone {
    /// As people of `region` write it: a number of that region in its
    /// national format (`020 7341 9703`), any other in international format
    /// (`+33 1 42 68 53 00`). Stored and linked (`tel:`) numbers stay E.164.
    pub fn shown_in(&self, region: Region) -> String {
        let Ok(number) = phonenumber::parse(None, &self.0) else { return self.0.clone() };
        let mode = if number.country().id() == Some(region.0) { phonenumber::Mode::National } else { phonenumber::Mode::International };
        number.format().mode(mode).to_string()
    }
}

impl fmt::Display for Phone {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(&self.0)
    }
}

impl Email {
    pub fn from_stored(text: String) -> Self {
        Self(text)
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn phones_in_any_format_become_e164() {
        let gb = Region::parse("gb").unwrap();
        for written in ["07911 123456", "+44 7911 123456", "(0)7911-123-456", "0044 7911 123456"] {
            assert_eq!(Phone::parse("phone", written, gb).unwrap().as_str(), "+447911123456", "{written}");
        }
        assert!(Phone::parse("phone", "12", gb).is_err());
        assert!(Phone::parse("phone", "call me", gb).is_err());
        let us = Region::parse("US").unwrap();
        assert_eq!(Phone::parse("phone", "(201) 555-0123", us).unwrap().as_str(), "+12015550123");
    }

    #[test]
    fn phones_are_shown_in_the_national_format_of_the_orgs_region() {
        let gb = Region::parse("GB").unwrap();
        let london = Phone::parse("phone", "+442073419703", gb).unwrap();
        assert_eq!(london.shown_in(gb), "020 7341 9703");
        assert_eq!(london.shown_in(Region::parse("US").unwrap()), "+44 20 7341 9703");
        assert_eq!(Phone::from_stored("not a number".into()).shown_in(gb), "not a number");
    }

    #[test]
    fn phone_search_digits_cover_national_and_international_forms() {
        let phone = Phone::parse("phone", "07911 123456", Region::default()).unwrap();
        assert_eq!(phone.search_digits(), vec!["447911123456", "7911123456"]);
    }

    #[test]
    fn emails_are_checked_and_lower_cased() {
        assert_eq!(Email::parse("email", " Ann@Example.COM ").unwrap().as_str(), "ann@example.com");
        assert_eq!(Email::parse("email", "not-an-email").unwrap_err().0[0].code, "invalid_email");
    }
}

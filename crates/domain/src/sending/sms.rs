//! Text messages: how many parts (segments) a text is sent in, what a
//! text, a sender and the gateway's settings may be.
//!
//! A text made only of characters of the GSM 03.38 basic set goes as
//! GSM-7: 160 septets in one segment, 153 in each segment of a longer
//! one (the rest of each is the header that joins them). The characters of
//! the extension table (`^ { } \ [ ~ ] | €`) take two septets each. A text
//! with any other character goes as UCS-2: 70 UTF-16 code units in one
//! segment, 67 in each of a longer one (an emoji outside the Basic
//! Multilingual Plane is two units). A text is at most [`MAX_SEGMENTS`]
//! segments long.

use std::fmt;

use jiff::Timestamp;
use serde::{Deserialize, Serialize};

use crate::customer::string_enum;
use crate::error::ValidationErrors;
use crate::text;

/// The most segments one text may take (providers refuse longer ones, and
/// each segment is paid for).
pub const MAX_SEGMENTS: u32 = 10;

/// The longest text, in characters, looked at before counting segments:
/// 10 segments of GSM-7 are 1,530 septets.
pub const MAX_TEXT_CHARS: usize = 1600;

string_enum!(
    /// How a text is encoded on the air: GSM-7 (the GSM 03.38 alphabet) or
    /// UCS-2 (any other character).
    Encoding { Gsm7 = "gsm7", Ucs2 = "ucs2" }
);

/// How a text is sent: its encoding, its length in that encoding's units
/// (septets for GSM-7, extension characters counting two; UTF-16 code
/// units for UCS-2) and how many segments that makes.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Serialize, utoipa::ToSchema)]
pub struct Segments {
    pub encoding: Encoding,
    /// Septets (GSM-7) or UTF-16 code units (UCS-2).
    pub characters: u32,
    pub segments: u32,
}

/// The GSM 03.38 basic character set (one septet each).
const GSM_BASIC: &str = "@£$¥èéùìòÇ\nØø\rÅåΔ_ΦΓΛΩΠΨΣΘΞÆæßÉ !\"#¤%&'()*+,-./0123456789:;<=>?¡ABCDEFGHIJKLMNOPQRSTUVWXYZÄÖÑÜ§¿abcdefghijklmnopqrstuvwxyzäöñüà";

/// The GSM 03.38 extension table reached by an escape (two septets each).
const GSM_EXTENSION: &str = "^{}\\[~]|€";

/// The septets `c` takes in GSM-7, or `None` if it is not in the alphabet.
fn septets(c: char) -> Option<u32> {
    if GSM_BASIC.contains(c) {
        Some(1)
    } else if GSM_EXTENSION.contains(c) {
        Some(2)
    } else {
        None
    }
}

impl Segments {
    /// Count `text` as a gateway sends it. An empty text is no segments.
    pub fn of(text: &str) -> Segments {
        let gsm: Option<u32> = text.chars().map(septets).sum();
        let (encoding, characters, single, multi) = match gsm {
            Some(septets) => (Encoding::Gsm7, septets, 160, 153),
            None => (Encoding::Ucs2, text.encode_utf16().count() as u32, 70, 67),
        };
        let segments = match characters {
            0 => 0,
            n if n <= single => 1,
            n => n.div_ceil(multi),
        };
        Segments { encoding, characters, segments }
    }
}

/// A text to send, checked: not blank, at most [`MAX_SEGMENTS`] segments.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct SmsText {
    pub text: String,
    pub segments: Segments,
}

impl SmsText {
    /// Check the text of `field` (line breaks allowed; trimmed): `required`
    /// if blank, `too_long` past [`MAX_SEGMENTS`] segments.
    pub fn parse(field: &str, text: Option<String>) -> Result<SmsText, ValidationErrors> {
        let text = text::required_multiline(field, text, MAX_TEXT_CHARS).map_err(|e| {
            if e.0.iter().any(|f| f.code == "too_long") {
                ValidationErrors::one(field, "too_long", format!("must fit in {MAX_SEGMENTS} SMS segments"))
            } else {
                e
            }
        })?;
        let segments = Segments::of(&text);
        if segments.segments > MAX_SEGMENTS {
            let unit = match segments.encoding {
                Encoding::Gsm7 => "GSM-7 characters (153 a segment)",
                Encoding::Ucs2 => "UCS-2 characters (67 a segment, as the text has characters outside GSM-7)",
            };
            return Err(ValidationErrors::one(
                field,
                "too_long",
                format!("is {} segments ({} {unit}); at most {MAX_SEGMENTS} segments are sent", segments.segments, segments.characters),
            ));
        }
        Ok(SmsText { text, segments })
    }
}

/// Who a text says it is from: an alphanumeric name of at most 11
/// characters (letters, digits and spaces, with at least one letter) or
/// a number in E.164 form (`+447700900123`).
#[derive(Clone, Debug, PartialEq, Eq, Serialize, Deserialize, utoipa::ToSchema)]
#[serde(transparent)]
pub struct Sender(String);

impl Sender {
    pub fn parse(field: &str, text: &str) -> Result<Sender, ValidationErrors> {
        let text = text.trim();
        let e164 = text.strip_prefix('+').is_some_and(|digits| (7..=15).contains(&digits.len()) && digits.bytes().all(|b| b.is_ascii_digit()));
        let alphanumeric =
            (1..=11).contains(&text.len()) && text.bytes().all(|b| b.is_ascii_alphanumeric() || b == b' ') && text.bytes().any(|b| b.is_ascii_alphabetic());
        if e164 || alphanumeric {
            Ok(Sender(text.to_owned()))
        } else {
            Err(ValidationErrors::one(
                field,
                "invalid_sender",
                "must be a name of at most 11 letters, digits and spaces, or a number in E.164 form (+447700900123)",
            ))
        }
    }

    pub fn from_stored(text: String) -> Sender {
        Sender(text)
    }

    pub fn as_str(&self) -> &str {
        &self.0
    }
}

/// The longest provider URL kept.
pub const MAX_PROVIDER_URL_CHARS: usize = 500;
/// The longest API key kept.
pub const MAX_API_KEY_CHARS: usize = 500;
/// The shortest and longest webhook secret kept.
pub const WEBHOOK_SECRET_CHARS: (usize, usize) = (16, 200);

/// A secret (the gateway's API key, the webhook signing secret): never
/// shown by `Debug`, never serialised.
#[derive(Clone, PartialEq, Eq)]
pub struct SecretText(String);

impl SecretText {
    pub fn from_stored(text: String) -> SecretText {
        SecretText(text)
    }

    /// The secret itself, for the one place that uses it.
    pub fn expose(&self) -> &str {
        &self.0
    }
}

impl fmt::Debug for SecretText {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str("SecretText(***)")
    }
}

/// The SMS gateway's settings as an admin reads them: the secrets only as
/// whether they are set.
#[derive(Clone, Debug, PartialEq, Eq, Serialize, utoipa::ToSchema)]
pub struct SmsSettings {
    /// Where texts are sent (`POST`, JSON): `None` until configured.
    pub provider_url: Option<String>,
    /// Who texts say they are from.
    pub sender: Option<String>,
    /// Whether an API key is set (it is never shown again).
    pub api_key_set: bool,
    /// Whether a webhook signing secret is set (it is never shown again).
    pub webhook_secret_set: bool,
    #[schema(value_type = Option<String>, format = DateTime)]
    pub updated_at: Option<Timestamp>,
}

/// A change of the SMS settings. Each field: absent keeps it, an empty
/// string clears it, anything else sets it. The secrets are write-only.
#[derive(Clone, Default, Deserialize, utoipa::ToSchema)]
#[serde(deny_unknown_fields)]
pub struct SmsSettingsInput {
    /// `https://…` (or `http://…`), at most 500 characters.
    pub provider_url: Option<String>,
    /// An alphanumeric name of at most 11 characters or an E.164 number.
    pub sender: Option<String>,
    /// Sent as `Authorization: Bearer <api_key>`; at most 500 visible ASCII characters.
    pub api_key: Option<String>,
    /// Signs the provider's webhooks (HMAC-SHA256); 16 to 200 characters.
    pub webhook_secret: Option<String>,
}

impl fmt::Debug for SmsSettingsInput {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        let secret = |s: &Option<String>| s.as_ref().map(|_| "***");
        f.debug_struct("SmsSettingsInput")
            .field("provider_url", &self.provider_url)
            .field("sender", &self.sender)
            .field("api_key", &secret(&self.api_key))
            .field("webhook_secret", &secret(&self.webhook_secret))
            .finish()
    }
}

/// What a field of a settings change does.
#[derive(Clone, Debug, PartialEq, Eq)]
pub enum Change<T> {
    Keep,
    Clear,
    Set(T),
}

impl<T> Change<T> {
    pub fn map<U>(self, f: impl FnOnce(T) -> U) -> Change<U> {
        match self {
            Change::Keep => Change::Keep,
            Change::Clear => Change::Clear,
            Change::Set(value) => Change::Set(f(value)),
        }
    }
}

string_enum!(
    /// What a provider's delivery receipt says of a text.
    ReceiptStatus { Delivered = "delivered", Failed = "failed", Undelivered = "undelivered" }
);

/// A checked change of the SMS settings.
#[derive(Clone, Debug)]
pub struct SmsSettingsChange {
    pub provider_url: Change<String>,
    pub sender: Change<Sender>,
    pub api_key: Change<SecretText>,
    pub webhook_secret: Change<SecretText>,
}

fn change<T>(value: Option<String>, parse: impl FnOnce(String) -> Result<T, ValidationErrors>) -> Result<Change<T>, ValidationErrors> {
    match value {
        None => Ok(Change::Keep),
        Some(text) if text.trim().is_empty() => Ok(Change::Clear),
        Some(text) => parse(text).map(Change::Set),
    }
}

impl SmsSettingsInput {
    pub fn check(self) -> Result<SmsSettingsChange, ValidationErrors> {
        let mut errors = ValidationErrors::default();
        let provider_url = change(self.provider_url, |url| {
            let url = url.trim().to_owned();
            let scheme = url.starts_with("https://") || url.starts_with("http://");
            let host = url.split_once("://").map(|(_, rest)| rest).is_some_and(|rest| !rest.is_empty() && !rest.starts_with('/'));
            if url.chars().count() > MAX_PROVIDER_URL_CHARS {
                Err(ValidationErrors::one("provider_url", "too_long", format!("must be at most {MAX_PROVIDER_URL_CHARS} characters")))
            } else if !scheme || !host || url.chars().any(|c| c.is_whitespace() || c.is_control()) {
                Err(ValidationErrors::one("provider_url", "invalid_url", "must be an http:// or https:// address"))
            } else {
                Ok(url)
            }
        });
        let sender = change(self.sender, |s| Sender::parse("sender", &s));
        let api_key = change(self.api_key, |key| {
            let key = key.trim().to_owned();
            if key.len() > MAX_API_KEY_CHARS || !key.bytes().all(|b| b.is_ascii_graphic()) {
                Err(ValidationErrors::one("api_key", "invalid_api_key", format!("must be at most {MAX_API_KEY_CHARS} visible ASCII characters")))
            } else {
                Ok(SecretText(key))
            }
        });
        let webhook_secret = change(self.webhook_secret, |secret| {
            let secret = secret.trim().to_owned();
            let (min, max) = WEBHOOK_SECRET_CHARS;
            if !(min..=max).contains(&secret.len()) || !secret.bytes().all(|b| b.is_ascii_graphic()) {
                Err(ValidationErrors::one("webhook_secret", "invalid_secret", format!("must be {min} to {max} visible ASCII characters")))
            } else {
                Ok(SecretText(secret))
            }
        });
        let (provider_url, sender, api_key, webhook_secret) =
            (errors.take(provider_url), errors.take(sender), errors.take(api_key), errors.take(webhook_secret));
        match (provider_url, sender, api_key, webhook_secret) {
            (Some(provider_url), Some(sender), Some(api_key), Some(webhook_secret)) if errors.is_empty() => {
                Ok(SmsSettingsChange { provider_url, sender, api_key, webhook_secret })
            }
            _ => Err(errors),
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn a_gsm_text_is_one_segment_up_to_160_septets_then_153_a_segment() {
        let of = |n: usize| Segments::of(&"a".repeat(n));
        assert_eq!(of(160), Segments { encoding: Encoding::Gsm7, characters: 160, segments: 1 });
        assert_eq!(of(161).segments, 2);
        assert_eq!(of(306).segments, 2);
        assert_eq!(of(307).segments, 3);
        assert_eq!(Segments::of("").segments, 0);
        assert_eq!(Segments::of("Ça coûte 5 £? Oui: ÆØÅ äöü ñ ß §¿¡").encoding, Encoding::Ucs2, "û is not GSM-7");
        assert_eq!(Segments::of("Ça marche: 5 £, ÆØÅ äöü ñ ß §¿¡ @_").encoding, Encoding::Gsm7);
    }

    #[test]
    fn extension_characters_such_as_the_euro_count_two_septets() {
        let euro = Segments::of("€");
        assert_eq!(euro, Segments { encoding: Encoding::Gsm7, characters: 2, segments: 1 });
        assert_eq!(Segments::of(&format!("{}€", "a".repeat(158))).segments, 1, "158 + 2 = 160");
        assert_eq!(Segments::of(&format!("{}€", "a".repeat(159))).segments, 2, "159 + 2 = 161");
        assert_eq!(Segments::of("{[~]}|^\\").characters, 16);
    }

    #[test]
    fn any_other_character_makes_the_text_ucs2_with_70_units_then_67_a_segment() {
        let of = |n: usize| Segments::of(&format!("ж{}", "a".repeat(n - 1)));
        assert_eq!(of(70), Segments { encoding: Encoding::Ucs2, characters: 70, segments: 1 });
        assert_eq!(of(71).segments, 2);
        assert_eq!(of(134).segments, 2);
        assert_eq!(of(135).segments, 3);
    }

    #[test]
    fn an_emoji_outside_the_basic_plane_is_two_utf16_units() {
        let smile = Segments::of("🙂");
        assert_eq!(smile, Segments { encoding: Encoding::Ucs2, characters: 2, segments: 1 });
        assert_eq!(Segments::of(&format!("{}🙂", "a".repeat(68))).segments, 1, "68 + 2 = 70");
        assert_eq!(Segments::of(&format!("{}🙂", "a".repeat(69))).segments, 2, "69 + 2 = 71");
    }

    #[test]
    fn a_text_of_more_than_ten_segments_is_refused() {
        assert_eq!(SmsText::parse("body", Some("a".repeat(1530))).unwrap().segments.segments, 10);
        assert_eq!(SmsText::parse("body", Some("a".repeat(1531))).unwrap_err().0[0].code, "too_long");
        assert_eq!(SmsText::parse("body", Some("ж".repeat(671))).unwrap_err().0[0].code, "too_long");
        assert_eq!(SmsText::parse("body", Some("a".repeat(5000))).unwrap_err().0[0].code, "too_long");
        assert_eq!(SmsText::parse("body", Some("  ".into())).unwrap_err().0[0].code, "required");
        assert_eq!(SmsText::parse("body", None).unwrap_err().0[0].code, "required");
    }

    #[test]
    fn a_sender_is_a_short_name_or_an_e164_number() {
        assert!(Sender::parse("sender", "Acme Plumb").is_ok());
        assert!(Sender::parse("sender", "+447700900123").is_ok());
        assert!(Sender::parse("sender", "Acme Plumbing").is_err(), "12 characters");
        assert!(Sender::parse("sender", "12345").is_err(), "no letter and not E.164");
        assert!(Sender::parse("sender", "Acme!").is_err());
    }

    #[test]
    fn secrets_never_show_in_debug_output() {
        let input = SmsSettingsInput { api_key: Some("key-123456".into()), webhook_secret: Some("whsec-abcdefghijklmnop".into()), ..Default::default() };
        let shown = format!("{input:?}");
        assert!(!shown.contains("key-123456") && !shown.contains("whsec-abcdefghijklmnop"), "{shown}");
        let change = input.check().unwrap();
        let shown = format!("{change:?}");
        assert!(!shown.contains("key-123456") && !shown.contains("whsec-abcdefghijklmnop"), "{shown}");
    }

    #[test]
    fn settings_fields_left_out_are_kept_and_empty_ones_cleared() {
        let change = SmsSettingsInput { provider_url: Some(String::new()), sender: Some("Acme".into()), ..Default::default() }.check().unwrap();
        assert_eq!(change.provider_url, Change::Clear);
        assert_eq!(change.sender, Change::Set(Sender("Acme".into())));
        assert_eq!(change.api_key, Change::Keep);
        let bad = SmsSettingsInput { provider_url: Some("ftp://x".into()), webhook_secret: Some("short".into()), ..Default::default() }.check().unwrap_err();
        let codes: Vec<&str> = bad.0.iter().map(|e| e.code).collect();
        assert_eq!(codes, ["invalid_url", "invalid_secret"]);
    }
}

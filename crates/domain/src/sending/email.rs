//! Outbound email: the org's mail server settings, and what staff give to
//! compose an email to a customer (recipients among the customer's own
//! addresses, subject, body, attachments, purpose), checked.
//!
//! The server password is a secret: it is written, never read back. Every
//! type that holds it prints it as `[redacted]` (their `Debug` is written
//! by hand), and what is shown of the settings says only whether one is set.

use serde::{Deserialize, Serialize};

use crate::consent::Purpose;
use crate::contact_point::Email;
use crate::customer::string_enum;
use crate::error::ValidationErrors;
use crate::message::{RecordType, record_reference};
use crate::text;

string_enum!(
    /// How the connection to the mail server is secured: `none` (plain
    /// text, for a relay on the same machine or network), `starttls`
    /// (plain, then upgraded; usually port 587) or `tls` (TLS from the
    /// start; usually port 465).
    TlsMode { None = "none", Starttls = "starttls", Tls = "tls" }
);

/// The longest mail server host name.
pub const MAX_HOST_CHARS: usize = 253;
/// The longest sender name, user name or password kept.
pub const MAX_SENDER_NAME_CHARS: usize = 100;
pub const MAX_USERNAME_CHARS: usize = 254;
pub const MAX_PASSWORD_CHARS: usize = 500;
/// At most this many `to` and this many `cc` addresses.
pub const MAX_RECIPIENTS: usize = 10;
/// At most this many attachments.
pub const MAX_ATTACHMENTS: usize = 10;
/// The longest subject and body of an email.
pub const MAX_EMAIL_SUBJECT_CHARS: usize = 200;
pub const MAX_EMAIL_BODY_CHARS: usize = 20_000;

/// A secret (a password): never printed, never serialised back.
#[derive(Clone, PartialEq, Eq)]
pub struct Secret(String);

impl Secret {
    pub fn new(text: impl Into<String>) -> Self {
        Self(text.into())
    }

    /// The secret itself, for the one place that needs it (the SMTP login).
    pub fn expose(&self) -> &str {
        &self.0
    }
}

impl std::fmt::Debug for Secret {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.write_str("[redacted]")
    }
}

/// An org's outgoing mail server, as Dossier uses it.
#[derive(Clone, PartialEq, Eq)]
pub struct MailServer {
    pub sender_name: String,
    pub sender_address: Email,
    pub host: String,
    pub port: u16,
    pub tls: TlsMode,
    pub username: Option<String>,
    pub password: Option<Secret>,
}

impl std::fmt::Debug for MailServer {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("MailServer")
            .field("sender_name", &self.sender_name)
            .field("sender_address", &self.sender_address.as_str())
            .field("host", &self.host)
            .field("port", &self.port)
            .field("tls", &self.tls)
            .field("username", &self.username)
            .field("password", &self.password.as_ref().map(|_| "[redacted]"))
            .finish()
    }
}

impl MailServer {
    /// The domain of the sender address: the right-hand side of the
    /// Message-IDs Dossier makes.
    pub fn domain(&self) -> &str {
        self.sender_address.as_str().rsplit('@').next().unwrap_or("localhost")
    }

    /// A server from a URL such as
    /// `smtp://user:pass@mail.example.com:587?tls=starttls&from=Name%20<a@b.example>`
    /// (`smtps://` means `tls=tls`; the port defaults to 25, 587 with
    /// STARTTLS, 465 with TLS). The error text never holds the password.
    pub fn from_url(url: &str) -> Result<Self, String> {
        let (scheme, rest) = url.split_once("://").ok_or("the mail server URL must start with smtp:// or smtps://")?;
        let mut tls = match scheme {
            "smtp" => TlsMode::Starttls,
            "smtps" => TlsMode::Tls,
            other => return Err(format!("unknown mail server URL scheme '{other}': use smtp:// or smtps://")),
        };
        let (authority, query) = rest.split_once('?').unwrap_or((rest, ""));
        let authority = authority.trim_end_matches('/');
        let (userinfo, hostport) = match authority.rsplit_once('@') {
            Some((u, h)) => (Some(u), h),
            None => (None, authority),
        };
        let (username, password) = match userinfo {
            Some(info) => {
                let (u, p) = info.split_once(':').unwrap_or((info, ""));
                (Some(decode(u)?), (!p.is_empty()).then(|| decode(p)).transpose()?.map(Secret))
            }
            None => (None, None),
        };
        let mut from = None;
        for pair in query.split('&').filter(|p| !p.is_empty()) {
            let (key, value) = pair.split_once('=').unwrap_or((pair, ""));
            let value = decode(value)?;
            match key {
                "tls" => tls = TlsMode::parse(&value).ok_or(format!("tls must be none, starttls or tls, not '{value}'"))?,
                "from" => from = Some(value),
                other => return Err(format!("unknown mail server URL parameter '{other}' (known: tls, from)")),
            }
        }
        let (host, port) = match hostport.rsplit_once(':') {
            Some((h, p)) => (h, Some(p.parse::<u16>().map_err(|_| format!("'{p}' is not a port"))?)),
            None => (hostport, None),
        };
        let port = port.unwrap_or(match tls {
            TlsMode::None => 25,
            TlsMode::Starttls => 587,
            TlsMode::Tls => 465,
        });
        let from = from.ok_or("the mail server URL must name the sender: ?from=Name%20<address@example.com>")?;
        let (name, address) = match from.rsplit_once('<') {
            Some((name, address)) => (name.trim().trim_matches('"').to_owned(), address.trim_end_matches('>').trim().to_owned()),
            None => (String::new(), from.trim().to_owned()),
        };
        let input = MailServerInput {
            sender_name: Some(name),
            sender_address: Some(address),
            host: Some(host.to_owned()),
            port: Some(u32::from(port)),
            tls: Some(tls),
            username,
            password: None,
        };
        let mut server = input.check(None).map_err(|e| e.to_string())?;
        server.password = password;
        Ok(server)
    }
}

fn decode(text: &str) -> Result<String, String> {
    let bytes = text.as_bytes();
    let mut out = Vec::with_capacity(bytes.len());
    let mut i = 0;
    while i < bytes.len() {
        match bytes[i] {
            b'%' if i + 2 < bytes.len() => {
                let hex = std::str::from_utf8(&bytes[i + 1..i + 3]).map_err(|_| "bad %-escape in the mail server URL")?;
                out.push(u8::from_str_radix(hex, 16).map_err(|_| "bad %-escape in the mail server URL")?);
                i += 3;
            }
            b'+' => {
                out.push(b' ');
                i += 1;
            }
            b => {
                out.push(b);
                i += 1;
            }
        }
    }
    String::from_utf8(out).map_err(|_| "the mail server URL is not UTF-8 once decoded".to_owned())
}

/// The mail server settings as shown: never the password, only whether one is set.
#[derive(Clone, Debug, PartialEq, Eq, Serialize, utoipa::ToSchema)]
pub struct MailSettings {
    /// Where they come from: `org` (this page), `configured` (the
    /// installation's `DOSSIER_SMTP_URL`, used while the org sets none)
    /// or `none` (no email can be sent).
    pub source: String,
    pub sender_name: Option<String>,
    pub sender_address: Option<String>,
    pub host: Option<String>,
    pub port: Option<u16>,
    pub tls: Option<TlsMode>,
    pub username: Option<String>,
    pub password_set: bool,
}

impl MailSettings {
    pub fn of(source: &str, server: Option<&MailServer>) -> Self {
        Self {
            source: source.to_owned(),
            sender_name: server.map(|s| s.sender_name.clone()),
            sender_address: server.map(|s| s.sender_address.as_str().to_owned()),
            host: server.map(|s| s.host.clone()),
            port: server.map(|s| s.port),
            tls: server.map(|s| s.tls),
            username: server.and_then(|s| s.username.clone()),
            password_set: server.is_some_and(|s| s.password.is_some()),
        }
    }
}

/// The body of "set the mail server". The password is write-only: left
/// out, the stored one stays; an empty string removes it.
// Not `Serialize`: nothing writes it (and its password) back out.
#[derive(Clone, Default, Deserialize, utoipa::ToSchema)]
#[serde(deny_unknown_fields)]
pub struct MailServerInput {
    #[schema(max_length = 100)]
    pub sender_name: Option<String>,
    #[schema(required = true, max_length = 254)]
    pub sender_address: Option<String>,
    #[schema(required = true, max_length = 253)]
    pub host: Option<String>,
    #[schema(required = true, minimum = 1, maximum = 65535)]
    pub port: Option<u32>,
    #[schema(required = true)]
    pub tls: Option<TlsMode>,
    #[schema(max_length = 254)]
    pub username: Option<String>,
    /// Write-only: absent keeps the stored password, `""` removes it.
    #[schema(max_length = 500, write_only)]
    pub password: Option<String>,
}

impl std::fmt::Debug for MailServerInput {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("MailServerInput")
            .field("sender_name", &self.sender_name)
            .field("sender_address", &self.sender_address)
            .field("host", &self.host)
            .field("port", &self.port)
            .field("tls", &self.tls)
            .field("username", &self.username)
            .field("password", &self.password.as_ref().map(|_| "[redacted]"))
            .finish()
    }
}

impl MailServerInput {
    /// Check the input; `stored` is the password kept now (absent keeps it).
    pub fn check(self, stored: Option<Secret>) -> Result<MailServer, ValidationErrors> {
        let mut errors = ValidationErrors::default();
        let sender_name = errors.take(text::optional("sender_name", self.sender_name, MAX_SENDER_NAME_CHARS)).flatten().unwrap_or_default();
        let sender_address = match self.sender_address {
            Some(a) => errors.take(Email::parse("sender_address", &a)),
            None => {
                errors.push("sender_address", "required", "is required: the address emails come from");
                None
            }
        };
        let host = errors.take(text::required("host", self.host, MAX_HOST_CHARS));
        if let Some(host) = &host
            && !host.chars().all(|c| c.is_ascii_alphanumeric() || matches!(c, '.' | '-' | '_' | ':' | '[' | ']'))
        {
            errors.push("host", "invalid_host", "must be a host name or IP address");
        }
        let port = match self.port {
            Some(p) if (1..=65535).contains(&p) => u16::try_from(p).ok(),
            Some(_) => {
                errors.push("port", "out_of_range", "must be between 1 and 65535");
                None
            }
            None => {
                errors.push("port", "required", "is required (587 for STARTTLS, 465 for TLS, 25 plain)");
                None
            }
        };
        if self.tls.is_none() {
            errors.push("tls", "required", "is required: none, starttls or tls");
        }
        let username = errors.take(text::optional("username", self.username, MAX_USERNAME_CHARS)).flatten();
        let password = match self.password {
            None => stored,
            Some(p) if p.is_empty() => None,
            Some(p) if p.chars().count() > MAX_PASSWORD_CHARS => {
                errors.push("password", "too_long", format!("must be at most {MAX_PASSWORD_CHARS} characters"));
                None
            }
            Some(p) => Some(Secret(p)),
        };
        match (sender_address, host, port, self.tls) {
            (Some(sender_address), Some(host), Some(port), Some(tls)) if errors.is_empty() => {
                Ok(MailServer { sender_name, sender_address, host, port, tls, username, password })
            }
            _ => Err(errors),
        }
    }
}

/// One attachment of an email: a file of the customer, or a document
/// generated when the email is sent.
#[derive(Clone, Debug, PartialEq, Eq, Serialize, Deserialize, utoipa::ToSchema)]
#[serde(untagged)]
pub enum AttachmentInput {
    /// A customer-visible file of the customer, by id.
    File { file: String },
    /// `invoice` or `quote` (with `record`, its code) or `statement`.
    Document { document: DocumentKind, record: Option<String> },
}

string_enum!(
    /// A document Dossier makes as a PDF when the email is sent.
    DocumentKind { Invoice = "invoice", Quote = "quote", Statement = "statement" }
);

/// The body of "email a customer".
#[derive(Clone, Debug, Default, Serialize, Deserialize, utoipa::ToSchema)]
#[serde(deny_unknown_fields)]
pub struct EmailInput {
    /// Addresses of the customer or of its contacts: 1 to 10.
    #[serde(default)]
    pub to: Vec<String>,
    /// Addresses of the customer or of its contacts: at most 10.
    #[serde(default)]
    pub cc: Vec<String>,
    #[schema(required = true, max_length = 200)]
    pub subject: Option<String>,
    /// Plain text.
    #[schema(required = true, max_length = 20000)]
    pub body: Option<String>,
    /// With `record`: the kind of record it concerns.
    pub record_type: Option<RecordType>,
    /// The record's id or code.
    pub record: Option<String>,
    /// Default `billing` about an invoice, payment or credit note (or with
    /// a statement attached), else `service`.
    pub purpose: Option<Purpose>,
    /// At most 10.
    #[serde(default)]
    pub attachments: Vec<AttachmentInput>,
    /// The id of the message this answers (never an internal one).
    pub in_reply_to: Option<String>,
    /// Send although the customer opted out of this purpose by email; recorded.
    #[schema(max_length = 500)]
    pub override_reason: Option<String>,
    /// Check and show the email without queueing it.
    #[serde(default)]
    pub dry_run: bool,
}

/// An email input, checked for shape (the addresses are checked against
/// the customer's in the use case).
#[derive(Clone, Debug, PartialEq)]
pub struct EmailDraft {
    pub to: Vec<Email>,
    pub cc: Vec<Email>,
    pub subject: String,
    pub body: String,
    pub record: Option<(RecordType, String)>,
    pub purpose: Option<Purpose>,
    pub attachments: Vec<AttachmentInput>,
    pub in_reply_to: Option<String>,
    pub override_reason: Option<String>,
    pub dry_run: bool,
}

/// Recipients as typed, parsed (at most [`MAX_RECIPIENTS`], repeats
/// dropped); each problem goes into `errors` under `field[i]`.
pub fn addresses(errors: &mut ValidationErrors, field: &str, list: Vec<String>) -> Vec<Email> {
    if list.len() > MAX_RECIPIENTS {
        errors.push(field, "too_many", format!("at most {MAX_RECIPIENTS} addresses"));
        return Vec::new();
    }
    let mut out: Vec<Email> = Vec::new();
    for (i, a) in list.iter().enumerate() {
        if let Some(e) = errors.take(Email::parse(&format!("{field}[{i}]"), a))
            && !out.contains(&e)
        {
            out.push(e);
        }
    }
    out
}

impl EmailInput {
    pub fn parse(self) -> Result<EmailDraft, ValidationErrors> {
        let mut errors = ValidationErrors::default();
        if self.to.is_empty() {
            errors.push("to", "required", "give at least one address of the customer or its contacts");
        }
        let to = addresses(&mut errors, "to", self.to);
        let cc: Vec<Email> = addresses(&mut errors, "cc", self.cc).into_iter().filter(|c| !to.contains(c)).collect();
        let subject = errors.take(text::required("subject", self.subject, MAX_EMAIL_SUBJECT_CHARS));
        let body = errors.take(text::required_multiline("body", self.body, MAX_EMAIL_BODY_CHARS));
        let record = record_reference(&mut errors, self.record_type, self.record);
        if self.attachments.len() > MAX_ATTACHMENTS {
            errors.push("attachments", "too_many", format!("at most {MAX_ATTACHMENTS} attachments"));
        }
        for (i, a) in self.attachments.iter().enumerate() {
            match a {
                AttachmentInput::Document { document: DocumentKind::Statement, record: Some(_) } => {
                    errors.push(format!("attachments[{i}].record"), "not_allowed", "a statement is the customer's: it names no record")
                }
                AttachmentInput::Document { document, record: None } if *document != DocumentKind::Statement => {
                    errors.push(format!("attachments[{i}].record"), "required", format!("names the {document} (its code)"))
                }
                _ => {}
            }
        }
        let override_reason = errors.take(text::optional("override_reason", self.override_reason, crate::consent::MAX_OVERRIDE_REASON_CHARS)).flatten();
        let in_reply_to = errors.take(text::optional("in_reply_to", self.in_reply_to, 64)).flatten();
        match (subject, body) {
            (Some(subject), Some(body)) if errors.is_empty() => Ok(EmailDraft {
                to,
                cc,
                subject,
                body,
                record,
                purpose: self.purpose,
                attachments: self.attachments,
                in_reply_to,
                override_reason,
                dry_run: self.dry_run,
            }),
            _ => Err(errors),
        }
    }
}

impl EmailDraft {
    /// The purpose given, else billing for money records or a statement, else service.
    pub fn purpose(&self) -> Purpose {
        if let Some(p) = self.purpose {
            return p;
        }
        let money = matches!(self.record, Some((RecordType::Invoice | RecordType::Payment | RecordType::CreditNote, _)));
        let statement = self.attachments.iter().any(|a| matches!(a, AttachmentInput::Document { document: DocumentKind::Statement, .. }));
        if money || statement { Purpose::Billing } else { Purpose::Service }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn a_server_url_gives_host_port_tls_sender_and_a_hidden_password() {
        let s = MailServer::from_url("smtp://ada:p%40ss@mail.example.com:2525?tls=none&from=Test%20Services%20<office@test.example>").unwrap();
        assert_eq!((s.host.as_str(), s.port, s.tls), ("mail.example.com", 2525, TlsMode::None));
        assert_eq!(s.sender_name, "Test Services");
        assert_eq!(s.sender_address.as_str(), "office@test.example");
        assert_eq!(s.password.as_ref().map(Secret::expose), Some("p@ss"));
        assert!(!format!("{s:?}").contains("p@ss"));
        let s = MailServer::from_url("smtps://relay.example?from=a@b.example").unwrap();
        assert_eq!((s.port, s.tls), (465, TlsMode::Tls));
        assert!(MailServer::from_url("http://x?from=a@b.example").is_err());
        assert!(MailServer::from_url("smtp://x").is_err());
    }

    #[test]
    fn a_password_is_kept_when_left_out_and_removed_when_empty() {
        let input = |password: Option<&str>| MailServerInput {
            sender_address: Some("a@b.example".into()),
            host: Some("mail.b.example".into()),
            port: Some(587),
            tls: Some(TlsMode::Starttls),
            password: password.map(str::to_owned),
            ..Default::default()
        };
        let stored = Some(Secret::new("old"));
        assert_eq!(input(None).check(stored.clone()).unwrap().password, stored);
        assert_eq!(input(Some("")).check(stored.clone()).unwrap().password, None);
        assert_eq!(input(Some("new")).check(stored).unwrap().password, Some(Secret::new("new")));
        let bad = MailServerInput { port: Some(70000), ..input(None) }.check(None).unwrap_err();
        assert!(bad.to_string().contains("port"));
    }

    #[test]
    fn an_email_needs_a_recipient_subject_and_body_within_bounds() {
        let e = EmailInput::default().parse().unwrap_err().to_string();
        assert!(e.contains("to") && e.contains("subject") && e.contains("body"));
        let many =
            EmailInput { to: (0..11).map(|i| format!("a{i}@b.example")).collect(), subject: Some("s".into()), body: Some("b".into()), ..Default::default() };
        assert!(many.parse().is_err());
        let ok = EmailInput {
            to: vec!["A@B.example".into()],
            cc: vec!["a@b.example".into()],
            subject: Some("s".into()),
            body: Some("b".into()),
            record_type: Some(RecordType::Invoice),
            record: Some("INV-00001".into()),
            ..Default::default()
        };
        let draft = ok.parse().unwrap();
        assert!(draft.cc.is_empty(), "an address in to is not copied again");
        assert_eq!(draft.purpose(), Purpose::Billing);
    }
}

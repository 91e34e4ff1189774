//! Mail that comes in: the bounds a received message is held to, what an
//! unmatched one looks like in the inbox, and how its text is made plain.

use jiff::Timestamp;
use serde::Serialize;
use uuid::Uuid;

use crate::customer::string_enum;
use crate::ids::{CustomerId, MessageId};
use crate::limits::{MAX_MESSAGE_BODY_CHARS, MAX_MESSAGE_SUBJECT_CHARS};

/// The largest raw message accepted: 25 MiB, checked before it is parsed.
pub const MAX_MAIL_BYTES: usize = 25 * 1024 * 1024;
/// Attachments one received message may carry.
pub const MAX_MAIL_ATTACHMENTS: usize = 20;
/// How deep MIME parts may nest (a multipart in a multipart…).
pub const MAX_MIME_DEPTH: usize = 10;
/// Characters of an inbox item's excerpt.
pub const EXCERPT_CHARS: usize = 500;
/// Characters of a text message's raw text an inbox item keeps.
pub const MAX_RAW_TEXT_CHARS: usize = 2000;
/// Entries in a received message's to and cc lists that are kept.
pub const MAX_KEPT_RECIPIENTS: usize = 50;

string_enum!(
    /// How an unmatched message came in.
    InboxChannel { Email = "email", Sms = "sms" }
);

string_enum!(
    /// Where an unmatched message stands: waiting, given to a customer, or put aside.
    InboxStatus { Open = "open", Assigned = "assigned", Dismissed = "dismissed" }
);

/// A received message that matched no customer, as staff see it in the inbox.
#[derive(Clone, Debug, PartialEq, Eq, Serialize, utoipa::ToSchema)]
pub struct InboxItem {
    pub id: Uuid,
    pub channel: InboxChannel,
    /// The sender's address (or number).
    pub from_address: String,
    pub from_name: Option<String>,
    pub subject: Option<String>,
    /// The start of its text.
    pub excerpt: String,
    /// Why it matched no customer.
    pub reason: String,
    #[schema(value_type = String, format = DateTime)]
    pub received_at: Timestamp,
    pub status: InboxStatus,
    /// Once assigned: the customer and the message it became.
    pub assigned_customer_id: Option<CustomerId>,
    pub assigned_message_id: Option<MessageId>,
    /// Who assigned or dismissed it, and when.
    pub decided_by: Option<String>,
    #[schema(value_type = Option<String>, format = DateTime)]
    pub decided_at: Option<Timestamp>,
}

/// A subject cut to what a message keeps.
pub fn clip_subject(subject: &str) -> Option<String> {
    let one_line: String = subject.split_whitespace().collect::<Vec<_>>().join(" ");
    let cut: String = one_line.chars().take(MAX_MESSAGE_SUBJECT_CHARS).collect();
    (!cut.is_empty()).then_some(cut)
}

/// A body cut to what a message keeps, saying so at its end when it was.
pub fn clip_body(body: &str) -> String {
    let body = body.replace("\r\n", "\n").replace('\r', "\n");
    let body = body.trim_matches(|c: char| c.is_whitespace() && c != '\u{a0}');
    const NOTE: &str = "\n\n[This message was shortened: it was longer than Dossier keeps.]";
    if body.chars().count() <= MAX_MESSAGE_BODY_CHARS {
        return body.to_owned();
    }
    let keep = MAX_MESSAGE_BODY_CHARS - NOTE.chars().count();
    let mut cut: String = body.chars().take(keep).collect();
    cut.push_str(NOTE);
    cut
}

/// An HTML body as plain text: tags dropped, block ends as line breaks,
/// scripts and styles left out, the common entities decoded.
pub fn html_to_text(html: &str) -> String {
    let mut out = String::with_capacity(html.len() / 2);
    let mut rest = html;
    while let Some(open) = rest.find('<') {
        out.push_str(&rest[..open]);
        let after = &rest[open + 1..];
        let Some(close) = after.find('>') else {
            rest = "";
            break;
        };
        let tag = after[..close].trim().to_ascii_lowercase();
        let name: String = tag.trim_start_matches('/').chars().take_while(|c| c.is_ascii_alphanumeric()).collect();
        rest = &after[close + 1..];
        if !tag.starts_with('/') && (name == "script" || name == "style" || name == "head") {
            // Skip to the matching end tag (or the end).
            let end = format!("</{name}");
            match rest.to_ascii_lowercase().find(&end) {
                Some(at) => rest = rest[at..].split_once('>').map_or("", |(_, r)| r),
                None => rest = "",
            }
            continue;
        }
        if matches!(name.as_str(), "br" | "p" | "div" | "tr" | "li" | "h1" | "h2" | "h3" | "h4" | "h5" | "h6" | "blockquote" | "table") {
            out.push('\n');
        }
    }
    out.push_str(rest);
    let decoded = decode_entities(&out);
    // Runs of blank lines and trailing spaces collapse.
    let mut text = String::with_capacity(decoded.len());
    let mut blank = 0;
    for line in decoded.lines().map(|l| l.split_whitespace().collect::<Vec<_>>().join(" ")) {
        if line.is_empty() {
            blank += 1;
            if blank > 1 {
                continue;
            }
        } else {
            blank = 0;
        }
        text.push_str(&line);
        text.push('\n');
    }
    text.trim().to_owned()
}

fn decode_entities(text: &str) -> String {
    let mut out = String::with_capacity(text.len());
    let mut rest = text;
    while let Some(amp) = rest.find('&') {
        out.push_str(&rest[..amp]);
        let after = &rest[amp..];
        let end = after.char_indices().take(12).find(|(_, c)| *c == ';').map(|(i, _)| i);
        let decoded = end.and_then(|end| {
            let entity = &after[1..end];
            let c = match entity {
                "amp" => Some('&'),
                "lt" => Some('<'),
                "gt" => Some('>'),
                "quot" => Some('"'),
                "apos" => Some('\''),
                "nbsp" => Some(' '),
                _ => entity
                    .strip_prefix("#x")
                    .or_else(|| entity.strip_prefix("#X"))
                    .and_then(|hex| u32::from_str_radix(hex, 16).ok())
                    .or_else(|| entity.strip_prefix('#').and_then(|dec| dec.parse().ok()))
                    .and_then(char::from_u32),
            };
            c.map(|c| (c, end))
        });
        match decoded {
            Some((c, end)) => {
                out.push(c);
                rest = &after[end + 1..];
            }
            None => {
                out.push('&');
                rest = &after[1..];
            }
        }
    }
    out.push_str(rest);
    out
}

/// A Message-ID without its angle brackets and surrounding space, if any is left.
pub fn bare_message_id(id: &str) -> Option<String> {
    let id = id.trim().trim_start_matches('<').trim_end_matches('>').trim();
    (!id.is_empty() && id.len() <= 998).then(|| id.to_owned())
}

/// When a message says it was written, if that is sane: not more than an
/// hour ahead of `now` (a wrong clock), else `now`.
pub fn occurred_at(date: Option<Timestamp>, now: Timestamp) -> Timestamp {
    match date {
        Some(at) if at <= now + jiff::SignedDuration::from_hours(1) && at.as_second() > 0 => at,
        _ => now,
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn html_becomes_readable_text() {
        let html = "<html><head><style>p{color:red}</style></head><body><p>Hello&nbsp;Ann,</p><p>The boiler &amp; the tank.<br>Thanks</p>\
                    <script>alert(1)</script><div>&#8364;5 &lt;ok&gt;</div></body></html>";
        assert_eq!(html_to_text(html), "Hello Ann,\n\nThe boiler & the tank.\nThanks\n\n€5 <ok>");
        assert_eq!(html_to_text("broken <b"), "broken");
        assert_eq!(html_to_text("a & b &unknown; &#xZZ;"), "a & b &unknown; &#xZZ;");
    }

    #[test]
    fn long_bodies_are_cut_and_say_so() {
        let body = "x".repeat(MAX_MESSAGE_BODY_CHARS + 10);
        let cut = clip_body(&body);
        assert_eq!(cut.chars().count(), MAX_MESSAGE_BODY_CHARS);
        assert!(cut.ends_with("it was longer than Dossier keeps.]"));
        assert_eq!(clip_body("  short\r\n"), "short");
        assert_eq!(clip_subject(&"é".repeat(300)).unwrap().chars().count(), MAX_MESSAGE_SUBJECT_CHARS);
        assert_eq!(clip_subject("  Re:\r\n  your  visit "), Some("Re: your visit".into()));
    }

    #[test]
    fn dates_ahead_of_now_are_not_believed() {
        let now: Timestamp = "2026-12-07T12:00:00Z".parse().unwrap();
        let earlier: Timestamp = "2026-12-01T08:00:00Z".parse().unwrap();
        let ahead: Timestamp = "2026-12-07T14:00:00Z".parse().unwrap();
        assert_eq!(occurred_at(Some(earlier), now), earlier);
        assert_eq!(occurred_at(Some(ahead), now), now);
        assert_eq!(occurred_at(None, now), now);
        assert_eq!(bare_message_id(" <abc@x> "), Some("abc@x".into()));
        assert_eq!(bare_message_id("<>"), None);
    }
}

//! Reading one received RFC 5322 message: its bounds checked (size before
//! parsing, MIME depth and attachments after), its headers, plain text and
//! attachments taken out, and whether it is a delivery report (a bounce)
//! about a message Dossier sent.
//!
//! Hostile mail gets a refusal or what could be read, never a panic:
//! mail-parser never panics and decodes unknown charsets lossily; the
//! depth walk here is iterative and bounded.

use dossier_domain::sending::inbound::{
    MAX_KEPT_RECIPIENTS, MAX_MAIL_ATTACHMENTS, MAX_MAIL_BYTES, MAX_MIME_DEPTH, bare_message_id, clip_body, clip_subject, html_to_text,
};
use jiff::Timestamp;
use mail_parser::{Address, HeaderValue, Message, MessageParser, MimeHeaders, PartType};

use crate::ServiceError;

/// References of a thread followed at most (a long References header).
const MAX_THREAD_IDS: usize = 50;
/// Characters of a bounce's diagnostic kept.
const MAX_DIAGNOSTIC_CHARS: usize = 1000;

/// A received message, read.
#[derive(Debug)]
pub(crate) struct ReadMail {
    /// Its own Message-ID, without `<>`.
    pub message_id: Option<String>,
    /// What it replies to: `In-Reply-To`, then `References` newest first.
    pub thread: Vec<String>,
    /// The sender's address, lower case, and name.
    pub from_address: Option<String>,
    pub from_name: Option<String>,
    pub to: Vec<String>,
    pub cc: Vec<String>,
    pub subject: Option<String>,
    /// Plain text, cut to what a message keeps.
    pub body: String,
    /// When it says it was written.
    pub date: Option<Timestamp>,
    pub attachments: Vec<Attachment>,
    /// Set when it is a delivery report about another message.
    pub bounce: Option<Bounce>,
}

/// A file that came with a mail.
#[derive(Debug)]
pub(crate) struct Attachment {
    pub name: String,
    pub content: Vec<u8>,
}

/// A delivery status notification: which messages it is about (their
/// Message-IDs, best guess first) and what the server said.
#[derive(Debug)]
pub(crate) struct Bounce {
    pub original_ids: Vec<String>,
    pub diagnostic: String,
}

/// Text as a message keeps it: without NUL and other control characters
/// (PostgreSQL refuses NUL in text), line breaks and tabs kept.
fn printable(text: &str) -> String {
    text.chars().filter(|c| !c.is_control() || *c == '\n' || *c == '\t').collect()
}

fn refused(code: &'static str, message: impl Into<String>) -> ServiceError {
    ServiceError::Refused { code, message: message.into() }
}

/// Read `raw`, refusing what is out of bounds: larger than
/// [`MAX_MAIL_BYTES`] (`too_large`), not a mail at all (`unreadable_mail`),
/// nested deeper than [`MAX_MIME_DEPTH`] (`too_nested`), with more than
/// [`MAX_MAIL_ATTACHMENTS`] attachments (`too_many_attachments`) or one
/// larger than `max_file_bytes` (`attachment_too_large`).
pub(crate) fn read(raw: &[u8], max_file_bytes: u64) -> Result<ReadMail, ServiceError> {
    if raw.len() > MAX_MAIL_BYTES {
        return Err(refused("too_large", format!("the mail is {} bytes; at most {MAX_MAIL_BYTES} (25 MiB) are accepted", raw.len())));
    }
    if raw.iter().all(u8::is_ascii_whitespace) {
        return Err(refused("unreadable_mail", "the mail is empty"));
    }
    let message = MessageParser::default().parse(raw).ok_or_else(|| refused("unreadable_mail", "this is not a mail: no header could be read"))?;
    if message.parts.is_empty() || message.parts[0].headers.is_empty() {
        return Err(refused("unreadable_mail", "this is not a mail: no header could be read"));
    }
    let depth = depth(&message);
    if depth > MAX_MIME_DEPTH {
        return Err(refused("too_nested", format!("the mail's parts nest {depth} deep; at most {MAX_MIME_DEPTH} are accepted")));
    }
    let bounce = bounce(&message);
    let mut attachments = Vec::new();
    if bounce.is_none() {
        if message.attachment_count() > MAX_MAIL_ATTACHMENTS {
            return Err(refused(
                "too_many_attachments",
                format!("the mail has {} attachments; at most {MAX_MAIL_ATTACHMENTS} are accepted", message.attachment_count()),
            ));
        }
        for (i, part) in message.attachments().enumerate() {
            let content = part.contents();
            if content.len() as u64 > max_file_bytes {
                let name = part.attachment_name().unwrap_or("an attachment");
                return Err(refused(
                    "attachment_too_large",
                    format!("{name} is {} bytes; files of at most {max_file_bytes} bytes are accepted", content.len()),
                ));
            }
            let name = part.attachment_name().map(str::to_owned).unwrap_or_else(|| default_name(part.content_type(), i + 1));
            attachments.push(Attachment { name: printable(&name), content: content.to_vec() });
        }
    }
    let (from_address, from_name) = match message.from().and_then(Address::first) {
        Some(from) => (from.address().map(|a| printable(a.trim()).to_lowercase()).filter(|a| !a.is_empty()), from.name().map(|n| printable(n.trim()))),
        None => (None, None),
    };
    let mut thread = ids(message.in_reply_to());
    let mut references = ids(message.references());
    references.reverse();
    thread.extend(references);
    thread.dedup();
    thread.truncate(MAX_THREAD_IDS);
    Ok(ReadMail {
        message_id: message.message_id().map(printable).as_deref().and_then(bare_message_id),
        thread,
        from_address,
        from_name: from_name.filter(|n| !n.is_empty()).map(|n| n.chars().take(200).collect()),
        to: addresses(message.to()),
        cc: addresses(message.cc()),
        subject: message.subject().map(printable).as_deref().and_then(clip_subject),
        body: body(&message),
        date: message.date().filter(|d| d.is_valid()).and_then(|d| Timestamp::from_second(d.to_timestamp()).ok()),
        attachments,
        bounce,
    })
}

/// How deep the parts nest: each multipart and each attached message is
/// one level. Walked with a stack of its own, stopping once past the bound.
fn depth(message: &Message<'_>) -> usize {
    let mut deepest = 0;
    let mut stack: Vec<(&Message<'_>, u32, usize)> = vec![(message, 0, 0)];
    while let Some((message, part, level)) = stack.pop() {
        deepest = deepest.max(level);
        if deepest > MAX_MIME_DEPTH {
            break;
        }
        match message.parts.get(part as usize).map(|p| &p.body) {
            Some(PartType::Multipart(children)) => {
                stack.extend(children.iter().filter(|c| **c as usize != part as usize).map(|c| (message, *c, level + 1)));
            }
            Some(PartType::Message(nested)) => stack.push((nested, 0, level + 1)),
            _ => {}
        }
    }
    deepest
}

/// Message-IDs of an `In-Reply-To` or `References` header, without `<>`.
fn ids(value: &HeaderValue<'_>) -> Vec<String> {
    match value {
        HeaderValue::Text(id) => bare_message_id(&printable(id)).into_iter().collect(),
        HeaderValue::TextList(list) => list.iter().take(MAX_THREAD_IDS * 2).filter_map(|id| bare_message_id(&printable(id))).collect(),
        _ => Vec::new(),
    }
}

fn addresses(address: Option<&Address<'_>>) -> Vec<String> {
    address
        .map(|a| {
            a.iter().filter_map(|addr| addr.address()).map(|a| printable(a.trim()).to_lowercase()).filter(|a| !a.is_empty()).take(MAX_KEPT_RECIPIENTS).collect()
        })
        .unwrap_or_default()
}

/// The text of the mail: its plain text parts, or its HTML ones made plain.
fn body(message: &Message<'_>) -> String {
    let mut text = String::new();
    for part in message.text_bodies() {
        let piece = match &part.body {
            PartType::Text(t) => t.to_string(),
            PartType::Html(h) => html_to_text(h),
            _ => continue,
        };
        if !text.is_empty() {
            text.push_str("\n\n");
        }
        text.push_str(piece.trim_end());
        if text.len() > 4 * dossier_domain::limits::MAX_MESSAGE_BODY_CHARS {
            break;
        }
    }
    clip_body(&printable(&text.replace("\r\n", "\n").replace('\r', "\n")))
}

/// A name for an attachment that came without one, from its type.
fn default_name(content_type: Option<&mail_parser::ContentType<'_>>, n: usize) -> String {
    let extension = match content_type.map(|c| (c.ctype().to_ascii_lowercase(), c.subtype().unwrap_or("").to_ascii_lowercase())) {
        Some((t, s)) if t == "image" && ["png", "jpeg", "gif", "webp"].contains(&s.as_str()) => format!(".{}", if s == "jpeg" { "jpg" } else { &s }),
        Some((t, s)) if t == "application" && s == "pdf" => ".pdf".to_owned(),
        Some((t, s)) if t == "text" && s == "plain" => ".txt".to_owned(),
        Some((t, _)) if t == "message" => ".eml".to_owned(),
        _ => String::new(),
    };
    format!("attachment-{n}{extension}")
}

/// Whether the mail is a delivery status notification, and about what:
/// a `multipart/report; report-type=delivery-status`, or mail from
/// MAILER-DAEMON or postmaster. The original's Message-ID is read from the
/// returned message (or its headers) first, then from the thread headers.
fn bounce(message: &Message<'_>) -> Option<Bounce> {
    let is_report = message.content_type().is_some_and(|c| {
        c.ctype().eq_ignore_ascii_case("multipart")
            && c.subtype().is_some_and(|s| s.eq_ignore_ascii_case("report"))
            && c.attribute("report-type").is_some_and(|t| t.eq_ignore_ascii_case("delivery-status"))
    });
    let from_daemon = message.from().and_then(Address::first).and_then(|a| a.address()).is_some_and(|a| {
        let local = a.split('@').next().unwrap_or("").to_ascii_lowercase();
        local == "mailer-daemon" || local == "postmaster"
    });
    if !is_report && !from_daemon {
        return None;
    }
    let mut original_ids = Vec::new();
    let mut diagnostic = None;
    let mut human = None;
    for part in message.parts.iter().take(200) {
        let (t, s) = part.content_type().map(|c| (c.ctype().to_ascii_lowercase(), c.subtype().unwrap_or("").to_ascii_lowercase())).unwrap_or_default();
        match (t.as_str(), s.as_str(), &part.body) {
            (_, _, PartType::Message(returned)) => original_ids.extend(returned.message_id().and_then(bare_message_id)),
            ("text", "rfc822-headers", _) | ("message", "rfc822-headers", _) => {
                if let Some(headers) = MessageParser::default().parse_headers(part.contents()) {
                    original_ids.extend(headers.message_id().map(printable).as_deref().and_then(bare_message_id));
                }
            }
            ("message", "delivery-status", _) => diagnostic = diagnostic.or_else(|| delivery_status(part.contents()).map(|d| printable(&d))),
            ("text", "plain", PartType::Text(text)) if human.is_none() => human = Some(printable(text.trim())),
            _ => {}
        }
    }
    original_ids.extend(ids(message.in_reply_to()));
    original_ids.extend(ids(message.references()));
    original_ids.dedup();
    original_ids.truncate(MAX_THREAD_IDS);
    if original_ids.is_empty() {
        return None;
    }
    let diagnostic = diagnostic.or(human).filter(|d| !d.is_empty()).unwrap_or_else(|| "the receiving mail server returned the message".to_owned());
    Some(Bounce { original_ids, diagnostic: diagnostic.chars().take(MAX_DIAGNOSTIC_CHARS).collect() })
}

/// What a `message/delivery-status` part says went wrong: its
/// `Diagnostic-Code`, else its `Status` and `Action`.
fn delivery_status(content: &[u8]) -> Option<String> {
    let text = String::from_utf8_lossy(&content[..content.len().min(64 * 1024)]);
    // Folded lines (a long Diagnostic-Code) are joined first.
    let unfolded = text.replace("\r\n", "\n").replace("\n ", " ").replace("\n\t", " ");
    let field = |name: &str| {
        unfolded.lines().find_map(|line| {
            let (key, value) = line.split_once(':')?;
            key.trim().eq_ignore_ascii_case(name).then(|| value.trim().to_owned())
        })
    };
    if let Some(code) = field("Diagnostic-Code") {
        // `smtp; 550 5.1.1 …`: the type before the semicolon says nothing to staff.
        return Some(code.split_once(';').map_or(code.as_str(), |(_, rest)| rest.trim()).to_owned());
    }
    match (field("Status"), field("Action")) {
        (Some(status), Some(action)) => Some(format!("{action} ({status})")),
        (Some(status), None) => Some(format!("status {status}")),
        _ => None,
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    const MAX: u64 = 25_000_000;

    fn mail(headers: &str, body: &str) -> Vec<u8> {
        format!("{headers}\r\n\r\n{body}").into_bytes()
    }

    #[test]
    fn a_plain_reply_is_read() {
        let raw = mail(
            "From: Ann Smith <Ann@Example.COM>\r\nTo: office@biz.example\r\nCc: Bob <bob@example.com>\r\nSubject: Re: your visit\r\n\
             Message-ID: <reply-1@example.com>\r\nIn-Reply-To: <sent-1@biz.example>\r\nReferences: <first@biz.example> <sent-1@biz.example>\r\n\
             Date: Mon, 07 Dec 2026 10:00:00 +0000",
            "Thanks, Tuesday works.\r\n",
        );
        let read = read(&raw, MAX).unwrap();
        assert_eq!(read.message_id.as_deref(), Some("reply-1@example.com"));
        assert_eq!(read.thread, vec!["sent-1@biz.example".to_owned(), "first@biz.example".to_owned()]);
        assert_eq!(read.from_address.as_deref(), Some("ann@example.com"));
        assert_eq!(read.from_name.as_deref(), Some("Ann Smith"));
        assert_eq!(read.to, vec!["office@biz.example".to_owned()]);
        assert_eq!(read.cc, vec!["bob@example.com".to_owned()]);
        assert_eq!(read.subject.as_deref(), Some("Re: your visit"));
        assert_eq!(read.body, "Thanks, Tuesday works.");
        assert_eq!(read.date.unwrap().to_string(), "2026-12-07T10:00:00Z");
        assert!(read.bounce.is_none());
    }

    #[test]
    fn html_only_mail_is_made_plain() {
        let raw = mail("From: a@example.com\r\nSubject: Hi\r\nContent-Type: text/html; charset=utf-8", "<p>Hello <b>there</b></p><p>Bye</p>");
        assert_eq!(read(&raw, MAX).unwrap().body, "Hello there\n\nBye");
    }

    #[test]
    fn out_of_bounds_mail_is_refused_with_its_reason() {
        let code = |raw: &[u8]| match read(raw, MAX) {
            Err(ServiceError::Refused { code, .. }) => code,
            other => panic!("not refused: {other:?}"),
        };
        assert_eq!(code(&vec![b'a'; MAX_MAIL_BYTES + 1]), "too_large");
        assert_eq!(code(b""), "unreadable_mail");
        let mut nested = String::from("From: a@example.com\r\nSubject: deep\r\nContent-Type: multipart/mixed; boundary=\"b0\"\r\n\r\n");
        for i in 1..50 {
            nested.push_str(&format!("--b{}\r\nContent-Type: multipart/mixed; boundary=\"b{i}\"\r\n\r\n", i - 1));
        }
        nested.push_str("--b49\r\nContent-Type: text/plain\r\n\r\ndeep inside\r\n");
        for i in (0..50).rev() {
            nested.push_str(&format!("--b{i}--\r\n"));
        }
        assert_eq!(code(nested.as_bytes()), "too_nested");
    }

    #[test]
    fn attachments_are_counted_and_each_held_to_the_file_limit() {
        let with = |n: usize, size: usize| {
            let mut raw = String::from(
                "From: a@example.com\r\nSubject: files\r\nContent-Type: multipart/mixed; boundary=\"p\"\r\n\r\n--p\r\nContent-Type: text/plain\r\n\r\nhi\r\n",
            );
            for i in 0..n {
                raw.push_str(&format!(
                    "--p\r\nContent-Type: text/plain\r\nContent-Disposition: attachment; filename=\"f{i}.txt\"\r\n\r\n{}\r\n",
                    "x".repeat(size)
                ));
            }
            raw.push_str("--p--\r\n");
            raw.into_bytes()
        };
        let read_ok = read(&with(MAX_MAIL_ATTACHMENTS, 10), MAX).unwrap();
        assert_eq!(read_ok.attachments.len(), MAX_MAIL_ATTACHMENTS);
        assert_eq!((read_ok.attachments[0].name.as_str(), read_ok.attachments[0].content.len()), ("f0.txt", 10));
        assert!(matches!(read(&with(MAX_MAIL_ATTACHMENTS + 1, 10), MAX), Err(ServiceError::Refused { code: "too_many_attachments", .. })));
        assert!(matches!(read(&with(1, 2000), 1000), Err(ServiceError::Refused { code: "attachment_too_large", .. })));
    }

    #[test]
    fn a_delivery_report_names_the_message_it_returns() {
        let raw = mail(
            "From: Mail Delivery System <MAILER-DAEMON@mx.example>\r\nTo: office@biz.example\r\nSubject: Undelivered Mail Returned to Sender\r\n\
             Content-Type: multipart/report; report-type=delivery-status; boundary=\"r\"",
            "--r\r\nContent-Type: text/plain\r\n\r\nYour message could not be delivered.\r\n\
             --r\r\nContent-Type: message/delivery-status\r\n\r\nReporting-MTA: dns; mx.example\r\n\r\nFinal-Recipient: rfc822; gone@example.com\r\n\
             Action: failed\r\nStatus: 5.1.1\r\nDiagnostic-Code: smtp; 550 5.1.1 <gone@example.com>: Recipient address rejected\r\n\
             --r\r\nContent-Type: text/rfc822-headers\r\n\r\nFrom: office@biz.example\r\nTo: gone@example.com\r\nMessage-ID: <sent-9@biz.example>\r\nSubject: Your invoice\r\n\
             --r--\r\n",
        );
        let bounce = read(&raw, MAX).unwrap().bounce.expect("a bounce");
        assert_eq!(bounce.original_ids, vec!["sent-9@biz.example".to_owned()]);
        assert_eq!(bounce.diagnostic, "550 5.1.1 <gone@example.com>: Recipient address rejected");
    }
}

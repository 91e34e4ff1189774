//! Messages: everything said to, by or about a customer — notes, logged
//! calls, emails, SMS, WhatsApp and portal messages, letters — with who it
//! was between, who may see it, and the record it concerns.
//!
//! The audience is part of the message: an `internal` one is for staff
//! only, a `customer` one shows in the customer's portal. Bodies are plain
//! text; whoever shows one escapes it and only turns line breaks and links
//! into markup.

use jiff::Timestamp;
use serde::{Deserialize, Serialize};
use uuid::Uuid;

use crate::activity::{Actor, EntityType, Visibility};
use crate::code::CodeKind;
use crate::customer::string_enum;
use crate::error::ValidationErrors;
use crate::ids::{ContactId, CustomerId, MessageId};
use crate::limits::{MAX_CALL_SECONDS, MAX_MESSAGE_BODY_CHARS, MAX_MESSAGE_SUBJECT_CHARS};
use crate::patch::Patch;
use crate::{dates, text};

string_enum!(
    /// How it was said.
    Channel { Note = "note", Call = "call", Email = "email", Sms = "sms", Whatsapp = "whatsapp", Portal = "portal", Letter = "letter" }
);

string_enum!(
    /// To the customer (outbound), from them (inbound), or among staff (internal: notes).
    Direction { Inbound = "inbound", Outbound = "outbound", Internal = "internal" }
);

string_enum!(
    /// Where a message Dossier sends stands: `held` (an automated send
    /// waiting for the customer's pause to end) → `queued` → `sent` →
    /// `delivered` or `bounced`; or `failed` with the server's answer; or
    /// `cancelled` (a held or failed one given up).
    DeliveryStatus { Held = "held", Queued = "queued", Sent = "sent", Delivered = "delivered", Bounced = "bounced", Failed = "failed", Cancelled = "cancelled" }
);

impl DeliveryStatus {
    /// The states a message in this one may move to.
    pub fn next(self) -> &'static [DeliveryStatus] {
        use DeliveryStatus::*;
        match self {
            Held => &[Queued, Cancelled],
            Queued => &[Sent, Failed, Cancelled],
            // A receipt or a bounce may come back for a sent message; a
            // bounce may follow a delivery receipt (a late rejection).
            Sent => &[Delivered, Bounced, Failed],
            Delivered => &[Bounced],
            Failed => &[Queued, Cancelled],
            Bounced | Cancelled => &[],
        }
    }

    pub fn may_become(self, next: DeliveryStatus) -> bool {
        self.next().contains(&next)
    }

    /// Waiting to go (held or queued): what an admin may still cancel.
    pub fn is_pending(self) -> bool {
        matches!(self, DeliveryStatus::Held | DeliveryStatus::Queued)
    }
}

/// Where a message Dossier sends stands, with the server's answer or the
/// reason it is held.
#[derive(Clone, Debug, PartialEq, Eq, Serialize, utoipa::ToSchema)]
pub struct Delivery {
    pub status: DeliveryStatus,
    /// The server's answer of a failure or bounce, or why it is held.
    pub detail: Option<String>,
    #[schema(value_type = String, format = DateTime)]
    pub updated_at: Timestamp,
}

/// The addresses (email) or E.164 numbers (SMS) a message went to or came from.
#[derive(Clone, Debug, Default, PartialEq, Eq, Serialize, Deserialize, utoipa::ToSchema)]
pub struct Recipients {
    #[serde(default)]
    pub to: Vec<String>,
    #[serde(default, skip_serializing_if = "Vec::is_empty")]
    pub cc: Vec<String>,
    /// Who it came from, for a received message.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub from: Option<String>,
}

string_enum!(
    /// How a call went.
    CallOutcome { Answered = "answered", NoAnswer = "no_answer", Voicemail = "voicemail", Busy = "busy", WrongNumber = "wrong_number" }
);

string_enum!(
    /// The kinds of record a message can concern besides its customer.
    RecordType {
        Inquiry = "inquiry",
        Quote = "quote",
        Job = "job",
        Invoice = "invoice",
        Payment = "payment",
        CreditNote = "credit_note",
        Site = "site",
        Contact = "contact",
    }
);

impl RecordType {
    /// The code series of works and money records; sites and contacts have none.
    pub fn code_kind(self) -> Option<CodeKind> {
        match self {
            RecordType::Inquiry => Some(CodeKind::Inquiry),
            RecordType::Quote => Some(CodeKind::Quote),
            RecordType::Job => Some(CodeKind::Job),
            RecordType::Invoice => Some(CodeKind::Invoice),
            RecordType::Payment => Some(CodeKind::Payment),
            RecordType::CreditNote => Some(CodeKind::CreditNote),
            RecordType::Site | RecordType::Contact => None,
        }
    }

    /// The kind of works or money record a code (`BOK-00012`) names, by
    /// its prefix: the org's chosen one for each series (`prefix_of`), or
    /// the series' own.
    pub fn of_code<'a>(code: &str, prefix_of: impl Fn(crate::code::CodeKind) -> &'a str) -> Option<RecordType> {
        let code = crate::code::CodeRef::parse(code)?;
        let kind_of = |t: &RecordType| t.code_kind();
        RecordType::ALL
            .iter()
            .copied()
            .find(|t| kind_of(t).is_some_and(|kind| prefix_of(kind) == code.prefix))
            .or_else(|| RecordType::ALL.iter().copied().find(|t| kind_of(t).is_some_and(|kind| kind.prefix() == code.prefix)))
    }

    pub fn entity(self) -> EntityType {
        match self {
            RecordType::Inquiry => EntityType::Inquiry,
            RecordType::Quote => EntityType::Quote,
            RecordType::Job => EntityType::Job,
            RecordType::Invoice => EntityType::Invoice,
            RecordType::Payment => EntityType::Payment,
            RecordType::CreditNote => EntityType::CreditNote,
            RecordType::Site => EntityType::Site,
            RecordType::Contact => EntityType::Contact,
        }
    }
}

impl Channel {
    /// How a timeline tile names a message of this channel.
    pub fn noun(self) -> &'static str {
        match self {
            Channel::Note => "Note",
            Channel::Call => "Call",
            Channel::Email => "Email",
            Channel::Sms => "SMS",
            Channel::Whatsapp => "WhatsApp message",
            Channel::Portal => "Portal message",
            Channel::Letter => "Letter",
        }
    }
}

/// The record a message concerns.
#[derive(Clone, Debug, PartialEq, Eq, Serialize, Deserialize, utoipa::ToSchema)]
pub struct RecordRef {
    #[serde(rename = "type")]
    pub kind: RecordType,
    pub id: Uuid,
    /// Its code (`BOK-00012`) or, for a site or contact, its name.
    pub code: Option<String>,
}

/// Who deleted a message, and when: the tile it leaves on the timeline.
#[derive(Clone, Debug, PartialEq, Eq, Serialize, utoipa::ToSchema)]
pub struct Deletion {
    pub by: String,
    #[schema(value_type = String, format = DateTime)]
    pub at: Timestamp,
}

/// A message as it is read.
#[derive(Clone, Debug, PartialEq, Eq, Serialize, utoipa::ToSchema)]
pub struct Message {
    pub id: MessageId,
    pub customer_id: CustomerId,
    pub channel: Channel,
    pub direction: Direction,
    pub visibility: Visibility,
    pub author: Actor,
    #[schema(value_type = String, format = DateTime)]
    pub occurred_at: Timestamp,
    pub subject: Option<String>,
    /// Plain text with line breaks; empty once deleted.
    pub body: String,
    pub contact_id: Option<ContactId>,
    pub record: Option<RecordRef>,
    /// A call's length in seconds.
    pub duration_seconds: Option<u32>,
    pub outcome: Option<CallOutcome>,
    /// Important: shown above the timeline on the profile and the job page.
    pub pinned: bool,
    #[schema(value_type = String, format = DateTime)]
    pub created_at: Timestamp,
    #[schema(value_type = Option<String>, format = DateTime)]
    pub edited_at: Option<Timestamp>,
    pub deleted: Option<Deletion>,
    /// For an email or SMS Dossier sends: where it stands.
    pub delivery: Option<Delivery>,
    /// For an email or SMS Dossier sent or received: to and from whom.
    pub recipients: Option<Recipients>,
    /// An email's RFC 5322 Message-ID (without `<>`), fixed when queued.
    #[serde(skip)]
    pub email_message_id: Option<String>,
    /// The SMS gateway's id of a sent text.
    #[serde(skip)]
    pub provider_ref: Option<String>,
}

/// The body of "add a message" (a note, a logged call, …).
#[derive(Clone, Debug, Default, Serialize, Deserialize, utoipa::ToSchema)]
#[serde(deny_unknown_fields)]
pub struct MessageInput {
    #[schema(required = true)]
    pub channel: Option<Channel>,
    /// Defaults to `internal` for a note and `outbound` otherwise.
    pub direction: Option<Direction>,
    /// Defaults to `internal` (staff only); `customer` shows it in the portal.
    pub visibility: Option<Visibility>,
    /// When it was said; defaults to now. At most an hour ahead.
    #[schema(value_type = Option<String>, format = DateTime)]
    pub occurred_at: Option<Timestamp>,
    #[schema(max_length = 200)]
    pub subject: Option<String>,
    #[schema(value_type = String, required = true, min_length = 1, max_length = 20000)]
    pub body: Option<String>,
    /// The contact it was with: one of the customer's.
    pub contact_id: Option<ContactId>,
    /// With `record`: the kind of record it concerns.
    pub record_type: Option<RecordType>,
    /// The record's id, or its code (`BOK-00012`) for works and money records.
    pub record: Option<String>,
    /// Calls only: how long, in seconds (at most a day).
    #[schema(maximum = 86400)]
    pub duration_seconds: Option<u32>,
    /// Calls only.
    pub outcome: Option<CallOutcome>,
    pub pinned: Option<bool>,
}

/// A message input, checked: what a use case writes.
#[derive(Clone, Debug, PartialEq)]
pub struct MessageDraft {
    pub channel: Channel,
    pub direction: Direction,
    pub visibility: Visibility,
    pub occurred_at: Option<Timestamp>,
    pub subject: Option<String>,
    pub body: String,
    pub contact_id: Option<ContactId>,
    /// The kind of record and its id or code, still to be looked up.
    pub record: Option<(RecordType, String)>,
    pub duration_seconds: Option<u32>,
    pub outcome: Option<CallOutcome>,
    pub pinned: bool,
}

fn body(value: Option<String>) -> Result<String, ValidationErrors> {
    text::required_multiline("body", value, MAX_MESSAGE_BODY_CHARS)
}

fn subject(value: Option<String>) -> Result<Option<String>, ValidationErrors> {
    text::optional("subject", value, MAX_MESSAGE_SUBJECT_CHARS)
}

/// The rules that tie channel, direction, audience and call details together.
fn check_shape(
    errors: &mut ValidationErrors,
    channel: Channel,
    direction: Direction,
    visibility: Visibility,
    contact: Option<ContactId>,
    call: (Option<u32>, Option<CallOutcome>),
) {
    match (channel, direction) {
        (Channel::Note, Direction::Internal) => {}
        (Channel::Note, _) => errors.push("direction", "invalid_direction", "a note is internal"),
        (_, Direction::Internal) => errors.push("direction", "invalid_direction", "only a note is internal; say inbound or outbound"),
        _ => {}
    }
    if channel == Channel::Portal && visibility != Visibility::Customer {
        errors.push("visibility", "invalid_visibility", "a portal message is always seen by the customer");
    }
    // A logged call is the business's own record of a conversation; it is
    // shown to the customer only when it says whom it was with.
    if channel == Channel::Call && visibility == Visibility::Customer && contact.is_none() {
        errors.push("contact_id", "contact_required", "a call shown to the customer must name the contact it was with");
    }
    if channel != Channel::Call {
        if call.0.is_some() {
            errors.push("duration_seconds", "only_for_calls", "only a call has a duration");
        }
        if call.1.is_some() {
            errors.push("outcome", "only_for_calls", "only a call has an outcome");
        }
    }
    if call.0.is_some_and(|s| s > MAX_CALL_SECONDS) {
        errors.push("duration_seconds", "out_of_range", format!("must be at most {MAX_CALL_SECONDS} seconds"));
    }
}

impl MessageInput {
    /// Check the input against the rules; `now` bounds `occurred_at`.
    pub fn parse(self, now: Timestamp) -> Result<MessageDraft, ValidationErrors> {
        let mut errors = ValidationErrors::default();
        let Some(channel) = self.channel else {
            errors.push("channel", "required", "is required: note, call, email, sms, whatsapp, portal or letter");
            errors.take(body(self.body));
            return Err(errors);
        };
        let direction = self.direction.unwrap_or(if channel == Channel::Note { Direction::Internal } else { Direction::Outbound });
        let visibility = self.visibility.unwrap_or(if channel == Channel::Portal { Visibility::Customer } else { Visibility::Internal });
        check_shape(&mut errors, channel, direction, visibility, self.contact_id, (self.duration_seconds, self.outcome));
        let occurred_at = errors.take(dates::check_optional_instant("occurred_at", self.occurred_at)).flatten();
        if occurred_at.is_some_and(|at| at > now + jiff::SignedDuration::from_hours(1)) {
            errors.push("occurred_at", "in_the_future", "must not be in the future");
        }
        let record = record_reference(&mut errors, self.record_type, self.record);
        let subject = errors.take(subject(self.subject)).flatten();
        let body = errors.take(body(self.body));
        match body {
            Some(body) if errors.is_empty() => Ok(MessageDraft {
                channel,
                direction,
                visibility,
                occurred_at,
                subject,
                body,
                contact_id: self.contact_id,
                record,
                duration_seconds: self.duration_seconds,
                outcome: self.outcome,
                pinned: self.pinned.unwrap_or(false),
            }),
            _ => Err(errors),
        }
    }
}

/// The record an input names with `record_type` and `record` (an id or a
/// code, still to be looked up): both or neither, else an error on the
/// missing one.
pub fn record_reference(errors: &mut ValidationErrors, kind: Option<RecordType>, record: Option<String>) -> Option<(RecordType, String)> {
    match (kind, record) {
        (Some(kind), Some(record)) => errors.take(text::required("record", Some(record), 64)).map(|r| (kind, r)),
        (None, None) => None,
        (Some(_), None) => {
            errors.push("record", "required", "names the record (id or code) that record_type says the kind of");
            None
        }
        (None, Some(_)) => {
            errors.push("record_type", "required", "is required with record");
            None
        }
    }
}

/// The body of "change a message": absent fields stay, `null` clears.
#[derive(Clone, Debug, Default, Serialize, Deserialize, utoipa::ToSchema)]
#[serde(deny_unknown_fields, default)]
pub struct MessagePatch {
    #[schema(value_type = Option<String>, max_length = 200)]
    pub subject: Patch<String>,
    #[schema(max_length = 20000)]
    pub body: Option<String>,
    pub visibility: Option<Visibility>,
    #[schema(value_type = Option<u32>, maximum = 86400)]
    pub duration_seconds: Patch<u32>,
    #[schema(value_type = Option<CallOutcome>)]
    pub outcome: Patch<CallOutcome>,
    pub pinned: Option<bool>,
}

/// What of a message can change: its words, audience and call details.
#[derive(Clone, Debug, PartialEq, Serialize)]
pub struct MessageContent {
    pub subject: Option<String>,
    pub body: String,
    pub visibility: Visibility,
    pub duration_seconds: Option<u32>,
    pub outcome: Option<CallOutcome>,
}

impl MessagePatch {
    /// Whether the patch changes only the pin (anyone who may write
    /// messages may pin one; only its author or an admin may edit it).
    pub fn only_pins(&self) -> bool {
        self.subject == Patch::Keep && self.body.is_none() && self.visibility.is_none() && self.duration_seconds == Patch::Keep && self.outcome == Patch::Keep
    }

    /// The message's content after this patch, checked against the same
    /// rules as a new message of its channel.
    pub fn apply(self, message: &Message) -> Result<MessageContent, ValidationErrors> {
        let mut errors = ValidationErrors::default();
        let subject = match self.subject {
            Patch::Keep => message.subject.clone(),
            Patch::Clear => None,
            Patch::Set(s) => errors.take(subject(Some(s))).flatten(),
        };
        let body = match self.body {
            None => Some(message.body.clone()),
            Some(b) => errors.take(body(Some(b))),
        };
        let visibility = self.visibility.unwrap_or(message.visibility);
        let duration_seconds = self.duration_seconds.apply(message.duration_seconds);
        let outcome = self.outcome.apply(message.outcome);
        check_shape(&mut errors, message.channel, message.direction, visibility, message.contact_id, (duration_seconds, outcome));
        match body {
            Some(body) if errors.is_empty() => Ok(MessageContent { subject, body, visibility, duration_seconds, outcome }),
            _ => Err(errors),
        }
    }
}

impl Message {
    pub fn content(&self) -> MessageContent {
        MessageContent {
            subject: self.subject.clone(),
            body: self.body.clone(),
            visibility: self.visibility,
            duration_seconds: self.duration_seconds,
            outcome: self.outcome,
        }
    }

    /// "Call with Ann Smith on BOK-00012 (answered, 12 min)": how the
    /// message is headed on a tile, given the contact's name.
    pub fn heading(&self, contact: Option<&str>) -> String {
        let mut heading = self.channel.noun().to_owned();
        let with = contact.map(|c| format!(" {} {c}", if self.direction == Direction::Inbound { "from" } else { "to" }));
        match self.channel {
            Channel::Note => {}
            Channel::Call => heading.push_str(&contact.map(|c| format!(" with {c}")).unwrap_or_default()),
            _ => heading.push_str(&with.unwrap_or_else(|| format!(" ({})", self.direction))),
        }
        if let Some(code) = self.record.as_ref().and_then(|r| r.code.as_deref()) {
            heading.push_str(&format!(" on {code}"));
        }
        let mut details = Vec::new();
        if let Some(outcome) = self.outcome {
            details.push(outcome.as_str().replace('_', " "));
        }
        if let Some(seconds) = self.duration_seconds {
            details.push(duration(seconds));
        }
        if !details.is_empty() {
            heading.push_str(&format!(" ({})", details.join(", ")));
        }
        heading
    }
}

/// "45 s", "12 min", "1 h 05 min".
pub fn duration(seconds: u32) -> String {
    match seconds {
        0..60 => format!("{seconds} s"),
        60..3600 => format!("{} min", seconds.div_ceil(60)),
        _ => format!("{} h {:02} min", seconds / 3600, (seconds % 3600) / 60),
    }
}

/// The first line of a body, cut to about `max` characters on a word: for
/// one-line summaries.
pub fn excerpt(body: &str, max: usize) -> String {
    let line = body.lines().find(|l| !l.trim().is_empty()).unwrap_or("").trim();
    if line.chars().count() <= max && body.trim() == line {
        return line.to_owned();
    }
    let cut: String = line.chars().take(max).collect();
    let cut = match cut.rfind(' ') {
        Some(space) if space > max / 2 => &cut[..space],
        _ => cut.as_str(),
    };
    format!("{}…", cut.trim_end())
}

#[cfg(test)]
mod tests {
    use super::*;

    fn now() -> Timestamp {
        "2026-12-06T12:00:00Z".parse().unwrap()
    }

    fn codes(input: MessageInput) -> Vec<(String, &'static str)> {
        input.parse(now()).map(|_| Vec::new()).unwrap_or_else(|e| e.0.into_iter().map(|f| (f.field, f.code)).collect())
    }

    fn note(body: &str) -> MessageInput {
        MessageInput { channel: Some(Channel::Note), body: Some(body.into()), ..Default::default() }
    }

    #[test]
    fn a_note_is_internal_and_a_portal_message_is_seen_by_the_customer() {
        let draft = note("Prefers mornings").parse(now()).unwrap();
        assert_eq!((draft.direction, draft.visibility), (Direction::Internal, Visibility::Internal));
        let portal = MessageInput { channel: Some(Channel::Portal), body: Some("Hello".into()), ..Default::default() }.parse(now()).unwrap();
        assert_eq!((portal.direction, portal.visibility), (Direction::Outbound, Visibility::Customer));
        let hidden = MessageInput { visibility: Some(Visibility::Internal), channel: Some(Channel::Portal), body: Some("x".into()), ..Default::default() };
        assert_eq!(codes(hidden), [("visibility".to_owned(), "invalid_visibility")]);
        assert_eq!(codes(MessageInput { direction: Some(Direction::Inbound), ..note("x") }), [("direction".to_owned(), "invalid_direction")]);
    }

    #[test]
    fn bodies_are_required_bounded_and_plain() {
        assert_eq!(codes(note("   ")), [("body".to_owned(), "required")]);
        assert_eq!(codes(note(&"x".repeat(MAX_MESSAGE_BODY_CHARS + 1))), [("body".to_owned(), "too_long")]);
        assert_eq!(codes(note(&"x".repeat(100_000))), [("body".to_owned(), "too_long")]);
        assert_eq!(codes(note("evil\u{202E}txt")), [("body".to_owned(), "invalid_characters")]);
        assert_eq!(note("line one\r\nline two").parse(now()).unwrap().body, "line one\nline two");
        assert_eq!(codes(MessageInput { channel: None, ..note("x") }), [("channel".to_owned(), "required")]);
    }

    #[test]
    fn only_calls_have_a_duration_and_outcome_and_a_call_shown_to_the_customer_names_its_contact() {
        let call = MessageInput { channel: Some(Channel::Call), body: Some("Booked".into()), duration_seconds: Some(300), ..Default::default() };
        assert!(call.clone().parse(now()).is_ok());
        assert_eq!(codes(MessageInput { duration_seconds: Some(5), ..note("x") }), [("duration_seconds".to_owned(), "only_for_calls")]);
        assert_eq!(codes(MessageInput { duration_seconds: Some(MAX_CALL_SECONDS + 1), ..call.clone() }), [("duration_seconds".to_owned(), "out_of_range")]);
        let shown = MessageInput { visibility: Some(Visibility::Customer), ..call.clone() };
        assert_eq!(codes(shown.clone()), [("contact_id".to_owned(), "contact_required")]);
        assert!(MessageInput { contact_id: Some(ContactId::new()), ..shown }.parse(now()).is_ok());
    }

    #[test]
    fn when_and_what_it_concerns_are_checked() {
        let future = MessageInput { occurred_at: Some("2026-12-07T12:00:00Z".parse().unwrap()), ..note("x") };
        assert_eq!(codes(future), [("occurred_at".to_owned(), "in_the_future")]);
        assert_eq!(codes(MessageInput { occurred_at: Some("1800-01-01T00:00:00Z".parse().unwrap()), ..note("x") })[0].1, "date_out_of_range");
        assert_eq!(codes(MessageInput { record_type: Some(RecordType::Job), ..note("x") }), [("record".to_owned(), "required")]);
        assert_eq!(codes(MessageInput { record: Some("BOK-00001".into()), ..note("x") }), [("record_type".to_owned(), "required")]);
    }

    #[test]
    fn headings_and_excerpts_read_as_people_write() {
        assert_eq!(duration(45), "45 s");
        assert_eq!(duration(700), "12 min");
        assert_eq!(duration(3900), "1 h 05 min");
        assert_eq!(excerpt("Short", 80), "Short");
        assert_eq!(excerpt("First line\nsecond", 80), "First line…");
        assert_eq!(excerpt("one two three four", 10), "one two…");
    }
}

#[cfg(test)]
mod delivery_tests {
    use super::DeliveryStatus::*;

    #[test]
    fn a_delivery_moves_only_forward_and_a_failed_one_may_be_queued_again() {
        assert!(Held.may_become(Queued) && Held.may_become(Cancelled) && !Held.may_become(Sent));
        assert!(Queued.may_become(Sent) && Queued.may_become(Failed) && !Queued.may_become(Held));
        assert!(Sent.may_become(Bounced) && Sent.may_become(Delivered) && !Sent.may_become(Queued));
        assert!(Failed.may_become(Queued) && !Bounced.may_become(Queued) && Cancelled.next().is_empty());
    }
}

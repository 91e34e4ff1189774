//! Notes, logged calls and messages in the staff app: the quick form on the
//! profile and on record pages, the full form, the confirmation before a
//! message goes to the customer, edit, delete, pin, and "view as the
//! customer".

use askama::Template;
use axum::Form;
use axum::extract::{Path, Request, State};
use axum::http::StatusCode;
use axum::response::{IntoResponse, Redirect, Response};
use dossier_domain::ValidationErrors;
use dossier_domain::activity::Visibility;
use dossier_domain::message::{CallOutcome, Channel, Direction, Message, MessageInput, MessagePatch, RecordType};
use dossier_domain::patch::Patch;
use dossier_domain::permissions::{Action, Module};
use dossier_service::files::{self, Content, Upload};
use dossier_service::{Ctx, Db, ServiceError, contacts, customers, messages, portal};

use crate::AppState;
use crate::ui::files::FileView;
use crate::ui::forms::{Field, FormPage, Section, Values, again, back_to, value};
use crate::ui::nav::Viewer;
use crate::ui::views::{day, words};
use crate::ui::{Staff, failure, page};

/// One message as staff see it on the profile, the job page and in lists.
pub struct MessageView {
    pub id: String,
    pub heading: String,
    pub subject: Option<String>,
    /// The body as safe HTML.
    pub html: String,
    pub when: String,
    pub author: String,
    pub audience: &'static str,
    pub for_customer: bool,
    pub pinned: bool,
    /// "Deleted by Ann at 2026-12-01 10:00" instead of the text.
    pub deleted: Option<String>,
    /// Whether the reader may edit and delete it, and pin it.
    pub can_change: bool,
    pub can_pin: bool,
    /// Where the buttons send the reader back to.
    pub back: String,
    /// The edit form, which comes back here.
    pub edit: String,
    /// The files that came with it.
    pub files: Vec<FileView>,
    /// Where a message Dossier sends stands ("sent", "failed: …").
    pub delivery: Option<String>,
    /// "Send now" (a held email) or "Send again" (a failed one), for staff who may send.
    pub send: Option<&'static str>,
    /// Whether it may still be stopped (held, queued or failed).
    pub can_cancel: bool,
}

impl MessageView {
    pub fn of(ctx: &Ctx, message: &Message, back: &str) -> Self {
        MessageView {
            id: message.id.to_string(),
            heading: message.heading(None),
            subject: message.subject.clone(),
            html: crate::rich_text::to_html(&message.body),
            when: day(&ctx.org, message.occurred_at),
            author: message.author.name.clone(),
            audience: audience(message.visibility),
            for_customer: message.visibility == Visibility::Customer,
            pinned: message.pinned,
            deleted: message.deleted.as_ref().map(|d| format!("Deleted by {} at {}", d.by, day(&ctx.org, d.at))),
            can_change: message.deleted.is_none() && messages::may_change(ctx, message),
            can_pin: message.deleted.is_none() && ctx.access(Module::Messages, Action::Create) != dossier_domain::permissions::Access::None,
            back: back.to_owned(),
            edit: format!("/messages/{}/edit?back={}", message.id, crate::ui::sign_in::encode(back)),
            files: Vec::new(),
            delivery: message.delivery.as_ref().map(|d| match &d.detail {
                Some(detail) => format!("{}: {}", d.status, dossier_domain::message::excerpt(detail, 200)),
                None => d.status.to_string(),
            }),
            send: None,
            can_cancel: false,
        }
        .with_delivery_actions(ctx, message)
    }

    /// The buttons that move a message Dossier sends on: send a held or
    /// failed email (again), stop a held, queued or failed one.
    fn with_delivery_actions(mut self, ctx: &Ctx, message: &Message) -> Self {
        use dossier_domain::message::{Channel, DeliveryStatus};
        let may_send = message.deleted.is_none() && ctx.access(Module::Messages, Action::Create) == dossier_domain::permissions::Access::All;
        let Some(status) = message.delivery.as_ref().map(|d| d.status).filter(|_| may_send) else { return self };
        self.send = match (message.channel, status) {
            (Channel::Email, DeliveryStatus::Held) => Some("Send now"),
            (Channel::Email, DeliveryStatus::Failed) => Some("Send again"),
            _ => None,
        };
        self.can_cancel = matches!(status, DeliveryStatus::Held | DeliveryStatus::Queued | DeliveryStatus::Failed);
        self
    }
}

/// Put each message's files under it (`views` are of `messages`, in order).
pub async fn with_files(db: &Db, ctx: &Ctx, messages: &[Message], views: &mut [MessageView], back: &str) -> Result<(), ServiceError> {
    let ids: Vec<_> = messages.iter().filter(|m| m.deleted.is_none()).map(|m| m.id).collect();
    let found = files::message_files(db, ctx, &ids).await?;
    for (message, view) in messages.iter().zip(views.iter_mut()) {
        view.files = found.iter().filter(|f| f.message_id == Some(message.id)).map(|f| FileView::of(ctx, f, back)).collect();
    }
    Ok(())
}

fn audience(visibility: Visibility) -> &'static str {
    match visibility {
        Visibility::Customer => "Customer can see",
        Visibility::Internal => "Staff only",
    }
}

/// The quick "add a note / log a call" form on a page.
pub struct Composer {
    pub action: String,
    pub back: String,
    /// The record it concerns (on a record page): kind and code.
    pub record: Option<(&'static str, String)>,
    pub channels: Vec<(&'static str, &'static str)>,
    /// The full form, with the contact, subject and call details.
    pub more: String,
    /// Whether files can be sent with it.
    pub files: bool,
    /// The page that emails the customer (about the record), for those who may.
    pub email: Option<String>,
}

/// The quick form for a customer's page, or a record's page (`record`), if
/// the caller may write messages there.
pub fn composer(ctx: &Ctx, customer_code: &str, record: Option<(RecordType, String)>, back: &str) -> Option<Composer> {
    if ctx.access(Module::Messages, Action::Create) == dossier_domain::permissions::Access::None {
        return None;
    }
    // A fieldworker writes only on their jobs.
    if ctx.assigned_only(Module::Messages).is_some() && record.as_ref().is_none_or(|(kind, _)| *kind != RecordType::Job) {
        return None;
    }
    let about = record.as_ref().map(|(kind, code)| format!("&record_type={kind}&record={code}")).unwrap_or_default();
    Some(Composer {
        action: format!("/customers/{customer_code}/messages"),
        back: back.to_owned(),
        record: record.map(|(kind, code)| (kind.as_str(), code)),
        channels: CHANNELS.to_vec(),
        more: format!("/customers/{customer_code}/messages/new?back={}{about}", crate::ui::sign_in::encode(back)),
        files: ctx.access(Module::Files, Action::Create) != dossier_domain::permissions::Access::None,
        // A fieldworker's notes stay on their jobs: email leaves from the office.
        email: ctx.assigned_only(Module::Messages).is_none().then(|| match about.strip_prefix('&') {
            Some(about) => format!("/customers/{customer_code}/email?{about}"),
            None => format!("/customers/{customer_code}/email"),
        }),
    })
}

/// The channels staff record by hand, as the form lists them.
const CHANNELS: [(&str, &str); 7] =
    [("note", "Note"), ("call", "Call"), ("email", "Email"), ("sms", "SMS"), ("whatsapp", "WhatsApp"), ("letter", "Letter"), ("portal", "Portal message")];

fn full_form(ctx: &Ctx, customer_code: &str, contacts: Vec<(String, String)>, values: &Values) -> FormPage {
    let back = back_to(values, &format!("/customers/{customer_code}"));
    let options = |all: &[(&str, &str)]| all.iter().map(|(v, t)| ((*v).to_owned(), (*t).to_owned())).collect::<Vec<_>>();
    let outcomes = std::iter::once((String::new(), "—".to_owned())).chain(CallOutcome::ALL.iter().map(|o| (o.as_str().to_owned(), words(o.as_str()))));
    let contact_options = std::iter::once((String::new(), "—".to_owned())).chain(contacts);
    let fields = vec![
        Field::new("channel", "Kind", "select").options(options(&CHANNELS)).value("note"),
        Field::new("direction", "Direction", "select")
            .options(options(&[("outbound", "To the customer"), ("inbound", "From the customer")]))
            .hint("Not asked for a note"),
        Field::new("visibility", "Who can see it", "select")
            .options(options(&[("internal", "Staff only"), ("customer", "The customer too (in their portal)")])),
        Field::new("contact_id", "With", "select").options(contact_options),
        Field::new("subject", "Subject", "text"),
        Field::new("body", "What was said", "textarea").required(),
        Field::new("duration_minutes", "Call length (minutes)", "text").hint("Calls only"),
        Field::new("outcome", "Call outcome", "select").options(outcomes),
        Field::new("occurred_at", "When (UTC)", "datetime-local").hint("Leave blank for now"),
        Field::new("pinned", "Important: pin it on top", "checkbox"),
        Field::new("record_type", "", "hidden"),
        Field::new("record", "", "hidden"),
        Field::new("back", "", "hidden").value(back.clone()),
    ];
    let mut fields = fields;
    if ctx.access(Module::Files, Action::Create) != dossier_domain::permissions::Access::None {
        fields.insert(9, Field::new("file", "Photos and files", "file").hint("Optional; up to 10, 25 MB each"));
    }
    FormPage {
        user: Some(Viewer::of(ctx)),
        title: "Add a note or message".into(),
        back,
        back_label: "Back".into(),
        action: format!("/customers/{customer_code}/messages"),
        submit: "Save",
        sections: vec![Section { legend: String::new(), fields }],
        general: Vec::new(),
    }
}

async fn contact_options(s: &AppState, ctx: &Ctx, customer: &str) -> Result<Vec<(String, String)>, ServiceError> {
    Ok(contacts::list_contacts(&s.db, ctx, customer).await?.into_iter().map(|c| (c.id.to_string(), c.display_name)).collect())
}

/// The full form, opened from the quick one's "more details" or a record page.
pub async fn new_message(
    State(s): State<AppState>,
    Staff(ctx): Staff,
    Path(id): Path<String>,
    axum::extract::Query(query): axum::extract::Query<Values>,
) -> Response {
    let customer = match customers::get_customer(&s.db, &ctx, &id).await {
        Ok(c) => c,
        Err(e) => return failure(e),
    };
    let contacts = match contact_options(&s, &ctx, &customer.code).await {
        Ok(c) => c,
        Err(e) => return failure(e),
    };
    let mut form = full_form(&ctx, &customer.code, contacts, &query);
    for field in form.sections.iter_mut().flat_map(|s| s.fields.iter_mut()) {
        if let Some(v) = query.get(&field.name).filter(|_| field.name != "back") {
            field.value = v.clone();
        }
    }
    form.show(StatusCode::OK)
}

/// The form's values as the API's input; `errors` gets what the form
/// itself could not read (a call length that is not a number).
fn input(values: &Values, errors: &mut ValidationErrors) -> MessageInput {
    let channel = value(values, "channel").and_then(|c| Channel::parse(&c));
    let minutes = value(values, "duration_minutes");
    let duration_seconds = match minutes.map(|m| m.parse::<u32>()) {
        Some(Ok(m)) => Some(m.saturating_mul(60)),
        Some(Err(_)) => {
            errors.push("duration_minutes", "invalid_number", "must be a whole number of minutes");
            None
        }
        None => None,
    };
    let occurred_at = match value(values, "occurred_at") {
        Some(text) => match jiff::civil::DateTime::strptime("%Y-%m-%dT%H:%M", &text).ok().and_then(|d| d.to_zoned(jiff::tz::TimeZone::UTC).ok()) {
            Some(zoned) => Some(zoned.timestamp()),
            None => {
                errors.push("occurred_at", "invalid_date", "must be a date and time");
                None
            }
        },
        None => None,
    };
    MessageInput {
        channel,
        // A note has no direction; the form's default does not apply to it.
        direction: match channel {
            Some(Channel::Note) | None => None,
            Some(_) => value(values, "direction").and_then(|d| Direction::parse(&d)),
        },
        visibility: value(values, "visibility").and_then(|v| Visibility::parse(&v)),
        occurred_at,
        subject: value(values, "subject"),
        body: value(values, "body"),
        contact_id: value(values, "contact_id").and_then(|c| uuid::Uuid::parse_str(&c).ok()).map(dossier_domain::ids::ContactId),
        record_type: value(values, "record_type").and_then(|r| RecordType::parse(&r)),
        record: value(values, "record"),
        duration_seconds,
        outcome: match channel {
            Some(Channel::Call) => value(values, "outcome").and_then(|o| CallOutcome::parse(&o)),
            _ => None,
        },
        pinned: Some(values.get("pinned").is_some_and(|p| p == "on")),
    }
}

/// What the customer will see, before a message goes to them.
#[derive(Template)]
#[template(path = "ui/message_confirm.html")]
struct ConfirmPage {
    user: Option<Viewer>,
    customer_name: String,
    action: String,
    back: String,
    message: crate::portal::Message,
    /// The files that go with it: name and size.
    attachments: Vec<(String, String)>,
    /// Every value of the form, sent again with `confirmed`.
    values: Vec<(String, String)>,
}

/// Save a message from the quick or the full form, with any files sent
/// with it. One meant for the customer is first shown as the customer will
/// see it (files too), and saved only once confirmed: the confirmation
/// carries the files already received by their hash.
pub async fn post_message(State(s): State<AppState>, Staff(ctx): Staff, Path(id): Path<String>, request: Request) -> Response {
    let customer = match customers::get_customer(&s.db, &ctx, &id).await {
        Ok(c) => c,
        Err(e) => return failure(e),
    };
    let (values, mut uploads) = match crate::ui::forms::read(&s.files, request).await {
        Ok(read) => read,
        Err(e) => return form_again(&s, &ctx, &customer.code, &Values::new(), crate::ui::files::upload_error(e)).await,
    };
    let back = back_to(&values, &format!("/customers/{}?tab=timeline", customer.code));
    let mut errors = ValidationErrors::default();
    let message = input(&values, &mut errors);
    let checked = message.clone().parse(ctx.now()).map_err(|e| {
        let mut all = errors.clone();
        all.0.extend(e.0);
        all
    });
    let draft = match checked {
        Ok(draft) if errors.is_empty() => draft,
        Ok(_) => return form_again(&s, &ctx, &customer.code, &values, errors.into()).await,
        Err(all) => return form_again(&s, &ctx, &customer.code, &values, all.into()).await,
    };
    uploads.extend(carried(&values));
    let kept = match uploads.is_empty() {
        true => Vec::new(),
        false => match files::keep(&s.files, &ctx, uploads).await {
            Ok(kept) => kept,
            Err(e) => return form_again(&s, &ctx, &customer.code, &values, crate::ui::files::upload_error(e)).await,
        },
    };
    if draft.visibility == Visibility::Customer && values.get("confirmed").map(String::as_str) != Some("yes") {
        let preview = Message {
            id: dossier_domain::ids::MessageId::new(),
            customer_id: customer.id,
            channel: draft.channel,
            direction: draft.direction,
            visibility: draft.visibility,
            author: ctx.actor.clone(),
            occurred_at: draft.occurred_at.unwrap_or_else(|| ctx.now()),
            subject: draft.subject.clone(),
            body: draft.body.clone(),
            contact_id: None,
            record: None,
            duration_seconds: None,
            outcome: None,
            pinned: false,
            created_at: ctx.now(),
            edited_at: None,
            deleted: None,
            delivery: None,
            recipients: None,
            email_message_id: None,
            provider_ref: None,
        };
        let mut kept_values: Vec<(String, String)> =
            values.iter().filter(|(k, _)| *k != "confirmed" && !k.starts_with(CARRIED)).map(|(k, v)| (k.clone(), v.clone())).collect();
        kept_values.sort();
        kept_values.extend(kept.iter().enumerate().map(|(i, k)| (format!("{CARRIED}{i}"), format!("{}:{}", k.sha256, k.name))));
        let confirm = ConfirmPage {
            user: Some(Viewer::of(&ctx)),
            customer_name: customer.display_name.clone(),
            action: format!("/customers/{}/messages", customer.code),
            back,
            message: crate::portal::Message::of(&preview, &ctx.org.name),
            attachments: kept.iter().map(|k| (k.name.clone(), dossier_domain::file::size_text(k.size))).collect(),
            values: kept_values,
        };
        return page(StatusCode::OK, &confirm);
    }
    match messages::post_message_with_files(&s.db, &ctx, &customer.code, message, kept).await {
        Ok(_) => Redirect::to(&back).into_response(),
        Err(e) => form_again(&s, &ctx, &customer.code, &values, e).await,
    }
}

/// How a confirmation page names the files it carries: `kept_file_0`… each
/// `sha256:name`.
const CARRIED: &str = "kept_file_";

/// The files a confirmation page carried, to be checked again as kept content.
fn carried(values: &Values) -> Vec<Upload> {
    let mut carried: Vec<(usize, Upload)> = values
        .iter()
        .filter_map(|(key, value)| {
            let index = key.strip_prefix(CARRIED)?.parse::<usize>().ok()?;
            let (sha256, name) = value.split_once(':')?;
            Some((index, Upload { name: name.to_owned(), content: Content::Kept { sha256: sha256.to_owned() } }))
        })
        .collect();
    carried.sort_by_key(|(i, _)| *i);
    carried.into_iter().map(|(_, upload)| upload).collect()
}

/// The full form again, with what was typed and each error by its field.
async fn form_again(s: &AppState, ctx: &Ctx, customer_code: &str, values: &Values, error: ServiceError) -> Response {
    let contacts = contact_options(s, ctx, customer_code).await.unwrap_or_default();
    let field_of = |f: &str| if f == "duration_seconds" { "duration_minutes".to_owned() } else { crate::ui::files::field_of(f) };
    again(full_form(ctx, customer_code, contacts, values), values, error, field_of)
}

fn edit_form(ctx: &Ctx, message: &Message, back: &str) -> FormPage {
    let fields = vec![
        Field::new("subject", "Subject", "text").value(message.subject.clone().unwrap_or_default()),
        Field::new("body", "What was said", "textarea").required().value(message.body.clone()),
        Field::new("visibility", "Who can see it", "select")
            .options([("internal".to_owned(), "Staff only".to_owned()), ("customer".to_owned(), "The customer too (in their portal)".to_owned())])
            .value(message.visibility.as_str()),
        Field::new("back", "", "hidden").value(back.to_owned()),
    ];
    FormPage {
        user: Some(Viewer::of(ctx)),
        title: format!("Edit {}", message.heading(None).to_lowercase()),
        back: back.to_owned(),
        back_label: "Back".into(),
        action: format!("/messages/{}/edit", message.id),
        submit: "Save changes",
        sections: vec![Section { legend: String::new(), fields }],
        general: Vec::new(),
    }
}

async fn message_and_back(s: &AppState, ctx: &Ctx, id: &str, values: &Values) -> Result<(Message, String), ServiceError> {
    let message = messages::get_message(&s.db, ctx, id).await?;
    let code = customers::get_customer(&s.db, ctx, &message.customer_id.to_string()).await?.code;
    Ok((message, back_to(values, &format!("/customers/{code}?tab=timeline"))))
}

pub async fn edit_message(
    State(s): State<AppState>,
    Staff(ctx): Staff,
    Path(id): Path<String>,
    axum::extract::Query(query): axum::extract::Query<Values>,
) -> Response {
    match message_and_back(&s, &ctx, &id, &query).await {
        Ok((message, back)) => edit_form(&ctx, &message, &back).show(StatusCode::OK),
        Err(e) => failure(e),
    }
}

pub async fn update_message(State(s): State<AppState>, Staff(ctx): Staff, Path(id): Path<String>, Form(values): Form<Values>) -> Response {
    let (message, back) = match message_and_back(&s, &ctx, &id, &values).await {
        Ok(found) => found,
        Err(e) => return failure(e),
    };
    let patch = MessagePatch {
        subject: value(&values, "subject").map_or(Patch::Clear, Patch::Set),
        body: Some(values.get("body").cloned().unwrap_or_default()),
        visibility: value(&values, "visibility").and_then(|v| Visibility::parse(&v)),
        ..Default::default()
    };
    match messages::update_message(&s.db, &ctx, &id, patch).await {
        Ok(_) => Redirect::to(&back).into_response(),
        Err(e) => again(edit_form(&ctx, &message, &back), &values, e, str::to_owned),
    }
}

pub async fn delete_message(State(s): State<AppState>, Staff(ctx): Staff, Path(id): Path<String>, Form(values): Form<Values>) -> Response {
    let back = match message_and_back(&s, &ctx, &id, &values).await {
        Ok((_, back)) => back,
        Err(e) => return failure(e),
    };
    match messages::delete_message(&s.db, &ctx, &id).await {
        Ok(_) => Redirect::to(&back).into_response(),
        Err(e) => failure(e),
    }
}

/// What a button on a message does.
enum Move {
    Pin(bool),
    /// "Send now" / "Send again": a held or failed email is queued.
    Send,
    /// "Cancel sending": a held, queued or failed email or text will not go.
    CancelSending,
}

/// Make `how` on the message, then go back where the form came from.
async fn move_message(s: &AppState, ctx: &Ctx, id: &str, values: &Values, how: Move) -> Response {
    let back = match message_and_back(s, ctx, id, values).await {
        Ok((_, back)) => back,
        Err(e) => return failure(e),
    };
    let done = match how {
        Move::Pin(pinned) => messages::update_message(&s.db, ctx, id, MessagePatch { pinned: Some(pinned), ..Default::default() }).await.map(drop),
        Move::Send => dossier_service::sending::email::resend(&s.db, ctx, id).await.map(drop),
        Move::CancelSending => dossier_service::sending::email::cancel_delivery(&s.db, ctx, id).await.map(drop),
    };
    match done {
        Ok(()) => Redirect::to(&back).into_response(),
        Err(e) => failure(e),
    }
}

/// Pin or unpin (the form says which with `pinned`).
pub async fn pin_message(State(s): State<AppState>, Staff(ctx): Staff, Path(id): Path<String>, Form(values): Form<Values>) -> Response {
    let pinned = values.get("pinned").is_some_and(|p| p == "on");
    move_message(&s, &ctx, &id, &values, Move::Pin(pinned)).await
}

pub async fn send_message(State(s): State<AppState>, Staff(ctx): Staff, Path(id): Path<String>, Form(values): Form<Values>) -> Response {
    move_message(&s, &ctx, &id, &values, Move::Send).await
}

pub async fn cancel_message(State(s): State<AppState>, Staff(ctx): Staff, Path(id): Path<String>, Form(values): Form<Values>) -> Response {
    move_message(&s, &ctx, &id, &values, Move::CancelSending).await
}

/// "View as the customer": the portal page for this customer, from the
/// portal's own code, with nothing that could send.
pub async fn as_customer(State(s): State<AppState>, Staff(ctx): Staff, Path(id): Path<String>) -> Response {
    match portal::view_as_customer(&s.db, &ctx, &id).await {
        Ok(view) => page(StatusCode::OK, &crate::portal::preview(view)),
        Err(e) => failure(e),
    }
}

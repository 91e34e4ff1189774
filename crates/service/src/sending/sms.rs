//! Text messages: compose one to a customer's number (checked against the
//! customer's SMS preference for its purpose), queue it with a background
//! task that sends it through the org's gateway, take the provider's signed
//! delivery receipts, and record texts customers send in.
//!
//! A text goes out in E.164 to the customer's own phone or one of its
//! contacts' phones. A send is one transaction: the message (delivery
//! `queued`), its `message.queued` activity and an `sms.send` task. The task
//! sends it and moves it to `sent` (with the provider's id) or `failed`
//! (with the provider's answer); transient failures are tried again by the
//! worker, and when it gives up the message is failed. Webhooks carry
//! `X-Dossier-Signature: sha256=<hex HMAC-SHA256 of the body>` with the
//! org's webhook secret.

use dossier_domain::ValidationErrors;
use dossier_domain::activity::{Actor, ActorType, Visibility};
use dossier_domain::consent::{Consent, Purpose, manual_send};
use dossier_domain::contact_point::Phone;
use dossier_domain::customer::{CustomerStatus, WorkRefused};
use dossier_domain::ids::{ContactId, CustomerId, MessageId};
use dossier_domain::limits::MAX_MESSAGE_BODY_CHARS;
use dossier_domain::message::{Channel, Delivery, DeliveryStatus, Direction, Message, Recipients, RecordType, excerpt, record_reference};
use dossier_domain::permissions::{Access, Action, Module};
use dossier_domain::sending::inbound::{EXCERPT_CHARS, InboxChannel};
use dossier_domain::sending::sms::{Encoding, ReceiptStatus, Segments, SmsText};
use dossier_domain::tasks::{Task, TaskKind};
use dossier_domain::text;
use dossier_store::queries as q;
use dossier_store::{Db, Handle, MessageRow, Tx};
use hmac::{Hmac, KeyInit, Mac};
use jiff::Timestamp;
use serde::{Deserialize, Serialize};
use serde_json::json;
use uuid::Uuid;

use crate::automation::tasks::{Claimed, NewTask, SYSTEM_NAME, enqueue_in};
use crate::conversations::delivery::move_in;
use crate::conversations::messages::{message_activity, resolve_record};
use crate::sending::sms_gateway::{GatewayError, HttpGateway, SmsGateway};
use crate::sending::sms_settings::stored;
use crate::{Ctx, Result, ServiceError, customers};

/// The largest webhook body read, in bytes.
pub const MAX_WEBHOOK_BYTES: usize = 64 * 1024;

/// The header a webhook is signed in.
pub const SIGNATURE_HEADER: &str = "X-Dossier-Signature";

/// The name the provider's webhooks act under.
const GATEWAY_NAME: &str = "SMS gateway";

/// How many owners of one number are looked at for an inbound text.
const MAX_NUMBER_OWNERS: i64 = 50;

/// A text to send (the API's and the web form's body).
#[derive(Clone, Debug, Default, Deserialize, utoipa::ToSchema)]
#[serde(deny_unknown_fields)]
pub struct SmsInput {
    /// The number to text: the customer's phone or one of its contacts'
    /// phones, in any form the org's region reads (it goes out in E.164).
    pub to: Option<String>,
    /// The text: at most 10 segments (1,530 GSM-7 characters, or 670 UCS-2
    /// code units when it has a character outside GSM-7).
    pub body: Option<String>,
    pub record_type: Option<RecordType>,
    /// The record's code or id.
    pub record: Option<String>,
    /// Default `service`.
    pub purpose: Option<Purpose>,
    /// Send although the customer opted out of SMS for this purpose; kept
    /// with the activity.
    pub override_reason: Option<String>,
    /// Only show what would be sent (number, segments, consent): nothing is written.
    #[serde(default)]
    pub dry_run: bool,
}

/// What a text would be: shown before it is queued.
#[derive(Clone, Debug, Serialize, utoipa::ToSchema)]
pub struct SmsPreview {
    /// E.164.
    pub to: String,
    /// The contact whose number it is, if it is a contact's.
    pub contact: Option<String>,
    pub body: String,
    pub encoding: Encoding,
    /// Septets (GSM-7) or UTF-16 code units (UCS-2).
    pub characters: u32,
    pub segments: u32,
    pub purpose: Purpose,
    /// What the customer's preference says about this send.
    pub consent: Consent,
    /// The reason given to send against the preference.
    pub override_reason: Option<String>,
}

/// A compose's outcome: a preview (dry run) or the queued message.
#[derive(Clone, Debug)]
pub enum Composed {
    Preview(SmsPreview),
    Queued(Box<Message>),
}

/// The numbers a customer may be texted at: its own phone and its contacts'
/// phones, each with the contact it belongs to (none for the customer's own).
#[derive(Clone, Debug, Serialize)]
pub struct Number {
    pub e164: String,
    pub contact_id: Option<ContactId>,
    /// Who the number belongs to (the customer's or the contact's name).
    pub name: String,
}

async fn numbers_of(h: &mut Handle<'_>, ctx: &Ctx, customer: &dossier_store::CustomerRow) -> Result<Vec<Number>> {
    let mut numbers = Vec::new();
    if let Some(phone) = customer.profile()?.phone {
        numbers.push(Number { e164: phone.as_str().to_owned(), contact_id: None, name: customer.display_name.clone() });
    }
    for row in q::list_contacts(h, ctx.org.id.0, customer.id).await? {
        let contact = row.into_contact()?;
        for phone in &contact.profile.phones {
            numbers.push(Number { e164: phone.number.as_str().to_owned(), contact_id: Some(contact.id), name: contact.display_name.clone() });
        }
    }
    Ok(numbers)
}

/// The numbers the caller may text `customer` at (the compose form's choice).
pub async fn numbers(db: &Db, ctx: &Ctx, customer: &str) -> Result<Vec<Number>> {
    ctx.require(Module::Messages, Action::Create)?;
    let mut reader = db.read().await?;
    let h = &mut reader.handle();
    let row = customers::find(h, ctx, customer).await?;
    numbers_of(h, ctx, &row).await
}

/// Compose a text to `customer`: check the number, the text and the
/// customer's SMS preference for the purpose; on a dry run answer what
/// would go, else queue it (message, `message.queued`, `sms.send` task) in
/// one transaction.
pub async fn compose(db: &Db, ctx: &Ctx, customer: &str, input: SmsInput) -> Result<Composed> {
    let access = ctx.require(Module::Messages, Action::Create)?;
    let mut errors = ValidationErrors::default();
    let sms = errors.take(SmsText::parse("body", input.body));
    let to = match input.to.as_deref().map(str::trim) {
        None | Some("") => {
            errors.push("to", "required", "is required");
            None
        }
        Some(to) => errors.take(Phone::parse("to", to, ctx.org.region)),
    };
    let record = record_reference(&mut errors, input.record_type, input.record);
    let override_reason = errors.take(text::optional("override_reason", input.override_reason, dossier_domain::consent::MAX_OVERRIDE_REASON_CHARS));
    let (Some(sms), Some(to), Some(override_reason)) = (sms, to, override_reason) else { return Err(errors.into()) };
    errors.into_result(|| ())?;
    let purpose = input.purpose.unwrap_or(Purpose::Service);

    let mut tx = db.begin().await?;
    let h = &mut tx.handle();
    let customer = customers::find(h, ctx, customer).await?;
    if customer.status()? == CustomerStatus::Deactivated {
        let refusal = WorkRefused::Deactivated;
        return Err(ServiceError::conflict(refusal.code(), refusal.message(customer.code())));
    }
    if access == Access::Assigned && record.as_ref().is_none_or(|(kind, _)| *kind != RecordType::Job) {
        return Err(ValidationErrors::one("record", "required", "a fieldworker's texts go on one of their jobs: give record_type job and its code").into());
    }
    let record = match &record {
        Some((kind, reference)) => Some(resolve_record(h, ctx, customer.id, *kind, reference).await?),
        None => None,
    };
    let numbers = numbers_of(h, ctx, &customer).await?;
    // A contact's number names the contact, even if it is the customer's too.
    let number = numbers.iter().filter(|n| n.e164 == to.as_str()).max_by_key(|n| n.contact_id.is_some()).ok_or_else(|| {
        ValidationErrors::one("to", "not_a_contact_number", format!("{to} is not a phone number of {} or of one of its contacts", customer.display_name))
    })?;
    let contact = number.contact_id.map(|_| number.name.clone());
    let agreed =
        crate::sending::email::consent_for(h, ctx, customer.id, &customer.profile()?.communication, &[number.contact_id], Channel::Sms, purpose).await?;
    let permitted = manual_send(agreed, override_reason)?;
    let preview = SmsPreview {
        to: to.as_str().to_owned(),
        contact: contact.clone(),
        body: sms.text.clone(),
        encoding: sms.segments.encoding,
        characters: sms.segments.characters,
        segments: sms.segments.segments,
        purpose,
        consent: permitted.consent.clone(),
        override_reason: permitted.overridden.clone(),
    };
    if input.dry_run {
        return Ok(Composed::Preview(preview));
    }

    let now = ctx.now();
    let message = Message {
        id: MessageId::new(),
        customer_id: CustomerId(customer.id),
        channel: Channel::Sms,
        direction: Direction::Outbound,
        visibility: Visibility::Customer,
        author: ctx.actor.clone(),
        occurred_at: now,
        subject: None,
        body: sms.text,
        contact_id: number.contact_id,
        record,
        duration_seconds: None,
        outcome: None,
        pinned: false,
        created_at: now,
        edited_at: None,
        deleted: None,
        delivery: Some(Delivery { status: DeliveryStatus::Queued, detail: None, updated_at: now }),
        recipients: Some(Recipients { to: vec![to.as_str().to_owned()], ..Default::default() }),
        email_message_id: None,
        provider_ref: None,
    };
    q::insert_messages(h, &[MessageRow::new(ctx.org.id.0, message.customer_id, &message)]).await?;
    let summary = format!("{} queued: {}", message.heading(Some(contact.as_deref().unwrap_or(to.as_str()))), excerpt(&message.body, 100));
    let mut record = message_activity(ctx, dossier_domain::activity::ActivityKind::MessageQueued, &message, contact.as_deref(), summary);
    record.detail["to"] = json!(preview.to);
    record.detail["purpose"] = json!(purpose);
    record.detail["consent"] = json!(preview.consent.reason);
    record.detail["override_reason"] = json!(preview.override_reason);
    record.detail["segments"] = json!(sms.segments);
    record.detail["delivery"] = json!({ "status": DeliveryStatus::Queued, "detail": null });
    tx.append(record).await?;
    let task = NewTask {
        kind: TaskKind::SendSms,
        payload: json!({ "message_id": message.id.0 }),
        run_at: now,
        dedupe_key: Some(format!("sms:{}", message.id.0)),
        max_attempts: None,
    };
    enqueue_in(&mut tx, ctx, task).await?;
    tx.commit().await?;
    Ok(Composed::Queued(Box::new(message)))
}

// ---------------------------------------------------------------- sending

fn message_id_of(task: &Task) -> std::result::Result<Uuid, String> {
    task.payload.get("message_id").and_then(|v| v.as_str()).and_then(|id| Uuid::parse_str(id).ok()).ok_or_else(|| "the task names no message_id".to_owned())
}

/// Move `message` (still queued) to `status` in a transaction of its own.
async fn settle(db: &Db, ctx: &Ctx, message: &Message, status: DeliveryStatus, detail: Option<&str>, provider_ref: Option<&str>) -> Result<()> {
    let mut tx = db.begin().await?;
    if let Some(reference) = provider_ref {
        q::set_provider_ref(&mut tx.handle(), ctx.org.id.0, message.id.0, reference).await?;
    }
    move_in(&mut tx, ctx, message, status, detail).await?;
    tx.commit().await?;
    Ok(())
}

/// The `sms.send` task: send the queued text through the org's gateway.
/// A message no longer queued (sent by an earlier attempt, cancelled) is
/// left alone. A permanent refusal fails the message and ends the task; a
/// transient failure is this attempt's error (the worker tries again).
pub(crate) async fn run(db: &Db, task: &Claimed) -> std::result::Result<(), String> {
    run_with(db, task, HttpGateway::new).await
}

async fn run_with<G: SmsGateway>(db: &Db, task: &Claimed, gateway: impl FnOnce(String, String) -> G) -> std::result::Result<(), String> {
    let id = message_id_of(&task.task)?;
    let e = |e: ServiceError| e.to_string();
    let (ctx, message, settings, deactivated) = {
        let mut reader = db.read().await.map_err(|e| e.to_string())?;
        let h = &mut reader.handle();
        let org = crate::orgs::load(h, task.org_id.0).await.map_err(e)?;
        let Some(row) = q::get_message(h, task.org_id.0, id).await.map_err(|e| e.to_string())? else { return Ok(()) };
        let message = row.into_message().map_err(|e| e.to_string())?;
        let settings = stored(h, task.org_id.0).await.map_err(e)?;
        let customer = customers::find(h, &Ctx::system(org.clone(), SYSTEM_NAME), &message.customer_id.0.to_string()).await.map_err(e)?;
        // Deactivated or deleted: read-only.
        (Ctx::system(org, SYSTEM_NAME), message, settings, customer.read_only().map_err(|e| e.to_string())?)
    };
    if message.delivery.as_ref().map(|d| d.status) != Some(DeliveryStatus::Queued) || message.channel != Channel::Sms {
        return Ok(());
    }
    if deactivated {
        // Read-only until reactivated: nothing may be written of it, so
        // the text waits, queued.
        tracing::warn!(message = %message.id.0, "an SMS of a deactivated customer was not sent");
        return Ok(());
    }
    let to = message.recipients.as_ref().and_then(|r| r.to.first()).cloned();
    let configured = settings.and_then(|s| Some((s.provider_url?, s.api_key?, s.sender?)));
    let (Some(to), Some((url, key, sender))) = (to, configured) else {
        let why = "SMS sending is not set up: an admin sets the provider URL, API key and sender in Settings → SMS";
        return settle(db, &ctx, &message, DeliveryStatus::Failed, Some(why), None).await.map_err(e);
    };
    match gateway(url, key).send(&message.id.0.to_string(), &to, &sender, &message.body).await {
        Ok(reference) => settle(db, &ctx, &message, DeliveryStatus::Sent, None, Some(&reference)).await.map_err(e),
        Err(GatewayError { permanent: true, message: answer }) => settle(db, &ctx, &message, DeliveryStatus::Failed, Some(&answer), None).await.map_err(e),
        Err(GatewayError { permanent: false, message: answer }) => Err(answer),
    }
}

// ---------------------------------------------------------------- webhooks

/// Whether `signature` (`sha256=<hex>`) is the HMAC-SHA256 of `body` with
/// `secret`, compared in constant time.
pub fn signature_matches(secret: &str, body: &[u8], signature: Option<&str>) -> bool {
    let Some(hex) = signature.map(str::trim).and_then(|s| s.strip_prefix("sha256=")) else { return false };
    let Some(given) = decode_hex(hex) else { return false };
    let Ok(mut mac) = Hmac::<sha2_011::Sha256>::new_from_slice(secret.as_bytes()) else { return false };
    mac.update(body);
    mac.verify_slice(&given).is_ok()
}

/// The signature header's value for `body` (what a provider sends).
pub fn sign(secret: &str, body: &[u8]) -> String {
    let mut mac = Hmac::<sha2_011::Sha256>::new_from_slice(secret.as_bytes()).expect("HMAC takes a key of any length");
    mac.update(body);
    let bytes = mac.finalize().into_bytes();
    format!("sha256={}", bytes.iter().map(|b| format!("{b:02x}")).collect::<String>())
}

fn decode_hex(hex: &str) -> Option<Vec<u8>> {
    if hex.len() != 64 || !hex.is_ascii() {
        return None;
    }
    (0..hex.len()).step_by(2).map(|i| u8::from_str_radix(&hex[i..i + 2], 16).ok()).collect()
}

/// The org a webhook names, if its signature is good: else
/// [`ServiceError::Unauthenticated`] (an unknown org, an org without a
/// webhook secret and a wrong signature answer alike).
async fn verified(db: &Db, org: &str, body: &[u8], signature: Option<&str>) -> Result<crate::Org> {
    let org = Uuid::parse_str(org).map_err(|_| ServiceError::Unauthenticated)?;
    let mut reader = db.read().await?;
    let h = &mut reader.handle();
    let secret = stored(h, org).await?.and_then(|s| s.webhook_secret).ok_or(ServiceError::Unauthenticated)?;
    if body.len() > MAX_WEBHOOK_BYTES || !signature_matches(&secret, body, signature) {
        return Err(ServiceError::Unauthenticated);
    }
    match q::get_org(h, org).await? {
        Some(_) => crate::orgs::load(h, org).await,
        None => Err(ServiceError::Unauthenticated),
    }
}

fn parse_json<T: serde::de::DeserializeOwned>(body: &[u8]) -> Result<T> {
    serde_json::from_slice(body).map_err(|e| ValidationErrors::one("body", "invalid_body", format!("is not the JSON expected: {e}")).into())
}

/// A delivery receipt, as the provider sends it.
#[derive(Clone, Debug, Deserialize, utoipa::ToSchema)]
pub struct Receipt {
    /// The provider's id of the text (the `id` it answered the send with).
    pub id: String,
    pub status: ReceiptStatus,
    /// Why it failed.
    pub error: Option<String>,
}

/// A signed delivery receipt: the text moves to delivered or failed. A
/// repeated receipt changes nothing (`Ok(None)`); an unknown id is 404.
pub async fn receipt(db: &Db, org: &str, body: &[u8], signature: Option<&str>) -> Result<Option<Message>> {
    let org = verified(db, org, body, signature).await?;
    let receipt: Receipt = parse_json(body)?;
    let ctx = Ctx::system(org, GATEWAY_NAME);
    let mut tx = db.begin().await?;
    let row = q::message_by_provider_ref(&mut tx.handle(), ctx.org.id.0, receipt.id.trim()).await?;
    let message = match row {
        Some(row) if row.direction == Direction::Outbound.as_str() && row.channel == Channel::Sms.as_str() => row.into_message()?,
        _ => return Err(ServiceError::NotFound("message")),
    };
    let error = receipt.error.map(|e| excerpt(&e, 500));
    let moved = match receipt.status {
        ReceiptStatus::Delivered => move_in(&mut tx, &ctx, &message, DeliveryStatus::Delivered, None).await?,
        ReceiptStatus::Failed | ReceiptStatus::Undelivered => {
            let detail = error.unwrap_or_else(|| format!("the provider reports it {}", receipt.status));
            move_in(&mut tx, &ctx, &message, DeliveryStatus::Failed, Some(&detail)).await?
        }
    };
    tx.commit().await?;
    Ok(moved)
}

/// A text a customer sent, as the provider forwards it.
#[derive(Clone, Debug, Deserialize, utoipa::ToSchema)]
pub struct InboundSms {
    /// The provider's id of the text: the same id again creates nothing.
    pub id: String,
    /// The sender, E.164.
    pub from: String,
    /// The number it was sent to.
    pub to: String,
    pub text: String,
    #[schema(value_type = Option<String>, format = DateTime)]
    pub received_at: Option<Timestamp>,
}

/// What became of an inbound text.
#[derive(Clone, Debug)]
pub enum Inbound {
    /// On the timeline of the one customer the number belongs to.
    Recorded(Box<Message>),
    /// Recorded before (the provider sent it again).
    Repeated(MessageId),
    /// The number belongs to no customer, or to several (or to one that is
    /// deactivated): the text waits in the inbox for staff to assign.
    Unmatched { customers: usize, item: Uuid },
}

/// A signed inbound text: recorded on the one customer whose phone, or one
/// of whose contacts' phones, sent it (message `sms`, inbound, with a
/// `message.received` activity), once per provider id.
pub async fn inbound(db: &Db, org: &str, body: &[u8], signature: Option<&str>) -> Result<Inbound> {
    let org = verified(db, org, body, signature).await?;
    let input: InboundSms = parse_json(body)?;
    let mut errors = ValidationErrors::default();
    let id = errors.take(text::required("id", Some(input.id), 200));
    let from = errors.take(Phone::parse("from", &input.from, org.region));
    let to = errors.take(text::required("to", Some(input.to), 40));
    let text = errors.take(text::optional_multiline("text", Some(input.text), MAX_MESSAGE_BODY_CHARS));
    let (Some(id), Some(from), Some(to), Some(text)) = (id, from, to, text) else { return Err(errors.into()) };
    let ctx = Ctx::system(org, GATEWAY_NAME);
    let mut tx = db.begin().await?;
    // One inbound text at a time per org: a repeat cannot slip in beside it.
    q::lock_org(&mut tx.handle(), ctx.org.id.0).await?;
    if let Some(row) = q::message_by_provider_ref(&mut tx.handle(), ctx.org.id.0, &id).await?
        && row.direction == Direction::Inbound.as_str()
    {
        return Ok(Inbound::Repeated(MessageId(row.id)));
    }
    let owners = owners_of(&mut tx, &ctx, &from).await?;
    let body = text.unwrap_or_else(|| "(an empty text)".to_owned());
    let received = Received { id, from, to, body, received_at: input.received_at };
    let reason = match owners.as_slice() {
        [] => "no customer has this number",
        [(customer, _)] if customer.status()? == CustomerStatus::Deactivated => "the customer with this number is deactivated",
        [_] => "",
        _ => "several customers have this number",
    };
    if !reason.is_empty() {
        // Kept in the inbox for staff to assign, once per provider id.
        let item = inbox_item(&ctx, &received, reason);
        let item_id = item.id;
        if q::insert_inbox_item(&mut tx.handle(), &item).await? {
            tx.commit().await?;
        }
        return Ok(Inbound::Unmatched { customers: owners.len(), item: item_id });
    }
    let [(customer, contact)] = owners.as_slice() else { unreachable!("one owner") };
    let message = record_received_in(&mut tx, &ctx, MessageId::new(), customer.id, contact.clone(), received, None).await?;
    tx.commit().await?;
    Ok(Inbound::Recorded(Box::new(message)))
}

/// An inbound text, checked.
pub(crate) struct Received {
    /// The provider's id.
    pub id: String,
    pub from: Phone,
    pub to: String,
    pub body: String,
    pub received_at: Option<Timestamp>,
}

/// The inbox item of a text no one customer's number sent.
fn inbox_item(ctx: &Ctx, text: &Received, reason: &str) -> dossier_store::InboxItemRow {
    let kept = serde_json::json!({ "to": text.to, "text": text.body, "received_at": text.received_at });
    dossier_store::InboxItemRow {
        raw_text: Some(kept.to_string()),
        ..dossier_store::InboxItemRow::open(
            ctx.org.id.0,
            InboxChannel::Sms,
            text.id.clone(),
            text.from.as_str().to_owned(),
            excerpt(&text.body, EXCERPT_CHARS),
            reason,
            ctx.now().as_microsecond(),
        )
    }
}

/// The text an inbox item keeps, to record it when staff assign it.
pub(crate) fn received_of(item: &dossier_store::InboxItemRow) -> Option<Received> {
    let kept: serde_json::Value = serde_json::from_str(item.raw_text.as_deref()?).ok()?;
    Some(Received {
        id: item.message_ref.clone()?,
        from: Phone::from_stored(item.from_address.clone()),
        to: kept["to"].as_str().unwrap_or_default().to_owned(),
        body: kept["text"].as_str().unwrap_or_default().to_owned(),
        received_at: kept["received_at"].as_str().and_then(|t| t.parse().ok()),
    })
}

/// The customers (and contact) whose phone is `number`, for an assigned text.
pub(crate) async fn contact_with_number(tx: &mut Tx, ctx: &Ctx, customer: Uuid, number: &Phone) -> Result<Option<(ContactId, String)>> {
    Ok(owners_of(tx, ctx, number).await?.into_iter().find(|(c, _)| c.id == customer).and_then(|(_, contact)| contact))
}

/// Record a received text on `customer` (message `sms`, inbound, seen by
/// the customer, with `message.received`), in the caller's transaction;
/// `assigned_by` names who gave it to the customer from the inbox.
pub(crate) async fn record_received_in(
    tx: &mut Tx,
    ctx: &Ctx,
    id: MessageId,
    customer: Uuid,
    contact: Option<(ContactId, String)>,
    text: Received,
    assigned_by: Option<&str>,
) -> Result<Message> {
    let row = customers::find(&mut tx.handle(), ctx, &customer.to_string()).await?;
    let name = contact.as_ref().map_or(row.display_name.clone(), |(_, name)| name.clone());
    let actor = Actor { kind: ActorType::Customer, id: Some(customer), name: format!("{name} (by SMS)") };
    let ctx = Ctx::new(ctx.org.clone(), actor, None, None);
    let now = ctx.now();
    let message = Message {
        id,
        customer_id: CustomerId(customer),
        channel: Channel::Sms,
        direction: Direction::Inbound,
        visibility: Visibility::Customer,
        author: ctx.actor.clone(),
        occurred_at: text.received_at.filter(|at| *at <= now).unwrap_or(now),
        subject: None,
        body: text.body,
        contact_id: contact.as_ref().map(|(id, _)| *id),
        record: None,
        duration_seconds: None,
        outcome: None,
        pinned: false,
        created_at: now,
        edited_at: None,
        deleted: None,
        delivery: None,
        recipients: Some(Recipients { to: vec![text.to], cc: Vec::new(), from: Some(text.from.as_str().to_owned()) }),
        email_message_id: None,
        provider_ref: Some(text.id),
    };
    let h = &mut tx.handle();
    q::insert_messages(h, &[MessageRow::new(ctx.org.id.0, message.customer_id, &message)]).await?;
    let contact_name = contact.as_ref().map(|(_, name)| name.as_str());
    let assigned = assigned_by.map(|by| format!(", assigned from the inbox by {by}")).unwrap_or_default();
    let summary = format!("{} received{assigned}: {}", message.heading(Some(contact_name.unwrap_or(text.from.as_str()))), excerpt(&message.body, 100));
    let mut record = message_activity(&ctx, dossier_domain::activity::ActivityKind::MessageReceived, &message, contact_name, summary);
    record.detail["from"] = json!(text.from.as_str());
    tx.append(record).await?;
    Ok(message)
}

/// The customers whose own phone or whose contact's phone is `number`, each
/// once, with the contact (id and name) it was found by.
async fn owners_of(tx: &mut Tx, ctx: &Ctx, number: &Phone) -> Result<Vec<(dossier_store::CustomerRow, Option<(ContactId, String)>)>> {
    let h = &mut tx.handle();
    let digits = number.search_digits().into_iter().next().unwrap_or_default();
    let mut owners: Vec<(dossier_store::CustomerRow, Option<(ContactId, String)>)> = Vec::new();
    for (customer_id, source_id) in q::phone_candidates(h, ctx.org.id.0, &digits, MAX_NUMBER_OWNERS).await? {
        if owners.iter().any(|(c, _)| c.id == customer_id) && source_id == customer_id {
            continue;
        }
        let found = if source_id == customer_id {
            let customer = customers::find(h, ctx, &customer_id.to_string()).await?;
            (customer.profile()?.phone.as_ref() == Some(number)).then_some((customer, None))
        } else {
            match q::get_contact(h, ctx.org.id.0, source_id).await? {
                Some(row) if row.customer_id == customer_id => {
                    let contact = row.into_contact()?;
                    if contact.profile.phones.iter().any(|p| &p.number == number) {
                        Some((customers::find(h, ctx, &customer_id.to_string()).await?, Some((contact.id, contact.display_name))))
                    } else {
                        None
                    }
                }
                _ => None,
            }
        };
        let Some((customer, contact)) = found else { continue };
        match owners.iter_mut().find(|(c, _)| c.id == customer.id) {
            // A contact's number names the contact.
            Some(owner) => {
                if owner.1.is_none() {
                    owner.1 = contact;
                }
            }
            None => owners.push((customer, contact)),
        }
    }
    Ok(owners)
}

/// How `text` would be sent (the compose form's counter, server-side).
pub fn segments_of(text: &str) -> Segments {
    Segments::of(text)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn a_signature_is_the_hmac_sha256_of_the_body_in_hex() {
        // RFC 4231, test case 2.
        let expected = "sha256=5bdcc146bf60754e6a042426089575c75a003f089d2739839dec58b964ec3843";
        assert_eq!(sign("Jefe", b"what do ya want for nothing?"), expected);
        assert!(signature_matches("Jefe", b"what do ya want for nothing?", Some(expected)));
        assert!(signature_matches("Jefe", b"what do ya want for nothing?", Some(&expected.to_uppercase().replace("SHA256=", "sha256="))));
        assert!(!signature_matches("Jefe", b"what do ya want for nothing!", Some(expected)));
        assert!(!signature_matches("Jeff", b"what do ya want for nothing?", Some(expected)));
        assert!(!signature_matches("Jefe", b"what do ya want for nothing?", None));
        assert!(!signature_matches("Jefe", b"what do ya want for nothing?", Some(&expected[..70])));
        assert!(!signature_matches("Jefe", b"what do ya want for nothing?", Some(expected.trim_start_matches("sha256="))));
    }
}

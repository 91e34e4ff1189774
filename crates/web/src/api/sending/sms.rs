//! Text messages: send one to a customer, the org's SMS gateway settings,
//! and the provider's signed webhooks (delivery receipts, inbound texts).

use axum::Json;
use axum::body::Body as RawBody;
use axum::extract::State;
use axum::http::{HeaderMap, StatusCode};
use axum::response::{IntoResponse, Response};
use dossier_domain::message::Message;
use dossier_domain::sending::sms::{SmsSettings, SmsSettingsInput};
use dossier_service::ServiceError;
use dossier_service::sending::sms::{self, Composed, Inbound, InboundSms, MAX_WEBHOOK_BYTES, Receipt, SIGNATURE_HEADER, SmsInput, SmsPreview};
use dossier_service::sending::sms_settings;
use serde::Serialize;
use utoipa_axum::router::OpenApiRouter;
use utoipa_axum::routes;

use crate::AppState;
use crate::auth::Caller;
use crate::error::{ApiError, Problem};
use crate::extract::{Body, Path};

pub fn router() -> OpenApiRouter<AppState> {
    OpenApiRouter::new().routes(routes!(send_sms)).routes(routes!(get_settings, put_settings)).routes(routes!(receipt)).routes(routes!(inbound))
}

/// Text a customer: `to` is the customer's phone or one of its contacts'
/// phones (sent in E.164). The customer's SMS preference for the purpose
/// (default `service`) must allow it, else 422 `opted_out` on
/// `override_reason` unless a reason is given (kept in the activity). With
/// `dry_run` the answer is what would go (number, segments, encoding,
/// consent) and nothing is written; else the text is queued (a message
/// with delivery `queued`) and a background task sends it.
#[utoipa::path(post, path = "/customers/{id}/sms", tag = "sending", params(("id" = String, Path, description = "Customer id or code")),
    request_body = SmsInput,
    responses((status = 201, description = "Queued", body = Message), (status = 200, description = "What would be sent (dry_run)", body = SmsPreview),
        (status = 403, description = "The caller's role may not write messages", body = Problem), (status = 404, description = "No such customer", body = Problem),
        (status = 409, description = "The customer is deactivated (customer_deactivated)", body = Problem),
        (status = 422, description = "Invalid input; a number that is not the customer's or a contact's (not_a_contact_number); \
            a text over 10 segments (too_long); the customer opted out (opted_out)", body = Problem)))]
async fn send_sms(State(s): State<AppState>, Caller(ctx): Caller, Path(id): Path<String>, Body(input): Body<SmsInput>) -> Result<Response, ApiError> {
    Ok(match sms::compose(&s.db, &ctx, &id, input).await? {
        Composed::Preview(preview) => (StatusCode::OK, Json(preview)).into_response(),
        Composed::Queued(message) => (StatusCode::CREATED, Json(*message)).into_response(),
    })
}

/// The org's SMS gateway settings. The API key and the webhook secret are
/// never shown: only whether they are set.
#[utoipa::path(get, path = "/org/sms-settings", tag = "sending",
    responses((status = 200, description = "The settings", body = SmsSettings), (status = 403, description = "A fieldworker does not read them", body = Problem)))]
async fn get_settings(State(s): State<AppState>, Caller(ctx): Caller) -> Result<Json<SmsSettings>, ApiError> {
    Ok(Json(sms_settings::settings(&s.db, &ctx).await?))
}

/// Change the SMS gateway settings (owners and admins). A field left out
/// stays; an empty string clears it. The activity names what changed, never
/// a secret's value.
#[utoipa::path(put, path = "/org/sms-settings", tag = "sending", request_body = SmsSettingsInput,
    responses((status = 200, description = "The settings after the change", body = SmsSettings),
        (status = 403, description = "Only owners and admins change settings", body = Problem), (status = 422, description = "Invalid settings", body = Problem)))]
async fn put_settings(State(s): State<AppState>, Caller(ctx): Caller, Body(input): Body<SmsSettingsInput>) -> Result<Json<SmsSettings>, ApiError> {
    Ok(Json(sms_settings::update_settings(&s.db, &ctx, input).await?))
}

/// What a webhook did.
#[derive(Serialize, utoipa::ToSchema)]
struct WebhookAnswer {
    /// `updated` or `unchanged` (receipts); `recorded`, `repeated` or `unmatched` (inbound).
    outcome: &'static str,
    message_id: Option<uuid::Uuid>,
    /// How many customers the sender's number belongs to (unmatched inbound texts).
    customers: Option<usize>,
}

async fn signed_body(headers: &HeaderMap, body: RawBody) -> Result<(Option<String>, axum::body::Bytes), ApiError> {
    let signature = headers.get(SIGNATURE_HEADER).and_then(|v| v.to_str().ok()).map(str::to_owned);
    let bytes = axum::body::to_bytes(body, MAX_WEBHOOK_BYTES).await.map_err(|_| {
        ApiError::new(StatusCode::PAYLOAD_TOO_LARGE, "payload_too_large", format!("a webhook body is at most {} KiB", MAX_WEBHOOK_BYTES / 1024))
    })?;
    Ok((signature, bytes))
}

fn signature_refused(error: ServiceError) -> ApiError {
    match error {
        ServiceError::Unauthenticated => ApiError::new(
            StatusCode::UNAUTHORIZED,
            "invalid_signature",
            format!("the {SIGNATURE_HEADER} header must be sha256=<hex HMAC-SHA256 of the body with the org's webhook secret>"),
        ),
        other => other.into(),
    }
}

/// A delivery receipt from the SMS provider (no sign-in: signed with the
/// org's webhook secret in `X-Dossier-Signature: sha256=<hex>`, HMAC-SHA256
/// of the raw body). The text moves to `delivered` or `failed`; a repeated
/// receipt changes nothing.
#[utoipa::path(post, path = "/webhooks/sms/{org_id}/receipt", tag = "sending", security(()), request_body = Receipt,
    params(("org_id" = String, Path, description = "The org's id"), ("X-Dossier-Signature" = String, Header, description = "sha256=<hex HMAC-SHA256 of the body>")),
    responses((status = 200, description = "Recorded (or already recorded)", body = WebhookAnswer),
        (status = 401, description = "Missing or wrong signature (invalid_signature): nothing changed", body = Problem),
        (status = 404, description = "No text has this provider id", body = Problem), (status = 413, description = "Body over 64 KiB", body = Problem),
        (status = 422, description = "Not a receipt", body = Problem)))]
async fn receipt(State(s): State<AppState>, Path(org): Path<String>, headers: HeaderMap, body: RawBody) -> Result<Json<WebhookAnswer>, ApiError> {
    let (signature, bytes) = signed_body(&headers, body).await?;
    let moved = sms::receipt(&s.db, &org, &bytes, signature.as_deref()).await.map_err(signature_refused)?;
    let outcome = if moved.is_some() { "updated" } else { "unchanged" };
    Ok(Json(WebhookAnswer { outcome, message_id: moved.map(|m| m.id.0), customers: None }))
}

/// A text a customer sent, forwarded by the SMS provider (signed as the
/// receipts are). Recorded on the one customer whose phone or contact's
/// phone sent it (201); the same provider id again records nothing (200);
/// a number of no customer, or of several, is answered 202 and waits in the inbox for staff to assign.
#[utoipa::path(post, path = "/webhooks/sms/{org_id}/inbound", tag = "sending", security(()), request_body = InboundSms,
    params(("org_id" = String, Path, description = "The org's id"), ("X-Dossier-Signature" = String, Header, description = "sha256=<hex HMAC-SHA256 of the body>")),
    responses((status = 201, description = "Recorded", body = WebhookAnswer), (status = 200, description = "Recorded before", body = WebhookAnswer),
        (status = 202, description = "Accepted into the inbox: the number is no single customer's", body = WebhookAnswer),
        (status = 401, description = "Missing or wrong signature (invalid_signature): nothing changed", body = Problem),
        (status = 413, description = "Body over 64 KiB", body = Problem), (status = 422, description = "Not an inbound text", body = Problem)))]
async fn inbound(State(s): State<AppState>, Path(org): Path<String>, headers: HeaderMap, body: RawBody) -> Result<Response, ApiError> {
    let (signature, bytes) = signed_body(&headers, body).await?;
    let answer = |status: StatusCode, outcome, message_id, customers| (status, Json(WebhookAnswer { outcome, message_id, customers })).into_response();
    Ok(match sms::inbound(&s.db, &org, &bytes, signature.as_deref()).await.map_err(signature_refused)? {
        Inbound::Recorded(message) => answer(StatusCode::CREATED, "recorded", Some(message.id.0), None),
        Inbound::Repeated(id) => answer(StatusCode::OK, "repeated", Some(id.0), None),
        Inbound::Unmatched { customers, .. } => answer(StatusCode::ACCEPTED, "unmatched", None, Some(customers)),
    })
}

//! Emailing customers, and the org's outgoing mail server.

use axum::Json;
use axum::extract::State;
use axum::http::StatusCode;
use axum::response::{IntoResponse, Response};
use dossier_domain::message::Message;
use dossier_domain::sending::email::{EmailInput, MailServerInput, MailSettings};
use dossier_service::sending::email::{self, EmailOutcome, EmailPreview};
use dossier_service::sending::smtp;
use utoipa_axum::router::OpenApiRouter;
use utoipa_axum::routes;

use crate::AppState;
use crate::auth::Caller;
use crate::error::{ApiError, Problem};
use crate::extract::{Body, Path};

pub fn router() -> OpenApiRouter<AppState> {
    OpenApiRouter::new()
        .routes(routes!(send_email))
        .routes(routes!(cancel_delivery))
        .routes(routes!(resend))
        .routes(routes!(get_email_settings, put_email_settings))
}

/// Email a customer: to and cc among the addresses of the customer and its
/// contacts, a subject, a plain-text body, attachments (customer-visible
/// files of the customer, or an invoice, quote or statement PDF made when
/// it is sent), optionally about one of its records. The customer's email
/// preference for the purpose must allow it, or an `override_reason` is
/// given (recorded). With `dry_run` the email is shown, with what allowed
/// it, and nothing is written; else it is queued (201) and sent by the
/// background worker (its `delivery` moves from `queued` to `sent` or
/// `failed`). Fieldworkers may not email customers.
#[utoipa::path(post, path = "/customers/{id}/emails", tag = "messages", params(("id" = String, Path, description = "Customer id or code")),
    request_body = EmailInput,
    responses((status = 201, description = "Queued", body = Message), (status = 200, description = "The preview (dry_run)", body = EmailPreview),
        (status = 403, description = "The role may not write messages, or is a fieldworker's", body = Problem),
        (status = 404, description = "No such customer", body = Problem),
        (status = 409, description = "No outgoing mail server is set (no_mail_server), or the customer is deactivated (customer_deactivated)", body = Problem),
        (status = 422, description = "Invalid input: not_a_contact_address, internal_attachment, internal_message, opted_out (give override_reason), not_found", body = Problem)))]
async fn send_email(State(s): State<AppState>, Caller(ctx): Caller, Path(id): Path<String>, Body(input): Body<EmailInput>) -> Result<Response, ApiError> {
    Ok(match email::compose(&s.db, &ctx, s.smtp.as_ref(), &id, input).await? {
        EmailOutcome::Queued(message) => (StatusCode::CREATED, Json(*message)).into_response(),
        EmailOutcome::Preview(preview) => (StatusCode::OK, Json(*preview)).into_response(),
    })
}

/// Stop a queued, held or failed email or text from being sent: it becomes `cancelled`.
#[utoipa::path(post, path = "/messages/{id}/cancel-delivery", tag = "messages", params(("id" = String, Path)),
    responses((status = 200, description = "Cancelled", body = Message), (status = 404, description = "No such message", body = Problem),
        (status = 409, description = "Not a message Dossier sends (not_sent), or already sent or cancelled (illegal_transition)", body = Problem)))]
async fn cancel_delivery(State(s): State<AppState>, Caller(ctx): Caller, Path(id): Path<String>) -> Result<Json<Message>, ApiError> {
    Ok(Json(email::cancel_delivery(&s.db, &ctx, &id).await?))
}

/// Send a failed email again (the same Message-ID): it is queued.
#[utoipa::path(post, path = "/messages/{id}/resend", tag = "messages", params(("id" = String, Path)),
    responses((status = 200, description = "Queued again", body = Message), (status = 404, description = "No such message", body = Problem),
        (status = 409, description = "Not a failed email (illegal_transition, not_sent)", body = Problem)))]
async fn resend(State(s): State<AppState>, Caller(ctx): Caller, Path(id): Path<String>) -> Result<Json<Message>, ApiError> {
    Ok(Json(email::resend(&s.db, &ctx, &id).await?))
}

/// The outgoing mail server (owners and admins): the org's own, else the
/// installation's. The password is never shown: `password_set` says
/// whether one is stored.
#[utoipa::path(get, path = "/org/email-settings", tag = "org",
    responses((status = 200, description = "The settings", body = MailSettings), (status = 403, description = "Only owners and admins", body = Problem)))]
async fn get_email_settings(State(s): State<AppState>, Caller(ctx): Caller) -> Result<Json<MailSettings>, ApiError> {
    Ok(Json(smtp::settings(&s.db, &ctx, s.smtp.as_ref()).await?))
}

/// Set the org's outgoing mail server (owners and admins). The password is
/// write-only: left out, the stored one stays; `""` removes it.
#[utoipa::path(put, path = "/org/email-settings", tag = "org", request_body = MailServerInput,
    responses((status = 200, description = "The settings", body = MailSettings), (status = 403, description = "Only owners and admins", body = Problem),
        (status = 422, description = "Invalid settings", body = Problem)))]
async fn put_email_settings(State(s): State<AppState>, Caller(ctx): Caller, Body(input): Body<MailServerInput>) -> Result<Json<MailSettings>, ApiError> {
    Ok(Json(smtp::update_settings(&s.db, &ctx, input).await?))
}

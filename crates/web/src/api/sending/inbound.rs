//! Receiving email: the mail server's hook, the inbox of unmatched mail,
//! and the secret the hook is called with.

use axum::Json;
use axum::extract::{Request, State};
use axum::http::{StatusCode, header};
use dossier_domain::sending::inbound::InboxItem;
use dossier_service::ServiceError;
use dossier_service::page::Page;
use dossier_service::sending::inbound::{self, AssignInput, InboundSecret, InboxQuery, Ingested};
use utoipa_axum::router::OpenApiRouter;
use utoipa_axum::routes;

use crate::AppState;
use crate::auth::Caller;
use crate::error::{ApiError, Problem};
use crate::extract::{Body, Params, Path};

pub fn router() -> OpenApiRouter<AppState> {
    // A raw mail is bounded by the handler (25 MiB), not by the default 2 MB.
    let raw = OpenApiRouter::new().routes(routes!(receive_email)).layer(axum::extract::DefaultBodyLimit::disable());
    OpenApiRouter::new().merge(raw).routes(routes!(list_inbox)).routes(routes!(assign)).routes(routes!(dismiss)).routes(routes!(new_secret))
}

/// A raw RFC 5322 message, as bytes.
#[derive(utoipa::ToSchema)]
#[schema(value_type = String, format = Binary)]
struct RawMail(#[allow(dead_code)] Vec<u8>);

/// Hand Dossier one received mail (a mail server's hook). The body is the
/// raw RFC 5322 message (`Content-Type: message/rfc822` or
/// `application/octet-stream`), at most 25 MiB. Authenticate with the org's
/// inbound secret (`Authorization: Bearer dsm_…`, made by an admin at
/// `POST /org/inbound-secret`), not a user's token. The mail is matched by
/// `In-Reply-To`/`References` to a message Dossier sent, else by the sender's
/// address among customers and contacts, else waits in the inbox; a
/// delivery report about a sent message marks it bounced. The same mail sent
/// twice is stored once (`already_received`). Refused mail (nothing kept):
/// 413 `too_large`; 422 `too_nested` (MIME parts deeper than 10),
/// `too_many_attachments` (over 20), `attachment_too_large`, `unreadable_mail`.
#[utoipa::path(post, path = "/inbound/email", tag = "inbound email", security(("inbound_secret" = [])),
    request_body(content = RawMail, content_type = "application/octet-stream", description = "The raw message; `message/rfc822` is taken too"),
    responses((status = 201, description = "Stored: received on a customer, unmatched (in the inbox), or a bounce recorded", body = Ingested),
        (status = 200, description = "Received before: nothing new stored (already_received)", body = Ingested),
        (status = 401, description = "No or a wrong inbound secret", body = Problem),
        (status = 413, description = "Larger than 25 MiB (too_large)", body = Problem),
        (status = 415, description = "Not a raw mail (unsupported_media_type)", body = Problem),
        (status = 422, description = "Refused: too_nested, too_many_attachments, attachment_too_large or unreadable_mail", body = Problem)))]
async fn receive_email(State(s): State<AppState>, request: Request) -> Result<(StatusCode, Json<Ingested>), ApiError> {
    let secret = request
        .headers()
        .get(header::AUTHORIZATION)
        .and_then(|v| v.to_str().ok())
        .and_then(|v| v.trim_start().split_once(' '))
        .filter(|(scheme, _)| scheme.eq_ignore_ascii_case("bearer"))
        .map(|(_, secret)| secret.trim().to_owned())
        .ok_or(ServiceError::Unauthenticated)?;
    let ctx = inbound::authenticate(&s.db, &secret).await?;
    let content_type = request.headers().get(header::CONTENT_TYPE).and_then(|v| v.to_str().ok()).unwrap_or("").to_ascii_lowercase();
    let essence = content_type.split(';').next().unwrap_or("").trim();
    if !["", "message/rfc822", "application/octet-stream", "text/plain"].contains(&essence) {
        let detail = format!("send the raw mail as message/rfc822 or application/octet-stream, not {essence}");
        return Err(ApiError::new(StatusCode::UNSUPPORTED_MEDIA_TYPE, "unsupported_media_type", detail));
    }
    // One byte past the limit is read, so the service says how it was refused.
    let raw = match axum::body::to_bytes(request.into_body(), inbound::MAX_MAIL_BYTES + 1).await {
        Ok(raw) => raw,
        Err(_) => {
            return Err(
                ServiceError::Refused { code: "too_large", message: format!("the mail is larger than {} bytes (25 MiB)", inbound::MAX_MAIL_BYTES) }.into()
            );
        }
    };
    let done = inbound::ingest(&s.db, &s.files, &ctx, &raw).await?;
    let status = if done.outcome == inbound::IngestOutcome::AlreadyReceived { StatusCode::OK } else { StatusCode::CREATED };
    Ok((status, Json(done)))
}

/// Received mail that matched no customer, newest first (`status=open` by
/// default; `assigned`, `dismissed`). Staff who may write messages.
#[utoipa::path(get, path = "/inbox", tag = "inbound email", params(InboxQuery),
    responses((status = 200, description = "One page of the inbox", body = Page<InboxItem>),
        (status = 403, description = "The caller may not write messages to every customer", body = Problem),
        (status = 422, description = "Invalid query", body = Problem)))]
async fn list_inbox(State(s): State<AppState>, Caller(ctx): Caller, Params(query): Params<InboxQuery>) -> Result<Json<Page<InboxItem>>, ApiError> {
    Ok(Json(inbound::list_inbox(&s.db, &ctx, query).await?))
}

/// Give an unmatched mail to a customer: it becomes their received email
/// (its attachments their files), recorded as assigned by the caller. An
/// item assigned or dismissed already answers 409 `inbox_item_decided`; an
/// unknown customer 422 `not_found` on `customer`.
#[utoipa::path(post, path = "/inbox/{id}/assign", tag = "inbound email", params(("id" = String, Path)), request_body = AssignInput,
    responses((status = 201, description = "Assigned: the message it became, and the item", body = Ingested),
        (status = 403, description = "Not allowed", body = Problem), (status = 404, description = "No such item", body = Problem),
        (status = 409, description = "Assigned or dismissed already (inbox_item_decided)", body = Problem),
        (status = 422, description = "No such customer", body = Problem)))]
async fn assign(
    State(s): State<AppState>,
    Caller(ctx): Caller,
    Path(id): Path<String>,
    Body(input): Body<AssignInput>,
) -> Result<(StatusCode, Json<Ingested>), ApiError> {
    Ok((StatusCode::CREATED, Json(inbound::assign(&s.db, &s.files, &ctx, &id, input).await?)))
}

/// Put an unmatched mail aside; recorded on the org's log.
#[utoipa::path(post, path = "/inbox/{id}/dismiss", tag = "inbound email", params(("id" = String, Path)),
    responses((status = 200, description = "Dismissed", body = InboxItem), (status = 403, description = "Not allowed", body = Problem),
        (status = 404, description = "No such item", body = Problem), (status = 409, description = "Assigned or dismissed already (inbox_item_decided)", body = Problem)))]
async fn dismiss(State(s): State<AppState>, Caller(ctx): Caller, Path(id): Path<String>) -> Result<Json<InboxItem>, ApiError> {
    Ok(Json(inbound::dismiss(&s.db, &ctx, &id).await?))
}

/// Make a new inbound secret for the mail server's hook (owners and
/// admins). It is shown once, in this answer; the old one stops working.
#[utoipa::path(post, path = "/org/inbound-secret", tag = "inbound email",
    responses((status = 201, description = "The new secret, shown once", body = InboundSecret),
        (status = 403, description = "Only owners and admins", body = Problem)))]
async fn new_secret(State(s): State<AppState>, Caller(ctx): Caller) -> Result<(StatusCode, Json<InboundSecret>), ApiError> {
    Ok((StatusCode::CREATED, Json(inbound::new_inbound_secret(&s.db, &ctx).await?)))
}

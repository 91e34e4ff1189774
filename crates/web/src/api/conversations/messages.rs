use axum::Json;
use axum::extract::State;
use axum::http::StatusCode;
use dossier_domain::message::{Message, MessageInput, MessagePatch};
use dossier_service::messages::{self, MessageQuery};
use dossier_service::page::Page;
use utoipa_axum::router::OpenApiRouter;
use utoipa_axum::routes;

use crate::AppState;
use crate::auth::Caller;
use crate::error::{ApiError, Problem};
use crate::extract::{Body, Params, Path};

pub fn router() -> OpenApiRouter<AppState> {
    OpenApiRouter::new().routes(routes!(post_message, list_messages)).routes(routes!(get_message, update_message, delete_message))
}

/// Add a note, log a call, or record an email, SMS, WhatsApp message,
/// portal message or letter on a customer (optionally about one of its
/// records). A `customer`-visible message shows in the customer's portal.
#[utoipa::path(post, path = "/customers/{id}/messages", tag = "messages", params(("id" = String, Path, description = "Customer id or code")),
    request_body = MessageInput,
    responses((status = 201, description = "Added", body = Message), (status = 404, description = "No such customer", body = Problem),
        (status = 422, description = "Invalid input, or a contact or record that is not this customer's", body = Problem)))]
async fn post_message(
    State(s): State<AppState>,
    Caller(ctx): Caller,
    Path(id): Path<String>,
    Body(input): Body<MessageInput>,
) -> Result<(StatusCode, Json<Message>), ApiError> {
    Ok((StatusCode::CREATED, Json(messages::post_message(&s.db, &ctx, &id, input).await?)))
}

/// A customer's messages, newest first; deleted ones keep who deleted them and when.
#[utoipa::path(get, path = "/customers/{id}/messages", tag = "messages", params(("id" = String, Path, description = "Customer id or code"), MessageQuery),
    responses((status = 200, description = "One page of messages", body = Page<Message>), (status = 404, description = "No such customer", body = Problem),
        (status = 422, description = "Invalid query", body = Problem)))]
async fn list_messages(
    State(s): State<AppState>,
    Caller(ctx): Caller,
    Path(id): Path<String>,
    Params(query): Params<MessageQuery>,
) -> Result<Json<Page<Message>>, ApiError> {
    Ok(Json(messages::list_messages(&s.db, &ctx, &id, query).await?))
}

/// A message.
#[utoipa::path(get, path = "/messages/{id}", tag = "messages", params(("id" = String, Path)),
    responses((status = 200, description = "The message", body = Message), (status = 404, description = "No such message", body = Problem)))]
async fn get_message(State(s): State<AppState>, Caller(ctx): Caller, Path(id): Path<String>) -> Result<Json<Message>, ApiError> {
    Ok(Json(messages::get_message(&s.db, &ctx, &id).await?))
}

/// Edit a message's subject, body, audience or call details (its author or
/// an admin), or pin or unpin it (anyone who may write messages).
#[utoipa::path(patch, path = "/messages/{id}", tag = "messages", params(("id" = String, Path)), request_body = MessagePatch,
    responses((status = 200, description = "The message as it now is", body = Message), (status = 403, description = "Not its author or an admin", body = Problem),
        (status = 404, description = "No such message", body = Problem), (status = 409, description = "Deleted, or changed by someone else meanwhile", body = Problem),
        (status = 422, description = "Invalid input", body = Problem)))]
async fn update_message(
    State(s): State<AppState>,
    Caller(ctx): Caller,
    Path(id): Path<String>,
    Body(patch): Body<MessagePatch>,
) -> Result<Json<Message>, ApiError> {
    Ok(Json(messages::update_message(&s.db, &ctx, &id, patch).await?))
}

/// Delete a message (its author or an admin): its text goes, a mark of who
/// deleted it and when stays, and its history keeps what it said.
#[utoipa::path(delete, path = "/messages/{id}", tag = "messages", params(("id" = String, Path)),
    responses((status = 204, description = "Deleted"), (status = 403, description = "Not its author or an admin", body = Problem),
        (status = 404, description = "No such message", body = Problem), (status = 409, description = "Deleted already", body = Problem)))]
async fn delete_message(State(s): State<AppState>, Caller(ctx): Caller, Path(id): Path<String>) -> Result<StatusCode, ApiError> {
    messages::delete_message(&s.db, &ctx, &id).await?;
    Ok(StatusCode::NO_CONTENT)
}

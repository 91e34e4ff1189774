use axum::Json;
use axum::extract::State;
use axum::http::StatusCode;
use dossier_domain::contact::{Contact, ContactInput, ContactPatch};
use dossier_service::contacts;
use utoipa_axum::router::OpenApiRouter;
use utoipa_axum::routes;

use crate::AppState;
use crate::auth::Caller;
use crate::error::{ApiError, Problem};
use crate::extract::{Body, Path};

pub fn router() -> OpenApiRouter<AppState> {
    OpenApiRouter::new().routes(routes!(add_contact, list_contacts)).routes(routes!(get_contact, update_contact, delete_contact))
}

/// Add a contact to a customer.
#[utoipa::path(post, path = "/customers/{id}/contacts", tag = "contacts", params(("id" = String, Path, description = "Customer id or code")), request_body = ContactInput,
    responses((status = 201, description = "Created", body = Contact), (status = 404, description = "No such customer", body = Problem),
        (status = 422, description = "Invalid input", body = Problem)))]
async fn add_contact(
    State(s): State<AppState>,
    Caller(ctx): Caller,
    Path(id): Path<String>,
    Body(input): Body<ContactInput>,
) -> Result<(StatusCode, Json<Contact>), ApiError> {
    Ok((StatusCode::CREATED, Json(contacts::add_contact(&s.db, &ctx, &id, input).await?)))
}

/// A customer's contacts, the primary first.
#[utoipa::path(get, path = "/customers/{id}/contacts", tag = "contacts", params(("id" = String, Path, description = "Customer id or code")),
    responses((status = 200, description = "The contacts", body = Vec<Contact>), (status = 404, description = "No such customer", body = Problem)))]
async fn list_contacts(State(s): State<AppState>, Caller(ctx): Caller, Path(id): Path<String>) -> Result<Json<Vec<Contact>>, ApiError> {
    Ok(Json(contacts::list_contacts(&s.db, &ctx, &id).await?))
}

/// A contact.
#[utoipa::path(get, path = "/contacts/{id}", tag = "contacts", params(("id" = String, Path)),
    responses((status = 200, description = "The contact", body = Contact), (status = 404, description = "No such contact", body = Problem)))]
async fn get_contact(State(s): State<AppState>, Caller(ctx): Caller, Path(id): Path<String>) -> Result<Json<Contact>, ApiError> {
    Ok(Json(contacts::get_contact(&s.db, &ctx, &id).await?))
}

/// Change some fields of a contact; lists are replaced whole.
#[utoipa::path(patch, path = "/contacts/{id}", tag = "contacts", params(("id" = String, Path)), request_body = ContactPatch,
    responses((status = 200, description = "The updated contact", body = Contact), (status = 404, description = "No such contact", body = Problem),
        (status = 422, description = "Invalid input", body = Problem)))]
async fn update_contact(
    State(s): State<AppState>,
    Caller(ctx): Caller,
    Path(id): Path<String>,
    Body(patch): Body<ContactPatch>,
) -> Result<Json<Contact>, ApiError> {
    Ok(Json(contacts::update_contact(&s.db, &ctx, &id, patch).await?))
}

/// Delete a contact; its timeline keeps what it was.
#[utoipa::path(delete, path = "/contacts/{id}", tag = "contacts", params(("id" = String, Path)),
    responses((status = 204, description = "Deleted"), (status = 404, description = "No such contact", body = Problem)))]
async fn delete_contact(State(s): State<AppState>, Caller(ctx): Caller, Path(id): Path<String>) -> Result<StatusCode, ApiError> {
    contacts::delete_contact(&s.db, &ctx, &id).await?;
    Ok(StatusCode::NO_CONTENT)
}

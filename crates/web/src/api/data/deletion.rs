//! Deleting a customer (soft), the deleted customers, and restoring one.

use axum::Json;
use axum::extract::State;
use dossier_domain::customer::Customer;
use dossier_domain::data::deletion::DeleteInput;
use dossier_service::deletion::{self, DeletedQuery};
use dossier_service::page::Page;
use utoipa_axum::router::OpenApiRouter;
use utoipa_axum::routes;

use crate::AppState;
use crate::auth::Caller;
use crate::error::{ApiError, Problem};
use crate::extract::{Params, Path};

pub fn router() -> OpenApiRouter<AppState> {
    OpenApiRouter::new().routes(routes!(delete_customer)).routes(routes!(restore_customer)).routes(routes!(list_deleted))
}

/// Delete a customer (owners and admins). It is kept, read-only, out of
/// every list, search and count; its id and code still open it, with
/// `deleted` (who, when, why, restorable until). Every write to it or to
/// what it owns answers 409 `customer_deleted`; its portal links stop
/// working and automations send it nothing. It can be restored for 30 days.
#[utoipa::path(delete, path = "/customers/{id}", tag = "customers", params(("id" = String, Path, description = "Customer id or code"), DeleteInput),
    responses((status = 200, description = "The deleted customer", body = Customer), (status = 403, description = "Not an owner or admin", body = Problem),
        (status = 404, description = "No such customer", body = Problem), (status = 409, description = "Deleted already (`already_deleted`)", body = Problem),
        (status = 422, description = "Reason too long", body = Problem)))]
async fn delete_customer(
    State(s): State<AppState>,
    Caller(ctx): Caller,
    Path(id): Path<String>,
    Params(input): Params<DeleteInput>,
) -> Result<Json<Customer>, ApiError> {
    Ok(Json(deletion::delete_customer(&s.db, &ctx, &id, input).await?))
}

/// Restore a deleted customer as it was (owners and admins), within 30
/// days of its deletion.
#[utoipa::path(post, path = "/customers/{id}/restore", tag = "customers", params(("id" = String, Path, description = "Customer id or code")),
    responses((status = 200, description = "The restored customer", body = Customer), (status = 403, description = "Not an owner or admin", body = Problem),
        (status = 404, description = "No such customer", body = Problem),
        (status = 409, description = "Not deleted (`not_deleted`), or deleted too long ago (`restore_window_ended`)", body = Problem)))]
async fn restore_customer(State(s): State<AppState>, Caller(ctx): Caller, Path(id): Path<String>) -> Result<Json<Customer>, ApiError> {
    Ok(Json(deletion::restore_customer(&s.db, &ctx, &id).await?))
}

/// Deleted customers, most recently deleted first, each with `deleted`
/// (owners and admins).
#[utoipa::path(get, path = "/customers/deleted", tag = "customers", params(DeletedQuery),
    responses((status = 200, description = "One page of deleted customers", body = Page<Customer>), (status = 403, description = "Not an owner or admin", body = Problem),
        (status = 422, description = "Invalid query", body = Problem)))]
async fn list_deleted(State(s): State<AppState>, Caller(ctx): Caller, Params(query): Params<DeletedQuery>) -> Result<Json<Page<Customer>>, ApiError> {
    Ok(Json(deletion::list_deleted(&s.db, &ctx, query).await?))
}

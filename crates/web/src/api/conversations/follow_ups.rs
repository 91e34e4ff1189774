use axum::Json;
use axum::extract::State;
use axum::http::StatusCode;
use dossier_domain::follow_up::{FollowUp, FollowUpChange, FollowUpInput};
use dossier_service::follow_ups::{self, FollowUpQuery};
use dossier_service::page::Page;
use utoipa_axum::router::OpenApiRouter;
use utoipa_axum::routes;

use crate::AppState;
use crate::auth::Caller;
use crate::error::{ApiError, Problem};
use crate::extract::{Body, Params, Path};

pub fn router() -> OpenApiRouter<AppState> {
    OpenApiRouter::new()
        .routes(routes!(create_follow_up, customer_follow_ups))
        .routes(routes!(list_follow_ups))
        .routes(routes!(get_follow_up, change_follow_up))
}

/// Add a follow-up (call back, send the quote, chase the payment) to a
/// customer, optionally about one of its records; assigned to the caller
/// unless `assignee_id` says otherwise.
#[utoipa::path(post, path = "/customers/{id}/follow-ups", tag = "follow-ups", params(("id" = String, Path, description = "Customer id or code")),
    request_body = FollowUpInput,
    responses((status = 201, description = "Added", body = FollowUp), (status = 404, description = "No such customer", body = Problem),
        (status = 422, description = "Invalid input, or an assignee or record that is not this business's or customer's", body = Problem)))]
async fn create_follow_up(
    State(s): State<AppState>,
    Caller(ctx): Caller,
    Path(id): Path<String>,
    Body(input): Body<FollowUpInput>,
) -> Result<(StatusCode, Json<FollowUp>), ApiError> {
    Ok((StatusCode::CREATED, Json(follow_ups::create_follow_up(&s.db, &ctx, &id, input).await?)))
}

/// A customer's follow-ups by due day: the open ones unless `status` says otherwise.
#[utoipa::path(get, path = "/customers/{id}/follow-ups", tag = "follow-ups", params(("id" = String, Path, description = "Customer id or code"), FollowUpQuery),
    responses((status = 200, description = "One page of follow-ups", body = Page<FollowUp>), (status = 404, description = "No such customer", body = Problem),
        (status = 422, description = "Invalid query", body = Problem)))]
async fn customer_follow_ups(
    State(s): State<AppState>,
    Caller(ctx): Caller,
    Path(id): Path<String>,
    Params(query): Params<FollowUpQuery>,
) -> Result<Json<Page<FollowUp>>, ApiError> {
    Ok(Json(follow_ups::customer_follow_ups(&s.db, &ctx, &id, query).await?))
}

/// Follow-ups across customers by due day; by default the caller's open ones
/// (`assignee=anyone` for everyone's; `due=overdue`, `today` or `upcoming`
/// narrows them).
#[utoipa::path(get, path = "/follow-ups", tag = "follow-ups", params(FollowUpQuery),
    responses((status = 200, description = "One page of follow-ups", body = Page<FollowUp>), (status = 422, description = "Invalid query", body = Problem)))]
async fn list_follow_ups(State(s): State<AppState>, Caller(ctx): Caller, Params(query): Params<FollowUpQuery>) -> Result<Json<Page<FollowUp>>, ApiError> {
    Ok(Json(follow_ups::list_follow_ups(&s.db, &ctx, query).await?))
}

/// A follow-up.
#[utoipa::path(get, path = "/follow-ups/{id}", tag = "follow-ups", params(("id" = String, Path)),
    responses((status = 200, description = "The follow-up", body = FollowUp), (status = 404, description = "No such follow-up", body = Problem)))]
async fn get_follow_up(State(s): State<AppState>, Caller(ctx): Caller, Path(id): Path<String>) -> Result<Json<FollowUp>, ApiError> {
    Ok(Json(follow_ups::get_follow_up(&s.db, &ctx, &id).await?))
}

/// Mark a follow-up done or cancelled, or reschedule it (a new due day or assignee).
#[utoipa::path(patch, path = "/follow-ups/{id}", tag = "follow-ups", params(("id" = String, Path)), request_body = FollowUpChange,
    responses((status = 200, description = "The follow-up as it now is", body = FollowUp), (status = 404, description = "No such follow-up", body = Problem),
        (status = 409, description = "Done or cancelled already", body = Problem), (status = 422, description = "Invalid change", body = Problem)))]
async fn change_follow_up(
    State(s): State<AppState>,
    Caller(ctx): Caller,
    Path(id): Path<String>,
    Body(change): Body<FollowUpChange>,
) -> Result<Json<FollowUp>, ApiError> {
    Ok(Json(follow_ups::change_follow_up(&s.db, &ctx, &id, change).await?))
}

use axum::Json;
use axum::extract::State;
use dossier_domain::activity::Activity;
use dossier_service::page::Page;
use dossier_service::timeline::{self, HistoryQuery, StatusHistoryEntry, TimelineQuery};
use utoipa_axum::router::OpenApiRouter;
use utoipa_axum::routes;

use crate::AppState;
use crate::auth::Caller;
use crate::error::{ApiError, Problem};
use crate::extract::{Params, Path};

pub fn router() -> OpenApiRouter<AppState> {
    OpenApiRouter::new()
        .routes(routes!(customer_timeline))
        .routes(routes!(customer_history))
        .routes(routes!(status_history))
        .routes(routes!(site_timeline))
        .routes(routes!(job_timeline))
        .routes(routes!(user_timeline))
}

/// Everything that happened to a customer, its contacts and sites; newest first.
#[utoipa::path(get, path = "/customers/{id}/timeline", tag = "timeline", params(("id" = String, Path, description = "Customer id or code"), TimelineQuery),
    responses((status = 200, description = "One page of the timeline", body = Page<Activity>), (status = 404, description = "No such customer", body = Problem),
        (status = 422, description = "Invalid query", body = Problem)))]
async fn customer_timeline(
    State(s): State<AppState>,
    Caller(ctx): Caller,
    Path(id): Path<String>,
    Params(query): Params<TimelineQuery>,
) -> Result<Json<Page<Activity>>, ApiError> {
    Ok(Json(timeline::customer_timeline(&s.db, &ctx, &id, query).await?))
}

/// Field edits of the customer's profile; newest first.
#[utoipa::path(get, path = "/customers/{id}/history", tag = "timeline", params(("id" = String, Path, description = "Customer id or code"), HistoryQuery),
    responses((status = 200, description = "One page of profile edits", body = Page<Activity>), (status = 404, description = "No such customer", body = Problem)))]
async fn customer_history(
    State(s): State<AppState>,
    Caller(ctx): Caller,
    Path(id): Path<String>,
    Params(query): Params<HistoryQuery>,
) -> Result<Json<Page<Activity>>, ApiError> {
    Ok(Json(timeline::customer_history(&s.db, &ctx, &id, query).await?))
}

/// Every status the customer has had: who, when and why; newest first.
#[utoipa::path(get, path = "/customers/{id}/status-history", tag = "timeline", params(("id" = String, Path, description = "Customer id or code")),
    responses((status = 200, description = "Status history", body = Vec<StatusHistoryEntry>), (status = 404, description = "No such customer", body = Problem)))]
async fn status_history(State(s): State<AppState>, Caller(ctx): Caller, Path(id): Path<String>) -> Result<Json<Vec<StatusHistoryEntry>>, ApiError> {
    Ok(Json(timeline::status_history(&s.db, &ctx, &id).await?))
}

/// One job's history: its moves and the messages about it; newest first.
#[utoipa::path(get, path = "/jobs/{id}/timeline", tag = "timeline", params(("id" = String, Path, description = "Job id or code"), TimelineQuery),
    responses((status = 200, description = "One page of the job's timeline", body = Page<Activity>), (status = 404, description = "No such job", body = Problem),
        (status = 422, description = "Invalid query", body = Problem)))]
async fn job_timeline(
    State(s): State<AppState>,
    Caller(ctx): Caller,
    Path(id): Path<String>,
    Params(query): Params<TimelineQuery>,
) -> Result<Json<Page<Activity>>, ApiError> {
    Ok(Json(timeline::job_timeline(&s.db, &ctx, &id, query).await?))
}

/// One site's history alone; newest first.
#[utoipa::path(get, path = "/sites/{id}/timeline", tag = "timeline", params(("id" = String, Path, description = "Site id"), TimelineQuery),
    responses((status = 200, description = "One page of the site's timeline", body = Page<Activity>), (status = 404, description = "No such site", body = Problem)))]
async fn site_timeline(
    State(s): State<AppState>,
    Caller(ctx): Caller,
    Path(id): Path<String>,
    Params(query): Params<TimelineQuery>,
) -> Result<Json<Page<Activity>>, ApiError> {
    Ok(Json(timeline::site_timeline(&s.db, &ctx, &id, query).await?))
}

/// What happened to a staff user's account, newest first: invitation, role
/// changes, sign-ins, failed sign-ins and lockouts, tokens.
#[utoipa::path(get, path = "/users/{id}/timeline", tag = "timeline", params(("id" = String, Path, description = "User id"), TimelineQuery),
    responses((status = 200, description = "One page of the user's timeline", body = Page<Activity>), (status = 404, description = "No such user", body = Problem),
        (status = 403, description = "Only administrators manage users", body = Problem)))]
async fn user_timeline(
    State(s): State<AppState>,
    Caller(ctx): Caller,
    Path(id): Path<String>,
    Params(query): Params<TimelineQuery>,
) -> Result<Json<Page<Activity>>, ApiError> {
    Ok(Json(timeline::user_timeline(&s.db, &ctx, &id, query).await?))
}

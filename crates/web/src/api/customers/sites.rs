use axum::Json;
use axum::extract::State;
use axum::http::StatusCode;
use dossier_domain::site::{Site, SiteInput, SitePatch};
use dossier_service::sites;
use utoipa_axum::router::OpenApiRouter;
use utoipa_axum::routes;

use crate::AppState;
use crate::auth::Caller;
use crate::error::{ApiError, Problem};
use crate::extract::{Body, Path};

pub fn router() -> OpenApiRouter<AppState> {
    OpenApiRouter::new().routes(routes!(add_site, list_sites)).routes(routes!(get_site, update_site, delete_site))
}

/// Add a site to a customer.
#[utoipa::path(post, path = "/customers/{id}/sites", tag = "sites", params(("id" = String, Path, description = "Customer id or code")), request_body = SiteInput,
    responses((status = 201, description = "Created", body = Site), (status = 404, description = "No such customer", body = Problem),
        (status = 422, description = "Invalid input", body = Problem)))]
async fn add_site(
    State(s): State<AppState>,
    Caller(ctx): Caller,
    Path(id): Path<String>,
    Body(input): Body<SiteInput>,
) -> Result<(StatusCode, Json<Site>), ApiError> {
    Ok((StatusCode::CREATED, Json(sites::add_site(&s.db, &ctx, &id, input).await?)))
}

/// A customer's sites.
#[utoipa::path(get, path = "/customers/{id}/sites", tag = "sites", params(("id" = String, Path, description = "Customer id or code")),
    responses((status = 200, description = "The sites", body = Vec<Site>), (status = 404, description = "No such customer", body = Problem)))]
async fn list_sites(State(s): State<AppState>, Caller(ctx): Caller, Path(id): Path<String>) -> Result<Json<Vec<Site>>, ApiError> {
    Ok(Json(sites::list_sites(&s.db, &ctx, &id).await?))
}

/// A site.
#[utoipa::path(get, path = "/sites/{id}", tag = "sites", params(("id" = String, Path)),
    responses((status = 200, description = "The site", body = Site), (status = 404, description = "No such site", body = Problem)))]
async fn get_site(State(s): State<AppState>, Caller(ctx): Caller, Path(id): Path<String>) -> Result<Json<Site>, ApiError> {
    Ok(Json(sites::get_site(&s.db, &ctx, &id).await?))
}

/// Change some fields of a site.
#[utoipa::path(patch, path = "/sites/{id}", tag = "sites", params(("id" = String, Path)), request_body = SitePatch,
    responses((status = 200, description = "The updated site", body = Site), (status = 404, description = "No such site", body = Problem),
        (status = 422, description = "Invalid input", body = Problem)))]
async fn update_site(State(s): State<AppState>, Caller(ctx): Caller, Path(id): Path<String>, Body(patch): Body<SitePatch>) -> Result<Json<Site>, ApiError> {
    Ok(Json(sites::update_site(&s.db, &ctx, &id, patch).await?))
}

/// Delete a site; its timeline keeps what it was.
#[utoipa::path(delete, path = "/sites/{id}", tag = "sites", params(("id" = String, Path)),
    responses((status = 204, description = "Deleted"), (status = 404, description = "No such site", body = Problem)))]
async fn delete_site(State(s): State<AppState>, Caller(ctx): Caller, Path(id): Path<String>) -> Result<StatusCode, ApiError> {
    sites::delete_site(&s.db, &ctx, &id).await?;
    Ok(StatusCode::NO_CONTENT)
}

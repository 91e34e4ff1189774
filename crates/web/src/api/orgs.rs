//! The org's settings and logo.

use axum::Json;
use axum::body::Bytes;
use axum::extract::State;
use axum::http::{StatusCode, header};
use axum::response::{IntoResponse, Response};
use dossier_domain::orgs::{OrgSettings, OrgSettingsInput};
use dossier_service::{ServiceError, orgs};
use utoipa_axum::router::OpenApiRouter;
use utoipa_axum::routes;

use crate::AppState;
use crate::auth::Caller;
use crate::error::{ApiError, Problem};
use crate::extract::Body;

pub fn router() -> OpenApiRouter<AppState> {
    OpenApiRouter::new().routes(routes!(get_settings, update_settings)).routes(routes!(get_logo, set_logo, remove_logo))
}

/// The org's settings: name and address (printed on documents), currency
/// and its minor units, time zone, date and number formats, default payment
/// terms, tax rates and the next number of each series.
#[utoipa::path(get, path = "/org/settings", tag = "org",
    responses((status = 200, description = "The settings", body = OrgSettings), (status = 403, description = "A fieldworker does not read them", body = Problem)))]
async fn get_settings(State(s): State<AppState>, Caller(ctx): Caller) -> Result<Json<OrgSettings>, ApiError> {
    Ok(Json(orgs::settings(&s.db, &ctx).await?))
}

/// Change settings (owners and admins): fields left out stay as they are.
/// The currency is fixed once the org holds amounts (409
/// `currency_locked`); a series' next number must be above the last number
/// issued (422 `below_issued`).
#[utoipa::path(patch, path = "/org/settings", tag = "org", request_body = OrgSettingsInput,
    responses((status = 200, description = "The settings after the change", body = OrgSettings),
        (status = 403, description = "Only owners and admins change settings", body = Problem),
        (status = 409, description = "The currency is in use (currency_locked)", body = Problem), (status = 422, description = "Invalid settings", body = Problem)))]
async fn update_settings(State(s): State<AppState>, Caller(ctx): Caller, Body(input): Body<OrgSettingsInput>) -> Result<Json<OrgSettings>, ApiError> {
    Ok(Json(orgs::update_settings(&s.db, &ctx, input).await?))
}

/// An image's bytes.
#[derive(utoipa::ToSchema)]
#[schema(value_type = String, format = Binary)]
struct Image(#[allow(dead_code)] Vec<u8>);

/// The org's logo, as stored (PNG or JPEG).
#[utoipa::path(get, path = "/org/logo", tag = "org",
    responses((status = 200, description = "The logo, sent with its own type (image/png or image/jpeg)", content_type = "application/octet-stream", body = Image), (status = 404, description = "No logo is set", body = Problem)))]
async fn get_logo(State(s): State<AppState>, Caller(ctx): Caller) -> Result<Response, ApiError> {
    let logo = orgs::logo(&s.db, ctx.org.id).await?.ok_or(ServiceError::NotFound("logo"))?;
    // As documented: the picture's bytes, whatever its type (PNG or JPEG).
    Ok(([(header::CONTENT_TYPE, "application/octet-stream".to_owned())], logo.bytes).into_response())
}

/// Set the logo (owners and admins): the request body is a PNG or JPEG of at
/// most 512 KiB. Invoices, quotes, statements and the portal show it.
#[utoipa::path(put, path = "/org/logo", tag = "org", request_body(content = Image, content_type = "application/octet-stream"),
    responses((status = 200, description = "Set", body = OrgSettings), (status = 403, description = "Only owners and admins change settings", body = Problem),
        (status = 422, description = "Not a PNG or JPEG (unsupported_image), or too large", body = Problem)))]
async fn set_logo(State(s): State<AppState>, Caller(ctx): Caller, body: Bytes) -> Result<Json<OrgSettings>, ApiError> {
    Ok(Json(orgs::set_logo(&s.db, &ctx, Some(body.to_vec())).await?))
}

/// Remove the logo.
#[utoipa::path(delete, path = "/org/logo", tag = "org",
    responses((status = 204, description = "Removed"), (status = 403, description = "Only owners and admins change settings", body = Problem)))]
async fn remove_logo(State(s): State<AppState>, Caller(ctx): Caller) -> Result<StatusCode, ApiError> {
    orgs::set_logo(&s.db, &ctx, None).await?;
    Ok(StatusCode::NO_CONTENT)
}

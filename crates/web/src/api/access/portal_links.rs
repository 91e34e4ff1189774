//! Staff side of the customer portal: making, listing and revoking links.

use axum::Json;
use axum::extract::State;
use axum::http::StatusCode;
use dossier_service::portal::{self, CreatedPortalLink, PortalLink, PortalLinkInput};
use dossier_service::sending::portal_links;
use utoipa_axum::router::OpenApiRouter;
use utoipa_axum::routes;

use crate::AppState;
use crate::auth::Caller;
use crate::error::{ApiError, Problem};
use crate::extract::{Body, Path};

pub fn router() -> OpenApiRouter<AppState> {
    OpenApiRouter::new().routes(routes!(create_link, list_links)).routes(routes!(revoke_link))
}

/// Make a portal link for the customer, to send or copy to them: it shows
/// their invoices, statement and messages, and lets them update their
/// billing address and contact details. It works for 30 days unless told
/// otherwise; the URL is in this answer only. With `email`, the link is
/// also emailed to the customer with the org's portal-link template (the
/// absolute URL, after the server's public address), in the same
/// transaction; the queued email is in `message`.
#[utoipa::path(post, path = "/customers/{id}/portal-links", tag = "portal", params(("id" = String, Path, description = "Customer id or code")),
    request_body = PortalLinkInput,
    responses((status = 201, description = "Created", body = CreatedPortalLink), (status = 404, description = "No such customer", body = Problem),
        (status = 409, description = "No outgoing mail server, or a deactivated customer", body = Problem),
        (status = 422, description = "Invalid input, or opted out of service email without an override reason", body = Problem)))]
async fn create_link(
    State(s): State<AppState>,
    Caller(ctx): Caller,
    Path(id): Path<String>,
    Body(input): Body<PortalLinkInput>,
) -> Result<(StatusCode, Json<CreatedPortalLink>), ApiError> {
    Ok((StatusCode::CREATED, Json(portal_links::create(&s.db, &ctx, s.smtp.as_ref(), &s.public_url, &id, input).await?)))
}

/// The customer's portal links, newest first, with when each was last used.
#[utoipa::path(get, path = "/customers/{id}/portal-links", tag = "portal", params(("id" = String, Path, description = "Customer id or code")),
    responses((status = 200, description = "The links", body = Vec<PortalLink>), (status = 404, description = "No such customer", body = Problem)))]
async fn list_links(State(s): State<AppState>, Caller(ctx): Caller, Path(id): Path<String>) -> Result<Json<Vec<PortalLink>>, ApiError> {
    Ok(Json(portal::list_links(&s.db, &ctx, &id).await?))
}

/// Revoke a portal link: it stops working at once.
#[utoipa::path(delete, path = "/portal-links/{id}", tag = "portal", params(("id" = String, Path)),
    responses((status = 200, description = "The revoked link", body = PortalLink), (status = 404, description = "No such link", body = Problem),
        (status = 409, description = "Its customer is deleted (customer_deleted): its links already do not work", body = Problem)))]
async fn revoke_link(State(s): State<AppState>, Caller(ctx): Caller, Path(id): Path<String>) -> Result<Json<PortalLink>, ApiError> {
    Ok(Json(portal::revoke_link(&s.db, &ctx, &id).await?))
}

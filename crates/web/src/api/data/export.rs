use axum::extract::State;
use axum::response::Response;
use dossier_service::data::{customer_export, export};
use dossier_service::{Ctx, ServiceError};
use utoipa_axum::router::OpenApiRouter;
use utoipa_axum::routes;

use super::lists::spooled_response;
use crate::AppState;
use crate::auth::Caller;
use crate::error::{ApiError, Problem};
use crate::extract::Path;

pub fn router() -> OpenApiRouter<AppState> {
    OpenApiRouter::new().routes(routes!(export_org)).routes(routes!(export_customer))
}

/// A ZIP file, as bytes.
#[derive(utoipa::ToSchema)]
#[schema(value_type = String, format = Binary)]
pub(crate) struct Zip(#[allow(dead_code)] Vec<u8>);

/// A full export of the org (owners and admins): every table as JSON Lines
/// and CSV, every file, and a manifest with the activity chain's head, as a
/// ZIP file. Verify it offline with `dossier audit verify --export`; load it
/// into another database with `dossier import --export` (see
/// docs/postgresql.md).
#[utoipa::path(get, path = "/org/export", tag = "org",
    responses((status = 200, description = "The export", content_type = "application/zip", body = Zip),
        (status = 403, description = "Only owners and admins export", body = Problem)))]
async fn export_org(State(s): State<AppState>, Caller(ctx): Caller) -> Result<Response, ApiError> {
    Ok(export_response(&s, &ctx).await?)
}

/// The caller's org's export, written to a temporary file and sent from it.
pub(crate) async fn export_response(s: &AppState, ctx: &Ctx) -> Result<Response, ServiceError> {
    let (file, size) = export::export_own_org_spooled(&s.db, &s.files.blobs, ctx).await?;
    Ok(spooled_response(file, size, "application/zip", &format!("dossier-export-{}.zip", ctx.today())))
}

/// Everything about one customer (a data-subject access request; owners
/// and admins): profile, contacts, sites, works, money, messages, files
/// with their content, and their timeline, as JSON files, with
/// `index.html`, a readable summary. Deleted customers export too; an
/// erased one exports what is left. The export is recorded in the
/// customer's history (`customer.data_exported`).
#[utoipa::path(get, path = "/customers/{id}/export", tag = "customers", params(("id" = String, Path, description = "Customer id or code")),
    responses((status = 200, description = "The customer's data", content_type = "application/zip", body = Zip),
        (status = 403, description = "Only owners and admins export a customer's data", body = Problem),
        (status = 404, description = "No such customer", body = Problem)))]
async fn export_customer(State(s): State<AppState>, Caller(ctx): Caller, Path(id): Path<String>) -> Result<Response, ApiError> {
    Ok(customer_export_response(&s, &ctx, &id).await?)
}

/// One customer's export, written to a temporary file and sent from it.
pub(crate) async fn customer_export_response(s: &AppState, ctx: &Ctx, reference: &str) -> Result<Response, ServiceError> {
    let (file, size, export) = customer_export::export_customer_spooled(&s.db, &s.files.blobs, ctx, reference).await?;
    Ok(spooled_response(file, size, "application/zip", &format!("{}-data-{}.zip", export.code, ctx.today())))
}

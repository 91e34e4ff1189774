use axum::body::Body;
use axum::extract::State;
use axum::http::{HeaderValue, header};
use axum::response::{IntoResponse, Response};
use dossier_service::data::export;
use dossier_service::{Ctx, ServiceError};
use utoipa_axum::router::OpenApiRouter;
use utoipa_axum::routes;

use crate::AppState;
use crate::auth::Caller;
use crate::error::{ApiError, Problem};

pub fn router() -> OpenApiRouter<AppState> {
    OpenApiRouter::new().routes(routes!(export_org))
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
    let mut response = Body::from_stream(tokio_util::io::ReaderStream::new(tokio::fs::File::from_std(file))).into_response();
    let headers = response.headers_mut();
    headers.insert(header::CONTENT_TYPE, HeaderValue::from_static("application/zip"));
    headers.insert(header::CONTENT_LENGTH, HeaderValue::from(size));
    let name = format!("dossier-export-{}.zip", ctx.today());
    if let Ok(value) = HeaderValue::from_str(&format!("attachment; filename=\"{name}\"")) {
        headers.insert(header::CONTENT_DISPOSITION, value);
    }
    headers.insert(header::CACHE_CONTROL, HeaderValue::from_static("no-store"));
    Ok(response)
}

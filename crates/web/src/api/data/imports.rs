//! Imports of customers from a file, step by step: upload, dry run,
//! import, each step's progress and report, and the template.

use axum::Json;
use axum::body::Body;
use axum::extract::{Request, State};
use axum::http::StatusCode;
use axum::response::Response;
use dossier_domain::ValidationErrors;
use dossier_service::ServiceError;
use dossier_service::data::import::{self, MappingInput};
use dossier_service::data::import_runs::{self, ImportRun};
use serde::Serialize;
use utoipa_axum::router::OpenApiRouter;
use utoipa_axum::routes;

use crate::AppState;
use crate::auth::Caller;
use crate::downloads::attachment;
use crate::error::{ApiError, Problem};
use crate::extract::{Body as JsonBody, Path};

pub fn router() -> OpenApiRouter<AppState> {
    OpenApiRouter::new()
        .routes(routes!(upload_import, list_imports))
        .routes(routes!(get_import))
        .routes(routes!(check_import))
        .routes(routes!(start_import))
        .routes(routes!(import_report))
        .routes(routes!(import_template))
        // An upload is bounded part by part (crate::uploads), not as one body.
        .layer(axum::extract::DefaultBodyLimit::disable())
}

/// An import's upload form.
#[derive(utoipa::ToSchema)]
#[allow(dead_code)]
struct ImportUpload {
    /// One CSV (UTF-8 with or without BOM, UTF-16, Windows-1252; `,` `;` or
    /// tab) or XLSX file, its first row naming the columns, within the
    /// upload size limit (default 25 MB).
    #[schema(value_type = String, format = Binary)]
    file: Vec<u8>,
}

/// A CSV document, as text.
#[derive(utoipa::ToSchema)]
#[schema(value_type = String)]
struct Csv(#[allow(dead_code)] String);

/// The org's latest imports.
#[derive(Serialize, utoipa::ToSchema)]
struct Imports {
    items: Vec<ImportRun>,
}

/// Upload a file to import customers from (with their first contact and
/// site). Answers the import, `uploaded`, with the file's first rows and a
/// suggested `mapping`; nothing is imported yet. Needs the permissions to
/// create and to export customers.
#[utoipa::path(post, path = "/imports", tag = "imports", request_body(content = ImportUpload, content_type = "multipart/form-data"),
    responses((status = 201, description = "Uploaded", body = ImportRun), (status = 403, description = "May not import", body = Problem),
        (status = 413, description = "Larger than the upload limit (file_too_large)", body = Problem),
        (status = 422, description = "No file, more than one, not CSV or XLSX, or unreadable (its code says why)", body = Problem)))]
async fn upload_import(State(s): State<AppState>, Caller(ctx): Caller, request: Request) -> Result<(StatusCode, Json<ImportRun>), ApiError> {
    let mut received = crate::uploads::receive(&s.files, request).await?;
    if received.uploads.len() != 1 {
        return Err(ServiceError::from(ValidationErrors::one("file", "one_file", "send exactly one file")).into());
    }
    let upload = received.uploads.remove(0);
    Ok((StatusCode::CREATED, Json(import_runs::upload(&s.db, &s.files, &ctx, upload).await?)))
}

/// The org's latest 20 imports through the API or the web app, newest first.
#[utoipa::path(get, path = "/imports", tag = "imports",
    responses((status = 200, description = "The imports", body = Imports), (status = 403, description = "May not import", body = Problem)))]
async fn list_imports(State(s): State<AppState>, Caller(ctx): Caller) -> Result<Json<Imports>, ApiError> {
    Ok(Json(Imports { items: import_runs::list_imports(&s.db, &ctx).await? }))
}

/// An import: where it stands, its progress (rows per second and seconds
/// left while it runs) and its last report's counts and first rows.
#[utoipa::path(get, path = "/imports/{id}", tag = "imports", params(("id" = String, Path)),
    responses((status = 200, description = "The import", body = ImportRun), (status = 403, description = "May not import", body = Problem),
        (status = 404, description = "No such import", body = Problem)))]
async fn get_import(State(s): State<AppState>, Caller(ctx): Caller, Path(id): Path<String>) -> Result<Json<ImportRun>, ApiError> {
    Ok(Json(import_runs::get_import(&s.db, &ctx, &id).await?))
}

/// Start the dry run with a mapping: one entry per column of the file — a
/// column name (see the template), `cf.<key>` for a customer custom field,
/// `keep` to keep the column as a new text custom field named after its
/// header (made when the import runs), or null to ignore it. The worker
/// checks every row and writes nothing; the report then says, per row and
/// column, what would not be imported and why.
#[utoipa::path(post, path = "/imports/{id}/dry-run", tag = "imports", params(("id" = String, Path)), request_body = MappingInput,
    responses((status = 202, description = "Queued", body = ImportRun), (status = 403, description = "May not import", body = Problem),
        (status = 404, description = "No such import", body = Problem), (status = 409, description = "Running or done already (`import_not_checkable`)", body = Problem),
        (status = 422, description = "A mapping that does not fit the file", body = Problem)))]
async fn check_import(
    State(s): State<AppState>,
    Caller(ctx): Caller,
    Path(id): Path<String>,
    JsonBody(mapping): JsonBody<MappingInput>,
) -> Result<(StatusCode, Json<ImportRun>), ApiError> {
    Ok((StatusCode::ACCEPTED, Json(import_runs::check(&s.db, &ctx, &id, mapping).await?)))
}

/// Import the valid rows, with the dry run's mapping, in batches of one
/// transaction each. Rows imported before (same reference, or the same
/// row) are skipped, so running a file again creates nothing new.
#[utoipa::path(post, path = "/imports/{id}/run", tag = "imports", params(("id" = String, Path)),
    responses((status = 202, description = "Queued", body = ImportRun), (status = 403, description = "May not import", body = Problem),
        (status = 404, description = "No such import", body = Problem),
        (status = 409, description = "No dry run yet, or imported already (`import_not_checked`)", body = Problem)))]
async fn start_import(State(s): State<AppState>, Caller(ctx): Caller, Path(id): Path<String>) -> Result<(StatusCode, Json<ImportRun>), ApiError> {
    Ok((StatusCode::ACCEPTED, Json(import_runs::start(&s.db, &ctx, &id).await?)))
}

/// The last report of an import as CSV: one line per issue or warning
/// (row, status, customer, column, code, message) and one per imported row.
#[utoipa::path(get, path = "/imports/{id}/report.csv", tag = "imports", params(("id" = String, Path)),
    responses((status = 200, description = "The report", content_type = "text/csv", body = Csv), (status = 403, description = "May not import", body = Problem),
        (status = 404, description = "No such import", body = Problem),
        (status = 409, description = "No report yet (`no_report`)", body = Problem)))]
async fn import_report(State(s): State<AppState>, Caller(ctx): Caller, Path(id): Path<String>) -> Result<Response, ApiError> {
    let (name, content) = import_runs::report_csv(&s.db, &s.files, &ctx, &id).await?;
    let body = Body::from_stream(tokio_util::io::ReaderStream::new(content.reader));
    Ok(attachment("text/csv; charset=utf-8", &name, body, Some(content.size)))
}

/// The import template: every column's name (the org's customer fields
/// too) and an example row.
#[utoipa::path(get, path = "/imports/template.csv", tag = "imports",
    responses((status = 200, description = "The template", content_type = "text/csv", body = Csv), (status = 403, description = "May not import", body = Problem)))]
async fn import_template(State(s): State<AppState>, Caller(ctx): Caller) -> Result<Response, ApiError> {
    let csv = import::template_csv(&s.db, &ctx).await?;
    Ok(attachment("text/csv; charset=utf-8", "dossier-import-template.csv", Body::from(csv), None))
}

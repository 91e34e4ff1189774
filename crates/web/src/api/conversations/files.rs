//! Files: upload (multipart), list, details, content, delete.

use axum::Json;
use axum::extract::{Request, State};
use axum::http::StatusCode;
use axum::response::Response;
use dossier_domain::file::StoredFile;
use dossier_service::files::{self, AttachTo, FileQuery};
use dossier_service::page::Page;
use serde::{Deserialize, Serialize};
use utoipa_axum::router::OpenApiRouter;
use utoipa_axum::routes;

use crate::AppState;
use crate::auth::Caller;
use crate::downloads::file_response;
use crate::error::{ApiError, Problem};
use crate::extract::{Params, Path};

pub fn router() -> OpenApiRouter<AppState> {
    OpenApiRouter::new()
        .routes(routes!(upload_files, list_files))
        .routes(routes!(get_file, delete_file))
        .routes(routes!(file_content))
        .routes(routes!(file_thumbnail))
        // An upload is bounded part by part (crate::uploads), not as one body.
        .layer(axum::extract::DefaultBodyLimit::disable())
}

/// An upload form: where the files go, and the files.
#[derive(utoipa::ToSchema)]
#[allow(dead_code)]
struct UploadForm {
    /// With `record`: the kind of record the files are for.
    record_type: Option<dossier_domain::message::RecordType>,
    /// The record's id, or its code (`BOK-00012`).
    record: Option<String>,
    /// A message the files came with (its author or an admin): they take its record and audience.
    message_id: Option<String>,
    /// `customer` shares files on an invoice in the portal; default `internal`.
    visibility: Option<dossier_domain::activity::Visibility>,
    /// One to ten files, each within the size limit (default 25 MB).
    #[schema(value_type = Vec<String>, format = Binary)]
    file: Vec<Vec<u8>>,
}

/// A file's content, as bytes.
#[derive(utoipa::ToSchema)]
#[schema(value_type = String, format = Binary)]
struct Content(#[allow(dead_code)] Vec<u8>);

/// The files an upload added.
#[derive(Serialize, utoipa::ToSchema)]
struct Uploaded {
    items: Vec<StoredFile>,
}

/// Attach files to a customer, or to one of their records or messages:
/// photos, PDFs, signed job cards, documents. Send `multipart/form-data`
/// with the text fields first and one `file` part per file. The type is
/// read from the content: a name whose extension says otherwise, or a type
/// not accepted (HTML, SVG, unknown binaries by default), is refused; a
/// file over the size limit answers 413 `file_too_large`. All or none are
/// kept. Idempotency-Key is not taken on uploads.
#[utoipa::path(post, path = "/customers/{id}/files", tag = "files", params(("id" = String, Path, description = "Customer id or code")),
    request_body(content = UploadForm, content_type = "multipart/form-data"),
    responses((status = 201, description = "Added", body = Uploaded), (status = 404, description = "No such customer", body = Problem),
        (status = 413, description = "A file is larger than the limit (file_too_large)", body = Problem),
        (status = 422, description = "No file, too many, a refused or mislabelled type, or a record or message that is not this customer's", body = Problem)))]
async fn upload_files(
    State(s): State<AppState>,
    Caller(ctx): Caller,
    Path(id): Path<String>,
    request: Request,
) -> Result<(StatusCode, Json<Uploaded>), ApiError> {
    let received = crate::uploads::receive(&s.files, request).await?;
    let to: AttachTo = received.form()?;
    let items = files::attach(&s.db, &s.files, &ctx, &id, to, received.uploads).await?;
    Ok((StatusCode::CREATED, Json(Uploaded { items })))
}

/// A customer's files, newest first; deleted ones keep who deleted them and when.
#[utoipa::path(get, path = "/customers/{id}/files", tag = "files", params(("id" = String, Path, description = "Customer id or code"), FileQuery),
    responses((status = 200, description = "One page of files", body = Page<StoredFile>), (status = 404, description = "No such customer", body = Problem),
        (status = 422, description = "Invalid query", body = Problem)))]
async fn list_files(
    State(s): State<AppState>,
    Caller(ctx): Caller,
    Path(id): Path<String>,
    Params(query): Params<FileQuery>,
) -> Result<Json<Page<StoredFile>>, ApiError> {
    Ok(Json(files::list_files(&s.db, &ctx, &id, query).await?))
}

/// A file's details.
#[utoipa::path(get, path = "/files/{id}", tag = "files", params(("id" = String, Path)),
    responses((status = 200, description = "The file", body = StoredFile), (status = 404, description = "No such file", body = Problem)))]
async fn get_file(State(s): State<AppState>, Caller(ctx): Caller, Path(id): Path<String>) -> Result<Json<StoredFile>, ApiError> {
    Ok(Json(files::get_file(&s.db, &ctx, &id).await?))
}

/// How to send a file.
#[derive(Deserialize, utoipa::IntoParams)]
#[serde(deny_unknown_fields)]
#[into_params(parameter_in = Query)]
pub struct ContentQuery {
    /// Save it rather than show it (pictures and PDFs open in the browser otherwise).
    pub download: Option<bool>,
}

/// A file's content. Pictures and PDFs are sent with their type to open in
/// the browser; anything else as `application/octet-stream` to save.
#[utoipa::path(get, path = "/files/{id}/content", tag = "files", params(("id" = String, Path), ContentQuery),
    responses((status = 200, description = "The content", content_type = "application/octet-stream", body = Content),
        (status = 404, description = "No such file", body = Problem), (status = 409, description = "Deleted (file_deleted)", body = Problem)))]
async fn file_content(
    State(s): State<AppState>,
    Caller(ctx): Caller,
    Path(id): Path<String>,
    Params(query): Params<ContentQuery>,
) -> Result<Response, ApiError> {
    let (file, content) = files::open_file(&s.db, &s.files, &ctx, &id).await?;
    Ok(file_response(&file, content, query.download == Some(true)))
}

/// A picture's thumbnail: a JPEG at most 320 pixels a side (404 when the
/// file has none: not a picture, or one small enough already).
#[utoipa::path(get, path = "/files/{id}/thumbnail", tag = "files", params(("id" = String, Path)),
    responses((status = 200, description = "The thumbnail", content_type = "image/jpeg", body = Content),
        (status = 404, description = "No such file, or no thumbnail", body = Problem)))]
async fn file_thumbnail(State(s): State<AppState>, Caller(ctx): Caller, Path(id): Path<String>) -> Result<Response, ApiError> {
    let (file, content) = files::open_thumbnail(&s.db, &s.files, &ctx, &id).await?;
    Ok(file_response(&file, content, false))
}

/// Delete a file (its uploader or an admin): a mark of who deleted it and
/// when stays; the content goes once nothing else names it.
#[utoipa::path(delete, path = "/files/{id}", tag = "files", params(("id" = String, Path)),
    responses((status = 204, description = "Deleted"), (status = 403, description = "Not its uploader or an admin", body = Problem),
        (status = 404, description = "No such file", body = Problem), (status = 409, description = "Deleted already", body = Problem)))]
async fn delete_file(State(s): State<AppState>, Caller(ctx): Caller, Path(id): Path<String>) -> Result<StatusCode, ApiError> {
    files::delete_file(&s.db, &ctx, &id).await?;
    Ok(StatusCode::NO_CONTENT)
}

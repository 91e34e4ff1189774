//! Documents as PDF: invoices and quotes (the statement is the customer's).

use axum::extract::State;
use axum::http::header;
use axum::response::IntoResponse;
use dossier_service::documents;
use utoipa_axum::router::OpenApiRouter;
use utoipa_axum::routes;

use crate::AppState;
use crate::auth::Caller;
use crate::error::{ApiError, Problem};
use crate::extract::Path;

pub fn router() -> OpenApiRouter<AppState> {
    OpenApiRouter::new().routes(routes!(invoice_pdf)).routes(routes!(quote_pdf))
}

/// A PDF file, as bytes (not an array of numbers, which `Vec<u8>` would document).
#[derive(utoipa::ToSchema)]
#[schema(value_type = String, format = Binary)]
pub(crate) struct Pdf(#[allow(dead_code)] Vec<u8>);

/// A PDF answer, shown in the browser, saved as `name` (a record's code).
pub(crate) fn pdf(name: &str, bytes: Vec<u8>) -> impl IntoResponse + use<> {
    let disposition = format!("inline; filename=\"{}.pdf\"", name.replace(|c: char| !c.is_ascii_alphanumeric() && c != '-', "_"));
    ([(header::CONTENT_TYPE, "application/pdf".to_owned()), (header::CONTENT_DISPOSITION, disposition)], bytes)
}

/// An invoice as a PDF: letterhead, billing address, lines, tax, totals,
/// due date and how to pay. A draft prints as a draft.
#[utoipa::path(get, path = "/invoices/{id}/pdf", tag = "invoices", params(("id" = String, Path, description = "Invoice id or code")),
    responses((status = 200, description = "The invoice", content_type = "application/pdf", body = Pdf),
        (status = 404, description = "No such invoice", body = Problem)))]
async fn invoice_pdf(State(s): State<AppState>, Caller(ctx): Caller, Path(id): Path<String>) -> Result<impl IntoResponse, ApiError> {
    Ok(pdf(&id, documents::invoice_pdf(&s.db, &ctx, &id).await?))
}

/// A quote as a PDF: letterhead, billing address, lines, tax, totals and validity.
#[utoipa::path(get, path = "/quotes/{id}/pdf", tag = "quotes", params(("id" = String, Path, description = "Quote id or code")),
    responses((status = 200, description = "The quote", content_type = "application/pdf", body = Pdf),
        (status = 404, description = "No such quote", body = Problem)))]
async fn quote_pdf(State(s): State<AppState>, Caller(ctx): Caller, Path(id): Path<String>) -> Result<impl IntoResponse, ApiError> {
    Ok(pdf(&id, documents::quote_pdf(&s.db, &ctx, &id).await?))
}

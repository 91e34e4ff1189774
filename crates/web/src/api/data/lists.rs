//! Lists as CSV: every list endpoint (`/customers`, `/inquiries`,
//! `/quotes`, `/jobs`, `/invoices`, `/payments`, `/credit-notes`) answers
//! `text/csv` when the request's `Accept` header asks for it, with the same
//! filters and every matching row (see `dossier_service::data::lists`).

use axum::body::Body;
use axum::http::request::Parts;
use axum::http::{HeaderValue, header};
use axum::response::{IntoResponse, Response};
use dossier_service::data::lists::{self, ListCsv};
use dossier_service::{Ctx, ServiceError};

use crate::AppState;

/// Whether the request asks for CSV: `Accept: text/csv`.
pub(crate) struct WantsCsv(pub bool);

impl<S: Send + Sync> axum::extract::FromRequestParts<S> for WantsCsv {
    type Rejection = std::convert::Infallible;

    async fn from_request_parts(parts: &mut Parts, _: &S) -> Result<Self, Self::Rejection> {
        let csv = parts.headers.get_all(header::ACCEPT).iter().filter_map(|v| v.to_str().ok()).flat_map(|v| v.split(',')).any(|media| {
            let media = media.split(';').next().unwrap_or_default().trim();
            media.eq_ignore_ascii_case("text/csv")
        });
        Ok(WantsCsv(csv))
    }
}

/// Every row of `list` as a CSV download.
pub(crate) async fn csv_response(s: &AppState, ctx: &Ctx, list: ListCsv) -> Result<Response, ServiceError> {
    let name = format!("{}-{}.csv", list.name(), ctx.today());
    let csv = lists::list_csv(&s.db, ctx, list).await?;
    Ok(spooled_response(csv.file, csv.size, "text/csv; charset=utf-8", &name))
}

/// A file written to a temporary file, sent from it as a download named `name`.
pub(crate) fn spooled_response(file: std::fs::File, size: u64, content_type: &'static str, name: &str) -> Response {
    let mut response = Body::from_stream(tokio_util::io::ReaderStream::new(tokio::fs::File::from_std(file))).into_response();
    let headers = response.headers_mut();
    headers.insert(header::CONTENT_TYPE, HeaderValue::from_static(content_type));
    headers.insert(header::CONTENT_LENGTH, HeaderValue::from(size));
    if let Ok(value) = HeaderValue::from_str(&format!("attachment; filename=\"{name}\"")) {
        headers.insert(header::CONTENT_DISPOSITION, value);
    }
    headers.insert(header::CACHE_CONTROL, HeaderValue::from_static("no-store"));
    response
}

//! Errors as `application/problem+json` (RFC 9457).
//!
//! Policy: every error has a stable `code`. Client errors say what was
//! wrong and with which field; server errors are logged with their cause
//! and answered with a generic message, never the cause itself.

use axum::Json;
use axum::extract::Request;
use axum::http::{HeaderValue, StatusCode, header};
use axum::middleware::Next;
use axum::response::{IntoResponse, Response};
use dossier_domain::FieldError;
use dossier_service::ServiceError;
use serde::Serialize;

/// The problem document.
#[derive(Debug, Serialize, utoipa::ToSchema)]
pub struct Problem {
    #[serde(rename = "type")]
    pub kind: String,
    pub title: String,
    pub status: u16,
    /// A stable, machine-readable code, e.g. `validation_failed`.
    pub code: String,
    pub detail: String,
    /// The first offending field, when there is one.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub field: Option<String>,
    /// Every offending field.
    #[serde(skip_serializing_if = "Vec::is_empty")]
    pub errors: Vec<FieldError>,
}

/// An error answered by the API.
#[derive(Debug)]
pub struct ApiError {
    pub status: StatusCode,
    pub code: String,
    pub detail: String,
    pub errors: Vec<FieldError>,
    /// Seconds to wait before trying again (`Retry-After`), on 429 and 503.
    pub retry_after: Option<u64>,
}

impl ApiError {
    pub fn new(status: StatusCode, code: &str, detail: impl Into<String>) -> Self {
        Self { status, code: code.to_owned(), detail: detail.into(), errors: Vec::new(), retry_after: None }
    }

    pub fn retry_after(mut self, seconds: u64) -> Self {
        self.retry_after = Some(seconds.max(1));
        self
    }

    pub fn with_field(mut self, field: String, code: &'static str) -> Self {
        self.errors.push(FieldError { field, code, message: self.detail.clone() });
        self
    }
}

impl From<ServiceError> for ApiError {
    fn from(error: ServiceError) -> Self {
        let code = error.code();
        let retry_after = retry_after_secs(&error);
        match error {
            ServiceError::NotFound(_) => ApiError::new(StatusCode::NOT_FOUND, code, error.to_string()),
            ServiceError::Invalid(errors) => {
                let detail = errors.to_string();
                ApiError { errors: errors.0, ..ApiError::new(StatusCode::UNPROCESSABLE_ENTITY, code, detail) }
            }
            ServiceError::Unauthenticated | ServiceError::BadCredentials => ApiError::new(StatusCode::UNAUTHORIZED, code, error.to_string()),
            ServiceError::TooManyAttempts { .. } => ApiError { retry_after, ..ApiError::new(StatusCode::TOO_MANY_REQUESTS, code, error.to_string()) },
            ServiceError::Busy { .. } => ApiError { retry_after, ..ApiError::new(StatusCode::SERVICE_UNAVAILABLE, code, error.to_string()) },
            ServiceError::Forbidden { .. } | ServiceError::NotAuthor { .. } => ApiError::new(StatusCode::FORBIDDEN, code, error.to_string()),
            ServiceError::Conflict { .. } => ApiError::new(StatusCode::CONFLICT, code, error.to_string()),
            ServiceError::TooLarge { .. } => ApiError::new(StatusCode::PAYLOAD_TOO_LARGE, code, error.to_string()),
            ServiceError::Refused { code: "too_large", .. } => ApiError::new(StatusCode::PAYLOAD_TOO_LARGE, code, error.to_string()),
            ServiceError::Refused { .. } => ApiError::new(StatusCode::UNPROCESSABLE_ENTITY, code, error.to_string()),
            ServiceError::Internal(e) => {
                tracing::error!(error = %e, "request failed");
                ApiError::new(StatusCode::INTERNAL_SERVER_ERROR, code, "an internal error occurred; it has been logged")
            }
            ServiceError::Store(e) if e.is_busy() => {
                tracing::warn!(error = %e, "no database connection came free in time");
                ApiError::new(StatusCode::SERVICE_UNAVAILABLE, "timeout", "the database is busy; try again shortly")
                    .retry_after(crate::limits::RETRY_AFTER_TIMEOUT_SECS)
            }
            ServiceError::Store(e) => {
                tracing::error!(error = %e, "request failed in the store");
                ApiError::new(StatusCode::INTERNAL_SERVER_ERROR, code, "an internal error occurred; it has been logged")
            }
        }
    }
}

/// How long to wait before trying again after `error`, for `Retry-After`:
/// on every 429 and 503 the service layer answers.
pub fn retry_after_secs(error: &ServiceError) -> Option<u64> {
    match error {
        ServiceError::TooManyAttempts { seconds } => Some((*seconds).max(1)),
        ServiceError::Busy { retry_after_secs } => Some((*retry_after_secs).max(1)),
        _ => None,
    }
}

impl IntoResponse for ApiError {
    fn into_response(self) -> Response {
        let problem = Problem {
            kind: format!("https://dossier.invalid/problems/{}", self.code),
            title: self.status.canonical_reason().unwrap_or("Error").to_owned(),
            status: self.status.as_u16(),
            field: self.errors.first().map(|e| e.field.clone()),
            code: self.code,
            detail: self.detail,
            errors: self.errors,
        };
        let mut response = (self.status, Json(problem)).into_response();
        response.headers_mut().insert(header::CONTENT_TYPE, HeaderValue::from_static("application/problem+json"));
        if self.status == StatusCode::UNAUTHORIZED {
            response.headers_mut().insert(header::WWW_AUTHENTICATE, HeaderValue::from_static("Bearer"));
        }
        if let Some(seconds) = self.retry_after {
            response.headers_mut().insert(header::RETRY_AFTER, HeaderValue::from(seconds));
        }
        response
    }
}

/// Whether `path` is the API's (problem documents) rather than the web
/// app's (HTML pages).
pub fn is_api(path: &str) -> bool {
    path == "/api" || path.starts_with("/api/") || path == "/healthz"
}

/// Give every error answer the shape of where it was asked: a problem
/// document with a stable `code` under `/api`, an HTML page in the web app.
///
/// Our handlers answer in the right shape already. The others do not: axum's
/// extractors reject in `text/plain` (`Path` with invalid UTF-8 such as
/// `%ff`, `Form` over the 2 MB body limit), the router answers 405 with no
/// body, and the deadline, URI limit and CSRF layers answer problem
/// documents on every path. Each is turned into the right shape here, keeping
/// its status and headers (`Allow`, `Retry-After`).
pub async fn render_errors(request: Request, next: Next) -> Response {
    let api = is_api(request.uri().path());
    let response = next.run(request).await;
    let status = response.status();
    if !(status.is_client_error() || status.is_server_error()) {
        return response;
    }
    let content_type = response.headers().get(header::CONTENT_TYPE).and_then(|v| v.to_str().ok()).unwrap_or_default().to_owned();
    let (problem, html) = (content_type.starts_with("application/problem+json"), content_type.starts_with("text/html"));
    if (api && problem) || (!api && html) {
        return response;
    }
    let (mut parts, body) = response.into_parts();
    // Small answers from axum or our layers; anything longer is not a message.
    let bytes = axum::body::to_bytes(body, 16 * 1024).await.unwrap_or_default();
    let detail = match () {
        _ if status.is_server_error() && !problem => None,
        _ if problem => serde_json::from_slice::<serde_json::Value>(&bytes).ok().and_then(|v| v["detail"].as_str().map(str::to_owned)),
        _ if content_type.starts_with("text/plain") => std::str::from_utf8(&bytes).ok().map(str::to_owned).filter(|t| !t.is_empty()),
        _ => None,
    };
    let mut answer = match api {
        true => {
            let detail = detail.unwrap_or_else(|| status.canonical_reason().unwrap_or("error").to_lowercase());
            ApiError::new(status, code_for(status), detail).into_response()
        }
        false => {
            parts.headers.remove(header::WWW_AUTHENTICATE);
            crate::ui::error_page(status, problem.then_some(detail).flatten())
        }
    };
    parts.headers.remove(header::CONTENT_TYPE);
    parts.headers.remove(header::CONTENT_LENGTH);
    for (name, value) in &parts.headers {
        answer.headers_mut().entry(name).or_insert_with(|| value.clone());
    }
    answer
}

/// The code of an error answered outside our handlers, by its status.
fn code_for(status: StatusCode) -> &'static str {
    match status {
        StatusCode::BAD_REQUEST => "bad_request",
        StatusCode::NOT_FOUND => "route_not_found",
        StatusCode::METHOD_NOT_ALLOWED => "method_not_allowed",
        StatusCode::REQUEST_TIMEOUT => "timeout",
        StatusCode::PAYLOAD_TOO_LARGE => "payload_too_large",
        StatusCode::URI_TOO_LONG => "uri_too_long",
        StatusCode::UNSUPPORTED_MEDIA_TYPE => "unsupported_media_type",
        StatusCode::UNPROCESSABLE_ENTITY => "invalid_request",
        StatusCode::TOO_MANY_REQUESTS => "too_many_requests",
        StatusCode::REQUEST_HEADER_FIELDS_TOO_LARGE => "headers_too_large",
        StatusCode::SERVICE_UNAVAILABLE => "unavailable",
        _ if status.is_server_error() => "internal",
        _ => "bad_request",
    }
}

/// The answer to a state-changing request a browser sent from another site.
pub fn cross_origin_refused(_: tower_http::csrf::ProtectionError) -> Response {
    ApiError::new(StatusCode::FORBIDDEN, "cross_origin_request", "a state-changing request from another site was refused (CSRF protection)").into_response()
}

pub async fn route_not_found() -> ApiError {
    ApiError::new(StatusCode::NOT_FOUND, "route_not_found", "no such route")
}

pub fn panic_response(_: Box<dyn std::any::Any + Send + 'static>) -> Response {
    tracing::error!("a request handler panicked");
    ApiError::new(StatusCode::INTERNAL_SERVER_ERROR, "internal", "an internal error occurred; it has been logged").into_response()
}

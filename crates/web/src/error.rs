//! Errors as `application/problem+json` (RFC 9457).
//!
//! Policy: every error has a stable `code`. Client errors say what was
//! wrong and with which field; server errors are logged with their cause
//! and answered with a generic message, never the cause itself.

use axum::Json;
use axum::http::{HeaderValue, StatusCode, header};
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
}

impl ApiError {
    pub fn new(status: StatusCode, code: &str, detail: impl Into<String>) -> Self {
        Self { status, code: code.to_owned(), detail: detail.into(), errors: Vec::new() }
    }

    pub fn with_field(mut self, field: String, code: &'static str) -> Self {
        self.errors.push(FieldError { field, code, message: self.detail.clone() });
        self
    }
}

impl From<ServiceError> for ApiError {
    fn from(error: ServiceError) -> Self {
        let code = error.code();
        match error {
            ServiceError::NotFound(_) => ApiError::new(StatusCode::NOT_FOUND, code, error.to_string()),
            ServiceError::Invalid(errors) => {
                ApiError { status: StatusCode::UNPROCESSABLE_ENTITY, code: code.to_owned(), detail: errors.to_string(), errors: errors.0 }
            }
            ServiceError::Unauthenticated | ServiceError::BadCredentials => ApiError::new(StatusCode::UNAUTHORIZED, code, error.to_string()),
            ServiceError::TooManyAttempts { .. } => ApiError::new(StatusCode::TOO_MANY_REQUESTS, code, error.to_string()),
            ServiceError::Forbidden { .. } => ApiError::new(StatusCode::FORBIDDEN, code, error.to_string()),
            ServiceError::Conflict { .. } => ApiError::new(StatusCode::CONFLICT, code, error.to_string()),
            ServiceError::Internal(e) => {
                tracing::error!(error = %e, "request failed");
                ApiError::new(StatusCode::INTERNAL_SERVER_ERROR, code, "an internal error occurred; it has been logged")
            }
            ServiceError::Store(e) => {
                tracing::error!(error = %e, "request failed in the store");
                ApiError::new(StatusCode::INTERNAL_SERVER_ERROR, code, "an internal error occurred; it has been logged")
            }
        }
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
        response
    }
}

/// Turn an error answered without a body (a wrong method, a timeout, a body
/// too large: answered by axum or tower layers, not our handlers) into a
/// problem document, so every error a client sees has the same shape.
pub async fn problem_for_bare_errors(response: Response) -> Response {
    let status = response.status();
    if !(status.is_client_error() || status.is_server_error()) || response.headers().contains_key(header::CONTENT_TYPE) {
        return response;
    }
    let code = match status {
        StatusCode::METHOD_NOT_ALLOWED => "method_not_allowed",
        StatusCode::PAYLOAD_TOO_LARGE => "payload_too_large",
        StatusCode::SERVICE_UNAVAILABLE | StatusCode::REQUEST_TIMEOUT => "timeout",
        StatusCode::NOT_FOUND => "route_not_found",
        _ if status.is_server_error() => "internal",
        _ => "bad_request",
    };
    let mut problem = ApiError::new(status, code, status.canonical_reason().unwrap_or("error").to_lowercase()).into_response();
    if let Some(allow) = response.headers().get(header::ALLOW) {
        problem.headers_mut().insert(header::ALLOW, allow.clone());
    }
    problem
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

//! `Idempotency-Key` on the JSON API's POSTs (docs/api.md#idempotency): a
//! retry with the same key and the same request gets the first answer, and
//! the work is done once however many copies arrive at the same time.

use std::time::Duration;

use axum::body::Body;
use axum::extract::{FromRequestParts, MatchedPath, Request, State};
use axum::http::{HeaderName, HeaderValue, Method, StatusCode, header};
use axum::middleware::Next;
use axum::response::{IntoResponse, Response};
use dossier_service::idempotency::{self, Answer, Claimed, Key};
use utoipa::openapi::path::{Operation, ParameterBuilder, ParameterIn};
use utoipa::openapi::{ObjectBuilder, OpenApi, Ref, Required, ResponseBuilder, Type};

use crate::AppState;
use crate::auth::Caller;
use crate::error::ApiError;

pub const IDEMPOTENCY_KEY: HeaderName = HeaderName::from_static("idempotency-key");

/// Set on an answer replayed from a stored key.
const REPLAYED: HeaderName = HeaderName::from_static("idempotent-replayed");

/// How long a request waits for the answer of another with its key.
const WAIT: Duration = Duration::from_secs(20);

/// The largest body read to fingerprint it: axum's default body limit.
const MAX_BODY: usize = 2 * 1024 * 1024;

/// Routes whose answers hold a secret shown once (an API token, an
/// invitation, a portal link): the key still makes the work happen once,
/// but the answer is not kept, so the secret is never stored in plain.
const SECRET_ANSWERS: [&str; 4] = ["/tokens", "/users", "/customers/{id}/portal-links", "/org/inbound-secret"];

/// The middleware: POSTs with an `Idempotency-Key` from a signed-in caller
/// are claimed, carried out once and their answer kept; everything else
/// passes through.
pub async fn idempotent_posts(State(state): State<AppState>, request: Request, next: Next) -> Response {
    if request.method() != Method::POST {
        return next.run(request).await;
    }
    let mut keys = request.headers().get_all(IDEMPOTENCY_KEY).iter();
    let key = match (keys.next(), keys.next()) {
        (None, _) => return next.run(request).await,
        (Some(raw), None) => Key::parse(raw.as_bytes()),
        (Some(_), Some(_)) => Err("send one Idempotency-Key header, not several"),
    };
    let multipart = request.headers().get(header::CONTENT_TYPE).and_then(|v| v.to_str().ok()).is_some_and(|t| t.starts_with("multipart/"));
    // Uploads stream to storage as they arrive; they are not held to be
    // fingerprinted, so a key could not be honoured.
    let key = if multipart { Err("uploads take no Idempotency-Key; list the files to see whether an upload went in") } else { key };
    let key = match key {
        Ok(key) => key,
        Err(detail) => return ApiError::new(StatusCode::BAD_REQUEST, "invalid_idempotency_key", detail).into_response(),
    };
    let (mut parts, body) = request.into_parts();
    let Ok(Caller(ctx)) = Caller::from_request_parts(&mut parts, &state).await else {
        // Not signed in: the handler answers that; nothing to keep.
        return next.run(Request::from_parts(parts, body)).await;
    };
    let Ok(bytes) = axum::body::to_bytes(body, MAX_BODY).await else {
        return ApiError::new(StatusCode::PAYLOAD_TOO_LARGE, "payload_too_large", "the request body is too large").into_response();
    };
    let path = parts.uri.path_and_query().map_or(parts.uri.path(), |p| p.as_str());
    let hash = idempotency::fingerprint(parts.method.as_str(), path, &bytes);
    let keep_body = !parts.extensions.get::<MatchedPath>().is_some_and(|m| SECRET_ANSWERS.iter().any(|p| m.as_str().ends_with(p)));
    let claim = match idempotency::claim(&state.db, &ctx, &key, &hash, WAIT).await {
        Ok(Claimed::Won(claim)) => claim,
        Ok(Claimed::Unscoped) => return next.run(Request::from_parts(parts, Body::from(bytes))).await,
        Ok(Claimed::Replay(answer)) => return replay(answer),
        Ok(Claimed::Reused) => {
            let detail = "this Idempotency-Key was used for a different request (method, path or body); use a new key";
            return ApiError::new(StatusCode::UNPROCESSABLE_ENTITY, "idempotency_key_reused", detail).into_response();
        }
        Ok(Claimed::InFlight) => {
            let detail = "a request with this Idempotency-Key is still being carried out; retry later for its answer";
            return ApiError::new(StatusCode::CONFLICT, "idempotency_key_in_flight", detail).into_response();
        }
        Ok(Claimed::AnswerLost) => return answer_unavailable("its answer was lost (the server stopped before sending it)"),
        Err(e) => return ApiError::from(e).into_response(),
    };
    let mut abandoned = AbandonOnDrop { db: state.db.clone(), claim: Some(claim.clone()) };
    let response = idempotency::holding(claim.clone(), next.run(Request::from_parts(parts, Body::from(bytes)))).await;
    abandoned.claim = None;
    let (parts, body) = response.into_parts();
    let bytes = match axum::body::to_bytes(body, usize::MAX).await {
        Ok(bytes) => bytes,
        Err(e) => {
            tracing::error!(error = %e, "an answer's body could not be read to keep it");
            axum::body::Bytes::new()
        }
    };
    let status = parts.status;
    let content_type = parts.headers.get(header::CONTENT_TYPE).and_then(|v| v.to_str().ok()).map(str::to_owned);
    let answer = Answer { status: status.as_u16(), content_type, body: keep_body.then(|| bytes.to_vec()) };
    let retryable = status.is_server_error() || status == StatusCode::TOO_MANY_REQUESTS || is_transient_conflict(status, &bytes);
    if let Err(e) = idempotency::finish(&state.db, &claim, &answer, retryable).await {
        tracing::error!(error = %e, "an answer could not be kept for its idempotency key");
    }
    Response::from_parts(parts, Body::from(bytes))
}

/// Gives the key up when the request is dropped before its handler
/// returns (aborted at its deadline, or its client went away): a use case
/// that committed meanwhile has marked the key, and that mark stays.
struct AbandonOnDrop {
    db: dossier_service::Db,
    claim: Option<idempotency::Claim>,
}

impl Drop for AbandonOnDrop {
    fn drop(&mut self) {
        if let (Some(claim), Ok(runtime)) = (self.claim.take(), tokio::runtime::Handle::try_current()) {
            let db = self.db.clone();
            runtime.spawn(async move {
                if let Err(e) = idempotency::abandon(&db, &claim).await {
                    tracing::warn!(error = %e, "an abandoned idempotency key could not be given up; it is retaken when stale");
                }
            });
        }
    }
}

/// `409 changed_meanwhile`: another writer got in between; the same request
/// may well succeed when retried, so its answer is not kept.
fn is_transient_conflict(status: StatusCode, body: &[u8]) -> bool {
    status == StatusCode::CONFLICT && serde_json::from_slice::<serde_json::Value>(body).is_ok_and(|problem| problem["code"] == "changed_meanwhile")
}

/// A stored answer, sent again.
fn replay(answer: Answer) -> Response {
    let Some(body) = answer.body else {
        return answer_unavailable("its answer held a secret that is shown only once and is not kept");
    };
    let status = StatusCode::from_u16(answer.status).unwrap_or(StatusCode::INTERNAL_SERVER_ERROR);
    let mut response = (status, body).into_response();
    if let Some(value) = answer.content_type.and_then(|c| HeaderValue::from_str(&c).ok()) {
        response.headers_mut().insert(header::CONTENT_TYPE, value);
    }
    response.headers_mut().insert(REPLAYED, HeaderValue::from_static("true"));
    response
}

fn answer_unavailable(why: &str) -> Response {
    let detail = format!("the request with this Idempotency-Key was carried out, but {why}; look the result up instead of retrying");
    ApiError::new(StatusCode::CONFLICT, "idempotency_answer_unavailable", detail).into_response()
}

/// Declare the optional `Idempotency-Key` header on every POST that needs a
/// signed-in caller, with the answers it can bring (400, 409, 422).
pub fn document(openapi: &mut OpenApi) {
    for item in openapi.paths.paths.values_mut() {
        if let Some(operation) = item.post.as_mut().filter(|op| !is_public(op) && !is_upload(op)) {
            declare(operation);
        }
    }
}

/// An operation whose only security requirement is the empty one (sign-in).
fn is_public(operation: &Operation) -> bool {
    operation.security.as_ref().is_some_and(|s| s.iter().all(|r| serde_json::to_value(r).is_ok_and(|v| v.as_object().is_some_and(|o| o.is_empty()))))
}

/// An operation that takes `multipart/form-data` (an upload).
fn is_upload(operation: &Operation) -> bool {
    operation.request_body.as_ref().is_some_and(|body| matches!(body, utoipa::openapi::RefOr::T(b) if b.content.contains_key("multipart/form-data")))
}

fn declare(operation: &mut Operation) {
    let schema = ObjectBuilder::new().schema_type(Type::String).min_length(Some(1)).max_length(Some(idempotency::MAX_KEY_LEN)).pattern(Some("^[!-~]+$"));
    let parameter = ParameterBuilder::new()
        .name("Idempotency-Key")
        .parameter_in(ParameterIn::Header)
        .required(Required::False)
        .description(Some(
            "Makes a retry safe: the same key with the same request gets the first answer again, kept at least 24 hours; \
             1 to 255 visible ASCII characters, e.g. a UUID",
        ))
        .schema(Some(schema))
        .build();
    operation.parameters.get_or_insert_with(Vec::new).push(parameter.into());
    let answers = [
        ("400", "A malformed Idempotency-Key (invalid_idempotency_key)"),
        ("409", "A request with this Idempotency-Key is still running (idempotency_key_in_flight), or its answer is unavailable"),
        ("422", "This Idempotency-Key was used for a different request (idempotency_key_reused)"),
    ];
    for (status, description) in answers {
        operation.responses.responses.entry(status.to_owned()).or_insert_with(|| {
            ResponseBuilder::new()
                .description(description)
                .content("application/problem+json", utoipa::openapi::ContentBuilder::new().schema(Some(Ref::from_schema_name("Problem"))).build())
                .build()
                .into()
        });
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn only_a_conflict_with_another_writer_gives_the_key_up() {
        let problem = |code: &str| serde_json::json!({"status": 409, "code": code}).to_string().into_bytes();
        assert!(is_transient_conflict(StatusCode::CONFLICT, &problem("changed_meanwhile")));
        assert!(!is_transient_conflict(StatusCode::CONFLICT, &problem("illegal_transition")));
        assert!(!is_transient_conflict(StatusCode::UNPROCESSABLE_ENTITY, &problem("changed_meanwhile")));
        assert!(!is_transient_conflict(StatusCode::CONFLICT, b"not json"));
    }
}

//! The error answers every operation can give, written into the OpenAPI
//! document once instead of in each handler's annotation.
//!
//! Handlers document the errors of their use case (404, 409, 422…). What the
//! layers around them answer — the bearer check (401), the permission matrix
//! (403), the JSON and path extractors (400, 413, 415, 422), the busy
//! database and the time limit (503) — applies to every route of a kind, and
//! is added here. Every error answer is `application/problem+json`.

use utoipa::openapi::path::Operation;
use utoipa::openapi::{Content, OpenApi, Ref, RefOr, ResponseBuilder};

/// The content type of every error answer.
pub const PROBLEM_JSON: &str = "application/problem+json";

pub fn document(openapi: &mut OpenApi) {
    for item in openapi.paths.paths.values_mut() {
        let operations = [&mut item.get, &mut item.put, &mut item.post, &mut item.delete, &mut item.patch, &mut item.head, &mut item.options, &mut item.trace];
        for operation in operations.into_iter().flatten() {
            add_common_errors(operation);
            problems_as_problem_json(operation);
        }
    }
}

fn add_common_errors(operation: &mut Operation) {
    let public = operation
        .security
        .as_ref()
        .is_some_and(|requirements| requirements.iter().all(|r| serde_json::to_value(r).is_ok_and(|v| v.as_object().is_some_and(|o| o.is_empty()))));
    let mut errors = vec![
        ("400", "A malformed request: a body that is not well-formed JSON, a path segment that is not valid UTF-8"),
        ("503", "The server is busy or the request took too long; retry after `Retry-After` seconds"),
    ];
    if !public {
        errors.push(("401", "No valid bearer token or session"));
        errors.push(("403", "The caller's role may not do this"));
    }
    if operation.request_body.is_some() {
        errors.push(("413", "The body is larger than the server accepts"));
        errors.push(("415", "The body is not sent as application/json"));
        errors.push(("422", "The body does not have the documented shape, or breaks a rule"));
    }
    if operation.parameters.as_ref().is_some_and(|p| !p.is_empty()) {
        errors.push(("422", "A parameter is not valid"));
    }
    for (status, description) in errors {
        operation.responses.responses.entry(status.to_owned()).or_insert_with(|| {
            RefOr::T(ResponseBuilder::new().description(description).content(PROBLEM_JSON, Content::new(Some(Ref::from_schema_name("Problem")))).build())
        });
    }
}

/// Handlers declare `body = Problem`, which utoipa files under
/// application/json; the server sends application/problem+json.
fn problems_as_problem_json(operation: &mut Operation) {
    for (status, response) in operation.responses.responses.iter_mut() {
        let RefOr::T(response) = response else { continue };
        if !(status.starts_with('4') || status.starts_with('5')) {
            continue;
        }
        if let Some(content) = response.content.shift_remove("application/json") {
            response.content.insert(PROBLEM_JSON.to_owned(), content);
        }
    }
}

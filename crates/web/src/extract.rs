//! Extractors whose rejections are problem documents.

use axum::extract::rejection::{JsonRejection, QueryRejection};
use axum::extract::{FromRequest, FromRequestParts, Request};
use axum::http::StatusCode;
use axum::http::request::Parts;
use serde::de::DeserializeOwned;

use crate::error::ApiError;

/// A JSON body. Unknown fields and wrong types answer 422 naming the field;
/// malformed JSON 400; a missing JSON content type 415.
pub struct Body<T>(pub T);

impl<S: Send + Sync, T: DeserializeOwned> FromRequest<S> for Body<T> {
    type Rejection = ApiError;

    async fn from_request(req: Request, state: &S) -> Result<Self, Self::Rejection> {
        // Every body of this API is a JSON object: serde would also read a
        // struct from an array of its fields in order (`[null, null]`).
        let (parts, body) = req.into_parts();
        let bytes = axum::body::to_bytes(body, 2 * 1024 * 1024).await.map_err(|_| too_large())?;
        if bytes.iter().find(|b| !b.is_ascii_whitespace()) == Some(&b'[') {
            return Err(
                ApiError::new(StatusCode::UNPROCESSABLE_ENTITY, "invalid_body", "the body must be a JSON object").with_field("body".into(), "invalid_body")
            );
        }
        let req = Request::from_parts(parts, axum::body::Body::from(bytes));
        match axum::Json::<T>::from_request(req, state).await {
            Ok(axum::Json(value)) => Ok(Body(value)),
            Err(JsonRejection::JsonDataError(e)) => {
                let detail = serde_detail(&e.body_text());
                let field = field_of(&detail);
                Err(ApiError::new(StatusCode::UNPROCESSABLE_ENTITY, "invalid_body", detail).with_field(field, "invalid_body"))
            }
            Err(JsonRejection::JsonSyntaxError(e)) => Err(ApiError::new(StatusCode::BAD_REQUEST, "malformed_json", serde_detail(&e.body_text()))),
            Err(JsonRejection::MissingJsonContentType(_)) => {
                Err(ApiError::new(StatusCode::UNSUPPORTED_MEDIA_TYPE, "unsupported_media_type", "send the body as application/json"))
            }
            Err(e) if e.status() == StatusCode::PAYLOAD_TOO_LARGE => Err(too_large()),
            Err(e) => Err(ApiError::new(e.status(), "invalid_body", e.body_text())),
        }
    }
}

fn too_large() -> ApiError {
    ApiError::new(StatusCode::PAYLOAD_TOO_LARGE, "payload_too_large", "the body is larger than the 2 MB the server accepts")
}

/// Path parameters. A parameter that is not UTF-8 (`%ff`) answers
/// `400 invalid_path`.
pub struct Path<T>(pub T);

impl<S: Send + Sync, T: DeserializeOwned + Send> FromRequestParts<S> for Path<T> {
    type Rejection = ApiError;

    async fn from_request_parts(parts: &mut Parts, state: &S) -> Result<Self, Self::Rejection> {
        match axum::extract::Path::<T>::from_request_parts(parts, state).await {
            Ok(axum::extract::Path(value)) => Ok(Path(value)),
            Err(e) if e.status().is_server_error() => {
                tracing::error!(error = %e.body_text(), "a route's path parameters do not fit its handler");
                Err(ApiError::new(StatusCode::INTERNAL_SERVER_ERROR, "internal", "an internal error occurred; it has been logged"))
            }
            Err(e) => Err(ApiError::new(StatusCode::BAD_REQUEST, "invalid_path", e.body_text())),
        }
    }
}

/// Query parameters. Unknown parameters and bad values answer 422.
pub struct Params<T>(pub T);

impl<S: Send + Sync, T: DeserializeOwned> FromRequestParts<S> for Params<T> {
    type Rejection = ApiError;

    async fn from_request_parts(parts: &mut Parts, state: &S) -> Result<Self, Self::Rejection> {
        match axum::extract::Query::<T>::from_request_parts(parts, state).await {
            Ok(axum::extract::Query(value)) => Ok(Params(value)),
            Err(QueryRejection::FailedToDeserializeQueryString(e)) => {
                let detail = serde_detail(&e.body_text());
                let field = field_of(&detail);
                Err(ApiError::new(StatusCode::UNPROCESSABLE_ENTITY, "invalid_query", detail).with_field(field, "invalid_query"))
            }
            Err(e) => Err(ApiError::new(StatusCode::UNPROCESSABLE_ENTITY, "invalid_query", e.body_text())),
        }
    }
}

/// serde's message without axum's preamble.
fn serde_detail(text: &str) -> String {
    let tail = ["target type: ", "query string: "].iter().find_map(|marker| text.split_once(marker).map(|(_, tail)| tail));
    tail.unwrap_or(text).to_owned()
}

/// The field a serde message names: "unknown field `x`", "missing field `y`",
/// or the path before a type error (`emails[0].address: invalid type`).
fn field_of(detail: &str) -> String {
    if let Some((_, rest)) = detail.split_once("field `")
        && let Some((field, _)) = rest.split_once('`')
    {
        // serde_path_to_error names the field itself for unknown fields and
        // its parent for missing ones.
        let path = detail.split_once(": ").map(|(path, _)| path).filter(|p| !p.contains(' ') && *p != ".");
        return match path {
            Some(path) if path == field || path.ends_with(&format!(".{field}")) => path.to_owned(),
            Some(parent) => format!("{parent}.{field}"),
            None => field.to_owned(),
        };
    }
    match detail.split_once(": ") {
        Some((path, _)) if !path.contains(' ') && path != "." => path.to_owned(),
        _ => String::new(),
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn the_offending_field_is_read_from_serde_messages() {
        assert_eq!(field_of("unknown field `shoe_size`, expected one of `kind`"), "shoe_size");
        assert_eq!(field_of("shoe_size: unknown field `shoe_size`, expected one of `kind`"), "shoe_size");
        assert_eq!(field_of("family_name: invalid type: integer `1`, expected a string at line 1 column 17"), "family_name");
        assert_eq!(field_of("emails[0]: missing field `address` at line 1 column 20"), "emails[0].address");
        assert_eq!(field_of("kind: unknown variant `robot`, expected `individual` or `business`"), "kind");
        assert_eq!(field_of("EOF while parsing"), "");
    }
}

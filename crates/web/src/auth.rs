//! Who is calling: a bearer token becomes the service layer's `Ctx`.

use axum::extract::FromRequestParts;
use axum::http::header::AUTHORIZATION;
use axum::http::request::Parts;
use dossier_service::{Ctx, ServiceError};

use crate::AppState;
use crate::error::ApiError;

/// The authenticated caller. Any missing, malformed, unknown or revoked
/// token answers 401 with the same message.
pub struct Caller(pub Ctx);

impl FromRequestParts<AppState> for Caller {
    type Rejection = ApiError;

    async fn from_request_parts(parts: &mut Parts, state: &AppState) -> Result<Self, Self::Rejection> {
        let token = parts
            .headers
            .get(AUTHORIZATION)
            .and_then(|value| value.to_str().ok())
            .and_then(|value| value.strip_prefix("Bearer ").or_else(|| value.strip_prefix("bearer ")))
            .map(str::trim)
            .ok_or(ServiceError::Unauthenticated)?;
        Ok(Caller(dossier_service::users::authenticate(&state.db, token).await?))
    }
}

//! Who is calling: a bearer token or a session cookie becomes the service
//! layer's `Ctx`; where the call comes from, for sign-in throttling.

use std::net::SocketAddr;

use axum::extract::{ConnectInfo, FromRequestParts};
use axum::http::header::{AUTHORIZATION, COOKIE, USER_AGENT};
use axum::http::request::Parts;
use axum::http::{HeaderMap, HeaderValue};
use dossier_service::sessions::Client;
use dossier_service::{Ctx, ServiceError};

use crate::AppState;
use crate::error::ApiError;

/// The cookie a browser session travels in.
pub const SESSION_COOKIE: &str = "dossier_session";

/// The authenticated caller. Any missing, malformed, unknown, expired or
/// revoked credential answers 401 with the same message.
pub struct Caller(pub Ctx);

impl FromRequestParts<AppState> for Caller {
    type Rejection = ApiError;

    async fn from_request_parts(parts: &mut Parts, state: &AppState) -> Result<Self, Self::Rejection> {
        if let Some(token) = bearer(&parts.headers) {
            return Ok(Caller(dossier_service::tokens::authenticate(&state.db, token).await?));
        }
        let cookie = session_cookie(&parts.headers).ok_or(ServiceError::Unauthenticated)?;
        Ok(Caller(dossier_service::sessions::authenticate(&state.db, cookie).await?))
    }
}

/// The token of `Authorization: Bearer <token>`. The scheme is matched
/// without regard to case (RFC 9110, 11.1): `bearer` and `BEARER` work too.
fn bearer(headers: &HeaderMap) -> Option<&str> {
    let value = headers.get(AUTHORIZATION)?.to_str().ok()?;
    let (scheme, token) = value.trim_start().split_once(' ')?;
    scheme.eq_ignore_ascii_case("bearer").then(|| token.trim())
}

/// The session cookie's value, if the request carries one.
pub fn session_cookie(headers: &HeaderMap) -> Option<&str> {
    headers
        .get_all(COOKIE)
        .iter()
        .filter_map(|value| value.to_str().ok())
        .flat_map(|value| value.split(';'))
        .filter_map(|pair| pair.trim().split_once('='))
        .find(|(name, _)| *name == SESSION_COOKIE)
        .map(|(_, value)| value)
}

/// Where a request comes from: the peer's address, or behind a trusted
/// proxy the address it saw and whether it was reached over TLS.
pub struct Origin {
    pub client: Client,
    pub tls: bool,
}

impl FromRequestParts<AppState> for Origin {
    type Rejection = std::convert::Infallible;

    async fn from_request_parts(parts: &mut Parts, state: &AppState) -> Result<Self, Self::Rejection> {
        let header = |name: &str| parts.headers.get(name).and_then(|v| v.to_str().ok());
        let peer = parts.extensions.get::<ConnectInfo<SocketAddr>>().map(|ConnectInfo(addr)| addr.ip().to_string());
        let (address, tls) = match state.trust_proxy {
            true => {
                // The proxy appends the address it saw: the last entry is the one it vouches for.
                let forwarded = header("x-forwarded-for").and_then(|list| list.rsplit(',').next()).map(|a| a.trim().to_owned()).filter(|a| !a.is_empty());
                (forwarded.or(peer), header("x-forwarded-proto").is_some_and(|p| p.eq_ignore_ascii_case("https")))
            }
            false => (peer, false),
        };
        let user_agent = parts.headers.get(USER_AGENT).and_then(|v| v.to_str().ok()).map(str::to_owned);
        Ok(Origin { client: Client { address, user_agent }, tls })
    }
}

/// `Set-Cookie` for a session: HttpOnly, SameSite=Lax, Secure over TLS;
/// an empty value with `max_age` 0 clears it.
pub fn session_cookie_header(value: &str, max_age_secs: i64, tls: bool) -> HeaderValue {
    let secure = if tls { "; Secure" } else { "" };
    let text = format!("{SESSION_COOKIE}={value}; Path=/; HttpOnly; SameSite=Lax; Max-Age={max_age_secs}{secure}");
    HeaderValue::from_str(&text).unwrap_or_else(|_| HeaderValue::from_static("dossier_session=; Path=/; Max-Age=0"))
}

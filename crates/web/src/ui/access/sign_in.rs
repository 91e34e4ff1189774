//! The sign-in page, signing in and signing out.

use askama::Template;
use axum::Form;
use axum::extract::{Query, State};
use axum::http::{HeaderMap, StatusCode, header};
use axum::response::{IntoResponse, Redirect, Response};
use dossier_service::ServiceError;
use dossier_service::sessions::{self, SignIn};
use serde::Deserialize;

use crate::AppState;
use crate::auth::{Origin, session_cookie, session_cookie_header};
use crate::ui::forms::capitalised;
use crate::ui::nav::Viewer;
use crate::ui::page;

#[derive(Template)]
#[template(path = "ui/sign_in.html")]
struct SignInPage {
    user: Option<Viewer>,
    next: String,
    email: String,
    error: Option<String>,
}

#[derive(Deserialize)]
pub struct Next {
    next: Option<String>,
}

/// Where to go after signing in: a path on this site, nothing else.
fn safe_next(next: Option<&str>) -> String {
    match next {
        Some(path) if path.starts_with('/') && !path.starts_with("//") && !path.contains('\\') => path.to_owned(),
        _ => "/customers".to_owned(),
    }
}

/// Percent-encode a path for a query parameter.
pub fn encode(text: &str) -> String {
    text.bytes().map(|b| if b.is_ascii_alphanumeric() || b"-_.~/".contains(&b) { (b as char).to_string() } else { format!("%{b:02X}") }).collect()
}

pub async fn form(Query(query): Query<Next>) -> Response {
    page(StatusCode::OK, &SignInPage { user: None, next: safe_next(query.next.as_deref()), email: String::new(), error: None })
}

#[derive(Deserialize)]
pub struct SignInForm {
    email: String,
    password: String,
    next: Option<String>,
}

pub async fn submit(State(s): State<AppState>, origin: Origin, Form(form): Form<SignInForm>) -> Response {
    let next = safe_next(form.next.as_deref());
    let input = SignIn { email: form.email.clone(), password: form.password };
    match sessions::sign_in(&s.db, input, origin.client).await {
        Ok(started) => {
            let cookie = session_cookie_header(&started.cookie, sessions::ABSOLUTE_LIMIT.as_secs(), origin.tls);
            ([(header::SET_COOKIE, cookie)], Redirect::to(&next)).into_response()
        }
        Err(error) => {
            let retry_after = crate::error::retry_after_secs(&error);
            let status = match error {
                ServiceError::TooManyAttempts { .. } => StatusCode::TOO_MANY_REQUESTS,
                ServiceError::Busy { .. } => StatusCode::SERVICE_UNAVAILABLE,
                ServiceError::BadCredentials => StatusCode::UNAUTHORIZED,
                _ => StatusCode::INTERNAL_SERVER_ERROR,
            };
            let message = match status {
                StatusCode::INTERNAL_SERVER_ERROR => {
                    tracing::error!(error = %error, "sign-in failed");
                    "Something went wrong. Please try again.".to_owned()
                }
                _ => format!("{}.", capitalised(&error.to_string())),
            };
            let mut answer = page(status, &SignInPage { user: None, next, email: form.email, error: Some(message) });
            if let Some(seconds) = retry_after {
                answer.headers_mut().insert(header::RETRY_AFTER, seconds.into());
            }
            answer
        }
    }
}

pub async fn sign_out(State(s): State<AppState>, origin: Origin, headers: HeaderMap) -> Response {
    if let Some(cookie) = session_cookie(&headers)
        && let Err(e) = sessions::sign_out(&s.db, cookie).await
        && !matches!(e, ServiceError::Unauthenticated)
    {
        tracing::error!(error = %e, "sign-out failed");
    }
    ([(header::SET_COOKIE, session_cookie_header("", 0, origin.tls))], Redirect::to("/sign-in")).into_response()
}

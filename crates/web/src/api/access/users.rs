//! Signing in and out, staff users, and API tokens.

use axum::Json;
use axum::extract::State;
use axum::http::{HeaderMap, StatusCode};
use axum::response::{IntoResponse, Response};
use dossier_service::ServiceError;
use dossier_service::sessions::{self, SessionInfo, SignIn};
use dossier_service::tokens::{self, ApiToken, CreatedToken, TokenInput};
use dossier_service::users::{self, AcceptInvitation, Invitation, InviteInput, User, UserPatch};
use utoipa_axum::router::OpenApiRouter;
use utoipa_axum::routes;

use crate::AppState;
use crate::auth::{Caller, Origin, session_cookie, session_cookie_header};
use crate::error::{ApiError, Problem};
use crate::extract::{Body, Path};

pub fn router() -> OpenApiRouter<AppState> {
    OpenApiRouter::new()
        .routes(routes!(sign_in, current_session, sign_out))
        .routes(routes!(accept_invitation))
        .routes(routes!(invite_user, list_users))
        .routes(routes!(get_user, update_user))
        .routes(routes!(create_token, list_tokens))
        .routes(routes!(revoke_token))
}

/// Sign in with email and password: starts a session, sent back as an
/// HttpOnly, SameSite=Lax cookie. Repeated failures are slowed down and then
/// locked out for a while (429); an unknown email and a wrong password get
/// the same answer.
#[utoipa::path(post, path = "/session", tag = "access", request_body = SignIn, security(()),
    responses((status = 200, description = "Signed in; the cookie is set", body = SessionInfo),
        (status = 401, description = "Wrong email or password", body = Problem), (status = 429, description = "Locked out for a while", body = Problem)))]
async fn sign_in(State(s): State<AppState>, origin: Origin, Body(input): Body<SignIn>) -> Result<Response, ApiError> {
    let started = sessions::sign_in(&s.db, input, origin.client).await?;
    let cookie = session_cookie_header(&started.cookie, sessions::ABSOLUTE_LIMIT.as_secs(), origin.tls);
    Ok(([(axum::http::header::SET_COOKIE, cookie)], Json(started.session)).into_response())
}

/// The signed-in user of this session.
#[utoipa::path(get, path = "/session", tag = "access",
    responses((status = 200, description = "The session", body = SessionInfo), (status = 401, description = "Not signed in", body = Problem)))]
async fn current_session(State(s): State<AppState>, headers: HeaderMap) -> Result<Json<SessionInfo>, ApiError> {
    let cookie = session_cookie(&headers).ok_or(ServiceError::Unauthenticated)?;
    Ok(Json(sessions::current(&s.db, cookie).await?))
}

/// Sign out: the session is revoked and its cookie cleared.
#[utoipa::path(delete, path = "/session", tag = "access",
    responses((status = 204, description = "Signed out"), (status = 401, description = "Not signed in", body = Problem)))]
async fn sign_out(State(s): State<AppState>, origin: Origin, headers: HeaderMap) -> Result<Response, ApiError> {
    let cookie = session_cookie(&headers).ok_or(ServiceError::Unauthenticated)?;
    sessions::sign_out(&s.db, cookie).await?;
    Ok((StatusCode::NO_CONTENT, [(axum::http::header::SET_COOKIE, session_cookie_header("", 0, origin.tls))]).into_response())
}

/// Accept an invitation: set a password (at least 12 characters); then sign in.
#[utoipa::path(post, path = "/session/invitation", tag = "access", request_body = AcceptInvitation, security(()),
    responses((status = 200, description = "Password set", body = User), (status = 404, description = "Unknown, used or expired invitation", body = Problem),
        (status = 422, description = "Password too short", body = Problem)))]
async fn accept_invitation(State(s): State<AppState>, Body(input): Body<AcceptInvitation>) -> Result<Json<User>, ApiError> {
    Ok(Json(users::accept_invitation(&s.db, input).await?))
}

/// Invite a staff user. The answer holds the invitation token, shown once,
/// which lets them set their password within seven days; with
/// `send_email` it is emailed to them instead (a link to the web app's
/// invitation page, valid seven days from the sending) and the answer
/// holds no token.
#[utoipa::path(post, path = "/users", tag = "access", request_body = InviteInput,
    responses((status = 201, description = "Invited", body = Invitation), (status = 403, description = "Only administrators manage users", body = Problem),
        (status = 409, description = "No outgoing mail server to email it", body = Problem),
        (status = 422, description = "Invalid input or email taken", body = Problem)))]
async fn invite_user(State(s): State<AppState>, Caller(ctx): Caller, Body(input): Body<InviteInput>) -> Result<(StatusCode, Json<Invitation>), ApiError> {
    Ok((StatusCode::CREATED, Json(users::invite_user(&s.db, &ctx, s.smtp.as_ref(), input).await?)))
}

/// The org's users.
#[utoipa::path(get, path = "/users", tag = "access",
    responses((status = 200, description = "The users", body = Vec<User>), (status = 403, description = "Only administrators manage users", body = Problem)))]
async fn list_users(State(s): State<AppState>, Caller(ctx): Caller) -> Result<Json<Vec<User>>, ApiError> {
    Ok(Json(users::list_users(&s.db, &ctx).await?))
}

/// A user.
#[utoipa::path(get, path = "/users/{id}", tag = "access", params(("id" = String, Path)),
    responses((status = 200, description = "The user", body = User), (status = 404, description = "No such user", body = Problem)))]
async fn get_user(State(s): State<AppState>, Caller(ctx): Caller, Path(id): Path<String>) -> Result<Json<User>, ApiError> {
    Ok(Json(users::get_user(&s.db, &ctx, &id).await?))
}

/// Rename a user, change their role, deactivate (revoking their tokens and
/// sessions) or reactivate them. Only owners grant or remove the owner role;
/// nobody changes their own role or deactivates themselves.
#[utoipa::path(patch, path = "/users/{id}", tag = "access", params(("id" = String, Path)), request_body = UserPatch,
    responses((status = 200, description = "The user", body = User), (status = 404, description = "No such user", body = Problem),
        (status = 409, description = "Own account", body = Problem), (status = 422, description = "Invalid input", body = Problem)))]
async fn update_user(State(s): State<AppState>, Caller(ctx): Caller, Path(id): Path<String>, Body(patch): Body<UserPatch>) -> Result<Json<User>, ApiError> {
    Ok(Json(users::update_user(&s.db, &ctx, &id, patch).await?))
}

/// Create an API token for yourself; it acts with your role. The secret is
/// in this answer only.
#[utoipa::path(post, path = "/tokens", tag = "access", request_body = TokenInput,
    responses((status = 201, description = "Created", body = CreatedToken), (status = 422, description = "Invalid input", body = Problem)))]
async fn create_token(State(s): State<AppState>, Caller(ctx): Caller, Body(input): Body<TokenInput>) -> Result<(StatusCode, Json<CreatedToken>), ApiError> {
    Ok((StatusCode::CREATED, Json(tokens::create_own_token(&s.db, &ctx, input).await?)))
}

/// Your API tokens (administrators: everyone's), with when each was last used.
#[utoipa::path(get, path = "/tokens", tag = "access", responses((status = 200, description = "The tokens", body = Vec<ApiToken>)))]
async fn list_tokens(State(s): State<AppState>, Caller(ctx): Caller) -> Result<Json<Vec<ApiToken>>, ApiError> {
    Ok(Json(tokens::list_tokens(&s.db, &ctx).await?))
}

/// Revoke a token: it stops working at once.
#[utoipa::path(delete, path = "/tokens/{id}", tag = "access", params(("id" = String, Path)),
    responses((status = 200, description = "The revoked token", body = ApiToken), (status = 404, description = "No such token", body = Problem)))]
async fn revoke_token(State(s): State<AppState>, Caller(ctx): Caller, Path(id): Path<String>) -> Result<Json<ApiToken>, ApiError> {
    Ok(Json(tokens::revoke_token(&s.db, &ctx, &id).await?))
}

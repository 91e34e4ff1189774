//! Users and API tokens on admin pages: invite a user (the invitation
//! emailed, or its link shown once), change a role, deactivate or reactivate; make a token (shown
//! once) and revoke one. The invitee sets their password on a page of its
//! own. Each is the API's use case; nobody changes their own role.

use askama::Template;
use axum::Form;
use axum::extract::{Path, Query, State};
use axum::http::StatusCode;
use axum::response::{IntoResponse, Redirect, Response};
use dossier_domain::permissions::{Access, Action, Module};
use dossier_domain::role::Role;
use dossier_service::tokens::{self, TokenInput};
use dossier_service::users::{self, AcceptInvitation, InviteInput, UserPatch};
use dossier_service::{Ctx, ServiceError, invitations};
use serde::Deserialize;

use crate::AppState;
use crate::ui::forms::{Values, value};
use crate::ui::nav::Viewer;
use crate::ui::{Staff, failure, page};

struct UserRowView {
    id: String,
    name: String,
    email: String,
    role: String,
    state: &'static str,
    active: bool,
    /// The reader: their own role and state are not theirs to change.
    me: bool,
}

struct TokenRowView {
    id: String,
    name: String,
    owner: String,
    created: String,
    used: String,
    state: &'static str,
}

#[derive(Template)]
#[template(path = "ui/admin.html")]
struct AdminPage {
    user: Option<Viewer>,
    users: Option<Vec<UserRowView>>,
    tokens: Vec<TokenRowView>,
    roles: Vec<&'static str>,
    can_edit: bool,
    can_invite: bool,
    /// Whether the reader may see the background tasks (owners and admins).
    sees_tasks: bool,
    /// Whether the reader may see deleted customers (owners and admins).
    sees_deleted: bool,
    /// A secret just made (an invitation link, a token): what, and the text.
    shown_once: Option<(&'static str, String)>,
    /// What was done, when there is no secret to show (an invitation emailed).
    notice: Option<String>,
    /// Whether "Email the invitation" is ticked: the org has a mail server.
    email_invitations: bool,
    error: Option<String>,
}

/// What an action leaves to show.
enum Shown {
    Nothing,
    Secret(&'static str, String),
    Notice(String),
}

async fn admin_page(s: &AppState, ctx: &Ctx, shown: Shown, error: Option<String>) -> Result<AdminPage, ServiceError> {
    let db = &s.db;
    let minute = |at: jiff::Timestamp| at.strftime("%Y-%m-%d %H:%M UTC").to_string();
    let all = match ctx.sees(Module::Users) {
        true => Some(users::list_users(db, ctx).await?),
        false => None,
    };
    let email_of = |id: uuid::Uuid| all.iter().flatten().find(|u| u.id.0 == id).map_or_else(|| "you".to_owned(), |u| u.email.clone());
    let tokens = tokens::list_tokens(db, ctx)
        .await?
        .into_iter()
        .map(|t| TokenRowView {
            id: t.id.0.to_string(),
            owner: email_of(t.user_id.0),
            name: t.name,
            created: minute(t.created_at),
            used: t.last_used_at.map_or_else(|| "never".to_owned(), minute),
            state: if t.revoked_at.is_some() { "revoked" } else { "active" },
        })
        .collect();
    let users = all.map(|list| {
        list.into_iter()
            .map(|u| UserRowView {
                id: u.id.0.to_string(),
                me: ctx.user_id == Some(u.id),
                state: match (u.active, u.invited) {
                    (false, _) => "deactivated",
                    (true, true) => "invited",
                    (true, false) => "active",
                },
                active: u.active,
                name: u.name,
                email: u.email,
                role: u.role.as_str().to_owned(),
            })
            .collect()
    });
    Ok(AdminPage {
        user: Some(Viewer::of(ctx)),
        users,
        tokens,
        roles: Role::ALL.iter().map(|r| r.as_str()).collect(),
        can_edit: ctx.access(Module::Users, Action::Edit) != Access::None,
        can_invite: ctx.access(Module::Users, Action::Create) != Access::None,
        sees_tasks: ctx.sees(Module::Tasks),
        sees_deleted: ctx.sees(Module::DeletedCustomers),
        email_invitations: invitations::can_email(db, ctx, s.smtp.as_ref()).await?,
        shown_once: match &shown {
            Shown::Secret(what, text) => Some((*what, text.clone())),
            _ => None,
        },
        notice: match shown {
            Shown::Notice(text) => Some(text),
            _ => None,
        },
        error,
    })
}

/// The page after an action: the secret it made, or why it was refused.
async fn after(s: &AppState, ctx: &Ctx, result: Result<Shown, ServiceError>) -> Response {
    let (status, shown, error) = match result {
        Ok(Shown::Nothing) => return Redirect::to("/admin").into_response(),
        Ok(shown) => (StatusCode::CREATED, shown, None),
        Err(e @ (ServiceError::Invalid(_) | ServiceError::Conflict { .. })) => {
            let status = if matches!(e, ServiceError::Conflict { .. }) { StatusCode::CONFLICT } else { StatusCode::UNPROCESSABLE_ENTITY };
            (status, Shown::Nothing, Some(e.to_string()))
        }
        Err(e) => return failure(e),
    };
    match admin_page(s, ctx, shown, error).await {
        Ok(page_data) => page(status, &page_data),
        Err(e) => failure(e),
    }
}

/// `GET /admin`.
pub async fn show(State(s): State<AppState>, Staff(ctx): Staff) -> Response {
    match admin_page(&s, &ctx, Shown::Nothing, None).await {
        Ok(page_data) => page(StatusCode::OK, &page_data),
        Err(e) => failure(e),
    }
}

/// `POST /users`: invite; the invitation is emailed (`send_email` ticked)
/// or its link is shown once.
pub async fn invite(State(s): State<AppState>, Staff(ctx): Staff, Form(values): Form<Values>) -> Response {
    let input = InviteInput {
        email: value(&values, "email").unwrap_or_default(),
        name: value(&values, "name").unwrap_or_default(),
        role: value(&values, "role").unwrap_or_default(),
        send_email: value(&values, "send_email").is_some(),
    };
    let result = users::invite_user(&s.db, &ctx, s.smtp.as_ref(), input).await.map(|i| match i.invitation_token {
        Some(token) => Shown::Secret("Invitation link", invitations::accept_path(&token)),
        None => Shown::Notice(format!("{} is invited: the invitation is on its way to {}.", i.user.name, i.user.email)),
    });
    after(&s, &ctx, result).await
}

/// `POST /users/{id}/change`: a new role, or `active=false|true`.
pub async fn change(State(s): State<AppState>, Staff(ctx): Staff, Path(id): Path<String>, Form(values): Form<Values>) -> Response {
    let patch = UserPatch { name: None, role: value(&values, "role"), active: value(&values, "active").map(|a| a == "true") };
    let result = users::update_user(&s.db, &ctx, &id, patch).await.map(|_| Shown::Nothing);
    after(&s, &ctx, result).await
}

/// `POST /tokens`: a token for the caller; shown once.
pub async fn make_token(State(s): State<AppState>, Staff(ctx): Staff, Form(values): Form<Values>) -> Response {
    let input = TokenInput { name: value(&values, "name").unwrap_or_default() };
    let result = tokens::create_own_token(&s.db, &ctx, input).await.map(|t| Shown::Secret("API token", t.token));
    after(&s, &ctx, result).await
}

/// `POST /tokens/{id}/revoke`.
pub async fn revoke_token(State(s): State<AppState>, Staff(ctx): Staff, Path(id): Path<String>) -> Response {
    let result = tokens::revoke_token(&s.db, &ctx, &id).await.map(|_| Shown::Nothing);
    after(&s, &ctx, result).await
}

#[derive(Template)]
#[template(path = "ui/invitation.html")]
struct InvitationPage {
    user: Option<Viewer>,
    token: String,
    error: Option<String>,
}

#[derive(Deserialize)]
pub struct Invited {
    token: Option<String>,
}

/// `GET /invitation?token=…`: the invitee sets their password (no session).
pub async fn invitation(Query(invited): Query<Invited>) -> Response {
    page(StatusCode::OK, &InvitationPage { user: None, token: invited.token.unwrap_or_default(), error: None })
}

/// `POST /invitation`: set it, then sign in.
pub async fn accept(State(s): State<AppState>, Form(values): Form<Values>) -> Response {
    let token = value(&values, "token").unwrap_or_default();
    let input = AcceptInvitation { token: token.clone(), password: values.get("password").cloned().unwrap_or_default() };
    match users::accept_invitation(&s.db, input).await {
        Ok(user) => Redirect::to(&format!("/sign-in?email={}", crate::ui::sign_in::encode(&user.email))).into_response(),
        Err(ServiceError::NotFound(_)) => {
            let error = Some("This invitation is unknown, used or expired: ask for a new one.".to_owned());
            page(StatusCode::NOT_FOUND, &InvitationPage { user: None, token, error })
        }
        Err(ServiceError::Invalid(errors)) => page(StatusCode::UNPROCESSABLE_ENTITY, &InvitationPage { user: None, token, error: Some(errors.to_string()) }),
        Err(e) => failure(e),
    }
}

#[derive(Template)]
#[template(path = "ui/user_history.html")]
struct UserHistoryPage {
    user: Option<Viewer>,
    name: String,
    email: String,
    entries: Vec<crate::ui::views::Entry>,
    next: Option<String>,
}

#[derive(Deserialize)]
pub struct Paged {
    cursor: Option<String>,
}

/// `GET /users/{id}/history`: what happened to a staff user's account.
pub async fn history(State(s): State<AppState>, Staff(ctx): Staff, Path(id): Path<String>, Query(paged): Query<Paged>) -> Response {
    let built = async {
        let shown = users::get_user(&s.db, &ctx, &id).await?;
        let query = dossier_service::timeline::TimelineQuery { cursor: paged.cursor, ..Default::default() };
        let found = dossier_service::timeline::user_timeline(&s.db, &ctx, &id, query).await?;
        Ok::<_, ServiceError>(UserHistoryPage {
            user: Some(Viewer::of(&ctx)),
            name: shown.name,
            email: shown.email,
            entries: crate::ui::views::story(&ctx, &found.items),
            next: found.next_cursor.map(|c| format!("/users/{id}/history?cursor={c}")),
        })
    };
    match built.await {
        Ok(page_data) => page(StatusCode::OK, &page_data),
        Err(e) => failure(e),
    }
}

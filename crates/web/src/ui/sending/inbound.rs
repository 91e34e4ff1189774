//! The inbox page: received mail that matched no customer, each with an
//! "Assign to customer" form (a customer code; an unknown one is said next
//! to the field) and "Dismiss"; and the settings page of the mail server's
//! hook, where an admin makes a new inbound secret and sees it once. The
//! API's use cases (`/inbox`, `/org/inbound-secret`).

use askama::Template;
use axum::Form;
use axum::extract::{Path, Query, State};
use axum::http::StatusCode;
use axum::response::{IntoResponse, Redirect, Response};
use dossier_domain::sending::inbound::{InboxItem, InboxStatus};
use dossier_service::sending::inbound::{self, AssignInput, InboxQuery};
use dossier_service::{Ctx, Db, ServiceError};
use serde::Deserialize;

use crate::AppState;
use crate::ui::nav::Viewer;
use crate::ui::views::day;
use crate::ui::{Staff, failure, page};

struct ItemView {
    id: String,
    from: String,
    subject: String,
    received: String,
    reason: String,
    excerpt: String,
    status: &'static str,
    decided: String,
    /// What was typed in its assign form, and why it did not work.
    typed: String,
    error: Option<String>,
}

#[derive(Template)]
#[template(path = "ui/inbox.html")]
struct InboxPage {
    user: Option<Viewer>,
    items: Vec<ItemView>,
    status: &'static str,
    statuses: Vec<&'static str>,
    next: Option<String>,
    error: Option<String>,
}

#[derive(Deserialize)]
pub struct Shown {
    status: Option<String>,
    cursor: Option<String>,
}

fn view(ctx: &Ctx, item: InboxItem) -> ItemView {
    let from = match &item.from_name {
        Some(name) => format!("{name} <{}>", item.from_address),
        None => item.from_address.clone(),
    };
    let decided = match (&item.decided_by, item.decided_at) {
        (Some(by), Some(at)) => format!("{} by {by} on {}", item.status, day(&ctx.org, at)),
        _ => String::new(),
    };
    ItemView {
        id: item.id.to_string(),
        from,
        subject: item.subject.unwrap_or_else(|| "(no subject)".to_owned()),
        received: day(&ctx.org, item.received_at),
        reason: item.reason,
        excerpt: item.excerpt,
        status: item.status.as_str(),
        decided,
        typed: String::new(),
        error: None,
    }
}

async fn inbox_page(db: &Db, ctx: &Ctx, shown: Shown) -> Result<InboxPage, ServiceError> {
    let status = match shown.status.as_deref().filter(|s| !s.is_empty()) {
        Some(text) => InboxStatus::parse(text).ok_or(ServiceError::NotFound("inbox status"))?,
        None => InboxStatus::Open,
    };
    let found = inbound::list_inbox(db, ctx, InboxQuery { status: Some(status), cursor: shown.cursor, limit: None }).await?;
    Ok(InboxPage {
        user: Some(Viewer::of(ctx)),
        next: found.next_cursor.map(|c| format!("/inbox?status={status}&cursor={c}")),
        items: found.items.into_iter().map(|i| view(ctx, i)).collect(),
        status: status.as_str(),
        statuses: InboxStatus::ALL.iter().map(|s| s.as_str()).collect(),
        error: None,
    })
}

/// `GET /inbox?status=…`.
pub async fn show(State(s): State<AppState>, Staff(ctx): Staff, Query(shown): Query<Shown>) -> Response {
    match inbox_page(&s.db, &ctx, shown).await {
        Ok(data) => page(StatusCode::OK, &data),
        Err(e) => failure(e),
    }
}

#[derive(Deserialize)]
pub struct AssignForm {
    #[serde(default)]
    customer: String,
}

/// The open inbox again, with why an action on `item` did not work.
async fn again(db: &Db, ctx: &Ctx, item: &str, typed: &str, status: StatusCode, error: String) -> Response {
    match inbox_page(db, ctx, Shown { status: None, cursor: None }).await {
        Ok(mut data) => {
            match data.items.iter_mut().find(|i| i.id == item) {
                Some(view) => {
                    view.typed = typed.to_owned();
                    view.error = Some(error);
                }
                None => data.error = Some(error),
            }
            page(status, &data)
        }
        Err(e) => failure(e),
    }
}

/// `POST /inbox/{id}/assign`: to the customer's page, or the inbox with the reason.
pub async fn assign(State(s): State<AppState>, Staff(ctx): Staff, Path(id): Path<String>, Form(form): Form<AssignForm>) -> Response {
    let typed = form.customer.trim().to_owned();
    match inbound::assign(&s.db, &s.files, &ctx, &id, AssignInput { customer: typed.clone() }).await {
        Ok(done) => match done.message {
            Some(message) => Redirect::to(&format!("/customers/{}", message.customer_id)).into_response(),
            None => Redirect::to("/inbox").into_response(),
        },
        Err(ServiceError::Invalid(errors)) => {
            let text = errors.0.first().map(|e| e.message.clone()).unwrap_or_else(|| errors.to_string());
            again(&s.db, &ctx, &id, &typed, StatusCode::UNPROCESSABLE_ENTITY, format!("{}.", crate::ui::forms::capitalised(&text))).await
        }
        Err(ServiceError::Conflict { message, .. }) => again(&s.db, &ctx, &id, &typed, StatusCode::CONFLICT, message).await,
        Err(e) => failure(e),
    }
}

/// `POST /inbox/{id}/dismiss`.
pub async fn dismiss(State(s): State<AppState>, Staff(ctx): Staff, Path(id): Path<String>) -> Response {
    match inbound::dismiss(&s.db, &ctx, &id).await {
        Ok(_) => Redirect::to("/inbox").into_response(),
        Err(ServiceError::Conflict { message, .. }) => again(&s.db, &ctx, &id, "", StatusCode::CONFLICT, message).await,
        Err(e) => failure(e),
    }
}

#[derive(Template)]
#[template(path = "ui/inbound_email.html")]
struct InboundEmailPage {
    user: Option<Viewer>,
    org_name: String,
    /// When the current secret was made and by whom, if there is one.
    made: Option<String>,
    /// A secret just made: shown this once.
    secret: Option<String>,
}

fn inbound_page(ctx: &Ctx, made: Option<(jiff::Timestamp, String)>, secret: Option<String>) -> InboundEmailPage {
    InboundEmailPage {
        user: Some(Viewer::of(ctx)),
        org_name: ctx.org.name.clone(),
        made: made.map(|(at, by)| format!("{} by {by}", day(&ctx.org, at))),
        secret,
    }
}

/// `GET /settings/inbound-email`.
pub async fn settings(State(s): State<AppState>, Staff(ctx): Staff) -> Response {
    match inbound::inbound_secret_made(&s.db, &ctx).await {
        Ok(made) => page(StatusCode::OK, &inbound_page(&ctx, made, None)),
        Err(e) => failure(e),
    }
}

/// `POST /settings/inbound-email`: a new secret, shown once on the answer.
pub async fn new_secret(State(s): State<AppState>, Staff(ctx): Staff) -> Response {
    match inbound::new_inbound_secret(&s.db, &ctx).await {
        Ok(made) => page(StatusCode::OK, &inbound_page(&ctx, Some((made.created_at, ctx.actor.name.clone())), Some(made.secret))),
        Err(e) => failure(e),
    }
}

//! Portal links on the staff side: made (the URL shown once, to copy),
//! listed with when each was last used, and revoked, from the profile.

use askama::Template;
use axum::Form;
use axum::extract::{Path, State};
use axum::http::StatusCode;
use axum::response::{IntoResponse, Redirect, Response};
use dossier_domain::permissions::{Access, Action, Module};
use dossier_service::portal::{self, PortalLinkInput};
use dossier_service::{Ctx, Db, ServiceError, customers};

use crate::AppState;
use crate::ui::forms::{Values, value};
use crate::ui::nav::Viewer;
use crate::ui::{Staff, failure, page};

struct LinkRow {
    id: String,
    created: String,
    by: String,
    expires: String,
    used: String,
    state: &'static str,
    revocable: bool,
}

#[derive(Template)]
#[template(path = "ui/portal_links.html")]
struct LinksPage {
    user: Option<Viewer>,
    code: String,
    links: Vec<LinkRow>,
    /// A link just made: its path, shown this once.
    new_url: Option<String>,
    error: Option<String>,
    can_create: bool,
    can_revoke: bool,
}

async fn links_page(db: &Db, ctx: &Ctx, customer: &str, new_url: Option<String>, error: Option<String>) -> Result<LinksPage, ServiceError> {
    let code = customers::get_customer(db, ctx, customer).await?.code;
    let now = ctx.now();
    let minute = |at: jiff::Timestamp| at.strftime("%Y-%m-%d %H:%M UTC").to_string();
    let links = portal::list_links(db, ctx, &code)
        .await?
        .into_iter()
        .map(|l| {
            let state = match (l.revoked_at, l.expires_at <= now) {
                (Some(_), _) => "revoked",
                (None, true) => "expired",
                (None, false) => "active",
            };
            LinkRow {
                id: l.id.0.to_string(),
                created: minute(l.created_at),
                by: l.created_by,
                expires: minute(l.expires_at),
                used: l.last_used_at.map_or_else(|| "never".to_owned(), minute),
                state,
                revocable: state == "active",
            }
        })
        .collect();
    Ok(LinksPage {
        user: Some(Viewer::of(ctx)),
        code,
        links,
        new_url,
        error,
        can_create: ctx.access(Module::PortalLinks, Action::Create) != Access::None,
        can_revoke: ctx.access(Module::PortalLinks, Action::Delete) != Access::None,
    })
}

/// `GET /customers/{code}/portal-links`.
pub async fn list(State(s): State<AppState>, Staff(ctx): Staff, Path(code): Path<String>) -> Response {
    match links_page(&s.db, &ctx, &code, None, None).await {
        Ok(page_data) => page(StatusCode::OK, &page_data),
        Err(e) => failure(e),
    }
}

/// `POST /customers/{code}/portal-links`: make one and show its URL once.
pub async fn create(State(s): State<AppState>, Staff(ctx): Staff, Path(code): Path<String>, Form(values): Form<Values>) -> Response {
    let days = value(&values, "expires_in_days").map(|d| d.parse::<u32>().unwrap_or(0));
    let (status, new_url, error) = match portal::create_link(&s.db, &ctx, &code, PortalLinkInput { expires_in_days: days }).await {
        Ok(created) => (StatusCode::CREATED, Some(created.url), None),
        Err(ServiceError::Invalid(errors)) => (StatusCode::UNPROCESSABLE_ENTITY, None, Some(errors.to_string())),
        Err(e) => return failure(e),
    };
    match links_page(&s.db, &ctx, &code, new_url, error).await {
        Ok(page_data) => page(status, &page_data),
        Err(e) => failure(e),
    }
}

/// `POST /portal-links/{id}/revoke`: back to the customer's links.
pub async fn revoke(State(s): State<AppState>, Staff(ctx): Staff, Path(id): Path<String>) -> Response {
    match portal::revoke_link(&s.db, &ctx, &id).await {
        Ok(link) => match customers::get_customer(&s.db, &ctx, &link.customer_id.0.to_string()).await {
            Ok(customer) => Redirect::to(&format!("/customers/{}/portal-links", customer.code)).into_response(),
            Err(e) => failure(e),
        },
        Err(e) => failure(e),
    }
}

//! Portal links on the staff side: made (the URL shown once, to copy) or
//! made and emailed to an address of the customer's, listed with when each
//! was last used, and revoked, from the profile.

use askama::Template;
use axum::Form;
use axum::extract::{Path, State};
use axum::http::StatusCode;
use axum::response::{IntoResponse, Redirect, Response};
use dossier_domain::permissions::{Access, Action, Module};
use dossier_service::portal::{self, PortalLinkInput};
use dossier_service::sending::portal_links::{self, PortalLinkEmail};
use dossier_service::{Ctx, ServiceError, customers};

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
    /// A link just emailed: to whom.
    emailed_to: Option<String>,
    /// The addresses a link can be emailed to (`address`, `whose`), the
    /// default first; empty when it cannot be emailed (no mail server, no
    /// address, or the reader may not email customers).
    recipients: Vec<(String, String)>,
    error: Option<String>,
    can_create: bool,
    can_revoke: bool,
}

/// What was just done, to show on the page.
#[derive(Default)]
struct Made {
    url: Option<String>,
    emailed_to: Option<String>,
    error: Option<String>,
}

async fn links_page(s: &AppState, ctx: &Ctx, customer: &str, made: Made) -> Result<LinksPage, ServiceError> {
    let db = &s.db;
    let code = customers::get_customer(db, ctx, customer).await?.code;
    let offer = portal_links::offer(db, ctx, s.smtp.as_ref(), &code).await?;
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
        new_url: made.url,
        emailed_to: made.emailed_to,
        recipients: match offer.mail_server {
            true => offer.recipients.into_iter().map(|r| (r.address, r.whose)).collect(),
            false => Vec::new(),
        },
        error: made.error,
        can_create: ctx.access(Module::PortalLinks, Action::Create) != Access::None,
        can_revoke: ctx.access(Module::PortalLinks, Action::Delete) != Access::None,
    })
}

/// `GET /customers/{code}/portal-links`.
pub async fn list(State(s): State<AppState>, Staff(ctx): Staff, Path(code): Path<String>) -> Response {
    match links_page(&s, &ctx, &code, Made::default()).await {
        Ok(page_data) => page(StatusCode::OK, &page_data),
        Err(e) => failure(e),
    }
}

/// `POST /customers/{code}/portal-links`: make one and show its URL once;
/// with `send=email`, email it to `to` as well.
pub async fn create(State(s): State<AppState>, Staff(ctx): Staff, Path(code): Path<String>, Form(values): Form<Values>) -> Response {
    let days = value(&values, "expires_in_days").map(|d| d.parse::<u32>().unwrap_or(0));
    let email = (value(&values, "send").as_deref() == Some("email"))
        .then(|| PortalLinkEmail { to: value(&values, "to").into_iter().collect(), override_reason: value(&values, "override_reason") });
    let input = PortalLinkInput { expires_in_days: days, email };
    let (status, made) = match portal_links::create(&s.db, &ctx, s.smtp.as_ref(), &s.public_url, &code, input).await {
        Ok(created) => {
            let emailed_to = created.message.as_ref().and_then(|m| m.recipients.as_ref()).map(|r| r.to.join(", "));
            (StatusCode::CREATED, Made { url: Some(created.url), emailed_to, error: None })
        }
        Err(e @ (ServiceError::Invalid(_) | ServiceError::Conflict { .. })) => {
            let status = if matches!(e, ServiceError::Conflict { .. }) { StatusCode::CONFLICT } else { StatusCode::UNPROCESSABLE_ENTITY };
            (status, Made { error: Some(e.to_string()), ..Made::default() })
        }
        Err(e) => return failure(e),
    };
    match links_page(&s, &ctx, &code, made).await {
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

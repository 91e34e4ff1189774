//! Deleting a customer from its profile (owners and admins: a form that
//! confirms, with an optional reason), and the admin page "Deleted
//! customers": who deleted each, when and why, until when it can be
//! restored, and its Restore button. Each is the API's use case.

use askama::Template;
use axum::Form;
use axum::extract::{Path, Query, State};
use axum::http::StatusCode;
use axum::response::{IntoResponse, Redirect, Response};
use dossier_domain::customer::Customer;
use dossier_domain::data::deletion::{DeleteInput, RESTORE_WINDOW_DAYS};
use dossier_service::deletion::{self, DeletedQuery};
use dossier_service::{Ctx, Db, ServiceError, customers};
use serde::Deserialize;

use crate::AppState;
use crate::ui::forms::{Field, FormPage, Section, Values, again, value};
use crate::ui::nav::Viewer;
use crate::ui::views::day;
use crate::ui::{Staff, failure, page};

fn delete_form(ctx: &Ctx, customer: &Customer) -> FormPage {
    let back = format!("/customers/{}", customer.code);
    let hint = format!(
        "Optional; shown on the Deleted page. The customer leaves every list, search and count and becomes read-only; \
         an admin can restore it, as it was, for {RESTORE_WINDOW_DAYS} days."
    );
    FormPage {
        user: Some(Viewer::of(ctx)),
        title: format!("Delete {} ({})?", customer.display_name, customer.code),
        back: back.clone(),
        back_label: customer.display_name.clone(),
        action: format!("{back}/delete"),
        submit: "Delete customer",
        sections: vec![Section { legend: String::new(), fields: vec![Field::new("reason", "Reason", "textarea").hint(hint)] }],
        general: Vec::new(),
    }
}

/// `GET /customers/{id}/delete`: the confirmation, with a reason to give.
pub async fn ask_delete(State(s): State<AppState>, Staff(ctx): Staff, Path(id): Path<String>) -> Response {
    match customers::get_customer(&s.db, &ctx, &id).await {
        Ok(customer) => delete_form(&ctx, &customer).show(StatusCode::OK),
        Err(e) => failure(e),
    }
}

/// `POST /customers/{id}/delete`: back to the profile, read-only now.
pub async fn delete(State(s): State<AppState>, Staff(ctx): Staff, Path(id): Path<String>, Form(values): Form<Values>) -> Response {
    let customer = match customers::get_customer(&s.db, &ctx, &id).await {
        Ok(customer) => customer,
        Err(e) => return failure(e),
    };
    match deletion::delete_customer(&s.db, &ctx, &customer.code, DeleteInput { reason: value(&values, "reason") }).await {
        Ok(customer) => Redirect::to(&format!("/customers/{}", customer.code)).into_response(),
        Err(e) => again(delete_form(&ctx, &customer), &values, e, str::to_owned),
    }
}

/// `POST /customers/{id}/restore`: back to the Deleted page, which names
/// the customer restored.
pub async fn restore(State(s): State<AppState>, Staff(ctx): Staff, Path(id): Path<String>) -> Response {
    match deletion::restore_customer(&s.db, &ctx, &id).await {
        Ok(customer) => Redirect::to(&format!("/admin/deleted?restored={}", customer.code)).into_response(),
        Err(ServiceError::Conflict { message, .. }) => deleted_page(&s.db, &ctx, Shown::default(), Some(message)).await,
        Err(e) => failure(e),
    }
}

struct DeletedView {
    code: String,
    name: String,
    deleted_at: String,
    by: String,
    reason: String,
    restorable_until: String,
    restorable: bool,
}

#[derive(Template)]
#[template(path = "ui/deleted.html")]
struct DeletedPage {
    user: Option<Viewer>,
    customers: Vec<DeletedView>,
    window_days: i64,
    next: Option<String>,
    /// The customer just restored, by code.
    restored: Option<String>,
    error: Option<String>,
}

#[derive(Default, Deserialize)]
pub struct Shown {
    cursor: Option<String>,
    restored: Option<String>,
}

async fn deleted_page(db: &Db, ctx: &Ctx, shown: Shown, error: Option<String>) -> Response {
    let found = match deletion::list_deleted(db, ctx, DeletedQuery { cursor: shown.cursor, limit: None }).await {
        Ok(found) => found,
        Err(e) => return failure(e),
    };
    let now = ctx.now();
    let customers = found
        .items
        .into_iter()
        .filter_map(|c| {
            let deleted = c.deleted?;
            Some(DeletedView {
                code: c.code,
                name: c.display_name,
                deleted_at: day(&ctx.org, deleted.at),
                by: deleted.by.clone(),
                reason: deleted.reason.clone().unwrap_or_default(),
                restorable_until: day(&ctx.org, deleted.restorable_until),
                restorable: deleted.restorable(now),
            })
        })
        .collect();
    let status = if error.is_some() { StatusCode::CONFLICT } else { StatusCode::OK };
    let page_data = DeletedPage {
        user: Some(Viewer::of(ctx)),
        customers,
        window_days: RESTORE_WINDOW_DAYS,
        next: found.next_cursor.map(|c| format!("/admin/deleted?cursor={c}")),
        restored: shown.restored.filter(|code| code.len() <= 40),
        error,
    };
    page(status, &page_data)
}

/// `GET /admin/deleted`.
pub async fn show(State(s): State<AppState>, Staff(ctx): Staff, Query(shown): Query<Shown>) -> Response {
    deleted_page(&s.db, &ctx, shown, None).await
}

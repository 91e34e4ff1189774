//! The web app for staff: server-rendered pages (askama) over the same
//! service functions as the API, with our own CSS and a little JavaScript
//! that only enhances. Signed-in staff are recognised by the session cookie;
//! anyone else is sent to the sign-in page.

mod customers;
mod forms;
mod lists;
mod moves;
mod my_jobs;
pub(crate) mod nav;
mod orgs;
mod record_forms;
mod records;
mod views;

// Rooms by capability, as in every crate.
mod conversations {
    pub(super) mod files;
    pub(super) mod follow_ups;
    pub(super) mod messages;
}
mod custom_fields {
    pub(super) mod admin;
    pub(super) mod inputs;
}
mod automation {
    pub(super) mod settings;
    pub(super) mod tasks;
}
mod sending {
    pub(super) mod email;
    pub(super) mod email_settings;
    pub(super) mod inbound;
    pub(super) mod sms;
    pub(super) mod templates;
}
mod data {
    pub(super) mod deletion;
    pub(super) mod imports;
    pub(super) mod merge;
}
mod access {
    pub(super) mod admin;
    pub(super) mod portal_links;
    pub(super) mod sign_in;
}
use access::{admin, portal_links, sign_in};
use conversations::{files, follow_ups, messages};
use customers::profile_forms;

use askama::Template;
use axum::Router;
use axum::extract::{FromRequestParts, State};
use axum::http::request::Parts;
use axum::http::{HeaderValue, StatusCode, header};
use axum::response::{Html, IntoResponse, Redirect, Response};
use axum::routing::{get, post};
use dossier_service::{Ctx, ServiceError};

use crate::AppState;
use crate::auth::session_cookie;
use crate::ui::nav::Viewer;

pub fn router() -> Router<AppState> {
    let mut router = Router::new();
    for kind in records::KINDS {
        let show = move |s: axum::extract::State<AppState>, staff: Staff, code: axum::extract::Path<String>| records::record(s, staff, code, kind);
        router = router.route(&format!("/{kind}/{{code}}"), get(show));
        let list = move |s: axum::extract::State<AppState>, staff: Staff, query: axum::extract::Query<lists::ListParams>| lists::list(s, staff, query, kind);
        router = router.route(&format!("/{kind}"), get(list));
        let export =
            move |s: axum::extract::State<AppState>, staff: Staff, query: axum::extract::Query<lists::ListParams>| lists::export_csv(s, staff, query, kind);
        router = router.route(&format!("/{kind}.csv"), get(export));
    }
    for kind in moves::KINDS {
        let make = move |s: axum::extract::State<AppState>, staff: Staff, code: axum::extract::Path<String>, form: axum::Form<forms::Values>| {
            moves::move_record(s, staff, code, kind, form)
        };
        router = router.route(&format!("/{kind}/{{code}}/move"), post(make));
    }
    router
        .route("/", get(|| async { Redirect::to("/customers") }))
        .route("/sign-in", get(sign_in::form).post(sign_in::submit))
        .route("/sign-out", post(sign_in::sign_out))
        .route("/customers", get(customers::directory))
        .route("/customers.csv", get(customers::directory_csv))
        .route("/customers/{id}/export.zip", get(customers::data_export))
        .route("/customers/new", get(profile_forms::new_customer).post(profile_forms::create_customer))
        .route("/customers/labels", post(customers::bulk_labels))
        .route("/customers/{id}/labels", get(profile_forms::new_label).post(profile_forms::add_label))
        .route("/customers/{id}/labels/remove", post(profile_forms::remove_label))
        .route("/customers/{id}", get(customers::profile))
        .route("/customers/{id}/statement", get(customers::statement::show))
        .route("/customers/{id}/edit", get(profile_forms::edit_customer).post(profile_forms::update_customer))
        .route("/customers/{id}/status", get(profile_forms::status).post(profile_forms::change_status))
        .route("/customers/{id}/erasure", get(customers::erasure::form).post(customers::erasure::erase))
        .route("/customers/{id}/delete", get(data::deletion::ask_delete).post(data::deletion::delete))
        .route("/customers/{id}/restore", post(data::deletion::restore))
        .route("/admin/deleted", get(data::deletion::show))
        .route("/imports", get(data::imports::show).post(data::imports::upload).layer(axum::extract::DefaultBodyLimit::disable()))
        .route("/imports/template.csv", get(data::imports::template))
        .route("/imports/{id}", get(data::imports::show_import))
        .route("/imports/{id}/dry-run", post(data::imports::check))
        .route("/imports/{id}/run", post(data::imports::start))
        .route("/imports/{id}/report.csv", get(data::imports::report))
        .route("/admin/duplicates", get(data::merge::show))
        .route("/admin/duplicates/dismiss", post(data::merge::dismiss))
        .route("/customers/{id}/merge", get(data::merge::form).post(data::merge::submit))
        .route("/merges/{id}/undo", post(data::merge::undo))
        .route("/customers/{id}/contacts/new", get(profile_forms::new_contact).post(profile_forms::create_contact))
        .route("/customers/{id}/sites/new", get(profile_forms::new_site).post(profile_forms::create_site))
        .route("/contacts/{id}/edit", get(profile_forms::edit_contact).post(profile_forms::update_contact))
        .route("/sites/{id}/edit", get(profile_forms::edit_site).post(profile_forms::update_site))
        .route("/contacts/{id}/delete", get(profile_forms::ask_delete_contact).post(profile_forms::delete_contact))
        .route("/sites/{id}/delete", get(profile_forms::ask_delete_site).post(profile_forms::delete_site))
        .route("/follow-ups", get(follow_ups::list))
        .route("/my-jobs", get(my_jobs::my_jobs))
        .route("/customers/{id}/portal-links", get(portal_links::list).post(portal_links::create))
        .route("/portal-links/{id}/revoke", post(portal_links::revoke))
        .route("/admin", get(admin::show))
        .route("/settings", get(orgs::show).post(orgs::save))
        .route("/settings/logo", get(orgs::logo_page).post(orgs::set_logo))
        .route("/settings/email", get(sending::email_settings::show).post(sending::email_settings::save))
        .route("/settings/logo.img", get(orgs::logo))
        .route("/settings/sms", get(sending::sms::settings_page).post(sending::sms::save_settings))
        .route("/customers/{id}/sms", get(sending::sms::new_sms).post(sending::sms::submit))
        .route("/inbox", get(sending::inbound::show))
        .route("/inbox/{id}/assign", post(sending::inbound::assign))
        .route("/inbox/{id}/dismiss", post(sending::inbound::dismiss))
        .route("/settings/inbound-email", get(sending::inbound::settings).post(sending::inbound::new_secret))
        .route("/settings/export.zip", get(export_download))
        .route("/settings/automations", get(automation::settings::show).post(automation::settings::save))
        .route("/settings/templates", get(sending::templates::list))
        .route("/settings/templates/{purpose}", get(sending::templates::show).post(sending::templates::save))
        .route("/settings/templates/{purpose}/reset", post(sending::templates::reset))
        .route("/admin/tasks", get(automation::tasks::show))
        .route("/admin/tasks/{id}/retry", post(automation::tasks::retry))
        .route("/admin/tasks/{id}/cancel", post(automation::tasks::cancel))
        .route("/admin/custom-fields", get(custom_fields::admin::show).post(custom_fields::admin::define))
        .route("/admin/custom-fields/{id}/change", post(custom_fields::admin::change))
        .route("/admin/custom-fields/{id}/move", post(custom_fields::admin::move_field))
        .route("/admin/custom-fields/{id}/remove", post(custom_fields::admin::remove))
        .route("/users", post(admin::invite))
        .route("/users/{id}/change", post(admin::change))
        .route("/users/{id}/history", get(admin::history))
        .route("/tokens", post(admin::make_token))
        .route("/tokens/{id}/revoke", post(admin::revoke_token))
        .route("/invitation", get(admin::invitation).post(admin::accept))
        .route("/follow-ups/{id}/change", post(follow_ups::change_follow_up))
        .route("/customers/{id}/follow-ups", post(follow_ups::create_follow_up))
        .route("/customers/{id}/follow-ups/new", get(follow_ups::new_follow_up))
        .route("/customers/{id}/messages", post(messages::post_message).layer(axum::extract::DefaultBodyLimit::disable()))
        .route("/customers/{id}/files", post(files::upload).layer(axum::extract::DefaultBodyLimit::disable()))
        .route("/customers/{id}/files/new", get(files::new_upload))
        .route("/files/{id}", get(files::open))
        .route("/files/{id}/thumbnail", get(files::thumbnail))
        .route("/files/{id}/delete", post(files::delete))
        .route("/customers/{id}/messages/new", get(messages::new_message))
        .route("/customers/{id}/email", get(sending::email::new_email).post(sending::email::post_email))
        .route("/customers/{id}/as-customer", get(messages::as_customer))
        .route("/messages/{id}/edit", get(messages::edit_message).post(messages::update_message))
        .route("/messages/{id}/delete", post(messages::delete_message))
        .route("/messages/{id}/pin", post(messages::pin_message))
        .route("/messages/{id}/send", post(messages::send_message))
        .route("/messages/{id}/cancel-sending", post(messages::cancel_message))
        .route("/customers/{id}/inquiries/new", get(record_forms::new_inquiry).post(record_forms::create_inquiry))
        .route("/customers/{id}/quotes/new", get(record_forms::new_quote).post(record_forms::create_quote))
        .route("/customers/{id}/jobs/new", get(record_forms::new_job).post(record_forms::create_job))
        .route("/jobs/{code}/edit", get(record_forms::edit_job).post(record_forms::update_job))
        .route("/customers/{id}/invoices/new", get(record_forms::new_invoice).post(record_forms::create_invoice))
        .route("/customers/{id}/payments/new", get(record_forms::new_payment).post(record_forms::create_payment))
        .route("/customers/{id}/credit-notes/new", get(record_forms::new_credit_note).post(record_forms::create_credit_note))
        .route("/static/app.css", get(|| async { asset("text/css; charset=utf-8", include_str!("../../static/app.css")) }))
        .route("/static/app.js", get(|| async { asset("text/javascript; charset=utf-8", include_str!("../../static/app.js")) }))
        .route("/static/portal.css", get(|| async { asset("text/css; charset=utf-8", include_str!("../../static/portal.css")) }))
}

fn asset(content_type: &'static str, body: &'static str) -> Response {
    ([(header::CONTENT_TYPE, content_type), (header::CACHE_CONTROL, "public, max-age=3600")], body).into_response()
}

/// A signed-in staff member. Without a working session the page answers
/// with a redirect to the sign-in page, which comes back here afterwards.
pub struct Staff(pub Ctx);

impl FromRequestParts<AppState> for Staff {
    type Rejection = Response;

    async fn from_request_parts(parts: &mut Parts, state: &AppState) -> Result<Self, Self::Rejection> {
        let here = parts.uri.path_and_query().map_or("/", |p| p.as_str()).to_owned();
        let to_sign_in = || Redirect::to(&format!("/sign-in?next={}", sign_in::encode(&here))).into_response();
        let cookie = session_cookie(&parts.headers).ok_or_else(to_sign_in)?;
        match dossier_service::sessions::authenticate(&state.db, cookie).await {
            Ok(ctx) => Ok(Staff(ctx)),
            Err(ServiceError::Unauthenticated) => Err(to_sign_in()),
            Err(e) => Err(failure(e)),
        }
    }
}

/// A rendered page, never cached (it shows one person's view of the data).
fn page(status: StatusCode, template: &impl Template) -> Response {
    match template.render() {
        Ok(text) => {
            let mut response = (status, Html(text)).into_response();
            response.headers_mut().insert(header::CACHE_CONTROL, HeaderValue::from_static("no-store"));
            response
        }
        Err(e) => {
            tracing::error!(error = %e, "rendering a page failed");
            (StatusCode::INTERNAL_SERVER_ERROR, "Something went wrong. Please try again.").into_response()
        }
    }
}

#[derive(Template)]
#[template(path = "ui/problem.html")]
struct ProblemPage {
    user: Option<Viewer>,
    heading: String,
    message: String,
}

/// An error answered outside the pages' handlers (a form over the body
/// limit, an address that is not UTF-8, a timeout, a refused cross-site
/// form) as a page: a heading and message for its status, or `message`.
pub(crate) fn error_page(status: StatusCode, message: Option<String>) -> Response {
    let (heading, default) = match status {
        StatusCode::NOT_FOUND => ("Not found", "There is no page at this address."),
        StatusCode::FORBIDDEN => ("Not allowed", "This request was refused."),
        StatusCode::METHOD_NOT_ALLOWED => ("Not allowed", "This page cannot be used that way."),
        StatusCode::PAYLOAD_TOO_LARGE => ("Too large", "What you sent is larger than Dossier accepts (2 MB)."),
        StatusCode::URI_TOO_LONG => ("Address too long", "The address of this page is longer than Dossier accepts."),
        StatusCode::TOO_MANY_REQUESTS => ("Too many attempts", "Please wait a little and try again."),
        StatusCode::SERVICE_UNAVAILABLE => ("Busy", "Dossier is busy. Please try again in a few seconds."),
        _ if status.is_server_error() => ("Something went wrong", "Please try again in a moment."),
        _ => ("That did not work", "The request could not be read."),
    };
    let message = message.map(|m| format!("{}.", forms::capitalised(m.trim_end_matches('.')))).unwrap_or_else(|| default.to_owned());
    page(status, &ProblemPage { user: None, heading: heading.to_owned(), message })
}

/// A failed use case as a page: not found, not allowed, or our fault.
fn failure(error: ServiceError) -> Response {
    let (status, heading) = match &error {
        ServiceError::NotFound(_) => (StatusCode::NOT_FOUND, "Not found"),
        ServiceError::Forbidden { .. } | ServiceError::NotAuthor { .. } => (StatusCode::FORBIDDEN, "Not allowed"),
        ServiceError::Invalid(_) => (StatusCode::UNPROCESSABLE_ENTITY, "That did not work"),
        ServiceError::Busy { .. } => (StatusCode::SERVICE_UNAVAILABLE, "Busy"),
        ServiceError::Store(e) if e.is_busy() => {
            tracing::warn!(error = %e, "no database connection came free in time");
            (StatusCode::SERVICE_UNAVAILABLE, "Busy")
        }
        ServiceError::Store(_) | ServiceError::Internal(_) => {
            tracing::error!(error = %error, "page failed");
            (StatusCode::INTERNAL_SERVER_ERROR, "Something went wrong")
        }
        _ => (StatusCode::BAD_REQUEST, "That did not work"),
    };
    let message = match status {
        StatusCode::INTERNAL_SERVER_ERROR => "Please try again in a moment.".to_owned(),
        StatusCode::SERVICE_UNAVAILABLE => "Dossier is busy. Please try again in a few seconds.".to_owned(),
        _ => error.to_string(),
    };
    let retry_after = match status {
        StatusCode::SERVICE_UNAVAILABLE => crate::error::retry_after_secs(&error).or(Some(crate::limits::RETRY_AFTER_TIMEOUT_SECS)),
        _ => crate::error::retry_after_secs(&error),
    };
    let mut answer = page(status, &ProblemPage { user: None, heading: heading.to_owned(), message });
    if let Some(seconds) = retry_after {
        answer.headers_mut().insert(header::RETRY_AFTER, seconds.into());
    }
    answer
}

/// The org's full export, for owners and admins (the admin page links it).
async fn export_download(State(s): State<AppState>, Staff(ctx): Staff) -> Response {
    match crate::api::data::export::export_response(&s, &ctx).await {
        Ok(response) => response,
        Err(e) => failure(e),
    }
}

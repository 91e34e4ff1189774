//! The customer portal's pages: server-rendered HTML that works without
//! JavaScript. The link's secret is the path; a link that does not work
//! (unknown, expired, revoked) gets one "not valid" page.

use askama::Template;
use axum::Form;
use axum::Router;
use axum::extract::{FromRequestParts, Path, Query, State};
use axum::http::request::Parts;
use axum::http::{HeaderName, HeaderValue, StatusCode, header};
use axum::response::{Html, IntoResponse, Redirect, Response};
use axum::routing::{get, post};
use dossier_domain::ValidationErrors;
use dossier_service::portal::{self, AddressForm, ContactForm, PortalView, ReplyForm, Visitor};
use dossier_service::{Db, ServiceError};
use serde::Deserialize;

use crate::AppState;

pub fn router() -> Router<AppState> {
    Router::new()
        .route("/portal/{token}", get(page))
        .route("/portal/{token}/statement.pdf", get(statement))
        .route("/portal/{token}/address", post(save_address))
        .route("/portal/{token}/contact", post(save_contact))
        .route("/portal/{token}/messages", post(send_reply))
        .route("/portal/{token}/invoices/{code}/pdf", get(invoice_pdf))
        .route("/portal/{token}/files/{id}", get(file))
        .route("/portal/{token}/logo", get(logo))
}

/// A file the customer may download, as the portal lists it.
pub(crate) struct PortalFile {
    name: String,
    size: String,
    /// Empty in "view as the customer" (nothing there opens).
    href: String,
    /// The invoice it was shared on, when it came with no message.
    invoice: Option<String>,
}

struct Field {
    name: &'static str,
    label: &'static str,
    autocomplete: &'static str,
    value: String,
    error: Option<String>,
}

struct InvoiceLine {
    code: String,
    issued: String,
    due: String,
    overdue: bool,
    total: String,
    balance: String,
    state: String,
}

/// One message of the conversation as the customer sees it.
pub(crate) struct Message {
    pub(crate) at: String,
    /// "You" for the customer's own, else the business's name.
    pub(crate) from: String,
    pub(crate) subject: Option<String>,
    /// The body as safe HTML (escaped; links and line breaks only).
    pub(crate) html: String,
    /// "Deleted on …" instead of the text.
    pub(crate) deleted: Option<String>,
    /// The files that came with it.
    pub(crate) files: Vec<PortalFile>,
}

impl Message {
    pub(crate) fn of(message: &dossier_domain::message::Message, org_name: &str) -> Self {
        let from = match message.author.kind {
            dossier_domain::activity::ActorType::Customer => "You".to_owned(),
            _ => org_name.to_owned(),
        };
        Message {
            at: message.occurred_at.strftime("%Y-%m-%d %H:%M").to_string(),
            from,
            subject: message.subject.clone(),
            html: crate::rich_text::to_html(&message.body),
            deleted: message.deleted.as_ref().map(|d| format!("Deleted on {}", d.at.strftime("%Y-%m-%d"))),
            files: Vec::new(),
        }
    }
}

/// An entry of the customer's own history (a change they made).
struct Change {
    at: String,
    text: String,
}

#[derive(Template)]
#[template(path = "portal.html")]
pub(crate) struct PortalPage {
    base: String,
    org_name: String,
    /// The org's logo is served at `{base}/logo`.
    has_logo: bool,
    customer_name: String,
    customer_code: String,
    balance: String,
    notice: Option<&'static str>,
    open_invoices: Vec<InvoiceLine>,
    past_invoices: Vec<InvoiceLine>,
    messages: Vec<Message>,
    /// Files shared on their invoices (those of messages are under them).
    documents: Vec<PortalFile>,
    changes: Vec<Change>,
    reply: String,
    reply_error: Option<String>,
    /// Staff looking at what the customer sees: nothing can be sent.
    preview: bool,
    address_fields: Vec<Field>,
    contact_fields: Vec<Field>,
    expires: String,
}

#[derive(Template)]
#[template(path = "portal_gone.html")]
struct GonePage;

/// What a failed form submit keeps: the values typed and the errors found.
#[derive(Default)]
pub(crate) struct Submitted {
    address: Option<AddressForm>,
    contact: Option<ContactForm>,
    reply: Option<ReplyForm>,
    errors: Vec<(String, String)>,
}

impl Submitted {
    fn error(&self, field: &str) -> Option<String> {
        self.errors.iter().find(|(f, _)| f == field).map(|(_, m)| m.clone())
    }
}

pub(crate) fn render(view: PortalView, token: &str, notice: Option<&'static str>, submitted: &Submitted) -> PortalPage {
    let currency = view.money;
    let date = |d: Option<jiff::civil::Date>| d.map_or_else(String::new, |d| view.date_format.show(d));
    let line = |i: &dossier_domain::works::Invoice| InvoiceLine {
        code: i.code.clone(),
        issued: date(i.issue_date),
        due: date(i.due_date),
        overdue: i.state == dossier_domain::workflow::InvoiceState::Overdue,
        total: i.totals.total.format(currency),
        balance: i.balance.format(currency),
        state: match i.state {
            dossier_domain::workflow::InvoiceState::Closed => "Paid".to_owned(),
            dossier_domain::workflow::InvoiceState::Credited => "Credited".to_owned(),
            other => other.to_string(),
        },
    };
    let profile = view.billing_address.as_ref().map(|s| &s.profile);
    let address = submitted.address.clone().unwrap_or_else(|| AddressForm {
        address_line1: profile.map(|p| p.address_line1.clone()),
        address_line2: profile.and_then(|p| p.address_line2.clone()),
        town: profile.and_then(|p| p.town.clone()),
        postcode: profile.map(|p| p.postcode.clone()),
        country: profile.map(|p| p.country.clone()),
    });
    let contact = submitted.contact.clone().unwrap_or_else(|| ContactForm {
        email: view.customer.profile.email.as_ref().map(|e| e.as_str().to_owned()),
        phone: view.customer.profile.phone.as_ref().map(|p| p.to_string()),
    });
    let field = |name: &'static str, label: &'static str, autocomplete: &'static str, value: Option<String>| Field {
        name,
        label,
        autocomplete,
        value: value.unwrap_or_default(),
        error: submitted.error(name),
    };
    let base = format!("/portal/{token}");
    let files_of = |message: Option<dossier_domain::ids::MessageId>| -> Vec<PortalFile> {
        view.files
            .iter()
            .filter(|f| f.message_id == message)
            .map(|f| PortalFile {
                name: f.name.clone(),
                size: dossier_domain::file::size_text(f.size),
                href: if token.is_empty() { String::new() } else { format!("{base}/files/{}", f.id) },
                invoice: f.record.as_ref().and_then(|r| r.code.clone()),
            })
            .collect()
    };
    PortalPage {
        base: base.clone(),
        org_name: view.org_name.clone(),
        customer_name: view.customer.display_name.clone(),
        customer_code: view.customer.code.clone(),
        balance: view.balance.format(currency),
        notice,
        open_invoices: view.open_invoices.iter().map(line).collect(),
        past_invoices: view.past_invoices.iter().map(line).collect(),
        messages: view.messages.iter().map(|m| Message { files: files_of(Some(m.id)), ..Message::of(m, &view.org_name) }).collect(),
        documents: files_of(None),
        changes: view
            .activity
            .iter()
            .map(|a| Change { at: view.date_format.show(a.occurred_at.to_zoned(view.zone.clone()).date()), text: a.summary.clone() })
            .collect(),
        reply: submitted.reply.as_ref().and_then(|r| r.body.clone()).unwrap_or_default(),
        reply_error: submitted.error("body"),
        preview: false,
        address_fields: vec![
            field("address_line1", "Address", "address-line1", address.address_line1),
            field("address_line2", "Address line 2 (optional)", "address-line2", address.address_line2),
            field("town", "Town (optional)", "address-level2", address.town),
            field("postcode", "Postcode", "postal-code", address.postcode),
            field("country", "Country code (optional)", "country", address.country),
        ],
        contact_fields: vec![field("email", "Email", "email", contact.email), field("phone", "Phone", "tel", contact.phone)],
        expires: view.date_format.show(view.expires_at.to_zoned(view.zone.clone()).date()),
        has_logo: view.has_logo,
    }
}

/// Private pages: not cached and not indexed. That they are not framed and
/// send no referrer (the link is their secret) is `headers::secure`'s, for
/// every portal answer.
fn private(status: StatusCode, body: Response) -> Response {
    let mut response = (status, body).into_response();
    let headers = response.headers_mut();
    headers.insert(header::CACHE_CONTROL, HeaderValue::from_static("no-store"));
    headers.insert(HeaderName::from_static("x-robots-tag"), HeaderValue::from_static("noindex"));
    response
}

fn html(template: &impl Template) -> Response {
    match template.render() {
        Ok(text) => Html(text).into_response(),
        Err(e) => {
            tracing::error!(error = %e, "rendering a portal page failed");
            (StatusCode::INTERNAL_SERVER_ERROR, "Something went wrong. Please try again later.").into_response()
        }
    }
}

/// The answer when a use case fails: the "not valid" page for a bad link,
/// a plain error page otherwise.
fn failure(error: ServiceError) -> Response {
    match error {
        ServiceError::NotFound(_) => private(StatusCode::NOT_FOUND, html(&GonePage)),
        other => {
            tracing::error!(error = %other, "portal request failed");
            private(StatusCode::INTERNAL_SERVER_ERROR, "Something went wrong. Please try again later.".into_response())
        }
    }
}

/// A portal request whose link works: its secret and the customer it opens.
/// Any other link gets the "not valid" page before a handler runs.
struct Opened {
    token: String,
    visitor: Visitor,
}

impl FromRequestParts<AppState> for Opened {
    type Rejection = Response;

    async fn from_request_parts(parts: &mut Parts, state: &AppState) -> Result<Self, Self::Rejection> {
        let Path(params) = Path::<std::collections::HashMap<String, String>>::from_request_parts(parts, state)
            .await
            .map_err(|_| failure(ServiceError::NotFound("portal link")))?;
        let token = params.get("token").cloned().ok_or_else(|| failure(ServiceError::NotFound("portal link")))?;
        let visitor = portal::open(&state.db, &token).await.map_err(failure)?;
        Ok(Opened { token, visitor })
    }
}

#[derive(Deserialize)]
struct PageQuery {
    saved: Option<String>,
}

async fn show(db: &Db, opened: &Opened, status: StatusCode, notice: Option<&'static str>, submitted: &Submitted) -> Response {
    match portal::view(db, &opened.visitor).await {
        Ok(view) => private(status, html(&render(view, &opened.token, notice, submitted))),
        Err(e) => failure(e),
    }
}

async fn page(State(s): State<AppState>, opened: Opened, Query(query): Query<PageQuery>) -> Response {
    let notice = match query.saved.as_deref() {
        Some("address") => Some("Your billing address was saved."),
        Some("contact") => Some("Your contact details were saved."),
        Some("message") => Some("Your message was sent."),
        _ => None,
    };
    show(&s.db, &opened, StatusCode::OK, notice, &Submitted::default()).await
}

async fn statement(State(s): State<AppState>, opened: Opened) -> Response {
    match portal::statement_pdf(&s.db, &opened.visitor).await {
        Ok(pdf) => {
            let headers = [(header::CONTENT_TYPE, "application/pdf"), (header::CONTENT_DISPOSITION, "attachment; filename=\"statement.pdf\"")];
            private(StatusCode::OK, (headers, pdf).into_response())
        }
        Err(e) => failure(e),
    }
}

/// After a form: back to the page with a notice, or the page again with
/// the values typed and each error next to its field.
async fn after_submit<T>(db: &Db, opened: &Opened, saved: &str, result: Result<T, ServiceError>, submitted: Submitted) -> Response {
    match result {
        Ok(_) => Redirect::to(&format!("/portal/{}?saved={saved}", opened.token)).into_response(),
        Err(ServiceError::Invalid(ValidationErrors(errors))) => {
            let errors = errors.into_iter().map(|e| (e.field, e.message)).collect();
            show(db, opened, StatusCode::UNPROCESSABLE_ENTITY, None, &Submitted { errors, ..submitted }).await
        }
        Err(e) => failure(e),
    }
}

async fn save_address(State(s): State<AppState>, opened: Opened, Form(form): Form<AddressForm>) -> Response {
    let result = portal::update_billing_address(&s.db, &opened.visitor, form.clone()).await;
    after_submit(&s.db, &opened, "address", result, Submitted { address: Some(form), ..Default::default() }).await
}

async fn save_contact(State(s): State<AppState>, opened: Opened, Form(form): Form<ContactForm>) -> Response {
    let result = portal::update_contact_details(&s.db, &opened.visitor, form.clone()).await;
    after_submit(&s.db, &opened, "contact", result, Submitted { contact: Some(form), ..Default::default() }).await
}

async fn send_reply(State(s): State<AppState>, opened: Opened, Form(form): Form<ReplyForm>) -> Response {
    let result = portal::reply(&s.db, &opened.visitor, form.clone()).await;
    after_submit(&s.db, &opened, "message", result, Submitted { reply: Some(form), ..Default::default() }).await
}

/// The portal page as the customer sees it, for staff: rendered by the same
/// code, with nothing that could send.
pub(crate) fn preview(view: PortalView) -> PortalPage {
    PortalPage { preview: true, ..render(view, "", None, &Submitted::default()) }
}

/// A file the customer may download (on a message meant for them, or
/// shared on their invoice).
async fn file(State(s): State<AppState>, opened: Opened, Path(params): Path<std::collections::HashMap<String, String>>) -> Response {
    let id = params.get("id").cloned().unwrap_or_default();
    match portal::file(&s.db, &s.files, &opened.visitor, &id).await {
        Ok((file, content)) => {
            let mut response = crate::downloads::file_response(&file, content, false);
            response.headers_mut().insert(HeaderName::from_static("x-robots-tag"), HeaderValue::from_static("noindex"));
            response
        }
        Err(ServiceError::NotFound(_)) => private(StatusCode::NOT_FOUND, "No such file.".into_response()),
        Err(e) => failure(e),
    }
}

/// One of the customer's invoices as a PDF.
async fn invoice_pdf(State(s): State<AppState>, opened: Opened, Path(params): Path<std::collections::HashMap<String, String>>) -> Response {
    let code = params.get("code").cloned().unwrap_or_default();
    match portal::invoice_pdf(&s.db, &opened.visitor, &code).await {
        Ok(pdf) => private(StatusCode::OK, crate::api::pdf(&code, pdf).into_response()),
        Err(ServiceError::NotFound(_)) => private(StatusCode::NOT_FOUND, "No such invoice.".into_response()),
        Err(e) => failure(e),
    }
}

async fn logo(State(s): State<AppState>, opened: Opened) -> Response {
    match portal::logo(&s.db, &opened.visitor).await {
        Ok(Some(logo)) => private(StatusCode::OK, ([(header::CONTENT_TYPE, logo.content_type)], logo.bytes).into_response()),
        Ok(None) => failure(ServiceError::NotFound("logo")),
        Err(e) => failure(e),
    }
}

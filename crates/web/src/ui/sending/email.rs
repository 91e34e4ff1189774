//! Emailing a customer from the web app: `/customers/{code}/email` (from
//! the profile and every record page, `?record_type=invoice&record=INV-00001`)
//! offers the customer's and its contacts' addresses as To and Cc, a
//! subject and text, the record's PDF (ticked for an invoice or quote), a
//! statement and the files the customer may see, and the purpose. "Review"
//! shows the email as it will leave, with what allowed it (the service's
//! dry run); "Send" queues it and goes to the timeline, where its tile
//! says queued, sent or failed.

use askama::Template;
use axum::Form;
use axum::extract::{Path, Query, State};
use axum::http::StatusCode;
use axum::response::{IntoResponse, Redirect, Response};
use dossier_domain::activity::Visibility;
use dossier_domain::message::RecordType;
use dossier_domain::sending::email::{AttachmentInput, DocumentKind, EmailInput};
use dossier_service::files::FileQuery;
use dossier_service::sending::email::{self, EmailOutcome, EmailPreview};
use dossier_service::templates::{self, FillFor, TemplatePurpose};
use dossier_service::{Ctx, ServiceError, contacts, customers, files};

use crate::AppState;
use crate::ui::forms::{Field, FormPage, Section, Values, again, value};
use crate::ui::nav::Viewer;
use crate::ui::{Staff, failure, page};

/// What the form offers: the addresses (with whose they are) and the
/// customer-visible files, in a fixed order the checkboxes name by index.
struct Offer {
    code: String,
    name: String,
    addresses: Vec<(String, String)>,
    files: Vec<(String, String)>,
}

async fn offer(s: &AppState, ctx: &Ctx, customer: &str) -> Result<Offer, ServiceError> {
    let customer = customers::get_customer(&s.db, ctx, customer).await?;
    let mut addresses = Vec::new();
    if let Some(email) = &customer.profile.email {
        addresses.push((email.as_str().to_owned(), customer.display_name.clone()));
    }
    for contact in contacts::list_contacts(&s.db, ctx, &customer.code).await? {
        for email in &contact.profile.emails {
            addresses.push((email.address.as_str().to_owned(), contact.display_name.clone()));
        }
    }
    let query = FileQuery { limit: Some(200), ..Default::default() };
    let files = files::list_files(&s.db, ctx, &customer.code, query)
        .await
        .map(|page| {
            page.items.into_iter().filter(|f| f.visibility == Visibility::Customer && f.deleted.is_none()).map(|f| (f.id.to_string(), f.name)).collect()
        })
        .unwrap_or_default();
    Ok(Offer { code: customer.code, name: customer.display_name, addresses, files })
}

fn document_of(values: &Values) -> Option<(DocumentKind, String)> {
    let record = value(values, "record")?;
    match value(values, "record_type").as_deref() {
        Some("invoice") => Some((DocumentKind::Invoice, record)),
        Some("quote") => Some((DocumentKind::Quote, record)),
        _ => None,
    }
}

fn form(ctx: &Ctx, offer: &Offer, values: &Values) -> FormPage {
    let checkbox = |name: String, label: String, on: bool| Field::new(name, label, "checkbox").value(if on { "on" } else { "" });
    let to = offer.addresses.iter().enumerate().map(|(i, (address, whose))| checkbox(format!("to_{i}"), format!("{whose} <{address}>"), i == 0)).collect();
    let cc = offer.addresses.iter().enumerate().map(|(i, (address, whose))| checkbox(format!("cc_{i}"), format!("{whose} <{address}>"), false)).collect();
    let mut attachments = Vec::new();
    if let Some((kind, record)) = document_of(values) {
        attachments.push(checkbox("attach_record".into(), format!("The {kind} {record} as a PDF"), true));
    }
    attachments.push(checkbox("attach_statement".into(), "The statement of account as a PDF".into(), false));
    attachments.extend(offer.files.iter().enumerate().map(|(i, (_, name))| checkbox(format!("file_{i}"), name.clone(), false)));
    let back = format!("/customers/{}", offer.code);
    FormPage {
        user: Some(Viewer::of(ctx)),
        title: format!("Email {}", offer.name),
        back,
        back_label: "Back to the customer".into(),
        action: format!("/customers/{}/email", offer.code),
        submit: "Review",
        sections: vec![
            Section { legend: "To".into(), fields: to },
            Section { legend: "Cc".into(), fields: cc },
            Section {
                legend: "The email".into(),
                fields: vec![
                    Field::new("subject", "Subject", "text").required().value(value(values, "subject").unwrap_or_default()),
                    Field::new("body", "Text", "textarea").required(),
                    Field::new("purpose", "Purpose", "select").options([
                        (String::new(), "As the record says (billing for money, else service)".to_owned()),
                        ("service".to_owned(), "Service".to_owned()),
                        ("billing".to_owned(), "Billing".to_owned()),
                        ("marketing".to_owned(), "Marketing".to_owned()),
                    ]),
                    Field::new("override_reason", "Send anyway, because", "text")
                        .hint("Only when the customer opted out of this purpose by email; it is recorded"),
                    Field::new("record_type", "", "hidden").value(value(values, "record_type").unwrap_or_default()),
                    Field::new("record", "", "hidden").value(value(values, "record").unwrap_or_default()),
                ],
            },
            Section { legend: "Attachments".into(), fields: attachments },
        ],
        general: Vec::new(),
    }
}

fn ticked(values: &Values, name: &str) -> bool {
    values.get(name).is_some_and(|v| !v.is_empty())
}

fn input_of(offer: &Offer, values: &Values, dry_run: bool) -> EmailInput {
    let picked =
        |prefix: &str| offer.addresses.iter().enumerate().filter(|(i, _)| ticked(values, &format!("{prefix}_{i}"))).map(|(_, (a, _))| a.clone()).collect();
    let mut attachments = Vec::new();
    if ticked(values, "attach_record")
        && let Some((document, record)) = document_of(values)
    {
        attachments.push(AttachmentInput::Document { document, record: Some(record) });
    }
    if ticked(values, "attach_statement") {
        attachments.push(AttachmentInput::Document { document: DocumentKind::Statement, record: None });
    }
    attachments.extend(
        offer.files.iter().enumerate().filter(|(i, _)| ticked(values, &format!("file_{i}"))).map(|(_, (id, _))| AttachmentInput::File { file: id.clone() }),
    );
    EmailInput {
        to: picked("to"),
        cc: picked("cc"),
        subject: value(values, "subject"),
        body: value(values, "body"),
        record_type: value(values, "record_type").and_then(|r| RecordType::parse(&r)),
        record: value(values, "record"),
        purpose: value(values, "purpose").and_then(|p| dossier_domain::consent::Purpose::parse(&p)),
        attachments,
        in_reply_to: None,
        override_reason: value(values, "override_reason"),
        dry_run,
    }
}

/// Errors about the input's lists name the form's first box of that list.
fn field_of(field: &str) -> String {
    match field.split(['[', '.']).next().unwrap_or(field) {
        "to" => "to_0".into(),
        "cc" => "cc_0".into(),
        "attachments" => "attach_statement".into(),
        other => other.to_owned(),
    }
}

/// The template an email about this record starts from (`?template=` names
/// one outright, e.g. `statement`).
fn template_of(query: &Values) -> Option<TemplatePurpose> {
    if let Some(named) = value(query, "template") {
        return TemplatePurpose::parse(&named);
    }
    match value(query, "record_type").as_deref() {
        Some("invoice") => Some(TemplatePurpose::Invoice),
        Some("quote") => Some(TemplatePurpose::Quote),
        Some("payment") => Some(TemplatePurpose::PaymentReceipt),
        _ => None,
    }
}

pub async fn new_email(State(s): State<AppState>, Staff(ctx): Staff, Path(id): Path<String>, Query(query): Query<Values>) -> Response {
    match offer(&s, &ctx, &id).await {
        Ok(offer) => {
            let mut form = form(&ctx, &offer, &query);
            let record = value(&query, "record");
            if let (Some(kind), Some(record)) = (value(&query, "record_type"), &record)
                && let Some(path) = RecordType::parse(&kind).and_then(crate::ui::records::page_of)
            {
                form.back = format!("/{path}/{record}");
            }
            // Start from the org's template for this record, filled in; a
            // subject naming the record when there is none to fill.
            let fill = FillFor { customer: Some(offer.code.clone()), contact_id: None, record: record.clone() };
            let filled = match template_of(&query) {
                Some(purpose) => templates::fill(&s.db, &ctx, purpose, None, &fill).await.ok(),
                None => None,
            };
            let fallback = match (value(&query, "record_type"), &record) {
                (Some(kind), Some(record)) => Some(format!("{} {record} from {}", words_of(&kind), ctx.org.name)),
                _ => None,
            };
            for field in form.sections[2].fields.iter_mut().filter(|f| f.value.is_empty()) {
                match (field.name.as_str(), &filled) {
                    ("subject", Some(filled)) => field.value = filled.subject.clone(),
                    ("body", Some(filled)) => field.value = filled.body.clone(),
                    ("subject", None) => field.value = fallback.clone().unwrap_or_default(),
                    _ => {}
                }
            }
            form.show(StatusCode::OK)
        }
        Err(e) => failure(e),
    }
}

fn words_of(kind: &str) -> String {
    let mut text = kind.replace('_', " ");
    if let Some(first) = text.get_mut(0..1) {
        first.make_ascii_uppercase();
    }
    text
}

#[derive(Template)]
#[template(path = "ui/email_review.html")]
struct ReviewPage {
    user: Option<Viewer>,
    customer_name: String,
    action: String,
    back: String,
    preview: EmailPreview,
    body_html: String,
    attachments: Vec<(String, String)>,
    values: Vec<(String, String)>,
}

pub async fn post_email(State(s): State<AppState>, Staff(ctx): Staff, Path(id): Path<String>, Form(values): Form<Values>) -> Response {
    let offer = match offer(&s, &ctx, &id).await {
        Ok(offer) => offer,
        Err(e) => return failure(e),
    };
    let confirmed = values.get("confirmed").map(String::as_str) == Some("yes");
    let input = input_of(&offer, &values, !confirmed);
    match email::compose(&s.db, &ctx, s.smtp.as_ref(), &offer.code, input).await {
        Ok(EmailOutcome::Preview(preview)) => {
            let mut kept: Vec<(String, String)> = values.iter().filter(|(k, _)| *k != "confirmed").map(|(k, v)| (k.clone(), v.clone())).collect();
            kept.sort();
            let review = ReviewPage {
                user: Some(Viewer::of(&ctx)),
                customer_name: offer.name.clone(),
                action: format!("/customers/{}/email", offer.code),
                back: format!("/customers/{}", offer.code),
                body_html: crate::rich_text::to_html(&preview.body),
                attachments: preview
                    .attachments
                    .iter()
                    .map(|a| (a.name.clone(), a.size.map(dossier_domain::file::size_text).unwrap_or_else(|| "made when sent".into())))
                    .collect(),
                preview: *preview,
                values: kept,
            };
            page(StatusCode::OK, &review)
        }
        Ok(EmailOutcome::Queued(_)) => Redirect::to(&format!("/customers/{}?tab=timeline", offer.code)).into_response(),
        Err(e) => {
            let mut form = form(&ctx, &offer, &values);
            // What was typed stays (refill puts every value back).
            form.sections.iter_mut().flat_map(|s| s.fields.iter_mut()).for_each(|f| f.value.clear());
            again(form, &values, e, field_of)
        }
    }
}

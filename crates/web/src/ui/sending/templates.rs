//! The admin pages "Message templates": every purpose's subject and body
//! as the org has them, and an edit page with the placeholders it may
//! name and a preview filled in with examples. Owners and admins change
//! them; staff who send messages may read them. The API's `/templates`
//! use cases.

use askama::Template;
use axum::Form;
use axum::extract::{Path, Query, State};
use axum::http::StatusCode;
use axum::response::{IntoResponse, Redirect, Response};
use dossier_domain::ValidationErrors;
use dossier_domain::permissions::{Access, Action, Module};
use dossier_service::templates::{self, Placeholder, Rendered, TemplateInput, TemplatePurpose};
use dossier_service::{Ctx, ServiceError};
use serde::Deserialize;

use crate::AppState;
use crate::ui::forms::capitalised;
use crate::ui::nav::Viewer;
use crate::ui::{Staff, failure, page};

struct Row {
    purpose: &'static str,
    label: &'static str,
    subject: String,
    customised: bool,
}

#[derive(Template)]
#[template(path = "ui/templates.html")]
struct ListPage {
    user: Option<Viewer>,
    rows: Vec<Row>,
}

#[derive(Template)]
#[template(path = "ui/template_edit.html")]
struct EditPage {
    user: Option<Viewer>,
    purpose: &'static str,
    label: &'static str,
    subject: String,
    body: String,
    customised: bool,
    may_edit: bool,
    placeholders: Vec<Placeholder>,
    preview: Option<Rendered>,
    subject_error: Option<String>,
    body_error: Option<String>,
    saved: bool,
}

fn purpose_of(text: &str) -> Result<TemplatePurpose, ServiceError> {
    TemplatePurpose::parse(text).ok_or(ServiceError::NotFound("template"))
}

/// `GET /settings/templates`.
pub async fn list(State(s): State<AppState>, Staff(ctx): Staff) -> Response {
    match templates::list(&s.db, &ctx).await {
        Ok(all) => page(
            StatusCode::OK,
            &ListPage {
                user: Some(Viewer::of(&ctx)),
                rows: all.into_iter().map(|t| Row { purpose: t.purpose.as_str(), label: t.label, subject: t.subject, customised: t.customised }).collect(),
            },
        ),
        Err(e) => failure(e),
    }
}

fn edit_page(ctx: &Ctx, purpose: TemplatePurpose, subject: String, body: String, customised: bool) -> EditPage {
    EditPage {
        user: Some(Viewer::of(ctx)),
        purpose: purpose.as_str(),
        label: purpose.label(),
        subject,
        body,
        customised,
        may_edit: ctx.access(Module::Settings, Action::Edit) != Access::None,
        placeholders: purpose.placeholders(),
        preview: None,
        subject_error: None,
        body_error: None,
        saved: false,
    }
}

/// `GET /settings/templates/{purpose}`: the template with its preview.
#[derive(Deserialize)]
pub struct Shown {
    saved: Option<String>,
}

pub async fn show(State(s): State<AppState>, Staff(ctx): Staff, Path(p): Path<String>, Query(shown): Query<Shown>) -> Response {
    let result = async {
        let purpose = purpose_of(&p)?;
        let template = templates::get(&s.db, &ctx, purpose).await?;
        let mut edit = edit_page(&ctx, purpose, template.subject.clone(), template.body.clone(), template.customised);
        edit.preview = templates::fill(&s.db, &ctx, purpose, None, &Default::default()).await.ok();
        edit.saved = shown.saved.is_some();
        Ok::<_, ServiceError>(edit)
    }
    .await;
    match result {
        Ok(edit) => page(StatusCode::OK, &edit),
        Err(e) => failure(e),
    }
}

#[derive(Deserialize)]
pub struct Edited {
    #[serde(default)]
    subject: String,
    #[serde(default)]
    body: String,
    /// `preview` or `save`.
    #[serde(default)]
    action: String,
}

/// `POST /settings/templates/{purpose}`: preview the text as edited, or
/// save it; a text that does not render comes back with the reason next
/// to its field, and nothing is saved.
pub async fn save(State(s): State<AppState>, Staff(ctx): Staff, Path(p): Path<String>, Form(edited): Form<Edited>) -> Response {
    let purpose = match purpose_of(&p) {
        Ok(purpose) => purpose,
        Err(e) => return failure(e),
    };
    let input = || TemplateInput { subject: Some(edited.subject.clone()), body: Some(edited.body.clone()) };
    let customised = templates::get(&s.db, &ctx, purpose).await.map(|t| t.customised).unwrap_or(false);
    let mut edit = edit_page(&ctx, purpose, edited.subject.clone(), edited.body.clone(), customised);
    let result = match edited.action.as_str() {
        "save" => templates::update(&s.db, &ctx, purpose, input()).await.map(|_| None),
        _ => templates::fill(&s.db, &ctx, purpose, Some(input()), &Default::default()).await.map(Some),
    };
    match result {
        Ok(None) => Redirect::to(&format!("/settings/templates/{}?saved=1", purpose.as_str())).into_response(),
        Ok(Some(preview)) => {
            edit.preview = Some(preview);
            page(StatusCode::OK, &edit)
        }
        Err(ServiceError::Invalid(errors)) => {
            place(&mut edit, errors);
            page(StatusCode::UNPROCESSABLE_ENTITY, &edit)
        }
        Err(e) => failure(e),
    }
}

/// Each error next to its field (subject or body).
fn place(edit: &mut EditPage, errors: ValidationErrors) {
    for error in errors.0 {
        let text = capitalised(&error.message);
        match error.field.as_str() {
            "subject" => edit.subject_error = Some(text),
            _ => edit.body_error = Some(text),
        }
    }
}

/// `POST /settings/templates/{purpose}/reset`: back to the default.
pub async fn reset(State(s): State<AppState>, Staff(ctx): Staff, Path(p): Path<String>) -> Response {
    let result = async { templates::reset(&s.db, &ctx, purpose_of(&p)?).await }.await;
    match result {
        Ok(t) => Redirect::to(&format!("/settings/templates/{}", t.purpose.as_str())).into_response(),
        Err(e) => failure(e),
    }
}

//! The admin page of custom fields: each kind of record's fields in order,
//! moved up and down, changed and removed; and a form to define one. Each
//! is the API's use case (`/custom-fields`); staff who are not admins read
//! the list without the controls.

use askama::Template;
use axum::Form;
use axum::extract::{Path, State};
use axum::http::StatusCode;
use axum::response::{IntoResponse, Redirect, Response};
use dossier_domain::ValidationErrors;
use dossier_domain::custom_fields::{DefinitionInput, DefinitionPatch, FieldDefinition, FieldEntity, FieldType, OrderInput};
use dossier_domain::permissions::{Access, Action, Module};
use dossier_service::{Ctx, Db, ServiceError, custom_fields};

use crate::AppState;
use crate::ui::forms::{Values, capitalised, value};
use crate::ui::nav::Viewer;
use crate::ui::views::words;
use crate::ui::{Staff, failure, page};

struct FieldView {
    id: String,
    key: String,
    label: String,
    kind: String,
    required: bool,
    /// A choice field's options, one a line, for its edit form.
    options: String,
    first: bool,
    last: bool,
}

struct Group {
    entity: &'static str,
    title: String,
    fields: Vec<FieldView>,
}

#[derive(Template)]
#[template(path = "ui/custom_fields.html")]
struct FieldsPage {
    user: Option<Viewer>,
    groups: Vec<Group>,
    can_edit: bool,
    types: Vec<(&'static str, String)>,
    /// What the add form was sent with, after a refusal.
    typed: Values,
    /// Errors of the add form, by its field; and any others.
    errors: Vec<(String, String)>,
    error: Option<String>,
}

impl FieldsPage {
    fn typed(&self, name: &str) -> String {
        self.typed.get(name).cloned().unwrap_or_default()
    }

    fn error_of(&self, name: &str) -> Option<String> {
        self.errors.iter().find(|(field, _)| field == name || field.starts_with(&format!("{name}["))).map(|(_, message)| message.clone())
    }
}

async fn fields_page(db: &Db, ctx: &Ctx, typed: Values, failed: Option<ServiceError>) -> Result<FieldsPage, ServiceError> {
    let all = custom_fields::list_definitions(db, ctx, None).await?;
    let groups = FieldEntity::ALL
        .iter()
        .map(|entity| {
            let of: Vec<&FieldDefinition> = all.iter().filter(|d| d.entity == *entity).collect();
            let count = of.len();
            Group {
                entity: entity.as_str(),
                title: format!("{} fields", capitalised(entity.as_str())),
                fields: of
                    .into_iter()
                    .enumerate()
                    .map(|(i, d)| FieldView {
                        id: d.id.0.to_string(),
                        key: d.key.clone(),
                        label: d.spec.label.clone(),
                        kind: words(d.spec.field_type.as_str()),
                        required: d.spec.required,
                        options: d.spec.options.join("\n"),
                        first: i == 0,
                        last: i + 1 == count,
                    })
                    .collect(),
            }
        })
        .collect();
    let (errors, error) = match failed {
        Some(ServiceError::Invalid(errors)) => (errors.0.into_iter().map(|e| (e.field, capitalised(&e.message))).collect(), None),
        Some(ServiceError::Conflict { message, .. }) => (Vec::new(), Some(message)),
        Some(other) => return Err(other),
        None => (Vec::new(), None),
    };
    Ok(FieldsPage {
        user: Some(Viewer::of(ctx)),
        groups,
        can_edit: ctx.access(Module::CustomFields, Action::Edit) == Access::All,
        types: FieldType::ALL.iter().map(|t| (t.as_str(), words(t.as_str()))).collect(),
        typed,
        errors,
        error,
    })
}

pub async fn show(State(s): State<AppState>, Staff(ctx): Staff) -> Response {
    match fields_page(&s.db, &ctx, Values::new(), None).await {
        Ok(page_data) => page(StatusCode::OK, &page_data),
        Err(e) => failure(e),
    }
}

/// Back to the list, or the page again with why not.
async fn after<T>(db: &Db, ctx: &Ctx, typed: Values, result: Result<T, ServiceError>) -> Response {
    let status = match &result {
        Ok(_) => return Redirect::to("/admin/custom-fields").into_response(),
        Err(ServiceError::Invalid(_)) => StatusCode::UNPROCESSABLE_ENTITY,
        Err(_) => StatusCode::CONFLICT,
    };
    match fields_page(db, ctx, typed, result.err()).await {
        Ok(page_data) => page(status, &page_data),
        Err(e) => failure(e),
    }
}

/// Options typed one a line (or separated by commas).
fn options(values: &Values) -> Option<Vec<String>> {
    value(values, "options").map(|text| text.split(['\n', ',']).map(|o| o.trim().to_owned()).filter(|o| !o.is_empty()).collect())
}

/// `POST /admin/custom-fields`: define a field.
pub async fn define(State(s): State<AppState>, Staff(ctx): Staff, Form(values): Form<Values>) -> Response {
    let field_type = value(&values, "type").and_then(|t| FieldType::parse(&t));
    let input = DefinitionInput {
        entity: value(&values, "entity").and_then(|e| FieldEntity::parse(&e)),
        key: value(&values, "key"),
        label: value(&values, "label"),
        field_type,
        required: Some(values.contains_key("required")),
        options: if field_type == Some(FieldType::Choice) { options(&values) } else { None },
    };
    let result = custom_fields::define(&s.db, &ctx, input).await;
    after(&s.db, &ctx, values, result).await
}

/// `POST /admin/custom-fields/{id}/change`: a new label, requiredness or options.
pub async fn change(State(s): State<AppState>, Staff(ctx): Staff, Path(id): Path<String>, Form(values): Form<Values>) -> Response {
    let patch = DefinitionPatch {
        label: value(&values, "label"),
        field_type: None,
        required: Some(values.contains_key("required")),
        options: values.contains_key("options").then(|| options(&values).unwrap_or_default()),
    };
    let result = custom_fields::update_definition(&s.db, &ctx, &id, patch).await;
    after(&s.db, &ctx, Values::new(), result).await
}

/// `POST /admin/custom-fields/{id}/move` with `direction=up|down`.
pub async fn move_field(State(s): State<AppState>, Staff(ctx): Staff, Path(id): Path<String>, Form(values): Form<Values>) -> Response {
    let all = match custom_fields::list_definitions(&s.db, &ctx, None).await {
        Ok(all) => all,
        Err(e) => return failure(e),
    };
    let Some(field) = all.iter().find(|d| d.id.0.to_string() == id) else { return failure(ServiceError::NotFound("custom field")) };
    let mut keys: Vec<String> = all.iter().filter(|d| d.entity == field.entity).map(|d| d.key.clone()).collect();
    let at = keys.iter().position(|k| *k == field.key).unwrap_or_default();
    let to = if value(&values, "direction").as_deref() == Some("up") { at.checked_sub(1) } else { Some(at + 1).filter(|t| *t < keys.len()) };
    let result = match to {
        Some(to) => {
            keys.swap(at, to);
            custom_fields::reorder(&s.db, &ctx, OrderInput { entity: field.entity, keys }).await.map(drop)
        }
        None => Err(ValidationErrors::one("keys", "cannot_move", "the field is already at that end").into()),
    };
    after(&s.db, &ctx, Values::new(), result).await
}

/// `POST /admin/custom-fields/{id}/remove`.
pub async fn remove(State(s): State<AppState>, Staff(ctx): Staff, Path(id): Path<String>) -> Response {
    let result = custom_fields::remove_definition(&s.db, &ctx, &id).await;
    after(&s.db, &ctx, Values::new(), result).await
}

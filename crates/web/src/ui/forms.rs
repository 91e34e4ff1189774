//! Forms for staff: each shows its fields, and after a failed submit the
//! same fields with what was typed and each error next to its field. A
//! form only gathers input; the service function it calls decides.

use std::collections::HashMap;

use askama::Template;
use axum::http::StatusCode;
use axum::response::Response;
use dossier_domain::ValidationErrors;
use dossier_domain::currency::MoneyStyle;
use dossier_domain::money::Money;
use dossier_service::ServiceError;

use super::page;
use crate::ui::nav::Viewer;

/// What a form was submitted with.
pub type Values = HashMap<String, String>;

/// A value as typed, trimmed; `None` when blank.
pub fn value(values: &Values, name: &str) -> Option<String> {
    blank_is_none(values.get(name).cloned())
}

/// Trimmed, and `None` when blank.
pub fn blank_is_none(value: Option<String>) -> Option<String> {
    value.map(|v| v.trim().to_owned()).filter(|v| !v.is_empty())
}

pub struct Field {
    pub name: String,
    /// The element's id (the name unless a page holds several forms with
    /// fields of one name): the label, the error and `aria-describedby`
    /// point at it.
    pub id: String,
    pub label: String,
    /// text, email, tel, date, datetime-local, select, textarea, checkbox, file.
    pub kind: &'static str,
    pub value: String,
    pub error: Option<String>,
    pub options: Vec<(String, String)>,
    pub hint: Option<String>,
    pub required: bool,
}

impl Field {
    pub fn new(name: impl Into<String>, label: impl Into<String>, kind: &'static str) -> Self {
        let name = name.into();
        Field { id: name.clone(), name, label: label.into(), kind, value: String::new(), error: None, options: Vec::new(), hint: None, required: false }
    }

    pub fn required(mut self) -> Self {
        self.required = true;
        self
    }

    pub fn hint(mut self, hint: impl Into<String>) -> Self {
        self.hint = Some(hint.into());
        self
    }

    pub fn options(mut self, options: impl IntoIterator<Item = (String, String)>) -> Self {
        self.options = options.into_iter().collect();
        self
    }

    /// Start from `value` (an existing record's, or a default).
    pub fn value(mut self, value: impl Into<String>) -> Self {
        self.value = value.into();
        self
    }
}

pub struct Section {
    pub legend: String,
    pub fields: Vec<Field>,
}

#[derive(Template)]
#[template(path = "ui/form.html")]
pub struct FormPage {
    pub user: Option<Viewer>,
    pub title: String,
    pub back: String,
    pub back_label: String,
    pub action: String,
    pub submit: &'static str,
    pub sections: Vec<Section>,
    pub general: Vec<String>,
}

impl FormPage {
    /// A form with a file field is sent as `multipart/form-data`.
    pub fn multipart(&self) -> bool {
        self.sections.iter().flat_map(|s| &s.fields).any(|f| f.kind == "file")
    }

    /// Put what was typed back in, and each error next to its field
    /// (`field_of` names the form field an input error is about; errors
    /// about no field of the form are shown at the top).
    pub fn refill(mut self, values: &Values, errors: &ValidationErrors, field_of: impl Fn(&str) -> String) -> Self {
        let mut unplaced = Vec::new();
        for section in &mut self.sections {
            for field in &mut section.fields {
                field.value = values.get(&field.name).cloned().unwrap_or_default();
            }
        }
        for error in &errors.0 {
            let name = field_of(&error.field);
            let found = self.sections.iter_mut().flat_map(|s| s.fields.iter_mut()).find(|f| f.name == name);
            match found {
                Some(field) if field.error.is_none() => field.error = Some(capitalised(&error.message)),
                Some(_) => {}
                None => unplaced.push(format!("{}: {}", error.field, error.message)),
            }
        }
        self.general.extend(unplaced);
        self
    }

    pub fn show(&self, status: StatusCode) -> Response {
        page(status, self)
    }
}

/// After a failed submit: the form again with the input errors next to
/// their fields (or a conflict at the top); any other failure as a page.
pub fn again(form: FormPage, values: &Values, error: ServiceError, field_of: impl Fn(&str) -> String) -> Response {
    match error {
        ServiceError::Invalid(errors) => form.refill(values, &errors, field_of).show(StatusCode::UNPROCESSABLE_ENTITY),
        // The form of a blocked customer's new record has the field for it.
        ServiceError::Conflict { code: "customer_blocked", message } => {
            form.refill(values, &ValidationErrors::one("blocked_override", "customer_blocked", message), field_of).show(StatusCode::CONFLICT)
        }
        ServiceError::Conflict { message, .. } => {
            let mut form = form.refill(values, &ValidationErrors::default(), field_of);
            form.general.push(message);
            form.show(StatusCode::CONFLICT)
        }
        other => super::failure(other),
    }
}

/// The largest form without files: what axum accepts by default.
const MAX_FORM_BYTES: usize = 2 * 1024 * 1024;

/// A form as sent: URL-encoded (at most 2 MB), or `multipart/form-data`
/// with files (bounded part by part, see [`crate::uploads`]).
pub async fn read(
    files: &dossier_service::files::Files,
    request: axum::extract::Request,
) -> Result<(Values, Vec<dossier_service::files::Upload>), ServiceError> {
    let multipart = request.headers().get(axum::http::header::CONTENT_TYPE).and_then(|v| v.to_str().ok()).is_some_and(|t| t.starts_with("multipart/"));
    if multipart {
        let received = crate::uploads::receive(files, request).await?;
        return Ok((received.fields.into_iter().collect(), received.uploads));
    }
    let too_large = || ValidationErrors::one("body", "too_large", "the form is larger than the 2 MB Dossier accepts");
    let bytes = axum::body::to_bytes(request.into_body(), MAX_FORM_BYTES).await.map_err(|_| too_large())?;
    let values = serde_urlencoded::from_bytes(&bytes).map_err(|e| ValidationErrors::one("body", "malformed_form", e.to_string()))?;
    Ok((values, Vec::new()))
}

/// The page a form sends the reader back to (its `back` field): only a
/// path of this site, else `default`.
pub fn back_to(values: &Values, default: &str) -> String {
    value(values, "back").filter(|b| b.starts_with('/') && !b.starts_with("//") && !b.contains('\\')).unwrap_or_else(|| default.to_owned())
}

/// Input errors that belong to no form field (a list's filters), as
/// sentences: "State: “late” is not one of the list."
pub fn in_words(errors: &ValidationErrors) -> String {
    errors.0.iter().map(|e| format!("{}: {}.", capitalised(&e.field.replace('_', " ")), e.message.trim_end_matches('.'))).collect::<Vec<_>>().join(" ")
}

/// The text with its first letter upper-case: a service's message
/// ("must be…", "the invoice is…") shown as a sentence of its own.
pub fn capitalised(text: &str) -> String {
    let mut chars = text.chars();
    chars.next().map(|c| c.to_uppercase().chain(chars).collect()).unwrap_or_default()
}

/// A percentage typed with up to two decimals (`20`, `17.5`) as basis
/// points (2000, 1750): hundredths of a percent read like pence of a pound.
pub fn basis_points(values: &Values, field: &str, errors: &mut ValidationErrors) -> Option<i64> {
    let text = value(values, field)?;
    errors.take(Money::parse_decimal(field, text.trim_end_matches('%'), "XXX")).map(|m| m.minor())
}

/// An amount typed in major units (`12.50`) as minor units for the
/// service, or the error for `field`.
pub fn amount(values: &Values, field: &str, style: MoneyStyle, errors: &mut ValidationErrors) -> Option<i64> {
    let text = value(values, field)?;
    errors.take(Money::parse_decimal(field, &text, style)).map(|m| m.minor())
}

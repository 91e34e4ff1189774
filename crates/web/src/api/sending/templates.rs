//! `/templates`: the org's message templates by purpose — read them,
//! change them (owners and admins), set one back to the default (`POST …/reset`), and
//! preview one filled in for a customer and record or with examples.

use axum::Json;
use axum::extract::State;
use dossier_service::ServiceError;
use dossier_service::templates::{self, FillFor, Rendered, Template, TemplateInput, TemplatePurpose};
use serde::Deserialize;
use utoipa_axum::router::OpenApiRouter;
use utoipa_axum::routes;

use crate::AppState;
use crate::auth::Caller;
use crate::error::{ApiError, Problem};
use crate::extract::{Body, Path};

pub fn router() -> OpenApiRouter<AppState> {
    OpenApiRouter::new()
        .routes(routes!(list_templates))
        .routes(routes!(get_template, update_template))
        .routes(routes!(reset_template))
        .routes(routes!(preview_template))
}

fn purpose(text: &str) -> Result<TemplatePurpose, ServiceError> {
    TemplatePurpose::parse(text).ok_or(ServiceError::NotFound("template"))
}

/// Every purpose's template as the org has it (its own, or the default),
/// with the placeholders each may name.
#[utoipa::path(get, path = "/templates", tag = "templates",
    responses((status = 200, description = "The templates", body = Vec<Template>), (status = 403, description = "A role that sends no messages", body = Problem)))]
async fn list_templates(State(s): State<AppState>, Caller(ctx): Caller) -> Result<Json<Vec<Template>>, ApiError> {
    Ok(Json(templates::list(&s.db, &ctx).await?))
}

/// One purpose's template.
#[utoipa::path(get, path = "/templates/{purpose}", tag = "templates", params(("purpose" = TemplatePurpose, Path)),
    responses((status = 200, description = "The template", body = Template), (status = 404, description = "No such purpose", body = Problem)))]
async fn get_template(State(s): State<AppState>, Caller(ctx): Caller, Path(p): Path<String>) -> Result<Json<Template>, ApiError> {
    Ok(Json(templates::get(&s.db, &ctx, purpose(&p)?).await?))
}

/// Change a template (owners and admins). It must parse (422
/// `template_syntax`), name only its purpose's placeholders (422
/// `unknown_placeholder`) and fill in within the message limits (422
/// `too_long`, `template_error`).
#[utoipa::path(put, path = "/templates/{purpose}", tag = "templates", params(("purpose" = TemplatePurpose, Path)), request_body = TemplateInput,
    responses((status = 200, description = "The template as changed", body = Template), (status = 403, description = "Only owners and admins change templates", body = Problem),
        (status = 404, description = "No such purpose", body = Problem), (status = 422, description = "A template that does not render", body = Problem)))]
async fn update_template(
    State(s): State<AppState>,
    Caller(ctx): Caller,
    Path(p): Path<String>,
    Body(input): Body<TemplateInput>,
) -> Result<Json<Template>, ApiError> {
    Ok(Json(templates::update(&s.db, &ctx, purpose(&p)?, input).await?))
}

/// Set a template back to the default (owners and admins). The template
/// is not removed: reading it gives the default.
#[utoipa::path(post, path = "/templates/{purpose}/reset", tag = "templates", params(("purpose" = TemplatePurpose, Path)),
    responses((status = 200, description = "The default template", body = Template), (status = 403, description = "Only owners and admins change templates", body = Problem),
        (status = 404, description = "No such purpose", body = Problem)))]
async fn reset_template(State(s): State<AppState>, Caller(ctx): Caller, Path(p): Path<String>) -> Result<Json<Template>, ApiError> {
    Ok(Json(templates::reset(&s.db, &ctx, purpose(&p)?).await?))
}

/// What to preview: a text being edited (else the org's template), filled
/// in for a customer and record (else with the examples).
#[derive(Debug, Default, Deserialize, utoipa::ToSchema)]
#[serde(deny_unknown_fields)]
struct PreviewInput {
    /// With `body`: preview this text instead of the org's template.
    #[schema(max_length = 200)]
    subject: Option<String>,
    #[schema(max_length = 20000)]
    body: Option<String>,
    #[serde(flatten)]
    #[schema(inline)]
    fill: FillFor,
}

/// A template filled in: the org's, or the text given, for a customer and
/// its record (`record`: an invoice, quote or payment code) or with examples.
#[utoipa::path(post, path = "/templates/{purpose}/preview", tag = "templates", params(("purpose" = TemplatePurpose, Path)), request_body = PreviewInput,
    responses((status = 200, description = "The message as it would read", body = Rendered), (status = 404, description = "No such purpose, customer or record", body = Problem),
        (status = 422, description = "A text that does not render, or a missing record", body = Problem)))]
async fn preview_template(
    State(s): State<AppState>,
    Caller(ctx): Caller,
    Path(p): Path<String>,
    Body(input): Body<PreviewInput>,
) -> Result<Json<Rendered>, ApiError> {
    let purpose = purpose(&p)?;
    let text = match (input.subject, input.body) {
        (None, None) => None,
        (subject, body) => Some(TemplateInput { subject, body }),
    };
    Ok(Json(templates::fill(&s.db, &ctx, purpose, text, &input.fill).await?))
}

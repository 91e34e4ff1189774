//! `/custom-fields`: the org's typed fields for customers, sites and jobs.
//! Staff read them; owners and admins define, change, order and remove them.

use axum::Json;
use axum::extract::State;
use axum::http::StatusCode;
use dossier_domain::custom_fields::{DefinitionInput, DefinitionPatch, FieldDefinition, FieldEntity, OrderInput};
use dossier_service::custom_fields;
use serde::Deserialize;
use utoipa_axum::router::OpenApiRouter;
use utoipa_axum::routes;

use crate::AppState;
use crate::auth::Caller;
use crate::error::{ApiError, Problem};
use crate::extract::{Body, Params, Path};

pub fn router() -> OpenApiRouter<AppState> {
    OpenApiRouter::new().routes(routes!(list_fields, define_field)).routes(routes!(update_field, remove_field)).routes(routes!(reorder_fields))
}

/// Query parameters of the field list.
#[derive(Clone, Debug, Default, Deserialize, utoipa::IntoParams)]
#[serde(deny_unknown_fields)]
#[into_params(parameter_in = Query)]
pub struct FieldQuery {
    /// Only the fields of this kind of record.
    pub entity: Option<FieldEntity>,
}

/// The org's custom fields, by kind of record, in order.
#[utoipa::path(get, path = "/custom-fields", tag = "custom_fields", params(FieldQuery),
    responses((status = 200, description = "The fields", body = Vec<FieldDefinition>)))]
async fn list_fields(State(s): State<AppState>, Caller(ctx): Caller, Params(query): Params<FieldQuery>) -> Result<Json<Vec<FieldDefinition>>, ApiError> {
    Ok(Json(custom_fields::list_definitions(&s.db, &ctx, query.entity).await?))
}

/// Define a field (owners and admins), last among its kind's. At most 50
/// per kind of record.
#[utoipa::path(post, path = "/custom-fields", tag = "custom_fields", request_body = DefinitionInput,
    responses((status = 201, description = "Defined", body = FieldDefinition), (status = 403, description = "Not an admin", body = Problem),
        (status = 409, description = "Records hold values under the key from before (`custom_field_in_use`)", body = Problem),
        (status = 422, description = "Invalid input, a key in use (`custom_field_exists`) or too many fields", body = Problem)))]
async fn define_field(
    State(s): State<AppState>,
    Caller(ctx): Caller,
    Body(input): Body<DefinitionInput>,
) -> Result<(StatusCode, Json<FieldDefinition>), ApiError> {
    Ok((StatusCode::CREATED, Json(custom_fields::define(&s.db, &ctx, input).await?)))
}

/// Change a field's label, requiredness, options or type (owners and
/// admins). The type cannot change while records hold values.
#[utoipa::path(patch, path = "/custom-fields/{id}", tag = "custom_fields", params(("id" = String, Path)), request_body = DefinitionPatch,
    responses((status = 200, description = "The changed field", body = FieldDefinition), (status = 404, description = "No such field", body = Problem),
        (status = 409, description = "A type change while records hold values (`custom_field_in_use`)", body = Problem),
        (status = 422, description = "Invalid input", body = Problem)))]
async fn update_field(
    State(s): State<AppState>,
    Caller(ctx): Caller,
    Path(id): Path<String>,
    Body(patch): Body<DefinitionPatch>,
) -> Result<Json<FieldDefinition>, ApiError> {
    Ok(Json(custom_fields::update_definition(&s.db, &ctx, &id, patch).await?))
}

/// Remove a field (owners and admins): its values leave the records; their
/// history keeps them.
#[utoipa::path(delete, path = "/custom-fields/{id}", tag = "custom_fields", params(("id" = String, Path)),
    responses((status = 204, description = "Removed"), (status = 404, description = "No such field", body = Problem)))]
async fn remove_field(State(s): State<AppState>, Caller(ctx): Caller, Path(id): Path<String>) -> Result<StatusCode, ApiError> {
    custom_fields::remove_definition(&s.db, &ctx, &id).await?;
    Ok(StatusCode::NO_CONTENT)
}

/// Put a kind of record's fields in a new order (owners and admins).
#[utoipa::path(put, path = "/custom-fields/order", tag = "custom_fields", request_body = OrderInput,
    responses((status = 200, description = "The fields in their new order", body = Vec<FieldDefinition>),
        (status = 422, description = "Not every field named once", body = Problem)))]
async fn reorder_fields(State(s): State<AppState>, Caller(ctx): Caller, Body(input): Body<OrderInput>) -> Result<Json<Vec<FieldDefinition>>, ApiError> {
    Ok(Json(custom_fields::reorder(&s.db, &ctx, input).await?))
}

//! `/org/automations`: what the org lets Dossier do on its own.

use axum::Json;
use axum::extract::State;
use dossier_service::automation::settings::{self, Automations, AutomationsPatch};
use utoipa_axum::router::OpenApiRouter;
use utoipa_axum::routes;

use crate::AppState;
use crate::auth::Caller;
use crate::error::{ApiError, Problem};
use crate::extract::Body;

pub fn router() -> OpenApiRouter<AppState> {
    OpenApiRouter::new().routes(routes!(get_automations, update_automations))
}

/// The org's automations: invoice emails on issue, payment receipts,
/// payment reminder levels, monthly statements and quote expiry, each on
/// or off and tuned.
#[utoipa::path(get, path = "/org/automations", tag = "org",
    responses((status = 200, description = "The automations", body = Automations), (status = 403, description = "A fieldworker does not read them", body = Problem)))]
async fn get_automations(State(s): State<AppState>, Caller(ctx): Caller) -> Result<Json<Automations>, ApiError> {
    Ok(Json(settings::get(&s.db, &ctx).await?))
}

/// Change automations (owners and admins): fields left out stay. Reminder
/// levels are 1 to 3, increasing, each 1 to 365 days past due (422
/// `out_of_range`, `not_increasing`); statements go out on a day from 1 to 28.
#[utoipa::path(patch, path = "/org/automations", tag = "org", request_body = AutomationsPatch,
    responses((status = 200, description = "The automations after the change", body = Automations),
        (status = 403, description = "Only owners and admins change them", body = Problem), (status = 422, description = "Invalid values", body = Problem)))]
async fn update_automations(State(s): State<AppState>, Caller(ctx): Caller, Body(patch): Body<AutomationsPatch>) -> Result<Json<Automations>, ApiError> {
    Ok(Json(settings::update(&s.db, &ctx, patch).await?))
}

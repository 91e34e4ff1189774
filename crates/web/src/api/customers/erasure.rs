use axum::Json;
use axum::extract::State;
use dossier_service::customers::erasure::{self, Erasure, ErasureInput};
use utoipa_axum::router::OpenApiRouter;
use utoipa_axum::routes;

use crate::AppState;
use crate::auth::Caller;
use crate::error::{ApiError, Problem};
use crate::extract::{Body, Path};

pub fn router() -> OpenApiRouter<AppState> {
    OpenApiRouter::new().routes(routes!(erase_customer))
}

/// Erase the customer's personal data (right to erasure; admins): names,
/// emails, phones, addresses, message bodies and files go from the tables
/// and from the activity log's content; invoices, payments and credit notes
/// keep their amounts, dates and numbers; the customer is deactivated. The
/// audit chain still verifies. Cannot be undone.
#[utoipa::path(post, path = "/customers/{id}/erasure", tag = "customers", params(("id" = String, Path, description = "Customer id or code")),
    request_body = ErasureInput,
    responses((status = 200, description = "Erased", body = Erasure), (status = 404, description = "No such customer", body = Problem),
        (status = 409, description = "Erased already", body = Problem), (status = 422, description = "No reason given", body = Problem)))]
async fn erase_customer(
    State(s): State<AppState>,
    Caller(ctx): Caller,
    Path(id): Path<String>,
    Body(input): Body<ErasureInput>,
) -> Result<Json<Erasure>, ApiError> {
    Ok(Json(erasure::erase_customer(&s.db, &ctx, &id, input).await?))
}

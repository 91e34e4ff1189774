//! Refunds of a payment's or credit note's account credit, and taking an
//! allocation back.

use axum::Json;
use axum::extract::State;
use dossier_domain::ledger::{RefundInput, UnallocateInput};
use dossier_domain::works::{CreditNote, Payment};
use dossier_service::ledger;
use utoipa_axum::router::OpenApiRouter;
use utoipa_axum::routes;

use crate::AppState;
use crate::auth::Caller;
use crate::error::{ApiError, Problem};
use crate::extract::{Body, Path};

pub fn router() -> OpenApiRouter<AppState> {
    OpenApiRouter::new()
        .routes(routes!(refund_payment))
        .routes(routes!(unallocate_payment))
        .routes(routes!(refund_credit_note))
        .routes(routes!(unallocate_credit_note))
}

/// Return part of what is neither allocated nor refunded of a payment (the
/// customer's account credit) to the customer. Dated today.
#[utoipa::path(post, path = "/payments/{id}/refunds", tag = "billing", params(("id" = String, Path, description = "Payment id or code")),
    request_body = RefundInput,
    responses((status = 200, description = "The payment, with the refund", body = Payment), (status = 404, description = "No such payment", body = Problem),
        (status = 422, description = "Invalid input, or more than the payment has left (`exceeds_unallocated`)", body = Problem)))]
async fn refund_payment(
    State(s): State<AppState>,
    Caller(ctx): Caller,
    Path(id): Path<String>,
    Body(input): Body<RefundInput>,
) -> Result<Json<Payment>, ApiError> {
    Ok(Json(ledger::refund_payment(&s.db, &ctx, &id, input).await?))
}

/// Take an allocation of a payment back, with a reason: its amount is the
/// payment's account credit again and its invoice is open again.
#[utoipa::path(post, path = "/payments/{id}/allocations/{allocation}/unallocate", tag = "billing",
    params(("id" = String, Path, description = "Payment id or code"), ("allocation" = String, Path, description = "The allocation's id")),
    request_body = UnallocateInput,
    responses((status = 200, description = "The payment", body = Payment), (status = 404, description = "No such payment, or no such allocation of it", body = Problem),
        (status = 409, description = "Taken back already (`already_unallocated`)", body = Problem), (status = 422, description = "Invalid input", body = Problem)))]
async fn unallocate_payment(
    State(s): State<AppState>,
    Caller(ctx): Caller,
    Path((id, allocation)): Path<(String, String)>,
    Body(input): Body<UnallocateInput>,
) -> Result<Json<Payment>, ApiError> {
    Ok(Json(ledger::unallocate_payment(&s.db, &ctx, &id, &allocation, input).await?))
}

/// Pay out part of what is neither allocated nor refunded of a credit note
/// to the customer. Dated today.
#[utoipa::path(post, path = "/credit-notes/{id}/refunds", tag = "billing", params(("id" = String, Path, description = "Credit note id or code")),
    request_body = RefundInput,
    responses((status = 200, description = "The credit note, with the refund", body = CreditNote), (status = 404, description = "No such credit note", body = Problem),
        (status = 422, description = "Invalid input, or more than the credit note has left (`exceeds_unallocated`)", body = Problem)))]
async fn refund_credit_note(
    State(s): State<AppState>,
    Caller(ctx): Caller,
    Path(id): Path<String>,
    Body(input): Body<RefundInput>,
) -> Result<Json<CreditNote>, ApiError> {
    Ok(Json(ledger::refund_credit_note(&s.db, &ctx, &id, input).await?))
}

/// Take an allocation of a credit note back, with a reason.
#[utoipa::path(post, path = "/credit-notes/{id}/allocations/{allocation}/unallocate", tag = "billing",
    params(("id" = String, Path, description = "Credit note id or code"), ("allocation" = String, Path, description = "The allocation's id")),
    request_body = UnallocateInput,
    responses((status = 200, description = "The credit note", body = CreditNote), (status = 404, description = "No such credit note, or no such allocation of it", body = Problem),
        (status = 409, description = "Taken back already (`already_unallocated`)", body = Problem), (status = 422, description = "Invalid input", body = Problem)))]
async fn unallocate_credit_note(
    State(s): State<AppState>,
    Caller(ctx): Caller,
    Path((id, allocation)): Path<(String, String)>,
    Body(input): Body<UnallocateInput>,
) -> Result<Json<CreditNote>, ApiError> {
    Ok(Json(ledger::unallocate_credit_note(&s.db, &ctx, &id, &allocation, input).await?))
}

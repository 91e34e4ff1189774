//! Invoices, payments and credit notes, and allocating them.

use axum::Json;
use axum::extract::State;
use axum::http::StatusCode;
use axum::response::{IntoResponse, Response};
use dossier_domain::drafts::InvoiceEdit;
use dossier_domain::works::{AllocateInput, CreditNote, CreditNoteInput, Invoice, InvoiceInput, IssueInput, Payment, PaymentInput};
use dossier_service::billing::{self, InvoiceQuery, LedgerQuery, VoidInput};
use dossier_service::data::lists::ListCsv;
use dossier_service::page::Page;
use utoipa_axum::router::OpenApiRouter;
use utoipa_axum::routes;

use crate::AppState;
use crate::api::data::lists::{WantsCsv, csv_response};
use crate::auth::Caller;
use crate::error::{ApiError, Problem};
use crate::extract::{Body, Params, Path};

pub fn router() -> OpenApiRouter<AppState> {
    OpenApiRouter::new()
        .routes(routes!(create_invoice, list_invoices))
        .routes(routes!(get_invoice, edit_invoice))
        .routes(routes!(issue_invoice))
        .routes(routes!(void_invoice))
        .routes(routes!(record_payment, list_payments))
        .routes(routes!(get_payment))
        .routes(routes!(allocate_payment))
        .routes(routes!(create_credit_note, list_credit_notes))
        .routes(routes!(get_credit_note))
        .routes(routes!(allocate_credit_note))
}

/// Create an invoice: a draft, or issued at once with `"issue": true`.
#[utoipa::path(post, path = "/invoices", tag = "billing", request_body = InvoiceInput,
    responses((status = 201, description = "Created", body = Invoice), (status = 422, description = "Invalid input", body = Problem)))]
async fn create_invoice(State(s): State<AppState>, Caller(ctx): Caller, Body(input): Body<InvoiceInput>) -> Result<(StatusCode, Json<Invoice>), ApiError> {
    Ok((StatusCode::CREATED, Json(billing::create_invoice(&s.db, &ctx, input).await?)))
}

/// Invoices newest first, by customer and state (the status bars' "Show all").
#[utoipa::path(get, path = "/invoices", tag = "billing", params(InvoiceQuery),
    responses((status = 200, description = "One page of invoices (JSON), or with `Accept: text/csv` every matching one as CSV", content((Page<Invoice> = "application/json"), (String = "text/csv"))), (status = 404, description = "The customer filtered by does not exist", body = Problem),
        (status = 422, description = "Invalid query", body = Problem)))]
async fn list_invoices(
    State(s): State<AppState>,
    Caller(ctx): Caller,
    WantsCsv(csv): WantsCsv,
    Params(query): Params<InvoiceQuery>,
) -> Result<Response, ApiError> {
    if csv {
        return Ok(csv_response(&s, &ctx, ListCsv::Invoices(query)).await?);
    }
    Ok(Json(billing::list_invoices(&s.db, &ctx, query).await?).into_response())
}

/// An invoice, by id or code.
#[utoipa::path(get, path = "/invoices/{id}", tag = "billing", params(("id" = String, Path, description = "Invoice id or code")),
    responses((status = 200, description = "The invoice", body = Invoice), (status = 404, description = "No such invoice", body = Problem)))]
async fn get_invoice(State(s): State<AppState>, Caller(ctx): Caller, Path(id): Path<String>) -> Result<Json<Invoice>, ApiError> {
    Ok(Json(billing::get_invoice(&s.db, &ctx, &id).await?))
}

/// Edit a draft: its lines (all of them, replaced), due date or notes.
/// Absent fields stay, `null` clears. An issued or void invoice is refused
/// with `not_draft` (correct it with a credit note).
#[utoipa::path(patch, path = "/invoices/{id}", tag = "billing", params(("id" = String, Path, description = "Invoice id or code")), request_body = InvoiceEdit,
    responses((status = 200, description = "The invoice", body = Invoice), (status = 404, description = "No such invoice", body = Problem),
        (status = 409, description = "Not a draft (`not_draft`), or changed by someone else meanwhile", body = Problem),
        (status = 422, description = "Invalid input", body = Problem)))]
async fn edit_invoice(
    State(s): State<AppState>,
    Caller(ctx): Caller,
    Path(id): Path<String>,
    Body(edit): Body<InvoiceEdit>,
) -> Result<Json<Invoice>, ApiError> {
    Ok(Json(billing::edit_invoice(&s.db, &ctx, &id, edit).await?))
}

/// Issue a draft: it becomes open, with its due date from the invoice, the
/// customer's payment terms or the org's.
#[utoipa::path(post, path = "/invoices/{id}/issue", tag = "billing", params(("id" = String, Path, description = "Invoice id or code")), request_body = IssueInput,
    responses((status = 200, description = "The invoice", body = Invoice), (status = 404, description = "No such invoice", body = Problem),
        (status = 409, description = "Not a draft", body = Problem), (status = 422, description = "Invalid input", body = Problem)))]
async fn issue_invoice(
    State(s): State<AppState>,
    Caller(ctx): Caller,
    Path(id): Path<String>,
    Body(input): Body<IssueInput>,
) -> Result<Json<Invoice>, ApiError> {
    Ok(Json(billing::issue_invoice(&s.db, &ctx, &id, input).await?))
}

/// Void a draft or an open invoice that nothing is set against.
#[utoipa::path(post, path = "/invoices/{id}/void", tag = "billing", params(("id" = String, Path, description = "Invoice id or code")), request_body = VoidInput,
    responses((status = 200, description = "The invoice", body = Invoice), (status = 404, description = "No such invoice", body = Problem),
        (status = 409, description = "Cannot be voided", body = Problem), (status = 422, description = "Invalid input", body = Problem)))]
async fn void_invoice(State(s): State<AppState>, Caller(ctx): Caller, Path(id): Path<String>, Body(input): Body<VoidInput>) -> Result<Json<Invoice>, ApiError> {
    Ok(Json(billing::void_invoice(&s.db, &ctx, &id, input).await?))
}

/// Record a payment, optionally allocating it to invoices at once.
#[utoipa::path(post, path = "/payments", tag = "billing", request_body = PaymentInput,
    responses((status = 201, description = "Recorded", body = Payment), (status = 409, description = "An invoice is not open", body = Problem),
        (status = 422, description = "Invalid input or over-allocation", body = Problem)))]
async fn record_payment(State(s): State<AppState>, Caller(ctx): Caller, Body(input): Body<PaymentInput>) -> Result<(StatusCode, Json<Payment>), ApiError> {
    Ok((StatusCode::CREATED, Json(billing::record_payment(&s.db, &ctx, input).await?)))
}

/// Payments newest first, optionally of one customer.
#[utoipa::path(get, path = "/payments", tag = "billing", params(LedgerQuery),
    responses((status = 200, description = "One page of payments (JSON), or with `Accept: text/csv` every matching one as CSV", content((Page<Payment> = "application/json"), (String = "text/csv"))), (status = 404, description = "The customer filtered by does not exist", body = Problem),
        (status = 422, description = "Invalid query", body = Problem)))]
async fn list_payments(
    State(s): State<AppState>,
    Caller(ctx): Caller,
    WantsCsv(csv): WantsCsv,
    Params(query): Params<LedgerQuery>,
) -> Result<Response, ApiError> {
    if csv {
        return Ok(csv_response(&s, &ctx, ListCsv::Payments(query)).await?);
    }
    Ok(Json(billing::list_payments(&s.db, &ctx, query).await?).into_response())
}

/// A payment with its allocations.
#[utoipa::path(get, path = "/payments/{id}", tag = "billing", params(("id" = String, Path, description = "Payment id or code")),
    responses((status = 200, description = "The payment", body = Payment), (status = 404, description = "No such payment", body = Problem)))]
async fn get_payment(State(s): State<AppState>, Caller(ctx): Caller, Path(id): Path<String>) -> Result<Json<Payment>, ApiError> {
    Ok(Json(billing::get_payment(&s.db, &ctx, &id).await?))
}

/// Allocate what is left of a payment to invoices of the same customer.
#[utoipa::path(post, path = "/payments/{id}/allocations", tag = "billing", params(("id" = String, Path, description = "Payment id or code")),
    request_body = AllocateInput,
    responses((status = 200, description = "The payment", body = Payment), (status = 404, description = "No such payment", body = Problem),
        (status = 409, description = "An invoice is not open", body = Problem), (status = 422, description = "Invalid input or over-allocation", body = Problem)))]
async fn allocate_payment(
    State(s): State<AppState>,
    Caller(ctx): Caller,
    Path(id): Path<String>,
    Body(input): Body<AllocateInput>,
) -> Result<Json<Payment>, ApiError> {
    Ok(Json(billing::allocate_payment(&s.db, &ctx, &id, input).await?))
}

/// Issue a credit note, against an invoice or as account credit.
#[utoipa::path(post, path = "/credit-notes", tag = "billing", request_body = CreditNoteInput,
    responses((status = 201, description = "Issued", body = CreditNote), (status = 409, description = "The invoice is not open", body = Problem),
        (status = 422, description = "Invalid input", body = Problem)))]
async fn create_credit_note(
    State(s): State<AppState>,
    Caller(ctx): Caller,
    Body(input): Body<CreditNoteInput>,
) -> Result<(StatusCode, Json<CreditNote>), ApiError> {
    Ok((StatusCode::CREATED, Json(billing::create_credit_note(&s.db, &ctx, input).await?)))
}

/// Credit notes newest first, optionally of one customer.
#[utoipa::path(get, path = "/credit-notes", tag = "billing", params(LedgerQuery),
    responses((status = 200, description = "One page of credit notes (JSON), or with `Accept: text/csv` every matching one as CSV", content((Page<CreditNote> = "application/json"), (String = "text/csv"))), (status = 404, description = "The customer filtered by does not exist", body = Problem),
        (status = 422, description = "Invalid query", body = Problem)))]
async fn list_credit_notes(
    State(s): State<AppState>,
    Caller(ctx): Caller,
    WantsCsv(csv): WantsCsv,
    Params(query): Params<LedgerQuery>,
) -> Result<Response, ApiError> {
    if csv {
        return Ok(csv_response(&s, &ctx, ListCsv::CreditNotes(query)).await?);
    }
    Ok(Json(billing::list_credit_notes(&s.db, &ctx, query).await?).into_response())
}

/// A credit note with its allocations.
#[utoipa::path(get, path = "/credit-notes/{id}", tag = "billing", params(("id" = String, Path, description = "Credit note id or code")),
    responses((status = 200, description = "The credit note", body = CreditNote), (status = 404, description = "No such credit note", body = Problem)))]
async fn get_credit_note(State(s): State<AppState>, Caller(ctx): Caller, Path(id): Path<String>) -> Result<Json<CreditNote>, ApiError> {
    Ok(Json(billing::get_credit_note(&s.db, &ctx, &id).await?))
}

/// Allocate what is left of a credit note to invoices of the same customer.
#[utoipa::path(post, path = "/credit-notes/{id}/allocations", tag = "billing", params(("id" = String, Path, description = "Credit note id or code")),
    request_body = AllocateInput,
    responses((status = 200, description = "The credit note", body = CreditNote), (status = 404, description = "No such credit note", body = Problem),
        (status = 409, description = "An invoice is not open", body = Problem), (status = 422, description = "Invalid input or over-allocation", body = Problem)))]
async fn allocate_credit_note(
    State(s): State<AppState>,
    Caller(ctx): Caller,
    Path(id): Path<String>,
    Body(input): Body<AllocateInput>,
) -> Result<Json<CreditNote>, ApiError> {
    Ok(Json(billing::allocate_credit_note(&s.db, &ctx, &id, input).await?))
}

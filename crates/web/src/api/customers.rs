pub(super) mod contacts;
pub(super) mod erasure;
pub(super) mod sites;
use axum::Json;
use axum::extract::State;
use axum::http::{StatusCode, header};
use axum::response::{IntoResponse, Response};
use dossier_domain::customer::{Customer, CustomerInput, CustomerPatch, StatusChangeInput};
use dossier_service::customers::{self, BulkLabelsInput, CustomerQuery, LabelsInput};
use dossier_service::data::lists::ListCsv;
use dossier_service::page::Page;
use dossier_service::statement::{self, Statement, StatementQuery};
use dossier_service::summary::{self, CustomerSummary};
use utoipa_axum::router::OpenApiRouter;
use utoipa_axum::routes;

use super::documents::Pdf;
use crate::AppState;
use crate::api::data::lists::{WantsCsv, csv_response};
use crate::auth::Caller;
use crate::error::{ApiError, Problem};
use crate::extract::{Body, Params, Path};

pub fn router() -> OpenApiRouter<AppState> {
    OpenApiRouter::new()
        .routes(routes!(create_customer, list_customers))
        .routes(routes!(get_customer, update_customer))
        .routes(routes!(change_status))
        .routes(routes!(add_labels))
        .routes(routes!(remove_label))
        .routes(routes!(bulk_labels))
        .routes(routes!(customer_summary))
        .routes(routes!(customer_statement))
        .routes(routes!(customer_statement_pdf))
}

/// A statement of account as of a date: transactions of the period, opening
/// and closing balance, open invoices, unallocated credit and ageing.
#[utoipa::path(get, path = "/customers/{id}/statement", tag = "customers", params(("id" = String, Path, description = "Customer id or code"), StatementQuery),
    responses((status = 200, description = "The statement", body = Statement), (status = 404, description = "No such customer", body = Problem),
        (status = 422, description = "Invalid dates", body = Problem)))]
async fn customer_statement(
    State(s): State<AppState>,
    Caller(ctx): Caller,
    Path(id): Path<String>,
    Params(query): Params<StatementQuery>,
) -> Result<Json<Statement>, ApiError> {
    Ok(Json(statement::statement(&s.db, &ctx, &id, query).await?))
}

/// The same statement as a PDF document.
#[utoipa::path(get, path = "/customers/{id}/statement.pdf", tag = "customers", params(("id" = String, Path, description = "Customer id or code"), StatementQuery),
    responses((status = 200, description = "The statement", content_type = "application/pdf", body = Pdf),
        (status = 404, description = "No such customer", body = Problem), (status = 422, description = "Invalid dates", body = Problem)))]
async fn customer_statement_pdf(
    State(s): State<AppState>,
    Caller(ctx): Caller,
    Path(id): Path<String>,
    Params(query): Params<StatementQuery>,
) -> Result<impl IntoResponse, ApiError> {
    let pdf = statement::statement_pdf(&s.db, &ctx, &id, query).await?;
    Ok(([(header::CONTENT_TYPE, "application/pdf")], pdf))
}

/// The customer's status bars (inquiries, quotes, jobs, invoices: count and
/// total per status), balances, ageing, account credit and recent work.
#[utoipa::path(get, path = "/customers/{id}/summary", tag = "customers", params(("id" = String, Path, description = "Customer id or code")),
    responses((status = 200, description = "The summary", body = CustomerSummary), (status = 404, description = "No such customer", body = Problem)))]
async fn customer_summary(State(s): State<AppState>, Caller(ctx): Caller, Path(id): Path<String>) -> Result<Json<CustomerSummary>, ApiError> {
    Ok(Json(summary::customer_summary(&s.db, &ctx, &id).await?))
}

/// Create a customer.
#[utoipa::path(post, path = "/customers", tag = "customers", request_body = CustomerInput,
    responses((status = 201, description = "Created", body = Customer), (status = 422, description = "Invalid input", body = Problem)))]
async fn create_customer(State(s): State<AppState>, Caller(ctx): Caller, Body(input): Body<CustomerInput>) -> Result<(StatusCode, Json<Customer>), ApiError> {
    Ok((StatusCode::CREATED, Json(customers::create_customer(&s.db, &ctx, input).await?)))
}

/// Search and filter customers, in name order. Besides the named
/// parameters, `cf.<key>=<value>` (repeatable, at most 10) narrows to
/// customers whose custom field `<key>` holds `<value>`: text fields
/// compare whole values ignoring case, choice fields their option, yes/no
/// fields `true`/`false`; other types answer 422 `not_filterable`.
#[utoipa::path(get, path = "/customers", tag = "customers", params(CustomerQuery),
    responses((status = 200, description = "One page of customers (JSON), or with `Accept: text/csv` every matching one as CSV in the importer's columns", content((Page<Customer> = "application/json"), (String = "text/csv"))), (status = 422, description = "Invalid query", body = Problem)))]
async fn list_customers(
    State(s): State<AppState>,
    Caller(ctx): Caller,
    WantsCsv(csv): WantsCsv,
    CustomerParams(query): CustomerParams,
) -> Result<Response, ApiError> {
    if csv {
        return Ok(csv_response(&s, &ctx, ListCsv::Customers(query)).await?);
    }
    Ok(Json(customers::list_customers(&s.db, &ctx, query).await?).into_response())
}

/// The customer list's query: its named parameters, and each
/// `cf.<key>=<value>` filter, which no named parameter can describe.
struct CustomerParams(CustomerQuery);

impl<S: Send + Sync> axum::extract::FromRequestParts<S> for CustomerParams {
    type Rejection = ApiError;

    async fn from_request_parts(parts: &mut axum::http::request::Parts, state: &S) -> Result<Self, Self::Rejection> {
        let pairs: Vec<(String, String)> = serde_urlencoded::from_str(parts.uri.query().unwrap_or_default())
            .map_err(|e| ApiError::new(StatusCode::UNPROCESSABLE_ENTITY, "invalid_query", e.to_string()))?;
        let (custom, named): (Vec<_>, Vec<_>) = pairs.into_iter().partition(|(k, _)| k.starts_with("cf."));
        let rest = serde_urlencoded::to_string(&named).map_err(|e| ApiError::new(StatusCode::UNPROCESSABLE_ENTITY, "invalid_query", e.to_string()))?;
        let mut named_only = parts.clone();
        named_only.uri =
            format!("{}?{rest}", parts.uri.path()).parse().map_err(|_| ApiError::new(StatusCode::BAD_REQUEST, "invalid_query", "unreadable query"))?;
        let Params(mut query) = Params::<CustomerQuery>::from_request_parts(&mut named_only, state).await?;
        query.custom = custom.into_iter().map(|(k, v)| (k["cf.".len()..].to_owned(), v)).collect();
        Ok(CustomerParams(query))
    }
}

/// A customer, by id or code. The id or code of a customer merged into
/// another answers the survivor, with `merged_from` naming the customer
/// asked for and the merge (its id, when, until when it can be undone).
#[utoipa::path(get, path = "/customers/{id}", tag = "customers", params(("id" = String, Path, description = "Customer id or code")),
    responses((status = 200, description = "The customer (for a merged customer: its survivor, with `merged_from`)", body = Customer),
        (status = 404, description = "No such customer", body = Problem)))]
async fn get_customer(State(s): State<AppState>, Caller(ctx): Caller, Path(id): Path<String>) -> Result<Json<Customer>, ApiError> {
    Ok(Json(customers::get_customer(&s.db, &ctx, &id).await?))
}

/// Change some fields; each change is recorded with its old and new value.
#[utoipa::path(patch, path = "/customers/{id}", tag = "customers", params(("id" = String, Path, description = "Customer id or code")), request_body = CustomerPatch,
    responses((status = 200, description = "The updated customer", body = Customer), (status = 404, description = "No such customer", body = Problem),
        (status = 422, description = "Invalid input", body = Problem)))]
async fn update_customer(
    State(s): State<AppState>,
    Caller(ctx): Caller,
    Path(id): Path<String>,
    Body(patch): Body<CustomerPatch>,
) -> Result<Json<Customer>, ApiError> {
    Ok(Json(customers::update_customer(&s.db, &ctx, &id, patch).await?))
}

/// Change the customer's status, with a reason.
#[utoipa::path(post, path = "/customers/{id}/status", tag = "customers", params(("id" = String, Path, description = "Customer id or code")), request_body = StatusChangeInput,
    responses((status = 200, description = "The customer", body = Customer), (status = 404, description = "No such customer", body = Problem),
        (status = 409, description = "Already in that status", body = Problem), (status = 422, description = "Invalid input", body = Problem)))]
async fn change_status(
    State(s): State<AppState>,
    Caller(ctx): Caller,
    Path(id): Path<String>,
    Body(input): Body<StatusChangeInput>,
) -> Result<Json<Customer>, ApiError> {
    Ok(Json(customers::change_status(&s.db, &ctx, &id, input).await?))
}

/// Add and remove labels on several customers at once: all or none.
#[utoipa::path(post, path = "/customers/labels", tag = "customers", request_body = BulkLabelsInput,
    responses((status = 200, description = "The customers as changed", body = Vec<Customer>), (status = 404, description = "A customer does not exist", body = Problem),
        (status = 422, description = "Invalid input", body = Problem)))]
async fn bulk_labels(State(s): State<AppState>, Caller(ctx): Caller, Body(input): Body<BulkLabelsInput>) -> Result<Json<Vec<Customer>>, ApiError> {
    Ok(Json(customers::bulk_labels(&s.db, &ctx, input).await?))
}

/// Add labels to a customer.
#[utoipa::path(post, path = "/customers/{id}/labels", tag = "customers", params(("id" = String, Path, description = "Customer id or code")), request_body = LabelsInput,
    responses((status = 200, description = "The customer", body = Customer), (status = 404, description = "No such customer", body = Problem),
        (status = 422, description = "Invalid input", body = Problem)))]
async fn add_labels(
    State(s): State<AppState>,
    Caller(ctx): Caller,
    Path(id): Path<String>,
    Body(input): Body<LabelsInput>,
) -> Result<Json<Customer>, ApiError> {
    Ok(Json(customers::add_labels(&s.db, &ctx, &id, input).await?))
}

/// Remove one label from a customer.
#[utoipa::path(delete, path = "/customers/{id}/labels/{label}", tag = "customers",
    params(("id" = String, Path, description = "Customer id or code"), ("label" = String, Path)),
    responses((status = 200, description = "The customer", body = Customer), (status = 404, description = "No such customer", body = Problem)))]
async fn remove_label(State(s): State<AppState>, Caller(ctx): Caller, Path((id, label)): Path<(String, String)>) -> Result<Json<Customer>, ApiError> {
    Ok(Json(customers::remove_label(&s.db, &ctx, &id, &label).await?))
}

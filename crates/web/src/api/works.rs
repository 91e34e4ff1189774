//! Inquiries, quotes and jobs, and the moves of their workflows.

use axum::Json;
use axum::extract::State;
use axum::http::StatusCode;
use axum::response::{IntoResponse, Response};
use dossier_domain::drafts::QuoteEdit;
use dossier_domain::works::{ConvertInput, Inquiry, InquiryInput, Job, JobInput, JobPatch, JobStatusInput, Quote, QuoteInput};
use dossier_service::data::lists::ListCsv;
use dossier_service::page::Page;
use dossier_service::works::{self, Converted, DayPlan, InquiryQuery, InquiryStatusInput, JobQuery, QuoteQuery, QuoteStatusInput};
use utoipa_axum::router::OpenApiRouter;
use utoipa_axum::routes;

use crate::AppState;
use crate::api::data::lists::{WantsCsv, csv_response};
use crate::auth::Caller;
use crate::error::{ApiError, Problem};
use crate::extract::{Body, Params, Path};

pub fn router() -> OpenApiRouter<AppState> {
    OpenApiRouter::new()
        .routes(routes!(create_inquiry, list_inquiries))
        .routes(routes!(get_inquiry))
        .routes(routes!(move_inquiry))
        .routes(routes!(convert_inquiry))
        .routes(routes!(create_quote, list_quotes))
        .routes(routes!(get_quote, edit_quote))
        .routes(routes!(move_quote))
        .routes(routes!(create_job, list_jobs))
        .routes(routes!(get_job, update_job))
        .routes(routes!(move_job))
        .routes(routes!(my_jobs))
}

/// The caller's day: their scheduled and started jobs, overdue, today (in
/// the org's time zone) and next, soonest first (at most 200).
#[utoipa::path(get, path = "/my-jobs", tag = "works",
    responses((status = 200, description = "The caller's open jobs by when", body = DayPlan), (status = 403, description = "The role sees no jobs", body = Problem)))]
async fn my_jobs(State(s): State<AppState>, Caller(ctx): Caller) -> Result<Json<DayPlan>, ApiError> {
    Ok(Json(works::my_jobs(&s.db, &ctx).await?))
}

/// Record an inquiry (status new).
#[utoipa::path(post, path = "/inquiries", tag = "works", request_body = InquiryInput,
    responses((status = 201, description = "Created", body = Inquiry), (status = 422, description = "Invalid input", body = Problem)))]
async fn create_inquiry(State(s): State<AppState>, Caller(ctx): Caller, Body(input): Body<InquiryInput>) -> Result<(StatusCode, Json<Inquiry>), ApiError> {
    Ok((StatusCode::CREATED, Json(works::create_inquiry(&s.db, &ctx, input).await?)))
}

/// Inquiries newest first, by customer and status.
#[utoipa::path(get, path = "/inquiries", tag = "works", params(InquiryQuery),
    responses((status = 200, description = "One page of inquiries (JSON), or with `Accept: text/csv` every matching one as CSV", content((Page<Inquiry> = "application/json"), (String = "text/csv"))), (status = 404, description = "The customer filtered by does not exist", body = Problem),
        (status = 422, description = "Invalid query", body = Problem)))]
async fn list_inquiries(
    State(s): State<AppState>,
    Caller(ctx): Caller,
    WantsCsv(csv): WantsCsv,
    Params(query): Params<InquiryQuery>,
) -> Result<Response, ApiError> {
    if csv {
        return Ok(csv_response(&s, &ctx, ListCsv::Inquiries(query)).await?);
    }
    Ok(Json(works::list_inquiries(&s.db, &ctx, query).await?).into_response())
}

/// An inquiry, by id or code.
#[utoipa::path(get, path = "/inquiries/{id}", tag = "works", params(("id" = String, Path, description = "Inquiry id or code")),
    responses((status = 200, description = "The inquiry", body = Inquiry), (status = 404, description = "No such inquiry", body = Problem)))]
async fn get_inquiry(State(s): State<AppState>, Caller(ctx): Caller, Path(id): Path<String>) -> Result<Json<Inquiry>, ApiError> {
    Ok(Json(works::get_inquiry(&s.db, &ctx, &id).await?))
}

/// Move an inquiry on (contacted, qualified, lost, back to new). It becomes
/// converted only by converting it.
#[utoipa::path(post, path = "/inquiries/{id}/status", tag = "works", params(("id" = String, Path, description = "Inquiry id or code")),
    request_body = InquiryStatusInput,
    responses((status = 200, description = "The inquiry", body = Inquiry), (status = 404, description = "No such inquiry", body = Problem),
        (status = 409, description = "Move not allowed", body = Problem), (status = 422, description = "Invalid input", body = Problem)))]
async fn move_inquiry(
    State(s): State<AppState>,
    Caller(ctx): Caller,
    Path(id): Path<String>,
    Body(input): Body<InquiryStatusInput>,
) -> Result<Json<Inquiry>, ApiError> {
    Ok(Json(works::move_inquiry(&s.db, &ctx, &id, input).await?))
}

/// Convert an open inquiry into a draft quote or a job to schedule; answers
/// the converted inquiry with the new `quote` or `job`.
#[utoipa::path(post, path = "/inquiries/{id}/convert", tag = "works", params(("id" = String, Path, description = "Inquiry id or code")),
    request_body = ConvertInput,
    responses((status = 201, description = "Converted", body = Converted), (status = 404, description = "No such inquiry", body = Problem),
        (status = 409, description = "Not open", body = Problem), (status = 422, description = "Invalid input", body = Problem)))]
async fn convert_inquiry(
    State(s): State<AppState>,
    Caller(ctx): Caller,
    Path(id): Path<String>,
    Body(input): Body<ConvertInput>,
) -> Result<(StatusCode, Json<Converted>), ApiError> {
    Ok((StatusCode::CREATED, Json(works::convert_inquiry(&s.db, &ctx, &id, input).await?)))
}

/// Create a draft quote.
#[utoipa::path(post, path = "/quotes", tag = "works", request_body = QuoteInput,
    responses((status = 201, description = "Created", body = Quote), (status = 422, description = "Invalid input", body = Problem)))]
async fn create_quote(State(s): State<AppState>, Caller(ctx): Caller, Body(input): Body<QuoteInput>) -> Result<(StatusCode, Json<Quote>), ApiError> {
    Ok((StatusCode::CREATED, Json(works::create_quote(&s.db, &ctx, input).await?)))
}

/// Quotes newest first, by customer and status.
#[utoipa::path(get, path = "/quotes", tag = "works", params(QuoteQuery),
    responses((status = 200, description = "One page of quotes (JSON), or with `Accept: text/csv` every matching one as CSV", content((Page<Quote> = "application/json"), (String = "text/csv"))), (status = 404, description = "The customer filtered by does not exist", body = Problem),
        (status = 422, description = "Invalid query", body = Problem)))]
async fn list_quotes(State(s): State<AppState>, Caller(ctx): Caller, WantsCsv(csv): WantsCsv, Params(query): Params<QuoteQuery>) -> Result<Response, ApiError> {
    if csv {
        return Ok(csv_response(&s, &ctx, ListCsv::Quotes(query)).await?);
    }
    Ok(Json(works::list_quotes(&s.db, &ctx, query).await?).into_response())
}

/// A quote, by id or code.
#[utoipa::path(get, path = "/quotes/{id}", tag = "works", params(("id" = String, Path, description = "Quote id or code")),
    responses((status = 200, description = "The quote", body = Quote), (status = 404, description = "No such quote", body = Problem)))]
async fn get_quote(State(s): State<AppState>, Caller(ctx): Caller, Path(id): Path<String>) -> Result<Json<Quote>, ApiError> {
    Ok(Json(works::get_quote(&s.db, &ctx, &id).await?))
}

/// Edit a draft quote: its title, validity or lines (all of them,
/// replaced). Absent fields stay, `null` clears. A quote already sent is
/// refused with `not_draft` (make a new one).
#[utoipa::path(patch, path = "/quotes/{id}", tag = "works", params(("id" = String, Path, description = "Quote id or code")), request_body = QuoteEdit,
    responses((status = 200, description = "The quote", body = Quote), (status = 404, description = "No such quote", body = Problem),
        (status = 409, description = "Not a draft (`not_draft`), or changed by someone else meanwhile", body = Problem),
        (status = 422, description = "Invalid input", body = Problem)))]
async fn edit_quote(State(s): State<AppState>, Caller(ctx): Caller, Path(id): Path<String>, Body(edit): Body<QuoteEdit>) -> Result<Json<Quote>, ApiError> {
    Ok(Json(works::edit_quote(&s.db, &ctx, &id, edit).await?))
}

/// Move a quote on: sent, accepted (optionally creating its job), declined, expired.
#[utoipa::path(post, path = "/quotes/{id}/status", tag = "works", params(("id" = String, Path, description = "Quote id or code")),
    request_body = QuoteStatusInput,
    responses((status = 200, description = "The quote", body = Quote), (status = 404, description = "No such quote", body = Problem),
        (status = 409, description = "Move not allowed", body = Problem), (status = 422, description = "Invalid input", body = Problem)))]
async fn move_quote(
    State(s): State<AppState>,
    Caller(ctx): Caller,
    Path(id): Path<String>,
    Body(input): Body<QuoteStatusInput>,
) -> Result<Json<Quote>, ApiError> {
    Ok(Json(works::move_quote(&s.db, &ctx, &id, input).await?))
}

/// Create a job: scheduled when a window is given, else to schedule.
#[utoipa::path(post, path = "/jobs", tag = "works", request_body = JobInput,
    responses((status = 201, description = "Created", body = Job), (status = 422, description = "Invalid input", body = Problem)))]
async fn create_job(State(s): State<AppState>, Caller(ctx): Caller, Body(input): Body<JobInput>) -> Result<(StatusCode, Json<Job>), ApiError> {
    Ok((StatusCode::CREATED, Json(works::create_job(&s.db, &ctx, input).await?)))
}

/// Jobs newest first, by customer, status and assignee.
#[utoipa::path(get, path = "/jobs", tag = "works", params(JobQuery),
    responses((status = 200, description = "One page of jobs (JSON), or with `Accept: text/csv` every matching one as CSV", content((Page<Job> = "application/json"), (String = "text/csv"))), (status = 404, description = "The customer filtered by does not exist", body = Problem),
        (status = 422, description = "Invalid query", body = Problem)))]
async fn list_jobs(State(s): State<AppState>, Caller(ctx): Caller, WantsCsv(csv): WantsCsv, Params(query): Params<JobQuery>) -> Result<Response, ApiError> {
    if csv {
        return Ok(csv_response(&s, &ctx, ListCsv::Jobs(query)).await?);
    }
    Ok(Json(works::list_jobs(&s.db, &ctx, query).await?).into_response())
}

/// A job, by id or code.
#[utoipa::path(get, path = "/jobs/{id}", tag = "works", params(("id" = String, Path, description = "Job id or code")),
    responses((status = 200, description = "The job", body = Job), (status = 404, description = "No such job", body = Problem)))]
async fn get_job(State(s): State<AppState>, Caller(ctx): Caller, Path(id): Path<String>) -> Result<Json<Job>, ApiError> {
    Ok(Json(works::get_job(&s.db, &ctx, &id).await?))
}

/// Change a job's custom field values; each change is recorded. Its status
/// moves on through `/jobs/{id}/status`.
#[utoipa::path(patch, path = "/jobs/{id}", tag = "works", params(("id" = String, Path, description = "Job id or code")), request_body = JobPatch,
    responses((status = 200, description = "The updated job", body = Job), (status = 404, description = "No such job", body = Problem),
        (status = 422, description = "Invalid input", body = Problem)))]
async fn update_job(State(s): State<AppState>, Caller(ctx): Caller, Path(id): Path<String>, Body(patch): Body<JobPatch>) -> Result<Json<Job>, ApiError> {
    Ok(Json(works::update_job(&s.db, &ctx, &id, patch).await?))
}

/// Move a job on: scheduling needs a window, completing records notes and
/// the time; `assignees` replace the job's when given.
#[utoipa::path(post, path = "/jobs/{id}/status", tag = "works", params(("id" = String, Path, description = "Job id or code")),
    request_body = JobStatusInput,
    responses((status = 200, description = "The job", body = Job), (status = 404, description = "No such job", body = Problem),
        (status = 409, description = "Move not allowed", body = Problem), (status = 422, description = "Invalid input or no window", body = Problem)))]
async fn move_job(State(s): State<AppState>, Caller(ctx): Caller, Path(id): Path<String>, Body(input): Body<JobStatusInput>) -> Result<Json<Job>, ApiError> {
    Ok(Json(works::move_job(&s.db, &ctx, &id, input).await?))
}

//! Probable duplicates, "not a duplicate", merging a customer into another
//! and undoing a merge.

use axum::Json;
use axum::extract::State;
use dossier_domain::data::merge::{Merge, MergeInput};
use dossier_service::duplicates::{self, Dismissal, DismissalInput, DuplicatePair, DuplicatesQuery};
use dossier_service::merge;
use dossier_service::page::Page;
use utoipa_axum::router::OpenApiRouter;
use utoipa_axum::routes;

use crate::AppState;
use crate::auth::Caller;
use crate::error::{ApiError, Problem};
use crate::extract::{Body, Params, Path};

pub fn router() -> OpenApiRouter<AppState> {
    OpenApiRouter::new()
        .routes(routes!(list_duplicates))
        .routes(routes!(dismiss))
        .routes(routes!(merge_customers))
        .routes(routes!(get_merge))
        .routes(routes!(undo_merge))
}

/// Probable duplicates among the live customers (owners and admins), most
/// likely first: pairs sharing an email or phone (of the customer or its
/// contacts), an address (postcode and first line of a site), or with the
/// same or a similar name (accents and case folded, Jaro–Winkler), each
/// with a score (0–100) and its reasons. Deleted, merged and erased
/// customers never appear; dismissed pairs neither.
#[utoipa::path(get, path = "/duplicates", tag = "customers", params(DuplicatesQuery),
    responses((status = 200, description = "One page of pairs", body = Page<DuplicatePair>), (status = 403, description = "Not an owner or admin", body = Problem),
        (status = 422, description = "Invalid query", body = Problem)))]
async fn list_duplicates(
    State(s): State<AppState>,
    Caller(ctx): Caller,
    Params(query): Params<DuplicatesQuery>,
) -> Result<Json<Page<DuplicatePair>>, ApiError> {
    Ok(Json(duplicates::list_duplicates(&s.db, &ctx, query).await?))
}

/// "Not a duplicate": the pair (codes or ids) is never suggested again
/// (owners and admins). Recorded on both customers; again: no change.
#[utoipa::path(post, path = "/duplicates/dismissals", tag = "customers", request_body = DismissalInput,
    responses((status = 200, description = "Remembered", body = Dismissal), (status = 403, description = "Not an owner or admin", body = Problem),
        (status = 404, description = "No such customer", body = Problem), (status = 422, description = "Missing or the same customer twice", body = Problem)))]
async fn dismiss(State(s): State<AppState>, Caller(ctx): Caller, Body(input): Body<DismissalInput>) -> Result<Json<Dismissal>, ApiError> {
    Ok(Json(duplicates::dismiss(&s.db, &ctx, input).await?))
}

/// Merge the customer `merged` into this one, the survivor (owners and
/// admins), in one transaction: its contacts, sites, works, money,
/// messages, follow-ups and files become the survivor's; per field
/// (`fields`) the survivor's or the merged customer's value survives
/// (default: the survivor's, or the merged one's where the survivor has
/// none); its labels are added. The merged customer leaves every list and
/// search and is read-only (409 `customer_merged`); its id and code answer
/// the survivor with `merged_from`. One `customer.merged` entry on both;
/// the survivor's timeline holds the merged customer's history. Undo
/// within 30 days with `POST /merges/{id}/undo`.
#[utoipa::path(post, path = "/customers/{id}/merge", tag = "customers", params(("id" = String, Path, description = "The survivor's id or code")),
    request_body = MergeInput,
    responses((status = 200, description = "The merge", body = Merge), (status = 403, description = "Not an owner or admin", body = Problem),
        (status = 404, description = "No such customer", body = Problem),
        (status = 409, description = "Into itself (`merge_into_itself`), or either customer merged already (`customer_merged`), erased (`customer_erased`), deleted (`customer_deleted`) or deactivated (`customer_deactivated`)", body = Problem),
        (status = 422, description = "Invalid input: no `merged`, an unknown field, too many fields", body = Problem)))]
async fn merge_customers(
    State(s): State<AppState>,
    Caller(ctx): Caller,
    Path(id): Path<String>,
    Body(input): Body<MergeInput>,
) -> Result<Json<Merge>, ApiError> {
    Ok(Json(merge::merge_customers(&s.db, &ctx, &id, input).await?))
}

/// One merge (owners and admins): who into whom, when, by whom, how many
/// rows moved per table, until when it can be undone, and whether it was.
#[utoipa::path(get, path = "/merges/{id}", tag = "customers", params(("id" = String, Path, description = "Merge id")),
    responses((status = 200, description = "The merge", body = Merge), (status = 403, description = "Not an owner or admin", body = Problem),
        (status = 404, description = "No such merge", body = Problem)))]
async fn get_merge(State(s): State<AppState>, Caller(ctx): Caller, Path(id): Path<String>) -> Result<Json<Merge>, ApiError> {
    Ok(Json(merge::get_merge(&s.db, &ctx, &id).await?))
}

/// Undo a merge within 30 days (owners and admins): exactly the rows it
/// moved go back (records the survivor gained since stay with it), the
/// survivor's fields, labels and primary contact are as before, and the
/// merged customer is live again. One `customer.merge_undone` entry on both.
#[utoipa::path(post, path = "/merges/{id}/undo", tag = "customers", params(("id" = String, Path, description = "Merge id")),
    responses((status = 200, description = "The merge, undone", body = Merge), (status = 403, description = "Not an owner or admin", body = Problem),
        (status = 404, description = "No such merge", body = Problem),
        (status = 409, description = "Undone already (`merge_undone`), too late (`undo_window_ended`), the survivor since merged, deleted or erased, or money allocated across the two since (`undo_blocked`)", body = Problem)))]
async fn undo_merge(State(s): State<AppState>, Caller(ctx): Caller, Path(id): Path<String>) -> Result<Json<Merge>, ApiError> {
    Ok(Json(merge::undo_merge(&s.db, &ctx, &id).await?))
}

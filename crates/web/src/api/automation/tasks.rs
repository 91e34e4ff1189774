//! `/tasks`: the org's background tasks, for owners and admins: list them,
//! retry a failed one, cancel a queued or failed one.

use axum::Json;
use axum::extract::State;
use dossier_service::page::Page;
use dossier_service::tasks::{self, Task, TaskQuery};
use utoipa_axum::router::OpenApiRouter;
use utoipa_axum::routes;

use crate::AppState;
use crate::auth::Caller;
use crate::error::{ApiError, Problem};
use crate::extract::{Params, Path};

pub fn router() -> OpenApiRouter<AppState> {
    OpenApiRouter::new().routes(routes!(list_tasks)).routes(routes!(retry_task)).routes(routes!(cancel_task))
}

/// The org's background tasks, newest first, of one status if asked
/// (owners and admins).
#[utoipa::path(get, path = "/tasks", tag = "tasks", params(TaskQuery),
    responses((status = 200, description = "A page of tasks", body = Page<Task>), (status = 403, description = "Not an owner or admin", body = Problem),
        (status = 422, description = "An unknown status, a bad cursor or limit", body = Problem)))]
async fn list_tasks(State(s): State<AppState>, Caller(ctx): Caller, Params(query): Params<TaskQuery>) -> Result<Json<Page<Task>>, ApiError> {
    Ok(Json(tasks::list_tasks(&s.db, &ctx, query).await?))
}

/// Queue a failed task again, due now, with its attempts counted afresh.
#[utoipa::path(post, path = "/tasks/{id}/retry", tag = "tasks", params(("id" = String, Path)),
    responses((status = 200, description = "The task, queued", body = Task), (status = 404, description = "No such task", body = Problem),
        (status = 409, description = "Not failed (`illegal_transition`)", body = Problem)))]
async fn retry_task(State(s): State<AppState>, Caller(ctx): Caller, Path(id): Path<String>) -> Result<Json<Task>, ApiError> {
    Ok(Json(tasks::retry_task(&s.db, &ctx, &id).await?))
}

/// Cancel a queued or failed task: it will not run (again).
#[utoipa::path(post, path = "/tasks/{id}/cancel", tag = "tasks", params(("id" = String, Path)),
    responses((status = 200, description = "The task, cancelled", body = Task), (status = 404, description = "No such task", body = Problem),
        (status = 409, description = "Running, done or cancelled already (`illegal_transition`)", body = Problem)))]
async fn cancel_task(State(s): State<AppState>, Caller(ctx): Caller, Path(id): Path<String>) -> Result<Json<Task>, ApiError> {
    Ok(Json(tasks::cancel_task(&s.db, &ctx, &id).await?))
}

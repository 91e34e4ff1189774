//! The admin page "Background tasks": the org's queued, running, failed and
//! done tasks, newest first (of one status if chosen), with their dates in
//! the org's time, attempts and last error; a failed task can be retried,
//! a queued or failed one cancelled. Owners and admins only, as the API's
//! `/tasks`, whose use cases these are.

use askama::Template;
use axum::extract::{Path, Query, State};
use axum::http::StatusCode;
use axum::response::{IntoResponse, Redirect, Response};
use dossier_service::tasks::{self, Task, TaskQuery, TaskStatus};
use dossier_service::{Ctx, Db, ServiceError};
use serde::Deserialize;

use crate::AppState;
use crate::ui::nav::Viewer;
use crate::ui::views::day;
use crate::ui::{Staff, failure, page};

struct TaskView {
    id: String,
    kind: &'static str,
    status: &'static str,
    run_at: String,
    attempts: String,
    last_error: String,
    finished: String,
    retryable: bool,
    cancellable: bool,
}

#[derive(Template)]
#[template(path = "ui/tasks.html")]
struct TasksPage {
    user: Option<Viewer>,
    tasks: Vec<TaskView>,
    /// The status shown, or empty for all.
    status: String,
    statuses: Vec<&'static str>,
    next: Option<String>,
    error: Option<String>,
}

#[derive(Deserialize)]
pub struct Shown {
    status: Option<String>,
    cursor: Option<String>,
}

fn view(ctx: &Ctx, task: Task) -> TaskView {
    TaskView {
        id: task.id.0.to_string(),
        kind: task.kind.label(),
        status: task.status.as_str(),
        run_at: day(&ctx.org, task.run_at),
        attempts: format!("{} of {}", task.attempts, task.max_attempts),
        last_error: task.last_error.unwrap_or_default(),
        finished: task.finished_at.map(|at| day(&ctx.org, at)).unwrap_or_default(),
        retryable: task.status.is_retryable(),
        cancellable: task.status.is_cancellable(),
    }
}

async fn tasks_page(db: &Db, ctx: &Ctx, shown: Shown, error: Option<String>) -> Result<TasksPage, ServiceError> {
    let status = shown.status.filter(|s| !s.is_empty());
    let parsed = match status.as_deref() {
        Some(text) => Some(TaskStatus::parse(text).ok_or(ServiceError::NotFound("task status"))?),
        None => None,
    };
    let found = tasks::list_tasks(db, ctx, TaskQuery { status: parsed, cursor: shown.cursor, limit: None }).await?;
    let status = status.unwrap_or_default();
    Ok(TasksPage {
        user: Some(Viewer::of(ctx)),
        next: found.next_cursor.map(|c| format!("/admin/tasks?status={status}&cursor={c}")),
        tasks: found.items.into_iter().map(|t| view(ctx, t)).collect(),
        status,
        statuses: TaskStatus::ALL.iter().map(|s| s.as_str()).collect(),
        error,
    })
}

/// `GET /admin/tasks?status=…`.
pub async fn show(State(s): State<AppState>, Staff(ctx): Staff, Query(shown): Query<Shown>) -> Response {
    match tasks_page(&s.db, &ctx, shown, None).await {
        Ok(page_data) => page(StatusCode::OK, &page_data),
        Err(e) => failure(e),
    }
}

/// Back to the list, or the list again with why not.
async fn after(db: &Db, ctx: &Ctx, result: Result<Task, ServiceError>) -> Response {
    match result {
        Ok(_) => Redirect::to("/admin/tasks").into_response(),
        Err(ServiceError::Conflict { message, .. }) => match tasks_page(db, ctx, Shown { status: None, cursor: None }, Some(message)).await {
            Ok(page_data) => page(StatusCode::CONFLICT, &page_data),
            Err(e) => failure(e),
        },
        Err(e) => failure(e),
    }
}

/// `POST /admin/tasks/{id}/retry`.
pub async fn retry(State(s): State<AppState>, Staff(ctx): Staff, Path(id): Path<String>) -> Response {
    let result = tasks::retry_task(&s.db, &ctx, &id).await;
    after(&s.db, &ctx, result).await
}

/// `POST /admin/tasks/{id}/cancel`.
pub async fn cancel(State(s): State<AppState>, Staff(ctx): Staff, Path(id): Path<String>) -> Response {
    let result = tasks::cancel_task(&s.db, &ctx, &id).await;
    after(&s.db, &ctx, result).await
}

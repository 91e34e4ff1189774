//! Bounds on a request: how long it may take and how long its address may be.

use std::time::Duration;

use axum::extract::{Request, State};
use axum::http::StatusCode;
use axum::middleware::Next;
use axum::response::{IntoResponse, Response};
use tracing::Instrument;

use crate::error::ApiError;

/// How long a request may take to produce its answer.
pub const REQUEST_TIMEOUT: Duration = Duration::from_secs(30);

/// What a timed-out request is told to wait before trying again.
pub const RETRY_AFTER_TIMEOUT_SECS: u64 = 5;

/// The longest path and query accepted. The HTTP parser itself refuses a
/// request line over 64 KiB with a bare 414; below that, this answers.
pub const MAX_URI_BYTES: usize = 8 * 1024;

/// Answer `503 timeout` when the rest of the stack takes longer than the
/// deadline, whatever it is doing meanwhile.
///
/// The request runs in a task of its own. A deadline polled in the same task
/// as the handler (tower's `TimeoutLayer`) cannot fire while the handler
/// computes without yielding: it fired after the 80 s the work took. Here the
/// deadline runs on this task, the work on another, so the answer comes on
/// time while another worker thread is free. Waiting for a database
/// connection (the SQLite writer) is part of the work, so the deadline bounds
/// it too. At the deadline the task is aborted: it stops at its next await
/// and its transaction rolls back. A client that goes away aborts it as well.
pub async fn deadline(State(limit): State<Duration>, request: Request, next: Next) -> Response {
    // The task logs inside the request's span (TraceLayer's), as before.
    let mut work = AbortOnDrop(tokio::spawn(next.run(request).instrument(tracing::Span::current())));
    match tokio::time::timeout(limit, &mut work).await {
        Ok(Ok(response)) => response,
        Ok(Err(e)) => {
            tracing::error!(error = %e, "a request task failed");
            ApiError::new(StatusCode::INTERNAL_SERVER_ERROR, "internal", "an internal error occurred; it has been logged").into_response()
        }
        Err(_) => {
            tracing::warn!(limit_secs = limit.as_secs_f64(), "a request ran past its deadline and was stopped");
            let detail = format!("the request took longer than {} s and was stopped; try again shortly", limit.as_secs_f64());
            ApiError::new(StatusCode::SERVICE_UNAVAILABLE, "timeout", detail).retry_after(RETRY_AFTER_TIMEOUT_SECS).into_response()
        }
    }
}

/// Answer `414 uri_too_long` for a path and query longer than [`MAX_URI_BYTES`].
pub async fn refuse_long_uri(request: Request, next: Next) -> Response {
    let length = request.uri().path_and_query().map_or(0, |p| p.as_str().len());
    if length > MAX_URI_BYTES {
        let detail = format!("the path and query are {length} bytes; at most {MAX_URI_BYTES} are accepted");
        return ApiError::new(StatusCode::URI_TOO_LONG, "uri_too_long", detail).into_response();
    }
    next.run(request).await
}

/// A spawned task that is aborted when its handle is dropped: when the
/// deadline passes, or when hyper drops the request because the client left.
struct AbortOnDrop<T>(tokio::task::JoinHandle<T>);

impl<T> Drop for AbortOnDrop<T> {
    fn drop(&mut self) {
        self.0.abort();
    }
}

impl<T> std::future::Future for AbortOnDrop<T> {
    type Output = Result<T, tokio::task::JoinError>;

    fn poll(mut self: std::pin::Pin<&mut Self>, cx: &mut std::task::Context<'_>) -> std::task::Poll<Self::Output> {
        std::pin::Pin::new(&mut self.0).poll(cx)
    }
}

#[cfg(test)]
mod tests {
    use std::time::Instant;

    use axum::Router;
    use axum::body::Body;
    use axum::routing::get;
    use tower::ServiceExt;

    use super::*;

    /// A handler that computes for 3 s without yielding is answered at the
    /// deadline, not when it finishes.
    #[tokio::test(flavor = "multi_thread", worker_threads = 2)]
    async fn a_handler_that_never_yields_is_answered_at_the_deadline() {
        let app = Router::new()
            .route("/busy", get(|| async { std::thread::sleep(Duration::from_secs(3)) }))
            .layer(axum::middleware::from_fn_with_state(Duration::from_millis(200), deadline));
        let started = Instant::now();
        let response = app.oneshot(Request::builder().uri("/busy").body(Body::empty()).unwrap()).await.unwrap();
        let took = started.elapsed();
        assert_eq!(response.status(), StatusCode::SERVICE_UNAVAILABLE);
        assert_eq!(response.headers()["retry-after"], RETRY_AFTER_TIMEOUT_SECS.to_string());
        assert_eq!(response.headers()["content-type"], "application/problem+json");
        assert!(took < Duration::from_secs(1), "answered after {took:?}");
    }
}

//! The HTTP layer: the JSON API under `/api/v1` with its generated OpenAPI
//! document, and health checks. Handlers parse, call one service function
//! and render; they hold no business logic and write no history.

mod api;
mod auth;
mod downloads;
mod error;
mod extract;
mod headers;
mod idempotency;
mod limits;
mod portal;
mod rich_text;
mod ui;
mod uploads;

use std::future::Future;
use std::time::Duration;

use axum::Router;
use axum::routing::get;
use dossier_service::Db;
use dossier_service::files::Files;
use tokio::net::TcpListener;
use tower_http::catch_panic::CatchPanicLayer;
use tower_http::request_id::{MakeRequestUuid, PropagateRequestIdLayer, SetRequestIdLayer};
use tower_http::trace::TraceLayer;

pub use api::openapi;

/// What every handler can reach.
#[derive(Clone)]
pub struct AppState {
    pub db: Db,
    /// Where file contents are kept, and what an upload may be.
    pub files: Files,
    /// Behind a reverse proxy: take the client's address from
    /// `X-Forwarded-For` and TLS from `X-Forwarded-Proto`.
    pub trust_proxy: bool,
    /// The installation's outgoing mail server, for orgs without their own.
    pub smtp: Option<dossier_service::sending::smtp::MailServer>,
    /// Where people reach Dossier: the start of the links it emails.
    pub public_url: dossier_service::PublicUrl,
}

impl AppState {
    pub fn new(db: Db, files: Files) -> Self {
        Self { db, files, trust_proxy: false, smtp: None, public_url: dossier_service::PublicUrl::default() }
    }
}

/// The whole application: API, OpenAPI document and health check.
pub fn app(state: AppState) -> Router {
    app_with_timeout(state, limits::REQUEST_TIMEOUT)
}

/// The application with another request deadline (tests use a short one).
pub fn app_with_timeout(state: AppState, request_timeout: Duration) -> Router {
    let (api, spec) = api::router().split_for_parts();
    let spec_json = spec.to_pretty_json().unwrap_or_default();
    Router::new()
        .nest("/api/v1", api.layer(axum::middleware::from_fn_with_state(state.clone(), idempotency::idempotent_posts)))
        .merge(portal::router())
        .merge(ui::router())
        .fallback_service(Router::new().fallback(error::route_not_found))
        .route("/api/openapi.json", get(move || async move { ([(axum::http::header::CONTENT_TYPE, "application/json")], spec_json) }))
        .route("/healthz", get(healthz))
        .with_state(state)
        .layer(tower_http::csrf::CsrfLayer::new().with_rejection_response(error::cross_origin_refused))
        .layer(CatchPanicLayer::custom(error::panic_response))
        .layer(axum::middleware::from_fn_with_state(request_timeout, limits::deadline))
        .layer(axum::middleware::from_fn(limits::refuse_long_uri))
        .layer(axum::middleware::from_fn(error::render_errors))
        .layer(axum::middleware::from_fn(headers::secure))
        .layer(TraceLayer::new_for_http())
        .layer(PropagateRequestIdLayer::x_request_id())
        .layer(SetRequestIdLayer::x_request_id(MakeRequestUuid))
}

async fn healthz(axum::extract::State(state): axum::extract::State<AppState>) -> axum::response::Response {
    use axum::response::IntoResponse;
    match state.db.read().await {
        Ok(_) => (axum::http::StatusCode::OK, "ok").into_response(),
        Err(e) => {
            tracing::error!(error = %e, "health check cannot reach the database");
            let status = axum::http::StatusCode::SERVICE_UNAVAILABLE;
            error::ApiError::new(status, "database_unavailable", "the database cannot be reached").retry_after(limits::RETRY_AFTER_TIMEOUT_SECS).into_response()
        }
    }
}

/// Serve `app` on `listener` until `shutdown` completes, then finish the
/// requests in flight.
pub async fn serve(listener: TcpListener, state: AppState, shutdown: impl Future<Output = ()> + Send + 'static) -> std::io::Result<()> {
    let app = app(state).into_make_service_with_connect_info::<std::net::SocketAddr>();
    axum::serve(listener, app).with_graceful_shutdown(shutdown).await
}

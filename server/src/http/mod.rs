//! The HTTP API (axum). Each area has its own module with a `router()`; they merge here.
//! `docs/api.md` documents every route.

mod accounts;
mod conversations;
mod error;
mod extract;
mod files;
mod friends;
mod groups;
mod health;

pub use error::ApiError;
pub use extract::{Caller, Json};

use crate::app::App;
use axum::Router;
use axum::extract::DefaultBodyLimit;
use std::net::SocketAddr;
use std::sync::Arc;
use std::time::Duration;
use tokio::net::TcpListener;
use tower_http::timeout::TimeoutLayer;
use tower_http::trace::TraceLayer;

/// Shared state of every handler.
pub type AppState = Arc<App>;

/// The whole HTTP API.
pub fn router(app: AppState) -> Router {
    Router::new()
        .merge(health::router())
        .merge(accounts::router())
        .merge(friends::router())
        .merge(groups::router())
        .merge(conversations::router())
        .layer(DefaultBodyLimit::max(64 * 1024))
        .layer(TimeoutLayer::with_status_code(
            axum::http::StatusCode::REQUEST_TIMEOUT,
            Duration::from_secs(30),
        ))
        // Files stream for as long as the link needs: outside the timeout and body limit.
        .merge(files::router(&app))
        .layer(TraceLayer::new_for_http())
        .with_state(app)
}

/// Group applications and invitations awaiting the user: applications to groups they own
/// or administer, and invitations addressed to them.
pub async fn pending_group_requests(
    app: &App,
    user_id: kith_shared::UserId,
) -> crate::store::StoreResult<Vec<kith_shared::api::GroupRequest>> {
    let pending = groups::pending_requests(app, user_id).await?;
    Ok(pending.applications.into_iter().chain(pending.invitations).collect())
}

/// Serves the API until shutdown, letting in-flight requests finish.
pub async fn serve(app: AppState, listener: TcpListener) {
    let shutdown = app.shutdown.clone();
    let service = router(app).into_make_service_with_connect_info::<SocketAddr>();
    if let Err(err) =
        axum::serve(listener, service).with_graceful_shutdown(async move { shutdown.cancelled().await }).await
    {
        tracing::error!(%err, "HTTP server failed");
    }
}

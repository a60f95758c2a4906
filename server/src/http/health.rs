//! `GET /health`: whether the server and its database answer, and whether it speaks TLS.

use super::{AppState, Json};
use axum::Router;
use axum::extract::State;
use axum::http::StatusCode;
use axum::routing::get;
use kith_shared::api::Health;

pub fn router() -> Router<AppState> {
    Router::new().route("/health", get(get_health))
}

/// `GET /health`
async fn get_health(State(app): State<AppState>) -> (StatusCode, Json<Health>) {
    let database = app.store.ping().await;
    let health = Health {
        status: if database { "ok" } else { "degraded" }.to_owned(),
        database,
        version: env!("CARGO_PKG_VERSION").to_owned(),
        protocol_version: kith_shared::PROTOCOL_VERSION,
        tls: app.tls,
    };
    let status = if database { StatusCode::OK } else { StatusCode::SERVICE_UNAVAILABLE };
    (status, Json(health))
}

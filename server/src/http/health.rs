//! `GET /health`: whether the server and its database answer, and whether it speaks TLS.

use super::{AppState, Json};
use axum::extract::State;
use axum::http::StatusCode;
use kith_shared::api::Health;
use utoipa_axum::router::OpenApiRouter;
use utoipa_axum::routes;

pub fn router() -> OpenApiRouter<AppState> {
    OpenApiRouter::new().routes(routes!(get_health))
}

/// `GET /health`
#[utoipa::path(
    get,
    path = "/health",
    tag = "health",
    responses(
        (status = 200, description = "the server and its database answer", body = Health),
        (status = 503, description = "the database does not answer (`\"status\": \"degraded\"`)", body = Health),
    ),
)]
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

//! Blocks over HTTP: block, unblock, the block list. The rules are in [`crate::blocks`].

use super::{AppState, Caller, Json, Path};
use crate::blocks;
use crate::error::Refusal;
use axum::extract::State;
use axum::http::StatusCode;
use kith_shared::UserId;
use kith_shared::api::{ApiError, BlockedUser};
use utoipa_axum::router::OpenApiRouter;
use utoipa_axum::routes;

pub fn router() -> OpenApiRouter<AppState> {
    OpenApiRouter::new().routes(routes!(get_blocks)).routes(routes!(put_block, delete_block))
}

/// `GET /api/blocks`: everyone the caller blocks, the latest first.
#[utoipa::path(
    get,
    path = "/api/blocks",
    tag = "friends",
    security(("bearer" = [])),
    responses((status = 200, description = "everyone the caller blocks, the latest block first", body = Vec<BlockedUser>)),
)]
async fn get_blocks(State(app): State<AppState>, caller: Caller) -> Result<Json<Vec<BlockedUser>>, Refusal> {
    blocks::list(&app, caller.user_id).await.map(Json)
}

/// `PUT /api/blocks/{user_id}`: the caller blocks the user (again: no change). 204.
#[utoipa::path(
    put,
    path = "/api/blocks/{user_id}",
    tag = "friends",
    security(("bearer" = [])),
    params(("user_id" = UserId, Path, description = "The user to block")),
    responses(
        (status = 204, description = "blocked (or already blocked); a friendship between the two ended"),
        (status = 400, description = "oneself (`invalid_field`)", body = ApiError),
        (status = 404, description = "no such user (`not_found`)", body = ApiError),
    ),
)]
async fn put_block(
    State(app): State<AppState>,
    caller: Caller,
    Path(user_id): Path<UserId>,
) -> Result<StatusCode, Refusal> {
    blocks::block(&app, caller.user_id, user_id).await?;
    Ok(StatusCode::NO_CONTENT)
}

/// `DELETE /api/blocks/{user_id}`: the caller lifts their block. 204.
#[utoipa::path(
    delete,
    path = "/api/blocks/{user_id}",
    tag = "friends",
    security(("bearer" = [])),
    params(("user_id" = UserId, Path, description = "The blocked user")),
    responses(
        (status = 204, description = "unblocked"),
        (status = 404, description = "the caller does not block this user (`not_found`)", body = ApiError),
    ),
)]
async fn delete_block(
    State(app): State<AppState>,
    caller: Caller,
    Path(user_id): Path<UserId>,
) -> Result<StatusCode, Refusal> {
    blocks::unblock(&app, caller.user_id, user_id).await?;
    Ok(StatusCode::NO_CONTENT)
}

//! Friends over HTTP: user search, friend requests and the friend list. The rules are in
//! [`crate::friends`].

use super::extract::page_limit;
use super::{AppState, Caller, Json, Path, Query};
use crate::error::Refusal;
use crate::friends;
use axum::extract::State;
use axum::http::StatusCode;
use kith_shared::UserId;
use kith_shared::api::{
    ApiError, Friend, FriendRequestOutcome, FriendRequests, SearchQuery, SendFriendRequest, UserProfile,
    UserSearchHit, limits,
};
use utoipa_axum::router::OpenApiRouter;
use utoipa_axum::routes;

pub fn router() -> OpenApiRouter<AppState> {
    OpenApiRouter::new()
        .routes(routes!(get_user_search))
        .routes(routes!(get_user))
        .routes(routes!(get_friends))
        .routes(routes!(delete_friend))
        .routes(routes!(get_friend_requests, post_friend_request))
        .routes(routes!(delete_friend_request))
        .routes(routes!(post_accept_friend_request))
        .routes(routes!(post_refuse_friend_request))
}

/// `GET /api/users/search?q=&offset=&limit=`: users whose name contains `q`, the caller left out.
#[utoipa::path(
    get,
    path = "/api/users/search",
    tag = "friends",
    security(("bearer" = [])),
    params(SearchQuery),
    responses((status = 200, description = "users whose name contains `q`, by user name", body = Vec<UserSearchHit>)),
)]
async fn get_user_search(
    State(app): State<AppState>,
    caller: Caller,
    Query(query): Query<SearchQuery>,
) -> Result<Json<Vec<UserSearchHit>>, Refusal> {
    let limit = page_limit(query.limit, limits::SEARCH_LIMIT_DEFAULT, limits::SEARCH_LIMIT_MAX)?;
    let hits = friends::search(&app, caller.user_id, &query.q, query.offset.into(), limit.into()).await?;
    Ok(Json(hits))
}

/// `GET /api/users/{id}`: anyone's public profile.
#[utoipa::path(
    get,
    path = "/api/users/{id}",
    tag = "friends",
    security(("bearer" = [])),
    params(("id" = UserId, Path, description = "The user's id")),
    responses(
        (status = 200, description = "the user's profile", body = UserProfile),
        (status = 404, description = "no such user (`not_found`)", body = ApiError),
    ),
)]
async fn get_user(
    State(app): State<AppState>,
    _caller: Caller,
    Path(id): Path<UserId>,
) -> Result<Json<UserProfile>, Refusal> {
    friends::profile(&app, id).await.map(Json)
}

/// `GET /api/friends`: the caller's friends with their online status.
#[utoipa::path(
    get,
    path = "/api/friends",
    tag = "friends",
    security(("bearer" = [])),
    responses((status = 200, description = "the caller's friends, by display name", body = Vec<Friend>)),
)]
async fn get_friends(State(app): State<AppState>, caller: Caller) -> Result<Json<Vec<Friend>>, Refusal> {
    friends::list(&app, caller.user_id).await.map(Json)
}

/// `DELETE /api/friends/{user_id}`: ends a friendship on both sides. 204.
#[utoipa::path(
    delete,
    path = "/api/friends/{user_id}",
    tag = "friends",
    security(("bearer" = [])),
    params(("user_id" = UserId, Path, description = "The friend's user id")),
    responses(
        (status = 204, description = "the friendship ended on both sides"),
        (status = 404, description = "not friends (`not_found`)", body = ApiError),
    ),
)]
async fn delete_friend(
    State(app): State<AppState>,
    caller: Caller,
    Path(user_id): Path<UserId>,
) -> Result<StatusCode, Refusal> {
    friends::remove(&app, caller.user_id, user_id).await?;
    Ok(StatusCode::NO_CONTENT)
}

/// `GET /api/friend-requests`: pending requests to and from the caller.
#[utoipa::path(
    get,
    path = "/api/friend-requests",
    tag = "friends",
    security(("bearer" = [])),
    responses((status = 200, description = "pending requests to and from the caller, oldest first", body = FriendRequests)),
)]
async fn get_friend_requests(
    State(app): State<AppState>,
    caller: Caller,
) -> Result<Json<FriendRequests>, Refusal> {
    friends::requests(&app, caller.user_id).await.map(Json)
}

/// `POST /api/friend-requests`: asks `to` to be friends. 201 with the pending request, or
/// 200 with the new friend when `to` had already asked the caller.
#[utoipa::path(
    post,
    path = "/api/friend-requests",
    tag = "friends",
    security(("bearer" = [])),
    request_body = SendFriendRequest,
    responses(
        (status = 201, description = "the request is pending (`outcome: pending`)", body = FriendRequestOutcome),
        (status = 200, description = "the addressee had asked the caller: friends now \
            (`outcome: became_friends`)", body = FriendRequestOutcome),
        (status = 400, description = "to oneself, or a message against the rules (`invalid_field`)", body = ApiError),
        (status = 404, description = "no such user (`not_found`)", body = ApiError),
        (status = 403, description = "the caller blocks the addressee: unblock first (`forbidden`)", body = ApiError),
        (status = 409, description = "friends already (`already_friends`) or the same request \
            pending (`duplicate_request`)", body = ApiError),
        (status = 429, description = "FRIEND_REQUESTS_PER_HOUR requests in the hour (`rate_limited`)", body = ApiError),
    ),
)]
async fn post_friend_request(
    State(app): State<AppState>,
    caller: Caller,
    Json(req): Json<SendFriendRequest>,
) -> Result<(StatusCode, Json<FriendRequestOutcome>), Refusal> {
    let outcome = friends::ask(&app, caller.user_id, req.to, &req.message).await?;
    let status = match outcome {
        FriendRequestOutcome::Pending { .. } => StatusCode::CREATED,
        FriendRequestOutcome::BecameFriends { .. } => StatusCode::OK,
    };
    Ok((status, Json(outcome)))
}

/// `POST /api/friend-requests/{id}/accept`: the addressee accepts; both become friends.
#[utoipa::path(
    post,
    path = "/api/friend-requests/{id}/accept",
    tag = "friends",
    security(("bearer" = [])),
    params(("id" = i64, Path, description = "The request's id")),
    responses(
        (status = 200, description = "friends now: the requester", body = Friend),
        (status = 403, description = "only the addressee may (`forbidden`)", body = ApiError),
        (status = 404, description = "no such friend request (`not_found`)", body = ApiError),
    ),
)]
async fn post_accept_friend_request(
    State(app): State<AppState>,
    caller: Caller,
    Path(id): Path<i64>,
) -> Result<Json<Friend>, Refusal> {
    friends::accept(&app, caller.user_id, id).await.map(Json)
}

/// `POST /api/friend-requests/{id}/refuse`: the addressee refuses. 204.
#[utoipa::path(
    post,
    path = "/api/friend-requests/{id}/refuse",
    tag = "friends",
    security(("bearer" = [])),
    params(("id" = i64, Path, description = "The request's id")),
    responses(
        (status = 204, description = "refused; the requester is told"),
        (status = 403, description = "only the addressee may (`forbidden`)", body = ApiError),
        (status = 404, description = "no such friend request (`not_found`)", body = ApiError),
    ),
)]
async fn post_refuse_friend_request(
    State(app): State<AppState>,
    caller: Caller,
    Path(id): Path<i64>,
) -> Result<StatusCode, Refusal> {
    friends::refuse(&app, caller.user_id, id).await?;
    Ok(StatusCode::NO_CONTENT)
}

/// `DELETE /api/friend-requests/{id}`: the sender withdraws the request. 204.
#[utoipa::path(
    delete,
    path = "/api/friend-requests/{id}",
    tag = "friends",
    security(("bearer" = [])),
    params(("id" = i64, Path, description = "The request's id")),
    responses(
        (status = 204, description = "withdrawn; the addressee is told"),
        (status = 403, description = "only the requester may (`forbidden`)", body = ApiError),
        (status = 404, description = "no such friend request (`not_found`)", body = ApiError),
    ),
)]
async fn delete_friend_request(
    State(app): State<AppState>,
    caller: Caller,
    Path(id): Path<i64>,
) -> Result<StatusCode, Refusal> {
    friends::withdraw(&app, caller.user_id, id).await?;
    Ok(StatusCode::NO_CONTENT)
}

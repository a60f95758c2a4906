//! Friends over HTTP: user search, friend requests and the friend list. The rules are in
//! [`crate::friends`].

use super::extract::page_limit;
use super::{AppState, Caller, Json, Path, Query};
use crate::error::Refusal;
use crate::friends;
use axum::Router;
use axum::extract::State;
use axum::http::StatusCode;
use axum::routing::{delete, get, post};
use kith_shared::UserId;
use kith_shared::api::{
    Friend, FriendRequestOutcome, FriendRequests, SearchQuery, SendFriendRequest, UserProfile, UserSearchHit,
    limits,
};

pub fn router() -> Router<AppState> {
    Router::new()
        .route("/api/users/search", get(get_user_search))
        .route("/api/users/{id}", get(get_user))
        .route("/api/friends", get(get_friends))
        .route("/api/friends/{user_id}", delete(delete_friend))
        .route("/api/friend-requests", get(get_friend_requests).post(post_friend_request))
        .route("/api/friend-requests/{id}", delete(delete_friend_request))
        .route("/api/friend-requests/{id}/accept", post(post_accept_friend_request))
        .route("/api/friend-requests/{id}/refuse", post(post_refuse_friend_request))
}

/// `GET /api/users/search?q=&offset=&limit=`: users whose name contains `q`, the caller left out.
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
async fn get_user(
    State(app): State<AppState>,
    _caller: Caller,
    Path(id): Path<UserId>,
) -> Result<Json<UserProfile>, Refusal> {
    friends::profile(&app, id).await.map(Json)
}

/// `GET /api/friends`: the caller's friends with their online status.
async fn get_friends(State(app): State<AppState>, caller: Caller) -> Result<Json<Vec<Friend>>, Refusal> {
    friends::list(&app, caller.user_id).await.map(Json)
}

/// `DELETE /api/friends/{user_id}`: ends a friendship on both sides. 204.
async fn delete_friend(
    State(app): State<AppState>,
    caller: Caller,
    Path(user_id): Path<UserId>,
) -> Result<StatusCode, Refusal> {
    friends::remove(&app, caller.user_id, user_id).await?;
    Ok(StatusCode::NO_CONTENT)
}

/// `GET /api/friend-requests`: pending requests to and from the caller.
async fn get_friend_requests(
    State(app): State<AppState>,
    caller: Caller,
) -> Result<Json<FriendRequests>, Refusal> {
    friends::requests(&app, caller.user_id).await.map(Json)
}

/// `POST /api/friend-requests`: asks `to` to be friends. 201 with the pending request, or
/// 200 with the new friend when `to` had already asked the caller.
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
async fn post_accept_friend_request(
    State(app): State<AppState>,
    caller: Caller,
    Path(id): Path<i64>,
) -> Result<Json<Friend>, Refusal> {
    friends::accept(&app, caller.user_id, id).await.map(Json)
}

/// `POST /api/friend-requests/{id}/refuse`: the addressee refuses. 204.
async fn post_refuse_friend_request(
    State(app): State<AppState>,
    caller: Caller,
    Path(id): Path<i64>,
) -> Result<StatusCode, Refusal> {
    friends::refuse(&app, caller.user_id, id).await?;
    Ok(StatusCode::NO_CONTENT)
}

/// `DELETE /api/friend-requests/{id}`: the sender withdraws the request. 204.
async fn delete_friend_request(
    State(app): State<AppState>,
    caller: Caller,
    Path(id): Path<i64>,
) -> Result<StatusCode, Refusal> {
    friends::withdraw(&app, caller.user_id, id).await?;
    Ok(StatusCode::NO_CONTENT)
}

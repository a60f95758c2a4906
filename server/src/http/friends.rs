//! Friends: user search, friend requests and the friend list. Every change is pushed over
//! the socket to both people concerned.

use super::{ApiError, AppState, Caller, Json};
use crate::app::{App, profile_of};
use crate::presence;
use axum::Router;
use axum::extract::{Path, Query, State};
use axum::http::StatusCode;
use axum::routing::{delete, get, post};
use kith_shared::api::{
    Friend, FriendRequest, FriendRequestOutcome, FriendRequests, Role, SearchQuery, SendFriendRequest,
    UserProfile, UserSearchHit,
};
use kith_shared::{ErrorCode, ServerFrame, UserId};

/// Longest verification message, in characters.
const MESSAGE_MAX: usize = 200;

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

/// Paging of search routes: `limit` 1-50 (default 20).
pub fn page(query: &SearchQuery) -> (u64, u64) {
    (query.offset as u64, query.limit.unwrap_or(20).clamp(1, 50) as u64)
}

/// A verification message: trimmed, at most 200 characters, no control characters but
/// line breaks.
pub fn request_message(raw: &str) -> Result<String, ApiError> {
    let text = raw.trim();
    if text.chars().count() > MESSAGE_MAX {
        return Err(ApiError::bad_request(
            ErrorCode::InvalidField,
            format!("a request message has at most {MESSAGE_MAX} characters"),
        ));
    }
    if text.chars().any(|c| c.is_control() && c != '\n') {
        return Err(ApiError::bad_request(
            ErrorCode::InvalidField,
            "a request message may not hold control characters",
        ));
    }
    Ok(text.to_owned())
}

/// `GET /api/users/search?q=&offset=&limit=`: users whose name contains `q`, the caller left out.
async fn get_user_search(
    State(app): State<AppState>,
    caller: Caller,
    Query(query): Query<SearchQuery>,
) -> Result<Json<Vec<UserSearchHit>>, ApiError> {
    let text = query.q.trim();
    if text.is_empty() {
        return Ok(Json(Vec::new()));
    }
    let (offset, limit) = page(&query);
    let users = app.store.search_users(text, caller.user_id, offset, limit).await?;
    let friends: Vec<UserId> =
        app.store.friends_of(caller.user_id).await?.iter().map(|(u, _)| u.id).collect();
    Ok(Json(
        users
            .iter()
            .map(|u| UserSearchHit { user: profile_of(u), is_friend: friends.contains(&u.id) })
            .collect(),
    ))
}

/// `GET /api/users/{id}`: anyone's public profile.
async fn get_user(
    State(app): State<AppState>,
    _caller: Caller,
    Path(id): Path<UserId>,
) -> Result<Json<UserProfile>, ApiError> {
    app.profile(id).await.map(Json).ok_or_else(|| ApiError::not_found("no such user"))
}

/// `GET /api/friends`: the caller's friends with their online status.
async fn get_friends(State(app): State<AppState>, caller: Caller) -> Result<Json<Vec<Friend>>, ApiError> {
    let friends = app.store.friends_of(caller.user_id).await?;
    Ok(Json(
        friends
            .iter()
            .map(|(user, conversation_id)| Friend {
                user: profile_of(user),
                online: app.hub.is_online(user.id),
                conversation_id: *conversation_id,
            })
            .collect(),
    ))
}

/// `DELETE /api/friends/{user_id}`: ends a friendship on both sides. 204.
async fn delete_friend(
    State(app): State<AppState>,
    caller: Caller,
    Path(user_id): Path<UserId>,
) -> Result<StatusCode, ApiError> {
    let not_friends = || ApiError::not_found("this user is not your friend");
    let conversation =
        app.store.find_direct_conversation(caller.user_id, user_id).await?.ok_or_else(not_friends)?;
    if !app.store.remove_member(conversation, caller.user_id).await? {
        return Err(not_friends());
    }
    app.store.remove_member(conversation, user_id).await?;
    app.membership.invalidate(conversation);
    app.hub.send(caller.user_id, &ServerFrame::FriendRemoved { user_id });
    app.hub.send(user_id, &ServerFrame::FriendRemoved { user_id: caller.user_id });
    Ok(StatusCode::NO_CONTENT)
}

/// `GET /api/friend-requests`: pending requests to and from the caller.
async fn get_friend_requests(
    State(app): State<AppState>,
    caller: Caller,
) -> Result<Json<FriendRequests>, ApiError> {
    let incoming = app.store.friend_requests_of(caller.user_id, true).await?;
    let outgoing = app.store.friend_requests_of(caller.user_id, false).await?;
    Ok(Json(FriendRequests {
        incoming: presence::friend_requests(&app, incoming).await?,
        outgoing: presence::friend_requests(&app, outgoing).await?,
    }))
}

/// `POST /api/friend-requests`: asks `to` to be friends. 201 with the pending request, or
/// 200 with the new friend when `to` had already asked the caller.
async fn post_friend_request(
    State(app): State<AppState>,
    caller: Caller,
    Json(req): Json<SendFriendRequest>,
) -> Result<(StatusCode, Json<FriendRequestOutcome>), ApiError> {
    let message = request_message(&req.message)?;
    if req.to == caller.user_id {
        return Err(ApiError::bad_request(
            ErrorCode::InvalidField,
            "you cannot send a friend request to yourself",
        ));
    }
    if app.store.user_by_id(req.to).await?.is_none() {
        return Err(ApiError::not_found("no such user"));
    }
    if app.store.are_friends(caller.user_id, req.to).await? {
        return Err(ApiError::new(
            StatusCode::CONFLICT,
            ErrorCode::AlreadyFriends,
            "you are friends already",
        ));
    }
    if let Some(theirs) = app.store.friend_request_between(req.to, caller.user_id).await? {
        // They asked first: this request answers theirs.
        app.store.delete_friend_request(theirs.id).await?;
        let friend = befriend(&app, caller.user_id, req.to).await?;
        return Ok((StatusCode::OK, Json(FriendRequestOutcome::BecameFriends { friend })));
    }
    let id = match app.store.create_friend_request(caller.user_id, req.to, &message).await {
        Ok(id) => id,
        Err(err) if err.is_unique_violation() => {
            return Err(ApiError::new(
                StatusCode::CONFLICT,
                ErrorCode::DuplicateRequest,
                "you have already asked this user; wait for the answer",
            ));
        }
        Err(err) => return Err(err.into()),
    };
    let request = pending_request(&app, id).await?;
    app.hub.send(req.to, &ServerFrame::FriendRequestReceived { request: request.clone() });
    Ok((StatusCode::CREATED, Json(FriendRequestOutcome::Pending { request })))
}

async fn pending_request(app: &App, id: i64) -> Result<FriendRequest, ApiError> {
    let row =
        app.store.friend_request(id).await?.ok_or_else(|| ApiError::not_found("no such friend request"))?;
    presence::friend_requests(app, vec![row])
        .await?
        .pop()
        .ok_or_else(|| ApiError::not_found("no such friend request"))
}

/// Makes two users friends and tells both. Returns `b` as `a`'s new friend.
async fn befriend(app: &App, a: UserId, b: UserId) -> Result<Friend, ApiError> {
    let conversation = app.store.direct_conversation(a, b).await?;
    app.store.add_member(conversation, a, Role::Member, 0).await?;
    app.store.add_member(conversation, b, Role::Member, 0).await?;
    app.membership.invalidate(conversation);
    let friend_of = |user: UserProfile| Friend {
        online: app.hub.is_online(user.id),
        user,
        conversation_id: conversation,
    };
    let (Some(profile_a), Some(profile_b)) = (app.profile(a).await, app.profile(b).await) else {
        return Err(ApiError::not_found("no such user"));
    };
    app.hub.send(a, &ServerFrame::FriendAdded { friend: friend_of(profile_b.clone()) });
    app.hub.send(b, &ServerFrame::FriendAdded { friend: friend_of(profile_a) });
    Ok(friend_of(profile_b))
}

/// A pending request that the caller may answer (its addressee) or withdraw (its sender).
async fn request_for(
    app: &App,
    id: i64,
    caller: UserId,
    as_addressee: bool,
) -> Result<crate::store::FriendRequestRow, ApiError> {
    let row =
        app.store.friend_request(id).await?.ok_or_else(|| ApiError::not_found("no such friend request"))?;
    let allowed = if as_addressee { row.to_id == caller } else { row.from_id == caller };
    if !allowed {
        let who = if as_addressee { "only its addressee answers" } else { "only its sender withdraws" };
        return Err(ApiError::forbidden(format!("this friend request is not yours: {who} it")));
    }
    Ok(row)
}

/// `POST /api/friend-requests/{id}/accept`: the addressee accepts; both become friends.
async fn post_accept_friend_request(
    State(app): State<AppState>,
    caller: Caller,
    Path(id): Path<i64>,
) -> Result<Json<Friend>, ApiError> {
    let row = request_for(&app, id, caller.user_id, true).await?;
    if !app.store.delete_friend_request(row.id).await? {
        return Err(ApiError::not_found("no such friend request"));
    }
    befriend(&app, caller.user_id, row.from_id).await.map(Json)
}

/// `POST /api/friend-requests/{id}/refuse`: the addressee refuses. 204.
async fn post_refuse_friend_request(
    State(app): State<AppState>,
    caller: Caller,
    Path(id): Path<i64>,
) -> Result<StatusCode, ApiError> {
    let row = request_for(&app, id, caller.user_id, true).await?;
    if app.store.delete_friend_request(row.id).await? {
        app.hub
            .send(row.from_id, &ServerFrame::FriendRequestRefused { request_id: row.id, by: caller.user_id });
    }
    Ok(StatusCode::NO_CONTENT)
}

/// `DELETE /api/friend-requests/{id}`: the sender withdraws the request. 204.
async fn delete_friend_request(
    State(app): State<AppState>,
    caller: Caller,
    Path(id): Path<i64>,
) -> Result<StatusCode, ApiError> {
    let row = request_for(&app, id, caller.user_id, false).await?;
    if app.store.delete_friend_request(row.id).await? {
        app.hub.send(row.to_id, &ServerFrame::FriendRequestCancelled { request_id: row.id });
    }
    Ok(StatusCode::NO_CONTENT)
}

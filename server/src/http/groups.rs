//! Groups over HTTP. The rules, pushes and notices are in [`crate::groups`].

use super::extract::page_limit;
use super::{AppState, Caller, Json, Path, Query};
use crate::error::Refusal;
use crate::groups;
use axum::Router;
use axum::extract::State;
use axum::http::StatusCode;
use axum::routing::{delete, get, post, put};
use kith_shared::UserId;
use kith_shared::api::{
    CreateGroupRequest, GroupId, GroupMember, GroupProfile, GroupRequest, GroupRequestBody, GroupRequests,
    MuteRequest, MyGroup, SearchQuery, SetRoleRequest, TransferOwnershipRequest, UpdateGroupRequest, limits,
};

pub fn router() -> Router<AppState> {
    Router::new()
        .route("/api/groups", post(post_group).get(get_groups))
        .route("/api/groups/search", get(get_group_search))
        .route("/api/groups/{id}", get(get_group).patch(patch_group).delete(delete_group))
        .route("/api/groups/{id}/members", get(get_members))
        .route("/api/groups/{id}/members/{user_id}", delete(delete_member))
        .route("/api/groups/{id}/members/{user_id}/role", put(put_role))
        .route("/api/groups/{id}/owner", post(post_owner))
        .route("/api/groups/{id}/mute", put(put_mute))
        .route("/api/groups/{id}/applications", post(post_application))
        .route("/api/groups/{id}/invitations", post(post_invitation))
        .route("/api/group-requests", get(get_group_requests))
        .route("/api/group-requests/{id}", delete(delete_group_request))
        .route("/api/group-requests/{id}/accept", post(post_accept_group_request))
        .route("/api/group-requests/{id}/refuse", post(post_refuse_group_request))
}

/// `POST /api/groups`: creates a group; the caller is its owner. 201 with the group.
async fn post_group(
    State(app): State<AppState>,
    caller: Caller,
    Json(req): Json<CreateGroupRequest>,
) -> Result<(StatusCode, Json<MyGroup>), Refusal> {
    Ok((StatusCode::CREATED, Json(groups::create(&app, caller.user_id, req).await?)))
}

/// `GET /api/groups`: the caller's groups with their role and mute setting.
async fn get_groups(State(app): State<AppState>, caller: Caller) -> Result<Json<Vec<MyGroup>>, Refusal> {
    groups::mine(&app, caller.user_id).await.map(Json)
}

/// `GET /api/groups/search?q=&offset=&limit=`: live groups whose name contains `q`.
async fn get_group_search(
    State(app): State<AppState>,
    _caller: Caller,
    Query(query): Query<SearchQuery>,
) -> Result<Json<Vec<GroupProfile>>, Refusal> {
    let limit = page_limit(query.limit, limits::SEARCH_LIMIT_DEFAULT, limits::SEARCH_LIMIT_MAX)?;
    groups::search(&app, &query.q, query.offset.into(), limit.into()).await.map(Json)
}

/// `GET /api/groups/{id}`: a group's public profile (any logged-in user).
async fn get_group(
    State(app): State<AppState>,
    _caller: Caller,
    Path(id): Path<GroupId>,
) -> Result<Json<GroupProfile>, Refusal> {
    groups::profile(&app, id).await.map(Json)
}

/// `PATCH /api/groups/{id}`: the owner or an admin changes the name or description.
async fn patch_group(
    State(app): State<AppState>,
    caller: Caller,
    Path(id): Path<GroupId>,
    Json(req): Json<UpdateGroupRequest>,
) -> Result<Json<GroupProfile>, Refusal> {
    groups::update(&app, caller.user_id, id, req).await.map(Json)
}

/// `DELETE /api/groups/{id}`: the owner dissolves the group. 204.
async fn delete_group(
    State(app): State<AppState>,
    caller: Caller,
    Path(id): Path<GroupId>,
) -> Result<StatusCode, Refusal> {
    groups::dissolve(&app, caller.user_id, id).await?;
    Ok(StatusCode::NO_CONTENT)
}

/// `GET /api/groups/{id}/members`: the members with their role and presence (members only).
async fn get_members(
    State(app): State<AppState>,
    caller: Caller,
    Path(id): Path<GroupId>,
) -> Result<Json<Vec<GroupMember>>, Refusal> {
    groups::members(&app, caller.user_id, id).await.map(Json)
}

/// `DELETE /api/groups/{id}/members/{user_id}`: leave (one's own id) or remove a member. 204.
async fn delete_member(
    State(app): State<AppState>,
    caller: Caller,
    Path((id, user_id)): Path<(GroupId, UserId)>,
) -> Result<StatusCode, Refusal> {
    groups::remove_member(&app, caller.user_id, id, user_id).await?;
    Ok(StatusCode::NO_CONTENT)
}

/// `PUT /api/groups/{id}/members/{user_id}/role`: the owner makes admins and members.
async fn put_role(
    State(app): State<AppState>,
    caller: Caller,
    Path((id, user_id)): Path<(GroupId, UserId)>,
    Json(req): Json<SetRoleRequest>,
) -> Result<Json<GroupMember>, Refusal> {
    groups::set_role(&app, caller.user_id, id, user_id, req).await.map(Json)
}

/// `POST /api/groups/{id}/owner`: the owner hands the group over to another member.
async fn post_owner(
    State(app): State<AppState>,
    caller: Caller,
    Path(id): Path<GroupId>,
    Json(req): Json<TransferOwnershipRequest>,
) -> Result<Json<GroupProfile>, Refusal> {
    groups::hand_over(&app, caller.user_id, id, req).await.map(Json)
}

/// `PUT /api/groups/{id}/mute`: a member mutes or unmutes the group for themselves.
async fn put_mute(
    State(app): State<AppState>,
    caller: Caller,
    Path(id): Path<GroupId>,
    Json(req): Json<MuteRequest>,
) -> Result<Json<MyGroup>, Refusal> {
    groups::set_mute(&app, caller.user_id, id, req).await.map(Json)
}

/// `POST /api/groups/{id}/applications`: the caller asks to join. 201 with the request.
async fn post_application(
    State(app): State<AppState>,
    caller: Caller,
    Path(id): Path<GroupId>,
    Json(req): Json<GroupRequestBody>,
) -> Result<(StatusCode, Json<GroupRequest>), Refusal> {
    Ok((StatusCode::CREATED, Json(groups::apply(&app, caller.user_id, id, req).await?)))
}

/// `POST /api/groups/{id}/invitations`: a member invites a friend. 201 with the request.
async fn post_invitation(
    State(app): State<AppState>,
    caller: Caller,
    Path(id): Path<GroupId>,
    Json(req): Json<GroupRequestBody>,
) -> Result<(StatusCode, Json<GroupRequest>), Refusal> {
    Ok((StatusCode::CREATED, Json(groups::invite(&app, caller.user_id, id, req).await?)))
}

/// `GET /api/group-requests`: applications the caller may answer and invitations for them.
async fn get_group_requests(
    State(app): State<AppState>,
    caller: Caller,
) -> Result<Json<GroupRequests>, Refusal> {
    groups::requests(&app, caller.user_id).await.map(Json)
}

/// `POST /api/group-requests/{id}/accept`. 204.
async fn post_accept_group_request(
    State(app): State<AppState>,
    caller: Caller,
    Path(id): Path<i64>,
) -> Result<StatusCode, Refusal> {
    groups::accept_request(&app, caller.user_id, id).await?;
    Ok(StatusCode::NO_CONTENT)
}

/// `POST /api/group-requests/{id}/refuse`. 204.
async fn post_refuse_group_request(
    State(app): State<AppState>,
    caller: Caller,
    Path(id): Path<i64>,
) -> Result<StatusCode, Refusal> {
    groups::refuse_request(&app, caller.user_id, id).await?;
    Ok(StatusCode::NO_CONTENT)
}

/// `DELETE /api/group-requests/{id}`: the applicant or the inviter withdraws it. 204.
async fn delete_group_request(
    State(app): State<AppState>,
    caller: Caller,
    Path(id): Path<i64>,
) -> Result<StatusCode, Refusal> {
    groups::withdraw_request(&app, caller.user_id, id).await?;
    Ok(StatusCode::NO_CONTENT)
}

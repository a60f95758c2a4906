//! Groups over HTTP. The rules, pushes and notices are in [`crate::groups`].

use super::accounts::{avatar_body, avatar_response};
use super::extract::page_limit;
use super::{AppState, Caller, Json, Path, Query};
use crate::error::Refusal;
use crate::groups;
use axum::body::Body;
use axum::extract::{DefaultBodyLimit, State};
use axum::http::StatusCode;
use axum::response::Response;
use kith_shared::UserId;
use kith_shared::api::{
    ApiError, CreateGroupRequest, GroupId, GroupMember, GroupProfile, GroupRequest, GroupRequestBody,
    GroupRequests, MuteRequest, MyGroup, SearchQuery, SetRoleRequest, TransferOwnershipRequest,
    UpdateGroupRequest, limits,
};
use utoipa_axum::router::{OpenApiRouter, UtoipaMethodRouterExt};
use utoipa_axum::routes;

pub fn router() -> OpenApiRouter<AppState> {
    OpenApiRouter::new()
        .routes(routes!(post_group, get_groups))
        .routes(routes!(get_group_search))
        .routes(routes!(get_group, patch_group, delete_group))
        .routes(routes!(put_group_avatar, delete_group_avatar).layer(DefaultBodyLimit::disable()))
        .routes(routes!(get_group_avatar))
        .routes(routes!(get_members))
        .routes(routes!(delete_member))
        .routes(routes!(put_role))
        .routes(routes!(post_owner))
        .routes(routes!(put_mute))
        .routes(routes!(post_application))
        .routes(routes!(post_invitation))
        .routes(routes!(get_group_requests))
        .routes(routes!(delete_group_request))
        .routes(routes!(post_accept_group_request))
        .routes(routes!(post_refuse_group_request))
}

/// `POST /api/groups`: creates a group; the caller is its owner. 201 with the group.
#[utoipa::path(
    post,
    path = "/api/groups",
    tag = "groups",
    security(("bearer" = [])),
    request_body = CreateGroupRequest,
    responses(
        (status = 201, description = "the new group; the caller owns it", body = MyGroup),
        (status = 400, description = "a field against the rules (`invalid_field`)", body = ApiError),
    ),
)]
async fn post_group(
    State(app): State<AppState>,
    caller: Caller,
    Json(req): Json<CreateGroupRequest>,
) -> Result<(StatusCode, Json<MyGroup>), Refusal> {
    Ok((StatusCode::CREATED, Json(groups::create(&app, caller.user_id, req).await?)))
}

/// `GET /api/groups`: the caller's groups with their role and mute setting.
#[utoipa::path(
    get,
    path = "/api/groups",
    tag = "groups",
    security(("bearer" = [])),
    responses(
        (status = 200, description = "the caller's groups, in the order they joined", body = Vec<MyGroup>),
    ),
)]
async fn get_groups(State(app): State<AppState>, caller: Caller) -> Result<Json<Vec<MyGroup>>, Refusal> {
    groups::mine(&app, caller.user_id).await.map(Json)
}

/// `GET /api/groups/search?q=&offset=&limit=`: live groups whose name contains `q`.
#[utoipa::path(
    get,
    path = "/api/groups/search",
    tag = "groups",
    security(("bearer" = [])),
    params(SearchQuery),
    responses(
        (status = 200, description = "live groups whose name contains `q`, by name", body = Vec<GroupProfile>),
    ),
)]
async fn get_group_search(
    State(app): State<AppState>,
    _caller: Caller,
    Query(query): Query<SearchQuery>,
) -> Result<Json<Vec<GroupProfile>>, Refusal> {
    let limit = page_limit(query.limit, limits::SEARCH_LIMIT_DEFAULT, limits::SEARCH_LIMIT_MAX)?;
    groups::search(&app, &query.q, query.offset.into(), limit.into()).await.map(Json)
}

/// `GET /api/groups/{id}`: a group's profile (any logged-in user); the announcement is
/// included for its members only.
#[utoipa::path(
    get,
    path = "/api/groups/{id}",
    tag = "groups",
    security(("bearer" = [])),
    params(("id" = GroupId, Path, description = "The group's id")),
    responses(
        (status = 200, description = "the group; `announcement` only for its members (null for anyone else)", body = GroupProfile),
        (status = 404, description = "no such group (`not_found`)", body = ApiError),
    ),
)]
async fn get_group(
    State(app): State<AppState>,
    caller: Caller,
    Path(id): Path<GroupId>,
) -> Result<Json<GroupProfile>, Refusal> {
    groups::profile(&app, caller.user_id, id).await.map(Json)
}

/// `PATCH /api/groups/{id}`: the owner or an admin changes the name, description or
/// announcement.
#[utoipa::path(
    patch,
    path = "/api/groups/{id}",
    tag = "groups",
    security(("bearer" = [])),
    params(("id" = GroupId, Path, description = "The group's id")),
    request_body = UpdateGroupRequest,
    responses(
        (status = 200, description = "the group as changed", body = GroupProfile),
        (status = 400, description = "a field against the rules (`invalid_field`)", body = ApiError),
        (status = 403, description = "only the owner and admins may (`forbidden`)", body = ApiError),
        (status = 404, description = "no such group (`not_found`)", body = ApiError),
    ),
)]
async fn patch_group(
    State(app): State<AppState>,
    caller: Caller,
    Path(id): Path<GroupId>,
    Json(req): Json<UpdateGroupRequest>,
) -> Result<Json<GroupProfile>, Refusal> {
    groups::update(&app, caller.user_id, id, req).await.map(Json)
}

/// `DELETE /api/groups/{id}`: the owner dissolves the group. 204.
#[utoipa::path(
    delete,
    path = "/api/groups/{id}",
    tag = "groups",
    security(("bearer" = [])),
    params(("id" = GroupId, Path, description = "The group's id")),
    responses(
        (status = 204, description = "dissolved"),
        (status = 403, description = "only the owner may (`forbidden`)", body = ApiError),
        (status = 404, description = "no such group (`not_found`)", body = ApiError),
    ),
)]
async fn delete_group(
    State(app): State<AppState>,
    caller: Caller,
    Path(id): Path<GroupId>,
) -> Result<StatusCode, Refusal> {
    groups::dissolve(&app, caller.user_id, id).await?;
    Ok(StatusCode::NO_CONTENT)
}

/// `PUT /api/groups/{id}/avatar`: the owner or an admin sets the group's picture. The body
/// is a PNG, JPEG, GIF or WebP image up to MAX_AVATAR_BYTES, kept as a PNG of at most 512
/// pixels a side, like a user's avatar.
#[utoipa::path(
    put,
    path = "/api/groups/{id}/avatar",
    tag = "groups",
    security(("bearer" = [])),
    params(("id" = GroupId, Path, description = "The group's id")),
    request_body(
        description = "A PNG, JPEG, GIF or WebP picture, recognised by its first bytes",
        content(("image/png"), ("image/jpeg"), ("image/gif"), ("image/webp"), ("application/octet-stream")),
    ),
    responses(
        (status = 200, description = "the group with its new `avatar_url`", body = GroupProfile),
        (status = 403, description = "only the owner and admins may (`forbidden`)", body = ApiError),
        (status = 404, description = "no such group (`not_found`)", body = ApiError),
        (status = 413, description = "over MAX_AVATAR_BYTES, or a picture too large to decode \
            (`payload_too_large`)", body = ApiError),
        (status = 415, description = "not a picture of those formats, or damaged (`unsupported_media`)", body = ApiError),
    ),
)]
async fn put_group_avatar(
    State(app): State<AppState>,
    caller: Caller,
    Path(id): Path<GroupId>,
    body: Body,
) -> Result<Json<GroupProfile>, Refusal> {
    let bytes = avatar_body(&app, body).await?;
    groups::set_avatar(&app, caller.user_id, id, bytes).await.map(Json)
}

/// `DELETE /api/groups/{id}/avatar`: the owner or an admin removes the group's picture.
#[utoipa::path(
    delete,
    path = "/api/groups/{id}/avatar",
    tag = "groups",
    security(("bearer" = [])),
    params(("id" = GroupId, Path, description = "The group's id")),
    responses(
        (status = 200, description = "the group without `avatar_url`", body = GroupProfile),
        (status = 403, description = "only the owner and admins may (`forbidden`)", body = ApiError),
        (status = 404, description = "no such group (`not_found`)", body = ApiError),
    ),
)]
async fn delete_group_avatar(
    State(app): State<AppState>,
    caller: Caller,
    Path(id): Path<GroupId>,
) -> Result<Json<GroupProfile>, Refusal> {
    groups::remove_avatar(&app, caller.user_id, id).await.map(Json)
}

/// `GET /api/groups/{id}/avatar`: a group's picture (any logged-in user).
#[utoipa::path(
    get,
    path = "/api/groups/{id}/avatar",
    tag = "groups",
    security(("bearer" = [])),
    params(("id" = GroupId, Path, description = "The group's id")),
    responses(
        (status = 200, description = "the picture, a PNG", content_type = "image/png"),
        (status = 404, description = "no such group, or no picture (`not_found`)", body = ApiError),
    ),
)]
async fn get_group_avatar(
    State(app): State<AppState>,
    _caller: Caller,
    Path(id): Path<GroupId>,
) -> Result<Response, Refusal> {
    let (bytes, content_type) = groups::avatar(&app, id).await?;
    Ok(avatar_response(bytes, content_type))
}

/// `GET /api/groups/{id}/members`: the members with their role and presence (members only).
#[utoipa::path(
    get,
    path = "/api/groups/{id}/members",
    tag = "groups",
    security(("bearer" = [])),
    params(("id" = GroupId, Path, description = "The group's id")),
    responses(
        (status = 200, description = "the members, oldest first", body = Vec<GroupMember>),
        (status = 403, description = "only members may (`forbidden`)", body = ApiError),
        (status = 404, description = "no such group (`not_found`)", body = ApiError),
    ),
)]
async fn get_members(
    State(app): State<AppState>,
    caller: Caller,
    Path(id): Path<GroupId>,
) -> Result<Json<Vec<GroupMember>>, Refusal> {
    groups::members(&app, caller.user_id, id).await.map(Json)
}

/// `DELETE /api/groups/{id}/members/{user_id}`: leave (one's own id) or remove a member. 204.
#[utoipa::path(
    delete,
    path = "/api/groups/{id}/members/{user_id}",
    tag = "groups",
    security(("bearer" = [])),
    params(("id" = GroupId, Path, description = "The group's id"), ("user_id" = UserId, Path, description = "The member's user id")),
    responses(
        (status = 204, description = "left (the caller's own id) or removed"),
        (status = 403, description = "a plain member removing someone, or an admin removing the owner or an admin (`forbidden`)", body = ApiError),
        (status = 404, description = "no such group, or the person is not a member (`not_found`)", body = ApiError),
        (status = 409, description = "the owner cannot leave (`owner_cannot_leave`)", body = ApiError),
    ),
)]
async fn delete_member(
    State(app): State<AppState>,
    caller: Caller,
    Path((id, user_id)): Path<(GroupId, UserId)>,
) -> Result<StatusCode, Refusal> {
    groups::remove_member(&app, caller.user_id, id, user_id).await?;
    Ok(StatusCode::NO_CONTENT)
}

/// `PUT /api/groups/{id}/members/{user_id}/role`: the owner makes admins and members.
#[utoipa::path(
    put,
    path = "/api/groups/{id}/members/{user_id}/role",
    tag = "groups",
    security(("bearer" = [])),
    params(("id" = GroupId, Path, description = "The group's id"), ("user_id" = UserId, Path, description = "The member's user id")),
    request_body = SetRoleRequest,
    responses(
        (status = 200, description = "the member with the new role", body = GroupMember),
        (status = 400, description = "`owner`, or the owner's own role (`invalid_field`)", body = ApiError),
        (status = 403, description = "only the owner may (`forbidden`)", body = ApiError),
        (status = 404, description = "no such group, or the person is not a member (`not_found`)", body = ApiError),
    ),
)]
async fn put_role(
    State(app): State<AppState>,
    caller: Caller,
    Path((id, user_id)): Path<(GroupId, UserId)>,
    Json(req): Json<SetRoleRequest>,
) -> Result<Json<GroupMember>, Refusal> {
    groups::set_role(&app, caller.user_id, id, user_id, req).await.map(Json)
}

/// `POST /api/groups/{id}/owner`: the owner hands the group over to another member.
#[utoipa::path(
    post,
    path = "/api/groups/{id}/owner",
    tag = "groups",
    security(("bearer" = [])),
    params(("id" = GroupId, Path, description = "The group's id")),
    request_body = TransferOwnershipRequest,
    responses(
        (status = 200, description = "the group with its new owner", body = GroupProfile),
        (status = 400, description = "to oneself (`invalid_field`)", body = ApiError),
        (status = 403, description = "only the owner may (`forbidden`)", body = ApiError),
        (status = 404, description = "no such group, or the person is not a member (`not_found`)", body = ApiError),
    ),
)]
async fn post_owner(
    State(app): State<AppState>,
    caller: Caller,
    Path(id): Path<GroupId>,
    Json(req): Json<TransferOwnershipRequest>,
) -> Result<Json<GroupProfile>, Refusal> {
    groups::hand_over(&app, caller.user_id, id, req).await.map(Json)
}

/// `PUT /api/groups/{id}/mute`: a member mutes or unmutes the group for themselves.
#[utoipa::path(
    put,
    path = "/api/groups/{id}/mute",
    tag = "groups",
    security(("bearer" = [])),
    params(("id" = GroupId, Path, description = "The group's id")),
    request_body = MuteRequest,
    responses(
        (status = 200, description = "the caller's group with the new setting", body = MyGroup),
        (status = 403, description = "only members may (`forbidden`)", body = ApiError),
        (status = 404, description = "no such group (`not_found`)", body = ApiError),
    ),
)]
async fn put_mute(
    State(app): State<AppState>,
    caller: Caller,
    Path(id): Path<GroupId>,
    Json(req): Json<MuteRequest>,
) -> Result<Json<MyGroup>, Refusal> {
    groups::set_mute(&app, caller.user_id, id, req).await.map(Json)
}

/// `POST /api/groups/{id}/applications`: the caller asks to join. 201 with the request.
#[utoipa::path(
    post,
    path = "/api/groups/{id}/applications",
    tag = "groups",
    security(("bearer" = [])),
    params(("id" = GroupId, Path, description = "The group's id")),
    request_body = GroupRequestBody,
    responses(
        (status = 201, description = "the application", body = GroupRequest),
        (status = 400, description = "a field against the rules (`invalid_field`)", body = ApiError),
        (status = 404, description = "no such group (`not_found`)", body = ApiError),
        (status = 409, description = "a member already (`already_member`), or an application pending (`duplicate_request`)", body = ApiError),
    ),
)]
async fn post_application(
    State(app): State<AppState>,
    caller: Caller,
    Path(id): Path<GroupId>,
    Json(req): Json<GroupRequestBody>,
) -> Result<(StatusCode, Json<GroupRequest>), Refusal> {
    Ok((StatusCode::CREATED, Json(groups::apply(&app, caller.user_id, id, req).await?)))
}

/// `POST /api/groups/{id}/invitations`: a member invites a friend. 201 with the request.
#[utoipa::path(
    post,
    path = "/api/groups/{id}/invitations",
    tag = "groups",
    security(("bearer" = [])),
    params(("id" = GroupId, Path, description = "The group's id")),
    request_body = GroupRequestBody,
    responses(
        (status = 201, description = "the invitation", body = GroupRequest),
        (status = 400, description = "`user_id` missing, or a message against the rules (`invalid_field`)", body = ApiError),
        (status = 403, description = "the caller is not a member, or the invitee not their friend (`forbidden`)", body = ApiError),
        (status = 404, description = "no such group or user (`not_found`)", body = ApiError),
        (status = 409, description = "a member already (`already_member`), or an invitation pending (`duplicate_request`)", body = ApiError),
    ),
)]
async fn post_invitation(
    State(app): State<AppState>,
    caller: Caller,
    Path(id): Path<GroupId>,
    Json(req): Json<GroupRequestBody>,
) -> Result<(StatusCode, Json<GroupRequest>), Refusal> {
    Ok((StatusCode::CREATED, Json(groups::invite(&app, caller.user_id, id, req).await?)))
}

/// `GET /api/group-requests`: applications the caller may answer and invitations for them.
#[utoipa::path(
    get,
    path = "/api/group-requests",
    tag = "groups",
    security(("bearer" = [])),
    responses(
        (status = 200, description = "applications the caller may answer and invitations for them", body = GroupRequests),
    ),
)]
async fn get_group_requests(
    State(app): State<AppState>,
    caller: Caller,
) -> Result<Json<GroupRequests>, Refusal> {
    groups::requests(&app, caller.user_id).await.map(Json)
}

/// `POST /api/group-requests/{id}/accept`. 204.
#[utoipa::path(
    post,
    path = "/api/group-requests/{id}/accept",
    tag = "groups",
    security(("bearer" = [])),
    params(("id" = i64, Path, description = "The request's id")),
    responses(
        (status = 204, description = "accepted: the person joins"),
        (status = 403, description = "the applicant or the inviter cannot answer it (`forbidden`)", body = ApiError),
        (status = 404, description = "no such request: answered, withdrawn, or not the caller's (`not_found`)", body = ApiError),
    ),
)]
async fn post_accept_group_request(
    State(app): State<AppState>,
    caller: Caller,
    Path(id): Path<i64>,
) -> Result<StatusCode, Refusal> {
    groups::accept_request(&app, caller.user_id, id).await?;
    Ok(StatusCode::NO_CONTENT)
}

/// `POST /api/group-requests/{id}/refuse`. 204.
#[utoipa::path(
    post,
    path = "/api/group-requests/{id}/refuse",
    tag = "groups",
    security(("bearer" = [])),
    params(("id" = i64, Path, description = "The request's id")),
    responses(
        (status = 204, description = "refused"),
        (status = 403, description = "the applicant or the inviter cannot answer it (`forbidden`)", body = ApiError),
        (status = 404, description = "no such request: answered, withdrawn, or not the caller's (`not_found`)", body = ApiError),
    ),
)]
async fn post_refuse_group_request(
    State(app): State<AppState>,
    caller: Caller,
    Path(id): Path<i64>,
) -> Result<StatusCode, Refusal> {
    groups::refuse_request(&app, caller.user_id, id).await?;
    Ok(StatusCode::NO_CONTENT)
}

/// `DELETE /api/group-requests/{id}`: the applicant or the inviter withdraws it. 204.
#[utoipa::path(
    delete,
    path = "/api/group-requests/{id}",
    tag = "groups",
    security(("bearer" = [])),
    params(("id" = i64, Path, description = "The request's id")),
    responses(
        (status = 204, description = "withdrawn"),
        (status = 403, description = "the addressee refuses instead (`forbidden`)", body = ApiError),
        (status = 404, description = "no such request: answered, withdrawn, or not the caller's (`not_found`)", body = ApiError),
    ),
)]
async fn delete_group_request(
    State(app): State<AppState>,
    caller: Caller,
    Path(id): Path<i64>,
) -> Result<StatusCode, Refusal> {
    groups::withdraw_request(&app, caller.user_id, id).await?;
    Ok(StatusCode::NO_CONTENT)
}

//! Groups: create and find them, applications and invitations, roles, ownership, leaving,
//! removal, dissolution and muting. A group is a conversation of kind `group`. Every change
//! is pushed to the people it concerns, and joins, departures, ownership changes and
//! dissolution also appear as notices in the group's chat.

use super::{ApiError, AppState, Caller, Json};
use crate::app::{App, profile_of};
use crate::store::groups::{GroupMemberRow, GroupRequestRow, GroupRow};
use crate::store::{MemberRow, StoreResult};
use axum::Router;
use axum::extract::{Path, Query, State};
use axum::http::StatusCode;
use axum::routing::{get, post, put};
use kith_shared::api::{
    CreateGroupRequest, GroupId, GroupMember, GroupProfile, GroupRequest, GroupRequestBody, GroupRequestKind,
    GroupRequests, MuteRequest, MyGroup, Role, SearchQuery, SetRoleRequest, TransferOwnershipRequest,
    UpdateGroupRequest, UserProfile,
};
use kith_shared::frame::{LeaveReason, Notice};
use kith_shared::{ErrorCode, ServerFrame, UserId};

/// Group names: 1 to 64 characters after trimming.
const NAME_MAX: usize = 64;
/// Group descriptions: at most 500 characters.
const DESCRIPTION_MAX: usize = 500;
/// The message of an application or invitation: at most 200 characters.
const REQUEST_MESSAGE_MAX: usize = 200;
/// Search pages: 20 groups unless asked, 50 at most.
const SEARCH_LIMIT_DEFAULT: u32 = 20;
const SEARCH_LIMIT_MAX: u32 = 50;

pub fn router() -> Router<AppState> {
    Router::new()
        .route("/api/groups", post(post_group).get(get_groups))
        .route("/api/groups/search", get(get_group_search))
        .route("/api/groups/{id}", get(get_group).patch(patch_group).delete(delete_group))
        .route("/api/groups/{id}/members", get(get_members))
        .route("/api/groups/{id}/members/{user_id}", axum::routing::delete(delete_member))
        .route("/api/groups/{id}/members/{user_id}/role", put(put_role))
        .route("/api/groups/{id}/owner", post(post_owner))
        .route("/api/groups/{id}/mute", put(put_mute))
        .route("/api/groups/{id}/applications", post(post_application))
        .route("/api/groups/{id}/invitations", post(post_invitation))
        .route("/api/group-requests", get(get_group_requests))
        .route("/api/group-requests/{id}", axum::routing::delete(delete_group_request))
        .route("/api/group-requests/{id}/accept", post(post_accept_group_request))
        .route("/api/group-requests/{id}/refuse", post(post_refuse_group_request))
}

// ---------------------------------------------------------------------------------------
// Handlers

/// `POST /api/groups`: creates a group; the caller is its owner. 201 with the group.
async fn post_group(
    State(app): State<AppState>,
    caller: Caller,
    Json(req): Json<CreateGroupRequest>,
) -> Result<(StatusCode, Json<MyGroup>), ApiError> {
    let name = group_name(&req.name)?;
    let description = group_description(&req.description)?;
    let id = app.store.create_group(&name, &description, caller.user_id).await?;
    if let Err(err) = app.store.add_member(id, caller.user_id, Role::Owner, 0).await {
        // A group without its owner must not stay visible.
        if let Err(cleanup) = app.store.dissolve_group(id).await {
            tracing::error!(%cleanup, group_id = id, "could not hide a group left without owner");
        }
        return Err(err.into());
    }
    membership_changed(&app, id);
    let mine = MyGroup { group: live_group(&app, id).await?.profile(), role: Role::Owner, muted: false };
    // For the caller's other devices.
    app.hub.send(caller.user_id, &ServerFrame::GroupJoined { group: mine.clone() });
    let name = display_name(&app, caller.user_id).await;
    post_notice(&app, id, Notice::Created { user_id: caller.user_id, name }).await;
    Ok((StatusCode::CREATED, Json(mine)))
}

/// `GET /api/groups`: the caller's groups with their role and mute setting.
async fn get_groups(State(app): State<AppState>, caller: Caller) -> Result<Json<Vec<MyGroup>>, ApiError> {
    let rows = app.store.groups_of(caller.user_id).await?;
    let groups =
        rows.iter().map(|row| MyGroup { group: row.group().profile(), role: row.role(), muted: row.muted });
    Ok(Json(groups.collect()))
}

/// `GET /api/groups/search?q=&offset=&limit=`: live groups whose name contains `q`,
/// ignoring case, by name.
async fn get_group_search(
    State(app): State<AppState>,
    _caller: Caller,
    query: Result<Query<SearchQuery>, axum::extract::rejection::QueryRejection>,
) -> Result<Json<Vec<GroupProfile>>, ApiError> {
    let Query(query) = query.map_err(|r| ApiError::bad_request(ErrorCode::Malformed, r.body_text()))?;
    let text = query.q.trim();
    if text.chars().count() > NAME_MAX {
        // No group name is that long.
        return Ok(Json(Vec::new()));
    }
    let limit = query.limit.unwrap_or(SEARCH_LIMIT_DEFAULT).clamp(1, SEARCH_LIMIT_MAX);
    let rows = app.store.search_groups(text, u64::from(query.offset), u64::from(limit)).await?;
    Ok(Json(rows.iter().map(GroupRow::profile).collect()))
}

/// `GET /api/groups/{id}`: a group's public profile (any logged-in user).
async fn get_group(
    State(app): State<AppState>,
    _caller: Caller,
    Path(id): Path<GroupId>,
) -> Result<Json<GroupProfile>, ApiError> {
    Ok(Json(live_group(&app, id).await?.profile()))
}

/// `PATCH /api/groups/{id}`: the owner or an admin changes the name or description. Pushes
/// `group_updated` to the members.
async fn patch_group(
    State(app): State<AppState>,
    caller: Caller,
    Path(id): Path<GroupId>,
    Json(req): Json<UpdateGroupRequest>,
) -> Result<Json<GroupProfile>, ApiError> {
    live_group(&app, id).await?;
    moderator(&app, id, caller.user_id, "change the group").await?;
    let name = req.name.as_deref().map(group_name).transpose()?;
    let description = req.description.as_deref().map(group_description).transpose()?;
    app.store.update_group(id, name.as_deref(), description.as_deref()).await?;
    let group = live_group(&app, id).await?.profile();
    if name.is_some() || description.is_some() {
        app.hub.send_many(member_ids(&app, id).await?, &ServerFrame::GroupUpdated { group: group.clone() });
    }
    Ok(Json(group))
}

/// `DELETE /api/groups/{id}`: the owner dissolves the group. Every member gets the
/// `dissolved` notice, then `group_left` (reason `dissolved`); pending requests close. 204.
async fn delete_group(
    State(app): State<AppState>,
    caller: Caller,
    Path(id): Path<GroupId>,
) -> Result<StatusCode, ApiError> {
    live_group(&app, id).await?;
    owner(&app, id, caller.user_id, "dissolve the group").await?;
    post_notice(&app, id, Notice::Dissolved { by: caller.user_id }).await;
    let members = member_ids(&app, id).await?;
    let mut requests = Vec::new();
    for request in app.store.take_group_requests(id, None).await? {
        requests.push((parties(&app, &request).await?, request));
    }
    app.store.dissolve_group(id).await?;
    membership_changed(&app, id);
    app.hub.send_many(members, &ServerFrame::GroupLeft { group_id: id, reason: LeaveReason::Dissolved });
    for (parties, request) in requests {
        app.hub.send_many(parties, &closed(&request, false));
    }
    Ok(StatusCode::NO_CONTENT)
}

/// `GET /api/groups/{id}/members`: the members with their role and whether they are
/// online (members only).
async fn get_members(
    State(app): State<AppState>,
    caller: Caller,
    Path(id): Path<GroupId>,
) -> Result<Json<Vec<GroupMember>>, ApiError> {
    live_group(&app, id).await?;
    member(&app, id, caller.user_id, "see who belongs to it").await?;
    let rows = app.store.group_members(id).await?;
    let ids: Vec<UserId> = rows.iter().map(|m| m.user_id).collect();
    let online = app.hub.online_among(&ids);
    let members = rows.iter().map(|row| GroupMember {
        user: user_profile(row),
        role: row.role(),
        online: online.contains(&row.user_id),
    });
    Ok(Json(members.collect()))
}

/// `DELETE /api/groups/{id}/members/{user_id}`: with the caller's own id, the caller leaves
/// (the owner must hand over or dissolve first); otherwise the owner or an admin removes a
/// member (an admin only plain members). The person gets `group_left`, the remaining
/// members `group_member_removed` and a notice. 204.
async fn delete_member(
    State(app): State<AppState>,
    caller: Caller,
    Path((id, user_id)): Path<(GroupId, UserId)>,
) -> Result<StatusCode, ApiError> {
    live_group(&app, id).await?;
    let me = match app.store.member(id, caller.user_id).await? {
        Some(me) => me,
        None if user_id == caller.user_id => {
            return Err(ApiError::not_found("you are not a member of this group"));
        }
        None => return Err(ApiError::forbidden("only the group's owner and admins may remove members")),
    };
    let reason = if user_id == caller.user_id {
        if me.role() == Role::Owner {
            return Err(ApiError::new(
                StatusCode::CONFLICT,
                ErrorCode::OwnerCannotLeave,
                "the owner cannot leave: hand the group over to another member first, or dissolve it",
            ));
        }
        LeaveReason::Left
    } else {
        if !me.role().can_moderate() {
            return Err(ApiError::forbidden("only the owner and admins may remove members"));
        }
        let target =
            app.store.member(id, user_id).await?.ok_or_else(|| {
                ApiError::not_found(format!("user {user_id} is not a member of this group"))
            })?;
        if me.role() == Role::Admin && target.role() != Role::Member {
            return Err(ApiError::forbidden("an admin cannot remove the owner or another admin"));
        }
        LeaveReason::Removed
    };
    if !app.store.remove_member(id, user_id).await? {
        return Err(ApiError::not_found(format!("user {user_id} is not a member of this group")));
    }
    membership_changed(&app, id);
    app.hub.send(user_id, &ServerFrame::GroupLeft { group_id: id, reason });
    app.hub
        .send_many(member_ids(&app, id).await?, &ServerFrame::GroupMemberRemoved { group_id: id, user_id });
    let name = display_name(&app, user_id).await;
    let notice = match reason {
        LeaveReason::Removed => Notice::Removed { user_id, name, by: caller.user_id },
        _ => Notice::Left { user_id, name },
    };
    post_notice(&app, id, notice).await;
    Ok(StatusCode::NO_CONTENT)
}

/// `PUT /api/groups/{id}/members/{user_id}/role`: the owner makes a member an admin or an
/// admin a plain member. Pushes `group_member_updated` to the members.
async fn put_role(
    State(app): State<AppState>,
    caller: Caller,
    Path((id, user_id)): Path<(GroupId, UserId)>,
    Json(req): Json<SetRoleRequest>,
) -> Result<Json<GroupMember>, ApiError> {
    live_group(&app, id).await?;
    owner(&app, id, caller.user_id, "change roles").await?;
    if req.role == Role::Owner {
        return Err(ApiError::bad_request(
            ErrorCode::InvalidField,
            "the role is admin or member; ownership moves with POST /api/groups/{id}/owner",
        ));
    }
    if user_id == caller.user_id {
        return Err(ApiError::bad_request(
            ErrorCode::InvalidField,
            "the owner's role changes only by handing the group over",
        ));
    }
    if !app.store.set_role(id, user_id, req.role).await? {
        return Err(ApiError::not_found(format!("user {user_id} is not a member of this group")));
    }
    membership_changed(&app, id);
    let updated = group_member(&app, id, user_id).await?;
    app.hub.send_many(
        member_ids(&app, id).await?,
        &ServerFrame::GroupMemberUpdated { group_id: id, member: updated.clone() },
    );
    Ok(Json(updated))
}

/// `POST /api/groups/{id}/owner`: the owner hands the group over to another member and
/// becomes an admin. Pushes `group_updated` and two `group_member_updated`, and a notice.
async fn post_owner(
    State(app): State<AppState>,
    caller: Caller,
    Path(id): Path<GroupId>,
    Json(req): Json<TransferOwnershipRequest>,
) -> Result<Json<GroupProfile>, ApiError> {
    live_group(&app, id).await?;
    owner(&app, id, caller.user_id, "hand it over").await?;
    let target = req.user_id;
    if target == caller.user_id {
        return Err(ApiError::bad_request(ErrorCode::InvalidField, "you own this group already"));
    }
    if app.store.member(id, target).await?.is_none() {
        return Err(ApiError::not_found(format!("user {target} is not a member of this group")));
    }
    app.store.transfer_ownership(id, caller.user_id, target).await?;
    membership_changed(&app, id);
    let group = live_group(&app, id).await?.profile();
    let members = member_ids(&app, id).await?;
    app.hub.send_many(members.iter().copied(), &ServerFrame::GroupUpdated { group: group.clone() });
    for user_id in [target, caller.user_id] {
        let member = group_member(&app, id, user_id).await?;
        app.hub.send_many(members.iter().copied(), &ServerFrame::GroupMemberUpdated { group_id: id, member });
    }
    let name = display_name(&app, target).await;
    post_notice(&app, id, Notice::OwnerChanged { user_id: target, name }).await;
    Ok(Json(group))
}

/// `PUT /api/groups/{id}/mute`: a member mutes or unmutes the group for themselves (no
/// sound, no badge; messages still arrive).
async fn put_mute(
    State(app): State<AppState>,
    caller: Caller,
    Path(id): Path<GroupId>,
    Json(req): Json<MuteRequest>,
) -> Result<Json<MyGroup>, ApiError> {
    let group = live_group(&app, id).await?;
    let me = member(&app, id, caller.user_id, "mute it").await?;
    app.store.set_muted(id, caller.user_id, req.muted).await?;
    membership_changed(&app, id);
    Ok(Json(MyGroup { group: group.profile(), role: me.role(), muted: req.muted }))
}

/// `POST /api/groups/{id}/applications`: the caller asks to join, with a message. The
/// owner and admins get `group_request_received`. 201 with the request.
async fn post_application(
    State(app): State<AppState>,
    caller: Caller,
    Path(id): Path<GroupId>,
    Json(req): Json<GroupRequestBody>,
) -> Result<(StatusCode, Json<GroupRequest>), ApiError> {
    let group = live_group(&app, id).await?;
    let message = request_message(&req.message)?;
    if app.store.member(id, caller.user_id).await?.is_some() {
        return Err(already_member("you are a member of this group already"));
    }
    let row = app
        .store
        .create_group_request(id, caller.user_id, GroupRequestKind::Application, None, &message)
        .await
        .map_err(|err| duplicate(err, "you have applied to this group already; wait for the answer"))?;
    let request = new_group_request(&app, &row, group.profile()).await?;
    app.hub.send_many(
        moderator_ids(&app, id).await?,
        &ServerFrame::GroupRequestReceived { request: request.clone() },
    );
    Ok((StatusCode::CREATED, Json(request)))
}

/// `POST /api/groups/{id}/invitations`: a member invites one of their friends, with a
/// message. The invitee gets `group_request_received`. 201 with the request.
async fn post_invitation(
    State(app): State<AppState>,
    caller: Caller,
    Path(id): Path<GroupId>,
    Json(req): Json<GroupRequestBody>,
) -> Result<(StatusCode, Json<GroupRequest>), ApiError> {
    let group = live_group(&app, id).await?;
    let invitee = req.user_id.ok_or_else(|| {
        ApiError::bad_request(ErrorCode::InvalidField, "name the friend to invite in user_id")
    })?;
    let message = request_message(&req.message)?;
    member(&app, id, caller.user_id, "invite people into it").await?;
    if invitee == caller.user_id {
        return Err(already_member("you are a member of this group already"));
    }
    if app.store.user_by_id(invitee).await?.is_none() {
        return Err(ApiError::not_found(format!("there is no user {invitee}")));
    }
    if app.store.member(id, invitee).await?.is_some() {
        return Err(already_member("this person is a member of the group already"));
    }
    if !app.store.are_friends(caller.user_id, invitee).await? {
        return Err(ApiError::forbidden("you can invite only your friends"));
    }
    let row = app
        .store
        .create_group_request(id, invitee, GroupRequestKind::Invitation, Some(caller.user_id), &message)
        .await
        .map_err(|err| duplicate(err, "this person has been invited into this group already"))?;
    let request = new_group_request(&app, &row, group.profile()).await?;
    app.hub.send(invitee, &ServerFrame::GroupRequestReceived { request: request.clone() });
    Ok((StatusCode::CREATED, Json(request)))
}

/// `GET /api/group-requests`: pending applications to the groups the caller owns or
/// administers, and pending invitations for the caller.
async fn get_group_requests(
    State(app): State<AppState>,
    caller: Caller,
) -> Result<Json<GroupRequests>, ApiError> {
    Ok(Json(pending_requests(&app, caller.user_id).await?))
}

/// `POST /api/group-requests/{id}/accept`: the owner or an admin accepts an application, or
/// the invitee an invitation. The new member gets `group_joined`, the other members
/// `group_member_updated` and a notice, and everyone concerned `group_request_closed`. 204.
async fn post_accept_group_request(
    State(app): State<AppState>,
    caller: Caller,
    Path(id): Path<i64>,
) -> Result<StatusCode, ApiError> {
    let (row, group) = answerable(&app, id, caller.user_id).await?;
    let group_id = group.id;
    if !app.store.delete_group_request(row.id).await? {
        return Err(request_gone());
    }
    // New members see the history from their join on: everything after the newest message.
    let joined_seq = app.store.last_seq(group_id).await?;
    let joined = app.store.add_member(group_id, row.user_id, Role::Member, joined_seq).await?;
    // Any other pending request for the same person and group is settled too.
    let mut settled = vec![row];
    settled.extend(app.store.take_group_requests(group_id, Some(settled[0].user_id)).await?);
    membership_changed(&app, group_id);
    for request in &settled {
        app.hub.send_many(parties(&app, request).await?, &closed(request, true));
    }
    if joined {
        let user_id = settled[0].user_id;
        let profile = live_group(&app, group_id).await?.profile();
        let mine = MyGroup { group: profile, role: Role::Member, muted: false };
        app.hub.send(user_id, &ServerFrame::GroupJoined { group: mine });
        let member = group_member(&app, group_id, user_id).await?;
        let others = member_ids(&app, group_id).await?.into_iter().filter(|&m| m != user_id);
        app.hub.send_many(others, &ServerFrame::GroupMemberUpdated { group_id, member });
        let name = display_name(&app, user_id).await;
        post_notice(&app, group_id, Notice::Joined { user_id, name }).await;
    }
    Ok(StatusCode::NO_CONTENT)
}

/// `POST /api/group-requests/{id}/refuse`: the owner or an admin refuses an application, or
/// the invitee an invitation. Everyone concerned gets `group_request_closed`. 204.
async fn post_refuse_group_request(
    State(app): State<AppState>,
    caller: Caller,
    Path(id): Path<i64>,
) -> Result<StatusCode, ApiError> {
    let (row, _) = answerable(&app, id, caller.user_id).await?;
    close_request(&app, &row).await
}

/// `DELETE /api/group-requests/{id}`: the applicant or the inviter withdraws the request.
/// Everyone concerned gets `group_request_closed`. 204.
async fn delete_group_request(
    State(app): State<AppState>,
    caller: Caller,
    Path(id): Path<i64>,
) -> Result<StatusCode, ApiError> {
    let row = app.store.group_request(id).await?.ok_or_else(request_gone)?;
    let requester = match row.kind() {
        GroupRequestKind::Application => row.user_id,
        GroupRequestKind::Invitation => row.inviter_id.unwrap_or_default(),
    };
    if requester != caller.user_id {
        if row.user_id == caller.user_id || can_moderate(&app, row.group_id, caller.user_id).await? {
            return Err(ApiError::forbidden(
                "only its sender withdraws a request; answer it with accept or refuse",
            ));
        }
        return Err(request_gone());
    }
    close_request(&app, &row).await
}

// ---------------------------------------------------------------------------------------
// Rules and lookups

fn group_name(raw: &str) -> Result<String, ApiError> {
    let name = raw.trim();
    if name.is_empty() {
        return Err(ApiError::bad_request(ErrorCode::InvalidField, "the group name is empty"));
    }
    if name.chars().count() > NAME_MAX {
        return Err(ApiError::bad_request(
            ErrorCode::InvalidField,
            format!("a group name has at most {NAME_MAX} characters"),
        ));
    }
    if name.chars().any(char::is_control) {
        return Err(ApiError::bad_request(
            ErrorCode::InvalidField,
            "a group name may not hold control characters",
        ));
    }
    Ok(name.to_owned())
}

/// Free text with line breaks allowed: at most `max` characters after trimming.
fn free_text(raw: &str, max: usize, what: &str) -> Result<String, ApiError> {
    let text = raw.trim();
    if text.chars().count() > max {
        return Err(ApiError::bad_request(
            ErrorCode::InvalidField,
            format!("{what} has at most {max} characters"),
        ));
    }
    if text.chars().any(|c| c.is_control() && !matches!(c, '\n' | '\t')) {
        return Err(ApiError::bad_request(
            ErrorCode::InvalidField,
            format!("{what} may not hold control characters other than line breaks and tabs"),
        ));
    }
    Ok(text.to_owned())
}

fn group_description(raw: &str) -> Result<String, ApiError> {
    free_text(raw, DESCRIPTION_MAX, "a group description")
}

fn request_message(raw: &str) -> Result<String, ApiError> {
    free_text(raw, REQUEST_MESSAGE_MAX, "the message")
}

fn already_member(message: &str) -> ApiError {
    ApiError::new(StatusCode::CONFLICT, ErrorCode::AlreadyMember, message)
}

fn request_gone() -> ApiError {
    ApiError::not_found("no such request: it may have been answered or withdrawn")
}

/// A second pending request of the same kind is a conflict; other failures are internal.
fn duplicate(err: crate::store::StoreError, message: &str) -> ApiError {
    if err.is_unique_violation() {
        ApiError::new(StatusCode::CONFLICT, ErrorCode::DuplicateRequest, message)
    } else {
        err.into()
    }
}

/// A live group, or 404 if it does not exist, is a one-to-one chat or was dissolved.
async fn live_group(app: &App, id: GroupId) -> Result<GroupRow, ApiError> {
    app.store.group(id).await?.ok_or_else(|| ApiError::not_found(format!("there is no group {id}")))
}

/// The caller's membership, or 403 saying what only members may do.
async fn member(app: &App, id: GroupId, user_id: UserId, to: &str) -> Result<MemberRow, ApiError> {
    app.store
        .member(id, user_id)
        .await?
        .ok_or_else(|| ApiError::forbidden(format!("only members of this group may {to}")))
}

/// The caller's membership if they are the owner or an admin, or 403.
async fn moderator(app: &App, id: GroupId, user_id: UserId, to: &str) -> Result<MemberRow, ApiError> {
    match app.store.member(id, user_id).await? {
        Some(row) if row.role().can_moderate() => Ok(row),
        _ => Err(ApiError::forbidden(format!("only the group's owner and admins may {to}"))),
    }
}

async fn can_moderate(app: &App, id: GroupId, user_id: UserId) -> Result<bool, ApiError> {
    Ok(app.store.member(id, user_id).await?.is_some_and(|m| m.role().can_moderate()))
}

/// The caller's membership if they are the owner, or 403.
async fn owner(app: &App, id: GroupId, user_id: UserId, to: &str) -> Result<MemberRow, ApiError> {
    match app.store.member(id, user_id).await? {
        Some(row) if row.role() == Role::Owner => Ok(row),
        _ => Err(ApiError::forbidden(format!("only the group's owner may {to}"))),
    }
}

async fn member_ids(app: &App, id: GroupId) -> Result<Vec<UserId>, ApiError> {
    Ok(app.store.members(id).await?.iter().map(|m| m.user_id).collect())
}

async fn moderator_ids(app: &App, id: GroupId) -> Result<Vec<UserId>, ApiError> {
    let members = app.store.members(id).await?;
    Ok(members.iter().filter(|m| m.role().can_moderate()).map(|m| m.user_id).collect())
}

/// The public profile of a member row (the same shape as `app::profile_of`).
fn user_profile(row: &GroupMemberRow) -> UserProfile {
    UserProfile {
        id: row.user_id,
        username: row.username.clone(),
        display_name: row.display_name.clone(),
        avatar_url: row.avatar.as_ref().map(|_| format!("/api/users/{}/avatar", row.user_id)),
    }
}

async fn group_member(app: &App, id: GroupId, user_id: UserId) -> Result<GroupMember, ApiError> {
    let row = app
        .store
        .group_member(id, user_id)
        .await?
        .ok_or_else(|| ApiError::not_found(format!("user {user_id} is not a member of this group")))?;
    Ok(GroupMember { user: user_profile(&row), role: row.role(), online: app.hub.is_online(user_id) })
}

/// A user's display name for a notice (empty if the account is gone).
async fn display_name(app: &App, user_id: UserId) -> String {
    app.profile(user_id).await.map(|p| p.display_name).unwrap_or_default()
}

/// A stored request as the API shows it, or None if the person's account is gone.
async fn group_request(
    app: &App,
    row: &GroupRequestRow,
    group: GroupProfile,
) -> StoreResult<Option<GroupRequest>> {
    let Some(user) = app.store.user_by_id(row.user_id).await? else { return Ok(None) };
    let inviter = match row.inviter_id {
        Some(id) => app.store.user_by_id(id).await?.as_ref().map(profile_of),
        None => None,
    };
    Ok(Some(GroupRequest {
        id: row.id,
        kind: row.kind(),
        group,
        user: profile_of(&user),
        inviter,
        message: row.message.clone(),
        created_at: row.created_at,
    }))
}

/// A request just made, as the API shows it.
async fn new_group_request(
    app: &App,
    row: &GroupRequestRow,
    group: GroupProfile,
) -> Result<GroupRequest, ApiError> {
    group_request(app, row, group).await?.ok_or_else(|| ApiError::not_found("the account no longer exists"))
}

/// What awaits `user_id`: applications to the groups they own or administer and
/// invitations for them, oldest first. Requests of groups or accounts that are gone are
/// left out. (Also what the socket's `sync_state` lists.)
pub(crate) async fn pending_requests(app: &App, user_id: UserId) -> StoreResult<GroupRequests> {
    let mut out = GroupRequests::default();
    let applications = app.store.applications_for_moderator(user_id).await?;
    let invitations = app.store.invitations_for(user_id).await?;
    for (rows, list) in [(applications, &mut out.applications), (invitations, &mut out.invitations)] {
        for row in rows {
            let Some(group) = app.store.group(row.group_id).await? else { continue };
            list.extend(group_request(app, &row, group.profile()).await?);
        }
    }
    Ok(out)
}

/// A pending request the caller may answer, with its group: applications by the group's
/// owner or admins, invitations by the invitee. 404 when it is gone, 403 when it is not
/// the caller's to answer.
async fn answerable(app: &App, id: i64, caller: UserId) -> Result<(GroupRequestRow, GroupRow), ApiError> {
    let row = app.store.group_request(id).await?.ok_or_else(request_gone)?;
    let group = app.store.group(row.group_id).await?.ok_or_else(request_gone)?;
    let allowed = match row.kind() {
        GroupRequestKind::Application => can_moderate(app, row.group_id, caller).await?,
        GroupRequestKind::Invitation => row.user_id == caller,
    };
    if !allowed {
        let concerned = row.user_id == caller || row.inviter_id == Some(caller);
        return Err(if concerned {
            ApiError::forbidden(match row.kind() {
                GroupRequestKind::Application => "the group's owner or an admin answers an application",
                GroupRequestKind::Invitation => "only the invited person answers an invitation",
            })
        } else {
            request_gone()
        });
    }
    Ok((row, group))
}

/// Deletes a request without accepting it and tells everyone concerned. 204.
async fn close_request(app: &App, row: &GroupRequestRow) -> Result<StatusCode, ApiError> {
    let parties = parties(app, row).await?;
    if !app.store.delete_group_request(row.id).await? {
        return Err(request_gone());
    }
    app.hub.send_many(parties, &closed(row, false));
    Ok(StatusCode::NO_CONTENT)
}

/// Who a request concerns: the person who would join, the inviter, and for applications the
/// group's owner and admins (whose inbox lists it).
async fn parties(app: &App, row: &GroupRequestRow) -> Result<Vec<UserId>, ApiError> {
    let mut ids = vec![row.user_id];
    ids.extend(row.inviter_id);
    if row.kind() == GroupRequestKind::Application {
        ids.extend(moderator_ids(app, row.group_id).await?);
    }
    ids.sort_unstable();
    ids.dedup();
    Ok(ids)
}

fn closed(row: &GroupRequestRow, accepted: bool) -> ServerFrame {
    ServerFrame::GroupRequestClosed { request_id: row.id, group_id: row.group_id, accepted }
}

// ---------------------------------------------------------------------------------------
// The message service and the membership cache

/// Posts a notice into the group's chat (stored as a message, pushed to the members). The
/// change it reports has happened already, so a failure is logged, not returned.
async fn post_notice(app: &App, group_id: GroupId, notice: Notice) {
    if let Err(err) = crate::messages::post_notice(app, group_id, notice).await {
        tracing::error!(%err, group_id, "could not post a group notice");
    }
}

/// Tells the membership cache that a group's members changed.
fn membership_changed(app: &App, group_id: GroupId) {
    app.membership.invalidate(group_id);
}

//! Groups: creating and finding them, applications and invitations, roles, ownership,
//! leaving, removal, dissolution and muting. A group is a conversation of kind `group`.
//! This module decides who may do what, who is told (every change is pushed to the people
//! it concerns, and joins, departures, ownership changes and dissolution also appear as
//! notices in the group's chat) and which membership cache entry dies.

use crate::app::App;
use crate::error::{Refusal, on_unique};
use crate::files::avatar;
use crate::friends::{free_text, request_message};
use crate::membership::Members;
use crate::messages::MessageError;
use crate::store::groups::{GroupRequestRow, GroupRow};
use crate::store::{MemberRow, StoreResult};
use crate::wire::{member_profile_of, profile_of};
use bytes::Bytes;
use kith_shared::api::{
    ConversationKind, CreateGroupRequest, GroupId, GroupMember, GroupProfile, GroupRequest, GroupRequestBody,
    GroupRequestKind, GroupRequests, MuteRequest, MyGroup, Role, SetRoleRequest, TransferOwnershipRequest,
    UpdateGroupRequest, limits,
};
use kith_shared::frame::{ChatMessage, Content, LeaveReason, Notice};
use kith_shared::{ErrorCode, ServerFrame, UserId};
use std::sync::Arc;

/// Creates a group; the caller is its owner.
pub async fn create(app: &App, caller: UserId, req: CreateGroupRequest) -> Result<MyGroup, Refusal> {
    let name = group_name(&req.name)?;
    let description = group_description(&req.description)?;
    let id = app.store.create_group(&name, &description, caller).await?;
    if let Err(err) = app.store.add_member(id, caller, Role::Owner, 0).await {
        // A group without its owner must not stay visible.
        if let Err(cleanup) = app.store.dissolve_group(id).await {
            tracing::error!(%cleanup, group_id = id, "could not hide a group left without owner");
        }
        return Err(err.into());
    }
    membership_changed(app, id);
    let mine =
        MyGroup { group: live_group(app, id).await?.member_profile(), role: Role::Owner, muted: false };
    // For the caller's other devices.
    app.hub.send(caller, &ServerFrame::GroupJoined { group: mine.clone() });
    let name = display_name(app, caller).await;
    post_notice(app, id, Notice::Created { user_id: caller, name }).await;
    Ok(mine)
}

/// The caller's groups with their role and mute setting.
pub async fn mine(app: &App, caller: UserId) -> Result<Vec<MyGroup>, Refusal> {
    let rows = app.store.groups_of(caller).await?;
    let groups = rows.iter().map(|row| MyGroup {
        group: row.group().member_profile(),
        role: row.role(),
        muted: row.muted,
    });
    Ok(groups.collect())
}

/// Live groups whose name contains `q`,
/// ignoring case, by name.
pub async fn search(app: &App, text: &str, offset: u64, limit: u64) -> Result<Vec<GroupProfile>, Refusal> {
    let text = text.trim();
    if text.chars().count() > limits::GROUP_NAME_MAX || text.chars().any(char::is_control) {
        // No group name is that long or holds a control character (nor can PostgreSQL compare
        // text with a NUL).
        return Ok(Vec::new());
    }
    let rows = app.store.search_groups(text, offset, limit).await?;
    Ok(rows.iter().map(GroupRow::profile).collect())
}

/// A group's profile (any logged-in user); its announcement only for its members.
pub async fn profile(app: &App, caller: UserId, id: GroupId) -> Result<GroupProfile, Refusal> {
    let group = live_group(app, id).await?;
    if app.store.member(id, caller).await?.is_some() {
        return Ok(group.member_profile());
    }
    Ok(group.profile())
}

/// The owner or an admin changes the name, description or announcement (an empty
/// announcement clears it). Pushes `group_updated` to the members.
pub async fn update(
    app: &App,
    caller: UserId,
    id: GroupId,
    req: UpdateGroupRequest,
) -> Result<GroupProfile, Refusal> {
    live_group(app, id).await?;
    moderator(app, id, caller, "change the group").await?;
    let name = req.name.as_deref().map(group_name).transpose()?;
    let description = req.description.as_deref().map(group_description).transpose()?;
    let announcement = req.announcement.as_deref().map(group_announcement).transpose()?;
    let announced = announcement.as_deref().map(|text| (text, caller));
    app.store.update_group(id, name.as_deref(), description.as_deref(), announced).await?;
    if name.is_some() || description.is_some() || announcement.is_some() {
        return profile_changed(app, id).await;
    }
    Ok(live_group(app, id).await?.member_profile())
}

/// The owner or an admin gives the group a new picture (decoded, scaled and kept like a
/// user's avatar); the old one's file goes. Pushes `group_updated` to the members.
pub async fn set_avatar(
    app: &App,
    caller: UserId,
    id: GroupId,
    bytes: Bytes,
) -> Result<GroupProfile, Refusal> {
    let old = live_group(app, id).await?.avatar;
    moderator(app, id, caller, "change the group's picture").await?;
    let name = avatar::keep(app, bytes).await?;
    if let Err(err) = app.store.set_group_avatar(id, Some(&name)).await {
        avatar::discard(app, Some(name)).await;
        return Err(err.into());
    }
    avatar::discard(app, old).await;
    profile_changed(app, id).await
}

/// The owner or an admin removes the group's picture and its file. Pushes `group_updated`
/// to the members when there was one.
pub async fn remove_avatar(app: &App, caller: UserId, id: GroupId) -> Result<GroupProfile, Refusal> {
    let group = live_group(app, id).await?;
    moderator(app, id, caller, "remove the group's picture").await?;
    if group.avatar.is_none() {
        return Ok(group.member_profile());
    }
    app.store.set_group_avatar(id, None).await?;
    avatar::discard(app, group.avatar).await;
    profile_changed(app, id).await
}

/// A group's picture with its content type (any logged-in user, like the profile).
pub async fn avatar(app: &App, id: GroupId) -> Result<(Vec<u8>, &'static str), Refusal> {
    let group = live_group(app, id).await?;
    avatar::read_file(app, group.avatar.as_deref(), "this group has no picture").await
}

/// The group's profile as it is now, pushed to its members in `group_updated`.
async fn profile_changed(app: &App, id: GroupId) -> Result<GroupProfile, Refusal> {
    let group = live_group(app, id).await?.member_profile();
    app.hub.send_many(member_ids(app, id).await?, &ServerFrame::GroupUpdated { group: group.clone() });
    Ok(group)
}

/// The owner dissolves the group. Every member gets the
/// `dissolved` notice, then `group_left` (reason `dissolved`); pending requests close.
pub async fn dissolve(app: &App, caller: UserId, id: GroupId) -> Result<(), Refusal> {
    let picture = live_group(app, id).await?.avatar;
    owner(app, id, caller, "dissolve the group").await?;
    post_notice(app, id, Notice::Dissolved { by: caller }).await;
    let members = member_ids(app, id).await?;
    let mut requests = Vec::new();
    for request in app.store.take_group_requests(id, None).await? {
        requests.push((parties(app, &request).await?, request));
    }
    app.store.dissolve_group(id).await?;
    membership_changed(app, id);
    // Nobody sees a dissolved group: its picture goes.
    if picture.is_some() {
        app.store.set_group_avatar(id, None).await?;
        avatar::discard(app, picture).await;
    }
    app.hub.send_many(members, &ServerFrame::GroupLeft { group_id: id, reason: LeaveReason::Dissolved });
    for (parties, request) in requests {
        app.hub.send_many(parties, &closed(&request, false));
    }
    Ok(())
}

/// The members with their role and whether they are
/// online (members only).
pub async fn members(app: &App, caller: UserId, id: GroupId) -> Result<Vec<GroupMember>, Refusal> {
    live_group(app, id).await?;
    member(app, id, caller, "see who belongs to it").await?;
    let rows = app.store.group_members(id).await?;
    let ids: Vec<UserId> = rows.iter().map(|m| m.user_id).collect();
    let online = app.hub.online_among(&ids);
    let members = rows.iter().map(|row| GroupMember {
        user: member_profile_of(row),
        role: row.role(),
        online: online.contains(&row.user_id),
    });
    Ok(members.collect())
}

/// With the caller's own id, the caller leaves
/// (the owner must hand over or dissolve first); otherwise the owner or an admin removes a
/// member (an admin only plain members). The person gets `group_left`, the remaining
/// members `group_member_removed` and a notice.
pub async fn remove_member(app: &App, caller: UserId, id: GroupId, user_id: UserId) -> Result<(), Refusal> {
    live_group(app, id).await?;
    let me = match app.store.member(id, caller).await? {
        Some(me) => me,
        None if user_id == caller => {
            return Err(Refusal::not_found("you are not a member of this group"));
        }
        None => return Err(Refusal::forbidden("only the group's owner and admins may remove members")),
    };
    let reason = if user_id == caller {
        if me.role() == Role::Owner {
            return Err(Refusal::new(
                ErrorCode::OwnerCannotLeave,
                "the owner cannot leave: hand the group over to another member first, or dissolve it",
            ));
        }
        LeaveReason::Left
    } else {
        if !me.role().can_moderate() {
            return Err(Refusal::forbidden("only the owner and admins may remove members"));
        }
        let target = app
            .store
            .member(id, user_id)
            .await?
            .ok_or_else(|| Refusal::not_found(format!("user {user_id} is not a member of this group")))?;
        if me.role() == Role::Admin && target.role() != Role::Member {
            return Err(Refusal::forbidden("an admin cannot remove the owner or another admin"));
        }
        LeaveReason::Removed
    };
    if !app.store.remove_member(id, user_id).await? {
        return Err(Refusal::not_found(format!("user {user_id} is not a member of this group")));
    }
    membership_changed(app, id);
    app.hub.send(user_id, &ServerFrame::GroupLeft { group_id: id, reason });
    app.hub.send_many(member_ids(app, id).await?, &ServerFrame::GroupMemberRemoved { group_id: id, user_id });
    let name = display_name(app, user_id).await;
    let notice = match reason {
        LeaveReason::Removed => Notice::Removed { user_id, name, by: caller },
        _ => Notice::Left { user_id, name },
    };
    post_notice(app, id, notice).await;
    Ok(())
}

/// The owner makes a member an admin or an
/// admin a plain member. Pushes `group_member_updated` to the members.
pub async fn set_role(
    app: &App,
    caller: UserId,
    id: GroupId,
    user_id: UserId,
    req: SetRoleRequest,
) -> Result<GroupMember, Refusal> {
    live_group(app, id).await?;
    owner(app, id, caller, "change roles").await?;
    if req.role == Role::Owner {
        return Err(Refusal::invalid(
            "the role is admin or member; ownership moves with POST /api/groups/{id}/owner",
        ));
    }
    if user_id == caller {
        return Err(Refusal::invalid("the owner's role changes only by handing the group over"));
    }
    if !app.store.set_role(id, user_id, req.role).await? {
        return Err(Refusal::not_found(format!("user {user_id} is not a member of this group")));
    }
    membership_changed(app, id);
    let updated = group_member(app, id, user_id).await?;
    app.hub.send_many(
        member_ids(app, id).await?,
        &ServerFrame::GroupMemberUpdated { group_id: id, member: updated.clone() },
    );
    Ok(updated)
}

/// The owner hands the group over to another member and
/// becomes an admin. Pushes `group_updated` and two `group_member_updated`, and a notice.
pub async fn hand_over(
    app: &App,
    caller: UserId,
    id: GroupId,
    req: TransferOwnershipRequest,
) -> Result<GroupProfile, Refusal> {
    live_group(app, id).await?;
    owner(app, id, caller, "hand it over").await?;
    let target = req.user_id;
    if target == caller {
        return Err(Refusal::invalid("you own this group already"));
    }
    if app.store.member(id, target).await?.is_none() {
        return Err(Refusal::not_found(format!("user {target} is not a member of this group")));
    }
    app.store.transfer_ownership(id, caller, target).await?;
    membership_changed(app, id);
    let group = live_group(app, id).await?.member_profile();
    let members = member_ids(app, id).await?;
    app.hub.send_many(members.iter().copied(), &ServerFrame::GroupUpdated { group: group.clone() });
    for user_id in [target, caller] {
        let member = group_member(app, id, user_id).await?;
        app.hub.send_many(members.iter().copied(), &ServerFrame::GroupMemberUpdated { group_id: id, member });
    }
    let name = display_name(app, target).await;
    post_notice(app, id, Notice::OwnerChanged { user_id: target, name }).await;
    Ok(group)
}

/// A member mutes or unmutes the group for themselves (no
/// sound, no badge; messages still arrive).
pub async fn set_mute(app: &App, caller: UserId, id: GroupId, req: MuteRequest) -> Result<MyGroup, Refusal> {
    let group = live_group(app, id).await?;
    let me = member(app, id, caller, "mute it").await?;
    app.store.set_muted(id, caller, req.muted).await?;
    membership_changed(app, id);
    Ok(MyGroup { group: group.member_profile(), role: me.role(), muted: req.muted })
}

/// The caller asks to join, with a message. The
/// owner and admins get `group_request_received`.
pub async fn apply(
    app: &App,
    caller: UserId,
    id: GroupId,
    req: GroupRequestBody,
) -> Result<GroupRequest, Refusal> {
    let group = live_group(app, id).await?;
    let message = request_message(&req.message)?;
    if app.store.member(id, caller).await?.is_some() {
        return Err(already_member("you are a member of this group already"));
    }
    let row = app
        .store
        .create_group_request(id, caller, GroupRequestKind::Application, None, &message)
        .await
        .map_err(|err| duplicate(err, "you have applied to this group already; wait for the answer"))?;
    let request = new_group_request(app, &row, group.profile()).await?;
    app.hub.send_many(
        moderator_ids(app, id).await?,
        &ServerFrame::GroupRequestReceived { request: Box::new(request.clone()) },
    );
    Ok(request)
}

/// A member invites one of their friends, with a
/// message. The invitee gets `group_request_received`.
pub async fn invite(
    app: &App,
    caller: UserId,
    id: GroupId,
    req: GroupRequestBody,
) -> Result<GroupRequest, Refusal> {
    let group = live_group(app, id).await?;
    let invitee = req.user_id.ok_or_else(|| Refusal::invalid("name the friend to invite in user_id"))?;
    let message = request_message(&req.message)?;
    member(app, id, caller, "invite people into it").await?;
    if invitee == caller {
        return Err(already_member("you are a member of this group already"));
    }
    if app.store.user_by_id(invitee).await?.is_none() {
        return Err(Refusal::not_found(format!("there is no user {invitee}")));
    }
    if app.store.member(id, invitee).await?.is_some() {
        return Err(already_member("this person is a member of the group already"));
    }
    if !app.store.are_friends(caller, invitee).await? {
        return Err(Refusal::forbidden("you can invite only your friends"));
    }
    let row = app
        .store
        .create_group_request(id, invitee, GroupRequestKind::Invitation, Some(caller), &message)
        .await
        .map_err(|err| duplicate(err, "this person has been invited into this group already"))?;
    let request = new_group_request(app, &row, group.profile()).await?;
    app.hub.send(invitee, &ServerFrame::GroupRequestReceived { request: Box::new(request.clone()) });
    Ok(request)
}

/// Pending applications to the groups the caller owns or
/// administers, and pending invitations for the caller.
pub async fn requests(app: &App, caller: UserId) -> Result<GroupRequests, Refusal> {
    Ok(pending_requests(app, caller).await?)
}

/// The owner or an admin accepts an application, or
/// the invitee an invitation. The new member gets `group_joined`, the other members
/// `group_member_updated` and a notice, and everyone concerned `group_request_closed`.
pub async fn accept_request(app: &App, caller: UserId, id: i64) -> Result<(), Refusal> {
    let (row, group) = answerable(app, id, caller).await?;
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
    membership_changed(app, group_id);
    for request in &settled {
        app.hub.send_many(parties(app, request).await?, &closed(request, true));
    }
    if joined {
        let user_id = settled[0].user_id;
        let profile = live_group(app, group_id).await?.member_profile();
        let mine = MyGroup { group: profile, role: Role::Member, muted: false };
        app.hub.send(user_id, &ServerFrame::GroupJoined { group: mine });
        let member = group_member(app, group_id, user_id).await?;
        let others = member_ids(app, group_id).await?.into_iter().filter(|&m| m != user_id);
        app.hub.send_many(others, &ServerFrame::GroupMemberUpdated { group_id, member });
        let name = display_name(app, user_id).await;
        post_notice(app, group_id, Notice::Joined { user_id, name }).await;
    }
    Ok(())
}

/// The owner or an admin refuses an application, or
/// the invitee an invitation. Everyone concerned gets `group_request_closed`.
pub async fn refuse_request(app: &App, caller: UserId, id: i64) -> Result<(), Refusal> {
    let (row, _) = answerable(app, id, caller).await?;
    close_request(app, &row).await
}

/// The applicant or the inviter withdraws the request.
/// Everyone concerned gets `group_request_closed`.
pub async fn withdraw_request(app: &App, caller: UserId, id: i64) -> Result<(), Refusal> {
    let row = app.store.group_request(id).await?.ok_or_else(request_gone)?;
    let requester = match row.kind() {
        GroupRequestKind::Application => row.user_id,
        GroupRequestKind::Invitation => row.inviter_id.unwrap_or_default(),
    };
    if requester != caller {
        if row.user_id == caller || can_moderate(app, row.group_id, caller).await? {
            return Err(Refusal::forbidden(
                "only its sender withdraws a request; answer it with accept or refuse",
            ));
        }
        return Err(request_gone());
    }
    close_request(app, &row).await
}

// ---------------------------------------------------------------------------------------
// Rules and lookups

fn group_name(raw: &str) -> Result<String, Refusal> {
    let name = raw.trim();
    if name.is_empty() {
        return Err(Refusal::invalid("the group name is empty"));
    }
    let max = limits::GROUP_NAME_MAX;
    if name.chars().count() > max {
        return Err(Refusal::invalid(format!("a group name has at most {max} characters")));
    }
    if name.chars().any(char::is_control) {
        return Err(Refusal::invalid("a group name may not hold control characters"));
    }
    Ok(name.to_owned())
}

fn group_description(raw: &str) -> Result<String, Refusal> {
    free_text(raw, limits::GROUP_DESCRIPTION_MAX, "a group description")
}

fn group_announcement(raw: &str) -> Result<String, Refusal> {
    free_text(raw, limits::GROUP_ANNOUNCEMENT_MAX, "a group announcement")
}

fn already_member(message: &str) -> Refusal {
    Refusal::new(ErrorCode::AlreadyMember, message)
}

fn request_gone() -> Refusal {
    Refusal::not_found("no such request: it may have been answered or withdrawn")
}

/// A second pending request of the same kind is a conflict; other failures are internal.
fn duplicate(err: crate::store::StoreError, message: &str) -> Refusal {
    on_unique(err, ErrorCode::DuplicateRequest, message)
}

/// A live group, or 404 if it does not exist, is a one-to-one chat or was dissolved.
async fn live_group(app: &App, id: GroupId) -> Result<GroupRow, Refusal> {
    app.store.group(id).await?.ok_or_else(|| Refusal::not_found(format!("there is no group {id}")))
}

/// The caller's membership, or 403 saying what only members may do.
async fn member(app: &App, id: GroupId, user_id: UserId, to: &str) -> Result<MemberRow, Refusal> {
    app.store
        .member(id, user_id)
        .await?
        .ok_or_else(|| Refusal::forbidden(format!("only members of this group may {to}")))
}

/// The caller's membership if they are the owner or an admin, or 403.
async fn moderator(app: &App, id: GroupId, user_id: UserId, to: &str) -> Result<MemberRow, Refusal> {
    match app.store.member(id, user_id).await? {
        Some(row) if row.role().can_moderate() => Ok(row),
        _ => Err(Refusal::forbidden(format!("only the group's owner and admins may {to}"))),
    }
}

async fn can_moderate(app: &App, id: GroupId, user_id: UserId) -> Result<bool, Refusal> {
    Ok(app.store.member(id, user_id).await?.is_some_and(|m| m.role().can_moderate()))
}

/// The caller's membership if they are the owner, or 403.
async fn owner(app: &App, id: GroupId, user_id: UserId, to: &str) -> Result<MemberRow, Refusal> {
    match app.store.member(id, user_id).await? {
        Some(row) if row.role() == Role::Owner => Ok(row),
        _ => Err(Refusal::forbidden(format!("only the group's owner may {to}"))),
    }
}

async fn member_ids(app: &App, id: GroupId) -> Result<Vec<UserId>, Refusal> {
    Ok(app.store.members(id).await?.iter().map(|m| m.user_id).collect())
}

async fn moderator_ids(app: &App, id: GroupId) -> Result<Vec<UserId>, Refusal> {
    let members = app.store.members(id).await?;
    Ok(members.iter().filter(|m| m.role().can_moderate()).map(|m| m.user_id).collect())
}

async fn group_member(app: &App, id: GroupId, user_id: UserId) -> Result<GroupMember, Refusal> {
    let row = app
        .store
        .group_member(id, user_id)
        .await?
        .ok_or_else(|| Refusal::not_found(format!("user {user_id} is not a member of this group")))?;
    Ok(GroupMember { user: member_profile_of(&row), role: row.role(), online: app.hub.is_online(user_id) })
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
) -> Result<GroupRequest, Refusal> {
    group_request(app, row, group).await?.ok_or_else(|| Refusal::not_found("the account no longer exists"))
}

/// What awaits `user_id`: applications to the groups they own or administer and
/// invitations for them, oldest first. Requests of groups or accounts that are gone are
/// left out. (Also what the socket's `sync_state` lists.)
pub async fn pending_requests(app: &App, user_id: UserId) -> StoreResult<GroupRequests> {
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
async fn answerable(app: &App, id: i64, caller: UserId) -> Result<(GroupRequestRow, GroupRow), Refusal> {
    let row = app.store.group_request(id).await?.ok_or_else(request_gone)?;
    let group = app.store.group(row.group_id).await?.ok_or_else(request_gone)?;
    let allowed = match row.kind() {
        GroupRequestKind::Application => can_moderate(app, row.group_id, caller).await?,
        GroupRequestKind::Invitation => row.user_id == caller,
    };
    if !allowed {
        let concerned = row.user_id == caller || row.inviter_id == Some(caller);
        return Err(if concerned {
            Refusal::forbidden(match row.kind() {
                GroupRequestKind::Application => "the group's owner or an admin answers an application",
                GroupRequestKind::Invitation => "only the invited person answers an invitation",
            })
        } else {
            request_gone()
        });
    }
    Ok((row, group))
}

/// Deletes a request without accepting it and tells everyone concerned.
async fn close_request(app: &App, row: &GroupRequestRow) -> Result<(), Refusal> {
    let parties = parties(app, row).await?;
    if !app.store.delete_group_request(row.id).await? {
        return Err(request_gone());
    }
    app.hub.send_many(parties, &closed(row, false));
    Ok(())
}

/// Who a request concerns: the person who would join, the inviter, and for applications the
/// group's owner and admins (whose inbox lists it).
async fn parties(app: &App, row: &GroupRequestRow) -> Result<Vec<UserId>, Refusal> {
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
// Notices and the membership cache

/// Posts a notice into the group's chat (stored as a message, pushed to the members). The
/// change it reports has happened already, so a failure is logged, not returned.
async fn post_notice(app: &App, group_id: GroupId, notice: Notice) {
    if let Err(err) = notice_message(app, group_id, notice).await {
        tracing::error!(%err, group_id, "could not post a group notice");
    }
}

/// Stores a notice in a group's conversation and pushes it to its current members.
async fn notice_message(app: &App, group_id: GroupId, notice: Notice) -> Result<ChatMessage, MessageError> {
    app.membership.invalidate(group_id);
    let members = match app.membership.get(&app.store, group_id).await? {
        Some(members) => members,
        None => Arc::new(Members {
            conversation_id: group_id,
            kind: ConversationKind::Group,
            members: Vec::new(),
        }),
    };
    app.messages.post(members, None, Content::Notice { notice }).await
}

/// Tells the membership cache that a group's members changed.
fn membership_changed(app: &App, group_id: GroupId) {
    app.membership.invalidate(group_id);
}

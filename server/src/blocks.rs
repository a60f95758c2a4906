//! Blocks: one user stops another from reaching them. While A blocks B:
//!
//! - A and B are not friends: blocking ends a friendship (both get `friend_removed`, as for
//!   any removal) and withdraws A's own pending request to B, and A cannot ask B while the
//!   block lasts. So B's one-to-one messages to A and B's invitations of A into a group are
//!   refused as for anyone who is not a friend, and nothing in the refusal tells B why.
//! - B's friend requests to A are answered as any pending request and stay in B's outgoing
//!   list, but A never sees them (neither pushed nor listed) until A unblocks B.
//!
//! A block is one-way and private: B is never told, and nothing B can ask the server answers
//! differently for being blocked. A's own devices are told (`user_blocked`, `user_unblocked`),
//! so that their block lists follow.

use crate::app::App;
use crate::error::Refusal;
use crate::store::now_millis;
use crate::wire::profile_of;
use kith_shared::api::BlockedUser;
use kith_shared::{ServerFrame, UserId};

/// The caller blocks `user_id` (again: no change). Ends their friendship and withdraws the
/// caller's pending friend request to them. A new block reaches the caller's connections
/// (their other devices) as `user_blocked`.
pub async fn block(app: &App, caller: UserId, user_id: UserId) -> Result<(), Refusal> {
    if user_id == caller {
        return Err(Refusal::invalid("you cannot block yourself"));
    }
    let Some(user) = app.store.user_by_id(user_id).await? else {
        return Err(Refusal::not_found("no such user"));
    };
    let blocked_at = now_millis();
    let new = app.store.block(caller, user_id, blocked_at).await?;
    if let Some(conversation) = app.store.find_direct_conversation(caller, user_id).await?
        && app.store.remove_member(conversation, caller).await?
    {
        app.store.remove_member(conversation, user_id).await?;
        app.membership.invalidate(conversation);
        app.hub.send(caller, &ServerFrame::FriendRemoved { user_id });
        app.hub.send(user_id, &ServerFrame::FriendRemoved { user_id: caller });
    }
    if let Some(mine) = app.store.friend_request_between(caller, user_id).await?
        && app.store.delete_friend_request(mine.id).await?
    {
        app.hub.send(user_id, &ServerFrame::FriendRequestCancelled { request_id: mine.id });
    }
    if new {
        let blocked = BlockedUser { user: profile_of(&user), blocked_at };
        app.hub.send(caller, &ServerFrame::UserBlocked { blocked });
    }
    Ok(())
}

/// The caller lifts their block of `user_id`; their connections (their other devices) get
/// `user_unblocked`. A friend request `user_id` sent meanwhile reaches the caller now.
pub async fn unblock(app: &App, caller: UserId, user_id: UserId) -> Result<(), Refusal> {
    if !app.store.unblock(caller, user_id).await? {
        return Err(Refusal::not_found("you do not block this user"));
    }
    app.hub.send(caller, &ServerFrame::UserUnblocked { user_id });
    if let Some(theirs) = app.store.friend_request_between(user_id, caller).await?
        && let Some(request) = crate::friends::request_as_sent(app, theirs).await?
    {
        app.hub.send(caller, &ServerFrame::FriendRequestReceived { request });
    }
    Ok(())
}

/// Everyone the caller blocks, the latest first (accounts deleted since are left out).
pub async fn list(app: &App, caller: UserId) -> Result<Vec<BlockedUser>, Refusal> {
    let rows = app.store.blocks_of(caller).await?;
    let users = app.store.users_by_ids(rows.iter().map(|r| r.blocked_id).collect()).await?;
    Ok(rows
        .iter()
        .filter_map(|row| {
            let user = users.iter().find(|u| u.id == row.blocked_id)?;
            Some(BlockedUser { user: profile_of(user), blocked_at: row.created_at })
        })
        .collect())
}

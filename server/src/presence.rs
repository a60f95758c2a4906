//! Presence and the state a client receives on connect.
//!
//! A user's audience is everyone who shares a conversation with them: their friends and the
//! members of their groups. When the user's first connection opens or the last one closes,
//! each online member of that audience receives a `presence` frame.

use crate::app::{App, profile_of};
use crate::store::{FriendRequestRow, StoreResult};
use kith_shared::api::{ConversationKind, ConversationState, FriendRequest};
use kith_shared::{ServerFrame, UserId};
use std::collections::BTreeSet;

/// Everyone who shares a conversation with `user_id`.
async fn audience(app: &App, user_id: UserId) -> StoreResult<Vec<UserId>> {
    let mut people = BTreeSet::new();
    for membership in app.store.memberships(user_id).await? {
        if let Some(members) = app.membership.get(&app.store, membership.conversation_id).await? {
            people.extend(members.user_ids().filter(|id| *id != user_id));
        }
    }
    Ok(people.into_iter().collect())
}

/// Tells the online part of the user's audience that the user came online or went offline.
pub async fn announce(app: &App, user_id: UserId, online: bool) {
    match audience(app, user_id).await {
        Ok(people) => {
            let online_people = app.hub.online_among(&people);
            app.hub.send_many(online_people, &ServerFrame::Presence { user_id, online });
        }
        Err(err) => tracing::error!(%err, user_id, "presence: audience lookup failed"),
    }
}

/// Tells the online part of the user's audience, and the user's other devices, that the
/// user's display name or avatar changed.
pub async fn announce_profile(app: &App, user_id: UserId) {
    let Some(user) = app.profile(user_id).await else { return };
    match audience(app, user_id).await {
        Ok(mut people) => {
            people.push(user_id);
            let online_people = app.hub.online_among(&people);
            app.hub.send_many(online_people, &ServerFrame::ProfileUpdated { user });
        }
        Err(err) => tracing::error!(%err, user_id, "profile: audience lookup failed"),
    }
}

/// The caller's conversations with their newest sequence numbers, cursors and unread counts.
pub async fn conversation_states(app: &App, user_id: UserId) -> StoreResult<Vec<ConversationState>> {
    let counts = app.store.conversation_counts(user_id).await?;
    let mut states = Vec::new();
    for membership in app.store.memberships(user_id).await? {
        let Some(members) = app.membership.get(&app.store, membership.conversation_id).await? else {
            continue;
        };
        let (last_seq, unread) = counts
            .iter()
            .find(|(id, _, _)| *id == membership.conversation_id)
            .map_or((0, 0), |(_, last, unread)| (*last, *unread));
        let peer_id = match members.kind {
            ConversationKind::Direct => members.user_ids().find(|id| *id != user_id),
            ConversationKind::Group => None,
        };
        states.push(ConversationState {
            conversation_id: membership.conversation_id,
            kind: members.kind,
            peer_id,
            last_seq,
            joined_seq: membership.joined_seq,
            delivered_seq: membership.delivered_seq,
            read_seq: membership.read_seq,
            unread,
            muted: membership.muted,
        });
    }
    Ok(states)
}

/// Friend requests as the wire shows them (rows whose users vanished are left out).
pub async fn friend_requests(app: &App, rows: Vec<FriendRequestRow>) -> StoreResult<Vec<FriendRequest>> {
    let ids: Vec<UserId> = rows.iter().flat_map(|r| [r.from_id, r.to_id]).collect();
    let users = app.store.users_by_ids(ids).await?;
    let profile = |id| users.iter().find(|u| u.id == id).map(profile_of);
    Ok(rows
        .into_iter()
        .filter_map(|r| {
            Some(FriendRequest {
                id: r.id,
                from: profile(r.from_id)?,
                to: profile(r.to_id)?,
                message: r.message,
                created_at: r.created_at,
            })
        })
        .collect())
}

/// The `sync_state` frame sent right after `welcome`.
pub async fn sync_state(app: &App, user_id: UserId) -> StoreResult<ServerFrame> {
    let conversations = conversation_states(app, user_id).await?;
    let incoming = app.store.friend_requests_of(user_id, true).await?;
    let friend_requests = friend_requests(app, incoming).await?;
    let group_requests = crate::http::pending_group_requests(app, user_id).await?;
    Ok(ServerFrame::SyncState { conversations, friend_requests, group_requests })
}

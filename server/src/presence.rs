//! Presence: who is told when a user comes online, goes offline or changes their profile.
//!
//! A user's audience is everyone who shares a conversation with them: their friends and the
//! members of their groups. When the user's first connection opens or the last one closes,
//! each online member of that audience receives a `presence` frame.

use crate::app::App;
use crate::store::StoreResult;
use kith_shared::api::ConversationId;
use kith_shared::codec::to_json;
use kith_shared::{ServerFrame, UserId};
use std::collections::BTreeSet;

/// Everyone who shares a conversation with `user_id`.
async fn audience(app: &App, user_id: UserId) -> StoreResult<Vec<UserId>> {
    let conversations: Vec<ConversationId> =
        app.store.memberships(user_id).await?.iter().map(|m| m.conversation_id).collect();
    audience_in(app, user_id, &conversations).await
}

/// Everyone but `user_id` in these conversations (members from the membership cache).
async fn audience_in(
    app: &App,
    user_id: UserId,
    conversations: &[ConversationId],
) -> StoreResult<Vec<UserId>> {
    let mut people = BTreeSet::new();
    for &conversation_id in conversations {
        if let Some(members) = app.membership.get(&app.store, conversation_id).await? {
            people.extend(members.user_ids().filter(|id| *id != user_id));
        }
    }
    Ok(people.into_iter().collect())
}

/// Tells the online part of the user's audience, on every node, that the user came online or
/// went offline.
pub async fn announce(app: &App, user_id: UserId, online: bool) {
    match audience(app, user_id).await {
        Ok(people) => app.hub.send_many(people, &ServerFrame::Presence { user_id, online }),
        Err(err) => tracing::error!(%err, user_id, "presence: audience lookup failed"),
    }
}

/// Tells the user's audience connected to this node that the user went offline: another node
/// on which the user was connected went silent (`crate::bus`); every node tells its own.
pub async fn went_offline_here(app: &App, user_id: UserId) {
    match audience(app, user_id).await {
        Ok(people) => {
            let json = to_json(&ServerFrame::Presence { user_id, online: false });
            app.hub.deliver_here(&people, None, &json);
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
            app.hub.send_many(people, &ServerFrame::ProfileUpdated { user });
        }
        Err(err) => tracing::error!(%err, user_id, "profile: audience lookup failed"),
    }
}

/// A connection opened: when it is the user's first (`came_online`), their audience is told;
/// returns `presence` frames for the members of the audience online now, which the new
/// connection receives after `sync_state`, so that a client knows who is online without
/// another request.
///
/// `conversations` are the user's, as the `sync_state` just made lists them: no second query.
pub async fn arrived(
    app: &App,
    user_id: UserId,
    conversations: &[ConversationId],
    came_online: bool,
) -> Vec<ServerFrame> {
    let people = match audience_in(app, user_id, conversations).await {
        Ok(people) => people,
        Err(err) => {
            tracing::error!(%err, user_id, "presence: audience lookup failed");
            return Vec::new();
        }
    };
    if came_online {
        app.hub.send_many(people.iter().copied(), &ServerFrame::Presence { user_id, online: true });
    }
    let online = app.hub.online_among(&people);
    online.into_iter().map(|user_id| ServerFrame::Presence { user_id, online: true }).collect()
}

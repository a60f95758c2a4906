//! What a client catches up with: the state sent on connect (`sync_state`), the
//! conversation list with cursors and unread counts, history pages and members' cursors.

use crate::app::App;
use crate::error::Refusal;
use crate::store::{MemberRow, StoreResult};
use crate::wire::message_of;
use kith_shared::api::{
    ConversationId, ConversationKind, ConversationPrefs, ConversationState, HistoryPage, MemberCursor,
    UpdateConversation,
};
use kith_shared::{ServerFrame, UserId};

/// The caller's conversations with their newest sequence numbers, cursors and unread counts.
pub async fn conversation_states(app: &App, user_id: UserId) -> StoreResult<Vec<ConversationState>> {
    let counts: std::collections::HashMap<ConversationId, (i64, i64)> = app
        .store
        .conversation_counts(user_id)
        .await?
        .into_iter()
        .map(|(id, last, unread)| (id, (last, unread)))
        .collect();
    let hidden = app.store.hidden_counts(user_id).await?;
    let memberships = app.store.memberships(user_id).await?;
    let ids: Vec<ConversationId> = memberships.iter().map(|m| m.conversation_id).collect();
    app.membership.load_many(&app.store, &ids).await?;
    let mut states = Vec::with_capacity(memberships.len());
    for membership in memberships {
        let Some(members) = app.membership.get(&app.store, membership.conversation_id).await? else {
            continue;
        };
        let (last_seq, unread) = counts.get(&membership.conversation_id).copied().unwrap_or((0, 0));
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
            pinned: membership.pinned,
            archived: membership.archived,
            marked_unread: membership.marked_unread,
            hidden: hidden.get(&membership.conversation_id).copied().unwrap_or(0),
        });
    }
    Ok(states)
}

/// The `sync_state` frame sent right after `welcome`.
pub async fn sync_state(app: &App, user_id: UserId) -> StoreResult<ServerFrame> {
    let conversations = conversation_states(app, user_id).await?;
    let friend_requests = crate::friends::incoming(app, user_id).await?;
    let pending = crate::groups::pending_requests(app, user_id).await?;
    let group_requests = pending.applications.into_iter().chain(pending.invitations).collect();
    Ok(ServerFrame::SyncState { conversations, friend_requests, group_requests })
}

/// The caller's membership of a conversation, or 403 (a former friend or member included:
/// history ends with the membership).
async fn membership(
    app: &App,
    conversation_id: ConversationId,
    caller: UserId,
) -> Result<MemberRow, Refusal> {
    app.store
        .member(conversation_id, caller)
        .await?
        .ok_or_else(|| Refusal::forbidden("you are not in this conversation"))
}

/// A page of history: after `after` (oldest first) or before `before` (newest first), at most
/// `limit`, never older than the caller's join.
pub async fn history(
    app: &App,
    caller: UserId,
    id: ConversationId,
    after: Option<i64>,
    before: Option<i64>,
    limit: u32,
) -> Result<HistoryPage, Refusal> {
    if after.is_some_and(|seq| seq < 0) || before.is_some_and(|seq| seq < 0) {
        return Err(Refusal::malformed("after and before are sequence numbers, 0 or more"));
    }
    let member = membership(app, id, caller).await?;
    let limit = u64::from(limit);
    // One more than asked tells whether there is more.
    let mut rows = app.store.history(caller, id, after, before, member.joined_seq, limit + 1).await?;
    let more = rows.len() as u64 > limit;
    rows.truncate(limit as usize);
    let mut messages: Vec<_> = rows
        .iter()
        .map(|row| {
            let mut message = message_of(row);
            // A mention of the caller counts as unmuted, as when it was pushed.
            message.muted = member.muted && !message.content.mentions(caller);
            message
        })
        .collect();
    if let (Some(first), Some(last)) = (rows.iter().map(|r| r.seq).min(), rows.iter().map(|r| r.seq).max()) {
        let reactions = app.store.reactions_between(id, first, last).await?;
        crate::messages::reactions::attach_reactions(&mut messages, reactions);
    }
    Ok(HistoryPage { messages, more })
}

/// Every member's delivered and read cursors (members only).
pub async fn receipts(app: &App, caller: UserId, id: ConversationId) -> Result<Vec<MemberCursor>, Refusal> {
    membership(app, id, caller).await?;
    let members = app.store.members(id).await?;
    Ok(members
        .iter()
        .map(|m| MemberCursor { user_id: m.user_id, delivered_seq: m.delivered_seq, read_seq: m.read_seq })
        .collect())
}

/// Changes how the caller's lists show a conversation, and tells the caller's connections
/// (their other devices) with `conversation_updated`. Only members may (`forbidden`).
pub async fn update_prefs(
    app: &App,
    caller: UserId,
    id: ConversationId,
    change: &UpdateConversation,
) -> Result<ConversationPrefs, Refusal> {
    app.store.set_conversation_prefs(id, caller, change).await?;
    // Read back: members only (else `forbidden`), and the state after the change.
    let row = membership(app, id, caller).await?;
    let prefs =
        ConversationPrefs { pinned: row.pinned, archived: row.archived, marked_unread: row.marked_unread };
    app.hub.send(caller, &ServerFrame::ConversationUpdated { conversation_id: id, prefs });
    Ok(prefs)
}

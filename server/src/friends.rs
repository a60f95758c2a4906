//! Friends: user search, friend requests and the friend list. Every change is pushed over
//! the socket to both people concerned, and a friendship that ends leaves the membership
//! cache at once, so that no message reaches a former friend. Requests from someone the
//! addressee blocks stay hidden from the addressee (see [`crate::blocks`]).

use crate::app::App;
use crate::error::{Refusal, on_unique};
use crate::store::{FriendRequestRow, StoreResult};
use crate::wire::profile_of;
use kith_shared::api::{
    Friend, FriendRequest, FriendRequestOutcome, FriendRequests, Role, UserProfile, UserSearchHit, limits,
};
use kith_shared::{ErrorCode, ServerFrame, UserId};

/// A verification message: trimmed, at most [`limits::REQUEST_MESSAGE_MAX`] characters, no
/// control characters but line breaks and tabs.
pub fn request_message(raw: &str) -> Result<String, Refusal> {
    free_text(raw, limits::REQUEST_MESSAGE_MAX, "the message")
}

/// Free text with line breaks allowed: at most `max` characters after trimming.
pub fn free_text(raw: &str, max: usize, what: &str) -> Result<String, Refusal> {
    let text = raw.trim();
    if text.chars().count() > max {
        return Err(Refusal::invalid(format!("{what} has at most {max} characters")));
    }
    if text.chars().any(|c| c.is_control() && !matches!(c, '\n' | '\t')) {
        return Err(Refusal::invalid(format!(
            "{what} may not hold control characters other than line breaks and tabs"
        )));
    }
    Ok(text.to_owned())
}

/// Users whose name contains `text`, the caller left out, each marked if a friend.
pub async fn search(
    app: &App,
    caller: UserId,
    text: &str,
    offset: u64,
    limit: u64,
) -> Result<Vec<UserSearchHit>, Refusal> {
    let text = text.trim();
    // No user name or display name holds a control character (nor can PostgreSQL compare
    // text with a NUL): such a search finds no one.
    if text.is_empty() || text.chars().any(char::is_control) {
        return Ok(Vec::new());
    }
    let users = app.store.search_users(text, caller, offset, limit).await?;
    let friends: Vec<UserId> = app.store.friends_of(caller).await?.iter().map(|(u, _)| u.id).collect();
    Ok(users
        .iter()
        .map(|u| UserSearchHit { user: profile_of(u), is_friend: friends.contains(&u.id) })
        .collect())
}

/// Anyone's public profile.
pub async fn profile(app: &App, id: UserId) -> Result<UserProfile, Refusal> {
    app.profile(id).await.ok_or_else(|| Refusal::not_found("no such user"))
}

/// The caller's friends with their online status.
pub async fn list(app: &App, caller: UserId) -> Result<Vec<Friend>, Refusal> {
    let friends = app.store.friends_of(caller).await?;
    Ok(friends
        .iter()
        .map(|(user, conversation_id)| Friend {
            user: profile_of(user),
            online: app.hub.is_online(user.id),
            conversation_id: *conversation_id,
        })
        .collect())
}

/// Ends a friendship on both sides and tells both.
pub async fn remove(app: &App, caller: UserId, user_id: UserId) -> Result<(), Refusal> {
    let not_friends = || Refusal::not_found("this user is not your friend");
    let conversation = app.store.find_direct_conversation(caller, user_id).await?.ok_or_else(not_friends)?;
    if !app.store.remove_member(conversation, caller).await? {
        return Err(not_friends());
    }
    app.store.remove_member(conversation, user_id).await?;
    app.membership.invalidate(conversation);
    app.hub.send(caller, &ServerFrame::FriendRemoved { user_id });
    app.hub.send(user_id, &ServerFrame::FriendRemoved { user_id: caller });
    Ok(())
}

/// Pending requests to and from the caller.
pub async fn requests(app: &App, caller: UserId) -> Result<FriendRequests, Refusal> {
    let incoming = unblocked(app, caller, app.store.friend_requests_of(caller, true).await?).await?;
    let outgoing = app.store.friend_requests_of(caller, false).await?;
    Ok(FriendRequests {
        incoming: friend_requests(app, incoming).await?,
        outgoing: friend_requests(app, outgoing).await?,
    })
}

/// Requests addressed to the user (what `sync_state` lists).
pub async fn incoming(app: &App, user_id: UserId) -> StoreResult<Vec<FriendRequest>> {
    let rows = unblocked(app, user_id, app.store.friend_requests_of(user_id, true).await?).await?;
    friend_requests(app, rows).await
}

/// Incoming requests without those from users the addressee blocks.
async fn unblocked(
    app: &App,
    addressee: UserId,
    rows: Vec<FriendRequestRow>,
) -> StoreResult<Vec<FriendRequestRow>> {
    if rows.is_empty() {
        return Ok(rows);
    }
    let blocked: Vec<UserId> = app.store.blocks_of(addressee).await?.iter().map(|b| b.blocked_id).collect();
    Ok(rows.into_iter().filter(|r| !blocked.contains(&r.from_id)).collect())
}

/// A stored request as its addressee receives it (`None` when one of the two is gone).
pub async fn request_as_sent(app: &App, row: FriendRequestRow) -> StoreResult<Option<FriendRequest>> {
    Ok(friend_requests(app, vec![row]).await?.pop())
}

/// Friend requests as the wire shows them (rows whose users vanished are left out).
async fn friend_requests(app: &App, rows: Vec<FriendRequestRow>) -> StoreResult<Vec<FriendRequest>> {
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

/// Asks `to` to be friends: a pending request, or at once friends when `to` had already
/// asked the caller. Every attempt counts towards the caller's FRIEND_REQUESTS_PER_HOUR.
/// When `to` blocks the caller the request is stored and answered as pending, but `to` is
/// not told (see [`crate::blocks`]).
pub async fn ask(
    app: &App,
    caller: UserId,
    to: UserId,
    message: &str,
) -> Result<FriendRequestOutcome, Refusal> {
    let key = caller.to_string();
    if app.friend_requests.is_blocked(&key, app.config.friend_requests_per_hour) {
        return Err(Refusal::new(
            ErrorCode::RateLimited,
            "too many friend requests in an hour; try again later",
        ));
    }
    app.friend_requests.record_failure(&key);
    let message = request_message(message)?;
    if to == caller {
        return Err(Refusal::invalid("you cannot send a friend request to yourself"));
    }
    if app.store.user_by_id(to).await?.is_none() {
        return Err(Refusal::not_found("no such user"));
    }
    if app.store.are_friends(caller, to).await? {
        return Err(Refusal::new(ErrorCode::AlreadyFriends, "you are friends already"));
    }
    if app.store.blocks(caller, to).await? {
        return Err(Refusal::forbidden("you have blocked this user: unblock them first"));
    }
    let hidden = app.store.blocks(to, caller).await?;
    if !hidden && let Some(theirs) = app.store.friend_request_between(to, caller).await? {
        // They asked first: this request answers theirs.
        app.store.delete_friend_request(theirs.id).await?;
        let friend = befriend(app, caller, to).await?;
        return Ok(FriendRequestOutcome::BecameFriends { friend });
    }
    let id = app.store.create_friend_request(caller, to, &message).await.map_err(|err| {
        on_unique(err, ErrorCode::DuplicateRequest, "you have already asked this user; wait for the answer")
    })?;
    let request = pending_request(app, id).await?;
    if !hidden {
        app.hub.send(to, &ServerFrame::FriendRequestReceived { request: request.clone() });
    }
    Ok(FriendRequestOutcome::Pending { request })
}

async fn pending_request(app: &App, id: i64) -> Result<FriendRequest, Refusal> {
    let row = app.store.friend_request(id).await?.ok_or_else(request_gone)?;
    friend_requests(app, vec![row]).await?.pop().ok_or_else(request_gone)
}

fn request_gone() -> Refusal {
    Refusal::not_found("no such friend request")
}

/// Makes two users friends and tells both. Returns `b` as `a`'s new friend.
async fn befriend(app: &App, a: UserId, b: UserId) -> Result<Friend, Refusal> {
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
        return Err(Refusal::not_found("no such user"));
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
) -> Result<FriendRequestRow, Refusal> {
    let row = app.store.friend_request(id).await?.ok_or_else(request_gone)?;
    let allowed = if as_addressee { row.to_id == caller } else { row.from_id == caller };
    if !allowed {
        let who = if as_addressee { "only its addressee answers" } else { "only its sender withdraws" };
        return Err(Refusal::forbidden(format!("this friend request is not yours: {who} it")));
    }
    if as_addressee && app.store.blocks(caller, row.from_id).await? {
        // Hidden from its addressee while they block its sender.
        return Err(request_gone());
    }
    Ok(row)
}

/// The addressee accepts; both become friends. Returns the requester as the new friend.
pub async fn accept(app: &App, caller: UserId, id: i64) -> Result<Friend, Refusal> {
    let row = request_for(app, id, caller, true).await?;
    if !app.store.delete_friend_request(row.id).await? {
        return Err(request_gone());
    }
    befriend(app, caller, row.from_id).await
}

/// The addressee refuses; the requester is told.
pub async fn refuse(app: &App, caller: UserId, id: i64) -> Result<(), Refusal> {
    let row = request_for(app, id, caller, true).await?;
    if app.store.delete_friend_request(row.id).await? {
        app.hub.send(row.from_id, &ServerFrame::FriendRequestRefused { request_id: row.id, by: caller });
    }
    Ok(())
}

/// The sender withdraws the request; the addressee is told.
pub async fn withdraw(app: &App, caller: UserId, id: i64) -> Result<(), Refusal> {
    let row = request_for(app, id, caller, false).await?;
    if app.store.delete_friend_request(row.id).await? && !app.store.blocks(row.to_id, caller).await? {
        app.hub.send(row.to_id, &ServerFrame::FriendRequestCancelled { request_id: row.id });
    }
    Ok(())
}

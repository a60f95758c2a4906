//! The session without a window: frames in, receipts and sends out, the cache and the roster
//! kept in step.

use super::*;
use crate::history::Delivery;
use kith_shared::ServerFrame;
use kith_shared::api::{ConversationKind, ConversationState, GroupProfile, HistoryPage, Role};
use kith_shared::frame::{LeaveReason, Target};

pub(crate) fn login() -> LoggedIn {
    let address = ServerAddress::parse("127.0.0.1:8000", "").expect("valid");
    LoggedIn {
        api: Api::new(&address, &crate::trust::Trust::in_memory()).with_token("token".into()),
        address,
        user: UserProfile { id: 7, username: "alice".into(), display_name: "Alice".into(), avatar_url: None },
    }
}

pub(crate) fn bob() -> Friend {
    Friend {
        user: UserProfile { id: 8, username: "bob".into(), display_name: "Bob".into(), avatar_url: None },
        online: true,
        conversation_id: 10,
    }
}

/// A session with Bob as a friend and a live (stub) connection, and the frames it sends.
pub(crate) fn connected() -> (Session, tokio::sync::mpsc::Receiver<ClientFrame>) {
    let (mut session, _) = Session::new(login(), None);
    let (connection, frames) = Connection::stub(16);
    let user = session.user.clone();
    let _ = session.socket(socket::Event::Connected { connection, user, limits: socket::Limits::default() });
    session.roster.set_friends(vec![bob()]);
    (session, frames)
}

pub(crate) fn text_from_bob(seq: i64) -> ChatMessage {
    ChatMessage {
        id: 100 + seq,
        conversation_id: 10,
        seq,
        sender_id: Some(8),
        client_id: Some(format!("b{seq}")),
        sent_at: 1_800_000_000_000,
        content: Content::text(format!("hi {seq}")),
        edited_at: None,
        reactions: Vec::new(),
        forwarded_from: None,
        muted: false,
    }
}

fn pushed(session: &mut Session, frame: ServerFrame) -> Vec<Event> {
    session.socket(socket::Event::Received(frame)).1
}

/// A `sync_state` listing one conversation.
pub(crate) fn sync_with(
    conversation_id: ConversationId,
    kind: ConversationKind,
    last_seq: i64,
    read_seq: i64,
) -> ServerFrame {
    let peer_id = (kind == ConversationKind::Direct).then_some(8);
    let state = ConversationState {
        conversation_id,
        kind,
        peer_id,
        last_seq,
        joined_seq: 0,
        delivered_seq: read_seq,
        read_seq,
        unread: last_seq - read_seq,
        muted: false,
        pinned: false,
        archived: false,
        marked_unread: false,
        hidden: 0,
    };
    ServerFrame::SyncState { conversations: vec![state], friend_requests: vec![], group_requests: vec![] }
}

fn receipts(frames: &mut tokio::sync::mpsc::Receiver<ClientFrame>) -> Vec<(ReceiptKind, i64)> {
    std::iter::from_fn(|| frames.try_recv().ok())
        .filter_map(|frame| match frame {
            ClientFrame::Receipt { conversation_id: 10, kind, seq } => Some((kind, seq)),
            _ => None,
        })
        .collect()
}

pub(crate) fn group(id: GroupId, name: &str) -> MyGroup {
    MyGroup {
        group: GroupProfile {
            id,
            name: name.into(),
            description: String::new(),
            owner_id: 8,
            member_count: 3,
            created_at: 0,
            announcement: None,
            avatar_url: None,
        },
        role: Role::Member,
        muted: false,
    }
}

#[test]
fn the_outbox_releases_messages_in_the_order_they_were_sent() {
    let mut outbox = Outbox::default();
    let numbers: Vec<u64> = (0..4).map(|_| outbox.number()).collect();
    let text = |stored: &StoredMessage| match &stored.content {
        Content::Text { text, .. } => text.clone(),
        _ => String::new(),
    };
    let message = |n: i64| crate::tests::stored(n, 7, 0, &format!("line {n}"));
    // The writes finish out of order; the second one fails.
    assert!(outbox.written(numbers[2], Some(message(2))).is_empty(), "the first is not written yet");
    assert!(outbox.written(numbers[1], None).is_empty());
    let released: Vec<String> = outbox.written(numbers[0], Some(message(0))).iter().map(text).collect();
    assert_eq!(released, ["line 0", "line 2"], "in order, the failed one left out");
    let released: Vec<String> = outbox.written(numbers[3], Some(message(3))).iter().map(text).collect();
    assert_eq!(released, ["line 3"]);
}

#[test]
fn sends_go_out_in_order_once_written_and_a_failed_write_is_said() {
    let (mut session, mut frames) = connected();
    let outgoing = |n: i64| StoredMessage {
        client_id: Some(format!("c{n}")),
        delivery: Delivery::Pending,
        ..crate::tests::stored(n, 7, 0, &format!("line {n}"))
    };
    // Three sends numbered 0, 1, 2 by the outbox; their cache writes answer out of order.
    session.cache = Cache::Unavailable;
    for _ in 0..3 {
        let _ = session.outbox.number();
    }
    let (_, events) = session.update(Message::Outgoing(1, Err("disk full".into())));
    assert!(matches!(events.as_slice(), [Event::Problem(words)] if words.contains("disk full")));
    let (_, events) = session.update(Message::Outgoing(2, Ok(outgoing(2))));
    assert!(events.is_empty() && frames.try_recv().is_err(), "waits for the first");
    let (_, events) = session.update(Message::Outgoing(0, Ok(outgoing(0))));
    assert_eq!(events, [Event::Changed(10)]);
    let sent: Vec<String> = std::iter::from_fn(|| frames.try_recv().ok())
        .filter_map(|frame| match frame {
            ClientFrame::Send { client_id, .. } => Some(client_id),
            _ => None,
        })
        .collect();
    assert_eq!(sent, ["c0", "c2"]);
}

#[test]
fn a_lost_connection_greys_presence_and_reconnect_now_starts_a_new_session() {
    let (mut session, _frames) = connected();
    assert!(session.roster.friends[&8].online);
    let before = session.socket_params().expect("a session");
    let (_, events) = session
        .socket(socket::Event::Disconnected { reason: "refused".into(), retry_in: Duration::from_secs(8) });
    assert!(events.is_empty());
    assert!(!session.roster.friends[&8].online, "no stale green dot while away");
    assert_eq!(session.status.describe(), "Offline, reconnecting in 8 s");
    assert!(session.connection.is_none());
    session.reconnect_now();
    assert_ne!(Some(before), session.socket_params(), "a new socket session connects at once");
    assert_eq!(session.status, Status::Connecting);
}

#[test]
fn friends_added_during_the_session_are_kept_for_offline_browsing() {
    let (mut session, _frames) = connected();
    let dir = tempfile::tempdir().expect("a temp dir");
    let path = dir.path().join("snapshot.json");
    session.snapshot_path = Some(path.clone());
    let carol = Friend {
        user: UserProfile { id: 9, username: "carol".into(), display_name: "Carol".into(), avatar_url: None },
        online: true,
        conversation_id: 11,
    };
    let events = pushed(&mut session, ServerFrame::FriendAdded { friend: carol });
    assert_eq!(events, [Event::PeopleChanged], "their pictures are fetched");
    let saved = Snapshot::load(&path).expect("readable").expect("written");
    assert!(saved.friends.iter().any(|f| f.user.id == 9), "carol is in the offline lists");
}

/// The lists asked for at connect may be read on the server before a change pushed while
/// they are on their way: the change stays once they arrive.
#[test]
fn changes_pushed_while_the_lists_are_fetched_survive_their_answers() {
    let (mut session, _frames) = connected();
    pushed(&mut session, sync_with(10, ConversationKind::Direct, 0, 0));
    let carol =
        UserProfile { id: 9, username: "carol".into(), display_name: "Carol".into(), avatar_url: None };
    let blocked = BlockedUser { user: carol, blocked_at: 1_800_000_000_000 };
    pushed(&mut session, ServerFrame::UserBlocked { blocked: blocked.clone() });
    let dave = Friend {
        user: UserProfile { id: 11, username: "dave".into(), display_name: "Dave".into(), avatar_url: None },
        online: true,
        conversation_id: 12,
    };
    pushed(&mut session, ServerFrame::FriendAdded { friend: dave });
    pushed(&mut session, ServerFrame::GroupJoined { group: group(30, "Club") });

    let _ = session.update(Message::BlocksLoaded(Ok(Vec::new())));
    let _ = session.update(Message::FriendsLoaded(Ok(vec![bob()])));
    let _ = session.update(Message::GroupsLoaded(Ok(Vec::new())));
    assert_eq!(session.roster.blocked, Some(vec![blocked]), "the block made on another device");
    assert!(session.roster.blocks(9));
    let friends: Vec<&str> = session.roster.friends.values().map(|f| f.user.username.as_str()).collect();
    assert_eq!(friends, ["bob", "dave"]);
    assert!(session.roster.groups.contains_key(&30));
}

#[test]
fn removal_from_a_group_or_its_dissolution_is_said() {
    let (mut session, _frames) = connected();
    session.roster.set_groups(vec![group(30, "Club"), group(31, "Choir"), group(32, "Band")]);
    let left = |group_id, reason| ServerFrame::GroupLeft { group_id, reason };
    let said = |group_id, notice: &str| vec![Event::GroupLeft { group_id, notice: Some(notice.to_owned()) }];
    assert_eq!(pushed(&mut session, left(30, LeaveReason::Removed)), said(30, "You were removed from Club."));
    assert_eq!(
        pushed(&mut session, left(31, LeaveReason::Dissolved)),
        said(31, "Choir was dissolved by its owner.")
    );
    let own = pushed(&mut session, left(32, LeaveReason::Left));
    assert_eq!(own, [Event::GroupLeft { group_id: 32, notice: None }], "leaving is one's own doing");
    assert!(session.roster.groups.is_empty());
}

#[test]
fn an_ended_friendship_closes_its_chat() {
    let (mut session, _frames) = connected();
    let _ = pushed(&mut session, sync_with(10, ConversationKind::Direct, 0, 0));
    let _ = session.open(Some(10));
    let events = pushed(&mut session, ServerFrame::FriendRemoved { user_id: 8 });
    assert_eq!(events, [Event::Unfriended(10)]);
    assert_eq!(session.roster.open, None);
}

#[test]
fn a_group_known_only_from_sync_state_gets_its_members_fetched() {
    let (mut session, _frames) = connected();
    let _ = pushed(&mut session, sync_with(30, ConversationKind::Group, 0, 0));
    assert!(session.roster.groups.is_empty(), "the group list has not arrived");
    assert_eq!(session.load_members(30).units(), 1, "the members are fetched all the same");
    assert_eq!(session.load_members(10).units(), 0, "a one-to-one chat has no member list");
}

#[test]
fn messages_in_the_open_chat_are_reported_read_and_others_delivered() {
    let (mut session, mut frames) = connected();
    let events = pushed(&mut session, ServerFrame::Message { message: text_from_bob(1) });
    assert!(events.iter().any(|e| matches!(e, Event::Alert { body, .. } if body == "hi 1")));
    assert!(events.contains(&Event::Arrived(text_from_bob(1))));
    assert_eq!(receipts(&mut frames), [(ReceiptKind::Delivered, 1)], "held, not shown");
    assert_eq!(session.roster.unread(10), 1);

    let _ = session.open(Some(10));
    assert_eq!(receipts(&mut frames), [(ReceiptKind::Read, 1)], "opening the chat reads it");
    let _ = pushed(&mut session, ServerFrame::Message { message: text_from_bob(2) });
    assert_eq!(receipts(&mut frames), [(ReceiptKind::Read, 2)], "shown at once in the open chat");
    assert_eq!(session.roster.unread(10), 0);

    // Back from a reconnect with news in the open chat: read at once.
    let _ = pushed(&mut session, sync_with(10, ConversationKind::Direct, 4, 2));
    assert_eq!(receipts(&mut frames), [(ReceiptKind::Read, 4)]);

    // What a catch-up fetched is delivered, up to the cache's cursor.
    let _ = session.open(None);
    let (_, events) = session.update(Message::CaughtUp(10, Ok(6)));
    assert_eq!(events, [Event::Changed(10)]);
    assert_eq!(receipts(&mut frames), [(ReceiptKind::Delivered, 6)]);
}

#[test]
fn in_chinese_removals_requests_and_typing_are_said_in_chinese() {
    crate::i18n::set(crate::i18n::Lang::Chinese);
    let (mut session, _frames) = connected();
    session.roster.set_groups(vec![group(30, "Club"), group(31, "Choir")]);
    let left = |group_id, reason| ServerFrame::GroupLeft { group_id, reason };
    let said = |group_id, notice: &str| vec![Event::GroupLeft { group_id, notice: Some(notice.to_owned()) }];
    assert_eq!(pushed(&mut session, left(30, LeaveReason::Removed)), said(30, "你已被移出“Club”。"));
    assert_eq!(pushed(&mut session, left(31, LeaveReason::Dissolved)), said(31, "“Choir”已被群主解散。"));
    let typing = |user_id| ServerFrame::Typing { conversation_id: 10, user_id };
    let _ = pushed(&mut session, typing(8));
    assert_eq!(session.typing_line(10).as_deref(), Some("Bob 正在输入…"));
    let _ = pushed(&mut session, typing(9));
    assert_eq!(session.typing_line(10).as_deref(), Some("Bob 和 用户 9 正在输入…"));
    crate::i18n::set(crate::i18n::Lang::English);
}

#[test]
fn typing_is_shown_until_it_expires_or_the_message_arrives() {
    let (mut session, _frames) = connected();
    let typing = |user_id| ServerFrame::Typing { conversation_id: 10, user_id };
    let _ = pushed(&mut session, typing(7));
    assert_eq!(session.typing_line(10), None, "one's own typing on another device is not shown");
    let _ = pushed(&mut session, typing(8));
    assert_eq!(session.typing_line(10).as_deref(), Some("Bob is typing…"));
    let _ = pushed(&mut session, typing(9));
    assert_eq!(session.typing_line(10).as_deref(), Some("Bob and User 9 are typing…"));

    let seen = session.typing[&10][&8];
    session.tick(seen + Duration::from_secs(1));
    assert!(session.typing_line(10).is_some());
    session.tick(seen + TYPING_SHOWN + Duration::from_secs(1));
    assert_eq!(session.typing_line(10), None);
    assert!(session.typing.is_empty());

    let _ = pushed(&mut session, typing(8));
    let _ = pushed(&mut session, ServerFrame::Message { message: text_from_bob(1) });
    assert_eq!(session.typing_line(10), None, "the message ends the typing");
}

#[test]
fn messages_written_while_the_cache_opens_wait_for_it() {
    let (mut session, mut frames) = connected();
    session.cache = Cache::Opening { unsaved: Vec::new() };
    let early = Content::text("early");
    assert!(session.send(10, early.clone()).is_ok());
    assert!(frames.try_recv().is_err(), "not sent before it is kept");
    assert!(matches!(&session.cache, Cache::Opening { unsaved } if unsaved == &[(10, early.clone())]));
    // Without a cache after all, it goes straight out.
    let _ = session.update(Message::HistoryOpened(Err("disk full".into())));
    assert!(matches!(session.cache, Cache::Unavailable));
    assert!(matches!(frames.try_recv(), Ok(ClientFrame::Send { content, .. }) if content == early));
}

#[test]
fn a_send_that_cannot_go_says_why() {
    let (mut session, _frames) = connected();
    let text = || Content::text("hi");
    let Err(err) = session.send(99, text()) else { panic!("no such conversation") };
    assert_eq!(err, "You can no longer write in this conversation.");
    session.connection = None;
    let Err(err) = session.send(10, text()) else { panic!("nowhere to keep it") };
    assert!(err.starts_with("Not sent: there is no connection"));
}

#[test]
fn a_refused_message_is_said_in_the_chat() {
    let (mut session, _frames) = connected();
    let refusal = ServerFrame::error(ErrorCode::RecallExpired, "messages can be recalled for 120 seconds");
    let events = pushed(&mut session, refusal);
    assert!(matches!(events.as_slice(), [Event::Problem(words)] if words.contains("120 seconds")));
}

#[test]
fn kicked_elsewhere_ends_the_session_with_the_reason() {
    let (mut session, _) = Session::new(login(), None);
    let (_, events) = session.socket(socket::Event::Kicked {
        reason: KickReason::LoggedInElsewhere,
        message: "this account logged in elsewhere".into(),
    });
    let body = "This account logged in elsewhere.".to_owned();
    assert_eq!(events, [Event::Ended { title: "Logged out".into(), body }]);
}

#[test]
fn a_refused_token_ends_the_session() {
    let (mut session, _) = Session::new(login(), None);
    let (_, events) =
        session.socket(socket::Event::Refused { code: ErrorCode::Unauthorized, message: "expired".into() });
    assert!(matches!(events.as_slice(), [Event::Ended { body, .. }] if body.contains("Log in again")));
}

#[test]
fn logging_out_stops_the_socket_then_reports() {
    let (mut session, _) = Session::new(login(), None);
    assert!(session.socket_params().is_some());
    let (_, events) = session.log_out();
    assert!(events.is_empty());
    assert!(session.socket_params().is_none(), "the subscription ends while logging out");
    let unreachable = ApiError::Unreachable { address: "x".into(), detail: "down".into() };
    let (_, events) = session.update(Message::LoggedOut(Err(unreachable)));
    assert_eq!(events, [Event::LoggedOut]);
}

/// Answers each HTTP request on `listener` with the JSON page for its `after=` cursor, and
/// records the cursors asked for.
async fn serve_history(
    listener: tokio::net::TcpListener,
    pages: Vec<HistoryPage>,
    asked: tokio::sync::mpsc::UnboundedSender<i64>,
) {
    use tokio::io::{AsyncReadExt, AsyncWriteExt};
    loop {
        let Ok((mut stream, _)) = listener.accept().await else { return };
        let mut request = vec![0u8; 4096];
        let Ok(n) = stream.read(&mut request).await else { continue };
        let request = String::from_utf8_lossy(&request[..n]).into_owned();
        if request.contains("/hidden ") {
            // The messages the user deleted for themselves: seq 4 (asked as -2).
            let _ = asked.send(-2);
            let body = r#"{"seqs":[4]}"#;
            let answer = format!(
                "HTTP/1.1 200 OK\r\ncontent-type: application/json\r\ncontent-length: {}\r\nconnection: close\r\n\r\n{body}",
                body.len()
            );
            let _ = stream.write_all(answer.as_bytes()).await;
            continue;
        }
        let after: i64 = request
            .split(['?', '&', ' '])
            .find_map(|part| part.strip_prefix("after="))
            .and_then(|v| v.parse().ok())
            .unwrap_or(-1);
        let _ = asked.send(after);
        let page = pages
            .iter()
            .find(|page| page.messages.first().is_some_and(|m| m.seq == after + 1))
            .cloned()
            .unwrap_or(HistoryPage { messages: vec![], more: false });
        let body = serde_json::to_string(&page).expect("json");
        let answer = format!(
            "HTTP/1.1 200 OK\r\ncontent-type: application/json\r\ncontent-length: {}\r\nconnection: close\r\n\r\n{body}",
            body.len()
        );
        let _ = stream.write_all(answer.as_bytes()).await;
    }
}

#[tokio::test]
async fn catching_up_fetches_what_the_cache_lacks_page_by_page() {
    let listener = tokio::net::TcpListener::bind("127.0.0.1:0").await.expect("a port");
    let port = listener.local_addr().expect("bound").port();
    let page = |seqs: std::ops::RangeInclusive<i64>, more| HistoryPage {
        messages: seqs.map(text_from_bob).collect(),
        more,
    };
    let (asked_tx, mut asked) = tokio::sync::mpsc::unbounded_channel();
    tokio::spawn(serve_history(listener, vec![page(3..=4, true), page(5..=6, false)], asked_tx));

    let address = ServerAddress::parse(&format!("127.0.0.1:{port}"), "").expect("valid");
    let api = Api::new(&address, &crate::trust::Trust::in_memory()).with_token("token".into());
    let dir = tempfile::tempdir().expect("a temp dir");
    let history = History::open(&dir.path().join("history.db")).await.expect("opens");
    for seq in 1..=2 {
        history.store(&text_from_bob(seq)).await.expect("stored");
    }
    // The server has six messages; the cache holds the first two.
    let cursor = sync::catch_up(api.clone(), history.clone(), 10, 0, 6, 0).await.expect("caught up");
    assert_eq!(cursor, 6, "every message after the cursor is in the cache now");
    assert_eq!(history.recent(10, 100).await.expect("read").len(), 6);
    let cursors: Vec<i64> = std::iter::from_fn(|| asked.try_recv().ok()).collect();
    assert_eq!(cursors, [2, 4], "two pages, each after the last one stored");

    // Nothing lacking: no request at all.
    let cursor = sync::catch_up(api, history, 10, 0, 6, 0).await.expect("caught up");
    assert_eq!(cursor, 6);
    assert!(asked.try_recv().is_err());
}

#[tokio::test]
async fn catching_up_drops_what_the_user_deleted_on_another_device() {
    let listener = tokio::net::TcpListener::bind("127.0.0.1:0").await.expect("a port");
    let port = listener.local_addr().expect("bound").port();
    // The server's history leaves out seq 4, deleted by the user.
    let page = HistoryPage { messages: [3, 5, 6].into_iter().map(text_from_bob).collect(), more: false };
    let (asked_tx, mut asked) = tokio::sync::mpsc::unbounded_channel();
    tokio::spawn(serve_history(listener, vec![page], asked_tx));

    let address = ServerAddress::parse(&format!("127.0.0.1:{port}"), "").expect("valid");
    let api = Api::new(&address, &crate::trust::Trust::in_memory()).with_token("token".into());
    let dir = tempfile::tempdir().expect("a temp dir");
    let history = History::open(&dir.path().join("history.db")).await.expect("opens");
    for seq in 1..=2 {
        history.store(&text_from_bob(seq)).await.expect("stored");
    }
    // The sync state counts one deleted message; the cache holds none as deleted.
    let cursor = sync::catch_up(api.clone(), history.clone(), 10, 0, 6, 1).await.expect("caught up");
    assert_eq!(cursor, 6, "the deleted message leaves no gap");
    let seqs: Vec<_> = history.recent(10, 100).await.expect("read").iter().filter_map(|m| m.seq).collect();
    assert_eq!(seqs, [1, 2, 3, 5, 6]);
    let cursors: Vec<i64> = std::iter::from_fn(|| asked.try_recv().ok()).collect();
    assert_eq!(cursors, [-2, 2], "the list of deleted messages first, then the history");

    // The counts match now: no request at all.
    assert_eq!(sync::catch_up(api, history, 10, 0, 6, 1).await.expect("caught up"), 6);
    assert!(asked.try_recv().is_err());
}

#[test]
fn an_edit_goes_out_as_an_edit_frame_and_neither_alerts_nor_counts() {
    let (mut session, mut frames) = connected();
    let edit = StoredMessage {
        client_id: Some("e1".into()),
        delivery: Delivery::Pending,
        content: Content::Text {
            text: "fixed".into(),
            reply_to: None,
            edit_of: Some(1),
            reaction_of: None,
            mentions: Default::default(),
        },
        ..crate::tests::stored(0, 7, 0, "")
    };
    let number = session.outbox.number();
    let _ = session.update(Message::Outgoing(number, Ok(edit)));
    assert_eq!(
        frames.try_recv().ok(),
        Some(ClientFrame::Edit { client_id: "e1".into(), conversation_id: 10, seq: 1, text: "fixed".into() })
    );
    let reply = StoredMessage {
        client_id: Some("r1".into()),
        delivery: Delivery::Pending,
        content: Content::Text {
            text: "sure".into(),
            reply_to: Some(1),
            edit_of: None,
            reaction_of: None,
            mentions: Default::default(),
        },
        ..crate::tests::stored(0, 7, 0, "")
    };
    let number = session.outbox.number();
    let _ = session.update(Message::Outgoing(number, Ok(reply.clone())));
    assert_eq!(
        frames.try_recv().ok(),
        Some(ClientFrame::Send {
            client_id: "r1".into(),
            to: Target::User { id: 8 },
            content: reply.content
        })
    );

    // Bob's edit of his message: no notification, no badge.
    let _ = pushed(&mut session, sync_with(10, ConversationKind::Direct, 1, 1));
    let bobs_edit = ChatMessage {
        content: Content::Text {
            text: "hi, fixed".into(),
            reply_to: None,
            edit_of: Some(1),
            reaction_of: None,
            mentions: Default::default(),
        },
        ..text_from_bob(2)
    };
    let events = pushed(&mut session, ServerFrame::Message { message: bobs_edit });
    assert!(!events.iter().any(|e| matches!(e, Event::Alert { .. })), "{events:?}");
    assert_eq!(session.roster.unread(10), 0);
}

#[test]
fn a_reaction_goes_out_as_a_react_frame_and_neither_alerts_nor_counts() {
    let (mut session, mut frames) = connected();
    let reaction_of = Some(kith_shared::frame::ReactionOf { seq: 1, on: false });
    let mine = StoredMessage {
        client_id: Some("x1".into()),
        delivery: Delivery::Pending,
        content: Content::Text {
            text: "👍".into(),
            reply_to: None,
            edit_of: None,
            reaction_of,
            mentions: Default::default(),
        },
        ..crate::tests::stored(0, 7, 0, "")
    };
    let number = session.outbox.number();
    let _ = session.update(Message::Outgoing(number, Ok(mine)));
    assert_eq!(
        frames.try_recv().ok(),
        Some(ClientFrame::React {
            client_id: "x1".into(),
            conversation_id: 10,
            seq: 1,
            emoji: "👍".into(),
            on: false
        })
    );

    // Bob's reaction to a message: no notification, no badge (so no sound either).
    let _ = pushed(&mut session, sync_with(10, ConversationKind::Direct, 1, 1));
    let reaction_of = Some(kith_shared::frame::ReactionOf { seq: 1, on: true });
    let bobs = ChatMessage {
        content: Content::Text {
            text: "❤️".into(),
            reply_to: None,
            edit_of: None,
            reaction_of,
            mentions: Default::default(),
        },
        ..text_from_bob(2)
    };
    let events = pushed(&mut session, ServerFrame::Message { message: bobs });
    assert!(!events.iter().any(|e| matches!(e, Event::Alert { .. })), "{events:?}");
    assert_eq!(session.roster.unread(10), 0);
}

#[test]
fn a_forward_is_sent_again_after_a_reconnect_until_the_server_answers() {
    let (mut session, mut frames) = connected();
    let forwards = |frames: &mut tokio::sync::mpsc::Receiver<ClientFrame>| -> Vec<ClientFrame> {
        std::iter::from_fn(|| frames.try_recv().ok())
            .filter(|f| matches!(f, ClientFrame::Forward { .. }))
            .collect()
    };
    session.forward(10, 3, 10).expect("Bob is a friend");
    session.forward(10, 4, 10).expect("Bob is a friend");
    let sent = forwards(&mut frames);
    assert_eq!(sent.len(), 2);
    let ClientFrame::Forward { client_id: first, conversation_id: 10, seq: 3, to: Target::User { id: 8 } } =
        &sent[0]
    else {
        panic!("a forward of message 3 to Bob: {sent:?}")
    };
    let ClientFrame::Forward { client_id: second, .. } = &sent[1] else { unreachable!() };

    // The first is stored; the second got no answer before the connection dropped.
    let ack = ServerFrame::Ack {
        client_id: first.clone(),
        message_id: 40,
        conversation_id: 10,
        seq: 9,
        sent_at: 1,
    };
    let _ = pushed(&mut session, ack);
    let _ = pushed(&mut session, sync_with(10, ConversationKind::Direct, 9, 9));
    let again = forwards(&mut frames);
    assert!(
        matches!(again.as_slice(), [ClientFrame::Forward { client_id, seq: 4, .. }] if client_id == second),
        "{again:?}"
    );

    // A refusal ends it too, and is said.
    let refusal = ServerFrame::Error {
        code: ErrorCode::NotFound,
        message: "no such message to forward".into(),
        reference: Some(second.clone()),
    };
    let events = pushed(&mut session, refusal);
    assert!(
        matches!(events.as_slice(), [Event::Problem(words)] if words.starts_with("Not forwarded")),
        "{events:?}"
    );
    let _ = pushed(&mut session, sync_with(10, ConversationKind::Direct, 9, 9));
    assert!(forwards(&mut frames).is_empty());
    assert_eq!(session.forward(10, 1, 99), Err("You can no longer write to Conversation 99.".to_owned()));
}

//! One-to-one messaging end to end: store and forward, order, resends, reconnects,
//! receipts, typing, recall, a killed server, and every refused case.

mod common;

use common::{Backend, TestServer, TestSocket};
use kith_server::config::Config;
use kith_shared::frame::{ChatMessage, Content, ReceiptKind, Target};
use kith_shared::{ClientFrame, ErrorCode, ServerFrame};
use reqwest::StatusCode;
use serde_json::Value;
use std::collections::HashMap;
use std::time::Duration;

backend_tests!(
    offline_friend_gets_messages_on_connect,
    order_is_kept_under_concurrent_senders,
    bursts_sent_without_waiting_are_acked_and_pushed_in_order,
    a_resend_is_stored_once,
    sender_killed_mid_burst_resends_without_duplicates,
    receiver_reconnecting_mid_burst_gets_everything_once,
    receipts_reach_the_sender_and_set_unread_counts,
    typing_reaches_the_friend,
    recall_replaces_the_message_everywhere,
    refused_messages_keep_the_connection,
    floods_are_rate_limited,
);

fn text(body: &str) -> Content {
    Content::text(body)
}

/// The whole history of a conversation as `reader` sees it, paging forwards.
async fn history(server: &TestServer, token: &str, conversation_id: i64) -> Vec<ChatMessage> {
    let mut all = Vec::new();
    let mut after = 0;
    loop {
        let (status, page) = server
            .get(&format!("/api/conversations/{conversation_id}/messages?after={after}&limit=50"), token)
            .await;
        assert_eq!(status, StatusCode::OK, "{page}");
        let messages: Vec<ChatMessage> = serde_json::from_value(page["messages"].clone()).expect("messages");
        if let Some(last) = messages.last() {
            after = last.seq;
        }
        all.extend(messages);
        if page["more"] != Value::Bool(true) {
            return all;
        }
    }
}

fn texts(messages: &[ChatMessage]) -> Vec<String> {
    messages
        .iter()
        .filter_map(|m| match &m.content {
            Content::Text { text, .. } => Some(text.clone()),
            _ => None,
        })
        .collect()
}

async fn offline_friend_gets_messages_on_connect(backend: Backend) {
    let Some(server) = TestServer::start(backend).await else { return };
    let alice = server.user("alice").await;
    let bob = server.user("bob").await;
    let conversation = server.befriend(&alice, &bob).await;
    let mut alice_socket = server.connect(&alice.token).await;
    let to_bob = Target::User { id: bob.user.id };
    for (i, body) in ["hello 👋", "are you there?", "call me"].iter().enumerate() {
        let (conversation_id, seq) = alice_socket.send_text(to_bob, body).await;
        assert_eq!((conversation_id, seq), (conversation, i as i64 + 1));
    }

    let bob_socket = server.connect(&bob.token).await;
    match &bob_socket.sync {
        Some(ServerFrame::SyncState { conversations, .. }) => {
            let state = conversations.iter().find(|c| c.conversation_id == conversation).expect("listed");
            assert_eq!(state.last_seq, 3);
            assert_eq!(state.unread, 3);
            assert_eq!(state.peer_id, Some(alice.user.id));
        }
        other => panic!("expected sync_state, got {other:?}"),
    }
    let messages = history(&server, &bob.token, conversation).await;
    assert_eq!(texts(&messages), ["hello 👋", "are you there?", "call me"]);
    assert!(messages.iter().all(|m| m.sender_id == Some(alice.user.id)));
    assert_eq!(messages.iter().map(|m| m.seq).collect::<Vec<_>>(), [1, 2, 3]);
    // Paging backwards from the newest.
    let (_, page) =
        server.get(&format!("/api/conversations/{conversation}/messages?before=4&limit=2"), &bob.token).await;
    let page: Vec<ChatMessage> = serde_json::from_value(page["messages"].clone()).expect("messages");
    assert_eq!(page.iter().map(|m| m.seq).collect::<Vec<_>>(), [3, 2]);
    // Nobody else reads it.
    let carol = server.user("carol").await;
    let (status, _) = server.get(&format!("/api/conversations/{conversation}/messages"), &carol.token).await;
    assert_eq!(status, StatusCode::FORBIDDEN);
    server.stop().await;
}

/// Alice and Bob, friends, sending at once from three devices, and a fourth device of Bob's
/// watching what is pushed.
struct ThreeSenders {
    server: TestServer,
    conversation: i64,
    alice_token: String,
    watcher: TestSocket,
    /// Each sending device's token, whom it writes to, and a tag for its texts.
    senders: [(String, i64, &'static str); 3],
}

async fn three_senders(backend: Backend, limits: impl FnOnce(&mut Config)) -> Option<ThreeSenders> {
    let server = TestServer::start_with(backend, |c| {
        c.multi_device = true;
        limits(c);
    })
    .await?;
    let alice = server.user("alice").await;
    let bob = server.user("bob").await;
    let conversation = server.befriend(&alice, &bob).await;
    let alice_phone = server.login("alice").await;
    let watcher = server.connect(&server.login("bob").await.token).await;
    let senders = [
        (alice.token.clone(), bob.user.id, "a"),
        (alice_phone.token, bob.user.id, "p"),
        (bob.token.clone(), alice.user.id, "b"),
    ];
    Some(ThreeSenders { server, conversation, alice_token: alice.token, watcher, senders })
}

async fn order_is_kept_under_concurrent_senders(backend: Backend) {
    let Some(ThreeSenders { server, conversation, alice_token, mut watcher, senders }) =
        three_senders(backend, |c| c.message_burst = 1000).await
    else {
        return;
    };
    const EACH: usize = 40;
    let mut tasks = Vec::new();
    for (token, to, tag) in senders {
        let mut socket = server.connect(&token).await;
        tasks.push(tokio::spawn(async move {
            for i in 0..EACH {
                socket.send_text(Target::User { id: to }, &format!("{tag}{i}")).await;
            }
        }));
    }
    for task in tasks {
        task.await.expect("sender");
    }
    let messages = history(&server, &alice_token, conversation).await;
    assert_eq!(messages.len(), 3 * EACH);
    assert_eq!(
        messages.iter().map(|m| m.seq).collect::<Vec<_>>(),
        (1..=(3 * EACH) as i64).collect::<Vec<_>>()
    );
    for tag in ["a", "p", "b"] {
        let mine: Vec<String> = texts(&messages).into_iter().filter(|t| t.starts_with(tag)).collect();
        let sent: Vec<String> = (0..EACH).map(|i| format!("{tag}{i}")).collect();
        assert_eq!(mine, sent, "each sender's messages keep their order");
    }
    // A watching device received the pushes in sequence order.
    let mut seen = Vec::new();
    while seen.len() < 3 * EACH {
        if let ServerFrame::Message { message } =
            watcher.expect("message", |f| matches!(f, ServerFrame::Message { .. })).await
        {
            seen.push(message.seq);
        }
    }
    assert!(seen.windows(2).all(|w| w[0] < w[1]), "pushed in order: {seen:?}");
    server.stop().await;
}

/// Senders that do not wait for their acks keep the writer's queue full, so one batch is
/// delivered while the next is stored: acks still come in the order sent, pushes in sequence
/// order, and a resend sent in the burst gets the first copy's ack.
async fn bursts_sent_without_waiting_are_acked_and_pushed_in_order(backend: Backend) {
    let Some(ThreeSenders { server, conversation, alice_token, mut watcher, senders }) =
        three_senders(backend, |c| {
            c.messages_per_second = 100_000;
            c.message_burst = 100_000;
        })
        .await
    else {
        return;
    };
    const EACH: usize = 300;
    let mut tasks = Vec::new();
    for (token, to, tag) in senders {
        let mut socket = server.connect(&token).await;
        tasks.push(tokio::spawn(async move {
            let client_id = |i: usize| format!("{tag}-{i}");
            let send = |i: usize| ClientFrame::Send {
                client_id: client_id(i),
                to: Target::User { id: to },
                content: Content::text(format!("{tag}{i}")),
            };
            for i in 0..EACH {
                socket.send(&send(i)).await;
            }
            // A resend of an early message, behind the burst.
            socket.send(&send(10)).await;
            let mut acks = Vec::new();
            while acks.len() < EACH + 1 {
                match socket.recv().await {
                    ServerFrame::Ack { client_id, seq, .. } => acks.push((client_id, seq)),
                    ServerFrame::Error { code, message, .. } => panic!("refused: {code:?} {message}"),
                    _ => {}
                }
            }
            let order: Vec<String> = acks.iter().map(|(id, _)| id.clone()).collect();
            let sent: Vec<String> = (0..EACH).chain([10]).map(client_id).collect();
            assert_eq!(order, sent, "acks come in the order sent");
            let seqs: Vec<i64> = acks[..EACH].iter().map(|(_, seq)| *seq).collect();
            assert!(seqs.windows(2).all(|w| w[0] < w[1]), "numbered in the order sent");
            assert_eq!(acks[EACH].1, acks[10].1, "the resend gets the first copy's ack");
        }));
    }
    let total = 3 * EACH;
    let mut seen = Vec::with_capacity(total);
    while seen.len() < total {
        if let ServerFrame::Message { message } = watcher.recv().await {
            seen.push(message.seq);
        }
    }
    assert_eq!(seen, (1..=total as i64).collect::<Vec<_>>(), "every message pushed once, in order");
    for task in tasks {
        task.await.expect("sender");
    }
    let messages = history(&server, &alice_token, conversation).await;
    assert_eq!(messages.iter().map(|m| m.seq).collect::<Vec<_>>(), (1..=total as i64).collect::<Vec<_>>());
    server.stop().await;
}

async fn a_resend_is_stored_once(backend: Backend) {
    let Some(server) = TestServer::start(backend).await else { return };
    let alice = server.user("alice").await;
    let bob = server.user("bob").await;
    let conversation = server.befriend(&alice, &bob).await;
    let mut alice_socket = server.connect(&alice.token).await;
    let mut bob_socket = server.connect(&bob.token).await;
    let frame = ClientFrame::Send {
        client_id: "6f1c4c9e-0b7e-4a59-9d1e-1b2f0c3d4e5f".into(),
        to: Target::User { id: bob.user.id },
        content: text("once"),
    };
    let mut acks = Vec::new();
    for _ in 0..3 {
        alice_socket.send(&frame).await;
        acks.push(alice_socket.expect("ack", |f| matches!(f, ServerFrame::Ack { .. })).await);
    }
    assert!(acks.windows(2).all(|w| w[0] == w[1]), "the same ack each time: {acks:?}");
    assert_eq!(history(&server, &alice.token, conversation).await.len(), 1);
    let frames = bob_socket.frames_until_pong().await;
    let pushed = frames.iter().filter(|f| matches!(f, ServerFrame::Message { .. })).count();
    assert_eq!(pushed, 1, "{frames:?}");
    server.stop().await;
}

async fn sender_killed_mid_burst_resends_without_duplicates(backend: Backend) {
    let Some(server) = TestServer::start_with(backend, |c| c.message_burst = 1000).await else { return };
    let alice = server.user("alice").await;
    let bob = server.user("bob").await;
    let conversation = server.befriend(&alice, &bob).await;
    const COUNT: usize = 200;
    let frames: Vec<ClientFrame> = (0..COUNT)
        .map(|i| ClientFrame::Send {
            client_id: uuid::Uuid::new_v4().to_string(),
            to: Target::User { id: bob.user.id },
            content: text(&format!("m{i}")),
        })
        .collect();
    // Send everything without waiting, read a few acks, then vanish.
    let mut socket = server.connect(&alice.token).await;
    for frame in &frames {
        socket.send(frame).await;
    }
    for _ in 0..20 {
        socket.expect("ack", |f| matches!(f, ServerFrame::Ack { .. })).await;
    }
    drop(socket);
    // The client does not know which were stored: it resends all, with the same ids.
    let mut socket = server.connect(&alice.token).await;
    let mut acked: HashMap<String, i64> = HashMap::new();
    for frame in &frames {
        socket.send(frame).await;
    }
    while acked.len() < COUNT {
        if let ServerFrame::Ack { client_id, seq, .. } =
            socket.expect("ack", |f| matches!(f, ServerFrame::Ack { .. })).await
        {
            acked.insert(client_id, seq);
        }
    }
    let messages = history(&server, &alice.token, conversation).await;
    assert_eq!(
        texts(&messages),
        (0..COUNT).map(|i| format!("m{i}")).collect::<Vec<_>>(),
        "every message once, in order"
    );
    for (frame, message) in frames.iter().zip(&messages) {
        let ClientFrame::Send { client_id, .. } = frame else { unreachable!() };
        assert_eq!(acked.get(client_id), Some(&message.seq));
    }
    server.stop().await;
}

async fn receiver_reconnecting_mid_burst_gets_everything_once(backend: Backend) {
    let Some(server) = TestServer::start_with(backend, |c| c.message_burst = 1000).await else { return };
    let alice = server.user("alice").await;
    let bob = server.user("bob").await;
    let conversation = server.befriend(&alice, &bob).await;
    const COUNT: usize = 300;
    let mut bob_socket = server.connect(&bob.token).await;
    let sender = {
        let mut alice_socket = server.connect(&alice.token).await;
        let to = Target::User { id: bob.user.id };
        tokio::spawn(async move {
            for i in 0..COUNT {
                alice_socket.send_text(to, &format!("m{i}")).await;
            }
        })
    };
    // Bob's client keeps what it receives, keyed by sequence number, like the local cache.
    let mut cache: HashMap<i64, ChatMessage> = HashMap::new();
    while cache.len() < 50 {
        if let ServerFrame::Message { message } =
            bob_socket.expect("message", |f| matches!(f, ServerFrame::Message { .. })).await
        {
            cache.insert(message.seq, message);
        }
    }
    drop(bob_socket);
    tokio::time::sleep(Duration::from_millis(50)).await;
    // Reconnect, then sync from the highest contiguous sequence held.
    let mut bob_socket = server.connect(&bob.token).await;
    sender.await.expect("sender finished");
    let mut cursor = (1..).take_while(|seq| cache.contains_key(seq)).last().unwrap_or(0);
    loop {
        let (_, page) = server
            .get(&format!("/api/conversations/{conversation}/messages?after={cursor}&limit=100"), &bob.token)
            .await;
        let page: Vec<ChatMessage> = serde_json::from_value(page["messages"].clone()).expect("messages");
        let Some(last) = page.last() else { break };
        cursor = last.seq;
        for message in page {
            cache.insert(message.seq, message);
        }
    }
    // Pushes that raced with the sync change nothing.
    for frame in bob_socket.frames_until_pong().await {
        if let ServerFrame::Message { message } = frame {
            cache.insert(message.seq, message);
        }
    }
    let mut ordered: Vec<ChatMessage> = cache.into_values().collect();
    ordered.sort_by_key(|m| m.seq);
    assert_eq!(texts(&ordered), (0..COUNT).map(|i| format!("m{i}")).collect::<Vec<_>>());
    server.stop().await;
}

async fn receipts_reach_the_sender_and_set_unread_counts(backend: Backend) {
    let Some(server) = TestServer::start(backend).await else { return };
    let alice = server.user("alice").await;
    let bob = server.user("bob").await;
    let conversation = server.befriend(&alice, &bob).await;
    let mut alice_socket = server.connect(&alice.token).await;
    for i in 0..3 {
        alice_socket.send_text(Target::User { id: bob.user.id }, &format!("{i}")).await;
    }
    let mut bob_socket = server.connect(&bob.token).await;
    bob_socket
        .send(&ClientFrame::Receipt { conversation_id: conversation, kind: ReceiptKind::Delivered, seq: 3 })
        .await;
    alice_socket
        .expect("delivered receipt", |f| {
            matches!(f, ServerFrame::ReceiptUpdated { user_id, delivered_seq: 3, read_seq: 0, .. } if *user_id == bob.user.id)
        })
        .await;
    bob_socket
        .send(&ClientFrame::Receipt { conversation_id: conversation, kind: ReceiptKind::Read, seq: 2 })
        .await;
    alice_socket
        .expect("read receipt", |f| {
            matches!(f, ServerFrame::ReceiptUpdated { delivered_seq: 3, read_seq: 2, .. })
        })
        .await;
    // Cursors never move back, and cannot pass the newest message.
    bob_socket
        .send(&ClientFrame::Receipt { conversation_id: conversation, kind: ReceiptKind::Read, seq: 1 })
        .await;
    bob_socket
        .send(&ClientFrame::Receipt { conversation_id: conversation, kind: ReceiptKind::Delivered, seq: 99 })
        .await;
    bob_socket.assert_alive().await;
    let (_, cursors) = server.get(&format!("/api/conversations/{conversation}/receipts"), &alice.token).await;
    let bob_cursor =
        cursors.as_array().expect("list").iter().find(|c| c["user_id"] == bob.user.id).expect("bob").clone();
    assert_eq!((bob_cursor["delivered_seq"].as_i64(), bob_cursor["read_seq"].as_i64()), (Some(3), Some(2)));
    drop(bob_socket);
    let bob_again = server.connect(&bob.token).await;
    match &bob_again.sync {
        Some(ServerFrame::SyncState { conversations, .. }) => {
            let state = conversations.iter().find(|c| c.conversation_id == conversation).expect("listed");
            assert_eq!((state.unread, state.read_seq, state.last_seq), (1, 2, 3));
        }
        other => panic!("expected sync_state, got {other:?}"),
    }
    // A receipt for a conversation one is not in is refused.
    let carol = server.user("carol").await;
    let mut carol_socket = server.connect(&carol.token).await;
    carol_socket
        .send(&ClientFrame::Receipt { conversation_id: conversation, kind: ReceiptKind::Read, seq: 3 })
        .await;
    let refusal = carol_socket.expect("error", |f| matches!(f, ServerFrame::Error { .. })).await;
    assert!(matches!(refusal, ServerFrame::Error { code: ErrorCode::Forbidden, .. }), "{refusal:?}");
    server.stop().await;
}

async fn typing_reaches_the_friend(backend: Backend) {
    let Some(server) = TestServer::start(backend).await else { return };
    let alice = server.user("alice").await;
    let bob = server.user("bob").await;
    let conversation = server.befriend(&alice, &bob).await;
    let mut alice_socket = server.connect(&alice.token).await;
    let mut bob_socket = server.connect(&bob.token).await;
    for _ in 0..5 {
        bob_socket.send(&ClientFrame::Typing { conversation_id: conversation }).await;
    }
    alice_socket
        .expect("typing", |f| matches!(f, ServerFrame::Typing { conversation_id, user_id } if *conversation_id == conversation && *user_id == bob.user.id))
        .await;
    let frames = alice_socket.frames_until_pong().await;
    assert!(
        !frames.iter().any(|f| matches!(f, ServerFrame::Typing { .. })),
        "typing is rate-limited: {frames:?}"
    );
    server.stop().await;
}

async fn recall_replaces_the_message_everywhere(backend: Backend) {
    let Some(server) = TestServer::start(backend).await else { return };
    let alice = server.user("alice").await;
    let bob = server.user("bob").await;
    let conversation = server.befriend(&alice, &bob).await;
    let mut alice_socket = server.connect(&alice.token).await;
    let mut bob_socket = server.connect(&bob.token).await;
    let (_, seq) = alice_socket.send_text(Target::User { id: bob.user.id }, "oops, wrong chat").await;
    bob_socket.expect("message", |f| matches!(f, ServerFrame::Message { .. })).await;

    bob_socket.send(&ClientFrame::Recall { conversation_id: conversation, seq }).await;
    let refusal = bob_socket.expect("error", |f| matches!(f, ServerFrame::Error { .. })).await;
    assert!(
        matches!(refusal, ServerFrame::Error { code: ErrorCode::Forbidden, .. }),
        "only the sender recalls"
    );

    alice_socket.send(&ClientFrame::Recall { conversation_id: conversation, seq }).await;
    let recall = bob_socket
        .expect("recall", |f| matches!(f, ServerFrame::Message { message } if matches!(message.content, Content::Recall { .. })))
        .await;
    let ServerFrame::Message { message } = recall else { unreachable!() };
    assert_eq!(message.content, Content::Recall { seq, by: None });
    assert_eq!(message.sender_id, Some(alice.user.id));
    alice_socket
        .expect(
            "own recall",
            |f| matches!(f, ServerFrame::Message { message } if message.content == Content::Recall { seq, by: None }),
        )
        .await;
    let messages = history(&server, &bob.token, conversation).await;
    assert_eq!(messages[0].content, Content::RECALLED, "a syncing client sees the marker");
    assert!(!serde_json::to_string(&messages).expect("json").contains("wrong chat"), "the text is gone");
    server.stop().await;

    // After the window, a recall is refused.
    let Some(server) = TestServer::start_with(backend, |c| c.recall_window = Duration::ZERO).await else {
        return;
    };
    let alice = server.user("alice").await;
    let bob = server.user("bob").await;
    let conversation = server.befriend(&alice, &bob).await;
    let mut alice_socket = server.connect(&alice.token).await;
    let (_, seq) = alice_socket.send_text(Target::User { id: bob.user.id }, "forever").await;
    tokio::time::sleep(Duration::from_millis(20)).await;
    alice_socket.send(&ClientFrame::Recall { conversation_id: conversation, seq }).await;
    let refusal = alice_socket.expect("error", |f| matches!(f, ServerFrame::Error { .. })).await;
    assert!(matches!(refusal, ServerFrame::Error { code: ErrorCode::RecallExpired, .. }), "{refusal:?}");
    server.stop().await;
}

async fn refused_messages_keep_the_connection(backend: Backend) {
    let Some(server) = TestServer::start_with(backend, |c| c.max_text_chars = 10).await else { return };
    let alice = server.user("alice").await;
    let bob = server.user("bob").await;
    let carol = server.user("carol").await;
    server.befriend(&alice, &bob).await;
    let mut socket = server.connect(&alice.token).await;
    let cases = [
        (Target::User { id: carol.user.id }, text("hi"), ErrorCode::Forbidden),
        (Target::User { id: alice.user.id }, text("me"), ErrorCode::InvalidField),
        (Target::User { id: 987_654 }, text("nobody"), ErrorCode::Forbidden),
        (Target::Group { id: 987_654 }, text("no group"), ErrorCode::Forbidden),
        (Target::User { id: bob.user.id }, text("eleven char"), ErrorCode::PayloadTooLarge),
        (Target::User { id: bob.user.id }, text("   "), ErrorCode::InvalidField),
        (Target::User { id: bob.user.id }, Content::RECALLED, ErrorCode::InvalidField),
        (Target::User { id: bob.user.id }, Content::Recall { seq: 1, by: None }, ErrorCode::InvalidField),
    ];
    for (to, content, want) in cases {
        let client_id = uuid::Uuid::new_v4().to_string();
        socket.send(&ClientFrame::Send { client_id: client_id.clone(), to, content: content.clone() }).await;
        let answer = socket
            .expect("an answer", |f| matches!(f, ServerFrame::Error { .. } | ServerFrame::Ack { .. }))
            .await;
        match answer {
            ServerFrame::Error { code, reference, .. } => {
                assert_eq!(code, want, "{to:?} {content:?}");
                assert_eq!(reference.as_deref(), Some(client_id.as_str()));
            }
            other => panic!("{to:?} {content:?} was accepted: {other:?}"),
        }
    }
    socket
        .send(&ClientFrame::Send {
            client_id: "../../etc".into(),
            to: Target::User { id: bob.user.id },
            content: text("x"),
        })
        .await;
    let answer = socket.expect("error", |f| matches!(f, ServerFrame::Error { .. })).await;
    assert!(matches!(answer, ServerFrame::Error { code: ErrorCode::InvalidField, .. }));
    // A content type nobody knows is a malformed frame.
    let raw = br#"{"type":"send","client_id":"a","to":{"kind":"user","id":2},"content":{"type":"bomb"}}"#;
    let mut frame = bytes::BytesMut::new();
    bytes::BufMut::put_u32(&mut frame, raw.len() as u32);
    frame.extend_from_slice(raw);
    tokio::io::AsyncWriteExt::write_all(socket.framed.get_mut(), &frame).await.expect("write");
    let answer = socket.expect("error", |f| matches!(f, ServerFrame::Error { .. })).await;
    assert!(
        matches!(answer, ServerFrame::Error { code: ErrorCode::Malformed | ErrorCode::UnknownFrame, .. }),
        "{answer:?}"
    );
    // Still usable, and nothing was stored.
    let (conversation, seq) = socket.send_text(Target::User { id: bob.user.id }, "fine").await;
    assert_eq!(seq, 1);
    assert_eq!(history(&server, &bob.token, conversation).await.len(), 1);

    // After the friendship ends, messages are refused.
    server
        .request(reqwest::Method::DELETE, &format!("/api/friends/{}", bob.user.id), Some(&alice.token), None)
        .await;
    socket
        .send(&ClientFrame::Send {
            client_id: "after-unfriend".into(),
            to: Target::User { id: bob.user.id },
            content: text("hey"),
        })
        .await;
    let answer = socket.expect("error", |f| matches!(f, ServerFrame::Error { .. })).await;
    assert!(matches!(answer, ServerFrame::Error { code: ErrorCode::Forbidden, .. }), "{answer:?}");
    server.stop().await;
}

async fn floods_are_rate_limited(backend: Backend) {
    let Some(server) = TestServer::start_with(backend, |c| {
        c.messages_per_second = 1;
        c.message_burst = 5;
    })
    .await
    else {
        return;
    };
    let alice = server.user("alice").await;
    let bob = server.user("bob").await;
    server.befriend(&alice, &bob).await;
    let mut socket = server.connect(&alice.token).await;
    for i in 0..30 {
        socket
            .send(&ClientFrame::Send {
                client_id: format!("flood-{i}"),
                to: Target::User { id: bob.user.id },
                content: text("spam"),
            })
            .await;
    }
    let (mut acks, mut limited) = (0, 0);
    while acks + limited < 30 {
        match socket
            .expect("answer", |f| matches!(f, ServerFrame::Ack { .. } | ServerFrame::Error { .. }))
            .await
        {
            ServerFrame::Ack { .. } => acks += 1,
            ServerFrame::Error { code: ErrorCode::RateLimited, reference: Some(_), .. } => limited += 1,
            other => panic!("unexpected {other:?}"),
        }
    }
    assert!(limited >= 20, "most of a flood is refused ({acks} stored, {limited} refused)");
    assert!(acks >= 5, "the burst goes through");
    socket.assert_alive().await;
    server.stop().await;
}

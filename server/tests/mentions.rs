//! Mentions end to end. A group text names the members it calls out; the server checks them
//! against the group's members (and `@all` against the sender's role) and pushes the message
//! unmuted to those mentioned, even when they muted the group. Every refused case has its
//! code and stores nothing.

mod common;

use common::{Backend, TestServer, TestSocket};
use kith_shared::api::LoginResponse;
use kith_shared::api::limits::MENTIONS_MAX;
use kith_shared::frame::{ChatMessage, Content, Mentions, Target};
use kith_shared::{ClientFrame, ErrorCode, ServerFrame, UserId};
use reqwest::{Method, StatusCode};
use serde_json::json;

backend_tests!(
    mentions_are_checked_against_the_group,
    a_mention_reaches_a_member_who_muted_the_group,
    everyone_is_mentioned_by_owner_and_admins_only,
);

fn mentioning(text: &str, user_ids: &[UserId], all: bool) -> Content {
    Content::Text {
        text: text.to_owned(),
        reply_to: None,
        edit_of: None,
        reaction_of: None,
        mentions: Mentions { user_ids: user_ids.to_vec(), all },
    }
}

/// Sends `content` to `to`: the seq it was stored at, or the code it was refused with.
async fn send(socket: &mut TestSocket, to: Target, content: Content) -> Result<i64, ErrorCode> {
    let client_id = uuid::Uuid::new_v4().to_string();
    socket.send(&ClientFrame::Send { client_id: client_id.clone(), to, content }).await;
    let answer = |f: &ServerFrame| matches!(f, ServerFrame::Ack { client_id: c, .. } | ServerFrame::Error { reference: Some(c), .. } if *c == client_id);
    match socket.expect("the answer", answer).await {
        ServerFrame::Ack { seq, .. } => Ok(seq),
        ServerFrame::Error { code, .. } => Err(code),
        _ => unreachable!(),
    }
}

/// Waits for message `seq` pushed to `socket`.
async fn pushed(socket: &mut TestSocket, seq: i64) -> ChatMessage {
    match socket
        .expect("the message", |f| matches!(f, ServerFrame::Message { message } if message.seq == seq))
        .await
    {
        ServerFrame::Message { message } => message,
        _ => unreachable!(),
    }
}

/// Every message of a conversation that `token`'s holder reads in history.
async fn history(server: &TestServer, token: &str, conversation_id: i64) -> Vec<ChatMessage> {
    let path = format!("/api/conversations/{conversation_id}/messages?after=0&limit=200");
    let (status, page) = server.get(&path, token).await;
    assert_eq!(status, StatusCode::OK, "{page}");
    serde_json::from_value(page["messages"].clone()).expect("messages")
}

fn mentions_of(message: &ChatMessage) -> Mentions {
    match &message.content {
        Content::Text { mentions, .. } => mentions.clone(),
        other => panic!("not a text: {other:?}"),
    }
}

async fn mute(server: &TestServer, user: &LoginResponse, group: i64) {
    let path = format!("/api/groups/{group}/mute");
    let (status, body) =
        server.request(Method::PUT, &path, Some(&user.token), Some(json!({"muted": true}))).await;
    assert_eq!(status, StatusCode::OK, "{body}");
}

async fn mentions_are_checked_against_the_group(backend: Backend) {
    let Some(server) = TestServer::start(backend).await else { return };
    let alice = server.user("alice").await;
    let bob = server.user("bob").await;
    let carol = server.user("carol").await;
    let dave = server.user("dave").await;
    let group = server.group(&alice, "Climbers").await;
    server.join(&alice, &bob, group).await;
    server.join(&alice, &carol, group).await;
    // Dave is Alice's friend but no member; Carol leaves.
    let direct = server.befriend(&alice, &dave).await;
    let leave = format!("/api/groups/{group}/members/{}", carol.user.id);
    let (status, body) = server.request(Method::DELETE, &leave, Some(&carol.token), None).await;
    assert_eq!(status, StatusCode::NO_CONTENT, "{body}");
    let mut alice_socket = server.connect(&alice.token).await;
    let to_group = Target::Group { id: group };
    let before = history(&server, &alice.token, group).await.len();

    let refused = [
        (to_group, mentioning("@Dave", &[dave.user.id], false), ErrorCode::InvalidField),
        (to_group, mentioning("@Carol", &[carol.user.id], false), ErrorCode::InvalidField),
        (to_group, mentioning("@nobody", &[999_999], false), ErrorCode::InvalidField),
        (to_group, mentioning("@Bob", &[bob.user.id, dave.user.id], false), ErrorCode::InvalidField),
        (to_group, mentioning("@Bob", &vec![bob.user.id; MENTIONS_MAX + 1], false), ErrorCode::InvalidField),
        (
            Target::User { id: dave.user.id },
            mentioning("@Dave", &[dave.user.id], false),
            ErrorCode::InvalidField,
        ),
        (Target::User { id: dave.user.id }, mentioning("@all", &[], true), ErrorCode::InvalidField),
    ];
    for (to, content, code) in refused {
        assert_eq!(send(&mut alice_socket, to, content.clone()).await, Err(code), "{content:?}");
    }
    assert_eq!(history(&server, &alice.token, group).await.len(), before, "nothing stored");
    assert!(history(&server, &alice.token, direct).await.is_empty(), "nothing stored");

    // A member named twice is kept once; a text without mentions carries none.
    let seq = send(&mut alice_socket, to_group, mentioning("@Bob @Bob", &[bob.user.id, bob.user.id], false))
        .await
        .expect("sent");
    let stored = history(&server, &bob.token, group).await;
    let message = stored.iter().find(|m| m.seq == seq).expect("stored");
    assert_eq!(mentions_of(message), Mentions { user_ids: vec![bob.user.id], all: false });
    let (_, plain) = alice_socket.send_text(to_group, "no one in particular").await;
    let stored = history(&server, &bob.token, group).await;
    assert!(mentions_of(stored.iter().find(|m| m.seq == plain).expect("stored")).is_empty());
    server.stop().await;
}

async fn a_mention_reaches_a_member_who_muted_the_group(backend: Backend) {
    let Some(server) = TestServer::start(backend).await else { return };
    let (alice, bob, carol, group) = server.climbers().await;
    mute(&server, &bob, group).await;
    mute(&server, &carol, group).await;
    let mut alice_socket = server.connect(&alice.token).await;
    let mut bob_socket = server.connect(&bob.token).await;
    let mut carol_socket = server.connect(&carol.token).await;
    let to_group = Target::Group { id: group };

    let (_, quiet) = alice_socket.send_text(to_group, "quiet").await;
    assert!(pushed(&mut bob_socket, quiet).await.muted, "muted for Bob");
    let called = send(&mut alice_socket, to_group, mentioning("@Bob come see", &[bob.user.id], false))
        .await
        .expect("sent");
    let to_bob = pushed(&mut bob_socket, called).await;
    assert!(!to_bob.muted, "a mention of Bob is not muted for him");
    assert_eq!(mentions_of(&to_bob), Mentions { user_ids: vec![bob.user.id], all: false });
    assert!(pushed(&mut carol_socket, called).await.muted, "still muted for Carol");

    // History says the same to each.
    let bobs = history(&server, &bob.token, group).await;
    let muted =
        |history: &[ChatMessage], seq: i64| history.iter().find(|m| m.seq == seq).expect("listed").muted;
    assert!(muted(&bobs, quiet) && !muted(&bobs, called));
    let carols = history(&server, &carol.token, group).await;
    assert!(muted(&carols, quiet) && muted(&carols, called));

    // An edit keeps the mention and notifies nobody anew.
    let edit_id = uuid::Uuid::new_v4().to_string();
    let edit = ClientFrame::Edit {
        client_id: edit_id.clone(),
        conversation_id: group,
        seq: called,
        text: "@Bob come and see".into(),
    };
    alice_socket.send(&edit).await;
    let ack = |f: &ServerFrame| matches!(f, ServerFrame::Ack { client_id, .. } if *client_id == edit_id);
    let ServerFrame::Ack { seq: edit_seq, .. } = alice_socket.expect("the edit's ack", ack).await else {
        unreachable!()
    };
    assert!(pushed(&mut bob_socket, edit_seq).await.muted, "the edit is muted for Bob");
    let bobs = history(&server, &bob.token, group).await;
    let edited = bobs.iter().find(|m| m.seq == called).expect("listed");
    assert!(edited.edited_at.is_some() && !edited.muted);
    assert_eq!(mentions_of(edited), Mentions { user_ids: vec![bob.user.id], all: false });
    server.stop().await;
}

async fn everyone_is_mentioned_by_owner_and_admins_only(backend: Backend) {
    let Some(server) = TestServer::start(backend).await else { return };
    let (alice, bob, carol, group) = server.climbers().await;
    mute(&server, &carol, group).await;
    let mut alice_socket = server.connect(&alice.token).await;
    let mut bob_socket = server.connect(&bob.token).await;
    let mut carol_socket = server.connect(&carol.token).await;
    let to_group = Target::Group { id: group };
    let everyone = || mentioning("@all meeting at six", &[], true);

    // A member may not.
    assert_eq!(send(&mut bob_socket, to_group, everyone()).await, Err(ErrorCode::Forbidden));
    assert!(
        !history(&server, &bob.token, group).await.iter().any(|m| !mentions_of_any(m).is_empty()),
        "nothing stored"
    );

    // The owner may: Carol, who muted the group, hears it.
    let seq = send(&mut alice_socket, to_group, everyone()).await.expect("the owner mentions everyone");
    let to_carol = pushed(&mut carol_socket, seq).await;
    assert!(!to_carol.muted && to_carol.content.mentions(carol.user.id), "{to_carol:?}");

    // So may an admin.
    let path = format!("/api/groups/{group}/members/{}/role", bob.user.id);
    let (status, body) =
        server.request(Method::PUT, &path, Some(&alice.token), Some(json!({"role": "admin"}))).await;
    assert_eq!(status, StatusCode::OK, "{body}");
    let seq = send(&mut bob_socket, to_group, everyone()).await.expect("an admin mentions everyone");
    let to_carol = pushed(&mut carol_socket, seq).await;
    assert!(!to_carol.muted && to_carol.content.mentions(carol.user.id), "{to_carol:?}");

    // And no longer once the role is taken back.
    let (status, body) =
        server.request(Method::PUT, &path, Some(&alice.token), Some(json!({"role": "member"}))).await;
    assert_eq!(status, StatusCode::OK, "{body}");
    assert_eq!(send(&mut bob_socket, to_group, everyone()).await, Err(ErrorCode::Forbidden));
    server.stop().await;
}

/// The mentions of any message (none for what is not a text).
fn mentions_of_any(message: &ChatMessage) -> Mentions {
    match &message.content {
        Content::Text { mentions, .. } => mentions.clone(),
        _ => Mentions::default(),
    }
}

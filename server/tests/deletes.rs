//! Deleting messages end to end. "Delete for me" hides messages from one user's history
//! only, reaches their other connections at once and a device that was away through the sync
//! state; "delete for everyone" lets a group's owner and admins recall a member's message,
//! naming who did it. Every refused case has its code.

mod common;

use common::{Backend, TestServer, TestSocket};
use kith_shared::api::{ConversationState, LoginResponse};
use kith_shared::frame::{ChatMessage, Content, Moderator, Target};
use kith_shared::{ClientFrame, ErrorCode, ServerFrame};
use reqwest::{Method, StatusCode};
use serde_json::json;

backend_tests!(
    delete_for_me_hides_from_my_history_only_on_every_device,
    delete_for_me_refuses_outsiders_unknown_and_too_many,
    owner_and_admins_delete_for_everyone,
    delete_for_everyone_is_for_moderators_only,
    deletes_count_as_sends_for_the_rate_limit,
);

/// The code of the error a frame just sent was refused with, if any (frames that are no
/// error are skipped).
async fn refusal(socket: &mut TestSocket, frame: ClientFrame) -> Option<ErrorCode> {
    socket.send(&frame).await;
    socket.frames_until_pong().await.into_iter().find_map(|f| match f {
        ServerFrame::Error { code, .. } => Some(code),
        _ => None,
    })
}

/// Every message of a conversation that `token`'s holder reads in history.
async fn history(server: &TestServer, token: &str, conversation_id: i64) -> Vec<ChatMessage> {
    let path = format!("/api/conversations/{conversation_id}/messages?after=0&limit=200");
    let (status, page) = server.get(&path, token).await;
    assert_eq!(status, StatusCode::OK, "{page}");
    serde_json::from_value(page["messages"].clone()).expect("messages")
}

fn seqs(messages: &[ChatMessage]) -> Vec<i64> {
    messages.iter().map(|m| m.seq).collect()
}

/// The conversation's entry of the sync state a fresh connection receives.
async fn synced(server: &TestServer, token: &str, conversation_id: i64) -> ConversationState {
    let socket = server.connect(token).await;
    match socket.sync {
        Some(ServerFrame::SyncState { conversations, .. }) => conversations
            .into_iter()
            .find(|c| c.conversation_id == conversation_id)
            .expect("the conversation is listed"),
        other => panic!("no sync state: {other:?}"),
    }
}

async fn hidden_seqs(server: &TestServer, token: &str, conversation_id: i64) -> Vec<i64> {
    let (status, body) = server.get(&format!("/api/conversations/{conversation_id}/hidden"), token).await;
    assert_eq!(status, StatusCode::OK, "{body}");
    serde_json::from_value(body["seqs"].clone()).expect("seqs")
}

async fn make_admin(server: &TestServer, owner: &LoginResponse, user: &LoginResponse, group: i64) {
    let path = format!("/api/groups/{group}/members/{}/role", user.user.id);
    let (status, body) =
        server.request(Method::PUT, &path, Some(&owner.token), Some(json!({"role": "admin"}))).await;
    assert_eq!(status, StatusCode::OK, "{body}");
}

/// Waits for the `recall` of message `seq` pushed to `socket`.
async fn recall_of(socket: &mut TestSocket, seq: i64) -> ChatMessage {
    let wanted = |f: &ServerFrame| matches!(f, ServerFrame::Message { message } if matches!(message.content, Content::Recall { seq: s, .. } if s == seq));
    match socket.expect("the recall", wanted).await {
        ServerFrame::Message { message } => message,
        _ => unreachable!(),
    }
}

async fn delete_for_me_hides_from_my_history_only_on_every_device(backend: Backend) {
    let Some(server) = TestServer::start_with(backend, |c| c.multi_device = true).await else { return };
    let alice = server.user("alice").await;
    let bob = server.user("bob").await;
    let conversation = server.befriend(&alice, &bob).await;
    let alice_laptop = server.login("alice").await;
    let mut alice_phone = server.connect(&alice.token).await;
    let mut laptop = server.connect(&alice_laptop.token).await;
    let mut bob_socket = server.connect(&bob.token).await;
    let (_, mine) = alice_phone.send_text(Target::User { id: bob.user.id }, "my secret").await;
    let (_, theirs) = bob_socket.send_text(Target::User { id: alice.user.id }, "their words").await;
    let (_, kept) = bob_socket.send_text(Target::User { id: alice.user.id }, "kept").await;

    // Both at once, one of them someone else's: every device of alice's is told.
    let hide = ClientFrame::Hide { conversation_id: conversation, seqs: vec![theirs, mine] };
    assert_eq!(refusal(&mut alice_phone, hide.clone()).await, None);
    let told = laptop.expect("messages_hidden", |f| matches!(f, ServerFrame::MessagesHidden { .. })).await;
    assert_eq!(told, ServerFrame::MessagesHidden { conversation_id: conversation, seqs: vec![mine, theirs] });

    // Alice's history no longer has them; Bob's still does.
    assert_eq!(seqs(&history(&server, &alice.token, conversation).await), [kept]);
    assert_eq!(seqs(&history(&server, &bob.token, conversation).await), [mine, theirs, kept]);
    let before = format!("/api/conversations/{conversation}/messages?before={}", kept + 1);
    let (_, page) = server.get(&before, &alice.token).await;
    assert_eq!(page["messages"].as_array().map(Vec::len), Some(1), "backwards too: {page}");

    // What she deleted for herself she can no longer react to or forward.
    let react = ClientFrame::React {
        client_id: "r-hidden".into(),
        conversation_id: conversation,
        seq: theirs,
        emoji: "👍".into(),
        on: true,
    };
    assert_eq!(refusal(&mut alice_phone, react).await, Some(ErrorCode::NotFound));
    let to = Target::User { id: bob.user.id };
    let forward =
        ClientFrame::Forward { client_id: "f-hidden".into(), conversation_id: conversation, seq: theirs, to };
    assert_eq!(refusal(&mut alice_phone, forward).await, Some(ErrorCode::NotFound));
    let forward =
        ClientFrame::Forward { client_id: "f-kept".into(), conversation_id: conversation, seq: kept, to };
    assert_eq!(refusal(&mut alice_phone, forward).await, None, "what she still sees goes");

    // A device that was away learns it from the sync state and fetches the list.
    let alice_tablet = server.login("alice").await;
    assert_eq!(synced(&server, &alice_tablet.token, conversation).await.hidden, 2);
    assert_eq!(hidden_seqs(&server, &alice_tablet.token, conversation).await, [mine, theirs]);
    assert_eq!(synced(&server, &bob.token, conversation).await.hidden, 0, "Bob hid nothing");
    assert!(hidden_seqs(&server, &bob.token, conversation).await.is_empty());

    // Sent again (a reconnect, say): the same answer, nothing more hidden.
    assert_eq!(refusal(&mut alice_phone, hide).await, None);
    assert_eq!(synced(&server, &alice.token, conversation).await.hidden, 2);
    // Bob's connection heard none of it.
    let heard = bob_socket.frames_until_pong().await;
    assert!(!heard.iter().any(|f| matches!(f, ServerFrame::MessagesHidden { .. })), "{heard:?}");
    server.stop().await;
}

async fn delete_for_me_refuses_outsiders_unknown_and_too_many(backend: Backend) {
    let Some(server) = TestServer::start(backend).await else { return };
    let alice = server.user("alice").await;
    let bob = server.user("bob").await;
    let carol = server.user("carol").await;
    let conversation = server.befriend(&alice, &bob).await;
    let mut alice_socket = server.connect(&alice.token).await;
    let mut carol_socket = server.connect(&carol.token).await;
    let (_, seq) = alice_socket.send_text(Target::User { id: bob.user.id }, "hello").await;

    let hide = |seqs: Vec<i64>| ClientFrame::Hide { conversation_id: conversation, seqs };
    assert_eq!(refusal(&mut carol_socket, hide(vec![seq])).await, Some(ErrorCode::Forbidden));
    assert_eq!(refusal(&mut alice_socket, hide(vec![seq + 1])).await, Some(ErrorCode::NotFound));
    assert_eq!(refusal(&mut alice_socket, hide(vec![seq, 0])).await, Some(ErrorCode::NotFound));
    assert_eq!(refusal(&mut alice_socket, hide(vec![])).await, Some(ErrorCode::InvalidField));
    assert_eq!(refusal(&mut alice_socket, hide((1..=101).collect())).await, Some(ErrorCode::InvalidField));
    // Nothing of a refused list was hidden.
    assert_eq!(seqs(&history(&server, &alice.token, conversation).await), [seq]);
    let (status, _) = server.get(&format!("/api/conversations/{conversation}/hidden"), &carol.token).await;
    assert_eq!(status, StatusCode::FORBIDDEN);

    // A member who joined a group late cannot name what came before.
    let group = server.group(&alice, "Climbers").await;
    let (_, early) = alice_socket.send_text(Target::Group { id: group }, "before carol").await;
    server.join(&alice, &carol, group).await;
    let group_hide = ClientFrame::Hide { conversation_id: group, seqs: vec![early] };
    assert_eq!(refusal(&mut carol_socket, group_hide).await, Some(ErrorCode::NotFound));
    carol_socket.assert_alive().await;
    server.stop().await;
}

async fn owner_and_admins_delete_for_everyone(backend: Backend) {
    let Some(server) = TestServer::start(backend).await else { return };
    let alice = server.user("alice").await;
    let bob = server.user("bob").await;
    let carol = server.user("carol").await;
    let dave = server.user("dave").await;
    let group = server.group(&alice, "Climbers").await;
    for user in [&bob, &carol, &dave] {
        server.join(&alice, user, group).await;
    }
    make_admin(&server, &alice, &bob, group).await;
    let mut alice_socket = server.connect(&alice.token).await;
    let mut bob_socket = server.connect(&bob.token).await;
    let mut carol_socket = server.connect(&carol.token).await;
    let to_group = Target::Group { id: group };
    let (_, rude) = carol_socket.send_text(to_group, "something rude").await;
    let (_, admins) = bob_socket.send_text(to_group, "an admin's slip").await;

    // The admin deletes a member's message: everyone online is told who did it.
    let delete = ClientFrame::Delete { conversation_id: group, seq: rude };
    bob_socket.send(&delete).await;
    let by_bob = Some(Moderator { user_id: bob.user.id, name: "Bob".into() });
    for socket in [&mut alice_socket, &mut bob_socket, &mut carol_socket] {
        let recall = recall_of(socket, rude).await;
        assert_eq!(recall.content, Content::Recall { seq: rude, by: by_bob.clone() });
        assert_eq!(recall.sender_id, Some(bob.user.id));
    }
    // Dave was away: history shows him the marker, and the words are gone from the store.
    let seen = history(&server, &dave.token, group).await;
    let marker = seen.iter().find(|m| m.seq == rude).expect("still in history");
    assert_eq!(marker.content, Content::Recalled { by: by_bob.clone() });
    assert_eq!(marker.sender_id, Some(carol.user.id), "it stays the member's message");
    let (_, raw) = server.get(&format!("/api/conversations/{group}/messages?after=0"), &dave.token).await;
    assert!(!raw.to_string().contains("something rude"), "{raw}");

    // Sent again: nothing new is stored or pushed.
    assert_eq!(refusal(&mut bob_socket, delete).await, None);
    let recalls = |messages: &[ChatMessage]| {
        messages.iter().filter(|m| matches!(m.content, Content::Recall { .. })).count()
    };
    assert_eq!(recalls(&history(&server, &dave.token, group).await), 1);

    // The owner deletes an admin's message.
    alice_socket.send(&ClientFrame::Delete { conversation_id: group, seq: admins }).await;
    let recall = recall_of(&mut carol_socket, admins).await;
    let by_alice = Some(Moderator { user_id: alice.user.id, name: "Alice".into() });
    assert_eq!(recall.content, Content::Recall { seq: admins, by: by_alice.clone() });
    let seen = history(&server, &carol.token, group).await;
    assert_eq!(
        seen.iter().find(|m| m.seq == admins).map(|m| &m.content),
        Some(&Content::Recalled { by: by_alice })
    );

    // A file goes with its message: the upload is deleted from the server.
    let res = server
        .http
        .post(format!("{}/api/files?name=notes.txt", server.base))
        .bearer_auth(&carol.token)
        .body(b"the rude notes".to_vec())
        .send()
        .await
        .expect("upload");
    assert_eq!(res.status(), StatusCode::CREATED);
    let info = res.json::<serde_json::Value>().await.expect("file info");
    let upload_id = info["id"].as_str().expect("id").to_owned();
    let client_id = uuid::Uuid::new_v4().to_string();
    let file =
        Content::File { upload_id: upload_id.clone(), name: String::new(), size: 0, mime: String::new() };
    carol_socket.send(&ClientFrame::Send { client_id, to: to_group, content: file }).await;
    let wanted = |f: &ServerFrame| matches!(f, ServerFrame::Ack { .. });
    let ServerFrame::Ack { seq: filed, .. } = carol_socket.expect("the file's ack", wanted).await else {
        unreachable!()
    };
    let content = format!("/api/files/{upload_id}/content");
    assert_eq!(server.get(&content, &dave.token).await.0, StatusCode::OK, "readable before");
    alice_socket.send(&ClientFrame::Delete { conversation_id: group, seq: filed }).await;
    recall_of(&mut carol_socket, filed).await;
    alice_socket.assert_alive().await;
    assert_eq!(server.get(&content, &dave.token).await.0, StatusCode::GONE, "deleted with its message");
    server.stop().await;
}

async fn delete_for_everyone_is_for_moderators_only(backend: Backend) {
    let Some(server) = TestServer::start(backend).await else { return };
    let alice = server.user("alice").await;
    let bob = server.user("bob").await;
    let carol = server.user("carol").await;
    let eve = server.user("eve").await;
    let group = server.group(&alice, "Climbers").await;
    server.join(&alice, &bob, group).await;
    server.join(&alice, &carol, group).await;
    make_admin(&server, &alice, &bob, group).await;
    let mut alice_socket = server.connect(&alice.token).await;
    let mut bob_socket = server.connect(&bob.token).await;
    let mut carol_socket = server.connect(&carol.token).await;
    let mut eve_socket = server.connect(&eve.token).await;
    let to_group = Target::Group { id: group };
    let (_, owners) = alice_socket.send_text(to_group, "the owner speaks").await;
    let (_, admins) = bob_socket.send_text(to_group, "the admin speaks").await;

    let delete = |seq: i64| ClientFrame::Delete { conversation_id: group, seq };
    assert_eq!(refusal(&mut bob_socket, delete(owners)).await, Some(ErrorCode::Forbidden), "admin on owner");
    assert_eq!(refusal(&mut carol_socket, delete(admins)).await, Some(ErrorCode::Forbidden), "a member");
    assert_eq!(refusal(&mut eve_socket, delete(admins)).await, Some(ErrorCode::Forbidden), "not a member");
    assert_eq!(refusal(&mut alice_socket, delete(admins + 10)).await, Some(ErrorCode::NotFound));
    // The group's first message is the notice of its creation: not a member's message.
    assert_eq!(refusal(&mut alice_socket, delete(1)).await, Some(ErrorCode::InvalidField));
    // One-to-one chats have no moderators.
    let direct = server.befriend(&alice, &carol).await;
    let (_, said) = carol_socket.send_text(Target::User { id: alice.user.id }, "between us").await;
    let in_direct = ClientFrame::Delete { conversation_id: direct, seq: said };
    assert_eq!(refusal(&mut alice_socket, in_direct).await, Some(ErrorCode::Forbidden));

    // Nothing was deleted.
    let seen = history(&server, &carol.token, group).await;
    assert!(
        seen.iter().all(|m| !matches!(m.content, Content::Recall { .. } | Content::Recalled { .. })),
        "{seen:?}"
    );
    server.stop().await;
}

async fn deletes_count_as_sends_for_the_rate_limit(backend: Backend) {
    let Some(server) = TestServer::start_with(backend, |c| {
        c.messages_per_second = 1;
        c.message_burst = 2;
    })
    .await
    else {
        return;
    };
    let alice = server.user("alice").await;
    let bob = server.user("bob").await;
    let conversation = server.befriend(&alice, &bob).await;
    let mut alice_socket = server.connect(&alice.token).await;
    let (_, seq) = alice_socket.send_text(Target::User { id: bob.user.id }, "hello").await;
    // A flood of hides and deletes, sent without waiting: the bucket holds two.
    for _ in 0..10 {
        alice_socket.send(&ClientFrame::Hide { conversation_id: conversation, seqs: vec![seq] }).await;
        alice_socket.send(&ClientFrame::Delete { conversation_id: conversation, seq }).await;
    }
    let answers = alice_socket.frames_until_pong().await;
    let limited = answers
        .iter()
        .filter(|f| matches!(f, ServerFrame::Error { code: ErrorCode::RateLimited, .. }))
        .count();
    assert!(limited >= 10, "most are refused: {answers:?}");
    server.stop().await;
}

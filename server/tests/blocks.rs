//! Blocking end to end: the block list, what a blocked user is refused (and that every
//! refusal is the one a stranger gets), unblocking, the blocker's other devices told of both,
//! and the friend request rate limit.

mod common;

use common::{Backend, TestServer, TestSocket, code};
use kith_shared::api::{BlockedUser, LoginResponse};
use kith_shared::frame::{Content, Target};
use kith_shared::{ClientFrame, ServerFrame};
use reqwest::{Method, StatusCode};
use serde_json::{Value, json};

backend_tests!(
    the_block_list_and_its_refusals,
    blocking_ends_the_friendship_and_refuses_like_a_stranger,
    requests_from_a_blocked_user_stay_unseen_until_unblocked,
    blocking_withdraws_the_blockers_own_request,
    friend_requests_are_rate_limited_per_sender,
    a_block_and_its_lifting_reach_every_device_of_the_blocker_only,
);

async fn block(server: &TestServer, who: &LoginResponse, whom: i64) -> (StatusCode, Value) {
    server.request(Method::PUT, &format!("/api/blocks/{whom}"), Some(&who.token), None).await
}

async fn unblock(server: &TestServer, who: &LoginResponse, whom: i64) -> (StatusCode, Value) {
    server.request(Method::DELETE, &format!("/api/blocks/{whom}"), Some(&who.token), None).await
}

async fn ask(server: &TestServer, who: &LoginResponse, whom: i64) -> (StatusCode, Value) {
    server.post("/api/friend-requests", Some(&who.token), json!({"to": whom, "message": "hello"})).await
}

/// Sends a text and returns the refusal the sender gets (code and message).
async fn refused_send(socket: &mut TestSocket, to: Target) -> Value {
    socket
        .send(&ClientFrame::Send {
            client_id: uuid::Uuid::new_v4().to_string(),
            to,
            content: Content::text("are you there?"),
        })
        .await;
    match socket.expect("error", |f| matches!(f, ServerFrame::Error { .. } | ServerFrame::Ack { .. })).await {
        ServerFrame::Error { code, message, .. } => json!({"code": code, "message": message}),
        other => panic!("expected a refusal, got {other:?}"),
    }
}

/// The frames a socket received so far (up to a pong of its own).
async fn pushed(socket: &mut TestSocket) -> Vec<ServerFrame> {
    socket.frames_until_pong().await
}

async fn the_block_list_and_its_refusals(backend: Backend) {
    let Some(server) = TestServer::start(backend).await else { return };
    let alice = server.user("alice").await;
    let bob = server.user("bob").await;
    let carol = server.user("carol").await;

    let (status, list) = server.get("/api/blocks", &alice.token).await;
    assert_eq!((status, list), (StatusCode::OK, json!([])));
    assert_eq!(block(&server, &alice, bob.user.id).await.0, StatusCode::NO_CONTENT);
    // A second block changes nothing.
    assert_eq!(block(&server, &alice, bob.user.id).await.0, StatusCode::NO_CONTENT);
    tokio::time::sleep(std::time::Duration::from_millis(5)).await;
    assert_eq!(block(&server, &alice, carol.user.id).await.0, StatusCode::NO_CONTENT);
    let (status, list) = server.get("/api/blocks", &alice.token).await;
    assert_eq!(status, StatusCode::OK);
    let names: Vec<&str> =
        list.as_array().expect("a list").iter().filter_map(|b| b["user"]["username"].as_str()).collect();
    assert_eq!(names, ["carol", "bob"], "latest first, once each: {list}");
    assert_eq!(list[1]["user"]["display_name"], "Bob");
    assert!(list[1]["blocked_at"].as_i64().is_some_and(|at| at > 0), "{list}");
    // Blocks are the blocker's own: nobody else sees them.
    assert_eq!(server.get("/api/blocks", &bob.token).await.1, json!([]));

    let (status, body) = block(&server, &alice, alice.user.id).await;
    assert_eq!((status, code(&body)), (StatusCode::BAD_REQUEST, "invalid_field"));
    let (status, body) = block(&server, &alice, 999_999).await;
    assert_eq!((status, code(&body)), (StatusCode::NOT_FOUND, "not_found"));
    let (status, body) = server.request(Method::PUT, "/api/blocks/bob", Some(&alice.token), None).await;
    assert_eq!(status, StatusCode::BAD_REQUEST, "{body}");
    let (status, body) =
        server.request(Method::PUT, &format!("/api/blocks/{}", bob.user.id), None, None).await;
    assert_eq!((status, code(&body)), (StatusCode::UNAUTHORIZED, "unauthorized"));

    assert_eq!(unblock(&server, &alice, carol.user.id).await.0, StatusCode::NO_CONTENT);
    let (status, body) = unblock(&server, &alice, carol.user.id).await;
    assert_eq!((status, code(&body)), (StatusCode::NOT_FOUND, "not_found"));
    let (_, list) = server.get("/api/blocks", &alice.token).await;
    assert_eq!(list.as_array().map(Vec::len), Some(1));
    assert_eq!(list[0]["user"]["id"], bob.user.id);

    // The blocker asks the blocked first to unblock.
    let (status, body) = ask(&server, &alice, bob.user.id).await;
    assert_eq!((status, code(&body)), (StatusCode::FORBIDDEN, "forbidden"));
    server.stop().await;
}

async fn blocking_ends_the_friendship_and_refuses_like_a_stranger(backend: Backend) {
    let Some(server) = TestServer::start(backend).await else { return };
    let alice = server.user("alice").await;
    let bob = server.user("bob").await;
    // Carol was never Bob's friend: what Bob gets for her is what a stranger gets.
    let carol = server.user("carol").await;
    let dave = server.user("dave").await;
    server.befriend(&alice, &bob).await;
    server.befriend(&bob, &dave).await;
    let mut alice_socket = server.connect(&alice.token).await;
    let mut bob_socket = server.connect(&bob.token).await;
    bob_socket.send_text(Target::User { id: alice.user.id }, "before").await;

    assert_eq!(block(&server, &alice, bob.user.id).await.0, StatusCode::NO_CONTENT);
    let removed = |id: i64| move |f: &ServerFrame| matches!(f, ServerFrame::FriendRemoved { user_id } if *user_id == id);
    alice_socket.expect("friend_removed", removed(bob.user.id)).await;
    // Bob is told exactly what an ordinary removal tells him.
    bob_socket.expect("friend_removed", removed(alice.user.id)).await;
    let (_, friends) = server.get("/api/friends", &bob.token).await;
    assert_eq!(friends.as_array().map(Vec::len), Some(1), "only Dave is left: {friends}");

    // A one-to-one message: the refusal of a message to a stranger.
    let to_alice = refused_send(&mut bob_socket, Target::User { id: alice.user.id }).await;
    let to_carol = refused_send(&mut bob_socket, Target::User { id: carol.user.id }).await;
    assert_eq!(to_alice["code"], "forbidden");
    assert_eq!(to_alice, to_carol);

    // A group invitation: the refusal of inviting a stranger.
    let (status, group) =
        server.post("/api/groups", Some(&bob.token), json!({"name": "Bob's", "description": ""})).await;
    assert_eq!(status, StatusCode::CREATED, "{group}");
    let group = group["group"]["id"].as_i64().expect("group id");
    let invite = |whom: i64| {
        let server = &server;
        let token = bob.token.clone();
        async move {
            server
                .post(
                    &format!("/api/groups/{group}/invitations"),
                    Some(&token),
                    json!({"user_id": whom, "message": "join"}),
                )
                .await
        }
    };
    let (alice_status, alice_answer) = invite(alice.user.id).await;
    let (carol_status, carol_answer) = invite(carol.user.id).await;
    assert_eq!(alice_status, StatusCode::FORBIDDEN, "{alice_answer}");
    assert_eq!((alice_status, alice_answer), (carol_status, carol_answer));
    // Inviting a friend still works: the refusal is about Alice alone.
    assert_eq!(invite(dave.user.id).await.0, StatusCode::CREATED);

    let frames = pushed(&mut alice_socket).await;
    assert!(
        !frames
            .iter()
            .any(|f| matches!(f, ServerFrame::Message { .. } | ServerFrame::GroupRequestReceived { .. })),
        "nothing of Bob's reached Alice: {frames:?}"
    );
    let (_, requests) = server.get("/api/group-requests", &alice.token).await;
    assert_eq!(requests["invitations"], json!([]));

    // Unblocking does not make them friends again; a request and an answer do.
    assert_eq!(unblock(&server, &alice, bob.user.id).await.0, StatusCode::NO_CONTENT);
    let refusal = refused_send(&mut bob_socket, Target::User { id: alice.user.id }).await;
    assert_eq!(refusal, to_carol);
    server.befriend(&bob, &alice).await;
    bob_socket.send_text(Target::User { id: alice.user.id }, "after").await;
    alice_socket
        .expect(
            "Bob's message",
            |f| matches!(f, ServerFrame::Message { message } if message.sender_id == Some(bob.user.id)),
        )
        .await;
    assert_eq!(invite(alice.user.id).await.0, StatusCode::CREATED);
    server.stop().await;
}

async fn requests_from_a_blocked_user_stay_unseen_until_unblocked(backend: Backend) {
    let Some(server) = TestServer::start(backend).await else { return };
    let alice = server.user("alice").await;
    let bob = server.user("bob").await;
    let carol = server.user("carol").await;
    let mut alice_socket = server.connect(&alice.token).await;
    assert_eq!(block(&server, &alice, bob.user.id).await.0, StatusCode::NO_CONTENT);

    // Bob's request is answered as any pending request (compare one to Carol, who does not
    // block him) and stays in his outgoing list.
    let (status, to_alice) = ask(&server, &bob, alice.user.id).await;
    let (carol_status, to_carol) = ask(&server, &bob, carol.user.id).await;
    assert_eq!((status, carol_status), (StatusCode::CREATED, StatusCode::CREATED), "{to_alice}");
    assert_eq!(to_alice["outcome"], to_carol["outcome"]);
    assert_eq!(to_alice["request"]["to"]["id"], alice.user.id);
    let request_id = to_alice["request"]["id"].as_i64().expect("id");
    let (_, bobs) = server.get("/api/friend-requests", &bob.token).await;
    assert_eq!(bobs["outgoing"][0]["id"], request_id);
    let (status, again) = ask(&server, &bob, alice.user.id).await;
    assert_eq!((status, code(&again)), (StatusCode::CONFLICT, "duplicate_request"));

    // Alice never sees it: not pushed, not listed, not in sync_state, not to be answered.
    let frames = pushed(&mut alice_socket).await;
    assert!(!frames.iter().any(|f| matches!(f, ServerFrame::FriendRequestReceived { .. })), "{frames:?}");
    let (_, alices) = server.get("/api/friend-requests", &alice.token).await;
    assert_eq!(alices["incoming"], json!([]));
    // A new connection (it takes the place of the first) lists no request in its sync_state.
    drop(alice_socket);
    let mut alice_socket = server.connect(&alice.token).await;
    match &alice_socket.sync {
        Some(ServerFrame::SyncState { friend_requests, .. }) => assert!(friend_requests.is_empty()),
        other => panic!("expected sync_state, got {other:?}"),
    }
    for action in ["accept", "refuse"] {
        let (status, body) = server
            .post(&format!("/api/friend-requests/{request_id}/{action}"), Some(&alice.token), json!({}))
            .await;
        assert_eq!((status, code(&body)), (StatusCode::NOT_FOUND, "not_found"), "{action}");
    }
    assert_eq!(server.get("/api/friends", &alice.token).await.1, json!([]));

    // Bob withdraws; Alice is not told of a request she never saw. He asks again.
    let (status, _) = server
        .request(Method::DELETE, &format!("/api/friend-requests/{request_id}"), Some(&bob.token), None)
        .await;
    assert_eq!(status, StatusCode::NO_CONTENT);
    let frames = pushed(&mut alice_socket).await;
    assert!(!frames.iter().any(|f| matches!(f, ServerFrame::FriendRequestCancelled { .. })), "{frames:?}");
    let (status, body) = ask(&server, &bob, alice.user.id).await;
    assert_eq!(status, StatusCode::CREATED, "{body}");
    let request_id = body["request"]["id"].as_i64().expect("id");

    // Unblocked, the request reaches Alice, and she can accept it.
    assert_eq!(unblock(&server, &alice, bob.user.id).await.0, StatusCode::NO_CONTENT);
    let received = alice_socket
        .expect("friend_request_received", |f| matches!(f, ServerFrame::FriendRequestReceived { .. }))
        .await;
    let ServerFrame::FriendRequestReceived { request } = received else { unreachable!() };
    assert_eq!((request.id, request.from.id), (request_id, bob.user.id));
    let (_, alices) = server.get("/api/friend-requests", &alice.token).await;
    assert_eq!(alices["incoming"][0]["id"], request_id);
    let (status, friend) = server
        .post(&format!("/api/friend-requests/{request_id}/accept"), Some(&alice.token), json!({}))
        .await;
    assert_eq!(status, StatusCode::OK, "{friend}");
    assert_eq!(friend["user"]["id"], bob.user.id);
    server.stop().await;
}

async fn blocking_withdraws_the_blockers_own_request(backend: Backend) {
    let Some(server) = TestServer::start(backend).await else { return };
    let alice = server.user("alice").await;
    let bob = server.user("bob").await;
    let mut bob_socket = server.connect(&bob.token).await;
    let (status, body) = ask(&server, &alice, bob.user.id).await;
    assert_eq!(status, StatusCode::CREATED, "{body}");
    let request_id = body["request"]["id"].as_i64().expect("id");
    bob_socket
        .expect("friend_request_received", |f| matches!(f, ServerFrame::FriendRequestReceived { .. }))
        .await;

    assert_eq!(block(&server, &alice, bob.user.id).await.0, StatusCode::NO_CONTENT);
    // What Bob sees is a withdrawal, as if Alice had taken her request back.
    bob_socket
        .expect(
            "friend_request_cancelled",
            |f| matches!(f, ServerFrame::FriendRequestCancelled { request_id: id } if *id == request_id),
        )
        .await;
    let (_, bobs) = server.get("/api/friend-requests", &bob.token).await;
    assert_eq!(bobs["incoming"], json!([]));
    // Had he accepted in time, nothing would make them friends now.
    let (status, _) =
        server.post(&format!("/api/friend-requests/{request_id}/accept"), Some(&bob.token), json!({})).await;
    assert_eq!(status, StatusCode::NOT_FOUND);
    assert_eq!(server.get("/api/friends", &bob.token).await.1, json!([]));
    server.stop().await;
}

async fn friend_requests_are_rate_limited_per_sender(backend: Backend) {
    let Some(server) = TestServer::start_with(backend, |c| c.friend_requests_per_hour = 3).await else {
        return;
    };
    let alice = server.user("alice").await;
    let bob = server.user("bob").await;
    let others = [server.user("carol").await, server.user("dave").await, server.user("erin").await];

    // Every attempt counts, a refused one too.
    let (status, _) = ask(&server, &alice, 999_999).await;
    assert_eq!(status, StatusCode::NOT_FOUND);
    for whom in &others[..2] {
        assert_eq!(ask(&server, &alice, whom.user.id).await.0, StatusCode::CREATED);
    }
    let (status, body) = ask(&server, &alice, others[2].user.id).await;
    assert_eq!((status, code(&body)), (StatusCode::TOO_MANY_REQUESTS, "rate_limited"), "{body}");
    let (_, erins) = server.get("/api/friend-requests", &others[2].token).await;
    assert_eq!(erins["incoming"], json!([]), "a limited request is not stored");
    // The limit is per sender: Bob still asks.
    assert_eq!(ask(&server, &bob, others[2].user.id).await.0, StatusCode::CREATED);
    server.stop().await;
}

/// The block frames among `frames`.
fn block_frames(frames: &[ServerFrame]) -> Vec<&ServerFrame> {
    frames
        .iter()
        .filter(|f| matches!(f, ServerFrame::UserBlocked { .. } | ServerFrame::UserUnblocked { .. }))
        .collect()
}

async fn a_block_and_its_lifting_reach_every_device_of_the_blocker_only(backend: Backend) {
    let Some(server) = TestServer::start_with(backend, |c| c.multi_device = true).await else { return };
    let alice = server.user("alice").await;
    let bob = server.user("bob").await;
    let carol = server.user("carol").await;
    server.befriend(&alice, &bob).await;
    let mut laptop = server.connect(&alice.token).await;
    let phone_login = server.login("alice").await;
    let mut phone = server.connect(&phone_login.token).await;
    let mut bob_socket = server.connect(&bob.token).await;
    let mut carol_socket = server.connect(&carol.token).await;

    // Alice blocks Bob (over HTTP, from either device): both her connections get the entry her
    // block list gains, as the list itself shows it.
    assert_eq!(block(&server, &phone_login, bob.user.id).await.0, StatusCode::NO_CONTENT);
    let (_, list) = server.get("/api/blocks", &alice.token).await;
    let listed: Vec<BlockedUser> = serde_json::from_value(list).expect("the block list");
    assert_eq!(listed.len(), 1);
    for socket in [&mut laptop, &mut phone] {
        let frame = socket.expect("user_blocked", |f| matches!(f, ServerFrame::UserBlocked { .. })).await;
        assert_eq!(frame, ServerFrame::UserBlocked { blocked: listed[0].clone() });
    }
    assert_eq!(listed[0].user.id, bob.user.id);
    assert_eq!(listed[0].user.display_name, "Bob");

    // A second block changes nothing and tells nobody.
    assert_eq!(block(&server, &alice, bob.user.id).await.0, StatusCode::NO_CONTENT);
    for socket in [&mut laptop, &mut phone] {
        let frames = pushed(socket).await;
        assert!(block_frames(&frames).is_empty(), "{frames:?}");
    }

    // Unblocking reaches both devices too; a second unblock is refused and tells nobody.
    assert_eq!(unblock(&server, &alice, bob.user.id).await.0, StatusCode::NO_CONTENT);
    for socket in [&mut laptop, &mut phone] {
        let frame = socket.expect("user_unblocked", |f| matches!(f, ServerFrame::UserUnblocked { .. })).await;
        assert_eq!(frame, ServerFrame::UserUnblocked { user_id: bob.user.id });
    }
    assert_eq!(unblock(&server, &alice, bob.user.id).await.0, StatusCode::NOT_FOUND);
    for socket in [&mut laptop, &mut phone] {
        let frames = pushed(socket).await;
        assert!(block_frames(&frames).is_empty(), "{frames:?}");
    }

    // The blocked person and anyone else are never told of a block.
    for socket in [&mut bob_socket, &mut carol_socket] {
        let frames = pushed(socket).await;
        assert!(block_frames(&frames).is_empty(), "{frames:?}");
    }
    server.stop().await;
}

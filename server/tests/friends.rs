//! Friends and presence end to end: search, requests (online and offline), answers,
//! removal, live presence, and every refused case.

mod common;

use common::{Backend, TestServer, code};
use kith_shared::ServerFrame;
use reqwest::{Method, StatusCode};
use serde_json::json;

backend_tests!(
    offline_request_arrives_on_connect_and_accept_tells_both,
    refused_friend_requests,
    mutual_requests_make_friends,
    refuse_and_cancel_are_pushed,
    removing_a_friend_updates_both_lists,
    search_finds_users_by_either_name,
    presence_reaches_friends,
    profile_changes_reach_friends,
);

async fn offline_request_arrives_on_connect_and_accept_tells_both(backend: Backend) {
    let Some(server) = TestServer::start(backend).await else { return };
    let alice = server.user("alice").await;
    let bob = server.user("bob").await;
    let mut alice_socket = server.connect(&alice.token).await;

    // Bob is offline when Alice asks.
    let (status, body) = server
        .post(
            "/api/friend-requests",
            Some(&alice.token),
            json!({"to": bob.user.id, "message": "It's Alice from the club"}),
        )
        .await;
    assert_eq!(status, StatusCode::CREATED, "{body}");
    assert_eq!(body["outcome"], "pending");
    let request_id = body["request"]["id"].as_i64().expect("id");

    let mut bob_socket = server.connect(&bob.token).await;
    match &bob_socket.sync {
        Some(ServerFrame::SyncState { friend_requests, .. }) => {
            assert_eq!(friend_requests.len(), 1, "the count of waiting requests is 1");
            assert_eq!(friend_requests[0].id, request_id);
            assert_eq!(friend_requests[0].from.username, "alice");
            assert_eq!(friend_requests[0].message, "It's Alice from the club");
        }
        other => panic!("expected sync_state, got {other:?}"),
    }
    let (_, lists) = server.get("/api/friend-requests", &alice.token).await;
    assert_eq!(lists["outgoing"][0]["id"], request_id);
    assert_eq!(lists["incoming"].as_array().map(Vec::len), Some(0));
    let (_, lists) = server.get("/api/friend-requests", &bob.token).await;
    assert_eq!(lists["incoming"][0]["message"], "It's Alice from the club");

    let (status, friend) =
        server.post(&format!("/api/friend-requests/{request_id}/accept"), Some(&bob.token), json!({})).await;
    assert_eq!(status, StatusCode::OK, "{friend}");
    assert_eq!(friend["user"]["username"], "alice");
    assert_eq!(friend["online"], true);
    let pushed = alice_socket.expect("friend_added", |f| matches!(f, ServerFrame::FriendAdded { .. })).await;
    let ServerFrame::FriendAdded { friend: for_alice } = pushed else { unreachable!() };
    assert_eq!(for_alice.user.id, bob.user.id);
    assert!(for_alice.online);
    let pushed = bob_socket.expect("friend_added", |f| matches!(f, ServerFrame::FriendAdded { .. })).await;
    let ServerFrame::FriendAdded { friend: for_bob } = pushed else { unreachable!() };
    assert_eq!(for_bob.user.id, alice.user.id);
    assert_eq!(for_bob.conversation_id, for_alice.conversation_id);

    let (_, friends) = server.get("/api/friends", &alice.token).await;
    assert_eq!(friends[0]["user"]["username"], "bob");
    assert_eq!(friends[0]["online"], true);
    let (_, lists) = server.get("/api/friend-requests", &bob.token).await;
    assert_eq!(lists["incoming"].as_array().map(Vec::len), Some(0), "answered requests are gone");
    server.stop().await;
}

async fn refused_friend_requests(backend: Backend) {
    let Some(server) = TestServer::start(backend).await else { return };
    let alice = server.user("alice").await;
    let bob = server.user("bob").await;
    let carol = server.user("carol").await;
    let dave = server.user("dave").await;
    server.befriend(&alice, &dave).await;

    let cases = [
        (json!({"to": alice.user.id}), StatusCode::BAD_REQUEST, "invalid_field"),
        (json!({"to": 999_999}), StatusCode::NOT_FOUND, "not_found"),
        (json!({"to": dave.user.id}), StatusCode::CONFLICT, "already_friends"),
        (json!({"to": bob.user.id, "message": "x".repeat(201)}), StatusCode::BAD_REQUEST, "invalid_field"),
        (json!({"to": bob.user.id, "message": "bell\u{7}"}), StatusCode::BAD_REQUEST, "invalid_field"),
        (json!({"to": "bob"}), StatusCode::UNPROCESSABLE_ENTITY, "malformed"),
    ];
    for (body, want_status, want_code) in cases {
        let (status, answer) = server.post("/api/friend-requests", Some(&alice.token), body.clone()).await;
        assert_eq!(status, want_status, "{body} -> {answer}");
        assert_eq!(code(&answer), want_code, "{body}");
    }
    let (status, body) =
        server.post("/api/friend-requests", Some(&alice.token), json!({"to": bob.user.id})).await;
    assert_eq!(status, StatusCode::CREATED);
    let id = body["request"]["id"].as_i64().expect("id");
    let (status, answer) =
        server.post("/api/friend-requests", Some(&alice.token), json!({"to": bob.user.id})).await;
    assert_eq!((status, code(&answer)), (StatusCode::CONFLICT, "duplicate_request"));

    // Only the addressee answers; only the sender withdraws; nobody else touches it.
    for (who, path) in [
        (&alice, format!("/api/friend-requests/{id}/accept")),
        (&carol, format!("/api/friend-requests/{id}/accept")),
        (&carol, format!("/api/friend-requests/{id}/refuse")),
    ] {
        let (status, answer) = server.post(&path, Some(&who.token), json!({})).await;
        assert_eq!((status, code(&answer)), (StatusCode::FORBIDDEN, "forbidden"), "{path}");
    }
    for who in [&bob, &carol] {
        let (status, _) = server
            .request(Method::DELETE, &format!("/api/friend-requests/{id}"), Some(&who.token), None)
            .await;
        assert_eq!(status, StatusCode::FORBIDDEN);
    }
    let (status, _) = server.post("/api/friend-requests/424242/accept", Some(&bob.token), json!({})).await;
    assert_eq!(status, StatusCode::NOT_FOUND);
    let (status, _) = server.post("/api/friend-requests", None, json!({"to": bob.user.id})).await;
    assert_eq!(status, StatusCode::UNAUTHORIZED);
    // The request survived all of that.
    let (_, lists) = server.get("/api/friend-requests", &bob.token).await;
    assert_eq!(lists["incoming"][0]["id"], id);
    server.stop().await;
}

async fn mutual_requests_make_friends(backend: Backend) {
    let Some(server) = TestServer::start(backend).await else { return };
    let alice = server.user("alice").await;
    let bob = server.user("bob").await;
    let (status, _) =
        server.post("/api/friend-requests", Some(&alice.token), json!({"to": bob.user.id})).await;
    assert_eq!(status, StatusCode::CREATED);
    let (status, body) =
        server.post("/api/friend-requests", Some(&bob.token), json!({"to": alice.user.id})).await;
    assert_eq!(status, StatusCode::OK, "{body}");
    assert_eq!(body["outcome"], "became_friends");
    assert_eq!(body["friend"]["user"]["username"], "alice");
    let (_, friends) = server.get("/api/friends", &alice.token).await;
    assert_eq!(friends[0]["user"]["username"], "bob");
    for who in [&alice, &bob] {
        let (_, lists) = server.get("/api/friend-requests", &who.token).await;
        assert_eq!(lists["incoming"].as_array().map(Vec::len), Some(0));
        assert_eq!(lists["outgoing"].as_array().map(Vec::len), Some(0));
    }
    server.stop().await;
}

async fn refuse_and_cancel_are_pushed(backend: Backend) {
    let Some(server) = TestServer::start(backend).await else { return };
    let alice = server.user("alice").await;
    let bob = server.user("bob").await;
    let mut alice_socket = server.connect(&alice.token).await;
    let mut bob_socket = server.connect(&bob.token).await;

    let (_, body) = server.post("/api/friend-requests", Some(&alice.token), json!({"to": bob.user.id})).await;
    let id = body["request"]["id"].as_i64().expect("id");
    bob_socket
        .expect(
            "friend_request_received",
            |f| matches!(f, ServerFrame::FriendRequestReceived { request } if request.id == id),
        )
        .await;
    let (status, _) =
        server.post(&format!("/api/friend-requests/{id}/refuse"), Some(&bob.token), json!({})).await;
    assert_eq!(status, StatusCode::NO_CONTENT);
    alice_socket
        .expect("friend_request_refused", |f| matches!(f, ServerFrame::FriendRequestRefused { request_id, by } if *request_id == id && *by == bob.user.id))
        .await;

    let (_, body) = server.post("/api/friend-requests", Some(&alice.token), json!({"to": bob.user.id})).await;
    let id = body["request"]["id"].as_i64().expect("id");
    let (status, _) =
        server.request(Method::DELETE, &format!("/api/friend-requests/{id}"), Some(&alice.token), None).await;
    assert_eq!(status, StatusCode::NO_CONTENT);
    bob_socket
        .expect(
            "friend_request_cancelled",
            |f| matches!(f, ServerFrame::FriendRequestCancelled { request_id } if *request_id == id),
        )
        .await;
    let (_, friends) = server.get("/api/friends", &alice.token).await;
    assert_eq!(friends.as_array().map(Vec::len), Some(0));
    server.stop().await;
}

async fn removing_a_friend_updates_both_lists(backend: Backend) {
    let Some(server) = TestServer::start(backend).await else { return };
    let alice = server.user("alice").await;
    let bob = server.user("bob").await;
    server.befriend(&alice, &bob).await;
    let mut bob_socket = server.connect(&bob.token).await;
    let (status, _) = server
        .request(Method::DELETE, &format!("/api/friends/{}", bob.user.id), Some(&alice.token), None)
        .await;
    assert_eq!(status, StatusCode::NO_CONTENT);
    bob_socket
        .expect(
            "friend_removed",
            |f| matches!(f, ServerFrame::FriendRemoved { user_id } if *user_id == alice.user.id),
        )
        .await;
    for who in [&alice, &bob] {
        let (_, friends) = server.get("/api/friends", &who.token).await;
        assert_eq!(friends.as_array().map(Vec::len), Some(0));
    }
    let (status, _) = server
        .request(Method::DELETE, &format!("/api/friends/{}", bob.user.id), Some(&alice.token), None)
        .await;
    assert_eq!(status, StatusCode::NOT_FOUND, "not friends any more");
    // They can become friends again.
    server.befriend(&bob, &alice).await;
    server.stop().await;
}

async fn search_finds_users_by_either_name(backend: Backend) {
    let Some(server) = TestServer::start(backend).await else { return };
    let alice = server.user("alice").await;
    let bob = server.user("bob").await;
    let (status, _) = server
        .post(
            "/api/register",
            None,
            json!({"username": "bobby_tables", "display_name": "Robert 100%", "password": common::PASSWORD}),
        )
        .await;
    assert_eq!(status, StatusCode::CREATED);
    server.register("carol").await;
    server.befriend(&alice, &bob).await;

    let (status, hits) = server.get("/api/users/search?q=BOB", &alice.token).await;
    assert_eq!(status, StatusCode::OK);
    let names: Vec<&str> =
        hits.as_array().expect("list").iter().filter_map(|h| h["user"]["username"].as_str()).collect();
    assert_eq!(names, ["bob", "bobby_tables"]);
    assert_eq!(hits[0]["is_friend"], true);
    assert_eq!(hits[1]["is_friend"], false);
    assert!(!hits.to_string().contains("password"), "no secrets in search results");

    let (_, hits) = server.get("/api/users/search?q=robert", &alice.token).await;
    assert_eq!(hits[0]["user"]["username"], "bobby_tables", "display names match too");
    let (_, hits) = server.get("/api/users/search?q=100%25", &alice.token).await;
    assert_eq!(hits.as_array().map(Vec::len), Some(1), "a % in the query is literal");
    let (_, hits) = server.get("/api/users/search?q=alice", &alice.token).await;
    assert_eq!(hits.as_array().map(Vec::len), Some(0), "the searcher is left out");
    let (_, hits) = server.get("/api/users/search?q=o&limit=1&offset=1", &alice.token).await;
    assert_eq!(hits.as_array().map(Vec::len), Some(1));
    assert_eq!(hits[0]["user"]["username"], "bobby_tables");
    let (status, _) = server.request(Method::GET, "/api/users/search?q=bob", None, None).await;
    assert_eq!(status, StatusCode::UNAUTHORIZED);
    server.stop().await;
}

async fn presence_reaches_friends(backend: Backend) {
    let Some(server) = TestServer::start(backend).await else { return };
    let alice = server.user("alice").await;
    let bob = server.user("bob").await;
    let carol = server.user("carol").await;
    server.befriend(&alice, &bob).await;
    let mut alice_socket = server.connect(&alice.token).await;
    let mut carol_socket = server.connect(&carol.token).await;

    let bob_socket = server.connect(&bob.token).await;
    alice_socket
        .expect(
            "bob online",
            |f| matches!(f, ServerFrame::Presence { user_id, online: true } if *user_id == bob.user.id),
        )
        .await;
    let (_, friends) = server.get("/api/friends", &alice.token).await;
    assert_eq!(friends[0]["online"], true);

    drop(bob_socket);
    alice_socket
        .expect(
            "bob offline",
            |f| matches!(f, ServerFrame::Presence { user_id, online: false } if *user_id == bob.user.id),
        )
        .await;
    let (_, friends) = server.get("/api/friends", &alice.token).await;
    assert_eq!(friends[0]["online"], false);

    // Carol is nobody's friend: she heard nothing of bob.
    let frames = carol_socket.frames_until_pong().await;
    assert!(!frames.iter().any(|f| matches!(f, ServerFrame::Presence { .. })), "{frames:?}");
    server.stop().await;
}

async fn profile_changes_reach_friends(backend: Backend) {
    let Some(server) = TestServer::start(backend).await else { return };
    let alice = server.user("alice").await;
    let bob = server.user("bob").await;
    let carol = server.user("carol").await;
    server.befriend(&alice, &bob).await;
    let mut alice_socket = server.connect(&alice.token).await;
    let mut carol_socket = server.connect(&carol.token).await;
    let mut bob_socket = server.connect(&bob.token).await;

    let (status, _) = server
        .request(Method::PATCH, "/api/me", Some(&bob.token), Some(json!({"display_name": "Robert"})))
        .await;
    assert_eq!(status, StatusCode::OK);
    let renamed = |f: &ServerFrame| matches!(f, ServerFrame::ProfileUpdated { user } if user.id == bob.user.id && user.display_name == "Robert");
    alice_socket.expect("bob's new name", renamed).await;
    bob_socket.expect("bob's own other devices hear it too", renamed).await;
    // Carol shares no conversation with bob: she hears nothing.
    let frames = carol_socket.frames_until_pong().await;
    assert!(!frames.iter().any(|f| matches!(f, ServerFrame::ProfileUpdated { .. })), "{frames:?}");
    server.stop().await;
}

//! Groups end to end over HTTP and sockets: create, search, applications and invitations
//! (online and offline), roles, removal, leaving, handing over, dissolving, muting, and
//! every refused case with its error code.

mod common;

use common::{Backend, TestServer, TestSocket, code};
use kith_shared::ServerFrame;
use kith_shared::api::LoginResponse;
use kith_shared::api::{GroupRequestKind, Role};
use kith_shared::frame::{Content, LeaveReason, Notice, Target};
use reqwest::{Method, StatusCode};
use serde_json::{Value, json};

backend_tests!(
    create_search_and_profile,
    apply_and_accept_joins_with_notice_and_history_from_join,
    refused_and_withdrawn_applications,
    offline_addressees_see_requests_later,
    invite_a_friend_accept_and_refuse,
    roles_and_removal,
    leave_hand_over_and_dissolve,
    mute_persists_and_members_list_is_private,
);

/// Connects a socket and waits until the server has finished announcing the user online
/// (the ping is answered only after that), so that the next connection's welcome and
/// `sync_state` are not interleaved with this one's presence push.
async fn online(server: &TestServer, token: &str) -> TestSocket {
    let mut socket = server.connect(token).await;
    socket.assert_alive().await;
    socket
}

/// Creates a group owned by `owner`; returns its id.
async fn create_group(server: &TestServer, owner: &LoginResponse, name: &str) -> i64 {
    let (status, body) = server
        .post("/api/groups", Some(&owner.token), json!({"name": name, "description": "for tests"}))
        .await;
    assert_eq!(status, StatusCode::CREATED, "{body}");
    body["group"]["id"].as_i64().expect("group id")
}

/// `user` applies and `owner` accepts; returns nothing, asserts success.
async fn join(server: &TestServer, owner: &LoginResponse, user: &LoginResponse, group: i64) {
    let (status, body) = server
        .post(&format!("/api/groups/{group}/applications"), Some(&user.token), json!({"message": "hi"}))
        .await;
    assert_eq!(status, StatusCode::CREATED, "{body}");
    let id = body["id"].as_i64().expect("request id");
    let (status, body) =
        server.post(&format!("/api/group-requests/{id}/accept"), Some(&owner.token), json!({})).await;
    assert_eq!(status, StatusCode::NO_CONTENT, "{body}");
}

async fn delete(server: &TestServer, path: &str, token: &str) -> (StatusCode, Value) {
    server.request(Method::DELETE, path, Some(token), None).await
}

async fn put(server: &TestServer, path: &str, token: &str, body: Value) -> (StatusCode, Value) {
    server.request(Method::PUT, path, Some(token), Some(body)).await
}

/// Waits for a notice in `group`'s chat matching `wanted`.
async fn expect_notice(socket: &mut TestSocket, group: i64, wanted: impl Fn(&Notice) -> bool) -> Notice {
    let frame = socket
        .expect("a notice", |f| {
            matches!(f, ServerFrame::Message { message } if message.conversation_id == group
                && matches!(&message.content, Content::Notice { notice } if wanted(notice)))
        })
        .await;
    match frame {
        ServerFrame::Message { message } => match message.content {
            Content::Notice { notice } => notice,
            other => panic!("expected a notice, got {other:?}"),
        },
        other => panic!("expected a message, got {other:?}"),
    }
}

/// Frames concerning `group` among everything queued for the socket until now.
async fn group_frames(socket: &mut TestSocket, group: i64) -> Vec<ServerFrame> {
    socket
        .frames_until_pong()
        .await
        .into_iter()
        .filter(|f| match f {
            ServerFrame::Message { message } => message.conversation_id == group,
            ServerFrame::GroupJoined { group: g } => g.group.id == group,
            ServerFrame::GroupUpdated { group: g } => g.id == group,
            ServerFrame::GroupLeft { group_id, .. }
            | ServerFrame::GroupMemberUpdated { group_id, .. }
            | ServerFrame::GroupMemberRemoved { group_id, .. }
            | ServerFrame::GroupRequestClosed { group_id, .. } => *group_id == group,
            ServerFrame::GroupRequestReceived { request } => request.group.id == group,
            _ => false,
        })
        .collect()
}

async fn create_search_and_profile(backend: Backend) {
    let Some(server) = TestServer::start(backend).await else { return };
    let alice = server.user("alice").await;
    let bob = server.user("bob").await;
    let mut alice_socket = online(&server, &alice.token).await;

    let (status, mine) = server
        .post(
            "/api/groups",
            Some(&alice.token),
            json!({"name": "  Chess Club ", "description": "Knights & rooks"}),
        )
        .await;
    assert_eq!(status, StatusCode::CREATED, "{mine}");
    assert_eq!(mine["role"], "owner");
    assert_eq!(mine["muted"], false);
    assert_eq!(mine["group"]["name"], "Chess Club");
    assert_eq!(mine["group"]["description"], "Knights & rooks");
    assert_eq!(mine["group"]["owner_id"], alice.user.id);
    assert_eq!(mine["group"]["member_count"], 1);
    let chess = mine["group"]["id"].as_i64().expect("id");
    let joined = alice_socket.expect("group_joined", |f| matches!(f, ServerFrame::GroupJoined { .. })).await;
    assert!(
        matches!(joined, ServerFrame::GroupJoined { group } if group.group.id == chess && group.role == Role::Owner)
    );
    let notice = expect_notice(&mut alice_socket, chess, |_| true).await;
    assert_eq!(notice, Notice::Created { user_id: alice.user.id, name: "Alice".into() });

    for name in ["Go players", "chess problems", "100% literal_"] {
        create_group(&server, &alice, name).await;
    }
    let search = |q: &str| {
        let path = format!("/api/groups/search?q={}", urlencode(q));
        let token = bob.token.clone();
        let server = &server;
        async move {
            let (status, body) = server.get(&path, &token).await;
            assert_eq!(status, StatusCode::OK, "{body}");
            body.as_array()
                .expect("a list")
                .iter()
                .map(|g| g["name"].as_str().unwrap_or("").to_owned())
                .collect::<Vec<_>>()
        }
    };
    assert_eq!(search("CHESS").await, ["Chess Club", "chess problems"], "case does not matter");
    assert_eq!(search("ess pro").await, ["chess problems"]);
    assert_eq!(search("%").await, ["100% literal_"], "wildcards are taken literally");
    assert_eq!(search("_").await, ["100% literal_"]);
    assert!(search("nothing like it").await.is_empty());
    assert_eq!(search("").await.len(), 4, "an empty query lists every group");
    let (status, page) = server.get("/api/groups/search?q=&offset=1&limit=2", &bob.token).await;
    assert_eq!(status, StatusCode::OK);
    let names: Vec<&str> = page.as_array().expect("list").iter().filter_map(|g| g["name"].as_str()).collect();
    assert_eq!(names, ["Chess Club", "chess problems"], "paged by name");
    let (status, body) = server.get("/api/groups/search?offset=minus", &bob.token).await;
    assert_eq!(status, StatusCode::BAD_REQUEST);
    assert_eq!(code(&body), "malformed");

    // Anyone logged in sees the profile; nobody sees a group that does not exist.
    let (status, profile) = server.get(&format!("/api/groups/{chess}"), &bob.token).await;
    assert_eq!(status, StatusCode::OK, "{profile}");
    assert_eq!(profile, mine["group"]);
    let (status, body) = server.get("/api/groups/999999", &bob.token).await;
    assert_eq!(status, StatusCode::NOT_FOUND);
    assert_eq!(code(&body), "not_found");
    let (status, _) = server.request(Method::GET, &format!("/api/groups/{chess}"), None, None).await;
    assert_eq!(status, StatusCode::UNAUTHORIZED);

    // A one-to-one chat is not a group.
    let direct = server.befriend(&alice, &bob).await;
    let (status, body) = server.get(&format!("/api/groups/{direct}"), &bob.token).await;
    assert_eq!(status, StatusCode::NOT_FOUND, "{body}");
    let (status, _) = server
        .post(&format!("/api/groups/{direct}/applications"), Some(&bob.token), json!({"message": ""}))
        .await;
    assert_eq!(status, StatusCode::NOT_FOUND);

    let (status, groups) = server.get("/api/groups", &alice.token).await;
    assert_eq!(status, StatusCode::OK);
    assert_eq!(groups.as_array().map(Vec::len), Some(4));
    let (_, groups) = server.get("/api/groups", &bob.token).await;
    assert_eq!(groups, json!([]));

    let long = "x".repeat(65);
    let cases = [
        json!({"name": ""}),
        json!({"name": "   "}),
        json!({"name": long}),
        json!({"name": "bell\u{7}"}),
        json!({"name": "ok", "description": "d".repeat(501)}),
        json!({"name": "ok", "description": "esc\u{1b}[31m"}),
    ];
    for body in cases {
        let (status, answer) = server.post("/api/groups", Some(&bob.token), body.clone()).await;
        assert_eq!(status, StatusCode::BAD_REQUEST, "{body}");
        assert_eq!(code(&answer), "invalid_field", "{body}");
        assert!(!answer["message"].as_str().unwrap_or("").is_empty());
    }
    let (status, answer) =
        server.post("/api/groups", Some(&bob.token), json!({"description": "no name"})).await;
    assert_eq!(status, StatusCode::UNPROCESSABLE_ENTITY);
    assert_eq!(code(&answer), "malformed");
    let (status, ok) = server
        .post("/api/groups", Some(&bob.token), json!({"name": "é".repeat(64), "description": "a\nb"}))
        .await;
    assert_eq!(status, StatusCode::CREATED, "64 characters are fine: {ok}");
    server.stop().await;
}

fn urlencode(text: &str) -> String {
    text.bytes()
        .map(|b| if b.is_ascii_alphanumeric() { (b as char).to_string() } else { format!("%{b:02X}") })
        .collect()
}

async fn apply_and_accept_joins_with_notice_and_history_from_join(backend: Backend) {
    let Some(server) = TestServer::start(backend).await else { return };
    let alice = server.user("alice").await;
    let bob = server.user("bob").await;
    let chess = create_group(&server, &alice, "Chess").await;
    let mut alice_socket = online(&server, &alice.token).await;
    let mut bob_socket = online(&server, &bob.token).await;
    // Something said before Bob joins, which he must not see.
    alice_socket.send_text(Target::Group { id: chess }, "before bob").await;

    let (status, request) = server
        .post(
            &format!("/api/groups/{chess}/applications"),
            Some(&bob.token),
            json!({"message": "I play chess"}),
        )
        .await;
    assert_eq!(status, StatusCode::CREATED, "{request}");
    assert_eq!(request["kind"], "application");
    assert_eq!(request["user"]["username"], "bob");
    assert_eq!(request["group"]["id"], chess);
    assert_eq!(request["inviter"], Value::Null);
    let request_id = request["id"].as_i64().expect("id");
    let pushed = alice_socket
        .expect("group_request_received", |f| matches!(f, ServerFrame::GroupRequestReceived { .. }))
        .await;
    match pushed {
        ServerFrame::GroupRequestReceived { request } => {
            assert_eq!(request.id, request_id);
            assert_eq!(request.kind, GroupRequestKind::Application);
            assert_eq!(request.message, "I play chess");
            assert_eq!(request.user.id, bob.user.id);
        }
        other => panic!("{other:?}"),
    }
    let (status, body) = server
        .post(&format!("/api/groups/{chess}/applications"), Some(&bob.token), json!({"message": "again"}))
        .await;
    assert_eq!(status, StatusCode::CONFLICT);
    assert_eq!(code(&body), "duplicate_request");
    let (status, body) = server
        .post(
            &format!("/api/groups/{chess}/applications"),
            Some(&bob.token),
            json!({"message": "x".repeat(201)}),
        )
        .await;
    assert_eq!(status, StatusCode::BAD_REQUEST);
    assert_eq!(code(&body), "invalid_field");

    let (status, body) =
        server.post(&format!("/api/group-requests/{request_id}/accept"), Some(&alice.token), json!({})).await;
    assert_eq!(status, StatusCode::NO_CONTENT, "{body}");
    let closed = bob_socket
        .expect("group_request_closed", |f| matches!(f, ServerFrame::GroupRequestClosed { .. }))
        .await;
    assert_eq!(closed, ServerFrame::GroupRequestClosed { request_id, group_id: chess, accepted: true });
    match bob_socket.expect("group_joined", |f| matches!(f, ServerFrame::GroupJoined { .. })).await {
        ServerFrame::GroupJoined { group } => {
            assert_eq!(group.group.id, chess);
            assert_eq!(group.role, Role::Member);
            assert_eq!(group.group.member_count, 2);
        }
        other => panic!("{other:?}"),
    }
    let notice = expect_notice(&mut bob_socket, chess, |_| true).await;
    assert_eq!(notice, Notice::Joined { user_id: bob.user.id, name: "Bob".into() });
    match alice_socket
        .expect("group_member_updated", |f| matches!(f, ServerFrame::GroupMemberUpdated { .. }))
        .await
    {
        ServerFrame::GroupMemberUpdated { group_id, member } => {
            assert_eq!(group_id, chess);
            assert_eq!(member.user.id, bob.user.id);
            assert_eq!(member.role, Role::Member);
            assert!(member.online);
        }
        other => panic!("{other:?}"),
    }
    expect_notice(&mut alice_socket, chess, |n| matches!(n, Notice::Joined { .. })).await;

    // Bob now belongs: his list, the member list, messages both ways, history from his join.
    let (_, groups) = server.get("/api/groups", &bob.token).await;
    assert_eq!(groups[0]["group"]["id"], chess);
    assert_eq!(groups[0]["role"], "member");
    let (status, members) = server.get(&format!("/api/groups/{chess}/members"), &bob.token).await;
    assert_eq!(status, StatusCode::OK, "{members}");
    let members = members.as_array().expect("list");
    assert_eq!(members.len(), 2);
    assert_eq!(members[0]["user"]["username"], "alice");
    assert_eq!(members[0]["role"], "owner");
    assert_eq!(members[0]["online"], true);
    assert_eq!(members[1]["user"]["username"], "bob");
    let (_, seq) = alice_socket.send_text(Target::Group { id: chess }, "welcome bob").await;
    let got = bob_socket
        .expect("the message", |f| matches!(f, ServerFrame::Message { message } if message.seq == seq))
        .await;
    assert!(
        matches!(got, ServerFrame::Message { message } if message.content == Content::text("welcome bob"))
    );
    let (status, page) =
        server.get(&format!("/api/conversations/{chess}/messages?after=0"), &bob.token).await;
    assert_eq!(status, StatusCode::OK, "{page}");
    let texts = page["messages"].to_string();
    assert!(
        !texts.contains("before bob") && !texts.contains("created"),
        "no history before the join: {texts}"
    );
    assert!(texts.contains("joined") && texts.contains("welcome bob"), "{texts}");

    let (status, body) = server
        .post(&format!("/api/groups/{chess}/applications"), Some(&bob.token), json!({"message": ""}))
        .await;
    assert_eq!(status, StatusCode::CONFLICT);
    assert_eq!(code(&body), "already_member");
    let (status, body) =
        server.post(&format!("/api/group-requests/{request_id}/accept"), Some(&alice.token), json!({})).await;
    assert_eq!(status, StatusCode::NOT_FOUND, "answered already: {body}");
    let (_, requests) = server.get("/api/group-requests", &alice.token).await;
    assert_eq!(requests, json!({"applications": [], "invitations": []}));
    server.stop().await;
}

async fn refused_and_withdrawn_applications(backend: Backend) {
    let Some(server) = TestServer::start(backend).await else { return };
    let alice = server.user("alice").await;
    let bob = server.user("bob").await;
    let carol = server.user("carol").await;
    let chess = create_group(&server, &alice, "Chess").await;
    join(&server, &alice, &bob, chess).await;
    let mut alice_socket = online(&server, &alice.token).await;
    let mut carol_socket = online(&server, &carol.token).await;

    let apply = || async {
        let (status, body) = server
            .post(
                &format!("/api/groups/{chess}/applications"),
                Some(&carol.token),
                json!({"message": "me too"}),
            )
            .await;
        assert_eq!(status, StatusCode::CREATED, "{body}");
        body["id"].as_i64().expect("id")
    };
    let first = apply().await;
    // Only the owner and admins answer applications.
    let (status, body) =
        server.post(&format!("/api/group-requests/{first}/accept"), Some(&carol.token), json!({})).await;
    assert_eq!(status, StatusCode::FORBIDDEN, "{body}");
    assert_eq!(code(&body), "forbidden");
    let (status, body) =
        server.post(&format!("/api/group-requests/{first}/accept"), Some(&bob.token), json!({})).await;
    assert_eq!(status, StatusCode::NOT_FOUND, "a plain member cannot answer: {body}");
    let (status, body) = delete(&server, &format!("/api/group-requests/{first}"), &alice.token).await;
    assert_eq!(status, StatusCode::FORBIDDEN, "the owner refuses, not withdraws: {body}");

    let (status, _) =
        server.post(&format!("/api/group-requests/{first}/refuse"), Some(&alice.token), json!({})).await;
    assert_eq!(status, StatusCode::NO_CONTENT);
    let closed = carol_socket
        .expect("group_request_closed", |f| matches!(f, ServerFrame::GroupRequestClosed { .. }))
        .await;
    assert_eq!(
        closed,
        ServerFrame::GroupRequestClosed { request_id: first, group_id: chess, accepted: false }
    );
    let (status, _) =
        server.post(&format!("/api/group-requests/{first}/refuse"), Some(&alice.token), json!({})).await;
    assert_eq!(status, StatusCode::NOT_FOUND);
    let (status, members) = server.get(&format!("/api/groups/{chess}/members"), &carol.token).await;
    assert_eq!(status, StatusCode::FORBIDDEN, "refused means not a member: {members}");

    // A refused applicant may ask again, and withdraw.
    let second = apply().await;
    alice_socket
        .expect(
            "the second application",
            |f| matches!(f, ServerFrame::GroupRequestReceived { request } if request.id == second),
        )
        .await;
    let (status, _) = delete(&server, &format!("/api/group-requests/{second}"), &carol.token).await;
    assert_eq!(status, StatusCode::NO_CONTENT);
    let closed = alice_socket
        .expect(
            "the withdrawal",
            |f| matches!(f, ServerFrame::GroupRequestClosed { request_id, .. } if *request_id == second),
        )
        .await;
    assert_eq!(
        closed,
        ServerFrame::GroupRequestClosed { request_id: second, group_id: chess, accepted: false }
    );
    let (_, requests) = server.get("/api/group-requests", &alice.token).await;
    assert_eq!(requests["applications"], json!([]));
    let (status, _) = delete(&server, &format!("/api/group-requests/{second}"), &carol.token).await;
    assert_eq!(status, StatusCode::NOT_FOUND);
    assert!(
        group_frames(&mut carol_socket, chess)
            .await
            .iter()
            .all(|f| !matches!(f, ServerFrame::GroupJoined { .. }))
    );
    server.stop().await;
}

async fn offline_addressees_see_requests_later(backend: Backend) {
    let Some(server) = TestServer::start(backend).await else { return };
    let alice = server.user("alice").await;
    let bob = server.user("bob").await;
    let dave = server.user("dave").await;
    server.befriend(&alice, &dave).await;
    let chess = create_group(&server, &alice, "Chess").await;

    // Nobody is online while the requests are made.
    let (status, application) = server
        .post(&format!("/api/groups/{chess}/applications"), Some(&bob.token), json!({"message": "Bob here"}))
        .await;
    assert_eq!(status, StatusCode::CREATED, "{application}");
    let (status, invitation) = server
        .post(
            &format!("/api/groups/{chess}/invitations"),
            Some(&alice.token),
            json!({"user_id": dave.user.id, "message": "join us"}),
        )
        .await;
    assert_eq!(status, StatusCode::CREATED, "{invitation}");

    let (status, alices) = server.get("/api/group-requests", &alice.token).await;
    assert_eq!(status, StatusCode::OK);
    assert_eq!(alices["applications"].as_array().map(Vec::len), Some(1));
    assert_eq!(alices["applications"][0]["id"], application["id"]);
    assert_eq!(alices["applications"][0]["message"], "Bob here");
    assert_eq!(alices["applications"][0]["user"]["username"], "bob");
    assert_eq!(alices["invitations"], json!([]), "Alice's own invitation is not for her to answer");
    let (_, daves) = server.get("/api/group-requests", &dave.token).await;
    assert_eq!(daves["applications"], json!([]));
    assert_eq!(daves["invitations"][0]["id"], invitation["id"]);
    assert_eq!(daves["invitations"][0]["kind"], "invitation");
    assert_eq!(daves["invitations"][0]["inviter"]["username"], "alice");
    assert_eq!(daves["invitations"][0]["group"]["name"], "Chess");
    assert_eq!(daves["invitations"][0]["message"], "join us");
    let (_, bobs) = server.get("/api/group-requests", &bob.token).await;
    assert_eq!(bobs, json!({"applications": [], "invitations": []}));

    // Dave comes online later and accepts; the pushes reach whoever is online.
    let mut alice_socket = online(&server, &alice.token).await;
    let mut dave_socket = online(&server, &dave.token).await;
    let id = invitation["id"].as_i64().expect("id");
    let (status, _) =
        server.post(&format!("/api/group-requests/{id}/accept"), Some(&dave.token), json!({})).await;
    assert_eq!(status, StatusCode::NO_CONTENT);
    dave_socket.expect("group_joined", |f| matches!(f, ServerFrame::GroupJoined { .. })).await;
    let closed = alice_socket
        .expect("group_request_closed", |f| matches!(f, ServerFrame::GroupRequestClosed { .. }))
        .await;
    assert_eq!(closed, ServerFrame::GroupRequestClosed { request_id: id, group_id: chess, accepted: true });
    server.stop().await;
}

async fn invite_a_friend_accept_and_refuse(backend: Backend) {
    let Some(server) = TestServer::start(backend).await else { return };
    let alice = server.user("alice").await;
    let dave = server.user("dave").await;
    let erin = server.user("erin").await;
    let frank = server.user("frank").await;
    let gina = server.user("gina").await;
    server.befriend(&alice, &dave).await;
    server.befriend(&alice, &gina).await;
    server.befriend(&frank, &dave).await;
    let chess = create_group(&server, &alice, "Chess").await;
    let mut alice_socket = online(&server, &alice.token).await;
    let mut dave_socket = online(&server, &dave.token).await;
    let mut gina_socket = online(&server, &gina.token).await;
    let invite = |who: i64, token: String| {
        let server = &server;
        async move {
            server
                .post(
                    &format!("/api/groups/{chess}/invitations"),
                    Some(&token),
                    json!({"user_id": who, "message": "come"}),
                )
                .await
        }
    };

    let (status, request) = invite(dave.user.id, alice.token.clone()).await;
    assert_eq!(status, StatusCode::CREATED, "{request}");
    assert_eq!(request["inviter"]["username"], "alice");
    assert_eq!(request["user"]["username"], "dave");
    let id = request["id"].as_i64().expect("id");
    match dave_socket
        .expect("group_request_received", |f| matches!(f, ServerFrame::GroupRequestReceived { .. }))
        .await
    {
        ServerFrame::GroupRequestReceived { request } => {
            assert_eq!(request.id, id);
            assert_eq!(request.kind, GroupRequestKind::Invitation);
            assert_eq!(request.inviter.map(|p| p.id), Some(alice.user.id));
        }
        other => panic!("{other:?}"),
    }
    let (status, body) = invite(dave.user.id, alice.token.clone()).await;
    assert_eq!(status, StatusCode::CONFLICT);
    assert_eq!(code(&body), "duplicate_request");
    // Refused cases: not a friend, not a member, no such user, oneself, no user named.
    let (status, body) = invite(erin.user.id, alice.token.clone()).await;
    assert_eq!(status, StatusCode::FORBIDDEN, "{body}");
    assert_eq!(code(&body), "forbidden");
    let (status, body) = invite(dave.user.id, frank.token.clone()).await;
    assert_eq!(status, StatusCode::FORBIDDEN, "frank is dave's friend but not a member: {body}");
    let (status, body) = invite(424242, alice.token.clone()).await;
    assert_eq!(status, StatusCode::NOT_FOUND, "{body}");
    let (status, body) = invite(alice.user.id, alice.token.clone()).await;
    assert_eq!(status, StatusCode::CONFLICT, "{body}");
    assert_eq!(code(&body), "already_member");
    let (status, body) = server
        .post(&format!("/api/groups/{chess}/invitations"), Some(&alice.token), json!({"message": "?"}))
        .await;
    assert_eq!(status, StatusCode::BAD_REQUEST);
    assert_eq!(code(&body), "invalid_field");
    // The inviter does not answer for the invitee.
    let (status, body) =
        server.post(&format!("/api/group-requests/{id}/accept"), Some(&alice.token), json!({})).await;
    assert_eq!(status, StatusCode::FORBIDDEN, "{body}");

    let (status, _) =
        server.post(&format!("/api/group-requests/{id}/accept"), Some(&dave.token), json!({})).await;
    assert_eq!(status, StatusCode::NO_CONTENT);
    dave_socket
        .expect(
            "group_joined",
            |f| matches!(f, ServerFrame::GroupJoined { group } if group.group.id == chess),
        )
        .await;
    expect_notice(
        &mut dave_socket,
        chess,
        |n| matches!(n, Notice::Joined { user_id, .. } if *user_id == dave.user.id),
    )
    .await;
    alice_socket
        .expect("group_request_closed", |f| matches!(f, ServerFrame::GroupRequestClosed { request_id, accepted: true, .. } if *request_id == id))
        .await;
    alice_socket
        .expect(
            "group_member_updated",
            |f| matches!(f, ServerFrame::GroupMemberUpdated { member, .. } if member.user.id == dave.user.id),
        )
        .await;
    let (status, body) = invite(dave.user.id, alice.token.clone()).await;
    assert_eq!(status, StatusCode::CONFLICT);
    assert_eq!(code(&body), "already_member");

    // Dave, now a member, may invite his own friend Frank; Gina refuses Alice's invitation.
    let (status, body) = invite(frank.user.id, dave.token.clone()).await;
    assert_eq!(status, StatusCode::CREATED, "any member invites their friends: {body}");
    let (status, request) = invite(gina.user.id, alice.token.clone()).await;
    assert_eq!(status, StatusCode::CREATED);
    let id = request["id"].as_i64().expect("id");
    gina_socket.expect("the invitation", |f| matches!(f, ServerFrame::GroupRequestReceived { .. })).await;
    let (status, _) =
        server.post(&format!("/api/group-requests/{id}/refuse"), Some(&gina.token), json!({})).await;
    assert_eq!(status, StatusCode::NO_CONTENT);
    let closed = alice_socket
        .expect(
            "the refusal",
            |f| matches!(f, ServerFrame::GroupRequestClosed { request_id, .. } if *request_id == id),
        )
        .await;
    assert_eq!(closed, ServerFrame::GroupRequestClosed { request_id: id, group_id: chess, accepted: false });
    let (status, members) = server.get(&format!("/api/groups/{chess}/members"), &gina.token).await;
    assert_eq!(status, StatusCode::FORBIDDEN, "{members}");
    // The inviter may withdraw an invitation; the invitee may not.
    let (_, request) = invite(gina.user.id, alice.token.clone()).await;
    let id = request["id"].as_i64().expect("id");
    let (status, _) = delete(&server, &format!("/api/group-requests/{id}"), &gina.token).await;
    assert_eq!(status, StatusCode::FORBIDDEN);
    let (status, _) = delete(&server, &format!("/api/group-requests/{id}"), &alice.token).await;
    assert_eq!(status, StatusCode::NO_CONTENT);
    gina_socket
        .expect("the withdrawal", |f| matches!(f, ServerFrame::GroupRequestClosed { request_id, accepted: false, .. } if *request_id == id))
        .await;
    server.stop().await;
}

async fn roles_and_removal(backend: Backend) {
    let Some(server) = TestServer::start(backend).await else { return };
    let alice = server.user("alice").await;
    let bob = server.user("bob").await;
    let carol = server.user("carol").await;
    let dave = server.user("dave").await;
    let chess = create_group(&server, &alice, "Chess").await;
    for user in [&bob, &carol, &dave] {
        join(&server, &alice, user, chess).await;
    }
    let mut alice_socket = online(&server, &alice.token).await;
    let mut carol_socket = online(&server, &carol.token).await;
    let mut dave_socket = online(&server, &dave.token).await;
    let role = |user: i64, role: &str, token: String| {
        let server = &server;
        let role = role.to_owned();
        async move {
            put(server, &format!("/api/groups/{chess}/members/{user}/role"), &token, json!({"role": role}))
                .await
        }
    };
    let remove = |user: i64, token: String| {
        let server = &server;
        async move { delete(server, &format!("/api/groups/{chess}/members/{user}"), &token).await }
    };

    let (status, member) = role(bob.user.id, "admin", alice.token.clone()).await;
    assert_eq!(status, StatusCode::OK, "{member}");
    assert_eq!(member["role"], "admin");
    assert_eq!(member["user"]["username"], "bob");
    carol_socket
        .expect("bob's promotion", |f| matches!(f, ServerFrame::GroupMemberUpdated { member, .. } if member.user.id == bob.user.id && member.role == Role::Admin))
        .await;
    let (status, _) = role(carol.user.id, "admin", alice.token.clone()).await;
    assert_eq!(status, StatusCode::OK);
    // Only the owner changes roles, and never to owner; the owner's own role does not move.
    let (status, body) = role(dave.user.id, "admin", bob.token.clone()).await;
    assert_eq!(status, StatusCode::FORBIDDEN);
    assert_eq!(code(&body), "forbidden");
    let (status, body) = role(dave.user.id, "owner", alice.token.clone()).await;
    assert_eq!(status, StatusCode::BAD_REQUEST);
    assert_eq!(code(&body), "invalid_field");
    let (status, body) = role(alice.user.id, "member", alice.token.clone()).await;
    assert_eq!(status, StatusCode::BAD_REQUEST);
    assert_eq!(code(&body), "invalid_field");
    let (status, body) = role(dave.user.id, "emperor", alice.token.clone()).await;
    assert_eq!(status, StatusCode::UNPROCESSABLE_ENTITY);
    assert_eq!(code(&body), "malformed");
    let outsider = server.user("olga").await;
    let (status, _) = role(outsider.user.id, "admin", alice.token.clone()).await;
    assert_eq!(status, StatusCode::NOT_FOUND);

    // An admin cannot remove another admin or the owner; a plain member removes nobody.
    let (status, body) = remove(carol.user.id, bob.token.clone()).await;
    assert_eq!(status, StatusCode::FORBIDDEN);
    assert_eq!(code(&body), "forbidden");
    let (status, _) = remove(alice.user.id, bob.token.clone()).await;
    assert_eq!(status, StatusCode::FORBIDDEN);
    let (status, _) = remove(bob.user.id, dave.token.clone()).await;
    assert_eq!(status, StatusCode::FORBIDDEN);
    let (status, _) = remove(outsider.user.id, bob.token.clone()).await;
    assert_eq!(status, StatusCode::NOT_FOUND);

    // An admin removes a plain member: Dave is told and hears nothing from the group again.
    let (status, body) = remove(dave.user.id, bob.token.clone()).await;
    assert_eq!(status, StatusCode::NO_CONTENT, "{body}");
    let left = dave_socket.expect("group_left", |f| matches!(f, ServerFrame::GroupLeft { .. })).await;
    assert_eq!(left, ServerFrame::GroupLeft { group_id: chess, reason: LeaveReason::Removed });
    alice_socket
        .expect(
            "group_member_removed",
            |f| matches!(f, ServerFrame::GroupMemberRemoved { user_id, .. } if *user_id == dave.user.id),
        )
        .await;
    let notice = expect_notice(&mut alice_socket, chess, |n| matches!(n, Notice::Removed { .. })).await;
    assert_eq!(notice, Notice::Removed { user_id: dave.user.id, name: "Dave".into(), by: bob.user.id });
    alice_socket.send_text(Target::Group { id: chess }, "after dave").await;
    carol_socket
        .expect("the message", |f| matches!(f, ServerFrame::Message { message } if message.content == Content::text("after dave")))
        .await;
    let (status, _) = role(carol.user.id, "member", alice.token.clone()).await;
    assert_eq!(status, StatusCode::OK);
    let heard = group_frames(&mut dave_socket, chess).await;
    assert!(heard.is_empty(), "a removed member hears nothing from the group: {heard:?}");
    let (status, _) = server.get(&format!("/api/groups/{chess}/members"), &dave.token).await;
    assert_eq!(status, StatusCode::FORBIDDEN);
    let (status, _) = server.get(&format!("/api/conversations/{chess}/messages"), &dave.token).await;
    assert_eq!(status, StatusCode::FORBIDDEN);
    let (_, groups) = server.get("/api/groups", &dave.token).await;
    assert_eq!(groups, json!([]));
    let (status, _) = remove(dave.user.id, alice.token.clone()).await;
    assert_eq!(status, StatusCode::NOT_FOUND, "gone already");

    // The owner removes an admin.
    let (status, _) = remove(bob.user.id, alice.token.clone()).await;
    assert_eq!(status, StatusCode::NO_CONTENT);
    let (_, profile) = server.get(&format!("/api/groups/{chess}"), &carol.token).await;
    assert_eq!(profile["member_count"], 2);
    server.stop().await;
}

async fn leave_hand_over_and_dissolve(backend: Backend) {
    let Some(server) = TestServer::start(backend).await else { return };
    let alice = server.user("alice").await;
    let bob = server.user("bob").await;
    let carol = server.user("carol").await;
    let chess = create_group(&server, &alice, "Chess").await;
    join(&server, &alice, &bob, chess).await;
    let mut alice_socket = online(&server, &alice.token).await;
    let mut bob_socket = online(&server, &bob.token).await;
    let leave = |user: &LoginResponse| {
        let (server, id, token) = (&server, user.user.id, user.token.clone());
        async move { delete(server, &format!("/api/groups/{chess}/members/{id}"), &token).await }
    };

    let (status, body) = leave(&alice).await;
    assert_eq!(status, StatusCode::CONFLICT);
    assert_eq!(code(&body), "owner_cannot_leave");
    let (status, _) = leave(&bob).await;
    assert_eq!(status, StatusCode::NO_CONTENT);
    let left = bob_socket.expect("group_left", |f| matches!(f, ServerFrame::GroupLeft { .. })).await;
    assert_eq!(left, ServerFrame::GroupLeft { group_id: chess, reason: LeaveReason::Left });
    alice_socket
        .expect("group_member_removed", |f| matches!(f, ServerFrame::GroupMemberRemoved { .. }))
        .await;
    let notice = expect_notice(&mut alice_socket, chess, |n| matches!(n, Notice::Left { .. })).await;
    assert_eq!(notice, Notice::Left { user_id: bob.user.id, name: "Bob".into() });
    let (status, body) = leave(&bob).await;
    assert_eq!(status, StatusCode::NOT_FOUND, "not a member any more: {body}");

    // Bob comes back; Alice hands the group over to him and becomes an admin.
    join(&server, &alice, &bob, chess).await;
    let owner = |user: i64, token: String| {
        let server = &server;
        async move {
            server.post(&format!("/api/groups/{chess}/owner"), Some(&token), json!({"user_id": user})).await
        }
    };
    let (status, body) = owner(carol.user.id, alice.token.clone()).await;
    assert_eq!(status, StatusCode::NOT_FOUND, "only to a member: {body}");
    let (status, body) = owner(alice.user.id, alice.token.clone()).await;
    assert_eq!(status, StatusCode::BAD_REQUEST);
    assert_eq!(code(&body), "invalid_field");
    let (status, body) = owner(bob.user.id, bob.token.clone()).await;
    assert_eq!(status, StatusCode::FORBIDDEN, "{body}");
    let (status, profile) = owner(bob.user.id, alice.token.clone()).await;
    assert_eq!(status, StatusCode::OK, "{profile}");
    assert_eq!(profile["owner_id"], bob.user.id);
    let updated = bob_socket.expect("group_updated", |f| matches!(f, ServerFrame::GroupUpdated { .. })).await;
    assert!(matches!(updated, ServerFrame::GroupUpdated { group } if group.owner_id == bob.user.id));
    alice_socket
        .expect("alice demoted", |f| matches!(f, ServerFrame::GroupMemberUpdated { member, .. } if member.user.id == alice.user.id && member.role == Role::Admin))
        .await;
    let notice = expect_notice(&mut bob_socket, chess, |n| matches!(n, Notice::OwnerChanged { .. })).await;
    assert_eq!(notice, Notice::OwnerChanged { user_id: bob.user.id, name: "Bob".into() });
    let (_, members) = server.get(&format!("/api/groups/{chess}/members"), &alice.token).await;
    let roles: Vec<(&str, &str)> = members
        .as_array()
        .expect("list")
        .iter()
        .map(|m| (m["user"]["username"].as_str().unwrap_or(""), m["role"].as_str().unwrap_or("")))
        .collect();
    assert_eq!(roles, [("alice", "admin"), ("bob", "owner")]);
    let (status, _) = owner(alice.user.id, alice.token.clone()).await;
    assert_eq!(status, StatusCode::FORBIDDEN, "the old owner has no say any more");

    // Only the owner dissolves. A pending application is closed with it.
    let (status, body) = delete(&server, &format!("/api/groups/{chess}"), &alice.token).await;
    assert_eq!(status, StatusCode::FORBIDDEN);
    assert_eq!(code(&body), "forbidden");
    let mut carol_socket = online(&server, &carol.token).await;
    let (_, application) = server
        .post(&format!("/api/groups/{chess}/applications"), Some(&carol.token), json!({"message": ""}))
        .await;
    let application = application["id"].as_i64().expect("id");
    let (status, _) = delete(&server, &format!("/api/groups/{chess}"), &bob.token).await;
    assert_eq!(status, StatusCode::NO_CONTENT);
    for socket in [&mut alice_socket, &mut bob_socket] {
        let notice = expect_notice(socket, chess, |n| matches!(n, Notice::Dissolved { .. })).await;
        assert_eq!(notice, Notice::Dissolved { by: bob.user.id });
        let left = socket.expect("group_left", |f| matches!(f, ServerFrame::GroupLeft { .. })).await;
        assert_eq!(left, ServerFrame::GroupLeft { group_id: chess, reason: LeaveReason::Dissolved });
    }
    let closed = carol_socket
        .expect("group_request_closed", |f| matches!(f, ServerFrame::GroupRequestClosed { .. }))
        .await;
    assert_eq!(
        closed,
        ServerFrame::GroupRequestClosed { request_id: application, group_id: chess, accepted: false }
    );
    let (status, _) = server.get(&format!("/api/groups/{chess}"), &carol.token).await;
    assert_eq!(status, StatusCode::NOT_FOUND);
    let (_, found) = server.get("/api/groups/search?q=chess", &carol.token).await;
    assert_eq!(found, json!([]));
    let (_, groups) = server.get("/api/groups", &bob.token).await;
    assert_eq!(groups, json!([]));
    let (status, body) = server
        .post(&format!("/api/groups/{chess}/applications"), Some(&carol.token), json!({"message": ""}))
        .await;
    assert_eq!(status, StatusCode::NOT_FOUND, "{body}");
    let (status, _) = delete(&server, &format!("/api/groups/{chess}"), &bob.token).await;
    assert_eq!(status, StatusCode::NOT_FOUND);
    server.stop().await;
}

async fn mute_persists_and_members_list_is_private(backend: Backend) {
    let Some(server) = TestServer::start(backend).await else { return };
    let alice = server.user("alice").await;
    let bob = server.user("bob").await;
    let mallory = server.user("mallory").await;
    let chess = create_group(&server, &alice, "Chess").await;
    join(&server, &alice, &bob, chess).await;

    let (status, mine) =
        put(&server, &format!("/api/groups/{chess}/mute"), &bob.token, json!({"muted": true})).await;
    assert_eq!(status, StatusCode::OK, "{mine}");
    assert_eq!(mine["muted"], true);
    assert_eq!(mine["role"], "member");
    let (_, groups) = server.get("/api/groups", &bob.token).await;
    assert_eq!(groups[0]["muted"], true, "the setting is stored");
    let (_, groups) = server.get("/api/groups", &alice.token).await;
    assert_eq!(groups[0]["muted"], false, "and Bob's alone");
    // Messages still arrive, marked muted for Bob only.
    let mut alice_socket = online(&server, &alice.token).await;
    let mut bob_socket = online(&server, &bob.token).await;
    let (_, seq) = alice_socket.send_text(Target::Group { id: chess }, "quiet please").await;
    let got = bob_socket
        .expect("the message", |f| matches!(f, ServerFrame::Message { message } if message.seq == seq))
        .await;
    assert!(matches!(got, ServerFrame::Message { message } if message.muted), "muted for Bob");
    let (status, mine) =
        put(&server, &format!("/api/groups/{chess}/mute"), &bob.token, json!({"muted": false})).await;
    assert_eq!(status, StatusCode::OK);
    assert_eq!(mine["muted"], false);
    let (_, seq) = alice_socket.send_text(Target::Group { id: chess }, "speak up").await;
    let got = bob_socket
        .expect("the message", |f| matches!(f, ServerFrame::Message { message } if message.seq == seq))
        .await;
    assert!(matches!(got, ServerFrame::Message { message } if !message.muted));

    // Outsiders: no member list, no mute, no changes.
    let (status, body) = server.get(&format!("/api/groups/{chess}/members"), &mallory.token).await;
    assert_eq!(status, StatusCode::FORBIDDEN);
    assert_eq!(code(&body), "forbidden");
    let (status, body) =
        put(&server, &format!("/api/groups/{chess}/mute"), &mallory.token, json!({"muted": true})).await;
    assert_eq!(status, StatusCode::FORBIDDEN);
    assert_eq!(code(&body), "forbidden");
    let (status, _) = server.get("/api/groups/424242/members", &mallory.token).await;
    assert_eq!(status, StatusCode::NOT_FOUND);
    let (status, _) = server
        .request(
            Method::PATCH,
            &format!("/api/groups/{chess}"),
            Some(&mallory.token),
            Some(json!({"name": "Mine"})),
        )
        .await;
    assert_eq!(status, StatusCode::FORBIDDEN);
    let (status, _) = server
        .request(
            Method::PATCH,
            &format!("/api/groups/{chess}"),
            Some(&bob.token),
            Some(json!({"name": "Mine"})),
        )
        .await;
    assert_eq!(status, StatusCode::FORBIDDEN, "a plain member does not rename the group");

    // The owner renames it; members are told.
    let (status, profile) = server
        .request(
            Method::PATCH,
            &format!("/api/groups/{chess}"),
            Some(&alice.token),
            Some(json!({"name": "Chess & Go"})),
        )
        .await;
    assert_eq!(status, StatusCode::OK, "{profile}");
    assert_eq!(profile["name"], "Chess & Go");
    assert_eq!(profile["description"], "for tests", "left out, left alone");
    let updated = bob_socket.expect("group_updated", |f| matches!(f, ServerFrame::GroupUpdated { .. })).await;
    assert!(matches!(updated, ServerFrame::GroupUpdated { group } if group.name == "Chess & Go"));
    let (status, body) = server
        .request(
            Method::PATCH,
            &format!("/api/groups/{chess}"),
            Some(&alice.token),
            Some(json!({"name": ""})),
        )
        .await;
    assert_eq!(status, StatusCode::BAD_REQUEST);
    assert_eq!(code(&body), "invalid_field");
    server.stop().await;
}

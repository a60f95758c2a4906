//! Group announcements end to end: who may set and clear one, its bounds, the live
//! `group_updated` push (on one server and across a cluster), the group lists that carry it
//! for clients that were away, and that only members read it.

mod common;

use common::{Backend, TestCluster, TestServer, TestSocket, code};
use kith_shared::ServerFrame;
use kith_shared::api::{LoginResponse, limits};
use reqwest::{Method, StatusCode};
use serde_json::{Value, json};

backend_tests!(
    owner_and_admins_set_members_are_refused,
    members_get_the_announcement_live_and_in_lists,
    bounds_and_clearing,
    only_members_read_the_announcement,
);

// A cluster cannot run on SQLite.
#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn announcement_crosses_the_cluster_on_postgres() {
    announcement_crosses_the_cluster(Backend::Postgres).await
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn announcement_crosses_the_cluster_on_mysql() {
    announcement_crosses_the_cluster(Backend::MySql).await
}

async fn online(server: &TestServer, token: &str) -> TestSocket {
    let mut socket = server.connect(token).await;
    socket.assert_alive().await;
    socket
}

async fn announce(server: &TestServer, who: &LoginResponse, group: i64, text: &str) -> (StatusCode, Value) {
    server
        .request(
            Method::PATCH,
            &format!("/api/groups/{group}"),
            Some(&who.token),
            Some(json!({"announcement": text})),
        )
        .await
}

/// Waits for `group_updated` carrying `text` as the announcement (None: cleared).
async fn expect_announcement(socket: &mut TestSocket, group: i64, text: Option<&str>) -> ServerFrame {
    socket
        .expect("group_updated with the announcement", |f| {
            matches!(f, ServerFrame::GroupUpdated { group: g }
                if g.id == group && g.announcement.as_ref().map(|a| a.text.as_str()) == text)
        })
        .await
}

async fn owner_and_admins_set_members_are_refused(backend: Backend) {
    let Some(server) = TestServer::start(backend).await else { return };
    let alice = server.user("alice").await;
    let bob = server.user("bob").await;
    let carol = server.user("carol").await;
    let mallory = server.user("mallory").await;
    let group = server.group(&alice, "Climbers").await;
    server.join(&alice, &bob, group).await;
    server.join(&alice, &carol, group).await;

    // The owner sets it: the profile says what, who and when.
    let (status, profile) = announce(&server, &alice, group, "  Meet at the wall on Friday  ").await;
    assert_eq!(status, StatusCode::OK, "{profile}");
    assert_eq!(profile["announcement"]["text"], "Meet at the wall on Friday", "trimmed");
    assert_eq!(profile["announcement"]["set_by"], alice.user.id);
    assert_eq!(profile["announcement"]["set_by_name"], alice.user.display_name);
    assert!(profile["announcement"]["set_at"].as_i64().is_some_and(|at| at > 0), "{profile}");
    assert_eq!(profile["name"], "Climbers", "other fields left alone");

    // A plain member and an outsider are refused, and nothing changes.
    let (status, body) = announce(&server, &bob, group, "Mine now").await;
    assert_eq!(status, StatusCode::FORBIDDEN, "{body}");
    assert_eq!(code(&body), "forbidden");
    let (status, body) = announce(&server, &mallory, group, "Mine now").await;
    assert_eq!(status, StatusCode::FORBIDDEN, "{body}");
    assert_eq!(code(&body), "forbidden");
    let (_, profile) = server.get(&format!("/api/groups/{group}"), &carol.token).await;
    assert_eq!(profile["announcement"]["text"], "Meet at the wall on Friday");

    // Bob made an admin may; the announcement is then his.
    let (status, body) = server
        .request(
            Method::PUT,
            &format!("/api/groups/{group}/members/{}/role", bob.user.id),
            Some(&alice.token),
            Some(json!({"role": "admin"})),
        )
        .await;
    assert_eq!(status, StatusCode::OK, "{body}");
    let (status, profile) = announce(&server, &bob, group, "Friday is off").await;
    assert_eq!(status, StatusCode::OK, "{profile}");
    assert_eq!(profile["announcement"]["text"], "Friday is off");
    assert_eq!(profile["announcement"]["set_by"], bob.user.id);
    assert_eq!(profile["announcement"]["set_by_name"], bob.user.display_name);

    // No such group.
    let (status, body) = announce(&server, &alice, group + 1000, "Hello").await;
    assert_eq!(status, StatusCode::NOT_FOUND, "{body}");
    server.stop().await;
}

async fn members_get_the_announcement_live_and_in_lists(backend: Backend) {
    let Some(server) = TestServer::start(backend).await else { return };
    let (alice, bob, carol, group) = server.climbers().await;
    let mut bob_socket = online(&server, &bob.token).await;

    // Bob is online and gets it live; Carol is away.
    let (status, body) = announce(&server, &alice, group, "Ropes are in the van\nBring shoes").await;
    assert_eq!(status, StatusCode::OK, "{body}");
    let updated =
        expect_announcement(&mut bob_socket, group, Some("Ropes are in the van\nBring shoes")).await;
    let ServerFrame::GroupUpdated { group: pushed } = updated else { unreachable!("matched group_updated") };
    let announcement = pushed.announcement.expect("an announcement");
    assert_eq!((announcement.set_by, announcement.set_by_name.as_str()), (alice.user.id, "Alice"));

    // Carol's next list load carries it, as does the group's profile fetched by a member;
    // search results never do (they are for finding groups to join).
    let (status, list) = server.get("/api/groups", &carol.token).await;
    assert_eq!(status, StatusCode::OK, "{list}");
    let mine = list.as_array().expect("list").iter().find(|g| g["group"]["id"] == group).expect("the group");
    assert_eq!(mine["group"]["announcement"]["text"], "Ropes are in the van\nBring shoes");
    assert_eq!(mine["group"]["announcement"]["set_by"], alice.user.id);
    let (_, profile) = server.get(&format!("/api/groups/{group}"), &carol.token).await;
    assert_eq!(profile["announcement"]["text"], "Ropes are in the van\nBring shoes");
    let (_, found) = server.get("/api/groups/search?q=climb", &carol.token).await;
    assert_eq!(found[0]["id"], group);
    assert!(found[0]["announcement"].is_null(), "{found}");

    // Clearing reaches Bob live and empties Carol's list.
    let (status, profile) = announce(&server, &alice, group, "").await;
    assert_eq!(status, StatusCode::OK, "{profile}");
    assert!(profile["announcement"].is_null(), "{profile}");
    expect_announcement(&mut bob_socket, group, None).await;
    let (_, list) = server.get("/api/groups", &carol.token).await;
    assert!(list[0]["group"]["announcement"].is_null(), "{list}");

    // A rename alone leaves the announcement as it is.
    announce(&server, &alice, group, "Still here").await;
    let (status, profile) = server
        .request(
            Method::PATCH,
            &format!("/api/groups/{group}"),
            Some(&alice.token),
            Some(json!({"name": "Boulderers"})),
        )
        .await;
    assert_eq!(status, StatusCode::OK, "{profile}");
    assert_eq!(profile["announcement"]["text"], "Still here");
    server.stop().await;
}

async fn bounds_and_clearing(backend: Backend) {
    let Some(server) = TestServer::start(backend).await else { return };
    let alice = server.user("alice").await;
    let group = server.group(&alice, "Climbers").await;

    let longest = "é".repeat(limits::GROUP_ANNOUNCEMENT_MAX);
    let (status, profile) = announce(&server, &alice, group, &longest).await;
    assert_eq!(status, StatusCode::OK, "{profile}");
    assert_eq!(profile["announcement"]["text"], longest.as_str(), "stored whole on every backend");

    let too_long = "a".repeat(limits::GROUP_ANNOUNCEMENT_MAX + 1);
    let (status, body) = announce(&server, &alice, group, &too_long).await;
    assert_eq!(status, StatusCode::BAD_REQUEST, "{body}");
    assert_eq!(code(&body), "invalid_field");
    let (status, body) = announce(&server, &alice, group, "bell\u{7}").await;
    assert_eq!(status, StatusCode::BAD_REQUEST, "{body}");
    assert_eq!(code(&body), "invalid_field");
    let (_, profile) = server.get(&format!("/api/groups/{group}"), &alice.token).await;
    assert_eq!(profile["announcement"]["text"], longest.as_str(), "refusals change nothing");

    // Blank text clears it.
    let (status, profile) = announce(&server, &alice, group, "  \n ").await;
    assert_eq!(status, StatusCode::OK, "{profile}");
    assert!(profile["announcement"].is_null(), "{profile}");
    let (_, profile) = server.get(&format!("/api/groups/{group}"), &alice.token).await;
    assert!(profile["announcement"].is_null(), "{profile}");
    server.stop().await;
}

async fn only_members_read_the_announcement(backend: Backend) {
    let Some(server) = TestServer::start(backend).await else { return };
    let (alice, bob, _carol, group) = server.climbers().await;
    let mallory = server.user("mallory").await;
    let dave = server.user("dave").await;
    server.befriend(&bob, &dave).await;
    let (status, body) = announce(&server, &alice, group, "Members only: the code is 1234").await;
    assert_eq!(status, StatusCode::OK, "{body}");
    let profile_path = format!("/api/groups/{group}");

    // An outsider gets the profile without it, from the profile and from search.
    let (status, profile) = server.get(&profile_path, &mallory.token).await;
    assert_eq!(status, StatusCode::OK, "{profile}");
    assert_eq!((profile["id"].as_i64(), profile["name"].as_str()), (Some(group), Some("Climbers")));
    assert_eq!(profile["member_count"], 3, "the rest of the profile is there");
    assert!(profile["announcement"].is_null(), "{profile}");
    let (_, found) = server.get("/api/groups/search?q=climb", &mallory.token).await;
    assert_eq!(found[0]["id"], group);
    assert!(found[0]["announcement"].is_null(), "{found}");
    let (_, member_view) = server.get(&profile_path, &bob.token).await;
    assert_eq!(member_view["announcement"]["text"], "Members only: the code is 1234");

    // Nor does an applicant, in the answer or their list, nor an invitee, live or listed.
    let (status, application) = server
        .post(&format!("/api/groups/{group}/applications"), Some(&mallory.token), json!({"message": "hi"}))
        .await;
    assert_eq!(status, StatusCode::CREATED, "{application}");
    assert_eq!(application["group"]["id"], group);
    assert!(application["group"]["announcement"].is_null(), "{application}");
    let (_, alices) = server.get("/api/group-requests", &alice.token).await;
    assert!(alices["applications"][0]["group"]["announcement"].is_null(), "{alices}");
    let mut dave_socket = online(&server, &dave.token).await;
    let (status, invitation) = server
        .post(
            &format!("/api/groups/{group}/invitations"),
            Some(&bob.token),
            json!({"user_id": dave.user.id, "message": "join us"}),
        )
        .await;
    assert_eq!(status, StatusCode::CREATED, "{invitation}");
    assert!(invitation["group"]["announcement"].is_null(), "{invitation}");
    let pushed =
        dave_socket.expect("the invitation", |f| matches!(f, ServerFrame::GroupRequestReceived { .. })).await;
    let ServerFrame::GroupRequestReceived { request } = pushed else { unreachable!("matched") };
    assert_eq!(request.group.id, group);
    assert_eq!(request.group.announcement, None);
    let (_, daves) = server.get("/api/group-requests", &dave.token).await;
    assert!(daves["invitations"][0]["group"]["announcement"].is_null(), "{daves}");
    drop(dave_socket);
    let dave_again = server.connect(&dave.token).await;
    let Some(ServerFrame::SyncState { group_requests, .. }) = &dave_again.sync else { panic!("no sync") };
    assert!(group_requests.iter().all(|r| r.group.announcement.is_none()), "{group_requests:?}");

    // Dave accepts: as a member he gets it, with the group he joined and in its profile.
    let mut dave_socket = dave_again;
    let invitation_id = invitation["id"].as_i64().expect("invitation id");
    let (status, body) = server
        .post(&format!("/api/group-requests/{invitation_id}/accept"), Some(&dave.token), json!({}))
        .await;
    assert_eq!(status, StatusCode::NO_CONTENT, "{body}");
    let joined = dave_socket.expect("group_joined", |f| matches!(f, ServerFrame::GroupJoined { .. })).await;
    let ServerFrame::GroupJoined { group: mine } = joined else { unreachable!("matched") };
    let text = mine.group.announcement.map(|a| a.text);
    assert_eq!(text.as_deref(), Some("Members only: the code is 1234"));
    let (_, profile) = server.get(&profile_path, &dave.token).await;
    assert_eq!(profile["announcement"]["text"], "Members only: the code is 1234");

    // Having left, he reads the profile as an outsider again.
    let (status, body) = server
        .request(
            Method::DELETE,
            &format!("/api/groups/{group}/members/{}", dave.user.id),
            Some(&dave.token),
            None,
        )
        .await;
    assert_eq!(status, StatusCode::NO_CONTENT, "{body}");
    let (_, profile) = server.get(&profile_path, &dave.token).await;
    assert!(profile["announcement"].is_null(), "{profile}");
    assert_eq!(profile["name"], "Climbers");
    server.stop().await;
}

async fn announcement_crosses_the_cluster(backend: Backend) {
    let Some(cluster) = TestCluster::start(backend, 2).await else { return };
    let [a, b] = &cluster.nodes[..] else { unreachable!("two nodes") };
    let alice = a.user("alice").await;
    let bob = b.user("bob").await;
    let group = a.group(&alice, "Climbers").await;
    a.join(&alice, &bob, group).await;
    let mut bob_socket = online(b, &bob.token).await;

    let (status, body) = announce(a, &alice, group, "Set on node A").await;
    assert_eq!(status, StatusCode::OK, "{body}");
    expect_announcement(&mut bob_socket, group, Some("Set on node A")).await;
    let (_, profile) = b.get(&format!("/api/groups/{group}"), &bob.token).await;
    assert_eq!(profile["announcement"]["text"], "Set on node A");
    cluster.stop().await;
}

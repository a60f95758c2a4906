//! Several nodes, one community: three `kith-server` processes on one PostgreSQL or MariaDB
//! database and one NATS (NATS_URL), each test under a NATS subject prefix of its own.
//! Users connect to different nodes and must not notice.

mod common;
#[path = "cluster/front.rs"]
mod front;
#[path = "cluster/own_nats.rs"]
mod own_nats;
#[path = "cluster/roaming.rs"]
mod roaming;

use common::{Backend, PASSWORD, TestCluster, TestServer, TestSocket};
use front::Front;
use kith_server::Server;
use kith_server::config::Config;
use kith_shared::api::LoginResponse;
use kith_shared::frame::{ChatMessage, Content, KickReason, ReceiptKind, Target};
use kith_shared::{ClientFrame, ServerFrame};
use own_nats::OwnNats;
use reqwest::StatusCode;
use roaming::{Door, Held, Load, Plan, Roamer};
use serde_json::json;
use std::collections::{BTreeMap, HashMap};
use std::time::{Duration, SystemTime};

/// Declares `mod postgres` and `mod mysql` (a cluster cannot run on SQLite), each running
/// every named test on that backend.
macro_rules! cluster_tests {
    ($($name:ident),* $(,)?) => {
        mod postgres { $( #[tokio::test(flavor = "multi_thread", worker_threads = 2)] async fn $name() { super::$name(crate::common::Backend::Postgres).await } )* }
        mod mysql { $( #[tokio::test(flavor = "multi_thread", worker_threads = 2)] async fn $name() { super::$name(crate::common::Backend::MySql).await } )* }
    };
}

cluster_tests!(
    one_to_one_across_nodes,
    group_across_three_nodes_has_one_order,
    a_resend_through_another_node_is_stored_once,
    concurrent_writers_on_every_node_number_without_gaps,
    a_login_on_another_node_kicks_the_first_session,
    removing_a_friend_on_one_node_stops_delivery_on_another,
    presence_crosses_nodes_and_a_killed_nodes_users_go_offline,
    a_node_killed_under_one_to_one_load_loses_and_repeats_nothing,
    a_node_killed_under_group_load_loses_and_repeats_nothing,
    nats_restarted_under_load_loses_nothing_and_delivery_resumes,
    behind_haproxy_a_killed_node_is_left_for_the_others,
    files_are_shared_by_the_nodes_and_swept_once,
    logins_of_one_account_on_two_nodes_at_once_leave_one_session,
);

#[tokio::test]
async fn a_cluster_on_sqlite_is_refused_at_start() {
    let dir = tempfile::tempdir().expect("temp dir");
    let config = Config {
        http_port: 0,
        socket_port: 0,
        data_dir: dir.path().join("data"),
        upload_dir: dir.path().join("data/uploads"),
        nats_url: Some("nats://127.0.0.1:4222".to_owned()),
        ..Config::default()
    };
    let err = match Server::start(config).await {
        Ok(_) => panic!("a cluster node on SQLite started"),
        Err(err) => err.to_string(),
    };
    assert!(err.contains("NATS_URL") && err.contains("SQLite") && err.contains("PostgreSQL"), "{err}");
}

fn text(client_id: &str, to: Target, text: &str) -> ClientFrame {
    ClientFrame::Send { client_id: client_id.to_owned(), to, content: Content::text(text) }
}

/// Waits for a `message` in `conversation` with this text.
async fn expect_text(socket: &mut TestSocket, conversation: i64, wanted: &str) -> ChatMessage {
    let frame = socket
        .expect(wanted, |f| {
            matches!(f, ServerFrame::Message { message } if message.conversation_id == conversation
                && matches!(&message.content, Content::Text { text, .. } if text == wanted))
        })
        .await;
    match frame {
        ServerFrame::Message { message } => message,
        other => unreachable!("matched a message, got {other:?}"),
    }
}

/// Every message of a conversation, oldest first, read through `node`'s HTTP API.
async fn history(node: &TestServer, token: &str, conversation: i64) -> Vec<ChatMessage> {
    let mut all = Vec::new();
    let mut after = 0;
    loop {
        let (status, page) = node
            .get(&format!("/api/conversations/{conversation}/messages?after={after}&limit=200"), token)
            .await;
        assert_eq!(status, StatusCode::OK, "{page}");
        let page: Vec<ChatMessage> = serde_json::from_value(page["messages"].clone()).expect("messages");
        let Some(last) = page.last() else { return all };
        after = last.seq;
        all.extend(page);
    }
}

fn assert_gap_free(messages: &[ChatMessage]) {
    for (index, message) in messages.iter().enumerate() {
        assert_eq!(message.seq, index as i64 + 1, "seq {} at place {index}: a gap or a repeat", message.seq);
    }
    let mut ids: Vec<i64> = messages.iter().map(|m| m.id).collect();
    ids.sort_unstable();
    ids.dedup();
    assert_eq!(ids.len(), messages.len(), "two messages share an id");
}

async fn one_to_one_across_nodes(backend: Backend) {
    let Some(cluster) = TestCluster::start(backend, 3).await else { return };
    let [a, b, c] = &cluster.nodes[..] else { unreachable!("three nodes") };
    let alice = a.user("alice").await;
    let bob = b.user("bob").await;
    let conversation = c.befriend(&alice, &bob).await;
    let mut alice_socket = a.connect(&alice.token).await;
    let mut bob_socket = b.connect(&bob.token).await;

    alice_socket.send(&text("a-1", Target::User { id: bob.user.id }, "hello from node A")).await;
    let ack = alice_socket
        .expect("ack", |f| matches!(f, ServerFrame::Ack { client_id, .. } if client_id == "a-1"))
        .await;
    let message = expect_text(&mut bob_socket, conversation, "hello from node A").await;
    let ServerFrame::Ack { message_id, seq, .. } = ack else { unreachable!("matched an ack") };
    assert_eq!((message.id, message.seq), (message_id, seq), "the pushed copy is the stored one");

    bob_socket.send(&text("b-1", Target::User { id: alice.user.id }, "hello from node B")).await;
    let reply = expect_text(&mut alice_socket, conversation, "hello from node B").await;
    assert_eq!(reply.seq, seq + 1);

    // Receipts and typing cross too.
    bob_socket
        .send(&ClientFrame::Receipt { conversation_id: conversation, kind: ReceiptKind::Read, seq })
        .await;
    alice_socket
        .expect("bob's receipt", |f| {
            matches!(f, ServerFrame::ReceiptUpdated { user_id, read_seq, .. } if *user_id == bob.user.id && *read_seq == seq)
        })
        .await;
    bob_socket.send(&ClientFrame::Typing { conversation_id: conversation }).await;
    alice_socket
        .expect("bob typing", |f| matches!(f, ServerFrame::Typing { user_id, .. } if *user_id == bob.user.id))
        .await;

    // A profile change made through node C reaches Alice on node A.
    let (status, body) = c
        .request(reqwest::Method::PATCH, "/api/me", Some(&bob.token), Some(json!({"display_name": "Robert"})))
        .await;
    assert_eq!(status, StatusCode::OK, "{body}");
    alice_socket
        .expect("bob's new name", |f| {
            matches!(f, ServerFrame::ProfileUpdated { user } if user.id == bob.user.id && user.display_name == "Robert")
        })
        .await;

    assert_gap_free(&history(c, &alice.token, conversation).await);
    cluster.stop().await;
}

async fn group_across_three_nodes_has_one_order(backend: Backend) {
    let Some(cluster) = TestCluster::start(backend, 3).await else { return };
    let nodes = &cluster.nodes;
    // Six members, two on each node; the owner makes the group on node A and every other
    // member joins through a different node than the one they will write through.
    let mut users = Vec::new();
    for (i, name) in ["ann", "ben", "cat", "dan", "eve", "fay"].into_iter().enumerate() {
        users.push(nodes[i % 3].user(name).await);
    }
    let group = make_group(nodes, &users).await;
    let mut sockets = Vec::new();
    for (i, user) in users.iter().enumerate() {
        sockets.push(nodes[i % 3].connect(&user.token).await);
    }

    // Everyone writes at once, through their own node.
    const EACH: usize = 20;
    for (i, socket) in sockets.iter_mut().enumerate() {
        for n in 0..EACH {
            socket.send(&text(&format!("m-{i}-{n}"), Target::Group { id: group }, &format!("{i}:{n}"))).await;
        }
    }
    let total = EACH * users.len();
    let mut seen: Vec<BTreeMap<i64, (i64, String)>> = Vec::new();
    for socket in &mut sockets {
        let mut mine = BTreeMap::new();
        let mut from_others = 0;
        while from_others < total - EACH {
            let frame = socket.recv().await;
            if let ServerFrame::Message { message } = frame
                && message.conversation_id == group
                && let Some(client_id) = message.client_id.clone()
            {
                assert!(mine.insert(message.seq, (message.id, client_id)).is_none(), "a message came twice");
                from_others += 1;
            }
        }
        seen.push(mine);
    }
    let stored = history(&nodes[2], &users[0].token, group).await;
    assert_gap_free(&stored);
    let stored_texts: BTreeMap<i64, (i64, String)> =
        stored.iter().filter_map(|m| Some((m.seq, (m.id, m.client_id.clone()?)))).collect();
    assert_eq!(stored_texts.len(), total, "every message stored once");
    for (i, mine) in seen.iter().enumerate() {
        // Each member received every message but their own, under the stored numbers.
        let expected: BTreeMap<i64, (i64, String)> = stored_texts
            .iter()
            .filter(|(_, (_, client_id))| !client_id.starts_with(&format!("m-{i}-")))
            .map(|(seq, v)| (*seq, v.clone()))
            .collect();
        assert_eq!(mine, &expected, "member {i} saw another order");
    }
    cluster.stop().await;
}

/// The first user makes a group through node A and every other one joins it through another
/// node than the one they use (user i uses node i % 3). Returns the group's id.
async fn make_group(nodes: &[TestServer], users: &[LoginResponse]) -> i64 {
    let (status, body) = nodes[0]
        .post("/api/groups", Some(&users[0].token), json!({"name": "club", "description": "three nodes"}))
        .await;
    assert_eq!(status, StatusCode::CREATED, "{body}");
    let group = body["group"]["id"].as_i64().expect("group id");
    for (i, user) in users.iter().enumerate().skip(1) {
        let node = &nodes[(i + 1) % nodes.len()];
        let (status, body) = node
            .post(&format!("/api/groups/{group}/applications"), Some(&user.token), json!({"message": "hi"}))
            .await;
        assert_eq!(status, StatusCode::CREATED, "{body}");
        let id = body["id"].as_i64().expect("request id");
        let (status, body) =
            node.post(&format!("/api/group-requests/{id}/accept"), Some(&users[0].token), json!({})).await;
        assert_eq!(status, StatusCode::NO_CONTENT, "{body}");
    }
    group
}

async fn a_resend_through_another_node_is_stored_once(backend: Backend) {
    let Some(cluster) = TestCluster::start(backend, 3).await else { return };
    let [a, b, c] = &cluster.nodes[..] else { unreachable!("three nodes") };
    let alice = a.user("alice").await;
    let bob = a.user("bob").await;
    let conversation = a.befriend(&alice, &bob).await;
    let to = Target::User { id: bob.user.id };

    let mut first = a.connect(&alice.token).await;
    first.send(&text("same-id", to, "once")).await;
    let original = first.expect("ack", |f| matches!(f, ServerFrame::Ack { .. })).await;
    drop(first);
    // The client lost its connection before it saw the ack and resends through node B,
    // then through node C.
    for node in [b, c] {
        let mut again = node.connect(&alice.token).await;
        again.send(&text("same-id", to, "once")).await;
        let ack = again.expect("ack", |f| matches!(f, ServerFrame::Ack { .. })).await;
        assert_eq!(ack, original, "the resend is answered with the original ack");
    }
    let stored = history(c, &bob.token, conversation).await;
    assert_eq!(stored.iter().filter(|m| m.client_id.as_deref() == Some("same-id")).count(), 1);
    cluster.stop().await;
}

async fn concurrent_writers_on_every_node_number_without_gaps(backend: Backend) {
    let Some(cluster) = TestCluster::start_with(backend, 3, |config| config.multi_device = true).await else {
        return;
    };
    let nodes = &cluster.nodes;
    let alice = nodes[0].user("alice").await;
    let bob = nodes[0].user("bob").await;
    let conversation = nodes[0].befriend(&alice, &bob).await;
    // Alice and Bob each write through every node at once (a login per connection,
    // MULTI_DEVICE on), in bursts the writers take in batches.
    const EACH: usize = 150;
    let mut tasks = Vec::new();
    for (i, node) in nodes.iter().enumerate() {
        for (who, to) in [(&alice, bob.user.id), (&bob, alice.user.id)] {
            let base = node.base.clone();
            let socket_addr = node.socket_addr;
            let name = who.user.username.clone();
            tasks.push(tokio::spawn(async move {
                let http = reqwest::Client::new();
                let login: kith_shared::api::LoginResponse = http
                    .post(format!("{base}/api/login"))
                    .json(&json!({"username": name, "password": PASSWORD}))
                    .send()
                    .await
                    .expect("login")
                    .json()
                    .await
                    .expect("login body");
                let stream = tokio::net::TcpStream::connect(socket_addr).await.expect("connect");
                let mut socket = TestSocket::hello(TestSocket::new(stream), &login.token).await;
                for n in 0..EACH {
                    socket.send(&text(&format!("{name}-{i}-{n}"), Target::User { id: to }, "x")).await;
                }
                let mut acked = HashMap::new();
                while acked.len() < EACH {
                    if let ServerFrame::Ack { client_id, seq, .. } = socket.recv().await {
                        acked.insert(client_id, seq);
                    }
                }
                acked
            }));
        }
    }
    let mut acked: HashMap<String, i64> = HashMap::new();
    for task in tasks {
        acked.extend(task.await.expect("writer task"));
    }
    let stored = history(&nodes[1], &alice.token, conversation).await;
    assert_gap_free(&stored);
    let by_client: HashMap<&str, i64> =
        stored.iter().filter_map(|m| Some((m.client_id.as_deref()?, m.seq))).collect();
    for (client_id, seq) in &acked {
        assert_eq!(
            by_client.get(client_id.as_str()),
            Some(seq),
            "{client_id} acknowledged under another seq"
        );
    }
    assert_eq!(acked.len(), EACH * 6);
    assert_eq!(stored.len(), EACH * 6, "every message stored once");
    cluster.stop().await;
}

async fn a_login_on_another_node_kicks_the_first_session(backend: Backend) {
    let Some(cluster) = TestCluster::start(backend, 3).await else { return };
    let [a, b, _] = &cluster.nodes[..] else { unreachable!("three nodes") };
    let alice = a.user("alice").await;
    let mut on_a = a.connect(&alice.token).await;
    let second = b.login("alice").await;
    let mut on_b = b.connect(&second.token).await;
    let last = on_a.closed().await;
    assert!(
        last.iter().any(|f| matches!(f, ServerFrame::Kicked { reason: KickReason::LoggedInElsewhere, .. })),
        "node A's session was not kicked: {last:?}"
    );
    on_b.assert_alive().await;

    // Logging out through node A closes the socket on node B.
    let (status, body) = a.post("/api/logout", Some(&second.token), json!({})).await;
    assert!(status.is_success(), "{status} {body}");
    let last = on_b.closed().await;
    assert!(
        last.iter().any(|f| matches!(f, ServerFrame::Kicked { reason: KickReason::LoggedOut, .. })),
        "node B's socket was not closed by the log-out: {last:?}"
    );
    cluster.stop().await;
}

async fn removing_a_friend_on_one_node_stops_delivery_on_another(backend: Backend) {
    let Some(cluster) = TestCluster::start(backend, 3).await else { return };
    let [a, b, c] = &cluster.nodes[..] else { unreachable!("three nodes") };
    let alice = a.user("alice").await;
    let bob = a.user("bob").await;
    let conversation = a.befriend(&alice, &bob).await;
    let mut alice_socket = b.connect(&alice.token).await;
    let mut bob_socket = c.connect(&bob.token).await;
    // Node B has the conversation's members cached once Alice wrote through it.
    alice_socket.send(&text("before", Target::User { id: bob.user.id }, "still friends")).await;
    expect_text(&mut bob_socket, conversation, "still friends").await;

    // Bob removes Alice through node A; node B must refuse Alice's next message at once.
    let (status, body) = a
        .request(reqwest::Method::DELETE, &format!("/api/friends/{}", alice.user.id), Some(&bob.token), None)
        .await;
    assert!(status.is_success(), "{status} {body}");
    alice_socket
        .expect(
            "friend_removed",
            |f| matches!(f, ServerFrame::FriendRemoved { user_id } if *user_id == bob.user.id),
        )
        .await;
    alice_socket.send(&text("after", Target::User { id: bob.user.id }, "not any more")).await;
    let answer = alice_socket
        .expect("an answer", |f| {
            matches!(f, ServerFrame::Ack { client_id, .. } | ServerFrame::Error { reference: Some(client_id), .. } if client_id == "after")
        })
        .await;
    assert!(matches!(answer, ServerFrame::Error { .. }), "node B still let Alice write to Bob: {answer:?}");
    cluster.stop().await;
}

async fn presence_crosses_nodes_and_a_killed_nodes_users_go_offline(backend: Backend) {
    let Some(mut cluster) = TestCluster::start(backend, 3).await else { return };
    let alice = cluster.nodes[0].user("alice").await;
    let bob = cluster.nodes[0].user("bob").await;
    let carol = cluster.nodes[0].user("carol").await;
    cluster.nodes[0].befriend(&alice, &bob).await;
    cluster.nodes[0].befriend(&carol, &bob).await;

    let mut bob_socket = cluster.nodes[1].connect(&bob.token).await;
    let _alice_socket = cluster.nodes[0].connect(&alice.token).await;
    bob_socket
        .expect(
            "alice online",
            |f| matches!(f, ServerFrame::Presence { user_id, online: true } if *user_id == alice.user.id),
        )
        .await;
    // A connection opened on a third node is told who is online on the others, and so are
    // the friend lists of every node.
    let mut carol_socket = cluster.nodes[2].connect(&carol.token).await;
    carol_socket
        .expect(
            "bob online",
            |f| matches!(f, ServerFrame::Presence { user_id, online: true } if *user_id == bob.user.id),
        )
        .await;
    let online_friend = |friends: &serde_json::Value, id: i64| {
        friends.as_array().expect("friends").iter().find(|f| f["user"]["id"] == id).expect("friend")["online"]
            .as_bool()
            .expect("online")
    };
    let (_, friends) = cluster.nodes[2].get("/api/friends", &bob.token).await;
    assert!(online_friend(&friends, alice.user.id), "node C does not see Alice on node A: {friends}");

    // Node A dies without a word: Bob on node B is told Alice went offline within the lease.
    cluster.nodes[0].kill().await;
    bob_socket
        .expect(
            "alice offline",
            |f| matches!(f, ServerFrame::Presence { user_id, online: false } if *user_id == alice.user.id),
        )
        .await;
    // Node B, which told Bob, answers the same (each node forgets node A on its own clock).
    let (_, friends) = cluster.nodes[1].get("/api/friends", &bob.token).await;
    assert!(!online_friend(&friends, alice.user.id), "Alice still online after her node died: {friends}");
    assert!(online_friend(&friends, carol.user.id), "Carol's node is alive: {friends}");

    // Bob's last connection closes on node B: Carol on node C is told he went offline.
    drop(bob_socket);
    carol_socket
        .expect(
            "bob offline",
            |f| matches!(f, ServerFrame::Presence { user_id, online: false } if *user_id == bob.user.id),
        )
        .await;
    cluster.stop().await;
}

/// Where every node of the cluster answers, in node order.
fn doors(cluster: &TestCluster) -> Vec<Door> {
    cluster.nodes.iter().map(|node| Door { http: node.base.clone(), socket: node.socket_addr }).collect()
}

/// `count` messages from `from` to `to`, under client ids of their own.
fn plan(from: &str, to: Target, count: usize) -> Plan {
    (0..count).map(|n| (format!("{from}-{n}"), to, format!("{from} {n}"))).collect()
}

/// Messages unacknowledged at most per client during a load.
const WINDOW: usize = 8;

/// After a load: every conversation's history, read through `node`, is gap-free; every
/// acknowledged message is in it once, under the acknowledged id and seq; no client id is
/// stored twice; and every member holds exactly the stored messages under the stored numbers
/// (after catching up from its last seq without a gap, as a client does).
async fn assert_nothing_lost_or_repeated(
    node: &TestServer,
    roamers: &mut [Roamer],
    tokens: &HashMap<i64, String>,
) {
    for roamer in roamers.iter_mut() {
        roamer.fill_gaps().await;
    }
    let mut conversations: Vec<i64> = roamers.iter().flat_map(|r| r.held.keys().copied()).collect();
    conversations.sort_unstable();
    conversations.dedup();
    for conversation in conversations {
        let members: Vec<&Roamer> = roamers.iter().filter(|r| r.held.contains_key(&conversation)).collect();
        let stored = history(node, &tokens[&members[0].user_id], conversation).await;
        assert_gap_free(&stored);
        let stored: BTreeMap<i64, Held> =
            stored.into_iter().map(|m| (m.seq, (m.id, m.sender_id, m.client_id))).collect();
        let mut keys: Vec<(Option<i64>, &str)> =
            stored.values().filter_map(|(_, sender, client)| Some((*sender, client.as_deref()?))).collect();
        let count = keys.len();
        keys.sort_unstable();
        keys.dedup();
        assert_eq!(keys.len(), count, "a message of {conversation} is stored twice");
        for roamer in &members {
            for (client_id, (id, _, seq)) in roamer.acked.iter().filter(|(_, ack)| ack.1 == conversation) {
                assert_eq!(
                    stored.get(seq),
                    Some(&(*id, Some(roamer.user_id), Some(client_id.clone()))),
                    "{}: {client_id} acknowledged as {id} at seq {seq}, stored otherwise",
                    roamer.name
                );
            }
            // A member sees the messages after the one that brought them in.
            let visible: BTreeMap<i64, Held> = history(node, &tokens[&roamer.user_id], conversation)
                .await
                .into_iter()
                .map(|m| (m.seq, (m.id, m.sender_id, m.client_id)))
                .collect();
            let first = visible.keys().next().copied().unwrap_or(1);
            assert!(visible.iter().eq(stored.range(first..)), "{} is shown another history", roamer.name);
            let held = &roamer.held[&conversation];
            let differ: Vec<i64> = stored
                .range(first..)
                .filter(|(seq, m)| held.get(seq) != Some(m))
                .map(|(seq, _)| *seq)
                .collect();
            assert!(differ.is_empty(), "{} holds other messages at seqs {differ:?}", roamer.name);
            assert_eq!(held.len(), visible.len(), "{} holds messages it cannot see", roamer.name);
        }
    }
}

async fn a_node_killed_under_one_to_one_load_loses_and_repeats_nothing(backend: Backend) {
    let Some(mut cluster) = TestCluster::start(backend, 3).await else { return };
    // Two pairs of friends, each across two nodes, both with one friend on node A.
    let names = ["alice", "bob", "carol", "dave"];
    let homes = [0, 1, 2, 0];
    let mut users = Vec::new();
    for name in names {
        users.push(cluster.nodes[0].user(name).await);
    }
    let first = cluster.nodes[1].befriend(&users[0], &users[1]).await;
    let second = cluster.nodes[2].befriend(&users[2], &users[3]).await;
    let partner = [(1, first), (0, first), (3, second), (2, second)];
    const EACH: usize = 150;
    let doors = doors(&cluster);
    let roamers = users
        .iter()
        .enumerate()
        .map(|(i, user)| {
            let (other, conversation) = partner[i];
            let roamer =
                Roamer::new(names[i], user.user.id, &user.token, doors.clone(), homes[i], vec![conversation]);
            (roamer, plan(names[i], Target::User { id: users[other].user.id }, EACH))
        })
        .collect();
    let roamers = kill_node_a_midway(&mut cluster, roamers).await;
    let tokens = users.iter().map(|u| (u.user.id, u.token.clone())).collect();
    let mut roamers = roamers;
    assert_nothing_lost_or_repeated(&cluster.nodes[1], &mut roamers, &tokens).await;
    cluster.stop().await;
}

async fn a_node_killed_under_group_load_loses_and_repeats_nothing(backend: Backend) {
    let Some(mut cluster) = TestCluster::start(backend, 3).await else { return };
    // Five members, user i on node i % 3: two of them on node A.
    let names = ["ann", "ben", "cat", "dan", "eve"];
    let mut users = Vec::new();
    for name in names {
        users.push(cluster.nodes[0].user(name).await);
    }
    let group = make_group(&cluster.nodes, &users).await;
    const EACH: usize = 60;
    let doors = doors(&cluster);
    let roamers = users
        .iter()
        .enumerate()
        .map(|(i, user)| {
            let roamer = Roamer::new(names[i], user.user.id, &user.token, doors.clone(), i % 3, vec![group]);
            (roamer, plan(names[i], Target::Group { id: group }, EACH))
        })
        .collect();
    let mut roamers = kill_node_a_midway(&mut cluster, roamers).await;
    let tokens = users.iter().map(|u| (u.user.id, u.token.clone())).collect();
    assert_nothing_lost_or_repeated(&cluster.nodes[2], &mut roamers, &tokens).await;
    cluster.stop().await;
}

/// Runs the roamers' plans and kills node A (kill -9) once a third of all messages are
/// acknowledged; returns the roamers once everything is. Those that used node A must have
/// lost it mid-way and gone on through another node.
async fn kill_node_a_midway(cluster: &mut TestCluster, roamers: Vec<(Roamer, Plan)>) -> Vec<Roamer> {
    let on_a: Vec<(String, usize)> =
        roamers.iter().filter(|(r, _)| r.at == 0).map(|(r, plan)| (r.name.clone(), plan.len())).collect();
    let load = Load::start(roamers, WINDOW).await;
    load.until_acked(load.total() / 3).await;
    cluster.nodes[0].kill().await;
    let roamers = load.finish().await;
    for (name, planned) in on_a {
        let roamer = roamers.iter().find(|r| r.name == name).expect("the roamer");
        let acked = roamer.acked_at_loss.unwrap_or_else(|| panic!("{name} did not notice node A die"));
        assert!(acked < planned, "{name} had finished before node A died");
        assert_ne!(roamer.at, 0, "{name} is still on node A");
        eprintln!("{name}: {acked} of {planned} acknowledged when node A died, {} sent again", roamer.resent);
    }
    roamers
}

async fn nats_restarted_under_load_loses_nothing_and_delivery_resumes(backend: Backend) {
    let Some(mut nats) = OwnNats::start().await else { return };
    let Some(cluster) = TestCluster::start_on(backend, 3, &nats.url(), |_| {}).await else { return };
    // Three pairs of friends, each pair across two nodes.
    let names = ["alice", "bob", "carol", "dave", "erin", "fred"];
    let homes = [0, 1, 1, 2, 2, 0];
    let mut users = Vec::new();
    for name in names {
        users.push(cluster.nodes[0].user(name).await);
    }
    let mut conversations = Vec::new();
    for pair in users.chunks(2) {
        conversations.push(cluster.nodes[0].befriend(&pair[0], &pair[1]).await);
    }
    const EACH: usize = 150;
    let doors = doors(&cluster);
    let roamers = users
        .iter()
        .enumerate()
        .map(|(i, user)| {
            let friend = &users[i ^ 1];
            let roamer = Roamer::new(
                names[i],
                user.user.id,
                &user.token,
                doors.clone(),
                homes[i],
                vec![conversations[i / 2]],
            );
            (roamer, plan(names[i], Target::User { id: friend.user.id }, EACH))
        })
        .collect();

    // NATS goes away a third of the way through and comes back two thirds of the way: the
    // nodes go on storing and acknowledging meanwhile (the database is the truth).
    let load = Load::start(roamers, WINDOW).await;
    load.until_acked(load.total() / 3).await;
    nats.kill().await;
    load.until_acked(load.total() * 2 / 3).await;
    nats.restart().await;
    let mut roamers = load.finish().await;
    let tokens = users.iter().map(|u| (u.user.id, u.token.clone())).collect();
    assert_nothing_lost_or_repeated(&cluster.nodes[0], &mut roamers, &tokens).await;

    // The nodes joined NATS again by themselves: a message through node A reaches Bob on
    // node B through the bus again (each try waits a little, until the nodes are back).
    let (alice, bob) = (&users[0], &users[1]);
    let mut crossed = false;
    for attempt in 0..40 {
        let from = (&doors[0], alice.token.as_str());
        let to = (&doors[1], bob.token.as_str());
        let wait = std::time::Duration::from_millis(500);
        if roaming::crosses(from, to, bob.user.id, &format!("probe-{attempt}"), wait).await {
            crossed = true;
            break;
        }
    }
    assert!(crossed, "no message crossed from node A to node B after NATS came back");
    cluster.stop().await;
}

async fn behind_haproxy_a_killed_node_is_left_for_the_others(backend: Backend) {
    let Some(mut cluster) = TestCluster::start(backend, 3).await else { return };
    let Some(front) = Front::start(&cluster.nodes).await else { return };
    // Everything goes through the front's two addresses: registering, logging in, making
    // friends, then three pairs chatting over sockets the front spreads over the nodes.
    let names = ["alice", "bob", "carol", "dave", "erin", "fred"];
    let mut users = Vec::new();
    for name in names {
        users.push(front.user(name).await);
    }
    let mut conversations = Vec::new();
    for pair in users.chunks(2) {
        conversations.push(front.befriend(&pair[0], &pair[1]).await);
    }
    const EACH: usize = 100;
    let roamers = users
        .iter()
        .enumerate()
        .map(|(i, user)| {
            let to = Target::User { id: users[i ^ 1].user.id };
            let roamer = Roamer::new(
                names[i],
                user.user.id,
                &user.token,
                vec![front.door.clone()],
                0,
                vec![conversations[i / 2]],
            );
            (roamer, plan(names[i], to, EACH))
        })
        .collect();
    let load = Load::start(roamers, WINDOW).await;
    load.until_acked(load.total() / 3).await;
    cluster.nodes[0].kill().await;
    let mut roamers = load.finish().await;
    // The front gave node A some of the sockets (fewest connections first): their clients
    // came back through the same address.
    let moved: Vec<&str> = roamers.iter().filter(|r| r.reconnects > 0).map(|r| r.name.as_str()).collect();
    assert!(!moved.is_empty(), "no socket was on node A");
    eprintln!("through the front again after node A died: {moved:?}");
    let tokens = users.iter().map(|u| (u.user.id, u.token.clone())).collect();
    assert_nothing_lost_or_repeated(&cluster.nodes[1], &mut roamers, &tokens).await;
    cluster.stop().await;
}

/// Uploads `body` as `name` through `node`.
async fn upload(node: &TestServer, token: &str, name: &str, body: Vec<u8>) -> String {
    let request =
        node.http.post(format!("{}/api/files?name={name}", node.base)).bearer_auth(token).body(body);
    let response =
        tokio::time::timeout(common::PATIENCE, request.send()).await.expect("in time").expect("HTTP");
    assert_eq!(response.status(), StatusCode::CREATED);
    let info: serde_json::Value = response.json().await.expect("file info");
    info["id"].as_str().expect("upload id").to_owned()
}

/// A file's content downloaded through `node`.
async fn download(node: &TestServer, token: &str, id: &str) -> Vec<u8> {
    let request = node.http.get(format!("{}/api/files/{id}/content", node.base)).bearer_auth(token);
    let response =
        tokio::time::timeout(common::PATIENCE, request.send()).await.expect("in time").expect("HTTP");
    assert_eq!(response.status(), StatusCode::OK);
    response.bytes().await.expect("content").to_vec()
}

/// Files deleted by the sweepers of every node, summed over their metrics.
async fn swept(cluster: &TestCluster) -> f64 {
    let mut sum = 0.0;
    for node in &cluster.nodes {
        let address = node.metrics_addr.expect("METRICS_PORT = 0 gives each node a metrics port");
        let text = reqwest::get(format!("http://{address}/metrics"))
            .await
            .expect("metrics")
            .text()
            .await
            .expect("text");
        let line = text
            .lines()
            .find(|l| l.starts_with("kith_sweeper_deleted_total "))
            .expect("the sweeper's counter");
        sum += line.rsplit(' ').next().and_then(|v| v.parse::<f64>().ok()).expect("a number");
    }
    sum
}

/// The names in a folder, sorted.
fn names_in(folder: &std::path::Path) -> Vec<String> {
    let mut names: Vec<String> = std::fs::read_dir(folder)
        .expect("the upload folder")
        .map(|entry| entry.expect("an entry").file_name().to_string_lossy().into_owned())
        .collect();
    names.sort();
    names
}

async fn files_are_shared_by_the_nodes_and_swept_once(backend: Backend) {
    // One upload folder for the three nodes, as on a shared file system. Before they start
    // it holds what another node may be writing right now (fresh) and what a node killed
    // long ago left behind (an hour old).
    let shared = tempfile::tempdir().expect("temp dir");
    let folder = shared.path().join("uploads");
    std::fs::create_dir_all(&folder).expect("upload folder");
    let writing = ["5b0c6a1e-0000-4000-8000-000000000001.part", "5b0c6a1e-0000-4000-8000-000000000002"];
    for name in writing.iter().chain(&["5b0c6a1e-0000-4000-8000-000000000003.part"]) {
        std::fs::write(folder.join(name), b"partial").expect("a file");
    }
    let old = std::fs::File::options()
        .write(true)
        .open(folder.join("5b0c6a1e-0000-4000-8000-000000000003.part"))
        .expect("open");
    old.set_modified(SystemTime::now() - Duration::from_secs(7200)).expect("set its time");
    let Some(cluster) = TestCluster::start_with(backend, 3, |config| {
        config.upload_dir = folder.clone();
        config.sweep_interval = Duration::from_secs(1);
        config.unattached_ttl = Duration::from_secs(3);
        config.metrics_port = Some(0);
    })
    .await
    else {
        return;
    };
    let [a, b, c] = &cluster.nodes[..] else { unreachable!("three nodes") };
    let alice = a.user("alice").await;
    let bob = a.user("bob").await;
    a.befriend(&alice, &bob).await;

    // Uploaded and sent through node A, downloaded through nodes C and B.
    let content: Vec<u8> = (0..100_000u32).map(|i| (i.wrapping_mul(2_654_435_761) >> 24) as u8).collect();
    let sent = upload(a, &alice.token, "notes.bin", content.clone()).await;
    let mut socket = a.connect(&alice.token).await;
    let file = Content::File { upload_id: sent.clone(), name: String::new(), size: 0, mime: String::new() };
    socket
        .send(&ClientFrame::Send {
            client_id: "file".into(),
            to: Target::User { id: bob.user.id },
            content: file,
        })
        .await;
    socket
        .expect("the ack", |f| matches!(f, ServerFrame::Ack { client_id, .. } if client_id == "file"))
        .await;
    assert_eq!(download(c, &alice.token, &sent).await, content, "node C serves another file");
    assert_eq!(download(b, &bob.token, &sent).await, content, "node B serves another file");

    // Uploads never sent, through every node, expire after UNATTACHED_TTL; the file Bob
    // fetched goes too. Three sweepers, each deletes what it claimed: every file once.
    let mut forgotten = Vec::new();
    for (i, node) in cluster.nodes.iter().cycle().take(9).enumerate() {
        forgotten.push(upload(node, &alice.token, &format!("f{i}.txt"), vec![b'x'; 100 + i]).await);
    }
    let deadline = tokio::time::Instant::now() + common::PATIENCE;
    let left: Vec<String> = writing.iter().map(|name| name.to_string()).collect();
    while names_in(&folder) != left || swept(&cluster).await < 10.0 {
        assert!(tokio::time::Instant::now() < deadline, "the sweepers left {:?}", names_in(&folder));
        tokio::time::sleep(Duration::from_millis(100)).await;
    }
    assert_eq!(swept(&cluster).await, 10.0, "a file was deleted twice");
    for id in forgotten.iter().chain([&sent]) {
        let (status, meta) = c.get(&format!("/api/files/{id}"), &alice.token).await;
        assert_eq!((status, &meta["expired"]), (StatusCode::OK, &json!(true)), "{meta}");
    }
    cluster.stop().await;
}

/// Says hello with `token` through `node`: the socket once welcomed, or None when refused.
async fn hello(node: &TestServer, token: &str) -> Option<TestSocket> {
    let mut socket = TestSocket::new(node.raw_socket().await);
    let hello = ClientFrame::Hello { version: kith_shared::PROTOCOL_VERSION, token: token.to_owned() };
    socket.send(&hello).await;
    match socket.closed_or_next().await? {
        ServerFrame::Welcome { .. } => {}
        ServerFrame::Error { .. } | ServerFrame::Kicked { .. } => return None,
        other => panic!("expected welcome, got {other:?}"),
    }
    match socket.closed_or_next().await? {
        ServerFrame::SyncState { .. } => Some(socket),
        ServerFrame::Kicked { .. } => None,
        other => panic!("expected sync_state, got {other:?}"),
    }
}

/// Logs in through `node` and says hello there with the new token.
async fn log_in_and_connect(node: &TestServer, name: &str) -> (String, Option<TestSocket>) {
    let login = node.login(name).await;
    let socket = hello(node, &login.token).await;
    (login.token, socket)
}

async fn logins_of_one_account_on_two_nodes_at_once_leave_one_session(backend: Backend) {
    let Some(cluster) = TestCluster::start(backend, 3).await else { return };
    let [a, b, _] = &cluster.nodes[..] else { unreachable!("three nodes") };
    // Each round, one account logs in and connects through nodes A and B at the same
    // instant: one session is left, and its connection stays open.
    for round in 0..10 {
        let name = format!("user{round}");
        a.register(&name).await;
        let ((first, on_a), (second, on_b)) =
            tokio::join!(log_in_and_connect(a, &name), log_in_and_connect(b, &name));
        let mut valid = Vec::new();
        for (token, socket) in [(first, on_a), (second, on_b)] {
            let (status, _) = a.get("/api/me", &token).await;
            valid.push((status == StatusCode::OK, socket));
        }
        assert_eq!(
            valid.iter().filter(|(ok, _)| *ok).count(),
            1,
            "round {round}: not exactly one session left"
        );
        for (session_left, socket) in valid {
            match (session_left, socket) {
                (true, None) => panic!("round {round}: the session left was refused its connection"),
                (true, Some(mut socket)) => socket.assert_alive().await,
                (false, Some(mut socket)) => {
                    socket.closed().await;
                }
                (false, None) => {}
            }
        }
    }
    cluster.stop().await;
}

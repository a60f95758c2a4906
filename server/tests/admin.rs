//! The operator's commands end to end: `kith_server::admin` called on the database of a
//! running server (as `kith-server user ...` does from another process), and the real binary
//! against a server running as its own process. A running server learns of each change
//! through the database: sockets of ended sessions are closed, deleted accounts' memberships
//! are reloaded.

mod common;

use common::{Backend, PASSWORD, PATIENCE, TestServer, TestSocket, code};
use kith_server::admin::{self, Admin, AdminError, OwnedGroups};
use kith_shared::ServerFrame;
use kith_shared::frame::{KickReason, Target};
use reqwest::{Method, StatusCode};
use serde_json::{Value, json};
use std::time::Duration;

backend_tests!(
    an_added_user_logs_in_and_bad_input_is_refused,
    a_new_password_closes_live_sockets_and_replaces_the_old_one,
    a_disabled_account_is_refused_and_kicked_until_enabled,
    deleting_an_owner_needs_a_rule_and_hands_groups_over,
    deleting_with_dissolve_ends_the_groups,
    online_and_stats_read_what_the_server_records,
    the_binary_administers_a_running_server,
);

/// The operator's handle on the test server's database.
async fn admin(server: &TestServer) -> Admin {
    Admin::open(server.config.clone()).await.expect("the admin opens the database")
}

async fn login(server: &TestServer, name: &str, password: &str) -> (StatusCode, Value) {
    server.post("/api/login", None, json!({"username": name, "password": password})).await
}

/// Waits for the server to close `socket` and returns the `kicked` frame it sent first.
async fn kicked(socket: &mut TestSocket) -> (KickReason, String) {
    let frames = socket.closed().await;
    frames
        .into_iter()
        .find_map(|frame| match frame {
            ServerFrame::Kicked { reason, message } => Some((reason, message)),
            _ => None,
        })
        .expect("a kicked frame before the close")
}

async fn an_added_user_logs_in_and_bad_input_is_refused(backend: Backend) {
    let Some(server) = TestServer::start(backend).await else { return };
    let admin = admin(&server).await;

    let id = admin.add_user("  Carol ", Some("Carol C."), PASSWORD.to_owned()).await.expect("added");
    let (status, body) = login(&server, "carol", PASSWORD).await;
    assert_eq!(status, StatusCode::OK, "{body}");
    assert_eq!(body["user"]["id"].as_i64(), Some(id));
    assert_eq!(body["user"]["display_name"], "Carol C.");

    let default_name = admin.add_user("dan", None, PASSWORD.to_owned()).await.expect("added");
    let users = admin.users().await.expect("list");
    let dan = users.iter().find(|u| u.id == default_name).expect("dan listed");
    assert_eq!(dan.display_name, "dan", "the user name is the default display name");

    for (name, password) in [("carol", PASSWORD), ("x", PASSWORD), ("9lives", PASSWORD), ("erin", "short")] {
        let err = admin.add_user(name, None, password.to_owned()).await.expect_err("refused");
        assert!(matches!(err, AdminError::Taken(_) | AdminError::Invalid(_)), "{name}: {err}");
    }
    assert_eq!(admin.users().await.expect("list").len(), 2, "nothing was added by refusals");
    assert!(matches!(admin.disable("nobody").await, Err(AdminError::NoSuchUser(_))));
    admin.close().await;
    server.stop().await;
}

async fn a_new_password_closes_live_sockets_and_replaces_the_old_one(backend: Backend) {
    let Some(server) = TestServer::start(backend).await else { return };
    let admin = admin(&server).await;
    let alice = server.user("alice").await;
    let mut socket = server.connect(&alice.token).await;

    let short = admin.set_password("alice", "short".to_owned()).await;
    assert!(matches!(short, Err(AdminError::Invalid(_))), "{short:?}");
    socket.assert_alive().await;

    let new_password = "a brand new password";
    let ended = admin.set_password("ALICE", new_password.to_owned()).await.expect("password set");
    assert_eq!(ended, 1);
    let (reason, message) = kicked(&mut socket).await;
    assert_eq!(reason, KickReason::LoggedOut);
    assert!(message.contains("password"), "{message}");

    let (status, body) = server.request(Method::GET, "/api/me", Some(&alice.token), None).await;
    assert_eq!((status, code(&body)), (StatusCode::UNAUTHORIZED, "unauthorized"));
    let (status, body) = login(&server, "alice", PASSWORD).await;
    assert_eq!((status, code(&body)), (StatusCode::UNAUTHORIZED, "wrong_credentials"));
    let (status, body) = login(&server, "alice", new_password).await;
    assert_eq!(status, StatusCode::OK, "{body}");
    admin.close().await;
    server.stop().await;
}

async fn a_disabled_account_is_refused_and_kicked_until_enabled(backend: Backend) {
    let Some(server) = TestServer::start(backend).await else { return };
    let admin = admin(&server).await;
    let alice = server.user("alice").await;
    let bob = server.user("bob").await;
    let mut alice_socket = server.connect(&alice.token).await;
    let mut bob_socket = server.connect(&bob.token).await;

    assert_eq!(admin.disable("alice").await.expect("disabled"), 1);
    let (reason, message) = kicked(&mut alice_socket).await;
    assert_eq!(reason, KickReason::LoggedOut);
    assert!(message.contains("disabled"), "{message}");
    bob_socket.assert_alive().await;

    let (status, body) = login(&server, "alice", PASSWORD).await;
    assert_eq!((status, code(&body)), (StatusCode::FORBIDDEN, "account_disabled"), "{body}");
    let (status, body) = login(&server, "alice", "not the password").await;
    assert_eq!(
        (status, code(&body)),
        (StatusCode::UNAUTHORIZED, "wrong_credentials"),
        "a wrong password does not reveal that the account is disabled"
    );
    let (status, _) = server.request(Method::GET, "/api/me", Some(&alice.token), None).await;
    assert_eq!(status, StatusCode::UNAUTHORIZED);
    let listed = admin::users_table(&admin.users().await.expect("list"));
    let line = listed.lines().find(|l| l.contains("alice")).expect("alice listed");
    assert!(line.contains("disabled"), "{listed}");

    admin.enable("alice").await.expect("enabled");
    let (status, body) = login(&server, "alice", PASSWORD).await;
    assert_eq!(status, StatusCode::OK, "{body}");
    let token = body["token"].as_str().expect("token");
    server.connect(token).await.assert_alive().await;
    admin.close().await;
    server.stop().await;
}

/// Creates a group owned by `token`'s user; returns its id.
async fn create_group(server: &TestServer, token: &str, name: &str) -> i64 {
    let (status, body) = server.post("/api/groups", Some(token), json!({"name": name})).await;
    assert_eq!(status, StatusCode::CREATED, "{body}");
    body["group"]["id"].as_i64().expect("group id")
}

/// `member` applies to `group` and `owner` accepts.
async fn join(server: &TestServer, owner: &str, member: &str, group: i64) {
    let path = format!("/api/groups/{group}/applications");
    let (status, body) = server.post(&path, Some(member), json!({"message": "hi"})).await;
    assert_eq!(status, StatusCode::CREATED, "{body}");
    let path = format!("/api/group-requests/{}/accept", body["id"].as_i64().expect("id"));
    let (status, body) = server.post(&path, Some(owner), json!({})).await;
    assert_eq!(status, StatusCode::NO_CONTENT, "{body}");
}

/// The error code a `send` gets, or None when it is acknowledged.
async fn send_refusal(socket: &mut TestSocket, to: Target) -> Option<String> {
    let client_id = uuid::Uuid::new_v4().to_string();
    socket
        .send(&kith_shared::ClientFrame::Send {
            client_id: client_id.clone(),
            to,
            content: kith_shared::frame::Content::text("still there?"),
        })
        .await;
    let answer = socket
        .expect("an answer to the send", |f| {
            matches!(f, ServerFrame::Ack { client_id: c, .. } | ServerFrame::Error { reference: Some(c), .. } if *c == client_id)
        })
        .await;
    match answer {
        ServerFrame::Error { code, .. } => Some(code.as_str().to_owned()),
        _ => None,
    }
}

async fn deleting_an_owner_needs_a_rule_and_hands_groups_over(backend: Backend) {
    let Some(server) = TestServer::start(backend).await else { return };
    let admin = admin(&server).await;
    let alice = server.user("alice").await;
    let bob = server.user("bob").await;
    let carol = server.user("carol").await;
    let dave = server.user("dave").await;
    server.befriend(&alice, &dave).await;
    let club = create_group(&server, &alice.token, "club").await;
    let solo = create_group(&server, &alice.token, "solo").await;
    join(&server, &alice.token, &carol.token, club).await;
    join(&server, &alice.token, &bob.token, club).await;
    let path = format!("/api/groups/{club}/members/{}/role", bob.user.id);
    let (status, body) =
        server.request(Method::PUT, &path, Some(&alice.token), Some(json!({"role": "admin"}))).await;
    assert_eq!(status, StatusCode::OK, "{body}");

    let mut alice_socket = server.connect(&alice.token).await;
    alice_socket.send_text(Target::Group { id: club }, "hello club").await;
    let mut dave_socket = server.connect(&dave.token).await;
    dave_socket.send_text(Target::User { id: alice.user.id }, "hi alice").await;
    let upload = server
        .http
        .post(format!("{}/api/files?name=notes.txt", server.base))
        .bearer_auth(&alice.token)
        .body(vec![7u8; 1000])
        .send()
        .await
        .expect("upload");
    assert_eq!(upload.status(), StatusCode::CREATED);
    let upload: Value = upload.json().await.expect("file info");
    let upload_path = server.config.upload_dir.join(upload["id"].as_str().expect("upload id"));
    assert!(upload_path.exists());

    // Without a rule for her groups, nothing happens.
    match admin.delete_user("alice", None).await {
        Err(AdminError::OwnsGroups { groups, .. }) => assert_eq!(groups.len(), 2, "{groups:?}"),
        other => panic!("expected a refusal, got {other:?}"),
    }
    assert!(admin.users().await.expect("list").iter().any(|u| u.username == "alice"));
    alice_socket.assert_alive().await;

    let deleted = admin.delete_user("alice", Some(OwnedGroups::HandOver)).await.expect("deleted");
    assert_eq!(deleted.id, alice.user.id);
    assert_eq!(deleted.handed_over, vec![(club, bob.user.id)], "the admin, not the older member");
    assert_eq!(deleted.dissolved, vec![solo], "no one to hand it to");
    assert_eq!(deleted.uploads_removed, 1);
    assert!(!upload_path.exists(), "her uploads' files are removed");

    let (reason, message) = kicked(&mut alice_socket).await;
    assert_eq!(reason, KickReason::LoggedOut);
    assert!(message.contains("deleted"), "{message}");
    let (status, body) = login(&server, "alice", PASSWORD).await;
    assert_eq!((status, code(&body)), (StatusCode::UNAUTHORIZED, "wrong_credentials"));

    // The friendship is over, and the running server knows it at once.
    assert_eq!(
        send_refusal(&mut dave_socket, Target::User { id: alice.user.id }).await.as_deref(),
        Some("forbidden")
    );
    let (_, friends) = server.get("/api/friends", &dave.token).await;
    assert_eq!(friends.as_array().map(Vec::len), Some(0), "{friends}");

    // The club is Bob's; Alice's message stays in its history under her id.
    let (status, members) = server.get(&format!("/api/groups/{club}/members"), &bob.token).await;
    assert_eq!(status, StatusCode::OK, "{members}");
    let members = members.as_array().expect("members").clone();
    assert_eq!(members.len(), 2, "{members:?}");
    let owner = members.iter().find(|m| m["role"] == "owner").expect("an owner");
    assert_eq!(owner["user"]["id"].as_i64(), Some(bob.user.id), "{owner}");
    let (status, page) = server.get(&format!("/api/conversations/{club}/messages"), &bob.token).await;
    assert_eq!(status, StatusCode::OK, "{page}");
    let text = page.to_string();
    assert!(text.contains("hello club"), "{page}");
    assert!(text.contains(&format!("\"sender_id\":{}", alice.user.id)), "{page}");
    let (status, _) = server.get(&format!("/api/groups/{solo}"), &bob.token).await;
    assert_eq!(status, StatusCode::NOT_FOUND, "the lone group is dissolved");

    // The name is free again, for a new account with a new id.
    let again = admin.add_user("alice", None, PASSWORD.to_owned()).await.expect("name free");
    assert_ne!(again, alice.user.id);
    admin.close().await;
    server.stop().await;
}

async fn deleting_with_dissolve_ends_the_groups(backend: Backend) {
    let Some(server) = TestServer::start(backend).await else { return };
    let admin = admin(&server).await;
    let alice = server.user("alice").await;
    let bob = server.user("bob").await;
    let group = create_group(&server, &alice.token, "ours").await;
    join(&server, &alice.token, &bob.token, group).await;
    let mut bob_socket = server.connect(&bob.token).await;
    bob_socket.send_text(Target::Group { id: group }, "before").await;

    let deleted = admin.delete_user("alice", Some(OwnedGroups::Dissolve)).await.expect("deleted");
    assert_eq!(deleted.dissolved, vec![group]);
    assert!(deleted.handed_over.is_empty());
    let (_, groups) = server.get("/api/groups", &bob.token).await;
    assert_eq!(groups.as_array().map(Vec::len), Some(0), "{groups}");
    // The server reloads memberships within a session check; until then it may still accept.
    let deadline = tokio::time::Instant::now() + PATIENCE;
    loop {
        match send_refusal(&mut bob_socket, Target::Group { id: group }).await {
            Some(code) => {
                assert_eq!(code, "forbidden");
                break;
            }
            None if tokio::time::Instant::now() < deadline => {
                tokio::time::sleep(Duration::from_millis(250)).await
            }
            None => panic!("the dissolved group still takes messages"),
        }
    }
    admin.close().await;
    server.stop().await;
}

/// Polls `admin.online()` until `done` holds for the table it prints.
async fn online_until(admin: &Admin, what: &str, done: impl Fn(&str) -> bool) -> String {
    let deadline = tokio::time::Instant::now() + PATIENCE;
    loop {
        let table = admin::online_table(&admin.online().await.expect("online"));
        if done(&table) {
            return table;
        }
        assert!(tokio::time::Instant::now() < deadline, "{what} in time; last:\n{table}");
        tokio::time::sleep(Duration::from_millis(200)).await;
    }
}

async fn online_and_stats_read_what_the_server_records(backend: Backend) {
    let Some(server) = TestServer::start(backend).await else { return };
    let admin = admin(&server).await;
    let alice = server.user("alice").await;
    let bob = server.user("bob").await;
    assert_eq!(admin::online_table(&admin.online().await.expect("online")), "nobody is connected\n");

    let socket = server.connect(&alice.token).await;
    let table = online_until(&admin, "alice online", |t| t.contains("alice")).await;
    assert!(!table.contains("bob"), "{table}");
    assert!(table.contains("1 user(s) connected, 1 session(s)"), "{table}");
    assert!(table.contains(" UTC"), "connected since: {table}");
    drop(socket);
    online_until(&admin, "alice offline", |t| t == "nobody is connected\n").await;

    let before = admin.stats().await.expect("stats");
    assert_eq!((before.users, before.disabled_users, before.sessions), (2, 0, 2));
    assert_eq!((before.groups, before.uploads, before.upload_bytes), (0, 0, 0));
    assert!(before.database_bytes.is_some_and(|n| n > 0), "{before:?}");

    let group = create_group(&server, &bob.token, "stats").await;
    let mut bob_socket = server.connect(&bob.token).await;
    bob_socket.send_text(Target::Group { id: group }, "counted").await;
    let upload = server
        .http
        .post(format!("{}/api/files?name=b.bin", server.base))
        .bearer_auth(&bob.token)
        .body(vec![1u8; 4096])
        .send()
        .await
        .expect("upload");
    assert_eq!(upload.status(), StatusCode::CREATED);
    admin.disable("alice").await.expect("disabled");

    let after = admin.stats().await.expect("stats");
    assert_eq!((after.users, after.disabled_users, after.sessions), (2, 1, 1));
    assert_eq!(after.groups, 1);
    assert!(after.messages > before.messages, "{before:?} -> {after:?}");
    assert_eq!((after.uploads, after.upload_bytes), (1, 4096));
    let text = admin::stats_text(&after);
    assert!(text.contains("users: 2 (1 disabled)"), "{text}");
    assert!(text.contains("groups: 1"), "{text}");
    assert!(text.contains("uploads on disk: 1 (4096 bytes (4.0 KiB))"), "{text}");
    admin.close().await;
    server.stop().await;
}

/// Runs the real `kith-server` binary on the test server's configuration.
async fn run(server: &TestServer, args: &[&str], stdin: Option<&str>) -> std::process::Output {
    use tokio::io::AsyncWriteExt;
    let config = &server.config;
    let mut child = tokio::process::Command::new(env!("CARGO_BIN_EXE_kith-server"))
        .args(args)
        .current_dir(config.data_dir.parent().expect("the data directory is in a temp dir"))
        .env("KITH_DATABASE_URL", &config.database_url)
        .env("KITH_DATA_DIR", &config.data_dir)
        .env("KITH_UPLOAD_DIR", &config.upload_dir)
        .env("RUST_LOG", "warn")
        .stdin(std::process::Stdio::piped())
        .stdout(std::process::Stdio::piped())
        .stderr(std::process::Stdio::piped())
        .kill_on_drop(true)
        .spawn()
        .expect("kith-server runs");
    let mut input = child.stdin.take().expect("stdin");
    if let Some(text) = stdin {
        input.write_all(text.as_bytes()).await.expect("write stdin");
    }
    drop(input);
    tokio::time::timeout(PATIENCE, child.wait_with_output())
        .await
        .expect("the command ends in time")
        .expect("output")
}

fn stdout(output: &std::process::Output) -> String {
    String::from_utf8_lossy(&output.stdout).into_owned()
}

async fn the_binary_administers_a_running_server(backend: Backend) {
    let Some(server) = TestServer::spawn_process(backend).await else { return };
    let alice = server.user("alice").await;
    let mut socket = server.connect(&alice.token).await;

    let out = run(&server, &["user", "disable", "alice"], None).await;
    assert!(out.status.success(), "{out:?}");
    assert_eq!(stdout(&out), "disabled alice; 1 session(s) ended\n");
    let (_, message) = kicked(&mut socket).await;
    assert!(message.contains("disabled"), "{message}");
    let (status, body) = login(&server, "alice", PASSWORD).await;
    assert_eq!((status, code(&body)), (StatusCode::FORBIDDEN, "account_disabled"));

    let out = run(
        &server,
        &["user", "add", "erin", "--display-name", "Erin E.", "--password-stdin"],
        Some("erin's secret pass\n"),
    )
    .await;
    assert!(out.status.success(), "{out:?}");
    let (status, body) = login(&server, "erin", "erin's secret pass").await;
    assert_eq!(status, StatusCode::OK, "{body}");

    let out = run(&server, &["user", "passwd", "erin", "--generate-password"], None).await;
    assert!(out.status.success(), "{out:?}");
    let printed = stdout(&out);
    let password =
        printed.lines().find_map(|l| l.strip_prefix("password: ")).expect("the password is printed");
    let (status, body) = login(&server, "erin", password).await;
    assert_eq!(status, StatusCode::OK, "{body}");

    let out = run(&server, &["user", "list"], None).await;
    assert!(out.status.success(), "{out:?}");
    let listed = stdout(&out);
    assert!(listed.lines().any(|l| l.contains("alice") && l.contains("disabled")), "{listed}");
    assert!(
        listed.lines().any(|l| l.contains("erin") && l.contains("Erin E.") && l.contains("active")),
        "{listed}"
    );
    assert!(listed.ends_with("2 account(s), 1 disabled\n"), "{listed}");

    // A password is never taken from the arguments, and every command has --help.
    let out = run(&server, &["user", "add", "frank"], None).await;
    assert!(!out.status.success());
    assert!(String::from_utf8_lossy(&out.stderr).contains("--password-stdin"), "{out:?}");
    let out = run(&server, &["user", "add", "frank", "--password-stdin"], Some("")).await;
    assert!(!out.status.success(), "an empty standard input is no password");
    for command in
        [&["user", "delete", "--help"][..], &["online", "--help"], &["stats", "--help"], &["serve", "--help"]]
    {
        let out = run(&server, command, None).await;
        assert!(out.status.success() && stdout(&out).contains("Usage: kith-server"), "{command:?}: {out:?}");
    }
    let out = run(&server, &["stats"], None).await;
    assert!(stdout(&out).contains("users: 2 (1 disabled)"), "{out:?}");
    server.stop().await;
}

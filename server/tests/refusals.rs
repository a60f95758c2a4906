//! Promises of docs/protocol.md and docs/api.md about refusals and frames owed: a frame the
//! server owes is queued or the connection is cut (never dropped quietly), a slow reader is
//! told `too_slow`, typing is throttled per conversation after the membership check, bad
//! values are `malformed`, every HTTP failure is `{code, message}`, paging values out of
//! range are refused, early refusals close the connection with `Connection: close`, and the
//! presence of those online follows `sync_state`.

mod common;

use common::{Backend, PASSWORD, PATIENCE, TestServer, code};
use futures_util::{SinkExt, StreamExt};
use kith_shared::codec::to_json;
use kith_shared::frame::{Content, KickReason, Target};
use kith_shared::{ClientFrame, PROTOCOL_VERSION, ServerFrame};
use reqwest::{Method, StatusCode};
use serde_json::json;
use std::collections::HashSet;
use std::time::Duration;
use tokio::io::{AsyncReadExt, AsyncWriteExt};

backend_tests!(
    pipelined_sends_are_all_acknowledged_or_the_connection_is_cut,
    a_reader_that_stops_is_told_too_slow,
    typing_is_throttled_per_conversation_after_the_membership_check,
    bad_values_in_known_frames_are_malformed,
    every_http_failure_has_a_json_body,
    a_json_body_that_is_not_an_object_is_refused,
    control_characters_in_searches_and_login_names_are_no_server_error,
    paging_out_of_range_is_refused,
    an_early_refusal_closes_the_connection_with_the_header,
    presence_of_those_online_follows_sync_state,
    group_members_have_versioned_avatar_addresses,
);

const BURST: usize = 300;

fn text_send(client_id: &str, to: Target) -> ClientFrame {
    ClientFrame::Send {
        client_id: client_id.to_owned(),
        to,
        content: Content::text(format!("burst {client_id}")),
    }
}

/// Issue 1: with a small outgoing queue, 300 pipelined sends must not leave the sender
/// without acks on an open connection. Either every ack arrives, or the connection is cut;
/// after a reconnect the unacknowledged ones are resent and everything is stored once.
async fn pipelined_sends_are_all_acknowledged_or_the_connection_is_cut(backend: Backend) {
    let Some(server) = TestServer::start_with(backend, |c| {
        c.outgoing_queue = 16;
        c.messages_per_second = 1_000_000;
        c.message_burst = 1_000_000;
    })
    .await
    else {
        return;
    };
    let alice = server.user("alice").await;
    let bob = server.user("bob").await;
    let conversation = server.befriend(&alice, &bob).await;
    let to = Target::User { id: bob.user.id };
    let ids: Vec<String> = (0..BURST).map(|i| format!("pipelined-{i}")).collect();

    let socket = server.connect(&alice.token).await;
    let (mut sink, mut stream) = socket.framed.split();
    let frames: Vec<_> = ids.iter().map(|id| to_json(&text_send(id, to))).collect();
    let writer = tokio::spawn(async move {
        for frame in frames {
            if sink.send(frame).await.is_err() {
                break;
            }
        }
        sink
    });
    let mut acked = HashSet::new();
    let mut closed = false;
    while acked.len() < BURST {
        match tokio::time::timeout(PATIENCE, stream.next()).await {
            Err(_) => {
                panic!("{} of {BURST} acks and the connection still open: acks were dropped", acked.len())
            }
            Ok(Some(Ok(Ok(ServerFrame::Ack { client_id, .. })))) => {
                acked.insert(client_id);
            }
            Ok(Some(Ok(Ok(ServerFrame::Kicked { reason, .. })))) => {
                assert_eq!(reason, KickReason::TooSlow);
            }
            Ok(Some(Ok(Ok(ServerFrame::Error { code, reference, .. })))) => {
                panic!("send {reference:?} refused: {code}")
            }
            Ok(Some(Ok(_))) => {}
            Ok(Some(Err(_)) | None) => {
                closed = true;
                break;
            }
        }
    }
    let _ = writer.await;
    if closed {
        // Cut as too slow: reconnect and resend what has no ack, one at a time, with the same
        // client ids. The new connection may be cut too while the earlier burst still echoes
        // to the account's other connections; then reconnect again.
        for attempt in 1.. {
            assert!(attempt <= 20, "the resends were never all acknowledged");
            let again = server.connect(&alice.token).await;
            let mut framed = again.framed;
            let missing: Vec<&String> = ids.iter().filter(|id| !acked.contains(*id)).collect();
            if missing.is_empty() {
                break;
            }
            'resend: for id in missing {
                if framed.send(to_json(&text_send(id, to))).await.is_err() {
                    break 'resend;
                }
                loop {
                    match tokio::time::timeout(PATIENCE, framed.next()).await.expect("an answer in time") {
                        Some(Ok(Ok(ServerFrame::Ack { client_id, .. }))) => {
                            let done = client_id == **id;
                            acked.insert(client_id);
                            if done {
                                break;
                            }
                        }
                        Some(Ok(Ok(ServerFrame::Error { code, .. }))) => panic!("a resend refused: {code}"),
                        Some(Ok(Ok(_))) => {}
                        Some(Ok(Err(bad))) => panic!("a bad frame: {bad}"),
                        Some(Err(_)) | None => break 'resend,
                    }
                }
            }
        }
    }
    let (status, page) =
        server.get(&format!("/api/conversations/{conversation}/messages?limit=200"), &alice.token).await;
    assert_eq!(status, StatusCode::OK);
    let (_, rest) = server
        .get(&format!("/api/conversations/{conversation}/messages?after=200&limit=200"), &alice.token)
        .await;
    let stored =
        page["messages"].as_array().map_or(0, Vec::len) + rest["messages"].as_array().map_or(0, Vec::len);
    assert_eq!(stored, BURST, "every message stored exactly once");
}

/// Issue 2: a connection whose queue fills because its peer stopped reading is told
/// `kicked` / `too_slow` before the server closes it.
async fn a_reader_that_stops_is_told_too_slow(backend: Backend) {
    let Some(server) = TestServer::start_with(backend, |c| c.outgoing_queue = 8).await else { return };
    let alice = server.user("alice").await;
    let socket = server.connect(&alice.token).await;
    let running = server.server.as_ref().expect("an in-process server");
    let mut framed = socket.framed;
    // Ask for pongs and read none until the server gives up on this connection.
    let mut nonce = 0u64;
    let deadline = tokio::time::Instant::now() + Duration::from_secs(60);
    while running.connection_count() > 0 {
        assert!(tokio::time::Instant::now() < deadline, "the server never cut a reader that stopped");
        for _ in 0..1000 {
            nonce += 1;
            let ping = to_json(&ClientFrame::Ping { nonce });
            if tokio::time::timeout(PATIENCE, framed.feed(ping)).await.map_or(true, |sent| sent.is_err()) {
                break;
            }
        }
        let _ = tokio::time::timeout(PATIENCE, framed.flush()).await;
    }
    let mut last = None;
    loop {
        match tokio::time::timeout(PATIENCE, framed.next()).await.expect("the server closes in time") {
            Some(Ok(Ok(frame))) => last = Some(frame),
            Some(Ok(Err(bad))) => panic!("a bad frame: {bad}"),
            Some(Err(_)) | None => break,
        }
    }
    match last {
        Some(ServerFrame::Kicked { reason: KickReason::TooSlow, .. }) => {}
        other => panic!("the last frame should be kicked/too_slow, not {other:?}"),
    }
}

/// Issue 3: typing in one conversation does not hold back typing in another, and typing in
/// a conversation one is not in is refused every time, throttled or not.
async fn typing_is_throttled_per_conversation_after_the_membership_check(backend: Backend) {
    let Some(server) = TestServer::start(backend).await else { return };
    let alice = server.user("alice").await;
    let bob = server.user("bob").await;
    let carol = server.user("carol").await;
    let with_bob = server.befriend(&alice, &bob).await;
    let with_carol = server.befriend(&alice, &carol).await;
    let bob_and_carol = server.befriend(&bob, &carol).await;
    let mut a = server.connect(&alice.token).await;
    let mut b = server.connect(&bob.token).await;
    let mut c = server.connect(&carol.token).await;

    a.send(&ClientFrame::Typing { conversation_id: with_bob }).await;
    a.send(&ClientFrame::Typing { conversation_id: with_carol }).await;
    b.expect(
        "alice typing to bob",
        |f| matches!(f, ServerFrame::Typing { conversation_id, .. } if *conversation_id == with_bob),
    )
    .await;
    c.expect(
        "alice typing to carol",
        |f| matches!(f, ServerFrame::Typing { conversation_id, .. } if *conversation_id == with_carol),
    )
    .await;

    for _ in 0..2 {
        a.send(&ClientFrame::Typing { conversation_id: bob_and_carol }).await;
        match a.expect("a refusal", |f| matches!(f, ServerFrame::Error { .. })).await {
            ServerFrame::Error { code, .. } => assert_eq!(code.as_str(), "forbidden"),
            other => panic!("{other:?}"),
        }
    }
}

/// Issue 4: a known frame type with a bad value is `malformed`; only an unknown type is
/// `unknown_frame`.
async fn bad_values_in_known_frames_are_malformed(backend: Backend) {
    let Some(server) = TestServer::start(backend).await else { return };
    let alice = server.user("alice").await;
    let mut socket = server.connect(&alice.token).await;
    let cases = [
        (json!({"type": "receipt", "conversation_id": 1, "kind": "seen", "seq": 1}), "malformed"),
        (
            json!({"type": "send", "client_id": "a1", "to": {"kind": "planet", "id": 2},
                   "content": {"type": "text", "text": "hi"}}),
            "malformed",
        ),
        (json!({"type": "typing", "conversation_id": "three"}), "malformed"),
        (json!({"type": "launch_rockets"}), "unknown_frame"),
    ];
    for (frame, expected) in cases {
        socket.framed.send(bytes::Bytes::from(frame.to_string())).await.expect("send");
        match socket.expect("an error", |f| matches!(f, ServerFrame::Error { .. })).await {
            ServerFrame::Error { code, .. } => assert_eq!(code.as_str(), expected, "for {frame}"),
            other => panic!("{other:?}"),
        }
    }
    socket.assert_alive().await;
}

/// Issue 5: path and query values that do not parse, unknown routes and wrong methods all
/// answer `{code, message}` with the documented status.
/// Found by schemathesis: serde takes a JSON array of a struct's fields in order for the
/// struct, so `["bob", "Bob", "…"]` registered an account and `[null, null]` was a PATCH. Every
/// body of the API is an object (docs/api.md, /api/openapi.json): anything else is 422.
async fn a_json_body_that_is_not_an_object_is_refused(backend: Backend) {
    let Some(server) = TestServer::start(backend).await else { return };
    let alice = server.user("alice").await;
    let send = |method: Method, path: &str, token: Option<&str>, body: &str| {
        let mut req = server
            .http
            .request(method, format!("{}{path}", server.base))
            .header("content-type", "application/json")
            .body(body.to_owned());
        if let Some(token) = token {
            req = req.bearer_auth(token);
        }
        req.send()
    };
    let array = format!(r#"["bob", "Bob", "{PASSWORD}"]"#);
    let res = send(Method::POST, "/api/register", None, &array).await.expect("an answer");
    assert_eq!(res.status(), StatusCode::UNPROCESSABLE_ENTITY);
    let body: serde_json::Value = res.json().await.expect("a JSON body");
    assert_eq!(code(&body), "malformed", "{body}");
    let login = json!({"username": "bob", "password": PASSWORD});
    let (status, body) = server.post("/api/login", None, login).await;
    assert_eq!(status, StatusCode::UNAUTHORIZED, "no account was made: {body}");

    let (_, group) = server.post("/api/groups", Some(&alice.token), json!({"name": "Chess"})).await;
    let path = format!("/api/groups/{}", group["group"]["id"]);
    for body in ["[null, null]", "  [\"Go\"]", "null", "\"Go\"", "7"] {
        let res = send(Method::PATCH, &path, Some(&alice.token), body).await.expect("an answer");
        assert_eq!(res.status(), StatusCode::UNPROCESSABLE_ENTITY, "{body}");
    }
    // An object still is the body, whitespace before it or not.
    let res =
        send(Method::PATCH, &path, Some(&alice.token), " \n{\"name\": \"Go\"}").await.expect("an answer");
    assert_eq!(res.status(), StatusCode::OK);
    let (_, group) = server.get(&path, &alice.token).await;
    assert_eq!(group["name"], "Go");
    server.stop().await;
}

/// PostgreSQL cannot compare text holding a NUL: a search or a login name with one answered
/// 500 there. No name holds a control character, so such a
/// search finds nothing and such a login is wrong credentials, on every backend.
async fn control_characters_in_searches_and_login_names_are_no_server_error(backend: Backend) {
    let Some(server) = TestServer::start(backend).await else { return };
    let alice = server.user("alice").await;
    server.register("bob").await;
    let (status, _) = server.post("/api/groups", Some(&alice.token), json!({"name": "Chess"})).await;
    assert_eq!(status, StatusCode::CREATED);
    for q in ["b%00", "%00", "b%01ob", "b%09ob", "bob%7F"] {
        for path in ["/api/users/search", "/api/groups/search"] {
            let (status, body) = server.get(&format!("{path}?q={q}"), &alice.token).await;
            assert_eq!(status, StatusCode::OK, "{path}?q={q}: {body}");
            assert_eq!(body, json!([]), "{path}?q={q}");
        }
    }
    for name in ["bob\u{0}", "\u{0}", "b\u{0}ob", "bob\u{1b}"] {
        let (status, body) =
            server.post("/api/login", None, json!({"username": name, "password": PASSWORD})).await;
        assert_eq!(status, StatusCode::UNAUTHORIZED, "{name:?}: {body}");
        assert_eq!(code(&body), "wrong_credentials", "{name:?}");
    }
    // The searches and the login still work.
    let (_, body) = server.get("/api/users/search?q=bo", &alice.token).await;
    assert_eq!(body[0]["user"]["username"], "bob", "{body}");
    let (_, body) = server.get("/api/groups/search?q=che", &alice.token).await;
    assert_eq!(body[0]["name"], "Chess", "{body}");
    server.login("bob").await;
    server.stop().await;
}

async fn every_http_failure_has_a_json_body(backend: Backend) {
    let Some(server) = TestServer::start(backend).await else { return };
    let alice = server.user("alice").await;
    let cases = [
        (Method::GET, "/api/groups/abc", StatusCode::BAD_REQUEST, "malformed"),
        (Method::GET, "/api/users/1.5", StatusCode::BAD_REQUEST, "malformed"),
        (Method::GET, "/api/users/99999999999999999999", StatusCode::BAD_REQUEST, "malformed"),
        (Method::GET, "/api/users/search?q=a&limit=x", StatusCode::BAD_REQUEST, "malformed"),
        (Method::GET, "/api/users/search?q=a&offset=-5", StatusCode::BAD_REQUEST, "malformed"),
        (Method::GET, "/api/conversations/1/messages?after=x", StatusCode::BAD_REQUEST, "malformed"),
        (Method::GET, "/api/no-such-route", StatusCode::NOT_FOUND, "not_found"),
        (Method::GET, "/nothing/here", StatusCode::NOT_FOUND, "not_found"),
        (Method::DELETE, "/api/login", StatusCode::METHOD_NOT_ALLOWED, "method_not_allowed"),
        (Method::GET, "/static/no-such-file.png", StatusCode::NOT_FOUND, "not_found"),
    ];
    for (method, path, status, expected) in cases {
        let res = server
            .http
            .request(method.clone(), format!("{}{path}", server.base))
            .bearer_auth(alice.token.as_str())
            .send()
            .await
            .expect("an answer");
        assert_eq!(res.status(), status, "{method} {path}");
        let content_type = res.headers().get("content-type").and_then(|v| v.to_str().ok()).unwrap_or("");
        assert!(content_type.starts_with("application/json"), "{method} {path}: {content_type}");
        let body: serde_json::Value = res.json().await.expect("a JSON body");
        assert_eq!(code(&body), expected, "{method} {path}: {body}");
        assert!(body["message"].as_str().is_some_and(|m| !m.is_empty()), "{method} {path}: {body}");
    }
    // A body that is not JSON at all, on a JSON route.
    let res = server
        .http
        .post(format!("{}/api/groups", server.base))
        .bearer_auth(&alice.token)
        .header("content-type", "text/plain")
        .body("hello")
        .send()
        .await
        .expect("an answer");
    assert_eq!(res.status(), StatusCode::UNSUPPORTED_MEDIA_TYPE);
    let body: serde_json::Value = res.json().await.expect("a JSON body");
    assert_eq!(code(&body), "unsupported_media");
}

/// Issue 6: a limit out of range or a negative cursor is refused, not clamped.
async fn paging_out_of_range_is_refused(backend: Backend) {
    let Some(server) = TestServer::start(backend).await else { return };
    let alice = server.user("alice").await;
    let bob = server.user("bob").await;
    let conversation = server.befriend(&alice, &bob).await;
    for path in [
        "/api/groups/search?q=a&limit=0".to_owned(),
        "/api/groups/search?q=a&limit=51".to_owned(),
        "/api/users/search?q=a&limit=0".to_owned(),
        "/api/users/search?q=a&limit=51".to_owned(),
        format!("/api/conversations/{conversation}/messages?limit=0"),
        format!("/api/conversations/{conversation}/messages?limit=201"),
        format!("/api/conversations/{conversation}/messages?after=-1"),
        format!("/api/conversations/{conversation}/messages?before=-1"),
    ] {
        let (status, body) = server.get(&path, &alice.token).await;
        assert_eq!(status, StatusCode::BAD_REQUEST, "{path}: {body}");
        assert_eq!(code(&body), "malformed", "{path}");
    }
    for path in [
        "/api/groups/search?q=a&limit=50".to_owned(),
        "/api/users/search?q=a&limit=1".to_owned(),
        format!("/api/conversations/{conversation}/messages?limit=200&after=0"),
    ] {
        let (status, body) = server.get(&path, &alice.token).await;
        assert_eq!(status, StatusCode::OK, "{path}: {body}");
    }
}

/// Reads one HTTP/1.1 answer from a raw connection: its head (lower-cased) and body.
async fn read_answer(stream: &mut tokio::net::TcpStream) -> (String, Vec<u8>) {
    let mut data = Vec::new();
    let mut chunk = [0u8; 4096];
    let head_end = loop {
        if let Some(at) = data.windows(4).position(|w| w == b"\r\n\r\n") {
            break at + 4;
        }
        let n =
            tokio::time::timeout(PATIENCE, stream.read(&mut chunk)).await.expect("an answer").expect("read");
        assert!(n > 0, "closed before an answer");
        data.extend_from_slice(&chunk[..n]);
    };
    let head = String::from_utf8_lossy(&data[..head_end]).to_lowercase();
    let length: usize = head
        .lines()
        .find_map(|line| line.strip_prefix("content-length:"))
        .and_then(|v| v.trim().parse().ok())
        .unwrap_or(0);
    while data.len() < head_end + length {
        let n =
            tokio::time::timeout(PATIENCE, stream.read(&mut chunk)).await.expect("the body").expect("read");
        assert!(n > 0, "closed in the body");
        data.extend_from_slice(&chunk[..n]);
    }
    (head, data[head_end..head_end + length].to_vec())
}

/// Issue 7: a refusal on the headers alone says `Connection: close`; an answer after the
/// body was read keeps the connection usable.
async fn an_early_refusal_closes_the_connection_with_the_header(backend: Backend) {
    let Some(server) = TestServer::start(backend).await else { return };
    let addr = server.base.trim_start_matches("http://").to_owned();
    let body = format!("{{\"to\": 1, \"message\": \"{}\"}}", "x".repeat(20_000));

    // No token: 401 before the body is read.
    let mut stream = tokio::net::TcpStream::connect(&addr).await.expect("connect");
    let request = format!(
        "POST /api/friend-requests HTTP/1.1\r\nhost: kith\r\ncontent-type: application/json\r\ncontent-length: {}\r\n\r\n{body}",
        body.len()
    );
    stream.write_all(request.as_bytes()).await.expect("write");
    let (head, answer) = read_answer(&mut stream).await;
    assert!(head.starts_with("http/1.1 401"), "{head}");
    assert!(head.contains("connection: close"), "an early refusal must say Connection: close:\n{head}");
    let answer: serde_json::Value = serde_json::from_slice(&answer).expect("JSON");
    assert_eq!(code(&answer), "unauthorized");

    // A body that is read (a wrong password): the connection serves a second request.
    let mut stream = tokio::net::TcpStream::connect(&addr).await.expect("connect");
    let login = r#"{"username": "nobody", "password": "wrong password"}"#;
    for _ in 0..2 {
        let request = format!(
            "POST /api/login HTTP/1.1\r\nhost: kith\r\ncontent-type: application/json\r\ncontent-length: {}\r\n\r\n{login}",
            login.len()
        );
        stream.write_all(request.as_bytes()).await.expect("write");
        let (head, _) = read_answer(&mut stream).await;
        assert!(head.starts_with("http/1.1 401"), "{head}");
        assert!(!head.contains("connection: close"), "{head}");
    }
}

/// Issue 8: right after `sync_state` a client hears who of its friends is online.
async fn presence_of_those_online_follows_sync_state(backend: Backend) {
    let Some(server) = TestServer::start(backend).await else { return };
    let alice = server.user("alice").await;
    let bob = server.user("bob").await;
    server.befriend(&alice, &bob).await;
    let mut a = server.connect(&alice.token).await;
    let mut socket = common::TestSocket::new(server.raw_socket().await);
    socket.send(&ClientFrame::Hello { version: PROTOCOL_VERSION, token: bob.token.clone() }).await;
    let welcome = socket.recv().await;
    assert!(
        matches!(welcome, ServerFrame::Welcome { max_text_chars: 4000, recall_window_secs: 120, .. }),
        "{welcome:?}"
    );
    assert!(matches!(socket.recv().await, ServerFrame::SyncState { .. }));
    match socket.recv().await {
        ServerFrame::Presence { user_id, online: true } => assert_eq!(user_id, alice.user.id),
        other => panic!("expected alice's presence after sync_state, got {other:?}"),
    }
    a.expect(
        "bob online",
        |f| matches!(f, ServerFrame::Presence { user_id, online: true } if *user_id == bob.user.id),
    )
    .await;
}

/// A small valid PNG.
fn png() -> Vec<u8> {
    let mut out = std::io::Cursor::new(Vec::new());
    image::RgbImage::from_pixel(8, 8, image::Rgb([200, 40, 40]))
        .write_to(&mut out, image::ImageFormat::Png)
        .expect("encode a PNG");
    out.into_inner()
}

/// Issue 9: a member's avatar address in a group is versioned like a friend's.
async fn group_members_have_versioned_avatar_addresses(backend: Backend) {
    let Some(server) = TestServer::start(backend).await else { return };
    let alice = server.user("alice").await;
    let res = server
        .http
        .put(format!("{}/api/me/avatar", server.base))
        .bearer_auth(&alice.token)
        .body(png())
        .send()
        .await
        .expect("put avatar");
    assert_eq!(res.status(), StatusCode::OK);
    let profile: serde_json::Value = res.json().await.expect("profile");
    let url = profile["avatar_url"].as_str().expect("an avatar address").to_owned();
    assert!(url.contains("?v="), "{url}");
    let (status, group) = server.post("/api/groups", Some(&alice.token), json!({"name": "Club"})).await;
    assert_eq!(status, StatusCode::CREATED);
    let id = group["group"]["id"].as_i64().expect("group id");
    let (status, members) = server.get(&format!("/api/groups/{id}/members"), &alice.token).await;
    assert_eq!(status, StatusCode::OK);
    assert_eq!(members[0]["user"]["avatar_url"].as_str(), Some(url.as_str()), "{members}");
}

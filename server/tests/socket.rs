//! Socket sessions: hello, welcome, kicks, heartbeats, bad frames, shutdown.

mod common;

use bytes::BufMut;
use common::{Backend, TestServer, TestSocket};
use kith_shared::frame::KickReason;
use kith_shared::{ClientFrame, ErrorCode, PROTOCOL_VERSION, ServerFrame};
use std::time::Duration;
use tokio::io::AsyncWriteExt;

backend_tests!(
    second_login_kicks_the_first_socket,
    second_hello_with_same_account_kicks_the_first,
    refused_hellos_get_an_error_and_close,
    bad_frames_after_hello_keep_the_connection,
    oversized_frame_closes_only_that_connection,
    logout_closes_the_socket,
    silent_peer_is_dropped_by_heartbeat,
    shutdown_says_going_away,
);

fn error_code(frame: &ServerFrame) -> Option<ErrorCode> {
    match frame {
        ServerFrame::Error { code, .. } => Some(*code),
        _ => None,
    }
}

async fn second_login_kicks_the_first_socket(backend: Backend) {
    let Some(server) = TestServer::start(backend).await else { return };
    let alice = server.user("alice").await;
    let bob = server.user("bob").await;

    let mut alice_socket = TestSocket::new(server.raw_socket().await);
    alice_socket.send(&ClientFrame::Hello { version: PROTOCOL_VERSION, token: alice.token.clone() }).await;
    match alice_socket.recv().await {
        ServerFrame::Welcome { user, protocol_version, .. } => {
            assert_eq!(user.id, alice.user.id);
            assert_eq!(user.display_name, "Alice");
            assert_eq!(protocol_version, PROTOCOL_VERSION);
        }
        other => panic!("expected welcome, got {other:?}"),
    }
    let mut bob_socket = server.connect(&bob.token).await;

    // Alice logs in again somewhere else.
    let again = server.login("alice").await;
    let frames = alice_socket.closed().await;
    assert!(
        matches!(frames.last(), Some(ServerFrame::Kicked { reason: KickReason::LoggedInElsewhere, .. })),
        "the first socket is told why and closed: {frames:?}"
    );
    // The old token is gone; the new one works; bob never noticed.
    let mut stale = TestSocket::new(server.raw_socket().await);
    stale.send(&ClientFrame::Hello { version: PROTOCOL_VERSION, token: alice.token.clone() }).await;
    assert_eq!(error_code(&stale.recv().await), Some(ErrorCode::Unauthorized));
    let mut alice_again = server.connect(&again.token).await;
    alice_again.assert_alive().await;
    bob_socket.assert_alive().await;
    server.stop().await;
}

async fn second_hello_with_same_account_kicks_the_first(backend: Backend) {
    let Some(server) = TestServer::start(backend).await else { return };
    let carol = server.user("carol").await;
    let mut first = server.connect(&carol.token).await;
    let mut second = server.connect(&carol.token).await;
    let frames = first.closed().await;
    assert!(
        matches!(frames.last(), Some(ServerFrame::Kicked { reason: KickReason::LoggedInElsewhere, .. })),
        "{frames:?}"
    );
    second.assert_alive().await;
    server.stop().await;
}

async fn refused_hellos_get_an_error_and_close(backend: Backend) {
    let Some(server) = TestServer::start_with(backend, |c| c.hello_timeout = Duration::from_secs(1)).await
    else {
        return;
    };
    let dave = server.user("dave").await;

    let cases: Vec<(ClientFrame, ErrorCode)> = vec![
        (ClientFrame::Hello { version: PROTOCOL_VERSION, token: "forged".into() }, ErrorCode::Unauthorized),
        (
            ClientFrame::Hello { version: PROTOCOL_VERSION + 1, token: dave.token.clone() },
            ErrorCode::UnsupportedVersion,
        ),
        (ClientFrame::Ping { nonce: 1 }, ErrorCode::HelloRequired),
    ];
    for (frame, want) in cases {
        let mut socket = TestSocket::new(server.raw_socket().await);
        socket.send(&frame).await;
        let frames = socket.closed().await;
        assert_eq!(frames.first().and_then(error_code), Some(want), "{frame:?} -> {frames:?}");
    }

    // Raw bytes: garbage JSON, a lying length prefix, a hello that never finishes, silence.
    let mut garbage = bytes::BytesMut::new();
    garbage.put_u32(9);
    garbage.put_slice(b"{\"type\":1");
    let mut too_long = bytes::BytesMut::new();
    too_long.put_u32(u32::MAX);
    too_long.put_slice(b"{}");
    let mut unfinished = bytes::BytesMut::new();
    unfinished.put_u32(500);
    unfinished.put_slice(b"{\"type\":\"hello\"");
    let raw_cases: Vec<(Vec<u8>, ErrorCode)> = vec![
        (garbage.to_vec(), ErrorCode::HelloRequired),
        (too_long.to_vec(), ErrorCode::FrameTooLarge),
        (unfinished.to_vec(), ErrorCode::HelloTimeout),
        (Vec::new(), ErrorCode::HelloTimeout),
        (b"GET / HTTP/1.1\r\n\r\n".to_vec(), ErrorCode::FrameTooLarge),
    ];
    for (bytes, want) in raw_cases {
        let mut stream = server.raw_socket().await;
        stream.write_all(&bytes).await.expect("write");
        let mut socket = TestSocket::new(stream);
        let frames = socket.closed().await;
        assert_eq!(frames.first().and_then(error_code), Some(want), "{bytes:?} -> {frames:?}");
    }
    // The server still serves.
    server.connect(&dave.token).await.assert_alive().await;
    server.stop().await;
}

async fn bad_frames_after_hello_keep_the_connection(backend: Backend) {
    let Some(server) = TestServer::start(backend).await else { return };
    let erin = server.user("erin").await;
    let mut socket = server.connect(&erin.token).await;
    for (body, want) in [
        (&b"{broken"[..], ErrorCode::Malformed),
        (&b"{\"type\":\"self_destruct\"}"[..], ErrorCode::UnknownFrame),
        (&b"{\"type\":\"ping\"}"[..], ErrorCode::Malformed),
        (&b"[1,2,3]"[..], ErrorCode::Malformed),
    ] {
        let mut frame = bytes::BytesMut::new();
        frame.put_u32(body.len() as u32);
        frame.put_slice(body);
        socket.framed.get_mut().write_all(&frame).await.expect("write");
        let answer = socket.recv().await;
        assert_eq!(error_code(&answer), Some(want), "{} -> {answer:?}", String::from_utf8_lossy(body));
        socket.assert_alive().await;
    }
    socket.send(&ClientFrame::Hello { version: PROTOCOL_VERSION, token: erin.token.clone() }).await;
    assert_eq!(error_code(&socket.recv().await), Some(ErrorCode::Malformed));
    socket.assert_alive().await;
    server.stop().await;
}

async fn oversized_frame_closes_only_that_connection(backend: Backend) {
    let Some(server) = TestServer::start(backend).await else { return };
    let frank = server.user("frank").await;
    let grace = server.user("grace").await;
    let mut frank_socket = server.connect(&frank.token).await;
    let mut grace_socket = server.connect(&grace.token).await;
    let mut frame = bytes::BytesMut::new();
    frame.put_u32((server.config.max_frame_bytes + 1) as u32);
    frank_socket.framed.get_mut().write_all(&frame).await.expect("write");
    let frames = frank_socket.closed().await;
    assert_eq!(frames.last().and_then(error_code), Some(ErrorCode::FrameTooLarge), "{frames:?}");
    grace_socket.assert_alive().await;
    server.stop().await;
}

async fn logout_closes_the_socket(backend: Backend) {
    let Some(server) = TestServer::start(backend).await else { return };
    let heidi = server.user("heidi").await;
    let mut socket = server.connect(&heidi.token).await;
    let (status, _) = server.request(reqwest::Method::POST, "/api/logout", Some(&heidi.token), None).await;
    assert_eq!(status, reqwest::StatusCode::NO_CONTENT);
    let frames = socket.closed().await;
    assert!(
        matches!(frames.last(), Some(ServerFrame::Kicked { reason: KickReason::LoggedOut, .. })),
        "{frames:?}"
    );
    server.stop().await;
}

async fn silent_peer_is_dropped_by_heartbeat(backend: Backend) {
    let Some(server) = TestServer::start_with(backend, |c| c.heartbeat = Duration::from_secs(1)).await else {
        return;
    };
    let ivan = server.user("ivan").await;
    let judy = server.user("judy").await;
    let mut silent = server.connect(&ivan.token).await;
    let mut lively = server.connect(&judy.token).await;
    // `closed` reads without answering pings; the server gives up after three silent beats.
    // Meanwhile the lively one pings now and then and answers the server's pings (recv does).
    let keep_alive = async {
        for _ in 0..10 {
            tokio::time::sleep(Duration::from_millis(500)).await;
            lively.assert_alive().await;
        }
    };
    let (frames, ()) = tokio::join!(silent.closed(), keep_alive);
    assert!(
        frames.iter().all(|f| matches!(f, ServerFrame::Ping { .. } | ServerFrame::Pong { .. })),
        "{frames:?}"
    );
    assert!(!frames.is_empty(), "the server pinged before giving up");
    lively.assert_alive().await;
    server.stop().await;
}

async fn shutdown_says_going_away(backend: Backend) {
    let Some(mut server) = TestServer::start(backend).await else { return };
    let kim = server.user("kim").await;
    let mut socket = server.connect(&kim.token).await;
    let running = server.server.take().expect("running");
    let stopping = tokio::spawn(running.shutdown());
    let frames = socket.closed().await;
    assert!(matches!(frames.last(), Some(ServerFrame::GoingAway { .. })), "{frames:?}");
    stopping.await.expect("shutdown completes");
    server.stop().await;
}

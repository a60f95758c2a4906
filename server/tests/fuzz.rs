//! The socket under fuzzing: after its hello, one client sends thousands of random, mutated
//! and hostile frames (truncated JSON, wrong field types, unknown types, numbers out of range,
//! deep nesting, bytes that are not UTF-8) and at last a frame over the size limit, while two
//! other clients keep talking. The server answers every frame as documented, stays up, and
//! keeps serving everyone.

mod common;

use common::{Backend, PATIENCE, TestServer, TestSocket};
use futures_util::StreamExt;
use kith_shared::codec::FrameCodec;
use kith_shared::frame::{Content, Target};
use kith_shared::fuzz::framed;
use kith_shared::fuzz::mutate::{self, Rng};
use kith_shared::{ClientFrame, ErrorCode, ServerFrame};
use reqwest::{Method, StatusCode};
use serde_json::json;
use std::collections::HashSet;
use std::sync::atomic::{AtomicBool, Ordering};
use std::time::Duration;
use tokio::io::AsyncWriteExt;
use tokio::sync::mpsc;
use tokio_util::codec::FramedRead;

/// How many fuzzed frames one run sends, and the seed that makes them.
const FRAMES: usize = 3_000;
const SEED: u64 = 0x6b69_7468_6675_7a7a;
/// The nonce of the ping sent after the fuzzed frames: its pong says they were all handled.
const MARKER: u64 = 0x4b49_5448_454e_4421;

/// Ids the fuzzed frames aim at, so that many of them are valid and reach the handlers.
struct Aims {
    token: String,
    me: i64,
    /// A friend who is offline, their conversation, and a group of the fuzzing user.
    friend: i64,
    direct: i64,
    group: i64,
    /// A conversation the fuzzing user is not in, and a user who is not a friend.
    foreign: i64,
    stranger: i64,
}

/// Valid frames of every client type; `CID` becomes a fresh client id.
fn templates(a: &Aims) -> Vec<String> {
    let text = |to: &str| {
        format!(
            r#"{{"type":"send","client_id":"CID","to":{to},"content":{{"type":"text","text":"fuzz 🐛"}}}}"#
        )
    };
    let friend = format!(r#"{{"kind":"user","id":{}}}"#, a.friend);
    let group = format!(r#"{{"kind":"group","id":{}}}"#, a.group);
    vec![
        format!(r#"{{"type":"hello","version":1,"token":"{}"}}"#, a.token),
        r#"{"type":"ping","nonce":7}"#.to_owned(),
        r#"{"type":"pong","nonce":1}"#.to_owned(),
        text(&friend),
        text(&group),
        text(&format!(r#"{{"kind":"user","id":{}}}"#, a.stranger)),
        format!(
            r#"{{"type":"send","client_id":"CID","to":{friend},"content":{{"type":"sticker","code":"1f600"}}}}"#
        ),
        format!(
            r#"{{"type":"send","client_id":"CID","to":{group},"content":{{"type":"image","upload_id":"5b0c"}}}}"#
        ),
        format!(
            r#"{{"type":"send","client_id":"CID","to":{friend},"content":{{"type":"file","upload_id":"5b0d"}}}}"#
        ),
        format!(r#"{{"type":"receipt","conversation_id":{},"kind":"delivered","seq":1}}"#, a.direct),
        format!(r#"{{"type":"receipt","conversation_id":{},"kind":"read","seq":2}}"#, a.group),
        format!(r#"{{"type":"typing","conversation_id":{}}}"#, a.direct),
        format!(r#"{{"type":"typing","conversation_id":{}}}"#, a.foreign),
        format!(r#"{{"type":"recall","conversation_id":{},"seq":1}}"#, a.direct),
    ]
}

/// Hand-made hostile bodies, each sent several times over the run.
fn hostile(a: &Aims) -> Vec<Vec<u8>> {
    let send = |content: &str| {
        format!(
            r#"{{"type":"send","client_id":"CID","to":{{"kind":"user","id":{}}},"content":{content}}}"#,
            a.friend
        )
    };
    let mut cases: Vec<Vec<u8>> = [
        r#"{"type":"ping","nonce":1e400}"#.to_owned(),
        r#"{"type":"ping","nonce":18446744073709551616}"#.to_owned(),
        r#"{"type":"ping","nonce":-1}"#.to_owned(),
        r#"{"type":"ping","nonce":1.0}"#.to_owned(),
        r#"{"type":"ping","nonce":1,"nonce":2}"#.to_owned(),
        r#"{"type":"ping","type":"pong","nonce":3}"#.to_owned(),
        r#"{"type":"ping","nonce":8}{"type":"ping","nonce":9}"#.to_owned(),
        " {\"type\":\"ping\",\"nonce\":6}\n".to_owned(),
        r#"{"type":"receipt","conversation_id":9223372036854775808,"kind":"read","seq":1}"#.to_owned(),
        format!(r#"{{"type":"receipt","conversation_id":{},"kind":"read","seq":-9223372036854775808}}"#, a.direct),
        format!(r#"{{"type":"receipt","conversation_id":{},"kind":"seen","seq":1}}"#, a.direct),
        format!(r#"{{"type":"typing","conversation_id":"{}"}}"#, a.direct),
        format!(r#"{{"type":"recall","conversation_id":{},"seq":0}}"#, a.direct),
        r#"{"type":"launch_rockets"}"#.to_owned(),
        r#"{"nonce":1}"#.to_owned(),
        String::new(),
        "null".to_owned(),
        "42".to_owned(),
        r#""ping""#.to_owned(),
        "[]".to_owned(),
        format!(r#"{{"type":"send","client_id":7,"to":{{"kind":"user","id":{}}},"content":{{}}}}"#, a.friend),
        r#"{"type":"send","client_id":"CID","to":{"kind":"planet","id":1},"content":{"type":"text","text":"x"}}"#
            .to_owned(),
        r#"{"type":"send","client_id":"CID","to":{"kind":"us"#.to_owned(),
        send(r#"{"type":"text","text":"\ud800"}"#),
        send(&format!(r#"{{"type":"text","text":"{}"}}"#, "x".repeat(5_000))),
        send(r#"{"type":"text","text":"   "}"#),
        send(r#"{"type":"recall","seq":1}"#),
        send(r#"{"type":"image","upload_id":"no-such-upload"}"#),
        send(r#"{"type":"sticker","code":"not-an-emoji"}"#),
        format!(r#"{{"type":"send","client_id":"{}","to":{{"kind":"user","id":1}},"content":{{}}}}"#, "a".repeat(65)),
        format!(
            r#"{{"type":"send","client_id":"a b","to":{{"kind":"user","id":{}}},"content":{{"type":"text","text":"x"}}}}"#,
            a.friend
        ),
        format!(
            r#"{{"type":"send","client_id":"CID","to":{{"kind":"user","id":{}}},"content":{{"type":"text","text":"me"}}}}"#,
            a.me
        ),
        format!(r#"{{"type":"hello","version":2,"token":"{}"}}"#, a.token),
        format!(r#"{{"type":"typing","conversation_id":{}1{}}}"#, "[".repeat(10_000), "]".repeat(10_000)),
        format!(r#"{{"type":"ping","nonce":{}"#, "{\"a\":".repeat(10_000)),
        "[".repeat(10_000),
    ]
    .into_iter()
    .map(String::into_bytes)
    .collect();
    // Bytes that are not UTF-8: in a string, in a key, before the document.
    let mut bad_text = send(r#"{"type":"text","text":"@@"}"#).into_bytes();
    let at = bad_text.windows(2).position(|w| w == b"@@").expect("placeholder");
    bad_text.splice(at..at + 2, *b"\xff\xfe");
    cases.push(bad_text);
    cases.push(b"{\"ty\xc0\xafpe\":\"ping\",\"nonce\":1}".to_vec());
    cases.push(b"\xef\xbb\xbf{\"type\":\"ping\",\"nonce\":5}".to_vec());
    cases.push(b"{\"type\":\"ping\xed\xa0\x80\",\"nonce\":5}".to_vec());
    cases
}

/// The fuzzed bodies: mutated templates, templates as they are, random bytes, hostile cases.
fn fuzzed_bodies(rng: &mut Rng, aims: &Aims, max_len: usize) -> Vec<Vec<u8>> {
    let templates = templates(aims);
    let hostile = hostile(aims);
    (0..FRAMES)
        .map(|i| {
            let template = rng.pick(&templates).replace("CID", &format!("fuzz-{i}"));
            let mut body = match rng.below(20) {
                0..=9 => mutate::json(rng, template.as_bytes()),
                10..=12 => template.into_bytes(),
                13..=15 => (0..rng.below(300)).map(|_| rng.next_u64() as u8).collect(),
                _ => {
                    let case = String::from_utf8_lossy(&hostile[i % hostile.len()]).into_owned();
                    if case.contains("CID") {
                        case.replace("CID", &format!("fuzz-{i}")).into_bytes()
                    } else {
                        hostile[i % hostile.len()].clone()
                    }
                }
            };
            // Frames within the limit keep the stream in step; the oversized one comes last.
            body.truncate(max_len);
            body
        })
        .collect()
}

/// What the server must answer to the fuzzed bodies, from how they parse.
#[derive(Debug, Default)]
struct Expected {
    /// Bodies that are not a client frame: each gets `malformed` or `unknown_frame`.
    refused: usize,
    /// Valid hellos after the hello: each gets `malformed`.
    hellos: usize,
    /// Pings: each gets its pong.
    pings: usize,
    /// Sends: each gets an `ack` or an `error` naming its client id.
    sends: usize,
}

fn expected(bodies: &[Vec<u8>]) -> Expected {
    let mut expected = Expected::default();
    for body in bodies {
        match serde_json::from_slice::<ClientFrame>(body) {
            Err(_) => expected.refused += 1,
            Ok(ClientFrame::Hello { .. }) => expected.hellos += 1,
            Ok(ClientFrame::Ping { .. }) => expected.pings += 1,
            Ok(ClientFrame::Send { .. }) => expected.sends += 1,
            Ok(_) => {}
        }
    }
    expected
}

/// What came back, tallied.
#[derive(Debug, Default)]
struct Answers {
    /// `malformed` and `unknown_frame` without a reference (the two are not told apart here).
    refused: usize,
    pongs: usize,
    /// Acks and refusals that name a client id.
    send_answers: usize,
    codes: HashSet<ErrorCode>,
}

impl Answers {
    fn count(&mut self, frame: &ServerFrame) {
        match frame {
            ServerFrame::Error { code, reference, .. } => {
                self.codes.insert(*code);
                if reference.is_some() {
                    self.send_answers += 1;
                } else if matches!(code, ErrorCode::Malformed | ErrorCode::UnknownFrame) {
                    self.refused += 1;
                }
            }
            ServerFrame::Ack { .. } => self.send_answers += 1,
            ServerFrame::Pong { nonce } if *nonce != MARKER => self.pongs += 1,
            _ => {}
        }
    }
}

/// The codes listed under "Error codes" in docs/protocol.md.
fn documented_codes() -> HashSet<String> {
    let doc = std::fs::read_to_string(concat!(env!("CARGO_MANIFEST_DIR"), "/../docs/protocol.md"))
        .expect("read docs/protocol.md");
    let table = doc.split("## Error codes").nth(1).expect("an Error codes section");
    let table = table.split("\n## ").next().unwrap_or(table);
    table
        .lines()
        .filter_map(|line| line.strip_prefix("| `"))
        .filter_map(|line| line.split(" |").next())
        .flat_map(|cell| {
            cell.split('`').filter(|s| !s.trim().is_empty() && s.trim() != "/").map(str::to_owned)
        })
        .map(|code| code.trim().to_owned())
        .collect()
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn fuzzed_frames_after_hello_get_documented_answers_and_the_server_keeps_serving() {
    let server = TestServer::start_with(Backend::Sqlite, |c| {
        // Valid sends among the fuzzed frames must reach the handlers, not the rate limit.
        c.messages_per_second = 1_000_000;
        c.message_burst = 1_000_000;
    })
    .await
    .expect("SQLite is always there");
    let mallory = server.user("mallory").await;
    let carol = server.user("carol").await;
    let alice = server.user("alice").await;
    let bob = server.user("bob").await;
    let direct = server.befriend(&mallory, &carol).await;
    let foreign = server.befriend(&alice, &bob).await;
    let (status, group) = server.post("/api/groups", Some(&mallory.token), json!({"name": "Lab"})).await;
    assert_eq!(status, StatusCode::CREATED, "{group}");
    let aims = Aims {
        token: mallory.token.clone(),
        me: mallory.user.id,
        friend: carol.user.id,
        direct,
        group: group["group"]["id"].as_i64().expect("group id"),
        foreign,
        stranger: alice.user.id,
    };
    let documented = documented_codes();
    assert!(documented.len() >= 20 && documented.contains("malformed"), "{documented:?}");

    let max_len = server.config.max_frame_bytes;
    let bodies = fuzzed_bodies(&mut Rng::new(SEED), &aims, max_len);
    let expected = expected(&bodies);
    // The run covers both sides: much refused, much valid.
    assert!(expected.refused > FRAMES / 3 && expected.sends > 100 && expected.pings > 20, "{expected:?}");

    // Mallory's socket, split: fuzzed frames go out raw while a task reads every answer.
    let parts = server.connect(&mallory.token).await.framed.into_parts();
    let (read_half, mut write_half) = tokio::io::split(parts.io);
    let mut reader = FramedRead::new(read_half, FrameCodec::<ServerFrame>::new(1 << 24));
    *reader.read_buffer_mut() = parts.read_buf;
    let (tx, mut answers_rx) = mpsc::unbounded_channel();
    let reading = tokio::spawn(async move {
        while let Some(item) = reader.next().await {
            let item = match item {
                Ok(Ok(frame)) => Ok(frame),
                Ok(Err(bad)) => Err(format!("the server sent a frame that is not a server frame: {bad}")),
                Err(err) => Err(format!("reading the socket failed: {err}")),
            };
            let stop = item.is_err();
            if tx.send(item).is_err() || stop {
                return;
            }
        }
    });

    let mut alice_socket = server.connect(&alice.token).await;
    let mut bob_socket = server.connect(&bob.token).await;
    let done = AtomicBool::new(false);

    let fuzzing = async {
        let mut answers = Answers::default();
        let mut last = None;
        let mut next = async |answers: &mut Answers| {
            let frame = tokio::time::timeout(PATIENCE, answers_rx.recv())
                .await
                .expect("the server answers in time")
                .map(|item| item.unwrap_or_else(|err| panic!("{err}")));
            if let Some(frame) = &frame {
                answers.count(frame);
            }
            frame
        };
        for body in &bodies {
            write_half.write_all(&framed(body)).await.expect("the server reads every fuzzed frame");
        }
        write_half
            .write_all(&framed(format!(r#"{{"type":"ping","nonce":{MARKER}}}"#).as_bytes()))
            .await
            .expect("write");
        // Everything sent before the marker has been handled when its pong arrives; acks
        // follow their database commit, so wait for every send to be answered too.
        let mut marker = false;
        while !marker || answers.send_answers < expected.sends {
            match next(&mut answers).await {
                Some(ServerFrame::Pong { nonce: MARKER }) => marker = true,
                Some(_) => {}
                None => panic!("the connection closed before the fuzzed frames were answered: {answers:?}"),
            }
        }
        let handled = (answers.refused, answers.pongs, answers.send_answers);
        // The last frame is over the limit: refused, and this connection (only) is closed.
        write_half.write_all(&((max_len + 1) as u32).to_be_bytes()).await.expect("write");
        while let Some(frame) = next(&mut answers).await {
            last = Some(frame);
        }
        reading.await.expect("the reading task ends");
        done.store(true, Ordering::SeqCst);
        (answers, handled, last)
    };
    // Meanwhile alice and bob talk, and the HTTP side answers.
    let talking = async {
        let mut rounds = 0;
        while !done.load(Ordering::SeqCst) && rounds < 10_000 {
            alice_socket.assert_alive().await;
            if rounds % 5 == 0 {
                exchange(&mut alice_socket, &mut bob_socket, bob.user.id, &format!("during {rounds}")).await;
                let (status, health) = server.request(Method::GET, "/health", None, None).await;
                assert_eq!((status, &health["status"]), (StatusCode::OK, &json!("ok")), "{health}");
            }
            rounds += 1;
            tokio::time::sleep(Duration::from_millis(10)).await;
        }
        rounds
    };
    let ((answers, (refused, pongs, send_answers), last), rounds) = tokio::join!(fuzzing, talking);

    // Every frame got its documented answer.
    assert_eq!(
        refused,
        expected.refused + expected.hellos,
        "malformed or unknown_frame per bad frame or hello"
    );
    assert_eq!(pongs, expected.pings, "a pong per ping");
    assert_eq!(send_answers, expected.sends, "an ack or a refusal per send");
    for code in &answers.codes {
        assert!(documented.contains(code.as_str()), "{code} is not in docs/protocol.md");
    }
    assert!(!answers.codes.contains(&ErrorCode::Internal), "the server failed on input: {answers:?}");
    assert!(
        matches!(last, Some(ServerFrame::Error { code: ErrorCode::FrameTooLarge, .. })),
        "the oversized frame is refused last: {last:?}"
    );
    assert!(rounds > 0, "alice and bob talked during the run");

    // Afterwards everyone is still served, the fuzzing user included.
    alice_socket.assert_alive().await;
    exchange(&mut alice_socket, &mut bob_socket, bob.user.id, "after").await;
    let mut again = server.connect(&mallory.token).await;
    again.assert_alive().await;
    let (status, health) = server.request(Method::GET, "/health", None, None).await;
    assert_eq!(status, StatusCode::OK, "{health}");
    assert_eq!(health["database"], json!(true), "{health}");
    eprintln!(
        "fuzzed {FRAMES} frames: {expected:?}; codes {:?}; alice and bob talked {rounds} rounds",
        answers.codes
    );
    server.stop().await;
}

/// Alice sends bob a text; bob receives it.
async fn exchange(alice: &mut TestSocket, bob: &mut TestSocket, bob_id: i64, text: &str) {
    alice.send_text(Target::User { id: bob_id }, text).await;
    let wanted = Content::text(text);
    bob.expect(
        "alice's message",
        |f| matches!(f, ServerFrame::Message { message } if message.content == wanted),
    )
    .await;
}

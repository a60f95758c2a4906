//! Forwarding end to end: a copy of a message one sees goes to a friend or group with whose
//! message it first was, a file or picture travels on without being uploaded again and
//! keeps its own readers, a resend stores once, and every refused case has its code.

mod common;

use common::{Backend, PATIENCE, TestServer, TestSocket};
use kith_shared::api::FileInfo;
use kith_shared::frame::{Content, Forwarded, Target};
use kith_shared::{ClientFrame, ErrorCode};
use reqwest::StatusCode;
use std::time::Duration;

backend_tests!(
    a_forwarded_text_names_its_first_author,
    a_forwarded_file_is_shared_without_a_new_upload,
    a_resent_forward_is_stored_once,
    forwards_of_what_one_cannot_see_or_reach_are_refused,
);

/// Forwards message `seq` of `conversation_id` to `to` with a new client id: the ack's
/// (conversation, seq), or the refusal's code.
async fn forward(
    socket: &mut TestSocket,
    conversation_id: i64,
    seq: i64,
    to: Target,
) -> Result<(i64, i64), ErrorCode> {
    let client_id = uuid::Uuid::new_v4().to_string();
    socket.send(&ClientFrame::Forward { client_id: client_id.clone(), conversation_id, seq, to }).await;
    socket.answer(&client_id).await
}

async fn upload(server: &TestServer, token: &str, name: &str, body: Vec<u8>) -> FileInfo {
    let url = format!("{}/api/files?name={name}", server.base);
    let res = server.http.post(url).bearer_auth(token).body(body).send().await.expect("upload");
    assert_eq!(res.status(), StatusCode::CREATED);
    res.json().await.expect("file info")
}

async fn download(server: &TestServer, token: &str, path: &str) -> (StatusCode, Vec<u8>) {
    let res = server.http.get(format!("{}{path}", server.base)).bearer_auth(token).send().await.expect("GET");
    let status = res.status();
    (status, res.bytes().await.expect("body").to_vec())
}

fn file(upload_id: &str) -> Content {
    Content::File { upload_id: upload_id.to_owned(), name: String::new(), size: 0, mime: String::new() }
}

fn png(width: u32, height: u32) -> Vec<u8> {
    let img = image::RgbaImage::from_fn(width, height, |x, y| image::Rgba([x as u8, y as u8, 90, 255]));
    let mut out = std::io::Cursor::new(Vec::new());
    image::DynamicImage::ImageRgba8(img).write_to(&mut out, image::ImageFormat::Png).expect("encode");
    out.into_inner()
}

async fn send(socket: &mut TestSocket, to: Target, content: Content) -> (i64, i64) {
    let client_id = uuid::Uuid::new_v4().to_string();
    socket.send(&ClientFrame::Send { client_id: client_id.clone(), to, content }).await;
    socket.answer(&client_id).await.expect("sent")
}

async fn a_forwarded_text_names_its_first_author(backend: Backend) {
    let Some(server) = TestServer::start_with(backend, |c| c.multi_device = true).await else { return };
    let alice = server.user("alice").await;
    let bob = server.user("bob").await;
    let carol = server.user("carol").await;
    let dave = server.user("dave").await;
    let with_alice = server.befriend(&alice, &bob).await;
    let with_carol = server.befriend(&bob, &carol).await;
    server.befriend(&carol, &dave).await;
    let group = server.group(&bob, "Climbers").await;
    server.join(&bob, &carol, group).await;
    let mut alice_socket = server.connect(&alice.token).await;
    let mut bob_socket = server.connect(&bob.token).await;
    let mut bob_phone = server.connect(&server.login("bob").await.token).await;
    let mut carol_socket = server.connect(&carol.token).await;
    let (_, question) = alice_socket.send_text(Target::User { id: bob.user.id }, "meet at five?").await;
    let reply = Content::Text {
        text: "yes".into(),
        reply_to: Some(question),
        edit_of: None,
        reaction_of: None,
        mentions: Default::default(),
    };
    let (_, answer) = send(&mut alice_socket, Target::User { id: bob.user.id }, reply).await;

    // Bob forwards Alice's question to Carol: Carol, Bob's other device and this very
    // connection (which holds no copy) get it, marked with Alice's name.
    let to_carol = Target::User { id: carol.user.id };
    let (conversation, seq) =
        forward(&mut bob_socket, with_alice, question, to_carol).await.expect("forwarded");
    assert_eq!(conversation, with_carol);
    let alice_name = Forwarded { user_id: Some(alice.user.id), name: alice.user.display_name.clone() };
    for socket in [&mut carol_socket, &mut bob_phone, &mut bob_socket] {
        let got = socket.pushed("the forward", |m| m.conversation_id == with_carol && m.seq == seq).await;
        assert_eq!(got.content, Content::text("meet at five?"));
        assert_eq!(got.sender_id, Some(bob.user.id), "the forwarder sends it");
        assert_eq!(got.forwarded_from.as_ref(), Some(&alice_name));
    }
    let stored = server.message(&carol.token, with_carol, seq).await.expect("in history");
    assert_eq!(stored.forwarded_from.as_ref(), Some(&alice_name), "history keeps the mark");

    // A reply loses its quote, which points into the other conversation.
    let (_, in_group) =
        forward(&mut bob_socket, with_alice, answer, Target::Group { id: group }).await.expect("forwarded");
    let got = server.message(&carol.token, group, in_group).await.expect("in the group's history");
    assert_eq!(got.content, Content::text("yes"));

    // Carol forwards the forward to Dave: it still names Alice.
    let (with_dave, again) = forward(&mut carol_socket, with_carol, seq, Target::User { id: dave.user.id })
        .await
        .expect("forwarded");
    let got = server.message(&dave.token, with_dave, again).await.expect("in history");
    assert_eq!(got.forwarded_from, Some(alice_name));
    assert_eq!(got.sender_id, Some(carol.user.id));

    // Messages that are not forwards carry no mark.
    let plain = server.message(&bob.token, with_alice, question).await.expect("in history");
    assert_eq!(plain.forwarded_from, None);
    server.stop().await;
}

async fn a_forwarded_file_is_shared_without_a_new_upload(backend: Backend) {
    let Some(server) = TestServer::start(backend).await else { return };
    let alice = server.user("alice").await;
    let bob = server.user("bob").await;
    let carol = server.user("carol").await;
    let dave = server.user("dave").await;
    let with_alice = server.befriend(&alice, &bob).await;
    let with_carol = server.befriend(&bob, &carol).await;
    server.befriend(&alice, &dave).await;
    let mut alice_socket = server.connect(&alice.token).await;
    let mut bob_socket = server.connect(&bob.token).await;
    let bytes: Vec<u8> = (0..300_000u32).map(|i| (i % 251) as u8).collect();
    let info = upload(&server, &alice.token, "plan.bin", bytes.clone()).await;
    let (_, sent) = send(&mut alice_socket, Target::User { id: bob.user.id }, file(&info.id)).await;
    let picture = upload(&server, &alice.token, "view.png", png(300, 200)).await;
    let image =
        serde_json::from_value(serde_json::json!({"type": "image", "upload_id": picture.id})).unwrap();
    let (_, sent_picture) = send(&mut alice_socket, Target::User { id: bob.user.id }, image).await;

    let to_carol = Target::User { id: carol.user.id };
    let (_, seq) = forward(&mut bob_socket, with_alice, sent, to_carol).await.expect("forwarded");
    let got = bob_socket.pushed("the forward", |m| m.conversation_id == with_carol && m.seq == seq).await;
    let Content::File { upload_id, name, size, mime } = got.content else { panic!("a file: {got:?}") };
    assert_ne!(upload_id, info.id, "Carol's copy is an upload of its own");
    assert_eq!((name.as_str(), size, mime.as_str()), ("plan.bin", info.size, info.mime.as_str()));
    let (status, body) = download(&server, &carol.token, &format!("/api/files/{upload_id}/content")).await;
    assert_eq!(status, StatusCode::OK);
    assert!(body == bytes, "Carol gets the same bytes");
    // Carol reads only her copy; Bob still reads the original.
    let (status, _) = download(&server, &carol.token, &format!("/api/files/{}/content", info.id)).await;
    assert_eq!(status, StatusCode::FORBIDDEN);
    let (status, body) = download(&server, &bob.token, &format!("/api/files/{}/content", info.id)).await;
    assert_eq!((status, body == bytes), (StatusCode::OK, true));
    // The copy is the forwarder's: Alice may not send it elsewhere.
    let client_id = uuid::Uuid::new_v4().to_string();
    let to_dave = Target::User { id: dave.user.id };
    alice_socket
        .send(&ClientFrame::Send { client_id: client_id.clone(), to: to_dave, content: file(&upload_id) })
        .await;
    assert_eq!(alice_socket.answer(&client_id).await, Err(ErrorCode::Forbidden));

    // A picture keeps its size and gets a thumbnail of its own.
    let (_, seq) = forward(&mut bob_socket, with_alice, sent_picture, to_carol).await.expect("forwarded");
    let got = server.message(&carol.token, with_carol, seq).await.expect("in history");
    let Content::Image { upload_id, width, height, thumbnail_id, .. } = got.content else {
        panic!("a picture")
    };
    assert_eq!((width, height), (300, 200));
    assert_ne!(upload_id, picture.id);
    assert_ne!(Some(thumbnail_id), picture.thumbnail_id);
    let (status, thumb) = download(&server, &carol.token, &format!("/api/files/{upload_id}/thumbnail")).await;
    assert_eq!(status, StatusCode::OK);
    assert!(thumb.starts_with(b"\x89PNG"), "a PNG thumbnail");
    server.stop().await;
}

async fn a_resent_forward_is_stored_once(backend: Backend) {
    let Some(server) = TestServer::start(backend).await else { return };
    let alice = server.user("alice").await;
    let bob = server.user("bob").await;
    let carol = server.user("carol").await;
    let with_alice = server.befriend(&alice, &bob).await;
    let with_carol = server.befriend(&bob, &carol).await;
    let mut alice_socket = server.connect(&alice.token).await;
    let mut bob_socket = server.connect(&bob.token).await;
    let info = upload(&server, &alice.token, "notes.txt", b"twice?".to_vec()).await;
    let (_, sent) = send(&mut alice_socket, Target::User { id: bob.user.id }, file(&info.id)).await;
    let client_id = uuid::Uuid::new_v4().to_string();
    let frame = ClientFrame::Forward {
        client_id: client_id.clone(),
        conversation_id: with_alice,
        seq: sent,
        to: Target::User { id: carol.user.id },
    };
    bob_socket.send(&frame).await;
    let first = bob_socket.answer(&client_id).await.expect("stored");
    // Sent again (say after a reconnect): the same ack, nothing new stored or shared.
    let mut again = server.connect(&bob.token).await;
    again.send(&frame).await;
    assert_eq!(again.answer(&client_id).await, Ok(first));
    let (status, page) =
        server.get(&format!("/api/conversations/{with_carol}/messages?after=0&limit=10"), &carol.token).await;
    assert_eq!(status, StatusCode::OK);
    assert_eq!(page["messages"].as_array().map(Vec::len), Some(1), "{page}");
    server.stop().await;
}

async fn forwards_of_what_one_cannot_see_or_reach_are_refused(backend: Backend) {
    let Some(server) = TestServer::start_with(backend, |c| {
        c.sweep_interval = Duration::from_secs(1);
        c.file_ttl = Duration::from_secs(1);
    })
    .await
    else {
        return;
    };
    let alice = server.user("alice").await;
    let bob = server.user("bob").await;
    let carol = server.user("carol").await;
    let eve = server.user("eve").await;
    let with_alice = server.befriend(&alice, &bob).await;
    server.befriend(&bob, &carol).await;
    let group = server.group(&alice, "Climbers").await;
    let mut alice_socket = server.connect(&alice.token).await;
    let mut bob_socket = server.connect(&bob.token).await;
    let mut eve_socket = server.connect(&eve.token).await;
    let to_carol = Target::User { id: carol.user.id };
    let (_, hello) = alice_socket.send_text(Target::User { id: bob.user.id }, "hello").await;
    let (_, before) = alice_socket.send_text(Target::Group { id: group }, "before bob").await;
    let (_, gone) = alice_socket.send_text(Target::User { id: bob.user.id }, "oops").await;
    alice_socket.send(&ClientFrame::Recall { conversation_id: with_alice, seq: gone }).await;
    let marker =
        bob_socket.pushed("the recall", |m| m.content == Content::Recall { seq: gone, by: None }).await;
    server.join(&alice, &bob, group).await;

    // Not a member of the conversation, or a message that is not there or not shown.
    assert_eq!(
        forward(&mut eve_socket, with_alice, hello, Target::Group { id: group }).await,
        Err(ErrorCode::NotFound)
    );
    for (seq, what) in [(hello + 100, "no such seq"), (gone, "recalled"), (marker.seq, "a recall marker")] {
        assert_eq!(
            forward(&mut bob_socket, with_alice, seq, to_carol).await,
            Err(ErrorCode::NotFound),
            "{what}"
        );
    }
    // A group's notice, and what was written there before Bob joined.
    let to_bob = Target::User { id: bob.user.id };
    assert_eq!(forward(&mut alice_socket, group, 1, to_bob).await, Err(ErrorCode::NotFound), "a notice");
    assert_eq!(forward(&mut bob_socket, group, before, to_carol).await, Err(ErrorCode::NotFound));
    // Only to friends and one's own groups.
    let to_eve = Target::User { id: eve.user.id };
    assert_eq!(forward(&mut bob_socket, with_alice, hello, to_eve).await, Err(ErrorCode::Forbidden));
    assert_eq!(
        forward(&mut bob_socket, with_alice, hello, Target::Group { id: group + 1000 }).await,
        Err(ErrorCode::Forbidden)
    );
    // A file the server no longer holds cannot be forwarded.
    let info = upload(&server, &alice.token, "brief.txt", b"soon gone".to_vec()).await;
    let (_, sent) = send(&mut alice_socket, Target::User { id: bob.user.id }, file(&info.id)).await;
    let deadline = tokio::time::Instant::now() + PATIENCE;
    while download(&server, &bob.token, &format!("/api/files/{}/content", info.id)).await.0
        != StatusCode::GONE
    {
        assert!(tokio::time::Instant::now() < deadline, "the file never expired");
        tokio::time::sleep(Duration::from_millis(200)).await;
    }
    assert_eq!(forward(&mut bob_socket, with_alice, sent, to_carol).await, Err(ErrorCode::Expired));
    // Malformed client ids, like a send's.
    let bad = ClientFrame::Forward {
        client_id: "no spaces".into(),
        conversation_id: with_alice,
        seq: hello,
        to: to_carol,
    };
    bob_socket.send(&bad).await;
    assert_eq!(bob_socket.answer("no spaces").await, Err(ErrorCode::InvalidField));
    bob_socket.assert_alive().await;
    server.stop().await;
}

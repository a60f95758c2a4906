//! Replies and edits end to end: a reply names a message of its own conversation that its
//! sender sees, an edit replaces the text of one's own text message within the edit window
//! and reaches every member in sequence, history and a reconnect show the latest text, and
//! every refused case has its code. Two devices editing at once leave history saying what the
//! last edit message says, and an edit racing a recall is either sequenced before it or refused.

mod common;

use common::{Backend, TestServer, TestSocket, race_on_one_node, race_on_two_nodes};
use kith_shared::frame::{ChatMessage, Content, Target};
use kith_shared::{ClientFrame, ErrorCode, ServerFrame};
use reqwest::StatusCode;
use std::time::Duration;

backend_tests!(
    a_reply_names_a_message_of_its_conversation,
    a_late_member_cannot_quote_what_they_never_saw,
    an_edit_reaches_everyone_and_history_keeps_the_latest_text,
    edits_are_refused_for_others_non_text_recalled_and_late,
    two_devices_editing_at_once_leave_what_the_last_edit_says,
    an_edit_racing_a_recall_is_sequenced_before_it_or_refused,
);

fn reply(text: &str, to_seq: i64) -> Content {
    Content::Text {
        text: text.to_owned(),
        reply_to: Some(to_seq),
        edit_of: None,
        reaction_of: None,
        mentions: Default::default(),
    }
}

/// Sends `content` and returns the ack's seq, or the refusal's code.
async fn send(socket: &mut TestSocket, to: Target, content: Content) -> Result<i64, ErrorCode> {
    let client_id = uuid::Uuid::new_v4().to_string();
    socket.send(&ClientFrame::Send { client_id: client_id.clone(), to, content }).await;
    answer_to(socket, &client_id).await
}

/// Asks to edit message `seq` and returns the ack's seq (the edit's own), or the refusal's code.
async fn edit(socket: &mut TestSocket, conversation_id: i64, seq: i64, text: &str) -> Result<i64, ErrorCode> {
    let client_id = uuid::Uuid::new_v4().to_string();
    let frame =
        ClientFrame::Edit { client_id: client_id.clone(), conversation_id, seq, text: text.to_owned() };
    socket.send(&frame).await;
    answer_to(socket, &client_id).await
}

async fn answer_to(socket: &mut TestSocket, client_id: &str) -> Result<i64, ErrorCode> {
    socket.answer(client_id).await.map(|(_, seq)| seq)
}

async fn a_reply_names_a_message_of_its_conversation(backend: Backend) {
    let Some(server) = TestServer::start(backend).await else { return };
    let alice = server.user("alice").await;
    let bob = server.user("bob").await;
    let carol = server.user("carol").await;
    let with_bob = server.befriend(&alice, &bob).await;
    server.befriend(&alice, &carol).await;
    let mut alice_socket = server.connect(&alice.token).await;
    let mut bob_socket = server.connect(&bob.token).await;
    let to_bob = Target::User { id: bob.user.id };
    let to_carol = Target::User { id: carol.user.id };
    let (_, question) = alice_socket.send_text(to_bob, "lunch at noon?").await;
    let (_, elsewhere) = alice_socket.send_text(to_carol, "hi carol").await;

    let to_alice = Target::User { id: alice.user.id };
    let answer =
        send(&mut bob_socket, to_alice, reply("yes, noon", question)).await.expect("a reply is stored");
    let got = alice_socket.pushed("the reply", |m| m.seq == answer).await;
    assert_eq!(got.content, reply("yes, noon", question), "the reply names what it quotes");
    let stored = server.message(&alice.token, with_bob, answer).await.expect("in history");
    assert_eq!(stored.content, reply("yes, noon", question));

    // The quoted message must be in the same conversation, exist, and be a message people see.
    assert_eq!(send(&mut bob_socket, to_alice, reply("?", elsewhere + 100)).await, Err(ErrorCode::NotFound));
    assert_eq!(send(&mut bob_socket, to_alice, reply("?", 0)).await, Err(ErrorCode::NotFound));
    let mut carol_socket = server.connect(&carol.token).await;
    let carol_to_alice = Target::User { id: alice.user.id };
    // Carol's conversation has one message: seq 1 exists there, seq 2 (bob's answer) does not.
    assert_eq!(send(&mut carol_socket, carol_to_alice, reply("?", answer)).await, Err(ErrorCode::NotFound));
    assert!(send(&mut carol_socket, carol_to_alice, reply("hello!", elsewhere)).await.is_ok());
    // A recall marker is not a message one can quote; the recalled message still is.
    alice_socket.send(&ClientFrame::Recall { conversation_id: with_bob, seq: question }).await;
    let marker = bob_socket.pushed("the recall", |m| matches!(m.content, Content::Recall { .. })).await;
    assert_eq!(send(&mut bob_socket, to_alice, reply("?", marker.seq)).await, Err(ErrorCode::NotFound));
    assert!(send(&mut bob_socket, to_alice, reply("why recall?", question)).await.is_ok());
    // An edit is sent with the edit frame, not as a text naming `edit_of`.
    let smuggled = Content::Text {
        text: "mine now".into(),
        reply_to: None,
        edit_of: Some(question),
        reaction_of: None,
        mentions: Default::default(),
    };
    assert_eq!(send(&mut bob_socket, to_alice, smuggled).await, Err(ErrorCode::InvalidField));
    bob_socket.assert_alive().await;
    server.stop().await;
}

async fn a_late_member_cannot_quote_what_they_never_saw(backend: Backend) {
    let Some(server) = TestServer::start(backend).await else { return };
    let alice = server.user("alice").await;
    let bob = server.user("bob").await;
    let group = server.group(&alice, "Climbers").await;
    let mut alice_socket = server.connect(&alice.token).await;
    let (_, before) = alice_socket.send_text(Target::Group { id: group }, "before bob").await;
    server.join(&alice, &bob, group).await;
    let (_, after) = alice_socket.send_text(Target::Group { id: group }, "after bob").await;
    let mut bob_socket = server.connect(&bob.token).await;
    let to_group = Target::Group { id: group };
    assert_eq!(send(&mut bob_socket, to_group, reply("?", before)).await, Err(ErrorCode::NotFound));
    let answer = send(&mut bob_socket, to_group, reply("hi all", after)).await.expect("stored");
    let got = alice_socket.pushed("the reply", |m| m.seq == answer).await;
    assert_eq!(got.content, reply("hi all", after));
    server.stop().await;
}

async fn an_edit_reaches_everyone_and_history_keeps_the_latest_text(backend: Backend) {
    let Some(server) = TestServer::start_with(backend, |c| c.multi_device = true).await else { return };
    let alice = server.user("alice").await;
    let bob = server.user("bob").await;
    let conversation = server.befriend(&alice, &bob).await;
    let mut alice_socket = server.connect(&alice.token).await;
    let mut alice_phone = server.connect(&server.login("alice").await.token).await;
    let mut bob_socket = server.connect(&bob.token).await;
    let to_bob = Target::User { id: bob.user.id };
    let (_, question) = alice_socket.send_text(to_bob, "lunch at noon?").await;
    let answer = send(&mut bob_socket, Target::User { id: alice.user.id }, reply("yes, noon", question))
        .await
        .expect("stored");
    alice_socket.pushed("bob's answer", |m| m.seq == answer).await;

    // Alice edits her question: the edit is a message of its own, after bob's answer.
    let edit_seq =
        edit(&mut alice_socket, conversation, question, "lunch at one?").await.expect("edit stored");
    assert_eq!(edit_seq, answer + 1, "the edit travels in sequence like a message");
    let wanted = Content::Text {
        text: "lunch at one?".into(),
        reply_to: None,
        edit_of: Some(question),
        reaction_of: None,
        mentions: Default::default(),
    };
    let mut edit_sent_at = 0;
    for socket in [&mut bob_socket, &mut alice_phone] {
        let got = socket.pushed("the edit", |m| m.seq == edit_seq).await;
        assert_eq!(got.content, wanted);
        assert_eq!(got.sender_id, Some(alice.user.id));
        edit_sent_at = got.sent_at;
    }
    let stored = server.message(&bob.token, conversation, question).await.expect("in history");
    assert_eq!(stored.content, Content::text("lunch at one?"), "history has the latest text");
    assert_eq!(stored.edited_at, Some(edit_sent_at), "edited when the edit message was sent");
    assert!(edit_sent_at >= stored.sent_at);

    // A resend of the first edit (same client id) is answered with its first ack and does not
    // undo a later edit.
    let client_id = uuid::Uuid::new_v4().to_string();
    let frame = |text: &str| ClientFrame::Edit {
        client_id: client_id.clone(),
        conversation_id: conversation,
        seq: question,
        text: text.to_owned(),
    };
    alice_socket.send(&frame("lunch at 1:30?")).await;
    let first = answer_to(&mut alice_socket, &client_id).await.expect("stored");
    let second = edit(&mut alice_socket, conversation, question, "lunch at two?").await.expect("stored");
    alice_socket.send(&frame("lunch at 1:30?")).await;
    assert_eq!(answer_to(&mut alice_socket, &client_id).await, Ok(first), "the first ack again");
    let stored = server.message(&bob.token, conversation, question).await.expect("in history");
    assert_eq!(stored.content, Content::text("lunch at two?"), "the later edit stays");
    let last_by_alice = second;

    // Bob edits his reply: it stays a reply.
    let later = edit(&mut bob_socket, conversation, answer, "yes, one").await.expect("edit stored");
    let stored = server.message(&alice.token, conversation, answer).await.expect("in history");
    assert_eq!(stored.content, reply("yes, one", question));
    assert!(stored.edited_at.is_some());

    // A client that was away catches up after its cursor, edits included, like messages.
    drop(alice_phone);
    let phone = server.connect(&server.login("alice").await.token).await;
    let Some(ServerFrame::SyncState { conversations, .. }) = &phone.sync else { panic!("no sync state") };
    let state = conversations.iter().find(|c| c.conversation_id == conversation).expect("listed");
    assert_eq!(state.last_seq, later);
    assert!(later > last_by_alice);
    let caught_up = server.message(&alice.token, conversation, later).await.expect("the edit in history");
    assert_eq!(
        caught_up.content,
        Content::Text {
            text: "yes, one".into(),
            reply_to: None,
            edit_of: Some(answer),
            reaction_of: None,
            mentions: Default::default()
        }
    );
    // Edits are no news: Bob's unread count has Alice's question only.
    let bob_again = server.connect(&server.login("bob").await.token).await;
    let Some(ServerFrame::SyncState { conversations, .. }) = &bob_again.sync else { panic!("no sync state") };
    let state = conversations.iter().find(|c| c.conversation_id == conversation).expect("listed");
    assert_eq!(state.unread, 1, "the question; not its three edits");
    // Messages never edited carry no marker.
    let edit_message = server.message(&alice.token, conversation, edit_seq).await.expect("in history");
    assert_eq!(edit_message.edited_at, None);
    server.stop().await;
}

async fn edits_are_refused_for_others_non_text_recalled_and_late(backend: Backend) {
    let Some(server) = TestServer::start_with(backend, |c| c.max_text_chars = 20).await else { return };
    let alice = server.user("alice").await;
    let bob = server.user("bob").await;
    let carol = server.user("carol").await;
    let conversation = server.befriend(&alice, &bob).await;
    let mut alice_socket = server.connect(&alice.token).await;
    let mut bob_socket = server.connect(&bob.token).await;
    let to_bob = Target::User { id: bob.user.id };
    let (_, mine) = alice_socket.send_text(to_bob, "see you").await;
    let (_, theirs) = bob_socket.send_text(Target::User { id: alice.user.id }, "bye").await;
    let (_, gone) = alice_socket.send_text(to_bob, "oops").await;
    alice_socket.send(&ClientFrame::Recall { conversation_id: conversation, seq: gone }).await;
    let marker =
        bob_socket.pushed("the recall", |m| m.content == Content::Recall { seq: gone, by: None }).await;
    let first_edit = edit(&mut alice_socket, conversation, mine, "see you soon").await.expect("stored");

    let cases = [
        (theirs, "mine now", ErrorCode::Forbidden),
        (gone, "back", ErrorCode::InvalidField),
        // Her own, but not text: the recall marker.
        (marker.seq, "?", ErrorCode::InvalidField),
        (first_edit, "edit the edit", ErrorCode::InvalidField),
        (9_999, "nothing there", ErrorCode::NotFound),
        (mine, "   ", ErrorCode::InvalidField),
        (mine, "far more than twenty characters", ErrorCode::PayloadTooLarge),
    ];
    for (seq, text, want) in cases {
        assert_eq!(
            edit(&mut alice_socket, conversation, seq, text).await,
            Err(want),
            "editing {seq} to {text:?}"
        );
    }
    let stored = server.message(&alice.token, conversation, mine).await.expect("in history");
    assert_eq!(stored.content, Content::text("see you soon"), "refused edits change nothing");
    alice_socket.assert_alive().await;
    // Not a member, or no longer a friend.
    let mut carol_socket = server.connect(&carol.token).await;
    assert_eq!(edit(&mut carol_socket, conversation, mine, "hacked").await, Err(ErrorCode::Forbidden));
    let (status, _) = server
        .request(reqwest::Method::DELETE, &format!("/api/friends/{}", bob.user.id), Some(&alice.token), None)
        .await;
    assert_eq!(status, StatusCode::NO_CONTENT);
    assert_eq!(edit(&mut alice_socket, conversation, mine, "after all").await, Err(ErrorCode::Forbidden));
    server.stop().await;

    // After the window, an edit is refused.
    let Some(server) = TestServer::start_with(backend, |c| c.edit_window = Duration::ZERO).await else {
        return;
    };
    let alice = server.user("alice").await;
    let bob = server.user("bob").await;
    let conversation = server.befriend(&alice, &bob).await;
    let mut alice_socket = server.connect(&alice.token).await;
    let (_, seq) = alice_socket.send_text(Target::User { id: bob.user.id }, "forever").await;
    tokio::time::sleep(Duration::from_millis(20)).await;
    assert_eq!(edit(&mut alice_socket, conversation, seq, "never").await, Err(ErrorCode::EditExpired));
    server.stop().await;
}

/// Every message of a conversation as `token`'s holder reads it in history, page by page.
async fn whole_history(server: &TestServer, token: &str, conversation_id: i64) -> Vec<ChatMessage> {
    let mut all: Vec<ChatMessage> = Vec::new();
    loop {
        let after = all.last().map_or(0, |m| m.seq);
        let path = format!("/api/conversations/{conversation_id}/messages?after={after}&limit=200");
        let (status, page) = server.get(&path, token).await;
        assert_eq!(status, StatusCode::OK, "{page}");
        let page: Vec<ChatMessage> = serde_json::from_value(page["messages"].clone()).expect("messages");
        if page.is_empty() {
            return all;
        }
        all.extend(page);
    }
}

/// The edit messages of message `seq` in `all`, in sequence order: (their seq, their text).
fn edits_of(all: &[ChatMessage], seq: i64) -> Vec<(i64, String)> {
    all.iter()
        .filter_map(|m| match &m.content {
            Content::Text { text, edit_of: Some(of), .. } if *of == seq => Some((m.seq, text.clone())),
            _ => None,
        })
        .collect()
}

/// Rounds of each race: enough that, without the guarantee, some round lands the wrong way
/// round on PostgreSQL and MariaDB.
const ROUNDS: usize = 300;

async fn two_devices_editing_at_once_leave_what_the_last_edit_says(backend: Backend) {
    race_on_one_node(backend, edit_from_two_devices_at_once).await
}

/// The same race with Alice's laptop and phone on two nodes of a cluster: each node's writer
/// numbers its batches in the database, and the stored text follows those numbers too.
async fn two_devices_on_two_nodes_editing_at_once(backend: Backend) {
    race_on_two_nodes(backend, edit_from_two_devices_at_once).await
}

// A cluster cannot run on SQLite.
#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn two_devices_on_two_nodes_editing_at_once_on_postgres() {
    two_devices_on_two_nodes_editing_at_once(Backend::Postgres).await
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn two_devices_on_two_nodes_editing_at_once_on_mysql() {
    two_devices_on_two_nodes_editing_at_once(Backend::MySql).await
}

/// Alice's laptop (on `laptop_node`) posts messages to Bob (on `main`); on each, the laptop
/// and her phone (on `phone_node`) send an edit at once, each pair sent before either answer
/// is awaited, so the two connections' edits race each other, round after round. Afterwards
/// history's text of every message is the text of the last edit message on it.
async fn edit_from_two_devices_at_once(main: &TestServer, laptop_node: &TestServer, phone_node: &TestServer) {
    let alice = main.user("alice").await;
    let bob = main.user("bob").await;
    let conversation = main.befriend(&alice, &bob).await;
    let mut laptop = laptop_node.connect(&alice.token).await;
    let mut phone = phone_node.connect(&phone_node.login("alice").await.token).await;
    let mut targets = Vec::with_capacity(ROUNDS);
    for round in 0..ROUNDS {
        let to_bob = Target::User { id: bob.user.id };
        targets.push(laptop.send_text(to_bob, &format!("message {round}")).await.1);
    }

    for (round, &seq) in targets.iter().enumerate() {
        let mut pair = Vec::with_capacity(2);
        for (socket, device) in [(&mut laptop, "laptop"), (&mut phone, "phone")] {
            let client_id = uuid::Uuid::new_v4().to_string();
            let text = format!("message {round}, fixed on the {device}");
            socket
                .send(&ClientFrame::Edit {
                    client_id: client_id.clone(),
                    conversation_id: conversation,
                    seq,
                    text,
                })
                .await;
            pair.push(client_id);
        }
        assert!(laptop.answer(&pair[0]).await.is_ok(), "the laptop's edit is stored");
        assert!(phone.answer(&pair[1]).await.is_ok(), "the phone's edit is stored");
    }

    // History's text of each message is the text of the last edit message on it.
    let all = whole_history(main, &bob.token, conversation).await;
    assert_eq!(all.len(), 3 * ROUNDS, "each message and its two edits");
    let mut disagreements = Vec::new();
    let mut edit_times = Vec::new();
    for &seq in &targets {
        let edits = edits_of(&all, seq);
        assert_eq!(edits.len(), 2, "two edit messages on {seq}");
        let (last, text) = &edits[1];
        let stored = all.iter().find(|m| m.seq == seq).expect("the message in history");
        if stored.content != Content::text(text) {
            disagreements.push(seq);
        }
        let sent_at = all.iter().find(|m| m.seq == *last).expect("the last edit").sent_at;
        edit_times.push((stored.edited_at, Some(sent_at)));
    }
    assert!(
        disagreements.is_empty(),
        "history disagrees with the last edit on {} of {ROUNDS} messages: {disagreements:?}",
        disagreements.len()
    );
    for (edited_at, last_sent_at) in edit_times {
        assert_eq!(edited_at, last_sent_at, "a message's edit time is its last edit's");
    }
}

async fn an_edit_racing_a_recall_is_sequenced_before_it_or_refused(backend: Backend) {
    race_on_one_node(backend, edit_and_recall_at_once).await
}

/// The same race with the laptop and the phone on two nodes of a cluster.
async fn an_edit_racing_a_recall_on_two_nodes(backend: Backend) {
    race_on_two_nodes(backend, edit_and_recall_at_once).await
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn an_edit_racing_a_recall_on_two_nodes_on_postgres() {
    an_edit_racing_a_recall_on_two_nodes(Backend::Postgres).await
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn an_edit_racing_a_recall_on_two_nodes_on_mysql() {
    an_edit_racing_a_recall_on_two_nodes(Backend::MySql).await
}

/// On each of Alice's messages her laptop (on `laptop_node`) sends an edit while her phone
/// (on `phone_node`) recalls it, at once. Whichever is sequenced first wins: an edit that is
/// stored comes before the recall in sequence, an edit that would come after it is refused
/// (`invalid_field`) and leaves no message, and history shows every message recalled.
async fn edit_and_recall_at_once(main: &TestServer, laptop_node: &TestServer, phone_node: &TestServer) {
    let alice = main.user("alice").await;
    let bob = main.user("bob").await;
    let conversation = main.befriend(&alice, &bob).await;
    let mut laptop = laptop_node.connect(&alice.token).await;
    let mut phone = phone_node.connect(&phone_node.login("alice").await.token).await;
    let mut targets = Vec::with_capacity(ROUNDS);
    for round in 0..ROUNDS {
        targets.push(laptop.send_text(Target::User { id: bob.user.id }, &format!("message {round}")).await.1);
    }

    let mut answers = Vec::with_capacity(ROUNDS);
    for &seq in &targets {
        let client_id = uuid::Uuid::new_v4().to_string();
        let text = "fixed".to_owned();
        laptop
            .send(&ClientFrame::Edit {
                client_id: client_id.clone(),
                conversation_id: conversation,
                seq,
                text,
            })
            .await;
        phone.send(&ClientFrame::Recall { conversation_id: conversation, seq }).await;
        let answer = answer_to(&mut laptop, &client_id).await;
        assert!(matches!(answer, Ok(_) | Err(ErrorCode::InvalidField)), "{answer:?}");
        phone.pushed("the recall", |m| m.content == Content::Recall { seq, by: None }).await;
        answers.push(answer);
    }

    let all = whole_history(main, &bob.token, conversation).await;
    let mut wrong = Vec::new();
    for (&seq, answer) in targets.iter().zip(&answers) {
        let stored = all.iter().find(|m| m.seq == seq).expect("the message in history");
        assert!(matches!(stored.content, Content::Recalled { .. }), "history shows {seq} recalled");
        let recall = all
            .iter()
            .find(|m| m.content == Content::Recall { seq, by: None })
            .expect("the recall in history")
            .seq;
        let edits: Vec<i64> = edits_of(&all, seq).into_iter().map(|(at, _)| at).collect();
        match answer {
            Ok(at) => {
                assert_eq!(edits, [*at], "the stored edit of {seq} is in history");
                if *at > recall {
                    wrong.push(seq);
                }
            }
            Err(_) => assert!(edits.is_empty(), "a refused edit of {seq} left a message: {edits:?}"),
        }
    }
    let refused = answers.iter().filter(|a| a.is_err()).count();
    eprintln!("{} edits stored before the recall, {refused} refused", ROUNDS - refused);
    assert!(wrong.is_empty(), "{} of {ROUNDS} edits came after the recall: {wrong:?}", wrong.len());
    let seqs: Vec<i64> = all.iter().map(|m| m.seq).collect();
    assert_eq!(seqs, (1..=seqs.len() as i64).collect::<Vec<_>>(), "refused edits left no gap");
}

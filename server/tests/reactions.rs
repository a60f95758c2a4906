//! Reactions end to end: a `react` puts or takes back one's emoji on a message, reaches every
//! member's connections (the reactor's other devices too) in sequence like a message, shows
//! in history per message with who reacted, is no news, and every refused case has its code.
//! Two devices toggling at once leave history saying what the last reaction message says.

mod common;

use common::{Backend, TestServer, TestSocket, race_on_one_node, race_on_two_nodes};
use kith_shared::frame::{ChatMessage, Content, ReactionOf, Reactions, Target};
use kith_shared::{ClientFrame, ErrorCode, ServerFrame, UserId};
use reqwest::StatusCode;
use serde_json::json;

backend_tests!(
    reactions_toggle_reach_every_device_and_show_in_history,
    a_resent_reaction_changes_nothing,
    reactions_are_refused_for_strangers_bad_emoji_and_hidden_messages,
    reactions_count_against_the_send_rate,
    two_devices_toggling_at_once_leave_what_the_last_reaction_says,
    a_reaction_racing_a_recall_is_sequenced_before_it_or_refused,
);

/// Asks to put (`on`) or take back `emoji` on message `seq` with `client_id`; returns the
/// ack's seq (the reaction message's own), or the refusal's code.
async fn react_as(
    socket: &mut TestSocket,
    client_id: &str,
    conversation_id: i64,
    seq: i64,
    emoji: &str,
    on: bool,
) -> Result<i64, ErrorCode> {
    let frame = ClientFrame::React {
        client_id: client_id.to_owned(),
        conversation_id,
        seq,
        emoji: emoji.to_owned(),
        on,
    };
    socket.send(&frame).await;
    let wanted = |f: &ServerFrame| matches!(f, ServerFrame::Ack { client_id: c, .. } | ServerFrame::Error { reference: Some(c), .. } if c == client_id);
    match socket.expect("ack or error", wanted).await {
        ServerFrame::Ack { seq, .. } => Ok(seq),
        ServerFrame::Error { code, .. } => Err(code),
        _ => unreachable!(),
    }
}

async fn react(
    socket: &mut TestSocket,
    conversation_id: i64,
    seq: i64,
    emoji: &str,
    on: bool,
) -> Result<i64, ErrorCode> {
    react_as(socket, &uuid::Uuid::new_v4().to_string(), conversation_id, seq, emoji, on).await
}

/// The messages of a conversation after `after` as `token`'s holder reads them in history.
async fn history(server: &TestServer, token: &str, conversation_id: i64, after: i64) -> Vec<ChatMessage> {
    let path = format!("/api/conversations/{conversation_id}/messages?after={after}&limit=200");
    let (status, page) = server.get(&path, token).await;
    assert_eq!(status, StatusCode::OK, "{page}");
    serde_json::from_value(page["messages"].clone()).expect("messages")
}

/// The reactions history shows on message `seq`.
async fn reactions_on(server: &TestServer, token: &str, conversation_id: i64, seq: i64) -> Vec<Reactions> {
    let messages = history(server, token, conversation_id, seq - 1).await;
    messages.into_iter().find(|m| m.seq == seq).expect("the message in history").reactions
}

fn reactions(of: &[(&str, &[UserId])]) -> Vec<Reactions> {
    of.iter()
        .map(|(emoji, users)| Reactions { emoji: (*emoji).to_owned(), user_ids: users.to_vec() })
        .collect()
}

fn reaction(emoji: &str, seq: i64, on: bool) -> Content {
    Content::Text {
        text: emoji.to_owned(),
        reply_to: None,
        edit_of: None,
        reaction_of: Some(ReactionOf { seq, on }),
        mentions: Default::default(),
    }
}

async fn pushed(socket: &mut TestSocket, what: &str, seq: i64) -> ChatMessage {
    match socket.expect(what, |f| matches!(f, ServerFrame::Message { message } if message.seq == seq)).await {
        ServerFrame::Message { message } => message,
        _ => unreachable!(),
    }
}

async fn reactions_toggle_reach_every_device_and_show_in_history(backend: Backend) {
    let Some(server) = TestServer::start_with(backend, |c| c.multi_device = true).await else { return };
    let alice = server.user("alice").await;
    let bob = server.user("bob").await;
    let (a, b) = (alice.user.id, bob.user.id);
    let conversation = server.befriend(&alice, &bob).await;
    let mut alice_socket = server.connect(&alice.token).await;
    let mut bob_socket = server.connect(&bob.token).await;
    let mut bob_phone = server.connect(&server.login("bob").await.token).await;
    let (_, question) = alice_socket.send_text(Target::User { id: b }, "lunch at noon?").await;
    assert!(reactions_on(&server, &bob.token, conversation, question).await.is_empty());

    // Bob reacts: the reaction is a message of its own, in sequence, to Alice and to Bob's
    // other device, and history shows it on the question.
    let thumbs = react(&mut bob_socket, conversation, question, "👍", true).await.expect("stored");
    assert_eq!(thumbs, question + 1, "a reaction travels in sequence like a message");
    for socket in [&mut alice_socket, &mut bob_phone] {
        let got = pushed(socket, "bob's reaction", thumbs).await;
        assert_eq!(got.content, reaction("👍", question, true));
        assert_eq!(got.sender_id, Some(b));
    }
    assert_eq!(reactions_on(&server, &alice.token, conversation, question).await, reactions(&[("👍", &[b])]));

    // Alice reacts with the same emoji and another; Bob's second "on" changes nothing.
    react(&mut alice_socket, conversation, question, "👍", true).await.expect("stored");
    let heart = react(&mut alice_socket, conversation, question, "❤️", true).await.expect("stored");
    pushed(&mut bob_socket, "alice's heart", heart).await;
    react(&mut bob_phone, conversation, question, "👍", true).await.expect("on twice is no error");
    assert_eq!(
        reactions_on(&server, &bob.token, conversation, question).await,
        reactions(&[("👍", &[b, a]), ("❤️", &[a])])
    );

    // Bob takes his back (twice: the second changes nothing).
    let off = react(&mut bob_socket, conversation, question, "👍", false).await.expect("stored");
    let got = pushed(&mut bob_phone, "bob's reaction taken back", off).await;
    assert_eq!(got.content, reaction("👍", question, false));
    let last =
        react(&mut bob_socket, conversation, question, "👍", false).await.expect("off twice is no error");
    assert_eq!(
        reactions_on(&server, &alice.token, conversation, question).await,
        reactions(&[("👍", &[a]), ("❤️", &[a])])
    );

    // A device that was away catches up after its cursor, reactions included, in order.
    drop(bob_phone);
    let phone = server.connect(&server.login("bob").await.token).await;
    let Some(ServerFrame::SyncState { conversations, .. }) = &phone.sync else { panic!("no sync state") };
    let state = conversations.iter().find(|c| c.conversation_id == conversation).expect("listed");
    assert_eq!(state.last_seq, last);
    assert_eq!(state.unread, 1, "the question; reactions are no news");
    let caught_up = history(&server, &bob.token, conversation, question).await;
    let changes: Vec<(String, bool)> = caught_up
        .iter()
        .filter_map(|m| match &m.content {
            Content::Text { text, reaction_of: Some(r), .. } if r.seq == question => {
                Some((text.clone(), r.on))
            }
            _ => None,
        })
        .collect();
    let expected = [("👍", true), ("👍", true), ("❤️", true), ("👍", true), ("👍", false), ("👍", false)];
    assert_eq!(changes, expected.map(|(e, on)| (e.to_owned(), on)));
    // Alice's own reactions do not count as unread for her either.
    let alice_again = server.connect(&server.login("alice").await.token).await;
    let Some(ServerFrame::SyncState { conversations, .. }) = &alice_again.sync else {
        panic!("no sync state")
    };
    let state = conversations.iter().find(|c| c.conversation_id == conversation).expect("listed");
    assert_eq!(state.unread, 0, "bob's reactions are no news to alice");
    server.stop().await;
}

async fn a_resent_reaction_changes_nothing(backend: Backend) {
    let Some(server) = TestServer::start(backend).await else { return };
    let alice = server.user("alice").await;
    let bob = server.user("bob").await;
    let conversation = server.befriend(&alice, &bob).await;
    let mut alice_socket = server.connect(&alice.token).await;
    let mut bob_socket = server.connect(&bob.token).await;
    let (_, question) = alice_socket.send_text(Target::User { id: bob.user.id }, "tea?").await;
    let client_id = uuid::Uuid::new_v4().to_string();
    let first =
        react_as(&mut bob_socket, &client_id, conversation, question, "😂", true).await.expect("stored");
    react(&mut bob_socket, conversation, question, "😂", false).await.expect("stored");
    // The first again (after a reconnect, say): its first ack, and the later "off" stays.
    let again = react_as(&mut bob_socket, &client_id, conversation, question, "😂", true).await;
    assert_eq!(again, Ok(first), "the first ack again");
    assert!(reactions_on(&server, &alice.token, conversation, question).await.is_empty());
    let all = history(&server, &alice.token, conversation, 0).await;
    assert_eq!(all.len(), 3, "the question and two reactions; the resend stored nothing");
    server.stop().await;
}

async fn reactions_are_refused_for_strangers_bad_emoji_and_hidden_messages(backend: Backend) {
    let Some(server) = TestServer::start(backend).await else { return };
    let alice = server.user("alice").await;
    let bob = server.user("bob").await;
    let carol = server.user("carol").await;
    let conversation = server.befriend(&alice, &bob).await;
    let mut alice_socket = server.connect(&alice.token).await;
    let mut bob_socket = server.connect(&bob.token).await;
    let mut carol_socket = server.connect(&carol.token).await;
    let to_bob = Target::User { id: bob.user.id };
    let (_, shown) = alice_socket.send_text(to_bob, "hello").await;
    let (_, gone) = alice_socket.send_text(to_bob, "oops").await;
    alice_socket.send(&ClientFrame::Recall { conversation_id: conversation, seq: gone }).await;
    let marker = bob_socket
        .expect("the recall", |f| matches!(f, ServerFrame::Message { message } if message.content == Content::Recall { seq: gone, by: None }))
        .await;
    let ServerFrame::Message { message: marker } = marker else { unreachable!() };
    let a_reaction = react(&mut bob_socket, conversation, shown, "🙏", true).await.expect("stored");

    // Not a member of the conversation.
    assert_eq!(react(&mut carol_socket, conversation, shown, "👍", true).await, Err(ErrorCode::Forbidden));
    assert_eq!(react(&mut carol_socket, 9_999, 1, "👍", true).await, Err(ErrorCode::Forbidden));
    // Not one emoji.
    for bad in ["", "a", "ok", ":)", "👍👍", "👍 ", "é", &"🙂".repeat(30)] {
        assert_eq!(
            react(&mut bob_socket, conversation, shown, bad, true).await,
            Err(ErrorCode::InvalidField),
            "{bad:?}"
        );
    }
    // Not a message people see: none there, recalled, a recall marker, a reaction.
    for seq in [0, -1, 9_999, gone, marker.seq, a_reaction] {
        assert_eq!(
            react(&mut bob_socket, conversation, seq, "👍", true).await,
            Err(ErrorCode::NotFound),
            "reacting to {seq}"
        );
    }
    // A bad client id.
    assert_eq!(
        react_as(&mut bob_socket, "no spaces", conversation, shown, "👍", true).await,
        Err(ErrorCode::InvalidField)
    );
    // A reaction goes with the react frame only, and cannot be edited or recalled.
    let client_id = uuid::Uuid::new_v4().to_string();
    let smuggled = ClientFrame::Send {
        client_id: client_id.clone(),
        to: Target::User { id: alice.user.id },
        content: reaction("👍", shown, true),
    };
    bob_socket.send(&smuggled).await;
    let refused = bob_socket
        .expect(
            "the refusal",
            |f| matches!(f, ServerFrame::Error { reference: Some(c), .. } if *c == client_id),
        )
        .await;
    assert!(matches!(refused, ServerFrame::Error { code: ErrorCode::InvalidField, .. }), "{refused:?}");
    let edit_id = uuid::Uuid::new_v4().to_string();
    let edit = ClientFrame::Edit {
        client_id: edit_id.clone(),
        conversation_id: conversation,
        seq: a_reaction,
        text: "👎".into(),
    };
    bob_socket.send(&edit).await;
    let refused = bob_socket
        .expect(
            "the refusal",
            |f| matches!(f, ServerFrame::Error { reference: Some(c), .. } if *c == edit_id),
        )
        .await;
    assert!(matches!(refused, ServerFrame::Error { code: ErrorCode::InvalidField, .. }), "{refused:?}");

    // A late member of a group cannot react to what they never saw.
    let (status, body) =
        server.post("/api/groups", Some(&alice.token), json!({"name": "Climbers", "description": ""})).await;
    assert_eq!(status, StatusCode::CREATED, "{body}");
    let group = body["group"]["id"].as_i64().expect("group id");
    let (group_conversation, before) =
        alice_socket.send_text(Target::Group { id: group }, "before bob").await;
    let (status, body) = server
        .post(&format!("/api/groups/{group}/applications"), Some(&bob.token), json!({"message": "hi"}))
        .await;
    assert_eq!(status, StatusCode::CREATED, "{body}");
    let request = body["id"].as_i64().expect("request id");
    let (status, body) =
        server.post(&format!("/api/group-requests/{request}/accept"), Some(&alice.token), json!({})).await;
    assert_eq!(status, StatusCode::NO_CONTENT, "{body}");
    assert_eq!(
        react(&mut bob_socket, group_conversation, before, "👍", true).await,
        Err(ErrorCode::NotFound)
    );

    // Nothing refused left a trace.
    assert_eq!(
        reactions_on(&server, &alice.token, conversation, shown).await,
        reactions(&[("🙏", &[bob.user.id])])
    );
    bob_socket.assert_alive().await;
    server.stop().await;
}

async fn reactions_count_against_the_send_rate(backend: Backend) {
    let Some(server) = TestServer::start_with(backend, |c| {
        // No refill: the outcome does not depend on how fast the test runs.
        c.messages_per_second = 0;
        c.message_burst = 3;
    })
    .await
    else {
        return;
    };
    let alice = server.user("alice").await;
    let bob = server.user("bob").await;
    let conversation = server.befriend(&alice, &bob).await;
    let mut alice_socket = server.connect(&alice.token).await;
    let mut bob_socket = server.connect(&bob.token).await;
    let (_, question) = alice_socket.send_text(Target::User { id: bob.user.id }, "tea?").await;
    // A burst of three, then the bucket is empty: the next is refused with its client id.
    let mut answers = Vec::new();
    for emoji in ["👍", "❤️", "😂", "😮"] {
        answers.push(react(&mut bob_socket, conversation, question, emoji, true).await);
    }
    assert!(answers[..3].iter().all(Result::is_ok), "{answers:?}");
    assert_eq!(answers[3], Err(ErrorCode::RateLimited));
    let on = reactions_on(&server, &alice.token, conversation, question).await;
    assert_eq!(on.len(), 3, "the refused one left no trace: {on:?}");
    bob_socket.assert_alive().await;
    server.stop().await;
}

/// Every message of a conversation as `token`'s holder reads it in history, page by page.
async fn whole_history(server: &TestServer, token: &str, conversation_id: i64) -> Vec<ChatMessage> {
    let mut all: Vec<ChatMessage> = Vec::new();
    loop {
        let after = all.last().map_or(0, |m| m.seq);
        let page = history(server, token, conversation_id, after).await;
        if page.is_empty() {
            return all;
        }
        all.extend(page);
    }
}

async fn two_devices_toggling_at_once_leave_what_the_last_reaction_says(backend: Backend) {
    race_on_one_node(backend, toggle_from_two_devices_at_once).await
}

/// The same race with Bob's laptop and phone on two nodes of a cluster: each node's writer
/// numbers its batches in the database, and the reactions follow those numbers too.
async fn two_devices_on_two_nodes_toggling_at_once(backend: Backend) {
    race_on_two_nodes(backend, toggle_from_two_devices_at_once).await
}

// A cluster cannot run on SQLite.
#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn two_devices_on_two_nodes_toggling_at_once_on_postgres() {
    two_devices_on_two_nodes_toggling_at_once(Backend::Postgres).await
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn two_devices_on_two_nodes_toggling_at_once_on_mysql() {
    two_devices_on_two_nodes_toggling_at_once(Backend::MySql).await
}

/// Alice (on `main`) posts messages; on each, Bob's laptop (on `laptop_node`) and phone (on
/// `phone_node`) toggle the same emoji at once, one on and one off. Afterwards history's
/// reactions on every message say what the last reaction message on it says.
async fn toggle_from_two_devices_at_once(
    main: &TestServer,
    laptop_node: &TestServer,
    phone_node: &TestServer,
) {
    let alice = main.user("alice").await;
    let bob = main.user("bob").await;
    let b = bob.user.id;
    let conversation = main.befriend(&alice, &bob).await;
    let mut alice_socket = main.connect(&alice.token).await;
    let mut laptop = laptop_node.connect(&bob.token).await;
    let mut phone = phone_node.connect(&phone_node.login("bob").await.token).await;
    // Enough rounds that, without the guarantee, some pair lands the wrong way round on
    // PostgreSQL and MariaDB.
    const ROUNDS: usize = 300;
    let mut targets = Vec::with_capacity(ROUNDS);
    for round in 0..ROUNDS {
        targets.push(alice_socket.send_text(Target::User { id: b }, &format!("message {round}")).await.1);
    }

    // On each message, Bob's laptop puts 👍 while his phone takes it back (and the other way
    // round on every other message), both at once: each pair is sent before either answer
    // is awaited, so the two connections' reactions race each other, round after round.
    for (round, &seq) in targets.iter().enumerate() {
        let laptop_on = round % 2 == 0;
        let mut pair = Vec::with_capacity(2);
        for (socket, on) in [(&mut laptop, laptop_on), (&mut phone, !laptop_on)] {
            let client_id = uuid::Uuid::new_v4().to_string();
            let emoji = "👍".to_owned();
            socket
                .send(&ClientFrame::React {
                    client_id: client_id.clone(),
                    conversation_id: conversation,
                    seq,
                    emoji,
                    on,
                })
                .await;
            pair.push(client_id);
        }
        assert!(laptop.answer(&pair[0]).await.is_ok(), "the laptop's reaction is stored");
        assert!(phone.answer(&pair[1]).await.is_ok(), "the phone's reaction is stored");
    }

    // History's reactions on each message say what the last reaction message on it says.
    let all = whole_history(main, &alice.token, conversation).await;
    assert_eq!(all.len(), 3 * ROUNDS, "each message and its two reactions");
    let mut disagreements = Vec::new();
    for &seq in &targets {
        let said: Vec<bool> = all
            .iter()
            .filter_map(|m| match &m.content {
                Content::Text { reaction_of: Some(r), .. } if r.seq == seq => Some(r.on),
                _ => None,
            })
            .collect();
        assert_eq!(said.len(), 2, "two reaction messages on {seq}");
        let last_says = if said[1] { reactions(&[("👍", &[b])]) } else { Vec::new() };
        let stored = &all.iter().find(|m| m.seq == seq).expect("the message in history").reactions;
        if *stored != last_says {
            disagreements.push(seq);
        }
    }
    assert!(disagreements.is_empty(), "history disagrees with the last reaction on {disagreements:?}");
}

async fn a_reaction_racing_a_recall_is_sequenced_before_it_or_refused(backend: Backend) {
    race_on_one_node(backend, react_and_recall_at_once).await
}

/// The same race with Bob and Alice on two nodes of a cluster.
async fn a_reaction_racing_a_recall_on_two_nodes(backend: Backend) {
    race_on_two_nodes(backend, react_and_recall_at_once).await
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_reaction_racing_a_recall_on_two_nodes_on_postgres() {
    a_reaction_racing_a_recall_on_two_nodes(Backend::Postgres).await
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_reaction_racing_a_recall_on_two_nodes_on_mysql() {
    a_reaction_racing_a_recall_on_two_nodes(Backend::MySql).await
}

/// On each of Alice's messages Bob (on `bob_node`) puts 👍 while Alice (on `alice_node`)
/// recalls it, at once. A reaction that is stored comes before the recall in sequence; one
/// that would come after it is refused (`not_found`) and leaves no message and no gap.
async fn react_and_recall_at_once(main: &TestServer, bob_node: &TestServer, alice_node: &TestServer) {
    let alice = main.user("alice").await;
    let bob = main.user("bob").await;
    let conversation = main.befriend(&alice, &bob).await;
    let mut bob_socket = bob_node.connect(&bob.token).await;
    let mut alice_socket = alice_node.connect(&alice.token).await;
    const ROUNDS: usize = 200;
    let mut targets = Vec::with_capacity(ROUNDS);
    for round in 0..ROUNDS {
        targets.push(
            alice_socket.send_text(Target::User { id: bob.user.id }, &format!("message {round}")).await.1,
        );
    }

    let mut answers = Vec::with_capacity(ROUNDS);
    for &seq in &targets {
        let client_id = uuid::Uuid::new_v4().to_string();
        let emoji = "👍".to_owned();
        bob_socket
            .send(&ClientFrame::React {
                client_id: client_id.clone(),
                conversation_id: conversation,
                seq,
                emoji,
                on: true,
            })
            .await;
        alice_socket.send(&ClientFrame::Recall { conversation_id: conversation, seq }).await;
        let answer = bob_socket.answer(&client_id).await.map(|(_, at)| at);
        assert!(matches!(answer, Ok(_) | Err(ErrorCode::NotFound)), "{answer:?}");
        alice_socket.pushed("the recall", |m| m.content == Content::Recall { seq, by: None }).await;
        answers.push(answer);
    }

    let all = whole_history(main, &bob.token, conversation).await;
    let seqs: Vec<i64> = all.iter().map(|m| m.seq).collect();
    assert_eq!(seqs, (1..=all.len() as i64).collect::<Vec<_>>(), "no gaps in the numbers");
    let mut wrong = Vec::new();
    for (&seq, answer) in targets.iter().zip(&answers) {
        let recall = all
            .iter()
            .find(|m| m.content == Content::Recall { seq, by: None })
            .expect("the recall in history")
            .seq;
        let reactions: Vec<i64> = all
            .iter()
            .filter(|m| matches!(&m.content, Content::Text { reaction_of: Some(ReactionOf { seq: of, .. }), .. } if *of == seq))
            .map(|m| m.seq)
            .collect();
        match answer {
            Ok(at) => {
                assert_eq!(reactions, [*at], "the stored reaction on {seq} is in history");
                if *at > recall {
                    wrong.push(seq);
                }
            }
            Err(_) => {
                assert!(reactions.is_empty(), "a refused reaction on {seq} left a message: {reactions:?}")
            }
        }
    }
    let refused = answers.iter().filter(|a| a.is_err()).count();
    eprintln!("{} reactions stored before the recall, {refused} refused", ROUNDS - refused);
    assert!(wrong.is_empty(), "reactions sequenced after the recall of their message: {wrong:?}");
}

//! Forwarding through the window: a message's menu, the chats to tick, and the copy that
//! reaches another friend marked with whose message it was.

use crate::common::{Driver, TestServer, befriend, friends, text_of};
use kith_client::history::{Delivery, StoredMessage};
use kith_client::screen::{chat, forward, home};

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_forwarded_message_reaches_another_friend_marked_with_its_author() {
    let server = TestServer::start().await;
    let (mut alice, mut bob, with_alice) = friends(&server).await;
    alice.home(home::Message::Open(with_alice));
    bob.home(home::Message::Open(with_alice));
    alice.say("Climbing at six?");
    let question = |m: &StoredMessage| text_of(m) == Some("Climbing at six?");
    let sent = |m: &StoredMessage| question(m) && m.delivery == Delivery::Sent;
    alice.until_cached(with_alice, "Alice's question acknowledged", sent).await;
    let cached = bob.until_cached(with_alice, "Alice's question", question).await;
    let held = cached.iter().find(|m| question(m)).expect("held").clone();
    bob.until_home("Bob's chat shows it", |home| {
        home.chat.as_ref().is_some_and(|chat| chat.messages.iter().any(|m| m.local_id == held.local_id))
    })
    .await;

    let mut carol = Driver::new();
    carol.register(&server, "carol", "Carol").await;
    let with_carol = befriend(&mut carol, &mut bob).await;

    // Bob forwards it from its menu, ticking Carol.
    bob.home(home::Message::Chat(chat::Message::MessageMenu(Some(held.local_id))));
    bob.ui(|ui| {
        ui.click("Forward").expect("Forward in the menu");
    });
    assert!(bob.sees("Forward a message"));
    // (Carol's name is in the side bar too: the tick goes to the panel's box directly.)
    let listed = bob.main().panel.as_ref().is_some_and(|panel| {
        matches!(panel, home::Panel::Forward(forward) if forward.choices(&bob.main().session.roster).iter().any(|(id, name)| *id == with_carol && name == "Carol"))
    });
    assert!(listed, "Carol is among the chats to forward to");
    bob.home(home::Message::Forward(forward::Message::Toggle(with_carol, true)));
    bob.ui(|ui| {
        ui.click("Forward to 1 chat").expect("the button counts the chats ticked");
    });

    // Carol gets the copy from Bob, saying it was Alice's; Bob's own chat with Carol holds it.
    let forwarded =
        |m: &StoredMessage| question(m) && m.forwarded_from.as_ref().is_some_and(|from| from.name == "Alice");
    let at_carol = carol.until_cached(with_carol, "the forward", forwarded).await;
    let copy = at_carol.iter().find(|m| forwarded(m)).expect("held");
    assert_eq!(copy.sender_id, Some(bob.main().user().id), "Bob sent it");
    bob.until_cached(with_carol, "Bob's copy of his forward", forwarded).await;
    carol.home(home::Message::Open(with_carol));
    carol
        .until_home("Carol's chat shows it", |home| {
            home.chat.as_ref().is_some_and(|chat| chat.messages.iter().any(forwarded))
        })
        .await;
    assert!(carol.sees("Forwarded from Alice"));
    assert!(carol.sees("Climbing at six?"));

    // Several at once: Bob selects Alice's question and his answer, and forwards both.
    bob.say("Count me in");
    let answer = |m: &StoredMessage| text_of(m) == Some("Count me in") && m.seq.is_some();
    let cached = bob.until_cached(with_alice, "Bob's answer acknowledged", answer).await;
    let answer_seq = cached.iter().find(|m| answer(m)).and_then(|m| m.seq).expect("sent");
    bob.until_home("Bob's chat shows his answer", |home| {
        home.chat.as_ref().is_some_and(|chat| chat.messages.iter().any(answer))
    })
    .await;
    bob.home(home::Message::Chat(chat::Message::MessageMenu(Some(held.local_id))));
    bob.ui(|ui| {
        ui.click("Select").expect("Select in the menu");
    });
    bob.home(home::Message::Chat(chat::Message::ToggleSelected(answer_seq)));
    assert!(bob.sees("2 messages selected"));
    bob.ui(|ui| {
        ui.click("Forward").expect("Forward on the selection bar");
    });
    assert!(bob.sees("Forward 2 messages"));
    bob.home(home::Message::Forward(forward::Message::Toggle(with_carol, true)));
    bob.ui(|ui| {
        ui.click("Forward to 1 chat").expect("the button counts the chats ticked");
    });
    let bobs = |m: &StoredMessage| {
        text_of(m) == Some("Count me in") && m.forwarded_from.as_ref().is_some_and(|from| from.name == "Bob")
    };
    let at_carol = carol.until_cached(with_carol, "both forwards", bobs).await;
    let forwards: Vec<&str> =
        at_carol.iter().filter(|m| m.forwarded_from.is_some()).filter_map(text_of).collect();
    assert_eq!(
        forwards,
        ["Climbing at six?", "Climbing at six?", "Count me in"],
        "in the order they were written"
    );
}

//! Reactions between two apps: Bob reacts from a message's menu, Alice adds hers with a click
//! on the chip, Bob takes his back the same way, both see the chips and who reacted live; a
//! reaction made while Bob's app is closed shows after its restart, from the cache too.

use crate::common::{TestServer, friends, text_of};
use iced_test::selector;
use kith_client::history::{Delivery, StoredMessage};
use kith_client::screen::{chat, home};
use kith_client::session;
use kith_shared::UserId;

/// Whether the open chat shows exactly these users (in order) on `emoji` of message `seq`.
fn shows(home: &home::Home, seq: i64, emoji: &str, users: &[UserId]) -> bool {
    let Some(chat) = &home.chat else { return false };
    let on = chat.reactions.get(&seq).and_then(|all| all.iter().find(|r| r.emoji == emoji));
    match on {
        Some(reactions) => reactions.user_ids == users,
        None => users.is_empty(),
    }
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_reaction_from_the_menu_and_the_chips_reaches_the_friend_live_and_after_a_restart() {
    let server = TestServer::start().await;
    let (mut alice, mut bob, conversation) = friends(&server).await;
    let (a, b) = (alice.main().session.user.id, bob.main().session.user.id);
    alice.home(home::Message::Open(conversation));
    bob.home(home::Message::Open(conversation));
    alice.say("Lunch at noon?");
    let sent = |m: &StoredMessage| text_of(m) == Some("Lunch at noon?") && m.delivery == Delivery::Sent;
    alice.until_cached(conversation, "Alice's question acknowledged", sent).await;
    let cached = bob.until_cached(conversation, "Alice's question", sent).await;
    let question = cached.iter().find(|m| sent(m)).expect("held").clone();
    let seq = question.seq.expect("sent");
    bob.until_home("Bob's chat shows it", |home| {
        home.chat.as_ref().is_some_and(|chat| chat.messages.iter().any(|m| m.seq == Some(seq)))
    })
    .await;

    // Bob reacts from the message's menu: both chats show his 👍.
    bob.home(home::Message::Chat(chat::Message::MessageMenu(Some(question.local_id))));
    bob.ui(|ui| {
        ui.click("👍").expect("👍 in the menu");
    });
    bob.until_home("Bob's own reaction", |home| shows(home, seq, "👍", &[b])).await;
    alice.until_home("Bob's reaction", |home| shows(home, seq, "👍", &[b])).await;
    // (The chip shows the server's picture of 👍: it is found by its id.)
    let chip = chat::id::reaction(seq, "👍");
    alice.ui(|ui| assert!(ui.find(selector::id(chip.clone())).is_ok(), "the chip is on Alice's screen"));
    assert_eq!(alice.main().session.roster.unread(conversation), 0, "a reaction is no news");
    let lines = alice.until_cached(conversation, "the question", sent).await;
    assert_eq!(lines.len(), 1, "the reaction is no line of its own: {lines:?}");

    // Alice clicks the chip to add hers; Bob clicks it to take his back. (Each app handles its
    // own news only while it is waited on: the clicker waits for its own ack first.)
    alice.ui(|ui| {
        ui.click(selector::id(chip.clone())).expect("the chip");
    });
    alice.until_home("Alice's own reaction", |home| shows(home, seq, "👍", &[b, a])).await;
    bob.until_home("Alice's reaction too", |home| shows(home, seq, "👍", &[b, a])).await;
    bob.ui(|ui| {
        ui.click(selector::id(chip.clone())).expect("the chip");
    });
    bob.until_home("Bob's taken back on his side", |home| shows(home, seq, "👍", &[a])).await;
    alice.until_home("Bob's taken back", |home| shows(home, seq, "👍", &[a])).await;

    // Bob's app is closed; Alice reacts with an emoji of the panel (More…).
    let mut bob = bob.reopen(&server, "bob");
    let mine = alice.main().chat.as_ref().expect("open").message_at(seq).expect("held").local_id;
    alice.home(home::Message::Chat(chat::Message::MessageMenu(Some(mine))));
    alice.ui(|ui| {
        ui.click("More…").expect("More… in the menu");
    });
    assert!(alice.sees("Choose an emoji to react with."));
    alice.home(home::Message::Chat(chat::Message::InsertEmoji("🎉".into())));
    alice.until_home("Alice's 🎉", |home| shows(home, seq, "🎉", &[a])).await;
    assert_eq!(alice.main().chat.as_ref().expect("open").composer.text().trim(), "", "nothing typed");
    bob.until_home("Bob is back online", |home| home.session.status == session::Status::Online).await;
    bob.home(home::Message::Open(conversation));
    bob.until_home("the reaction made while away", |home| {
        shows(home, seq, "🎉", &[a]) && shows(home, seq, "👍", &[a])
    })
    .await;
    let held = bob.history().expect("a cache").reactions(conversation, 0).await.expect("read");
    assert_eq!(held[&seq].len(), 2, "kept on this computer: {held:?}");

    server.server.shutdown().await;
}

//! Deleting messages: "Delete for me" from a message's menu takes it off every device of the
//! user (one that was away included) and leaves it with the friend; a group's owner deletes
//! a member's message for everyone, and the member sees who did.

use crate::common::{Driver, TestServer, friends, text_of};
use kith_client::history::StoredMessage;
use kith_client::screen::{chat, home};
use kith_shared::api::CreateGroupRequest;
use kith_shared::frame::{Content, Moderator};

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn deleted_for_me_leaves_my_devices_and_stays_with_the_friend() {
    let server = TestServer::start_with(|config| config.multi_device = true).await;
    let (mut alice, mut bob, conversation) = friends(&server).await;
    alice.home(home::Message::Open(conversation));
    bob.home(home::Message::Open(conversation));
    bob.say("my secret");
    bob.say("still here");
    let sent = |m: &StoredMessage| text_of(m) == Some("still here") && m.seq.is_some();
    bob.until_cached(conversation, "Bob's messages acknowledged", sent).await;
    let secret = |m: &StoredMessage| text_of(m) == Some("my secret");
    alice.until_cached(conversation, "the second message", |m| text_of(m) == Some("still here")).await;
    alice
        .until_home("Alice's chat shows it", |home| {
            home.chat.as_ref().is_some_and(|chat| chat.messages.iter().any(secret))
        })
        .await;

    // Alice deletes Bob's message for herself from its menu, asked once more.
    let local_id =
        alice.main().chat.as_ref().expect("open").messages.iter().find(|m| secret(m)).expect("held").local_id;
    alice.home(home::Message::Chat(chat::Message::MessageMenu(Some(local_id))));
    alice.ui(|ui| {
        ui.click("Delete for me").expect("Delete for me in the menu");
    });
    assert!(alice.sees("Delete this message for you? Others keep it."));
    assert!(!alice.sees("Delete for everyone"), "a one-to-one chat has no moderators");
    alice.ui(|ui| {
        ui.click("Delete").expect("the confirmation");
    });
    alice
        .until_home("the message leaves Alice's chat", |home| {
            home.chat
                .as_ref()
                .is_some_and(|chat| !chat.messages.iter().any(secret) && !chat.messages.is_empty())
        })
        .await;
    let held = alice.history().expect("cache").recent(conversation, 100).await.expect("read");
    assert_eq!(held.iter().filter_map(text_of).collect::<Vec<_>>(), ["still here"]);
    assert!(alice.history().expect("cache").search("secret", 10).await.expect("search").is_empty());
    // Bob keeps it.
    let bobs = bob.history().expect("cache").recent(conversation, 100).await.expect("read");
    assert!(bobs.iter().any(secret), "{bobs:?}");

    // Alice's other computer, with an empty cache, never shows it.
    let mut laptop = Driver::new();
    laptop.log_in(&server, "alice").await;
    let held = laptop.until_cached(conversation, "the history", |m| text_of(m) == Some("still here")).await;
    assert!(!held.iter().any(secret), "{held:?}");
    assert_eq!(laptop.history().expect("cache").hidden_count(conversation).await.expect("count"), 1);

    server.server.shutdown().await;
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_groups_owner_deletes_a_members_message_for_everyone() {
    let server = TestServer::start().await;
    let (mut alice, mut bob, _) = friends(&server).await;
    let bob_id = bob.main().user().id;
    let alice_api = alice.main().session.api.clone();
    let request = CreateGroupRequest { name: "Climbers".into(), description: String::new() };
    let group = alice_api.create_group(&request).await.expect("created").group.id;
    let invitation = alice_api.group(group).invite(bob_id, String::new()).await.expect("invited");
    bob.main().session.api.answer_group_request(invitation.id, true).await.expect("accepted");
    bob.until_home("Bob is in the group", |home| home.session.roster.groups.contains_key(&group)).await;
    alice
        .until_home("Alice's roster has the group", |home| home.session.roster.groups.contains_key(&group))
        .await;
    alice.home(home::Message::Open(group));
    bob.home(home::Message::Open(group));
    bob.say("something rude");
    let rude = |m: &StoredMessage| text_of(m) == Some("something rude");
    bob.until_cached(group, "Bob's message acknowledged", |m| rude(m) && m.seq.is_some()).await;
    alice.until_cached(group, "Bob's message", rude).await;
    alice
        .until_home("Alice's chat shows it", |home| {
            home.chat.as_ref().is_some_and(|c| c.messages.iter().any(rude))
        })
        .await;

    // The owner deletes it from its menu, asked once more.
    let local_id =
        alice.main().chat.as_ref().expect("open").messages.iter().find(|m| rude(m)).expect("held").local_id;
    alice.home(home::Message::Chat(chat::Message::MessageMenu(Some(local_id))));
    alice.ui(|ui| {
        ui.click("Delete for everyone").expect("Delete for everyone in the owner's menu");
    });
    assert!(alice.sees("Delete this message for everyone?"));
    alice.ui(|ui| {
        ui.click("Delete").expect("the confirmation");
    });
    let by = Some(Moderator { user_id: alice.main().user().id, name: "Alice".into() });
    let deleted = |m: &StoredMessage| m.content == Content::Recalled { by: by.clone() };
    let held = bob.until_cached(group, "the delete", deleted).await;
    assert!(!held.iter().any(rude));
    bob.until_home("Bob's chat shows the notice", |home| {
        home.chat.as_ref().is_some_and(|c| c.messages.iter().any(deleted))
    })
    .await;
    let marker = held.iter().find(|m| deleted(m)).expect("the marker");
    let time = kith_client::clock::time_of_day(marker.sent_at);
    assert!(bob.sees(&format!("Message deleted by Alice · {time}")), "the notice names who deleted it");
    alice.until_cached(group, "the delete on Alice's side", deleted).await;

    server.server.shutdown().await;
}

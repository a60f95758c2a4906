//! Blocking a person: the friendship ends on both sides, their new friend request waits unseen,
//! and unblocking from Settings lets it through; a block and its lifting reach the blocker's
//! other devices at once.

use crate::common::{TestServer, friends, two_devices_and_a_friend};
use kith_client::screen::home::{self, Panel};
use kith_client::screen::{chat, home::settings};

#[tokio::test]
async fn a_block_ends_the_friendship_and_hides_requests_until_unblocked() {
    let server = TestServer::start().await;
    let (mut alice, mut bob, conversation) = friends(&server).await;
    let alice_id = alice.main().user().id;
    let bob_id = bob.main().user().id;

    // Alice blocks Bob from their chat's header (asked twice).
    alice.home(home::Message::Open(conversation));
    alice.home(home::Message::Chat(chat::Message::AskBlock));
    alice.home(home::Message::Chat(chat::Message::Block(true)));
    alice.until_home("Bob is no longer a friend", |home| home.session.roster.friends.is_empty()).await;
    bob.until_home("Alice is no longer a friend", |home| home.session.roster.friends.is_empty()).await;

    // Bob asks again: it looks pending to him, Alice is not told.
    bob.home(home::Message::OpenAddFriend);
    bob.home(home::Message::AddFriend(home::add_friend::Message::Ask(alice_id)));
    bob.until_home("Bob's request waits", |home| {
        home.session.roster.friend_requests.iter().any(|r| r.to.id == alice_id)
    })
    .await;
    for _ in 0..5 {
        alice.settle().await;
    }
    assert_eq!(alice.main().session.roster.pending_count(), 0, "nothing reaches the blocker");

    // Settings lists him; unblocking lets his request through.
    alice.home(home::Message::OpenSettings);
    alice
        .until_home("the block list shows Bob", |home| {
            matches!(&home.panel, Some(Panel::Settings(_))) && home.session.roster.blocks(bob_id)
        })
        .await;
    assert!(alice.sees("Bob"), "Bob in Blocked people");
    alice.home(home::Message::Settings(settings::Message::Unblock(bob_id)));
    alice.until_home("Bob's request arrives", |home| home.session.roster.pending_count() == 1).await;
    assert!(alice.main().session.roster.friends.is_empty(), "unblocking does not make friends");
    server.server.shutdown().await;
}

#[tokio::test]
async fn a_block_and_an_unblock_reach_the_blockers_other_device_at_once() {
    let server = TestServer::start_with(|config| config.multi_device = true).await;
    let (mut laptop, mut phone, bob, conversation) = two_devices_and_a_friend(&server).await;
    let bob_id = bob.main().user().id;
    phone.until_home("the phone's block list arrived", |home| home.session.roster.blocked.is_some()).await;
    phone.home(home::Message::OpenSettings);
    phone
        .until_home("the phone's Settings list no one", |home| {
            home.session.roster.blocked == Some(Vec::new())
        })
        .await;
    assert!(phone.sees("You block no one."));

    // The laptop blocks Bob from their chat's header: the phone's open Settings list him.
    laptop.home(home::Message::Open(conversation));
    laptop.home(home::Message::Chat(chat::Message::AskBlock));
    laptop.home(home::Message::Chat(chat::Message::Block(true)));
    // The block and the end of the friendship travel as two frames, in either order.
    phone
        .until_home("the phone knows of the block, and he is no friend there either", |home| {
            home.session.roster.blocks(bob_id) && home.session.roster.friends.is_empty()
        })
        .await;
    assert!(phone.sees("@bob"), "Bob in the phone's Blocked people");
    assert!(!phone.sees("You block no one."));

    // The phone unblocks him: the laptop's list lets him go.
    laptop.until_home("the laptop knows of its block", |home| home.session.roster.blocks(bob_id)).await;
    phone.home(home::Message::Settings(settings::Message::Unblock(bob_id)));
    laptop.until_home("the laptop knows of the unblock", |home| !home.session.roster.blocks(bob_id)).await;
    phone
        .until_home("the phone's list is empty again", |home| home.session.roster.blocked == Some(Vec::new()))
        .await;
    assert!(phone.sees("You block no one."));
    server.server.shutdown().await;
}

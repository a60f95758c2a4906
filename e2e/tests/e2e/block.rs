//! Blocking a person: the friendship ends on both sides, their new friend request waits unseen,
//! and unblocking from Settings lets it through.

use crate::common::{TestServer, friends};
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
            matches!(&home.panel, Some(Panel::Settings(blocked))
                if blocked.list.as_ref().is_some_and(|list| list.iter().any(|b| b.user.id == bob_id)))
        })
        .await;
    assert!(alice.sees("Bob"), "Bob in Blocked people");
    alice.home(home::Message::Settings(settings::Message::Unblock(bob_id)));
    alice.until_home("Bob's request arrives", |home| home.session.roster.pending_count() == 1).await;
    assert!(alice.main().session.roster.friends.is_empty(), "unblocking does not make friends");
    server.server.shutdown().await;
}

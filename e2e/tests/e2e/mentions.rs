//! Mentions: the group's owner types `@B`, picks Bob from the offered members and sends; Bob,
//! who muted the group, gets the mention unmuted: an "@" badge on the group, and in the chat a
//! "Jump to mention" button that shows the message.

use crate::common::{TestServer, friends, text_of};
use iced::widget::text_editor;
use kith_client::history::StoredMessage;
use kith_client::screen::{chat, home};
use kith_shared::api::CreateGroupRequest;
use kith_shared::frame::Mentions;
use std::sync::Arc;

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_mention_picked_from_the_members_reaches_a_member_who_muted_the_group() {
    let server = TestServer::start().await;
    let (mut alice, mut bob, _) = friends(&server).await;
    let bob_id = bob.main().user().id;
    let alice_api = alice.main().session.api.clone();
    let request = CreateGroupRequest { name: "Climbers".into(), description: String::new() };
    let group = alice_api.create_group(&request).await.expect("created").group.id;
    let invitation = alice_api.group(group).invite(bob_id, String::new()).await.expect("invited");
    bob.main().session.api.answer_group_request(invitation.id, true).await.expect("accepted");
    bob.until_home("Bob is in the group", |home| home.session.roster.groups.contains_key(&group)).await;
    bob.main().session.api.group(group).mute(true).await.expect("muted");
    alice
        .until_home("Alice's roster has the group", |home| home.session.roster.groups.contains_key(&group))
        .await;
    alice.home(home::Message::Open(group));
    alice
        .until_home("the members are known", |home| {
            home.session.roster.members.get(&group).is_some_and(|members| members.len() == 2)
        })
        .await;

    // A plain message: muted for Bob, no badge.
    alice.say("quiet news");
    alice
        .until_cached(group, "the plain message sent", |m| {
            text_of(m) == Some("quiet news") && m.seq.is_some()
        })
        .await;
    bob.until_cached(group, "the plain message", |m| text_of(m) == Some("quiet news")).await;
    bob.settle().await;
    assert_eq!(bob.main().session.roster.unread(group), 0, "muted");
    assert!(!bob.main().session.roster.mentioned(group));

    // Alice types "@": the owner is offered everyone and Bob (not herself); "@B" leaves Bob.
    let typed = |text: &str| {
        let paste = text_editor::Action::Edit(text_editor::Edit::Paste(Arc::new(text.to_owned())));
        home::Message::Chat(chat::Message::Edit(paste))
    };
    alice.home(typed("hi @"));
    assert!(alice.sees("@all") && alice.sees("@Bob"), "the owner may mention everyone");
    assert!(!alice.sees("@Alice"), "not herself");
    alice.home(typed("B"));
    assert!(alice.sees("@Bob") && !alice.sees("@all"));
    alice.ui(|ui| {
        ui.click("@Bob").expect("the offered member");
    });
    alice.say("look");
    let mention = |m: &StoredMessage| text_of(m) == Some("hi @Bob look");
    let sent = alice.until_cached(group, "the mention acknowledged", |m| mention(m) && m.seq.is_some()).await;
    let Some(seq) = sent.iter().find(|m| mention(m)).and_then(|m| m.seq) else { panic!("no seq: {sent:?}") };
    let held = bob.until_cached(group, "the mention", mention).await;
    let Some(kith_shared::frame::Content::Text { mentions, .. }) =
        held.iter().find(|m| mention(m)).map(|m| &m.content)
    else {
        panic!("a text: {held:?}")
    };
    assert_eq!(*mentions, Mentions { user_ids: vec![bob_id], all: false });

    // Bob: the muted group gets the "@" badge, but no number.
    bob.until_home("the mention is noted", |home| home.session.roster.mentioned(group)).await;
    assert_eq!(bob.main().session.roster.unread(group), 0);
    assert!(bob.sees("@"), "the @ badge in the side bar");

    // Opening the chat reads it; "Jump to mention" shows the message.
    bob.home(home::Message::Open(group));
    bob.until_home("Bob's chat shows the mention", |home| {
        home.chat.as_ref().is_some_and(|chat| chat.messages.iter().any(mention))
    })
    .await;
    assert!(!bob.main().session.roster.mentioned(group), "read now");
    assert!(bob.sees("@ Jump to mention"));
    bob.ui(|ui| {
        ui.click("@ Jump to mention").expect("the jump button");
    });
    bob.until_home("the mention is shown", |home| {
        home.chat.as_ref().is_some_and(|c| c.highlight == Some(seq))
    })
    .await;
    assert!(!bob.sees("@ Jump to mention"), "no mention left to show");

    server.server.shutdown().await;
}

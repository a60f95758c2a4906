//! A group's announcement: written on several lines by the owner in group settings, shown
//! live in a member's group chat with who set it (its first line, the rest with *More*),
//! hidden there until a new one is set, also after a restart.

use crate::common::{Driver, TestServer, admin_panel, friends, group_with};
use iced::widget::text_editor::{Action, Edit};
use kith_client::screen::{group_admin, home};

/// Replaces the announcement in the open group settings with `text`, as typed or pasted.
fn write_announcement(driver: &mut Driver, text: &str) {
    driver.home(home::Message::GroupAdmin(group_admin::Message::AnnouncementEdited(Action::SelectAll)));
    let paste = Action::Edit(Edit::Paste(std::sync::Arc::new(text.to_owned())));
    driver.home(home::Message::GroupAdmin(group_admin::Message::AnnouncementEdited(paste)));
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn the_owner_announces_a_member_sees_it_live_and_hides_it() {
    let server = TestServer::start().await;
    let (mut alice, mut bob, _) = friends(&server).await;

    // Alice creates a group and invites Bob; he accepts and opens its chat.
    let group = group_with(&mut alice, &mut bob, "Climbers").await;
    assert!(!bob.sees("Announcement by Alice"), "no announcement yet");

    // Alice writes the announcement in group settings and saves.
    write_announcement(&mut alice, "Meet at the wall on Friday\nBring shoes");
    alice.home(home::Message::GroupAdmin(group_admin::Message::SaveProfile));

    // Bob's chat shows it live, with who set it.
    bob.until_home("the announcement arrives", |home| {
        home.session.roster.groups[&group]
            .group
            .announcement
            .as_ref()
            .is_some_and(|a| a.text.contains("Friday"))
    })
    .await;
    assert!(bob.sees("Announcement by Alice"));
    assert!(bob.sees("Meet at the wall on Friday…"), "folded to its first line");
    assert!(!bob.sees("Bring shoes"));
    bob.ui(|ui| {
        ui.click("More").expect("More on the bar");
    });
    assert!(bob.sees("Meet at the wall on Friday\nBring shoes"), "both lines");

    // Bob hides it; a new one shows again.
    bob.ui(|ui| {
        ui.click("Hide").expect("hide button");
    });
    assert!(!bob.sees("Announcement by Alice"), "hidden");

    // It stays hidden after Bob's app is closed and started again.
    let mut bob = bob.restart(&server, "bob").await;
    bob.home(home::Message::Open(group));
    bob.until_home("Bob's chat is open again", |home| {
        home.chat.as_ref().is_some_and(|c| c.conversation_id == group)
            && home.session.roster.groups.contains_key(&group)
    })
    .await;
    assert!(!bob.sees("Announcement by Alice"), "still hidden after a restart");
    alice.until("Alice's save is done", |app| admin_panel(app).is_some_and(|p| !p.busy)).await;
    write_announcement(&mut alice, "Saturday instead");
    alice.home(home::Message::GroupAdmin(group_admin::Message::SaveProfile));
    bob.until_home("the new announcement arrives", |home| {
        home.session.roster.groups[&group]
            .group
            .announcement
            .as_ref()
            .is_some_and(|a| a.text == "Saturday instead")
    })
    .await;
    assert!(bob.sees("Saturday instead"));

    server.server.shutdown().await;
}

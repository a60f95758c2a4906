//! A group's announcement: set by the owner in group settings, shown live in a member's
//! group chat with who set it, hidden there until a new one is set.

use crate::common::{TestServer, friends};
use kith_client::app::{App, Screen};
use kith_client::screen::{group_admin, groups, home};

/// The group settings panel, if open.
fn admin_panel(app: &App) -> Option<&group_admin::GroupAdmin> {
    match &app.screen {
        Screen::Home(home) => match &home.panel {
            Some(home::Panel::GroupAdmin(panel)) => Some(panel),
            _ => None,
        },
        Screen::Login(_) => None,
    }
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn the_owner_announces_a_member_sees_it_live_and_hides_it() {
    let server = TestServer::start().await;
    let (mut alice, mut bob, _) = friends(&server).await;

    // Alice creates a group and invites Bob; he accepts and opens its chat.
    alice.home(home::Message::OpenCreateGroup);
    alice.home(home::Message::Groups(groups::Message::NameChanged("Climbers".into())));
    alice.home(home::Message::Groups(groups::Message::Create));
    alice
        .until_home("the group's chat is open", |home| {
            home.chat.as_ref().is_some_and(|c| home.session.roster.groups.contains_key(&c.conversation_id))
        })
        .await;
    let group = alice.main().chat.as_ref().expect("chat").conversation_id;
    alice.ui(|ui| {
        ui.click("Group settings").expect("settings button");
    });
    alice.ui(|ui| {
        ui.click("Invite").expect("invite Bob");
    });
    alice
        .until("Bob is invited", |app| admin_panel(app).is_some_and(|p| !p.invited.is_empty() && !p.busy))
        .await;
    bob.until_home("the invitation arrives", |home| home.session.roster.pending_count() == 1).await;
    bob.ui(|ui| {
        ui.click("Requests").expect("requests button");
    });
    bob.ui(|ui| {
        ui.click("Accept").expect("accept button");
    });
    bob.until_home("Bob is in the group", |home| home.session.roster.groups.contains_key(&group)).await;
    bob.home(home::Message::Open(group));
    bob.until_home("Bob's chat is open", |home| {
        home.chat.as_ref().is_some_and(|c| c.conversation_id == group)
    })
    .await;
    assert!(!bob.sees("Announcement by Alice"), "no announcement yet");

    // Alice writes the announcement in group settings and saves.
    alice.home(home::Message::GroupAdmin(group_admin::Message::AnnouncementChanged(
        "Meet at the wall on Friday".into(),
    )));
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
    assert!(bob.sees("Meet at the wall on Friday"));

    // Bob hides it; a new one shows again.
    bob.ui(|ui| {
        ui.click("Hide").expect("hide button");
    });
    assert!(!bob.sees("Announcement by Alice"), "hidden");
    alice.until("Alice's save is done", |app| admin_panel(app).is_some_and(|p| !p.busy)).await;
    alice.home(home::Message::GroupAdmin(group_admin::Message::AnnouncementChanged(
        "Saturday instead".into(),
    )));
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

//! Groups: created, a friend invited and accepting from the inbox, made admin, handed the
//! group; muting and leaving.

use crate::common::{TestServer, admin_panel, friends};
use kith_client::app::Screen;
use kith_client::screen::{group_admin, groups, home};
use kith_shared::api::Role;

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn the_owner_invites_promotes_hands_over_and_the_old_owner_leaves() {
    let server = TestServer::start().await;
    let (mut alice, mut bob, _) = friends(&server).await;
    let bob_id = bob.main().user().id;

    // Alice creates a group; its chat opens.
    alice.home(home::Message::OpenCreateGroup);
    alice.home(home::Message::Groups(groups::Message::NameChanged("Chess Club".into())));
    alice.home(home::Message::Groups(groups::Message::Create));
    alice
        .until_home("the group's chat is open", |home| {
            home.chat.as_ref().is_some_and(|c| home.session.roster.groups.contains_key(&c.conversation_id))
        })
        .await;
    let group = alice.main().chat.as_ref().expect("chat").conversation_id;

    // Group settings: invite Bob by clicking.
    alice.ui(|ui| {
        ui.click("Group settings").expect("settings button");
    });
    assert!(admin_panel(&alice.app).is_some());
    alice.ui(|ui| {
        ui.click("Invite").expect("invite Bob");
    });
    alice.until("Bob is invited", |app| admin_panel(app).is_some_and(|p| p.invited == [bob_id])).await;

    // Bob accepts the invitation from his inbox.
    bob.until_home("the invitation arrives", |home| home.session.roster.pending_count() == 1).await;
    bob.ui(|ui| {
        ui.click("Requests").expect("requests button");
    });
    bob.ui(|ui| {
        ui.click("Accept").expect("accept button");
    });
    bob.until_home("Bob is in the group", |home| home.session.roster.groups.contains_key(&group)).await;
    alice
        .until_home("Alice sees Bob as a member", |home| {
            home.session.roster.members_sorted(group).iter().any(|m| m.user.id == bob_id)
        })
        .await;

    // Alice makes him an admin, then hands the group over (asked twice).
    alice.ui(|ui| {
        ui.click("Make admin").expect("make admin");
    });
    bob.until_home("Bob is an admin", |home| home.session.roster.groups[&group].role == Role::Admin).await;
    alice
        .until("Alice's panel shows it", |app| {
            admin_panel(app).is_some_and(|p| !p.busy)
                && matches!(&app.screen, Screen::Home(home)
                    if home.session.roster.members_sorted(group).iter().any(|m| m.user.id == bob_id && m.role == Role::Admin))
        })
        .await;
    alice.ui(|ui| {
        ui.click("Hand over").expect("hand over");
    });
    alice.ui(|ui| {
        ui.click("Hand over: sure?").expect("confirm");
    });
    bob.until_home("Bob owns the group", |home| home.session.roster.groups[&group].role == Role::Owner).await;
    alice
        .until("Alice is an admin now", |app| {
            admin_panel(app).is_some_and(|p| !p.busy)
                && matches!(&app.screen, Screen::Home(home) if home.session.roster.groups[&group].role == Role::Admin)
        })
        .await;

    // Bob opens the group's chat: its member list is there.
    bob.home(home::Message::Open(group));
    bob.until_home("Bob sees both members", |home| home.session.roster.members_sorted(group).len() == 2)
        .await;

    // Alice mutes it, then leaves: the chat closes and the group is gone from her list.
    alice.home(home::Message::GroupAdmin(group_admin::Message::MuteToggled(true)));
    alice
        .until("muted", |app| {
            admin_panel(app).is_some_and(|p| !p.busy)
                && matches!(&app.screen, Screen::Home(home) if home.session.roster.groups[&group].muted)
        })
        .await;
    alice.ui(|ui| {
        ui.click("Leave the group").expect("leave");
    });
    alice.ui(|ui| {
        ui.click("Leave the group: sure?").expect("confirm");
    });
    alice
        .until_home("Alice left", |home| {
            !home.session.roster.groups.contains_key(&group) && home.chat.is_none()
        })
        .await;
    bob.until_home("Bob sees Alice gone", |home| home.session.roster.members_sorted(group).len() == 1).await;

    server.server.shutdown().await;
}

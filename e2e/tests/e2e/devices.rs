//! One person on several starts and several devices: staying signed in across a restart, and
//! pinned, archived and marked-unread conversations the same on every device.

use crate::common::{Driver, PASSWORD, TestServer, two_devices_and_a_friend};
use kith_client::api::Api;
use kith_client::app::Screen;
use kith_client::screen::home;
use kith_client::session;
use kith_client::trust::Trust;
use kith_shared::api::UpdateConversation;
use kith_shared::api::{ChangePasswordRequest, LoginRequest};

/// The login form, not waiting for an answer.
fn idle_form(app: &kith_client::app::App) -> bool {
    matches!(&app.screen, Screen::Login(form) if !form.busy)
}

#[tokio::test]
async fn a_restart_opens_the_chats_without_the_password_until_log_out() {
    let server = TestServer::start().await;
    let mut alice = Driver::new();
    alice.register(&server, "alice", "Alice").await;

    // Closed and started again: straight to the main window, online.
    let mut alice = alice.reopen(&server, "alice");
    alice
        .until_home("signed in again without a password", |home| {
            home.session.status == session::Status::Online
        })
        .await;

    // Logged out: the next start asks for the password.
    alice.home(home::Message::LogOut);
    alice.until("back at the login form", |app| matches!(app.screen, Screen::Login(_))).await;
    let mut alice = alice.reopen(&server, "alice");
    alice.until("the form, waiting for the password", idle_form).await;
    assert!(matches!(&alice.app.screen, Screen::Login(form) if form.error.is_none()));

    // A password change on another device ends the kept login too.
    alice.log_in(&server, "alice").await;
    let elsewhere = Api::new(&alice.main().session.address, &Trust::in_memory());
    let login = LoginRequest { username: "alice".into(), password: PASSWORD.into() };
    let token = elsewhere.login(&login).await.expect("a second login").token;
    let change =
        ChangePasswordRequest { old_password: PASSWORD.into(), new_password: "another good password".into() };
    elsewhere.with_token(token).change_password(&change).await.expect("the password changes");
    let mut alice = alice.reopen(&server, "alice");
    assert!(matches!(&alice.app.screen, Screen::Login(form) if form.busy), "signing in with the kept login");
    alice.until("the server's answer", idle_form).await;
    assert!(matches!(&alice.app.screen, Screen::Login(form) if form.error.is_none()), "refused: the form");
    server.server.shutdown().await;
}

#[tokio::test]
async fn pinned_archived_and_marked_unread_are_the_same_on_every_device() {
    let server = TestServer::start_with(|config| config.multi_device = true).await;
    let (mut laptop, mut phone, bob, conversation) = two_devices_and_a_friend(&server).await;

    let pin = UpdateConversation { pinned: Some(true), ..Default::default() };
    laptop.home(home::Message::SetPrefs(conversation, pin));
    phone.until_home("pinned on the phone too", |home| home.session.roster.prefs(conversation).pinned).await;
    laptop.until_home("pinned on the laptop", |home| home.session.roster.prefs(conversation).pinned).await;

    let archive =
        UpdateConversation { archived: Some(true), marked_unread: Some(true), ..Default::default() };
    phone.home(home::Message::SetPrefs(conversation, archive));
    laptop
        .until_home("archived and marked unread on the laptop", |home| {
            let prefs = home.session.roster.prefs(conversation);
            prefs.archived && prefs.marked_unread && home.session.roster.unread(conversation) == 1
        })
        .await;
    assert!(!laptop.sees("Bob"), "the archive is folded away");

    // Opening it on the laptop reads it everywhere.
    laptop.home(home::Message::Open(conversation));
    phone
        .until_home("read on the phone", |home| !home.session.roster.prefs(conversation).marked_unread)
        .await;
    assert!(!bob.main().session.roster.prefs(conversation).pinned, "Alice's lists are hers alone");
    server.server.shutdown().await;
}

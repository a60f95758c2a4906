//! Several accounts on one computer: two users on one server and one on another, listed on the
//! login screen across a restart, switched between without losing their kept logins, opened
//! with one click without a password, and removed from the list.

use crate::common::{Driver, PASSWORD, TestServer};
use iced_test::selector;
use kith_client::app::{App, Screen};
use kith_client::screen::{home, login};
use kith_client::session;

/// The login screen, not waiting for an answer.
fn idle_login(app: &App) -> bool {
    matches!(&app.screen, Screen::Login(form) if !form.busy)
}

fn login_screen(driver: &Driver) -> &login::Login {
    match &driver.app.screen {
        Screen::Login(form) => form,
        Screen::Home(_) => panic!("expected the login screen"),
    }
}

/// The list as shown: (user name, signed in), in its order.
fn listed(driver: &Driver) -> Vec<(String, bool)> {
    login_screen(driver)
        .accounts
        .iter()
        .map(|listed| (listed.account.username.clone(), listed.signed_in))
        .collect()
}

/// *Switch account* in Settings: back to the list, the account left signed in.
fn switch_account(driver: &mut Driver) {
    driver.home(home::Message::OpenSettings);
    driver.ui(|ui| {
        ui.click("Switch account").expect("the switch button in Settings");
    });
    assert!(login_screen(driver).choosing, "the list of accounts shows");
}

/// *Use another account*: the empty form.
fn use_another(driver: &mut Driver) {
    driver.ui(|ui| {
        ui.click("Use another account").expect("use another account");
    });
    let form = login_screen(driver);
    assert!(!form.choosing && form.username.is_empty() && form.password.is_empty());
}

async fn online_as(driver: &mut Driver, username: &str) {
    driver
        .until_home("online", |home| {
            home.session.status == session::Status::Online && home.user().username == username
        })
        .await;
}

#[tokio::test]
async fn accounts_are_listed_switched_opened_without_a_password_and_removed() {
    let server = TestServer::start().await;
    let other = TestServer::start().await;
    let mut app = Driver::new();
    app.register(&server, "alice", "Alice").await;
    switch_account(&mut app);
    assert_eq!(listed(&app), [("alice".to_owned(), true)]);
    assert!(app.sees("Alice") && app.sees("Signed in"));

    // Bob on the same server, Carol on another: each login joins the list, first.
    use_another(&mut app);
    app.register(&server, "bob", "Bob").await;
    switch_account(&mut app);
    use_another(&mut app);
    app.register(&other, "carol", "Carol").await;
    switch_account(&mut app);
    let everyone = [("carol".to_owned(), true), ("bob".to_owned(), true), ("alice".to_owned(), true)];
    assert_eq!(listed(&app), everyone, "the most recently used first, all still signed in");

    // Carol opens again with one click, no password, then logs out: only her login goes.
    app.ui(|ui| {
        ui.click(selector::id(login::id::account(0))).expect("Carol's entry");
    });
    assert!(login_screen(&app).busy, "signing in with the kept login");
    online_as(&mut app, "carol").await;
    app.home(home::Message::LogOut);
    app.until("back at the login screen", idle_login).await;
    let carol_out = [("carol".to_owned(), false), ("bob".to_owned(), true), ("alice".to_owned(), true)];
    assert_eq!(listed(&app), carol_out);
    assert!(login_screen(&app).choosing);
    assert!(app.sees("Signed out"));

    // Closed and started again: the list, as it was (Carol, the last used, is signed out).
    let mut app = app.reopen(&other, "carol");
    app.until("the login screen", idle_login).await;
    assert!(login_screen(&app).choosing, "the list shows at start");
    assert_eq!(listed(&app), carol_out);

    // Bob, signed in on the first server: one click, no password.
    app.ui(|ui| {
        ui.click(selector::id(login::id::account(1))).expect("Bob's entry");
    });
    online_as(&mut app, "bob").await;
    assert_eq!(app.main().session.address.to_string(), server.http());

    // Switched away, Carol (signed out) fills the form with her server and name.
    switch_account(&mut app);
    assert_eq!(listed(&app)[0], ("bob".to_owned(), true), "Bob was used last");
    app.ui(|ui| {
        ui.click("Carol").expect("Carol's entry");
    });
    let form = login_screen(&app);
    assert!(!form.choosing && !form.busy, "the form, for her password");
    assert_eq!((form.server.as_str(), form.username.as_str()), (other.http().as_str(), "carol"));
    app.ui(|ui| {
        ui.click(selector::id(login::id::PASSWORD)).expect("the password field");
        ui.typewrite(PASSWORD);
        ui.click("Log in").expect("log in");
    });
    online_as(&mut app, "carol").await;
    assert_eq!(app.main().session.address.to_string(), other.http());

    // Alice removed from the list: her kept login goes, Bob's on the same server stays.
    switch_account(&mut app);
    let alice = listed(&app).iter().position(|(name, _)| name == "alice").expect("Alice is listed");
    app.ui(|ui| {
        ui.click(selector::id(login::id::remove_account(alice))).expect("Alice's Remove");
    });
    assert_eq!(listed(&app), [("carol".to_owned(), true), ("bob".to_owned(), true)]);
    assert!(!app.sees("Alice"));
    let mut app = app.reopen(&server, "alice");
    app.until("the login screen", idle_login).await;
    assert_eq!(listed(&app), [("carol".to_owned(), true), ("bob".to_owned(), true)], "Alice stays removed");
    assert!(!login_screen(&app).busy, "Alice's login is forgotten: nothing to resume");

    // Bob still opens without a password.
    app.ui(|ui| {
        ui.click("Bob").expect("Bob's entry");
    });
    online_as(&mut app, "bob").await;
    server.server.shutdown().await;
    other.server.shutdown().await;
}

//! A server typed as several addresses, the nodes of one community: the client uses the node
//! that answers, and when that node goes away it moves to the next with its session, its
//! unsent messages and its catch-up.

use crate::common::{Driver, PASSWORD, TestServer, befriend, text_of};
use kith_client::app::Message;
use kith_client::history::Delivery;
use kith_client::screen::login;
use kith_client::session;

/// A loopback port nothing listens on (bound, then let go).
fn free_port() -> u16 {
    let listener = std::net::TcpListener::bind("127.0.0.1:0").expect("bind");
    listener.local_addr().expect("addr").port()
}

/// Registers through the form with `address` typed as the server and `socket_port` for
/// every node.
async fn register(driver: &mut Driver, address: &str, socket_port: u16, username: &str, display_name: &str) {
    driver.fill_registration(address, socket_port, username, display_name);
    driver.until_home("logged in and connected", |home| home.session.status == session::Status::Online).await;
    driver.until_home("the cache is open", |home| home.session.history().is_some()).await;
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn when_a_node_goes_away_the_client_goes_on_through_the_next() {
    let first = TestServer::start().await;
    let socket_port = first.socket_port();
    let second_port = free_port();
    // Typed with a node that does not answer yet: the login goes through the first.
    let address = format!("{}, 127.0.0.1:{second_port}", first.http());
    let mut alice = Driver::new();
    let mut bob = Driver::new();
    register(&mut alice, &address, socket_port, "alice", "Alice").await;
    register(&mut bob, &address, socket_port, "bob", "Bob").await;
    let conversation = befriend(&mut alice, &mut bob).await;
    assert_eq!(alice.app.settings.server, address, "both nodes are kept for the next start");

    alice.home(kith_client::screen::home::Message::Open(conversation));
    alice.say("through the first node");
    alice
        .until_cached(conversation, "the first message acknowledged", |m| {
            text_of(m) == Some("through the first node") && m.delivery == Delivery::Sent
        })
        .await;
    bob.until_cached(conversation, "the first message", |m| text_of(m) == Some("through the first node"))
        .await;

    // The first node goes away; the community's data stays, and the next node serves it.
    let data = first.stop().await;
    alice.until_home("Alice sees the node go", |home| home.session.status != session::Status::Online).await;
    // Written while no node answers: kept, and sent once a node does.
    alice.say("while the nodes change");
    let second = TestServer::start_in(data, |config| {
        config.http_port = second_port;
        config.socket_port = socket_port;
    })
    .await;
    assert_eq!(second.http(), format!("127.0.0.1:{second_port}"));
    for driver in [&mut alice, &mut bob] {
        driver
            .until_home("back online through the next node", |home| {
                home.session.status == session::Status::Online
            })
            .await;
    }
    alice
        .until_cached(conversation, "the message written in between acknowledged", |m| {
            text_of(m) == Some("while the nodes change") && m.delivery == Delivery::Sent
        })
        .await;
    let got = bob
        .until_cached(conversation, "the message written in between", |m| {
            text_of(m) == Some("while the nodes change")
        })
        .await;
    assert_eq!(
        got.iter()
            .filter(|m| text_of(m).is_some_and(|t| t.starts_with("through") || t.starts_with("while")))
            .count(),
        2,
        "each message once: {got:?}"
    );

    // The HTTP API moved too: a new login on a third app goes through the live node.
    let mut again = Driver::new();
    for step in [
        login::Message::ServerChanged(address.clone()),
        login::Message::AdvancedToggled(true),
        login::Message::SocketPortChanged(socket_port.to_string()),
        login::Message::UsernameChanged("bob".to_owned()),
        login::Message::PasswordChanged(PASSWORD.to_owned()),
        login::Message::Submit,
    ] {
        again.update(Message::Login(step));
    }
    again
        .until_home("logged in through the next node", |home| home.session.status == session::Status::Online)
        .await;
}

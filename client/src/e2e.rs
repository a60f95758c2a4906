//! End to end: two app cores (no window) against a real server on ephemeral ports.
//!
//! A small driver stands in for iced's runtime: it runs the tasks `update` returns and feeds
//! their outputs back as messages, and it runs the socket loop behind `App::subscription`
//! whenever the subscription would exist. Window and widget actions (focus, attention) have
//! no window here and are dropped.

use crate::app::{App, Message, Screen, Setup};
use crate::history::{Delivery, History, StoredMessage};
use crate::screen::{chat, home, login};
use crate::socket;
use futures_util::StreamExt;
use iced::Task;
use iced::widget::text_editor;
use iced_test::runtime::Action;
use iced_test::runtime::task::into_stream;
use kith_shared::api::ConversationId;
use kith_shared::frame::Content;
use std::sync::Arc;
use std::time::Duration;
use tokio::sync::mpsc;
use tokio::time::Instant;
use tokio_util::sync::CancellationToken;

/// Longest the test waits for one step; a guard against hangs, not a measurement.
const PATIENCE: Duration = Duration::from_secs(20);
const PASSWORD: &str = "correct horse battery";

/// A real server on ephemeral ports with its database in a temp dir.
struct TestServer {
    server: kith_server::Server,
    _dir: tempfile::TempDir,
}

impl TestServer {
    async fn start() -> Self {
        let dir = tempfile::tempdir().expect("temp dir");
        let config = kith_server::config::Config {
            server_ip: [127, 0, 0, 1].into(),
            http_port: 0,
            socket_port: 0,
            data_dir: dir.path().join("data"),
            upload_dir: dir.path().join("data/uploads"),
            ..kith_server::config::Config::default()
        };
        let server = kith_server::Server::start(config).await.expect("the server starts");
        Self { server, _dir: dir }
    }

    fn http(&self) -> String {
        self.server.http_addr.to_string()
    }

    fn socket_port(&self) -> u16 {
        self.server.socket_addr.port()
    }
}

/// One app core and what the runtime would run for it.
struct Driver {
    app: App,
    inbox_tx: mpsc::UnboundedSender<Message>,
    inbox: mpsc::UnboundedReceiver<Message>,
    /// The socket loop of the current subscription, if any.
    socket: Option<(socket::Params, CancellationToken)>,
    _data: tempfile::TempDir,
}

impl Driver {
    fn new() -> Self {
        let data = tempfile::tempdir().expect("temp dir");
        let (app, task) = App::new(Setup { data_root: Some(data.path().to_owned()), ..Setup::default() });
        let (inbox_tx, inbox) = mpsc::unbounded_channel();
        let driver = Self { app, inbox_tx, inbox, socket: None, _data: data };
        driver.run(task);
        driver
    }

    /// Runs a task: its outputs come back through the inbox.
    fn run(&self, task: Task<Message>) {
        let Some(mut stream) = into_stream(task) else { return };
        let inbox = self.inbox_tx.clone();
        tokio::spawn(async move {
            while let Some(action) = stream.next().await {
                if let Action::Output(message) = action
                    && inbox.send(message).is_err()
                {
                    return;
                }
            }
        });
    }

    fn update(&mut self, message: Message) {
        let task = self.app.update(message);
        self.run(task);
        self.follow_subscription();
    }

    fn home(&mut self, message: home::Message) {
        self.update(Message::Home(message));
    }

    /// Starts or stops the socket loop as the app's subscription asks.
    fn follow_subscription(&mut self) {
        let wanted = match &self.app.screen {
            Screen::Home(home) => home.socket_params(),
            Screen::Login(_) => None,
        };
        if self.socket.as_ref().map(|(params, _)| params) == wanted.as_ref() {
            return;
        }
        if let Some((_, cancel)) = self.socket.take() {
            cancel.cancel();
        }
        if let Some(params) = wanted {
            let cancel = CancellationToken::new();
            let (events, mut received) = mpsc::unbounded_channel();
            tokio::spawn(socket::run(params.clone(), events, cancel.clone()));
            let inbox = self.inbox_tx.clone();
            tokio::spawn(async move {
                while let Some(event) = received.recv().await {
                    if inbox.send(Message::Socket(event)).is_err() {
                        return;
                    }
                }
            });
            self.socket = Some((params, cancel));
        }
    }

    /// Handles messages as they come until `done` holds.
    async fn until(&mut self, what: &str, done: impl Fn(&App) -> bool) {
        let deadline = Instant::now() + PATIENCE;
        while !done(&self.app) {
            let message = tokio::time::timeout_at(deadline, self.inbox.recv())
                .await
                .unwrap_or_else(|_| panic!("timed out waiting until {what}"))
                .expect("the inbox stays open");
            self.update(message);
        }
    }

    /// Handles messages until the local cache holds a message matching `found`.
    async fn until_cached(
        &mut self,
        conversation: ConversationId,
        what: &str,
        found: impl Fn(&StoredMessage) -> bool,
    ) -> Vec<StoredMessage> {
        let deadline = Instant::now() + PATIENCE;
        loop {
            if let Some(history) = self.history() {
                let messages = history.recent(conversation, 100).await.expect("read the cache");
                if messages.iter().any(&found) {
                    return messages;
                }
            }
            assert!(Instant::now() < deadline, "timed out waiting until the cache holds {what}");
            if let Ok(Some(message)) =
                tokio::time::timeout(Duration::from_millis(100), self.inbox.recv()).await
            {
                self.update(message);
            }
        }
    }

    fn main(&self) -> &home::Home {
        match &self.app.screen {
            Screen::Home(home) => home,
            Screen::Login(_) => panic!("expected the main window"),
        }
    }

    fn history(&self) -> Option<History> {
        match &self.app.screen {
            Screen::Home(home) => home.history.clone(),
            Screen::Login(_) => None,
        }
    }

    /// Registers through the login screen and waits for the live connection.
    async fn register(&mut self, server: &TestServer, username: &str, display_name: &str) {
        let steps = [
            login::Message::ServerChanged(server.http()),
            login::Message::AdvancedToggled(true),
            login::Message::SocketPortChanged(server.socket_port().to_string()),
            login::Message::ModeSwitched,
            login::Message::UsernameChanged(username.to_owned()),
            login::Message::DisplayNameChanged(display_name.to_owned()),
            login::Message::PasswordChanged(PASSWORD.to_owned()),
            login::Message::Submit,
        ];
        for step in steps {
            self.update(Message::Login(step));
        }
        self.until(
            "logged in and connected",
            |app| matches!(&app.screen, Screen::Home(home) if home.status == home::Status::Online),
        )
        .await;
        self.until(
            "the cache is open",
            |app| matches!(&app.screen, Screen::Home(home) if home.history.is_some()),
        )
        .await;
    }
}

fn text_of(message: &StoredMessage) -> Option<&str> {
    match &message.content {
        Content::Text { text } => Some(text),
        _ => None,
    }
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_message_from_a_reaches_b_cache_and_unread_count_then_is_recalled() {
    let server = TestServer::start().await;
    let mut alice = Driver::new();
    let mut bob = Driver::new();
    alice.register(&server, "alice", "Alice").await;
    bob.register(&server, "bob", "Bob").await;
    let alice_id = alice.main().user().id;
    let bob_id = bob.main().user().id;

    // Alice finds Bob and asks him, with a message.
    alice.home(home::Message::OpenAddFriend);
    alice.home(home::Message::SearchChanged("bob".into()));
    alice.home(home::Message::GreetingChanged("It's Alice from the climbing club".into()));
    alice.home(home::Message::Search);
    alice
        .until("the search finds Bob", |app| {
            matches!(&app.screen, Screen::Home(home)
                if matches!(&home.panel, Some(home::Panel::AddFriend(search))
                    if search.results.iter().any(|hit| hit.user.username == "bob")))
        })
        .await;
    alice.home(home::Message::Ask(bob_id));

    // Bob sees the request live, with its message, and accepts it.
    bob.until(
        "the request reaches Bob",
        |app| matches!(&app.screen, Screen::Home(home) if home.roster.pending_count() == 1),
    )
    .await;
    let request = bob.main().roster.incoming_friend_requests().next().expect("a request").clone();
    assert_eq!(request.from.id, alice_id);
    assert_eq!(request.message, "It's Alice from the climbing club");
    bob.home(home::Message::AnswerFriend { id: request.id, accept: true });
    bob.until(
        "Alice is Bob's friend",
        |app| matches!(&app.screen, Screen::Home(home) if home.roster.friends.contains_key(&alice_id)),
    )
    .await;
    alice
        .until(
            "Bob is Alice's friend",
            |app| matches!(&app.screen, Screen::Home(home) if home.roster.friends.contains_key(&bob_id)),
        )
        .await;
    let conversation = alice.main().roster.friends[&bob_id].conversation_id;
    assert_eq!(bob.main().roster.friends[&alice_id].conversation_id, conversation);

    // Alice opens the chat, types and sends.
    alice.home(home::Message::Open(conversation));
    let typed = text_editor::Action::Edit(text_editor::Edit::Paste(Arc::new("Hello Bob!".to_owned())));
    alice.home(home::Message::Chat(chat::Message::Edit(typed)));
    bob.until("Bob sees Alice typing", |app| {
        matches!(&app.screen, Screen::Home(home)
            if home.typing_line(conversation).as_deref() == Some("Alice is typing…"))
    })
    .await;
    alice.home(home::Message::Chat(chat::Message::Send));
    alice
        .until("Alice's copy is acknowledged", |app| {
            matches!(&app.screen, Screen::Home(home)
            if home.chat.as_ref().is_some_and(|chat| chat.messages.iter().any(|m| {
                text_of(m) == Some("Hello Bob!") && m.delivery == Delivery::Sent
            })))
        })
        .await;

    // Bob, with the chat closed: one unread, the message in his local cache.
    bob.until(
        "Bob has one unread message",
        |app| matches!(&app.screen, Screen::Home(home) if home.roster.unread(conversation) == 1),
    )
    .await;
    let cached =
        bob.until_cached(conversation, "Alice's message", |m| text_of(m) == Some("Hello Bob!")).await;
    assert_eq!(cached.len(), 1, "one copy: {cached:?}");
    assert_eq!(cached[0].sender_id, Some(alice_id));
    assert_eq!(cached[0].seq, Some(1));
    assert_eq!(bob.main().roster.total_unread(), 1);
    assert_eq!(bob.app.title(), "Kith (1) — Bob");

    // Opening the chat shows the message from the cache and clears the badge.
    bob.home(home::Message::Open(conversation));
    bob.until("Bob's chat shows the message", |app| {
        matches!(&app.screen, Screen::Home(home)
            if home.chat.as_ref().is_some_and(|chat| chat.messages.iter().any(|m| text_of(m) == Some("Hello Bob!"))))
    })
    .await;
    assert_eq!(bob.main().roster.unread(conversation), 0);
    assert_eq!(bob.app.title(), "Kith — Bob");
    assert_eq!(bob.main().typing_line(conversation), None, "the message ended the typing");

    // Alice recalls it: both caches and both chats show it as recalled.
    alice.home(home::Message::Chat(chat::Message::Recall(1)));
    let recalled = |m: &StoredMessage| m.seq == Some(1) && m.content == Content::Recalled;
    alice.until_cached(conversation, "the recalled marker", recalled).await;
    bob.until_cached(conversation, "the recalled marker", recalled).await;
    bob.until("Bob's chat shows the recall", |app| {
        matches!(&app.screen, Screen::Home(home)
            if home.chat.as_ref().is_some_and(|chat| chat.messages.iter().any(recalled)))
    })
    .await;

    server.server.shutdown().await;
}

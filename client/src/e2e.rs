//! End to end: two app cores (no window) against a real server on ephemeral ports.
//!
//! A small driver stands in for iced's runtime: it runs the tasks `update` returns and feeds
//! their outputs back as messages, and it runs the socket loop behind `App::subscription`
//! whenever the subscription would exist. Window and widget actions (focus, attention) have
//! no window here and are dropped.

use crate::app::{App, Message, Screen, Setup};
use crate::files::Picture;
use crate::history::{Delivery, History, StoredMessage};
use crate::roster::Reach;
use crate::screen::{chat, home, login};
use crate::session;
use crate::socket;
use crate::trust::{ProblemKind, Trust};
use futures_util::StreamExt;
use iced::Task;
use iced::widget::text_editor;
use iced_test::runtime::Action;
use iced_test::runtime::task::into_stream;
use iced_test::{Simulator, selector};
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
        Self::start_with(|_| {}).await
    }

    /// A server with its configuration adjusted by `adjust` first.
    async fn start_with(adjust: impl FnOnce(&mut kith_server::config::Config)) -> Self {
        let dir = tempfile::tempdir().expect("temp dir");
        let mut config = kith_server::config::Config {
            server_ip: [127, 0, 0, 1].into(),
            http_port: 0,
            socket_port: 0,
            data_dir: dir.path().join("data"),
            upload_dir: dir.path().join("data/uploads"),
            static_dir: std::path::Path::new(env!("CARGO_MANIFEST_DIR")).join("../static"),
            ..kith_server::config::Config::default()
        };
        adjust(&mut config);
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
        Self::with_trust(None)
    }

    /// An app core checking certificates against `trust` (None: the pins in its data folder).
    fn with_trust(trust: Option<Trust>) -> Self {
        let data = tempfile::tempdir().expect("temp dir");
        let (app, task) =
            App::new(Setup { data_root: Some(data.path().to_owned()), trust, ..Setup::default() });
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
            Screen::Home(home) => home.session.socket_params(),
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
            let stopped = cancel.clone();
            tokio::spawn(async move {
                while let Some(event) = received.recv().await {
                    // As iced drops a subscription's stream: nothing from a stopped socket
                    // reaches the app (a session replaced by a new login is kicked).
                    if stopped.is_cancelled() || inbox.send(Message::Socket(event)).is_err() {
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
                .unwrap_or_else(|_| panic!("timed out waiting until {what}; {}", describe(&self.app)))
                .expect("the inbox stays open");
            self.update(message);
        }
    }

    /// Handles messages until the main window is there and `done` holds of it.
    async fn until_home(&mut self, what: &str, done: impl Fn(&home::Home) -> bool) {
        self.until(what, |app| matches!(&app.screen, Screen::Home(home) if done(home))).await;
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
            Screen::Home(home) => home.session.history().cloned(),
            Screen::Login(_) => None,
        }
    }

    /// Registers through the login screen and waits for the live connection.
    async fn register(&mut self, server: &TestServer, username: &str, display_name: &str) {
        self.fill_registration(&server.http(), server.socket_port(), username, display_name);
        self.until_home("logged in and connected", |home| home.session.status == session::Status::Online)
            .await;
        self.until_home("the cache is open", |home| home.session.history().is_some()).await;
    }

    /// Fills the registration form for the server at `address` and submits it.
    fn fill_registration(&mut self, address: &str, socket_port: u16, username: &str, display_name: &str) {
        let steps = [
            login::Message::ServerChanged(address.to_owned()),
            login::Message::AdvancedToggled(true),
            login::Message::SocketPortChanged(socket_port.to_string()),
            login::Message::ModeSwitched,
            login::Message::UsernameChanged(username.to_owned()),
            login::Message::DisplayNameChanged(display_name.to_owned()),
            login::Message::PasswordChanged(PASSWORD.to_owned()),
            login::Message::Submit,
        ];
        for step in steps {
            self.update(Message::Login(step));
        }
    }
}

/// What the app shows, for a failed wait.
fn describe(app: &App) -> String {
    match &app.screen {
        Screen::Login(_) => format!("at the login screen, dialog {:?}", app.dialog),
        Screen::Home(home) => format!(
            "status {:?}, connection {}, chat {:?}",
            home.session.status,
            home.session.connection.is_some(),
            home.chat.as_ref().map(|c| c.messages.iter().map(|m| (m.seq, m.delivery)).collect::<Vec<_>>())
        ),
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
    alice.home(home::Message::AddFriend(home::add_friend::Message::SearchChanged("bob".into())));
    alice.home(home::Message::AddFriend(home::add_friend::Message::GreetingChanged(
        "It's Alice from the climbing club".into(),
    )));
    alice.home(home::Message::AddFriend(home::add_friend::Message::Search));
    alice
        .until_home("the search finds Bob", |home| matches!(&home.panel, Some(home::Panel::AddFriend(search)) if search.results.iter().any(|hit| hit.user.username == "bob")))
        .await;
    alice.home(home::Message::AddFriend(home::add_friend::Message::Ask(bob_id)));

    // Bob sees the request live, with its message, and accepts it.
    bob.until_home("the request reaches Bob", |home| home.session.roster.pending_count() == 1).await;
    let request = bob.main().session.roster.incoming_friend_requests().next().expect("a request").clone();
    assert_eq!(request.from.id, alice_id);
    assert_eq!(request.message, "It's Alice from the climbing club");
    bob.home(home::Message::Requests(home::requests::Message::AnswerFriend { id: request.id, accept: true }));
    bob.until_home("Alice is Bob's friend", |home| home.session.roster.friends.contains_key(&alice_id)).await;
    alice.until_home("Bob is Alice's friend", |home| home.session.roster.friends.contains_key(&bob_id)).await;
    let conversation = alice.main().session.roster.friends[&bob_id].conversation_id;
    assert_eq!(bob.main().session.roster.friends[&alice_id].conversation_id, conversation);

    // Alice opens the chat, types and sends.
    alice.home(home::Message::Open(conversation));
    let typed = text_editor::Action::Edit(text_editor::Edit::Paste(Arc::new("Hello Bob!".to_owned())));
    alice.home(home::Message::Chat(chat::Message::Edit(typed)));
    bob.until_home("Bob sees Alice typing", |home| {
        home.typing_line(conversation).as_deref() == Some("Alice is typing…")
    })
    .await;
    alice.home(home::Message::Chat(chat::Message::Send));
    alice
        .until_home("Alice's copy is acknowledged", |home| {
            home.chat.as_ref().is_some_and(|chat| {
                chat.messages.iter().any(|m| text_of(m) == Some("Hello Bob!") && m.delivery == Delivery::Sent)
            })
        })
        .await;

    // Bob, with the chat closed: one unread, the message in his local cache.
    bob.until_home("Bob has one unread message", |home| home.session.roster.unread(conversation) == 1).await;
    let cached =
        bob.until_cached(conversation, "Alice's message", |m| text_of(m) == Some("Hello Bob!")).await;
    assert_eq!(cached.len(), 1, "one copy: {cached:?}");
    assert_eq!(cached[0].sender_id, Some(alice_id));
    assert_eq!(cached[0].seq, Some(1));
    assert_eq!(bob.main().session.roster.total_unread(), 1);
    assert_eq!(bob.app.title(), "Kith (1) — Bob");

    // Opening the chat shows the message from the cache and clears the badge.
    bob.home(home::Message::Open(conversation));
    bob.until_home("Bob's chat shows the message", |home| {
        home.chat.as_ref().is_some_and(|chat| chat.messages.iter().any(|m| text_of(m) == Some("Hello Bob!")))
    })
    .await;
    assert_eq!(bob.main().session.roster.unread(conversation), 0);
    assert_eq!(bob.app.title(), "Kith — Bob");
    assert_eq!(bob.main().typing_line(conversation), None, "the message ended the typing");

    // Alice recalls it: both caches and both chats show it as recalled.
    alice.home(home::Message::Chat(chat::Message::Recall(1)));
    let recalled = |m: &StoredMessage| m.seq == Some(1) && m.content == Content::Recalled;
    alice.until_cached(conversation, "the recalled marker", recalled).await;
    bob.until_cached(conversation, "the recalled marker", recalled).await;
    bob.until_home("Bob's chat shows the recall", |home| {
        home.chat.as_ref().is_some_and(|chat| chat.messages.iter().any(recalled))
    })
    .await;

    server.server.shutdown().await;
}

impl Driver {
    /// Lets `act` click and type on the current screen, then handles what that produced.
    fn ui(&mut self, act: impl FnOnce(&mut Simulator<'_, Message>)) {
        let produced: Vec<Message> = {
            let mut ui = Simulator::with_settings(crate::tests::fonts(), self.app.view());
            act(&mut ui);
            ui.into_messages().collect()
        };
        for message in produced {
            self.update(message);
        }
    }

    /// Whether `text` is on screen.
    fn sees(&self, text: &str) -> bool {
        let mut ui = Simulator::with_settings(crate::tests::fonts(), self.app.view());
        ui.find(text).is_ok()
    }
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn log_in_accept_a_request_and_chat_by_clicking() {
    let server = TestServer::start().await;
    let mut alice = Driver::new();
    let mut bob = Driver::new();
    alice.register(&server, "alice", "Alice").await;
    bob.register(&server, "bob", "Bob").await;
    let alice_id = alice.main().user().id;
    let bob_id = bob.main().user().id;

    // Alice logs out, then logs in again on the login screen, which kept the server and name.
    alice.ui(|ui| {
        ui.click("Log out").expect("log out button");
    });
    alice.until("back at the login screen", |app| matches!(app.screen, Screen::Login(_))).await;
    alice.ui(|ui| {
        ui.click(selector::id(login::id::PASSWORD)).expect("password field");
        ui.typewrite(PASSWORD);
        ui.click("Log in").expect("log in button");
    });
    alice
        .until_home("logged in again and connected", |home| home.session.status == session::Status::Online)
        .await;

    // Bob picks a picture for his avatar in the profile panel.
    let desk = tempfile::tempdir().expect("temp dir");
    let portrait = desk.path().join("me.png");
    ::image::RgbImage::from_pixel(32, 32, ::image::Rgb([200, 80, 40])).save(&portrait).expect("write");
    bob.home(home::Message::OpenProfile);
    bob.ui(|ui| {
        ui.click("Change picture…").expect("the avatar button");
    });
    bob.home(home::Message::Attach(crate::screen::attach::Message::Choose(portrait)));
    bob.until_home("Bob's avatar is saved", |home| home.user().avatar_url.is_some() && home.avatar.is_some())
        .await;

    // Bob asks Alice; she opens the inbox, reads his message and accepts.
    bob.home(home::Message::OpenAddFriend);
    bob.home(home::Message::AddFriend(home::add_friend::Message::GreetingChanged(
        "Bob from the chess club".into(),
    )));
    bob.home(home::Message::AddFriend(home::add_friend::Message::Ask(alice_id)));
    alice.until_home("the request reaches Alice", |home| home.session.roster.pending_count() == 1).await;
    alice.ui(|ui| {
        ui.click("Requests").expect("requests button");
    });
    assert!(alice.sees("“Bob from the chess club”"), "the request's message is shown");
    alice.ui(|ui| {
        ui.click("Accept").expect("accept button");
    });
    alice.until_home("Bob is Alice's friend", |home| home.session.roster.friends.contains_key(&bob_id)).await;
    bob.until_home("Alice is Bob's friend", |home| home.session.roster.friends.contains_key(&alice_id)).await;
    let conversation = alice.main().session.roster.friends[&bob_id].conversation_id;
    alice
        .until_home("Alice has Bob's picture", |home| {
            home.files.avatar(home.session.roster.friends[&bob_id].user.avatar_url.as_deref()).is_some()
        })
        .await;

    // Alice clicks Bob in her list, types and presses Enter: the message appears in her chat.
    alice.ui(|ui| {
        ui.click("Bob").expect("Bob in the friends list");
    });
    assert_eq!(alice.main().chat.as_ref().map(|chat| chat.conversation_id), Some(conversation));
    alice.ui(|ui| {
        ui.click(selector::id(chat::id::COMPOSER)).expect("the composer");
        ui.typewrite("Hello from the window");
        ui.tap_key(iced::keyboard::key::Named::Enter);
    });
    alice
        .until_home("Alice's message is stored by the server", |home| {
            home.chat.as_ref().is_some_and(|chat| {
                chat.messages
                    .iter()
                    .any(|m| text_of(m) == Some("Hello from the window") && m.delivery == Delivery::Sent)
            })
        })
        .await;
    assert!(alice.sees("Hello from the window"), "the message is on screen");

    // Bob's list previews it; his device says it arrived, and Alice's chat says so.
    bob.until_cached(conversation, "Alice's message", |m| text_of(m) == Some("Hello from the window")).await;
    bob.until_home("Bob's list shows the preview", |home| {
        home.session.previews.get(&conversation).map(String::as_str) == Some("Hello from the window")
    })
    .await;
    assert!(bob.sees("Hello from the window"), "the preview is on screen");

    // The server's emoji set arrived and is cached beside the history for next time.
    bob.until_home("the emoji set is loaded", |home| {
        home.emoji.as_ref().is_some_and(|set| set.entries.len() > 100)
    })
    .await;
    let history_db = bob.main().files.folder.clone().expect("a data folder");
    let cache = history_db.parent().and_then(|user| user.parent()).expect("the server folder").join("emoji");
    assert!(cache.join("manifest.json").is_file());
    assert!(cache.join("1f600.png").is_file());
    let sent_at = alice.main().chat.as_ref().and_then(|chat| chat.messages.last()).map(|m| m.sent_at);
    let time = crate::clock::time_of_day(sent_at.expect("a message"));
    alice
        .until_home("Alice sees it delivered", |home| {
            home.session.roster.reach(conversation, 1) == Reach::Delivered
        })
        .await;
    assert!(alice.sees(&format!("{time} · delivered")));

    // Bob opens the chat: Alice sees it read.
    bob.ui(|ui| {
        ui.click("Alice").expect("Alice in the friends list");
    });
    alice
        .until_home("Alice sees it read", |home| home.session.roster.reach(conversation, 1) == Reach::Read)
        .await;
    assert!(alice.sees(&format!("{time} · read")));
    assert!(alice.sees("You: Hello from the window"), "Alice's own list previews her message");

    // Ctrl+F: Alice searches her history and jumps to the message.
    alice.home(home::Message::OpenSearch);
    alice.ui(|ui| {
        ui.click(selector::id(crate::screen::search::id::QUERY)).expect("the search field");
        ui.typewrite("windo");
    });
    alice
        .until_home(
            "the search finds the message",
            |home| matches!(&home.panel, Some(home::Panel::Search(search)) if search.results.len() == 1),
        )
        .await;
    alice.ui(|ui| {
        ui.click("Hello from the window").expect("the result");
    });
    alice
        .until_home("the chat shows the result", |home| {
            home.panel.is_none()
                && home.chat.as_ref().is_some_and(|chat| {
                    chat.highlight == Some(1)
                        && chat.visible().any(|m| text_of(m) == Some("Hello from the window"))
                })
        })
        .await;
    assert!(alice.sees("Found"), "the result is marked");

    // Bob changes his name: Alice's list says so at once.
    bob.home(home::Message::OpenProfile);
    bob.home(home::Message::Profile(home::profile::Message::DisplayNameChanged("Bobby".into())));
    bob.home(home::Message::Profile(home::profile::Message::SaveDisplayName));
    alice
        .until_home("Alice sees Bob's new name", |home| {
            home.session.roster.friends[&bob_id].user.display_name == "Bobby"
        })
        .await;
    assert!(alice.sees("Bobby"));

    server.server.shutdown().await;
}

/// Alice and Bob registered through their apps and made friends: both apps, and their
/// conversation.
async fn friends(server: &TestServer) -> (Driver, Driver, ConversationId) {
    let mut alice = Driver::new();
    let mut bob = Driver::new();
    alice.register(server, "alice", "Alice").await;
    bob.register(server, "bob", "Bob").await;
    let conversation = befriend(&mut alice, &mut bob).await;
    (alice, bob, conversation)
}

/// Makes `a` and `b` friends through their app cores; returns their conversation.
async fn befriend(a: &mut Driver, b: &mut Driver) -> ConversationId {
    let a_id = a.main().user().id;
    let b_id = b.main().user().id;
    a.home(home::Message::OpenAddFriend);
    a.home(home::Message::AddFriend(home::add_friend::Message::Ask(b_id)));
    b.until_home("the request arrives", |home| home.session.roster.pending_count() == 1).await;
    let request = b.main().session.roster.incoming_friend_requests().next().expect("a request").id;
    b.home(home::Message::Requests(home::requests::Message::AnswerFriend { id: request, accept: true }));
    a.until_home("they are friends", |home| home.session.roster.friends.contains_key(&b_id)).await;
    b.until_home("they are friends", |home| home.session.roster.friends.contains_key(&a_id)).await;
    a.main().session.roster.friends[&b_id].conversation_id
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_dropped_image_and_file_arrive_byte_exact_in_the_receivers_files_folder() {
    let server = TestServer::start().await;
    let (mut alice, mut bob, conversation) = friends(&server).await;

    // Two files on Alice's computer: a picture and some bytes of every value.
    let desk = tempfile::tempdir().expect("temp dir");
    let picture = desk.path().join("sunset.png");
    let mut pixels = ::image::RgbImage::new(64, 48);
    for (x, y, pixel) in pixels.enumerate_pixels_mut() {
        *pixel = ::image::Rgb([(x * 4) as u8, (y * 5) as u8, 120]);
    }
    pixels.save(&picture).expect("write the picture");
    let notes = desk.path().join("notes.bin");
    let bytes: Vec<u8> = (0..300_000u32).map(|i| (i * 7 % 251) as u8).collect();
    std::fs::write(&notes, &bytes).expect("write the file");

    // Alice opens the chat and drops both on the window.
    alice.home(home::Message::Open(conversation));
    alice.home(home::Message::FileDropped(picture.clone()));
    alice.home(home::Message::FileDropped(notes.clone()));
    assert!(alice.sees("sunset.png") && alice.sees("notes.bin"), "both wait above the composer");
    alice
        .until_home("the picture is previewed", |home| {
            matches!(home.files.local(&picture, crate::files::PREVIEW_SIDE), Some(Picture::Ready(_)))
        })
        .await;
    alice.ui(|ui| {
        ui.click("Send 2 files").expect("the send button");
    });
    let is_image =
        |m: &StoredMessage| matches!(&m.content, Content::Image { name, .. } if name == "sunset.png");
    let is_file = |m: &StoredMessage| matches!(&m.content, Content::File { name, .. } if name == "notes.bin");
    alice
        .until_home("both are sent", |home| {
            home.chat.as_ref().is_some_and(|chat| {
                chat.messages.iter().any(|m| is_image(m) && m.delivery == Delivery::Sent)
                    && chat.messages.iter().any(|m| is_file(m) && m.delivery == Delivery::Sent)
            })
        })
        .await;
    assert!(alice.main().files.transfers.is_empty(), "the uploads are done");

    // Bob opens the chat: the picture's thumbnail shows, the file offers a download.
    bob.until_cached(conversation, "the file message", is_file).await;
    bob.home(home::Message::Open(conversation));
    bob.until_home("the thumbnail shows", |home| {
        home.files.pictures.values().any(|p| matches!(p, Picture::Ready(_)))
    })
    .await;
    let downloads = |bob: &Driver| -> Vec<(String, String)> {
        let chat = bob.main().chat.as_ref().expect("the chat is open");
        chat.messages
            .iter()
            .filter_map(|m| match &m.content {
                Content::Image { upload_id, name, .. } | Content::File { upload_id, name, .. } => {
                    Some((upload_id.clone(), name.clone()))
                }
                _ => None,
            })
            .collect()
    };
    let wanted = downloads(&bob);
    assert_eq!(wanted.len(), 2, "{wanted:?}");
    // Small files are saved as they arrive; "Download" asks again, which changes nothing.
    for (upload_id, name) in &wanted {
        bob.home(home::Message::Chat(chat::Message::Download {
            upload_id: upload_id.clone(),
            name: name.clone(),
        }));
    }
    bob.until_home("both are saved", |home| home.files.saved.len() == 2 && home.files.transfers.is_empty())
        .await;
    let saved = bob.main().files.saved.clone();
    let folder = bob.main().files.folder.clone().expect("a files folder");
    for (upload_id, name) in &wanted {
        let path = &saved[upload_id];
        assert_eq!(path, &folder.join(name), "saved under its own name in the files folder");
        let original = if name == "notes.bin" { &notes } else { &picture };
        assert_eq!(
            std::fs::read(path).expect("read"),
            std::fs::read(original).expect("read"),
            "{name} is byte-exact"
        );
    }
    assert!(bob.sees("Saved"), "the chat says the files are saved");

    // A click on the thumbnail opens the viewer with the saved picture.
    let (image_id, _) = wanted.iter().find(|(_, name)| name == "sunset.png").expect("the picture").clone();
    bob.home(home::Message::Chat(chat::Message::ViewImage {
        upload_id: image_id.clone(),
        name: "sunset.png".into(),
    }));
    assert_eq!(bob.main().viewer, Some((image_id.clone(), "sunset.png".into())));
    assert!(bob.sees("Open in system viewer"));
    let saved_picture = bob.main().files.saved[&image_id].clone();
    bob.until_home("the viewer shows the picture", |home| {
        matches!(home.files.local(&saved_picture, crate::files::VIEWER_SIDE), Some(Picture::Ready(_)))
    })
    .await;

    // "Save as…" puts a copy where Bob chooses.
    let elsewhere = tempfile::tempdir().expect("temp dir");
    bob.ui(|ui| {
        ui.click("Save as…").expect("the save as button");
    });
    assert_eq!(bob.main().viewer, None, "the viewer makes way for the folder browser");
    bob.home(home::Message::Attach(crate::screen::attach::Message::Enter(elsewhere.path().to_owned())));
    bob.home(home::Message::Attach(crate::screen::attach::Message::NameChanged("sunset copy.png".into())));
    bob.ui(|ui| {
        ui.click("Save here").expect("the save button");
    });
    let copy = elsewhere.path().join("sunset copy.png");
    bob.until_home("the copy is saved", |home| home.chat.as_ref().is_some_and(|c| c.info.is_some())).await;
    assert_eq!(std::fs::read(&copy).expect("the copy"), std::fs::read(&picture).expect("the original"));

    // The cache remembers where the files are, for the next start.
    let (upload_id, _) = wanted.iter().find(|(_, name)| name == "notes.bin").expect("the file").clone();
    let history = bob.history().expect("the cache");
    let deadline = Instant::now() + PATIENCE;
    loop {
        let remembered = history.saved_files().await.expect("read");
        if remembered.iter().any(|(id, path)| id == &upload_id && path == &folder.join("notes.bin")) {
            break;
        }
        assert!(Instant::now() < deadline, "timed out waiting until the cache remembers the file");
        // The record is written by a task of its own: let it run.
        if let Ok(Some(message)) = tokio::time::timeout(Duration::from_millis(100), bob.inbox.recv()).await {
            bob.update(message);
        }
    }

    // Alice ends the friendship from the chat's header (asked twice): both lists lose it, her
    // chat closes.
    let bob_id = bob.main().user().id;
    let alice_id = alice.main().user().id;
    alice.ui(|ui| {
        ui.click("Remove friend").expect("the remove button");
    });
    assert!(alice.main().session.roster.friends.contains_key(&bob_id), "not before the second click");
    alice.ui(|ui| {
        ui.click("Remove friend: sure?").expect("the confirmation");
    });
    alice
        .until_home("Bob is gone from Alice's list", |home| {
            !home.session.roster.friends.contains_key(&bob_id) && home.chat.is_none()
        })
        .await;
    bob.until_home("Alice is gone from Bob's list", |home| {
        !home.session.roster.friends.contains_key(&alice_id) && home.chat.is_none()
    })
    .await;

    server.server.shutdown().await;
}

/// The group settings panel of `driver`, if open.
fn admin_panel(app: &App) -> Option<&crate::screen::group_admin::GroupAdmin> {
    match &app.screen {
        Screen::Home(home) => match &home.panel {
            Some(home::Panel::GroupAdmin(panel)) => Some(panel),
            _ => None,
        },
        Screen::Login(_) => None,
    }
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn the_owner_invites_promotes_hands_over_and_the_old_owner_leaves() {
    use crate::screen::{group_admin, groups};
    use kith_shared::api::Role;
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

/// The certificate problem the login screen shows, once the login attempt has finished.
async fn certificate_prompt(driver: &mut Driver) -> crate::trust::CertificateProblem {
    driver
        .until(
            "the login screen asks about the certificate",
            |app| matches!(&app.screen, Screen::Login(login) if login.certificate.is_some()),
        )
        .await;
    match &driver.app.screen {
        Screen::Login(login) => *login.certificate.clone().expect("a certificate problem"),
        Screen::Home(_) => unreachable!("checked above"),
    }
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_self_signed_server_is_trusted_once_and_a_changed_certificate_is_refused() {
    let server = TestServer::start_with(|config| config.tls = kith_server::config::TlsMode::On).await;
    let fingerprint = server.server.tls_fingerprint().expect("the server speaks TLS");
    let address = format!("https://{}", server.http());
    let key = format!("127.0.0.1:{}", server.server.http_addr.port());

    // First contact: the fingerprint is shown and nothing is sent until the user decides.
    let mut alice = Driver::new();
    alice.fill_registration(&address, server.socket_port(), "alice", "Alice");
    let problem = certificate_prompt(&mut alice).await;
    assert_eq!(problem.fingerprint, fingerprint, "the prompt shows the server's certificate");
    assert_eq!(problem.server, key);
    assert!(matches!(problem.kind, ProblemKind::Untrusted { .. }), "{problem:?}");
    assert!(alice.sees("Unknown certificate") && alice.sees(&fingerprint));

    // Trusted once: registration, login and the socket all go over TLS.
    alice.ui(|ui| {
        ui.click("Trust and log in").expect("the trust button");
    });
    alice
        .until_home("logged in and connected over TLS", |home| home.session.status == session::Status::Online)
        .await;
    let known = std::fs::read_to_string(alice._data.path().join(crate::trust::KNOWN_SERVERS_FILE))
        .expect("the trusted certificate is kept");
    assert!(known.contains(&format!("{key} {fingerprint}")), "{known}");

    // A client that trusted another certificate for this server refuses, and says so loudly.
    let earlier =
        "00:11:22:33:44:55:66:77:88:99:AA:BB:CC:DD:EE:FF:00:11:22:33:44:55:66:77:88:99:AA:BB:CC:DD:EE:FF";
    let pinned = Trust::in_memory();
    pinned.remember(&key, earlier).expect("pin");
    let mut bob = Driver::with_trust(Some(pinned.clone()));
    bob.fill_registration(&address, server.socket_port(), "bob", "Bob");
    let problem = certificate_prompt(&mut bob).await;
    assert_eq!(problem.kind, ProblemKind::Changed { trusted: earlier.to_owned() });
    assert!(bob.sees("THE SERVER'S CERTIFICATE HAS CHANGED"));
    bob.ui(|ui| {
        ui.click("Cancel").expect("the cancel button");
    });
    assert!(bob.sees("Not connected: the server's certificate was not trusted."));
    assert_eq!(pinned.pinned(&key).as_deref(), Some(earlier), "cancel keeps the old pin");

    // Re-trusting the new certificate is the user's explicit choice.
    bob.update(Message::Login(login::Message::Submit));
    let _ = certificate_prompt(&mut bob).await;
    bob.ui(|ui| {
        ui.click("Trust the new certificate").expect("the re-trust button");
    });
    bob.until_home("Bob logged in over TLS", |home| home.session.status == session::Status::Online).await;
    assert_eq!(pinned.pinned(&key), Some(fingerprint));

    server.server.shutdown().await;
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_certificate_from_a_trusted_authority_asks_nothing_and_a_wrong_name_is_refused() {
    use rcgen::{BasicConstraints, CertificateParams, IsCa, Issuer, KeyPair};
    let mut ca_params = CertificateParams::new(Vec::new()).expect("no names is valid");
    ca_params.is_ca = IsCa::Ca(BasicConstraints::Unconstrained);
    ca_params.distinguished_name.push(rcgen::DnType::CommonName, "Kith test CA");
    let ca_key = KeyPair::generate().expect("CA key");
    let ca_cert = ca_params.self_signed(&ca_key).expect("CA certificate");
    let issuer = Issuer::new(ca_params, ca_key);
    let certs = tempfile::tempdir().expect("temp dir");
    let leaf_key = KeyPair::generate().expect("server key");
    let leaf = CertificateParams::new(vec!["localhost".to_owned()])
        .expect("valid names")
        .signed_by(&leaf_key, &issuer)
        .expect("server certificate");
    let (cert_path, key_path) = (certs.path().join("server.crt"), certs.path().join("server.key"));
    std::fs::write(&cert_path, format!("{}{}", leaf.pem(), ca_cert.pem())).expect("write certificate");
    std::fs::write(&key_path, leaf_key.serialize_pem()).expect("write key");
    let server = TestServer::start_with(|config| {
        config.tls_cert_file = Some(cert_path);
        config.tls_key_file = Some(key_path);
    })
    .await;
    let port = server.server.http_addr.port();
    let trust = Trust::in_memory().with_root(ca_cert.der().clone());

    let mut alice = Driver::with_trust(Some(trust.clone()));
    alice.fill_registration(&format!("https://localhost:{port}"), server.socket_port(), "alice", "Alice");
    alice
        .until_home("logged in over TLS without a question", |home| {
            home.session.status == session::Status::Online
        })
        .await;
    assert_eq!(trust.pinned(&format!("localhost:{port}")), None, "nothing needed pinning");

    // The same certificate reached by a name it was not made for is not silently accepted.
    let mut bob = Driver::with_trust(Some(trust));
    bob.fill_registration(&format!("https://127.0.0.1:{port}"), server.socket_port(), "bob", "Bob");
    let problem = certificate_prompt(&mut bob).await;
    assert_eq!(problem.kind, ProblemKind::Untrusted { reason: "made for another name".to_owned() });

    server.server.shutdown().await;
}

impl Driver {
    /// Types `text` into the open chat's composer and sends it.
    fn say(&mut self, text: &str) {
        let typed = text_editor::Action::Edit(text_editor::Edit::Paste(Arc::new(text.to_owned())));
        self.home(home::Message::Chat(chat::Message::Edit(typed)));
        self.home(home::Message::Chat(chat::Message::Send));
    }

    /// Draws a frame of `window` and handles what its widgets report (a scrolled log).
    fn frame(&mut self, window: &mut crate::tests::Window) {
        for message in window.redraw(&self.app) {
            self.update(message);
        }
    }
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_message_from_the_other_side_waits_below_while_the_reader_is_scrolled_up() {
    let server = TestServer::start().await;
    let (mut alice, mut bob, conversation) = friends(&server).await;

    // A long chat: more lines than the window shows.
    alice.home(home::Message::Open(conversation));
    for n in 1..=40 {
        alice.say(&format!("line {n}"));
    }
    alice
        .until_home("Alice's lines are stored by the server", |home| {
            home.chat.as_ref().is_some_and(|c| {
                c.messages.len() == 40 && c.messages.iter().all(|m| m.delivery == Delivery::Sent)
            })
        })
        .await;
    bob.until_cached(conversation, "Alice's last line", |m| text_of(m) == Some("line 40")).await;

    // Bob opens it at the newest line, then scrolls up with the mouse wheel to read.
    bob.home(home::Message::Open(conversation));
    bob.until_home("Bob's chat shows the lines", |home| {
        home.chat.as_ref().is_some_and(|c| c.messages.len() == 40)
    })
    .await;
    let mut window = crate::tests::Window::new();
    bob.frame(&mut window);
    // The chat opens at the first unread line; Bob goes down to the newest.
    let newest = bob.app.update(Message::Home(home::Message::Chat(chat::Message::JumpToNewest)));
    for message in window.run(&bob.app, newest) {
        bob.update(message);
    }
    bob.frame(&mut window);
    assert!(window.scrolled_up_by(&bob.app, chat::id::LOG) < 1.0, "Bob is at the newest line");
    assert!(
        window.shows_in(&bob.app, chat::id::LOG, "line 40"),
        "{:?}",
        bob.main().chat.as_ref().map(|c| c
            .messages
            .iter()
            .map(|m| (m.seq, text_of(m).map(str::to_owned)))
            .collect::<Vec<_>>())
    );
    for message in window.wheel(&bob.app, chat::id::LOG, 400.0) {
        bob.update(message);
    }
    bob.frame(&mut window);
    let reading = window.scrolled_up_by(&bob.app, chat::id::LOG);
    assert!(reading > 300.0, "Bob reads above the newest line: {reading}");
    assert!(!window.shows_in(&bob.app, chat::id::LOG, "line 40"));

    // Alice writes once more: it reaches Bob's chat through the server and his cache.
    alice.say("are you there?");
    alice
        .until_home("Alice's question is stored by the server", |home| {
            home.chat.as_ref().is_some_and(|c| c.messages.iter().any(|m| m.seq == Some(41)))
        })
        .await;
    bob.until_home("the new line is in Bob's chat", |home| {
        home.chat.as_ref().is_some_and(|c| c.messages.iter().any(|m| text_of(m) == Some("are you there?")))
    })
    .await;
    bob.frame(&mut window);
    bob.frame(&mut window);
    assert_eq!(window.scrolled_up_by(&bob.app, chat::id::LOG), reading, "the view stays where Bob reads");
    assert!(window.shows(&bob.app, "1 new message ↓"), "the chip counts the new line");
    assert!(!window.shows_in(&bob.app, chat::id::LOG, "are you there?"), "the new line waits below");
    assert!(!window.shows_in(&bob.app, chat::id::LOG, "line 40"));

    // The chip brings it in and goes.
    let jump = bob.app.update(Message::Home(home::Message::Chat(chat::Message::JumpToNewest)));
    for message in window.run(&bob.app, jump) {
        bob.update(message);
    }
    bob.frame(&mut window);
    assert!(window.scrolled_up_by(&bob.app, chat::id::LOG) < 1.0);
    assert!(window.shows_in(&bob.app, chat::id::LOG, "are you there?"));
    assert!(!window.shows(&bob.app, "1 new message ↓"));

    server.server.shutdown().await;
}

impl Driver {
    /// The same computer after the app was closed and started again: a new app core on the
    /// same data folder (history, files), logged in as `username` once more.
    async fn restart(self, server: &TestServer, username: &str) -> Driver {
        let Driver { app, socket, _data: data, .. } = self;
        if let Some((_, cancel)) = socket {
            cancel.cancel();
        }
        drop(app);
        let (app, task) = App::new(Setup { data_root: Some(data.path().to_owned()), ..Setup::default() });
        let (inbox_tx, inbox) = mpsc::unbounded_channel();
        let mut driver = Driver { app, inbox_tx, inbox, socket: None, _data: data };
        driver.run(task);
        let steps = [
            login::Message::ServerChanged(server.http()),
            login::Message::AdvancedToggled(true),
            login::Message::SocketPortChanged(server.socket_port().to_string()),
            login::Message::UsernameChanged(username.to_owned()),
            login::Message::PasswordChanged(PASSWORD.to_owned()),
            login::Message::Submit,
        ];
        for step in steps {
            driver.update(Message::Login(step));
        }
        driver
            .until_home("logged in again and connected", |home| {
                home.session.status == session::Status::Online
            })
            .await;
        driver.until_home("the cache is open", |home| home.session.history().is_some()).await;
        driver
    }

    /// Waits until the cache remembers where the file of `upload_id` is on this computer.
    async fn until_file_recorded(&mut self, upload_id: &str) {
        let history = self.history().expect("the cache");
        let deadline = Instant::now() + PATIENCE;
        while !history.saved_files().await.expect("read").iter().any(|(id, _)| id == upload_id) {
            assert!(Instant::now() < deadline, "timed out waiting until the cache remembers {upload_id}");
            if let Ok(Some(message)) =
                tokio::time::timeout(Duration::from_millis(100), self.inbox.recv()).await
            {
                self.update(message);
            }
        }
    }
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_picture_saved_here_still_shows_after_a_restart_once_the_server_deleted_it() {
    // The server deletes a file once every receiver has fetched it.
    let server = TestServer::start_with(|config| config.sweep_interval = Duration::from_millis(100)).await;
    let (mut alice, mut bob, conversation) = friends(&server).await;

    // Alice sends a picture; Bob's app saves it as it arrives.
    let desk = tempfile::tempdir().expect("temp dir");
    let picture = desk.path().join("harbour.png");
    ::image::RgbImage::from_pixel(64, 48, ::image::Rgb([20, 90, 160])).save(&picture).expect("write");
    alice.home(home::Message::Open(conversation));
    alice.home(home::Message::FileDropped(picture.clone()));
    alice.ui(|ui| {
        ui.click("Send the file").expect("the send button");
    });
    let is_image =
        |m: &StoredMessage| matches!(&m.content, Content::Image { name, .. } if name == "harbour.png");
    let sent = alice.until_cached(conversation, "the picture", |m| is_image(m) && m.seq.is_some()).await;
    let upload_id = sent
        .iter()
        .find_map(|m| match &m.content {
            Content::Image { upload_id, .. } => Some(upload_id.clone()),
            _ => None,
        })
        .expect("the picture's upload");
    bob.until_cached(conversation, "the picture", is_image).await;
    bob.until_home("Bob saved the picture", |home| home.files.saved.contains_key(&upload_id)).await;
    alice.until_file_recorded(&upload_id).await;
    bob.until_file_recorded(&upload_id).await;

    // The server lets its copy and the thumbnail go.
    let api = bob.main().session.api.clone();
    let deadline = Instant::now() + PATIENCE;
    while api.bytes(&format!("/api/files/{upload_id}/thumbnail")).await.is_ok() {
        assert!(Instant::now() < deadline, "timed out waiting until the server deletes the file");
        tokio::time::sleep(Duration::from_millis(50)).await;
    }

    // Both start the app again and open the chat: the picture shows from the saved copy.
    let drawn = |app: &App| {
        let mut ui = Simulator::with_settings(crate::tests::fonts(), app.view());
        // "Saved" sits under a picture saved on this computer.
        ui.find("Saved").is_ok() && ui.find("Loading the picture…").is_err()
    };
    for (driver, name) in [(alice, "alice"), (bob, "bob")] {
        let mut driver = driver.restart(&server, name).await;
        driver.home(home::Message::Open(conversation));
        driver.until("the picture is drawn or given up", drawn).await;
        assert!(!driver.sees("The picture cannot be shown."), "{name} sees the saved picture");
        assert!(
            matches!(driver.main().files.thumbnail(&upload_id), Some(Picture::Ready(_))),
            "{name}'s picture is drawn"
        );
    }

    server.server.shutdown().await;
}

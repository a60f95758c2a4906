//! What every end-to-end test stands on: a real server on ephemeral ports ([`TestServer`])
//! and an app core with what iced's runtime would run for it ([`Driver`]).
//!
//! The driver stands in for iced's runtime: it runs the tasks `update` returns and feeds
//! their outputs back as messages, and it runs the socket loop behind `App::subscription`
//! whenever the subscription would exist. Window and widget actions (focus, attention) have
//! no window here and are dropped.

use futures_util::StreamExt;
use iced::Task;
use iced::widget::text_editor;
use iced_test::Simulator;
use iced_test::runtime::Action;
use iced_test::runtime::task::into_stream;
use kith_client::app::{App, Message, Screen, Setup};
use kith_client::headless::{Window, fonts};
use kith_client::history::{History, StoredMessage};
use kith_client::screen::{chat, group_admin, groups, home, login};
use kith_client::session;
use kith_client::settings::Settings;
use kith_client::socket;
use kith_client::trust::Trust;
use kith_shared::api::ConversationId;
use kith_shared::frame::Content;
use std::sync::Arc;
use std::time::Duration;
use tokio::sync::mpsc;
use tokio::time::Instant;
use tokio_util::sync::CancellationToken;

/// Longest the test waits for one step; a guard against hangs, not a measurement.
pub const PATIENCE: Duration = Duration::from_secs(20);
pub const PASSWORD: &str = "correct horse battery";

/// A real server on ephemeral ports with its database in a temp dir.
pub struct TestServer {
    pub server: kith_server::Server,
    dir: tempfile::TempDir,
}

impl TestServer {
    pub async fn start() -> Self {
        Self::start_with(|_| {}).await
    }

    /// A server with its configuration adjusted by `adjust` first.
    pub async fn start_with(adjust: impl FnOnce(&mut kith_server::config::Config)) -> Self {
        Self::start_in(tempfile::tempdir().expect("temp dir"), adjust).await
    }

    /// A server on the data (database, uploads) of `dir`, as another left it.
    pub async fn start_in(
        dir: tempfile::TempDir,
        adjust: impl FnOnce(&mut kith_server::config::Config),
    ) -> Self {
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
        Self { server, dir }
    }

    pub fn http(&self) -> String {
        self.server.http_addr.to_string()
    }

    pub fn socket_port(&self) -> u16 {
        self.server.socket_addr.port()
    }

    /// Shuts the server down (its clients are told it goes away); its data stays in the
    /// returned folder.
    pub async fn stop(self) -> tempfile::TempDir {
        self.server.shutdown().await;
        self.dir
    }
}

/// One app core and what the runtime would run for it.
pub struct Driver {
    pub app: App,
    inbox_tx: mpsc::UnboundedSender<Message>,
    inbox: mpsc::UnboundedReceiver<Message>,
    /// The socket loop of the current subscription, if any.
    socket: Option<(socket::Params, CancellationToken)>,
    /// The data folder of this computer: history, files, trusted certificates.
    pub data: tempfile::TempDir,
}

impl Driver {
    pub fn new() -> Self {
        Self::with_trust(None)
    }

    /// An app core checking certificates against `trust` (None: the pins in its data folder).
    pub fn with_trust(trust: Option<Trust>) -> Self {
        Self::on(tempfile::tempdir().expect("temp dir"), trust)
    }

    /// An app core starting on the data folder `data`.
    fn on(data: tempfile::TempDir, trust: Option<Trust>) -> Self {
        Self::starting(data, trust, Settings::default())
    }

    /// An app core starting on the data folder `data` with these saved settings. Received
    /// files go to `downloads` in the data folder, not the Downloads folder of the machine.
    fn starting(data: tempfile::TempDir, trust: Option<Trust>, mut settings: Settings) -> Self {
        settings.downloads.get_or_insert_with(|| data.path().join("downloads"));
        let (app, task) = App::new(Setup {
            data_root: Some(data.path().to_owned()),
            trust,
            settings,
            settings_saved: true,
            ..Setup::default()
        });
        let (inbox_tx, inbox) = mpsc::unbounded_channel();
        let driver = Self { app, inbox_tx, inbox, socket: None, data };
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

    pub fn update(&mut self, message: Message) {
        let task = self.app.update(message);
        self.run(task);
        self.follow_subscription();
    }

    pub fn home(&mut self, message: home::Message) {
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
    pub async fn until(&mut self, what: &str, done: impl Fn(&App) -> bool) {
        let deadline = Instant::now() + PATIENCE;
        while !done(&self.app) {
            let message = tokio::time::timeout_at(deadline, self.inbox.recv())
                .await
                .unwrap_or_else(|_| panic!("timed out waiting until {what}; {}", describe(&self.app)))
                .expect("the inbox stays open");
            self.update(message);
        }
    }

    /// Handles what arrives within 100 ms, while work that reports to no one (a cache write)
    /// runs.
    pub async fn settle(&mut self) {
        if let Ok(Some(message)) = tokio::time::timeout(Duration::from_millis(100), self.inbox.recv()).await {
            self.update(message);
        }
    }

    /// Handles messages until the main window is there and `done` holds of it.
    pub async fn until_home(&mut self, what: &str, done: impl Fn(&home::Home) -> bool) {
        self.until(what, |app| matches!(&app.screen, Screen::Home(home) if done(home))).await;
    }

    /// Handles messages until the local cache holds a message matching `found`.
    pub async fn until_cached(
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
            self.settle().await;
        }
    }

    pub fn main(&self) -> &home::Home {
        match &self.app.screen {
            Screen::Home(home) => home,
            Screen::Login(_) => panic!("expected the main window"),
        }
    }

    pub fn history(&self) -> Option<History> {
        match &self.app.screen {
            Screen::Home(home) => home.session.history().cloned(),
            Screen::Login(_) => None,
        }
    }

    /// Registers through the login screen and waits for the live connection.
    pub async fn register(&mut self, server: &TestServer, username: &str, display_name: &str) {
        self.fill_registration(&server.http(), server.socket_port(), username, display_name);
        self.until_home("logged in and connected", |home| home.session.status == session::Status::Online)
            .await;
        self.until_home("the cache is open", |home| home.session.history().is_some()).await;
    }

    /// Fills the registration form for the server at `address` and submits it.
    pub fn fill_registration(&mut self, address: &str, socket_port: u16, username: &str, display_name: &str) {
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

    /// Lets `act` click and type on the current screen, then handles what that produced.
    pub fn ui(&mut self, act: impl FnOnce(&mut Simulator<'_, Message>)) {
        let produced: Vec<Message> = {
            let mut ui = Simulator::with_settings(fonts(), self.app.view());
            act(&mut ui);
            ui.into_messages().collect()
        };
        for message in produced {
            self.update(message);
        }
    }

    /// Whether `text` is on screen.
    pub fn sees(&self, text: &str) -> bool {
        let mut ui = Simulator::with_settings(fonts(), self.app.view());
        ui.find(text).is_ok()
    }

    /// Types `text` into the open chat's composer and sends it.
    pub fn say(&mut self, text: &str) {
        let typed = text_editor::Action::Edit(text_editor::Edit::Paste(Arc::new(text.to_owned())));
        self.home(home::Message::Chat(chat::Message::Edit(typed)));
        self.home(home::Message::Chat(chat::Message::Send));
    }

    /// Draws a frame of `window` and handles what its widgets report (a scrolled log).
    pub fn frame(&mut self, window: &mut Window) {
        for message in window.redraw(&self.app) {
            self.update(message);
        }
    }

    /// The same computer after the app was closed and started again: a new app core on the
    /// same data folder (history, files), logged in as `username` once more.
    pub async fn restart(self, server: &TestServer, username: &str) -> Driver {
        let Driver { app, socket, data, .. } = self;
        if let Some((_, cancel)) = socket {
            cancel.cancel();
        }
        drop(app);
        let mut driver = Driver::on(data, None);
        driver.log_in(server, username).await;
        driver
    }

    /// The same computer after the app was closed and started again, its settings naming the
    /// server and `username` as the last login left them: nothing is typed.
    pub fn reopen(self, server: &TestServer, username: &str) -> Driver {
        let Driver { app, socket, data, .. } = self;
        if let Some((_, cancel)) = socket {
            cancel.cancel();
        }
        drop(app);
        let settings = Settings {
            server: server.http(),
            socket_port: Some(server.socket_port()),
            username: username.to_owned(),
            ..Settings::default()
        };
        Driver::starting(data, None, settings)
    }

    /// Logs in through the form as `username` on `server`.
    pub async fn log_in(&mut self, server: &TestServer, username: &str) {
        let steps = [
            login::Message::ServerChanged(server.http()),
            login::Message::AdvancedToggled(true),
            login::Message::SocketPortChanged(server.socket_port().to_string()),
            login::Message::UsernameChanged(username.to_owned()),
            login::Message::PasswordChanged(PASSWORD.to_owned()),
            login::Message::Submit,
        ];
        for step in steps {
            self.update(Message::Login(step));
        }
        self.until_home("logged in and connected", |home| home.session.status == session::Status::Online)
            .await;
        self.until_home("the cache is open", |home| home.session.history().is_some()).await;
    }

    /// Waits until the cache remembers where the file of `upload_id` is on this computer.
    pub async fn until_file_recorded(&mut self, upload_id: &str) {
        let history = self.history().expect("the cache");
        let deadline = Instant::now() + PATIENCE;
        while !history.saved_files().await.expect("read").iter().any(|(id, _)| id == upload_id) {
            assert!(Instant::now() < deadline, "timed out waiting until the cache remembers {upload_id}");
            self.settle().await;
        }
    }
}

/// Alice and Bob registered through their apps and made friends: both apps, and their
/// conversation.
pub async fn friends(server: &TestServer) -> (Driver, Driver, ConversationId) {
    let (mut alice, mut bob) = registered(server).await;
    let conversation = befriend(&mut alice, &mut bob).await;
    (alice, bob, conversation)
}

/// Alice and Bob registered through their apps, not friends yet.
pub async fn registered(server: &TestServer) -> (Driver, Driver) {
    let mut alice = Driver::new();
    let mut bob = Driver::new();
    alice.register(server, "alice", "Alice").await;
    bob.register(server, "bob", "Bob").await;
    (alice, bob)
}

/// Makes `a` and `b` friends through their app cores; returns their conversation.
pub async fn befriend(a: &mut Driver, b: &mut Driver) -> ConversationId {
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

/// Alice on two devices (a laptop, then a phone that has seen the friendship) and her friend
/// Bob, on a server that takes several devices per user; returns their conversation too.
pub async fn two_devices_and_a_friend(server: &TestServer) -> (Driver, Driver, Driver, ConversationId) {
    let mut laptop = Driver::new();
    let mut bob = Driver::new();
    laptop.register(server, "alice", "Alice").await;
    bob.register(server, "bob", "Bob").await;
    let conversation = befriend(&mut laptop, &mut bob).await;
    let mut phone = Driver::new();
    phone.log_in(server, "alice").await;
    phone.until_home("the phone knows the friendship", |home| home.session.roster.friends.len() == 1).await;
    (laptop, phone, bob, conversation)
}

/// The group settings panel, if open.
pub fn admin_panel(app: &App) -> Option<&group_admin::GroupAdmin> {
    match &app.screen {
        Screen::Home(home) => match &home.panel {
            Some(home::Panel::GroupAdmin(panel)) => Some(panel),
            _ => None,
        },
        Screen::Login(_) => None,
    }
}

/// `owner` creates the group `name` and invites `friend` from group settings (left open);
/// the friend accepts from the inbox and opens its chat. Returns the group.
pub async fn group_with(owner: &mut Driver, friend: &mut Driver, name: &str) -> ConversationId {
    owner.home(home::Message::OpenCreateGroup);
    owner.home(home::Message::Groups(groups::Message::NameChanged(name.into())));
    owner.home(home::Message::Groups(groups::Message::Create));
    owner
        .until_home("the group's chat is open", |home| {
            home.chat.as_ref().is_some_and(|c| home.session.roster.groups.contains_key(&c.conversation_id))
        })
        .await;
    let group = owner.main().chat.as_ref().expect("chat").conversation_id;
    owner.ui(|ui| {
        ui.click("Group settings").expect("settings button");
    });
    owner.ui(|ui| {
        ui.click("Invite").expect("invite the friend");
    });
    owner
        .until("the friend is invited", |app| {
            admin_panel(app).is_some_and(|p| !p.invited.is_empty() && !p.busy)
        })
        .await;
    friend.until_home("the invitation arrives", |home| home.session.roster.pending_count() == 1).await;
    friend.ui(|ui| {
        ui.click("Requests").expect("requests button");
    });
    friend.ui(|ui| {
        ui.click("Accept").expect("accept button");
    });
    friend
        .until_home("the friend is in the group", |home| home.session.roster.groups.contains_key(&group))
        .await;
    friend.home(home::Message::Open(group));
    friend
        .until_home("the friend's chat is open", |home| {
            home.chat.as_ref().is_some_and(|c| c.conversation_id == group)
        })
        .await;
    group
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

/// The words of a text message; None for anything else.
pub fn text_of(message: &StoredMessage) -> Option<&str> {
    match &message.content {
        Content::Text { text, .. } => Some(text),
        _ => None,
    }
}

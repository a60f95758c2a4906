//! The root of the app: one `App` state, one `Message`, `update`, `view` and
//! `subscription`. It owns the current screen, the settings and the dialog, and turns the
//! screens' events into screen changes.

use crate::accounts::{Account, Accounts};
use crate::address::ServerConf;
use crate::history::History;
use crate::keyring::Keyring;
use crate::notify::{Note, Notifier};
use crate::offline::Snapshot;
use crate::screen::{chat, home, login};
use crate::settings::Settings;
use crate::signed_in::KeptLogin;
use crate::socket;
use crate::sound::Sound;
use crate::trust::Trust;
use crate::widget::{self, Element};
use iced::{Subscription, Task};
use std::path::PathBuf;
use std::time::Duration;

pub enum Screen {
    Login(Box<login::Login>),
    Home(Box<home::Home>),
}

/// A message box over the current screen.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Dialog {
    pub title: String,
    pub body: String,
}

pub struct App {
    pub screen: Screen,
    pub settings: Settings,
    /// Where settings are saved; None keeps them in memory only.
    settings_path: Option<PathBuf>,
    /// The root of the local history caches; None keeps no history.
    data_root: Option<PathBuf>,
    /// The certificates the user trusted, kept under `data_root`.
    trust: Trust,
    /// Where the token of a login kept for the next start goes, when it can.
    keyring: Keyring,
    /// The accounts this computer signed in with, for the login screen's list.
    pub accounts: Accounts,
    pub sound: Sound,
    pub notifier: Notifier,
    /// Whether the window has the keyboard focus (notifications only show without it).
    pub focused: bool,
    pub dialog: Option<Dialog>,
    /// Window resizes so far; a resize saves the size once no newer one came.
    resizes: u64,
}

#[derive(Debug, Clone)]
pub enum Message {
    Login(login::Message),
    Home(home::Message),
    Socket(socket::Event),
    WindowResized(f32, f32),
    SaveWindow(u64),
    DialogClosed,
    /// The window gained (true) or lost the focus.
    WindowFocused(bool),
    /// Tab (true) or Shift+Tab (false) outside a widget that uses it: the next or previous
    /// field takes the keyboard.
    MoveFocus(bool),
}

/// Where the app keeps things, and what it starts from.
#[derive(Debug, Clone, Default)]
pub struct Setup {
    pub settings: Settings,
    pub settings_path: Option<PathBuf>,
    pub data_root: Option<PathBuf>,
    /// Certificates to trust; None reads those the user trusted under `data_root`.
    pub trust: Option<Trust>,
    /// The keyring for the token of a login kept for the next start; the default uses none
    /// (the token stays in the file under `data_root`).
    pub keyring: Keyring,
    pub server_conf: Option<ServerConf>,
    pub sound: Sound,
    pub notifier: Notifier,
    /// Settings were found on disk (else `server.conf` may provide defaults).
    pub settings_saved: bool,
}

impl App {
    pub fn new(setup: Setup) -> (Self, Task<Message>) {
        let mut settings = setup.settings;
        if !setup.settings_saved
            && let Some(conf) = &setup.server_conf
        {
            let (server, socket_port) = conf.default_address();
            settings.server = server;
            settings.socket_port = socket_port;
            if let Some(music) = conf.enable_music {
                settings.sound = music;
            }
        }
        let trust = setup.trust.unwrap_or_else(|| Trust::load(setup.data_root.as_deref()));
        let accounts = Accounts::load(setup.data_root.as_deref());
        let mut login =
            login::Login::new(settings.server.clone(), settings.socket_port, settings.username.clone())
                .with_data_root(setup.data_root.clone())
                .with_trust(trust.clone())
                .with_keyring(setup.keyring.clone())
                .with_accounts(accounts.list.clone());
        // The last login used opens again while it is kept.
        let focus = Task::batch([login.focus(), login.resume()]).map(Message::Login);
        let app = Self {
            screen: Screen::Login(Box::new(login)),
            settings,
            settings_path: setup.settings_path,
            data_root: setup.data_root,
            trust,
            keyring: setup.keyring,
            accounts,
            sound: setup.sound,
            notifier: setup.notifier,
            focused: true,
            resizes: 0,
            dialog: None,
        };
        (app, focus)
    }

    pub fn title(&self) -> String {
        match &self.screen {
            Screen::Login(_) => "Kith".to_owned(),
            Screen::Home(home) => match home.session.roster.total_unread() {
                0 => format!("Kith — {}", home.user().display_name),
                unread => t!("window-title-unread", unread = unread, name = &home.user().display_name),
            },
        }
    }

    pub fn update(&mut self, message: Message) -> Task<Message> {
        match message {
            Message::Login(message) => {
                let Screen::Login(login) = &mut self.screen else { return Task::none() };
                let (task, event) = login.update(message);
                let task = task.map(Message::Login);
                match event {
                    Some(login::Event::LoggedIn(session)) => Task::batch([task, self.enter(session)]),
                    Some(login::Event::AccountRemoved(account)) => {
                        self.accounts.remove(&account);
                        task
                    }
                    Some(login::Event::BrowseOffline(offline)) => {
                        let (mut home, open) = home::Home::offline(offline);
                        let folders = self.set_folders(&mut home);
                        self.screen = Screen::Home(Box::new(home));
                        Task::batch([task, Task::batch([open, folders]).map(Message::Home)])
                    }
                    None => task,
                }
            }
            Message::Home(message) => {
                let Screen::Home(home) = &mut self.screen else { return Task::none() };
                let (task, event) = home.update(message);
                let task = task.map(Message::Home);
                match event {
                    Some(event) => Task::batch([task, self.home_event(event)]),
                    None => task,
                }
            }
            Message::Socket(event) => {
                let Screen::Home(home) = &mut self.screen else { return Task::none() };
                let (task, event) = home.socket(event);
                let task = task.map(Message::Home);
                match event {
                    Some(event) => Task::batch([task, self.home_event(event)]),
                    None => task,
                }
            }
            Message::DialogClosed => {
                self.dialog = None;
                Task::none()
            }
            Message::WindowFocused(focused) => {
                self.focused = focused;
                Task::none()
            }
            Message::MoveFocus(true) => iced::widget::operation::focus_next(),
            Message::MoveFocus(false) => iced::widget::operation::focus_previous(),
            Message::WindowResized(width, height) => {
                self.settings.window = Some((width.round() as u32, height.round() as u32));
                self.resizes += 1;
                let resize = self.resizes;
                // Saved when the user stops resizing, not on every step of a drag.
                // The timer is made inside the task: `update` runs outside the async runtime.
                Task::perform(async { tokio::time::sleep(Duration::from_millis(600)).await }, move |()| {
                    Message::SaveWindow(resize)
                })
            }
            Message::SaveWindow(resize) => {
                if resize == self.resizes {
                    self.save_settings();
                }
                Task::none()
            }
        }
    }

    /// Logged in: remember the server and name, and the account in the list, open the main
    /// window.
    fn enter(&mut self, session: login::LoggedIn) -> Task<Message> {
        // The next start signs in with this login while the server takes it.
        let keep = match (&self.data_root, session.api.token()) {
            (Some(root), Some(token)) => {
                let token = token.to_owned();
                let kept = KeptLogin::new(
                    root,
                    &session.address.folder_name(),
                    &session.user.username,
                    self.keyring.clone(),
                );
                Task::future(async move {
                    if let Err(err) = kept.save(&token).await {
                        tracing::warn!(%err, "cannot keep the login for the next start");
                    }
                })
                .discard()
            }
            _ => Task::none(),
        };
        self.settings.server = session.address.to_string();
        self.settings.socket_port = session.address.custom_socket_port();
        self.settings.username = session.user.username.clone();
        self.save_settings();
        self.accounts.used(Account::of(&session.address, &session.user));
        let folder = session.address.folder_name();
        let history_path =
            self.data_root.as_ref().map(|root| History::path_for(root, &folder, session.user.id));
        let snapshot_path =
            self.data_root.as_ref().map(|root| Snapshot::path_for(root, &folder, &session.user.username));
        let (mut home, task) = home::Home::new(session, history_path);
        let folders = self.set_folders(&mut home);
        // The previous session's lists stand until this session's arrive.
        let session = &mut home.session;
        session.kept = snapshot_path.as_deref().and_then(|path| match Snapshot::load(path) {
            Ok(kept) => kept.filter(|kept| kept.user.id == session.user.id),
            Err(err) => {
                tracing::warn!(%err, "cannot read the offline snapshot");
                None
            }
        });
        if let Some(kept) = &session.kept {
            session.roster.titles = kept.titles.clone();
        }
        session.snapshot_path = snapshot_path;
        // Offline browsing works from the first login, before the lists arrive.
        session.save_snapshot();
        home.reopen = self.settings.last_chats.get(&home.place()).copied();
        self.screen = Screen::Home(Box::new(home));
        Task::batch([task.map(Message::Home), folders.map(Message::Home), keep])
    }

    fn home_event(&mut self, event: home::Event) -> Task<Message> {
        match event {
            home::Event::LoggedOut => self.back_to_login(Leave::LogOut),
            home::Event::SessionEnded { title, body } => {
                self.back_to_login(Leave::Ended(Dialog { title, body }))
            }
            home::Event::SwitchAccount => self.back_to_login(Leave::Switch),
            home::Event::UserChanged => {
                // The account's entry keeps the display name the user has now.
                if let Screen::Home(home) = &self.screen
                    && !home.session.is_offline()
                {
                    self.accounts.refresh(Account::of(&home.session.address, home.user()));
                }
                Task::none()
            }
            home::Event::SoundChanged(on) => {
                self.settings.sound = on;
                self.save_settings();
                if on {
                    // Let the user hear what they switched on.
                    self.sound.play();
                }
                Task::none()
            }
            home::Event::Alert { title, body, on_screen } => {
                let mut tasks = vec![];
                // A message the user is looking at needs no chime.
                if self.settings.sound && !(on_screen && self.focused) {
                    self.sound.play();
                }
                if self.settings.notifications && !self.focused {
                    let _ = self.notifier.show(Note::new(title, &body));
                    tasks.push(iced::window::latest().and_then(|id| {
                        iced::window::request_user_attention(
                            id,
                            Some(iced::window::UserAttention::Informational),
                        )
                    }));
                }
                Task::batch(tasks)
            }
            home::Event::NotificationsChanged(on) => {
                self.settings.notifications = on;
                self.save_settings();
                Task::none()
            }
            home::Event::DarkChanged(on) => {
                self.settings.dark = on;
                self.save_settings();
                Task::none()
            }
            home::Event::LanguageChanged(language) => {
                self.settings.language = language;
                crate::i18n::set(language.resolve());
                self.save_settings();
                Task::none()
            }
            home::Event::BrowseOffline => self.browse_offline(),
            home::Event::FolderUsed(folder) => {
                self.settings.last_folder = Some(folder);
                self.save_settings();
                Task::none()
            }
            home::Event::DownloadsChanged(folder) => {
                self.settings.downloads = Some(folder);
                self.save_settings();
                Task::none()
            }
            home::Event::ChatOpened(conversation) => {
                if let Screen::Home(home) = &self.screen {
                    self.settings.last_chats.insert(home.place(), conversation);
                    self.save_settings();
                }
                Task::none()
            }
        }
    }

    /// The live session lost the server: browse what this computer kept of it instead.
    fn browse_offline(&mut self) -> Task<Message> {
        let Screen::Home(home) = &self.screen else { return Task::none() };
        let Some(root) = &self.data_root else { return Task::none() };
        let snapshot = match home.session.snapshot_path.as_deref().map(Snapshot::load) {
            Some(Ok(Some(snapshot))) => snapshot,
            Some(Err(err)) => {
                tracing::warn!(%err, "cannot read the offline snapshot");
                return Task::none();
            }
            _ => return Task::none(),
        };
        let address = home.session.address.clone();
        let history_path = History::path_for(root, &address.folder_name(), home.session.user.id);
        if let Some(history) = home.session.history().cloned() {
            tokio_close(history);
        }
        let offline = login::Offline { address, snapshot, history_path, trust: self.trust.clone() };
        let (mut home, open) = home::Home::offline(offline);
        let folders = self.set_folders(&mut home);
        self.screen = Screen::Home(Box::new(home));
        Task::batch([open, folders]).map(Message::Home)
    }

    /// Hands the main window the folders the settings name for files.
    fn set_folders(&self, home: &mut home::Home) -> Task<home::Message> {
        home.set_folders(self.settings.downloads_folder(), self.settings.last_folder.clone())
    }

    /// Leaves the main window for the login screen: its list of accounts, or the form when
    /// there is none.
    fn back_to_login(&mut self, leave: Leave) -> Task<Message> {
        let mut forget = Task::none();
        if let Screen::Home(home) = &self.screen {
            if let Some(history) = home.session.history().cloned() {
                // Let pending writes finish in the background.
                tokio_close(history);
            }
            if !home.session.is_offline() {
                // The list shows the name the user has now.
                self.accounts.used(Account::of(&home.session.address, home.user()));
            }
            // Logged out, or ended by the server: the kept login goes (not when switching
            // accounts, nor when coming back from offline browsing, which never used it).
            if let Some(root) = self
                .data_root
                .as_ref()
                .filter(|_| !home.session.is_offline() && !matches!(leave, Leave::Switch))
            {
                let kept = KeptLogin::new(
                    root,
                    &home.session.address.folder_name(),
                    &home.session.user.username,
                    self.keyring.clone(),
                );
                forget = Task::future(kept.forget()).discard();
            }
        }
        // Back from offline browsing, the form shows what was typed before.
        let (server, socket_port, username) = match &self.screen {
            Screen::Home(home) if home.session.is_offline() => {
                let address = &home.session.address;
                (address.to_string(), address.custom_socket_port(), home.session.user.username.clone())
            }
            _ => (self.settings.server.clone(), self.settings.socket_port, self.settings.username.clone()),
        };
        let mut login = login::Login::new(server, socket_port, username)
            .with_data_root(self.data_root.clone())
            .with_trust(self.trust.clone())
            .with_keyring(self.keyring.clone())
            .with_accounts(self.accounts.list.clone());
        // Switching: the account just left stays signed in, and is not opened again at once.
        let resume = if matches!(leave, Leave::Switch) { Task::none() } else { login.resume() };
        let focus = Task::batch([login.focus(), resume]).map(Message::Login);
        self.screen = Screen::Login(Box::new(login));
        self.dialog = match leave {
            Leave::Ended(dialog) => Some(dialog),
            Leave::LogOut | Leave::Switch => None,
        };
        Task::batch([forget, focus])
    }

    fn save_settings(&self) {
        if let Some(path) = &self.settings_path
            && let Err(err) = self.settings.save(path)
        {
            tracing::warn!(%err, "cannot save the settings");
        }
    }

    pub fn view(&self) -> Element<'_, Message> {
        let screen = match &self.screen {
            Screen::Login(login) => login.view().map(Message::Login),
            Screen::Home(home) => home.view(&self.settings).map(Message::Home),
        };
        let dialog = self
            .dialog
            .as_ref()
            .map(|dialog| widget::notice(&dialog.title, &dialog.body, Message::DialogClosed));
        widget::modal(screen, dialog, Some(Message::DialogClosed))
    }

    pub fn subscription(&self) -> Subscription<Message> {
        let focus = iced::event::listen_with(|event, status, _| on_event(event, status));
        let Screen::Home(home) = &self.screen else { return focus };
        let socket = match home.session.socket_params() {
            Some(params) => socket::subscription(params).map(Message::Socket),
            None => Subscription::none(),
        };
        // A clock only while the view changes with time (typing notices, recall buttons).
        let clock = if home.needs_clock() {
            iced::time::every(Duration::from_secs(1)).map(|now| Message::Home(home::Message::Tick(now)))
        } else {
            Subscription::none()
        };
        // While a drag selecting text is held past the chat's log, the log scrolls on a clock;
        // a release anywhere ends it (whatever became of the text under the drag).
        let selecting = if home.scrolls_selection() {
            Subscription::batch([
                iced::time::every(chat::SCROLL_TICK)
                    .map(|_| Message::Home(home::Message::Chat(chat::Message::ScrollWhileSelecting))),
                iced::event::listen_with(|event, _, _| {
                    matches!(
                        event,
                        iced::Event::Mouse(iced::mouse::Event::ButtonReleased(iced::mouse::Button::Left))
                    )
                    .then_some(Message::Home(home::Message::Chat(chat::Message::SelectingPastEdge(None))))
                }),
            ])
        } else {
            Subscription::none()
        };
        Subscription::batch([focus, socket, clock, selecting])
    }

    pub fn theme(&self) -> iced::Theme {
        widget::theme(self.settings.dark)
    }
}

/// Why the main window is left for the login screen.
enum Leave {
    /// *Log out* (or *Back to login* from offline browsing): the kept login goes.
    LogOut,
    /// The server ended the session: the kept login goes, and this dialog says why.
    Ended(Dialog),
    /// *Switch account*: the kept login stays, for the next click in the list.
    Switch,
}

/// Closes a history database on the runtime, if there is one (tests run without).
fn tokio_close(history: History) {
    if let Ok(runtime) = tokio::runtime::Handle::try_current() {
        runtime.spawn(async move { history.close().await });
    }
}

/// What a window or keyboard event means to the app, whichever screen is shown. `status`
/// says whether a widget used the event already (then Tab is the widget's own).
fn on_event(event: iced::Event, status: iced::event::Status) -> Option<Message> {
    match event {
        iced::Event::Window(iced::window::Event::Focused) => Some(Message::WindowFocused(true)),
        iced::Event::Window(iced::window::Event::Unfocused) => Some(Message::WindowFocused(false)),
        iced::Event::Window(iced::window::Event::Resized(size)) => {
            Some(Message::WindowResized(size.width, size.height))
        }
        // A file dropped on the window goes to the open chat.
        iced::Event::Window(iced::window::Event::FileDropped(path)) => {
            Some(Message::Home(home::Message::FileDropped(path)))
        }
        iced::Event::Keyboard(iced::keyboard::Event::KeyPressed {
            key: iced::keyboard::Key::Named(iced::keyboard::key::Named::Escape),
            ..
        }) => Some(Message::Home(home::Message::Escape)),
        iced::Event::Keyboard(iced::keyboard::Event::KeyPressed { key, modifiers, .. })
            if modifiers.command() && key.as_ref() == iced::keyboard::Key::Character("f") =>
        {
            Some(Message::Home(home::Message::OpenSearch))
        }
        iced::Event::Keyboard(iced::keyboard::Event::KeyPressed {
            key: iced::keyboard::Key::Named(iced::keyboard::key::Named::Tab),
            modifiers,
            ..
        }) if status == iced::event::Status::Ignored => Some(Message::MoveFocus(!modifiers.shift())),
        _ => None,
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use iced::event::Status;
    use iced::keyboard::{Event, Key, Location, Modifiers, key};

    fn tab(modifiers: Modifiers) -> iced::Event {
        iced::Event::Keyboard(Event::KeyPressed {
            key: Key::Named(key::Named::Tab),
            modified_key: Key::Named(key::Named::Tab),
            physical_key: key::Physical::Code(key::Code::Tab),
            location: Location::Standard,
            modifiers,
            text: None,
            repeat: false,
        })
    }

    #[test]
    fn tab_and_shift_tab_move_the_focus_unless_a_widget_took_them() {
        assert!(matches!(on_event(tab(Modifiers::empty()), Status::Ignored), Some(Message::MoveFocus(true))));
        assert!(matches!(on_event(tab(Modifiers::SHIFT), Status::Ignored), Some(Message::MoveFocus(false))));
        assert!(on_event(tab(Modifiers::empty()), Status::Captured).is_none());
    }
}

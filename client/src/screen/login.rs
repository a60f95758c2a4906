//! The login and register screen: the accounts this computer signed in with (one click opens
//! a signed-in one without its password, or fills the form for a signed-out one), and the form:
//! server address, user name, password and, to register, a display name. A successful login
//! hands a [`LoggedIn`] session to the root.

use crate::accounts::Account;
use crate::address::ServerAddress;
use crate::api::{Api, ApiError};
use crate::history::History;
use crate::keyring::Keyring;
use crate::offline::Snapshot;
use crate::signed_in::KeptLogin;
use crate::trust::{CertificateProblem, ProblemKind, Trust};
use crate::widget::{self, BOLD, Element};
use iced::widget::{button, center, checkbox, column, container, row, text, text_input};
use iced::{Alignment, Length, Task};
use kith_shared::api::{LoginRequest, RegisterRequest, UserProfile, limits};
use std::path::PathBuf;

/// Widget ids, for focus and for tests.
pub mod id {
    pub const SERVER: &str = "login-server";
    pub const SOCKET_PORT: &str = "login-socket-port";
    pub const USERNAME: &str = "login-username";
    pub const DISPLAY_NAME: &str = "login-display-name";
    pub const PASSWORD: &str = "login-password";

    /// The entry of the `index`th account in the list (a click opens it).
    pub fn account(index: usize) -> String {
        format!("login-account-{index}")
    }

    /// The button removing the `index`th account from the list.
    pub fn remove_account(index: usize) -> String {
        format!("login-account-remove-{index}")
    }
}

#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Mode {
    LogIn,
    Register,
}

#[derive(Debug, Clone)]
pub struct Login {
    pub mode: Mode,
    pub server: String,
    /// The advanced socket-port field; empty means HTTP port + 1.
    pub socket_port: String,
    pub show_advanced: bool,
    pub username: String,
    pub display_name: String,
    pub password: String,
    /// A request is under way.
    pub busy: bool,
    pub error: Option<String>,
    /// The root of the local history caches; None keeps no history (and offers no offline
    /// browsing).
    pub data_root: Option<PathBuf>,
    /// The server could not be reached and this user has a local history there.
    pub offline: Option<Box<Offline>>,
    /// The certificates the user trusted.
    pub trust: Trust,
    /// Where the token of a login kept for the next start may be (see [`crate::signed_in`]).
    pub keyring: Keyring,
    /// The server's certificate was not accepted: the user may trust it, or not.
    pub certificate: Option<Box<CertificateProblem>>,
    /// The accounts this computer signed in with, the most recently used first.
    pub accounts: Vec<Listed>,
    /// The list of accounts shows in place of the form.
    pub choosing: bool,
}

/// An account in the list, and whether its login is kept (it opens without a password).
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Listed {
    pub account: Account,
    pub signed_in: bool,
}

/// What browsing a local history without the server needs.
#[derive(Debug, Clone)]
pub struct Offline {
    pub address: ServerAddress,
    pub snapshot: Snapshot,
    pub history_path: PathBuf,
    pub trust: Trust,
}

/// A session, handed to the root after logging in.
#[derive(Debug, Clone)]
pub struct LoggedIn {
    pub address: ServerAddress,
    /// Carries the session token.
    pub api: Api,
    pub user: UserProfile,
}

#[derive(Debug, Clone)]
pub enum Message {
    ServerChanged(String),
    SocketPortChanged(String),
    AdvancedToggled(bool),
    UsernameChanged(String),
    DisplayNameChanged(String),
    PasswordChanged(String),
    ModeSwitched,
    Submit,
    Finished(Result<LoggedIn, ApiError>),
    /// The server in the form answered the start-up check, or could not be reached.
    Probed(Result<(), ApiError>),
    /// The login kept from the last time was taken again, or not.
    Resumed(Result<LoggedIn, ApiError>),
    /// The kept login's token could not be had: the keyring holds none, or cannot be asked.
    TokenMissing,
    BrowseOffline,
    /// Trust the certificate shown and log in again.
    TrustCertificate,
    /// Do not trust it.
    DistrustCertificate,
    /// The `index`th account in the list was clicked.
    OpenAccount(usize),
    /// Take the `index`th account out of the list (and forget its kept login).
    RemoveAccount(usize),
    /// The empty form, for an account not in the list.
    OtherAccount,
    /// Back from the form to the list of accounts.
    ShowAccounts,
}

/// What the root must act on.
#[derive(Debug, Clone)]
pub enum Event {
    LoggedIn(LoggedIn),
    BrowseOffline(Offline),
    /// This account was taken out of the list (its kept login is forgotten).
    AccountRemoved(Account),
}

impl Login {
    pub fn new(server: String, socket_port: Option<u16>, username: String) -> Self {
        Self {
            mode: Mode::LogIn,
            server,
            show_advanced: socket_port.is_some(),
            socket_port: socket_port.map(|p| p.to_string()).unwrap_or_default(),
            username,
            display_name: String::new(),
            password: String::new(),
            busy: false,
            error: None,
            data_root: None,
            offline: None,
            trust: Trust::in_memory(),
            keyring: Keyring::default(),
            certificate: None,
            accounts: Vec::new(),
            choosing: false,
        }
    }

    /// Lists `accounts` (the most recently used first), each signed in or not as its kept
    /// login under the data folder says; the list shows first when there is one. Called after
    /// [`Login::with_data_root`] and [`Login::with_keyring`].
    pub fn with_accounts(mut self, accounts: Vec<Account>) -> Self {
        self.accounts = accounts
            .into_iter()
            .map(|account| {
                let signed_in = self
                    .data_root
                    .as_deref()
                    .and_then(|root| account.kept_login(root, self.keyring.clone()))
                    .is_some_and(|kept| kept.is_kept());
                Listed { account, signed_in }
            })
            .collect();
        self.choosing = !self.accounts.is_empty();
        self
    }

    /// Checks certificates against `trust` (and trusts new ones there).
    pub fn with_trust(mut self, trust: Trust) -> Self {
        self.trust = trust;
        self
    }

    /// Looks for the token of a kept login in `keyring` (the file only without one).
    pub fn with_keyring(mut self, keyring: Keyring) -> Self {
        self.keyring = keyring;
        self
    }

    /// Offers offline browsing of the caches under `root`.
    pub fn with_data_root(mut self, root: Option<PathBuf>) -> Self {
        self.data_root = root;
        self
    }

    /// Checks at start whether the server in the form can be reached, when this machine keeps
    /// chats of the user in the form there: if not, browsing them offline is offered at once,
    /// before any login attempt.
    pub fn probe(&self) -> Task<Message> {
        let Some(offline) = self.find_offline() else { return Task::none() };
        let api = Api::new(&offline.address, &self.trust);
        Task::perform(async move { api.check_server().await.map(drop) }, Message::Probed)
    }

    /// Signs in again with the token kept from the last login (see [`crate::signed_in`]), when
    /// one is kept for the server and user name in the form; else checks the server as
    /// [`Login::probe`] does.
    pub fn resume(&mut self) -> Task<Message> {
        let Some((address, kept)) = self.kept_login() else { return self.probe() };
        let Some(record) = kept.read() else { return self.probe() };
        self.busy = true;
        self.error = None;
        self.offline = None;
        let api = Api::new(&address, &self.trust);
        Task::future(async move {
            // The token may be in the keyring: asked here, off the UI thread.
            let Some(token) = kept.token(&record).await else { return Message::TokenMissing };
            let api = api.with_token(token);
            let user = async {
                api.check_server().await?;
                api.me().await
            };
            Message::Resumed(user.await.map(|user| LoggedIn { address, api, user }))
        })
    }

    /// The server in the form and where the login of the user in the form is kept there.
    fn kept_login(&self) -> Option<(ServerAddress, KeptLogin)> {
        let root = self.data_root.as_ref()?;
        let address = ServerAddress::parse(&self.server, &self.socket_port).ok()?;
        let username = self.username.trim().to_lowercase();
        if username.is_empty() {
            return None;
        }
        let kept = KeptLogin::new(root, &address.folder_name(), &username, self.keyring.clone());
        Some((address, kept))
    }

    /// The account the form names: its server's folder and user name.
    fn form_key(&self) -> Option<(String, String)> {
        let address = ServerAddress::parse(&self.server, &self.socket_port).ok()?;
        Some((address.folder_name(), self.username.trim().to_lowercase()))
    }

    /// The kept login of the account in the form is gone: the list says so.
    fn mark_signed_out(&mut self) {
        let key = self.form_key();
        for listed in &mut self.accounts {
            if key.is_some() && listed.account.key() == key {
                listed.signed_in = false;
            }
        }
    }

    /// The form, for the password of the account in it.
    fn ask_password(&mut self) -> Task<Message> {
        self.choosing = false;
        iced::widget::operation::focus(id::PASSWORD)
    }

    /// Focus where typing starts: the user name, or the password when the name is known.
    pub fn focus(&self) -> Task<Message> {
        let target = if self.username.is_empty() { id::USERNAME } else { id::PASSWORD };
        iced::widget::operation::focus(target)
    }

    pub fn update(&mut self, message: Message) -> (Task<Message>, Option<Event>) {
        match message {
            Message::ServerChanged(value) => {
                self.server = value;
                self.offline = None;
                self.certificate = None;
            }
            Message::SocketPortChanged(value) => {
                self.socket_port = value.chars().filter(char::is_ascii_digit).take(5).collect();
            }
            Message::AdvancedToggled(show) => self.show_advanced = show,
            Message::UsernameChanged(value) => {
                self.username = value;
                self.offline = None;
            }
            Message::DisplayNameChanged(value) => self.display_name = value,
            Message::PasswordChanged(value) => self.password = value,
            Message::ModeSwitched => {
                self.mode = match self.mode {
                    Mode::LogIn => Mode::Register,
                    Mode::Register => Mode::LogIn,
                };
                self.error = None;
            }
            Message::Submit => return (self.submit(), None),
            Message::Finished(Ok(session)) => {
                self.busy = false;
                self.error = None;
                self.password.clear();
                return (Task::none(), Some(Event::LoggedIn(session)));
            }
            Message::Finished(Err(ApiError::Certificate(problem))) => {
                self.busy = false;
                tracing::warn!(server = %problem.server, fingerprint = %problem.fingerprint, "certificate not accepted");
                self.error = None;
                self.certificate = Some(problem);
            }
            Message::Finished(Err(err)) => {
                self.busy = false;
                tracing::info!(%err, "login failed");
                self.error = Some(err.plain());
                if matches!(err, ApiError::Unreachable { .. }) {
                    self.offline = self.find_offline();
                }
            }
            Message::Probed(Err(err @ ApiError::Unreachable { .. })) => {
                // Only while the form is untouched: a login under way says the rest.
                if !self.busy && self.error.is_none() && self.offline.is_none() {
                    self.error = Some(err.plain());
                    self.offline = self.find_offline();
                }
            }
            Message::Probed(_) => {}
            Message::Resumed(Ok(session)) => {
                self.busy = false;
                return (Task::none(), Some(Event::LoggedIn(session)));
            }
            Message::Resumed(Err(err)) => {
                self.busy = false;
                let focus = self.ask_password();
                if err.code() == Some(kith_shared::ErrorCode::Unauthorized) {
                    // Logged out elsewhere, or the password changed: the form it is.
                    self.mark_signed_out();
                    if let Some((_, kept)) = self.kept_login() {
                        return (Task::batch([Task::future(kept.forget()).discard(), focus]), None);
                    }
                    return (focus, None);
                } else {
                    tracing::info!(%err, "cannot sign in again with the kept login");
                    self.error = Some(err.plain());
                    if matches!(err, ApiError::Unreachable { .. }) {
                        self.offline = self.find_offline();
                    }
                    return (focus, None);
                }
            }
            Message::TokenMissing => {
                self.busy = false;
                return (Task::batch([self.ask_password(), self.probe()]), None);
            }
            Message::OpenAccount(index) => {
                let Some(listed) = self.accounts.get(index).cloned() else { return (Task::none(), None) };
                if self.busy {
                    return (Task::none(), None);
                }
                let account = listed.account;
                self.server = account.server.clone();
                self.socket_port = account.socket_port_field();
                self.show_advanced = account.socket_port.is_some();
                self.username = account.username.clone();
                self.mode = Mode::LogIn;
                self.password.clear();
                self.display_name.clear();
                self.error = None;
                self.offline = None;
                self.certificate = None;
                if listed.signed_in {
                    let resume = self.resume();
                    if self.busy {
                        return (resume, None);
                    }
                    // Its kept login went in the meantime.
                    self.mark_signed_out();
                    return (Task::batch([resume, self.ask_password()]), None);
                }
                return (Task::batch([self.probe(), self.ask_password()]), None);
            }
            Message::RemoveAccount(index) => {
                if self.busy || index >= self.accounts.len() {
                    return (Task::none(), None);
                }
                let account = self.accounts.remove(index).account;
                if self.accounts.is_empty() {
                    self.choosing = false;
                }
                let forget = match self
                    .data_root
                    .as_deref()
                    .and_then(|root| account.kept_login(root, self.keyring.clone()))
                {
                    Some(kept) => Task::future(kept.forget()).discard(),
                    None => Task::none(),
                };
                return (forget, Some(Event::AccountRemoved(account)));
            }
            Message::OtherAccount => {
                self.choosing = false;
                self.mode = Mode::LogIn;
                self.username.clear();
                self.password.clear();
                self.display_name.clear();
                self.error = None;
                self.offline = None;
                return (iced::widget::operation::focus(id::USERNAME), None);
            }
            Message::ShowAccounts => {
                if !self.busy && !self.accounts.is_empty() {
                    self.choosing = true;
                    self.password.clear();
                    self.error = None;
                    self.offline = None;
                }
            }
            Message::TrustCertificate => {
                if let Some(problem) = self.certificate.take() {
                    if let Err(err) = self.trust.remember(&problem.server, &problem.fingerprint) {
                        self.error = Some(t!("login-cannot-save-certificate", error = err.to_string()));
                        return (Task::none(), None);
                    }
                    tracing::info!(server = %problem.server, fingerprint = %problem.fingerprint, "certificate trusted");
                    return (self.submit(), None);
                }
            }
            Message::DistrustCertificate => {
                if self.certificate.take().is_some() {
                    self.error = Some(t!("login-certificate-refused"));
                }
            }
            Message::BrowseOffline => {
                if let Some(offline) = self.offline.clone() {
                    self.password.clear();
                    return (Task::none(), Some(Event::BrowseOffline(*offline)));
                }
            }
        }
        (Task::none(), None)
    }

    /// The local history of the user named in the form on the server in the form, if this
    /// machine has one.
    fn find_offline(&self) -> Option<Box<Offline>> {
        let root = self.data_root.as_ref()?;
        let address = ServerAddress::parse(&self.server, &self.socket_port).ok()?;
        let folder = address.folder_name();
        let snapshot = match Snapshot::load(&Snapshot::path_for(root, &folder, &self.username)) {
            Ok(snapshot) => snapshot?,
            Err(err) => {
                tracing::warn!(%err, "cannot read the offline snapshot");
                return None;
            }
        };
        let history_path = History::path_for(root, &folder, snapshot.user.id);
        let trust = self.trust.clone();
        history_path.is_file().then(|| Box::new(Offline { address, snapshot, history_path, trust }))
    }

    /// Checks the fields and starts the request.
    fn submit(&mut self) -> Task<Message> {
        if self.busy {
            return Task::none();
        }
        self.offline = None;
        self.certificate = None;
        match self.check() {
            Err(problem) => {
                self.error = Some(problem);
                Task::none()
            }
            Ok(address) => {
                self.error = None;
                self.busy = true;
                let username = self.username.trim().to_lowercase();
                let password = self.password.clone();
                let display_name = self.display_name.trim().to_owned();
                let register = self.mode == Mode::Register;
                let trust = self.trust.clone();
                Task::perform(
                    async move {
                        let api = Api::new(&address, &trust);
                        api.check_server().await?;
                        if register {
                            let request = RegisterRequest {
                                username: username.clone(),
                                display_name,
                                password: password.clone(),
                            };
                            api.register(&request).await?;
                        }
                        let answer = api.login(&LoginRequest { username, password }).await?;
                        Ok(LoggedIn { address, api: api.with_token(answer.token), user: answer.user })
                    },
                    Message::Finished,
                )
            }
        }
    }

    /// What is wrong with the fields before asking the server, in plain words.
    pub fn check(&self) -> Result<ServerAddress, String> {
        let address = ServerAddress::parse(&self.server, &self.socket_port).map_err(|err| err.to_string())?;
        if self.username.trim().is_empty() {
            return Err(t!("login-enter-username"));
        }
        if self.password.is_empty() {
            return Err(t!("login-enter-password"));
        }
        if self.mode == Mode::Register {
            let name_len = self.username.trim().chars().count();
            if !(limits::USERNAME_MIN..=limits::USERNAME_MAX).contains(&name_len) {
                return Err(t!(
                    "login-username-length",
                    min = limits::USERNAME_MIN,
                    max = limits::USERNAME_MAX
                ));
            }
            if self.display_name.trim().is_empty() {
                return Err(t!("login-enter-display-name"));
            }
            if self.password.len() < limits::PASSWORD_MIN {
                return Err(t!("login-password-length", min = limits::PASSWORD_MIN));
            }
        }
        Ok(address)
    }

    pub fn view(&self) -> Element<'_, Message> {
        // The choice about a certificate comes before anything else is sent.
        if let Some(problem) = &self.certificate {
            return center(widget::card(certificate_prompt(problem)).max_width(480)).padding(20).into();
        }
        if self.choosing {
            return center(widget::card(self.accounts_view()).max_width(440)).padding(20).into();
        }
        let registering = self.mode == Mode::Register;
        let field = |label: String, input: text_input::TextInput<'static, Message>| {
            column![text(label).size(14), input.padding(8)].spacing(4)
        };
        let on_input = |f: fn(String) -> Message| move |value: String| f(value);
        let editable = !self.busy;

        let mut form = column![
            text("Kith").size(34).font(BOLD),
            text(if registering { t!("login-create-account") } else { t!("login-welcome") }).size(18),
            field(
                t!("login-server"),
                text_input(&t!("login-server-placeholder"), &self.server)
                    .id(id::SERVER)
                    .on_input_maybe(editable.then_some(on_input(Message::ServerChanged)))
                    .on_submit(Message::Submit)
            ),
        ]
        .spacing(14)
        .width(Length::Fill);

        form = form.push(
            checkbox(self.show_advanced)
                .label(t!("login-custom-socket-port"))
                .on_toggle(Message::AdvancedToggled)
                .size(16)
                .text_size(13),
        );
        if self.show_advanced {
            form = form.push(field(
                t!("login-socket-port"),
                text_input(&t!("login-socket-port-placeholder"), &self.socket_port)
                    .id(id::SOCKET_PORT)
                    .on_input_maybe(editable.then_some(on_input(Message::SocketPortChanged)))
                    .on_submit(Message::Submit),
            ));
        }
        form = form.push(field(
            t!("login-username"),
            text_input(&t!("login-username-placeholder"), &self.username)
                .id(id::USERNAME)
                .on_input_maybe(editable.then_some(on_input(Message::UsernameChanged)))
                .on_submit(Message::Submit),
        ));
        if registering {
            form = form.push(field(
                t!("login-display-name"),
                text_input(&t!("login-display-name-placeholder"), &self.display_name)
                    .id(id::DISPLAY_NAME)
                    .on_input_maybe(editable.then_some(on_input(Message::DisplayNameChanged)))
                    .on_submit(Message::Submit),
            ));
        }
        form = form.push(field(
            t!("login-password"),
            text_input("", &self.password)
                .id(id::PASSWORD)
                .secure(true)
                .on_input_maybe(editable.then_some(on_input(Message::PasswordChanged)))
                .on_submit(Message::Submit),
        ));
        if let Some(error) = &self.error {
            form = form.push(widget::error_line(error));
        }

        if self.offline.is_some() && !self.busy {
            form = form.push(
                column![
                    text(t!("login-offline-kept")).size(13),
                    button(text(t!("login-browse-offline")).size(14))
                        .style(button::secondary)
                        .on_press(Message::BrowseOffline),
                ]
                .spacing(6),
            );
        }
        let action = match (self.mode, self.busy) {
            (Mode::LogIn, false) => t!("login-log-in"),
            (Mode::Register, false) => t!("login-register"),
            (Mode::LogIn, true) => t!("login-logging-in"),
            (Mode::Register, true) => t!("login-registering"),
        };
        let switch = if registering { t!("login-have-account") } else { t!("login-create-account") };
        form = form.push(
            row![
                button(text(action).font(BOLD))
                    .on_press_maybe((!self.busy).then_some(Message::Submit))
                    .padding([8, 20]),
                iced::widget::space().width(Length::Fill),
                button(text(switch).size(14))
                    .style(button::text)
                    .on_press_maybe((!self.busy).then_some(Message::ModeSwitched)),
            ]
            .align_y(Alignment::Center),
        );
        if !self.accounts.is_empty() {
            form = form.push(
                button(text(t!("accounts-show")).size(14))
                    .style(button::text)
                    .padding(0)
                    .on_press_maybe((!self.busy).then_some(Message::ShowAccounts)),
            );
        }
        center(widget::card(form).max_width(400)).padding(20).into()
    }

    /// The accounts this computer signed in with, each with *Remove*, and *Use another
    /// account*.
    fn accounts_view(&self) -> Element<'_, Message> {
        let mut list = column![text("Kith").size(34).font(BOLD), text(t!("accounts-choose")).size(18)]
            .spacing(14)
            .width(Length::Fill);
        let opening = self.busy.then(|| self.form_key()).flatten();
        let mut entries = column![].spacing(6);
        for (index, listed) in self.accounts.iter().enumerate() {
            let account = &listed.account;
            let (status, style): (String, fn(&iced::Theme) -> text::Style) =
                if opening.is_some() && account.key() == opening {
                    (t!("accounts-opening"), text::secondary)
                } else if listed.signed_in {
                    (t!("accounts-signed-in"), text::success)
                } else {
                    (t!("accounts-signed-out"), text::secondary)
                };
            let who = column![
                text(account.name().to_owned()).size(15).font(BOLD),
                text(format!("{} · {}", account.username, account.server)).size(12).style(text::secondary),
            ]
            .spacing(2)
            .width(Length::Fill);
            let entry = button(
                row![
                    widget::avatar(account.name(), account.user_id, None, 36.0),
                    who,
                    text(status).size(12).style(style)
                ]
                .spacing(10)
                .align_y(Alignment::Center),
            )
            .style(button::text)
            .width(Length::Fill)
            .padding([6, 8])
            .on_press_maybe((!self.busy).then_some(Message::OpenAccount(index)));
            let remove = button(text(t!("accounts-remove")).size(12))
                .style(button::text)
                .padding([4, 6])
                .on_press_maybe((!self.busy).then_some(Message::RemoveAccount(index)));
            entries = entries.push(
                row![
                    container(entry).id(id::account(index)).width(Length::Fill),
                    container(remove).id(id::remove_account(index)),
                ]
                .spacing(4)
                .align_y(Alignment::Center),
            );
        }
        list = list.push(entries);
        if let Some(error) = &self.error {
            list = list.push(widget::error_line(error));
        }
        list = list.push(
            button(text(t!("accounts-use-another")).size(14))
                .style(button::secondary)
                .padding([8, 16])
                .on_press_maybe((!self.busy).then_some(Message::OtherAccount)),
        );
        list.into()
    }
}

/// The certificate the server presented, and the choice to trust it.
fn certificate_prompt(problem: &CertificateProblem) -> Element<'_, Message> {
    let changed = matches!(problem.kind, ProblemKind::Changed { .. });
    let title = if changed { t!("certificate-changed-title") } else { t!("certificate-unknown-title") };
    let mut prompt = column![
        text(title).font(BOLD).size(17).style(if changed { text::danger } else { text::default }),
        text(problem.plain()).size(14),
        text(t!("certificate-fingerprint")).size(13),
        text(problem.fingerprint.clone()).size(12).font(iced::Font::MONOSPACE),
    ]
    .spacing(10);
    if let ProblemKind::Changed { trusted } = &problem.kind {
        prompt = prompt.push(text(t!("certificate-fingerprint-before")).size(13));
        prompt = prompt.push(text(trusted.clone()).size(12).font(iced::Font::MONOSPACE));
    }
    let trust = if changed { t!("certificate-trust-new") } else { t!("certificate-trust") };
    prompt = prompt.push(
        row![
            button(text(trust).size(14))
                .style(if changed { button::danger } else { button::primary })
                .on_press(Message::TrustCertificate),
            button(text(t!("cancel")).size(14))
                .style(button::secondary)
                .on_press(Message::DistrustCertificate),
        ]
        .spacing(10),
    );
    prompt.into()
}

#[cfg(test)]
mod tests {
    use super::*;

    fn filled(mode: Mode) -> Login {
        Login {
            mode,
            username: "alice".into(),
            password: "correct horse".into(),
            display_name: "Alice".into(),
            ..Login::new("127.0.0.1:8000".into(), None, String::new())
        }
    }

    #[test]
    fn saved_socket_port_opens_the_advanced_field() {
        let login = Login::new("example.org:9000".into(), Some(9100), "bob".into());
        assert!(login.show_advanced);
        assert_eq!(login.socket_port, "9100");
        assert_eq!(login.check().map(|a| a.first().socket_port), Err("Enter your password.".to_owned()));
    }

    #[test]
    fn empty_fields_are_refused_before_any_request() {
        let mut login = Login::new("127.0.0.1:8000".into(), None, String::new());
        let (_, event) = login.update(Message::Submit);
        assert!(event.is_none());
        assert!(!login.busy);
        assert_eq!(login.error.as_deref(), Some("Enter your user name."));
        login.server = "  ".into();
        let _ = login.update(Message::Submit);
        assert_eq!(login.error.as_deref(), Some("Enter the server address, for example 127.0.0.1:8000."));
    }

    #[test]
    fn register_checks_lengths_and_display_name() {
        let mut login = filled(Mode::Register);
        login.password = "short".into();
        assert_eq!(login.check().unwrap_err(), "A password has at least 8 characters.");
        login.password = "long enough".into();
        login.display_name = " ".into();
        assert_eq!(login.check().unwrap_err(), "Enter the name others will see.");
        login.display_name = "Alice".into();
        login.username = "al".into();
        assert!(login.check().unwrap_err().starts_with("A user name has 3 to 32"));
        login.username = "alice".into();
        assert_eq!(login.check().expect("valid").first().socket_port, 8001);
        // Logging in does not apply the registration rules.
        login.mode = Mode::LogIn;
        login.password = "x".into();
        assert!(login.check().is_ok());
    }

    #[test]
    fn submit_marks_busy_and_ignores_a_second_press() {
        let mut login = filled(Mode::LogIn);
        let _ = login.update(Message::Submit);
        assert!(login.busy);
        assert!(login.error.is_none());
        // Still busy; a second submit starts nothing and changes nothing.
        let _ = login.update(Message::Submit);
        assert!(login.busy);
    }

    #[test]
    fn a_failure_shows_plain_words_and_unlocks_the_form() {
        let mut login = filled(Mode::LogIn);
        let _ = login.update(Message::Submit);
        let err = ApiError::Server {
            status: 401,
            code: kith_shared::ErrorCode::WrongCredentials,
            message: "wrong user name or password".into(),
        };
        let (_, event) = login.update(Message::Finished(Err(err)));
        assert!(event.is_none());
        assert!(!login.busy);
        assert_eq!(login.error.as_deref(), Some("Wrong user name or password."));
    }

    #[test]
    fn success_hands_the_session_over_and_forgets_the_password() {
        let mut login = filled(Mode::LogIn);
        let _ = login.update(Message::Submit);
        let address = ServerAddress::parse("127.0.0.1:8000", "").expect("valid");
        let user =
            UserProfile { id: 1, username: "alice".into(), display_name: "Alice".into(), avatar_url: None };
        let session =
            LoggedIn { api: Api::new(&address, &Trust::in_memory()).with_token("t".into()), address, user };
        let (_, event) = login.update(Message::Finished(Ok(session)));
        assert!(matches!(event, Some(Event::LoggedIn(LoggedIn { user, .. })) if user.id == 1));
        assert!(login.password.is_empty());
        assert!(!login.busy);
    }

    #[test]
    fn switching_modes_clears_the_error_and_digits_only_for_ports() {
        let mut login = filled(Mode::LogIn);
        login.error = Some("old".into());
        let _ = login.update(Message::ModeSwitched);
        assert_eq!(login.mode, Mode::Register);
        assert!(login.error.is_none());
        let _ = login.update(Message::SocketPortChanged("81a0 19999".into()));
        assert_eq!(login.socket_port, "81019");
    }
}

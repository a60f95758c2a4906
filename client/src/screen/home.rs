//! The main window after login: the user's own name and avatar, the connection status,
//! profile editing, settings and log out.

use crate::api::ApiError;
use crate::history::History;
use crate::screen::login::LoggedIn;
use crate::settings::Settings;
use crate::socket::{self, Connection};
use crate::widget::{self, BOLD, Element};
use iced::widget::{button, checkbox, column, container, image, row, scrollable, text, text_input};
use iced::{Alignment, Background, Border, Color, Length, Task, Theme};
use kith_shared::ErrorCode;
use kith_shared::api::{ChangePasswordRequest, UpdateProfileRequest, UserProfile, limits};
use kith_shared::frame::KickReason;
use std::time::Duration;

/// Widget ids, for focus and tests.
pub mod id {
    pub const DISPLAY_NAME: &str = "profile-display-name";
    pub const OLD_PASSWORD: &str = "profile-old-password";
    pub const NEW_PASSWORD: &str = "profile-new-password";
    pub const CONFIRM_PASSWORD: &str = "profile-confirm-password";
}

/// The state of the realtime link, as the status line shows it.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum Status {
    /// The first connection is being made.
    Connecting,
    Online,
    /// The link dropped; the next attempt comes after `retry_in`.
    Reconnecting {
        reason: String,
        retry_in: Duration,
    },
}

impl Status {
    pub fn describe(&self) -> String {
        match self {
            Status::Connecting => "Connecting…".to_owned(),
            Status::Online => "Online".to_owned(),
            Status::Reconnecting { retry_in, .. } => {
                format!("Offline, reconnecting in {} s", retry_in.as_secs().max(1))
            }
        }
    }
}

/// The side panel on the right.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum Panel {
    Profile(ProfileForm),
    Settings,
}

#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct ProfileForm {
    pub display_name: String,
    pub old_password: String,
    pub new_password: String,
    pub confirm_password: String,
    pub busy: bool,
    pub error: Option<String>,
    pub info: Option<String>,
}

pub struct Home {
    pub session: LoggedIn,
    pub status: Status,
    pub connection: Option<Connection>,
    pub avatar: Option<image::Handle>,
    pub panel: Option<Panel>,
    pub history: Option<History>,
    pub logging_out: bool,
}

#[derive(Debug, Clone)]
pub enum Message {
    OpenProfile,
    OpenSettings,
    ClosePanel,
    DisplayNameChanged(String),
    OldPasswordChanged(String),
    NewPasswordChanged(String),
    ConfirmPasswordChanged(String),
    SaveDisplayName,
    DisplayNameSaved(Result<UserProfile, ApiError>),
    SavePassword,
    PasswordSaved(Result<(), ApiError>),
    SoundToggled(bool),
    NotificationsToggled(bool),
    AvatarLoaded(Result<Vec<u8>, ApiError>),
    HistoryOpened(Result<History, String>),
    LogOut,
    LoggedOut(Result<(), ApiError>),
}

/// What the root must act on.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum Event {
    /// The user logged out.
    LoggedOut,
    /// The server ended the session; say why and go back to the login screen.
    SessionEnded {
        title: String,
        body: String,
    },
    SoundChanged(bool),
    NotificationsChanged(bool),
}

impl Home {
    /// The main window for a fresh session, with the tasks that load its avatar and history.
    pub fn new(session: LoggedIn, history_path: Option<std::path::PathBuf>) -> (Self, Task<Message>) {
        let mut tasks = vec![];
        if let Some(path) = history_path {
            tasks.push(Task::perform(
                async move { History::open(&path).await.map_err(|err| err.to_string()) },
                Message::HistoryOpened,
            ));
        }
        let home = Self {
            session,
            status: Status::Connecting,
            connection: None,
            avatar: None,
            panel: None,
            history: None,
            logging_out: false,
        };
        tasks.push(home.load_avatar());
        (home, Task::batch(tasks))
    }

    pub fn user(&self) -> &UserProfile {
        &self.session.user
    }

    /// What identifies this session's socket subscription.
    pub fn socket_params(&self) -> Option<socket::Params> {
        let token = self.session.api.token()?.to_owned();
        (!self.logging_out).then(|| socket::Params::new(self.session.address.socket_target(), token))
    }

    fn load_avatar(&self) -> Task<Message> {
        match &self.session.user.avatar_url {
            Some(path) => {
                let api = self.session.api.clone();
                let path = path.clone();
                Task::perform(async move { api.bytes(&path).await }, Message::AvatarLoaded)
            }
            None => Task::none(),
        }
    }

    /// A socket event for this session.
    pub fn socket(&mut self, event: socket::Event) -> (Task<Message>, Option<Event>) {
        match event {
            socket::Event::Connected { connection, user, .. } => {
                self.status = Status::Online;
                self.connection = Some(connection);
                return (self.set_user(user), None);
            }
            socket::Event::Disconnected { reason, retry_in } => {
                self.connection = None;
                self.status = Status::Reconnecting { reason, retry_in };
            }
            socket::Event::Received(frame) => {
                tracing::debug!(?frame, "frame from the server");
            }
            socket::Event::Kicked { reason, message } => {
                self.connection = None;
                let body = match reason {
                    KickReason::LoggedInElsewhere => "This account logged in elsewhere.".to_owned(),
                    KickReason::LoggedOut | KickReason::TooSlow => {
                        format!("You were logged out by the server ({message}).")
                    }
                };
                return (Task::none(), Some(Event::SessionEnded { title: "Logged out".to_owned(), body }));
            }
            socket::Event::Refused { code, message } => {
                self.connection = None;
                let body = crate::api::plain_code(code, &message);
                let title = if code == ErrorCode::Unauthorized { "Session ended" } else { "Cannot connect" };
                return (Task::none(), Some(Event::SessionEnded { title: title.to_owned(), body }));
            }
        }
        (Task::none(), None)
    }

    /// Takes a newer profile of the user, fetching the avatar again when it changed.
    fn set_user(&mut self, user: UserProfile) -> Task<Message> {
        let avatar_changed = user.avatar_url != self.session.user.avatar_url;
        self.session.user = user;
        if avatar_changed {
            self.avatar = None;
            self.load_avatar()
        } else {
            Task::none()
        }
    }

    pub fn update(&mut self, message: Message) -> (Task<Message>, Option<Event>) {
        match message {
            Message::OpenProfile => {
                self.panel = Some(Panel::Profile(ProfileForm {
                    display_name: self.session.user.display_name.clone(),
                    ..ProfileForm::default()
                }));
                return (iced::widget::operation::focus(id::DISPLAY_NAME), None);
            }
            Message::OpenSettings => self.panel = Some(Panel::Settings),
            Message::ClosePanel => self.panel = None,
            Message::DisplayNameChanged(value) => self.with_form(|form| form.display_name = value),
            Message::OldPasswordChanged(value) => self.with_form(|form| form.old_password = value),
            Message::NewPasswordChanged(value) => self.with_form(|form| form.new_password = value),
            Message::ConfirmPasswordChanged(value) => self.with_form(|form| form.confirm_password = value),
            Message::SaveDisplayName => return (self.save_display_name(), None),
            Message::DisplayNameSaved(result) => {
                let ended = result.as_ref().err().and_then(session_over);
                let task = match result {
                    Ok(user) => {
                        self.with_form(|form| form.info = Some("Display name saved.".to_owned()));
                        self.set_user(user)
                    }
                    Err(err) => {
                        self.with_form(|form| form.error = Some(err.plain()));
                        Task::none()
                    }
                };
                self.with_form(|form| form.busy = false);
                return (task, ended);
            }
            Message::SavePassword => return (self.save_password(), None),
            Message::PasswordSaved(result) => {
                let ended = result.as_ref().err().and_then(session_over);
                self.with_form(|form| {
                    form.busy = false;
                    match &result {
                        Ok(()) => {
                            form.old_password.clear();
                            form.new_password.clear();
                            form.confirm_password.clear();
                            form.info = Some("Password changed. Other sessions were logged out.".to_owned());
                        }
                        Err(err) => form.error = Some(err.plain()),
                    }
                });
                return (Task::none(), ended);
            }
            Message::SoundToggled(on) => return (Task::none(), Some(Event::SoundChanged(on))),
            Message::NotificationsToggled(on) => {
                return (Task::none(), Some(Event::NotificationsChanged(on)));
            }
            Message::AvatarLoaded(Ok(bytes)) => self.avatar = Some(image::Handle::from_bytes(bytes)),
            Message::AvatarLoaded(Err(err)) => tracing::warn!(%err, "cannot load the avatar"),
            Message::HistoryOpened(Ok(history)) => self.history = Some(history),
            Message::HistoryOpened(Err(err)) => {
                tracing::warn!(%err, "local history unavailable; chats are not kept on this machine");
            }
            Message::LogOut => {
                if self.logging_out {
                    return (Task::none(), None);
                }
                // Stop the socket at once; the server closes the session on its side.
                self.logging_out = true;
                self.connection = None;
                let api = self.session.api.clone();
                return (Task::perform(async move { api.logout().await }, Message::LoggedOut), None);
            }
            Message::LoggedOut(result) => {
                if let Err(err) = result {
                    // The token stays valid on a server we cannot reach; it expires there.
                    tracing::warn!(%err, "logout request failed; leaving anyway");
                }
                return (Task::none(), Some(Event::LoggedOut));
            }
        }
        (Task::none(), None)
    }

    fn with_form(&mut self, f: impl FnOnce(&mut ProfileForm)) {
        if let Some(Panel::Profile(form)) = &mut self.panel {
            f(form);
        }
    }

    fn save_display_name(&mut self) -> Task<Message> {
        let Some(Panel::Profile(form)) = &mut self.panel else { return Task::none() };
        if form.busy {
            return Task::none();
        }
        let name = form.display_name.trim().to_owned();
        form.info = None;
        if name.is_empty() || name.chars().count() > limits::DISPLAY_NAME_MAX {
            form.error = Some(format!("A display name has 1 to {} characters.", limits::DISPLAY_NAME_MAX));
            return Task::none();
        }
        form.error = None;
        form.busy = true;
        let api = self.session.api.clone();
        let request = UpdateProfileRequest { display_name: Some(name) };
        Task::perform(async move { api.update_profile(&request).await }, Message::DisplayNameSaved)
    }

    fn save_password(&mut self) -> Task<Message> {
        let Some(Panel::Profile(form)) = &mut self.panel else { return Task::none() };
        if form.busy {
            return Task::none();
        }
        form.info = None;
        let problem = if form.old_password.is_empty() {
            Some("Enter your current password.".to_owned())
        } else if form.new_password.len() < limits::PASSWORD_MIN {
            Some(format!("A new password has at least {} characters.", limits::PASSWORD_MIN))
        } else if form.new_password != form.confirm_password {
            Some("The new password and its confirmation differ.".to_owned())
        } else {
            None
        };
        if let Some(problem) = problem {
            form.error = Some(problem);
            return Task::none();
        }
        form.error = None;
        form.busy = true;
        let api = self.session.api.clone();
        let request = ChangePasswordRequest {
            old_password: form.old_password.clone(),
            new_password: form.new_password.clone(),
        };
        Task::perform(async move { api.change_password(&request).await }, Message::PasswordSaved)
    }

    pub fn view<'a>(&'a self, settings: &'a Settings) -> Element<'a, Message> {
        let sidebar = container(column![self.header(), self.lists()].spacing(12))
            .width(320)
            .height(Length::Fill)
            .padding(14)
            .style(|theme: &Theme| container::Style {
                background: Some(Background::Color(Color::WHITE)),
                border: Border {
                    width: 1.0,
                    color: theme.extended_palette().background.strong.color,
                    ..Border::default()
                },
                ..container::Style::default()
            });
        let main: Element<'a, Message> = match &self.panel {
            Some(Panel::Profile(form)) => self.profile_view(form),
            Some(Panel::Settings) => settings_view(settings),
            None => container(text("No conversation open").size(16).style(text::secondary))
                .center(Length::Fill)
                .into(),
        };
        row![sidebar, container(main).width(Length::Fill).height(Length::Fill).padding(20)].into()
    }

    fn header(&self) -> Element<'_, Message> {
        let user = &self.session.user;
        let online = self.status == Status::Online;
        let status =
            row![widget::presence_dot(online), text(self.status.describe()).size(13).style(text::secondary)]
                .spacing(6)
                .align_y(Alignment::Center);
        let identity = column![
            text(user.display_name.clone()).size(18).font(BOLD),
            text(format!("@{}", user.username)).size(13).style(text::secondary),
            status
        ]
        .spacing(2);
        let small = |label: &'static str, message: Message| {
            button(text(label).size(13)).style(button::secondary).padding([4, 10]).on_press(message)
        };
        column![
            row![widget::avatar(&user.display_name, user.id, self.avatar.as_ref(), 52.0), identity]
                .spacing(12)
                .align_y(Alignment::Center),
            row![
                small("Profile", Message::OpenProfile),
                small("Settings", Message::OpenSettings),
                iced::widget::space().width(Length::Fill),
                button(text(if self.logging_out { "Logging out…" } else { "Log out" }).size(13))
                    .style(button::danger)
                    .padding([4, 10])
                    .on_press_maybe((!self.logging_out).then_some(Message::LogOut)),
            ]
            .spacing(6),
        ]
        .spacing(12)
        .into()
    }

    fn lists(&self) -> Element<'_, Message> {
        scrollable(column![text("Conversations appear here.").size(13).style(text::secondary)].spacing(4))
            .height(Length::Fill)
            .into()
    }

    fn profile_view<'a>(&'a self, form: &'a ProfileForm) -> Element<'a, Message> {
        let input = |placeholder: &str, value: &'a str, id: &'static str, on: fn(String) -> Message| {
            let input = text_input(placeholder, value).id(id).padding(8);
            if form.busy { input } else { input.on_input(on) }
        };
        let mut content = column![
            row![
                text("Profile").size(22).font(BOLD),
                iced::widget::space().width(Length::Fill),
                button(text("Close")).style(button::text).on_press(Message::ClosePanel)
            ]
            .align_y(Alignment::Center),
            text("Display name").size(14),
            row![
                input(
                    "The name others see",
                    &form.display_name,
                    id::DISPLAY_NAME,
                    Message::DisplayNameChanged
                )
                .on_submit(Message::SaveDisplayName),
                button(text("Save"))
                    .on_press_maybe((!form.busy).then_some(Message::SaveDisplayName))
                    .padding([8, 16]),
            ]
            .spacing(8),
            text("Change password").size(16).font(BOLD),
            input("Current password", &form.old_password, id::OLD_PASSWORD, Message::OldPasswordChanged)
                .secure(true),
            input("New password", &form.new_password, id::NEW_PASSWORD, Message::NewPasswordChanged)
                .secure(true),
            input(
                "New password again",
                &form.confirm_password,
                id::CONFIRM_PASSWORD,
                Message::ConfirmPasswordChanged
            )
            .secure(true)
            .on_submit(Message::SavePassword),
            button(text("Change password"))
                .on_press_maybe((!form.busy).then_some(Message::SavePassword))
                .padding([8, 16]),
        ]
        .spacing(10)
        .max_width(480);
        if let Some(error) = &form.error {
            content = content.push(widget::error_line(error));
        }
        if let Some(info) = &form.info {
            content = content.push(text(info.clone()).size(14).style(text::success));
        }
        content.into()
    }
}

/// An HTTP answer saying the token is no longer valid ends the session.
fn session_over(err: &ApiError) -> Option<Event> {
    (err.code() == Some(ErrorCode::Unauthorized))
        .then(|| Event::SessionEnded { title: "Session ended".to_owned(), body: err.plain() })
}

fn settings_view(settings: &Settings) -> Element<'_, Message> {
    let sound_label = if crate::sound::AVAILABLE {
        "Play a sound on new messages"
    } else {
        "Play a sound on new messages (this build has no sound)"
    };
    column![
        row![
            text("Settings").size(22).font(BOLD),
            iced::widget::space().width(Length::Fill),
            button(text("Close")).style(button::text).on_press(Message::ClosePanel)
        ]
        .align_y(Alignment::Center),
        checkbox(settings.sound)
            .label(sound_label)
            .on_toggle_maybe(crate::sound::AVAILABLE.then_some(Message::SoundToggled)),
        checkbox(settings.notifications)
            .label("Flash the window on new messages while it is in the background")
            .on_toggle(Message::NotificationsToggled),
        text(format!("Server: {}", settings.server)).size(13).style(text::secondary),
    ]
    .spacing(16)
    .max_width(520)
    .into()
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::address::ServerAddress;
    use crate::api::Api;

    pub fn session() -> LoggedIn {
        let address = ServerAddress::parse("127.0.0.1:8000", "").expect("valid");
        LoggedIn {
            api: Api::new(&address).with_token("token".into()),
            address,
            user: UserProfile {
                id: 7,
                username: "alice".into(),
                display_name: "Alice".into(),
                avatar_url: None,
            },
        }
    }

    #[test]
    fn status_follows_the_socket() {
        let (mut home, _) = Home::new(session(), None);
        assert_eq!(home.status, Status::Connecting);
        let (_, event) = home.socket(socket::Event::Disconnected {
            reason: "refused".into(),
            retry_in: Duration::from_secs(4),
        });
        assert!(event.is_none());
        assert_eq!(home.status.describe(), "Offline, reconnecting in 4 s");
        assert!(home.connection.is_none());
    }

    #[test]
    fn kicked_elsewhere_ends_the_session_with_the_reason() {
        let (mut home, _) = Home::new(session(), None);
        let (_, event) = home.socket(socket::Event::Kicked {
            reason: KickReason::LoggedInElsewhere,
            message: "this account logged in elsewhere".into(),
        });
        assert_eq!(
            event,
            Some(Event::SessionEnded {
                title: "Logged out".into(),
                body: "This account logged in elsewhere.".into()
            })
        );
    }

    #[test]
    fn a_refused_token_ends_the_session() {
        let (mut home, _) = Home::new(session(), None);
        let (_, event) =
            home.socket(socket::Event::Refused { code: ErrorCode::Unauthorized, message: "expired".into() });
        assert!(matches!(event, Some(Event::SessionEnded { body, .. }) if body.contains("Log in again")));
    }

    #[test]
    fn logging_out_stops_the_socket_then_reports() {
        let (mut home, _) = Home::new(session(), None);
        assert!(home.socket_params().is_some());
        let (_, event) = home.update(Message::LogOut);
        assert!(event.is_none());
        assert!(home.socket_params().is_none(), "the subscription ends while logging out");
        let unreachable = ApiError::Unreachable { address: "x".into(), detail: "down".into() };
        let (_, event) = home.update(Message::LoggedOut(Err(unreachable)));
        assert_eq!(event, Some(Event::LoggedOut));
    }

    #[test]
    fn profile_form_checks_before_sending() {
        let (mut home, _) = Home::new(session(), None);
        let _ = home.update(Message::OpenProfile);
        let _ = home.update(Message::DisplayNameChanged("   ".into()));
        let _ = home.update(Message::SaveDisplayName);
        let Some(Panel::Profile(form)) = &home.panel else { panic!("profile open") };
        assert!(form.error.as_deref().is_some_and(|e| e.starts_with("A display name has 1 to 64")));
        assert!(!form.busy);

        let _ = home.update(Message::OldPasswordChanged("old password".into()));
        let _ = home.update(Message::NewPasswordChanged("new password".into()));
        let _ = home.update(Message::ConfirmPasswordChanged("new passw0rd".into()));
        let _ = home.update(Message::SavePassword);
        let Some(Panel::Profile(form)) = &home.panel else { panic!("profile open") };
        assert_eq!(form.error.as_deref(), Some("The new password and its confirmation differ."));

        let _ = home.update(Message::ConfirmPasswordChanged("new password".into()));
        let _ = home.update(Message::SavePassword);
        let Some(Panel::Profile(form)) = &home.panel else { panic!("profile open") };
        assert!(form.busy && form.error.is_none());
        let _ = home.update(Message::PasswordSaved(Ok(())));
        let Some(Panel::Profile(form)) = &home.panel else { panic!("profile open") };
        assert!(!form.busy && form.old_password.is_empty() && form.info.is_some());
    }

    #[test]
    fn a_saved_display_name_shows_at_once() {
        let (mut home, _) = Home::new(session(), None);
        let _ = home.update(Message::OpenProfile);
        let _ = home.update(Message::DisplayNameChanged("Alice L.".into()));
        let _ = home.update(Message::SaveDisplayName);
        let saved = UserProfile { display_name: "Alice L.".into(), ..home.user().clone() };
        let _ = home.update(Message::DisplayNameSaved(Ok(saved)));
        assert_eq!(home.user().display_name, "Alice L.");
    }
}

//! The profile panel: one's picture, display name and password.

use crate::api::{Api, ApiError};
use crate::widget::{self, BOLD, Element};
use iced::widget::{button, column, image, row, text, text_input};
use iced::{Alignment, Task};
use kith_shared::api::{ChangePasswordRequest, UpdateProfileRequest, UserProfile, limits};

/// Widget ids, for focus and tests.
pub mod id {
    pub const DISPLAY_NAME: &str = "profile-display-name";
    pub const OLD_PASSWORD: &str = "profile-old-password";
    pub const NEW_PASSWORD: &str = "profile-new-password";
    pub const CONFIRM_PASSWORD: &str = "profile-confirm-password";
}

#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct Profile {
    pub display_name: String,
    pub old_password: String,
    pub new_password: String,
    pub confirm_password: String,
    pub busy: bool,
    pub error: Option<String>,
    pub info: Option<String>,
}

#[derive(Debug, Clone)]
pub enum Message {
    DisplayNameChanged(String),
    OldPasswordChanged(String),
    NewPasswordChanged(String),
    ConfirmPasswordChanged(String),
    SaveDisplayName,
    DisplayNameSaved(Result<UserProfile, ApiError>),
    SavePassword,
    PasswordSaved(Result<(), ApiError>),
    /// Choose a picture for one's avatar.
    ChooseAvatar,
    AvatarSaved(Result<UserProfile, ApiError>),
    Close,
}

/// What the main window must act on.
#[derive(Debug, Clone)]
pub enum Event {
    /// The server took a new profile.
    Saved(UserProfile),
    ChooseAvatar,
    /// A request failed (the session may have ended).
    Failed(ApiError),
    Close,
}

impl Profile {
    /// The panel for this user, focusing the display name.
    pub fn open(user: &UserProfile) -> (Self, Task<Message>) {
        let form = Self { display_name: user.display_name.clone(), ..Self::default() };
        (form, iced::widget::operation::focus(id::DISPLAY_NAME))
    }

    /// The panel while a chosen picture uploads.
    pub fn uploading(user: &UserProfile, api: &Api, path: std::path::PathBuf) -> (Self, Task<Message>) {
        let form = Self { display_name: user.display_name.clone(), busy: true, ..Self::default() };
        let api = api.clone();
        let upload = async move {
            let bytes = crate::files::read_picture(&path).await?;
            api.set_avatar(bytes).await
        };
        (form, Task::perform(upload, Message::AvatarSaved))
    }

    pub fn update(&mut self, message: Message, api: &Api) -> (Task<Message>, Option<Event>) {
        match message {
            Message::DisplayNameChanged(value) => self.display_name = value,
            Message::OldPasswordChanged(value) => self.old_password = value,
            Message::NewPasswordChanged(value) => self.new_password = value,
            Message::ConfirmPasswordChanged(value) => self.confirm_password = value,
            Message::SaveDisplayName => return (self.save_display_name(api), None),
            Message::SavePassword => return (self.save_password(api), None),
            Message::ChooseAvatar => return (Task::none(), Some(Event::ChooseAvatar)),
            Message::Close => return (Task::none(), Some(Event::Close)),
            Message::DisplayNameSaved(result) => return self.saved(result, t!("profile-name-saved")),
            Message::AvatarSaved(result) => return self.saved(result, t!("profile-picture-changed")),
            Message::PasswordSaved(result) => {
                self.busy = false;
                match result {
                    Ok(()) => {
                        self.old_password.clear();
                        self.new_password.clear();
                        self.confirm_password.clear();
                        self.info = Some(t!("profile-password-changed"));
                    }
                    Err(err) => {
                        self.error = Some(err.plain());
                        return (Task::none(), Some(Event::Failed(err)));
                    }
                }
            }
        }
        (Task::none(), None)
    }

    /// The server answered a change of profile; `words` say it was saved.
    fn saved(
        &mut self,
        result: Result<UserProfile, ApiError>,
        words: String,
    ) -> (Task<Message>, Option<Event>) {
        self.busy = false;
        match result {
            Ok(user) => {
                self.info = Some(words);
                (Task::none(), Some(Event::Saved(user)))
            }
            Err(err) => {
                self.error = Some(err.plain());
                (Task::none(), Some(Event::Failed(err)))
            }
        }
    }

    fn save_display_name(&mut self, api: &Api) -> Task<Message> {
        if self.busy {
            return Task::none();
        }
        let name = self.display_name.trim().to_owned();
        self.info = None;
        if name.is_empty() || name.chars().count() > limits::DISPLAY_NAME_MAX {
            self.error = Some(t!("error-invalid-display-name", max = limits::DISPLAY_NAME_MAX));
            return Task::none();
        }
        self.error = None;
        self.busy = true;
        let api = api.clone();
        let request = UpdateProfileRequest { display_name: Some(name) };
        Task::perform(async move { api.update_profile(&request).await }, Message::DisplayNameSaved)
    }

    fn save_password(&mut self, api: &Api) -> Task<Message> {
        if self.busy {
            return Task::none();
        }
        self.info = None;
        let problem = if self.old_password.is_empty() {
            Some(t!("profile-enter-current-password"))
        } else if self.new_password.len() < limits::PASSWORD_MIN {
            Some(t!("profile-new-password-length", min = limits::PASSWORD_MIN))
        } else if self.new_password != self.confirm_password {
            Some(t!("profile-passwords-differ"))
        } else {
            None
        };
        if let Some(problem) = problem {
            self.error = Some(problem);
            return Task::none();
        }
        self.error = None;
        self.busy = true;
        let api = api.clone();
        let request = ChangePasswordRequest {
            old_password: self.old_password.clone(),
            new_password: self.new_password.clone(),
        };
        Task::perform(async move { api.change_password(&request).await }, Message::PasswordSaved)
    }

    pub fn view<'a>(
        &'a self,
        user: &'a UserProfile,
        avatar: Option<&'a image::Handle>,
    ) -> Element<'a, Message> {
        let input = |placeholder: &str, value: &'a str, id: &'static str, on: fn(String) -> Message| {
            let input = text_input(placeholder, value).id(id).padding(8);
            if self.busy { input } else { input.on_input(on) }
        };
        let idle = |message: Message| (!self.busy).then_some(message);
        let mut content = column![
            widget::panel_title(&t!("profile"), Message::Close),
            row![
                widget::avatar(&user.display_name, user.id, avatar, 64.0),
                button(text(t!("profile-change-picture")))
                    .style(button::secondary)
                    .on_press_maybe(idle(Message::ChooseAvatar))
                    .padding([6, 14]),
            ]
            .spacing(14)
            .align_y(Alignment::Center),
            text(t!("login-display-name")).size(14),
            row![
                input(
                    &t!("login-display-name-placeholder"),
                    &self.display_name,
                    id::DISPLAY_NAME,
                    Message::DisplayNameChanged
                )
                .on_submit(Message::SaveDisplayName),
                button(text(t!("save"))).on_press_maybe(idle(Message::SaveDisplayName)).padding([8, 16]),
            ]
            .spacing(8),
            text(t!("profile-change-password")).size(16).font(BOLD),
            input(
                &t!("profile-current-password"),
                &self.old_password,
                id::OLD_PASSWORD,
                Message::OldPasswordChanged
            )
            .secure(true)
            .on_submit(Message::SavePassword),
            input(
                &t!("profile-new-password"),
                &self.new_password,
                id::NEW_PASSWORD,
                Message::NewPasswordChanged
            )
            .secure(true)
            .on_submit(Message::SavePassword),
            input(
                &t!("profile-new-password-again"),
                &self.confirm_password,
                id::CONFIRM_PASSWORD,
                Message::ConfirmPasswordChanged
            )
            .secure(true)
            .on_submit(Message::SavePassword),
            button(text(t!("profile-change-password")))
                .on_press_maybe(idle(Message::SavePassword))
                .padding([8, 16]),
        ]
        .spacing(10)
        .max_width(480);
        if let Some(error) = &self.error {
            content = content.push(widget::error_line(error));
        }
        if let Some(info) = &self.info {
            content = content.push(text(info.clone()).size(14).style(text::success));
        }
        content.into()
    }
}

//! The settings panel: sound, notifications, theme, where received files go, the server with
//! *Switch account*, and the people the user blocks (each with *Unblock*).

use crate::api::{Api, ApiError};
use crate::i18n::Language;
use crate::roster::{List, Roster};
use crate::settings::Settings;
use crate::widget::{self, Element};
use iced::widget::{button, checkbox, column, pick_list, row, text};
use iced::{Alignment, Length, Task};
use kith_shared::api::BlockedUser;
use kith_shared::{ServerFrame, UserId};

#[derive(Debug, Clone)]
pub enum Message {
    SoundToggled(bool),
    NotificationsToggled(bool),
    DarkToggled(bool),
    /// Choose another folder for received files.
    ChangeDownloads,
    LanguageChosen(Language),
    /// Back to the login screen's list of accounts, this one staying signed in.
    SwitchAccount,
    /// The block list arrived (or not).
    BlocksLoaded(Result<Vec<BlockedUser>, ApiError>),
    Unblock(UserId),
    Unblocked(UserId, Result<(), ApiError>),
    Close,
}

/// The panel's own state; the block list itself is the roster's (kept current from every
/// device of the user).
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct Blocked {
    /// Whom an *Unblock* is on its way for.
    pub unblocking: Option<UserId>,
    /// The last failure, in plain words.
    pub error: Option<String>,
}

impl Blocked {
    /// The panel opened: the block list is asked for again.
    pub fn open(api: &Api, roster: &mut Roster) -> (Self, Task<Message>) {
        roster.fetch_started(List::Blocked);
        (Self::default(), load(api))
    }

    /// Handles the block list's messages; returns the failure the window should see (a
    /// session that ended), if any.
    pub fn update(
        &mut self,
        message: Message,
        api: &Api,
        roster: &mut Roster,
    ) -> (Task<Message>, Option<ApiError>) {
        match message {
            Message::BlocksLoaded(result) => {
                if let Err(err) = blocks_loaded(result, roster) {
                    self.unblocking = None;
                    self.error = Some(err.plain());
                    return (Task::none(), Some(err));
                }
                self.error = None;
            }
            Message::Unblock(user) if self.unblocking.is_none() => {
                self.unblocking = Some(user);
                let api = api.clone();
                let unblock = async move { api.unblock(user).await };
                return (Task::perform(unblock, move |result| Message::Unblocked(user, result)), None);
            }
            Message::Unblocked(user, Ok(())) => {
                self.unblocking = None;
                // As the server tells every device of the user (this one too, when online).
                roster.apply(&ServerFrame::UserUnblocked { user_id: user });
                self.error = None;
            }
            Message::Unblocked(_, Err(err)) => {
                self.unblocking = None;
                self.error = Some(err.plain());
                return (Task::none(), Some(err));
            }
            _ => {}
        }
        (Task::none(), None)
    }
}

/// The block list's answer goes to the roster, the panel still open or not: the list is the
/// roster's. Returns the failure, if any.
pub fn blocks_loaded(
    result: Result<Vec<BlockedUser>, ApiError>,
    roster: &mut Roster,
) -> Result<(), ApiError> {
    match result {
        Ok(list) => {
            roster.blocks_fetched(list);
            Ok(())
        }
        Err(err) => {
            roster.fetch_failed(List::Blocked);
            Err(err)
        }
    }
}

fn load(api: &Api) -> Task<Message> {
    let api = api.clone();
    Task::perform(async move { api.blocks().await }, Message::BlocksLoaded)
}

/// The panel; `list` is the block list (`None` until it arrived), `downloads` where received
/// files go.
pub fn view<'a>(
    settings: &'a Settings,
    blocked: &'a Blocked,
    list: Option<&'a [BlockedUser]>,
    downloads: Option<&std::path::Path>,
) -> Element<'a, Message> {
    let sound_label =
        if crate::sound::AVAILABLE { t!("settings-sound") } else { t!("settings-sound-unavailable") };
    let language = row![
        text(t!("settings-language")),
        pick_list(Language::ALL, Some(settings.language), Message::LanguageChosen),
    ]
    .spacing(8)
    .align_y(Alignment::Center);
    column![
        widget::panel_title(&t!("settings-title"), Message::Close),
        checkbox(settings.sound)
            .label(sound_label)
            .on_toggle_maybe(crate::sound::AVAILABLE.then_some(Message::SoundToggled)),
        checkbox(settings.notifications)
            .label(t!("settings-notifications"))
            .on_toggle(Message::NotificationsToggled),
        checkbox(settings.dark).label(t!("settings-dark")).on_toggle(Message::DarkToggled),
        language,
        downloads_view(downloads),
        row![
            text(t!("settings-server", server = &settings.server))
                .size(13)
                .style(text::secondary)
                .width(Length::Fill),
            button(text(t!("switch-account")).size(13))
                .style(button::secondary)
                .padding([4, 10])
                .on_press(Message::SwitchAccount),
        ]
        .spacing(8)
        .align_y(Alignment::Center),
        blocked_view(blocked, list),
    ]
    .spacing(16)
    .max_width(520)
    .into()
}

/// Where received files go, with a button to choose another folder.
fn downloads_view<'a>(downloads: Option<&std::path::Path>) -> Element<'a, Message> {
    let folder =
        downloads.map_or_else(|| t!("settings-downloads-none"), |folder| folder.display().to_string());
    row![
        column![text(t!("settings-downloads")).size(13), text(folder).size(13).style(text::secondary),]
            .spacing(2)
            .width(Length::Fill),
        button(text(t!("settings-change-downloads")).size(13))
            .style(button::secondary)
            .padding([4, 10])
            .on_press(Message::ChangeDownloads),
    ]
    .spacing(8)
    .align_y(Alignment::Center)
    .into()
}

/// "Blocked people": who they are, each with *Unblock*.
fn blocked_view<'a>(blocked: &'a Blocked, list: Option<&'a [BlockedUser]>) -> Element<'a, Message> {
    let mut section = column![
        text(t!("blocked-title")).size(16).font(widget::BOLD),
        text(t!("blocked-explained")).size(13).style(text::secondary),
    ]
    .spacing(8);
    match list {
        None => section = section.push(text(t!("loading")).size(13).style(text::secondary)),
        Some([]) => section = section.push(text(t!("blocked-none")).size(13)),
        Some(list) => {
            for entry in list {
                let user = &entry.user;
                let unblock = button(text(t!("unblock")).size(13)).style(button::secondary).padding([4, 10]);
                section = section.push(
                    row![
                        widget::emoji_text(&user.display_name, 14.0, widget::FONT, text::default),
                        text(format!("@{}", user.username)).size(13).style(text::secondary),
                        iced::widget::space().width(Length::Fill),
                        unblock.on_press_maybe(
                            blocked.unblocking.is_none().then_some(Message::Unblock(user.id))
                        ),
                    ]
                    .spacing(8)
                    .align_y(Alignment::Center),
                );
            }
        }
    }
    if let Some(error) = &blocked.error {
        section = section.push(text(error.clone()).size(13).style(text::danger));
    }
    section.into()
}

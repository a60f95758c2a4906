//! The settings panel: sound, notifications and theme.

use crate::settings::Settings;
use crate::widget::{self, Element};
use iced::widget::{checkbox, column, text};

pub const DARK_LABEL: &str = "Dark theme";
pub const NOTIFICATIONS_LABEL: &str =
    "Show a desktop notification on new messages while the window is in the background";

#[derive(Debug, Clone)]
pub enum Message {
    SoundToggled(bool),
    NotificationsToggled(bool),
    DarkToggled(bool),
    Close,
}

pub fn view(settings: &Settings) -> Element<'_, Message> {
    let sound_label = if crate::sound::AVAILABLE {
        "Play a sound on new messages"
    } else {
        "Play a sound on new messages (this build has no sound)"
    };
    column![
        widget::panel_title("Settings", Message::Close),
        checkbox(settings.sound)
            .label(sound_label)
            .on_toggle_maybe(crate::sound::AVAILABLE.then_some(Message::SoundToggled)),
        checkbox(settings.notifications).label(NOTIFICATIONS_LABEL).on_toggle(Message::NotificationsToggled),
        checkbox(settings.dark).label(DARK_LABEL).on_toggle(Message::DarkToggled),
        text(format!("Server: {}", settings.server)).size(13).style(text::secondary),
    ]
    .spacing(16)
    .max_width(520)
    .into()
}

//! The Kith desktop client as a library: the app (`App`, its screens and the modules they
//! stand on) and [`run`], which opens its window. The `kith` binary parses its arguments and
//! calls [`run`]; the end-to-end tests (the `kith-e2e` crate) drive `App` against a real
//! server without a window.

#[macro_use]
pub mod i18n;
pub mod accounts;
mod address;
pub mod api;
pub mod app;
pub mod clock;
mod emoji;
pub mod file_dialog;
pub mod files;
#[cfg(any(test, feature = "headless"))]
pub mod headless;
pub mod history;
mod keyring;
pub mod mentions;
mod notify;
mod offline;
pub mod roster;
pub mod screen;
mod selectable_text;
pub mod session;
pub mod settings;
mod signed_in;
pub mod socket;
mod sound;
#[cfg(test)]
mod test_bus;
mod transfer;
pub mod trust;
mod widget;

#[cfg(test)]
mod tests;

use app::{App, Setup};
use settings::Settings;

/// Opens the client's window and runs it until it closes: the saved settings, the history
/// folder and a `server.conf` nearby are found first. Logging is the caller's to set up.
pub fn run() -> iced::Result {
    let settings_path = Settings::default_path();
    let saved = match settings_path.as_deref().map(Settings::load) {
        Some(Ok(saved)) => saved,
        Some(Err(err)) => {
            tracing::warn!(%err, "ignoring the saved settings");
            None
        }
        None => None,
    };
    i18n::set(saved.as_ref().map(|s| s.language).unwrap_or_default().resolve());
    let window = window_settings(saved.as_ref().and_then(|s| s.window));
    let setup = Setup {
        settings_saved: saved.is_some(),
        settings: saved.unwrap_or_default(),
        settings_path,
        data_root: history::History::default_root(),
        trust: None,
        keyring: keyring::Keyring::session(),
        server_conf: address::ServerConf::find(),
        sound: sound::Sound::start(),
        notifier: notify::Notifier::start(),
    };

    iced::application(move || App::new(setup.clone()), App::update, App::view)
        .title(App::title)
        .subscription(App::subscription)
        .theme(App::theme)
        .font(widget::FONT_REGULAR)
        .font(widget::FONT_BOLD)
        .font(widget::FONT_EMOJI)
        .font(widget::FONT_CJK)
        .default_font(widget::FONT)
        .window(window)
        .run()
}

/// The smallest window the layout is made for: one pane at a time, the message field still
/// wide enough to write in.
pub const MIN_WINDOW: (f32, f32) = (320.0, 400.0);

/// The window: the size saved last time when it is sensible, else 1000x680; never smaller
/// than [`MIN_WINDOW`].
fn window_settings(saved: Option<(u32, u32)>) -> iced::window::Settings {
    let (min_width, min_height) = MIN_WINDOW;
    let size = saved
        .map(|(w, h)| (w as f32, h as f32))
        .filter(|(w, h)| (min_width..=8192.0).contains(w) && (min_height..=8192.0).contains(h))
        .unwrap_or((1000.0, 680.0));
    iced::window::Settings {
        size: size.into(),
        min_size: Some(MIN_WINDOW.into()),
        ..iced::window::Settings::default()
    }
}

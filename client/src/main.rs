//! `kith`, the Kith desktop client.

mod address;
mod api;
mod app;
mod clock;
mod emoji;
mod files;
mod history;
mod notify;
mod offline;
mod roster;
mod screen;
mod session;
mod settings;
mod signed_in;
mod socket;
mod sound;
mod trust;
mod widget;

#[cfg(test)]
mod e2e;
#[cfg(test)]
mod tests;

use app::{App, Setup};
use settings::Settings;

const USAGE: &str = "usage: kith [--version | --help]\n\n\
The Kith desktop client. Without arguments it opens its window: enter your server's address\n\
(e.g. 127.0.0.1:8000), then log in or create an account. RUST_LOG=debug logs more.";

fn main() -> iced::Result {
    match std::env::args().nth(1).as_deref() {
        None => {}
        Some("--version" | "-V") => {
            println!("kith {}", env!("CARGO_PKG_VERSION"));
            return Ok(());
        }
        Some("--help" | "-h") => {
            println!("{USAGE}");
            return Ok(());
        }
        Some(other) => {
            eprintln!("kith: unknown argument '{other}'\n{USAGE}");
            std::process::exit(2);
        }
    }
    tracing_subscriber::fmt()
        .with_env_filter(
            tracing_subscriber::EnvFilter::try_from_default_env()
                .unwrap_or_else(|_| tracing_subscriber::EnvFilter::new("warn,kith=info")),
        )
        .init();

    let settings_path = Settings::default_path();
    let saved = match settings_path.as_deref().map(Settings::load) {
        Some(Ok(saved)) => saved,
        Some(Err(err)) => {
            tracing::warn!(%err, "ignoring the saved settings");
            None
        }
        None => None,
    };
    let window = window_settings(saved.as_ref().and_then(|s| s.window));
    let setup = Setup {
        settings_saved: saved.is_some(),
        settings: saved.unwrap_or_default(),
        settings_path,
        data_root: history::History::default_root(),
        trust: None,
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

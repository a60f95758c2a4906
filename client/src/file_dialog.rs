//! The system's file dialog, where the desktop offers one: on Linux and the BSDs the XDG
//! desktop portal's file chooser (GNOME's, KDE's, …), elsewhere the platform's own dialog.
//! Where there is none (no session bus, no portal, as under Xvfb) the answer says so and
//! the app opens its built-in browser instead. `KITH_FILE_DIALOG=builtin` always asks for the
//! built-in browser.
//!
//! The dialog runs off the UI thread: [`ask`] is a future for an iced `Task`.

use std::path::PathBuf;
use std::time::Duration;

/// What the dialog is asked to choose.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum Request {
    /// Existing files: several when `multiple`, else one.
    Open { start: Option<PathBuf>, multiple: bool },
    /// The place of a new file, proposed as `name`.
    Save { start: Option<PathBuf>, name: String },
    /// A folder.
    Folder { start: Option<PathBuf> },
}

/// What the dialog answered.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum Answer {
    /// The files (in the order chosen), the new file's place, or the folder.
    Chosen(Vec<PathBuf>),
    /// The user closed the dialog without choosing.
    Cancelled,
    /// There is no system dialog here (or the built-in browser is wanted): use the browser.
    Unavailable,
}

/// How long the portal may take to say it is there (it may be started for the question).
const PORTAL_ANSWER: Duration = Duration::from_secs(3);

/// Shows the system's dialog for `request`; [`Answer::Unavailable`] without one.
pub async fn ask(request: Request) -> Answer {
    if builtin_wanted(std::env::var("KITH_FILE_DIALOG").ok().as_deref()) || !system_dialog().await {
        return Answer::Unavailable;
    }
    let dialog = |start: &Option<PathBuf>, title: &str| {
        let dialog = rfd::AsyncFileDialog::new().set_title(title);
        match start.as_deref().filter(|folder| folder.is_dir()) {
            Some(folder) => dialog.set_directory(folder),
            None => dialog,
        }
    };
    let chosen: Option<Vec<PathBuf>> = match request {
        Request::Open { start, multiple: true } => dialog(&start, &t!("attach-send-files"))
            .pick_files()
            .await
            .map(|files| files.iter().map(|file| file.path().to_path_buf()).collect()),
        Request::Open { start, multiple: false } => dialog(&start, &t!("attach-choose-picture"))
            .pick_file()
            .await
            .map(|file| vec![file.path().to_path_buf()]),
        Request::Save { start, name } => dialog(&start, &t!("attach-save-copy"))
            .set_file_name(name)
            .save_file()
            .await
            .map(|file| vec![file.path().to_path_buf()]),
        Request::Folder { start } => dialog(&start, &t!("attach-choose-folder"))
            .pick_folder()
            .await
            .map(|folder| vec![folder.path().to_path_buf()]),
    };
    match chosen {
        Some(paths) if !paths.is_empty() => Answer::Chosen(paths),
        _ => Answer::Cancelled,
    }
}

/// Whether `KITH_FILE_DIALOG` asks for the built-in browser.
fn builtin_wanted(setting: Option<&str>) -> bool {
    setting.is_some_and(|value| value.trim().eq_ignore_ascii_case("builtin"))
}

/// Whether this computer has a system file dialog to show.
#[cfg(all(unix, not(target_os = "macos")))]
async fn system_dialog() -> bool {
    portal_answers(None).await
}

/// Windows and macOS always have their own dialog.
#[cfg(not(all(unix, not(target_os = "macos"))))]
async fn system_dialog() -> bool {
    true
}

/// Whether the portal's file chooser answers on the session bus (or the bus at `address`).
/// A dialog shown without it would either not open or say nothing about why.
#[cfg(all(unix, not(target_os = "macos")))]
async fn portal_answers(address: Option<&str>) -> bool {
    let ask = async {
        let connection = match address {
            Some(address) => zbus::connection::Builder::address(address)?.build().await?,
            None => zbus::Connection::session().await?,
        };
        connection
            .call_method(
                Some("org.freedesktop.portal.Desktop"),
                "/org/freedesktop/portal/desktop",
                Some("org.freedesktop.DBus.Properties"),
                "Get",
                &("org.freedesktop.portal.FileChooser", "version"),
            )
            .await?;
        Ok::<_, zbus::Error>(())
    };
    match tokio::time::timeout(PORTAL_ANSWER, ask).await {
        Ok(Ok(())) => true,
        Ok(Err(err)) => {
            tracing::debug!(%err, "no file chooser portal: the built-in browser is used");
            false
        }
        Err(_) => {
            tracing::debug!("the file chooser portal did not answer: the built-in browser is used");
            false
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn the_builtin_browser_can_be_asked_for() {
        assert!(builtin_wanted(Some("builtin")));
        assert!(builtin_wanted(Some(" BUILTIN\n")));
        assert!(!builtin_wanted(Some("system")));
        assert!(!builtin_wanted(None));
    }

    #[cfg(all(unix, not(target_os = "macos")))]
    #[tokio::test]
    async fn without_a_bus_there_is_no_portal() {
        let dir = tempfile::tempdir().expect("temp dir");
        let address = format!("unix:path={}", dir.path().join("no-bus").display());
        assert!(!portal_answers(Some(&address)).await);
    }

    /// A session bus where no portal runs (as on a server or under Xvfb): the portal is
    /// looked for and not found. Needs `dbus-daemon`.
    #[cfg(all(unix, not(target_os = "macos")))]
    #[tokio::test]
    async fn a_bus_without_the_portal_has_no_file_chooser() {
        // A bus of its own, with no services to start: a portal installed here stays out.
        let Some(bus) = crate::test_bus::PrivateBus::start() else { return };
        assert!(!portal_answers(Some(&bus.address)).await, "no portal runs on this bus");
    }
}

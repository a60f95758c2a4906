//! The user's settings, kept as JSON in the platform's config folder
//! (`~/.config/kith/settings.json` on Linux). `KITH_CONFIG_DIR` points elsewhere.

use serde::{Deserialize, Serialize};
use std::path::{Path, PathBuf};

#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[serde(default)]
pub struct Settings {
    /// The server address last used, as typed (`host:port`).
    pub server: String,
    /// The socket port when it is not the HTTP port + 1.
    pub socket_port: Option<u16>,
    /// The user name last logged in with.
    pub username: String,
    /// Play a sound on new messages.
    pub sound: bool,
    /// Ask for the user's attention (taskbar flash) on new messages while the window is
    /// in the background.
    pub notifications: bool,
    /// The dark theme instead of the light one.
    pub dark: bool,
    /// The interface's language (by default the system's).
    pub language: crate::i18n::Language,
    /// The window's size when it was last resized (width, height).
    pub window: Option<(u32, u32)>,
    /// The chat open last, per server and user (`<host_port>/<user_id>`).
    pub last_chats: std::collections::BTreeMap<String, i64>,
    /// Where received files are saved; None: the user's Downloads folder.
    pub downloads: Option<PathBuf>,
    /// The folder files were last chosen in (to send or to save a copy): the file dialog and
    /// the built-in browser open there next.
    pub last_folder: Option<PathBuf>,
}

impl Default for Settings {
    fn default() -> Self {
        Self {
            server: format!("127.0.0.1:{}", crate::address::DEFAULT_HTTP_PORT),
            socket_port: None,
            username: String::new(),
            sound: true,
            notifications: true,
            dark: false,
            language: crate::i18n::Language::System,
            window: None,
            last_chats: std::collections::BTreeMap::new(),
            downloads: None,
            last_folder: None,
        }
    }
}

#[derive(Debug, thiserror::Error)]
pub enum SettingsError {
    #[error("cannot read {path}: {source}")]
    Read { path: PathBuf, source: std::io::Error },
    #[error("cannot write {path}: {source}")]
    Write { path: PathBuf, source: std::io::Error },
    #[error("{path} is not valid settings: {source}")]
    Parse { path: PathBuf, source: serde_json::Error },
}

impl Settings {
    /// Where received files are saved: the folder chosen in the settings, else the user's
    /// Downloads folder (their home folder on systems that name none).
    pub fn downloads_folder(&self) -> Option<PathBuf> {
        self.downloads.clone().or_else(default_downloads)
    }

    /// Where settings live: `$KITH_CONFIG_DIR/settings.json`, or the platform config folder.
    pub fn default_path() -> Option<PathBuf> {
        if let Some(dir) = std::env::var_os("KITH_CONFIG_DIR") {
            return Some(PathBuf::from(dir).join("settings.json"));
        }
        directories::ProjectDirs::from("", "", "kith").map(|dirs| dirs.config_dir().join("settings.json"))
    }

    /// Reads the settings; a missing file gives `Ok(None)`.
    pub fn load(path: &Path) -> Result<Option<Self>, SettingsError> {
        let text = match std::fs::read_to_string(path) {
            Ok(text) => text,
            Err(err) if err.kind() == std::io::ErrorKind::NotFound => return Ok(None),
            Err(source) => return Err(SettingsError::Read { path: path.to_owned(), source }),
        };
        serde_json::from_str(&text)
            .map(Some)
            .map_err(|source| SettingsError::Parse { path: path.to_owned(), source })
    }

    /// Writes the settings through a temporary file, so a crash never leaves half a file.
    pub fn save(&self, path: &Path) -> Result<(), SettingsError> {
        let write_err = |source| SettingsError::Write { path: path.to_owned(), source };
        if let Some(dir) = path.parent() {
            std::fs::create_dir_all(dir).map_err(write_err)?;
        }
        let text = serde_json::to_string_pretty(self).expect("settings always serialise to JSON");
        let tmp = path.with_extension("json.tmp");
        std::fs::write(&tmp, text).map_err(write_err)?;
        std::fs::rename(&tmp, path).map_err(write_err)
    }
}

/// The user's Downloads folder, or their home folder when the system names none.
pub fn default_downloads() -> Option<PathBuf> {
    let dirs = directories::UserDirs::new()?;
    Some(dirs.download_dir().unwrap_or(dirs.home_dir()).to_path_buf())
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn missing_file_is_not_an_error() {
        let dir = tempfile::tempdir().expect("temp dir");
        assert!(Settings::load(&dir.path().join("settings.json")).expect("no error").is_none());
    }

    #[test]
    fn save_then_load_round_trips() {
        let dir = tempfile::tempdir().expect("temp dir");
        let path = dir.path().join("nested").join("settings.json");
        let settings = Settings {
            server: "chat.example.org:9000".into(),
            socket_port: Some(9100),
            username: "alice".into(),
            sound: false,
            notifications: false,
            dark: true,
            language: crate::i18n::Language::Chinese,
            window: Some((1200, 800)),
            last_chats: [("127.0.0.1_8000/7".to_owned(), 12)].into(),
            downloads: Some(dir.path().join("Received")),
            last_folder: Some(dir.path().join("Pictures")),
        };
        settings.save(&path).expect("save");
        assert_eq!(Settings::load(&path).expect("load"), Some(settings));
        assert!(!path.with_extension("json.tmp").exists());
    }

    #[test]
    fn missing_keys_take_defaults() {
        let dir = tempfile::tempdir().expect("temp dir");
        let path = dir.path().join("settings.json");
        std::fs::write(&path, r#"{"username":"bob"}"#).expect("write");
        let loaded = Settings::load(&path).expect("load").expect("present");
        assert_eq!(loaded.username, "bob");
        assert!(loaded.sound && loaded.notifications);
        assert_eq!(loaded.server, "127.0.0.1:8000");
        assert_eq!((loaded.downloads, loaded.last_folder), (None, None));
    }

    #[test]
    fn received_files_go_to_the_downloads_folder_unless_another_is_chosen() {
        let settings = Settings::default();
        assert_eq!(settings.downloads, None, "nothing chosen at first");
        let dirs = directories::UserDirs::new().expect("a home folder");
        let wanted = dirs.download_dir().unwrap_or(dirs.home_dir()).to_path_buf();
        assert_eq!(settings.downloads_folder(), Some(wanted));
        let chosen = Settings { downloads: Some(PathBuf::from("/srv/inbox")), ..Settings::default() };
        assert_eq!(chosen.downloads_folder(), Some(PathBuf::from("/srv/inbox")));
    }

    #[test]
    fn broken_file_is_reported() {
        let dir = tempfile::tempdir().expect("temp dir");
        let path = dir.path().join("settings.json");
        std::fs::write(&path, "{not json").expect("write");
        assert!(matches!(Settings::load(&path), Err(SettingsError::Parse { .. })));
    }
}

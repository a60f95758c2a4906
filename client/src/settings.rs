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
    /// The window's size when it was last resized (width, height).
    pub window: Option<(u32, u32)>,
    /// The chat open last, per server and user (`<host_port>/<user_id>`).
    pub last_chats: std::collections::BTreeMap<String, i64>,
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
            window: None,
            last_chats: std::collections::BTreeMap::new(),
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
            window: Some((1200, 800)),
            last_chats: [("127.0.0.1_8000/7".to_owned(), 12)].into(),
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
    }

    #[test]
    fn broken_file_is_reported() {
        let dir = tempfile::tempdir().expect("temp dir");
        let path = dir.path().join("settings.json");
        std::fs::write(&path, "{not json").expect("write");
        assert!(matches!(Settings::load(&path), Err(SettingsError::Parse { .. })));
    }
}

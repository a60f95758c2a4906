//! What the emoji panel remembers for a user: the emoji they inserted last and their skin
//! tone, kept in `<data folder>/<host_port>/<user_id>/emoji.json` beside their history (written
//! to a temporary file and renamed, so a crash never leaves half a file).

use crate::emoji::Tone;
use serde::{Deserialize, Serialize};
use std::path::{Path, PathBuf};

/// How many recently used emoji are kept.
pub const RECENT: usize = 24;

#[derive(Debug, Clone, Default, PartialEq, Eq, Serialize, Deserialize)]
#[serde(default)]
pub struct Choices {
    /// The emoji inserted last, most recent first, as inserted (with their tone).
    pub recent: Vec<String>,
    pub tone: Tone,
}

impl Choices {
    /// The file beside a user's history database.
    pub fn path_beside(history_path: &Path) -> Option<PathBuf> {
        history_path.parent().map(|dir| dir.join("emoji.json"))
    }

    /// The kept choices (at most [`RECENT`] emoji); none yet, or an unreadable file, gives
    /// the defaults.
    pub fn load(path: &Path) -> Self {
        let text = match std::fs::read_to_string(path) {
            Ok(text) => text,
            Err(err) if err.kind() == std::io::ErrorKind::NotFound => return Self::default(),
            Err(err) => {
                tracing::warn!(%err, path = %path.display(), "cannot read the recently used emoji");
                return Self::default();
            }
        };
        let mut choices: Self = serde_json::from_str(&text).unwrap_or_else(|err| {
            tracing::warn!(%err, path = %path.display(), "ignoring damaged emoji choices");
            Self::default()
        });
        choices.recent.truncate(RECENT);
        choices
    }

    pub fn save(&self, path: &Path) -> std::io::Result<()> {
        if let Some(folder) = path.parent() {
            std::fs::create_dir_all(folder)?;
        }
        let temporary = path.with_extension("json.new");
        std::fs::write(&temporary, serde_json::to_vec(self).map_err(std::io::Error::other)?)?;
        std::fs::rename(&temporary, path)
    }

    /// `emoji` was inserted: first in the list, once, the oldest dropped beyond [`RECENT`].
    pub fn used(&mut self, emoji: &str) {
        self.recent.retain(|kept| kept != emoji);
        self.recent.insert(0, emoji.to_owned());
        self.recent.truncate(RECENT);
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn recent_emoji_come_first_once_and_are_bounded() {
        let mut choices = Choices::default();
        choices.used("😀");
        choices.used("👍🏽");
        choices.used("😀");
        assert_eq!(choices.recent, ["😀", "👍🏽"]);
        for emoji in emojis::iter().take(40) {
            choices.used(emoji.as_str());
        }
        assert_eq!(choices.recent.len(), RECENT);
        assert_eq!(choices.recent[0], emojis::iter().nth(39).expect("40 emoji").as_str());
    }

    #[test]
    fn choices_round_trip_and_damage_gives_defaults() {
        let dir = tempfile::tempdir().expect("temp dir");
        let path =
            Choices::path_beside(&dir.path().join("server").join("7").join("history.db")).expect("a folder");
        assert_eq!(Choices::load(&path), Choices::default(), "nothing kept yet");
        let choices = Choices { recent: vec!["🦀".into(), "👋🏿".into()], tone: Tone::Dark };
        choices.save(&path).expect("save");
        assert_eq!(Choices::load(&path), choices);
        // A file written by hand with too many is cut to the first RECENT.
        let many: Vec<String> = emojis::iter().take(RECENT + 10).map(|e| e.as_str().to_owned()).collect();
        Choices { recent: many.clone(), tone: Tone::None }.save(&path).expect("save");
        assert_eq!(Choices::load(&path).recent, many[..RECENT]);
        std::fs::write(&path, "{not json").expect("write");
        assert_eq!(Choices::load(&path), Choices::default());
    }
}

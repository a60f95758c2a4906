//! What the client keeps to browse its history without the server: for each server and
//! user name, the user's profile and the last friend and group lists, as JSON beside the
//! history caches (`<data folder>/<host_port>/offline/<user name>.json`). Written at login and
//! whenever the lists arrive; read when the server cannot be reached. The member lists of
//! the groups opened so far are kept too, so that offline group chats name their senders.

use kith_shared::api::{ConversationId, Friend, GroupId, GroupMember, MyGroup, UserProfile};
use serde::{Deserialize, Serialize};
use std::collections::BTreeMap;
use std::path::{Path, PathBuf};

#[derive(Debug, Clone, Serialize, Deserialize)]
pub struct Snapshot {
    pub user: UserProfile,
    #[serde(default)]
    pub friends: Vec<Friend>,
    #[serde(default)]
    pub groups: Vec<MyGroup>,
    /// The members of the groups, as last fetched.
    #[serde(default)]
    pub members: BTreeMap<GroupId, Vec<GroupMember>>,
    /// The name of every conversation seen, kept after a friendship or a membership ends.
    #[serde(default)]
    pub titles: BTreeMap<ConversationId, String>,
}

#[derive(Debug, thiserror::Error)]
pub enum SnapshotError {
    #[error("cannot read {path}: {source}")]
    Read { path: PathBuf, source: std::io::Error },
    #[error("cannot write {path}: {source}")]
    Write { path: PathBuf, source: std::io::Error },
    #[error("{path} is not a valid offline snapshot: {source}")]
    Parse { path: PathBuf, source: serde_json::Error },
}

impl Snapshot {
    /// The snapshot file of `username` on the server whose folder name is `server`.
    /// Characters other than letters, digits, `-` and `_` become `_`.
    pub fn path_for(root: &Path, server: &str, username: &str) -> PathBuf {
        let name: String = username
            .trim()
            .to_lowercase()
            .chars()
            .map(|c| if c.is_alphanumeric() || c == '-' || c == '_' { c } else { '_' })
            .collect();
        root.join(server).join("offline").join(format!("{name}.json"))
    }

    /// Reads a snapshot; a missing file gives `Ok(None)`.
    pub fn load(path: &Path) -> Result<Option<Self>, SnapshotError> {
        let text = match std::fs::read_to_string(path) {
            Ok(text) => text,
            Err(err) if err.kind() == std::io::ErrorKind::NotFound => return Ok(None),
            Err(source) => return Err(SnapshotError::Read { path: path.to_owned(), source }),
        };
        serde_json::from_str(&text)
            .map(Some)
            .map_err(|source| SnapshotError::Parse { path: path.to_owned(), source })
    }

    /// Writes the snapshot through a temporary file.
    pub fn save(&self, path: &Path) -> Result<(), SnapshotError> {
        let write_err = |source| SnapshotError::Write { path: path.to_owned(), source };
        if let Some(dir) = path.parent() {
            std::fs::create_dir_all(dir).map_err(write_err)?;
        }
        let text = serde_json::to_string_pretty(self).expect("a snapshot always serialises to JSON");
        let tmp = path.with_extension("json.tmp");
        std::fs::write(&tmp, text).map_err(write_err)?;
        std::fs::rename(&tmp, path).map_err(write_err)
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn save_then_load_round_trips_and_names_stay_plain() {
        let dir = tempfile::tempdir().expect("temp dir");
        let path = Snapshot::path_for(dir.path(), "127.0.0.1_8000", " Al/../ice ");
        assert_eq!(path, dir.path().join("127.0.0.1_8000").join("offline").join("al____ice.json"));
        assert!(Snapshot::load(&path).expect("no error").is_none());
        let user =
            UserProfile { id: 3, username: "alice".into(), display_name: "Alice".into(), avatar_url: None };
        let snapshot = Snapshot {
            user,
            friends: vec![],
            groups: vec![],
            members: BTreeMap::new(),
            titles: BTreeMap::new(),
        };
        snapshot.save(&path).expect("save");
        let loaded = Snapshot::load(&path).expect("load").expect("present");
        assert_eq!(loaded.user.id, 3);
        std::fs::write(&path, "{broken").expect("write");
        assert!(matches!(Snapshot::load(&path), Err(SnapshotError::Parse { .. })));
    }
}

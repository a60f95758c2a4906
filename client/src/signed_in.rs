//! Staying signed in: the session token of the last login on each server, kept so that the
//! next start skips the login form while the server still takes it.
//!
//! One file per server, `<data folder>/<host_port>/signed_in.json` holding the user name and
//! the token, readable and writable by the user alone (mode 0600 on Unix; written to a
//! temporary file and renamed, so a crash never leaves half a token). *Log out* forgets it, and
//! so does a session the server ended (the token is no longer valid then).

use serde::{Deserialize, Serialize};
use std::path::{Path, PathBuf};

#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct SignedIn {
    pub username: String,
    pub token: String,
}

impl SignedIn {
    /// The file for the server whose folder name is `server`.
    pub fn path_for(root: &Path, server: &str) -> PathBuf {
        root.join(server).join("signed_in.json")
    }

    /// The kept login, if there is a readable one.
    pub fn load(path: &Path) -> Option<Self> {
        let text = match std::fs::read_to_string(path) {
            Ok(text) => text,
            Err(err) if err.kind() == std::io::ErrorKind::NotFound => return None,
            Err(err) => {
                tracing::warn!(%err, path = %path.display(), "cannot read the kept login");
                return None;
            }
        };
        match serde_json::from_str(&text) {
            Ok(kept) => Some(kept),
            Err(err) => {
                tracing::warn!(%err, path = %path.display(), "ignoring a damaged kept login");
                None
            }
        }
    }

    /// Keeps this login, readable by the user alone.
    pub fn save(&self, path: &Path) -> std::io::Result<()> {
        use std::io::Write;
        if let Some(folder) = path.parent() {
            std::fs::create_dir_all(folder)?;
        }
        let temporary = path.with_extension("json.new");
        let mut options = std::fs::OpenOptions::new();
        options.write(true).create(true).truncate(true);
        #[cfg(unix)]
        {
            use std::os::unix::fs::OpenOptionsExt;
            options.mode(0o600);
        }
        let mut file = options.open(&temporary)?;
        file.write_all(&serde_json::to_vec(self).map_err(std::io::Error::other)?)?;
        file.sync_all()?;
        drop(file);
        std::fs::rename(&temporary, path)
    }

    /// Forgets the login kept for a server (nothing happens when there is none).
    pub fn forget(path: &Path) {
        match std::fs::remove_file(path) {
            Ok(()) => {}
            Err(err) if err.kind() == std::io::ErrorKind::NotFound => {}
            Err(err) => tracing::warn!(%err, path = %path.display(), "cannot forget the kept login"),
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn a_kept_login_round_trips_readable_by_the_user_alone_and_is_forgotten() {
        let dir = tempfile::tempdir().expect("a temp dir");
        let path = SignedIn::path_for(dir.path(), "127.0.0.1_8000");
        assert_eq!(SignedIn::load(&path), None);
        let kept = SignedIn { username: "alice".into(), token: "ab".repeat(32) };
        kept.save(&path).expect("saved");
        assert_eq!(SignedIn::load(&path), Some(kept));
        #[cfg(unix)]
        {
            use std::os::unix::fs::PermissionsExt;
            let mode = std::fs::metadata(&path).expect("there").permissions().mode();
            assert_eq!(mode & 0o777, 0o600, "no one else may read the token");
        }
        SignedIn::forget(&path);
        assert_eq!(SignedIn::load(&path), None);
        SignedIn::forget(&path);
        std::fs::write(&path, "not json").expect("written");
        assert_eq!(SignedIn::load(&path), None, "a damaged file is ignored");
    }
}

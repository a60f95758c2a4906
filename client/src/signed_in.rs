//! Staying signed in: the session token of the last login on each server, kept so that the
//! next start skips the login form while the server still takes it.
//!
//! The token goes into the OS keyring when there is one ([`crate::keyring`]: a Secret Service
//! on the session bus with an unlocked default collection), else into a file. Either way one
//! file per server, `<data folder>/<host_port>/signed_in.json`, says whose login is kept and
//! where its token is. It is readable and writable by the user alone (mode 0600 on Unix) and
//! written to a temporary file and renamed, so a crash never leaves half a token:
//!
//! - `{"username":"alice","token_in":"keyring"}`: the token is in the keyring, in the item with
//!   the attributes `application=kith`, `server=<host_port>`, `username=alice`;
//! - `{"username":"alice","token":"…"}`: the token is in the file (there is no keyring, it is
//!   locked, or the file was written before the keyring was used: such a file is read as
//!   before, and the next login moves its token to the keyring when there is one).
//!
//! *Log out* forgets the login in both places, and so does a session the server ended (the
//! token is no longer valid then). The keyring is only asked from tasks, never on the UI
//! thread; when it cannot be asked, the login form shows.

use crate::keyring::{Keyring, KeyringError};
use serde::{Deserialize, Serialize};
use std::future::Future;
use std::path::{Path, PathBuf};

/// A login to keep: whose, and its session token.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct SignedIn {
    pub username: String,
    pub token: String,
}

/// Where a kept token is.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum TokenIn {
    Keyring,
    File,
}

/// What the file says: whose login is kept, and its token or where it is.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Record {
    pub username: String,
    token: Option<String>,
}

/// The file as written: `token` when the token is in it, else `token_in: "keyring"`.
#[derive(Serialize, Deserialize)]
struct FileFormat {
    username: String,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    token: Option<String>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    token_in: Option<String>,
}

const IN_KEYRING: &str = "keyring";

/// Where the login for one server is kept: its file, and its items in the keyring.
#[derive(Debug, Clone)]
pub struct KeptLogin {
    path: PathBuf,
    /// The server's folder name, which also names it in the keyring.
    server: String,
    keyring: Keyring,
}

impl KeptLogin {
    /// The login kept for the server whose folder name is `server`, under the data folder
    /// `root`, its token in `keyring` when that can be used.
    pub fn new(root: &Path, server: &str, keyring: Keyring) -> Self {
        Self { path: root.join(server).join("signed_in.json"), server: server.to_owned(), keyring }
    }

    /// The file saying whose login is kept.
    #[cfg(test)]
    pub fn path(&self) -> &Path {
        &self.path
    }

    /// What the file says, if there is a readable file (read at once: it is small and local).
    pub fn read(&self) -> Option<Record> {
        let text = match std::fs::read_to_string(&self.path) {
            Ok(text) => text,
            Err(err) if err.kind() == std::io::ErrorKind::NotFound => return None,
            Err(err) => {
                tracing::warn!(%err, path = %self.path.display(), "cannot read the kept login");
                return None;
            }
        };
        match serde_json::from_str::<FileFormat>(&text) {
            Ok(FileFormat { username, token: Some(token), .. }) => {
                Some(Record { username, token: Some(token) })
            }
            Ok(FileFormat { username, token: None, token_in: Some(place) }) if place == IN_KEYRING => {
                Some(Record { username, token: None })
            }
            Ok(_) => {
                tracing::warn!(path = %self.path.display(), "ignoring a kept login without its token");
                None
            }
            Err(err) => {
                tracing::warn!(%err, path = %self.path.display(), "ignoring a damaged kept login");
                None
            }
        }
    }

    /// The token of `record`: from the file, or asked of the keyring. None when the keyring
    /// holds none or cannot be asked now (the file stays for the next try).
    pub async fn token(&self, record: &Record) -> Option<String> {
        if let Some(token) = &record.token {
            return Some(token.clone());
        }
        match self.keyring.find(&self.server, &record.username).await {
            Ok(Some(token)) => Some(token),
            Ok(None) => {
                tracing::info!(server = %self.server, "the keyring no longer holds the kept token");
                None
            }
            Err(err) => {
                tracing::warn!(%err, server = %self.server, "cannot take the kept token from the keyring");
                None
            }
        }
    }

    /// The kept login with its token, if there is one.
    #[cfg(test)]
    pub async fn load(&self) -> Option<SignedIn> {
        let record = self.read()?;
        let token = self.token(&record).await?;
        Some(SignedIn { username: record.username, token })
    }

    /// Keeps `login`: its token in the keyring when that works, else in the file. Says where
    /// the token went.
    pub async fn save(&self, login: &SignedIn) -> std::io::Result<TokenIn> {
        let token_in = match self.keyring.store(&self.server, &login.username, &login.token).await {
            Ok(()) => TokenIn::Keyring,
            Err(err) => {
                log_unusable(&err, "the keyring cannot keep the token: it is kept in the file");
                TokenIn::File
            }
        };
        let format = match token_in {
            TokenIn::Keyring => FileFormat {
                username: login.username.clone(),
                token: None,
                token_in: Some(IN_KEYRING.to_owned()),
            },
            TokenIn::File => FileFormat {
                username: login.username.clone(),
                token: Some(login.token.clone()),
                token_in: None,
            },
        };
        write_private(&self.path, &serde_json::to_vec(&format).map_err(std::io::Error::other)?)?;
        Ok(token_in)
    }

    /// Forgets the login kept for the server (nothing happens when there is none): the file
    /// at once, the token in the keyring when the returned future runs.
    pub fn forget(&self) -> impl Future<Output = ()> + Send + 'static {
        match std::fs::remove_file(&self.path) {
            Ok(()) => {}
            Err(err) if err.kind() == std::io::ErrorKind::NotFound => {}
            Err(err) => tracing::warn!(%err, path = %self.path.display(), "cannot forget the kept login"),
        }
        let this = self.clone();
        async move {
            if let Err(err) = this.keyring.forget(&this.server).await {
                log_unusable(&err, "cannot forget the kept token in the keyring");
            }
        }
    }
}

/// Logs why the keyring could not be used: quietly when there is none at all (the usual case
/// on a machine without one), as a warning when one is there and did not do its part.
fn log_unusable(err: &KeyringError, what: &str) {
    match err {
        KeyringError::None => {}
        KeyringError::Absent(_) => tracing::debug!(%err, "{what}"),
        _ => tracing::warn!(%err, "{what}"),
    }
}

/// Writes `bytes` to `path`, readable and writable by the user alone, through a temporary
/// file renamed into place.
fn write_private(path: &Path, bytes: &[u8]) -> std::io::Result<()> {
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
    file.write_all(bytes)?;
    file.sync_all()?;
    drop(file);
    std::fs::rename(&temporary, path)
}

#[cfg(test)]
mod tests {
    use super::*;

    fn alice() -> SignedIn {
        SignedIn { username: "alice".into(), token: "ab".repeat(32) }
    }

    #[cfg(unix)]
    fn mode(path: &Path) -> u32 {
        use std::os::unix::fs::PermissionsExt;
        std::fs::metadata(path).expect("there").permissions().mode() & 0o777
    }

    /// What the file holds, as written.
    fn raw(kept: &KeptLogin) -> serde_json::Value {
        serde_json::from_slice(&std::fs::read(kept.path()).expect("the file")).expect("JSON")
    }

    #[tokio::test]
    async fn without_a_keyring_the_login_is_kept_in_a_file_readable_by_the_user_alone() {
        let dir = tempfile::tempdir().expect("a temp dir");
        let kept = KeptLogin::new(dir.path(), "127.0.0.1_8000", Keyring::default());
        assert_eq!(kept.path(), dir.path().join("127.0.0.1_8000").join("signed_in.json"));
        assert_eq!(kept.load().await, None);
        assert_eq!(kept.save(&alice()).await.expect("saved"), TokenIn::File);
        assert_eq!(raw(&kept), serde_json::json!({ "username": "alice", "token": "ab".repeat(32) }));
        assert_eq!(kept.load().await, Some(alice()));
        #[cfg(unix)]
        assert_eq!(mode(kept.path()), 0o600, "no one else may read the token");
        kept.forget().await;
        assert_eq!(kept.load().await, None);
        kept.forget().await;
        std::fs::write(kept.path(), "not json").expect("written");
        assert_eq!(kept.load().await, None, "a damaged file is ignored");
        std::fs::write(kept.path(), r#"{"username":"alice"}"#).expect("written");
        assert_eq!(kept.load().await, None, "a file that says nothing of the token is ignored");
    }

    #[cfg(all(unix, not(target_os = "macos")))]
    #[tokio::test]
    async fn without_a_session_bus_the_token_is_kept_in_the_file() {
        let dir = tempfile::tempdir().expect("a temp dir");
        let nowhere = format!("unix:path={}", dir.path().join("no-bus").display());
        let kept = KeptLogin::new(dir.path(), "127.0.0.1_8000", Keyring::at(&nowhere));
        assert_eq!(kept.save(&alice()).await.expect("saved"), TokenIn::File);
        assert_eq!(raw(&kept)["token"], "ab".repeat(32));
        assert_eq!(mode(kept.path()), 0o600);
        assert_eq!(kept.load().await, Some(alice()));
        kept.forget().await;
        assert!(!kept.path().exists());
    }

    /// A session bus without a Secret Service on it (as under Xvfb): the file it is.
    #[cfg(all(unix, not(target_os = "macos")))]
    #[tokio::test]
    async fn on_a_bus_without_a_secret_service_the_token_is_kept_in_the_file() {
        let Some(bus) = crate::test_bus::PrivateBus::start() else { return };
        let keyring = Keyring::at(&bus.address);
        assert!(matches!(keyring.find("127.0.0.1_8000", "alice").await, Err(KeyringError::Absent(_))));
        let dir = tempfile::tempdir().expect("a temp dir");
        let kept = KeptLogin::new(dir.path(), "127.0.0.1_8000", keyring);
        assert_eq!(kept.save(&alice()).await.expect("saved"), TokenIn::File);
        assert_eq!(raw(&kept)["token"], "ab".repeat(32));
        assert_eq!(kept.load().await, Some(alice()));
    }

    /// gnome-keyring on a bus of the test's own: the token goes there, the file only says so,
    /// and forgetting clears both.
    #[cfg(all(unix, not(target_os = "macos")))]
    #[tokio::test]
    async fn with_a_keyring_the_token_is_kept_there_and_the_file_holds_none() {
        let Some(bus) = crate::test_bus::PrivateBus::with_keyring() else { return };
        let keyring = Keyring::at(&bus.address);
        let dir = tempfile::tempdir().expect("a temp dir");
        let kept = KeptLogin::new(dir.path(), "127.0.0.1_8000", keyring.clone());
        let other_server = KeptLogin::new(dir.path(), "chat.example.org_443", keyring.clone());
        let theirs = SignedIn { username: "alice".into(), token: "cd".repeat(32) };
        assert_eq!(other_server.save(&theirs).await.expect("saved"), TokenIn::Keyring);

        assert_eq!(kept.save(&alice()).await.expect("saved"), TokenIn::Keyring);
        assert_eq!(raw(&kept), serde_json::json!({ "username": "alice", "token_in": "keyring" }));
        assert_eq!(mode(kept.path()), 0o600);
        assert_eq!(keyring.find("127.0.0.1_8000", "alice").await, Ok(Some("ab".repeat(32))));
        assert_eq!(kept.load().await, Some(alice()));

        // Saved again with a new token: replaced, not added.
        let renewed = SignedIn { username: "alice".into(), token: "ef".repeat(32) };
        assert_eq!(kept.save(&renewed).await.expect("saved"), TokenIn::Keyring);
        assert_eq!(kept.load().await, Some(renewed));
        // Another user on the same server: one login per server, the earlier token goes.
        let bob = SignedIn { username: "bob".into(), token: "12".repeat(32) };
        assert_eq!(kept.save(&bob).await.expect("saved"), TokenIn::Keyring);
        assert_eq!(keyring.find("127.0.0.1_8000", "alice").await, Ok(None));
        assert_eq!(kept.load().await, Some(bob));

        kept.forget().await;
        assert!(!kept.path().exists());
        assert_eq!(keyring.find("127.0.0.1_8000", "bob").await, Ok(None), "gone from the keyring too");
        assert_eq!(kept.load().await, None);
        assert_eq!(other_server.load().await, Some(theirs), "other servers' logins stay");

        // The file says the keyring, the keyring has none (removed by the user): no login.
        std::fs::write(kept.path(), r#"{"username":"alice","token_in":"keyring"}"#).expect("written");
        assert_eq!(kept.load().await, None);
    }

    /// A file written before the keyring was used still signs in, and the next save moves its
    /// token to the keyring.
    #[cfg(all(unix, not(target_os = "macos")))]
    #[tokio::test]
    async fn a_file_holding_the_token_is_read_and_its_token_moves_to_the_keyring_on_the_next_save() {
        let Some(bus) = crate::test_bus::PrivateBus::with_keyring() else { return };
        let keyring = Keyring::at(&bus.address);
        let dir = tempfile::tempdir().expect("a temp dir");
        let kept = KeptLogin::new(dir.path(), "127.0.0.1_8000", keyring.clone());
        std::fs::create_dir_all(kept.path().parent().expect("a folder")).expect("folder");
        let old = format!(r#"{{"username":"alice","token":"{}"}}"#, "ab".repeat(32));
        std::fs::write(kept.path(), old).expect("an old file");
        assert_eq!(kept.load().await, Some(alice()));
        assert_eq!(keyring.find("127.0.0.1_8000", "alice").await, Ok(None), "not moved by reading");

        assert_eq!(kept.save(&alice()).await.expect("saved"), TokenIn::Keyring);
        let text = std::fs::read_to_string(kept.path()).expect("the file");
        assert!(!text.contains(&"ab".repeat(32)), "the token left the file: {text}");
        assert_eq!(keyring.find("127.0.0.1_8000", "alice").await, Ok(Some("ab".repeat(32))));
        assert_eq!(kept.load().await, Some(alice()));
    }

    /// A locked keyring would ask the user for its password: it is not used, the file keeps
    /// the token, and a token kept in it cannot be had (the form shows) until it is unlocked.
    #[cfg(all(unix, not(target_os = "macos")))]
    #[tokio::test]
    async fn a_locked_keyring_is_not_used() {
        let Some(bus) = crate::test_bus::PrivateBus::with_keyring() else { return };
        let keyring = Keyring::at(&bus.address);
        let dir = tempfile::tempdir().expect("a temp dir");
        let kept = KeptLogin::new(dir.path(), "127.0.0.1_8000", keyring.clone());
        assert_eq!(kept.save(&alice()).await.expect("saved"), TokenIn::Keyring);
        bus.lock_keyring().await;
        assert_eq!(keyring.find("127.0.0.1_8000", "alice").await, Err(KeyringError::Locked));
        assert_eq!(kept.load().await, None, "no prompt: the form instead");
        assert!(kept.path().exists(), "kept for when the keyring is unlocked");

        let bob = SignedIn { username: "bob".into(), token: "12".repeat(32) };
        assert_eq!(kept.save(&bob).await.expect("saved"), TokenIn::File);
        assert_eq!(raw(&kept)["token"], "12".repeat(32));
        assert_eq!(mode(kept.path()), 0o600);
        assert_eq!(kept.load().await, Some(bob));
    }
}

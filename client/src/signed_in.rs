//! Staying signed in: the session token of each account kept signed in on this computer (one
//! per server and user), so that the next start, or a click in the login screen's account list,
//! skips the password while the server still takes it.
//!
//! The token goes into the OS keyring when there is one ([`crate::keyring`]: a Secret Service
//! on the session bus with an unlocked default collection), else into a file. Either way one
//! file per server and user, `<data folder>/<host_port>/signed_in/<user name>.json`, says
//! whose login is kept and where its token is. It is readable and writable by the user alone
//! (mode 0600 on Unix) and written to a temporary file and renamed, so a crash never leaves
//! half a token:
//!
//! - `{"username":"alice","token_in":"keyring"}`: the token is in the keyring, in the item with
//!   the attributes `application=kith`, `server=<host_port>`, `username=alice`;
//! - `{"username":"alice","token":"…"}`: the token is in the file (there is no keyring, it is
//!   locked, or the file was written before the keyring was used: such a file is read as
//!   before, and the next save moves its token to the keyring when there is one).
//!
//! Earlier versions kept one login per server, in `<data folder>/<host_port>/signed_in.json`
//! (same contents). That file is still read, for the user it names, while that user has no
//! file of their own; saving or forgetting that user's login removes it.
//!
//! *Log out*, removing the account from the login screen's list, and a session the server
//! ended (the token is no longer valid then) forget the login in both places; other users'
//! logins on the same server stay. The keyring is only asked from tasks, never on the UI
//! thread; when it cannot be asked, the login form shows.

use crate::keyring::{Keyring, KeyringError};
use serde::{Deserialize, Serialize};
use std::future::Future;
use std::path::{Path, PathBuf};

/// Where a kept token is.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum TokenIn {
    Keyring,
    File,
}

/// What the file says: the token, or that it is in the keyring (None).
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Record {
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

/// Where the login of one user on one server is kept: its file, and its item in the keyring.
#[derive(Debug, Clone)]
pub struct KeptLogin {
    path: PathBuf,
    /// The file of the earlier layout, one login per server (read, never written).
    legacy: PathBuf,
    /// The server's folder name, which also names it in the keyring.
    server: String,
    username: String,
    keyring: Keyring,
}

impl KeptLogin {
    /// The login kept for `username` on the server whose folder name is `server`, under the
    /// data folder `root`, its token in `keyring` when that can be used.
    pub fn new(root: &Path, server: &str, username: &str, keyring: Keyring) -> Self {
        let folder = root.join(server);
        Self {
            path: folder.join("signed_in").join(format!("{}.json", file_stem(username))),
            legacy: folder.join("signed_in.json"),
            server: server.to_owned(),
            username: username.to_owned(),
            keyring,
        }
    }

    /// The file saying this login is kept.
    #[cfg(test)]
    pub fn path(&self) -> &Path {
        &self.path
    }

    /// The file of the earlier layout, one login per server.
    #[cfg(test)]
    pub fn legacy_path(&self) -> &Path {
        &self.legacy
    }

    /// What the file says, if this login is kept (read at once: it is small and local). The
    /// file of the earlier layout counts when it names this user and they have no file yet.
    pub fn read(&self) -> Option<Record> {
        match read_file(&self.path) {
            Some(format) => self.record(format, &self.path),
            None => read_file(&self.legacy)
                .filter(|format| format.username == self.username)
                .and_then(|format| self.record(format, &self.legacy)),
        }
    }

    fn record(&self, format: FileFormat, path: &Path) -> Option<Record> {
        match format {
            FileFormat { username, .. } if username != self.username => {
                tracing::warn!(path = %path.display(), "ignoring a kept login of another user");
                None
            }
            FileFormat { token: Some(token), .. } => Some(Record { token: Some(token) }),
            FileFormat { token: None, token_in: Some(place), .. } if place == IN_KEYRING => {
                Some(Record { token: None })
            }
            FileFormat { .. } => {
                tracing::warn!(path = %path.display(), "ignoring a kept login without its token");
                None
            }
        }
    }

    /// Whether this login is kept (its token may still be refused by the server, or be in a
    /// keyring that cannot be asked now).
    pub fn is_kept(&self) -> bool {
        self.read().is_some()
    }

    /// The token of `record`: from the file, or asked of the keyring. None when the keyring
    /// holds none or cannot be asked now (the file stays for the next try).
    pub async fn token(&self, record: &Record) -> Option<String> {
        if let Some(token) = &record.token {
            return Some(token.clone());
        }
        match self.keyring.find(&self.server, &self.username).await {
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

    /// The kept token, if there is one.
    #[cfg(test)]
    pub async fn load(&self) -> Option<String> {
        let record = self.read()?;
        self.token(&record).await
    }

    /// Keeps `token` for this login: in the keyring when that works, else in the file. Says
    /// where the token went.
    pub async fn save(&self, token: &str) -> std::io::Result<TokenIn> {
        let token_in = match self.keyring.store(&self.server, &self.username, token).await {
            Ok(()) => TokenIn::Keyring,
            Err(err) => {
                log_unusable(&err, "the keyring cannot keep the token: it is kept in the file");
                TokenIn::File
            }
        };
        let format = match token_in {
            TokenIn::Keyring => FileFormat {
                username: self.username.clone(),
                token: None,
                token_in: Some(IN_KEYRING.to_owned()),
            },
            TokenIn::File => {
                FileFormat { username: self.username.clone(), token: Some(token.to_owned()), token_in: None }
            }
        };
        write_private(&self.path, &serde_json::to_vec(&format).map_err(std::io::Error::other)?)?;
        self.remove_legacy();
        Ok(token_in)
    }

    /// Forgets this login (nothing happens when it is not kept): the file at once, the token
    /// in the keyring when the returned future runs.
    pub fn forget(&self) -> impl Future<Output = ()> + Send + 'static {
        remove(&self.path);
        self.remove_legacy();
        let this = self.clone();
        async move {
            if let Err(err) = this.keyring.forget(&this.server, &this.username).await {
                log_unusable(&err, "cannot forget the kept token in the keyring");
            }
        }
    }

    /// Removes the file of the earlier layout when it names this user (another user's login
    /// kept there stays theirs).
    fn remove_legacy(&self) {
        if read_file(&self.legacy).is_some_and(|format| format.username == self.username) {
            remove(&self.legacy);
        }
    }
}

/// The file at `path`, if there is a readable one.
fn read_file(path: &Path) -> Option<FileFormat> {
    let text = match std::fs::read_to_string(path) {
        Ok(text) => text,
        Err(err) if err.kind() == std::io::ErrorKind::NotFound => return None,
        Err(err) => {
            tracing::warn!(%err, path = %path.display(), "cannot read the kept login");
            return None;
        }
    };
    serde_json::from_str(&text)
        .inspect_err(|err| tracing::warn!(%err, path = %path.display(), "ignoring a damaged kept login"))
        .ok()
}

fn remove(path: &Path) {
    match std::fs::remove_file(path) {
        Ok(()) => {}
        Err(err) if err.kind() == std::io::ErrorKind::NotFound => {}
        Err(err) => tracing::warn!(%err, path = %path.display(), "cannot forget the kept login"),
    }
}

/// A user name as a file name: user names are `a-z 0-9 _ . -` beginning with a letter, kept as
/// they are; anything else a server might answer is written `%XX` byte by byte, so no two
/// names share a file and none leaves the folder.
fn file_stem(username: &str) -> String {
    let mut stem = String::new();
    for (i, byte) in username.bytes().enumerate() {
        let plain = byte.is_ascii_lowercase()
            || byte.is_ascii_digit()
            || byte == b'_'
            || byte == b'-'
            || (byte == b'.' && i > 0);
        if plain {
            stem.push(byte as char);
        } else {
            stem.push_str(&format!("%{byte:02X}"));
        }
    }
    stem
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

    const SERVER: &str = "127.0.0.1_8000";

    fn token() -> String {
        "ab".repeat(32)
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
        let kept = KeptLogin::new(dir.path(), SERVER, "alice", Keyring::default());
        assert_eq!(kept.path(), dir.path().join(SERVER).join("signed_in").join("alice.json"));
        assert_eq!(kept.load().await, None);
        assert!(!kept.is_kept());
        assert_eq!(kept.save(&token()).await.expect("saved"), TokenIn::File);
        assert_eq!(raw(&kept), serde_json::json!({ "username": "alice", "token": token() }));
        assert_eq!(kept.load().await, Some(token()));
        assert!(kept.is_kept());
        #[cfg(unix)]
        assert_eq!(mode(kept.path()), 0o600, "no one else may read the token");
        kept.forget().await;
        assert_eq!(kept.load().await, None);
        kept.forget().await;
        std::fs::write(kept.path(), "not json").expect("written");
        assert_eq!(kept.load().await, None, "a damaged file is ignored");
        std::fs::write(kept.path(), r#"{"username":"alice"}"#).expect("written");
        assert_eq!(kept.load().await, None, "a file that says nothing of the token is ignored");
        std::fs::write(kept.path(), format!(r#"{{"username":"bob","token":"{}"}}"#, token()))
            .expect("written");
        assert_eq!(kept.load().await, None, "a file naming another user is not this login");
    }

    #[tokio::test]
    async fn several_users_on_one_server_stay_signed_in_side_by_side() {
        let dir = tempfile::tempdir().expect("a temp dir");
        let alice = KeptLogin::new(dir.path(), SERVER, "alice", Keyring::default());
        let bob = KeptLogin::new(dir.path(), SERVER, "bob", Keyring::default());
        let elsewhere = KeptLogin::new(dir.path(), "chat.example.org_443", "alice", Keyring::default());
        alice.save(&token()).await.expect("saved");
        bob.save(&"12".repeat(32)).await.expect("saved");
        elsewhere.save(&"cd".repeat(32)).await.expect("saved");
        assert_eq!(alice.load().await, Some(token()));
        assert_eq!(bob.load().await, Some("12".repeat(32)));
        bob.forget().await;
        assert_eq!(bob.load().await, None);
        assert_eq!(alice.load().await, Some(token()), "only Bob's login went");
        assert_eq!(elsewhere.load().await, Some("cd".repeat(32)));
    }

    #[test]
    fn user_names_are_file_names_that_stay_in_their_folder() {
        assert_eq!(file_stem("alice.b-c_9"), "alice.b-c_9");
        assert_eq!(file_stem("../x"), "%2E.%2Fx");
        assert_eq!(file_stem(".x"), "%2Ex");
        assert_eq!(file_stem("A%"), "%41%25");
        assert_ne!(file_stem("a%41"), file_stem("aA"));
    }

    /// A login kept by an earlier version, one per server: read for the user it names, and
    /// removed when that user's login is saved again or forgotten.
    #[tokio::test]
    async fn the_earlier_one_file_per_server_is_read_and_replaced_by_the_users_own() {
        let dir = tempfile::tempdir().expect("a temp dir");
        let alice = KeptLogin::new(dir.path(), SERVER, "alice", Keyring::default());
        let bob = KeptLogin::new(dir.path(), SERVER, "bob", Keyring::default());
        std::fs::create_dir_all(dir.path().join(SERVER)).expect("folder");
        let old = format!(r#"{{"username":"alice","token":"{}"}}"#, token());
        std::fs::write(alice.legacy_path(), &old).expect("an old file");
        assert_eq!(alice.load().await, Some(token()));
        assert_eq!(bob.load().await, None, "it is Alice's");

        // Bob's own login leaves Alice's old file alone.
        bob.save(&"12".repeat(32)).await.expect("saved");
        assert!(alice.legacy_path().exists());
        bob.forget().await;
        assert_eq!(alice.load().await, Some(token()));

        // Saved again: the file of her own, and the old one goes.
        let renewed = "ef".repeat(32);
        alice.save(&renewed).await.expect("saved");
        assert!(!alice.legacy_path().exists());
        assert_eq!(alice.load().await, Some(renewed));

        // Forgetting removes an old file too.
        std::fs::write(alice.legacy_path(), &old).expect("an old file");
        alice.forget().await;
        assert!(!alice.legacy_path().exists() && !alice.path().exists());
        assert_eq!(alice.load().await, None);
    }

    #[cfg(all(unix, not(target_os = "macos")))]
    #[tokio::test]
    async fn without_a_session_bus_the_token_is_kept_in_the_file() {
        let dir = tempfile::tempdir().expect("a temp dir");
        let nowhere = format!("unix:path={}", dir.path().join("no-bus").display());
        let kept = KeptLogin::new(dir.path(), SERVER, "alice", Keyring::at(&nowhere));
        assert_eq!(kept.save(&token()).await.expect("saved"), TokenIn::File);
        assert_eq!(raw(&kept)["token"], token());
        assert_eq!(mode(kept.path()), 0o600);
        assert_eq!(kept.load().await, Some(token()));
        kept.forget().await;
        assert!(!kept.path().exists());
    }

    /// A session bus without a Secret Service on it (as under Xvfb): the file it is.
    #[cfg(all(unix, not(target_os = "macos")))]
    #[tokio::test]
    async fn on_a_bus_without_a_secret_service_the_token_is_kept_in_the_file() {
        let Some(bus) = crate::test_bus::PrivateBus::start() else { return };
        let keyring = Keyring::at(&bus.address);
        assert!(matches!(keyring.find(SERVER, "alice").await, Err(KeyringError::Absent(_))));
        let dir = tempfile::tempdir().expect("a temp dir");
        let kept = KeptLogin::new(dir.path(), SERVER, "alice", keyring);
        assert_eq!(kept.save(&token()).await.expect("saved"), TokenIn::File);
        assert_eq!(raw(&kept)["token"], token());
        assert_eq!(kept.load().await, Some(token()));
    }

    /// gnome-keyring on a bus of the test's own: the token goes there, the file only says so,
    /// and forgetting clears both, for that user alone.
    #[cfg(all(unix, not(target_os = "macos")))]
    #[tokio::test]
    async fn with_a_keyring_the_token_is_kept_there_and_the_file_holds_none() {
        let Some(bus) = crate::test_bus::PrivateBus::with_keyring() else { return };
        let keyring = Keyring::at(&bus.address);
        let dir = tempfile::tempdir().expect("a temp dir");
        let kept = KeptLogin::new(dir.path(), SERVER, "alice", keyring.clone());
        let other_server = KeptLogin::new(dir.path(), "chat.example.org_443", "alice", keyring.clone());
        assert_eq!(other_server.save(&"cd".repeat(32)).await.expect("saved"), TokenIn::Keyring);

        assert_eq!(kept.save(&token()).await.expect("saved"), TokenIn::Keyring);
        assert_eq!(raw(&kept), serde_json::json!({ "username": "alice", "token_in": "keyring" }));
        assert_eq!(mode(kept.path()), 0o600);
        assert_eq!(keyring.find(SERVER, "alice").await, Ok(Some(token())));
        assert_eq!(kept.load().await, Some(token()));

        // Saved again with a new token: replaced, not added.
        let renewed = "ef".repeat(32);
        assert_eq!(kept.save(&renewed).await.expect("saved"), TokenIn::Keyring);
        assert_eq!(kept.load().await, Some(renewed.clone()));
        // Another user on the same server: both stay signed in.
        let bob = KeptLogin::new(dir.path(), SERVER, "bob", keyring.clone());
        assert_eq!(bob.save(&"12".repeat(32)).await.expect("saved"), TokenIn::Keyring);
        assert_eq!(keyring.find(SERVER, "alice").await, Ok(Some(renewed)));
        assert_eq!(bob.load().await, Some("12".repeat(32)));

        kept.forget().await;
        assert!(!kept.path().exists());
        assert_eq!(keyring.find(SERVER, "alice").await, Ok(None), "gone from the keyring too");
        assert_eq!(kept.load().await, None);
        assert_eq!(bob.load().await, Some("12".repeat(32)), "Bob's login stays");
        assert_eq!(other_server.load().await, Some("cd".repeat(32)), "other servers' logins stay");

        // The file says the keyring, the keyring has none (removed by the user): no login.
        std::fs::write(kept.path(), r#"{"username":"alice","token_in":"keyring"}"#).expect("written");
        assert_eq!(kept.load().await, None);
    }

    /// A file written before the keyring was used (in the earlier layout, too) still signs in,
    /// and the next save moves its token to the keyring.
    #[cfg(all(unix, not(target_os = "macos")))]
    #[tokio::test]
    async fn a_file_holding_the_token_is_read_and_its_token_moves_to_the_keyring_on_the_next_save() {
        let Some(bus) = crate::test_bus::PrivateBus::with_keyring() else { return };
        let keyring = Keyring::at(&bus.address);
        let dir = tempfile::tempdir().expect("a temp dir");
        let kept = KeptLogin::new(dir.path(), SERVER, "alice", keyring.clone());
        std::fs::create_dir_all(dir.path().join(SERVER)).expect("folder");
        let old = format!(r#"{{"username":"alice","token":"{}"}}"#, token());
        std::fs::write(kept.legacy_path(), old).expect("an old file");
        assert_eq!(kept.load().await, Some(token()));
        assert_eq!(keyring.find(SERVER, "alice").await, Ok(None), "not moved by reading");

        assert_eq!(kept.save(&token()).await.expect("saved"), TokenIn::Keyring);
        let text = std::fs::read_to_string(kept.path()).expect("the file");
        assert!(!text.contains(&token()), "the token left the file: {text}");
        assert!(!kept.legacy_path().exists());
        assert_eq!(keyring.find(SERVER, "alice").await, Ok(Some(token())));
        assert_eq!(kept.load().await, Some(token()));
    }

    /// A locked keyring would ask the user for its password: it is not used, the file keeps
    /// the token, and a token kept in it cannot be had (the form shows) until it is unlocked.
    #[cfg(all(unix, not(target_os = "macos")))]
    #[tokio::test]
    async fn a_locked_keyring_is_not_used() {
        let Some(bus) = crate::test_bus::PrivateBus::with_keyring() else { return };
        let keyring = Keyring::at(&bus.address);
        let dir = tempfile::tempdir().expect("a temp dir");
        let kept = KeptLogin::new(dir.path(), SERVER, "alice", keyring.clone());
        assert_eq!(kept.save(&token()).await.expect("saved"), TokenIn::Keyring);
        bus.lock_keyring().await;
        assert_eq!(keyring.find(SERVER, "alice").await, Err(KeyringError::Locked));
        assert_eq!(kept.load().await, None, "no prompt: the form instead");
        assert!(kept.path().exists(), "kept for when the keyring is unlocked");

        let bob = KeptLogin::new(dir.path(), SERVER, "bob", keyring.clone());
        assert_eq!(bob.save(&"12".repeat(32)).await.expect("saved"), TokenIn::File);
        assert_eq!(raw(&bob)["token"], "12".repeat(32));
        assert_eq!(mode(bob.path()), 0o600);
        assert_eq!(bob.load().await, Some("12".repeat(32)));
    }
}

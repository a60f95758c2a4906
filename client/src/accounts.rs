//! The accounts this computer signed in with, for the login screen's list: server, user name
//! and display name, the most recently used first. Kept as JSON in `<data folder>/accounts.json`
//! (no secret in it: whether an account is still signed in is its kept login, see
//! [`crate::signed_in`]). Every login puts its account first; a display name changed while
//! signed in (on any device) is written at once; removing one from the list takes it out (the
//! caller forgets its kept login).

use crate::address::ServerAddress;
use crate::keyring::Keyring;
use crate::signed_in::KeptLogin;
use kith_shared::api::UserProfile;
use serde::{Deserialize, Serialize};
use std::path::{Path, PathBuf};

/// One account: where, who, and the name others see (as last known while signed in).
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct Account {
    /// The server address as the login form takes it.
    pub server: String,
    /// The socket port when it is not the HTTP port + 1.
    #[serde(default)]
    pub socket_port: Option<u16>,
    pub username: String,
    #[serde(default)]
    pub display_name: String,
    /// The user's id on the server (the colour of the initials).
    #[serde(default)]
    pub user_id: i64,
}

impl Account {
    /// The account of a session: `user` on the server at `address`.
    pub fn of(address: &ServerAddress, user: &UserProfile) -> Self {
        Self {
            server: address.to_string(),
            socket_port: address.custom_socket_port(),
            username: user.username.clone(),
            display_name: user.display_name.clone(),
            user_id: user.id,
        }
    }

    /// The socket port as the login form's field holds it.
    pub fn socket_port_field(&self) -> String {
        self.socket_port.map(|port| port.to_string()).unwrap_or_default()
    }

    /// Which server and user this is: the server's folder name and the user name. None when
    /// the address no longer reads.
    pub fn key(&self) -> Option<(String, String)> {
        let address = ServerAddress::parse(&self.server, &self.socket_port_field()).ok()?;
        Some((address.folder_name(), self.username.clone()))
    }

    /// Whether `other` is the same user on the same server.
    pub fn is(&self, other: &Account) -> bool {
        match (self.key(), other.key()) {
            (Some(mine), Some(theirs)) => mine == theirs,
            _ => self.server == other.server && self.username == other.username,
        }
    }

    /// Where this account's login is kept under the data folder `root`.
    pub fn kept_login(&self, root: &Path, keyring: Keyring) -> Option<KeptLogin> {
        let (folder, username) = self.key()?;
        Some(KeptLogin::new(root, &folder, &username, keyring))
    }

    /// The name to show: the display name, else the user name.
    pub fn name(&self) -> &str {
        if self.display_name.trim().is_empty() { &self.username } else { &self.display_name }
    }
}

/// The list, and where it is saved (nowhere without a data folder).
#[derive(Debug, Clone, Default)]
pub struct Accounts {
    path: Option<PathBuf>,
    /// The most recently used first.
    pub list: Vec<Account>,
}

impl Accounts {
    /// The list kept under the data folder `root` (empty when there is none or it cannot be
    /// read: the next login starts it again).
    pub fn load(root: Option<&Path>) -> Self {
        let Some(path) = root.map(|root| root.join("accounts.json")) else { return Self::default() };
        let list = match std::fs::read_to_string(&path) {
            Ok(text) => serde_json::from_str(&text).unwrap_or_else(|err| {
                tracing::warn!(%err, path = %path.display(), "ignoring a damaged account list");
                Vec::new()
            }),
            Err(err) if err.kind() == std::io::ErrorKind::NotFound => Vec::new(),
            Err(err) => {
                tracing::warn!(%err, path = %path.display(), "cannot read the account list");
                Vec::new()
            }
        };
        Self { path: Some(path), list }
    }

    /// `account` was just used: first in the list, with its newest display name.
    pub fn used(&mut self, account: Account) {
        self.list.retain(|known| !known.is(&account));
        self.list.insert(0, account);
        self.save();
    }

    /// The signed-in user's profile changed (their display name, set here or on another
    /// device): the account's entry follows where it stands. An account not listed stays out.
    pub fn refresh(&mut self, account: Account) {
        let Some(known) = self.list.iter_mut().find(|known| known.is(&account)) else { return };
        if *known != account {
            *known = account;
            self.save();
        }
    }

    /// Takes `account` out of the list.
    pub fn remove(&mut self, account: &Account) {
        self.list.retain(|known| !known.is(account));
        self.save();
    }

    /// Writes the list through a temporary file, so a crash never leaves half of it.
    fn save(&self) {
        let Some(path) = &self.path else { return };
        let write = || -> std::io::Result<()> {
            if let Some(folder) = path.parent() {
                std::fs::create_dir_all(folder)?;
            }
            let temporary = path.with_extension("json.new");
            std::fs::write(
                &temporary,
                serde_json::to_vec_pretty(&self.list).map_err(std::io::Error::other)?,
            )?;
            std::fs::rename(&temporary, path)
        };
        if let Err(err) = write() {
            tracing::warn!(%err, path = %path.display(), "cannot save the account list");
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn account(server: &str, username: &str, display_name: &str) -> Account {
        Account {
            server: server.into(),
            socket_port: None,
            username: username.into(),
            display_name: display_name.into(),
            user_id: 1,
        }
    }

    #[test]
    fn the_last_used_comes_first_and_the_list_is_kept() {
        let dir = tempfile::tempdir().expect("a temp dir");
        let mut accounts = Accounts::load(Some(dir.path()));
        assert!(accounts.list.is_empty());
        accounts.used(account("127.0.0.1:8000", "alice", "Alice"));
        accounts.used(account("127.0.0.1:8000", "bob", "Bob"));
        accounts.used(account("chat.example.org", "alice", "Alice Elsewhere"));
        // The same server written otherwise is the same account; the newest name counts.
        accounts.used(account("http://127.0.0.1:8000", "alice", "Alice Liddell"));
        let names: Vec<_> = accounts.list.iter().map(Account::name).collect();
        assert_eq!(names, ["Alice Liddell", "Alice Elsewhere", "Bob"]);
        assert_eq!(Accounts::load(Some(dir.path())).list, accounts.list, "read back as saved");

        accounts.remove(&account("127.0.0.1:8000", "bob", ""));
        assert_eq!(Accounts::load(Some(dir.path())).list.len(), 2);
        assert!(!Accounts::load(Some(dir.path())).list.iter().any(|a| a.username == "bob"));

        std::fs::write(dir.path().join("accounts.json"), "not json").expect("written");
        assert!(Accounts::load(Some(dir.path())).list.is_empty(), "a damaged list starts again");
        assert!(Accounts::load(None).list.is_empty());
    }

    #[test]
    fn a_new_display_name_is_written_where_the_account_stands() {
        let dir = tempfile::tempdir().expect("a temp dir");
        let mut accounts = Accounts::load(Some(dir.path()));
        accounts.used(account("127.0.0.1:8000", "alice", "Alice"));
        accounts.used(account("127.0.0.1:8000", "bob", "Bob"));
        accounts.refresh(account("http://127.0.0.1:8000", "alice", "Alice Liddell"));
        let names: Vec<_> =
            Accounts::load(Some(dir.path())).list.iter().map(|a| a.name().to_owned()).collect();
        assert_eq!(names, ["Bob", "Alice Liddell"], "renamed, and still second");

        // An account no longer listed is not added back.
        accounts.refresh(account("127.0.0.1:8000", "carol", "Carol"));
        assert_eq!(Accounts::load(Some(dir.path())).list.len(), 2);
    }

    #[test]
    fn an_account_shows_its_user_name_when_it_has_no_display_name() {
        assert_eq!(account("127.0.0.1:8000", "alice", " ").name(), "alice");
        assert_eq!(account("127.0.0.1:8000", "alice", "Alice").name(), "Alice");
    }
}

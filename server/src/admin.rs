//! The operator's commands: `kith-server user add|passwd|disable|enable|delete|list`,
//! `kith-server online` and `kith-server stats`. They work on the configured database
//! directly, whether or not a server is running; a running server learns of what they did
//! through the database within SESSION_CHECK_SECS (see `crate::sessions`):
//!
//! - a new password, or disabling an account, deletes the account's sessions; the server's
//!   session watch finds its sockets' sessions gone and closes them with `kicked` /
//!   `logged_out`. A disabled account's logins are refused with `account_disabled`.
//! - deleting an account deletes its sessions the same way and adds one to the membership
//!   epoch, which makes running servers reload who is in which conversation.
//! - `online` reads the session stamps running servers keep up to date.
//!
//! See docs/operations.md, "Administration", for what deleting an account does.

use crate::auth;
use crate::config::Config;
use crate::store::files::UploadRow;
use crate::store::{NewUser, OnlineRow, Stats, Store, StoreError, UserListRow, now_millis};
use kith_shared::UserId;
use kith_shared::api::GroupId;
use std::fmt::Write as _;
use std::path::PathBuf;

/// Why an operator's command failed.
#[derive(Debug, thiserror::Error)]
pub enum AdminError {
    #[error("cannot create {path}: {source}")]
    Directory { path: PathBuf, source: std::io::Error },
    #[error(transparent)]
    Store(#[from] StoreError),
    #[error("{0}")]
    Invalid(String),
    #[error("there is no account named '{0}'")]
    NoSuchUser(String),
    #[error("the user name '{0}' is taken")]
    Taken(String),
    #[error(
        "{username} owns {} group(s): {}. Say what becomes of them with \
         --owned-groups hand-over (to their longest-standing admin, else member) or \
         --owned-groups dissolve",
        groups.len(),
        groups.join(", ")
    )]
    OwnsGroups { username: String, groups: Vec<String> },
    #[error("password hashing failed: {0}")]
    Hash(String),
}

impl From<auth::FieldError> for AdminError {
    fn from(err: auth::FieldError) -> Self {
        AdminError::Invalid(err.message)
    }
}

/// What becomes of the groups an account owns when it is deleted.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum OwnedGroups {
    /// Each goes to its longest-standing admin, else its longest-standing member; a group
    /// with no one else in it is dissolved.
    HandOver,
    /// Each is dissolved, as if the owner dissolved it.
    Dissolve,
}

/// What deleting an account did.
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct Deleted {
    pub id: UserId,
    /// Groups handed over, with their new owner.
    pub handed_over: Vec<(GroupId, UserId)>,
    pub dissolved: Vec<GroupId>,
    /// Uploads whose files were removed from UPLOAD_DIR.
    pub uploads_removed: usize,
}

/// The operator's handle on the database.
pub struct Admin {
    store: Store,
    config: Config,
}

impl Admin {
    /// Opens the configured database (creating the data directory for the default SQLite
    /// file, and applying migrations, as the server does).
    pub async fn open(config: Config) -> Result<Self, AdminError> {
        std::fs::create_dir_all(&config.data_dir)
            .map_err(|source| AdminError::Directory { path: config.data_dir.clone(), source })?;
        let store = Store::open(&config.database_url()).await?;
        Ok(Self { store, config })
    }

    /// Closes the database.
    pub async fn close(self) {
        self.store.close().await;
    }

    async fn user(&self, username: &str) -> Result<crate::store::UserRow, AdminError> {
        let name = username.trim().to_lowercase();
        self.store.user_by_username(&name).await?.ok_or(AdminError::NoSuchUser(name))
    }

    /// `user add`: creates an account, with the user name as its display name unless one is
    /// given. The rules are those of registration.
    pub async fn add_user(
        &self,
        username: &str,
        display_name: Option<&str>,
        password: String,
    ) -> Result<UserId, AdminError> {
        let username = auth::normalize_username(username)?;
        let display_name = auth::normalize_display_name(display_name.unwrap_or(&username))?;
        auth::check_password(&password)?;
        let password_hash = hash(password).await?;
        let new_user =
            NewUser { username: &username, display_name: &display_name, password_hash: &password_hash };
        match self.store.create_user(new_user).await {
            Ok(id) => Ok(id),
            Err(err) if err.is_unique_violation() => Err(AdminError::Taken(username)),
            Err(err) => Err(err.into()),
        }
    }

    /// `user passwd`: sets a new password and ends every session of the account. Returns
    /// how many sessions ended.
    pub async fn set_password(&self, username: &str, password: String) -> Result<u64, AdminError> {
        let user = self.user(username).await?;
        auth::check_password(&password)?;
        let password_hash = hash(password).await?;
        self.store.set_password_hash(user.id, &password_hash).await?;
        Ok(self.store.delete_sessions_of(user.id).await?)
    }

    /// `user disable`: refuses the account's logins from now on and ends its sessions.
    /// Returns how many sessions ended.
    pub async fn disable(&self, username: &str) -> Result<u64, AdminError> {
        let user = self.user(username).await?;
        self.store.set_disabled(user.id, true).await?;
        Ok(self.store.delete_sessions_of(user.id).await?)
    }

    /// `user enable`: the account may log in again.
    pub async fn enable(&self, username: &str) -> Result<(), AdminError> {
        let user = self.user(username).await?;
        self.store.set_disabled(user.id, false).await?;
        Ok(())
    }

    /// `user delete`: see docs/operations.md, "Deleting an account". Refused for the owner of
    /// a group unless `owned_groups` says what becomes of those groups.
    pub async fn delete_user(
        &self,
        username: &str,
        owned_groups: Option<OwnedGroups>,
    ) -> Result<Deleted, AdminError> {
        let user = self.user(username).await?;
        let owned = self.store.groups_owned_by(user.id).await?;
        let mut deleted = Deleted { id: user.id, ..Deleted::default() };
        if !owned.is_empty() {
            let Some(rule) = owned_groups else {
                let groups = owned
                    .iter()
                    .map(|g| format!("#{} {}", g.id, g.name.as_deref().unwrap_or("")).trim_end().to_owned())
                    .collect();
                return Err(AdminError::OwnsGroups { username: user.username, groups });
            };
            for group in &owned {
                let successor = match rule {
                    OwnedGroups::HandOver => self.store.successor(group.id, user.id).await?,
                    OwnedGroups::Dissolve => None,
                };
                match successor {
                    Some(next) => {
                        self.store.transfer_ownership(group.id, user.id, next).await?;
                        deleted.handed_over.push((group.id, next));
                    }
                    None => {
                        self.store.dissolve_group(group.id).await?;
                        deleted.dissolved.push(group.id);
                    }
                }
            }
        }
        let uploads = self.store.live_uploads_of(user.id).await?;
        self.store.delete_user(user.id).await?;
        // The rows are gone with the account; now the files.
        for upload in &uploads {
            remove_upload_files(&self.config, upload);
        }
        deleted.uploads_removed = uploads.len();
        if let Some(avatar) = &user.avatar {
            remove_file(self.config.data_dir.join("avatars").join(avatar));
        }
        Ok(deleted)
    }

    /// `user list`: every account.
    pub async fn users(&self) -> Result<Vec<UserListRow>, AdminError> {
        Ok(self.store.list_users().await?)
    }

    /// `online`: the sessions running servers have a socket on.
    pub async fn online(&self) -> Result<Vec<OnlineRow>, AdminError> {
        Ok(self.store.online_sessions(now_millis()).await?)
    }

    /// `stats`: counts and sizes.
    pub async fn stats(&self) -> Result<Stats, AdminError> {
        Ok(self.store.stats(now_millis()).await?)
    }
}

async fn hash(password: String) -> Result<String, AdminError> {
    tokio::task::spawn_blocking(move || auth::Hasher::new().hash(&password))
        .await
        .map_err(|err| AdminError::Hash(err.to_string()))?
        .map_err(|err| AdminError::Hash(err.to_string()))
}

fn remove_upload_files(config: &Config, upload: &UploadRow) {
    for name in std::iter::once(&upload.id).chain(upload.thumbnail_id.as_ref()) {
        remove_file(config.upload_dir.join(name));
    }
}

fn remove_file(path: PathBuf) {
    match std::fs::remove_file(&path) {
        Ok(()) => {}
        Err(err) if err.kind() == std::io::ErrorKind::NotFound => {}
        Err(err) => tracing::warn!(%err, path = %path.display(), "could not remove a file"),
    }
}

/// A random password of 20 letters and digits (about 115 bits), without the look-alikes
/// 0/O, 1/l/I.
pub fn generate_password() -> Result<String, getrandom::Error> {
    const ALPHABET: &[u8] = b"abcdefghijkmnopqrstuvwxyzABCDEFGHJKLMNPQRSTUVWXYZ23456789";
    // Bytes at or over this bound would favour the first letters; they are drawn again.
    let bound = 256 - 256 % ALPHABET.len();
    let mut password = String::with_capacity(20);
    while password.len() < 20 {
        let mut bytes = [0u8; 32];
        getrandom::fill(&mut bytes)?;
        for byte in bytes {
            if (byte as usize) < bound && password.len() < 20 {
                password.push(ALPHABET[byte as usize % ALPHABET.len()] as char);
            }
        }
    }
    Ok(password)
}

/// `user list` as a table.
pub fn users_table(rows: &[UserListRow]) -> String {
    let mut out = String::new();
    let name_width = rows.iter().map(|r| r.username.len()).max().unwrap_or(0).max("USERNAME".len());
    let display_width =
        rows.iter().map(|r| r.display_name.chars().count()).max().unwrap_or(0).max("DISPLAY NAME".len());
    let _ = writeln!(
        out,
        "{:>6}  {:<name_width$}  {:<display_width$}  {:<8}  CREATED",
        "ID", "USERNAME", "DISPLAY NAME", "STATUS"
    );
    for row in rows {
        let status = if row.disabled { "disabled" } else { "active" };
        let _ = writeln!(
            out,
            "{:>6}  {:<name_width$}  {:<display_width$}  {:<8}  {}",
            row.id,
            row.username,
            row.display_name,
            status,
            utc(row.created_at)
        );
    }
    let disabled = rows.iter().filter(|r| r.disabled).count();
    let _ = writeln!(out, "{} account(s), {disabled} disabled", rows.len());
    out
}

/// `online` as a table, one line per connected session.
pub fn online_table(rows: &[OnlineRow]) -> String {
    let mut out = String::new();
    if rows.is_empty() {
        out.push_str("nobody is connected\n");
        return out;
    }
    let name_width = rows.iter().map(|r| r.username.len()).max().unwrap_or(0).max("USERNAME".len());
    let display_width =
        rows.iter().map(|r| r.display_name.chars().count()).max().unwrap_or(0).max("DISPLAY NAME".len());
    let _ = writeln!(out, "{:<name_width$}  {:<display_width$}  CONNECTED SINCE", "USERNAME", "DISPLAY NAME");
    for row in rows {
        let since = row.connected_at.map_or_else(|| "-".to_owned(), utc);
        let _ = writeln!(out, "{:<name_width$}  {:<display_width$}  {since}", row.username, row.display_name);
    }
    let mut users: Vec<i64> = rows.iter().map(|r| r.user_id).collect();
    users.sort_unstable();
    users.dedup();
    let _ = writeln!(out, "{} user(s) connected, {} session(s)", users.len(), rows.len());
    out
}

/// `stats` as lines of `name: value`.
pub fn stats_text(stats: &Stats) -> String {
    let mut out = String::new();
    let _ = writeln!(out, "users: {} ({} disabled)", stats.users, stats.disabled_users);
    let _ = writeln!(out, "sessions: {}", stats.sessions);
    let _ = writeln!(out, "online users: {}", stats.online_users);
    let _ = writeln!(out, "groups: {}", stats.groups);
    let _ = writeln!(out, "direct conversations: {}", stats.direct_conversations);
    let _ = writeln!(out, "messages: {}", stats.messages);
    let _ = writeln!(out, "uploads on disk: {} ({})", stats.uploads, bytes(stats.upload_bytes));
    match stats.database_bytes {
        Some(size) => {
            let _ = writeln!(out, "database size: {}", bytes(size));
        }
        None => out.push_str("database size: unknown\n"),
    }
    out
}

/// A byte count for people: `1234567 bytes (1.2 MiB)`.
fn bytes(n: i64) -> String {
    const UNITS: [&str; 4] = ["KiB", "MiB", "GiB", "TiB"];
    if n < 1024 {
        return format!("{n} bytes");
    }
    let mut value = n as f64;
    let mut unit = "";
    for next in UNITS {
        if value < 1024.0 {
            break;
        }
        value /= 1024.0;
        unit = next;
    }
    format!("{n} bytes ({value:.1} {unit})")
}

/// Unix milliseconds as `YYYY-MM-DD HH:MM:SS UTC`.
pub fn utc(millis: i64) -> String {
    let secs = millis.div_euclid(1000);
    let (days, rest) = (secs.div_euclid(86_400), secs.rem_euclid(86_400));
    // Days since 1970-01-01 to a civil date (Howard Hinnant's algorithm).
    let z = days + 719_468;
    let era = z.div_euclid(146_097);
    let doe = z.rem_euclid(146_097);
    let yoe = (doe - doe / 1460 + doe / 36_524 - doe / 146_096) / 365;
    let doy = doe - (365 * yoe + yoe / 4 - yoe / 100);
    let mp = (5 * doy + 2) / 153;
    let day = doy - (153 * mp + 2) / 5 + 1;
    let month = if mp < 10 { mp + 3 } else { mp - 9 };
    let year = yoe + era * 400 + i64::from(month <= 2);
    format!("{year:04}-{month:02}-{day:02} {:02}:{:02}:{:02} UTC", rest / 3600, rest % 3600 / 60, rest % 60)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn dates_are_civil() {
        assert_eq!(utc(0), "1970-01-01 00:00:00 UTC");
        assert_eq!(utc(951_782_400_000), "2000-02-29 00:00:00 UTC");
        assert_eq!(utc(1_735_689_599_000), "2024-12-31 23:59:59 UTC");
    }

    #[test]
    fn generated_passwords_are_long_and_plain() {
        let a = generate_password().expect("random");
        let b = generate_password().expect("random");
        assert_eq!(a.len(), 20);
        assert!(a.chars().all(|c| c.is_ascii_alphanumeric() && !"0O1lI".contains(c)));
        assert_ne!(a, b);
    }

    #[test]
    fn byte_counts_read_well() {
        assert_eq!(bytes(12), "12 bytes");
        assert_eq!(bytes(1536), "1536 bytes (1.5 KiB)");
        assert_eq!(bytes(5 << 20), "5242880 bytes (5.0 MiB)");
    }
}

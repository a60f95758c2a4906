//! The local history cache: one SQLite database per server and user, under the platform
//! data folder (`~/.local/share/kith/<host_port>/<user_id>/history.db` on Linux;
//! `KITH_CLIENT_DATA_DIR` points elsewhere). The chat view reads from it; the network writes to it.
//! A message the user sends is written here first (pending), then marked sent when the
//! server acknowledges it.

use kith_shared::UserId;
use kith_shared::api::ConversationId;
use kith_shared::frame::{ChatMessage, Content, Forwarded};
use sqlx::Row;
use sqlx::sqlite::{SqliteConnectOptions, SqliteJournalMode, SqlitePool, SqlitePoolOptions};
use std::path::{Path, PathBuf};

mod reactions;

#[derive(Debug, thiserror::Error)]
pub enum HistoryError {
    #[error("cannot create {path}: {source}")]
    Folder { path: PathBuf, source: std::io::Error },
    #[error("local history database: {0}")]
    Database(#[from] sqlx::Error),
    #[error("a stored message cannot be read: {0}")]
    Corrupt(String),
}

/// Where a message stands on its way to the server.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Delivery {
    /// Written locally, not yet acknowledged.
    Pending,
    /// Stored by the server (it has a sequence number).
    Sent,
    /// The server refused it.
    Failed,
}

impl Delivery {
    fn parse(text: &str) -> Self {
        match text {
            "pending" => Delivery::Pending,
            "failed" => Delivery::Failed,
            _ => Delivery::Sent,
        }
    }
}

/// A message as the cache holds it.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct StoredMessage {
    /// The cache's own row id.
    pub local_id: i64,
    pub conversation_id: ConversationId,
    /// None while pending.
    pub seq: Option<i64>,
    pub server_id: Option<i64>,
    pub client_id: Option<String>,
    pub sender_id: Option<UserId>,
    /// Unix milliseconds: the server's time once sent, the local time while pending.
    pub sent_at: i64,
    pub content: Content,
    pub delivery: Delivery,
    /// When the text was last edited (server time), if it was.
    pub edited_at: Option<i64>,
    /// The user deleted it for themselves: only a quote of it still reads it (as "deleted").
    pub hidden: bool,
    /// A forward: whose message it first was (boxed: few messages are forwards).
    pub forwarded_from: Option<Box<Forwarded>>,
}

/// The statement that puts a message row into the search index: its text, or a file's or
/// picture's name. `$row` is the row's prefix (`new.` in a trigger, empty for a table scan)
/// and `$from` where the rows come from (nothing in a trigger).
macro_rules! index_row {
    ($row:literal, $from:literal) => {
        concat!(
            "INSERT INTO message_search (rowid, body) SELECT ",
            $row,
            "local_id, ",
            "CASE json_extract(",
            $row,
            "content, '$.type') ",
            "WHEN 'text' THEN json_extract(",
            $row,
            "content, '$.text') ",
            "ELSE json_extract(",
            $row,
            "content, '$.name') END ",
            $from,
            " WHERE json_extract(",
            $row,
            "content, '$.type') IN ('text', 'file', 'image') AND json_extract(",
            $row,
            "content, '$.edit_of') IS NULL"
        )
    };
}

const SCHEMA: &[&str] = &[
    // Conversations the user takes part in: one-to-one chats and groups, by server id.
    "CREATE TABLE IF NOT EXISTS conversations (
        id INTEGER PRIMARY KEY,
        kind TEXT NOT NULL,
        peer_id INTEGER,
        title TEXT NOT NULL DEFAULT '',
        read_seq INTEGER NOT NULL DEFAULT 0,
        unread INTEGER NOT NULL DEFAULT 0,
        muted INTEGER NOT NULL DEFAULT 0
    )",
    // Every message seen or sent. `seq` is the server's per-conversation sequence number,
    // NULL while a sent message waits for its acknowledgement.
    "CREATE TABLE IF NOT EXISTS messages (
        local_id INTEGER PRIMARY KEY AUTOINCREMENT,
        conversation_id INTEGER NOT NULL,
        seq INTEGER,
        server_id INTEGER,
        client_id TEXT UNIQUE,
        sender_id INTEGER,
        sent_at INTEGER NOT NULL,
        content TEXT NOT NULL,
        delivery TEXT NOT NULL,
        edited_at INTEGER,
        hidden INTEGER NOT NULL DEFAULT 0,
        forwarded_from TEXT
    )",
    "CREATE UNIQUE INDEX IF NOT EXISTS messages_by_seq ON messages (conversation_id, seq)",
    // Full-text search over what people wrote (text, and the names of files and pictures),
    // by the message's local id; kept in step by the triggers below.
    "CREATE VIRTUAL TABLE IF NOT EXISTS message_search USING fts5(body, tokenize = 'unicode61 remove_diacritics 2')",
    concat!(
        "CREATE TRIGGER IF NOT EXISTS message_search_insert AFTER INSERT ON messages BEGIN ",
        index_row!("new.", ""),
        "; END"
    ),
    concat!(
        "CREATE TRIGGER IF NOT EXISTS message_search_update AFTER UPDATE OF content ON messages BEGIN ",
        "DELETE FROM message_search WHERE rowid = old.local_id; ",
        index_row!("new.", ""),
        "; END"
    ),
    "CREATE TRIGGER IF NOT EXISTS message_search_delete AFTER DELETE ON messages BEGIN
        DELETE FROM message_search WHERE rowid = old.local_id;
    END",
    // Reactions on messages, by who put which emoji: `on` now or taken back, as of the
    // reaction message `changed_seq` (0: as a history page said), so that a change fetched
    // after a newer one never undoes it.
    "CREATE TABLE IF NOT EXISTS reactions (
        conversation_id INTEGER NOT NULL,
        seq INTEGER NOT NULL,
        user_id INTEGER NOT NULL,
        emoji TEXT NOT NULL,
        is_on INTEGER NOT NULL,
        changed_seq INTEGER NOT NULL,
        PRIMARY KEY (conversation_id, seq, user_id, emoji)
    )",
    // Files of messages that are on this computer: downloaded, or sent from here.
    "CREATE TABLE IF NOT EXISTS files (
        upload_id TEXT PRIMARY KEY,
        path TEXT NOT NULL
    )",
];

/// The cache of one user on one server.
#[derive(Debug, Clone)]
pub struct History {
    pool: SqlitePool,
}

impl History {
    /// The data folder: `$KITH_CLIENT_DATA_DIR`, or the platform data folder.
    pub fn default_root() -> Option<PathBuf> {
        if let Some(dir) = std::env::var_os("KITH_CLIENT_DATA_DIR") {
            return Some(PathBuf::from(dir));
        }
        directories::ProjectDirs::from("", "", "kith").map(|dirs| dirs.data_dir().to_path_buf())
    }

    /// The database file of `user_id` on the server whose folder name is `server`.
    pub fn path_for(root: &Path, server: &str, user_id: UserId) -> PathBuf {
        root.join(server).join(user_id.to_string()).join("history.db")
    }

    /// Opens (creating if needed) the database at `path`.
    pub async fn open(path: &Path) -> Result<Self, HistoryError> {
        if let Some(dir) = path.parent() {
            tokio::fs::create_dir_all(dir)
                .await
                .map_err(|source| HistoryError::Folder { path: dir.to_owned(), source })?;
        }
        let options = SqliteConnectOptions::new()
            .filename(path)
            .create_if_missing(true)
            .journal_mode(SqliteJournalMode::Wal)
            .busy_timeout(std::time::Duration::from_secs(10));
        // One connection: the cache's traffic is small, and two writers in one process only
        // make each other fail with "database is locked".
        let pool: SqlitePool = SqlitePoolOptions::new().max_connections(1).connect_with(options).await?;
        for statement in SCHEMA {
            sqlx::query(*statement).execute(&pool).await?;
        }
        // Caches made before search existed: index what they hold, once (version 1).
        let version: i64 = sqlx::query_scalar("PRAGMA user_version").fetch_one(&pool).await?;
        if version < 1 {
            sqlx::query(concat!(
                index_row!("", "FROM messages"),
                " AND local_id NOT IN (SELECT rowid FROM message_search)"
            ))
            .execute(&pool)
            .await?;
            sqlx::query("PRAGMA user_version = 1").execute(&pool).await?;
        }
        // Columns added since (each version adds one): caches made before edits, "delete for
        // me" and forwards existed.
        let added = [
            ("edited_at", "edited_at INTEGER"),
            ("hidden", "hidden INTEGER NOT NULL DEFAULT 0"),
            ("forwarded_from", "forwarded_from TEXT"),
        ];
        for (number, (name, definition)) in (2..).zip(added) {
            if version < number {
                let columns: Vec<String> =
                    sqlx::query_scalar("SELECT name FROM pragma_table_info('messages')")
                        .fetch_all(&pool)
                        .await?;
                if !columns.iter().any(|c| c == name) {
                    sqlx::query(sqlx::AssertSqlSafe(format!("ALTER TABLE messages ADD COLUMN {definition}")))
                        .execute(&pool)
                        .await?;
                }
                sqlx::query(sqlx::AssertSqlSafe(format!("PRAGMA user_version = {number}")))
                    .execute(&pool)
                    .await?;
            }
        }
        Ok(Self { pool })
    }

    /// Closes the database, waiting for pending writes.
    pub async fn close(&self) {
        self.pool.close().await;
    }

    /// Writes a message the user is about to send, before it goes to the server.
    pub async fn add_outgoing(
        &self,
        conversation_id: ConversationId,
        client_id: &str,
        sender_id: UserId,
        content: &Content,
        now_ms: i64,
    ) -> Result<StoredMessage, HistoryError> {
        let json = content_json(content);
        let local_id: i64 = sqlx::query_scalar(
            "INSERT INTO messages (conversation_id, client_id, sender_id, sent_at, content, delivery)
             VALUES (?, ?, ?, ?, ?, 'pending') RETURNING local_id",
        )
        .bind(conversation_id)
        .bind(client_id)
        .bind(sender_id)
        .bind(now_ms)
        .bind(json)
        .fetch_one(&self.pool)
        .await?;
        Ok(StoredMessage {
            local_id,
            conversation_id,
            seq: None,
            server_id: None,
            client_id: Some(client_id.to_owned()),
            sender_id: Some(sender_id),
            sent_at: now_ms,
            content: content.clone(),
            delivery: Delivery::Pending,
            edited_at: None,
            hidden: false,
            forwarded_from: None,
        })
    }

    /// The server stored the message sent with `client_id`. Returns whether it was known.
    /// An edit the user sent now changes the message it edits.
    pub async fn acknowledge(
        &self,
        client_id: &str,
        server_id: i64,
        seq: i64,
        sent_at: i64,
    ) -> Result<bool, HistoryError> {
        let mut tx = self.pool.begin().await?;
        let acknowledged: Option<(i64, String, Option<UserId>)> = sqlx::query_as(
            "UPDATE messages SET server_id = ?, seq = ?, sent_at = ?, delivery = 'sent'
             WHERE client_id = ? AND delivery != 'sent' RETURNING conversation_id, content, sender_id",
        )
        .bind(server_id)
        .bind(seq)
        .bind(sent_at)
        .bind(client_id)
        .fetch_optional(&mut *tx)
        .await?;
        let Some((conversation_id, content, sender_id)) = acknowledged else { return Ok(false) };
        let content: Option<Content> = serde_json::from_str(&content).ok();
        if let Some(Content::Text { text, edit_of: Some(edited), .. }) = &content {
            apply_edit(&mut tx, conversation_id, *edited, text, sent_at).await?;
        }
        if let (Some(content), Some(sender)) = (&content, sender_id) {
            reactions::apply(&mut tx, conversation_id, seq, sender, content).await?;
        }
        tx.commit().await?;
        Ok(true)
    }

    /// The server refused the message sent with `client_id`.
    pub async fn mark_failed(&self, client_id: &str) -> Result<(), HistoryError> {
        sqlx::query("UPDATE messages SET delivery = 'failed' WHERE client_id = ? AND delivery = 'pending'")
            .bind(client_id)
            .execute(&self.pool)
            .await?;
        Ok(())
    }

    /// Stores a message from the server (live or from history). The user's own pending copy
    /// becomes sent; a message already stored is left alone. A recall replaces the recalled
    /// message's content. Returns whether the message was new to the cache.
    pub async fn store(&self, message: &ChatMessage) -> Result<bool, HistoryError> {
        let mut tx = self.pool.begin().await?;
        // Reactions first: a reaction applies once, however the message reaches the cache.
        reactions::store(&mut tx, message).await?;
        if let Some(client_id) = &message.client_id {
            let updated = sqlx::query(
                "UPDATE messages SET server_id = ?, seq = ?, sent_at = ?, delivery = 'sent'
                 WHERE client_id = ? AND conversation_id = ? AND seq IS NULL",
            )
            .bind(message.id)
            .bind(message.seq)
            .bind(message.sent_at)
            .bind(client_id)
            .bind(message.conversation_id)
            .execute(&mut *tx)
            .await?;
            if updated.rows_affected() > 0 {
                tx.commit().await?;
                return Ok(false);
            }
        }
        let inserted = sqlx::query(
            "INSERT INTO messages (conversation_id, seq, server_id, client_id, sender_id, sent_at, content,
               delivery, edited_at, forwarded_from)
             VALUES (?, ?, ?, ?, ?, ?, ?, 'sent', ?, ?)
             ON CONFLICT DO NOTHING",
        )
        .bind(message.conversation_id)
        .bind(message.seq)
        .bind(message.id)
        .bind(&message.client_id)
        .bind(message.sender_id)
        .bind(message.sent_at)
        .bind(content_json(&message.content))
        .bind(message.edited_at)
        .bind(message.forwarded_from.as_ref().map(|from| serde_json::to_string(from).unwrap_or_default()))
        .execute(&mut *tx)
        .await?;
        if let Content::Text { text, edit_of: Some(edited), .. } = &message.content {
            apply_edit(&mut tx, message.conversation_id, *edited, text, message.sent_at).await?;
        }
        if let Content::Recall { seq, by } = &message.content {
            sqlx::query("UPDATE messages SET content = ? WHERE conversation_id = ? AND seq = ?")
                .bind(content_json(&Content::Recalled { by: by.clone() }))
                .bind(message.conversation_id)
                .bind(*seq)
                .execute(&mut *tx)
                .await?;
        }
        tx.commit().await?;
        Ok(inserted.rows_affected() > 0)
    }

    /// The user deleted messages `seqs` of a conversation for themselves: their words leave
    /// the cache (and its search), and a row stays for each, marked hidden, so that the cursor
    /// runs past it and a later fetch does not bring it back. Edits of them go the same way.
    pub async fn hide(&self, conversation_id: ConversationId, seqs: &[i64]) -> Result<(), HistoryError> {
        let marker = content_json(&Content::RECALLED);
        let mut tx = self.pool.begin().await?;
        for seq in seqs {
            sqlx::query(
                "INSERT INTO messages (conversation_id, seq, sent_at, content, delivery, hidden)
                 VALUES (?, ?, 0, ?, 'sent', 1)
                 ON CONFLICT (conversation_id, seq) DO UPDATE SET content = excluded.content, hidden = 1",
            )
            .bind(conversation_id)
            .bind(seq)
            .bind(&marker)
            .execute(&mut *tx)
            .await?;
            sqlx::query(
                "UPDATE messages SET content = json_set(content, '$.text', ''), hidden = 1
                 WHERE conversation_id = ? AND json_extract(content, '$.edit_of') = ?",
            )
            .bind(conversation_id)
            .bind(seq)
            .execute(&mut *tx)
            .await?;
        }
        tx.commit().await?;
        Ok(())
    }

    /// How many messages of a conversation the cache holds as deleted by the user.
    pub async fn hidden_count(&self, conversation_id: ConversationId) -> Result<u64, HistoryError> {
        let count: i64 = sqlx::query_scalar(
            "SELECT COUNT(*) FROM messages WHERE conversation_id = ? AND hidden = 1
               AND seq IS NOT NULL AND json_extract(content, '$.edit_of') IS NULL",
        )
        .bind(conversation_id)
        .fetch_one(&self.pool)
        .await?;
        Ok(u64::try_from(count).unwrap_or(0))
    }

    /// The highest `seq` up to which the cache holds every message after `floor` (the
    /// server's `joined_seq`: nothing before it is visible), or `floor` when it does not hold
    /// `floor + 1`: where catching up with the server starts.
    pub async fn cursor(&self, conversation_id: ConversationId, floor: i64) -> Result<i64, HistoryError> {
        let first: Option<i64> =
            sqlx::query_scalar("SELECT MIN(seq) FROM messages WHERE conversation_id = ? AND seq > ?")
                .bind(conversation_id)
                .bind(floor)
                .fetch_one(&self.pool)
                .await?;
        if first != Some(floor + 1) {
            return Ok(floor);
        }
        let seq: Option<i64> = sqlx::query_scalar(
            "SELECT MIN(seq) FROM messages m
             WHERE conversation_id = ? AND seq > ?
               AND NOT EXISTS (SELECT 1 FROM messages n
                               WHERE n.conversation_id = m.conversation_id AND n.seq = m.seq + 1)",
        )
        .bind(conversation_id)
        .bind(floor)
        .fetch_one(&self.pool)
        .await?;
        Ok(seq.unwrap_or(floor))
    }

    /// Messages written locally that the server has not acknowledged, oldest first.
    pub async fn pending(&self) -> Result<Vec<StoredMessage>, HistoryError> {
        let rows = sqlx::query(
            "SELECT local_id, conversation_id, seq, server_id, client_id, sender_id, sent_at, content, delivery, edited_at, forwarded_from
             FROM messages WHERE delivery = 'pending' ORDER BY local_id",
        )
        .fetch_all(&self.pool)
        .await?;
        rows.iter().map(read_message).collect()
    }

    /// Message `seq` of a conversation, if the cache holds it.
    pub async fn message_at(
        &self,
        conversation_id: ConversationId,
        seq: i64,
    ) -> Result<Option<StoredMessage>, HistoryError> {
        let row = sqlx::query(
            "SELECT local_id, conversation_id, seq, server_id, client_id, sender_id, sent_at, content, delivery,
               edited_at, hidden, forwarded_from
             FROM messages WHERE conversation_id = ? AND seq = ?",
        )
        .bind(conversation_id)
        .bind(seq)
        .fetch_optional(&self.pool)
        .await?;
        row.as_ref().map(read_message).transpose()
    }

    /// Those of messages `seqs` of a conversation that the cache holds.
    pub async fn messages_at(
        &self,
        conversation_id: ConversationId,
        seqs: &[i64],
    ) -> Result<Vec<StoredMessage>, HistoryError> {
        let mut found = Vec::with_capacity(seqs.len());
        for seq in seqs {
            found.extend(self.message_at(conversation_id, *seq).await?);
        }
        Ok(found)
    }

    /// The newest `limit` messages of a conversation, oldest first; pending ones last. Edits
    /// and reactions are not among them: they changed the messages they edit or react to.
    pub async fn recent(
        &self,
        conversation_id: ConversationId,
        limit: u32,
    ) -> Result<Vec<StoredMessage>, HistoryError> {
        let rows = sqlx::query(
            "SELECT * FROM (
               SELECT local_id, conversation_id, seq, server_id, client_id, sender_id, sent_at, content,
                 delivery, edited_at, forwarded_from
               FROM messages WHERE conversation_id = ? AND json_extract(content, '$.edit_of') IS NULL
                 AND json_extract(content, '$.reaction_of') IS NULL
                 AND hidden = 0
               ORDER BY seq IS NULL DESC, seq DESC, local_id DESC LIMIT ?
             ) ORDER BY seq IS NULL, seq, local_id",
        )
        .bind(conversation_id)
        .bind(i64::from(limit))
        .fetch_all(&self.pool)
        .await?;
        rows.iter().map(read_message).collect()
    }

    /// The latest message of a conversation (or of every conversation with `None`) that is
    /// shown in the chat: the recall markers are left out. Pending messages count as latest.
    pub async fn latest(
        &self,
        conversation_id: Option<ConversationId>,
    ) -> Result<Vec<StoredMessage>, HistoryError> {
        let rows = sqlx::query(
            "SELECT local_id, conversation_id, seq, server_id, client_id, sender_id, sent_at, content, delivery, edited_at, forwarded_from
             FROM (
               SELECT *, ROW_NUMBER() OVER (
                   PARTITION BY conversation_id ORDER BY seq IS NULL DESC, seq DESC, local_id DESC
                 ) AS newest
               FROM messages
               WHERE (?1 IS NULL OR conversation_id = ?1) AND json_extract(content, '$.type') != 'recall'
                 AND json_extract(content, '$.edit_of') IS NULL
                 AND json_extract(content, '$.reaction_of') IS NULL AND hidden = 0
             ) WHERE newest = 1",
        )
        .bind(conversation_id)
        .fetch_all(&self.pool)
        .await?;
        rows.iter().map(read_message).collect()
    }
}

impl History {
    /// Messages of every conversation whose words start with the words of `query`, newest
    /// first, at most `limit`.
    pub async fn search(&self, query: &str, limit: u32) -> Result<Vec<StoredMessage>, HistoryError> {
        let Some(query) = fts_query(query) else { return Ok(Vec::new()) };
        let rows = sqlx::query(
            "SELECT m.local_id, m.conversation_id, m.seq, m.server_id, m.client_id, m.sender_id, m.sent_at,
               m.content, m.delivery, m.edited_at, m.forwarded_from
             FROM message_search s JOIN messages m ON m.local_id = s.rowid
             WHERE message_search MATCH ? AND m.hidden = 0
             ORDER BY m.sent_at DESC, m.local_id DESC LIMIT ?",
        )
        .bind(query)
        .bind(i64::from(limit))
        .fetch_all(&self.pool)
        .await?;
        rows.iter().map(read_message).collect()
    }

    /// How many messages of a conversation have a sequence number of `seq` or more (or are
    /// pending): how many of the newest to read so that `seq` is among them.
    pub async fn count_from(&self, conversation_id: ConversationId, seq: i64) -> Result<u32, HistoryError> {
        let count: i64 = sqlx::query_scalar(
            "SELECT COUNT(*) FROM messages WHERE conversation_id = ? AND (seq IS NULL OR seq >= ?) AND hidden = 0",
        )
        .bind(conversation_id)
        .bind(seq)
        .fetch_one(&self.pool)
        .await?;
        Ok(u32::try_from(count).unwrap_or(u32::MAX))
    }

    /// The messages of a conversation after `after` that mention `me` (by name or through
    /// `@all`) and were sent by someone else, oldest first.
    pub async fn mentions_after(
        &self,
        conversation_id: ConversationId,
        after: i64,
        me: UserId,
    ) -> Result<Vec<i64>, HistoryError> {
        let rows = sqlx::query(
            "SELECT local_id, conversation_id, seq, server_id, client_id, sender_id, sent_at, content, delivery,
               edited_at, forwarded_from
             FROM messages WHERE conversation_id = ? AND seq > ? AND sender_id != ? AND hidden = 0
               AND json_extract(content, '$.mentions') IS NOT NULL
             ORDER BY seq",
        )
        .bind(conversation_id)
        .bind(after)
        .bind(me)
        .fetch_all(&self.pool)
        .await?;
        let mut seqs = Vec::new();
        for row in &rows {
            let message = read_message(row)?;
            if message.content.mentions(me) {
                seqs.extend(message.seq);
            }
        }
        Ok(seqs)
    }

    /// Notes where the file of upload `upload_id` is on this computer.
    pub async fn record_file(&self, upload_id: &str, path: &Path) -> Result<(), HistoryError> {
        sqlx::query("INSERT INTO files (upload_id, path) VALUES (?, ?) ON CONFLICT (upload_id) DO UPDATE SET path = excluded.path")
            .bind(upload_id)
            .bind(path.to_string_lossy())
            .execute(&self.pool)
            .await?;
        Ok(())
    }

    /// The files on this computer that still exist, by upload id.
    pub async fn saved_files(&self) -> Result<Vec<(String, PathBuf)>, HistoryError> {
        let rows: Vec<(String, String)> =
            sqlx::query_as("SELECT upload_id, path FROM files").fetch_all(&self.pool).await?;
        Ok(rows
            .into_iter()
            .map(|(id, path)| (id, PathBuf::from(path)))
            .filter(|(_, path)| path.exists())
            .collect())
    }
}

/// The user's words as an FTS5 query: each word quoted (so nothing in it is syntax), the
/// last one matching as a prefix. None when there is no word.
fn fts_query(query: &str) -> Option<String> {
    let words: Vec<String> =
        query.split_whitespace().map(|word| format!("\"{}\"", word.replace('"', "\"\""))).collect();
    let last = words.len().checked_sub(1)?;
    Some(
        words
            .iter()
            .enumerate()
            .map(|(i, word)| if i == last { format!("{word}*") } else { word.clone() })
            .collect::<Vec<_>>()
            .join(" "),
    )
}

fn content_json(content: &Content) -> String {
    serde_json::to_string(content).expect("message content always serialises to JSON")
}

fn read_message(row: &sqlx::sqlite::SqliteRow) -> Result<StoredMessage, HistoryError> {
    let content: String = row.try_get("content")?;
    let delivery: String = row.try_get("delivery")?;
    Ok(StoredMessage {
        local_id: row.try_get("local_id")?,
        conversation_id: row.try_get("conversation_id")?,
        seq: row.try_get("seq")?,
        server_id: row.try_get("server_id")?,
        client_id: row.try_get("client_id")?,
        sender_id: row.try_get("sender_id")?,
        sent_at: row.try_get("sent_at")?,
        content: serde_json::from_str(&content).map_err(|err| HistoryError::Corrupt(err.to_string()))?,
        delivery: Delivery::parse(&delivery),
        edited_at: row.try_get("edited_at")?,
        hidden: row.try_get::<Option<bool>, _>("hidden").ok().flatten().unwrap_or(false),
        forwarded_from: row
            .try_get::<Option<String>, _>("forwarded_from")?
            .and_then(|json| serde_json::from_str(&json).ok()),
    })
}

/// Gives message `seq` of a conversation the text of an edit made at `at`, unless it is
/// recalled, not text, or already holds a later edit (an edit fetched after a newer one).
async fn apply_edit(
    tx: &mut sqlx::SqliteConnection,
    conversation_id: ConversationId,
    seq: i64,
    text: &str,
    at: i64,
) -> Result<(), HistoryError> {
    sqlx::query(
        "UPDATE messages SET content = json_set(content, '$.text', ?), edited_at = ?
         WHERE conversation_id = ? AND seq = ? AND json_extract(content, '$.type') = 'text'
           AND (edited_at IS NULL OR edited_at <= ?)",
    )
    .bind(text)
    .bind(at)
    .bind(conversation_id)
    .bind(seq)
    .bind(at)
    .execute(tx)
    .await?;
    Ok(())
}

#[cfg(test)]
mod tests {
    use super::*;

    fn text(t: &str) -> Content {
        Content::text(t)
    }

    fn incoming(conversation_id: i64, seq: i64, sender: i64, t: &str) -> ChatMessage {
        ChatMessage {
            id: conversation_id * 1000 + seq,
            conversation_id,
            seq,
            sender_id: Some(sender),
            client_id: Some(format!("c-{conversation_id}-{seq}")),
            sent_at: 1_700_000_000_000 + seq,
            content: text(t),
            edited_at: None,
            reactions: Vec::new(),
            forwarded_from: None,
            muted: false,
        }
    }

    fn texts(messages: &[StoredMessage]) -> Vec<String> {
        messages
            .iter()
            .map(|m| match &m.content {
                Content::Text { text, .. } => text.clone(),
                other => format!("{other:?}"),
            })
            .collect()
    }

    #[tokio::test]
    async fn messages_read_back_in_sequence_order() {
        let dir = tempfile::tempdir().expect("temp dir");
        let history = History::open(&dir.path().join("h.db")).await.expect("open");
        for seq in [3, 1, 2] {
            assert!(history.store(&incoming(5, seq, 2, &format!("m{seq}"))).await.expect("store"));
        }
        history.store(&incoming(6, 1, 2, "elsewhere")).await.expect("store");
        let read = history.recent(5, 100).await.expect("read");
        assert_eq!(texts(&read), ["m1", "m2", "m3"]);
        assert_eq!(history.cursor(5, 0).await.expect("seq"), 3);
        assert_eq!(history.cursor(99, 0).await.expect("seq"), 0);
        // The newest `limit`, still oldest first.
        assert_eq!(texts(&history.recent(5, 2).await.expect("read")), ["m2", "m3"]);
    }

    #[tokio::test]
    async fn the_mentions_of_the_user_are_found_after_a_seq() {
        use kith_shared::frame::Mentions;
        let dir = tempfile::tempdir().expect("temp dir");
        let history = History::open(&dir.path().join("h.db")).await.expect("open");
        let mentioning = |seq: i64, sender: i64, user_ids: Vec<i64>, all: bool| ChatMessage {
            content: Content::Text {
                text: "@you".into(),
                reply_to: None,
                edit_of: None,
                reaction_of: None,
                mentions: Mentions { user_ids, all },
            },
            ..incoming(5, seq, sender, "")
        };
        history.store(&mentioning(1, 2, vec![7], false)).await.expect("store");
        history.store(&incoming(5, 2, 2, "plain")).await.expect("store");
        history.store(&mentioning(3, 2, vec![8], false)).await.expect("store");
        history.store(&mentioning(4, 2, vec![], true)).await.expect("store");
        history.store(&mentioning(5, 7, vec![7], true)).await.expect("store");
        history.store(&mentioning(6, 2, vec![7, 8], false)).await.expect("store");
        history.store(&mentioning(1, 2, vec![7], false)).await.expect("store");
        assert_eq!(history.mentions_after(5, 0, 7).await.expect("read"), [1, 4, 6], "not my own");
        assert_eq!(history.mentions_after(5, 4, 7).await.expect("read"), [6]);
        assert_eq!(history.mentions_after(6, 0, 7).await.expect("read"), Vec::<i64>::new());
        history.hide(5, &[6]).await.expect("hide");
        assert_eq!(history.mentions_after(5, 4, 7).await.expect("read"), Vec::<i64>::new(), "deleted");
    }

    #[tokio::test]
    async fn an_edit_changes_the_message_it_edits_and_is_not_shown_itself() {
        let dir = tempfile::tempdir().expect("temp dir");
        let history = History::open(&dir.path().join("h.db")).await.expect("open");
        let edit = |seq: i64, of: i64, text: &str, at: i64| ChatMessage {
            content: Content::Text {
                text: text.into(),
                reply_to: None,
                edit_of: Some(of),
                reaction_of: None,
                mentions: Default::default(),
            },
            sent_at: at,
            ..incoming(5, seq, 2, "")
        };
        history.store(&incoming(5, 1, 2, "lunch at noon?")).await.expect("store");
        history.store(&incoming(5, 2, 7, "yes")).await.expect("store");
        history.store(&edit(3, 1, "lunch at one?", 2_000)).await.expect("store");
        let read = history.recent(5, 10).await.expect("read");
        assert_eq!(texts(&read), ["lunch at one?", "yes"], "the edit is no line of its own");
        assert_eq!(read[0].edited_at, Some(2_000));
        assert_eq!(history.cursor(5, 0).await.expect("cursor"), 3, "the edit counts for catching up");
        let latest = history.latest(Some(5)).await.expect("latest");
        assert_eq!(texts(&latest), ["yes"]);
        // Search finds the new words, and the edited message once.
        assert!(history.search("noon", 10).await.expect("search").is_empty());
        let found = history.search("one", 10).await.expect("search");
        assert_eq!(found.iter().map(|m| m.seq).collect::<Vec<_>>(), [Some(1)]);

        // An older edit fetched after a newer one does not bring its text back.
        history.store(&edit(5, 1, "lunch at two?", 4_000)).await.expect("store");
        history.store(&edit(4, 1, "lunch at 1:30?", 3_000)).await.expect("store");
        assert_eq!(texts(&history.recent(5, 10).await.expect("read"))[0], "lunch at two?");

        // One's own edit changes the message when the server acknowledges it.
        let mine = Content::Text {
            text: "yes!".into(),
            reply_to: None,
            edit_of: Some(2),
            reaction_of: None,
            mentions: Default::default(),
        };
        history.add_outgoing(5, "edit-1", 7, &mine, 5_000).await.expect("add");
        assert_eq!(texts(&history.recent(5, 10).await.expect("read"))[1], "yes", "not before the ack");
        assert_eq!(history.pending().await.expect("pending").len(), 1, "it waits to be sent");
        assert!(history.acknowledge("edit-1", 5006, 6, 5_500).await.expect("ack"));
        let read = history.recent(5, 10).await.expect("read");
        assert_eq!(texts(&read), ["lunch at two?", "yes!"]);
        assert_eq!(read[1].edited_at, Some(5_500));
        // A recalled message stays recalled.
        let recall = ChatMessage { content: Content::Recall { seq: 2, by: None }, ..incoming(5, 7, 7, "") };
        history.store(&recall).await.expect("store");
        history.store(&edit(8, 2, "back again", 6_000)).await.expect("store");
        assert_eq!(history.message_at(5, 2).await.expect("read").expect("held").content, Content::RECALLED);
    }

    #[tokio::test]
    async fn a_message_deleted_for_me_leaves_the_cache_and_does_not_come_back() {
        let dir = tempfile::tempdir().expect("temp dir");
        let history = History::open(&dir.path().join("h.db")).await.expect("open");
        for (seq, words) in [(1, "hello"), (2, "secret plans"), (3, "bye")] {
            history.store(&incoming(5, seq, 2, words)).await.expect("store");
        }
        let edit = ChatMessage {
            content: Content::Text {
                text: "secret plans v2".into(),
                reply_to: None,
                edit_of: Some(2),
                reaction_of: None,
                mentions: Default::default(),
            },
            ..incoming(5, 4, 2, "")
        };
        history.store(&edit).await.expect("store");
        // 2 is held; 6 is not yet (deleted on another device before this one fetched it).
        history.hide(5, &[2, 6]).await.expect("hide");
        assert_eq!(texts(&history.recent(5, 10).await.expect("read")), ["hello", "bye"]);
        assert!(history.search("secret", 10).await.expect("search").is_empty(), "nor its edit");
        assert_eq!(history.hidden_count(5).await.expect("count"), 2);
        assert_eq!(history.count_from(5, 2).await.expect("count"), 1, "only 3 is shown from 2 on");
        // A quote still finds it, as deleted.
        assert!(history.message_at(5, 2).await.expect("read").expect("held").hidden);

        // Fetched again (history from before the delete): it stays deleted.
        history.store(&incoming(5, 2, 2, "secret plans")).await.expect("store");
        history.store(&incoming(5, 5, 2, "later")).await.expect("store");
        history.store(&incoming(5, 6, 2, "also deleted")).await.expect("store");
        assert_eq!(texts(&history.recent(5, 10).await.expect("read")), ["hello", "bye", "later"]);
        assert!(history.search("deleted", 10).await.expect("search").is_empty());
        // The cursor runs past them: nothing is fetched again.
        assert_eq!(history.cursor(5, 0).await.expect("cursor"), 6);
        // Deleting again changes nothing; the newest shown is the preview.
        history.hide(5, &[6]).await.expect("hide");
        assert_eq!(history.hidden_count(5).await.expect("count"), 2);
        assert_eq!(texts(&history.latest(Some(5)).await.expect("latest")), ["later"]);

        // A cache from before deletes existed gains the column on opening.
        history.close().await;
        let history = History::open(&dir.path().join("h.db")).await.expect("reopen");
        assert_eq!(history.hidden_count(5).await.expect("count"), 2);
    }

    #[tokio::test]
    async fn a_moderators_delete_names_them_in_the_marker() {
        use kith_shared::frame::Moderator;
        let dir = tempfile::tempdir().expect("temp dir");
        let history = History::open(&dir.path().join("h.db")).await.expect("open");
        history.store(&incoming(5, 1, 2, "rude")).await.expect("store");
        let by = Some(Moderator { user_id: 9, name: "Ann".into() });
        let delete =
            ChatMessage { content: Content::Recall { seq: 1, by: by.clone() }, ..incoming(5, 2, 9, "") };
        history.store(&delete).await.expect("store");
        assert_eq!(history.recent(5, 10).await.expect("read")[0].content, Content::Recalled { by });
        assert!(history.search("rude", 10).await.expect("search").is_empty());
    }

    #[tokio::test]
    async fn storing_twice_keeps_one_copy() {
        let dir = tempfile::tempdir().expect("temp dir");
        let history = History::open(&dir.path().join("h.db")).await.expect("open");
        assert!(history.store(&incoming(5, 1, 2, "hi")).await.expect("store"));
        assert!(!history.store(&incoming(5, 1, 2, "hi")).await.expect("store"));
        assert_eq!(history.recent(5, 10).await.expect("read").len(), 1);
    }

    #[tokio::test]
    async fn outgoing_is_pending_until_acknowledged() {
        let dir = tempfile::tempdir().expect("temp dir");
        let history = History::open(&dir.path().join("h.db")).await.expect("open");
        history.store(&incoming(5, 1, 2, "hello")).await.expect("store");
        let pending = history.add_outgoing(5, "mine-1", 7, &text("hi back"), 123).await.expect("add");
        assert_eq!(pending.delivery, Delivery::Pending);
        history.store(&incoming(5, 2, 2, "are you there")).await.expect("store");
        // Pending messages come after everything the server has ordered.
        let read = history.recent(5, 10).await.expect("read");
        assert_eq!(texts(&read), ["hello", "are you there", "hi back"]);
        assert_eq!(read[2].delivery, Delivery::Pending);

        assert!(history.acknowledge("mine-1", 5003, 3, 456).await.expect("ack"));
        assert!(!history.acknowledge("mine-1", 5003, 3, 456).await.expect("second ack"));
        let read = history.recent(5, 10).await.expect("read");
        assert_eq!(read[2].seq, Some(3));
        assert_eq!(read[2].delivery, Delivery::Sent);
        assert_eq!(read[2].sent_at, 456);

        // The echo of one's own message does not duplicate it.
        let echo = ChatMessage { client_id: Some("mine-1".into()), ..incoming(5, 3, 7, "hi back") };
        assert!(!history.store(&echo).await.expect("store echo"));
        assert_eq!(history.recent(5, 10).await.expect("read").len(), 3);
    }

    #[tokio::test]
    async fn cursor_stops_at_the_first_gap() {
        let dir = tempfile::tempdir().expect("temp dir");
        let history = History::open(&dir.path().join("h.db")).await.expect("open");
        assert_eq!(history.cursor(5, 0).await.expect("cursor"), 0);
        for seq in [1, 2, 3, 5, 6] {
            history.store(&incoming(5, seq, 2, "m")).await.expect("store");
        }
        assert_eq!(history.cursor(5, 0).await.expect("cursor"), 3);
        history.store(&incoming(5, 4, 2, "m")).await.expect("store");
        assert_eq!(history.cursor(5, 0).await.expect("cursor"), 6);
        // A group joined after seq 39: history starts at 40.
        assert_eq!(history.cursor(8, 39).await.expect("cursor"), 39);
        history.store(&incoming(8, 41, 2, "m")).await.expect("store");
        assert_eq!(history.cursor(8, 39).await.expect("cursor"), 39, "40 is missing");
        history.store(&incoming(8, 40, 2, "m")).await.expect("store");
        assert_eq!(history.cursor(8, 39).await.expect("cursor"), 41);
        // Held messages after a gap at the start do not count.
        history.store(&incoming(9, 8, 2, "m")).await.expect("store");
        assert_eq!(history.cursor(9, 0).await.expect("cursor"), 0);
    }

    #[tokio::test]
    async fn pending_lists_unacknowledged_messages_for_resending() {
        let dir = tempfile::tempdir().expect("temp dir");
        let history = History::open(&dir.path().join("h.db")).await.expect("open");
        history.add_outgoing(5, "a", 7, &text("first"), 1).await.expect("add");
        history.add_outgoing(6, "b", 7, &text("second"), 2).await.expect("add");
        history.acknowledge("a", 1, 1, 3).await.expect("ack");
        let pending = history.pending().await.expect("pending");
        assert_eq!(pending.len(), 1);
        assert_eq!(pending[0].client_id.as_deref(), Some("b"));
    }

    #[tokio::test]
    async fn refused_messages_are_marked_failed() {
        let dir = tempfile::tempdir().expect("temp dir");
        let history = History::open(&dir.path().join("h.db")).await.expect("open");
        history.add_outgoing(5, "mine-1", 7, &text("nope"), 1).await.expect("add");
        history.mark_failed("mine-1").await.expect("fail");
        assert_eq!(history.recent(5, 10).await.expect("read")[0].delivery, Delivery::Failed);
    }

    #[tokio::test]
    async fn a_recall_replaces_the_message() {
        let dir = tempfile::tempdir().expect("temp dir");
        let history = History::open(&dir.path().join("h.db")).await.expect("open");
        history.store(&incoming(5, 1, 2, "oops")).await.expect("store");
        let recall = ChatMessage { content: Content::Recall { seq: 1, by: None }, ..incoming(5, 2, 2, "") };
        history.store(&recall).await.expect("store recall");
        let read = history.recent(5, 10).await.expect("read");
        assert_eq!(read[0].content, Content::RECALLED);
    }

    #[tokio::test]
    async fn latest_gives_each_conversations_newest_shown_message() {
        let dir = tempfile::tempdir().expect("temp dir");
        let history = History::open(&dir.path().join("h.db")).await.expect("open");
        for seq in [2, 3, 1] {
            history.store(&incoming(5, seq, 2, &format!("five {seq}"))).await.expect("store");
        }
        history.store(&incoming(6, 1, 2, "six 1")).await.expect("store");
        history.store(&incoming(6, 2, 2, "six 2")).await.expect("store");
        // A recall marks the message; the marker itself is not the latest.
        let recall = ChatMessage { content: Content::Recall { seq: 2, by: None }, ..incoming(6, 3, 2, "") };
        history.store(&recall).await.expect("store recall");
        let mut latest = history.latest(None).await.expect("latest");
        latest.sort_by_key(|m| m.conversation_id);
        assert_eq!(latest.len(), 2);
        assert_eq!(texts(&latest[..1]), ["five 3"]);
        assert_eq!(latest[1].content, Content::RECALLED);
        // An unsent message is the newest.
        history.add_outgoing(5, "mine-1", 7, &text("on my way"), 1).await.expect("add");
        assert_eq!(texts(&history.latest(Some(5)).await.expect("latest")), ["on my way"]);
        assert!(history.latest(Some(99)).await.expect("latest").is_empty());
    }

    #[tokio::test]
    async fn saved_files_are_remembered_while_they_exist() {
        let dir = tempfile::tempdir().expect("temp dir");
        let history = History::open(&dir.path().join("h.db")).await.expect("open");
        let kept = dir.path().join("cat.png");
        std::fs::write(&kept, b"png").expect("write");
        history.record_file("u-1", &kept).await.expect("record");
        history.record_file("u-2", &dir.path().join("gone.txt")).await.expect("record");
        assert_eq!(history.saved_files().await.expect("read"), vec![("u-1".to_owned(), kept.clone())]);
        let moved = dir.path().join("cat(1).png");
        std::fs::write(&moved, b"png").expect("write");
        history.record_file("u-1", &moved).await.expect("record again");
        assert_eq!(history.saved_files().await.expect("read"), vec![("u-1".to_owned(), moved)]);
    }

    #[tokio::test]
    async fn search_finds_words_across_conversations_newest_first() {
        let dir = tempfile::tempdir().expect("temp dir");
        let history = History::open(&dir.path().join("h.db")).await.expect("open");
        history.store(&incoming(5, 1, 2, "Lunch at the station café?")).await.expect("store");
        history.store(&incoming(5, 2, 2, "The train leaves at noon")).await.expect("store");
        history.store(&incoming(6, 1, 3, "Station meeting moved")).await.expect("store");
        history.add_outgoing(6, "mine-1", 7, &text("Which STATION?"), 1_800_000_000_000).await.expect("add");
        let file = Content::File {
            upload_id: "u".into(),
            name: "station-map.pdf".into(),
            size: 1,
            mime: String::new(),
        };
        history.store(&ChatMessage { content: file, ..incoming(7, 1, 2, "") }).await.expect("store");

        let found = history.search("station", 50).await.expect("search");
        assert_eq!(found.len(), 4, "any case, accents and file names: {found:?}");
        assert_eq!(found[0].client_id.as_deref(), Some("mine-1"), "newest first");
        assert_eq!(
            texts(&history.search("lunch cafe", 50).await.expect("search")),
            ["Lunch at the station café?"]
        );
        assert_eq!(
            texts(&history.search("trai", 50).await.expect("search")),
            ["The train leaves at noon"],
            "a prefix"
        );
        assert!(history.search("   ", 50).await.expect("search").is_empty());
        // Quotes and operators are words, not syntax.
        assert!(history.search("\"station OR (", 50).await.expect("search").is_empty());

        // A recalled message is no longer found.
        let recall = ChatMessage { content: Content::Recall { seq: 2, by: None }, ..incoming(5, 3, 2, "") };
        history.store(&recall).await.expect("store recall");
        assert!(history.search("train", 50).await.expect("search").is_empty());

        // Opening again keeps the index (and indexes nothing twice).
        history.close().await;
        let history = History::open(&dir.path().join("h.db")).await.expect("reopen");
        assert_eq!(history.search("station", 50).await.expect("search").len(), 4);
        assert_eq!(history.count_from(5, 2).await.expect("count"), 2);

        // A cache from before search existed (no index, version 0) is indexed once on opening.
        sqlx::query("DELETE FROM message_search").execute(&history.pool).await.expect("empty the index");
        sqlx::query("PRAGMA user_version = 0").execute(&history.pool).await.expect("version 0");
        assert!(history.search("station", 50).await.expect("search").is_empty());
        history.close().await;
        let history = History::open(&dir.path().join("h.db")).await.expect("reopen");
        assert_eq!(history.search("station", 50).await.expect("search").len(), 4);
    }

    #[tokio::test]
    async fn history_survives_reopening() {
        let dir = tempfile::tempdir().expect("temp dir");
        let path = dir.path().join("h.db");
        {
            let history = History::open(&path).await.expect("open");
            history.store(&incoming(5, 1, 2, "kept")).await.expect("store");
            history.add_outgoing(5, "mine", 7, &text("unsent"), 9).await.expect("add");
            history.close().await;
        }
        let history = History::open(&path).await.expect("reopen");
        assert_eq!(texts(&history.recent(5, 10).await.expect("read")), ["kept", "unsent"]);
        assert_eq!(history.pending().await.expect("pending").len(), 1, "unsent messages survive too");
    }

    #[tokio::test]
    async fn each_user_and_server_has_its_own_cache() {
        let dir = tempfile::tempdir().expect("temp dir");
        let alice_path = History::path_for(dir.path(), "127.0.0.1_8000", 1);
        let bob_path = History::path_for(dir.path(), "127.0.0.1_8000", 2);
        let alice_elsewhere = History::path_for(dir.path(), "chat.example.org_8000", 1);
        assert_ne!(alice_path, bob_path);
        assert_ne!(alice_path, alice_elsewhere);
        let alice = History::open(&alice_path).await.expect("open");
        let bob = History::open(&bob_path).await.expect("open");
        alice.store(&incoming(5, 1, 2, "for alice")).await.expect("store");
        assert!(bob.recent(5, 10).await.expect("read").is_empty());
        let elsewhere = History::open(&alice_elsewhere).await.expect("open");
        assert!(elsewhere.recent(5, 10).await.expect("read").is_empty());
        assert_eq!(texts(&alice.recent(5, 10).await.expect("read")), ["for alice"]);
    }
}

//! Messages. Written in batches by the message writer (`crate::messages`), read by sync.

use super::conversations::{Conversations, Members};
use super::reactions::ReactionChange;
use super::{Store, StoreResult};
use kith_shared::UserId;
use kith_shared::api::ConversationId;
use sea_query::{
    Expr, ExprTrait, Func, Iden, InsertStatement, Order, Query, SelectStatement, UpdateStatement,
};
use sea_query_sqlx::SqlxBinder;
use sqlx::AssertSqlSafe;
use std::collections::HashMap;

#[derive(Debug, Clone, Copy, Iden)]
pub(super) enum Messages {
    Table,
    Id,
    ConversationId,
    Seq,
    SenderId,
    ClientId,
    Content,
    SentAt,
    Recalled,
    EditedAt,
    ForwardedFrom,
}

/// One message as stored; `content` is the JSON of a `kith_shared::frame::Content`.
#[derive(Debug, Clone, sqlx::FromRow)]
pub struct MessageRow {
    pub id: i64,
    pub conversation_id: i64,
    pub seq: i64,
    pub sender_id: Option<i64>,
    pub client_id: Option<String>,
    pub content: String,
    pub sent_at: i64,
    /// When the text was last edited; None when it never was (and always on insert).
    pub edited_at: Option<i64>,
    /// A forward: the JSON of a `kith_shared::frame::Forwarded`.
    pub forwarded_from: Option<String>,
}

/// The columns a message is inserted with.
const INSERT_COLUMNS: [Messages; 8] = [
    Messages::Id,
    Messages::ConversationId,
    Messages::Seq,
    Messages::SenderId,
    Messages::ClientId,
    Messages::Content,
    Messages::SentAt,
    Messages::ForwardedFrom,
];

/// The columns a message is read with.
const COLUMNS: [Messages; 9] = [
    Messages::Id,
    Messages::ConversationId,
    Messages::Seq,
    Messages::SenderId,
    Messages::ClientId,
    Messages::Content,
    Messages::SentAt,
    Messages::EditedAt,
    Messages::ForwardedFrom,
];

/// The shared counter of message ids (one row, id 1), for nodes that share the database.
#[derive(Debug, Clone, Copy, Iden)]
enum MessageIdBlocks {
    Table,
    Id,
    NextId,
}

/// Rows per INSERT statement: 8 parameters each stays far below every backend's limit.
const ROWS_PER_STATEMENT: usize = 500;

/// Multi-row INSERTs of `rows`, [`ROWS_PER_STATEMENT`] at most each.
fn insert_statements(rows: &[MessageRow]) -> Vec<InsertStatement> {
    rows.chunks(ROWS_PER_STATEMENT)
        .map(|chunk| {
            let mut stmt = Query::insert();
            stmt.into_table(Messages::Table).columns(INSERT_COLUMNS);
            for row in chunk {
                stmt.values_panic([
                    row.id.into(),
                    row.conversation_id.into(),
                    row.seq.into(),
                    row.sender_id.into(),
                    row.client_id.clone().into(),
                    row.content.clone().into(),
                    row.sent_at.into(),
                    row.forwarded_from.clone().into(),
                ]);
            }
            stmt
        })
        .collect()
}

/// The change an edit message makes: message `seq` of its conversation takes `content` (the
/// JSON of the edited text, with the reply and mentions it was sent with) and `edited_at`,
/// unless it was recalled by then. The message writer makes it in the transaction that stores
/// the edit message, in the messages' order, so the stored text is always that of the last
/// edit message; a refused one leaves its edit message unstored.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct EditChange {
    /// The id of the edit message (the row left out when the edit is refused).
    pub message_id: i64,
    pub conversation_id: ConversationId,
    pub seq: i64,
    pub content: String,
    pub edited_at: i64,
}

impl EditChange {
    fn statement(&self) -> UpdateStatement {
        let mut stmt = update_unrecalled(self.conversation_id, self.seq);
        stmt.value(Messages::Content, self.content.as_str()).value(Messages::EditedAt, self.edited_at);
        stmt
    }
}

/// Leaves out the rows of the `refused` edit messages from rows numbered in advance: the rows
/// after one in its conversation take one number less each, so numbers stay gap-free.
fn close_gaps(rows: &mut Vec<MessageRow>, refused: &[i64]) {
    if refused.is_empty() {
        return;
    }
    let mut left_out: HashMap<ConversationId, i64> = HashMap::new();
    rows.retain_mut(|row| {
        let earlier = left_out.entry(row.conversation_id).or_insert(0);
        if refused.contains(&row.id) {
            *earlier += 1;
            return false;
        }
        row.seq -= *earlier;
        true
    });
}

/// What the content of an edit (a text with `edit_of`) holds, as a LIKE pattern.
const EDIT_FIELD: &str = "%\"edit_of\":%";
/// What the content of a reaction (a text with `reaction_of`) holds, as a LIKE pattern.
const REACTION_FIELD: &str = "%\"reaction_of\":%";

impl Store {
    /// Stores messages numbered by the caller in one transaction: first makes the `edits` their
    /// edit messages carry, in order; an edit whose message was recalled meanwhile is refused
    /// and its row is left out, the rows after it in its conversation taking one number less
    /// each (so numbers stay gap-free); a reaction on a message recalled meanwhile is refused
    /// the same way. Then inserts the rows, as multi-row INSERTs, and makes the `reactions`
    /// changes their reaction messages carry, in order. Returns the ids of the refused edit and
    /// reaction messages; `rows` then holds the rows stored. All or none are stored; on
    /// failure `rows` means nothing.
    pub async fn insert_messages(
        &self,
        rows: &mut Vec<MessageRow>,
        edits: &[EditChange],
        reactions: &[ReactionChange],
    ) -> StoreResult<Vec<i64>> {
        if rows.is_empty() {
            return Ok(Vec::new());
        }
        let one_statement = edits.is_empty() && reactions.is_empty() && rows.len() <= ROWS_PER_STATEMENT;
        let refused = on_pool!(self, |pool, builder| {
            if one_statement {
                // One statement is atomic by itself: no BEGIN and COMMIT to wait for (two
                // round trips of three, which is what a batch of one pays at low rates).
                for stmt in &insert_statements(rows) {
                    let (sql, values) = stmt.build_sqlx(builder());
                    sqlx::query_with(AssertSqlSafe(sql), values).execute(pool).await?;
                }
                return Ok(Vec::new());
            }
            let mut tx = pool.begin().await?;
            let mut refused = Vec::new();
            for edit in edits {
                let (sql, values) = edit.statement().build_sqlx(builder());
                if sqlx::query_with(AssertSqlSafe(sql), values).execute(&mut *tx).await?.rows_affected() == 0
                {
                    refused.push(edit.message_id);
                }
            }
            for change in reactions {
                let (sql, values) = unrecalled(change.conversation_id, change.seq).build_sqlx(builder());
                if sqlx::query_with(AssertSqlSafe(sql), values).fetch_optional(&mut *tx).await?.is_none() {
                    refused.push(change.message_id);
                }
            }
            close_gaps(rows, &refused);
            for stmt in &insert_statements(rows) {
                let (sql, values) = stmt.build_sqlx(builder());
                sqlx::query_with(AssertSqlSafe(sql), values).execute(&mut *tx).await?;
            }
            for change in reactions.iter().filter(|change| !refused.contains(&change.message_id)) {
                let (sql, values) = change.statement().build_sqlx(builder());
                sqlx::query_with(AssertSqlSafe(sql), values).execute(&mut *tx).await?;
            }
            tx.commit().await?;
            refused
        });
        Ok(refused)
    }

    /// Numbers and inserts messages in one transaction, for nodes that share the database:
    /// locks the rows of the messages' conversations (in id order, so that two nodes never
    /// wait on each other in a circle), reads each conversation's newest `seq`, gives the
    /// rows the next numbers in their order in `rows`, and inserts them. Another node
    /// writing to one of these conversations waits for the commit, so numbers are gap-free
    /// and strictly increasing whichever node writes. Under the same locks it first makes the
    /// `edits` their edit messages carry, in order (an edit whose message was recalled
    /// meanwhile is refused and its row left out before numbering, and so is a reaction on
    /// such a message), and after the inserts the `reactions` changes their reaction messages
    /// carry, in order. Returns the ids of the refused edit and reaction messages; `rows` then
    /// holds the rows stored, numbered. All or none are stored; on failure `rows` means
    /// nothing.
    pub async fn insert_messages_numbered(
        &self,
        rows: &mut Vec<MessageRow>,
        edits: &[EditChange],
        reactions: &[ReactionChange],
    ) -> StoreResult<Vec<i64>> {
        #[derive(sqlx::FromRow)]
        struct Newest {
            conversation_id: i64,
            last_seq: Option<i64>,
        }
        if rows.is_empty() {
            return Ok(Vec::new());
        }
        let mut conversations: Vec<ConversationId> = rows.iter().map(|r| r.conversation_id).collect();
        conversations.sort_unstable();
        conversations.dedup();
        let lock = Query::select()
            .column(Conversations::Id)
            .from(Conversations::Table)
            .and_where(Expr::col(Conversations::Id).is_in(conversations.iter().copied()))
            .order_by(Conversations::Id, Order::Asc)
            .lock_exclusive()
            .to_owned();
        // A statement of its own after the lock: on PostgreSQL (read committed) it takes a new
        // snapshot that sees what the previous holder of the lock committed; on MariaDB the
        // transaction's snapshot is taken at its first plain read, which is this one.
        let newest_seq = Query::select()
            .column((Messages::Table, Messages::Seq))
            .from(Messages::Table)
            .and_where(
                Expr::col((Messages::Table, Messages::ConversationId))
                    .equals((Conversations::Table, Conversations::Id)),
            )
            .order_by((Messages::Table, Messages::Seq), Order::Desc)
            .limit(1)
            .to_owned();
        let newest = Query::select()
            .expr_as(Expr::col((Conversations::Table, Conversations::Id)), "conversation_id")
            .expr_as(Expr::from(newest_seq), "last_seq")
            .from(Conversations::Table)
            .and_where(
                Expr::col((Conversations::Table, Conversations::Id)).is_in(conversations.iter().copied()),
            )
            .to_owned();
        let refused = on_pool!(self, |pool, builder| {
            let mut tx = pool.begin().await?;
            let (sql, values) = lock.build_sqlx(builder());
            sqlx::query_with(AssertSqlSafe(sql), values).fetch_all(&mut *tx).await?;
            // The edits before any plain read: an UPDATE reads the newest committed row (a
            // recall made meanwhile included), and MariaDB's snapshot, taken at the first plain
            // read below, never predates a row an edit changes.
            let mut refused = Vec::new();
            for edit in edits {
                let (sql, values) = edit.statement().build_sqlx(builder());
                if sqlx::query_with(AssertSqlSafe(sql), values).execute(&mut *tx).await?.rows_affected() == 0
                {
                    refused.push(edit.message_id);
                }
            }
            for change in reactions {
                let (sql, values) = unrecalled(change.conversation_id, change.seq).build_sqlx(builder());
                if sqlx::query_with(AssertSqlSafe(sql), values).fetch_optional(&mut *tx).await?.is_none() {
                    refused.push(change.message_id);
                }
            }
            rows.retain(|row| !refused.contains(&row.id));
            let (sql, values) = newest.build_sqlx(builder());
            let newest: Vec<Newest> =
                sqlx::query_as_with(AssertSqlSafe(sql), values).fetch_all(&mut *tx).await?;
            let mut last: HashMap<ConversationId, i64> =
                newest.into_iter().map(|n| (n.conversation_id, n.last_seq.unwrap_or(0))).collect();
            for row in rows.iter_mut() {
                let seq = last.entry(row.conversation_id).or_insert(0);
                *seq += 1;
                row.seq = *seq;
            }
            for stmt in &insert_statements(rows) {
                let (sql, values) = stmt.build_sqlx(builder());
                sqlx::query_with(AssertSqlSafe(sql), values).execute(&mut *tx).await?;
            }
            for change in reactions.iter().filter(|change| !refused.contains(&change.message_id)) {
                let (sql, values) = change.statement().build_sqlx(builder());
                sqlx::query_with(AssertSqlSafe(sql), values).execute(&mut *tx).await?;
            }
            tx.commit().await?;
            refused
        });
        Ok(refused)
    }

    /// Reserves `count` message ids that no other node hands out and returns the first: the
    /// block starts at the shared counter or past the largest id stored, whichever is
    /// higher (a node alone does not move the counter).
    pub async fn reserve_message_ids(&self, count: i64) -> StoreResult<i64> {
        #[derive(sqlx::FromRow)]
        struct Counter {
            next_id: i64,
        }
        #[derive(sqlx::FromRow)]
        struct Largest {
            max_id: Option<i64>,
        }
        let lock = Query::select()
            .column(MessageIdBlocks::NextId)
            .from(MessageIdBlocks::Table)
            .and_where(Expr::col(MessageIdBlocks::Id).eq(1))
            .lock_exclusive()
            .to_owned();
        let largest = Query::select()
            .expr_as(Func::max(Expr::col(Messages::Id)), "max_id")
            .from(Messages::Table)
            .to_owned();
        let first = on_pool!(self, |pool, builder| {
            let mut tx = pool.begin().await?;
            let (sql, values) = lock.build_sqlx(builder());
            let counter: Counter =
                sqlx::query_as_with(AssertSqlSafe(sql), values).fetch_one(&mut *tx).await?;
            let (sql, values) = largest.build_sqlx(builder());
            let largest: Largest =
                sqlx::query_as_with(AssertSqlSafe(sql), values).fetch_one(&mut *tx).await?;
            let first = Ord::max(counter.next_id, largest.max_id.unwrap_or(0) + 1);
            let (sql, values) = Query::update()
                .table(MessageIdBlocks::Table)
                .value(MessageIdBlocks::NextId, first + count)
                .and_where(Expr::col(MessageIdBlocks::Id).eq(1))
                .build_sqlx(builder());
            sqlx::query_with(AssertSqlSafe(sql), values).execute(&mut *tx).await?;
            tx.commit().await?;
            first
        });
        Ok(first)
    }

    /// Messages already stored under these (sender, client id) pairs.
    pub async fn messages_by_client_ids(&self, keys: &[(UserId, String)]) -> StoreResult<Vec<MessageRow>> {
        if keys.is_empty() {
            return Ok(Vec::new());
        }
        let client_ids: Vec<String> = keys.iter().map(|(_, c)| c.clone()).collect();
        let stmt = Query::select()
            .columns(COLUMNS)
            .from(Messages::Table)
            .and_where(Expr::col(Messages::ClientId).is_in(client_ids))
            .to_owned();
        let rows: Vec<MessageRow> = self.fetch_all(&stmt).await?;
        Ok(rows
            .into_iter()
            .filter(|row| {
                keys.iter().any(|(s, c)| Some(*s) == row.sender_id && Some(c) == row.client_id.as_ref())
            })
            .collect())
    }

    /// The largest message id in use (0 when there is none).
    pub async fn max_message_id(&self) -> StoreResult<i64> {
        #[derive(sqlx::FromRow)]
        struct Row {
            max_id: Option<i64>,
        }
        let stmt = Query::select()
            .expr_as(Func::max(Expr::col(Messages::Id)), "max_id")
            .from(Messages::Table)
            .to_owned();
        Ok(self.fetch_optional::<Row>(&stmt).await?.and_then(|r| r.max_id).unwrap_or(0))
    }

    /// The sequence number of a conversation's newest message (0 when there is none).
    pub async fn last_seq(&self, conversation_id: ConversationId) -> StoreResult<i64> {
        #[derive(sqlx::FromRow)]
        struct Row {
            max_seq: Option<i64>,
        }
        let stmt = Query::select()
            .expr_as(Func::max(Expr::col(Messages::Seq)), "max_seq")
            .from(Messages::Table)
            .and_where(Expr::col(Messages::ConversationId).eq(conversation_id))
            .to_owned();
        Ok(self.fetch_optional::<Row>(&stmt).await?.and_then(|r| r.max_seq).unwrap_or(0))
    }

    /// One message by its place in a conversation.
    pub async fn message_at(
        &self,
        conversation_id: ConversationId,
        seq: i64,
    ) -> StoreResult<Option<MessageRow>> {
        let stmt = Query::select()
            .columns(COLUMNS)
            .from(Messages::Table)
            .and_where(Expr::col(Messages::ConversationId).eq(conversation_id))
            .and_where(Expr::col(Messages::Seq).eq(seq))
            .to_owned();
        self.fetch_optional(&stmt).await
    }

    /// Replaces a message's content by the recalled marker. Returns whether it changed.
    pub async fn mark_recalled(
        &self,
        conversation_id: ConversationId,
        seq: i64,
        marker: &str,
    ) -> StoreResult<bool> {
        let mut stmt = update_unrecalled(conversation_id, seq);
        stmt.value(Messages::Content, marker).value(Messages::Recalled, true);
        Ok(self.execute(&stmt).await? > 0)
    }

    /// A page of `reader`'s history of a conversation: after `after` ascending, or before
    /// `before` descending, never at or below `floor` (the reader's joined_seq), without the
    /// messages the reader deleted for themselves.
    pub async fn history(
        &self,
        reader: UserId,
        conversation_id: ConversationId,
        after: Option<i64>,
        before: Option<i64>,
        floor: i64,
        limit: u64,
    ) -> StoreResult<Vec<MessageRow>> {
        let mut stmt = Query::select();
        stmt.columns(COLUMNS)
            .from(Messages::Table)
            .and_where(Expr::col(Messages::ConversationId).eq(conversation_id))
            .and_where(Expr::col(Messages::Seq).gt(floor))
            .and_where(super::deletes::not_hidden_from(reader))
            .limit(limit);
        match (after, before) {
            (_, Some(before)) => {
                stmt.and_where(Expr::col(Messages::Seq).lt(before));
                if let Some(after) = after {
                    stmt.and_where(Expr::col(Messages::Seq).gt(after));
                }
                stmt.order_by(Messages::Seq, Order::Desc);
            }
            (after, None) => {
                stmt.and_where(Expr::col(Messages::Seq).gt(after.unwrap_or(0)));
                stmt.order_by(Messages::Seq, Order::Asc);
            }
        }
        self.fetch_all(&stmt).await
    }

    /// For each of a user's conversations: the newest sequence number and the number of
    /// messages from others after the user's read cursor.
    pub async fn conversation_counts(&self, user_id: UserId) -> StoreResult<Vec<(i64, i64, i64)>> {
        #[derive(sqlx::FromRow)]
        struct Counts {
            conversation_id: i64,
            last_seq: Option<i64>,
            unread: Option<i64>,
        }
        // This runs on every connect. Both counts are index lookups per conversation of the
        // user, through the unique (conversation_id, seq) index: the newest seq one backward
        // step, the unread ones a range after the read cursor. A join with the messages table
        // instead lets the planner scan the whole table when the user is in many of its
        // conversations, making every connect slower as history grows.
        let of_this_conversation = || {
            Expr::col((Messages::Table, Messages::ConversationId))
                .equals((Members::Table, Members::ConversationId))
        };
        // ORDER BY ... LIMIT 1 rather than MAX: MariaDB reads every message of the conversation
        // for a MAX in a correlated subquery, and one index entry for this.
        let newest = Query::select()
            .column((Messages::Table, Messages::Seq))
            .from(Messages::Table)
            .and_where(of_this_conversation())
            .order_by((Messages::Table, Messages::Seq), Order::Desc)
            .limit(1)
            .to_owned();
        let unread = Query::select()
            .expr(Func::count(Expr::col((Messages::Table, Messages::Seq))))
            .from(Messages::Table)
            .and_where(of_this_conversation())
            .and_where(
                Expr::col((Messages::Table, Messages::Seq)).gt(Expr::col((Members::Table, Members::ReadSeq))),
            )
            // Messages from others; notices (no sender) and one's own do not count.
            .and_where(Expr::col((Messages::Table, Messages::SenderId)).ne(user_id))
            // Nor edits and reactions: they change a message already counted. Inside a text's value the
            // quotes are escaped, so only the field itself matches.
            .and_where(Expr::col((Messages::Table, Messages::Content)).not_like(EDIT_FIELD))
            .and_where(Expr::col((Messages::Table, Messages::Content)).not_like(REACTION_FIELD))
            .to_owned();
        let counts = Query::select()
            .expr_as(Expr::col((Members::Table, Members::ConversationId)), "conversation_id")
            .expr_as(Expr::from(newest), "last_seq")
            .expr_as(Expr::from(unread), "unread")
            .from(Members::Table)
            .and_where(Expr::col((Members::Table, Members::UserId)).eq(user_id))
            .to_owned();
        let counts: Vec<Counts> = self.fetch_all(&counts).await?;
        Ok(counts
            .into_iter()
            .map(|c| (c.conversation_id, c.last_seq.unwrap_or(0), c.unread.unwrap_or(0)))
            .collect())
    }
}

/// An update of message `seq` of a conversation that applies only while it is not recalled.
/// Message `seq` of a conversation, found only while it is not recalled: what a reaction
/// needs of its message when it is stored.
fn unrecalled(conversation_id: ConversationId, seq: i64) -> SelectStatement {
    Query::select()
        .column(Messages::Id)
        .from(Messages::Table)
        .and_where(Expr::col(Messages::ConversationId).eq(conversation_id))
        .and_where(Expr::col(Messages::Seq).eq(seq))
        .and_where(Expr::col(Messages::Recalled).eq(false))
        .to_owned()
}

fn update_unrecalled(conversation_id: ConversationId, seq: i64) -> UpdateStatement {
    Query::update()
        .table(Messages::Table)
        .and_where(Expr::col(Messages::ConversationId).eq(conversation_id))
        .and_where(Expr::col(Messages::Seq).eq(seq))
        .and_where(Expr::col(Messages::Recalled).eq(false))
        .to_owned()
}

#[cfg(test)]
mod tests {
    use super::*;

    fn row(id: i64, conversation_id: ConversationId, seq: i64) -> MessageRow {
        MessageRow {
            id,
            conversation_id,
            seq,
            sender_id: Some(1),
            client_id: None,
            content: String::new(),
            sent_at: 0,
            edited_at: None,
            forwarded_from: None,
        }
    }

    #[test]
    fn refused_edits_leave_no_gap_in_their_conversation() {
        let mut rows = vec![row(10, 1, 5), row(11, 2, 8), row(12, 1, 6), row(13, 1, 7), row(14, 2, 9)];
        close_gaps(&mut rows, &[10, 14]);
        let left: Vec<(i64, i64, i64)> = rows.iter().map(|r| (r.id, r.conversation_id, r.seq)).collect();
        assert_eq!(left, [(11, 2, 8), (12, 1, 5), (13, 1, 6)]);
        close_gaps(&mut rows, &[]);
        assert_eq!(rows.len(), 3, "nothing refused, nothing changes");
    }
}

//! Reactions on messages: which user put which emoji on which message (`message_reactions`,
//! migration 0012). The reaction messages that carry the changes are ordinary messages, and
//! the message writer makes each change in the transaction that stores its message.

use super::{Store, StoreResult, now_millis};
use kith_shared::UserId;
use kith_shared::api::ConversationId;
use sea_query::{
    DeleteStatement, Expr, ExprTrait, Iden, InsertStatement, OnConflict, Order, Query, QueryBuilder,
};
use sea_query_sqlx::{SqlxBinder, SqlxValues};

#[derive(Debug, Clone, Copy, Iden)]
enum MessageReactions {
    Table,
    ConversationId,
    Seq,
    UserId,
    Emoji,
    ReactedAt,
}

/// One reaction as stored.
#[derive(Debug, Clone, PartialEq, Eq, sqlx::FromRow)]
pub struct ReactionRow {
    pub seq: i64,
    pub user_id: UserId,
    pub emoji: String,
}

/// One change a reaction message makes to `message_reactions`: `user` puts (`on`) or takes
/// back `emoji` on message `seq`. The message writer applies it in the transaction that
/// stores the reaction message, in the messages' order, so the stored reactions always agree
/// with the last reaction message of each (user, emoji). A reaction on a message recalled
/// meanwhile is refused there, and its reaction message is not stored.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct ReactionChange {
    /// The id of the reaction message (the row left out when the reaction is refused).
    pub message_id: i64,
    pub conversation_id: ConversationId,
    pub seq: i64,
    pub user_id: UserId,
    pub emoji: String,
    pub on: bool,
}

/// The statement that makes one [`ReactionChange`]. Putting one that is there, or taking back
/// one that is not, changes nothing.
pub(super) enum ReactionStatement {
    Put(InsertStatement),
    TakeBack(DeleteStatement),
}

impl SqlxBinder for ReactionStatement {
    fn build_sqlx<T: QueryBuilder>(&self, query_builder: T) -> (String, SqlxValues) {
        match self {
            ReactionStatement::Put(stmt) => stmt.build_sqlx(query_builder),
            ReactionStatement::TakeBack(stmt) => stmt.build_sqlx(query_builder),
        }
    }
}

impl ReactionChange {
    pub(super) fn statement(&self) -> ReactionStatement {
        if !self.on {
            return ReactionStatement::TakeBack(
                Query::delete()
                    .from_table(MessageReactions::Table)
                    .and_where(Expr::col(MessageReactions::ConversationId).eq(self.conversation_id))
                    .and_where(Expr::col(MessageReactions::Seq).eq(self.seq))
                    .and_where(Expr::col(MessageReactions::UserId).eq(self.user_id))
                    .and_where(Expr::col(MessageReactions::Emoji).eq(self.emoji.as_str()))
                    .to_owned(),
            );
        }
        ReactionStatement::Put(
            Query::insert()
                .into_table(MessageReactions::Table)
                .columns([
                    MessageReactions::ConversationId,
                    MessageReactions::Seq,
                    MessageReactions::UserId,
                    MessageReactions::Emoji,
                    MessageReactions::ReactedAt,
                ])
                .values_panic([
                    self.conversation_id.into(),
                    self.seq.into(),
                    self.user_id.into(),
                    self.emoji.as_str().into(),
                    now_millis().into(),
                ])
                .on_conflict(
                    OnConflict::columns([
                        MessageReactions::ConversationId,
                        MessageReactions::Seq,
                        MessageReactions::UserId,
                        MessageReactions::Emoji,
                    ])
                    .do_nothing_on([MessageReactions::ConversationId])
                    .to_owned(),
                )
                .to_owned(),
        )
    }
}

impl Store {
    /// The reactions on messages `from..=to` of a conversation, oldest first.
    pub async fn reactions_between(
        &self,
        conversation_id: ConversationId,
        from: i64,
        to: i64,
    ) -> StoreResult<Vec<ReactionRow>> {
        let stmt = Query::select()
            .columns([MessageReactions::Seq, MessageReactions::UserId, MessageReactions::Emoji])
            .from(MessageReactions::Table)
            .and_where(Expr::col(MessageReactions::ConversationId).eq(conversation_id))
            .and_where(Expr::col(MessageReactions::Seq).gte(from))
            .and_where(Expr::col(MessageReactions::Seq).lte(to))
            .order_by(MessageReactions::ReactedAt, Order::Asc)
            .to_owned();
        self.fetch_all(&stmt).await
    }
}

//! Reactions on messages: which user put which emoji on which message (`message_reactions`,
//! migration 0012). The reaction messages that carry the changes are ordinary messages.

use super::{Store, StoreResult, now_millis};
use kith_shared::UserId;
use kith_shared::api::ConversationId;
use sea_query::{Expr, ExprTrait, Iden, OnConflict, Order, Query};

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

impl Store {
    /// Puts `user`'s reaction `emoji` on message `seq`; true when it is new (a second one
    /// changes nothing).
    pub async fn add_reaction(
        &self,
        conversation_id: ConversationId,
        seq: i64,
        user: UserId,
        emoji: &str,
    ) -> StoreResult<bool> {
        let stmt = Query::insert()
            .into_table(MessageReactions::Table)
            .columns([
                MessageReactions::ConversationId,
                MessageReactions::Seq,
                MessageReactions::UserId,
                MessageReactions::Emoji,
                MessageReactions::ReactedAt,
            ])
            .values_panic([
                conversation_id.into(),
                seq.into(),
                user.into(),
                emoji.into(),
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
            .to_owned();
        Ok(self.execute(&stmt).await? > 0)
    }

    /// Takes back `user`'s reaction `emoji` on message `seq`; true when there was one.
    pub async fn remove_reaction(
        &self,
        conversation_id: ConversationId,
        seq: i64,
        user: UserId,
        emoji: &str,
    ) -> StoreResult<bool> {
        let stmt = Query::delete()
            .from_table(MessageReactions::Table)
            .and_where(Expr::col(MessageReactions::ConversationId).eq(conversation_id))
            .and_where(Expr::col(MessageReactions::Seq).eq(seq))
            .and_where(Expr::col(MessageReactions::UserId).eq(user))
            .and_where(Expr::col(MessageReactions::Emoji).eq(emoji))
            .to_owned();
        Ok(self.execute(&stmt).await? > 0)
    }

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

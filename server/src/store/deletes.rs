//! Messages a user deleted for themselves (`hidden_messages`, migration 0013): history leaves
//! them out for that user alone.

use super::messages::Messages;
use super::{Store, StoreResult, now_millis};
use kith_shared::UserId;
use kith_shared::api::ConversationId;
use sea_query::{Expr, ExprTrait, Func, Iden, OnConflict, Order, Query, SimpleExpr};
use std::collections::HashMap;

#[derive(Debug, Clone, Copy, Iden)]
enum HiddenMessages {
    Table,
    UserId,
    ConversationId,
    Seq,
    HiddenAt,
}

impl Store {
    /// Hides messages `seqs` of a conversation from `user_id`; hiding one again changes
    /// nothing.
    pub async fn hide_messages(
        &self,
        user_id: UserId,
        conversation_id: ConversationId,
        seqs: &[i64],
    ) -> StoreResult<()> {
        if seqs.is_empty() {
            return Ok(());
        }
        let now = now_millis();
        let mut stmt = Query::insert();
        stmt.into_table(HiddenMessages::Table).columns([
            HiddenMessages::UserId,
            HiddenMessages::ConversationId,
            HiddenMessages::Seq,
            HiddenMessages::HiddenAt,
        ]);
        for seq in seqs {
            stmt.values_panic([user_id.into(), conversation_id.into(), (*seq).into(), now.into()]);
        }
        stmt.on_conflict(
            OnConflict::columns([
                HiddenMessages::UserId,
                HiddenMessages::ConversationId,
                HiddenMessages::Seq,
            ])
            .do_nothing_on([HiddenMessages::UserId])
            .to_owned(),
        );
        self.execute(&stmt).await?;
        Ok(())
    }

    /// The sequence numbers of the messages of a conversation that `user_id` hid, ascending.
    pub async fn hidden_seqs(
        &self,
        user_id: UserId,
        conversation_id: ConversationId,
    ) -> StoreResult<Vec<i64>> {
        #[derive(sqlx::FromRow)]
        struct Row {
            seq: i64,
        }
        let stmt = Query::select()
            .column(HiddenMessages::Seq)
            .from(HiddenMessages::Table)
            .and_where(Expr::col(HiddenMessages::UserId).eq(user_id))
            .and_where(Expr::col(HiddenMessages::ConversationId).eq(conversation_id))
            .order_by(HiddenMessages::Seq, Order::Asc)
            .to_owned();
        Ok(self.fetch_all::<Row>(&stmt).await?.into_iter().map(|r| r.seq).collect())
    }

    /// Whether `user_id` hid message `seq` of a conversation.
    pub async fn is_hidden(
        &self,
        user_id: UserId,
        conversation_id: ConversationId,
        seq: i64,
    ) -> StoreResult<bool> {
        #[derive(sqlx::FromRow)]
        struct Row {
            #[allow(dead_code, reason = "only whether a row exists matters")]
            seq: i64,
        }
        let stmt = Query::select()
            .column(HiddenMessages::Seq)
            .from(HiddenMessages::Table)
            .and_where(Expr::col(HiddenMessages::UserId).eq(user_id))
            .and_where(Expr::col(HiddenMessages::ConversationId).eq(conversation_id))
            .and_where(Expr::col(HiddenMessages::Seq).eq(seq))
            .to_owned();
        Ok(self.fetch_optional::<Row>(&stmt).await?.is_some())
    }

    /// How many messages `user_id` hid, per conversation (those with none left out).
    pub async fn hidden_counts(&self, user_id: UserId) -> StoreResult<HashMap<ConversationId, u64>> {
        #[derive(sqlx::FromRow)]
        struct Row {
            conversation_id: i64,
            hidden: i64,
        }
        let stmt = Query::select()
            .column(HiddenMessages::ConversationId)
            .expr_as(Func::count(Expr::col(HiddenMessages::Seq)), "hidden")
            .from(HiddenMessages::Table)
            .and_where(Expr::col(HiddenMessages::UserId).eq(user_id))
            .group_by_col(HiddenMessages::ConversationId)
            .to_owned();
        let rows: Vec<Row> = self.fetch_all(&stmt).await?;
        Ok(rows.into_iter().map(|r| (r.conversation_id, u64::try_from(r.hidden).unwrap_or(0))).collect())
    }

    /// Those of `seqs` that are messages of a conversation after `floor` (a member's
    /// `joined_seq`).
    pub async fn existing_seqs(
        &self,
        conversation_id: ConversationId,
        seqs: &[i64],
        floor: i64,
    ) -> StoreResult<Vec<i64>> {
        #[derive(sqlx::FromRow)]
        struct Row {
            seq: i64,
        }
        let stmt = Query::select()
            .column(Messages::Seq)
            .from(Messages::Table)
            .and_where(Expr::col(Messages::ConversationId).eq(conversation_id))
            .and_where(Expr::col(Messages::Seq).gt(floor))
            .and_where(Expr::col(Messages::Seq).is_in(seqs.iter().copied()))
            .to_owned();
        Ok(self.fetch_all::<Row>(&stmt).await?.into_iter().map(|r| r.seq).collect())
    }
}

/// A condition on a query of the messages table: the message is not hidden from `reader`.
pub(super) fn not_hidden_from(reader: UserId) -> SimpleExpr {
    let hidden = Query::select()
        .expr(Expr::val(1))
        .from(HiddenMessages::Table)
        .and_where(Expr::col((HiddenMessages::Table, HiddenMessages::UserId)).eq(reader))
        .and_where(
            Expr::col((HiddenMessages::Table, HiddenMessages::ConversationId))
                .equals((Messages::Table, Messages::ConversationId)),
        )
        .and_where(
            Expr::col((HiddenMessages::Table, HiddenMessages::Seq)).equals((Messages::Table, Messages::Seq)),
        )
        .to_owned();
    Expr::exists(hidden).not()
}

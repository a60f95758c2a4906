//! Blocks: who blocks whom (`blocks`, migration 0009).

use super::{Store, StoreResult};
use kith_shared::UserId;
use sea_query::{Expr, ExprTrait, Iden, Order, Query};

#[derive(Debug, Clone, Copy, Iden)]
enum Blocks {
    Table,
    BlockerId,
    BlockedId,
    CreatedAt,
}

/// One user the blocker blocks, and since when.
#[derive(Debug, Clone, sqlx::FromRow)]
pub struct BlockRow {
    pub blocked_id: i64,
    pub created_at: i64,
}

impl Store {
    /// Records that `blocker` blocks `blocked` since `at`; true when the block is new (a second
    /// one keeps the first's time). A plain INSERT whose unique key refuses a second: MySQL
    /// counts a row "changed" by a do-nothing upsert as touched, so its count cannot tell.
    pub async fn block(&self, blocker: UserId, blocked: UserId, at: i64) -> StoreResult<bool> {
        let stmt = Query::insert()
            .into_table(Blocks::Table)
            .columns([Blocks::BlockerId, Blocks::BlockedId, Blocks::CreatedAt])
            .values_panic([blocker.into(), blocked.into(), at.into()])
            .to_owned();
        match self.execute(&stmt).await {
            Ok(_) => Ok(true),
            Err(err) if err.is_unique_violation() => Ok(false),
            Err(err) => Err(err),
        }
    }

    /// Lifts the block; true when there was one.
    pub async fn unblock(&self, blocker: UserId, blocked: UserId) -> StoreResult<bool> {
        let stmt = Query::delete()
            .from_table(Blocks::Table)
            .and_where(Expr::col(Blocks::BlockerId).eq(blocker))
            .and_where(Expr::col(Blocks::BlockedId).eq(blocked))
            .to_owned();
        Ok(self.execute(&stmt).await? > 0)
    }

    /// True while `blocker` blocks `blocked`.
    pub async fn blocks(&self, blocker: UserId, blocked: UserId) -> StoreResult<bool> {
        let stmt = Query::select()
            .column(Blocks::BlockedId)
            .column(Blocks::CreatedAt)
            .from(Blocks::Table)
            .and_where(Expr::col(Blocks::BlockerId).eq(blocker))
            .and_where(Expr::col(Blocks::BlockedId).eq(blocked))
            .to_owned();
        Ok(self.fetch_optional::<BlockRow>(&stmt).await?.is_some())
    }

    /// Everyone `blocker` blocks, the latest block first.
    pub async fn blocks_of(&self, blocker: UserId) -> StoreResult<Vec<BlockRow>> {
        let stmt = Query::select()
            .column(Blocks::BlockedId)
            .column(Blocks::CreatedAt)
            .from(Blocks::Table)
            .and_where(Expr::col(Blocks::BlockerId).eq(blocker))
            .order_by(Blocks::CreatedAt, Order::Desc)
            .order_by(Blocks::BlockedId, Order::Asc)
            .to_owned();
        self.fetch_all(&stmt).await
    }
}

//! Login sessions: the SHA-256 of each bearer token and whose it is. Tokens themselves are
//! never stored.

use super::{Store, StoreResult, now_millis};
use sea_query::{Expr, ExprTrait, Iden, Query};

#[derive(Debug, Clone, Copy, Iden)]
enum Sessions {
    Table,
    TokenHash,
    UserId,
    CreatedAt,
}

impl Store {
    pub async fn create_session(&self, token_hash: &str, user_id: i64) -> StoreResult<()> {
        let stmt = Query::insert()
            .into_table(Sessions::Table)
            .columns([Sessions::TokenHash, Sessions::UserId, Sessions::CreatedAt])
            .values_panic([token_hash.into(), user_id.into(), now_millis().into()])
            .to_owned();
        self.execute(&stmt).await?;
        Ok(())
    }

    /// The user a token hash belongs to, if the session exists.
    pub async fn session_user(&self, token_hash: &str) -> StoreResult<Option<i64>> {
        #[derive(sqlx::FromRow)]
        struct Row {
            user_id: i64,
        }
        let stmt = Query::select()
            .column(Sessions::UserId)
            .from(Sessions::Table)
            .and_where(Expr::col(Sessions::TokenHash).eq(token_hash))
            .to_owned();
        Ok(self.fetch_optional::<Row>(&stmt).await?.map(|row| row.user_id))
    }

    /// Deletes one session (log out). Returns whether it existed.
    pub async fn delete_session(&self, token_hash: &str) -> StoreResult<bool> {
        let stmt = Query::delete()
            .from_table(Sessions::Table)
            .and_where(Expr::col(Sessions::TokenHash).eq(token_hash))
            .to_owned();
        Ok(self.execute(&stmt).await? > 0)
    }

    /// Deletes every session of a user except `keep` (password change, single-device login).
    pub async fn delete_other_sessions(&self, user_id: i64, keep: &str) -> StoreResult<u64> {
        let stmt = Query::delete()
            .from_table(Sessions::Table)
            .and_where(Expr::col(Sessions::UserId).eq(user_id))
            .and_where(Expr::col(Sessions::TokenHash).ne(keep))
            .to_owned();
        self.execute(&stmt).await
    }
}

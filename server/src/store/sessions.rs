//! Login sessions: the SHA-256 of each bearer token and whose it is. Tokens themselves are
//! never stored. A running server also stamps the sessions its sockets are connected with
//! (`connected_at`, `seen_at`), so that another process can tell who is online (see
//! `crate::sessions`).

use super::users::Users;
use super::{Store, StoreResult, now_millis};
use sea_query::{Expr, ExprTrait, Iden, Order, Query};
use sea_query_sqlx::SqlxBinder;
use sqlx::AssertSqlSafe;
use std::time::Duration;

#[derive(Debug, Clone, Copy, Iden)]
enum Sessions {
    Table,
    TokenHash,
    UserId,
    CreatedAt,
    ConnectedAt,
    SeenAt,
}

/// How often a running server stamps `seen_at` on the sessions it has a socket for.
pub const SEEN_REFRESH: Duration = Duration::from_secs(20);
/// A session stamped less recently than this is not online (its server stopped stamping:
/// it died, or lost its database).
pub const SEEN_FRESH: Duration = Duration::from_secs(60);

/// Statements with an `IN (...)` list take at most this many tokens (SQLite allows 32,766
/// parameters, PostgreSQL and MySQL 65,535).
const TOKENS_PER_STATEMENT: usize = 1000;

/// A session with a live socket, as `kith-server online` shows it.
#[derive(Debug, Clone, sqlx::FromRow)]
pub struct OnlineRow {
    pub user_id: i64,
    pub username: String,
    pub display_name: String,
    /// When a server first saw a socket on this session (Unix milliseconds).
    pub connected_at: Option<i64>,
    /// When a server last confirmed it (Unix milliseconds).
    pub seen_at: Option<i64>,
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

    /// Opens a session and ends every other session of the user (a single-device login), in
    /// one transaction that holds the user's row: of two logins of one account at once,
    /// through one node or two, the later one's session is the one left, never neither.
    pub async fn create_only_session(&self, token_hash: &str, user_id: i64) -> StoreResult<()> {
        let lock = Query::select()
            .column(Users::Id)
            .from(Users::Table)
            .and_where(Expr::col(Users::Id).eq(user_id))
            .lock_exclusive()
            .to_owned();
        let insert = Query::insert()
            .into_table(Sessions::Table)
            .columns([Sessions::TokenHash, Sessions::UserId, Sessions::CreatedAt])
            .values_panic([token_hash.into(), user_id.into(), now_millis().into()])
            .to_owned();
        let delete = Query::delete()
            .from_table(Sessions::Table)
            .and_where(Expr::col(Sessions::UserId).eq(user_id))
            .and_where(Expr::col(Sessions::TokenHash).ne(token_hash))
            .to_owned();
        let sqlite = self.backend() == "sqlite";
        on_pool!(self, |pool, builder| {
            let mut tx = pool.begin().await?;
            // SQLite has no row locks: its first write (the insert) takes the database's
            // write lock, which serialises the logins as well.
            if !sqlite {
                let (sql, values) = lock.build_sqlx(builder());
                sqlx::query_with(AssertSqlSafe(sql), values).fetch_all(&mut *tx).await?;
            }
            let (sql, values) = insert.build_sqlx(builder());
            sqlx::query_with(AssertSqlSafe(sql), values).execute(&mut *tx).await?;
            let (sql, values) = delete.build_sqlx(builder());
            sqlx::query_with(AssertSqlSafe(sql), values).execute(&mut *tx).await?;
            tx.commit().await?;
        });
        Ok(())
    }

    /// The user a token hash belongs to, if the session exists and the account is not
    /// disabled.
    pub async fn session_user(&self, token_hash: &str) -> StoreResult<Option<i64>> {
        #[derive(sqlx::FromRow)]
        struct Row {
            user_id: i64,
        }
        let stmt = Query::select()
            .column((Sessions::Table, Sessions::UserId))
            .from(Sessions::Table)
            .inner_join(
                Users::Table,
                Expr::col((Users::Table, Users::Id)).equals((Sessions::Table, Sessions::UserId)),
            )
            .and_where(Expr::col((Sessions::Table, Sessions::TokenHash)).eq(token_hash))
            .and_where(Expr::col((Users::Table, Users::Disabled)).eq(false))
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

    /// Deletes every session of a user (new password or disabled by the operator).
    pub async fn delete_sessions_of(&self, user_id: i64) -> StoreResult<u64> {
        let stmt = Query::delete()
            .from_table(Sessions::Table)
            .and_where(Expr::col(Sessions::UserId).eq(user_id))
            .to_owned();
        self.execute(&stmt).await
    }

    /// Those of `token_hashes` whose session still exists for an account that is not
    /// disabled.
    pub async fn valid_sessions(&self, token_hashes: &[String]) -> StoreResult<Vec<String>> {
        #[derive(sqlx::FromRow)]
        struct Row {
            token_hash: String,
        }
        let mut valid = Vec::with_capacity(token_hashes.len());
        for chunk in token_hashes.chunks(TOKENS_PER_STATEMENT) {
            let stmt = Query::select()
                .column((Sessions::Table, Sessions::TokenHash))
                .from(Sessions::Table)
                .inner_join(
                    Users::Table,
                    Expr::col((Users::Table, Users::Id)).equals((Sessions::Table, Sessions::UserId)),
                )
                .and_where(Expr::col((Sessions::Table, Sessions::TokenHash)).is_in(chunk.iter().cloned()))
                .and_where(Expr::col((Users::Table, Users::Disabled)).eq(false))
                .to_owned();
            let rows: Vec<Row> = self.fetch_all(&stmt).await?;
            valid.extend(rows.into_iter().map(|row| row.token_hash));
        }
        Ok(valid)
    }

    /// Records that a server has sockets on these sessions: `seen_at` becomes `now`, and so
    /// does `connected_at` when `connected` (the sockets are new).
    pub async fn stamp_sessions(
        &self,
        token_hashes: &[String],
        now: i64,
        connected: bool,
    ) -> StoreResult<()> {
        for chunk in token_hashes.chunks(TOKENS_PER_STATEMENT) {
            let mut stmt = Query::update();
            stmt.table(Sessions::Table)
                .value(Sessions::SeenAt, now)
                .and_where(Expr::col(Sessions::TokenHash).is_in(chunk.iter().cloned()));
            if connected {
                stmt.value(Sessions::ConnectedAt, now);
            }
            self.execute(&stmt).await?;
        }
        Ok(())
    }

    /// Records that these sessions no longer have a socket on this server.
    pub async fn clear_session_stamps(&self, token_hashes: &[String]) -> StoreResult<()> {
        for chunk in token_hashes.chunks(TOKENS_PER_STATEMENT) {
            let stmt = Query::update()
                .table(Sessions::Table)
                .value(Sessions::SeenAt, Option::<i64>::None)
                .value(Sessions::ConnectedAt, Option::<i64>::None)
                .and_where(Expr::col(Sessions::TokenHash).is_in(chunk.iter().cloned()))
                .to_owned();
            self.execute(&stmt).await?;
        }
        Ok(())
    }

    /// Sessions a running server stamped within [`SEEN_FRESH`] of `now`, by user name.
    pub async fn online_sessions(&self, now: i64) -> StoreResult<Vec<OnlineRow>> {
        let cutoff = now - SEEN_FRESH.as_millis() as i64;
        let stmt = Query::select()
            .column((Sessions::Table, Sessions::UserId))
            .columns([(Users::Table, Users::Username), (Users::Table, Users::DisplayName)])
            .columns([(Sessions::Table, Sessions::ConnectedAt), (Sessions::Table, Sessions::SeenAt)])
            .from(Sessions::Table)
            .inner_join(
                Users::Table,
                Expr::col((Users::Table, Users::Id)).equals((Sessions::Table, Sessions::UserId)),
            )
            .and_where(Expr::col((Sessions::Table, Sessions::SeenAt)).gte(cutoff))
            .order_by((Users::Table, Users::Username), Order::Asc)
            .order_by((Sessions::Table, Sessions::ConnectedAt), Order::Asc)
            .to_owned();
        self.fetch_all(&stmt).await
    }
}

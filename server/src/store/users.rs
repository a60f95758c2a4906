//! Accounts.

use super::{Store, StoreResult, now_millis};
use sea_query::{Expr, ExprTrait, Iden, Order, Query};
use sea_query_sqlx::SqlxBinder;
use sqlx::AssertSqlSafe;

#[derive(Debug, Clone, Copy, Iden)]
pub(crate) enum Users {
    Table,
    Id,
    Username,
    DisplayName,
    PasswordHash,
    Avatar,
    CreatedAt,
    Disabled,
}

/// One account as stored.
#[derive(Debug, Clone, sqlx::FromRow)]
pub struct UserRow {
    pub id: i64,
    pub username: String,
    pub display_name: String,
    pub password_hash: String,
    /// File name of the avatar under the data directory's `avatars/`.
    pub avatar: Option<String>,
    /// The operator disabled the account: logging in is refused.
    pub disabled: bool,
}

/// One account as `kith-server user list` shows it.
#[derive(Debug, Clone, sqlx::FromRow)]
pub struct UserListRow {
    pub id: i64,
    pub username: String,
    pub display_name: String,
    pub disabled: bool,
    pub created_at: i64,
}

/// What registration stores.
#[derive(Debug, Clone)]
pub struct NewUser<'a> {
    pub username: &'a str,
    pub display_name: &'a str,
    pub password_hash: &'a str,
}

pub(super) const USER_COLUMNS: [Users; 6] =
    [Users::Id, Users::Username, Users::DisplayName, Users::PasswordHash, Users::Avatar, Users::Disabled];

impl Store {
    /// Creates an account; a taken user name is a unique violation.
    pub async fn create_user(&self, user: NewUser<'_>) -> StoreResult<i64> {
        let mut stmt = Query::insert();
        stmt.into_table(Users::Table)
            .columns([Users::Username, Users::DisplayName, Users::PasswordHash, Users::CreatedAt])
            .values_panic([
                user.username.into(),
                user.display_name.into(),
                user.password_hash.into(),
                now_millis().into(),
            ]);
        self.insert_returning_id(stmt).await
    }

    pub async fn user_by_id(&self, id: i64) -> StoreResult<Option<UserRow>> {
        let stmt = Query::select()
            .columns(USER_COLUMNS)
            .from(Users::Table)
            .and_where(Expr::col(Users::Id).eq(id))
            .to_owned();
        self.fetch_optional(&stmt).await
    }

    pub async fn user_by_username(&self, username: &str) -> StoreResult<Option<UserRow>> {
        let stmt = Query::select()
            .columns(USER_COLUMNS)
            .from(Users::Table)
            .and_where(Expr::col(Users::Username).eq(username))
            .to_owned();
        self.fetch_optional(&stmt).await
    }

    pub async fn set_display_name(&self, id: i64, display_name: &str) -> StoreResult<()> {
        let stmt = Query::update()
            .table(Users::Table)
            .value(Users::DisplayName, display_name)
            .and_where(Expr::col(Users::Id).eq(id))
            .to_owned();
        self.execute(&stmt).await?;
        Ok(())
    }

    pub async fn set_avatar(&self, id: i64, avatar: &str) -> StoreResult<()> {
        let stmt = Query::update()
            .table(Users::Table)
            .value(Users::Avatar, avatar)
            .and_where(Expr::col(Users::Id).eq(id))
            .to_owned();
        self.execute(&stmt).await?;
        Ok(())
    }

    pub async fn set_password_hash(&self, id: i64, password_hash: &str) -> StoreResult<()> {
        let stmt = Query::update()
            .table(Users::Table)
            .value(Users::PasswordHash, password_hash)
            .and_where(Expr::col(Users::Id).eq(id))
            .to_owned();
        self.execute(&stmt).await?;
        Ok(())
    }

    /// Disables or enables an account. Returns whether the account exists.
    pub async fn set_disabled(&self, id: i64, disabled: bool) -> StoreResult<bool> {
        let stmt = Query::update()
            .table(Users::Table)
            .value(Users::Disabled, disabled)
            .and_where(Expr::col(Users::Id).eq(id))
            .to_owned();
        Ok(self.execute(&stmt).await? > 0)
    }

    /// Every account, by user name.
    pub async fn list_users(&self) -> StoreResult<Vec<UserListRow>> {
        let stmt = Query::select()
            .columns([Users::Id, Users::Username, Users::DisplayName, Users::Disabled, Users::CreatedAt])
            .from(Users::Table)
            .order_by(Users::Username, Order::Asc)
            .to_owned();
        self.fetch_all(&stmt).await
    }

    /// Deletes an account. The database deletes with it its sessions, memberships (and so its
    /// friendships), friend and group requests and uploads; its messages stay. The membership
    /// epoch moves in the same transaction, so a running server that sees the sessions gone
    /// also sees that memberships changed. Returns whether the account existed.
    pub async fn delete_user(&self, id: i64) -> StoreResult<bool> {
        let delete =
            Query::delete().from_table(Users::Table).and_where(Expr::col(Users::Id).eq(id)).to_owned();
        let bump = Self::bump_membership_epoch_statement();
        let deleted = on_pool!(self, |pool, builder| {
            let mut tx = pool.begin().await?;
            let (sql, values) = delete.build_sqlx(builder());
            let done = sqlx::query_with(AssertSqlSafe(sql), values).execute(&mut *tx).await?;
            let (sql, values) = bump.build_sqlx(builder());
            sqlx::query_with(AssertSqlSafe(sql), values).execute(&mut *tx).await?;
            tx.commit().await?;
            done.rows_affected() > 0
        });
        Ok(deleted)
    }
}

//! Accounts.

use super::{Store, StoreResult, now_millis};
use sea_query::{Expr, ExprTrait, Iden, Query};

#[derive(Debug, Clone, Copy, Iden)]
pub(crate) enum Users {
    Table,
    Id,
    Username,
    DisplayName,
    PasswordHash,
    Avatar,
    CreatedAt,
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
}

/// What registration stores.
#[derive(Debug, Clone)]
pub struct NewUser<'a> {
    pub username: &'a str,
    pub display_name: &'a str,
    pub password_hash: &'a str,
}

pub(super) const USER_COLUMNS: [Users; 5] =
    [Users::Id, Users::Username, Users::DisplayName, Users::PasswordHash, Users::Avatar];

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
}

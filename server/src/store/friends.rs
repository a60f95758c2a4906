//! Friend requests and friendships. Two users are friends while both are members of their
//! direct conversation.

use super::conversations::{Conversations, Members};
use super::users::{USER_COLUMNS, Users};
use super::{Store, StoreResult, UserRow, direct_key, now_millis};
use kith_shared::UserId;
use kith_shared::api::ConversationId;
use sea_query::{Alias, Expr, ExprTrait, Func, Iden, JoinType, LikeExpr, Order, Query};

#[derive(Debug, Clone, Copy, Iden)]
enum FriendRequests {
    Table,
    Id,
    FromId,
    ToId,
    Message,
    CreatedAt,
}

/// A pending friend request as stored.
#[derive(Debug, Clone, sqlx::FromRow)]
pub struct FriendRequestRow {
    pub id: i64,
    pub from_id: i64,
    pub to_id: i64,
    pub message: String,
    pub created_at: i64,
}

const REQUEST_COLUMNS: [FriendRequests; 5] = [
    FriendRequests::Id,
    FriendRequests::FromId,
    FriendRequests::ToId,
    FriendRequests::Message,
    FriendRequests::CreatedAt,
];

/// A LIKE pattern matching `text` anywhere, with the wildcards in `text` taken literally.
pub fn contains_pattern(text: &str) -> LikeExpr {
    let escaped: String = text
        .to_lowercase()
        .chars()
        .flat_map(|c| match c {
            '%' | '_' | '\\' => vec!['\\', c],
            c => vec![c],
        })
        .collect();
    LikeExpr::new(format!("%{escaped}%")).escape('\\')
}

impl Store {
    /// Stores a pending request; a second one from the same sender is a unique violation.
    pub async fn create_friend_request(&self, from: UserId, to: UserId, message: &str) -> StoreResult<i64> {
        let mut stmt = Query::insert();
        stmt.into_table(FriendRequests::Table)
            .columns([
                FriendRequests::FromId,
                FriendRequests::ToId,
                FriendRequests::Message,
                FriendRequests::CreatedAt,
            ])
            .values_panic([from.into(), to.into(), message.into(), now_millis().into()]);
        self.insert_returning_id(stmt).await
    }

    pub async fn friend_request(&self, id: i64) -> StoreResult<Option<FriendRequestRow>> {
        let stmt = Query::select()
            .columns(REQUEST_COLUMNS)
            .from(FriendRequests::Table)
            .and_where(Expr::col(FriendRequests::Id).eq(id))
            .to_owned();
        self.fetch_optional(&stmt).await
    }

    /// The pending request from `from` to `to`, if any.
    pub async fn friend_request_between(
        &self,
        from: UserId,
        to: UserId,
    ) -> StoreResult<Option<FriendRequestRow>> {
        let stmt = Query::select()
            .columns(REQUEST_COLUMNS)
            .from(FriendRequests::Table)
            .and_where(Expr::col(FriendRequests::FromId).eq(from))
            .and_where(Expr::col(FriendRequests::ToId).eq(to))
            .to_owned();
        self.fetch_optional(&stmt).await
    }

    pub async fn delete_friend_request(&self, id: i64) -> StoreResult<bool> {
        let stmt = Query::delete()
            .from_table(FriendRequests::Table)
            .and_where(Expr::col(FriendRequests::Id).eq(id))
            .to_owned();
        Ok(self.execute(&stmt).await? > 0)
    }

    /// Pending requests addressed to `user_id` (`incoming`) or sent by them, oldest first.
    pub async fn friend_requests_of(
        &self,
        user_id: UserId,
        incoming: bool,
    ) -> StoreResult<Vec<FriendRequestRow>> {
        let column = if incoming { FriendRequests::ToId } else { FriendRequests::FromId };
        let stmt = Query::select()
            .columns(REQUEST_COLUMNS)
            .from(FriendRequests::Table)
            .and_where(Expr::col(column).eq(user_id))
            .order_by(FriendRequests::Id, Order::Asc)
            .to_owned();
        self.fetch_all(&stmt).await
    }

    /// The direct conversation of two users, if it was ever created.
    pub async fn find_direct_conversation(
        &self,
        a: UserId,
        b: UserId,
    ) -> StoreResult<Option<ConversationId>> {
        #[derive(sqlx::FromRow)]
        struct Row {
            id: i64,
        }
        let stmt = Query::select()
            .column(Conversations::Id)
            .from(Conversations::Table)
            .and_where(Expr::col(Conversations::DirectKey).eq(direct_key(a, b)))
            .to_owned();
        Ok(self.fetch_optional::<Row>(&stmt).await?.map(|r| r.id))
    }

    pub async fn are_friends(&self, a: UserId, b: UserId) -> StoreResult<bool> {
        let Some(conversation) = self.find_direct_conversation(a, b).await? else { return Ok(false) };
        Ok(self.member(conversation, a).await?.is_some() && self.member(conversation, b).await?.is_some())
    }

    /// Each friend of `user_id` with the id of their direct conversation.
    pub async fn friends_of(&self, user_id: UserId) -> StoreResult<Vec<(UserRow, ConversationId)>> {
        #[derive(sqlx::FromRow)]
        struct Row {
            user_id: i64,
            conversation_id: i64,
        }
        let me = Alias::new("me");
        let other = Alias::new("other");
        let stmt = Query::select()
            .column((other.clone(), Members::UserId))
            .column((other.clone(), Members::ConversationId))
            .from_as(Members::Table, me.clone())
            .join(
                JoinType::InnerJoin,
                Conversations::Table,
                Expr::col((Conversations::Table, Conversations::Id))
                    .equals((me.clone(), Members::ConversationId))
                    .and(Expr::col((Conversations::Table, Conversations::Kind)).eq("direct")),
            )
            .join_as(
                JoinType::InnerJoin,
                Members::Table,
                other.clone(),
                Expr::col((other.clone(), Members::ConversationId))
                    .equals((me.clone(), Members::ConversationId))
                    .and(Expr::col((other.clone(), Members::UserId)).ne(user_id)),
            )
            .and_where(Expr::col((me, Members::UserId)).eq(user_id))
            .to_owned();
        let rows: Vec<Row> = self.fetch_all(&stmt).await?;
        let users = self.users_by_ids(rows.iter().map(|r| r.user_id).collect()).await?;
        let mut friends: Vec<(UserRow, ConversationId)> = rows
            .iter()
            .filter_map(|r| users.iter().find(|u| u.id == r.user_id).map(|u| (u.clone(), r.conversation_id)))
            .collect();
        friends.sort_by_key(|(user, _)| user.display_name.to_lowercase());
        Ok(friends)
    }

    pub async fn users_by_ids(&self, ids: Vec<UserId>) -> StoreResult<Vec<UserRow>> {
        if ids.is_empty() {
            return Ok(Vec::new());
        }
        let stmt = Query::select()
            .columns(USER_COLUMNS)
            .from(Users::Table)
            .and_where(Expr::col(Users::Id).is_in(ids))
            .to_owned();
        self.fetch_all(&stmt).await
    }

    /// Users whose user name or display name contains `text` (case-insensitive), except
    /// `exclude`, ordered by user name.
    pub async fn search_users(
        &self,
        text: &str,
        exclude: UserId,
        offset: u64,
        limit: u64,
    ) -> StoreResult<Vec<UserRow>> {
        let stmt = Query::select()
            .columns(USER_COLUMNS)
            .from(Users::Table)
            .and_where(Expr::col(Users::Id).ne(exclude))
            .and_where(
                Expr::expr(Func::lower(Expr::col(Users::Username)))
                    .like(contains_pattern(text))
                    .or(Expr::expr(Func::lower(Expr::col(Users::DisplayName))).like(contains_pattern(text))),
            )
            .order_by(Users::Username, Order::Asc)
            .limit(limit)
            .offset(offset)
            .to_owned();
        self.fetch_all(&stmt).await
    }
}

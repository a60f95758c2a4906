//! Conversations and their members: the one-to-one chat of two friends and each group's
//! chat. Friendship is membership of the pair's direct conversation.

use super::{Store, StoreResult, now_millis};
use kith_shared::UserId;
use kith_shared::api::{ConversationId, ConversationKind, Role};
use sea_query::{Expr, ExprTrait, Iden, Query};
use sea_query_sqlx::SqlxBinder;
use sqlx::AssertSqlSafe;

#[derive(Debug, Clone, Copy, Iden)]
pub(crate) enum Conversations {
    Table,
    Id,
    Kind,
    DirectKey,
    Name,
    Description,
    OwnerId,
    Dissolved,
    CreatedAt,
    Announcement,
    AnnouncementBy,
    AnnouncementAt,
    Avatar,
}

#[derive(Debug, Clone, Copy, Iden)]
pub(crate) enum Members {
    Table,
    ConversationId,
    UserId,
    Role,
    Muted,
    JoinedSeq,
    DeliveredSeq,
    ReadSeq,
    JoinedAt,
    Pinned,
    Archived,
    MarkedUnread,
}

/// One member of a conversation as stored.
#[derive(Debug, Clone, sqlx::FromRow)]
pub struct MemberRow {
    pub conversation_id: i64,
    pub user_id: i64,
    pub role: String,
    pub muted: bool,
    pub joined_seq: i64,
    pub delivered_seq: i64,
    pub read_seq: i64,
    pub pinned: bool,
    pub archived: bool,
    pub marked_unread: bool,
}

impl MemberRow {
    pub fn role(&self) -> Role {
        Role::parse(&self.role).unwrap_or(Role::Member)
    }
}

/// A conversation's kind and, for groups, whether it was dissolved.
#[derive(Debug, Clone, sqlx::FromRow)]
pub struct ConversationRow {
    pub id: i64,
    pub kind: String,
    pub dissolved: bool,
}

impl ConversationRow {
    pub fn kind(&self) -> ConversationKind {
        if self.kind == "group" { ConversationKind::Group } else { ConversationKind::Direct }
    }
}

/// Ids in one `IN (...)` list: every backend takes this many parameters in one statement.
const IDS_PER_STATEMENT: usize = 500;

const MEMBER_COLUMNS: [Members; 10] = [
    Members::ConversationId,
    Members::UserId,
    Members::Role,
    Members::Muted,
    Members::JoinedSeq,
    Members::DeliveredSeq,
    Members::ReadSeq,
    Members::Pinned,
    Members::Archived,
    Members::MarkedUnread,
];

/// The unique key of the direct conversation of two users.
pub fn direct_key(a: UserId, b: UserId) -> String {
    format!("{}:{}", std::cmp::min(a, b), std::cmp::max(a, b))
}

impl Store {
    /// The direct conversation of two users, created if it never existed. Its members are
    /// not touched.
    pub async fn direct_conversation(&self, a: UserId, b: UserId) -> StoreResult<ConversationId> {
        let key = direct_key(a, b);
        if let Some(id) = self.direct_conversation_id(&key).await? {
            return Ok(id);
        }
        let mut stmt = Query::insert();
        stmt.into_table(Conversations::Table)
            .columns([Conversations::Kind, Conversations::DirectKey, Conversations::CreatedAt])
            .values_panic(["direct".into(), key.clone().into(), now_millis().into()]);
        match self.insert_returning_id(stmt).await {
            Ok(id) => Ok(id),
            // Created concurrently by the other side: use theirs.
            Err(err) if err.is_unique_violation() => self.direct_conversation_id(&key).await?.ok_or(err),
            Err(err) => Err(err),
        }
    }

    async fn direct_conversation_id(&self, key: &str) -> StoreResult<Option<ConversationId>> {
        #[derive(sqlx::FromRow)]
        struct Row {
            id: i64,
        }
        let stmt = Query::select()
            .column(Conversations::Id)
            .from(Conversations::Table)
            .and_where(Expr::col(Conversations::DirectKey).eq(key))
            .to_owned();
        Ok(self.fetch_optional::<Row>(&stmt).await?.map(|r| r.id))
    }

    /// Creates a group conversation owned by `owner` (who is not yet added as a member).
    pub async fn create_group(
        &self,
        name: &str,
        description: &str,
        owner: UserId,
    ) -> StoreResult<ConversationId> {
        let mut stmt = Query::insert();
        stmt.into_table(Conversations::Table)
            .columns([
                Conversations::Kind,
                Conversations::Name,
                Conversations::Description,
                Conversations::OwnerId,
                Conversations::CreatedAt,
            ])
            .values_panic([
                "group".into(),
                name.into(),
                description.into(),
                owner.into(),
                now_millis().into(),
            ]);
        self.insert_returning_id(stmt).await
    }

    pub async fn conversation(&self, id: ConversationId) -> StoreResult<Option<ConversationRow>> {
        let stmt = Query::select()
            .columns([Conversations::Id, Conversations::Kind, Conversations::Dissolved])
            .from(Conversations::Table)
            .and_where(Expr::col(Conversations::Id).eq(id))
            .to_owned();
        self.fetch_optional(&stmt).await
    }

    /// The conversations among `ids` that exist, in as few statements as the list allows.
    pub async fn conversations(&self, ids: &[ConversationId]) -> StoreResult<Vec<ConversationRow>> {
        let mut rows = Vec::with_capacity(ids.len());
        for chunk in ids.chunks(IDS_PER_STATEMENT) {
            let stmt = Query::select()
                .columns([Conversations::Id, Conversations::Kind, Conversations::Dissolved])
                .from(Conversations::Table)
                .and_where(Expr::col(Conversations::Id).is_in(chunk.iter().copied()))
                .to_owned();
            rows.extend(self.fetch_all::<ConversationRow>(&stmt).await?);
        }
        Ok(rows)
    }

    /// The members of each conversation among `ids`, each conversation's in joining order.
    pub async fn members_of(&self, ids: &[ConversationId]) -> StoreResult<Vec<MemberRow>> {
        let mut rows = Vec::new();
        for chunk in ids.chunks(IDS_PER_STATEMENT) {
            let stmt = Query::select()
                .columns(MEMBER_COLUMNS)
                .from(Members::Table)
                .and_where(Expr::col(Members::ConversationId).is_in(chunk.iter().copied()))
                .order_by(Members::ConversationId, sea_query::Order::Asc)
                .order_by(Members::JoinedAt, sea_query::Order::Asc)
                .to_owned();
            rows.extend(self.fetch_all::<MemberRow>(&stmt).await?);
        }
        Ok(rows)
    }

    /// Adds a member. Returns false, changing nothing, if they already are one, so that a
    /// join is announced once. History before `joined_seq` stays hidden from them.
    pub async fn add_member(
        &self,
        conversation_id: ConversationId,
        user_id: UserId,
        role: Role,
        joined_seq: i64,
    ) -> StoreResult<bool> {
        let stmt = Query::insert()
            .into_table(Members::Table)
            .columns([
                Members::ConversationId,
                Members::UserId,
                Members::Role,
                Members::JoinedSeq,
                Members::DeliveredSeq,
                Members::ReadSeq,
                Members::JoinedAt,
            ])
            .values_panic([
                conversation_id.into(),
                user_id.into(),
                role.as_str().into(),
                joined_seq.into(),
                joined_seq.into(),
                joined_seq.into(),
                now_millis().into(),
            ])
            .to_owned();
        // A plain INSERT on every backend: MySQL reports "found" rows for an
        // ON DUPLICATE KEY no-op, so only the unique violation tells reliably.
        match self.execute(&stmt).await {
            Ok(_) => Ok(true),
            Err(err) if err.is_unique_violation() => Ok(false),
            Err(err) => Err(err),
        }
    }

    /// Removes a member. Returns whether they were one.
    pub async fn remove_member(&self, conversation_id: ConversationId, user_id: UserId) -> StoreResult<bool> {
        let stmt = Query::delete()
            .from_table(Members::Table)
            .and_where(Expr::col(Members::ConversationId).eq(conversation_id))
            .and_where(Expr::col(Members::UserId).eq(user_id))
            .to_owned();
        Ok(self.execute(&stmt).await? > 0)
    }

    /// One member's row, if `user_id` belongs to the conversation.
    pub async fn member(
        &self,
        conversation_id: ConversationId,
        user_id: UserId,
    ) -> StoreResult<Option<MemberRow>> {
        let stmt = Query::select()
            .columns(MEMBER_COLUMNS)
            .from(Members::Table)
            .and_where(Expr::col(Members::ConversationId).eq(conversation_id))
            .and_where(Expr::col(Members::UserId).eq(user_id))
            .to_owned();
        self.fetch_optional(&stmt).await
    }

    /// Every member of a conversation.
    pub async fn members(&self, conversation_id: ConversationId) -> StoreResult<Vec<MemberRow>> {
        let stmt = Query::select()
            .columns(MEMBER_COLUMNS)
            .from(Members::Table)
            .and_where(Expr::col(Members::ConversationId).eq(conversation_id))
            .order_by(Members::JoinedAt, sea_query::Order::Asc)
            .to_owned();
        self.fetch_all(&stmt).await
    }

    /// Every membership of a user (direct and group conversations).
    pub async fn memberships(&self, user_id: UserId) -> StoreResult<Vec<MemberRow>> {
        let stmt = Query::select()
            .columns(MEMBER_COLUMNS)
            .from(Members::Table)
            .and_where(Expr::col(Members::UserId).eq(user_id))
            .to_owned();
        self.fetch_all(&stmt).await
    }

    pub async fn set_role(
        &self,
        conversation_id: ConversationId,
        user_id: UserId,
        role: Role,
    ) -> StoreResult<bool> {
        let stmt = Query::update()
            .table(Members::Table)
            .value(Members::Role, role.as_str())
            .and_where(Expr::col(Members::ConversationId).eq(conversation_id))
            .and_where(Expr::col(Members::UserId).eq(user_id))
            .to_owned();
        Ok(self.execute(&stmt).await? > 0)
    }

    pub async fn set_muted(
        &self,
        conversation_id: ConversationId,
        user_id: UserId,
        muted: bool,
    ) -> StoreResult<bool> {
        let stmt = Query::update()
            .table(Members::Table)
            .value(Members::Muted, muted)
            .and_where(Expr::col(Members::ConversationId).eq(conversation_id))
            .and_where(Expr::col(Members::UserId).eq(user_id))
            .to_owned();
        Ok(self.execute(&stmt).await? > 0)
    }

    /// Changes how a member's lists show a conversation (the fields given); nothing happens
    /// when `user_id` is not a member.
    pub async fn set_conversation_prefs(
        &self,
        conversation_id: ConversationId,
        user_id: UserId,
        change: &kith_shared::api::UpdateConversation,
    ) -> StoreResult<()> {
        let mut stmt = Query::update();
        stmt.table(Members::Table)
            .and_where(Expr::col(Members::ConversationId).eq(conversation_id))
            .and_where(Expr::col(Members::UserId).eq(user_id));
        let mut any = false;
        for (column, value) in [
            (Members::Pinned, change.pinned),
            (Members::Archived, change.archived),
            (Members::MarkedUnread, change.marked_unread),
        ] {
            if let Some(value) = value {
                stmt.value(column, value);
                any = true;
            }
        }
        if any {
            self.execute(&stmt).await?;
        }
        Ok(())
    }

    /// Moves a member's delivered and read cursors forwards (never back). Returns the
    /// cursors after the change, or None if not a member.
    pub async fn advance_cursors(
        &self,
        conversation_id: ConversationId,
        user_id: UserId,
        delivered: i64,
        read: i64,
    ) -> StoreResult<Option<(i64, i64)>> {
        // GREATEST/MAX differ per backend; compute in two guarded updates instead.
        for (column, value) in
            [(Members::DeliveredSeq, std::cmp::max(delivered, read)), (Members::ReadSeq, read)]
        {
            let stmt = Query::update()
                .table(Members::Table)
                .value(column, value)
                .and_where(Expr::col(Members::ConversationId).eq(conversation_id))
                .and_where(Expr::col(Members::UserId).eq(user_id))
                .and_where(Expr::col(column).lt(value))
                .to_owned();
            self.execute(&stmt).await?;
        }
        Ok(self.member(conversation_id, user_id).await?.map(|m| (m.delivered_seq, m.read_seq)))
    }

    /// Marks a group dissolved and removes all its members and pending requests.
    pub async fn dissolve_group(&self, conversation_id: ConversationId) -> StoreResult<()> {
        let mark = Query::update()
            .table(Conversations::Table)
            .value(Conversations::Dissolved, true)
            .and_where(Expr::col(Conversations::Id).eq(conversation_id))
            .to_owned();
        let members = Query::delete()
            .from_table(Members::Table)
            .and_where(Expr::col(Members::ConversationId).eq(conversation_id))
            .to_owned();
        on_pool!(self, |pool, builder| {
            let mut tx = pool.begin().await?;
            for (sql, values) in [mark.build_sqlx(builder()), members.build_sqlx(builder())] {
                sqlx::query_with(AssertSqlSafe(sql), values).execute(&mut *tx).await?;
            }
            tx.commit().await?;
        });
        Ok(())
    }
}

//! Groups: profiles, search, the members' list, pending applications and invitations, and
//! ownership. A group is a conversation of kind 'group' (its id is the conversation's id);
//! its members are rows of `members`, handled by `conversations.rs`.

use super::conversations::{Conversations, Members};
use super::users::Users;
use super::{Store, StoreResult, now_millis};
use crate::wire::group_avatar_url;
use kith_shared::UserId;
use kith_shared::api::{Announcement, GroupId, GroupProfile, GroupRequestKind, Role};
use sea_query::{Expr, ExprTrait, Func, Iden, LikeExpr, Order, Query, SelectStatement};
use sea_query_sqlx::SqlxBinder;
use sqlx::AssertSqlSafe;

#[derive(Debug, Clone, Copy, Iden)]
enum GroupRequests {
    Table,
    Id,
    GroupId,
    UserId,
    Kind,
    InviterId,
    Message,
    CreatedAt,
}

/// A live (not dissolved) group with its member count.
#[derive(Debug, Clone, sqlx::FromRow)]
pub struct GroupRow {
    pub id: i64,
    pub name: Option<String>,
    pub description: Option<String>,
    pub owner_id: Option<i64>,
    pub created_at: i64,
    pub member_count: i64,
    pub announcement: Option<String>,
    pub announcement_by: Option<i64>,
    pub announcement_at: Option<i64>,
    /// The display name of whoever set the announcement.
    pub announcement_by_name: Option<String>,
    /// File name of the group's picture under the data directory's `avatars/`.
    pub avatar: Option<String>,
}

impl GroupRow {
    /// The group as anyone may see it: without its announcement, which is for members.
    pub fn profile(&self) -> GroupProfile {
        GroupProfile { announcement: None, ..self.member_profile() }
    }

    /// The group as its members see it, announcement included.
    pub fn member_profile(&self) -> GroupProfile {
        GroupProfile {
            id: self.id,
            name: self.name.clone().unwrap_or_default(),
            description: self.description.clone().unwrap_or_default(),
            owner_id: self.owner_id.unwrap_or_default(),
            member_count: u32::try_from(self.member_count).unwrap_or(u32::MAX),
            created_at: self.created_at,
            announcement: self.announcement().map(Box::new),
            avatar_url: self.avatar.as_deref().map(|file| group_avatar_url(self.id, file)),
        }
    }

    fn announcement(&self) -> Option<Announcement> {
        let text = self.announcement.clone().filter(|text| !text.is_empty())?;
        Some(Announcement {
            text,
            set_by: self.announcement_by.unwrap_or_default(),
            set_by_name: self.announcement_by_name.clone().unwrap_or_default(),
            set_at: self.announcement_at.unwrap_or_default(),
        })
    }
}

/// One of a user's groups with that user's role and mute setting.
#[derive(Debug, Clone, sqlx::FromRow)]
pub struct MyGroupRow {
    pub id: i64,
    pub name: Option<String>,
    pub description: Option<String>,
    pub owner_id: Option<i64>,
    pub created_at: i64,
    pub member_count: i64,
    pub announcement: Option<String>,
    pub announcement_by: Option<i64>,
    pub announcement_at: Option<i64>,
    pub announcement_by_name: Option<String>,
    pub avatar: Option<String>,
    pub role: String,
    pub muted: bool,
}

impl MyGroupRow {
    pub fn group(&self) -> GroupRow {
        GroupRow {
            id: self.id,
            name: self.name.clone(),
            description: self.description.clone(),
            owner_id: self.owner_id,
            created_at: self.created_at,
            member_count: self.member_count,
            announcement: self.announcement.clone(),
            announcement_by: self.announcement_by,
            announcement_at: self.announcement_at,
            announcement_by_name: self.announcement_by_name.clone(),
            avatar: self.avatar.clone(),
        }
    }

    pub fn role(&self) -> Role {
        Role::parse(&self.role).unwrap_or(Role::Member)
    }
}

/// A group member with their account's public fields.
#[derive(Debug, Clone, sqlx::FromRow)]
pub struct GroupMemberRow {
    pub user_id: i64,
    pub username: String,
    pub display_name: String,
    /// File name of the avatar, if one is set.
    pub avatar: Option<String>,
    pub role: String,
    pub muted: bool,
}

impl GroupMemberRow {
    pub fn role(&self) -> Role {
        Role::parse(&self.role).unwrap_or(Role::Member)
    }
}

/// A pending application or invitation as stored.
#[derive(Debug, Clone, sqlx::FromRow)]
pub struct GroupRequestRow {
    pub id: i64,
    pub group_id: i64,
    /// Who would join.
    pub user_id: i64,
    pub kind: String,
    pub inviter_id: Option<i64>,
    pub message: String,
    pub created_at: i64,
}

impl GroupRequestRow {
    pub fn kind(&self) -> GroupRequestKind {
        if self.kind == INVITATION { GroupRequestKind::Invitation } else { GroupRequestKind::Application }
    }
}

const APPLICATION: &str = "application";
const INVITATION: &str = "invitation";

fn kind_str(kind: GroupRequestKind) -> &'static str {
    match kind {
        GroupRequestKind::Application => APPLICATION,
        GroupRequestKind::Invitation => INVITATION,
    }
}

const REQUEST_COLUMNS: [GroupRequests; 7] = [
    GroupRequests::Id,
    GroupRequests::GroupId,
    GroupRequests::UserId,
    GroupRequests::Kind,
    GroupRequests::InviterId,
    GroupRequests::Message,
    GroupRequests::CreatedAt,
];

/// `(SELECT COUNT(*) FROM members AS counted WHERE counted.conversation_id = conversations.id)`
fn member_count() -> Expr {
    let count = Query::select()
        .expr(Func::count(Expr::col(("counted", Members::UserId))))
        .from_as(Members::Table, "counted")
        .and_where(
            Expr::col(("counted", Members::ConversationId)).equals((Conversations::Table, Conversations::Id)),
        )
        .to_owned();
    Expr::SubQuery(None, Box::new(count.into()))
}

/// `(SELECT display_name FROM users AS setter WHERE setter.id = conversations.announcement_by)`
fn announcement_by_name() -> Expr {
    let name = Query::select()
        .column(("setter", Users::DisplayName))
        .from_as(Users::Table, "setter")
        .and_where(
            Expr::col(("setter", Users::Id)).equals((Conversations::Table, Conversations::AnnouncementBy)),
        )
        .to_owned();
    Expr::SubQuery(None, Box::new(name.into()))
}

/// The columns of [`GroupRow`] from live groups.
fn live_groups() -> SelectStatement {
    Query::select()
        .columns([
            (Conversations::Table, Conversations::Id),
            (Conversations::Table, Conversations::Name),
            (Conversations::Table, Conversations::Description),
            (Conversations::Table, Conversations::OwnerId),
            (Conversations::Table, Conversations::CreatedAt),
            (Conversations::Table, Conversations::Announcement),
            (Conversations::Table, Conversations::AnnouncementBy),
            (Conversations::Table, Conversations::AnnouncementAt),
            (Conversations::Table, Conversations::Avatar),
        ])
        .expr_as(member_count(), "member_count")
        .expr_as(announcement_by_name(), "announcement_by_name")
        .from(Conversations::Table)
        .and_where(Expr::col((Conversations::Table, Conversations::Kind)).eq("group"))
        .and_where(Expr::col((Conversations::Table, Conversations::Dissolved)).eq(false))
        .to_owned()
}

/// Escapes `%`, `_` and the escape character itself for a LIKE pattern with `ESCAPE '|'`.
fn like_escape(text: &str) -> String {
    let mut out = String::with_capacity(text.len());
    for c in text.chars() {
        if matches!(c, '%' | '_' | '|') {
            out.push('|');
        }
        out.push(c);
    }
    out
}

impl Store {
    /// A live group, or None if it does not exist, is not a group or was dissolved.
    pub async fn group(&self, id: GroupId) -> StoreResult<Option<GroupRow>> {
        let stmt =
            live_groups().and_where(Expr::col((Conversations::Table, Conversations::Id)).eq(id)).to_owned();
        self.fetch_optional(&stmt).await
    }

    /// Live groups whose name contains `text`, ignoring case, by name (ignoring case).
    pub async fn search_groups(&self, text: &str, offset: u64, limit: u64) -> StoreResult<Vec<GroupRow>> {
        let pattern = format!("%{}%", like_escape(&text.to_lowercase()));
        let stmt = live_groups()
            .and_where(
                Expr::expr(Func::lower(Expr::col((Conversations::Table, Conversations::Name))))
                    .like(LikeExpr::new(pattern).escape('|')),
            )
            .order_by_expr(
                Func::lower(Expr::col((Conversations::Table, Conversations::Name))).into(),
                Order::Asc,
            )
            .order_by((Conversations::Table, Conversations::Id), Order::Asc)
            .offset(offset)
            .limit(limit)
            .to_owned();
        self.fetch_all(&stmt).await
    }

    /// The live groups `user_id` belongs to, oldest membership first.
    pub async fn groups_of(&self, user_id: UserId) -> StoreResult<Vec<MyGroupRow>> {
        let stmt = live_groups()
            .columns([(Members::Table, Members::Role), (Members::Table, Members::Muted)])
            .inner_join(
                Members::Table,
                Expr::col((Members::Table, Members::ConversationId))
                    .equals((Conversations::Table, Conversations::Id)),
            )
            .and_where(Expr::col((Members::Table, Members::UserId)).eq(user_id))
            .order_by((Members::Table, Members::JoinedAt), Order::Asc)
            .to_owned();
        self.fetch_all(&stmt).await
    }

    /// Changes what is given of a group's name, description and announcement, in one
    /// statement. An announcement is `(text, by)`, set as `by`'s, now; an empty text clears it.
    pub async fn update_group(
        &self,
        id: GroupId,
        name: Option<&str>,
        description: Option<&str>,
        announcement: Option<(&str, UserId)>,
    ) -> StoreResult<()> {
        let mut stmt = Query::update();
        stmt.table(Conversations::Table).and_where(Expr::col(Conversations::Id).eq(id));
        if let Some(name) = name {
            stmt.value(Conversations::Name, name);
        }
        if let Some(description) = description {
            stmt.value(Conversations::Description, description);
        }
        match announcement {
            None => {}
            Some(("", _)) => {
                stmt.value(Conversations::Announcement, Option::<String>::None)
                    .value(Conversations::AnnouncementBy, Option::<i64>::None)
                    .value(Conversations::AnnouncementAt, Option::<i64>::None);
            }
            Some((text, by)) => {
                stmt.value(Conversations::Announcement, text)
                    .value(Conversations::AnnouncementBy, by)
                    .value(Conversations::AnnouncementAt, now_millis());
            }
        }
        if name.is_some() || description.is_some() || announcement.is_some() {
            self.execute(&stmt).await?;
        }
        Ok(())
    }

    /// Sets or (None) clears the file name of a group's picture.
    pub async fn set_group_avatar(&self, id: GroupId, avatar: Option<&str>) -> StoreResult<()> {
        let stmt = Query::update()
            .table(Conversations::Table)
            .value(Conversations::Avatar, avatar)
            .and_where(Expr::col(Conversations::Id).eq(id))
            .to_owned();
        self.execute(&stmt).await?;
        Ok(())
    }

    /// Makes `to` the owner and `from` (the owner until now) an admin, in one transaction.
    pub async fn transfer_ownership(&self, id: GroupId, from: UserId, to: UserId) -> StoreResult<()> {
        let owner = Query::update()
            .table(Conversations::Table)
            .value(Conversations::OwnerId, to)
            .and_where(Expr::col(Conversations::Id).eq(id))
            .to_owned();
        let role = |user_id: UserId, role: Role| {
            Query::update()
                .table(Members::Table)
                .value(Members::Role, role.as_str())
                .and_where(Expr::col(Members::ConversationId).eq(id))
                .and_where(Expr::col(Members::UserId).eq(user_id))
                .to_owned()
        };
        let (promote, demote) = (role(to, Role::Owner), role(from, Role::Admin));
        on_pool!(self, |pool, builder| {
            let mut tx = pool.begin().await?;
            for stmt in [&owner, &promote, &demote] {
                let (sql, values) = stmt.build_sqlx(builder());
                sqlx::query_with(AssertSqlSafe(sql), values).execute(&mut *tx).await?;
            }
            tx.commit().await?;
        });
        Ok(())
    }

    fn group_member_select(id: GroupId) -> SelectStatement {
        Query::select()
            .expr_as(Expr::col((Users::Table, Users::Id)), "user_id")
            .columns([
                (Users::Table, Users::Username),
                (Users::Table, Users::DisplayName),
                (Users::Table, Users::Avatar),
            ])
            .columns([(Members::Table, Members::Role), (Members::Table, Members::Muted)])
            .from(Members::Table)
            .inner_join(
                Users::Table,
                Expr::col((Users::Table, Users::Id)).equals((Members::Table, Members::UserId)),
            )
            .and_where(Expr::col((Members::Table, Members::ConversationId)).eq(id))
            .to_owned()
    }

    /// Every member of a group with their public account fields, oldest member first.
    pub async fn group_members(&self, id: GroupId) -> StoreResult<Vec<GroupMemberRow>> {
        let stmt = Self::group_member_select(id)
            .order_by((Members::Table, Members::JoinedAt), Order::Asc)
            .order_by((Members::Table, Members::UserId), Order::Asc)
            .to_owned();
        self.fetch_all(&stmt).await
    }

    /// One member of a group with their public account fields.
    pub async fn group_member(&self, id: GroupId, user_id: UserId) -> StoreResult<Option<GroupMemberRow>> {
        let stmt = Self::group_member_select(id)
            .and_where(Expr::col((Members::Table, Members::UserId)).eq(user_id))
            .to_owned();
        self.fetch_optional(&stmt).await
    }

    /// Records a pending request. A second one of the same kind for the same group and
    /// person is a unique violation.
    pub async fn create_group_request(
        &self,
        group_id: GroupId,
        user_id: UserId,
        kind: GroupRequestKind,
        inviter_id: Option<UserId>,
        message: &str,
    ) -> StoreResult<GroupRequestRow> {
        let created_at = now_millis();
        let mut stmt = Query::insert();
        stmt.into_table(GroupRequests::Table)
            .columns([
                GroupRequests::GroupId,
                GroupRequests::UserId,
                GroupRequests::Kind,
                GroupRequests::InviterId,
                GroupRequests::Message,
                GroupRequests::CreatedAt,
            ])
            .values_panic([
                group_id.into(),
                user_id.into(),
                kind_str(kind).into(),
                inviter_id.into(),
                message.into(),
                created_at.into(),
            ]);
        let id = self.insert_returning_id(stmt).await?;
        Ok(GroupRequestRow {
            id,
            group_id,
            user_id,
            kind: kind_str(kind).to_owned(),
            inviter_id,
            message: message.to_owned(),
            created_at,
        })
    }

    pub async fn group_request(&self, id: i64) -> StoreResult<Option<GroupRequestRow>> {
        let stmt = Query::select()
            .columns(REQUEST_COLUMNS)
            .from(GroupRequests::Table)
            .and_where(Expr::col(GroupRequests::Id).eq(id))
            .to_owned();
        self.fetch_optional(&stmt).await
    }

    /// Deletes a pending request. Returns false when it was already gone (answered or
    /// withdrawn by someone else meanwhile): only one answer wins.
    pub async fn delete_group_request(&self, id: i64) -> StoreResult<bool> {
        let stmt = Query::delete()
            .from_table(GroupRequests::Table)
            .and_where(Expr::col(GroupRequests::Id).eq(id))
            .to_owned();
        Ok(self.execute(&stmt).await? > 0)
    }

    /// Pending applications to the groups `user_id` owns or administers, oldest first.
    pub async fn applications_for_moderator(&self, user_id: UserId) -> StoreResult<Vec<GroupRequestRow>> {
        let moderated = Query::select()
            .column((Members::Table, Members::ConversationId))
            .from(Members::Table)
            .and_where(Expr::col((Members::Table, Members::UserId)).eq(user_id))
            .and_where(
                Expr::col((Members::Table, Members::Role))
                    .is_in([Role::Owner.as_str(), Role::Admin.as_str()]),
            )
            .to_owned();
        let stmt = Query::select()
            .columns(REQUEST_COLUMNS.map(|c| (GroupRequests::Table, c)))
            .from(GroupRequests::Table)
            .and_where(Expr::col((GroupRequests::Table, GroupRequests::Kind)).eq(APPLICATION))
            .and_where(Expr::col((GroupRequests::Table, GroupRequests::GroupId)).in_subquery(moderated))
            .order_by((GroupRequests::Table, GroupRequests::CreatedAt), Order::Asc)
            .order_by((GroupRequests::Table, GroupRequests::Id), Order::Asc)
            .to_owned();
        self.fetch_all(&stmt).await
    }

    /// Pending invitations addressed to `user_id`, oldest first.
    pub async fn invitations_for(&self, user_id: UserId) -> StoreResult<Vec<GroupRequestRow>> {
        let stmt = Query::select()
            .columns(REQUEST_COLUMNS)
            .from(GroupRequests::Table)
            .and_where(Expr::col(GroupRequests::Kind).eq(INVITATION))
            .and_where(Expr::col(GroupRequests::UserId).eq(user_id))
            .order_by(GroupRequests::CreatedAt, Order::Asc)
            .order_by(GroupRequests::Id, Order::Asc)
            .to_owned();
        self.fetch_all(&stmt).await
    }

    /// Removes the pending requests of a group, only those about `user_id` when given, and
    /// returns what was removed.
    pub async fn take_group_requests(
        &self,
        group_id: GroupId,
        user_id: Option<UserId>,
    ) -> StoreResult<Vec<GroupRequestRow>> {
        let mut select = Query::select();
        select.columns(REQUEST_COLUMNS).from(GroupRequests::Table);
        let mut delete = Query::delete();
        delete.from_table(GroupRequests::Table);
        select.and_where(Expr::col(GroupRequests::GroupId).eq(group_id));
        delete.and_where(Expr::col(GroupRequests::GroupId).eq(group_id));
        if let Some(user_id) = user_id {
            select.and_where(Expr::col(GroupRequests::UserId).eq(user_id));
            delete.and_where(Expr::col(GroupRequests::UserId).eq(user_id));
        }
        let found: Vec<GroupRequestRow> = self.fetch_all(&select).await?;
        if found.is_empty() {
            return Ok(found);
        }
        let ids: Vec<i64> = found.iter().map(|r| r.id).collect();
        delete.and_where(Expr::col(GroupRequests::Id).is_in(ids));
        self.execute(&delete).await?;
        Ok(found)
    }
}

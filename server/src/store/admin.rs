//! What only the operator's command line asks of the database: the groups an account owns,
//! the membership epoch that tells a running server to forget its membership cache, and the
//! figures of `kith-server stats`.

use super::conversations::{Conversations, Members};
use super::sessions::SEEN_FRESH;
use super::{Pool, Store, StoreResult};
use kith_shared::UserId;
use kith_shared::api::GroupId;
use sea_query::{Expr, ExprTrait, Iden, Order, Query, UpdateStatement};
use sqlx::AssertSqlSafe;

#[derive(Debug, Clone, Copy, Iden)]
enum MembershipEpoch {
    Table,
    Id,
    Epoch,
}

/// A group an account owns.
#[derive(Debug, Clone, sqlx::FromRow)]
pub struct OwnedGroupRow {
    pub id: GroupId,
    pub name: Option<String>,
}

/// The figures of `kith-server stats`.
#[derive(Debug, Clone, Default, PartialEq, Eq, sqlx::FromRow)]
pub struct Stats {
    pub users: i64,
    pub disabled_users: i64,
    /// Sessions (logged-in tokens), connected or not.
    pub sessions: i64,
    /// Distinct users with a session a running server stamped recently.
    pub online_users: i64,
    /// Groups not dissolved.
    pub groups: i64,
    /// Direct conversations (one per pair that ever became friends).
    pub direct_conversations: i64,
    pub messages: i64,
    /// Uploads whose file is still in UPLOAD_DIR, and their bytes.
    pub uploads: i64,
    pub upload_bytes: i64,
    /// The database's size on disk, where the backend tells it cheaply.
    #[sqlx(skip)]
    pub database_bytes: Option<i64>,
}

impl Store {
    /// The live groups `user_id` owns, by id.
    pub async fn groups_owned_by(&self, user_id: UserId) -> StoreResult<Vec<OwnedGroupRow>> {
        let stmt = Query::select()
            .columns([Conversations::Id, Conversations::Name])
            .from(Conversations::Table)
            .and_where(Expr::col(Conversations::Kind).eq("group"))
            .and_where(Expr::col(Conversations::OwnerId).eq(user_id))
            .and_where(Expr::col(Conversations::Dissolved).eq(false))
            .order_by(Conversations::Id, Order::Asc)
            .to_owned();
        self.fetch_all(&stmt).await
    }

    /// Who would own a group after `leaving`: its longest-standing admin, else its
    /// longest-standing member. None when no one else is in it.
    pub async fn successor(&self, id: GroupId, leaving: UserId) -> StoreResult<Option<UserId>> {
        #[derive(sqlx::FromRow)]
        struct Row {
            user_id: i64,
            role: String,
        }
        let stmt = Query::select()
            .columns([Members::UserId, Members::Role])
            .from(Members::Table)
            .and_where(Expr::col(Members::ConversationId).eq(id))
            .and_where(Expr::col(Members::UserId).ne(leaving))
            .order_by(Members::JoinedAt, Order::Asc)
            .order_by(Members::UserId, Order::Asc)
            .to_owned();
        let rows: Vec<Row> = self.fetch_all(&stmt).await?;
        let admin = rows.iter().find(|row| row.role == "admin");
        Ok(admin.or(rows.first()).map(|row| row.user_id))
    }

    /// The membership epoch (see migration 0006).
    pub async fn membership_epoch(&self) -> StoreResult<i64> {
        #[derive(sqlx::FromRow)]
        struct Row {
            epoch: i64,
        }
        let stmt = Query::select()
            .column(MembershipEpoch::Epoch)
            .from(MembershipEpoch::Table)
            .and_where(Expr::col(MembershipEpoch::Id).eq(1))
            .to_owned();
        Ok(self.fetch_optional::<Row>(&stmt).await?.map_or(0, |row| row.epoch))
    }

    /// The statement that tells running servers that memberships changed behind their back.
    pub(super) fn bump_membership_epoch_statement() -> UpdateStatement {
        Query::update()
            .table(MembershipEpoch::Table)
            .value(MembershipEpoch::Epoch, Expr::col(MembershipEpoch::Epoch).add(1))
            .and_where(Expr::col(MembershipEpoch::Id).eq(1))
            .to_owned()
    }

    /// Counts of everything `kith-server stats` shows, in one statement, and the database's
    /// size in a second one.
    pub async fn stats(&self, now: i64) -> StoreResult<Stats> {
        let cutoff = now - SEEN_FRESH.as_millis() as i64;
        // A sum is NUMERIC on PostgreSQL and DECIMAL on MySQL: cast back to a 64-bit integer.
        let int = match self.pool {
            Pool::Sqlite(_) => "INTEGER",
            Pool::Postgres(_) => "BIGINT",
            Pool::MySql(_) => "SIGNED",
        };
        let sql = format!(
            "SELECT \
             (SELECT COUNT(*) FROM users) AS users, \
             (SELECT COUNT(*) FROM users WHERE disabled = TRUE) AS disabled_users, \
             (SELECT COUNT(*) FROM sessions) AS sessions, \
             (SELECT COUNT(DISTINCT user_id) FROM sessions WHERE seen_at >= {cutoff}) AS online_users, \
             (SELECT COUNT(*) FROM conversations WHERE kind = 'group' AND dissolved = FALSE) AS \"groups\", \
             (SELECT COUNT(*) FROM conversations WHERE kind = 'direct') AS direct_conversations, \
             (SELECT COUNT(*) FROM messages) AS messages, \
             (SELECT COUNT(*) FROM uploads WHERE expired = FALSE) AS uploads, \
             (SELECT CAST(COALESCE(SUM(size), 0) AS {int}) FROM uploads WHERE expired = FALSE) AS upload_bytes"
        );
        // `groups` is a reserved word in MySQL 8 and MariaDB: quoted as the backend quotes.
        let sql =
            if matches!(self.pool, Pool::MySql(_)) { sql.replace("\"groups\"", "`groups`") } else { sql };
        let mut stats: Stats =
            on_pool!(reader self, |pool, b| sqlx::query_as(AssertSqlSafe(sql)).fetch_one(pool).await?);
        let size_sql = match self.pool {
            Pool::Sqlite(_) => "SELECT page_count * page_size FROM pragma_page_count(), pragma_page_size()",
            Pool::Postgres(_) => "SELECT pg_database_size(current_database())",
            Pool::MySql(_) => {
                "SELECT CAST(COALESCE(SUM(data_length + index_length), 0) AS SIGNED) \
                 FROM information_schema.tables WHERE table_schema = DATABASE()"
            }
        };
        let size: Result<i64, sqlx::Error> =
            on_pool!(reader self, |pool, b| sqlx::query_scalar(size_sql).fetch_one(pool).await);
        stats.database_bytes = size.ok();
        Ok(stats)
    }
}

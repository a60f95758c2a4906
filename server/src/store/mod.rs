//! The database. One set of functions, named after what they do, serves SQLite, PostgreSQL
//! and MySQL/MariaDB: sea-query builds every statement for the backend in use and sqlx runs
//! it on that backend's native pool. Handlers never write SQL.

use sea_query::{InsertStatement, MysqlQueryBuilder, PostgresQueryBuilder, SqliteQueryBuilder};
use sea_query_sqlx::SqlxBinder;
use sqlx::mysql::{MySqlPool, MySqlPoolOptions, MySqlRow};
use sqlx::postgres::{PgConnectOptions, PgPool, PgPoolOptions, PgRow};
use sqlx::sqlite::{
    SqliteConnectOptions, SqliteJournalMode, SqlitePool, SqlitePoolOptions, SqliteRow, SqliteSynchronous,
};
use sqlx::{AssertSqlSafe, FromRow};
use std::str::FromStr;
use std::time::Duration;

/// A database failure.
#[derive(Debug, thiserror::Error)]
pub enum StoreError {
    #[error("unsupported database URL '{0}': use sqlite://, postgres:// or mysql://")]
    UnsupportedUrl(String),
    #[error("database: {0}")]
    Database(#[from] sqlx::Error),
    #[error("database migration: {0}")]
    Migrate(#[from] sqlx::migrate::MigrateError),
}

impl StoreError {
    /// True when the statement broke a unique constraint (a duplicate name, a second request).
    pub fn is_unique_violation(&self) -> bool {
        matches!(self, StoreError::Database(sqlx::Error::Database(e)) if e.is_unique_violation())
    }
}

pub type StoreResult<T> = Result<T, StoreError>;

/// The native pool of the backend in use.
#[derive(Debug, Clone)]
enum Pool {
    Sqlite(SqlitePool),
    Postgres(PgPool),
    MySql(MySqlPool),
}

/// Runs `$body` with `$pool` bound to the native pool and `$builder()` making its sea-query
/// builder: the store's pool for writes (and the reads inside a transaction), or with
/// `reader` its pool for plain reads.
macro_rules! on_pool {
    ($store:expr, |$pool:ident, $builder:ident| $body:expr) => {
        on_pool!(@ &$store.pool, |$pool, $builder| $body)
    };
    (reader $store:expr, |$pool:ident, $builder:ident| $body:expr) => {
        on_pool!(@ &$store.reader, |$pool, $builder| $body)
    };
    (@ $which:expr, |$pool:ident, $builder:ident| $body:expr) => {
        match $which {
            $crate::store::Pool::Sqlite($pool) => {
                #[allow(unused_variables)]
                let $builder = || sea_query::SqliteQueryBuilder;
                $body
            }
            $crate::store::Pool::Postgres($pool) => {
                #[allow(unused_variables)]
                let $builder = || sea_query::PostgresQueryBuilder;
                $body
            }
            $crate::store::Pool::MySql($pool) => {
                #[allow(unused_variables)]
                let $builder = || sea_query::MysqlQueryBuilder;
                $body
            }
        }
    };
}

mod admin;
mod blocks;
mod conversations;
mod deletes;
pub mod files;
mod friends;
pub mod groups;
mod messages;
pub mod reactions;
mod sessions;
mod users;

pub use admin::{OwnedGroupRow, Stats};
pub use blocks::BlockRow;
pub use conversations::{ConversationRow, MemberRow, direct_key};
pub use friends::{FriendRequestRow, contains_pattern};
pub use messages::{EditChange, MessageRow};
pub use sessions::{OnlineRow, SEEN_FRESH, SEEN_REFRESH};
pub use users::{NewUser, UserListRow, UserRow};

/// A row type that decodes on all three backends.
pub trait AnyRow:
    for<'r> FromRow<'r, SqliteRow> + for<'r> FromRow<'r, PgRow> + for<'r> FromRow<'r, MySqlRow> + Send + Unpin
{
}
impl<T> AnyRow for T where
    T: for<'r> FromRow<'r, SqliteRow>
        + for<'r> FromRow<'r, PgRow>
        + for<'r> FromRow<'r, MySqlRow>
        + Send
        + Unpin
{
}

/// The handle every part of the server uses to reach the database. Cheap to clone.
///
/// On SQLite, writes go through one connection and plain reads through a pool of their own.
/// One connection writing means no writer waits on SQLite's file lock, and its page cache
/// stays valid: SQLite drops a connection's cache whenever another connection wrote since
/// its last use, which with several writing connections made every batch of the message
/// writer read its indexes again. On PostgreSQL and MySQL/MariaDB both are the same pool.
#[derive(Debug, Clone)]
pub struct Store {
    /// Writes, transactions, and the reads of the message writer.
    pool: Pool,
    /// Plain reads.
    reader: Pool,
}

/// SQLite page cache of the one writing connection: the message writer's tables and indexes
/// stay in memory (see docs/performance.md).
const SQLITE_WRITER_CACHE_KIB: i64 = 64 * 1024;
/// SQLite connections for plain reads, and the page cache of each. A reading connection's
/// cache is dropped whenever the writer wrote since its last use, so a large one is of little
/// use under load, and it holds on to the memory it once filled: many clients connecting at
/// once read every session and account through each reader, and the session watch reads
/// every connected session again each tick (see docs/performance.md, "Idle connections of
/// many accounts"). Pages it lacks come from the operating system's file cache. Together with
/// the writer's, the page caches stay under 66 MiB.
const SQLITE_READERS: u32 = 4;
const SQLITE_READER_CACHE_KIB: i64 = 512;

impl Store {
    /// Connects to `url`, creating an SQLite file if needed, and applies the migrations.
    pub async fn open(url: &str) -> StoreResult<Self> {
        if url.starts_with("sqlite:") {
            let options = SqliteConnectOptions::from_str(url)?
                .create_if_missing(true)
                .journal_mode(SqliteJournalMode::Wal)
                .synchronous(SqliteSynchronous::Full)
                .foreign_keys(true)
                .busy_timeout(Duration::from_secs(10));
            let cache = |kib: i64| options.clone().pragma("cache_size", (-kib).to_string());
            // No ping before each use of a connection (sqlx's default): an SQLite connection is
            // a file in this process, and the ping is a round trip to its thread per query.
            let writer = SqlitePoolOptions::new()
                .max_connections(1)
                .test_before_acquire(false)
                .connect_with(cache(SQLITE_WRITER_CACHE_KIB))
                .await?;
            sqlx::migrate!("../migrations/sqlite").run(&writer).await?;
            let reader = SqlitePoolOptions::new()
                .max_connections(SQLITE_READERS)
                .test_before_acquire(false)
                .connect_with(cache(SQLITE_READER_CACHE_KIB))
                .await?;
            return Ok(Self { pool: Pool::Sqlite(writer), reader: Pool::Sqlite(reader) });
        }
        let pool = if url.starts_with("postgres:") || url.starts_with("postgresql:") {
            // No JIT: it is made for long analytical queries; on the connect path's short
            // per-conversation lookups it spent ~0.5 s compiling per connect (2,000 groups).
            let options = url.parse::<PgConnectOptions>()?.options([("jit", "off")]);
            let pool = PgPoolOptions::new().max_connections(16).connect_with(options).await?;
            sqlx::migrate!("../migrations/postgres").run(&pool).await?;
            Pool::Postgres(pool)
        } else if url.starts_with("mysql:") || url.starts_with("mariadb:") {
            let url = url.replacen("mariadb:", "mysql:", 1);
            let pool = MySqlPoolOptions::new().max_connections(16).connect(&url).await?;
            sqlx::migrate!("../migrations/mysql").run(&pool).await?;
            Pool::MySql(pool)
        } else {
            return Err(StoreError::UnsupportedUrl(url.to_owned()));
        };
        Ok(Self { reader: pool.clone(), pool })
    }

    /// The same database, with plain reads on the writing connection too: for the message
    /// writer, whose reads (resends, newest numbers) find their pages in that connection's
    /// cache, which no other connection's write invalidates.
    pub fn for_the_writer(&self) -> Self {
        Self { pool: self.pool.clone(), reader: self.pool.clone() }
    }

    /// The backend's name, for logs and health.
    pub fn backend(&self) -> &'static str {
        match self.pool {
            Pool::Sqlite(_) => "sqlite",
            Pool::Postgres(_) => "postgres",
            Pool::MySql(_) => "mysql",
        }
    }

    /// True when the database answers a trivial query.
    pub async fn ping(&self) -> bool {
        let result: Result<i32, sqlx::Error> =
            on_pool!(self, |pool, b| sqlx::query_scalar("SELECT 1").fetch_one(pool).await);
        result.is_ok()
    }

    /// How many connections the pools have open, how many of them are idle, and their maximum
    /// (on SQLite the writing connection and the readers together).
    pub fn pool_use(&self) -> PoolUse {
        let of = |which: &Pool| {
            on_pool!(@ which, |pool, b| PoolUse {
                open: pool.size(),
                idle: pool.num_idle(),
                max: pool.options().get_max_connections(),
            })
        };
        let writer = of(&self.pool);
        if matches!(self.pool, Pool::Sqlite(_)) {
            let reader = of(&self.reader);
            PoolUse {
                open: writer.open + reader.open,
                idle: writer.idle + reader.idle,
                max: writer.max + reader.max,
            }
        } else {
            writer
        }
    }

    /// Waits for running statements and closes every connection.
    pub async fn close(&self) {
        on_pool!(self, |pool, b| pool.close().await);
        on_pool!(reader self, |pool, b| pool.close().await)
    }

    /// Runs a statement, returning how many rows it touched.
    async fn execute(&self, stmt: &impl SqlxBinder) -> StoreResult<u64> {
        Ok(on_pool!(self, |pool, builder| {
            let (sql, values) = stmt.build_sqlx(builder());
            sqlx::query_with(AssertSqlSafe(sql), values).execute(pool).await?.rows_affected()
        }))
    }

    async fn fetch_optional<T: AnyRow>(&self, stmt: &impl SqlxBinder) -> StoreResult<Option<T>> {
        Ok(on_pool!(reader self, |pool, builder| {
            let (sql, values) = stmt.build_sqlx(builder());
            sqlx::query_as_with(AssertSqlSafe(sql), values).fetch_optional(pool).await?
        }))
    }

    async fn fetch_all<T: AnyRow>(&self, stmt: &impl SqlxBinder) -> StoreResult<Vec<T>> {
        Ok(on_pool!(reader self, |pool, builder| {
            let (sql, values) = stmt.build_sqlx(builder());
            sqlx::query_as_with(AssertSqlSafe(sql), values).fetch_all(pool).await?
        }))
    }

    /// Inserts one row and returns its new `id`.
    async fn insert_returning_id(&self, mut stmt: InsertStatement) -> StoreResult<i64> {
        Ok(match &self.pool {
            Pool::Sqlite(pool) => {
                stmt.returning_col(Id);
                let (sql, values) = stmt.build_sqlx(SqliteQueryBuilder);
                sqlx::query_scalar_with(AssertSqlSafe(sql), values).fetch_one(pool).await?
            }
            Pool::Postgres(pool) => {
                stmt.returning_col(Id);
                let (sql, values) = stmt.build_sqlx(PostgresQueryBuilder);
                sqlx::query_scalar_with(AssertSqlSafe(sql), values).fetch_one(pool).await?
            }
            Pool::MySql(pool) => {
                // MySQL has no RETURNING: the connection reports the id it assigned.
                let (sql, values) = stmt.build_sqlx(MysqlQueryBuilder);
                let done = sqlx::query_with(AssertSqlSafe(sql), values).execute(pool).await?;
                done.last_insert_id() as i64
            }
        })
    }
}

/// What [`Store::pool_use`] reports.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct PoolUse {
    pub open: u32,
    pub idle: usize,
    pub max: u32,
}

/// The `id` column every table with a generated key has.
#[derive(Debug, Clone, Copy, sea_query::Iden)]
struct Id;

/// Milliseconds since the Unix epoch: the time format of every timestamp column.
pub fn now_millis() -> i64 {
    std::time::SystemTime::now()
        .duration_since(std::time::UNIX_EPOCH)
        .map(|d| d.as_millis() as i64)
        .unwrap_or(0)
}

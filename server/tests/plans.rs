//! Every query on the connect path and behind the everyday requests finds its rows through an
//! index, on PostgreSQL and MariaDB: with 200,000 messages in 2,000 groups Alice belongs to, a
//! day of use (connect, sync, send, receipts, history pages, lists, recall, reconnect) must
//! read the messages table without scanning it. A query that scans it makes connecting slower as the
//! history grows (seen once: 50 ms per connect at 351,000 messages on PostgreSQL).

mod common;

use common::{Backend, PATIENCE, TestServer};
use kith_shared::api::LoginResponse;
use kith_shared::frame::{ReceiptKind, Target};
use kith_shared::{ClientFrame, ServerFrame};
use sqlx::{Connection, Row};
use std::time::Duration;

/// Messages put in Alice's groups before the day of use.
const OTHER_MESSAGES: i64 = 200_000;
/// Alice's groups they are spread over.
const OTHER_CONVERSATIONS: i64 = 2_000;

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn postgres_reads_messages_by_index_only() {
    let Some(mut server) = TestServer::start(Backend::Postgres).await else { return };
    let url = server.database_url().to_owned();
    let mut db = sqlx::PgConnection::connect(&url).await.expect("connect to the test database");
    let (alice, bob) = (server.user("alice").await, server.user("bob").await);
    sqlx::raw_sql(sqlx::AssertSqlSafe(groups_of(
        alice.user.id,
        &format!("generate_series(0, {}) g", OTHER_CONVERSATIONS - 1),
        "g",
    )))
    .execute(&mut db)
    .await
    .expect("make Alice's groups");
    sqlx::raw_sql(sqlx::AssertSqlSafe(format!(
        "INSERT INTO messages (id, conversation_id, seq, sender_id, client_id, content, sent_at) \
         SELECT 1000000000000 + g, 1000000 + g % {OTHER_CONVERSATIONS}, g / {OTHER_CONVERSATIONS} + 1, 1000000 + g % 7, NULL, \
         '{{\"type\":\"text\",\"text\":\"x\"}}', 0 FROM generate_series(0, {}) g",
        OTHER_MESSAGES - 1
    )))
    .execute(&mut db)
    .await
    .expect("fill the messages table");
    sqlx::raw_sql("ANALYZE").execute(&mut db).await.expect("analyze");
    sqlx::raw_sql("SELECT pg_stat_reset()").execute(&mut db).await.expect("reset the statistics");

    a_day_of_use(&server, &alice, &bob).await;
    // Stopping the server closes its connections, and a closing connection hands in its counts.
    server.server.take().expect("in-process server").shutdown().await;
    // Rows read by sequential scans: the server's start-up queries scanned the table while it
    // was empty (their counts may arrive after the reset), a scan now reads all 200,000.
    let mut settle = Settle::new();
    let (scanned, index_scans) = loop {
        let row = sqlx::query(
            "SELECT seq_tup_read, COALESCE(idx_scan, 0) AS idx_scan FROM pg_stat_user_tables WHERE relname = 'messages'",
        )
        .fetch_one(&mut db)
        .await
        .expect("table statistics");
        let counts = (row.get::<i64, _>("seq_tup_read"), row.get::<i64, _>("idx_scan"));
        if settle.settled(counts).await {
            break counts;
        }
    };
    assert!(index_scans > 0, "the day of use read messages ({index_scans} index scans counted)");
    assert!(
        scanned < OTHER_MESSAGES / 20,
        "{scanned} rows of messages read by sequential scans: a query scanned the table"
    );
    drop(db);
    server.stop().await;
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn mariadb_reads_messages_by_index_only() {
    let Some(mut server) = TestServer::start(Backend::MySql).await else { return };
    let url = server.database_url().to_owned();
    let schema = url.rsplit_once('/').expect("a database in the URL").1.to_owned();
    let mut db = sqlx::MySqlConnection::connect(&url).await.expect("connect to the test database");
    let (alice, bob) = (server.user("alice").await, server.user("bob").await);
    sqlx::raw_sql(sqlx::AssertSqlSafe(groups_of(
        alice.user.id,
        &format!("seq_0_to_{}", OTHER_CONVERSATIONS - 1),
        "seq",
    )))
    .execute(&mut db)
    .await
    .expect("make Alice's groups");
    sqlx::raw_sql(sqlx::AssertSqlSafe(format!(
        "INSERT INTO messages (id, conversation_id, seq, sender_id, client_id, content, sent_at) \
         SELECT 1000000000000 + seq, 1000000 + seq % {OTHER_CONVERSATIONS}, seq DIV {OTHER_CONVERSATIONS} + 1, 1000000 + seq % 7, NULL, \
         '{{\"type\":\"text\",\"text\":\"x\"}}', 0 FROM seq_0_to_{}",
        OTHER_MESSAGES - 1
    )))
    .execute(&mut db)
    .await
    .expect("fill the messages table");
    sqlx::raw_sql("ANALYZE TABLE messages").execute(&mut db).await.expect("analyze");
    // Per-table row counts (MariaDB's user statistics), from zero.
    sqlx::raw_sql("SET GLOBAL userstat = 1").execute(&mut db).await.expect("turn on table statistics");
    sqlx::raw_sql("FLUSH TABLE_STATISTICS").execute(&mut db).await.expect("reset table statistics");

    a_day_of_use(&server, &alice, &bob).await;
    server.server.take().expect("in-process server").shutdown().await;
    let mut settle = Settle::new();
    let rows_read = loop {
        let rows_read: i64 = sqlx::query(
            "SELECT CAST(COALESCE(SUM(ROWS_READ), 0) AS SIGNED) AS rows_read \
             FROM information_schema.TABLE_STATISTICS WHERE TABLE_SCHEMA = ? AND TABLE_NAME = 'messages'",
        )
        .bind(&schema)
        .fetch_one(&mut db)
        .await
        .expect("table statistics")
        .get("rows_read");
        if settle.settled(rows_read).await {
            break rows_read;
        }
    };
    // The day of use itself touches a few dozen messages; one scan reads all 200,000.
    assert!(rows_read < OTHER_MESSAGES / 20, "{rows_read} rows of messages read: a query scanned the table");
    drop(db);
    server.stop().await;
}

/// SQL making the groups 1,000,000 + n for each n of `numbers` (a row source whose column is
/// `n`), each with `user` as a member who has read all of it.
fn groups_of(user: i64, numbers: &str, n: &str) -> String {
    format!(
        "INSERT INTO conversations (id, kind, name, created_at) SELECT 1000000 + {n}, 'group', 'group', 0 FROM {numbers}; \
         INSERT INTO members (conversation_id, user_id, role, delivered_seq, read_seq, joined_at) \
         SELECT 1000000 + {n}, {user}, 'member', {read}, {read}, 0 FROM {numbers}",
        read = OTHER_MESSAGES / OTHER_CONVERSATIONS
    )
}

/// What two people do in a day, through the real socket and HTTP API.
async fn a_day_of_use(server: &TestServer, alice: &LoginResponse, bob: &LoginResponse) {
    let conversation = server.befriend(alice, bob).await;
    let mut a = server.connect(&alice.token).await;
    let mut b = server.connect(&bob.token).await;
    let mut last = 0;
    for i in 0..5 {
        (_, last) = a.send_text(Target::User { id: bob.user.id }, &format!("message {i}")).await;
    }
    b.expect("the last message", |f| matches!(f, ServerFrame::Message { message } if message.seq == last))
        .await;
    b.send(&ClientFrame::Receipt { conversation_id: conversation, kind: ReceiptKind::Read, seq: last }).await;
    a.expect(
        "the read receipt",
        |f| matches!(f, ServerFrame::ReceiptUpdated { read_seq, .. } if *read_seq == last),
    )
    .await;
    a.send(&ClientFrame::Recall { conversation_id: conversation, seq: last }).await;
    b.expect("the recall", |f| matches!(f, ServerFrame::Message { message } if message.seq == last + 1))
        .await;
    for path in [
        format!("/api/conversations/{conversation}/messages?limit=50"),
        format!("/api/conversations/{conversation}/messages?before=3&limit=2"),
        format!("/api/conversations/{conversation}/messages?after=2&limit=50"),
        format!("/api/conversations/{conversation}/receipts"),
        "/api/conversations".to_owned(),
        "/api/friends".to_owned(),
        "/api/groups".to_owned(),
        "/api/me".to_owned(),
    ] {
        let (status, body) = server.get(&path, &bob.token).await;
        assert!(status.is_success(), "GET {path}: {status} {body}");
    }
    // Reconnecting is the connect path again, with history now.
    drop(a);
    let _again = server.connect(&alice.token).await;
}

/// Waits for counts to settle: connections hand in their counts as they close, so two readings
/// half a second apart that agree are final (or the test's patience has run out).
struct Settle<T> {
    last: Option<T>,
    deadline: tokio::time::Instant,
}

impl<T: PartialEq> Settle<T> {
    fn new() -> Self {
        Self { last: None, deadline: tokio::time::Instant::now() + PATIENCE }
    }

    /// Whether `now` is the final reading; if not, waits before the next one.
    async fn settled(&mut self, now: T) -> bool {
        if self.last.as_ref() == Some(&now) || tokio::time::Instant::now() > self.deadline {
            return true;
        }
        self.last = Some(now);
        tokio::time::sleep(Duration::from_millis(500)).await;
        false
    }
}

//! Metrics end to end (docs/operations.md, "Metrics"): a server with METRICS_PORT serves
//! Prometheus text at `GET /metrics` on a listener of its own, and its counters, histograms
//! and gauges follow what the server did over real sockets and real HTTP; without
//! METRICS_PORT nothing listens for them.

mod common;

use common::{Backend, PASSWORD, PATIENCE, TestServer};
use futures_util::SinkExt;
use kith_server::admin::Admin;
use kith_shared::codec::to_json;
use kith_shared::frame::{Content, Target};
use kith_shared::{ClientFrame, ServerFrame};
use reqwest::StatusCode;
use serde_json::json;
use std::collections::HashMap;
use std::net::SocketAddr;
use std::time::Duration;

backend_tests!(metrics_follow_what_the_server_does);

/// One scrape: each series (name with its labels, as printed) and its value.
struct Scrape(HashMap<String, f64>);

impl Scrape {
    /// The value of a series; a series missing from the scrape fails the test.
    fn get(&self, series: &str) -> f64 {
        *self.0.get(series).unwrap_or_else(|| panic!("no {series} in the scrape: {:?}", self.0.keys()))
    }
}

/// `GET /metrics`, parsed; every line that is not a comment must be `series value`.
async fn scrape(addr: SocketAddr) -> Scrape {
    let response = tokio::time::timeout(PATIENCE, reqwest::get(format!("http://{addr}/metrics")))
        .await
        .expect("a scrape in time")
        .expect("the metrics listener answers");
    assert_eq!(response.status(), StatusCode::OK);
    let content_type = response.headers()["content-type"].to_str().expect("ascii").to_owned();
    assert!(content_type.starts_with("text/plain; version=0.0.4"), "{content_type}");
    let text = response.text().await.expect("a body");
    let mut series = HashMap::new();
    for line in text.lines().filter(|line| !line.is_empty() && !line.starts_with('#')) {
        let (name, value) = line.rsplit_once(' ').unwrap_or_else(|| panic!("not a sample: {line}"));
        let value: f64 = value.parse().unwrap_or_else(|_| panic!("not a number: {line}"));
        assert!(series.insert(name.to_owned(), value).is_none(), "{name} twice");
    }
    Scrape(series)
}

/// Scrapes until `series` has `value`; the last scrape otherwise fails the test.
async fn scrape_until(addr: SocketAddr, series: &str, value: f64) -> Scrape {
    let deadline = tokio::time::Instant::now() + PATIENCE;
    loop {
        let now = scrape(addr).await;
        if now.get(series) == value {
            return now;
        }
        assert!(tokio::time::Instant::now() < deadline, "{series} is {}, not {value}", now.get(series));
        tokio::time::sleep(Duration::from_millis(50)).await;
    }
}

/// `POST /api/files?name=NAME` with `body`; the status.
async fn upload(server: &TestServer, token: &str, name: &str, body: Vec<u8>) -> StatusCode {
    let request =
        server.http.post(format!("{}/api/files?name={name}", server.base)).bearer_auth(token).body(body);
    tokio::time::timeout(PATIENCE, request.send())
        .await
        .expect("an answer in time")
        .expect("an answer")
        .status()
}

const OK: &str = r#"kith_logins_total{result="ok"}"#;
const WRONG: &str = r#"kith_logins_total{result="wrong_credentials"}"#;
const STORED: &str = "kith_messages_stored_total";
const BATCHES: &str = "kith_writer_batch_size_count";
const BATCHED: &str = "kith_writer_batch_size_sum";
const COMMITS: &str = "kith_writer_commit_seconds_count";
const OPEN: &str = "kith_connections_open";

async fn metrics_follow_what_the_server_does(backend: Backend) {
    let Some(server) = TestServer::start_with(backend, |c| {
        c.metrics_port = Some(0);
        c.login_failures_per_account = 1;
        c.outgoing_queue = 8;
        c.unattached_ttl = Duration::from_secs(1);
        c.sweep_interval = Duration::from_secs(1);
    })
    .await
    else {
        return;
    };
    let addr = server.metrics_addr.expect("METRICS_PORT = 0 gives the metrics listener a port");
    assert_ne!(addr.port(), 0);

    // A new server: every metric is listed, at zero; the pool is the backend's.
    let start = scrape(addr).await;
    for series in [OK, WRONG, STORED, BATCHES, COMMITS, OPEN] {
        assert_eq!(start.get(series), 0.0, "{series}");
    }
    for series in [
        r#"kith_logins_total{result="rate_limited"}"#,
        r#"kith_logins_total{result="disabled"}"#,
        "kith_writer_failed_batches_total",
        "kith_slow_client_cutoffs_total",
        "kith_uploads_total",
        "kith_upload_bytes_total",
        "kith_sweeper_deleted_total",
    ] {
        assert_eq!(start.get(series), 0.0, "{series}");
    }
    // SQLite: the writing connection and four readers.
    let max = if backend == Backend::Sqlite { 5.0 } else { 16.0 };
    assert_eq!(start.get("kith_db_pool_max_connections"), max);
    let open = start.get("kith_db_pool_connections");
    assert!((1.0..=max).contains(&open), "{open} pool connections");
    assert!(start.get("kith_db_pool_idle_connections") <= open);

    // Logins: two that pass, a wrong password, one refused by the limit (one failure per
    // account and minute here), one of a disabled account.
    let alice = server.user("alice").await;
    let bob = server.user("bob").await;
    let wrong = json!({"username": "alice", "password": "not the password"});
    assert_eq!(server.post("/api/login", None, wrong.clone()).await.0, StatusCode::UNAUTHORIZED);
    assert_eq!(server.post("/api/login", None, wrong).await.0, StatusCode::TOO_MANY_REQUESTS);
    server.register("dave").await;
    let admin = Admin::open(server.config.clone()).await.expect("the admin opens the database");
    admin.disable("dave").await.expect("dave disabled");
    admin.close().await;
    let dave = json!({"username": "dave", "password": PASSWORD});
    assert_eq!(server.post("/api/login", None, dave).await.0, StatusCode::FORBIDDEN);
    let after_logins = scrape(addr).await;
    assert_eq!(after_logins.get(OK), 2.0);
    assert_eq!(after_logins.get(WRONG), 1.0);
    assert_eq!(after_logins.get(r#"kith_logins_total{result="rate_limited"}"#), 1.0);
    assert_eq!(after_logins.get(r#"kith_logins_total{result="disabled"}"#), 1.0);

    // Open connections follow the sockets.
    server.befriend(&alice, &bob).await;
    let mut a = server.connect(&alice.token).await;
    let mut b = server.connect(&bob.token).await;
    let before = scrape_until(addr, OPEN, 2.0).await;

    // Messages: each counted once when stored, in batches whose sizes add up to them.
    const SENT: usize = 25;
    let to = Target::User { id: bob.user.id };
    for i in 0..SENT {
        a.send_text(to, &format!("counted {i}")).await;
    }
    let after = scrape(addr).await;
    let delta = |series: &str| after.get(series) - before.get(series);
    assert_eq!(delta(STORED), SENT as f64);
    assert_eq!(delta(BATCHED), SENT as f64);
    let batches = delta(BATCHES);
    assert!((1.0..=SENT as f64).contains(&batches), "{batches} batches");
    assert_eq!(delta(COMMITS), batches, "one commit time per batch");
    assert!(delta("kith_writer_commit_seconds_sum") > 0.0);
    assert_eq!(after.get(r#"kith_writer_batch_size_bucket{le="+Inf"}"#), after.get(BATCHES));
    assert_eq!(after.get(r#"kith_writer_commit_seconds_bucket{le="+Inf"}"#), after.get(COMMITS));
    assert!(after.get(r#"kith_writer_batch_size_bucket{le="1000"}"#) <= after.get(BATCHES));

    // A resend of a stored message is a batch of its own but stores nothing more.
    let once = ClientFrame::Send { client_id: "resent".to_owned(), to, content: Content::text("once") };
    let acked = |f: &ServerFrame| matches!(f, ServerFrame::Ack { client_id, .. } if client_id == "resent");
    a.send(&once).await;
    a.expect("the first ack", acked).await;
    let stored_once = scrape(addr).await;
    a.send(&once).await;
    a.expect("the repeated ack", acked).await;
    let resent = scrape(addr).await;
    assert_eq!(stored_once.get(STORED), after.get(STORED) + 1.0);
    assert_eq!(resent.get(STORED), stored_once.get(STORED), "a resend is not stored again");
    assert_eq!(resent.get(BATCHES), stored_once.get(BATCHES) + 1.0);

    // Uploads: the bytes of the one stored; a refused one counts nothing. The sweeper then
    // deletes it once UNATTACHED_TTL has passed.
    assert_eq!(upload(&server, &alice.token, "notes.bin", vec![7u8; 3000]).await, StatusCode::CREATED);
    let refused = upload(&server, &alice.token, "photo.png", b"not a picture at all".to_vec()).await;
    assert_eq!(refused, StatusCode::UNSUPPORTED_MEDIA_TYPE);
    let uploaded = scrape(addr).await;
    assert_eq!(uploaded.get("kith_uploads_total"), 1.0);
    assert_eq!(uploaded.get("kith_upload_bytes_total"), 3000.0);
    scrape_until(addr, "kith_sweeper_deleted_total", 1.0).await;

    // A third connection stops reading: it is cut off as too slow, once, and no longer open.
    let carol = server.user("carol").await;
    let mut c = server.connect(&carol.token).await.framed;
    scrape_until(addr, OPEN, 3.0).await;
    let running = server.server.as_ref().expect("an in-process server");
    let mut nonce = 0u64;
    let deadline = tokio::time::Instant::now() + Duration::from_secs(60);
    while running.connection_count() > 2 {
        assert!(tokio::time::Instant::now() < deadline, "the server never cut a reader that stopped");
        for _ in 0..1000 {
            nonce += 1;
            let ping = to_json(&ClientFrame::Ping { nonce });
            if tokio::time::timeout(PATIENCE, c.feed(ping)).await.map_or(true, |sent| sent.is_err()) {
                break;
            }
        }
        let _ = tokio::time::timeout(PATIENCE, c.flush()).await;
    }
    let cut = scrape_until(addr, OPEN, 2.0).await;
    assert_eq!(cut.get("kith_slow_client_cutoffs_total"), 1.0);
    drop(c);

    // A socket that closes is no longer open.
    b.assert_alive().await;
    drop(b);
    scrape_until(addr, OPEN, 1.0).await;

    // The listener answers only /metrics, and the API's port does not serve metrics.
    let other = reqwest::get(format!("http://{addr}/health")).await.expect("an answer");
    assert_eq!(other.status(), StatusCode::NOT_FOUND);
    let api = reqwest::get(format!("{}/metrics", server.base)).await.expect("an answer");
    assert_eq!(api.status(), StatusCode::NOT_FOUND);
    server.stop().await;
}

/// Without METRICS_PORT (the default) no metrics listener is bound.
#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn without_metrics_port_nothing_listens() {
    let server = TestServer::start(Backend::Sqlite).await.expect("SQLite always runs");
    assert_eq!(server.config.metrics_port, None);
    assert_eq!(server.metrics_addr, None);
    assert_eq!(server.server.as_ref().expect("in process").metrics_addr, None);
    server.stop().await;
}

/// The binary reads KITH_METRICS_PORT, announces the metrics address on its first line and
/// serves the metrics there; without the variable it announces (and binds) only its two ports.
#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn the_binary_announces_and_serves_its_metrics() {
    let server = TestServer::spawn_process_with(Backend::Sqlite, |c| c.metrics_port = Some(0))
        .await
        .expect("SQLite always runs");
    let addr = server.metrics_addr.expect("the metrics address announced");
    let alice = server.user("alice").await;
    let _socket = server.connect(&alice.token).await;
    let scraped = scrape_until(addr, OPEN, 1.0).await;
    assert_eq!(scraped.get(OK), 1.0);
    server.stop().await;

    let server = TestServer::spawn_process(Backend::Sqlite).await.expect("SQLite always runs");
    assert_eq!(server.metrics_addr, None, "no metrics address announced");
    server.stop().await;
}

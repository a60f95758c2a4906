//! Metrics: counters and histograms the server keeps while it runs, served as Prometheus
//! text at `GET /metrics` on a listener of their own (METRICS_PORT; docs/operations.md,
//! "Metrics").
//!
//! Each server has its own recorder (several servers in one process never mix their
//! counts) and hands out the handles of [`Metrics`] to the parts that count: the message
//! writer, logins, uploads, the sweeper, the socket connections. Without METRICS_PORT every
//! handle is a no-op and no recorder exists. Counts are taken per batch or per event, never
//! with a name looked up or a string made on the way. The gauges (open connections, the
//! database pool) are read from the server's own state when scraped.

use crate::app::App;
use crate::store::PoolUse;
use axum::Router;
use axum::extract::State;
use axum::http::header;
use axum::response::IntoResponse;
use axum::routing::get;
use metrics::{Counter, Gauge, Histogram, Key, KeyName, Label, Metadata, Recorder, SharedString};
use metrics_exporter_prometheus::{Matcher, PrometheusBuilder, PrometheusHandle, PrometheusRecorder};
use std::sync::Arc;
use std::time::Duration;
use tokio::net::TcpListener;

/// How often histogram samples are folded into their buckets between scrapes, so that a
/// server nobody scrapes does not keep every sample.
const UPKEEP: Duration = Duration::from_secs(5);

/// Upper bounds of the writer's batch-size buckets, in messages (a batch has at most 1,000).
const BATCH_BUCKETS: [f64; 10] = [1.0, 2.0, 5.0, 10.0, 20.0, 50.0, 100.0, 200.0, 500.0, 1000.0];

/// Upper bounds of the commit-latency buckets, in seconds.
const COMMIT_BUCKETS: [f64; 13] =
    [0.0005, 0.001, 0.0025, 0.005, 0.01, 0.025, 0.05, 0.1, 0.25, 0.5, 1.0, 2.5, 5.0];

const CONNECTIONS_OPEN: &str = "kith_connections_open";
const LOGINS: &str = "kith_logins_total";
const MESSAGES_STORED: &str = "kith_messages_stored_total";
const BATCH_SIZE: &str = "kith_writer_batch_size";
const COMMIT_SECONDS: &str = "kith_writer_commit_seconds";
const FAILED_BATCHES: &str = "kith_writer_failed_batches_total";
const SLOW_CUTOFFS: &str = "kith_slow_client_cutoffs_total";
const UPLOADS: &str = "kith_uploads_total";
const UPLOAD_BYTES: &str = "kith_upload_bytes_total";
const SWEEPER_DELETED: &str = "kith_sweeper_deleted_total";
const POOL_CONNECTIONS: &str = "kith_db_pool_connections";
const POOL_IDLE: &str = "kith_db_pool_idle_connections";
const POOL_MAX: &str = "kith_db_pool_max_connections";

static LOGIN_OK: [Label; 1] = [Label::from_static_parts("result", "ok")];
static LOGIN_WRONG: [Label; 1] = [Label::from_static_parts("result", "wrong_credentials")];
static LOGIN_LIMITED: [Label; 1] = [Label::from_static_parts("result", "rate_limited")];
static LOGIN_DISABLED: [Label; 1] = [Label::from_static_parts("result", "disabled")];

/// The outcome of one login attempt, as counted.
#[derive(Debug, Clone, Copy)]
pub enum Login {
    Ok,
    WrongCredentials,
    RateLimited,
    Disabled,
}

/// The server's metric handles. Without a recorder (METRICS_PORT unset) each is a no-op.
#[derive(Debug)]
pub struct Metrics {
    logins_ok: Counter,
    logins_wrong: Counter,
    logins_limited: Counter,
    logins_disabled: Counter,
    /// Messages the writer stored (resends of stored messages not counted again).
    pub messages_stored: Counter,
    /// Submissions per writer batch.
    pub batch_size: Histogram,
    /// Seconds one batch took to store (its transaction, commit included).
    pub commit_seconds: Histogram,
    /// Batches whose storing failed.
    pub failed_batches: Counter,
    /// Connections cut off because their outgoing queue was full.
    pub slow_cutoffs: Counter,
    /// Uploads stored, and their bytes.
    pub uploads: Counter,
    pub upload_bytes: Counter,
    /// Uploads whose files the sweeper deleted.
    pub sweeper_deleted: Counter,
    connections_open: Gauge,
    pool_connections: Gauge,
    pool_idle: Gauge,
    pool_max: Gauge,
    handle: Option<PrometheusHandle>,
}

impl Metrics {
    /// Handles that count nothing: metrics are off.
    pub fn off() -> Self {
        Self {
            logins_ok: Counter::noop(),
            logins_wrong: Counter::noop(),
            logins_limited: Counter::noop(),
            logins_disabled: Counter::noop(),
            messages_stored: Counter::noop(),
            batch_size: Histogram::noop(),
            commit_seconds: Histogram::noop(),
            failed_batches: Counter::noop(),
            slow_cutoffs: Counter::noop(),
            uploads: Counter::noop(),
            upload_bytes: Counter::noop(),
            sweeper_deleted: Counter::noop(),
            connections_open: Gauge::noop(),
            pool_connections: Gauge::noop(),
            pool_idle: Gauge::noop(),
            pool_max: Gauge::noop(),
            handle: None,
        }
    }

    /// A recorder of this server's own, with every metric registered and described (so a
    /// scrape lists each from the start, at zero).
    pub fn on() -> Self {
        let recorder = PrometheusBuilder::new()
            .set_buckets_for_metric(Matcher::Full(BATCH_SIZE.to_owned()), &BATCH_BUCKETS)
            .and_then(|builder| {
                builder.set_buckets_for_metric(Matcher::Full(COMMIT_SECONDS.to_owned()), &COMMIT_BUCKETS)
            })
            .expect("the bucket lists are not empty")
            .build_recorder();
        let on = On(&recorder);
        let logins = |labels: &'static [Label]| on.counter_with(LOGINS, labels);
        let metrics = Self {
            logins_ok: logins(&LOGIN_OK),
            logins_wrong: logins(&LOGIN_WRONG),
            logins_limited: logins(&LOGIN_LIMITED),
            logins_disabled: logins(&LOGIN_DISABLED),
            messages_stored: on.counter(MESSAGES_STORED),
            batch_size: on.histogram(BATCH_SIZE),
            commit_seconds: on.histogram(COMMIT_SECONDS),
            failed_batches: on.counter(FAILED_BATCHES),
            slow_cutoffs: on.counter(SLOW_CUTOFFS),
            uploads: on.counter(UPLOADS),
            upload_bytes: on.counter(UPLOAD_BYTES),
            sweeper_deleted: on.counter(SWEEPER_DELETED),
            connections_open: on.gauge(CONNECTIONS_OPEN),
            pool_connections: on.gauge(POOL_CONNECTIONS),
            pool_idle: on.gauge(POOL_IDLE),
            pool_max: on.gauge(POOL_MAX),
            handle: Some(recorder.handle()),
        };
        on.describe();
        metrics
    }

    /// Counts one login attempt.
    pub fn login(&self, outcome: Login) {
        match outcome {
            Login::Ok => &self.logins_ok,
            Login::WrongCredentials => &self.logins_wrong,
            Login::RateLimited => &self.logins_limited,
            Login::Disabled => &self.logins_disabled,
        }
        .increment(1);
    }

    /// The Prometheus text, with the gauges read now. Empty when metrics are off.
    pub fn render(&self, connections: usize, pool: PoolUse) -> String {
        let Some(handle) = &self.handle else { return String::new() };
        self.connections_open.set(connections as f64);
        self.pool_connections.set(f64::from(pool.open));
        self.pool_idle.set(pool.idle as f64);
        self.pool_max.set(f64::from(pool.max));
        handle.render()
    }

    fn upkeep(&self) {
        if let Some(handle) = &self.handle {
            handle.run_upkeep();
        }
    }
}

/// Registers and describes metrics on one recorder.
struct On<'a>(&'a PrometheusRecorder);

const METADATA: Metadata<'static> = Metadata::new(module_path!(), metrics::Level::INFO, Some(module_path!()));

impl On<'_> {
    fn counter(&self, name: &'static str) -> Counter {
        self.0.register_counter(&Key::from_static_name(name), &METADATA)
    }

    fn counter_with(&self, name: &'static str, labels: &'static [Label]) -> Counter {
        self.0.register_counter(&Key::from_static_parts(name, labels), &METADATA)
    }

    fn gauge(&self, name: &'static str) -> Gauge {
        self.0.register_gauge(&Key::from_static_name(name), &METADATA)
    }

    fn histogram(&self, name: &'static str) -> Histogram {
        self.0.register_histogram(&Key::from_static_name(name), &METADATA)
    }

    /// The `# HELP` lines (docs/operations.md has the same table).
    fn describe(&self) {
        let help = |name: &'static str, text: &'static str| {
            (KeyName::from_const_str(name), SharedString::const_str(text))
        };
        for (name, text) in [
            help(LOGINS, "Login attempts, by result (ok, wrong_credentials, rate_limited, disabled)."),
            help(MESSAGES_STORED, "Messages stored by the message writer."),
            help(
                FAILED_BATCHES,
                "Message writer batches that could not be stored (their senders were told to resend).",
            ),
            help(
                SLOW_CUTOFFS,
                "Socket connections cut off because their outgoing queue was full (too slow).",
            ),
            help(UPLOADS, "Uploads stored."),
            help(UPLOAD_BYTES, "Bytes of the uploads stored."),
            help(
                SWEEPER_DELETED,
                "Uploads whose files the sweeper deleted (expired, or fetched by every receiver).",
            ),
        ] {
            self.0.describe_counter(name, None, text);
        }
        for (name, text) in [
            help(CONNECTIONS_OPEN, "Socket connections open (past their hello)."),
            help(POOL_CONNECTIONS, "Connections the database pool has open."),
            help(POOL_IDLE, "Open database pool connections that are idle."),
            help(POOL_MAX, "Most connections the database pool opens."),
        ] {
            self.0.describe_gauge(name, None, text);
        }
        for (name, text) in [
            help(BATCH_SIZE, "Messages per message writer batch."),
            help(COMMIT_SECONDS, "Seconds the message writer took to store one batch (one transaction)."),
        ] {
            self.0.describe_histogram(name, None, text);
        }
    }
}

/// Serves `GET /metrics` (plain HTTP) on `listener` until shutdown, and folds histogram
/// samples into their buckets every few seconds meanwhile.
pub async fn serve(app: Arc<App>, listener: TcpListener) {
    let shutdown = app.shutdown.clone();
    let upkeep = {
        let app = app.clone();
        async move {
            let mut tick = tokio::time::interval(UPKEEP);
            tick.set_missed_tick_behavior(tokio::time::MissedTickBehavior::Delay);
            loop {
                tick.tick().await;
                app.metrics.upkeep();
            }
        }
    };
    let router = Router::new().route("/metrics", get(get_metrics)).with_state(app);
    let served = axum::serve(listener, router).with_graceful_shutdown(shutdown.cancelled_owned());
    tokio::select! {
        served = served => if let Err(err) = served {
            tracing::error!(%err, "metrics listener failed");
        },
        _ = upkeep => {}
    }
}

/// `GET /metrics`
async fn get_metrics(State(app): State<Arc<App>>) -> impl IntoResponse {
    let text = app.metrics.render(app.hub.connection_count(), app.store.pool_use());
    ([(header::CONTENT_TYPE, "text/plain; version=0.0.4; charset=utf-8")], text)
}

#[cfg(test)]
mod tests {
    use super::*;

    const POOL: PoolUse = PoolUse { open: 3, idle: 1, max: 8 };

    /// The value of a series in rendered text.
    fn value(text: &str, series: &str) -> Option<f64> {
        text.lines().find_map(|line| line.strip_prefix(series)?.strip_prefix(' ')?.parse().ok())
    }

    #[test]
    fn off_counts_and_renders_nothing() {
        let metrics = Metrics::off();
        metrics.messages_stored.increment(5);
        metrics.login(Login::Ok);
        assert_eq!(metrics.render(2, POOL), "");
    }

    #[test]
    fn on_lists_every_metric_with_its_help_and_counts() {
        let metrics = Metrics::on();
        let text = metrics.render(0, POOL);
        for name in [
            CONNECTIONS_OPEN,
            LOGINS,
            MESSAGES_STORED,
            BATCH_SIZE,
            COMMIT_SECONDS,
            FAILED_BATCHES,
            SLOW_CUTOFFS,
            UPLOADS,
            UPLOAD_BYTES,
            SWEEPER_DELETED,
            POOL_CONNECTIONS,
            POOL_IDLE,
            POOL_MAX,
        ] {
            assert!(text.contains(&format!("# HELP {name} ")), "no help for {name}:\n{text}");
        }
        assert_eq!(value(&text, MESSAGES_STORED), Some(0.0));
        assert_eq!(value(&text, POOL_MAX), Some(8.0));

        metrics.login(Login::Ok);
        metrics.login(Login::Ok);
        metrics.login(Login::Disabled);
        metrics.messages_stored.increment(7);
        metrics.batch_size.record(3.0);
        metrics.batch_size.record(4.0);
        metrics.commit_seconds.record(0.002);
        metrics.upkeep();
        let text = metrics.render(4, POOL);
        assert_eq!(value(&text, r#"kith_logins_total{result="ok"}"#), Some(2.0));
        assert_eq!(value(&text, r#"kith_logins_total{result="disabled"}"#), Some(1.0));
        assert_eq!(value(&text, r#"kith_logins_total{result="rate_limited"}"#), Some(0.0));
        assert_eq!(value(&text, MESSAGES_STORED), Some(7.0));
        assert_eq!(value(&text, "kith_writer_batch_size_count"), Some(2.0));
        assert_eq!(value(&text, "kith_writer_batch_size_sum"), Some(7.0));
        assert_eq!(value(&text, r#"kith_writer_batch_size_bucket{le="2"}"#), Some(0.0));
        assert_eq!(value(&text, r#"kith_writer_batch_size_bucket{le="5"}"#), Some(2.0));
        assert_eq!(value(&text, r#"kith_writer_commit_seconds_bucket{le="0.001"}"#), Some(0.0));
        assert_eq!(value(&text, r#"kith_writer_commit_seconds_bucket{le="0.0025"}"#), Some(1.0));
        assert_eq!(value(&text, CONNECTIONS_OPEN), Some(4.0));
        assert_eq!(value(&text, POOL_CONNECTIONS), Some(3.0));
        assert_eq!(value(&text, POOL_IDLE), Some(1.0));
    }

    #[test]
    fn two_servers_count_apart() {
        let (one, two) = (Metrics::on(), Metrics::on());
        one.uploads.increment(1);
        assert_eq!(value(&one.render(0, POOL), UPLOADS), Some(1.0));
        assert_eq!(value(&two.render(0, POOL), UPLOADS), Some(0.0));
    }
}

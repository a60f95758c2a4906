//! The message store's write path: what one commit of the message writer costs.
//!
//! `cargo bench -p kith-server --bench store`
//!
//! The writer stores each batch of messages in one transaction with multi-row INSERTs,
//! after one query that finds resends among them. These benchmarks run exactly those two
//! store calls on an SQLite file in a temporary directory, opened the way the server opens
//! it (WAL, `synchronous = FULL`, so every commit waits for the disk).
//!
//! - `insert/N`: one commit of N new text messages (throughput in rows per second).
//! - `resend_check/N`: the lookup of N (sender, client id) pairs, none of them stored yet.

use criterion::{BenchmarkId, Criterion, Throughput, criterion_group, criterion_main};
use kith_server::store::{MessageRow, Store};
use std::time::{Duration, Instant};
use tokio::runtime::Runtime;

const BATCHES: [usize; 3] = [1, 100, 1000];
const CONVERSATIONS: i64 = 50;

struct Fixture {
    runtime: Runtime,
    store: Store,
    next_id: i64,
    _dir: tempfile::TempDir,
}

impl Fixture {
    fn new() -> Self {
        let runtime = tokio::runtime::Builder::new_current_thread().enable_all().build().expect("runtime");
        let dir = tempfile::tempdir().expect("temporary directory");
        let url = format!("sqlite://{}", dir.path().join("bench.db").display());
        let store = runtime.block_on(Store::open(&url)).expect("open the store");
        Self { runtime, store, next_id: 1, _dir: dir }
    }

    /// `n` new messages spread over the conversations, with the ids and seqs the writer would give.
    fn batch(&mut self, n: usize) -> Vec<MessageRow> {
        (0..n)
            .map(|_| {
                let id = self.next_id;
                self.next_id += 1;
                MessageRow {
                    id,
                    conversation_id: id % CONVERSATIONS + 1,
                    seq: id / CONVERSATIONS + 1,
                    sender_id: Some(id % 100 + 1),
                    client_id: Some(format!("{id:08x}-6a53-4c1b-9d2e-3f0b8f3a9c41")),
                    content: r#"{"type":"text","text":"Are we still on for lunch tomorrow? The place by the station opens at noon"}"#
                        .to_owned(),
                    sent_at: 1_790_000_000_000 + id,
                    edited_at: None,
                    forwarded_from: None,
                }
            })
            .collect()
    }
}

fn insert(c: &mut Criterion) {
    let mut fixture = Fixture::new();
    let mut group = c.benchmark_group("insert");
    group.sample_size(10).measurement_time(Duration::from_secs(10));
    for n in BATCHES {
        group.throughput(Throughput::Elements(n as u64));
        group.bench_with_input(BenchmarkId::from_parameter(n), &n, |b, &n| {
            b.iter_custom(|iters| {
                let mut batches: Vec<_> = (0..iters).map(|_| fixture.batch(n)).collect();
                let start = Instant::now();
                for rows in &mut batches {
                    fixture.runtime.block_on(fixture.store.insert_messages(rows, &[], &[])).expect("insert");
                }
                start.elapsed()
            });
        });
    }
    group.finish();
}

fn resend_check(c: &mut Criterion) {
    let mut fixture = Fixture::new();
    // A table that already holds messages, as on a server that has run for a while.
    for _ in 0..100 {
        let mut rows = fixture.batch(1000);
        fixture.runtime.block_on(fixture.store.insert_messages(&mut rows, &[], &[])).expect("insert");
    }
    let mut group = c.benchmark_group("resend_check");
    group.sample_size(20);
    for n in BATCHES {
        group.throughput(Throughput::Elements(n as u64));
        let keys: Vec<_> = fixture
            .batch(n)
            .into_iter()
            .map(|row| (row.sender_id.unwrap_or_default(), row.client_id.unwrap_or_default()))
            .collect();
        group.bench_with_input(BenchmarkId::from_parameter(n), &keys, |b, keys| {
            b.iter(|| {
                let found =
                    fixture.runtime.block_on(fixture.store.messages_by_client_ids(keys)).expect("query");
                assert!(found.is_empty());
            });
        });
    }
    group.finish();
}

criterion_group!(benches, insert, resend_check);
criterion_main!(benches);

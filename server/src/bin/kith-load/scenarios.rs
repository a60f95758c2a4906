//! The scenarios. Each prepares its accounts, runs bounded in messages and time, and
//! returns its report.

use crate::Options;
use crate::client::{Conn, Http, Incoming, source, stamped_text};
use crate::cpu::Sample;
use crate::report::{Report, percentile};
use crate::server::{self, Target};
use anyhow::{Context, bail};
use futures_util::future::try_join_all;
use kith_shared::api::LoginResponse;
use kith_shared::frame::{Content, Target as To};
use kith_shared::{ClientFrame, ServerFrame};
use std::collections::{BTreeMap, HashMap};
use std::sync::Arc;
use std::time::{Duration, Instant};
use tokio::sync::Semaphore;

pub async fn run(options: &Options, target: &Target) -> anyhow::Result<Report> {
    match options.scenario.as_str() {
        "idle" => idle(options, target).await,
        "one-to-one" => one_to_one(options, target).await,
        "reconnect" => reconnect(options, target).await,
        "fan-out" => fan_out(options, target).await,
        "files" => files(options, target).await,
        other => bail!("unknown scenario '{other}': idle, one-to-one, fan-out, reconnect or files"),
    }
}

/// A prefix that keeps this run's user names apart from earlier runs' on the same server.
fn run_tag() -> String {
    format!("l{}", std::process::id())
}

/// Registers and logs in `count` accounts, eight at a time.
async fn accounts(http: &Http, prefix: &str, count: usize) -> anyhow::Result<Vec<LoginResponse>> {
    let mut all = Vec::with_capacity(count);
    let names: Vec<String> = (0..count).map(|i| format!("{}{prefix}{i}", run_tag())).collect();
    for chunk in names.chunks(8) {
        all.extend(try_join_all(chunk.iter().map(|name| http.account(name))).await?);
    }
    Ok(all)
}

/// Writes `count` accounts and a session for each straight into the database of the server
/// this program started (`--seed`): a token of its own each, and one password hash for all,
/// that of the password the registered accounts have. Returns their tokens.
async fn seeded_tokens(target: &Target, prefix: &str, count: usize) -> anyhow::Result<Vec<String>> {
    use argon2::PasswordHasher;
    use kith_server::store::{NewUser, Store};
    let url = target.database().context("--seed needs --spawn")?;
    let store = Store::open(url).await.context("opening the server's database")?;
    let hash = argon2::Argon2::default()
        .hash_password(crate::client::PASSWORD.as_bytes())
        .map_err(|err| anyhow::anyhow!("argon2: {err}"))?
        .to_string();
    let names: Vec<String> = (0..count).map(|i| format!("{}{prefix}{i}", run_tag())).collect();
    let mut tokens = Vec::with_capacity(count);
    for chunk in names.chunks(64) {
        let made = try_join_all(chunk.iter().map(|name| async {
            let user = NewUser { username: name, display_name: name, password_hash: &hash };
            let id = store.create_user(user).await?;
            let token = kith_server::new_token()?;
            store.create_session(&kith_server::token_hash(&token), id).await?;
            anyhow::Ok(token)
        }))
        .await?;
        tokens.extend(made);
    }
    store.close().await;
    Ok(tokens)
}

/// `pairs` friend pairs: (a, b, their conversation).
async fn friend_pairs(http: &Http, pairs: usize) -> anyhow::Result<Vec<(LoginResponse, LoginResponse, i64)>> {
    let a = accounts(http, "a", pairs).await?;
    let b = accounts(http, "b", pairs).await?;
    let mut out = Vec::with_capacity(pairs);
    for (a, b) in a.into_iter().zip(b) {
        let conversation = http.befriend(&a, &b.user, &b.token).await?;
        out.push((a, b, conversation));
    }
    Ok(out)
}

async fn idle(options: &Options, target: &Target) -> anyhow::Result<Report> {
    let http = Http::new(target.http, target.tls.as_ref())?;
    let count = options.accounts.max(1);
    let accounts: Vec<String> = if options.seed {
        seeded_tokens(target, "i", count).await?
    } else {
        accounts(&http, "i", count).await?.into_iter().map(|login| login.token).collect()
    };
    let before = target.memory();
    let started = Instant::now();
    let mut conns = Vec::with_capacity(options.connections);
    for i in 0..options.connections {
        let token = &accounts[i % accounts.len()];
        let (conn, _) = Conn::open(target.socket, target.tls.as_ref(), source(i), token)
            .await
            .with_context(|| format!("connection {i} of {}", options.connections))?;
        conns.push(conn);
    }
    let connect_secs = started.elapsed().as_secs_f64();
    // Hold them, answering pings, then measure.
    let holders: Vec<_> = conns
        .into_iter()
        .map(|mut conn| {
            tokio::spawn(async move {
                loop {
                    if conn.next().await.is_err() {
                        return;
                    }
                }
            })
        })
        .collect();
    tokio::time::sleep(options.hold).await;
    let after = target.memory();
    let alive = holders.iter().filter(|h| !h.is_finished()).count();
    let mut report = Report::new("idle connections")
        .row("connections", options.connections)
        .row("accounts", accounts.len())
        .row("still open after hold", alive)
        .row("connect time (s)", format!("{connect_secs:.2}"))
        .row("connects per second", format!("{:.0}", options.connections as f64 / connect_secs));
    if let (Some(before), Some(after)) = (before, after) {
        let per_conn =
            (after.rss_kib.saturating_sub(before.rss_kib)) as f64 * 1024.0 / options.connections as f64;
        report = report
            .row("server RSS before (MiB)", format!("{:.1}", before.rss_kib as f64 / 1024.0))
            .row("server bytes per connection", format!("{per_conn:.0}"));
    }
    for holder in holders {
        holder.abort();
    }
    Ok(report)
}

/// Microseconds since `epoch`, carried in each message's text.
fn stamp(epoch: Instant) -> u64 {
    epoch.elapsed().as_micros() as u64
}

/// Most fsyncs timed before a fixed-rate run (one a millisecond, as many as the run lasts).
const MAX_FSYNC_PROBES: usize = 30_000;

async fn one_to_one(options: &Options, target: &Target) -> anyhow::Result<Report> {
    let http = Http::new(target.http, target.tls.as_ref())?;
    let pairs = friend_pairs(&http, options.pairs).await?;
    let per_sender = options.messages;
    let senders = pairs.len() * 2;
    // Each user sends `per_sender` messages to its friend and receives as many.
    let mut peers = Vec::new();
    for (i, (a, b, _)) in pairs.iter().enumerate() {
        peers.push((a.token.clone(), b.user.id, 2 * i));
        peers.push((b.token.clone(), a.user.id, 2 * i + 1));
    }
    let mut conns = Vec::new();
    for (token, to, i) in &peers {
        let (conn, _) = Conn::open(target.socket_for(*i), target.tls.as_ref(), source(*i), token).await?;
        conns.push((conn, *to));
    }
    // With --rate, each sender sends at rate / senders.
    let interval = options.rate.map(|rate| Duration::from_secs_f64(senders as f64 / rate));
    // At a fixed rate latency is mostly the commit's fsync: time the disk's own first, as long
    // as the run will take.
    let fsyncs = match options.rate {
        Some(rate) => {
            let dir = target.data_dir();
            let run_ms = (senders * per_sender) as f64 * 1000.0 / rate;
            let count = (run_ms as usize).clamp(1000, MAX_FSYNC_PROBES);
            let every = Duration::from_millis(1);
            Some(tokio::task::spawn_blocking(move || crate::disk::fsync_times(&dir, count, every)).await??)
        }
        None => None,
    };
    let cpu_before = Cpu::now(target);
    let epoch = Instant::now();
    let window = options.window.max(1);
    let tasks = conns.into_iter().enumerate().map(|(k, (mut conn, to))| {
        // Senders take turns within each interval, so that the offered load is smooth rather
        // than one burst from every sender at the same instant.
        let phase = interval.map(|interval| interval.mul_f64(k as f64 / senders as f64));
        tokio::spawn(async move {
            let permits = Arc::new(Semaphore::new(window));
            let out = conn.out.clone();
            let sender_permits = permits.clone();
            let sender = tokio::spawn(async move {
                for i in 0..per_sender {
                    if let (Some(interval), Some(phase)) = (interval, phase) {
                        tokio::time::sleep_until((epoch + phase + interval * i as u32).into()).await;
                    }
                    let Ok(permit) = sender_permits.acquire().await else { return };
                    permit.forget();
                    let frame = ClientFrame::Send {
                        client_id: uuid::Uuid::now_v7().to_string(),
                        to: To::User { id: to },
                        content: Content::text(stamped_text(stamp(epoch), &[i as u64])),
                    };
                    let _ = out.send(kith_shared::codec::to_json(&frame));
                }
            });
            let (mut acks, mut latencies) = (0usize, Vec::with_capacity(per_sender));
            let mut last = Duration::ZERO;
            while acks < per_sender || latencies.len() < per_sender {
                match conn.next_timed().await? {
                    Incoming::Ack => {
                        acks += 1;
                        permits.add_permits(1);
                    }
                    Incoming::Stamped { sent, .. } => {
                        latencies.push(stamp(epoch).saturating_sub(sent));
                        last = epoch.elapsed();
                    }
                    Incoming::Frame(frame) => {
                        if let ServerFrame::Error { code, message, .. } = *frame {
                            bail!("refused: {code} {message}");
                        }
                    }
                }
            }
            sender.await?;
            anyhow::Ok((latencies, last))
        })
    });
    let mut latencies = Vec::new();
    let mut finished = Duration::ZERO;
    for result in try_join_all(tasks).await? {
        let (mine, last) = result?;
        latencies.extend(mine);
        finished = finished.max(last);
    }
    let cpu = cpu_before.since(target);
    latencies.sort_unstable();
    let delivered = latencies.len();
    let secs = finished.as_secs_f64().max(1e-9);
    let mut report = Report::new("one-to-one")
        .row("server nodes", target.sockets.len())
        .row("friend pairs", pairs.len())
        .row("messages per sender", per_sender)
        .row("offered rate (msg/s)", options.rate.map_or("full speed".to_owned(), |r| format!("{r:.0}")))
        .row("stored and delivered", delivered)
        .row("elapsed (s)", format!("{secs:.2}"))
        .row("delivered per second", format!("{:.0}", delivered as f64 / secs))
        .row("latency p50 (ms)", format!("{:.3}", percentile(&latencies, 50.0) as f64 / 1000.0))
        .row("latency p99 (ms)", format!("{:.3}", percentile(&latencies, 99.0) as f64 / 1000.0))
        .row("latency p99.9 (ms)", format!("{:.3}", percentile(&latencies, 99.9) as f64 / 1000.0))
        .row("latency max (ms)", format!("{:.3}", latencies.last().copied().unwrap_or(0) as f64 / 1000.0));
    if let Some(fsyncs) = fsyncs {
        let ms = |us: u64| format!("{:.3}", us as f64 / 1000.0);
        let three = |of: &[u64]| {
            format!(
                "{} / {} / {}",
                ms(percentile(of, 50.0)),
                ms(percentile(of, 99.0)),
                ms(percentile(of, 99.9))
            )
        };
        let above = |p: f64| ms(percentile(&latencies, p).saturating_sub(percentile(&fsyncs.from_due, p)));
        report = report
            .row("disk fsync alone p50 / p99 / p99.9 (ms)", three(&fsyncs.alone))
            .row("disk fsync from due p50 / p99 / p99.9 (ms)", three(&fsyncs.from_due))
            .row("latency p50 above the disk's (ms)", above(50.0))
            .row("latency p99 above the disk's (ms)", above(99.0));
    }
    if let Some((_, Some(server))) = cpu.first() {
        report = report.row("server CPU while sending (s)", format!("{server:.2}"));
    }
    Ok(cpu_per(&cpu, &[("message", delivered)], report))
}

async fn reconnect(options: &Options, target: &Target) -> anyhow::Result<Report> {
    let http = Arc::new(Http::new(target.http, target.tls.as_ref())?);
    let pairs = friend_pairs(&http, options.pairs).await?;
    let per_sender = options.messages;
    let mut users = Vec::new();
    for (a, b, conversation) in &pairs {
        users.push((a.token.clone(), b.user.id, *conversation));
        users.push((b.token.clone(), a.user.id, *conversation));
    }
    // Phase 1: everyone sends, and keeps what is pushed to them, until its own messages are
    // acknowledged; then every connection drops at once, with deliveries still in flight.
    let mut phase1 = Vec::new();
    for (i, (token, to, _)) in users.iter().enumerate() {
        let (mut conn, _) = Conn::open(target.socket, target.tls.as_ref(), source(i), token).await?;
        let to = *to;
        phase1.push(tokio::spawn(async move {
            for i in 0..per_sender {
                conn.send(&ClientFrame::Send {
                    client_id: uuid::Uuid::now_v7().to_string(),
                    to: To::User { id: to },
                    content: Content::text(format!("m{i}")),
                });
            }
            let mut held = BTreeMap::new();
            let mut acks = 0;
            while acks < per_sender {
                match conn.next().await? {
                    ServerFrame::Ack { .. } => acks += 1,
                    ServerFrame::Message { message } => {
                        held.insert(message.seq, message.id);
                    }
                    _ => {}
                }
            }
            anyhow::Ok(held)
        }));
    }
    let held: Vec<BTreeMap<i64, i64>> = try_join_all(phase1).await?.into_iter().collect::<Result<_, _>>()?;

    // Phase 2: all reconnect at once and resync from their highest contiguous sequence.
    let started = Instant::now();
    let socket = target.socket;
    let tls = target.tls.clone();
    let phase2 = users.iter().zip(held).enumerate().map(|(i, ((token, _, conversation), mut held))| {
        let http = http.clone();
        let (token, conversation) = (token.clone(), *conversation);
        let tls = tls.clone();
        tokio::spawn(async move {
            let (_conn, _sync) = Conn::open(socket, tls.as_ref(), source(i), &token).await?;
            let mut cursor = (1..).take_while(|seq| held.contains_key(seq)).last().unwrap_or(0);
            loop {
                let (page, more) = http.history_after(&token, conversation, cursor).await?;
                for message in &page {
                    // A message both pushed and fetched is the same message, kept once.
                    if let Some(id) = held.insert(message.seq, message.id)
                        && id != message.id
                    {
                        bail!("seq {} of conversation {conversation} changed id", message.seq);
                    }
                    cursor = message.seq;
                }
                if !more {
                    break;
                }
            }
            anyhow::Ok(held)
        })
    });
    let expected = (2 * per_sender) as i64;
    let mut complete = 0;
    for result in try_join_all(phase2).await? {
        let held = result?;
        let contiguous = held.keys().copied().eq(1..=expected);
        if !contiguous {
            bail!("a client ended with {} messages, not 1..={expected} exactly once", held.len());
        }
        complete += 1;
    }
    let secs = started.elapsed().as_secs_f64();
    Ok(Report::new("reconnect storm")
        .row("clients", users.len())
        .row("messages per conversation", expected)
        .row("clients resynced with every message exactly once", complete)
        .row("time to resync all (s)", format!("{secs:.2}")))
}

async fn fan_out(options: &Options, target: &Target) -> anyhow::Result<Report> {
    let http = Http::new(target.http, target.tls.as_ref())?;
    let people = accounts(&http, "g", options.members.max(2)).await?;
    let group = http.group_with(&people[0], &people[1..]).await?;
    let senders = options.senders.clamp(1, people.len());
    let per_sender = options.messages;
    let mut conns = Vec::new();
    for (i, person) in people.iter().enumerate() {
        let (conn, _) =
            Conn::open(target.socket_for(i), target.tls.as_ref(), source(i), &person.token).await?;
        conns.push(conn);
    }
    // Every message reaches every member's connection but its sender's.
    let expected_each =
        |i: usize| if i < senders { (senders - 1) * per_sender } else { senders * per_sender };
    let cpu_before = Cpu::now(target);
    let epoch = Instant::now();
    let window = options.window.max(1);
    let tasks = conns.into_iter().enumerate().map(|(i, mut conn)| {
        let expected = expected_each(i);
        let sends = if i < senders { per_sender } else { 0 };
        tokio::spawn(async move {
            let permits = Arc::new(Semaphore::new(window));
            let out = conn.out.clone();
            let sender_permits = permits.clone();
            let sender = tokio::spawn(async move {
                for n in 0..sends {
                    let Ok(permit) = sender_permits.acquire().await else { return };
                    permit.forget();
                    let frame = ClientFrame::Send {
                        client_id: uuid::Uuid::now_v7().to_string(),
                        to: To::Group { id: group },
                        content: Content::text(stamped_text(stamp(epoch), &[i as u64, n as u64])),
                    };
                    let _ = out.send(kith_shared::codec::to_json(&frame));
                }
            });
            let (mut acks, mut received) = (0usize, Vec::with_capacity(expected));
            while acks < sends || received.len() < expected {
                match conn.next_timed().await? {
                    Incoming::Ack => {
                        acks += 1;
                        permits.add_permits(1);
                    }
                    Incoming::Stamped { sent, key } => {
                        received.push((key, stamp(epoch).saturating_sub(sent), epoch.elapsed()));
                    }
                    Incoming::Frame(frame) => {
                        if let ServerFrame::Error { code, message, .. } = *frame {
                            bail!("refused: {code} {message}");
                        }
                    }
                }
            }
            sender.await?;
            anyhow::Ok(received)
        })
    });
    // The slowest delivery of each message (sender and number).
    let mut to_last: HashMap<u64, u64> = HashMap::new();
    let (mut deliveries, mut finished) = (0usize, Duration::ZERO);
    for result in try_join_all(tasks).await? {
        for (key, latency, at) in result? {
            deliveries += 1;
            finished = finished.max(at);
            let slowest = to_last.entry(key).or_insert(0);
            *slowest = (*slowest).max(latency);
        }
    }
    let cpu = cpu_before.since(target);
    let mut last: Vec<u64> = to_last.into_values().collect();
    last.sort_unstable();
    let secs = finished.as_secs_f64().max(1e-9);
    let report = Report::new("group fan-out")
        .row("server nodes", target.sockets.len())
        .row("members", people.len())
        .row("senders", senders)
        .row("messages per sender", per_sender)
        .row("deliveries", deliveries)
        .row("elapsed (s)", format!("{secs:.2}"))
        .row("deliveries per second", format!("{:.0}", deliveries as f64 / secs))
        .row("latency to last member p50 (ms)", format!("{:.3}", percentile(&last, 50.0) as f64 / 1000.0))
        .row("latency to last member p99 (ms)", format!("{:.3}", percentile(&last, 99.0) as f64 / 1000.0));
    // Per delivery, and per message sent: the database stores, and the bus carries, each
    // message once whatever the group's size.
    Ok(cpu_per(&cpu, &[("delivery", deliveries), ("message sent", senders * per_sender)], report))
}

/// CPU seconds used by each node (when this program started them), by the shared components
/// (database server, NATS) and by this load generator, from a point on.
struct Cpu {
    nodes: Vec<Option<f64>>,
    shared: Vec<(&'static str, Option<Sample>)>,
    generator: Option<f64>,
}

impl Cpu {
    fn now(target: &Target) -> Self {
        Self {
            nodes: target.node_cpu(),
            shared: target.shared.iter().map(|component| (component.name(), component.sample())).collect(),
            generator: server::own_cpu(),
        }
    }

    /// The CPU seconds used since `self` was read, named: the server (summed over the nodes),
    /// each node when there are several, each shared component, the generator. `None` where a
    /// process was not found.
    fn since(&self, target: &Target) -> Vec<(String, Option<f64>)> {
        let later = Self::now(target);
        let used = |before: Option<f64>, after: Option<f64>| before.zip(after).map(|(b, a)| a - b);
        let nodes: Vec<Option<f64>> =
            self.nodes.iter().zip(&later.nodes).map(|(before, after)| used(*before, *after)).collect();
        let mut out = Vec::new();
        if !nodes.is_empty() {
            let pin = match target.pinned[..] {
                [cpu] => format!(" (CPU {cpu})"),
                _ => String::new(),
            };
            out.push((format!("server{pin}"), nodes.iter().copied().sum::<Option<f64>>()));
        }
        if nodes.len() > 1 {
            for (i, node) in nodes.iter().enumerate() {
                let pin = target.pinned.get(i).map_or(String::new(), |cpu| format!(" (CPU {cpu})"));
                out.push((format!("node {}{pin}", i + 1), *node));
            }
        }
        for ((name, before), (_, after)) in self.shared.iter().zip(&later.shared) {
            let seconds = before.as_ref().zip(after.as_ref()).map(|(before, after)| before.until(after));
            out.push((name.to_string(), seconds));
        }
        out.push(("load generator".to_owned(), used(self.generator, later.generator)));
        out
    }
}

/// `report` with the CPU time per `unit` (message, delivery) of each of `used` ("n/a" where
/// its process was not found): a generator using about as much as the server measures itself.
fn cpu_per(used: &[(String, Option<f64>)], units: &[(&str, usize)], mut report: Report) -> Report {
    for (unit, count) in units {
        for (who, seconds) in used {
            let value =
                seconds.map_or("n/a".to_owned(), |s| format!("{:.2}", s * 1e6 / (*count).max(1) as f64));
            report = report.row(&format!("{who} CPU per {unit} (us)"), value);
        }
    }
    report
}

async fn files(options: &Options, target: &Target) -> anyhow::Result<Report> {
    let http = Arc::new(Http::new(target.http, target.tls.as_ref())?);
    let pairs = friend_pairs(&http, options.pairs).await?;
    let size = options.size_mib * 1024 * 1024;
    let total_mib = (size * pairs.len() as u64) as f64 / (1024.0 * 1024.0);
    let before = target.memory();

    // Every sender uploads at once.
    let started = Instant::now();
    let uploads = try_join_all(pairs.iter().enumerate().map(|(i, (a, _, _))| {
        let http = http.clone();
        let token = a.token.clone();
        tokio::spawn(async move { http.upload(&token, &format!("load-{i}.bin"), size).await })
    }))
    .await?
    .into_iter()
    .collect::<Result<Vec<_>, _>>()?;
    let upload_secs = started.elapsed().as_secs_f64();

    // Each sends its upload to its friend.
    for ((a, b, _), upload_id) in pairs.iter().zip(&uploads) {
        let (mut conn, _) = Conn::open(target.socket, target.tls.as_ref(), source(0), &a.token).await?;
        conn.send(&ClientFrame::Send {
            client_id: uuid::Uuid::now_v7().to_string(),
            to: To::User { id: b.user.id },
            content: Content::File {
                upload_id: upload_id.clone(),
                name: String::new(),
                size: 0,
                mime: String::new(),
            },
        });
        loop {
            match conn.next().await? {
                ServerFrame::Ack { .. } => break,
                ServerFrame::Error { code, message, .. } => bail!("file message refused: {code} {message}"),
                _ => {}
            }
        }
    }

    // Every receiver downloads at once, checking each byte.
    let started = Instant::now();
    let downloads = try_join_all(pairs.iter().zip(uploads).map(|((_, b, _), upload_id)| {
        let http = http.clone();
        let token = b.token.clone();
        tokio::spawn(async move { http.download(&token, &upload_id).await })
    }))
    .await?
    .into_iter()
    .collect::<Result<Vec<_>, _>>()?;
    let download_secs = started.elapsed().as_secs_f64();
    if let Some(short) = downloads.iter().find(|&&n| n != size) {
        bail!("a download ended after {short} of {size} bytes");
    }
    let after = target.memory();
    let mut report = Report::new("files")
        .row("clients uploading at once", pairs.len())
        .row("file size (MiB)", options.size_mib)
        .row("upload time (s)", format!("{upload_secs:.2}"))
        .row("upload MiB/s (all clients)", format!("{:.0}", total_mib / upload_secs.max(1e-9)))
        .row("download time (s)", format!("{download_secs:.2}"))
        .row("download MiB/s (all clients)", format!("{:.0}", total_mib / download_secs.max(1e-9)))
        .row("downloads byte-exact", downloads.len());
    if let (Some(before), Some(after)) = (before, after) {
        report = report.row(
            "server peak RSS growth (MiB)",
            format!("{:.1}", after.peak_rss_kib.saturating_sub(before.peak_rss_kib) as f64 / 1024.0),
        );
    }
    Ok(report)
}

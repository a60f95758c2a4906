//! `kith-load`: a load generator for a Kith server on this machine.
//!
//! It prepares its own world through the public API (registers users, makes friendships),
//! then runs one scenario, bounded in message count and in time, and prints one summary
//! table (`--json FILE` also writes it as JSON). Loopback addresses only.
//!
//! ```text
//! kith-load [--spawn PATH [--tls] [--nodes N --nats URL --database URL] | --http ADDR --socket ADDR]
//!           [--pin-nodes CPU,…] [--json FILE] SCENARIO [options]
//!   idle       --connections N [--accounts A [--seed]] [--hold SECS]
//!   one-to-one --pairs K --messages M [--rate MSGS_PER_SEC] [--window W]
//!   fan-out    --members G --senders S --messages M [--window W]
//!   reconnect  --pairs K --messages M
//!   files      --pairs K --size-mib S
//! ```
//! With `--spawn`, it starts the server binary itself on a fresh SQLite database in a
//! temporary directory (or on `--database URL`), with limits raised for load, and reports
//! the server's memory from /proc. `--tls` gives the spawned server a certificate from a CA
//! made for the run, and every client speaks TLS to it. `--nodes N` starts N servers as one
//! cluster (one database, one NATS) and spreads the clients over them, the two friends of a
//! pair on different nodes. `--pin-nodes` pins the nodes to CPUs. The report gives the CPU
//! time per message of every node, of the shared database server and NATS (their processes
//! found in /proc) and of this generator.

mod client;
mod cpu;
mod disk;
mod report;
mod scenarios;
mod server;
mod tls;

use anyhow::{Context, bail};
use std::net::SocketAddr;
use std::path::PathBuf;
use std::time::Duration;

/// Every scenario stops after this long whatever happens.
pub const TIME_LIMIT: Duration = Duration::from_secs(300);

#[derive(Debug, Clone)]
pub struct Options {
    pub spawn: Option<PathBuf>,
    pub database: Option<String>,
    pub http: Option<SocketAddr>,
    pub socket: Option<SocketAddr>,
    pub json: Option<PathBuf>,
    pub scenario: String,
    pub connections: usize,
    pub accounts: usize,
    /// idle: write the accounts and their sessions into the spawned server's database
    /// instead of registering and logging in each through the API.
    pub seed: bool,
    pub hold: Duration,
    pub pairs: usize,
    pub messages: usize,
    pub rate: Option<f64>,
    pub window: usize,
    pub members: usize,
    pub senders: usize,
    pub size_mib: u64,
    pub tls: bool,
    /// With `--spawn`: how many server processes (nodes of one cluster) to start.
    pub nodes: usize,
    /// With `--nodes` above 1: the NATS server that joins them.
    pub nats: Option<String>,
    /// With `--spawn`: the CPUs the nodes are pinned to, node i to the i-th (round the list).
    pub pin_nodes: Vec<usize>,
}

fn parse_args() -> anyhow::Result<Options> {
    let mut options = Options {
        spawn: None,
        database: None,
        http: None,
        socket: None,
        json: None,
        scenario: String::new(),
        connections: 1000,
        accounts: 50,
        seed: false,
        hold: Duration::from_secs(5),
        pairs: 50,
        messages: 1000,
        rate: None,
        window: 64,
        members: 100,
        senders: 1,
        size_mib: 256,
        tls: false,
        nodes: 1,
        nats: None,
        pin_nodes: Vec::new(),
    };
    let mut args = std::env::args().skip(1);
    while let Some(arg) = args.next() {
        let mut value = || args.next().with_context(|| format!("{arg} needs a value"));
        match arg.as_str() {
            "--spawn" => options.spawn = Some(PathBuf::from(value()?)),
            "--database" => options.database = Some(value()?),
            "--http" => options.http = Some(value()?.parse().context("--http ADDR:PORT")?),
            "--socket" => options.socket = Some(value()?.parse().context("--socket ADDR:PORT")?),
            "--json" => options.json = Some(PathBuf::from(value()?)),
            "--connections" => options.connections = value()?.parse()?,
            "--accounts" => options.accounts = value()?.parse()?,
            "--seed" => options.seed = true,
            "--hold" => options.hold = Duration::from_secs(value()?.parse()?),
            "--pairs" => options.pairs = value()?.parse()?,
            "--messages" => options.messages = value()?.parse()?,
            "--rate" => options.rate = Some(value()?.parse()?),
            "--window" => options.window = value()?.parse()?,
            "--members" => options.members = value()?.parse()?,
            "--senders" => options.senders = value()?.parse()?,
            "--size-mib" => options.size_mib = value()?.parse()?,
            "--tls" => options.tls = true,
            "--nodes" => options.nodes = value()?.parse::<usize>()?.max(1),
            "--nats" => options.nats = Some(value()?),
            "--pin-nodes" => {
                options.pin_nodes = value()?
                    .split(',')
                    .map(|cpu| cpu.trim().parse::<usize>())
                    .collect::<Result<_, _>>()
                    .context("--pin-nodes CPU[,CPU…]: CPU numbers separated by commas")?
            }
            "-h" | "--help" => {
                println!("{}", include_str!("usage.txt"));
                std::process::exit(0);
            }
            scenario if !scenario.starts_with('-') && options.scenario.is_empty() => {
                options.scenario = scenario.to_owned()
            }
            other => bail!("unknown argument '{other}'; see --help"),
        }
    }
    if !options.pin_nodes.is_empty() && options.spawn.is_none() {
        bail!("--pin-nodes needs --spawn: it pins the servers this program starts");
    }
    if options.seed && options.spawn.is_none() {
        bail!("--seed needs --spawn: it writes into the database of the server this program starts");
    }
    if options.scenario.is_empty() {
        bail!("name a scenario: idle, one-to-one, fan-out, reconnect or files; see --help");
    }
    for addr in [options.http, options.socket].into_iter().flatten() {
        if !addr.ip().is_loopback() {
            bail!("{addr} is not a loopback address: kith-load only loads this machine");
        }
    }
    Ok(options)
}

#[tokio::main]
async fn main() -> anyhow::Result<()> {
    let options = parse_args()?;
    let mut target = server::Target::open(&options).await?;
    let result = tokio::time::timeout(TIME_LIMIT, scenarios::run(&options, &target)).await;
    let report = match result {
        Ok(report) => report?,
        Err(_) => bail!("the scenario did not finish within {} s", TIME_LIMIT.as_secs()),
    };
    let report = report.with_server(target.memory());
    println!("{}", report.table());
    if let Some(path) = &options.json {
        std::fs::write(path, report.json()).with_context(|| format!("writing {}", path.display()))?;
    }
    target.stop().await;
    Ok(())
}

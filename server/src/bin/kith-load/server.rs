//! The server under load: one this program starts (`--spawn`) or one already running.

use crate::Options;
use crate::cpu::Shared;
use anyhow::{Context, bail};
use std::net::SocketAddr;
use std::path::PathBuf;
use tokio::io::AsyncBufReadExt;
use tokio::process::{Child, Command};

pub struct Target {
    pub http: SocketAddr,
    pub socket: SocketAddr,
    /// Every node's socket address (`socket` first); one for a server alone.
    pub sockets: Vec<SocketAddr>,
    /// With `--tls`: what the clients need to speak TLS to the server.
    pub tls: Option<crate::tls::Tls>,
    /// The shared components whose CPU is measured: the database server, NATS.
    pub shared: Vec<Shared>,
    /// With `--pin-nodes`: the CPU each node runs on, in node order.
    pub pinned: Vec<usize>,
    children: Vec<Child>,
    dir: Option<PathBuf>,
    /// With `--spawn`: the database the servers use.
    database: Option<String>,
}

/// The server's resident memory now and at its peak, in KiB (from /proc).
#[derive(Debug, Clone, Copy, Default, serde::Serialize)]
pub struct Memory {
    pub rss_kib: u64,
    pub peak_rss_kib: u64,
}

impl Target {
    /// A folder on the filesystem of the spawned server's database (the temporary folder for
    /// a server already running).
    pub fn data_dir(&self) -> PathBuf {
        self.dir.clone().unwrap_or_else(std::env::temp_dir)
    }

    pub async fn open(options: &Options) -> anyhow::Result<Self> {
        let Some(binary) = &options.spawn else {
            let (Some(http), Some(socket)) = (options.http, options.socket) else {
                bail!("give --spawn PATH, or --http and --socket of a running server");
            };
            if options.tls {
                bail!("--tls needs --spawn: the run makes the server's certificate");
            }
            return Ok(Self {
                http,
                socket,
                sockets: vec![socket],
                tls: None,
                shared: Vec::new(),
                pinned: Vec::new(),
                children: Vec::new(),
                dir: None,
                database: None,
            });
        };
        if options.nodes > 1 && (options.nats.is_none() || options.database.is_none()) {
            bail!(
                "--nodes needs --nats URL and --database URL (PostgreSQL or MariaDB) for the nodes to share"
            );
        }
        let dir = std::env::temp_dir().join(format!("kith-load-{}", std::process::id()));
        std::fs::create_dir_all(&dir)?;
        let mut tls = None;
        if options.tls {
            tls = Some(crate::tls::issue(&dir)?);
        }
        let (mut addresses, mut children, mut pinned) = (Vec::new(), Vec::new(), Vec::new());
        for node in 0..options.nodes {
            // `--pin-nodes`: node i runs on the i-th CPU of the list (round the list again when
            // there are more nodes), through `taskset`, which becomes the server (same pid).
            let mut command = match options.pin_nodes.get(node % options.pin_nodes.len().max(1)) {
                Some(cpu) => {
                    pinned.push(*cpu);
                    let mut command = Command::new("taskset");
                    command.arg("--cpu-list").arg(cpu.to_string()).arg(binary);
                    command
                }
                None => Command::new(binary),
            };
            command
                .env("KITH_SERVER_IP", "127.0.0.1")
                .env("KITH_HTTP_PORT", "0")
                .env("KITH_SOCKET_PORT", "0")
                .env("KITH_DATA_DIR", dir.join(format!("data{node}")))
                .env("KITH_UPLOAD_DIR", dir.join("uploads"))
                .env("KITH_MULTI_DEVICE", "true")
                .env("KITH_MESSAGES_PER_SECOND", "10000000")
                .env("KITH_MESSAGE_BURST", "10000000")
                .env("KITH_LOGIN_FAILURES_PER_ADDRESS", "1000000")
                .env("KITH_OUTGOING_QUEUE", "8192")
                .env("KITH_MAX_CONNECTIONS", "19500")
                // The server's own log level, unless the run asks for more (RUST_LOG).
                .env("RUST_LOG", std::env::var("RUST_LOG").unwrap_or_else(|_| "warn".to_owned()))
                .current_dir(&dir)
                .stdout(std::process::Stdio::piped())
                .kill_on_drop(true);
            if let Some(url) = &options.database {
                command.env("KITH_DATABASE_URL", url);
            }
            if let Some(nats) = &options.nats {
                command
                    .env("KITH_NATS_URL", nats)
                    .env("KITH_NATS_PREFIX", format!("kith_load_{}", std::process::id()));
            }
            if let Some(issued) = &tls {
                command.env("KITH_TLS_CERT_FILE", &issued.cert).env("KITH_TLS_KEY_FILE", &issued.key);
            }
            let through = if pinned.is_empty() { "" } else { " through taskset (--pin-nodes)" };
            let mut child =
                command.spawn().with_context(|| format!("starting {}{through}", binary.display()))?;
            let stdout = child.stdout.take().context("server stdout")?;
            let line = tokio::io::BufReader::new(stdout)
                .lines()
                .next_line()
                .await?
                .context("the server printed nothing")?;
            let addrs: Vec<SocketAddr> =
                line.split_whitespace().filter_map(|w| w.trim_end_matches(',').parse().ok()).collect();
            // A third address is the metrics listener's (KITH_METRICS_PORT in the environment).
            let [http, socket, ..] = addrs[..] else {
                bail!("unexpected first line from the server: {line}")
            };
            addresses.push((http, socket));
            children.push(child);
        }
        let (http, socket) = addresses[0];
        let sockets = addresses.iter().map(|(_, socket)| *socket).collect();
        let mut shared: Vec<Shared> =
            options.database.as_deref().and_then(Shared::database).into_iter().collect();
        shared.extend(options.nats.as_deref().map(Shared::nats));
        Ok(Self {
            http,
            socket,
            sockets,
            tls: tls.map(|issued| issued.tls),
            shared,
            pinned,
            children,
            database: Some(match &options.database {
                Some(url) => url.clone(),
                None => format!("sqlite://{}?mode=rwc", dir.join("data0").join("kith.db").display()),
            }),
            dir: Some(dir),
        })
    }

    /// The database of the servers this program started (`--spawn`).
    pub fn database(&self) -> Option<&str> {
        self.database.as_deref()
    }

    pub fn memory(&self) -> Option<Memory> {
        let pid = self.children.first()?.id()?;
        let status = std::fs::read_to_string(format!("/proc/{pid}/status")).ok()?;
        let field = |name: &str| {
            status
                .lines()
                .find(|l| l.starts_with(name))
                .and_then(|l| l.split_whitespace().nth(1))
                .and_then(|v| v.parse().ok())
        };
        Some(Memory { rss_kib: field("VmRSS:")?, peak_rss_kib: field("VmHWM:")? })
    }

    /// CPU seconds each node has used so far (user and system), when this program started
    /// them; `None` for a node whose process is gone.
    pub fn node_cpu(&self) -> Vec<Option<f64>> {
        self.children.iter().map(|child| crate::cpu::seconds_of(&child.id()?.to_string())).collect()
    }

    /// The socket address of the node client `index` connects to: nodes in turn.
    pub fn socket_for(&self, index: usize) -> SocketAddr {
        self.sockets[index % self.sockets.len()]
    }

    pub async fn stop(&mut self) {
        for mut child in std::mem::take(&mut self.children) {
            if let Some(pid) = child.id() {
                // SIGTERM for a clean shutdown; kill if it lingers.
                let _ = Command::new("kill").arg(pid.to_string()).status().await;
            }
            if tokio::time::timeout(std::time::Duration::from_secs(10), child.wait()).await.is_err() {
                let _ = child.kill().await;
            }
        }
        if let Some(dir) = self.dir.take() {
            let _ = std::fs::remove_dir_all(dir);
        }
    }
}

/// CPU seconds this load generator has used so far (user and system), to tell whether the
/// server or the generator limits a run.
pub fn own_cpu() -> Option<f64> {
    crate::cpu::seconds_of("self")
}

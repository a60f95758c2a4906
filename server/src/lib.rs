//! The Kith server: one process serving the HTTP API (`http`) and the realtime socket
//! (`socket`), two thin doors onto the domain (`accounts`, `friends`, `groups`, `sync`,
//! `presence`, `messages`, `files`) over one database ([`store`]), with the `hub` routing
//! frames to whoever is online.
//!
//! [`Server::start`] binds both listeners, and the metrics listener when METRICS_PORT is set
//! (port 0 picks a free one), and returns at once, so `main` and the tests start servers the
//! same way.

mod accounts;
pub mod admin;
mod app;
mod auth;
mod blocks;
mod bus;
pub mod config;
mod error;
mod files;
mod friends;
mod groups;
mod http;
mod hub;
mod membership;
mod messages;
mod metrics;
mod outgoing;
mod presence;
mod sessions;
mod socket;
pub mod store;
mod sync;
pub mod tls;
mod wire;

/// A new bearer token and what the database keeps of it (for tools that open sessions in the
/// database themselves, such as the load generator).
pub use auth::{new_token, token_hash};

use app::App;
use config::Config;
use std::net::SocketAddr;
use std::sync::Arc;
use std::time::Duration;
use store::{Store, StoreError};
use tls::{Tls, TlsError};
use tokio::net::TcpListener;
use tokio::task::JoinHandle;

/// Why the server could not start.
#[derive(Debug, thiserror::Error)]
pub enum StartError {
    #[error("cannot create {path}: {source}")]
    Directory { path: std::path::PathBuf, source: std::io::Error },
    #[error("cannot open the database: {0}")]
    Database(#[from] StoreError),
    #[error("cannot listen on {addr}: {source}")]
    Bind { addr: SocketAddr, source: std::io::Error },
    #[error(transparent)]
    Tls(#[from] TlsError),
    #[error(
        "NATS_URL is set, but the database is SQLite ({0}): the nodes of a cluster share one \
         PostgreSQL or MySQL/MariaDB database; set DATABASE_URL to one, or unset NATS_URL to run \
         one node alone"
    )]
    ClusterOnSqlite(String),
    #[error("cannot join the cluster: {0}")]
    Bus(#[from] bus::BusError),
}

/// A running server.
pub struct Server {
    pub http_addr: SocketAddr,
    pub socket_addr: SocketAddr,
    /// Where `GET /metrics` answers; None without METRICS_PORT.
    pub metrics_addr: Option<SocketAddr>,
    app: Arc<App>,
    tls: Option<Tls>,
    http_task: JoinHandle<()>,
    socket_task: JoinHandle<()>,
    metrics_task: Option<JoinHandle<()>>,
}

impl Server {
    /// Opens the database (applying migrations), binds both listeners (and the metrics
    /// listener when METRICS_PORT is set) and starts serving.
    pub async fn start(config: Config) -> Result<Self, StartError> {
        for dir in [&config.data_dir, &config.upload_dir, &config.data_dir.join("avatars")] {
            std::fs::create_dir_all(dir)
                .map_err(|source| StartError::Directory { path: dir.clone(), source })?;
        }
        let tls = Tls::set_up(&config)?;
        if tls.is_none() && !config.server_ip.is_loopback() {
            tracing::warn!(ip = %config.server_ip, "TLS = off: serving clear text beyond this machine");
        }
        if config.nats_url.is_some() && config.database_url().starts_with("sqlite:") {
            return Err(StartError::ClusterOnSqlite(config.database_url()));
        }
        let store = Store::open(&config.database_url()).await?;
        let bus = match &config.nats_url {
            Some(url) => Some(bus::connect(url, &config.nats_prefix).await?),
            None => None,
        };
        let (relay, inbox) = bus.unzip();
        let http_listener = bind(SocketAddr::new(config.server_ip, config.http_port)).await?;
        let socket_listener = bind(SocketAddr::new(config.server_ip, config.socket_port)).await?;
        let metrics_listener = match config.metrics_port {
            Some(port) => Some(bind(SocketAddr::new(config.server_ip, port)).await?),
            None => None,
        };
        let http_addr = local_addr(&http_listener)?;
        let socket_addr = local_addr(&socket_listener)?;
        let metrics_addr = metrics_listener.as_ref().map(local_addr).transpose()?;
        tracing::info!(%http_addr, %socket_addr, metrics_addr = ?metrics_addr, backend = store.backend(), tls = tls.is_some(), "kith-server listening");

        let mut app = App::new(config, store, relay).await?;
        app.tls = tls.is_some();
        let app = Arc::new(app);
        if let Some(inbox) = inbox {
            let app = app.clone();
            app.tasks.clone().spawn(inbox.run(app));
        }
        let http_task = tokio::spawn(http::serve(app.clone(), http_listener, tls.as_ref().map(Tls::http)));
        let socket_task =
            tokio::spawn(socket::run(app.clone(), socket_listener, tls.as_ref().map(Tls::socket)));
        let metrics_task =
            metrics_listener.map(|listener| tokio::spawn(metrics::serve(app.clone(), listener)));
        files::start(&app);
        sessions::start(&app);
        Ok(Self { http_addr, socket_addr, metrics_addr, app, tls, http_task, socket_task, metrics_task })
    }

    /// Reads the TLS certificate and key files again (what SIGHUP does): new handshakes on
    /// both listeners present the new certificate, connections already open keep theirs.
    /// A failure is logged and keeps the certificate in use. Returns the new certificate's
    /// SHA-256 fingerprint, or None when the server speaks clear text.
    pub fn reload_tls(&self) -> Result<Option<String>, TlsError> {
        let Some(tls) = &self.tls else { return Ok(None) };
        match tls.reload() {
            Ok(fingerprint) => {
                tracing::info!(%fingerprint, "TLS certificate reloaded");
                Ok(Some(fingerprint))
            }
            Err(err) => {
                tracing::error!(%err, "TLS certificate not reloaded; the one in use stays");
                Err(err)
            }
        }
    }

    /// The SHA-256 fingerprint of the certificate both listeners present (colon-separated
    /// hex), or None when the server speaks clear text.
    pub fn tls_fingerprint(&self) -> Option<String> {
        self.tls.as_ref().map(Tls::fingerprint)
    }

    /// Shuts down cleanly: stops accepting, tells connected clients it is going away, lets
    /// in-flight requests and writes finish, then closes the database.
    pub async fn shutdown(self) {
        tracing::info!("shutting down");
        self.app.shutdown.cancel();
        self.app.hub.going_away("the server is shutting down");
        let _ = self.socket_task.await;
        self.app.tasks.close();
        if tokio::time::timeout(Duration::from_secs(10), self.app.tasks.wait()).await.is_err() {
            tracing::warn!("some connections did not close in time");
        }
        let _ = self.http_task.await;
        if let Some(task) = self.metrics_task {
            let _ = task.await;
        }
        self.app.messages.flush().await;
        self.app.store.close().await;
        tracing::info!("stopped");
    }

    /// How many socket connections are open (for tests and health).
    pub fn connection_count(&self) -> usize {
        self.app.hub.connection_count()
    }
}

async fn bind(addr: SocketAddr) -> Result<TcpListener, StartError> {
    TcpListener::bind(addr).await.map_err(|source| StartError::Bind { addr, source })
}

fn local_addr(listener: &TcpListener) -> Result<SocketAddr, StartError> {
    listener
        .local_addr()
        .map_err(|source| StartError::Bind { addr: SocketAddr::from(([0, 0, 0, 0], 0)), source })
}

//! Test harness: a real server on ephemeral ports with a real database, real HTTP and real
//! sockets. Each test gets its own database: an SQLite file in a temp dir, or a fresh
//! database on the PostgreSQL or MariaDB server named by KITH_TEST_POSTGRES_URL or
//! KITH_TEST_MYSQL_URL.
#![allow(dead_code)]

use futures_util::{SinkExt, StreamExt};
use kith_server::Server;
use kith_server::config::Config;
use kith_shared::api::{LoginResponse, UserProfile};
use kith_shared::codec::{FrameCodec, to_json};
use kith_shared::frame::ChatMessage;
use kith_shared::{ClientFrame, ErrorCode, PROTOCOL_VERSION, ServerFrame};
use reqwest::{Method, StatusCode};
use serde_json::{Value, json};
use sqlx::Connection;
use std::net::SocketAddr;
use std::time::Duration;
use tokio::io::{AsyncRead, AsyncWrite};
use tokio::net::TcpStream;
use tokio_util::codec::Framed;

/// Longest a test waits for something that should happen; a guard against hangs, not a
/// measurement.
pub const PATIENCE: Duration = Duration::from_secs(15);
pub const PASSWORD: &str = "correct horse battery";

#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Backend {
    Sqlite,
    Postgres,
    MySql,
}

/// Declares `mod sqlite`, `mod postgres` and `mod mysql`, each running every named test
/// function (`async fn name(backend: Backend)`) on that backend.
#[macro_export]
macro_rules! backend_tests {
    ($($name:ident),* $(,)?) => {
        mod sqlite { $( #[tokio::test(flavor = "multi_thread", worker_threads = 2)] async fn $name() { super::$name($crate::common::Backend::Sqlite).await } )* }
        mod postgres { $( #[tokio::test(flavor = "multi_thread", worker_threads = 2)] async fn $name() { super::$name($crate::common::Backend::Postgres).await } )* }
        mod mysql { $( #[tokio::test(flavor = "multi_thread", worker_threads = 2)] async fn $name() { super::$name($crate::common::Backend::MySql).await } )* }
    };
}

/// Makes a fresh database for one test and returns its URL, or None (said loudly) when the
/// backend's URL is not set. In CI a missing URL fails the test instead.
async fn database_url(backend: Backend) -> Option<String> {
    let (var, create) = match backend {
        Backend::Sqlite => return Some(String::new()),
        Backend::Postgres => ("KITH_TEST_POSTGRES_URL", true),
        Backend::MySql => ("KITH_TEST_MYSQL_URL", false),
    };
    let Ok(base) = std::env::var(var) else {
        if std::env::var("CI").is_ok() {
            panic!("{var} is not set: CI must test {backend:?}");
        }
        eprintln!("SKIPPED on {backend:?}: {var} is not set");
        return None;
    };
    let name = format!("kith_t_{}", uuid::Uuid::new_v4().simple());
    let (prefix, _) = base.rsplit_once('/').expect("a database URL ends in /DATABASE");
    if create {
        let mut conn = sqlx::PgConnection::connect(&base).await.expect("connect to PostgreSQL");
        sqlx::raw_sql(sqlx::AssertSqlSafe(format!("CREATE DATABASE {name}")))
            .execute(&mut conn)
            .await
            .expect("create database");
    } else {
        let mut conn = sqlx::MySqlConnection::connect(&base).await.expect("connect to MariaDB");
        sqlx::raw_sql(sqlx::AssertSqlSafe(format!("CREATE DATABASE {name} CHARACTER SET utf8mb4")))
            .execute(&mut conn)
            .await
            .expect("create database");
    }
    Some(format!("{prefix}/{name}"))
}

async fn drop_database(backend: Backend, url: &str) {
    let Some((_, name)) = url.rsplit_once('/') else { return };
    let base = match backend {
        Backend::Sqlite => return,
        Backend::Postgres => std::env::var("KITH_TEST_POSTGRES_URL"),
        Backend::MySql => std::env::var("KITH_TEST_MYSQL_URL"),
    };
    let Ok(base) = base else { return };
    match backend {
        Backend::Postgres => {
            // FORCE: a killed node's connections may not be gone yet.
            let sql = sqlx::AssertSqlSafe(format!("DROP DATABASE IF EXISTS {name} WITH (FORCE)"));
            if let Ok(mut conn) = sqlx::PgConnection::connect(&base).await {
                let _ = sqlx::raw_sql(sql).execute(&mut conn).await;
            }
        }
        Backend::MySql => {
            let sql = sqlx::AssertSqlSafe(format!("DROP DATABASE IF EXISTS {name}"));
            if let Ok(mut conn) = sqlx::MySqlConnection::connect(&base).await {
                let _ = sqlx::raw_sql(sql).execute(&mut conn).await;
            }
        }
        Backend::Sqlite => {}
    }
}

pub struct TestServer {
    pub server: Option<Server>,
    /// A server running as a separate `kith-server` process (see [`TestServer::spawn_process`]).
    pub process: Option<tokio::process::Child>,
    pub backend: Backend,
    pub http: reqwest::Client,
    pub base: String,
    pub socket_addr: SocketAddr,
    /// Where `GET /metrics` answers, when the configuration sets METRICS_PORT.
    pub metrics_addr: Option<SocketAddr>,
    pub config: Config,
    database_url: String,
    _dir: tempfile::TempDir,
}

impl TestServer {
    pub async fn start(backend: Backend) -> Option<Self> {
        Self::start_with(backend, |_| {}).await
    }

    /// Starts a server after `adjust` has changed its configuration.
    pub async fn start_with(backend: Backend, adjust: impl FnOnce(&mut Config)) -> Option<Self> {
        let database_url = database_url(backend).await?;
        let dir = tempfile::tempdir().expect("temp dir");
        let mut config = Config {
            http_port: 0,
            socket_port: 0,
            database_url: database_url.clone(),
            data_dir: dir.path().join("data"),
            upload_dir: dir.path().join("data/uploads"),
            ..Config::default()
        };
        adjust(&mut config);
        let server = Server::start(config.clone()).await.expect("server starts");
        Some(Self {
            base: format!("http://{}", server.http_addr),
            socket_addr: server.socket_addr,
            metrics_addr: server.metrics_addr,
            server: Some(server),
            process: None,
            backend,
            http: reqwest::Client::new(),
            config,
            database_url,
            _dir: dir,
        })
    }

    /// Starts the real `kith-server` binary as a child process on a fresh database.
    pub async fn spawn_process(backend: Backend) -> Option<Self> {
        Self::spawn_process_with(backend, |_| {}).await
    }

    /// Starts the real `kith-server` binary after `adjust` has changed its configuration (of
    /// which the child is given the ports, the database, the folders, MESSAGE_BURST,
    /// METRICS_PORT, MULTI_DEVICE, the NATS keys, the sweeper's interval and the files' TTLs).
    pub async fn spawn_process_with(backend: Backend, adjust: impl FnOnce(&mut Config)) -> Option<Self> {
        let database_url = database_url(backend).await?;
        Some(Self::spawn_on(backend, database_url, adjust).await)
    }

    /// Starts the real `kith-server` binary on an existing database, with a data directory
    /// of its own.
    async fn spawn_on(backend: Backend, database_url: String, adjust: impl FnOnce(&mut Config)) -> Self {
        let dir = tempfile::tempdir().expect("temp dir");
        let mut config = Config {
            http_port: 0,
            socket_port: 0,
            database_url: database_url.clone(),
            data_dir: dir.path().join("data"),
            upload_dir: dir.path().join("data/uploads"),
            message_burst: 100_000,
            ..Config::default()
        };
        adjust(&mut config);
        let mut server = Self {
            server: None,
            process: None,
            backend,
            http: reqwest::Client::new(),
            base: String::new(),
            socket_addr: SocketAddr::from(([127, 0, 0, 1], 0)),
            metrics_addr: None,
            config,
            database_url,
            _dir: dir,
        };
        server.respawn().await;
        server
    }

    /// Starts the child process (again) on the same database and data directory.
    pub async fn respawn(&mut self) {
        let metrics_port = self.config.metrics_port.map(|port| port.to_string()).unwrap_or_default();
        let mut child = tokio::process::Command::new(env!("CARGO_BIN_EXE_kith-server"))
            .env("KITH_HTTP_PORT", "0")
            .env("KITH_SOCKET_PORT", "0")
            .env("KITH_DATABASE_URL", &self.config.database_url)
            .env("KITH_DATA_DIR", &self.config.data_dir)
            .env("KITH_UPLOAD_DIR", &self.config.upload_dir)
            .env("KITH_MESSAGE_BURST", self.config.message_burst.to_string())
            .env("KITH_METRICS_PORT", metrics_port)
            .env("KITH_MULTI_DEVICE", self.config.multi_device.to_string())
            .env("KITH_NATS_URL", self.config.nats_url.as_deref().unwrap_or_default())
            .env("KITH_NATS_PREFIX", &self.config.nats_prefix)
            .env("KITH_SWEEP_INTERVAL_SECS", self.config.sweep_interval.as_secs().to_string())
            .env("KITH_UNATTACHED_TTL_SECS", self.config.unattached_ttl.as_secs().to_string())
            .env("KITH_FILE_TTL_SECS", self.config.file_ttl.as_secs().to_string())
            .env("RUST_LOG", "warn")
            .stdout(std::process::Stdio::piped())
            .kill_on_drop(true)
            .spawn()
            .expect("kith-server starts");
        let announced = announced_addresses(&mut child).await;
        self.base = format!("http://{}", announced.http);
        self.socket_addr = announced.socket;
        self.metrics_addr = announced.metrics;
        self.process = Some(child);
    }

    /// Kills the child process with SIGKILL: no shutdown, no flush.
    pub async fn kill(&mut self) {
        if let Some(mut child) = self.process.take() {
            child.kill().await.expect("kill");
        }
    }

    /// The URL of this test's database (empty for SQLite's default file).
    pub fn database_url(&self) -> &str {
        &self.database_url
    }

    /// Shuts the server down cleanly and removes its database.
    pub async fn stop(mut self) {
        self.kill().await;
        if let Some(server) = self.server.take() {
            server.shutdown().await;
        }
        drop_database(self.backend, &self.database_url).await;
    }

    /// Sends a request with an optional bearer token and JSON body; returns the status and
    /// the JSON answer (Null when there is none).
    pub async fn request(
        &self,
        method: Method,
        path: &str,
        token: Option<&str>,
        body: Option<Value>,
    ) -> (StatusCode, Value) {
        let mut req = self.http.request(method, format!("{}{path}", self.base));
        if let Some(token) = token {
            req = req.bearer_auth(token);
        }
        if let Some(body) = body {
            req = req.json(&body);
        }
        let res = tokio::time::timeout(PATIENCE, req.send())
            .await
            .expect("HTTP answer in time")
            .expect("HTTP request");
        let status = res.status();
        let bytes = res.bytes().await.expect("HTTP body");
        let value = if bytes.is_empty() {
            Value::Null
        } else {
            serde_json::from_slice(&bytes).unwrap_or(Value::Null)
        };
        (status, value)
    }

    pub async fn post(&self, path: &str, token: Option<&str>, body: Value) -> (StatusCode, Value) {
        self.request(Method::POST, path, token, Some(body)).await
    }

    pub async fn get(&self, path: &str, token: &str) -> (StatusCode, Value) {
        self.request(Method::GET, path, Some(token), None).await
    }

    /// Registers `name` (display name: the name capitalised) with [`PASSWORD`].
    pub async fn register(&self, name: &str) -> UserProfile {
        let (status, body) = self
            .post(
                "/api/register",
                None,
                json!({"username": name, "display_name": display_name(name), "password": PASSWORD}),
            )
            .await;
        assert_eq!(status, StatusCode::CREATED, "register {name}: {body}");
        serde_json::from_value(body).expect("profile")
    }

    pub async fn login(&self, name: &str) -> LoginResponse {
        let (status, body) =
            self.post("/api/login", None, json!({"username": name, "password": PASSWORD})).await;
        assert_eq!(status, StatusCode::OK, "login {name}: {body}");
        serde_json::from_value(body).expect("login response")
    }

    /// Registers and logs in.
    pub async fn user(&self, name: &str) -> LoginResponse {
        self.register(name).await;
        self.login(name).await
    }

    /// A raw TCP connection to the socket port.
    pub async fn raw_socket(&self) -> TcpStream {
        TcpStream::connect(self.socket_addr).await.expect("connect to socket")
    }

    /// A socket that has said hello with `token` and received its welcome and sync state
    /// (kept in `TestSocket::sync`).
    pub async fn connect(&self, token: &str) -> TestSocket {
        TestSocket::hello(TestSocket::new(self.raw_socket().await), token).await
    }

    /// Makes two users friends through the API (a request and its acceptance).
    pub async fn befriend(&self, a: &LoginResponse, b: &LoginResponse) -> i64 {
        let (status, body) = self
            .post("/api/friend-requests", Some(&a.token), json!({"to": b.user.id, "message": "hi"}))
            .await;
        assert_eq!(status, StatusCode::CREATED, "{body}");
        let id = body["request"]["id"].as_i64().expect("request id");
        let (status, body) =
            self.post(&format!("/api/friend-requests/{id}/accept"), Some(&b.token), json!({})).await;
        assert_eq!(status, StatusCode::OK, "{body}");
        body["conversation_id"].as_i64().expect("conversation id")
    }

    /// Creates a group owned by `owner`; returns its id (also its conversation's).
    pub async fn group(&self, owner: &LoginResponse, name: &str) -> i64 {
        let (status, body) =
            self.post("/api/groups", Some(&owner.token), json!({"name": name, "description": ""})).await;
        assert_eq!(status, StatusCode::CREATED, "{body}");
        body["group"]["id"].as_i64().expect("group id")
    }

    /// Alice, Bob and Carol, and the group "Climbers" that Alice owns and the other two joined.
    pub async fn climbers(&self) -> (LoginResponse, LoginResponse, LoginResponse, i64) {
        let alice = self.user("alice").await;
        let bob = self.user("bob").await;
        let carol = self.user("carol").await;
        let group = self.group(&alice, "Climbers").await;
        self.join(&alice, &bob, group).await;
        self.join(&alice, &carol, group).await;
        (alice, bob, carol, group)
    }

    /// `user` applies to join `group` and its owner accepts.
    pub async fn join(&self, owner: &LoginResponse, user: &LoginResponse, group: i64) {
        let (status, body) = self
            .post(&format!("/api/groups/{group}/applications"), Some(&user.token), json!({"message": "hi"}))
            .await;
        assert_eq!(status, StatusCode::CREATED, "{body}");
        let id = body["id"].as_i64().expect("request id");
        let (status, body) =
            self.post(&format!("/api/group-requests/{id}/accept"), Some(&owner.token), json!({})).await;
        assert_eq!(status, StatusCode::NO_CONTENT, "{body}");
    }

    /// Message `seq` of a conversation as `token`'s holder reads it in history.
    pub async fn message(&self, token: &str, conversation_id: i64, seq: i64) -> Option<ChatMessage> {
        let path = format!("/api/conversations/{conversation_id}/messages?after={}&limit=1", seq - 1);
        let (status, page) = self.get(&path, token).await;
        assert_eq!(status, StatusCode::OK, "{page}");
        let messages: Vec<ChatMessage> = serde_json::from_value(page["messages"].clone()).expect("messages");
        messages.into_iter().find(|m| m.seq == seq)
    }
}

/// The NATS server the cluster tests use (KITH_TEST_NATS_URL, by default the development
/// machines' nats://127.0.0.1:4222), or None (said loudly) when nothing answers there. In CI
/// an absent NATS fails the test instead.
pub async fn nats_url() -> Option<String> {
    let url = std::env::var("KITH_TEST_NATS_URL").unwrap_or_else(|_| "nats://127.0.0.1:4222".to_owned());
    let address = url.trim_start_matches("nats://").to_owned();
    let reachable = tokio::time::timeout(Duration::from_secs(2), TcpStream::connect(&address)).await;
    if matches!(reachable, Ok(Ok(_))) {
        return Some(url);
    }
    if std::env::var("CI").is_ok() {
        panic!("no NATS answers at {url}: CI must run the cluster tests");
    }
    eprintln!("SKIPPED: no NATS answers at {url} (set KITH_TEST_NATS_URL)");
    None
}

/// Several `kith-server` processes (nodes) on one fresh database and one NATS, under a
/// NATS subject prefix of their own so that tests running at once do not mix.
pub struct TestCluster {
    pub nodes: Vec<TestServer>,
    backend: Backend,
    database_url: String,
}

impl TestCluster {
    /// Starts `count` nodes, or None (said loudly) when the backend or NATS is absent.
    pub async fn start(backend: Backend, count: usize) -> Option<Self> {
        Self::start_with(backend, count, |_| {}).await
    }

    /// Starts `count` nodes after `adjust` has changed each one's configuration.
    pub async fn start_with(backend: Backend, count: usize, adjust: impl Fn(&mut Config)) -> Option<Self> {
        let nats = nats_url().await?;
        Self::start_on(backend, count, &nats, adjust).await
    }

    /// Starts `count` nodes on the NATS server at `nats`, or None (said loudly) when the
    /// backend is absent.
    pub async fn start_on(
        backend: Backend,
        count: usize,
        nats: &str,
        adjust: impl Fn(&mut Config),
    ) -> Option<Self> {
        let database_url = database_url(backend).await?;
        let prefix = format!("kith_t_{}", uuid::Uuid::new_v4().simple());
        let mut nodes = Vec::with_capacity(count);
        for _ in 0..count {
            let node = TestServer::spawn_on(backend, database_url.clone(), |config| {
                config.nats_url = Some(nats.to_owned());
                config.nats_prefix = prefix.clone();
                adjust(config);
            })
            .await;
            nodes.push(node);
        }
        Some(Self { nodes, backend, database_url })
    }

    /// Kills every node and removes the database.
    pub async fn stop(mut self) {
        for node in &mut self.nodes {
            node.kill().await;
        }
        drop_database(self.backend, &self.database_url).await;
    }
}

/// The addresses a `kith-server` process announces.
#[derive(Debug, Clone, Copy)]
pub struct Announced {
    pub http: SocketAddr,
    pub socket: SocketAddr,
    pub metrics: Option<SocketAddr>,
}

/// The addresses a `kith-server` process prints as its first line ("kith-server: HTTP on
/// ADDR, socket on ADDR", then ", metrics on ADDR" with METRICS_PORT); its stdout must be
/// piped.
pub async fn announced_addresses(child: &mut tokio::process::Child) -> Announced {
    use tokio::io::AsyncBufReadExt;
    let stdout = child.stdout.take().expect("stdout");
    let line = tokio::time::timeout(PATIENCE, tokio::io::BufReader::new(stdout).lines().next_line())
        .await
        .expect("kith-server announces its ports in time")
        .expect("read stdout")
        .expect("a line");
    let addrs: Vec<SocketAddr> =
        line.split_whitespace().filter_map(|w| w.trim_end_matches(',').parse().ok()).collect();
    match addrs[..] {
        [http, socket] => Announced { http, socket, metrics: None },
        [http, socket, metrics] if line.contains("metrics on") => {
            Announced { http, socket, metrics: Some(metrics) }
        }
        _ => panic!("unexpected first line: {line}"),
    }
}

pub fn display_name(name: &str) -> String {
    let mut chars = name.chars();
    chars.next().map(|c| c.to_uppercase().chain(chars).collect()).unwrap_or_default()
}

/// A byte stream a test socket runs over: TCP, or TLS over TCP.
pub trait Stream: AsyncRead + AsyncWrite + Unpin + Send {}
impl<S: AsyncRead + AsyncWrite + Unpin + Send> Stream for S {}

/// One end of a socket, speaking frames.
pub struct TestSocket {
    pub framed: Framed<Box<dyn Stream>, FrameCodec<ServerFrame>>,
    /// The `sync_state` received on connect.
    pub sync: Option<ServerFrame>,
}

impl TestSocket {
    pub fn new(stream: TcpStream) -> Self {
        Self::over(stream)
    }

    /// A socket over any stream (a TLS client stream, say).
    pub fn over(stream: impl Stream + 'static) -> Self {
        Self { framed: Framed::new(Box::new(stream), FrameCodec::new(1 << 20)), sync: None }
    }

    /// Says hello with `token` and receives the welcome and the sync state (kept in `sync`).
    pub async fn hello(mut self, token: &str) -> Self {
        self.send(&ClientFrame::Hello { version: PROTOCOL_VERSION, token: token.to_owned() }).await;
        match self.recv().await {
            ServerFrame::Welcome { .. } => {}
            other => panic!("expected welcome, got {other:?}"),
        }
        match self.recv().await {
            sync @ ServerFrame::SyncState { .. } => self.sync = Some(sync),
            other => panic!("expected sync_state, got {other:?}"),
        }
        self
    }

    /// Receives until a frame matches `wanted`, skipping others; returns the match.
    pub async fn expect(&mut self, what: &str, wanted: impl Fn(&ServerFrame) -> bool) -> ServerFrame {
        let deadline = tokio::time::Instant::now() + PATIENCE;
        loop {
            let frame = tokio::time::timeout_at(deadline, self.recv())
                .await
                .unwrap_or_else(|_| panic!("no {what} arrived in time"));
            if wanted(&frame) {
                return frame;
            }
        }
    }

    /// Sends a text message and waits for its ack; returns (conversation_id, seq).
    pub async fn send_text(&mut self, to: kith_shared::frame::Target, text: &str) -> (i64, i64) {
        let client_id = uuid::Uuid::new_v4().to_string();
        self.send(&ClientFrame::Send {
            client_id: client_id.clone(),
            to,
            content: kith_shared::frame::Content::text(text),
        })
        .await;
        match self.expect("ack", |f| matches!(f, ServerFrame::Ack { client_id: c, .. } | ServerFrame::Error { reference: Some(c), .. } if *c == client_id)).await {
            ServerFrame::Ack { conversation_id, seq, .. } => (conversation_id, seq),
            other => panic!("send refused: {other:?}"),
        }
    }

    /// Waits for the answer to the frame sent with `client_id`: the ack's (conversation, seq),
    /// or the refusal's code.
    pub async fn answer(&mut self, client_id: &str) -> Result<(i64, i64), ErrorCode> {
        let wanted = |f: &ServerFrame| matches!(f, ServerFrame::Ack { client_id: c, .. } | ServerFrame::Error { reference: Some(c), .. } if c == client_id);
        match self.expect("ack or error", wanted).await {
            ServerFrame::Ack { conversation_id, seq, .. } => Ok((conversation_id, seq)),
            ServerFrame::Error { code, .. } => Err(code),
            _ => unreachable!(),
        }
    }

    /// Waits for a pushed message that matches `wanted`, skipping other frames.
    pub async fn pushed(&mut self, what: &str, wanted: impl Fn(&ChatMessage) -> bool) -> ChatMessage {
        match self.expect(what, |f| matches!(f, ServerFrame::Message { message } if wanted(message))).await {
            ServerFrame::Message { message } => message,
            _ => unreachable!(),
        }
    }

    pub async fn send(&mut self, frame: &ClientFrame) {
        self.framed.send(to_json(frame)).await.expect("send frame");
    }

    /// The next frame that is not a server ping (pings are answered).
    pub async fn recv(&mut self) -> ServerFrame {
        loop {
            let next = tokio::time::timeout(PATIENCE, self.framed.next()).await.expect("a frame in time");
            match next {
                Some(Ok(Ok(ServerFrame::Ping { nonce }))) => self.send(&ClientFrame::Pong { nonce }).await,
                Some(Ok(Ok(frame))) => return frame,
                Some(Ok(Err(bad))) => panic!("server sent a bad frame: {bad}"),
                Some(Err(err)) => panic!("socket error: {err}"),
                None => panic!("socket closed while waiting for a frame"),
            }
        }
    }

    /// The next frame that is not a server ping (pings are answered), or None when the
    /// server closes the connection.
    pub async fn closed_or_next(&mut self) -> Option<ServerFrame> {
        loop {
            let next = tokio::time::timeout(PATIENCE, self.framed.next()).await.expect("a frame in time");
            match next {
                Some(Ok(Ok(ServerFrame::Ping { nonce }))) => self.send(&ClientFrame::Pong { nonce }).await,
                Some(Ok(Ok(frame))) => return Some(frame),
                Some(Ok(Err(bad))) => panic!("server sent a bad frame: {bad}"),
                Some(Err(_)) | None => return None,
            }
        }
    }

    /// Waits for the server to close the connection, returning the frames received first.
    pub async fn closed(&mut self) -> Vec<ServerFrame> {
        let mut frames = Vec::new();
        loop {
            match tokio::time::timeout(PATIENCE, self.framed.next()).await.expect("close in time") {
                Some(Ok(Ok(frame))) => frames.push(frame),
                Some(Ok(Err(bad))) => panic!("server sent a bad frame: {bad}"),
                Some(Err(_)) | None => return frames,
            }
        }
    }

    /// Pings, and returns every frame that arrived before the pong (everything the server
    /// had queued for this connection until then).
    pub async fn frames_until_pong(&mut self) -> Vec<ServerFrame> {
        self.send(&ClientFrame::Ping { nonce: 777 }).await;
        let mut frames = Vec::new();
        loop {
            match self.recv().await {
                ServerFrame::Pong { nonce: 777 } => return frames,
                frame => frames.push(frame),
            }
        }
    }

    /// Pings and expects the pong: proof the connection still works.
    pub async fn assert_alive(&mut self) {
        self.send(&ClientFrame::Ping { nonce: 4242 }).await;
        self.expect("pong", |f| matches!(f, ServerFrame::Pong { nonce: 4242 })).await;
    }
}

/// The error code in an HTTP error body.
pub fn code(body: &Value) -> &str {
    body["code"].as_str().unwrap_or("<no code>")
}

/// A PNG chunk with its CRC.
pub fn png_chunk(kind: &[u8; 4], data: &[u8]) -> Vec<u8> {
    let mut crc = 0xFFFF_FFFFu32;
    for &byte in kind.iter().chain(data) {
        crc ^= u32::from(byte);
        for _ in 0..8 {
            crc = if crc & 1 != 0 { (crc >> 1) ^ 0xEDB8_8320 } else { crc >> 1 };
        }
    }
    [&(data.len() as u32).to_be_bytes()[..], kind, data, &(!crc).to_be_bytes()].concat()
}

/// A tiny PNG whose header claims `width` x `height` RGBA pixels.
pub fn png_claiming(width: u32, height: u32) -> Vec<u8> {
    let mut ihdr = Vec::new();
    ihdr.extend_from_slice(&width.to_be_bytes());
    ihdr.extend_from_slice(&height.to_be_bytes());
    ihdr.extend_from_slice(&[8, 6, 0, 0, 0]);
    [
        b"\x89PNG\r\n\x1a\n".to_vec(),
        png_chunk(b"IHDR", &ihdr),
        png_chunk(b"IDAT", &[0x78, 0x9c, 0x03, 0x00, 0x00, 0x00, 0x00, 0x01]),
        png_chunk(b"IEND", &[]),
    ]
    .concat()
}

/// Runs `race(main, laptop_node, phone_node)` on one server (several devices per user, no
/// send limit), every role on it.
pub async fn race_on_one_node(backend: Backend, race: impl AsyncFn(&TestServer, &TestServer, &TestServer)) {
    let Some(server) = TestServer::start_with(backend, |c| {
        c.multi_device = true;
        c.message_burst = 100_000;
    })
    .await
    else {
        return;
    };
    race(&server, &server, &server).await;
    server.stop().await;
}

/// Runs `race(main, laptop_node, phone_node)` on a cluster of two: the phone on the second node.
pub async fn race_on_two_nodes(backend: Backend, race: impl AsyncFn(&TestServer, &TestServer, &TestServer)) {
    let Some(cluster) = TestCluster::start_with(backend, 2, |c| {
        c.multi_device = true;
        c.message_burst = 100_000;
    })
    .await
    else {
        return;
    };
    let [a, b] = &cluster.nodes[..] else { unreachable!("two nodes") };
    race(a, a, b).await;
    cluster.stop().await;
}

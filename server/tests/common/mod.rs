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
use kith_shared::{ClientFrame, PROTOCOL_VERSION, ServerFrame};
use reqwest::{Method, StatusCode};
use serde_json::{Value, json};
use sqlx::Connection;
use std::net::SocketAddr;
use std::time::Duration;
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
    let sql = sqlx::AssertSqlSafe(format!("DROP DATABASE IF EXISTS {name}"));
    match backend {
        Backend::Postgres => {
            if let Ok(mut conn) = sqlx::PgConnection::connect(&base).await {
                let _ = sqlx::raw_sql(sql).execute(&mut conn).await;
            }
        }
        Backend::MySql => {
            if let Ok(mut conn) = sqlx::MySqlConnection::connect(&base).await {
                let _ = sqlx::raw_sql(sql).execute(&mut conn).await;
            }
        }
        Backend::Sqlite => {}
    }
}

pub struct TestServer {
    pub server: Option<Server>,
    pub backend: Backend,
    pub http: reqwest::Client,
    pub base: String,
    pub socket_addr: SocketAddr,
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
            server: Some(server),
            backend,
            http: reqwest::Client::new(),
            config,
            database_url,
            _dir: dir,
        })
    }

    /// Shuts the server down cleanly and removes its database.
    pub async fn stop(mut self) {
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

    /// A socket that has said hello with `token` and received its welcome.
    pub async fn connect(&self, token: &str) -> TestSocket {
        let mut socket = TestSocket::new(self.raw_socket().await);
        socket.send(&ClientFrame::Hello { version: PROTOCOL_VERSION, token: token.to_owned() }).await;
        match socket.recv().await {
            ServerFrame::Welcome { .. } => socket,
            other => panic!("expected welcome, got {other:?}"),
        }
    }
}

pub fn display_name(name: &str) -> String {
    let mut chars = name.chars();
    chars.next().map(|c| c.to_uppercase().chain(chars).collect()).unwrap_or_default()
}

/// One end of a socket, speaking frames.
pub struct TestSocket {
    pub framed: Framed<TcpStream, FrameCodec<ServerFrame>>,
}

impl TestSocket {
    pub fn new(stream: TcpStream) -> Self {
        Self { framed: Framed::new(stream, FrameCodec::new(1 << 20)) }
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

    /// Pings and expects the pong: proof the connection still works.
    pub async fn assert_alive(&mut self) {
        self.send(&ClientFrame::Ping { nonce: 4242 }).await;
        loop {
            match self.recv().await {
                ServerFrame::Pong { nonce: 4242 } => return,
                ServerFrame::Pong { .. } => continue,
                other => panic!("expected pong, got {other:?}"),
            }
        }
    }
}

/// The error code in an HTTP error body.
pub fn code(body: &Value) -> &str {
    body["code"].as_str().unwrap_or("<no code>")
}

//! HAProxy in front of a test cluster: the configuration documented in docs/haproxy.cfg, its
//! addresses replaced by loopback ones, run by the Debian package's `haproxy`.

use crate::common::{PASSWORD, PATIENCE, TestServer, display_name};
use crate::roaming::Door;
use kith_shared::api::LoginResponse;
use reqwest::StatusCode;
use serde_json::{Value, json};
use std::net::SocketAddr;
use std::time::Duration;
use tokio::process::{Child, Command};

/// The documented configuration.
const DOCUMENTED: &str = include_str!("../../../docs/haproxy.cfg");

/// Where the Debian package puts the binary; otherwise it is looked for on PATH.
const DEBIAN_BINARY: &str = "/usr/sbin/haproxy";

pub struct Front {
    /// The one address clients use.
    pub door: Door,
    http: reqwest::Client,
    _process: Child,
    _dir: tempfile::TempDir,
}

impl Front {
    /// Starts HAProxy in front of three nodes once it answers, or None (said loudly) when it
    /// is not installed. In CI a missing binary fails the test instead.
    pub async fn start(nodes: &[TestServer]) -> Option<Self> {
        let binary = if std::path::Path::new(DEBIAN_BINARY).exists() {
            DEBIAN_BINARY
        } else if std::process::Command::new("haproxy").arg("-v").output().is_ok() {
            "haproxy"
        } else {
            if std::env::var("CI").is_ok() {
                panic!("haproxy is not installed: CI must test the documented front");
            }
            eprintln!("SKIPPED: haproxy is not installed (apt-get install haproxy)");
            return None;
        };
        let (http, socket) = (free_port(), free_port());
        let config = configure(nodes, http, socket);
        let dir = tempfile::tempdir().expect("temp dir");
        let path = dir.path().join("haproxy.cfg");
        std::fs::write(&path, config).expect("write haproxy.cfg");
        let process = Command::new(binary)
            .arg("-f")
            .arg(&path)
            .arg("-db")
            .stdout(std::process::Stdio::null())
            .stderr(std::process::Stdio::null())
            .kill_on_drop(true)
            .spawn()
            .expect("haproxy starts");
        let front = Self {
            door: Door { http: format!("http://{http}"), socket },
            http: reqwest::Client::new(),
            _process: process,
            _dir: dir,
        };
        let deadline = tokio::time::Instant::now() + PATIENCE;
        while front.http.get(format!("{}/health", front.door.http)).send().await.is_err() {
            assert!(tokio::time::Instant::now() < deadline, "haproxy did not answer in time");
            tokio::time::sleep(Duration::from_millis(50)).await;
        }
        Some(front)
    }

    /// Sends a request through the front; the status and the JSON answer (Null when none).
    pub async fn post(&self, path: &str, token: Option<&str>, body: Value) -> (StatusCode, Value) {
        let mut request = self.http.post(format!("{}{path}", self.door.http)).json(&body);
        if let Some(token) = token {
            request = request.bearer_auth(token);
        }
        let response = tokio::time::timeout(PATIENCE, request.send())
            .await
            .expect("an answer in time")
            .expect("an HTTP answer through the front");
        let status = response.status();
        (status, response.json().await.unwrap_or(Value::Null))
    }

    /// Registers `name` and logs in, through the front.
    pub async fn user(&self, name: &str) -> LoginResponse {
        let account = json!({"username": name, "display_name": display_name(name), "password": PASSWORD});
        let (status, body) = self.post("/api/register", None, account).await;
        assert_eq!(status, StatusCode::CREATED, "{body}");
        let (status, body) =
            self.post("/api/login", None, json!({"username": name, "password": PASSWORD})).await;
        assert_eq!(status, StatusCode::OK, "{body}");
        serde_json::from_value(body).expect("login response")
    }

    /// Makes two users friends through the front; returns their conversation.
    pub async fn befriend(&self, a: &LoginResponse, b: &LoginResponse) -> i64 {
        let request = json!({"to": b.user.id, "message": "hi"});
        let (status, body) = self.post("/api/friend-requests", Some(&a.token), request).await;
        assert_eq!(status, StatusCode::CREATED, "{body}");
        let id = body["request"]["id"].as_i64().expect("request id");
        let (status, body) =
            self.post(&format!("/api/friend-requests/{id}/accept"), Some(&b.token), json!({})).await;
        assert_eq!(status, StatusCode::OK, "{body}");
        body["conversation_id"].as_i64().expect("conversation id")
    }
}

/// The documented configuration with the front on `http` and `socket` and the three nodes'
/// loopback addresses; every address it names must be replaced.
fn configure(nodes: &[TestServer], http: SocketAddr, socket: SocketAddr) -> String {
    let mut config = DOCUMENTED.to_owned();
    let mut replace = |from: String, to: String| {
        assert!(config.contains(&from), "docs/haproxy.cfg no longer says `{from}`");
        config = config.replace(&from, &to);
    };
    replace("bind :8000".into(), format!("bind {http}"));
    replace("bind :9000".into(), format!("bind {socket}"));
    for (i, node) in nodes.iter().enumerate() {
        let documented = format!("10.0.0.1{}", i + 1);
        let node_http = node.base.trim_start_matches("http://").to_owned();
        let http_port = node_http.rsplit(':').next().expect("a port").to_owned();
        replace(
            format!("{documented}:9000 check port 8000"),
            format!("{} check port {http_port}", node.socket_addr),
        );
        replace(format!("{documented}:8000 check"), format!("{node_http} check"));
    }
    assert!(!config.contains("10.0.0."), "an address of docs/haproxy.cfg was left: {config}");
    config
}

fn free_port() -> SocketAddr {
    let listener = std::net::TcpListener::bind("127.0.0.1:0").expect("a free port");
    listener.local_addr().expect("its address")
}

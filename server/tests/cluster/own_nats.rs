//! A NATS server of the test's own (`nats-server`, the Debian package), on a loopback port it
//! keeps across restarts, so that a test can take it away and bring it back under load.

use crate::common::PATIENCE;
use std::net::SocketAddr;
use std::time::Duration;
use tokio::net::TcpStream;
use tokio::process::{Child, Command};

/// Where the Debian package puts the binary; otherwise it is looked for on PATH.
const DEBIAN_BINARY: &str = "/usr/sbin/nats-server";

pub struct OwnNats {
    binary: String,
    address: SocketAddr,
    child: Option<Child>,
}

impl OwnNats {
    /// Starts `nats-server` on a free loopback port, or None (said loudly) when it is not
    /// installed. In CI a missing binary fails the test instead.
    pub async fn start() -> Option<Self> {
        let binary = if std::path::Path::new(DEBIAN_BINARY).exists() {
            DEBIAN_BINARY.to_owned()
        } else if std::process::Command::new("nats-server").arg("--version").output().is_ok() {
            "nats-server".to_owned()
        } else {
            if std::env::var("CI").is_ok() {
                panic!("nats-server is not installed: CI must run the NATS restart test");
            }
            eprintln!("SKIPPED: nats-server is not installed (apt-get install nats-server)");
            return None;
        };
        let free = std::net::TcpListener::bind("127.0.0.1:0").expect("a free port");
        let address = free.local_addr().expect("its address");
        drop(free);
        let mut nats = Self { binary, address, child: None };
        nats.restart().await;
        Some(nats)
    }

    pub fn url(&self) -> String {
        format!("nats://{}", self.address)
    }

    /// Kills the server (SIGKILL) and waits until its port refuses connections.
    pub async fn kill(&mut self) {
        if let Some(mut child) = self.child.take() {
            child.kill().await.expect("kill nats-server");
        }
        self.wait_until(false).await;
    }

    /// Starts the server (again) on the same port and waits until it answers.
    pub async fn restart(&mut self) {
        let child = Command::new(&self.binary)
            .args(["-a", "127.0.0.1", "-p", &self.address.port().to_string()])
            .stdout(std::process::Stdio::null())
            .stderr(std::process::Stdio::null())
            .kill_on_drop(true)
            .spawn()
            .expect("nats-server starts");
        self.child = Some(child);
        self.wait_until(true).await;
    }

    async fn wait_until(&self, answering: bool) {
        let deadline = tokio::time::Instant::now() + PATIENCE;
        while TcpStream::connect(self.address).await.is_ok() != answering {
            assert!(
                tokio::time::Instant::now() < deadline,
                "nats-server at {} did not change in time",
                self.address
            );
            tokio::time::sleep(Duration::from_millis(20)).await;
        }
    }
}

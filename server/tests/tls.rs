//! TLS on both listeners: a configured certificate (signed by a test CA made here), the
//! self-signed certificate of a first start, reloading without a restart, and handshakes
//! that never finish.

mod common;

use common::{Backend, PATIENCE, TestServer, TestSocket};
use kith_server::config::{Config, TlsMode};
use kith_server::tls::{SELF_SIGNED_CERT, fingerprint};
use kith_shared::frame::{Content, Target};
use kith_shared::{ClientFrame, PROTOCOL_VERSION, ServerFrame};
use rcgen::{BasicConstraints, CertificateParams, IsCa, Issuer, KeyPair};
use rustls::pki_types::pem::PemObject;
use rustls::pki_types::{CertificateDer, ServerName};
use std::net::SocketAddr;
use std::path::{Path, PathBuf};
use std::sync::Arc;
use std::time::Duration;
use tokio::io::{AsyncReadExt, AsyncWriteExt};
use tokio::net::TcpStream;
use tokio_rustls::TlsConnector;
use tokio_rustls::client::TlsStream;

backend_tests!(
    https_and_tls_socket_with_a_configured_certificate,
    reload_changes_the_certificate_for_new_connections_only,
);

/// A certificate authority made for one test.
struct TestCa {
    cert: CertificateDer<'static>,
    pem: String,
    issuer: Issuer<'static, KeyPair>,
}

impl TestCa {
    fn new() -> Self {
        let mut params = CertificateParams::new(Vec::new()).expect("no names is valid");
        params.is_ca = IsCa::Ca(BasicConstraints::Unconstrained);
        params.distinguished_name.push(rcgen::DnType::CommonName, "Kith test CA");
        let key = KeyPair::generate().expect("CA key");
        let cert = params.self_signed(&key).expect("CA certificate");
        Self { cert: cert.der().clone(), pem: cert.pem(), issuer: Issuer::new(params, key) }
    }

    /// A server certificate for 127.0.0.1 and localhost, written as PEM into `dir` under
    /// `name`; returns the certificate and key paths and the certificate's fingerprint.
    fn server_certificate(&self, dir: &Path, name: &str) -> (PathBuf, PathBuf, String) {
        let params = CertificateParams::new(vec!["127.0.0.1".to_owned(), "localhost".to_owned()])
            .expect("valid names");
        let key = KeyPair::generate().expect("server key");
        let cert = params.signed_by(&key, &self.issuer).expect("server certificate");
        let (cert_path, key_path) = (dir.join(format!("{name}.crt")), dir.join(format!("{name}.key")));
        // The chain as an operator would have it: the leaf, then the CA.
        std::fs::write(&cert_path, format!("{}{}", cert.pem(), self.pem)).expect("write certificate");
        std::fs::write(&key_path, key.serialize_pem()).expect("write key");
        (cert_path, key_path, fingerprint(cert.der()))
    }

    fn reqwest_certificate(&self) -> reqwest::Certificate {
        reqwest::Certificate::from_der(&self.cert).expect("CA certificate for reqwest")
    }
}

/// An HTTPS client that trusts only `roots` and reports the server's certificate.
fn https_client(roots: impl IntoIterator<Item = reqwest::Certificate>) -> reqwest::Client {
    reqwest::Client::builder()
        .tls_certs_only(roots)
        .tls_info(true)
        .timeout(PATIENCE)
        .build()
        .expect("HTTPS client")
}

/// Fetches `/health` over HTTPS with a fresh client; returns the body and the fingerprint of
/// the certificate the server presented.
async fn https_health(http_addr: SocketAddr, root: reqwest::Certificate) -> (serde_json::Value, String) {
    let response =
        https_client([root]).get(format!("https://{http_addr}/health")).send().await.expect("HTTPS request");
    assert_eq!(response.status(), reqwest::StatusCode::OK);
    let der = response
        .extensions()
        .get::<reqwest::tls::TlsInfo>()
        .and_then(|info| info.peer_certificate())
        .expect("the server's certificate")
        .to_vec();
    (response.json().await.expect("health body"), fingerprint(&der))
}

/// A TLS client set-up that trusts only `root`.
fn trusting(root: &CertificateDer<'static>) -> Arc<rustls::ClientConfig> {
    let mut roots = rustls::RootCertStore::empty();
    roots.add(root.clone()).expect("trust anchor");
    let provider = Arc::new(rustls::crypto::aws_lc_rs::default_provider());
    let config = rustls::ClientConfig::builder_with_provider(provider)
        .with_safe_default_protocol_versions()
        .expect("protocol versions")
        .with_root_certificates(roots)
        .with_no_client_auth();
    Arc::new(config)
}

/// A TLS client connection to the socket that trusts only `root`.
async fn tls_socket(addr: SocketAddr, root: &CertificateDer<'static>) -> TlsStream<TcpStream> {
    let config = trusting(root);
    let tcp = TcpStream::connect(addr).await.expect("connect to the socket");
    let name = ServerName::from(addr.ip());
    tokio::time::timeout(PATIENCE, TlsConnector::from(config).connect(name, tcp))
        .await
        .expect("handshake in time")
        .expect("TLS handshake")
}

/// The fingerprint of the certificate a TLS client connection was shown.
fn seen(stream: &TlsStream<TcpStream>) -> String {
    let certs = stream.get_ref().1.peer_certificates().expect("the server's certificates");
    fingerprint(certs.first().expect("a leaf certificate"))
}

/// Starts a server presenting the certificate at `cert` and `key`, with the test helpers'
/// HTTP client pointed at its HTTPS port.
async fn start_tls(
    backend: Backend,
    ca: &TestCa,
    cert: &Path,
    key: &Path,
    adjust: impl FnOnce(&mut Config),
) -> Option<TestServer> {
    let (cert, key) = (cert.to_owned(), key.to_owned());
    let mut server = TestServer::start_with(backend, |config| {
        config.tls_cert_file = Some(cert);
        config.tls_key_file = Some(key);
        adjust(config);
    })
    .await?;
    let http_addr = server.server.as_ref().expect("in-process server").http_addr;
    server.base = format!("https://{http_addr}");
    server.http = https_client([ca.reqwest_certificate()]);
    Some(server)
}

async fn https_and_tls_socket_with_a_configured_certificate(backend: Backend) {
    let ca = TestCa::new();
    let files = tempfile::tempdir().expect("temp dir");
    let (cert, key, expected) = ca.server_certificate(files.path(), "server");
    let Some(server) = start_tls(backend, &ca, &cert, &key, |_| {}).await else { return };
    let running = server.server.as_ref().expect("in-process server");
    assert_eq!(running.tls_fingerprint().as_deref(), Some(expected.as_str()));

    // HTTPS, trusting the test CA: the API answers and says it speaks TLS.
    let (health, shown) = https_health(running.http_addr, ca.reqwest_certificate()).await;
    assert_eq!(shown, expected);
    assert_eq!(health["tls"], true, "{health}");
    // The test helpers work over HTTPS too.
    let alice = server.user("alice").await;
    let bob = server.user("bob").await;
    server.befriend(&alice, &bob).await;

    // Plain HTTP to the HTTPS port gets no answer.
    let plain = reqwest::Client::builder().timeout(PATIENCE).build().expect("client");
    let refused = plain.get(format!("http://{}/health", running.http_addr)).send().await;
    assert!(refused.is_err(), "plain HTTP on the TLS port answered: {refused:?}");
    // A client that does not trust the CA is refused.
    let stranger = TestCa::new();
    let untrusted =
        https_client([stranger.reqwest_certificate()]).get(format!("{}/health", server.base)).send().await;
    assert!(untrusted.is_err(), "a client not trusting the CA got through: {untrusted:?}");

    // The socket over TLS: hello, welcome, and a message from one TLS client to another.
    let alice_tls = tls_socket(server.socket_addr, &ca.cert).await;
    assert_eq!(seen(&alice_tls), expected);
    let mut alice_socket = TestSocket::over(alice_tls).hello(&alice.token).await;
    let mut bob_socket =
        TestSocket::over(tls_socket(server.socket_addr, &ca.cert).await).hello(&bob.token).await;
    let (conversation_id, seq) = alice_socket.send_text(Target::User { id: bob.user.id }, "over TLS").await;
    match bob_socket.expect("message", |f| matches!(f, ServerFrame::Message { .. })).await {
        ServerFrame::Message { message } => {
            assert_eq!((message.conversation_id, message.seq), (conversation_id, seq));
            assert_eq!(message.sender_id, Some(alice.user.id));
            assert!(
                matches!(&message.content, Content::Text { text, .. } if text == "over TLS"),
                "{message:?}"
            );
        }
        other => panic!("expected the message, got {other:?}"),
    }

    // A plain socket client on the TLS port never gets a welcome.
    let mut plain_socket = TestSocket::new(server.raw_socket().await);
    plain_socket.send(&ClientFrame::Hello { version: PROTOCOL_VERSION, token: alice.token.clone() }).await;
    let mut raw = plain_socket.framed.into_inner();
    let mut answer = Vec::new();
    let _ = tokio::time::timeout(PATIENCE, raw.read_to_end(&mut answer)).await.expect("closed in time");
    assert!(!String::from_utf8_lossy(&answer).contains("welcome"), "a plain client was welcomed");
    alice_socket.assert_alive().await;
    server.stop().await;
}

async fn reload_changes_the_certificate_for_new_connections_only(backend: Backend) {
    let ca = TestCa::new();
    let files = tempfile::tempdir().expect("temp dir");
    let (cert, key, first) = ca.server_certificate(files.path(), "live");
    let Some(server) = start_tls(backend, &ca, &cert, &key, |_| {}).await else { return };
    let running = server.server.as_ref().expect("in-process server");
    let alice = server.user("alice").await;
    let bob = server.user("bob").await;
    let old_tls = tls_socket(server.socket_addr, &ca.cert).await;
    assert_eq!(seen(&old_tls), first);
    let mut old_socket = TestSocket::over(old_tls).hello(&alice.token).await;

    // The operator puts a renewed certificate in place and reloads.
    let (new_cert, new_key, second) = ca.server_certificate(files.path(), "renewed");
    assert_ne!(first, second);
    std::fs::copy(&new_cert, &cert).expect("replace certificate");
    std::fs::copy(&new_key, &key).expect("replace key");
    let reloaded = running.reload_tls().expect("reload succeeds");
    assert_eq!(reloaded.as_deref(), Some(second.as_str()));

    // New connections on both listeners see the new certificate; the old one stays up.
    assert_eq!(seen(&tls_socket(server.socket_addr, &ca.cert).await), second);
    assert_eq!(https_health(running.http_addr, ca.reqwest_certificate()).await.1, second);
    old_socket.assert_alive().await;

    // A broken file (a half-written renewal) is refused and the certificate in use stays.
    std::fs::write(&cert, "-----BEGIN CERTIFICATE-----\nnot base64 at all\n").expect("break certificate");
    assert!(running.reload_tls().is_err(), "a broken certificate file was accepted");
    std::fs::copy(&new_cert, &cert).expect("restore certificate");
    let (foreign_cert, _, _) = ca.server_certificate(files.path(), "foreign");
    std::fs::copy(&foreign_cert, &cert).expect("certificate without its key");
    assert!(running.reload_tls().is_err(), "a certificate with a foreign key was accepted");
    assert_eq!(running.tls_fingerprint().as_deref(), Some(second.as_str()));
    let new_tls = tls_socket(server.socket_addr, &ca.cert).await;
    assert_eq!(seen(&new_tls), second);
    let mut new_socket = TestSocket::over(new_tls).hello(&bob.token).await;
    new_socket.assert_alive().await;
    old_socket.assert_alive().await;
    server.stop().await;
}

/// A connection that never finishes its handshake is closed after the handshake timeout and
/// gives its slot back: with room for one socket connection, a real client gets in after it.
#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_stalled_handshake_cannot_hold_a_slot() {
    let ca = TestCa::new();
    let files = tempfile::tempdir().expect("temp dir");
    let (cert, key, expected) = ca.server_certificate(files.path(), "server");
    let Some(server) = start_tls(Backend::Sqlite, &ca, &cert, &key, |config| {
        config.tls_handshake_timeout = Duration::from_secs(1);
        config.max_connections = 1;
    })
    .await
    else {
        return;
    };
    let running = server.server.as_ref().expect("in-process server");
    for addr in [running.http_addr, server.socket_addr] {
        let mut silent = TcpStream::connect(addr).await.expect("connect");
        let mut buf = [0u8; 16];
        let read = tokio::time::timeout(PATIENCE, silent.read(&mut buf)).await.expect("closed in time");
        assert!(matches!(read, Ok(0) | Err(_)), "a silent peer got bytes: {read:?}");
    }
    // The slot is free again (the silent peer above held it while it lasted).
    let mut silent = TcpStream::connect(server.socket_addr).await.expect("connect");
    let client = tls_socket(server.socket_addr, &ca.cert).await;
    assert_eq!(seen(&client), expected);
    let mut buf = [0u8; 16];
    let read = tokio::time::timeout(PATIENCE, silent.read(&mut buf)).await.expect("closed in time");
    assert!(matches!(read, Ok(0) | Err(_)), "a silent peer got bytes: {read:?}");
    server.stop().await;
}

/// With `TLS = on` and no certificate, the first start makes a self-signed certificate in
/// DATA_DIR, presents it on both listeners and logs its fingerprint; the next start reuses it.
#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn first_start_makes_a_self_signed_certificate_and_reuses_it() {
    let data = tempfile::tempdir().expect("temp dir");
    let data_dir = data.path().to_owned();
    let start = || {
        let data_dir = data_dir.clone();
        TestServer::start_with(Backend::Sqlite, move |config| {
            config.tls = TlsMode::On;
            config.upload_dir = data_dir.join("uploads");
            config.data_dir = data_dir;
        })
    };
    let server = start().await.expect("SQLite always runs");
    let running = server.server.as_ref().expect("in-process server");
    let file = data_dir.join(SELF_SIGNED_CERT);
    let der = CertificateDer::from_pem_file(&file).expect("the certificate is in DATA_DIR");
    let made = fingerprint(&der);
    assert_eq!(running.tls_fingerprint().as_deref(), Some(made.as_str()));
    assert_eq!(made.len(), 32 * 3 - 1, "{made}");

    // A client pinning that certificate sees the same fingerprint on both listeners.
    assert_eq!(seen(&tls_socket(server.socket_addr, &der).await), made);
    let pinned = reqwest::Certificate::from_der(&der).expect("certificate");
    let (health, shown) = https_health(running.http_addr, pinned).await;
    assert_eq!(shown, made);
    assert_eq!(health["tls"], true);
    server.stop().await;

    let again = start().await.expect("SQLite always runs");
    assert_eq!(again.server.as_ref().expect("in-process server").tls_fingerprint(), Some(made));
    again.stop().await;
}

/// On a loopback address without a certificate the server speaks clear text, and says so.
#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn loopback_without_a_certificate_stays_clear_text() {
    let server = TestServer::start(Backend::Sqlite).await.expect("SQLite always runs");
    let running = server.server.as_ref().expect("in-process server");
    assert_eq!(running.tls_fingerprint(), None);
    assert_eq!(running.reload_tls().ok(), Some(None));
    let response = reqwest::get(format!("{}/health", server.base)).await.expect("plain HTTP");
    let health: serde_json::Value = response.json().await.expect("health body");
    assert_eq!(health["tls"], false, "{health}");
    assert!(!server.config.data_dir.join(SELF_SIGNED_CERT).exists(), "no certificate is made");
    server.stop().await;
}

/// The real binary reloads its certificate on SIGHUP and keeps running.
#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn sighup_reloads_the_certificate_of_the_running_binary() {
    let data = tempfile::tempdir().expect("temp dir");
    let mut child = tokio::process::Command::new(env!("CARGO_BIN_EXE_kith-server"))
        .env("KITH_HTTP_PORT", "0")
        .env("KITH_SOCKET_PORT", "0")
        .env("KITH_DATABASE_URL", "")
        .env("KITH_DATA_DIR", data.path())
        .env("KITH_UPLOAD_DIR", data.path().join("uploads"))
        .env("KITH_TLS", "on")
        .env("RUST_LOG", "warn")
        .stdout(std::process::Stdio::piped())
        .kill_on_drop(true)
        .spawn()
        .expect("kith-server starts");
    let socket_addr = common::announced_addresses(&mut child).await.socket;

    let cert = data.path().join(SELF_SIGNED_CERT);
    let made = CertificateDer::from_pem_file(&cert).expect("the self-signed certificate");
    let old = tls_socket(socket_addr, &made).await;
    assert_eq!(seen(&old), fingerprint(&made));

    // Replace the files with a certificate from a CA and send SIGHUP.
    let ca = TestCa::new();
    let (new_cert, new_key, expected) = ca.server_certificate(data.path(), "renewed");
    std::fs::copy(&new_cert, &cert).expect("replace certificate");
    std::fs::copy(&new_key, data.path().join(kith_server::tls::SELF_SIGNED_KEY)).expect("replace key");
    let pid = child.id().expect("the child is running").to_string();
    let status = std::process::Command::new("kill").args(["-HUP", &pid]).status().expect("kill runs");
    assert!(status.success(), "kill -HUP failed");

    // The signal is handled asynchronously: poll, bounded, until a new handshake shows it.
    let deadline = tokio::time::Instant::now() + PATIENCE;
    loop {
        let config = trusting(&ca.cert);
        let tcp = TcpStream::connect(socket_addr).await.expect("the server still listens after SIGHUP");
        let name = ServerName::from(socket_addr.ip());
        if let Ok(stream) = TlsConnector::from(config).connect(name, tcp).await {
            assert_eq!(seen(&stream), expected);
            break;
        }
        assert!(tokio::time::Instant::now() < deadline, "the new certificate never appeared");
        tokio::time::sleep(Duration::from_millis(100)).await;
    }
    assert!(child.try_wait().expect("child status").is_none(), "SIGHUP stopped the server");
    child.kill().await.expect("kill");
}

/// What a broken or hostile peer may send instead of a TLS handshake: a clear-text hello, a
/// clear-text HTTP request, half a ClientHello, a record that is not TLS, and 1,000
/// connections that open and say nothing. Each is closed (the silent ones after the handshake
/// timeout) while a client already connected and a new one are served as usual.
#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn bad_handshakes_are_closed_and_everyone_else_is_served() {
    let ca = TestCa::new();
    let files = tempfile::tempdir().expect("temp dir");
    let (cert, key, _) = ca.server_certificate(files.path(), "server");
    let Some(server) = start_tls(Backend::Sqlite, &ca, &cert, &key, |config| {
        config.tls_handshake_timeout = Duration::from_secs(2)
    })
    .await
    else {
        return;
    };
    let alice = server.user("alice").await;
    let bob = server.user("bob").await;
    let mut connected =
        TestSocket::over(tls_socket(server.socket_addr, &ca.cert).await).hello(&alice.token).await;
    let http_addr = server.server.as_ref().expect("in-process server").http_addr;

    let hello = kith_shared::codec::to_json(&ClientFrame::Hello {
        version: PROTOCOL_VERSION,
        token: alice.token.clone(),
    });
    let mut clear_hello = (hello.len() as u32).to_be_bytes().to_vec();
    clear_hello.extend_from_slice(&hello);
    // The first bytes of a TLS 1.2 ClientHello record announcing 512 bytes, then nothing more.
    let half_hello = vec![0x16, 0x03, 0x01, 0x02, 0x00, 0x01, 0x00, 0x01, 0xfc, 0x03, 0x03];
    let not_tls = b"\x17\x03\x03\x00\x05hello".to_vec();
    let http = b"GET /health HTTP/1.1\r\nhost: kith\r\n\r\n".to_vec();
    for (addr, bytes, what) in [
        (server.socket_addr, clear_hello, "a clear-text hello"),
        (server.socket_addr, half_hello.clone(), "half a ClientHello"),
        (http_addr, half_hello, "half a ClientHello (HTTPS)"),
        (server.socket_addr, not_tls, "an application record before any handshake"),
        (http_addr, http, "a clear-text HTTP request"),
    ] {
        let mut peer = TcpStream::connect(addr).await.expect("connect");
        peer.write_all(&bytes).await.expect("send");
        let mut answer = Vec::new();
        let read = tokio::time::timeout(PATIENCE, peer.read_to_end(&mut answer)).await;
        let read = read.unwrap_or_else(|_| panic!("{what}: the connection was not closed"));
        // At most a TLS alert record comes back, never a Kith frame or an HTTP answer.
        assert!(read.is_err() || answer.is_empty() || answer[0] == 0x15, "{what}: got {answer:?}");
    }

    let mut silent = Vec::with_capacity(1000);
    for i in 0..1000 {
        let addr = if i % 2 == 0 { server.socket_addr } else { http_addr };
        silent.push(TcpStream::connect(addr).await.expect("a silent connection"));
    }
    // While they wait: the connected client is served, and a new one gets in.
    connected.assert_alive().await;
    let mut newcomer =
        TestSocket::over(tls_socket(server.socket_addr, &ca.cert).await).hello(&bob.token).await;
    newcomer.assert_alive().await;
    let (health, _) = https_health(http_addr, ca.reqwest_certificate()).await;
    assert_eq!(health["status"], "ok");
    // Then every silent one is closed by the server.
    for mut peer in silent {
        let mut buf = [0u8; 16];
        let read = tokio::time::timeout(PATIENCE, peer.read(&mut buf)).await.expect("closed in time");
        assert!(matches!(read, Ok(0) | Err(_)), "a silent peer got bytes: {read:?}");
    }
    connected.assert_alive().await;
    server.stop().await;
}

/// A TLS client reaching a server that speaks clear text fails at once, cleanly, and the
/// server goes on serving clear-text clients.
#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_tls_hello_to_a_clear_text_socket_fails_cleanly() {
    let Some(server) = TestServer::start(Backend::Sqlite).await else { return };
    let alice = server.user("alice").await;
    let config = trusting(&TestCa::new().cert);
    let tcp = TcpStream::connect(server.socket_addr).await.expect("connect");
    let name = ServerName::from(server.socket_addr.ip());
    let handshake = tokio::time::timeout(PATIENCE, TlsConnector::from(config).connect(name, tcp))
        .await
        .expect("the handshake ends in time");
    assert!(handshake.is_err(), "a clear-text server cannot complete a TLS handshake");
    server.connect(&alice.token).await.assert_alive().await;
    server.stop().await;
}

//! TLS: a self-signed server trusted once by its fingerprint, a changed certificate refused
//! loudly; a certificate from an authority the client trusts asks nothing, unless reached by
//! another name.

use crate::common::{Driver, TestServer};
use kith_client::app::{Message, Screen};
use kith_client::screen::login;
use kith_client::session;
use kith_client::trust::{CertificateProblem, KNOWN_SERVERS_FILE, ProblemKind, Trust};

/// The certificate problem the login screen shows, once the login attempt has finished.
async fn certificate_prompt(driver: &mut Driver) -> CertificateProblem {
    driver
        .until(
            "the login screen asks about the certificate",
            |app| matches!(&app.screen, Screen::Login(login) if login.certificate.is_some()),
        )
        .await;
    match &driver.app.screen {
        Screen::Login(login) => *login.certificate.clone().expect("a certificate problem"),
        Screen::Home(_) => unreachable!("checked above"),
    }
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_self_signed_server_is_trusted_once_and_a_changed_certificate_is_refused() {
    let server = TestServer::start_with(|config| config.tls = kith_server::config::TlsMode::On).await;
    let fingerprint = server.server.tls_fingerprint().expect("the server speaks TLS");
    let address = format!("https://{}", server.http());
    let key = format!("127.0.0.1:{}", server.server.http_addr.port());

    // First contact: the fingerprint is shown and nothing is sent until the user decides.
    let mut alice = Driver::new();
    alice.fill_registration(&address, server.socket_port(), "alice", "Alice");
    let problem = certificate_prompt(&mut alice).await;
    assert_eq!(problem.fingerprint, fingerprint, "the prompt shows the server's certificate");
    assert_eq!(problem.server, key);
    assert!(matches!(problem.kind, ProblemKind::Untrusted { .. }), "{problem:?}");
    assert!(alice.sees("Unknown certificate") && alice.sees(&fingerprint));

    // Trusted once: registration, login and the socket all go over TLS.
    alice.ui(|ui| {
        ui.click("Trust and log in").expect("the trust button");
    });
    alice
        .until_home("logged in and connected over TLS", |home| home.session.status == session::Status::Online)
        .await;
    let known = std::fs::read_to_string(alice.data.path().join(KNOWN_SERVERS_FILE))
        .expect("the trusted certificate is kept");
    assert!(known.contains(&format!("{key} {fingerprint}")), "{known}");

    // A client that trusted another certificate for this server refuses, and says so loudly.
    let earlier =
        "00:11:22:33:44:55:66:77:88:99:AA:BB:CC:DD:EE:FF:00:11:22:33:44:55:66:77:88:99:AA:BB:CC:DD:EE:FF";
    let pinned = Trust::in_memory();
    pinned.remember(&key, earlier).expect("pin");
    let mut bob = Driver::with_trust(Some(pinned.clone()));
    bob.fill_registration(&address, server.socket_port(), "bob", "Bob");
    let problem = certificate_prompt(&mut bob).await;
    assert_eq!(problem.kind, ProblemKind::Changed { trusted: earlier.to_owned() });
    assert!(bob.sees("THE SERVER'S CERTIFICATE HAS CHANGED"));
    bob.ui(|ui| {
        ui.click("Cancel").expect("the cancel button");
    });
    assert!(bob.sees("Not connected: the server's certificate was not trusted."));
    assert_eq!(pinned.pinned(&key).as_deref(), Some(earlier), "cancel keeps the old pin");

    // Re-trusting the new certificate is the user's explicit choice.
    bob.update(Message::Login(login::Message::Submit));
    let _ = certificate_prompt(&mut bob).await;
    bob.ui(|ui| {
        ui.click("Trust the new certificate").expect("the re-trust button");
    });
    bob.until_home("Bob logged in over TLS", |home| home.session.status == session::Status::Online).await;
    assert_eq!(pinned.pinned(&key), Some(fingerprint));

    server.server.shutdown().await;
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_certificate_from_a_trusted_authority_asks_nothing_and_a_wrong_name_is_refused() {
    use rcgen::{BasicConstraints, CertificateParams, IsCa, Issuer, KeyPair};
    let mut ca_params = CertificateParams::new(Vec::new()).expect("no names is valid");
    ca_params.is_ca = IsCa::Ca(BasicConstraints::Unconstrained);
    ca_params.distinguished_name.push(rcgen::DnType::CommonName, "Kith test CA");
    let ca_key = KeyPair::generate().expect("CA key");
    let ca_cert = ca_params.self_signed(&ca_key).expect("CA certificate");
    let issuer = Issuer::new(ca_params, ca_key);
    let certs = tempfile::tempdir().expect("temp dir");
    let leaf_key = KeyPair::generate().expect("server key");
    let leaf = CertificateParams::new(vec!["localhost".to_owned()])
        .expect("valid names")
        .signed_by(&leaf_key, &issuer)
        .expect("server certificate");
    let (cert_path, key_path) = (certs.path().join("server.crt"), certs.path().join("server.key"));
    std::fs::write(&cert_path, format!("{}{}", leaf.pem(), ca_cert.pem())).expect("write certificate");
    std::fs::write(&key_path, leaf_key.serialize_pem()).expect("write key");
    let server = TestServer::start_with(|config| {
        config.tls_cert_file = Some(cert_path);
        config.tls_key_file = Some(key_path);
    })
    .await;
    let port = server.server.http_addr.port();
    let trust = Trust::in_memory().with_root(ca_cert.der().clone());

    let mut alice = Driver::with_trust(Some(trust.clone()));
    alice.fill_registration(&format!("https://localhost:{port}"), server.socket_port(), "alice", "Alice");
    alice
        .until_home("logged in over TLS without a question", |home| {
            home.session.status == session::Status::Online
        })
        .await;
    assert_eq!(trust.pinned(&format!("localhost:{port}")), None, "nothing needed pinning");

    // The same certificate reached by a name it was not made for is not silently accepted.
    let mut bob = Driver::with_trust(Some(trust));
    bob.fill_registration(&format!("https://127.0.0.1:{port}"), server.socket_port(), "bob", "Bob");
    let problem = certificate_prompt(&mut bob).await;
    assert_eq!(problem.kind, ProblemKind::Untrusted { reason: "made for another name".to_owned() });

    server.server.shutdown().await;
}

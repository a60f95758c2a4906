//! `--tls`: a certificate authority made for the run, a server certificate it signs for the
//! spawned server, and clients (HTTP and socket) that trust that authority alone. The
//! handshakes and the encryption are what a real deployment pays; nothing is skipped.

use anyhow::Context;
use rcgen::{BasicConstraints, CertificateParams, IsCa, Issuer, KeyPair};
use rustls::pki_types::{CertificateDer, ServerName};
use std::path::{Path, PathBuf};
use std::sync::Arc;
use tokio_rustls::TlsConnector;

/// What the clients of one run need to speak TLS to the spawned server.
#[derive(Clone)]
pub struct Tls {
    pub connector: TlsConnector,
    pub name: ServerName<'static>,
    pub ca: CertificateDer<'static>,
}

/// The certificate files written for the server, and the clients' side.
pub struct Issued {
    pub cert: PathBuf,
    pub key: PathBuf,
    pub tls: Tls,
}

/// Makes a CA and a certificate for 127.0.0.1 signed by it, written as PEM into `dir`.
pub fn issue(dir: &Path) -> anyhow::Result<Issued> {
    let mut ca_params = CertificateParams::new(Vec::new())?;
    ca_params.is_ca = IsCa::Ca(BasicConstraints::Unconstrained);
    ca_params.distinguished_name.push(rcgen::DnType::CommonName, "kith-load CA");
    let ca_key = KeyPair::generate()?;
    let ca_cert = ca_params.self_signed(&ca_key)?;
    let issuer = Issuer::new(ca_params, ca_key);
    let key = KeyPair::generate()?;
    let leaf = CertificateParams::new(vec!["127.0.0.1".to_owned()])?.signed_by(&key, &issuer)?;
    let (cert_path, key_path) = (dir.join("load.crt"), dir.join("load.key"));
    std::fs::write(&cert_path, format!("{}{}", leaf.pem(), ca_cert.pem()))
        .context("writing the certificate")?;
    std::fs::write(&key_path, key.serialize_pem()).context("writing the key")?;

    let mut roots = rustls::RootCertStore::empty();
    roots.add(ca_cert.der().clone())?;
    let provider = Arc::new(rustls::crypto::aws_lc_rs::default_provider());
    let config = rustls::ClientConfig::builder_with_provider(provider)
        .with_safe_default_protocol_versions()?
        .with_root_certificates(roots)
        .with_no_client_auth();
    let tls = Tls {
        connector: TlsConnector::from(Arc::new(config)),
        name: ServerName::IpAddress(std::net::Ipv4Addr::LOCALHOST.into()),
        ca: ca_cert.der().clone(),
    };
    Ok(Issued { cert: cert_path, key: key_path, tls })
}

//! TLS for both listeners (rustls with the aws-lc-rs provider).
//!
//! [`choose`] decides from the configuration whether the server speaks clear text, presents
//! the configured certificate, or presents a self-signed one kept in `DATA_DIR`. [`Tls`] holds
//! the certificate behind a resolver that [`Tls::reload`] swaps: new handshakes get the new
//! certificate, established connections keep theirs. A reload that fails keeps the old one.

use crate::config::{Config, TlsMode};
use rustls::ServerConfig;
use rustls::crypto::CryptoProvider;
use rustls::pki_types::pem::PemObject;
use rustls::pki_types::{CertificateDer, PrivateKeyDer};
use rustls::server::{ClientHello, ResolvesServerCert};
use rustls::sign::CertifiedKey;
use std::io;
use std::net::IpAddr;
use std::path::{Path, PathBuf};
use std::sync::{Arc, PoisonError, RwLock};
use std::time::Duration;
use tokio::net::TcpStream;
use tokio_rustls::TlsAcceptor;
use tokio_rustls::server::TlsStream;

/// The self-signed certificate's file in `DATA_DIR`.
pub const SELF_SIGNED_CERT: &str = "tls-self-signed.crt";
/// The self-signed certificate's private key in `DATA_DIR`.
pub const SELF_SIGNED_KEY: &str = "tls-self-signed.key";

/// Why TLS could not be set up or reloaded.
#[derive(Debug, thiserror::Error)]
pub enum TlsError {
    #[error("TLS_CERT_FILE and TLS_KEY_FILE go together: only {0} is set")]
    HalfConfigured(&'static str),
    #[error("TLS = off, yet TLS_CERT_FILE and TLS_KEY_FILE are set: remove one or the other")]
    OffWithCertificate,
    #[error("{path}: {message}")]
    Pem { path: PathBuf, message: String },
    #[error("the key in {key} does not belong to the certificate in {cert}: {source}")]
    Key { cert: PathBuf, key: PathBuf, source: rustls::Error },
    #[error("cannot make a self-signed certificate: {0}")]
    Generate(#[from] rcgen::Error),
    #[error("cannot write {path}: {source}")]
    Write { path: PathBuf, source: io::Error },
    #[error("cannot set up TLS: {0}")]
    Rustls(#[from] rustls::Error),
}

/// What the listeners speak.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum Choice {
    /// Clear text.
    Clear,
    /// TLS with the operator's certificate.
    Configured { cert: PathBuf, key: PathBuf },
    /// TLS with a certificate the server made itself, kept in `DATA_DIR`.
    SelfSigned,
}

/// Decides what the listeners speak. A server reachable from other machines never speaks
/// clear text unless told to with `TLS = off`.
pub fn choose(config: &Config) -> Result<Choice, TlsError> {
    let configured = match (&config.tls_cert_file, &config.tls_key_file) {
        (Some(cert), Some(key)) => Some((cert.clone(), key.clone())),
        (Some(_), None) => return Err(TlsError::HalfConfigured("TLS_CERT_FILE")),
        (None, Some(_)) => return Err(TlsError::HalfConfigured("TLS_KEY_FILE")),
        (None, None) => None,
    };
    Ok(match (config.tls, configured) {
        (TlsMode::Off, Some(_)) => return Err(TlsError::OffWithCertificate),
        (TlsMode::Off, None) => Choice::Clear,
        (_, Some((cert, key))) => Choice::Configured { cert, key },
        (TlsMode::On, None) => Choice::SelfSigned,
        (TlsMode::Auto, None) if config.server_ip.is_loopback() => Choice::Clear,
        (TlsMode::Auto, None) => Choice::SelfSigned,
    })
}

/// The SHA-256 fingerprint of a DER certificate, as the server logs it and clients show it.
pub use kith_shared::certificate_fingerprint as fingerprint;

/// TLS for both listeners: one certificate, reloadable, shared by two acceptors.
pub struct Tls {
    cert_path: PathBuf,
    key_path: PathBuf,
    provider: Arc<CryptoProvider>,
    current: Arc<Current>,
    http: TlsAcceptor,
    socket: TlsAcceptor,
    handshake_timeout: Duration,
}

impl std::fmt::Debug for Tls {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("Tls").field("cert", &self.cert_path).field("key", &self.key_path).finish()
    }
}

impl Tls {
    /// Sets up TLS as the configuration asks: None for clear text. Makes the self-signed
    /// certificate on first start and reuses it afterwards.
    pub fn set_up(config: &Config) -> Result<Option<Self>, TlsError> {
        let (cert_path, key_path) = match choose(config)? {
            Choice::Clear => return Ok(None),
            Choice::Configured { cert, key } => (cert, key),
            Choice::SelfSigned => {
                let cert = config.data_dir.join(SELF_SIGNED_CERT);
                let key = config.data_dir.join(SELF_SIGNED_KEY);
                if !(cert.exists() && key.exists()) {
                    make_self_signed(&cert, &key, &names(config))?;
                    tracing::info!(cert = %cert.display(), "made a self-signed certificate");
                }
                (cert, key)
            }
        };
        let provider = Arc::new(rustls::crypto::aws_lc_rs::default_provider());
        let current = Arc::new(Current(RwLock::new(load(&cert_path, &key_path, &provider)?)));
        let acceptor = |alpn: Vec<Vec<u8>>| -> Result<TlsAcceptor, TlsError> {
            let mut server_config = ServerConfig::builder_with_provider(provider.clone())
                .with_safe_default_protocol_versions()?
                .with_no_client_auth()
                .with_cert_resolver(current.clone());
            server_config.alpn_protocols = alpn;
            Ok(TlsAcceptor::from(Arc::new(server_config)))
        };
        let tls = Self {
            http: acceptor(vec![b"http/1.1".to_vec()])?,
            socket: acceptor(Vec::new())?,
            cert_path,
            key_path,
            provider: provider.clone(),
            current,
            handshake_timeout: config.tls_handshake_timeout,
        };
        tracing::info!(
            cert = %tls.cert_path.display(),
            fingerprint = %tls.fingerprint(),
            "TLS on both listeners; certificate SHA-256 fingerprint"
        );
        Ok(Some(tls))
    }

    /// Reads the certificate and key files again; new handshakes present what they hold.
    /// On failure the certificate in use stays. Returns the new fingerprint.
    pub fn reload(&self) -> Result<String, TlsError> {
        let loaded = load(&self.cert_path, &self.key_path, &self.provider)?;
        *self.current.0.write().unwrap_or_else(PoisonError::into_inner) = loaded;
        Ok(self.fingerprint())
    }

    /// The SHA-256 fingerprint of the certificate new handshakes present.
    pub fn fingerprint(&self) -> String {
        let current = self.current.get();
        current.end_entity_cert().map(|der| fingerprint(der)).unwrap_or_default()
    }

    /// Accepts TLS on the HTTP listener (ALPN `http/1.1`).
    pub fn http(&self) -> Acceptor {
        Acceptor { inner: self.http.clone(), timeout: self.handshake_timeout }
    }

    /// Accepts TLS on the socket listener.
    pub fn socket(&self) -> Acceptor {
        Acceptor { inner: self.socket.clone(), timeout: self.handshake_timeout }
    }
}

/// Performs the server side of a TLS handshake, giving up after the handshake timeout.
#[derive(Clone)]
pub struct Acceptor {
    inner: TlsAcceptor,
    timeout: Duration,
}

impl Acceptor {
    /// Completes the handshake on an accepted connection within the handshake timeout.
    pub async fn accept(&self, stream: TcpStream) -> io::Result<TlsStream<TcpStream>> {
        match tokio::time::timeout(self.timeout, self.inner.accept(stream)).await {
            Ok(done) => done,
            Err(_) => {
                Err(io::Error::new(io::ErrorKind::TimedOut, "the TLS handshake did not finish in time"))
            }
        }
    }

    /// The handshake as a future, for callers that poll it themselves (the HTTP listener).
    pub fn start(&self, stream: TcpStream) -> tokio_rustls::Accept<TcpStream> {
        self.inner.accept(stream)
    }

    /// How long a handshake may take.
    pub fn timeout(&self) -> Duration {
        self.timeout
    }
}

/// The certificate new handshakes present; swapped by a reload.
#[derive(Debug)]
struct Current(RwLock<Arc<CertifiedKey>>);

impl Current {
    fn get(&self) -> Arc<CertifiedKey> {
        self.0.read().unwrap_or_else(PoisonError::into_inner).clone()
    }
}

impl ResolvesServerCert for Current {
    fn resolve(&self, _hello: ClientHello<'_>) -> Option<Arc<CertifiedKey>> {
        Some(self.get())
    }
}

/// Reads a PEM certificate chain (leaf first) and its PEM private key, checking that they
/// belong together.
fn load(cert: &Path, key: &Path, provider: &CryptoProvider) -> Result<Arc<CertifiedKey>, TlsError> {
    let pem = |path: &Path, err: rustls::pki_types::pem::Error| TlsError::Pem {
        path: path.to_owned(),
        message: err.to_string(),
    };
    let chain = CertificateDer::pem_file_iter(cert)
        .map_err(|err| pem(cert, err))?
        .collect::<Result<Vec<_>, _>>()
        .map_err(|err| pem(cert, err))?;
    if chain.is_empty() {
        return Err(TlsError::Pem { path: cert.to_owned(), message: "holds no certificate".to_owned() });
    }
    let private_key = PrivateKeyDer::from_pem_file(key).map_err(|err| pem(key, err))?;
    let certified = CertifiedKey::from_der(chain, private_key, provider).map_err(|source| TlsError::Key {
        cert: cert.to_owned(),
        key: key.to_owned(),
        source,
    })?;
    Ok(Arc::new(certified))
}

/// The names a self-signed certificate is made for: `localhost`, the bound address when it
/// is a specific one, and `TLS_NAMES`.
fn names(config: &Config) -> Vec<String> {
    let mut names = vec!["localhost".to_owned()];
    let ip: IpAddr = config.server_ip;
    if !ip.is_unspecified() {
        names.push(ip.to_string());
    }
    for name in &config.tls_names {
        if !names.contains(name) {
            names.push(name.clone());
        }
    }
    names
}

/// Makes a self-signed certificate for `names` and writes it and its key (readable by the
/// owner only) in PEM.
fn make_self_signed(cert: &Path, key: &Path, names: &[String]) -> Result<(), TlsError> {
    let mut params = rcgen::CertificateParams::new(names.to_vec())?;
    params.distinguished_name = rcgen::DistinguishedName::new();
    params.distinguished_name.push(rcgen::DnType::CommonName, "Kith server");
    let key_pair = rcgen::KeyPair::generate()?;
    let certificate = params.self_signed(&key_pair)?;
    write_private(key, key_pair.serialize_pem().as_bytes())?;
    std::fs::write(cert, certificate.pem())
        .map_err(|source| TlsError::Write { path: cert.to_owned(), source })
}

fn write_private(path: &Path, bytes: &[u8]) -> Result<(), TlsError> {
    use std::io::Write;
    let mut options = std::fs::OpenOptions::new();
    options.write(true).create(true).truncate(true);
    #[cfg(unix)]
    {
        use std::os::unix::fs::OpenOptionsExt;
        options.mode(0o600);
    }
    let write = || -> io::Result<()> {
        let mut file = options.open(path)?;
        file.write_all(bytes)?;
        file.sync_all()
    };
    write().map_err(|source| TlsError::Write { path: path.to_owned(), source })
}

#[cfg(test)]
mod tests {
    use super::*;

    fn config(ip: [u8; 4], mode: TlsMode, files: (Option<&str>, Option<&str>)) -> Config {
        Config {
            server_ip: IpAddr::from(ip),
            tls: mode,
            tls_cert_file: files.0.map(PathBuf::from),
            tls_key_file: files.1.map(PathBuf::from),
            ..Config::default()
        }
    }

    #[test]
    fn loopback_stays_clear_and_other_addresses_need_tls() {
        assert_eq!(choose(&config([127, 0, 0, 1], TlsMode::Auto, (None, None))).ok(), Some(Choice::Clear));
        assert_eq!(choose(&config([0, 0, 0, 0], TlsMode::Auto, (None, None))).ok(), Some(Choice::SelfSigned));
        assert_eq!(
            choose(&config([192, 0, 2, 5], TlsMode::Auto, (None, None))).ok(),
            Some(Choice::SelfSigned)
        );
        assert_eq!(choose(&config([127, 0, 0, 1], TlsMode::On, (None, None))).ok(), Some(Choice::SelfSigned));
        assert_eq!(choose(&config([0, 0, 0, 0], TlsMode::Off, (None, None))).ok(), Some(Choice::Clear));
        let ipv6 = Config { server_ip: "::".parse().expect("address"), ..Config::default() };
        assert_eq!(choose(&ipv6).ok(), Some(Choice::SelfSigned));
        let ipv6 = Config { server_ip: "::1".parse().expect("address"), ..Config::default() };
        assert_eq!(choose(&ipv6).ok(), Some(Choice::Clear));
    }

    #[test]
    fn a_configured_certificate_wins_and_must_be_whole() {
        let both = (Some("c.pem"), Some("k.pem"));
        let configured = Choice::Configured { cert: "c.pem".into(), key: "k.pem".into() };
        assert_eq!(choose(&config([127, 0, 0, 1], TlsMode::Auto, both)).ok(), Some(configured.clone()));
        assert_eq!(choose(&config([0, 0, 0, 0], TlsMode::On, both)).ok(), Some(configured));
        let err = choose(&config([0, 0, 0, 0], TlsMode::Auto, (Some("c.pem"), None))).expect_err("half");
        assert!(err.to_string().contains("only TLS_CERT_FILE"), "{err}");
        let err = choose(&config([0, 0, 0, 0], TlsMode::Auto, (None, Some("k.pem")))).expect_err("half");
        assert!(err.to_string().contains("only TLS_KEY_FILE"), "{err}");
        assert!(matches!(
            choose(&config([0, 0, 0, 0], TlsMode::Off, both)),
            Err(TlsError::OffWithCertificate)
        ));
    }

    #[test]
    fn fingerprint_is_colon_separated_upper_hex() {
        // SHA-256 of the empty string.
        assert_eq!(
            fingerprint(b""),
            "E3:B0:C4:42:98:FC:1C:14:9A:FB:F4:C8:99:6F:B9:24:27:AE:41:E4:64:9B:93:4C:A4:95:99:1B:78:52:B8:55"
        );
    }

    #[test]
    fn self_signed_names_cover_the_address_and_extra_names() {
        let config = Config {
            server_ip: IpAddr::from([192, 0, 2, 5]),
            tls_names: vec!["chat.example.org".to_owned(), "localhost".to_owned()],
            ..Config::default()
        };
        assert_eq!(names(&config), ["localhost", "192.0.2.5", "chat.example.org"]);
        let any = Config { server_ip: IpAddr::from([0, 0, 0, 0]), ..Config::default() };
        assert_eq!(names(&any), ["localhost"]);
    }

    #[test]
    fn bad_pem_and_a_foreign_key_are_refused() {
        let dir = tempfile::tempdir().expect("tempdir");
        let provider = rustls::crypto::aws_lc_rs::default_provider();
        let (cert, key) = (dir.path().join("a.crt"), dir.path().join("a.key"));
        make_self_signed(&cert, &key, &["localhost".to_owned()]).expect("made");
        load(&cert, &key, &provider).expect("a certificate and its own key load");

        let (other_cert, other_key) = (dir.path().join("b.crt"), dir.path().join("b.key"));
        make_self_signed(&other_cert, &other_key, &["localhost".to_owned()]).expect("made");
        assert!(matches!(load(&cert, &other_key, &provider), Err(TlsError::Key { .. })));

        let garbage = dir.path().join("garbage.pem");
        std::fs::write(&garbage, "not a certificate").expect("write");
        assert!(matches!(load(&garbage, &key, &provider), Err(TlsError::Pem { .. })));
        assert!(matches!(load(&cert, &garbage, &provider), Err(TlsError::Pem { .. })));
        let missing = dir.path().join("missing.pem");
        assert!(matches!(load(&missing, &key, &provider), Err(TlsError::Pem { .. })));
    }
}

//! Which servers the client believes: certificates signed by an authority the system trusts,
//! and certificates the user accepted once for one server (trust on first use), kept in
//! `known_servers` in the client's data folder, like SSH's `known_hosts`.
//!
//! [`Trust::tls_for`] makes the TLS set-up for one server, shared by the HTTP API and the
//! socket. Its verifier accepts what the system's roots accept for the server's name; failing
//! that, a certificate whose SHA-256 fingerprint the user trusted for this server. Anything
//! else fails the handshake and leaves a [`CertificateProblem`] for the screen to show.

use crate::address::Node;
use rustls::client::danger::{HandshakeSignatureValid, ServerCertVerified, ServerCertVerifier};
use rustls::crypto::CryptoProvider;
use rustls::pki_types::{CertificateDer, ServerName, UnixTime};
use rustls::{ClientConfig, DigitallySignedStruct, SignatureScheme};
use std::collections::BTreeMap;
use std::fmt::Write as _;
use std::io;
use std::path::{Path, PathBuf};
use std::sync::{Arc, Mutex, PoisonError, RwLock};

/// The file of trusted certificates in the data folder.
pub const KNOWN_SERVERS_FILE: &str = "known_servers";

/// Why a server's certificate was not accepted.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct CertificateProblem {
    /// The server as its `known_servers` entry names it: `host:port` of the HTTP API.
    pub server: String,
    /// The SHA-256 fingerprint of the certificate the server presented.
    pub fingerprint: String,
    pub kind: ProblemKind,
}

#[derive(Debug, Clone, PartialEq, Eq)]
pub enum ProblemKind {
    /// No authority the system trusts vouches for it, and the user has not trusted it yet.
    /// `reason` says what the check found (unknown issuer, expired, other name).
    Untrusted { reason: String },
    /// The user trusted another certificate for this server.
    Changed { trusted: String },
}

impl CertificateProblem {
    /// What happened, in words for the user.
    pub fn plain(&self) -> String {
        match &self.kind {
            ProblemKind::Untrusted { reason } => {
                t!("certificate-untrusted", server = &self.server, reason = reason)
            }
            ProblemKind::Changed { .. } => t!("certificate-changed", server = &self.server),
        }
    }
}

/// The trusted certificates, shared by every connection the app makes. Cheap to clone.
#[derive(Debug, Clone)]
pub struct Trust {
    inner: Arc<Inner>,
}

#[derive(Debug)]
struct Inner {
    /// Where pins are kept; None keeps them in memory only.
    file: Option<PathBuf>,
    /// `host:port` → fingerprint.
    pinned: RwLock<BTreeMap<String, String>>,
    /// Authorities trusted beside the system's (a private CA given to the app).
    extra_roots: Vec<CertificateDer<'static>>,
    provider: Arc<CryptoProvider>,
}

impl Trust {
    /// The pins kept under `data_root` (none yet if the file is missing). Lines that cannot be
    /// read are skipped with a warning; they are dropped when the file is next written.
    pub fn load(data_root: Option<&Path>) -> Self {
        let file = data_root.map(|root| root.join(KNOWN_SERVERS_FILE));
        let pinned = match &file {
            Some(path) => match std::fs::read_to_string(path) {
                Ok(text) => parse(&text),
                Err(err) if err.kind() == io::ErrorKind::NotFound => BTreeMap::new(),
                Err(err) => {
                    tracing::warn!(path = %path.display(), %err, "cannot read the trusted certificates");
                    BTreeMap::new()
                }
            },
            None => BTreeMap::new(),
        };
        Self::with(file, pinned, Vec::new())
    }

    /// Pins kept in memory only, for a run that keeps no data.
    pub fn in_memory() -> Self {
        Self::with(None, BTreeMap::new(), Vec::new())
    }

    /// Also trusts certificates issued by `root` (DER), as if the system did (a test's own
    /// certificate authority).
    pub fn with_root(self, root: CertificateDer<'static>) -> Self {
        let inner = &self.inner;
        let pinned = inner.pinned.read().unwrap_or_else(PoisonError::into_inner).clone();
        let mut roots = inner.extra_roots.clone();
        roots.push(root);
        Self::with(inner.file.clone(), pinned, roots)
    }

    fn with(
        file: Option<PathBuf>,
        pinned: BTreeMap<String, String>,
        extra_roots: Vec<CertificateDer<'static>>,
    ) -> Self {
        let provider = Arc::new(rustls::crypto::aws_lc_rs::default_provider());
        Self { inner: Arc::new(Inner { file, pinned: RwLock::new(pinned), extra_roots, provider }) }
    }

    /// The fingerprint trusted for `server` (`host:port`), if any.
    pub fn pinned(&self, server: &str) -> Option<String> {
        self.inner.pinned.read().unwrap_or_else(PoisonError::into_inner).get(server).cloned()
    }

    /// Trusts `fingerprint` for `server` from now on (replacing an earlier one) and writes the
    /// file. Connections made afterwards, and those set up before, accept the certificate.
    pub fn remember(&self, server: &str, fingerprint: &str) -> io::Result<()> {
        let text = {
            let mut pinned = self.inner.pinned.write().unwrap_or_else(PoisonError::into_inner);
            pinned.insert(server.to_owned(), fingerprint.to_owned());
            render(&pinned)
        };
        match &self.inner.file {
            Some(path) => write_atomically(path, text.as_bytes()),
            None => Ok(()),
        }
    }

    /// The TLS set-up for `address`, or None when it is reached in clear text.
    pub fn tls_for(&self, address: &Node) -> Result<Option<TlsTarget>, TrustError> {
        if !address.secure {
            return Ok(None);
        }
        let server_name = ServerName::try_from(address.host.clone())
            .map_err(|_| TrustError::BadName(address.host.clone()))?;
        let system = rustls_platform_verifier::Verifier::new_with_extra_roots(
            self.inner.extra_roots.iter().cloned(),
            self.inner.provider.clone(),
        )
        .map_err(|err| TrustError::Setup(err.to_string()))?;
        let problem = Arc::new(Mutex::new(None));
        let verifier =
            Verifier { system, trust: self.clone(), server: address.trust_key(), problem: problem.clone() };
        let config = ClientConfig::builder_with_provider(self.inner.provider.clone())
            .with_safe_default_protocol_versions()
            .map_err(|err| TrustError::Setup(err.to_string()))?
            .dangerous()
            .with_custom_certificate_verifier(Arc::new(verifier))
            .with_no_client_auth();
        Ok(Some(TlsTarget { config: Arc::new(config), server_name, problem }))
    }
}

/// Why TLS could not be set up for a server.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
pub enum TrustError {
    #[error("'{0}' is not a host name or address TLS can check")]
    BadName(String),
    #[error("cannot set up TLS: {0}")]
    Setup(String),
}

/// TLS for one server: the client configuration (HTTP API and socket alike), the name to check,
/// and the last certificate problem its handshakes met.
#[derive(Debug, Clone)]
pub struct TlsTarget {
    pub config: Arc<ClientConfig>,
    pub server_name: ServerName<'static>,
    problem: Arc<Mutex<Option<CertificateProblem>>>,
}

impl TlsTarget {
    /// The certificate problem the last failed handshake met, taken (so it is reported once).
    pub fn take_problem(&self) -> Option<CertificateProblem> {
        self.problem.lock().unwrap_or_else(PoisonError::into_inner).take()
    }
}

impl PartialEq for TlsTarget {
    fn eq(&self, other: &Self) -> bool {
        Arc::ptr_eq(&self.config, &other.config) && self.server_name == other.server_name
    }
}

impl Eq for TlsTarget {}

impl std::hash::Hash for TlsTarget {
    fn hash<H: std::hash::Hasher>(&self, state: &mut H) {
        Arc::as_ptr(&self.config).hash(state);
    }
}

use kith_shared::certificate_fingerprint as fingerprint;

#[derive(Debug)]
struct Verifier {
    system: rustls_platform_verifier::Verifier,
    trust: Trust,
    server: String,
    problem: Arc<Mutex<Option<CertificateProblem>>>,
}

impl Verifier {
    fn refuse(&self, fingerprint: String, kind: ProblemKind) -> rustls::Error {
        let problem = CertificateProblem { server: self.server.clone(), fingerprint, kind };
        let message = problem.plain();
        *self.problem.lock().unwrap_or_else(PoisonError::into_inner) = Some(problem);
        rustls::Error::General(message)
    }
}

impl ServerCertVerifier for Verifier {
    fn verify_server_cert(
        &self,
        end_entity: &CertificateDer<'_>,
        intermediates: &[CertificateDer<'_>],
        server_name: &ServerName<'_>,
        ocsp_response: &[u8],
        now: UnixTime,
    ) -> Result<ServerCertVerified, rustls::Error> {
        let system =
            self.system.verify_server_cert(end_entity, intermediates, server_name, ocsp_response, now);
        let reason = match system {
            Ok(verified) => return Ok(verified),
            Err(err) => reason(&err),
        };
        let seen = fingerprint(end_entity);
        match self.trust.pinned(&self.server) {
            Some(trusted) if trusted == seen => Ok(ServerCertVerified::assertion()),
            Some(trusted) => Err(self.refuse(seen, ProblemKind::Changed { trusted })),
            None => Err(self.refuse(seen, ProblemKind::Untrusted { reason })),
        }
    }

    fn verify_tls12_signature(
        &self,
        message: &[u8],
        cert: &CertificateDer<'_>,
        dss: &DigitallySignedStruct,
    ) -> Result<HandshakeSignatureValid, rustls::Error> {
        self.system.verify_tls12_signature(message, cert, dss)
    }

    fn verify_tls13_signature(
        &self,
        message: &[u8],
        cert: &CertificateDer<'_>,
        dss: &DigitallySignedStruct,
    ) -> Result<HandshakeSignatureValid, rustls::Error> {
        self.system.verify_tls13_signature(message, cert, dss)
    }

    fn supported_verify_schemes(&self) -> Vec<SignatureScheme> {
        self.system.supported_verify_schemes()
    }
}

/// The system check's finding in a few words.
fn reason(err: &rustls::Error) -> String {
    use rustls::CertificateError as E;
    match err {
        rustls::Error::InvalidCertificate(E::UnknownIssuer) => t!("certificate-unknown-issuer"),
        rustls::Error::InvalidCertificate(E::Expired | E::ExpiredContext { .. }) => t!("certificate-expired"),
        rustls::Error::InvalidCertificate(E::NotValidYet | E::NotValidYetContext { .. }) => {
            t!("certificate-not-valid-yet")
        }
        rustls::Error::InvalidCertificate(E::NotValidForName | E::NotValidForNameContext { .. }) => {
            t!("certificate-other-name")
        }
        rustls::Error::InvalidCertificate(E::Revoked) => t!("certificate-revoked"),
        other => other.to_string(),
    }
}

const HEADER: &str = "# Kith: server certificates trusted on first use, one per line: host:port SHA-256\n";

fn parse(text: &str) -> BTreeMap<String, String> {
    let mut pinned = BTreeMap::new();
    for line in text.lines().map(str::trim).filter(|line| !line.is_empty() && !line.starts_with('#')) {
        match line.split_once(char::is_whitespace) {
            Some((server, fp)) if is_fingerprint(fp.trim()) => {
                pinned.insert(server.to_owned(), fp.trim().to_owned());
            }
            _ => tracing::warn!(line, "skipping a line of known_servers that cannot be read"),
        }
    }
    pinned
}

fn render(pinned: &BTreeMap<String, String>) -> String {
    let mut text = HEADER.to_owned();
    for (server, fp) in pinned {
        let _ = writeln!(text, "{server} {fp}");
    }
    text
}

fn is_fingerprint(text: &str) -> bool {
    text.len() == 32 * 3 - 1
        && text.split(':').all(|byte| byte.len() == 2 && byte.chars().all(|c| c.is_ascii_hexdigit()))
}

/// Writes `bytes` to `path` through a temporary file and a rename, so a crash never leaves
/// half a file.
fn write_atomically(path: &Path, bytes: &[u8]) -> io::Result<()> {
    use std::io::Write;
    if let Some(dir) = path.parent() {
        std::fs::create_dir_all(dir)?;
    }
    let temp = path.with_extension("tmp");
    let mut file = std::fs::File::create(&temp)?;
    file.write_all(bytes)?;
    file.sync_all()?;
    std::fs::rename(&temp, path)
}

#[cfg(test)]
mod tests {
    use super::*;

    const FP: &str =
        "AB:CD:EF:01:23:45:67:89:AB:CD:EF:01:23:45:67:89:AB:CD:EF:01:23:45:67:89:AB:CD:EF:01:23:45:67:89";

    #[test]
    fn pins_survive_a_restart_and_bad_lines_are_skipped() {
        let dir = tempfile::tempdir().expect("temp dir");
        let trust = Trust::load(Some(dir.path()));
        assert_eq!(trust.pinned("chat.example.org:8000"), None);
        trust.remember("chat.example.org:8000", FP).expect("write");
        trust.remember("[::1]:9000", FP).expect("write");
        let path = dir.path().join(KNOWN_SERVERS_FILE);
        let mut text = std::fs::read_to_string(&path).expect("read");
        text.push_str("garbage line\nother:1 not-a-fingerprint\n");
        std::fs::write(&path, text).expect("write");

        let again = Trust::load(Some(dir.path()));
        assert_eq!(again.pinned("chat.example.org:8000").as_deref(), Some(FP));
        assert_eq!(again.pinned("[::1]:9000").as_deref(), Some(FP));
        assert_eq!(again.pinned("other:1"), None);
    }

    #[test]
    fn clear_text_addresses_need_no_tls() {
        let trust = Trust::in_memory();
        let clear = Node::parse("127.0.0.1:8000", "").expect("valid");
        assert!(trust.tls_for(&clear).expect("set up").is_none());
        let secure = Node::parse("https://127.0.0.1:8000", "").expect("valid");
        assert!(trust.tls_for(&secure).expect("set up").is_some());
    }

    #[test]
    fn fingerprints_look_like_the_servers() {
        assert!(is_fingerprint(FP));
        assert!(!is_fingerprint(&FP[3..]));
        assert_eq!(fingerprint(b"x").len(), FP.len());
    }
}

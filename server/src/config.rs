//! Server configuration: `server.conf` (INI, a `[server]` section), then `KITH_<KEY>`
//! environment variables over it. Every key has a default, so no file is needed at all.

use std::net::IpAddr;
use std::path::{Path, PathBuf};
use std::time::Duration;

/// A configuration problem, naming the key and, for the file, the line.
#[derive(Debug, thiserror::Error)]
pub enum ConfigError {
    #[error("cannot read {path}: {source}")]
    Read { path: PathBuf, source: std::io::Error },
    #[error("{path} line {line}: {message}")]
    Syntax { path: PathBuf, line: usize, message: String },
    #[error("{origin}: {key}: {message}")]
    Value { origin: String, key: String, message: String },
}

/// Everything the server reads from `server.conf`.
#[derive(Debug, Clone)]
pub struct Config {
    /// Address every listener binds to.
    pub server_ip: IpAddr,
    /// HTTP API port; 0 picks a free one.
    pub http_port: u16,
    /// Realtime socket port; 0 picks a free one.
    pub socket_port: u16,
    /// Port of the Prometheus metrics listener; None (the default) serves no metrics, 0
    /// picks a free port.
    pub metrics_port: Option<u16>,
    /// `sqlite://...`, `postgres://...` or `mysql://...`; empty means `DATA_DIR/kith.db`.
    pub database_url: String,
    /// Where the database file and avatars live.
    pub data_dir: PathBuf,
    /// The temporary upload store.
    pub upload_dir: PathBuf,
    /// Read-only files served under `/static`.
    pub static_dir: PathBuf,
    /// Largest socket frame body in bytes.
    pub max_frame_bytes: usize,
    /// Largest avatar image in bytes.
    pub max_avatar_bytes: usize,
    /// Seconds between server pings; a peer silent for three is dropped.
    pub heartbeat: Duration,
    /// How long a new socket has to send its hello.
    pub hello_timeout: Duration,
    /// Frames queued for one connection before it is cut off as too slow.
    pub outgoing_queue: usize,
    /// Whether one account may be connected from several clients at once.
    pub multi_device: bool,
    /// Failed logins allowed per account per minute.
    pub login_failures_per_account: u32,
    /// Failed logins allowed per client address per minute.
    pub login_failures_per_address: u32,
    /// Friend requests one user may send per hour.
    pub friend_requests_per_hour: u32,
    /// Most simultaneous socket connections.
    pub max_connections: usize,
    /// Longest text message, in characters.
    pub max_text_chars: usize,
    /// Messages one connection may send per second on average ...
    pub messages_per_second: u32,
    /// ... and in one burst.
    pub message_burst: u32,
    /// How long after sending a message its sender may recall it.
    pub recall_window: Duration,
    /// How long after sending a text message its sender may edit it.
    pub edit_window: Duration,
    /// Largest upload in bytes.
    pub max_upload_bytes: u64,
    /// Uploads one user may have that are not yet sent in a message.
    pub max_pending_uploads_per_user: u64,
    /// How long a sent file stays on the server at most.
    pub file_ttl: Duration,
    /// How long an upload that was never sent stays on the server.
    pub unattached_ttl: Duration,
    /// Longest side of an image thumbnail, in pixels.
    pub thumbnail_max_px: u32,
    /// Images wider or higher than this are refused (decompression bombs).
    pub max_image_side_px: u32,
    /// Most memory the decoder of one image may allocate.
    pub max_image_decode_bytes: u64,
    /// Most memory all image decodes at once may take; decodes beyond it wait their turn.
    pub image_decode_budget_bytes: u64,
    /// How often the sweeper deletes expired and fully fetched files.
    pub sweep_interval: Duration,
    /// How often the server checks that its sockets' sessions still exist (changes made by
    /// `kith-server user ...` reach a running server within this time).
    pub session_check: Duration,
    /// Whether both listeners speak TLS (see [`TlsMode`]).
    pub tls: TlsMode,
    /// The certificate chain (PEM) both listeners present; with `tls_key_file`.
    pub tls_cert_file: Option<PathBuf>,
    /// The private key (PEM) of the certificate in `tls_cert_file`.
    pub tls_key_file: Option<PathBuf>,
    /// Extra names (host names or addresses) a self-signed certificate is made for.
    pub tls_names: Vec<String>,
    /// How long a new connection has to finish its TLS handshake.
    pub tls_handshake_timeout: Duration,
    /// The NATS server that joins this node to a cluster (`nats://host:4222`); None (the
    /// default) runs one node alone.
    pub nats_url: Option<String>,
    /// The first token of every NATS subject the cluster uses: nodes with the same prefix
    /// form one cluster, so one NATS can carry several.
    pub nats_prefix: String,
}

/// The `TLS` key: whether the listeners speak TLS.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Default)]
pub enum TlsMode {
    /// TLS with the configured certificate; without one, clear text on a loopback address
    /// and a self-signed certificate on any other.
    #[default]
    Auto,
    /// TLS always: the configured certificate, or a self-signed one.
    On,
    /// Clear text, wherever the server listens.
    Off,
}

impl Default for Config {
    fn default() -> Self {
        Self {
            server_ip: IpAddr::from([127, 0, 0, 1]),
            http_port: 8000,
            socket_port: 8001,
            metrics_port: None,
            database_url: String::new(),
            data_dir: PathBuf::from("data"),
            upload_dir: PathBuf::from("data/uploads"),
            static_dir: PathBuf::from("static"),
            max_frame_bytes: kith_shared::DEFAULT_MAX_FRAME_LEN,
            max_avatar_bytes: 1024 * 1024,
            heartbeat: Duration::from_secs(30),
            hello_timeout: Duration::from_secs(5),
            outgoing_queue: 1024,
            multi_device: false,
            login_failures_per_account: 5,
            login_failures_per_address: 20,
            friend_requests_per_hour: 20,
            max_connections: 19_000,
            max_text_chars: 4000,
            messages_per_second: 20,
            message_burst: 60,
            recall_window: Duration::from_secs(120),
            edit_window: Duration::from_secs(kith_shared::api::limits::EDIT_WINDOW_SECS_DEFAULT),
            max_upload_bytes: 1 << 30,
            max_pending_uploads_per_user: 20,
            file_ttl: Duration::from_secs(7 * 86_400),
            unattached_ttl: Duration::from_secs(3600),
            thumbnail_max_px: 320,
            max_image_side_px: 16_384,
            max_image_decode_bytes: 512 << 20,
            image_decode_budget_bytes: 1 << 30,
            sweep_interval: Duration::from_secs(60),
            session_check: Duration::from_secs(2),
            tls: TlsMode::Auto,
            tls_cert_file: None,
            tls_key_file: None,
            tls_names: Vec::new(),
            tls_handshake_timeout: Duration::from_secs(10),
            nats_url: None,
            nats_prefix: "kith".to_owned(),
        }
    }
}

impl Config {
    /// Reads `path` if given (it must exist) and applies `KITH_*` variables from `env`.
    pub fn load(
        path: Option<&Path>,
        env: impl IntoIterator<Item = (String, String)>,
    ) -> Result<Self, ConfigError> {
        let mut config = Config::default();
        if let Some(path) = path {
            let text = std::fs::read_to_string(path)
                .map_err(|source| ConfigError::Read { path: path.to_owned(), source })?;
            for (key, value, line) in parse_ini(path, &text)? {
                let origin = format!("{} line {line}", path.display());
                if !config.set(&key, &value, &origin)? {
                    return Err(ConfigError::Value { origin, key, message: "unknown key".to_owned() });
                }
            }
        }
        // Variables of other programs share the prefix (the client's, the tests'): only the
        // server's own keys are read from the environment.
        for (name, value) in env {
            if let Some(key) = name.strip_prefix("KITH_") {
                config.set(key, &value, &format!("environment variable {name}"))?;
            }
        }
        Ok(config)
    }

    /// The database URL, with the default SQLite file filled in.
    pub fn database_url(&self) -> String {
        if self.database_url.is_empty() {
            format!("sqlite://{}?mode=rwc", self.data_dir.join("kith.db").display())
        } else {
            self.database_url.clone()
        }
    }

    /// Sets one key. Returns false when the key is not one of the server's.
    fn set(&mut self, key: &str, value: &str, origin: &str) -> Result<bool, ConfigError> {
        let bad =
            |message: String| ConfigError::Value { origin: origin.to_owned(), key: key.to_owned(), message };
        let value = value.trim();
        match key.to_ascii_uppercase().as_str() {
            "SERVER_IP" => {
                self.server_ip =
                    value.parse().map_err(|_| bad(format!("expected an IP address, got '{value}'")))?
            }
            "HTTP_PORT" => self.http_port = parse_port(value).map_err(bad)?,
            "SOCKET_PORT" => self.socket_port = parse_port(value).map_err(bad)?,
            "METRICS_PORT" => {
                self.metrics_port =
                    if value.is_empty() { None } else { Some(parse_port(value).map_err(bad)?) }
            }
            "DATABASE_URL" => self.database_url = value.to_owned(),
            "DATA_DIR" => self.data_dir = non_empty_path(value).map_err(bad)?,
            "UPLOAD_DIR" => self.upload_dir = non_empty_path(value).map_err(bad)?,
            "STATIC_DIR" => self.static_dir = non_empty_path(value).map_err(bad)?,
            "MAX_FRAME_BYTES" => self.max_frame_bytes = parse_range(value, 1024, 16 << 20).map_err(bad)?,
            "MAX_AVATAR_BYTES" => self.max_avatar_bytes = parse_range(value, 1024, 64 << 20).map_err(bad)?,
            "HEARTBEAT_SECS" => {
                self.heartbeat = Duration::from_secs(parse_range(value, 1, 3600).map_err(bad)? as u64)
            }
            "HELLO_TIMEOUT_SECS" => {
                self.hello_timeout = Duration::from_secs(parse_range(value, 1, 600).map_err(bad)? as u64)
            }
            "OUTGOING_QUEUE" => self.outgoing_queue = parse_range(value, 8, 1 << 20).map_err(bad)?,
            "MULTI_DEVICE" => self.multi_device = parse_bool(value).map_err(bad)?,
            "LOGIN_FAILURES_PER_ACCOUNT" => {
                self.login_failures_per_account = parse_range(value, 1, 1_000_000).map_err(bad)? as u32
            }
            "LOGIN_FAILURES_PER_ADDRESS" => {
                self.login_failures_per_address = parse_range(value, 1, 1_000_000).map_err(bad)? as u32
            }
            "FRIEND_REQUESTS_PER_HOUR" => {
                self.friend_requests_per_hour = parse_range(value, 1, 1_000_000).map_err(bad)? as u32
            }
            "MAX_CONNECTIONS" => self.max_connections = parse_range(value, 1, 10_000_000).map_err(bad)?,
            "MAX_TEXT_CHARS" => self.max_text_chars = parse_range(value, 1, 1_000_000).map_err(bad)?,
            "MESSAGES_PER_SECOND" => {
                self.messages_per_second = parse_range(value, 1, 10_000_000).map_err(bad)? as u32
            }
            "MESSAGE_BURST" => self.message_burst = parse_range(value, 1, 10_000_000).map_err(bad)? as u32,
            "RECALL_WINDOW_SECS" => {
                self.recall_window =
                    Duration::from_secs(parse_range(value, 0, 86_400 * 365).map_err(bad)? as u64)
            }
            "EDIT_WINDOW_SECS" => {
                self.edit_window =
                    Duration::from_secs(parse_range(value, 0, 86_400 * 365).map_err(bad)? as u64)
            }
            "MAX_UPLOAD_BYTES" => self.max_upload_bytes = parse_range(value, 1, 1 << 40).map_err(bad)? as u64,
            "MAX_PENDING_UPLOADS_PER_USER" => {
                self.max_pending_uploads_per_user = parse_range(value, 1, 1_000_000).map_err(bad)? as u64
            }
            "FILE_TTL_SECS" => {
                self.file_ttl = Duration::from_secs(parse_range(value, 1, 86_400 * 3650).map_err(bad)? as u64)
            }
            "UNATTACHED_TTL_SECS" => {
                self.unattached_ttl =
                    Duration::from_secs(parse_range(value, 1, 86_400 * 3650).map_err(bad)? as u64)
            }
            "THUMBNAIL_MAX_PX" => self.thumbnail_max_px = parse_range(value, 16, 4096).map_err(bad)? as u32,
            "MAX_IMAGE_SIDE_PX" => {
                self.max_image_side_px = parse_range(value, 16, 1 << 20).map_err(bad)? as u32
            }
            "MAX_IMAGE_DECODE_BYTES" => {
                self.max_image_decode_bytes = parse_range(value, 1 << 20, 1 << 40).map_err(bad)? as u64
            }
            "IMAGE_DECODE_BUDGET_BYTES" => {
                self.image_decode_budget_bytes = parse_range(value, 1 << 20, 1 << 40).map_err(bad)? as u64
            }
            "SWEEP_INTERVAL_SECS" => {
                self.sweep_interval = Duration::from_secs(parse_range(value, 1, 86_400).map_err(bad)? as u64)
            }
            "SESSION_CHECK_SECS" => {
                self.session_check = Duration::from_secs(parse_range(value, 1, 3600).map_err(bad)? as u64)
            }
            "TLS" => {
                self.tls = match value.to_ascii_lowercase().as_str() {
                    "auto" => TlsMode::Auto,
                    "on" => TlsMode::On,
                    "off" => TlsMode::Off,
                    _ => return Err(bad(format!("expected auto, on or off, got '{value}'"))),
                }
            }
            "TLS_CERT_FILE" => self.tls_cert_file = optional_path(value),
            "TLS_KEY_FILE" => self.tls_key_file = optional_path(value),
            "TLS_NAMES" => {
                self.tls_names = value
                    .split(',')
                    .map(str::trim)
                    .filter(|name| !name.is_empty())
                    .map(str::to_owned)
                    .collect()
            }
            "TLS_HANDSHAKE_TIMEOUT_SECS" => {
                self.tls_handshake_timeout =
                    Duration::from_secs(parse_range(value, 1, 600).map_err(bad)? as u64)
            }
            "NATS_URL" => self.nats_url = (!value.is_empty()).then(|| value.to_owned()),
            "NATS_PREFIX" => {
                let valid = !value.is_empty()
                    && value.len() <= 64
                    && value.chars().all(|c| c.is_ascii_alphanumeric() || c == '_' || c == '-');
                if !valid {
                    return Err(bad(format!(
                        "expected up to 64 letters, digits, '_' or '-' (one NATS subject token), got '{value}'"
                    )));
                }
                self.nats_prefix = value.to_owned();
            }
            // Read by the desktop client from the same file; the server has no use for it.
            "ENABLE_MUSIC" => {
                parse_bool(value).map_err(bad)?;
            }
            _ => return Ok(false),
        }
        Ok(true)
    }
}

fn parse_port(value: &str) -> Result<u16, String> {
    value.parse().map_err(|_| format!("expected a port number 0-65535, got '{value}'"))
}

fn parse_range(value: &str, min: usize, max: usize) -> Result<usize, String> {
    match value.parse::<usize>() {
        Ok(n) if (min..=max).contains(&n) => Ok(n),
        _ => Err(format!("expected a whole number from {min} to {max}, got '{value}'")),
    }
}

fn parse_bool(value: &str) -> Result<bool, String> {
    match value.to_ascii_lowercase().as_str() {
        "1" | "true" | "yes" | "on" => Ok(true),
        "0" | "false" | "no" | "off" => Ok(false),
        _ => Err(format!("expected true or false, got '{value}'")),
    }
}

fn non_empty_path(value: &str) -> Result<PathBuf, String> {
    if value.is_empty() { Err("expected a path, got nothing".to_owned()) } else { Ok(PathBuf::from(value)) }
}

/// An empty value means "none", so that a variable can take back a path the file set.
fn optional_path(value: &str) -> Option<PathBuf> {
    (!value.is_empty()).then(|| PathBuf::from(value))
}

/// Reads the `[server]` section: `KEY = value` lines, `;` or `#` comments, blank lines.
/// Returns each key, its value and its line number.
fn parse_ini(path: &Path, text: &str) -> Result<Vec<(String, String, usize)>, ConfigError> {
    let mut section: Option<String> = None;
    let mut entries = Vec::new();
    for (index, raw) in text.lines().enumerate() {
        let line_no = index + 1;
        let syntax = |message: String| ConfigError::Syntax { path: path.to_owned(), line: line_no, message };
        let line = raw.trim();
        if line.is_empty() || line.starts_with(';') || line.starts_with('#') {
            continue;
        }
        if let Some(rest) = line.strip_prefix('[') {
            let name = rest
                .strip_suffix(']')
                .ok_or_else(|| syntax(format!("section header '{line}' lacks its closing ']'")))?;
            section = Some(name.trim().to_ascii_lowercase());
            continue;
        }
        let (key, value) =
            line.split_once('=').ok_or_else(|| syntax(format!("expected KEY = value, got '{line}'")))?;
        match section.as_deref() {
            Some("server") => entries.push((key.trim().to_owned(), value.trim().to_owned(), line_no)),
            Some(_) => {} // other sections belong to other programs (the client reads [client])
            None => return Err(syntax(format!("'{}' appears before any [section]", key.trim()))),
        }
    }
    Ok(entries)
}

#[cfg(test)]
mod tests {
    use super::*;

    fn load_text(text: &str, env: &[(&str, &str)]) -> Result<Config, ConfigError> {
        let dir = tempfile::tempdir().expect("tempdir");
        let path = dir.path().join("server.conf");
        std::fs::write(&path, text).expect("write");
        let env = env.iter().map(|(k, v)| (k.to_string(), v.to_string()));
        Config::load(Some(&path), env)
    }

    #[test]
    fn reads_keys_and_comments() {
        let config = load_text(
            "; comment\n[server]\nSERVER_IP = 0.0.0.0\nHTTP_PORT=9000\n# another\nSOCKET_PORT = 0\n[client]\nX=1\n",
            &[],
        )
        .expect("valid");
        assert_eq!(config.server_ip.to_string(), "0.0.0.0");
        assert_eq!(config.http_port, 9000);
        assert_eq!(config.socket_port, 0);
    }

    #[test]
    fn environment_overrides_file() {
        let config = load_text("[server]\nHTTP_PORT = 9000\n", &[("KITH_HTTP_PORT", "0"), ("PATH", "/bin")])
            .expect("valid");
        assert_eq!(config.http_port, 0);
    }

    #[test]
    fn bad_value_names_key_and_line() {
        let err = load_text("[server]\n\nHTTP_PORT = eighty\n", &[]).expect_err("invalid");
        let text = err.to_string();
        assert!(text.contains("line 3"), "{text}");
        assert!(text.contains("HTTP_PORT"), "{text}");
        assert!(text.contains("eighty"), "{text}");
    }

    #[test]
    fn unknown_key_and_bad_syntax_are_errors() {
        let err = load_text("[server]\nHTTP_PROT = 1\n", &[]).expect_err("unknown key");
        assert!(err.to_string().contains("HTTP_PROT: unknown key"), "{err}");
        let err = load_text("[server]\njust words\n", &[]).expect_err("syntax");
        assert!(err.to_string().contains("line 2"), "{err}");
        let err = load_text("HTTP_PORT = 1\n", &[]).expect_err("no section");
        assert!(err.to_string().contains("line 1"), "{err}");
    }

    #[test]
    fn other_programs_variables_are_left_alone() {
        let config = Config::load(None, [("KITH_TEST_MYSQL_URL".to_owned(), "mysql://x".to_owned())])
            .expect("foreign variables are ignored");
        assert!(config.database_url.is_empty());
    }

    #[test]
    fn bad_environment_value_names_the_variable() {
        let err =
            Config::load(None, [("KITH_MULTI_DEVICE".to_owned(), "maybe".to_owned())]).expect_err("invalid");
        assert!(err.to_string().contains("KITH_MULTI_DEVICE"), "{err}");
    }

    #[test]
    fn file_keys_have_defaults_and_parse() {
        let config = Config::default();
        assert_eq!(config.max_upload_bytes, 1 << 30);
        assert_eq!(config.unattached_ttl, Duration::from_secs(3600));
        let config = load_text(
            "[server]\nMAX_UPLOAD_BYTES = 5000\nMAX_PENDING_UPLOADS_PER_USER = 3\nFILE_TTL_SECS = 60\n\
             UNATTACHED_TTL_SECS = 2\nTHUMBNAIL_MAX_PX = 128\nMAX_IMAGE_SIDE_PX = 4096\n\
             MAX_IMAGE_DECODE_BYTES = 1048576\nIMAGE_DECODE_BUDGET_BYTES = 2097152\nSWEEP_INTERVAL_SECS = 1\n",
            &[("KITH_FILE_TTL_SECS", "30")],
        )
        .expect("valid");
        assert_eq!(config.max_upload_bytes, 5000);
        assert_eq!(config.max_pending_uploads_per_user, 3);
        assert_eq!(config.file_ttl, Duration::from_secs(30));
        assert_eq!(config.unattached_ttl, Duration::from_secs(2));
        assert_eq!(config.thumbnail_max_px, 128);
        assert_eq!(config.max_image_side_px, 4096);
        assert_eq!(config.max_image_decode_bytes, 1 << 20);
        assert_eq!(config.image_decode_budget_bytes, 2 << 20);
        assert_eq!(config.sweep_interval, Duration::from_secs(1));
        let err = load_text("[server]\nMAX_UPLOAD_BYTES = 0\n", &[]).expect_err("zero");
        assert!(err.to_string().contains("MAX_UPLOAD_BYTES"), "{err}");
        let err = load_text("[server]\nTHUMBNAIL_MAX_PX = big\n", &[]).expect_err("not a number");
        assert!(err.to_string().contains("THUMBNAIL_MAX_PX"), "{err}");
    }

    #[test]
    fn session_check_has_a_default_and_a_range() {
        assert_eq!(Config::default().session_check, Duration::from_secs(2));
        let config = load_text("[server]\nSESSION_CHECK_SECS = 5\n", &[]).expect("valid");
        assert_eq!(config.session_check, Duration::from_secs(5));
        let err = load_text("[server]\nSESSION_CHECK_SECS = 0\n", &[]).expect_err("zero");
        assert!(err.to_string().contains("SESSION_CHECK_SECS"), "{err}");
    }

    #[test]
    fn tls_keys_parse_and_bad_values_name_the_key() {
        let config = Config::default();
        assert_eq!(config.tls, TlsMode::Auto);
        assert_eq!(config.tls_cert_file, None);
        let config = load_text(
            "[server]\nTLS = ON\nTLS_CERT_FILE = /etc/kith/fullchain.pem\nTLS_KEY_FILE = /etc/kith/privkey.pem\n\
             TLS_NAMES = chat.example.org, 203.0.113.7 ,,\nTLS_HANDSHAKE_TIMEOUT_SECS = 3\n",
            &[("KITH_TLS_KEY_FILE", "/run/key.pem")],
        )
        .expect("valid");
        assert_eq!(config.tls, TlsMode::On);
        assert_eq!(config.tls_cert_file, Some(PathBuf::from("/etc/kith/fullchain.pem")));
        assert_eq!(config.tls_key_file, Some(PathBuf::from("/run/key.pem")));
        assert_eq!(config.tls_names, ["chat.example.org", "203.0.113.7"]);
        assert_eq!(config.tls_handshake_timeout, Duration::from_secs(3));
        // An empty variable takes back a path the file set.
        let config =
            load_text("[server]\nTLS_CERT_FILE = /c.pem\n", &[("KITH_TLS_CERT_FILE", "")]).expect("valid");
        assert_eq!(config.tls_cert_file, None);
        let err = load_text("[server]\nTLS = maybe\n", &[]).expect_err("bad mode");
        assert!(err.to_string().contains("TLS: expected auto, on or off"), "{err}");
        let err = load_text("[server]\nTLS_HANDSHAKE_TIMEOUT_SECS = 0\n", &[]).expect_err("zero");
        assert!(err.to_string().contains("TLS_HANDSHAKE_TIMEOUT_SECS"), "{err}");
    }

    #[test]
    fn nats_url_joins_a_cluster_and_the_prefix_is_one_subject_token() {
        assert_eq!(Config::default().nats_url, None);
        assert_eq!(Config::default().nats_prefix, "kith");
        let config = load_text(
            "[server]\nNATS_URL = nats://10.0.0.5:4222\nNATS_PREFIX = club_1\n",
            &[("KITH_NATS_PREFIX", "club-2")],
        )
        .expect("valid");
        assert_eq!(config.nats_url.as_deref(), Some("nats://10.0.0.5:4222"));
        assert_eq!(config.nats_prefix, "club-2");
        let config =
            load_text("[server]\nNATS_URL = nats://a:4222\n", &[("KITH_NATS_URL", "")]).expect("valid");
        assert_eq!(config.nats_url, None, "an empty variable takes the cluster back");
        for bad in ["a.b", "a b", "*", ">", ""] {
            let err = load_text(&format!("[server]\nNATS_PREFIX = {bad}\n"), &[]).expect_err("bad prefix");
            assert!(err.to_string().contains("NATS_PREFIX"), "{err}");
        }
    }

    #[test]
    fn metrics_port_is_off_unless_set() {
        assert_eq!(Config::default().metrics_port, None);
        let config = load_text("[server]\nMETRICS_PORT = 9100\n", &[]).expect("valid");
        assert_eq!(config.metrics_port, Some(9100));
        let config = load_text("[server]\nMETRICS_PORT =\n", &[]).expect("valid");
        assert_eq!(config.metrics_port, None);
        // An empty variable turns off what the file turned on; 0 picks a free port.
        let config =
            load_text("[server]\nMETRICS_PORT = 9100\n", &[("KITH_METRICS_PORT", "")]).expect("valid");
        assert_eq!(config.metrics_port, None);
        let config = load_text("[server]\n", &[("KITH_METRICS_PORT", "0")]).expect("valid");
        assert_eq!(config.metrics_port, Some(0));
        let err = load_text("[server]\nMETRICS_PORT = 70000\n", &[]).expect_err("out of range");
        assert!(err.to_string().contains("METRICS_PORT"), "{err}");
    }

    #[test]
    fn default_database_is_a_file_in_the_data_dir() {
        let config = Config::default();
        assert!(config.database_url().starts_with("sqlite://data/kith.db"));
    }
}

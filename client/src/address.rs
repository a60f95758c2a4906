//! Where the server is: the address typed on the login screen (one server, a load balancer in
//! front of a cluster, or several nodes of a cluster separated by commas), the socket port
//! beside it, and the defaults read from a `server.conf` next to the client.

use std::fmt;
use std::path::{Path, PathBuf};

/// The HTTP port a server listens on when the address names none.
pub const DEFAULT_HTTP_PORT: u16 = 8000;

/// The servers of one community as typed on the login screen: one address, or the nodes of a
/// cluster separated by commas (`a.example.org, b.example.org`). Never empty. The client
/// reaches the first node that answers and moves to the next when one stops answering.
#[derive(Debug, Clone, PartialEq, Eq, Hash)]
pub struct ServerAddress {
    nodes: Vec<Node>,
}

/// One server (or cluster node) as the client reaches it: the HTTP API and the realtime socket
/// on the same host.
#[derive(Debug, Clone, PartialEq, Eq, Hash)]
pub struct Node {
    /// TLS: `https://` was typed, or no scheme was typed and the host is not this machine.
    pub secure: bool,
    /// Host name or IP address (IPv6 without brackets).
    pub host: String,
    pub http_port: u16,
    pub socket_port: u16,
}

/// Why an address typed by the user is not usable.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
pub enum AddressError {
    #[error("{}", t!("address-empty"))]
    Empty,
    #[error("{}", t!("address-no-host"))]
    NoHost,
    #[error("{}", t!("address-bad-port", port = .0))]
    BadPort(String),
    #[error("{}", t!("address-garbage"))]
    Garbage,
}

impl ServerAddress {
    /// Reads one address or several separated by commas, each as [`Node::parse`] reads it
    /// (`socket_port`, when given, is the socket port of every node). The same node twice
    /// counts once.
    pub fn parse(text: &str, socket_port: &str) -> Result<Self, AddressError> {
        let mut nodes: Vec<Node> = Vec::new();
        for part in text.split(',') {
            if part.trim().is_empty() && text.contains(',') {
                continue;
            }
            let node = Node::parse(part, socket_port)?;
            if !nodes.contains(&node) {
                nodes.push(node);
            }
        }
        if nodes.is_empty() {
            return Err(AddressError::Empty);
        }
        Ok(Self { nodes })
    }

    /// Every node, in the order typed: the first is tried first.
    pub fn nodes(&self) -> &[Node] {
        &self.nodes
    }

    /// The first node typed.
    pub fn first(&self) -> &Node {
        &self.nodes[0]
    }

    /// The socket port as the login screen's advanced field shows it: None when it is the HTTP
    /// port + 1, the server's default layout.
    pub fn custom_socket_port(&self) -> Option<u16> {
        let first = self.first();
        Some(first.socket_port).filter(|port| Some(*port) != first.http_port.checked_add(1))
    }

    /// A folder name for this community's local data: the first node's (see
    /// [`Node::folder_name`]), so the cache stays the same whichever node answers.
    pub fn folder_name(&self) -> String {
        self.first().folder_name()
    }
}

impl From<Node> for ServerAddress {
    fn from(node: Node) -> Self {
        Self { nodes: vec![node] }
    }
}

impl fmt::Display for ServerAddress {
    /// The addresses as the user would type them again, separated by `, `.
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        for (i, node) in self.nodes.iter().enumerate() {
            if i > 0 {
                f.write_str(", ")?;
            }
            write!(f, "{node}")?;
        }
        Ok(())
    }
}

impl Node {
    /// Reads `host`, `host:port`, `[v6]:port`, optionally after `http://` or `https://`.
    /// Without a scheme, a server on this machine is reached in clear text and any other over
    /// TLS, as a server with the default `TLS = auto` speaks. `socket_port` is the optional
    /// advanced field; when empty the socket is on the HTTP port + 1, the server's default
    /// layout (8000 and 8001).
    pub fn parse(text: &str, socket_port: &str) -> Result<Self, AddressError> {
        let text = text.trim();
        if text.is_empty() {
            return Err(AddressError::Empty);
        }
        let (scheme, rest) = if let Some(rest) = strip_prefix_ci(text, "https://") {
            (Some(true), rest)
        } else if let Some(rest) = strip_prefix_ci(text, "http://") {
            (Some(false), rest)
        } else {
            (None, text)
        };
        let rest = rest.strip_suffix('/').unwrap_or(rest);
        if rest.contains('/') || rest.contains(char::is_whitespace) {
            return Err(AddressError::Garbage);
        }
        let (host, port) = if let Some(after_bracket) = rest.strip_prefix('[') {
            let (host, tail) = after_bracket.split_once(']').ok_or(AddressError::Garbage)?;
            match tail {
                "" => (host, None),
                tail => (host, Some(tail.strip_prefix(':').ok_or(AddressError::Garbage)?)),
            }
        } else if rest.matches(':').count() > 1 {
            // A bare IPv6 address without a port.
            (rest, None)
        } else {
            match rest.split_once(':') {
                Some((host, port)) => (host, Some(port)),
                None => (rest, None),
            }
        };
        if host.is_empty() {
            return Err(AddressError::NoHost);
        }
        let secure = scheme.unwrap_or_else(|| !is_this_machine(host));
        let http_port = match port {
            Some(port) => parse_port(port)?,
            None if scheme == Some(true) => 443,
            None => DEFAULT_HTTP_PORT,
        };
        let socket_port = match socket_port.trim() {
            "" => http_port.checked_add(1).ok_or_else(|| AddressError::BadPort("65536".into()))?,
            port => parse_port(port)?,
        };
        Ok(Self { secure, host: host.to_owned(), http_port, socket_port })
    }

    /// The base URL of the HTTP API, without a trailing slash.
    pub fn http_base(&self) -> String {
        let scheme = if self.secure { "https" } else { "http" };
        format!("{scheme}://{}:{}", self.host_for_url(), self.http_port)
    }

    /// `host:port` of the realtime socket, ready for `TcpStream::connect`.
    pub fn socket_target(&self) -> String {
        format!("{}:{}", self.host_for_url(), self.socket_port)
    }

    /// The server as its line in the trusted certificates names it: `host:port` of the HTTP API.
    pub fn trust_key(&self) -> String {
        format!("{}:{}", self.host_for_url(), self.http_port)
    }

    /// A folder name for this server's local data: `host_port`, with every character
    /// outside `[A-Za-z0-9.-]` replaced by `_`.
    pub fn folder_name(&self) -> String {
        let raw = format!("{}_{}", self.host, self.http_port);
        raw.chars().map(|c| if c.is_ascii_alphanumeric() || c == '.' || c == '-' { c } else { '_' }).collect()
    }

    fn host_for_url(&self) -> String {
        if self.host.contains(':') { format!("[{}]", self.host) } else { self.host.clone() }
    }
}

impl fmt::Display for Node {
    /// The address as the user would type it again.
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        // The scheme only when it is not the one the bare address implies.
        match (self.secure, is_this_machine(&self.host)) {
            (true, true) => f.write_str("https://")?,
            (false, false) => f.write_str("http://")?,
            _ => {}
        }
        write!(f, "{}:{}", self.host_for_url(), self.http_port)
    }
}

/// `localhost` or a loopback address: only this machine can listen there.
pub fn is_this_machine(host: &str) -> bool {
    host.eq_ignore_ascii_case("localhost")
        || host.parse::<std::net::IpAddr>().is_ok_and(|ip| ip.is_loopback())
}

fn strip_prefix_ci<'a>(text: &'a str, prefix: &str) -> Option<&'a str> {
    let head = text.get(..prefix.len())?;
    head.eq_ignore_ascii_case(prefix).then(|| &text[prefix.len()..])
}

fn parse_port(text: &str) -> Result<u16, AddressError> {
    match text.trim().parse::<u16>() {
        Ok(port) if port > 0 => Ok(port),
        _ => Err(AddressError::BadPort(text.trim().to_owned())),
    }
}

/// What the client takes from a server's `server.conf` found beside it: the ports and
/// whether new-message sounds are on by default.
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct ServerConf {
    pub server_ip: Option<String>,
    pub http_port: Option<u16>,
    pub socket_port: Option<u16>,
    pub enable_music: Option<bool>,
    /// Whether the server speaks TLS, when the file says it plainly (`TLS = on|off`, or a
    /// certificate file set).
    pub tls: Option<bool>,
}

impl ServerConf {
    /// Looks for `server.conf` in the current directory, then beside the executable.
    pub fn find() -> Option<Self> {
        let mut candidates = vec![PathBuf::from("server.conf")];
        if let Some(dir) = std::env::current_exe().ok().and_then(|exe| exe.parent().map(Path::to_path_buf)) {
            candidates.push(dir.join("server.conf"));
        }
        candidates.iter().find_map(|path| std::fs::read_to_string(path).ok()).map(|text| Self::parse(&text))
    }

    /// Reads the `[server]` section of the INI text. Unknown keys, other sections and
    /// values that do not parse are ignored: the client only borrows defaults from it.
    pub fn parse(text: &str) -> Self {
        let mut conf = Self::default();
        let mut in_server = true;
        for line in text.lines() {
            let line = line.trim();
            if line.is_empty() || line.starts_with(';') || line.starts_with('#') {
                continue;
            }
            if let Some(section) = line.strip_prefix('[').and_then(|l| l.strip_suffix(']')) {
                in_server = section.trim().eq_ignore_ascii_case("server");
                continue;
            }
            let Some((key, value)) = line.split_once('=') else { continue };
            if !in_server {
                continue;
            }
            let value = value.trim();
            match key.trim().to_ascii_uppercase().as_str() {
                "SERVER_IP" if !value.is_empty() => conf.server_ip = Some(value.to_owned()),
                "HTTP_PORT" => conf.http_port = value.parse().ok().filter(|p| *p != 0),
                "SOCKET_PORT" => conf.socket_port = value.parse().ok().filter(|p| *p != 0),
                "ENABLE_MUSIC" => conf.enable_music = parse_bool(value),
                "TLS" => conf.tls = conf.tls.or(parse_bool(value)),
                "TLS_CERT_FILE" if !value.is_empty() => conf.tls = Some(true),
                _ => {}
            }
        }
        conf
    }

    /// The address to offer on the login screen, and the socket port when it is not the
    /// HTTP port + 1.
    pub fn default_address(&self) -> (String, Option<u16>) {
        let host = match self.server_ip.as_deref() {
            None | Some("0.0.0.0") | Some("::") | Some("[::]") => "127.0.0.1".to_owned(),
            Some(ip) if ip.contains(':') => format!("[{ip}]"),
            Some(ip) => ip.to_owned(),
        };
        let http_port = self.http_port.unwrap_or(DEFAULT_HTTP_PORT);
        let socket_port = self.socket_port.filter(|port| Some(*port) != http_port.checked_add(1));
        let bare = host.trim_start_matches('[').trim_end_matches(']');
        let scheme = match (self.tls, is_this_machine(bare)) {
            (Some(true), true) => "https://",
            (Some(false), false) => "http://",
            _ => "",
        };
        (format!("{scheme}{host}:{http_port}"), socket_port)
    }
}

fn parse_bool(value: &str) -> Option<bool> {
    match value.to_ascii_lowercase().as_str() {
        "true" | "yes" | "on" | "1" => Some(true),
        "false" | "no" | "off" | "0" => Some(false),
        _ => None,
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn host_and_port_derive_the_socket_port() {
        let addr = Node::parse("127.0.0.1:8000", "").expect("valid");
        assert_eq!(addr.http_base(), "http://127.0.0.1:8000");
        assert_eq!(addr.socket_target(), "127.0.0.1:8001");
        assert_eq!(addr.to_string(), "127.0.0.1:8000");
    }

    #[test]
    fn bare_host_uses_the_default_ports() {
        let addr = Node::parse("  chat.example.org ", "").expect("valid");
        assert_eq!((addr.http_port, addr.socket_port), (8000, 8001));
        assert_eq!(addr.host, "chat.example.org");
    }

    #[test]
    fn other_machines_are_reached_over_tls_unless_told_otherwise() {
        let remote = Node::parse("chat.example.org:8000", "").expect("valid");
        assert!(remote.secure, "a server elsewhere speaks TLS by default");
        assert_eq!(remote.http_base(), "https://chat.example.org:8000");
        assert_eq!(remote.to_string(), "chat.example.org:8000");
        let clear = Node::parse("http://192.168.1.5:8000", "").expect("valid");
        assert!(!clear.secure);
        assert_eq!(clear.to_string(), "http://192.168.1.5:8000", "typed again, it stays clear text");
        for local in ["127.0.0.1:8000", "localhost:8000", "[::1]:8000"] {
            assert!(!Node::parse(local, "").expect("valid").secure, "{local}");
        }
        let local_tls = Node::parse("https://localhost:8000", "").expect("valid");
        assert!(local_tls.secure);
        assert_eq!(local_tls.to_string(), "https://localhost:8000");
        assert_eq!(Node::parse(&local_tls.to_string(), "").expect("valid"), local_tls);
        assert_eq!(local_tls.trust_key(), "localhost:8000");
    }

    #[test]
    fn scheme_trailing_slash_and_explicit_socket_port() {
        let addr = Node::parse("HTTPS://chat.example.org:9443/", " 9500 ").expect("valid");
        assert!(addr.secure);
        assert_eq!(addr.http_base(), "https://chat.example.org:9443");
        assert_eq!(addr.socket_target(), "chat.example.org:9500");
    }

    #[test]
    fn ipv6_addresses_keep_their_brackets_in_urls() {
        let addr = Node::parse("[::1]:8000", "").expect("valid");
        assert_eq!(addr.host, "::1");
        assert_eq!(addr.http_base(), "http://[::1]:8000");
        assert_eq!(addr.socket_target(), "[::1]:8001");
        assert_eq!(addr.folder_name(), "__1_8000");
        let bare = Node::parse("fe80::1", "").expect("valid");
        assert_eq!(bare.http_port, 8000);
    }

    #[test]
    fn bad_addresses_are_refused_with_reasons() {
        assert_eq!(Node::parse("   ", ""), Err(AddressError::Empty));
        assert_eq!(Node::parse(":8000", ""), Err(AddressError::NoHost));
        assert_eq!(Node::parse("host:0", ""), Err(AddressError::BadPort("0".into())));
        assert_eq!(Node::parse("host:99999", ""), Err(AddressError::BadPort("99999".into())));
        assert_eq!(Node::parse("host:8000", "abc"), Err(AddressError::BadPort("abc".into())));
        assert_eq!(Node::parse("host/path", ""), Err(AddressError::Garbage));
        assert_eq!(Node::parse("ho st", ""), Err(AddressError::Garbage));
        assert!(matches!(Node::parse("host:65535", ""), Err(AddressError::BadPort(_))));
    }

    #[test]
    fn several_nodes_are_separated_by_commas() {
        let cluster =
            ServerAddress::parse(" a.example.org:8000, http://10.0.0.2:9000 ,, a.example.org:8000,", "")
                .expect("valid");
        let nodes: Vec<String> = cluster.nodes().iter().map(Node::http_base).collect();
        assert_eq!(nodes, ["https://a.example.org:8000", "http://10.0.0.2:9000"], "in order, once each");
        assert_eq!(cluster.to_string(), "a.example.org:8000, http://10.0.0.2:9000");
        assert_eq!(ServerAddress::parse(&cluster.to_string(), "").expect("valid"), cluster);
        assert_eq!(cluster.folder_name(), "a.example.org_8000", "the first node names the local data");
        let shared_socket = ServerAddress::parse("a:8000, b:8000", "9001").expect("valid");
        assert!(shared_socket.nodes().iter().all(|node| node.socket_port == 9001));
        assert_eq!(ServerAddress::parse(" , ", ""), Err(AddressError::Empty));
        assert_eq!(ServerAddress::parse("a:8000, b:0", ""), Err(AddressError::BadPort("0".into())));
        let one = ServerAddress::parse("127.0.0.1:8000", "").expect("valid");
        assert_eq!(one.nodes().len(), 1);
        assert_eq!(one.to_string(), "127.0.0.1:8000");
    }

    #[test]
    fn folder_names_separate_servers_and_stay_plain() {
        let a = Node::parse("chat.example.org:8000", "").expect("valid");
        let b = Node::parse("chat.example.org:9000", "").expect("valid");
        assert_eq!(a.folder_name(), "chat.example.org_8000");
        assert_ne!(a.folder_name(), b.folder_name());
    }

    #[test]
    fn server_conf_gives_ports_and_sound_default() {
        let conf = ServerConf::parse(
            "; comment\n[server]\nSERVER_IP = 0.0.0.0\nHTTP_PORT = 9000\nSOCKET_PORT = 9100\n\
             ENABLE_MUSIC = false\n[other]\nHTTP_PORT = 1\n",
        );
        assert_eq!(conf.http_port, Some(9000));
        assert_eq!(conf.socket_port, Some(9100));
        assert_eq!(conf.enable_music, Some(false));
        assert_eq!(conf.default_address(), ("127.0.0.1:9000".to_owned(), Some(9100)));
    }

    #[test]
    fn server_conf_with_the_default_layout_needs_no_socket_port() {
        let conf =
            ServerConf::parse("[server]\nSERVER_IP = 10.0.0.5\nHTTP_PORT = 8000\nSOCKET_PORT = 8001\n");
        assert_eq!(conf.default_address(), ("10.0.0.5:8000".to_owned(), None));
        let clear = ServerConf::parse("[server]\nSERVER_IP = 10.0.0.5\nTLS = off\n");
        assert_eq!(clear.default_address(), ("http://10.0.0.5:8000".to_owned(), None));
        let local_tls = ServerConf::parse("[server]\nTLS_CERT_FILE = /etc/kith/cert.pem\n");
        assert_eq!(local_tls.default_address(), ("https://127.0.0.1:8000".to_owned(), None));
        let free_ports = ServerConf::parse("[server]\nHTTP_PORT = 0\nSOCKET_PORT = 0\n");
        assert_eq!(free_ports.default_address(), ("127.0.0.1:8000".to_owned(), None));
    }
}

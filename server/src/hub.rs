//! The hub: the one registry of this node's online connections and the router of frames to
//! users. Everything that wants to reach a user goes through here; in a cluster the hub also
//! hands every delivery and kick to the bus (`crate::bus`), and applies those of the other
//! nodes to its own connections (`*_here`).

use crate::bus::{Event, Kicked, Relay};
use crate::outgoing::{self, QueueReceiver, QueueSender, Refused};
use bytes::Bytes;
use kith_shared::codec::to_json;
use kith_shared::frame::KickReason;
use kith_shared::{ServerFrame, UserId};
use std::collections::{HashMap, HashSet};
use std::sync::RwLock;
use std::sync::atomic::{AtomicU64, Ordering};
use std::time::{Duration, Instant};
use tokio_util::sync::CancellationToken;

/// Identifies one socket connection for the life of the process.
pub type ConnId = u64;

/// What a connection's writer task is asked to do.
#[derive(Debug)]
pub enum Outbound {
    /// Write this JSON frame.
    Frame(Bytes),
    /// Write this JSON frame, then close the connection.
    Close(Bytes),
}

/// The SHA-256 of a session's token, which the database keeps in hex (`crate::auth::token_hash`),
/// held here as its 32 bytes: every connection and the session watch keep one, with no
/// allocation of its own.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, PartialOrd, Ord)]
pub struct TokenHash([u8; 32]);

impl TokenHash {
    /// Reads the hex form the database keeps (64 lowercase hex digits); None for anything else.
    pub fn from_hex(hex: &str) -> Option<Self> {
        let digit = |c: u8| match c {
            b'0'..=b'9' => Some(c - b'0'),
            b'a'..=b'f' => Some(c - b'a' + 10),
            _ => None,
        };
        let hex = hex.as_bytes();
        if hex.len() != 64 {
            return None;
        }
        let mut bytes = [0u8; 32];
        for (byte, pair) in bytes.iter_mut().zip(hex.chunks_exact(2)) {
            *byte = digit(pair[0])? << 4 | digit(pair[1])?;
        }
        Some(Self(bytes))
    }

    /// The hex form the database keeps.
    pub fn to_hex(self) -> String {
        const DIGITS: &[u8; 16] = b"0123456789abcdef";
        let mut hex = String::with_capacity(64);
        for byte in self.0 {
            hex.push(DIGITS[usize::from(byte >> 4)] as char);
            hex.push(DIGITS[usize::from(byte & 0xf)] as char);
        }
        hex
    }
}

/// The hub's handle on one live connection.
#[derive(Debug, Clone)]
pub struct Link {
    pub conn_id: ConnId,
    /// The token the connection said hello with, to find it on log out.
    pub token_hash: TokenHash,
    pub queue: QueueSender,
    /// Cancelled when the peer does not read fast enough (its queue was full): the connection
    /// stops, is told `kicked` with reason `too_slow` if the socket still takes it, and
    /// closes. The client catches up through sync when it reconnects.
    pub too_slow: CancellationToken,
}

impl Link {
    /// A link for a new connection with an outgoing queue of `capacity` frames.
    pub fn new(conn_id: ConnId, token_hash: TokenHash, capacity: usize) -> (Self, QueueReceiver) {
        let (queue, outgoing) = outgoing::queue(capacity);
        (Self { conn_id, token_hash, queue, too_slow: CancellationToken::new() }, outgoing)
    }

    /// Queues a frame without waiting. A frame owed to a connection is never dropped
    /// quietly: when the queue is full the connection is cut as too slow.
    pub fn push(&self, outbound: Outbound) {
        if let Err(Refused::Full) = self.queue.try_send(outbound) {
            if !self.too_slow.is_cancelled() {
                tracing::info!(conn = self.conn_id, "outgoing queue full; cutting the connection off");
            }
            self.too_slow.cancel();
        }
    }
}

/// The registry of who is connected where.
#[derive(Debug)]
pub struct Hub {
    online: RwLock<HashMap<UserId, Vec<Link>>>,
    next_conn: AtomicU64,
    multi_device: bool,
    /// The other nodes of a cluster; None for a node alone.
    relay: Option<Relay>,
    /// Who is online on each other node of the cluster, as they last said.
    remote: RwLock<HashMap<u64, RemoteNode>>,
}

/// What a node knows of another node of its cluster.
#[derive(Debug)]
struct RemoteNode {
    /// When the node was last heard of on the bus.
    seen: Instant,
    /// The users with a connection there.
    users: HashSet<UserId>,
}

/// The outcome of [`Hub::register`].
#[derive(Debug)]
pub struct Registered {
    pub conn_id: ConnId,
    /// True when this is the user's only connection (the user just came online).
    pub came_online: bool,
}

impl Hub {
    pub fn new(multi_device: bool, relay: Option<Relay>) -> Self {
        Self {
            online: RwLock::new(HashMap::new()),
            next_conn: AtomicU64::new(1),
            multi_device,
            relay,
            remote: RwLock::new(HashMap::new()),
        }
    }

    /// The link to the other nodes, for a node of a cluster.
    pub fn relay(&self) -> Option<&Relay> {
        self.relay.as_ref()
    }

    /// A new id for a connection about to register.
    pub fn next_conn_id(&self) -> ConnId {
        self.next_conn.fetch_add(1, Ordering::Relaxed)
    }

    /// Adds a connection. Without multi-device, the user's other connections are kicked
    /// with "logged in elsewhere", on every node. `came_online` is true when the user had no
    /// connection on any node.
    pub fn register(&self, user_id: UserId, link: Link) -> Registered {
        let conn_id = link.conn_id;
        let token_hash = link.token_hash;
        let kicked = || {
            to_json(&ServerFrame::Kicked {
                reason: KickReason::LoggedInElsewhere,
                message: "this account logged in elsewhere".to_owned(),
            })
        };
        let mut online = self.online.write().unwrap_or_else(|e| e.into_inner());
        // Room for one link: most users have one connection, and a user's entry lives as long
        // as they are online.
        let links = online.entry(user_id).or_insert_with(|| Vec::with_capacity(1));
        if !self.multi_device && !links.is_empty() {
            let kicked = kicked();
            for old in links.drain(..) {
                old.push(Outbound::Close(kicked.clone()));
            }
        }
        let first_here = links.is_empty();
        links.push(link);
        drop(online);
        let Some(relay) = &self.relay else { return Registered { conn_id, came_online: first_here } };
        if !self.multi_device {
            relay.publish(
                Event::Kick { user: user_id, which: Kicked::Replaced(token_hash.to_hex()) },
                &kicked(),
            );
        }
        if first_here {
            relay.publish(Event::Online { user: user_id }, b"");
        }
        Registered { conn_id, came_online: first_here && !self.is_online_elsewhere(user_id) }
    }

    /// Removes a connection. Returns true when it was the user's last one on every node (the
    /// user went offline). A connection already replaced by a kick returns false.
    pub fn unregister(&self, user_id: UserId, conn_id: ConnId) -> bool {
        let mut online = self.online.write().unwrap_or_else(|e| e.into_inner());
        let Some(links) = online.get_mut(&user_id) else { return false };
        let before = links.len();
        links.retain(|link| link.conn_id != conn_id);
        let removed = links.len() < before;
        if links.is_empty() {
            online.remove(&user_id);
        }
        let last_here = removed && !online.contains_key(&user_id);
        drop(online);
        let Some(relay) = &self.relay else { return last_here };
        if last_here {
            relay.publish(Event::Offline { user: user_id }, b"");
        }
        last_here && !self.is_online_elsewhere(user_id)
    }

    /// Whether the user has a connection on any node.
    pub fn is_online(&self, user_id: UserId) -> bool {
        self.online.read().unwrap_or_else(|e| e.into_inner()).contains_key(&user_id)
            || (self.relay.is_some() && self.is_online_elsewhere(user_id))
    }

    /// Those of `user_ids` with at least one connection on any node.
    pub fn online_among(&self, user_ids: &[UserId]) -> Vec<UserId> {
        let online = self.online.read().unwrap_or_else(|e| e.into_inner());
        if self.relay.is_none() {
            return user_ids.iter().copied().filter(|id| online.contains_key(id)).collect();
        }
        // Lock order: `online`, then `remote`.
        let remote = self.remote.read().unwrap_or_else(|e| e.into_inner());
        user_ids
            .iter()
            .copied()
            .filter(|id| online.contains_key(id) || remote.values().any(|node| node.users.contains(id)))
            .collect()
    }

    /// Whether another node said the user has a connection there.
    fn is_online_elsewhere(&self, user_id: UserId) -> bool {
        self.remote
            .read()
            .unwrap_or_else(|e| e.into_inner())
            .values()
            .any(|node| node.users.contains(&user_id))
    }

    /// The users with a connection on this node.
    pub fn users_here(&self) -> Vec<UserId> {
        self.online.read().unwrap_or_else(|e| e.into_inner()).keys().copied().collect()
    }

    /// Another node said who is online there (and so that it is alive).
    pub fn remote_presence(&self, node: u64, change: RemoteChange) {
        let mut remote = self.remote.write().unwrap_or_else(|e| e.into_inner());
        let entry =
            remote.entry(node).or_insert_with(|| RemoteNode { seen: Instant::now(), users: HashSet::new() });
        entry.seen = Instant::now();
        match change {
            RemoteChange::All(users) => entry.users = users.into_iter().collect(),
            RemoteChange::Came(user) => {
                entry.users.insert(user);
            }
            RemoteChange::Went(user) => {
                entry.users.remove(&user);
            }
        }
    }

    /// Forgets the nodes not heard of for `lease` (they died or lost the bus); returns their
    /// users who are now online nowhere, whose audience this node must tell.
    pub fn expire_remote(&self, lease: Duration) -> Vec<UserId> {
        let mut remote = self.remote.write().unwrap_or_else(|e| e.into_inner());
        let now = Instant::now();
        let dead: Vec<u64> = remote
            .iter()
            .filter(|(_, node)| now.duration_since(node.seen) > lease)
            .map(|(id, _)| *id)
            .collect();
        let mut gone = HashSet::new();
        for id in dead {
            if let Some(node) = remote.remove(&id) {
                tracing::warn!(
                    node = format!("{id:016x}"),
                    users = node.users.len(),
                    "a cluster node went silent"
                );
                gone.extend(node.users);
            }
        }
        gone.retain(|user| !remote.values().any(|node| node.users.contains(user)));
        drop(remote);
        let online = self.online.read().unwrap_or_else(|e| e.into_inner());
        gone.into_iter().filter(|user| !online.contains_key(user)).collect()
    }

    /// How many connections are open.
    pub fn connection_count(&self) -> usize {
        self.online.read().unwrap_or_else(|e| e.into_inner()).values().map(Vec::len).sum()
    }

    /// Each user with a connection and the token it said hello with, once per pair.
    pub fn sessions(&self) -> Vec<(UserId, TokenHash)> {
        let online = self.online.read().unwrap_or_else(|e| e.into_inner());
        let mut sessions: Vec<(UserId, TokenHash)> = Vec::with_capacity(online.len());
        for (user_id, links) in online.iter() {
            let start = sessions.len();
            sessions.extend(links.iter().map(|link| (*user_id, link.token_hash)));
            // A user's connections with one token are one session.
            if links.len() > 1 {
                sessions[start..].sort_unstable();
                let mut distinct = start;
                for i in start..sessions.len() {
                    if i == start || sessions[i] != sessions[distinct - 1] {
                        sessions[distinct] = sessions[i];
                        distinct += 1;
                    }
                }
                sessions.truncate(distinct);
            }
        }
        sessions
    }

    /// Sends a frame to every connection of one user, on every node.
    pub fn send(&self, user_id: UserId, frame: &ServerFrame) {
        self.send_json_to(&[user_id], None, to_json(frame));
    }

    /// Sends one frame to every connection of each user, on every node, serialising it once.
    pub fn send_many(&self, user_ids: impl IntoIterator<Item = UserId>, frame: &ServerFrame) {
        let user_ids: Vec<UserId> = user_ids.into_iter().collect();
        self.send_json_to(&user_ids, None, to_json(frame));
    }

    /// Sends pre-serialised JSON to every connection of these users but `except` (one of
    /// this node's), on every node: one bus message for all of them.
    pub fn send_json_to(&self, user_ids: &[UserId], except: Option<ConnId>, json: Bytes) {
        self.deliver_here(user_ids, except, &json);
        if let Some(relay) = &self.relay {
            relay.publish(Event::Deliver { users: user_ids.to_vec() }, &json);
        }
    }

    /// Queues JSON on this node's connections of these users but `except`.
    pub fn deliver_here(&self, user_ids: &[UserId], except: Option<ConnId>, json: &Bytes) {
        let online = self.online.read().unwrap_or_else(|e| e.into_inner());
        for user_id in user_ids {
            for link in online.get(user_id).into_iter().flatten() {
                if Some(link.conn_id) != except {
                    link.push(Outbound::Frame(json.clone()));
                }
            }
        }
    }

    /// Closes a user's connections with a `kicked` frame, on every node; with `token_hash`,
    /// only those that said hello with that token, otherwise those that did not use
    /// `except_token`.
    pub fn kick(&self, user_id: UserId, who: KickWhich<'_>, reason: KickReason, message: &str) {
        let json = to_json(&ServerFrame::Kicked { reason, message: message.to_owned() });
        let which = match who {
            KickWhich::Token(hash) => Kicked::Token(hash.to_owned()),
            KickWhich::AllBut(hash) => Kicked::AllBut(hash.to_owned()),
            KickWhich::Replaced(hash) => Kicked::Replaced(hash.to_owned()),
        };
        if let Some(relay) = &self.relay {
            relay.publish(Event::Kick { user: user_id, which: which.clone() }, &json);
        }
        // This node's own kick needs no check: the caller made the session and found it
        // still there.
        let which = match which {
            Kicked::Replaced(hash) => Kicked::AllBut(hash),
            other => other,
        };
        self.kick_here(user_id, &which, json);
    }

    /// Closes this node's connections of a user that `which` names with `json` (a `kicked`
    /// frame).
    pub fn kick_here(&self, user_id: UserId, which: &Kicked, json: Bytes) {
        // A hash that is not one (no node sends such) names no connection.
        let (named, all_but) = match which {
            Kicked::Token(hash) => (TokenHash::from_hex(hash), false),
            Kicked::AllBut(hash) | Kicked::Replaced(hash) => (TokenHash::from_hex(hash), true),
        };
        let hit = |link: &Link| (Some(link.token_hash) == named) != all_but;
        let mut online = self.online.write().unwrap_or_else(|e| e.into_inner());
        let Some(links) = online.get_mut(&user_id) else { return };
        for link in links.iter().filter(|link| hit(link)) {
            link.push(Outbound::Close(json.clone()));
        }
        // A user whose connections here were replaced by one on another node is not online
        // here any more, as after a kick by a new connection on this node.
        if matches!(which, Kicked::Replaced(_)) {
            let before = links.len();
            links.retain(|link| !hit(link));
            if before > 0 && links.is_empty() {
                online.remove(&user_id);
                drop(online);
                if let Some(relay) = &self.relay {
                    relay.publish(Event::Offline { user: user_id }, b"");
                }
            }
        }
    }

    /// Tells every connection the server is going away and closes it.
    pub fn going_away(&self, message: &str) {
        let json = to_json(&ServerFrame::GoingAway { message: message.to_owned() });
        let online = self.online.read().unwrap_or_else(|e| e.into_inner());
        for link in online.values().flatten() {
            link.push(Outbound::Close(json.clone()));
        }
    }
}

/// What another node said of who is online there.
#[derive(Debug)]
pub enum RemoteChange {
    /// These are all its users (its heartbeat).
    All(Vec<UserId>),
    /// This user came online there.
    Came(UserId),
    /// This user went offline there.
    Went(UserId),
}

/// Which of a user's connections [`Hub::kick`] closes.
#[derive(Debug, Clone, Copy)]
pub enum KickWhich<'a> {
    /// Those that said hello with this token hash.
    Token(&'a str),
    /// All but those that said hello with this token hash.
    AllBut(&'a str),
    /// All but those that said hello with this token hash, the session of a login that ended
    /// the account's other sessions. Other nodes first check that this session has not been
    /// ended in turn by an overlapping login (see [`Kicked::Replaced`]).
    Replaced(&'a str),
}

#[cfg(test)]
mod tests {
    use super::*;

    /// A token hash for tests: `t` and its number, e.g. "t1".
    fn hash(token: &str) -> String {
        crate::auth::token_hash(token)
    }

    fn link(hub: &Hub, token: &str, capacity: usize) -> (Link, QueueReceiver) {
        let token_hash = TokenHash::from_hex(&hash(token)).expect("a token hash");
        Link::new(hub.next_conn_id(), token_hash, capacity)
    }

    #[test]
    fn token_hashes_read_and_write_the_hex_form() {
        let hex = hash("t1");
        let parsed = TokenHash::from_hex(&hex).expect("hex");
        assert_eq!(parsed.to_hex(), hex);
        assert_ne!(TokenHash::from_hex(&hash("t2")), Some(parsed));
        assert_eq!(TokenHash::from_hex(&hex.to_uppercase()), None, "the database keeps lowercase");
        assert_eq!(TokenHash::from_hex(&hex[1..]), None);
        assert_eq!(TokenHash::from_hex(&format!("{}g", &hex[1..])), None);
        assert_eq!(TokenHash::from_hex(""), None);
    }

    #[test]
    fn sessions_are_listed_once_per_user_and_token() {
        let hub = Hub::new(true, None);
        let mut receivers = Vec::new();
        for (user, token) in [(1, "t1"), (1, "t1"), (1, "t2"), (2, "t3"), (1, "t1"), (2, "t3")] {
            let (link, rx) = link(&hub, token, 8);
            hub.register(user, link);
            receivers.push(rx);
        }
        let mut sessions = hub.sessions();
        sessions.sort_unstable();
        let mut expected: Vec<(UserId, TokenHash)> = [(1, "t1"), (1, "t2"), (2, "t3")]
            .into_iter()
            .map(|(user, token)| (user, TokenHash::from_hex(&hash(token)).expect("hex")))
            .collect();
        expected.sort_unstable();
        assert_eq!(sessions, expected);
    }

    #[test]
    fn second_connection_kicks_the_first_without_multi_device() {
        let hub = Hub::new(false, None);
        let (a, mut rx_a) = link(&hub, "t1", 8);
        let (b, _rx_b) = link(&hub, "t2", 8);
        let first = hub.register(7, a.clone());
        assert!(first.came_online);
        let second = hub.register(7, b);
        assert!(second.came_online, "the kicked connection no longer counts");
        match rx_a.try_recv() {
            Some(Outbound::Close(json)) => {
                assert!(std::str::from_utf8(&json).expect("utf8").contains("logged_in_elsewhere"))
            }
            other => panic!("expected a kick, got {other:?}"),
        }
        assert!(!hub.unregister(7, a.conn_id), "the kicked connection's exit is not an offline");
        assert!(hub.is_online(7));
        assert!(hub.unregister(7, second.conn_id));
        assert!(!hub.is_online(7));
    }

    #[test]
    fn multi_device_keeps_both_and_goes_offline_with_the_last() {
        let hub = Hub::new(true, None);
        let (a, _rx_a) = link(&hub, "t1", 8);
        let (b, _rx_b) = link(&hub, "t2", 8);
        assert!(hub.register(1, a.clone()).came_online);
        assert!(!hub.register(1, b.clone()).came_online);
        assert_eq!(hub.connection_count(), 2);
        assert!(!hub.unregister(1, a.conn_id));
        assert!(hub.unregister(1, b.conn_id));
    }

    #[test]
    fn a_full_queue_cuts_the_connection() {
        let hub = Hub::new(false, None);
        let (a, _rx) = link(&hub, "t", 1);
        hub.register(3, a.clone());
        hub.send(3, &ServerFrame::Ping { nonce: 1 });
        assert!(!a.too_slow.is_cancelled());
        hub.send(3, &ServerFrame::Ping { nonce: 2 });
        assert!(a.too_slow.is_cancelled());
    }

    #[test]
    fn kick_by_token_spares_other_tokens() {
        let hub = Hub::new(true, None);
        let (a, mut rx_a) = link(&hub, "t1", 8);
        let (b, mut rx_b) = link(&hub, "t2", 8);
        hub.register(5, a);
        hub.register(5, b);
        hub.kick(5, KickWhich::Token(&hash("t1")), KickReason::LoggedOut, "bye");
        assert!(matches!(rx_a.try_recv(), Some(Outbound::Close(_))));
        assert!(rx_b.try_recv().is_none());
        hub.kick(5, KickWhich::AllBut(&hash("t1")), KickReason::LoggedOut, "bye");
        assert!(matches!(rx_b.try_recv(), Some(Outbound::Close(_))));
    }
}

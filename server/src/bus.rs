//! The cluster bus: with NATS_URL, every node publishes what its hub delivers, kicks and
//! forgets to the other nodes through NATS, and applies what they publish to its own
//! connections and caches. Presence crosses as events too: each node says when a user's first
//! connection there opens and the last one closes, and every [`HEARTBEAT`] the whole list;
//! a node not heard of for [`LEASE`] is taken for dead and its users for offline.
//!
//! The bus only wakes nodes up: the database is the truth. A frame is published after the
//! commit it announces, once per event whatever the number of receivers (a group message is
//! one bus message carrying the member ids, which each node delivers to its own connections
//! of those members). A node that may have missed bus messages (its NATS connection came back
//! after a loss, or NATS says the node read too slowly) closes its connections with
//! `going_away`; their clients reconnect, through any node, and sync from the database.
//!
//! Every node publishes to and subscribes to one subject, `<NATS_PREFIX>.events`; a node
//! ignores what it published itself. A bus message is a JSON header line (the sending node
//! and the [`Event`]) and, after a newline, the frame's JSON as the hub queues it.

use crate::app::App;
use crate::hub::{Hub, RemoteChange};
use crate::presence;
use bytes::{BufMut, Bytes, BytesMut};
use futures_util::StreamExt;
use kith_shared::UserId;
use kith_shared::api::ConversationId;
use serde::{Deserialize, Serialize};
use std::sync::Arc;
use std::time::Duration;
use tokio::sync::mpsc;

/// How often a node says it is alive, with the list of its online users.
pub const HEARTBEAT: Duration = Duration::from_secs(2);
/// A node not heard of for this long is taken for dead: its users are offline unless they
/// have a connection elsewhere. A killed node's users are shown offline within
/// `LEASE + HEARTBEAT`.
pub const LEASE: Duration = Duration::from_secs(6);

/// Bus messages waiting to be handed to the NATS client (while NATS is unreachable, say).
/// What does not fit is dropped with a warning: the other nodes, cut off from the same NATS,
/// close their connections for a resync when it comes back.
const OUTBOX: usize = 64 * 1024;

/// Why a node could not join the cluster.
#[derive(Debug, thiserror::Error)]
pub enum BusError {
    #[error("cannot reach NATS at {url}: {message}")]
    Connect { url: String, message: String },
    #[error("cannot subscribe to {subject}: {message}")]
    Subscribe { subject: String, message: String },
}

/// What one bus message asks of the other nodes.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[serde(tag = "event", rename_all = "snake_case")]
pub enum Event {
    /// Queue the body (a server frame) on every connection of these users.
    Deliver { users: Vec<UserId> },
    /// Close the user's connections that match with the body (a `kicked` frame).
    Kick { user: UserId, which: Kicked },
    /// Forget the cached members of this conversation.
    Forget { conversation: ConversationId },
    /// The user's first connection on the sending node opened.
    Online { user: UserId },
    /// The user's last connection on the sending node closed.
    Offline { user: UserId },
    /// The sending node's heartbeat: every user with a connection there.
    Alive { users: Vec<UserId> },
}

/// Which of a user's connections a [`Event::Kick`] closes.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum Kicked {
    /// All but those that said hello with this token hash, unless its session has ended:
    /// the user logged in, or said hello, with it on another node (one session per account).
    /// Of two logins of one account at the same instant, the one whose session the other
    /// ended kicks nothing, so the session left keeps its connection.
    Replaced(String),
    /// Those that said hello with this token hash (log out).
    Token(String),
    /// All but those that said hello with this token hash (password changed).
    AllBut(String),
}

#[derive(Debug, Serialize, Deserialize)]
struct Header {
    /// The node that published it.
    node: u64,
    #[serde(flatten)]
    event: Event,
}

/// The handle a node's hub and caches publish through. Cheap to clone.
#[derive(Debug, Clone)]
pub struct Relay {
    node: u64,
    outbox: mpsc::Sender<Bytes>,
}

impl Relay {
    /// Publishes an event with `body` to the other nodes, without waiting.
    pub fn publish(&self, event: Event, body: &[u8]) {
        let header = serde_json::to_vec(&Header { node: self.node, event })
            .expect("a bus header is plain data and always serialises");
        let mut payload = BytesMut::with_capacity(header.len() + 1 + body.len());
        payload.put_slice(&header);
        payload.put_u8(b'\n');
        payload.put_slice(body);
        if self.outbox.try_send(payload.freeze()).is_err() {
            tracing::warn!("cluster bus outbox full or closed; a bus message was dropped");
        }
    }
}

/// The receiving half, to run once the hub and the caches exist.
pub struct Inbox {
    node: u64,
    subscriber: async_nats::Subscriber,
    interrupted: mpsc::UnboundedReceiver<&'static str>,
}

/// Connects to NATS and subscribes to the cluster's subject. The publisher runs from now on;
/// the returned [`Inbox`] applies what other nodes publish once [`Inbox::run`] is called.
pub async fn connect(url: &str, prefix: &str) -> Result<(Relay, Inbox), BusError> {
    let node = node_id();
    let subject = format!("{prefix}.events");
    let (interruptions, interrupted) = mpsc::unbounded_channel();
    let client = async_nats::ConnectOptions::new()
        .name(format!("kith-server {node:016x}"))
        .event_callback(move |event| {
            let interruptions = interruptions.clone();
            async move {
                let reason = match event {
                    async_nats::Event::Disconnected => {
                        tracing::warn!("cluster bus: lost the connection to NATS; reconnecting");
                        return;
                    }
                    async_nats::Event::Connected => "the cluster bus reconnected",
                    async_nats::Event::SlowConsumer(_) => "the cluster bus dropped messages for this node",
                    other => {
                        tracing::info!(%other, "cluster bus");
                        return;
                    }
                };
                let _ = interruptions.send(reason);
            }
        })
        .connect(url)
        .await
        .map_err(|err| BusError::Connect { url: url.to_owned(), message: err.to_string() })?;
    let subscriber = client
        .subscribe(subject.clone())
        .await
        .map_err(|err| BusError::Subscribe { subject: subject.clone(), message: err.to_string() })?;
    let (outbox, mut queued) = mpsc::channel::<Bytes>(OUTBOX);
    tokio::spawn(async move {
        while let Some(payload) = queued.recv().await {
            if let Err(err) = client.publish(subject.clone(), payload).await {
                tracing::warn!(%err, "cluster bus: publishing failed");
            }
        }
        let _ = client.flush().await;
    });
    tracing::info!(node = format!("{node:016x}"), url, prefix, "joined the cluster bus");
    Ok((Relay { node, outbox }, Inbox { node, subscriber, interrupted }))
}

impl Inbox {
    /// Applies what the other nodes publish until the server shuts down; says every
    /// [`HEARTBEAT`] who is online here and tells this node's connections of the users of
    /// nodes gone silent; closes this node's connections (`going_away`, so that their
    /// clients reconnect and sync) whenever bus messages may have been missed.
    pub async fn run(mut self, app: Arc<App>) {
        let mut heartbeat = tokio::time::interval(HEARTBEAT);
        heartbeat.set_missed_tick_behavior(tokio::time::MissedTickBehavior::Delay);
        loop {
            tokio::select! {
                _ = app.shutdown.cancelled() => break,
                message = self.subscriber.next() => {
                    let Some(message) = message else {
                        tracing::error!("cluster bus: the subscription ended");
                        break;
                    };
                    self.apply(&app, &message.payload);
                }
                Some(reason) = self.interrupted.recv() => resync(&app.hub, reason),
                _ = heartbeat.tick() => {
                    if let Some(relay) = app.hub.relay() {
                        relay.publish(Event::Alive { users: app.hub.users_here() }, b"");
                    }
                    for user_id in app.hub.expire_remote(LEASE) {
                        presence::went_offline_here(&app, user_id).await;
                    }
                }
            }
        }
    }

    fn apply(&self, app: &Arc<App>, payload: &Bytes) {
        let (hub, membership) = (&app.hub, &app.membership);
        let Some(newline) = payload.iter().position(|b| *b == b'\n') else {
            tracing::warn!("cluster bus: a message without a header line; ignored");
            return;
        };
        let header: Header = match serde_json::from_slice(&payload[..newline]) {
            Ok(header) => header,
            Err(err) => {
                tracing::warn!(%err, "cluster bus: an unreadable header; ignored");
                return;
            }
        };
        if header.node == self.node {
            return;
        }
        let body = payload.slice(newline + 1..);
        match header.event {
            Event::Deliver { users } => hub.deliver_here(&users, None, &body),
            Event::Kick { user, which: Kicked::Replaced(token_hash) } => {
                let app = app.clone();
                tokio::spawn(async move {
                    match app.store.session_user(&token_hash).await {
                        Ok(None) => tracing::debug!(user, "a connection of an ended session kicks nothing"),
                        Ok(Some(_)) => app.hub.kick_here(user, &Kicked::Replaced(token_hash), body),
                        // One session per account comes first: kick as if it were valid.
                        Err(err) => {
                            tracing::warn!(%err, "cluster bus: cannot check a session; kicking");
                            app.hub.kick_here(user, &Kicked::Replaced(token_hash), body);
                        }
                    }
                });
            }
            Event::Kick { user, which } => hub.kick_here(user, &which, body),
            Event::Forget { conversation } => membership.forget_here(conversation),
            Event::Online { user } => hub.remote_presence(header.node, RemoteChange::Came(user)),
            Event::Offline { user } => hub.remote_presence(header.node, RemoteChange::Went(user)),
            Event::Alive { users } => hub.remote_presence(header.node, RemoteChange::All(users)),
        }
    }
}

fn resync(hub: &Hub, reason: &str) {
    if hub.connection_count() > 0 {
        tracing::warn!(reason, "closing this node's connections so that their clients resync");
        hub.going_away(&format!("{reason}; reconnect to catch up"));
    }
}

/// A random id for this node's life, to recognise its own bus messages.
fn node_id() -> u64 {
    let mut bytes = [0u8; 8];
    getrandom::fill(&mut bytes).expect("the system's random source works");
    u64::from_le_bytes(bytes)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn the_header_is_one_json_line_naming_the_event() {
        let header = Header { node: 7, event: Event::Deliver { users: vec![1, 2] } };
        let json = serde_json::to_string(&header).expect("serialises");
        assert_eq!(json, r#"{"node":7,"event":"deliver","users":[1,2]}"#);
        let kick = Header { node: 1, event: Event::Kick { user: 3, which: Kicked::Token("ab".into()) } };
        let back: Header = serde_json::from_str(&serde_json::to_string(&kick).expect("ser")).expect("de");
        assert_eq!(back.event, kick.event);
    }
}

//! A test client that outlives the node it is connected to, as the desktop client does: it
//! keeps every message it sent until the ack arrives (its outbox), and when its connection
//! breaks it says hello through the next node of the list, catches up on each of its
//! conversations from the last `seq` it holds without a gap, and sends again everything not
//! yet acknowledged under the same `client_id`s.

use crate::common::PATIENCE;
use futures_util::{SinkExt, StreamExt};
use kith_shared::codec::{FrameCodec, to_json};
use kith_shared::frame::{ChatMessage, Content, Target};
use kith_shared::{ClientFrame, ErrorCode, PROTOCOL_VERSION, ServerFrame};
use std::collections::{BTreeMap, HashMap, VecDeque};
use std::net::SocketAddr;
use std::sync::Arc;
use std::sync::atomic::{AtomicUsize, Ordering};
use std::time::Duration;
use tokio::net::TcpStream;
use tokio::sync::Barrier;
use tokio::task::JoinHandle;
use tokio_util::codec::Framed;
use tokio_util::sync::CancellationToken;

/// Where a node answers.
#[derive(Debug, Clone)]
pub struct Door {
    pub http: String,
    pub socket: SocketAddr,
}

/// What an ack said: (message id, conversation, seq).
pub type Acked = (i64, i64, i64);

/// One message as a client holds it: (message id, sender, client id).
pub type Held = (i64, Option<i64>, Option<String>);

/// Longest a load may take; a guard against hangs, not a measurement.
pub const LOAD_PATIENCE: Duration = Duration::from_secs(120);

/// Rounds of trying every node in turn before a client gives up reconnecting.
const ROUNDS: usize = 50;

type Socket = Framed<TcpStream, FrameCodec<ServerFrame>>;

pub struct Roamer {
    pub name: String,
    pub user_id: i64,
    token: String,
    doors: Vec<Door>,
    /// The node in use (an index into `doors`).
    pub at: usize,
    conversations: Vec<i64>,
    http: reqwest::Client,
    /// Every ack received, by client id.
    pub acked: HashMap<String, Acked>,
    /// Every message held, by conversation and seq: pushed, acknowledged or fetched.
    pub held: HashMap<i64, BTreeMap<i64, Held>>,
    /// How many times the connection broke and the client said hello again.
    pub reconnects: usize,
    /// How many messages were sent again after a reconnect.
    pub resent: usize,
    /// How many of its messages were acknowledged when it first lost its node.
    pub acked_at_loss: Option<usize>,
}

/// What a roamer sends: (client id, to, text), in order.
pub type Plan = Vec<(String, Target, String)>;

impl Roamer {
    pub fn new(
        name: &str,
        user_id: i64,
        token: &str,
        doors: Vec<Door>,
        at: usize,
        conversations: Vec<i64>,
    ) -> Self {
        Self {
            name: name.to_owned(),
            user_id,
            token: token.to_owned(),
            doors,
            at,
            conversations,
            http: reqwest::Client::new(),
            acked: HashMap::new(),
            held: HashMap::new(),
            reconnects: 0,
            resent: 0,
            acked_at_loss: None,
        }
    }

    /// Connects, waits at `start` until every client of the load has, then sends the plan
    /// with at most `window` messages unacknowledged at a time, counting every ack in `acks`;
    /// then keeps receiving until `done` is cancelled, and last takes what the server had
    /// queued for it.
    pub async fn run(
        mut self,
        plan: Plan,
        window: usize,
        start: Arc<Barrier>,
        acks: Arc<AtomicUsize>,
        done: CancellationToken,
    ) -> Self {
        let mut pending: VecDeque<(String, Target, String)> = plan.into();
        // The outbox: sent, not yet acknowledged, in the order sent.
        let mut outbox: Vec<(String, Target, String)> = Vec::new();
        let mut socket = self.connect(&[]).await;
        start.wait().await;
        loop {
            while outbox.len() < window
                && let Some(next) = pending.pop_front()
            {
                outbox.push(next.clone());
                if !send(&mut socket, &next).await {
                    break;
                }
            }
            let frame = tokio::select! {
                _ = done.cancelled(), if pending.is_empty() && outbox.is_empty() => break,
                frame = next_frame(&mut socket) => frame,
            };
            match frame {
                Some(ServerFrame::Ack { client_id, message_id, conversation_id, seq, .. }) => {
                    outbox.retain(|(id, ..)| *id != client_id);
                    let ack = (message_id, conversation_id, seq);
                    match self.acked.insert(client_id.clone(), ack) {
                        None => {
                            acks.fetch_add(1, Ordering::Relaxed);
                        }
                        Some(earlier) => {
                            assert_eq!(
                                earlier, ack,
                                "{}: {client_id} acknowledged twice, differently",
                                self.name
                            )
                        }
                    }
                    let own = (message_id, Some(self.user_id), Some(client_id));
                    self.hold(conversation_id, seq, own);
                }
                Some(ServerFrame::Message { message }) => self.hold_message(&message),
                Some(ServerFrame::Error {
                    code: ErrorCode::Internal, reference: Some(client_id), ..
                }) => {
                    // Not stored: the outbox sends it again at once.
                    if let Some(again) = outbox.iter().find(|(id, ..)| *id == client_id).cloned() {
                        send(&mut socket, &again).await;
                    }
                }
                Some(ServerFrame::Error { code, message, reference }) => {
                    panic!("{}: refused ({code:?}, {reference:?}): {message}", self.name)
                }
                Some(ServerFrame::Kicked { reason, message }) => {
                    panic!("{}: kicked ({reason:?}): {message}", self.name)
                }
                Some(ServerFrame::GoingAway { .. }) | None => {
                    self.acked_at_loss.get_or_insert(self.acked.len());
                    self.reconnects += 1;
                    self.at = (self.at + 1) % self.doors.len();
                    socket = self.connect(&outbox).await;
                }
                Some(_) => {}
            }
        }
        // Everything the server queued before the pong.
        let _ = socket.send(to_json(&ClientFrame::Ping { nonce: 99 })).await;
        while let Some(frame) = next_frame(&mut socket).await {
            match frame {
                ServerFrame::Pong { nonce: 99 } => break,
                ServerFrame::Message { message } => self.hold_message(&message),
                _ => {}
            }
        }
        self
    }

    /// Says hello through the node in use, or the next ones in turn, catches up, and sends
    /// `outbox` again.
    async fn connect(&mut self, outbox: &[(String, Target, String)]) -> Socket {
        for _ in 0..ROUNDS * self.doors.len() {
            if let Some(mut socket) = self.hello().await
                && self.catch_up().await
            {
                let mut sent = true;
                for message in outbox {
                    sent = sent && send(&mut socket, message).await;
                }
                if sent {
                    self.resent += outbox.len();
                    return socket;
                }
            }
            self.at = (self.at + 1) % self.doors.len();
            tokio::time::sleep(Duration::from_millis(50)).await;
        }
        panic!("{}: no node took the connection", self.name)
    }

    async fn hello(&self) -> Option<Socket> {
        open(&self.doors[self.at], &self.token).await
    }

    /// Fetches each conversation's messages after the last seq held without a gap.
    async fn catch_up(&mut self) -> bool {
        for conversation in self.conversations.clone() {
            let Some(messages) = self.fetch_after(conversation, self.contiguous(conversation)).await else {
                return false;
            };
            for message in &messages {
                self.hold_message(message);
            }
        }
        true
    }

    /// The seq up to which this client holds every message of the conversation.
    pub fn contiguous(&self, conversation: i64) -> i64 {
        let held = self.held.get(&conversation);
        let mut seq = 0;
        while held.is_some_and(|held| held.contains_key(&(seq + 1))) {
            seq += 1;
        }
        seq
    }

    /// The conversation's messages after `after`, through the node in use; None when the
    /// node does not answer.
    async fn fetch_after(&self, conversation: i64, mut after: i64) -> Option<Vec<ChatMessage>> {
        let mut all = Vec::new();
        loop {
            let url = format!(
                "{}/api/conversations/{conversation}/messages?after={after}&limit=200",
                self.doors[self.at].http
            );
            let request = self.http.get(url).bearer_auth(&self.token).send();
            let response = tokio::time::timeout(PATIENCE, request).await.ok()?.ok()?;
            if !response.status().is_success() {
                return None;
            }
            let page: serde_json::Value = response.json().await.ok()?;
            let page: Vec<ChatMessage> = serde_json::from_value(page["messages"].clone()).expect("messages");
            let Some(last) = page.last() else { return Some(all) };
            after = last.seq;
            all.extend(page);
        }
    }

    /// Catches up on every conversation through the node in use (after the load).
    pub async fn fill_gaps(&mut self) {
        assert!(self.catch_up().await, "{}: the node in use does not answer", self.name);
    }

    fn hold_message(&mut self, message: &ChatMessage) {
        let held = (message.id, message.sender_id, message.client_id.clone());
        self.hold(message.conversation_id, message.seq, held);
    }

    /// Places a message by its seq; the same seq must always name the same message.
    fn hold(&mut self, conversation: i64, seq: i64, message: Held) {
        let held = self.held.entry(conversation).or_default();
        if let Some(earlier) = held.get(&seq) {
            assert_eq!(earlier.0, message.0, "{}: seq {seq} of {conversation} named two messages", self.name);
        } else {
            held.insert(seq, message);
        }
    }
}

/// Says hello with `token` through `door`; None when the node does not take the connection.
pub async fn open(door: &Door, token: &str) -> Option<Socket> {
    let stream = TcpStream::connect(door.socket).await.ok()?;
    let mut socket = Framed::new(stream, FrameCodec::new(1 << 20));
    let hello = ClientFrame::Hello { version: PROTOCOL_VERSION, token: token.to_owned() };
    socket.send(to_json(&hello)).await.ok()?;
    match next_frame(&mut socket).await? {
        ServerFrame::Welcome { .. } => {}
        other => panic!("expected welcome, got {other:?}"),
    }
    match next_frame(&mut socket).await? {
        ServerFrame::SyncState { .. } => Some(socket),
        other => panic!("expected sync_state, got {other:?}"),
    }
}

/// Whether a message sent through one node reaches its receiver, connected to another,
/// within `wait`: false when it does not or a connection breaks.
pub async fn crosses(
    from: (&Door, &str),
    to: (&Door, &str),
    to_id: i64,
    client_id: &str,
    wait: Duration,
) -> bool {
    let (Some(mut sender), Some(mut receiver)) = (open(from.0, from.1).await, open(to.0, to.1).await) else {
        return false;
    };
    if !send(&mut sender, &(client_id.to_owned(), Target::User { id: to_id }, "across".to_owned())).await {
        return false;
    }
    let arrived = tokio::time::timeout(wait, async {
        while let Some(frame) = next_frame(&mut receiver).await {
            if let ServerFrame::Message { message } = frame
                && message.client_id.as_deref() == Some(client_id)
            {
                return true;
            }
        }
        false
    });
    arrived.await.unwrap_or(false)
}

/// A text message with its client id.
pub fn text(client_id: &str, to: Target, text: &str) -> ClientFrame {
    ClientFrame::Send { client_id: client_id.to_owned(), to, content: Content::text(text) }
}

/// Sends one planned message; false when the connection is broken.
async fn send(socket: &mut Socket, (client_id, to, body): &(String, Target, String)) -> bool {
    socket.send(to_json(&text(client_id, *to, body))).await.is_ok()
}

/// The next frame that is not a server ping (pings are answered), or None once the
/// connection is closed or broken.
async fn next_frame(socket: &mut Socket) -> Option<ServerFrame> {
    loop {
        // Long enough for the rest of a load to finish while this client waits.
        let next =
            tokio::time::timeout(LOAD_PATIENCE, socket.next()).await.expect("a frame or a close in time");
        match next? {
            Ok(Ok(ServerFrame::Ping { nonce })) => {
                socket.send(to_json(&ClientFrame::Pong { nonce })).await.ok()?;
            }
            Ok(Ok(frame)) => return Some(frame),
            Ok(Err(bad)) => panic!("the server sent a bad frame: {bad}"),
            Err(_) => return None,
        }
    }
}

/// Roamers running their plans at once.
pub struct Load {
    tasks: Vec<JoinHandle<Roamer>>,
    acks: Arc<AtomicUsize>,
    total: usize,
    done: CancellationToken,
}

impl Load {
    /// Starts every roamer on its plan, `window` messages unacknowledged at most each, once
    /// all of them are connected.
    pub async fn start(roamers: Vec<(Roamer, Plan)>, window: usize) -> Self {
        let acks = Arc::new(AtomicUsize::new(0));
        let done = CancellationToken::new();
        let start = Arc::new(Barrier::new(roamers.len() + 1));
        let total = roamers.iter().map(|(_, plan)| plan.len()).sum();
        let tasks = roamers
            .into_iter()
            .map(|(roamer, plan)| {
                tokio::spawn(roamer.run(plan, window, start.clone(), acks.clone(), done.clone()))
            })
            .collect();
        tokio::time::timeout(PATIENCE, start.wait()).await.expect("every roamer connected in time");
        Self { tasks, acks, total, done }
    }

    pub fn total(&self) -> usize {
        self.total
    }

    /// Waits until `count` messages in all are acknowledged.
    pub async fn until_acked(&self, count: usize) {
        let deadline = tokio::time::Instant::now() + LOAD_PATIENCE;
        while self.acks.load(Ordering::Relaxed) < count {
            assert!(
                tokio::time::Instant::now() < deadline,
                "fewer than {count} messages acknowledged in time"
            );
            // A roamer stops before `done` only by failing (its panic is printed above).
            assert!(!self.tasks.iter().any(JoinHandle::is_finished), "a roamer failed");
            tokio::time::sleep(Duration::from_millis(10)).await;
        }
    }

    /// Waits until every message is acknowledged, lets the roamers take what is still
    /// queued for them and returns them.
    pub async fn finish(self) -> Vec<Roamer> {
        self.until_acked(self.total).await;
        self.done.cancel();
        let mut roamers = Vec::new();
        for task in self.tasks {
            roamers.push(task.await.expect("a roamer failed"));
        }
        roamers
    }
}

//! The realtime socket, as an iced subscription.
//!
//! The subscription runs a reconnect loop in a spawned tokio task, so that a slow UI never
//! stalls the socket: connect, send `hello`, wait for `welcome`, then answer pings, forward
//! frames and send what the UI queues on its [`Connection`]. A dropped connection is
//! retried with exponential backoff; a `kicked` frame for `logged_in_elsewhere` or
//! `logged_out`, or a refused hello, ends the loop for good.

use crate::trust::{CertificateProblem, TlsTarget};
use futures_util::{SinkExt, Stream, StreamExt};
use iced::Subscription;
use kith_shared::api::{UserProfile, limits};
use kith_shared::codec::{FrameCodec, to_json};
use kith_shared::frame::KickReason;
use kith_shared::{ClientFrame, DEFAULT_MAX_FRAME_LEN, ErrorCode, PROTOCOL_VERSION, ServerFrame};
use std::time::Duration;
use tokio::net::TcpStream;
use tokio::sync::mpsc;
use tokio::time::timeout;
use tokio_rustls::TlsConnector;
use tokio_rustls::client::TlsStream;
use tokio_util::codec::Framed;
use tokio_util::either::Either;
use tokio_util::sync::CancellationToken;

/// How long a TCP connect may take.
const CONNECT_TIMEOUT: Duration = Duration::from_secs(8);
/// How long the server has to answer the hello.
const WELCOME_TIMEOUT: Duration = Duration::from_secs(10);
/// Frames the UI may queue before sending fails as full.
const OUTGOING_QUEUE: usize = 256;

/// What identifies one socket session: where, and as whom. A new login makes a new one.
#[derive(Debug, Clone, PartialEq, Eq, Hash)]
pub struct Params {
    /// Every node of the server, tried in turn (one for a single server or a load balancer).
    /// Never empty.
    pub targets: Vec<Target>,
    pub token: String,
    /// The first retry delay (doubles up to [`MAX_RETRY`]).
    pub first_retry: Duration,
    /// Counts the user's "Reconnect now": a new number is a new session, connecting at once.
    pub attempt: u64,
}

/// The longest wait between two connection attempts.
pub const MAX_RETRY: Duration = Duration::from_secs(10);

/// Where one node's socket is.
#[derive(Debug, Clone, PartialEq, Eq, Hash)]
pub struct Target {
    /// `host:port` of the socket.
    pub address: String,
    /// TLS as for the HTTP API of the same node; None in clear text.
    pub tls: Option<TlsTarget>,
}

impl Params {
    pub fn new(targets: Vec<Target>, token: String) -> Self {
        Self { targets, token, first_retry: Duration::from_secs(1), attempt: 0 }
    }
}

/// The limits the server announced in its `welcome`.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct Limits {
    /// The most characters (Unicode scalar values) a text message may have.
    pub max_text_chars: usize,
    /// For how long after sending a text message its sender may recall it, in milliseconds.
    pub recall_window_ms: i64,
    /// For how long after sending a text message its sender may edit it, in milliseconds.
    pub edit_window_ms: i64,
}

impl Default for Limits {
    fn default() -> Self {
        Self {
            max_text_chars: limits::TEXT_CHARS_DEFAULT,
            recall_window_ms: (limits::RECALL_WINDOW_SECS_DEFAULT * 1000) as i64,
            edit_window_ms: (limits::EDIT_WINDOW_SECS_DEFAULT * 1000) as i64,
        }
    }
}

/// What the socket tells the UI.
#[derive(Debug, Clone)]
pub enum Event {
    /// The hello was accepted; frames can be sent on `connection`.
    Connected { connection: Connection, user: UserProfile, limits: Limits },
    /// A frame from the server (pings are answered here and not passed on).
    Received(ServerFrame),
    /// The connection dropped or could not be made; the next attempt starts after `retry_in`.
    Disconnected { reason: String, retry_in: Duration },
    /// The server closed the session for good; the loop has stopped.
    Kicked { reason: KickReason, message: String },
    /// The server refused the hello (bad token, other protocol version); the loop has stopped.
    Refused { code: ErrorCode, message: String },
    /// The server's certificate was not accepted (it changed since the login); the loop has
    /// stopped and nothing was sent.
    Untrusted(CertificateProblem),
}

/// The UI's handle for sending frames on the live connection.
#[derive(Debug, Clone)]
pub struct Connection(mpsc::Sender<ClientFrame>);

#[derive(Debug, Clone, Copy, PartialEq, Eq, thiserror::Error)]
pub enum SendError {
    #[error("too many frames are waiting to be sent")]
    Full,
    #[error("the connection is closed")]
    Closed,
}

impl Connection {
    /// A connection whose frames land in the returned receiver instead of a socket.
    #[cfg(test)]
    pub fn stub(capacity: usize) -> (Self, mpsc::Receiver<ClientFrame>) {
        let (sender, receiver) = mpsc::channel(capacity);
        (Self(sender), receiver)
    }

    /// Queues a frame for the socket task.
    pub fn send(&self, frame: ClientFrame) -> Result<(), SendError> {
        self.0.try_send(frame).map_err(|err| match err {
            mpsc::error::TrySendError::Full(_) => SendError::Full,
            mpsc::error::TrySendError::Closed(_) => SendError::Closed,
        })
    }
}

/// Exponential backoff between reconnection attempts.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Backoff {
    first: Duration,
    max: Duration,
    attempt: u32,
}

impl Backoff {
    pub fn new(first: Duration, max: Duration) -> Self {
        Self { first, max, attempt: 0 }
    }

    /// The delay before the next attempt: first, 2×first, 4×first, ... up to max.
    pub fn next_delay(&mut self) -> Duration {
        let factor = 1u32.checked_shl(self.attempt.min(20)).unwrap_or(u32::MAX);
        self.attempt = self.attempt.saturating_add(1);
        self.first.saturating_mul(factor).min(self.max)
    }

    /// A connection got through: start again from the first delay.
    pub fn reset(&mut self) {
        self.attempt = 0;
    }
}

/// The socket as a subscription. Dropping the subscription stops the task.
pub fn subscription(params: Params) -> Subscription<Event> {
    Subscription::run_with(params, |params| connect(params.clone()))
}

/// The stream behind [`subscription`].
fn connect(params: Params) -> impl Stream<Item = Event> {
    iced::stream::channel(64, async move |mut output: iced::futures::channel::mpsc::Sender<Event>| {
        let (events, mut received) = mpsc::unbounded_channel();
        let cancel = CancellationToken::new();
        let _stop_on_drop = cancel.clone().drop_guard();
        tokio::spawn(run(params, events, cancel));
        while let Some(event) = received.recv().await {
            if output.send(event).await.is_err() {
                break;
            }
        }
    })
}

/// How one session ended.
enum Ended {
    /// Retry after a delay.
    Dropped(String),
    /// Tell the UI and stop.
    Stop(Box<Event>),
    /// Nobody listens any more.
    UiGone,
}

/// The reconnect loop. Ends when the server sends the session away, the hello is refused,
/// the receiver of `events` is dropped, or `cancel` fires.
///
/// With several nodes, a connection that drops, or a node that cannot be reached, moves to
/// the next node at once; the loop waits (backing off) only once every node was tried since
/// the last welcome.
pub async fn run(params: Params, events: mpsc::UnboundedSender<Event>, cancel: CancellationToken) {
    let mut backoff = Backoff::new(params.first_retry, MAX_RETRY);
    let nodes = params.targets.len();
    let mut node = 0;
    // Nodes tried since the last wait or welcome (a welcome counts as the first).
    let mut tried = 0;
    loop {
        let Some(target) = params.targets.get(node) else { return };
        tried += 1;
        let ended = tokio::select! {
            () = cancel.cancelled() => return,
            ended = session(target, &params.token, &events, &mut backoff, &mut tried) => ended,
        };
        match ended {
            Ended::UiGone => return,
            Ended::Stop(event) => {
                let _ = events.send(*event);
                return;
            }
            Ended::Dropped(reason) => {
                node = (node + 1) % nodes;
                let retry_in = if tried < nodes {
                    Duration::ZERO
                } else {
                    tried = 0;
                    backoff.next_delay()
                };
                tracing::info!(%reason, ?retry_in, "socket disconnected");
                if events.send(Event::Disconnected { reason, retry_in }).is_err() {
                    return;
                }
                tokio::select! {
                    () = cancel.cancelled() => return,
                    () = tokio::time::sleep(retry_in) => {}
                }
            }
        }
    }
}

/// The socket's byte stream: clear text or TLS.
type Link = Either<TcpStream, TlsStream<TcpStream>>;
type ServerFramed = Framed<Link, FrameCodec<ServerFrame>>;

/// Connects, and completes the TLS handshake when the server speaks TLS.
async fn open(target: &Target) -> Result<Link, Ended> {
    let address = &target.address;
    let stream = match timeout(CONNECT_TIMEOUT, TcpStream::connect(address)).await {
        Err(_) => return Err(Ended::Dropped(format!("no answer from {address}"))),
        Ok(Err(err)) => return Err(Ended::Dropped(format!("cannot connect to {address}: {err}"))),
        Ok(Ok(stream)) => stream,
    };
    let _ = stream.set_nodelay(true);
    let Some(tls) = &target.tls else { return Ok(Either::Left(stream)) };
    let connector = TlsConnector::from(tls.config.clone());
    match timeout(CONNECT_TIMEOUT, connector.connect(tls.server_name.clone(), stream)).await {
        Err(_) => Err(Ended::Dropped(format!("no TLS answer from {address}"))),
        Ok(Err(err)) => match tls.take_problem() {
            Some(problem) => Err(Ended::Stop(Box::new(Event::Untrusted(problem)))),
            None => Err(Ended::Dropped(format!("no TLS connection to {address}: {err}"))),
        },
        Ok(Ok(stream)) => Ok(Either::Right(stream)),
    }
}

/// One connection, from connect to its end. A welcome resets `backoff` and counts this node as
/// the first `tried`.
async fn session(
    target: &Target,
    token: &str,
    events: &mpsc::UnboundedSender<Event>,
    backoff: &mut Backoff,
    tried: &mut usize,
) -> Ended {
    let stream = match open(target).await {
        Ok(stream) => stream,
        Err(ended) => return ended,
    };
    let mut framed = Framed::new(stream, FrameCodec::<ServerFrame>::new(DEFAULT_MAX_FRAME_LEN));
    let hello = ClientFrame::Hello { version: PROTOCOL_VERSION, token: token.to_owned() };
    if let Err(err) = framed.send(to_json(&hello)).await {
        return Ended::Dropped(format!("cannot send the hello: {err}"));
    }
    let (user, heartbeat_secs, limits) = match timeout(WELCOME_TIMEOUT, next_frame(&mut framed)).await {
        Err(_) => return Ended::Dropped("the server did not answer the hello".to_owned()),
        Ok(Err(ended)) => return ended,
        Ok(Ok(ServerFrame::Welcome {
            user,
            heartbeat_secs,
            max_text_chars,
            recall_window_secs,
            edit_window_secs,
            ..
        })) => {
            let ms = |secs: u64| i64::try_from(secs.saturating_mul(1000)).unwrap_or(i64::MAX);
            let limits = Limits {
                max_text_chars,
                recall_window_ms: ms(recall_window_secs),
                edit_window_ms: ms(edit_window_secs),
            };
            (user, heartbeat_secs, limits)
        }
        Ok(Ok(ServerFrame::Error { code, message, .. }))
            if matches!(code, ErrorCode::Unauthorized | ErrorCode::UnsupportedVersion) =>
        {
            return Ended::Stop(Box::new(Event::Refused { code, message }));
        }
        Ok(Ok(ServerFrame::Kicked { reason, message })) => return kicked(reason, message),
        Ok(Ok(other)) => return Ended::Dropped(format!("expected a welcome, got {}", frame_name(&other))),
    };
    backoff.reset();
    *tried = 1;

    let (outgoing, mut queued) = mpsc::channel(OUTGOING_QUEUE);
    let connection = Connection(outgoing);
    // The task keeps one sender itself, so `queued` never reports closed while it runs.
    let _keep_open = connection.clone();
    if events.send(Event::Connected { connection, user, limits }).is_err() {
        return Ended::UiGone;
    }
    // The server pings every heartbeat; three missed ones mean the link is dead.
    let silence = Duration::from_secs(u64::from(heartbeat_secs.max(1)) * 3);
    loop {
        tokio::select! {
            incoming = timeout(silence, next_frame(&mut framed)) => {
                let frame = match incoming {
                    Err(_) => return Ended::Dropped("the server went silent".to_owned()),
                    Ok(Err(ended)) => return ended,
                    Ok(Ok(frame)) => frame,
                };
                match frame {
                    ServerFrame::Ping { nonce } => {
                        if let Err(err) = framed.send(to_json(&ClientFrame::Pong { nonce })).await {
                            return Ended::Dropped(format!("cannot answer a ping: {err}"));
                        }
                    }
                    ServerFrame::Pong { .. } => {}
                    ServerFrame::Kicked { reason, message } => return kicked(reason, message),
                    ServerFrame::GoingAway { message } => {
                        return Ended::Dropped(format!("the server is going away: {message}"));
                    }
                    frame => {
                        if events.send(Event::Received(frame)).is_err() {
                            return Ended::UiGone;
                        }
                    }
                }
            }
            Some(frame) = queued.recv() => {
                if let Err(err) = framed.send(to_json(&frame)).await {
                    return Ended::Dropped(format!("cannot send: {err}"));
                }
            }
        }
    }
}

/// The next frame this client can read; frames it cannot read are logged and skipped.
async fn next_frame(framed: &mut ServerFramed) -> Result<ServerFrame, Ended> {
    loop {
        match framed.next().await {
            None => return Err(Ended::Dropped("the server closed the connection".to_owned())),
            Some(Err(err)) => return Err(Ended::Dropped(format!("connection error: {err}"))),
            Some(Ok(Err(bad))) => tracing::warn!(%bad, "skipping a frame this client cannot read"),
            Some(Ok(Ok(frame))) => return Ok(frame),
        }
    }
}

fn kicked(reason: KickReason, message: String) -> Ended {
    match reason {
        KickReason::TooSlow => Ended::Dropped(format!("the server cut the connection: {message}")),
        KickReason::LoggedInElsewhere | KickReason::LoggedOut => {
            Ended::Stop(Box::new(Event::Kicked { reason, message }))
        }
    }
}

/// The frame's `type` as on the wire, for log lines.
fn frame_name(frame: &ServerFrame) -> String {
    serde_json::to_value(frame)
        .ok()
        .and_then(|v| v.get("type").and_then(|t| t.as_str()).map(str::to_owned))
        .unwrap_or_else(|| "an unknown frame".to_owned())
}

#[cfg(test)]
mod tests {
    use super::*;
    use tokio::net::TcpListener;

    type ClientFramed = Framed<TcpStream, FrameCodec<ClientFrame>>;

    fn alice() -> UserProfile {
        UserProfile { id: 7, username: "alice".into(), display_name: "Alice".into(), avatar_url: None }
    }

    fn welcome(heartbeat_secs: u32) -> ServerFrame {
        ServerFrame::Welcome {
            user: alice(),
            server_version: "test".into(),
            protocol_version: PROTOCOL_VERSION,
            heartbeat_secs,
            max_text_chars: 1200,
            recall_window_secs: 30,
            edit_window_secs: 60,
        }
    }

    /// A test server: accepts one connection and checks its hello.
    async fn accept(listener: &TcpListener) -> ClientFramed {
        let (stream, _) = listener.accept().await.expect("accept");
        let mut framed = Framed::new(stream, FrameCodec::<ClientFrame>::new(DEFAULT_MAX_FRAME_LEN));
        let hello = framed.next().await.expect("a frame").expect("framing").expect("valid");
        assert_eq!(hello, ClientFrame::Hello { version: PROTOCOL_VERSION, token: "tok".into() });
        framed
    }

    async fn send(framed: &mut ClientFramed, frame: &ServerFrame) {
        framed.send(to_json(frame)).await.expect("send");
    }

    async fn read(framed: &mut ClientFramed) -> ClientFrame {
        let next = timeout(Duration::from_secs(5), framed.next()).await.expect("in time");
        next.expect("a frame").expect("framing").expect("valid")
    }

    async fn event(rx: &mut mpsc::UnboundedReceiver<Event>) -> Event {
        timeout(Duration::from_secs(5), rx.recv()).await.expect("in time").expect("an event")
    }

    async fn start() -> (TcpListener, mpsc::UnboundedReceiver<Event>, tokio::task::JoinHandle<()>) {
        let listener = TcpListener::bind("127.0.0.1:0").await.expect("bind");
        let target = listener.local_addr().expect("addr").to_string();
        let params = Params {
            first_retry: Duration::from_millis(20),
            ..Params::new(vec![Target { address: target, tls: None }], "tok".into())
        };
        let (tx, rx) = mpsc::unbounded_channel();
        let task = tokio::spawn(run(params, tx, CancellationToken::new()));
        (listener, rx, task)
    }

    #[test]
    fn backoff_doubles_up_to_the_cap_and_resets() {
        let mut backoff = Backoff::new(Duration::from_secs(1), Duration::from_secs(30));
        let delays: Vec<u64> = (0..7).map(|_| backoff.next_delay().as_secs()).collect();
        assert_eq!(delays, [1, 2, 4, 8, 16, 30, 30]);
        for _ in 0..100 {
            backoff.next_delay();
        }
        assert_eq!(backoff.next_delay(), Duration::from_secs(30));
        backoff.reset();
        assert_eq!(backoff.next_delay(), Duration::from_secs(1));
    }

    #[tokio::test]
    async fn welcome_ping_frames_and_sending() {
        let (listener, mut rx, _task) = start().await;
        let mut server = accept(&listener).await;
        send(&mut server, &welcome(30)).await;
        let Event::Connected { connection, user, limits } = event(&mut rx).await else {
            panic!("expected connected");
        };
        assert_eq!(user, alice());
        assert_eq!(
            limits,
            Limits { max_text_chars: 1200, recall_window_ms: 30_000, edit_window_ms: 60_000 },
            "the welcome's limits"
        );

        send(&mut server, &ServerFrame::Ping { nonce: 42 }).await;
        assert_eq!(read(&mut server).await, ClientFrame::Pong { nonce: 42 });

        let presence = ServerFrame::Presence { user_id: 9, online: true };
        send(&mut server, &presence).await;
        match event(&mut rx).await {
            Event::Received(frame) => assert_eq!(frame, presence),
            other => panic!("expected the presence frame, got {other:?}"),
        }

        connection.send(ClientFrame::Typing { conversation_id: 3 }).expect("queued");
        assert_eq!(read(&mut server).await, ClientFrame::Typing { conversation_id: 3 });
    }

    #[tokio::test]
    async fn logged_in_elsewhere_stops_without_reconnecting() {
        let (listener, mut rx, task) = start().await;
        let mut server = accept(&listener).await;
        send(&mut server, &welcome(30)).await;
        assert!(matches!(event(&mut rx).await, Event::Connected { .. }));
        let kick = ServerFrame::Kicked { reason: KickReason::LoggedInElsewhere, message: "elsewhere".into() };
        send(&mut server, &kick).await;
        match event(&mut rx).await {
            Event::Kicked { reason, .. } => assert_eq!(reason, KickReason::LoggedInElsewhere),
            other => panic!("expected kicked, got {other:?}"),
        }
        // The loop ends by itself: no reconnection follows.
        timeout(Duration::from_secs(5), task).await.expect("the loop stopped").expect("no panic");
        assert!(rx.recv().await.is_none());
    }

    #[tokio::test]
    async fn a_dropped_connection_reconnects_with_backoff() {
        let (listener, mut rx, _task) = start().await;
        let mut server = accept(&listener).await;
        send(&mut server, &welcome(30)).await;
        assert!(matches!(event(&mut rx).await, Event::Connected { .. }));
        drop(server);
        match event(&mut rx).await {
            Event::Disconnected { retry_in, .. } => assert_eq!(retry_in, Duration::from_millis(20)),
            other => panic!("expected disconnected, got {other:?}"),
        }
        // It comes back, hello and all.
        let mut server = accept(&listener).await;
        send(&mut server, &welcome(30)).await;
        assert!(matches!(event(&mut rx).await, Event::Connected { .. }));
        // A too-slow kick is not final either.
        let kick = ServerFrame::Kicked { reason: KickReason::TooSlow, message: "slow".into() };
        send(&mut server, &kick).await;
        assert!(matches!(event(&mut rx).await, Event::Disconnected { .. }));
        let _again = accept(&listener).await;
    }

    #[tokio::test]
    async fn failed_connects_back_off_longer_each_time() {
        let listener = TcpListener::bind("127.0.0.1:0").await.expect("bind");
        let target = listener.local_addr().expect("addr").to_string();
        drop(listener);
        let params = Params {
            first_retry: Duration::from_millis(5),
            ..Params::new(vec![Target { address: target, tls: None }], "tok".into())
        };
        let (tx, mut rx) = mpsc::unbounded_channel();
        let cancel = CancellationToken::new();
        let task = tokio::spawn(run(params, tx, cancel.clone()));
        let mut delays = Vec::new();
        for _ in 0..3 {
            match event(&mut rx).await {
                Event::Disconnected { retry_in, .. } => delays.push(retry_in.as_millis()),
                other => panic!("expected disconnected, got {other:?}"),
            }
        }
        assert_eq!(delays, [5, 10, 20]);
        cancel.cancel();
        timeout(Duration::from_secs(5), task).await.expect("cancel stops the loop").expect("no panic");
    }

    #[tokio::test]
    async fn a_node_that_goes_away_is_replaced_by_the_next_at_once() {
        let dead = TcpListener::bind("127.0.0.1:0").await.expect("bind");
        let dead_address = dead.local_addr().expect("addr").to_string();
        drop(dead);
        let first = TcpListener::bind("127.0.0.1:0").await.expect("bind");
        let second = TcpListener::bind("127.0.0.1:0").await.expect("bind");
        let targets = [
            &dead_address,
            &first.local_addr().expect("addr").to_string(),
            &second.local_addr().expect("addr").to_string(),
        ]
        .map(|address| Target { address: address.clone(), tls: None })
        .to_vec();
        // A long wait (the longest there is): only a move to another node lets the test go on
        // in time.
        let params = Params { first_retry: MAX_RETRY, ..Params::new(targets, "tok".into()) };
        let (tx, mut rx) = mpsc::unbounded_channel();
        let _task = tokio::spawn(run(params, tx, CancellationToken::new()));

        // The dead node is skipped at once.
        match event(&mut rx).await {
            Event::Disconnected { retry_in, .. } => assert_eq!(retry_in, Duration::ZERO),
            other => panic!("expected disconnected, got {other:?}"),
        }
        let mut server = accept(&first).await;
        send(&mut server, &welcome(30)).await;
        assert!(matches!(event(&mut rx).await, Event::Connected { .. }));
        // That node dies: the next one takes over at once, hello and all.
        drop(server);
        drop(first);
        match event(&mut rx).await {
            Event::Disconnected { retry_in, .. } => assert_eq!(retry_in, Duration::ZERO),
            other => panic!("expected disconnected, got {other:?}"),
        }
        let mut server = accept(&second).await;
        send(&mut server, &welcome(30)).await;
        assert!(matches!(event(&mut rx).await, Event::Connected { .. }));
        // Every node tried since that welcome: now the loop waits.
        drop(server);
        drop(second);
        let mut waits = Vec::new();
        for _ in 0..3 {
            match event(&mut rx).await {
                Event::Disconnected { retry_in, .. } => waits.push(retry_in),
                other => panic!("expected disconnected, got {other:?}"),
            }
            if waits.last() != Some(&Duration::ZERO) {
                break;
            }
        }
        assert_eq!(waits, [Duration::ZERO, Duration::ZERO, MAX_RETRY]);
    }

    #[tokio::test]
    async fn a_refused_token_stops_the_loop() {
        let (listener, mut rx, task) = start().await;
        let mut server = accept(&listener).await;
        send(&mut server, &ServerFrame::error(ErrorCode::Unauthorized, "bad token")).await;
        match event(&mut rx).await {
            Event::Refused { code, .. } => assert_eq!(code, ErrorCode::Unauthorized),
            other => panic!("expected refused, got {other:?}"),
        }
        timeout(Duration::from_secs(5), task).await.expect("the loop stopped").expect("no panic");
    }

    #[tokio::test]
    async fn unreadable_frames_are_skipped() {
        let (listener, mut rx, _task) = start().await;
        let mut server = accept(&listener).await;
        send(&mut server, &welcome(30)).await;
        assert!(matches!(event(&mut rx).await, Event::Connected { .. }));
        server.send(bytes::Bytes::from_static(br#"{"type":"from_the_future"}"#)).await.expect("send");
        let presence = ServerFrame::Presence { user_id: 1, online: false };
        send(&mut server, &presence).await;
        match event(&mut rx).await {
            Event::Received(frame) => assert_eq!(frame, presence),
            other => panic!("expected the presence frame, got {other:?}"),
        }
    }
}

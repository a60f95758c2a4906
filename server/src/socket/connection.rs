//! One socket connection: the hello, then a reader loop (this task) and a writer task fed by
//! a bounded queue. A peer that stops reading fills its queue and is cut off as too slow (told
//! `kicked` / `too_slow` when its socket still takes a frame); it never slows anyone else.

use crate::app::App;
use crate::auth;
use crate::error::Refusal;
use crate::hub::{Link, Outbound, TokenHash};
use crate::messages::{Sender, TypingThrottle};
use crate::outgoing::QueueReceiver;
use crate::{presence, sync};
use bytes::{BufMut, Bytes, BytesMut};
use futures_util::StreamExt;
use kith_shared::codec::{BadFrame, CodecError, FrameCodec, HEADER_LEN, to_json};
use kith_shared::frame::KickReason;
use kith_shared::{ClientFrame, ErrorCode, PROTOCOL_VERSION, ServerFrame, UserId};
use std::net::SocketAddr;
use std::sync::Arc;
use std::time::Duration;
use tokio::io::{AsyncRead, AsyncWrite, AsyncWriteExt};
use tokio::time::{Instant, timeout};
use tokio_util::codec::FramedRead;
use tokio_util::sync::CancellationToken;

/// The two halves of a connection, whatever it runs over (TCP, or TLS over TCP).
type ReadHalf = Box<dyn AsyncRead + Send + Unpin>;
type WriteHalf = Box<dyn AsyncWrite + Send + Unpin>;
type Reader = FramedRead<ReadHalf, FrameCodec<ClientFrame>>;
/// One decoder result: a fatal framing error, or a frame that may or may not parse.
type Decoded = Result<Result<ClientFrame, BadFrame>, CodecError>;

/// The write side of a connection: frames are encoded into a buffer that is only allocated
/// while there is something to write, so an idle connection holds no write buffer.
struct Writer {
    socket: WriteHalf,
    buffer: BytesMut,
}

/// Buffered bytes that trigger a write even while more frames are queued.
const WRITE_CHUNK: usize = 64 * 1024;

impl Writer {
    fn new(socket: WriteHalf) -> Self {
        Self { socket, buffer: BytesMut::new() }
    }

    /// Appends one frame (length prefix and JSON) to the buffer, writing if it is large.
    async fn feed(&mut self, json: Bytes) -> std::io::Result<()> {
        self.buffer.reserve(HEADER_LEN + json.len());
        self.buffer.put_u32(json.len() as u32);
        self.buffer.extend_from_slice(&json);
        if self.buffer.len() >= WRITE_CHUNK { self.flush().await } else { Ok(()) }
    }

    /// Writes everything buffered and lets the buffer go.
    async fn flush(&mut self) -> std::io::Result<()> {
        if !self.buffer.is_empty() {
            self.socket.write_all(&self.buffer).await?;
        }
        self.buffer = BytesMut::new();
        self.socket.flush().await
    }

    async fn send(&mut self, json: Bytes) -> std::io::Result<()> {
        self.feed(json).await?;
        self.flush().await
    }
}

/// How long the writer gets to flush a last frame (a kick, going away) before the socket drops.
const CLOSE_GRACE: Duration = Duration::from_secs(2);

/// Serves one connection until it closes: a TCP stream, or a TLS stream over one.
#[tracing::instrument(name = "conn", skip_all, fields(%peer))]
pub async fn serve<S>(app: Arc<App>, stream: S, peer: SocketAddr)
where
    S: AsyncRead + AsyncWrite + Send + 'static,
{
    let (read, write) = tokio::io::split(stream);
    serve_halves(app, Box::new(read), Box::new(write)).await
}

/// The body of [`serve`], the same for every kind of stream.
async fn serve_halves(app: Arc<App>, read: ReadHalf, write: WriteHalf) {
    let max = app.config.max_frame_bytes;
    let mut reader = FramedRead::with_capacity(read, FrameCodec::<ClientFrame>::new(max), 512);
    // The opening's futures (token check, sync state queries) are large and needed once:
    // boxed, their memory is given back before the session settles in for hours.
    let Some(opened) = Box::pin(open(&app, &mut reader, Writer::new(write))).await else { return };
    let Opened { user_id, link, outgoing, writer } = opened;

    // Cancelled to drop the connection at once: the writer failed or closed, or it did not
    // finish in time after the reader stopped.
    let cut = CancellationToken::new();
    let writer_task = tokio::spawn(write_loop(writer, outgoing, cut.clone(), link.too_slow.clone()));
    let mut session = Session {
        app: app.clone(),
        user_id,
        link,
        cut: cut.clone(),
        sends: TokenBucket::new(app.config.messages_per_second, app.config.message_burst),
        typing: TypingThrottle::default(),
    };
    session.read_loop(&mut reader).await;
    if session.link.too_slow.is_cancelled() {
        app.metrics.slow_cutoffs.increment(1);
    }

    let conn_id = session.link.conn_id;
    if app.hub.unregister(user_id, conn_id) {
        Box::pin(presence::announce(&app, user_id, false)).await;
    }
    // Let the writer flush a last frame (kick, going away, too slow) but never wait on a dead
    // peer.
    if timeout(CLOSE_GRACE * 2, writer_task).await.is_err() {
        cut.cancel();
    }
    tracing::debug!(user_id, "disconnected");
}

/// A connection that said hello, is registered in the hub, and has its welcome, sync state
/// and the presence of those online written.
struct Opened {
    user_id: UserId,
    link: Link,
    outgoing: QueueReceiver,
    writer: Writer,
}

/// Waits for the hello, registers the connection and greets it. None when the connection
/// was refused (the refusal is written) or closed.
async fn open(app: &Arc<App>, reader: &mut Reader, mut writer: Writer) -> Option<Opened> {
    let hello = tokio::select! {
        _ = app.shutdown.cancelled() => return None,
        hello = timeout(app.config.hello_timeout, reader.next()) => hello,
    };
    let (user_id, token_hash) = match accept_hello(app, hello).await {
        Ok(who) => who,
        Err(refusal) => {
            tracing::debug!(?refusal, "hello refused");
            let _ = timeout(CLOSE_GRACE, writer.send(to_json(&refusal))).await;
            return None;
        }
    };
    let Some(user) = app.profile(user_id).await else {
        let refusal = ServerFrame::error(ErrorCode::Unauthorized, "the account no longer exists");
        let _ = timeout(CLOSE_GRACE, writer.send(to_json(&refusal))).await;
        return None;
    };

    // Register first so that nothing pushed from now on is missed; the pushes wait in the
    // queue while the welcome and the sync state are written, so those two always come first
    // and the sync state cannot miss a message that is not also pushed.
    let (link, outgoing) = Link::new(app.hub.next_conn_id(), token_hash, app.config.outgoing_queue);
    let registered = app.hub.register(user_id, link.clone());
    tracing::debug!(user_id, conn = registered.conn_id, "connected");
    let welcome = ServerFrame::Welcome {
        user,
        server_version: env!("CARGO_PKG_VERSION").to_owned(),
        protocol_version: PROTOCOL_VERSION,
        heartbeat_secs: app.config.heartbeat.as_secs() as u32,
        max_text_chars: app.config.max_text_chars,
        recall_window_secs: app.config.recall_window.as_secs(),
        edit_window_secs: app.config.edit_window.as_secs(),
    };
    let sync_state = match sync::sync_state(app, user_id).await {
        Ok(state) => state,
        Err(err) => {
            tracing::error!(%err, user_id, "sync state failed");
            let failure =
                ServerFrame::error(ErrorCode::Internal, "the server could not load your state; reconnect");
            let _ = timeout(CLOSE_GRACE, writer.send(to_json(&failure))).await;
            app.hub.unregister(user_id, registered.conn_id);
            return None;
        }
    };
    let conversations: Vec<_> = match &sync_state {
        ServerFrame::SyncState { conversations, .. } => {
            conversations.iter().map(|c| c.conversation_id).collect()
        }
        _ => Vec::new(),
    };
    let present = Box::pin(presence::arrived(app, user_id, &conversations, registered.came_online)).await;
    let greeted = async {
        writer.feed(to_json(&welcome)).await?;
        writer.feed(to_json(&sync_state)).await?;
        for presence in &present {
            writer.feed(to_json(presence)).await?;
        }
        writer.flush().await
    };
    if timeout(CLOSE_GRACE, greeted).await.map_or(true, |sent| sent.is_err()) {
        if app.hub.unregister(user_id, registered.conn_id) {
            presence::announce(app, user_id, false).await;
        }
        return None;
    }
    Some(Opened { user_id, link, outgoing, writer })
}

/// Checks the first frame. On refusal, returns the error frame to send before closing.
async fn accept_hello(
    app: &App,
    hello: Result<Option<Decoded>, tokio::time::error::Elapsed>,
) -> Result<(UserId, TokenHash), ServerFrame> {
    let frame = match hello {
        Err(_) => return Err(ServerFrame::error(ErrorCode::HelloTimeout, "no hello arrived in time")),
        Ok(None) => return Err(ServerFrame::error(ErrorCode::HelloRequired, "closed before the hello")),
        Ok(Some(Err(err))) => return Err(codec_refusal(&err)),
        Ok(Some(Ok(Err(bad)))) => {
            return Err(ServerFrame::error(
                ErrorCode::HelloRequired,
                format!("the first frame must be a hello: {bad}"),
            ));
        }
        Ok(Some(Ok(Ok(frame)))) => frame,
    };
    let ClientFrame::Hello { version, token } = frame else {
        return Err(ServerFrame::error(ErrorCode::HelloRequired, "the first frame must be a hello"));
    };
    if version != PROTOCOL_VERSION {
        return Err(ServerFrame::error(
            ErrorCode::UnsupportedVersion,
            format!("this server speaks protocol version {PROTOCOL_VERSION}, not {version}"),
        ));
    }
    let token_hash = auth::token_hash(&token);
    let Some(held) = TokenHash::from_hex(&token_hash) else {
        tracing::error!("a token hash that is not 64 hex digits");
        return Err(ServerFrame::error(ErrorCode::Internal, "the server could not check the token"));
    };
    match app.store.session_user(&token_hash).await {
        Ok(Some(user_id)) => Ok((user_id, held)),
        Ok(None) => Err(ServerFrame::error(ErrorCode::Unauthorized, "the token is not valid; log in again")),
        Err(err) => {
            tracing::error!(%err, "session lookup failed");
            Err(ServerFrame::error(ErrorCode::Internal, "the server could not check the token"))
        }
    }
}

fn codec_refusal(err: &CodecError) -> ServerFrame {
    match err {
        CodecError::FrameTooLarge { .. } => ServerFrame::error(ErrorCode::FrameTooLarge, err.to_string()),
        CodecError::Io(_) => ServerFrame::error(ErrorCode::Malformed, err.to_string()),
    }
}

/// Drains the outgoing queue onto the socket, flushing whenever the queue runs dry. When the
/// peer proves too slow, the frames still queued are dropped and a last `kicked` frame
/// (reason `too_slow`) goes out if the socket takes it in time.
async fn write_loop(
    mut writer: Writer,
    mut outgoing: QueueReceiver,
    cut: CancellationToken,
    too_slow: CancellationToken,
) {
    loop {
        let next = tokio::select! {
            biased;
            _ = cut.cancelled() => return,
            _ = too_slow.cancelled() => {
                // Boxed, like the close below: rare paths whose timeouts would otherwise be room
                // kept in every idle writer task.
                Box::pin(kick_too_slow(&mut writer)).await;
                cut.cancel();
                return;
            }
            next = outgoing.recv() => next,
        };
        let (json, close) = match next {
            Some(Outbound::Frame(json)) => (json, false),
            Some(Outbound::Close(json)) => (json, true),
            None => return,
        };
        let written = async {
            writer.feed(json).await?;
            if close || outgoing.is_empty() { writer.flush().await } else { Ok(()) }
        };
        let written = tokio::select! {
            _ = cut.cancelled() => return,
            written = written => written,
        };
        if written.is_err() {
            cut.cancel();
            return;
        }
        if close {
            Box::pin(shut_down(&mut writer)).await;
            cut.cancel();
            return;
        }
    }
}

/// Tells a peer that did not read fast enough that it is cut off, if its socket takes the
/// frame in time, and closes the socket.
async fn kick_too_slow(writer: &mut Writer) {
    let kicked = ServerFrame::Kicked {
        reason: KickReason::TooSlow,
        message: "you did not read fast enough; reconnect to catch up".to_owned(),
    };
    if matches!(timeout(CLOSE_GRACE, writer.send(to_json(&kicked))).await, Ok(Ok(()))) {
        shut_down(writer).await;
    }
}

/// Closes the socket's write side, waiting at most [`CLOSE_GRACE`].
async fn shut_down(writer: &mut Writer) {
    let _ = timeout(CLOSE_GRACE, writer.socket.shutdown()).await;
}

/// The authenticated side of a connection: reads frames and answers them.
struct Session {
    app: Arc<App>,
    user_id: UserId,
    /// This connection in the hub: its outgoing queue and its too-slow signal.
    link: Link,
    /// Cancelled when the writer has stopped: stop reading.
    cut: CancellationToken,
    /// Limits how fast this connection may send messages.
    sends: TokenBucket,
    /// Limits how often typing indicators are passed on.
    typing: TypingThrottle,
}

/// A token bucket: `burst` tokens, refilled at `rate` per second.
#[derive(Debug)]
struct TokenBucket {
    rate: f64,
    burst: f64,
    tokens: f64,
    updated: Instant,
}

impl TokenBucket {
    fn new(rate: u32, burst: u32) -> Self {
        Self { rate: rate as f64, burst: burst as f64, tokens: burst as f64, updated: Instant::now() }
    }

    fn take(&mut self) -> bool {
        let now = Instant::now();
        self.tokens =
            (self.tokens + now.duration_since(self.updated).as_secs_f64() * self.rate).min(self.burst);
        self.updated = now;
        if self.tokens >= 1.0 {
            self.tokens -= 1.0;
            true
        } else {
            false
        }
    }

    /// Takes a token for one message (a send or an edit), or says why it may not go now.
    fn refusal(&mut self) -> Option<Refusal> {
        (!self.take()).then(|| {
            Refusal::new(ErrorCode::RateLimited, "you are sending too fast; slow down and send again")
        })
    }
}

impl Session {
    async fn read_loop(&mut self, reader: &mut Reader) {
        let cut = self.cut.clone();
        let too_slow = self.link.too_slow.clone();
        let heartbeat = self.app.config.heartbeat;
        let mut ticker = tokio::time::interval_at(Instant::now() + heartbeat, heartbeat);
        let mut last_heard = Instant::now();
        let mut nonce = 0u64;
        loop {
            tokio::select! {
                _ = cut.cancelled() => return,
                _ = too_slow.cancelled() => return,
                _ = self.app.shutdown.cancelled() => {
                    // Already queued by the hub's going_away; the writer closes after it.
                    cut.cancelled().await;
                    return;
                }
                _ = ticker.tick() => {
                    if last_heard.elapsed() > heartbeat * 3 {
                        tracing::debug!(user_id = self.user_id, "peer silent for three heartbeats; dropping");
                        return;
                    }
                    nonce += 1;
                    self.push(&ServerFrame::Ping { nonce });
                }
                frame = reader.next() => {
                    last_heard = Instant::now();
                    match frame {
                        None => return,
                        Some(Err(err)) => {
                            if let CodecError::FrameTooLarge { .. } = err {
                                self.close_with(&codec_refusal(&err));
                            }
                            return;
                        }
                        Some(Ok(Err(bad))) => {
                            let code = if bad.unknown_type { ErrorCode::UnknownFrame } else { ErrorCode::Malformed };
                            self.push(&ServerFrame::error(code, bad.message));
                        }
                        Some(Ok(Ok(frame))) => {
                            // Boxed: handling a frame may run database queries whose futures
                            // are large; the idle loop stays small.
                            Box::pin(self.handle(frame)).await
                        }
                    }
                }
            }
        }
    }

    async fn handle(&mut self, frame: ClientFrame) {
        let sender = Sender { app: &self.app, user_id: self.user_id, link: &self.link };
        let (result, reference) = match frame {
            ClientFrame::Send { client_id, to, content } => {
                let result = match self.sends.refusal() {
                    Some(refusal) => Err(refusal),
                    None => sender.send(&client_id, to, content).await,
                };
                (result, Some(client_id))
            }
            ClientFrame::Receipt { conversation_id, kind, seq } => {
                (sender.receipt(conversation_id, kind, seq).await, None)
            }
            ClientFrame::Typing { conversation_id } => {
                (sender.typing(conversation_id, &mut self.typing).await, None)
            }
            ClientFrame::Recall { conversation_id, seq } => (sender.recall(conversation_id, seq).await, None),
            // Both write to the store: they count as sends.
            ClientFrame::Hide { conversation_id, seqs } => match self.sends.refusal() {
                Some(refusal) => (Err(refusal), None),
                None => (sender.hide(conversation_id, seqs).await, None),
            },
            ClientFrame::Delete { conversation_id, seq } => match self.sends.refusal() {
                Some(refusal) => (Err(refusal), None),
                None => (sender.delete(conversation_id, seq).await, None),
            },
            ClientFrame::Edit { client_id, conversation_id, seq, text } => {
                let result = match self.sends.refusal() {
                    Some(refusal) => Err(refusal),
                    None => sender.edit(&client_id, conversation_id, seq, text).await,
                };
                (result, Some(client_id))
            }
            ClientFrame::React { client_id, conversation_id, seq, emoji, on } => {
                let result = match self.sends.refusal() {
                    Some(refusal) => Err(refusal),
                    None => sender.react(&client_id, conversation_id, seq, &emoji, on).await,
                };
                (result, Some(client_id))
            }
            ClientFrame::Forward { client_id, conversation_id, seq, to } => {
                let result = match self.sends.refusal() {
                    Some(refusal) => Err(refusal),
                    None => sender.forward(&client_id, conversation_id, seq, to).await,
                };
                (result, Some(client_id))
            }
            other => {
                self.handle_control(other);
                (Ok(()), None)
            }
        };
        if let Err(refusal) = result {
            self.push(&refusal.into_frame(reference));
        }
    }

    /// Frames that are not about messages.
    fn handle_control(&self, frame: ClientFrame) {
        match frame {
            ClientFrame::Hello { .. } => {
                self.push(&ServerFrame::error(ErrorCode::Malformed, "already said hello"));
            }
            ClientFrame::Ping { nonce } => self.push(&ServerFrame::Pong { nonce }),
            ClientFrame::Pong { .. }
            | ClientFrame::Send { .. }
            | ClientFrame::Receipt { .. }
            | ClientFrame::Typing { .. }
            | ClientFrame::Recall { .. }
            | ClientFrame::Edit { .. }
            | ClientFrame::React { .. }
            | ClientFrame::Forward { .. } => {}
            ClientFrame::Hide { .. } | ClientFrame::Delete { .. } => {}
        }
    }

    /// Queues a frame for this connection only (a full queue cuts it as too slow).
    fn push(&self, frame: &ServerFrame) {
        self.link.push(Outbound::Frame(to_json(frame)));
    }

    fn close_with(&self, frame: &ServerFrame) {
        self.link.push(Outbound::Close(to_json(frame)));
    }
}

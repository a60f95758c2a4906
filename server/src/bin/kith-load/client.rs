//! What the load generator needs of a client: account setup over HTTP and sockets.

use crate::tls::Tls;
use anyhow::{Context, bail};
use bytes::Bytes;
use futures_util::{SinkExt, StreamExt};
use kith_shared::api::{LoginResponse, UserProfile};
use kith_shared::codec::{FrameCodec, HEADER_LEN, to_json};
use kith_shared::frame::Content;
use kith_shared::{ClientFrame, PROTOCOL_VERSION, ServerFrame};
use serde_json::json;
use std::net::{IpAddr, SocketAddr};
use tokio::io::{ReadHalf, WriteHalf};
use tokio::net::TcpSocket;
use tokio::net::TcpStream;
use tokio::net::tcp::{OwnedReadHalf, OwnedWriteHalf};
use tokio::sync::mpsc;
use tokio_rustls::client::TlsStream;
use tokio_util::codec::{FramedRead, FramedWrite, LengthDelimitedCodec};
use tokio_util::either::Either;

/// A socket's read side: clear text, or TLS.
type Reader = Either<OwnedReadHalf, ReadHalf<TlsStream<TcpStream>>>;
/// A socket's write side.
type Writer = Either<OwnedWriteHalf, WriteHalf<TlsStream<TcpStream>>>;

pub const PASSWORD: &str = "load generator password";

/// Uploads are streamed in chunks of this size, repeating one pattern.
const FILE_CHUNK: usize = 64 * 1024;

/// The byte at `offset` of every uploaded file (offsets within one chunk).
pub fn file_byte(offset: usize) -> u8 {
    (offset.wrapping_mul(31) ^ (offset >> 8)) as u8
}

pub struct Http {
    base: String,
    client: reqwest::Client,
}

impl Http {
    /// A client for the HTTP API at `addr`, over TLS trusting only the run's CA with `tls`.
    pub fn new(addr: SocketAddr, tls: Option<&Tls>) -> anyhow::Result<Self> {
        let Some(tls) = tls else {
            return Ok(Self { base: format!("http://{addr}"), client: reqwest::Client::new() });
        };
        let client =
            reqwest::Client::builder().tls_certs_only([reqwest::Certificate::from_der(&tls.ca)?]).build()?;
        Ok(Self { base: format!("https://{addr}"), client })
    }

    async fn post(
        &self,
        path: &str,
        token: Option<&str>,
        body: serde_json::Value,
    ) -> anyhow::Result<serde_json::Value> {
        let mut request = self.client.post(format!("{}{path}", self.base)).json(&body);
        if let Some(token) = token {
            request = request.bearer_auth(token);
        }
        let response = request.send().await?;
        let status = response.status();
        let value: serde_json::Value = response.json().await.unwrap_or(serde_json::Value::Null);
        if !status.is_success() {
            bail!("POST {path}: {status} {value}");
        }
        Ok(value)
    }

    /// Registers `name` (if new) and logs in.
    pub async fn account(&self, name: &str) -> anyhow::Result<LoginResponse> {
        let body = json!({"username": name, "display_name": name, "password": PASSWORD});
        if let Err(err) = self.post("/api/register", None, body).await
            && !err.to_string().contains("username_taken")
        {
            return Err(err);
        }
        let login = self.post("/api/login", None, json!({"username": name, "password": PASSWORD})).await?;
        Ok(serde_json::from_value(login)?)
    }

    /// Makes two accounts friends; returns their conversation id.
    pub async fn befriend(&self, a: &LoginResponse, b: &UserProfile, b_token: &str) -> anyhow::Result<i64> {
        let sent = self.post("/api/friend-requests", Some(&a.token), json!({"to": b.id})).await?;
        if let Some(id) = sent["friend"]["conversation_id"].as_i64() {
            return Ok(id);
        }
        let id = sent["request"]["id"].as_i64().context("request id")?;
        let friend =
            self.post(&format!("/api/friend-requests/{id}/accept"), Some(b_token), json!({})).await?;
        friend["conversation_id"].as_i64().context("conversation id")
    }

    /// Creates a group owned by `owner` and brings `members` in (each applies, the owner
    /// accepts). Returns the group id.
    pub async fn group_with(&self, owner: &LoginResponse, members: &[LoginResponse]) -> anyhow::Result<i64> {
        let group = self.post("/api/groups", Some(&owner.token), json!({"name": "load test"})).await?;
        let id = group["group"]["id"].as_i64().context("group id")?;
        for member in members {
            let request =
                self.post(&format!("/api/groups/{id}/applications"), Some(&member.token), json!({})).await?;
            let request_id = request["id"].as_i64().context("application id")?;
            self.post(&format!("/api/group-requests/{request_id}/accept"), Some(&owner.token), json!({}))
                .await?;
        }
        Ok(id)
    }

    /// Uploads `size` bytes of [`file_byte`] as `name`, streamed; returns the upload id.
    pub async fn upload(&self, token: &str, name: &str, size: u64) -> anyhow::Result<String> {
        let chunk = Bytes::from((0..FILE_CHUNK).map(file_byte).collect::<Vec<u8>>());
        let chunks = size.div_ceil(FILE_CHUNK as u64);
        let body = futures_util::stream::iter((0..chunks).map(move |i| {
            let len = (size - i * FILE_CHUNK as u64).min(FILE_CHUNK as u64) as usize;
            Ok::<_, std::io::Error>(chunk.slice(..len))
        }));
        let response = self
            .client
            .post(format!("{}/api/files", self.base))
            .query(&[("name", name)])
            .bearer_auth(token)
            .header(reqwest::header::CONTENT_LENGTH, size)
            .body(reqwest::Body::wrap_stream(body))
            .send()
            .await?;
        let status = response.status();
        let value: serde_json::Value = response.json().await.unwrap_or(serde_json::Value::Null);
        if !status.is_success() {
            bail!("upload: {status} {value}");
        }
        value["id"].as_str().map(str::to_owned).context("upload id")
    }

    /// Downloads an upload's content, checking every byte against [`file_byte`]; returns
    /// the number of bytes.
    pub async fn download(&self, token: &str, id: &str) -> anyhow::Result<u64> {
        let mut response = self
            .client
            .get(format!("{}/api/files/{id}/content", self.base))
            .bearer_auth(token)
            .send()
            .await?;
        if !response.status().is_success() {
            bail!("download: {}", response.status());
        }
        let pattern: Vec<u8> = (0..FILE_CHUNK).map(file_byte).collect();
        let mut at = 0u64;
        while let Some(chunk) = response.chunk().await? {
            // The pattern repeats every FILE_CHUNK bytes: compare the chunk piece by piece.
            let mut rest = &chunk[..];
            while !rest.is_empty() {
                let from = (at % FILE_CHUNK as u64) as usize;
                let len = rest.len().min(FILE_CHUNK - from);
                if rest[..len] != pattern[from..from + len] {
                    bail!("upload {id} differs near byte {at}");
                }
                rest = &rest[len..];
                at += len as u64;
            }
        }
        Ok(at)
    }

    pub async fn history_after(
        &self,
        token: &str,
        conversation: i64,
        after: i64,
    ) -> anyhow::Result<(Vec<kith_shared::frame::ChatMessage>, bool)> {
        let url = format!("{}/api/conversations/{conversation}/messages?after={after}&limit=200", self.base);
        let page: serde_json::Value = self.client.get(url).bearer_auth(token).send().await?.json().await?;
        let messages = serde_json::from_value(page["messages"].clone())?;
        Ok((messages, page["more"] == json!(true)))
    }
}

/// The most a frame from the server may hold.
const MAX_FRAME: usize = 1 << 20;

/// An authenticated socket: frames to send go through `out`; [`Conn::next`] and
/// [`Conn::next_timed`] read what arrives.
pub struct Conn {
    pub out: mpsc::UnboundedSender<Bytes>,
    /// Frame bodies as they arrive, not yet read as JSON.
    bodies: FramedRead<Reader, LengthDelimitedCodec>,
}

/// A frame as the timed loops need it. Acks and stamped messages (the bulk of a run) are
/// recognised from their bytes without building the frame, so that the generator's own cost
/// per message stays small beside the server's.
pub enum Incoming {
    Ack,
    /// A message whose text [`stamped_text`] wrote: when it was sent (microseconds since the
    /// run's epoch) and the numbers that follow the stamp, packed into one key.
    Stamped {
        sent: u64,
        key: u64,
    },
    /// Any other frame but a ping (pings are answered).
    Frame(Box<ServerFrame>),
}

/// The text of a timed message: the send time, then numbers that tell it apart
/// (`stamped_text(t, &[sender, n])`).
pub fn stamped_text(sent: u64, numbers: &[u64]) -> String {
    let mut text = format!("t={sent}");
    for n in numbers {
        text.push_str(&format!(" {n}"));
    }
    text
}

/// The send time and key of a text written by [`stamped_text`]; the key packs the numbers
/// after the stamp, 32 bits each (the last in the low bits).
pub fn read_stamp(text: &str) -> Option<(u64, u64)> {
    let mut numbers = text.strip_prefix("t=")?.split(' ').map(|n| n.parse::<u64>().ok());
    let sent = numbers.next()??;
    let mut key = 0u64;
    for n in numbers {
        key = (key << 32) | n?;
    }
    Some((sent, key))
}

/// The stamp of a `message` frame's body, read from its bytes: the text is the last string
/// of a message the generator sent, and it never needs escaping.
fn stamp_in_body(body: &[u8]) -> Option<(u64, u64)> {
    const TEXT: &str = r#""text":"t="#;
    let body = std::str::from_utf8(body).ok()?;
    let at = body.rfind(TEXT)? + TEXT.len() - 2;
    let text = &body[at..];
    read_stamp(&text[..text.find('"')?])
}

impl Conn {
    /// Connects from `source` (a loopback address, to spread ports), says hello and waits
    /// for the welcome and sync state; returns the sync state too.
    pub async fn open(
        server: SocketAddr,
        tls: Option<&Tls>,
        source: IpAddr,
        token: &str,
    ) -> anyhow::Result<(Self, ServerFrame)> {
        let socket = TcpSocket::new_v4()?;
        socket.bind(SocketAddr::new(source, 0))?;
        let stream = socket.connect(server).await?;
        stream.set_nodelay(true)?;
        let (read, write): (Reader, Writer) = match tls {
            None => {
                let (read, write) = stream.into_split();
                (Either::Left(read), Either::Left(write))
            }
            Some(tls) => {
                let stream = tls.connector.connect(tls.name.clone(), stream).await?;
                let (read, write) = tokio::io::split(stream);
                (Either::Right(read), Either::Right(write))
            }
        };
        let codec = LengthDelimitedCodec::builder()
            .length_field_length(HEADER_LEN)
            .max_frame_length(MAX_FRAME)
            .new_codec();
        let bodies = FramedRead::with_capacity(read, codec, 1024);
        let mut writer = FramedWrite::new(write, FrameCodec::<ServerFrame>::new(MAX_FRAME));
        let (out, mut queue) = mpsc::unbounded_channel::<Bytes>();
        tokio::spawn(async move {
            while let Some(json) = queue.recv().await {
                if writer.feed(json).await.is_err() {
                    return;
                }
                while let Ok(json) = queue.try_recv() {
                    if writer.feed(json).await.is_err() {
                        return;
                    }
                }
                if writer.flush().await.is_err() {
                    return;
                }
            }
        });
        out.send(to_json(&ClientFrame::Hello { version: PROTOCOL_VERSION, token: token.to_owned() }))?;
        let mut conn = Self { out, bodies };
        match conn.next().await? {
            ServerFrame::Welcome { .. } => {}
            other => bail!("expected welcome, got {other:?}"),
        }
        let sync = conn.next().await?;
        Ok((conn, sync))
    }

    pub fn send(&self, frame: &ClientFrame) {
        let _ = self.out.send(to_json(frame));
    }

    /// The next frame other than a ping (pings are answered).
    pub async fn next(&mut self) -> anyhow::Result<ServerFrame> {
        loop {
            let body = self.body().await?;
            if let Some(frame) = self.read(&body)? {
                return Ok(frame);
            }
        }
    }

    /// The next frame other than a ping, as the timed loops need it.
    pub async fn next_timed(&mut self) -> anyhow::Result<Incoming> {
        loop {
            let body = self.body().await?;
            if body.starts_with(br#"{"type":"ack","#) {
                return Ok(Incoming::Ack);
            }
            if body.starts_with(br#"{"type":"message","#)
                && let Some((sent, key)) = stamp_in_body(&body)
            {
                return Ok(Incoming::Stamped { sent, key });
            }
            match self.read(&body)? {
                None => {}
                Some(ServerFrame::Ack { .. }) => return Ok(Incoming::Ack),
                Some(ServerFrame::Message { message }) => {
                    let stamp = match &message.content {
                        Content::Text { text, .. } => read_stamp(text),
                        _ => None,
                    };
                    return Ok(match stamp {
                        Some((sent, key)) => Incoming::Stamped { sent, key },
                        None => Incoming::Frame(Box::new(ServerFrame::Message { message })),
                    });
                }
                Some(frame) => return Ok(Incoming::Frame(Box::new(frame))),
            }
        }
    }

    async fn body(&mut self) -> anyhow::Result<bytes::BytesMut> {
        match self.bodies.next().await {
            Some(Ok(body)) => Ok(body),
            Some(Err(err)) => bail!("socket: {err}"),
            None => bail!("the server closed the connection"),
        }
    }

    /// `body` as a frame; a ping is answered and gives `None`.
    fn read(&self, body: &[u8]) -> anyhow::Result<Option<ServerFrame>> {
        match serde_json::from_slice(body) {
            Ok(ServerFrame::Ping { nonce }) => {
                self.send(&ClientFrame::Pong { nonce });
                Ok(None)
            }
            Ok(frame) => Ok(Some(frame)),
            Err(err) => bail!("bad frame from server: {err}"),
        }
    }
}

/// The loopback source address for the `i`-th connection (127.0.0.1 to 127.0.0.8).
pub fn source(i: usize) -> IpAddr {
    IpAddr::from([127, 0, 0, 1 + (i % 8) as u8])
}

#[cfg(test)]
mod tests {
    use super::*;
    use kith_shared::frame::ChatMessage;

    fn message_body(text: &str) -> Bytes {
        to_json(&ServerFrame::Message {
            message: ChatMessage {
                id: 7,
                conversation_id: 3,
                seq: 2,
                sender_id: Some(1),
                client_id: Some("c".into()),
                sent_at: 1,
                content: Content::text(text.to_owned()),
                edited_at: None,
                reactions: Vec::new(),
                forwarded_from: None,
                muted: false,
            },
        })
    }

    #[test]
    fn a_stamped_text_reads_back_with_its_numbers_packed_into_the_key() {
        assert_eq!(read_stamp(&stamped_text(1234, &[])), Some((1234, 0)));
        assert_eq!(read_stamp(&stamped_text(1234, &[17])), Some((1234, 17)));
        assert_eq!(read_stamp(&stamped_text(5, &[3, 9])), Some((5, (3 << 32) | 9)));
        assert_eq!(read_stamp("hello"), None);
        assert_eq!(read_stamp("t=12 x"), None);
    }

    #[test]
    fn the_stamp_is_found_in_a_message_frames_bytes() {
        let body = message_body(&stamped_text(99, &[4, 2]));
        assert_eq!(stamp_in_body(&body), Some((99, (4 << 32) | 2)));
        assert_eq!(stamp_in_body(&message_body("plain words")), None);
        assert!(body.starts_with(br#"{"type":"message","#));
        let ack = to_json(&ServerFrame::Ack {
            client_id: "c".into(),
            message_id: 7,
            conversation_id: 3,
            seq: 2,
            sent_at: 1,
        });
        assert!(ack.starts_with(br#"{"type":"ack","#));
    }
}

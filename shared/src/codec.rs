//! The socket framing: a 4-byte big-endian length, then that many bytes of JSON.
//!
//! [`FrameCodec`] decodes frames of type `D`. A frame whose JSON is bad is returned as
//! `Ok(Some(Err(..)))`: the stream stays in step and the connection can go on. A length over
//! the limit is a [`CodecError::FrameTooLarge`]: the stream cannot be trusted after it.
//! Encoding takes the JSON document already serialised (see [`to_json`]), so that one frame
//! sent to many receivers is serialised once.

use bytes::{Buf, BufMut, Bytes, BytesMut};
use serde::Serialize;
use serde::de::DeserializeOwned;
use std::marker::PhantomData;
use tokio_util::codec::{Decoder, Encoder};

/// Size of the length prefix.
pub const HEADER_LEN: usize = 4;

/// A fatal framing error: after it the byte stream is out of step and must be closed.
#[derive(Debug, thiserror::Error)]
pub enum CodecError {
    #[error("frame of {len} bytes is over the limit of {max}")]
    FrameTooLarge { len: usize, max: usize },
    #[error(transparent)]
    Io(#[from] std::io::Error),
}

/// A frame that was framed correctly but whose JSON could not be read as a frame.
#[derive(Debug, thiserror::Error)]
#[error("{message}")]
pub struct BadFrame {
    /// True when the JSON was well formed but its `type` is not a known frame.
    pub unknown_type: bool,
    pub message: String,
}

/// Serialises a frame to the JSON document that [`FrameCodec`] encodes.
pub fn to_json<T: Serialize>(frame: &T) -> Bytes {
    // Frames are plain data (strings, numbers, enums); serialising them cannot fail.
    Bytes::from(serde_json::to_vec(frame).expect("protocol frames always serialise to JSON"))
}

/// Length-prefixed JSON codec decoding `D` and encoding pre-serialised JSON.
#[derive(Debug)]
pub struct FrameCodec<D> {
    max_len: usize,
    _decodes: PhantomData<fn() -> D>,
}

impl<D> FrameCodec<D> {
    pub fn new(max_len: usize) -> Self {
        Self { max_len, _decodes: PhantomData }
    }
}

impl<D: DeserializeOwned> Decoder for FrameCodec<D> {
    type Item = Result<D, BadFrame>;
    type Error = CodecError;

    fn decode(&mut self, src: &mut BytesMut) -> Result<Option<Self::Item>, CodecError> {
        if src.len() < HEADER_LEN {
            return Ok(None);
        }
        let len = u32::from_be_bytes([src[0], src[1], src[2], src[3]]) as usize;
        if len > self.max_len {
            return Err(CodecError::FrameTooLarge { len, max: self.max_len });
        }
        if src.len() < HEADER_LEN + len {
            src.reserve(HEADER_LEN + len - src.len());
            return Ok(None);
        }
        src.advance(HEADER_LEN);
        let body = src.split_to(len);
        Ok(Some(parse(&body)))
    }
}

fn parse<D: DeserializeOwned>(body: &[u8]) -> Result<D, BadFrame> {
    serde_json::from_slice(body)
        .map_err(|err| BadFrame { unknown_type: unknown_type::<D>(body), message: err.to_string() })
}

/// True when `body` is a JSON object whose `type` names no variant of `D`. A known type with
/// a bad field value (an unknown `kind`, say) is not an unknown type: `{"type": T}` alone is
/// read again, and only an unknown variant there means the type itself is unknown.
fn unknown_type<D: DeserializeOwned>(body: &[u8]) -> bool {
    let Ok(serde_json::Value::Object(object)) = serde_json::from_slice::<serde_json::Value>(body) else {
        return false;
    };
    let Some(type_name @ serde_json::Value::String(_)) = object.get("type") else { return false };
    let alone = serde_json::json!({ "type": type_name });
    match serde_json::from_value::<D>(alone) {
        Ok(_) => false,
        Err(err) => err.to_string().starts_with("unknown variant"),
    }
}

impl<D> Encoder<Bytes> for FrameCodec<D> {
    type Error = CodecError;

    fn encode(&mut self, json: Bytes, dst: &mut BytesMut) -> Result<(), CodecError> {
        if json.len() > self.max_len {
            return Err(CodecError::FrameTooLarge { len: json.len(), max: self.max_len });
        }
        dst.reserve(HEADER_LEN + json.len());
        dst.put_u32(json.len() as u32);
        dst.extend_from_slice(&json);
        Ok(())
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::ClientFrame;

    fn framed(json: &[u8]) -> BytesMut {
        let mut buf = BytesMut::new();
        buf.put_u32(json.len() as u32);
        buf.extend_from_slice(json);
        buf
    }

    #[test]
    fn decodes_a_whole_frame() {
        let mut codec = FrameCodec::<ClientFrame>::new(1024);
        let mut buf = framed(br#"{"type":"ping","nonce":7}"#);
        let frame = codec.decode(&mut buf).expect("no framing error").expect("complete");
        assert_eq!(frame.expect("valid"), ClientFrame::Ping { nonce: 7 });
        assert!(buf.is_empty());
    }

    #[test]
    fn waits_for_a_truncated_frame() {
        let mut codec = FrameCodec::<ClientFrame>::new(1024);
        let whole = framed(br#"{"type":"ping","nonce":7}"#);
        let mut buf = BytesMut::from(&whole[..10]);
        assert!(codec.decode(&mut buf).expect("no error").is_none());
        let mut header_only = BytesMut::from(&whole[..3]);
        assert!(codec.decode(&mut header_only).expect("no error").is_none());
        buf.extend_from_slice(&whole[10..]);
        assert!(codec.decode(&mut buf).expect("no error").is_some());
    }

    #[test]
    fn refuses_an_oversized_length_before_reading_it() {
        let mut codec = FrameCodec::<ClientFrame>::new(16);
        let mut buf = BytesMut::new();
        buf.put_u32(1_000_000);
        match codec.decode(&mut buf) {
            Err(CodecError::FrameTooLarge { len: 1_000_000, max: 16 }) => {}
            other => panic!("expected FrameTooLarge, got {other:?}"),
        }
    }

    #[test]
    fn bad_json_keeps_the_stream_in_step() {
        let mut codec = FrameCodec::<ClientFrame>::new(1024);
        let mut buf = framed(b"{not json");
        buf.extend_from_slice(&framed(br#"{"type":"launch"}"#));
        buf.extend_from_slice(&framed(br#"{"type":"ping","nonce":1}"#));
        let first = codec.decode(&mut buf).expect("ok").expect("some");
        assert!(matches!(first, Err(BadFrame { unknown_type: false, .. })));
        let second = codec.decode(&mut buf).expect("ok").expect("some");
        assert!(matches!(second, Err(BadFrame { unknown_type: true, .. })));
        let third = codec.decode(&mut buf).expect("ok").expect("some");
        assert_eq!(third.expect("valid"), ClientFrame::Ping { nonce: 1 });
    }

    #[test]
    fn a_bad_value_in_a_known_frame_is_not_an_unknown_type() {
        let mut codec = FrameCodec::<ClientFrame>::new(1024);
        for json in [
            &br#"{"type":"receipt","conversation_id":1,"kind":"seen","seq":1}"#[..],
            br#"{"type":"send","client_id":"a","to":{"kind":"planet","id":1},"content":{"type":"text","text":"x"}}"#,
            br#"{"type":"send","client_id":"a","to":{"kind":"user","id":1},"content":{"type":"hologram"}}"#,
            br#"{"type":"ping"}"#,
            br#"{"type":7}"#,
            br#"[1,2]"#,
        ] {
            let mut buf = framed(json);
            let decoded = codec.decode(&mut buf).expect("ok").expect("some");
            assert!(
                matches!(decoded, Err(BadFrame { unknown_type: false, .. })),
                "{} is malformed, not unknown",
                String::from_utf8_lossy(json)
            );
        }
    }

    #[test]
    fn encode_prefixes_the_length() {
        let mut codec = FrameCodec::<ClientFrame>::new(1024);
        let mut out = BytesMut::new();
        codec.encode(to_json(&ClientFrame::Pong { nonce: 2 }), &mut out).expect("encode");
        let len = u32::from_be_bytes([out[0], out[1], out[2], out[3]]) as usize;
        assert_eq!(len, out.len() - HEADER_LEN);
        let decoded = codec.decode(&mut out).expect("ok").expect("some").expect("valid");
        assert_eq!(decoded, ClientFrame::Pong { nonce: 2 });
    }
}

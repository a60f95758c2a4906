//! The Kith wire protocol, shared by the server and the client.
//!
//! - [`frame`]: the frames exchanged over the realtime socket.
//! - [`api`]: the JSON bodies of the HTTP API.
//! - [`error`]: the error codes used by both.
//! - [`codec`] (feature `codec`): the tokio codec that frames JSON documents with a
//!   4-byte big-endian length prefix.
//! - [`fuzz`] (feature `fuzz`, and in tests): what the fuzzers in `fuzz/` check on one input,
//!   and a seeded mutator for tests that send hostile frames.
//!
//! `docs/protocol.md` and `docs/api.md` describe the same thing for other languages.

pub mod api;
#[cfg(feature = "codec")]
pub mod codec;
pub mod error;
pub mod frame;
#[cfg(all(feature = "codec", any(test, feature = "fuzz")))]
pub mod fuzz;

pub use error::ErrorCode;
pub use frame::{ClientFrame, ServerFrame};

/// The SHA-256 fingerprint of a DER certificate as colon-separated upper-case hex, the way the
/// server logs it, the client shows it and `openssl x509 -fingerprint -sha256` prints it.
pub fn certificate_fingerprint(der: &[u8]) -> String {
    use sha2::{Digest, Sha256};
    use std::fmt::Write as _;
    let digest = Sha256::digest(der);
    let mut text = String::with_capacity(digest.len() * 3);
    for (i, byte) in digest.iter().enumerate() {
        if i > 0 {
            text.push(':');
        }
        let _ = write!(text, "{byte:02X}");
    }
    text
}

/// The protocol version a client announces in its hello. The server refuses others.
pub const PROTOCOL_VERSION: u32 = 1;

/// The default largest frame body (the JSON document, without the length prefix), in bytes.
pub const DEFAULT_MAX_FRAME_LEN: usize = 64 * 1024;

/// A user's numeric id, assigned by the server.
pub type UserId = i64;

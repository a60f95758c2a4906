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

/// The protocol version a client announces in its hello. The server refuses others.
pub const PROTOCOL_VERSION: u32 = 1;

/// The default largest frame body (the JSON document, without the length prefix), in bytes.
pub const DEFAULT_MAX_FRAME_LEN: usize = 64 * 1024;

/// A user's numeric id, assigned by the server.
pub type UserId = i64;

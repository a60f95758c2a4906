//! Frames of the realtime socket. Each is a JSON object whose `type` field names it
//! (snake_case); the other fields are the variant's.

use crate::ErrorCode;
use crate::api::UserProfile;
use serde::{Deserialize, Serialize};

/// Frames a client sends.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
#[serde(tag = "type", rename_all = "snake_case")]
pub enum ClientFrame {
    /// Must be the first frame: the protocol version and the token from `POST /api/login`.
    Hello { version: u32, token: String },
    /// Asks the server for a `pong` with the same nonce.
    Ping { nonce: u64 },
    /// The answer to the server's `ping`.
    Pong { nonce: u64 },
}

/// Frames the server sends.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
#[serde(tag = "type", rename_all = "snake_case")]
pub enum ServerFrame {
    /// The hello was accepted.
    Welcome {
        user: UserProfile,
        server_version: String,
        protocol_version: u32,
        /// The server pings this often; a peer silent for three intervals is dropped.
        heartbeat_secs: u32,
    },
    /// Something the client sent was refused. `reference` repeats the client's id for the
    /// request concerned, when it had one.
    Error {
        code: ErrorCode,
        message: String,
        #[serde(default, skip_serializing_if = "Option::is_none")]
        reference: Option<String>,
    },
    /// The server closes this connection for the reason given; do not reconnect on your own
    /// for `logged_in_elsewhere` or `logged_out`.
    Kicked { reason: KickReason, message: String },
    /// The server is shutting down; reconnect later.
    GoingAway { message: String },
    /// Answer with a `pong` carrying the same nonce.
    Ping { nonce: u64 },
    /// The answer to the client's `ping`.
    Pong { nonce: u64 },
}

/// Why the server closed a connection with a `kicked` frame.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum KickReason {
    /// The same account logged in on another client.
    LoggedInElsewhere,
    /// The token was revoked (log out, password change).
    LoggedOut,
    /// The client did not read its frames fast enough; reconnect and sync.
    TooSlow,
}

impl ServerFrame {
    /// An error frame with no reference.
    pub fn error(code: ErrorCode, message: impl Into<String>) -> Self {
        ServerFrame::Error { code, message: message.into(), reference: None }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn hello_has_documented_shape() {
        let frame = ClientFrame::Hello { version: 1, token: "abc".into() };
        let json = serde_json::to_value(&frame).expect("serialise");
        assert_eq!(json, serde_json::json!({"type": "hello", "version": 1, "token": "abc"}));
    }

    #[test]
    fn kicked_round_trips() {
        let frame =
            ServerFrame::Kicked { reason: KickReason::LoggedInElsewhere, message: "elsewhere".into() };
        let text = serde_json::to_string(&frame).expect("serialise");
        assert!(text.contains("\"reason\":\"logged_in_elsewhere\""), "{text}");
        let back: ServerFrame = serde_json::from_str(&text).expect("parse");
        assert_eq!(back, frame);
    }

    #[test]
    fn unknown_type_is_an_error() {
        let parsed = serde_json::from_str::<ClientFrame>(r#"{"type":"launch_rockets"}"#);
        assert!(parsed.is_err());
    }
}

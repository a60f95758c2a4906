//! Error codes. They travel as snake_case strings, in socket `error` frames and in the
//! body of every failed HTTP request.

use serde::{Deserialize, Serialize};
use std::fmt;

/// What went wrong, in a form a program can act on. The accompanying message is for people.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, Serialize, Deserialize)]
#[cfg_attr(feature = "openapi", derive(utoipa::ToSchema))]
#[serde(rename_all = "snake_case")]
pub enum ErrorCode {
    /// The request or frame is not valid JSON or lacks required fields.
    Malformed,
    /// A frame's declared length is over the server's limit; the connection is closed.
    FrameTooLarge,
    /// The frame type is not one the receiver knows.
    UnknownFrame,
    /// The hello announced a protocol version the server does not speak.
    UnsupportedVersion,
    /// The first frame on a socket was not a hello.
    HelloRequired,
    /// No hello arrived in time.
    HelloTimeout,
    /// The token is missing, wrong, expired or revoked.
    Unauthorized,
    /// The caller may not do this.
    Forbidden,
    /// The thing named does not exist (or the caller may not know that it does).
    NotFound,
    /// The user name is too short, too long or has characters outside the allowed set.
    InvalidUsername,
    /// The display name is empty, too long or has control characters.
    InvalidDisplayName,
    /// The password is too short or too long.
    InvalidPassword,
    /// Another account already has this user name.
    UsernameTaken,
    /// The user name or password is wrong.
    WrongCredentials,
    /// The operator disabled this account: logging in is refused until it is enabled again.
    AccountDisabled,
    /// A field other than the ones above is out of its allowed range.
    InvalidField,
    /// The body is larger than the server accepts.
    PayloadTooLarge,
    /// The content type is not one accepted here (for example an avatar that is not an image).
    UnsupportedMedia,
    /// Too many attempts or messages in a short time; try again later.
    RateLimited,
    /// The two users are friends already.
    AlreadyFriends,
    /// An identical request is already pending.
    DuplicateRequest,
    /// The message's time to be recalled has passed.
    RecallExpired,
    /// The message's time to be edited has passed.
    EditExpired,
    /// The person is a member of the group already (applying, inviting).
    AlreadyMember,
    /// The owner tried to leave their group: hand it over or dissolve it first.
    OwnerCannotLeave,
    /// The file was deleted from the server (fetched by its receivers, or its time passed).
    Expired,
    /// The HTTP method is not one the route answers (the `Allow` header lists those it does).
    MethodNotAllowed,
    /// The request took longer than the server allows.
    Timeout,
    /// The server failed; the details are in its log.
    Internal,
}

impl ErrorCode {
    /// The code as it appears on the wire.
    pub fn as_str(self) -> &'static str {
        match self {
            ErrorCode::Malformed => "malformed",
            ErrorCode::FrameTooLarge => "frame_too_large",
            ErrorCode::UnknownFrame => "unknown_frame",
            ErrorCode::UnsupportedVersion => "unsupported_version",
            ErrorCode::HelloRequired => "hello_required",
            ErrorCode::HelloTimeout => "hello_timeout",
            ErrorCode::Unauthorized => "unauthorized",
            ErrorCode::Forbidden => "forbidden",
            ErrorCode::NotFound => "not_found",
            ErrorCode::InvalidUsername => "invalid_username",
            ErrorCode::InvalidDisplayName => "invalid_display_name",
            ErrorCode::InvalidPassword => "invalid_password",
            ErrorCode::UsernameTaken => "username_taken",
            ErrorCode::WrongCredentials => "wrong_credentials",
            ErrorCode::AccountDisabled => "account_disabled",
            ErrorCode::InvalidField => "invalid_field",
            ErrorCode::PayloadTooLarge => "payload_too_large",
            ErrorCode::UnsupportedMedia => "unsupported_media",
            ErrorCode::RateLimited => "rate_limited",
            ErrorCode::AlreadyFriends => "already_friends",
            ErrorCode::DuplicateRequest => "duplicate_request",
            ErrorCode::RecallExpired => "recall_expired",
            ErrorCode::EditExpired => "edit_expired",
            ErrorCode::AlreadyMember => "already_member",
            ErrorCode::OwnerCannotLeave => "owner_cannot_leave",
            ErrorCode::Expired => "expired",
            ErrorCode::MethodNotAllowed => "method_not_allowed",
            ErrorCode::Timeout => "timeout",
            ErrorCode::Internal => "internal",
        }
    }
}

impl fmt::Display for ErrorCode {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(self.as_str())
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn wire_names_match_as_str() {
        for code in [
            ErrorCode::Malformed,
            ErrorCode::FrameTooLarge,
            ErrorCode::UsernameTaken,
            ErrorCode::RateLimited,
            ErrorCode::MethodNotAllowed,
            ErrorCode::Timeout,
            ErrorCode::Internal,
        ] {
            let json = serde_json::to_string(&code).expect("error codes serialise");
            assert_eq!(json, format!("\"{}\"", code.as_str()));
        }
    }
}

//! The one refusal: an error code a program can act on and a message for people. The HTTP
//! door answers it as `{"code", "message"}` with the status [`status_of`] gives; the socket
//! door sends it as an `error` frame. Internal details are logged, never sent.

use crate::store::StoreError;
use axum::http::StatusCode;
use axum::response::{IntoResponse, Response};
use kith_shared::{ErrorCode, ServerFrame, api};

/// A request or frame the server will not carry out, and why.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Refusal {
    pub code: ErrorCode,
    pub message: String,
    /// The HTTP status; [`status_of`] the code unless a route documents another.
    status: StatusCode,
}

/// The HTTP status of each error code. Two documented exceptions are made where they arise
/// with [`Refusal::with_status`]: a JSON body of the wrong shape is 422 `malformed`, and a
/// wrong old password when changing it is 403 `wrong_credentials` (the caller is logged in).
pub fn status_of(code: ErrorCode) -> StatusCode {
    match code {
        ErrorCode::Malformed
        | ErrorCode::UnknownFrame
        | ErrorCode::UnsupportedVersion
        | ErrorCode::HelloRequired
        | ErrorCode::InvalidUsername
        | ErrorCode::InvalidDisplayName
        | ErrorCode::InvalidPassword
        | ErrorCode::InvalidField => StatusCode::BAD_REQUEST,
        ErrorCode::Unauthorized | ErrorCode::WrongCredentials => StatusCode::UNAUTHORIZED,
        ErrorCode::Forbidden | ErrorCode::AccountDisabled => StatusCode::FORBIDDEN,
        ErrorCode::NotFound => StatusCode::NOT_FOUND,
        ErrorCode::MethodNotAllowed => StatusCode::METHOD_NOT_ALLOWED,
        ErrorCode::HelloTimeout | ErrorCode::Timeout => StatusCode::REQUEST_TIMEOUT,
        ErrorCode::UsernameTaken
        | ErrorCode::AlreadyFriends
        | ErrorCode::DuplicateRequest
        | ErrorCode::AlreadyMember
        | ErrorCode::OwnerCannotLeave
        | ErrorCode::RecallExpired
        | ErrorCode::EditExpired => StatusCode::CONFLICT,
        ErrorCode::Expired => StatusCode::GONE,
        ErrorCode::FrameTooLarge | ErrorCode::PayloadTooLarge => StatusCode::PAYLOAD_TOO_LARGE,
        ErrorCode::UnsupportedMedia => StatusCode::UNSUPPORTED_MEDIA_TYPE,
        ErrorCode::RateLimited => StatusCode::TOO_MANY_REQUESTS,
        ErrorCode::Internal => StatusCode::INTERNAL_SERVER_ERROR,
    }
}

/// The error code of an HTTP status, for answers made outside the handlers (an unknown
/// route, a wrong method, a timeout, a refused range).
pub fn code_of(status: StatusCode) -> ErrorCode {
    match status {
        StatusCode::UNAUTHORIZED => ErrorCode::Unauthorized,
        StatusCode::FORBIDDEN => ErrorCode::Forbidden,
        StatusCode::NOT_FOUND => ErrorCode::NotFound,
        StatusCode::METHOD_NOT_ALLOWED => ErrorCode::MethodNotAllowed,
        StatusCode::REQUEST_TIMEOUT => ErrorCode::Timeout,
        StatusCode::GONE => ErrorCode::Expired,
        StatusCode::PAYLOAD_TOO_LARGE => ErrorCode::PayloadTooLarge,
        StatusCode::UNSUPPORTED_MEDIA_TYPE => ErrorCode::UnsupportedMedia,
        StatusCode::RANGE_NOT_SATISFIABLE => ErrorCode::InvalidField,
        StatusCode::TOO_MANY_REQUESTS => ErrorCode::RateLimited,
        status if status.is_client_error() => ErrorCode::Malformed,
        _ => ErrorCode::Internal,
    }
}

impl Refusal {
    pub fn new(code: ErrorCode, message: impl Into<String>) -> Self {
        Self { code, message: message.into(), status: status_of(code) }
    }

    /// The same refusal answered with another HTTP status (see [`status_of`]).
    pub fn with_status(self, status: StatusCode) -> Self {
        Self { status, ..self }
    }

    pub fn invalid(message: impl Into<String>) -> Self {
        Self::new(ErrorCode::InvalidField, message)
    }

    pub fn malformed(message: impl Into<String>) -> Self {
        Self::new(ErrorCode::Malformed, message)
    }

    pub fn unauthorized(message: impl Into<String>) -> Self {
        Self::new(ErrorCode::Unauthorized, message)
    }

    pub fn forbidden(message: impl Into<String>) -> Self {
        Self::new(ErrorCode::Forbidden, message)
    }

    pub fn not_found(message: impl Into<String>) -> Self {
        Self::new(ErrorCode::NotFound, message)
    }

    /// A server-side failure: logged with its cause, reported without it.
    pub fn internal(cause: impl std::fmt::Display) -> Self {
        tracing::error!(%cause, "request failed");
        Self::new(ErrorCode::Internal, "the server failed; try again")
    }

    /// The socket's `error` frame for this refusal; `reference` repeats the client's id.
    pub fn into_frame(self, reference: Option<String>) -> ServerFrame {
        ServerFrame::Error { code: self.code, message: self.message, reference }
    }
}

/// A statement that broke a unique constraint is the caller's duplicate (`code`, `message`);
/// any other failure is internal.
pub fn on_unique(err: StoreError, code: ErrorCode, message: &str) -> Refusal {
    if err.is_unique_violation() { Refusal::new(code, message) } else { Refusal::internal(err) }
}

impl From<StoreError> for Refusal {
    fn from(err: StoreError) -> Self {
        Refusal::internal(err)
    }
}

impl From<crate::messages::MessageError> for Refusal {
    fn from(err: crate::messages::MessageError) -> Self {
        match err {
            crate::messages::MessageError::NotEditable => {
                Refusal::new(ErrorCode::InvalidField, err.to_string())
            }
            err => Refusal::internal(err),
        }
    }
}

impl From<crate::auth::FieldError> for Refusal {
    fn from(err: crate::auth::FieldError) -> Self {
        Refusal::new(err.code, err.message)
    }
}

impl From<crate::files::FileError> for Refusal {
    fn from(err: crate::files::FileError) -> Self {
        if matches!(err, crate::files::FileError::ShuttingDown) {
            return Refusal::new(ErrorCode::Internal, err.to_string())
                .with_status(StatusCode::SERVICE_UNAVAILABLE);
        }
        match err.code() {
            ErrorCode::Internal => Refusal::internal(err),
            code => Refusal::new(code, err.to_string()),
        }
    }
}

impl IntoResponse for Refusal {
    fn into_response(self) -> Response {
        let body = api::ApiError { code: self.code, message: self.message };
        (self.status, axum::Json(body)).into_response()
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn every_status_maps_back_to_its_code() {
        for code in [
            ErrorCode::Unauthorized,
            ErrorCode::Forbidden,
            ErrorCode::NotFound,
            ErrorCode::MethodNotAllowed,
            ErrorCode::Timeout,
            ErrorCode::Expired,
            ErrorCode::PayloadTooLarge,
            ErrorCode::UnsupportedMedia,
            ErrorCode::RateLimited,
            ErrorCode::Malformed,
            ErrorCode::Internal,
        ] {
            assert_eq!(code_of(status_of(code)), code, "{code}");
        }
    }
}

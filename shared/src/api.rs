//! Bodies of the HTTP API (`docs/api.md`). Every failed request answers with [`ApiError`].

use crate::{ErrorCode, UserId};
use serde::{Deserialize, Serialize};

/// Limits on account fields, checked by the server and usable by clients before sending.
pub mod limits {
    /// User names: 3 to 32 characters from `a-z`, `0-9`, `_`, `.` and `-`, starting with a letter.
    pub const USERNAME_MIN: usize = 3;
    pub const USERNAME_MAX: usize = 32;
    /// Display names: 1 to 64 characters, no control characters.
    pub const DISPLAY_NAME_MAX: usize = 64;
    /// Passwords: 8 to 256 bytes.
    pub const PASSWORD_MIN: usize = 8;
    pub const PASSWORD_MAX: usize = 256;
}

/// The body of every failed HTTP request.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct ApiError {
    pub code: ErrorCode,
    pub message: String,
}

/// `POST /api/register`
#[derive(Debug, Clone, Serialize, Deserialize)]
pub struct RegisterRequest {
    pub username: String,
    pub display_name: String,
    pub password: String,
}

/// `POST /api/login`
#[derive(Debug, Clone, Serialize, Deserialize)]
pub struct LoginRequest {
    pub username: String,
    pub password: String,
}

/// The answer to a successful login: the bearer token for HTTP and the socket hello.
#[derive(Debug, Clone, Serialize, Deserialize)]
pub struct LoginResponse {
    pub token: String,
    pub user: UserProfile,
}

/// A user as others and the user see it. Never carries password or token data.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct UserProfile {
    pub id: UserId,
    pub username: String,
    pub display_name: String,
    /// Path of the avatar image on the HTTP server (`/api/users/{id}/avatar`), if one is set.
    pub avatar_url: Option<String>,
}

/// `PATCH /api/me`: fields left out stay as they are.
#[derive(Debug, Clone, Default, Serialize, Deserialize)]
pub struct UpdateProfileRequest {
    pub display_name: Option<String>,
}

/// `POST /api/me/password`
#[derive(Debug, Clone, Serialize, Deserialize)]
pub struct ChangePasswordRequest {
    pub old_password: String,
    pub new_password: String,
}

/// `GET /health`
#[derive(Debug, Clone, Serialize, Deserialize)]
pub struct Health {
    /// `ok` when the database answers, `degraded` otherwise.
    pub status: String,
    pub database: bool,
    pub version: String,
    pub protocol_version: u32,
}

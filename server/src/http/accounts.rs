//! Accounts: register, log in and out, one's own profile, avatar and password.

use super::extract::PeerIp;
use super::{ApiError, AppState, Caller, Json};
use crate::app::profile_of;
use crate::auth;
use crate::hub::KickWhich;
use crate::store::NewUser;
use axum::Router;
use axum::body::Body;
use axum::extract::{DefaultBodyLimit, Path, State};
use axum::http::{HeaderMap, StatusCode, header};
use axum::response::{IntoResponse, Response};
use axum::routing::{get, post, put};
use kith_shared::ErrorCode;
use kith_shared::api::{
    ChangePasswordRequest, LoginRequest, LoginResponse, RegisterRequest, UpdateProfileRequest, UserProfile,
};
use kith_shared::frame::KickReason;

pub fn router() -> Router<AppState> {
    Router::new()
        .route("/api/register", post(post_register))
        .route("/api/login", post(post_login))
        .route("/api/logout", post(post_logout))
        .route("/api/me", get(get_me).patch(patch_me))
        .route("/api/me/password", post(post_password))
        .route("/api/me/avatar", put(put_avatar).layer(DefaultBodyLimit::disable()))
        .route("/api/users/{id}/avatar", get(get_avatar))
}

/// `POST /api/register`: creates an account. 201 with the profile.
async fn post_register(
    State(app): State<AppState>,
    Json(req): Json<RegisterRequest>,
) -> Result<(StatusCode, Json<UserProfile>), ApiError> {
    let username = auth::normalize_username(&req.username)?;
    let display_name = auth::normalize_display_name(&req.display_name)?;
    auth::check_password(&req.password)?;
    let password = req.password;
    let password_hash = app.passwords.hash(password).await.map_err(ApiError::internal)?;
    let new_user =
        NewUser { username: &username, display_name: &display_name, password_hash: &password_hash };
    let id = match app.store.create_user(new_user).await {
        Ok(id) => id,
        Err(err) if err.is_unique_violation() => {
            return Err(ApiError::new(
                StatusCode::CONFLICT,
                ErrorCode::UsernameTaken,
                format!("the user name '{username}' is taken"),
            ));
        }
        Err(err) => return Err(err.into()),
    };
    let profile = UserProfile { id, username, display_name, avatar_url: None };
    Ok((StatusCode::CREATED, Json(profile)))
}

/// A hash to verify against when the account does not exist, so that the answer takes as
/// long as for a wrong password and does not tell which names exist.
const DUMMY_HASH: &str =
    "$argon2id$v=19$m=19456,t=2,p=1$c29tZXNhbHRzb21lc2FsdA$B5mI5x6B+Jt1FvNYKBeJFe2tU6mCQ3IiZ7XMuSbrPvI";

/// `POST /api/login`: checks the password and returns a new bearer token. Without
/// multi-device, the account's other sessions end and their sockets are kicked.
async fn post_login(
    State(app): State<AppState>,
    PeerIp(ip): PeerIp,
    Json(req): Json<LoginRequest>,
) -> Result<Json<LoginResponse>, ApiError> {
    let username = req.username.trim().to_lowercase();
    let account_key = format!("user:{username}");
    let address_key = ip.map(|ip| format!("addr:{ip}"));
    let config = &app.config;
    if app.login_failures.is_blocked(&account_key, config.login_failures_per_account)
        || address_key
            .as_deref()
            .is_some_and(|key| app.login_failures.is_blocked(key, config.login_failures_per_address))
    {
        return Err(ApiError::new(
            StatusCode::TOO_MANY_REQUESTS,
            ErrorCode::RateLimited,
            "too many failed logins; wait a minute and try again",
        ));
    }
    let user = if username.len() <= kith_shared::api::limits::USERNAME_MAX {
        app.store.user_by_username(&username).await?
    } else {
        None
    };
    let stored = user.as_ref().map_or(DUMMY_HASH.to_owned(), |u| u.password_hash.clone());
    let password = req.password;
    let verified = password.len() <= kith_shared::api::limits::PASSWORD_MAX
        && app.passwords.verify(password, stored).await.map_err(ApiError::internal)?;
    let Some(user) = user.filter(|_| verified) else {
        app.login_failures.record_failure(&account_key);
        if let Some(key) = &address_key {
            app.login_failures.record_failure(key);
        }
        return Err(ApiError::new(
            StatusCode::UNAUTHORIZED,
            ErrorCode::WrongCredentials,
            "wrong user name or password",
        ));
    };
    app.login_failures.clear(&account_key);

    let token = auth::new_token().map_err(ApiError::internal)?;
    let token_hash = auth::token_hash(&token);
    app.store.create_session(&token_hash, user.id).await?;
    if !config.multi_device {
        app.store.delete_other_sessions(user.id, &token_hash).await?;
        app.hub.kick(
            user.id,
            KickWhich::AllBut(&token_hash),
            KickReason::LoggedInElsewhere,
            "this account logged in elsewhere",
        );
    }
    Ok(Json(LoginResponse { token, user: profile_of(&user) }))
}

/// `POST /api/logout`: revokes the token; its socket is closed. 204.
async fn post_logout(State(app): State<AppState>, caller: Caller) -> Result<StatusCode, ApiError> {
    app.store.delete_session(&caller.token_hash).await?;
    app.hub.kick(caller.user_id, KickWhich::Token(&caller.token_hash), KickReason::LoggedOut, "logged out");
    Ok(StatusCode::NO_CONTENT)
}

/// `GET /api/me`: the caller's profile.
async fn get_me(State(app): State<AppState>, caller: Caller) -> Result<Json<UserProfile>, ApiError> {
    app.profile(caller.user_id).await.map(Json).ok_or_else(|| ApiError::not_found("no such account"))
}

/// `PATCH /api/me`: changes the display name.
async fn patch_me(
    State(app): State<AppState>,
    caller: Caller,
    Json(req): Json<UpdateProfileRequest>,
) -> Result<Json<UserProfile>, ApiError> {
    if let Some(name) = req.display_name {
        let name = auth::normalize_display_name(&name)?;
        app.store.set_display_name(caller.user_id, &name).await?;
        crate::presence::announce_profile(&app, caller.user_id).await;
    }
    get_me(State(app), caller).await
}

/// `POST /api/me/password`: changes the password; every other session of the account ends.
async fn post_password(
    State(app): State<AppState>,
    caller: Caller,
    Json(req): Json<ChangePasswordRequest>,
) -> Result<StatusCode, ApiError> {
    auth::check_password(&req.new_password)?;
    let user =
        app.store.user_by_id(caller.user_id).await?.ok_or_else(|| ApiError::not_found("no such account"))?;
    let (old, stored) = (req.old_password, user.password_hash);
    if old.len() > kith_shared::api::limits::PASSWORD_MAX
        || !app.passwords.verify(old, stored).await.map_err(ApiError::internal)?
    {
        return Err(ApiError::new(
            StatusCode::FORBIDDEN,
            ErrorCode::WrongCredentials,
            "the old password is wrong",
        ));
    }
    let new = req.new_password;
    let hash = app.passwords.hash(new).await.map_err(ApiError::internal)?;
    app.store.set_password_hash(caller.user_id, &hash).await?;
    app.store.delete_other_sessions(caller.user_id, &caller.token_hash).await?;
    app.hub.kick(
        caller.user_id,
        KickWhich::AllBut(&caller.token_hash),
        KickReason::LoggedOut,
        "the password was changed",
    );
    Ok(StatusCode::NO_CONTENT)
}

/// The image formats accepted as avatars, recognised by their first bytes.
fn image_kind(bytes: &[u8]) -> Option<(&'static str, &'static str)> {
    if bytes.starts_with(b"\x89PNG\r\n\x1a\n") {
        Some(("png", "image/png"))
    } else if bytes.starts_with(&[0xFF, 0xD8, 0xFF]) {
        Some(("jpg", "image/jpeg"))
    } else if bytes.starts_with(b"GIF87a") || bytes.starts_with(b"GIF89a") {
        Some(("gif", "image/gif"))
    } else if bytes.len() >= 12 && &bytes[..4] == b"RIFF" && &bytes[8..12] == b"WEBP" {
        Some(("webp", "image/webp"))
    } else {
        None
    }
}

/// `PUT /api/me/avatar`: the body is a PNG, JPEG, GIF or WebP image up to MAX_AVATAR_BYTES.
async fn put_avatar(
    State(app): State<AppState>,
    caller: Caller,
    body: Body,
) -> Result<Json<UserProfile>, ApiError> {
    let cap = app.config.max_avatar_bytes;
    let bytes = axum::body::to_bytes(body, cap).await.map_err(|_| {
        ApiError::new(
            StatusCode::PAYLOAD_TOO_LARGE,
            ErrorCode::PayloadTooLarge,
            format!("an avatar has at most {cap} bytes"),
        )
    })?;
    let (ext, _) = image_kind(&bytes).ok_or_else(|| {
        ApiError::new(
            StatusCode::UNSUPPORTED_MEDIA_TYPE,
            ErrorCode::UnsupportedMedia,
            "an avatar must be a PNG, JPEG, GIF or WebP image",
        )
    })?;
    let old = app.store.user_by_id(caller.user_id).await?.and_then(|u| u.avatar);
    let name = format!("{}.{ext}", uuid::Uuid::new_v4());
    let dir = app.avatar_dir();
    let part = dir.join(format!("{name}.part"));
    tokio::fs::write(&part, &bytes).await.map_err(ApiError::internal)?;
    tokio::fs::rename(&part, dir.join(&name)).await.map_err(ApiError::internal)?;
    app.store.set_avatar(caller.user_id, &name).await?;
    if let Some(old) = old {
        let _ = tokio::fs::remove_file(dir.join(old)).await;
    }
    crate::presence::announce_profile(&app, caller.user_id).await;
    get_me(State(app), caller).await
}

/// `GET /api/users/{id}/avatar`: a user's avatar image.
async fn get_avatar(
    State(app): State<AppState>,
    _caller: Caller,
    Path(id): Path<i64>,
) -> Result<Response, ApiError> {
    let user = app.store.user_by_id(id).await?.ok_or_else(|| ApiError::not_found("no such user"))?;
    let name = user.avatar.ok_or_else(|| ApiError::not_found("this user has no avatar"))?;
    let bytes = tokio::fs::read(app.avatar_dir().join(&name)).await.map_err(|err| {
        tracing::warn!(%err, name, "avatar file missing");
        ApiError::not_found("this user has no avatar")
    })?;
    let content_type = image_kind(&bytes).map_or("application/octet-stream", |(_, mime)| mime);
    let mut headers = HeaderMap::new();
    headers.insert(header::CONTENT_TYPE, header::HeaderValue::from_static(content_type));
    headers.insert(header::CACHE_CONTROL, header::HeaderValue::from_static("private, max-age=86400"));
    Ok((headers, bytes).into_response())
}

//! Accounts over HTTP: register, log in and out, one's own profile, avatar and password.
//! The rules are in [`crate::accounts`] and [`crate::files::avatar`].

use super::extract::PeerIp;
use super::{AppState, Caller, Json, Path};
use crate::accounts;
use crate::error::Refusal;
use crate::files::avatar;
use axum::Router;
use axum::body::Body;
use axum::extract::{DefaultBodyLimit, State};
use axum::http::{HeaderValue, StatusCode, header};
use axum::response::{IntoResponse, Response};
use axum::routing::{get, post, put};
use kith_shared::api::{
    ChangePasswordRequest, LoginRequest, LoginResponse, RegisterRequest, UpdateProfileRequest, UserProfile,
};
use kith_shared::{ErrorCode, UserId};

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
) -> Result<(StatusCode, Json<UserProfile>), Refusal> {
    let profile = accounts::register(&app, &req.username, &req.display_name, req.password).await?;
    Ok((StatusCode::CREATED, Json(profile)))
}

/// `POST /api/login`: checks the password and returns a new bearer token.
async fn post_login(
    State(app): State<AppState>,
    PeerIp(ip): PeerIp,
    Json(req): Json<LoginRequest>,
) -> Result<Json<LoginResponse>, Refusal> {
    accounts::log_in(&app, &req.username, req.password, ip).await.map(Json)
}

/// `POST /api/logout`: revokes the token; its socket is closed. 204.
async fn post_logout(State(app): State<AppState>, caller: Caller) -> Result<StatusCode, Refusal> {
    accounts::log_out(&app, caller.user_id, &caller.token_hash).await?;
    Ok(StatusCode::NO_CONTENT)
}

/// `GET /api/me`: the caller's profile.
async fn get_me(State(app): State<AppState>, caller: Caller) -> Result<Json<UserProfile>, Refusal> {
    accounts::me(&app, caller.user_id).await.map(Json)
}

/// `PATCH /api/me`: changes the display name.
async fn patch_me(
    State(app): State<AppState>,
    caller: Caller,
    Json(req): Json<UpdateProfileRequest>,
) -> Result<Json<UserProfile>, Refusal> {
    accounts::update_profile(&app, caller.user_id, req.display_name.as_deref()).await.map(Json)
}

/// `POST /api/me/password`: changes the password; every other session of the account ends.
async fn post_password(
    State(app): State<AppState>,
    caller: Caller,
    Json(req): Json<ChangePasswordRequest>,
) -> Result<StatusCode, Refusal> {
    accounts::change_password(&app, caller.user_id, &caller.token_hash, req.old_password, req.new_password)
        .await?;
    Ok(StatusCode::NO_CONTENT)
}

/// `PUT /api/me/avatar`: the body is a PNG, JPEG, GIF or WebP image up to MAX_AVATAR_BYTES,
/// kept as a PNG of at most 512 pixels a side.
async fn put_avatar(
    State(app): State<AppState>,
    caller: Caller,
    body: Body,
) -> Result<Json<UserProfile>, Refusal> {
    let cap = app.config.max_avatar_bytes;
    let bytes = axum::body::to_bytes(body, cap).await.map_err(|_| {
        Refusal::new(ErrorCode::PayloadTooLarge, format!("an avatar has at most {cap} bytes"))
    })?;
    avatar::replace(&app, caller.user_id, bytes).await.map(Json)
}

/// `GET /api/users/{id}/avatar`: a user's avatar image.
async fn get_avatar(
    State(app): State<AppState>,
    _caller: Caller,
    Path(id): Path<UserId>,
) -> Result<Response, Refusal> {
    let (bytes, content_type) = avatar::read(&app, id).await?;
    let headers = [
        (header::CONTENT_TYPE, HeaderValue::from_static(content_type)),
        (header::CACHE_CONTROL, HeaderValue::from_static("private, max-age=86400")),
    ];
    Ok((headers, bytes).into_response())
}

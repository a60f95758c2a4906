//! Accounts over HTTP: register, log in and out, one's own profile, avatar and password.
//! The rules are in [`crate::accounts`] and [`crate::files::avatar`].

use super::extract::PeerIp;
use super::{AppState, Caller, Json, Path};
use crate::accounts;
use crate::error::Refusal;
use crate::files::avatar;
use axum::body::{Body, Bytes};
use axum::extract::{DefaultBodyLimit, State};
use axum::http::{HeaderValue, StatusCode, header};
use axum::response::{IntoResponse, Response};
use kith_shared::api::ApiError;
use kith_shared::api::{
    ChangePasswordRequest, LoginRequest, LoginResponse, RegisterRequest, UpdateProfileRequest, UserProfile,
};
use kith_shared::{ErrorCode, UserId};
use utoipa_axum::router::{OpenApiRouter, UtoipaMethodRouterExt};
use utoipa_axum::routes;

pub fn router() -> OpenApiRouter<AppState> {
    OpenApiRouter::new()
        .routes(routes!(post_register))
        .routes(routes!(post_login))
        .routes(routes!(post_logout))
        .routes(routes!(get_me, patch_me))
        .routes(routes!(post_password))
        .routes(routes!(put_avatar).layer(DefaultBodyLimit::disable()))
        .routes(routes!(get_avatar))
}

/// `POST /api/register`: creates an account. 201 with the profile.
#[utoipa::path(
    post,
    path = "/api/register",
    tag = "accounts",
    request_body = RegisterRequest,
    responses(
        (status = 201, description = "the new account's profile", body = UserProfile),
        (status = 400, description = "a user name, display name or password against the rules \
            (`invalid_username`, `invalid_display_name`, `invalid_password`)", body = ApiError),
        (status = 409, description = "the user name is taken (`username_taken`)", body = ApiError),
    ),
)]
async fn post_register(
    State(app): State<AppState>,
    Json(req): Json<RegisterRequest>,
) -> Result<(StatusCode, Json<UserProfile>), Refusal> {
    let profile = accounts::register(&app, &req.username, &req.display_name, req.password).await?;
    Ok((StatusCode::CREATED, Json(profile)))
}

/// `POST /api/login`: checks the password and returns a new bearer token.
#[utoipa::path(
    post,
    path = "/api/login",
    tag = "accounts",
    request_body = LoginRequest,
    responses(
        (status = 200, description = "a new bearer token and the profile", body = LoginResponse),
        (status = 401, description = "wrong user name or password (`wrong_credentials`)", body = ApiError),
        (status = 403, description = "the operator disabled the account (`account_disabled`)", body = ApiError),
        (status = 429, description = "too many failed logins in a minute (`rate_limited`)", body = ApiError),
    ),
)]
async fn post_login(
    State(app): State<AppState>,
    PeerIp(ip): PeerIp,
    Json(req): Json<LoginRequest>,
) -> Result<Json<LoginResponse>, Refusal> {
    accounts::log_in(&app, &req.username, req.password, ip).await.map(Json)
}

/// `POST /api/logout`: revokes the token; its socket is closed. 204.
#[utoipa::path(
    post,
    path = "/api/logout",
    tag = "accounts",
    security(("bearer" = [])),
    responses((status = 204, description = "the token is revoked")),
)]
async fn post_logout(State(app): State<AppState>, caller: Caller) -> Result<StatusCode, Refusal> {
    accounts::log_out(&app, caller.user_id, &caller.token_hash).await?;
    Ok(StatusCode::NO_CONTENT)
}

/// `GET /api/me`: the caller's profile.
#[utoipa::path(
    get,
    path = "/api/me",
    tag = "accounts",
    security(("bearer" = [])),
    responses((status = 200, description = "the caller's profile", body = UserProfile)),
)]
async fn get_me(State(app): State<AppState>, caller: Caller) -> Result<Json<UserProfile>, Refusal> {
    accounts::me(&app, caller.user_id).await.map(Json)
}

/// `PATCH /api/me`: changes the display name.
#[utoipa::path(
    patch,
    path = "/api/me",
    tag = "accounts",
    security(("bearer" = [])),
    request_body = UpdateProfileRequest,
    responses(
        (status = 200, description = "the profile as changed", body = UserProfile),
        (status = 400, description = "a display name against the rules (`invalid_display_name`)", body = ApiError),
    ),
)]
async fn patch_me(
    State(app): State<AppState>,
    caller: Caller,
    Json(req): Json<UpdateProfileRequest>,
) -> Result<Json<UserProfile>, Refusal> {
    accounts::update_profile(&app, caller.user_id, req.display_name.as_deref()).await.map(Json)
}

/// `POST /api/me/password`: changes the password; every other session of the account ends.
#[utoipa::path(
    post,
    path = "/api/me/password",
    tag = "accounts",
    security(("bearer" = [])),
    request_body = ChangePasswordRequest,
    responses(
        (status = 204, description = "changed; every other session of the account ends"),
        (status = 400, description = "a new password against the rules (`invalid_password`)", body = ApiError),
        (status = 403, description = "the old password is wrong (`wrong_credentials`)", body = ApiError),
    ),
)]
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
#[utoipa::path(
    put,
    path = "/api/me/avatar",
    tag = "accounts",
    security(("bearer" = [])),
    request_body(
        description = "A PNG, JPEG, GIF or WebP picture, recognised by its first bytes",
        content(("image/png"), ("image/jpeg"), ("image/gif"), ("image/webp"), ("application/octet-stream")),
    ),
    responses(
        (status = 200, description = "the profile with its new `avatar_url`", body = UserProfile),
        (status = 413, description = "over MAX_AVATAR_BYTES, or a picture too large to decode \
            (`payload_too_large`)", body = ApiError),
        (status = 415, description = "not a picture of those formats, or damaged (`unsupported_media`)", body = ApiError),
    ),
)]
async fn put_avatar(
    State(app): State<AppState>,
    caller: Caller,
    body: Body,
) -> Result<Json<UserProfile>, Refusal> {
    let bytes = avatar_body(&app, body).await?;
    avatar::replace(&app, caller.user_id, bytes).await.map(Json)
}

/// The picture sent for an avatar (a user's or a group's): at most MAX_AVATAR_BYTES.
pub(super) async fn avatar_body(app: &AppState, body: Body) -> Result<Bytes, Refusal> {
    let cap = app.config.max_avatar_bytes;
    axum::body::to_bytes(body, cap)
        .await
        .map_err(|_| Refusal::new(ErrorCode::PayloadTooLarge, format!("an avatar has at most {cap} bytes")))
}

/// `GET /api/users/{id}/avatar`: a user's avatar image.
#[utoipa::path(
    get,
    path = "/api/users/{id}/avatar",
    tag = "accounts",
    security(("bearer" = [])),
    params(("id" = UserId, Path, description = "The user's id")),
    responses(
        (status = 200, description = "the picture, a PNG", content_type = "image/png"),
        (status = 404, description = "no such user, or no avatar (`not_found`)", body = ApiError),
    ),
)]
async fn get_avatar(
    State(app): State<AppState>,
    _caller: Caller,
    Path(id): Path<UserId>,
) -> Result<Response, Refusal> {
    let (bytes, content_type) = avatar::read(&app, id).await?;
    Ok(avatar_response(bytes, content_type))
}

/// An avatar picture (a user's or a group's) as served: its address is versioned, so
/// caches may keep it.
pub(super) fn avatar_response(bytes: Vec<u8>, content_type: &'static str) -> Response {
    let headers = [
        (header::CONTENT_TYPE, HeaderValue::from_static(content_type)),
        (header::CACHE_CONTROL, HeaderValue::from_static("private, max-age=86400")),
    ];
    (headers, bytes).into_response()
}

//! Avatars: one picture per account and per group, kept in `DATA_DIR/avatars` under a new
//! uuid name per upload (the name versions its address, see [`crate::wire::avatar_url`] and
//! [`crate::wire::group_avatar_url`]).
//!
//! What a user sends is never served as it is: it is decoded within the same limits and
//! budget as uploaded pictures ([`super::picture`]), scaled to at most [`AVATAR_MAX_PX`] on
//! its longest side and kept as a PNG (the first frame of an animation).

use super::FileError;
use super::picture::{self, Source};
use crate::app::App;
use crate::error::Refusal;
use bytes::Bytes;
use kith_shared::api::UserProfile;
use kith_shared::{ErrorCode, UserId};

/// Longest side of a kept avatar, in pixels.
pub const AVATAR_MAX_PX: u32 = 512;

/// Keeps the picture in `bytes` as the user's new avatar and tells everyone who shares a
/// conversation.
pub async fn replace(app: &App, user_id: UserId, bytes: Bytes) -> Result<UserProfile, Refusal> {
    let old = app.store.user_by_id(user_id).await?.and_then(|u| u.avatar);
    let name = keep(app, bytes).await?;
    if let Err(err) = app.store.set_avatar(user_id, &name).await {
        discard(app, Some(name)).await;
        return Err(err.into());
    }
    discard(app, old).await;
    crate::presence::announce_profile(app, user_id).await;
    crate::accounts::me(app, user_id).await
}

/// Decodes the picture in `bytes`, scales it and stores it as an avatar file (of a user or
/// a group). Returns the file's new name, to record in the database.
pub async fn keep(app: &App, bytes: Bytes) -> Result<String, Refusal> {
    let format = picture::sniff(&bytes).ok_or_else(|| {
        Refusal::new(ErrorCode::UnsupportedMedia, "an avatar must be a PNG, JPEG, GIF or WebP image")
    })?;
    let (_, _, png) = picture::decode_with(app, Source::Memory(bytes), format, as_avatar).await?;
    let name = format!("{}.png", uuid::Uuid::new_v4());
    let dir = app.avatar_dir();
    let part = dir.join(format!("{name}.part"));
    tokio::fs::write(&part, png).await.map_err(Refusal::internal)?;
    tokio::fs::rename(&part, dir.join(&name)).await.map_err(Refusal::internal)?;
    Ok(name)
}

/// Removes an avatar file that is no longer recorded (replaced or removed). A file already
/// gone is no error.
pub async fn discard(app: &App, name: Option<String>) {
    let Some(name) = name else { return };
    if let Err(err) = tokio::fs::remove_file(app.avatar_dir().join(&name)).await
        && err.kind() != std::io::ErrorKind::NotFound
    {
        tracing::warn!(%err, name, "cannot remove an avatar file");
    }
}

/// The decoded picture scaled to fit [`AVATAR_MAX_PX`], as PNG bytes.
fn as_avatar(decoded: image::DynamicImage) -> Result<Vec<u8>, FileError> {
    let fits = decoded.width() <= AVATAR_MAX_PX && decoded.height() <= AVATAR_MAX_PX;
    let scaled = if fits {
        decoded
    } else {
        decoded.resize(AVATAR_MAX_PX, AVATAR_MAX_PX, image::imageops::FilterType::Triangle)
    };
    let rgba = image::DynamicImage::ImageRgba8(scaled.to_rgba8());
    let mut png = std::io::Cursor::new(Vec::new());
    rgba.write_to(&mut png, image::ImageFormat::Png)
        .map_err(|err| FileError::Io(std::io::Error::other(err.to_string())))?;
    Ok(png.into_inner())
}

/// A user's avatar picture with its content type.
pub async fn read(app: &App, user_id: UserId) -> Result<(Vec<u8>, &'static str), Refusal> {
    let user = app.store.user_by_id(user_id).await?.ok_or_else(|| Refusal::not_found("no such user"))?;
    read_file(app, user.avatar.as_deref(), "this user has no avatar").await
}

/// The kept avatar file `name` with its content type; 404 saying `missing` when there is
/// none.
pub async fn read_file(
    app: &App,
    name: Option<&str>,
    missing: &'static str,
) -> Result<(Vec<u8>, &'static str), Refusal> {
    let name = name.ok_or_else(|| Refusal::not_found(missing))?;
    let bytes = tokio::fs::read(app.avatar_dir().join(name)).await.map_err(|err| {
        tracing::warn!(%err, name, "avatar file missing");
        Refusal::not_found(missing)
    })?;
    let content_type = picture::sniff(&bytes).map_or("application/octet-stream", |f| f.to_mime_type());
    Ok((bytes, content_type))
}

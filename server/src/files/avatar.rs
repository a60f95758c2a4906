//! Avatars: one picture per account, kept in `DATA_DIR/avatars` under a new uuid name per
//! upload (the name versions its address, see [`crate::wire::avatar_url`]).
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
    let format = picture::sniff(&bytes).ok_or_else(|| {
        Refusal::new(ErrorCode::UnsupportedMedia, "an avatar must be a PNG, JPEG, GIF or WebP image")
    })?;
    let (_, _, png) = picture::decode_with(app, Source::Memory(bytes), format, as_avatar).await?;
    let old = app.store.user_by_id(user_id).await?.and_then(|u| u.avatar);
    let name = format!("{}.png", uuid::Uuid::new_v4());
    let dir = app.avatar_dir();
    let part = dir.join(format!("{name}.part"));
    tokio::fs::write(&part, png).await.map_err(Refusal::internal)?;
    tokio::fs::rename(&part, dir.join(&name)).await.map_err(Refusal::internal)?;
    app.store.set_avatar(user_id, &name).await?;
    if let Some(old) = old {
        let _ = tokio::fs::remove_file(dir.join(old)).await;
    }
    crate::presence::announce_profile(app, user_id).await;
    crate::accounts::me(app, user_id).await
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
    let name = user.avatar.ok_or_else(|| Refusal::not_found("this user has no avatar"))?;
    let bytes = tokio::fs::read(app.avatar_dir().join(&name)).await.map_err(|err| {
        tracing::warn!(%err, name, "avatar file missing");
        Refusal::not_found("this user has no avatar")
    })?;
    let content_type = picture::sniff(&bytes).map_or("application/octet-stream", |f| f.to_mime_type());
    Ok((bytes, content_type))
}

//! Avatars: one picture per account, kept in `DATA_DIR/avatars` under a new uuid name per
//! upload (the name versions its address, see [`crate::wire::avatar_url`]).

use crate::app::App;
use crate::error::Refusal;
use kith_shared::api::UserProfile;
use kith_shared::{ErrorCode, UserId};

/// The image formats accepted as avatars, recognised by their first bytes: the file name
/// extension and the content type.
pub fn image_kind(bytes: &[u8]) -> Option<(&'static str, &'static str)> {
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

/// Keeps `bytes` as the user's new avatar and tells everyone who shares a conversation.
pub async fn replace(app: &App, user_id: UserId, bytes: &[u8]) -> Result<UserProfile, Refusal> {
    let (ext, _) = image_kind(bytes).ok_or_else(|| {
        Refusal::new(ErrorCode::UnsupportedMedia, "an avatar must be a PNG, JPEG, GIF or WebP image")
    })?;
    let old = app.store.user_by_id(user_id).await?.and_then(|u| u.avatar);
    let name = format!("{}.{ext}", uuid::Uuid::new_v4());
    let dir = app.avatar_dir();
    let part = dir.join(format!("{name}.part"));
    tokio::fs::write(&part, bytes).await.map_err(Refusal::internal)?;
    tokio::fs::rename(&part, dir.join(&name)).await.map_err(Refusal::internal)?;
    app.store.set_avatar(user_id, &name).await?;
    if let Some(old) = old {
        let _ = tokio::fs::remove_file(dir.join(old)).await;
    }
    crate::presence::announce_profile(app, user_id).await;
    crate::accounts::me(app, user_id).await
}

/// A user's avatar picture with its content type.
pub async fn read(app: &App, user_id: UserId) -> Result<(Vec<u8>, &'static str), Refusal> {
    let user = app.store.user_by_id(user_id).await?.ok_or_else(|| Refusal::not_found("no such user"))?;
    let name = user.avatar.ok_or_else(|| Refusal::not_found("this user has no avatar"))?;
    let bytes = tokio::fs::read(app.avatar_dir().join(&name)).await.map_err(|err| {
        tracing::warn!(%err, name, "avatar file missing");
        Refusal::not_found("this user has no avatar")
    })?;
    let content_type = image_kind(&bytes).map_or("application/octet-stream", |(_, mime)| mime);
    Ok((bytes, content_type))
}

//! Sharing a file on with a forward: the forwarder gets an upload of their own that names the
//! same bytes (a hard link in UPLOAD_DIR, a copy where the file system has none), so the file
//! is not sent again and each conversation's copy keeps its own readers, fetches and time
//! (see [`super::attach`] and the sweeper, which need nothing new for it).

use super::{FileError, readable};
use crate::app::App;
use crate::store::files::UploadRow;
use crate::store::now_millis;
use kith_shared::UserId;
use std::path::Path;

/// A new upload of `user_id`, not yet sent, holding the file of upload `id` (which they must
/// be able to read). `Expired` when the server no longer holds the file.
pub async fn share(app: &App, id: &str, user_id: UserId) -> Result<UploadRow, FileError> {
    let original = readable(app, id, user_id).await?;
    if original.expired {
        return Err(FileError::Expired);
    }
    let dir = &app.config.upload_dir;
    let copy_id = uuid::Uuid::new_v4().to_string();
    link(dir, &original.id, &copy_id).await?;
    let thumbnail_id = match &original.thumbnail_id {
        Some(thumbnail) => {
            let copy = uuid::Uuid::new_v4().to_string();
            if let Err(err) = link(dir, thumbnail, &copy).await {
                remove(dir, &copy_id).await;
                return Err(err);
            }
            Some(copy)
        }
        None => None,
    };
    let now = now_millis();
    let row = UploadRow {
        id: copy_id,
        uploader_id: user_id,
        name: original.name,
        size: original.size,
        mime: original.mime,
        width: original.width,
        height: original.height,
        thumbnail_id,
        conversation_id: None,
        created_at: now,
        expires_at: now.saturating_add(app.config.unattached_ttl.as_millis() as i64),
        expired: false,
        sent_after_seq: None,
    };
    if let Err(err) = app.store.insert_upload(&row).await {
        for name in std::iter::once(&row.id).chain(row.thumbnail_id.as_ref()) {
            remove(dir, name).await;
        }
        return Err(err.into());
    }
    app.metrics.uploads.increment(1);
    Ok(row)
}

/// Makes `to` name the bytes of `from`. A file gone in the meantime (the sweeper took it) is
/// `Expired`.
async fn link(dir: &Path, from: &str, to: &str) -> Result<(), FileError> {
    let (from, to) = (dir.join(from), dir.join(to));
    match tokio::fs::hard_link(&from, &to).await {
        Ok(()) => Ok(()),
        Err(err) if err.kind() == std::io::ErrorKind::NotFound => Err(FileError::Expired),
        Err(err) => {
            tracing::debug!(%err, "no hard link in the upload store; copying the file");
            match tokio::fs::copy(&from, &to).await {
                Ok(_) => Ok(()),
                Err(err) if err.kind() == std::io::ErrorKind::NotFound => Err(FileError::Expired),
                Err(err) => Err(err.into()),
            }
        }
    }
}

async fn remove(dir: &Path, name: &str) {
    if let Err(err) = tokio::fs::remove_file(dir.join(name)).await {
        tracing::warn!(%err, name, "cannot remove a file shared on");
    }
}

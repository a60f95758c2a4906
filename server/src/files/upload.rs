//! Receiving an upload: the body streams into `UPLOAD_DIR/<uuid>.part` (never whole in
//! memory), capped at MAX_UPLOAD_BYTES, then is checked (images: the first bytes must match
//! the type the name gives, the picture must decode within limits, a thumbnail is made),
//! fsynced and renamed to `UPLOAD_DIR/<uuid>`. Whatever goes wrong, or if the client goes
//! away, the partial files are removed.
//!
//! A user's uploads in progress count with those not yet sent against
//! MAX_PENDING_UPLOADS_PER_USER, so that uploads at once cannot pass it. When the server
//! stops, uploads still running are cut off after [`SHUTDOWN_GRACE`].

use super::picture::{self, Source};
use super::{FileError, clean_name};
use crate::app::App;
use crate::store::files::UploadRow;
use crate::store::now_millis;
use crate::wire::info_of;
use bytes::Bytes;
use futures_util::{Stream, StreamExt};
use kith_shared::UserId;
use kith_shared::api::FileInfo;
use std::collections::HashMap;
use std::path::{Path, PathBuf};
use std::sync::{Arc, Mutex};
use std::time::Duration;
use tokio::io::AsyncWriteExt;

/// An upload that sends nothing for this long is cut off.
const IDLE_TIMEOUT: Duration = Duration::from_secs(60);

/// How long uploads may go on once the server is stopping; then they are cut off.
pub const SHUTDOWN_GRACE: Duration = Duration::from_secs(5);

/// Uploads in progress, per user.
#[derive(Debug, Default)]
pub struct InProgress(Arc<Mutex<HashMap<UserId, u64>>>);

impl InProgress {
    /// Counts one more upload of `user` until the slot is dropped; the slot knows how many
    /// are in progress, itself included.
    fn start(&self, user: UserId) -> Slot {
        let mut counts = self.0.lock().unwrap_or_else(|e| e.into_inner());
        let count = counts.entry(user).or_default();
        *count += 1;
        Slot { counts: self.0.clone(), user, in_progress: *count }
    }
}

/// One upload in progress.
struct Slot {
    counts: Arc<Mutex<HashMap<UserId, u64>>>,
    user: UserId,
    in_progress: u64,
}

impl Drop for Slot {
    fn drop(&mut self) {
        let mut counts = self.counts.lock().unwrap_or_else(|e| e.into_inner());
        if let Some(count) = counts.get_mut(&self.user) {
            *count = count.saturating_sub(1);
            if *count == 0 {
                counts.remove(&self.user);
            }
        }
    }
}

/// The image formats that get thumbnails, by content type.
fn image_format(mime: &str) -> Option<image::ImageFormat> {
    match mime {
        "image/png" => Some(image::ImageFormat::Png),
        "image/jpeg" => Some(image::ImageFormat::Jpeg),
        "image/gif" => Some(image::ImageFormat::Gif),
        "image/webp" => Some(image::ImageFormat::WebP),
        _ => None,
    }
}

/// Files to remove unless the work that made them completes (on error, and when a client
/// going away drops the request half way).
struct Leftovers(Vec<PathBuf>);

impl Leftovers {
    fn keep(mut self) {
        self.0.clear();
    }
}

impl Drop for Leftovers {
    fn drop(&mut self) {
        for path in &self.0 {
            match std::fs::remove_file(path) {
                Ok(()) => tracing::debug!(path = %path.display(), "removed an unfinished upload"),
                Err(err) if err.kind() == std::io::ErrorKind::NotFound => {}
                Err(err) => {
                    tracing::warn!(%err, path = %path.display(), "cannot remove an unfinished upload")
                }
            }
        }
    }
}

/// What decoding an image found.
struct Picture {
    width: u32,
    height: u32,
}

/// Receives an upload: streams `body` to disk, checks it and records it. `declared` is the
/// request's Content-Length, if it has one (an over-long one is refused before reading).
pub async fn receive<S, E>(
    app: &App,
    uploader: UserId,
    name: &str,
    declared: Option<u64>,
    mut body: S,
) -> Result<FileInfo, FileError>
where
    S: Stream<Item = Result<Bytes, E>> + Unpin,
    E: std::fmt::Display,
{
    let config = &app.config;
    let name = clean_name(name)?;
    let cap = config.max_upload_bytes;
    if declared.is_some_and(|n| n > cap) {
        return Err(FileError::TooLarge { cap });
    }
    // Held until the upload is recorded (or refused), so that it is always counted once.
    let slot = app.uploads_in_progress.start(uploader);
    let max_pending = config.max_pending_uploads_per_user;
    let pending = u64::try_from(app.store.pending_upload_count(uploader).await?).unwrap_or(0);
    if pending.saturating_add(slot.in_progress) > max_pending {
        return Err(FileError::TooManyPending { max: max_pending });
    }
    let mime = mime_guess::from_path(&name).first_or_octet_stream().essence_str().to_owned();
    let id = uuid::Uuid::new_v4().to_string();
    let dir = &config.upload_dir;
    let part = dir.join(format!("{id}.part"));
    let mut leftovers = Leftovers(vec![part.clone()]);

    // 1. Stream to the .part file, counting.
    let file = tokio::fs::File::create(&part).await?;
    let mut out = tokio::io::BufWriter::with_capacity(256 * 1024, file);
    let mut size: u64 = 0;
    let mut head = Vec::with_capacity(16);
    let cut_off = async {
        app.shutdown.cancelled().await;
        tokio::time::sleep(SHUTDOWN_GRACE).await;
    };
    tokio::pin!(cut_off);
    loop {
        let next = tokio::select! {
            next = tokio::time::timeout(IDLE_TIMEOUT, body.next()) => next.map_err(|_| {
                FileError::Aborted(format!("nothing arrived for {} seconds", IDLE_TIMEOUT.as_secs()))
            })?,
            _ = &mut cut_off => return Err(FileError::ShuttingDown),
        };
        let Some(chunk) = next else { break };
        let chunk = chunk.map_err(|err| FileError::Aborted(err.to_string()))?;
        size += chunk.len() as u64;
        if size > cap {
            return Err(FileError::TooLarge { cap });
        }
        if head.len() < 16 {
            let take = (16 - head.len()).min(chunk.len());
            head.extend_from_slice(&chunk[..take]);
        }
        out.write_all(&chunk).await?;
    }
    out.flush().await?;
    let file = out.into_inner();
    file.sync_all().await?;
    drop(file);
    if declared.is_some_and(|n| n != size) {
        return Err(FileError::Aborted(format!(
            "{size} bytes arrived of the {} announced",
            declared.unwrap_or(0)
        )));
    }

    // 2. Images: the content must be what the name says, decodable within limits.
    let mut size_px = None;
    let mut thumbnail_id = None;
    if let Some(format) = image_format(&mime) {
        if picture::sniff(&head) != Some(format) {
            return Err(FileError::NotThatImage { mime });
        }
        let thumb = uuid::Uuid::new_v4().to_string();
        let thumb_part = dir.join(format!("{thumb}.part"));
        leftovers.0.push(thumb_part.clone());
        let target = thumb_part.clone();
        let thumb_px = config.thumbnail_max_px;
        let (width, height, ()) =
            picture::decode_with(app, Source::File(part.clone()), format, move |decoded| {
                write_thumbnail(decoded, thumb_px, &target)
            })
            .await?;
        size_px = Some(Picture { width, height });
        leftovers.0.push(dir.join(&thumb));
        tokio::fs::rename(&thumb_part, dir.join(&thumb)).await?;
        thumbnail_id = Some(thumb);
    }

    // 3. Put it in place and record it.
    let path = dir.join(&id);
    leftovers.0.push(path.clone());
    tokio::fs::rename(&part, &path).await?;
    let now = now_millis();
    let row = UploadRow {
        id,
        uploader_id: uploader,
        name,
        size: size as i64,
        mime,
        width: size_px.as_ref().map(|p| i64::from(p.width)),
        height: size_px.as_ref().map(|p| i64::from(p.height)),
        thumbnail_id,
        conversation_id: None,
        created_at: now,
        expires_at: now.saturating_add(config.unattached_ttl.as_millis() as i64),
        expired: false,
        sent_after_seq: None,
    };
    app.store.insert_upload(&row).await?;
    leftovers.keep();
    drop(slot);
    app.metrics.uploads.increment(1);
    app.metrics.upload_bytes.increment(size);
    Ok(info_of(&row))
}

/// Writes a picture's thumbnail (longest side `thumb_px`) as PNG. Runs on a blocking thread.
fn write_thumbnail(decoded: image::DynamicImage, thumb_px: u32, target: &Path) -> Result<(), FileError> {
    let (width, height) = (decoded.width(), decoded.height());
    let small =
        if width > thumb_px || height > thumb_px { decoded.thumbnail(thumb_px, thumb_px) } else { decoded };
    let thumb = image::DynamicImage::ImageRgba8(small.to_rgba8());
    let mut out = std::io::BufWriter::new(std::fs::File::create(target)?);
    thumb
        .write_to(&mut out, image::ImageFormat::Png)
        .map_err(|err| FileError::Io(std::io::Error::other(err.to_string())))?;
    let file = out.into_inner().map_err(|err| FileError::Io(err.into_error()))?;
    file.sync_all()?;
    Ok(())
}

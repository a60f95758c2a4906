//! Receiving an upload: the body streams into `UPLOAD_DIR/<uuid>.part` (never whole in
//! memory), capped at MAX_UPLOAD_BYTES, then is checked (images: the first bytes must match
//! the type the name gives, the picture must decode within limits, a thumbnail is made),
//! fsynced and renamed to `UPLOAD_DIR/<uuid>`. Whatever goes wrong, or if the client goes
//! away, the partial files are removed.

use super::{FileError, clean_name};
use crate::app::App;
use crate::store::files::UploadRow;
use crate::store::now_millis;
use crate::wire::info_of;
use bytes::Bytes;
use futures_util::{Stream, StreamExt};
use kith_shared::UserId;
use kith_shared::api::FileInfo;
use std::path::{Path, PathBuf};
use std::time::Duration;
use tokio::io::AsyncWriteExt;

/// An upload that sends nothing for this long is cut off.
const IDLE_TIMEOUT: Duration = Duration::from_secs(60);

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

/// The image format the first bytes announce.
fn sniff(head: &[u8]) -> Option<image::ImageFormat> {
    if head.starts_with(b"\x89PNG\r\n\x1a\n") {
        Some(image::ImageFormat::Png)
    } else if head.starts_with(&[0xFF, 0xD8, 0xFF]) {
        Some(image::ImageFormat::Jpeg)
    } else if head.starts_with(b"GIF87a") || head.starts_with(b"GIF89a") {
        Some(image::ImageFormat::Gif)
    } else if head.len() >= 12 && &head[..4] == b"RIFF" && &head[8..12] == b"WEBP" {
        Some(image::ImageFormat::WebP)
    } else {
        None
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
    let max_pending = config.max_pending_uploads_per_user;
    if app.store.pending_upload_count(uploader).await? >= max_pending as i64 {
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
    loop {
        let next = tokio::time::timeout(IDLE_TIMEOUT, body.next()).await.map_err(|_| {
            FileError::Aborted(format!("nothing arrived for {} seconds", IDLE_TIMEOUT.as_secs()))
        })?;
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
    let mut picture = None;
    let mut thumbnail_id = None;
    if let Some(format) = image_format(&mime) {
        if sniff(&head) != Some(format) {
            return Err(FileError::NotThatImage { mime });
        }
        let thumb = uuid::Uuid::new_v4().to_string();
        let thumb_part = dir.join(format!("{thumb}.part"));
        leftovers.0.push(thumb_part.clone());
        let limits = (config.max_image_side_px, config.max_image_decode_bytes, config.thumbnail_max_px);
        let source = part.clone();
        let target = thumb_part.clone();
        let found = tokio::task::spawn_blocking(move || make_thumbnail(&source, format, &target, limits))
            .await
            .map_err(|err| FileError::Damaged(format!("the decoder failed: {err}")))??;
        picture = Some(found);
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
        width: picture.as_ref().map(|p| i64::from(p.width)),
        height: picture.as_ref().map(|p| i64::from(p.height)),
        thumbnail_id,
        conversation_id: None,
        created_at: now,
        expires_at: now.saturating_add(config.unattached_ttl.as_millis() as i64),
        expired: false,
        sent_after_seq: None,
    };
    app.store.insert_upload(&row).await?;
    leftovers.keep();
    Ok(info_of(&row))
}

/// Decodes an image within limits and writes its thumbnail as PNG. Runs on a blocking thread.
fn make_thumbnail(
    source: &Path,
    format: image::ImageFormat,
    target: &Path,
    (max_side, max_alloc, thumb_px): (u32, u64, u32),
) -> Result<Picture, FileError> {
    let open = || -> Result<image::ImageReader<std::io::BufReader<std::fs::File>>, FileError> {
        let file = std::fs::File::open(source)?;
        Ok(image::ImageReader::with_format(std::io::BufReader::new(file), format))
    };
    let (width, height) = open()?.into_dimensions().map_err(decode_error)?;
    if width > max_side || height > max_side {
        return Err(FileError::TooManyPixels { width, height, max: max_side });
    }
    let mut limits = image::Limits::default();
    limits.max_image_width = Some(max_side);
    limits.max_image_height = Some(max_side);
    limits.max_alloc = Some(max_alloc);
    let mut reader = open()?;
    reader.limits(limits);
    let decoded = reader.decode().map_err(decode_error)?;
    let small =
        if width > thumb_px || height > thumb_px { decoded.thumbnail(thumb_px, thumb_px) } else { decoded };
    let thumb = image::DynamicImage::ImageRgba8(small.to_rgba8());
    let mut out = std::io::BufWriter::new(std::fs::File::create(target)?);
    thumb
        .write_to(&mut out, image::ImageFormat::Png)
        .map_err(|err| FileError::Io(std::io::Error::other(err.to_string())))?;
    let file = out.into_inner().map_err(|err| FileError::Io(err.into_error()))?;
    file.sync_all()?;
    Ok(Picture { width, height })
}

fn decode_error(err: image::ImageError) -> FileError {
    match err {
        image::ImageError::Limits(_) => FileError::TooLargeToDecode,
        other => FileError::Damaged(other.to_string()),
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn sniffing_knows_the_four_formats() {
        assert_eq!(sniff(b"\x89PNG\r\n\x1a\n...."), Some(image::ImageFormat::Png));
        assert_eq!(sniff(b"GIF89a"), Some(image::ImageFormat::Gif));
        assert_eq!(sniff(b"RIFF\0\0\0\0WEBPVP8 "), Some(image::ImageFormat::WebP));
        assert_eq!(sniff(&[0xFF, 0xD8, 0xFF, 0xE0]), Some(image::ImageFormat::Jpeg));
        assert_eq!(sniff(b"hello"), None);
    }
}

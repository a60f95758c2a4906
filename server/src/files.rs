//! Files, images and the emoji set.
//!
//! - **Upload**: the body streams into `UPLOAD_DIR/<uuid>.part` (never whole in memory),
//!   capped at MAX_UPLOAD_BYTES, then is checked (images: the first bytes must match the
//!   type the name gives, the picture must decode within limits, a thumbnail is made),
//!   fsynced and renamed to `UPLOAD_DIR/<uuid>`. The user's file name is metadata only.
//!   Whatever goes wrong, or if the client goes away, the partial files are removed.
//! - **Attach**: an `image` or `file` message names an upload of its sender; the first send
//!   records the conversation (which decides who may download it) and starts FILE_TTL.
//! - **Sweeper**: a background task deletes files whose time has passed (UNATTACHED_TTL for
//!   uploads never sent, FILE_TTL for sent ones) and files every receiver has fetched
//!   completely; their records stay, marked `expired`. Its state is in the database, so a
//!   restart loses nothing.
//! - **Emoji**: `STATIC_DIR/emoji/manifest.json`, loaded at start; stickers name its codes.

use crate::app::App;
use crate::messages::Refusal;
use crate::store::files::{Attached, UploadRow};
use crate::store::{StoreError, now_millis};
use bytes::Bytes;
use futures_util::{Stream, StreamExt};
use kith_shared::api::{ConversationId, FileInfo};
use kith_shared::frame::Content;
use kith_shared::{ErrorCode, UserId};
use sha2::{Digest, Sha256};
use std::collections::{HashMap, HashSet};
use std::path::{Path, PathBuf};
use std::sync::{Arc, OnceLock, RwLock};
use std::time::Duration;
use tokio::io::AsyncWriteExt;

/// Longest file name, in bytes of UTF-8.
pub const MAX_NAME_BYTES: usize = 255;
/// An upload that sends nothing for this long is cut off.
const IDLE_TIMEOUT: Duration = Duration::from_secs(60);
/// Rows the sweeper handles per query.
const SWEEP_BATCH: u64 = 500;

/// Why an upload or a download was refused.
#[derive(Debug, thiserror::Error)]
pub enum FileError {
    #[error("{0}")]
    BadName(String),
    #[error("a file has at most {cap} bytes")]
    TooLarge { cap: u64 },
    #[error("you have {max} uploads not yet sent; send or wait for them before uploading more")]
    TooManyPending { max: u64 },
    #[error("the upload stopped before the end: {0}")]
    Aborted(String),
    #[error("the file is named as {mime} but its content is not that kind of image")]
    NotThatImage { mime: String },
    #[error("the image is {width}x{height} pixels; at most {max} on each side are accepted")]
    TooManyPixels { width: u32, height: u32, max: u32 },
    #[error("the image needs more memory to decode than the server allows")]
    TooLargeToDecode,
    #[error("the image cannot be read: it is damaged or truncated ({0})")]
    Damaged(String),
    #[error("no such file")]
    NotFound,
    #[error("you are not in a conversation this file was sent to")]
    Forbidden,
    #[error("the file is no longer on the server")]
    Expired,
    #[error("the upload store failed: {0}")]
    Io(#[from] std::io::Error),
    #[error(transparent)]
    Store(#[from] StoreError),
}

impl FileError {
    /// The error code a client sees.
    pub fn code(&self) -> ErrorCode {
        match self {
            FileError::BadName(_) => ErrorCode::InvalidField,
            FileError::TooLarge { .. } | FileError::TooManyPixels { .. } | FileError::TooLargeToDecode => {
                ErrorCode::PayloadTooLarge
            }
            FileError::TooManyPending { .. } => ErrorCode::RateLimited,
            FileError::Aborted(_) => ErrorCode::Malformed,
            FileError::NotThatImage { .. } | FileError::Damaged(_) => ErrorCode::UnsupportedMedia,
            FileError::NotFound => ErrorCode::NotFound,
            FileError::Forbidden => ErrorCode::Forbidden,
            FileError::Expired => ErrorCode::Expired,
            FileError::Io(_) | FileError::Store(_) => ErrorCode::Internal,
        }
    }
}

/// Checks a user's file name: 1-255 bytes, no path separators, no control characters, not
/// `.` or `..`. Surrounding spaces are trimmed. The name is never used as a path anyway.
pub fn clean_name(name: &str) -> Result<String, FileError> {
    let name = name.trim();
    let bad = |why: &str| Err(FileError::BadName(format!("the file name {why}")));
    if name.is_empty() {
        return bad("is empty; send ?name=FILE_NAME");
    }
    if name.len() > MAX_NAME_BYTES {
        return bad(&format!("has more than {MAX_NAME_BYTES} bytes"));
    }
    if name.chars().any(char::is_control) {
        return bad("has control characters");
    }
    if name.contains(['/', '\\']) || name == "." || name == ".." {
        return bad("must be a plain name, without '/' or '\\'");
    }
    Ok(name.to_owned())
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

/// The wire view of an upload.
pub fn info_of(row: &UploadRow) -> FileInfo {
    FileInfo {
        id: row.id.clone(),
        name: row.name.clone(),
        size: row.size.max(0) as u64,
        mime: row.mime.clone(),
        width: row.width.map(|w| w.clamp(0, u32::MAX.into()) as u32),
        height: row.height.map(|h| h.clamp(0, u32::MAX.into()) as u32),
        thumbnail_id: row.thumbnail_id.clone(),
        uploader_id: row.uploader_id,
        conversation_id: row.conversation_id,
        expires_at: row.expires_at,
        expired: row.expired,
    }
}

/// An upload the caller may read: its uploader, or a member of the conversation it was sent
/// to. Ids that are not uuids are not looked up.
pub async fn readable(app: &App, id: &str, user_id: UserId) -> Result<UploadRow, FileError> {
    if uuid::Uuid::parse_str(id).is_err() {
        return Err(FileError::NotFound);
    }
    let row = app.store.upload(id).await?.ok_or(FileError::NotFound)?;
    if row.uploader_id != user_id {
        let Some(conversation_id) = row.conversation_id else { return Err(FileError::NotFound) };
        if app.store.member(conversation_id, user_id).await?.is_none() {
            return Err(FileError::Forbidden);
        }
    }
    Ok(row)
}

/// Records that a receiver has the whole file; the sweeper deletes it once every receiver
/// has. The uploader's own downloads do not count.
pub async fn fetched(app: &App, row: &UploadRow, user_id: UserId) -> Result<(), StoreError> {
    if row.uploader_id != user_id && row.conversation_id.is_some() {
        app.store.record_fetch(&row.id, user_id).await?;
    }
    Ok(())
}

fn refusal(code: ErrorCode, message: impl Into<String>) -> Refusal {
    Refusal { code, message: message.into() }
}

/// The content a client's `image`, `file` or `sticker` message really carries: the upload's
/// fields filled in from its record (which is attached to the conversation on first send),
/// or the sticker checked against the emoji set. Other content passes unchanged.
pub async fn attachment(
    app: &App,
    user_id: UserId,
    conversation_id: ConversationId,
    content: Content,
) -> Result<Content, Refusal> {
    let (upload_id, as_image) = match content {
        Content::Image { upload_id, .. } => (upload_id, true),
        Content::File { upload_id, .. } => (upload_id, false),
        Content::Sticker { code } => {
            let known = emoji_set(&app.config.static_dir).is_some_and(|set| set.codes.contains(&code));
            return if known {
                Ok(Content::Sticker { code })
            } else {
                Err(refusal(ErrorCode::NotFound, "no such emoji in the server's set (GET /api/emoji)"))
            };
        }
        other => return Ok(other),
    };
    let not_found =
        || refusal(ErrorCode::NotFound, "no such upload; upload the file with POST /api/files first");
    if uuid::Uuid::parse_str(&upload_id).is_err() {
        return Err(not_found());
    }
    if as_image {
        let row = app.store.upload(&upload_id).await?.ok_or_else(not_found)?;
        if row.uploader_id == user_id && row.thumbnail_id.is_none() {
            return Err(refusal(ErrorCode::InvalidField, "this upload is not an image; send it as a file"));
        }
    }
    let ttl = app.config.file_ttl.as_millis() as i64;
    let row = match app.store.attach_upload(&upload_id, user_id, conversation_id, ttl).await? {
        Attached::Yes(row) => row,
        Attached::NotFound => return Err(not_found()),
        Attached::NotYours => {
            return Err(refusal(ErrorCode::Forbidden, "you can send only files you uploaded yourself"));
        }
        Attached::Expired => {
            return Err(refusal(
                ErrorCode::Expired,
                "this upload is no longer on the server; upload it again",
            ));
        }
        Attached::Elsewhere => {
            return Err(refusal(
                ErrorCode::InvalidField,
                "this upload was sent to another conversation; upload the file again to send it here",
            ));
        }
    };
    let info = info_of(&row);
    Ok(match (as_image, info.width, info.height, info.thumbnail_id) {
        (true, Some(width), Some(height), Some(thumbnail_id)) => Content::Image {
            upload_id: info.id,
            name: info.name,
            size: info.size,
            mime: info.mime,
            width,
            height,
            thumbnail_id,
        },
        _ => Content::File { upload_id: info.id, name: info.name, size: info.size, mime: info.mime },
    })
}

/// Loads the emoji set and starts the sweeper (stopped by `app.shutdown`).
pub fn start(app: &Arc<App>) {
    load_emoji(&app.config.static_dir);
    app.tasks.spawn(sweeper(app.clone()));
}

/// Deletes expired and fully fetched files every SWEEP_INTERVAL_SECS until shutdown. At start
/// it first removes what an interrupted run left behind.
pub async fn sweeper(app: Arc<App>) {
    remove_leftovers(&app).await;
    let mut tick = tokio::time::interval(app.config.sweep_interval);
    tick.set_missed_tick_behavior(tokio::time::MissedTickBehavior::Delay);
    loop {
        tokio::select! {
            _ = app.shutdown.cancelled() => break,
            _ = tick.tick() => {}
        }
        match sweep(&app).await {
            Ok(0) => {}
            Ok(count) => tracing::info!(count, "sweeper deleted files"),
            Err(err) => tracing::warn!(%err, "sweeper failed; trying again later"),
        }
    }
    tracing::debug!("sweeper stopped");
}

/// One pass of the sweeper. Returns how many uploads it deleted.
pub async fn sweep(app: &App) -> Result<usize, StoreError> {
    let store = &app.store;
    let mut gone = store.uploads_due(now_millis(), SWEEP_BATCH).await?;
    for row in store.uploads_fetched(SWEEP_BATCH).await? {
        let Some(conversation_id) = row.conversation_id else { continue };
        let members = store.members(conversation_id).await?;
        let fetchers = store.upload_fetchers(&row.id).await?;
        let mut receivers = members.iter().map(|m| m.user_id).filter(|id| *id != row.uploader_id).peekable();
        if receivers.peek().is_some() && receivers.all(|id| fetchers.contains(&id)) {
            gone.push(row);
        }
    }
    let count = gone.len();
    for row in gone {
        for name in std::iter::once(&row.id).chain(row.thumbnail_id.as_ref()) {
            remove_stored(&app.config.upload_dir, name).await;
        }
        store.mark_upload_expired(&row.id).await?;
    }
    Ok(count)
}

async fn remove_stored(dir: &Path, name: &str) {
    match tokio::fs::remove_file(dir.join(name)).await {
        Ok(()) => {}
        Err(err) if err.kind() == std::io::ErrorKind::NotFound => {}
        Err(err) => tracing::warn!(%err, name, "cannot delete a stored file"),
    }
}

/// Removes `.part` files (uploads cut off by a stop) and files no live upload names.
async fn remove_leftovers(app: &App) {
    let dir = &app.config.upload_dir;
    let mut entries = match tokio::fs::read_dir(dir).await {
        Ok(entries) => entries,
        Err(err) => return tracing::warn!(%err, dir = %dir.display(), "cannot list the upload store"),
    };
    while let Ok(Some(entry)) = entries.next_entry().await {
        let name = entry.file_name().to_string_lossy().into_owned();
        let stale = if name.ends_with(".part") {
            true
        } else if uuid::Uuid::parse_str(&name).is_ok() {
            matches!(app.store.upload_file_is_live(&name).await, Ok(false))
        } else {
            false
        };
        if stale {
            tracing::info!(name, "removing a leftover file from the upload store");
            remove_stored(dir, &name).await;
        }
    }
}

/// The emoji set's manifest, as served and as stickers are checked against it.
#[derive(Debug)]
pub struct EmojiSet {
    /// The manifest file's bytes, served as they are.
    pub json: Bytes,
    /// A strong ETag: the manifest's SHA-256, quoted.
    pub etag: String,
    /// Every emoji code the manifest lists.
    pub codes: HashSet<String>,
}

#[derive(serde::Deserialize)]
struct Manifest {
    emoji: Vec<ManifestEntry>,
}

#[derive(serde::Deserialize)]
struct ManifestEntry {
    code: String,
}

/// Loaded emoji sets by static directory. One per process in practice; keyed so that
/// several servers in one process (the tests) each find theirs.
fn emoji_sets() -> &'static RwLock<HashMap<PathBuf, Arc<EmojiSet>>> {
    static SETS: OnceLock<RwLock<HashMap<PathBuf, Arc<EmojiSet>>>> = OnceLock::new();
    SETS.get_or_init(Default::default)
}

/// Reads `STATIC_DIR/emoji/manifest.json`. Without it the server runs with no stickers.
pub fn load_emoji(static_dir: &Path) -> Option<Arc<EmojiSet>> {
    let path = static_dir.join("emoji").join("manifest.json");
    let parsed = std::fs::read(&path).map_err(|err| err.to_string()).and_then(|bytes| {
        let manifest: Manifest = serde_json::from_slice(&bytes).map_err(|err| err.to_string())?;
        Ok((bytes, manifest))
    });
    let (bytes, manifest) = match parsed {
        Ok(found) => found,
        Err(err) => {
            tracing::warn!(%err, path = %path.display(), "no emoji set: stickers are refused");
            return None;
        }
    };
    let digest = Sha256::digest(&bytes);
    let etag = format!("\"{}\"", digest.iter().map(|b| format!("{b:02x}")).collect::<String>());
    let set = Arc::new(EmojiSet {
        json: Bytes::from(bytes),
        etag,
        codes: manifest.emoji.into_iter().map(|e| e.code).collect(),
    });
    tracing::debug!(count = set.codes.len(), "emoji set loaded");
    emoji_sets().write().unwrap_or_else(|e| e.into_inner()).insert(static_dir.to_owned(), set.clone());
    Some(set)
}

/// The emoji set loaded for this static directory.
pub fn emoji_set(static_dir: &Path) -> Option<Arc<EmojiSet>> {
    emoji_sets().read().unwrap_or_else(|e| e.into_inner()).get(static_dir).cloned()
}

/// A `Content-Disposition` value carrying `name` safely (RFC 6266): an ASCII fallback in
/// `filename` and the exact name, percent-encoded UTF-8, in `filename*`.
pub fn content_disposition(disposition: &str, name: &str) -> String {
    let fallback: String = name
        .chars()
        .map(|c| if c.is_ascii_graphic() && c != '"' && c != '\\' || c == ' ' { c } else { '_' })
        .collect();
    let mut encoded = String::with_capacity(name.len() * 3);
    for byte in name.bytes() {
        if byte.is_ascii_alphanumeric() || b"!#$&+-.^_`|~".contains(&byte) {
            encoded.push(byte as char);
        } else {
            encoded.push_str(&format!("%{byte:02X}"));
        }
    }
    format!("{disposition}; filename=\"{fallback}\"; filename*=UTF-8''{encoded}")
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn names_are_checked() {
        assert_eq!(clean_name("  photo.jpg ").expect("plain"), "photo.jpg");
        assert_eq!(clean_name("résumé 2024.pdf").expect("unicode"), "résumé 2024.pdf");
        for bad in
            ["", "   ", "../../etc/passwd", "a/b", "a\\b", "..", "a\u{0}b", "line\nbreak", &"x".repeat(256)]
        {
            assert!(clean_name(bad).is_err(), "{bad:?} should be refused");
        }
    }

    #[test]
    fn disposition_has_fallback_and_utf8() {
        assert_eq!(
            content_disposition("attachment", "naïve \"x\".txt"),
            "attachment; filename=\"na_ve _x_.txt\"; filename*=UTF-8''na%C3%AFve%20%22x%22.txt"
        );
    }

    #[test]
    fn sniffing_knows_the_four_formats() {
        assert_eq!(sniff(b"\x89PNG\r\n\x1a\n...."), Some(image::ImageFormat::Png));
        assert_eq!(sniff(b"GIF89a"), Some(image::ImageFormat::Gif));
        assert_eq!(sniff(b"RIFF\0\0\0\0WEBPVP8 "), Some(image::ImageFormat::WebP));
        assert_eq!(sniff(&[0xFF, 0xD8, 0xFF, 0xE0]), Some(image::ImageFormat::Jpeg));
        assert_eq!(sniff(b"hello"), None);
    }
}

//! Files in chats: uploading a file from disk and downloading a received one into the user's
//! files folder, both streamed with progress and cancellable, and what the chat shows of them
//! (pictures, transfers under way, files saved on this computer).
//!
//! The files folder sits beside the history cache: `<data>/<host_port>/<user_id>/files/`.
//! A download goes to a hidden `.part` file first and takes its final name only when complete;
//! a name already taken becomes `name(1).ext`, `name(2).ext`, …

use crate::api::{Api, ApiError};
use bytes::Bytes;
use futures_util::{Stream, StreamExt};
use iced::widget::image;
use kith_shared::api::{ConversationId, FileInfo};
use std::collections::HashMap;
use std::path::{Path, PathBuf};
use std::time::Duration;
use tokio::io::AsyncWriteExt;
use tokio::sync::mpsc;
use tokio_util::sync::CancellationToken;

#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
pub enum TransferError {
    /// Something on this computer: the file cannot be read or written.
    #[error("{0}")]
    Local(String),
    #[error(transparent)]
    Api(#[from] ApiError),
    #[error("cancelled")]
    Cancelled,
}

impl TransferError {
    /// The error in words for the chat.
    pub fn plain(&self) -> String {
        match self {
            TransferError::Local(text) => text.clone(),
            TransferError::Api(err) => err.plain(),
            TransferError::Cancelled => "Cancelled.".to_owned(),
        }
    }
}

/// What a transfer reports while it runs, then once at the end.
#[derive(Debug, Clone)]
pub enum Progress {
    /// `done` of `total` bytes have moved (reported at most once per percent).
    Moved {
        done: u64,
        total: u64,
    },
    Uploaded(Result<FileInfo, TransferError>),
    Downloaded(Result<PathBuf, TransferError>),
}

/// A transfer under way.
#[derive(Debug, Clone)]
pub struct Transfer {
    pub name: String,
    pub conversation_id: ConversationId,
    /// Uploads: the file being sent. Downloads: None.
    pub source: Option<PathBuf>,
    pub done: u64,
    pub total: u64,
    pub cancel: CancellationToken,
}

impl Transfer {
    /// Done so far, between 0 and 1.
    pub fn fraction(&self) -> f32 {
        if self.total == 0 { 0.0 } else { (self.done as f64 / self.total as f64) as f32 }
    }
}

/// A picture the chat shows: an image's thumbnail or a sticker.
#[derive(Debug, Clone)]
pub enum Picture {
    Loading,
    Ready(image::Handle),
    Failed,
}

/// What the chat knows about the files of the conversations.
#[derive(Debug, Default)]
pub struct Files {
    /// Where received files are saved; None without a local data folder.
    pub folder: Option<PathBuf>,
    /// Thumbnails by upload id, stickers by `sticker:<code>`.
    pub pictures: HashMap<String, Picture>,
    /// Downloads by upload id, uploads by a key of their own.
    pub transfers: HashMap<String, Transfer>,
    /// Files on this computer by upload id: downloaded, or sent from here.
    pub saved: HashMap<String, PathBuf>,
    /// Why a file could not be downloaded, by upload id.
    pub failed: HashMap<String, String>,
}

impl Files {
    pub fn sticker_key(code: &str) -> String {
        format!("sticker:{code}")
    }

    /// The key of an avatar picture: its address on the server (its `v` changes with the picture).
    pub fn avatar_key(url: &str) -> String {
        format!("avatar:{url}")
    }

    /// The key of a picture decoded from a file on this computer, at most `max_side` pixels.
    pub fn local_key(path: &Path, max_side: u32) -> String {
        format!("local:{max_side}:{}", path.display())
    }

    /// A picture decoded from a file on this computer, once ready.
    pub fn local(&self, path: &Path, max_side: u32) -> Option<&Picture> {
        self.pictures.get(&Self::local_key(path, max_side))
    }

    /// The picture a chat shows for an image: drawn from the copy saved on this computer when
    /// there is one, else the server's thumbnail (whichever is ready first; a thumbnail the
    /// server no longer has does not hide a saved copy).
    pub fn thumbnail(&self, upload_id: &str) -> Option<&Picture> {
        let local = self.saved.get(upload_id).and_then(|path| self.local(path, THUMBNAIL_SIDE));
        let remote = self.pictures.get(upload_id);
        match (local, remote) {
            (Some(ready @ Picture::Ready(_)), _) | (_, Some(ready @ Picture::Ready(_))) => Some(ready),
            (Some(loading @ Picture::Loading), _) | (_, Some(loading @ Picture::Loading)) => Some(loading),
            (local, remote) => local.or(remote),
        }
    }

    /// Where the server's thumbnails are kept on this computer: beside the files folder.
    pub fn thumbnails_folder(&self) -> Option<PathBuf> {
        Some(self.folder.as_deref()?.parent()?.join("thumbnails"))
    }

    /// A user's avatar picture, once fetched.
    pub fn avatar(&self, url: Option<&str>) -> Option<&image::Handle> {
        match self.pictures.get(&Self::avatar_key(url?)) {
            Some(Picture::Ready(handle)) => Some(handle),
            _ => None,
        }
    }

    /// The uploads under way into a conversation, oldest first by name.
    pub fn uploads(&self, conversation_id: ConversationId) -> Vec<(&String, &Transfer)> {
        let mut uploads: Vec<_> = self
            .transfers
            .iter()
            .filter(|(_, t)| t.source.is_some() && t.conversation_id == conversation_id)
            .collect();
        uploads.sort_by(|a, b| a.1.name.cmp(&b.1.name));
        uploads
    }
}

/// An image's thumbnail: the copy kept in `cache` from an earlier fetch, else the server's
/// (then kept there for next time, when the server may have let it go).
pub async fn thumbnail(api: Api, upload_id: String, cache: Option<PathBuf>) -> Result<Vec<u8>, ApiError> {
    let kept = cache.and_then(|folder| kept_thumbnail(&folder, &upload_id));
    if let Some(kept) = &kept
        && let Ok(bytes) = tokio::fs::read(kept).await
    {
        return Ok(bytes);
    }
    let bytes = api.bytes(&format!("/api/files/{upload_id}/thumbnail")).await?;
    if let Some(kept) = kept {
        // A copy for next time; without it the picture comes from the server again.
        let write = async {
            if let Some(folder) = kept.parent() {
                tokio::fs::create_dir_all(folder).await?;
            }
            tokio::fs::write(&kept, &bytes).await
        };
        if let Err(err) = write.await {
            tracing::warn!(%err, path = %kept.display(), "cannot keep a thumbnail");
        }
    }
    Ok(bytes)
}

/// Where the thumbnail of `upload_id` is kept in `folder`. Upload ids are the server's uuids:
/// anything else is not used as a file name (None).
pub fn kept_thumbnail(folder: &Path, upload_id: &str) -> Option<PathBuf> {
    let plain = !upload_id.is_empty() && upload_id.chars().all(|c| c.is_ascii_alphanumeric() || c == '-');
    plain.then(|| folder.join(format!("{upload_id}.png")))
}

/// Reads a kept thumbnail, ready to draw (offline: the server cannot be asked).
pub async fn read_kept_thumbnail(path: PathBuf) -> Result<image::Handle, String> {
    let bytes =
        tokio::fs::read(&path).await.map_err(|err| format!("Cannot read {}: {err}", path.display()))?;
    Ok(image::Handle::from_bytes(bytes))
}

/// The files folder that belongs beside a history database.
pub fn folder_beside(history_path: &Path) -> Option<PathBuf> {
    history_path.parent().map(|dir| dir.join("files"))
}

/// A file name from the server made safe for this file system: no folders, no control
/// characters, never empty.
pub fn safe_name(name: &str) -> String {
    let last = name.rsplit(['/', '\\']).next().unwrap_or("");
    let clean: String = last.chars().filter(|c| !c.is_control()).collect();
    let clean = clean.trim();
    if clean.is_empty() || clean == "." || clean == ".." { "file".to_owned() } else { clean.to_owned() }
}

/// `dir/name`, or `dir/name(1).ext`, `dir/name(2).ext`, … when taken.
pub fn unique_path(dir: &Path, name: &str) -> PathBuf {
    let first = dir.join(name);
    if !first.exists() {
        return first;
    }
    // A leading dot is part of the name, not an extension (".bashrc").
    let (stem, ext) = match name.rfind('.') {
        Some(at) if at > 0 => (&name[..at], &name[at..]),
        _ => (name, ""),
    };
    (1u32..)
        .map(|n| dir.join(format!("{stem}({n}){ext}")))
        .find(|path| !path.exists())
        .expect("some numbered name is free")
}

/// Gives the finished `.part` file its name in `dir`: `name`, or the first free
/// `name(N).ext`. A hard link claims a name atomically (it fails on a taken name, where a
/// rename would replace the file), so two downloads of one name never overwrite each other.
async fn claim_name(part: &Path, dir: &Path, name: &str) -> std::io::Result<PathBuf> {
    for _ in 0..1000 {
        let target = unique_path(dir, name);
        match tokio::fs::hard_link(part, &target).await {
            Ok(()) => return Ok(target),
            Err(err) if err.kind() == std::io::ErrorKind::AlreadyExists => continue,
            // A file system without hard links: the name is reserved by creating the file
            // (which fails on a taken name), then the download replaces the reservation.
            Err(_) => match tokio::fs::OpenOptions::new().write(true).create_new(true).open(&target).await {
                Ok(_) => return tokio::fs::rename(part, &target).await.map(|()| target),
                Err(err) if err.kind() == std::io::ErrorKind::AlreadyExists => continue,
                Err(err) => return Err(err),
            },
        }
    }
    Err(std::io::Error::other("no free name"))
}

/// A size in words: `512 B`, `3.4 KB`, `12.0 MB`.
pub fn human_size(bytes: u64) -> String {
    const UNITS: [&str; 4] = ["KB", "MB", "GB", "TB"];
    if bytes < 1000 {
        return format!("{bytes} B");
    }
    let mut value = bytes as f64 / 1000.0;
    let mut unit = 0;
    while value >= 1000.0 && unit < UNITS.len() - 1 {
        value /= 1000.0;
        unit += 1;
    }
    format!("{value:.1} {}", UNITS[unit])
}

/// A short label of a file's kind, from its name or type: `PDF`, `ZIP`, `TEXT`.
pub fn kind_label(name: &str, mime: &str) -> String {
    match name.rsplit_once('.') {
        Some((stem, ext)) if !stem.is_empty() && !ext.is_empty() && ext.len() <= 5 => ext.to_uppercase(),
        _ => mime.split('/').next().filter(|kind| !kind.is_empty()).unwrap_or("file").to_uppercase(),
    }
}

/// The files a pasted text names, when it is nothing but `file://` URIs of existing files,
/// one per line (what file managers put on the clipboard). A plain path stays text: people
/// paste paths to talk about them.
pub fn pasted_files(text: &str) -> Vec<PathBuf> {
    let mut paths = Vec::new();
    for line in text.lines().map(str::trim).filter(|line| !line.is_empty()) {
        let Some(rest) = line.strip_prefix("file://") else { return Vec::new() };
        let path = PathBuf::from(percent_decode(rest));
        if !path.is_absolute() || !path.is_file() {
            return Vec::new();
        }
        paths.push(path);
    }
    paths
}

/// `%20` and the like back to bytes (URIs of file names with spaces).
fn percent_decode(text: &str) -> String {
    let bytes = text.as_bytes();
    let mut out = Vec::with_capacity(bytes.len());
    let mut i = 0;
    while i < bytes.len() {
        let hex = |b: u8| (b as char).to_digit(16);
        if bytes[i] == b'%'
            && let (Some(high), Some(low)) =
                (bytes.get(i + 1).and_then(|b| hex(*b)), bytes.get(i + 2).and_then(|b| hex(*b)))
        {
            out.push((high * 16 + low) as u8);
            i += 3;
        } else {
            out.push(bytes[i]);
            i += 1;
        }
    }
    String::from_utf8_lossy(&out).into_owned()
}

/// Files and pictures up to this size are saved as they arrive; larger ones on request.
pub const AUTO_DOWNLOAD_BYTES: u64 = 20 * 1000 * 1000;

/// Pictures up to this size are previewed before sending.
pub const PREVIEW_MAX_BYTES: u64 = 50 * 1000 * 1000;

/// The longer side of a picture previewed before sending, and of one in the viewer.
pub const PREVIEW_SIDE: u32 = 160;
pub const VIEWER_SIDE: u32 = 1600;

/// The longer side of a picture in the chat decoded from its saved copy (shown at most 280
/// pixels large; twice that stays sharp on double-density screens).
pub const THUMBNAIL_SIDE: u32 = 560;

/// Decodes a picture file off the UI thread, scaled down to at most `max_side` pixels on its
/// longer side, ready to draw (a large photo would otherwise be decoded while drawing).
pub async fn decode_picture(path: PathBuf, max_side: u32) -> Result<image::Handle, String> {
    // One picture at a time: decoding a large photo takes much memory for a moment.
    static DECODING: tokio::sync::Semaphore = tokio::sync::Semaphore::const_new(1);
    let _turn = DECODING.acquire().await.map_err(|err| err.to_string())?;
    let decoded = tokio::task::spawn_blocking(move || {
        use ::image::ImageDecoder;
        let unreadable = |err: &dyn std::fmt::Display| format!("Cannot show {}: {err}", path.display());
        let mut decoder = ::image::ImageReader::open(&path)
            .and_then(|reader| reader.with_guessed_format())
            .map_err(|err| format!("Cannot read {}: {err}", path.display()))?
            .into_decoder()
            .map_err(|err| unreadable(&err))?;
        // Phone photos say in their EXIF data which way is up.
        let orientation = decoder.orientation().map_err(|err| unreadable(&err))?;
        let mut picture = ::image::DynamicImage::from_decoder(decoder).map_err(|err| unreadable(&err))?;
        picture.apply_orientation(orientation);
        let picture = if picture.width().max(picture.height()) > max_side {
            picture.resize(max_side, max_side, ::image::imageops::FilterType::Triangle)
        } else {
            picture
        };
        let rgba = picture.to_rgba8();
        Ok::<_, String>((rgba.width(), rgba.height(), rgba.into_raw()))
    })
    .await
    .map_err(|err| err.to_string())??;
    let (width, height, pixels) = decoded;
    Ok(image::Handle::from_rgba(width, height, pixels))
}

/// Removes the `.part` files of downloads that were cut off (the app closed mid-way): those
/// last written before `session_start`, never one of this session's downloads.
pub async fn remove_leftovers(folder: PathBuf, session_start: std::time::SystemTime) {
    let Ok(mut entries) = tokio::fs::read_dir(&folder).await else { return };
    while let Ok(Some(entry)) = entries.next_entry().await {
        let name = entry.file_name().to_string_lossy().into_owned();
        let old = entry.metadata().await.and_then(|m| m.modified()).is_ok_and(|at| at < session_start);
        if name.starts_with('.') && name.ends_with(".part") && old {
            let _ = tokio::fs::remove_file(entry.path()).await;
        }
    }
}

/// Whether a file's name says it is a picture the server makes a thumbnail of.
pub fn looks_like_picture(path: &Path) -> bool {
    path.extension()
        .and_then(|ext| ext.to_str())
        .is_some_and(|ext| ["png", "jpg", "jpeg", "gif", "webp"].contains(&ext.to_ascii_lowercase().as_str()))
}

/// Uploads the file at `path`, streamed from disk.
pub fn upload(api: Api, path: PathBuf, cancel: CancellationToken) -> impl Stream<Item = Progress> {
    with_progress(cancel, Progress::Uploaded, move |progress| async move {
        upload_file(&api, &path, &progress).await
    })
}

/// Downloads upload `upload_id` into `folder` as `name` (made safe and unique).
pub fn download(
    api: Api,
    upload_id: String,
    name: String,
    folder: PathBuf,
    cancel: CancellationToken,
) -> impl Stream<Item = Progress> {
    with_progress(cancel, Progress::Downloaded, move |progress| async move {
        download_file(&api, &upload_id, &name, &folder, &progress).await
    })
}

/// Runs `work`, passing on its progress reports, then its result; cancelling drops the work.
fn with_progress<T, W, F>(
    cancel: CancellationToken,
    finished: fn(Result<T, TransferError>) -> Progress,
    work: W,
) -> impl Stream<Item = Progress>
where
    W: FnOnce(mpsc::UnboundedSender<Progress>) -> F,
    F: Future<Output = Result<T, TransferError>>,
{
    let (tx, rx) = mpsc::unbounded_channel();
    let work = work(tx);
    let reports = futures_util::stream::unfold(rx, |mut rx| async move { rx.recv().await.map(|p| (p, rx)) });
    let end = futures_util::stream::once(async move {
        let result = tokio::select! {
            _ = cancel.cancelled() => Err(TransferError::Cancelled),
            result = work => result,
        };
        finished(result)
    });
    // The reports end when the work drops its sender, so the stream ends after both.
    futures_util::stream::select(reports, end)
}

/// Counts bytes and reports each new percent.
struct Meter {
    progress: mpsc::UnboundedSender<Progress>,
    done: u64,
    total: u64,
    shown: Option<u64>,
}

impl Meter {
    fn add(&mut self, n: usize) {
        self.done += n as u64;
        let percent = (self.done * 100).checked_div(self.total).unwrap_or(0);
        if self.shown != Some(percent) {
            self.shown = Some(percent);
            let _ = self.progress.send(Progress::Moved { done: self.done, total: self.total });
        }
    }
}

async fn upload_file(
    api: &Api,
    path: &Path,
    progress: &mpsc::UnboundedSender<Progress>,
) -> Result<FileInfo, TransferError> {
    let local = |what: &str, err: std::io::Error| {
        TransferError::Local(format!("Cannot {what} {}: {err}", path.display()))
    };
    let name = path
        .file_name()
        .and_then(|name| name.to_str())
        .ok_or_else(|| TransferError::Local(format!("{} has no name the server can take", path.display())))?
        .to_owned();
    let file = tokio::fs::File::open(path).await.map_err(|err| local("open", err))?;
    let metadata = file.metadata().await.map_err(|err| local("read", err))?;
    if !metadata.is_file() {
        return Err(TransferError::Local(format!("{} is not a file", path.display())));
    }
    let total = metadata.len();
    let mut meter = Meter { progress: progress.clone(), done: 0, total, shown: None };
    let body = tokio_util::io::ReaderStream::with_capacity(file, 64 * 1024).map(move |chunk| {
        if let Ok(chunk) = &chunk {
            meter.add(chunk.len());
        }
        chunk
    });
    let request = api
        .transfer(reqwest::Method::POST, "/api/files")
        .query(&[("name", name.as_str())])
        .header(reqwest::header::CONTENT_LENGTH, total)
        .body(reqwest::Body::wrap_stream(body));
    let response = api.execute(request).await?;
    let body = response.bytes().await.map_err(|err| api.transport_error(err))?;
    serde_json::from_slice(&body).map_err(|err| TransferError::Api(ApiError::Unexpected(err.to_string())))
}

/// A `.part` file that is removed unless the download completes.
struct PartFile(Option<PathBuf>);

impl Drop for PartFile {
    fn drop(&mut self) {
        if let Some(path) = self.0.take() {
            let _ = std::fs::remove_file(path);
        }
    }
}

async fn download_file(
    api: &Api,
    upload_id: &str,
    name: &str,
    folder: &Path,
    progress: &mpsc::UnboundedSender<Progress>,
) -> Result<PathBuf, TransferError> {
    let local = |what: &str, path: &Path, err: std::io::Error| {
        TransferError::Local(format!("Cannot {what} {}: {err}", path.display()))
    };
    tokio::fs::create_dir_all(folder).await.map_err(|err| local("create", folder, err))?;
    let request = api.transfer(reqwest::Method::GET, &format!("/api/files/{upload_id}/content"));
    let mut response = api.execute(request).await?;
    let total = response.content_length().unwrap_or(0);
    let part_path = folder.join(format!(".{}.part", uuid::Uuid::new_v4()));
    let part = PartFile(Some(part_path.clone()));
    let mut file =
        tokio::fs::File::create(&part_path).await.map_err(|err| local("create", &part_path, err))?;
    let mut meter = Meter { progress: progress.clone(), done: 0, total, shown: None };
    loop {
        let chunk: Option<Bytes> = response.chunk().await.map_err(|err| api.transport_error(err))?;
        let Some(chunk) = chunk else { break };
        file.write_all(&chunk).await.map_err(|err| local("write", &part_path, err))?;
        meter.add(chunk.len());
    }
    if total > 0 && meter.done != total {
        return Err(TransferError::Api(ApiError::Unexpected(format!(
            "the download ended after {} of {total} bytes",
            meter.done
        ))));
    }
    file.sync_all().await.map_err(|err| local("write", &part_path, err))?;
    drop(file);
    let target =
        claim_name(&part_path, folder, &safe_name(name)).await.map_err(|err| local("save", folder, err))?;
    drop(part);
    // The server may delete its copy once every receiver has it; failing to say so only
    // keeps it there until it expires.
    if let Err(err) = api.post_empty(&format!("/api/files/{upload_id}/received")).await {
        tracing::debug!(%err, upload_id, "cannot confirm a download");
    }
    Ok(target)
}

/// Opens a file or folder with the system's default program. Says why when nothing opened
/// it (no opener installed, or no program for this kind of file).
pub async fn open_in_system(path: PathBuf) -> Result<(), String> {
    let program = if cfg!(target_os = "macos") {
        "open"
    } else if cfg!(target_os = "windows") {
        "explorer"
    } else {
        "xdg-open"
    };
    open_with(program, path).await
}

/// How long an opener may take to say it failed; one still running after it is the program
/// that opened the file (some openers wait for it), and is left running.
const OPENER_ANSWER: Duration = Duration::from_secs(5);

async fn open_with(program: &str, path: PathBuf) -> Result<(), String> {
    let name =
        path.file_name().map_or_else(|| path.display().to_string(), |n| n.to_string_lossy().into_owned());
    let mut child = tokio::process::Command::new(program)
        .arg(&path)
        .stdin(std::process::Stdio::null())
        .stdout(std::process::Stdio::null())
        .stderr(std::process::Stdio::null())
        .spawn()
        .map_err(|err| format!("Cannot open {name}: this computer has no {program} ({err})."))?;
    match tokio::time::timeout(OPENER_ANSWER, child.wait()).await {
        Ok(Ok(status)) if status.success() => Ok(()),
        Ok(Ok(_)) => Err(format!("Cannot open {name}: no program on this computer opens it.")),
        Ok(Err(err)) => Err(format!("Cannot open {name}: {err}")),
        Err(_) => {
            // Reaped when it ends, so that it does not linger as a zombie.
            tokio::spawn(async move { child.wait().await });
            Ok(())
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[tokio::test]
    async fn an_opener_that_fails_or_is_missing_is_said_so() {
        let path = PathBuf::from("/tmp/report.pdf");
        assert_eq!(open_with("true", path.clone()).await, Ok(()));
        let refused = open_with("false", path.clone()).await.expect_err("no program opens it");
        assert!(refused.contains("no program on this computer opens it"), "{refused}");
        let missing = open_with("kith-no-such-opener", path).await.expect_err("no opener");
        assert!(missing.contains("has no kith-no-such-opener"), "{missing}");
    }

    #[test]
    fn a_saved_copy_shows_when_the_servers_thumbnail_cannot() {
        let saved = PathBuf::from("/data/files/harbour.png");
        let handle = || Picture::Ready(image::Handle::from_rgba(1, 1, vec![0; 4]));
        let mut files = Files::default();
        assert!(files.thumbnail("u-1").is_none());
        files.pictures.insert("u-1".into(), Picture::Failed);
        assert!(matches!(files.thumbnail("u-1"), Some(Picture::Failed)), "nothing saved here");
        files.saved.insert("u-1".into(), saved.clone());
        files.pictures.insert(Files::local_key(&saved, THUMBNAIL_SIDE), Picture::Loading);
        assert!(matches!(files.thumbnail("u-1"), Some(Picture::Loading)), "the saved copy is on its way");
        files.pictures.insert(Files::local_key(&saved, THUMBNAIL_SIDE), handle());
        assert!(matches!(files.thumbnail("u-1"), Some(Picture::Ready(_))));
        // Without a copy, the server's thumbnail.
        files.pictures.insert("u-2".into(), handle());
        assert!(matches!(files.thumbnail("u-2"), Some(Picture::Ready(_))));
    }

    #[tokio::test]
    async fn a_kept_thumbnail_needs_no_server() {
        let dir = tempfile::tempdir().expect("temp dir");
        std::fs::write(dir.path().join("0b7e-4c1d.png"), b"kept").expect("write");
        // Nothing listens there: only the kept copy can answer.
        let address = crate::address::ServerAddress::parse("127.0.0.1:1", "").expect("valid");
        let api = Api::new(&address, &crate::trust::Trust::in_memory());
        let kept = thumbnail(api.clone(), "0b7e-4c1d".into(), Some(dir.path().to_owned())).await;
        assert_eq!(kept.expect("the kept thumbnail"), b"kept");
        assert!(thumbnail(api.clone(), "0b7e-4c1d".into(), None).await.is_err(), "no cache: the server");
        // An id that is not the server's kind of name is never a path.
        std::fs::write(dir.path().join("..png"), b"odd").expect("write");
        assert!(thumbnail(api, ".".into(), Some(dir.path().to_owned())).await.is_err());
    }

    #[test]
    fn names_from_the_server_cannot_leave_the_folder() {
        assert_eq!(safe_name("report.pdf"), "report.pdf");
        assert_eq!(safe_name("../../etc/passwd"), "passwd");
        assert_eq!(safe_name("C:\\Users\\me\\cat.png"), "cat.png");
        assert_eq!(safe_name("bad\u{7}name\n.txt"), "badname.txt");
        assert_eq!(safe_name(".."), "file");
        assert_eq!(safe_name("  "), "file");
        assert_eq!(safe_name("dir/"), "file");
    }

    #[test]
    fn taken_names_get_a_number() {
        let dir = tempfile::tempdir().expect("temp dir");
        let first = unique_path(dir.path(), "photo.jpg");
        assert_eq!(first, dir.path().join("photo.jpg"));
        std::fs::write(&first, b"1").expect("write");
        let second = unique_path(dir.path(), "photo.jpg");
        assert_eq!(second, dir.path().join("photo(1).jpg"));
        std::fs::write(&second, b"2").expect("write");
        assert_eq!(unique_path(dir.path(), "photo.jpg"), dir.path().join("photo(2).jpg"));
        std::fs::write(dir.path().join("notes"), b"").expect("write");
        assert_eq!(unique_path(dir.path(), "notes"), dir.path().join("notes(1)"));
        std::fs::write(dir.path().join(".profile"), b"").expect("write");
        assert_eq!(unique_path(dir.path(), ".profile"), dir.path().join(".profile(1)"));
    }

    #[test]
    fn pasted_paths_and_file_uris_name_files() {
        let dir = tempfile::tempdir().expect("temp dir");
        let one = dir.path().join("my notes.txt");
        let two = dir.path().join("b.png");
        std::fs::write(&one, b"1").expect("write");
        std::fs::write(&two, b"2").expect("write");
        let uri = |path: &Path| format!("file://{}", path.display()).replace(' ', "%20");
        assert_eq!(pasted_files(&format!("{}\r\n{}\n", uri(&one), uri(&two))), [one.clone(), two]);
        assert!(pasted_files("just some words").is_empty());
        assert!(pasted_files(&format!("{}\nand words", uri(&one))).is_empty(), "all lines or none");
        assert!(pasted_files(&one.display().to_string()).is_empty(), "a plain path stays text");
        assert!(pasted_files("file:///no/such/file").is_empty());
        assert!(pasted_files("").is_empty());
    }

    #[tokio::test]
    async fn two_finished_downloads_of_one_name_both_keep_their_file() {
        let dir = tempfile::tempdir().expect("temp dir");
        let one = dir.path().join(".1.part");
        let two = dir.path().join(".2.part");
        std::fs::write(&one, b"first").expect("write");
        std::fs::write(&two, b"second").expect("write");
        let (a, b) = tokio::join!(
            claim_name(&one, dir.path(), "photo.jpg"),
            claim_name(&two, dir.path(), "photo.jpg")
        );
        let (a, b) = (a.expect("claimed"), b.expect("claimed"));
        assert_ne!(a, b);
        let mut names =
            [a.file_name().unwrap_or_default().to_owned(), b.file_name().unwrap_or_default().to_owned()];
        names.sort();
        assert_eq!(names, ["photo(1).jpg", "photo.jpg"]);
        let contents = [std::fs::read(&a).expect("read"), std::fs::read(&b).expect("read")];
        assert!(contents.contains(&b"first".to_vec()) && contents.contains(&b"second".to_vec()));
    }

    #[tokio::test]
    async fn leftover_parts_are_removed() {
        let dir = tempfile::tempdir().expect("temp dir");
        std::fs::write(dir.path().join(".0d1e.part"), b"").expect("write");
        std::fs::write(dir.path().join("kept.part"), b"").expect("write");
        let session_start = std::time::SystemTime::now() + std::time::Duration::from_secs(1);
        remove_leftovers(dir.path().to_owned(), session_start).await;
        assert!(!dir.path().join(".0d1e.part").exists());
        assert!(dir.path().join("kept.part").exists(), "only the hidden download parts");
        // A part written during this session is a download under way: it stays.
        std::fs::write(dir.path().join(".4f2a.part"), b"").expect("write");
        let an_hour_ago = std::time::SystemTime::now() - std::time::Duration::from_secs(3600);
        remove_leftovers(dir.path().to_owned(), an_hour_ago).await;
        assert!(dir.path().join(".4f2a.part").exists());
    }

    #[test]
    fn sizes_and_kinds_read_well() {
        assert_eq!(human_size(999), "999 B");
        assert_eq!(human_size(3_400), "3.4 KB");
        assert_eq!(human_size(12_000_000), "12.0 MB");
        assert_eq!(human_size(1_500_000_000), "1.5 GB");
        assert_eq!(kind_label("report.pdf", "application/pdf"), "PDF");
        assert_eq!(kind_label("README", "text/plain"), "TEXT");
        assert_eq!(kind_label(".bashrc", ""), "FILE");
    }
}

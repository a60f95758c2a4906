//! Files in chats as this computer has them: the pictures the chat shows (thumbnails kept
//! from the server, pictures decoded from files here, stickers, avatars), the files saved
//! here, the transfers under way (made by `transfer`), and small helpers to show and
//! open files.
//!
//! Received files are saved in the user's Downloads folder unless the settings name another;
//! the server's thumbnails are kept beside the history cache, in
//! `<data>/<host_port>/<user_id>/thumbnails/`.

use crate::api::{Api, ApiError};
use crate::transfer::Transfer;
use iced::widget::image;
use kith_shared::api::ConversationId;
use std::collections::HashMap;
use std::path::{Path, PathBuf};
use std::time::Duration;

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
    /// Where received files are saved (the Downloads folder unless the settings name another);
    /// None when this computer names no such folder.
    pub folder: Option<PathBuf>,
    /// Where the server's thumbnails are kept; None without a local data folder.
    pub thumbnails: Option<PathBuf>,
    /// The folder files were last chosen in: the file dialog opens there.
    pub last_folder: Option<PathBuf>,
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

    /// Where the server's thumbnails are kept on this computer.
    pub fn thumbnails_folder(&self) -> Option<PathBuf> {
        self.thumbnails.clone()
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
    let bytes = api.thumbnail(&upload_id).await?;
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

/// Reads a picture chosen to upload (an avatar, a group's picture); a failure says so in the
/// user's words.
pub async fn read_picture(path: &Path) -> Result<Vec<u8>, ApiError> {
    tokio::fs::read(path).await.map_err(|err| {
        ApiError::Local(t!("file-cannot-read", path = path.display().to_string(), error = err.to_string()))
    })
}

/// Reads a kept thumbnail, ready to draw (offline: the server cannot be asked).
pub async fn read_kept_thumbnail(path: PathBuf) -> Result<image::Handle, String> {
    let bytes = tokio::fs::read(&path)
        .await
        .map_err(|err| t!("file-cannot-read", path = path.display().to_string(), error = err.to_string()))?;
    Ok(image::Handle::from_bytes(bytes))
}

/// The thumbnails folder that belongs beside a history database.
pub fn thumbnails_beside(history_path: &Path) -> Option<PathBuf> {
    history_path.parent().map(|dir| dir.join("thumbnails"))
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
        let unreadable = |err: &dyn std::fmt::Display| {
            t!("file-cannot-show", path = path.display().to_string(), error = err.to_string())
        };
        let mut decoder = ::image::ImageReader::open(&path)
            .and_then(|reader| reader.with_guessed_format())
            .map_err(|err| {
                t!("file-cannot-read", path = path.display().to_string(), error = err.to_string())
            })?
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

/// Whether a file's name says it is a picture the server makes a thumbnail of.
pub fn looks_like_picture(path: &Path) -> bool {
    path.extension()
        .and_then(|ext| ext.to_str())
        .is_some_and(|ext| ["png", "jpg", "jpeg", "gif", "webp"].contains(&ext.to_ascii_lowercase().as_str()))
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
        .map_err(|err| t!("file-no-opener", name = &name, program = program, error = err.to_string()))?;
    match tokio::time::timeout(OPENER_ANSWER, child.wait()).await {
        Ok(Ok(status)) if status.success() => Ok(()),
        Ok(Ok(_)) => Err(t!("file-no-program", name = &name)),
        Ok(Err(err)) => Err(t!("file-cannot-open", path = &name, error = err.to_string())),
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
    async fn a_picture_that_cannot_be_read_is_said_so_in_the_users_words() {
        crate::i18n::set(crate::i18n::Lang::Chinese);
        let dir = tempfile::tempdir().expect("temp dir");
        let missing = dir.path().join("face.png");
        let err = read_picture(&missing).await.expect_err("no such file");
        assert!(err.plain().starts_with(&format!("无法读取 {}：", missing.display())), "{}", err.plain());
        crate::i18n::set(crate::i18n::Lang::English);
        std::fs::write(&missing, b"png").expect("write");
        assert_eq!(read_picture(&missing).await, Ok(b"png".to_vec()));
    }

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

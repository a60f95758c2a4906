//! Uploads and downloads: a file streamed from disk to the server, or from the server into
//! the folder received files go to (the user's Downloads folder unless the settings name
//! another), both with progress and cancellable.
//!
//! A download goes to a hidden `.part` file first and takes its final name only when
//! complete; a name already taken becomes `name(1).ext`, `name(2).ext`, … File names from
//! the server are made safe first. `.part` files of downloads cut off by the app's end are
//! removed at the next login.

use crate::api::{Api, ApiError};
use bytes::Bytes;
use futures_util::{Stream, StreamExt};
use kith_shared::api::{ConversationId, FileInfo};
use std::path::{Path, PathBuf};
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
            TransferError::Cancelled => t!("transfer-cancelled"),
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

/// Removes the `.part` files of downloads that were cut off (the app closed mid-way): those
/// last written before `session_start`, never one of this session's downloads. Only this
/// app's own parts (`.<uuid>.part`) are touched: the folder is shared with other programs.
pub async fn remove_leftovers(folder: PathBuf, session_start: std::time::SystemTime) {
    let Ok(mut entries) = tokio::fs::read_dir(&folder).await else { return };
    while let Ok(Some(entry)) = entries.next_entry().await {
        let name = entry.file_name().to_string_lossy().into_owned();
        let ours = name
            .strip_prefix('.')
            .and_then(|rest| rest.strip_suffix(".part"))
            .is_some_and(|id| uuid::Uuid::try_parse(id).is_ok());
        let old = entry.metadata().await.and_then(|m| m.modified()).is_ok_and(|at| at < session_start);
        if ours && old {
            let _ = tokio::fs::remove_file(entry.path()).await;
        }
    }
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
    let local = |key: &str, err: std::io::Error| local_error(key, path, &err);
    let name = path
        .file_name()
        .and_then(|name| name.to_str())
        .ok_or_else(|| TransferError::Local(t!("file-bad-name", path = path.display().to_string())))?
        .to_owned();
    let file = tokio::fs::File::open(path).await.map_err(|err| local("file-cannot-open", err))?;
    let metadata = file.metadata().await.map_err(|err| local("file-cannot-read", err))?;
    if !metadata.is_file() {
        return Err(TransferError::Local(t!("file-not-a-file", path = path.display().to_string())));
    }
    let total = metadata.len();
    let mut meter = Meter { progress: progress.clone(), done: 0, total, shown: None };
    let body = tokio_util::io::ReaderStream::with_capacity(file, 64 * 1024).map(move |chunk| {
        if let Ok(chunk) = &chunk {
            meter.add(chunk.len());
        }
        chunk
    });
    Ok(api.upload(&name, total, reqwest::Body::wrap_stream(body)).await?)
}

/// A problem with a file on this computer, in the user's words: `key` is the message saying
/// what could not be done (`file-cannot-open`, …), the system's own error follows.
fn local_error(key: &str, path: &Path, err: &std::io::Error) -> TransferError {
    let mut args = crate::i18n::FluentArgs::new();
    args.set("path", path.display().to_string());
    args.set("error", err.to_string());
    TransferError::Local(crate::i18n::tr_args(key, &args))
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
    let local = |key: &str, path: &Path, err: std::io::Error| local_error(key, path, &err);
    tokio::fs::create_dir_all(folder).await.map_err(|err| local("file-cannot-create", folder, err))?;
    let mut response = api.download(upload_id).await?;
    let total = response.content_length().unwrap_or(0);
    let part_path = folder.join(format!(".{}.part", uuid::Uuid::new_v4()));
    let part = PartFile(Some(part_path.clone()));
    let mut file = tokio::fs::File::create(&part_path)
        .await
        .map_err(|err| local("file-cannot-create", &part_path, err))?;
    let mut meter = Meter { progress: progress.clone(), done: 0, total, shown: None };
    loop {
        let chunk: Option<Bytes> = response.chunk().await.map_err(|err| api.transport_error(err))?;
        let Some(chunk) = chunk else { break };
        file.write_all(&chunk).await.map_err(|err| local("file-cannot-write", &part_path, err))?;
        meter.add(chunk.len());
    }
    if total > 0 && meter.done != total {
        return Err(TransferError::Api(ApiError::Unexpected(format!(
            "the download ended after {} of {total} bytes",
            meter.done
        ))));
    }
    file.sync_all().await.map_err(|err| local("file-cannot-write", &part_path, err))?;
    drop(file);
    let target = claim_name(&part_path, folder, &safe_name(name))
        .await
        .map_err(|err| local("file-cannot-save", folder, err))?;
    drop(part);
    // The server may delete its copy once every receiver has it; failing to say so only
    // keeps it there until it expires.
    if let Err(err) = api.file_received(upload_id).await {
        tracing::debug!(%err, upload_id, "cannot confirm a download");
    }
    Ok(target)
}

#[cfg(test)]
mod tests {
    use super::*;

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
        let cut_off = format!(".{}.part", uuid::Uuid::new_v4());
        std::fs::write(dir.path().join(&cut_off), b"").expect("write");
        std::fs::write(dir.path().join("kept.part"), b"").expect("write");
        std::fs::write(dir.path().join(".video.mp4.part"), b"").expect("write");
        let session_start = std::time::SystemTime::now() + std::time::Duration::from_secs(1);
        remove_leftovers(dir.path().to_owned(), session_start).await;
        assert!(!dir.path().join(&cut_off).exists());
        assert!(dir.path().join("kept.part").exists(), "only the hidden download parts");
        assert!(dir.path().join(".video.mp4.part").exists(), "another program's part stays");
        // A part written during this session is a download under way: it stays.
        let under_way = format!(".{}.part", uuid::Uuid::new_v4());
        std::fs::write(dir.path().join(&under_way), b"").expect("write");
        let an_hour_ago = std::time::SystemTime::now() - std::time::Duration::from_secs(3600);
        remove_leftovers(dir.path().to_owned(), an_hour_ago).await;
        assert!(dir.path().join(&under_way).exists());
    }
}

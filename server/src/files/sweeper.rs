//! The sweeper: a background task that deletes files whose time has passed (UNATTACHED_TTL
//! for uploads never sent, FILE_TTL for sent ones) and files every receiver has fetched
//! completely; their records stay, marked `expired`. Its state is in the database, so a
//! restart loses nothing.

use crate::app::App;
use crate::store::files::UploadRow;
use crate::store::{StoreError, now_millis};
use std::path::Path;
use std::sync::Arc;
use std::time::{Duration, SystemTime};

/// Rows the sweeper handles per query.
const SWEEP_BATCH: u64 = 500;

/// How old a file of a shared upload folder must be before a starting cluster node takes it
/// for a leftover: far longer than any upload takes between two writes.
const SHARED_LEFTOVER_AGE: Duration = Duration::from_secs(3600);

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

/// One pass of the sweeper. Returns how many uploads it deleted (claimed).
pub async fn sweep(app: &App) -> Result<usize, StoreError> {
    let store = &app.store;
    let mut gone = store.uploads_due(now_millis(), SWEEP_BATCH).await?;
    for row in store.uploads_fetched(SWEEP_BATCH).await? {
        let Some(conversation_id) = row.conversation_id else { continue };
        let members = store.members(conversation_id).await?;
        let fetchers = store.upload_fetchers(&row.id).await?;
        // The receivers: members who see a message carrying it, the uploader aside.
        let mut receivers = members
            .iter()
            .filter(|m| m.user_id != row.uploader_id && super::reads(&row, m.joined_seq))
            .map(|m| m.user_id)
            .peekable();
        if receivers.peek().is_some() && receivers.all(|id| fetchers.contains(&id)) {
            gone.push(row);
        }
    }
    let mut count = 0;
    for row in gone {
        if expire(app, &row).await? {
            count += 1;
        }
    }
    Ok(count)
}

/// Deletes an upload now: marks it expired and removes its file and thumbnail. False when it
/// was expired already. The sweeper calls it, and a moderator's delete of a message carrying it.
pub async fn expire(app: &App, row: &UploadRow) -> Result<bool, StoreError> {
    // The claim comes first, in the database: the sweeper of another node sharing the
    // upload folder that read the same row finds it claimed and leaves it. A file whose
    // claim outlived its node is removed as a leftover at the next start.
    if !app.store.claim_expired_upload(&row.id).await? {
        return Ok(false);
    }
    for name in std::iter::once(&row.id).chain(row.thumbnail_id.as_ref()) {
        remove_stored(&app.config.upload_dir, name).await;
    }
    app.metrics.sweeper_deleted.increment(1);
    Ok(true)
}

async fn remove_stored(dir: &Path, name: &str) {
    match tokio::fs::remove_file(dir.join(name)).await {
        Ok(()) => {}
        Err(err) if err.kind() == std::io::ErrorKind::NotFound => {}
        Err(err) => tracing::warn!(%err, name, "cannot delete a stored file"),
    }
}

/// Removes what no live upload names: `.part` files (uploads cut off by a stop), files of
/// expired or unknown uploads, and strays of any other name. Folders are left alone. A node
/// of a cluster shares the folder with nodes that may be receiving uploads right now (a
/// `.part` file, or a finished file whose record is being written): it leaves alone what was
/// written in the last [`SHARED_LEFTOVER_AGE`].
async fn remove_leftovers(app: &App) {
    let dir = &app.config.upload_dir;
    let shared = app.config.nats_url.is_some();
    let mut entries = match tokio::fs::read_dir(dir).await {
        Ok(entries) => entries,
        Err(err) => return tracing::warn!(%err, dir = %dir.display(), "cannot list the upload store"),
    };
    while let Ok(Some(entry)) = entries.next_entry().await {
        if entry.file_type().await.is_ok_and(|kind| kind.is_dir()) {
            continue;
        }
        let name = entry.file_name().to_string_lossy().into_owned();
        if shared && !written_before(&entry, SHARED_LEFTOVER_AGE).await {
            continue;
        }
        let live = uuid::Uuid::parse_str(&name).is_ok() && !name.ends_with(".part") && {
            match app.store.upload_file_is_live(&name).await {
                Ok(live) => live,
                // Keep what cannot be checked; the next start tries again.
                Err(err) => {
                    tracing::warn!(%err, name, "cannot check a file of the upload store");
                    true
                }
            }
        };
        if !live {
            tracing::info!(name, "removing a leftover file from the upload store");
            match tokio::fs::remove_file(entry.path()).await {
                Ok(()) => {}
                Err(err) if err.kind() == std::io::ErrorKind::NotFound => {}
                Err(err) => tracing::warn!(%err, name, "cannot delete a leftover file"),
            }
        }
    }
}

/// Whether the entry was last written more than `age` ago (false when that cannot be told).
async fn written_before(entry: &tokio::fs::DirEntry, age: Duration) -> bool {
    let Ok(modified) = entry.metadata().await.and_then(|meta| meta.modified()) else { return false };
    SystemTime::now().duration_since(modified).is_ok_and(|elapsed| elapsed > age)
}

//! The emoji set: `STATIC_DIR/emoji/manifest.json`, loaded at start; stickers name its codes.

use bytes::Bytes;
use sha2::{Digest, Sha256};
use std::collections::{HashMap, HashSet};
use std::path::{Path, PathBuf};
use std::sync::{Arc, OnceLock, RwLock};

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

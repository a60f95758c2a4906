//! The server's emoji set: downloaded once per server into the data folder
//! (`<data>/<host_port>/emoji/`, each picture checked against the manifest's SHA-256), then
//! shown as colour pictures in the composer's panel and inside messages.
//!
//! Messages carry emoji as Unicode text. [`segments`] cuts a text into runs of words and the
//! emoji of the set (grapheme clusters, so that skin tones, flags and families stay whole);
//! the chat draws the words as text and the emoji as pictures.

use crate::api::{Api, ApiError};
use futures_util::StreamExt;
use iced::widget::image;
use kith_shared::api::{EmojiEntry, EmojiManifest};
use sha2::{Digest, Sha256};
use std::collections::HashMap;
use std::path::{Path, PathBuf};
use unicode_segmentation::UnicodeSegmentation;

/// Pictures fetched at once while filling the cache.
const PARALLEL_DOWNLOADS: usize = 8;

/// The emoji of one server, ready to draw.
#[derive(Debug, Clone, Default)]
pub struct EmojiSet {
    /// In the manifest's order (its categories).
    pub entries: Vec<EmojiEntry>,
    /// Pictures by the emoji's text, with and without U+FE0F.
    pictures: HashMap<String, image::Handle>,
}

impl EmojiSet {
    /// A set from its manifest and the pictures' bytes by code.
    pub fn new(entries: Vec<EmojiEntry>, mut bytes: HashMap<String, Vec<u8>>) -> Self {
        let mut pictures = HashMap::new();
        let entries: Vec<EmojiEntry> = entries
            .into_iter()
            .filter_map(|entry| {
                let handle = image::Handle::from_bytes(bytes.remove(&entry.code)?);
                pictures.insert(entry.char.clone(), handle.clone());
                pictures.entry(entry.char.replace('\u{fe0f}', "")).or_insert(handle);
                Some(entry)
            })
            .collect();
        Self { entries, pictures }
    }

    /// The picture of an emoji written as text, if the set has it.
    pub fn picture(&self, emoji: &str) -> Option<&image::Handle> {
        self.pictures.get(emoji).or_else(|| self.pictures.get(&emoji.replace('\u{fe0f}', "")))
    }

    /// The emoji whose name, short name or keywords contain `query` (all when empty).
    pub fn search(&self, query: &str) -> Vec<&EmojiEntry> {
        let query = query.trim().to_lowercase();
        self.entries
            .iter()
            .filter(|e| {
                query.is_empty()
                    || e.name.to_lowercase().contains(&query)
                    || e.short_name.contains(&query)
                    || e.keywords.iter().any(|k| k.contains(&query))
            })
            .collect()
    }
}

/// A piece of a message's text.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum Segment<'a> {
    /// A word with the spaces after it.
    Word(&'a str),
    /// An emoji of the set.
    Emoji(&'a str),
    /// The end of a line.
    Break,
}

/// Cuts `text` into words, the set's emoji and line ends, in order.
pub fn segments<'a>(text: &'a str, set: &EmojiSet) -> Vec<Segment<'a>> {
    let mut out = Vec::new();
    let mut word_start: Option<usize> = None;
    let mut after_space = false;
    for (at, grapheme) in text.grapheme_indices(true) {
        let emoji = !grapheme.is_ascii() && set.picture(grapheme).is_some();
        let newline = grapheme == "\n" || grapheme == "\r\n";
        let space = grapheme.chars().all(char::is_whitespace) && !newline;
        // A word ends before an emoji, a line end, or the first letter after spaces.
        if (emoji || newline || (after_space && !space))
            && let Some(start) = word_start.take()
        {
            out.push(Segment::Word(&text[start..at]));
        }
        after_space = space;
        if emoji {
            out.push(Segment::Emoji(grapheme));
        } else if newline {
            out.push(Segment::Break);
        } else if word_start.is_none() {
            word_start = Some(at);
        }
    }
    if let Some(start) = word_start {
        out.push(Segment::Word(&text[start..]));
    }
    out
}

/// Whether a text is one to three emoji of the set and nothing else (drawn large).
pub fn only_emoji(text: &str, set: &EmojiSet) -> bool {
    let parts = segments(text.trim(), set);
    !parts.is_empty() && parts.len() <= 3 && parts.iter().all(|p| matches!(p, Segment::Emoji(_)))
}

/// Where a server's emoji are cached.
pub fn cache_folder(server_folder: &Path) -> PathBuf {
    server_folder.join("emoji")
}

/// The server's set: pictures from the cache when their checksum matches, the rest
/// downloaded (and cached). Without a cache folder everything is downloaded.
/// When the server cannot be asked, the manifest kept from last time serves (offline).
pub async fn load(api: Api, cache: Option<PathBuf>) -> Result<EmojiSet, ApiError> {
    let kept = cache.as_ref().map(|dir| dir.join("manifest.json"));
    let manifest: EmojiManifest = match api.emoji().await {
        Ok(manifest) => {
            if let (Some(cache), Some(kept)) = (&cache, &kept) {
                let saved = match tokio::fs::create_dir_all(cache).await {
                    Ok(()) => tokio::fs::write(kept, serde_json::to_vec(&manifest).unwrap_or_default()).await,
                    Err(err) => Err(err),
                };
                if let Err(err) = saved {
                    tracing::warn!(%err, folder = %cache.display(), "cannot keep emoji on this computer");
                }
            }
            manifest
        }
        Err(err) => {
            let Some(bytes) = kept.and_then(|kept| std::fs::read(kept).ok()) else { return Err(err) };
            serde_json::from_slice(&bytes).map_err(|_| err)?
        }
    };
    let fetched: Vec<Option<(String, Vec<u8>)>> = futures_util::stream::iter(manifest.emoji.clone())
        .map(|entry| {
            let api = api.clone();
            let cache = cache.clone();
            async move { picture(&api, cache.as_deref(), &entry).await.map(|bytes| (entry.code, bytes)) }
        })
        .buffer_unordered(PARALLEL_DOWNLOADS)
        .collect()
        .await;
    Ok(EmojiSet::new(manifest.emoji, fetched.into_iter().flatten().collect()))
}

/// One picture: cached and intact, or downloaded and cached. None when it cannot be had.
async fn picture(api: &Api, cache: Option<&Path>, entry: &EmojiEntry) -> Option<Vec<u8>> {
    // The name comes from the server: only plain file names are used as paths.
    let safe = entry.image.ends_with(".png")
        && entry.image.chars().all(|c| c.is_ascii_alphanumeric() || matches!(c, '-' | '_' | '.'))
        && !entry.image.starts_with('.');
    if !safe {
        return None;
    }
    let path = cache.map(|dir| dir.join(&entry.image));
    if let Some(path) = &path
        && let Ok(bytes) = tokio::fs::read(path).await
        && intact(&bytes, entry)
    {
        return Some(bytes);
    }
    let bytes = match api.emoji_picture(&entry.image).await {
        Ok(bytes) => bytes,
        Err(err) => {
            tracing::debug!(%err, code = entry.code, "cannot fetch an emoji");
            return None;
        }
    };
    if !intact(&bytes, entry) {
        tracing::debug!(code = entry.code, "an emoji picture does not match its checksum");
        return None;
    }
    if let Some(path) = &path
        && let Err(err) = tokio::fs::write(path, &bytes).await
    {
        tracing::debug!(%err, "cannot cache an emoji");
    }
    Some(bytes)
}

/// Whether a picture matches the manifest's checksum (when it gives one).
fn intact(bytes: &[u8], entry: &EmojiEntry) -> bool {
    entry.sha256.is_empty() || hex_sha256(bytes).eq_ignore_ascii_case(&entry.sha256)
}

fn hex_sha256(bytes: &[u8]) -> String {
    Sha256::digest(bytes).iter().map(|b| format!("{b:02x}")).collect()
}

#[cfg(test)]
pub mod tests {
    use super::*;

    fn entry(code: &str, ch: &str, name: &str, keywords: &[&str]) -> EmojiEntry {
        EmojiEntry {
            code: code.into(),
            char: ch.into(),
            name: name.into(),
            short_name: name.replace(' ', "_"),
            keywords: keywords.iter().map(|k| (*k).to_owned()).collect(),
            category: "Smileys & Emotion".into(),
            image: format!("{code}.png"),
            sha256: String::new(),
        }
    }

    /// A small set with real pictures from the repository's `static/emoji`.
    pub fn sample() -> EmojiSet {
        let dir = Path::new(env!("CARGO_MANIFEST_DIR")).join("../static/emoji");
        let entries = vec![
            entry("1f600", "😀", "grinning face", &["face", "grin"]),
            entry("1f44d", "👍", "thumbs up sign", &["ok", "yes"]),
            entry("2764-fe0f", "❤\u{fe0f}", "heavy black heart", &["love"]),
        ];
        let bytes = entries
            .iter()
            .filter_map(|e| Some((e.code.clone(), std::fs::read(dir.join(&e.image)).ok()?)))
            .collect();
        EmojiSet::new(entries, bytes)
    }

    #[test]
    fn text_splits_into_words_emoji_and_lines() {
        let set = sample();
        assert_eq!(set.entries.len(), 3, "the sample pictures are in static/emoji");
        assert_eq!(
            segments("Hi there 😀 see you\nlater👍", &set),
            [
                Segment::Word("Hi "),
                Segment::Word("there "),
                Segment::Emoji("😀"),
                Segment::Word(" "),
                Segment::Word("see "),
                Segment::Word("you"),
                Segment::Break,
                Segment::Word("later"),
                Segment::Emoji("👍"),
            ]
        );
        // A heart typed without U+FE0F is found; an emoji not in the set stays text.
        assert_eq!(segments("❤", &set), [Segment::Emoji("❤")]);
        assert_eq!(segments("🦀 x", &set), [Segment::Word("🦀 "), Segment::Word("x")]);
        // A skin tone keeps the thumb whole (not in the set: one word).
        assert_eq!(segments("👍🏽", &set), [Segment::Word("👍🏽")]);
    }

    #[test]
    fn up_to_three_emoji_alone_are_drawn_large() {
        let set = sample();
        assert!(only_emoji("😀", &set));
        assert!(only_emoji(" 😀👍❤️ ", &set));
        assert!(!only_emoji("😀😀😀😀", &set));
        assert!(!only_emoji("ok 😀", &set));
        assert!(!only_emoji("", &set));
    }

    #[test]
    fn search_looks_in_names_and_keywords() {
        let set = sample();
        let codes = |q: &str| set.search(q).iter().map(|e| e.code.clone()).collect::<Vec<_>>();
        assert_eq!(codes("grin"), ["1f600"]);
        assert_eq!(codes("LOVE"), ["2764-fe0f"]);
        assert_eq!(codes("").len(), 3);
        assert!(codes("zebra").is_empty());
    }
}

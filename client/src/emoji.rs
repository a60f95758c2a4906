//! The server's emoji set: downloaded once per server into the data folder
//! (`<data>/<host_port>/emoji/`, each picture checked against the manifest's SHA-256), then
//! shown as colour pictures in the composer's panel and inside messages.
//!
//! Messages carry emoji as Unicode text. [`segments`] cuts a text into runs of words and
//! emoji (grapheme clusters, so that skin tones, flags, keycaps and families stay whole; which
//! clusters are emoji comes from the Unicode emoji list of the `emojis` crate). The chat draws
//! the words in the text font, the emoji the set has as its pictures, and every other emoji
//! in the bundled colour emoji font ([`look`]): the text font has no glyphs for most of them,
//! and black ones for a few.
//!
//! The emoji panel offers the whole Unicode list ([`group`], [`find`]), each emoji in the
//! skin tone the user chose ([`Tone`]) where it takes one.

use crate::api::{Api, ApiError};
use futures_util::StreamExt;
use iced::widget::image;
use kith_shared::api::{EmojiEntry, EmojiManifest};
use serde::{Deserialize, Serialize};
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
    /// An emoji: one grapheme cluster (with its skin tone, or a whole flag or family).
    Emoji(&'a str),
    /// The end of a line.
    Break,
}

/// Whether a grapheme cluster is drawn as an emoji: an emoji of the Unicode list written
/// fully qualified, a sequence of them (a family or flag written without U+FE0F too), or
/// one the server's set has a picture of (a heart typed without U+FE0F). A lone character
/// that is text unless U+FE0F follows it (©, ™, ↔, a bare ☺) stays text, as Unicode says.
pub fn is_emoji(grapheme: &str, set: Option<&EmojiSet>) -> bool {
    if grapheme.is_ascii() {
        return false;
    }
    let listed = emojis::get(grapheme)
        .is_some_and(|emoji| emoji.as_str() == grapheme || grapheme.chars().nth(1).is_some());
    listed || set.is_some_and(|set| set.picture(grapheme).is_some())
}

/// How an emoji is drawn.
#[derive(Debug, Clone, PartialEq)]
pub enum Look<'a> {
    /// The server's picture of it.
    Picture(&'a image::Handle),
    /// In the bundled colour emoji font (`widget::EMOJI`), in a run of its own.
    Font,
}

/// How to draw `emoji`: the set's picture when it has one, else the colour emoji font.
pub fn look<'a>(emoji: &str, set: Option<&'a EmojiSet>) -> Look<'a> {
    match set.and_then(|set| set.picture(emoji)) {
        Some(handle) => Look::Picture(handle),
        None => Look::Font,
    }
}

/// Cuts `text` into words, emoji and line ends, in order.
pub fn segments<'a>(text: &'a str, set: Option<&EmojiSet>) -> Vec<Segment<'a>> {
    let mut out = Vec::new();
    let mut word_start: Option<usize> = None;
    let mut after_space = false;
    for (at, grapheme) in text.grapheme_indices(true) {
        let emoji = is_emoji(grapheme, set);
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

/// Whether a text is one to three emoji and nothing else (drawn large).
pub fn only_emoji(text: &str, set: Option<&EmojiSet>) -> bool {
    let parts = segments(text.trim(), set);
    !parts.is_empty() && parts.len() <= 3 && parts.iter().all(|p| matches!(p, Segment::Emoji(_)))
}

/// The Unicode version whose emoji characters the bundled colour font has.
pub const FONT_COVERS: emojis::UnicodeVersion = emojis::UnicodeVersion::new(15, 1);

/// The skin tone the user picks for emoji of people and hands: none (the yellow default) or
/// one of the five Unicode tones.
#[derive(Debug, Clone, Copy, Default, PartialEq, Eq, Serialize, Deserialize)]
pub enum Tone {
    #[default]
    None,
    Light,
    MediumLight,
    Medium,
    MediumDark,
    Dark,
}

impl Tone {
    pub const ALL: [Tone; 6] =
        [Tone::None, Tone::Light, Tone::MediumLight, Tone::Medium, Tone::MediumDark, Tone::Dark];

    /// `emoji` in this tone when it takes skin tones (both people of a couple or handshake
    /// alike), else as it is.
    pub fn apply(self, emoji: &'static emojis::Emoji) -> &'static emojis::Emoji {
        let tone = match self {
            Tone::None => emojis::SkinTone::Default,
            Tone::Light => emojis::SkinTone::Light,
            Tone::MediumLight => emojis::SkinTone::MediumLight,
            Tone::Medium => emojis::SkinTone::Medium,
            Tone::MediumDark => emojis::SkinTone::MediumDark,
            Tone::Dark => emojis::SkinTone::Dark,
        };
        emoji.with_skin_tone(tone).unwrap_or(emoji)
    }

    /// In words, for the panel's tooltips.
    pub fn name(self) -> String {
        match self {
            Tone::None => t!("tone-none"),
            Tone::Light => t!("tone-light"),
            Tone::MediumLight => t!("tone-medium-light"),
            Tone::Medium => t!("tone-medium"),
            Tone::MediumDark => t!("tone-medium-dark"),
            Tone::Dark => t!("tone-dark"),
        }
    }
}

/// Whether an emoji of the list can be drawn: the colour font has it, or the set's picture.
fn drawable(emoji: &emojis::Emoji, set: Option<&EmojiSet>) -> bool {
    emoji.unicode_version() <= FONT_COVERS || set.is_some_and(|set| set.picture(emoji.as_str()).is_some())
}

/// The emoji of one Unicode group, in the list's order, fully qualified and in `tone`.
pub fn group(group: emojis::Group, tone: Tone, set: Option<&EmojiSet>) -> Vec<&'static str> {
    group.emojis().filter(|e| drawable(e, set)).map(|e| tone.apply(e).as_str()).collect()
}

/// The emoji of the whole list whose name or a shortcode contains `query`, or that the set
/// finds by its names and keywords, in the list's order and in `tone`; then any of the set's
/// that the list does not have. Nothing for an empty query.
pub fn find<'a>(query: &str, tone: Tone, set: Option<&'a EmojiSet>) -> Vec<&'a str> {
    let query = query.trim().to_lowercase();
    if query.is_empty() {
        return Vec::new();
    }
    let from_set: Vec<&EmojiEntry> = set.map(|set| set.search(&query)).unwrap_or_default();
    let in_set: std::collections::HashSet<&str> =
        from_set.iter().filter_map(|entry| emojis::get(&entry.char)).map(emojis::Emoji::as_str).collect();
    let mut found: Vec<&'a str> = emojis::iter()
        .filter(|e| drawable(e, set))
        .filter(|e| {
            e.name().to_lowercase().contains(&query)
                || e.shortcodes().any(|code| code.contains(&query))
                || in_set.contains(e.as_str())
        })
        .map(|e| tone.apply(e).as_str())
        .collect();
    found.extend(
        from_set.iter().filter(|entry| emojis::get(&entry.char).is_none()).map(|entry| entry.char.as_str()),
    );
    found
}

/// An emoji's code points in lower-case hexadecimal joined by `-` (`2764-fe0f`), as the
/// server's set names its emoji.
pub fn code(emoji: &str) -> String {
    emoji.chars().map(|c| format!("{:x}", u32::from(c))).collect::<Vec<_>>().join("-")
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
            segments("Hi there 😀 see you\nlater👍", Some(&set)),
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
        // A heart typed without U+FE0F is the set's picture; without the set it is text, as
        // Unicode has it (the heart with U+FE0F is an emoji either way).
        assert_eq!(segments("❤", Some(&set)), [Segment::Emoji("❤")]);
        assert_eq!(segments("❤", None), [Segment::Word("❤")]);
        assert_eq!(segments("❤\u{fe0f}", None), [Segment::Emoji("❤\u{fe0f}")]);
        // An emoji the set has no picture of is an emoji too.
        assert_eq!(
            segments("🦀 x", Some(&set)),
            [Segment::Emoji("🦀"), Segment::Word(" "), Segment::Word("x")]
        );
        // A skin tone keeps the thumb whole.
        assert_eq!(segments("👍🏽", Some(&set)), [Segment::Emoji("👍🏽")]);
        // Characters that are text unless U+FE0F follows stay text, and so do digits and #.
        assert_eq!(
            segments("© ™ ☺ #1", Some(&set)),
            [Segment::Word("© "), Segment::Word("™ "), Segment::Word("☺ "), Segment::Word("#1")]
        );
    }

    /// Sequences the set has no picture for: a family, a flag, a keycap, a skin tone, a
    /// rainbow flag, a subdivision flag.
    const SEQUENCES: [&str; 6] = ["👨‍👩‍👧", "🇩🇪", "1️⃣", "👍🏽", "🏳️‍🌈", "🏴󠁧󠁢󠁳󠁣󠁴󠁿"];

    #[test]
    fn emoji_sequences_stay_whole_and_are_drawn_as_emoji() {
        let set = sample();
        for emoji in SEQUENCES {
            assert_eq!(segments(emoji, Some(&set)), [Segment::Emoji(emoji)], "{emoji} is one emoji");
            assert_eq!(
                segments(&format!("a {emoji} b"), Some(&set)),
                [Segment::Word("a "), Segment::Emoji(emoji), Segment::Word(" "), Segment::Word("b")],
                "{emoji} among words"
            );
            assert_eq!(look(emoji, Some(&set)), Look::Font, "{emoji}: no picture, the colour font");
            assert!(only_emoji(emoji, Some(&set)), "{emoji} alone is drawn large");
        }
        // The set's pictures stay for what it has.
        assert!(matches!(look("👍", Some(&set)), Look::Picture(_)));
        assert!(matches!(look("❤", Some(&set)), Look::Picture(_)));
        assert_eq!(look("👍", None), Look::Font, "no set yet: the font");
    }

    /// Every fully-qualified emoji of the Unicode list (the `emojis` crate), with every skin
    /// tone.
    fn every_emoji() -> impl Iterator<Item = &'static emojis::Emoji> {
        emojis::iter().flat_map(|e| e.skin_tones().map_or_else(|| vec![e], Iterator::collect))
    }

    #[test]
    fn every_emoji_of_the_unicode_list_is_drawn_in_colour() {
        let set = sample();
        let mut count = 0;
        for emoji in every_emoji().map(emojis::Emoji::as_str) {
            for set in [None, Some(&set)] {
                // One emoji segment: a picture or a colour-font run, never the text font.
                assert_eq!(segments(emoji, set), [Segment::Emoji(emoji)], "{}", emoji.escape_unicode());
            }
            count += 1;
        }
        assert!(count > 3900, "the whole list with its skin tones: {count}");
    }

    #[test]
    fn the_bundled_font_is_found_by_name_and_has_the_emoji() {
        let face = ttf_parser::Face::parse(crate::widget::FONT_EMOJI, 0).expect("the emoji font parses");
        let family = face
            .names()
            .into_iter()
            .filter(|name| name.name_id == ttf_parser::name_id::FAMILY)
            .find_map(|name| name.to_string());
        assert_eq!(family.as_deref(), Some(crate::widget::EMOJI_FAMILY), "iced finds the font by this name");
        let missing: Vec<&str> = every_emoji()
            .filter(|e| e.unicode_version() <= FONT_COVERS)
            .map(emojis::Emoji::as_str)
            .filter(|e| {
                e.chars().any(|c| !matches!(c, '\u{200d}' | '\u{fe0f}') && face.glyph_index(c).is_none())
            })
            .collect();
        assert!(missing.is_empty(), "characters the font lacks: {missing:?}");
    }

    #[test]
    fn up_to_three_emoji_alone_are_drawn_large() {
        let set = sample();
        let set = Some(&set);
        assert!(only_emoji("😀", set));
        assert!(only_emoji(" 😀👍❤️ ", set));
        assert!(only_emoji("👍🏽🇩🇪", set), "emoji the set has no picture of too");
        assert!(!only_emoji("😀😀😀😀", set));
        assert!(!only_emoji("ok 😀", set));
        assert!(!only_emoji("", set));
    }

    #[test]
    fn the_panel_offers_each_group_in_the_tone_chosen_and_finds_across_the_list() {
        let set = sample();
        let smileys = group(emojis::Group::SmileysAndEmotion, Tone::None, Some(&set));
        assert_eq!(smileys.first(), Some(&"😀"));
        let people = group(emojis::Group::PeopleAndBody, Tone::Dark, Some(&set));
        assert!(people.contains(&"👋🏿") && !people.contains(&"👋"), "the tone where it applies");
        assert!(people.contains(&"🧑🏿\u{200d}🤝\u{200d}🧑🏿"), "both people alike");
        assert!(people.contains(&"🧠"), "emoji without tones stay as they are");
        // Every group together is the whole list the font can draw.
        let all: usize = emojis::Group::iter().map(|g| group(g, Tone::None, None).len()).sum();
        assert_eq!(all, emojis::iter().filter(|e| e.unicode_version() <= FONT_COVERS).count());
        assert!(all > 1800, "the whole list: {all}");

        assert!(find("crab", Tone::None, None).contains(&"🦀"), "by name");
        assert!(find("+1", Tone::Medium, None).contains(&"👍🏽"), "by shortcode, in the tone");
        // The set's keywords find its emoji: "love" is a keyword of its heart only.
        assert!(find("LOVE", Tone::None, Some(&set)).contains(&"❤\u{fe0f}"));
        assert!(!find("love", Tone::None, None).contains(&"❤\u{fe0f}"));
        assert!(find("", Tone::None, Some(&set)).is_empty());
        assert_eq!(code("❤\u{fe0f}"), "2764-fe0f");
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

//! Files, images and the emoji set: [`upload`] receives, [`attach`] ties an upload to the
//! conversation it is sent to, [`share`] gives a forwarder their own upload of a file they
//! received, [`sweeper`] deletes what is due, [`emoji`] holds the set.
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

pub mod attach;
pub mod avatar;
pub mod emoji;
pub mod picture;
pub mod share;
pub mod sweeper;
pub mod upload;

use crate::app::App;
use crate::store::StoreError;
use crate::store::files::UploadRow;
use kith_shared::{ErrorCode, UserId};
use std::sync::Arc;
use unicode_properties::{GeneralCategory, UnicodeEmoji, UnicodeGeneralCategory};

/// Longest file name, in bytes of UTF-8.
pub const MAX_NAME_BYTES: usize = 255;

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
    #[error("the server is shutting down; try again once it is back")]
    ShuttingDown,
    #[error("no such file")]
    NotFound,
    #[error("this file was not sent to you: you are not in its conversation, or joined after it was sent")]
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
            FileError::ShuttingDown | FileError::Io(_) | FileError::Store(_) => ErrorCode::Internal,
        }
    }
}

/// Checks a user's file name: 1-255 bytes, no path separators, no control characters, no
/// invisible format characters (see [`hidden_char`]), not `.` or `..`. Surrounding spaces
/// are trimmed. The name is never used as a path anyway.
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
    if let Some(c) = hidden_char(name) {
        return bad(&format!(
            "has the invisible character U+{:04X} (direction marks, format characters and line \
             or paragraph separators can disguise a name)",
            u32::from(c)
        ));
    }
    if name.contains(['/', '\\']) || name == "." || name == ".." {
        return bad("must be a plain name, without '/' or '\\'");
    }
    Ok(name.to_owned())
}

/// The first character of `name` that is invisible or changes how the rest is shown: a
/// format character (Unicode category Cf: the bidi controls such as U+202E RIGHT-TO-LEFT
/// OVERRIDE, zero-width characters, the BOM, tags) or a line or paragraph separator (U+2028,
/// U+2029). One exception: a ZERO WIDTH JOINER between two emoji, which joins them into one
/// (a family, a profession), is kept.
fn hidden_char(name: &str) -> Option<char> {
    let chars: Vec<char> = name.chars().collect();
    let emoji = |c: Option<&char>| c.is_some_and(|c| !c.is_ascii() && c.is_emoji_char());
    chars.iter().enumerate().find_map(|(i, &c)| {
        let hidden = match c.general_category() {
            GeneralCategory::Format => {
                // An emoji's presentation selector may sit between it and the joiner.
                let before = chars[..i].iter().rev().find(|&&b| b != '\u{FE0F}');
                !(c == '\u{200D}' && emoji(before) && emoji(chars.get(i + 1)))
            }
            GeneralCategory::LineSeparator | GeneralCategory::ParagraphSeparator => true,
            _ => false,
        };
        hidden.then_some(c)
    })
}

/// An upload the caller may read: its uploader, or a member of the conversation it was sent
/// to who sees a message carrying it ([`reads`]). Ids that are not uuids are not looked up.
pub async fn readable(app: &App, id: &str, user_id: UserId) -> Result<UploadRow, FileError> {
    if uuid::Uuid::parse_str(id).is_err() {
        return Err(FileError::NotFound);
    }
    let row = app.store.upload(id).await?.ok_or(FileError::NotFound)?;
    if row.uploader_id != user_id {
        let Some(conversation_id) = row.conversation_id else { return Err(FileError::NotFound) };
        let member = app.store.member(conversation_id, user_id).await?;
        if !member.is_some_and(|m| reads(&row, m.joined_seq)) {
            return Err(FileError::Forbidden);
        }
    }
    Ok(row)
}

/// Whether a member of the upload's conversation who joined at `joined_seq` sees a message
/// carrying it (their history starts after `joined_seq`), and so may read it.
pub fn reads(row: &UploadRow, joined_seq: i64) -> bool {
    row.sent_after_seq.is_some_and(|sent_after| joined_seq <= sent_after)
}

/// Records that a receiver has the whole file; the sweeper deletes it once every receiver
/// has. The uploader's own downloads do not count.
pub async fn fetched(app: &App, row: &UploadRow, user_id: UserId) -> Result<(), StoreError> {
    if row.uploader_id != user_id && row.conversation_id.is_some() {
        app.store.record_fetch(&row.id, user_id).await?;
    }
    Ok(())
}

/// Loads the emoji set and starts the sweeper (stopped by `app.shutdown`).
pub fn start(app: &Arc<App>) {
    emoji::load_emoji(&app.config.static_dir);
    app.tasks.spawn(sweeper::sweeper(app.clone()));
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
    fn invisible_and_direction_characters_are_refused() {
        for bad in [
            "invoice\u{202E}gnp.exe",
            "a\u{2028}b.txt",
            "a\u{2029}b.txt",
            "\u{200D}.txt",
            "a\u{200D}b.txt",
            "a\u{200B}b.txt",
            "a\u{2066}b\u{2069}.txt",
            "\u{FEFF}a.txt",
            "a\u{AD}b.txt",
            "flag\u{E0067}.txt",
        ] {
            assert!(clean_name(bad).is_err(), "{bad:?} should be refused");
        }
        // An emoji sequence joined by ZWJ (with or without a presentation selector) is kept.
        for good in
            ["\u{1F468}\u{200D}\u{1F469}\u{200D}\u{1F467}.png", "\u{2764}\u{FE0F}\u{200D}\u{1F525}.gif"]
        {
            assert_eq!(clean_name(good).expect("emoji sequence"), good);
        }
    }

    #[test]
    fn disposition_has_fallback_and_utf8() {
        assert_eq!(
            content_disposition("attachment", "naïve \"x\".txt"),
            "attachment; filename=\"na_ve _x_.txt\"; filename*=UTF-8''na%C3%AFve%20%22x%22.txt"
        );
    }
}

//! Attaching an upload to a message: an `image` or `file` message names an upload of its
//! sender; the first send records the conversation and starts FILE_TTL, and every send
//! records how far the conversation had come, which decides who may download it: the members
//! who see a message carrying it (see [`super::reads`]). Stickers are checked against the emoji set.

use super::emoji::emoji_set;
use crate::app::App;
use crate::error::Refusal;
use crate::store::files::Attached;
use crate::wire::info_of;
use kith_shared::api::ConversationId;
use kith_shared::frame::Content;
use kith_shared::{ErrorCode, UserId};

fn refusal(code: ErrorCode, message: impl Into<String>) -> Refusal {
    Refusal::new(code, message)
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
    // The message carrying it comes after this: who sees it may read the file.
    let last_seq = app.store.last_seq(conversation_id).await?;
    let row = match app.store.attach_upload(&upload_id, user_id, conversation_id, last_seq, ttl).await? {
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

//! Stored rows as the protocol shows them: one conversion per wire type, so that every route
//! and every pushed frame describe a user, a message or a file the same way.

use crate::store::files::UploadRow;
use crate::store::groups::GroupMemberRow;
use crate::store::{MessageRow, UserRow};
use kith_shared::UserId;
use kith_shared::api::{FileInfo, GroupId, UserProfile};
use kith_shared::codec::to_json;
use kith_shared::frame::{ChatMessage, Content};

/// The public view of an account.
pub fn profile_of(row: &UserRow) -> UserProfile {
    profile(row.id, &row.username, &row.display_name, row.avatar.as_deref())
}

/// The public view of a group member's account.
pub fn member_profile_of(row: &GroupMemberRow) -> UserProfile {
    profile(row.user_id, &row.username, &row.display_name, row.avatar.as_deref())
}

fn profile(id: UserId, username: &str, display_name: &str, avatar: Option<&str>) -> UserProfile {
    UserProfile {
        id,
        username: username.to_owned(),
        display_name: display_name.to_owned(),
        avatar_url: avatar.map(|file| avatar_url(id, file)),
    }
}

/// Where a user's avatar is fetched. The stored file's name (a new uuid per upload) versions
/// the address, so that a new picture is a new address for every cache.
pub fn avatar_url(user_id: UserId, stored_name: &str) -> String {
    format!("/api/users/{user_id}/avatar?v={}", version(stored_name))
}

/// Where a group's picture is fetched, versioned like a user's avatar.
pub fn group_avatar_url(group_id: GroupId, stored_name: &str) -> String {
    format!("/api/groups/{group_id}/avatar?v={}", version(stored_name))
}

/// The stored file's name without its extension: the uuid of the upload.
fn version(stored_name: &str) -> &str {
    stored_name.split('.').next().unwrap_or_default()
}

/// A stored message row as the wire shows it. Content that cannot be read shows as recalled.
pub fn message_of(row: &MessageRow) -> ChatMessage {
    ChatMessage {
        id: row.id,
        conversation_id: row.conversation_id,
        seq: row.seq,
        sender_id: row.sender_id,
        client_id: row.client_id.clone(),
        sent_at: row.sent_at,
        content: serde_json::from_str(&row.content).unwrap_or(Content::RECALLED),
        edited_at: row.edited_at,
        reactions: Vec::new(),
        forwarded_from: row.forwarded_from.as_deref().and_then(|json| serde_json::from_str(json).ok()),
        muted: false,
    }
}

/// The row that stores a message.
pub fn row_of(message: &ChatMessage) -> MessageRow {
    MessageRow {
        id: message.id,
        conversation_id: message.conversation_id,
        seq: message.seq,
        sender_id: message.sender_id,
        client_id: message.client_id.clone(),
        content: content_json(&message.content),
        sent_at: message.sent_at,
        edited_at: message.edited_at,
        forwarded_from: message
            .forwarded_from
            .as_ref()
            .map(|from| String::from_utf8_lossy(&to_json(from)).into_owned()),
    }
}

/// Message content as stored.
pub fn content_json(content: &Content) -> String {
    String::from_utf8_lossy(&to_json(content)).into_owned()
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

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn users_and_group_members_have_the_same_versioned_avatar_address() {
        let user = UserRow {
            id: 7,
            username: "ann".into(),
            display_name: "Ann".into(),
            password_hash: String::new(),
            avatar: Some("0b3e-uuid.png".into()),
            disabled: false,
        };
        let member = GroupMemberRow {
            user_id: 7,
            username: "ann".into(),
            display_name: "Ann".into(),
            avatar: Some("0b3e-uuid.png".into()),
            role: "member".into(),
            muted: false,
        };
        let expected = Some("/api/users/7/avatar?v=0b3e-uuid".to_owned());
        assert_eq!(profile_of(&user).avatar_url, expected);
        assert_eq!(member_profile_of(&member), profile_of(&user));
        assert_eq!(group_avatar_url(20, "0b3e-uuid.png"), "/api/groups/20/avatar?v=0b3e-uuid");
    }
}

//! Bodies of the HTTP API (`docs/api.md`). Every failed request answers with [`ApiError`].

use crate::{ErrorCode, UserId};
use serde::{Deserialize, Serialize};

/// Limits on account fields, checked by the server and usable by clients before sending.
pub mod limits {
    /// User names: 3 to 32 characters from `a-z`, `0-9`, `_`, `.` and `-`, starting with a letter.
    pub const USERNAME_MIN: usize = 3;
    pub const USERNAME_MAX: usize = 32;
    /// Display names: 1 to 64 characters, no control characters.
    pub const DISPLAY_NAME_MAX: usize = 64;
    /// Passwords: 8 to 256 bytes.
    pub const PASSWORD_MIN: usize = 8;
    pub const PASSWORD_MAX: usize = 256;
    /// Group names: 1 to 64 characters after trimming, no control characters.
    pub const GROUP_NAME_MAX: usize = 64;
    /// Group descriptions: at most 500 characters.
    pub const GROUP_DESCRIPTION_MAX: usize = 500;
    /// Group announcements: at most 1,000 characters.
    pub const GROUP_ANNOUNCEMENT_MAX: usize = 1000;
    /// The message of a friend request, a group application or an invitation: at most 200
    /// characters.
    pub const REQUEST_MESSAGE_MAX: usize = 200;
    /// Search pages (`limit`): 20 results unless asked, 1 to 50.
    pub const SEARCH_LIMIT_DEFAULT: u32 = 20;
    pub const SEARCH_LIMIT_MAX: u32 = 50;
    /// History pages (`limit`): 100 messages unless asked, 1 to 200.
    pub const HISTORY_LIMIT_DEFAULT: u32 = 100;
    pub const HISTORY_LIMIT_MAX: u32 = 200;
    /// The server's default `MAX_TEXT_CHARS`; the server in use announces its own in `welcome`.
    pub const TEXT_CHARS_DEFAULT: usize = 4000;
    /// The server's default `RECALL_WINDOW_SECS`; the server in use announces its own in
    /// `welcome`.
    pub const RECALL_WINDOW_SECS_DEFAULT: u64 = 120;
    /// The server's default `EDIT_WINDOW_SECS` (48 hours); the server in use announces its own
    /// in `welcome`.
    pub const EDIT_WINDOW_SECS_DEFAULT: u64 = 48 * 3600;
    /// The most members one text may mention by name.
    pub const MENTIONS_MAX: usize = 50;
}

/// The body of every failed HTTP request.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[cfg_attr(feature = "openapi", derive(utoipa::ToSchema))]
pub struct ApiError {
    pub code: ErrorCode,
    pub message: String,
}

/// `POST /api/register`
#[derive(Debug, Clone, Serialize, Deserialize)]
#[cfg_attr(feature = "openapi", derive(utoipa::ToSchema))]
pub struct RegisterRequest {
    #[cfg_attr(
        feature = "openapi",
        schema(min_length = 3, max_length = 32, pattern = "^[A-Za-z][A-Za-z0-9_.-]*$")
    )]
    pub username: String,
    #[cfg_attr(feature = "openapi", schema(min_length = 1, max_length = 64))]
    pub display_name: String,
    #[cfg_attr(feature = "openapi", schema(min_length = 8, max_length = 256))]
    pub password: String,
}

/// `POST /api/login`
#[derive(Debug, Clone, Serialize, Deserialize)]
#[cfg_attr(feature = "openapi", derive(utoipa::ToSchema))]
pub struct LoginRequest {
    pub username: String,
    pub password: String,
}

/// The answer to a successful login: the bearer token for HTTP and the socket hello.
#[derive(Debug, Clone, Serialize, Deserialize)]
#[cfg_attr(feature = "openapi", derive(utoipa::ToSchema))]
pub struct LoginResponse {
    pub token: String,
    pub user: UserProfile,
}

/// A user as others and the user see it. Never carries password or token data.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[cfg_attr(feature = "openapi", derive(utoipa::ToSchema))]
pub struct UserProfile {
    pub id: UserId,
    pub username: String,
    pub display_name: String,
    /// Path of the avatar image on the HTTP server (`/api/users/{id}/avatar`), if one is set.
    pub avatar_url: Option<String>,
}

/// `PATCH /api/me`: fields left out stay as they are.
#[derive(Debug, Clone, Default, Serialize, Deserialize)]
#[cfg_attr(feature = "openapi", derive(utoipa::ToSchema))]
pub struct UpdateProfileRequest {
    #[cfg_attr(feature = "openapi", schema(min_length = 1, max_length = 64))]
    pub display_name: Option<String>,
}

/// `POST /api/me/password`
#[derive(Debug, Clone, Serialize, Deserialize)]
#[cfg_attr(feature = "openapi", derive(utoipa::ToSchema))]
pub struct ChangePasswordRequest {
    pub old_password: String,
    #[cfg_attr(feature = "openapi", schema(min_length = 8, max_length = 256))]
    pub new_password: String,
}

/// `GET /health`
#[derive(Debug, Clone, Serialize, Deserialize)]
#[cfg_attr(feature = "openapi", derive(utoipa::ToSchema))]
pub struct Health {
    /// `ok` when the database answers, `degraded` otherwise.
    pub status: String,
    pub database: bool,
    pub version: String,
    pub protocol_version: u32,
    /// Whether the HTTP API and the socket speak TLS. Absent from older servers: false.
    #[serde(default)]
    pub tls: bool,
}

/// Query of the search routes: `?q=TEXT&offset=N&limit=N` (limit at most 50, default 20).
#[derive(Debug, Clone, Default, Serialize, Deserialize)]
#[cfg_attr(feature = "openapi", derive(utoipa::IntoParams), into_params(parameter_in = Query))]
pub struct SearchQuery {
    /// Text the names contain; empty lists everything (groups) or nothing (users).
    #[serde(default)]
    pub q: String,
    /// Results to skip.
    #[serde(default)]
    #[cfg_attr(feature = "openapi", param(value_type = i64, minimum = 0, maximum = 4294967295_i64))]
    pub offset: u32,
    /// Results in the page: 1 to 50, 20 when left out.
    #[cfg_attr(feature = "openapi", param(minimum = 1, maximum = 50))]
    pub limit: Option<u32>,
}

/// Identifies a conversation: a one-to-one chat between two friends or a group's chat.
pub type ConversationId = i64;
/// A group's id is the id of its conversation.
pub type GroupId = ConversationId;

/// A user found by `GET /api/users/search`.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[cfg_attr(feature = "openapi", derive(utoipa::ToSchema))]
pub struct UserSearchHit {
    pub user: UserProfile,
    pub is_friend: bool,
}

/// A friend as listed by `GET /api/friends` and pushed in `friend_added`.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[cfg_attr(feature = "openapi", derive(utoipa::ToSchema))]
pub struct Friend {
    pub user: UserProfile,
    pub online: bool,
    /// The one-to-one conversation with this friend.
    pub conversation_id: ConversationId,
}

/// Someone the caller blocks, as listed by `GET /api/blocks`.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[cfg_attr(feature = "openapi", derive(utoipa::ToSchema))]
pub struct BlockedUser {
    pub user: UserProfile,
    /// When the block began (milliseconds since the Unix epoch).
    pub blocked_at: i64,
}

/// `POST /api/friend-requests`
#[derive(Debug, Clone, Serialize, Deserialize)]
#[cfg_attr(feature = "openapi", derive(utoipa::ToSchema))]
pub struct SendFriendRequest {
    pub to: UserId,
    /// The verification message shown to the addressee (at most 200 characters).
    #[serde(default)]
    #[cfg_attr(feature = "openapi", schema(max_length = 200))]
    pub message: String,
}

/// A pending friend request.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[cfg_attr(feature = "openapi", derive(utoipa::ToSchema))]
pub struct FriendRequest {
    pub id: i64,
    pub from: UserProfile,
    pub to: UserProfile,
    pub message: String,
    pub created_at: i64,
}

/// The answer to `POST /api/friend-requests`: the request is pending, or the addressee had
/// already asked the sender and the two are now friends.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[cfg_attr(feature = "openapi", derive(utoipa::ToSchema))]
#[serde(tag = "outcome", rename_all = "snake_case")]
pub enum FriendRequestOutcome {
    Pending { request: FriendRequest },
    BecameFriends { friend: Friend },
}

/// `GET /api/friend-requests`
#[derive(Debug, Clone, Default, PartialEq, Eq, Serialize, Deserialize)]
#[cfg_attr(feature = "openapi", derive(utoipa::ToSchema))]
pub struct FriendRequests {
    pub incoming: Vec<FriendRequest>,
    pub outgoing: Vec<FriendRequest>,
}

/// A member's role in a group.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize)]
#[cfg_attr(feature = "openapi", derive(utoipa::ToSchema))]
#[serde(rename_all = "snake_case")]
pub enum Role {
    Owner,
    Admin,
    Member,
}

impl Role {
    pub fn as_str(self) -> &'static str {
        match self {
            Role::Owner => "owner",
            Role::Admin => "admin",
            Role::Member => "member",
        }
    }

    pub fn parse(text: &str) -> Option<Self> {
        match text {
            "owner" => Some(Role::Owner),
            "admin" => Some(Role::Admin),
            "member" => Some(Role::Member),
            _ => None,
        }
    }

    /// Owners and admins approve applications and remove members.
    pub fn can_moderate(self) -> bool {
        matches!(self, Role::Owner | Role::Admin)
    }
}

/// `POST /api/groups`
#[derive(Debug, Clone, Serialize, Deserialize)]
#[cfg_attr(feature = "openapi", derive(utoipa::ToSchema))]
pub struct CreateGroupRequest {
    /// 1 to 64 characters.
    #[cfg_attr(feature = "openapi", schema(min_length = 1, max_length = 64))]
    pub name: String,
    /// At most 500 characters.
    #[serde(default)]
    #[cfg_attr(feature = "openapi", schema(max_length = 500))]
    pub description: String,
}

/// `PATCH /api/groups/{id}` (owner and admins): fields left out stay as they are.
#[derive(Debug, Clone, Default, Serialize, Deserialize)]
#[cfg_attr(feature = "openapi", derive(utoipa::ToSchema))]
pub struct UpdateGroupRequest {
    #[cfg_attr(feature = "openapi", schema(min_length = 1, max_length = 64))]
    pub name: Option<String>,
    #[cfg_attr(feature = "openapi", schema(max_length = 500))]
    pub description: Option<String>,
    /// The pinned notice shown at the top of the group's chat; empty clears it.
    #[cfg_attr(feature = "openapi", schema(max_length = 1000))]
    pub announcement: Option<String>,
}

/// A group's announcement: a notice its owner or an admin pinned at the top of its chat.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[cfg_attr(feature = "openapi", derive(utoipa::ToSchema))]
pub struct Announcement {
    pub text: String,
    /// Who set it, and their display name now.
    pub set_by: UserId,
    pub set_by_name: String,
    /// When it was set (milliseconds since the Unix epoch).
    pub set_at: i64,
}

/// A group as anyone may see it (`GET /api/groups/{id}`, search), and as its members see it
/// (with its announcement).
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[cfg_attr(feature = "openapi", derive(utoipa::ToSchema))]
pub struct GroupProfile {
    pub id: GroupId,
    pub name: String,
    pub description: String,
    pub owner_id: UserId,
    pub member_count: u32,
    pub created_at: i64,
    /// The pinned notice, if one is set: only in what the group's members get (their group
    /// list, `group_joined`, `group_updated`, the profile fetched by a member); null for
    /// anyone else, in search results and in requests (boxed: most groups have none).
    #[serde(default)]
    pub announcement: Option<Box<Announcement>>,
    /// Path of the group's picture on the HTTP server (`/api/groups/{id}/avatar?v=…`), if
    /// one is set. A new picture has a new path.
    #[serde(default)]
    pub avatar_url: Option<String>,
}

/// One of the caller's groups (`GET /api/groups`, pushed in `group_joined`).
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[cfg_attr(feature = "openapi", derive(utoipa::ToSchema))]
pub struct MyGroup {
    pub group: GroupProfile,
    pub role: Role,
    pub muted: bool,
}

/// A group member (`GET /api/groups/{id}/members`).
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[cfg_attr(feature = "openapi", derive(utoipa::ToSchema))]
pub struct GroupMember {
    pub user: UserProfile,
    pub role: Role,
    pub online: bool,
}

/// `POST /api/groups/{id}/applications` (apply to join) and
/// `POST /api/groups/{id}/invitations` (invite a friend: `user_id` is required).
#[derive(Debug, Clone, Default, Serialize, Deserialize)]
#[cfg_attr(feature = "openapi", derive(utoipa::ToSchema))]
pub struct GroupRequestBody {
    pub user_id: Option<UserId>,
    #[serde(default)]
    #[cfg_attr(feature = "openapi", schema(max_length = 200))]
    pub message: String,
}

/// Whether a group request is someone asking to join or a member inviting someone.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize)]
#[cfg_attr(feature = "openapi", derive(utoipa::ToSchema))]
#[serde(rename_all = "snake_case")]
pub enum GroupRequestKind {
    Application,
    Invitation,
}

/// A pending application or invitation.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[cfg_attr(feature = "openapi", derive(utoipa::ToSchema))]
pub struct GroupRequest {
    pub id: i64,
    pub kind: GroupRequestKind,
    pub group: GroupProfile,
    /// Who would join.
    pub user: UserProfile,
    /// Who invited (invitations only).
    pub inviter: Option<UserProfile>,
    pub message: String,
    pub created_at: i64,
}

/// `GET /api/group-requests`: applications to groups the caller moderates and invitations
/// addressed to the caller.
#[derive(Debug, Clone, Default, PartialEq, Eq, Serialize, Deserialize)]
#[cfg_attr(feature = "openapi", derive(utoipa::ToSchema))]
pub struct GroupRequests {
    pub applications: Vec<GroupRequest>,
    pub invitations: Vec<GroupRequest>,
}

/// `PUT /api/groups/{id}/members/{user_id}/role`
#[derive(Debug, Clone, Serialize, Deserialize)]
#[cfg_attr(feature = "openapi", derive(utoipa::ToSchema))]
pub struct SetRoleRequest {
    /// `admin` or `member`; ownership moves with `POST /api/groups/{id}/owner`.
    pub role: Role,
}

/// `POST /api/groups/{id}/owner`
#[derive(Debug, Clone, Serialize, Deserialize)]
#[cfg_attr(feature = "openapi", derive(utoipa::ToSchema))]
pub struct TransferOwnershipRequest {
    pub user_id: UserId,
}

/// `PUT /api/groups/{id}/mute`
#[derive(Debug, Clone, Serialize, Deserialize)]
#[cfg_attr(feature = "openapi", derive(utoipa::ToSchema))]
pub struct MuteRequest {
    pub muted: bool,
}

/// A conversation as `GET /api/conversations` and the socket's `sync_state` list it.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[cfg_attr(feature = "openapi", derive(utoipa::ToSchema))]
pub struct ConversationState {
    pub conversation_id: ConversationId,
    pub kind: ConversationKind,
    /// For one-to-one chats, the other person.
    pub peer_id: Option<UserId>,
    /// Sequence number of the newest message (0 when there is none).
    pub last_seq: i64,
    /// History up to this sequence number is not shown to the user (a group joined late):
    /// their first visible message is `joined_seq + 1`.
    #[serde(default)]
    pub joined_seq: i64,
    /// The caller's cursors.
    pub delivered_seq: i64,
    pub read_seq: i64,
    /// Messages from others after `read_seq`.
    pub unread: i64,
    pub muted: bool,
    /// How the caller's lists show it (absent from older servers: all false).
    #[serde(default)]
    pub pinned: bool,
    #[serde(default)]
    pub archived: bool,
    #[serde(default)]
    pub marked_unread: bool,
    /// How many of its messages the caller deleted for themselves ("delete for me"): a client
    /// holding fewer fetches the list (`GET /api/conversations/{id}/hidden`). Absent: 0.
    #[serde(default, skip_serializing_if = "is_zero")]
    pub hidden: u64,
}

fn is_zero(count: &u64) -> bool {
    *count == 0
}

/// `GET /api/conversations/{id}/hidden`: the messages the caller deleted for themselves.
#[derive(Debug, Clone, Default, PartialEq, Eq, Serialize, Deserialize)]
#[cfg_attr(feature = "openapi", derive(utoipa::ToSchema))]
pub struct HiddenMessages {
    /// Their sequence numbers, ascending.
    pub seqs: Vec<i64>,
}

/// How a member's lists show a conversation, the same on every device of theirs: pinned to
/// the top, archived out of the main list, or marked unread to come back to it.
#[derive(Debug, Clone, Copy, Default, PartialEq, Eq, Serialize, Deserialize)]
#[cfg_attr(feature = "openapi", derive(utoipa::ToSchema))]
pub struct ConversationPrefs {
    pub pinned: bool,
    pub archived: bool,
    pub marked_unread: bool,
}

/// `PATCH /api/conversations/{id}`: what to change of the caller's [`ConversationPrefs`];
/// absent fields stay as they are.
#[derive(Debug, Clone, Default, PartialEq, Eq, Serialize, Deserialize)]
#[cfg_attr(feature = "openapi", derive(utoipa::ToSchema))]
pub struct UpdateConversation {
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub pinned: Option<bool>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub archived: Option<bool>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub marked_unread: Option<bool>,
}

#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize)]
#[cfg_attr(feature = "openapi", derive(utoipa::ToSchema))]
#[serde(rename_all = "snake_case")]
pub enum ConversationKind {
    Direct,
    Group,
}

/// Query of `GET /api/conversations/{id}/messages`: `?after=SEQ` pages forwards (oldest
/// first), `?before=SEQ` pages backwards (newest first); `limit` at most 200, default 100.
#[derive(Debug, Clone, Default, Serialize, Deserialize)]
#[cfg_attr(feature = "openapi", derive(utoipa::IntoParams), into_params(parameter_in = Query))]
pub struct HistoryQuery {
    /// Messages after this sequence number, oldest first.
    #[cfg_attr(feature = "openapi", param(minimum = 0))]
    pub after: Option<i64>,
    /// Messages before this sequence number, newest first.
    #[cfg_attr(feature = "openapi", param(minimum = 0))]
    pub before: Option<i64>,
    /// Messages in the page: 1 to 200, 100 when left out.
    #[cfg_attr(feature = "openapi", param(minimum = 1, maximum = 200))]
    pub limit: Option<u32>,
}

/// A page of history.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
#[cfg_attr(feature = "openapi", derive(utoipa::ToSchema))]
pub struct HistoryPage {
    pub messages: Vec<crate::frame::ChatMessage>,
    /// True when more messages lie beyond this page in the direction asked.
    pub more: bool,
}

/// Per-member cursors of a conversation (`GET /api/conversations/{id}/receipts`), from
/// which a client counts who has read a message.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[cfg_attr(feature = "openapi", derive(utoipa::ToSchema))]
pub struct MemberCursor {
    pub user_id: UserId,
    pub delivered_seq: i64,
    pub read_seq: i64,
}

/// Query of `POST /api/files?name=NAME`: the file's name, metadata only (1-255 bytes, no
/// `/`, `\` or control characters). The body is the file's bytes.
#[derive(Debug, Clone, Default, Serialize, Deserialize)]
#[cfg_attr(feature = "openapi", derive(utoipa::IntoParams), into_params(parameter_in = Query))]
pub struct UploadQuery {
    /// The file's name (1-255 bytes, no `/`, `\` or control characters).
    #[serde(default)]
    #[cfg_attr(feature = "openapi", param(required = true, min_length = 1, max_length = 255))]
    pub name: String,
}

/// The server's emoji set (`GET /api/emoji`): pictures at `/static/emoji/<image>`.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[cfg_attr(feature = "openapi", derive(utoipa::ToSchema))]
pub struct EmojiManifest {
    #[serde(default)]
    pub source: String,
    /// The pictures' side in pixels.
    #[serde(default)]
    pub image_size: u32,
    pub emoji: Vec<EmojiEntry>,
}

/// One emoji of the set.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[cfg_attr(feature = "openapi", derive(utoipa::ToSchema))]
pub struct EmojiEntry {
    /// Code points in lowercase hex joined by `-` (`1f44d`, `1f1e9-1f1ea`); a sticker's code.
    pub code: String,
    /// The emoji as text.
    pub char: String,
    pub name: String,
    #[serde(default)]
    pub short_name: String,
    #[serde(default)]
    pub keywords: Vec<String>,
    #[serde(default)]
    pub category: String,
    /// The picture's file name under `/static/emoji/`.
    pub image: String,
    /// SHA-256 of the picture, lowercase hex, for caches.
    #[serde(default)]
    pub sha256: String,
}

/// An upload as `POST /api/files` answers and `GET /api/files/{id}` describes it. Send it in
/// a message as `{"type":"image","upload_id":ID}` (images) or `{"type":"file","upload_id":ID}`.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[cfg_attr(feature = "openapi", derive(utoipa::ToSchema))]
pub struct FileInfo {
    /// The upload id (a uuid).
    pub id: String,
    pub name: String,
    pub size: u64,
    /// Content type from the name; checked against the first bytes for images.
    pub mime: String,
    /// Images only: size in pixels and the thumbnail's id (`GET /api/files/{id}/thumbnail`).
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub width: Option<u32>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub height: Option<u32>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub thumbnail_id: Option<String>,
    pub uploader_id: UserId,
    /// The conversation it was sent to; None until it is attached to a message.
    #[serde(default)]
    pub conversation_id: Option<ConversationId>,
    /// Unix milliseconds after which the server deletes the file.
    pub expires_at: i64,
    /// True once the server has deleted the file (fetched by every receiver, or expired):
    /// downloads then answer 410 `expired`.
    pub expired: bool,
}

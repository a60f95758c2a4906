//! Frames of the realtime socket. Each is a JSON object whose `type` field names it
//! (snake_case); the other fields are the variant's.

use crate::api::{
    BlockedUser, ConversationId, ConversationPrefs, ConversationState, Friend, FriendRequest, GroupId,
    GroupMember, GroupProfile, GroupRequest, MyGroup, UserProfile,
};
use crate::{ErrorCode, UserId};
use serde::{Deserialize, Serialize};

/// Frames a client sends.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
#[serde(tag = "type", rename_all = "snake_case")]
pub enum ClientFrame {
    /// Must be the first frame: the protocol version and the token from `POST /api/login`.
    Hello { version: u32, token: String },
    /// Asks the server for a `pong` with the same nonce.
    Ping { nonce: u64 },
    /// The answer to the server's `ping`.
    Pong { nonce: u64 },
    /// Sends a message. `client_id` is a fresh uuid chosen by the client; resending the same
    /// id returns the first `ack` and stores nothing new.
    Send { client_id: String, to: Target, content: Content },
    /// The caller has received (`delivered`) or seen (`read`) the conversation up to `seq`.
    Receipt { conversation_id: ConversationId, kind: ReceiptKind, seq: i64 },
    /// The caller is typing in the conversation (not stored; at most one per 2 seconds).
    Typing { conversation_id: ConversationId },
    /// Recalls one of the caller's own messages within the server's recall window.
    Recall { conversation_id: ConversationId, seq: i64 },
    /// Replaces the text of the caller's own text message `seq` within the server's edit
    /// window. Answered like a `send`: an `ack` with this `client_id` once the edit is stored
    /// (resending the same id stores nothing new), or an `error` with it as `reference`.
    Edit { client_id: String, conversation_id: ConversationId, seq: i64, text: String },
    /// Puts (`on: true`) or takes back (`on: false`) the caller's reaction `emoji` (one emoji)
    /// on message `seq`. Answered like a `send`: an `ack` with this `client_id` once stored,
    /// or an `error` with it as `reference`. See "Reactions" in docs/protocol.md.
    React { client_id: String, conversation_id: ConversationId, seq: i64, emoji: String, on: bool },
    /// Deletes messages `seqs` (any sender's) from the caller's own view, on all their devices:
    /// answered by `messages_hidden` to each of the caller's connections.
    Hide { conversation_id: ConversationId, seqs: Vec<i64> },
    /// A group's owner or an admin deletes a member's message for everyone: a recall made by
    /// a moderator, with no time limit.
    Delete { conversation_id: ConversationId, seq: i64 },
    /// Sends a copy of message `seq` of conversation `conversation_id` (one the caller sees:
    /// a text, picture, file or sticker) to a friend or group, marked with whose message it
    /// was. A file is shared, not uploaded again, while the server still holds it. Answered
    /// like a `send`: an `ack` with this `client_id`, then the stored copy as a `message` to
    /// every member, the caller's own connections included.
    Forward { client_id: String, conversation_id: ConversationId, seq: i64, to: Target },
}

/// Where a message goes.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize)]
#[serde(tag = "kind", rename_all = "snake_case")]
pub enum Target {
    /// A friend, by user id: the one-to-one conversation with them.
    User { id: UserId },
    /// A group the caller belongs to.
    Group { id: GroupId },
}

#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum ReceiptKind {
    Delivered,
    Read,
}

/// What a message holds. Clients send `text`; the others are made by the server.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[cfg_attr(feature = "openapi", derive(utoipa::ToSchema))]
#[serde(tag = "type", rename_all = "snake_case")]
pub enum Content {
    /// Text, emoji included (Unicode).
    Text {
        text: String,
        /// A reply: the `seq` of the quoted message in the same conversation.
        #[serde(default, skip_serializing_if = "Option::is_none")]
        reply_to: Option<i64>,
        /// Made by the server for an `edit`: this message carries the new text of message
        /// `edit_of` of the conversation. A client that knows it applies the text there and
        /// does not show this message; an older one shows it as a text message.
        #[serde(default, skip_serializing_if = "Option::is_none")]
        edit_of: Option<i64>,
        /// Made by the server for a `react`: the sender put (`on`) or took back the reaction
        /// `text` (one emoji) on message `seq`. A client that knows it changes that message's
        /// reactions and does not show this message; an older one shows it as a text message.
        #[serde(default, skip_serializing_if = "Option::is_none")]
        reaction_of: Option<ReactionOf>,
        /// In a group: the members this text calls out; they are notified even when they
        /// muted the group. Absent when none. See "Mentions" in docs/protocol.md.
        #[serde(default, skip_serializing_if = "Mentions::is_empty")]
        mentions: Mentions,
    },
    /// The message `seq` of this conversation was recalled: replace its copy by a marker.
    /// `by` names the moderator when a group's owner or admin deleted it for everyone.
    Recall {
        seq: i64,
        #[serde(default, skip_serializing_if = "Option::is_none")]
        by: Option<Moderator>,
    },
    /// A recalled message as history returns it; `by` as in `recall`.
    Recalled {
        #[serde(default, skip_serializing_if = "Option::is_none")]
        by: Option<Moderator>,
    },
    /// A group event shown in the conversation.
    Notice { notice: Notice },
    /// An image uploaded with `POST /api/files`. The client sends only `upload_id`
    /// (`{"type":"image","upload_id":"…"}`); the server fills in the rest from the upload.
    Image {
        upload_id: String,
        #[serde(default)]
        name: String,
        #[serde(default)]
        size: u64,
        #[serde(default)]
        mime: String,
        #[serde(default)]
        width: u32,
        #[serde(default)]
        height: u32,
        /// The thumbnail's id, for caching; fetch it at `/api/files/{upload_id}/thumbnail`.
        #[serde(default)]
        thumbnail_id: String,
    },
    /// Any file uploaded with `POST /api/files`. Like `image`, the client sends only `upload_id`.
    File {
        upload_id: String,
        #[serde(default)]
        name: String,
        #[serde(default)]
        size: u64,
        #[serde(default)]
        mime: String,
    },
    /// A picture of the emoji set (`GET /api/emoji`), by its manifest code, e.g. `1f600`.
    Sticker { code: String },
}

/// What a reaction message does: `{"seq": 5, "on": true}`.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize)]
#[cfg_attr(feature = "openapi", derive(utoipa::ToSchema))]
pub struct ReactionOf {
    /// The message reacted to, in the same conversation.
    pub seq: i64,
    /// True: the reaction was put; false: taken back.
    pub on: bool,
}

/// Whom a group text mentions: `{"user_ids": [4, 7]}`, or `{"all": true}` for every member
/// (the group's owner and admins only). Each part is absent when empty.
#[derive(Debug, Clone, Default, PartialEq, Eq, Serialize, Deserialize)]
#[cfg_attr(feature = "openapi", derive(utoipa::ToSchema))]
pub struct Mentions {
    /// The members mentioned by name, each once.
    #[serde(default, skip_serializing_if = "Vec::is_empty")]
    pub user_ids: Vec<UserId>,
    /// `@all`: every member is mentioned.
    #[serde(default, skip_serializing_if = "std::ops::Not::not")]
    pub all: bool,
}

impl Mentions {
    /// Nobody is mentioned.
    pub fn is_empty(&self) -> bool {
        self.user_ids.is_empty() && !self.all
    }

    /// True when `user_id` is mentioned, by name or through `@all`.
    pub fn includes(&self, user_id: UserId) -> bool {
        self.all || self.user_ids.contains(&user_id)
    }
}

/// One emoji's reactions on a message, as history returns them.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[cfg_attr(feature = "openapi", derive(utoipa::ToSchema))]
pub struct Reactions {
    pub emoji: String,
    /// Who reacted with it, in the order they did.
    pub user_ids: Vec<UserId>,
}

/// Who deleted a message for everyone as a group's moderator, with their display name then.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[cfg_attr(feature = "openapi", derive(utoipa::ToSchema))]
pub struct Moderator {
    pub user_id: UserId,
    pub name: String,
}

/// Group events that appear in a group's conversation.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[cfg_attr(feature = "openapi", derive(utoipa::ToSchema))]
#[serde(tag = "event", rename_all = "snake_case")]
pub enum Notice {
    Created { user_id: UserId, name: String },
    Joined { user_id: UserId, name: String },
    Left { user_id: UserId, name: String },
    Removed { user_id: UserId, name: String, by: UserId },
    OwnerChanged { user_id: UserId, name: String },
    Dissolved { by: UserId },
}

/// A stored message.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[cfg_attr(feature = "openapi", derive(utoipa::ToSchema))]
pub struct ChatMessage {
    /// The server's id, unique across conversations.
    pub id: i64,
    pub conversation_id: ConversationId,
    /// 1, 2, 3, ... within the conversation, without gaps.
    pub seq: i64,
    /// None for server notices.
    pub sender_id: Option<UserId>,
    /// The sender's client id, for matching the sender's own copy.
    pub client_id: Option<String>,
    /// Server time, Unix milliseconds.
    pub sent_at: i64,
    pub content: Content,
    /// When the text was last edited (Unix milliseconds); absent when it never was.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub edited_at: Option<i64>,
    /// The reactions on this message, in history pages (absent when none; pushed messages
    /// carry none: reactions come as reaction messages).
    #[serde(default, skip_serializing_if = "Vec::is_empty")]
    pub reactions: Vec<Reactions>,
    /// Set on a forwarded message: who wrote the original.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub forwarded_from: Option<Forwarded>,
    /// True when the receiver muted this group: no sound, no badge.
    #[serde(default, skip_serializing_if = "std::ops::Not::not")]
    pub muted: bool,
}

/// Whose message a forwarded one first was (a forward of a forward names the first author).
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[cfg_attr(feature = "openapi", derive(utoipa::ToSchema))]
pub struct Forwarded {
    /// The author's account; absent for a server notice.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub user_id: Option<UserId>,
    /// The author's display name when the message was forwarded.
    pub name: String,
}

/// Frames the server sends.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
#[serde(tag = "type", rename_all = "snake_case")]
pub enum ServerFrame {
    /// The hello was accepted.
    Welcome {
        user: UserProfile,
        server_version: String,
        protocol_version: u32,
        /// The server pings this often; a peer silent for three intervals is dropped.
        heartbeat_secs: u32,
        /// The most characters (Unicode scalar values) a text message may have.
        #[serde(default = "default_max_text_chars")]
        max_text_chars: usize,
        /// For how long after sending a text message its sender may recall it.
        #[serde(default = "default_recall_window_secs")]
        recall_window_secs: u64,
        /// For how long after sending a text message its sender may edit it.
        #[serde(default = "default_edit_window_secs")]
        edit_window_secs: u64,
    },
    /// Something the client sent was refused. `reference` repeats the client's id for the
    /// request concerned, when it had one.
    Error {
        code: ErrorCode,
        message: String,
        #[serde(default, skip_serializing_if = "Option::is_none")]
        reference: Option<String>,
    },
    /// The server closes this connection for the reason given; do not reconnect on your own
    /// for `logged_in_elsewhere` or `logged_out`.
    Kicked { reason: KickReason, message: String },
    /// The server is shutting down; reconnect later.
    GoingAway { message: String },
    /// Answer with a `pong` carrying the same nonce.
    Ping { nonce: u64 },
    /// The answer to the client's `ping`.
    Pong { nonce: u64 },
    /// Sent right after `welcome`: every conversation with its newest sequence number and
    /// the caller's cursors, and the requests that await the caller. See the sync algorithm
    /// in docs/protocol.md.
    SyncState {
        conversations: Vec<ConversationState>,
        friend_requests: Vec<FriendRequest>,
        group_requests: Vec<GroupRequest>,
    },
    /// The message with this `client_id` is stored (sent only after the write committed).
    Ack { client_id: String, message_id: i64, conversation_id: ConversationId, seq: i64, sent_at: i64 },
    /// A new message in one of the caller's conversations (the caller's own included, for
    /// their other devices).
    Message { message: ChatMessage },
    /// A member's cursors moved.
    ReceiptUpdated { conversation_id: ConversationId, user_id: UserId, delivered_seq: i64, read_seq: i64 },
    /// Someone is typing.
    Typing { conversation_id: ConversationId, user_id: UserId },
    /// A friend or fellow group member came online or went offline.
    Presence { user_id: UserId, online: bool },
    /// A friend or fellow group member (or the caller, on another device) changed their
    /// display name or avatar.
    ProfileUpdated { user: UserProfile },
    /// Someone asks to be the caller's friend.
    FriendRequestReceived { request: FriendRequest },
    /// The caller's friend request was refused (acceptance arrives as `friend_added`).
    FriendRequestRefused { request_id: i64, by: UserId },
    /// A request to the caller was withdrawn by its sender.
    FriendRequestCancelled { request_id: i64 },
    /// A new friend (both sides receive it).
    FriendAdded { friend: Friend },
    /// A friendship ended (both sides receive it).
    FriendRemoved { user_id: UserId },
    /// An application to a group the caller moderates, or an invitation for the caller
    /// (boxed: the largest frame by far, and a rare one).
    GroupRequestReceived { request: Box<GroupRequest> },
    /// A request concerning the caller was answered or withdrawn.
    GroupRequestClosed { request_id: i64, group_id: GroupId, accepted: bool },
    /// The caller is now a member of this group.
    GroupJoined { group: MyGroup },
    /// The caller is no longer a member: they left, were removed, or the group was dissolved.
    GroupLeft { group_id: GroupId, reason: LeaveReason },
    /// A member joined or their role changed.
    GroupMemberUpdated { group_id: GroupId, member: GroupMember },
    /// A member left or was removed.
    GroupMemberRemoved { group_id: GroupId, user_id: UserId },
    /// The group's name, description, announcement or owner changed.
    GroupUpdated { group: GroupProfile },
    /// The caller pinned, archived or marked a conversation unread (on any of their devices).
    ConversationUpdated { conversation_id: ConversationId, prefs: ConversationPrefs },
    /// The caller deleted these messages for themselves (on any of their devices): drop them.
    MessagesHidden { conversation_id: ConversationId, seqs: Vec<i64> },
    /// The caller blocked this person (on any of their devices): the entry their block list
    /// gains. The blocked person is never told.
    UserBlocked { blocked: BlockedUser },
    /// The caller lifted their block of this person (on any of their devices).
    UserUnblocked { user_id: UserId },
}

/// Why the caller left a group.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum LeaveReason {
    Left,
    Removed,
    Dissolved,
}

/// Why the server closed a connection with a `kicked` frame.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum KickReason {
    /// The same account logged in on another client.
    LoggedInElsewhere,
    /// The token was revoked (log out, password change).
    LoggedOut,
    /// The client did not read its frames fast enough; reconnect and sync.
    TooSlow,
}

fn default_max_text_chars() -> usize {
    crate::api::limits::TEXT_CHARS_DEFAULT
}

fn default_recall_window_secs() -> u64 {
    crate::api::limits::RECALL_WINDOW_SECS_DEFAULT
}

fn default_edit_window_secs() -> u64 {
    crate::api::limits::EDIT_WINDOW_SECS_DEFAULT
}

impl Content {
    /// Plain text content, neither a reply nor an edit.
    pub fn text(text: impl Into<String>) -> Self {
        Content::Text {
            text: text.into(),
            reply_to: None,
            edit_of: None,
            reaction_of: None,
            mentions: Mentions::default(),
        }
    }

    /// True when this is a text people see (not an edit or a reaction) that mentions
    /// `user_id`.
    pub fn mentions(&self, user_id: UserId) -> bool {
        matches!(self, Content::Text { edit_of: None, reaction_of: None, mentions, .. } if mentions.includes(user_id))
    }
}

impl Content {
    /// The marker of a message its sender recalled.
    pub const RECALLED: Content = Content::Recalled { by: None };
}

impl ServerFrame {
    /// An error frame with no reference.
    pub fn error(code: ErrorCode, message: impl Into<String>) -> Self {
        ServerFrame::Error { code, message: message.into(), reference: None }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn hello_has_documented_shape() {
        let frame = ClientFrame::Hello { version: 1, token: "abc".into() };
        let json = serde_json::to_value(&frame).expect("serialise");
        assert_eq!(json, serde_json::json!({"type": "hello", "version": 1, "token": "abc"}));
    }

    #[test]
    fn kicked_round_trips() {
        let frame =
            ServerFrame::Kicked { reason: KickReason::LoggedInElsewhere, message: "elsewhere".into() };
        let text = serde_json::to_string(&frame).expect("serialise");
        assert!(text.contains("\"reason\":\"logged_in_elsewhere\""), "{text}");
        let back: ServerFrame = serde_json::from_str(&text).expect("parse");
        assert_eq!(back, frame);
    }

    #[test]
    fn block_frames_have_documented_shape() {
        let carol =
            UserProfile { id: 9, username: "carol".into(), display_name: "Carol".into(), avatar_url: None };
        let blocked =
            ServerFrame::UserBlocked { blocked: BlockedUser { user: carol, blocked_at: 1_800_000_000_000 } };
        let json = serde_json::to_value(&blocked).expect("serialise");
        assert_eq!(
            json,
            serde_json::json!({"type": "user_blocked", "blocked": {"user": {"id": 9, "username": "carol",
                "display_name": "Carol", "avatar_url": null}, "blocked_at": 1_800_000_000_000_i64}})
        );
        let unblocked = ServerFrame::UserUnblocked { user_id: 9 };
        let json = serde_json::to_value(&unblocked).expect("serialise");
        assert_eq!(json, serde_json::json!({"type": "user_unblocked", "user_id": 9}));
        for frame in [blocked, unblocked] {
            let back: ServerFrame =
                serde_json::from_str(&serde_json::to_string(&frame).expect("serialise")).expect("parse");
            assert_eq!(back, frame);
        }
    }

    #[test]
    fn a_client_image_needs_only_the_upload_id() {
        let content: Content = serde_json::from_str(r#"{"type":"image","upload_id":"u1"}"#).expect("parse");
        assert!(matches!(content, Content::Image { upload_id, width: 0, .. } if upload_id == "u1"));
        let content: Content = serde_json::from_str(r#"{"type":"sticker","code":"1f600"}"#).expect("parse");
        assert_eq!(content, Content::Sticker { code: "1f600".into() });
    }

    #[test]
    fn a_moderators_delete_reads_as_a_plain_recall_without_the_name() {
        let by = Some(Moderator { user_id: 4, name: "Ann".into() });
        let marker = serde_json::to_value(Content::Recalled { by: by.clone() }).expect("serialise");
        assert_eq!(marker, serde_json::json!({"type": "recalled", "by": {"user_id": 4, "name": "Ann"}}));
        // Recalled by its sender: the shape older clients know.
        assert_eq!(
            serde_json::to_value(Content::RECALLED).expect("serialise"),
            serde_json::json!({"type": "recalled"})
        );
        let plain: Content = serde_json::from_str(r#"{"type":"recall","seq":3}"#).expect("parse");
        assert_eq!(plain, Content::Recall { seq: 3, by: None });
        let hide: ClientFrame =
            serde_json::from_str(r#"{"type":"hide","conversation_id":3,"seqs":[5,6]}"#).expect("parse");
        assert_eq!(hide, ClientFrame::Hide { conversation_id: 3, seqs: vec![5, 6] });
    }

    #[test]
    fn older_readers_take_a_moderators_delete_for_a_recall() {
        // The content type as clients before moderation knew it.
        #[derive(Debug, PartialEq, Deserialize)]
        #[serde(tag = "type", rename_all = "snake_case")]
        enum Before {
            Recall { seq: i64 },
            Recalled,
        }
        let by = Some(Moderator { user_id: 4, name: "Ann".into() });
        let marker = serde_json::to_string(&Content::Recalled { by: by.clone() }).expect("serialise");
        let event = serde_json::to_string(&Content::Recall { seq: 2, by }).expect("serialise");
        assert_eq!(serde_json::from_str::<Before>(&marker).expect("parse"), Before::Recalled);
        assert_eq!(serde_json::from_str::<Before>(&event).expect("parse"), Before::Recall { seq: 2 });
    }

    #[test]
    fn mentions_are_left_out_when_empty_and_ignored_by_older_readers() {
        let plain = serde_json::to_value(Content::text("hi")).expect("serialise");
        assert_eq!(plain, serde_json::json!({"type": "text", "text": "hi"}));
        let content = Content::Text {
            text: "@Ann @all look".into(),
            reply_to: None,
            edit_of: None,
            reaction_of: None,
            mentions: Mentions { user_ids: vec![4], all: true },
        };
        let json = serde_json::to_value(&content).expect("serialise");
        assert_eq!(
            json,
            serde_json::json!({"type": "text", "text": "@Ann @all look", "mentions": {"user_ids": [4], "all": true}})
        );
        assert_eq!(serde_json::from_value::<Content>(json.clone()).expect("parse"), content);
        assert!(content.mentions(4) && content.mentions(9), "all mentions everyone");
        // The text as readers before mentions knew it.
        #[derive(Debug, PartialEq, Deserialize)]
        #[serde(tag = "type", rename_all = "snake_case")]
        enum Before {
            Text { text: String },
        }
        let before: Before = serde_json::from_value(json).expect("parse");
        assert_eq!(before, Before::Text { text: "@Ann @all look".into() });
        let by_name: Content =
            serde_json::from_str(r#"{"type":"text","text":"@Bo","mentions":{"user_ids":[7]}}"#)
                .expect("parse");
        assert!(by_name.mentions(7) && !by_name.mentions(4));
        assert!(!Content::text("@Bo").mentions(7));
    }

    #[test]
    fn unknown_type_is_an_error() {
        let parsed = serde_json::from_str::<ClientFrame>(r#"{"type":"launch_rockets"}"#);
        assert!(parsed.is_err());
    }
}

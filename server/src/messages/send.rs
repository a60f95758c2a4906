//! A connection's side of the message path: what one authenticated socket connection may do
//! with messages (send, receipts, typing, recall). Each is validated and authorised here;
//! stored messages go through the [`writer`](super::writer).

use super::writer::{NOT_EDITABLE, Reply, Submission};
use crate::app::App;
use crate::error::Refusal;
use crate::hub::Link;
use crate::membership::Members;
use crate::store::now_millis;
use crate::wire::{content_json, message_of};
use kith_shared::api::{ConversationId, ConversationKind};
use kith_shared::codec::to_json;
use kith_shared::frame::{ChatMessage, Content, Mentions, ReceiptKind, Target};
use kith_shared::{ErrorCode, ServerFrame, UserId};
use std::collections::HashMap;
use std::sync::Arc;
use std::time::{Duration, Instant};

/// At most one typing indicator passed on per conversation and connection in this time.
pub const TYPING_INTERVAL: Duration = Duration::from_secs(2);

/// The socket connection sending: its user and its link in the hub.
pub struct Sender<'a> {
    pub app: &'a App,
    pub user_id: UserId,
    pub link: &'a Link,
}

/// When a connection last passed on a typing indicator, per conversation.
#[derive(Debug, Default)]
pub struct TypingThrottle {
    last: HashMap<ConversationId, Instant>,
}

impl TypingThrottle {
    /// True when a typing indicator for `conversation_id` may go out now (and records it).
    fn admit(&mut self, conversation_id: ConversationId, now: Instant) -> bool {
        if self.last.get(&conversation_id).is_some_and(|at| now.duration_since(*at) < TYPING_INTERVAL) {
            return false;
        }
        if self.last.len() >= 64 {
            // Forget conversations whose interval has passed, so the map stays small.
            self.last.retain(|_, at| now.duration_since(*at) < TYPING_INTERVAL);
        }
        self.last.insert(conversation_id, now);
        true
    }
}

pub(super) fn refuse(code: ErrorCode, message: impl Into<String>) -> Refusal {
    Refusal::new(code, message)
}

/// A client's id for a message: 1-64 letters, digits or '-' (a uuid).
pub(super) fn check_client_id(client_id: &str) -> Result<(), Refusal> {
    if client_id.is_empty()
        || client_id.len() > 64
        || !client_id.chars().all(|c| c.is_ascii_alphanumeric() || c == '-')
    {
        return Err(refuse(
            ErrorCode::InvalidField,
            "client_id must be 1-64 letters, digits or '-' (a uuid)",
        ));
    }
    Ok(())
}

impl Sender<'_> {
    /// Validates, authorises and queues a message. The ack follows from the writer.
    pub async fn send(&self, client_id: &str, to: Target, mut content: Content) -> Result<(), Refusal> {
        check_client_id(client_id)?;
        let (reply_to, mentions) = match &mut content {
            Content::Text { edit_of: Some(_), .. } => {
                return Err(refuse(ErrorCode::InvalidField, "edits are sent with an edit frame"));
            }
            Content::Text { reaction_of: Some(_), .. } => {
                return Err(refuse(ErrorCode::InvalidField, "reactions are sent with a react frame"));
            }
            Content::Text { text, reply_to, edit_of: None, reaction_of: None, mentions } => {
                self.check_text(text)?;
                (*reply_to, Some(mentions))
            }
            Content::Image { .. } | Content::File { .. } | Content::Sticker { .. } => (None, None),
            _ => return Err(refuse(ErrorCode::InvalidField, "clients send text content only")),
        };
        let members = self.target(to).await?;
        if let Some(mentions) = mentions {
            *mentions = self.check_mentions(&members, std::mem::take(mentions)).await?;
        }
        if let Some(seq) = reply_to {
            self.check_quoted(members.conversation_id, seq).await?;
        }
        let content =
            crate::files::attach::attachment(self.app, self.user_id, members.conversation_id, content)
                .await?;
        let submission = Submission {
            members,
            sender_id: Some(self.user_id),
            client_id: Some(client_id.to_owned()),
            content,
            forwarded_from: None,
            edited: None,
            reply: Reply::Socket(self.link.clone()),
        };
        self.app.messages.submit(submission).await?;
        Ok(())
    }

    /// A text is not blank and not longer than the server's `MAX_TEXT_CHARS`.
    fn check_text(&self, text: &str) -> Result<(), Refusal> {
        if text.trim().is_empty() {
            return Err(refuse(ErrorCode::InvalidField, "the message is empty"));
        }
        let max = self.app.config.max_text_chars;
        if text.chars().count() > max {
            return Err(refuse(
                ErrorCode::PayloadTooLarge,
                format!("a message has at most {max} characters"),
            ));
        }
        Ok(())
    }

    /// A reply quotes a message of its own conversation that the sender sees (sent after
    /// they joined) and that people see as a message: text (not an edit), a picture, a file,
    /// a sticker, or one recalled since. Otherwise `not_found`.
    async fn check_quoted(&self, conversation_id: ConversationId, seq: i64) -> Result<(), Refusal> {
        let not_found = || refuse(ErrorCode::NotFound, "the quoted message is not in this conversation");
        let store = &self.app.store;
        let joined_seq = store.member(conversation_id, self.user_id).await?.ok_or_else(not_found)?.joined_seq;
        if seq <= joined_seq {
            return Err(not_found());
        }
        let row = store.message_at(conversation_id, seq).await?.ok_or_else(not_found)?;
        match message_of(&row).content {
            Content::Text { edit_of: None, reaction_of: None, .. }
            | Content::Image { .. }
            | Content::File { .. }
            | Content::Sticker { .. }
            | Content::Recalled { .. } => Ok(()),
            _ => Err(not_found()),
        }
    }

    /// Message `seq` of a conversation of the sender's that they see (sent after they
    /// joined, not deleted for themselves) and that is a post of its own: a text (not an edit, not a reaction), a picture,
    /// a file or a sticker, not recalled. Otherwise `not_found`, saying `words`.
    pub(super) async fn seen_post(
        &self,
        conversation_id: ConversationId,
        seq: i64,
        words: &'static str,
    ) -> Result<ChatMessage, Refusal> {
        let not_found = || refuse(ErrorCode::NotFound, words);
        let store = &self.app.store;
        let joined_seq = store.member(conversation_id, self.user_id).await?.ok_or_else(not_found)?.joined_seq;
        if seq <= joined_seq || store.is_hidden(self.user_id, conversation_id, seq).await? {
            return Err(not_found());
        }
        let message = message_of(&store.message_at(conversation_id, seq).await?.ok_or_else(not_found)?);
        match message.content {
            Content::Text { edit_of: None, reaction_of: None, .. }
            | Content::Image { .. }
            | Content::File { .. }
            | Content::Sticker { .. } => Ok(message),
            _ => Err(not_found()),
        }
    }

    /// The conversation a message goes to, if the sender may write there.
    pub(super) async fn target(&self, to: Target) -> Result<Arc<Members>, Refusal> {
        let app = self.app;
        match to {
            Target::User { id } => {
                if id == self.user_id {
                    return Err(refuse(ErrorCode::InvalidField, "you cannot send a message to yourself"));
                }
                let not_friend =
                    || refuse(ErrorCode::Forbidden, "you can send messages only to your friends");
                let conversation =
                    app.membership.direct(&app.store, self.user_id, id).await?.ok_or_else(not_friend)?;
                let members = app.membership.get(&app.store, conversation).await?.ok_or_else(not_friend)?;
                if members.contains(self.user_id) && members.contains(id) {
                    Ok(members)
                } else {
                    Err(not_friend())
                }
            }
            Target::Group { id } => {
                let members = self.conversation(id).await?;
                if members.kind == ConversationKind::Group {
                    Ok(members)
                } else {
                    Err(refuse(ErrorCode::NotFound, "no such group"))
                }
            }
        }
    }

    /// A conversation the sender belongs to.
    pub(super) async fn conversation(&self, id: ConversationId) -> Result<Arc<Members>, Refusal> {
        let app = self.app;
        match app.membership.get(&app.store, id).await? {
            Some(members) if members.contains(self.user_id) => Ok(members),
            _ => Err(refuse(ErrorCode::Forbidden, "you are not in this conversation")),
        }
    }

    /// Moves the sender's delivered or read cursor and tells the other members.
    pub async fn receipt(
        &self,
        conversation_id: ConversationId,
        kind: ReceiptKind,
        seq: i64,
    ) -> Result<(), Refusal> {
        let members = self.conversation(conversation_id).await?;
        let seq = seq.clamp(0, self.app.store.last_seq(conversation_id).await?);
        let (delivered, read) = match kind {
            ReceiptKind::Delivered => (seq, 0),
            ReceiptKind::Read => (seq, seq),
        };
        let Some((delivered_seq, read_seq)) =
            self.app.store.advance_cursors(conversation_id, self.user_id, delivered, read).await?
        else {
            return Err(refuse(ErrorCode::Forbidden, "you are not in this conversation"));
        };
        let frame =
            ServerFrame::ReceiptUpdated { conversation_id, user_id: self.user_id, delivered_seq, read_seq };
        let user_ids: Vec<UserId> = members.user_ids().collect();
        self.app.hub.send_json_to(&user_ids, Some(self.link.conn_id), to_json(&frame));
        Ok(())
    }

    /// Tells the other members that the sender is typing: refused outside the sender's
    /// conversations, passed on at most once per [`TYPING_INTERVAL`] and conversation.
    pub async fn typing(
        &self,
        conversation_id: ConversationId,
        throttle: &mut TypingThrottle,
    ) -> Result<(), Refusal> {
        let members = self.conversation(conversation_id).await?;
        if !throttle.admit(conversation_id, Instant::now()) {
            return Ok(());
        }
        let others = members.user_ids().filter(|id| *id != self.user_id);
        self.app.hub.send_many(others, &ServerFrame::Typing { conversation_id, user_id: self.user_id });
        Ok(())
    }

    /// Recalls one of the sender's own messages within the recall window: its stored copy
    /// becomes a marker and a `recall` message tells every member to replace theirs.
    pub async fn recall(&self, conversation_id: ConversationId, seq: i64) -> Result<(), Refusal> {
        let members = self.conversation(conversation_id).await?;
        let store = &self.app.store;
        let row = store
            .message_at(conversation_id, seq)
            .await?
            .ok_or_else(|| refuse(ErrorCode::NotFound, "no such message"))?;
        if row.sender_id != Some(self.user_id) {
            return Err(refuse(ErrorCode::Forbidden, "you can recall only your own messages"));
        }
        if !matches!(message_of(&row).content, Content::Text { edit_of: None, reaction_of: None, .. }) {
            return Err(refuse(ErrorCode::InvalidField, "this message cannot be recalled"));
        }
        let window = self.app.config.recall_window;
        if now_millis() - row.sent_at > window.as_millis() as i64 {
            return Err(refuse(
                ErrorCode::RecallExpired,
                format!("messages can be recalled for {} seconds after sending", window.as_secs()),
            ));
        }
        let marker = content_json(&Content::RECALLED);
        if store.mark_recalled(conversation_id, seq, &marker).await? {
            self.app.messages.post(members, Some(self.user_id), Content::Recall { seq, by: None }).await?;
        }
        Ok(())
    }

    /// Replaces the text of one of the sender's own text messages within the edit window: a
    /// text message with `edit_of` carries the new text to every member in sequence, and the
    /// writer stores the new text (a reply stays a reply) and the edit time in the message in
    /// the transaction that stores that edit message, so the stored text is always the last
    /// edit's. Its `ack` (with `client_id`) tells the sender that the edit is stored; a
    /// message recalled before the writer got to the edit refuses it (`invalid_field`). A
    /// resend (same `client_id`) that passes these checks again is answered with the first
    /// `ack` and changes nothing.
    pub async fn edit(
        &self,
        client_id: &str,
        conversation_id: ConversationId,
        seq: i64,
        text: String,
    ) -> Result<(), Refusal> {
        check_client_id(client_id)?;
        self.check_text(&text)?;
        let members = self.conversation(conversation_id).await?;
        let row = self
            .app
            .store
            .message_at(conversation_id, seq)
            .await?
            .ok_or_else(|| refuse(ErrorCode::NotFound, "no such message"))?;
        if row.sender_id != Some(self.user_id) {
            return Err(refuse(ErrorCode::Forbidden, "you can edit only your own messages"));
        }
        let Content::Text { reply_to, edit_of: None, reaction_of: None, mentions, .. } =
            message_of(&row).content
        else {
            return Err(refuse(ErrorCode::InvalidField, NOT_EDITABLE));
        };
        let window = self.app.config.edit_window;
        if now_millis() - row.sent_at > window.as_millis() as i64 {
            return Err(refuse(
                ErrorCode::EditExpired,
                format!("messages can be edited for {} seconds after sending", window.as_secs()),
            ));
        }
        // The mentions stay those of the message as sent: an edit notifies nobody anew. Only an
        // edit's text changes a text message, and a recall, which the writer checks for.
        let edited =
            Content::Text { text: text.clone(), reply_to, edit_of: None, reaction_of: None, mentions };
        let submission = Submission {
            members,
            sender_id: Some(self.user_id),
            client_id: Some(client_id.to_owned()),
            content: Content::Text {
                text,
                reply_to: None,
                edit_of: Some(seq),
                reaction_of: None,
                mentions: Mentions::default(),
            },
            forwarded_from: None,
            edited: Some(edited),
            reply: Reply::Socket(self.link.clone()),
        };
        self.app.messages.submit(submission).await?;
        Ok(())
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn typing_is_throttled_per_conversation() {
        let mut throttle = TypingThrottle::default();
        let start = Instant::now();
        assert!(throttle.admit(1, start));
        assert!(throttle.admit(2, start), "another conversation is not held back");
        assert!(!throttle.admit(1, start + Duration::from_millis(500)));
        assert!(throttle.admit(1, start + TYPING_INTERVAL));
    }

    #[test]
    fn the_throttle_forgets_old_conversations() {
        let mut throttle = TypingThrottle::default();
        let start = Instant::now();
        for id in 0..64 {
            assert!(throttle.admit(id, start));
        }
        assert!(throttle.admit(100, start + TYPING_INTERVAL));
        assert_eq!(throttle.last.len(), 1);
    }
}

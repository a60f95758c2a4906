//! Deleting messages. "Delete for me": a member hides messages of a conversation from their
//! own history; every connection of theirs is told with `messages_hidden`. "Delete for
//! everyone": a group's owner or an admin recalls a member's message, without the recall
//! window, and the marker names them.

use super::send::Sender;
use crate::app::App;
use crate::error::Refusal;
use crate::wire::{content_json, message_of};
use kith_shared::api::{ConversationId, ConversationKind, HiddenMessages, Role};
use kith_shared::frame::{Content, Moderator};
use kith_shared::{ErrorCode, ServerFrame, UserId};

/// The most messages one `hide` frame may name.
pub const MAX_HIDDEN_AT_ONCE: usize = 100;

impl Sender<'_> {
    /// Hides messages `seqs` of a conversation from the sender's history, on all their
    /// devices: a member only (`forbidden`), every seq a message they can see (`not_found`).
    /// Hiding a message again changes nothing and is answered the same way.
    pub async fn hide(&self, conversation_id: ConversationId, mut seqs: Vec<i64>) -> Result<(), Refusal> {
        seqs.sort_unstable();
        seqs.dedup();
        if seqs.is_empty() || seqs.len() > MAX_HIDDEN_AT_ONCE {
            return Err(Refusal::invalid(format!("name 1 to {MAX_HIDDEN_AT_ONCE} messages to delete")));
        }
        let store = &self.app.store;
        let member = store
            .member(conversation_id, self.user_id)
            .await?
            .ok_or_else(|| Refusal::forbidden("you are not in this conversation"))?;
        let found = store.existing_seqs(conversation_id, &seqs, member.joined_seq).await?;
        if found.len() != seqs.len() {
            return Err(Refusal::not_found("no such message"));
        }
        store.hide_messages(self.user_id, conversation_id, &seqs).await?;
        self.app.hub.send(self.user_id, &ServerFrame::MessagesHidden { conversation_id, seqs });
        Ok(())
    }

    /// Deletes a member's message of a group for everyone, as the group's owner or an admin
    /// (an admin not the owner's): its stored copy becomes a marker naming the moderator and a
    /// `recall` with `by` tells every member. A message already recalled stays as it is.
    pub async fn delete(&self, conversation_id: ConversationId, seq: i64) -> Result<(), Refusal> {
        let members = self.conversation(conversation_id).await?;
        let store = &self.app.store;
        let me = store
            .member(conversation_id, self.user_id)
            .await?
            .ok_or_else(|| Refusal::forbidden("you are not in this conversation"))?;
        if members.kind != ConversationKind::Group || !me.role().can_moderate() {
            return Err(Refusal::forbidden("only a group's owner and admins may delete others' messages"));
        }
        let row = store
            .message_at(conversation_id, seq)
            .await?
            .ok_or_else(|| Refusal::new(ErrorCode::NotFound, "no such message"))?;
        let Some(sender) = row.sender_id else {
            return Err(Refusal::invalid("group notices cannot be deleted"));
        };
        let upload = match message_of(&row).content {
            Content::Image { upload_id, .. } | Content::File { upload_id, .. } => Some(upload_id),
            Content::Text { edit_of: None, .. } | Content::Sticker { .. } => None,
            // Deleted or recalled already: nothing more to do.
            Content::Recalled { .. } => return Ok(()),
            _ => return Err(Refusal::invalid("this message cannot be deleted")),
        };
        if me.role() != Role::Owner && self.role_of(conversation_id, sender).await? == Role::Owner {
            return Err(Refusal::forbidden("admins cannot delete the owner's messages"));
        }
        let by = Some(Moderator { user_id: self.user_id, name: self.name().await });
        let marker = content_json(&Content::Recalled { by: by.clone() });
        if store.mark_recalled(conversation_id, seq, &marker).await? {
            self.app.messages.post(members, Some(self.user_id), Content::Recall { seq, by }).await?;
        }
        // A picture or a file goes too: its upload expires now.
        if let Some(upload) = upload.and_then(|id| (!id.is_empty()).then_some(id))
            && let Some(row) = store.upload(&upload).await?
            && row.conversation_id == Some(conversation_id)
        {
            crate::files::sweeper::expire(self.app, &row).await?;
        }
        Ok(())
    }

    /// A member's role now (a former member counts as a member).
    async fn role_of(&self, conversation_id: ConversationId, user_id: UserId) -> Result<Role, Refusal> {
        Ok(self.app.store.member(conversation_id, user_id).await?.map_or(Role::Member, |m| m.role()))
    }

    /// The sender's display name, as a marker keeps it.
    async fn name(&self) -> String {
        self.app.profile(self.user_id).await.map(|p| p.display_name).unwrap_or_default()
    }
}

/// The messages of a conversation the caller deleted for themselves (members only).
pub async fn hidden(
    app: &App,
    caller: UserId,
    conversation_id: ConversationId,
) -> Result<HiddenMessages, Refusal> {
    if app.store.member(conversation_id, caller).await?.is_none() {
        return Err(Refusal::forbidden("you are not in this conversation"));
    }
    Ok(HiddenMessages { seqs: app.store.hidden_seqs(caller, conversation_id).await? })
}

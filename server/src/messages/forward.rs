//! Forwarding: a copy of a message the sender sees, sent to a friend or group with whose
//! message it first was. Its file, if it has one, is shared on without being sent again
//! ([`crate::files::share`]) while the server still holds it.

use super::send::{Sender, check_client_id};
use super::writer::{Reply, Submission};
use crate::error::Refusal;
use crate::files::attach::attachment;
use crate::files::share::share;
use kith_shared::api::ConversationId;
use kith_shared::frame::{ChatMessage, Content, Forwarded, Target};

impl Sender<'_> {
    /// Validates, authorises and queues a copy of message `seq` of `conversation_id` for `to`.
    /// The ack follows from the writer, then the copy itself, to this connection too.
    pub async fn forward(
        &self,
        client_id: &str,
        conversation_id: ConversationId,
        seq: i64,
        to: Target,
    ) -> Result<(), Refusal> {
        check_client_id(client_id)?;
        let source = self.forwardable(conversation_id, seq).await?;
        let members = self.target(to).await?;
        let forwarded_from = match source.forwarded_from {
            Some(first) => first,
            None => self.author(&source).await?,
        };
        let store = &self.app.store;
        // A resend of a forward already stored is answered with its first ack by the writer:
        // its file is not shared a second time.
        let resend = !store.messages_by_client_ids(&[(self.user_id, client_id.to_owned())]).await?.is_empty();
        let content = match source.content {
            Content::Image { upload_id, .. } if !resend => {
                let copy = share(self.app, &upload_id, self.user_id).await?;
                Content::Image {
                    upload_id: copy.id,
                    name: String::new(),
                    size: 0,
                    mime: String::new(),
                    width: 0,
                    height: 0,
                    thumbnail_id: String::new(),
                }
            }
            Content::File { upload_id, .. } if !resend => {
                let copy = share(self.app, &upload_id, self.user_id).await?;
                Content::File { upload_id: copy.id, name: String::new(), size: 0, mime: String::new() }
            }
            content => content,
        };
        let content = if resend {
            content
        } else {
            attachment(self.app, self.user_id, members.conversation_id, content).await?
        };
        let submission = Submission {
            members,
            sender_id: Some(self.user_id),
            client_id: Some(client_id.to_owned()),
            content,
            forwarded_from: Some(forwarded_from),
            edited: None,
            reply: Reply::Echo(self.link.clone()),
        };
        self.app.messages.submit(submission).await?;
        Ok(())
    }

    /// Message `seq` of a conversation of the sender's that they see, a post of its own (see
    /// [`Sender::seen_post`]); a text loses its quote, which points into this conversation, and
    /// its mentions, which name members of this one.
    async fn forwardable(&self, conversation_id: ConversationId, seq: i64) -> Result<ChatMessage, Refusal> {
        let mut message = self.seen_post(conversation_id, seq, "no such message to forward").await?;
        if let Content::Text { text, .. } = message.content {
            message.content = Content::text(text);
        }
        Ok(message)
    }

    /// The author of a message, by the name they go by now.
    async fn author(&self, message: &ChatMessage) -> Result<Forwarded, Refusal> {
        let name = match message.sender_id {
            Some(id) => self.app.store.user_by_id(id).await?.map(|user| user.display_name),
            None => None,
        };
        Ok(Forwarded { user_id: message.sender_id, name: name.unwrap_or_default() })
    }
}

//! Reactions: a connection's `react` puts or takes back the user's emoji on a message. A text
//! message with `reaction_of` carries the change to every member in sequence (like an edit),
//! so that connections that were away catch up with it through sync; the message writer
//! stores the change in `message_reactions` in the transaction that stores that message.

use super::send::{Sender, check_client_id, refuse};
use super::writer::{Reply, Submission};
use crate::error::Refusal;
use crate::store::reactions::ReactionRow;
use kith_shared::ErrorCode;
use kith_shared::api::ConversationId;
use kith_shared::frame::{ChatMessage, Content, Mentions, ReactionOf, Reactions};

/// The most bytes of UTF-8 a reaction's emoji may have (a family with skin tones fits).
pub const MAX_EMOJI_BYTES: usize = 64;

/// A reaction is one emoji of the Unicode list (a single grapheme: skin tones, flags and
/// families included), at most [`MAX_EMOJI_BYTES`].
pub fn is_reaction_emoji(emoji: &str) -> bool {
    !emoji.is_ascii() && emoji.len() <= MAX_EMOJI_BYTES && emojis::get(emoji).is_some()
}

impl Sender<'_> {
    /// Puts (`on`) or takes back the sender's reaction `emoji` on message `seq`, which must be
    /// a message people see (not a notice, a recall, an edit, a reaction, nor recalled) sent
    /// after the sender joined. Putting one twice, or taking back one that is not there,
    /// changes nothing but is answered all the same. A resend (same `client_id`) that passes
    /// these checks again is answered with the first `ack` and changes nothing.
    pub async fn react(
        &self,
        client_id: &str,
        conversation_id: ConversationId,
        seq: i64,
        emoji: &str,
        on: bool,
    ) -> Result<(), Refusal> {
        check_client_id(client_id)?;
        if !is_reaction_emoji(emoji) {
            return Err(refuse(ErrorCode::InvalidField, "a reaction is one emoji"));
        }
        let members = self.conversation(conversation_id).await?;
        self.seen_post(conversation_id, seq, "no such message to react to").await?;
        let submission = Submission {
            members,
            sender_id: Some(self.user_id),
            client_id: Some(client_id.to_owned()),
            content: Content::Text {
                text: emoji.to_owned(),
                reply_to: None,
                edit_of: None,
                reaction_of: Some(ReactionOf { seq, on }),
                mentions: Mentions::default(),
            },
            forwarded_from: None,
            edited: None,
            reply: Reply::Socket(self.link.clone()),
        };
        // The writer makes the change in the transaction that stores the reaction message, so
        // two devices reacting at once leave the reactions as the later message in sequence
        // says. A resend's message is refused there by the unique (client id, sender) index,
        // which undoes its change: the writer answers with the first ack.
        self.app.messages.submit(submission).await?;
        Ok(())
    }
}

/// Gives each message of a history page its reactions, from the rows of the page's messages:
/// per emoji in the order first put, with the users in the order they reacted.
pub fn attach_reactions(messages: &mut [ChatMessage], rows: Vec<ReactionRow>) {
    for row in rows {
        let Some(message) = messages.iter_mut().find(|m| m.seq == row.seq) else { continue };
        match message.reactions.iter_mut().find(|r| r.emoji == row.emoji) {
            Some(reactions) => reactions.user_ids.push(row.user_id),
            None => message.reactions.push(Reactions { emoji: row.emoji, user_ids: vec![row.user_id] }),
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn a_reaction_is_one_emoji() {
        for good in ["👍", "❤️", "😂", "🙏", "👍🏽", "🇫🇷", "👨‍👩‍👧‍👦"] {
            assert!(is_reaction_emoji(good), "{good}");
        }
        for bad in ["", "a", ":)", "👍👍", "👍 ", "hello", "é", &"👍".repeat(20)] {
            assert!(!is_reaction_emoji(bad), "{bad}");
        }
    }
}

//! Reactions in the local cache: who put which emoji on which message. A reaction message
//! (a text with `reaction_of`, the user's own on its `ack` or another's as it arrives) puts
//! or takes back its sender's reaction, unless a later reaction message already changed it;
//! a history page's `reactions` fill in what the cache does not know yet.

use super::{History, HistoryError};
use kith_shared::UserId;
use kith_shared::api::ConversationId;
use kith_shared::frame::{ChatMessage, Content, Reactions};
use std::collections::HashMap;

/// Applies `content` when it is a reaction: the reaction message `at_seq` from `sender`.
pub(super) async fn apply(
    tx: &mut sqlx::SqliteConnection,
    conversation_id: ConversationId,
    at_seq: i64,
    sender: UserId,
    content: &Content,
) -> Result<(), HistoryError> {
    let Content::Text { text, reaction_of: Some(reaction), .. } = content else { return Ok(()) };
    sqlx::query(
        "INSERT INTO reactions (conversation_id, seq, user_id, emoji, is_on, changed_seq)
         VALUES (?, ?, ?, ?, ?, ?)
         ON CONFLICT (conversation_id, seq, user_id, emoji) DO UPDATE
           SET is_on = excluded.is_on, changed_seq = excluded.changed_seq
           WHERE excluded.changed_seq > reactions.changed_seq",
    )
    .bind(conversation_id)
    .bind(reaction.seq)
    .bind(sender)
    .bind(text)
    .bind(reaction.on)
    .bind(at_seq)
    .execute(tx)
    .await?;
    Ok(())
}

/// What a message from the server changes in the reactions: a reaction message applies; a
/// message of a history page brings the reactions it has now, for those the cache does not
/// know.
pub(super) async fn store(
    tx: &mut sqlx::SqliteConnection,
    message: &ChatMessage,
) -> Result<(), HistoryError> {
    if let Some(sender) = message.sender_id {
        apply(&mut *tx, message.conversation_id, message.seq, sender, &message.content).await?;
    }
    for reactions in &message.reactions {
        for user in &reactions.user_ids {
            sqlx::query(
                "INSERT INTO reactions (conversation_id, seq, user_id, emoji, is_on, changed_seq)
                 VALUES (?, ?, ?, ?, 1, 0) ON CONFLICT DO NOTHING",
            )
            .bind(message.conversation_id)
            .bind(message.seq)
            .bind(user)
            .bind(&reactions.emoji)
            .execute(&mut *tx)
            .await?;
        }
    }
    Ok(())
}

impl History {
    /// The reactions on the messages of a conversation from `from_seq` on, by message: per
    /// emoji in the order first put, with who reacted in the order they did.
    pub async fn reactions(
        &self,
        conversation_id: ConversationId,
        from_seq: i64,
    ) -> Result<HashMap<i64, Vec<Reactions>>, HistoryError> {
        let rows: Vec<(i64, String, UserId)> = sqlx::query_as(
            "SELECT seq, emoji, user_id FROM reactions
             WHERE conversation_id = ? AND seq >= ? AND is_on = 1
             ORDER BY seq, changed_seq, rowid",
        )
        .bind(conversation_id)
        .bind(from_seq)
        .fetch_all(&self.pool)
        .await?;
        let mut by_message: HashMap<i64, Vec<Reactions>> = HashMap::new();
        for (seq, emoji, user) in rows {
            let reactions = by_message.entry(seq).or_default();
            match reactions.iter_mut().find(|r| r.emoji == emoji) {
                Some(found) => found.user_ids.push(user),
                None => reactions.push(Reactions { emoji, user_ids: vec![user] }),
            }
        }
        Ok(by_message)
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use kith_shared::frame::ReactionOf;

    fn message(seq: i64, sender: UserId, content: Content) -> ChatMessage {
        ChatMessage {
            id: 100 + seq,
            conversation_id: 5,
            seq,
            sender_id: Some(sender),
            client_id: None,
            sent_at: 1_000 + seq,
            content,
            edited_at: None,
            reactions: Vec::new(),
            forwarded_from: None,
            muted: false,
        }
    }

    fn reaction(seq: i64, sender: UserId, emoji: &str, of: i64, on: bool) -> ChatMessage {
        let content = Content::Text {
            text: emoji.into(),
            reply_to: None,
            edit_of: None,
            reaction_of: Some(ReactionOf { seq: of, on }),
            mentions: Default::default(),
        };
        message(seq, sender, content)
    }

    fn of(list: &[(&str, &[UserId])]) -> Vec<Reactions> {
        list.iter().map(|(e, users)| Reactions { emoji: (*e).into(), user_ids: users.to_vec() }).collect()
    }

    async fn open() -> (tempfile::TempDir, History) {
        let dir = tempfile::tempdir().expect("temp dir");
        let history = History::open(&dir.path().join("history.db")).await.expect("open");
        (dir, history)
    }

    #[tokio::test]
    async fn reaction_messages_put_and_take_back_and_are_no_lines() {
        let (_dir, history) = open().await;
        history.store(&message(1, 2, Content::text("lunch?"))).await.expect("store");
        history.store(&reaction(2, 7, "👍", 1, true)).await.expect("store");
        history.store(&reaction(3, 2, "👍", 1, true)).await.expect("store");
        history.store(&reaction(4, 2, "❤️", 1, true)).await.expect("store");
        let got = history.reactions(5, 1).await.expect("read");
        assert_eq!(got[&1], of(&[("👍", &[7, 2]), ("❤️", &[2])]));
        history.store(&reaction(5, 7, "👍", 1, false)).await.expect("store");
        assert_eq!(history.reactions(5, 1).await.expect("read")[&1], of(&[("👍", &[2]), ("❤️", &[2])]));
        // Reactions are no line of the chat and no latest message; the cursor counts them.
        assert_eq!(history.recent(5, 10).await.expect("read").len(), 1);
        let latest = history.latest(Some(5)).await.expect("read");
        assert_eq!(latest[0].seq, Some(1));
        assert_eq!(history.cursor(5, 0).await.expect("cursor"), 5);
    }

    #[tokio::test]
    async fn an_older_change_fetched_late_does_not_undo_a_newer_one() {
        let (_dir, history) = open().await;
        history.store(&message(1, 2, Content::text("tea?"))).await.expect("store");
        // The "off" was pushed before the "on" it follows was fetched.
        history.store(&reaction(3, 7, "😂", 1, false)).await.expect("store");
        history.store(&reaction(2, 7, "😂", 1, true)).await.expect("store");
        assert!(history.reactions(5, 1).await.expect("read").is_empty());
        // The same reaction message twice changes nothing more.
        history.store(&reaction(4, 7, "😂", 1, true)).await.expect("store");
        history.store(&reaction(4, 7, "😂", 1, true)).await.expect("store");
        assert_eq!(history.reactions(5, 1).await.expect("read")[&1], of(&[("😂", &[7])]));
    }

    #[tokio::test]
    async fn a_history_page_brings_reactions_and_ones_own_count_on_the_ack() {
        let (_dir, history) = open().await;
        let page =
            ChatMessage { reactions: of(&[("🙏", &[2, 3])]), ..message(1, 2, Content::text("thanks")) };
        history.store(&page).await.expect("store");
        // A later change the cache saw wins over what a page says.
        history.store(&reaction(2, 3, "🙏", 1, false)).await.expect("store");
        history.store(&page).await.expect("store");
        assert_eq!(history.reactions(5, 1).await.expect("read")[&1], of(&[("🙏", &[2])]));

        let mine = Content::Text {
            text: "😮".into(),
            reply_to: None,
            edit_of: None,
            reaction_of: Some(ReactionOf { seq: 1, on: true }),
            mentions: Default::default(),
        };
        history.add_outgoing(5, "mine-1", 7, &mine, 9_000).await.expect("pending");
        assert_eq!(history.reactions(5, 1).await.expect("read")[&1].len(), 1, "not before the ack");
        history.acknowledge("mine-1", 300, 3, 9_001).await.expect("ack");
        assert_eq!(history.reactions(5, 1).await.expect("read")[&1], of(&[("🙏", &[2]), ("😮", &[7])]));
    }
}

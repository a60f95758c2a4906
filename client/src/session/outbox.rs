//! Messages on their way out: written to the cache first (pending), then sent, in the order
//! the user sent them; marked sent when the server's `ack` comes, sent again after a reconnect
//! while they wait.

use super::{Cache, Event, Message, Outcome, Session};
use crate::clock;
use crate::history::StoredMessage;
use iced::Task;
use kith_shared::ClientFrame;
use kith_shared::api::ConversationId;
use kith_shared::frame::{Content, Mentions, Target};
use std::collections::BTreeMap;

/// Numbers the messages the user sends and releases them in that order once each is written to
/// the cache: the writes run concurrently and may finish in any order, but the server must
/// receive (and number) the messages in the order they were sent.
#[derive(Debug, Default)]
pub struct Outbox {
    /// The number of the next message sent.
    next: u64,
    /// The number of the next message to release.
    release: u64,
    /// Written messages waiting for an earlier one (None: its write failed).
    waiting: BTreeMap<u64, Option<StoredMessage>>,
    /// Forwards the server has not answered yet, by client id: sent again after a reconnect.
    forwards: BTreeMap<String, ClientFrame>,
}

impl Outbox {
    pub fn number(&mut self) -> u64 {
        self.next += 1;
        self.next - 1
    }

    /// Message `number` is written (or failed to be): the messages now released, in order.
    pub fn written(&mut self, number: u64, stored: Option<StoredMessage>) -> Vec<StoredMessage> {
        self.waiting.insert(number, stored);
        let mut out = Vec::new();
        while let Some(stored) = self.waiting.remove(&self.release) {
            self.release += 1;
            out.extend(stored);
        }
        out
    }
}

/// The frame that sends a message of the outbox: an `edit` for an edit, a `react` for a
/// reaction, else a `send`.
pub(super) fn frame_for(
    client_id: String,
    to: Target,
    conversation_id: ConversationId,
    content: Content,
) -> ClientFrame {
    match content {
        Content::Text { text, edit_of: Some(seq), .. } => {
            ClientFrame::Edit { client_id, conversation_id, seq, text }
        }
        Content::Text { text, reaction_of: Some(reaction), .. } => {
            ClientFrame::React { client_id, conversation_id, seq: reaction.seq, emoji: text, on: reaction.on }
        }
        content => ClientFrame::Send { client_id, to, content },
    }
}

/// A new message's client id: a time-ordered UUID (version 7), which the server's resend index
/// (on client ids) takes at its end rather than at a random page (docs/protocol.md).
fn new_client_id() -> String {
    uuid::Uuid::now_v7().to_string()
}

impl Session {
    /// Forwards message `seq` of conversation `from` to conversation `to`. It goes straight to
    /// the server, which sends the copy back as a message (so the cache needs nothing first);
    /// it is kept until the server answers and sent again after a reconnect.
    pub fn forward(&mut self, from: ConversationId, seq: i64, to: ConversationId) -> Result<(), String> {
        let Some(target) = self.roster.target(to) else {
            return Err(t!("outbox-cannot-write-to", name = self.roster.title(to)));
        };
        let client_id = new_client_id();
        let frame =
            ClientFrame::Forward { client_id: client_id.clone(), conversation_id: from, seq, to: target };
        self.outbox.forwards.insert(client_id, frame.clone());
        self.send_frame(frame);
        Ok(())
    }

    /// The server answered the frame sent with `client_id`: a forward among them is done.
    pub(super) fn answered(&mut self, client_id: &str) -> bool {
        self.outbox.forwards.remove(client_id).is_some()
    }

    /// Drops the forwards not answered yet (a server that does not know them); true when
    /// there were some.
    pub(super) fn forgot_forwards(&mut self) -> bool {
        !std::mem::take(&mut self.outbox.forwards).is_empty()
    }

    /// Sends the forwards not answered yet again (after a reconnect).
    pub(super) fn resend_forwards(&self) {
        for frame in self.outbox.forwards.values() {
            self.send_frame(frame.clone());
        }
    }

    /// Edits the user's text message `seq` of a conversation: the edit waits in the cache
    /// and goes out like a message; the message changes when the server acknowledges it.
    pub fn edit(
        &mut self,
        conversation: ConversationId,
        seq: i64,
        text: String,
    ) -> Result<Task<Message>, String> {
        self.send(
            conversation,
            Content::Text {
                text,
                reply_to: None,
                edit_of: Some(seq),
                reaction_of: None,
                mentions: Mentions::default(),
            },
        )
    }

    /// Puts (`on`) or takes back the user's reaction `emoji` on message `seq`: like an edit,
    /// it waits in the cache, goes out like a message and counts once acknowledged.
    pub fn react(
        &mut self,
        conversation: ConversationId,
        seq: i64,
        emoji: String,
        on: bool,
    ) -> Result<Task<Message>, String> {
        let reaction_of = Some(kith_shared::frame::ReactionOf { seq, on });
        self.send(
            conversation,
            Content::Text {
                text: emoji,
                reply_to: None,
                edit_of: None,
                reaction_of,
                mentions: Mentions::default(),
            },
        )
    }

    /// Sends to a conversation: into the cache first, then to the server. An error says in
    /// words why it cannot go.
    pub fn send(&mut self, conversation: ConversationId, content: Content) -> Result<Task<Message>, String> {
        let Some(to) = self.roster.target(conversation) else {
            return Err(t!("media-cannot-write"));
        };
        let client_id = new_client_id();
        let history = match &mut self.cache {
            Cache::Open(history) => history.clone(),
            Cache::Opening { unsaved } => {
                // Written to the cache first, like every message, as soon as it is open.
                unsaved.push((conversation, content));
                return Ok(Task::none());
            }
            Cache::Unavailable if self.connection.is_some() => {
                self.send_frame(frame_for(client_id, to, conversation, content));
                return Ok(Task::none());
            }
            Cache::Unavailable => {
                return Err(t!("outbox-nowhere"));
            }
        };
        let me = self.user.id;
        let now = clock::now_ms();
        let number = self.outbox.number();
        Ok(Task::perform(
            async move {
                history
                    .add_outgoing(conversation, &client_id, me, &content, now)
                    .await
                    .map_err(|e| e.to_string())
            },
            move |stored| Message::Outgoing(number, stored),
        ))
    }

    /// A message is written to the cache (or not): what is released goes out, in order.
    pub(super) fn outgoing(&mut self, number: u64, stored: Result<StoredMessage, String>) -> Outcome {
        let mut events = Vec::new();
        let stored = match stored {
            Ok(stored) => Some(stored),
            Err(err) => {
                events.push(Event::Problem(t!("outbox-cannot-keep", error = err)));
                None
            }
        };
        for stored in self.outbox.written(number, stored) {
            let conversation = stored.conversation_id;
            if let (Some(to), Some(client_id)) = (self.roster.target(conversation), stored.client_id) {
                // Without a connection it stays pending and goes out after reconnecting.
                self.send_frame(frame_for(client_id, to, conversation, stored.content));
            }
            if !events.contains(&Event::Changed(conversation)) {
                events.push(Event::Changed(conversation));
            }
        }
        (Task::none(), events)
    }
}

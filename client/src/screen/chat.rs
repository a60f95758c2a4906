//! A conversation: its messages from the local cache with their local times and day
//! separators, who is typing, recall of one's own recent messages, and the composer (Enter
//! sends, Shift+Enter starts a new line; editing tells the others one is typing).

use crate::clock;
use crate::history::{Delivery, StoredMessage};
use crate::roster::Roster;
use crate::widget::{self, BOLD, Element};
use iced::keyboard::{self, key};
use iced::widget::{button, column, container, row, scrollable, text, text_editor};
use iced::{Alignment, Length};
use kith_shared::UserId;
use kith_shared::api::ConversationId;
use kith_shared::frame::{Content, Notice};
use std::time::{Duration, Instant};

/// Widget ids, for focus and tests.
pub mod id {
    pub const COMPOSER: &str = "chat-composer";
    pub const LOG: &str = "chat-log";
}

/// The most characters one message may have (the server's default `MAX_TEXT_CHARS`).
pub const MAX_TEXT_CHARS: usize = 4000;

/// How long after sending one's own message offers a recall (the server's default
/// `RECALL_WINDOW_SECS`; a server with a shorter window refuses, and the chat says so).
pub const RECALL_WINDOW_MS: i64 = 120_000;

/// At most one typing notice per this interval (the server passes on no more).
pub const TYPING_EVERY: Duration = Duration::from_secs(2);

pub struct Chat {
    pub conversation_id: ConversationId,
    /// The user: their messages sit on the right and can be recalled.
    pub me: UserId,
    pub messages: Vec<StoredMessage>,
    pub composer: text_editor::Content,
    pub error: Option<String>,
    /// The time the view compares against (recall window, "Today"), refreshed by the owner.
    pub now_ms: i64,
    /// When the last typing notice went out.
    pub typing_sent: Option<Instant>,
    /// Offline: the history can be read, nothing written.
    pub read_only: bool,
}

#[derive(Debug, Clone)]
pub enum Message {
    Edit(text_editor::Action),
    Send,
    /// Recall one's own message with this sequence number.
    Recall(i64),
}

#[derive(Debug, Clone, PartialEq, Eq)]
pub enum Event {
    /// The user sends this text.
    Send(String),
    /// The user is typing: tell the others.
    Typing,
    /// The user recalls their message `seq`.
    Recall(i64),
}

impl Chat {
    pub fn new(conversation_id: ConversationId, me: UserId) -> Self {
        Self {
            conversation_id,
            me,
            messages: Vec::new(),
            composer: text_editor::Content::new(),
            error: None,
            now_ms: clock::now_ms(),
            typing_sent: None,
            read_only: false,
        }
    }

    pub fn update(&mut self, message: Message) -> Option<Event> {
        if self.read_only && !matches!(message, Message::Edit(ref action) if !action.is_edit()) {
            return None;
        }
        match message {
            Message::Edit(action) => {
                let edit = action.is_edit();
                self.composer.perform(action);
                (edit && self.typing_due(Instant::now())).then_some(Event::Typing)
            }
            Message::Recall(seq) => {
                let recallable = self.messages.iter().any(|m| m.seq == Some(seq) && self.can_recall(m));
                if !recallable {
                    self.error = Some("Messages can be recalled for two minutes after sending.".to_owned());
                    return None;
                }
                self.error = None;
                Some(Event::Recall(seq))
            }
            Message::Send => {
                let text = self.composer.text();
                let text = text.trim_end_matches(['\n', '\r']).trim_start_matches(['\n', '\r']);
                if text.trim().is_empty() {
                    return None;
                }
                if text.chars().count() > MAX_TEXT_CHARS {
                    self.error = Some(format!("A message has at most {MAX_TEXT_CHARS} characters."));
                    return None;
                }
                let text = text.to_owned();
                self.error = None;
                self.composer = text_editor::Content::new();
                // The message itself ends the typing; the next edit may say so again.
                self.typing_sent = None;
                Some(Event::Send(text))
            }
        }
    }

    /// Whether a typing notice may go out now, and if so, notes that it does.
    pub fn typing_due(&mut self, now: Instant) -> bool {
        if self.typing_sent.is_some_and(|at| now.duration_since(at) < TYPING_EVERY) {
            return false;
        }
        self.typing_sent = Some(now);
        true
    }

    /// One's own text message, stored by the server, within the recall window.
    pub fn can_recall(&self, message: &StoredMessage) -> bool {
        message.delivery == Delivery::Sent
            && message.seq.is_some()
            && message.sender_id == Some(self.me)
            && matches!(message.content, Content::Text { .. })
            && self.now_ms.saturating_sub(message.sent_at) < RECALL_WINDOW_MS
    }

    /// Whether some message can still be recalled (the owner keeps a clock running then).
    pub fn has_recallable(&self) -> bool {
        self.messages.iter().any(|m| self.can_recall(m))
    }

    /// The conversation; `typing` says who is typing in it, if anyone.
    pub fn view<'a>(&'a self, roster: &'a Roster, typing: Option<String>) -> Element<'a, Message> {
        let title = roster.title(self.conversation_id);
        let mut header = row![text(title).size(20).font(BOLD)].spacing(10).align_y(Alignment::Center);
        if let Some(kith_shared::frame::Target::User { id }) = roster.target(self.conversation_id)
            && let Some(friend) = roster.friends.get(&id)
        {
            header = header.push(widget::presence_dot(friend.online));
            header = header
                .push(text(if friend.online { "online" } else { "offline" }).size(13).style(text::secondary));
        }
        let group = roster.groups.contains_key(&self.conversation_id);
        let today = clock::day(self.now_ms);
        let mut lines = column![].spacing(8).padding([0, 8]);
        let mut last_day = None;
        for message in &self.messages {
            if matches!(message.content, Content::Recall { .. }) {
                // The recall itself is not a line: the recalled message shows it.
                continue;
            }
            let day = clock::day(message.sent_at);
            if day.is_some() && day != last_day {
                if let (Some(day), Some(today)) = (day, today) {
                    lines = lines.push(widget::day_separator(clock::day_label(day, today)));
                }
                last_day = day;
            }
            lines = lines.push(self.line(message, roster, group));
        }
        let log = scrollable(lines).id(id::LOG).anchor_bottom().height(Length::Fill).width(Length::Fill);
        let placeholder = if self.read_only {
            "Offline — history only. Log in to write."
        } else {
            "Write a message. Enter sends, Shift+Enter starts a new line."
        };
        let mut composer = text_editor(&self.composer).id(id::COMPOSER).placeholder(placeholder);
        if !self.read_only {
            // Without an action the editor is disabled.
            composer = composer.on_action(Message::Edit);
        }
        let composer = composer.height(Length::Shrink).padding(8).key_binding(|press| {
            let enter = matches!(press.key.as_ref(), keyboard::Key::Named(key::Named::Enter));
            if enter
                && !press.modifiers.shift()
                && matches!(press.status, text_editor::Status::Focused { .. })
            {
                Some(text_editor::Binding::Custom(Message::Send))
            } else {
                text_editor::Binding::from_key_press(press)
            }
        });
        // The typing line keeps its height, so the log does not jump when it appears.
        let typing = text(typing.unwrap_or_default()).size(12).style(text::secondary).height(16);
        let mut bottom = column![
            typing,
            row![
                container(composer).width(Length::Fill).max_height(160),
                button(text("Send"))
                    .on_press_maybe((!self.read_only).then_some(Message::Send))
                    .padding([8, 18])
            ]
            .spacing(8)
            .align_y(Alignment::End)
        ]
        .spacing(4);
        if let Some(error) = &self.error {
            bottom = bottom.push(widget::error_line(error));
        }
        let conversation = column![header, log, bottom].spacing(8);
        if group {
            row![conversation, members_view(roster, self.conversation_id)].spacing(16).into()
        } else {
            conversation.into()
        }
    }

    fn line<'a>(&self, message: &StoredMessage, roster: &Roster, group: bool) -> Element<'a, Message> {
        let mine = message.sender_id == Some(self.me);
        let sender_name = |id: Option<i64>| {
            id.map(|id| roster.name_of(id).map_or_else(|| format!("User {id}"), str::to_owned))
        };
        match &message.content {
            Content::Text { text } => {
                let mut footer = clock::time_of_day(message.sent_at);
                match message.delivery {
                    Delivery::Pending => footer.push_str(" · sending…"),
                    Delivery::Failed => footer.push_str(" · not sent"),
                    Delivery::Sent => {}
                }
                let recall = match message.seq {
                    Some(seq) if self.can_recall(message) => Some(Message::Recall(seq)),
                    _ => None,
                };
                let sender = if group && !mine { sender_name(message.sender_id) } else { None };
                widget::bubble(text.clone(), sender, mine, footer, recall)
            }
            Content::Recalled => {
                let who = if mine {
                    "You recalled a message".to_owned()
                } else {
                    match sender_name(message.sender_id) {
                        Some(name) => format!("{name} recalled a message"),
                        None => "A message was recalled".to_owned(),
                    }
                };
                widget::system_line(format!("{who} · {}", clock::time_of_day(message.sent_at)))
            }
            Content::Notice { notice } => widget::system_line(describe_notice(notice)),
            Content::Recall { .. } => container(text("")).height(0).into(),
            #[allow(unreachable_patterns)]
            _ => widget::system_line("A message this version cannot show".to_owned()),
        }
    }
}

/// A group's members with their roles and presence, beside its chat.
fn members_view<'a, Message: 'a>(roster: &Roster, group: ConversationId) -> Element<'a, Message> {
    let members = roster.members_sorted(group);
    let online = members.iter().filter(|m| m.online).count();
    let mut list = column![
        text(format!("Members · {online}/{} online", members.len()))
            .size(12)
            .font(BOLD)
            .style(text::secondary)
    ]
    .spacing(6);
    for member in members {
        let mut line = row![
            widget::avatar(&member.user.display_name, member.user.id, None, 24.0),
            text(member.user.display_name.clone()).size(13),
            widget::presence_dot(member.online),
        ]
        .spacing(6)
        .align_y(Alignment::Center);
        if member.role != kith_shared::api::Role::Member {
            line = line.push(text(member.role.as_str()).size(11).style(text::secondary));
        }
        list = list.push(line);
    }
    container(scrollable(list)).width(190).height(Length::Fill).into()
}

/// A group event in words.
pub fn describe_notice(notice: &Notice) -> String {
    match notice {
        Notice::Created { name, .. } => format!("{name} created the group"),
        Notice::Joined { name, .. } => format!("{name} joined"),
        Notice::Left { name, .. } => format!("{name} left"),
        Notice::Removed { name, .. } => format!("{name} was removed"),
        Notice::OwnerChanged { name, .. } => format!("{name} is now the owner"),
        Notice::Dissolved { .. } => "The group was dissolved".to_owned(),
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn typed(text: &str) -> Chat {
        let mut chat = Chat::new(3, 7);
        chat.composer = text_editor::Content::with_text(text);
        chat
    }

    #[test]
    fn send_takes_the_text_and_clears_the_composer() {
        let mut chat = typed("hello\nsecond line\n");
        assert_eq!(chat.update(Message::Send), Some(Event::Send("hello\nsecond line".into())));
        assert_eq!(chat.composer.text().trim(), "");
    }

    #[test]
    fn blank_messages_are_not_sent() {
        let mut chat = typed("  \n \n");
        assert_eq!(chat.update(Message::Send), None);
    }

    #[test]
    fn overlong_messages_are_refused_and_kept() {
        let long = "x".repeat(MAX_TEXT_CHARS + 1);
        let mut chat = typed(&long);
        assert_eq!(chat.update(Message::Send), None);
        assert!(chat.error.is_some());
        assert_eq!(chat.composer.text().trim_end().len(), MAX_TEXT_CHARS + 1);
    }

    fn sent(seq: i64, sender: UserId, sent_at: i64) -> StoredMessage {
        StoredMessage {
            local_id: seq,
            conversation_id: 3,
            seq: Some(seq),
            server_id: Some(100 + seq),
            client_id: None,
            sender_id: Some(sender),
            sent_at,
            content: Content::Text { text: format!("m{seq}") },
            delivery: Delivery::Sent,
        }
    }

    fn paste(text: &str) -> Message {
        Message::Edit(text_editor::Action::Edit(text_editor::Edit::Paste(std::sync::Arc::new(text.into()))))
    }

    #[test]
    fn editing_says_typing_at_most_every_two_seconds() {
        let mut chat = typed("");
        assert_eq!(chat.update(paste("h")), Some(Event::Typing));
        assert_eq!(chat.update(paste("i")), None, "within two seconds of the last notice");
        // Moving the cursor is not typing.
        chat.typing_sent = None;
        assert_eq!(chat.update(Message::Edit(text_editor::Action::SelectAll)), None);
        assert_eq!(chat.update(paste("!")), Some(Event::Typing));
        let start = Instant::now();
        chat.typing_sent = Some(start);
        assert!(!chat.typing_due(start + Duration::from_millis(1999)));
        assert!(chat.typing_due(start + TYPING_EVERY));
        // Sending ends the typing: the next edit may say so again at once.
        assert!(matches!(chat.update(Message::Send), Some(Event::Send(_))));
        assert_eq!(chat.update(paste("x")), Some(Event::Typing));
    }

    #[test]
    fn only_own_recent_sent_text_can_be_recalled() {
        let now = 1_800_000_000_000;
        let mut chat = typed("");
        chat.now_ms = now;
        let mine = sent(1, 7, now - 1_000);
        let theirs = sent(2, 8, now - 1_000);
        let old = sent(3, 7, now - RECALL_WINDOW_MS);
        let pending = StoredMessage { seq: None, delivery: Delivery::Pending, ..sent(4, 7, now) };
        let recalled = StoredMessage { content: Content::Recalled, ..sent(5, 7, now) };
        assert!(chat.can_recall(&mine));
        assert!(!chat.can_recall(&theirs));
        assert!(!chat.can_recall(&old));
        assert!(!chat.can_recall(&pending));
        assert!(!chat.can_recall(&recalled));

        chat.messages = vec![mine, theirs, old];
        assert!(chat.has_recallable());
        assert_eq!(chat.update(Message::Recall(1)), Some(Event::Recall(1)));
        assert_eq!(chat.update(Message::Recall(3)), None, "the window has passed");
        assert!(chat.error.is_some());
        chat.now_ms = now + RECALL_WINDOW_MS;
        assert!(!chat.has_recallable());
    }

    #[test]
    fn notices_read_as_sentences() {
        assert_eq!(describe_notice(&Notice::Joined { user_id: 1, name: "Bob".into() }), "Bob joined");
        assert_eq!(describe_notice(&Notice::Dissolved { by: 1 }), "The group was dissolved");
    }
}

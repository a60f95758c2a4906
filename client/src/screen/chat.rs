//! A conversation: its messages from the local cache, and the composer (Enter sends,
//! Shift+Enter starts a new line).

use crate::history::{Delivery, StoredMessage};
use crate::roster::Roster;
use crate::widget::{self, BOLD, Element};
use iced::keyboard::{self, key};
use iced::widget::{button, column, container, row, scrollable, text, text_editor};
use iced::{Alignment, Length};
use kith_shared::api::ConversationId;
use kith_shared::frame::{Content, Notice};

/// Widget ids, for focus and tests.
pub mod id {
    pub const COMPOSER: &str = "chat-composer";
    pub const LOG: &str = "chat-log";
}

/// The most characters one message may have (the server's default `MAX_TEXT_CHARS`).
pub const MAX_TEXT_CHARS: usize = 4000;

pub struct Chat {
    pub conversation_id: ConversationId,
    pub messages: Vec<StoredMessage>,
    pub composer: text_editor::Content,
    pub error: Option<String>,
}

#[derive(Debug, Clone)]
pub enum Message {
    Edit(text_editor::Action),
    Send,
}

#[derive(Debug, Clone, PartialEq, Eq)]
pub enum Event {
    /// The user sends this text.
    Send(String),
}

impl Chat {
    pub fn new(conversation_id: ConversationId) -> Self {
        Self { conversation_id, messages: Vec::new(), composer: text_editor::Content::new(), error: None }
    }

    pub fn update(&mut self, message: Message) -> Option<Event> {
        match message {
            Message::Edit(action) => {
                self.composer.perform(action);
                None
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
                Some(Event::Send(text))
            }
        }
    }

    pub fn view<'a>(&'a self, roster: &'a Roster) -> Element<'a, Message> {
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
        let lines =
            column(self.messages.iter().map(|m| self.line(m, roster, group))).spacing(8).padding([0, 8]);
        let log = scrollable(lines).id(id::LOG).anchor_bottom().height(Length::Fill).width(Length::Fill);
        let composer = text_editor(&self.composer)
            .id(id::COMPOSER)
            .placeholder("Write a message. Enter sends, Shift+Enter starts a new line.")
            .on_action(Message::Edit)
            .height(Length::Shrink)
            .padding(8)
            .key_binding(|press| {
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
        let mut bottom = column![
            row![
                container(composer).width(Length::Fill).max_height(160),
                button(text("Send")).on_press(Message::Send).padding([8, 18])
            ]
            .spacing(8)
            .align_y(Alignment::End)
        ]
        .spacing(4);
        if let Some(error) = &self.error {
            bottom = bottom.push(widget::error_line(error));
        }
        column![header, log, bottom].spacing(12).into()
    }

    fn line<'a>(&self, message: &StoredMessage, roster: &Roster, group: bool) -> Element<'a, Message> {
        let mine = message.sender_id == Some(roster.me);
        let sender_name = |id: Option<i64>| {
            id.map(|id| roster.name_of(id).map_or_else(|| format!("User {id}"), str::to_owned))
        };
        match &message.content {
            Content::Text { text } => {
                let status = match message.delivery {
                    Delivery::Pending => Some("sending…"),
                    Delivery::Failed => Some("not sent"),
                    Delivery::Sent => None,
                };
                let sender = if group && !mine { sender_name(message.sender_id) } else { None };
                widget::bubble(text.clone(), sender, mine, status)
            }
            Content::Recalled => widget::system_line(if mine {
                "You recalled a message".to_owned()
            } else {
                "A message was recalled".to_owned()
            }),
            Content::Notice { notice } => widget::system_line(describe_notice(notice)),
            // The recall itself is not a line; other kinds are shown by name.
            Content::Recall { .. } => container(text("")).height(0).into(),
            #[allow(unreachable_patterns)]
            _ => widget::system_line("A message this version cannot show".to_owned()),
        }
    }
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
        let mut chat = Chat::new(3);
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

    #[test]
    fn notices_read_as_sentences() {
        assert_eq!(describe_notice(&Notice::Joined { user_id: 1, name: "Bob".into() }), "Bob joined");
        assert_eq!(describe_notice(&Notice::Dissolved { by: 1 }), "The group was dissolved");
    }
}

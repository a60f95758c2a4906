//! Searching the local history of every conversation (Ctrl+F): results as the user types,
//! newest first, each with its conversation, sender and time; a click opens the conversation
//! at that message. Works offline: it reads only the local cache.

use crate::clock;
use crate::history::{History, StoredMessage};
use crate::roster::Roster;
use crate::widget::{self, BOLD, Element};
use iced::widget::{button, column, row, scrollable, text, text_input};
use iced::{Length, Task};
use kith_shared::frame::Content;

/// Results shown at most.
pub const LIMIT: u32 = 100;

pub mod id {
    pub const QUERY: &str = "search-query";
}

#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct Search {
    pub query: String,
    pub results: Vec<StoredMessage>,
    /// The query the results are for.
    pub searched: Option<String>,
    pub error: Option<String>,
}

#[derive(Debug, Clone)]
pub enum Message {
    QueryChanged(String),
    Found(String, Result<Vec<StoredMessage>, String>),
    Open(StoredMessage),
    Close,
}

#[derive(Debug, Clone, PartialEq, Eq)]
pub enum Event {
    /// Show this message in its conversation.
    Jump(Box<StoredMessage>),
    Close,
}

impl Search {
    pub fn focus() -> Task<Message> {
        iced::widget::operation::focus(id::QUERY)
    }

    pub fn update(&mut self, message: Message, history: Option<&History>) -> (Task<Message>, Option<Event>) {
        match message {
            Message::QueryChanged(query) => {
                self.query = query;
                let wanted = self.query.trim().to_owned();
                if wanted.is_empty() {
                    self.results.clear();
                    self.searched = None;
                    return (Task::none(), None);
                }
                let Some(history) = history.cloned() else {
                    self.error = Some(t!("search-no-history"));
                    return (Task::none(), None);
                };
                let task = Task::perform(
                    async move {
                        let found = history.search(&wanted, LIMIT).await.map_err(|e| e.to_string());
                        (wanted, found)
                    },
                    |(query, found)| Message::Found(query, found),
                );
                (task, None)
            }
            Message::Found(query, result) => {
                // Answers to an older query arrive late: only the current one counts.
                if query == self.query.trim() {
                    match result {
                        Ok(results) => {
                            self.results = results;
                            self.error = None;
                        }
                        Err(err) => self.error = Some(t!("search-failed", error = err.to_string())),
                    }
                    self.searched = Some(query);
                }
                (Task::none(), None)
            }
            Message::Open(message) => (Task::none(), Some(Event::Jump(Box::new(message)))),
            Message::Close => (Task::none(), Some(Event::Close)),
        }
    }

    pub fn view<'a>(&'a self, roster: &'a Roster) -> Element<'a, Message> {
        let mut content = column![
            widget::panel_title(&t!("search-title"), Message::Close),
            text_input(&t!("search-placeholder"), &self.query)
                .id(id::QUERY)
                .on_input(Message::QueryChanged)
                .padding(8),
        ]
        .spacing(12)
        .max_width(640);
        if let Some(error) = &self.error {
            content = content.push(widget::error_line(error));
        }
        if self.searched.is_some() && self.results.is_empty() && self.error.is_none() {
            content = content.push(text(t!("search-nothing")).style(text::secondary));
        } else if self.results.len() == LIMIT as usize {
            content = content.push(text(t!("search-limit", count = LIMIT)).size(12).style(text::secondary));
        }
        let today = clock::day(clock::now_ms());
        for message in &self.results {
            let who = match message.sender_id {
                Some(id) if id == roster.me => t!("you-capital"),
                Some(id) => roster.name_or_id(id),
                None => String::new(),
            };
            let when = match (clock::day(message.sent_at), today) {
                (Some(day), Some(today)) => {
                    t!(
                        "search-when",
                        day = clock::day_label(day, today),
                        time = clock::time_of_day(message.sent_at)
                    )
                }
                _ => clock::time_of_day(message.sent_at),
            };
            let what = match &message.content {
                Content::Text { text, .. } => text.clone(),
                other => match crate::screen::chat::attachment_words(other) {
                    Some(words) => words,
                    None => continue,
                },
            };
            let title = roster.title(message.conversation_id);
            // In a one-to-one chat the title is the friend: say who wrote only when it was the user.
            let byline = if who == title || who.is_empty() { when } else { format!("{who} · {when}") };
            let line = column![
                row![text(title).size(13).font(BOLD), text(byline).size(12).style(text::secondary)]
                    .spacing(8),
                widget::emoji_text(&what, 14.0, widget::FONT, text::default),
            ]
            .spacing(2);
            content = content.push(
                button(line)
                    .width(Length::Fill)
                    .style(button::text)
                    .padding([6, 8])
                    .on_press(Message::Open(message.clone())),
            );
        }
        scrollable(content).spacing(4).into()
    }
}

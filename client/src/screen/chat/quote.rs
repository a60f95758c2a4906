//! Quotes: a reply's quote of an earlier message in the log (its sender and one line of it, a
//! click shows it), and the bar above the composer while a reply or an edit is being written
//! (with a button that takes it back).

use super::{Chat, Message, attachment_words};
use crate::roster::Roster;
use crate::widget::{self, BOLD, Element};
use iced::widget::{button, column, container, row, text};
use iced::{Alignment, Length};
use kith_shared::frame::Content;

/// The longest line of a quoted message, in characters.
const PREVIEW_CHARS: usize = 60;

impl Chat {
    /// Who wrote message `seq` and one line of it, as a quote shows it.
    pub fn quote_words(&self, roster: &Roster, seq: i64) -> (String, String) {
        let Some(quoted) = self.message_at(seq) else {
            return (String::new(), t!("quote-earlier"));
        };
        let who = match quoted.sender_id {
            Some(id) if id == self.me => t!("you-capital"),
            Some(id) => roster.name_or_id(id),
            None => String::new(),
        };
        let line = match &quoted.content {
            _ if quoted.hidden => t!("message-deleted"),
            Content::Text { text, .. } => widget::one_line(text, PREVIEW_CHARS),
            Content::Recalled { by: None } => t!("message-recalled"),
            Content::Recalled { by: Some(_) } => t!("message-deleted"),
            other => attachment_words(other).unwrap_or_else(|| t!("quote-a-message")),
        };
        (who, line)
    }

    /// A reply's quote of message `seq`, drawn above its text; a click shows the message.
    pub(super) fn quote_view<'a>(&self, roster: &Roster, seq: i64) -> Element<'a, Message> {
        let (who, line) = self.quote_words(roster, seq);
        let mut words = column![].spacing(1);
        if !who.is_empty() {
            words = words.push(text(who).size(12).font(BOLD));
        }
        words = words.push(text(line).size(12));
        button(container(words).padding([3, 8]).style(container::bordered_box))
            .style(button::text)
            .padding(0)
            .on_press(Message::JumpToQuoted(seq))
            .into()
    }

    /// Above the composer while a reply or an edit is written: what it concerns, and ✕.
    pub(super) fn quote_bar<'a>(&self, roster: &Roster) -> Option<Element<'a, Message>> {
        let (title, line) = if let Some(seq) = self.editing {
            (t!("quote-editing"), self.quote_words(roster, seq).1)
        } else {
            let (who, line) = self.quote_words(roster, self.replying?);
            let title =
                if who.is_empty() { t!("quote-replying") } else { t!("quote-replying-to", name = who) };
            (title, line)
        };
        let bar = row![
            column![text(title).size(12).font(BOLD), text(line).size(12).style(text::secondary)].spacing(1),
            iced::widget::space().width(Length::Fill),
            button(text("✕").size(13)).style(button::text).padding([2, 8]).on_press(Message::CancelQuote),
        ]
        .spacing(8)
        .align_y(Alignment::Center);
        Some(container(bar).padding([4, 10]).width(Length::Fill).style(container::rounded_box).into())
    }
}

//! A message's menu, opened with a right click on it: reply to it, copy its text, edit one's
//! own text and recall it for everyone while that is allowed, and react to it (quick
//! reactions and *More…*, see [`reactions`](super::reactions)). Escape or *Close* closes it.

use super::{Chat, Message};
use crate::history::StoredMessage;
use crate::widget::Element;
use iced::widget::{button, column, container, mouse_area, row, text};
use iced::{Alignment, Length};

impl Chat {
    /// `frame` (a drawn message) that opens its menu on a right click, and the menu under it
    /// while it is open. `body` is the text to copy, if it has one.
    pub(super) fn with_menu<'a>(
        &self,
        message: &StoredMessage,
        frame: Element<'a, Message>,
        body: Option<&str>,
        recall: Option<Message>,
    ) -> Element<'a, Message> {
        let frame = mouse_area(frame).on_right_press(Message::MessageMenu(Some(message.local_id)));
        if self.menu != Some(message.local_id) {
            return frame.into();
        }
        let action = |label: &'static str, message: Message| {
            button(text(label).size(12)).style(button::secondary).padding([3, 8]).on_press(message)
        };
        let mut menu = row![].spacing(4);
        if let (Some(seq), false) = (message.seq, self.read_only) {
            menu = menu.push(action("Reply", Message::Reply(seq)));
        }
        if let Some(body) = body {
            menu = menu.push(action("Copy text", Message::Copy(body.to_owned())));
        }
        if let (Some(seq), true) = (message.seq, !self.read_only && self.can_edit(message)) {
            menu = menu.push(action("Edit", Message::StartEdit(seq)));
        }
        if let Some(recall) = recall {
            menu = menu.push(action("Recall for everyone", recall));
        }
        menu = menu.push(action("Close", Message::MessageMenu(None)));
        let mine = message.sender_id == Some(self.me);
        let mut menu = column![menu].spacing(4).align_x(if mine { Alignment::End } else { Alignment::Start });
        if let (Some(seq), true) = (message.seq, self.can_react(message)) {
            menu = menu.push(self.quick_reactions(seq));
        }
        let menu =
            container(menu).width(Length::Fill).align_x(if mine { Alignment::End } else { Alignment::Start });
        column![frame, menu].spacing(4).into()
    }
}

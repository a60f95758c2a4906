//! Choosing several messages at once: *Select* in a message's menu starts it, a click on a
//! message then ticks or unticks it, and a bar in place of the composer forwards the ticked
//! messages or deletes them for the user (asked again). Escape or *Cancel* ends it.

use super::{Chat, Event, Message, menu};
use crate::history::StoredMessage;
use crate::widget::Element;
use iced::widget::{button, checkbox, container, mouse_area, row, text};
use iced::{Alignment, Length};
use std::collections::BTreeSet;

/// The messages ticked (by sequence number), and whether their deletion is being asked.
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct Selection {
    pub seqs: BTreeSet<i64>,
    pub confirm_delete: bool,
}

/// The most messages one forward or deletion takes (the server takes 100 per `hide`).
pub const MOST: usize = 100;

impl Chat {
    /// Starts choosing messages, with message `seq` ticked.
    pub(super) fn start_selection(&mut self, seq: i64) {
        self.menu = None;
        self.confirm_delete = None;
        self.selection = Some(Selection { seqs: BTreeSet::from([seq]), confirm_delete: false });
    }

    /// Ticks message `seq`, or unticks it; unticking the last one ends the choice.
    pub(super) fn toggle_selected(&mut self, seq: i64) {
        let Some(selection) = &mut self.selection else { return };
        selection.confirm_delete = false;
        if !selection.seqs.remove(&seq) {
            if selection.seqs.len() >= MOST {
                self.error = Some(t!("selection-most", count = MOST));
                return;
            }
            selection.seqs.insert(seq);
        }
        if selection.seqs.is_empty() {
            self.selection = None;
        }
    }

    /// What the bar's buttons do: forward the ticked messages, ask before deleting them, delete
    /// them, or end the choice.
    pub(super) fn selection_action(&mut self, action: SelectionAction) -> Option<Event> {
        let selection = self.selection.as_mut()?;
        match action {
            SelectionAction::Forward => {
                let seqs = selection.seqs.iter().copied().collect();
                self.selection = None;
                Some(Event::Forward(seqs))
            }
            SelectionAction::AskDelete => {
                selection.confirm_delete = true;
                None
            }
            SelectionAction::Delete => {
                let seqs = selection.seqs.iter().copied().collect();
                self.selection = None;
                Some(Event::Hide(seqs))
            }
            SelectionAction::Cancel => {
                self.selection = None;
                None
            }
        }
    }

    /// Whether this message can be ticked: a post of its own the server knows.
    pub(super) fn selectable(message: &StoredMessage) -> bool {
        message.seq.is_some() && menu::is_post(&message.content)
    }

    /// A message's line while choosing: a box to tick beside it, and a click anywhere on it
    /// ticks it. Messages that cannot be chosen show as they are.
    pub(super) fn selectable_line<'a>(
        &self,
        selection: &Selection,
        message: &StoredMessage,
        frame: Element<'a, Message>,
    ) -> Element<'a, Message> {
        let (Some(seq), true) = (message.seq, Self::selectable(message)) else { return frame };
        let ticked = selection.seqs.contains(&seq);
        let tick = checkbox(ticked).on_toggle(move |_| Message::ToggleSelected(seq));
        let line = row![tick, container(frame).width(Length::Fill)].spacing(8).align_y(Alignment::Center);
        mouse_area(line).on_press(Message::ToggleSelected(seq)).into()
    }

    /// The bar in place of the composer while choosing.
    pub(super) fn selection_bar<'a>(&self, selection: &Selection) -> Element<'a, Message> {
        let count = selection.seqs.len();
        let action = |label: String, action: SelectionAction| {
            button(text(label).size(13))
                .style(button::secondary)
                .padding([5, 12])
                .on_press(Message::Selection(action))
        };
        let bar = if selection.confirm_delete {
            row![
                text(t!("selection-delete-ask", count = count)).size(13),
                button(text(t!("delete")).size(13))
                    .style(button::danger)
                    .padding([5, 12])
                    .on_press(Message::Selection(SelectionAction::Delete)),
                action(t!("cancel"), SelectionAction::Cancel),
            ]
        } else {
            let forward = button(text(t!("forward")).size(13)).padding([5, 12]);
            let delete = button(text(t!("delete-for-me")).size(13)).style(button::secondary).padding([5, 12]);
            row![
                text(t!("selection-count", count = count)).size(13).width(Length::Fill),
                forward.on_press_maybe(
                    (!self.read_only).then_some(Message::Selection(SelectionAction::Forward))
                ),
                delete.on_press_maybe(
                    (!self.read_only).then_some(Message::Selection(SelectionAction::AskDelete))
                ),
                action(t!("cancel"), SelectionAction::Cancel),
            ]
        };
        container(bar.spacing(8).align_y(Alignment::Center)).padding(8).style(container::rounded_box).into()
    }
}

/// The buttons of the bar shown while choosing messages.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum SelectionAction {
    Forward,
    AskDelete,
    Delete,
    Cancel,
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::screen::chat::tests::{sent, typed};
    use kith_shared::frame::Content;

    fn chat_with(messages: Vec<StoredMessage>) -> Chat {
        let mut chat = typed("");
        chat.messages = messages;
        chat
    }

    #[test]
    fn ticked_messages_are_forwarded_or_deleted_together() {
        let mut chat = chat_with(vec![sent(1, 8, 0), sent(2, 7, 0), sent(3, 8, 0)]);
        let _ = chat.update(Message::Select(1));
        let _ = chat.update(Message::ToggleSelected(3));
        assert_eq!(chat.selection.as_ref().map(|s| s.seqs.len()), Some(2));
        assert_eq!(
            chat.update(Message::Selection(SelectionAction::Forward)),
            Some(Event::Forward(vec![1, 3]))
        );
        assert_eq!(chat.selection, None, "forwarding ends the choice");

        let _ = chat.update(Message::Select(2));
        let _ = chat.update(Message::ToggleSelected(1));
        assert_eq!(chat.update(Message::Selection(SelectionAction::AskDelete)), None, "asked again first");
        assert!(chat.selection.as_ref().is_some_and(|s| s.confirm_delete));
        assert_eq!(chat.update(Message::Selection(SelectionAction::Delete)), Some(Event::Hide(vec![1, 2])));
    }

    #[test]
    fn unticking_the_last_message_or_escape_ends_the_choice() {
        let mut chat = chat_with(vec![sent(1, 8, 0), sent(2, 8, 0)]);
        let _ = chat.update(Message::Select(1));
        let _ = chat.update(Message::ToggleSelected(1));
        assert_eq!(chat.selection, None);
        let _ = chat.update(Message::Select(2));
        let _ = chat.update(Message::ClosePanels);
        assert_eq!(chat.selection, None);
    }

    #[test]
    fn only_posts_the_server_knows_can_be_chosen() {
        let pending = StoredMessage { seq: None, ..sent(1, 7, 0) };
        let recalled = StoredMessage { content: Content::RECALLED, ..sent(2, 8, 0) };
        assert!(!Chat::selectable(&pending));
        assert!(!Chat::selectable(&recalled));
        assert!(Chat::selectable(&sent(3, 8, 0)));
    }
}

//! A message's menu, opened with a right click on it: reply to it, copy the part of its text
//! selected with the mouse (see [`selectable_text`](crate::selectable_text)) or all of it, forward it
//! (or select it and others, see [`selection`](super::selection)),
//! edit one's own text and recall it for everyone while that is allowed, delete it for oneself,
//! and, for a group's owner and admins, delete a member's message for everyone (both asked
//! again), and react to it (quick reactions and *More…*, see [`reactions`](super::reactions)).
//! A file or picture adds what can be done with it: *Download*, or once it is on this
//! computer *Save as…*, *Open* and *Show in folder*.
//! Escape or *Close* closes it.

use super::{Chat, Deletion, Message};
use crate::history::StoredMessage;
use crate::roster::Roster;
use crate::widget::Element;
use iced::widget::{button, column, container, mouse_area, row, text};
use iced::{Alignment, Length};
use kith_shared::api::Role;
use kith_shared::frame::Content;

impl Chat {
    /// `frame` (a drawn message) that opens its menu on a right click, and the menu under it
    /// while it is open. `body` is the text to copy, if it has one; `file` what can be done
    /// with its file, if it carries one.
    pub(super) fn with_menu<'a>(
        &self,
        message: &StoredMessage,
        frame: Element<'a, Message>,
        body: Option<&str>,
        recall: Option<Message>,
        file: Vec<(String, Message)>,
        roster: &Roster,
    ) -> Element<'a, Message> {
        if let Some(selection) = &self.selection {
            return self.selectable_line(selection, message, frame);
        }
        let frame = mouse_area(frame).on_right_press(Message::MessageMenu(Some(message.local_id)));
        if self.menu != Some(message.local_id) {
            return frame.into();
        }
        let action = |label: String, message: Message| {
            button(text(label).size(12)).style(button::secondary).padding([3, 8]).on_press(message)
        };
        let mut menu = row![].spacing(4);
        if let (Some((seq, deletion)), Some(shown)) = (self.confirm_delete, message.seq)
            && seq == shown
        {
            let question = match deletion {
                Deletion::ForMe => t!("menu-delete-for-me-ask"),
                Deletion::ForEveryone => t!("menu-delete-for-everyone-ask"),
            };
            menu = menu
                .push(text(question).size(12))
                .push(
                    button(text(t!("delete")).size(12))
                        .style(button::danger)
                        .padding([3, 8])
                        .on_press(Message::ConfirmDelete(true)),
                )
                .push(action(t!("cancel"), Message::ConfirmDelete(false)));
            let mine = message.sender_id == Some(self.me);
            let menu = container(menu.align_y(Alignment::Center)).width(Length::Fill).align_x(if mine {
                Alignment::End
            } else {
                Alignment::Start
            });
            return column![frame, menu].spacing(4).into();
        }
        if let (Some(seq), false) = (message.seq, self.read_only) {
            menu = menu.push(action(t!("reply"), Message::Reply(seq)));
        }
        // The part of the text selected with the mouse, when there is one, and the whole text.
        if let Some(part) = body.and_then(|body| self.text_selected(message.local_id)?.of(body)) {
            menu = menu.push(action(t!("menu-copy-selection"), Message::Copy(part.to_owned())));
        }
        if let Some(body) = body {
            menu = menu.push(action(t!("menu-copy"), Message::Copy(body.to_owned())));
        }
        for (label, on_press) in file {
            menu = menu.push(action(label, on_press));
        }
        if let (Some(seq), true) = (message.seq, !self.read_only && is_post(&message.content)) {
            menu = menu.push(action(t!("forward"), Message::Forward(seq)));
            menu = menu.push(action(t!("menu-select"), Message::Select(seq)));
        }
        if let (Some(seq), true) = (message.seq, !self.read_only && self.can_edit(message)) {
            menu = menu.push(action(t!("menu-edit"), Message::StartEdit(seq)));
        }
        if let Some(recall) = recall {
            menu = menu.push(action(t!("recall-for-everyone"), recall));
        }
        if let (Some(seq), false) = (message.seq, self.read_only) {
            menu = menu.push(action(t!("delete-for-me"), Message::AskDelete(seq, Deletion::ForMe)));
            if may_delete_for_everyone(roster, self.conversation_id, self.me, message) {
                menu = menu
                    .push(action(t!("delete-for-everyone"), Message::AskDelete(seq, Deletion::ForEveryone)));
            }
        }
        menu = menu.push(action(t!("close"), Message::MessageMenu(None)));
        let mine = message.sender_id == Some(self.me);
        // Twelve actions at most: they wrap onto a second line in a narrow chat.
        let mut menu = column![menu.wrap().vertical_spacing(4)].spacing(4).align_x(if mine {
            Alignment::End
        } else {
            Alignment::Start
        });
        if let (Some(seq), true) = (message.seq, self.can_react(message)) {
            menu = menu.push(self.quick_reactions(seq));
        }
        let menu =
            container(menu).width(Length::Fill).align_x(if mine { Alignment::End } else { Alignment::Start });
        column![frame, menu].spacing(4).into()
    }
}

/// Whether the user, as the group's owner or an admin, may delete someone else's message for
/// everyone: a member's text, picture, file or sticker, and not the owner's for an admin.
pub fn may_delete_for_everyone(
    roster: &Roster,
    conversation: kith_shared::api::ConversationId,
    me: kith_shared::UserId,
    message: &StoredMessage,
) -> bool {
    let Some(group) = roster.groups.get(&conversation) else { return false };
    let Some(sender) = message.sender_id.filter(|sender| *sender != me) else { return false };
    let role = group.role;
    is_post(&message.content)
        && message.seq.is_some()
        && role.can_moderate()
        && (role == Role::Owner || sender != group.group.owner_id)
}

/// Whether this content is a post of its own, one the server forwards and a moderator may
/// delete: a text (not an edit, not a reaction), a picture, a file or a sticker.
pub fn is_post(content: &Content) -> bool {
    matches!(
        content,
        Content::Text { edit_of: None, reaction_of: None, .. }
            | Content::Image { .. }
            | Content::File { .. }
            | Content::Sticker { .. }
    )
}

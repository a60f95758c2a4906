//! A group's members beside its chat: owner, admins and members with their presence
//! (online first), when the chat pane is wide enough.

use crate::files::Files;
use crate::roster::Roster;
use crate::widget::{self, BOLD, Element};
use iced::widget::{column, container, row, scrollable, text};
use iced::{Alignment, Length};
use kith_shared::api::ConversationId;

/// The member list beside a group's chat, and the space between them.
pub(super) const MEMBERS_WIDTH: f32 = 190.0;
pub(super) const MEMBERS_SPACING: f32 = 16.0;
/// The narrowest chat that shows a group's members beside it.
pub const MEMBERS_FROM: f32 = 600.0;

/// A group's members with their roles and presence, beside its chat.
pub(super) fn members_view<'a, Message: 'a>(
    roster: &Roster,
    group: ConversationId,
    files: &'a Files,
) -> Element<'a, Message> {
    let members = roster.members_sorted(group);
    let online = members.iter().filter(|m| m.online).count();
    let mut list = column![
        text(t!("members-online", online = online, total = members.len()))
            .size(12)
            .font(BOLD)
            .style(text::secondary)
    ]
    .spacing(6);
    for member in members {
        let mut line = row![
            widget::avatar(
                &member.user.display_name,
                member.user.id,
                files.avatar(member.user.avatar_url.as_deref()),
                24.0
            ),
            widget::emoji_text(&member.user.display_name, 13.0, widget::FONT, text::default),
            widget::presence_dot(member.online),
        ]
        .spacing(6)
        .align_y(Alignment::Center);
        if member.role != kith_shared::api::Role::Member {
            line = line.push(text(widget::role_name(member.role)).size(11).style(text::secondary));
        }
        list = list.push(line);
    }
    container(scrollable(list).spacing(4)).width(MEMBERS_WIDTH).height(Length::Fill).into()
}

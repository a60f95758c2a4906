//! Mentions in the chat: completing the `@name` being typed from the group's members (a click
//! or Tab puts `@Display Name ` in its place), and "Jump to mention", which shows the oldest
//! message that mentioned the user and was unread when the chat opened.

use super::{Chat, Event, Message};
use crate::mentions::{self, Candidate};
use crate::roster::Roster;
use crate::widget::{BOLD, Element};
use iced::widget::text_editor::{self, Cursor, Position};
use iced::widget::{button, container, row, text};
use iced::{Alignment, Length};
use kith_shared::frame::{ChatMessage, Content};

impl Chat {
    /// The `@word` before the cursor, if the cursor is in one: where its `@` is, and what
    /// follows.
    fn typed_mention(&self) -> Option<(Position, String)> {
        let cursor = self.composer.cursor();
        if cursor.selection.is_some() {
            return None;
        }
        let Position { line, column } = cursor.position;
        let text = self.composer.line(line)?.text.into_owned();
        let (at, query) = mentions::query_at(&text, column)?;
        Some((Position { line, column: at }, query.to_owned()))
    }

    /// Notes the `@word` being typed, after an edit of the message field.
    pub(super) fn track_mention(&mut self) {
        self.mention_query = self.typed_mention().map(|(_, query)| query);
    }

    /// Puts `label` (`@Name`) and a space in place of the `@word` being typed.
    pub(super) fn complete_mention(&mut self, label: &str) -> Option<Event> {
        let (start, _) = self.typed_mention()?;
        let end = self.composer.cursor().position;
        self.composer.move_to(Cursor { position: end, selection: Some(start) });
        let paste =
            text_editor::Action::Edit(text_editor::Edit::Paste(std::sync::Arc::new(format!("{label} "))));
        self.composer.perform(paste);
        self.mention_query = None;
        Some(Event::FocusComposer)
    }

    /// What the `@word` being typed may complete to: the group's members, and `@all` when
    /// the user is the group's owner or an admin. Nothing outside a group.
    pub(super) fn mention_candidates(&self, roster: &Roster) -> Vec<Candidate> {
        let Some(query) = &self.mention_query else { return Vec::new() };
        let Some(group) = roster.groups.get(&self.conversation_id) else { return Vec::new() };
        let members = roster.members_sorted(self.conversation_id);
        mentions::candidates(&members, self.me, query, group.role.can_moderate())
    }

    /// A message pushed while the chat is open: one that mentions the user and lands below
    /// where they are reading (the view holds above the newest) joins the mentions to jump to.
    /// Seen at once when the view follows the newest message, it needs no jump.
    pub fn arrived(&mut self, message: &ChatMessage) {
        let mentions_me = match &message.content {
            Content::Text { mentions, edit_of: None, reaction_of: None, .. } => {
                mentions.all || mentions.user_ids.contains(&self.me)
            }
            _ => false,
        };
        if mentions_me
            && message.conversation_id == self.conversation_id
            && message.sender_id != Some(self.me)
            && self.hold_after.is_some_and(|held| message.seq > held)
            && !self.mentions.contains(&message.seq)
        {
            self.mentions.push(message.seq);
        }
    }

    /// Shows the oldest mention of the user not shown yet (of those unread when the chat
    /// opened, and those that arrived below while the user read above).
    pub(super) fn jump_to_mention(&mut self) -> Option<Event> {
        if self.mentions.is_empty() {
            return None;
        }
        Some(Event::JumpTo(self.mentions.remove(0)))
    }

    /// The members the `@word` may complete to, above the message field.
    pub(super) fn mention_bar<'a>(&self, candidates: &[Candidate]) -> Option<Element<'a, Message>> {
        if candidates.is_empty() {
            return None;
        }
        let mut bar = row![].spacing(6).align_y(Alignment::Center);
        for (index, candidate) in candidates.iter().enumerate() {
            let label = candidate.label();
            let style = if index == 0 { button::primary } else { button::secondary };
            bar = bar.push(
                button(text(label.clone()).size(13))
                    .style(style)
                    .padding([3, 8])
                    .on_press(Message::PickMention(label)),
            );
        }
        bar = bar.push(text(t!("mentions-hint")).size(11).style(text::secondary));
        Some(container(bar.wrap()).padding([4, 6]).width(Length::Fill).style(container::rounded_box).into())
    }

    /// "@ Jump to mention" while mentions unread at opening have not all been shown.
    pub(super) fn mention_jump<'a>(&self) -> Option<Element<'a, Message>> {
        if self.mentions.is_empty() || self.read_only {
            return None;
        }
        let label = match self.mentions.len() {
            1 => t!("mentions-jump"),
            n => t!("mentions-jump-count", count = n),
        };
        Some(
            button(text(label).size(13).font(BOLD))
                .style(button::primary)
                .padding([4, 10])
                .on_press(Message::JumpToMention)
                .into(),
        )
    }
}

#[cfg(test)]
mod tests {
    use super::super::tests::typed;
    use super::*;
    use kith_shared::api::{GroupMember, GroupProfile, MyGroup, Role, UserProfile};

    fn roster(role: Role) -> Roster {
        let member = |id, name: &str| GroupMember {
            user: UserProfile {
                id,
                username: name.to_lowercase(),
                display_name: name.into(),
                avatar_url: None,
            },
            role: Role::Member,
            online: false,
        };
        let mut roster = Roster::new(7);
        let group = GroupProfile {
            id: 3,
            name: "Climbers".into(),
            description: String::new(),
            owner_id: 9,
            member_count: 3,
            created_at: 0,
            announcement: None,
            avatar_url: None,
        };
        roster.set_groups(vec![MyGroup { group, role, muted: false }]);
        roster.set_members(3, vec![member(7, "Me"), member(8, "Ann Lee"), member(9, "Bob")]);
        roster
    }

    fn labels(found: &[Candidate]) -> Vec<String> {
        found.iter().map(Candidate::label).collect()
    }

    #[test]
    fn typing_an_at_offers_members_and_picking_one_inserts_the_name() {
        let members = roster(Role::Member);
        let mut chat = typed("");
        for key in ["hi ", "@", "a"] {
            chat.update(super::super::tests::paste(key));
        }
        assert_eq!(chat.mention_query.as_deref(), Some("a"));
        assert_eq!(labels(&chat.mention_candidates(&members)), ["@Ann Lee"], "no @all for a member");
        assert_eq!(chat.update(Message::PickMention("@Ann Lee".into())), Some(Event::FocusComposer));
        assert_eq!(chat.composer.text().trim_end_matches('\n'), "hi @Ann Lee ");
        assert_eq!(chat.mention_query, None);
        assert!(chat.mention_candidates(&members).is_empty());
        chat.update(super::super::tests::paste("ok"));
        assert_eq!(chat.mention_query, None, "a space ended the mention");
        // Escape closes the offer and keeps the text.
        chat.update(super::super::tests::paste(" @b"));
        assert_eq!(chat.mention_query.as_deref(), Some("b"));
        chat.update(Message::ClosePanels);
        assert_eq!(chat.mention_query, None);
        assert_eq!(chat.composer.text().trim_end_matches('\n'), "hi @Ann Lee ok @b");

        // The owner and admins are offered @all; a one-to-one chat offers nothing.
        let mut chat = typed("");
        chat.update(super::super::tests::paste("@"));
        assert_eq!(labels(&chat.mention_candidates(&roster(Role::Admin))), ["@all", "@Ann Lee", "@Bob"]);
        chat.conversation_id = 4;
        assert!(chat.mention_candidates(&roster(Role::Admin)).is_empty());
        // Picking with nothing being typed changes nothing.
        let mut chat = typed("plain");
        assert_eq!(chat.update(Message::PickMention("@Bob".into())), None);
        assert_eq!(chat.composer.text().trim_end_matches('\n'), "plain");
    }

    #[test]
    fn jump_to_mention_goes_through_the_unread_mentions_oldest_first() {
        let mut chat = typed("");
        assert_eq!(chat.update(Message::JumpToMention), None, "none unread");
        chat.mentions = vec![4, 9];
        assert!(chat.mention_jump().is_some());
        assert_eq!(chat.update(Message::JumpToMention), Some(Event::JumpTo(4)));
        assert_eq!(chat.update(Message::JumpToMention), Some(Event::JumpTo(9)));
        assert_eq!(chat.update(Message::JumpToMention), None);
        assert!(chat.mention_jump().is_none(), "the control goes once all were shown");
    }

    #[test]
    fn a_mention_that_arrives_below_while_reading_above_can_be_jumped_to() {
        let pushed = |seq: i64, sender: i64, user_ids: Vec<i64>| ChatMessage {
            id: seq,
            conversation_id: 3,
            seq,
            sender_id: Some(sender),
            client_id: None,
            sent_at: 0,
            content: Content::Text {
                text: "@Me look".into(),
                reply_to: None,
                edit_of: None,
                reaction_of: None,
                mentions: kith_shared::frame::Mentions { user_ids, all: false },
            },
            edited_at: None,
            reactions: Vec::new(),
            forwarded_from: None,
            muted: false,
        };
        let mut chat = typed("");
        // Following the newest message: seen where it lands, nothing to jump to.
        chat.arrived(&pushed(5, 8, vec![7]));
        assert!(chat.mentions.is_empty());
        // Reading above: mentions of the user that land below wait for the jump, once each.
        chat.hold_after = Some(5);
        chat.arrived(&pushed(6, 8, vec![7]));
        chat.arrived(&pushed(6, 8, vec![7]));
        chat.arrived(&pushed(7, 8, vec![9]));
        chat.arrived(&pushed(8, 7, vec![7]));
        assert_eq!(chat.mentions, [6], "not someone else's mention, not one's own message, once");
        assert_eq!(chat.update(Message::JumpToMention), Some(Event::JumpTo(6)));
    }
}

//! Reactions: under a message, a chip per emoji with how many reacted (the user's own
//! highlighted, who reacted shown on hover; a click puts or takes back one's own); in the
//! message menu, six quick reactions and *More…*, which opens the emoji panel to react with
//! any emoji. Each click toggles: the server learns `on` or off (docs/protocol.md, "Reactions").

use super::{Chat, Event, Message, id};
use crate::emoji::{self, EmojiSet, Look};
use crate::history::{Delivery, StoredMessage};
use crate::roster::Roster;
use crate::widget::{self, Element};
use iced::widget::{button, container, image, row, text, tooltip};
use iced::{Alignment, Length};
use kith_shared::UserId;
use kith_shared::frame::Content;

/// The reactions offered in every message's menu.
pub const QUICK: [&str; 6] = ["👍", "❤️", "😂", "😮", "😢", "🙏"];

/// How big a reaction's emoji is drawn.
const SIDE: f32 = 16.0;

impl Chat {
    /// Whether the user may react to this message: one the server stored that people see as
    /// a message (text, picture, file, sticker), while online.
    pub fn can_react(&self, message: &StoredMessage) -> bool {
        !self.read_only
            && message.delivery == Delivery::Sent
            && message.seq.is_some()
            && matches!(
                message.content,
                Content::Text { edit_of: None, reaction_of: None, .. }
                    | Content::Image { .. }
                    | Content::File { .. }
                    | Content::Sticker { .. }
            )
    }

    /// Whether the user has put `emoji` on message `seq`.
    pub fn reacted(&self, seq: i64, emoji: &str) -> bool {
        self.reactions
            .get(&seq)
            .is_some_and(|all| all.iter().any(|r| r.emoji == emoji && r.user_ids.contains(&self.me)))
    }

    /// A click on `emoji` for message `seq` (a chip, a quick reaction, the panel): takes the
    /// user's reaction back when it is there, else puts it.
    pub(super) fn toggle_reaction(&mut self, seq: i64, emoji: String) -> Option<Event> {
        self.menu = None;
        if self.reacting.take().is_some() {
            self.emoji_open = false;
        }
        if !self.messages.iter().any(|m| m.seq == Some(seq) && self.can_react(m)) {
            return None;
        }
        let on = !self.reacted(seq, &emoji);
        Some(Event::React { seq, emoji, on })
    }

    /// *More…*: the emoji panel opens to react to message `seq` with any emoji.
    pub(super) fn react_with_more(&mut self, seq: i64) {
        self.menu = None;
        self.reacting = Some(seq);
        self.emoji_open = true;
        self.emoji_query.clear();
    }

    /// The chips under a message that has reactions.
    pub(super) fn reaction_chips<'a>(
        &self,
        message: &StoredMessage,
        roster: &Roster,
        set: Option<&'a EmojiSet>,
    ) -> Option<Element<'a, Message>> {
        let seq = message.seq?;
        let all = self.reactions.get(&seq).filter(|all| !all.is_empty())?;
        let can_react = self.can_react(message);
        let chips = all.iter().map(|reaction| {
            let mine = reaction.user_ids.contains(&self.me);
            let face = row![face(&reaction.emoji, set), text(reaction.user_ids.len().to_string()).size(12)]
                .spacing(4)
                .align_y(Alignment::Center);
            let chip = button(face)
                .style(if mine { button::primary } else { button::secondary })
                .padding([2, 8])
                .on_press_maybe(can_react.then(|| Message::React(seq, reaction.emoji.clone())));
            let words = container(text(self.who_reacted(roster, &reaction.user_ids)).size(12))
                .padding([2, 6])
                .style(container::rounded_box);
            let chip = container(chip).id(id::reaction(seq, &reaction.emoji));
            tooltip(chip, words, tooltip::Position::Top).into()
        });
        let chips = row(chips).spacing(4).wrap();
        let mine = message.sender_id == Some(self.me);
        Some(
            container(chips)
                .width(Length::Fill)
                .align_x(if mine { Alignment::End } else { Alignment::Start })
                .into(),
        )
    }

    /// The quick reactions and *More…* of a message's menu (in the colour font).
    pub(super) fn quick_reactions<'a>(&self, seq: i64) -> Element<'a, Message> {
        let quick = QUICK.iter().map(|emoji| {
            let style = if self.reacted(seq, emoji) { button::primary } else { button::text };
            button(face(emoji, None))
                .style(style)
                .padding([2, 4])
                .on_press(Message::React(seq, (*emoji).to_owned()))
                .into()
        });
        let more = button(text(t!("reactions-more")).size(12))
            .style(button::secondary)
            .padding([3, 8])
            .on_press(Message::ReactWithMore(seq));
        row(quick).push(more).spacing(2).align_y(Alignment::Center).into()
    }

    /// Who reacted, in words: "You, Bob and Carol".
    pub fn who_reacted(&self, roster: &Roster, users: &[UserId]) -> String {
        let names: Vec<String> = users
            .iter()
            .map(|id| if *id == self.me { t!("you-capital") } else { roster.name_or_id(*id) })
            .collect();
        match names.split_last() {
            None => String::new(),
            Some((last, [])) => last.clone(),
            Some((last, rest)) => t!("list-and", rest = rest.join(&t!("list-separator")), last = last),
        }
    }

    /// Above the emoji panel while it picks a reaction.
    pub(super) fn reaction_hint<'a>(&self) -> Option<Element<'a, Message>> {
        self.reacting.map(|_| text(t!("reactions-choose")).size(12).style(text::secondary).into())
    }
}

/// An emoji as the chat draws it: the server's picture, or the colour font.
fn face<'a>(emoji: &str, set: Option<&'a EmojiSet>) -> Element<'a, Message> {
    match emoji::look(emoji, set) {
        Look::Picture(handle) => image(handle.clone()).width(SIDE).height(SIDE).into(),
        Look::Font => widget::emoji(emoji, SIDE),
    }
}

#[cfg(test)]
mod tests {
    use super::super::tests::{sent, typed};
    use super::*;
    use kith_shared::frame::Reactions;

    #[test]
    fn a_click_toggles_ones_own_reaction() {
        let mut chat = typed("");
        chat.messages = vec![sent(1, 8, 0)];
        let react = |emoji: &str| Message::React(1, emoji.to_owned());
        assert_eq!(chat.update(react("👍")), Some(Event::React { seq: 1, emoji: "👍".into(), on: true }));
        chat.reactions.insert(1, vec![Reactions { emoji: "👍".into(), user_ids: vec![8, 7] }]);
        assert!(chat.reacted(1, "👍"));
        assert_eq!(chat.update(react("👍")), Some(Event::React { seq: 1, emoji: "👍".into(), on: false }));
        assert_eq!(chat.update(react("❤️")), Some(Event::React { seq: 1, emoji: "❤️".into(), on: true }));
        assert_eq!(chat.update(Message::React(9, "👍".into())), None, "no such message");
        chat.read_only = true;
        assert_eq!(chat.update(react("👍")), None, "offline");
    }

    #[test]
    fn more_opens_the_panel_and_its_emoji_reacts_instead_of_typing() {
        let mut chat = typed("hi");
        chat.messages = vec![sent(1, 8, 0)];
        chat.menu = Some(1);
        assert_eq!(chat.update(Message::ReactWithMore(1)), None);
        assert!(chat.emoji_open && chat.reacting == Some(1) && chat.menu.is_none());
        assert_eq!(
            chat.update(Message::InsertEmoji("🎉".into())),
            Some(Event::React { seq: 1, emoji: "🎉".into(), on: true })
        );
        assert!(!chat.emoji_open && chat.reacting.is_none());
        assert_eq!(chat.composer.text().trim_end(), "hi", "the composer is left alone");
        // Closing the panel leaves reaction mode: the next emoji goes into the composer.
        chat.update(Message::ReactWithMore(1));
        chat.update(Message::ClosePanels);
        assert_eq!(chat.reacting, None);
    }

    #[test]
    fn only_messages_people_see_take_reactions() {
        let chat = typed("");
        assert!(chat.can_react(&sent(1, 8, 0)));
        let pending = StoredMessage { seq: None, delivery: Delivery::Pending, ..sent(2, 7, 0) };
        let recalled = StoredMessage { content: Content::RECALLED, ..sent(3, 8, 0) };
        assert!(!chat.can_react(&pending));
        assert!(!chat.can_react(&recalled));
    }

    #[test]
    fn who_reacted_reads_as_a_list() {
        let chat = typed("");
        let roster = Roster::new(7);
        assert_eq!(chat.who_reacted(&roster, &[7]), "You");
        assert_eq!(chat.who_reacted(&roster, &[8, 7]), "User 8 and You");
        assert_eq!(chat.who_reacted(&roster, &[7, 8, 9]), "You, User 8 and User 9");
    }
}

//! The emoji panel under the log: a search field and the server's emoji that match it; a
//! click puts one into the message field where the cursor is (Escape closes the panel).

use super::{Chat, Message, id};
use crate::emoji::EmojiSet;
use crate::widget::Element;
use iced::widget::{button, column, container, image, row, scrollable, text};

impl Chat {
    /// Opens or closes the panel, with an empty search.
    pub(super) fn toggle_emoji(&mut self) {
        self.emoji_open = !self.emoji_open;
        self.emoji_query.clear();
    }

    /// The emoji panel: a search field and the matching emoji; a click inserts one.
    pub(super) fn emoji_panel<'a>(&'a self, set: &'a EmojiSet) -> Element<'a, Message> {
        let mut grid = row![].spacing(2);
        let found = set.search(&self.emoji_query);
        let none = found.is_empty();
        for entry in found {
            let Some(handle) = set.picture(&entry.char) else { continue };
            let cell = button(image(handle.clone()).width(28).height(28))
                .style(button::text)
                .padding(3)
                .on_press(Message::InsertEmoji(entry.char.clone()));
            grid = grid.push(container(cell).id(id::emoji(&entry.code)));
        }
        let mut panel = column![
            iced::widget::text_input("Search emoji by name", &self.emoji_query)
                .id(id::EMOJI_SEARCH)
                .on_input(Message::EmojiQuery)
                .padding(6)
                .size(13),
            scrollable(grid.wrap()).spacing(4).height(150),
        ]
        .spacing(6);
        if none {
            panel = panel.push(text("No emoji by that name.").size(12).style(text::secondary));
        }
        container(panel).padding(8).style(container::rounded_box).into()
    }
}

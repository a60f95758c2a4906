//! The emoji panel under the log: the whole Unicode emoji list by category, the emoji the
//! user inserted last ([`choices`]), a skin tone for every emoji that takes one, and a search
//! by name and shortcode (and the server set's keywords). Each emoji is drawn as the chat
//! draws it (`emoji::look`); a click puts it into the message field where the cursor is.
//! Escape closes the panel. One category shows at a time, so the grid stays a few hundred
//! cells at most.

mod choices;

pub use choices::Choices;

use super::{Chat, Message, id};
use crate::emoji::{self, EmojiSet, Look, Tone};
use crate::widget::{self, Element};
use iced::widget::{button, column, container, image, row, scrollable, text, tooltip};
use iced::{Alignment, Length};
use std::path::PathBuf;

/// An emoji cell's side, in pixels.
const CELL: f32 = 28.0;
/// Search results shown at most (the rest by typing more of the name).
const FOUND_SHOWN: usize = 240;

/// A tab of the panel: the recently used emoji, or one Unicode group.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Tab {
    Recent,
    Group(emojis::Group),
}

impl Tab {
    /// Every tab, in the panel's order.
    pub fn all() -> impl Iterator<Item = Tab> {
        std::iter::once(Tab::Recent).chain(emojis::Group::iter().map(Tab::Group))
    }

    pub fn name(self) -> String {
        use emojis::Group as G;
        match self {
            Tab::Recent => t!("emoji-recent"),
            Tab::Group(G::SmileysAndEmotion) => t!("emoji-smileys"),
            Tab::Group(G::PeopleAndBody) => t!("emoji-people"),
            Tab::Group(G::AnimalsAndNature) => t!("emoji-animals"),
            Tab::Group(G::FoodAndDrink) => t!("emoji-food"),
            Tab::Group(G::TravelAndPlaces) => t!("emoji-travel"),
            Tab::Group(G::Activities) => t!("emoji-activities"),
            Tab::Group(G::Objects) => t!("emoji-objects"),
            Tab::Group(G::Symbols) => t!("emoji-symbols"),
            Tab::Group(G::Flags) => t!("emoji-flags"),
        }
    }

    /// The emoji on the tab's button.
    fn icon(self) -> &'static str {
        use emojis::Group as G;
        match self {
            Tab::Recent => "🕘",
            Tab::Group(G::SmileysAndEmotion) => "😀",
            Tab::Group(G::PeopleAndBody) => "👋",
            Tab::Group(G::AnimalsAndNature) => "🐻",
            Tab::Group(G::FoodAndDrink) => "🍔",
            Tab::Group(G::TravelAndPlaces) => "🚗",
            Tab::Group(G::Activities) => "⚽",
            Tab::Group(G::Objects) => "💡",
            Tab::Group(G::Symbols) => "🔣",
            Tab::Group(G::Flags) => "🏁",
        }
    }
}

/// The panel's state that outlives one chat: the tab, and the user's choices with the file
/// they are kept in (None: kept in memory only).
#[derive(Debug, Clone)]
pub struct Picker {
    pub tab: Tab,
    pub choices: Choices,
    file: Option<PathBuf>,
}

impl Default for Picker {
    fn default() -> Self {
        Self { tab: Tab::Group(emojis::Group::SmileysAndEmotion), choices: Choices::default(), file: None }
    }
}

impl Picker {
    /// The choices kept beside the user's history (when there is one); the panel opens on
    /// the recently used emoji when there are some.
    pub fn load(history_path: Option<&std::path::Path>) -> Self {
        let file = history_path.and_then(Choices::path_beside);
        let choices = file.as_deref().map(Choices::load).unwrap_or_default();
        let tab = if choices.recent.is_empty() { Picker::default().tab } else { Tab::Recent };
        Self { tab, choices, file }
    }

    /// An emoji was inserted: remembered as recently used.
    pub fn used(&mut self, emoji: &str) {
        self.choices.used(emoji);
        self.save();
    }

    fn save(&self) {
        if let Some(file) = &self.file
            && let Err(err) = self.choices.save(file)
        {
            tracing::warn!(%err, file = %file.display(), "cannot keep the recently used emoji");
        }
    }
}

impl Chat {
    /// Opens or closes the panel, with an empty search.
    pub(super) fn toggle_emoji(&mut self) {
        self.emoji_open = !self.emoji_open;
        self.emoji_query.clear();
    }

    /// Shows a tab (leaving any search).
    pub(super) fn emoji_tab(&mut self, tab: Tab) {
        self.picker.tab = tab;
        self.emoji_query.clear();
    }

    /// The skin tone for every emoji that takes one, kept for next time.
    pub(super) fn skin_tone(&mut self, tone: Tone) {
        self.picker.choices.tone = tone;
        self.picker.save();
    }

    /// The emoji panel: search and skin tones, the tabs, and the emoji of the search or tab.
    pub(super) fn emoji_panel<'a>(&'a self, set: Option<&'a EmojiSet>) -> Element<'a, Message> {
        let picker = &self.picker;
        let tone = picker.choices.tone;
        let searching = !self.emoji_query.trim().is_empty();
        let search = iced::widget::text_input(&t!("emoji-search"), &self.emoji_query)
            .id(id::EMOJI_SEARCH)
            .on_input(Message::EmojiQuery)
            .padding(6)
            .size(13);
        let tones = row(Tone::ALL.map(|choice| {
            let hand = emojis::get("✋").map_or("✋", |hand| choice.apply(hand).as_str());
            let style = if choice == tone { button::primary } else { button::text };
            let pick =
                button(widget::emoji(hand, 18.0)).style(style).padding(2).on_press(Message::SkinTone(choice));
            tip(container(pick).id(id::skin_tone(choice)), choice.name())
        }))
        .spacing(2)
        .align_y(Alignment::Center);
        let tabs = row(Tab::all().map(|tab| {
            let style = if tab == picker.tab && !searching { button::primary } else { button::text };
            let pick = button(widget::emoji(tab.icon(), 20.0))
                .style(style)
                .padding(3)
                .on_press(Message::EmojiTab(tab));
            tip(container(pick).id(id::emoji_tab(tab)), tab.name())
        }))
        .spacing(2)
        .wrap();

        let (heading, shown): (String, Vec<&str>) = if searching {
            let found = emoji::find(&self.emoji_query, tone, set);
            let heading = match found.len() {
                0 => t!("emoji-none-found"),
                n if n > FOUND_SHOWN => t!("emoji-found-many", count = n, shown = FOUND_SHOWN),
                n => t!("emoji-found", count = n),
            };
            (heading, found.into_iter().take(FOUND_SHOWN).collect())
        } else {
            let shown = match picker.tab {
                Tab::Recent => picker.choices.recent.iter().map(String::as_str).collect(),
                Tab::Group(group) => emoji::group(group, tone, set),
            };
            let heading = if picker.tab == Tab::Recent && shown.is_empty() {
                t!("emoji-recent-empty")
            } else {
                picker.tab.name()
            };
            (heading, shown)
        };
        let grid = row(shown.into_iter().map(|emoji| cell(emoji, set))).spacing(2).wrap();
        let panel = column![
            row![container(search).width(Length::Fill), tones].spacing(8).align_y(Alignment::Center),
            tabs,
            text(heading).size(12).style(text::secondary),
            scrollable(grid).spacing(4).height(180).width(Length::Fill),
        ]
        .spacing(6);
        container(panel).padding(8).style(container::rounded_box).into()
    }
}

/// One emoji of the grid, drawn as the chat draws it; a click inserts it.
fn cell<'a>(emoji: &'a str, set: Option<&'a EmojiSet>) -> Element<'a, Message> {
    let face: Element<'a, Message> = match emoji::look(emoji, set) {
        Look::Picture(handle) => image(handle.clone()).width(CELL).height(CELL).into(),
        Look::Font => widget::emoji(emoji, CELL),
    };
    let pick = button(container(face).center(CELL + 2.0))
        .style(button::text)
        .padding(2)
        .on_press(Message::InsertEmoji(emoji.to_owned()));
    container(pick).id(id::emoji(&emoji::code(emoji))).into()
}

/// `content` with `words` shown when the pointer rests on it.
fn tip<'a>(content: impl Into<Element<'a, Message>>, words: String) -> Element<'a, Message> {
    let words = container(text(words).size(12)).padding([2, 6]).style(container::rounded_box);
    tooltip(content, words, tooltip::Position::Bottom).into()
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn cells_of_emoji_without_a_picture_are_drawn_in_colour() {
        let dir = tempfile::tempdir().expect("temp dir");
        let set = crate::emoji::tests::sample();
        // From the list, not in the server's set: an animal, a toned hand, a flag.
        for emoji in ["🦀", "👋🏽", "🇧🇷"] {
            assert_eq!(emoji::look(emoji, Some(&set)), Look::Font);
            let stem = format!("cell-{}", emoji::code(emoji));
            let coloured =
                crate::tests::coloured_pixels_of(cell(emoji, Some(&set)), (40.0, 40.0), &stem, dir.path());
            // A 28 px emoji (56 px in the snapshot): the text font would draw an empty box.
            assert!(coloured > 400, "{emoji} is drawn in colour: {coloured} pixels of strong colour");
        }
    }
}

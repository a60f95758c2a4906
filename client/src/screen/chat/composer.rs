//! The composer: the message field (Enter sends, Shift+Enter starts a new line; editing
//! tells the others one is typing), the server's length limit, the emoji and Files buttons,
//! Send, and the files waiting above it to be sent.

use super::log::transfer_line;
use super::{Chat, Event, Message, Staged, id};
use crate::emoji::EmojiSet;
use crate::files::{self, Files, Picture};
use crate::roster::Roster;
use crate::widget::{self, BOLD, Element};
use iced::keyboard::{self, key};
use iced::widget::{button, column, container, image, row, text, text_editor};
use iced::{Alignment, Length};
use std::path::PathBuf;
use std::time::{Duration, Instant};

/// At most one typing notice per this interval (the server passes on no more).
pub const TYPING_EVERY: Duration = Duration::from_secs(2);

/// Below this width the composer's buttons go under the message field.
const STACK_COMPOSER_BELOW: f32 = 420.0;
/// About how wide the composer's buttons are in a row, with their spacing.
const BUTTONS_WIDTH: f32 = 190.0;

/// The message field's placeholder for a field `width` wide: the hints when they fit on one
/// line, else a single word (a wrapped placeholder would be cut off at the field's height).
pub fn placeholder(read_only: bool, width: f32) -> String {
    match (read_only, width >= 640.0) {
        (false, true) => t!("composer-placeholder-long"),
        (false, false) => t!("composer-placeholder"),
        (true, true) => t!("composer-offline-long"),
        (true, false) => t!("composer-offline"),
    }
}

impl Chat {
    /// The waiting files' paths, taken out of the chat to be sent.
    fn take_staged(&mut self) -> Vec<PathBuf> {
        std::mem::take(&mut self.staged).into_iter().map(|s| s.path).collect()
    }

    /// Adds a dropped file to those waiting to be sent (once).
    pub fn stage(&mut self, path: PathBuf) {
        if !self.read_only && !self.staged.iter().any(|s| s.path == path) {
            // Read once here, not at every drawing.
            let size = std::fs::metadata(&path).map_or(0, |m| m.len());
            self.staged.push(Staged { path, size });
        }
    }

    /// An edit of the message field: pasted files wait to be sent, text is typed.
    pub(super) fn edit(&mut self, action: text_editor::Action) -> Option<Event> {
        if let text_editor::Action::Edit(text_editor::Edit::Paste(pasted)) = &action {
            let pasted = files::pasted_files(pasted);
            if !pasted.is_empty() {
                // Files copied in a file manager arrive as their paths: they wait to be sent.
                for path in pasted {
                    self.stage(path);
                }
                return None;
            }
        }
        let edit = action.is_edit();
        self.composer.perform(action);
        self.track_mention();
        // A "too long" error goes once the text fits again.
        if edit
            && self.error.as_deref() == Some(self.too_long().as_str())
            && self.composer.text().trim_end_matches(['\n', '\r']).chars().count()
                <= self.limits.max_text_chars
        {
            self.error = None;
        }
        (edit && self.typing_due(Instant::now())).then_some(Event::Typing)
    }

    /// Puts an emoji into the message field where the cursor is.
    pub(super) fn insert_emoji(&mut self, emoji: String) -> Option<Event> {
        let paste = text_editor::Action::Edit(text_editor::Edit::Paste(std::sync::Arc::new(emoji)));
        self.composer.perform(paste);
        self.track_mention();
        self.typing_due(Instant::now()).then_some(Event::Typing)
    }

    /// Enter or Send: the text (with any files waiting), or the waiting files alone.
    pub(super) fn send(&mut self) -> Option<Event> {
        let text = self.composer.text();
        let text = text.trim_end_matches(['\n', '\r']).trim_start_matches(['\n', '\r']);
        if text.trim().is_empty() {
            // Enter with files waiting sends them.
            return self.send_staged();
        }
        if text.chars().count() > self.limits.max_text_chars {
            self.error = Some(self.too_long());
            return None;
        }
        let text = text.to_owned();
        self.error = None;
        self.composer = text_editor::Content::new();
        self.mention_query = None;
        // The message itself ends the typing; the next edit may say so again.
        self.typing_sent = None;
        if let Some(seq) = self.editing.take() {
            // An edit changes a message in place: the view stays, the files keep waiting.
            return Some(Event::Edit { seq, text });
        }
        self.follow();
        let files = self.take_staged();
        if let Some(reply_to) = self.replying.take() {
            return Some(Event::Reply { text, reply_to, files });
        }
        if files.is_empty() { Some(Event::Send(text)) } else { Some(Event::SendWithFiles(text, files)) }
    }

    /// Sends the files waiting above the composer.
    pub(super) fn send_staged(&mut self) -> Option<Event> {
        let files = self.take_staged();
        if files.is_empty() {
            return None;
        }
        self.follow();
        Some(Event::SendFiles(files))
    }

    /// The error shown for a message over the server's limit.
    fn too_long(&self) -> String {
        t!("composer-too-long", max = self.limits.max_text_chars)
    }

    /// Whether a typing notice may go out now, and if so, notes that it does.
    pub fn typing_due(&mut self, now: Instant) -> bool {
        if self.typing_sent.is_some_and(|at| now.duration_since(at) < TYPING_EVERY) {
            return false;
        }
        self.typing_sent = Some(now);
        true
    }

    /// The files waiting to be sent: a preview of pictures, name and size, and Send.
    fn staged_view<'a>(&'a self, files: &'a Files) -> Element<'a, Message> {
        let mut list = column![].spacing(6);
        for (index, Staged { path, size: bytes }) in self.staged.iter().enumerate() {
            let bytes = *bytes;
            let name = path
                .file_name()
                .map_or_else(|| path.display().to_string(), |n| n.to_string_lossy().into_owned());
            let size = files::human_size(bytes);
            let preview: Element<'a, Message> =
                if let Some(Picture::Ready(handle)) = files.local(path, files::PREVIEW_SIDE) {
                    image(handle.clone()).height(56).width(Length::Shrink).into()
                } else {
                    container(text(files::kind_label(&name, "")).size(11).font(BOLD))
                        .padding([10, 6])
                        .style(container::rounded_box)
                        .into()
                };
            list = list.push(
                row![
                    preview,
                    column![text(name).size(14), text(size).size(12).style(text::secondary)].spacing(2),
                    iced::widget::space().width(Length::Fill),
                    button(text(t!("remove")).size(12))
                        .style(button::text)
                        .padding([3, 6])
                        .on_press(Message::Unstage(index)),
                ]
                .spacing(10)
                .align_y(Alignment::Center),
            );
        }
        let label = t!("composer-send-files", count = self.staged.len());
        list = list.push(button(text(label).size(13)).padding([6, 14]).on_press(Message::SendStaged));
        container(list).padding(8).style(container::rounded_box).into()
    }

    /// Under the log: the files waiting, the emoji panel, uploads under way, who is typing,
    /// the composer, and an error or good news.
    pub(super) fn composer_area<'a>(
        &'a self,
        roster: &Roster,
        typing: Option<String>,
        files: &'a Files,
        emoji: Option<&'a EmojiSet>,
    ) -> Element<'a, Message> {
        // The typing line keeps its height, so the log does not jump when it appears.
        let typing = text(typing.unwrap_or_default()).size(12).style(text::secondary).height(16);
        let mut bottom = column![].spacing(4);
        if !self.staged.is_empty() {
            bottom = bottom.push(self.staged_view(files));
        }
        if self.emoji_open {
            if let Some(hint) = self.reaction_hint() {
                bottom = bottom.push(hint);
            }
            bottom = bottom.push(self.emoji_panel(emoji));
        }
        for (key, upload) in files.uploads(self.conversation_id) {
            bottom = bottom.push(transfer_line(&t!("composer-sending", name = &upload.name), key, upload));
        }
        if let Some(bar) = self.quote_bar(roster) {
            bottom = bottom.push(bar);
        }
        let mut bottom = match &self.selection {
            Some(selection) => bottom.push(self.selection_bar(selection)),
            None => {
                let candidates = self.mention_candidates(roster);
                if let Some(bar) = self.mention_bar(&candidates) {
                    bottom = bottom.push(bar);
                }
                let first = candidates.first().map(|c| c.label());
                bottom.push(column![typing, self.composer_row(first)].spacing(4))
            }
        };
        if let Some(error) = &self.error {
            bottom = bottom.push(widget::error_line(error));
        }
        if let Some(info) = &self.info {
            bottom = bottom.push(text(info.clone()).size(13).style(text::success));
        }
        bottom.into()
    }

    /// of its own with the buttons below, so the field stays wide enough to write in.
    /// `mention`: what Tab puts in place of the `@word` being typed, if anything.
    fn composer_row(&self, mention: Option<String>) -> Element<'_, Message> {
        iced::widget::responsive(move |size| {
            let emoji_button = button(text("☺").size(18))
                .style(if self.emoji_open { button::primary } else { button::secondary })
                .padding([6, 10])
                .on_press_maybe((!self.read_only).then_some(Message::ToggleEmoji));
            let files_button = button(text(t!("composer-files")).size(13))
                .style(button::secondary)
                .padding([8, 10])
                .on_press_maybe((!self.read_only).then_some(Message::Attach));
            let send = button(text(t!("send")))
                .on_press_maybe((!self.read_only).then_some(Message::Send))
                .padding([8, 18]);
            if size.width < STACK_COMPOSER_BELOW {
                let buttons =
                    row![emoji_button, files_button, iced::widget::space().width(Length::Fill), send]
                        .spacing(8)
                        .align_y(Alignment::Center);
                let editor = self.composer(size.width, mention.clone());
                column![container(editor).width(Length::Fill).max_height(160), buttons].spacing(6).into()
            } else {
                // The buttons take about BUTTONS_WIDTH; the field has the rest.
                let editor = self.composer(size.width - BUTTONS_WIDTH, mention.clone());
                row![emoji_button, files_button, container(editor).width(Length::Fill).max_height(160), send]
                    .spacing(8)
                    .align_y(Alignment::End)
                    .into()
            }
        })
        .height(Length::Shrink)
        .into()
    }

    /// The message field, about `width` wide (its placeholder is chosen to fit on one line);
    /// Tab completes the `@word` being typed to `mention`.
    fn composer(&self, width: f32, mention: Option<String>) -> Element<'_, Message> {
        let mut composer =
            text_editor(&self.composer).id(id::COMPOSER).placeholder(placeholder(self.read_only, width));
        if !self.read_only {
            // Without an action the editor is disabled.
            composer = composer.on_action(Message::Edit);
        }
        composer
            .height(Length::Shrink)
            .padding(8)
            .key_binding(move |press| {
                let enter = matches!(press.key.as_ref(), keyboard::Key::Named(key::Named::Enter));
                let tab = matches!(press.key.as_ref(), keyboard::Key::Named(key::Named::Tab));
                let focused = matches!(press.status, text_editor::Status::Focused { .. });
                if let Some(label) = mention.clone().filter(|_| tab && focused) {
                    return Some(text_editor::Binding::Custom(Message::PickMention(label)));
                }
                if enter
                    && !press.modifiers.shift()
                    && matches!(press.status, text_editor::Status::Focused { .. })
                {
                    Some(text_editor::Binding::Custom(Message::Send))
                } else {
                    text_editor::Binding::from_key_press(press)
                }
            })
            .into()
    }
}

#[cfg(test)]
mod tests {
    use super::super::tests::{paste, typed};
    use super::*;
    use crate::socket;

    #[test]
    fn send_takes_the_text_and_clears_the_composer() {
        let mut chat = typed("hello\nsecond line\n");
        assert_eq!(chat.update(Message::Send), Some(Event::Send("hello\nsecond line".into())));
        assert_eq!(chat.composer.text().trim(), "");
    }

    #[test]
    fn blank_messages_are_not_sent() {
        let mut chat = typed("  \n \n");
        assert_eq!(chat.update(Message::Send), None);
    }

    #[test]
    fn overlong_messages_are_refused_and_kept() {
        let long = "x".repeat(socket::Limits::default().max_text_chars + 1);
        let mut chat = typed(&long);
        assert_eq!(chat.update(Message::Send), None);
        assert!(chat.error.is_some());
        assert_eq!(chat.composer.text().trim_end().len(), chat.limits.max_text_chars + 1);
    }

    #[test]
    fn the_too_long_error_goes_once_the_text_fits() {
        let mut chat = typed(&"x".repeat(11));
        chat.limits.max_text_chars = 10;
        assert_eq!(chat.update(Message::Send), None);
        assert!(chat.error.is_some());
        let _ = chat.update(Message::Edit(text_editor::Action::Move(text_editor::Motion::DocumentEnd)));
        let _ = chat.update(Message::Edit(text_editor::Action::Edit(text_editor::Edit::Backspace)));
        assert_eq!(chat.error, None, "ten characters fit");
        chat.error = Some("another error".into());
        let _ = chat.update(Message::Edit(text_editor::Action::Edit(text_editor::Edit::Backspace)));
        assert_eq!(chat.error.as_deref(), Some("another error"), "other errors stay");
    }

    #[test]
    fn editing_says_typing_at_most_every_two_seconds() {
        let mut chat = typed("");
        assert_eq!(chat.update(paste("h")), Some(Event::Typing));
        assert_eq!(chat.update(paste("i")), None, "within two seconds of the last notice");
        // Moving the cursor is not typing.
        chat.typing_sent = None;
        assert_eq!(chat.update(Message::Edit(text_editor::Action::SelectAll)), None);
        assert_eq!(chat.update(paste("!")), Some(Event::Typing));
        let start = Instant::now();
        chat.typing_sent = Some(start);
        assert!(!chat.typing_due(start + Duration::from_millis(1999)));
        assert!(chat.typing_due(start + TYPING_EVERY));
        // Sending ends the typing: the next edit may say so again at once.
        assert!(matches!(chat.update(Message::Send), Some(Event::Send(_))));
        assert_eq!(chat.update(paste("x")), Some(Event::Typing));
    }

    #[test]
    fn enter_sends_the_waiting_files_with_or_without_text() {
        let folder = tempfile::tempdir().expect("a temp dir");
        let (picture, notes) = (folder.path().join("a.png"), folder.path().join("b.txt"));
        let mut chat = typed("");
        chat.stage(picture.clone());
        chat.stage(picture.clone());
        assert_eq!(chat.staged.len(), 1, "a file waits once");
        assert_eq!(chat.staged[0].size, 0, "a missing file has no size");
        assert_eq!(chat.update(Message::Send), Some(Event::SendFiles(vec![picture])));
        assert!(chat.staged.is_empty());
        chat.stage(notes.clone());
        chat.composer = text_editor::Content::with_text("the notes");
        assert_eq!(chat.update(Message::Send), Some(Event::SendWithFiles("the notes".into(), vec![notes])));
        assert_eq!(chat.update(Message::Send), None, "nothing left");
    }
}

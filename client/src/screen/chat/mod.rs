//! A conversation: its messages from the local cache with their local times and day
//! separators, who is typing, recall of one's own recent messages, and the composer (Enter
//! sends, Shift+Enter starts a new line; editing tells the others one is typing).
//!
//! Here: the chat's state, its `Message` and `Event`, `update` and the layout of the whole.
//! [`log`] draws the message log, [`composer`] the message field and the files waiting to be
//! sent, [`emoji_picker`] the emoji panel, [`members`] a group's members beside the chat.

mod announcement;
mod composer;
mod emoji_picker;
mod log;
mod members;
mod mentions;
mod menu;
mod quote;
mod reactions;
mod selection;

pub use announcement::Hidden as HiddenAnnouncements;
/// The window tests check the placeholder against the field's width.
#[cfg(test)]
pub use composer::placeholder;
pub use emoji_picker::{Picker, Tab};
pub use log::{SCROLL_TICK, scroll_to_first_unread};
pub use members::MEMBERS_FROM;
pub use reactions::QUICK as QUICK_REACTIONS;
pub use selection::{Selection, SelectionAction};

use crate::clock;
use crate::emoji::EmojiSet;
use crate::files::Files;
use crate::history::{Delivery, StoredMessage};
use crate::roster::Roster;
use crate::selectable_text::Selection as TextSelection;
use crate::socket;
use crate::widget::{self, BOLD, Element};
use iced::widget::{button, container, row, text, text_editor};
use iced::{Alignment, Length};
use kith_shared::UserId;
use kith_shared::api::ConversationId;
use kith_shared::frame::{Content, Notice, Reactions};
use std::collections::HashMap;
use std::path::PathBuf;
use std::time::Instant;

/// Widget ids, for focus and tests.
pub mod id {
    pub const COMPOSER: &str = "chat-composer";
    pub const LOG: &str = "chat-log";
    pub const EMOJI_SEARCH: &str = "chat-emoji-search";
    /// The "New messages" divider above the first message unread when the chat opened.
    pub const UNREAD: &str = "chat-unread";

    /// The emoji panel's cell of the emoji with this code.
    pub fn emoji(code: &str) -> String {
        format!("chat-emoji-{code}")
    }

    /// The reaction chip of `emoji` under message `seq`.
    pub fn reaction(seq: i64, emoji: &str) -> String {
        format!("chat-reaction-{seq}-{}", crate::emoji::code(emoji))
    }

    /// The emoji panel's button of a tab.
    pub fn emoji_tab(tab: super::Tab) -> String {
        format!("chat-emoji-tab-{tab:?}")
    }

    /// The emoji panel's button of a skin tone.
    pub fn skin_tone(tone: crate::emoji::Tone) -> String {
        format!("chat-skin-tone-{tone:?}")
    }
}

/// The reactions on messages, by the messages' sequence numbers.
pub type ReactionsBySeq = HashMap<i64, Vec<Reactions>>;

/// Messages read from the cache at first, and added each time the user scrolls to the top.
pub const PAGE: u32 = 100;

/// A file waiting above the composer, with its size.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Staged {
    pub path: PathBuf,
    pub size: u64,
}

pub struct Chat {
    pub conversation_id: ConversationId,
    /// The user: their messages sit on the right and can be recalled.
    pub me: UserId,
    pub messages: Vec<StoredMessage>,
    pub composer: text_editor::Content,
    pub error: Option<String>,
    /// Good news to show under the composer (a copy saved).
    pub info: Option<String>,
    /// The time the view compares against (recall window, "Today"), refreshed by the owner.
    pub now_ms: i64,
    /// When the last typing notice went out.
    pub typing_sent: Option<Instant>,
    /// Offline: the history can be read, nothing written.
    pub read_only: bool,
    /// The server's limits (longest message, recall window), from its `welcome`.
    pub limits: socket::Limits,
    /// How many of the newest messages to read from the cache.
    pub limit: u32,
    /// Older messages were asked for and have not arrived yet.
    pub loading_older: bool,
    /// The emoji panel is open, filtered by this query.
    pub emoji_open: bool,
    pub emoji_query: String,
    /// The panel's tab and the user's recent emoji and skin tone (carried from chat to chat).
    pub picker: Picker,
    /// While the user reads further up, messages after this sequence number are held back
    /// (the view does not move) and counted on the "new messages" chip.
    pub hold_after: Option<i64>,
    /// The hold comes from a jump to a search result: it stays until the user scrolls.
    pub pinned: bool,
    /// The message a search jumped to, marked in the log.
    pub highlight: Option<i64>,
    /// Messages up to this sequence number had been read when the chat opened: they are not
    /// news on the chip (None: not known, every held message counts).
    pub read_upto: Option<i64>,
    /// The chat opened with unread messages: those after this sequence number are marked by
    /// a "New messages" divider.
    pub unread_after: Option<i64>,
    /// The view is still to be moved to the divider, once the messages are laid out.
    pub start_at_unread: bool,
    /// How far the log was last scrolled up from the newest message.
    pub from_bottom: f32,
    /// How far the log was last scrolled down from the oldest message read.
    pub from_top: f32,
    /// A panel covered the chat, so its log was made afresh: it is being put back at
    /// `from_bottom`, and what it reports until then is not the user's scrolling.
    pub restoring: bool,
    /// "Remove friend" was clicked once: the header asks again.
    pub confirm_unfriend: bool,
    /// "Block" was clicked once: the header asks again.
    pub confirm_block: bool,
    /// Files dropped on the window or chosen, shown (pictures previewed) until sent.
    pub staged: Vec<Staged>,
    /// The message (by local id) whose menu is open.
    pub menu: Option<i64>,
    /// The message (by sequence number) the next one replies to: shown above the composer.
    pub replying: Option<i64>,
    /// The user's own message (by sequence number) whose text the composer edits.
    pub editing: Option<i64>,
    /// Messages quoted by replies in the log that are older than the messages read, by
    /// sequence number (read from the cache by the owner).
    pub quoted: HashMap<i64, StoredMessage>,
    /// The reactions on the messages read, by sequence number (read from the cache).
    pub reactions: ReactionsBySeq,
    /// The emoji panel picks a reaction to this message (by sequence number), not a character.
    pub reacting: Option<i64>,
    /// "Delete for me" or "Delete for everyone" was clicked on message `seq`: its menu asks
    /// again.
    pub confirm_delete: Option<(i64, Deletion)>,
    /// Messages are being chosen to forward or delete together (*Select* in the menu).
    pub selection: Option<Selection>,
    /// The part of a message's text (by local id) selected with the mouse.
    pub text_selection: Option<(i64, TextSelection)>,
    /// A drag selecting text is held this many pixels above (negative) or below the log's
    /// view: the log scrolls toward it while it lasts.
    pub selecting_past_edge: Option<f32>,
    /// The `@word` being typed in the message field (what follows the `@`).
    pub mention_query: Option<String>,
    /// The messages that mentioned the user and were unread when the chat opened, oldest
    /// first, not yet shown by "Jump to mention".
    pub mentions: Vec<i64>,
    /// Group announcements the user hid (carried from chat to chat).
    pub hidden_announcements: announcement::Hidden,
    /// The announcement bar shows the whole announcement (*More*), not only its first line.
    pub announcement_open: bool,
}

/// Whom a deleted message disappears for.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Deletion {
    /// The user alone, on all their devices.
    ForMe,
    /// Every member: a group's owner or admin deletes a member's message.
    ForEveryone,
}

#[derive(Debug, Clone)]
pub enum Message {
    Edit(text_editor::Action),
    /// *Hide* on the group's announcement bar (the group, when the announcement was set):
    /// until the announcement changes.
    HideAnnouncement(ConversationId, i64),
    /// *More* (true) or *Less* (false) on the announcement bar.
    OpenAnnouncement(bool),
    Send,
    /// Recall one's own message with this sequence number.
    Recall(i64),
    /// The log was scrolled: how far its view is from the oldest and the newest message.
    Scrolled {
        from_top: f32,
        from_bottom: f32,
    },
    /// The "new messages" chip was clicked.
    JumpToNewest,
    /// The log is back where it was before a panel covered the chat.
    Restored,
    /// Save a received file (or image) into the files folder.
    Download {
        upload_id: String,
        name: String,
    },
    /// Save a copy of a received file already on this computer: choose where.
    SaveAs {
        upload_id: String,
        name: String,
    },
    /// Stop the transfer with this key.
    CancelTransfer(String),
    /// Open a file with the system's program for it.
    OpenFile(PathBuf),
    /// Show the folder a file is in.
    ShowInFolder(PathBuf),
    /// Open the group's settings.
    ManageGroup,
    /// First click on "Remove friend": ask again.
    AskUnfriend,
    /// The answer: remove (true) or not.
    Unfriend(bool),
    /// First click on "Block": ask again.
    AskBlock,
    /// The answer: block (true) or not.
    Block(bool),
    /// Open or close the emoji panel.
    ToggleEmoji,
    EmojiQuery(String),
    /// Put this emoji into the composer where the cursor is.
    InsertEmoji(String),
    /// Show a tab of the emoji panel.
    EmojiTab(Tab),
    /// The skin tone for emoji that take one.
    SkinTone(crate::emoji::Tone),
    /// Escape: close the emoji panel.
    ClosePanels,
    /// Open a picture in the viewer.
    ViewImage {
        upload_id: String,
        name: String,
    },
    /// Send the files waiting above the composer.
    SendStaged,
    /// Take this waiting file back.
    Unstage(usize),
    /// Choose files to send from this computer.
    Attach,
    /// Open the menu of a message (by its local id; a right click), or close it.
    MessageMenu(Option<i64>),
    /// Put this text on the clipboard.
    Copy(String),
    /// The part of a message's text (by local id) selected with the mouse changed, or the
    /// selection ended (None).
    SelectText(i64, Option<TextSelection>),
    /// A drag selecting text is held this many pixels above (negative) or below the log's
    /// view, or no longer (None: back inside, or the button was released).
    SelectingPastEdge(Option<f32>),
    /// A tick of the clock that runs while a drag selecting text is held past the log's
    /// view: the log scrolls on toward the pointer.
    ScrollWhileSelecting,
    /// Reply to the message with this sequence number.
    Reply(i64),
    /// Forward the message with this sequence number: choose where.
    Forward(i64),
    /// Edit one's own text message with this sequence number in the composer.
    StartEdit(i64),
    /// Take back the reply or the edit the composer is set to.
    CancelQuote,
    /// A quote was clicked: show the message it quotes.
    JumpToQuoted(i64),
    /// Put or take back one's reaction (this emoji) on the message with this sequence number.
    React(i64, String),
    /// Open the emoji panel to react to the message with this sequence number.
    ReactWithMore(i64),
    /// "Delete for me" or "Delete for everyone" on message `seq`: ask again.
    AskDelete(i64, Deletion),
    /// The answer: delete (true) or not.
    ConfirmDelete(bool),
    /// Start choosing several messages, with the one with this sequence number ticked.
    Select(i64),
    /// Tick or untick the message with this sequence number while choosing.
    ToggleSelected(i64),
    /// A button of the bar shown while choosing messages.
    Selection(SelectionAction),
    /// Put this `@Name` in place of the `@word` being typed.
    PickMention(String),
    /// Show the oldest unread message that mentions the user.
    JumpToMention,
}

#[derive(Debug, Clone, PartialEq, Eq)]
pub enum Event {
    /// The user sends this text.
    Send(String),
    /// The user is typing: tell the others.
    Typing,
    /// The user recalls their message `seq`.
    Recall(i64),
    /// Read more of the history from the cache (the limit grew).
    LoadOlder,
    /// Scroll the log to the newest message.
    ScrollToNewest,
    /// Scroll the log by this many whole pixels (negative: up, toward older messages).
    ScrollLog(i32),
    Download {
        upload_id: String,
        name: String,
    },
    SaveAs {
        upload_id: String,
        name: String,
    },
    CancelTransfer(String),
    OpenFile(PathBuf),
    ShowInFolder(PathBuf),
    ManageGroup,
    /// End the friendship with the other side of this one-to-one chat.
    Unfriend,
    /// Block the other side of this one-to-one chat.
    Block,
    ViewImage {
        upload_id: String,
        name: String,
    },
    /// Upload and send these files.
    SendFiles(Vec<PathBuf>),
    /// Send this text and these files.
    SendWithFiles(String, Vec<PathBuf>),
    Attach,
    /// Put this text on the clipboard.
    Copy(String),
    /// Send this text as a reply to message `reply_to`, and these files after it.
    Reply {
        text: String,
        reply_to: i64,
        files: Vec<PathBuf>,
    },
    /// Replace the text of one's own message `seq`.
    Edit {
        seq: i64,
        text: String,
    },
    /// Show message `seq` of this conversation in the log (reading older messages if needed).
    JumpTo(i64),
    /// Choose where to forward these messages (their sequence numbers).
    Forward(Vec<i64>),
    /// Put the keyboard focus on the message field.
    FocusComposer,
    /// Put (`on`) or take back one's reaction `emoji` on message `seq`.
    React {
        seq: i64,
        emoji: String,
        on: bool,
    },
    /// Delete these messages (sequence numbers) for the user alone, on all their devices.
    Hide(Vec<i64>),
    /// Delete a member's message `seq` for everyone (the user moderates the group).
    DeleteForEveryone(i64),
}

impl Chat {
    pub fn new(conversation_id: ConversationId, me: UserId) -> Self {
        Self {
            conversation_id,
            me,
            messages: Vec::new(),
            composer: text_editor::Content::new(),
            error: None,
            info: None,
            now_ms: clock::now_ms(),
            typing_sent: None,
            read_only: false,
            limits: socket::Limits::default(),
            limit: PAGE,
            loading_older: false,
            hold_after: None,
            emoji_open: false,
            emoji_query: String::new(),
            picker: Picker::default(),
            pinned: false,
            highlight: None,
            read_upto: None,
            unread_after: None,
            start_at_unread: false,
            from_bottom: 0.0,
            from_top: 0.0,
            restoring: false,
            confirm_unfriend: false,
            confirm_block: false,
            staged: Vec::new(),
            menu: None,
            replying: None,
            editing: None,
            quoted: HashMap::new(),
            reactions: HashMap::new(),
            reacting: None,
            confirm_delete: None,
            selection: None,
            text_selection: None,
            selecting_past_edge: None,
            mention_query: None,
            mentions: Vec::new(),
            hidden_announcements: announcement::Hidden::default(),
            announcement_open: false,
        }
    }

    pub fn update(&mut self, message: Message) -> Option<Event> {
        let reading = match &message {
            Message::Edit(action) => !action.is_edit(),
            Message::Scrolled { .. } | Message::JumpToNewest | Message::Restored => true,
            Message::OpenFile(_) | Message::ShowInFolder(_) | Message::SaveAs { .. } => true,
            Message::AskUnfriend | Message::Unfriend(_) | Message::AskBlock | Message::Block(_) => false,
            Message::HideAnnouncement(..) | Message::OpenAnnouncement(_) => true,
            Message::ManageGroup
            | Message::ToggleEmoji
            | Message::EmojiQuery(_)
            | Message::InsertEmoji(_)
            | Message::EmojiTab(_)
            | Message::SkinTone(_) => false,
            Message::ClosePanels | Message::ViewImage { .. } => true,
            Message::MessageMenu(_) | Message::Copy(_) | Message::JumpToQuoted(_) => true,
            Message::SelectText(..) | Message::SelectingPastEdge(_) | Message::ScrollWhileSelecting => true,
            Message::Reply(_) | Message::StartEdit(_) | Message::CancelQuote | Message::Forward(_) => false,
            Message::React(..) | Message::ReactWithMore(_) => false,
            Message::AskDelete(..) | Message::ConfirmDelete(_) => false,
            Message::Select(_) | Message::ToggleSelected(_) | Message::Selection(_) => {
                matches!(message, Message::Selection(SelectionAction::Cancel))
            }
            Message::PickMention(_) => false,
            Message::JumpToMention => true,
            Message::SendStaged | Message::Unstage(_) | Message::Attach => false,
            Message::Send | Message::Recall(_) | Message::Download { .. } | Message::CancelTransfer(_) => {
                false
            }
        };
        if self.read_only && !reading {
            return None;
        }
        match message {
            Message::Restored => {
                self.restoring = false;
                None
            }
            Message::Scrolled { .. } if self.restoring => None,
            Message::Scrolled { from_top, from_bottom } => self.scrolled(from_top, from_bottom),
            Message::JumpToNewest => {
                self.follow();
                Some(Event::ScrollToNewest)
            }
            Message::Download { upload_id, name } => Some(Event::Download { upload_id, name }),
            Message::SaveAs { upload_id, name } => {
                self.menu = None;
                Some(Event::SaveAs { upload_id, name })
            }
            Message::CancelTransfer(key) => Some(Event::CancelTransfer(key)),
            Message::OpenFile(path) => Some(Event::OpenFile(path)),
            Message::ShowInFolder(path) => Some(Event::ShowInFolder(path)),
            Message::ManageGroup => Some(Event::ManageGroup),
            Message::HideAnnouncement(group, set_at) => {
                self.hidden_announcements.hide(group, set_at);
                None
            }
            Message::OpenAnnouncement(open) => {
                self.announcement_open = open;
                None
            }
            Message::AskUnfriend => {
                self.confirm_unfriend = true;
                self.confirm_block = false;
                None
            }
            Message::AskBlock => {
                self.confirm_block = true;
                self.confirm_unfriend = false;
                None
            }
            Message::Block(sure) => {
                let asked = std::mem::take(&mut self.confirm_block);
                (sure && asked).then_some(Event::Block)
            }
            Message::Unfriend(sure) => {
                let asked = std::mem::take(&mut self.confirm_unfriend);
                (sure && asked).then_some(Event::Unfriend)
            }
            Message::ToggleEmoji => {
                self.reacting = None;
                self.toggle_emoji();
                None
            }
            Message::ClosePanels => {
                // Escape closes what is open; with nothing open it takes back a reply or an edit.
                if self.selection.is_some() {
                    self.selection = None;
                } else if self.mention_query.take().is_some() {
                    // The members offered for an `@word` go first.
                } else if self.emoji_open || self.menu.is_some() || self.confirm_delete.is_some() {
                    self.reacting = None;
                    self.emoji_open = false;
                    self.menu = None;
                    self.confirm_delete = None;
                } else if self.text_selection.take().is_some_and(|(_, selected)| !selected.is_empty()) {
                    // The selected text goes first.
                } else {
                    self.cancel_quote();
                }
                None
            }
            Message::Reply(seq) => {
                self.menu = None;
                if self.editing.is_some() {
                    self.cancel_quote();
                }
                self.replying = Some(seq);
                Some(Event::FocusComposer)
            }
            Message::StartEdit(seq) => {
                self.menu = None;
                let Some(old) = self.messages.iter().find(|m| m.seq == Some(seq) && self.can_edit(m)) else {
                    let hours = self.limits.edit_window_ms / 3_600_000;
                    self.error = Some(t!("chat-edit-window", hours = hours));
                    return None;
                };
                let Content::Text { text, .. } = &old.content else { return None };
                self.composer = text_editor::Content::with_text(text);
                self.composer.perform(text_editor::Action::Move(text_editor::Motion::DocumentEnd));
                self.replying = None;
                self.editing = Some(seq);
                self.error = None;
                Some(Event::FocusComposer)
            }
            Message::CancelQuote => {
                self.cancel_quote();
                None
            }
            Message::JumpToQuoted(seq) => Some(Event::JumpTo(seq)),
            Message::PickMention(label) => self.complete_mention(&label),
            Message::JumpToMention => self.jump_to_mention(),
            Message::React(seq, emoji) => self.toggle_reaction(seq, emoji),
            Message::ReactWithMore(seq) => {
                self.react_with_more(seq);
                None
            }
            Message::Forward(seq) => {
                self.menu = None;
                Some(Event::Forward(vec![seq]))
            }
            Message::Select(seq) => {
                self.start_selection(seq);
                None
            }
            Message::ToggleSelected(seq) => {
                self.toggle_selected(seq);
                None
            }
            Message::Selection(action) => self.selection_action(action),
            Message::MessageMenu(local_id) => {
                self.menu = local_id;
                self.confirm_delete = None;
                None
            }
            Message::AskDelete(seq, deletion) => {
                self.confirm_delete = Some((seq, deletion));
                None
            }
            Message::ConfirmDelete(sure) => {
                let asked = self.confirm_delete.take();
                self.menu = None;
                match asked {
                    Some((seq, Deletion::ForMe)) if sure => Some(Event::Hide(vec![seq])),
                    Some((seq, Deletion::ForEveryone)) if sure => Some(Event::DeleteForEveryone(seq)),
                    _ => None,
                }
            }
            Message::SelectText(local_id, selected) => {
                self.select_text(local_id, selected);
                None
            }
            Message::SelectingPastEdge(past) => self.selecting_past_edge(past),
            Message::ScrollWhileSelecting => self.scroll_while_selecting(),
            Message::Copy(text) => {
                self.menu = None;
                self.info = Some(t!("chat-copied"));
                Some(Event::Copy(text))
            }
            Message::EmojiQuery(query) => {
                self.emoji_query = query;
                None
            }
            Message::InsertEmoji(emoji) => {
                self.picker.used(&emoji);
                if let Some(seq) = self.reacting {
                    return self.toggle_reaction(seq, emoji);
                }
                self.insert_emoji(emoji)
            }
            Message::EmojiTab(tab) => {
                self.emoji_tab(tab);
                None
            }
            Message::SkinTone(tone) => {
                self.skin_tone(tone);
                None
            }
            Message::ViewImage { upload_id, name } => Some(Event::ViewImage { upload_id, name }),
            Message::Attach => Some(Event::Attach),
            Message::SendStaged => self.send_staged(),
            Message::Unstage(index) => {
                if index < self.staged.len() {
                    self.staged.remove(index);
                }
                None
            }
            Message::Edit(action) => self.edit(action),
            Message::Recall(seq) => {
                self.menu = None;
                let recallable = self.messages.iter().any(|m| m.seq == Some(seq) && self.can_recall(m));
                if !recallable {
                    let seconds = self.limits.recall_window_ms / 1000;
                    self.error = Some(t!("chat-recall-window", seconds = seconds));
                    return None;
                }
                self.error = None;
                Some(Event::Recall(seq))
            }
            Message::Send => self.send(),
        }
    }

    /// The part of message `local_id`'s text selected with the mouse, if any.
    pub fn text_selected(&self, local_id: i64) -> Option<TextSelection> {
        self.text_selection.filter(|(id, _)| *id == local_id).map(|(_, selected)| selected)
    }

    /// The text selected in message `local_id` changed, or ended with a press elsewhere; not
    /// while that press is on the message's menu (its *Copy* takes the selection).
    fn select_text(&mut self, local_id: i64, selected: Option<TextSelection>) {
        match selected {
            Some(selected) => self.text_selection = Some((local_id, selected)),
            None if self.menu != Some(local_id) && self.text_selected(local_id).is_some() => {
                self.text_selection = None;
            }
            None => {}
        }
    }

    /// One's own text message, stored by the server, within the recall window.
    pub fn can_recall(&self, message: &StoredMessage) -> bool {
        message.delivery == Delivery::Sent
            && message.seq.is_some()
            && message.sender_id == Some(self.me)
            && matches!(message.content, Content::Text { .. })
            && self.now_ms.saturating_sub(message.sent_at) < self.limits.recall_window_ms
    }

    /// One's own text message, stored by the server, within the edit window.
    pub fn can_edit(&self, message: &StoredMessage) -> bool {
        message.delivery == Delivery::Sent
            && message.seq.is_some()
            && message.sender_id == Some(self.me)
            && matches!(message.content, Content::Text { edit_of: None, .. })
            && self.now_ms.saturating_sub(message.sent_at) < self.limits.edit_window_ms
    }

    /// Takes back the reply or the edit the composer is set to (an edit's text goes too).
    fn cancel_quote(&mut self) {
        self.replying = None;
        if self.editing.take().is_some() {
            self.composer = text_editor::Content::new();
        }
    }

    /// Message `seq` as the chat knows it: among those read, or read for a quote.
    pub fn message_at(&self, seq: i64) -> Option<&StoredMessage> {
        self.messages.iter().find(|m| m.seq == Some(seq)).or_else(|| self.quoted.get(&seq))
    }

    /// The messages quoted by replies among those read that the chat does not hold.
    pub fn missing_quotes(&self) -> Vec<i64> {
        let mut missing: Vec<i64> = self
            .messages
            .iter()
            .filter_map(|m| match m.content {
                Content::Text { reply_to: Some(seq), .. } => Some(seq),
                _ => None,
            })
            .filter(|seq| self.message_at(*seq).is_none())
            .collect();
        missing.sort_unstable();
        missing.dedup();
        missing
    }

    /// Whether some message can still be recalled (the owner keeps a clock running then).
    pub fn has_recallable(&self) -> bool {
        self.messages.iter().any(|m| self.can_recall(m))
    }

    /// The conversation; `typing` says who is typing in it, if anyone.
    pub fn view<'a>(
        &'a self,
        roster: &'a Roster,
        typing: Option<String>,
        files: &'a Files,
        emoji: Option<&'a EmojiSet>,
        width: f32,
    ) -> Element<'a, Message> {
        let group = roster.groups.contains_key(&self.conversation_id);
        let header = self.header(roster, group, files);
        let log = self.log_view(roster, group, files, emoji);
        let bottom = self.composer_area(roster, typing, files, emoji);
        let mut conversation = iced::widget::column![header].spacing(8);
        if let Some(shown) = self.announcement(roster) {
            conversation =
                conversation.push(announcement::bar(self.conversation_id, shown, self.announcement_open));
        }
        let conversation = conversation.push(log).push(bottom);
        // The members beside the chat when there is room; the conversation keeps its place
        // in the widget tree either way.
        let mut room = row![conversation].spacing(members::MEMBERS_SPACING);
        let mut widest = CHAT_MAX_WIDTH;
        if group && width >= MEMBERS_FROM {
            room = room.push(members::members_view(roster, self.conversation_id, files));
            widest += members::MEMBERS_SPACING + members::MEMBERS_WIDTH;
        }
        // (The cap sits on a container of its own: a row stretches a filling child past it.)
        container(container(room).max_width(widest)).center_x(Length::Fill).into()
    }

    /// The group's announcement, unless there is none or the user hid it.
    pub fn announcement<'a>(&self, roster: &'a Roster) -> Option<&'a kith_shared::api::Announcement> {
        let shown = roster.groups.get(&self.conversation_id)?.group.announcement.as_deref()?;
        self.hidden_announcements.shows(self.conversation_id, shown).then_some(shown)
    }

    /// The title, presence of a friend with "Remove friend" and "Block", or a group's picture
    /// and "Group settings".
    fn header<'a>(&'a self, roster: &'a Roster, group: bool, files: &'a Files) -> Element<'a, Message> {
        let title = roster.title(self.conversation_id);
        let mut header = row![].spacing(10).align_y(Alignment::Center);
        if let Some(mine) = roster.groups.get(&self.conversation_id) {
            let picture = files.avatar(mine.group.avatar_url.as_deref());
            header = header.push(widget::avatar(&mine.group.name, mine.group.id, picture, 32.0));
        }
        header = header.push(widget::emoji_text(&title, 20.0, BOLD, text::default));
        if let Some(kith_shared::frame::Target::User { id }) = roster.target(self.conversation_id)
            && let Some(friend) = roster.friends.get(&id)
        {
            header = header.push(widget::presence_dot(friend.online));
            header = header.push(
                text(if friend.online { t!("online") } else { t!("offline") })
                    .size(13)
                    .style(text::secondary),
            );
            if !self.read_only {
                header = header.push(iced::widget::space().width(Length::Fill));
                header = if self.confirm_unfriend {
                    header
                        .push(
                            button(text(t!("chat-unfriend-sure")).size(13))
                                .style(button::danger)
                                .padding([4, 10])
                                .on_press(Message::Unfriend(true)),
                        )
                        .push(
                            button(text(t!("cancel")).size(13))
                                .style(button::text)
                                .on_press(Message::Unfriend(false)),
                        )
                } else if self.confirm_block {
                    header
                        .push(
                            button(text(t!("chat-block-sure")).size(13))
                                .style(button::danger)
                                .padding([4, 10])
                                .on_press(Message::Block(true)),
                        )
                        .push(
                            button(text(t!("cancel")).size(13))
                                .style(button::text)
                                .on_press(Message::Block(false)),
                        )
                } else {
                    header
                        .push(
                            button(text(t!("chat-unfriend")).size(13))
                                .style(button::secondary)
                                .padding([4, 10])
                                .on_press(Message::AskUnfriend),
                        )
                        .push(
                            button(text(t!("chat-block")).size(13))
                                .style(button::secondary)
                                .padding([4, 10])
                                .on_press(Message::AskBlock),
                        )
                };
            }
        }
        if group && !self.read_only {
            if roster.groups.get(&self.conversation_id).is_some_and(|g| g.muted) {
                header = header.push(text(t!("chat-muted")).size(13).style(text::secondary));
            }
            if let Some(jump) = self.mention_jump() {
                header = header.push(jump);
            }
            header = header.push(iced::widget::space().width(Length::Fill)).push(
                button(text(t!("group-settings")).size(13))
                    .style(button::secondary)
                    .padding([4, 10])
                    .on_press(Message::ManageGroup),
            );
        }
        header.into()
    }
}

/// A picture, file or sticker in words (None for text and events): "Picture: cat.jpg".
pub fn attachment_words(content: &Content) -> Option<String> {
    let named = |kind: String, name: &str| {
        if name.is_empty() { kind } else { t!("attachment-named", kind = kind, name = name) }
    };
    match content {
        Content::Image { name, .. } => Some(named(t!("attachment-picture"), name)),
        Content::File { name, .. } => Some(named(t!("attachment-file"), name)),
        Content::Sticker { code } => Some(t!("attachment-sticker", code = code)),
        _ => None,
    }
}

/// Whether a message counts as news (not a recall marker or a group notice).
fn counts_as_new(content: &Content) -> bool {
    !matches!(content, Content::Recall { .. } | Content::Notice { .. } | Content::Recalled { .. })
}

/// The widest the conversation gets; a wider window centres it.
pub const CHAT_MAX_WIDTH: f32 = 900.0;

/// A group event in words.
pub fn describe_notice(notice: &Notice) -> String {
    match notice {
        Notice::Created { name, .. } => t!("notice-created", name = name),
        Notice::Joined { name, .. } => t!("notice-joined", name = name),
        Notice::Left { name, .. } => t!("notice-left", name = name),
        Notice::Removed { name, .. } => t!("notice-removed", name = name),
        Notice::OwnerChanged { name, .. } => t!("notice-owner-changed", name = name),
        Notice::Dissolved { .. } => t!("notice-dissolved"),
    }
}

#[cfg(test)]
pub(super) mod tests {
    use super::*;

    pub(crate) fn typed(text: &str) -> Chat {
        let mut chat = Chat::new(3, 7);
        chat.composer = text_editor::Content::with_text(text);
        chat
    }

    pub(crate) fn sent(seq: i64, sender: UserId, sent_at: i64) -> StoredMessage {
        StoredMessage {
            local_id: seq,
            conversation_id: 3,
            seq: Some(seq),
            server_id: Some(100 + seq),
            client_id: None,
            sender_id: Some(sender),
            sent_at,
            content: Content::text(format!("m{seq}")),
            delivery: Delivery::Sent,
            edited_at: None,
            hidden: false,
            forwarded_from: None,
        }
    }

    pub(crate) fn paste(text: &str) -> Message {
        Message::Edit(text_editor::Action::Edit(text_editor::Edit::Paste(std::sync::Arc::new(text.into()))))
    }

    #[test]
    fn selected_text_ends_with_a_press_elsewhere_or_escape_but_not_in_its_menu() {
        let mut chat = typed("");
        chat.messages = vec![sent(1, 8, 0), sent(2, 8, 0)];
        let part = TextSelection { anchor: 2, head: 0 };
        let _ = chat.update(Message::SelectText(1, Some(part)));
        assert_eq!(chat.text_selected(1), Some(part));
        assert_eq!(chat.text_selected(2), None, "one message's text at a time");
        assert_eq!(part.of("m1 and more"), Some("m1"), "first to last, whichever came first");

        // The message's menu is open: a press on its Copy leaves the selection to copy.
        let _ = chat.update(Message::MessageMenu(Some(1)));
        let _ = chat.update(Message::SelectText(1, None));
        assert_eq!(chat.text_selected(1), Some(part));
        let _ = chat.update(Message::MessageMenu(None));
        // Message 2's text reports a press elsewhere: it holds no selection, nothing ends.
        let _ = chat.update(Message::SelectText(2, None));
        assert_eq!(chat.text_selected(1), Some(part));
        let _ = chat.update(Message::SelectText(1, None));
        assert_eq!(chat.text_selection, None, "a press elsewhere ends it");

        // Escape ends a selection before it takes back a reply.
        chat.replying = Some(2);
        let _ = chat.update(Message::SelectText(1, Some(part)));
        let _ = chat.update(Message::ClosePanels);
        assert_eq!((chat.text_selection, chat.replying), (None, Some(2)));
        let _ = chat.update(Message::ClosePanels);
        assert_eq!(chat.replying, None);
    }

    #[test]
    fn the_servers_limits_decide_length_and_recall() {
        let now = 1_800_000_000_000;
        let mut chat = typed(&"x".repeat(11));
        chat.now_ms = now;
        chat.limits = socket::Limits { max_text_chars: 10, recall_window_ms: 5_000, edit_window_ms: 9_000 };
        assert_eq!(chat.update(Message::Send), None, "over this server's limit");
        assert_eq!(chat.error.as_deref(), Some("A message has at most 10 characters."));
        assert!(chat.can_recall(&sent(1, 7, now - 4_000)));
        assert!(!chat.can_recall(&sent(2, 7, now - 6_000)), "outside this server's window");
    }

    #[test]
    fn only_own_recent_sent_text_can_be_recalled() {
        let now = 1_800_000_000_000;
        let mut chat = typed("");
        chat.now_ms = now;
        let mine = sent(1, 7, now - 1_000);
        let theirs = sent(2, 8, now - 1_000);
        let old = sent(3, 7, now - chat.limits.recall_window_ms);
        let pending = StoredMessage { seq: None, delivery: Delivery::Pending, ..sent(4, 7, now) };
        let recalled = StoredMessage { content: Content::RECALLED, ..sent(5, 7, now) };
        assert!(chat.can_recall(&mine));
        assert!(!chat.can_recall(&theirs));
        assert!(!chat.can_recall(&old));
        assert!(!chat.can_recall(&pending));
        assert!(!chat.can_recall(&recalled));

        chat.messages = vec![mine, theirs, old];
        assert!(chat.has_recallable());
        assert_eq!(chat.update(Message::Recall(1)), Some(Event::Recall(1)));
        assert_eq!(chat.update(Message::Recall(3)), None, "the window has passed");
        assert!(chat.error.is_some());
        chat.now_ms = now + chat.limits.recall_window_ms;
        assert!(!chat.has_recallable());
    }

    #[test]
    fn a_reply_goes_with_what_it_quotes_and_an_edit_replaces_the_text() {
        let now = 1_800_000_000_000;
        let mut chat = typed("");
        chat.now_ms = now;
        chat.messages = vec![sent(1, 8, now), sent(2, 7, now)];
        assert_eq!(chat.update(Message::Reply(1)), Some(Event::FocusComposer));
        chat.composer = text_editor::Content::with_text("sure");
        assert_eq!(
            chat.update(Message::Send),
            Some(Event::Reply { text: "sure".into(), reply_to: 1, files: vec![] })
        );
        assert_eq!(chat.replying, None, "sent: the next message is no reply");

        assert_eq!(chat.update(Message::StartEdit(2)), Some(Event::FocusComposer));
        assert_eq!(chat.composer.text().trim_end(), "m2", "the composer holds the old text");
        chat.composer = text_editor::Content::with_text("m2, fixed");
        assert_eq!(chat.update(Message::Send), Some(Event::Edit { seq: 2, text: "m2, fixed".into() }));
        assert_eq!(chat.editing, None);
        assert_eq!(chat.update(Message::StartEdit(1)), None, "not one's own");
        assert!(chat.error.is_some());
    }

    #[test]
    fn only_own_sent_text_within_the_window_can_be_edited() {
        let now = 1_800_000_000_000;
        let mut chat = typed("");
        chat.now_ms = now;
        let window = chat.limits.edit_window_ms;
        assert!(chat.can_edit(&sent(1, 7, now - window + 1)));
        assert!(!chat.can_edit(&sent(2, 7, now - window)), "the window has passed");
        assert!(!chat.can_edit(&sent(3, 8, now)), "someone else's");
        let pending = StoredMessage { seq: None, delivery: Delivery::Pending, ..sent(4, 7, now) };
        let recalled = StoredMessage { content: Content::RECALLED, ..sent(5, 7, now) };
        assert!(!chat.can_edit(&pending));
        assert!(!chat.can_edit(&recalled));
    }

    #[test]
    fn a_quote_names_the_sender_and_says_when_the_message_was_recalled() {
        let mut chat = typed("");
        let roster = Roster::new(7);
        let recalled = StoredMessage { content: Content::RECALLED, ..sent(1, 8, 0) };
        let reply = StoredMessage {
            content: Content::Text {
                text: "why?".into(),
                reply_to: Some(1),
                edit_of: None,
                reaction_of: None,
                mentions: Default::default(),
            },
            ..sent(3, 7, 0)
        };
        chat.messages = vec![sent(2, 7, 0), reply];
        assert_eq!(chat.missing_quotes(), [1], "older than the messages read");
        assert_eq!(chat.quote_words(&roster, 1).1, "An earlier message", "not known yet");
        chat.quoted.insert(1, recalled);
        assert!(chat.missing_quotes().is_empty());
        assert_eq!(chat.quote_words(&roster, 1), ("User 8".to_owned(), "Message recalled".to_owned()));
        assert_eq!(chat.quote_words(&roster, 2), ("You".to_owned(), "m2".to_owned()));
    }

    #[test]
    fn deleting_asks_again_and_says_for_whom() {
        let mut chat = typed("");
        chat.messages = vec![sent(1, 8, 0), sent(2, 7, 0)];
        chat.update(Message::MessageMenu(Some(1)));
        assert_eq!(chat.update(Message::AskDelete(1, Deletion::ForMe)), None, "asked first");
        assert_eq!(chat.confirm_delete, Some((1, Deletion::ForMe)));
        assert_eq!(chat.update(Message::ConfirmDelete(true)), Some(Event::Hide(vec![1])));
        assert_eq!((chat.menu, chat.confirm_delete), (None, None), "the menu closes");
        // Taken back: nothing happens.
        chat.update(Message::AskDelete(2, Deletion::ForEveryone));
        assert_eq!(chat.update(Message::ConfirmDelete(false)), None);
        assert_eq!(chat.update(Message::ConfirmDelete(true)), None, "no longer asked");
        chat.update(Message::AskDelete(1, Deletion::ForEveryone));
        assert_eq!(chat.update(Message::ConfirmDelete(true)), Some(Event::DeleteForEveryone(1)));
        // Escape takes the question back too; offline nothing is asked.
        chat.update(Message::AskDelete(1, Deletion::ForMe));
        chat.update(Message::ClosePanels);
        assert_eq!(chat.update(Message::ConfirmDelete(true)), None);
        chat.read_only = true;
        chat.update(Message::AskDelete(1, Deletion::ForMe));
        assert_eq!(chat.confirm_delete, None);
    }

    #[test]
    fn the_announcement_bar_shows_until_hidden_and_again_when_it_changes() {
        use kith_shared::api::{Announcement, GroupProfile, MyGroup, Role};
        let announcement = |text: &str, set_at| Announcement {
            text: text.into(),
            set_by: 9,
            set_by_name: "Ann".into(),
            set_at,
        };
        let group = |announcement| MyGroup {
            group: GroupProfile {
                id: 3,
                name: "Climbers".into(),
                description: String::new(),
                owner_id: 9,
                member_count: 3,
                created_at: 0,
                announcement,
                avatar_url: None,
            },
            role: Role::Member,
            muted: false,
        };
        let mut roster = Roster::new(7);
        let mut chat = Chat::new(3, 7);
        roster.set_groups(vec![group(None)]);
        assert_eq!(chat.announcement(&roster), None, "none set");
        roster.set_groups(vec![group(Some(Box::new(announcement("Friday", 10))))]);
        assert_eq!(chat.announcement(&roster).map(|a| a.text.as_str()), Some("Friday"));
        assert_eq!(chat.update(Message::HideAnnouncement(3, 10)), None);
        assert_eq!(chat.announcement(&roster), None, "hidden");
        roster.set_groups(vec![group(Some(Box::new(announcement("Saturday", 20))))]);
        assert_eq!(chat.announcement(&roster).map(|a| a.text.as_str()), Some("Saturday"), "changed");
        // Offline the bar can still be hidden.
        chat.read_only = true;
        chat.update(Message::HideAnnouncement(3, 20));
        assert_eq!(chat.announcement(&roster), None);
    }

    #[test]
    fn a_long_announcement_shows_its_first_line_until_more_is_clicked() {
        use kith_shared::api::{Announcement, GroupProfile, MyGroup, Role};
        let text = "Meet at the wall on Friday\nBring shoes\nAnd chalk";
        let mut roster = Roster::new(7);
        roster.set_groups(vec![MyGroup {
            group: GroupProfile {
                id: 3,
                name: "Climbers".into(),
                description: String::new(),
                owner_id: 1,
                member_count: 2,
                created_at: 0,
                announcement: Some(Box::new(Announcement {
                    text: text.into(),
                    set_by: 1,
                    set_by_name: "Ann".into(),
                    set_at: 10,
                })),
                avatar_url: None,
            },
            role: Role::Member,
            muted: false,
        }]);
        let mut chat = Chat::new(3, 7);
        let files = crate::files::Files::default();
        let mut ui = iced_test::Simulator::with_settings(
            crate::tests::fonts(),
            chat.view(&roster, None, &files, None, 800.0),
        );
        assert!(ui.find("Meet at the wall on Friday…").is_ok(), "folded to its first line");
        assert!(ui.find("Bring shoes").is_err());
        ui.click("More").expect("More on the bar");
        let messages: Vec<Message> = ui.into_messages().collect();
        for message in messages {
            chat.update(message);
        }
        assert!(chat.announcement_open);
        let mut ui = iced_test::Simulator::with_settings(
            crate::tests::fonts(),
            chat.view(&roster, None, &files, None, 800.0),
        );
        assert!(ui.find(text).is_ok(), "the whole announcement, line by line");
        ui.click("Less").expect("Less folds it again");
        let messages: Vec<Message> = ui.into_messages().collect();
        for message in messages {
            chat.update(message);
        }
        assert!(!chat.announcement_open);

        // One short line has nothing more to show.
        let short = MyGroup {
            group: GroupProfile {
                announcement: Some(Box::new(Announcement {
                    text: "Friday".into(),
                    set_by: 1,
                    set_by_name: "Ann".into(),
                    set_at: 11,
                })),
                ..roster.groups[&3].group.clone()
            },
            ..roster.groups[&3].clone()
        };
        roster.set_groups(vec![short]);
        let mut ui = iced_test::Simulator::with_settings(
            crate::tests::fonts(),
            chat.view(&roster, None, &files, None, 800.0),
        );
        assert!(ui.find("Friday").is_ok());
        assert!(ui.find("More").is_err());
    }

    #[test]
    fn only_a_groups_owner_and_admins_delete_others_messages_for_everyone() {
        use kith_shared::api::{GroupProfile, MyGroup, Role};
        let group = |role| MyGroup {
            group: GroupProfile {
                id: 3,
                name: "Climbers".into(),
                description: String::new(),
                owner_id: 9,
                member_count: 3,
                created_at: 0,
                announcement: None,
                avatar_url: None,
            },
            role,
            muted: false,
        };
        let mut roster = Roster::new(7);
        let theirs = sent(1, 8, 0);
        let owners = sent(2, 9, 0);
        let mine = sent(3, 7, 0);
        let notice = StoredMessage { sender_id: None, ..sent(4, 8, 0) };
        assert!(!menu::may_delete_for_everyone(&roster, 3, 7, &theirs), "not a group");
        roster.set_groups(vec![group(Role::Member)]);
        assert!(!menu::may_delete_for_everyone(&roster, 3, 7, &theirs), "a member");
        roster.set_groups(vec![group(Role::Admin)]);
        assert!(menu::may_delete_for_everyone(&roster, 3, 7, &theirs));
        assert!(!menu::may_delete_for_everyone(&roster, 3, 7, &owners), "an admin, the owner's");
        assert!(!menu::may_delete_for_everyone(&roster, 3, 7, &mine), "one's own is recalled");
        assert!(!menu::may_delete_for_everyone(&roster, 3, 7, &notice));
        roster.set_groups(vec![MyGroup {
            group: GroupProfile { owner_id: 7, ..group(Role::Owner).group },
            ..group(Role::Owner)
        }]);
        assert!(menu::may_delete_for_everyone(&roster, 3, 7, &theirs));
        let deleted = StoredMessage { content: Content::RECALLED, ..sent(5, 8, 0) };
        assert!(!menu::may_delete_for_everyone(&roster, 3, 7, &deleted));
    }

    #[test]
    fn a_quote_of_a_deleted_message_says_so() {
        use kith_shared::frame::Moderator;
        let mut chat = typed("");
        let roster = Roster::new(7);
        let by = Some(Moderator { user_id: 9, name: "Ann".into() });
        chat.quoted.insert(1, StoredMessage { content: Content::Recalled { by }, ..sent(1, 8, 0) });
        chat.quoted.insert(2, StoredMessage { hidden: true, ..sent(2, 8, 0) });
        assert_eq!(chat.quote_words(&roster, 1).1, "Message deleted");
        assert_eq!(chat.quote_words(&roster, 2).1, "Message deleted");
    }

    #[test]
    fn notices_read_as_sentences() {
        assert_eq!(describe_notice(&Notice::Joined { user_id: 1, name: "Bob".into() }), "Bob joined");
        assert_eq!(describe_notice(&Notice::Dissolved { by: 1 }), "The group was dissolved");
    }

    #[test]
    fn offline_chats_scroll_but_do_not_send() {
        let mut chat = typed("hello");
        chat.read_only = true;
        assert_eq!(chat.update(Message::Send), None);
        chat.update(Message::Scrolled { from_top: 0.0, from_bottom: 300.0 });
        assert!(chat.hold_after.is_some());
    }
}

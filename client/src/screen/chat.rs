//! A conversation: its messages from the local cache with their local times and day
//! separators, who is typing, recall of one's own recent messages, and the composer (Enter
//! sends, Shift+Enter starts a new line; editing tells the others one is typing).

use crate::clock;
use crate::emoji::{self, EmojiSet, Segment};
use crate::files::{self, Files, Picture};
use crate::history::{Delivery, StoredMessage};
use crate::roster::Roster;
use crate::socket;
use crate::widget::{self, BOLD, Element};
use iced::keyboard::{self, key};
use iced::widget::{
    button, column, container, image, progress_bar, row, scrollable, stack, text, text_editor,
};
use iced::{Alignment, Length};
use kith_shared::UserId;
use kith_shared::api::ConversationId;
use kith_shared::frame::{Content, Notice};
use std::path::PathBuf;
use std::time::{Duration, Instant};

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
}

/// At most one typing notice per this interval (the server passes on no more).
pub const TYPING_EVERY: Duration = Duration::from_secs(2);

/// Messages read from the cache at first, and added each time the user scrolls to the top.
pub const PAGE: u32 = 100;

/// Messages shown after a search result, for context.
const AROUND: i64 = 3;

/// Within this many pixels of the newest message the view counts as following it.
const BOTTOM_SLACK: f32 = 24.0;

/// Within this many pixels of the oldest message shown, older ones are loaded.
const TOP_SLACK: f32 = 80.0;

/// Most messages read from the cache at first to reach the first unread one; past that the
/// chat opens at the newest message as usual.
const UNREAD_REACH: u32 = 1000;

/// Room left above the "New messages" divider when the chat opens there.
const ABOVE_DIVIDER: f32 = 8.0;

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
    /// A panel covered the chat, so its log was made afresh: it is being put back at
    /// `from_bottom`, and what it reports until then is not the user's scrolling.
    pub restoring: bool,
    /// "Remove friend" was clicked once: the header asks again.
    pub confirm_unfriend: bool,
    /// Files dropped on the window or chosen, shown (pictures previewed) until sent.
    pub staged: Vec<Staged>,
}

#[derive(Debug, Clone)]
pub enum Message {
    Edit(text_editor::Action),
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
    /// Open or close the emoji panel.
    ToggleEmoji,
    EmojiQuery(String),
    /// Put this emoji into the composer where the cursor is.
    InsertEmoji(String),
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
    Download {
        upload_id: String,
        name: String,
    },
    CancelTransfer(String),
    OpenFile(PathBuf),
    ShowInFolder(PathBuf),
    ManageGroup,
    /// End the friendship with the other side of this one-to-one chat.
    Unfriend,
    ViewImage {
        upload_id: String,
        name: String,
    },
    /// Upload and send these files.
    SendFiles(Vec<PathBuf>),
    /// Send this text and these files.
    SendWithFiles(String, Vec<PathBuf>),
    Attach,
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
            pinned: false,
            highlight: None,
            read_upto: None,
            unread_after: None,
            start_at_unread: false,
            from_bottom: 0.0,
            restoring: false,
            confirm_unfriend: false,
            staged: Vec::new(),
        }
    }

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

    /// Shows the conversation as it was around message `seq` (a search result): the log
    /// ends a few messages after it, which is marked; newer ones wait below the chip.
    pub fn show_around(&mut self, seq: i64, limit: u32) {
        self.limit = limit.max(PAGE);
        // The result decides where the view is, not the first unread message.
        self.start_at_unread = false;
        self.hold_after = Some(seq + AROUND);
        self.pinned = true;
        self.highlight = Some(seq);
    }

    /// Notes how far the user had read before opening the chat (`read_seq`, with `last_seq`
    /// the newest message): with unread messages, a divider marks the first and the chat
    /// reads enough of the cache to start there.
    pub fn opened_after(&mut self, read_seq: i64, last_seq: i64, unread: bool) {
        self.read_upto = Some(read_seq);
        if unread && last_seq > read_seq {
            self.unread_after = Some(read_seq);
            self.start_at_unread = true;
            let behind = u32::try_from(last_seq - read_seq).unwrap_or(u32::MAX);
            self.limit = behind.saturating_add(AROUND as u32).clamp(PAGE, UNREAD_REACH);
        }
    }

    /// The sequence number of the first message unread when the chat opened, if it is shown.
    pub fn first_unread(&self) -> Option<i64> {
        let after = self.unread_after?;
        self.visible()
            .filter(|m| m.sender_id != Some(self.me) && counts_as_new(&m.content))
            .filter_map(|m| m.seq)
            .find(|seq| *seq > after)
    }

    /// Takes the conversation as read from the cache (the newest `limit` messages).
    pub fn set_messages(&mut self, messages: Vec<StoredMessage>) {
        self.loading_older = false;
        self.messages = messages;
        self.now_ms = clock::now_ms();
    }

    /// The messages on screen: all, unless some are held back while the user reads above.
    pub fn visible(&self) -> impl Iterator<Item = &StoredMessage> {
        self.messages.iter().filter(|m| !self.held(m))
    }

    fn held(&self, message: &StoredMessage) -> bool {
        match (self.hold_after, message.seq) {
            // One's own messages always show: sending brings the view down.
            (Some(after), Some(seq)) => seq > after && message.sender_id != Some(self.me),
            _ => false,
        }
    }

    /// New messages from others waiting below while the user reads above: held back, and
    /// not read before the chat opened (a search result in old history holds back messages
    /// the user has seen).
    pub fn unseen(&self) -> usize {
        self.messages
            .iter()
            .filter(|m| self.held(m) && m.sender_id != Some(self.me) && counts_as_new(&m.content))
            .filter(|m| match (self.read_upto, m.seq) {
                (Some(read), Some(seq)) => seq > read,
                _ => true,
            })
            .count()
    }

    /// What the chip under the log says, when messages wait below.
    fn chip(&self) -> Option<String> {
        match self.unseen() {
            // Nothing new, but the view is not at the end (a search result in read history).
            0 if self
                .messages
                .iter()
                .any(|m| self.held(m) && !matches!(m.content, Content::Recall { .. })) =>
            {
                Some("Newest messages ↓".to_owned())
            }
            0 => None,
            1 => Some("1 new message ↓".to_owned()),
            unseen => Some(format!("{unseen} new messages ↓")),
        }
    }

    /// Whether the cache may hold older messages than the ones read.
    fn may_have_older(&self) -> bool {
        self.messages.len() >= self.limit as usize
    }

    /// Shows everything again and follows the newest message.
    fn follow(&mut self) {
        self.hold_after = None;
        self.pinned = false;
        self.highlight = None;
    }

    pub fn update(&mut self, message: Message) -> Option<Event> {
        let reading = match &message {
            Message::Edit(action) => !action.is_edit(),
            Message::Scrolled { .. } | Message::JumpToNewest | Message::Restored => true,
            Message::OpenFile(_) | Message::ShowInFolder(_) => true,
            Message::AskUnfriend | Message::Unfriend(_) => false,
            Message::ManageGroup
            | Message::ToggleEmoji
            | Message::EmojiQuery(_)
            | Message::InsertEmoji(_) => false,
            Message::ClosePanels | Message::ViewImage { .. } => true,
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
            Message::Scrolled { from_top, from_bottom } => {
                self.from_bottom = from_bottom;
                if self.pinned {
                    // The view was laid out at a search result; the user's own scrolling
                    // decides from here on.
                    if from_bottom > BOTTOM_SLACK {
                        self.pinned = false;
                    }
                } else if from_bottom <= BOTTOM_SLACK {
                    self.follow();
                } else if self.hold_after.is_none() {
                    // The user scrolled up to read: hold the view where it is.
                    self.hold_after = Some(self.messages.iter().filter_map(|m| m.seq).max().unwrap_or(0));
                }
                if from_top <= TOP_SLACK && !self.loading_older && self.may_have_older() {
                    self.loading_older = true;
                    self.limit += PAGE;
                    return Some(Event::LoadOlder);
                }
                None
            }
            Message::JumpToNewest => {
                self.follow();
                Some(Event::ScrollToNewest)
            }
            Message::Download { upload_id, name } => Some(Event::Download { upload_id, name }),
            Message::CancelTransfer(key) => Some(Event::CancelTransfer(key)),
            Message::OpenFile(path) => Some(Event::OpenFile(path)),
            Message::ShowInFolder(path) => Some(Event::ShowInFolder(path)),
            Message::ManageGroup => Some(Event::ManageGroup),
            Message::AskUnfriend => {
                self.confirm_unfriend = true;
                None
            }
            Message::Unfriend(sure) => {
                let asked = std::mem::take(&mut self.confirm_unfriend);
                (sure && asked).then_some(Event::Unfriend)
            }
            Message::ToggleEmoji => {
                self.emoji_open = !self.emoji_open;
                self.emoji_query.clear();
                None
            }
            Message::ClosePanels => {
                self.emoji_open = false;
                None
            }
            Message::ViewImage { upload_id, name } => Some(Event::ViewImage { upload_id, name }),
            Message::Attach => Some(Event::Attach),
            Message::SendStaged => {
                let files = self.take_staged();
                if files.is_empty() {
                    return None;
                }
                self.follow();
                Some(Event::SendFiles(files))
            }
            Message::Unstage(index) => {
                if index < self.staged.len() {
                    self.staged.remove(index);
                }
                None
            }
            Message::EmojiQuery(query) => {
                self.emoji_query = query;
                None
            }
            Message::InsertEmoji(emoji) => {
                let paste = text_editor::Action::Edit(text_editor::Edit::Paste(std::sync::Arc::new(emoji)));
                self.composer.perform(paste);
                self.typing_due(Instant::now()).then_some(Event::Typing)
            }
            Message::Edit(text_editor::Action::Edit(text_editor::Edit::Paste(pasted)))
                if !files::pasted_files(&pasted).is_empty() =>
            {
                // Files copied in a file manager arrive as their paths: they wait to be sent.
                for path in files::pasted_files(&pasted) {
                    self.stage(path);
                }
                None
            }
            Message::Edit(action) => {
                let edit = action.is_edit();
                self.composer.perform(action);
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
            Message::Recall(seq) => {
                let recallable = self.messages.iter().any(|m| m.seq == Some(seq) && self.can_recall(m));
                if !recallable {
                    let seconds = self.limits.recall_window_ms / 1000;
                    self.error =
                        Some(format!("Messages can be recalled for {seconds} seconds after sending."));
                    return None;
                }
                self.error = None;
                Some(Event::Recall(seq))
            }
            Message::Send => {
                let text = self.composer.text();
                let text = text.trim_end_matches(['\n', '\r']).trim_start_matches(['\n', '\r']);
                if text.trim().is_empty() {
                    // Enter with files waiting sends them.
                    return self.update(Message::SendStaged);
                }
                if text.chars().count() > self.limits.max_text_chars {
                    self.error = Some(self.too_long());
                    return None;
                }
                let text = text.to_owned();
                self.error = None;
                self.follow();
                self.composer = text_editor::Content::new();
                // The message itself ends the typing; the next edit may say so again.
                self.typing_sent = None;
                let files = self.take_staged();
                if files.is_empty() {
                    Some(Event::Send(text))
                } else {
                    Some(Event::SendWithFiles(text, files))
                }
            }
        }
    }

    /// The error shown for a message over the server's limit.
    fn too_long(&self) -> String {
        format!("A message has at most {} characters.", self.limits.max_text_chars)
    }

    /// Whether a typing notice may go out now, and if so, notes that it does.
    pub fn typing_due(&mut self, now: Instant) -> bool {
        if self.typing_sent.is_some_and(|at| now.duration_since(at) < TYPING_EVERY) {
            return false;
        }
        self.typing_sent = Some(now);
        true
    }

    /// One's own text message, stored by the server, within the recall window.
    pub fn can_recall(&self, message: &StoredMessage) -> bool {
        message.delivery == Delivery::Sent
            && message.seq.is_some()
            && message.sender_id == Some(self.me)
            && matches!(message.content, Content::Text { .. })
            && self.now_ms.saturating_sub(message.sent_at) < self.limits.recall_window_ms
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
                    button(text("Remove").size(12))
                        .style(button::text)
                        .padding([3, 6])
                        .on_press(Message::Unstage(index)),
                ]
                .spacing(10)
                .align_y(Alignment::Center),
            );
        }
        let label = match self.staged.len() {
            1 => "Send the file".to_owned(),
            n => format!("Send {n} files"),
        };
        list = list.push(button(text(label).size(13)).padding([6, 14]).on_press(Message::SendStaged));
        container(list).padding(8).style(container::rounded_box).into()
    }

    /// The emoji panel: a search field and the matching emoji; a click inserts one.
    fn emoji_panel<'a>(&'a self, set: &'a EmojiSet) -> Element<'a, Message> {
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
        let title = roster.title(self.conversation_id);
        let mut header = row![text(title).size(20).font(BOLD)].spacing(10).align_y(Alignment::Center);
        if let Some(kith_shared::frame::Target::User { id }) = roster.target(self.conversation_id)
            && let Some(friend) = roster.friends.get(&id)
        {
            header = header.push(widget::presence_dot(friend.online));
            header = header
                .push(text(if friend.online { "online" } else { "offline" }).size(13).style(text::secondary));
            if !self.read_only {
                header = header.push(iced::widget::space().width(Length::Fill));
                header = if self.confirm_unfriend {
                    header
                        .push(
                            button(text("Remove friend: sure?").size(13))
                                .style(button::danger)
                                .padding([4, 10])
                                .on_press(Message::Unfriend(true)),
                        )
                        .push(
                            button(text("Cancel").size(13))
                                .style(button::text)
                                .on_press(Message::Unfriend(false)),
                        )
                } else {
                    header.push(
                        button(text("Remove friend").size(13))
                            .style(button::secondary)
                            .padding([4, 10])
                            .on_press(Message::AskUnfriend),
                    )
                };
            }
        }
        let group = roster.groups.contains_key(&self.conversation_id);
        if group && !self.read_only {
            if roster.groups.get(&self.conversation_id).is_some_and(|g| g.muted) {
                header = header.push(text("muted").size(13).style(text::secondary));
            }
            header = header.push(iced::widget::space().width(Length::Fill)).push(
                button(text("Group settings").size(13))
                    .style(button::secondary)
                    .padding([4, 10])
                    .on_press(Message::ManageGroup),
            );
        }
        let today = clock::day(self.now_ms);
        let mut lines = column![].spacing(8).padding([0, 8]);
        let mut last_day = None;
        let first_unread = self.first_unread();
        for message in self.visible() {
            if matches!(message.content, Content::Recall { .. }) {
                // The recall itself is not a line: the recalled message shows it.
                continue;
            }
            let day = clock::day(message.sent_at);
            if day.is_some() && day != last_day {
                if let (Some(day), Some(today)) = (day, today) {
                    lines = lines.push(widget::day_separator(clock::day_label(day, today)));
                }
                last_day = day;
            }
            if message.seq.is_some() && message.seq == first_unread {
                lines =
                    lines.push(container(widget::day_separator("New messages".to_owned())).id(id::UNREAD));
            }
            if message.seq.is_some() && message.seq == self.highlight {
                lines = lines.push(widget::day_separator("Found".to_owned()));
            }
            lines = lines.push(self.line(message, roster, group, files, emoji));
        }
        if self.loading_older {
            lines = column![widget::system_line("Loading older messages…".to_owned()), lines].spacing(8);
        }
        let log = scrollable(lines)
            .id(id::LOG)
            .anchor_bottom()
            .on_scroll(|viewport| Message::Scrolled {
                // Anchored at the bottom: the offset counts from the newest message.
                from_bottom: viewport.absolute_offset().y,
                from_top: viewport.absolute_offset_reversed().y,
            })
            .spacing(4)
            .height(Length::Fill)
            .width(Length::Fill);
        // The log is always the first layer, chip or not: the widget tree keeps its shape, so
        // the log keeps its scroll position when the chip comes or goes. (Were the log alone
        // one moment and in a stack the next, its state would be made afresh, at the bottom.)
        let mut log = stack![log];
        if let Some(label) = self.chip() {
            let chip = button(text(label).size(13)).padding([6, 14]).on_press(Message::JumpToNewest);
            log = log.push(
                container(chip)
                    .width(Length::Fill)
                    .height(Length::Fill)
                    .align_x(Alignment::Center)
                    .align_y(Alignment::End)
                    .padding(10),
            );
        }
        // The typing line keeps its height, so the log does not jump when it appears.
        let typing = text(typing.unwrap_or_default()).size(12).style(text::secondary).height(16);
        let mut bottom = column![].spacing(4);
        if !self.staged.is_empty() {
            bottom = bottom.push(self.staged_view(files));
        }
        if let (true, Some(set)) = (self.emoji_open, emoji) {
            bottom = bottom.push(self.emoji_panel(set));
        }
        for (key, upload) in files.uploads(self.conversation_id) {
            bottom = bottom.push(transfer_line(&format!("Sending {}", upload.name), key, upload));
        }
        let mut bottom = bottom.push(column![typing, self.composer_row(emoji.is_some())].spacing(4));
        if let Some(error) = &self.error {
            bottom = bottom.push(widget::error_line(error));
        }
        if let Some(info) = &self.info {
            bottom = bottom.push(text(info.clone()).size(13).style(text::success));
        }
        let conversation = column![header, log, bottom].spacing(8);
        // The members beside the chat when there is room; the conversation keeps its place
        // in the widget tree either way.
        let mut room = row![conversation].spacing(MEMBERS_SPACING);
        let mut widest = CHAT_MAX_WIDTH;
        if group && width >= MEMBERS_FROM {
            room = room.push(members_view(roster, self.conversation_id, files));
            widest += MEMBERS_SPACING + MEMBERS_WIDTH;
        }
        // (The cap sits on a container of its own: a row stretches a filling child past it.)
        container(container(room).max_width(widest)).center_x(Length::Fill).into()
    }

    /// The composer with its buttons: in a row when there is room, else the field on a line
    /// of its own with the buttons below, so the field stays wide enough to write in.
    fn composer_row(&self, emoji: bool) -> Element<'_, Message> {
        iced::widget::responsive(move |size| {
            let emoji_button = button(text("☺").size(18))
                .style(if self.emoji_open { button::primary } else { button::secondary })
                .padding([6, 10])
                .on_press_maybe((!self.read_only && emoji).then_some(Message::ToggleEmoji));
            let files_button = button(text("Files").size(13))
                .style(button::secondary)
                .padding([8, 10])
                .on_press_maybe((!self.read_only).then_some(Message::Attach));
            let send = button(text("Send"))
                .on_press_maybe((!self.read_only).then_some(Message::Send))
                .padding([8, 18]);
            if size.width < STACK_COMPOSER_BELOW {
                let buttons =
                    row![emoji_button, files_button, iced::widget::space().width(Length::Fill), send]
                        .spacing(8)
                        .align_y(Alignment::Center);
                let editor = self.composer(size.width);
                column![container(editor).width(Length::Fill).max_height(160), buttons].spacing(6).into()
            } else {
                // The buttons take about BUTTONS_WIDTH; the field has the rest.
                let editor = self.composer(size.width - BUTTONS_WIDTH);
                row![emoji_button, files_button, container(editor).width(Length::Fill).max_height(160), send]
                    .spacing(8)
                    .align_y(Alignment::End)
                    .into()
            }
        })
        .height(Length::Shrink)
        .into()
    }

    /// The message field, about `width` wide (its placeholder is chosen to fit on one line).
    fn composer(&self, width: f32) -> Element<'_, Message> {
        let mut composer =
            text_editor(&self.composer).id(id::COMPOSER).placeholder(placeholder(self.read_only, width));
        if !self.read_only {
            // Without an action the editor is disabled.
            composer = composer.on_action(Message::Edit);
        }
        composer
            .height(Length::Shrink)
            .padding(8)
            .key_binding(|press| {
                let enter = matches!(press.key.as_ref(), keyboard::Key::Named(key::Named::Enter));
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

    fn line<'a>(
        &self,
        message: &StoredMessage,
        roster: &Roster,
        group: bool,
        files: &'a Files,
        emoji: Option<&'a EmojiSet>,
    ) -> Element<'a, Message> {
        let mine = message.sender_id == Some(self.me);
        let sender_name = |id: Option<i64>| id.map(|id| roster.name_or_id(id));
        let footer = || {
            let mut footer = clock::time_of_day(message.sent_at);
            match (message.delivery, message.seq) {
                (Delivery::Pending, _) => footer.push_str(" · sending…"),
                (Delivery::Failed, _) => footer.push_str(" · not sent"),
                (Delivery::Sent, Some(seq)) if mine => {
                    footer.push_str(" · ");
                    footer.push_str(&roster.reach(message.conversation_id, seq).describe());
                }
                (Delivery::Sent, _) => {}
            }
            footer
        };
        let sender = if group && !mine { sender_name(message.sender_id) } else { None };
        match &message.content {
            Content::Image { upload_id, name, size, width, height, .. } => {
                let (w, h) = fit(*width, *height, 280.0);
                // Loading or not, the picture takes its size: the log does not shift under the
                // reader when it arrives.
                let picture: Element<'a, Message> = match files.thumbnail(upload_id) {
                    Some(Picture::Ready(handle)) => button(image(handle.clone()).width(w).height(h))
                        .style(button::text)
                        .padding(0)
                        .on_press(Message::ViewImage { upload_id: upload_id.clone(), name: name.clone() })
                        .into(),
                    Some(Picture::Failed) => {
                        container(text("The picture cannot be shown.").size(13)).width(w).height(h).into()
                    }
                    _ => container(text("Loading the picture…").size(13).style(text::secondary))
                        .width(w)
                        .height(h)
                        .into(),
                };
                let body = column![picture, file_actions(upload_id, name, *size, files)].spacing(6);
                widget::message_frame(body.into(), sender, mine, false, footer(), None)
            }
            Content::File { upload_id, name, size, mime } => {
                let kind = container(text(files::kind_label(name, mime)).size(11).font(BOLD))
                    .padding([10, 6])
                    .style(container::rounded_box);
                let title = column![
                    text(if name.is_empty() { "File".to_owned() } else { name.clone() }).size(15),
                    text(files::human_size(*size)).size(12).style(text::secondary)
                ]
                .spacing(2);
                let body = column![
                    row![kind, title].spacing(10).align_y(Alignment::Center),
                    file_actions(upload_id, name, 0, files)
                ]
                .spacing(6);
                widget::message_frame(body.into(), sender, mine, false, footer(), None)
            }
            Content::Sticker { code } => {
                let picture: Element<'a, Message> = match files.pictures.get(&Files::sticker_key(code)) {
                    Some(Picture::Ready(handle)) => image(handle.clone()).width(96).height(96).into(),
                    _ => text(format!(":{code}:")).size(15).into(),
                };
                widget::message_frame(picture, sender, mine, false, footer(), None)
            }
            Content::Text { text } => {
                let recall = match message.seq {
                    Some(seq) if self.can_recall(message) => Some(Message::Recall(seq)),
                    _ => None,
                };
                match emoji {
                    Some(set) => widget::message_frame(
                        rich_text(text, mine, set),
                        sender,
                        mine,
                        mine,
                        footer(),
                        recall,
                    ),
                    None => widget::bubble(text.clone(), sender, mine, footer(), recall),
                }
            }
            Content::Recalled => {
                let who = if mine {
                    "You recalled a message".to_owned()
                } else {
                    match sender_name(message.sender_id) {
                        Some(name) => format!("{name} recalled a message"),
                        None => "A message was recalled".to_owned(),
                    }
                };
                widget::system_line(format!("{who} · {}", clock::time_of_day(message.sent_at)))
            }
            Content::Notice { notice } => widget::system_line(describe_notice(notice)),
            Content::Recall { .. } => container(text("")).height(0).into(),
        }
    }
}

/// Moves the log so that the "New messages" divider is near its top, once the chat is laid
/// out: finds where the log and the divider are, then scrolls (the log counts its offset from
/// the newest message). Nothing moves when there is no divider or everything fits.
pub fn scroll_to_first_unread<T: Send + 'static>() -> iced::Task<T> {
    use iced_selector::{Selector, Target};
    let find = |name: &'static str| iced_runtime::task::widget(iced_selector::id(name).find());
    find(id::LOG).then(move |log| {
        find(id::UNREAD).then(move |divider| {
            let (Some(Target::Scrollable { bounds, content_bounds, .. }), Some(divider)) = (&log, divider)
            else {
                return iced::Task::none();
            };
            let longest = (content_bounds.height - bounds.height).max(0.0);
            let from_top = (divider.bounds().y - content_bounds.y - ABOVE_DIVIDER).clamp(0.0, longest);
            iced::widget::operation::scroll_to(
                id::LOG,
                iced::widget::operation::AbsoluteOffset { x: None, y: Some(longest - from_top) },
            )
        })
    })
}

/// The size to show a picture of `width` × `height` at, at most `max` on its longer side.
fn fit(width: u32, height: u32, max: f32) -> (f32, f32) {
    if width == 0 || height == 0 {
        return (max, max * 0.75);
    }
    let scale = (max / width.max(height) as f32).min(1.0);
    (width as f32 * scale, height as f32 * scale)
}

/// Under a file or picture: its transfer, why it failed, or what can be done with it.
fn file_actions<'a>(upload_id: &str, name: &str, size: u64, files: &'a Files) -> Element<'a, Message> {
    let small = |label: &'static str, message: Message| {
        button(text(label).size(12)).style(button::secondary).padding([3, 10]).on_press(message)
    };
    if let Some(transfer) = files.transfers.get(upload_id) {
        return transfer_line("Downloading", upload_id, transfer);
    }
    if let Some(path) = files.saved.get(upload_id) {
        let folder = path.parent().map(PathBuf::from).unwrap_or_default();
        return row![
            text("Saved").size(12).style(text::secondary),
            small("Open", Message::OpenFile(path.clone())),
            small("Show in folder", Message::ShowInFolder(folder)),
        ]
        .spacing(8)
        .align_y(Alignment::Center)
        .into();
    }
    let download = Message::Download { upload_id: upload_id.to_owned(), name: name.to_owned() };
    let label = if size > 0 { format!("{} · save a copy", files::human_size(size)) } else { String::new() };
    let mut line = row![].spacing(8).align_y(Alignment::Center);
    if let Some(why) = files.failed.get(upload_id) {
        line = line.push(text(why.clone()).size(12).style(text::danger));
    } else if !label.is_empty() {
        line = line.push(text(label).size(12).style(text::secondary));
    }
    line.push(small("Download", download)).into()
}

/// A transfer under way: what, how far, and a Cancel button.
fn transfer_line<'a>(label: &str, key: &str, transfer: &crate::transfer::Transfer) -> Element<'a, Message> {
    let words =
        format!("{label} · {} of {}", files::human_size(transfer.done), files::human_size(transfer.total));
    column![
        text(words).size(12).style(text::secondary),
        row![
            progress_bar(0.0..=1.0, transfer.fraction()).girth(6).length(Length::Fixed(200.0)),
            button(text("Cancel").size(12))
                .style(button::text)
                .padding(0)
                .on_press(Message::CancelTransfer(key.to_owned())),
        ]
        .spacing(8)
        .align_y(Alignment::Center)
    ]
    .spacing(3)
    .into()
}

/// A message's text with the set's emoji drawn as pictures; one to three emoji alone are
/// drawn large.
fn rich_text<'a>(body: &str, mine: bool, set: &'a EmojiSet) -> Element<'a, Message> {
    let parts = emoji::segments(body, set);
    if !parts.iter().any(|p| matches!(p, Segment::Emoji(_))) {
        return text(body.to_owned()).size(15).style(widget::message_text(mine)).into();
    }
    if emoji::only_emoji(body, set) {
        let mut big = row![].spacing(4);
        for part in &parts {
            if let Segment::Emoji(e) = part
                && let Some(handle) = set.picture(e)
            {
                big = big.push(image(handle.clone()).width(48).height(48));
            }
        }
        return big.into();
    }
    let mut lines = column![].spacing(2);
    let mut line = row![].align_y(Alignment::Center);
    for part in parts {
        match part {
            Segment::Word(word) => {
                line = line.push(text(word.to_owned()).size(15).style(widget::message_text(mine)))
            }
            Segment::Emoji(e) => {
                if let Some(handle) = set.picture(e) {
                    line = line.push(image(handle.clone()).width(20).height(20));
                }
            }
            Segment::Break => {
                lines = lines.push(line.wrap());
                line = row![].align_y(Alignment::Center);
            }
        }
    }
    lines.push(line.wrap()).into()
}

/// A picture, file or sticker in words (None for text and events): "Picture: cat.jpg".
pub fn attachment_words(content: &Content) -> Option<String> {
    let named =
        |kind: &str, name: &str| if name.is_empty() { kind.to_owned() } else { format!("{kind}: {name}") };
    match content {
        Content::Image { name, .. } => Some(named("Picture", name)),
        Content::File { name, .. } => Some(named("File", name)),
        Content::Sticker { code } => Some(format!("Sticker :{code}:")),
        _ => None,
    }
}

/// Whether a message counts as news (not a recall marker or a group notice).
fn counts_as_new(content: &Content) -> bool {
    !matches!(content, Content::Recall { .. } | Content::Notice { .. } | Content::Recalled)
}

/// The widest the conversation gets; a wider window centres it.
pub const CHAT_MAX_WIDTH: f32 = 900.0;
/// The member list beside a group's chat, and the space between them.
const MEMBERS_WIDTH: f32 = 190.0;
const MEMBERS_SPACING: f32 = 16.0;
/// The narrowest chat that shows a group's members beside it.
pub const MEMBERS_FROM: f32 = 600.0;
/// Below this width the composer's buttons go under the message field.
const STACK_COMPOSER_BELOW: f32 = 420.0;
/// About how wide the composer's buttons are in a row, with their spacing.
const BUTTONS_WIDTH: f32 = 190.0;

/// The message field's placeholder for a field `width` wide: the hints when they fit on one
/// line, else a single word (a wrapped placeholder would be cut off at the field's height).
pub fn placeholder(read_only: bool, width: f32) -> &'static str {
    match (read_only, width >= 640.0) {
        (false, true) => "Message (Enter sends, Shift+Enter new line, drop a file to send it)",
        (false, false) => "Message",
        (true, true) => "Offline — history only. Log in to write.",
        (true, false) => "Offline — read only",
    }
}

/// A group's members with their roles and presence, beside its chat.
fn members_view<'a, Message: 'a>(
    roster: &Roster,
    group: ConversationId,
    files: &'a Files,
) -> Element<'a, Message> {
    let members = roster.members_sorted(group);
    let online = members.iter().filter(|m| m.online).count();
    let mut list = column![
        text(format!("Members · {online}/{} online", members.len()))
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
            text(member.user.display_name.clone()).size(13),
            widget::presence_dot(member.online),
        ]
        .spacing(6)
        .align_y(Alignment::Center);
        if member.role != kith_shared::api::Role::Member {
            line = line.push(text(member.role.as_str()).size(11).style(text::secondary));
        }
        list = list.push(line);
    }
    container(scrollable(list).spacing(4)).width(MEMBERS_WIDTH).height(Length::Fill).into()
}

/// A group event in words.
pub fn describe_notice(notice: &Notice) -> String {
    match notice {
        Notice::Created { name, .. } => format!("{name} created the group"),
        Notice::Joined { name, .. } => format!("{name} joined"),
        Notice::Left { name, .. } => format!("{name} left"),
        Notice::Removed { name, .. } => format!("{name} was removed"),
        Notice::OwnerChanged { name, .. } => format!("{name} is now the owner"),
        Notice::Dissolved { .. } => "The group was dissolved".to_owned(),
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn typed(text: &str) -> Chat {
        let mut chat = Chat::new(3, 7);
        chat.composer = text_editor::Content::with_text(text);
        chat
    }

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

    fn sent(seq: i64, sender: UserId, sent_at: i64) -> StoredMessage {
        StoredMessage {
            local_id: seq,
            conversation_id: 3,
            seq: Some(seq),
            server_id: Some(100 + seq),
            client_id: None,
            sender_id: Some(sender),
            sent_at,
            content: Content::Text { text: format!("m{seq}") },
            delivery: Delivery::Sent,
        }
    }

    fn paste(text: &str) -> Message {
        Message::Edit(text_editor::Action::Edit(text_editor::Edit::Paste(std::sync::Arc::new(text.into()))))
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
    fn the_servers_limits_decide_length_and_recall() {
        let now = 1_800_000_000_000;
        let mut chat = typed(&"x".repeat(11));
        chat.now_ms = now;
        chat.limits = socket::Limits { max_text_chars: 10, recall_window_ms: 5_000 };
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
        let recalled = StoredMessage { content: Content::Recalled, ..sent(5, 7, now) };
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
    fn notices_read_as_sentences() {
        assert_eq!(describe_notice(&Notice::Joined { user_id: 1, name: "Bob".into() }), "Bob joined");
        assert_eq!(describe_notice(&Notice::Dissolved { by: 1 }), "The group was dissolved");
    }

    #[test]
    fn the_view_follows_new_messages_unless_the_user_reads_above() {
        let mut chat = typed("");
        chat.set_messages((1..=3).map(|seq| sent(seq, 8, 1_000 + seq)).collect());
        // At the bottom: a new message shows at once.
        chat.update(Message::Scrolled { from_top: 500.0, from_bottom: 0.0 });
        chat.set_messages((1..=4).map(|seq| sent(seq, 8, 1_000 + seq)).collect());
        assert_eq!(chat.visible().count(), 4);
        assert_eq!(chat.unseen(), 0);

        // Scrolled up: new messages wait below and the chip counts them.
        chat.update(Message::Scrolled { from_top: 200.0, from_bottom: 300.0 });
        let mut messages: Vec<_> = (1..=6).map(|seq| sent(seq, 8, 1_000 + seq)).collect();
        messages.push(sent(7, 7, 2_000));
        chat.set_messages(messages);
        assert_eq!(
            chat.visible().filter_map(|m| m.seq).collect::<Vec<_>>(),
            [1, 2, 3, 4, 7],
            "others' new messages wait; one's own (sent from here or another device) shows"
        );
        assert_eq!(chat.unseen(), 2, "one's own message is not news");
        // Scrolling further up keeps holding at the same place.
        chat.update(Message::Scrolled { from_top: 100.0, from_bottom: 400.0 });
        assert_eq!(chat.visible().count(), 5);

        // The chip shows everything and scrolls down.
        assert_eq!(chat.update(Message::JumpToNewest), Some(Event::ScrollToNewest));
        assert_eq!(chat.visible().count(), 7);
        assert_eq!(chat.unseen(), 0);

        // Scrolling back down by hand does the same.
        chat.update(Message::Scrolled { from_top: 0.0, from_bottom: 300.0 });
        chat.set_messages((1..=8).map(|seq| sent(seq, 8, 1_000 + seq)).collect());
        assert_eq!(chat.unseen(), 1);
        chat.update(Message::Scrolled { from_top: 300.0, from_bottom: 10.0 });
        assert_eq!(chat.unseen(), 0);
        assert_eq!(chat.visible().count(), 8);

        // Sending while reading above brings the view down.
        chat.update(Message::Scrolled { from_top: 0.0, from_bottom: 300.0 });
        chat.composer = text_editor::Content::with_text("hi");
        assert!(matches!(chat.update(Message::Send), Some(Event::Send(_))));
        assert_eq!(chat.hold_after, None);
    }

    #[test]
    fn scrolling_to_the_top_loads_older_messages_once() {
        let mut chat = typed("");
        let page = PAGE as i64;
        chat.set_messages((1..=page).map(|seq| sent(seq, 8, seq)).collect());
        assert_eq!(
            chat.update(Message::Scrolled { from_top: 10.0, from_bottom: 900.0 }),
            Some(Event::LoadOlder)
        );
        assert_eq!(chat.limit, 2 * PAGE);
        assert_eq!(
            chat.update(Message::Scrolled { from_top: 0.0, from_bottom: 910.0 }),
            None,
            "already loading"
        );
        // The cache had fewer than asked for: that is all there is.
        chat.set_messages((1..=page + 20).map(|seq| sent(seq, 8, seq)).collect());
        assert!(!chat.loading_older);
        assert_eq!(chat.update(Message::Scrolled { from_top: 0.0, from_bottom: 1200.0 }), None);
        assert_eq!(chat.limit, 2 * PAGE);
    }

    #[test]
    fn offline_chats_scroll_but_do_not_send() {
        let mut chat = typed("hello");
        chat.read_only = true;
        assert_eq!(chat.update(Message::Send), None);
        chat.update(Message::Scrolled { from_top: 0.0, from_bottom: 300.0 });
        assert!(chat.hold_after.is_some());
    }

    #[test]
    fn a_search_result_stays_in_view_until_the_user_scrolls() {
        let mut chat = typed("");
        chat.show_around(3, 20);
        chat.set_messages((1..=12).map(|seq| sent(seq, 8, seq)).collect());
        assert_eq!(chat.visible().filter_map(|m| m.seq).max(), Some(6), "the result and three after it");
        assert_eq!(chat.unseen(), 6);
        // Laid out at the bottom of what is shown: still there.
        chat.update(Message::Scrolled { from_top: 400.0, from_bottom: 0.0 });
        assert_eq!(chat.visible().count(), 6);
        // The user scrolls up, then back down: now it follows the newest again.
        chat.update(Message::Scrolled { from_top: 100.0, from_bottom: 300.0 });
        assert_eq!(chat.visible().count(), 6);
        chat.update(Message::Scrolled { from_top: 400.0, from_bottom: 0.0 });
        assert_eq!(chat.visible().count(), 12);
        assert_eq!(chat.highlight, None);
    }

    #[test]
    fn opening_with_unread_messages_reads_far_enough_back_to_show_the_first() {
        let mut chat = typed("");
        chat.opened_after(40, 40, false);
        assert_eq!((chat.unread_after, chat.start_at_unread, chat.limit), (None, false, PAGE), "all read");
        let mut chat = typed("");
        chat.opened_after(6, 1000, true);
        assert_eq!((chat.unread_after, chat.start_at_unread), (Some(6), true));
        assert!(chat.limit >= 994, "the first unread is among the messages read: {}", chat.limit);
        let mut chat = typed("");
        chat.opened_after(0, 1_000_000, true);
        assert_eq!(chat.limit, UNREAD_REACH, "a bounded read, however far behind");
        // The divider goes above the first unread message from someone else.
        let mut messages: Vec<_> = (1..=6).map(|seq| sent(seq, 8, seq)).collect();
        messages.push(sent(7, 7, 7));
        messages.push(sent(8, 8, 8));
        let mut chat = typed("");
        chat.opened_after(6, 8, true);
        chat.set_messages(messages);
        assert_eq!(chat.first_unread(), Some(8), "one's own message is not unread");
    }

    #[test]
    fn enter_sends_the_waiting_files_with_or_without_text() {
        let mut chat = typed("");
        chat.stage(PathBuf::from("/tmp/a.png"));
        chat.stage(PathBuf::from("/tmp/a.png"));
        assert_eq!(chat.staged.len(), 1, "a file waits once");
        assert_eq!(chat.staged[0].size, 0, "a missing file has no size");
        assert_eq!(chat.update(Message::Send), Some(Event::SendFiles(vec![PathBuf::from("/tmp/a.png")])));
        assert!(chat.staged.is_empty());
        chat.stage(PathBuf::from("/tmp/b.txt"));
        chat.composer = text_editor::Content::with_text("the notes");
        assert_eq!(
            chat.update(Message::Send),
            Some(Event::SendWithFiles("the notes".into(), vec![PathBuf::from("/tmp/b.txt")]))
        );
        assert_eq!(chat.update(Message::Send), None, "nothing left");
    }
}

//! The message log: one row per message (text with emoji, pictures, stickers, file cards
//! with their transfers, recalls and group notices), day separators, the "New messages"
//! divider, the "N new messages" chip, and where the view stays while the user reads above.

use super::{Chat, Event, Message, PAGE, counts_as_new, describe_notice, id};
use crate::clock;
use crate::emoji::{self, EmojiSet, Look, Segment};
use crate::files::{self, Files, Picture};
use crate::history::{Delivery, StoredMessage};
use crate::mentions;
use crate::roster::Roster;
use crate::selectable_text::{Piece, SelectableText, Selection};
use crate::widget::{self, BOLD, Element};
use iced::widget::span;
use iced::widget::text::Span;
use iced::widget::{button, column, container, image, progress_bar, row, scrollable, stack, text};
use iced::{Alignment, Color, Length};
use kith_shared::frame::Content;
use std::ops::Range;
use std::path::PathBuf;

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

/// How often the log scrolls on while a drag selecting text is held past its view.
pub const SCROLL_TICK: std::time::Duration = std::time::Duration::from_millis(30);

impl Chat {
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
                Some(t!("log-newest"))
            }
            0 => None,
            unseen => Some(t!("log-new-count", count = unseen)),
        }
    }

    /// Whether the cache may hold older messages than the ones read.
    fn may_have_older(&self) -> bool {
        self.messages.len() >= self.limit as usize
    }

    /// Shows everything again and follows the newest message.
    pub(super) fn follow(&mut self) {
        self.hold_after = None;
        self.pinned = false;
        self.highlight = None;
    }

    /// The log was scrolled to `from_top` below the oldest message shown and `from_bottom`
    /// above the newest: follow the newest, hold the view, or read older messages.
    pub(super) fn scrolled(&mut self, from_top: f32, from_bottom: f32) -> Option<Event> {
        self.from_bottom = from_bottom;
        self.from_top = from_top;
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
        // While a drag selects text the log's messages stay as they are; older ones come
        // once it ends.
        if self.selecting_past_edge.is_none() {
            return self.load_older_at_top();
        }
        None
    }

    /// Asks for older messages when the view is near the oldest message read, once.
    fn load_older_at_top(&mut self) -> Option<Event> {
        if self.from_top <= TOP_SLACK && !self.loading_older && self.may_have_older() {
            self.loading_older = true;
            self.limit += PAGE;
            return Some(Event::LoadOlder);
        }
        None
    }

    /// A drag selecting text is held `past` pixels past the log's view (negative: above it),
    /// or no longer.
    pub(super) fn selecting_past_edge(&mut self, past: Option<f32>) -> Option<Event> {
        let ended = self.selecting_past_edge.is_some() && past.is_none();
        self.selecting_past_edge = past;
        // The log may have reached the oldest message read meanwhile.
        if ended { self.load_older_at_top() } else { None }
    }

    /// A tick while a drag selecting text is held past the log's view: the log scrolls on
    /// toward the pointer, faster the further past it is.
    pub(super) fn scroll_while_selecting(&self) -> Option<Event> {
        self.selecting_past_edge.map(|past| Event::ScrollLog(scroll_step(past)))
    }

    /// The log: day separators, the "New messages" divider, the messages, and the chip.
    pub(super) fn log_view<'a>(
        &'a self,
        roster: &'a Roster,
        group: bool,
        files: &'a Files,
        emoji: Option<&'a EmojiSet>,
    ) -> Element<'a, Message> {
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
                lines = lines.push(container(widget::day_separator(t!("log-new-messages"))).id(id::UNREAD));
            }
            if message.seq.is_some() && message.seq == self.highlight {
                lines = lines.push(widget::day_separator(t!("log-found")));
            }
            lines = lines.push(self.line(message, roster, group, files, emoji));
            if let Some(chips) = self.reaction_chips(message, roster, emoji) {
                lines = lines.push(chips);
            }
        }
        if self.loading_older {
            lines = column![widget::system_line(t!("log-loading-older")), lines].spacing(8);
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
        log.into()
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
                (Delivery::Pending, _) => footer.push_str(&format!(" · {}", t!("log-sending"))),
                (Delivery::Failed, _) => footer.push_str(&format!(" · {}", t!("log-not-sent"))),
                (Delivery::Sent, Some(seq)) if mine => {
                    footer.push_str(" · ");
                    footer.push_str(&roster.reach(message.conversation_id, seq).describe());
                }
                (Delivery::Sent, _) => {}
            }
            if message.edited_at.is_some() {
                footer.push_str(&format!(" · {}", t!("log-edited")));
            }
            footer
        };
        let sender = if group && !mine { sender_name(message.sender_id) } else { None };
        // A picture, a file or a sticker: framed, with its menu (no text to copy or recall).
        let attachment = |body: Element<'a, Message>, file: Vec<(String, Message)>| {
            let frame = widget::message_frame(
                forwarded(message, body, false),
                sender.clone(),
                mine,
                false,
                footer(),
                None,
            );
            self.with_menu(message, frame, None, None, file, roster)
        };
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
                        container(text(t!("log-picture-broken")).size(13)).width(w).height(h).into()
                    }
                    _ => container(text(t!("log-picture-loading")).size(13).style(text::secondary))
                        .width(w)
                        .height(h)
                        .into(),
                };
                let body = column![picture, file_actions(upload_id, name, *size, files)].spacing(6);
                attachment(body.into(), file_menu(upload_id, name, files))
            }
            Content::File { upload_id, name, size, mime } => {
                let kind = container(text(files::kind_label(name, mime)).size(11).font(BOLD))
                    .padding([10, 6])
                    .style(container::rounded_box);
                let title = column![
                    text(if name.is_empty() { t!("attachment-file") } else { name.clone() }).size(15),
                    text(files::human_size(*size)).size(12).style(text::secondary)
                ]
                .spacing(2);
                let body = column![
                    row![kind, title].spacing(10).align_y(Alignment::Center),
                    file_actions(upload_id, name, 0, files)
                ]
                .spacing(6);
                attachment(body.into(), file_menu(upload_id, name, files))
            }
            Content::Sticker { code } => {
                let picture: Element<'a, Message> = match files.pictures.get(&Files::sticker_key(code)) {
                    Some(Picture::Ready(handle)) => image(handle.clone()).width(96).height(96).into(),
                    _ => text(format!(":{code}:")).size(15).into(),
                };
                attachment(picture, Vec::new())
            }
            Content::Text { text, reply_to, .. } => {
                let recall = match message.seq {
                    Some(seq) if self.can_recall(message) => Some(Message::Recall(seq)),
                    _ => None,
                };
                // Where the text calls out the user, when it mentions them.
                let marks = match &message.content {
                    Content::Text { mentions: named, .. } if message.content.mentions(self.me) => {
                        mentions::highlights(text, roster.name_of(self.me).unwrap_or(""), named.all)
                    }
                    _ => Vec::new(),
                };
                let local_id = message.local_id;
                // While messages are being chosen a click ticks them: no text is selected then.
                let select = self.selection.is_none().then(|| {
                    Box::new(move |selected| Message::SelectText(local_id, selected))
                        as Box<dyn Fn(Option<Selection>) -> Message>
                });
                let body = message_text(text, &marks, mine, emoji, self.text_selected(local_id), select);
                let body = match reply_to {
                    Some(quoted) => column![self.quote_view(roster, *quoted), body].spacing(4).into(),
                    None => body,
                };
                let body = forwarded(message, body, mine);
                let frame = widget::message_frame(body, sender, mine, mine, footer(), recall.clone());
                self.with_menu(message, frame, Some(text), recall, Vec::new(), roster)
            }
            Content::Recalled { by: Some(by) } => {
                let who = if by.user_id == self.me { t!("you-lower") } else { by.name.clone() };
                widget::system_line(t!(
                    "log-deleted-by",
                    name = who,
                    time = clock::time_of_day(message.sent_at)
                ))
            }
            Content::Recalled { by: None } => {
                let who = if mine {
                    t!("log-you-recalled")
                } else {
                    match sender_name(message.sender_id) {
                        Some(name) => t!("log-recalled-by", name = name),
                        None => t!("log-recalled"),
                    }
                };
                widget::system_line(format!("{who} · {}", clock::time_of_day(message.sent_at)))
            }
            Content::Notice { notice } => widget::system_line(describe_notice(notice)),
            Content::Recall { .. } => container(text("")).height(0).into(),
        }
    }
}

/// "Forwarded from Ann" above the body of a forwarded message; `tinted` on the accent colour
/// of one's own text.
fn forwarded<'a>(
    message: &StoredMessage,
    body: impl Into<Element<'a, Message>>,
    tinted: bool,
) -> Element<'a, Message> {
    let Some(from) = &message.forwarded_from else { return body.into() };
    let name = if from.name.is_empty() { t!("former-member") } else { from.name.clone() };
    let line = text(t!("log-forwarded-from", name = name)).size(11);
    let line = if tinted { line.style(widget::message_text(true)) } else { line.style(text::secondary) };
    column![line, body.into()].spacing(3).into()
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

/// How many pixels the log scrolls each tick with a drag held `past` pixels past its view
/// (negative: above it): a few at the edge, more with each pixel further, up to a screenful a
/// second or so.
fn scroll_step(past: f32) -> i32 {
    let step = (4.0 + past.abs() / 2.0).min(60.0).round() as i32;
    if past < 0.0 { -step } else { step }
}

/// The size to show a picture of `width` × `height` at, at most `max` on its longer side.
fn fit(width: u32, height: u32, max: f32) -> (f32, f32) {
    if width == 0 || height == 0 {
        return (max, max * 0.75);
    }
    let scale = (max / width.max(height) as f32).min(1.0);
    (width as f32 * scale, height as f32 * scale)
}

/// What a file's or picture's menu offers besides the rest: *Download*, or once the file is on
/// this computer *Save as…*, *Open* and *Show in folder*; nothing while it downloads.
fn file_menu(upload_id: &str, name: &str, files: &Files) -> Vec<(String, Message)> {
    if let Some(path) = files.saved.get(upload_id) {
        let folder = path.parent().map(PathBuf::from).unwrap_or_default();
        let (upload_id, name) = (upload_id.to_owned(), name.to_owned());
        return vec![
            (t!("menu-save-as"), Message::SaveAs { upload_id, name }),
            (t!("log-open"), Message::OpenFile(path.clone())),
            (t!("log-show-in-folder"), Message::ShowInFolder(folder)),
        ];
    }
    if files.transfers.contains_key(upload_id) {
        return Vec::new();
    }
    vec![(t!("log-download"), Message::Download { upload_id: upload_id.to_owned(), name: name.to_owned() })]
}

/// Under a file or picture: its transfer, why it failed, or what can be done with it.
fn file_actions<'a>(upload_id: &str, name: &str, size: u64, files: &'a Files) -> Element<'a, Message> {
    let small = |label: String, message: Message| {
        button(text(label).size(12)).style(button::secondary).padding([3, 10]).on_press(message)
    };
    if let Some(transfer) = files.transfers.get(upload_id) {
        return transfer_line(&t!("log-downloading"), upload_id, transfer);
    }
    if let Some(path) = files.saved.get(upload_id) {
        let folder = path.parent().map(PathBuf::from).unwrap_or_default();
        return row![
            text(t!("log-saved")).size(12).style(text::secondary),
            small(t!("log-open"), Message::OpenFile(path.clone())),
            small(t!("log-show-in-folder"), Message::ShowInFolder(folder)),
        ]
        .spacing(8)
        .align_y(Alignment::Center)
        .into();
    }
    let download = Message::Download { upload_id: upload_id.to_owned(), name: name.to_owned() };
    let label = if size > 0 { t!("log-save-copy", size = files::human_size(size)) } else { String::new() };
    let mut line = row![].spacing(8).align_y(Alignment::Center);
    if let Some(why) = files.failed.get(upload_id) {
        line = line.push(text(why.clone()).size(12).style(text::danger));
    } else if !label.is_empty() {
        line = line.push(text(label).size(12).style(text::secondary));
    }
    line.push(small(t!("log-download"), download)).into()
}

/// A transfer under way: what, how far, and a Cancel button.
pub(super) fn transfer_line<'a>(
    label: &str,
    key: &str,
    transfer: &crate::transfer::Transfer,
) -> Element<'a, Message> {
    let words = t!(
        "log-progress",
        label = label,
        done = files::human_size(transfer.done),
        total = files::human_size(transfer.total)
    );
    column![
        text(words).size(12).style(text::secondary),
        row![
            progress_bar(0.0..=1.0, transfer.fraction()).girth(6).length(Length::Fixed(200.0)),
            button(text(t!("cancel")).size(12))
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

/// A message's text, selectable with the mouse, with its emoji in colour: those of the
/// server's set as its pictures, every other one in the colour emoji font; one to three emoji
/// alone are drawn large. The byte ranges `marks` (mentions of the user) stand out.
/// `selection` is the part selected, and `select` what a change of it sends (None while
/// messages are being chosen: a click ticks them then).
fn message_text<'a>(
    body: &str,
    marks: &[Range<usize>],
    mine: bool,
    set: Option<&'a EmojiSet>,
    selection: Option<Selection>,
    select: Option<Box<dyn Fn(Option<Selection>) -> Message + 'a>>,
) -> Element<'a, Message> {
    let side = if emoji::only_emoji(body, set) { BIG_EMOJI_SIDE } else { EMOJI_SIDE };
    let text = SelectableText::new(pieces(body, marks, set, side))
        .size(15.0)
        .color(move |theme| widget::message_text(mine)(theme).color.unwrap_or(theme.palette().text))
        .selection_color(move |theme| {
            if mine { Color { a: 0.35, ..Color::WHITE } } else { Color { a: 0.3, ..theme.palette().primary } }
        })
        .selection(selection);
    match select {
        Some(select) => {
            text.on_select(select).on_copy(Message::Copy).on_drag_past_edge(Message::SelectingPastEdge).into()
        }
        None => text.into(),
    }
}

/// `body` cut into the pieces its text is drawn with: each emoji (a picture of the server's
/// set, or a run of the colour emoji font) about `side` pixels wide, and the text between,
/// mentions of the user bold on a light amber ground.
fn pieces<'a>(body: &str, marks: &[Range<usize>], set: Option<&'a EmojiSet>, side: f32) -> Vec<Piece<'a>> {
    cut(body, marks, set)
        .into_iter()
        .map(|(piece, kind)| match kind {
            Cut::Emoji => match emoji::look(piece, set) {
                Look::Picture(handle) => Piece::picture(piece, handle.clone(), side),
                Look::Font => Piece::text(widget::emoji_span(piece, side)),
            },
            Cut::Marked => Piece::text(mention_span(piece)),
            Cut::Plain => Piece::text(span(piece.to_owned())),
        })
        .collect()
}

/// What a piece of a message's text is.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
enum Cut {
    Plain,
    /// Within `marks`: a mention of the user.
    Marked,
    Emoji,
}

/// `body` cut at the edges of its emoji and of `marks` (byte ranges; those that do not fit
/// the body are left out), in order: together the pieces are the whole body.
fn cut<'b>(body: &'b str, marks: &[Range<usize>], set: Option<&EmojiSet>) -> Vec<(&'b str, Cut)> {
    let emoji: Vec<Range<usize>> = emoji::segments(body, set)
        .into_iter()
        .filter_map(|part| match part {
            // Where the emoji starts in the body (it is a slice of it).
            Segment::Emoji(e) => {
                Some(e.as_ptr() as usize - body.as_ptr() as usize).map(|at| at..at + e.len())
            }
            _ => None,
        })
        .collect();
    let marks: Vec<&Range<usize>> = marks.iter().filter(|m| body.get((*m).clone()).is_some()).collect();
    let mut cuts: Vec<usize> = [0, body.len()]
        .into_iter()
        .chain(emoji.iter().flat_map(|e| [e.start, e.end]))
        .chain(marks.iter().flat_map(|m| [m.start, m.end]))
        .filter(|at| !emoji.iter().any(|e| e.start < *at && *at < e.end))
        .collect();
    cuts.sort_unstable();
    cuts.dedup();
    cuts.windows(2)
        .filter_map(|edges| {
            let piece = body.get(edges[0]..edges[1])?;
            let kind = if emoji.iter().any(|e| e.start == edges[0]) {
                Cut::Emoji
            } else if marks.iter().any(|m| m.start <= edges[0] && edges[1] <= m.end) {
                Cut::Marked
            } else {
                Cut::Plain
            };
            Some((piece, kind))
        })
        .collect()
}

/// How wide an emoji among words is, in pixels.
const EMOJI_SIDE: f32 = 20.0;

/// How wide each of one to three emoji alone in a message is, in pixels.
const BIG_EMOJI_SIDE: f32 = 48.0;

/// A mention of the user: bold on a light amber ground, readable in both themes.
fn mention_span<'a>(piece: &str) -> Span<'a> {
    span(piece.to_owned()).font(BOLD).background(Color::from_rgba(1.0, 0.75, 0.1, 0.35))
}

#[cfg(test)]
mod tests {
    use super::super::tests::{sent, typed};
    use super::*;
    use iced::widget::text_editor;

    #[test]
    fn a_mention_of_the_user_is_cut_out_of_the_text_to_stand_out() {
        let body = "hey @Ann Lee, @all: look";
        let marks = mentions::highlights(body, "Ann Lee", true);
        use Cut::{Emoji, Marked, Plain};
        assert_eq!(
            cut(body, &marks, None),
            [("hey ", Plain), ("@Ann Lee", Marked), (", ", Plain), ("@all", Marked), (": look", Plain)]
        );
        assert_eq!(cut("@Ann Lee", &[Range { start: 0, end: 8 }], None), [("@Ann Lee", Marked)]);
        assert_eq!(
            cut("short", &[Range { start: 3, end: 40 }], None),
            [("short", Plain)],
            "a mark past the end is left out"
        );
        // Emoji are pieces of their own, and the pieces together are the whole text.
        let set = crate::emoji::tests::sample();
        let body = "@Ann 😀 hi\n👍🏽👍";
        let pieces = cut(body, &[Range { start: 0, end: 4 }], Some(&set));
        assert_eq!(
            pieces,
            [("@Ann", Marked), (" ", Plain), ("😀", Emoji), (" hi\n", Plain), ("👍🏽", Emoji), ("👍", Emoji)]
        );
        assert_eq!(pieces.iter().map(|(piece, _)| *piece).collect::<String>(), body);
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
    fn a_selection_held_past_the_logs_edge_scrolls_it_faster_the_further_and_older_messages_wait() {
        let mut chat = typed("");
        let page = PAGE as i64;
        chat.set_messages((1..=page).map(|seq| sent(seq, 8, seq)).collect());
        assert_eq!(chat.update(Message::ScrollWhileSelecting), None, "no drag held: no scrolling");
        let step = |chat: &mut Chat, past: f32| {
            chat.update(Message::SelectingPastEdge(Some(past)));
            match chat.update(Message::ScrollWhileSelecting) {
                Some(Event::ScrollLog(pixels)) => pixels,
                other => panic!("{other:?}"),
            }
        };
        let (near, far, furthest) =
            (step(&mut chat, -10.0), step(&mut chat, -100.0), step(&mut chat, -900.0));
        assert!(far < near && near < 0, "up, faster further up: {near} then {far}");
        assert!(furthest >= -60, "at most 60 px a tick: {furthest}");
        assert!(step(&mut chat, 40.0) > 0, "below the log: down");

        // The view reaches the oldest message read while the drag is held: older ones come
        // once it ends, not under the pointer.
        assert_eq!(chat.update(Message::Scrolled { from_top: 0.0, from_bottom: 900.0 }), None);
        assert_eq!(chat.update(Message::SelectingPastEdge(None)), Some(Event::LoadOlder));
        assert_eq!(chat.update(Message::ScrollWhileSelecting), None);
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
}

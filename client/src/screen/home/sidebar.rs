//! The side bar: the user's name, picture and connection status, the actions (profile,
//! settings, log out, add friend, requests, search), and the friends and groups with presence,
//! the latest message in a line and unread badges.

use super::{Home, Message, id};
use crate::session::Status;
use crate::widget::{self, BOLD, Element};
use iced::widget::{button, column, container, row, scrollable, text};
use iced::{Alignment, Background, Border, Length, Task, Theme};
use kith_shared::ServerFrame;
use kith_shared::api::{ConversationId, UpdateConversation};

/// Below this window width one pane shows at a time: the side bar, or the chat or panel.
pub const NARROW: f32 = 720.0;
/// The side bar's width beside the chat.
pub const SIDEBAR_WIDTH: f32 = 320.0;
/// The most characters of a message shown under a conversation's name.
const PREVIEW_CHARS: usize = 34;

impl Home {
    /// The side bar, `width` wide; `hide` folds it away.
    pub(super) fn sidebar<'a>(&'a self, width: Length, hide: Option<Message>) -> Element<'a, Message> {
        container(column![self.header(hide), self.lists()].spacing(12))
            .width(width)
            .height(Length::Fill)
            .padding(14)
            .style(|theme: &Theme| container::Style {
                background: Some(Background::Color(widget::surface(theme))),
                border: Border {
                    width: 1.0,
                    color: theme.extended_palette().background.strong.color,
                    ..Border::default()
                },
                ..container::Style::default()
            })
            .into()
    }

    fn header(&self, hide: Option<Message>) -> Element<'_, Message> {
        let user = &self.session.user;
        let online = self.session.status == Status::Online;
        let mut status = row![
            widget::presence_dot(online),
            text(self.session.status.describe()).size(13).style(text::secondary)
        ]
        .spacing(6)
        .align_y(Alignment::Center);
        if matches!(self.session.status, Status::Reconnecting { .. }) {
            status = status.push(
                button(text(t!("reconnect-now")).size(13))
                    .style(button::text)
                    .padding(0)
                    .on_press(Message::ReconnectNow),
            );
        }
        // Out of reach with a snapshot kept: the lists and chats can be read without it.
        let browse = (matches!(self.session.status, Status::Reconnecting { .. })
            && self.session.snapshot_path.is_some())
        .then(|| {
            button(text(t!("login-browse-offline")).size(13))
                .style(button::text)
                .padding(0)
                .on_press(Message::BrowseOffline)
        });
        let identity = column![
            text(user.display_name.clone()).size(18).font(BOLD),
            text(format!("@{}", user.username)).size(13).style(text::secondary),
            status
        ]
        .push(browse)
        .spacing(2);
        let small = |label: String, message: Message| {
            button(text(label).size(13)).style(button::secondary).padding([4, 10]).on_press(message)
        };
        let me = row![widget::avatar(&user.display_name, user.id, self.avatar.as_ref(), 52.0), identity]
            .spacing(12)
            .align_y(Alignment::Center);
        // Clicking oneself opens the profile (not offline: nothing can be saved then).
        let me: Element<'_, Message> = if self.session.is_offline() {
            me.into()
        } else {
            button(me).style(button::text).padding(0).on_press(Message::OpenProfile).into()
        };
        let mut me = row![container(me).width(Length::Fill)].align_y(Alignment::Start);
        if let Some(hide) = hide {
            me = me.push(button(text("«").size(15)).style(button::text).padding([2, 8]).on_press(hide));
        }
        if self.session.is_offline() {
            return column![
                me,
                row![
                    small(t!("search"), Message::OpenSearch),
                    iced::widget::space().width(Length::Fill),
                    button(text(t!("back-to-login")).size(13))
                        .style(button::secondary)
                        .padding([4, 10])
                        .on_press(Message::LogOut),
                ],
            ]
            .spacing(12)
            .into();
        }
        column![
            me,
            row![
                small(t!("profile"), Message::OpenProfile),
                small(t!("settings-title"), Message::OpenSettings),
                iced::widget::space().width(Length::Fill),
                button(
                    text(if self.session.logging_out { t!("logging-out") } else { t!("log-out") }).size(13)
                )
                .style(button::danger)
                .padding([4, 10])
                .on_press_maybe((!self.session.logging_out).then_some(Message::LogOut)),
            ]
            .spacing(6),
        ]
        .spacing(12)
        .into()
    }

    fn lists(&self) -> Element<'_, Message> {
        let pending = self.session.roster.pending_count() as i64;
        let mut requests = row![text(t!("requests")).size(13)].spacing(6).align_y(Alignment::Center);
        if let Some(badge) = widget::badge(pending) {
            requests = requests.push(badge);
        }
        let actions = row![
            button(text(t!("add-friend")).size(13))
                .style(button::secondary)
                .padding([4, 10])
                .on_press(Message::OpenAddFriend),
            button(requests).style(button::secondary).padding([4, 10]).on_press(Message::OpenRequests),
            button(text(t!("search")).size(13))
                .style(button::secondary)
                .padding([4, 10])
                .on_press(Message::OpenSearch),
        ]
        .spacing(6);
        let heading = |label: String| text(label).size(12).font(BOLD).style(text::secondary);
        let roster = &self.session.roster;
        let offline = self.session.is_offline();
        // Archived conversations leave their section for the archive at the bottom.
        let mut archived: Vec<Element<'_, Message>> = Vec::new();
        let mut list = column![heading(t!("friends-heading"))].spacing(4);
        let friends = roster.friends_sorted();
        if friends.is_empty() {
            list = list.push(text(t!("friends-none")).size(13).style(text::secondary));
        }
        for friend in friends {
            let user = &friend.user;
            let entry = self.entry(
                widget::avatar(
                    &user.display_name,
                    user.id,
                    self.files.avatar(user.avatar_url.as_deref()),
                    34.0,
                ),
                user.display_name.clone(),
                Some(widget::presence_dot(friend.online)),
                friend.conversation_id,
            );
            if roster.prefs(friend.conversation_id).archived {
                archived.push(entry);
            } else {
                list = list.push(entry);
            }
        }
        let group_action = |label: String, message: Message| {
            button(text(label).size(12)).style(button::text).padding([0, 4]).on_press(message)
        };
        let mut groups_heading =
            row![heading(t!("groups-heading")), iced::widget::space().width(Length::Fill)];
        if !offline {
            groups_heading = groups_heading
                .push(group_action(t!("groups-join"), Message::OpenJoinGroup))
                .push(group_action(t!("groups-new"), Message::OpenCreateGroup));
        }
        list = list.push(iced::widget::space().height(8)).push(groups_heading.align_y(Alignment::Center));
        let groups = roster.groups_sorted();
        if groups.is_empty() {
            list = list.push(text(t!("groups-none")).size(13).style(text::secondary));
        }
        for group in groups {
            let name = if group.muted {
                t!("group-muted-name", name = &group.group.name)
            } else {
                group.group.name.clone()
            };
            let entry = self.entry(
                widget::avatar(
                    &group.group.name,
                    group.group.id,
                    self.files.avatar(group.group.avatar_url.as_deref()),
                    34.0,
                ),
                name,
                None,
                group.group.id,
            );
            if roster.prefs(group.group.id).archived {
                archived.push(entry);
            } else {
                list = list.push(entry);
            }
        }
        if !archived.is_empty() {
            let arrow = if self.show_archived { "▾" } else { "▸" };
            let toggle = button(
                text(t!("archived-toggle", arrow = arrow, count = archived.len())).size(12).font(BOLD),
            )
            .style(button::text)
            .padding([2, 0])
            .on_press(Message::ShowArchived(!self.show_archived));
            list = list.push(iced::widget::space().height(8)).push(toggle);
            if self.show_archived {
                list = list.extend(archived);
            }
        }
        let mut side = if offline { column![] } else { column![actions] }.spacing(10);
        if let Some(notice) = &self.notice {
            side = side.push(widget::error_line(notice));
        }
        side.push(scrollable(list).id(id::LIST).spacing(4).height(Length::Fill)).into()
    }

    /// One row of the side bar: avatar, name, presence, unread badge; a right click opens
    /// its menu (pin, archive, mark unread) under it.
    fn entry<'a>(
        &self,
        avatar: Element<'a, Message>,
        name: String,
        presence: Option<Element<'a, Message>>,
        conversation: ConversationId,
    ) -> Element<'a, Message> {
        let prefs = self.session.roster.prefs(conversation);
        let mut title = row![widget::emoji_text(&name, 15.0, widget::FONT, text::default)]
            .spacing(6)
            .align_y(Alignment::Center);
        if let Some(dot) = presence {
            title = title.push(dot);
        }
        if prefs.pinned {
            title = title.push(text(t!("pinned")).size(11).style(text::secondary));
        }
        let mut label = column![title].spacing(1).width(Length::Fill);
        if let Some(preview) = self.session.previews.get(&conversation).filter(|p| !p.is_empty()) {
            label = label.push(
                text(widget::one_line(preview, PREVIEW_CHARS))
                    .size(12)
                    .wrapping(iced::widget::text::Wrapping::None)
                    .style(text::secondary),
            );
        }
        let mut line = row![avatar, label].spacing(10).align_y(Alignment::Center);
        if self.session.roster.mentioned(conversation) {
            line = line.push(widget::mention_badge());
        }
        if let Some(badge) = widget::badge(self.session.roster.unread(conversation)) {
            line = line.push(badge);
        }
        let open = self.session.roster.open == Some(conversation) && self.panel.is_none();
        let entry = button(line)
            .width(Length::Fill)
            .padding([5, 6])
            .style(if open { button::primary } else { button::text })
            .on_press(Message::Open(conversation));
        let entry = iced::widget::mouse_area(entry).on_right_press(Message::ListMenu(Some(conversation)));
        if self.list_menu != Some(conversation) || self.session.is_offline() {
            return entry.into();
        }
        let action = |label: String, message: Message| {
            button(text(label).size(12)).style(button::secondary).padding([3, 8]).on_press(message)
        };
        let change = |change: UpdateConversation| Message::SetPrefs(conversation, change);
        let pin = if prefs.pinned {
            action(t!("unpin"), change(UpdateConversation { pinned: Some(false), ..Default::default() }))
        } else {
            action(t!("pin"), change(UpdateConversation { pinned: Some(true), ..Default::default() }))
        };
        let archive = if prefs.archived {
            action(
                t!("unarchive"),
                change(UpdateConversation { archived: Some(false), ..Default::default() }),
            )
        } else {
            action(t!("archive"), change(UpdateConversation { archived: Some(true), ..Default::default() }))
        };
        let unread = if self.session.roster.unread(conversation) > 0 {
            action(t!("mark-read"), Message::MarkRead(conversation))
        } else {
            action(
                t!("mark-unread"),
                change(UpdateConversation { marked_unread: Some(true), ..Default::default() }),
            )
        };
        let menu = row![pin, archive, unread, action(t!("close"), Message::ListMenu(None))].spacing(4);
        column![entry, container(menu).padding([2, 6])].into()
    }

    /// Messages about the lists: their menu, the archive, pinning and marking.
    pub(super) fn list_message(&mut self, message: Message) -> Task<Message> {
        match message {
            Message::ListMenu(conversation) => self.list_menu = conversation,
            Message::ShowArchived(shown) => self.show_archived = shown,
            Message::SetPrefs(conversation, change) => {
                self.list_menu = None;
                return self.set_prefs(conversation, change);
            }
            Message::MarkRead(conversation) => {
                self.list_menu = None;
                self.session.report_read(conversation);
                if self.session.roster.prefs(conversation).marked_unread {
                    let change = UpdateConversation { marked_unread: Some(false), ..Default::default() };
                    return self.set_prefs(conversation, change);
                }
            }
            Message::PrefsSaved(conversation, Ok(prefs)) => {
                let frame = ServerFrame::ConversationUpdated { conversation_id: conversation, prefs };
                self.session.roster.apply(&frame);
            }
            Message::PrefsSaved(_, Err(err)) => self.notice = Some(err.plain()),
            _ => {}
        }
        Task::none()
    }

    /// Asks the server to pin, archive or mark a conversation (for every device of the user).
    pub(super) fn set_prefs(
        &self,
        conversation: ConversationId,
        change: UpdateConversation,
    ) -> Task<Message> {
        let api = self.session.api.clone();
        Task::perform(async move { api.conversation(conversation).update(&change).await }, move |result| {
            Message::PrefsSaved(conversation, result)
        })
    }
}

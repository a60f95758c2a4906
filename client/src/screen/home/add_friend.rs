//! The add-friend panel: find people by name and ask them, with an optional message.

use crate::api::{Api, ApiError};
use crate::roster::Roster;
use crate::widget::{self, Element};
use iced::widget::{button, column, row, scrollable, text, text_input};
use iced::{Alignment, Length, Task};
use kith_shared::api::{FriendRequestOutcome, SearchQuery, SendFriendRequest, UserSearchHit};
use kith_shared::{ServerFrame, UserId};

/// Widget ids, for focus and tests.
pub mod id {
    pub const SEARCH: &str = "add-friend-search";
    pub const GREETING: &str = "add-friend-greeting";
}

/// The add-friend search.
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct AddFriend {
    pub query: String,
    pub greeting: String,
    pub results: Vec<UserSearchHit>,
    /// Users asked during this search.
    pub asked: Vec<UserId>,
    pub busy: bool,
    pub error: Option<String>,
    pub searched: bool,
}

#[derive(Debug, Clone)]
pub enum Message {
    SearchChanged(String),
    GreetingChanged(String),
    Search,
    Found(Result<Vec<UserSearchHit>, ApiError>),
    Ask(UserId),
    Asked(Result<FriendRequestOutcome, ApiError>),
    Close,
}

/// What the main window must act on.
#[derive(Debug, Clone)]
pub enum Event {
    /// A request failed (the session may have ended).
    Failed(ApiError),
    Close,
}

impl AddFriend {
    /// The empty panel, focusing the search field.
    pub fn open() -> (Self, Task<Message>) {
        (Self::default(), iced::widget::operation::focus(id::SEARCH))
    }

    pub fn update(
        &mut self,
        message: Message,
        api: &Api,
        roster: &mut Roster,
    ) -> (Task<Message>, Option<Event>) {
        match message {
            Message::SearchChanged(value) => self.query = value,
            Message::GreetingChanged(value) => self.greeting = value.chars().take(200).collect(),
            Message::Search => {
                let q = self.query.trim().to_owned();
                if q.is_empty() || self.busy {
                    return (Task::none(), None);
                }
                self.busy = true;
                self.error = None;
                let api = api.clone();
                let query = SearchQuery { q, offset: 0, limit: Some(20) };
                let search = async move { api.search_users(&query).await };
                return (Task::perform(search, Message::Found), None);
            }
            Message::Found(result) => {
                self.busy = false;
                self.searched = true;
                match result {
                    Ok(hits) => self.results = hits,
                    Err(err) => {
                        self.error = Some(err.plain());
                        return (Task::none(), Some(Event::Failed(err)));
                    }
                }
            }
            Message::Ask(user_id) => {
                self.asked.push(user_id);
                let body = SendFriendRequest { to: user_id, message: self.greeting.trim().to_owned() };
                let api = api.clone();
                let ask = async move { api.ask_friend(&body).await };
                return (Task::perform(ask, Message::Asked), None);
            }
            Message::Asked(Ok(FriendRequestOutcome::Pending { request })) => {
                if !roster.friend_requests.iter().any(|r| r.id == request.id) {
                    roster.friend_requests.push(request);
                }
            }
            Message::Asked(Ok(FriendRequestOutcome::BecameFriends { friend })) => {
                roster.apply(&ServerFrame::FriendAdded { friend });
            }
            Message::Asked(Err(err)) => {
                self.error = Some(err.plain());
                return (Task::none(), Some(Event::Failed(err)));
            }
            Message::Close => return (Task::none(), Some(Event::Close)),
        }
        (Task::none(), None)
    }

    pub fn view<'a>(&'a self, roster: &'a Roster) -> Element<'a, Message> {
        let mut content = column![
            widget::panel_title(&t!("add-friend-title"), Message::Close),
            row![
                text_input(&t!("add-friend-search"), &self.query)
                    .id(id::SEARCH)
                    .on_input(Message::SearchChanged)
                    .on_submit(Message::Search)
                    .padding(8),
                button(text(t!("search")))
                    .on_press_maybe((!self.busy).then_some(Message::Search))
                    .padding([8, 16]),
            ]
            .spacing(8),
            text_input(&t!("add-friend-greeting"), &self.greeting)
                .id(id::GREETING)
                .on_input(Message::GreetingChanged)
                .on_submit(Message::Search)
                .padding(8),
        ]
        .spacing(12)
        .max_width(560);
        if let Some(error) = &self.error {
            content = content.push(widget::error_line(error));
        }
        if self.searched && self.results.is_empty() && self.error.is_none() {
            content = content.push(text(t!("add-friend-none-found")).style(text::secondary));
        }
        for hit in &self.results {
            let user = &hit.user;
            let waiting = self.asked.contains(&user.id)
                || roster.friend_requests.iter().any(|r| r.to.id == user.id && r.from.id == roster.me);
            let action: Element<'a, Message> = if hit.is_friend || roster.friends.contains_key(&user.id) {
                text(t!("add-friend-friend")).size(13).style(text::secondary).into()
            } else if roster.blocks(user.id) {
                // The server refuses to ask someone the user blocks: Settings unblocks.
                text(t!("add-friend-blocked")).size(13).style(text::secondary).into()
            } else if waiting {
                text(t!("groups-asked")).size(13).style(text::secondary).into()
            } else {
                button(text(t!("add-friend-add")).size(13))
                    .padding([4, 14])
                    .on_press(Message::Ask(user.id))
                    .into()
            };
            let name = column![
                text(user.display_name.clone()).size(15),
                text(format!("@{}", user.username)).size(12).style(text::secondary)
            ];
            content = content.push(
                row![
                    widget::avatar(&user.display_name, user.id, None, 34.0),
                    name,
                    iced::widget::space().width(Length::Fill),
                    action
                ]
                .spacing(10)
                .align_y(Alignment::Center),
            );
        }
        scrollable(content).spacing(4).into()
    }
}

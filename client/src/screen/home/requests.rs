//! The requests panel: friend requests and group invitations or applications to answer, and
//! the user's own friend requests still waiting, to withdraw.

use crate::api::{Api, ApiError};
use crate::roster::Roster;
use crate::widget::{self, Element};
use iced::widget::{button, column, row, scrollable, text};
use iced::{Length, Task};
use kith_shared::ErrorCode;
use kith_shared::api::{FriendRequest, GroupRequestKind};

#[derive(Debug, Clone)]
pub enum Message {
    AnswerFriend {
        id: i64,
        accept: bool,
    },
    AnswerGroup {
        id: i64,
        accept: bool,
    },
    Answered(Result<(), ApiError>),
    /// Withdraw the user's own friend request.
    Withdraw(i64),
    Withdrawn(FriendRequest, Result<(), ApiError>),
    Close,
}

/// What the main window must act on.
#[derive(Debug, Clone)]
pub enum Event {
    /// An answer went through: an earlier notice is over.
    Done,
    /// An answer failed: say so (the session may have ended).
    Failed(ApiError),
    Close,
}

/// Answers a request (taking it off the lists at once) or withdraws one.
pub fn update(message: Message, roster: &mut Roster, api: &Api) -> (Task<Message>, Option<Event>) {
    let api = api.clone();
    match message {
        Message::AnswerFriend { id, accept } => {
            roster.friend_requests.retain(|r| r.id != id);
            (
                Task::perform(async move { api.answer_friend_request(id, accept).await }, Message::Answered),
                None,
            )
        }
        Message::AnswerGroup { id, accept } => {
            roster.group_requests.retain(|r| r.id != id);
            (
                Task::perform(async move { api.answer_group_request(id, accept).await }, Message::Answered),
                None,
            )
        }
        Message::Withdraw(id) => {
            // The server tells the addressee; the request leaves the user's own list now and
            // comes back if the server says no.
            let Some(at) = roster.friend_requests.iter().position(|r| r.id == id) else {
                return (Task::none(), None);
            };
            let request = roster.friend_requests.remove(at);
            let done = move |result| Message::Withdrawn(request.clone(), result);
            (Task::perform(async move { api.withdraw_friend_request(id).await }, done), None)
        }
        Message::Answered(Ok(())) | Message::Withdrawn(_, Ok(())) => (Task::none(), Some(Event::Done)),
        Message::Answered(Err(err)) => (Task::none(), Some(Event::Failed(err))),
        Message::Withdrawn(request, Err(err)) => {
            // Already answered or gone: the lists will say so; otherwise it still waits.
            if err.code() != Some(ErrorCode::NotFound) {
                roster.friend_requests.push(request);
            }
            (Task::none(), Some(Event::Failed(err)))
        }
        Message::Close => (Task::none(), Some(Event::Close)),
    }
}

pub fn view(roster: &Roster) -> Element<'_, Message> {
    let mut list = column![widget::panel_title(&t!("requests"), Message::Close)].spacing(12).max_width(560);
    let mut any = false;
    for request in roster.incoming_friend_requests() {
        any = true;
        list = list.push(card(
            t!("request-friend", name = &request.from.display_name, username = &request.from.username),
            &request.message,
            Some((
                Message::AnswerFriend { id: request.id, accept: true },
                Message::AnswerFriend { id: request.id, accept: false },
            )),
        ));
    }
    for request in roster.answerable_group_requests() {
        any = true;
        let line = match (request.kind, &request.inviter) {
            (GroupRequestKind::Invitation, Some(inviter)) => {
                t!("request-invitation-from", name = &inviter.display_name, group = &request.group.name)
            }
            (GroupRequestKind::Invitation, None) => t!("request-invitation", group = &request.group.name),
            (GroupRequestKind::Application, _) => {
                t!("request-application", name = &request.user.display_name, group = &request.group.name)
            }
        };
        list = list.push(card(
            line,
            &request.message,
            Some((
                Message::AnswerGroup { id: request.id, accept: true },
                Message::AnswerGroup { id: request.id, accept: false },
            )),
        ));
    }
    for request in roster.friend_requests.iter().filter(|r| r.from.id == roster.me) {
        any = true;
        let card = card(t!("request-sent", name = &request.to.display_name), &request.message, None);
        let withdraw = button(text(t!("request-withdraw")).size(13))
            .style(button::secondary)
            .padding([4, 12])
            .on_press(Message::Withdraw(request.id));
        list = list.push(column![card, withdraw].spacing(4));
    }
    if !any {
        list = list.push(text(t!("request-none")).style(text::secondary));
    }
    scrollable(list).spacing(4).into()
}

/// A request with its message and, when the user can answer, Accept and Refuse buttons.
fn card<'a>(line: String, message: &str, answers: Option<(Message, Message)>) -> Element<'a, Message> {
    let mut content = column![text(line).size(15)].spacing(6);
    if !message.trim().is_empty() {
        content = content
            .push(text(t!("request-message", message = message.trim())).size(14).style(text::secondary));
    }
    if let Some((accept, refuse)) = answers {
        content = content.push(
            row![
                button(text(t!("request-accept"))).on_press(accept).padding([4, 14]),
                button(text(t!("request-refuse"))).style(button::secondary).on_press(refuse).padding([4, 14]),
            ]
            .spacing(8),
        );
    }
    widget::card(content).padding(12).width(Length::Fill).into()
}

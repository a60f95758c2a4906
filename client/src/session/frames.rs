//! Frames from the server applied to the session: the roster updated, messages written to
//! the cache, `delivered` and `read` reported, typing noted, and what the window must show
//! returned as [`Event`]s.

use super::{Event, Outcome, Session};
use crate::roster::Change;
use iced::Task;
use kith_shared::api::GroupRequestKind;
use kith_shared::frame::{ChatMessage, Content, LeaveReason, ReceiptKind};
use kith_shared::{ClientFrame, ErrorCode, ServerFrame};
use std::time::Instant;

impl Session {
    /// A frame from the server: update the roster, write messages to the cache, report
    /// receipts.
    pub fn apply(&mut self, frame: ServerFrame) -> Outcome {
        // A group's name, before the roster forgets the group.
        let left = match &frame {
            ServerFrame::GroupLeft { group_id, .. } => Some(self.roster.title(*group_id)),
            _ => None,
        };
        // The conversation of a friendship that ends, before the roster forgets the friend.
        let unfriended = match &frame {
            ServerFrame::FriendRemoved { user_id } => {
                self.roster.conversations.iter().find(|(_, c)| c.peer_id == Some(*user_id)).map(|(id, _)| *id)
            }
            _ => None,
        };
        let change = self.roster.apply(&frame);
        // The lists for offline browsing follow every change, not only the login's.
        if matches!(
            frame,
            ServerFrame::FriendAdded { .. }
                | ServerFrame::FriendRemoved { .. }
                | ServerFrame::GroupJoined { .. }
                | ServerFrame::GroupLeft { .. }
                | ServerFrame::GroupUpdated { .. }
        ) {
            self.save_snapshot();
        }
        let mut events = Vec::new();
        let task = match frame {
            ServerFrame::SyncState { conversations, .. } => {
                // What arrived while away, in the chat on screen, is read now.
                if let Some(open) = self.roster.open {
                    self.report_read(open);
                }
                self.resend_forwards();
                let mut tasks = vec![self.load_lists(), self.resend_pending()];
                tasks.extend(conversations.iter().map(|c| self.catch_up(c.conversation_id, c.last_seq)));
                Task::batch(tasks)
            }
            ServerFrame::Typing { conversation_id, user_id } => {
                if user_id != self.roster.me {
                    self.typing.entry(conversation_id).or_default().insert(user_id, Instant::now());
                }
                Task::none()
            }
            ServerFrame::Message { message } => {
                // A message from someone ends their typing.
                if let (Some(sender), Some(typing)) =
                    (message.sender_id, self.typing.get_mut(&message.conversation_id))
                {
                    typing.remove(&sender);
                }
                if let Change::Message { alert: true, .. } = change {
                    events.push(self.alert(&message));
                }
                if self.roster.open == Some(message.conversation_id) {
                    self.report_read(message.conversation_id);
                } else if message.sender_id.is_some_and(|sender| sender != self.roster.me) {
                    // On this device now: the sender sees "delivered".
                    self.send_frame(ClientFrame::Receipt {
                        conversation_id: message.conversation_id,
                        kind: ReceiptKind::Delivered,
                        seq: message.seq,
                    });
                }
                events.push(Event::Arrived(message.clone()));
                self.store_live(message)
            }
            ServerFrame::MessagesHidden { conversation_id, seqs } => {
                // Deleted for the user, here or on another device.
                self.with_history(conversation_id, move |history| async move {
                    history.hide(conversation_id, &seqs).await
                })
            }
            ServerFrame::Ack { client_id, .. } if self.answered(&client_id) => Task::none(),
            ServerFrame::Ack { client_id, message_id, conversation_id, seq, sent_at } => {
                self.with_history(conversation_id, move |history| async move {
                    history.acknowledge(&client_id, message_id, seq, sent_at).await.map(drop)
                })
            }
            ServerFrame::Error { code, message, reference: Some(client_id) } if self.answered(&client_id) => {
                tracing::warn!(%code, %message, client_id, "a forward was refused");
                let words = crate::api::plain_code(code, &message);
                events.push(Event::Problem(t!("forward-refused", reason = words)));
                Task::none()
            }
            ServerFrame::Error { code, message, reference: Some(client_id) } => {
                tracing::warn!(%code, %message, client_id, "a message was refused");
                events.push(Event::Problem(crate::api::plain_code(code, &message)));
                match self.roster.open {
                    Some(open) => self.with_history(open, move |history| async move {
                        history.mark_failed(&client_id).await
                    }),
                    None => Task::none(),
                }
            }
            ServerFrame::Error { code: ErrorCode::UnknownFrame, message, reference: None }
                if self.forgot_forwards() =>
            {
                tracing::warn!(%message, "the server does not know forwards");
                events.push(Event::Problem(t!("forward-unsupported")));
                Task::none()
            }
            ServerFrame::Error { code, message, reference: None } => {
                tracing::warn!(%code, %message, "the server refused a frame");
                if code == ErrorCode::RecallExpired {
                    // The window the server keeps, from its welcome, in the client's words.
                    let seconds = self.limits.recall_window_ms / 1000;
                    events.push(Event::Problem(t!("chat-recall-window", seconds = seconds)));
                }
                Task::none()
            }
            ServerFrame::FriendRequestReceived { request } if request.to.id == self.roster.me => {
                events.push(Event::Alert {
                    title: t!("alert-friend-request"),
                    body: t!("alert-friend-request-body", name = &request.from.display_name),
                    conversation: None,
                });
                Task::none()
            }
            ServerFrame::GroupRequestReceived { request } => {
                let body = match (request.kind, &request.inviter) {
                    (GroupRequestKind::Invitation, Some(inviter)) => {
                        t!(
                            "request-invitation-from",
                            name = &inviter.display_name,
                            group = &request.group.name
                        )
                    }
                    (GroupRequestKind::Invitation, None) => {
                        t!("request-invitation", group = &request.group.name)
                    }
                    (GroupRequestKind::Application, _) => {
                        t!(
                            "request-application",
                            name = &request.user.display_name,
                            group = &request.group.name
                        )
                    }
                };
                events.push(Event::Alert { title: t!("alert-group-request"), body, conversation: None });
                Task::none()
            }
            // Changed on another device.
            ServerFrame::ProfileUpdated { user } if user.id == self.roster.me => {
                events.push(self.set_user(user));
                self.save_snapshot();
                Task::none()
            }
            ServerFrame::ProfileUpdated { .. } => {
                self.save_snapshot();
                events.push(Event::PeopleChanged);
                Task::none()
            }
            ServerFrame::FriendAdded { .. }
            | ServerFrame::GroupMemberUpdated { .. }
            | ServerFrame::GroupJoined { .. } => {
                events.push(Event::PeopleChanged);
                Task::none()
            }
            ServerFrame::FriendRemoved { .. } => {
                if let Some(conversation) = unfriended {
                    if self.roster.open == Some(conversation) {
                        self.roster.open(None);
                    }
                    events.push(Event::Unfriended(conversation));
                }
                Task::none()
            }
            ServerFrame::GroupUpdated { group } => {
                events.push(Event::GroupUpdated(group));
                Task::none()
            }
            ServerFrame::GroupLeft { group_id, reason } => {
                // Removed or dissolved by someone else: say so (leaving is one's own doing).
                let name = left.unwrap_or_default();
                let notice = match reason {
                    LeaveReason::Removed => Some(t!("group-left-removed", name = &name)),
                    LeaveReason::Dissolved => Some(t!("group-left-dissolved", name = &name)),
                    LeaveReason::Left => None,
                };
                events.push(Event::GroupLeft { group_id, notice });
                Task::none()
            }
            _ => Task::none(),
        };
        (task, events)
    }

    /// What a notification about a new message says: the friend or group, and the text.
    fn alert(&self, message: &ChatMessage) -> Event {
        let conversation = message.conversation_id;
        let what = match &message.content {
            Content::Text { text, .. } => text.clone(),
            other => crate::screen::chat::attachment_words(other).unwrap_or_else(|| "A message".to_owned()),
        };
        let body = match (self.roster.groups.contains_key(&conversation), message.sender_id) {
            (true, Some(sender)) => format!("{}: {what}", self.roster.name_or_id(sender)),
            _ => what,
        };
        Event::Alert { title: self.roster.title(conversation), body, conversation: Some(conversation) }
    }
}

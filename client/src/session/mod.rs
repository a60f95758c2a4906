//! The live session with a server, apart from any window: the account, the socket's frames,
//! the roster, the local history cache, messages on their way out and who is typing.
//!
//! The main window holds a [`Session`], hands it the socket's events and its own
//! [`Message`]s, runs the tasks it returns and acts on the [`Event`]s it reports (a chat to
//! read again, a message to alert about, a session that ended). Nothing here draws, so its
//! tests run without a window.

mod frames;
mod outbox;
mod sync;

use crate::address::ServerAddress;
use crate::api::{Api, ApiError};
use crate::history::{History, StoredMessage};
use crate::offline::Snapshot;
use crate::roster::{List, Roster};
use crate::screen::login::{self, LoggedIn};
use crate::socket::{self, Connection};
use iced::Task;
use kith_shared::api::{
    BlockedUser, ConversationId, Friend, FriendRequests, GroupId, GroupMember, GroupProfile, MemberCursor,
    MyGroup, UserProfile,
};
use kith_shared::frame::{ChatMessage, Content, KickReason, ReceiptKind};
use kith_shared::{ClientFrame, ErrorCode, UserId};
use outbox::Outbox;
use std::collections::BTreeMap;
use std::path::PathBuf;
use std::time::{Duration, Instant};

/// How long "X is typing…" stays after their last typing notice (they repeat every 2 s).
pub const TYPING_SHOWN: Duration = Duration::from_secs(5);

/// The state of the realtime link, as the status line shows it.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum Status {
    /// The first connection is being made.
    Connecting,
    Online,
    /// The link dropped; the next attempt comes after `retry_in`.
    Reconnecting {
        reason: String,
        retry_in: Duration,
    },
    /// Browsing the local history without the server: nothing is sent or fetched.
    Offline,
}

impl Status {
    pub fn describe(&self) -> String {
        match self {
            Status::Connecting => t!("status-connecting"),
            Status::Online => t!("status-online"),
            Status::Reconnecting { retry_in, .. } => {
                t!("status-reconnecting", seconds = retry_in.as_secs().max(1))
            }
            Status::Offline => t!("status-offline"),
        }
    }
}

/// The local history cache.
#[derive(Debug)]
pub enum Cache {
    /// Being opened: messages sent meanwhile wait here, to be written to it first.
    Opening {
        unsaved: Vec<(ConversationId, Content)>,
    },
    Open(History),
    /// This computer keeps no history for the session (no data folder, or it failed to open).
    Unavailable,
}

pub struct Session {
    pub address: ServerAddress,
    /// Carries the session token.
    pub api: Api,
    pub user: UserProfile,
    pub status: Status,
    pub connection: Option<Connection>,
    /// The server's limits, from its `welcome` (defaults until connected).
    pub limits: socket::Limits,
    /// How many times the user asked to reconnect now (a new socket session each time).
    pub reconnects: u64,
    pub logging_out: bool,
    pub roster: Roster,
    pub cache: Cache,
    /// Messages being written to the cache go out in the order the user sent them.
    outbox: Outbox,
    /// Who is typing where, and when they last said so.
    pub typing: BTreeMap<ConversationId, BTreeMap<UserId, Instant>>,
    /// The latest message of each conversation in a line, for the lists.
    pub previews: BTreeMap<ConversationId, String>,
    /// Where the user's profile and lists are kept for offline browsing; None keeps none.
    pub snapshot_path: Option<PathBuf>,
    /// The snapshot of the previous session: its lists stand until this session's arrive.
    pub kept: Option<Snapshot>,
    /// The friend and group lists of this session have arrived.
    pub friends_known: bool,
    pub groups_known: bool,
}

/// The session's own work, answered.
#[derive(Debug, Clone)]
pub enum Message {
    HistoryOpened(Result<History, String>),
    FriendsLoaded(Result<Vec<Friend>, ApiError>),
    GroupsLoaded(Result<Vec<MyGroup>, ApiError>),
    /// The pending friend requests to and from the user.
    RequestsLoaded(Result<FriendRequests, ApiError>),
    /// The people the user blocks.
    BlocksLoaded(Result<Vec<BlockedUser>, ApiError>),
    MembersLoaded(GroupId, Result<Vec<GroupMember>, ApiError>),
    /// The other members' cursors of a conversation, for "delivered" and "read".
    ReceiptsLoaded(ConversationId, Result<Vec<MemberCursor>, ApiError>),
    /// The latest message of some conversations, for the lists' previews.
    PreviewsLoaded(Result<Vec<StoredMessage>, String>),
    /// The cache changed for this conversation.
    HistoryChanged(ConversationId),
    /// The message numbered so in the outbox was written to the cache; now send it (in turn).
    Outgoing(u64, Result<StoredMessage, String>),
    /// Caught up with the server up to this cursor.
    CaughtUp(ConversationId, Result<i64, String>),
    /// The unread messages of a conversation that mention the user, found in the cache.
    MentionsFound(ConversationId, Result<Vec<i64>, String>),
    Resend(Result<Vec<StoredMessage>, String>),
    LoggedOut(Result<(), ApiError>),
}

/// What the window must act on.
#[derive(Debug, Clone, PartialEq)]
pub enum Event {
    /// The cache holds news of this conversation: a chat showing it reads it again.
    Changed(ConversationId),
    /// The cache is open.
    CacheOpened,
    /// The friend or group list arrived.
    ListsArrived,
    /// Friends', members' or groups' profiles (and so their pictures) may have changed.
    PeopleChanged,
    /// The user's own profile changed; `picture` when the avatar is another one.
    UserChanged {
        picture: bool,
    },
    /// A message was pushed (its files may be fetched).
    Arrived(ChatMessage),
    /// News that deserves a sound or a notification: about a conversation, or a request.
    Alert {
        title: String,
        body: String,
        conversation: Option<ConversationId>,
    },
    /// Something the user sent did not go, in words for the open chat.
    Problem(String),
    /// The friendship behind this conversation ended: its chat closes.
    Unfriended(ConversationId),
    /// The user is no longer in this group; `notice` says why when someone else did it.
    GroupLeft {
        group_id: GroupId,
        notice: Option<String>,
    },
    GroupUpdated(GroupProfile),
    /// A list could not be loaded: said in the side bar.
    Notice(String),
    /// The server ended the session; say why and go back to the login screen.
    Ended {
        title: String,
        body: String,
    },
    LoggedOut,
}

/// A task and what the window must act on.
pub type Outcome = (Task<Message>, Vec<Event>);

fn open_history(path: PathBuf) -> Task<Message> {
    Task::perform(
        async move { History::open(&path).await.map_err(|err| err.to_string()) },
        Message::HistoryOpened,
    )
}

impl Session {
    /// A fresh session after logging in, with the task that opens its history cache.
    pub fn new(login: LoggedIn, history_path: Option<PathBuf>) -> (Self, Task<Message>) {
        let LoggedIn { address, api, user } = login;
        let me = user.id;
        let (cache, task) = match history_path {
            Some(path) => (Cache::Opening { unsaved: Vec::new() }, open_history(path)),
            None => (Cache::Unavailable, Task::none()),
        };
        let session = Self {
            address,
            api,
            user,
            status: Status::Connecting,
            connection: None,
            limits: socket::Limits::default(),
            reconnects: 0,
            logging_out: false,
            roster: Roster::new(me),
            cache,
            outbox: Outbox::default(),
            typing: BTreeMap::new(),
            previews: BTreeMap::new(),
            snapshot_path: None,
            kept: None,
            friends_known: false,
            groups_known: false,
        };
        (session, task)
    }

    /// The session without the server: the lists as last seen, chats read from the cache.
    pub fn offline(offline: login::Offline) -> (Self, Task<Message>) {
        let login::Offline { address, snapshot, history_path, trust } = offline;
        let login = LoggedIn { api: Api::new(&address, &trust), address, user: snapshot.user };
        let (mut session, task) = Self::new(login, Some(history_path));
        session.status = Status::Offline;
        let roster = &mut session.roster;
        let friends = snapshot.friends.into_iter().map(|friend| Friend { online: false, ..friend }).collect();
        roster.set_friends(friends);
        roster.set_groups(snapshot.groups);
        roster.titles = snapshot.titles;
        for (group, members) in snapshot.members {
            let members = members.into_iter().map(|member| GroupMember { online: false, ..member }).collect();
            roster.set_members(group, members);
        }
        (session, task)
    }

    /// Browsing the local history without the server.
    pub fn is_offline(&self) -> bool {
        self.status == Status::Offline
    }

    /// The cache, once it is open.
    pub fn history(&self) -> Option<&History> {
        match &self.cache {
            Cache::Open(history) => Some(history),
            _ => None,
        }
    }

    /// What identifies this session's socket subscription.
    pub fn socket_params(&self) -> Option<socket::Params> {
        let token = self.api.token()?.to_owned();
        let targets = (self.address.nodes().iter().zip(self.api.tls()))
            .map(|(node, tls)| socket::Target { address: node.socket_target(), tls })
            .collect();
        (!self.logging_out && !self.is_offline())
            .then(|| socket::Params { attempt: self.reconnects, ..socket::Params::new(targets, token) })
    }

    /// Try to reach the server now instead of waiting for the next attempt.
    pub fn reconnect_now(&mut self) {
        self.reconnects += 1;
        self.status = Status::Connecting;
    }

    /// Stops the socket at once and asks the server to end the session.
    pub fn log_out(&mut self) -> Outcome {
        if self.is_offline() {
            return (Task::none(), vec![Event::LoggedOut]);
        }
        if self.logging_out {
            return (Task::none(), vec![]);
        }
        self.logging_out = true;
        self.connection = None;
        let api = self.api.clone();
        (Task::perform(async move { api.logout().await }, Message::LoggedOut), vec![])
    }

    /// Takes a newer profile of the user.
    pub fn set_user(&mut self, user: UserProfile) -> Event {
        let picture = user.avatar_url != self.user.avatar_url;
        self.user = user;
        Event::UserChanged { picture }
    }

    /// A socket event for this session.
    pub fn socket(&mut self, event: socket::Event) -> Outcome {
        let ended = |title: &str, body: String| Event::Ended { title: title.to_owned(), body };
        match event {
            socket::Event::Connected { connection, user, limits } => {
                self.status = Status::Online;
                self.connection = Some(connection);
                self.limits = limits;
                return (Task::none(), vec![self.set_user(user)]);
            }
            socket::Event::Disconnected { reason, retry_in } => {
                self.connection = None;
                // Presence is unknown while away: grey dots, not stale green ones.
                self.roster.all_offline();
                self.status = Status::Reconnecting { reason, retry_in };
            }
            socket::Event::Received(frame) => return self.apply(frame),
            socket::Event::Kicked { reason, message } => {
                self.connection = None;
                let body = match reason {
                    KickReason::LoggedInElsewhere => t!("kicked-elsewhere"),
                    KickReason::LoggedOut | KickReason::TooSlow => {
                        t!("kicked-logged-out", reason = &message)
                    }
                };
                return (Task::none(), vec![ended(&t!("logged-out"), body)]);
            }
            socket::Event::Untrusted(problem) => {
                self.connection = None;
                return (Task::none(), vec![ended(&t!("certificate-not-accepted"), problem.plain())]);
            }
            socket::Event::Refused { code, message } => {
                self.connection = None;
                let body = crate::api::plain_code(code, &message);
                let title =
                    if code == ErrorCode::Unauthorized { t!("session-ended") } else { t!("cannot-connect") };
                return (Task::none(), vec![ended(&title, body)]);
            }
        }
        (Task::none(), vec![])
    }

    /// The session's own work answered.
    pub fn update(&mut self, message: Message) -> Outcome {
        let mut events = Vec::new();
        let task = match message {
            Message::HistoryOpened(result) => return self.cache_opened(result),
            Message::FriendsLoaded(Ok(friends)) => {
                self.roster.friends_fetched(friends);
                self.friends_known = true;
                self.save_snapshot();
                events.extend([Event::ListsArrived, Event::PeopleChanged]);
                Task::none()
            }
            Message::GroupsLoaded(Ok(groups)) => {
                self.roster.groups_fetched(groups);
                self.groups_known = true;
                self.save_snapshot();
                events.extend([Event::ListsArrived, Event::PeopleChanged]);
                Task::none()
            }
            Message::FriendsLoaded(Err(err)) => {
                self.roster.fetch_failed(List::Friends);
                events.push(Event::Notice(err.plain()));
                events.extend(session_over(&err));
                Task::none()
            }
            Message::GroupsLoaded(Err(err)) => {
                self.roster.fetch_failed(List::Groups);
                events.push(Event::Notice(err.plain()));
                events.extend(session_over(&err));
                Task::none()
            }
            Message::RequestsLoaded(Ok(requests)) => {
                self.roster.friend_requests_fetched(requests.incoming, requests.outgoing);
                Task::none()
            }
            Message::RequestsLoaded(Err(err)) => {
                self.roster.fetch_failed(List::Requests);
                tracing::warn!(%err, "cannot load the friend requests");
                events.extend(session_over(&err));
                Task::none()
            }
            Message::BlocksLoaded(Ok(list)) => {
                self.roster.blocks_fetched(list);
                Task::none()
            }
            Message::BlocksLoaded(Err(err)) => {
                self.roster.fetch_failed(List::Blocked);
                tracing::warn!(%err, "cannot load the block list");
                events.extend(session_over(&err));
                Task::none()
            }
            Message::MembersLoaded(group, Ok(members)) => {
                self.roster.set_members(group, members);
                // Offline, the group's chat still names its senders.
                self.save_snapshot();
                events.push(Event::PeopleChanged);
                Task::none()
            }
            Message::MembersLoaded(group, Err(err)) => {
                tracing::warn!(%err, group, "cannot load the member list");
                events.extend(session_over(&err));
                Task::none()
            }
            Message::ReceiptsLoaded(conversation, Ok(cursors)) => {
                self.roster.set_receipts(conversation, cursors);
                Task::none()
            }
            Message::ReceiptsLoaded(conversation, Err(err)) => {
                tracing::warn!(%err, conversation, "cannot load who has read the conversation");
                events.extend(session_over(&err));
                Task::none()
            }
            Message::PreviewsLoaded(Ok(latest)) => {
                for message in latest {
                    let preview = self.preview(&message);
                    self.previews.insert(message.conversation_id, preview);
                }
                Task::none()
            }
            Message::PreviewsLoaded(Err(err)) => {
                tracing::warn!(%err, "cannot read the latest messages");
                Task::none()
            }
            Message::HistoryChanged(conversation) => {
                events.push(Event::Changed(conversation));
                self.load_previews(Some(conversation))
            }
            Message::Outgoing(number, stored) => return self.outgoing(number, stored),
            Message::CaughtUp(conversation, Ok(cursor)) => {
                if cursor > 0 {
                    self.send_frame(ClientFrame::Receipt {
                        conversation_id: conversation,
                        kind: ReceiptKind::Delivered,
                        seq: cursor,
                    });
                }
                events.push(Event::Changed(conversation));
                Task::batch([self.load_previews(Some(conversation)), self.find_mentions(conversation)])
            }
            Message::MentionsFound(conversation, Ok(seqs)) => {
                self.roster.add_mentions(conversation, &seqs);
                Task::none()
            }
            Message::MentionsFound(conversation, Err(err)) => {
                tracing::warn!(%err, conversation, "cannot read the mentions in the history");
                Task::none()
            }
            Message::CaughtUp(conversation, Err(err)) => {
                tracing::warn!(%err, conversation, "cannot fetch the history");
                Task::none()
            }
            Message::Resend(Ok(pending)) => {
                for message in pending {
                    if let (Some(to), Some(client_id)) =
                        (self.roster.target(message.conversation_id), message.client_id)
                    {
                        let frame =
                            outbox::frame_for(client_id, to, message.conversation_id, message.content);
                        self.send_frame(frame);
                    }
                }
                Task::none()
            }
            Message::Resend(Err(err)) => {
                tracing::warn!(%err, "cannot read unsent messages");
                Task::none()
            }
            Message::LoggedOut(result) => {
                if let Err(err) = result {
                    // The token stays valid on a server we cannot reach; it expires there.
                    tracing::warn!(%err, "logout request failed; leaving anyway");
                }
                events.push(Event::LoggedOut);
                Task::none()
            }
        };
        (task, events)
    }

    /// The cache opened, or could not be.
    fn cache_opened(&mut self, result: Result<History, String>) -> Outcome {
        let unsaved = match std::mem::replace(&mut self.cache, Cache::Unavailable) {
            Cache::Opening { unsaved } => unsaved,
            _ => Vec::new(),
        };
        let history = match result {
            Ok(history) => history,
            Err(err) => {
                tracing::warn!(%err, "local history unavailable; chats are not kept on this machine");
                // Without a cache, what was written meanwhile goes straight out.
                for (conversation, content) in unsaved {
                    let _ = self.send(conversation, content);
                }
                return (Task::none(), vec![]);
            }
        };
        self.cache = Cache::Open(history);
        let mut tasks = vec![self.load_previews(None)];
        if !self.is_offline() {
            // The sync state may have arrived while the cache was opening: catch up now with
            // what it listed, and resend what was left unsent.
            tasks.push(self.resend_pending());
            tasks.extend(unsaved.into_iter().filter_map(|(c, content)| self.send(c, content).ok()));
            let known: Vec<(ConversationId, i64)> =
                self.roster.conversations.iter().map(|(id, c)| (*id, c.last_seq)).collect();
            tasks.extend(known.into_iter().map(|(id, last_seq)| self.catch_up(id, last_seq)));
        }
        (Task::batch(tasks), vec![Event::CacheOpened])
    }

    /// The user opens a conversation (or none): it is read now, and what the chat shows
    /// about it is fetched.
    pub fn open(&mut self, conversation: Option<ConversationId>) -> Task<Message> {
        self.roster.open(conversation);
        let Some(conversation) = conversation else { return Task::none() };
        self.report_read(conversation);
        if self.is_offline() {
            return Task::none();
        }
        let last_seq = self.roster.conversations.get(&conversation).map_or(0, |c| c.last_seq);
        Task::batch([
            self.load_members(conversation),
            self.load_receipts(conversation),
            // Anything the cache still lacks (a catch-up that failed) comes now.
            self.catch_up(conversation, last_seq),
        ])
    }

    /// Tells the server the user has read the conversation, when there is news.
    pub fn report_read(&mut self, conversation_id: ConversationId) {
        if let Some(seq) = self.roster.mark_read(conversation_id) {
            self.send_frame(ClientFrame::Receipt { conversation_id, kind: ReceiptKind::Read, seq });
        }
    }

    /// Sends a frame on the socket, when connected.
    pub fn send_frame(&self, frame: ClientFrame) {
        if let Some(connection) = &self.connection
            && let Err(err) = connection.send(frame)
        {
            tracing::warn!(%err, "cannot send on the socket");
        }
    }

    /// Expires typing notices.
    pub fn tick(&mut self, now: Instant) {
        for typing in self.typing.values_mut() {
            typing.retain(|_, at| now.saturating_duration_since(*at) < TYPING_SHOWN);
        }
        self.typing.retain(|_, typing| !typing.is_empty());
    }

    /// "Bob is typing…" for a conversation, when someone is.
    pub fn typing_line(&self, conversation: ConversationId) -> Option<String> {
        let typing = self.typing.get(&conversation)?;
        let names: Vec<String> = typing.keys().map(|id| self.roster.name_or_id(*id)).collect();
        match names.as_slice() {
            [] => None,
            [one] => Some(t!("typing-one", name = one)),
            [one, two] => Some(t!("typing-two", first = one, second = two)),
            _ => Some(t!("typing-several")),
        }
    }
}

/// An HTTP answer saying the token is no longer valid ends the session.
pub fn session_over(err: &ApiError) -> Option<Event> {
    (err.code() == Some(ErrorCode::Unauthorized))
        .then(|| Event::Ended { title: t!("session-ended"), body: err.plain() })
}

#[cfg(test)]
pub(crate) mod tests;

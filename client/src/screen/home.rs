//! The main window after login: the user's own name and avatar, the connection status,
//! profile editing, settings and log out.

use crate::api::{Api, ApiError};
use crate::clock;
use crate::files::{self, Files, Picture};
use crate::history::{History, StoredMessage};
use crate::offline::Snapshot;
use crate::roster::{Change, Roster};
use crate::screen::attach::{self, Attach};
use crate::screen::chat::{self, Chat};
use crate::screen::group_admin::{self, GroupAdmin};
use crate::screen::groups;
use crate::screen::login::{self, LoggedIn};
use crate::screen::search::{self, Search};
use crate::settings::Settings;
use crate::socket::{self, Connection};
use crate::widget::{self, BOLD, Element};
use iced::widget::{button, checkbox, column, container, image, row, scrollable, text, text_input};
use iced::{Alignment, Background, Border, Length, Task, Theme};
use kith_shared::api::{
    ChangePasswordRequest, ConversationId, Friend, FriendRequestOutcome, GroupId, GroupMember,
    GroupRequestKind, HistoryPage, HistoryQuery, MemberCursor, MyGroup, SearchQuery, SendFriendRequest,
    UpdateProfileRequest, UserProfile, UserSearchHit, limits,
};
use kith_shared::frame::{ChatMessage, Content, KickReason, LeaveReason, ReceiptKind, Target};
use kith_shared::{ClientFrame, ErrorCode, ServerFrame, UserId};
use std::collections::BTreeMap;
use std::time::{Duration, Instant};

/// How long "X is typing…" stays after their last typing notice (they repeat every 2 s).
pub const TYPING_SHOWN: Duration = Duration::from_secs(5);

/// Widget ids, for focus and tests.
pub mod id {
    pub const SEARCH: &str = "add-friend-search";
    pub const GREETING: &str = "add-friend-greeting";
    pub const DISPLAY_NAME: &str = "profile-display-name";
    pub const OLD_PASSWORD: &str = "profile-old-password";
    pub const NEW_PASSWORD: &str = "profile-new-password";
    pub const CONFIRM_PASSWORD: &str = "profile-confirm-password";
    /// The side bar's list of friends and groups.
    pub const LIST: &str = "side-list";
}

/// Below this window width one pane shows at a time: the side bar, or the chat or panel.
pub const NARROW: f32 = 720.0;
/// The side bar's width beside the chat.
pub const SIDEBAR_WIDTH: f32 = 320.0;
/// The padding around the chat or panel.
const MAIN_PADDING: f32 = 20.0;

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
    /// Browsing the local history without the server.
    Offline,
}

impl Status {
    pub fn describe(&self) -> String {
        match self {
            Status::Connecting => "Connecting…".to_owned(),
            Status::Online => "Online".to_owned(),
            Status::Reconnecting { retry_in, .. } => {
                format!("Offline, reconnecting in {} s", retry_in.as_secs().max(1))
            }
            Status::Offline => "Offline — history only".to_owned(),
        }
    }
}

/// The side panel on the right.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum Panel {
    Profile(ProfileForm),
    Settings,
    Requests,
    AddFriend(AddFriend),
    /// Create or join a group.
    Groups(groups::Panel),
    GroupAdmin(GroupAdmin),
    Search(Search),
    /// Choosing a file: to send in the chat, or as one's avatar.
    Attach(Attach, AttachFor),
}

/// What a file chosen in the browser is for.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum AttachFor {
    Chat,
    Avatar,
    /// Where to save a copy of this upload's file.
    SaveCopy(String),
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

#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct ProfileForm {
    pub display_name: String,
    pub old_password: String,
    pub new_password: String,
    pub confirm_password: String,
    pub busy: bool,
    pub error: Option<String>,
    pub info: Option<String>,
}

pub struct Home {
    pub session: LoggedIn,
    pub status: Status,
    pub connection: Option<Connection>,
    /// The server's limits, from its `welcome` (defaults until connected).
    pub limits: socket::Limits,
    /// How many times the user asked to reconnect now (a new socket session each time).
    pub reconnects: u64,
    pub avatar: Option<image::Handle>,
    pub panel: Option<Panel>,
    pub history: Option<History>,
    pub logging_out: bool,
    pub roster: Roster,
    pub chat: Option<Chat>,
    /// An error about lists or requests, shown in the side bar.
    pub notice: Option<String>,
    /// Who is typing where, and when they last said so.
    pub typing: BTreeMap<ConversationId, BTreeMap<UserId, Instant>>,
    /// Browsing the local history without the server: nothing is sent or fetched.
    pub offline: bool,
    /// Where the user's profile and lists are kept for offline browsing; None keeps none.
    pub snapshot_path: Option<std::path::PathBuf>,
    /// The latest message of each conversation in a line, for the lists.
    pub previews: BTreeMap<ConversationId, String>,
    /// Pictures, transfers and saved files of the chats.
    pub files: Files,
    /// The server's emoji set, once loaded.
    pub emoji: Option<crate::emoji::EmojiSet>,
    /// The picture open in the viewer: its upload id and name.
    pub viewer: Option<(String, String)>,
    /// The chat open when the user last left: opened again once the lists arrive.
    pub reopen: Option<ConversationId>,
    /// Messages written while the cache was still opening: kept, then sent, once it is open.
    pub unsaved: Vec<(ConversationId, Content)>,
    /// Messages being written to the cache go out in the order the user sent them, whatever
    /// order the writes finish in.
    outbox: Outbox,
    /// The cache is being opened.
    pub history_opening: bool,
    /// The snapshot of the previous session: its lists stand until this session's arrive.
    pub kept: Option<Snapshot>,
    /// The friend and group lists of this session have arrived.
    pub friends_known: bool,
    pub groups_known: bool,
    /// In a wide window, the user folded the side bar away.
    pub sidebar_collapsed: bool,
    /// In a narrow window, the side bar is shown over the chat or panel.
    pub list_shown: bool,
}

#[derive(Debug, Clone)]
pub enum Message {
    OpenProfile,
    OpenSettings,
    ClosePanel,
    DisplayNameChanged(String),
    OldPasswordChanged(String),
    NewPasswordChanged(String),
    ConfirmPasswordChanged(String),
    SaveDisplayName,
    DisplayNameSaved(Result<UserProfile, ApiError>),
    SavePassword,
    PasswordSaved(Result<(), ApiError>),
    SoundToggled(bool),
    NotificationsToggled(bool),
    DarkToggled(bool),
    AvatarLoaded(Result<Vec<u8>, ApiError>),
    /// The system's opener answered (an error says why nothing opened).
    Opened(Result<(), String>),
    /// Choose a picture for one's avatar.
    ChooseAvatar,
    AvatarSaved(Result<UserProfile, ApiError>),
    HistoryOpened(Result<History, String>),
    LogOut,
    LoggedOut(Result<(), ApiError>),
    FriendsLoaded(Result<Vec<Friend>, ApiError>),
    GroupsLoaded(Result<Vec<MyGroup>, ApiError>),
    Open(ConversationId),
    Chat(chat::Message),
    ChatLoaded(ConversationId, Result<Vec<StoredMessage>, String>),
    /// The other members' cursors of a conversation, for "delivered" and "read".
    ReceiptsLoaded(ConversationId, Result<Vec<MemberCursor>, ApiError>),
    /// The latest message of some conversations, for the lists' previews.
    PreviewsLoaded(Result<Vec<StoredMessage>, String>),
    /// A thumbnail or sticker arrived (by its key in [`Files::pictures`]).
    PictureLoaded(String, Result<Vec<u8>, ApiError>),
    /// The files already on this computer, from the cache.
    SavedFilesLoaded(Result<Vec<(String, std::path::PathBuf)>, String>),
    /// News of the transfer with this key.
    Transfer(String, files::Progress),
    /// A file was dropped on the window: offer it to the open chat.
    FileDropped(std::path::PathBuf),
    CloseViewer,
    /// A local picture was decoded (by its key in [`Files::pictures`]), or not.
    Decoded(String, Result<image::Handle, String>),
    /// Save a copy of the picture in the viewer elsewhere.
    SaveCopy(String, String),
    /// The friendship ended (the server tells both sides with `friend_removed`), or not.
    Unfriended(Result<(), ApiError>),
    /// A copy was saved (or not).
    Copied(Result<std::path::PathBuf, String>),
    EmojiLoaded(Result<crate::emoji::EmojiSet, ApiError>),
    /// Escape: close what is open over the chat (a panel, the emoji picker).
    Escape,
    /// Try to reach the server now instead of waiting for the next attempt.
    ReconnectNow,
    /// The server stays out of reach: browse the local history instead.
    BrowseOffline,
    /// The cache changed for this conversation: show it again if it is open.
    HistoryChanged(ConversationId),
    /// The message numbered so in the outbox was written to the cache; now send it (in turn).
    Outgoing(u64, Result<StoredMessage, String>),
    /// Caught up with the server up to this cursor.
    CaughtUp(ConversationId, Result<i64, String>),
    Resend(Result<Vec<StoredMessage>, String>),
    OpenRequests,
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
    Withdrawn(kith_shared::api::FriendRequest, Result<(), ApiError>),
    /// The pending friend requests to and from the user.
    RequestsLoaded(Result<kith_shared::api::FriendRequests, ApiError>),
    OpenAddFriend,
    SearchChanged(String),
    GreetingChanged(String),
    Search,
    Found(Result<Vec<UserSearchHit>, ApiError>),
    Ask(UserId),
    Asked(Result<FriendRequestOutcome, ApiError>),
    /// The clock moved on: expire typing notices, end recall windows.
    Tick(Instant),
    OpenCreateGroup,
    OpenJoinGroup,
    Groups(groups::Message),
    GroupAdmin(group_admin::Message),
    Attach(attach::Message),
    /// Ctrl+F: search the local history.
    OpenSearch,
    HistorySearch(search::Message),
    /// A search result's conversation is read up to it: show it there.
    Jumped(StoredMessage, Result<u32, String>),
    MembersLoaded(GroupId, Result<Vec<GroupMember>, ApiError>),
    /// In a wide window: fold the side bar away (true) or bring it back.
    CollapseSidebar(bool),
    /// In a narrow window: show the side bar over the chat (true), or the chat again.
    ShowList(bool),
}

/// The most characters of a message shown under a conversation's name.
const PREVIEW_CHARS: usize = 34;

/// Loads the server's emoji set, cached in the server's folder beside the history.
fn load_emoji(api: &Api, history_path: Option<&std::path::Path>) -> Task<Message> {
    let api = api.clone();
    // history.db sits in <server>/<user>/: the emoji are the server's, shared by its users.
    let cache = history_path.and_then(|p| p.parent()?.parent()).map(crate::emoji::cache_folder);
    Task::perform(crate::emoji::load(api, cache), Message::EmojiLoaded)
}

/// What the root must act on.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum Event {
    /// The user logged out.
    LoggedOut,
    /// The server ended the session; say why and go back to the login screen.
    SessionEnded {
        title: String,
        body: String,
    },
    SoundChanged(bool),
    NotificationsChanged(bool),
    DarkChanged(bool),
    /// The user opened this conversation (remembered for the next start).
    ChatOpened(ConversationId),
    /// The user chose to browse the local history while the server is out of reach.
    BrowseOffline,
    /// A message arrived that deserves a sound (and, in the background, a notification
    /// titled `title` showing `body`).
    Alert {
        title: String,
        body: String,
        /// The conversation is on screen (no sound while the window has the focus).
        on_screen: bool,
    },
}

impl Drop for Home {
    /// Leaving the session stops its transfers: nothing more is written for this user.
    fn drop(&mut self) {
        for transfer in self.files.transfers.values() {
            transfer.cancel.cancel();
        }
    }
}

impl Home {
    /// The main window for a fresh session, with the tasks that load its avatar and history.
    pub fn new(session: LoggedIn, history_path: Option<std::path::PathBuf>) -> (Self, Task<Message>) {
        let mut tasks = vec![];
        let files =
            Files { folder: history_path.as_deref().and_then(files::folder_beside), ..Files::default() };
        tasks.push(load_emoji(&session.api, history_path.as_deref()));
        let history_opening = history_path.is_some();
        if let Some(folder) = files.folder.clone() {
            let session_start = std::time::SystemTime::now();
            tasks.push(Task::future(files::remove_leftovers(folder, session_start)).discard());
        }
        if let Some(path) = history_path {
            tasks.push(Task::perform(
                async move { History::open(&path).await.map_err(|err| err.to_string()) },
                Message::HistoryOpened,
            ));
        }
        let me = session.user.id;
        let mut home = Self {
            session,
            status: Status::Connecting,
            connection: None,
            limits: socket::Limits::default(),
            reconnects: 0,
            avatar: None,
            panel: None,
            history: None,
            logging_out: false,
            roster: Roster::new(me),
            chat: None,
            notice: None,
            typing: BTreeMap::new(),
            offline: false,
            snapshot_path: None,
            previews: BTreeMap::new(),
            files,
            emoji: None,
            viewer: None,
            reopen: None,
            unsaved: Vec::new(),
            outbox: Outbox::default(),
            history_opening: false,
            kept: None,
            friends_known: false,
            groups_known: false,
            sidebar_collapsed: false,
            list_shown: false,
        };
        home.history_opening = history_opening;
        tasks.push(home.load_avatar());
        (home, Task::batch(tasks))
    }

    /// The main window without the server: the lists as last seen, chats read from the cache.
    pub fn offline(offline: login::Offline) -> (Self, Task<Message>) {
        let login::Offline { address, snapshot, history_path, trust } = offline;
        let session = LoggedIn { api: Api::new(&address, &trust), address, user: snapshot.user };
        let me = session.user.id;
        let mut roster = Roster::new(me);
        let friends = snapshot.friends.into_iter().map(|friend| Friend { online: false, ..friend }).collect();
        roster.set_friends(friends);
        roster.set_groups(snapshot.groups);
        roster.titles = snapshot.titles;
        for (group, members) in snapshot.members {
            let members = members.into_iter().map(|member| GroupMember { online: false, ..member }).collect();
            roster.set_members(group, members);
        }
        let home = Self {
            session,
            status: Status::Offline,
            connection: None,
            limits: socket::Limits::default(),
            reconnects: 0,
            avatar: None,
            panel: None,
            history: None,
            logging_out: false,
            roster,
            chat: None,
            notice: None,
            typing: BTreeMap::new(),
            offline: true,
            snapshot_path: None,
            previews: BTreeMap::new(),
            files: Files { folder: files::folder_beside(&history_path), ..Files::default() },
            emoji: None,
            viewer: None,
            reopen: None,
            unsaved: Vec::new(),
            outbox: Outbox::default(),
            history_opening: false,
            kept: None,
            friends_known: false,
            groups_known: false,
            sidebar_collapsed: false,
            list_shown: false,
        };
        let emoji = load_emoji(&home.session.api, Some(&history_path));
        let task = Task::perform(
            async move { History::open(&history_path).await.map_err(|err| err.to_string()) },
            Message::HistoryOpened,
        );
        (home, Task::batch([task, emoji]))
    }

    /// Keeps the profile and lists for offline browsing: a list not fetched yet in this
    /// session stays as the previous session left it, and the members of groups not opened
    /// in this session stay as they were.
    pub fn save_snapshot(&mut self) {
        let Some(path) = self.snapshot_path.clone() else { return };
        let kept = self.kept.as_ref();
        let friends = match (self.friends_known, kept) {
            (false, Some(kept)) => kept.friends.clone(),
            _ => self.roster.friends.values().cloned().collect(),
        };
        let groups: Vec<MyGroup> = match (self.groups_known, kept) {
            (false, Some(kept)) => kept.groups.clone(),
            _ => self.roster.groups.values().cloned().collect(),
        };
        let mut members = kept.map(|kept| kept.members.clone()).unwrap_or_default();
        members.extend(self.roster.members.iter().map(|(group, list)| (*group, list.clone())));
        members.retain(|group, _| groups.iter().any(|g| g.group.id == *group));
        // Names stay known after a friendship or membership ends.
        let titles = &mut self.roster.titles;
        titles.extend(friends.iter().map(|f| (f.conversation_id, f.user.display_name.clone())));
        titles.extend(groups.iter().map(|g| (g.group.id, g.group.name.clone())));
        let titles = titles.clone();
        let snapshot = Snapshot { user: self.session.user.clone(), friends, groups, members, titles };
        if let Err(err) = snapshot.save(&path) {
            tracing::warn!(%err, "cannot keep the lists for offline browsing");
        }
    }

    pub fn user(&self) -> &UserProfile {
        &self.session.user
    }

    /// This server and user, as settings remember things per account: `<host_port>/<user_id>`.
    pub fn place(&self) -> String {
        format!("{}/{}", self.session.address.folder_name(), self.session.user.id)
    }

    /// What identifies this session's socket subscription.
    pub fn socket_params(&self) -> Option<socket::Params> {
        let token = self.session.api.token()?.to_owned();
        (!self.logging_out && !self.offline).then(|| socket::Params {
            attempt: self.reconnects,
            ..socket::Params::new(
                self.session.address.socket_target(),
                self.session.api.tls().cloned(),
                token,
            )
        })
    }

    fn load_avatar(&self) -> Task<Message> {
        match &self.session.user.avatar_url {
            Some(path) => {
                let api = self.session.api.clone();
                let path = path.clone();
                Task::perform(async move { api.bytes(&path).await }, Message::AvatarLoaded)
            }
            None => Task::none(),
        }
    }

    /// A socket event for this session.
    pub fn socket(&mut self, event: socket::Event) -> (Task<Message>, Option<Event>) {
        match event {
            socket::Event::Connected { connection, user, limits } => {
                self.status = Status::Online;
                self.connection = Some(connection);
                self.limits = limits;
                if let Some(chat) = &mut self.chat {
                    chat.limits = limits;
                }
                return (self.set_user(user), None);
            }
            socket::Event::Disconnected { reason, retry_in } => {
                self.connection = None;
                // Presence is unknown while away: grey dots, not stale green ones.
                self.roster.all_offline();
                self.status = Status::Reconnecting { reason, retry_in };
            }
            socket::Event::Received(frame) => return self.frame(frame),
            socket::Event::Kicked { reason, message } => {
                self.connection = None;
                let body = match reason {
                    KickReason::LoggedInElsewhere => "This account logged in elsewhere.".to_owned(),
                    KickReason::LoggedOut | KickReason::TooSlow => {
                        format!("You were logged out by the server ({message}).")
                    }
                };
                return (Task::none(), Some(Event::SessionEnded { title: "Logged out".to_owned(), body }));
            }
            socket::Event::Untrusted(problem) => {
                self.connection = None;
                let title = "Certificate not accepted".to_owned();
                return (Task::none(), Some(Event::SessionEnded { title, body: problem.plain() }));
            }
            socket::Event::Refused { code, message } => {
                self.connection = None;
                let body = crate::api::plain_code(code, &message);
                let title = if code == ErrorCode::Unauthorized { "Session ended" } else { "Cannot connect" };
                return (Task::none(), Some(Event::SessionEnded { title: title.to_owned(), body }));
            }
        }
        (Task::none(), None)
    }

    /// A frame from the server: update the lists, write messages to the cache.
    fn frame(&mut self, frame: ServerFrame) -> (Task<Message>, Option<Event>) {
        // A group's name, before the roster forgets the group.
        let left = match &frame {
            ServerFrame::GroupLeft { group_id, .. } => Some(self.roster.title(*group_id)),
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
        let mut event = None;
        let task = match frame {
            ServerFrame::SyncState { conversations, .. } => {
                // What arrived while away, in the chat on screen, is read now.
                if let Some(open) = self.roster.open {
                    self.report_read(open);
                }
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
                    event = Some(self.alert(&message));
                }
                let fetch = self.auto_download(&message);
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
                Task::batch([self.store_live(message), fetch])
            }
            ServerFrame::Ack { client_id, message_id, conversation_id, seq, sent_at } => {
                self.with_history(conversation_id, move |history| async move {
                    history.acknowledge(&client_id, message_id, seq, sent_at).await.map(drop)
                })
            }
            ServerFrame::Error { code, message, reference: Some(client_id) } => {
                tracing::warn!(%code, %message, client_id, "a message was refused");
                let words = crate::api::plain_code(code, &message);
                match &mut self.chat {
                    Some(chat) => {
                        chat.error = Some(words);
                        let conversation = chat.conversation_id;
                        self.with_history(conversation, move |history| async move {
                            history.mark_failed(&client_id).await
                        })
                    }
                    None => Task::none(),
                }
            }
            ServerFrame::Error { code, message, reference: None } => {
                tracing::warn!(%code, %message, "the server refused a frame");
                if code == ErrorCode::RecallExpired
                    && let Some(chat) = &mut self.chat
                {
                    chat.error = Some(crate::api::plain_code(code, &message));
                }
                Task::none()
            }
            ServerFrame::FriendRequestReceived { request } if request.to.id == self.roster.me => {
                event = Some(Event::Alert {
                    title: "Friend request".to_owned(),
                    body: format!("{} wants to be your friend", request.from.display_name),
                    on_screen: matches!(self.panel, Some(Panel::Requests)),
                });
                Task::none()
            }
            ServerFrame::GroupRequestReceived { request } => {
                let body = match (request.kind, &request.inviter) {
                    (GroupRequestKind::Invitation, Some(inviter)) => {
                        format!("{} invites you to {}", inviter.display_name, request.group.name)
                    }
                    (GroupRequestKind::Invitation, None) => {
                        format!("You are invited to {}", request.group.name)
                    }
                    (GroupRequestKind::Application, _) => {
                        format!("{} asks to join {}", request.user.display_name, request.group.name)
                    }
                };
                event = Some(Event::Alert {
                    title: "Group request".to_owned(),
                    body,
                    on_screen: matches!(self.panel, Some(Panel::Requests)),
                });
                Task::none()
            }
            ServerFrame::ProfileUpdated { user } if user.id == self.roster.me => {
                // Changed on another device.
                let task = self.set_user(user);
                self.save_snapshot();
                task
            }
            ServerFrame::ProfileUpdated { .. } => {
                self.save_snapshot();
                self.fetch_avatars()
            }
            ServerFrame::FriendAdded { .. } | ServerFrame::GroupMemberUpdated { .. } => self.fetch_avatars(),
            ServerFrame::FriendRemoved { user_id } => {
                // No longer friends: their chat closes (its history stays in the cache).
                let conversation = self.chat.as_ref().map(|chat| chat.conversation_id);
                if conversation.is_some_and(|c| {
                    self.roster.conversations.get(&c).and_then(|c| c.peer_id) == Some(user_id)
                }) {
                    self.chat = None;
                    self.roster.open(None);
                }
                Task::none()
            }
            ServerFrame::GroupUpdated { group } => {
                // Open group settings show another admin's change instead of saving over it.
                if let Some(Panel::GroupAdmin(panel)) = &mut self.panel
                    && panel.group == group.id
                {
                    panel.follow(&group);
                }
                Task::none()
            }
            ServerFrame::GroupLeft { group_id, reason } => {
                // Removed or dissolved by someone else: say so (leaving is one's own doing).
                let name = left.unwrap_or_default();
                match reason {
                    LeaveReason::Removed => self.notice = Some(format!("You were removed from {name}.")),
                    LeaveReason::Dissolved => {
                        self.notice = Some(format!("{name} was dissolved by its owner."));
                    }
                    LeaveReason::Left => {}
                }
                // Left, removed or dissolved: its chat and settings close.
                if self.chat.as_ref().is_some_and(|chat| chat.conversation_id == group_id) {
                    self.chat = None;
                }
                if matches!(&self.panel, Some(Panel::GroupAdmin(panel)) if panel.group == group_id) {
                    self.panel = None;
                }
                Task::none()
            }
            _ => Task::none(),
        };
        (task, event)
    }

    /// Runs a cache operation, then shows the conversation again.
    fn with_history<F, Fut>(&self, conversation: ConversationId, op: F) -> Task<Message>
    where
        F: FnOnce(History) -> Fut,
        Fut: Future<Output = Result<(), crate::history::HistoryError>> + Send + 'static,
    {
        let Some(history) = self.history.clone() else { return Task::none() };
        let work = op(history);
        Task::perform(
            async move {
                if let Err(err) = work.await {
                    tracing::warn!(%err, "local history");
                }
            },
            move |()| Message::HistoryChanged(conversation),
        )
    }

    /// Stores a pushed message; a gap before it is filled from the server.
    fn store_live(&self, message: ChatMessage) -> Task<Message> {
        let api = self.session.api.clone();
        let conversation = message.conversation_id;
        let floor = self.floor(conversation);
        self.with_history(conversation, move |history| async move {
            history.store(&message).await?;
            if history.cursor(conversation, floor).await? < message.seq
                && let Err(err) = fetch_after(&api, &history, conversation, floor).await
            {
                tracing::warn!(%err, conversation, "cannot fill a gap in the history");
            }
            Ok(())
        })
    }

    /// Fetches what the cache lacks of a conversation.
    fn catch_up(&self, conversation: ConversationId, last_seq: i64) -> Task<Message> {
        let Some(history) = self.history.clone() else { return Task::none() };
        let api = self.session.api.clone();
        let floor = self.floor(conversation);
        Task::perform(
            async move {
                if history.cursor(conversation, floor).await.map_err(|e| e.to_string())? < last_seq {
                    fetch_after(&api, &history, conversation, floor).await?;
                }
                history.cursor(conversation, floor).await.map_err(|e| e.to_string())
            },
            move |result| Message::CaughtUp(conversation, result),
        )
    }

    /// The sequence number before which the user sees no history of a conversation.
    fn floor(&self, conversation: ConversationId) -> i64 {
        self.roster.conversations.get(&conversation).map_or(0, |c| c.joined_seq)
    }

    fn resend_pending(&self) -> Task<Message> {
        let Some(history) = self.history.clone() else { return Task::none() };
        Task::perform(async move { history.pending().await.map_err(|e| e.to_string()) }, Message::Resend)
    }

    fn load_lists(&self) -> Task<Message> {
        let api = self.session.api.clone();
        let api2 = api.clone();
        let api3 = api.clone();
        Task::batch([
            Task::perform(async move { api.get_json("/api/friends").await }, Message::FriendsLoaded),
            Task::perform(async move { api2.get_json("/api/groups").await }, Message::GroupsLoaded),
            Task::perform(
                async move { api3.get_json("/api/friend-requests").await },
                Message::RequestsLoaded,
            ),
        ])
    }

    /// Fetches a group's member list (nothing for one-to-one chats). A group is known as one
    /// from `sync_state` before the group list has arrived (a chat reopened at login).
    fn load_members(&self, conversation: ConversationId) -> Task<Message> {
        if !matches!(self.roster.target(conversation), Some(Target::Group { .. })) {
            return Task::none();
        }
        let api = self.session.api.clone();
        let path = format!("/api/groups/{conversation}/members");
        Task::perform(async move { api.get_json(&path).await }, move |result| {
            Message::MembersLoaded(conversation, result)
        })
    }

    /// Reads the open conversation's newest messages (as many as the chat asks for).
    fn load_chat(&self, conversation: ConversationId) -> Task<Message> {
        let Some(history) = self.history.clone() else { return Task::none() };
        let limit = self
            .chat
            .as_ref()
            .filter(|chat| chat.conversation_id == conversation)
            .map_or(chat::PAGE, |chat| chat.limit);
        Task::perform(
            async move { history.recent(conversation, limit).await.map_err(|e| e.to_string()) },
            move |r| Message::ChatLoaded(conversation, r),
        )
    }

    /// Reads the latest message of one conversation (or of all) for the lists' previews.
    fn load_previews(&self, conversation: Option<ConversationId>) -> Task<Message> {
        let Some(history) = self.history.clone() else { return Task::none() };
        Task::perform(
            async move { history.latest(conversation).await.map_err(|e| e.to_string()) },
            Message::PreviewsLoaded,
        )
    }

    /// Fetches the other members' delivered and read cursors of a conversation.
    fn load_receipts(&self, conversation: ConversationId) -> Task<Message> {
        let api = self.session.api.clone();
        let path = format!("/api/conversations/{conversation}/receipts");
        Task::perform(async move { api.get_json(&path).await }, move |result| {
            Message::ReceiptsLoaded(conversation, result)
        })
    }

    /// One line about a message for the lists: who said what, or what happened.
    fn preview(&self, message: &StoredMessage) -> String {
        let what = match &message.content {
            Content::Text { text } => {
                text.lines().find(|line| !line.trim().is_empty()).unwrap_or("").trim().to_owned()
            }
            attachment @ (Content::Image { .. } | Content::File { .. } | Content::Sticker { .. }) => {
                chat::attachment_words(attachment).unwrap_or_default()
            }
            Content::Recalled => return "A message was recalled".to_owned(),
            Content::Notice { notice } => return chat::describe_notice(notice),
            Content::Recall { .. } => return String::new(),
        };
        let who = match message.sender_id {
            Some(id) if id == self.roster.me => Some("You".to_owned()),
            Some(id) if self.roster.groups.contains_key(&message.conversation_id) => {
                Some(self.roster.name_or_id(id))
            }
            _ => None,
        };
        match who {
            Some(who) => format!("{who}: {what}"),
            None => what,
        }
    }

    /// Tells the server the user has read the conversation, when there is news.
    fn report_read(&mut self, conversation_id: ConversationId) {
        if let Some(seq) = self.roster.mark_read(conversation_id) {
            self.send_frame(ClientFrame::Receipt { conversation_id, kind: ReceiptKind::Read, seq });
        }
    }

    fn send_frame(&self, frame: ClientFrame) {
        if let Some(connection) = &self.connection
            && let Err(err) = connection.send(frame)
        {
            tracing::warn!(%err, "cannot send on the socket");
        }
    }

    /// Sends to a conversation: into the cache first, then to the server.
    fn send_content(&mut self, conversation: ConversationId, content: Content) -> Task<Message> {
        if self.roster.target(conversation).is_none() {
            if let Some(chat) = self.chat.as_mut().filter(|chat| chat.conversation_id == conversation) {
                chat.error = Some("You can no longer write in this conversation.".to_owned());
            }
            return Task::none();
        }
        let client_id = uuid::Uuid::new_v4().to_string();
        let me = self.session.user.id;
        let Some(history) = self.history.clone() else {
            if self.history_opening {
                // Written to the cache first, like every message, as soon as it is open.
                self.unsaved.push((conversation, content));
            } else if let (Some(to), true) = (self.roster.target(conversation), self.connection.is_some()) {
                self.send_frame(ClientFrame::Send { client_id, to, content });
            } else if let Some(chat) = self.chat.as_mut().filter(|chat| chat.conversation_id == conversation)
            {
                chat.error =
                    Some("Not sent: there is no connection and no local history to keep it in.".to_owned());
            }
            return Task::none();
        };
        let now = clock::now_ms();
        let number = self.outbox.number();
        Task::perform(
            async move {
                history
                    .add_outgoing(conversation, &client_id, me, &content, now)
                    .await
                    .map_err(|e| e.to_string())
            },
            move |stored| Message::Outgoing(number, stored),
        )
    }

    /// Fetches the avatar pictures of friends and group members not fetched yet.
    fn fetch_avatars(&mut self) -> Task<Message> {
        if self.offline {
            return Task::none();
        }
        let friends = self.roster.friends.values().map(|f| &f.user);
        let members = self.roster.members.values().flatten().map(|m| &m.user);
        let mut wanted: Vec<String> =
            friends.chain(members).filter_map(|user| user.avatar_url.clone()).collect();
        wanted.sort();
        wanted.dedup();
        wanted.retain(|url| !self.files.pictures.contains_key(&Files::avatar_key(url)));
        let tasks: Vec<_> = wanted
            .into_iter()
            .map(|url| {
                let key = Files::avatar_key(&url);
                self.files.pictures.insert(key.clone(), Picture::Loading);
                let api = self.session.api.clone();
                Task::perform(async move { api.bytes(&url).await }, move |result| {
                    Message::PictureLoaded(key.clone(), result)
                })
            })
            .collect();
        Task::batch(tasks)
    }

    /// Opens the chat the user left open last time, once it is known to the lists.
    fn reopen_last(&mut self) -> Task<Message> {
        let Some(conversation) = self.reopen else { return Task::none() };
        if self.chat.is_some() || self.panel.is_some() {
            self.reopen = None;
            return Task::none();
        }
        if self.roster.target(conversation).is_none() {
            // Perhaps in the other list, still on its way.
            return Task::none();
        }
        self.reopen = None;
        self.update(Message::Open(conversation)).0
    }

    /// Shows the pictures of the open chat that are not here yet: images from their copies
    /// saved on this computer first (offline too), else the server's thumbnails (kept on
    /// this computer once fetched); stickers from the server.
    fn fetch_pictures(&mut self) -> Task<Message> {
        let Some(chat) = &self.chat else { return Task::none() };
        let mut saved = Vec::new();
        let mut wanted = Vec::new();
        for message in &chat.messages {
            match &message.content {
                Content::Image { upload_id, .. } => match self.files.saved.get(upload_id) {
                    Some(path) => saved.push(path.clone()),
                    None => wanted.push((upload_id.clone(), None)),
                },
                Content::Sticker { code } if code.chars().all(|c| c.is_ascii_alphanumeric() || c == '-') => {
                    wanted.push((Files::sticker_key(code), Some(format!("/static/emoji/{code}.png"))));
                }
                _ => {}
            }
        }
        let mut tasks: Vec<_> =
            saved.into_iter().map(|path| self.decode_local(path, files::THUMBNAIL_SIDE)).collect();
        let cache = self.files.thumbnails_folder();
        if self.offline {
            // Without the server: the thumbnails kept from earlier fetches.
            let kept = wanted.into_iter().filter(|(_, sticker)| sticker.is_none()).filter_map(|(key, _)| {
                let path = files::kept_thumbnail(cache.as_deref()?, &key).filter(|path| path.is_file())?;
                Some((key, path))
            });
            for (key, path) in kept.collect::<Vec<_>>() {
                if self.files.pictures.contains_key(&key) {
                    continue;
                }
                self.files.pictures.insert(key.clone(), Picture::Loading);
                tasks.push(Task::perform(files::read_kept_thumbnail(path), move |result| {
                    Message::Decoded(key.clone(), result)
                }));
            }
            return Task::batch(tasks);
        }
        for (key, sticker) in wanted {
            if self.files.pictures.contains_key(&key) {
                continue;
            }
            self.files.pictures.insert(key.clone(), Picture::Loading);
            let api = self.session.api.clone();
            let id = key.clone();
            let done = move |result| Message::PictureLoaded(id.clone(), result);
            tasks.push(match sticker {
                Some(path) => Task::perform(async move { api.bytes(&path).await }, done),
                None => Task::perform(files::thumbnail(api, key, cache.clone()), done),
            });
        }
        Task::batch(tasks)
    }

    /// Starts saving a received file into the files folder.
    fn download(&mut self, upload_id: String, name: String) -> Task<Message> {
        let Some(conversation_id) = self.chat.as_ref().map(|chat| chat.conversation_id) else {
            return Task::none();
        };
        self.download_into(conversation_id, upload_id, name, true)
    }

    /// Starts saving a file of a conversation into the files folder, unless it is saved or
    /// on its way already.
    fn download_into(
        &mut self,
        conversation_id: ConversationId,
        upload_id: String,
        name: String,
        asked: bool,
    ) -> Task<Message> {
        let Some(folder) = self.files.folder.clone() else {
            if let Some(chat) = self.chat.as_mut().filter(|_| asked) {
                chat.error = Some("Files cannot be saved: this computer keeps no data for Kith.".to_owned());
            }
            return Task::none();
        };
        if self.files.transfers.contains_key(&upload_id) || self.files.saved.contains_key(&upload_id) {
            return Task::none();
        }
        let cancel = tokio_util::sync::CancellationToken::new();
        self.files.failed.remove(&upload_id);
        self.files.transfers.insert(
            upload_id.clone(),
            files::Transfer {
                name: name.clone(),
                conversation_id,
                source: None,
                done: 0,
                total: 0,
                cancel: cancel.clone(),
            },
        );
        let stream = files::download(self.session.api.clone(), upload_id.clone(), name, folder, cancel);
        Task::run(stream, move |progress| Message::Transfer(upload_id.clone(), progress))
    }

    /// Saves a file or picture someone sent, when it is small enough to fetch unasked.
    fn auto_download(&mut self, message: &ChatMessage) -> Task<Message> {
        if message.sender_id == Some(self.roster.me) || message.muted {
            return Task::none();
        }
        match &message.content {
            Content::File { upload_id, name, size, .. } | Content::Image { upload_id, name, size, .. }
                if *size <= files::AUTO_DOWNLOAD_BYTES =>
            {
                self.download_into(message.conversation_id, upload_id.clone(), name.clone(), false)
            }
            _ => Task::none(),
        }
    }

    /// Starts sending a file from this computer to the open chat.
    fn upload(&mut self, path: std::path::PathBuf) -> Task<Message> {
        let Some(chat) = self.chat.as_mut() else { return Task::none() };
        if chat.read_only {
            return Task::none();
        }
        if self.roster.target(chat.conversation_id).is_none() {
            chat.error = Some("You can no longer write in this conversation.".to_owned());
            return Task::none();
        }
        let key = format!("upload:{}", uuid::Uuid::new_v4());
        let cancel = tokio_util::sync::CancellationToken::new();
        let name =
            path.file_name().map_or_else(|| path.display().to_string(), |n| n.to_string_lossy().into_owned());
        self.files.transfers.insert(
            key.clone(),
            files::Transfer {
                name,
                conversation_id: chat.conversation_id,
                source: Some(path.clone()),
                done: 0,
                total: 0,
                cancel: cancel.clone(),
            },
        );
        let stream = files::upload(self.session.api.clone(), path, cancel);
        Task::run(stream, move |progress| Message::Transfer(key.clone(), progress))
    }

    /// News of a transfer: progress, or its end.
    fn transfer(&mut self, key: String, progress: files::Progress) -> Task<Message> {
        match progress {
            files::Progress::Moved { done, total } => {
                if let Some(transfer) = self.files.transfers.get_mut(&key) {
                    transfer.done = done;
                    transfer.total = total;
                }
                Task::none()
            }
            files::Progress::Downloaded(result) => {
                let Some(transfer) = self.files.transfers.remove(&key) else { return Task::none() };
                match result {
                    Ok(path) => {
                        self.files.saved.insert(key.clone(), path.clone());
                        let record = self.record_file(transfer.conversation_id, key, path);
                        Task::batch([record, self.decode_for_viewer()])
                    }
                    Err(files::TransferError::Cancelled) => Task::none(),
                    Err(err) => {
                        tracing::warn!(%err, name = transfer.name, "download failed");
                        self.files.failed.insert(key, err.plain());
                        Task::none()
                    }
                }
            }
            files::Progress::Uploaded(result) => {
                let Some(transfer) = self.files.transfers.remove(&key) else { return Task::none() };
                match result {
                    Ok(info) => {
                        let content = match info.thumbnail_id {
                            Some(thumbnail_id) => Content::Image {
                                upload_id: info.id.clone(),
                                name: info.name,
                                size: info.size,
                                mime: info.mime,
                                width: info.width.unwrap_or(0),
                                height: info.height.unwrap_or(0),
                                thumbnail_id,
                            },
                            None => Content::File {
                                upload_id: info.id.clone(),
                                name: info.name,
                                size: info.size,
                                mime: info.mime,
                            },
                        };
                        let conversation = transfer.conversation_id;
                        let mut tasks = vec![self.send_content(conversation, content)];
                        if let Some(source) = transfer.source {
                            // The sender has the file already: no download needed.
                            self.files.saved.insert(info.id.clone(), source.clone());
                            tasks.push(self.record_file(conversation, info.id, source));
                        }
                        Task::batch(tasks)
                    }
                    Err(files::TransferError::Cancelled) => Task::none(),
                    Err(err) => {
                        if let Some(chat) =
                            self.chat.as_mut().filter(|c| c.conversation_id == transfer.conversation_id)
                        {
                            chat.error = Some(format!("{} was not sent: {}", transfer.name, err.plain()));
                        }
                        Task::none()
                    }
                }
            }
        }
    }

    /// Decodes a local picture file (off the UI thread) at most `max_side` pixels large,
    /// unless it is decoded or decoding already.
    fn decode_local(&mut self, path: std::path::PathBuf, max_side: u32) -> Task<Message> {
        let key = Files::local_key(&path, max_side);
        if self.files.pictures.contains_key(&key) {
            return Task::none();
        }
        self.files.pictures.insert(key.clone(), Picture::Loading);
        Task::perform(files::decode_picture(path, max_side), move |result| {
            Message::Decoded(key.clone(), result)
        })
    }

    /// Closes the picture viewer and lets its full-size picture go.
    fn close_viewer(&mut self) {
        if let Some((upload_id, _)) = self.viewer.take()
            && let Some(path) = self.files.saved.get(&upload_id)
        {
            self.files.pictures.remove(&Files::local_key(path, files::VIEWER_SIDE));
        }
    }

    /// Lets go of the previews of pictures no longer waiting above the composer.
    fn forget_previews(&mut self) {
        let waiting: Vec<String> = self
            .chat
            .iter()
            .flat_map(|chat| chat.staged.iter().map(|s| Files::local_key(&s.path, files::PREVIEW_SIDE)))
            .collect();
        let prefix = format!("local:{}:", files::PREVIEW_SIDE);
        self.files.pictures.retain(|key, _| !key.starts_with(&prefix) || waiting.contains(key));
    }

    /// The picture in the viewer, once its file is on this computer.
    fn decode_for_viewer(&mut self) -> Task<Message> {
        let Some((upload_id, _)) = &self.viewer else { return Task::none() };
        let Some(path) = self.files.saved.get(upload_id).cloned() else { return Task::none() };
        self.decode_local(path, files::VIEWER_SIDE)
    }

    /// Previews of the pictures waiting above the composer.
    fn preview_staged(&mut self) -> Task<Message> {
        let Some(chat) = &self.chat else { return Task::none() };
        let wanted: Vec<std::path::PathBuf> = chat
            .staged
            .iter()
            .filter(|s| files::looks_like_picture(&s.path) && s.size <= files::PREVIEW_MAX_BYTES)
            .map(|s| s.path.clone())
            .collect();
        Task::batch(wanted.into_iter().map(|path| self.decode_local(path, files::PREVIEW_SIDE)))
    }

    /// Notes in the cache where a file of a conversation is on this computer.
    fn record_file(
        &self,
        conversation: ConversationId,
        upload_id: String,
        path: std::path::PathBuf,
    ) -> Task<Message> {
        self.with_history(
            conversation,
            move |history| async move { history.record_file(&upload_id, &path).await },
        )
    }

    /// Takes a newer profile of the user, fetching the avatar again when it changed.
    fn set_user(&mut self, user: UserProfile) -> Task<Message> {
        let avatar_changed = user.avatar_url != self.session.user.avatar_url;
        self.session.user = user;
        if avatar_changed {
            self.avatar = None;
            self.load_avatar()
        } else {
            Task::none()
        }
    }

    pub fn update(&mut self, message: Message) -> (Task<Message>, Option<Event>) {
        let covered = self.panel.is_some();
        let shown = self.shown();
        let (task, event) = self.handle(message);
        // Something else opened (a chat, a panel): in a narrow window it takes the window.
        if self.shown() != shown {
            self.list_shown = false;
        }
        (Task::batch([task, self.uncovered(covered)]), event)
    }

    /// What the main pane shows: which panel, which chat.
    fn shown(&self) -> (Option<std::mem::Discriminant<Panel>>, Option<ConversationId>) {
        (self.panel.as_ref().map(std::mem::discriminant), self.chat.as_ref().map(|chat| chat.conversation_id))
    }

    /// A panel that covered the chat closed: the chat's log was made afresh, at the newest
    /// message; while the user was reading above, it goes back where they were.
    fn uncovered(&mut self, covered: bool) -> Task<Message> {
        if !covered || self.panel.is_some() {
            return Task::none();
        }
        let Some(chat) = self.chat.as_mut().filter(|chat| chat.hold_after.is_some()) else {
            return Task::none();
        };
        chat.restoring = true;
        let back = iced::widget::operation::AbsoluteOffset { x: None, y: Some(chat.from_bottom) };
        iced::widget::operation::scroll_to(chat::id::LOG, back)
            .chain(Task::done(Message::Chat(chat::Message::Restored)))
    }

    fn handle(&mut self, message: Message) -> (Task<Message>, Option<Event>) {
        match message {
            Message::OpenProfile => {
                self.panel = Some(Panel::Profile(ProfileForm {
                    display_name: self.session.user.display_name.clone(),
                    ..ProfileForm::default()
                }));
                return (iced::widget::operation::focus(id::DISPLAY_NAME), None);
            }
            Message::OpenSettings => self.panel = Some(Panel::Settings),
            Message::CollapseSidebar(collapsed) => self.sidebar_collapsed = collapsed,
            Message::ShowList(shown) => self.list_shown = shown,
            Message::ClosePanel => self.panel = None,
            Message::DisplayNameChanged(value) => self.with_form(|form| form.display_name = value),
            Message::OldPasswordChanged(value) => self.with_form(|form| form.old_password = value),
            Message::NewPasswordChanged(value) => self.with_form(|form| form.new_password = value),
            Message::ConfirmPasswordChanged(value) => self.with_form(|form| form.confirm_password = value),
            Message::SaveDisplayName => return (self.save_display_name(), None),
            Message::DisplayNameSaved(result) => {
                let ended = result.as_ref().err().and_then(session_over);
                let task = match result {
                    Ok(user) => {
                        self.with_form(|form| form.info = Some("Display name saved.".to_owned()));
                        self.set_user(user)
                    }
                    Err(err) => {
                        self.with_form(|form| form.error = Some(err.plain()));
                        Task::none()
                    }
                };
                self.with_form(|form| form.busy = false);
                return (task, ended);
            }
            Message::SavePassword => return (self.save_password(), None),
            Message::ChooseAvatar => {
                let (panel, task) = Attach::new();
                self.panel = Some(Panel::Attach(panel, AttachFor::Avatar));
                return (task.map(Message::Attach), None);
            }
            Message::AvatarSaved(result) => {
                let task = match result {
                    Ok(user) => {
                        self.with_form(|form| {
                            form.busy = false;
                            form.info = Some("Your picture is changed.".to_owned());
                        });
                        self.set_user(user)
                    }
                    Err(err) => {
                        let words = err.plain();
                        self.with_form(|form| {
                            form.busy = false;
                            form.error = Some(words);
                        });
                        return (Task::none(), session_over(&err));
                    }
                };
                return (task, None);
            }
            Message::PasswordSaved(result) => {
                let ended = result.as_ref().err().and_then(session_over);
                self.with_form(|form| {
                    form.busy = false;
                    match &result {
                        Ok(()) => {
                            form.old_password.clear();
                            form.new_password.clear();
                            form.confirm_password.clear();
                            form.info = Some("Password changed. Other sessions were logged out.".to_owned());
                        }
                        Err(err) => form.error = Some(err.plain()),
                    }
                });
                return (Task::none(), ended);
            }
            Message::SoundToggled(on) => return (Task::none(), Some(Event::SoundChanged(on))),
            Message::DarkToggled(on) => return (Task::none(), Some(Event::DarkChanged(on))),
            Message::NotificationsToggled(on) => {
                return (Task::none(), Some(Event::NotificationsChanged(on)));
            }
            Message::AvatarLoaded(Ok(bytes)) => self.avatar = Some(image::Handle::from_bytes(bytes)),
            Message::AvatarLoaded(Err(err)) => tracing::warn!(%err, "cannot load the avatar"),
            Message::HistoryOpened(Ok(history)) => {
                let saved = {
                    let history = history.clone();
                    Task::perform(
                        async move { history.saved_files().await.map_err(|e| e.to_string()) },
                        Message::SavedFilesLoaded,
                    )
                };
                self.history = Some(history);
                let previews = Task::batch([self.load_previews(None), saved]);
                if self.offline {
                    let open = self.chat.as_ref().map(|chat| chat.conversation_id);
                    return (
                        Task::batch([previews, open.map_or_else(Task::none, |id| self.load_chat(id))]),
                        None,
                    );
                }
                // The sync state may have arrived while the cache was opening: catch up now
                // with what it listed, and resend what was left unsent.
                self.history_opening = false;
                let unsaved = std::mem::take(&mut self.unsaved);
                let mut tasks = vec![previews, self.resend_pending()];
                // A chat opened while the cache was opening shows what the cache holds now.
                if let Some(open) = self.chat.as_ref().map(|chat| chat.conversation_id) {
                    tasks.push(self.load_chat(open));
                }
                tasks.extend(
                    unsaved
                        .into_iter()
                        .map(|(conversation, content)| self.send_content(conversation, content)),
                );
                let known: Vec<(ConversationId, i64)> =
                    self.roster.conversations.iter().map(|(id, c)| (*id, c.last_seq)).collect();
                tasks.extend(known.into_iter().map(|(id, last_seq)| self.catch_up(id, last_seq)));
                return (Task::batch(tasks), None);
            }
            Message::HistoryOpened(Err(err)) => {
                tracing::warn!(%err, "local history unavailable; chats are not kept on this machine");
                self.history_opening = false;
                // Without a cache, what was written meanwhile goes straight out.
                for (conversation, content) in std::mem::take(&mut self.unsaved) {
                    let _ = self.send_content(conversation, content);
                }
            }
            Message::LogOut if self.offline => return (Task::none(), Some(Event::LoggedOut)),
            Message::BrowseOffline => return (Task::none(), Some(Event::BrowseOffline)),
            Message::LogOut => {
                if self.logging_out {
                    return (Task::none(), None);
                }
                // Stop the socket at once; the server closes the session on its side.
                self.logging_out = true;
                self.connection = None;
                let api = self.session.api.clone();
                return (Task::perform(async move { api.logout().await }, Message::LoggedOut), None);
            }
            Message::FriendsLoaded(Ok(friends)) => {
                self.roster.set_friends(friends);
                self.friends_known = true;
                self.save_snapshot();
                return (Task::batch([self.reopen_last(), self.fetch_avatars()]), None);
            }
            Message::GroupsLoaded(Ok(groups)) => {
                self.roster.set_groups(groups);
                self.groups_known = true;
                self.save_snapshot();
                return (self.reopen_last(), None);
            }
            Message::FriendsLoaded(Err(err)) | Message::GroupsLoaded(Err(err)) => {
                self.notice = Some(err.plain());
                return (Task::none(), session_over(&err));
            }
            Message::Open(conversation) => {
                // How far the user had read, before opening marks everything read.
                let known = self
                    .roster
                    .conversations
                    .get(&conversation)
                    .map(|c| (c.read_seq, c.last_seq, c.unread > 0));
                self.roster.open(Some(conversation));
                self.report_read(conversation);
                let mut chat = Chat::new(conversation, self.session.user.id);
                if let Some((read_seq, last_seq, unread)) = known {
                    chat.opened_after(read_seq, last_seq, unread);
                }
                chat.read_only = self.offline;
                chat.limits = self.limits;
                self.chat = Some(chat);
                self.panel = None;
                // The log starts at the newest message, not where the previous chat was left
                // (one log widget serves every chat); `ChatLoaded` may move it to the unread.
                let newest = iced::widget::operation::snap_to(
                    chat::id::LOG,
                    iced::widget::operation::RelativeOffset::START,
                );
                if self.offline {
                    return (Task::batch([newest, self.load_chat(conversation)]), None);
                }
                let focus = iced::widget::operation::focus(chat::id::COMPOSER);
                return (
                    Task::batch([
                        newest,
                        self.load_chat(conversation),
                        self.load_members(conversation),
                        self.load_receipts(conversation),
                        // Anything the cache still lacks (a catch-up that failed) comes now.
                        self.catch_up(
                            conversation,
                            self.roster.conversations.get(&conversation).map_or(0, |c| c.last_seq),
                        ),
                        focus,
                    ]),
                    Some(Event::ChatOpened(conversation)),
                );
            }
            Message::Chat(message) => {
                let Some(chat) = &mut self.chat else { return (Task::none(), None) };
                let conversation_id = chat.conversation_id;
                match chat.update(message) {
                    Some(chat::Event::Send(text)) => {
                        return (self.send_content(conversation_id, Content::Text { text }), None);
                    }
                    Some(chat::Event::Download { upload_id, name }) => {
                        return (self.download(upload_id, name), None);
                    }
                    Some(chat::Event::CancelTransfer(key)) => {
                        if let Some(transfer) = self.files.transfers.get(&key) {
                            transfer.cancel.cancel();
                        }
                    }
                    Some(chat::Event::OpenFile(path)) | Some(chat::Event::ShowInFolder(path)) => {
                        return (Task::perform(files::open_in_system(path), Message::Opened), None);
                    }
                    Some(chat::Event::SendWithFiles(text, paths)) => {
                        self.forget_previews();
                        let mut tasks = vec![self.send_content(conversation_id, Content::Text { text })];
                        tasks.extend(paths.into_iter().map(|path| self.upload(path)));
                        return (Task::batch(tasks), None);
                    }
                    Some(chat::Event::SendFiles(paths)) => {
                        self.forget_previews();
                        let uploads: Vec<_> = paths.into_iter().map(|path| self.upload(path)).collect();
                        return (Task::batch(uploads), None);
                    }
                    Some(chat::Event::ViewImage { upload_id, name }) => {
                        self.viewer = Some((upload_id.clone(), name.clone()));
                        // The full picture is the file itself: fetch it unless it is here.
                        let here = self.files.saved.contains_key(&upload_id)
                            || self.files.transfers.contains_key(&upload_id);
                        if !here && !self.offline {
                            return (self.download(upload_id, name), None);
                        }
                        return (self.decode_for_viewer(), None);
                    }
                    Some(chat::Event::Attach) => {
                        let (panel, task) = Attach::new();
                        self.panel = Some(Panel::Attach(panel, AttachFor::Chat));
                        let focus = iced::widget::operation::focus(attach::id::PATH);
                        return (Task::batch([task.map(Message::Attach), focus]), None);
                    }
                    Some(chat::Event::Unfriend) => {
                        let Some(Target::User { id }) = self.roster.target(conversation_id) else {
                            return (Task::none(), None);
                        };
                        let api = self.session.api.clone();
                        let path = format!("/api/friends/{id}");
                        return (
                            Task::perform(async move { api.delete(&path).await }, Message::Unfriended),
                            None,
                        );
                    }
                    Some(chat::Event::ManageGroup) => {
                        self.panel = Some(Panel::GroupAdmin(GroupAdmin::new(conversation_id, &self.roster)));
                        return (self.load_members(conversation_id), None);
                    }
                    Some(chat::Event::Typing) => self.send_frame(ClientFrame::Typing { conversation_id }),
                    Some(chat::Event::Recall(seq)) => {
                        self.send_frame(ClientFrame::Recall { conversation_id, seq });
                    }
                    Some(chat::Event::LoadOlder) => return (self.load_chat(conversation_id), None),
                    Some(chat::Event::ScrollToNewest) => {
                        let newest = iced::widget::operation::snap_to(
                            chat::id::LOG,
                            iced::widget::operation::RelativeOffset::START,
                        );
                        return (newest, None);
                    }
                    // Pasted files may wait above the composer now, or one was taken back.
                    None => {
                        self.forget_previews();
                        return (self.preview_staged(), None);
                    }
                }
            }
            Message::ChatLoaded(conversation, Ok(messages)) => {
                if let Some(chat) = &mut self.chat
                    && chat.conversation_id == conversation
                {
                    chat.set_messages(messages);
                    // Opened with unread messages: the view starts at the first of them, once
                    // the cache has it (a catch-up may still be fetching it).
                    let start = chat.start_at_unread && chat.first_unread().is_some();
                    if start {
                        chat.start_at_unread = false;
                    }
                    let fetch = self.fetch_pictures();
                    if start {
                        return (Task::batch([fetch, chat::scroll_to_first_unread()]), None);
                    }
                    return (fetch, None);
                }
            }
            Message::PictureLoaded(key, Ok(bytes)) => {
                self.files
                    .pictures
                    .insert(key, Picture::Ready(iced::widget::image::Handle::from_bytes(bytes)));
            }
            Message::PictureLoaded(key, Err(err)) => {
                tracing::warn!(%err, key, "cannot fetch a picture");
                self.files.pictures.insert(key.clone(), Picture::Failed);
                // The server's copy is gone (or unreachable): a copy saved here still shows.
                if let Some(path) = self.files.saved.get(&key).cloned() {
                    return (self.decode_local(path, files::THUMBNAIL_SIDE), None);
                }
            }
            Message::SavedFilesLoaded(Ok(saved)) => {
                self.files.saved.extend(saved);
                // The open chat's pictures that are saved here are drawn from their copies.
                return (self.fetch_pictures(), None);
            }
            Message::SavedFilesLoaded(Err(err)) => tracing::warn!(%err, "cannot read the saved files"),
            Message::Transfer(key, progress) => return (self.transfer(key, progress), None),
            Message::FileDropped(path) => {
                // Shown above the composer first (pictures previewed); Send uploads them.
                if let Some(chat) = &mut self.chat {
                    chat.stage(path);
                }
                return (self.preview_staged(), None);
            }
            Message::CloseViewer => self.close_viewer(),
            Message::Decoded(key, Ok(handle)) => {
                // Only if still wanted: the viewer may have closed, the file left the composer.
                if let Some(picture @ Picture::Loading) = self.files.pictures.get_mut(&key) {
                    *picture = Picture::Ready(handle);
                }
            }
            Message::Decoded(key, Err(err)) => {
                tracing::warn!(%err, "cannot show a picture");
                self.files.pictures.insert(key, Picture::Failed);
            }
            Message::SaveCopy(upload_id, name) => {
                self.close_viewer();
                let (panel, task) = Attach::save(name);
                self.panel = Some(Panel::Attach(panel, AttachFor::SaveCopy(upload_id)));
                return (task.map(Message::Attach), None);
            }
            Message::Unfriended(Ok(())) => {}
            Message::Unfriended(Err(err)) => {
                if let Some(chat) = &mut self.chat {
                    chat.error = Some(err.plain());
                }
                return (Task::none(), session_over(&err));
            }
            Message::Copied(result) => {
                if let Some(chat) = &mut self.chat {
                    match result {
                        Ok(path) => chat.info = Some(format!("Saved a copy as {}", path.display())),
                        Err(err) => chat.error = Some(err),
                    }
                }
            }
            Message::EmojiLoaded(Ok(set)) => self.emoji = Some(set),
            Message::EmojiLoaded(Err(err)) => tracing::warn!(%err, "no emoji set: emoji show as text"),
            Message::Opened(Ok(())) => {}
            Message::Opened(Err(why)) => match &mut self.chat {
                Some(chat) => chat.error = Some(why),
                None => self.notice = Some(why),
            },
            Message::ReconnectNow => {
                self.reconnects += 1;
                self.status = Status::Connecting;
            }
            Message::Escape => {
                if self.viewer.is_some() {
                    self.close_viewer();
                } else if self.panel.is_some() {
                    self.panel = None;
                } else if let Some(chat) = &mut self.chat {
                    chat.update(chat::Message::ClosePanels);
                }
            }
            Message::ReceiptsLoaded(conversation, Ok(cursors)) => {
                self.roster.set_receipts(conversation, cursors)
            }
            Message::ReceiptsLoaded(conversation, Err(err)) => {
                tracing::warn!(%err, conversation, "cannot load who has read the conversation");
                return (Task::none(), session_over(&err));
            }
            Message::PreviewsLoaded(Ok(latest)) => {
                for message in latest {
                    let preview = self.preview(&message);
                    self.previews.insert(message.conversation_id, preview);
                }
            }
            Message::PreviewsLoaded(Err(err)) => tracing::warn!(%err, "cannot read the latest messages"),
            Message::Tick(now) => self.tick(now),
            Message::OpenCreateGroup | Message::OpenJoinGroup => {
                let panel = if matches!(message, Message::OpenCreateGroup) {
                    groups::Panel::create()
                } else {
                    groups::Panel::join()
                };
                let focus = panel.focus().map(Message::Groups);
                self.panel = Some(Panel::Groups(panel));
                return (focus, None);
            }
            Message::Groups(groups::Message::Close) => self.panel = None,
            Message::Attach(message) => {
                let Some(Panel::Attach(panel, purpose)) = &mut self.panel else {
                    return (Task::none(), None);
                };
                let purpose = purpose.clone();
                let (task, event) = panel.update(message);
                match event {
                    Some(attach::Event::Chosen(path)) if purpose == AttachFor::Avatar => {
                        self.panel = Some(Panel::Profile(ProfileForm {
                            display_name: self.session.user.display_name.clone(),
                            busy: true,
                            ..ProfileForm::default()
                        }));
                        let api = self.session.api.clone();
                        let upload = async move {
                            let bytes = tokio::fs::read(&path).await.map_err(|err| {
                                ApiError::Unexpected(format!("cannot read {}: {err}", path.display()))
                            })?;
                            api.put_bytes("/api/me/avatar", bytes).await
                        };
                        return (
                            Task::batch([
                                task.map(Message::Attach),
                                Task::perform(upload, Message::AvatarSaved),
                            ]),
                            None,
                        );
                    }
                    Some(attach::Event::Chosen(path)) => {
                        self.panel = None;
                        if let Some(chat) = &mut self.chat {
                            chat.stage(path);
                        }
                        return (Task::batch([task.map(Message::Attach), self.preview_staged()]), None);
                    }
                    Some(attach::Event::SaveTo(target)) => {
                        self.panel = None;
                        let source = match &purpose {
                            AttachFor::SaveCopy(upload_id) => self.files.saved.get(upload_id).cloned(),
                            _ => None,
                        };
                        if let Some(source) = source {
                            let copy = async move {
                                tokio::fs::copy(&source, &target)
                                    .await
                                    .map(|_| target.clone())
                                    .map_err(|err| format!("Cannot save {}: {err}", target.display()))
                            };
                            return (
                                Task::batch([
                                    task.map(Message::Attach),
                                    Task::perform(copy, Message::Copied),
                                ]),
                                None,
                            );
                        }
                    }
                    Some(attach::Event::Close) => self.panel = None,
                    None => {}
                }
                return (task.map(Message::Attach), None);
            }
            Message::OpenSearch => {
                if !matches!(self.panel, Some(Panel::Search(_))) {
                    self.panel = Some(Panel::Search(Search::default()));
                }
                return (Search::focus().map(Message::HistorySearch), None);
            }
            Message::HistorySearch(message) => {
                let Some(Panel::Search(panel)) = &mut self.panel else { return (Task::none(), None) };
                let (task, event) = panel.update(message, self.history.as_ref());
                let task = task.map(Message::HistorySearch);
                return match event {
                    Some(search::Event::Jump(found)) => {
                        let Some(history) = self.history.clone() else { return (task, None) };
                        let (conversation, seq) = (found.conversation_id, found.seq.unwrap_or(i64::MAX));
                        let count = Task::perform(
                            async move { history.count_from(conversation, seq).await.map_err(|e| e.to_string()) },
                            move |result| Message::Jumped(found.as_ref().clone(), result),
                        );
                        (Task::batch([task, count]), None)
                    }
                    Some(search::Event::Close) => {
                        self.panel = None;
                        (task, None)
                    }
                    None => (task, None),
                };
            }
            Message::Jumped(found, result) => {
                let (open, event) = self.update(Message::Open(found.conversation_id));
                let count = match result {
                    Ok(count) => count,
                    Err(err) => {
                        tracing::warn!(%err, "cannot find the message in the history");
                        return (open, event);
                    }
                };
                if let (Some(chat), Some(seq)) = (&mut self.chat, found.seq) {
                    // Read enough of the newest messages to hold the result and some before it.
                    chat.show_around(seq, count.saturating_add(chat::PAGE / 2));
                }
                // Open read the default page; read again with the chat's new limit.
                let reload = self.load_chat(found.conversation_id);
                return (Task::batch([open, reload]), event);
            }
            Message::GroupAdmin(message) => {
                // Muting is not pushed by the server: its answer counts even when the panel
                // has closed or shows another group.
                if let group_admin::Message::Done(_, Ok(Some(group_admin::Outcome::Muted(group)))) = &message
                {
                    self.roster.apply(&ServerFrame::GroupJoined { group: group.clone() });
                }
                let Some(Panel::GroupAdmin(panel)) = &mut self.panel else { return (Task::none(), None) };
                let (task, event) = panel.update(message, &self.session.api, &self.roster);
                let task = task.map(Message::GroupAdmin);
                let event = match event {
                    Some(group_admin::Event::GroupChanged(group)) => {
                        self.roster.apply(&ServerFrame::GroupJoined { group });
                        None
                    }
                    Some(group_admin::Event::ProfileChanged(group)) => {
                        self.roster.apply(&ServerFrame::GroupUpdated { group });
                        None
                    }
                    Some(group_admin::Event::MemberChanged(member)) => {
                        let group_id = panel.group;
                        self.roster.apply(&ServerFrame::GroupMemberUpdated { group_id, member });
                        None
                    }
                    Some(group_admin::Event::Gone(group)) => {
                        self.panel = None;
                        if self.chat.as_ref().is_some_and(|chat| chat.conversation_id == group) {
                            self.chat = None;
                            self.roster.open(None);
                        }
                        None
                    }
                    Some(group_admin::Event::Close) => {
                        self.panel = None;
                        None
                    }
                    Some(group_admin::Event::Failed(err)) => session_over(&err),
                    None => None,
                };
                return (task, event);
            }
            Message::Groups(message) => {
                let Some(Panel::Groups(panel)) = &mut self.panel else { return (Task::none(), None) };
                let (task, event) = panel.update(message, &self.session.api);
                let task = task.map(Message::Groups);
                match event {
                    Some(groups::Event::Created(group)) => {
                        let id = group.group.id;
                        self.roster.apply(&ServerFrame::GroupJoined { group });
                        let (open, event) = self.update(Message::Open(id));
                        return (Task::batch([task, open]), event);
                    }
                    Some(groups::Event::Failed(err)) => return (task, session_over(&err)),
                    None => return (task, None),
                }
            }
            Message::MembersLoaded(group, Ok(members)) => {
                self.roster.set_members(group, members);
                // Offline, the group's chat still names its senders.
                self.save_snapshot();
                return (self.fetch_avatars(), None);
            }
            Message::MembersLoaded(group, Err(err)) => {
                tracing::warn!(%err, group, "cannot load the member list");
                return (Task::none(), session_over(&err));
            }
            Message::ChatLoaded(_, Err(err)) => {
                tracing::warn!(%err, "cannot read the local history");
                if let Some(chat) = &mut self.chat {
                    // Scrolling up may ask again.
                    chat.loading_older = false;
                }
            }
            Message::HistoryChanged(conversation) => {
                let preview = self.load_previews(Some(conversation));
                if self.chat.as_ref().is_some_and(|chat| chat.conversation_id == conversation) {
                    return (Task::batch([self.load_chat(conversation), preview]), None);
                }
                return (preview, None);
            }
            Message::Outgoing(number, stored) => {
                let stored = match stored {
                    Ok(stored) => Some(stored),
                    Err(err) => {
                        if let Some(chat) = &mut self.chat {
                            chat.error = Some(format!("Cannot keep the message on this computer: {err}"));
                        }
                        None
                    }
                };
                let mut changed = Vec::new();
                for stored in self.outbox.written(number, stored) {
                    let conversation = stored.conversation_id;
                    if let (Some(to), Some(client_id)) = (self.roster.target(conversation), stored.client_id)
                    {
                        // Without a connection it stays pending and goes out after reconnecting.
                        self.send_frame(ClientFrame::Send { client_id, to, content: stored.content });
                    }
                    if !changed.contains(&conversation) {
                        changed.push(conversation);
                    }
                }
                let reloads: Vec<_> = changed.into_iter().map(|c| self.load_chat(c)).collect();
                return (Task::batch(reloads), None);
            }
            Message::CaughtUp(conversation, Ok(cursor)) => {
                if cursor > 0 {
                    self.send_frame(ClientFrame::Receipt {
                        conversation_id: conversation,
                        kind: ReceiptKind::Delivered,
                        seq: cursor,
                    });
                }
                let preview = self.load_previews(Some(conversation));
                if self.chat.as_ref().is_some_and(|chat| chat.conversation_id == conversation) {
                    return (Task::batch([self.load_chat(conversation), preview]), None);
                }
                return (preview, None);
            }
            Message::CaughtUp(conversation, Err(err)) => {
                tracing::warn!(%err, conversation, "cannot fetch the history");
            }
            Message::Resend(Ok(pending)) => {
                for message in pending {
                    if let (Some(to), Some(client_id)) =
                        (self.roster.target(message.conversation_id), message.client_id)
                    {
                        self.send_frame(ClientFrame::Send { client_id, to, content: message.content });
                    }
                }
            }
            Message::Resend(Err(err)) => tracing::warn!(%err, "cannot read unsent messages"),
            Message::OpenRequests => self.panel = Some(Panel::Requests),
            Message::AnswerFriend { id, accept } => {
                let api = self.session.api.clone();
                let verb = if accept { "accept" } else { "refuse" };
                self.roster.friend_requests.retain(|r| r.id != id);
                let path = format!("/api/friend-requests/{id}/{verb}");
                return (Task::perform(async move { api.post_empty(&path).await }, Message::Answered), None);
            }
            Message::Withdraw(id) => {
                let api = self.session.api.clone();
                // The server tells the addressee; the request leaves the user's own list now
                // and comes back if the server says no.
                let Some(at) = self.roster.friend_requests.iter().position(|r| r.id == id) else {
                    return (Task::none(), None);
                };
                let request = self.roster.friend_requests.remove(at);
                let path = format!("/api/friend-requests/{id}");
                return (
                    Task::perform(async move { api.delete(&path).await }, move |result| {
                        Message::Withdrawn(request.clone(), result)
                    }),
                    None,
                );
            }
            Message::Withdrawn(_, Ok(())) => self.notice = None,
            Message::Withdrawn(request, Err(err)) => {
                // Already answered or gone: the lists will say so; otherwise it still waits.
                if err.code() != Some(ErrorCode::NotFound) {
                    self.roster.friend_requests.push(request);
                }
                self.notice = Some(err.plain());
                return (Task::none(), session_over(&err));
            }
            Message::RequestsLoaded(Ok(requests)) => {
                self.roster.set_friend_requests(requests.incoming, Some(requests.outgoing));
            }
            Message::RequestsLoaded(Err(err)) => {
                tracing::warn!(%err, "cannot load the friend requests");
                return (Task::none(), session_over(&err));
            }
            Message::AnswerGroup { id, accept } => {
                let api = self.session.api.clone();
                let verb = if accept { "accept" } else { "refuse" };
                self.roster.group_requests.retain(|r| r.id != id);
                let path = format!("/api/group-requests/{id}/{verb}");
                return (Task::perform(async move { api.post_empty(&path).await }, Message::Answered), None);
            }
            Message::Answered(Ok(())) => self.notice = None,
            Message::Answered(Err(err)) => {
                self.notice = Some(err.plain());
                return (Task::none(), session_over(&err));
            }
            Message::OpenAddFriend => {
                self.panel = Some(Panel::AddFriend(AddFriend::default()));
                return (iced::widget::operation::focus(id::SEARCH), None);
            }
            Message::SearchChanged(value) => self.with_search(|search| search.query = value),
            Message::GreetingChanged(value) => {
                self.with_search(|search| search.greeting = value.chars().take(200).collect());
            }
            Message::Search => {
                let Some(Panel::AddFriend(search)) = &mut self.panel else { return (Task::none(), None) };
                let q = search.query.trim().to_owned();
                if q.is_empty() || search.busy {
                    return (Task::none(), None);
                }
                search.busy = true;
                search.error = None;
                let api = self.session.api.clone();
                let query = SearchQuery { q, offset: 0, limit: Some(20) };
                return (
                    Task::perform(
                        async move { api.get_query("/api/users/search", &query).await },
                        Message::Found,
                    ),
                    None,
                );
            }
            Message::Found(result) => {
                let ended = result.as_ref().err().and_then(session_over);
                self.with_search(|search| {
                    search.busy = false;
                    search.searched = true;
                    match result {
                        Ok(hits) => search.results = hits,
                        Err(err) => search.error = Some(err.plain()),
                    }
                });
                return (Task::none(), ended);
            }
            Message::Ask(user_id) => {
                let Some(Panel::AddFriend(search)) = &mut self.panel else { return (Task::none(), None) };
                search.asked.push(user_id);
                let body = SendFriendRequest { to: user_id, message: search.greeting.trim().to_owned() };
                let api = self.session.api.clone();
                return (
                    Task::perform(
                        async move { api.post_json("/api/friend-requests", &body).await },
                        Message::Asked,
                    ),
                    None,
                );
            }
            Message::Asked(Ok(outcome)) => match outcome {
                FriendRequestOutcome::Pending { request } => {
                    if !self.roster.friend_requests.iter().any(|r| r.id == request.id) {
                        self.roster.friend_requests.push(request);
                    }
                }
                FriendRequestOutcome::BecameFriends { friend } => {
                    self.roster.apply(&ServerFrame::FriendAdded { friend });
                }
            },
            Message::Asked(Err(err)) => {
                let ended = session_over(&err);
                self.with_search(|search| search.error = Some(err.plain()));
                return (Task::none(), ended);
            }
            Message::LoggedOut(result) => {
                if let Err(err) = result {
                    // The token stays valid on a server we cannot reach; it expires there.
                    tracing::warn!(%err, "logout request failed; leaving anyway");
                }
                return (Task::none(), Some(Event::LoggedOut));
            }
        }
        (Task::none(), None)
    }

    /// What a notification about a new message says: the friend or group, and the text.
    fn alert(&self, message: &ChatMessage) -> Event {
        let conversation = message.conversation_id;
        let what = match &message.content {
            Content::Text { text } => text.clone(),
            other => chat::attachment_words(other).unwrap_or_else(|| "A message".to_owned()),
        };
        let body = match (self.roster.groups.contains_key(&conversation), message.sender_id) {
            (true, Some(sender)) => {
                let name = self.roster.name_or_id(sender);
                format!("{name}: {what}")
            }
            _ => what,
        };
        let on_screen = self.roster.open == Some(conversation) && self.panel.is_none();
        Event::Alert { title: self.roster.title(conversation), body, on_screen }
    }

    /// Expires typing notices and moves the chat's clock on.
    pub fn tick(&mut self, now: Instant) {
        for typing in self.typing.values_mut() {
            typing.retain(|_, at| now.saturating_duration_since(*at) < TYPING_SHOWN);
        }
        self.typing.retain(|_, typing| !typing.is_empty());
        if let Some(chat) = &mut self.chat {
            chat.now_ms = clock::now_ms();
        }
    }

    /// Whether the view changes with time alone: someone is typing, or a recall button
    /// is yet to expire.
    pub fn needs_clock(&self) -> bool {
        !self.typing.is_empty() || self.chat.as_ref().is_some_and(Chat::has_recallable)
    }

    /// "Bob is typing…" for a conversation, when someone is.
    pub fn typing_line(&self, conversation: ConversationId) -> Option<String> {
        let typing = self.typing.get(&conversation)?;
        let names: Vec<String> = typing.keys().map(|id| self.roster.name_or_id(*id)).collect();
        match names.as_slice() {
            [] => None,
            [one] => Some(format!("{one} is typing…")),
            [one, two] => Some(format!("{one} and {two} are typing…")),
            _ => Some("Several people are typing…".to_owned()),
        }
    }

    fn with_search(&mut self, f: impl FnOnce(&mut AddFriend)) {
        if let Some(Panel::AddFriend(search)) = &mut self.panel {
            f(search);
        }
    }

    fn with_form(&mut self, f: impl FnOnce(&mut ProfileForm)) {
        if let Some(Panel::Profile(form)) = &mut self.panel {
            f(form);
        }
    }

    fn save_display_name(&mut self) -> Task<Message> {
        let Some(Panel::Profile(form)) = &mut self.panel else { return Task::none() };
        if form.busy {
            return Task::none();
        }
        let name = form.display_name.trim().to_owned();
        form.info = None;
        if name.is_empty() || name.chars().count() > limits::DISPLAY_NAME_MAX {
            form.error = Some(format!("A display name has 1 to {} characters.", limits::DISPLAY_NAME_MAX));
            return Task::none();
        }
        form.error = None;
        form.busy = true;
        let api = self.session.api.clone();
        let request = UpdateProfileRequest { display_name: Some(name) };
        Task::perform(async move { api.update_profile(&request).await }, Message::DisplayNameSaved)
    }

    fn save_password(&mut self) -> Task<Message> {
        let Some(Panel::Profile(form)) = &mut self.panel else { return Task::none() };
        if form.busy {
            return Task::none();
        }
        form.info = None;
        let problem = if form.old_password.is_empty() {
            Some("Enter your current password.".to_owned())
        } else if form.new_password.len() < limits::PASSWORD_MIN {
            Some(format!("A new password has at least {} characters.", limits::PASSWORD_MIN))
        } else if form.new_password != form.confirm_password {
            Some("The new password and its confirmation differ.".to_owned())
        } else {
            None
        };
        if let Some(problem) = problem {
            form.error = Some(problem);
            return Task::none();
        }
        form.error = None;
        form.busy = true;
        let api = self.session.api.clone();
        let request = ChangePasswordRequest {
            old_password: form.old_password.clone(),
            new_password: form.new_password.clone(),
        };
        Task::perform(async move { api.change_password(&request).await }, Message::PasswordSaved)
    }

    pub fn view<'a>(&'a self, settings: &'a Settings) -> Element<'a, Message> {
        let window = iced::widget::responsive(move |size| self.layout(size, settings));
        let viewer = self.viewer.as_ref().map(|(upload_id, name)| self.viewer_view(upload_id, name));
        widget::overlay(window, viewer, Some(Message::CloseViewer))
    }

    /// The window at `size`: the side bar beside the chat or panel when there is room, else
    /// one of them at a time. The main pane keeps its place in the widget tree either way,
    /// so the chat keeps its scroll position while the side bar comes and goes.
    fn layout<'a>(&'a self, size: iced::Size, settings: &'a Settings) -> Element<'a, Message> {
        let narrow = size.width < NARROW;
        let open = self.panel.is_some() || self.chat.is_some();
        let beside = !narrow && !self.sidebar_collapsed;
        let over = narrow && (self.list_shown || !open);
        let side_width = if beside { SIDEBAR_WIDTH } else { 0.0 };
        let main_width = (size.width - side_width - 2.0 * MAIN_PADDING).max(0.0);
        let main = self.main_view(settings, main_width);
        // Without the side bar in view, a button brings it back.
        let bring_back: Element<'a, Message> = if beside {
            iced::widget::space().height(0).into()
        } else {
            let message = if narrow { Message::ShowList(true) } else { Message::CollapseSidebar(false) };
            button(text("☰ Chats").size(13))
                .style(button::secondary)
                .padding([4, 10])
                .on_press(message)
                .into()
        };
        let main = container(column![bring_back, main].spacing(8))
            .width(Length::Fill)
            .height(Length::Fill)
            .padding(MAIN_PADDING);
        let mut pane = iced::widget::stack![main];
        if over {
            // Over the main pane, not instead of it: the chat under it stays as it was.
            let hide = open.then_some(Message::ShowList(false));
            pane = pane.push(iced::widget::opaque(self.sidebar(Length::Fill, hide)));
        }
        let side: Element<'a, Message> = if beside {
            self.sidebar(Length::Fixed(SIDEBAR_WIDTH), Some(Message::CollapseSidebar(true)))
        } else {
            iced::widget::space().width(0).into()
        };
        row![side, pane].into()
    }

    /// The side bar, `width` wide; `hide` folds it away.
    fn sidebar<'a>(&'a self, width: Length, hide: Option<Message>) -> Element<'a, Message> {
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

    /// The chat or the open panel, `width` wide.
    fn main_view<'a>(&'a self, settings: &'a Settings, width: f32) -> Element<'a, Message> {
        match &self.panel {
            Some(Panel::Profile(form)) => self.profile_view(form),
            Some(Panel::Settings) => settings_view(settings),
            Some(Panel::Requests) => self.requests_view(),
            Some(Panel::AddFriend(search)) => self.add_friend_view(search),
            Some(Panel::Groups(panel)) => panel.view(&self.roster).map(Message::Groups),
            Some(Panel::GroupAdmin(panel)) => panel.view(&self.roster).map(Message::GroupAdmin),
            Some(Panel::Search(panel)) => panel.view(&self.roster).map(Message::HistorySearch),
            Some(Panel::Attach(panel, _)) => panel.view().map(Message::Attach),
            None => match &self.chat {
                Some(chat) => chat
                    .view(
                        &self.roster,
                        self.typing_line(chat.conversation_id),
                        &self.files,
                        self.emoji.as_ref(),
                        width,
                    )
                    .map(Message::Chat),
                None => {
                    container(text("Choose a friend or a group to chat with").size(16).style(text::secondary))
                        .center(Length::Fill)
                        .into()
                }
            },
        }
    }

    fn header(&self, hide: Option<Message>) -> Element<'_, Message> {
        let user = &self.session.user;
        let online = self.status == Status::Online;
        let mut status =
            row![widget::presence_dot(online), text(self.status.describe()).size(13).style(text::secondary)]
                .spacing(6)
                .align_y(Alignment::Center);
        if matches!(self.status, Status::Reconnecting { .. }) {
            status = status.push(
                button(text("Reconnect now").size(13))
                    .style(button::text)
                    .padding(0)
                    .on_press(Message::ReconnectNow),
            );
        }
        // Out of reach with a snapshot kept: the lists and chats can be read without it.
        let browse = (matches!(self.status, Status::Reconnecting { .. }) && self.snapshot_path.is_some())
            .then(|| {
                button(text("Browse offline").size(13))
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
        let small = |label: &'static str, message: Message| {
            button(text(label).size(13)).style(button::secondary).padding([4, 10]).on_press(message)
        };
        let me = row![widget::avatar(&user.display_name, user.id, self.avatar.as_ref(), 52.0), identity]
            .spacing(12)
            .align_y(Alignment::Center);
        // Clicking oneself opens the profile (not offline: nothing can be saved then).
        let me: Element<'_, Message> = if self.offline {
            me.into()
        } else {
            button(me).style(button::text).padding(0).on_press(Message::OpenProfile).into()
        };
        let mut me = row![container(me).width(Length::Fill)].align_y(Alignment::Start);
        if let Some(hide) = hide {
            me = me.push(button(text("«").size(15)).style(button::text).padding([2, 8]).on_press(hide));
        }
        if self.offline {
            return column![
                me,
                row![
                    small("Search", Message::OpenSearch),
                    iced::widget::space().width(Length::Fill),
                    button(text("Back to login").size(13))
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
                small("Profile", Message::OpenProfile),
                small("Settings", Message::OpenSettings),
                iced::widget::space().width(Length::Fill),
                button(text(if self.logging_out { "Logging out…" } else { "Log out" }).size(13))
                    .style(button::danger)
                    .padding([4, 10])
                    .on_press_maybe((!self.logging_out).then_some(Message::LogOut)),
            ]
            .spacing(6),
        ]
        .spacing(12)
        .into()
    }

    fn lists(&self) -> Element<'_, Message> {
        let pending = self.roster.pending_count() as i64;
        let mut requests = row![text("Requests").size(13)].spacing(6).align_y(Alignment::Center);
        if let Some(badge) = widget::badge(pending) {
            requests = requests.push(badge);
        }
        let actions = row![
            button(text("Add friend").size(13))
                .style(button::secondary)
                .padding([4, 10])
                .on_press(Message::OpenAddFriend),
            button(requests).style(button::secondary).padding([4, 10]).on_press(Message::OpenRequests),
            button(text("Search").size(13))
                .style(button::secondary)
                .padding([4, 10])
                .on_press(Message::OpenSearch),
        ]
        .spacing(6);
        let heading = |label: &'static str| text(label).size(12).font(BOLD).style(text::secondary);
        let mut list = column![heading("FRIENDS")].spacing(4);
        let offline = self.offline;
        let friends = self.roster.friends_sorted();
        if friends.is_empty() {
            list = list.push(text("No friends yet. Add one by name.").size(13).style(text::secondary));
        }
        for friend in friends {
            let user = &friend.user;
            list = list.push(self.entry(
                widget::avatar(
                    &user.display_name,
                    user.id,
                    self.files.avatar(user.avatar_url.as_deref()),
                    34.0,
                ),
                user.display_name.clone(),
                Some(widget::presence_dot(friend.online)),
                friend.conversation_id,
            ));
        }
        let group_action = |label: &'static str, message: Message| {
            button(text(label).size(12)).style(button::text).padding([0, 4]).on_press(message)
        };
        let mut groups_heading = row![heading("GROUPS"), iced::widget::space().width(Length::Fill)];
        if !offline {
            groups_heading = groups_heading
                .push(group_action("Join", Message::OpenJoinGroup))
                .push(group_action("New", Message::OpenCreateGroup));
        }
        list = list.push(iced::widget::space().height(8)).push(groups_heading.align_y(Alignment::Center));
        let groups = self.roster.groups_sorted();
        if groups.is_empty() {
            list = list.push(text("No groups yet.").size(13).style(text::secondary));
        }
        for group in groups {
            let name =
                if group.muted { format!("{} (muted)", group.group.name) } else { group.group.name.clone() };
            list = list.push(self.entry(
                widget::avatar(&group.group.name, group.group.id, None, 34.0),
                name,
                None,
                group.group.id,
            ));
        }
        let mut side = if offline { column![] } else { column![actions] }.spacing(10);
        if let Some(notice) = &self.notice {
            side = side.push(widget::error_line(notice));
        }
        side.push(scrollable(list).id(id::LIST).spacing(4).height(Length::Fill)).into()
    }

    /// One row of the side bar: avatar, name, presence, unread badge.
    fn entry<'a>(
        &self,
        avatar: Element<'a, Message>,
        name: String,
        presence: Option<Element<'a, Message>>,
        conversation: ConversationId,
    ) -> Element<'a, Message> {
        let mut title = row![text(name).size(15)].spacing(6).align_y(Alignment::Center);
        if let Some(dot) = presence {
            title = title.push(dot);
        }
        let mut label = column![title].spacing(1).width(Length::Fill);
        if let Some(preview) = self.previews.get(&conversation).filter(|p| !p.is_empty()) {
            label = label.push(
                text(widget::one_line(preview, PREVIEW_CHARS))
                    .size(12)
                    .wrapping(iced::widget::text::Wrapping::None)
                    .style(text::secondary),
            );
        }
        let mut line = row![avatar, label].spacing(10).align_y(Alignment::Center);
        if let Some(badge) = widget::badge(self.roster.unread(conversation)) {
            line = line.push(badge);
        }
        let open = self.roster.open == Some(conversation) && self.panel.is_none();
        button(line)
            .width(Length::Fill)
            .padding([5, 6])
            .style(if open { button::primary } else { button::text })
            .on_press(Message::Open(conversation))
            .into()
    }

    /// The picture viewer: the full picture once it is on this computer, with its actions.
    fn viewer_view<'a>(&'a self, upload_id: &str, name: &str) -> Element<'a, Message> {
        let small = |label: &'static str, message: Message| {
            button(text(label).size(13)).style(button::secondary).padding([5, 12]).on_press(message)
        };
        let mut actions =
            row![text(name.to_owned()).size(14).font(BOLD), iced::widget::space().width(Length::Fill)]
                .spacing(8)
                .align_y(Alignment::Center);
        let picture: Element<'a, Message> = if let Some(path) = self.files.saved.get(upload_id) {
            let folder = path.parent().map(std::path::PathBuf::from).unwrap_or_default();
            actions = actions
                .push(small("Save as…", Message::SaveCopy(upload_id.to_owned(), name.to_owned())))
                .push(small("Open in system viewer", Message::Chat(chat::Message::OpenFile(path.clone()))))
                .push(small("Show in folder", Message::Chat(chat::Message::ShowInFolder(folder))));
            match self.files.local(path, files::VIEWER_SIDE) {
                Some(Picture::Ready(handle)) => {
                    image(handle.clone()).content_fit(iced::ContentFit::Contain).width(Length::Fill).into()
                }
                Some(Picture::Failed) => widget::error_line("The picture cannot be shown."),
                _ => text("Opening the picture…").style(text::secondary).into(),
            }
        } else if let Some(transfer) = self.files.transfers.get(upload_id) {
            text(format!(
                "Loading the picture… {} of {}",
                files::human_size(transfer.done),
                files::human_size(transfer.total)
            ))
            .style(text::secondary)
            .into()
        } else if let Some(why) = self.files.failed.get(upload_id) {
            widget::error_line(why)
        } else {
            text("The picture is not on this computer.").style(text::secondary).into()
        };
        let actions = actions.push(small("Close", Message::CloseViewer));
        widget::card(
            column![actions, container(picture).center_x(Length::Fill).max_height(560)]
                .spacing(12)
                .width(Length::Fill),
        )
        .max_width(900)
        .into()
    }

    fn requests_view(&self) -> Element<'_, Message> {
        let mut list =
            column![widget::panel_title("Requests", Message::ClosePanel)].spacing(12).max_width(560);
        let mut any = false;
        for request in self.roster.incoming_friend_requests() {
            any = true;
            list = list.push(request_card(
                format!("{} (@{}) wants to be your friend", request.from.display_name, request.from.username),
                &request.message,
                Some((
                    Message::AnswerFriend { id: request.id, accept: true },
                    Message::AnswerFriend { id: request.id, accept: false },
                )),
            ));
        }
        for request in self.roster.answerable_group_requests() {
            any = true;
            let line = match (request.kind, &request.inviter) {
                (GroupRequestKind::Invitation, Some(inviter)) => {
                    format!("{} invites you to {}", inviter.display_name, request.group.name)
                }
                (GroupRequestKind::Invitation, None) => format!("You are invited to {}", request.group.name),
                (GroupRequestKind::Application, _) => {
                    format!("{} asks to join {}", request.user.display_name, request.group.name)
                }
            };
            list = list.push(request_card(
                line,
                &request.message,
                Some((
                    Message::AnswerGroup { id: request.id, accept: true },
                    Message::AnswerGroup { id: request.id, accept: false },
                )),
            ));
        }
        for request in self.roster.friend_requests.iter().filter(|r| r.from.id == self.roster.me) {
            any = true;
            let card = request_card(
                format!("You asked {} to be friends; waiting for an answer", request.to.display_name),
                &request.message,
                None,
            );
            list = list.push(
                column![
                    card,
                    button(text("Withdraw").size(13))
                        .style(button::secondary)
                        .padding([4, 12])
                        .on_press(Message::Withdraw(request.id)),
                ]
                .spacing(4),
            );
        }
        if !any {
            list = list.push(text("No requests.").style(text::secondary));
        }
        scrollable(list).spacing(4).into()
    }

    fn add_friend_view<'a>(&'a self, search: &'a AddFriend) -> Element<'a, Message> {
        let mut content = column![
            widget::panel_title("Add a friend", Message::ClosePanel),
            row![
                text_input("User name or display name", &search.query)
                    .id(id::SEARCH)
                    .on_input(Message::SearchChanged)
                    .on_submit(Message::Search)
                    .padding(8),
                button(text("Search"))
                    .on_press_maybe((!search.busy).then_some(Message::Search))
                    .padding([8, 16]),
            ]
            .spacing(8),
            text_input("A message with your request (optional)", &search.greeting)
                .id(id::GREETING)
                .on_input(Message::GreetingChanged)
                .on_submit(Message::Search)
                .padding(8),
        ]
        .spacing(12)
        .max_width(560);
        if let Some(error) = &search.error {
            content = content.push(widget::error_line(error));
        }
        if search.searched && search.results.is_empty() && search.error.is_none() {
            content = content.push(text("Nobody found by that name.").style(text::secondary));
        }
        for hit in &search.results {
            let user = &hit.user;
            let waiting = search.asked.contains(&user.id)
                || self
                    .roster
                    .friend_requests
                    .iter()
                    .any(|r| r.to.id == user.id && r.from.id == self.roster.me);
            let action: Element<'a, Message> = if hit.is_friend || self.roster.friends.contains_key(&user.id)
            {
                text("Friend").size(13).style(text::secondary).into()
            } else if waiting {
                text("Asked").size(13).style(text::secondary).into()
            } else {
                button(text("Add").size(13)).padding([4, 14]).on_press(Message::Ask(user.id)).into()
            };
            content = content.push(
                row![
                    widget::avatar(&user.display_name, user.id, None, 34.0),
                    column![
                        text(user.display_name.clone()).size(15),
                        text(format!("@{}", user.username)).size(12).style(text::secondary)
                    ],
                    iced::widget::space().width(Length::Fill),
                    action
                ]
                .spacing(10)
                .align_y(Alignment::Center),
            );
        }
        scrollable(content).spacing(4).into()
    }

    fn profile_view<'a>(&'a self, form: &'a ProfileForm) -> Element<'a, Message> {
        let input = |placeholder: &str, value: &'a str, id: &'static str, on: fn(String) -> Message| {
            let input = text_input(placeholder, value).id(id).padding(8);
            if form.busy { input } else { input.on_input(on) }
        };
        let mut content = column![
            widget::panel_title("Profile", Message::ClosePanel),
            row![
                widget::avatar(
                    &self.session.user.display_name,
                    self.session.user.id,
                    self.avatar.as_ref(),
                    64.0
                ),
                button(text("Change picture…"))
                    .style(button::secondary)
                    .on_press_maybe((!form.busy).then_some(Message::ChooseAvatar))
                    .padding([6, 14]),
            ]
            .spacing(14)
            .align_y(Alignment::Center),
            text("Display name").size(14),
            row![
                input(
                    "The name others see",
                    &form.display_name,
                    id::DISPLAY_NAME,
                    Message::DisplayNameChanged
                )
                .on_submit(Message::SaveDisplayName),
                button(text("Save"))
                    .on_press_maybe((!form.busy).then_some(Message::SaveDisplayName))
                    .padding([8, 16]),
            ]
            .spacing(8),
            text("Change password").size(16).font(BOLD),
            input("Current password", &form.old_password, id::OLD_PASSWORD, Message::OldPasswordChanged)
                .secure(true)
                .on_submit(Message::SavePassword),
            input("New password", &form.new_password, id::NEW_PASSWORD, Message::NewPasswordChanged)
                .secure(true)
                .on_submit(Message::SavePassword),
            input(
                "New password again",
                &form.confirm_password,
                id::CONFIRM_PASSWORD,
                Message::ConfirmPasswordChanged
            )
            .secure(true)
            .on_submit(Message::SavePassword),
            button(text("Change password"))
                .on_press_maybe((!form.busy).then_some(Message::SavePassword))
                .padding([8, 16]),
        ]
        .spacing(10)
        .max_width(480);
        if let Some(error) = &form.error {
            content = content.push(widget::error_line(error));
        }
        if let Some(info) = &form.info {
            content = content.push(text(info.clone()).size(14).style(text::success));
        }
        content.into()
    }
}

/// A request with its message and, when the user can answer, Accept and Refuse buttons.
fn request_card<'a>(
    line: String,
    message: &str,
    answers: Option<(Message, Message)>,
) -> Element<'a, Message> {
    let mut content = column![text(line).size(15)].spacing(6);
    if !message.trim().is_empty() {
        content = content.push(text(format!("“{}”", message.trim())).size(14).style(text::secondary));
    }
    if let Some((accept, refuse)) = answers {
        content = content.push(
            row![
                button(text("Accept")).on_press(accept).padding([4, 14]),
                button(text("Refuse")).style(button::secondary).on_press(refuse).padding([4, 14]),
            ]
            .spacing(8),
        );
    }
    widget::card(content).padding(12).width(Length::Fill).into()
}

/// Fetches every message after the cache's cursor, page by page, into the cache.
async fn fetch_after(
    api: &Api,
    history: &History,
    conversation: ConversationId,
    floor: i64,
) -> Result<(), String> {
    let mut cursor = history.cursor(conversation, floor).await.map_err(|e| e.to_string())?;
    loop {
        let query = HistoryQuery { after: Some(cursor), before: None, limit: Some(200) };
        let page: HistoryPage = api
            .get_query(&format!("/api/conversations/{conversation}/messages"), &query)
            .await
            .map_err(|e| e.to_string())?;
        for message in &page.messages {
            history.store(message).await.map_err(|e| e.to_string())?;
            cursor = cursor.max(message.seq);
        }
        if !page.more || page.messages.is_empty() {
            return Ok(());
        }
    }
}

/// An HTTP answer saying the token is no longer valid ends the session.
fn session_over(err: &ApiError) -> Option<Event> {
    (err.code() == Some(ErrorCode::Unauthorized))
        .then(|| Event::SessionEnded { title: "Session ended".to_owned(), body: err.plain() })
}

pub const DARK_LABEL: &str = "Dark theme";
pub const NOTIFICATIONS_LABEL: &str =
    "Show a desktop notification on new messages while the window is in the background";

fn settings_view(settings: &Settings) -> Element<'_, Message> {
    let sound_label = if crate::sound::AVAILABLE {
        "Play a sound on new messages"
    } else {
        "Play a sound on new messages (this build has no sound)"
    };
    column![
        widget::panel_title("Settings", Message::ClosePanel),
        checkbox(settings.sound)
            .label(sound_label)
            .on_toggle_maybe(crate::sound::AVAILABLE.then_some(Message::SoundToggled)),
        checkbox(settings.notifications).label(NOTIFICATIONS_LABEL).on_toggle(Message::NotificationsToggled),
        checkbox(settings.dark).label(DARK_LABEL).on_toggle(Message::DarkToggled),
        text(format!("Server: {}", settings.server)).size(13).style(text::secondary),
    ]
    .spacing(16)
    .max_width(520)
    .into()
}

/// Numbers the messages the user sends and releases them in that order once each is written to
/// the cache: the writes run concurrently and may finish in any order, but the server must
/// receive (and number) the messages in the order they were sent.
#[derive(Debug, Default)]
struct Outbox {
    /// The number of the next message sent.
    next: u64,
    /// The number of the next message to release.
    release: u64,
    /// Written messages waiting for an earlier one (None: its write failed).
    waiting: std::collections::BTreeMap<u64, Option<StoredMessage>>,
}

impl Outbox {
    fn number(&mut self) -> u64 {
        self.next += 1;
        self.next - 1
    }

    /// Message `number` is written (or failed to be): the messages now released, in order.
    fn written(&mut self, number: u64, stored: Option<StoredMessage>) -> Vec<StoredMessage> {
        self.waiting.insert(number, stored);
        let mut out = Vec::new();
        while let Some(stored) = self.waiting.remove(&self.release) {
            self.release += 1;
            out.extend(stored);
        }
        out
    }
}

#[cfg(test)]
pub(crate) mod tests {
    use super::*;
    use crate::address::ServerAddress;
    use crate::api::Api;
    use kith_shared::api::{ConversationKind, ConversationState, GroupProfile, MyGroup, Role};

    pub fn session() -> LoggedIn {
        let address = ServerAddress::parse("127.0.0.1:8000", "").expect("valid");
        LoggedIn {
            api: Api::new(&address, &crate::trust::Trust::in_memory()).with_token("token".into()),
            address,
            user: UserProfile {
                id: 7,
                username: "alice".into(),
                display_name: "Alice".into(),
                avatar_url: None,
            },
        }
    }

    fn bob() -> Friend {
        Friend {
            user: UserProfile { id: 8, username: "bob".into(), display_name: "Bob".into(), avatar_url: None },
            online: true,
            conversation_id: 10,
        }
    }

    /// A main window with Bob as a friend and a live (stub) connection.
    fn connected() -> (Home, tokio::sync::mpsc::Receiver<ClientFrame>) {
        let (mut home, _) = Home::new(session(), None);
        let (connection, frames) = Connection::stub(16);
        let _ = home.socket(socket::Event::Connected {
            connection,
            user: home.user().clone(),
            limits: socket::Limits::default(),
        });
        home.roster.set_friends(vec![bob()]);
        (home, frames)
    }

    fn text_from_bob(seq: i64) -> ServerFrame {
        ServerFrame::Message {
            message: ChatMessage {
                id: 100 + seq,
                conversation_id: 10,
                seq,
                sender_id: Some(8),
                client_id: Some(format!("b{seq}")),
                sent_at: 1_800_000_000_000,
                content: Content::Text { text: format!("hi {seq}") },
                muted: false,
            },
        }
    }

    /// A `sync_state` listing one conversation.
    pub(crate) fn sync_with(
        conversation_id: ConversationId,
        kind: ConversationKind,
        last_seq: i64,
        read_seq: i64,
    ) -> ServerFrame {
        let peer_id = (kind == ConversationKind::Direct).then_some(8);
        let state = ConversationState {
            conversation_id,
            kind,
            peer_id,
            last_seq,
            joined_seq: 0,
            delivered_seq: read_seq,
            read_seq,
            unread: last_seq - read_seq,
            muted: false,
        };
        ServerFrame::SyncState { conversations: vec![state], friend_requests: vec![], group_requests: vec![] }
    }

    fn receipts(frames: &mut tokio::sync::mpsc::Receiver<ClientFrame>) -> Vec<(ReceiptKind, i64)> {
        std::iter::from_fn(|| frames.try_recv().ok())
            .filter_map(|frame| match frame {
                ClientFrame::Receipt { conversation_id: 10, kind, seq } => Some((kind, seq)),
                _ => None,
            })
            .collect()
    }

    #[test]
    fn the_outbox_releases_messages_in_the_order_they_were_sent() {
        let mut outbox = Outbox::default();
        let numbers: Vec<u64> = (0..4).map(|_| outbox.number()).collect();
        let text = |stored: &StoredMessage| match &stored.content {
            Content::Text { text } => text.clone(),
            _ => String::new(),
        };
        let message = |n: i64| crate::tests::stored(n, 7, 0, &format!("line {n}"));
        // The writes finish out of order; the second one fails.
        assert!(outbox.written(numbers[2], Some(message(2))).is_empty(), "the first is not written yet");
        assert!(outbox.written(numbers[1], None).is_empty());
        let released: Vec<String> = outbox.written(numbers[0], Some(message(0))).iter().map(text).collect();
        assert_eq!(released, ["line 0", "line 2"], "in order, the failed one left out");
        let released: Vec<String> = outbox.written(numbers[3], Some(message(3))).iter().map(text).collect();
        assert_eq!(released, ["line 3"]);
    }
    #[test]
    fn a_lost_connection_greys_presence_and_reconnect_now_starts_a_new_session() {
        let (mut home, _frames) = connected();
        assert!(home.roster.friends[&8].online);
        let before = home.socket_params().expect("a session");
        let _ = home.socket(socket::Event::Disconnected {
            reason: "refused".into(),
            retry_in: Duration::from_secs(8),
        });
        assert!(!home.roster.friends[&8].online, "no stale green dot while away");
        let settings = Settings::default();
        let mut ui = iced_test::Simulator::with_settings(crate::tests::fonts(), home.view(&settings));
        ui.click("Reconnect now").expect("the status line offers to reconnect now");
        let messages: Vec<Message> = ui.into_messages().collect();
        for message in messages {
            let _ = home.update(message);
        }
        let after = home.socket_params().expect("a session");
        assert_ne!(before, after, "a new socket session connects at once");
        assert_eq!(home.status, Status::Connecting);
    }

    #[test]
    fn open_group_settings_follow_another_admins_change_and_save_only_their_own() {
        let (mut home, _frames) = connected();
        let profile = |name: &str, description: &str| GroupProfile {
            id: 30,
            name: name.into(),
            description: description.into(),
            owner_id: 7,
            member_count: 2,
            created_at: 0,
        };
        home.roster.set_groups(vec![MyGroup {
            group: profile("Club", "old"),
            role: Role::Owner,
            muted: false,
        }]);
        home.panel = Some(Panel::GroupAdmin(GroupAdmin::new(30, &home.roster)));
        let Some(Panel::GroupAdmin(panel)) = &mut home.panel else { unreachable!() };
        panel.description = "mine".into();

        let renamed = ServerFrame::GroupUpdated { group: profile("Book club", "old") };
        let _ = home.socket(socket::Event::Received(renamed));
        let Some(Panel::GroupAdmin(panel)) = &home.panel else { panic!("the panel stays open") };
        assert_eq!(panel.name, "Book club", "an untouched field shows the other admin's change");
        assert_eq!(panel.description, "mine", "the user's own edit stays");
        assert_eq!(panel.known_name, "Book club");
    }

    #[test]
    fn friends_added_during_the_session_are_kept_for_offline_browsing() {
        let (mut home, _frames) = connected();
        let dir = tempfile::tempdir().expect("a temp dir");
        let path = dir.path().join("snapshot.json");
        home.snapshot_path = Some(path.clone());
        let carol = Friend {
            user: UserProfile {
                id: 9,
                username: "carol".into(),
                display_name: "Carol".into(),
                avatar_url: None,
            },
            online: true,
            conversation_id: 11,
        };
        let _ = home.socket(socket::Event::Received(ServerFrame::FriendAdded { friend: carol }));
        let saved = Snapshot::load(&path).expect("readable").expect("written");
        assert!(saved.friends.iter().any(|f| f.user.id == 9), "carol is in the offline lists");
    }

    #[test]
    fn removal_from_a_group_or_its_dissolution_is_said() {
        let (mut home, _frames) = connected();
        let group = |id, name: &str| MyGroup {
            group: GroupProfile {
                id,
                name: name.into(),
                description: String::new(),
                owner_id: 8,
                member_count: 3,
                created_at: 0,
            },
            role: Role::Member,
            muted: false,
        };
        home.roster.set_groups(vec![group(30, "Club"), group(31, "Choir")]);
        let left = |group_id, reason| socket::Event::Received(ServerFrame::GroupLeft { group_id, reason });
        let _ = home.socket(left(30, LeaveReason::Removed));
        assert_eq!(home.notice.as_deref(), Some("You were removed from Club."));
        let _ = home.socket(left(31, LeaveReason::Dissolved));
        assert_eq!(home.notice.as_deref(), Some("Choir was dissolved by its owner."));
        assert!(home.roster.groups.is_empty());
    }

    #[test]
    fn a_group_known_only_from_sync_state_gets_its_members_fetched() {
        let (mut home, _frames) = connected();
        let sync = sync_with(30, ConversationKind::Group, 0, 0);
        let _ = home.socket(socket::Event::Received(sync));
        assert!(home.roster.groups.is_empty(), "the group list has not arrived");
        assert_eq!(home.load_members(30).units(), 1, "the members are fetched all the same");
        assert_eq!(home.load_members(10).units(), 0, "a one-to-one chat has no member list");
    }

    #[test]
    fn messages_in_the_open_chat_are_reported_read_and_others_delivered() {
        let (mut home, mut frames) = connected();
        let _ = home.socket(socket::Event::Received(text_from_bob(1)));
        assert_eq!(receipts(&mut frames), [(ReceiptKind::Delivered, 1)], "held, not shown");
        assert_eq!(home.roster.unread(10), 1);

        home.roster.open(Some(10));
        home.report_read(10);
        assert_eq!(receipts(&mut frames), [(ReceiptKind::Read, 1)], "opening the chat reads it");
        let _ = home.socket(socket::Event::Received(text_from_bob(2)));
        assert_eq!(receipts(&mut frames), [(ReceiptKind::Read, 2)], "shown at once in the open chat");
        assert_eq!(home.roster.unread(10), 0);

        // Back from a reconnect with news in the open chat: read at once.
        let sync = sync_with(10, ConversationKind::Direct, 4, 2);
        let _ = home.socket(socket::Event::Received(sync));
        assert_eq!(receipts(&mut frames), [(ReceiptKind::Read, 4)]);
    }

    #[test]
    fn typing_is_shown_until_it_expires_or_the_message_arrives() {
        let (mut home, _frames) = connected();
        let typing = |user_id| socket::Event::Received(ServerFrame::Typing { conversation_id: 10, user_id });
        let _ = home.socket(typing(7));
        assert_eq!(home.typing_line(10), None, "one's own typing on another device is not shown");
        assert!(!home.needs_clock());
        let _ = home.socket(typing(8));
        assert_eq!(home.typing_line(10).as_deref(), Some("Bob is typing…"));
        assert!(home.needs_clock(), "a clock runs to expire it");
        let _ = home.socket(typing(9));
        assert_eq!(home.typing_line(10).as_deref(), Some("Bob and User 9 are typing…"));

        let seen = home.typing[&10][&8];
        home.tick(seen + Duration::from_secs(1));
        assert!(home.typing_line(10).is_some());
        home.tick(seen + TYPING_SHOWN + Duration::from_secs(1));
        assert_eq!(home.typing_line(10), None);
        assert!(home.typing.is_empty());

        let _ = home.socket(typing(8));
        let message = ChatMessage {
            id: 1,
            conversation_id: 10,
            seq: 1,
            sender_id: Some(8),
            client_id: None,
            sent_at: 1,
            content: Content::Text { text: "hi".into() },
            muted: false,
        };
        let _ = home.socket(socket::Event::Received(ServerFrame::Message { message }));
        assert_eq!(home.typing_line(10), None, "the message ends the typing");
    }

    #[test]
    fn the_chat_sends_typing_and_recall_frames() {
        let (mut home, mut frames) = connected();
        let _ = home.update(Message::Open(10));
        while frames.try_recv().is_ok() {}
        let paste = |text: &str| {
            let edit = iced::widget::text_editor::Edit::Paste(std::sync::Arc::new(text.to_owned()));
            Message::Chat(chat::Message::Edit(iced::widget::text_editor::Action::Edit(edit)))
        };
        let _ = home.update(paste("h"));
        let _ = home.update(paste("i"));
        assert_eq!(frames.try_recv().ok(), Some(ClientFrame::Typing { conversation_id: 10 }));
        assert!(frames.try_recv().is_err(), "one typing notice per two seconds");

        let now = clock::now_ms();
        let mine = StoredMessage {
            local_id: 1,
            conversation_id: 10,
            seq: Some(4),
            server_id: Some(40),
            client_id: Some("c".into()),
            sender_id: Some(7),
            sent_at: now - 5_000,
            content: Content::Text { text: "oops".into() },
            delivery: crate::history::Delivery::Sent,
        };
        let _ = home.update(Message::ChatLoaded(10, Ok(vec![mine])));
        assert!(home.needs_clock(), "the recall button expires on its own");
        let _ = home.update(Message::Chat(chat::Message::Recall(4)));
        assert_eq!(frames.try_recv().ok(), Some(ClientFrame::Recall { conversation_id: 10, seq: 4 }));

        // A refusal from the server shows in the chat.
        let refusal =
            ServerFrame::error(ErrorCode::RecallExpired, "messages can be recalled for 120 seconds");
        let _ = home.socket(socket::Event::Received(refusal));
        assert!(
            home.chat.as_ref().and_then(|c| c.error.as_deref()).is_some_and(|e| e.contains("120 seconds"))
        );
    }

    #[test]
    fn messages_written_while_the_cache_opens_wait_for_it() {
        let (mut home, mut frames) = connected();
        home.history_opening = true;
        let _ = home.update(Message::Open(10));
        while frames.try_recv().is_ok() {}
        let _ = home.update(Message::Chat(chat::Message::Edit(iced::widget::text_editor::Action::Edit(
            iced::widget::text_editor::Edit::Paste(std::sync::Arc::new("early".to_owned())),
        ))));
        while frames.try_recv().is_ok() {}
        let _ = home.update(Message::Chat(chat::Message::Send));
        assert!(frames.try_recv().is_err(), "not sent before it is kept");
        assert_eq!(home.unsaved, [(10, Content::Text { text: "early".into() })]);
        // Without a cache after all, it goes straight out.
        let _ = home.update(Message::HistoryOpened(Err("disk full".into())));
        assert!(home.unsaved.is_empty());
        assert!(matches!(frames.try_recv(), Ok(ClientFrame::Send { content: Content::Text { .. }, .. })));
    }

    #[test]
    fn status_follows_the_socket() {
        let (mut home, _) = Home::new(session(), None);
        assert_eq!(home.status, Status::Connecting);
        let (_, event) = home.socket(socket::Event::Disconnected {
            reason: "refused".into(),
            retry_in: Duration::from_secs(4),
        });
        assert!(event.is_none());
        assert_eq!(home.status.describe(), "Offline, reconnecting in 4 s");
        assert!(home.connection.is_none());
    }

    #[test]
    fn kicked_elsewhere_ends_the_session_with_the_reason() {
        let (mut home, _) = Home::new(session(), None);
        let (_, event) = home.socket(socket::Event::Kicked {
            reason: KickReason::LoggedInElsewhere,
            message: "this account logged in elsewhere".into(),
        });
        assert_eq!(
            event,
            Some(Event::SessionEnded {
                title: "Logged out".into(),
                body: "This account logged in elsewhere.".into()
            })
        );
    }

    #[test]
    fn a_refused_token_ends_the_session() {
        let (mut home, _) = Home::new(session(), None);
        let (_, event) =
            home.socket(socket::Event::Refused { code: ErrorCode::Unauthorized, message: "expired".into() });
        assert!(matches!(event, Some(Event::SessionEnded { body, .. }) if body.contains("Log in again")));
    }

    #[test]
    fn logging_out_stops_the_socket_then_reports() {
        let (mut home, _) = Home::new(session(), None);
        assert!(home.socket_params().is_some());
        let (_, event) = home.update(Message::LogOut);
        assert!(event.is_none());
        assert!(home.socket_params().is_none(), "the subscription ends while logging out");
        let unreachable = ApiError::Unreachable { address: "x".into(), detail: "down".into() };
        let (_, event) = home.update(Message::LoggedOut(Err(unreachable)));
        assert_eq!(event, Some(Event::LoggedOut));
    }

    #[test]
    fn profile_form_checks_before_sending() {
        let (mut home, _) = Home::new(session(), None);
        let _ = home.update(Message::OpenProfile);
        let _ = home.update(Message::DisplayNameChanged("   ".into()));
        let _ = home.update(Message::SaveDisplayName);
        let Some(Panel::Profile(form)) = &home.panel else { panic!("profile open") };
        assert!(form.error.as_deref().is_some_and(|e| e.starts_with("A display name has 1 to 64")));
        assert!(!form.busy);

        let _ = home.update(Message::OldPasswordChanged("old password".into()));
        let _ = home.update(Message::NewPasswordChanged("new password".into()));
        let _ = home.update(Message::ConfirmPasswordChanged("new passw0rd".into()));
        let _ = home.update(Message::SavePassword);
        let Some(Panel::Profile(form)) = &home.panel else { panic!("profile open") };
        assert_eq!(form.error.as_deref(), Some("The new password and its confirmation differ."));

        let _ = home.update(Message::ConfirmPasswordChanged("new password".into()));
        let _ = home.update(Message::SavePassword);
        let Some(Panel::Profile(form)) = &home.panel else { panic!("profile open") };
        assert!(form.busy && form.error.is_none());
        let _ = home.update(Message::PasswordSaved(Ok(())));
        let Some(Panel::Profile(form)) = &home.panel else { panic!("profile open") };
        assert!(!form.busy && form.old_password.is_empty() && form.info.is_some());
    }

    #[test]
    fn a_saved_display_name_shows_at_once() {
        let (mut home, _) = Home::new(session(), None);
        let _ = home.update(Message::OpenProfile);
        let _ = home.update(Message::DisplayNameChanged("Alice L.".into()));
        let _ = home.update(Message::SaveDisplayName);
        let saved = UserProfile { display_name: "Alice L.".into(), ..home.user().clone() };
        let _ = home.update(Message::DisplayNameSaved(Ok(saved)));
        assert_eq!(home.user().display_name, "Alice L.");
    }
}

//! The main window after login: the side bar with the lists, the open chat or a side panel,
//! and the picture viewer over them, laid out for the space the window has.
//!
//! The live session (socket, roster, cache, outbox) is [`Session`]'s; this screen hands it the
//! socket's events, runs its tasks and turns its [`session::Event`]s into what the window shows.
//! Each side panel is a module of its own ([`panel`]); the open chat's events are handled in
//! [`conversation`], pictures and transfers in [`media`].

pub mod add_friend;
mod choosing;
mod conversation;
mod media;
mod panel;
pub mod profile;
pub mod requests;
pub mod settings;
mod sidebar;
mod viewer;

pub use panel::{AttachFor, Panel};
pub use sidebar::NARROW;

use crate::api::ApiError;
use crate::files::{self, Files};
use crate::screen::chat::{self, Chat};
use crate::screen::login::{self, LoggedIn};
use crate::screen::{attach, forward, group_admin, groups, search};
use crate::session::{self, Session};
use crate::settings::Settings;
use crate::socket;
use crate::transfer;
use crate::widget::{self, Element};
use iced::widget::{column, container, image, row, text};
use iced::{Length, Task};
use kith_shared::api::{ConversationId, UserProfile};
use kith_shared::frame::Content;
use std::time::Instant;

/// Widget ids, for focus and tests.
pub mod id {
    /// The side bar's list of friends and groups.
    pub const LIST: &str = "side-list";
}

/// The padding around the chat or panel.
const MAIN_PADDING: f32 = 20.0;

pub struct Home {
    /// The live session: the socket, the roster, the cache and messages on their way out.
    pub session: Session,
    pub avatar: Option<image::Handle>,
    pub panel: Option<Panel>,
    pub chat: Option<Chat>,
    /// An error about lists or requests, shown in the side bar.
    pub notice: Option<String>,
    /// Pictures, transfers and saved files of the chats.
    pub files: Files,
    /// The server's emoji set, once loaded.
    pub emoji: Option<crate::emoji::EmojiSet>,
    /// The user's history, beside which the emoji panel keeps its choices.
    pub history_path: Option<std::path::PathBuf>,
    /// The picture open in the viewer: its upload id and name.
    pub viewer: Option<(String, String)>,
    /// The chat open when the user last left: opened again once the lists arrive.
    pub reopen: Option<ConversationId>,
    /// In a wide window, the user folded the side bar away.
    pub sidebar_collapsed: bool,
    /// In a narrow window, the side bar is shown over the chat or panel.
    pub list_shown: bool,
    /// The conversation in the lists whose menu (pin, archive, mark unread) is open.
    pub list_menu: Option<ConversationId>,
    /// The archived conversations are shown at the bottom of the lists.
    pub show_archived: bool,
}

#[derive(Debug, Clone)]
pub enum Message {
    /// The session's own work answered.
    Session(session::Message),
    OpenProfile,
    OpenSettings,
    OpenRequests,
    OpenAddFriend,
    OpenCreateGroup,
    OpenJoinGroup,
    /// Ctrl+F: search the local history.
    OpenSearch,
    Profile(profile::Message),
    Settings(settings::Message),
    Requests(requests::Message),
    AddFriend(add_friend::Message),
    Groups(groups::Message),
    GroupAdmin(group_admin::Message),
    Attach(attach::Message),
    HistorySearch(search::Message),
    Forward(forward::Message),
    /// A search result's conversation is read up to it: show it there.
    Jumped(crate::history::StoredMessage, Result<u32, String>),
    AvatarLoaded(Result<Vec<u8>, ApiError>),
    /// The system's opener answered (an error says why nothing opened).
    Opened(Result<(), String>),
    LogOut,
    Open(ConversationId),
    Chat(chat::Message),
    ChatLoaded(ConversationId, Result<Vec<crate::history::StoredMessage>, String>),
    /// Messages quoted in the open chat, read from the cache.
    QuotesLoaded(ConversationId, Result<Vec<crate::history::StoredMessage>, String>),
    /// The reactions on the open chat's messages, read from the cache.
    ReactionsLoaded(ConversationId, Result<crate::screen::chat::ReactionsBySeq, String>),
    /// A quote was clicked: the conversation is read up to the quoted message `seq`.
    QuoteJumped(ConversationId, i64, Result<u32, String>),
    /// A thumbnail or sticker arrived (by its key in [`Files::pictures`]).
    PictureLoaded(String, Result<Vec<u8>, ApiError>),
    /// The files already on this computer, from the cache.
    SavedFilesLoaded(Result<Vec<(String, std::path::PathBuf)>, String>),
    /// News of the transfer with this key.
    Transfer(String, transfer::Progress),
    /// A file was dropped on the window: offer it to the open chat.
    FileDropped(std::path::PathBuf),
    CloseViewer,
    /// A local picture was decoded (by its key in [`Files::pictures`]), or not.
    Decoded(String, Result<image::Handle, String>),
    /// Save a copy of the picture in the viewer elsewhere.
    SaveCopy(String, String),
    /// The system's file dialog answered, for this purpose.
    Dialog(AttachFor, crate::file_dialog::Answer),
    /// *Remove friend* or *Block* was answered: the friendship ended (the server tells both
    /// sides with `friend_removed`), or not.
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
    /// The clock moved on: expire typing notices, end recall windows.
    Tick(Instant),
    /// In a wide window: fold the side bar away (true) or bring it back.
    CollapseSidebar(bool),
    /// In a narrow window: show the side bar over the chat (true), or the chat again.
    ShowList(bool),
    /// Open the menu of a conversation in the lists (right click), or close it.
    ListMenu(Option<ConversationId>),
    /// Show the archived conversations (true) or fold them away.
    ShowArchived(bool),
    /// Pin, archive or mark unread a conversation, on every device of the user.
    SetPrefs(ConversationId, kith_shared::api::UpdateConversation),
    /// The server took the change (it also tells the user's other devices).
    PrefsSaved(ConversationId, Result<kith_shared::api::ConversationPrefs, ApiError>),
    /// Mark a conversation read without opening it.
    MarkRead(ConversationId),
}

/// What the root must act on.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum Event {
    /// The user logged out.
    LoggedOut,
    /// The user chose *Switch account*: back to the login screen's list, this account staying
    /// signed in.
    SwitchAccount,
    /// The user's own profile changed, here or on another device (or while away).
    UserChanged,
    /// The server ended the session; say why and go back to the login screen.
    SessionEnded {
        title: String,
        body: String,
    },
    SoundChanged(bool),
    NotificationsChanged(bool),
    DarkChanged(bool),
    /// Files were chosen in this folder: the file dialog opens there next time.
    FolderUsed(std::path::PathBuf),
    /// Received files go to this folder from now on.
    DownloadsChanged(std::path::PathBuf),
    /// The user chose the interface's language.
    LanguageChanged(crate::i18n::Language),
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

/// Loads the server's emoji set, cached in the server's folder beside the history.
fn load_emoji(session: &Session, history_path: Option<&std::path::Path>) -> Task<Message> {
    let api = session.api.clone();
    // history.db sits in <server>/<user>/: the emoji are the server's, shared by its users.
    let cache = history_path.and_then(|p| p.parent()?.parent()).map(crate::emoji::cache_folder);
    Task::perform(crate::emoji::load(api, cache), Message::EmojiLoaded)
}

impl Home {
    /// The main window for a fresh session, with the tasks that load its avatar and history.
    pub fn new(login: LoggedIn, history_path: Option<std::path::PathBuf>) -> (Self, Task<Message>) {
        let (session, open) = Session::new(login, history_path.clone());
        let home = Self::with(session, history_path.as_deref());
        let tasks = [
            open.map(Message::Session),
            load_emoji(&home.session, history_path.as_deref()),
            home.load_avatar(),
        ];
        (home, Task::batch(tasks))
    }

    /// Where received files go (`downloads`) and where files were chosen last, from the
    /// settings; the downloads that an earlier run left unfinished there are cleared away.
    pub fn set_folders(
        &mut self,
        downloads: Option<std::path::PathBuf>,
        last_folder: Option<std::path::PathBuf>,
    ) -> Task<Message> {
        self.files.folder.clone_from(&downloads);
        self.files.last_folder = last_folder;
        let Some(folder) = downloads else { return Task::none() };
        let session_start = std::time::SystemTime::now();
        Task::future(transfer::remove_leftovers(folder, session_start)).discard()
    }

    /// The main window without the server: the lists as last seen, chats read from the cache.
    pub fn offline(offline: login::Offline) -> (Self, Task<Message>) {
        let history_path = offline.history_path.clone();
        let (session, open) = Session::offline(offline);
        let home = Self::with(session, Some(&history_path));
        let emoji = load_emoji(&home.session, Some(&history_path));
        (home, Task::batch([open.map(Message::Session), emoji]))
    }

    fn with(session: Session, history_path: Option<&std::path::Path>) -> Self {
        Self {
            session,
            avatar: None,
            panel: None,
            chat: None,
            notice: None,
            files: Files { thumbnails: history_path.and_then(files::thumbnails_beside), ..Files::default() },
            emoji: None,
            history_path: history_path.map(std::path::Path::to_path_buf),
            viewer: None,
            reopen: None,
            sidebar_collapsed: false,
            list_shown: false,
            list_menu: None,
            show_archived: false,
        }
    }

    pub fn user(&self) -> &UserProfile {
        &self.session.user
    }

    /// This server and user, as settings remember things per account: `<host_port>/<user_id>`.
    pub fn place(&self) -> String {
        format!("{}/{}", self.session.address.folder_name(), self.session.user.id)
    }

    fn load_avatar(&self) -> Task<Message> {
        match &self.session.user.avatar_url {
            Some(path) => {
                let api = self.session.api.clone();
                let path = path.clone();
                Task::perform(async move { api.avatar(&path).await }, Message::AvatarLoaded)
            }
            None => Task::none(),
        }
    }

    /// A socket event for this session.
    pub fn socket(&mut self, event: socket::Event) -> (Task<Message>, Option<Event>) {
        let (task, events) = self.session.socket(event);
        if let Some(chat) = &mut self.chat {
            chat.limits = self.session.limits;
        }
        self.after_session(task, events)
    }

    /// Runs the session's task and acts on what it reports.
    fn after_session(
        &mut self,
        task: Task<session::Message>,
        events: Vec<session::Event>,
    ) -> (Task<Message>, Option<Event>) {
        let mut tasks = vec![task.map(Message::Session)];
        let mut out = None;
        for event in events {
            let (task, event) = self.session_event(event);
            tasks.push(task);
            out = out.or(event);
        }
        (Task::batch(tasks), out)
    }

    /// What the window does about news from the session.
    fn session_event(&mut self, event: session::Event) -> (Task<Message>, Option<Event>) {
        use session::Event as E;
        match event {
            E::Changed(conversation) => {
                if self.chat.as_ref().is_some_and(|chat| chat.conversation_id == conversation) {
                    return (self.load_chat(conversation), None);
                }
            }
            E::CacheOpened => {
                let Some(history) = self.session.history().cloned() else { return (Task::none(), None) };
                let saved = Task::perform(
                    async move { history.saved_files().await.map_err(|e| e.to_string()) },
                    Message::SavedFilesLoaded,
                );
                // A chat opened while the cache was opening shows what the cache holds now.
                let open = self.chat.as_ref().map(|chat| chat.conversation_id);
                return (Task::batch([saved, open.map_or_else(Task::none, |id| self.load_chat(id))]), None);
            }
            E::ListsArrived => return (self.reopen_last(), None),
            E::PeopleChanged => return (self.fetch_avatars(), None),
            E::UserChanged { picture } => {
                let task = if picture {
                    self.avatar = None;
                    self.load_avatar()
                } else {
                    Task::none()
                };
                // The login screen's list of accounts shows the user's name as it is now.
                return (task, Some(Event::UserChanged));
            }
            E::Arrived(message) => {
                if let Some(chat) = &mut self.chat {
                    chat.arrived(&message);
                }
                return (self.auto_download(&message), None);
            }
            E::Alert { title, body, conversation } => {
                let on_screen = match conversation {
                    Some(conversation) => {
                        self.session.roster.open == Some(conversation) && self.panel.is_none()
                    }
                    None => matches!(self.panel, Some(Panel::Requests)),
                };
                return (Task::none(), Some(Event::Alert { title, body, on_screen }));
            }
            E::Problem(words) => {
                if let Some(chat) = &mut self.chat {
                    chat.error = Some(words);
                }
            }
            E::Unfriended(conversation) => {
                // No longer friends: their chat closes (its history stays in the cache).
                if self.chat.as_ref().is_some_and(|chat| chat.conversation_id == conversation) {
                    self.chat = None;
                }
            }
            E::GroupUpdated(group) => {
                // Open group settings show another admin's change instead of saving over it.
                if let Some(Panel::GroupAdmin(panel)) = &mut self.panel
                    && panel.group == group.id
                {
                    panel.follow(&group);
                }
                // A new picture is fetched (a removed one simply is no longer asked for).
                return (self.fetch_avatars(), None);
            }
            E::GroupLeft { group_id, notice } => {
                if notice.is_some() {
                    self.notice = notice;
                }
                // Left, removed or dissolved: its chat and settings close.
                if self.chat.as_ref().is_some_and(|chat| chat.conversation_id == group_id) {
                    self.chat = None;
                }
                if matches!(&self.panel, Some(Panel::GroupAdmin(panel)) if panel.group == group_id) {
                    self.panel = None;
                }
            }
            E::Notice(words) => self.notice = Some(words),
            E::Ended { title, body } => return (Task::none(), Some(Event::SessionEnded { title, body })),
            E::LoggedOut => return (Task::none(), Some(Event::LoggedOut)),
        }
        (Task::none(), None)
    }

    /// A failed request: the session ends when the server no longer takes its token.
    fn failed(&mut self, err: &ApiError) -> Option<Event> {
        match session::session_over(err)? {
            session::Event::Ended { title, body } => Some(Event::SessionEnded { title, body }),
            _ => None,
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

    fn handle(&mut self, message: Message) -> (Task<Message>, Option<Event>) {
        match message {
            Message::Session(message) => {
                let (task, events) = self.session.update(message);
                return self.after_session(task, events);
            }
            Message::CollapseSidebar(collapsed) => self.sidebar_collapsed = collapsed,
            Message::ShowList(shown) => self.list_shown = shown,
            Message::AvatarLoaded(Ok(bytes)) => self.avatar = Some(image::Handle::from_bytes(bytes)),
            Message::AvatarLoaded(Err(err)) => tracing::warn!(%err, "cannot load the avatar"),
            Message::BrowseOffline => return (Task::none(), Some(Event::BrowseOffline)),
            Message::LogOut => {
                let (task, events) = self.session.log_out();
                return self.after_session(task, events);
            }
            Message::EmojiLoaded(Ok(set)) => self.emoji = Some(set),
            Message::EmojiLoaded(Err(err)) => tracing::warn!(%err, "no emoji set: emoji show as text"),
            Message::Opened(Ok(())) => {}
            Message::Opened(Err(why)) => match &mut self.chat {
                Some(chat) => chat.error = Some(why),
                None => self.notice = Some(why),
            },
            Message::ReconnectNow => self.session.reconnect_now(),
            Message::Escape => {
                if self.viewer.is_some() {
                    self.close_viewer();
                } else if self.panel.is_some() {
                    self.panel = None;
                } else if let Some(chat) = &mut self.chat {
                    chat.update(chat::Message::ClosePanels);
                }
            }
            Message::Tick(now) => self.tick(now),
            Message::OpenProfile
            | Message::OpenSettings
            | Message::OpenRequests
            | Message::OpenAddFriend
            | Message::OpenCreateGroup
            | Message::OpenJoinGroup
            | Message::OpenSearch
            | Message::Profile(_)
            | Message::Settings(_)
            | Message::Requests(_)
            | Message::AddFriend(_)
            | Message::Groups(_)
            | Message::GroupAdmin(_)
            | Message::Attach(_)
            | Message::HistorySearch(_)
            | Message::Forward(_) => return self.panel_message(message),
            Message::Open(_)
            | Message::Chat(_)
            | Message::ChatLoaded(..)
            | Message::QuotesLoaded(..)
            | Message::ReactionsLoaded(..)
            | Message::QuoteJumped(..)
            | Message::Jumped(..)
            | Message::Unfriended(_) => return self.chat_message(message),
            Message::PictureLoaded(..)
            | Message::SavedFilesLoaded(_)
            | Message::Transfer(..)
            | Message::FileDropped(_)
            | Message::Decoded(..)
            | Message::Copied(_) => return (self.media_message(message), None),
            Message::ListMenu(_)
            | Message::ShowArchived(_)
            | Message::SetPrefs(..)
            | Message::PrefsSaved(..)
            | Message::MarkRead(_) => return (self.list_message(message), None),
            Message::CloseViewer => self.close_viewer(),
            Message::SaveCopy(upload_id, name) => return (self.save_copy(upload_id, name), None),
            Message::Dialog(purpose, answer) => return self.dialog_answered(purpose, answer),
        }
        (Task::none(), None)
    }

    /// Expires typing notices and moves the chat's clock on.
    pub fn tick(&mut self, now: Instant) {
        self.session.tick(now);
        if let Some(chat) = &mut self.chat {
            chat.now_ms = crate::clock::now_ms();
        }
    }

    /// Whether the view changes with time alone: someone is typing, or a recall button
    /// is yet to expire.
    pub fn needs_clock(&self) -> bool {
        !self.session.typing.is_empty() || self.chat.as_ref().is_some_and(Chat::has_recallable)
    }

    /// Whether a drag selecting text in the open chat is held past its log's view (the log
    /// scrolls on a clock then).
    pub fn scrolls_selection(&self) -> bool {
        self.chat.as_ref().is_some_and(|chat| chat.selecting_past_edge.is_some())
    }

    /// "Bob is typing…" for a conversation, when someone is.
    pub fn typing_line(&self, conversation: ConversationId) -> Option<String> {
        self.session.typing_line(conversation)
    }

    /// Sends to a conversation; why it cannot go shows in its chat.
    fn send(&mut self, conversation: ConversationId, content: Content) -> Task<Message> {
        match self.session.send(conversation, content) {
            Ok(task) => task.map(Message::Session),
            Err(words) => {
                if let Some(chat) = self.chat.as_mut().filter(|chat| chat.conversation_id == conversation) {
                    chat.error = Some(words);
                }
                Task::none()
            }
        }
    }

    pub fn view<'a>(&'a self, settings: &'a Settings) -> Element<'a, Message> {
        let window = iced::widget::responsive(move |size| self.layout(size, settings));
        let viewer = self.viewer.as_ref().map(|(upload_id, name)| self.viewer_view(upload_id, name));
        widget::overlay(window, viewer, Some(Message::CloseViewer))
    }

    /// The chat or the open panel, `width` wide.
    fn main_view<'a>(&'a self, settings: &'a Settings, width: f32) -> Element<'a, Message> {
        if let Some(panel) = &self.panel {
            return self.panel_view(panel, settings);
        }
        match &self.chat {
            Some(chat) => chat
                .view(
                    &self.session.roster,
                    self.typing_line(chat.conversation_id),
                    &self.files,
                    self.emoji.as_ref(),
                    width,
                )
                .map(Message::Chat),
            None => container(text(t!("home-choose-chat")).size(16).style(text::secondary))
                .center(Length::Fill)
                .into(),
        }
    }

    /// The window at `size`: the side bar beside the chat or panel when there is room, else
    /// one of them at a time. The main pane keeps its place in the widget tree either way,
    /// so the chat keeps its scroll position while the side bar comes and goes.
    fn layout<'a>(&'a self, size: iced::Size, settings: &'a Settings) -> Element<'a, Message> {
        let narrow = size.width < NARROW;
        let open = self.panel.is_some() || self.chat.is_some();
        let beside = !narrow && !self.sidebar_collapsed;
        let over = narrow && (self.list_shown || !open);
        let side_width = if beside { sidebar::SIDEBAR_WIDTH } else { 0.0 };
        let main_width = (size.width - side_width - 2.0 * MAIN_PADDING).max(0.0);
        let main = self.main_view(settings, main_width);
        // Without the side bar in view, a button brings it back.
        let bring_back: Element<'a, Message> = if beside {
            iced::widget::space().height(0).into()
        } else {
            let message = if narrow { Message::ShowList(true) } else { Message::CollapseSidebar(false) };
            iced::widget::button(text(t!("home-chats")).size(13))
                .style(iced::widget::button::secondary)
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
            self.sidebar(Length::Fixed(sidebar::SIDEBAR_WIDTH), Some(Message::CollapseSidebar(true)))
        } else {
            iced::widget::space().width(0).into()
        };
        row![side, pane].into()
    }
}

#[cfg(test)]
pub(crate) mod tests;

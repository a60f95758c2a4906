//! Keeping the cache and the roster in step with the server: messages pushed live, the
//! history fetched after a gap or a reconnect, the lists, member lists and receipts, and the
//! lists' one-line previews read back from the cache.

use super::{Message, Session};
use crate::api::Api;
use crate::history::{History, HistoryError, StoredMessage};
use crate::offline::Snapshot;
use crate::roster::List;
use iced::Task;
use kith_shared::api::{ConversationId, ConversationKind, HistoryPage, HistoryQuery, MyGroup};
use kith_shared::frame::{ChatMessage, Content, Target};

impl Session {
    /// Runs a cache operation, then reports the conversation changed.
    pub(super) fn with_history<F, Fut>(&self, conversation: ConversationId, op: F) -> Task<Message>
    where
        F: FnOnce(History) -> Fut,
        Fut: Future<Output = Result<(), HistoryError>> + Send + 'static,
    {
        let Some(history) = self.history().cloned() else { return Task::none() };
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

    /// Notes in the cache where a file of a conversation is on this computer.
    pub fn record_file(
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

    /// Stores a pushed message; a gap before it is filled from the server.
    pub(super) fn store_live(&self, message: ChatMessage) -> Task<Message> {
        let api = self.api.clone();
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

    /// Fetches what the cache lacks of a conversation, up to `last_seq`.
    pub(super) fn catch_up(&self, conversation: ConversationId, last_seq: i64) -> Task<Message> {
        let Some(history) = self.history().cloned() else { return Task::none() };
        let api = self.api.clone();
        let floor = self.floor(conversation);
        let hidden = self.roster.conversations.get(&conversation).map_or(0, |c| c.hidden);
        Task::perform(catch_up(api, history, conversation, floor, last_seq, hidden), move |result| {
            Message::CaughtUp(conversation, result)
        })
    }

    /// Reads from the cache the unread messages of a group that mention the user (those
    /// that came while away, say).
    pub(super) fn find_mentions(&self, conversation: ConversationId) -> Task<Message> {
        let Some(history) = self.history().cloned() else { return Task::none() };
        let Some(state) = self.roster.conversations.get(&conversation) else { return Task::none() };
        if !self.roster.groups.contains_key(&conversation) && state.kind != Some(ConversationKind::Group) {
            return Task::none();
        }
        let (read_seq, me) = (state.read_seq, self.roster.me);
        Task::perform(
            async move { history.mentions_after(conversation, read_seq, me).await.map_err(|e| e.to_string()) },
            move |result| Message::MentionsFound(conversation, result),
        )
    }

    /// The sequence number before which the user sees no history of a conversation.
    fn floor(&self, conversation: ConversationId) -> i64 {
        self.roster.conversations.get(&conversation).map_or(0, |c| c.joined_seq)
    }

    /// Reads the messages left unsent, to send them again.
    pub(super) fn resend_pending(&self) -> Task<Message> {
        let Some(history) = self.history().cloned() else { return Task::none() };
        Task::perform(async move { history.pending().await.map_err(|e| e.to_string()) }, Message::Resend)
    }

    /// Fetches the friend and group lists, the pending requests and the block list; what
    /// frames change in them meanwhile is applied again onto the answers.
    pub(super) fn load_lists(&mut self) -> Task<Message> {
        for list in [List::Friends, List::Groups, List::Requests, List::Blocked] {
            self.roster.fetch_started(list);
        }
        let (friends, groups, requests) = (self.api.clone(), self.api.clone(), self.api.clone());
        let blocks = self.api.clone();
        Task::batch([
            Task::perform(async move { friends.friends().await }, Message::FriendsLoaded),
            Task::perform(async move { groups.groups().await }, Message::GroupsLoaded),
            Task::perform(async move { requests.friend_requests().await }, Message::RequestsLoaded),
            Task::perform(async move { blocks.blocks().await }, Message::BlocksLoaded),
        ])
    }

    /// Fetches a group's member list (nothing for one-to-one chats). A group is known as one
    /// from `sync_state` before the group list has arrived (a chat reopened at login).
    pub fn load_members(&self, conversation: ConversationId) -> Task<Message> {
        if !matches!(self.roster.target(conversation), Some(Target::Group { .. })) {
            return Task::none();
        }
        let api = self.api.clone();
        Task::perform(async move { api.group(conversation).members().await }, move |result| {
            Message::MembersLoaded(conversation, result)
        })
    }

    /// Fetches the other members' delivered and read cursors of a conversation.
    pub(super) fn load_receipts(&self, conversation: ConversationId) -> Task<Message> {
        let api = self.api.clone();
        Task::perform(async move { api.conversation(conversation).receipts().await }, move |result| {
            Message::ReceiptsLoaded(conversation, result)
        })
    }

    /// Reads the latest message of one conversation (or of all) for the lists' previews.
    pub(super) fn load_previews(&self, conversation: Option<ConversationId>) -> Task<Message> {
        let Some(history) = self.history().cloned() else { return Task::none() };
        Task::perform(
            async move { history.latest(conversation).await.map_err(|e| e.to_string()) },
            Message::PreviewsLoaded,
        )
    }

    /// One line about a message for the lists: who said what, or what happened.
    pub(super) fn preview(&self, message: &StoredMessage) -> String {
        use crate::screen::chat;
        let what = match &message.content {
            Content::Text { text, .. } => {
                text.lines().find(|line| !line.trim().is_empty()).unwrap_or("").trim().to_owned()
            }
            attachment @ (Content::Image { .. } | Content::File { .. } | Content::Sticker { .. }) => {
                chat::attachment_words(attachment).unwrap_or_default()
            }
            Content::Recalled { by: None } => return t!("log-recalled"),
            Content::Recalled { by: Some(_) } => return t!("preview-deleted"),
            Content::Notice { notice } => return chat::describe_notice(notice),
            Content::Recall { .. } => return String::new(),
        };
        let who = match message.sender_id {
            Some(id) if id == self.roster.me => Some(t!("you-capital")),
            Some(id) if self.roster.groups.contains_key(&message.conversation_id) => {
                Some(self.roster.name_or_id(id))
            }
            _ => None,
        };
        match who {
            Some(who) => t!("preview-line", who = who, what = what),
            None => what,
        }
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
        let snapshot = Snapshot { user: self.user.clone(), friends, groups, members, titles };
        if let Err(err) = snapshot.save(&path) {
            tracing::warn!(%err, "cannot keep the lists for offline browsing");
        }
    }
}

/// Fetches what the cache lacks of a conversation when the server has messages up to
/// `last_seq` and counts `hidden` of them deleted by the user; answers the cache's cursor
/// afterwards (the newest message it holds in a row). The deleted ones go first, so that the
/// cursor runs past them.
pub async fn catch_up(
    api: Api,
    history: History,
    conversation: ConversationId,
    floor: i64,
    last_seq: i64,
    hidden: u64,
) -> Result<i64, String> {
    if hidden > history.hidden_count(conversation).await.map_err(|e| e.to_string())? {
        let list = api.conversation(conversation).hidden().await.map_err(|e| e.to_string())?;
        history.hide(conversation, &list.seqs).await.map_err(|e| e.to_string())?;
    }
    if history.cursor(conversation, floor).await.map_err(|e| e.to_string())? < last_seq {
        fetch_after(&api, &history, conversation, floor).await?;
    }
    history.cursor(conversation, floor).await.map_err(|e| e.to_string())
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
        let page: HistoryPage =
            api.conversation(conversation).messages(&query).await.map_err(|e| e.to_string())?;
        for message in &page.messages {
            history.store(message).await.map_err(|e| e.to_string())?;
            cursor = cursor.max(message.seq);
        }
        if !page.more || page.messages.is_empty() {
            return Ok(());
        }
    }
}

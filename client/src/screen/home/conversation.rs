//! The open chat inside the main window: opening a conversation (from the lists, a search
//! result or the last session), reading its messages from the cache, and acting on what the
//! chat asks for.

use super::{AttachFor, Event, Home, Message, Panel};
use crate::files;
use crate::mentions;
use crate::screen::chat::{self, Chat};
use crate::screen::forward::Forward;
use crate::screen::group_admin::GroupAdmin;
use iced::Task;
use iced::widget::operation;
use kith_shared::ClientFrame;
use kith_shared::api::ConversationId;
use kith_shared::frame::Target;

impl Home {
    /// Messages about the open chat.
    pub(super) fn chat_message(&mut self, message: Message) -> (Task<Message>, Option<Event>) {
        match message {
            Message::Open(conversation) => return self.open(conversation),
            Message::Chat(message) => return (self.chat_event(message), None),
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
                    let fetch = Task::batch([self.fetch_pictures(), self.load_quotes()]);
                    if start {
                        return (Task::batch([fetch, chat::scroll_to_first_unread()]), None);
                    }
                    return (fetch, None);
                }
            }
            Message::ChatLoaded(_, Err(err)) => {
                tracing::warn!(%err, "cannot read the local history");
                if let Some(chat) = &mut self.chat {
                    // Scrolling up may ask again.
                    chat.loading_older = false;
                }
            }
            Message::QuotesLoaded(conversation, Ok(quoted)) => {
                if let Some(chat) = self.chat.as_mut().filter(|chat| chat.conversation_id == conversation) {
                    chat.quoted = quoted.into_iter().filter_map(|m| Some((m.seq?, m))).collect();
                }
            }
            Message::QuotesLoaded(_, Err(err)) => tracing::warn!(%err, "cannot read quoted messages"),
            Message::ReactionsLoaded(conversation, Ok(reactions)) => {
                if let Some(chat) = self.chat.as_mut().filter(|chat| chat.conversation_id == conversation) {
                    chat.reactions = reactions;
                }
            }
            Message::ReactionsLoaded(_, Err(err)) => tracing::warn!(%err, "cannot read reactions"),
            Message::QuoteJumped(conversation, seq, Ok(count)) => {
                if let Some(chat) = self.chat.as_mut().filter(|chat| chat.conversation_id == conversation) {
                    // Read enough of the newest messages to hold the quoted one and some before.
                    chat.show_around(seq, count.saturating_add(chat::PAGE / 2));
                    let newest = operation::snap_to(chat::id::LOG, operation::RelativeOffset::START);
                    return (Task::batch([newest, self.load_chat(conversation)]), None);
                }
            }
            Message::QuoteJumped(_, _, Err(err)) => tracing::warn!(%err, "cannot find the quoted message"),
            Message::Jumped(found, result) => {
                let (open, event) = self.open(found.conversation_id);
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
            Message::Unfriended(Ok(())) => {}
            Message::Unfriended(Err(err)) => {
                if let Some(chat) = &mut self.chat {
                    chat.error = Some(err.plain());
                }
                return (Task::none(), self.failed(&err));
            }
            _ => {}
        }
        (Task::none(), None)
    }

    /// Opens a conversation: read now, shown from the cache, the rest fetched.
    fn open(&mut self, conversation: ConversationId) -> (Task<Message>, Option<Event>) {
        // How far the user had read, before opening marks everything read.
        let known = self
            .session
            .roster
            .conversations
            .get(&conversation)
            .map(|c| (c.read_seq, c.last_seq, c.unread > 0));
        // Taken before opening reads them.
        let mentions = self.session.roster.unread_mentions(conversation);
        let fetch = self.session.open(Some(conversation)).map(Message::Session);
        self.list_menu = None;
        // Marked unread to come back to: now it is read, on every device.
        let unmark = if self.session.roster.prefs(conversation).marked_unread && !self.session.is_offline() {
            let change =
                kith_shared::api::UpdateConversation { marked_unread: Some(false), ..Default::default() };
            self.set_prefs(conversation, change)
        } else {
            Task::none()
        };
        let mut chat = Chat::new(conversation, self.session.user.id);
        // The emoji panel's tab and choices go from chat to chat; read at the first one.
        match self.chat.take() {
            Some(previous) => {
                chat.picker = previous.picker;
                chat.hidden_announcements = previous.hidden_announcements;
            }
            None => {
                chat.picker = chat::Picker::load(self.history_path.as_deref());
                chat.hidden_announcements = chat::HiddenAnnouncements::load(self.history_path.as_deref());
            }
        }
        if let Some((read_seq, last_seq, unread)) = known {
            chat.opened_after(read_seq, last_seq, unread);
        }
        chat.mentions = mentions;
        let offline = self.session.is_offline();
        chat.read_only = offline;
        chat.limits = self.session.limits;
        self.chat = Some(chat);
        self.panel = None;
        // The log starts at the newest message, not where the previous chat was left (one
        // log widget serves every chat); `ChatLoaded` may move it to the unread.
        let newest = operation::snap_to(chat::id::LOG, operation::RelativeOffset::START);
        if offline {
            return (Task::batch([newest, self.load_chat(conversation)]), None);
        }
        let focus = operation::focus(chat::id::COMPOSER);
        let tasks = [newest, self.load_chat(conversation), fetch, focus, unmark];
        (Task::batch(tasks), Some(Event::ChatOpened(conversation)))
    }

    /// What the open chat asks for.
    fn chat_event(&mut self, message: chat::Message) -> Task<Message> {
        let Some(chat) = &mut self.chat else { return Task::none() };
        let conversation_id = chat.conversation_id;
        match chat.update(message) {
            Some(chat::Event::Send(text)) => {
                let content = mentions::text_content(&self.session.roster, conversation_id, text, None);
                self.send(conversation_id, content)
            }
            Some(chat::Event::Reply { text, reply_to, files }) => {
                self.forget_previews();
                let reply =
                    mentions::text_content(&self.session.roster, conversation_id, text, Some(reply_to));
                let mut tasks = vec![self.send(conversation_id, reply)];
                tasks.extend(files.into_iter().map(|path| self.upload(path)));
                Task::batch(tasks)
            }
            Some(chat::Event::Edit { seq, text }) => match self.session.edit(conversation_id, seq, text) {
                Ok(task) => task.map(Message::Session),
                Err(words) => {
                    if let Some(chat) = &mut self.chat {
                        chat.error = Some(words);
                    }
                    Task::none()
                }
            },
            Some(chat::Event::React { seq, emoji, on }) => {
                match self.session.react(conversation_id, seq, emoji, on) {
                    Ok(task) => task.map(Message::Session),
                    Err(words) => {
                        if let Some(chat) = &mut self.chat {
                            chat.error = Some(words);
                        }
                        Task::none()
                    }
                }
            }
            Some(chat::Event::JumpTo(seq)) => {
                let Some(history) = self.session.history().cloned() else { return Task::none() };
                Task::perform(
                    async move { history.count_from(conversation_id, seq).await.map_err(|e| e.to_string()) },
                    move |result| Message::QuoteJumped(conversation_id, seq, result),
                )
            }
            Some(chat::Event::FocusComposer) => operation::focus(chat::id::COMPOSER),
            Some(chat::Event::Download { upload_id, name }) => self.download(upload_id, name),
            Some(chat::Event::SaveAs { upload_id, name }) => self.save_copy(upload_id, name),
            Some(chat::Event::CancelTransfer(key)) => {
                if let Some(transfer) = self.files.transfers.get(&key) {
                    transfer.cancel.cancel();
                }
                Task::none()
            }
            Some(chat::Event::OpenFile(path)) | Some(chat::Event::ShowInFolder(path)) => {
                Task::perform(files::open_in_system(path), Message::Opened)
            }
            Some(chat::Event::SendWithFiles(text, paths)) => {
                self.forget_previews();
                let content = mentions::text_content(&self.session.roster, conversation_id, text, None);
                let mut tasks = vec![self.send(conversation_id, content)];
                tasks.extend(paths.into_iter().map(|path| self.upload(path)));
                Task::batch(tasks)
            }
            Some(chat::Event::SendFiles(paths)) => {
                self.forget_previews();
                let uploads: Vec<_> = paths.into_iter().map(|path| self.upload(path)).collect();
                Task::batch(uploads)
            }
            Some(chat::Event::ViewImage { upload_id, name }) => self.view_image(upload_id, name),
            Some(chat::Event::Attach) => self.choose(AttachFor::Chat),
            Some(chat::Event::Unfriend) => {
                let Some(Target::User { id }) = self.session.roster.target(conversation_id) else {
                    return Task::none();
                };
                let api = self.session.api.clone();
                Task::perform(async move { api.remove_friend(id).await }, Message::Unfriended)
            }
            Some(chat::Event::Block) => {
                let Some(Target::User { id }) = self.session.roster.target(conversation_id) else {
                    return Task::none();
                };
                let api = self.session.api.clone();
                Task::perform(async move { api.block(id).await }, Message::Unfriended)
            }
            Some(chat::Event::ManageGroup) => {
                self.panel = Some(Panel::GroupAdmin(GroupAdmin::new(conversation_id, &self.session.roster)));
                self.session.load_members(conversation_id).map(Message::Session)
            }
            Some(chat::Event::Typing) => {
                self.session.send_frame(ClientFrame::Typing { conversation_id });
                Task::none()
            }
            Some(chat::Event::Recall(seq)) => {
                self.session.send_frame(ClientFrame::Recall { conversation_id, seq });
                Task::none()
            }
            Some(chat::Event::Hide(_) | chat::Event::DeleteForEveryone(_))
                if self.session.connection.is_none() =>
            {
                if let Some(chat) = &mut self.chat {
                    chat.error = Some(t!("delete-offline"));
                }
                Task::none()
            }
            Some(chat::Event::Hide(seqs)) => {
                self.session.send_frame(ClientFrame::Hide { conversation_id, seqs });
                Task::none()
            }
            Some(chat::Event::DeleteForEveryone(seq)) => {
                self.session.send_frame(ClientFrame::Delete { conversation_id, seq });
                Task::none()
            }
            Some(chat::Event::Forward(seqs)) => {
                let (panel, focus) = Forward::new(conversation_id, seqs);
                self.panel = Some(Panel::Forward(panel));
                focus.map(Message::Forward)
            }
            Some(chat::Event::LoadOlder) => self.load_chat(conversation_id),
            Some(chat::Event::Copy(text)) => iced::clipboard::write(text),
            Some(chat::Event::ScrollToNewest) => {
                operation::snap_to(chat::id::LOG, operation::RelativeOffset::START)
            }
            // (The log counts its offset from the newest message: up is more.)
            Some(chat::Event::ScrollLog(down)) => {
                operation::scroll_by(chat::id::LOG, operation::AbsoluteOffset { x: 0.0, y: -down as f32 })
            }
            // Pasted files may wait above the composer now, or one was taken back.
            None => {
                self.forget_previews();
                self.preview_staged()
            }
        }
    }

    /// Reads from the cache the messages that replies in the open chat quote and that it
    /// does not hold (older than those read).
    fn load_quotes(&self) -> Task<Message> {
        let (Some(history), Some(chat)) = (self.session.history().cloned(), &self.chat) else {
            return Task::none();
        };
        let missing = chat.missing_quotes();
        if missing.is_empty() {
            return Task::none();
        }
        let conversation = chat.conversation_id;
        Task::perform(
            async move { history.messages_at(conversation, &missing).await.map_err(|e| e.to_string()) },
            move |r| Message::QuotesLoaded(conversation, r),
        )
    }

    /// Reads the open conversation's newest messages (as many as the chat asks for).
    pub(super) fn load_chat(&self, conversation: ConversationId) -> Task<Message> {
        let Some(history) = self.session.history().cloned() else { return Task::none() };
        let limit = self
            .chat
            .as_ref()
            .filter(|chat| chat.conversation_id == conversation)
            .map_or(chat::PAGE, |chat| chat.limit);
        let reactions = history.clone();
        Task::batch([
            Task::perform(
                async move { history.recent(conversation, limit).await.map_err(|e| e.to_string()) },
                move |r| Message::ChatLoaded(conversation, r),
            ),
            // Those of the whole conversation: the few rows of its reactions, read at once.
            Task::perform(
                async move { reactions.reactions(conversation, 0).await.map_err(|e| e.to_string()) },
                move |r| Message::ReactionsLoaded(conversation, r),
            ),
        ])
    }

    /// Opens the chat the user left open last time, once it is known to the lists.
    pub(super) fn reopen_last(&mut self) -> Task<Message> {
        let Some(conversation) = self.reopen else { return Task::none() };
        if self.chat.is_some() || self.panel.is_some() {
            self.reopen = None;
            return Task::none();
        }
        if self.session.roster.target(conversation).is_none() {
            // Perhaps in the other list, still on its way.
            return Task::none();
        }
        self.reopen = None;
        self.update(Message::Open(conversation)).0
    }

    /// A panel that covered the chat closed: the chat's log was made afresh, at the newest
    /// message; while the user was reading above, it goes back where they were.
    pub(super) fn uncovered(&mut self, covered: bool) -> Task<Message> {
        if !covered || self.panel.is_some() {
            return Task::none();
        }
        let Some(chat) = self.chat.as_mut().filter(|chat| chat.hold_after.is_some()) else {
            return Task::none();
        };
        chat.restoring = true;
        let back = operation::AbsoluteOffset { x: None, y: Some(chat.from_bottom) };
        operation::scroll_to(chat::id::LOG, back).chain(Task::done(Message::Chat(chat::Message::Restored)))
    }

    /// Closes the chat (its friendship or membership ended).
    pub(super) fn close_chat(&mut self) {
        self.chat = None;
        let _ = self.session.open(None);
    }
}

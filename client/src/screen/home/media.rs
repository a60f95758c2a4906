//! Pictures and files in the main window: thumbnails, stickers and avatars fetched, pictures
//! from this computer decoded, uploads and downloads started and followed, files saved
//! unasked when small, and where each file is on this computer noted in the cache.

use super::{Home, Message, Panel};
use crate::files::{self, Files, Picture};
use crate::screen::groups;
use crate::transfer;
use iced::Task;
use kith_shared::api::ConversationId;
use kith_shared::frame::{ChatMessage, Content};

impl Home {
    /// Messages about pictures and files.
    pub(super) fn media_message(&mut self, message: Message) -> Task<Message> {
        match message {
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
                    return self.decode_local(path, files::THUMBNAIL_SIDE);
                }
            }
            Message::SavedFilesLoaded(Ok(saved)) => {
                self.files.saved.extend(saved);
                // The open chat's pictures that are saved here are drawn from their copies.
                return self.fetch_pictures();
            }
            Message::SavedFilesLoaded(Err(err)) => tracing::warn!(%err, "cannot read the saved files"),
            Message::Transfer(key, progress) => return self.transfer(key, progress),
            Message::FileDropped(path) => {
                // Shown above the composer first (pictures previewed); Send uploads them.
                if let Some(chat) = &mut self.chat {
                    chat.stage(path);
                }
                return self.preview_staged();
            }
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
            Message::Copied(result) => {
                if let Some(chat) = &mut self.chat {
                    match result {
                        Ok(path) => {
                            chat.info = Some(t!("media-copy-saved", path = path.display().to_string()))
                        }
                        Err(err) => chat.error = Some(err),
                    }
                }
            }
            _ => {}
        }
        Task::none()
    }

    /// Fetches the avatar pictures of friends, group members, the user's groups and the
    /// groups found in a search, not fetched yet.
    pub(super) fn fetch_avatars(&mut self) -> Task<Message> {
        if self.session.is_offline() {
            return Task::none();
        }
        let roster = &self.session.roster;
        let friends = roster.friends.values().map(|f| &f.user);
        let members = roster.members.values().flatten().map(|m| &m.user);
        let people = friends.chain(members).map(|user| &user.avatar_url);
        let found = match &self.panel {
            Some(Panel::Groups(groups::Panel::Join(search))) => search.results.as_slice(),
            _ => &[],
        };
        let groups = roster.groups.values().map(|g| &g.group).chain(found).map(|group| &group.avatar_url);
        let mut wanted: Vec<String> = people.chain(groups).flatten().cloned().collect();
        wanted.sort();
        wanted.dedup();
        wanted.retain(|url| !self.files.pictures.contains_key(&Files::avatar_key(url)));
        let tasks: Vec<_> = wanted
            .into_iter()
            .map(|url| {
                let key = Files::avatar_key(&url);
                self.files.pictures.insert(key.clone(), Picture::Loading);
                let api = self.session.api.clone();
                Task::perform(async move { api.avatar(&url).await }, move |result| {
                    Message::PictureLoaded(key.clone(), result)
                })
            })
            .collect();
        Task::batch(tasks)
    }

    /// Shows the pictures of the open chat that are not here yet: images from their copies
    /// saved on this computer first (offline too), else the server's thumbnails (kept on
    /// this computer once fetched); stickers from the server.
    pub(super) fn fetch_pictures(&mut self) -> Task<Message> {
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
                    wanted.push((Files::sticker_key(code), Some(format!("{code}.png"))));
                }
                _ => {}
            }
        }
        let mut tasks: Vec<_> =
            saved.into_iter().map(|path| self.decode_local(path, files::THUMBNAIL_SIDE)).collect();
        let cache = self.files.thumbnails_folder();
        if self.session.is_offline() {
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
                Some(image) => Task::perform(async move { api.emoji_picture(&image).await }, done),
                None => Task::perform(files::thumbnail(api, key, cache.clone()), done),
            });
        }
        Task::batch(tasks)
    }

    /// Starts saving a received file into the files folder.
    pub(super) fn download(&mut self, upload_id: String, name: String) -> Task<Message> {
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
                chat.error = Some(t!("media-no-data-folder"));
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
            transfer::Transfer {
                name: name.clone(),
                conversation_id,
                source: None,
                done: 0,
                total: 0,
                cancel: cancel.clone(),
            },
        );
        let stream = transfer::download(self.session.api.clone(), upload_id.clone(), name, folder, cancel);
        Task::run(stream, move |progress| Message::Transfer(upload_id.clone(), progress))
    }

    /// Saves a file or picture someone sent, when it is small enough to fetch unasked.
    pub(super) fn auto_download(&mut self, message: &ChatMessage) -> Task<Message> {
        if message.sender_id == Some(self.session.roster.me) || message.muted {
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
    pub(super) fn upload(&mut self, path: std::path::PathBuf) -> Task<Message> {
        let Some(chat) = self.chat.as_mut() else { return Task::none() };
        if chat.read_only {
            return Task::none();
        }
        if self.session.roster.target(chat.conversation_id).is_none() {
            chat.error = Some(t!("media-cannot-write"));
            return Task::none();
        }
        let key = format!("upload:{}", uuid::Uuid::new_v4());
        let cancel = tokio_util::sync::CancellationToken::new();
        let name =
            path.file_name().map_or_else(|| path.display().to_string(), |n| n.to_string_lossy().into_owned());
        self.files.transfers.insert(
            key.clone(),
            transfer::Transfer {
                name,
                conversation_id: chat.conversation_id,
                source: Some(path.clone()),
                done: 0,
                total: 0,
                cancel: cancel.clone(),
            },
        );
        let stream = transfer::upload(self.session.api.clone(), path, cancel);
        Task::run(stream, move |progress| Message::Transfer(key.clone(), progress))
    }

    /// News of a transfer: progress, or its end.
    fn transfer(&mut self, key: String, progress: transfer::Progress) -> Task<Message> {
        match progress {
            transfer::Progress::Moved { done, total } => {
                if let Some(transfer) = self.files.transfers.get_mut(&key) {
                    transfer.done = done;
                    transfer.total = total;
                }
                Task::none()
            }
            transfer::Progress::Downloaded(result) => {
                let Some(transfer) = self.files.transfers.remove(&key) else { return Task::none() };
                match result {
                    Ok(path) => {
                        self.files.saved.insert(key.clone(), path.clone());
                        let record = self.record_file(transfer.conversation_id, key, path);
                        Task::batch([record, self.decode_for_viewer()])
                    }
                    Err(transfer::TransferError::Cancelled) => Task::none(),
                    Err(err) => {
                        tracing::warn!(%err, name = transfer.name, "download failed");
                        self.files.failed.insert(key, err.plain());
                        Task::none()
                    }
                }
            }
            transfer::Progress::Uploaded(result) => {
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
                        let mut tasks = vec![self.send(conversation, content)];
                        if let Some(source) = transfer.source {
                            // The sender has the file already: no download needed.
                            self.files.saved.insert(info.id.clone(), source.clone());
                            tasks.push(self.record_file(conversation, info.id, source));
                        }
                        Task::batch(tasks)
                    }
                    Err(transfer::TransferError::Cancelled) => Task::none(),
                    Err(err) => {
                        if let Some(chat) =
                            self.chat.as_mut().filter(|c| c.conversation_id == transfer.conversation_id)
                        {
                            chat.error =
                                Some(t!("media-not-sent", name = &transfer.name, reason = err.plain()));
                        }
                        Task::none()
                    }
                }
            }
        }
    }

    /// Decodes a local picture file (off the UI thread) at most `max_side` pixels large,
    /// unless it is decoded or decoding already.
    pub(super) fn decode_local(&mut self, path: std::path::PathBuf, max_side: u32) -> Task<Message> {
        let key = Files::local_key(&path, max_side);
        if self.files.pictures.contains_key(&key) {
            return Task::none();
        }
        self.files.pictures.insert(key.clone(), Picture::Loading);
        Task::perform(files::decode_picture(path, max_side), move |result| {
            Message::Decoded(key.clone(), result)
        })
    }

    /// Lets go of the previews of pictures no longer waiting above the composer.
    pub(super) fn forget_previews(&mut self) {
        let waiting: Vec<String> = self
            .chat
            .iter()
            .flat_map(|chat| chat.staged.iter().map(|s| Files::local_key(&s.path, files::PREVIEW_SIDE)))
            .collect();
        let prefix = format!("local:{}:", files::PREVIEW_SIDE);
        self.files.pictures.retain(|key, _| !key.starts_with(&prefix) || waiting.contains(key));
    }

    /// Previews of the pictures waiting above the composer.
    pub(super) fn preview_staged(&mut self) -> Task<Message> {
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
        self.session.record_file(conversation, upload_id, path).map(Message::Session)
    }
}

//! The picture viewer over the window: the full picture once its file is on this computer,
//! with Save as, Open in the system's viewer, Show in folder and Close.

use super::{AttachFor, Home, Message};
use crate::files::{self, Files, Picture};
use crate::screen::chat;
use crate::widget::{self, BOLD, Element};
use iced::widget::{button, column, container, image, row, text};
use iced::{Alignment, Length, Task};

impl Home {
    /// Opens a picture of the chat in the viewer; its full picture is the file itself,
    /// fetched unless it is here.
    pub(super) fn view_image(&mut self, upload_id: String, name: String) -> Task<Message> {
        self.viewer = Some((upload_id.clone(), name.clone()));
        let here = self.files.saved.contains_key(&upload_id) || self.files.transfers.contains_key(&upload_id);
        if !here && !self.session.is_offline() {
            return self.download(upload_id, name);
        }
        self.decode_for_viewer()
    }

    /// Save a copy of the picture in the viewer: choose where.
    pub(super) fn save_copy(&mut self, upload_id: String, name: String) -> Task<Message> {
        self.close_viewer();
        self.choose(AttachFor::SaveCopy(upload_id, name))
    }

    /// Closes the picture viewer and lets its full-size picture go.
    pub(super) fn close_viewer(&mut self) {
        if let Some((upload_id, _)) = self.viewer.take()
            && let Some(path) = self.files.saved.get(&upload_id)
        {
            self.files.pictures.remove(&Files::local_key(path, files::VIEWER_SIDE));
        }
    }

    /// The picture in the viewer, once its file is on this computer.
    pub(super) fn decode_for_viewer(&mut self) -> Task<Message> {
        let Some((upload_id, _)) = &self.viewer else { return Task::none() };
        let Some(path) = self.files.saved.get(upload_id).cloned() else { return Task::none() };
        self.decode_local(path, files::VIEWER_SIDE)
    }

    /// The picture viewer: the full picture once it is on this computer, with its actions.
    pub(super) fn viewer_view<'a>(&'a self, upload_id: &str, name: &str) -> Element<'a, Message> {
        let small = |label: String, message: Message| {
            button(text(label).size(13)).style(button::secondary).padding([5, 12]).on_press(message)
        };
        let mut actions =
            row![text(name.to_owned()).size(14).font(BOLD), iced::widget::space().width(Length::Fill)]
                .spacing(8)
                .align_y(Alignment::Center);
        let picture: Element<'a, Message> = if let Some(path) = self.files.saved.get(upload_id) {
            let folder = path.parent().map(std::path::PathBuf::from).unwrap_or_default();
            actions = actions
                .push(small(t!("viewer-save-as"), Message::SaveCopy(upload_id.to_owned(), name.to_owned())))
                .push(small(t!("viewer-open"), Message::Chat(chat::Message::OpenFile(path.clone()))))
                .push(small(t!("log-show-in-folder"), Message::Chat(chat::Message::ShowInFolder(folder))));
            match self.files.local(path, files::VIEWER_SIDE) {
                Some(Picture::Ready(handle)) => {
                    image(handle.clone()).content_fit(iced::ContentFit::Contain).width(Length::Fill).into()
                }
                Some(Picture::Failed) => widget::error_line(&t!("log-picture-broken")),
                _ => text(t!("viewer-opening")).style(text::secondary).into(),
            }
        } else if let Some(transfer) = self.files.transfers.get(upload_id) {
            text(t!(
                "viewer-loading",
                done = files::human_size(transfer.done),
                total = files::human_size(transfer.total)
            ))
            .style(text::secondary)
            .into()
        } else if let Some(why) = self.files.failed.get(upload_id) {
            widget::error_line(why)
        } else {
            text(t!("viewer-not-here")).style(text::secondary).into()
        };
        let actions = actions.push(small(t!("close"), Message::CloseViewer));
        widget::card(
            column![actions, container(picture).center_x(Length::Fill).max_height(560)]
                .spacing(12)
                .width(Length::Fill),
        )
        .max_width(900)
        .into()
    }
}

//! Choosing files and folders: the system's file dialog first (see [`file_dialog`]), the
//! built-in browser where there is none; then what the choice was for (files to send, an
//! avatar or a group's picture, where a copy goes, the folder received files go to). Files are chosen where they
//! were chosen last.

use super::profile::Profile;
use super::{AttachFor, Event, Home, Message, Panel};
use crate::file_dialog::{self, Answer, Request};
use crate::screen::attach::{self, Attach};
use crate::screen::group_admin::GroupAdmin;
use iced::Task;
use iced::widget::operation;
use std::path::PathBuf;

type Outcome = (Task<Message>, Option<Event>);

impl Home {
    /// Asks the system's dialog to choose for `purpose`; its answer comes as
    /// [`Message::Dialog`]. The UI goes on meanwhile.
    pub(super) fn choose(&mut self, purpose: AttachFor) -> Task<Message> {
        let start = self.files.last_folder.clone();
        let request = match &purpose {
            AttachFor::Chat => Request::Open { start, multiple: true },
            AttachFor::Avatar | AttachFor::GroupPicture(_) => Request::Open { start, multiple: false },
            AttachFor::SaveCopy(_, name) => Request::Save { start, name: crate::transfer::safe_name(name) },
            AttachFor::Downloads => Request::Folder { start: self.files.folder.clone() },
        };
        Task::perform(file_dialog::ask(request), move |answer| Message::Dialog(purpose.clone(), answer))
    }

    /// The system's dialog answered: act on the choice, or open the built-in browser when
    /// there is no dialog here.
    pub(super) fn dialog_answered(&mut self, purpose: AttachFor, answer: Answer) -> Outcome {
        match answer {
            Answer::Chosen(paths) => self.chosen(purpose, paths),
            Answer::Cancelled => (Task::none(), None),
            Answer::Unavailable => (self.browse(purpose), None),
        }
    }

    /// Opens the built-in browser for `purpose`, where files were chosen last.
    fn browse(&mut self, purpose: AttachFor) -> Task<Message> {
        let (mode, start) = match &purpose {
            AttachFor::Chat | AttachFor::Avatar | AttachFor::GroupPicture(_) => {
                (attach::Mode::Open, self.files.last_folder.clone())
            }
            AttachFor::SaveCopy(_, name) => {
                (attach::Mode::Save { name: name.clone() }, self.files.last_folder.clone())
            }
            AttachFor::Downloads => (attach::Mode::Folder, self.files.folder.clone()),
        };
        let (panel, list) = Attach::opening(mode, start);
        self.panel = Some(Panel::Attach(panel, purpose));
        Task::batch([list.map(Message::Attach), operation::focus(attach::id::PATH)])
    }

    /// Files or a folder were chosen (in the dialog or the browser) for `purpose`: the files
    /// to send wait above the composer in the order chosen, an avatar or a group's picture is
    /// uploaded, a copy is
    /// written, the folder for received files is kept.
    pub(super) fn chosen(&mut self, purpose: AttachFor, paths: Vec<PathBuf>) -> Outcome {
        let in_browser = matches!(self.panel, Some(Panel::Attach(..)));
        if in_browser {
            self.panel = None;
        }
        let Some(first) = paths.first().cloned() else { return (Task::none(), None) };
        if purpose == AttachFor::Downloads {
            self.files.folder = Some(first.clone());
            // The browser took the settings panel's place: back to it.
            let back = if in_browser { self.panel_message(Message::OpenSettings).0 } else { Task::none() };
            return (back, Some(Event::DownloadsChanged(first)));
        }
        let used = first.parent().filter(|folder| folder.is_dir()).map(PathBuf::from);
        if used.is_some() {
            self.files.last_folder.clone_from(&used);
        }
        let task = match purpose {
            AttachFor::Chat => {
                if let Some(chat) = &mut self.chat {
                    for path in paths {
                        chat.stage(path);
                    }
                }
                self.preview_staged()
            }
            AttachFor::Avatar => {
                let (form, upload) = Profile::uploading(&self.session.user, &self.session.api, first);
                self.panel = Some(Panel::Profile(form));
                upload.map(Message::Profile)
            }
            AttachFor::GroupPicture(group) => {
                // The group's settings as they are (they stay open under the system's dialog).
                let settings = match self.panel.take() {
                    Some(Panel::GroupAdmin(settings)) if settings.group == group => settings,
                    other => {
                        self.panel = other;
                        GroupAdmin::new(group, &self.session.roster)
                    }
                };
                let (settings, upload) = settings.uploading(&self.session.api, first);
                self.panel = Some(Panel::GroupAdmin(settings));
                upload.map(Message::GroupAdmin)
            }
            AttachFor::SaveCopy(upload_id, _) => self.copy_to(&upload_id, first),
            AttachFor::Downloads => Task::none(),
        };
        (task, used.map(Event::FolderUsed))
    }

    /// Writes a copy of a saved file to `target`; the chat says where, or why not.
    fn copy_to(&self, upload_id: &str, target: PathBuf) -> Task<Message> {
        let Some(source) = self.files.saved.get(upload_id).cloned() else { return Task::none() };
        let copy = async move {
            tokio::fs::copy(&source, &target).await.map(|_| target.clone()).map_err(|err| {
                t!("file-cannot-save", path = target.display().to_string(), error = err.to_string())
            })
        };
        Task::perform(copy, Message::Copied)
    }
}

//! Choosing files on this computer where the system offers no file dialog (see
//! `file_dialog`): a small browser of the local folders (folders first, hidden entries left
//! out) and a path field to type or paste a path into. To send, a click on a file chooses it;
//! to save a copy, "Save here" (or Enter on a new name) chooses where; to choose a folder,
//! "Use this folder". Folders are read off the UI thread.

use crate::files;
use crate::transfer;
use crate::widget::{self, Element};
use iced::widget::{button, column, row, scrollable, space, text, text_input};
use iced::{Alignment, Length, Task};
use std::path::{Path, PathBuf};

pub mod id {
    pub const PATH: &str = "attach-path";
}

/// Entries shown at most in one folder.
const MAX_ENTRIES: usize = 2000;

#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Entry {
    pub name: String,
    pub folder: bool,
    pub size: u64,
}

/// What the browser is choosing.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum Mode {
    /// Existing files (to send).
    Open,
    /// A new file's place, for a copy named `name`.
    Save { name: String },
    /// A folder.
    Folder,
}

#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Attach {
    pub mode: Mode,
    pub folder: PathBuf,
    pub typed: String,
    pub entries: Vec<Entry>,
    pub error: Option<String>,
}

#[derive(Debug, Clone)]
pub enum Message {
    Listed(PathBuf, Result<Vec<Entry>, String>),
    Enter(PathBuf),
    Up,
    TypedChanged(String),
    /// Enter in the path field: a folder opens, a file is chosen.
    TypedSubmitted,
    Choose(PathBuf),
    /// Save mode: the new name changed.
    NameChanged(String),
    /// Save mode: save into the folder shown.
    SaveHere,
    /// Folder mode: the folder shown is the one.
    UseFolder,
    Close,
}

#[derive(Debug, Clone, PartialEq, Eq)]
pub enum Event {
    Chosen(PathBuf),
    /// Save mode: write the copy here (the file does not exist yet).
    SaveTo(PathBuf),
    /// Folder mode: this folder.
    FolderChosen(PathBuf),
    Close,
}

impl Attach {
    /// The browser at the user's home folder (or the current one).
    pub fn new() -> (Self, Task<Message>) {
        Self::at(home_folder())
    }

    /// The browser in `mode`, at `folder` when it is one, else at the user's home folder.
    pub fn opening(mode: Mode, folder: Option<PathBuf>) -> (Self, Task<Message>) {
        let (mut attach, task) =
            Self::at(folder.filter(|folder| folder.is_dir()).unwrap_or_else(home_folder));
        attach.mode = mode;
        (attach, task)
    }

    pub fn at(folder: PathBuf) -> (Self, Task<Message>) {
        let attach = Self {
            mode: Mode::Open,
            typed: folder.display().to_string(),
            folder: folder.clone(),
            entries: Vec::new(),
            error: None,
        };
        (attach, list(folder))
    }

    pub fn update(&mut self, message: Message) -> (Task<Message>, Option<Event>) {
        match message {
            Message::Listed(folder, result) => {
                if folder == self.folder {
                    match result {
                        Ok(entries) => {
                            self.entries = entries;
                            self.error = None;
                        }
                        Err(err) => {
                            self.entries.clear();
                            self.error = Some(err);
                        }
                    }
                }
            }
            Message::Enter(folder) => return (self.open(folder), None),
            Message::Up => {
                if let Some(parent) = self.folder.parent().map(Path::to_path_buf) {
                    return (self.open(parent), None);
                }
            }
            Message::TypedChanged(typed) => self.typed = typed,
            Message::TypedSubmitted => {
                let path = PathBuf::from(self.typed.trim());
                if path.is_dir() {
                    return (self.open(path), None);
                }
                if path.is_file() && self.mode == Mode::Open {
                    return (Task::none(), Some(Event::Chosen(path)));
                }
                self.error = Some(t!("attach-nothing-at", path = path.display().to_string()));
            }
            Message::Choose(path) if self.mode == Mode::Open => {
                return (Task::none(), Some(Event::Chosen(path)));
            }
            Message::Choose(_) => {}
            Message::NameChanged(new) => {
                if let Mode::Save { name } = &mut self.mode {
                    *name = new;
                }
            }
            Message::SaveHere => {
                let Mode::Save { name } = &self.mode else { return (Task::none(), None) };
                let name = transfer::safe_name(name);
                let target = self.folder.join(&name);
                if target.exists() {
                    self.error = Some(t!("attach-name-taken", name = &name));
                    return (Task::none(), None);
                }
                return (Task::none(), Some(Event::SaveTo(target)));
            }
            Message::UseFolder if self.mode == Mode::Folder => {
                return (Task::none(), Some(Event::FolderChosen(self.folder.clone())));
            }
            Message::UseFolder => {}
            Message::Close => return (Task::none(), Some(Event::Close)),
        }
        (Task::none(), None)
    }

    fn open(&mut self, folder: PathBuf) -> Task<Message> {
        self.folder = folder.clone();
        self.typed = folder.display().to_string();
        self.entries.clear();
        self.error = None;
        list(folder)
    }

    pub fn view(&self) -> Element<'_, Message> {
        let title = match self.mode {
            Mode::Open => t!("attach-send-files"),
            Mode::Save { .. } => t!("attach-save-copy"),
            Mode::Folder => t!("attach-choose-folder"),
        };
        let mut content = column![
            widget::panel_title(&title, Message::Close),
            row![
                button(text(t!("attach-up")).size(13))
                    .style(button::secondary)
                    .padding([6, 12])
                    .on_press_maybe(self.folder.parent().map(|_| Message::Up)),
                text_input(&t!("attach-path"), &self.typed)
                    .id(id::PATH)
                    .on_input(Message::TypedChanged)
                    .on_submit(Message::TypedSubmitted)
                    .padding(6),
            ]
            .spacing(8)
            .align_y(Alignment::Center),
        ]
        .spacing(10)
        .max_width(640);
        content = match &self.mode {
            Mode::Open => content.push(text(t!("attach-open-hint")).size(12).style(text::secondary)),
            Mode::Save { name } => content.push(
                row![
                    text_input(&t!("attach-file-name"), name)
                        .on_input(Message::NameChanged)
                        .on_submit(Message::SaveHere)
                        .padding(6),
                    button(text(t!("attach-save-here")).size(13))
                        .padding([6, 12])
                        .on_press(Message::SaveHere),
                ]
                .spacing(8)
                .align_y(Alignment::Center),
            ),
            Mode::Folder => content.push(
                row![
                    text(t!("attach-folder-hint")).size(12).style(text::secondary),
                    space().width(Length::Fill),
                    button(text(t!("attach-use-folder")).size(13))
                        .padding([6, 12])
                        .on_press(Message::UseFolder),
                ]
                .spacing(8)
                .align_y(Alignment::Center),
            ),
        };
        if let Some(error) = &self.error {
            content = content.push(widget::error_line(error));
        }
        let mut list = column![].spacing(2);
        for entry in &self.entries {
            let path = self.folder.join(&entry.name);
            let (label, detail, message) = if entry.folder {
                (format!("{}/", entry.name), t!("attach-folder"), Some(Message::Enter(path)))
            } else {
                // Saving, the files are shown (so that names are not taken twice) but not chosen;
                // choosing a folder, they show what is in it.
                let choose = (self.mode == Mode::Open).then_some(Message::Choose(path));
                (entry.name.clone(), files::human_size(entry.size), choose)
            };
            list = list.push(
                button(
                    row![
                        text(label).size(14),
                        space().width(Length::Fill),
                        text(detail).size(12).style(text::secondary)
                    ]
                    .spacing(8),
                )
                .width(Length::Fill)
                .style(button::text)
                .padding([4, 8])
                .on_press_maybe(message),
            );
        }
        if self.entries.len() == MAX_ENTRIES {
            list = list.push(text(t!("attach-limit", count = MAX_ENTRIES)).size(12));
        }
        content.push(scrollable(list).spacing(4).height(Length::Fill)).into()
    }
}

/// The user's home folder (or the current one).
fn home_folder() -> PathBuf {
    directories::UserDirs::new()
        .map(|dirs| dirs.home_dir().to_path_buf())
        .or_else(|| std::env::current_dir().ok())
        .unwrap_or_else(|| PathBuf::from("/"))
}

/// Reads a folder: folders first, then files, each by name; hidden entries left out.
fn list(folder: PathBuf) -> Task<Message> {
    Task::perform(
        async move {
            let result = read(&folder).await;
            (folder, result)
        },
        |(folder, result)| Message::Listed(folder, result),
    )
}

async fn read(folder: &Path) -> Result<Vec<Entry>, String> {
    let mut reader = tokio::fs::read_dir(folder).await.map_err(|err| {
        t!("file-cannot-open", path = folder.display().to_string(), error = err.to_string())
    })?;
    let mut entries = Vec::new();
    while let Some(entry) = reader
        .next_entry()
        .await
        .map_err(|err| t!("file-cannot-read", path = folder.display().to_string(), error = err.to_string()))?
    {
        let name = entry.file_name().to_string_lossy().into_owned();
        if name.starts_with('.') {
            continue;
        }
        // Follows links, so a link to a folder opens like a folder.
        let Ok(metadata) = tokio::fs::metadata(entry.path()).await else { continue };
        entries.push(Entry { name, folder: metadata.is_dir(), size: metadata.len() });
        if entries.len() == MAX_ENTRIES {
            break;
        }
    }
    entries.sort_by(|a, b| {
        b.folder.cmp(&a.folder).then_with(|| a.name.to_lowercase().cmp(&b.name.to_lowercase()))
    });
    Ok(entries)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[tokio::test]
    async fn folders_come_first_and_hidden_entries_are_left_out() {
        let dir = tempfile::tempdir().expect("temp dir");
        std::fs::create_dir(dir.path().join("photos")).expect("mkdir");
        std::fs::write(dir.path().join("b.txt"), b"12345").expect("write");
        std::fs::write(dir.path().join("A.pdf"), b"").expect("write");
        std::fs::write(dir.path().join(".secret"), b"").expect("write");
        let entries = read(dir.path()).await.expect("read");
        let names: Vec<_> = entries.iter().map(|e| e.name.as_str()).collect();
        assert_eq!(names, ["photos", "A.pdf", "b.txt"]);
        assert!(entries[0].folder);
        assert_eq!(entries[2].size, 5);
        assert!(read(&dir.path().join("missing")).await.is_err());
    }

    #[test]
    fn browsing_enters_folders_and_chooses_files() {
        let dir = tempfile::tempdir().expect("temp dir");
        std::fs::create_dir(dir.path().join("photos")).expect("mkdir");
        std::fs::write(dir.path().join("photos/cat.png"), b"").expect("write");
        let (mut attach, _) = Attach::at(dir.path().to_path_buf());
        let _ = attach.update(Message::Enter(dir.path().join("photos")));
        assert_eq!(attach.folder, dir.path().join("photos"));
        let _ = attach.update(Message::Up);
        assert_eq!(attach.folder, dir.path());
        // A late listing of another folder is ignored.
        let _ = attach.update(Message::Listed(dir.path().join("photos"), Ok(vec![])));
        assert!(attach.entries.is_empty());
        let _ = attach.update(Message::TypedChanged(dir.path().join("photos/cat.png").display().to_string()));
        let (_, event) = attach.update(Message::TypedSubmitted);
        assert_eq!(event, Some(Event::Chosen(dir.path().join("photos/cat.png"))));
        let _ = attach.update(Message::TypedChanged("/no/such/place".into()));
        let (_, event) = attach.update(Message::TypedSubmitted);
        assert!(event.is_none() && attach.error.is_some());
    }

    #[test]
    fn a_folder_is_chosen_where_the_browser_stands() {
        let dir = tempfile::tempdir().expect("temp dir");
        std::fs::create_dir(dir.path().join("inbox")).expect("mkdir");
        std::fs::write(dir.path().join("inbox/old.txt"), b"").expect("write");
        let (mut attach, _) = Attach::opening(Mode::Folder, Some(dir.path().to_path_buf()));
        assert_eq!(attach.folder, dir.path());
        let _ = attach.update(Message::Enter(dir.path().join("inbox")));
        let (_, event) = attach.update(Message::Choose(dir.path().join("inbox/old.txt")));
        assert!(event.is_none(), "files are not chosen when choosing a folder");
        let (_, event) = attach.update(Message::UseFolder);
        assert_eq!(event, Some(Event::FolderChosen(dir.path().join("inbox"))));
        // A remembered folder that is gone: the home folder instead.
        let (attach, _) = Attach::opening(Mode::Open, Some(dir.path().join("gone")));
        assert_eq!(attach.folder, home_folder());
    }

    #[test]
    fn in_chinese_the_browser_and_its_errors_are_in_chinese() {
        crate::i18n::set(crate::i18n::Lang::Chinese);
        let dir = tempfile::tempdir().expect("temp dir");
        std::fs::write(dir.path().join("cover.png"), b"").expect("write");
        let (mut attach, _) = Attach::opening(Mode::Folder, Some(dir.path().to_path_buf()));
        {
            let mut ui = iced_test::Simulator::with_settings(crate::tests::fonts(), attach.view());
            for line in ["选择文件夹", "上一级", "使用此文件夹"] {
                assert!(ui.find(line).is_ok(), "{line:?} on screen");
            }
        }
        attach.mode = Mode::Save { name: "cover.png".into() };
        let _ = attach.update(Message::SaveHere);
        assert_eq!(attach.error.as_deref(), Some("此处已有 cover.png，请换个名字。"));
        crate::i18n::set(crate::i18n::Lang::English);
    }

    #[test]
    fn saving_picks_a_free_name_in_the_folder_shown() {
        let dir = tempfile::tempdir().expect("temp dir");
        std::fs::write(dir.path().join("cover.png"), b"").expect("write");
        let (mut attach, _) = Attach::at(dir.path().to_path_buf());
        attach.mode = Mode::Save { name: "cover.png".into() };
        let (_, event) = attach.update(Message::Choose(dir.path().join("cover.png")));
        assert!(event.is_none(), "files are not chosen when saving");
        let (_, event) = attach.update(Message::SaveHere);
        assert!(event.is_none() && attach.error.as_deref().is_some_and(|e| e.contains("here already")));
        let _ = attach.update(Message::NameChanged("../cover-copy.png".into()));
        let (_, event) = attach.update(Message::SaveHere);
        assert_eq!(
            event,
            Some(Event::SaveTo(dir.path().join("cover-copy.png"))),
            "the name stays in the folder"
        );
    }
}

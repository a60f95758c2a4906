//! The group's announcement under a group chat's header: who set it and its first line, with
//! *More* to read it whole (several lines) and *Less* to fold it again, and *Hide*, which keeps
//! it out of sight in that group until it changes, across restarts.

use super::Message;
use crate::widget::{BOLD, Element};
use iced::widget::{button, column, container, row, scrollable, text};
use iced::{Alignment, Length};
use kith_shared::api::{Announcement, GroupId};
use std::collections::HashMap;
use std::path::{Path, PathBuf};

/// Folded, the bar shows the first line of the announcement, at most this many characters.
pub const PREVIEW_CHARS: usize = 120;
/// Unfolded, the whole text scrolls within this height (pixels).
const OPEN_MAX_HEIGHT: f32 = 240.0;

/// Announcements the user hid, by group: the time each was set. A new announcement (set
/// later) shows again. Kept in `<data folder>/<host_port>/<user_id>/announcements.json` beside
/// the user's history (written to a temporary file and renamed).
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct Hidden {
    groups: HashMap<GroupId, i64>,
    file: Option<PathBuf>,
}

impl Hidden {
    /// The announcements hidden so far, from beside the user's history (when there is one);
    /// none yet, or an unreadable file, hides nothing.
    pub fn load(history_path: Option<&Path>) -> Self {
        let file = history_path.and_then(Path::parent).map(|folder| folder.join("announcements.json"));
        let groups = match file.as_deref().map(std::fs::read_to_string) {
            Some(Ok(text)) => serde_json::from_str(&text).unwrap_or_else(|err| {
                tracing::warn!(%err, "ignoring the damaged list of hidden announcements");
                HashMap::new()
            }),
            Some(Err(err)) if err.kind() != std::io::ErrorKind::NotFound => {
                tracing::warn!(%err, "cannot read the hidden announcements");
                HashMap::new()
            }
            _ => HashMap::new(),
        };
        Self { groups, file }
    }

    /// Hides the announcement of `group` set at `set_at`, and keeps that.
    pub fn hide(&mut self, group: GroupId, set_at: i64) {
        self.groups.insert(group, set_at);
        if let Some(file) = &self.file
            && let Err(err) = save(file, &self.groups)
        {
            tracing::warn!(%err, file = %file.display(), "cannot keep the hidden announcements");
        }
    }

    /// Whether the bar shows this announcement in this group.
    pub fn shows(&self, group: GroupId, announcement: &Announcement) -> bool {
        self.groups.get(&group) != Some(&announcement.set_at)
    }
}

fn save(file: &Path, groups: &HashMap<GroupId, i64>) -> std::io::Result<()> {
    if let Some(folder) = file.parent() {
        std::fs::create_dir_all(folder)?;
    }
    let temporary = file.with_extension("json.new");
    std::fs::write(&temporary, serde_json::to_vec(groups).map_err(std::io::Error::other)?)?;
    std::fs::rename(&temporary, file)
}

/// The folded bar's line: the announcement's first line that is not blank, at most
/// [`PREVIEW_CHARS`], and whether anything was left out (then it ends with "…").
pub fn preview(text: &str) -> (String, bool) {
    let mut lines = text.lines().map(str::trim_end).filter(|line| !line.trim().is_empty());
    let first = lines.next().unwrap_or_default();
    let mut shown: String = first.chars().take(PREVIEW_CHARS).collect();
    let cut = lines.next().is_some() || first.chars().count() > PREVIEW_CHARS;
    if cut {
        shown = shown.trim_end().to_owned();
        shown.push('…');
    }
    (shown, cut)
}

/// "Announcement by NAME".
pub fn byline(announcement: &Announcement) -> String {
    if announcement.set_by_name.is_empty() {
        t!("announcement")
    } else {
        t!("announcement-by", name = &announcement.set_by_name)
    }
}

/// The bar: folded to one line unless `open`; *More* / *Less* when there is more than fits.
pub fn bar<'a>(group: GroupId, announcement: &'a Announcement, open: bool) -> Element<'a, Message> {
    let (line, cut) = preview(&announcement.text);
    let body: Element<'a, Message> = if open && cut {
        let whole = text(announcement.text.trim()).size(14).width(Length::Fill);
        container(scrollable(whole).spacing(4)).max_height(OPEN_MAX_HEIGHT).into()
    } else {
        text(line).size(14).wrapping(text::Wrapping::None).into()
    };
    let words = column![text(byline(announcement)).size(12).font(BOLD), body].spacing(2).width(Length::Fill);
    let mut buttons = row![].spacing(2);
    if cut {
        let label = if open { t!("announcement-less") } else { t!("announcement-more") };
        buttons = buttons.push(
            button(text(label).size(12)).style(button::text).on_press(Message::OpenAnnouncement(!open)),
        );
    }
    let hide = button(text(t!("hide")).size(12))
        .style(button::text)
        .on_press(Message::HideAnnouncement(group, announcement.set_at));
    buttons = buttons.push(hide);
    container(row![words, buttons].spacing(8).align_y(Alignment::Start))
        .padding([6, 10])
        .width(Length::Fill)
        .clip(true)
        .style(container::secondary)
        .into()
}

#[cfg(test)]
mod tests {
    use super::*;

    fn announcement(text: &str, set_at: i64) -> Announcement {
        Announcement { text: text.into(), set_by: 1, set_by_name: "Ann".into(), set_at }
    }

    #[test]
    fn preview_is_the_first_line_and_marks_the_cut() {
        assert_eq!(preview("Friday at eight"), ("Friday at eight".into(), false));
        assert_eq!(preview("\n  \none\n\ntwo"), ("one…".into(), true), "blank lines skipped, more below");
        assert_eq!(preview("one  \n \n"), ("one".into(), false), "nothing but blanks below");
        let long = "a".repeat(PREVIEW_CHARS + 10);
        let (shown, cut) = preview(&long);
        assert!(cut);
        assert_eq!(shown.chars().count(), PREVIEW_CHARS + 1);
        assert!(shown.ends_with('…'));
        assert_eq!(preview(&"b".repeat(PREVIEW_CHARS)), ("b".repeat(PREVIEW_CHARS), false), "exactly fits");
    }

    #[test]
    fn byline_names_who_set_it() {
        assert_eq!(byline(&announcement("x", 1)), "Announcement by Ann");
        let unnamed = Announcement { set_by_name: String::new(), ..announcement("x", 1) };
        assert_eq!(byline(&unnamed), "Announcement");
    }

    #[test]
    fn hidden_until_it_changes_in_that_group_only() {
        let mut hidden = Hidden::default();
        let first = announcement("Friday", 10);
        assert!(hidden.shows(7, &first));
        hidden.hide(7, first.set_at);
        assert!(!hidden.shows(7, &first));
        assert!(hidden.shows(8, &first), "another group's bar is not hidden");
        assert!(hidden.shows(7, &announcement("Saturday", 20)), "a new announcement shows again");
    }

    #[test]
    fn hidden_announcements_stay_hidden_after_a_restart() {
        let dir = tempfile::tempdir().expect("temp dir");
        let history = dir.path().join("history.db");
        let first = announcement("Friday", 10);
        let mut hidden = Hidden::load(Some(&history));
        assert!(hidden.shows(7, &first), "nothing kept yet");
        hidden.hide(7, first.set_at);
        let again = Hidden::load(Some(&history));
        assert!(!again.shows(7, &first), "still hidden after loading again");
        assert!(again.shows(7, &announcement("Saturday", 20)), "a new one shows");
        std::fs::write(dir.path().join("announcements.json"), "not json").expect("write");
        assert!(Hidden::load(Some(&history)).shows(7, &first), "a damaged file hides nothing");
    }
}

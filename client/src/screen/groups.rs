//! The group panels of the main window: "Create a group" (name and description) and "Join a
//! group" (search by name, apply with a message).

use crate::api::{Api, ApiError};
use crate::files::Files;
use crate::roster::Roster;
use crate::widget::{self, Element};
use iced::widget::{button, column, row, scrollable, space, text, text_input};
use iced::{Alignment, Length, Task};
use kith_shared::ErrorCode;
use kith_shared::api::{CreateGroupRequest, GroupId, GroupProfile, MyGroup, SearchQuery, limits};

/// Widget ids, for focus and tests.
pub mod id {
    pub const NAME: &str = "create-group-name";
    pub const DESCRIPTION: &str = "create-group-description";
    pub const SEARCH: &str = "join-group-search";
    pub const MESSAGE: &str = "join-group-message";
}

/// Longest group name and description, and request message (the server's rules).
pub const NAME_MAX: usize = limits::GROUP_NAME_MAX;
pub const DESCRIPTION_MAX: usize = limits::GROUP_DESCRIPTION_MAX;
pub const MESSAGE_MAX: usize = limits::REQUEST_MESSAGE_MAX;

#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct CreateForm {
    pub name: String,
    pub description: String,
    pub busy: bool,
    pub error: Option<String>,
}

#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct JoinSearch {
    pub query: String,
    /// The message sent with each application.
    pub message: String,
    pub results: Vec<GroupProfile>,
    /// Groups applied to during this search.
    pub applied: Vec<GroupId>,
    pub busy: bool,
    pub searched: bool,
    pub error: Option<String>,
}

/// Which group panel is open.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum Panel {
    Create(CreateForm),
    Join(JoinSearch),
}

#[derive(Debug, Clone)]
pub enum Message {
    NameChanged(String),
    DescriptionChanged(String),
    Create,
    Created(Result<MyGroup, ApiError>),
    QueryChanged(String),
    NoteChanged(String),
    Search,
    Found(Result<Vec<GroupProfile>, ApiError>),
    Apply(GroupId),
    Applied(GroupId, Result<(), ApiError>),
    /// Close the panel (the main window handles it).
    Close,
}

/// What the main window must act on.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum Event {
    /// The user now owns this new group.
    Created(MyGroup),
    /// A request failed; the main window checks whether the session is over.
    Failed(ApiError),
}

impl Panel {
    pub fn create() -> Self {
        Panel::Create(CreateForm::default())
    }

    pub fn join() -> Self {
        Panel::Join(JoinSearch::default())
    }

    /// Where typing starts when the panel opens.
    pub fn focus(&self) -> Task<Message> {
        iced::widget::operation::focus(match self {
            Panel::Create(_) => id::NAME,
            Panel::Join(_) => id::SEARCH,
        })
    }

    pub fn update(&mut self, message: Message, api: &Api) -> (Task<Message>, Option<Event>) {
        match (self, message) {
            (Panel::Create(form), Message::NameChanged(name)) => form.name = name,
            (Panel::Create(form), Message::DescriptionChanged(text)) => form.description = text,
            (Panel::Create(form), Message::Create) => return (create(form, api), None),
            (Panel::Create(form), Message::Created(result)) => {
                form.busy = false;
                return match result {
                    Ok(group) => (Task::none(), Some(Event::Created(group))),
                    Err(err) => {
                        form.error = Some(err.plain());
                        (Task::none(), Some(Event::Failed(err)))
                    }
                };
            }
            (Panel::Join(search), Message::QueryChanged(query)) => search.query = query,
            (Panel::Join(search), Message::NoteChanged(text)) => {
                search.message = text.chars().take(MESSAGE_MAX).collect();
            }
            (Panel::Join(search), Message::Search) => {
                let q = search.query.trim().to_owned();
                if q.is_empty() || search.busy {
                    return (Task::none(), None);
                }
                search.busy = true;
                search.error = None;
                let api = api.clone();
                let query = SearchQuery { q, offset: 0, limit: Some(20) };
                let task = Task::perform(async move { api.search_groups(&query).await }, Message::Found);
                return (task, None);
            }
            (Panel::Join(search), Message::Found(result)) => {
                search.busy = false;
                search.searched = true;
                match result {
                    Ok(groups) => search.results = groups,
                    Err(err) => {
                        search.error = Some(err.plain());
                        return (Task::none(), Some(Event::Failed(err)));
                    }
                }
            }
            (Panel::Join(search), Message::Apply(group)) => {
                if search.applied.contains(&group) {
                    return (Task::none(), None);
                }
                search.applied.push(group);
                search.error = None;
                let api = api.clone();
                let message = search.message.trim().to_owned();
                let apply = async move { api.group(group).apply(message).await.map(drop) };
                let task = Task::perform(apply, move |result| Message::Applied(group, result));
                return (task, None);
            }
            (Panel::Join(search), Message::Applied(group, result)) => match result {
                Ok(()) => {}
                // Asked before (perhaps elsewhere): it waits for an answer all the same.
                Err(err) if err.code() == Some(ErrorCode::DuplicateRequest) => {}
                Err(err) => {
                    search.applied.retain(|g| *g != group);
                    search.error = Some(err.plain());
                    return (Task::none(), Some(Event::Failed(err)));
                }
            },
            // A late answer for a panel that has since changed.
            _ => {}
        }
        (Task::none(), None)
    }

    pub fn view<'a>(&'a self, roster: &'a Roster, files: &'a Files) -> Element<'a, Message> {
        match self {
            Panel::Create(form) => create_view(form),
            Panel::Join(search) => join_view(search, roster, files),
        }
    }
}

/// Checks the form and sends it.
fn create(form: &mut CreateForm, api: &Api) -> Task<Message> {
    if form.busy {
        return Task::none();
    }
    let name = form.name.trim().to_owned();
    let description = form.description.trim().to_owned();
    if name.is_empty() || name.chars().count() > NAME_MAX {
        form.error = Some(t!("group-name-length", max = NAME_MAX));
        return Task::none();
    }
    if description.chars().count() > DESCRIPTION_MAX {
        form.error = Some(t!("group-description-length", max = DESCRIPTION_MAX));
        return Task::none();
    }
    form.error = None;
    form.busy = true;
    let api = api.clone();
    let body = CreateGroupRequest { name, description };
    Task::perform(async move { api.create_group(&body).await }, Message::Created)
}

fn create_view(form: &CreateForm) -> Element<'_, Message> {
    let editable = !form.busy;
    let mut content = column![
        widget::panel_title(&t!("groups-create-title"), Message::Close),
        text(t!("group-name")).size(14),
        text_input(&t!("groups-name-placeholder"), &form.name)
            .id(id::NAME)
            .on_input_maybe(editable.then_some(Message::NameChanged))
            .on_submit(Message::Create)
            .padding(8),
        text(t!("groups-description-optional")).size(14),
        text_input(&t!("group-description-placeholder"), &form.description)
            .id(id::DESCRIPTION)
            .on_input_maybe(editable.then_some(Message::DescriptionChanged))
            .on_submit(Message::Create)
            .padding(8),
        button(text(if form.busy { t!("groups-creating") } else { t!("groups-create") }))
            .on_press_maybe(editable.then_some(Message::Create))
            .padding([8, 16]),
    ]
    .spacing(10)
    .max_width(480);
    if let Some(error) = &form.error {
        content = content.push(widget::error_line(error));
    }
    content.into()
}

fn join_view<'a>(search: &'a JoinSearch, roster: &'a Roster, files: &'a Files) -> Element<'a, Message> {
    let mut content = column![
        widget::panel_title(&t!("groups-join-title"), Message::Close),
        row![
            text_input(&t!("group-name-placeholder"), &search.query)
                .id(id::SEARCH)
                .on_input(Message::QueryChanged)
                .on_submit(Message::Search)
                .padding(8),
            button(text(t!("search")))
                .on_press_maybe((!search.busy).then_some(Message::Search))
                .padding([8, 16]),
        ]
        .spacing(8),
        text_input(&t!("groups-join-message"), &search.message)
            .id(id::MESSAGE)
            .on_input(Message::NoteChanged)
            .on_submit(Message::Search)
            .padding(8),
    ]
    .spacing(12)
    .max_width(560);
    if let Some(error) = &search.error {
        content = content.push(widget::error_line(error));
    }
    if search.searched && search.results.is_empty() && search.error.is_none() {
        content = content.push(text(t!("groups-none-found")).style(text::secondary));
    }
    for group in &search.results {
        let action: Element<'a, Message> = if roster.groups.contains_key(&group.id) {
            text(t!("groups-member")).size(13).style(text::secondary).into()
        } else if search.applied.contains(&group.id) {
            text(t!("groups-asked")).size(13).style(text::secondary).into()
        } else {
            button(text(t!("groups-apply")).size(13))
                .padding([4, 14])
                .on_press(Message::Apply(group.id))
                .into()
        };
        let members = t!("groups-member-count", count = group.member_count);
        let mut about = column![text(group.name.clone()).size(15)];
        about = about.push(text(members).size(12).style(text::secondary));
        if !group.description.is_empty() {
            about = about.push(text(group.description.clone()).size(12).style(text::secondary));
        }
        content = content.push(
            row![
                widget::avatar(&group.name, group.id, files.avatar(group.avatar_url.as_deref()), 34.0),
                about,
                space().width(Length::Fill),
                action
            ]
            .spacing(10)
            .align_y(Alignment::Center),
        );
    }
    scrollable(content).spacing(4).into()
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::address::ServerAddress;

    fn api() -> Api {
        Api::new(
            &ServerAddress::parse("127.0.0.1:8000", "").expect("valid"),
            &crate::trust::Trust::in_memory(),
        )
        .with_token("t".into())
    }

    fn group(id: GroupId, name: &str) -> GroupProfile {
        GroupProfile {
            id,
            name: name.into(),
            description: String::new(),
            owner_id: 1,
            member_count: 2,
            created_at: 0,
            announcement: None,
            avatar_url: None,
        }
    }

    #[test]
    fn create_checks_the_name_before_asking() {
        let mut panel = Panel::create();
        let _ = panel.update(Message::NameChanged("   ".into()), &api());
        let _ = panel.update(Message::Create, &api());
        let Panel::Create(form) = &panel else { panic!("create panel") };
        assert_eq!(form.error.as_deref(), Some("A group name has 1 to 64 characters."));
        assert!(!form.busy);

        let _ = panel.update(Message::NameChanged("Chess Club".into()), &api());
        let _ = panel.update(Message::Create, &api());
        let Panel::Create(form) = &panel else { panic!("create panel") };
        assert!(form.busy && form.error.is_none());
        let created =
            MyGroup { group: group(12, "Chess Club"), role: kith_shared::api::Role::Owner, muted: false };
        let (_, event) = panel.update(Message::Created(Ok(created.clone())), &api());
        assert_eq!(event, Some(Event::Created(created)));
    }

    #[test]
    fn applying_marks_the_group_asked_and_a_failure_unmarks_it() {
        let mut panel = Panel::join();
        let _ = panel.update(Message::QueryChanged("chess".into()), &api());
        let _ = panel.update(Message::NoteChanged("I play chess".into()), &api());
        let _ = panel.update(Message::Search, &api());
        let _ = panel
            .update(Message::Found(Ok(vec![group(12, "Chess Club"), group(13, "Chess Juniors")])), &api());
        let _ = panel.update(Message::Apply(12), &api());
        let _ = panel.update(Message::Apply(13), &api());
        let Panel::Join(search) = &panel else { panic!("join panel") };
        assert_eq!(search.applied, [12, 13]);
        assert!(!search.busy && search.searched);

        let refused = ApiError::Server {
            status: 409,
            code: ErrorCode::AlreadyMember,
            message: "already a member".into(),
        };
        let (_, event) = panel.update(Message::Applied(13, Err(refused.clone())), &api());
        assert_eq!(event, Some(Event::Failed(refused)));
        let duplicate =
            ApiError::Server { status: 409, code: ErrorCode::DuplicateRequest, message: "pending".into() };
        let (_, event) = panel.update(Message::Applied(12, Err(duplicate)), &api());
        assert_eq!(event, None, "an application already waiting is not an error");
        let Panel::Join(search) = &panel else { panic!("join panel") };
        assert_eq!(search.applied, [12]);
        assert_eq!(search.error.as_deref(), Some("Already a member."));
    }
}

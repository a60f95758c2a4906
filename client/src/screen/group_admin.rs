//! A group's settings panel, opened from its chat: mute; the members with their roles and
//! presence; for the owner and admins, the group's picture, renaming, the announcement,
//! promoting and demoting admins, removing members and handing over ownership; inviting friends; leaving, or dissolving for the owner.
//! What others may do is decided by the server; this panel offers only what the user's role
//! allows, and asks again before anything that cannot be undone.

use crate::api::{Api, ApiError};
use crate::files::Files;
use crate::roster::Roster;
use crate::widget::{self, BOLD, Element};
use iced::widget::{button, checkbox, column, row, scrollable, space, text, text_editor, text_input};
use iced::{Alignment, Length, Task};
use kith_shared::UserId;
use kith_shared::api::{GroupId, GroupMember, GroupProfile, MyGroup, Role, UpdateGroupRequest, limits};

/// Widget ids, for focus and tests.
pub mod id {
    pub const NAME: &str = "group-admin-name";
    pub const DESCRIPTION: &str = "group-admin-description";
    pub const ANNOUNCEMENT: &str = "group-admin-announcement";
    pub const INVITE_MESSAGE: &str = "group-admin-invite-message";
}

/// Something that cannot be undone, waiting for a second click.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Confirm {
    Leave,
    Dissolve,
    Remove(UserId),
    HandOver(UserId),
}

#[derive(Debug, Clone, PartialEq, Eq)]
pub struct GroupAdmin {
    pub group: GroupId,
    pub name: String,
    pub description: String,
    /// The announcement pinned at the top of the chat (empty: none), several lines.
    pub announcement: Lines,
    /// The group's name, description and announcement as the server last said: what the fields started
    /// from. Save sends only what the user changed from these, so that a change made
    /// meanwhile by another admin is not undone.
    pub known_name: String,
    pub known_description: String,
    pub known_announcement: String,
    pub invite_message: String,
    /// Friends invited while the panel is open.
    pub invited: Vec<UserId>,
    pub confirm: Option<Confirm>,
    pub busy: bool,
    pub error: Option<String>,
    pub info: Option<String>,
}

#[derive(Debug, Clone)]
pub enum Message {
    NameChanged(String),
    DescriptionChanged(String),
    /// An edit of the announcement (typed, pasted, Enter for a new line).
    AnnouncementEdited(text_editor::Action),
    SaveProfile,
    /// Choose a picture for the group (owner and admins).
    ChoosePicture,
    RemovePicture,
    MuteToggled(bool),
    SetRole(UserId, Role),
    /// First click on a lasting action: ask again.
    Ask(Confirm),
    /// Second click: do it.
    Confirmed(Confirm),
    CancelConfirm,
    InviteMessageChanged(String),
    /// Enter in the invitation's message: invite the one friend there is to invite.
    InviteSubmitted,
    Invite(UserId),
    /// A request came back: `Ok(None)` when it changed nothing the roster shows by itself.
    Done(GroupId, Result<Option<Outcome>, ApiError>),
    Close,
}

/// What a finished request changed.
#[derive(Debug, Clone)]
pub enum Outcome {
    Profile(GroupProfile),
    /// The group's picture was changed or removed.
    Picture(GroupProfile),
    Muted(MyGroup),
    Member(GroupMember),
    Invited(UserId),
    /// The user is no longer in the group (left or dissolved it).
    Gone,
    Info(String),
}

/// What the main window must act on.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum Event {
    /// The user's own view of the group changed (muting is not pushed by the server).
    GroupChanged(MyGroup),
    /// The group's profile changed.
    ProfileChanged(GroupProfile),
    /// Open the file chooser for the group's picture.
    ChoosePicture,
    /// A member's role changed.
    MemberChanged(GroupMember),
    /// The user left or dissolved the group: close its chat.
    Gone(GroupId),
    Failed(ApiError),
    Close,
}

impl GroupAdmin {
    pub fn new(group: GroupId, roster: &Roster) -> Self {
        let (name, description, announcement) = roster
            .groups
            .get(&group)
            .map(|g| (g.group.name.clone(), g.group.description.clone(), announcement_text(&g.group)))
            .unwrap_or_default();
        Self {
            group,
            known_name: name.clone(),
            known_description: description.clone(),
            announcement: Lines::with_text(&announcement),
            known_announcement: announcement,
            name,
            description,
            invite_message: String::new(),
            invited: Vec::new(),
            confirm: None,
            busy: false,
            error: None,
            info: None,
        }
    }

    /// The group's profile changed (another admin, or this panel's own save): fields the user
    /// has not edited show the new values.
    pub fn follow(&mut self, profile: &GroupProfile) {
        if self.name == self.known_name {
            self.name = profile.name.clone();
        }
        if self.description == self.known_description {
            self.description = profile.description.clone();
        }
        if self.announcement.text() == self.known_announcement {
            self.announcement = Lines::with_text(&announcement_text(profile));
        }
        self.known_name = profile.name.clone();
        self.known_description = profile.description.clone();
        self.known_announcement = announcement_text(profile);
    }

    /// This panel while a chosen picture uploads as the group's (even if another change is
    /// under way: the picture was chosen meanwhile).
    pub fn uploading(mut self, api: &Api, path: std::path::PathBuf) -> (Self, Task<Message>) {
        let group = self.group;
        self.busy = true;
        self.error = None;
        self.info = None;
        let api = api.clone();
        let upload = async move {
            let bytes = crate::files::read_picture(&path).await?;
            api.group(group).set_avatar(bytes).await.map(|p| Some(Outcome::Picture(p)))
        };
        (self, Task::perform(upload, move |result| Message::Done(group, result)))
    }

    /// The user's role in the group, if they are in it.
    pub fn my_role(&self, roster: &Roster) -> Option<Role> {
        roster.groups.get(&self.group).map(|g| g.role)
    }

    pub fn update(&mut self, message: Message, api: &Api, roster: &Roster) -> (Task<Message>, Option<Event>) {
        let group = self.group;
        let role = self.my_role(roster);
        let moderator = matches!(role, Some(Role::Owner | Role::Admin));
        match message {
            Message::NameChanged(name) => self.name = name,
            Message::DescriptionChanged(text) => self.description = text,
            Message::AnnouncementEdited(action) => {
                self.announcement.edit(action, limits::GROUP_ANNOUNCEMENT_MAX);
            }
            Message::InviteMessageChanged(text) => {
                self.invite_message = text.chars().take(crate::screen::groups::MESSAGE_MAX).collect();
            }
            Message::InviteSubmitted => {
                let in_group: Vec<UserId> = roster.members_sorted(group).iter().map(|m| m.user.id).collect();
                let left: Vec<UserId> = roster
                    .friends_sorted()
                    .into_iter()
                    .map(|f| f.user.id)
                    .filter(|id| !in_group.contains(id) && !self.invited.contains(id))
                    .collect();
                if let [one] = left.as_slice() {
                    return self.update(Message::Invite(*one), api, roster);
                }
                if !left.is_empty() {
                    self.info = Some(t!("group-admin-invite-each"));
                }
            }
            Message::SaveProfile if moderator => {
                let name = self.name.trim().to_owned();
                if name.is_empty() || name.chars().count() > crate::screen::groups::NAME_MAX {
                    self.error = Some(t!("group-name-length", max = crate::screen::groups::NAME_MAX));
                    return (Task::none(), None);
                }
                let announcement = self.announcement.text().trim().to_owned();
                if announcement.chars().count() > limits::GROUP_ANNOUNCEMENT_MAX {
                    self.error = Some(t!("group-announcement-length", max = limits::GROUP_ANNOUNCEMENT_MAX));
                    return (Task::none(), None);
                }
                let description = self.description.trim().to_owned();
                let body = UpdateGroupRequest {
                    name: (name != self.known_name).then_some(name),
                    description: (description != self.known_description).then_some(description),
                    announcement: (announcement != self.known_announcement).then_some(announcement),
                };
                if body.name.is_none() && body.description.is_none() && body.announcement.is_none() {
                    self.info = Some(t!("group-admin-nothing-to-save"));
                    return (Task::none(), None);
                }
                return self.request(api, move |api| async move {
                    api.group(group).update(&body).await.map(|p| Some(Outcome::Profile(p)))
                });
            }
            Message::ChoosePicture if moderator && !self.busy => {
                return (Task::none(), Some(Event::ChoosePicture));
            }
            Message::RemovePicture if moderator => {
                return self.request(api, move |api| async move {
                    api.group(group).remove_avatar().await.map(|p| Some(Outcome::Picture(p)))
                });
            }
            Message::MuteToggled(muted) if role.is_some() => {
                return self.request(api, move |api| async move {
                    api.group(group).mute(muted).await.map(|g| Some(Outcome::Muted(g)))
                });
            }
            Message::SetRole(user, new_role) if role == Some(Role::Owner) => {
                return self.request(api, move |api| async move {
                    api.group(group).set_role(user, new_role).await.map(|m| Some(Outcome::Member(m)))
                });
            }
            Message::Ask(what) => {
                self.confirm = Some(what);
                self.error = None;
            }
            Message::CancelConfirm => self.confirm = None,
            Message::Confirmed(what) if self.confirm == Some(what) => {
                self.confirm = None;
                return self.act(what, api, roster);
            }
            Message::Invite(user) if role.is_some() && !self.invited.contains(&user) => {
                let message = self.invite_message.trim().to_owned();
                return self.request(api, move |api| async move {
                    api.group(group).invite(user, message).await.map(|_| Some(Outcome::Invited(user)))
                });
            }
            // A late answer about another group's panel is not this panel's news.
            Message::Done(group, result) if group == self.group => {
                self.busy = false;
                return match result {
                    Ok(outcome) => (Task::none(), self.finished(outcome)),
                    Err(err) => {
                        self.error = Some(err.plain());
                        (Task::none(), Some(Event::Failed(err)))
                    }
                };
            }
            Message::Close => return (Task::none(), Some(Event::Close)),
            // Not allowed for this role, or not confirmed: nothing to do.
            _ => {}
        }
        (Task::none(), None)
    }

    /// Runs a confirmed lasting action.
    fn act(&mut self, what: Confirm, api: &Api, roster: &Roster) -> (Task<Message>, Option<Event>) {
        let group = self.group;
        let me = roster.me;
        match what {
            Confirm::Leave => self.request(api, move |api| async move {
                api.group(group).remove_member(me).await.map(|()| Some(Outcome::Gone))
            }),
            Confirm::Dissolve => self.request(api, move |api| async move {
                api.group(group).dissolve().await.map(|()| Some(Outcome::Gone))
            }),
            Confirm::Remove(user) => {
                let info = match roster.name_of(user) {
                    Some(name) => t!("group-admin-removed", name = name),
                    None => t!("group-admin-removed-someone"),
                };
                self.request(api, move |api| async move {
                    api.group(group).remove_member(user).await.map(|()| Some(Outcome::Info(info)))
                })
            }
            Confirm::HandOver(user) => self.request(api, move |api| async move {
                api.group(group).hand_over(user).await.map(|p| Some(Outcome::Profile(p)))
            }),
        }
    }

    fn request<F, Fut>(&mut self, api: &Api, call: F) -> (Task<Message>, Option<Event>)
    where
        F: FnOnce(Api) -> Fut,
        Fut: Future<Output = Result<Option<Outcome>, ApiError>> + Send + 'static,
    {
        if self.busy {
            return (Task::none(), None);
        }
        self.busy = true;
        self.error = None;
        self.info = None;
        let group = self.group;
        (Task::perform(call(api.clone()), move |result| Message::Done(group, result)), None)
    }

    fn finished(&mut self, outcome: Option<Outcome>) -> Option<Event> {
        match outcome? {
            Outcome::Profile(profile) => {
                self.name = profile.name.clone();
                self.description = profile.description.clone();
                self.announcement = Lines::with_text(&announcement_text(&profile));
                self.known_name = profile.name.clone();
                self.known_description = profile.description.clone();
                self.known_announcement = announcement_text(&profile);
                self.info = Some(t!("saved"));
                Some(Event::ProfileChanged(profile))
            }
            Outcome::Picture(profile) => {
                self.follow(&profile);
                self.info = Some(if profile.avatar_url.is_some() {
                    t!("group-admin-picture-changed")
                } else {
                    t!("group-admin-picture-removed")
                });
                Some(Event::ProfileChanged(profile))
            }
            Outcome::Muted(group) => Some(Event::GroupChanged(group)),
            Outcome::Member(member) => Some(Event::MemberChanged(member)),
            Outcome::Invited(user) => {
                self.invited.push(user);
                None
            }
            Outcome::Gone => Some(Event::Gone(self.group)),
            Outcome::Info(info) => {
                self.info = Some(info);
                None
            }
        }
    }

    pub fn view<'a>(&'a self, roster: &'a Roster, files: &'a Files) -> Element<'a, Message> {
        let Some(mine) = roster.groups.get(&self.group) else {
            return column![
                widget::panel_title(&t!("group"), Message::Close),
                text(t!("group-admin-not-member")).style(text::secondary)
            ]
            .spacing(12)
            .into();
        };
        let role = mine.role;
        let moderator = matches!(role, Role::Owner | Role::Admin);
        let editable = !self.busy;
        let mut content =
            column![widget::panel_title(&t!("group-settings"), Message::Close)].spacing(14).max_width(620);

        // The group's picture: changed and removed by the owner and admins.
        let picture = files.avatar(mine.group.avatar_url.as_deref());
        let mut look = row![widget::avatar(&mine.group.name, self.group, picture, 64.0)]
            .spacing(10)
            .align_y(Alignment::Center);
        if moderator {
            look = look.push(
                button(text(t!("group-admin-change-picture")))
                    .style(button::secondary)
                    .on_press_maybe(editable.then_some(Message::ChoosePicture))
                    .padding([6, 14]),
            );
            if mine.group.avatar_url.is_some() {
                look = look.push(
                    button(text(t!("group-admin-remove-picture")))
                        .style(button::secondary)
                        .on_press_maybe(editable.then_some(Message::RemovePicture))
                        .padding([6, 14]),
                );
            }
        }
        content = content.push(look);

        // The group's name, description and announcement: editable by the owner and admins.
        if moderator {
            content = content.push(
                column![
                    text(t!("group-name")).size(13).style(text::secondary),
                    text_input(&t!("group-name-placeholder"), &self.name)
                        .id(id::NAME)
                        .on_input_maybe(editable.then_some(Message::NameChanged))
                        .on_submit(Message::SaveProfile)
                        .padding(8),
                    text(t!("group-description")).size(13).style(text::secondary),
                    text_input(&t!("group-description-placeholder"), &self.description)
                        .id(id::DESCRIPTION)
                        .on_input_maybe(editable.then_some(Message::DescriptionChanged))
                        .on_submit(Message::SaveProfile)
                        .padding(8),
                    text(t!("group-admin-announcement")).size(13).style(text::secondary),
                    self.announcement_editor(editable),
                    text(t!(
                        "group-admin-announcement-count",
                        count = self.announcement.chars(),
                        max = limits::GROUP_ANNOUNCEMENT_MAX
                    ))
                    .size(12)
                    .style(text::secondary),
                    button(text(t!("save")))
                        .on_press_maybe(editable.then_some(Message::SaveProfile))
                        .padding([6, 16]),
                ]
                .spacing(6),
            );
        } else {
            let mut about = column![text(mine.group.name.clone()).size(18).font(BOLD)].spacing(4);
            if !mine.group.description.is_empty() {
                about = about.push(text(mine.group.description.clone()).size(14).style(text::secondary));
            }
            content = content.push(about);
        }
        content = content.push(
            checkbox(mine.muted)
                .label(t!("group-admin-mute"))
                .on_toggle_maybe(editable.then_some(Message::MuteToggled)),
        );

        // Members, with what the user's role allows on each.
        let members = roster.members_sorted(self.group);
        let mut list =
            column![text(t!("group-admin-members", count = members.len())).size(15).font(BOLD)].spacing(8);
        for member in members {
            list = list.push(self.member_line(member, role, roster.me, editable, files));
        }
        content = content.push(list);

        // Friends not yet in the group, to invite.
        let in_group: Vec<UserId> = roster.members_sorted(self.group).iter().map(|m| m.user.id).collect();
        let outside: Vec<_> =
            roster.friends_sorted().into_iter().filter(|f| !in_group.contains(&f.user.id)).collect();
        if !outside.is_empty() {
            let mut invite = column![
                text(t!("group-admin-invite-friends")).size(15).font(BOLD),
                text_input(&t!("group-admin-invite-message"), &self.invite_message)
                    .id(id::INVITE_MESSAGE)
                    .on_input(Message::InviteMessageChanged)
                    .on_submit(Message::InviteSubmitted)
                    .padding(8),
            ]
            .spacing(8);
            for friend in outside {
                let action: Element<'a, Message> = if self.invited.contains(&friend.user.id) {
                    text(t!("group-admin-invited")).size(13).style(text::secondary).into()
                } else {
                    small(t!("group-admin-invite"), editable.then_some(Message::Invite(friend.user.id)))
                };
                invite = invite.push(
                    row![
                        widget::avatar(
                            &friend.user.display_name,
                            friend.user.id,
                            files.avatar(friend.user.avatar_url.as_deref()),
                            26.0
                        ),
                        text(friend.user.display_name.clone()).size(14),
                        space().width(Length::Fill),
                        action
                    ]
                    .spacing(8)
                    .align_y(Alignment::Center),
                );
            }
            content = content.push(invite);
        }

        // Leaving, or dissolving for the owner.
        let lasting = if role == Role::Owner { Confirm::Dissolve } else { Confirm::Leave };
        let label = if role == Role::Owner { t!("group-admin-dissolve") } else { t!("group-admin-leave") };
        content = content.push(self.confirmable(label, lasting, editable));
        if role == Role::Owner {
            content = content.push(text(t!("group-admin-owner-leave")).size(12).style(text::secondary));
        }
        if let Some(info) = &self.info {
            content = content.push(text(info.clone()).size(13).style(text::success));
        }
        if let Some(error) = &self.error {
            content = content.push(widget::error_line(error));
        }
        scrollable(content).spacing(4).into()
    }

    /// The announcement's field: several lines (Enter starts a new one), growing to a few
    /// lines before it scrolls; read-only while a request is on its way.
    fn announcement_editor(&self, editable: bool) -> Element<'_, Message> {
        let editor = text_editor(&self.announcement.0)
            .id(id::ANNOUNCEMENT)
            .placeholder(t!("group-admin-announcement-placeholder"))
            .min_height(72.0)
            .max_height(180.0)
            .padding(8);
        if editable { editor.on_action(Message::AnnouncementEdited).into() } else { editor.into() }
    }

    fn member_line<'a>(
        &self,
        member: &'a GroupMember,
        my_role: Role,
        me: UserId,
        editable: bool,
        files: &'a Files,
    ) -> Element<'a, Message> {
        let picture = files.avatar(member.user.avatar_url.as_deref());
        let mut line = row![
            widget::avatar(&member.user.display_name, member.user.id, picture, 28.0),
            text(member.user.display_name.clone()).size(14),
            widget::presence_dot(member.online),
            text(widget::role_name(member.role)).size(12).style(text::secondary),
            space().width(Length::Fill),
        ]
        .spacing(8)
        .align_y(Alignment::Center);
        let user = member.user.id;
        if user == me {
            return line.push(text(t!("you-lower")).size(12).style(text::secondary)).into();
        }
        if my_role == Role::Owner {
            line = match member.role {
                Role::Member => line.push(small(
                    t!("group-admin-make-admin"),
                    editable.then_some(Message::SetRole(user, Role::Admin)),
                )),
                Role::Admin => line.push(small(
                    t!("group-admin-make-member"),
                    editable.then_some(Message::SetRole(user, Role::Member)),
                )),
                Role::Owner => line,
            };
            line =
                line.push(self.confirmable(t!("group-admin-hand-over"), Confirm::HandOver(user), editable));
        }
        let removable = match my_role {
            Role::Owner => member.role != Role::Owner,
            Role::Admin => member.role == Role::Member,
            Role::Member => false,
        };
        if removable {
            line = line.push(self.confirmable(t!("remove"), Confirm::Remove(user), editable));
        }
        line.into()
    }

    /// A button for a lasting action: a first click asks, a second one does it.
    fn confirmable<'a>(&self, label: String, what: Confirm, editable: bool) -> Element<'a, Message> {
        if self.confirm == Some(what) {
            row![
                button(text(t!("confirm-sure", action = &label)).size(12))
                    .style(button::danger)
                    .padding([3, 10])
                    .on_press_maybe(editable.then_some(Message::Confirmed(what))),
                button(text(t!("cancel")).size(12))
                    .style(button::text)
                    .padding([3, 6])
                    .on_press(Message::CancelConfirm),
            ]
            .spacing(4)
            .into()
        } else {
            button(text(label).size(12))
                .style(button::secondary)
                .padding([3, 10])
                .on_press_maybe(editable.then_some(Message::Ask(what)))
                .into()
        }
    }
}

/// The text of a field of several lines. The editor's own content cannot be compared, so this
/// compares (and clones) by its text.
#[derive(Debug, Clone, Default)]
pub struct Lines(text_editor::Content);

impl Lines {
    pub fn with_text(text: &str) -> Self {
        Self(text_editor::Content::with_text(text))
    }

    pub fn text(&self) -> String {
        self.0.text()
    }

    /// How many characters it holds (a line break counts as one, as the server counts).
    pub fn chars(&self) -> usize {
        self.0.text().chars().count()
    }

    /// Applies an edit, keeping the text within `max` characters: typing stops at the limit
    /// and a paste is cut to the room left (what is selected is replaced, so it makes room).
    pub fn edit(&mut self, action: text_editor::Action, max: usize) {
        let room = || {
            let selected = self.0.selection().map_or(0, |s| s.chars().count());
            max.saturating_sub(self.chars().saturating_sub(selected))
        };
        let action = match action {
            text_editor::Action::Edit(text_editor::Edit::Insert(_) | text_editor::Edit::Enter)
                if room() == 0 =>
            {
                return;
            }
            text_editor::Action::Edit(text_editor::Edit::Paste(pasted)) => {
                let room = room();
                if pasted.chars().count() <= room {
                    text_editor::Action::Edit(text_editor::Edit::Paste(pasted))
                } else if room == 0 {
                    return;
                } else {
                    let cut: String = pasted.chars().take(room).collect();
                    text_editor::Action::Edit(text_editor::Edit::Paste(std::sync::Arc::new(cut)))
                }
            }
            action => action,
        };
        self.0.perform(action);
    }
}

impl PartialEq for Lines {
    fn eq(&self, other: &Self) -> bool {
        self.text() == other.text()
    }
}

impl Eq for Lines {}

/// The text of a group's announcement, empty when none is set.
fn announcement_text(profile: &GroupProfile) -> String {
    profile.announcement.as_ref().map(|a| a.text.clone()).unwrap_or_default()
}

fn small<'a>(label: String, message: Option<Message>) -> Element<'a, Message> {
    button(text(label).size(12)).style(button::secondary).padding([3, 10]).on_press_maybe(message).into()
}

#[cfg(test)]
mod tests {
    use super::*;

    use crate::address::ServerAddress;
    use kith_shared::api::{Friend, UserProfile};

    fn api() -> Api {
        Api::new(&ServerAddress::parse("127.0.0.1:9", "").expect("valid"), &crate::trust::Trust::in_memory())
            .with_token("t".into())
    }

    /// No pictures fetched, for as long as a view borrows it.
    fn no_files() -> &'static Files {
        Box::leak(Box::default())
    }

    fn user(id: UserId, name: &str) -> UserProfile {
        UserProfile { id, username: name.to_lowercase(), display_name: name.into(), avatar_url: None }
    }

    fn roster(my_role: Role) -> Roster {
        let mut roster = Roster::new(1);
        roster.set_groups(vec![MyGroup {
            group: GroupProfile {
                id: 12,
                name: "Chess Club".into(),
                description: "Knights".into(),
                owner_id: if my_role == Role::Owner { 1 } else { 2 },
                member_count: 3,
                created_at: 0,
                announcement: None,
                avatar_url: None,
            },
            role: my_role,
            muted: false,
        }]);
        let member = |id, name, role| GroupMember { user: user(id, name), role, online: true };
        let (me, other) =
            if my_role == Role::Owner { (Role::Owner, Role::Admin) } else { (my_role, Role::Owner) };
        roster.set_members(
            12,
            vec![member(1, "Alice", me), member(2, "Bob", other), member(3, "Carol", Role::Member)],
        );
        roster.set_friends(vec![
            Friend { user: user(3, "Carol"), online: true, conversation_id: 30 },
            Friend { user: user(4, "Dave"), online: false, conversation_id: 40 },
        ]);
        roster
    }

    fn run(
        panel: &mut GroupAdmin,
        roster: &Roster,
        act: impl FnOnce(&mut iced_test::Simulator<'_, Message>),
    ) {
        let produced: Vec<Message> = {
            let mut ui =
                iced_test::Simulator::with_settings(crate::tests::fonts(), panel.view(roster, no_files()));
            act(&mut ui);
            ui.into_messages().collect()
        };
        for message in produced {
            let _ = panel.update(message, &api(), roster);
        }
    }

    #[test]
    fn the_announcement_is_written_on_several_lines_and_saved_whole() {
        let roster = roster(Role::Owner);
        let mut panel = GroupAdmin::new(12, &roster);
        run(&mut panel, &roster, |ui| {
            assert!(
                ui.find("0 / 1000 characters; Enter starts a new line").is_ok(),
                "the count and the limit"
            );
            ui.click(iced_test::selector::id(id::ANNOUNCEMENT)).expect("the announcement's field");
            ui.typewrite("Friday at the wall");
            ui.tap_key(iced::keyboard::key::Named::Enter);
            ui.typewrite("Bring shoes");
        });
        assert_eq!(panel.announcement.text(), "Friday at the wall\nBring shoes", "Enter starts a new line");
        assert!(!panel.busy, "Enter does not save");
        let mut ui =
            iced_test::Simulator::with_settings(crate::tests::fonts(), panel.view(&roster, no_files()));
        assert!(ui.find("30 / 1000 characters; Enter starts a new line").is_ok());
        drop(ui);
        run(&mut panel, &roster, |ui| {
            ui.click("Save").expect("save");
        });
        assert!(panel.busy, "saved with its two lines");
    }

    #[test]
    fn the_announcement_stops_at_the_servers_limit() {
        use iced::widget::text_editor::{Action, Edit};
        let max = limits::GROUP_ANNOUNCEMENT_MAX;
        let paste = |text: &str| Action::Edit(Edit::Paste(std::sync::Arc::new(text.to_owned())));
        let mut lines = Lines::with_text(&"a".repeat(max - 2));
        lines.0.perform(Action::Move(iced::widget::text_editor::Motion::DocumentEnd));
        lines.edit(paste("bcdef"), max);
        assert_eq!(lines.chars(), max, "a paste is cut to the room left");
        assert!(lines.text().ends_with("abc"), "{}", lines.text());
        lines.edit(Action::Edit(Edit::Insert('x')), max);
        lines.edit(Action::Edit(Edit::Enter), max);
        assert_eq!(lines.chars(), max, "typing stops at the limit");
        lines.edit(Action::Edit(Edit::Backspace), max);
        lines.edit(Action::Edit(Edit::Enter), max);
        assert_eq!((lines.chars(), lines.text().ends_with("ab\n")), (max, true), "room made, room used");
        // What is selected is replaced, so it makes room.
        lines.edit(Action::SelectAll, max);
        lines.edit(paste("Saturday\ninstead"), max);
        assert_eq!(lines.text(), "Saturday\ninstead");
        // Several lines compare by their text.
        assert_eq!(lines, Lines::with_text("Saturday\ninstead"));
        assert_ne!(lines, Lines::with_text("Saturday instead"));
    }

    #[test]
    fn the_owner_manages_members_and_dissolves_after_asking_again() {
        let roster = roster(Role::Owner);
        let mut panel = GroupAdmin::new(12, &roster);
        let mut ui =
            iced_test::Simulator::with_settings(crate::tests::fonts(), panel.view(&roster, no_files()));
        for line in [
            "Make member",
            "Make admin",
            "Hand over",
            "Remove",
            "Dissolve the group",
            "Invite friends",
            "Dave",
        ] {
            assert!(ui.find(line).is_ok(), "{line:?} on screen");
        }
        assert!(ui.find("Leave the group").is_err(), "the owner cannot leave");
        drop(ui);

        // Making Carol an admin sends the request at once.
        run(&mut panel, &roster, |ui| {
            ui.click("Make admin").expect("make admin");
        });
        assert!(panel.busy, "the request is under way");
        let _ = panel.update(
            Message::Done(
                12,
                Ok(Some(Outcome::Member(GroupMember {
                    user: user(3, "Carol"),
                    role: Role::Admin,
                    online: true,
                }))),
            ),
            &api(),
            &roster,
        );
        assert!(!panel.busy);

        // Dissolving asks first; only the second click acts.
        run(&mut panel, &roster, |ui| {
            ui.click("Dissolve the group").expect("dissolve");
        });
        assert_eq!(panel.confirm, Some(Confirm::Dissolve));
        assert!(!panel.busy, "nothing sent yet");
        run(&mut panel, &roster, |ui| {
            ui.click("Dissolve the group: sure?").expect("confirm");
        });
        assert!(panel.busy, "now it is sent");
        let (_, event) = panel.update(Message::Done(99, Ok(Some(Outcome::Gone))), &api(), &roster);
        assert_eq!(event, None, "an answer about another group is ignored");
        let (_, event) = panel.update(Message::Done(12, Ok(Some(Outcome::Gone))), &api(), &roster);
        assert_eq!(event, Some(Event::Gone(12)));
    }

    #[test]
    fn in_chinese_the_owner_sees_roles_and_actions_in_chinese_and_is_asked_in_chinese() {
        crate::i18n::set(crate::i18n::Lang::Chinese);
        let roster = roster(Role::Owner);
        let mut panel = GroupAdmin::new(12, &roster);
        {
            let mut ui =
                iced_test::Simulator::with_settings(crate::tests::fonts(), panel.view(&roster, no_files()));
            for line in
                ["群设置", "群成员（3）", "群主", "管理员", "设为管理员", "转让群主", "解散群聊", "邀请好友"]
            {
                assert!(ui.find(line).is_ok(), "{line:?} on screen");
            }
            assert!(ui.find("Dissolve the group").is_err(), "no English left");
        }
        run(&mut panel, &roster, |ui| {
            ui.click("解散群聊").expect("dissolve");
        });
        run(&mut panel, &roster, |ui| {
            ui.click("确定解散群聊？").expect("confirm in Chinese");
        });
        assert!(panel.busy, "sent after the Chinese confirmation");
        crate::i18n::set(crate::i18n::Lang::English);
    }

    #[test]
    fn a_plain_member_can_only_mute_invite_and_leave() {
        let roster = roster(Role::Member);
        let mut panel = GroupAdmin::new(12, &roster);
        {
            let mut ui =
                iced_test::Simulator::with_settings(crate::tests::fonts(), panel.view(&roster, no_files()));
            for absent in ["Make admin", "Make member", "Hand over", "Remove", "Dissolve the group", "Save"] {
                assert!(ui.find(absent).is_err(), "{absent:?} is not offered");
            }
            assert!(ui.find("Leave the group").is_ok());
            assert!(ui.find("Dave").is_ok(), "Dave is a friend outside the group");
        }
        // Messages a member may not send do nothing.
        let (_, event) = panel.update(Message::SetRole(3, Role::Admin), &api(), &roster);
        assert!(event.is_none() && !panel.busy);
        let _ = panel.update(Message::Confirmed(Confirm::Remove(3)), &api(), &roster);
        assert!(!panel.busy, "not asked first");

        run(&mut panel, &roster, |ui| {
            ui.click("Invite").expect("invite Dave");
        });
        assert!(panel.busy);
        let _ = panel.update(Message::Done(12, Ok(Some(Outcome::Invited(4)))), &api(), &roster);
        assert_eq!(panel.invited, [4]);
        let mut ui =
            iced_test::Simulator::with_settings(crate::tests::fonts(), panel.view(&roster, no_files()));
        assert!(ui.find("Invited").is_ok());
    }

    #[test]
    fn an_admin_removes_plain_members_only() {
        let roster = roster(Role::Admin);
        let panel = GroupAdmin::new(12, &roster);
        let files = no_files();
        let member = |id, role| GroupMember { user: user(id, "X"), role, online: false };
        let line_has_remove = |m: &GroupMember| {
            let mut ui = iced_test::Simulator::with_settings(
                crate::tests::fonts(),
                panel.member_line(m, Role::Admin, 1, true, files),
            );
            ui.find("Remove").is_ok()
        };
        assert!(line_has_remove(&member(3, Role::Member)));
        assert!(!line_has_remove(&member(2, Role::Owner)));
        assert!(!line_has_remove(&member(5, Role::Admin)));
    }

    #[test]
    fn save_with_nothing_changed_sends_nothing() {
        let mut roster = Roster::new(7);
        roster.set_groups(vec![MyGroup {
            group: GroupProfile {
                id: 30,
                name: "Club".into(),
                description: "d".into(),
                owner_id: 7,
                member_count: 1,
                created_at: 0,
                announcement: None,
                avatar_url: None,
            },
            role: Role::Owner,
            muted: false,
        }]);
        let mut panel = GroupAdmin::new(30, &roster);
        let api = api();
        let (task, _) = panel.update(Message::SaveProfile, &api, &roster);
        assert_eq!(task.units(), 0, "nothing to send");
        assert_eq!(panel.info.as_deref(), Some("Nothing to save."));
        panel.name = "Club!".into();
        let (task, _) = panel.update(Message::SaveProfile, &api, &roster);
        assert_eq!(task.units(), 1, "the changed name is sent");
    }

    #[test]
    fn the_announcement_is_edited_sent_when_changed_and_bounded() {
        use iced::widget::text_editor::{Action, Edit};
        use std::sync::Arc;
        let roster = roster(Role::Admin);
        let mut panel = GroupAdmin::new(12, &roster);
        let api = api();
        assert_eq!(panel.announcement.text(), "", "none set");
        let typed =
            Message::AnnouncementEdited(Action::Edit(Edit::Paste(Arc::new("Friday at eight".into()))));
        let _ = panel.update(typed, &api, &roster);
        let (task, _) = panel.update(Message::SaveProfile, &api, &roster);
        assert_eq!(task.units(), 1, "the announcement is sent");
        panel.busy = false;

        // Longer than the field lets one type (set as if the server's limit were lower).
        panel.announcement = Lines::with_text(&"a".repeat(limits::GROUP_ANNOUNCEMENT_MAX + 1));
        let (task, _) = panel.update(Message::SaveProfile, &api, &roster);
        assert_eq!(task.units(), 0, "too long: not sent");
        assert!(panel.error.as_deref().is_some_and(|e| e.contains("at most")), "{:?}", panel.error);

        // A plain member cannot send one.
        let member = self::roster(Role::Member);
        let mut panel = GroupAdmin::new(12, &member);
        let typed = Message::AnnouncementEdited(Action::Edit(Edit::Paste(Arc::new("Mine".into()))));
        let _ = panel.update(typed, &api, &member);
        let (task, _) = panel.update(Message::SaveProfile, &api, &member);
        assert_eq!(task.units(), 0);
    }

    #[test]
    fn a_new_announcement_from_elsewhere_fills_an_untouched_field() {
        let roster = roster(Role::Owner);
        let mut panel = GroupAdmin::new(12, &roster);
        let mut profile = roster.groups[&12].group.clone();
        profile.announcement = Some(Box::new(kith_shared::api::Announcement {
            text: "Set by Bob".into(),
            set_by: 2,
            set_by_name: "Bob".into(),
            set_at: 5,
        }));
        panel.follow(&profile);
        assert_eq!(panel.announcement.text(), "Set by Bob");
        panel.announcement = Lines::with_text("Mine, being typed");
        profile.announcement = None;
        panel.follow(&profile);
        assert_eq!(panel.announcement.text(), "Mine, being typed", "the user's edit stays");
        assert_eq!(panel.known_announcement, "");
    }

    /// What clicking `label` in the panel's view makes the panel do.
    fn click(panel: &mut GroupAdmin, roster: &Roster, label: &str) -> (usize, Option<Event>) {
        let produced: Vec<Message> = {
            let mut ui =
                iced_test::Simulator::with_settings(crate::tests::fonts(), panel.view(roster, no_files()));
            ui.click(label).unwrap_or_else(|_| panic!("{label:?} on screen"));
            ui.into_messages().collect()
        };
        let mut units = 0;
        let mut event = None;
        for message in produced {
            let (task, produced) = panel.update(message, &api(), roster);
            units += task.units();
            event = event.or(produced);
        }
        (units, event)
    }

    #[test]
    fn the_owner_and_admins_change_and_remove_the_picture_members_cannot() {
        let mut roster = roster(Role::Admin);
        let mut panel = GroupAdmin::new(12, &roster);
        {
            let mut ui =
                iced_test::Simulator::with_settings(crate::tests::fonts(), panel.view(&roster, no_files()));
            assert!(ui.find("CC").is_ok(), "no picture: the initials");
            assert!(ui.find("Remove picture").is_err(), "nothing to remove");
        }
        // Change picture… asks the main window for the file chooser.
        assert_eq!(click(&mut panel, &roster, "Change picture…"), (0, Some(Event::ChoosePicture)));

        // With a picture set, Remove picture sends the request; its answer updates the group.
        let mut pictured = roster.groups[&12].group.clone();
        pictured.avatar_url = Some("/api/groups/12/avatar?v=1".into());
        roster.apply(&kith_shared::ServerFrame::GroupUpdated { group: pictured.clone() });
        let (units, event) = click(&mut panel, &roster, "Remove picture");
        assert_eq!((units, event), (1, None), "sent");
        assert!(panel.busy);
        let plain = GroupProfile { avatar_url: None, ..pictured };
        let (_, event) =
            panel.update(Message::Done(12, Ok(Some(Outcome::Picture(plain.clone())))), &api(), &roster);
        assert_eq!(event, Some(Event::ProfileChanged(plain)));
        assert_eq!(panel.info.as_deref(), Some("The picture is removed."));

        // A plain member sees the picture but may not change it.
        let member = self::roster(Role::Member);
        let mut panel = GroupAdmin::new(12, &member);
        {
            let mut ui =
                iced_test::Simulator::with_settings(crate::tests::fonts(), panel.view(&member, no_files()));
            assert!(ui.find("CC").is_ok(), "the group's look");
            assert!(ui.find("Change picture…").is_err(), "not offered");
        }
        let (task, event) = panel.update(Message::ChoosePicture, &api(), &member);
        assert_eq!((task.units(), event), (0, None));
        let (task, _) = panel.update(Message::RemovePicture, &api(), &member);
        assert_eq!(task.units(), 0);
        assert!(!panel.busy);
    }

    #[test]
    fn a_chosen_picture_uploads_from_the_kept_panel() {
        let roster = roster(Role::Owner);
        let mut panel = GroupAdmin::new(12, &roster);
        panel.description = "being typed".into();
        let (panel, task) = panel.uploading(&api(), std::path::PathBuf::from("/nowhere/picture.png"));
        assert_eq!(task.units(), 1, "the upload");
        assert!(panel.busy);
        assert_eq!(panel.description, "being typed", "the user's edits are kept");
        let mut panel = panel;
        let mut changed = roster.groups[&12].group.clone();
        changed.avatar_url = Some("/api/groups/12/avatar?v=2".into());
        let (_, event) =
            panel.update(Message::Done(12, Ok(Some(Outcome::Picture(changed.clone())))), &api(), &roster);
        assert_eq!(event, Some(Event::ProfileChanged(changed)));
        assert_eq!(panel.info.as_deref(), Some("The picture is changed."));
        assert!(!panel.busy);
        assert_eq!(panel.description, "being typed");
    }
}

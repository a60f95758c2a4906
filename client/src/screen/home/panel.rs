//! The side panels that take the chat's place: which one is open, opening it, and handing
//! each its messages and view. Each panel is a module of its own with its own `Message`.

use super::add_friend::{self, AddFriend};
use super::profile::{self, Profile};
use super::{Event, Home, Message, requests, settings};
use crate::api::ApiError;
use crate::screen::attach::{self, Attach};
use crate::screen::forward::{self, Forward};
use crate::screen::group_admin::{self, GroupAdmin};
use crate::screen::groups;
use crate::screen::search::{self, Search};
use crate::settings::Settings;
use crate::widget::Element;
use iced::Task;
use kith_shared::ServerFrame;
use kith_shared::api::GroupId;

/// The side panel on the right.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum Panel {
    Profile(Profile),
    Settings(settings::Blocked),
    Requests,
    AddFriend(AddFriend),
    /// Create or join a group.
    Groups(groups::Panel),
    GroupAdmin(GroupAdmin),
    Search(Search),
    /// Choosing where to forward messages.
    Forward(Forward),
    /// Choosing a file in the built-in browser (where the system has no file dialog): to
    /// send in the chat, as one's avatar or a group's picture, where a copy goes, or a folder.
    Attach(Attach, AttachFor),
}

/// What a file chosen in the file dialog or the browser is for.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum AttachFor {
    Chat,
    Avatar,
    /// The picture of this group (from its settings).
    GroupPicture(GroupId),
    /// Where to save a copy of this upload's file (upload id, file name).
    SaveCopy(String, String),
    /// The folder received files go to.
    Downloads,
}

type Outcome = (Task<Message>, Option<Event>);

impl Home {
    /// Opens a panel, or hands an open one its message.
    pub(super) fn panel_message(&mut self, message: Message) -> Outcome {
        match message {
            Message::OpenProfile => {
                let (form, focus) = Profile::open(&self.session.user);
                self.panel = Some(Panel::Profile(form));
                (focus.map(Message::Profile), None)
            }
            Message::OpenSettings => {
                let (blocked, load) = settings::Blocked::open(&self.session.api, &mut self.session.roster);
                self.panel = Some(Panel::Settings(blocked));
                (load.map(Message::Settings), None)
            }
            Message::OpenRequests => {
                self.panel = Some(Panel::Requests);
                (Task::none(), None)
            }
            Message::OpenAddFriend => {
                let (search, focus) = AddFriend::open();
                self.panel = Some(Panel::AddFriend(search));
                (focus.map(Message::AddFriend), None)
            }
            Message::OpenCreateGroup | Message::OpenJoinGroup => {
                let panel = if matches!(message, Message::OpenCreateGroup) {
                    groups::Panel::create()
                } else {
                    groups::Panel::join()
                };
                let focus = panel.focus().map(Message::Groups);
                self.panel = Some(Panel::Groups(panel));
                (focus, None)
            }
            Message::OpenSearch => {
                if !matches!(self.panel, Some(Panel::Search(_))) {
                    self.panel = Some(Panel::Search(Search::default()));
                }
                (Search::focus().map(Message::HistorySearch), None)
            }
            Message::Profile(message) => self.profile(message),
            Message::Settings(message) => {
                let event = match message {
                    settings::Message::SoundToggled(on) => Event::SoundChanged(on),
                    settings::Message::NotificationsToggled(on) => Event::NotificationsChanged(on),
                    settings::Message::DarkToggled(on) => Event::DarkChanged(on),
                    settings::Message::ChangeDownloads => return (self.choose(AttachFor::Downloads), None),
                    settings::Message::LanguageChosen(language) => Event::LanguageChanged(language),
                    settings::Message::SwitchAccount => Event::SwitchAccount,
                    settings::Message::Close => {
                        self.panel = None;
                        return (Task::none(), None);
                    }
                    // The panel closed before the block list came: the roster takes it.
                    settings::Message::BlocksLoaded(result)
                        if !matches!(self.panel, Some(Panel::Settings(_))) =>
                    {
                        let failed = settings::blocks_loaded(result, &mut self.session.roster).err();
                        return (Task::none(), failed.and_then(|err| self.failed(&err)));
                    }
                    message => {
                        let Some(Panel::Settings(blocked)) = &mut self.panel else {
                            return (Task::none(), None);
                        };
                        let (task, failed) =
                            blocked.update(message, &self.session.api, &mut self.session.roster);
                        let event = failed.and_then(|err| self.failed(&err));
                        return (task.map(Message::Settings), event);
                    }
                };
                (Task::none(), Some(event))
            }
            Message::Requests(message) => {
                let (task, event) = requests::update(message, &mut self.session.roster, &self.session.api);
                let event = match event {
                    Some(requests::Event::Done) => {
                        self.notice = None;
                        None
                    }
                    Some(requests::Event::Failed(err)) => self.notice_failure(&err),
                    Some(requests::Event::Close) => self.close_panel(),
                    None => None,
                };
                (task.map(Message::Requests), event)
            }
            Message::AddFriend(message) => {
                let Some(Panel::AddFriend(panel)) = &mut self.panel else { return (Task::none(), None) };
                let (task, event) = panel.update(message, &self.session.api, &mut self.session.roster);
                let event = match event {
                    Some(add_friend::Event::Failed(err)) => self.failed(&err),
                    Some(add_friend::Event::Close) => self.close_panel(),
                    None => None,
                };
                (task.map(Message::AddFriend), event)
            }
            Message::Groups(message) => self.groups(message),
            Message::GroupAdmin(message) => self.group_admin(message),
            Message::Attach(message) => self.attach(message),
            Message::HistorySearch(message) => self.search(message),
            Message::Forward(message) => self.forward(message),
            _ => (Task::none(), None),
        }
    }

    fn close_panel(&mut self) -> Option<Event> {
        self.panel = None;
        None
    }

    /// A request from the side bar's panels failed: said in the side bar.
    fn notice_failure(&mut self, err: &ApiError) -> Option<Event> {
        self.notice = Some(err.plain());
        self.failed(err)
    }

    fn profile(&mut self, message: profile::Message) -> Outcome {
        let Some(Panel::Profile(form)) = &mut self.panel else { return (Task::none(), None) };
        let (task, event) = form.update(message, &self.session.api);
        let task = task.map(Message::Profile);
        let event = match event {
            Some(profile::Event::Saved(user)) => {
                let changed = self.session.set_user(user);
                let (more, event) = self.session_event(changed);
                return (Task::batch([task, more]), event);
            }
            Some(profile::Event::ChooseAvatar) => {
                return (Task::batch([task, self.choose(AttachFor::Avatar)]), None);
            }
            Some(profile::Event::Failed(err)) => self.failed(&err),
            Some(profile::Event::Close) => self.close_panel(),
            None => None,
        };
        (task, event)
    }

    fn groups(&mut self, message: groups::Message) -> Outcome {
        if let groups::Message::Close = message {
            self.panel = None;
            return (Task::none(), None);
        }
        let Some(Panel::Groups(panel)) = &mut self.panel else { return (Task::none(), None) };
        let (task, event) = panel.update(message, &self.session.api);
        // Search results show the groups' pictures.
        let task = Task::batch([task.map(Message::Groups), self.fetch_avatars()]);
        match event {
            Some(groups::Event::Created(group)) => {
                let id = group.group.id;
                self.session.roster.apply(&ServerFrame::GroupJoined { group });
                let (open, event) = self.update(Message::Open(id));
                (Task::batch([task, open]), event)
            }
            Some(groups::Event::Failed(err)) => (task, self.failed(&err)),
            None => (task, None),
        }
    }

    fn group_admin(&mut self, message: group_admin::Message) -> Outcome {
        let roster = &mut self.session.roster;
        // Muting is not pushed by the server: its answer counts even when the panel has closed
        // or shows another group.
        if let group_admin::Message::Done(_, Ok(Some(group_admin::Outcome::Muted(group)))) = &message {
            roster.apply(&ServerFrame::GroupJoined { group: group.clone() });
        }
        let Some(Panel::GroupAdmin(panel)) = &mut self.panel else { return (Task::none(), None) };
        let (task, event) = panel.update(message, &self.session.api, roster);
        let task = task.map(Message::GroupAdmin);
        let event = match event {
            Some(group_admin::Event::GroupChanged(group)) => {
                roster.apply(&ServerFrame::GroupJoined { group });
                None
            }
            Some(group_admin::Event::ProfileChanged(group)) => {
                roster.apply(&ServerFrame::GroupUpdated { group });
                return (Task::batch([task, self.fetch_avatars()]), None);
            }
            Some(group_admin::Event::ChoosePicture) => {
                let group = panel.group;
                return (Task::batch([task, self.choose(AttachFor::GroupPicture(group))]), None);
            }
            Some(group_admin::Event::MemberChanged(member)) => {
                let group_id = panel.group;
                roster.apply(&ServerFrame::GroupMemberUpdated { group_id, member });
                None
            }
            Some(group_admin::Event::Gone(group)) => {
                self.panel = None;
                if self.chat.as_ref().is_some_and(|chat| chat.conversation_id == group) {
                    self.close_chat();
                }
                None
            }
            Some(group_admin::Event::Close) => self.close_panel(),
            Some(group_admin::Event::Failed(err)) => self.failed(&err),
            None => None,
        };
        (task, event)
    }

    fn attach(&mut self, message: attach::Message) -> Outcome {
        let Some(Panel::Attach(panel, purpose)) = &mut self.panel else { return (Task::none(), None) };
        let purpose = purpose.clone();
        let (task, event) = panel.update(message);
        let task = task.map(Message::Attach);
        match event {
            Some(
                attach::Event::Chosen(path) | attach::Event::SaveTo(path) | attach::Event::FolderChosen(path),
            ) => {
                let (more, event) = self.chosen(purpose, vec![path]);
                (Task::batch([task, more]), event)
            }
            Some(attach::Event::Close) => match purpose {
                // Back to the settings, where the folder was to be changed.
                AttachFor::Downloads => {
                    let (more, event) = self.panel_message(Message::OpenSettings);
                    (Task::batch([task, more]), event)
                }
                // Back to the group's settings, where its picture was to be changed.
                AttachFor::GroupPicture(group) => {
                    self.panel = Some(Panel::GroupAdmin(GroupAdmin::new(group, &self.session.roster)));
                    (task, None)
                }
                _ => {
                    self.panel = None;
                    (task, None)
                }
            },
            None => (task, None),
        }
    }

    fn search(&mut self, message: search::Message) -> Outcome {
        let Some(Panel::Search(panel)) = &mut self.panel else { return (Task::none(), None) };
        let (task, event) = panel.update(message, self.session.history());
        let task = task.map(Message::HistorySearch);
        match event {
            Some(search::Event::Jump(found)) => {
                let Some(history) = self.session.history().cloned() else { return (task, None) };
                let (conversation, seq) = (found.conversation_id, found.seq.unwrap_or(i64::MAX));
                let count = Task::perform(
                    async move { history.count_from(conversation, seq).await.map_err(|e| e.to_string()) },
                    move |result| Message::Jumped(found.as_ref().clone(), result),
                );
                (Task::batch([task, count]), None)
            }
            Some(search::Event::Close) => (task, self.close_panel()),
            None => (task, None),
        }
    }

    fn forward(&mut self, message: forward::Message) -> Outcome {
        let Some(Panel::Forward(panel)) = &mut self.panel else { return (Task::none(), None) };
        match panel.update(message) {
            Some(forward::Event::Forward { from, seqs, to }) => {
                self.panel = None;
                let failed: Vec<String> = to
                    .iter()
                    .flat_map(|to| seqs.iter().map(move |seq| (*to, *seq)))
                    .filter_map(|(to, seq)| self.session.forward(from, seq, to).err())
                    .collect();
                if let Some(words) = failed.first() {
                    self.notice = Some(words.clone());
                }
            }
            Some(forward::Event::Close) => self.panel = None,
            None => {}
        }
        (Task::none(), None)
    }

    /// The open panel.
    pub(super) fn panel_view<'a>(&'a self, panel: &'a Panel, settings: &'a Settings) -> Element<'a, Message> {
        let roster = &self.session.roster;
        match panel {
            Panel::Profile(form) => form.view(&self.session.user, self.avatar.as_ref()).map(Message::Profile),
            Panel::Settings(blocked) => {
                let list = roster.blocked.as_deref();
                settings::view(settings, blocked, list, self.files.folder.as_deref()).map(Message::Settings)
            }
            Panel::Requests => requests::view(roster).map(Message::Requests),
            Panel::AddFriend(search) => search.view(roster).map(Message::AddFriend),
            Panel::Groups(panel) => panel.view(roster, &self.files).map(Message::Groups),
            Panel::GroupAdmin(panel) => panel.view(roster, &self.files).map(Message::GroupAdmin),
            Panel::Search(panel) => panel.view(roster).map(Message::HistorySearch),
            Panel::Forward(panel) => panel.view(roster).map(Message::Forward),
            Panel::Attach(panel, _) => panel.view().map(Message::Attach),
        }
    }
}

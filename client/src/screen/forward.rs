//! Choosing where to forward messages: the user's friends and groups, narrowed by a name
//! typed, any number of them ticked. *Forward* sends a copy of each message to each chosen
//! chat; the copies say whose messages they first were.

use crate::roster::Roster;
use crate::widget::{self, Element};
use iced::widget::{button, checkbox, column, row, scrollable, text, text_input};
use iced::{Length, Task};
use kith_shared::api::ConversationId;
use std::collections::BTreeSet;

pub mod id {
    pub const QUERY: &str = "forward-query";
}

#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Forward {
    /// The conversation the messages are in.
    pub from: ConversationId,
    /// The messages to forward (their sequence numbers), oldest first.
    pub seqs: Vec<i64>,
    pub query: String,
    /// The chats ticked.
    pub chosen: BTreeSet<ConversationId>,
}

#[derive(Debug, Clone)]
pub enum Message {
    QueryChanged(String),
    Toggle(ConversationId, bool),
    Send,
    Close,
}

#[derive(Debug, Clone, PartialEq, Eq)]
pub enum Event {
    /// Forward messages `seqs` of conversation `from` to each of `to`.
    Forward {
        from: ConversationId,
        seqs: Vec<i64>,
        to: Vec<ConversationId>,
    },
    Close,
}

impl Forward {
    pub fn new(from: ConversationId, mut seqs: Vec<i64>) -> (Self, Task<Message>) {
        seqs.sort_unstable();
        seqs.dedup();
        let panel = Self { from, seqs, query: String::new(), chosen: BTreeSet::new() };
        (panel, iced::widget::operation::focus(id::QUERY))
    }

    pub fn update(&mut self, message: Message) -> Option<Event> {
        match message {
            Message::QueryChanged(query) => self.query = query,
            Message::Toggle(conversation, true) => {
                self.chosen.insert(conversation);
            }
            Message::Toggle(conversation, false) => {
                self.chosen.remove(&conversation);
            }
            Message::Send if !self.chosen.is_empty() && !self.seqs.is_empty() => {
                let to = self.chosen.iter().copied().collect();
                return Some(Event::Forward { from: self.from, seqs: self.seqs.clone(), to });
            }
            Message::Send => {}
            Message::Close => return Some(Event::Close),
        }
        None
    }

    /// The chats one may forward to, friends first then groups, each with its name, as the
    /// typed words narrow them (a ticked chat stays in view).
    pub fn choices(&self, roster: &Roster) -> Vec<(ConversationId, String)> {
        let wanted = self.query.trim().to_lowercase();
        let friends =
            roster.friends_sorted().into_iter().map(|f| (f.conversation_id, f.user.display_name.clone()));
        let groups = roster.groups_sorted().into_iter().map(|g| (g.group.id, g.group.name.clone()));
        friends
            .chain(groups)
            .filter(|(id, name)| self.chosen.contains(id) || name.to_lowercase().contains(&wanted))
            .collect()
    }

    pub fn view<'a>(&'a self, roster: &'a Roster) -> Element<'a, Message> {
        let title = t!("forward-title", count = self.seqs.len());
        let mut list = column![].spacing(6);
        let choices = self.choices(roster);
        if choices.is_empty() {
            list = list.push(text(t!("forward-none-found")).style(text::secondary));
        }
        for (conversation, name) in choices {
            list = list.push(
                checkbox(self.chosen.contains(&conversation))
                    .label(name)
                    .on_toggle(move |on| Message::Toggle(conversation, on)),
            );
        }
        let label = match self.chosen.len() {
            0 => t!("forward"),
            n => t!("forward-to", count = n),
        };
        let send = button(text(label))
            .padding([6, 14])
            .on_press_maybe((!self.chosen.is_empty()).then_some(Message::Send));
        column![
            widget::panel_title(&title, Message::Close),
            text_input(&t!("forward-placeholder"), &self.query)
                .id(id::QUERY)
                .on_input(Message::QueryChanged)
                .padding(8),
            scrollable(list).height(Length::Fill),
            row![send].spacing(8),
        ]
        .spacing(12)
        .max_width(480)
        .into()
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use kith_shared::api::{Friend, GroupProfile, MyGroup, Role, UserProfile};

    fn roster() -> Roster {
        let mut roster = Roster::new(1);
        let friend = |id: i64, name: &str, conversation_id| Friend {
            user: UserProfile {
                id,
                username: name.to_lowercase(),
                display_name: name.to_owned(),
                avatar_url: None,
            },
            conversation_id,
            online: false,
        };
        roster.set_friends(vec![friend(2, "Bob", 10), friend(3, "Carol", 11)]);
        let group = MyGroup {
            group: GroupProfile {
                id: 20,
                name: "Climbers".into(),
                description: String::new(),
                owner_id: 1,
                member_count: 3,
                created_at: 0,
                announcement: None,
                avatar_url: None,
            },
            role: Role::Owner,
            muted: false,
        };
        roster.set_groups(vec![group]);
        roster
    }

    #[test]
    fn the_ticked_chats_receive_every_chosen_message() {
        let (mut panel, _) = Forward::new(10, vec![5, 3, 5]);
        assert_eq!(panel.seqs, vec![3, 5], "oldest first, each once");
        assert_eq!(panel.update(Message::Send), None, "nothing ticked: nothing sent");
        panel.update(Message::Toggle(11, true));
        panel.update(Message::Toggle(20, true));
        panel.update(Message::Toggle(11, false));
        panel.update(Message::Toggle(11, true));
        assert_eq!(
            panel.update(Message::Send),
            Some(Event::Forward { from: 10, seqs: vec![3, 5], to: vec![11, 20] })
        );
        assert_eq!(panel.update(Message::Close), Some(Event::Close));
    }

    #[test]
    fn typed_words_narrow_the_chats_but_keep_the_ticked_ones() {
        let roster = roster();
        let (mut panel, _) = Forward::new(10, vec![1]);
        let names = |panel: &Forward| panel.choices(&roster).into_iter().map(|(_, n)| n).collect::<Vec<_>>();
        assert_eq!(names(&panel), vec!["Bob", "Carol", "Climbers"]);
        panel.update(Message::Toggle(10, true));
        panel.update(Message::QueryChanged("cl".into()));
        assert_eq!(names(&panel), vec!["Bob", "Climbers"], "Bob is ticked, Climbers matches");
    }
}

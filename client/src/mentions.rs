//! Mentions in a group's texts, without widgets: the `@word` being typed and the members it
//! may complete to, the mentions a text makes when it is sent, and where a text calls out the
//! user (to highlight it).

use crate::roster::Roster;
use kith_shared::UserId;
use kith_shared::api::limits::MENTIONS_MAX;
use kith_shared::api::{ConversationId, GroupMember};
use kith_shared::frame::{Content, Mentions, Target};
use std::ops::Range;

/// The word that mentions every member: `@all`.
pub const ALL: &str = "all";
/// The most members offered at once under the composer.
pub const SUGGESTIONS: usize = 6;

/// What an `@word` may complete to.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum Candidate {
    /// `@all`: every member (offered to the group's owner and admins only).
    All,
    Member {
        user_id: UserId,
        name: String,
    },
}

impl Candidate {
    /// How it reads in the text: `@all`, `@Display Name`.
    pub fn label(&self) -> String {
        match self {
            Candidate::All => format!("@{ALL}"),
            Candidate::Member { name, .. } => format!("@{name}"),
        }
    }
}

/// The `@word` typed just before byte `column` of `line`: where its `@` is, and the letters
/// after it. None when the cursor is not in such a word (an e-mail address is none either).
pub fn query_at(line: &str, column: usize) -> Option<(usize, &str)> {
    let before = line.get(..column)?;
    let at = before.rfind('@')?;
    let query = &before[at + 1..];
    if query.chars().any(char::is_whitespace) || starts_inside_a_word(line, at) {
        return None;
    }
    Some((at, query))
}

/// The members whose display name, a word of it, or user name starts with `query` (ignoring
/// case), in the order given, the user left out; `@all` first when `may_all`. At most
/// [`SUGGESTIONS`].
pub fn candidates(members: &[&GroupMember], me: UserId, query: &str, may_all: bool) -> Vec<Candidate> {
    let query = query.to_lowercase();
    let starts = |name: &str| name.to_lowercase().starts_with(&query);
    let mut found = Vec::new();
    if may_all && ALL.starts_with(&query) {
        found.push(Candidate::All);
    }
    for member in members.iter().filter(|m| m.user.id != me) {
        let name = &member.user.display_name;
        if starts(name) || name.split_whitespace().any(starts) || starts(&member.user.username) {
            found.push(Candidate::Member { user_id: member.user.id, name: name.clone() });
        }
    }
    found.truncate(SUGGESTIONS);
    found
}

/// The mentions `text` makes: each member whose `@Display Name` it holds (where one name
/// starts another, the longest that fits wins) and, when `may_all`, `@all`. Each member once,
/// at most [`MENTIONS_MAX`].
pub fn find(text: &str, members: &[(UserId, &str)], may_all: bool) -> Mentions {
    let mut mentions = Mentions::default();
    for (at, _) in text.match_indices('@') {
        if starts_inside_a_word(text, at) {
            continue;
        }
        let named = members
            .iter()
            .filter(|(_, name)| !name.is_empty() && names_at(text, at, name))
            .max_by_key(|(_, name)| name.len());
        match named {
            Some((user_id, _))
                if !mentions.user_ids.contains(user_id) && mentions.user_ids.len() < MENTIONS_MAX =>
            {
                mentions.user_ids.push(*user_id);
            }
            Some(_) => {}
            None if may_all && names_at(text, at, ALL) => mentions.all = true,
            None => {}
        }
    }
    mentions
}

/// Where `text` calls out the user named `name`: the byte ranges of each `@name`, and of each
/// `@all` when the message mentions everyone.
pub fn highlights(text: &str, name: &str, all: bool) -> Vec<Range<usize>> {
    let mut ranges = Vec::new();
    for (at, _) in text.match_indices('@') {
        if starts_inside_a_word(text, at) {
            continue;
        }
        if !name.is_empty() && names_at(text, at, name) {
            ranges.push(at..at + 1 + name.len());
        } else if all && names_at(text, at, ALL) {
            ranges.push(at..at + 1 + ALL.len());
        }
    }
    ranges
}

/// A text message for a conversation: in a group, with the members its `@names` mention
/// (`@all` when the user is the group's owner or an admin).
pub fn text_content(
    roster: &Roster,
    conversation: ConversationId,
    text: String,
    reply_to: Option<i64>,
) -> Content {
    let mentions = match roster.target(conversation) {
        Some(Target::Group { id }) => {
            let may_all = roster.groups.get(&id).is_some_and(|g| g.role.can_moderate());
            let members: Vec<(UserId, &str)> = roster
                .members
                .get(&id)
                .into_iter()
                .flatten()
                .map(|m| (m.user.id, m.user.display_name.as_str()))
                .collect();
            find(&text, &members, may_all)
        }
        _ => Mentions::default(),
    };
    Content::Text { text, reply_to, edit_of: None, reaction_of: None, mentions }
}

/// The `@` at byte `at` follows a letter or digit (as in an e-mail address).
fn starts_inside_a_word(text: &str, at: usize) -> bool {
    text[..at].chars().next_back().is_some_and(char::is_alphanumeric)
}

/// `text` has `@name` at byte `at` (ignoring ASCII case), not followed by a letter or digit.
fn names_at(text: &str, at: usize, name: &str) -> bool {
    let start = at + 1;
    let end = start + name.len();
    text.get(start..end).is_some_and(|found| found.eq_ignore_ascii_case(name))
        && !text[end..].chars().next().is_some_and(char::is_alphanumeric)
}

#[cfg(test)]
mod tests {
    use super::*;
    use kith_shared::api::{GroupProfile, MyGroup, Role, UserProfile};

    fn member(id: UserId, username: &str, name: &str) -> GroupMember {
        GroupMember {
            user: UserProfile { id, username: username.into(), display_name: name.into(), avatar_url: None },
            role: Role::Member,
            online: false,
        }
    }

    fn names(found: &[Candidate]) -> Vec<String> {
        found.iter().map(Candidate::label).collect()
    }

    #[test]
    fn the_word_being_typed_after_an_at_is_the_query() {
        assert_eq!(query_at("hi @Bo", 6), Some((3, "Bo")));
        assert_eq!(query_at("@", 1), Some((0, "")));
        assert_eq!(query_at("hi @Bo there", 6), Some((3, "Bo")), "the cursor after the word");
        assert_eq!(query_at("hi @Bo there", 12), None, "a space ended it");
        assert_eq!(query_at("mail ann@example.org", 20), None, "an e-mail address");
        assert_eq!(query_at("no at sign", 5), None);
        assert_eq!(query_at("@Bo", 9), None, "a column past the line");
        assert_eq!(query_at("(@Zoë", "(@Zoë".len()), Some((1, "Zoë")));
    }

    #[test]
    fn completion_offers_matching_members_and_all_to_moderators_only() {
        let ann = member(2, "ann", "Ann Lee");
        let bob = member(3, "bob", "Bob");
        let lee = member(4, "leonard", "Leo");
        let me = member(1, "me", "Amy");
        let members = vec![&me, &ann, &bob, &lee];
        assert_eq!(names(&candidates(&members, 1, "a", false)), ["@Ann Lee"], "not oneself");
        assert_eq!(names(&candidates(&members, 1, "a", true)), ["@all", "@Ann Lee"]);
        assert_eq!(names(&candidates(&members, 1, "le", false)), ["@Ann Lee", "@Leo"], "a word of the name");
        assert_eq!(names(&candidates(&members, 1, "LEON", false)), ["@Leo"], "the user name, any case");
        assert_eq!(names(&candidates(&members, 1, "", false)), ["@Ann Lee", "@Bob", "@Leo"]);
        assert!(candidates(&members, 1, "zed", true).is_empty());
        let many: Vec<GroupMember> = (10..30).map(|id| member(id, &format!("u{id}"), "Sam")).collect();
        let many: Vec<&GroupMember> = many.iter().collect();
        assert_eq!(candidates(&many, 1, "s", true).len(), SUGGESTIONS);
    }

    #[test]
    fn a_text_mentions_the_members_it_names() {
        let members = [(2, "Ann"), (3, "Ann Lee"), (4, "Bob")];
        let found = find("@Ann Lee and @bob, see this. @Ann too; @Bobby not", &members, false);
        assert_eq!(found, Mentions { user_ids: vec![3, 4, 2], all: false }, "the longest name wins");
        assert_eq!(find("@Bob @Bob", &members, false).user_ids, [4], "once");
        assert!(find("bob@Bob.org", &members, false).is_empty(), "an e-mail address");
        assert!(find("@all come", &members, false).is_empty(), "not a moderator");
        assert_eq!(find("@all come", &members, true), Mentions { user_ids: vec![], all: true });
        assert!(find("@alligator", &members, true).is_empty());
    }

    #[test]
    fn highlights_cover_the_users_name_and_all() {
        let text = "@Ann Lee hi, @all: @Ann Leeds";
        assert_eq!(highlights(text, "Ann Lee", false), vec![Range { start: 0, end: 8 }]);
        assert_eq!(highlights(text, "Ann Lee", true), [0..8, 13..17]);
        assert!(highlights("mail me@Ann Lee", "Ann Lee", true).is_empty());
    }

    #[test]
    fn a_group_text_carries_its_mentions_and_a_direct_one_none() {
        let mut roster = Roster::new(1);
        let profile = GroupProfile {
            id: 20,
            name: "Climbers".into(),
            description: String::new(),
            owner_id: 9,
            member_count: 3,
            created_at: 0,
            announcement: None,
            avatar_url: None,
        };
        roster.set_groups(vec![MyGroup { group: profile, role: Role::Member, muted: false }]);
        roster.set_members(20, vec![member(1, "me", "Amy"), member(2, "ann", "Ann")]);
        let sent = text_content(&roster, 20, "@Ann @all up?".into(), Some(4));
        let Content::Text { mentions, reply_to, .. } = &sent else { panic!("a text: {sent:?}") };
        assert_eq!((mentions.clone(), *reply_to), (Mentions { user_ids: vec![2], all: false }, Some(4)));
        if let Some(mine) = roster.groups.get_mut(&20) {
            mine.role = Role::Admin;
        }
        assert!(text_content(&roster, 20, "@all up?".into(), None).mentions(2), "an admin's @all");
        assert_eq!(text_content(&roster, 10, "@Ann".into(), None), Content::text("@Ann"), "no group");
    }
}

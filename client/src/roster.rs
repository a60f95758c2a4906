//! What the user knows about people and conversations: friends with their presence, groups,
//! pending requests, and per-conversation unread counts. Plain data kept current by socket
//! frames and HTTP answers; no widgets, so it is tested without a window.

use kith_shared::ServerFrame;
use kith_shared::UserId;
use kith_shared::api::{
    BlockedUser, ConversationId, ConversationKind, ConversationPrefs, ConversationState, Friend,
    FriendRequest, GroupId, GroupMember, GroupRequest, MemberCursor, MyGroup, Role,
};
use kith_shared::frame::{ChatMessage, Content, Target};
use std::collections::BTreeMap;

/// One conversation's counters.
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct Conversation {
    pub kind: Option<ConversationKind>,
    pub peer_id: Option<UserId>,
    /// Newest sequence number known on the server.
    pub last_seq: i64,
    /// History up to here is not visible to the user (a group joined late).
    pub joined_seq: i64,
    pub read_seq: i64,
    pub unread: i64,
    pub muted: bool,
    /// Pinned, archived, marked unread: the same on every device of the user.
    pub prefs: ConversationPrefs,
    /// How many messages the user deleted for themselves here, as the server counts them.
    pub hidden: u64,
    /// The unread messages that mention the user, by sequence number, oldest first.
    pub mentions: Vec<i64>,
}

#[derive(Debug, Clone, Default)]
pub struct Roster {
    pub me: UserId,
    pub friends: BTreeMap<UserId, Friend>,
    pub groups: BTreeMap<ConversationId, MyGroup>,
    pub conversations: BTreeMap<ConversationId, Conversation>,
    /// Friend requests addressed to the user, and the ones the user sent.
    pub friend_requests: Vec<FriendRequest>,
    /// Applications to groups the user moderates, and invitations for the user.
    pub group_requests: Vec<GroupRequest>,
    /// The conversation on screen: its messages count as read.
    pub open: Option<ConversationId>,
    /// Members of the groups whose list was fetched, kept current by frames.
    pub members: BTreeMap<GroupId, Vec<GroupMember>>,
    /// The other members' delivered and read cursors, per conversation whose receipts were
    /// fetched, kept current by `receipt_updated` frames.
    pub receipts: BTreeMap<ConversationId, BTreeMap<UserId, MemberCursor>>,
    /// Names of conversations seen before, for those no longer in the lists (a former
    /// friend, a group left): their history stays in the cache.
    pub titles: BTreeMap<ConversationId, String>,
    /// The people the user blocks, the latest first: `None` until the list arrived (asked for
    /// at each connect), then kept current by `user_blocked` and `user_unblocked`, whichever
    /// of the user's devices made the change.
    pub blocked: Option<Vec<BlockedUser>>,
    /// The fetches of the lists on their way, with the frames that changed the lists meanwhile.
    fetching: Fetching,
}

/// A list the client fetches over HTTP and frames keep current.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum List {
    Friends,
    Groups,
    /// The friend requests to and from the user.
    Requests,
    Blocked,
}

/// Per list, how many fetches are on their way and the frames that changed the list since the
/// oldest of them started. The server may have read an answer before those frames' changes,
/// so they are applied again onto it; a frame's change sets or removes one entry, so applying
/// it again onto a list that has it already changes nothing. Kept only while a fetch is on its
/// way.
#[derive(Debug, Clone, Default)]
struct Fetching {
    friends: Pending,
    groups: Pending,
    requests: Pending,
    blocked: Pending,
}

#[derive(Debug, Clone, Default)]
struct Pending {
    on_their_way: usize,
    frames: Vec<ServerFrame>,
}

impl Fetching {
    fn of(&mut self, list: List) -> &mut Pending {
        match list {
            List::Friends => &mut self.friends,
            List::Groups => &mut self.groups,
            List::Requests => &mut self.requests,
            List::Blocked => &mut self.blocked,
        }
    }
}

impl Pending {
    fn note(&mut self, frame: &ServerFrame) {
        if self.on_their_way > 0 {
            self.frames.push(frame.clone());
        }
    }

    /// One fetch answered (or failed): the frames to apply again onto its answer.
    fn answered(&mut self) -> Vec<ServerFrame> {
        self.on_their_way = self.on_their_way.saturating_sub(1);
        if self.on_their_way == 0 { std::mem::take(&mut self.frames) } else { self.frames.clone() }
    }
}

/// How far one's own stored message has got with the others.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Reach {
    /// Stored by the server; no one else has it yet (or their cursors are not known).
    Sent,
    /// On the other side's device (one-to-one).
    Delivered,
    /// The other side read it (one-to-one).
    Read,
    /// In a group: this many other members read it.
    ReadBy(usize),
}

impl Reach {
    pub fn describe(self) -> String {
        match self {
            Reach::Sent => t!("reach-sent"),
            Reach::Delivered => t!("reach-delivered"),
            Reach::Read => t!("reach-read"),
            Reach::ReadBy(n) => t!("reach-read-by", count = n),
        }
    }
}

/// What a frame changed that the UI must act on beyond redrawing.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum Change {
    Nothing,
    /// A new message from someone else; `alert` when it should make a sound.
    Message {
        conversation_id: ConversationId,
        alert: bool,
    },
    /// The lists of friends or groups changed in a way that needs a fresh fetch.
    Lists,
}

impl Roster {
    pub fn new(me: UserId) -> Self {
        Self { me, ..Self::default() }
    }

    /// Friends sorted by presence (online first), then display name.
    pub fn friends_sorted(&self) -> Vec<&Friend> {
        let mut friends: Vec<&Friend> = self.friends.values().collect();
        friends.sort_by(|a, b| {
            let pinned = |f: &Friend| self.prefs(f.conversation_id).pinned;
            pinned(b)
                .cmp(&pinned(a))
                .then_with(|| b.online.cmp(&a.online))
                .then_with(|| a.user.display_name.to_lowercase().cmp(&b.user.display_name.to_lowercase()))
        });
        friends
    }

    /// Groups sorted by name, pinned ones first.
    pub fn groups_sorted(&self) -> Vec<&MyGroup> {
        let mut groups: Vec<&MyGroup> = self.groups.values().collect();
        groups.sort_by_key(|g| (!self.prefs(g.group.id).pinned, g.group.name.to_lowercase()));
        groups
    }

    /// Requests that wait for the user's answer.
    pub fn incoming_friend_requests(&self) -> impl Iterator<Item = &FriendRequest> {
        self.friend_requests.iter().filter(move |r| r.to.id == self.me)
    }

    /// True when the user blocks `user_id` (as far as the block list is known).
    pub fn blocks(&self, user_id: UserId) -> bool {
        self.blocked.as_ref().is_some_and(|list| list.iter().any(|b| b.user.id == user_id))
    }

    /// Group requests the user can answer: applications to moderated groups and
    /// invitations addressed to the user.
    pub fn answerable_group_requests(&self) -> impl Iterator<Item = &GroupRequest> {
        self.group_requests.iter()
    }

    /// The number on the requests tab.
    pub fn pending_count(&self) -> usize {
        self.incoming_friend_requests().count() + self.answerable_group_requests().count()
    }

    pub fn unread(&self, conversation_id: ConversationId) -> i64 {
        let Some(c) = self.conversations.get(&conversation_id).filter(|c| !c.muted) else { return 0 };
        // Marked unread by the user: at least one.
        if c.prefs.marked_unread { c.unread.max(1) } else { c.unread }
    }

    /// How the user's lists show a conversation.
    pub fn prefs(&self, conversation_id: ConversationId) -> ConversationPrefs {
        self.conversations.get(&conversation_id).map(|c| c.prefs).unwrap_or_default()
    }

    /// Whether an unread message of the conversation mentions the user (muted or not).
    pub fn mentioned(&self, conversation_id: ConversationId) -> bool {
        self.conversations.get(&conversation_id).is_some_and(|c| !c.mentions.is_empty())
    }

    /// The unread messages of a conversation that mention the user, oldest first.
    pub fn unread_mentions(&self, conversation_id: ConversationId) -> Vec<i64> {
        self.conversations.get(&conversation_id).map(|c| c.mentions.clone()).unwrap_or_default()
    }

    /// Takes the unread mentions of a conversation found in the cache (after a reconnect):
    /// those after the read cursor join the ones already known.
    pub fn add_mentions(&mut self, conversation_id: ConversationId, seqs: &[i64]) {
        if self.open == Some(conversation_id) {
            return;
        }
        let Some(conversation) = self.conversations.get_mut(&conversation_id) else { return };
        let read_seq = conversation.read_seq;
        conversation.mentions.extend(seqs.iter().copied().filter(|seq| *seq > read_seq));
        conversation.mentions.sort_unstable();
        conversation.mentions.dedup();
    }

    /// Total unread over conversations that are not muted.
    pub fn total_unread(&self) -> i64 {
        self.conversations.keys().map(|id| self.unread(*id)).sum()
    }

    /// Where a message to this conversation goes.
    pub fn target(&self, conversation_id: ConversationId) -> Option<Target> {
        if self.groups.contains_key(&conversation_id) {
            return Some(Target::Group { id: conversation_id });
        }
        if let Some(friend) = self.friends.values().find(|f| f.conversation_id == conversation_id) {
            return Some(Target::User { id: friend.user.id });
        }
        let conversation = self.conversations.get(&conversation_id)?;
        match (conversation.kind, conversation.peer_id) {
            (Some(ConversationKind::Group), _) => Some(Target::Group { id: conversation_id }),
            (_, Some(peer)) => Some(Target::User { id: peer }),
            _ => None,
        }
    }

    /// The title of a conversation: the friend's or group's name.
    pub fn title(&self, conversation_id: ConversationId) -> String {
        if let Some(group) = self.groups.get(&conversation_id) {
            return group.group.name.clone();
        }
        if let Some(friend) = self.friends.values().find(|f| f.conversation_id == conversation_id) {
            return friend.user.display_name.clone();
        }
        if let Some(title) = self.titles.get(&conversation_id) {
            return title.clone();
        }
        t!("conversation-fallback", id = conversation_id)
    }

    /// A friend's or fellow member's display name, when known.
    pub fn name_of(&self, user_id: UserId) -> Option<&str> {
        if let Some(friend) = self.friends.get(&user_id) {
            return Some(&friend.user.display_name);
        }
        self.members.values().flatten().find(|m| m.user.id == user_id).map(|m| m.user.display_name.as_str())
    }

    /// Takes the pending friend requests addressed to the user and, when given, the user's
    /// own; without `outgoing` the user's own requests stay as they are.
    pub fn set_friend_requests(
        &mut self,
        incoming: Vec<FriendRequest>,
        outgoing: Option<Vec<FriendRequest>>,
    ) {
        let me = self.me;
        let mine = match outgoing {
            Some(outgoing) => outgoing,
            None => self.friend_requests.iter().filter(|r| r.from.id == me).cloned().collect(),
        };
        self.friend_requests = mine;
        for request in incoming {
            if !self.friend_requests.iter().any(|r| r.id == request.id) {
                self.friend_requests.push(request);
            }
        }
    }

    /// A name to show for a user: their display name, or "User N" when unknown.
    pub fn name_or_id(&self, user_id: UserId) -> String {
        self.name_of(user_id).map_or_else(|| t!("user-fallback", id = user_id), str::to_owned)
    }

    /// A group's members: the owner, then admins, then members, online first within each,
    /// then by name.
    pub fn members_sorted(&self, group: GroupId) -> Vec<&GroupMember> {
        let rank = |role: Role| match role {
            Role::Owner => 0,
            Role::Admin => 1,
            Role::Member => 2,
        };
        let mut members: Vec<&GroupMember> = self.members.get(&group).into_iter().flatten().collect();
        members.sort_by(|a, b| {
            rank(a.role)
                .cmp(&rank(b.role))
                .then_with(|| b.online.cmp(&a.online))
                .then_with(|| a.user.display_name.to_lowercase().cmp(&b.user.display_name.to_lowercase()))
        });
        members
    }

    /// Takes a conversation's cursors as fetched (the user's own are left out).
    pub fn set_receipts(&mut self, conversation_id: ConversationId, cursors: Vec<MemberCursor>) {
        let others = cursors.into_iter().filter(|c| c.user_id != self.me).map(|c| (c.user_id, c)).collect();
        self.receipts.insert(conversation_id, others);
    }

    /// How far the user's own message `seq` has got: for a one-to-one chat the friend's
    /// cursors, for a group the number of other members who read it.
    pub fn reach(&self, conversation_id: ConversationId, seq: i64) -> Reach {
        let Some(cursors) = self.receipts.get(&conversation_id) else { return Reach::Sent };
        if self.groups.contains_key(&conversation_id) {
            return match cursors.values().filter(|c| c.read_seq >= seq).count() {
                0 => Reach::Sent,
                n => Reach::ReadBy(n),
            };
        }
        match cursors.values().next() {
            Some(c) if c.read_seq >= seq => Reach::Read,
            Some(c) if c.delivered_seq >= seq => Reach::Delivered,
            _ => Reach::Sent,
        }
    }

    pub fn set_members(&mut self, group: GroupId, members: Vec<GroupMember>) {
        self.members.insert(group, members);
    }

    /// The connection dropped: nobody is known to be online until the server says so again
    /// (it sends the presence of those online after `sync_state`).
    pub fn all_offline(&mut self) {
        for friend in self.friends.values_mut() {
            friend.online = false;
        }
        for member in self.members.values_mut().flatten() {
            member.online = false;
        }
    }

    pub fn set_friends(&mut self, friends: Vec<Friend>) {
        self.friends = friends.into_iter().map(|f| (f.user.id, f)).collect();
    }

    pub fn set_groups(&mut self, groups: Vec<MyGroup>) {
        self.groups = groups.into_iter().map(|g| (g.group.id, g)).collect();
    }

    /// A fetch of `list` starts: until it is answered, the frames that change the list are
    /// kept, to be applied again onto the answer.
    pub fn fetch_started(&mut self, list: List) {
        self.fetching.of(list).on_their_way += 1;
    }

    /// A fetch of `list` failed: the list stays as the frames keep it.
    pub fn fetch_failed(&mut self, list: List) {
        self.fetching.of(list).answered();
    }

    /// The friend list as fetched, with the changes pushed since the fetch started.
    pub fn friends_fetched(&mut self, friends: Vec<Friend>) {
        self.set_friends(friends);
        for frame in self.fetching.friends.answered() {
            edit_friends(&mut self.friends, &frame);
        }
    }

    /// The group list as fetched, with the changes pushed since the fetch started.
    pub fn groups_fetched(&mut self, groups: Vec<MyGroup>) {
        self.set_groups(groups);
        for frame in self.fetching.groups.answered() {
            edit_groups(&mut self.groups, self.me, &frame);
        }
    }

    /// The friend requests as fetched, with the changes pushed since the fetch started.
    pub fn friend_requests_fetched(&mut self, incoming: Vec<FriendRequest>, outgoing: Vec<FriendRequest>) {
        self.set_friend_requests(incoming, Some(outgoing));
        for frame in self.fetching.requests.answered() {
            edit_requests(&mut self.friend_requests, &frame);
        }
    }

    /// The block list as fetched, with the blocks and unblocks pushed since the fetch started.
    pub fn blocks_fetched(&mut self, blocked: Vec<BlockedUser>) {
        self.blocked = Some(blocked);
        for frame in self.fetching.blocked.answered() {
            edit_blocked(&mut self.blocked, &frame);
        }
    }

    /// The lists' part of a frame, noted for the fetches on their way.
    fn edit_lists(&mut self, frame: &ServerFrame) {
        let edited = [
            (List::Friends, edit_friends(&mut self.friends, frame)),
            (List::Groups, edit_groups(&mut self.groups, self.me, frame)),
            (List::Requests, edit_requests(&mut self.friend_requests, frame)),
            (List::Blocked, edit_blocked(&mut self.blocked, frame)),
        ];
        for (list, edited) in edited {
            if edited {
                self.fetching.of(list).note(frame);
            }
        }
    }

    /// Opens a conversation: its messages count as read from now on.
    /// Notes the conversation on screen; the caller marks it read with [`Roster::mark_read`]
    /// and reports the seq that returns.
    pub fn open(&mut self, conversation_id: Option<ConversationId>) {
        self.open = conversation_id;
    }

    /// Everything up to the newest message is read. Returns the seq to report, if any.
    pub fn mark_read(&mut self, conversation_id: ConversationId) -> Option<i64> {
        let conversation = self.conversations.get_mut(&conversation_id)?;
        conversation.unread = 0;
        conversation.mentions.clear();
        (conversation.last_seq > conversation.read_seq).then(|| {
            conversation.read_seq = conversation.last_seq;
            conversation.last_seq
        })
    }

    /// Applies a frame from the server.
    pub fn apply(&mut self, frame: &ServerFrame) -> Change {
        self.edit_lists(frame);
        match frame {
            ServerFrame::SyncState { conversations, friend_requests, group_requests } => {
                let mut fresh: BTreeMap<ConversationId, Conversation> =
                    conversations.iter().map(|c| (c.conversation_id, conversation_of(c))).collect();
                // Mentions known before and still unread stay; those that came while away are
                // found in the cache once it has caught up.
                for (id, conversation) in &mut fresh {
                    if let Some(before) = self.conversations.get(id) {
                        conversation.mentions = before
                            .mentions
                            .iter()
                            .copied()
                            .filter(|seq| *seq > conversation.read_seq)
                            .collect();
                    }
                }
                self.conversations = fresh;
                // `sync_state` lists the requests addressed to the user; the user's own stay.
                self.set_friend_requests(friend_requests.clone(), None);
                self.group_requests = group_requests.clone();
                // The open chat's news is reported read by the caller (`mark_read`).
                Change::Lists
            }
            ServerFrame::Message { message } => self.message(message),
            ServerFrame::Ack { conversation_id, seq, .. } => {
                let conversation = self.conversations.entry(*conversation_id).or_default();
                conversation.last_seq = conversation.last_seq.max(*seq);
                // One's own message is read by definition.
                conversation.read_seq = conversation.read_seq.max(*seq);
                Change::Nothing
            }
            ServerFrame::Presence { user_id, online } => {
                for member in self.members.values_mut().flatten().filter(|m| m.user.id == *user_id) {
                    member.online = *online;
                }
                Change::Nothing
            }
            ServerFrame::GroupMemberUpdated { group_id, member } => {
                // Only lists already fetched are kept; others are fetched when opened.
                if let Some(members) = self.members.get_mut(group_id) {
                    match members.iter_mut().find(|m| m.user.id == member.user.id) {
                        Some(known) => *known = member.clone(),
                        None => members.push(member.clone()),
                    }
                }
                Change::Nothing
            }
            ServerFrame::GroupMemberRemoved { group_id, user_id } => {
                if let Some(members) = self.members.get_mut(group_id) {
                    members.retain(|m| m.user.id != *user_id);
                }
                Change::Nothing
            }
            ServerFrame::FriendAdded { friend } => {
                let conversation = self.conversations.entry(friend.conversation_id).or_default();
                conversation.kind = Some(ConversationKind::Direct);
                conversation.peer_id = Some(friend.user.id);
                Change::Nothing
            }
            ServerFrame::GroupRequestReceived { request } => {
                if !self.group_requests.iter().any(|r| r.id == request.id) {
                    self.group_requests.push(request.as_ref().clone());
                }
                Change::Nothing
            }
            ServerFrame::GroupRequestClosed { request_id, .. } => {
                self.group_requests.retain(|r| r.id != *request_id);
                Change::Nothing
            }
            ServerFrame::GroupJoined { group } => {
                let conversation = self.conversations.entry(group.group.id).or_default();
                conversation.kind = Some(ConversationKind::Group);
                conversation.muted = group.muted;
                Change::Nothing
            }
            ServerFrame::GroupLeft { group_id, .. } => {
                self.members.remove(group_id);
                if self.open == Some(*group_id) {
                    self.open = None;
                }
                Change::Nothing
            }
            ServerFrame::ConversationUpdated { conversation_id, prefs } => {
                self.conversations.entry(*conversation_id).or_default().prefs = *prefs;
                Change::Nothing
            }
            ServerFrame::ProfileUpdated { user } => {
                for member in self.members.values_mut().flatten().filter(|m| m.user.id == user.id) {
                    member.user = user.clone();
                }
                for request in &mut self.friend_requests {
                    for party in [&mut request.from, &mut request.to] {
                        if party.id == user.id {
                            *party = user.clone();
                        }
                    }
                }
                Change::Nothing
            }
            ServerFrame::ReceiptUpdated { conversation_id, user_id, delivered_seq, read_seq } => {
                if *user_id != self.me
                    && let Some(cursors) = self.receipts.get_mut(conversation_id)
                {
                    let cursor = cursors.entry(*user_id).or_insert(MemberCursor {
                        user_id: *user_id,
                        delivered_seq: 0,
                        read_seq: 0,
                    });
                    cursor.delivered_seq = cursor.delivered_seq.max(*delivered_seq);
                    cursor.read_seq = cursor.read_seq.max(*read_seq);
                }
                Change::Nothing
            }
            _ => Change::Nothing,
        }
    }

    fn message(&mut self, message: &ChatMessage) -> Change {
        let open = self.open == Some(message.conversation_id);
        let conversation = self.conversations.entry(message.conversation_id).or_default();
        if message.seq <= conversation.last_seq {
            // Already counted (in sync_state, or pushed before): nothing new.
            return Change::Nothing;
        }
        conversation.last_seq = conversation.last_seq.max(message.seq);
        conversation.muted |= message.muted;
        let from_me = message.sender_id == Some(self.me);
        let notice = message.sender_id.is_none();
        let shown = !matches!(
            message.content,
            Content::Recall { .. }
                | Content::Notice { .. }
                | Content::Text { edit_of: Some(_), .. }
                | Content::Text { reaction_of: Some(_), .. }
        );
        if from_me {
            // One's own message is read by definition.
            conversation.read_seq = conversation.read_seq.max(message.seq);
            conversation.unread = 0;
        } else if open {
            // On screen: no badge. The read cursor moves in `mark_read`, whose answer the
            // caller reports to the server, so that the sender sees "read".
            conversation.unread = 0;
        } else if !notice && shown {
            conversation.unread += 1;
        }
        // A mention of the user counts even in a muted group.
        let mentioned = !from_me && message.content.mentions(self.me);
        if mentioned && !open {
            conversation.mentions.push(message.seq);
        }
        let alert = !from_me && !notice && shown && (mentioned || (!message.muted && !conversation.muted));
        Change::Message { conversation_id: message.conversation_id, alert }
    }
}

/// The friend list's part of a frame; true when the frame is one that changes the list.
fn edit_friends(friends: &mut BTreeMap<UserId, Friend>, frame: &ServerFrame) -> bool {
    match frame {
        ServerFrame::FriendAdded { friend } => {
            friends.insert(friend.user.id, friend.clone());
        }
        ServerFrame::FriendRemoved { user_id } => {
            friends.remove(user_id);
        }
        ServerFrame::Presence { user_id, online } => {
            if let Some(friend) = friends.get_mut(user_id) {
                friend.online = *online;
            }
        }
        ServerFrame::ProfileUpdated { user } => {
            if let Some(friend) = friends.get_mut(&user.id) {
                friend.user = user.clone();
            }
        }
        _ => return false,
    }
    true
}

/// The group list's part of a frame (`me` is the user); true when the frame is one that
/// changes the list.
fn edit_groups(groups: &mut BTreeMap<ConversationId, MyGroup>, me: UserId, frame: &ServerFrame) -> bool {
    match frame {
        ServerFrame::GroupJoined { group } => {
            groups.insert(group.group.id, group.clone());
        }
        ServerFrame::GroupLeft { group_id, .. } => {
            groups.remove(group_id);
        }
        ServerFrame::GroupUpdated { group } => {
            if let Some(mine) = groups.get_mut(&group.id) {
                mine.group = group.clone();
            }
        }
        ServerFrame::GroupMemberUpdated { group_id, member } if member.user.id == me => {
            if let Some(mine) = groups.get_mut(group_id) {
                mine.role = member.role;
            }
        }
        _ => return false,
    }
    true
}

/// The friend requests' part of a frame; true when the frame is one that changes them.
fn edit_requests(requests: &mut Vec<FriendRequest>, frame: &ServerFrame) -> bool {
    match frame {
        ServerFrame::FriendRequestReceived { request } => {
            if !requests.iter().any(|r| r.id == request.id) {
                requests.push(request.clone());
            }
        }
        ServerFrame::FriendRequestRefused { request_id, .. }
        | ServerFrame::FriendRequestCancelled { request_id } => {
            requests.retain(|r| r.id != *request_id);
        }
        // Friends now, or blocked (the server hides their requests to the user and withdrew
        // the user's own): no request between the two is left.
        ServerFrame::FriendAdded { friend: Friend { user, .. } }
        | ServerFrame::UserBlocked { blocked: BlockedUser { user, .. } } => {
            requests.retain(|r| r.from.id != user.id && r.to.id != user.id);
        }
        _ => return false,
    }
    true
}

/// The block list's part of a frame (nothing while the list is unknown); true when the frame
/// is one that changes the list.
fn edit_blocked(blocked: &mut Option<Vec<BlockedUser>>, frame: &ServerFrame) -> bool {
    match frame {
        ServerFrame::UserBlocked { blocked: block } => {
            if let Some(list) = blocked {
                list.retain(|b| b.user.id != block.user.id);
                list.insert(0, block.clone());
            }
        }
        ServerFrame::UserUnblocked { user_id } => {
            if let Some(list) = blocked {
                list.retain(|b| b.user.id != *user_id);
            }
        }
        _ => return false,
    }
    true
}

fn conversation_of(state: &ConversationState) -> Conversation {
    Conversation {
        kind: Some(state.kind),
        peer_id: state.peer_id,
        last_seq: state.last_seq,
        joined_seq: state.joined_seq,
        read_seq: state.read_seq,
        unread: state.unread,
        muted: state.muted,
        prefs: ConversationPrefs {
            pinned: state.pinned,
            archived: state.archived,
            marked_unread: state.marked_unread,
        },
        hidden: state.hidden,
        mentions: Vec::new(),
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use kith_shared::api::{GroupProfile, Role, UserProfile};

    fn user(id: UserId, name: &str) -> UserProfile {
        UserProfile { id, username: name.to_lowercase(), display_name: name.into(), avatar_url: None }
    }

    fn friend(id: UserId, name: &str, online: bool, conversation_id: ConversationId) -> Friend {
        Friend { user: user(id, name), online, conversation_id }
    }

    fn text_message(conversation_id: ConversationId, seq: i64, sender: UserId) -> ChatMessage {
        ChatMessage {
            id: seq,
            conversation_id,
            seq,
            sender_id: Some(sender),
            client_id: None,
            sent_at: seq,
            content: Content::text("hi"),
            edited_at: None,
            reactions: Vec::new(),
            forwarded_from: None,
            muted: false,
        }
    }

    fn group(id: ConversationId, name: &str, muted: bool) -> MyGroup {
        MyGroup {
            group: GroupProfile {
                id,
                name: name.into(),
                description: String::new(),
                owner_id: 1,
                member_count: 3,
                created_at: 0,
                announcement: None,
                avatar_url: None,
            },
            role: Role::Member,
            muted,
        }
    }

    fn member(id: UserId, name: &str, role: Role, online: bool) -> GroupMember {
        GroupMember { user: user(id, name), role, online }
    }

    #[test]
    fn members_sort_by_role_and_follow_frames() {
        let mut roster = Roster::new(1);
        roster.apply(&ServerFrame::GroupJoined { group: group(20, "Climbers", false) });
        roster.set_members(
            20,
            vec![
                member(1, "Me", Role::Member, true),
                member(5, "Eve", Role::Member, false),
                member(3, "Carol", Role::Owner, false),
                member(4, "Dan", Role::Admin, true),
            ],
        );
        let order = |roster: &Roster| -> Vec<String> {
            roster.members_sorted(20).iter().map(|m| m.user.display_name.clone()).collect()
        };
        assert_eq!(order(&roster), ["Carol", "Dan", "Me", "Eve"]);
        assert_eq!(roster.name_of(5), Some("Eve"), "members' names are known");

        roster.apply(&ServerFrame::Presence { user_id: 5, online: true });
        assert_eq!(order(&roster), ["Carol", "Dan", "Eve", "Me"]);
        roster.apply(&ServerFrame::GroupMemberUpdated {
            group_id: 20,
            member: member(1, "Me", Role::Admin, true),
        });
        assert_eq!(order(&roster), ["Carol", "Dan", "Me", "Eve"], "admins by name");
        assert_eq!(roster.groups[&20].role, Role::Admin, "one's own role follows");
        roster.apply(&ServerFrame::GroupMemberUpdated {
            group_id: 20,
            member: member(6, "Fay", Role::Member, true),
        });
        roster.apply(&ServerFrame::GroupMemberRemoved { group_id: 20, user_id: 4 });
        assert_eq!(order(&roster), ["Carol", "Me", "Eve", "Fay"]);
        roster.apply(&ServerFrame::GroupLeft { group_id: 20, reason: kith_shared::frame::LeaveReason::Left });
        assert!(roster.members_sorted(20).is_empty());
    }

    #[test]
    fn presence_updates_the_friend_and_sorting_puts_online_first() {
        let mut roster = Roster::new(1);
        roster.set_friends(vec![
            friend(2, "bob", false, 10),
            friend(3, "Carol", true, 11),
            friend(4, "al", false, 12),
        ]);
        let names: Vec<_> = roster.friends_sorted().iter().map(|f| f.user.display_name.clone()).collect();
        assert_eq!(names, ["Carol", "al", "bob"]);
        roster.apply(&ServerFrame::Presence { user_id: 2, online: true });
        let names: Vec<_> = roster.friends_sorted().iter().map(|f| f.user.display_name.clone()).collect();
        assert_eq!(names, ["bob", "Carol", "al"]);
        // Presence of a stranger changes nothing.
        roster.apply(&ServerFrame::Presence { user_id: 99, online: true });
        assert_eq!(roster.friends.len(), 3);
    }

    #[test]
    fn messages_count_unread_unless_open_or_mine() {
        let mut roster = Roster::new(1);
        roster.set_friends(vec![friend(2, "Bob", true, 10)]);
        assert_eq!(
            roster.apply(&ServerFrame::Message { message: text_message(10, 1, 2) }),
            Change::Message { conversation_id: 10, alert: true }
        );
        roster.apply(&ServerFrame::Message { message: text_message(10, 2, 2) });
        assert_eq!(roster.unread(10), 2);
        assert_eq!(roster.total_unread(), 2);
        // Own messages (from another device) neither count nor alert.
        assert_eq!(
            roster.apply(&ServerFrame::Message { message: text_message(10, 3, 1) }),
            Change::Message { conversation_id: 10, alert: false }
        );
        assert_eq!(roster.unread(10), 0, "writing in a conversation means having read it");

        roster.apply(&ServerFrame::Message { message: text_message(10, 4, 2) });
        roster.open(Some(10));
        assert_eq!(roster.mark_read(10), Some(4), "opening reads it: the receipt to send");
        assert_eq!(roster.unread(10), 0);
        roster.apply(&ServerFrame::Message { message: text_message(10, 5, 2) });
        assert_eq!(roster.unread(10), 0, "the open conversation gets no badge");
        assert_eq!(roster.mark_read(10), Some(5), "shown in the open chat: the read to report");
        assert_eq!(roster.conversations[&10].read_seq, 5);
    }

    #[test]
    fn muted_groups_get_no_badge_and_no_sound() {
        let mut roster = Roster::new(1);
        roster.apply(&ServerFrame::GroupJoined { group: group(20, "Climbers", true) });
        let message = ChatMessage { muted: true, ..text_message(20, 1, 5) };
        assert_eq!(
            roster.apply(&ServerFrame::Message { message }),
            Change::Message { conversation_id: 20, alert: false }
        );
        assert_eq!(roster.unread(20), 0);
        assert_eq!(roster.target(20), Some(Target::Group { id: 20 }));
        assert_eq!(roster.title(20), "Climbers");
    }

    #[test]
    fn a_mention_alerts_in_a_muted_group_and_is_kept_until_read() {
        use kith_shared::frame::Mentions;
        let mut roster = Roster::new(1);
        roster.apply(&ServerFrame::GroupJoined { group: group(20, "Climbers", true) });
        let mention = |seq: i64, mentions: Mentions| ChatMessage {
            content: Content::Text {
                text: "@Me look".into(),
                reply_to: None,
                edit_of: None,
                reaction_of: None,
                mentions,
            },
            ..text_message(20, seq, 5)
        };
        let me = Mentions { user_ids: vec![1], all: false };
        let someone_else = Mentions { user_ids: vec![6], all: false };
        assert_eq!(
            roster.apply(&ServerFrame::Message { message: mention(1, me.clone()) }),
            Change::Message { conversation_id: 20, alert: true },
            "the server sends a mention unmuted; the muted group does not silence it"
        );
        let muted = ChatMessage { muted: true, ..mention(2, someone_else) };
        assert_eq!(
            roster.apply(&ServerFrame::Message { message: muted }),
            Change::Message { conversation_id: 20, alert: false }
        );
        roster.apply(&ServerFrame::Message { message: mention(3, Mentions { user_ids: vec![], all: true }) });
        assert!(roster.mentioned(20));
        assert_eq!(roster.unread_mentions(20), [1, 3]);
        assert_eq!(roster.unread(20), 0, "no number on a muted group");
        // My own mention of myself is no news.
        roster.apply(&ServerFrame::Message { message: ChatMessage { sender_id: Some(1), ..mention(4, me) } });
        assert_eq!(roster.unread_mentions(20), [1, 3]);

        // A reconnect keeps those still unread; the cache adds those that came while away.
        let state = |read_seq: i64| ConversationState {
            conversation_id: 20,
            kind: ConversationKind::Group,
            peer_id: None,
            last_seq: 9,
            joined_seq: 0,
            delivered_seq: 9,
            read_seq,
            unread: 0,
            muted: true,
            pinned: false,
            archived: false,
            marked_unread: false,
            hidden: 0,
        };
        let sync = |read_seq| ServerFrame::SyncState {
            conversations: vec![state(read_seq)],
            friend_requests: vec![],
            group_requests: vec![],
        };
        roster.apply(&sync(2));
        assert_eq!(roster.unread_mentions(20), [3], "read on another device up to 2");
        roster.add_mentions(20, &[2, 7, 3]);
        assert_eq!(roster.unread_mentions(20), [3, 7]);

        // Reading the conversation reads its mentions.
        roster.open(Some(20));
        assert_eq!(roster.mark_read(20), Some(9));
        assert!(!roster.mentioned(20));
        roster.add_mentions(20, &[8]);
        assert!(!roster.mentioned(20), "none while the chat is open");
        roster.apply(&sync(9));
        assert!(!roster.mentioned(20));
    }

    #[test]
    fn sync_state_sets_counters_and_requests() {
        let mut roster = Roster::new(1);
        let request = FriendRequest {
            id: 4,
            from: user(2, "Bob"),
            to: user(1, "Me"),
            message: "hi".into(),
            created_at: 0,
        };
        let outgoing = FriendRequest {
            id: 5,
            from: user(1, "Me"),
            to: user(3, "Carol"),
            message: String::new(),
            created_at: 0,
        };
        roster.apply(&ServerFrame::SyncState {
            conversations: vec![ConversationState {
                conversation_id: 10,
                kind: ConversationKind::Direct,
                peer_id: Some(2),
                last_seq: 9,
                joined_seq: 0,
                delivered_seq: 9,
                read_seq: 6,
                unread: 3,
                muted: false,
                pinned: false,
                archived: false,
                marked_unread: false,
                hidden: 0,
            }],
            friend_requests: vec![request.clone(), outgoing],
            group_requests: vec![],
        });
        assert_eq!(roster.unread(10), 3);
        assert_eq!(roster.target(10), Some(Target::User { id: 2 }));
        assert_eq!(roster.incoming_friend_requests().collect::<Vec<_>>(), [&request]);
        assert_eq!(roster.pending_count(), 1);
        // Opening it reads everything up to seq 9, once.
        roster.open(Some(10));
        assert_eq!(roster.mark_read(10), Some(9));
        assert_eq!(roster.unread(10), 0);
        assert_eq!(roster.mark_read(10), None);
        // A message already counted (replayed after a reconnect) is not counted again.
        roster.open(None);
        roster.apply(&ServerFrame::Message { message: text_message(10, 9, 2) });
        assert_eq!(roster.unread(10), 0);
    }

    #[test]
    fn accepting_a_request_makes_a_friend_and_clears_the_request() {
        let mut roster = Roster::new(1);
        let request = FriendRequest {
            id: 4,
            from: user(2, "Bob"),
            to: user(1, "Me"),
            message: "hi".into(),
            created_at: 0,
        };
        roster.apply(&ServerFrame::FriendRequestReceived { request: request.clone() });
        roster.apply(&ServerFrame::FriendRequestReceived { request });
        assert_eq!(roster.pending_count(), 1, "a repeated push is kept once");
        roster.apply(&ServerFrame::FriendAdded { friend: friend(2, "Bob", true, 10) });
        assert_eq!(roster.pending_count(), 0);
        assert_eq!(roster.title(10), "Bob");
        roster.apply(&ServerFrame::FriendRemoved { user_id: 2 });
        assert!(roster.friends.is_empty());
    }

    #[test]
    fn a_block_from_any_device_updates_the_list_and_drops_the_requests_between_the_two() {
        let mut roster = Roster::new(1);
        let request = |id, from, to| FriendRequest { id, from, to, message: String::new(), created_at: 0 };
        roster.apply(&ServerFrame::FriendRequestReceived {
            request: request(4, user(2, "Bob"), user(1, "Me")),
        });
        roster.apply(&ServerFrame::FriendRequestReceived {
            request: request(5, user(1, "Me"), user(2, "Bob")),
        });
        roster.apply(&ServerFrame::FriendRequestReceived {
            request: request(6, user(3, "Carol"), user(1, "Me")),
        });
        let blocked = |id, name, blocked_at| BlockedUser { user: user(id, name), blocked_at };

        // Before the list arrived, a block still drops the requests; the list stays unknown.
        roster.apply(&ServerFrame::UserBlocked { blocked: blocked(2, "Bob", 10) });
        let left: Vec<i64> = roster.friend_requests.iter().map(|r| r.id).collect();
        assert_eq!(left, [6], "Bob's request and the user's own to him are gone; Carol's stays");
        assert_eq!(roster.blocked, None);
        assert!(!roster.blocks(2), "not known yet");

        // Once known, blocks and unblocks keep it current, the latest first, once each.
        roster.blocked = Some(vec![blocked(2, "Bob", 10)]);
        assert!(roster.blocks(2));
        roster.apply(&ServerFrame::UserBlocked { blocked: blocked(3, "Carol", 20) });
        roster.apply(&ServerFrame::UserBlocked { blocked: blocked(3, "Carol", 20) });
        assert_eq!(roster.blocked, Some(vec![blocked(3, "Carol", 20), blocked(2, "Bob", 10)]));
        assert_eq!(roster.pending_count(), 0, "Carol's request is gone too");
        roster.apply(&ServerFrame::UserUnblocked { user_id: 2 });
        roster.apply(&ServerFrame::UserUnblocked { user_id: 99 });
        assert_eq!(roster.blocked, Some(vec![blocked(3, "Carol", 20)]));
        assert!(!roster.blocks(2) && roster.blocks(3));
    }

    #[test]
    fn blocks_pushed_while_the_list_is_fetched_survive_an_older_answer() {
        let mut roster = Roster::new(1);
        let blocked = |id, name, blocked_at| BlockedUser { user: user(id, name), blocked_at };

        // Blocked on another device while the first fetch is on its way; the answer was read
        // before the block.
        roster.fetch_started(List::Blocked);
        roster.apply(&ServerFrame::UserBlocked { blocked: blocked(3, "Carol", 20) });
        roster.blocks_fetched(vec![blocked(2, "Bob", 10)]);
        assert_eq!(roster.blocked, Some(vec![blocked(3, "Carol", 20), blocked(2, "Bob", 10)]));

        // Unblocked meanwhile: the answer does not bring Bob back.
        roster.fetch_started(List::Blocked);
        roster.apply(&ServerFrame::UserUnblocked { user_id: 2 });
        roster.blocks_fetched(vec![blocked(3, "Carol", 20), blocked(2, "Bob", 10)]);
        assert_eq!(roster.blocked, Some(vec![blocked(3, "Carol", 20)]));

        // An answer read after the block has it once.
        roster.fetch_started(List::Blocked);
        roster.apply(&ServerFrame::UserBlocked { blocked: blocked(4, "Dan", 30) });
        roster.blocks_fetched(vec![blocked(4, "Dan", 30), blocked(3, "Carol", 20)]);
        assert_eq!(roster.blocked, Some(vec![blocked(4, "Dan", 30), blocked(3, "Carol", 20)]));

        // Two fetches on their way (a reconnect, the Settings opened): each answer gets what
        // came since the older one started, whichever comes first.
        roster.fetch_started(List::Blocked);
        roster.apply(&ServerFrame::UserBlocked { blocked: blocked(5, "Eve", 40) });
        roster.fetch_started(List::Blocked);
        roster.apply(&ServerFrame::UserUnblocked { user_id: 4 });
        roster.blocks_fetched(vec![blocked(5, "Eve", 40), blocked(4, "Dan", 30), blocked(3, "Carol", 20)]);
        assert_eq!(roster.blocked, Some(vec![blocked(5, "Eve", 40), blocked(3, "Carol", 20)]));
        roster.blocks_fetched(vec![blocked(4, "Dan", 30), blocked(3, "Carol", 20)]);
        assert_eq!(roster.blocked, Some(vec![blocked(5, "Eve", 40), blocked(3, "Carol", 20)]));

        // With no fetch on its way nothing is kept, and an answer is taken as it is.
        roster.apply(&ServerFrame::UserUnblocked { user_id: 5 });
        assert!(roster.fetching.blocked.frames.is_empty());
        roster.blocks_fetched(vec![blocked(6, "Fay", 50)]);
        assert_eq!(roster.blocked, Some(vec![blocked(6, "Fay", 50)]));

        // A failed fetch lets go of what it kept; the list stays as the frames made it.
        roster.fetch_started(List::Blocked);
        roster.apply(&ServerFrame::UserBlocked { blocked: blocked(7, "Gus", 60) });
        roster.fetch_failed(List::Blocked);
        assert!(roster.fetching.blocked.frames.is_empty());
        assert!(roster.blocks(7) && roster.blocks(6));
    }

    #[test]
    fn friends_groups_and_requests_pushed_while_fetched_survive_an_older_answer() {
        let mut roster = Roster::new(1);
        for list in [List::Friends, List::Groups, List::Requests] {
            roster.fetch_started(list);
        }
        roster.apply(&ServerFrame::FriendAdded { friend: friend(3, "Carol", true, 11) });
        roster.apply(&ServerFrame::FriendRemoved { user_id: 2 });
        roster.apply(&ServerFrame::Presence { user_id: 4, online: false });
        roster.apply(&ServerFrame::ProfileUpdated { user: user(4, "Daniel") });
        roster.friends_fetched(vec![friend(2, "Bob", true, 10), friend(4, "Dan", true, 12)]);
        let friends: Vec<(&str, bool)> =
            roster.friends.values().map(|f| (f.user.display_name.as_str(), f.online)).collect();
        assert_eq!(friends, [("Carol", true), ("Daniel", false)]);

        roster.apply(&ServerFrame::GroupJoined { group: group(30, "Climbers", false) });
        roster.apply(&ServerFrame::GroupLeft {
            group_id: 20,
            reason: kith_shared::frame::LeaveReason::Removed,
        });
        let mut renamed = group(31, "Book club", false).group;
        renamed.member_count = 4;
        roster.apply(&ServerFrame::GroupUpdated { group: renamed });
        roster.apply(&ServerFrame::GroupMemberUpdated {
            group_id: 31,
            member: member(1, "Me", Role::Admin, true),
        });
        roster.groups_fetched(vec![group(20, "Choir", false), group(31, "Readers", false)]);
        let groups: Vec<(&str, Role)> =
            roster.groups.values().map(|g| (g.group.name.as_str(), g.role)).collect();
        assert_eq!(groups, [("Climbers", Role::Member), ("Book club", Role::Admin)]);

        let request = |id, from: UserProfile, to: UserProfile| FriendRequest {
            id,
            from,
            to,
            message: String::new(),
            created_at: 0,
        };
        roster.apply(&ServerFrame::FriendRequestReceived {
            request: request(8, user(5, "Eve"), user(1, "Me")),
        });
        roster.apply(&ServerFrame::FriendRequestCancelled { request_id: 7 });
        roster.friend_requests_fetched(vec![request(7, user(6, "Fay"), user(1, "Me"))], vec![]);
        let ids: Vec<i64> = roster.friend_requests.iter().map(|r| r.id).collect();
        assert_eq!(ids, [8], "Eve's new request stays, Fay's withdrawn one does not come back");

        // Every fetch answered: nothing more is kept.
        roster.apply(&ServerFrame::Presence { user_id: 3, online: false });
        assert!(roster.fetching.friends.frames.is_empty() && roster.fetching.groups.frames.is_empty());
        assert!(roster.fetching.requests.frames.is_empty());
    }

    #[test]
    fn leaving_a_group_closes_its_chat() {
        let mut roster = Roster::new(1);
        roster.apply(&ServerFrame::GroupJoined { group: group(20, "Climbers", false) });
        roster.open(Some(20));
        roster.apply(&ServerFrame::GroupLeft {
            group_id: 20,
            reason: kith_shared::frame::LeaveReason::Dissolved,
        });
        assert!(roster.groups.is_empty());
        assert_eq!(roster.open, None);
    }

    #[test]
    fn receipts_tell_how_far_own_messages_got() {
        let mut roster = Roster::new(1);
        roster.set_friends(vec![friend(2, "Bob", true, 5)]);
        assert_eq!(roster.reach(5, 3), Reach::Sent, "cursors not fetched yet");
        let cursor = |user_id, delivered_seq, read_seq| MemberCursor { user_id, delivered_seq, read_seq };
        roster.set_receipts(5, vec![cursor(1, 9, 9), cursor(2, 4, 2)]);
        assert_eq!(roster.reach(5, 2), Reach::Read);
        assert_eq!(roster.reach(5, 3), Reach::Delivered);
        assert_eq!(roster.reach(5, 5), Reach::Sent, "the user's own cursor does not count");
        let update = |conversation_id, user_id, delivered_seq, read_seq| ServerFrame::ReceiptUpdated {
            conversation_id,
            user_id,
            delivered_seq,
            read_seq,
        };
        roster.apply(&update(5, 2, 5, 5));
        assert_eq!(roster.reach(5, 5), Reach::Read);
        roster.apply(&update(5, 2, 3, 3));
        assert_eq!(roster.reach(5, 5), Reach::Read, "cursors never move back");

        roster.apply(&ServerFrame::GroupJoined { group: group(12, "Chess Club", false) });
        roster.set_receipts(12, vec![cursor(2, 7, 7), cursor(3, 7, 4)]);
        assert_eq!(roster.reach(12, 4), Reach::ReadBy(2));
        assert_eq!(roster.reach(12, 6), Reach::ReadBy(1));
        assert_eq!(roster.reach(12, 8), Reach::Sent);
        roster.apply(&update(12, 4, 8, 8));
        assert_eq!(roster.reach(12, 8), Reach::ReadBy(1));
        assert_eq!(Reach::ReadBy(2).describe(), "read by 2");
    }

    #[test]
    fn the_users_own_requests_survive_a_sync() {
        let mut roster = Roster::new(1);
        let me = user(1, "Alice");
        let sent = FriendRequest {
            id: 7,
            from: me.clone(),
            to: user(2, "Bob"),
            message: String::new(),
            created_at: 0,
        };
        let old = FriendRequest {
            id: 8,
            from: user(3, "Carol"),
            to: me.clone(),
            message: String::new(),
            created_at: 0,
        };
        let new =
            FriendRequest { id: 9, from: user(4, "Dave"), to: me, message: String::new(), created_at: 0 };
        roster.friend_requests = vec![sent.clone(), old];
        roster.apply(&ServerFrame::SyncState {
            conversations: vec![],
            friend_requests: vec![new.clone()],
            group_requests: vec![],
        });
        assert_eq!(roster.friend_requests, [sent, new], "incoming ones replaced, own ones kept");
    }
}

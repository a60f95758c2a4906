//! A cache of who belongs to each conversation, for authorising and routing messages
//! without a database read per message. Whoever changes membership (friends, groups)
//! calls [`Membership::invalidate`]; the session watch clears it all when the operator's
//! command line changed memberships (`crate::sessions`). In a cluster an invalidation reaches
//! every node through the bus (`crate::bus`).

use crate::bus::{Event, Relay};
use crate::store::{Store, StoreResult};
use kith_shared::UserId;
use kith_shared::api::{ConversationId, ConversationKind};
use std::collections::HashMap;
use std::sync::atomic::{AtomicU64, Ordering};
use std::sync::{Arc, RwLock};

/// The members of one conversation.
#[derive(Debug)]
pub struct Members {
    pub conversation_id: ConversationId,
    pub kind: ConversationKind,
    /// Each member with their mute setting.
    pub members: Vec<(UserId, bool)>,
}

impl Members {
    pub fn contains(&self, user_id: UserId) -> bool {
        self.members.iter().any(|(id, _)| *id == user_id)
    }

    pub fn user_ids(&self) -> impl Iterator<Item = UserId> + '_ {
        self.members.iter().map(|(id, _)| *id)
    }
}

#[derive(Debug, Default)]
pub struct Membership {
    cache: RwLock<HashMap<ConversationId, Arc<Members>>>,
    /// Moved by every invalidation: members read from the database before it moved are not
    /// cached (they may predate the change).
    generation: AtomicU64,
    /// The other nodes of a cluster, told of every invalidation.
    relay: Option<Relay>,
    /// The direct conversation of each pair of users (smaller id first), once looked up.
    /// A pair's conversation never changes once created, so this is never invalidated.
    direct: RwLock<HashMap<(UserId, UserId), ConversationId>>,
}

impl Membership {
    /// A cache whose invalidations reach the other nodes through `relay`.
    pub fn new(relay: Option<Relay>) -> Self {
        Self { relay, ..Self::default() }
    }

    /// The members of a conversation, or None if it does not exist.
    pub async fn get(
        &self,
        store: &Store,
        conversation_id: ConversationId,
    ) -> StoreResult<Option<Arc<Members>>> {
        if let Some(found) = self.cache.read().unwrap_or_else(|e| e.into_inner()).get(&conversation_id) {
            return Ok(Some(found.clone()));
        }
        let generation = self.generation.load(Ordering::Acquire);
        let Some(conversation) = store.conversation(conversation_id).await? else { return Ok(None) };
        let rows = store.members(conversation_id).await?;
        let members = Arc::new(Members {
            conversation_id,
            kind: conversation.kind(),
            members: rows.iter().map(|m| (m.user_id, m.muted)).collect(),
        });
        let mut cache = self.cache.write().unwrap_or_else(|e| e.into_inner());
        if self.generation.load(Ordering::Acquire) == generation {
            cache.insert(conversation_id, members.clone());
        }
        Ok(Some(members))
    }

    /// The direct conversation of two users, if it was ever created.
    /// Loads the members of those of `ids` not cached yet, in a few statements rather than two
    /// per conversation (a user in 2,000 groups connecting after a restart).
    pub async fn load_many(&self, store: &Store, ids: &[ConversationId]) -> StoreResult<()> {
        let missing: Vec<ConversationId> = {
            let cache = self.cache.read().unwrap_or_else(|e| e.into_inner());
            ids.iter().copied().filter(|id| !cache.contains_key(id)).collect()
        };
        if missing.is_empty() {
            return Ok(());
        }
        let generation = self.generation.load(Ordering::Acquire);
        let conversations = store.conversations(&missing).await?;
        let mut members: HashMap<ConversationId, Vec<(UserId, bool)>> = HashMap::new();
        for row in store.members_of(&missing).await? {
            members.entry(row.conversation_id).or_default().push((row.user_id, row.muted));
        }
        let mut cache = self.cache.write().unwrap_or_else(|e| e.into_inner());
        if self.generation.load(Ordering::Acquire) != generation {
            return Ok(());
        }
        for conversation in conversations {
            let loaded = Members {
                conversation_id: conversation.id,
                kind: conversation.kind(),
                members: members.remove(&conversation.id).unwrap_or_default(),
            };
            cache.entry(conversation.id).or_insert_with(|| Arc::new(loaded));
        }
        Ok(())
    }

    pub async fn direct(&self, store: &Store, a: UserId, b: UserId) -> StoreResult<Option<ConversationId>> {
        let key = (a.min(b), a.max(b));
        if let Some(id) = self.direct.read().unwrap_or_else(|e| e.into_inner()).get(&key) {
            return Ok(Some(*id));
        }
        let found = store.find_direct_conversation(a, b).await?;
        if let Some(id) = found {
            self.direct.write().unwrap_or_else(|e| e.into_inner()).insert(key, id);
        }
        Ok(found)
    }

    /// Forgets a conversation's members, on every node; the next [`Membership::get`] reads
    /// them again.
    pub fn invalidate(&self, conversation_id: ConversationId) {
        self.forget_here(conversation_id);
        if let Some(relay) = &self.relay {
            relay.publish(Event::Forget { conversation: conversation_id }, b"");
        }
    }

    /// Forgets a conversation's members on this node only (another node changed them).
    pub fn forget_here(&self, conversation_id: ConversationId) {
        let mut cache = self.cache.write().unwrap_or_else(|e| e.into_inner());
        self.generation.fetch_add(1, Ordering::AcqRel);
        cache.remove(&conversation_id);
    }

    /// Forgets every conversation's members (they were changed by another process).
    pub fn clear(&self) {
        let mut cache = self.cache.write().unwrap_or_else(|e| e.into_inner());
        self.generation.fetch_add(1, Ordering::AcqRel);
        cache.clear();
    }
}

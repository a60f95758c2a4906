//! Mentions: a group text may call out members by name (`@Name`) and, from the group's
//! owner or an admin, everyone (`@all`). The ids a client names are checked against the
//! group's members here; the writer then pushes the message to those mentioned as unmuted,
//! even when they muted the group.

use super::send::Sender;
use crate::error::Refusal;
use crate::membership::Members;
use kith_shared::api::ConversationKind;
use kith_shared::api::limits::MENTIONS_MAX;
use kith_shared::frame::Mentions;

impl Sender<'_> {
    /// The mentions of a text going to `members`, checked and each id kept once: only in a
    /// group (`invalid_field`), at most [`MENTIONS_MAX`] ids, each a current member
    /// (`invalid_field`), and `all` only from the group's owner or an admin (`forbidden`).
    pub(super) async fn check_mentions(
        &self,
        members: &Members,
        mentions: Mentions,
    ) -> Result<Mentions, Refusal> {
        if mentions.is_empty() {
            return Ok(mentions);
        }
        if members.kind != ConversationKind::Group {
            return Err(Refusal::invalid("mentions are for group messages"));
        }
        let Mentions { mut user_ids, all } = mentions;
        if user_ids.len() > MENTIONS_MAX {
            return Err(Refusal::invalid(format!("a message mentions at most {MENTIONS_MAX} members")));
        }
        user_ids.sort_unstable();
        user_ids.dedup();
        if !user_ids.iter().all(|id| members.contains(*id)) {
            return Err(Refusal::invalid("only members of the group can be mentioned"));
        }
        if all {
            let role = self.app.store.member(members.conversation_id, self.user_id).await?.map(|m| m.role());
            if !role.is_some_and(|role| role.can_moderate()) {
                return Err(Refusal::forbidden("only the group's owner and admins may mention everyone"));
            }
        }
        Ok(Mentions { user_ids, all })
    }
}

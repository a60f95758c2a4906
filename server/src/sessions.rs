//! The session watch: a background task that keeps this server in step with changes made to
//! the database by another process, the operator's command line (`kith-server user ...`).
//!
//! Every SESSION_CHECK_SECS (2 s by default) it
//! - reads, in one query, which of the sessions its sockets said hello with still exist for
//!   an account that is not disabled, and closes the sockets of the others with `kicked` /
//!   `logged_out` (a new password, a disabled or deleted account);
//! - stamps the sessions it has sockets on (`connected_at`, `seen_at`, refreshed every
//!   [`SEEN_REFRESH`]) and clears the stamps of those whose last socket closed, so that
//!   `kith-server online` can read who is connected;
//! - reads the membership epoch and forgets its membership cache when the number changed
//!   (an account deleted, its groups handed over or dissolved).
//!
//! With no socket open a tick is one read of one row. At shutdown the stamps are cleared.

use crate::app::App;
use crate::hub::{KickWhich, TokenHash};
use crate::store::{SEEN_REFRESH, StoreResult, now_millis};
use kith_shared::UserId;
use kith_shared::frame::KickReason;
use std::collections::{HashMap, HashSet};
use std::sync::Arc;
use tokio::time::Instant;

/// Starts the watch (stopped by `app.shutdown`).
pub fn start(app: &Arc<App>) {
    app.tasks.spawn(watch(app.clone()));
}

async fn watch(app: Arc<App>) {
    let mut state = Watch::default();
    let mut tick = tokio::time::interval(app.config.session_check);
    tick.set_missed_tick_behavior(tokio::time::MissedTickBehavior::Delay);
    loop {
        tokio::select! {
            _ = app.shutdown.cancelled() => break,
            _ = tick.tick() => {}
        }
        if let Err(err) = state.tick(&app).await {
            tracing::warn!(%err, "session watch failed; trying again at the next tick");
        }
    }
    let stamped: Vec<TokenHash> = state.stamped.into_keys().collect();
    for chunk in stamped.chunks(CHUNK) {
        if let Err(err) = app.store.clear_session_stamps(&hex(chunk)).await {
            tracing::warn!(%err, "could not clear the session stamps at shutdown");
        }
    }
    tracing::debug!("session watch stopped");
}

/// Tokens per call to the store: their hex forms, which the store takes, exist for one chunk
/// at a time, not for every session at once.
const CHUNK: usize = 1000;

fn hex(tokens: &[TokenHash]) -> Vec<String> {
    tokens.iter().copied().map(TokenHash::to_hex).collect()
}

#[derive(Debug, Default)]
struct Watch {
    /// The sessions this server stamped, and when.
    stamped: HashMap<TokenHash, Instant>,
    /// The membership epoch last read; None before the first read.
    epoch: Option<i64>,
}

impl Watch {
    async fn tick(&mut self, app: &App) -> StoreResult<()> {
        let live = app.hub.sessions();
        let mut tokens: Vec<TokenHash> = live.iter().map(|(_, token)| *token).collect();
        tokens.sort_unstable();
        tokens.dedup();
        let mut valid: HashSet<TokenHash> = HashSet::with_capacity(tokens.len());
        for chunk in tokens.chunks(CHUNK) {
            let found = app.store.valid_sessions(&hex(chunk)).await?;
            valid.extend(found.iter().filter_map(|hash| TokenHash::from_hex(hash)));
        }
        drop(tokens);
        // Read after the sessions: an account deleted before they were read has its epoch
        // seen now, so the cache is cleared before its friends learn it is gone.
        let epoch = app.store.membership_epoch().await?;
        if self.epoch.is_some_and(|seen| seen != epoch) {
            tracing::info!(epoch, "memberships changed outside the server; reloading them");
            app.membership.clear();
        }
        self.epoch = Some(epoch);
        let revoked: Vec<&(UserId, TokenHash)> =
            live.iter().filter(|(_, token)| !valid.contains(token)).collect();
        if !revoked.is_empty() {
            kick_revoked(app, &revoked).await?;
        }
        drop(live);

        let now = Instant::now();
        let fresh: Vec<TokenHash> =
            valid.iter().filter(|t| !self.stamped.contains_key(*t)).copied().collect();
        let due: Vec<TokenHash> = valid
            .iter()
            .filter(|t| self.stamped.get(*t).is_some_and(|at| now.duration_since(*at) >= SEEN_REFRESH))
            .copied()
            .collect();
        let gone: Vec<TokenHash> = self.stamped.keys().filter(|t| !valid.contains(*t)).copied().collect();
        drop(valid);
        let millis = now_millis();
        for chunk in fresh.chunks(CHUNK) {
            app.store.stamp_sessions(&hex(chunk), millis, true).await?;
        }
        for chunk in due.chunks(CHUNK) {
            app.store.stamp_sessions(&hex(chunk), millis, false).await?;
        }
        for chunk in gone.chunks(CHUNK) {
            app.store.clear_session_stamps(&hex(chunk)).await?;
        }
        for token in gone {
            self.stamped.remove(&token);
        }
        for token in fresh.into_iter().chain(due) {
            self.stamped.insert(token, now);
        }
        // The map shrinks again after a crowd went away.
        if self.stamped.capacity() > 4 * self.stamped.len().max(64) {
            self.stamped.shrink_to_fit();
        }
        Ok(())
    }
}

/// Closes the sockets of sessions that ended outside this server, saying why.
async fn kick_revoked(app: &App, revoked: &[&(UserId, TokenHash)]) -> StoreResult<()> {
    let mut user_ids: Vec<UserId> = revoked.iter().map(|(user_id, _)| *user_id).collect();
    user_ids.sort_unstable();
    user_ids.dedup();
    let accounts = app.store.users_by_ids(user_ids).await?;
    for (user_id, token) in revoked {
        let message = match accounts.iter().find(|row| row.id == *user_id) {
            None => "the operator deleted this account",
            Some(row) if row.disabled => "the operator disabled this account",
            Some(_) => "this session ended (the password was changed); log in again",
        };
        tracing::info!(user_id, message, "closing a revoked session's sockets");
        app.hub.kick(*user_id, KickWhich::Token(&token.to_hex()), KickReason::LoggedOut, message);
    }
    Ok(())
}

//! The state every handler shares: configuration, database, hub, metrics and shutdown signal.

use crate::auth::{FailureLimiter, Passwords};
use crate::bus::Relay;
use crate::config::Config;
use crate::files::picture::DecodeBudget;
use crate::files::upload::InProgress;
use crate::hub::Hub;
use crate::membership::Membership;
use crate::messages::Messages;
use crate::metrics::Metrics;
use crate::store::Store;
use kith_shared::UserId;
use kith_shared::api::UserProfile;
use std::path::PathBuf;
use std::sync::Arc;
use std::time::Duration;
use tokio_util::sync::CancellationToken;
use tokio_util::task::TaskTracker;

pub struct App {
    pub config: Config,
    pub store: Store,
    pub hub: Arc<Hub>,
    pub membership: Membership,
    pub messages: Messages,
    /// The metric handles (no-ops without METRICS_PORT).
    pub metrics: Arc<Metrics>,
    pub login_failures: FailureLimiter,
    /// Friend requests sent per user in the current hour.
    pub friend_requests: FailureLimiter,
    pub passwords: Passwords,
    /// Cancelled when the server starts shutting down.
    pub shutdown: CancellationToken,
    /// Tracks connection tasks so shutdown can wait for them.
    pub tasks: TaskTracker,
    /// The decoder memory every picture decode shares.
    pub decode_budget: DecodeBudget,
    /// Uploads in progress, per user.
    pub uploads_in_progress: InProgress,
    /// Whether both listeners speak TLS.
    pub tls: bool,
}

impl App {
    /// Builds the state and starts the message writer. With `relay` this node is one of a
    /// cluster: the hub and the membership cache tell the other nodes through it, and the
    /// writer numbers messages in the shared database.
    pub async fn new(
        config: Config,
        store: Store,
        relay: Option<Relay>,
    ) -> Result<Self, crate::store::StoreError> {
        let metrics = Arc::new(if config.metrics_port.is_some() { Metrics::on() } else { Metrics::off() });
        let shared = relay.is_some();
        let hub = Arc::new(Hub::new(config.multi_device, relay.clone()));
        let messages = Messages::start(store.clone(), hub.clone(), metrics.clone(), shared).await?;
        Ok(Self {
            hub,
            membership: Membership::new(relay),
            messages,
            metrics,
            login_failures: FailureLimiter::new(Duration::from_secs(60)),
            friend_requests: FailureLimiter::new(Duration::from_secs(3600)),
            passwords: Passwords::new(std::thread::available_parallelism().map_or(2, |n| n.get()).min(4)),
            shutdown: CancellationToken::new(),
            tasks: TaskTracker::new(),
            decode_budget: DecodeBudget::new(config.image_decode_budget_bytes),
            uploads_in_progress: InProgress::default(),
            tls: false,
            config,
            store,
        })
    }

    /// Where avatar images are kept.
    pub fn avatar_dir(&self) -> PathBuf {
        self.config.data_dir.join("avatars")
    }

    /// A user's public profile, or None if the account does not exist or the database failed
    /// (logged).
    pub async fn profile(&self, user_id: UserId) -> Option<UserProfile> {
        match self.store.user_by_id(user_id).await {
            Ok(row) => row.map(|row| crate::wire::profile_of(&row)),
            Err(err) => {
                tracing::error!(%err, user_id, "profile lookup failed");
                None
            }
        }
    }
}

//! The Redis broker: several nodes share channels through Redis pub/sub.
//!
//! - [`link`]: the connection to Redis, reconnecting with backoff, and the loop that reads
//!   Redis messages and keeps the node's Redis state in step with its local channels.
//! - [`subscriptions`]: which Redis channels this node listens to (only those with local
//!   subscribers), and [`Broker::live`]: when a subscription is acknowledged.
//! - [`publish`]: numbering, keeping and `PUBLISH`ing a message in one atomic Lua step.
//! - [`history`]: reading a channel's stream (position and kept messages).
//! - [`state`]: what the node remembers per channel (the floor a fresh epoch continues from).
//! - [`presence`]: cluster-wide presence and `join`/`leave`.
//! - [`counts`]: per-node subscriber counts in Redis, cluster-wide totals and notices.
//! - [`remote`]: this node's view of the other nodes' counts, for `channel_status`.
//! - [`leader`]: the lock that lets one node of the cluster run the quote distributor.
//! - [`users`]: server API user commands, carried to every node.
//! - [`envelope`]: the payload format on Redis channels.
//!
//! The payload format and key layout are documented in `docs/cluster.md`.

mod counts;
pub(crate) mod envelope;
mod history;
mod leader;
mod link;
mod presence;
mod publish;
mod remote;
mod state;
mod subscriptions;
mod users;

use super::{
    Broker, BrokerError, BrokerHealth, ChannelCount, History, HistoryQuery, Presence,
    PresenceChange, PublishReceipt, PublishRequest,
};
use crate::channel_options::HistoryPolicy;
use crate::clock::now_millis;
use crate::config::Config;
use crate::hub::{CountChange, Hub};
use crate::metrics::Metrics;
use futures_util::future::BoxFuture;
use parking_lot::Mutex;
use std::sync::atomic::AtomicU64;
use std::sync::Arc;
use std::time::Duration;
use tokio::sync::mpsc;
use tokio::task::JoinSet;
use tokio_util::sync::CancellationToken;
use tracing::warn;

/// What a node needs to join a cluster through Redis.
#[derive(Debug, Clone)]
pub struct RedisSettings {
    /// The Redis URL, e.g. `redis://127.0.0.1:6379`.
    pub url: String,
    /// Prefix of every Redis channel and key this cluster uses.
    pub prefix: String,
    /// This node's unique name in the cluster.
    pub node_id: String,
    /// How long a silent node's counts and distributor lock live in Redis.
    pub ttl: Duration,
}

impl RedisSettings {
    /// The settings from the configuration; `None` when no Redis URL is set (one node).
    pub fn from_config(config: &Config) -> Option<Self> {
        let url = config.redis_url.clone()?;
        Some(Self {
            url,
            prefix: config.redis_prefix.clone(),
            node_id: config
                .node_id
                .clone()
                .unwrap_or_else(|| uuid::Uuid::new_v4().to_string()),
            ttl: config.redis_ttl,
        })
    }

    /// How often counts and the lock are refreshed: a third of the TTL, so two refreshes may
    /// fail before anything expires.
    fn refresh(&self) -> Duration {
        self.ttl / 3
    }
}

/// Redis names for one cluster prefix. Key names use `!`, which channel names cannot contain,
/// so no channel can collide with them.
struct Keys {
    prefix: String,
    /// The pub/sub channel of subscriber-count changes.
    control: String,
    /// The pub/sub channel of server API user commands.
    users: String,
    /// The set of node ids that have written counts.
    nodes: String,
    /// The distributor lock.
    lock: String,
}

impl Keys {
    fn new(prefix: &str) -> Self {
        Self {
            prefix: prefix.to_owned(),
            control: format!("{prefix}!control"),
            users: format!("{prefix}!users"),
            nodes: format!("{prefix}!nodes"),
            lock: format!("{prefix}!distributor"),
        }
    }

    /// The Redis pub/sub channel of a Howl channel.
    fn channel(&self, channel: &str) -> String {
        format!("{}{channel}", self.prefix)
    }

    /// The Howl channel of a Redis pub/sub channel, if it is one of ours.
    fn howl_channel<'a>(&self, redis_channel: &'a str) -> Option<&'a str> {
        redis_channel.strip_prefix(&self.prefix)
    }

    /// The hash of a channel's stream position: `epoch` and `seq`.
    fn meta(&self, channel: &str) -> String {
        format!("{}!meta:{channel}", self.prefix)
    }

    /// The Redis stream of a channel's kept messages (entry id `<seq>-1`).
    fn stream(&self, channel: &str) -> String {
        format!("{}!stream:{channel}", self.prefix)
    }

    /// The set of nodes with presence members on a channel.
    fn presence_nodes(&self, channel: &str) -> String {
        format!("{}!presence:{channel}", self.prefix)
    }

    /// The start of a channel's per-node presence hashes ([`Keys::presence`]).
    fn presence_prefix(&self, channel: &str) -> String {
        format!("{}!presence:{channel}!", self.prefix)
    }

    /// One node's presence hash on a channel (client id → member JSON). Channel names
    /// cannot contain `!`, so the first `!` after the channel ends it.
    fn presence(&self, channel: &str, node: &str) -> String {
        format!("{}{node}", self.presence_prefix(channel))
    }

    /// The hash of one node's subscriber counts; its key prefix is [`Keys::node_prefix`].
    fn node(&self, node: &str) -> String {
        format!("{}{node}", self.node_prefix())
    }

    fn node_prefix(&self) -> String {
        format!("{}!node:", self.prefix)
    }
}

/// State shared by the broker's handle and its background tasks.
struct Shared {
    settings: RedisSettings,
    client: redis::Client,
    keys: Keys,
    hub: Arc<Hub>,
    metrics: Arc<Metrics>,
    link: link::Link,
    subscriptions: subscriptions::Subscriptions,
    states: state::ChannelStates,
    presence: presence::Queue,
    presence_rx: Mutex<Option<mpsc::Receiver<presence::Change>>>,
    failure_log: crate::logging::LogThrottle,
    remote: Mutex<remote::RemoteCounts>,
    lease: leader::Lease,
    /// The version of this node's counts in Redis; seeded from the clock so a restarted node
    /// with the same id starts above the versions other nodes remember.
    version: AtomicU64,
}

/// A short random string naming a new stream epoch (Lua cannot make good randomness, so
/// the node offers one with every call that may start a stream).
fn new_epoch() -> Arc<str> {
    let id = uuid::Uuid::new_v4().simple().to_string();
    Arc::from(&id[..8])
}

/// How the node's sockets to Redis notice a dead peer: keepalive probes after 1 s idle,
/// and unacknowledged writes fail after 5 s.
fn tcp_settings() -> redis::io::tcp::TcpSettings {
    let keepalive = redis::io::tcp::socket2::TcpKeepalive::new()
        .with_time(Duration::from_secs(1))
        .with_interval(Duration::from_secs(1));
    redis::io::tcp::TcpSettings::default()
        .set_nodelay(true)
        .set_keepalive(keepalive)
        .set_user_timeout(Duration::from_secs(5))
}

impl Shared {
    /// Tells the channel's local watchers whether it is occupied anywhere in the cluster.
    fn announce(&self, channel: &str) {
        self.hub.announce(channel, |local| {
            local > 0 || self.remote.lock().occupied(channel)
        });
    }
}

/// Carries publications between nodes through Redis pub/sub.
pub struct RedisBroker {
    shared: Arc<Shared>,
}

impl RedisBroker {
    /// A broker for the node whose local channels are `hub`. Nothing connects until
    /// [`Broker::start`]; until then (and during outages) delivery is local only.
    pub fn new(
        settings: RedisSettings,
        hub: Arc<Hub>,
        metrics: Arc<Metrics>,
    ) -> Result<Self, BrokerError> {
        let info = redis::IntoConnectionInfo::into_connection_info(settings.url.as_str())
            .map_err(|e| BrokerError::InvalidSettings(format!("Redis URL: {e}")))?;
        let client = redis::Client::open(info.set_tcp_settings(tcp_settings()))
            .map_err(|e| BrokerError::InvalidSettings(format!("Redis URL: {e}")))?;
        if settings.ttl < Duration::from_millis(30) {
            return Err(BrokerError::InvalidSettings(
                "the Redis TTL must be at least 0.03 s".into(),
            ));
        }
        if settings.node_id.is_empty() {
            return Err(BrokerError::InvalidSettings(
                "the node id must not be empty".into(),
            ));
        }
        let (presence, presence_rx) = presence::Queue::new();
        let shared = Shared {
            keys: Keys::new(&settings.prefix),
            settings,
            client,
            hub,
            metrics,
            link: link::Link::default(),
            subscriptions: subscriptions::Subscriptions::default(),
            states: state::ChannelStates::default(),
            presence,
            presence_rx: Mutex::new(Some(presence_rx)),
            failure_log: crate::logging::LogThrottle::default(),
            remote: Mutex::default(),
            lease: leader::Lease::default(),
            version: AtomicU64::new(now_millis().saturating_mul(1000)),
        };
        Ok(Self {
            shared: Arc::new(shared),
        })
    }

    /// This node's id in the cluster.
    pub fn node_id(&self) -> &str {
        &self.shared.settings.node_id
    }
}

impl Broker for RedisBroker {
    fn kind(&self) -> &'static str {
        "redis"
    }

    fn publish(
        &self,
        request: PublishRequest,
    ) -> BoxFuture<'_, Result<PublishReceipt, BrokerError>> {
        Box::pin(publish::publish(&self.shared, request))
    }

    fn user_command(
        &self,
        user: &str,
        command: crate::users::UserCommand,
    ) -> BoxFuture<'_, Result<(), BrokerError>> {
        let user = user.to_owned();
        Box::pin(async move { users::send(&self.shared, &user, command).await })
    }

    fn subscribers_changed(&self, channel: &str, change: CountChange) {
        // The link task syncs Redis (subscription and count); nothing here waits for it.
        self.shared.subscriptions.mark(channel);
        if (change.before == 0) != (change.after == 0) {
            self.shared.announce(channel);
        }
    }

    fn history(
        &self,
        channel: &str,
        query: HistoryQuery,
        policy: HistoryPolicy,
    ) -> BoxFuture<'_, Result<History, BrokerError>> {
        let channel = channel.to_owned();
        Box::pin(async move { history::read(&self.shared, &channel, query, policy).await })
    }

    fn live(&self, channel: &str) -> BoxFuture<'_, Result<(), BrokerError>> {
        let channel = channel.to_owned();
        Box::pin(async move { self.shared.subscriptions.live(&channel).await })
    }

    fn presence_changed(&self, channel: &str, change: PresenceChange, announce: bool) {
        presence::queue(&self.shared, channel, change, announce);
    }

    fn presence(
        &self,
        channel: &str,
        max_members: usize,
    ) -> BoxFuture<'_, Result<Presence, BrokerError>> {
        let channel = channel.to_owned();
        Box::pin(async move { presence::read(&self.shared, &channel, max_members).await })
    }

    fn is_occupied(&self, channel: &str, local: usize) -> bool {
        local > 0 || self.shared.remote.lock().occupied(channel)
    }

    fn channel_counts(&self) -> BoxFuture<'_, Result<Vec<ChannelCount>, BrokerError>> {
        let counts = counts::cluster_counts(&self.shared);
        Box::pin(async move { counts })
    }

    fn health(&self) -> BrokerHealth {
        self.shared.link.health()
    }

    fn start(&self, shutdown: CancellationToken) -> JoinSet<()> {
        let mut tasks = JoinSet::new();
        let Some(presence) = self.shared.presence_rx.lock().take() else {
            warn!("the Redis broker was started twice; the second start does nothing");
            return tasks;
        };
        tasks.spawn(link::run(self.shared.clone(), shutdown.clone()));
        tasks.spawn(presence::run(
            self.shared.clone(),
            presence,
            shutdown.clone(),
        ));
        tasks.spawn(leader::run(self.shared.clone(), shutdown));
        tasks
    }

    fn leads_distributor(&self) -> bool {
        self.shared.lease.held()
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn settings(url: &str, ttl: f64, node_id: &str) -> RedisSettings {
        RedisSettings {
            url: url.into(),
            prefix: "howl:".into(),
            node_id: node_id.into(),
            ttl: Duration::from_secs_f64(ttl),
        }
    }

    fn error(settings: RedisSettings) -> String {
        let metrics = Arc::new(Metrics::default());
        let hub = Arc::new(Hub::new(metrics.clone()));
        match RedisBroker::new(settings, hub, metrics) {
            Ok(_) => panic!("settings accepted"),
            Err(error) => error.to_string(),
        }
    }

    #[test]
    fn unusable_settings_are_clear_errors() {
        let bad_url = error(settings("http://example.invalid", 6.0, "a"));
        assert!(
            bad_url.starts_with("invalid broker settings: Redis URL"),
            "{bad_url}"
        );
        let ttl = error(settings("redis://127.0.0.1:6379", 0.0, "a"));
        assert!(ttl.contains("TTL must be at least"), "{ttl}");
        let id = error(settings("redis://127.0.0.1:6379", 6.0, ""));
        assert!(id.contains("node id must not be empty"), "{id}");
    }

    #[test]
    fn settings_come_from_the_config() {
        let config = Config::for_tests(&[]);
        assert!(
            RedisSettings::from_config(&config).is_none(),
            "single node by default"
        );
        let config = Config::for_tests(&["--redis-url", "redis://127.0.0.1:1", "--redis-ttl", "3"]);
        let settings = RedisSettings::from_config(&config).unwrap();
        assert_eq!(settings.prefix, "howl:");
        assert_eq!(settings.ttl, Duration::from_secs(3));
        assert!(
            uuid::Uuid::parse_str(&settings.node_id).is_ok(),
            "a fresh UUID by default"
        );
    }
}

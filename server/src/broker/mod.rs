//! How a publication travels between nodes.
//!
//! Connection code talks only to [`Broker`]; the embedded [`MemoryBroker`] serves one node,
//! and [`RedisBroker`] joins several nodes through Redis pub/sub.

mod memory;
pub(crate) mod redis;

pub use self::redis::{RedisBroker, RedisSettings};
pub use memory::MemoryBroker;

use crate::hub::ConnId;
use crate::hub::CountChange;
use crate::users::UserCommand;
use futures_util::future::BoxFuture;
use serde::Serialize;
use serde_json::value::RawValue;
use tokio::task::JoinSet;
use tokio_util::sync::CancellationToken;

/// A message to publish.
#[derive(Debug)]
pub struct PublishRequest {
    /// The target channel (already validated).
    pub channel: String,
    /// The JSON value to deliver.
    pub data: Box<RawValue>,
    /// A local connection that must not receive it.
    pub exclude: Option<ConnId>,
}

/// What a publish achieved.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize)]
pub struct PublishReceipt {
    /// The sequence number the channel gave the message.
    pub seq: u64,
    /// Subscribers it was delivered to (cluster-wide where the broker knows them).
    pub subscribers: usize,
}

/// A channel with its subscriber count.
#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
pub struct ChannelCount {
    /// The channel name.
    pub name: String,
    /// How many connections subscribe to it.
    pub subscribers: usize,
}

/// Whether the broker can reach the rest of the cluster.
#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
#[serde(rename_all = "snake_case")]
pub enum BrokerHealth {
    /// Everything works.
    Ok,
    /// Local delivery works; cross-node delivery does not. The reason says why.
    Degraded(String),
}

/// Why a broker operation failed.
#[derive(Debug, thiserror::Error)]
pub enum BrokerError {
    /// The backplane cannot be reached.
    #[error("broker unavailable: {0}")]
    Unavailable(String),
    /// The broker's settings are unusable (e.g. a malformed Redis URL).
    #[error("invalid broker settings: {0}")]
    InvalidSettings(String),
}

/// Carries publications to every subscriber of a channel, on this node and any other.
pub trait Broker: Send + Sync + 'static {
    /// A short name for logs and `/healthz` (e.g. `"memory"`).
    fn kind(&self) -> &'static str;

    /// Gives the message the channel's next sequence number and the current time, delivers it
    /// to local subscribers and hands it to the other nodes.
    fn publish(
        &self,
        request: PublishRequest,
    ) -> BoxFuture<'_, Result<PublishReceipt, BrokerError>>;

    /// Hands `command` to every connection of `user` on every node, this one included
    /// (through [`crate::users::Users::apply`] on each). Fails, reaching no node, when the
    /// other nodes cannot be reached.
    fn user_command(
        &self,
        user: &str,
        command: UserCommand,
    ) -> BoxFuture<'_, Result<(), BrokerError>>;

    /// Told after every change in a channel's local subscriber count; must not block.
    fn subscribers_changed(&self, channel: &str, change: CountChange);

    /// Whether `channel` has subscribers anywhere, given that `local` of them are on this
    /// node. Called under the hub's lock for the channel, so it must not touch the
    /// hub.
    fn is_occupied(&self, channel: &str, local: usize) -> bool;

    /// Every channel with subscribers anywhere, with its count, sorted by name.
    fn channel_counts(&self) -> BoxFuture<'_, Result<Vec<ChannelCount>, BrokerError>>;

    /// Whether cross-node delivery works.
    fn health(&self) -> BrokerHealth;

    /// Starts the broker's background work (connections, refreshes, leadership). It runs until
    /// `shutdown` is cancelled, then says goodbye to the cluster; dropping the returned set
    /// aborts it without goodbye, as if the node had died.
    fn start(&self, shutdown: CancellationToken) -> JoinSet<()> {
        drop(shutdown);
        JoinSet::new()
    }

    /// Whether this node should run the quote distributor now: exactly one node of the
    /// cluster says yes at a time.
    fn leads_distributor(&self) -> bool {
        true
    }
}

//! How a publication travels between nodes.
//!
//! Connection code talks only to [`Broker`]; the embedded [`MemoryBroker`] serves one node,
//! and [`RedisBroker`] joins several nodes through Redis pub/sub.

mod memory;
pub(crate) mod redis;

pub use self::redis::{RedisBroker, RedisSettings};
pub use memory::MemoryBroker;

use crate::channel_options::HistoryPolicy;
use crate::hub::ConnId;
use crate::hub::CountChange;
use crate::publication::Publication;
use crate::users::UserCommand;
use futures_util::future::BoxFuture;
use howl_protocol::{Member, StreamPosition};
use serde::Serialize;
use serde_json::value::RawValue;
use std::sync::Arc;
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
    /// How much of the channel's stream to keep (its namespace's `history-size` and
    /// `history-ttl`).
    pub history: HistoryPolicy,
}

/// What a history read asks for.
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct HistoryQuery {
    /// Only messages after this position, oldest first; the latest ones when absent or of
    /// another epoch.
    pub since: Option<StreamPosition>,
    /// At most this many messages (all kept when absent).
    pub limit: Option<usize>,
}

/// A channel's stream as a history read found it.
#[derive(Debug, Clone)]
pub struct History {
    /// The stream's current epoch and last sequence number. A read starts the stream when
    /// it has none, so a channel never published to has an epoch and `seq` 0.
    pub position: StreamPosition,
    /// The messages read, oldest first.
    pub publications: Vec<Arc<Publication>>,
    /// With `since` (and no `limit` cutting it short): whether `publications` are exactly
    /// every message after it, so a client resuming there misses nothing. False when the
    /// epoch differs or messages fell out of history.
    pub complete: bool,
}

impl History {
    /// The `history_result` for `channel`: the whole frame (with the request's `ref`), or
    /// with `frame` false only its payload (the HTTP API's body).
    pub fn to_json(
        &self,
        channel: &str,
        reference: Option<&howl_protocol::Ref>,
        frame: bool,
    ) -> String {
        let messages: Vec<_> = self
            .publications
            .iter()
            .map(|p| howl_protocol::HistoryMessageRef {
                seq: p.seq,
                time: p.time,
                data: &p.data,
            })
            .collect();
        let result = howl_protocol::HistoryResultRef {
            channel,
            epoch: &self.position.epoch,
            seq: self.position.seq,
            messages: &messages,
            reference,
        };
        match frame {
            true => result.to_json(),
            false => result.to_payload_json(),
        }
    }
}

/// Who is in a channel, as a presence read found it.
#[derive(Debug, Clone, PartialEq)]
pub struct Presence {
    /// How many connections are present.
    pub count: u64,
    /// Who they are, unless there were more than the limit asked for.
    pub members: Option<Vec<Member>>,
}

/// A connection joined or left a channel with presence.
#[derive(Debug, Clone, PartialEq)]
pub enum PresenceChange {
    /// It subscribed.
    Join(Member),
    /// It unsubscribed or disconnected.
    Leave(Member),
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

    /// Reads `channel`'s stream: its position and the messages `query` asks for. Starts the
    /// stream (a new epoch, `seq` 0) when it has none, under `policy`.
    fn history(
        &self,
        channel: &str,
        query: HistoryQuery,
        policy: HistoryPolicy,
    ) -> BoxFuture<'_, Result<History, BrokerError>>;

    /// Resolves once every publication on `channel` reaches this node's hub: called after a
    /// local subscriber was added, so the subscription is confirmed only when it is live
    /// (in a cluster, once Redis acknowledged the `SUBSCRIBE`).
    fn live(&self, channel: &str) -> BoxFuture<'_, Result<(), BrokerError>>;

    /// Told after every change in a channel's local subscriber count; must not block.
    fn subscribers_changed(&self, channel: &str, change: CountChange);

    /// Records that a member joined or left `channel` (a namespace with `presence`), and
    /// with `announce` (`join-leave`) sends `join`/`leave` to its subscribers on every node.
    /// Must not block: cluster work is queued.
    fn presence_changed(&self, channel: &str, change: PresenceChange, announce: bool);

    /// Who is in `channel` on every node; members are listed only when there are at most
    /// `max_members`.
    fn presence(
        &self,
        channel: &str,
        max_members: usize,
    ) -> BoxFuture<'_, Result<Presence, BrokerError>>;

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

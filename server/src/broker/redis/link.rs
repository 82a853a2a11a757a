//! The connection to Redis: connect, reconnect with backoff, and while connected read Redis
//! messages and keep the node's Redis state (subscriptions, counts) in step with its local
//! channels.

use super::subscriptions::Subscriptions;
use super::{counts, envelope, Shared};
use crate::broker::BrokerHealth;
use crate::clock::now_millis;
use crate::publication::Publication;
use futures_util::StreamExt;
use parking_lot::{Mutex, RwLock};
use redis::aio::{MultiplexedConnection, PubSubSink, PubSubStream};
use redis::{AsyncConnectionConfig, Msg, RedisError};
use std::collections::HashSet;
use std::sync::atomic::Ordering::Relaxed;
use std::sync::Arc;
use std::time::Duration;
use tokio::sync::mpsc::UnboundedReceiver;
use tokio::sync::Notify;
use tokio::time::{Instant, MissedTickBehavior};
use tokio_util::sync::CancellationToken;
use tracing::{debug, info, warn};

const FIRST_BACKOFF: Duration = Duration::from_millis(100);
const MAX_BACKOFF: Duration = Duration::from_secs(2);
/// Longest wait for Redis to answer a command before the link counts as lost.
const RESPONSE_TIMEOUT: Duration = Duration::from_secs(2);

/// The link's state as the rest of the broker sees it.
pub(super) struct Link {
    connection: RwLock<Option<MultiplexedConnection>>,
    health: Mutex<BrokerHealth>,
    /// When the link came back after an outage (not set by the first connection).
    reconnected_at: Mutex<Option<Instant>>,
    /// Signalled on every (re)connection.
    connected: Notify,
}

impl Default for Link {
    fn default() -> Self {
        Self {
            connection: RwLock::new(None),
            health: Mutex::new(BrokerHealth::Degraded("not connected to Redis yet".into())),
            reconnected_at: Mutex::new(None),
            connected: Notify::new(),
        }
    }
}

impl Link {
    /// The command connection while Redis is reachable.
    pub(super) fn connection(&self) -> Option<MultiplexedConnection> {
        self.connection.read().clone()
    }

    /// Whether cross-node delivery works.
    pub(super) fn health(&self) -> BrokerHealth {
        self.health.lock().clone()
    }

    /// Whether the link came back from an outage less than `period` ago.
    pub(super) fn reconnected_within(&self, period: Duration) -> bool {
        self.reconnected_at
            .lock()
            .is_some_and(|at| at.elapsed() < period)
    }

    /// Waits for the next (re)connection, or returns at once if one happened unobserved.
    pub(super) async fn connected(&self) {
        self.connected.notified().await;
    }

    /// Publishing may use Redis from now on; health turns ok once resynced ([`Link::synced`]).
    fn up(&self, connection: MultiplexedConnection, reconnected: bool) {
        *self.connection.write() = Some(connection);
        if reconnected {
            *self.reconnected_at.lock() = Some(Instant::now());
        }
        self.connected.notify_one();
    }

    fn synced(&self) {
        *self.health.lock() = BrokerHealth::Ok;
    }

    fn down(&self, reason: String) {
        *self.connection.write() = None;
        *self.health.lock() = BrokerHealth::Degraded(reason);
    }
}

/// How a connected session ended.
enum LinkEnd {
    Stopped,
    Lost(String),
}

impl From<RedisError> for LinkEnd {
    fn from(error: RedisError) -> Self {
        LinkEnd::Lost(error.to_string())
    }
}

/// Keeps the node linked to Redis until `shutdown`, reconnecting with backoff after losses.
pub(super) async fn run(
    shared: Arc<Shared>,
    mut dirty: UnboundedReceiver<String>,
    shutdown: CancellationToken,
) {
    // Aborted (a killed node) or not, the node stops using Redis when this task ends.
    let _down = DownOnDrop(&shared);
    let mut backoff = FIRST_BACKOFF;
    let mut connected_before = false;
    loop {
        // A fresh connection resyncs every channel, so changes queued while Redis was away
        // need no replay; dropping them keeps a long outage from piling them up.
        while dirty.try_recv().is_ok() {}
        let attempt = tokio::select! {
            _ = shutdown.cancelled() => return,
            attempt = connect(&shared) => attempt,
        };
        match attempt {
            Ok((connection, sink, stream)) => {
                backoff = FIRST_BACKOFF;
                if connected_before {
                    shared.metrics.broker_reconnects.fetch_add(1, Relaxed);
                }
                info!(node = %shared.settings.node_id, "connected to Redis");
                shared.link.up(connection.clone(), connected_before);
                let session = Connected {
                    shared: &shared,
                    connection,
                    sink,
                    subscriptions: Subscriptions::default(),
                    connected_at: Instant::now(),
                };
                let end = session.serve(stream, &mut dirty, &shutdown).await;
                connected_before = true;
                shared.metrics.broker_connected.store(0, Relaxed);
                match end {
                    LinkEnd::Stopped => {
                        shared.link.down("shutting down".into());
                        return;
                    }
                    LinkEnd::Lost(reason) => {
                        warn!(%reason, "lost Redis; delivering to local subscribers only until it returns");
                        shared.link.down(format!("Redis connection lost: {reason}"));
                    }
                }
            }
            Err(error) => {
                warn!(%error, retry_in = ?backoff, "cannot reach Redis");
                shared.link.down(format!("cannot reach Redis: {error}"));
            }
        }
        tokio::select! {
            _ = shutdown.cancelled() => return,
            _ = tokio::time::sleep(backoff) => {}
        }
        backoff = (backoff * 2).min(MAX_BACKOFF);
    }
}

struct DownOnDrop<'a>(&'a Shared);

impl Drop for DownOnDrop<'_> {
    fn drop(&mut self) {
        self.0.link.down("the Redis broker stopped".into());
        self.0.metrics.broker_connected.store(0, Relaxed);
    }
}

async fn connect(
    shared: &Shared,
) -> Result<(MultiplexedConnection, PubSubSink, PubSubStream), RedisError> {
    let config = AsyncConnectionConfig::new()
        .set_connection_timeout(Some(RESPONSE_TIMEOUT))
        .set_response_timeout(Some(RESPONSE_TIMEOUT));
    let connection = shared
        .client
        .get_multiplexed_async_connection_with_config(&config)
        .await?;
    let pubsub = tokio::time::timeout(RESPONSE_TIMEOUT, shared.client.get_async_pubsub())
        .await
        .map_err(|_| RedisError::from(std::io::Error::from(std::io::ErrorKind::TimedOut)))??;
    let (sink, stream) = pubsub.split();
    Ok((connection, sink, stream))
}

/// One connected period.
struct Connected<'a> {
    shared: &'a Shared,
    connection: MultiplexedConnection,
    sink: PubSubSink,
    subscriptions: Subscriptions,
    connected_at: Instant,
}

impl Connected<'_> {
    async fn serve(
        mut self,
        messages: PubSubStream,
        dirty: &mut UnboundedReceiver<String>,
        shutdown: &CancellationToken,
    ) -> LinkEnd {
        match self.serve_inner(messages, dirty, shutdown).await {
            Ok(()) => LinkEnd::Stopped,
            Err(end) => end,
        }
    }

    async fn serve_inner(
        &mut self,
        mut messages: PubSubStream,
        dirty: &mut UnboundedReceiver<String>,
        shutdown: &CancellationToken,
    ) -> Result<(), LinkEnd> {
        let shared = self.shared;
        self.subscriptions
            .resubscribe_all(shared, &mut self.sink)
            .await?;
        counts::rewrite(shared, &mut self.connection).await?;
        counts::snapshot(shared, &mut self.connection, false).await?;
        shared.link.synced();
        shared.metrics.broker_connected.store(1, Relaxed);

        let refresh = shared.settings.refresh();
        let mut ticker = tokio::time::interval_at(Instant::now() + refresh, refresh);
        ticker.set_missed_tick_behavior(MissedTickBehavior::Delay);
        loop {
            tokio::select! {
                _ = shutdown.cancelled() => {
                    counts::goodbye(shared, &mut self.connection).await;
                    return Ok(());
                }
                message = messages.next() => match message {
                    Some(message) => self.receive(&message),
                    None => return Err(LinkEnd::Lost("the subscription connection closed".into())),
                },
                Some(channel) = dirty.recv() => {
                    let mut channels = HashSet::from([channel]);
                    while let Ok(channel) = dirty.try_recv() {
                        channels.insert(channel);
                    }
                    for channel in channels {
                        self.sync_channel(&channel).await?;
                    }
                }
                _ = ticker.tick() => {
                    counts::refresh(shared, &mut self.connection).await?;
                    // Right after a Redis restart other nodes may not have rewritten their
                    // counts yet: only forget nodes once every live one has had a full TTL.
                    let settled = self.connected_at.elapsed() >= shared.settings.ttl;
                    counts::snapshot(shared, &mut self.connection, settled).await?;
                }
            }
        }
    }

    /// Brings Redis in line with the channel's local count: listen before telling the cluster
    /// the node has subscribers, and stop listening only after telling it they are gone, so a
    /// publisher that waits for `channel_status` never publishes into a gap.
    async fn sync_channel(&mut self, channel: &str) -> Result<(), LinkEnd> {
        let shared = self.shared;
        let count = shared.hub.local_count(channel);
        if count > 0 {
            self.subscriptions
                .subscribe(shared, &mut self.sink, channel)
                .await?;
            counts::write(shared, &mut self.connection, channel, count).await?;
        } else {
            counts::write(shared, &mut self.connection, channel, 0).await?;
            self.subscriptions
                .unsubscribe(shared, &mut self.sink, channel)
                .await?;
        }
        Ok(())
    }

    fn receive(&self, message: &Msg) {
        let shared = self.shared;
        let redis_channel = message.get_channel_name();
        if redis_channel == shared.keys.control {
            counts::receive_control(shared, message.get_payload_bytes());
            return;
        }
        if redis_channel == shared.keys.users {
            super::users::receive(shared, message.get_payload_bytes());
            return;
        }
        let Some(channel) = shared.keys.howl_channel(redis_channel) else {
            return;
        };
        let decoded = envelope::decode(
            message.get_payload_bytes(),
            &shared.settings.node_id,
            now_millis(),
        );
        match decoded {
            Ok(envelope::Incoming::Echo) => {}
            Ok(envelope::Incoming::Message { seq, time, data }) => {
                shared
                    .metrics
                    .broker_messages_received
                    .fetch_add(1, Relaxed);
                if seq > 0 {
                    shared.sequences.observe(channel, seq);
                }
                let publication = Publication {
                    channel: channel.to_owned(),
                    seq,
                    time,
                    data,
                    exclude: None,
                };
                let reached = shared.hub.deliver(&publication);
                debug!(channel, seq, reached, "delivered a message from Redis");
            }
            Err(error) => {
                shared.metrics.broker_invalid_payloads.fetch_add(1, Relaxed);
                warn!(channel, %error, "dropped an unreadable message from Redis");
            }
        }
    }
}

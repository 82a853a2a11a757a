//! The connection to Redis: connect, reconnect with backoff, and while connected read Redis
//! messages and keep the node's Redis state (subscriptions, counts) in step with its local
//! channels.
//!
//! Reading and bookkeeping run side by side in one task: a slow `SUBSCRIBE` never holds up
//! the delivery of messages already arriving. Every command has a timeout, the subscription
//! connection is pinged every refresh period, and both sockets use TCP keepalive, so a
//! half-open Redis socket is noticed within seconds.

use super::subscriptions::timed;
use super::{counts, envelope, Shared};
use crate::broker::{BrokerHealth, PresenceChange};
use crate::clock::now_millis;
use crate::publication::{presence_frame, Publication};
use futures_util::StreamExt;
use parking_lot::{Mutex, RwLock};
use redis::aio::{MultiplexedConnection, PubSubSink, PubSubStream};
use redis::{AsyncConnectionConfig, Msg, RedisError};
use std::sync::atomic::Ordering::Relaxed;
use std::sync::Arc;
use std::time::Duration;
use tokio::sync::Notify;
use tokio::time::{Instant, MissedTickBehavior};
use tokio_util::sync::CancellationToken;
use tracing::{debug, info, warn};

const FIRST_BACKOFF: Duration = Duration::from_millis(100);
const MAX_BACKOFF: Duration = Duration::from_secs(2);
/// Longest wait for Redis to answer a command before the link counts as lost.
pub(super) const RESPONSE_TIMEOUT: Duration = Duration::from_secs(2);

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
pub(super) async fn run(shared: Arc<Shared>, shutdown: CancellationToken) {
    // Aborted (a killed node) or not, the node stops using Redis when this task ends.
    let _down = DownOnDrop(&shared);
    let mut backoff = FIRST_BACKOFF;
    let mut connected_before = false;
    loop {
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
                let end = serve(&shared, connection, sink, stream, &shutdown).await;
                shared.subscriptions.down();
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
        self.0.subscriptions.down();
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

/// One connected period: resync, then read messages and keep Redis in step until the
/// connection is lost or the node stops.
async fn serve(
    shared: &Shared,
    mut connection: MultiplexedConnection,
    mut sink: PubSubSink,
    messages: PubSubStream,
    shutdown: &CancellationToken,
) -> LinkEnd {
    let resynced = async {
        shared
            .subscriptions
            .resubscribe_all(shared, &mut sink)
            .await?;
        counts::rewrite(shared, &mut connection).await?;
        counts::snapshot(shared, &mut connection, false).await
    };
    if let Err(error) = resynced.await {
        return error.into();
    }
    shared.link.synced();
    shared.metrics.broker_connected.store(1, Relaxed);
    tokio::select! {
        end = read(shared, messages) => end,
        end = keep_in_step(shared, connection, sink, shutdown) => match end {
            Ok(()) => LinkEnd::Stopped,
            Err(error) => error.into(),
        },
    }
}

/// Delivers what arrives on the subscription connection until it closes.
async fn read(shared: &Shared, mut messages: PubSubStream) -> LinkEnd {
    while let Some(message) = messages.next().await {
        receive(shared, &message);
    }
    LinkEnd::Lost("the subscription connection closed".into())
}

/// Keeps the stream keys of channels with local subscribers alive in Redis while nobody
/// publishes to them (one pipelined `PEXPIRE` pair per due channel).
async fn renew_subscribed(
    shared: &Shared,
    connection: &mut MultiplexedConnection,
) -> Result<(), RedisError> {
    let due = shared.states.due_for_renewal(now_millis(), &shared.hub);
    if due.is_empty() {
        return Ok(());
    }
    let mut pipe = redis::pipe();
    for (channel, ttl_ms) in &due {
        for key in [shared.keys.meta(channel), shared.keys.stream(channel)] {
            pipe.cmd("PEXPIRE").arg(key).arg(*ttl_ms).ignore();
        }
    }
    timed(pipe.query_async::<()>(connection)).await
}

/// Syncs subscriptions and counts as local channels change, refreshes counts, pings the
/// subscription connection and prunes channel state every refresh period.
async fn keep_in_step(
    shared: &Shared,
    mut connection: MultiplexedConnection,
    mut sink: PubSubSink,
    shutdown: &CancellationToken,
) -> Result<(), RedisError> {
    let connected_at = Instant::now();
    let refresh = shared.settings.refresh();
    let mut ticker = tokio::time::interval_at(Instant::now() + refresh, refresh);
    ticker.set_missed_tick_behavior(MissedTickBehavior::Delay);
    loop {
        tokio::select! {
            _ = shutdown.cancelled() => {
                counts::goodbye(shared, &mut connection).await;
                return Ok(());
            }
            _ = shared.subscriptions.changed() => {
                sync(shared, &mut connection, &mut sink).await?;
            }
            _ = ticker.tick() => {
                timed(sink.ping::<redis::Value>()).await?;
                counts::refresh(shared, &mut connection).await?;
                // Right after a Redis restart other nodes may not have rewritten their
                // counts yet: only forget nodes once every live one has had a full TTL.
                let settled = connected_at.elapsed() >= shared.settings.ttl;
                counts::snapshot(shared, &mut connection, settled).await?;
                renew_subscribed(shared, &mut connection).await?;
                let pruned = shared.states.prune(now_millis(), &shared.hub);
                if pruned > 0 {
                    debug!(pruned, "forgot idle channels' stream state");
                }
                let held = shared.states.len() as i64;
                shared.metrics.streams.streams.store(held, Relaxed);
            }
        }
    }
}

/// Brings Redis in line with the changed channels: listen before telling the cluster the
/// node has subscribers, and stop listening only after telling it they are gone, so a
/// publisher that waits for `channel_status` never publishes into a gap.
async fn sync(
    shared: &Shared,
    connection: &mut MultiplexedConnection,
    sink: &mut PubSubSink,
) -> Result<(), RedisError> {
    let subscriptions = &shared.subscriptions;
    let plan = subscriptions.plan(shared);
    subscriptions
        .subscribe(shared, sink, &plan.subscribe)
        .await?;
    for chunk in plan.counts.chunks(512) {
        counts::write(shared, connection, chunk).await?;
    }
    let idle: Vec<String> = plan
        .counts
        .into_iter()
        .filter(|(_, count)| *count == 0)
        .map(|(channel, _)| channel)
        .collect();
    subscriptions.unsubscribe_idle(shared, sink, &idle).await
}

fn receive(shared: &Shared, message: &Msg) {
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
        Ok(envelope::Incoming::Message {
            seq,
            time,
            data,
            exclude,
        }) => {
            shared
                .metrics
                .broker_messages_received
                .fetch_add(1, Relaxed);
            if seq > 0 && !shared.states.observe_delivered(channel, seq, time) {
                debug!(
                    channel,
                    seq, "a seq far above the channel's counter was not recorded"
                );
            }
            let publication = Publication {
                channel: channel.to_owned(),
                seq,
                time,
                data,
                exclude,
            };
            let reached = shared.hub.deliver(&publication);
            debug!(channel, seq, reached, "delivered a message from Redis");
        }
        Ok(envelope::Incoming::Presence { member, joined }) => {
            let change = if joined {
                PresenceChange::Join(member)
            } else {
                PresenceChange::Leave(member)
            };
            shared
                .hub
                .notify(channel, &presence_frame(channel, &change));
        }
        Err(error) => {
            shared.metrics.broker_invalid_payloads.fetch_add(1, Relaxed);
            warn!(channel, %error, "dropped an unreadable message from Redis");
        }
    }
}

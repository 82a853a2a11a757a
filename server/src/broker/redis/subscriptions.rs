//! Which Redis channels this node listens to: the control and user-command channels always,
//! and a Howl channel only while it has local subscribers, so a message costs Redis one
//! delivery per node that needs it.
//!
//! Local count changes mark channels dirty (a set, so it never holds more than the node's
//! channels however fast they change); the link's sync loop takes them in batches, one
//! `SUBSCRIBE` and one `UNSUBSCRIBE` per batch, each with a timeout. [`Subscriptions::live`]
//! resolves once Redis acknowledged the node's `SUBSCRIBE` to a channel.

use super::Shared;
use crate::broker::BrokerError;
use parking_lot::Mutex;
use redis::aio::PubSubSink;
use redis::RedisError;
use std::collections::{HashMap, HashSet};
use std::time::Duration;
use tokio::sync::{oneshot, Notify};
use tracing::debug;

/// Longest wait for Redis to acknowledge a subscription before a subscribe fails.
pub(super) const LIVE_TIMEOUT: Duration = Duration::from_secs(5);
/// Channels per `SUBSCRIBE`/`UNSUBSCRIBE` command.
const BATCH: usize = 512;

#[derive(Default)]
struct State {
    /// Whether a connection is up and resubscribed.
    up: bool,
    /// Howl channels Redis acknowledged on the current connection.
    subscribed: HashSet<String>,
    /// Who waits for a channel's acknowledgement.
    waiters: HashMap<String, Vec<oneshot::Sender<()>>>,
}

/// The node's Redis subscriptions, shared by the broker and the link.
#[derive(Default)]
pub(super) struct Subscriptions {
    state: Mutex<State>,
    dirty: Mutex<HashSet<String>>,
    changed: Notify,
}

/// What a sync step must tell Redis.
#[derive(Default)]
pub(super) struct Plan {
    /// Channels to `SUBSCRIBE`.
    pub(super) subscribe: Vec<String>,
    /// Channels whose count to write, with the count.
    pub(super) counts: Vec<(String, usize)>,
}

impl Subscriptions {
    /// Marks `channel`'s local count as changed.
    pub(super) fn mark(&self, channel: &str) {
        let inserted = self.dirty.lock().insert(channel.to_owned());
        if inserted {
            self.changed.notify_one();
        }
    }

    /// Waits until some channel is marked.
    pub(super) async fn changed(&self) {
        self.changed.notified().await;
    }

    /// Resolves once Redis acknowledged this node's subscription to `channel` (at once when
    /// it had). Fails when Redis is away or does not answer within [`LIVE_TIMEOUT`].
    pub(super) async fn live(&self, channel: &str) -> Result<(), BrokerError> {
        let waiter = {
            let mut state = self.state.lock();
            if !state.up {
                return Err(BrokerError::Unavailable("no connection to Redis".into()));
            }
            if state.subscribed.contains(channel) {
                return Ok(());
            }
            let (sender, receiver) = oneshot::channel();
            let waiters = state.waiters.entry(channel.to_owned()).or_default();
            waiters.retain(|w| !w.is_closed());
            waiters.push(sender);
            receiver
        };
        match tokio::time::timeout(LIVE_TIMEOUT, waiter).await {
            Ok(Ok(())) => Ok(()),
            Ok(Err(_)) => Err(BrokerError::Unavailable(
                "the connection to Redis was lost while subscribing".into(),
            )),
            Err(_) => Err(BrokerError::Unavailable(
                "Redis did not acknowledge the subscription in time".into(),
            )),
        }
    }

    /// The connection was lost: nothing is subscribed, and waiters fail.
    pub(super) fn down(&self) {
        let mut state = self.state.lock();
        state.up = false;
        state.subscribed.clear();
        state.waiters.clear();
    }

    /// On a fresh connection: subscribes the control and user-command channels and every
    /// channel with local subscribers. Changes marked before now are covered by it.
    pub(super) async fn resubscribe_all(
        &self,
        shared: &Shared,
        sink: &mut PubSubSink,
    ) -> Result<(), RedisError> {
        self.dirty.lock().clear();
        timed(sink.subscribe(&[&shared.keys.control, &shared.keys.users])).await?;
        let wanted: Vec<String> = shared
            .hub
            .local_counts()
            .into_iter()
            .map(|(channel, _)| channel)
            .collect();
        for chunk in wanted.chunks(BATCH) {
            let names: Vec<String> = chunk.iter().map(|c| shared.keys.channel(c)).collect();
            timed(sink.subscribe(&names)).await?;
        }
        debug!(channels = wanted.len(), "subscribed in Redis");
        let mut state = self.state.lock();
        state.up = true;
        for channel in wanted {
            if let Some(waiters) = state.waiters.remove(&channel) {
                wake(waiters);
            }
            state.subscribed.insert(channel);
        }
        Ok(())
    }

    /// Takes the marked channels and decides what to tell Redis about them.
    pub(super) fn plan(&self, shared: &Shared) -> Plan {
        let dirty = std::mem::take(&mut *self.dirty.lock());
        let mut plan = Plan::default();
        let mut state = self.state.lock();
        for channel in dirty {
            let count = shared.hub.local_count(&channel);
            if count > 0 && !state.subscribed.contains(&channel) {
                plan.subscribe.push(channel.clone());
            }
            if count == 0 && !state.subscribed.contains(&channel) {
                // Its subscriber left before Redis was asked: nobody waits any more.
                state.waiters.remove(&channel);
            }
            plan.counts.push((channel, count));
        }
        plan
    }

    /// Subscribes `channels` in Redis and wakes whoever waits for them.
    pub(super) async fn subscribe(
        &self,
        shared: &Shared,
        sink: &mut PubSubSink,
        channels: &[String],
    ) -> Result<(), RedisError> {
        for chunk in channels.chunks(BATCH) {
            let names: Vec<String> = chunk.iter().map(|c| shared.keys.channel(c)).collect();
            timed(sink.subscribe(&names)).await?;
            let mut state = self.state.lock();
            for channel in chunk {
                if let Some(waiters) = state.waiters.remove(channel) {
                    wake(waiters);
                }
                state.subscribed.insert(channel.clone());
            }
        }
        debug!(channels = channels.len(), "subscribed in Redis");
        Ok(())
    }

    /// Unsubscribes those of `channels` that still have no local subscriber. Decided under
    /// the lock [`Subscriptions::live`] takes, so a subscriber arriving meanwhile either
    /// keeps the channel subscribed or waits for its fresh `SUBSCRIBE`.
    pub(super) async fn unsubscribe_idle(
        &self,
        shared: &Shared,
        sink: &mut PubSubSink,
        channels: &[String],
    ) -> Result<(), RedisError> {
        let idle: Vec<String> = {
            let mut state = self.state.lock();
            channels
                .iter()
                .filter(|c| shared.hub.local_count(c) == 0 && state.subscribed.remove(*c))
                .map(|c| shared.keys.channel(c))
                .collect()
        };
        for chunk in idle.chunks(BATCH) {
            timed(sink.unsubscribe(chunk)).await?;
        }
        if !idle.is_empty() {
            debug!(channels = idle.len(), "unsubscribed in Redis");
        }
        Ok(())
    }
}

fn wake(waiters: Vec<oneshot::Sender<()>>) {
    for waiter in waiters {
        // A waiter that gave up (timed out) needs no answer.
        let _ = waiter.send(());
    }
}

/// A Redis command on the subscription connection, failing after the response timeout.
pub(super) async fn timed<T>(
    command: impl std::future::Future<Output = Result<T, RedisError>>,
) -> Result<T, RedisError> {
    tokio::time::timeout(super::link::RESPONSE_TIMEOUT, command)
        .await
        .map_err(|_| RedisError::from(std::io::Error::from(std::io::ErrorKind::TimedOut)))?
}

//! Which Redis channels this node listens to: the control and user-command channels always,
//! and a Howl channel only while it has local subscribers, so a message costs Redis one
//! delivery per node that needs it.

use super::Shared;
use redis::aio::PubSubSink;
use redis::RedisError;
use std::collections::HashSet;
use tracing::debug;

/// The Howl channels subscribed in Redis on the current connection.
#[derive(Default)]
pub(super) struct Subscriptions {
    subscribed: HashSet<String>,
}

impl Subscriptions {
    /// On a fresh connection: subscribes the control and user-command channels and every
    /// channel with local subscribers.
    pub(super) async fn resubscribe_all(
        &mut self,
        shared: &Shared,
        sink: &mut PubSubSink,
    ) -> Result<(), RedisError> {
        self.subscribed.clear();
        sink.subscribe(&shared.keys.control).await?;
        sink.subscribe(&shared.keys.users).await?;
        let wanted: Vec<String> = shared
            .hub
            .local_counts()
            .into_iter()
            .map(|(channel, _)| channel)
            .collect();
        if !wanted.is_empty() {
            let names: Vec<String> = wanted.iter().map(|c| shared.keys.channel(c)).collect();
            sink.subscribe(&names).await?;
        }
        debug!(channels = wanted.len(), "subscribed in Redis");
        self.subscribed.extend(wanted);
        Ok(())
    }

    /// Subscribes `channel` in Redis unless it already is; returns once Redis confirmed.
    pub(super) async fn subscribe(
        &mut self,
        shared: &Shared,
        sink: &mut PubSubSink,
        channel: &str,
    ) -> Result<(), RedisError> {
        if !self.subscribed.contains(channel) {
            sink.subscribe(shared.keys.channel(channel)).await?;
            self.subscribed.insert(channel.to_owned());
            debug!(channel, "subscribed in Redis");
        }
        Ok(())
    }

    /// Unsubscribes `channel` in Redis if it is subscribed.
    pub(super) async fn unsubscribe(
        &mut self,
        shared: &Shared,
        sink: &mut PubSubSink,
        channel: &str,
    ) -> Result<(), RedisError> {
        if self.subscribed.remove(channel) {
            sink.unsubscribe(shared.keys.channel(channel)).await?;
            debug!(channel, "unsubscribed in Redis");
        }
        Ok(())
    }
}

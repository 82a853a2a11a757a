//! The server's shared state: local channels, the broker and the metrics, with the
//! operations connections and HTTP handlers perform.

use crate::broker::{Broker, BrokerError, PublishReceipt, PublishRequest};
use crate::hub::ConnId;
use crate::hub::{Form, Hub};
use crate::metrics::Metrics;
use crate::outbox::Outbox;
use crate::users::UserCommand;
use serde_json::value::RawValue;
use std::sync::atomic::{AtomicU64, Ordering::Relaxed};
use std::sync::Arc;

/// Channels, broker and metrics of one node.
pub struct Node {
    /// Local subscriptions and fan-out.
    pub hub: Arc<Hub>,
    /// Cross-node delivery.
    pub broker: Arc<dyn Broker>,
    /// The node's figures.
    pub metrics: Arc<Metrics>,
    next_conn: AtomicU64,
}

impl Node {
    /// A node over an existing hub and broker.
    pub fn new(hub: Arc<Hub>, broker: Arc<dyn Broker>, metrics: Arc<Metrics>) -> Self {
        Self {
            hub,
            broker,
            metrics,
            next_conn: AtomicU64::new(1),
        }
    }

    /// A single node with the embedded broker.
    pub fn in_memory() -> Self {
        let metrics = Arc::new(Metrics::default());
        let hub = Arc::new(Hub::new(metrics.clone()));
        let broker = Arc::new(crate::broker::MemoryBroker::new(hub.clone()));
        Self::new(hub, broker, metrics)
    }

    /// A cluster node with the Redis broker.
    pub fn with_redis(settings: crate::broker::RedisSettings) -> Result<Self, BrokerError> {
        let metrics = Arc::new(Metrics::default());
        let hub = Arc::new(Hub::new(metrics.clone()));
        let broker = crate::broker::RedisBroker::new(settings, hub.clone(), metrics.clone())?;
        Ok(Self::new(hub, Arc::new(broker), metrics))
    }

    /// A fresh node-local connection number.
    pub fn next_conn_id(&self) -> ConnId {
        self.next_conn.fetch_add(1, Relaxed)
    }

    /// Subscribes a connection to a channel.
    pub fn subscribe(&self, channel: &str, conn: ConnId, outbox: &Arc<Outbox>, form: Form) {
        let change = self.hub.subscribe(channel, conn, outbox.clone(), form);
        self.broker.subscribers_changed(channel, change);
    }

    /// Unsubscribes a connection from a channel (no-op when not subscribed).
    pub fn unsubscribe(&self, channel: &str, conn: ConnId) {
        if let Some(change) = self.hub.unsubscribe(channel, conn) {
            self.broker.subscribers_changed(channel, change);
        }
    }

    /// Starts `channel_status` notices for a connection, beginning with the current status.
    pub fn watch(&self, channel: &str, conn: ConnId, outbox: &Arc<Outbox>) {
        let broker = &self.broker;
        let occupied = |local| broker.is_occupied(channel, local);
        self.hub.watch(channel, conn, outbox.clone(), occupied);
    }

    /// Ends a connection's `channel_status` notices.
    pub fn unwatch(&self, channel: &str, conn: ConnId) {
        self.hub.unwatch(channel, conn);
    }

    /// Hands `command` to every connection of `user` on every node of the cluster.
    pub async fn user_command(&self, user: &str, command: UserCommand) -> Result<(), BrokerError> {
        self.metrics.user_commands.fetch_add(1, Relaxed);
        self.broker.user_command(user, command).await
    }

    /// Publishes `data` to `channel` across the cluster.
    pub async fn publish(
        &self,
        channel: String,
        data: Box<RawValue>,
        exclude: Option<ConnId>,
    ) -> Result<PublishReceipt, BrokerError> {
        self.metrics.messages_published.fetch_add(1, Relaxed);
        let result = self
            .broker
            .publish(PublishRequest {
                channel,
                data,
                exclude,
            })
            .await;
        if result.is_err() {
            self.metrics.broker_publish_failures.fetch_add(1, Relaxed);
        }
        result
    }
}

//! The server's shared state: local channels, the broker and the metrics, with the
//! operations connections and HTTP handlers perform.

use crate::broker::{Broker, BrokerError, PublishReceipt, PublishRequest};
use crate::metrics::Metrics;
use crate::outbox::Outbox;
use crate::publication::ConnId;
use crate::registry::{Form, Registry};
use serde_json::value::RawValue;
use std::sync::atomic::{AtomicU64, Ordering::Relaxed};
use std::sync::Arc;

/// Channels, broker and metrics of one node.
pub struct Hub {
    /// Local subscriptions and fan-out.
    pub registry: Arc<Registry>,
    /// Cross-node delivery.
    pub broker: Arc<dyn Broker>,
    /// The node's figures.
    pub metrics: Arc<Metrics>,
    next_conn: AtomicU64,
}

impl Hub {
    /// A hub over an existing registry and broker.
    pub fn new(registry: Arc<Registry>, broker: Arc<dyn Broker>, metrics: Arc<Metrics>) -> Self {
        Self {
            registry,
            broker,
            metrics,
            next_conn: AtomicU64::new(1),
        }
    }

    /// A single-node hub with the embedded broker.
    pub fn in_memory() -> Self {
        let metrics = Arc::new(Metrics::default());
        let registry = Arc::new(Registry::new(metrics.clone()));
        let broker = Arc::new(crate::broker::MemoryBroker::new(registry.clone()));
        Self::new(registry, broker, metrics)
    }

    /// A cluster node's hub with the Redis broker.
    pub fn with_redis(settings: crate::broker::RedisSettings) -> Result<Self, BrokerError> {
        let metrics = Arc::new(Metrics::default());
        let registry = Arc::new(Registry::new(metrics.clone()));
        let broker = crate::broker::RedisBroker::new(settings, registry.clone(), metrics.clone())?;
        Ok(Self::new(registry, Arc::new(broker), metrics))
    }

    /// A fresh node-local connection number.
    pub fn next_conn_id(&self) -> ConnId {
        self.next_conn.fetch_add(1, Relaxed)
    }

    /// Subscribes a connection to a channel.
    pub fn subscribe(&self, channel: &str, conn: ConnId, outbox: &Arc<Outbox>, form: Form) {
        let change = self.registry.subscribe(channel, conn, outbox.clone(), form);
        self.broker.subscribers_changed(channel, change);
    }

    /// Unsubscribes a connection from a channel (no-op when not subscribed).
    pub fn unsubscribe(&self, channel: &str, conn: ConnId) {
        if let Some(change) = self.registry.unsubscribe(channel, conn) {
            self.broker.subscribers_changed(channel, change);
        }
    }

    /// Starts `channel_status` notices for a connection, beginning with the current status.
    pub fn watch(&self, channel: &str, conn: ConnId, outbox: &Arc<Outbox>) {
        let broker = &self.broker;
        let occupied = |local| broker.is_occupied(channel, local);
        self.registry.watch(channel, conn, outbox.clone(), occupied);
    }

    /// Ends a connection's `channel_status` notices.
    pub fn unwatch(&self, channel: &str, conn: ConnId) {
        self.registry.unwatch(channel, conn);
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

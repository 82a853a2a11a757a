//! The server's shared state: local channels, the broker and the metrics, with the
//! operations connections and HTTP handlers perform.

use crate::broker::{
    Broker, BrokerError, History, HistoryQuery, Presence, PresenceChange, PublishReceipt,
    PublishRequest,
};
use crate::channel_options::{ChannelOptions, ChannelOptionsTable};
use crate::hub::{Activation, ConnId, Form, Hub, Start};
use crate::metrics::Metrics;
use crate::outbox::{Frame, Outbox};
use crate::users::UserCommand;
use howl_protocol::{
    ConfirmationPayload, ErrorCode, Member, ServerMessage, StreamPosition, SubscribedPayload,
};
use serde_json::value::RawValue;
use std::sync::atomic::{AtomicU64, Ordering::Relaxed};
use std::sync::Arc;

/// Bytes of history the embedded broker keeps when not told otherwise (64 MiB).
pub const DEFAULT_HISTORY_MAX_BYTES: usize = 64 << 20;

/// Channels, broker and metrics of one node.
pub struct Node {
    /// Local subscriptions and fan-out.
    pub hub: Arc<Hub>,
    /// Cross-node delivery.
    pub broker: Arc<dyn Broker>,
    /// The node's figures.
    pub metrics: Arc<Metrics>,
    /// What each namespace's channels keep (history, presence).
    pub channels: Arc<ChannelOptionsTable>,
    next_conn: AtomicU64,
}

/// A subscription to add with [`Node::subscribe`].
pub struct Subscription<'a> {
    /// The validated channel name.
    pub channel: &'a str,
    /// The subscribing connection.
    pub conn: ConnId,
    /// Its outgoing queue.
    pub outbox: &'a Arc<Outbox>,
    /// How it asked, which decides the frames it receives.
    pub form: Form,
    /// Who it is, for channels that keep presence.
    pub member: Option<Member>,
}

/// How the client learns that a subscription started; it is queued before the channel's
/// first message.
#[derive(Debug, Clone)]
pub enum Opening {
    /// The client's `subscribe`: this `subscribe_confirmation`, which for a named channel
    /// gains the stream's position (and, with `since`, whether it recovered).
    Confirm {
        /// The confirmation, without position.
        confirmation: ConfirmationPayload,
        /// Where the client left off, to deliver what it missed first.
        since: Option<StreamPosition>,
    },
    /// A server-side subscription: a `subscribed` event.
    Subscribed,
}

/// Why a history or presence read failed.
#[derive(Debug, thiserror::Error)]
pub enum ReadError {
    /// The channel's namespace keeps no history (`history-size = 0`).
    #[error("this channel keeps no history (its namespace sets history-size = 0)")]
    NoHistory,
    /// The channel's namespace keeps no presence.
    #[error("this channel keeps no presence (its namespace does not set presence = true)")]
    NoPresence,
    /// The broker could not answer.
    #[error(transparent)]
    Broker(#[from] BrokerError),
}

impl ReadError {
    /// The error code to report.
    pub fn code(&self) -> ErrorCode {
        match self {
            Self::NoHistory | Self::NoPresence => ErrorCode::NotAvailable,
            Self::Broker(_) => ErrorCode::BrokerUnavailable,
        }
    }
}

impl Node {
    /// A node over an existing hub and broker, with the default channel options.
    pub fn new(hub: Arc<Hub>, broker: Arc<dyn Broker>, metrics: Arc<Metrics>) -> Self {
        Self {
            hub,
            broker,
            metrics,
            channels: Arc::default(),
            next_conn: AtomicU64::new(1),
        }
    }

    /// The node the configuration describes: a cluster node when it names Redis, else a
    /// single node with the embedded broker.
    pub fn from_config(config: &crate::Config) -> Result<Self, BrokerError> {
        let node = match crate::broker::RedisSettings::from_config(config) {
            Some(settings) => Self::with_redis(settings)?,
            None => Self::in_memory_with(config.history_max_bytes),
        };
        Ok(node.with_channels(config.channels.clone()))
    }

    /// The same node with these channel options.
    pub fn with_channels(mut self, channels: Arc<ChannelOptionsTable>) -> Self {
        self.channels = channels;
        self
    }

    /// A single node with the embedded broker and the default history cap.
    pub fn in_memory() -> Self {
        Self::in_memory_with(DEFAULT_HISTORY_MAX_BYTES)
    }

    fn in_memory_with(history_max_bytes: usize) -> Self {
        let metrics = Arc::new(Metrics::default());
        let hub = Arc::new(Hub::new(metrics.clone()));
        let broker =
            crate::broker::MemoryBroker::new(hub.clone(), metrics.clone(), history_max_bytes);
        Self::new(hub, Arc::new(broker), metrics)
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

    /// The options of `channel`.
    pub fn options(&self, channel: &str) -> ChannelOptions {
        self.channels.get(channel)
    }

    /// Subscribes a connection to a channel and queues `opening`, then (with `since`) what
    /// it missed, then the channel's live messages: no gap, no duplicate, in `seq` order,
    /// whatever is published meanwhile. Returns once the subscription is live on every
    /// path that delivers to it; on a broker failure it is undone.
    pub async fn subscribe(
        &self,
        subscription: Subscription<'_>,
        opening: Opening,
    ) -> Result<(), BrokerError> {
        let Subscription {
            channel,
            conn,
            outbox,
            form,
            member,
        } = subscription;
        let options = self.options(channel);
        let member = member.filter(|_| options.presence).map(Arc::new);
        let change = self.hub.subscribe(
            channel,
            conn,
            outbox.clone(),
            form,
            Start::Held,
            member.clone(),
        );
        self.broker.subscribers_changed(channel, change);
        // Subscribing again only renews the subscription: the member joined already.
        let joined = change.after > change.before;
        let started = self.open(channel, form, options, opening).await;
        let (first, after) = match started {
            Ok(started) => started,
            Err(error) => {
                // Undone without a `leave`: nobody heard the `join`.
                if let Some((change, _)) = self.hub.unsubscribe(channel, conn) {
                    self.broker.subscribers_changed(channel, change);
                }
                return Err(error);
            }
        };
        let activation = self.hub.activate(channel, conn, first, after);
        if let (Activation::Live, Some(member), true) = (activation, member, joined) {
            let join = PresenceChange::Join((*member).clone());
            self.broker
                .presence_changed(channel, join, options.join_leave);
        }
        Ok(())
    }

    /// Waits until the subscription is live and reads what its opening needs: the frames
    /// to queue first, and the `seq` held publications must exceed to follow them.
    async fn open(
        &self,
        channel: &str,
        form: Form,
        options: ChannelOptions,
        opening: Opening,
    ) -> Result<(Vec<Frame>, u64), BrokerError> {
        self.broker.live(channel).await?;
        let (mut confirmation, since) = match opening {
            Opening::Subscribed => {
                let event = ServerMessage::Subscribed(SubscribedPayload {
                    channel: channel.to_owned(),
                });
                return Ok((vec![Frame::from(event.to_json())], 0));
            }
            // The original protocol's confirmation stays exactly `{"status":"ok"}`.
            Opening::Confirm { confirmation, .. } if form == Form::Wisdom => {
                let frame = ServerMessage::SubscribeConfirmation(confirmation).to_json();
                return Ok((vec![Frame::from(frame)], 0));
            }
            Opening::Confirm {
                confirmation,
                since,
            } => (confirmation, since),
        };
        let recovering = since.is_some();
        let query = HistoryQuery {
            since,
            limit: (!recovering).then_some(0),
        };
        let history = self.broker.history(channel, query, options.history).await?;
        let History {
            position,
            publications,
            complete,
        } = history;
        let after = position.seq;
        confirmation.epoch = Some(position.epoch);
        confirmation.seq = Some(position.seq);
        let mut first = Vec::with_capacity(1 + publications.len());
        if recovering {
            confirmation.recovered = Some(complete);
            let metrics = &self.metrics.streams;
            if complete {
                metrics.recoveries.fetch_add(1, Relaxed);
                let recovered = publications.len() as u64;
                metrics.recovered_messages.fetch_add(recovered, Relaxed);
            } else {
                metrics.recoveries_failed.fetch_add(1, Relaxed);
            }
        }
        let message = ServerMessage::SubscribeConfirmation(confirmation);
        first.push(Frame::from(message.to_json()));
        if recovering && complete {
            first.extend(publications.iter().map(|p| p.message_frame()));
        }
        Ok((first, after))
    }

    /// Unsubscribes a connection from a channel (no-op when not subscribed).
    pub fn unsubscribe(&self, channel: &str, conn: ConnId) {
        let Some((change, member)) = self.hub.unsubscribe(channel, conn) else {
            return;
        };
        self.broker.subscribers_changed(channel, change);
        if let Some(member) = member {
            let announce = self.options(channel).join_leave;
            let leave = PresenceChange::Leave((*member).clone());
            self.broker.presence_changed(channel, leave, announce);
        }
    }

    /// Reads `channel`'s history.
    pub async fn history(&self, channel: &str, query: HistoryQuery) -> Result<History, ReadError> {
        let policy = self.options(channel).history;
        if policy.size == 0 {
            return Err(ReadError::NoHistory);
        }
        self.metrics.streams.history_reads.fetch_add(1, Relaxed);
        Ok(self.broker.history(channel, query, policy).await?)
    }

    /// Who is in `channel`, across the cluster.
    pub async fn presence(&self, channel: &str) -> Result<Presence, ReadError> {
        let options = self.options(channel);
        if !options.presence {
            return Err(ReadError::NoPresence);
        }
        let max = options.presence_max_members;
        Ok(self.broker.presence(channel, max).await?)
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
        let history = self.options(&channel).history;
        let result = self
            .broker
            .publish(PublishRequest {
                channel,
                data,
                exclude,
                history,
            })
            .await;
        if result.is_err() {
            self.metrics.broker_publish_failures.fetch_add(1, Relaxed);
        }
        result
    }
}

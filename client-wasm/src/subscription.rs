//! [`Subscription`]: one channel of a [`Client`] — subscribe, listen, publish with the
//! server's confirmation, read its history and presence — and [`ListenerGuard`], which
//! removes a listener when dropped.
//!
//! After a reconnect the client re-subscribes with the position of the last message it
//! delivered, and the server replays what was published meanwhile (see
//! [`Subscription::on_subscribed`]); gaps in the live stream are filled from history. What
//! cannot be recovered is reported to [`Subscription::on_gap`].
//!
//! ```no_run
//! # async fn demo(client: howl_client_wasm::Client) -> Result<(), howl_client_wasm::Error> {
//! let news = client.channel("news");
//! let _listening = news.on_message(|m| log(&m.data.to_string())); // until dropped
//! news.subscribe().await?;
//! let ack = news.publish(serde_json::json!({"headline": "Moon is full"})).await?;
//! log(&format!("published as #{}", ack.seq));
//! # Ok(()) }
//! # fn log(_: &str) {}
//! ```

use crate::reply::{self, Reply};
use crate::{Client, Error, ListenerId};
use howl_client_core::{
    ClientError, Event, History, HistoryOptions, Member, Message, Presence, PublishAck,
    StreamPosition,
};
use serde_json::Value;

/// One channel of a [`Client`]. Cheap to clone; any number may exist for one channel (they
/// share the client's subscription set).
#[derive(Clone)]
pub struct Subscription {
    client: Client,
    channel: String,
}

/// What [`Subscription::on_subscribed`] reports about a (re-)subscription.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct SubscribedInfo {
    /// The stream's position when the subscription started (`None` for a channel the server
    /// subscribed, or a server that sent none).
    pub position: Option<StreamPosition>,
    /// A re-subscription after a reconnect that recovered every message missed while away
    /// (they follow as ordinary messages, before any live one).
    pub recovered: bool,
    /// How many missed messages follow (0 unless `recovered`).
    pub recovered_count: u64,
}

/// Removes its listener when dropped; [`ListenerGuard::keep`] keeps it for the client's life.
#[must_use = "dropping the guard removes the listener at once"]
pub struct ListenerGuard {
    client: Client,
    id: Option<ListenerId>,
}

impl ListenerGuard {
    /// The listener's id (for [`Client::off`]).
    pub fn id(&self) -> ListenerId {
        self.id.expect("set until dropped or kept")
    }

    /// Keeps the listener until the client closes (or [`Client::off`]).
    pub fn keep(mut self) -> ListenerId {
        self.id.take().expect("set until dropped or kept")
    }
}

impl Drop for ListenerGuard {
    fn drop(&mut self) {
        if let Some(id) = self.id.take() {
            self.client.off(id);
        }
    }
}

impl Client {
    /// The channel `name` (validated when used: a bad name fails `subscribe` and `publish`
    /// with `invalid_channel`).
    pub fn channel(&self, name: &str) -> Subscription {
        Subscription {
            client: self.clone(),
            channel: name.to_owned(),
        }
    }
}

impl Subscription {
    /// The channel's name.
    pub fn name(&self) -> &str {
        &self.channel
    }

    /// The client this channel belongs to.
    pub fn client(&self) -> &Client {
        &self.client
    }

    /// Subscribes (kept across reconnects); resolves on the server's confirmation.
    pub fn subscribe(&self) -> Reply {
        self.client.subscribe(Some(&self.channel))
    }

    /// Unsubscribes; messages stop at once, resolves on the server's confirmation.
    pub fn unsubscribe(&self) -> Reply {
        self.client.unsubscribe(Some(&self.channel))
    }

    /// Resolves once the channel is subscribed: at once if confirmed, else with the pending
    /// (or a new) subscribe's outcome.
    pub fn ready(&self) -> Reply {
        self.subscribe()
    }

    /// Whether the current connection confirmed the subscription.
    pub fn is_subscribed(&self) -> bool {
        self.client
            .subscriptions()
            .iter()
            .any(|(c, confirmed)| *c == self.channel && *confirmed)
    }

    /// Publishes `data`; resolves with its `seq` once the server confirmed it, or fails with
    /// the server's code (`permission_denied`, `rate_limited`, `broker_unavailable`, …),
    /// `timeout`, `publish_queue_full`, `connection_lost` or `closed`. While the client is
    /// reconnecting the publish waits in a bounded queue and is sent once it is back.
    pub fn publish(&self, data: Value) -> Reply<PublishAck> {
        self.publish_with(data, false)
    }

    /// [`Subscription::publish`], where `exclude_self` keeps this client from receiving it.
    pub fn publish_with(&self, data: Value, exclude_self: bool) -> Reply<PublishAck> {
        let (resolver, reply) = reply::channel();
        let channel = self.channel.clone();
        self.client.engine.publish(
            move |s, now| s.publish_confirmed(&channel, data, exclude_self, now),
            Box::new(move |r| resolver.resolve(r)),
        );
        reply
    }

    /// Calls `f` with each message of this channel.
    pub fn on_message(&self, mut f: impl FnMut(&Message) + 'static) -> ListenerGuard {
        let channel = self.channel.clone();
        self.listen(move |e| match e {
            Event::Message(m) if m.channel == channel => f(m),
            _ => {}
        })
    }

    /// Reads the channel's history (see [`Client::history`]).
    pub fn history(&self, options: HistoryOptions) -> Reply<History> {
        self.client.history(&self.channel, options)
    }

    /// Who is subscribed to the channel (see [`Client::presence`]).
    pub fn presence(&self) -> Reply<Presence> {
        self.client.presence(&self.channel)
    }

    /// Calls `f` whenever the channel becomes subscribed: confirmed by the server (again
    /// after every reconnect, saying what was recovered), or subscribed by the server itself.
    pub fn on_subscribed(&self, mut f: impl FnMut(&SubscribedInfo) + 'static) -> ListenerGuard {
        let channel = self.channel.clone();
        self.listen(move |e| {
            if let Some(info) = subscribed_info(e, &channel) {
                f(&info)
            }
        })
    }

    /// Calls `f` with `(from, to)` when messages of this channel were lost for good: every
    /// message after `from` up to and including `to` (a re-subscription that could not
    /// recover them, or a live gap that history could not fill).
    pub fn on_gap(
        &self,
        mut f: impl FnMut(&StreamPosition, &StreamPosition) + 'static,
    ) -> ListenerGuard {
        let channel = self.channel.clone();
        self.listen(move |e| match e {
            Event::Gap {
                channel: c,
                from,
                to,
            } if *c == channel => f(from, to),
            _ => {}
        })
    }

    /// Calls `f` when someone subscribes to the channel (namespaces with `join-leave`).
    pub fn on_join(&self, mut f: impl FnMut(&Member) + 'static) -> ListenerGuard {
        let channel = self.channel.clone();
        self.listen(move |e| match e {
            Event::Join { channel: c, member } if *c == channel => f(member),
            _ => {}
        })
    }

    /// Calls `f` when someone unsubscribes from the channel (namespaces with `join-leave`).
    pub fn on_leave(&self, mut f: impl FnMut(&Member) + 'static) -> ListenerGuard {
        let channel = self.channel.clone();
        self.listen(move |e| match e {
            Event::Leave { channel: c, member } if *c == channel => f(member),
            _ => {}
        })
    }

    /// Calls `f` when the channel stops being subscribed: by this client's unsubscribe, or
    /// by the server.
    pub fn on_unsubscribed(&self, mut f: impl FnMut() + 'static) -> ListenerGuard {
        let channel = self.channel.clone();
        self.listen(move |e| match e {
            Event::SubscriptionEnded { channel: c } | Event::Unsubscribed { channel: c }
                if *c == channel =>
            {
                f()
            }
            _ => {}
        })
    }

    /// Calls `f` with errors about this channel not tied to a pending request: a lost
    /// re-subscription after a reconnect, or a server error naming the channel.
    pub fn on_error(&self, mut f: impl FnMut(&Error) + 'static) -> ListenerGuard {
        let channel = self.channel.clone();
        self.listen(move |e| {
            if let Some(error) = channel_error(e, &channel) {
                f(&error)
            }
        })
    }

    fn listen(&self, f: impl FnMut(&Event) + 'static) -> ListenerGuard {
        ListenerGuard {
            id: Some(self.client.on_event(f)),
            client: self.client.clone(),
        }
    }
}

/// What `event` says about `channel` becoming subscribed, if it does.
pub(crate) fn subscribed_info(event: &Event, channel: &str) -> Option<SubscribedInfo> {
    match event {
        Event::SubscriptionConfirmed {
            channel: c,
            position,
            recovered,
            recovered_count,
        } if c == channel => Some(SubscribedInfo {
            position: position.clone(),
            recovered: *recovered == Some(true),
            recovered_count: *recovered_count,
        }),
        Event::Subscribed { channel: c } if c == channel => Some(SubscribedInfo {
            position: None,
            recovered: false,
            recovered_count: 0,
        }),
        _ => None,
    }
}

/// The error `event` reports about `channel`, if any.
pub(crate) fn channel_error(event: &Event, channel: &str) -> Option<Error> {
    match event {
        Event::SubscriptionFailed { channel: c, error } if c == channel => {
            Some(error.clone().into())
        }
        Event::ServerError(p) if p.channel.as_deref() == Some(channel) => Some(
            ClientError::Server {
                code: p.code,
                message: p.message.clone(),
            }
            .into(),
        ),
        _ => None,
    }
}

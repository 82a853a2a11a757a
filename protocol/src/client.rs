//! Events a client sends to the hub. Each carries the connection's own `id`, as the original
//! protocol did, and may carry a `ref` that every reply to it echoes.

use crate::{HistoryPayload, Ref, StreamPosition};
use serde::{Deserialize, Serialize};
use serde_json::value::RawValue;

/// An event from a client. Encodes as `{"type": "<snake_case name>", "payload": {...}}`.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
#[serde(tag = "type", content = "payload", rename_all = "snake_case")]
pub enum ClientMessage {
    /// The client has processed its id; only now does it join the pool of ready connections.
    /// A hub in secured mode needs a connection `token` here.
    Connect(ConnectPayload),
    /// Join a channel (the default quote channel when `channel` is absent).
    Subscribe(SubscriptionPayload),
    /// Leave a channel (the default quote channel when `channel` is absent).
    Unsubscribe(SubscriptionPayload),
    /// Send `data` to every subscriber of a channel.
    Publish(PublishPayload),
    /// Ask for `channel_status` notices: one now, then one each time the channel's subscriber
    /// count moves between zero and non-zero.
    Watch(ChannelPayload),
    /// Stop the notices asked for with `watch`.
    Unwatch(ChannelPayload),
    /// Keep-alive, sent every 5 s; answered with `pong`.
    Ping(IdPayload),
    /// The user ended the session; the hub closes the connection with code 1000.
    Disconnect(IdPayload),
    /// A new connection token for the same user, sent before the current one expires: the
    /// connection continues under the new token's expiry.
    Refresh(RefreshPayload),
    /// Read a channel's history; answered with `history_result`.
    History(HistoryPayload),
    /// Ask who is subscribed to a channel with presence; answered with `presence_result`.
    Presence(ChannelPayload),
}

impl ClientMessage {
    /// The wire name of this event's `type`.
    pub fn type_name(&self) -> &'static str {
        match self {
            Self::Connect(_) => "connect",
            Self::Subscribe(_) => "subscribe",
            Self::Unsubscribe(_) => "unsubscribe",
            Self::Publish(_) => "publish",
            Self::Watch(_) => "watch",
            Self::Unwatch(_) => "unwatch",
            Self::Ping(_) => "ping",
            Self::Disconnect(_) => "disconnect",
            Self::Refresh(_) => "refresh",
            Self::History(_) => "history",
            Self::Presence(_) => "presence",
        }
    }

    /// The connection id the event claims to come from.
    pub fn id(&self) -> &str {
        match self {
            Self::Connect(p) => &p.id,
            Self::Ping(p) | Self::Disconnect(p) => &p.id,
            Self::Refresh(p) => &p.id,
            Self::Subscribe(p) | Self::Unsubscribe(p) => &p.id,
            Self::Publish(p) => &p.id,
            Self::Watch(p) | Self::Unwatch(p) | Self::Presence(p) => &p.id,
            Self::History(p) => &p.id,
        }
    }

    /// The request's `ref`, echoed by every reply to it.
    pub fn reference(&self) -> Option<&Ref> {
        match self {
            Self::Connect(p) => p.reference.as_ref(),
            Self::Ping(p) | Self::Disconnect(p) => p.reference.as_ref(),
            Self::Refresh(p) => p.reference.as_ref(),
            Self::Subscribe(p) | Self::Unsubscribe(p) => p.reference.as_ref(),
            Self::Publish(p) => p.reference.as_ref(),
            Self::Watch(p) | Self::Unwatch(p) | Self::Presence(p) => p.reference.as_ref(),
            Self::History(p) => p.reference.as_ref(),
        }
    }

    /// Encodes the event as a JSON text frame.
    pub fn to_json(&self) -> String {
        serde_json::to_string(self).expect("client messages always serialize")
    }
}

/// A payload holding only the connection id (and the request's `ref`).
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct IdPayload {
    /// The id the hub assigned in `initial`.
    pub id: String,
    /// Echoed in the reply (`pong`) and in any `error` for this request.
    #[serde(rename = "ref", default, skip_serializing_if = "Option::is_none")]
    pub reference: Option<Ref>,
}

impl IdPayload {
    /// A payload with `id` and no `ref`.
    pub fn new(id: impl Into<String>) -> Self {
        Self {
            id: id.into(),
            reference: None,
        }
    }
}

/// Payload of `connect`. Without a `token` it encodes exactly as the original protocol's
/// `{"id": ...}`.
#[derive(Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct ConnectPayload {
    /// The id the hub assigned in `initial`.
    pub id: String,
    /// The connection token (a JWT), needed when the hub runs in secured mode.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub token: Option<String>,
    /// Echoed in any `error` for this request.
    #[serde(rename = "ref", default, skip_serializing_if = "Option::is_none")]
    pub reference: Option<Ref>,
}

impl ConnectPayload {
    /// A payload with `id`, no token and no `ref`: the original protocol's `connect`.
    pub fn new(id: impl Into<String>) -> Self {
        Self {
            id: id.into(),
            token: None,
            reference: None,
        }
    }
}

// The token is a credential: it never appears in debug output (logs).
impl std::fmt::Debug for ConnectPayload {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("ConnectPayload")
            .field("id", &self.id)
            .field("token", &self.token.as_ref().map(|_| "<redacted>"))
            .field("reference", &self.reference)
            .finish()
    }
}

/// Payload of `refresh`.
#[derive(Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct RefreshPayload {
    /// The id the hub assigned in `initial`.
    pub id: String,
    /// The new connection token: the same user (`sub`), a later expiry.
    pub token: String,
    /// Echoed in any `error` for this request.
    #[serde(rename = "ref", default, skip_serializing_if = "Option::is_none")]
    pub reference: Option<Ref>,
}

// The token is a credential: it never appears in debug output (logs).
impl std::fmt::Debug for RefreshPayload {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("RefreshPayload")
            .field("id", &self.id)
            .field("token", &"<redacted>")
            .field("reference", &self.reference)
            .finish()
    }
}

/// Payload of `subscribe` and `unsubscribe`.
#[derive(Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct SubscriptionPayload {
    /// The id the hub assigned in `initial`.
    pub id: String,
    /// The channel; absent means [`crate::DEFAULT_CHANNEL`] in the original protocol's form.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub channel: Option<String>,
    /// A subscription token (JWT with `sub`, `channel`, `exp`), for channels of a namespace
    /// whose `subscribe` rule is `token`.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub token: Option<String>,
    /// Recover from this position: the hub first delivers every message after it from the
    /// channel's history, then live ones, with no gap and no duplicate; the confirmation
    /// says whether that was possible (`recovered`).
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub since: Option<StreamPosition>,
    /// Echoed in the confirmation and in any `error` for this request.
    #[serde(rename = "ref", default, skip_serializing_if = "Option::is_none")]
    pub reference: Option<Ref>,
}

// The token is a credential: it never appears in debug output (logs).
impl std::fmt::Debug for SubscriptionPayload {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("SubscriptionPayload")
            .field("id", &self.id)
            .field("channel", &self.channel)
            .field("token", &self.token.as_ref().map(|_| "<redacted>"))
            .field("since", &self.since)
            .field("reference", &self.reference)
            .finish()
    }
}

/// Payload of `watch`, `unwatch` and `presence`.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct ChannelPayload {
    /// The id the hub assigned in `initial`.
    pub id: String,
    /// The channel to watch (or whose presence to read).
    pub channel: String,
    /// Echoed in any `error` for this request.
    #[serde(rename = "ref", default, skip_serializing_if = "Option::is_none")]
    pub reference: Option<Ref>,
}

/// Payload of `publish`.
#[derive(Debug, Clone, Serialize, Deserialize)]
pub struct PublishPayload {
    /// The id the hub assigned in `initial`.
    pub id: String,
    /// The channel to publish to.
    pub channel: String,
    /// Any JSON value, kept as the publisher's exact text: subscribers receive these bytes.
    pub data: Box<RawValue>,
    /// When true, the publishing connection does not receive its own message.
    #[serde(default, skip_serializing_if = "std::ops::Not::not")]
    pub exclude_self: bool,
    /// With a `ref`, the publish is answered with `publish_confirmation` (or an `error`)
    /// carrying it; without one, success has no reply.
    #[serde(rename = "ref", default, skip_serializing_if = "Option::is_none")]
    pub reference: Option<Ref>,
}

// `RawValue` has no `PartialEq`: two payloads are equal when their data texts are.
impl PartialEq for PublishPayload {
    fn eq(&self, other: &Self) -> bool {
        self.id == other.id
            && self.channel == other.channel
            && self.data.get() == other.data.get()
            && self.exclude_self == other.exclude_self
            && self.reference == other.reference
    }
}

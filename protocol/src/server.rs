//! Events the hub sends to a client.

use crate::{ErrorCode, HistoryResult, PresenceEvent, PresenceResult, Ref};
use serde::{Deserialize, Serialize, Serializer};
use serde_json::value::RawValue;

/// An event from the hub. Encodes as `{"type": "<snake_case name>", "payload": {...}}`.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
#[serde(tag = "type", content = "payload", rename_all = "snake_case")]
pub enum ServerMessage {
    /// Sent right after the upgrade: the id the hub assigned to this connection.
    Initial(InitialPayload),
    /// A `subscribe` was processed.
    SubscribeConfirmation(ConfirmationPayload),
    /// An `unsubscribe` was processed.
    UnsubscribeConfirmation(ConfirmationPayload),
    /// A `publish` that carried a `ref` was accepted and numbered.
    PublishConfirmation(PublishConfirmation),
    /// A quote on the default channel, in the original protocol's form: sent to connections
    /// that subscribed without naming a channel.
    WisdomDistribution(WisdomPayload),
    /// Data published to a channel the connection subscribed to by name.
    Message(ChannelMessage),
    /// Whether a watched channel has subscribers (see `watch`).
    ChannelStatus(ChannelStatus),
    /// The answer to `ping`.
    Pong(PongPayload),
    /// Something the client sent was rejected; the connection stays usable (unless a close
    /// follows, e.g. after `unauthorized` or `token_expired`).
    Error(ErrorPayload),
    /// The server subscribed the connection to a channel (e.g. one listed in the connection
    /// token's `channels` claim); its messages arrive as `message` frames.
    Subscribed(SubscribedPayload),
    /// The server unsubscribed the connection from a channel (`POST
    /// /api/users/{user}/unsubscribe`); no more of its messages arrive.
    Unsubscribed(SubscribedPayload),
    /// The answer to `history`.
    HistoryResult(HistoryResult),
    /// The answer to `presence`.
    PresenceResult(PresenceResult),
    /// A connection subscribed to a channel of a `join-leave` namespace.
    Join(PresenceEvent),
    /// A connection left a channel of a `join-leave` namespace.
    Leave(PresenceEvent),
}

impl ServerMessage {
    /// The wire name of this event's `type`.
    pub fn type_name(&self) -> &'static str {
        match self {
            Self::Initial(_) => "initial",
            Self::SubscribeConfirmation(_) => "subscribe_confirmation",
            Self::UnsubscribeConfirmation(_) => "unsubscribe_confirmation",
            Self::PublishConfirmation(_) => "publish_confirmation",
            Self::WisdomDistribution(_) => "wisdom_distribution",
            Self::Message(_) => "message",
            Self::ChannelStatus(_) => "channel_status",
            Self::Pong(_) => "pong",
            Self::Error(_) => "error",
            Self::Subscribed(_) => "subscribed",
            Self::Unsubscribed(_) => "unsubscribed",
            Self::HistoryResult(_) => "history_result",
            Self::PresenceResult(_) => "presence_result",
            Self::Join(_) => "join",
            Self::Leave(_) => "leave",
        }
    }

    /// Encodes the event as a JSON text frame.
    pub fn to_json(&self) -> String {
        serde_json::to_string(self).expect("server messages always serialize")
    }

    /// A `subscribe_confirmation` with status ok; `channel` and `ref` are echoed only when
    /// the request carried them, so the original protocol sees exactly `{"status":"ok"}`.
    pub fn subscribed(channel: Option<String>, reference: Option<Ref>) -> Self {
        Self::SubscribeConfirmation(ConfirmationPayload::ok(channel, reference))
    }

    /// An `unsubscribe_confirmation` with status ok.
    pub fn unsubscribed(channel: Option<String>, reference: Option<Ref>) -> Self {
        Self::UnsubscribeConfirmation(ConfirmationPayload::ok(channel, reference))
    }

    /// An `error` frame.
    pub fn error(code: ErrorCode, message: impl Into<String>) -> Self {
        Self::Error(ErrorPayload::new(code, message))
    }
}

/// Payload of `initial`.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct InitialPayload {
    /// The connection's id (a UUID v4), to be echoed in every client event.
    pub id: String,
}

/// The outcome in a confirmation.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum Status {
    /// The request was carried out.
    Ok,
}

/// Payload of `subscribe_confirmation` and `unsubscribe_confirmation`.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct ConfirmationPayload {
    /// Always `"ok"`: a refused request gets an `error` instead.
    pub status: Status,
    /// The channel, when the request named one.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub channel: Option<String>,
    /// A subscribe to a named channel: the stream's epoch when the subscription started.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub epoch: Option<String>,
    /// A subscribe to a named channel: the stream's last sequence number when the
    /// subscription started (recovered messages, if any, come after the confirmation).
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub seq: Option<u64>,
    /// A subscribe with `since`: whether every message after it follows (`false` when the
    /// epoch changed or the messages fell out of history).
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub recovered: Option<bool>,
    /// The request's `ref`, when it carried one.
    #[serde(rename = "ref", default, skip_serializing_if = "Option::is_none")]
    pub reference: Option<Ref>,
}

impl ConfirmationPayload {
    /// Status ok with `channel` and `ref` and no stream position.
    pub fn ok(channel: Option<String>, reference: Option<Ref>) -> Self {
        Self {
            status: Status::Ok,
            channel,
            epoch: None,
            seq: None,
            recovered: None,
            reference,
        }
    }
}

/// Payload of `publish_confirmation`.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct PublishConfirmation {
    /// The channel published to.
    pub channel: String,
    /// The sequence number the channel gave the message.
    pub seq: u64,
    /// The `ref` of the `publish` (a publish without one gets no confirmation).
    #[serde(rename = "ref", default, skip_serializing_if = "Option::is_none")]
    pub reference: Option<Ref>,
}

/// Payload of `wisdom_distribution`.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct WisdomPayload {
    /// The quote.
    pub message: String,
}

/// Payload of `message`: one publication on a channel. It encodes through
/// [`MessageRef`], the one encoder of `message` frames.
#[derive(Debug, Clone, Deserialize)]
pub struct ChannelMessage {
    /// The channel it was published to.
    pub channel: String,
    /// Per-channel sequence number, increasing by one per publication (cluster-wide); 0 for a
    /// message a backend published straight into Redis without one ("not numbered").
    pub seq: u64,
    /// When the hub accepted it, in milliseconds since the Unix epoch.
    pub time: u64,
    /// The published JSON value, exactly as the publisher wrote it.
    pub data: Box<RawValue>,
}

// `RawValue` has no `PartialEq`: two messages are equal when their data texts are.
impl PartialEq for ChannelMessage {
    fn eq(&self, other: &Self) -> bool {
        self.as_ref() == other.as_ref()
    }
}

impl ChannelMessage {
    /// The borrowed form of this message.
    pub fn as_ref(&self) -> MessageRef<'_> {
        MessageRef {
            channel: &self.channel,
            seq: self.seq,
            time: self.time,
            data: &self.data,
        }
    }
}

impl Serialize for ChannelMessage {
    fn serialize<S: Serializer>(&self, serializer: S) -> Result<S::Ok, S::Error> {
        self.as_ref().serialize(serializer)
    }
}

/// A `message` payload that borrows its parts: what the hub's fan-out encodes, once per
/// publication, without copying the data first.
#[derive(Debug, Clone, Copy, Serialize)]
pub struct MessageRef<'a> {
    /// The channel it was published to.
    pub channel: &'a str,
    /// Per-channel sequence number (see [`ChannelMessage::seq`]).
    pub seq: u64,
    /// When the hub accepted it, in milliseconds since the Unix epoch.
    pub time: u64,
    /// The published JSON value, exactly as the publisher wrote it.
    pub data: &'a RawValue,
}

impl PartialEq for MessageRef<'_> {
    fn eq(&self, other: &Self) -> bool {
        (self.channel, self.seq, self.time, self.data.get())
            == (other.channel, other.seq, other.time, other.data.get())
    }
}

#[derive(Serialize)]
struct Envelope<P> {
    #[serde(rename = "type")]
    kind: &'static str,
    payload: P,
}

pub(crate) fn encode<P: Serialize>(kind: &'static str, payload: P) -> String {
    serde_json::to_string(&Envelope { kind, payload }).expect("frames always encode")
}

impl MessageRef<'_> {
    /// The whole `message` frame, byte-identical to encoding [`ServerMessage::Message`].
    pub fn to_json(&self) -> String {
        encode("message", self)
    }

    /// The original protocol's `wisdom_distribution` frame for this data: a JSON string is
    /// sent as the quote itself, any other value as its JSON text.
    pub fn to_wisdom_json(&self) -> String {
        let text = serde_json::from_str::<String>(self.data.get());
        let message = text.as_deref().unwrap_or(self.data.get());
        encode("wisdom_distribution", WisdomRef { message })
    }
}

#[derive(Serialize)]
struct WisdomRef<'a> {
    message: &'a str,
}

/// Payload of `subscribed` and `unsubscribed`.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct SubscribedPayload {
    /// The channel the server subscribed the connection to, or unsubscribed it from.
    pub channel: String,
}

/// Payload of `channel_status`.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct ChannelStatus {
    /// The watched channel.
    pub channel: String,
    /// Whether at least one connection is subscribed to it (anywhere in the cluster).
    pub occupied: bool,
}

/// Payload of `pong`.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct PongPayload {
    /// The hub's clock, in milliseconds since the Unix epoch.
    pub time: u64,
    /// The `ref` of the `ping`, when it carried one.
    #[serde(rename = "ref", default, skip_serializing_if = "Option::is_none")]
    pub reference: Option<Ref>,
}

/// Payload of `error`.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct ErrorPayload {
    /// Stable machine-readable reason.
    pub code: ErrorCode,
    /// What was wrong, for humans.
    pub message: String,
    /// The `type` of the rejected event, when it could be read.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub request: Option<String>,
    /// The channel the rejected event named, when it named one.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub channel: Option<String>,
    /// The `ref` of the rejected event, when it carried one that could be read.
    #[serde(rename = "ref", default, skip_serializing_if = "Option::is_none")]
    pub reference: Option<Ref>,
}

impl ErrorPayload {
    /// An error with only a code and a message.
    pub fn new(code: ErrorCode, message: impl Into<String>) -> Self {
        Self {
            code,
            message: message.into(),
            request: None,
            channel: None,
            reference: None,
        }
    }
}

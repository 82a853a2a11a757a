//! Events the hub sends to a client.

use crate::ErrorCode;
use serde::{Deserialize, Serialize};
use serde_json::Value;

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
    /// A quote on the default channel, in the original protocol's form: sent to connections
    /// that subscribed without naming a channel.
    WisdomDistribution(WisdomPayload),
    /// Data published to a channel the connection subscribed to by name.
    Message(ChannelMessage),
    /// Whether a watched channel has subscribers (see `watch`).
    ChannelStatus(ChannelStatus),
    /// The answer to `ping`.
    Pong(PongPayload),
    /// Something the client sent was rejected; the connection stays usable.
    Error(ErrorPayload),
}

impl ServerMessage {
    /// The wire name of this event's `type`.
    pub fn type_name(&self) -> &'static str {
        match self {
            Self::Initial(_) => "initial",
            Self::SubscribeConfirmation(_) => "subscribe_confirmation",
            Self::UnsubscribeConfirmation(_) => "unsubscribe_confirmation",
            Self::WisdomDistribution(_) => "wisdom_distribution",
            Self::Message(_) => "message",
            Self::ChannelStatus(_) => "channel_status",
            Self::Pong(_) => "pong",
            Self::Error(_) => "error",
        }
    }

    /// Encodes the event as a JSON text frame.
    pub fn to_json(&self) -> String {
        serde_json::to_string(self).expect("server messages always serialize")
    }

    /// A `subscribe_confirmation` with status ok; `channel` is echoed only when the request
    /// named one, so the original protocol sees exactly `{"status":"ok"}`.
    pub fn subscribed(channel: Option<String>) -> Self {
        Self::SubscribeConfirmation(ConfirmationPayload {
            status: Status::Ok,
            channel,
        })
    }

    /// An `unsubscribe_confirmation` with status ok.
    pub fn unsubscribed(channel: Option<String>) -> Self {
        Self::UnsubscribeConfirmation(ConfirmationPayload {
            status: Status::Ok,
            channel,
        })
    }

    /// An `error` frame.
    pub fn error(code: ErrorCode, message: impl Into<String>) -> Self {
        Self::Error(ErrorPayload {
            code,
            message: message.into(),
            request: None,
            channel: None,
        })
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
}

/// Payload of `wisdom_distribution`.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct WisdomPayload {
    /// The quote.
    pub message: String,
}

/// Payload of `message`: one publication on a channel.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct ChannelMessage {
    /// The channel it was published to.
    pub channel: String,
    /// Per-channel sequence number, increasing by one per publication (cluster-wide); 0 for a
    /// message a backend published straight into Redis without one ("not numbered").
    pub seq: u64,
    /// When the hub accepted it, in milliseconds since the Unix epoch.
    pub time: u64,
    /// The published JSON value, unchanged.
    pub data: Value,
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
}

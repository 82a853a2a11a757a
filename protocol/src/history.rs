//! Channel history: positions in a channel's stream, and the `history` request's answer.
//!
//! Every channel with history has an `epoch`, a short random string made when its stream
//! starts; `{epoch, seq}` identifies one message. A different epoch means the stream was
//! lost (a restart, an eviction, expiry) and recovery across it is impossible.

use crate::Ref;
use serde::{Deserialize, Serialize};
use serde_json::value::RawValue;

/// A place in a channel's stream: the message `seq` of stream `epoch` (`seq` 0 is the start).
#[derive(Debug, Clone, PartialEq, Eq, Hash, Serialize, Deserialize)]
pub struct StreamPosition {
    /// The stream's identity; a new epoch restarts the stream.
    pub epoch: String,
    /// The last message's sequence number at this place.
    pub seq: u64,
}

/// Payload of `history`: what a channel kept, after `since` or the latest `limit`.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct HistoryPayload {
    /// The id the hub assigned in `initial`.
    pub id: String,
    /// The channel whose history to read.
    pub channel: String,
    /// At most this many messages; the channel's whole history when absent.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub limit: Option<u32>,
    /// Only messages after this position (oldest first); the latest ones when absent or when
    /// its epoch is not the stream's.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub since: Option<StreamPosition>,
    /// Echoed in the `history_result` and in any `error` for this request.
    #[serde(rename = "ref", default, skip_serializing_if = "Option::is_none")]
    pub reference: Option<Ref>,
}

/// Payload of `history_result`.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct HistoryResult {
    /// The channel.
    pub channel: String,
    /// The stream's current epoch.
    pub epoch: String,
    /// The stream's current (last) sequence number.
    pub seq: u64,
    /// The messages, oldest first.
    pub messages: Vec<HistoryMessage>,
    /// The request's `ref`, when it carried one.
    #[serde(rename = "ref", default, skip_serializing_if = "Option::is_none")]
    pub reference: Option<Ref>,
}

/// One message of a `history_result`.
#[derive(Debug, Clone, Serialize, Deserialize)]
pub struct HistoryMessage {
    /// Its sequence number.
    pub seq: u64,
    /// When the hub accepted it, in milliseconds since the Unix epoch.
    pub time: u64,
    /// The published JSON value, exactly as the publisher wrote it.
    pub data: Box<RawValue>,
}

// `RawValue` has no `PartialEq`: two messages are equal when their data texts are.
impl PartialEq for HistoryMessage {
    fn eq(&self, other: &Self) -> bool {
        (self.seq, self.time, self.data.get()) == (other.seq, other.time, other.data.get())
    }
}

/// A `history_result` that borrows its messages: what the hub encodes without copying data.
#[derive(Debug, Clone, Copy, Serialize)]
pub struct HistoryResultRef<'a, M: Serialize> {
    /// The channel.
    pub channel: &'a str,
    /// The stream's current epoch.
    pub epoch: &'a str,
    /// The stream's current sequence number.
    pub seq: u64,
    /// The messages, oldest first.
    pub messages: &'a [M],
    /// The request's `ref`.
    #[serde(rename = "ref", skip_serializing_if = "Option::is_none")]
    pub reference: Option<&'a Ref>,
}

/// One borrowed message of a [`HistoryResultRef`].
#[derive(Debug, Clone, Copy, Serialize)]
pub struct HistoryMessageRef<'a> {
    /// Its sequence number.
    pub seq: u64,
    /// When the hub accepted it.
    pub time: u64,
    /// The published JSON value.
    pub data: &'a RawValue,
}

impl<M: Serialize> HistoryResultRef<'_, M> {
    /// The whole `history_result` frame.
    pub fn to_json(&self) -> String {
        crate::server::encode("history_result", self)
    }

    /// The `history_result` payload alone (the HTTP API's body).
    pub fn to_payload_json(&self) -> String {
        serde_json::to_string(self).expect("history results always encode")
    }
}

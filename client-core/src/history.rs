//! Channel history and presence as the application sees them: stream positions, the answers
//! of [`crate::ClientSession::history`] and [`crate::ClientSession::presence`], and the
//! members of `join`/`leave` events.
//!
//! Every message of a channel with history has a place in the channel's stream,
//! `{epoch, seq}` ([`StreamPosition`]): `seq` grows by one per message within an epoch, and a
//! new epoch (the server restarted, or the history was evicted or expired) means what came
//! before it can no longer be recovered.

use crate::event::Message;
use serde_json::Value;

pub use howl_protocol::StreamPosition;

/// What [`crate::ClientSession::history`] asks for; the default is the channel's whole
/// history.
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct HistoryOptions {
    /// At most this many messages: the latest ones, or with `since` the first ones after it.
    pub limit: Option<u32>,
    /// Only the messages after this position (when its epoch is still the stream's; the
    /// latest ones otherwise: compare [`History::position`]'s epoch).
    pub since: Option<StreamPosition>,
}

/// A channel's history ([`crate::Event::HistoryDone`]).
#[derive(Debug, Clone, PartialEq)]
pub struct History {
    /// The stream's current position: its epoch and its last `seq`.
    pub position: StreamPosition,
    /// The messages, oldest first.
    pub messages: Vec<Message>,
}

/// Who is subscribed to a channel ([`crate::Event::PresenceDone`]).
#[derive(Debug, Clone, PartialEq)]
pub struct Presence {
    /// How many connections are subscribed.
    pub count: u64,
    /// Who they are; `None` when there are more than the namespace lists
    /// (`presence-max-members`).
    pub members: Option<Vec<Member>>,
}

/// One connection subscribed to a channel with presence.
#[derive(Debug, Clone, PartialEq)]
pub struct Member {
    /// The connection's id (what [`crate::ClientSession::id`] is on that client).
    pub client: String,
    /// The user of its connection token (`sub`); `None` in open mode.
    pub user: Option<String>,
    /// Its connection token's `info` claim.
    pub info: Option<Value>,
}

impl From<howl_protocol::Member> for Member {
    fn from(m: howl_protocol::Member) -> Self {
        Self {
            client: m.client,
            user: m.user,
            info: m.info.map(|raw| parse(&raw)),
        }
    }
}

/// The value of JSON text that came in a valid frame (so it parses).
pub(crate) fn parse(raw: &serde_json::value::RawValue) -> Value {
    serde_json::from_str(raw.get()).unwrap_or(Value::Null)
}

//! Presence: who is subscribed to a channel, and the `join`/`leave` events.

use crate::Ref;
use serde::{Deserialize, Serialize};
use serde_json::value::RawValue;

/// One connection subscribed to a channel with presence.
#[derive(Debug, Clone, Serialize, Deserialize)]
pub struct Member {
    /// The connection's id (from `initial`).
    pub client: String,
    /// The connection token's user (`sub`); absent in open mode.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub user: Option<String>,
    /// The connection token's `info` claim, as the token gave it.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub info: Option<Box<RawValue>>,
}

// `RawValue` has no `PartialEq`: two members are equal when their info texts are.
impl PartialEq for Member {
    fn eq(&self, other: &Self) -> bool {
        self.client == other.client
            && self.user == other.user
            && self.info.as_ref().map(|i| i.get()) == other.info.as_ref().map(|i| i.get())
    }
}

/// Payload of `presence_result`.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct PresenceResult {
    /// The channel.
    pub channel: String,
    /// How many connections are present.
    pub count: u64,
    /// Who they are; absent when there are more than the namespace's
    /// `presence-max-members`.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub members: Option<Vec<Member>>,
    /// The request's `ref`, when it carried one.
    #[serde(rename = "ref", default, skip_serializing_if = "Option::is_none")]
    pub reference: Option<Ref>,
}

/// Payload of `join` and `leave`.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct PresenceEvent {
    /// The channel joined or left.
    pub channel: String,
    /// Who joined or left.
    pub member: Member,
}

//! What each channel keeps beyond its subscribers: history and presence, set per namespace
//! by the `[[namespaces]]` tables' `history-size`, `history-ttl`, `presence`, `join-leave`
//! and `presence-max-members` keys.

use crate::permissions::{namespace_of, Namespace};
use std::collections::HashMap;
use std::time::Duration;

/// Messages a channel keeps when its namespace does not say: enough for the SDK's
/// reconnect to be lossless out of the box.
pub const DEFAULT_HISTORY_SIZE: usize = 100;
/// How long a channel's history is kept after its last publish when its namespace does not
/// say.
pub const DEFAULT_HISTORY_TTL: Duration = Duration::from_secs(300);
/// Members a presence answer lists at most when the namespace does not say.
pub const DEFAULT_PRESENCE_MAX_MEMBERS: usize = 1_000;

/// How much of a channel's stream is kept, and for how long.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct HistoryPolicy {
    /// Messages kept (0: none).
    pub size: usize,
    /// How long the stream (its history and its numbering) outlives the last publish once
    /// the channel has no subscribers.
    pub ttl: Duration,
}

/// The options of one channel, from its namespace.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct ChannelOptions {
    /// Its history.
    pub history: HistoryPolicy,
    /// Whether it keeps presence.
    pub presence: bool,
    /// Whether subscribers hear `join` and `leave`.
    pub join_leave: bool,
    /// Members listed in a presence answer at most.
    pub presence_max_members: usize,
}

impl Default for ChannelOptions {
    fn default() -> Self {
        Self {
            history: HistoryPolicy {
                size: DEFAULT_HISTORY_SIZE,
                ttl: DEFAULT_HISTORY_TTL,
            },
            presence: false,
            join_leave: false,
            presence_max_members: DEFAULT_PRESENCE_MAX_MEMBERS,
        }
    }
}

impl ChannelOptions {
    fn from_namespace(ns: &Namespace) -> Self {
        let default = Self::default();
        let presence = ns.presence.unwrap_or(false);
        Self {
            history: HistoryPolicy {
                size: ns.history_size.unwrap_or(default.history.size),
                ttl: ns
                    .history_ttl
                    .map_or(default.history.ttl, Duration::from_secs),
            },
            presence,
            join_leave: presence && ns.join_leave.unwrap_or(false),
            presence_max_members: ns
                .presence_max_members
                .unwrap_or(default.presence_max_members),
        }
    }
}

/// The options of every namespace.
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct ChannelOptionsTable {
    namespaces: HashMap<String, ChannelOptions>,
}

impl ChannelOptionsTable {
    /// The table for the config file's `namespaces`.
    pub fn new(namespaces: &[Namespace]) -> Self {
        let namespaces = namespaces
            .iter()
            .map(|ns| (ns.name.clone(), ChannelOptions::from_namespace(ns)))
            .collect();
        Self { namespaces }
    }

    /// The options of `channel`: its namespace's, or the defaults.
    pub fn get(&self, channel: &str) -> ChannelOptions {
        self.namespaces
            .get(namespace_of(channel))
            .copied()
            .unwrap_or_default()
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn namespaces_override_the_defaults_key_by_key() {
        let table = ChannelOptionsTable::new(&[
            Namespace {
                name: "chat".into(),
                history_size: Some(10),
                presence: Some(true),
                join_leave: Some(true),
                ..Namespace::default()
            },
            Namespace {
                name: "quiet".into(),
                join_leave: Some(true),
                history_ttl: Some(5),
                ..Namespace::default()
            },
        ]);
        assert_eq!(table.get("news"), ChannelOptions::default());
        let chat = table.get("chat:room");
        assert_eq!(chat.history.size, 10);
        assert_eq!(chat.history.ttl, DEFAULT_HISTORY_TTL);
        assert!(chat.presence && chat.join_leave);
        let quiet = table.get("quiet:x");
        assert_eq!(quiet.history.ttl, Duration::from_secs(5));
        assert!(!quiet.join_leave, "join-leave needs presence");
    }
}

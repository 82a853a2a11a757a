//! This node's view of the other nodes' subscriber counts: learned from their notices on the
//! control channel and from periodic snapshots of every node's hash, ordered by each node's
//! version so an old snapshot never undoes a newer notice.

use serde::{Deserialize, Serialize};
use std::collections::{HashMap, HashSet};

#[derive(Debug, Serialize, Deserialize)]
pub(super) struct Control {
    pub(super) node: String,
    pub(super) version: u64,
    pub(super) channel: String,
    pub(super) count: usize,
}

/// One node's counts as last learned.
#[derive(Debug, Default)]
pub(super) struct NodeCounts {
    pub(super) version: u64,
    pub(super) channels: HashMap<String, usize>,
}

/// What this node knows of the other nodes' counts.
#[derive(Debug, Default)]
pub(super) struct RemoteCounts {
    nodes: HashMap<String, NodeCounts>,
}

impl RemoteCounts {
    /// Whether another node has subscribers on `channel`.
    pub(super) fn occupied(&self, channel: &str) -> bool {
        self.nodes
            .values()
            .any(|n| n.channels.get(channel).is_some_and(|c| *c > 0))
    }

    /// Adds every other node's counts to `totals`.
    pub(super) fn add_counts(&self, totals: &mut HashMap<String, usize>) {
        for node in self.nodes.values() {
            for (channel, count) in &node.channels {
                *totals.entry(channel.clone()).or_default() += count;
            }
        }
    }

    /// Applies one change; returns whether it is news.
    pub(super) fn apply_change(&mut self, change: &Control) -> bool {
        let node = self.nodes.entry(change.node.clone()).or_default();
        if change.version <= node.version {
            return false;
        }
        node.version = change.version;
        if change.count == 0 {
            node.channels.remove(&change.channel);
        } else {
            node.channels.insert(change.channel.clone(), change.count);
        }
        true
    }

    /// Takes in a snapshot of every live node; `forget_missing` drops nodes absent from it.
    /// Returns the channels whose occupancy may have changed.
    pub(super) fn apply_snapshot(
        &mut self,
        snapshot: HashMap<String, NodeCounts>,
        forget_missing: bool,
    ) -> HashSet<String> {
        let mut touched = HashSet::new();
        let mut diff = |old: &HashMap<String, usize>, new: &HashMap<String, usize>| {
            for channel in old.keys().chain(new.keys()) {
                if old.contains_key(channel) != new.contains_key(channel) {
                    touched.insert(channel.clone());
                }
            }
        };
        if forget_missing {
            self.nodes.retain(|id, node| {
                let keep = snapshot.contains_key(id);
                if !keep {
                    diff(&node.channels, &HashMap::new());
                }
                keep
            });
        }
        for (id, fresh) in snapshot {
            match self.nodes.get_mut(&id) {
                Some(known) if known.version > fresh.version => {}
                Some(known) => {
                    diff(&known.channels, &fresh.channels);
                    *known = fresh;
                }
                None => {
                    diff(&HashMap::new(), &fresh.channels);
                    self.nodes.insert(id, fresh);
                }
            }
        }
        touched
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn change(node: &str, version: u64, channel: &str, count: usize) -> Control {
        Control {
            node: node.into(),
            version,
            channel: channel.into(),
            count,
        }
    }

    fn node(version: u64, channels: &[(&str, usize)]) -> NodeCounts {
        NodeCounts {
            version,
            channels: channels.iter().map(|(c, n)| ((*c).into(), *n)).collect(),
        }
    }

    #[test]
    fn changes_apply_in_version_order_only() {
        let mut remote = RemoteCounts::default();
        assert!(remote.apply_change(&change("b", 5, "news", 2)));
        assert!(remote.occupied("news"));
        assert!(!remote.apply_change(&change("b", 4, "news", 0)), "stale");
        assert!(remote.occupied("news"));
        assert!(remote.apply_change(&change("b", 6, "news", 0)));
        assert!(!remote.occupied("news"));
    }

    #[test]
    fn snapshots_replace_older_knowledge_and_forget_dead_nodes() {
        let mut remote = RemoteCounts::default();
        remote.apply_change(&change("b", 10, "news", 1));
        // An older snapshot of b must not undo the newer change.
        let stale = HashMap::from([("b".to_owned(), node(9, &[]))]);
        assert!(remote.apply_snapshot(stale, false).is_empty());
        assert!(remote.occupied("news"));
        let fresh = HashMap::from([
            ("b".to_owned(), node(11, &[("news", 1)])),
            ("c".to_owned(), node(3, &[("chat", 2)])),
        ]);
        assert_eq!(
            remote.apply_snapshot(fresh, false),
            HashSet::from(["chat".to_owned()])
        );
        // c died: its hash expired, so it is missing from the next snapshot.
        let without_c = HashMap::from([("b".to_owned(), node(11, &[("news", 1)]))]);
        assert!(remote.apply_snapshot(without_c, false).is_empty());
        assert!(
            remote.occupied("chat"),
            "kept until the cluster has settled"
        );
        let without_c = HashMap::from([("b".to_owned(), node(11, &[("news", 1)]))]);
        assert_eq!(
            remote.apply_snapshot(without_c, true),
            HashSet::from(["chat".to_owned()])
        );
        assert!(!remote.occupied("chat"));
    }
}

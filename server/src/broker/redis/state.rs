//! What this node remembers of each channel's stream between Redis round trips: the highest
//! sequence number Redis gave it (the floor a fresh epoch continues from, so live subscribers
//! never see numbers go back after Redis lost a channel's keys) and when it may be forgotten.
//!
//! Numbers Redis returned (publish results, history positions) are recorded as they are. A
//! `seq` delivered from a node's envelope is recorded only when it is at most
//! [`MAX_JUMP`] above the floor: a node receives a channel's messages one by one after
//! reading its position, so real numbers never jump far, while a forged one (a backend
//! publishing an envelope with a huge `seq`) cannot poison the counter. A backend's
//! envelope without a node id is never recorded (it is delivered with `seq` 0).
//! Entries of channels without local subscribers are pruned once their `history-ttl` has
//! passed since they were last used, which bounds the map by the channels used recently.

use crate::hub::Hub;
use parking_lot::Mutex;
use std::collections::HashMap;
use std::hash::{BuildHasher, RandomState};
use std::sync::atomic::{AtomicUsize, Ordering::Relaxed};

const SHARDS: usize = 64;

/// How far above the floor a delivered `seq` may be and still be recorded.
pub(super) const MAX_JUMP: u64 = 1 << 20;

struct Entry {
    floor: u64,
    /// When it was last used, and how long it is kept after that (ms).
    touched_ms: u64,
    ttl_ms: u64,
}

/// The per-channel memory of one node.
pub(super) struct ChannelStates {
    shards: Box<[Mutex<HashMap<String, Entry>>]>,
    hasher: RandomState,
    len: AtomicUsize,
}

impl Default for ChannelStates {
    fn default() -> Self {
        Self {
            shards: (0..SHARDS).map(|_| Mutex::default()).collect(),
            hasher: RandomState::new(),
            len: AtomicUsize::new(0),
        }
    }
}

impl ChannelStates {
    fn shard(&self, channel: &str) -> &Mutex<HashMap<String, Entry>> {
        &self.shards[self.hasher.hash_one(channel) as usize % SHARDS]
    }

    /// The highest number Redis gave on `channel` as far as this node knows (0: none).
    pub(super) fn floor(&self, channel: &str) -> u64 {
        self.shard(channel)
            .lock()
            .get(channel)
            .map_or(0, |e| e.floor)
    }

    /// Records that Redis reported `seq` on `channel`, kept `ttl_ms` from `now_ms`.
    pub(super) fn observe(&self, channel: &str, seq: u64, ttl_ms: u64, now_ms: u64) {
        let mut shard = self.shard(channel).lock();
        self.record(&mut shard, channel, seq, Some(ttl_ms), now_ms);
    }

    /// Records a `seq` delivered from a node's envelope, unless it jumps more than
    /// [`MAX_JUMP`] above the floor; returns whether it was recorded.
    pub(super) fn observe_delivered(&self, channel: &str, seq: u64, now_ms: u64) -> bool {
        let mut shard = self.shard(channel).lock();
        let floor = shard.get(channel).map_or(0, |e| e.floor);
        if seq > floor.saturating_add(MAX_JUMP) {
            return false;
        }
        self.record(&mut shard, channel, seq, None, now_ms);
        true
    }

    /// Raises `channel`'s floor to `seq` and marks it used; `ttl_ms` replaces its TTL when
    /// known (a new entry without one gets the default `history-ttl`).
    fn record(
        &self,
        shard: &mut HashMap<String, Entry>,
        channel: &str,
        seq: u64,
        ttl_ms: Option<u64>,
        now_ms: u64,
    ) {
        match shard.get_mut(channel) {
            Some(entry) => {
                entry.floor = entry.floor.max(seq);
                entry.touched_ms = now_ms;
                if let Some(ttl_ms) = ttl_ms {
                    entry.ttl_ms = ttl_ms;
                }
            }
            None => {
                let default = crate::channel_options::DEFAULT_HISTORY_TTL.as_millis() as u64;
                let entry = Entry {
                    floor: seq,
                    touched_ms: now_ms,
                    ttl_ms: ttl_ms.unwrap_or(default),
                };
                shard.insert(channel.to_owned(), entry);
                self.len.fetch_add(1, Relaxed);
            }
        }
    }

    /// Forgets the channels past their TTL that have no local subscriber; returns how many.
    pub(super) fn prune(&self, now_ms: u64, hub: &Hub) -> usize {
        let mut removed = 0;
        for shard in self.shards.iter() {
            shard.lock().retain(|channel, entry| {
                let keep = now_ms.saturating_sub(entry.touched_ms) < entry.ttl_ms
                    || hub.local_count(channel) > 0;
                removed += usize::from(!keep);
                keep
            });
        }
        self.len.fetch_sub(removed, Relaxed);
        removed
    }

    /// The channels with local subscribers whose keys in Redis were last renewed more than
    /// half their `history-ttl` ago (a publish renews them); each is marked renewed now.
    /// Their keys must be kept alive by the caller: a channel whose keys expired while it
    /// had subscribers would start a new epoch under their feet.
    pub(super) fn due_for_renewal(&self, now_ms: u64, hub: &Hub) -> Vec<(String, u64)> {
        let mut due = Vec::new();
        for shard in self.shards.iter() {
            for (channel, entry) in shard.lock().iter_mut() {
                let idle = now_ms.saturating_sub(entry.touched_ms);
                if idle >= entry.ttl_ms / 2 && hub.local_count(channel) > 0 {
                    entry.touched_ms = now_ms;
                    due.push((channel.clone(), entry.ttl_ms));
                }
            }
        }
        due
    }

    /// How many channels it remembers.
    pub(super) fn len(&self) -> usize {
        self.len.load(Relaxed)
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use std::sync::Arc;

    #[test]
    fn floors_only_grow_and_idle_channels_are_pruned() {
        let hub = Hub::new(Arc::default());
        let states = ChannelStates::default();
        states.observe("a", 5, 100, 0);
        states.observe("a", 3, 100, 10);
        states.observe("b", 1, 1_000, 0);
        assert_eq!((states.floor("a"), states.len()), (5, 2));
        assert_eq!(states.prune(109, &hub), 0);
        assert_eq!(states.prune(110, &hub), 1);
        assert_eq!(
            (states.floor("a"), states.floor("b"), states.len()),
            (0, 1, 1)
        );
    }

    #[test]
    fn delivered_seqs_far_above_the_floor_are_not_recorded() {
        let states = ChannelStates::default();
        assert!(states.observe_delivered("a", 7, 0));
        assert!(!states.observe_delivered("a", u64::MAX, 0));
        assert!(states.observe_delivered("a", 7 + MAX_JUMP, 0));
        assert_eq!(states.floor("a"), 7 + MAX_JUMP);
    }
}

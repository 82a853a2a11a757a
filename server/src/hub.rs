//! This node's channels: which local connections subscribe to or watch each one, and the
//! fan-out of a publication to them.
//!
//! Channels are spread over shards, each behind its own lock, so subscribing on one channel
//! does not wait for a fan-out on another; no lock is ever held across an `.await`.

use crate::metrics::Metrics;
use crate::outbox::{Frame, Outbox, Push};
use crate::publication::Publication;
use howl_protocol::{ChannelStatus, ServerMessage};
use indexmap::IndexMap;
use parking_lot::RwLock;
use std::collections::HashMap;
use std::hash::{BuildHasher, RandomState};
use std::sync::atomic::Ordering::Relaxed;
use std::sync::Arc;

/// A node-local connection number; unique within one server process.
pub type ConnId = u64;

const SHARDS: usize = 64;

/// How a connection asked for a channel, which decides the frame it receives.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Form {
    /// By name: `message` frames with channel, seq, time and data.
    Named,
    /// The original protocol's channel-less subscribe: `wisdom_distribution` frames.
    Wisdom,
}

#[derive(Clone)]
struct Subscriber {
    outbox: Arc<Outbox>,
    form: Form,
}

#[derive(Default)]
struct Channel {
    subscribers: IndexMap<ConnId, Subscriber>,
    watchers: IndexMap<ConnId, Arc<Outbox>>,
    /// The occupancy last announced to watchers.
    announced: Option<bool>,
}

impl Channel {
    fn is_unused(&self) -> bool {
        self.subscribers.is_empty() && self.watchers.is_empty()
    }
}

/// A change in a channel's local subscriber count.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct CountChange {
    /// The count before the change.
    pub before: usize,
    /// The count after it.
    pub after: usize,
}

/// The encoded `channel_status` frame.
pub fn channel_status_frame(channel: &str, occupied: bool) -> Frame {
    let status = ChannelStatus {
        channel: channel.to_owned(),
        occupied,
    };
    Frame::from(ServerMessage::ChannelStatus(status).to_json())
}

/// The local channel table.
pub struct Hub {
    /// The node's connections by user, for the server API's user commands.
    pub users: crate::users::Users,
    shards: Box<[RwLock<HashMap<String, Channel>>]>,
    hasher: RandomState,
    metrics: Arc<Metrics>,
}

impl Hub {
    /// An empty table reporting into `metrics`.
    pub fn new(metrics: Arc<Metrics>) -> Self {
        let shards = (0..SHARDS).map(|_| RwLock::default()).collect();
        Self {
            users: crate::users::Users::new(metrics.clone()),
            shards,
            hasher: RandomState::new(),
            metrics,
        }
    }

    fn shard(&self, channel: &str) -> &RwLock<HashMap<String, Channel>> {
        &self.shards[self.hasher.hash_one(channel) as usize % SHARDS]
    }

    /// Adds (or re-forms) a subscription. Returns the count change.
    pub fn subscribe(
        &self,
        channel: &str,
        conn: ConnId,
        outbox: Arc<Outbox>,
        form: Form,
    ) -> CountChange {
        let mut shard = self.shard(channel).write();
        let entry = shard.entry(channel.to_owned()).or_default();
        let before = entry.subscribers.len();
        if entry
            .subscribers
            .insert(conn, Subscriber { outbox, form })
            .is_none()
        {
            self.metrics.subscriptions.fetch_add(1, Relaxed);
        }
        CountChange {
            before,
            after: entry.subscribers.len(),
        }
    }

    /// Removes a subscription; `None` when there was none.
    pub fn unsubscribe(&self, channel: &str, conn: ConnId) -> Option<CountChange> {
        let mut shard = self.shard(channel).write();
        let entry = shard.get_mut(channel)?;
        let before = entry.subscribers.len();
        entry.subscribers.swap_remove(&conn)?;
        self.metrics.subscriptions.fetch_sub(1, Relaxed);
        let after = entry.subscribers.len();
        if entry.is_unused() {
            shard.remove(channel);
        }
        Some(CountChange { before, after })
    }

    /// Queues `publication` to every local subscriber of its channel except the excluded one.
    /// Each frame form is encoded at most once and shared. Returns how many were reached.
    pub fn deliver(&self, publication: &Publication) -> usize {
        let shard = self.shard(&publication.channel).read();
        let Some(channel) = shard.get(&publication.channel) else {
            return 0;
        };
        let (mut named, mut legacy): (Option<Frame>, Option<Frame>) = (None, None);
        let (mut reached, mut dropped) = (0, 0);
        for (conn, subscriber) in &channel.subscribers {
            if publication.exclude == Some(*conn) {
                continue;
            }
            let frame = match subscriber.form {
                Form::Named => named.get_or_insert_with(|| publication.message_frame()),
                Form::Wisdom => legacy.get_or_insert_with(|| publication.wisdom_frame()),
            };
            match subscriber.outbox.push(frame.clone()) {
                Push::Queued => reached += 1,
                Push::Overflow(frames) => dropped += frames,
                Push::Closed => dropped += 1,
            }
        }
        drop(shard);
        self.metrics.deliveries.fetch_add(reached as u64, Relaxed);
        if dropped > 0 {
            self.metrics
                .frames_dropped
                .fetch_add(dropped as u64, Relaxed);
        }
        reached
    }

    /// Registers `conn` for `channel_status` notices on `channel` and sends it the current
    /// status, which `occupied` computes from the local subscriber count (see [`announce`]).
    /// Done under the channel's lock, so no change can slip between the status and the
    /// registration; if the status differs from what the other watchers were last told,
    /// they hear it too.
    ///
    /// [`announce`]: Hub::announce
    pub fn watch(
        &self,
        channel: &str,
        conn: ConnId,
        outbox: Arc<Outbox>,
        occupied: impl FnOnce(usize) -> bool,
    ) {
        let mut shard = self.shard(channel).write();
        let entry = shard.entry(channel.to_owned()).or_default();
        let occupied = occupied(entry.subscribers.len());
        let frame = channel_status_frame(channel, occupied);
        if entry.announced != Some(occupied) {
            entry.announced = Some(occupied);
            for watcher in entry.watchers.values() {
                watcher.push(frame.clone());
            }
        }
        outbox.push(frame);
        entry.watchers.insert(conn, outbox);
    }

    /// Ends `conn`'s notices on `channel`.
    pub fn unwatch(&self, channel: &str, conn: ConnId) {
        let mut shard = self.shard(channel).write();
        if let Some(entry) = shard.get_mut(channel) {
            entry.watchers.swap_remove(&conn);
            if entry.is_unused() {
                shard.remove(channel);
            }
        }
    }

    /// Tells the channel's watchers whether it is occupied, unless that is what they were
    /// last told. `occupied` gets the local subscriber count and answers for the whole
    /// cluster; it runs under the channel's lock, so the answer cannot go stale between
    /// computing and announcing it, and late or repeated calls are harmless.
    pub fn announce(&self, channel: &str, occupied: impl FnOnce(usize) -> bool) {
        let mut shard = self.shard(channel).write();
        let Some(entry) = shard.get_mut(channel) else {
            return;
        };
        let occupied = occupied(entry.subscribers.len());
        if entry.announced == Some(occupied) {
            return;
        }
        entry.announced = Some(occupied);
        if entry.watchers.is_empty() {
            return;
        }
        let frame = channel_status_frame(channel, occupied);
        for outbox in entry.watchers.values() {
            outbox.push(frame.clone());
        }
    }

    /// How many local connections subscribe to `channel`.
    pub fn local_count(&self, channel: &str) -> usize {
        self.shard(channel)
            .read()
            .get(channel)
            .map_or(0, |c| c.subscribers.len())
    }

    /// Every channel with local subscribers, with its count.
    pub fn local_counts(&self) -> Vec<(String, usize)> {
        let mut counts = Vec::new();
        for shard in self.shards.iter() {
            let shard = shard.read();
            counts.extend(
                shard
                    .iter()
                    .filter(|(_, c)| !c.subscribers.is_empty())
                    .map(|(name, c)| (name.clone(), c.subscribers.len())),
            );
        }
        counts.sort();
        counts
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use serde_json::value::to_raw_value;

    fn hub() -> Hub {
        Hub::new(Arc::default())
    }

    fn publication(channel: &str, exclude: Option<ConnId>) -> Publication {
        Publication {
            channel: channel.into(),
            seq: 1,
            time: 0,
            data: to_raw_value("hi").unwrap(),
            exclude,
        }
    }

    fn texts(outbox: &Outbox) -> Vec<String> {
        outbox
            .drain()
            .0
            .iter()
            .map(|f| f.as_str().to_owned())
            .collect()
    }

    #[test]
    fn fan_out_shares_one_encoding_per_form() {
        let reg = hub();
        let outboxes: Vec<_> = (0..3).map(|_| Arc::new(Outbox::new(8, 1 << 20))).collect();
        reg.subscribe("news", 0, outboxes[0].clone(), Form::Named);
        reg.subscribe("news", 1, outboxes[1].clone(), Form::Named);
        reg.subscribe("news", 2, outboxes[2].clone(), Form::Wisdom);
        assert_eq!(reg.deliver(&publication("news", Some(1))), 2);
        assert_eq!(texts(&outboxes[0]).len(), 1);
        assert!(texts(&outboxes[1]).is_empty());
        assert_eq!(
            texts(&outboxes[2]),
            [r#"{"type":"wisdom_distribution","payload":{"message":"hi"}}"#]
        );
    }

    #[test]
    fn channels_are_isolated_and_removed_when_unused() {
        let reg = hub();
        let outbox = Arc::new(Outbox::new(8, 1 << 20));
        assert_eq!(
            reg.subscribe("a", 0, outbox.clone(), Form::Named),
            CountChange {
                before: 0,
                after: 1
            }
        );
        assert_eq!(reg.deliver(&publication("b", None)), 0);
        assert_eq!(
            reg.unsubscribe("a", 0),
            Some(CountChange {
                before: 1,
                after: 0
            })
        );
        assert_eq!(reg.unsubscribe("a", 0), None);
        assert!(reg.local_counts().is_empty());
    }

    #[test]
    fn watchers_hear_each_change_once() {
        let reg = hub();
        let watcher = Arc::new(Outbox::new(8, 1 << 20));
        reg.watch("a", 9, watcher.clone(), |local| local > 0);
        reg.announce("a", |_| false);
        reg.announce("a", |_| false);
        reg.announce("a", |local| local == 0);
        assert_eq!(
            texts(&watcher),
            [
                r#"{"type":"channel_status","payload":{"channel":"a","occupied":false}}"#,
                r#"{"type":"channel_status","payload":{"channel":"a","occupied":true}}"#,
            ]
        );
    }

    #[test]
    fn a_new_watcher_gets_the_status_and_a_changed_status_reaches_everyone() {
        let reg = hub();
        let (first, second) = (
            Arc::new(Outbox::new(8, 1 << 20)),
            Arc::new(Outbox::new(8, 1 << 20)),
        );
        reg.watch("a", 1, first.clone(), |_| false);
        // The cluster became occupied without a local change: the next watcher computes it,
        // and the earlier watcher must not keep the stale answer.
        reg.watch("a", 2, second.clone(), |_| true);
        let status = |occupied| {
            format!(
                r#"{{"type":"channel_status","payload":{{"channel":"a","occupied":{occupied}}}}}"#
            )
        };
        assert_eq!(texts(&first), [status(false), status(true)]);
        assert_eq!(texts(&second), [status(true)]);
        reg.watch("a", 3, Arc::new(Outbox::new(8, 1 << 20)), |_| true);
        assert!(
            texts(&first).is_empty(),
            "an unchanged status is not repeated"
        );
    }
}

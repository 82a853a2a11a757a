//! This node's channels: which local connections subscribe to or watch each one, and the
//! fan-out of a publication to them.
//!
//! Channels are spread over shards, each behind its own lock, so subscribing on one channel
//! does not wait for a fan-out on another; no lock is ever held across an `.await`.

use crate::metrics::Metrics;
use crate::outbox::{Frame, Outbox, Push};
use crate::publication::Publication;
use howl_protocol::{ChannelStatus, Member, ServerMessage};
use indexmap::IndexMap;
use parking_lot::{Mutex, RwLock};
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

/// How a new subscription starts.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Start {
    /// Publications reach it at once.
    Live,
    /// Publications are held until [`Hub::activate`], which sends what must come first
    /// (the confirmation, recovered history) and then the held ones not already covered.
    Held,
}

/// Publications delivered to a held subscription, with their `seq`.
#[derive(Default)]
struct Held {
    frames: Vec<(u64, Frame)>,
    overflowed: bool,
}

struct Subscriber {
    outbox: Arc<Outbox>,
    form: Form,
    /// Boxed: a subscription is held only while it starts, and this entry is kept per
    /// subscriber for the subscription's life (it would otherwise be 32 B larger).
    held: Option<Box<Mutex<Held>>>,
    member: Option<Arc<Member>>,
}

/// What [`Hub::activate`] found.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Activation {
    /// The subscription is live.
    Live,
    /// It was removed meanwhile: nothing was sent.
    Gone,
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

/// How many corked outboxes a flush writes before it lets other tasks run.
const FLUSHES_PER_TURN: usize = 256;

/// Writes each outbox a fan-out corked, once, in a task of its own that yields every
/// [`FLUSHES_PER_TURN`] writes, so connection tasks (and their clients' pings) are not held
/// up behind a whole fan-out. Outside a runtime (unit tests) it writes them at once.
fn flush_touched(touched: Vec<Arc<Outbox>>) {
    if touched.is_empty() {
        return;
    }
    match tokio::runtime::Handle::try_current() {
        Ok(runtime) => {
            runtime.spawn(async move {
                for (i, outbox) in touched.iter().enumerate() {
                    if i > 0 && i % FLUSHES_PER_TURN == 0 {
                        tokio::task::yield_now().await;
                    }
                    outbox.flush_corked();
                }
            });
        }
        Err(_) => touched.iter().for_each(|o| o.flush_corked()),
    }
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

    /// Adds (or re-forms) a subscription, with its presence `member` when the channel keeps
    /// presence. Returns the count change.
    pub fn subscribe(
        &self,
        channel: &str,
        conn: ConnId,
        outbox: Arc<Outbox>,
        form: Form,
        start: Start,
        member: Option<Arc<Member>>,
    ) -> CountChange {
        let held = (start == Start::Held).then(Box::default);
        let subscriber = Subscriber {
            outbox,
            form,
            held,
            member,
        };
        let mut shard = self.shard(channel).write();
        let entry = shard.entry(channel.to_owned()).or_default();
        let before = entry.subscribers.len();
        if entry.subscribers.insert(conn, subscriber).is_none() {
            self.metrics.subscriptions.fetch_add(1, Relaxed);
        }
        CountChange {
            before,
            after: entry.subscribers.len(),
        }
    }

    /// Makes a held subscription live: queues `first` (e.g. the confirmation and recovered
    /// history), then the publications held meanwhile whose `seq` is above `after` (those at
    /// or below it are already in `first` or before the subscription's start); one without a
    /// number (`seq` 0) always passes. Done under the channel's lock, so nothing published
    /// meanwhile can slip between them.
    pub fn activate(
        &self,
        channel: &str,
        conn: ConnId,
        first: impl IntoIterator<Item = Frame>,
        after: u64,
    ) -> Activation {
        let mut shard = self.shard(channel).write();
        let Some(subscriber) = shard
            .get_mut(channel)
            .and_then(|c| c.subscribers.get_mut(&conn))
        else {
            return Activation::Gone;
        };
        let held = subscriber.held.take().map(|held| held.into_inner());
        let outbox = &subscriber.outbox;
        let mut dropped = 0;
        let mut push = |frame| match outbox.push(frame) {
            Push::Queued => {}
            Push::Overflow(frames) => dropped += frames,
            Push::Closed => dropped += 1,
        };
        first.into_iter().for_each(&mut push);
        if let Some(held) = held {
            let fresh = held.frames.into_iter();
            fresh
                .filter(|(seq, _)| *seq == 0 || *seq > after)
                .for_each(|(_, frame)| push(frame));
            if held.overflowed {
                dropped += outbox.overflow();
            }
        }
        drop(shard);
        self.count_dropped(dropped);
        Activation::Live
    }

    /// Removes a subscription; `None` when there was none. Returns the count change and the
    /// subscription's presence member.
    pub fn unsubscribe(
        &self,
        channel: &str,
        conn: ConnId,
    ) -> Option<(CountChange, Option<Arc<Member>>)> {
        let mut shard = self.shard(channel).write();
        let entry = shard.get_mut(channel)?;
        let before = entry.subscribers.len();
        let removed = entry.subscribers.swap_remove(&conn)?;
        self.metrics.subscriptions.fetch_sub(1, Relaxed);
        let after = entry.subscribers.len();
        if entry.is_unused() {
            shard.remove(channel);
        }
        Some((CountChange { before, after }, removed.member))
    }

    /// The presence members of `channel`'s local subscribers: how many, and the first
    /// `max` of them.
    pub fn members(&self, channel: &str, max: usize) -> (usize, Vec<Member>) {
        let shard = self.shard(channel).read();
        let Some(entry) = shard.get(channel) else {
            return (0, Vec::new());
        };
        let members = entry.subscribers.values().filter_map(|s| s.member.as_ref());
        let count = members.clone().count();
        (count, members.take(max).map(|m| (**m).clone()).collect())
    }

    /// Queues `frame` (a `join` or `leave`) to every local subscriber of `channel` that
    /// subscribed by name.
    pub fn notify(&self, channel: &str, frame: &Frame) {
        let shard = self.shard(channel).read();
        let Some(entry) = shard.get(channel) else {
            return;
        };
        let mut dropped = 0;
        for subscriber in entry.subscribers.values() {
            if subscriber.form != Form::Named {
                continue;
            }
            dropped += Self::push(subscriber, 0, frame);
        }
        drop(shard);
        self.count_dropped(dropped);
    }

    /// Queues (or holds) one frame for a subscriber; returns how many frames were dropped.
    fn push(subscriber: &Subscriber, seq: u64, frame: &Frame) -> usize {
        Self::push_to(subscriber, seq, frame, None)
    }

    /// [`Hub::push`], corked when `touched` is given: the frame is only queued, and the
    /// subscriber's outbox is added to `touched` when it needs a flush after the fan-out.
    fn push_to(
        subscriber: &Subscriber,
        seq: u64,
        frame: &Frame,
        touched: Option<&mut Vec<Arc<Outbox>>>,
    ) -> usize {
        if let Some(held) = &subscriber.held {
            let mut held = held.lock();
            // Held no longer than a broker round trip; past the queue's own limit the
            // subscriber could not have taken them either.
            if held.frames.len() >= subscriber.outbox.capacity() {
                held.overflowed = true;
                return 1;
            }
            held.frames.push((seq, frame.clone()));
            return 0;
        }
        let push = match touched {
            Some(touched) => {
                let (push, flush) = subscriber.outbox.push_corked(frame.clone());
                if flush {
                    touched.push(subscriber.outbox.clone());
                }
                push
            }
            None => subscriber.outbox.push(frame.clone()),
        };
        match push {
            Push::Queued => 0,
            Push::Overflow(frames) => frames,
            Push::Closed => 1,
        }
    }

    fn count_dropped(&self, dropped: usize) {
        if dropped > 0 {
            self.metrics
                .frames_dropped
                .fetch_add(dropped as u64, Relaxed);
        }
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
        let mut touched = Vec::new();
        for (conn, subscriber) in &channel.subscribers {
            if publication.exclude == Some(*conn) {
                continue;
            }
            let frame = match subscriber.form {
                Form::Named => named.get_or_insert_with(|| publication.message_frame()),
                Form::Wisdom => legacy.get_or_insert_with(|| publication.wisdom_frame()),
            };
            match Self::push_to(subscriber, publication.seq, frame, Some(&mut touched)) {
                0 => reached += 1,
                frames => dropped += frames,
            }
        }
        drop(shard);
        flush_touched(touched);
        self.metrics.deliveries.fetch_add(reached as u64, Relaxed);
        self.count_dropped(dropped);
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
mod tests;

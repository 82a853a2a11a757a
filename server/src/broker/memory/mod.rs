//! The embedded in-process broker: the whole cluster is this one node.
//!
//! - [`streams`]: each channel's epoch, numbering and kept history.
//!
//! Streams live in shards, each behind a lock held across numbering, delivery and keeping a
//! message, so two publishers on one channel can never deliver out of sequence order and a
//! history read sees exactly what was delivered before it. A background sweep removes
//! streams idle for their `history-ttl` without subscribers and, past
//! `--history-max-bytes`, drops the history of the least recently published channels.

mod streams;

use super::{
    Broker, BrokerError, BrokerHealth, ChannelCount, History, HistoryQuery, Presence,
    PresenceChange, PublishReceipt, PublishRequest,
};
use crate::channel_options::HistoryPolicy;
use crate::clock::now_millis;
use crate::hub::{CountChange, Hub};
use crate::metrics::Metrics;
use crate::publication::{presence_frame, Publication};
use crate::users::UserCommand;
use futures_util::future::BoxFuture;
use parking_lot::Mutex;
use std::collections::HashMap;
use std::hash::{BuildHasher, RandomState};
use std::sync::atomic::{AtomicUsize, Ordering::Relaxed};
use std::sync::Arc;
use std::time::Duration;
use streams::Stream;
use tokio::sync::Notify;
use tokio::task::JoinSet;
use tokio_util::sync::CancellationToken;
use tracing::info;

const SHARDS: usize = 64;

/// How often idle streams are looked for.
const SWEEP_INTERVAL: Duration = Duration::from_secs(1);

/// Streams removed (over one or more sweeps) after which freed memory is handed back to the
/// OS.
const TRIM_AFTER: usize = 4096;

/// Delivers straight into the local [`Hub`], keeping each channel's stream in memory.
pub struct MemoryBroker {
    inner: Arc<Inner>,
}

struct Inner {
    hub: Arc<Hub>,
    metrics: Arc<Metrics>,
    streams: Box<[Mutex<HashMap<String, Stream>>]>,
    hasher: RandomState,
    /// Bytes of history held, and the most allowed (`--history-max-bytes`).
    bytes: AtomicUsize,
    max_bytes: usize,
    /// Wakes the sweep at once when `bytes` passes `max_bytes`.
    over: Notify,
    /// Streams removed since freed memory was last handed back to the OS.
    untrimmed: AtomicUsize,
}

impl MemoryBroker {
    /// A broker delivering into `hub`, keeping at most `max_bytes` of history.
    pub fn new(hub: Arc<Hub>, metrics: Arc<Metrics>, max_bytes: usize) -> Self {
        let inner = Inner {
            hub,
            metrics,
            streams: (0..SHARDS).map(|_| Mutex::default()).collect(),
            hasher: RandomState::new(),
            bytes: AtomicUsize::new(0),
            max_bytes,
            over: Notify::new(),
            untrimmed: AtomicUsize::new(0),
        };
        Self {
            inner: Arc::new(inner),
        }
    }
}

impl Inner {
    fn shard(&self, channel: &str) -> &Mutex<HashMap<String, Stream>> {
        &self.streams[self.hasher.hash_one(channel) as usize % SHARDS]
    }

    fn new_stream(&self, policy: HistoryPolicy, now_ms: u64) -> Stream {
        self.metrics.streams.streams.fetch_add(1, Relaxed);
        Stream::new(policy, now_ms)
    }

    /// Adds `delta` to the bytes held; wakes the sweep when past the cap.
    fn account(&self, delta: isize) {
        let total = if delta >= 0 {
            self.bytes.fetch_add(delta as usize, Relaxed) + delta as usize
        } else {
            self.bytes.fetch_sub(delta.unsigned_abs(), Relaxed) - delta.unsigned_abs()
        };
        self.metrics
            .streams
            .history_bytes
            .store(total as i64, Relaxed);
        if total > self.max_bytes {
            self.over.notify_one();
        }
    }

    /// Removes the streams idle past their TTL that have no local subscriber.
    fn expire(&self, now_ms: u64) {
        let (mut removed, mut freed) = (0, 0);
        for shard in self.streams.iter() {
            let mut shard = shard.lock();
            shard.retain(|channel, stream| {
                let keep = !stream.expired(now_ms) || self.hub.local_count(channel) > 0;
                if !keep {
                    removed += 1;
                    freed += stream.bytes();
                }
                keep
            });
            // A map never shrinks by itself: after a flood of names its table would stay.
            if shard.capacity() > 4 * shard.len() + 64 {
                shard.shrink_to_fit();
            }
        }
        if removed > 0 {
            let metrics = &self.metrics.streams;
            metrics.streams.fetch_sub(removed, Relaxed);
            metrics.streams_expired.fetch_add(removed as u64, Relaxed);
            self.account(-(freed as isize));
        }
        if removed > 0 {
            let removed = removed as usize;
            let untrimmed = self.untrimmed.fetch_add(removed, Relaxed) + removed;
            if untrimmed >= TRIM_AFTER {
                self.untrimmed.store(0, Relaxed);
                trim_heap();
            }
        }
    }

    /// Drops the history of the least recently published channels until the bytes held
    /// are within the cap.
    fn evict(&self) {
        if self.bytes.load(Relaxed) <= self.max_bytes {
            return;
        }
        let mut candidates = Vec::new();
        for shard in self.streams.iter() {
            let shard = shard.lock();
            let held = shard.iter().filter(|(_, s)| s.bytes() > 0);
            candidates.extend(held.map(|(c, s)| (s.last_active_ms, c.clone())));
        }
        candidates.sort_unstable();
        let mut evicted = 0;
        for (_, channel) in candidates {
            if self.bytes.load(Relaxed) <= self.max_bytes {
                break;
            }
            let freed = self
                .shard(&channel)
                .lock()
                .get_mut(&channel)
                .map(Stream::forget);
            if let Some(freed) = freed.filter(|f| *f > 0) {
                evicted += 1;
                self.account(-(freed as isize));
            }
        }
        if evicted > 0 {
            info!(
                evicted,
                max_bytes = self.max_bytes,
                "history over --history-max-bytes: dropped the least recently published channels' history"
            );
            let metrics = &self.metrics.streams;
            metrics.history_evictions.fetch_add(evicted, Relaxed);
        }
    }

    async fn sweep(self: Arc<Self>, shutdown: CancellationToken) {
        let mut tick = tokio::time::interval(SWEEP_INTERVAL);
        tick.set_missed_tick_behavior(tokio::time::MissedTickBehavior::Delay);
        loop {
            tokio::select! {
                _ = shutdown.cancelled() => return,
                _ = tick.tick() => self.expire(now_millis()),
                _ = self.over.notified() => {}
            }
            self.evict();
        }
    }
}

/// Hands freed heap memory back to the OS. glibc keeps freed small blocks for reuse, and
/// jemalloc keeps freed pages for ~10 s, so after a flood of channel names expired the
/// process would otherwise stay at (or linger near) its peak size. Both are asked: the
/// library does not know which one the binary allocates with.
#[cfg(all(target_os = "linux", target_env = "gnu"))]
#[allow(unsafe_code)]
fn trim_heap() {
    // SAFETY: malloc_trim has no preconditions; it only releases free pages of the heap.
    unsafe {
        libc::malloc_trim(0);
    }
    #[cfg(feature = "jemalloc")]
    // SAFETY: `arena.<MALLCTL_ARENAS_ALL>.purge` (4096) takes and returns nothing; the name
    // is NUL-terminated and every other pointer is null, as mallctl allows for a void control.
    unsafe {
        tikv_jemalloc_sys::mallctl(
            c"arena.4096.purge".as_ptr(),
            std::ptr::null_mut(),
            std::ptr::null_mut(),
            std::ptr::null_mut(),
            0,
        );
    }
}

#[cfg(not(all(target_os = "linux", target_env = "gnu")))]
fn trim_heap() {}

impl Broker for MemoryBroker {
    fn kind(&self) -> &'static str {
        "memory"
    }

    fn publish(
        &self,
        request: PublishRequest,
    ) -> BoxFuture<'_, Result<PublishReceipt, BrokerError>> {
        let inner = &self.inner;
        let now = now_millis();
        // Held across numbering, delivery and keeping (see the module's notes).
        let mut shard = inner.shard(&request.channel).lock();
        let stream = match shard.get_mut(&request.channel) {
            Some(stream) => stream,
            None => {
                let stream = inner.new_stream(request.history, now);
                shard.entry(request.channel.clone()).or_insert(stream)
            }
        };
        let seq = stream.next_seq(request.history, now);
        let publication = Arc::new(Publication {
            channel: request.channel,
            seq,
            time: now,
            data: request.data,
            exclude: request.exclude,
        });
        let subscribers = inner.hub.deliver(&publication);
        let grown = stream.keep(publication);
        drop(shard);
        if grown != 0 {
            inner.account(grown);
        }
        Box::pin(async move { Ok(PublishReceipt { seq, subscribers }) })
    }

    fn history(
        &self,
        channel: &str,
        query: HistoryQuery,
        policy: HistoryPolicy,
    ) -> BoxFuture<'_, Result<History, BrokerError>> {
        let inner = &self.inner;
        let mut shard = inner.shard(channel).lock();
        let history = match shard.get(channel) {
            Some(stream) => stream.read(&query),
            None => {
                let stream = inner.new_stream(policy, now_millis());
                let history = stream.read(&query);
                shard.insert(channel.to_owned(), stream);
                history
            }
        };
        drop(shard);
        Box::pin(async move { Ok(history) })
    }

    fn live(&self, _channel: &str) -> BoxFuture<'_, Result<(), BrokerError>> {
        Box::pin(async { Ok(()) })
    }

    fn user_command(
        &self,
        user: &str,
        command: UserCommand,
    ) -> BoxFuture<'_, Result<(), BrokerError>> {
        self.inner.hub.users.apply(user, &command);
        Box::pin(async { Ok(()) })
    }

    fn subscribers_changed(&self, channel: &str, change: CountChange) {
        if (change.before == 0) != (change.after == 0) {
            self.inner.hub.announce(channel, |local| local > 0);
        }
    }

    fn presence_changed(&self, channel: &str, change: PresenceChange, announce: bool) {
        self.inner
            .metrics
            .streams
            .presence_changes
            .fetch_add(1, Relaxed);
        if announce {
            self.inner
                .hub
                .notify(channel, &presence_frame(channel, &change));
        }
    }

    fn presence(
        &self,
        channel: &str,
        max_members: usize,
    ) -> BoxFuture<'_, Result<Presence, BrokerError>> {
        let (count, members) = self.inner.hub.members(channel, max_members);
        let presence = Presence {
            count: count as u64,
            members: (count <= max_members).then_some(members),
        };
        Box::pin(async move { Ok(presence) })
    }

    fn is_occupied(&self, _channel: &str, local: usize) -> bool {
        local > 0
    }

    fn channel_counts(&self) -> BoxFuture<'_, Result<Vec<ChannelCount>, BrokerError>> {
        let counts = self.inner.hub.local_counts();
        let counts = counts
            .into_iter()
            .map(|(name, subscribers)| ChannelCount { name, subscribers });
        let counts = counts.collect();
        Box::pin(async move { Ok(counts) })
    }

    fn health(&self) -> BrokerHealth {
        BrokerHealth::Ok
    }

    fn start(&self, shutdown: CancellationToken) -> JoinSet<()> {
        let mut tasks = JoinSet::new();
        tasks.spawn(self.inner.clone().sweep(shutdown));
        tasks
    }
}

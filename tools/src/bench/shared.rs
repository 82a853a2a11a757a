//! State every bench task shares: counters, the ring that tells the publisher when a message
//! reached every subscriber, and the latency histogram.

use super::probe::ProbeStats;
use hdrhistogram::Histogram;
use std::sync::atomic::{AtomicBool, AtomicU32, AtomicU64, Ordering::Relaxed};
use std::sync::Mutex;
use std::time::Instant;
use tokio::sync::Notify;

/// Slots in the completion ring; bounds the messages in flight.
pub const RING: usize = 1 << 16;

/// Latencies each subscriber buffers before taking the histogram's lock.
pub const LATENCY_BATCH: usize = 512;

/// Shared state of one run.
pub struct Shared {
    /// When the run started; payload send times are µs since then.
    pub epoch: Instant,
    /// Subscribers connected and subscribed.
    pub connected: AtomicU64,
    /// Subscribers that failed to connect or subscribe.
    pub connect_failed: AtomicU64,
    /// Subscribers whose connection ended before the run did.
    pub dropped: AtomicU64,
    /// Messages published.
    pub published: AtomicU64,
    /// Deliveries received by all subscribers.
    pub received: AtomicU64,
    /// Deliveries that arrived out of order or twice.
    pub out_of_order: AtomicU64,
    /// `error` frames received.
    pub errors: AtomicU64,
    /// Messages every counted subscriber has received.
    pub completed: AtomicU64,
    /// How many subscribers must receive a message for it to be complete.
    pub audience: AtomicU64,
    /// When the latest delivery arrived, in µs since `epoch`.
    pub last_delivery_us: AtomicU64,
    /// Per-message delivery counts, indexed by `seq % RING`.
    ring: Box<[AtomicU32]>,
    /// Woken when a message completes.
    pub completion: Notify,
    /// Latency in µs of every delivery.
    pub latency: Mutex<Histogram<u64>>,
    /// The first few connection errors, for the report.
    pub error_samples: Mutex<Vec<String>>,
    /// True while the probes send requests (the publish phase).
    pub probing: AtomicBool,
    /// Probe requests sent and not yet answered, over every probe.
    pub probe_outstanding: AtomicU64,
    /// The probes' figures, added by each probe when it stops.
    pub probe: Mutex<ProbeStats>,
}

impl Shared {
    /// Fresh state with the clock starting now.
    pub fn new() -> Self {
        Self {
            epoch: Instant::now(),
            connected: AtomicU64::new(0),
            connect_failed: AtomicU64::new(0),
            dropped: AtomicU64::new(0),
            published: AtomicU64::new(0),
            received: AtomicU64::new(0),
            out_of_order: AtomicU64::new(0),
            errors: AtomicU64::new(0),
            completed: AtomicU64::new(0),
            audience: AtomicU64::new(u64::MAX),
            last_delivery_us: AtomicU64::new(0),
            ring: (0..RING).map(|_| AtomicU32::new(0)).collect(),
            completion: Notify::new(),
            latency: Mutex::new(
                Histogram::new_with_bounds(1, 3_600_000_000, 3).expect("valid histogram bounds"),
            ),
            error_samples: Mutex::new(Vec::new()),
            probing: AtomicBool::new(false),
            probe_outstanding: AtomicU64::new(0),
            probe: Mutex::new(ProbeStats::default()),
        }
    }

    /// µs since the run started.
    pub fn now_us(&self) -> u64 {
        self.epoch.elapsed().as_micros() as u64
    }

    /// Clears the ring slot of `seq` before it is published.
    pub fn arm(&self, seq: u64) {
        self.ring[seq as usize % RING].store(0, Relaxed);
    }

    /// Counts one delivery of `seq`; the delivery that completes it wakes the publisher.
    pub fn delivered(&self, seq: u64) {
        let count = self.ring[seq as usize % RING].fetch_add(1, Relaxed) + 1;
        if u64::from(count) == self.audience.load(Relaxed) {
            self.completed.fetch_add(1, Relaxed);
            self.completion.notify_one();
        }
    }

    /// Adds buffered latencies to the histogram.
    pub fn record_latencies(&self, batch: &mut Vec<u64>) {
        let mut histogram = self.latency.lock().expect("histogram lock");
        for &us in batch.iter() {
            histogram.saturating_record(us.max(1));
        }
        batch.clear();
    }

    /// Keeps an error message for the report (the first 10).
    pub fn sample_error(&self, error: String) {
        let mut samples = self.error_samples.lock().expect("samples lock");
        if samples.len() < 10 {
            samples.push(error);
        }
    }
}

impl Default for Shared {
    fn default() -> Self {
        Self::new()
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn the_last_delivery_completes_a_message() {
        let shared = Shared::new();
        shared.audience.store(2, Relaxed);
        shared.arm(7);
        shared.delivered(7);
        assert_eq!(shared.completed.load(Relaxed), 0);
        shared.delivered(7);
        assert_eq!(shared.completed.load(Relaxed), 1);
        shared.arm(7 + RING as u64);
        shared.delivered(7 + RING as u64);
        assert_eq!(shared.completed.load(Relaxed), 1);
    }
}

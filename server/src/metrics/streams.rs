//! Figures of channel streams: history, recovery and presence.

use std::fmt::Write;
use std::sync::atomic::{AtomicI64, AtomicU64, Ordering::Relaxed};

/// What the node's channel streams hold and did.
#[derive(Default)]
pub struct StreamMetrics {
    /// Channel streams held in this node's memory (embedded broker).
    pub streams: AtomicI64,
    /// Bytes of history held in this node's memory (embedded broker; `--history-max-bytes`).
    pub history_bytes: AtomicI64,
    /// Streams whose history `--history-max-bytes` dropped (giving them a new epoch).
    pub history_evictions: AtomicU64,
    /// Streams removed after their `history-ttl` with no subscribers.
    pub streams_expired: AtomicU64,
    /// Subscribes with `since` that recovered every missed message.
    pub recoveries: AtomicU64,
    /// Subscribes with `since` that could not (another epoch, or fallen out of history).
    pub recoveries_failed: AtomicU64,
    /// Messages sent to subscribers from history while recovering.
    pub recovered_messages: AtomicU64,
    /// `history` requests answered (WebSocket and HTTP).
    pub history_reads: AtomicU64,
    /// `join` and `leave` events this node handled.
    pub presence_changes: AtomicU64,
    /// Presence changes that could not be written to the cluster (Redis away, queue full).
    pub presence_dropped: AtomicU64,
}

impl StreamMetrics {
    pub(super) fn render(&self, out: &mut String) {
        let gauges = [
            (
                "streams",
                "Channel streams held in this node's memory.",
                &self.streams,
            ),
            (
                "history_bytes",
                "Bytes of channel history held in this node's memory (--history-max-bytes).",
                &self.history_bytes,
            ),
        ];
        for (name, help, value) in gauges {
            let value = value.load(Relaxed);
            let _ = writeln!(
                out,
                "# HELP howl_{name} {help}\n# TYPE howl_{name} gauge\nhowl_{name} {value}"
            );
        }
        let counters = [
            (
                "history_evictions_total",
                "Channel histories dropped by --history-max-bytes (a new epoch each).",
                &self.history_evictions,
            ),
            (
                "streams_expired_total",
                "Channel streams removed after their history-ttl without subscribers.",
                &self.streams_expired,
            ),
            (
                "recoveries_total",
                "Subscribes with since that recovered every missed message.",
                &self.recoveries,
            ),
            (
                "recoveries_failed_total",
                "Subscribes with since that could not recover (new epoch or history exceeded).",
                &self.recoveries_failed,
            ),
            (
                "recovered_messages_total",
                "Messages sent from history to recovering subscribers.",
                &self.recovered_messages,
            ),
            (
                "history_reads_total",
                "History requests answered.",
                &self.history_reads,
            ),
            (
                "presence_changes_total",
                "Joins and leaves handled.",
                &self.presence_changes,
            ),
            (
                "presence_dropped_total",
                "Presence changes that could not be written to the cluster.",
                &self.presence_dropped,
            ),
        ];
        for (name, help, value) in counters {
            let value = value.load(Relaxed);
            let _ = writeln!(
                out,
                "# HELP howl_{name} {help}\n# TYPE howl_{name} counter\nhowl_{name} {value}"
            );
        }
    }
}

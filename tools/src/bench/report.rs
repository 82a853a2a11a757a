//! The result of a run: written as JSON, summarised for humans.

use super::options::BenchOptions;
use super::probe::ProbeLatency;
use serde::Serialize;
use std::fmt::Write;

/// Connection phase figures.
#[derive(Debug, Clone, Serialize)]
pub struct Connect {
    /// Subscribers asked for.
    pub requested: u64,
    /// Subscribers connected and subscribed.
    pub connected: u64,
    /// Subscribers that failed to connect or subscribe.
    pub failed: u64,
    /// Seconds until every subscriber had connected or failed.
    pub seconds: f64,
}

/// Latency percentiles in microseconds.
#[derive(Debug, Clone, Default, Serialize)]
pub struct Latency {
    /// Deliveries measured.
    pub count: u64,
    /// Mean.
    pub mean_us: f64,
    /// Median.
    pub p50_us: u64,
    /// 90th percentile.
    pub p90_us: u64,
    /// 99th percentile.
    pub p99_us: u64,
    /// 99.9th percentile.
    pub p999_us: u64,
    /// Largest.
    pub max_us: u64,
}

/// The fairness probe's figures (`--probe`): request → reply latencies measured on
/// subscribers receiving the full stream, over the publish phase.
#[derive(Debug, Clone, Serialize)]
pub struct Probe {
    /// Probing subscribers.
    pub probes: usize,
    /// Seconds between a probe's pings.
    pub interval_seconds: f64,
    /// Pings between two `unsubscribe` + `subscribe` rounds (0: none).
    pub resubscribe_every: u32,
    /// `ping` → `pong`.
    pub ping: ProbeLatency,
    /// `unsubscribe` → `unsubscribe_confirmation`.
    pub unsubscribe: ProbeLatency,
    /// `subscribe` → `subscribe_confirmation`.
    pub subscribe: ProbeLatency,
    /// Replies whose `ref` matched no outstanding request.
    pub unexpected_replies: u64,
}

/// The server's figures, read from /proc when its pid is given.
#[derive(Debug, Clone, Default, Serialize)]
pub struct Server {
    /// The servers' pids (figures are sums over them).
    pub pids: Vec<u32>,
    /// RSS before the subscribers connected (KiB).
    pub rss_before_kib: u64,
    /// RSS with every subscriber connected and idle (KiB).
    pub rss_connected_kib: u64,
    /// RSS at the end of the run (KiB).
    pub rss_end_kib: u64,
    /// (connected − before) / connected subscribers, in bytes.
    pub rss_per_connection_bytes: f64,
    /// CPU seconds the server used while publishing and draining.
    pub cpu_seconds: f64,
    /// Server CPU per received delivery, µs.
    pub cpu_us_per_delivery: f64,
    /// Server CPU seconds per wall second while publishing (1.0 = one core).
    pub cpu_cores_used: f64,
    /// Seconds the server's threads waited for a CPU while publishing (other processes on
    /// its core: noise in the latency figures).
    pub cpu_wait_seconds: f64,
}

/// The bench's own CPU use while publishing and draining.
#[derive(Debug, Clone, Serialize)]
pub struct Bench {
    /// CPUs this process may run on.
    pub cores: usize,
    /// Worker threads.
    pub threads: usize,
    /// CPU seconds used.
    pub cpu_seconds: f64,
    /// CPU seconds per wall second divided by `cores` (1.0 = every allowed core busy).
    pub utilisation: f64,
    /// Seconds the bench's threads waited for a CPU while publishing.
    pub cpu_wait_seconds: f64,
    /// True when the bench itself used ≥ 90 % of its cores: figures are then a bound of the
    /// bench, not of the server.
    pub bottleneck: bool,
}

/// Everything a run measured.
#[derive(Debug, Clone, Serialize)]
pub struct Report {
    /// The options the run used.
    pub options: BenchOptions,
    /// Connection phase.
    pub connect: Connect,
    /// Seconds the idle connections were held before publishing.
    pub hold_seconds: f64,
    /// Subscribers whose connection ended before the run did.
    pub dropped_connections: u64,
    /// Messages published.
    pub published: u64,
    /// Subscribers counted as the audience of every message.
    pub audience: u64,
    /// published × audience.
    pub deliveries_expected: u64,
    /// Deliveries received.
    pub deliveries_received: u64,
    /// expected − received (never negative).
    pub lost: u64,
    /// Deliveries that arrived out of order or twice.
    pub out_of_order: u64,
    /// `error` frames received.
    pub error_frames: u64,
    /// Seconds from the first publish to the last delivery.
    pub delivery_seconds: f64,
    /// Deliveries received per second over `delivery_seconds`.
    pub deliveries_per_second: f64,
    /// Messages published per second.
    pub messages_per_second: f64,
    /// Delivery latency: publisher's send to subscriber's receive.
    pub latency: Latency,
    /// The fairness probe's figures, when `--probe` was given.
    pub probe: Option<Probe>,
    /// Server figures, when `--server-pid` was given.
    pub server: Option<Server>,
    /// The bench's own CPU use.
    pub bench: Bench,
    /// The first few errors seen.
    pub errors: Vec<String>,
}

impl Report {
    /// A human-readable summary.
    pub fn summary(&self) -> String {
        let mut s = String::new();
        let o = &self.options;
        let pace = match o.rate {
            Some(rate) => format!("{rate} msg/s"),
            None => format!("max rate, ≤ {} in flight", o.max_in_flight),
        };
        let _ = writeln!(
            s,
            "howl-bench: {} subscribers, {pace}, {} B payloads, {} s",
            o.subscribers, o.payload_bytes, o.duration
        );
        let c = &self.connect;
        let _ = writeln!(
            s,
            "  connected      {}/{} in {:.2} s ({} failed), dropped later: {}",
            c.connected, c.requested, c.seconds, c.failed, self.dropped_connections
        );
        if self.hold_seconds > 0.0 {
            let _ = writeln!(s, "  held idle      {:.0} s", self.hold_seconds);
        }
        let _ = writeln!(
            s,
            "  published      {} messages ({:.1}/s) to {} subscribers",
            self.published, self.messages_per_second, self.audience
        );
        let _ = writeln!(
            s,
            "  deliveries     {} received / {} expected, lost {}, out of order {}, errors {}",
            self.deliveries_received,
            self.deliveries_expected,
            self.lost,
            self.out_of_order,
            self.error_frames
        );
        let _ = writeln!(
            s,
            "  throughput     {:.0} deliveries/s over {:.2} s",
            self.deliveries_per_second, self.delivery_seconds
        );
        let l = &self.latency;
        let ms = |us: u64| us as f64 / 1000.0;
        let _ = writeln!(
            s,
            "  latency (ms)   p50 {:.2}  p90 {:.2}  p99 {:.2}  p99.9 {:.2}  max {:.2}",
            ms(l.p50_us),
            ms(l.p90_us),
            ms(l.p99_us),
            ms(l.p999_us),
            ms(l.max_us)
        );
        if let Some(p) = &self.probe {
            let _ = writeln!(
                s,
                "  probe          {} subscriber(s), ping every {:.0} ms, unsubscribe + subscribe every {} pings, {} unexpected replies",
                p.probes,
                p.interval_seconds * 1000.0,
                p.resubscribe_every,
                p.unexpected_replies
            );
            for (name, f) in [
                ("ping→pong", &p.ping),
                ("unsub→confirm", &p.unsubscribe),
                ("sub→confirm", &p.subscribe),
            ] {
                let _ = writeln!(
                    s,
                    "  {name:<14} (ms) p50 {:.2}  p99 {:.2}  max {:.2}  ({}/{} answered{})",
                    ms(f.p50_us),
                    ms(f.p99_us),
                    ms(f.max_us),
                    f.answered,
                    f.sent,
                    if f.unanswered > 0 {
                        format!(
                            ", {} unanswered, oldest waited {:.2} ms",
                            f.unanswered,
                            ms(f.oldest_unanswered_us)
                        )
                    } else {
                        String::new()
                    }
                );
            }
        }
        if let Some(sv) = &self.server {
            let _ = writeln!(
                s,
                "  server         RSS {} → {} KiB ({:.0} B/connection), end {} KiB",
                sv.rss_before_kib,
                sv.rss_connected_kib,
                sv.rss_per_connection_bytes,
                sv.rss_end_kib
            );
            let _ = writeln!(
                s,
                "  server CPU     {:.2} s, {:.3} µs/delivery, {:.2} cores, waited {:.2} s for a CPU",
                sv.cpu_seconds, sv.cpu_us_per_delivery, sv.cpu_cores_used, sv.cpu_wait_seconds
            );
        }
        let b = &self.bench;
        let _ = writeln!(
            s,
            "  bench CPU      {:.2} s, {:.0} % of {} core(s), waited {:.2} s for a CPU{}",
            b.cpu_seconds,
            b.utilisation * 100.0,
            b.cores,
            b.cpu_wait_seconds,
            if b.bottleneck {
                "  ** the bench is the bottleneck **"
            } else {
                ""
            }
        );
        for e in &self.errors {
            let _ = writeln!(s, "  error: {e}");
        }
        s
    }
}

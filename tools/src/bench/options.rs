//! `howl-bench` flags and their bounds: every run is bounded in time and message count.

use std::path::PathBuf;

/// Longest publish phase or idle hold, in seconds.
pub const MAX_SECONDS: f64 = 3600.0;
/// Most subscribers one run may open.
pub const MAX_SUBSCRIBERS: usize = 100_000;
/// Most probing subscribers (`--probe`).
pub const MAX_PROBES: usize = 64;

/// Command-line options of `howl-bench`.
#[derive(Debug, Clone, clap::Parser, serde::Serialize)]
#[command(
    name = "howl-bench",
    version,
    about = "Fan-out load generator for Howl (loopback targets only)"
)]
pub struct BenchOptions {
    /// WebSocket URL of the hub; must resolve to a loopback address. Repeat to spread the
    /// subscribers over several nodes (round robin).
    #[arg(long, default_value = "ws://127.0.0.1:8000/ws")]
    pub url: Vec<String>,
    /// Where the publisher connects (default: the first `--url`), e.g. another node.
    #[arg(long)]
    pub publish_url: Option<String>,
    /// Subscriber connections to open.
    #[arg(long, short = 'n', default_value = "1000")]
    pub subscribers: usize,
    /// Channel every subscriber joins and the publisher publishes to.
    #[arg(long, default_value = "bench")]
    pub channel: String,
    /// Messages per second; without it, publish as fast as `--max-in-flight` allows.
    #[arg(long)]
    pub rate: Option<f64>,
    /// Messages published but not yet received by every subscriber, at most (max-rate mode).
    #[arg(long, default_value = "32")]
    pub max_in_flight: u64,
    /// Payload size in bytes (the published JSON string's length).
    #[arg(long, default_value = "128")]
    pub payload_bytes: usize,
    /// Seconds of publishing.
    #[arg(long, default_value = "10")]
    pub duration: f64,
    /// Most messages to publish.
    #[arg(long, default_value = "1000000")]
    pub max_messages: u64,
    /// Seconds to hold the idle subscribed connections before publishing (scale runs).
    #[arg(long, default_value = "0")]
    pub hold: f64,
    /// Seconds to wait after connecting before reading the server's RSS.
    #[arg(long, default_value = "2")]
    pub settle: f64,
    /// Loopback source addresses to spread connections over (127.0.0.1, .2, ...).
    #[arg(long, default_value = "4")]
    pub sources: u8,
    /// Connections being opened at once.
    #[arg(long, default_value = "256")]
    pub connect_concurrency: usize,
    /// Seconds allowed for connecting every subscriber.
    #[arg(long, default_value = "120")]
    pub connect_timeout: f64,
    /// Seconds to wait after the last publish for outstanding deliveries.
    #[arg(long, default_value = "10")]
    pub drain_timeout: f64,
    /// Seconds between each connection's protocol `ping` (heartbeat); 0 turns them off.
    #[arg(long, default_value = "5")]
    pub ping_interval: f64,
    /// Fairness probe: this many of the subscribers (default 1 when given without a number),
    /// while receiving the full stream, also send a `ping` with a `ref` every
    /// `--probe-interval` during the publish phase and, every `--probe-resubscribe-every`
    /// pings, `unsubscribe` + `subscribe` of `--probe-channel`; the report gives each
    /// request → reply latency.
    #[arg(long, num_args = 0..=1, default_value = "0", default_missing_value = "1")]
    pub probe: usize,
    /// Seconds between a probe's pings.
    #[arg(long, default_value = "0.1")]
    pub probe_interval: f64,
    /// Probe pings between two `unsubscribe` + `subscribe` rounds (0: none).
    #[arg(long, default_value = "10")]
    pub probe_resubscribe_every: u32,
    /// The quiet second channel the probes leave and rejoin (nothing is published to it).
    #[arg(long, default_value = "bench-probe")]
    pub probe_channel: String,
    /// The server's pid, for its CPU per delivery and RSS per connection; repeat for several
    /// nodes (their figures are summed).
    #[arg(long)]
    pub server_pid: Vec<u32>,
    /// Worker threads (default: the CPUs this process may run on).
    #[arg(long)]
    pub threads: Option<usize>,
    /// Where to write the JSON result; the latency plot goes beside it (`.svg`).
    #[arg(long, default_value = "bench-result.json")]
    pub out: PathBuf,
    /// No progress bar.
    #[arg(long)]
    pub quiet: bool,
}

impl BenchOptions {
    /// Checks the bounds; the message names the first violation.
    pub fn validate(&self) -> Result<(), String> {
        let seconds = [
            ("--duration", self.duration),
            ("--hold", self.hold),
            ("--settle", self.settle),
            ("--connect-timeout", self.connect_timeout),
            ("--drain-timeout", self.drain_timeout),
            ("--ping-interval", self.ping_interval),
        ];
        for (flag, value) in seconds {
            if !(0.0..=MAX_SECONDS).contains(&value) {
                return Err(format!("{flag} must be between 0 and {MAX_SECONDS} s"));
            }
        }
        if self.duration <= 0.0 {
            return Err("--duration must be positive".into());
        }
        if self.subscribers == 0 || self.subscribers > MAX_SUBSCRIBERS {
            return Err(format!("--subscribers must be 1..={MAX_SUBSCRIBERS}"));
        }
        if let Some(rate) = self.rate {
            if !(1.0..=1_000_000.0).contains(&rate) {
                return Err("--rate must be between 1 and 1000000 messages/s".into());
            }
        }
        let ring = super::shared::RING as u64 / 2;
        if self.max_in_flight == 0 || self.max_in_flight > ring {
            return Err(format!("--max-in-flight must be 1..={ring}"));
        }
        if self.max_messages == 0 || self.payload_bytes < 32 || self.payload_bytes > 60_000 {
            return Err("--max-messages must be positive and --payload-bytes 32..=60000".into());
        }
        if self.probe > MAX_PROBES.min(self.subscribers) {
            return Err(format!(
                "--probe must be at most {MAX_PROBES} and at most --subscribers"
            ));
        }
        if !(0.01..=60.0).contains(&self.probe_interval) {
            return Err("--probe-interval must be between 0.01 and 60 s".into());
        }
        if self.probe > 0 && self.probe_channel == self.channel {
            return Err("--probe-channel must differ from --channel".into());
        }
        if self.sources == 0 || self.connect_concurrency == 0 {
            return Err("--sources and --connect-concurrency must be positive".into());
        }
        Ok(())
    }
}

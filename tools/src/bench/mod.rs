//! `howl-bench`: the fan-out load generator.
//!
//! It opens N subscriber connections spread over several 127.0.0.x source addresses,
//! subscribes them to one channel, then publishes from one more connection at a fixed rate
//! or as fast as possible with a bounded number of messages in flight. Each payload carries
//! its sequence number and send time; subscribers measure latency and count deliveries.
//!
//! - [`options`]: command-line flags and their bounds.
//! - [`wire`]: a minimal WebSocket client framing, lean enough for tens of thousands of
//!   sockets on one core.
//! - [`payload`]: the payload format (sequence number and send time).
//! - [`shared`]: counters, the completion ring and the latency histogram all tasks share.
//! - [`subscriber`]: one subscriber connection.
//! - [`probe`]: the fairness probe's request → reply bookkeeping (ping, unsubscribe and
//!   subscribe timed on subscribers receiving the full stream).
//! - [`publisher`]: the publishing connection and its pacing.
//! - [`procfs`]: CPU and RSS from /proc, and the open-files limit.
//! - [`progress`]: the progress bar.
//! - [`report`]: the result, its JSON file and the human summary.
//! - [`plot`]: the latency percentile plot (SVG).
//! - [`run`](mod@run): the phases of a run.

pub mod options;
pub mod payload;
pub mod plot;
pub mod probe;
pub mod procfs;
pub mod progress;
pub mod publisher;
pub mod report;
pub mod run;
pub mod shared;
pub mod subscriber;
pub mod wire;

pub use options::BenchOptions;
pub use report::Report;
pub use run::run;

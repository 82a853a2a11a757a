//! Log output: `tracing` lines with timestamps, filtered by `RUST_LOG` (default `info`).

use crate::config::LogFormat;
use std::io::IsTerminal;
use std::sync::atomic::{AtomicU64, Ordering::Relaxed};
use tracing_subscriber::EnvFilter;

/// Installs the global log subscriber.
pub fn init(format: LogFormat) {
    let filter = EnvFilter::try_from_default_env().unwrap_or_else(|_| EnvFilter::new("info"));
    let builder = tracing_subscriber::fmt()
        .with_env_filter(filter)
        .with_ansi(std::io::stdout().is_terminal());
    match format {
        LogFormat::Text => builder.init(),
        LogFormat::Json => builder
            .json()
            .flatten_event(true)
            .with_current_span(true)
            .init(),
    }
}

/// Lets a warning through at most once a second, so a flood (an outage under load, an abusive
/// client) is logged without a line per event; the metrics count every one.
#[derive(Default)]
pub struct LogThrottle {
    last: AtomicU64,
}

impl LogThrottle {
    /// Whether a line may be logged at `now_millis` (Unix milliseconds).
    pub fn ready(&self, now_millis: u64) -> bool {
        let last = self.last.load(Relaxed);
        now_millis.saturating_sub(last) >= 1000
            && self
                .last
                .compare_exchange(last, now_millis, Relaxed, Relaxed)
                .is_ok()
    }
}

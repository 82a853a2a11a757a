//! The progress bar: one line on stderr showing the phase and live counters.

use super::shared::Shared;
use indicatif::{ProgressBar, ProgressDrawTarget, ProgressStyle};
use std::sync::atomic::Ordering::Relaxed;
use std::sync::Arc;
use std::time::Duration;

/// A progress bar fed from the shared counters by a background task.
pub struct Progress {
    bar: ProgressBar,
    task: Option<tokio::task::JoinHandle<()>>,
}

impl Progress {
    /// A bar on stderr (hidden when `quiet` or when stderr is not a terminal).
    pub fn new(quiet: bool) -> Self {
        let target = if quiet {
            ProgressDrawTarget::hidden()
        } else {
            ProgressDrawTarget::stderr()
        };
        let bar = ProgressBar::with_draw_target(Some(1), target);
        bar.set_style(
            ProgressStyle::with_template("{spinner} {prefix:>9} [{bar:30}] {pos}/{len} {msg}")
                .expect("valid template")
                .progress_chars("=> "),
        );
        Self { bar, task: None }
    }

    /// Starts a phase whose progress is `position(shared)` out of `len`.
    pub fn phase(
        &mut self,
        name: &'static str,
        len: u64,
        shared: Arc<Shared>,
        position: fn(&Shared) -> u64,
    ) {
        if let Some(task) = self.task.take() {
            task.abort();
        }
        self.bar.set_prefix(name);
        self.bar.set_length(len.max(1));
        self.bar.set_position(0);
        let bar = self.bar.clone();
        self.task = Some(tokio::spawn(async move {
            let mut tick = tokio::time::interval(Duration::from_millis(200));
            let mut last = (shared.received.load(Relaxed), shared.now_us());
            loop {
                tick.tick().await;
                let now = (shared.received.load(Relaxed), shared.now_us());
                let rate = (now.0 - last.0) as f64 / ((now.1 - last.1).max(1) as f64 / 1e6);
                last = now;
                bar.set_position(position(&shared).min(len));
                bar.set_message(format!(
                    "conn {} pub {} recv {} ({:.0}/s) dropped {}",
                    shared.connected.load(Relaxed),
                    shared.published.load(Relaxed),
                    now.0,
                    rate,
                    shared.dropped.load(Relaxed),
                ));
            }
        }));
    }

    /// Removes the bar.
    pub fn finish(mut self) {
        if let Some(task) = self.task.take() {
            task.abort();
        }
        self.bar.finish_and_clear();
    }
}

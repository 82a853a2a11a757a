//! Waiting on conditions, each with a timeout, polling briefly in between.

use std::future::Future;
use std::time::{Duration, Instant};

/// How long any single expected event may take before a test fails.
pub const WAIT: Duration = Duration::from_secs(20);

/// Polls `probe` until it returns `Some`, failing after `timeout` with `what` and the last
/// error the probe reported.
pub async fn until<T, F, Fut>(what: &str, timeout: Duration, mut probe: F) -> anyhow::Result<T>
where
    F: FnMut() -> Fut,
    Fut: Future<Output = anyhow::Result<Option<T>>>,
{
    let start = Instant::now();
    let mut last_error = None;
    loop {
        match probe().await {
            Ok(Some(value)) => return Ok(value),
            Ok(None) => {}
            Err(e) => last_error = Some(e),
        }
        if start.elapsed() > timeout {
            let detail = last_error
                .map(|e| format!(" (last error: {e:#})"))
                .unwrap_or_default();
            anyhow::bail!("timed out after {timeout:?} waiting for {what}{detail}");
        }
        tokio::time::sleep(Duration::from_millis(25)).await;
    }
}

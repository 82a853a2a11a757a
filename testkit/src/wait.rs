//! Waiting on conditions, each with a timeout, polling briefly in between.

use crate::{POLL, WAIT};
use std::future::Future;
use std::time::{Duration, Instant};

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
        tokio::time::sleep(POLL).await; // polling interval, not a wait for an outcome
    }
}

/// Polls `check` until it holds, failing the test (a panic) after [`WAIT`].
pub async fn eventually<F, Fut>(what: &str, mut check: F)
where
    F: FnMut() -> Fut,
    Fut: Future<Output = bool>,
{
    let outcome = until(what, WAIT, || {
        let check = check();
        async move { Ok(check.await.then_some(())) }
    })
    .await;
    if let Err(e) = outcome {
        panic!("{e}");
    }
}

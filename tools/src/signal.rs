//! Ending a program on Ctrl-C or SIGTERM (what `docker stop` sends).

/// Completes on the first Ctrl-C or SIGTERM.
pub async fn shutdown() {
    let mut term = tokio::signal::unix::signal(tokio::signal::unix::SignalKind::terminate())
        .expect("SIGTERM handler installs");
    tokio::select! {
        _ = tokio::signal::ctrl_c() => {}
        _ = term.recv() => {}
    }
}

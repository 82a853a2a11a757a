//! `howl-sub`: print every message of Howl channels with its latency.

use clap::Parser;
use howl_tools::subscriber::{self, SubOptions};

#[tokio::main]
async fn main() -> anyhow::Result<()> {
    howl_tools::logging::init();
    let options = SubOptions::parse();
    let received = subscriber::run(&options, std::io::stdout(), shutdown_signal()).await?;
    tracing::info!(received, "done");
    Ok(())
}

async fn shutdown_signal() {
    let mut term = tokio::signal::unix::signal(tokio::signal::unix::SignalKind::terminate())
        .expect("SIGTERM handler installs");
    tokio::select! {
        _ = tokio::signal::ctrl_c() => {}
        _ = term.recv() => {}
    }
}

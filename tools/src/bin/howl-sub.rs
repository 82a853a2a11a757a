//! `howl-sub`: print every message of Howl channels with its latency.

use clap::Parser;
use howl_tools::subscriber::{self, SubOptions};

#[tokio::main]
async fn main() -> anyhow::Result<()> {
    howl_tools::logging::init();
    let options = SubOptions::parse();
    let received =
        subscriber::run(&options, std::io::stdout(), howl_tools::signal::shutdown()).await?;
    tracing::info!(received, "done");
    Ok(())
}

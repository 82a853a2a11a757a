//! `howl-pub`: publish to a Howl channel only while it has subscribers.

use anyhow::Context;
use clap::Parser;
use howl_tools::publisher::{self, PubOptions, Source};
use std::io::BufRead;

#[tokio::main]
async fn main() -> anyhow::Result<()> {
    howl_tools::logging::init();
    let options = PubOptions::parse();
    let source = match &options.lines {
        None => Source::Template(options.message.clone()),
        Some(path) => {
            let lines: Vec<String> = if path.as_os_str() == "-" {
                std::io::stdin().lock().lines().collect::<Result<_, _>>()
            } else {
                let file = std::fs::File::open(path)
                    .with_context(|| format!("cannot open {}", path.display()))?;
                std::io::BufReader::new(file)
                    .lines()
                    .collect::<Result<_, _>>()
            }
            .context("cannot read the lines")?;
            Source::Lines(lines.into_iter().filter(|l| !l.trim().is_empty()).collect())
        }
    };
    let published = publisher::run(&options, source, howl_tools::signal::shutdown()).await?;
    tracing::info!(published, "done");
    Ok(())
}

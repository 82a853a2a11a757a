//! The built-in publisher: a random wolf-wisdom quote on the default channel every interval,
//! from one node of a cluster at a time ([`crate::broker::Broker::leads_distributor`]).

use crate::node::Node;
use crate::quotes::QUOTES;
use howl_protocol::DEFAULT_CHANNEL;
use rand::seq::IndexedRandom;
use std::sync::atomic::Ordering::Relaxed;
use std::sync::Arc;
use std::time::Duration;
use tokio::time::MissedTickBehavior;
use tokio_util::sync::CancellationToken;
use tracing::{info, warn};

/// Publishes a quote every `interval`, whether or not anyone listens, until `shutdown`.
pub async fn run(node: Arc<Node>, interval: Duration, shutdown: CancellationToken) {
    let mut ticker = tokio::time::interval_at(tokio::time::Instant::now() + interval, interval);
    ticker.set_missed_tick_behavior(MissedTickBehavior::Delay);
    // Logged once per outage, not once per skipped quote; the broker counts every failure.
    let mut failing = false;
    loop {
        tokio::select! {
            _ = shutdown.cancelled() => return,
            _ = ticker.tick() => {}
        }
        // In a cluster every node ticks, but only the lock holder publishes.
        if !node.broker.leads_distributor() {
            continue;
        }
        let quote = *QUOTES
            .choose(&mut rand::rng())
            .expect("the quote list is not empty");
        let data = serde_json::value::to_raw_value(quote).expect("a string encodes");
        match node.publish(DEFAULT_CHANNEL.to_owned(), data, None).await {
            Ok(receipt) => {
                if std::mem::take(&mut failing) {
                    info!("the broker is back: distributing quotes again");
                }
                node.metrics.quotes_distributed.fetch_add(1, Relaxed);
                info!(
                    seq = receipt.seq,
                    receivers = receipt.subscribers,
                    "quote distributed"
                )
            }
            Err(error) => {
                if !std::mem::replace(&mut failing, true) {
                    warn!(%error, "the broker is unavailable: skipping quotes until it is back");
                }
            }
        }
    }
}

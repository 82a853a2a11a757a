//! The channel-flood benchmark of issue 11: publishes once to each of N distinct channel
//! names through a node's broker (no sockets), then waits for their `history-ttl` to pass and
//! reports the node's resident memory, held streams and history bytes at each step, so it
//! can be checked that per-channel state returns to baseline.
//!
//! ```sh
//! cargo run --release -p howl-server --example channel_flood -- 1000000 [REDIS_URL]
//! ```
//! With a Redis URL the node is a cluster node and Redis's key count is reported too.

use howl::channel_options::ChannelOptionsTable;
use howl::permissions::Namespace;
use howl::Node;
use std::sync::Arc;
use std::time::{Duration, Instant};
use tokio_util::sync::CancellationToken;

/// The `howl` binary's allocator, so memory is measured as the binary would hold it.
#[cfg(all(feature = "jemalloc", target_os = "linux"))]
#[global_allocator]
static ALLOCATOR: tikv_jemallocator::Jemalloc = tikv_jemallocator::Jemalloc;

const TTL_SECS: u64 = 2;

fn rss_kib() -> u64 {
    let status = std::fs::read_to_string("/proc/self/status").unwrap_or_default();
    let line = status.lines().find_map(|l| l.strip_prefix("VmRSS:"));
    let kib = line.and_then(|l| l.split_whitespace().next()?.parse().ok());
    kib.unwrap_or(0)
}

async fn redis_keys(url: Option<&str>) -> Option<i64> {
    let client = redis::Client::open(url?).ok()?;
    let mut connection = client.get_multiplexed_async_connection().await.ok()?;
    redis::cmd("DBSIZE").query_async(&mut connection).await.ok()
}

fn report(step: &str, node: &Node, keys: Option<i64>) {
    let streams = &node.metrics.streams;
    let held = streams.streams.load(std::sync::atomic::Ordering::Relaxed);
    let bytes = streams
        .history_bytes
        .load(std::sync::atomic::Ordering::Relaxed);
    let keys = keys.map_or(String::new(), |k| format!(", Redis keys {k}"));
    println!(
        "{step:<22} RSS {:>8} KiB, streams {held:>8}, history bytes {bytes:>10}{keys}",
        rss_kib()
    );
}

#[tokio::main]
async fn main() -> anyhow::Result<()> {
    let mut args = std::env::args().skip(1);
    let channels: usize = args.next().map_or(Ok(1_000_000), |n| n.parse())?;
    let redis_url = args.next();
    let namespaces = [Namespace {
        name: String::new(),
        history_ttl: Some(TTL_SECS),
        ..Namespace::default()
    }];
    let table = Arc::new(ChannelOptionsTable::new(&namespaces));
    let node = match &redis_url {
        Some(url) => Node::with_redis(howl::broker::RedisSettings {
            url: url.clone(),
            prefix: "flood:".into(),
            node_id: "flood".into(),
            ttl: Duration::from_secs(6),
        })?,
        None => Node::in_memory(),
    }
    .with_channels(table);
    let shutdown = CancellationToken::new();
    let tasks = node.broker.start(shutdown.clone());
    let url = redis_url.as_deref();
    // Let a cluster node connect before counting.
    tokio::time::sleep(Duration::from_millis(500)).await;
    report("baseline", &node, redis_keys(url).await);
    let start = Instant::now();
    let data = serde_json::value::to_raw_value(&1)?;
    for i in 0..channels {
        node.publish(format!("flood-{i}"), data.clone(), None)
            .await?;
    }
    let took = start.elapsed();
    report("after publishing", &node, redis_keys(url).await);
    println!(
        "published {channels} channels in {:.1} s ({:.0}/s)",
        took.as_secs_f64(),
        channels as f64 / took.as_secs_f64()
    );
    // Past the TTL plus the node's sweep (1 s) and Redis's lazy+active expiry.
    let deadline = Instant::now() + Duration::from_secs(TTL_SECS + 60);
    loop {
        tokio::time::sleep(Duration::from_secs(1)).await;
        let keys = redis_keys(url).await;
        let held = node
            .metrics
            .streams
            .streams
            .load(std::sync::atomic::Ordering::Relaxed);
        if (held == 0 && keys.unwrap_or(0) <= 10) || Instant::now() > deadline {
            report("after the TTL", &node, keys);
            break;
        }
    }
    shutdown.cancel();
    drop(tasks);
    Ok(())
}

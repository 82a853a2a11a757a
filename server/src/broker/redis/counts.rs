//! Cluster-wide subscriber counts.
//!
//! Each node keeps a hash `<prefix>!node:<id>` of its channels' local counts (plus a
//! `!version` field) that expires after the TTL unless the node refreshes it, so a node that
//! dies silently drops out of every count. When a node's count on a channel crosses zero it
//! announces that on the control channel; every node also rereads all hashes each refresh
//! period, which both catches what it missed and notices dead nodes.

use super::remote::{Control, NodeCounts};
use super::Shared;
use crate::broker::{BrokerError, ChannelCount};
use redis::aio::MultiplexedConnection;
use redis::{RedisError, Script, Value};
use std::collections::HashMap;
use std::sync::atomic::Ordering::Relaxed;
use std::sync::LazyLock;
use tracing::{debug, warn};

const VERSION_FIELD: &str = "!version";

/// KEYS: own hash, node set. ARGV: TTL ms, node id, control channel, last version, then
/// channel/count/control payload triples. Publishes a triple's payload when its count crossed
/// zero.
static WRITE: LazyLock<Script> = LazyLock::new(|| {
    Script::new(
        r"
for i = 5, #ARGV, 3 do
  local old = tonumber(redis.call('HGET', KEYS[1], ARGV[i]) or '0')
  local new = tonumber(ARGV[i + 1])
  if new == 0 then redis.call('HDEL', KEYS[1], ARGV[i]) else redis.call('HSET', KEYS[1], ARGV[i], ARGV[i + 1]) end
  if (old == 0) ~= (new == 0) then redis.call('PUBLISH', ARGV[3], ARGV[i + 2]) end
end
redis.call('HSET', KEYS[1], '!version', ARGV[4])
redis.call('PEXPIRE', KEYS[1], ARGV[1])
redis.call('SADD', KEYS[2], ARGV[2])
return 1
",
    )
});

/// KEYS: own hash, node set. ARGV: TTL ms, node id, version, then channel/count pairs.
static REWRITE: LazyLock<Script> = LazyLock::new(|| {
    Script::new(
        r"
redis.call('DEL', KEYS[1])
redis.call('HSET', KEYS[1], '!version', ARGV[3])
for i = 4, #ARGV, 2 do redis.call('HSET', KEYS[1], ARGV[i], ARGV[i + 1]) end
redis.call('PEXPIRE', KEYS[1], ARGV[1])
redis.call('SADD', KEYS[2], ARGV[2])
return 1
",
    )
});

/// KEYS: node set. ARGV: node hash prefix. Forgets nodes whose hash expired; returns
/// `[id, [field, value, ...], ...]` for the rest.
static SNAPSHOT: LazyLock<Script> = LazyLock::new(|| {
    Script::new(
        r"
local out = {}
for _, id in ipairs(redis.call('SMEMBERS', KEYS[1])) do
  local fields = redis.call('HGETALL', ARGV[1] .. id)
  if #fields == 0 then
    redis.call('SREM', KEYS[1], id)
  else
    out[#out + 1] = id
    out[#out + 1] = fields
  end
end
return out
",
    )
});

/// A count change on one node, as sent on the control channel.
fn control_payload(shared: &Shared, version: u64, channel: &str, count: usize) -> String {
    let control = Control {
        node: shared.settings.node_id.clone(),
        version,
        channel: channel.to_owned(),
        count,
    };
    serde_json::to_string(&control).expect("a control message encodes")
}

fn ttl_millis(shared: &Shared) -> u64 {
    shared.settings.ttl.as_millis().max(1) as u64
}

/// Records this node's current counts on `channels` in Redis, in one step.
pub(super) async fn write(
    shared: &Shared,
    connection: &mut MultiplexedConnection,
    channels: &[(String, usize)],
) -> Result<(), RedisError> {
    if channels.is_empty() {
        return Ok(());
    }
    let keys = &shared.keys;
    let mut invocation = WRITE.key(keys.node(&shared.settings.node_id));
    invocation
        .key(&keys.nodes)
        .arg(ttl_millis(shared))
        .arg(&shared.settings.node_id)
        .arg(&keys.control);
    let mut version = 0;
    let mut triples = Vec::with_capacity(channels.len());
    for (channel, count) in channels {
        version = shared.version.fetch_add(1, Relaxed) + 1;
        triples.push((
            channel,
            count,
            control_payload(shared, version, channel, *count),
        ));
    }
    invocation.arg(version);
    for (channel, count, payload) in triples {
        invocation.arg(channel).arg(*count).arg(payload);
    }
    invocation.invoke_async::<i64>(connection).await?;
    Ok(())
}

/// Replaces this node's hash with its current counts (after connecting or expiry).
pub(super) async fn rewrite(
    shared: &Shared,
    connection: &mut MultiplexedConnection,
) -> Result<(), RedisError> {
    let keys = &shared.keys;
    let version = shared.version.fetch_add(1, Relaxed) + 1;
    let mut invocation = REWRITE.key(keys.node(&shared.settings.node_id));
    invocation
        .key(&keys.nodes)
        .arg(ttl_millis(shared))
        .arg(&shared.settings.node_id)
        .arg(version);
    for (channel, count) in shared.hub.local_counts() {
        invocation.arg(channel).arg(count);
    }
    invocation.invoke_async::<i64>(connection).await?;
    Ok(())
}

/// Extends the life of this node's hash, rewriting it if it expired meanwhile.
pub(super) async fn refresh(
    shared: &Shared,
    connection: &mut MultiplexedConnection,
) -> Result<(), RedisError> {
    let key = shared.keys.node(&shared.settings.node_id);
    let (alive, _): (bool, i64) = redis::pipe()
        .cmd("PEXPIRE")
        .arg(&key)
        .arg(ttl_millis(shared))
        .cmd("SADD")
        .arg(&shared.keys.nodes)
        .arg(&shared.settings.node_id)
        .query_async(connection)
        .await?;
    if !alive {
        debug!("this node's counts had expired in Redis; rewriting them");
        rewrite(shared, connection).await?;
    }
    Ok(())
}

async fn read_all(
    shared: &Shared,
    connection: &mut MultiplexedConnection,
) -> Result<HashMap<String, NodeCounts>, RedisError> {
    let value: Value = SNAPSHOT
        .key(&shared.keys.nodes)
        .arg(shared.keys.node_prefix())
        .invoke_async(connection)
        .await?;
    let mut nodes = HashMap::new();
    let Value::Array(items) = value else {
        return Ok(nodes);
    };
    for pair in items.chunks_exact(2) {
        let (Value::BulkString(id), Value::Array(fields)) = (&pair[0], &pair[1]) else {
            continue;
        };
        let id = String::from_utf8_lossy(id).into_owned();
        if id == shared.settings.node_id {
            continue;
        }
        let mut node = NodeCounts::default();
        for field in fields.chunks_exact(2) {
            let (Value::BulkString(name), Value::BulkString(value)) = (&field[0], &field[1]) else {
                continue;
            };
            let name = String::from_utf8_lossy(name);
            let Some(value) = std::str::from_utf8(value)
                .ok()
                .and_then(|v| v.parse::<u64>().ok())
            else {
                continue;
            };
            if name == VERSION_FIELD {
                node.version = value;
            } else if value > 0 {
                node.channels.insert(name.into_owned(), value as usize);
            }
        }
        nodes.insert(id, node);
    }
    Ok(nodes)
}

/// Rereads every node's counts and tells local watchers of any occupancy change.
pub(super) async fn snapshot(
    shared: &Shared,
    connection: &mut MultiplexedConnection,
    forget_missing: bool,
) -> Result<(), RedisError> {
    let nodes = read_all(shared, connection).await?;
    let touched = shared.remote.lock().apply_snapshot(nodes, forget_missing);
    for channel in touched {
        shared.announce(&channel);
    }
    Ok(())
}

/// Handles a message on the control channel.
pub(super) fn receive_control(shared: &Shared, payload: &[u8]) {
    let control: Control = match serde_json::from_slice(payload) {
        Ok(control) => control,
        Err(error) => {
            shared.metrics.broker_invalid_payloads.fetch_add(1, Relaxed);
            warn!(%error, "dropped an unreadable control message from Redis");
            return;
        }
    };
    if control.node == shared.settings.node_id {
        return;
    }
    let news = shared.remote.lock().apply_change(&control);
    if news {
        shared.announce(&control.channel);
    }
}

/// Removes this node's counts on graceful shutdown.
pub(super) async fn goodbye(shared: &Shared, connection: &mut MultiplexedConnection) {
    let result: Result<(), RedisError> = redis::pipe()
        .cmd("DEL")
        .arg(shared.keys.node(&shared.settings.node_id))
        .ignore()
        .cmd("SREM")
        .arg(&shared.keys.nodes)
        .arg(&shared.settings.node_id)
        .ignore()
        .query_async(connection)
        .await;
    if let Err(error) = result {
        warn!(%error, "could not remove this node's counts from Redis");
    }
}

/// Every channel with subscribers anywhere: other nodes' counts as this node last learned
/// them (notices, and the snapshot every third of the TTL) plus this node's own. No Redis
/// round trip per request; while Redis is away the other nodes' counts are unknown.
pub(super) fn cluster_counts(shared: &Shared) -> Result<Vec<ChannelCount>, BrokerError> {
    if shared.link.connection().is_none() {
        return Err(BrokerError::Unavailable(
            "Redis is unreachable, so cluster-wide counts are unknown".into(),
        ));
    }
    let mut totals: HashMap<String, usize> = shared.hub.local_counts().into_iter().collect();
    shared.remote.lock().add_counts(&mut totals);
    let mut counts: Vec<ChannelCount> = totals
        .into_iter()
        .map(|(name, subscribers)| ChannelCount { name, subscribers })
        .collect();
    counts.sort_by(|a, b| a.name.cmp(&b.name));
    Ok(counts)
}

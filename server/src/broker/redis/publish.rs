//! Publishing: one Lua script gives the message the channel's next `seq`, keeps it in the
//! channel's Redis stream (trimmed to `history-size`, both keys expiring after `history-ttl`)
//! and `PUBLISH`es it, atomically, so every node sees the same `seq` for it, a history read
//! sees exactly the messages numbered up to its position, and Redis delivers a channel's
//! messages in `seq` order.
//!
//! The publishing node does not deliver to its own subscribers directly: it listens on the
//! channel whenever it has local subscribers, so its own message comes back from Redis in
//! order with everyone else's (carrying the connection to exclude). While Redis is away a
//! publish fails: a message is never delivered under a number only this node made up.

use super::{envelope, new_epoch, Shared};
use crate::broker::{BrokerError, PublishReceipt, PublishRequest};
use crate::clock::now_millis;
use redis::Script;
use std::sync::LazyLock;
use tracing::warn;

/// KEYS: the channel's meta hash, its stream, the node set. ARGV: the Redis channel, the
/// node's floor, the envelope head and middle, the data, the node hash prefix, the node id,
/// the Howl channel, the history size, the history TTL (ms), a candidate epoch, the time.
///
/// A missing meta hash (first publish, expiry, eviction, flush) starts a new epoch whose
/// numbering continues above the floor; the stream left from an older epoch is dropped.
/// Returns the seq and the channel's subscribers on other nodes.
static PUBLISH: LazyLock<Script> = LazyLock::new(|| {
    Script::new(
        r"
local seq
if redis.call('HEXISTS', KEYS[1], 'epoch') == 0 then
  redis.call('DEL', KEYS[2])
  seq = tonumber(ARGV[2]) + 1
  redis.call('HSET', KEYS[1], 'epoch', ARGV[11], 'seq', seq)
else
  seq = redis.call('HINCRBY', KEYS[1], 'seq', 1)
end
local id = string.format('%d', seq)
redis.call('PUBLISH', ARGV[1], ARGV[3] .. id .. ARGV[4] .. ARGV[5] .. '}')
if tonumber(ARGV[9]) > 0 then
  redis.call('XADD', KEYS[2], 'MAXLEN', ARGV[9], id .. '-1', 't', ARGV[12], 'd', ARGV[5])
  redis.call('PEXPIRE', KEYS[2], ARGV[10])
else
  redis.call('DEL', KEYS[2])
end
redis.call('PEXPIRE', KEYS[1], ARGV[10])
local others = 0
for _, node in ipairs(redis.call('SMEMBERS', KEYS[3])) do
  if node ~= ARGV[7] then
    others = others + tonumber(redis.call('HGET', ARGV[6] .. node, ARGV[8]) or '0')
  end
end
return {seq, others}
",
    )
});

/// Publishes `request` to the cluster; this node's subscribers get it back from Redis.
pub(super) async fn publish(
    shared: &Shared,
    request: PublishRequest,
) -> Result<PublishReceipt, BrokerError> {
    let PublishRequest {
        channel,
        data,
        exclude,
        history,
    } = request;
    let time = now_millis();
    let Some(mut connection) = shared.link.connection() else {
        return Err(unavailable(
            shared,
            &channel,
            time,
            "no connection to Redis".into(),
        ));
    };
    let keys = &shared.keys;
    let (head, mid) = envelope::encode_parts(&shared.settings.node_id, time, exclude);
    let ttl_ms = history.ttl.as_millis().max(1) as u64;
    let (seq, others) = PUBLISH
        .key(keys.meta(&channel))
        .key(keys.stream(&channel))
        .key(&keys.nodes)
        .arg(keys.channel(&channel))
        .arg(shared.states.floor(&channel))
        .arg(head)
        .arg(mid)
        .arg(data.get())
        .arg(keys.node_prefix())
        .arg(&shared.settings.node_id)
        .arg(&channel)
        .arg(history.size)
        .arg(ttl_ms)
        .arg(&*new_epoch())
        .arg(time)
        .invoke_async::<(u64, u64)>(&mut connection)
        .await
        .map_err(|error| unavailable(shared, &channel, time, error.to_string()))?;
    shared.states.observe(&channel, seq, ttl_ms, time);
    let local = shared.hub.local_count(&channel);
    let local = local.saturating_sub(usize::from(exclude.is_some() && local > 0));
    Ok(PublishReceipt {
        seq,
        subscribers: local + others as usize,
    })
}

/// Logs (throttled) why a publish could not reach Redis and makes the error the publisher
/// gets; the node counts the failure.
fn unavailable(shared: &Shared, channel: &str, time: u64, reason: String) -> BrokerError {
    if shared.failure_log.ready(time) {
        warn!(%channel, %reason, "publishing to Redis failed: the message was refused");
    }
    BrokerError::Unavailable(reason)
}

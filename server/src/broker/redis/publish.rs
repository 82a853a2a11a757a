//! Publishing: one Lua script numbers the message and `PUBLISH`es it atomically, so every
//! node sees the same `seq` for it and messages on a channel travel in `seq` order. The
//! publishing node delivers to its own subscribers directly once Redis has numbered the
//! message. While Redis is away a publish fails: a message is never delivered under a number
//! that only this node made up, since another node could give the same number to another
//! message.

use super::{envelope, Shared};
use crate::broker::{BrokerError, PublishReceipt, PublishRequest};
use crate::clock::now_millis;
use crate::publication::Publication;
use parking_lot::Mutex;
use redis::Script;
use std::collections::HashMap;
use std::hash::{BuildHasher, RandomState};
use std::sync::LazyLock;
use tracing::warn;

/// KEYS: the channel's counter, the node set. ARGV: the Redis channel, the publishing node's
/// floor, envelope head and tail, the node hash prefix, the node id, the Howl channel.
/// The floor keeps numbering above what the node has seen if Redis lost the counter (a
/// restart without persistence). Returns the seq and the channel's subscribers on other nodes.
static PUBLISH: LazyLock<Script> = LazyLock::new(|| {
    Script::new(
        r"
local current = tonumber(redis.call('GET', KEYS[1]) or '0')
if current < tonumber(ARGV[2]) then redis.call('SET', KEYS[1], ARGV[2]) end
local seq = redis.call('INCR', KEYS[1])
redis.call('PUBLISH', ARGV[1], ARGV[3] .. string.format('%d', seq) .. ARGV[4])
local others = 0
for _, node in ipairs(redis.call('SMEMBERS', KEYS[2])) do
  if node ~= ARGV[6] then
    others = others + tonumber(redis.call('HGET', ARGV[5] .. node, ARGV[7]) or '0')
  end
end
return {seq, others}
",
    )
});

const SHARDS: usize = 64;

/// The highest sequence number this node has seen on each channel.
pub(super) struct Sequences {
    shards: Box<[Mutex<HashMap<String, u64>>]>,
    hasher: RandomState,
}

impl Default for Sequences {
    fn default() -> Self {
        Self {
            shards: (0..SHARDS).map(|_| Mutex::default()).collect(),
            hasher: RandomState::new(),
        }
    }
}

impl Sequences {
    fn shard(&self, channel: &str) -> &Mutex<HashMap<String, u64>> {
        &self.shards[self.hasher.hash_one(channel) as usize % SHARDS]
    }

    fn floor(&self, channel: &str) -> u64 {
        self.shard(channel)
            .lock()
            .get(channel)
            .copied()
            .unwrap_or(0)
    }

    /// Records that `seq` was used on `channel`.
    pub(super) fn observe(&self, channel: &str, seq: u64) {
        let mut shard = self.shard(channel).lock();
        match shard.get_mut(channel) {
            Some(high) => *high = (*high).max(seq),
            None => {
                shard.insert(channel.to_owned(), seq);
            }
        }
    }
}

/// Publishes `request` to the cluster and delivers it to this node's subscribers.
pub(super) async fn publish(
    shared: &Shared,
    request: PublishRequest,
) -> Result<PublishReceipt, BrokerError> {
    let PublishRequest {
        channel,
        data,
        exclude,
        history: _,
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
    let (head, tail) = envelope::encode_parts(&shared.settings.node_id, time, &data);
    let (seq, others) = PUBLISH
        .key(keys.seq(&channel))
        .key(&keys.nodes)
        .arg(keys.channel(&channel))
        .arg(shared.sequences.floor(&channel))
        .arg(head)
        .arg(tail)
        .arg(keys.node_prefix())
        .arg(&shared.settings.node_id)
        .arg(&channel)
        .invoke_async::<(u64, u64)>(&mut connection)
        .await
        .map_err(|error| unavailable(shared, &channel, time, error.to_string()))?;
    shared.sequences.observe(&channel, seq);
    let others = others as usize;
    let publication = Publication {
        channel,
        seq,
        time,
        data,
        exclude,
    };
    let local = shared.hub.deliver(&publication);
    Ok(PublishReceipt {
        seq,
        subscribers: local + others,
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

//! Cluster-wide presence.
//!
//! Each node keeps, per channel with presence, a hash `<prefix>!presence:<channel>!<node>`
//! (client id → member JSON) listed in the set `<prefix>!presence:<channel>`. Both expire
//! after `--redis-ttl` unless refreshed; the node rewrites its hashes from its local
//! subscribers every third of the TTL, so a node that dies drops out within one TTL and a
//! change lost to an outage or a full queue heals at the next refresh.
//!
//! Changes are queued (bounded, [`QUEUE`]) to one worker, so subscribing never waits for
//! Redis; with `join-leave` the worker also publishes the change on the channel's Redis
//! channel, where every node (this one included) turns it into `join`/`leave` frames.

use super::{envelope, Shared};
use crate::broker::{BrokerError, Presence, PresenceChange};
use crate::clock::now_millis;
use crate::logging::LogThrottle;
use howl_protocol::Member;
use redis::aio::MultiplexedConnection;
use redis::{RedisError, Script};
use std::collections::HashSet;
use std::sync::atomic::Ordering::Relaxed;
use std::sync::{Arc, LazyLock};
use tokio::sync::mpsc;
use tokio::time::{Instant, MissedTickBehavior};
use tokio_util::sync::CancellationToken;
use tracing::warn;

/// Presence changes waiting for Redis at most; more are dropped (counted in
/// `howl_presence_dropped_total`) and repaired by the next refresh.
pub(super) const QUEUE: usize = 10_000;

/// One queued change.
pub(super) struct Change {
    channel: String,
    change: PresenceChange,
    announce: bool,
}

/// The sending side, held by the broker.
pub(super) struct Queue {
    sender: mpsc::Sender<Change>,
    log: LogThrottle,
}

impl Queue {
    /// A queue and the receiver its worker drains.
    pub(super) fn new() -> (Self, mpsc::Receiver<Change>) {
        let (sender, receiver) = mpsc::channel(QUEUE);
        let queue = Self {
            sender,
            log: LogThrottle::default(),
        };
        (queue, receiver)
    }
}

/// Queues a change without waiting; a full queue drops it.
pub(super) fn queue(shared: &Shared, channel: &str, change: PresenceChange, announce: bool) {
    shared
        .metrics
        .streams
        .presence_changes
        .fetch_add(1, Relaxed);
    let change = Change {
        channel: channel.to_owned(),
        change,
        announce,
    };
    if shared.presence.sender.try_send(change).is_err() {
        dropped(shared, &shared.presence.log, "the presence queue is full");
    }
}

fn dropped(shared: &Shared, log: &LogThrottle, reason: &str) {
    shared
        .metrics
        .streams
        .presence_dropped
        .fetch_add(1, Relaxed);
    if log.ready(now_millis()) {
        warn!(reason, "a presence change was not written to Redis");
    }
}

/// KEYS: the channel's node set. ARGV: the channel's hash prefix, this node's id, the most
/// members to list. Returns the other nodes' member count and, within the limit, their
/// members' JSON; forgets nodes whose hash expired.
static READ: LazyLock<Script> = LazyLock::new(|| {
    Script::new(
        r"
local count, hashes = 0, {}
for _, node in ipairs(redis.call('SMEMBERS', KEYS[1])) do
  if node ~= ARGV[2] then
    local n = redis.call('HLEN', ARGV[1] .. node)
    if n == 0 then
      redis.call('SREM', KEYS[1], node)
    else
      count = count + n
      hashes[#hashes + 1] = ARGV[1] .. node
    end
  end
end
local members = {}
if count <= tonumber(ARGV[3]) then
  for _, key in ipairs(hashes) do
    for _, member in ipairs(redis.call('HVALS', key)) do members[#members + 1] = member end
  end
end
return {count, members}
",
    )
});

/// Who is in `channel`: this node's members from the hub, the others' from Redis.
pub(super) async fn read(
    shared: &Shared,
    channel: &str,
    max: usize,
) -> Result<Presence, BrokerError> {
    let Some(mut connection) = shared.link.connection() else {
        return Err(BrokerError::Unavailable("no connection to Redis".into()));
    };
    let keys = &shared.keys;
    let (remote, json): (u64, Vec<String>) = READ
        .key(keys.presence_nodes(channel))
        .arg(keys.presence_prefix(channel))
        .arg(&shared.settings.node_id)
        .arg(max)
        .invoke_async(&mut connection)
        .await
        .map_err(|e| BrokerError::Unavailable(format!("reading presence from Redis: {e}")))?;
    let (local, mut members) = shared.hub.members(channel, max);
    let count = remote + local as u64;
    if count > max as u64 {
        return Ok(Presence {
            count,
            members: None,
        });
    }
    for text in json {
        match serde_json::from_str::<Member>(&text) {
            Ok(member) => members.push(member),
            Err(_) => {
                shared.metrics.broker_invalid_payloads.fetch_add(1, Relaxed);
            }
        }
    }
    Ok(Presence {
        count,
        members: Some(members),
    })
}

/// Writes queued changes and refreshes this node's presence until `shutdown`, then removes
/// it from Redis.
pub(super) async fn run(
    shared: Arc<Shared>,
    mut changes: mpsc::Receiver<Change>,
    shutdown: CancellationToken,
) {
    let log = LogThrottle::default();
    let mut channels = HashSet::new();
    let refresh = shared.settings.refresh();
    let mut ticker = tokio::time::interval_at(Instant::now() + refresh, refresh);
    ticker.set_missed_tick_behavior(MissedTickBehavior::Delay);
    loop {
        tokio::select! {
            _ = shutdown.cancelled() => break,
            Some(change) = changes.recv() => {
                channels.insert(change.channel.clone());
                let written = match shared.link.connection() {
                    Some(mut connection) => apply(&shared, &mut connection, &change).await,
                    None => Err(RedisError::from(std::io::Error::other("no connection"))),
                };
                if written.is_err() {
                    dropped(&shared, &log, "Redis is unreachable");
                }
            }
            _ = ticker.tick() => {
                if let Some(mut connection) = shared.link.connection() {
                    if let Err(error) = rewrite(&shared, &mut connection, &mut channels).await {
                        warn!(%error, "could not refresh this node's presence in Redis");
                    }
                }
            }
        }
    }
    if let Some(mut connection) = shared.link.connection() {
        let mut pipe = redis::pipe();
        for channel in &channels {
            let hash = shared.keys.presence(channel, &shared.settings.node_id);
            pipe.cmd("DEL").arg(hash).ignore();
        }
        if let Err(error) = pipe.query_async::<()>(&mut connection).await {
            warn!(%error, "could not remove this node's presence from Redis");
        }
    }
}

fn ttl_millis(shared: &Shared) -> u64 {
    shared.settings.ttl.as_millis().max(1) as u64
}

/// Writes one change (and publishes it with `announce`), atomically.
async fn apply(
    shared: &Shared,
    connection: &mut MultiplexedConnection,
    change: &Change,
) -> Result<(), RedisError> {
    let keys = &shared.keys;
    let node = &shared.settings.node_id;
    let hash = keys.presence(&change.channel, node);
    let mut pipe = redis::pipe();
    pipe.atomic();
    let (member, joined) = match &change.change {
        PresenceChange::Join(member) => {
            let json = serde_json::to_string(member).expect("a member encodes");
            pipe.cmd("HSET").arg(&hash).arg(&member.client).arg(json);
            pipe.cmd("PEXPIRE").arg(&hash).arg(ttl_millis(shared));
            let index = keys.presence_nodes(&change.channel);
            pipe.cmd("SADD").arg(&index).arg(node);
            pipe.cmd("PEXPIRE").arg(&index).arg(ttl_millis(shared));
            (member, true)
        }
        PresenceChange::Leave(member) => {
            pipe.cmd("HDEL").arg(&hash).arg(&member.client);
            (member, false)
        }
    };
    if change.announce {
        let payload = envelope::encode_presence(node, member, joined);
        pipe.cmd("PUBLISH")
            .arg(keys.channel(&change.channel))
            .arg(payload);
    }
    pipe.query_async::<()>(connection).await
}

/// Rewrites this node's hash of every channel with presence from its local subscribers;
/// forgets channels without any.
async fn rewrite(
    shared: &Shared,
    connection: &mut MultiplexedConnection,
    channels: &mut HashSet<String>,
) -> Result<(), RedisError> {
    let keys = &shared.keys;
    let node = &shared.settings.node_id;
    let ttl = ttl_millis(shared);
    let mut pipe = redis::pipe();
    pipe.atomic();
    channels.retain(|channel| {
        let hash = keys.presence(channel, node);
        pipe.cmd("DEL").arg(&hash).ignore();
        let (_, members) = shared.hub.members(channel, usize::MAX);
        if members.is_empty() {
            return false;
        }
        for member in members {
            let json = serde_json::to_string(&member).expect("a member encodes");
            pipe.cmd("HSET")
                .arg(&hash)
                .arg(&member.client)
                .arg(json)
                .ignore();
        }
        pipe.cmd("PEXPIRE").arg(&hash).arg(ttl).ignore();
        let index = keys.presence_nodes(channel);
        pipe.cmd("SADD").arg(&index).arg(node).ignore();
        pipe.cmd("PEXPIRE").arg(&index).arg(ttl).ignore();
        true
    });
    pipe.query_async::<()>(connection).await
}

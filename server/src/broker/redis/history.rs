//! History reads: the channel's position and kept messages from its Redis stream, read in
//! one Lua step, so the position and the messages agree. A read starts the stream (a new
//! epoch, numbering continuing above what this node has seen) when Redis has none.
//! `complete` follows the embedded broker's rules exactly.

use super::{new_epoch, Shared};
use crate::broker::{BrokerError, History, HistoryQuery};
use crate::channel_options::HistoryPolicy;
use crate::clock::now_millis;
use crate::publication::Publication;
use howl_protocol::StreamPosition;
use redis::{Script, Value};
use serde_json::value::RawValue;
use std::sync::Arc;
use std::sync::LazyLock;

/// KEYS: the channel's meta hash, its stream. ARGV: a candidate epoch, the node's floor, the
/// history TTL (ms), the `since` epoch ('' for none), the `since` seq, the limit (-1: none).
/// Returns `{epoch, seq, first kept seq (0: none), entries, resumed}`: with a `since` of the
/// current epoch at or below `seq`, the entries after it, oldest first (`resumed` 1);
/// otherwise the latest `limit`, newest first.
static READ: LazyLock<Script> = LazyLock::new(|| {
    Script::new(
        r"
local epoch = redis.call('HGET', KEYS[1], 'epoch')
local seq
if not epoch then
  epoch = ARGV[1]
  seq = tonumber(ARGV[2])
  redis.call('DEL', KEYS[2])
  redis.call('HSET', KEYS[1], 'epoch', epoch, 'seq', seq)
  redis.call('PEXPIRE', KEYS[1], ARGV[3])
else
  seq = tonumber(redis.call('HGET', KEYS[1], 'seq'))
end
local limit = tonumber(ARGV[6])
local first = 0
local head = redis.call('XRANGE', KEYS[2], '-', '+', 'COUNT', 1)
if #head > 0 then first = tonumber(string.match(head[1][1], '^(%d+)')) end
local entries = {}
local resumed = 0
if ARGV[4] == epoch and tonumber(ARGV[5]) <= seq then
  resumed = 1
  if limit ~= 0 then
    local start = string.format('%d-0', tonumber(ARGV[5]) + 1)
    if limit > 0 then
      entries = redis.call('XRANGE', KEYS[2], start, '+', 'COUNT', limit)
    else
      entries = redis.call('XRANGE', KEYS[2], start, '+')
    end
  end
elseif limit > 0 then
  entries = redis.call('XREVRANGE', KEYS[2], '+', '-', 'COUNT', limit)
elseif limit < 0 then
  entries = redis.call('XREVRANGE', KEYS[2], '+', '-')
end
return {epoch, string.format('%d', seq), first, entries, resumed}
",
    )
});

/// Why a read's answer could not be used.
#[derive(Debug, thiserror::Error)]
#[error("unexpected history answer from Redis: {0}")]
struct Malformed(&'static str);

/// Reads `channel`'s stream as `query` asks.
pub(super) async fn read(
    shared: &Shared,
    channel: &str,
    query: HistoryQuery,
    policy: HistoryPolicy,
) -> Result<History, BrokerError> {
    let Some(mut connection) = shared.link.connection() else {
        return Err(BrokerError::Unavailable("no connection to Redis".into()));
    };
    let keys = &shared.keys;
    let ttl_ms = policy.ttl.as_millis().max(1) as u64;
    let (since_epoch, since_seq) = match &query.since {
        Some(since) => (since.epoch.as_str(), since.seq),
        None => ("", 0),
    };
    let limit = query.limit.map_or(-1, |l| l.min(i64::MAX as usize) as i64);
    let value: Value = READ
        .key(keys.meta(channel))
        .key(keys.stream(channel))
        .arg(&*new_epoch())
        .arg(shared.states.floor(channel))
        .arg(ttl_ms)
        .arg(since_epoch)
        .arg(since_seq)
        .arg(limit)
        .invoke_async(&mut connection)
        .await
        .map_err(|e| BrokerError::Unavailable(format!("reading history from Redis: {e}")))?;
    let history =
        parse(channel, &query, value).map_err(|e| BrokerError::Unavailable(e.to_string()))?;
    shared
        .states
        .observe(channel, history.position.seq, ttl_ms, now_millis());
    Ok(history)
}

fn text(value: &Value) -> Option<&str> {
    match value {
        Value::BulkString(bytes) => std::str::from_utf8(bytes).ok(),
        Value::SimpleString(text) => Some(text),
        _ => None,
    }
}

fn number(value: &Value) -> Option<u64> {
    match value {
        Value::Int(n) => u64::try_from(*n).ok(),
        other => text(other)?.parse().ok(),
    }
}

/// One stream entry `[id, [field, value, ...]]` as a publication.
fn entry(channel: &str, value: &Value) -> Result<Publication, Malformed> {
    let Value::Array(parts) = value else {
        return Err(Malformed("an entry is not an array"));
    };
    let [id, Value::Array(fields)] = parts.as_slice() else {
        return Err(Malformed("an entry is not [id, fields]"));
    };
    let seq = text(id)
        .and_then(|id| id.split('-').next())
        .and_then(|seq| seq.parse().ok())
        .ok_or(Malformed("an entry id is not <seq>-1"))?;
    let (mut time, mut data) = (None, None);
    for pair in fields.chunks_exact(2) {
        match text(&pair[0]) {
            Some("t") => time = number(&pair[1]),
            Some("d") => data = text(&pair[1]),
            _ => {}
        }
    }
    let data = data.ok_or(Malformed("an entry has no data"))?;
    let data = RawValue::from_string(data.to_owned()).map_err(|_| Malformed("data not JSON"))?;
    Ok(Publication {
        channel: channel.to_owned(),
        seq,
        time: time.unwrap_or(0),
        data,
        exclude: None,
    })
}

fn parse(channel: &str, query: &HistoryQuery, value: Value) -> Result<History, Malformed> {
    let Value::Array(parts) = value else {
        return Err(Malformed("not an array"));
    };
    let [epoch, seq, first, Value::Array(entries), resumed] = parts.as_slice() else {
        return Err(Malformed("not [epoch, seq, first, entries, resumed]"));
    };
    let epoch = text(epoch).ok_or(Malformed("no epoch"))?.to_owned();
    let seq = number(seq).ok_or(Malformed("no seq"))?;
    let first = number(first).ok_or(Malformed("no first seq"))?;
    let resumed = number(resumed) == Some(1);
    let mut publications = entries
        .iter()
        .map(|e| entry(channel, e).map(Arc::new))
        .collect::<Result<Vec<_>, _>>()?;
    let complete = match (&query.since, resumed) {
        (Some(since), true) => {
            // As the embedded broker: the stream still holds the message right after
            // `since`, and what was read reaches the stream's current `seq`.
            let first_kept = if first == 0 { seq + 1 } else { first };
            since.seq + 1 >= first_kept && publications.last().map_or(since.seq, |p| p.seq) == seq
        }
        _ => {
            publications.reverse();
            false
        }
    };
    Ok(History {
        position: StreamPosition { epoch, seq },
        publications,
        complete,
    })
}

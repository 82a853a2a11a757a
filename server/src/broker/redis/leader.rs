//! The distributor lock: one node of the cluster runs the quote distributor.
//!
//! The lock is a Redis key `<prefix>!distributor` holding the leader's node id with the TTL,
//! renewed every third of it. A node believes it leads only until the TTL, counted from when
//! it *sent* its last successful renewal, has nearly passed, which is before Redis can expire
//! the key: two nodes never both believe they lead. When the leader dies, the key expires and
//! another node takes it at its next attempt.

use super::Shared;
use parking_lot::Mutex;
use redis::Script;
use std::sync::Arc;
use std::sync::LazyLock;
use tokio::time::{Instant, MissedTickBehavior};
use tokio_util::sync::CancellationToken;
use tracing::{info, warn};

/// KEYS: the lock. ARGV: node id, TTL ms. Renews the lock if this node holds it, takes it if
/// it is free; returns 1 when this node holds it afterwards.
static ACQUIRE: LazyLock<Script> = LazyLock::new(|| {
    Script::new(
        r"
local holder = redis.call('GET', KEYS[1])
if holder == ARGV[1] then
  redis.call('PEXPIRE', KEYS[1], ARGV[2])
  return 1
end
if not holder then
  redis.call('SET', KEYS[1], ARGV[1], 'PX', ARGV[2])
  return 1
end
return 0
",
    )
});

/// KEYS: the lock. ARGV: node id. Deletes the lock if this node holds it.
static RELEASE: LazyLock<Script> = LazyLock::new(|| {
    Script::new(
        r"
if redis.call('GET', KEYS[1]) == ARGV[1] then return redis.call('DEL', KEYS[1]) end
return 0
",
    )
});

/// Until when this node may act as the leader.
#[derive(Default)]
pub(super) struct Lease {
    until: Mutex<Option<Instant>>,
}

impl Lease {
    /// Whether this node leads now.
    pub(super) fn held(&self) -> bool {
        self.until
            .lock()
            .is_some_and(|until| Instant::now() < until)
    }
}

/// Ends the lease when the task ends, even when aborted.
struct LapseOnDrop<'a>(&'a Shared);

impl Drop for LapseOnDrop<'_> {
    fn drop(&mut self) {
        *self.0.lease.until.lock() = None;
    }
}

/// Competes for the lock and renews it until `shutdown`, then releases it.
pub(super) async fn run(shared: Arc<Shared>, shutdown: CancellationToken) {
    let _lapse = LapseOnDrop(&shared);
    let ttl = shared.settings.ttl;
    // Kept for the release on shutdown, when the link may already have let go of its own.
    let mut last_connection = None;
    let mut ticker = tokio::time::interval(shared.settings.refresh());
    ticker.set_missed_tick_behavior(MissedTickBehavior::Delay);
    loop {
        tokio::select! {
            _ = shutdown.cancelled() => break,
            _ = ticker.tick() => {}
            // Competing right away, rather than at the next tick, gets quotes going sooner.
            _ = shared.link.connected() => {}
        }
        let Some(mut connection) = shared.link.connection() else {
            continue;
        };
        last_connection = Some(connection.clone());
        let held = shared.lease.held();
        // After an outage Redis may have lost the lock (a restart without persistence) while
        // the old leader's lease still runs: wait one TTL before taking a free lock, so the
        // old leader can renew first and two nodes never lead at once.
        if !held && shared.link.reconnected_within(ttl) {
            continue;
        }
        let sent = Instant::now();
        let result = ACQUIRE
            .key(&shared.keys.lock)
            .arg(&shared.settings.node_id)
            .arg(ttl.as_millis().max(1) as u64)
            .invoke_async::<i64>(&mut connection)
            .await;
        match result {
            Ok(1) => {
                // A tenth of the TTL is left as margin for clock-rate differences.
                *shared.lease.until.lock() = Some(sent + ttl - ttl / 10);
                if !held {
                    info!(node = %shared.settings.node_id, "this node now runs the quote distributor");
                }
            }
            Ok(_) => {
                *shared.lease.until.lock() = None;
                if held {
                    warn!("another node took the distributor lock");
                }
            }
            // The lease lapses on its own if renewals keep failing.
            Err(error) => warn!(%error, "could not renew the distributor lock"),
        }
    }
    if shared.lease.held() {
        *shared.lease.until.lock() = None;
        if let Some(mut connection) = last_connection {
            let released = RELEASE
                .key(&shared.keys.lock)
                .arg(&shared.settings.node_id)
                .invoke_async::<i64>(&mut connection)
                .await;
            if let Err(error) = released {
                warn!(%error, "could not release the distributor lock");
            }
        }
    }
}

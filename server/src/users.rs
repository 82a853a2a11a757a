//! This node's connections by user, so the server API can act on every connection of a
//! user: subscribe it to a channel, unsubscribe it, disconnect it
//! (`POST /api/users/{user}/...`). Brokers carry a [`UserCommand`] to every node; each node
//! hands it to its own connections of that user here.

use crate::hub::ConnId;
use crate::logging::LogThrottle;
use crate::metrics::Metrics;
use parking_lot::Mutex;
use serde::{Deserialize, Serialize};
use std::collections::HashMap;
use std::hash::{BuildHasher, RandomState};
use std::sync::atomic::Ordering::Relaxed;
use std::sync::Arc;
use tokio::sync::mpsc;
use tracing::warn;

const SHARDS: usize = 16;

/// Commands that may wait for one connection. A connection takes them between frames, so
/// only a burst of API calls at a connection stuck in a blocked write fills this.
const QUEUE: usize = 64;

/// What the server API asks of every connection of a user.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[serde(tag = "op", rename_all = "snake_case")]
pub enum UserCommand {
    /// Subscribe to `channel` (told with a `subscribed` event).
    Subscribe {
        /// The validated channel name.
        channel: String,
    },
    /// Unsubscribe from `channel` (told with an `unsubscribed` event).
    Unsubscribe {
        /// The validated channel name.
        channel: String,
    },
    /// Close the connection with 4006; the client does not reconnect.
    Disconnect,
}

/// The commands waiting for one connection.
pub type Commands = mpsc::Receiver<UserCommand>;

type Shard = HashMap<String, Vec<(ConnId, mpsc::Sender<UserCommand>)>>;

/// The node's authenticated connections, by user id.
pub struct Users {
    shards: Box<[Mutex<Shard>]>,
    hasher: RandomState,
    metrics: Arc<Metrics>,
    overflow_log: LogThrottle,
}

impl Users {
    /// An empty table reporting into `metrics`.
    pub fn new(metrics: Arc<Metrics>) -> Self {
        Self {
            shards: (0..SHARDS).map(|_| Mutex::default()).collect(),
            hasher: RandomState::new(),
            metrics,
            overflow_log: LogThrottle::default(),
        }
    }

    fn shard(&self, user: &str) -> &Mutex<Shard> {
        &self.shards[self.hasher.hash_one(user) as usize % SHARDS]
    }

    /// Adds connection `conn` of `user`; its commands arrive on the returned queue until
    /// [`Users::remove`].
    pub fn add(&self, user: &str, conn: ConnId) -> Commands {
        let (sender, receiver) = mpsc::channel(QUEUE);
        self.shard(user)
            .lock()
            .entry(user.to_owned())
            .or_default()
            .push((conn, sender));
        receiver
    }

    /// Removes connection `conn` of `user` (no-op when absent).
    pub fn remove(&self, user: &str, conn: ConnId) {
        let mut shard = self.shard(user).lock();
        if let Some(connections) = shard.get_mut(user) {
            connections.retain(|(c, _)| *c != conn);
            if connections.is_empty() {
                shard.remove(user);
            }
        }
    }

    /// Hands `command` to every local connection of `user`; returns how many took it. A
    /// connection whose queue is full misses it: counted and logged.
    pub fn apply(&self, user: &str, command: &UserCommand) -> usize {
        let shard = self.shard(user).lock();
        let Some(connections) = shard.get(user) else {
            return 0;
        };
        let mut reached = 0;
        for (conn, sender) in connections {
            match sender.try_send(command.clone()) {
                Ok(()) => reached += 1,
                // The connection is ending; it leaves every channel anyway.
                Err(mpsc::error::TrySendError::Closed(_)) => {}
                Err(mpsc::error::TrySendError::Full(_)) => {
                    self.metrics.user_commands_dropped.fetch_add(1, Relaxed);
                    if self.overflow_log.ready(crate::clock::now_millis()) {
                        warn!(
                            conn,
                            queue = QUEUE,
                            "a connection's user command queue is full: command dropped"
                        );
                    }
                }
            }
        }
        reached
    }

    /// How many local connections `user` has.
    pub fn connections(&self, user: &str) -> usize {
        self.shard(user).lock().get(user).map_or(0, Vec::len)
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn subscribe(channel: &str) -> UserCommand {
        UserCommand::Subscribe {
            channel: channel.into(),
        }
    }

    #[test]
    fn commands_reach_every_connection_of_the_user_only() {
        let users = Users::new(Arc::default());
        let mut alice1 = users.add("alice", 1);
        let mut alice2 = users.add("alice", 2);
        let mut bob = users.add("bob", 3);
        assert_eq!(users.apply("alice", &subscribe("news")), 2);
        assert_eq!(alice1.try_recv().unwrap(), subscribe("news"));
        assert_eq!(alice2.try_recv().unwrap(), subscribe("news"));
        assert!(bob.try_recv().is_err());
        assert_eq!(users.apply("carol", &UserCommand::Disconnect), 0);

        users.remove("alice", 1);
        assert_eq!(users.connections("alice"), 1);
        assert_eq!(users.apply("alice", &UserCommand::Disconnect), 1);
        users.remove("alice", 2);
        assert_eq!(users.connections("alice"), 0);
    }

    #[test]
    fn a_full_queue_drops_and_counts_the_command() {
        let metrics = Arc::new(Metrics::default());
        let users = Users::new(metrics.clone());
        let _queue = users.add("alice", 1);
        for _ in 0..QUEUE {
            assert_eq!(users.apply("alice", &UserCommand::Disconnect), 1);
        }
        assert_eq!(users.apply("alice", &UserCommand::Disconnect), 0);
        assert_eq!(metrics.user_commands_dropped.load(Relaxed), 1);
    }

    #[test]
    fn commands_encode_with_an_op() {
        let text = serde_json::to_string(&subscribe("a:b")).unwrap();
        assert_eq!(text, r#"{"op":"subscribe","channel":"a:b"}"#);
        let back: UserCommand = serde_json::from_str(r#"{"op":"disconnect"}"#).unwrap();
        assert_eq!(back, UserCommand::Disconnect);
    }
}

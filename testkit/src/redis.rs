//! Cluster harness: a real `redis-server` on a free 127.0.0.1 port (no persistence, killed on
//! drop) and `howl` [`Node`]s using it that can be killed without goodbye.

use crate::wait::{eventually, until};
use crate::{TestServer, WAIT};
use ::redis::aio::MultiplexedConnection;
use std::process::{Child, Command, Stdio};

const REDIS_SERVER: &str = "/usr/bin/redis-server";

/// A `redis-server` child process.
pub struct RedisServer {
    /// The port it listens on (kept across restarts).
    pub port: u16,
    child: Option<Child>,
}

impl RedisServer {
    /// Starts Redis on a free port and waits until it answers.
    pub async fn start() -> Self {
        assert!(
            std::path::Path::new(REDIS_SERVER).exists(),
            "{REDIS_SERVER} is missing: install it with `apt-get install redis-server`"
        );
        // Another process may take the free port before Redis binds it: try a few.
        for _ in 0..5 {
            let mut server = Self {
                port: crate::free_port(),
                child: None,
            };
            if server.spawn().await {
                return server;
            }
        }
        panic!("redis-server did not start on any free port");
    }

    /// The URL nodes and clients connect to.
    pub fn url(&self) -> String {
        format!("redis://127.0.0.1:{}", self.port)
    }

    /// Starts the process and waits until it answers (true) or exits (false).
    async fn spawn(&mut self) -> bool {
        let mut child = Command::new(REDIS_SERVER)
            .args(["--port", &self.port.to_string(), "--bind", "127.0.0.1"])
            .args(["--save", "", "--appendonly", "no"])
            .stdout(Stdio::null())
            .stderr(Stdio::null())
            .spawn()
            .expect("redis-server starts");
        let url = self.url();
        let what = format!("redis-server on port {} to answer", self.port);
        let answered = until(&what, WAIT, || {
            let exited = matches!(child.try_wait(), Ok(Some(_)));
            let url = url.clone();
            async move {
                Ok(if exited {
                    Some(false)
                } else {
                    ping(&url).await.then_some(true)
                })
            }
        })
        .await;
        match answered {
            Ok(true) => {
                self.child = Some(child);
                true
            }
            Ok(false) => false,
            Err(e) => {
                let _ = child.kill();
                let _ = child.wait();
                panic!("{e}");
            }
        }
    }

    /// Kills Redis (SIGKILL) and waits until the process is gone.
    pub fn kill(&mut self) {
        if let Some(mut child) = self.child.take() {
            let _ = child.kill();
            let _ = child.wait();
        }
    }

    /// Starts Redis again on the same port, empty (nothing was persisted).
    pub async fn restart(&mut self) {
        self.kill();
        assert!(self.spawn().await, "redis-server restarts on its port");
    }

    /// A fresh client connection, e.g. for a backend's raw `PUBLISH`.
    pub async fn connection(&self) -> MultiplexedConnection {
        ::redis::Client::open(self.url())
            .unwrap()
            .get_multiplexed_async_connection()
            .await
            .unwrap()
    }

    /// `PUBLISH channel payload` from a plain Redis client; returns how many Redis
    /// subscribers (nodes) received it.
    pub async fn publish(&self, channel: &str, payload: impl ::redis::ToRedisArgs) -> i64 {
        ::redis::cmd("PUBLISH")
            .arg(channel)
            .arg(payload)
            .query_async(&mut self.connection().await)
            .await
            .unwrap()
    }

    /// How many Redis connections subscribe to `channel` (`PUBSUB NUMSUB`).
    pub async fn numsub(&self, channel: &str) -> i64 {
        let (_, count): (String, i64) = ::redis::cmd("PUBSUB")
            .arg("NUMSUB")
            .arg(channel)
            .query_async(&mut self.connection().await)
            .await
            .unwrap();
        count
    }
}

impl Drop for RedisServer {
    fn drop(&mut self) {
        self.kill();
    }
}

/// Whether a Redis at `url` answers `PING`.
async fn ping(url: &str) -> bool {
    let Ok(client) = ::redis::Client::open(url) else {
        return false;
    };
    let Ok(mut connection) = client.get_multiplexed_async_connection().await else {
        return false;
    };
    ::redis::cmd("PING")
        .query_async::<String>(&mut connection)
        .await
        .is_ok()
}

/// A `howl` node in this process, linked to a Redis.
pub struct Node {
    /// Its `--node-id`.
    pub id: String,
    server: TestServer,
}

impl Node {
    /// Starts node `id` on `redis` with `flags`; unless given, the Redis TTL is 0.6 s and
    /// the distributor is off. Returns once the node is connected to Redis.
    pub async fn start(redis: &RedisServer, id: &str, flags: &[&str]) -> Self {
        let url = redis.url();
        let mut args = vec!["--redis-url", &url, "--node-id", id];
        if !flags.contains(&"--redis-ttl") {
            args.extend(["--redis-ttl", "0.6"]);
        }
        if !flags.contains(&"--quote-interval") {
            args.extend(["--quote-interval", "0"]);
        }
        args.extend(flags);
        let node = Self {
            id: id.to_owned(),
            server: TestServer::start(&args).await,
        };
        eventually(&format!("node {id} is connected to Redis"), || async {
            node.health().await["status"] == "ok"
        })
        .await;
        node
    }

    /// Kills the node without goodbye: its server task is aborted, so it stops refreshing
    /// its counts and its lock in Redis.
    pub async fn kill(&mut self) {
        self.server.kill().await;
    }

    /// Graceful shutdown; waits for `run` to return.
    pub async fn shutdown(&mut self) {
        self.server.shutdown().await.unwrap();
    }
}

impl std::ops::Deref for Node {
    type Target = TestServer;
    fn deref(&self) -> &TestServer {
        &self.server
    }
}

/// Waits until every node reports `expected` subscribers on `channel`.
pub async fn counts_agree(nodes: &[&Node], channel: &str, expected: u64) {
    for node in nodes {
        eventually(
            &format!("node {} counts {expected} on {channel}", node.id),
            || async { node.channel_count(channel).await == Some(expected) },
        )
        .await;
    }
}

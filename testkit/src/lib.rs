//! Test support for Howl, shared by the server's, the tools' and the browser (e2e) tests.
//!
//! Real parts only:
//! - [`server`]: a real `howl` on 127.0.0.1 (port 0, kept across restarts), either on the
//!   test's own runtime ([`TestServer`]) or on a thread and runtime of its own
//!   ([`ThreadedServer`]), stopped gracefully, killed without goodbye, restarted; both
//!   dereference to an [`Endpoint`] with the HTTP requests tests make.
//! - [`client`]: a WebSocket [`Client`] speaking raw protocol frames.
//! - [`redis`]: a real `redis-server` on a free port and cluster [`Node`]s using it.
//! - [`tool`]: a binary (e.g. `howl-pub`) as a child process whose output lines are awaited.
//! - [`wait`]: polling a condition with a deadline.
//!
//! Every wait has a timeout ([`WAIT`] unless said otherwise); nothing sleeps for an outcome.

pub mod client;
pub mod redis;
pub mod server;
pub mod token;
pub mod tool;
pub mod wait;

pub use crate::redis::{Node, RedisServer};
pub use client::Client;
pub use server::{Endpoint, TestServer, ThreadedServer};
pub use tokio_tungstenite::tungstenite;
pub use tool::Tool;
pub use wait::{eventually, until};

use std::time::Duration;

/// How long any single expected event may take before a test fails.
pub const WAIT: Duration = Duration::from_secs(20);

/// How often a polled condition is checked again.
pub const POLL: Duration = Duration::from_millis(20);

/// A free TCP port on 127.0.0.1 (bound and released; for programs that cannot take port 0).
pub fn free_port() -> u16 {
    std::net::TcpListener::bind("127.0.0.1:0")
        .and_then(|listener| listener.local_addr())
        .expect("a free port on 127.0.0.1")
        .port()
}

/// The `epoch` of a `subscribe_confirmation` or `history_result` frame's payload, checked to
/// be the 8-character string the hub makes; panics otherwise.
pub fn epoch_of(frame: &str) -> String {
    let value: serde_json::Value = serde_json::from_str(frame).expect("a JSON frame");
    let epoch = value["payload"]["epoch"]
        .as_str()
        .unwrap_or_else(|| panic!("no epoch in {frame}"));
    assert_eq!(epoch.len(), 8, "an 8-character epoch in {frame}");
    epoch.to_owned()
}

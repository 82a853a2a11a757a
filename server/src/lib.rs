//! Howl: a real-time pub/sub WebSocket hub.
//!
//! A map of the crate, from the socket inwards:
//! - [`server`]: routes, the WebSocket upgrade and [`run`] with graceful shutdown.
//! - [`http_server`]: serving HTTP/1 on each TCP connection, with its timeouts; the limits
//!   of `/api`.
//! - [`transport`]: the WebSocket protocol: upgrade, framing once per message, reading.
//! - [`connection`]: one WebSocket's I/O loop.
//! - [`session`]: the protocol rules of one connection, without I/O.
//! - [`auth`]: connection tokens (JWT) and the key they are checked against.
//! - [`permissions`]: who may subscribe and publish where (namespaces, personal channels).
//! - [`channel_options`]: what each namespace's channels keep (history, presence).
//! - [`outbox`]: a connection's bounded queue of outgoing frames, and the writes to its
//!   socket (the fan-out's corked flush, the connection's writer).
//! - [`rate`]: the token buckets behind the per-connection rate limits.
//! - [`limits`]: how many connections the node holds, in total and per client address.
//! - [`node`]: the node's shared state and the operations on it.
//! - [`hub`]: local channels, their subscribers and watchers, and the fan-out.
//! - [`users`]: local connections by user, for the server API's user commands.
//! - [`publication`]: a published message and the frames it is delivered as.
//! - [`broker`]: how publications reach every node ([`broker::MemoryBroker`] for one node).
//! - [`http_api`]: publish and list channels over HTTP; health and metrics.
//! - [`distributor`] and [`quotes`]: the built-in wolf-wisdom publisher.
//! - [`ui`]: the demo web UI at `/`.
//! - [`config`], [`logging`], [`metrics`], [`clock`]: settings, log output, Prometheus
//!   figures, the wall clock.

pub mod auth;
pub mod broker;
pub mod channel_options;
pub mod clock;
pub mod config;
pub mod connection;
pub mod distributor;
pub mod http_api;
pub mod http_server;
pub mod hub;
pub mod limits;
pub mod logging;
pub mod metrics;
pub mod node;
pub mod outbox;
pub mod permissions;
pub mod publication;
pub mod quotes;
pub mod rate;
pub mod server;
pub mod session;
pub mod transport;
pub mod ui;
pub mod users;

pub use config::Config;
pub use node::Node;
pub use server::{run, run_with_node, Listeners, ServerError};

/// Internals the fuzz targets in `fuzz/` call directly. Not a stable API: nothing else should
/// use it.
#[doc(hidden)]
pub mod fuzzing {
    pub use crate::broker::redis::envelope::{
        decode as decode_redis_envelope, encode_parts as encode_redis_envelope,
        DecodeError as RedisDecodeError, Incoming as RedisIncoming,
    };
}

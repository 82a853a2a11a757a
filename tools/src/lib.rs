//! Howl's native tools: a publisher, a subscriber and the fan-out load generator.
//!
//! A map of the crate:
//! - [`target`]: parsing `ws://` URLs and checking that a target is a loopback address.
//! - [`clock`]: wall-clock milliseconds, for latencies measured against server timestamps.
//! - [`driver`]: runs a sans-IO [`howl_client_core::ClientSession`] over tokio-tungstenite.
//! - [`publisher`]: `howl-pub`, which publishes only while its channel has subscribers.
//! - [`subscriber`]: `howl-sub`, which prints each message with its latency.
//! - [`bench`](mod@bench): `howl-bench`, the load generator and its report.
//! - [`logging`]: log output of the binaries.
//! - [`signal`]: ending on Ctrl-C or SIGTERM.

pub mod bench;
pub mod clock;
pub mod driver;
pub mod logging;
pub mod publisher;
pub mod signal;
pub mod subscriber;
pub mod target;

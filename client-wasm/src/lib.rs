//! Howl's browser SDK.
//!
//! Binds the sans-IO session of [`howl_client_core`] to the browser's `WebSocket` and timers.
//! Two faces over one engine:
//!
//! - for Rust front ends (e.g. Leptos): [`Client`] — callbacks for state, messages and every
//!   session event (signal-friendly: set a signal inside the callback), futures ([`Reply`])
//!   for subscribe/unsubscribe/connect, typed [`Error`]s. No UI framework dependency.
//! - for JavaScript/TypeScript: the `HowlClient` class exported through wasm-bindgen
//!   ([`js::HowlClient`]), with `.d.ts` typings; errors are `Error` objects with a `code`.
//!
//! A client that is not closed keeps itself alive (like a browser `WebSocket`); reaching the
//! closed state — `disconnect()`, or giving up reconnecting — stops its timer, closes its
//! socket and releases every callback it holds.
//!
//! For a hub in secured mode the client gets connection tokens (a static one, or from a
//! `getToken` callback before every connection attempt and before `exp`, renewed with
//! `refresh` without reconnecting) and subscription tokens (`getSubscriptionToken`, before
//! every subscribe). Close 4003 (token refused) ends the client with an `unauthorized` error;
//! close 4004 (token expired) makes it reconnect with a new token.
//!
//! Modules:
//! - [`client`]: the Rust API.
//! - [`builder`]: a client with settings, token callbacks and connect limits
//!   ([`AbortHandle`]).
//! - [`js`]: the JavaScript API.
//! - [`subscription`]: one channel — subscribe, listen, publish with confirmation, history,
//!   presence, recovery after a reconnect.
//! - [`reply`]: the future a request resolves.
//! - [`error`]: the SDK's error type.
//! - `connect`: waiting for a client to open, with a timeout and an abort (both APIs).
//! - `driver`: the I/O engine (socket, timer, event dispatch) shared by both APIs.
//! - `tokens`: running the application's token callbacks when the session asks.
//! - `lifecycle`: the page's visibility and network state, fed to the session.
//! - `platform`: clock, timers, URL resolution and console through the JS global scope.

pub mod builder;
pub mod client;
mod connect;
mod driver;
pub mod error;
pub mod js;
mod lifecycle;
mod platform;
pub mod reply;
pub mod subscription;
mod tokens;

pub use builder::ClientBuilder;
pub use client::{Client, ListenerId};
pub use connect::AbortHandle;
pub use error::Error;
pub use howl_client_core::{
    ClientConfig, ClientError, CloseReason, ConnectionState, ErrorCode, ErrorPayload, Event,
    History, HistoryOptions, LostReason, Member, Message, Presence, PublishAck, ReconnectPolicy,
    Stats, StreamPosition, TokenSource, DEFAULT_CHANNEL,
};
pub use reply::Reply;
pub use subscription::{ListenerGuard, SubscribedInfo, Subscription};

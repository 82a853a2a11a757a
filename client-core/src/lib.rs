//! The Howl client session, sans IO.
//!
//! [`ClientSession`] is a plain state machine over protocol frames and time. It owns everything a
//! client needs to be trustworthy — the `initial`/`connect` handshake, the set of channels the
//! application wants (re-subscribed after every reconnect), pending subscribe/unsubscribe
//! requests with timeouts, the ping schedule and dead-connection detection, reconnect backoff
//! with jitter, duplicate suppression, and recovery: each subscription remembers its place in
//! the channel's stream, a re-subscription after a reconnect asks for every message missed
//! since, and a gap in the live stream is filled from the channel's history — but performs no I/O and reads no clock. The caller
//! (the browser SDK in `howl-client-wasm`, or a native tokio client) feeds it inputs and carries
//! out its outputs:
//!
//! - inputs: [`ClientSession::connect`], [`ClientSession::on_open`], [`ClientSession::on_frame`],
//!   [`ClientSession::on_close`], [`ClientSession::tick`], the page's lifecycle
//!   [`ClientSession::on_visibility`] and [`ClientSession::on_network`], the answers
//!   [`ClientSession::provide_token`] and [`ClientSession::provide_subscription_token`], and the
//!   commands [`ClientSession::subscribe`], [`ClientSession::unsubscribe`],
//!   [`ClientSession::publish`], [`ClientSession::publish_confirmed`], [`ClientSession::watch`], [`ClientSession::unwatch`],
//!   [`ClientSession::history`], [`ClientSession::presence`], [`ClientSession::disconnect`];
//! - outputs: [`ClientSession::poll_output`] yields [`Output`]s (open a socket, send a frame, close
//!   the socket, get a token, or an [`Event`] for the application), and
//!   [`ClientSession::next_deadline`] says when to call [`ClientSession::tick`] next.
//!
//! Secured mode: with [`TokenSource::GetToken`] the session asks for a connection token before
//! every connection attempt and again shortly before its `exp` (then sends `refresh`). A
//! session that sent a token opens only once the server answered the `ping` that follows
//! `connect`, i.e. accepted the token. It stops for good on close 4003 (unauthorized) and
//! reconnects with a new token after 4004 (expired). See [`token`].
//!
//! Time is a `u64` of milliseconds from any monotonic clock the caller chooses
//! (`performance.now()` in a browser, `Instant` elapsed natively); only differences matter.
//!
//! ```
//! use howl_client_core::{ConnectionState, Event, Output, ClientSession, ClientConfig};
//!
//! let mut session = ClientSession::new(ClientConfig::default(), 42).unwrap();
//! let mut now = 0; // ms, from the caller's monotonic clock
//! session.connect(now);
//! session.subscribe(None, now); // the default channel, sent once the connection is open
//! // The caller's loop: carry out every output after every input.
//! let mut sent = Vec::new();
//! let mut drain = |session: &mut ClientSession, sent: &mut Vec<String>| {
//!     while let Some(output) = session.poll_output() {
//!         match output {
//!             Output::OpenSocket => { /* open a WebSocket to the server */ }
//!             Output::Send(frame) => sent.push(frame),
//!             Output::Close { code, .. } => { /* close the socket with `code`, drop it */ }
//!             Output::Event(Event::Message(m)) => println!("{}: {}", m.channel, m.data),
//!             Output::Event(other) => println!("{other:?}"),
//!             // Secured mode only (see `token`): answer with `provide_token` and friends.
//!             Output::GetToken(_) | Output::GetSubscriptionToken { .. } => {}
//!         }
//!     }
//! };
//! drain(&mut session, &mut sent);
//! now += 5;
//! session.on_open(now);
//! session.on_frame(r#"{"type":"initial","payload":{"id":"abc"}}"#, now);
//! drain(&mut session, &mut sent);
//! assert_eq!(session.state(), ConnectionState::Open);
//! assert_eq!(sent, [
//!     r#"{"type":"connect","payload":{"id":"abc"}}"#,
//!     r#"{"type":"subscribe","payload":{"id":"abc","channel":"wisdom"}}"#,
//! ]);
//! // Timers: call `tick` at `next_deadline` (the first ping is due 5 s after opening).
//! assert_eq!(session.next_deadline(), Some(5_005));
//! ```
//!
//! Modules:
//! - [`config`]: timeouts, ping interval, the reconnect policy and where tokens come from.
//! - [`token`]: token sources, and reading a JWT's `exp` to schedule its renewal.
//! - [`backoff`]: exponential reconnect delays with jitter.
//! - [`rng`]: the tiny seedable random generator behind the jitter.
//! - [`dedup`]: per-channel duplicate suppression by sequence number.
//! - [`event`]: what the session asks the caller to do and tells the application.
//! - [`history`]: stream positions, channel history and presence.
//! - [`error`]: typed errors and the reasons a connection ended.
//! - [`session`]: the state machine itself.

pub mod backoff;
pub mod config;
pub mod dedup;
pub mod error;
pub mod event;
pub mod history;
pub mod rng;
pub mod session;
pub mod token;
mod vecmap;

pub use backoff::ReconnectPolicy;
pub use config::ClientConfig;
pub use error::{ClientError, CloseReason, LostReason};
pub use event::{ConnectionState, Event, Message, Output, PublishAck, RequestId};
pub use history::{History, HistoryOptions, Member, Presence, StreamPosition};
pub use howl_protocol::{ErrorCode, ErrorPayload, DEFAULT_CHANNEL};
pub use session::{ClientSession, Stats};
pub use token::{TokenRequestId, TokenSource};

/// The close-code table, shared with the server (see [`howl_protocol::close`]).
pub use howl_protocol::close;

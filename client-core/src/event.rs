//! What the session asks of its caller ([`Output`]) and tells the application ([`Event`]).

use crate::error::{ClientError, CloseReason, LostReason};
use crate::token::TokenRequestId;
use howl_protocol::ErrorPayload;
use serde_json::Value;
use std::fmt;

/// Something the caller must do, or an event to hand to the application, in order.
#[derive(Debug, Clone, PartialEq)]
pub enum Output {
    /// Open a new WebSocket to the server, then report [`crate::ClientSession::on_open`],
    /// [`crate::ClientSession::on_frame`] and [`crate::ClientSession::on_close`] for it.
    OpenSocket,
    /// Send this text frame on the current socket.
    Send(String),
    /// Close the current socket with this code and reason, and drop it: report nothing more
    /// about it (its own close event included).
    Close {
        /// WebSocket close code ([`crate::close::NORMAL`] or a 4xxx code).
        code: u16,
        /// Short human-readable reason (fits the 123-byte limit).
        reason: &'static str,
    },
    /// Hand this to the application.
    Event(Event),
    /// Get a connection token (e.g. call the application's `getToken`) and hand it, or why
    /// there is none, to [`crate::ClientSession::provide_token`] with this id. Asked before
    /// every connection attempt with [`crate::TokenSource::GetToken`], and shortly before the
    /// current token expires (the session then sends `refresh`).
    GetToken(TokenRequestId),
    /// Get a subscription token for `channel` (e.g. call the application's
    /// `getSubscriptionToken`) and hand it to
    /// [`crate::ClientSession::provide_subscription_token`] with this id. Asked before every
    /// subscribe when [`crate::ClientConfig::get_subscription_token`] is set.
    GetSubscriptionToken {
        /// Names the answer.
        request: TokenRequestId,
        /// The channel to subscribe to.
        channel: String,
    },
}

/// The connection's state as the application sees it.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
pub enum ConnectionState {
    /// The first connection is being established.
    Connecting,
    /// The handshake is done (with a token: the server answered the ping sent right after
    /// `connect`, so it accepted the token); frames flow.
    Open,
    /// The connection was lost; waiting for or making a reconnect attempt.
    Reconnecting,
    /// Not connected and not trying: before `connect`, after `disconnect`, or after giving up.
    Closed,
}

impl ConnectionState {
    /// Lower-case name: `"connecting"`, `"open"`, `"reconnecting"` or `"closed"`.
    pub fn as_str(self) -> &'static str {
        match self {
            Self::Connecting => "connecting",
            Self::Open => "open",
            Self::Reconnecting => "reconnecting",
            Self::Closed => "closed",
        }
    }
}

impl fmt::Display for ConnectionState {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(self.as_str())
    }
}

/// Identifies a subscribe, unsubscribe or confirmed publish; its outcome arrives as
/// [`Event::RequestDone`] (or [`Event::PublishDone`]) with the same id.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, PartialOrd, Ord)]
pub struct RequestId(pub u64);

/// The server accepted a publish ([`crate::ClientSession::publish_confirmed`]).
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
pub struct PublishAck {
    /// The sequence number the channel gave the message.
    pub seq: u64,
}

/// A message pushed on a subscribed channel.
#[derive(Debug, Clone, PartialEq)]
pub struct Message {
    /// The channel it was published to.
    pub channel: String,
    /// The published JSON value.
    pub data: Value,
    /// Per-channel sequence number (0: published into Redis without one, "not numbered").
    pub seq: u64,
    /// When the hub accepted it, in ms since the Unix epoch.
    pub time: u64,
}

/// Something the application should know about.
#[derive(Debug, Clone, PartialEq)]
pub enum Event {
    /// The connection state changed.
    StateChanged(ConnectionState),
    /// A message arrived on a subscribed channel (never twice for one channel and seq).
    Message(Message),
    /// A subscribe or unsubscribe request finished.
    RequestDone {
        /// The id [`crate::ClientSession::subscribe`] or [`crate::ClientSession::unsubscribe`] returned.
        id: RequestId,
        /// `Ok` once the server confirmed it.
        result: Result<(), ClientError>,
    },
    /// A publish made with [`crate::ClientSession::publish_confirmed`] was answered, or
    /// failed.
    PublishDone {
        /// The id `publish_confirmed` returned.
        id: RequestId,
        /// The message's `seq` once the server confirmed it.
        result: Result<PublishAck, ClientError>,
    },
    /// The server confirmed a subscribe of `channel`: the application's, or the session's own
    /// re-subscription after a reconnect (once per connection).
    SubscriptionConfirmed {
        /// The channel.
        channel: String,
    },
    /// The application unsubscribed from `channel` ([`crate::ClientSession::unsubscribe`]):
    /// no more of its messages are delivered.
    SubscriptionEnded {
        /// The channel.
        channel: String,
    },
    /// Re-subscribing a channel after a reconnect failed; the channel was dropped from the
    /// subscription set.
    SubscriptionFailed {
        /// The channel.
        channel: String,
        /// Why.
        error: ClientError,
    },
    /// A watched channel's occupancy (see [`crate::ClientSession::watch`]).
    ChannelStatus {
        /// The watched channel.
        channel: String,
        /// Whether it has at least one subscriber.
        occupied: bool,
    },
    /// An `error` frame not tied to a pending request (for example a refused `publish`).
    ServerError(ErrorPayload),
    /// The server answered a ping.
    Pong {
        /// Round-trip time of the ping, in ms.
        rtt_ms: u64,
        /// The server's clock, in ms since the Unix epoch.
        server_time: u64,
    },
    /// The current connection ended.
    ConnectionLost(LostReason),
    /// A reconnect attempt will start after `delay_ms`.
    ReconnectScheduled {
        /// 1 for the first attempt after a loss.
        attempt: u32,
        /// Milliseconds until the attempt.
        delay_ms: u64,
    },
    /// The session closed for good (followed by `StateChanged(Closed)`).
    Closed(CloseReason),
    /// The server sent a frame this client could not decode (unknown event types are not
    /// reported: they are ignored for forward compatibility).
    ProtocolViolation(String),
    /// No connection token could be obtained (the reason; never the token). Before a
    /// connection attempt, the attempt counts as failed and is retried with backoff; before
    /// the token's expiry, the server closes with 4004 at `exp` and the session reconnects
    /// with a new token.
    TokenUnavailable(String),
    /// The server subscribed this connection to `channel` (e.g. one listed in the connection
    /// token's `channels` claim): its messages are delivered. The server does so again after
    /// every reconnect; the session does not re-subscribe such channels itself.
    Subscribed {
        /// The channel.
        channel: String,
    },
    /// The server unsubscribed this connection from `channel`: no more of its messages are
    /// delivered, and it left the subscription set if it was there.
    Unsubscribed {
        /// The channel.
        channel: String,
    },
}

//! What the session asks of its caller ([`Output`]) and tells the application ([`Event`]).

use crate::error::{ClientError, CloseReason, LostReason};
use crate::history::{History, Member, Presence, StreamPosition};
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

/// Identifies a subscribe, unsubscribe, confirmed publish, history or presence request; its
/// outcome arrives as [`Event::RequestDone`] (or [`Event::PublishDone`],
/// [`Event::HistoryDone`], [`Event::PresenceDone`]) with the same id.
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
    /// re-subscription after a reconnect (once per connection). A re-subscription asks the
    /// server for every message missed since the last one delivered (`since`): with
    /// `recovered: Some(true)`, those `recovered_count` messages follow as ordinary
    /// [`Event::Message`]s before any live one; with `Some(false)` they are lost for good and
    /// an [`Event::Gap`] follows.
    SubscriptionConfirmed {
        /// The channel.
        channel: String,
        /// The stream's position when the subscription started (its epoch and last `seq`);
        /// `None` when the server sent none (the original protocol's channel, older servers).
        position: Option<StreamPosition>,
        /// `None` for a first subscription; for a re-subscription, whether every message
        /// missed while away follows.
        recovered: Option<bool>,
        /// How many missed messages follow (0 unless `recovered` is `Some(true)`).
        recovered_count: u64,
    },
    /// Messages of `channel` were lost for good: they could not be recovered after a
    /// reconnect (the epoch changed, or they fell out of the channel's history), or a gap in
    /// the live stream could not be filled from history. Delivery goes on after `to`.
    Gap {
        /// The channel.
        channel: String,
        /// The last position delivered before the gap.
        from: StreamPosition,
        /// The position delivery resumes after: every message after `from` up to and
        /// including `to` is missing (within one epoch, `to.seq - from.seq` messages).
        to: StreamPosition,
    },
    /// A [`crate::ClientSession::history`] request was answered, or failed (for example with
    /// the server's `not_available` when the channel keeps no history).
    HistoryDone {
        /// The id `history` returned.
        id: RequestId,
        /// The history, or why there is none.
        result: Result<History, ClientError>,
    },
    /// A [`crate::ClientSession::presence`] request was answered, or failed (`not_available`
    /// when the channel keeps no presence).
    PresenceDone {
        /// The id `presence` returned.
        id: RequestId,
        /// Who is subscribed, or why it is not known.
        result: Result<Presence, ClientError>,
    },
    /// Someone subscribed to `channel` (namespaces with `join-leave`).
    Join {
        /// The channel.
        channel: String,
        /// Who.
        member: Member,
    },
    /// Someone unsubscribed from `channel` (namespaces with `join-leave`).
    Leave {
        /// The channel.
        channel: String,
        /// Who.
        member: Member,
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

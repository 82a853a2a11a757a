//! What the caller reads: the state, the connection id, the subscription sets, diagnostic
//! counters, the outputs to carry out and when to call `tick` next.

use super::auth::Refresh;
use super::{ClientSession, Conn};
use crate::event::{ConnectionState, Output};
use crate::ClientConfig;

/// Counters of things the session dropped or ignored, for diagnostics.
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct Stats {
    /// Messages dropped because their (channel, seq) was already delivered.
    pub duplicates_dropped: u64,
    /// Messages dropped because their channel is not subscribed (e.g. after unsubscribing).
    pub unsolicited_dropped: u64,
    /// Frames of a type this version does not know, ignored.
    pub unknown_ignored: u64,
    /// Frames that could not be decoded (reported as [`crate::Event::ProtocolViolation`]).
    pub invalid_frames: u64,
    /// Frames that made no sense in the current state (e.g. a second `initial`), ignored.
    pub unexpected_ignored: u64,
    /// Successful reconnects.
    pub reconnects: u64,
    /// `refresh` frames sent (connection tokens renewed without reconnecting).
    pub refreshes: u64,
    /// Losses reported as [`crate::Event::Gap`].
    pub gaps: u64,
}

impl ClientSession {
    /// The settings.
    pub fn config(&self) -> &ClientConfig {
        &self.config
    }

    /// The connection state.
    pub fn state(&self) -> ConnectionState {
        self.state
    }

    /// The id the server assigned to the current connection (a new one after each
    /// reconnect); `None` unless open.
    pub fn id(&self) -> Option<&str> {
        self.id.as_deref()
    }

    /// Channels in the subscription set, in the order first subscribed, each with whether the
    /// current connection has confirmed it.
    pub fn subscriptions(&self) -> impl Iterator<Item = (&str, bool)> {
        self.channels.iter().map(|(c, confirmed)| (c, *confirmed))
    }

    /// Channels the server subscribed the current connection to ([`crate::Event::Subscribed`]), in
    /// the order it did.
    pub fn server_subscriptions(&self) -> impl Iterator<Item = &str> {
        self.server_channels.keys()
    }

    /// Watched channels.
    pub fn watches(&self) -> impl Iterator<Item = &str> {
        self.watches.keys()
    }

    /// Reconnect attempts started since the connection was last open (0 while open).
    pub fn reconnect_attempt(&self) -> u32 {
        self.attempt
    }

    /// Diagnostic counters.
    pub fn stats(&self) -> &Stats {
        &self.stats
    }

    /// The next output to carry out, in order; call until `None` after every input.
    pub fn poll_output(&mut self) -> Option<Output> {
        self.out.pop_front()
    }

    /// When [`ClientSession::tick`] must be called next (an absolute time on the caller's clock);
    /// `None` when no timer is needed (closed and idle).
    pub fn next_deadline(&self) -> Option<u64> {
        // Offline, a reconnect waits for `on_network(true)` rather than a timer.
        let mut deadlines = vec![self.reconnect_at.filter(|_| !self.offline)];
        match &self.conn {
            Conn::None => {}
            Conn::FetchingToken { deadline, .. } | Conn::Handshaking { deadline } => {
                deadlines.push(Some(*deadline))
            }
            Conn::Ready(live) => {
                deadlines.push(live.next_ping);
                if let Refresh::At(at) = live.refresh {
                    deadlines.push(Some(at));
                }
                deadlines.push(
                    live.silent_since
                        .map(|t| t.saturating_add(self.config.pong_timeout_ms)),
                );
            }
        }
        deadlines.extend(self.requests.iter().map(|r| Some(r.deadline)));
        deadlines.push(self.publish_deadline());
        deadlines.push(self.read_deadline());
        deadlines.push(self.fill_deadline());
        deadlines.into_iter().flatten().min()
    }
}

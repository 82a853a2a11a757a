//! Liveness of a ready connection: a ping every interval, the round-trip time from each
//! `pong`, and a lost connection when the server stays silent for the pong timeout.

use super::auth::Refresh;
use super::{ClientSession, Conn};
use crate::error::LostReason;
use crate::event::{Event, Output};
use howl_protocol::{close, ClientMessage, IdPayload};
use std::collections::VecDeque;

/// Pings kept for round-trip times; older ones are forgotten.
const MAX_PINGS_IN_FLIGHT: usize = 16;

/// Liveness (and token renewal) bookkeeping of a ready connection.
#[derive(Debug)]
pub(super) struct Live {
    /// When the next ping is due; `None` when pings are off.
    pub(super) next_ping: Option<u64>,
    /// When the oldest ping not followed by any server frame was sent.
    pub(super) silent_since: Option<u64>,
    /// Send times of pings not yet answered by a `pong`, oldest first (for the RTT).
    pub(super) pings_in_flight: VecDeque<u64>,
    /// Renewal of the connection token.
    pub(super) refresh: Refresh,
    /// Waiting for the `pong` that shows the server accepted the connection token.
    pub(super) authenticating: bool,
}

impl Live {
    /// A connection ready at `now`, pinging every `ping_interval` ms (0: never).
    pub(super) fn new(ping_interval: u64, refresh: Refresh, now: u64) -> Self {
        Self {
            next_ping: (ping_interval > 0).then(|| now.saturating_add(ping_interval)),
            silent_since: None,
            pings_in_flight: VecDeque::new(),
            refresh,
            authenticating: false,
        }
    }
}

impl ClientSession {
    /// Pings when due, or drops the connection when the server stayed silent too long.
    pub(super) fn tick_liveness(&mut self, now: u64) {
        let Conn::Ready(live) = &mut self.conn else {
            return;
        };
        let pong_timeout = self.config.pong_timeout_ms;
        if live
            .silent_since
            .is_some_and(|t| now >= t.saturating_add(pong_timeout))
        {
            self.out.push_back(Output::Close {
                code: close::HEARTBEAT_TIMEOUT,
                reason: "ping timeout",
            });
            self.lose_connection(LostReason::PingTimeout, now);
        } else if live.next_ping.is_some_and(|t| now >= t) {
            live.next_ping = Some(now.saturating_add(self.config.ping_interval_ms));
            self.ping(now);
        }
    }

    /// Sends a `ping`; the server must answer (or send anything) within the pong timeout.
    pub(super) fn ping(&mut self, now: u64) {
        let Conn::Ready(live) = &mut self.conn else {
            return;
        };
        live.silent_since.get_or_insert(now);
        if live.pings_in_flight.len() >= MAX_PINGS_IN_FLIGHT {
            live.pings_in_flight.pop_front();
        }
        live.pings_in_flight.push_back(now);
        let id = self.id.clone().unwrap_or_default();
        self.send(ClientMessage::Ping(IdPayload::new(id)));
    }

    /// A `pong` carrying the server's clock: reports the round-trip time of the oldest ping;
    /// the first one after `connect` with a token opens the session.
    pub(super) fn on_pong(&mut self, server_time: u64, now: u64) {
        let (sent, accepted) = match &mut self.conn {
            Conn::Ready(live) => (
                live.pings_in_flight.pop_front(),
                std::mem::take(&mut live.authenticating),
            ),
            _ => (None, false),
        };
        if accepted {
            self.opened();
        }
        match sent {
            Some(sent) => self.emit(Event::Pong {
                rtt_ms: now.saturating_sub(sent),
                server_time,
            }),
            None => self.stats.unexpected_ignored += 1,
        }
    }
}

//! The client session state machine: connection lifecycle, timers and the output queue.
//!
//! Split by concern: this file holds the connection lifecycle (connect, handshake, loss,
//! backoff, disconnect) and timers; `inbound` decodes server frames; `requests` owns the
//! subscription set, pending requests and the application's commands.

mod inbound;
mod requests;

use crate::dedup::Dedup;
use crate::error::{ClientError, CloseReason, LostReason};
use crate::event::{ConnectionState, Event, Output, RequestId};
use crate::rng::Rng;
use crate::vecmap::VecMap;
use crate::ClientConfig;
use howl_protocol::close;
use howl_protocol::{ClientMessage, ConnectPayload, IdPayload};
use requests::Request;
use std::collections::VecDeque;

/// Counters of things the session dropped or ignored, for diagnostics.
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct Stats {
    /// Messages dropped because their (channel, seq) was already delivered.
    pub duplicates_dropped: u64,
    /// Messages dropped because their channel is not subscribed (e.g. after unsubscribing).
    pub unsolicited_dropped: u64,
    /// Frames of a type this version does not know, ignored.
    pub unknown_ignored: u64,
    /// Frames that could not be decoded (reported as [`Event::ProtocolViolation`]).
    pub invalid_frames: u64,
    /// Frames that made no sense in the current state (e.g. a second `initial`), ignored.
    pub unexpected_ignored: u64,
    /// Successful reconnects.
    pub reconnects: u64,
}

/// The current socket, if any.
#[derive(Debug)]
enum Conn {
    /// No socket.
    None,
    /// A socket is opening, or open and waiting for `initial`.
    Handshaking { deadline: u64 },
    /// The handshake is done.
    Ready(Live),
}

/// Liveness bookkeeping of an open connection.
#[derive(Debug)]
struct Live {
    /// When the next ping is due; `None` when pings are off.
    next_ping: Option<u64>,
    /// When the oldest ping not followed by any server frame was sent.
    silent_since: Option<u64>,
    /// Send times of pings not yet answered by a `pong`, oldest first (for the RTT).
    pings_in_flight: VecDeque<u64>,
}

/// A Howl client session. See the [crate documentation](crate) for how to drive it.
#[derive(Debug)]
pub struct ClientSession {
    config: ClientConfig,
    rng: Rng,
    state: ConnectionState,
    conn: Conn,
    id: Option<String>,
    /// Channels the application wants → whether the current connection confirmed them.
    channels: VecMap<bool>,
    /// Channels whose `channel_status` notices the application wants.
    watches: VecMap<()>,
    requests: Vec<Request>,
    next_request: u64,
    dedup: Dedup,
    /// Connection attempts started since the last successful handshake.
    attempt: u32,
    reconnect_at: Option<u64>,
    out: VecDeque<Output>,
    stats: Stats,
}

impl ClientSession {
    /// A closed session with the given settings; `seed` drives the reconnect jitter (use
    /// something varying per client in production, a constant in tests).
    pub fn new(config: ClientConfig, seed: u64) -> Result<Self, ClientError> {
        config.validate()?;
        Ok(Self {
            config,
            rng: Rng::new(seed),
            state: ConnectionState::Closed,
            conn: Conn::None,
            id: None,
            channels: VecMap::default(),
            watches: VecMap::default(),
            requests: Vec::new(),
            next_request: 1,
            dedup: Dedup::default(),
            attempt: 0,
            reconnect_at: None,
            out: VecDeque::new(),
            stats: Stats::default(),
        })
    }

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
        let mut deadlines = vec![self.reconnect_at];
        match &self.conn {
            Conn::None => {}
            Conn::Handshaking { deadline } => deadlines.push(Some(*deadline)),
            Conn::Ready(live) => {
                deadlines.push(live.next_ping);
                deadlines.push(
                    live.silent_since
                        .map(|t| t.saturating_add(self.config.pong_timeout_ms)),
                );
            }
        }
        deadlines.extend(self.requests.iter().map(|r| Some(r.deadline)));
        deadlines.into_iter().flatten().min()
    }

    /// Starts connecting (only from [`ConnectionState::Closed`]; otherwise does nothing).
    /// The subscription set survives a give-up, so connecting again re-subscribes it.
    pub fn connect(&mut self, now: u64) {
        if self.state != ConnectionState::Closed {
            return;
        }
        self.attempt = 0;
        self.set_state(ConnectionState::Connecting);
        self.open_socket(now);
    }

    /// The socket asked for with [`Output::OpenSocket`] is open. The handshake continues when
    /// the server's `initial` arrives.
    pub fn on_open(&mut self, _now: u64) {}

    /// The current socket closed (or failed to open) with `code` (1006 if abnormal). Every
    /// code but 1000 (the protocol's normal end, after which a client must not come back)
    /// leads to a reconnect when the policy allows.
    pub fn on_close(&mut self, code: u16, now: u64) {
        if matches!(self.conn, Conn::None) {
            return;
        }
        self.lose_connection(LostReason::Closed { code }, now);
    }

    /// Runs every timer that is due at `now`: handshake timeout, ping, pong timeout, request
    /// timeouts, reconnect.
    pub fn tick(&mut self, now: u64) {
        self.expire_requests(now);
        match &mut self.conn {
            Conn::None => {}
            Conn::Handshaking { deadline } => {
                if now >= *deadline {
                    self.out.push_back(Output::Close {
                        code: close::HANDSHAKE_TIMEOUT,
                        reason: "handshake timeout",
                    });
                    self.lose_connection(LostReason::HandshakeTimeout, now);
                }
            }
            Conn::Ready(live) => {
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
                    live.silent_since.get_or_insert(now);
                    if live.pings_in_flight.len() >= 16 {
                        live.pings_in_flight.pop_front();
                    }
                    live.pings_in_flight.push_back(now);
                    let id = self.id.clone().unwrap_or_default();
                    self.send(ClientMessage::Ping(IdPayload::new(id)));
                }
            }
        }
        if self.reconnect_at.is_some_and(|t| now >= t) {
            self.reconnect_at = None;
            self.attempt += 1;
            self.open_socket(now);
        }
    }

    /// Ends the session: sends `disconnect` when open, asks to close the socket with 1000,
    /// rejects pending requests with [`ClientError::Closed`], forgets subscriptions and
    /// watches, and stops every timer. Does nothing when already closed.
    pub fn disconnect(&mut self, _now: u64) {
        if self.state == ConnectionState::Closed {
            return;
        }
        if let (Conn::Ready(_), Some(id)) = (&self.conn, self.id.clone()) {
            self.send(ClientMessage::Disconnect(IdPayload::new(id)));
        }
        if !matches!(self.conn, Conn::None) {
            self.out.push_back(Output::Close {
                code: close::NORMAL,
                reason: "client disconnect",
            });
        }
        self.channels.clear();
        self.watches.clear();
        self.dedup.clear();
        self.close(CloseReason::Disconnected);
    }

    fn open_socket(&mut self, now: u64) {
        self.conn = Conn::Handshaking {
            deadline: now.saturating_add(self.config.handshake_timeout_ms),
        };
        self.out.push_back(Output::OpenSocket);
    }

    /// `initial` arrived: finish the handshake and restore the subscription set.
    fn handshake_done(&mut self, id: String, now: u64) {
        let interval = self.config.ping_interval_ms;
        self.conn = Conn::Ready(Live {
            next_ping: (interval > 0).then(|| now.saturating_add(interval)),
            silent_since: None,
            pings_in_flight: VecDeque::new(),
        });
        self.send(ClientMessage::Connect(ConnectPayload::new(id.clone())));
        self.id = Some(id);
        if self.state == ConnectionState::Reconnecting {
            self.stats.reconnects += 1;
        }
        self.attempt = 0;
        self.restore_subscriptions(now);
        self.set_state(ConnectionState::Open);
    }

    /// The current connection is gone (its socket is closed or being closed): reconnect or
    /// close according to the policy.
    fn lose_connection(&mut self, reason: LostReason, now: u64) {
        self.conn = Conn::None;
        self.id = None;
        self.out
            .push_back(Output::Event(Event::ConnectionLost(reason.clone())));
        self.connection_dropped();
        let policy = &self.config.reconnect;
        let next = self.attempt + 1;
        if matches!(reason, LostReason::Closed { code } if !close::should_reconnect(code)) {
            // The protocol's normal end: the server does not want this client back.
            self.close(CloseReason::EndedByServer);
        } else if !policy.enabled {
            self.close(CloseReason::ReconnectDisabled(reason));
        } else if policy.max_attempts.is_some_and(|max| next > max) {
            self.close(CloseReason::AttemptsExhausted {
                attempts: self.attempt,
                last: reason,
            });
        } else {
            let delay = policy.delay(next, &mut self.rng);
            self.reconnect_at = Some(now.saturating_add(delay));
            self.set_state(ConnectionState::Reconnecting);
            self.out.push_back(Output::Event(Event::ReconnectScheduled {
                attempt: next,
                delay_ms: delay,
            }));
        }
    }

    fn close(&mut self, reason: CloseReason) {
        self.conn = Conn::None;
        self.id = None;
        self.reconnect_at = None;
        for request in std::mem::take(&mut self.requests) {
            self.finish(request, Err(ClientError::Closed));
        }
        for confirmed in self.channels.values_mut() {
            *confirmed = false;
        }
        self.out.push_back(Output::Event(Event::Closed(reason)));
        self.set_state(ConnectionState::Closed);
    }

    fn set_state(&mut self, state: ConnectionState) {
        if self.state != state {
            self.state = state;
            self.out
                .push_back(Output::Event(Event::StateChanged(state)));
        }
    }

    fn send(&mut self, msg: ClientMessage) {
        self.out.push_back(Output::Send(msg.to_json()));
    }

    fn emit(&mut self, event: Event) {
        self.out.push_back(Output::Event(event));
    }

    fn next_request_id(&mut self) -> RequestId {
        let id = RequestId(self.next_request);
        self.next_request += 1;
        id
    }
}

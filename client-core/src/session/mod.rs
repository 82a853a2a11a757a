//! The client session state machine: connection lifecycle, timers and the output queue.
//!
//! Split by concern: this file holds the connection lifecycle (connect, handshake, loss,
//! backoff, disconnect) and timers; `auth` gets connection and subscription tokens, renews
//! the connection token and handles the server's refusals; `liveness` pings and notices a
//! silent server; `inbound` decodes server frames; `requests` owns the subscription set,
//! pending requests and the application's commands; `publishes` the confirmed publishes;
//! `reads` the history and presence requests; `streams` each subscription's stream position,
//! recovery after a reconnect and live gaps filled from history; `excluded` the holes this
//! session's own `exclude_self` publishes leave in them; `view` is what the caller
//! reads (state, subscriptions, counters, outputs, the next deadline).

mod auth;
mod excluded;
mod inbound;
mod lifecycle;
mod liveness;
mod publishes;
mod reads;
mod requests;
mod streams;
mod view;

use crate::dedup::Dedup;
use crate::error::{ClientError, CloseReason, LostReason};
use crate::event::{ConnectionState, Event, Output, RequestId};
use crate::rng::Rng;
use crate::token::{TokenRequestId, TokenSource};
use crate::vecmap::VecMap;
use crate::ClientConfig;
use auth::{Refresh, Secret};
use howl_protocol::close;
use howl_protocol::{ClientMessage, ConnectPayload, ErrorCode, IdPayload};
use liveness::Live;
use publishes::Publish;
use reads::Read;
use requests::Request;
use std::collections::VecDeque;
use std::fmt;
use streams::Stream;
pub use view::Stats;

/// The current socket, if any.
#[derive(Debug)]
enum Conn {
    /// No socket.
    None,
    /// No socket yet: waiting for the connection token of this attempt ([`Output::GetToken`]).
    FetchingToken {
        request: TokenRequestId,
        deadline: u64,
    },
    /// A socket is opening, or open and waiting for `initial`.
    Handshaking { deadline: u64 },
    /// The handshake is done.
    Ready(Live),
}

/// A Howl client session. See the [crate documentation](crate) for how to drive it.
pub struct ClientSession {
    config: ClientConfig,
    rng: Rng,
    state: ConnectionState,
    conn: Conn,
    id: Option<String>,
    /// Channels the application wants → whether the current connection confirmed them.
    channels: VecMap<bool>,
    /// Channels the server subscribed the current connection to (`subscribed`).
    server_channels: VecMap<()>,
    /// Channels whose `channel_status` notices the application wants.
    watches: VecMap<()>,
    requests: Vec<Request>,
    /// Confirmed publishes, queued or waiting for their answer, oldest first.
    publishes: Vec<Publish>,
    /// History and presence reads, queued or waiting for their answer, oldest first.
    reads: Vec<Read>,
    next_request: u64,
    dedup: Dedup,
    /// Where each confirmed channel of the set is in its stream (kept across reconnects).
    streams: VecMap<Stream>,
    /// Fire-and-forget publishes with `exclude_self` waiting for the confirmation that says
    /// which `seq` to skip (see `excluded`).
    excluded: Vec<(RequestId, String)>,
    /// The page is hidden ([`ClientSession::on_visibility`]): no pings.
    hidden: bool,
    /// The device is offline ([`ClientSession::on_network`]): no reconnect attempts.
    offline: bool,
    /// Connection attempts started since the last successful handshake.
    attempt: u32,
    reconnect_at: Option<u64>,
    /// The connection token fetched for the current attempt, until `connect` carries it.
    token: Option<Secret>,
    /// When to renew that token (on the caller's clock), once its connection is ready.
    token_refresh_at: Option<u64>,
    /// Subscription tokens asked for on the current connection: request → channel.
    subscription_tokens: Vec<(TokenRequestId, String)>,
    /// The message of the `unauthorized` or `token_expired` error the server sent before
    /// closing the current connection.
    auth_error: Option<(ErrorCode, String)>,
    out: VecDeque<Output>,
    stats: Stats,
}

// By hand: the pending outputs may hold frames with tokens, which never appear in debug
// output (logs).
impl fmt::Debug for ClientSession {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.debug_struct("ClientSession")
            .field("config", &self.config)
            .field("state", &self.state)
            .field("conn", &self.conn)
            .field("id", &self.id)
            .field("channels", &self.channels)
            .field("server_channels", &self.server_channels)
            .field("watches", &self.watches)
            .field("requests", &self.requests)
            .field("publishes", &self.publishes.len())
            .field("reads", &self.reads)
            .field("streams", &self.streams)
            .field("attempt", &self.attempt)
            .field("reconnect_at", &self.reconnect_at)
            .field("hidden", &self.hidden)
            .field("offline", &self.offline)
            .field("token", &self.token)
            .field("stats", &self.stats)
            .finish_non_exhaustive()
    }
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
            server_channels: VecMap::default(),
            watches: VecMap::default(),
            requests: Vec::new(),
            publishes: Vec::new(),
            reads: Vec::new(),
            next_request: 1,
            dedup: Dedup::default(),
            streams: VecMap::default(),
            excluded: Vec::new(),
            hidden: false,
            offline: false,
            attempt: 0,
            reconnect_at: None,
            token: None,
            token_refresh_at: None,
            subscription_tokens: Vec::new(),
            auth_error: None,
            out: VecDeque::new(),
            stats: Stats::default(),
        })
    }

    /// Starts connecting (only from [`ConnectionState::Closed`]; otherwise does nothing):
    /// asks for a socket, or with [`TokenSource::GetToken`] first for a token. The
    /// subscription set survives a give-up, so connecting again re-subscribes it.
    pub fn connect(&mut self, now: u64) {
        if self.state != ConnectionState::Closed {
            return;
        }
        self.attempt = 0;
        self.set_state(ConnectionState::Connecting);
        self.start_attempt(now);
    }

    /// The socket asked for with [`Output::OpenSocket`] is open. The handshake continues when
    /// the server's `initial` arrives.
    pub fn on_open(&mut self, _now: u64) {}

    /// The current socket closed (or failed to open) with `code` (1006 if abnormal). Every
    /// code leads to a reconnect when the policy allows, except 1000 (the protocol's normal
    /// end, after which a client must not come back), 4003 (the token was refused: the
    /// session closes with [`CloseReason::Unauthorized`]) and 4004 (the token expired) when
    /// there is no way to get a new token ([`CloseReason::TokenExpired`]).
    pub fn on_close(&mut self, code: u16, now: u64) {
        if !self.has_socket() {
            return;
        }
        self.lose_connection(LostReason::Closed { code }, now);
    }

    /// Runs every timer that is due at `now`: token and handshake timeouts, ping, pong
    /// timeout, token renewal, request timeouts, reconnect.
    pub fn tick(&mut self, now: u64) {
        self.expire_requests(now);
        self.expire_publishes(now);
        self.expire_reads(now);
        self.expire_fills(now);
        match &mut self.conn {
            Conn::None => {}
            Conn::FetchingToken { deadline, .. } => {
                if now >= *deadline {
                    let waited = self.config.handshake_timeout_ms;
                    self.token_unavailable(format!("no connection token within {waited} ms"), now);
                }
            }
            Conn::Handshaking { deadline } => {
                if now >= *deadline {
                    self.out.push_back(Output::Close {
                        code: close::HANDSHAKE_TIMEOUT,
                        reason: "handshake timeout",
                    });
                    self.lose_connection(LostReason::HandshakeTimeout, now);
                }
            }
            Conn::Ready(_) => self.tick_liveness(now),
        }
        self.tick_refresh(now);
        if !self.offline && self.reconnect_at.is_some_and(|t| now >= t) {
            self.reconnect_at = None;
            self.attempt += 1;
            self.start_attempt(now);
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
        if self.has_socket() {
            self.out.push_back(Output::Close {
                code: close::NORMAL,
                reason: "client disconnect",
            });
        }
        self.channels.clear();
        self.watches.clear();
        self.dedup.clear();
        self.streams.clear();
        self.close(CloseReason::Disconnected);
    }

    fn open_socket(&mut self, now: u64) {
        self.conn = Conn::Handshaking {
            deadline: now.saturating_add(self.config.handshake_timeout_ms),
        };
        self.out.push_back(Output::OpenSocket);
    }

    /// Whether a socket is opening or open (the caller reports about it).
    fn has_socket(&self) -> bool {
        matches!(self.conn, Conn::Handshaking { .. } | Conn::Ready(_))
    }

    /// `initial` arrived: send `connect` (with the token) and restore the subscription set.
    /// Without a token the session is open now. With one it opens once the server answers
    /// a ping sent right behind `connect`: the server handles frames in order, so that `pong`
    /// means it accepted the token, while a refused token gets `error` and close 4003 or 4004
    /// instead (and the session never reports a connection the server is about to refuse).
    fn handshake_done(&mut self, id: String, now: u64) {
        let refresh = self
            .token_refresh_at
            .take()
            .map_or(Refresh::Idle, Refresh::At);
        let interval = if self.hidden {
            0 // no pings while the page is hidden
        } else {
            self.config.ping_interval_ms
        };
        self.conn = Conn::Ready(Live::new(interval, refresh, now));
        let token = match &self.config.token {
            TokenSource::None => None,
            TokenSource::Static(token) => Some(token.clone()),
            TokenSource::GetToken => self.token.take().map(Secret::expose),
        };
        let authenticating = token.is_some();
        self.send(ClientMessage::Connect(ConnectPayload {
            id: id.clone(),
            token,
            reference: None,
        }));
        self.id = Some(id);
        self.restore_subscriptions(now);
        if authenticating {
            self.ping(now);
            if let Conn::Ready(live) = &mut self.conn {
                live.authenticating = true;
            }
        } else {
            self.opened();
        }
    }

    /// The connection is ready, and accepted: the session is open.
    fn opened(&mut self) {
        if self.state == ConnectionState::Reconnecting {
            self.stats.reconnects += 1;
        }
        self.attempt = 0;
        self.set_state(ConnectionState::Open);
        self.flush_publishes();
        self.flush_reads();
    }

    /// The current connection is gone (its socket is closed or being closed, or it never
    /// got a token): reconnect or close according to the close code and the policy.
    fn lose_connection(&mut self, reason: LostReason, now: u64) {
        self.conn = Conn::None;
        self.id = None;
        self.out
            .push_back(Output::Event(Event::ConnectionLost(reason.clone())));
        self.connection_dropped();
        self.publishes_lost();
        self.reads_dropped();
        self.fills_dropped();
        self.excluded.clear();
        if let Some(final_reason) = self.refused(&reason) {
            self.close(final_reason);
            return;
        }
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
        self.token = None;
        self.token_refresh_at = None;
        self.auth_error = None;
        for request in std::mem::take(&mut self.requests) {
            self.finish(request, Err(ClientError::Closed));
        }
        self.fail_publishes(&ClientError::Closed);
        self.fail_reads(&ClientError::Closed);
        self.fills_dropped();
        for confirmed in self.channels.values_mut() {
            *confirmed = false;
        }
        self.server_channels.clear();
        self.subscription_tokens.clear();
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

    fn next_token_request(&mut self) -> TokenRequestId {
        let id = TokenRequestId(self.next_request);
        self.next_request += 1;
        id
    }
}

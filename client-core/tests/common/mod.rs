//! A driver for session tests: plays the caller's part (socket and timers) with explicit time,
//! and speaks for the server with exact protocol frames.
#![allow(dead_code)]

pub mod streams;

use howl_client_core::*;
use howl_protocol::{ChannelMessage, InitialPayload, PongPayload, ServerMessage};
use serde_json::Value;

pub struct Driver {
    pub s: ClientSession,
    pub now: u64,
    /// Ids handed out by `initial`, one per handshake.
    pub handshakes: u32,
}

/// Settings with round numbers and exact (jitter-free) backoff.
pub fn config() -> ClientConfig {
    ClientConfig {
        ping_interval_ms: 5_000,
        pong_timeout_ms: 10_000,
        request_timeout_ms: 3_000,
        handshake_timeout_ms: 2_000,
        max_frame_bytes: 1024,
        reconnect: ReconnectPolicy {
            enabled: true,
            initial_delay_ms: 100,
            max_delay_ms: 1_000,
            multiplier: 2.0,
            jitter: 0.0,
            max_attempts: None,
        },
        token: TokenSource::None,
        get_subscription_token: false,
        publish_queue_limit: 2,
    }
}

/// The caller's wall clock (Unix ms) at session time 0: tests pass `UNIX0 + d.now`.
pub const UNIX0: u64 = 1_700_000_000_000;

/// A JWT with these claims (JSON text) and a signature the client never checks.
pub fn jwt(claims: &str) -> String {
    format!(
        "{}.{}.c2lnbmF0dXJl",
        base64url(br#"{"alg":"HS256","typ":"JWT"}"#),
        base64url(claims.as_bytes())
    )
}

/// A JWT for "alice" expiring `secs` seconds after the Unix time `unix_ms`.
pub fn jwt_expiring(unix_ms: u64, secs: u64) -> String {
    jwt(&format!(
        r#"{{"sub":"alice","exp":{}}}"#,
        unix_ms / 1000 + secs
    ))
}

fn base64url(bytes: &[u8]) -> String {
    use base64::Engine;
    base64::engine::general_purpose::URL_SAFE_NO_PAD.encode(bytes)
}

/// The token requests among `outputs`.
pub fn token_requests(outputs: &[Output]) -> Vec<TokenRequestId> {
    outputs
        .iter()
        .filter_map(|o| match o {
            Output::GetToken(request) => Some(*request),
            _ => None,
        })
        .collect()
}

pub fn id_of(n: u32) -> String {
    format!("id-{n}")
}

pub fn sent(outputs: &[Output]) -> Vec<String> {
    outputs
        .iter()
        .filter_map(|o| match o {
            Output::Send(f) => Some(f.clone()),
            _ => None,
        })
        .collect()
}

pub fn events(outputs: &[Output]) -> Vec<Event> {
    outputs
        .iter()
        .filter_map(|o| match o {
            Output::Event(e) => Some(e.clone()),
            _ => None,
        })
        .collect()
}

pub fn messages(outputs: &[Output]) -> Vec<Message> {
    events(outputs)
        .into_iter()
        .filter_map(|e| match e {
            Event::Message(m) => Some(m),
            _ => None,
        })
        .collect()
}

pub fn done(outputs: &[Output]) -> Vec<(RequestId, Result<(), ClientError>)> {
    events(outputs)
        .into_iter()
        .filter_map(|e| match e {
            Event::RequestDone { id, result } => Some((id, result)),
            _ => None,
        })
        .collect()
}

pub fn states(outputs: &[Output]) -> Vec<ConnectionState> {
    events(outputs)
        .into_iter()
        .filter_map(|e| match e {
            Event::StateChanged(s) => Some(s),
            _ => None,
        })
        .collect()
}

pub fn sub(id: &str, channel: &str) -> String {
    format!(r#"{{"type":"subscribe","payload":{{"id":"{id}","channel":"{channel}"}}}}"#)
}

pub fn unsub(id: &str, channel: &str) -> String {
    format!(r#"{{"type":"unsubscribe","payload":{{"id":"{id}","channel":"{channel}"}}}}"#)
}

pub fn ping(id: &str) -> String {
    format!(r#"{{"type":"ping","payload":{{"id":"{id}"}}}}"#)
}

pub fn subscribed(channel: &str) -> String {
    ServerMessage::subscribed(Some(channel.into()), None).to_json()
}

pub fn unsubscribed(channel: &str) -> String {
    ServerMessage::unsubscribed(Some(channel.into()), None).to_json()
}

pub fn message(channel: &str, seq: u64, time: u64, data: Value) -> String {
    ServerMessage::Message(ChannelMessage {
        channel: channel.into(),
        seq,
        time,
        data: serde_json::value::to_raw_value(&data).unwrap(),
    })
    .to_json()
}

/// The event of a first confirmation without a stream position (the frames of [`subscribed`]).
pub fn confirmed(channel: &str) -> Event {
    Event::SubscriptionConfirmed {
        channel: channel.into(),
        position: None,
        recovered: None,
        recovered_count: 0,
    }
}

pub fn pong(time: u64) -> String {
    ServerMessage::Pong(PongPayload {
        time,
        reference: None,
    })
    .to_json()
}

impl Driver {
    pub fn new(config: ClientConfig) -> Self {
        Self {
            s: ClientSession::new(config, 7).unwrap(),
            now: 0,
            handshakes: 0,
        }
    }

    /// A session that connected and completed the handshake with id "id-1".
    pub fn open(config: ClientConfig) -> Self {
        let mut d = Self::new(config);
        d.s.connect(d.now);
        assert_eq!(
            d.drain(),
            [
                Output::Event(Event::StateChanged(ConnectionState::Connecting)),
                Output::OpenSocket
            ]
        );
        d.handshake();
        d
    }

    pub fn drain(&mut self) -> Vec<Output> {
        std::iter::from_fn(|| self.s.poll_output()).collect()
    }

    /// Reports the socket open and the server's `initial`; returns the outputs. Without a
    /// token the session is open then; with one it waits for the server's verdict.
    pub fn initial(&mut self) -> Vec<Output> {
        self.handshakes += 1;
        self.s.on_open(self.now);
        let initial = ServerMessage::Initial(InitialPayload {
            id: id_of(self.handshakes),
        });
        self.s.on_frame(&initial.to_json(), self.now);
        self.drain()
    }

    /// `initial`, then, if the session sent a token, the `pong` by which the server accepts
    /// it; returns the outputs of both.
    pub fn handshake(&mut self) -> Vec<Output> {
        let mut out = self.initial();
        if self.s.state() != ConnectionState::Open {
            let id = self.s.id().unwrap().to_owned();
            assert_eq!(sent(&out).last(), Some(&ping(&id)), "{out:?}");
            out.extend(self.frame(&pong(1)));
        }
        assert_eq!(self.s.state(), ConnectionState::Open, "{out:?}");
        out
    }

    pub fn frame(&mut self, text: &str) -> Vec<Output> {
        self.s.on_frame(text, self.now);
        self.drain()
    }

    /// Answers a [`Output::GetToken`] at the current time.
    pub fn provide(&mut self, request: TokenRequestId, token: Result<&str, &str>) -> Vec<Output> {
        let token = token.map(str::to_owned).map_err(str::to_owned);
        self.s
            .provide_token(request, token, self.now, UNIX0 + self.now);
        self.drain()
    }

    pub fn close(&mut self, code: u16) -> Vec<Output> {
        self.s.on_close(code, self.now);
        self.drain()
    }

    /// Behaves like a timer-driven caller: fires every deadline up to `now + ms` at its exact
    /// time, and returns what they produced, each with the time it happened.
    pub fn advance(&mut self, ms: u64) -> Vec<(u64, Output)> {
        let end = self.now + ms;
        let mut all = Vec::new();
        while let Some(deadline) = self.s.next_deadline().filter(|d| *d <= end) {
            assert!(
                deadline >= self.now,
                "deadline {deadline} in the past (now {})",
                self.now
            );
            self.now = deadline;
            self.s.tick(self.now);
            let now = self.now;
            all.extend(self.drain().into_iter().map(|o| (now, o)));
        }
        self.now = end;
        all
    }

    /// `advance` without the times.
    pub fn advance_plain(&mut self, ms: u64) -> Vec<Output> {
        self.advance(ms).into_iter().map(|(_, o)| o).collect()
    }

    pub fn subscribe(&mut self, channel: Option<&str>) -> (RequestId, Vec<Output>) {
        let id = self.s.subscribe(channel, self.now);
        (id, self.drain())
    }

    pub fn unsubscribe(&mut self, channel: Option<&str>) -> (RequestId, Vec<Output>) {
        let id = self.s.unsubscribe(channel, self.now);
        (id, self.drain())
    }

    /// Subscribes and confirms, asserting the exact frame.
    pub fn subscribed(&mut self, channel: &str) {
        let (req, out) = self.subscribe(Some(channel));
        let id = self.s.id().unwrap().to_owned();
        assert_eq!(sent(&out), [sub(&id, channel)]);
        let out = self.frame(&subscribed(channel));
        assert_eq!(done(&out), [(req, Ok(()))]);
    }
}

// Secured mode: tokens and their frames.

/// Settings that get connection tokens with `Output::GetToken`.
pub fn get_token() -> ClientConfig {
    ClientConfig {
        token: TokenSource::GetToken,
        ..config()
    }
}

pub fn connect_frame(id: &str, token: &str) -> String {
    format!(r#"{{"type":"connect","payload":{{"id":"{id}","token":"{token}"}}}}"#)
}

/// What a session with a token sends on `initial`: `connect`, and the ping whose `pong` shows
/// the server accepted the token.
pub fn connect_and_ping(id: &str, token: &str) -> [String; 2] {
    [connect_frame(id, token), ping(id)]
}

pub fn refresh_frame(id: &str, token: &str) -> String {
    format!(r#"{{"type":"refresh","payload":{{"id":"{id}","token":"{token}"}}}}"#)
}

/// An `error` frame; `request` is absent (`""`) for the server's expiry notice.
pub fn error_frame(code: &str, request: &str, message: &str) -> String {
    let request = if request.is_empty() {
        String::new()
    } else {
        format!(r#","request":"{request}""#)
    };
    format!(r#"{{"type":"error","payload":{{"code":"{code}","message":"{message}"{request}}}}}"#)
}

/// Starts connecting with getToken and answers the first request with `token`: the socket
/// opens.
pub fn start_with(d: &mut Driver, token: &str) {
    d.s.connect(d.now);
    let out = d.drain();
    let [request] = token_requests(&out)[..] else {
        panic!("one token request: {out:?}");
    };
    assert!(
        !out.contains(&Output::OpenSocket),
        "no socket before the token"
    );
    assert_eq!(d.provide(request, Ok(token)), [Output::OpenSocket]);
}

/// `start_with`, then the handshake in which the server accepts the token; its outputs.
pub fn open_with(d: &mut Driver, token: &str) -> Vec<Output> {
    start_with(d, token);
    d.handshake()
}

/// Runs the timers up to the next token request (at most `within` ms ahead) and stops there:
/// the request's time and id.
pub fn next_token_request(d: &mut Driver, within: u64) -> (u64, TokenRequestId) {
    let end = d.now + within;
    while let Some(deadline) = d.s.next_deadline().filter(|t| *t <= end) {
        d.now = deadline;
        d.s.tick(d.now);
        let out = d.drain();
        if let [request] = token_requests(&out)[..] {
            return (d.now, request);
        }
    }
    panic!("no token request within {within} ms");
}

//! Connection tokens: in `connect`, got before every attempt, renewed with `refresh` before
//! `exp`, and the server's refusals (close 4003 stops, close 4004 gets a new token).

mod common;
use common::*;
use howl_client_core::*;

fn get_token() -> ClientConfig {
    ClientConfig {
        token: TokenSource::GetToken,
        ..config()
    }
}

fn connect_frame(id: &str, token: &str) -> String {
    format!(r#"{{"type":"connect","payload":{{"id":"{id}","token":"{token}"}}}}"#)
}

fn refresh_frame(id: &str, token: &str) -> String {
    format!(r#"{{"type":"refresh","payload":{{"id":"{id}","token":"{token}"}}}}"#)
}

/// An `error` frame; `request` is absent (`""`) for the server's expiry notice.
fn error_frame(code: &str, request: &str, message: &str) -> String {
    let request = if request.is_empty() {
        String::new()
    } else {
        format!(r#","request":"{request}""#)
    };
    format!(r#"{{"type":"error","payload":{{"code":"{code}","message":"{message}"{request}}}}}"#)
}

/// Starts connecting with getToken and answers the first request with `token`; returns the
/// outputs of the handshake that follows.
fn open_with(d: &mut Driver, token: &str) -> Vec<Output> {
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
    d.handshake()
}

/// Runs the timers up to the next token request (at most `within` ms ahead) and stops there:
/// the request's time and id.
fn next_token_request(d: &mut Driver, within: u64) -> (u64, TokenRequestId) {
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

#[test]
fn a_static_token_goes_in_every_connect() {
    let token = jwt(r#"{"sub":"alice"}"#);
    let mut d = Driver::open(ClientConfig {
        token: TokenSource::Static(token.clone()),
        ..config()
    });
    // Driver::open checked the socket opened at once; the handshake sent:
    d.close(1006);
    d.advance(100);
    let out = d.handshake();
    assert_eq!(sent(&out), [connect_frame("id-2", &token)]);
}

#[test]
fn get_token_is_asked_before_every_attempt_and_never_reused() {
    let mut d = Driver::new(get_token());
    let first = jwt(r#"{"sub":"alice","n":1}"#);
    d.s.connect(0);
    assert_eq!(
        d.s.next_deadline(),
        Some(2_000),
        "getToken has the handshake timeout"
    );
    d.drain();
    d.s.connect(0);
    assert_eq!(d.drain(), [], "one attempt at a time");
    d.s.disconnect(0);
    d.drain();

    let out = open_with(&mut d, &first);
    assert_eq!(sent(&out), [connect_frame("id-1", &first)]);
    assert_eq!(d.s.state(), ConnectionState::Open);

    // A network drop: the next attempt asks again, and carries the new token.
    d.close(1006);
    let (at, request) = next_token_request(&mut d, 100);
    assert_eq!(at, 100, "after the backoff delay");
    let second = jwt(r#"{"sub":"alice","n":2}"#);
    assert_eq!(d.provide(request, Ok(&second)), [Output::OpenSocket]);
    let out = d.handshake();
    assert_eq!(sent(&out), [connect_frame("id-2", &second)]);
}

#[test]
fn answers_nobody_waits_for_are_ignored() {
    let mut d = Driver::new(get_token());
    d.s.connect(0);
    let request = token_requests(&d.drain())[0];
    let stranger = TokenRequestId(request.0 + 100);
    assert_eq!(d.provide(stranger, Ok("a.b.c")), []);
    d.s.disconnect(0);
    d.drain();
    assert_eq!(d.provide(request, Ok("a.b.c")), [], "after disconnect");
    assert_eq!(d.s.state(), ConnectionState::Closed);
}

#[test]
fn no_token_fails_the_attempt_and_it_is_retried_with_backoff() {
    let mut d = Driver::new(get_token());
    d.s.connect(0);
    let request = token_requests(&d.drain())[0];
    let out = d.provide(request, Err("the auth backend is down"));
    assert_eq!(
        events(&out),
        [
            Event::TokenUnavailable("the auth backend is down".into()),
            Event::ConnectionLost(LostReason::TokenUnavailable),
            Event::StateChanged(ConnectionState::Reconnecting),
            Event::ReconnectScheduled {
                attempt: 1,
                delay_ms: 100
            },
        ]
    );
    assert!(
        !out.iter().any(|o| matches!(o, Output::Close { .. })),
        "no socket to close"
    );
    let (_, request) = next_token_request(&mut d, 100);
    let out = d.provide(request, Ok(""));
    assert_eq!(
        events(&out)[0],
        Event::TokenUnavailable("the token is empty".into())
    );
    let (_, request) = next_token_request(&mut d, 200);
    assert_eq!(d.provide(request, Ok("a.b.c")), [Output::OpenSocket]);
}

#[test]
fn a_get_token_that_never_answers_times_out_and_counts_as_an_attempt() {
    let mut d = Driver::new(ClientConfig {
        reconnect: ReconnectPolicy {
            max_attempts: Some(1),
            ..config().reconnect
        },
        ..get_token()
    });
    d.s.connect(0);
    let request = token_requests(&d.drain())[0];
    let out = d.advance_plain(2_000);
    assert_eq!(
        events(&out)[..2],
        [
            Event::TokenUnavailable("no connection token within 2000 ms".into()),
            Event::ConnectionLost(LostReason::TokenUnavailable),
        ]
    );
    assert_eq!(d.provide(request, Ok("a.b.c")), [], "too late");
    let (_, request) = next_token_request(&mut d, 100);
    let out = d.advance_plain(2_000);
    assert!(
        events(&out).contains(&Event::Closed(CloseReason::AttemptsExhausted {
            attempts: 1,
            last: LostReason::TokenUnavailable
        })),
        "{out:?}"
    );
    assert_eq!(d.s.state(), ConnectionState::Closed);
    assert_eq!(d.provide(request, Ok("a.b.c")), []);
}

#[test]
fn the_token_is_renewed_before_exp_without_reconnecting() {
    // No pings: this test plays no server answering them.
    let mut d = Driver::new(ClientConfig {
        ping_interval_ms: 0,
        ..get_token()
    });
    // Expires 4 s after it is received: renewed 10% (400 ms) before that.
    let token = jwt_expiring(UNIX0, 4);
    open_with(&mut d, &token);
    assert_eq!(d.s.next_deadline(), Some(3_600));
    let mut current = token;
    let mut received = 0;
    for round in 1..=5 {
        let exp = token::expiry(&current).unwrap().unwrap() - UNIX0;
        let (at, request) = next_token_request(&mut d, 10_000);
        let lifetime = exp - received;
        assert_eq!(
            at,
            exp - lifetime / 10,
            "round {round}: a tenth of the lifetime early"
        );
        let renewed = jwt_expiring(UNIX0 + d.now, 4);
        let out = d.provide(request, Ok(&renewed));
        assert_eq!(out, [Output::Send(refresh_frame("id-1", &renewed))]);
        assert_eq!(d.s.stats().refreshes, round);
        current = renewed;
        received = d.now;
    }
    // The connection never dropped.
    assert_eq!(d.s.state(), ConnectionState::Open);
    assert_eq!(d.s.id(), Some("id-1"));
    assert_eq!(d.s.stats().reconnects, 0);
}

#[test]
fn a_renewal_that_fails_is_reported_and_the_4004_that_follows_gets_a_new_token() {
    let mut d = Driver::new(get_token());
    open_with(&mut d, &jwt_expiring(UNIX0, 4));
    let (_, request) = next_token_request(&mut d, 3_600);
    let out = d.provide(request, Err("offline"));
    assert_eq!(
        out,
        [Output::Event(Event::TokenUnavailable("offline".into()))]
    );
    assert_eq!(
        d.s.next_deadline(),
        Some(5_000),
        "no renewal pending, only the ping"
    );

    // The server's verdict at exp: token_expired, then 4004.
    let out = d.frame(&error_frame(
        "token_expired",
        "",
        "the connection token expired",
    ));
    assert_eq!(
        out,
        [],
        "explains the close that follows; not an application error"
    );
    let out = d.close(close::TOKEN_EXPIRED);
    assert_eq!(
        events(&out),
        [
            Event::ConnectionLost(LostReason::Closed { code: 4004 }),
            Event::StateChanged(ConnectionState::Reconnecting),
            Event::ReconnectScheduled {
                attempt: 1,
                delay_ms: 100
            },
        ]
    );
    let (_, request) = next_token_request(&mut d, 100);
    let fresh = jwt_expiring(UNIX0 + d.now, 60);
    d.provide(request, Ok(&fresh));
    let out = d.handshake();
    assert_eq!(sent(&out), [connect_frame("id-2", &fresh)]);
}

#[test]
fn an_expired_token_at_connect_is_replaced_on_the_next_attempt() {
    let mut d = Driver::new(get_token());
    let stale = jwt_expiring(UNIX0 - 60_000, 1);
    open_with(&mut d, &stale);
    d.frame(&error_frame("token_expired", "connect", "token expired"));
    d.close(close::TOKEN_EXPIRED);
    let (_, request) = next_token_request(&mut d, 100);
    let fresh = jwt_expiring(UNIX0 + d.now, 60);
    d.provide(request, Ok(&fresh));
    assert_eq!(sent(&d.handshake()), [connect_frame("id-2", &fresh)]);
}

#[test]
fn close_4003_stops_for_good_with_the_servers_reason() {
    let mut d = Driver::new(get_token());
    open_with(&mut d, "not-a-jwt");
    let (req, _) = d.subscribe(Some("news"));
    let out = d.frame(&error_frame(
        "unauthorized",
        "connect",
        "invalid token: InvalidToken",
    ));
    assert_eq!(out, []);
    let out = d.close(close::UNAUTHORIZED);
    let reason = CloseReason::Unauthorized("invalid token: InvalidToken".into());
    assert_eq!(
        events(&out),
        [
            Event::ConnectionLost(LostReason::Closed { code: 4003 }),
            Event::RequestDone {
                id: req,
                result: Err(ClientError::Closed)
            },
            Event::Closed(reason.clone()),
            Event::StateChanged(ConnectionState::Closed),
        ]
    );
    assert_eq!(ClientError::from_close(&reason).code(), "unauthorized");
    assert_eq!(d.s.next_deadline(), None, "no reconnect");
    assert_eq!(d.advance_plain(60_000), []);
}

#[test]
fn close_4003_without_an_error_frame_still_stops() {
    let mut d = Driver::open(ClientConfig {
        token: TokenSource::Static("a.b.c".into()),
        ..config()
    });
    let out = d.close(close::UNAUTHORIZED);
    assert!(
        events(&out).contains(&Event::Closed(CloseReason::Unauthorized(
            "the server closed the connection with 4003".into()
        )))
    );
    assert_eq!(d.s.state(), ConnectionState::Closed);
}

#[test]
fn close_4004_stops_with_token_expired_when_no_new_token_can_be_got() {
    for source in [TokenSource::Static("a.b.c".into()), TokenSource::None] {
        let mut d = Driver::open(ClientConfig {
            token: source.clone(),
            ..config()
        });
        d.frame(&error_frame(
            "token_expired",
            "",
            "the connection token expired",
        ));
        let out = d.close(close::TOKEN_EXPIRED);
        let reason = CloseReason::TokenExpired("the connection token expired".into());
        assert!(
            events(&out).contains(&Event::Closed(reason.clone())),
            "{source:?}: {out:?}"
        );
        assert_eq!(ClientError::from_close(&reason).code(), "token_expired");
        assert_eq!(d.s.next_deadline(), None, "{source:?}");
    }
}

#[test]
fn tokens_without_a_usable_exp_are_sent_but_not_renewed() {
    for token in [
        "opaque-session-key".to_owned(),
        jwt(r#"{"sub":"alice"}"#),
        jwt(r#"{"sub":"alice","exp":"tomorrow"}"#),
        // Already past by the caller's clock: the server decides (see token::refresh_delay).
        jwt_expiring(UNIX0 - 10_000, 1),
    ] {
        let mut d = Driver::new(get_token());
        let out = open_with(&mut d, &token);
        assert_eq!(sent(&out), [connect_frame("id-1", &token)]);
        assert_eq!(d.s.next_deadline(), Some(5_000), "only the ping: {token}");
    }
}

#[test]
fn a_renewal_answered_after_the_connection_dropped_is_ignored() {
    let mut d = Driver::new(get_token());
    open_with(&mut d, &jwt_expiring(UNIX0, 4));
    let (_, renewal) = next_token_request(&mut d, 3_600);
    d.close(1006);
    let (_, attempt) = next_token_request(&mut d, 100);
    assert_eq!(d.provide(renewal, Ok("late.renewal.token")), []);
    assert_eq!(d.provide(attempt, Ok("a.b.c")), [Output::OpenSocket]);
}

#[test]
fn error_codes_of_other_requests_are_not_mistaken_for_a_refused_token() {
    let mut d = Driver::open(config());
    let frame = error_frame("permission_denied", "publish", "no");
    let out = d.frame(&frame);
    assert!(
        matches!(&events(&out)[..], [Event::ServerError(p)] if p.code == ErrorCode::PermissionDenied)
    );
}

#[test]
fn tokens_never_appear_in_debug_output() {
    let secret = jwt(r#"{"sub":"alice","secret":"hunter2"}"#);
    let mut d = Driver::new(ClientConfig {
        token: TokenSource::Static(secret.clone()),
        ..config()
    });
    d.s.connect(0);
    assert!(!format!("{:?}", d.s).contains(&secret));
    let mut d = Driver::new(get_token());
    d.s.connect(0);
    let request = token_requests(&d.drain())[0];
    d.provide(request, Ok(&secret));
    assert!(!format!("{:?}", d.s).contains(&secret), "{:?}", d.s);
}

//! Connection tokens at connect: a static one, or one asked for before every attempt; the
//! session opens once the server accepted it.

mod common;
use common::*;
use howl_client_core::*;

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
    assert_eq!(sent(&out), connect_and_ping("id-2", &token));
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
    assert_eq!(sent(&out), connect_and_ping("id-1", &first));
    assert_eq!(d.s.state(), ConnectionState::Open);

    // A network drop: the next attempt asks again, and carries the new token.
    d.close(1006);
    let (at, request) = next_token_request(&mut d, 100);
    assert_eq!(at, 100, "after the backoff delay");
    let second = jwt(r#"{"sub":"alice","n":2}"#);
    assert_eq!(d.provide(request, Ok(&second)), [Output::OpenSocket]);
    let out = d.handshake();
    assert_eq!(sent(&out), connect_and_ping("id-2", &second));
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
fn with_a_token_the_session_opens_once_the_server_answers_the_ping_after_connect() {
    let mut d = Driver::new(get_token());
    let token = jwt(r#"{"sub":"alice","channels":["alerts"]}"#);
    start_with(&mut d, &token);
    d.now = 5;
    let out = d.initial();
    assert_eq!(sent(&out), connect_and_ping("id-1", &token));
    assert_eq!(states(&out), [], "not open before the server's verdict");
    // The server subscribes the token's channels before it answers the ping.
    let out = d.frame(r#"{"type":"subscribed","payload":{"channel":"alerts"}}"#);
    assert_eq!(
        events(&out),
        [Event::Subscribed {
            channel: "alerts".into()
        }]
    );
    d.now = 12;
    let out = d.frame(&pong(1_700_000_000_012));
    assert_eq!(
        events(&out),
        [
            Event::StateChanged(ConnectionState::Open),
            Event::Pong {
                rtt_ms: 7,
                server_time: 1_700_000_000_012
            },
        ]
    );
    // Later pongs are only pongs.
    let out = d.advance_plain(5_000);
    assert_eq!(sent(&out), [ping("id-1")]);
    assert_eq!(states(&d.frame(&pong(1))), []);
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

//! Renewing the connection token with `refresh` a margin before its `exp`, and what happens
//! when no new token comes.

mod common;
use common::*;
use howl_client_core::*;

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
        assert_eq!(sent(&out), connect_and_ping("id-1", &token));
        assert_eq!(d.s.next_deadline(), Some(5_000), "only the ping: {token}");
    }
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
    assert_eq!(sent(&out), connect_and_ping("id-2", &fresh));
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

//! The server refusing a token: close 4003 stops for good, close 4004 gets a new token (or
//! stops when there is no way to get one).

mod common;
use common::*;
use howl_client_core::*;

#[test]
fn close_4003_stops_for_good_with_the_servers_reason() {
    let mut d = Driver::new(get_token());
    start_with(&mut d, "not-a-jwt");
    let (req, _) = d.subscribe(Some("news"));
    let out = d.initial();
    assert_eq!(
        d.s.state(),
        ConnectionState::Connecting,
        "not open: {out:?}"
    );
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
        ],
        "never open"
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
fn an_expired_token_at_connect_is_replaced_on_the_next_attempt() {
    let mut d = Driver::new(get_token());
    let stale = jwt_expiring(UNIX0 - 60_000, 1);
    start_with(&mut d, &stale);
    d.initial();
    d.frame(&error_frame("token_expired", "connect", "token expired"));
    d.close(close::TOKEN_EXPIRED);
    let (_, request) = next_token_request(&mut d, 100);
    let fresh = jwt_expiring(UNIX0 + d.now, 60);
    d.provide(request, Ok(&fresh));
    assert_eq!(sent(&d.handshake()), connect_and_ping("id-2", &fresh));
}

#[test]
fn a_token_refused_at_every_connect_backs_off_further_each_time() {
    let mut d = Driver::new(get_token());
    start_with(&mut d, "a.b.c");
    let mut delays = Vec::new();
    for _ in 0..4 {
        d.initial();
        d.frame(&error_frame("token_expired", "connect", "token expired"));
        let out = d.close(close::TOKEN_EXPIRED);
        let Some(Event::ReconnectScheduled { delay_ms, .. }) = events(&out).pop() else {
            panic!("{out:?}");
        };
        delays.push(delay_ms);
        let (_, request) = next_token_request(&mut d, delay_ms);
        assert_eq!(d.provide(request, Ok("a.b.c")), [Output::OpenSocket]);
    }
    assert_eq!(
        delays,
        [100, 200, 400, 800],
        "the attempts never counted as a success"
    );
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
fn the_servers_error_decides_when_the_close_code_is_lost() {
    // A reset connection (or a proxy) reports 1006: the error frame before it still tells.
    let mut d = Driver::new(get_token());
    start_with(&mut d, "a.b.c");
    d.initial();
    d.frame(&error_frame(
        "unauthorized",
        "connect",
        "invalid token: InvalidSignature",
    ));
    let out = d.close(1006);
    assert!(
        events(&out).contains(&Event::Closed(CloseReason::Unauthorized(
            "invalid token: InvalidSignature".into()
        ))),
        "{out:?}"
    );
    assert_eq!(d.s.next_deadline(), None, "no reconnect");

    let mut d = Driver::open(ClientConfig {
        token: TokenSource::Static("a.b.c".into()),
        ..config()
    });
    d.frame(&error_frame(
        "token_expired",
        "",
        "the connection token expired",
    ));
    let out = d.close(1006);
    assert!(
        events(&out).contains(&Event::Closed(CloseReason::TokenExpired(
            "the connection token expired".into()
        )))
    );

    // With getToken an expiry is fixed the usual way: a new token, a new connection.
    let mut d = Driver::new(get_token());
    open_with(&mut d, "a.b.c");
    d.frame(&error_frame(
        "token_expired",
        "",
        "the connection token expired",
    ));
    assert_eq!(states(&d.close(1006)), [ConnectionState::Reconnecting]);
}

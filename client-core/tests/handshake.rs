//! The `initial` → `connect` handshake and what happens around it.

mod common;
use common::*;
use howl_client_core::*;

#[test]
fn handshake_sends_connect_with_the_assigned_id_byte_for_byte() {
    let mut d = Driver::new(config());
    assert_eq!(d.s.state(), ConnectionState::Closed);
    assert_eq!(d.s.next_deadline(), None, "an idle session needs no timer");
    d.s.connect(0);
    assert_eq!(
        d.drain(),
        [
            Output::Event(Event::StateChanged(ConnectionState::Connecting)),
            Output::OpenSocket
        ]
    );
    assert_eq!(
        d.s.next_deadline(),
        Some(2_000),
        "the handshake timeout runs"
    );
    d.s.on_open(10);
    assert_eq!(d.drain(), []);
    assert_eq!(
        d.s.state(),
        ConnectionState::Connecting,
        "open socket is not an open session"
    );
    let out =
        d.frame(r#"{"type":"initial","payload":{"id":"7f1d6c1e-3b9a-4c4e-9a55-2f0e8d1c9b11"}}"#);
    assert_eq!(
        out,
        [
            Output::Send(
                r#"{"type":"connect","payload":{"id":"7f1d6c1e-3b9a-4c4e-9a55-2f0e8d1c9b11"}}"#
                    .into()
            ),
            Output::Event(Event::StateChanged(ConnectionState::Open)),
        ]
    );
    assert_eq!(d.s.id(), Some("7f1d6c1e-3b9a-4c4e-9a55-2f0e8d1c9b11"));
    assert_eq!(
        d.s.next_deadline(),
        Some(5_000),
        "only the ping timer remains"
    );
}

#[test]
fn connect_is_ignored_unless_closed() {
    let mut d = Driver::open(config());
    d.s.connect(d.now);
    assert_eq!(d.drain(), []);
    assert_eq!(d.s.state(), ConnectionState::Open);
}

#[test]
fn frames_before_initial_are_ignored_and_errors_reported() {
    let mut d = Driver::new(config());
    d.s.connect(0);
    d.drain();
    assert_eq!(d.frame(&pong(1)), []);
    assert_eq!(d.frame(&subscribed("news")), []);
    assert_eq!(d.s.stats().unexpected_ignored, 2);
    let error = r#"{"type":"error","payload":{"code":"shutting_down","message":"bye"}}"#;
    let out = d.frame(error);
    assert!(
        matches!(&events(&out)[..], [Event::ServerError(p)] if p.code == ErrorCode::ShuttingDown)
    );
    assert_eq!(d.s.state(), ConnectionState::Connecting);
    d.handshake();
}

#[test]
fn a_second_initial_is_ignored() {
    let mut d = Driver::open(config());
    let out = d.frame(r#"{"type":"initial","payload":{"id":"other"}}"#);
    assert_eq!(out, []);
    assert_eq!(d.s.id(), Some("id-1"));
    assert_eq!(d.s.stats().unexpected_ignored, 1);
}

#[test]
fn handshake_timeout_closes_the_socket_and_retries() {
    let mut d = Driver::new(config());
    d.s.connect(0);
    d.drain();
    d.s.on_open(5);
    let out = d.advance(2_000);
    assert_eq!(
        out,
        [
            (
                2_000,
                Output::Close {
                    code: close::HANDSHAKE_TIMEOUT,
                    reason: "handshake timeout"
                }
            ),
            (
                2_000,
                Output::Event(Event::ConnectionLost(LostReason::HandshakeTimeout))
            ),
            (
                2_000,
                Output::Event(Event::StateChanged(ConnectionState::Reconnecting))
            ),
            (
                2_000,
                Output::Event(Event::ReconnectScheduled {
                    attempt: 1,
                    delay_ms: 100
                })
            ),
        ]
    );
    // Events of the abandoned socket are ignored.
    assert_eq!(d.frame(r#"{"type":"initial","payload":{"id":"late"}}"#), []);
    assert_eq!(d.close(1006), []);
    assert_eq!(d.advance(100), [(2_100, Output::OpenSocket)]);
    let out = d.handshake();
    assert_eq!(states(&out), [ConnectionState::Open]);
    assert_eq!(d.s.stats().reconnects, 1);
}

#[test]
fn a_socket_that_fails_to_open_counts_as_a_failed_attempt() {
    let mut d = Driver::new(config());
    d.s.connect(0);
    d.drain();
    let out = d.close(1006);
    assert_eq!(
        events(&out),
        [
            Event::ConnectionLost(LostReason::Closed { code: 1006 }),
            Event::StateChanged(ConnectionState::Reconnecting),
            Event::ReconnectScheduled {
                attempt: 1,
                delay_ms: 100
            },
        ]
    );
}

#[test]
fn invalid_settings_are_refused() {
    let bad = ClientConfig {
        reconnect: ReconnectPolicy {
            jitter: 2.0,
            ..ReconnectPolicy::default()
        },
        ..ClientConfig::default()
    };
    let err = ClientSession::new(bad, 1).unwrap_err();
    assert_eq!(err.code(), "invalid_config");
    assert!(err.to_string().contains("jitter"), "{err}");
}

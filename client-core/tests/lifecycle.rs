//! The page's lifecycle: no pings while hidden, a liveness check when shown again or back
//! online, and no reconnect attempts while offline.

mod common;
use common::*;
use howl_client_core::*;

#[test]
fn a_hidden_page_does_not_ping_and_is_never_timed_out_by_its_own_silence() {
    let mut d = Driver::open(config());
    d.s.on_visibility(true, d.now);
    assert!(d.drain().is_empty());
    // Far longer than ping interval plus pong timeout: nothing is due.
    assert_eq!(d.s.next_deadline(), None);
    let out = d.advance_plain(60_000);
    assert!(out.is_empty(), "{out:?}");
    assert_eq!(d.s.state(), ConnectionState::Open);
}

#[test]
fn showing_the_page_checks_the_connection_at_once() {
    let mut d = Driver::open(config());
    d.s.on_visibility(true, d.now);
    d.advance(30_000);
    d.s.on_visibility(false, d.now);
    assert_eq!(sent(&d.drain()), [ping("id-1")], "a ping at once");
    // The server answers: the connection goes on, pings resume on the interval.
    d.now += 20;
    d.frame(&pong(1));
    assert_eq!(d.s.next_deadline(), Some(30_000 + 5_000));
    assert_eq!(d.s.state(), ConnectionState::Open);
}

#[test]
fn a_dead_connection_found_on_show_is_closed_within_the_pong_timeout() {
    let mut d = Driver::open(config());
    d.s.on_visibility(true, d.now);
    d.advance(30_000);
    d.s.on_visibility(false, d.now);
    d.drain();
    let out = d.advance(10_000);
    let lost = out.iter().find_map(|(t, o)| match o {
        Output::Event(Event::ConnectionLost(reason)) => Some((*t, reason.clone())),
        _ => None,
    });
    assert_eq!(lost, Some((40_000, LostReason::PingTimeout)));
}

#[test]
fn a_connection_made_while_hidden_does_not_ping_until_shown() {
    let mut d = Driver::new(config());
    d.s.on_visibility(true, d.now);
    d.s.connect(d.now);
    d.drain();
    d.handshake();
    assert_eq!(d.s.next_deadline(), None);
    d.s.on_visibility(false, d.now);
    assert_eq!(sent(&d.drain()), [ping("id-1")]);
}

#[test]
fn pings_off_stay_off_on_show() {
    let mut d = Driver::open(ClientConfig {
        ping_interval_ms: 0,
        ..config()
    });
    d.s.on_visibility(true, d.now);
    d.s.on_visibility(false, d.now);
    d.s.on_network(true, d.now);
    assert!(sent(&d.drain()).is_empty());
}

#[test]
fn offline_no_attempts_are_made_and_online_reconnects_at_once() {
    let mut d = Driver::open(config());
    d.s.on_network(false, d.now);
    assert!(d.s.is_offline());
    let out = d.close(1006);
    assert!(events(&out).contains(&Event::ReconnectScheduled {
        attempt: 1,
        delay_ms: 100
    }));
    assert_eq!(d.s.next_deadline(), None, "no timer while offline");
    let out = d.advance_plain(60_000);
    assert!(!out.contains(&Output::OpenSocket), "{out:?}");
    assert_eq!(d.s.state(), ConnectionState::Reconnecting);
    d.s.on_network(true, d.now);
    assert_eq!(d.drain(), [Output::OpenSocket], "at once");
    assert_eq!(d.s.reconnect_attempt(), 1);
    d.handshake();
    assert_eq!(d.s.state(), ConnectionState::Open);
}

#[test]
fn back_online_while_connected_checks_the_connection() {
    let mut d = Driver::open(config());
    d.s.on_network(false, d.now);
    d.s.on_network(true, d.now);
    assert_eq!(sent(&d.drain()), [ping("id-1")]);
}

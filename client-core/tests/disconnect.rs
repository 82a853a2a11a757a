//! Ending the session.

mod common;
use common::*;
use howl_client_core::*;

#[test]
fn disconnect_sends_disconnect_then_closes_with_1000_and_stops_every_timer() {
    let mut d = Driver::open(config());
    d.subscribed("news");
    let (pending, _) = d.subscribe(Some("sport"));
    d.s.watch("lobby").unwrap();
    d.drain();
    d.s.disconnect(d.now);
    assert_eq!(
        d.drain(),
        [
            Output::Send(r#"{"type":"disconnect","payload":{"id":"id-1"}}"#.into()),
            Output::Close {
                code: close::NORMAL,
                reason: "client disconnect"
            },
            Output::Event(Event::RequestDone {
                id: pending,
                result: Err(ClientError::Closed)
            }),
            Output::Event(Event::Closed(CloseReason::Disconnected)),
            Output::Event(Event::StateChanged(ConnectionState::Closed)),
        ]
    );
    assert_eq!(d.s.next_deadline(), None, "no timer left");
    assert_eq!(d.s.subscriptions().count(), 0);
    assert_eq!(d.s.watches().count(), 0);
    assert_eq!(d.s.id(), None);
    // The socket's own close event and late frames are ignored; time passing does nothing.
    assert_eq!(d.close(1000), []);
    assert_eq!(d.frame(&message("news", 1, 1, serde_json::json!(1))), []);
    assert_eq!(d.advance(3_600_000), []);
    // A second disconnect is a no-op.
    d.s.disconnect(d.now);
    assert_eq!(d.drain(), []);
}

#[test]
fn disconnect_while_reconnecting_cancels_the_attempt() {
    let mut d = Driver::open(config());
    d.close(1006);
    assert!(d.s.next_deadline().is_some());
    d.s.disconnect(d.now);
    let out = d.drain();
    assert_eq!(
        out,
        [
            Output::Event(Event::Closed(CloseReason::Disconnected)),
            Output::Event(Event::StateChanged(ConnectionState::Closed)),
        ],
        "no socket to close, no frame to send"
    );
    assert_eq!(d.s.next_deadline(), None);
    assert_eq!(d.advance(60_000), []);
}

#[test]
fn disconnect_while_connecting_closes_the_opening_socket() {
    let mut d = Driver::new(config());
    d.s.connect(0);
    d.drain();
    d.s.disconnect(1);
    assert_eq!(
        d.drain()[0],
        Output::Close {
            code: close::NORMAL,
            reason: "client disconnect"
        }
    );
    assert_eq!(d.s.next_deadline(), None);
}

#[test]
fn a_disconnected_session_can_connect_again_from_scratch() {
    let mut d = Driver::open(config());
    d.subscribed("news");
    d.s.disconnect(d.now);
    d.drain();
    d.s.connect(d.now);
    d.drain();
    let out = d.handshake();
    assert_eq!(
        sent(&out),
        [r#"{"type":"connect","payload":{"id":"id-2"}}"#],
        "nothing re-subscribed"
    );
}

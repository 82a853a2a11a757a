//! Subscriptions the server makes (`subscribed`, e.g. the token's `channels`) and ends
//! (`unsubscribed`).

mod common;
use common::*;
use howl_client_core::*;
use howl_protocol::{ServerMessage, SubscribedPayload};
use serde_json::json;

fn server_subscribed(channel: &str) -> String {
    ServerMessage::Subscribed(SubscribedPayload {
        channel: channel.into(),
    })
    .to_json()
}

fn server_unsubscribed(channel: &str) -> String {
    ServerMessage::Unsubscribed(SubscribedPayload {
        channel: channel.into(),
    })
    .to_json()
}

#[test]
fn channels_the_server_subscribed_deliver_their_messages() {
    let mut d = Driver::open(config());
    let out = d.frame(r#"{"type":"subscribed","payload":{"channel":"alerts"}}"#);
    assert_eq!(
        out,
        [Output::Event(Event::Subscribed {
            channel: "alerts".into()
        })]
    );
    assert_eq!(d.s.server_subscriptions().collect::<Vec<_>>(), ["alerts"]);
    assert_eq!(d.s.subscriptions().count(), 0, "not the application's set");
    let out = d.frame(&message("alerts", 1, 10, json!({"level": "high"})));
    assert_eq!(
        messages(&out),
        [Message {
            channel: "alerts".into(),
            data: json!({"level": "high"}),
            seq: 1,
            time: 10
        }]
    );
    assert_eq!(d.s.stats().unsolicited_dropped, 0);
    // Told twice: reported once.
    assert_eq!(d.frame(&server_subscribed("alerts")), []);
    assert_eq!(d.s.stats().unexpected_ignored, 1);
}

#[test]
fn unsubscribed_stops_delivery() {
    let mut d = Driver::open(config());
    d.frame(&server_subscribed("alerts"));
    let out = d.frame(&server_unsubscribed("alerts"));
    assert_eq!(
        events(&out),
        [Event::Unsubscribed {
            channel: "alerts".into()
        }]
    );
    assert_eq!(d.s.server_subscriptions().count(), 0);
    assert_eq!(d.frame(&message("alerts", 2, 20, json!(1))), []);
    assert_eq!(d.s.stats().unsolicited_dropped, 1);
    // Of a channel this connection does not have: ignored.
    assert_eq!(d.frame(&server_unsubscribed("elsewhere")), []);
    assert_eq!(d.s.stats().unexpected_ignored, 1);
}

#[test]
fn a_channel_the_server_dropped_leaves_the_set_and_is_not_rejoined_after_a_reconnect() {
    let mut d = Driver::open(config());
    d.subscribed("news");
    d.subscribed("sport");
    let out = d.frame(&server_unsubscribed("news"));
    assert_eq!(
        events(&out),
        [Event::Unsubscribed {
            channel: "news".into()
        }]
    );
    assert_eq!(d.s.subscriptions().collect::<Vec<_>>(), [("sport", true)]);
    assert_eq!(d.frame(&message("news", 1, 1, json!(1))), []);
    d.close(1006);
    d.advance(100);
    let out = d.handshake();
    assert_eq!(sent(&out)[1..], [sub("id-2", "sport")]);
}

#[test]
fn the_client_leaves_resubscribing_server_channels_to_the_server() {
    let mut d = Driver::open(config());
    d.frame(&server_subscribed("alerts"));
    d.subscribed("news");
    d.close(1006);
    assert_eq!(
        d.s.server_subscriptions().count(),
        0,
        "gone with the connection"
    );
    d.advance(100);
    let out = d.handshake();
    assert_eq!(
        sent(&out),
        [
            r#"{"type":"connect","payload":{"id":"id-2"}}"#.to_owned(),
            sub("id-2", "news")
        ],
        "no subscribe for alerts"
    );
    // The new connection's server subscribes it again, from the token.
    let out = d.frame(&server_subscribed("alerts"));
    assert_eq!(
        events(&out),
        [Event::Subscribed {
            channel: "alerts".into()
        }]
    );
    assert_eq!(d.frame(&message("alerts", 5, 50, json!("again"))).len(), 1);
}

#[test]
fn the_application_may_unsubscribe_a_channel_the_server_subscribed() {
    let mut d = Driver::open(config());
    d.frame(&server_subscribed("alerts"));
    let (req, out) = d.unsubscribe(Some("alerts"));
    assert_eq!(sent(&out), [unsub("id-1", "alerts")]);
    assert_eq!(d.s.server_subscriptions().count(), 0);
    assert_eq!(d.frame(&message("alerts", 1, 1, json!(1))), []);
    let out = d.frame(&unsubscribed("alerts"));
    assert_eq!(done(&out), [(req, Ok(()))]);
}

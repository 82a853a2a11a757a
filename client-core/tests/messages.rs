//! Every server message, bad input, duplicate suppression, publish.

mod common;
use common::*;
use howl_client_core::*;
use serde_json::json;

#[test]
fn messages_are_delivered_with_channel_data_seq_and_time() {
    let mut d = Driver::open(config());
    d.subscribed("news");
    let out = d.frame(
        r#"{"type":"message","payload":{"channel":"news","seq":42,"time":1795000000000,"data":{"headline":"Moon is full","n":[1,2]}}}"#,
    );
    assert_eq!(
        messages(&out),
        [Message {
            channel: "news".into(),
            data: json!({"headline": "Moon is full", "n": [1, 2]}),
            seq: 42,
            time: 1_795_000_000_000,
        }]
    );
}

#[test]
fn duplicates_are_never_delivered_twice_even_across_reconnects() {
    let mut d = Driver::open(config());
    d.subscribed("news");
    d.subscribed("sport");
    let mut delivered = Vec::new();
    let mut feed = |d: &mut Driver, channel: &str, seq: u64| {
        let out = d.frame(&message(channel, seq, 1_000 + seq, json!(seq)));
        delivered.extend(messages(&out).into_iter().map(|m| (m.channel, m.seq)));
    };
    for seq in [1, 2, 2, 3, 1] {
        feed(&mut d, "news", seq);
    }
    feed(&mut d, "sport", 1);
    // Lost and back: the server (or another node) repeats what it sent before.
    d.close(1006);
    d.advance(100);
    d.handshake();
    d.frame(&subscribed("news"));
    d.frame(&subscribed("sport"));
    for seq in [2, 3, 4] {
        feed(&mut d, "news", seq);
    }
    feed(&mut d, "sport", 1);
    feed(&mut d, "sport", 2);
    assert_eq!(
        delivered,
        [
            ("news".into(), 1),
            ("news".into(), 2),
            ("news".into(), 3),
            ("sport".into(), 1),
            ("news".into(), 4),
            ("sport".into(), 2),
        ]
    );
    assert_eq!(d.s.stats().duplicates_dropped, 5);
}

#[test]
fn a_restarted_server_counting_from_one_again_is_not_mistaken_for_duplicates() {
    let mut d = Driver::open(config());
    d.subscribed("wisdom");
    for seq in 1..=5 {
        assert_eq!(
            messages(&d.frame(&message("wisdom", seq, 1_000 + seq, json!(seq)))).len(),
            1
        );
    }
    d.close(1006);
    d.advance(100);
    d.handshake();
    d.frame(&subscribed("wisdom"));
    // New process: seq restarts at 1, stamped later.
    for seq in 1..=3 {
        let out = d.frame(&message("wisdom", seq, 9_000 + seq, json!(seq)));
        assert_eq!(messages(&out).len(), 1, "seq {seq} of the new epoch");
    }
    assert_eq!(
        messages(&d.frame(&message("wisdom", 2, 9_002, json!(2)))).len(),
        0
    );
}

#[test]
fn messages_for_channels_not_subscribed_are_dropped() {
    let mut d = Driver::open(config());
    d.subscribed("news");
    assert_eq!(d.frame(&message("other", 1, 1, json!(1))), []);
    d.unsubscribe(Some("news"));
    // In flight before the server processed the unsubscribe: not delivered any more.
    assert_eq!(d.frame(&message("news", 1, 1, json!(1))), []);
    assert_eq!(d.s.stats().unsolicited_dropped, 2);
}

#[test]
fn messages_flow_before_the_confirmation_arrives() {
    let mut d = Driver::open(config());
    d.subscribe(Some("news"));
    assert_eq!(
        messages(&d.frame(&message("news", 1, 1, json!("x")))).len(),
        1
    );
}

#[test]
fn frames_for_requests_this_session_never_makes_are_ignored() {
    // The session always subscribes by name and sends no `ref`, so neither the original
    // quote form nor a publish confirmation can be meant for it.
    let mut d = Driver::open(config());
    d.subscribed(DEFAULT_CHANNEL);
    let wisdom = r#"{"type":"wisdom_distribution","payload":{"message":"Howl together."}}"#;
    let confirmation =
        r#"{"type":"publish_confirmation","payload":{"channel":"a","seq":1,"ref":1}}"#;
    assert_eq!(d.frame(wisdom), []);
    assert_eq!(d.frame(confirmation), []);
    assert_eq!(d.s.stats().unexpected_ignored, 2);
}

#[test]
fn channel_status_is_delivered_for_watched_channels_only() {
    let mut d = Driver::open(config());
    let status = r#"{"type":"channel_status","payload":{"channel":"news","occupied":true}}"#;
    assert_eq!(d.frame(status), []);
    d.s.watch("news").unwrap();
    assert_eq!(
        sent(&d.drain()),
        [r#"{"type":"watch","payload":{"id":"id-1","channel":"news"}}"#]
    );
    assert_eq!(
        events(&d.frame(status)),
        [Event::ChannelStatus {
            channel: "news".into(),
            occupied: true
        }]
    );
    d.s.watch("news").unwrap();
    assert_eq!(d.drain(), [], "watching twice sends nothing");
    d.s.unwatch("news").unwrap();
    assert_eq!(
        sent(&d.drain()),
        [r#"{"type":"unwatch","payload":{"id":"id-1","channel":"news"}}"#]
    );
    assert_eq!(d.frame(status), []);
}

#[test]
fn unknown_event_types_are_ignored() {
    let mut d = Driver::open(config());
    d.subscribed("news");
    for text in [
        r#"{"type":"presence","payload":{"who":["a"]}}"#,
        r#"{"type":"from_the_future"}"#,
        r#"{"type":"history","payload":null,"extra":1}"#,
    ] {
        assert_eq!(d.frame(text), [], "{text}");
    }
    assert_eq!(d.s.stats().unknown_ignored, 3);
    assert_eq!(d.s.state(), ConnectionState::Open);
    assert_eq!(
        messages(&d.frame(&message("news", 1, 1, json!(1)))).len(),
        1,
        "still works"
    );
}

#[test]
fn undecodable_frames_are_reported_never_panicked_on() {
    let mut d = Driver::open(config());
    d.subscribed("news");
    let bad = [
        "",
        "{not json",
        "[1,2,3]",
        "null",
        r#"{"payload":{}}"#,
        r#"{"type":7}"#,
        r#"{"type":"message"}"#,
        r#"{"type":"message","payload":{"channel":"news","seq":-1,"time":0,"data":1}}"#,
        r#"{"type":"message","payload":{"channel":"news","seq":1,"time":0}}"#,
        r#"{"type":"initial","payload":{"id":5}}"#,
        r#"{"type":"pong","payload":{}}"#,
        r#"{"type":"error","payload":{"message":"no code"}}"#,
        r#"{"type":"subscribe_confirmation","payload":{"status":"maybe"}}"#,
        "\u{0}\u{1}binary-ish",
        &"[".repeat(10_000),
    ];
    for text in bad {
        let out = d.frame(text);
        assert!(
            matches!(&events(&out)[..], [Event::ProtocolViolation(_)]),
            "{:?} → {out:?}",
            &text[..text.len().min(40)]
        );
    }
    assert_eq!(d.s.stats().invalid_frames, bad.len() as u64);
    assert_eq!(
        d.s.state(),
        ConnectionState::Open,
        "bad input does not end the session"
    );
    assert_eq!(
        messages(&d.frame(&message("news", 1, 1, json!(1)))).len(),
        1
    );
}

#[test]
fn publish_sends_the_exact_frame() {
    let mut d = Driver::open(config());
    d.s.publish("news", json!({"headline": "Moon is full"}), true)
        .unwrap();
    d.s.publish("news", json!("hi"), false).unwrap();
    assert_eq!(
        sent(&d.drain()),
        [
            r#"{"type":"publish","payload":{"id":"id-1","channel":"news","data":{"headline":"Moon is full"},"exclude_self":true}}"#,
            r#"{"type":"publish","payload":{"id":"id-1","channel":"news","data":"hi"}}"#,
        ]
    );
}

#[test]
fn publish_refuses_what_cannot_be_sent() {
    let mut d = Driver::new(config());
    d.s.connect(0);
    d.drain();
    assert_eq!(
        d.s.publish("news", json!(1), false),
        Err(ClientError::NotConnected)
    );
    d.handshake();
    assert_eq!(
        d.s.publish("bad channel", json!(1), false)
            .unwrap_err()
            .code(),
        "invalid_channel"
    );
    let err =
        d.s.publish("news", json!("x".repeat(2_000)), false)
            .unwrap_err();
    assert!(
        matches!(err, ClientError::TooLarge { limit: 1024, size } if size > 2_000),
        "{err:?}"
    );
    assert_eq!(err.code(), "message_too_large");
    assert_eq!(sent(&d.drain()), Vec::<String>::new(), "nothing was sent");
    d.close(1006);
    assert_eq!(
        d.s.publish("news", json!(1), false),
        Err(ClientError::NotConnected)
    );
}

//! Confirmed publishes: sent with a `ref`, settled by `publish_confirmation` or `error`,
//! queued (bounded) while the connection is down, and failed on timeout, loss or close.

mod common;
use common::*;
use howl_client_core::*;
use serde_json::json;

fn publish_done(outputs: &[Output]) -> Vec<(RequestId, Result<PublishAck, ClientError>)> {
    events(outputs)
        .into_iter()
        .filter_map(|e| match e {
            Event::PublishDone { id, result } => Some((id, result)),
            _ => None,
        })
        .collect()
}

fn publish_frame(id: &str, channel: &str, data: &str, reference: u64) -> String {
    format!(
        r#"{{"type":"publish","payload":{{"id":"{id}","channel":"{channel}","data":{data},"ref":{reference}}}}}"#
    )
}

fn confirmation(channel: &str, seq: u64, reference: u64) -> String {
    format!(
        r#"{{"type":"publish_confirmation","payload":{{"channel":"{channel}","seq":{seq},"ref":{reference}}}}}"#
    )
}

fn refusal(code: &str, channel: &str, reference: u64) -> String {
    format!(
        r#"{{"type":"error","payload":{{"code":"{code}","message":"no","request":"publish","channel":"{channel}","ref":{reference}}}}}"#
    )
}

#[test]
fn a_publish_carries_a_ref_and_resolves_with_the_confirmed_seq() {
    let mut d = Driver::open(config());
    let a = d.s.publish_confirmed("news", json!({"n": 1}), false, d.now);
    let b = d.s.publish_confirmed("news", json!(2), false, d.now);
    assert_eq!(
        sent(&d.drain()),
        [
            publish_frame("id-1", "news", r#"{"n":1}"#, a.0),
            publish_frame("id-1", "news", "2", b.0),
        ]
    );
    assert_eq!(d.s.pending_publishes(), 2);
    // Answers are matched by ref, not by order.
    let out = d.frame(&confirmation("news", 8, b.0));
    assert_eq!(publish_done(&out), [(b, Ok(PublishAck { seq: 8 }))]);
    let out = d.frame(&confirmation("news", 7, a.0));
    assert_eq!(publish_done(&out), [(a, Ok(PublishAck { seq: 7 }))]);
    assert_eq!(d.s.pending_publishes(), 0);
    let out = d.frame(&confirmation("news", 9, a.0));
    assert!(publish_done(&out).is_empty(), "answered once");
    assert_eq!(d.s.stats().unexpected_ignored, 1);
}

#[test]
fn a_refusal_rejects_the_publish_with_the_server_code() {
    let mut d = Driver::open(config());
    for code in ["permission_denied", "rate_limited", "broker_unavailable"] {
        let id = d.s.publish_confirmed("news", json!(1), false, d.now);
        d.drain();
        let out = d.frame(&refusal(code, "news", id.0));
        let results = publish_done(&out);
        assert_eq!(results.len(), 1, "{out:?}");
        assert_eq!(results[0].0, id);
        assert_eq!(results[0].1.as_ref().unwrap_err().code(), code);
        assert!(
            events(&out)
                .iter()
                .all(|e| !matches!(e, Event::ServerError(_))),
            "not also reported as a loose error"
        );
    }
    // An error with an unknown ref is still reported to the application.
    let out = d.frame(&refusal("permission_denied", "news", 999));
    assert!(matches!(events(&out).as_slice(), [Event::ServerError(_)]));
}

#[test]
fn publishes_wait_while_reconnecting_and_are_sent_once_open() {
    let mut d = Driver::open(config());
    d.close(1006);
    let a = d.s.publish_confirmed("news", json!("a"), false, d.now);
    let b = d.s.publish_confirmed("news", json!("b"), true, d.now);
    assert!(sent(&d.drain()).is_empty(), "nothing sent while down");
    d.advance(100);
    let out = d.handshake();
    let frames = sent(&out);
    assert_eq!(
        &frames[1..],
        [
            publish_frame("id-2", "news", r#""a""#, a.0),
            format!(
                r#"{{"type":"publish","payload":{{"id":"id-2","channel":"news","data":"b","exclude_self":true,"ref":{}}}}}"#,
                b.0
            ),
        ],
        "after connect, oldest first, with the new id"
    );
    let out = d.frame(&confirmation("news", 1, a.0));
    assert_eq!(publish_done(&out), [(a, Ok(PublishAck { seq: 1 }))]);
}

#[test]
fn a_full_queue_fails_the_publish_at_once() {
    let mut d = Driver::new(config());
    d.s.connect(d.now);
    d.drain();
    d.s.publish_confirmed("news", json!(1), false, d.now);
    d.s.publish_confirmed("news", json!(2), false, d.now);
    let third = d.s.publish_confirmed("news", json!(3), false, d.now);
    let out = d.drain();
    assert_eq!(
        publish_done(&out),
        [(third, Err(ClientError::PublishQueueFull(2)))]
    );
    assert_eq!(
        ClientError::PublishQueueFull(2).code(),
        "publish_queue_full"
    );
    assert_eq!(d.s.pending_publishes(), 2);
}

#[test]
fn a_publish_times_out_after_the_request_timeout_queued_time_included() {
    let mut d = Driver::open(config());
    d.close(1006);
    let queued = d.s.publish_confirmed("news", json!(1), false, d.now);
    d.drain();
    // The server stays down (every attempt fails) past the request timeout (3 s).
    let mut results = Vec::new();
    for _ in 0..40 {
        let out = d.advance_plain(100);
        if out.contains(&Output::OpenSocket) {
            d.close(1006);
        }
        results.extend(publish_done(&out));
    }
    assert_eq!(results, [(queued, Err(ClientError::Timeout(3_000)))]);

    let mut d = Driver::open(config());
    let sent_one = d.s.publish_confirmed("news", json!(1), false, d.now);
    d.drain();
    let out = d.advance_plain(3_000);
    assert_eq!(
        publish_done(&out),
        [(sent_one, Err(ClientError::Timeout(3_000)))]
    );
}

#[test]
fn a_sent_publish_fails_when_the_connection_drops_and_all_fail_on_close() {
    let mut d = Driver::open(config());
    let in_flight = d.s.publish_confirmed("news", json!(1), false, d.now);
    d.drain();
    let out = d.close(1006);
    assert_eq!(
        publish_done(&out),
        [(in_flight, Err(ClientError::ConnectionLost))]
    );
    assert_eq!(ClientError::ConnectionLost.code(), "connection_lost");
    let queued = d.s.publish_confirmed("news", json!(2), false, d.now);
    d.s.disconnect(d.now);
    assert_eq!(
        publish_done(&d.drain()),
        [(queued, Err(ClientError::Closed))]
    );
    let late = d.s.publish_confirmed("news", json!(3), false, d.now);
    assert_eq!(publish_done(&d.drain()), [(late, Err(ClientError::Closed))]);
    assert_eq!(d.s.next_deadline(), None, "no timer left");
}

#[test]
fn bad_channels_and_oversized_data_fail_at_once() {
    let mut d = Driver::open(config());
    let bad = d.s.publish_confirmed("bad channel", json!(1), false, d.now);
    let big =
        d.s.publish_confirmed("news", json!("x".repeat(2_000)), false, d.now);
    let out = d.drain();
    assert!(sent(&out).is_empty());
    let results = publish_done(&out);
    assert_eq!(results[0].0, bad);
    assert_eq!(results[0].1.as_ref().unwrap_err().code(), "invalid_channel");
    assert_eq!(results[1].0, big);
    assert_eq!(
        results[1].1.as_ref().unwrap_err().code(),
        "message_too_large"
    );
}

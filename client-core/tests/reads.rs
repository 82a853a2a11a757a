//! History and presence reads: frames with a `ref`, answers matched by it in any order,
//! errors, waiting across a reconnect, timeouts; and `join`/`leave` events.

mod common;
use common::*;
use howl_client_core::*;
use serde_json::json;

fn history_done(out: &[Output]) -> Vec<(RequestId, Result<History, ClientError>)> {
    events(out)
        .into_iter()
        .filter_map(|e| match e {
            Event::HistoryDone { id, result } => Some((id, result)),
            _ => None,
        })
        .collect()
}

fn presence_done(out: &[Output]) -> Vec<(RequestId, Result<Presence, ClientError>)> {
    events(out)
        .into_iter()
        .filter_map(|e| match e {
            Event::PresenceDone { id, result } => Some((id, result)),
            _ => None,
        })
        .collect()
}

fn msg(seq: u64, data: serde_json::Value) -> Message {
    Message {
        channel: "news".into(),
        data,
        seq,
        time: 1000 + seq,
    }
}

#[test]
fn history_requests_are_matched_to_their_answers_by_ref() {
    let mut d = Driver::open(config());
    let all = d.s.history("news", HistoryOptions::default(), d.now);
    let since = HistoryOptions {
        limit: Some(2),
        since: Some(StreamPosition {
            epoch: "e1".into(),
            seq: 4,
        }),
    };
    let later = d.s.history("news", since, d.now);
    assert_eq!(
        sent(&d.drain()),
        [
            format!(
                r#"{{"type":"history","payload":{{"id":"id-1","channel":"news","ref":{}}}}}"#,
                all.0
            ),
            format!(
                r#"{{"type":"history","payload":{{"id":"id-1","channel":"news","limit":2,"since":{{"epoch":"e1","seq":4}},"ref":{}}}}}"#,
                later.0
            ),
        ]
    );
    // Answered out of order.
    let out = d.frame(&format!(
        r#"{{"type":"history_result","payload":{{"channel":"news","epoch":"e1","seq":9,"messages":[{{"seq":5,"time":1005,"data":{{"n":5}}}},{{"seq":6,"time":1006,"data":"six"}}],"ref":{}}}}}"#,
        later.0
    ));
    assert_eq!(
        history_done(&out),
        [(
            later,
            Ok(History {
                position: StreamPosition {
                    epoch: "e1".into(),
                    seq: 9
                },
                messages: vec![msg(5, json!({"n": 5})), msg(6, json!("six"))],
            })
        )]
    );
    assert!(
        messages(&out).is_empty(),
        "history is not delivered as messages"
    );
    let out = d.frame(&format!(
        r#"{{"type":"error","payload":{{"code":"not_available","message":"this channel keeps no history","request":"history","channel":"news","ref":{}}}}}"#,
        all.0
    ));
    let [(id, Err(ClientError::Server { code, .. }))] = &history_done(&out)[..] else {
        panic!("the refusal answers the request: {out:?}");
    };
    assert_eq!((*id, *code), (all, ErrorCode::NotAvailable));
    assert_eq!(events(&out).len(), 1, "and nothing else hears of it");
    // An answer nobody asked for is ignored.
    d.frame(r#"{"type":"history_result","payload":{"channel":"news","epoch":"e1","seq":9,"messages":[],"ref":999}}"#);
    assert_eq!(d.s.stats().unexpected_ignored, 1);
}

#[test]
fn presence_requests_get_count_and_members() {
    let mut d = Driver::open(config());
    let id = d.s.presence("room:1", d.now);
    assert_eq!(
        sent(&d.drain()),
        [format!(
            r#"{{"type":"presence","payload":{{"id":"id-1","channel":"room:1","ref":{}}}}}"#,
            id.0
        )]
    );
    let out = d.frame(&format!(
        r#"{{"type":"presence_result","payload":{{"channel":"room:1","count":2,"members":[{{"client":"c1","user":"alice","info":{{"name":"Alice"}}}},{{"client":"c2"}}],"ref":{}}}}}"#,
        id.0
    ));
    let members = vec![
        Member {
            client: "c1".into(),
            user: Some("alice".into()),
            info: Some(json!({"name": "Alice"})),
        },
        Member {
            client: "c2".into(),
            user: None,
            info: None,
        },
    ];
    assert_eq!(
        presence_done(&out),
        [(
            id,
            Ok(Presence {
                count: 2,
                members: Some(members)
            })
        )]
    );
    // Too many to list: the count only. A presence answer never settles a history read.
    let history = d.s.history("room:1", HistoryOptions::default(), d.now);
    let id = d.s.presence("room:1", d.now);
    d.drain();
    let out = d.frame(&format!(
        r#"{{"type":"presence_result","payload":{{"channel":"room:1","count":5000,"ref":{}}}}}"#,
        history.0
    ));
    assert!(presence_done(&out).is_empty() && history_done(&out).is_empty());
    let out = d.frame(&format!(
        r#"{{"type":"presence_result","payload":{{"channel":"room:1","count":5000,"ref":{}}}}}"#,
        id.0
    ));
    assert_eq!(
        presence_done(&out),
        [(
            id,
            Ok(Presence {
                count: 5000,
                members: None
            })
        )]
    );
}

#[test]
fn reads_wait_for_the_connection_and_are_sent_again_after_a_loss() {
    let mut d = Driver::open(config());
    let id = d.s.presence("lobby", d.now);
    assert_eq!(sent(&d.drain()).len(), 1);
    d.close(1006);
    let queued = d.s.history("lobby", HistoryOptions::default(), d.now);
    assert!(
        sent(&d.drain()).is_empty(),
        "nothing is sent while reconnecting"
    );
    d.advance(100);
    let out = d.handshake();
    assert_eq!(
        sent(&out)[1..],
        [
            format!(
                r#"{{"type":"presence","payload":{{"id":"id-2","channel":"lobby","ref":{}}}}}"#,
                id.0
            ),
            format!(
                r#"{{"type":"history","payload":{{"id":"id-2","channel":"lobby","ref":{}}}}}"#,
                queued.0
            ),
        ],
        "reads change nothing, so the lost one is asked again"
    );
    let out = d.frame(&format!(
        r#"{{"type":"presence_result","payload":{{"channel":"lobby","count":0,"members":[],"ref":{}}}}}"#,
        id.0
    ));
    assert_eq!(presence_done(&out).len(), 1);
}

#[test]
fn reads_time_out_fail_when_closed_and_refuse_bad_channels() {
    let mut d = Driver::open(config());
    let slow = d.s.history("news", HistoryOptions::default(), d.now);
    d.drain();
    assert_eq!(d.s.next_deadline(), Some(3_000), "the request timeout");
    let out = d.advance_plain(3_000);
    assert_eq!(
        history_done(&out),
        [(slow, Err(ClientError::Timeout(3_000)))]
    );

    let bad = d.s.presence("bad name", d.now);
    let [(id, Err(ClientError::InvalidChannel(_)))] = &presence_done(&d.drain())[..] else {
        panic!("a bad channel fails at once");
    };
    assert_eq!(*id, bad);

    let pending = d.s.presence("news", d.now);
    d.drain();
    d.s.disconnect(d.now);
    assert_eq!(
        presence_done(&d.drain()),
        [(pending, Err(ClientError::Closed))]
    );
    let late = d.s.history("news", HistoryOptions::default(), d.now);
    assert_eq!(history_done(&d.drain()), [(late, Err(ClientError::Closed))]);
}

#[test]
fn join_and_leave_are_delivered_for_subscribed_channels() {
    let mut d = Driver::open(config());
    d.subscribed("room:1");
    let join =
        r#"{"type":"join","payload":{"channel":"room:1","member":{"client":"c9","user":"bob"}}}"#;
    let bob = Member {
        client: "c9".into(),
        user: Some("bob".into()),
        info: None,
    };
    assert_eq!(
        events(&d.frame(join)),
        [Event::Join {
            channel: "room:1".into(),
            member: bob.clone()
        }]
    );
    let leave = join.replace(r#""type":"join""#, r#""type":"leave""#);
    assert_eq!(
        events(&d.frame(&leave)),
        [Event::Leave {
            channel: "room:1".into(),
            member: bob
        }]
    );
    let elsewhere = join.replace("room:1", "room:2");
    assert!(events(&d.frame(&elsewhere)).is_empty());
    assert_eq!(d.s.stats().unexpected_ignored, 1);
}

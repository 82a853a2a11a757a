//! This session's own publishes with `exclude_self` leave holes in the `seq`s it receives;
//! they are no gaps: no history is asked for them, none is delivered from history or a
//! recovery, and the recovered count leaves them out.

mod common;
use common::streams::*;
use common::*;
use howl_client_core::*;
use serde_json::json;

fn history_requests(out: &[Output]) -> usize {
    sent(out)
        .iter()
        .filter(|f| f.contains(r#""type":"history""#))
        .count()
}

fn publish_confirmation(seq: u64, r: u64) -> String {
    format!(
        r#"{{"type":"publish_confirmation","payload":{{"channel":"news","seq":{seq},"ref":{r}}}}}"#
    )
}

#[test]
fn a_confirmed_publish_excluding_self_is_no_gap() {
    let mut d = subscribed_at(10, 0);
    let id = d.s.publish_confirmed("news", json!("mine"), true, d.now);
    d.drain();
    let out = d.frame(&publish_confirmation(11, id.0));
    assert!(matches!(
        &events(&out)[..],
        [Event::PublishDone {
            result: Ok(PublishAck { seq: 11 }),
            ..
        }]
    ));
    let out = d.frame(&msg("news", 12));
    assert_eq!(history_requests(&out), 0, "11 is this session's own");
    assert_eq!(seqs(&out), [12]);
    assert!(gaps(&out).is_empty());
}

#[test]
fn a_fire_and_forget_publish_excluding_self_asks_for_its_seq() {
    let mut d = subscribed_at(10, 0);
    d.s.publish("news", json!("mine"), true).unwrap();
    let frames = sent(&d.drain());
    let [frame] = &frames[..] else {
        panic!("one publish: {frames:?}");
    };
    let frame: serde_json::Value = serde_json::from_str(frame).unwrap();
    let r = frame["payload"]["ref"]
        .as_u64()
        .expect("a ref, to learn the seq");
    let out = d.frame(&publish_confirmation(11, r));
    assert!(events(&out).is_empty(), "nothing for the application");
    assert_eq!(d.s.stats().unexpected_ignored, 0);
    let out = d.frame(&msg("news", 12));
    assert_eq!((history_requests(&out), seqs(&out)), (0, vec![12]));
    // Channels without a tracked position publish exactly as before.
    d.s.publish("other", json!(1), true).unwrap();
    assert!(!sent(&d.drain())[0].contains("\"ref\""));
}

#[test]
fn own_messages_are_skipped_in_history_and_recovery() {
    let mut d = subscribed_at(10, 0);
    let id = d.s.publish_confirmed("news", json!("mine"), true, d.now);
    d.drain();
    // Someone else's 12 arrives before the confirmation of 11: a gap, for now.
    let r = history_ref(&d.frame(&msg("news", 12)));
    d.frame(&publish_confirmation(11, id.0));
    let out = d.frame(&history_result("news", "e1", 12, &[(11, 11)], r));
    assert_eq!(seqs(&out), [12], "11 is not delivered back");
    assert!(gaps(&out).is_empty());

    // Own 14 is confirmed while others' 13 is still on its way, and the connection drops:
    // the recovery replays 13 to 15.
    let id = d.s.publish_confirmed("news", json!("mine"), true, d.now);
    d.drain();
    d.frame(&publish_confirmation(14, id.0));
    assert_eq!(
        reconnect(&mut d)[1..],
        [sub_since("id-2", "news", "e1", 12)]
    );
    let out = d.frame(&confirmation("news", "e1", 15, Some(true)));
    assert!(matches!(
        &events(&out)[..],
        [Event::SubscriptionConfirmed {
            recovered: Some(true),
            recovered_count: 2,
            ..
        }]
    ));
    let mut delivered = Vec::new();
    for s in 13..=16 {
        delivered.extend(seqs(&d.frame(&msg("news", s))));
    }
    assert_eq!(delivered, [13, 15, 16]);
    assert_eq!(d.s.stats().duplicates_dropped, 0);
}

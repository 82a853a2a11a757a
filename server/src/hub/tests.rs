//! The hub's fan-out, held subscriptions and watcher notices.

use super::*;
use serde_json::value::to_raw_value;

fn hub() -> Hub {
    Hub::new(Arc::default())
}

fn publication(channel: &str, exclude: Option<ConnId>) -> Publication {
    Publication {
        channel: channel.into(),
        seq: 1,
        time: 0,
        data: to_raw_value("hi").unwrap(),
        exclude,
    }
}

fn texts(outbox: &Outbox) -> Vec<String> {
    outbox
        .drain()
        .0
        .iter()
        .map(|f| f.as_str().to_owned())
        .collect()
}

#[test]
fn fan_out_shares_one_encoding_per_form() {
    let reg = hub();
    let outboxes: Vec<_> = (0..3).map(|_| Arc::new(Outbox::new(8, 1 << 20))).collect();
    reg.subscribe(
        "news",
        0,
        outboxes[0].clone(),
        Form::Named,
        Start::Live,
        None,
    );
    reg.subscribe(
        "news",
        1,
        outboxes[1].clone(),
        Form::Named,
        Start::Live,
        None,
    );
    reg.subscribe(
        "news",
        2,
        outboxes[2].clone(),
        Form::Wisdom,
        Start::Live,
        None,
    );
    assert_eq!(reg.deliver(&publication("news", Some(1))), 2);
    assert_eq!(texts(&outboxes[0]).len(), 1);
    assert!(texts(&outboxes[1]).is_empty());
    assert_eq!(
        texts(&outboxes[2]),
        [r#"{"type":"wisdom_distribution","payload":{"message":"hi"}}"#]
    );
}

#[test]
fn a_held_subscription_gets_its_first_frames_then_only_newer_publications() {
    let reg = hub();
    let outbox = Arc::new(Outbox::new(8, 1 << 20));
    reg.subscribe("news", 0, outbox.clone(), Form::Named, Start::Held, None);
    let at = |seq| {
        let mut p = publication("news", None);
        p.seq = seq;
        assert_eq!(reg.deliver(&p), 1);
    };
    // 4 is covered by the first frames (say, recovered history); 5 and a raw, unnumbered
    // message are not.
    at(4);
    at(5);
    at(0);
    assert!(texts(&outbox).is_empty(), "held until activated");
    let first = Frame::from("first");
    assert_eq!(reg.activate("news", 0, [first], 4), Activation::Live);
    let seqs: Vec<_> = texts(&outbox)
        .iter()
        .map(|t| {
            t.split("\"seq\":")
                .nth(1)
                .map_or("-", |s| &s[..1])
                .to_owned()
        })
        .collect();
    assert_eq!(seqs, ["-", "5", "0"]);
    at(6);
    assert_eq!(texts(&outbox).len(), 1, "live once activated");
    assert_eq!(reg.activate("gone", 0, [], 0), Activation::Gone);
}

#[test]
fn holding_more_than_the_queue_takes_closes_the_connection() {
    let reg = hub();
    let outbox = Arc::new(Outbox::new(2, 1 << 20));
    reg.subscribe("news", 0, outbox.clone(), Form::Named, Start::Held, None);
    for seq in 1..=3 {
        let mut p = publication("news", None);
        p.seq = seq;
        reg.deliver(&p);
    }
    reg.activate("news", 0, [], 0);
    assert!(outbox.closing().is_some());
}

#[test]
fn channels_are_isolated_and_removed_when_unused() {
    let reg = hub();
    let outbox = Arc::new(Outbox::new(8, 1 << 20));
    assert_eq!(
        reg.subscribe("a", 0, outbox.clone(), Form::Named, Start::Live, None),
        CountChange {
            before: 0,
            after: 1
        }
    );
    assert_eq!(reg.deliver(&publication("b", None)), 0);
    assert_eq!(
        reg.unsubscribe("a", 0).map(|(change, _)| change),
        Some(CountChange {
            before: 1,
            after: 0
        })
    );
    assert_eq!(reg.unsubscribe("a", 0), None);
    assert!(reg.local_counts().is_empty());
}

#[test]
fn watchers_hear_each_change_once() {
    let reg = hub();
    let watcher = Arc::new(Outbox::new(8, 1 << 20));
    reg.watch("a", 9, watcher.clone(), |local| local > 0);
    reg.announce("a", |_| false);
    reg.announce("a", |_| false);
    reg.announce("a", |local| local == 0);
    assert_eq!(
        texts(&watcher),
        [
            r#"{"type":"channel_status","payload":{"channel":"a","occupied":false}}"#,
            r#"{"type":"channel_status","payload":{"channel":"a","occupied":true}}"#,
        ]
    );
}

#[test]
fn a_new_watcher_gets_the_status_and_a_changed_status_reaches_everyone() {
    let reg = hub();
    let (first, second) = (
        Arc::new(Outbox::new(8, 1 << 20)),
        Arc::new(Outbox::new(8, 1 << 20)),
    );
    reg.watch("a", 1, first.clone(), |_| false);
    // The cluster became occupied without a local change: the next watcher computes it,
    // and the earlier watcher must not keep the stale answer.
    reg.watch("a", 2, second.clone(), |_| true);
    let status = |occupied| {
        format!(r#"{{"type":"channel_status","payload":{{"channel":"a","occupied":{occupied}}}}}"#)
    };
    assert_eq!(texts(&first), [status(false), status(true)]);
    assert_eq!(texts(&second), [status(true)]);
    reg.watch("a", 3, Arc::new(Outbox::new(8, 1 << 20)), |_| true);
    assert!(
        texts(&first).is_empty(),
        "an unchanged status is not repeated"
    );
}

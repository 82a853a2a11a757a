//! Recovery: a re-subscription after a reconnect resumes from the last message delivered
//! (`since`), what was recovered or lost is reported, a new epoch resets duplicate
//! suppression, and a gap in the live stream is filled from history before delivery goes on.

mod common;
use common::streams::*;
use common::*;
use howl_client_core::*;
use serde_json::json;

#[test]
fn a_resubscription_recovers_what_was_published_while_away() {
    let mut d = subscribed_at(3, 2); // delivered 4 and 5
    assert_eq!(
        reconnect(&mut d)[1..],
        [sub_since("id-2", "news", "e1", 5)],
        "resumes after the last message delivered"
    );
    // 6..=8 were published while away: the server recovers them after the confirmation.
    let out = d.frame(&confirmation("news", "e1", 8, Some(true)));
    assert_eq!(
        events(&out),
        [Event::SubscriptionConfirmed {
            channel: "news".into(),
            position: Some(pos("e1", 8)),
            recovered: Some(true),
            recovered_count: 3,
        }]
    );
    let mut delivered = Vec::new();
    for s in 6..=9 {
        delivered.extend(seqs(&d.frame(&msg("news", s))));
    }
    assert_eq!(
        delivered,
        [6, 7, 8, 9],
        "recovered, then live: once each, in order"
    );
    assert!(gaps(&d.drain()).is_empty());
    // Copies of what was delivered are dropped.
    assert!(seqs(&d.frame(&msg("news", 7))).is_empty());
    assert_eq!(d.s.stats().duplicates_dropped, 1);
    // And the next reconnect resumes after 9.
    assert_eq!(reconnect(&mut d)[1..], [sub_since("id-3", "news", "e1", 9)]);
    let out = d.frame(&confirmation("news", "e1", 9, Some(true)));
    assert!(matches!(
        &events(&out)[..],
        [Event::SubscriptionConfirmed {
            recovered: Some(true),
            recovered_count: 0,
            ..
        }]
    ));
}

#[test]
fn a_failed_recovery_reports_the_gap_and_goes_on_live() {
    let mut d = subscribed_at(3, 1); // delivered 4
    reconnect(&mut d);
    // The messages after 4 fell out of the history: nothing is replayed.
    let out = d.frame(&confirmation("news", "e1", 500, Some(false)));
    assert_eq!(
        events(&out),
        [
            Event::SubscriptionConfirmed {
                channel: "news".into(),
                position: Some(pos("e1", 500)),
                recovered: Some(false),
                recovered_count: 0,
            },
            Event::Gap {
                channel: "news".into(),
                from: pos("e1", 4),
                to: pos("e1", 500),
            },
        ]
    );
    assert_eq!(seqs(&d.frame(&msg("news", 501))), [501]);
    assert_eq!(d.s.stats().gaps, 1);
    assert_eq!(
        reconnect(&mut d)[1..],
        [sub_since("id-3", "news", "e1", 501)]
    );
}

#[test]
fn a_new_epoch_resets_duplicate_suppression() {
    let mut d = subscribed_at(0, 3); // delivered 1..=3 of e1
    reconnect(&mut d);
    // The server restarted: a new stream, counting from 1 again, at the same times even.
    let out = d.frame(&confirmation("news", "e2", 0, Some(false)));
    assert_eq!(gaps(&out), [(pos("e1", 3), pos("e2", 0))]);
    let mut delivered = Vec::new();
    for s in 1..=4 {
        delivered.extend(seqs(&d.frame(&msg("news", s))));
    }
    assert_eq!(delivered, [1, 2, 3, 4], "e2's 1..=3 are not e1's");
    assert_eq!(d.s.stats().duplicates_dropped, 0);
    assert_eq!(reconnect(&mut d)[1..], [sub_since("id-3", "news", "e2", 4)]);
}

#[test]
fn a_live_gap_is_filled_from_history_before_delivery_goes_on() {
    let mut d = subscribed_at(10, 1); // delivered 11
                                      // 12 and 13 went missing: 14 arrives.
    let out = d.frame(&msg("news", 14));
    assert!(
        messages(&out).is_empty(),
        "held back until the gap is filled"
    );
    let reference = history_ref(&out);
    assert_eq!(
        sent(&out),
        [history_frame("id-1", "news", 2, "e1", 11, reference)],
        "the missing ones, after the last delivered"
    );
    // Live messages meanwhile wait behind the gap.
    assert!(messages(&d.frame(&msg("news", 15))).is_empty());
    let out = d.frame(&history_result(
        "news",
        "e1",
        15,
        &[(12, 12), (13, 13)],
        reference,
    ));
    assert_eq!(seqs(&out), [12, 13, 14, 15], "every message once, in order");
    assert_eq!(messages(&out)[0].data, json!(12));
    assert!(gaps(&out).is_empty());
    assert_eq!(seqs(&d.frame(&msg("news", 16))), [16]);
    assert_eq!(d.s.next_deadline(), Some(5_000), "only the ping is due");
}

#[test]
fn what_history_no_longer_has_is_reported_as_a_gap() {
    let mut d = subscribed_at(10, 1); // delivered 11
    let r = history_ref(&d.frame(&msg("news", 15))); // missing 12..=14
                                                     // The history only still has 14.
    let out = d.frame(&history_result("news", "e1", 15, &[(14, 14)], r));
    assert_eq!(gaps(&out), [(pos("e1", 11), pos("e1", 13))]);
    assert_eq!(seqs(&out), [14, 15]);

    // A refused history request (e.g. a namespace without history): the gap stays.
    let r = history_ref(&d.frame(&msg("news", 18)));
    let out = d.frame(&format!(
        r#"{{"type":"error","payload":{{"code":"not_available","message":"no history","request":"history","channel":"news","ref":{r}}}}}"#
    ));
    assert_eq!(gaps(&out), [(pos("e1", 15), pos("e1", 17))]);
    assert_eq!(seqs(&out), [18]);
    assert!(events(&out)
        .iter()
        .all(|e| !matches!(e, Event::ServerError(_))));

    // A new epoch in the answer: everything before the held message is lost.
    let r = history_ref(&d.frame(&msg("news", 21)));
    let out = d.frame(&history_result("news", "e9", 21, &[(19, 19)], r));
    assert_eq!(gaps(&out), [(pos("e1", 18), pos("e9", 20))]);
    assert_eq!(seqs(&out), [21]);
    assert_eq!(d.s.stats().gaps, 3);
}

#[test]
fn an_unanswered_gap_fill_times_out_and_delivery_goes_on() {
    let mut d = subscribed_at(10, 1);
    let r = history_ref(&d.frame(&msg("news", 13)));
    let out = d.advance_plain(3_000);
    assert_eq!(gaps(&out), [(pos("e1", 11), pos("e1", 12))]);
    assert_eq!(seqs(&out), [13]);
    // A late answer is ignored.
    let out = d.frame(&history_result("news", "e1", 13, &[(12, 12)], r));
    assert!(seqs(&out).is_empty());
    assert_eq!(d.s.stats().unexpected_ignored, 1);
}

#[test]
fn a_connection_lost_during_a_gap_fill_recovers_through_the_resubscription() {
    let mut d = subscribed_at(10, 1); // delivered 11
    d.frame(&msg("news", 14));
    d.frame(&msg("news", 15));
    // Held messages were never delivered: the re-subscription resumes after 11.
    assert_eq!(
        reconnect(&mut d)[1..],
        [sub_since("id-2", "news", "e1", 11)]
    );
    d.frame(&confirmation("news", "e1", 15, Some(true)));
    let mut delivered = Vec::new();
    for s in 12..=15 {
        delivered.extend(seqs(&d.frame(&msg("news", s))));
    }
    assert_eq!(delivered, [12, 13, 14, 15]);
    assert!(gaps(&d.drain()).is_empty());
}

#[test]
fn an_unsubscribed_channel_starts_over() {
    let mut d = subscribed_at(10, 1);
    let r = history_ref(&d.frame(&msg("news", 14))); // a gap fill in progress
    let (_, out) = d.unsubscribe(Some("news"));
    assert!(seqs(&out).is_empty());
    d.frame(r#"{"type":"unsubscribe_confirmation","payload":{"status":"ok","channel":"news"}}"#);
    let (_, out) = d.subscribe(Some("news"));
    assert_eq!(
        sent(&out),
        [sub("id-1", "news")],
        "no since: a fresh subscription"
    );
    let out = d.frame(&history_result("news", "e1", 14, &[(12, 12)], r));
    assert!(seqs(&out).is_empty(), "the old fill's answer is ignored");
}

#[test]
fn too_much_to_hold_back_gives_up_the_fill() {
    let mut d = subscribed_at(10, 1); // delivered 11
    history_ref(&d.frame(&msg("news", 13)));
    let mut out = Vec::new();
    for s in 14..=1013 {
        out.extend(d.frame(&msg("news", s)));
    }
    // 13..=1012 were held (1,000); 1013 gives up: 12 is lost, everything else flows.
    assert_eq!(gaps(&out), [(pos("e1", 11), pos("e1", 12))]);
    assert_eq!(seqs(&out), (13..=1013).collect::<Vec<_>>());
}

#[test]
fn extreme_positions_from_a_confused_server_do_not_overflow() {
    let mut d = Driver::open(config());
    d.subscribe(Some("news"));
    d.frame(&confirmation("news", "e1", u64::MAX, None));
    for s in [5, u64::MAX] {
        let out = d.frame(&message("news", s, 1, json!(1)));
        assert!(seqs(&out).is_empty(), "at or below the position");
    }
    let max = u64::MAX;
    let out = d.frame(&format!(
        r#"{{"type":"history_result","payload":{{"channel":"news","epoch":"e1","seq":{max},"messages":[{{"seq":{max},"time":1,"data":1}}],"ref":1}}}}"#
    ));
    assert!(seqs(&out).is_empty());
}

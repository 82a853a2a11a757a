//! Frames and readings for tests of stream positions: confirmations with a position,
//! subscribes with `since`, history requests and results, messages numbered by `seq`.

use super::*;
use howl_client_core::*;
use serde_json::json;

pub fn pos(epoch: &str, seq: u64) -> StreamPosition {
    StreamPosition {
        epoch: epoch.into(),
        seq,
    }
}

/// A `subscribe_confirmation` with a stream position, and `recovered` when given.
pub fn confirmation(channel: &str, epoch: &str, seq: u64, recovered: Option<bool>) -> String {
    let recovered = recovered.map_or(String::new(), |r| format!(r#","recovered":{r}"#));
    format!(
        r#"{{"type":"subscribe_confirmation","payload":{{"status":"ok","channel":"{channel}","epoch":"{epoch}","seq":{seq}{recovered}}}}}"#
    )
}

pub fn sub_since(id: &str, channel: &str, epoch: &str, seq: u64) -> String {
    format!(
        r#"{{"type":"subscribe","payload":{{"id":"{id}","channel":"{channel}","since":{{"epoch":"{epoch}","seq":{seq}}}}}}}"#
    )
}

pub fn history_frame(id: &str, channel: &str, limit: u32, epoch: &str, seq: u64, r: u64) -> String {
    format!(
        r#"{{"type":"history","payload":{{"id":"{id}","channel":"{channel}","limit":{limit},"since":{{"epoch":"{epoch}","seq":{seq}}},"ref":{r}}}}}"#
    )
}

/// A `history_result` of `channel` at `epoch`/`seq` with these `(seq, data)` messages.
pub fn history_result(
    channel: &str,
    epoch: &str,
    seq: u64,
    messages: &[(u64, i64)],
    r: u64,
) -> String {
    let messages: Vec<String> = messages
        .iter()
        .map(|(s, n)| format!(r#"{{"seq":{s},"time":{},"data":{n}}}"#, 1000 + s))
        .collect();
    format!(
        r#"{{"type":"history_result","payload":{{"channel":"{channel}","epoch":"{epoch}","seq":{seq},"messages":[{}],"ref":{r}}}}}"#,
        messages.join(",")
    )
}

/// A message whose data is its seq, stamped 1000 + seq.
pub fn msg(channel: &str, seq: u64) -> String {
    message(channel, seq, 1000 + seq, json!(seq))
}

/// The `ref` of the one `history` request among `out`.
pub fn history_ref(out: &[Output]) -> u64 {
    let frames: Vec<serde_json::Value> = sent(out)
        .iter()
        .map(|f| serde_json::from_str(f).unwrap())
        .filter(|f: &serde_json::Value| f["type"] == "history")
        .collect();
    let [frame] = &frames[..] else {
        panic!("one history request: {out:?}");
    };
    frame["payload"]["ref"].as_u64().expect("a numeric ref")
}

pub fn seqs(out: &[Output]) -> Vec<u64> {
    messages(out).iter().map(|m| m.seq).collect()
}

pub fn gaps(out: &[Output]) -> Vec<(StreamPosition, StreamPosition)> {
    events(out)
        .into_iter()
        .filter_map(|e| match e {
            Event::Gap { from, to, .. } => Some((from, to)),
            _ => None,
        })
        .collect()
}

/// A session subscribed to "news" at e1/`seq`, then delivered `delivered` live.
pub fn subscribed_at(seq: u64, delivered: u64) -> Driver {
    let mut d = Driver::open(config());
    let (req, out) = d.subscribe(Some("news"));
    assert_eq!(
        sent(&out),
        [sub("id-1", "news")],
        "a first subscribe has no since"
    );
    let out = d.frame(&confirmation("news", "e1", seq, None));
    assert_eq!(
        events(&out),
        [
            Event::SubscriptionConfirmed {
                channel: "news".into(),
                position: Some(pos("e1", seq)),
                recovered: None,
                recovered_count: 0,
            },
            Event::RequestDone {
                id: req,
                result: Ok(())
            },
        ]
    );
    for s in seq + 1..=seq + delivered {
        assert_eq!(seqs(&d.frame(&msg("news", s))), [s]);
    }
    d
}

/// Loses the connection and reconnects; returns the frames sent on the new one.
pub fn reconnect(d: &mut Driver) -> Vec<String> {
    d.close(1006);
    d.advance(100);
    sent(&d.handshake())
}

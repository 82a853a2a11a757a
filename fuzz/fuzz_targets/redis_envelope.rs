//! The Redis envelope parser on arbitrary payloads. Never panics; every payload it accepts
//! yields data that is one valid JSON value; a message re-wrapped in a node's envelope decodes
//! to the same sequence number, time and data, with its `exclude` heeded only on the node
//! that wrote it.
#![no_main]

use howl::fuzzing::{decode_redis_envelope, encode_redis_envelope, RedisIncoming};
use libfuzzer_sys::fuzz_target;
use serde_json::value::RawValue;

/// The receiving node in every call.
const NODE: &str = "node-a";

fn wrap(node: &str, seq: u64, time: u64, data: &RawValue) -> String {
    let (head, mid) = encode_redis_envelope(node, time, Some(7));
    format!("{head}{seq}{mid}{}}}", data.get())
}

fuzz_target!(|data: &[u8]| {
    let Ok(RedisIncoming::Message {
        seq, time, data, ..
    }) = decode_redis_envelope(data, NODE, 99)
    else {
        return;
    };
    // JSON's grammar, not `Value`: `1e400` is valid JSON that no f64 holds, and is delivered.
    serde_json::from_str::<Box<RawValue>>(data.get())
        .unwrap_or_else(|e| panic!("accepted data {:?} is not JSON: {e}", data.get()));

    for (node, exclude) in [("node-b", None), (NODE, Some(7))] {
        let payload = wrap(node, seq, time, &data);
        match decode_redis_envelope(payload.as_bytes(), NODE, 0) {
            Ok(RedisIncoming::Message {
                seq: s,
                time: t,
                data: d,
                exclude: e,
            }) => assert_eq!(
                (s, t, d.get(), e),
                (seq, time, data.get(), exclude),
                "{payload}"
            ),
            other => panic!("{payload} decoded to {other:?}"),
        }
    }
});

//! The Redis envelope parser on arbitrary payloads. Never panics; every payload it accepts
//! yields data that is one valid JSON value; a node's own envelope is an echo; and a message
//! re-wrapped in another node's envelope decodes to the same sequence number, time and data.
#![no_main]

use howl::fuzzing::{decode_redis_envelope, encode_redis_envelope, RedisIncoming};
use libfuzzer_sys::fuzz_target;
use serde_json::value::RawValue;

/// The receiving node in every call.
const NODE: &str = "node-a";

fuzz_target!(|data: &[u8]| {
    let Ok(RedisIncoming::Message { seq, time, data }) = decode_redis_envelope(data, NODE, 99)
    else {
        return;
    };
    // JSON's grammar, not `Value`: `1e400` is valid JSON that no f64 holds, and is delivered.
    serde_json::from_str::<Box<RawValue>>(data.get())
        .unwrap_or_else(|e| panic!("accepted data {:?} is not JSON: {e}", data.get()));

    let (head, tail) = encode_redis_envelope("node-b", time, &data);
    let payload = format!("{head}{seq}{tail}");
    match decode_redis_envelope(payload.as_bytes(), NODE, 0) {
        Ok(RedisIncoming::Message {
            seq: s,
            time: t,
            data: d,
        }) => assert_eq!((s, t, d.get()), (seq, time, data.get()), "{payload}"),
        other => panic!("{payload} decoded to {other:?}"),
    }
    let (head, tail) = encode_redis_envelope(NODE, time, &data);
    let own = format!("{head}{seq}{tail}");
    assert!(
        matches!(
            decode_redis_envelope(own.as_bytes(), NODE, 0),
            Ok(RedisIncoming::Echo)
        ),
        "{own} is not an echo"
    );
});

//! The payload format on Redis channels (documented in `docs/cluster.md`).
//!
//! Nodes publish envelopes: `{"howl":1,"node":"<id>","time":<ms>,"seq":<n>,"data":<json>}`.
//! Anything else published on a Howl channel, e.g. by a backend with a plain `PUBLISH`, is the
//! data itself: valid JSON is delivered as is, other text as a JSON string, with `seq` 0.

use serde::Deserialize;
use serde_json::value::RawValue;

/// The envelope version this node writes and reads.
const VERSION: u64 = 1;

/// A node's envelope around `data`, split before the sequence number, which Redis assigns:
/// the payload is `head + seq + tail`.
pub fn encode_parts(node: &str, time: u64, data: &RawValue) -> (String, String) {
    let node = serde_json::to_string(node).expect("a string encodes");
    let head = format!(r#"{{"howl":{VERSION},"node":{node},"time":{time},"seq":"#);
    let tail = format!(r#","data":{}}}"#, data.get());
    (head, tail)
}

/// A message read from a Redis channel.
#[derive(Debug)]
pub enum Incoming {
    /// This node's own publication, echoed back: it was delivered locally already.
    Echo,
    /// A message to deliver.
    Message {
        /// The channel's sequence number (0 when the publisher gave none).
        seq: u64,
        /// When it was published (the receiving node's clock when the publisher gave none).
        time: u64,
        /// The data to deliver.
        data: Box<RawValue>,
    },
}

/// Why a payload cannot be delivered.
#[derive(Debug, thiserror::Error, PartialEq, Eq)]
pub enum DecodeError {
    /// The payload is not UTF-8 text.
    #[error("the payload is not UTF-8 text")]
    NotUtf8,
    /// An envelope of a version this node does not know.
    #[error("unsupported envelope version {0}")]
    Version(u64),
}

#[derive(Deserialize)]
struct Envelope {
    howl: u64,
    node: Option<String>,
    seq: Option<u64>,
    time: Option<u64>,
    data: Box<RawValue>,
}

/// Reads a payload published on a Howl channel; `now` stamps messages without a time.
pub fn decode(payload: &[u8], own_node: &str, now: u64) -> Result<Incoming, DecodeError> {
    let text = std::str::from_utf8(payload).map_err(|_| DecodeError::NotUtf8)?;
    if let Ok(envelope) = serde_json::from_str::<Envelope>(text) {
        if envelope.howl != VERSION {
            return Err(DecodeError::Version(envelope.howl));
        }
        if envelope.node.as_deref() == Some(own_node) {
            return Ok(Incoming::Echo);
        }
        return Ok(Incoming::Message {
            seq: envelope.seq.unwrap_or(0),
            time: envelope.time.unwrap_or(now),
            data: envelope.data,
        });
    }
    let data = match serde_json::from_str::<Box<RawValue>>(text) {
        Ok(data) => data,
        Err(_) => serde_json::value::to_raw_value(text).expect("a string encodes"),
    };
    Ok(Incoming::Message {
        seq: 0,
        time: now,
        data,
    })
}

#[cfg(test)]
mod tests {
    use super::*;

    fn message(payload: &str) -> (u64, u64, String) {
        match decode(payload.as_bytes(), "me", 5).unwrap() {
            Incoming::Message { seq, time, data } => (seq, time, data.get().to_owned()),
            Incoming::Echo => panic!("unexpected echo for {payload}"),
        }
    }

    #[test]
    fn envelopes_round_trip_and_echoes_are_recognised() {
        let data = RawValue::from_string(r#"{"a":[1,"x\"y"]}"#.into()).unwrap();
        let (head, tail) = encode_parts("node \"1\"", 99, &data);
        let payload = format!("{head}42{tail}");
        assert_eq!(
            payload,
            r#"{"howl":1,"node":"node \"1\"","time":99,"seq":42,"data":{"a":[1,"x\"y"]}}"#
        );
        assert_eq!(message(&payload), (42, 99, r#"{"a":[1,"x\"y"]}"#.into()));
        let (head, tail) = encode_parts("me", 99, &data);
        assert!(matches!(
            decode(format!("{head}1{tail}").as_bytes(), "me", 0),
            Ok(Incoming::Echo)
        ));
    }

    #[test]
    fn plain_payloads_are_the_data() {
        assert_eq!(
            message(r#"{"text":"hi"}"#),
            (0, 5, r#"{"text":"hi"}"#.into())
        );
        assert_eq!(message("[1,2]"), (0, 5, "[1,2]".into()));
        assert_eq!(message("hello wolves"), (0, 5, r#""hello wolves""#.into()));
        // An object with a `howl` key that is no envelope stays data.
        assert_eq!(
            message(r#"{"howl":"loud"}"#),
            (0, 5, r#"{"howl":"loud"}"#.into())
        );
        // A minimal envelope: only the marker and the data.
        assert_eq!(message(r#"{"howl":1,"data":"x"}"#), (0, 5, r#""x""#.into()));
    }

    #[test]
    fn unreadable_payloads_are_errors() {
        assert_eq!(
            decode(&[0xff, 0xfe], "me", 0).unwrap_err(),
            DecodeError::NotUtf8
        );
        assert_eq!(
            decode(br#"{"howl":2,"data":1}"#, "me", 0).unwrap_err(),
            DecodeError::Version(2)
        );
    }
}

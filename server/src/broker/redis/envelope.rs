//! The payload format on Redis channels (documented in `docs/cluster.md`).
//!
//! Nodes publish envelopes: a message is
//! `{"howl":1,"node":"<id>","time":<ms>[,"exclude":<conn>],"seq":<n>,"data":<json>}` and a
//! presence change `{"howl":1,"node":"<id>","join":<member>}` (or `"leave"`). Anything else
//! published on a Howl channel, e.g. by a backend with a plain `PUBLISH`, is the data itself:
//! valid JSON is delivered as is, other text as a JSON string, with `seq` 0.
//!
//! Only an envelope naming a node carries a sequence number: a backend's envelope without
//! `node` is delivered with `seq` 0 whatever it says, and no incoming `seq` ever moves a
//! channel's counter (the counter lives in Redis and only the publish script changes it).

use crate::hub::ConnId;
use howl_protocol::Member;
use serde::{Deserialize, Serialize};
use serde_json::value::RawValue;

/// The envelope version this node writes and reads.
const VERSION: u64 = 1;

/// A node's message envelope, split around the sequence number (which Redis assigns) and
/// the data (which the publish script also keeps in the stream): the payload is
/// `head + seq + mid + data + "}"`.
pub fn encode_parts(node: &str, time: u64, exclude: Option<ConnId>) -> (String, &'static str) {
    let node = serde_json::to_string(node).expect("a string encodes");
    let head = match exclude {
        Some(conn) => {
            format!(r#"{{"howl":{VERSION},"node":{node},"time":{time},"exclude":{conn},"seq":"#)
        }
        None => format!(r#"{{"howl":{VERSION},"node":{node},"time":{time},"seq":"#),
    };
    (head, r#","data":"#)
}

/// A presence change as published on the channel's Redis channel.
#[derive(Serialize)]
struct PresenceOut<'a> {
    howl: u64,
    node: &'a str,
    #[serde(skip_serializing_if = "Option::is_none")]
    join: Option<&'a Member>,
    #[serde(skip_serializing_if = "Option::is_none")]
    leave: Option<&'a Member>,
}

/// The envelope announcing that `member` joined (or left) a channel.
pub fn encode_presence(node: &str, member: &Member, joined: bool) -> String {
    let out = PresenceOut {
        howl: VERSION,
        node,
        join: joined.then_some(member),
        leave: (!joined).then_some(member),
    };
    serde_json::to_string(&out).expect("a presence change encodes")
}

/// A message read from a Redis channel.
#[derive(Debug)]
pub enum Incoming {
    /// A message to deliver.
    Message {
        /// The channel's sequence number (0 when no node numbered it).
        seq: u64,
        /// When it was published (the receiving node's clock when the publisher gave none).
        time: u64,
        /// The data to deliver.
        data: Box<RawValue>,
        /// The local connection that must not receive it: only on this node's own messages.
        exclude: Option<ConnId>,
    },
    /// A member joined (`true`) or left a channel.
    Presence {
        /// Who.
        member: Member,
        /// Whether it joined.
        joined: bool,
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
    exclude: Option<ConnId>,
    data: Option<Box<RawValue>>,
    join: Option<Member>,
    leave: Option<Member>,
}

/// Reads a payload published on a Howl channel; `now` stamps messages without a time.
pub fn decode(payload: &[u8], own_node: &str, now: u64) -> Result<Incoming, DecodeError> {
    let text = std::str::from_utf8(payload).map_err(|_| DecodeError::NotUtf8)?;
    if let Ok(envelope) = serde_json::from_str::<Envelope>(text) {
        let node = envelope.node.as_deref();
        let presence = match (envelope.join, envelope.leave) {
            (Some(member), _) => Some((member, true)),
            (None, Some(member)) => Some((member, false)),
            (None, None) => None,
        };
        if envelope.data.is_some() || presence.is_some() {
            if envelope.howl != VERSION {
                return Err(DecodeError::Version(envelope.howl));
            }
            if let Some(data) = envelope.data {
                return Ok(Incoming::Message {
                    seq: if node.is_some() {
                        envelope.seq.unwrap_or(0)
                    } else {
                        0
                    },
                    time: envelope.time.unwrap_or(now),
                    data,
                    exclude: envelope.exclude.filter(|_| node == Some(own_node)),
                });
            }
            if let Some((member, joined)) = presence {
                return Ok(Incoming::Presence { member, joined });
            }
        }
    }
    let data = match serde_json::from_str::<Box<RawValue>>(text) {
        Ok(data) => data,
        Err(_) => serde_json::value::to_raw_value(text).expect("a string encodes"),
    };
    Ok(Incoming::Message {
        seq: 0,
        time: now,
        data,
        exclude: None,
    })
}

#[cfg(test)]
mod tests {
    use super::*;

    fn message(payload: &str) -> (u64, u64, String, Option<ConnId>) {
        match decode(payload.as_bytes(), "me", 5).unwrap() {
            Incoming::Message {
                seq,
                time,
                data,
                exclude,
            } => (seq, time, data.get().to_owned(), exclude),
            Incoming::Presence { .. } => panic!("unexpected presence for {payload}"),
        }
    }

    #[test]
    fn envelopes_round_trip_and_exclude_applies_to_the_own_node_only() {
        let data = r#"{"a":[1,"x\"y"]}"#;
        let (head, mid) = encode_parts("node \"1\"", 99, None);
        let payload = format!("{head}42{mid}{data}}}");
        assert_eq!(
            payload,
            r#"{"howl":1,"node":"node \"1\"","time":99,"seq":42,"data":{"a":[1,"x\"y"]}}"#
        );
        assert_eq!(message(&payload), (42, 99, data.into(), None));
        let (head, mid) = encode_parts("me", 99, Some(7));
        let own = format!("{head}1{mid}{data}}}");
        assert_eq!(message(&own), (1, 99, data.into(), Some(7)));
        let (head, mid) = encode_parts("other", 99, Some(7));
        let foreign = format!("{head}1{mid}{data}}}");
        assert_eq!(message(&foreign), (1, 99, data.into(), None));
    }

    #[test]
    fn presence_envelopes_round_trip() {
        let member = Member {
            client: "c1".into(),
            user: Some("u".into()),
            info: None,
        };
        for joined in [true, false] {
            let payload = encode_presence("n", &member, joined);
            match decode(payload.as_bytes(), "me", 0).unwrap() {
                Incoming::Presence {
                    member: m,
                    joined: j,
                } => {
                    assert_eq!((m, j), (member.clone(), joined))
                }
                other => panic!("{other:?}"),
            }
        }
    }

    #[test]
    fn plain_payloads_are_the_data_and_backend_seqs_are_ignored() {
        assert_eq!(
            message(r#"{"text":"hi"}"#),
            (0, 5, r#"{"text":"hi"}"#.into(), None)
        );
        assert_eq!(message("[1,2]"), (0, 5, "[1,2]".into(), None));
        assert_eq!(
            message("hello wolves"),
            (0, 5, r#""hello wolves""#.into(), None)
        );
        // An object with a `howl` key that is no envelope stays data.
        assert_eq!(
            message(r#"{"howl":"loud"}"#),
            (0, 5, r#"{"howl":"loud"}"#.into(), None)
        );
        assert_eq!(
            message(r#"{"howl":1,"data":"x"}"#),
            (0, 5, r#""x""#.into(), None)
        );
        // A backend's seq is not a number the cluster gave.
        assert_eq!(
            message(r#"{"howl":1,"seq":18446744073709551615,"time":3,"data":1}"#),
            (0, 3, "1".into(), None)
        );
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

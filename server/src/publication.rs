//! A published message and the frames it is delivered as.

use crate::broker::PresenceChange;
use crate::hub::ConnId;
use crate::outbox::Frame;
use howl_protocol::{MessageRef, PresenceEvent, ServerMessage};
use serde_json::value::RawValue;

/// One message on a channel, with its place in the channel's sequence.
#[derive(Debug, Clone)]
pub struct Publication {
    /// The channel it was published to.
    pub channel: String,
    /// The channel's sequence number for it.
    pub seq: u64,
    /// When the hub accepted it, in milliseconds since the Unix epoch.
    pub time: u64,
    /// The published JSON value, already encoded.
    pub data: Box<RawValue>,
    /// A local connection that must not receive it (the publisher, with `exclude_self`).
    pub exclude: Option<ConnId>,
}

impl Publication {
    /// The borrowed `message` payload of this publication.
    pub fn as_message(&self) -> MessageRef<'_> {
        MessageRef {
            channel: &self.channel,
            seq: self.seq,
            time: self.time,
            data: &self.data,
        }
    }

    /// The `message` frame, for connections that subscribed to the channel by name.
    pub fn message_frame(&self) -> Frame {
        Frame::from(self.as_message().to_json())
    }

    /// The original protocol's `wisdom_distribution` frame, for connections that subscribed
    /// without a channel. A string is sent as is; any other JSON value as its JSON text.
    pub fn wisdom_frame(&self) -> Frame {
        Frame::from(self.as_message().to_wisdom_json())
    }
}

/// The `join` or `leave` frame of a presence change on `channel`.
pub fn presence_frame(channel: &str, change: &PresenceChange) -> Frame {
    let event = |member: &howl_protocol::Member| PresenceEvent {
        channel: channel.to_owned(),
        member: member.clone(),
    };
    let message = match change {
        PresenceChange::Join(member) => ServerMessage::Join(event(member)),
        PresenceChange::Leave(member) => ServerMessage::Leave(event(member)),
    };
    Frame::from(message.to_json())
}

#[cfg(test)]
mod tests {
    use super::*;
    use howl_protocol::{decode_server, ChannelMessage, ServerMessage, WisdomPayload as Wisdom};
    use serde_json::json;

    fn publication(data: serde_json::Value) -> Publication {
        Publication {
            channel: "news".into(),
            seq: 7,
            time: 1_795_000_000_000,
            data: serde_json::value::to_raw_value(&data).unwrap(),
            exclude: None,
        }
    }

    #[test]
    fn message_frame_matches_the_protocol_type() {
        let data = json!({"a": [1, "two"], "b": null});
        let frame = publication(data.clone()).message_frame();
        assert_eq!(
            frame.as_str(),
            r#"{"type":"message","payload":{"channel":"news","seq":7,"time":1795000000000,"data":{"a":[1,"two"],"b":null}}}"#
        );
        let expected = ServerMessage::Message(ChannelMessage {
            channel: "news".into(),
            seq: 7,
            time: 1_795_000_000_000,
            data: serde_json::value::to_raw_value(&data).unwrap(),
        });
        assert_eq!(decode_server(frame.as_str()).unwrap(), expected);
    }

    #[test]
    fn wisdom_frame_is_the_original_shape() {
        let frame = publication(json!("Run with the pack.")).wisdom_frame();
        assert_eq!(
            frame.as_str(),
            r#"{"type":"wisdom_distribution","payload":{"message":"Run with the pack."}}"#
        );
        let frame = publication(json!({"x": 1})).wisdom_frame();
        assert_eq!(
            decode_server(frame.as_str()).unwrap(),
            ServerMessage::WisdomDistribution(Wisdom {
                message: r#"{"x":1}"#.into()
            })
        );
    }
}

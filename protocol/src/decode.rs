//! Parsing frames, with a precise reason for every rejection.
//!
//! serde's derived decoder for an adjacently tagged enum reports an unknown `type` and a
//! missing payload field alike; the hub must answer each with its own error code, so frames
//! are read in two steps: the envelope, then the payload for the named type.

use crate::{ClientMessage, ErrorCode, Ref, ServerMessage};
use serde::de::DeserializeOwned;
use serde::Deserialize;
use serde_json::value::RawValue;
use std::fmt;

/// Why a frame could not be decoded.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct DecodeError {
    /// The error code to report.
    pub code: ErrorCode,
    /// The frame's `type`, when it could be read.
    pub request: Option<String>,
    /// What was wrong, for humans.
    pub message: String,
    /// The frame's `ref`, when the payload carried a readable one: a rejected request is
    /// still answered with its reference.
    pub reference: Option<Ref>,
}

impl fmt::Display for DecodeError {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write!(f, "{}: {}", self.code, self.message)
    }
}

impl std::error::Error for DecodeError {}

#[derive(Deserialize)]
struct Envelope<'a> {
    #[serde(rename = "type")]
    kind: String,
    #[serde(borrow, default)]
    payload: Option<&'a RawValue>,
}

fn read_envelope(text: &str) -> Result<Envelope<'_>, DecodeError> {
    serde_json::from_str::<Envelope<'_>>(text).map_err(|e| {
        let code = if e.is_data() {
            ErrorCode::InvalidPayload
        } else {
            ErrorCode::MalformedJson
        };
        let message = match code {
            ErrorCode::MalformedJson => format!("frame is not valid JSON: {e}"),
            _ => format!("frame must be an object with a string \"type\": {e}"),
        };
        DecodeError {
            code,
            request: None,
            message,
            reference: None,
        }
    })
}

/// Only the `ref` of a payload, read leniently from one that failed to decode.
#[derive(Deserialize)]
struct RefOnly {
    #[serde(rename = "ref")]
    reference: Option<Ref>,
}

fn read_payload<T: DeserializeOwned>(env: &Envelope<'_>) -> Result<T, DecodeError> {
    let invalid = |message: String| DecodeError {
        code: ErrorCode::InvalidPayload,
        request: Some(env.kind.clone()),
        message,
        reference: env
            .payload
            .and_then(|raw| serde_json::from_str::<RefOnly>(raw.get()).ok())
            .and_then(|r| r.reference),
    };
    let raw = env
        .payload
        .ok_or_else(|| invalid(format!("\"{}\" needs a \"payload\" object", env.kind)))?;
    serde_json::from_str(raw.get())
        .map_err(|e| invalid(format!("invalid \"{}\" payload: {e}", env.kind)))
}

fn unknown_type(env: &Envelope<'_>) -> DecodeError {
    let kind = env.kind.as_str();
    DecodeError {
        code: ErrorCode::UnknownType,
        request: Some(kind.to_owned()),
        message: format!("unknown event type \"{kind}\""),
        reference: env
            .payload
            .and_then(|raw| serde_json::from_str::<RefOnly>(raw.get()).ok())
            .and_then(|r| r.reference),
    }
}

/// Decodes a frame sent by a client.
pub fn decode_client(text: &str) -> Result<ClientMessage, DecodeError> {
    let env = read_envelope(text)?;
    Ok(match env.kind.as_str() {
        "connect" => ClientMessage::Connect(read_payload(&env)?),
        "subscribe" => ClientMessage::Subscribe(read_payload(&env)?),
        "unsubscribe" => ClientMessage::Unsubscribe(read_payload(&env)?),
        "publish" => ClientMessage::Publish(read_payload(&env)?),
        "watch" => ClientMessage::Watch(read_payload(&env)?),
        "unwatch" => ClientMessage::Unwatch(read_payload(&env)?),
        "ping" => ClientMessage::Ping(read_payload(&env)?),
        "disconnect" => ClientMessage::Disconnect(read_payload(&env)?),
        "refresh" => ClientMessage::Refresh(read_payload(&env)?),
        "history" => ClientMessage::History(read_payload(&env)?),
        "presence" => ClientMessage::Presence(read_payload(&env)?),
        _ => return Err(unknown_type(&env)),
    })
}

/// Decodes a frame sent by the hub. Clients should ignore [`ErrorCode::UnknownType`] results:
/// a newer hub may send events this version does not know.
pub fn decode_server(text: &str) -> Result<ServerMessage, DecodeError> {
    let env = read_envelope(text)?;
    Ok(match env.kind.as_str() {
        "initial" => ServerMessage::Initial(read_payload(&env)?),
        "subscribe_confirmation" => ServerMessage::SubscribeConfirmation(read_payload(&env)?),
        "unsubscribe_confirmation" => ServerMessage::UnsubscribeConfirmation(read_payload(&env)?),
        "publish_confirmation" => ServerMessage::PublishConfirmation(read_payload(&env)?),
        "wisdom_distribution" => ServerMessage::WisdomDistribution(read_payload(&env)?),
        "message" => ServerMessage::Message(read_payload(&env)?),
        "channel_status" => ServerMessage::ChannelStatus(read_payload(&env)?),
        "pong" => ServerMessage::Pong(read_payload(&env)?),
        "error" => ServerMessage::Error(read_payload(&env)?),
        "subscribed" => ServerMessage::Subscribed(read_payload(&env)?),
        "unsubscribed" => ServerMessage::Unsubscribed(read_payload(&env)?),
        "history_result" => ServerMessage::HistoryResult(read_payload(&env)?),
        "presence_result" => ServerMessage::PresenceResult(read_payload(&env)?),
        "join" => ServerMessage::Join(read_payload(&env)?),
        "leave" => ServerMessage::Leave(read_payload(&env)?),
        _ => return Err(unknown_type(&env)),
    })
}

#[cfg(test)]
mod tests {
    use super::*;

    fn code_of(text: &str) -> ErrorCode {
        decode_client(text).unwrap_err().code
    }

    #[test]
    fn classifies_each_kind_of_bad_frame() {
        assert_eq!(code_of("{not json"), ErrorCode::MalformedJson);
        assert_eq!(code_of(""), ErrorCode::MalformedJson);
        assert_eq!(code_of("[1,2]"), ErrorCode::InvalidPayload);
        assert_eq!(code_of(r#"{"payload":{}}"#), ErrorCode::InvalidPayload);
        assert_eq!(
            code_of(r#"{"type":7,"payload":{}}"#),
            ErrorCode::InvalidPayload
        );
        assert_eq!(
            code_of(r#"{"type":"shout","payload":{}}"#),
            ErrorCode::UnknownType
        );
        assert_eq!(code_of(r#"{"type":"connect"}"#), ErrorCode::InvalidPayload);
        assert_eq!(
            code_of(r#"{"type":"connect","payload":{}}"#),
            ErrorCode::InvalidPayload
        );
        assert_eq!(
            code_of(r#"{"type":"publish","payload":{"id":"x","channel":"c"}}"#),
            ErrorCode::InvalidPayload
        );
    }

    #[test]
    fn errors_name_the_problem() {
        let err = decode_client(r#"{"type":"subscribe","payload":{"channel":"a"}}"#).unwrap_err();
        assert_eq!(err.request.as_deref(), Some("subscribe"));
        assert!(
            err.message.contains("missing field `id`"),
            "{}",
            err.message
        );

        let err = decode_client(r#"{"type":"shout","payload":{}}"#).unwrap_err();
        assert_eq!(err.request.as_deref(), Some("shout"));
        assert!(err.message.contains("shout"), "{}", err.message);
    }

    #[test]
    fn a_rejected_request_keeps_its_ref_when_readable() {
        let err = decode_client(r#"{"type":"publish","payload":{"id":"x","ref":7}}"#).unwrap_err();
        assert_eq!(err.code, ErrorCode::InvalidPayload);
        assert_eq!(err.reference, Some(Ref::Int(7)));
        let err = decode_client(r#"{"type":"shout","payload":{"ref":"r1"}}"#).unwrap_err();
        assert_eq!(err.code, ErrorCode::UnknownType);
        assert_eq!(err.reference, Some(Ref::from("r1")));
        // A `ref` of the wrong type is itself the problem: it cannot be echoed.
        let err = decode_client(r#"{"type":"ping","payload":{"id":"x","ref":[1]}}"#).unwrap_err();
        assert_eq!(err.code, ErrorCode::InvalidPayload);
        assert_eq!(err.reference, None);
    }

    #[test]
    fn publish_data_keeps_the_publishers_exact_text() {
        let text = r#"{"type":"publish","payload":{"id":"x","channel":"c","data":{"n":123456789012345678901234567890,"z":1.10,"a":2}}}"#;
        let Ok(ClientMessage::Publish(p)) = decode_client(text) else {
            panic!("not a publish");
        };
        assert_eq!(
            p.data.get(),
            r#"{"n":123456789012345678901234567890,"z":1.10,"a":2}"#
        );
    }

    #[test]
    fn unknown_fields_are_ignored_for_forward_compatibility() {
        let msg = decode_client(r#"{"type":"ping","payload":{"id":"a","extra":1},"v":2}"#);
        assert_eq!(msg.unwrap().id(), "a");
    }
}

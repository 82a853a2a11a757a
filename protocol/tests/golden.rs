//! Golden tests: every protocol event encodes to exactly this text and decodes back.

use howl_protocol::client::ChannelPayload;
use howl_protocol::*;
use serde_json::json;

const ID: &str = "7f1d6c1e-3b9a-4c4e-9a55-2f0e8d1c9b11";

fn client_golden(msg: ClientMessage, text: &str) {
    assert_eq!(msg.to_json(), text, "encoding {}", msg.type_name());
    assert_eq!(decode_client(text).unwrap(), msg, "decoding {text}");
}

fn server_golden(msg: ServerMessage, text: &str) {
    assert_eq!(msg.to_json(), text, "encoding {}", msg.type_name());
    assert_eq!(decode_server(text).unwrap(), msg, "decoding {text}");
}

fn id() -> IdPayload {
    IdPayload { id: ID.into() }
}

#[test]
fn original_client_events() {
    let id_only = format!(r#"{{"id":"{ID}"}}"#);
    client_golden(
        ClientMessage::Connect(id()),
        &format!(r#"{{"type":"connect","payload":{id_only}}}"#),
    );
    let sub = SubscriptionPayload {
        id: ID.into(),
        channel: None,
    };
    client_golden(
        ClientMessage::Subscribe(sub.clone()),
        &format!(r#"{{"type":"subscribe","payload":{id_only}}}"#),
    );
    client_golden(
        ClientMessage::Unsubscribe(sub),
        &format!(r#"{{"type":"unsubscribe","payload":{id_only}}}"#),
    );
    client_golden(
        ClientMessage::Ping(id()),
        &format!(r#"{{"type":"ping","payload":{id_only}}}"#),
    );
    client_golden(
        ClientMessage::Disconnect(id()),
        &format!(r#"{{"type":"disconnect","payload":{id_only}}}"#),
    );
}

#[test]
fn original_server_events() {
    server_golden(
        ServerMessage::Initial(InitialPayload { id: ID.into() }),
        &format!(r#"{{"type":"initial","payload":{{"id":"{ID}"}}}}"#),
    );
    server_golden(
        ServerMessage::subscribed(None),
        r#"{"type":"subscribe_confirmation","payload":{"status":"ok"}}"#,
    );
    server_golden(
        ServerMessage::WisdomDistribution(WisdomPayload {
            message: "Howl together.".into(),
        }),
        r#"{"type":"wisdom_distribution","payload":{"message":"Howl together."}}"#,
    );
}

#[test]
fn extended_client_events() {
    client_golden(
        ClientMessage::Subscribe(SubscriptionPayload {
            id: ID.into(),
            channel: Some("news".into()),
        }),
        &format!(r#"{{"type":"subscribe","payload":{{"id":"{ID}","channel":"news"}}}}"#),
    );
    client_golden(
        ClientMessage::Unsubscribe(SubscriptionPayload {
            id: ID.into(),
            channel: Some("news".into()),
        }),
        &format!(r#"{{"type":"unsubscribe","payload":{{"id":"{ID}","channel":"news"}}}}"#),
    );
    client_golden(
        ClientMessage::Publish(PublishPayload {
            id: ID.into(),
            channel: "news".into(),
            data: json!({"headline": "Moon is full"}),
            exclude_self: true,
        }),
        &format!(
            r#"{{"type":"publish","payload":{{"id":"{ID}","channel":"news","data":{{"headline":"Moon is full"}},"exclude_self":true}}}}"#
        ),
    );
    client_golden(
        ClientMessage::Publish(PublishPayload {
            id: ID.into(),
            channel: "news".into(),
            data: json!("hi"),
            exclude_self: false,
        }),
        &format!(r#"{{"type":"publish","payload":{{"id":"{ID}","channel":"news","data":"hi"}}}}"#),
    );
    let watch = ChannelPayload {
        id: ID.into(),
        channel: "news".into(),
    };
    client_golden(
        ClientMessage::Watch(watch.clone()),
        &format!(r#"{{"type":"watch","payload":{{"id":"{ID}","channel":"news"}}}}"#),
    );
    client_golden(
        ClientMessage::Unwatch(watch),
        &format!(r#"{{"type":"unwatch","payload":{{"id":"{ID}","channel":"news"}}}}"#),
    );
}

#[test]
fn extended_server_events() {
    server_golden(
        ServerMessage::subscribed(Some("news".into())),
        r#"{"type":"subscribe_confirmation","payload":{"status":"ok","channel":"news"}}"#,
    );
    server_golden(
        ServerMessage::unsubscribed(None),
        r#"{"type":"unsubscribe_confirmation","payload":{"status":"ok"}}"#,
    );
    server_golden(
        ServerMessage::unsubscribed(Some("news".into())),
        r#"{"type":"unsubscribe_confirmation","payload":{"status":"ok","channel":"news"}}"#,
    );
    server_golden(
        ServerMessage::Message(ChannelMessage {
            channel: "news".into(),
            seq: 42,
            time: 1_795_000_000_000,
            data: json!({"headline": "Moon is full", "n": [1, 2]}),
        }),
        r#"{"type":"message","payload":{"channel":"news","seq":42,"time":1795000000000,"data":{"headline":"Moon is full","n":[1,2]}}}"#,
    );
    server_golden(
        ServerMessage::ChannelStatus(ChannelStatus {
            channel: "news".into(),
            occupied: true,
        }),
        r#"{"type":"channel_status","payload":{"channel":"news","occupied":true}}"#,
    );
    server_golden(
        ServerMessage::Pong(PongPayload {
            time: 1_795_000_000_000,
        }),
        r#"{"type":"pong","payload":{"time":1795000000000}}"#,
    );
    server_golden(
        ServerMessage::error(ErrorCode::WrongId, "id does not match this connection"),
        r#"{"type":"error","payload":{"code":"wrong_id","message":"id does not match this connection"}}"#,
    );
    server_golden(
        ServerMessage::Error(ErrorPayload {
            code: ErrorCode::InvalidChannel,
            message: "channel name is empty".into(),
            request: Some("subscribe".into()),
            channel: Some(String::new()),
        }),
        r#"{"type":"error","payload":{"code":"invalid_channel","message":"channel name is empty","request":"subscribe","channel":""}}"#,
    );
}

#[test]
fn unknown_server_events_are_reported_not_panicked_on() {
    let err = decode_server(r#"{"type":"presence","payload":{}}"#).unwrap_err();
    assert_eq!(err.code, ErrorCode::UnknownType);
}

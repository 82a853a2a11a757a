//! Golden tests: every protocol event encodes to exactly this text and decodes back.

use howl_protocol::*;
use serde_json::value::RawValue;

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
    IdPayload::new(ID)
}

fn raw(text: &str) -> Box<RawValue> {
    RawValue::from_string(text.to_owned()).unwrap()
}

#[test]
fn original_client_events() {
    let id_only = format!(r#"{{"id":"{ID}"}}"#);
    client_golden(
        ClientMessage::Connect(ConnectPayload::new(ID)),
        &format!(r#"{{"type":"connect","payload":{id_only}}}"#),
    );
    let sub = SubscriptionPayload {
        id: ID.into(),
        channel: None,
        token: None,
        since: None,
        reference: None,
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
        ServerMessage::subscribed(None, None),
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
            token: None,
            since: None,
            reference: None,
        }),
        &format!(r#"{{"type":"subscribe","payload":{{"id":"{ID}","channel":"news"}}}}"#),
    );
    client_golden(
        ClientMessage::Unsubscribe(SubscriptionPayload {
            id: ID.into(),
            channel: Some("news".into()),
            token: None,
            since: None,
            reference: None,
        }),
        &format!(r#"{{"type":"unsubscribe","payload":{{"id":"{ID}","channel":"news"}}}}"#),
    );
    client_golden(
        ClientMessage::Publish(PublishPayload {
            id: ID.into(),
            channel: "news".into(),
            data: raw(r#"{"headline":"Moon is full"}"#),
            exclude_self: true,
            reference: None,
        }),
        &format!(
            r#"{{"type":"publish","payload":{{"id":"{ID}","channel":"news","data":{{"headline":"Moon is full"}},"exclude_self":true}}}}"#
        ),
    );
    client_golden(
        ClientMessage::Publish(PublishPayload {
            id: ID.into(),
            channel: "news".into(),
            data: raw(r#""hi""#),
            exclude_self: false,
            reference: None,
        }),
        &format!(r#"{{"type":"publish","payload":{{"id":"{ID}","channel":"news","data":"hi"}}}}"#),
    );
    let watch = ChannelPayload {
        id: ID.into(),
        channel: "news".into(),
        reference: None,
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
        ServerMessage::subscribed(Some("news".into()), None),
        r#"{"type":"subscribe_confirmation","payload":{"status":"ok","channel":"news"}}"#,
    );
    server_golden(
        ServerMessage::unsubscribed(None, None),
        r#"{"type":"unsubscribe_confirmation","payload":{"status":"ok"}}"#,
    );
    server_golden(
        ServerMessage::unsubscribed(Some("news".into()), None),
        r#"{"type":"unsubscribe_confirmation","payload":{"status":"ok","channel":"news"}}"#,
    );
    server_golden(
        ServerMessage::Message(ChannelMessage {
            channel: "news".into(),
            seq: 42,
            time: 1_795_000_000_000,
            data: raw(r#"{"headline":"Moon is full","n":[1,2]}"#),
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
            reference: None,
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
            reference: None,
        }),
        r#"{"type":"error","payload":{"code":"invalid_channel","message":"channel name is empty","request":"subscribe","channel":""}}"#,
    );
}

#[test]
fn unknown_server_events_are_reported_not_panicked_on() {
    let err = decode_server(r#"{"type":"presence","payload":{}}"#).unwrap_err();
    assert_eq!(err.code, ErrorCode::UnknownType);
}

#[test]
fn identity_events() {
    client_golden(
        ClientMessage::Connect(ConnectPayload {
            id: ID.into(),
            token: Some("a.b.c".into()),
            reference: None,
        }),
        &format!(r#"{{"type":"connect","payload":{{"id":"{ID}","token":"a.b.c"}}}}"#),
    );
    client_golden(
        ClientMessage::Refresh(RefreshPayload {
            id: ID.into(),
            token: "d.e.f".into(),
            reference: Some(Ref::Int(4)),
        }),
        &format!(r#"{{"type":"refresh","payload":{{"id":"{ID}","token":"d.e.f","ref":4}}}}"#),
    );
    server_golden(
        ServerMessage::Subscribed(SubscribedPayload {
            channel: "alerts".into(),
        }),
        r#"{"type":"subscribed","payload":{"channel":"alerts"}}"#,
    );
    server_golden(
        ServerMessage::Unsubscribed(SubscribedPayload {
            channel: "alerts".into(),
        }),
        r#"{"type":"unsubscribed","payload":{"channel":"alerts"}}"#,
    );
}

#[test]
fn every_request_may_carry_a_ref() {
    client_golden(
        ClientMessage::Connect(ConnectPayload {
            id: ID.into(),
            token: None,
            reference: Some(Ref::Int(1)),
        }),
        &format!(r#"{{"type":"connect","payload":{{"id":"{ID}","ref":1}}}}"#),
    );
    client_golden(
        ClientMessage::Subscribe(SubscriptionPayload {
            id: ID.into(),
            channel: Some("news".into()),
            token: None,
            since: None,
            reference: Some("s-1".into()),
        }),
        &format!(
            r#"{{"type":"subscribe","payload":{{"id":"{ID}","channel":"news","ref":"s-1"}}}}"#
        ),
    );
    client_golden(
        ClientMessage::Unsubscribe(SubscriptionPayload {
            id: ID.into(),
            channel: None,
            token: None,
            since: None,
            reference: Some(Ref::Int(-3)),
        }),
        &format!(r#"{{"type":"unsubscribe","payload":{{"id":"{ID}","ref":-3}}}}"#),
    );
    client_golden(
        ClientMessage::Publish(PublishPayload {
            id: ID.into(),
            channel: "news".into(),
            data: raw("[1]"),
            exclude_self: false,
            reference: Some(Ref::Int(9)),
        }),
        &format!(
            r#"{{"type":"publish","payload":{{"id":"{ID}","channel":"news","data":[1],"ref":9}}}}"#
        ),
    );
    client_golden(
        ClientMessage::Watch(ChannelPayload {
            id: ID.into(),
            channel: "news".into(),
            reference: Some(Ref::Int(2)),
        }),
        &format!(r#"{{"type":"watch","payload":{{"id":"{ID}","channel":"news","ref":2}}}}"#),
    );
    client_golden(
        ClientMessage::Ping(IdPayload {
            id: ID.into(),
            reference: Some("p".into()),
        }),
        &format!(r#"{{"type":"ping","payload":{{"id":"{ID}","ref":"p"}}}}"#),
    );
}

#[test]
fn every_reply_echoes_the_ref() {
    server_golden(
        ServerMessage::subscribed(Some("news".into()), Some("s-1".into())),
        r#"{"type":"subscribe_confirmation","payload":{"status":"ok","channel":"news","ref":"s-1"}}"#,
    );
    server_golden(
        ServerMessage::unsubscribed(None, Some(Ref::Int(-3))),
        r#"{"type":"unsubscribe_confirmation","payload":{"status":"ok","ref":-3}}"#,
    );
    server_golden(
        ServerMessage::PublishConfirmation(PublishConfirmation {
            channel: "news".into(),
            seq: 42,
            reference: Some(Ref::Int(9)),
        }),
        r#"{"type":"publish_confirmation","payload":{"channel":"news","seq":42,"ref":9}}"#,
    );
    server_golden(
        ServerMessage::Pong(PongPayload {
            time: 5,
            reference: Some("p".into()),
        }),
        r#"{"type":"pong","payload":{"time":5,"ref":"p"}}"#,
    );
    server_golden(
        ServerMessage::Error(ErrorPayload {
            code: ErrorCode::BrokerUnavailable,
            message: "Redis is unreachable".into(),
            request: Some("publish".into()),
            channel: Some("news".into()),
            reference: Some(Ref::Int(9)),
        }),
        r#"{"type":"error","payload":{"code":"broker_unavailable","message":"Redis is unreachable","request":"publish","channel":"news","ref":9}}"#,
    );
}

#[test]
fn the_borrowed_message_encodes_exactly_like_the_owned_one() {
    let data = raw(r#"{"n":123456789012345678901234567890,"z":1.10,"a":2}"#);
    let owned = ChannelMessage {
        channel: "news".into(),
        seq: 3,
        time: 7,
        data: data.clone(),
    };
    let borrowed = MessageRef {
        channel: "news",
        seq: 3,
        time: 7,
        data: &data,
    };
    let text = borrowed.to_json();
    assert_eq!(text, ServerMessage::Message(owned.clone()).to_json());
    assert_eq!(
        text,
        r#"{"type":"message","payload":{"channel":"news","seq":3,"time":7,"data":{"n":123456789012345678901234567890,"z":1.10,"a":2}}}"#
    );
    assert_eq!(decode_server(&text).unwrap(), ServerMessage::Message(owned));
}

#[test]
fn wisdom_frames_keep_the_original_shape() {
    let quote = raw(r#""Run with the pack.""#);
    let message = |data| MessageRef {
        channel: DEFAULT_CHANNEL,
        seq: 1,
        time: 0,
        data,
    };
    assert_eq!(
        message(&quote).to_wisdom_json(),
        r#"{"type":"wisdom_distribution","payload":{"message":"Run with the pack."}}"#
    );
    assert_eq!(
        message(&raw(r#"{"x":1}"#)).to_wisdom_json(),
        ServerMessage::WisdomDistribution(WisdomPayload {
            message: r#"{"x":1}"#.into()
        })
        .to_json()
    );
}

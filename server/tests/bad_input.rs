//! Every kind of bad input gets its own clear error; the connection, the server and other
//! clients keep working.

use futures_util::SinkExt;
use howl_testkit::tungstenite::Message;
use howl_testkit::{Client, TestServer};
use serde_json::{json, Value};

fn error(code: &str, request: Option<&str>, channel: Option<&str>) -> impl Fn(&Value) {
    let (code, request, channel) = (
        code.to_owned(),
        request.map(str::to_owned),
        channel.map(str::to_owned),
    );
    move |frame: &Value| {
        assert_eq!(frame["type"], "error", "{frame}");
        assert_eq!(frame["payload"]["code"], code.as_str(), "{frame}");
        assert!(
            !frame["payload"]["message"].as_str().unwrap().is_empty(),
            "{frame}"
        );
        assert_eq!(
            frame["payload"]["request"].as_str(),
            request.as_deref(),
            "{frame}"
        );
        assert_eq!(
            frame["payload"]["channel"].as_str(),
            channel.as_deref(),
            "{frame}"
        );
    }
}

/// The connection still answers and can subscribe after the error.
async fn still_usable(client: &mut Client) {
    assert_eq!(client.sync().await, Vec::<Value>::new());
}

#[tokio::test]
async fn events_before_connect_and_with_a_wrong_id() {
    let server = TestServer::start(&["--quote-interval", "0"]).await;
    let mut client = Client::open(&server.ws_url()).await;
    let initial = client.recv_json().await;
    client.id = initial["payload"]["id"].as_str().unwrap().to_owned();

    client.send_event("subscribe", json!({})).await;
    error("not_connected", Some("subscribe"), None)(&client.recv_json().await);

    client
        .send_text(r#"{"type":"connect","payload":{"id":"not-mine"}}"#)
        .await;
    error("wrong_id", Some("connect"), None)(&client.recv_json().await);

    client.send_event("connect", json!({})).await;
    client.send_event("connect", json!({})).await;
    error("already_connected", Some("connect"), None)(&client.recv_json().await);

    client
        .send_text(r#"{"type":"subscribe","payload":{"id":"not-mine","channel":"a"}}"#)
        .await;
    error("wrong_id", Some("subscribe"), None)(&client.recv_json().await);

    client
        .send_event("subscribe", json!({"channel": "a"}))
        .await;
    assert_eq!(client.recv_json().await["type"], "subscribe_confirmation");
    still_usable(&mut client).await;
}

#[tokio::test]
async fn malformed_unknown_incomplete_and_invalid_frames() {
    let server = TestServer::start(&["--quote-interval", "0"]).await;
    let mut client = server.client().await;

    client.send_text("{this is not json").await;
    error("malformed_json", None, None)(&client.recv_json().await);

    client.send_event("shout", json!({})).await;
    error("unknown_type", Some("shout"), None)(&client.recv_json().await);

    client
        .send_text(r#"{"type":"subscribe","payload":{"channel":"a"}}"#)
        .await;
    let frame = client.recv_json().await;
    error("invalid_payload", Some("subscribe"), None)(&frame);
    assert!(
        frame["payload"]["message"]
            .as_str()
            .unwrap()
            .contains("`id`"),
        "{frame}"
    );

    client.send_event("publish", json!({"channel": "a"})).await;
    let frame = client.recv_json().await;
    error("invalid_payload", Some("publish"), None)(&frame);
    assert!(
        frame["payload"]["message"]
            .as_str()
            .unwrap()
            .contains("`data`"),
        "{frame}"
    );

    client
        .send_event("subscribe", json!({"channel": "has space"}))
        .await;
    error("invalid_channel", Some("subscribe"), Some("has space"))(&client.recv_json().await);

    client
        .ws
        .send(Message::binary(vec![1u8, 2, 3]))
        .await
        .unwrap();
    error("binary_frame", None, None)(&client.recv_json().await);

    still_usable(&mut client).await;
    let metrics = server.metrics().await;
    for code in [
        "malformed_json",
        "unknown_type",
        "invalid_channel",
        "binary_frame",
    ] {
        assert!(
            metrics.contains(&format!("howl_errors_total{{code=\"{code}\"}} 1\n")),
            "{code}: {metrics}"
        );
    }
    assert!(
        metrics.contains("howl_errors_total{code=\"invalid_payload\"} 2\n"),
        "{metrics}"
    );
}

#[tokio::test]
async fn oversized_message_is_closed_with_1009_and_others_are_unaffected() {
    let server = TestServer::start(&["--quote-interval", "0", "--max-message-size", "1024"]).await;
    let mut bystander = server.client().await;
    bystander
        .send_event("subscribe", json!({"channel": "a"}))
        .await;
    bystander.recv_type("subscribe_confirmation").await;

    let mut big = server.client().await;
    big.send_event("publish", json!({"channel": "a", "data": "x".repeat(2000)}))
        .await;
    assert_eq!(big.expect_close().await, 1009);

    let (status, body) = server
        .post(
            "/api/channels/a/publish",
            format!("\"{}\"", "y".repeat(2000)),
        )
        .await;
    assert_eq!(status, 413);
    assert_eq!(body["error"]["code"], "message_too_large");

    let mut publisher = server.client().await;
    publisher
        .send_event("publish", json!({"channel": "a", "data": "small"}))
        .await;
    assert_eq!(bystander.recv_json().await["payload"]["data"], "small");
    server
        .wait_metric_at_least("howl_oversized_messages_total", 1.0)
        .await;
}

#[tokio::test]
async fn a_flood_of_bad_frames_neither_crashes_nor_stalls_the_server() {
    // Rate limits raised so that every frame is processed and gets its own error (the
    // limits themselves are tested in limits.rs).
    let server = TestServer::start(&[
        "--quote-interval",
        "0",
        "--client-rate",
        "1e6",
        "--client-burst",
        "1000000",
    ])
    .await;
    let mut listener = server.client().await;
    listener
        .send_event("subscribe", json!({"channel": "calm"}))
        .await;
    listener.recv_type("subscribe_confirmation").await;

    let mut flooder = server.client().await;
    let flood = async {
        for i in 0..2000 {
            flooder.send_text(format!("garbage {i}")).await;
        }
        flooder
    };
    let publish = async {
        for n in 0..50 {
            let (status, _) = server
                .post("/api/channels/calm/publish", n.to_string())
                .await;
            assert_eq!(status, 200);
        }
    };
    let (mut flooder, ()) = tokio::join!(flood, publish);
    for n in 0..50 {
        assert_eq!(listener.recv_json().await["payload"]["data"], n);
    }
    // The flooder's connection is still alive: its errors, then the pong.
    let errors = flooder.sync().await;
    assert!(errors
        .iter()
        .all(|f| f["payload"]["code"] == "malformed_json"));
    assert_eq!(errors.len(), 2000);
}

#[tokio::test]
async fn http_api_bad_requests_get_json_errors() {
    let server = TestServer::start(&["--quote-interval", "0"]).await;
    let (status, body) = server.post("/api/channels/ok/publish", "{not json").await;
    assert_eq!(
        (status, body["error"]["code"].clone()),
        (400, json!("malformed_json"))
    );
    let (status, body) = server.post("/api/channels/bad%20name/publish", "1").await;
    assert_eq!(
        (status, body["error"]["code"].clone()),
        (400, json!("invalid_channel"))
    );
    let (status, body) = server.post("/api/channels/ok/publish", "").await;
    assert_eq!(
        (status, body["error"]["code"].clone()),
        (400, json!("malformed_json"))
    );
    let (status, body) = server.get_json("/api/nothing-here").await;
    assert_eq!(
        (status, body["error"]["code"].clone()),
        (404, json!("not_found"))
    );
    let (status, body) = server.get_json("/healthz").await;
    assert_eq!(
        (status, body["status"].clone(), body["broker"].clone()),
        (200, json!("ok"), json!("memory"))
    );
}

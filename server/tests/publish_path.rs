//! One publish path: data arrives byte for byte as the publisher wrote it, whichever way it
//! was published; every request may carry a `ref` that its replies echo; a refused Origin has
//! its own error code.

use howl_testkit::TestServer;
use serde_json::{json, Value};
use tokio_tungstenite::tungstenite::client::IntoClientRequest;
use tokio_tungstenite::tungstenite::http::HeaderValue;

/// The text of a `message` frame's data: everything after `"data":` up to the frame's two
/// closing braces.
fn data_text(frame: &str) -> &str {
    let start = frame.find(r#""data":"#).expect("a message frame") + r#""data":"#.len();
    frame[start..]
        .strip_suffix("}}")
        .expect("data is the last field")
}

#[tokio::test]
async fn data_arrives_byte_for_byte_over_websocket_and_http() {
    let server = TestServer::start(&["--quote-interval", "0"]).await;
    let mut subscriber = server.client().await;
    subscriber.subscribe("golden").await;
    let mut publisher = server.client().await;
    for data in [
        r#"{"n":123456789012345678901234567890,"z":1,"a":2}"#,
        "1.10",
        r#"[1e400, -0.0, "\u00e9\n"]"#,
    ] {
        let frame = format!(
            r#"{{"type":"publish","payload":{{"id":"{}","channel":"golden","data":{data}}}}}"#,
            publisher.id
        );
        publisher.send_text(frame).await;
        let over_ws = subscriber.recv_text().await;
        let (status, _) = server.post("/api/channels/golden/publish", data).await;
        assert_eq!(status, 200);
        let over_http = subscriber.recv_text().await;
        assert_eq!(data_text(&over_ws), data, "{over_ws}");
        assert_eq!(data_text(&over_http), data, "{over_http}");
    }
}

#[tokio::test]
async fn replies_echo_the_requests_ref() {
    let server = TestServer::start(&["--quote-interval", "0"]).await;
    let mut client = server.client().await;
    client
        .send_event("subscribe", json!({"channel": "news", "ref": "s1"}))
        .await;
    // The stream's position: a fresh channel is at seq 0 of a new (random) epoch.
    let confirmation = client.recv_text().await;
    let epoch = howl_testkit::epoch_of(&confirmation);
    assert_eq!(
        confirmation,
        format!(
            r#"{{"type":"subscribe_confirmation","payload":{{"status":"ok","channel":"news","epoch":"{epoch}","seq":0,"ref":"s1"}}}}"#
        )
    );

    // A publish with a ref is confirmed with its seq, after the message itself (the
    // subscriber here is the publisher).
    client
        .send_event("publish", json!({"channel": "news", "data": 1, "ref": 2}))
        .await;
    let message = client.recv_json().await;
    assert_eq!(message["type"], "message");
    assert_eq!(message["payload"]["seq"], 1);
    assert_eq!(
        client.recv_text().await,
        r#"{"type":"publish_confirmation","payload":{"channel":"news","seq":1,"ref":2}}"#
    );
    // Without a ref, success has no reply, as in the original protocol.
    client
        .send_event("publish", json!({"channel": "news", "data": 2}))
        .await;
    let before_pong = client.sync().await;
    assert_eq!(before_pong.len(), 1, "{before_pong:?}");
    assert_eq!(before_pong[0]["type"], "message");

    // Refused requests carry their ref too, including ones whose payload is incomplete.
    client
        .send_event(
            "publish",
            json!({"channel": "bad name", "data": 1, "ref": 3}),
        )
        .await;
    let error = client.recv_json().await;
    assert_eq!(error["payload"]["code"], "invalid_channel");
    assert_eq!(error["payload"]["ref"], 3);
    client
        .send_event("publish", json!({"channel": "news", "ref": "no-data"}))
        .await;
    let error = client.recv_json().await;
    assert_eq!(error["payload"]["code"], "invalid_payload");
    assert_eq!(error["payload"]["ref"], "no-data");

    client
        .send_event("unsubscribe", json!({"channel": "news", "ref": -4}))
        .await;
    assert_eq!(
        client.recv_text().await,
        r#"{"type":"unsubscribe_confirmation","payload":{"status":"ok","channel":"news","ref":-4}}"#
    );
    client.send_event("ping", json!({"ref": 5})).await;
    let pong = client.recv_json().await;
    assert_eq!(pong["type"], "pong");
    assert_eq!(pong["payload"]["ref"], 5);
}

#[tokio::test]
async fn a_refused_origin_has_its_own_code() {
    let server = TestServer::start(&[
        "--quote-interval",
        "0",
        "--allowed-origins",
        "https://app.example.com",
    ])
    .await;
    let mut request = server.ws_url().into_client_request().unwrap();
    request.headers_mut().insert(
        "origin",
        HeaderValue::from_static("https://evil.example.com"),
    );
    let error = tokio_tungstenite::connect_async(request).await.unwrap_err();
    let tokio_tungstenite::tungstenite::Error::Http(response) = error else {
        panic!("expected an HTTP refusal, got {error}");
    };
    assert_eq!(response.status(), 403);
    let body: Value = serde_json::from_slice(response.body().as_deref().unwrap()).unwrap();
    assert_eq!(body["error"]["code"], "origin_not_allowed", "{body}");
    assert!(server
        .metrics()
        .await
        .contains("howl_errors_total{code=\"origin_not_allowed\"} 1\n"));

    // The allowed origin still gets in.
    let mut request = server.ws_url().into_client_request().unwrap();
    request.headers_mut().insert(
        "origin",
        HeaderValue::from_static("https://app.example.com"),
    );
    tokio_tungstenite::connect_async(request).await.unwrap();
}

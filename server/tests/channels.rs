//! Channels, publishing over WebSocket and HTTP, and subscriber notices.

use howl_testkit::{Client, TestServer};
use serde_json::json;

async fn subscribed(server: &TestServer, channels: &[&str]) -> Client {
    let mut client = server.client().await;
    for channel in channels {
        client
            .send_event("subscribe", json!({"channel": channel}))
            .await;
        let confirmation = client.recv_text().await;
        let epoch = howl_testkit::epoch_of(&confirmation);
        assert_eq!(
            confirmation,
            format!(
                r#"{{"type":"subscribe_confirmation","payload":{{"status":"ok","channel":"{channel}","epoch":"{epoch}","seq":0}}}}"#
            )
        );
    }
    client
}

#[tokio::test]
async fn channels_are_isolated_and_one_connection_can_hold_several() {
    let server = TestServer::start(&["--quote-interval", "0"]).await;
    let mut both = subscribed(&server, &["a", "b"]).await;
    let mut only_b = subscribed(&server, &["b"]).await;
    let mut publisher = server.client().await;

    publisher
        .send_event("publish", json!({"channel": "a", "data": {"n": 1}}))
        .await;
    publisher
        .send_event("publish", json!({"channel": "b", "data": "two"}))
        .await;

    let first = both.recv_json().await;
    assert_eq!(first["type"], "message");
    assert_eq!(first["payload"]["channel"], "a");
    assert_eq!(first["payload"]["data"], json!({"n": 1}));
    assert_eq!(first["payload"]["seq"], 1);
    assert!(first["payload"]["time"].as_u64().unwrap() > 1_700_000_000_000);
    let second = both.recv_json().await;
    assert_eq!(
        (
            second["payload"]["channel"].clone(),
            second["payload"]["data"].clone()
        ),
        (json!("b"), json!("two"))
    );

    let only = only_b.recv_json().await;
    assert_eq!(
        only["payload"]["channel"], "b",
        "channel a leaked to a b-only subscriber: {only}"
    );
    assert_eq!(only_b.sync().await, Vec::<serde_json::Value>::new());
    // The publisher subscribed to nothing and got nothing.
    assert_eq!(publisher.sync().await, Vec::<serde_json::Value>::new());
}

#[tokio::test]
async fn sequence_numbers_count_per_channel() {
    let server = TestServer::start(&["--quote-interval", "0"]).await;
    let mut client = subscribed(&server, &["x", "y"]).await;
    for channel in ["x", "x", "y", "x"] {
        client
            .send_event("publish", json!({"channel": channel, "data": null}))
            .await;
    }
    let seqs: Vec<(String, u64)> = client
        .sync()
        .await
        .iter()
        .map(|f| {
            (
                f["payload"]["channel"].as_str().unwrap().to_owned(),
                f["payload"]["seq"].as_u64().unwrap(),
            )
        })
        .collect();
    let expected = [("x", 1), ("x", 2), ("y", 1), ("x", 3)].map(|(c, s)| (c.to_owned(), s));
    assert_eq!(seqs, expected);
}

#[tokio::test]
async fn exclude_self_skips_only_the_sender() {
    let server = TestServer::start(&["--quote-interval", "0"]).await;
    let mut sender = subscribed(&server, &["room"]).await;
    let mut other = subscribed(&server, &["room"]).await;

    sender
        .send_event("publish", json!({"channel": "room", "data": "with me"}))
        .await;
    sender
        .send_event(
            "publish",
            json!({"channel": "room", "data": "without me", "exclude_self": true}),
        )
        .await;

    let own: Vec<_> = sender
        .sync()
        .await
        .iter()
        .map(|f| f["payload"]["data"].clone())
        .collect();
    assert_eq!(own, [json!("with me")]);
    let others: Vec<_> = other
        .sync()
        .await
        .iter()
        .map(|f| f["payload"]["data"].clone())
        .collect();
    assert_eq!(others, [json!("with me"), json!("without me")]);
}

#[tokio::test]
async fn http_publish_reaches_websocket_subscribers_and_reports_the_count() {
    let server = TestServer::start(&["--quote-interval", "0"]).await;
    let mut one = subscribed(&server, &["news"]).await;
    let mut two = subscribed(&server, &["news"]).await;

    let (status, body) = server
        .post(
            "/api/channels/news/publish",
            r#"{"headline":"Moon is full"}"#,
        )
        .await;
    assert_eq!(status, 200);
    assert_eq!(body, json!({"channel": "news", "seq": 1, "subscribers": 2}));
    for client in [&mut one, &mut two] {
        let frame = client.recv_json().await;
        assert_eq!(
            frame["payload"]["data"],
            json!({"headline": "Moon is full"})
        );
    }

    let (status, body) = server.post("/api/channels/empty/publish", "42").await;
    assert_eq!(
        (status, body),
        (200, json!({"channel": "empty", "seq": 1, "subscribers": 0}))
    );

    let (status, body) = server.get_json("/api/channels").await;
    assert_eq!(status, 200);
    assert_eq!(
        body,
        json!({"channels": [{"name": "news", "subscribers": 2}]})
    );
}

#[tokio::test]
async fn legacy_and_named_subscribers_of_the_default_channel_get_their_own_form() {
    let server = TestServer::start(&["--quote-interval", "0"]).await;
    let mut legacy = server.client().await;
    legacy.send_event("subscribe", json!({})).await;
    legacy.recv_type("subscribe_confirmation").await;
    let mut named = subscribed(&server, &["wisdom"]).await;

    server
        .post("/api/channels/wisdom/publish", r#""Howl at the moon.""#)
        .await;
    assert_eq!(
        legacy.recv_text().await,
        r#"{"type":"wisdom_distribution","payload":{"message":"Howl at the moon."}}"#
    );
    let frame = named.recv_json().await;
    assert_eq!(
        (frame["type"].clone(), frame["payload"]["data"].clone()),
        (json!("message"), json!("Howl at the moon."))
    );
}

#[tokio::test]
async fn watchers_hear_when_a_channel_gains_and_loses_its_subscribers() {
    let server = TestServer::start(&["--quote-interval", "0"]).await;
    let mut watcher = server.client().await;
    watcher
        .send_event("watch", json!({"channel": "live"}))
        .await;
    assert_eq!(
        watcher.recv_text().await,
        r#"{"type":"channel_status","payload":{"channel":"live","occupied":false}}"#
    );

    let mut first = subscribed(&server, &["live"]).await;
    assert_eq!(
        watcher.recv_text().await,
        r#"{"type":"channel_status","payload":{"channel":"live","occupied":true}}"#
    );
    let second = subscribed(&server, &["live"]).await;
    first
        .send_event("unsubscribe", json!({"channel": "live"}))
        .await;
    assert_eq!(
        first.recv_text().await,
        r#"{"type":"unsubscribe_confirmation","payload":{"status":"ok","channel":"live"}}"#
    );
    // One subscriber is left: still occupied, so no notice.
    assert_eq!(watcher.sync().await, Vec::<serde_json::Value>::new());
    second.close().await;
    assert_eq!(
        watcher.recv_text().await,
        r#"{"type":"channel_status","payload":{"channel":"live","occupied":false}}"#
    );

    watcher
        .send_event("unwatch", json!({"channel": "live"}))
        .await;
    watcher.sync().await;
    let _third = subscribed(&server, &["live"]).await;
    assert_eq!(watcher.sync().await, Vec::<serde_json::Value>::new());
}

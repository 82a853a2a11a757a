//! Several nodes sharing channels through a real Redis: delivery across nodes from every kind
//! of publisher, channel isolation, exclude-sender, and cluster-wide subscriber counts and
//! `channel_status` notices, also after a node dies without goodbye.

use howl_testkit::redis::counts_agree;
use howl_testkit::{eventually, Client, Node, RedisServer};
use serde_json::{json, Value};

async fn subscribe(client: &mut Client, channel: &str) {
    let confirmation = client.subscribe(channel).await;
    assert_eq!(confirmation["payload"]["channel"], channel);
}

async fn unsubscribe(client: &mut Client, channel: &str) {
    client
        .send_event("unsubscribe", json!({ "channel": channel }))
        .await;
    client.recv_type("unsubscribe_confirmation").await;
}

async fn publish(client: &mut Client, channel: &str, data: Value, exclude_self: bool) {
    let fields = json!({"channel": channel, "data": data, "exclude_self": exclude_self});
    client.send_event("publish", fields).await;
}

/// The next frame must be this `message`; returns it.
async fn expect_message(client: &mut Client, channel: &str, seq: u64, data: Value) -> Value {
    let frame = client.recv_json().await;
    assert_eq!(frame["type"], "message", "{frame}");
    let payload = &frame["payload"];
    assert_eq!(
        (&payload["channel"], &payload["seq"], &payload["data"]),
        (&json!(channel), &json!(seq), &data),
        "{frame}"
    );
    assert!(payload["time"].is_u64(), "{frame}");
    assert_eq!(payload.as_object().unwrap().len(), 4, "{frame}");
    frame
}

async fn expect_status(client: &mut Client, channel: &str, occupied: bool) {
    let frame = client.recv_type("channel_status").await;
    assert_eq!(
        frame,
        json!({"type": "channel_status", "payload": {"channel": channel, "occupied": occupied}})
    );
}

/// No frame (other than the pong) has arrived by the time the server answers a ping.
async fn expect_quiet(client: &mut Client) {
    let frames = client.sync().await;
    assert!(frames.is_empty(), "unexpected frames: {frames:?}");
}

#[tokio::test]
async fn messages_cross_nodes_from_websocket_http_and_raw_redis_publish() {
    let redis = RedisServer::start().await;
    let a = Node::start(&redis, "a", &[]).await;
    let b = Node::start(&redis, "b", &[]).await;
    assert_eq!(redis.numsub("howl:news").await, 0, "nobody listens yet");

    let mut sub = b.client().await;
    subscribe(&mut sub, "news").await;
    // Counts are written after the Redis subscription is confirmed, so this also means b
    // listens in Redis.
    counts_agree(&[&a, &b], "news", 1).await;
    assert_eq!(redis.numsub("howl:news").await, 1);

    let mut publisher = a.client().await;
    publish(&mut publisher, "news", json!({"n": 1}), false).await;
    expect_message(&mut sub, "news", 1, json!({"n": 1})).await;

    let (status, body) = a.post("/api/channels/news/publish", r#"{"n":2}"#).await;
    assert_eq!(status, 200);
    assert_eq!(body, json!({"channel": "news", "seq": 2, "subscribers": 1}));
    expect_message(&mut sub, "news", 2, json!({"n": 2})).await;

    // A backend publishing straight into Redis: one PUBLISH reaches the one listening node.
    assert_eq!(redis.publish("howl:news", r#"{"text":"raw"}"#).await, 1);
    expect_message(&mut sub, "news", 0, json!({"text": "raw"})).await;
    redis.publish("howl:news", "plain words").await;
    expect_message(&mut sub, "news", 0, json!("plain words")).await;
    // A backend's own seq is not a number the cluster gave: it is delivered as 0.
    redis
        .publish("howl:news", r#"{"howl":1,"seq":77,"time":5,"data":[1]}"#)
        .await;
    let frame = expect_message(&mut sub, "news", 0, json!([1])).await;
    assert_eq!(frame["payload"]["time"], 5);

    // Unreadable payloads are dropped and counted; the subscriber is unaffected.
    redis.publish("howl:news", &[0xffu8, 0xfe][..]).await;
    redis.publish("howl:news", r#"{"howl":9,"data":1}"#).await;
    redis.publish("howl:news", "after").await;
    expect_message(&mut sub, "news", 0, json!("after")).await;
    assert_eq!(b.metric("howl_broker_invalid_payloads_total").await, 2.0);

    // A second subscriber on b shares b's one Redis subscription, and one publish reaches both.
    let mut sub2 = b.client().await;
    subscribe(&mut sub2, "news").await;
    counts_agree(&[&a, &b], "news", 2).await;
    assert_eq!(redis.numsub("howl:news").await, 1);
    let (_, body) = a.post("/api/channels/news/publish", "3").await;
    assert_eq!(body, json!({"channel": "news", "seq": 3, "subscribers": 2}));
    expect_message(&mut sub, "news", 3, json!(3)).await;
    expect_message(&mut sub2, "news", 3, json!(3)).await;

    // When the last local subscriber leaves, b stops listening in Redis.
    unsubscribe(&mut sub, "news").await;
    assert_eq!(redis.numsub("howl:news").await, 1);
    unsubscribe(&mut sub2, "news").await;
    eventually("b unsubscribed in Redis", || async {
        redis.numsub("howl:news").await == 0
    })
    .await;
    counts_agree(&[&a, &b], "news", 0).await;
    assert_eq!(a.metric("howl_broker_publish_failures_total").await, 0.0);

    // A client of the original protocol (no channel) gets a backend's text as a quote.
    let mut legacy = b.client().await;
    legacy.send_event("subscribe", json!({})).await;
    legacy.recv_type("subscribe_confirmation").await;
    counts_agree(&[&a, &b], "wisdom", 1).await;
    redis.publish("howl:wisdom", "Howl at the moon").await;
    assert_eq!(
        legacy.recv_text().await,
        r#"{"type":"wisdom_distribution","payload":{"message":"Howl at the moon"}}"#
    );
}

#[tokio::test]
async fn channels_are_isolated_and_exclude_self_excludes_only_the_sender() {
    let redis = RedisServer::start().await;
    let a = Node::start(&redis, "a", &[]).await;
    let b = Node::start(&redis, "b", &[]).await;
    let (mut p, mut q) = (a.client().await, a.client().await);
    let (mut r, mut s) = (b.client().await, b.client().await);
    for client in [&mut p, &mut q, &mut r] {
        subscribe(client, "news").await;
    }
    subscribe(&mut s, "sports").await;
    counts_agree(&[&a, &b], "news", 3).await;
    counts_agree(&[&a, &b], "sports", 1).await;

    publish(&mut p, "news", json!("first"), true).await;
    expect_message(&mut q, "news", 1, json!("first")).await;
    expect_message(&mut r, "news", 1, json!("first")).await;
    expect_quiet(&mut p).await;

    // Without exclusion the sender gets it too, once: its node delivered it directly and
    // ignores the copy Redis echoes back. The echo reaches node a before r's later message
    // (Redis keeps publication order), so a duplicate would arrive before "third".
    publish(&mut p, "news", json!("second"), false).await;
    expect_message(&mut p, "news", 2, json!("second")).await;
    publish(&mut r, "news", json!("third"), false).await;
    expect_message(&mut p, "news", 3, json!("third")).await;
    for client in [&mut q, &mut r] {
        expect_message(client, "news", 2, json!("second")).await;
        expect_message(client, "news", 3, json!("third")).await;
    }

    // s, on b with the news subscribers, only ever sees sports; news would have come first.
    let (status, _) = a.post("/api/channels/sports/publish", r#""goal""#).await;
    assert_eq!(status, 200);
    expect_message(&mut s, "sports", 1, json!("goal")).await;
    for client in [&mut p, &mut q, &mut r, &mut s] {
        expect_quiet(client).await;
    }
}

#[tokio::test]
async fn counts_and_channel_status_agree_across_nodes_and_survive_a_killed_node() {
    let redis = RedisServer::start().await;
    let a = Node::start(&redis, "a", &[]).await;
    let b = Node::start(&redis, "b", &[]).await;
    let mut c = Node::start(&redis, "c", &[]).await;
    let (mut barrier_a, mut barrier_b) = (a.client().await, b.client().await);
    subscribe(&mut barrier_a, "barrier").await;
    subscribe(&mut barrier_b, "barrier").await;
    counts_agree(&[&a, &b], "barrier", 2).await;
    let (mut watch_a, mut watch_b) = (a.client().await, b.client().await);
    for watcher in [&mut watch_a, &mut watch_b] {
        watcher
            .send_event("watch", json!({"channel": "room"}))
            .await;
        expect_status(watcher, "room", false).await;
    }

    // First subscriber anywhere: every watcher hears "occupied".
    let mut on_b = b.client().await;
    subscribe(&mut on_b, "room").await;
    expect_status(&mut watch_a, "room", true).await;
    expect_status(&mut watch_b, "room", true).await;
    counts_agree(&[&a, &b, &c], "room", 1).await;

    // More subscribers on another node, and the first one leaving: counts follow, and
    // watchers hear nothing, since the channel never became empty.
    let mut on_c = c.client().await;
    subscribe(&mut on_c, "room").await;
    let mut also_on_c = c.client().await;
    subscribe(&mut also_on_c, "room").await;
    counts_agree(&[&a, &b, &c], "room", 3).await;
    // c announced itself on the control channel before its count was readable; a message
    // published now reaches a and b after that announcement (Redis keeps order per
    // connection), so once it arrives both nodes know c has subscribers.
    redis.publish("howl:barrier", "x").await;
    for barrier in [&mut barrier_a, &mut barrier_b] {
        expect_message(barrier, "barrier", 0, json!("x")).await;
    }
    unsubscribe(&mut on_b, "room").await;
    counts_agree(&[&a, &b, &c], "room", 2).await;
    for watcher in [&mut watch_a, &mut watch_b] {
        let frames = watcher.sync().await;
        assert!(
            frames.iter().all(|f| f["type"] != "channel_status"),
            "{frames:?}"
        );
    }

    // c dies without goodbye, taking the last subscribers: its counts expire in Redis and
    // the other nodes notice.
    c.kill().await;
    expect_status(&mut watch_a, "room", false).await;
    expect_status(&mut watch_b, "room", false).await;
    counts_agree(&[&a, &b], "room", 0).await;
    expect_quiet(&mut watch_a).await;
    expect_quiet(&mut watch_b).await;

    // And the channel comes back to life normally.
    subscribe(&mut on_b, "room").await;
    expect_status(&mut watch_a, "room", true).await;
    counts_agree(&[&a, &b], "room", 1).await;
}

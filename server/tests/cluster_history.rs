//! Gapless delivery through Redis: a subscription confirmed on one node gets everything
//! published after it on any node, every subscriber sees a channel's messages in `seq` order,
//! recovery with `since` works across nodes, and nothing published straight into Redis can
//! move a channel's counter. Every test counts lost, duplicated and out-of-order messages.

use howl_testkit::{epoch_of, Client, Node, RedisServer};
use serde_json::{json, Value};
use std::collections::HashSet;

/// Rate limits out of the way: these tests publish as fast as they can.
const FAST: &[&str] = &[
    "--publish-rate",
    "100000",
    "--publish-burst",
    "100000",
    "--client-rate",
    "100000",
    "--client-burst",
    "100000",
];

async fn publish(client: &mut Client, channel: &str, data: Value) {
    let fields = json!({"channel": channel, "data": data});
    client.send_event("publish", fields).await;
}

/// The next `message` frame's payload, skipping other frames (e.g. publish receipts).
async fn next_message(client: &mut Client) -> Value {
    client.recv_type("message").await["payload"].clone()
}

/// Receives `count` messages and asserts their seqs are exactly `first..first + count`.
async fn expect_run(client: &mut Client, channel: &str, first: u64, count: u64) {
    for seq in first..first + count {
        let message = next_message(client).await;
        assert_eq!(
            (&message["channel"], &message["seq"]),
            (&json!(channel), &json!(seq)),
            "expected seq {seq}: {message}"
        );
    }
}

/// Subscribes with `since` and returns the confirmation's payload.
async fn resubscribe(client: &mut Client, channel: &str, epoch: &str, seq: u64) -> Value {
    let since = json!({"epoch": epoch, "seq": seq});
    client
        .send_event("subscribe", json!({"channel": channel, "since": since}))
        .await;
    client.recv_type("subscribe_confirmation").await["payload"].clone()
}

/// Asserts nothing else has arrived (a ping round trip as barrier).
async fn expect_quiet(client: &mut Client) {
    let frames = client.sync().await;
    let messages: Vec<_> = frames.iter().filter(|f| f["type"] == "message").collect();
    assert!(messages.is_empty(), "duplicates or strays: {messages:?}");
}

#[tokio::test]
async fn a_confirmed_subscription_gets_what_another_node_publishes_right_after() {
    let redis = RedisServer::start().await;
    let a = Node::start(&redis, "a", FAST).await;
    let b = Node::start(&redis, "b", FAST).await;
    let mut subscriber = a.client().await;
    let mut publisher = b.client().await;
    const ROUNDS: u64 = 1_000;
    for round in 0..ROUNDS {
        let channel = format!("race{round}");
        let confirmation = subscriber.subscribe(&channel).await;
        assert_eq!(confirmation["payload"]["seq"], 0, "{confirmation}");
        publish(&mut publisher, &channel, json!(round)).await;
        let message = next_message(&mut subscriber).await;
        assert_eq!(
            (&message["channel"], &message["seq"], &message["data"]),
            (&json!(channel), &json!(1), &json!(round)),
            "round {round}"
        );
        // Within the per-connection subscription limit.
        subscriber
            .send_event("unsubscribe", json!({ "channel": channel }))
            .await;
        subscriber.recv_type("unsubscribe_confirmation").await;
    }
    expect_quiet(&mut subscriber).await;
}

#[tokio::test]
async fn concurrent_publishers_on_one_node_are_seen_in_seq_order_on_every_node() {
    let redis = RedisServer::start().await;
    let a = Node::start(&redis, "a", FAST).await;
    let b = Node::start(&redis, "b", FAST).await;
    let mut subscribers = Vec::new();
    for node in [&a, &a, &b, &b] {
        let mut client = node.client().await;
        client.subscribe("order").await;
        subscribers.push(client);
    }
    const PUBLISHERS: u64 = 8;
    const EACH: u64 = 150;
    let mut tasks = Vec::new();
    for p in 0..PUBLISHERS {
        let url = a.ws_url();
        tasks.push(tokio::spawn(async move {
            let mut client = Client::connect(&url).await;
            for i in 0..EACH {
                publish(&mut client, "order", json!({"p": p, "i": i})).await;
            }
            // Every publish was handled once the ping is answered.
            client.sync().await;
        }));
    }
    let total = PUBLISHERS * EACH;
    for (index, subscriber) in subscribers.iter_mut().enumerate() {
        let mut last = 0;
        let mut seen = HashSet::new();
        for _ in 0..total {
            let message = next_message(subscriber).await;
            let seq = message["seq"].as_u64().unwrap();
            assert!(seq > last, "subscriber {index}: {seq} after {last}");
            last = seq;
            let key = message["data"].to_string();
            assert!(seen.insert(key), "duplicate {message}");
        }
        assert_eq!(last, total, "subscriber {index} saw every seq");
    }
    for task in tasks {
        task.await.unwrap();
    }
    for subscriber in &mut subscribers {
        expect_quiet(subscriber).await;
    }
}

#[tokio::test]
async fn recovery_with_since_works_across_nodes_and_fails_honestly() {
    let redis = RedisServer::start().await;
    let a = Node::start(&redis, "a", FAST).await;
    let b = Node::start(&redis, "b", FAST).await;

    let mut client = a.client().await;
    let confirmation = client.subscribe("rec").await;
    let epoch = epoch_of(&confirmation.to_string());
    let (status, body) = b.post("/api/channels/rec/publish", "1").await;
    assert_eq!((status, &body["seq"]), (200, &json!(1)), "{body}");
    expect_run(&mut client, "rec", 1, 1).await;
    client.close().await;

    for n in 0..50 {
        let (status, _) = b
            .post("/api/channels/rec/publish", json!(n).to_string())
            .await;
        assert_eq!(status, 200);
    }
    let mut client = b.client().await;
    let confirmation = resubscribe(&mut client, "rec", &epoch, 1).await;
    assert_eq!(
        (
            &confirmation["recovered"],
            &confirmation["epoch"],
            &confirmation["seq"]
        ),
        (&json!(true), &json!(epoch), &json!(51)),
        "{confirmation}"
    );
    expect_run(&mut client, "rec", 2, 50).await;
    expect_quiet(&mut client).await;
    client.close().await;

    // More than the 100 kept messages missed: the client is told it cannot recover.
    for n in 0..101 {
        let (status, body) = a
            .post("/api/channels/rec/publish", json!(n).to_string())
            .await;
        assert_eq!((status, &body["seq"]), (200, &json!(52 + n)), "{body}");
    }
    let mut client = a.client().await;
    let confirmation = resubscribe(&mut client, "rec", &epoch, 51).await;
    assert_eq!(
        (&confirmation["recovered"], &confirmation["seq"]),
        (&json!(false), &json!(152)),
        "{confirmation}"
    );
    expect_quiet(&mut client).await;
    client.close().await;

    // A live subscriber on b sees 153 from a.
    let mut live = b.client().await;
    live.subscribe("rec").await;
    let (_, body) = a.post("/api/channels/rec/publish", "1").await;
    assert_eq!(body["seq"], 153, "{body}");
    expect_run(&mut live, "rec", 153, 1).await;

    // Redis lost everything: a new epoch, so nothing can be recovered, but numbering goes on
    // above what each node saw, so live subscribers never see numbers go back.
    let _: () = redis::cmd("FLUSHALL")
        .query_async(&mut redis.connection().await)
        .await
        .unwrap();
    let (_, body) = b.post("/api/channels/rec/publish", "2").await;
    assert_eq!(body["seq"], 154, "{body}");
    expect_run(&mut live, "rec", 154, 1).await;
    let mut client = a.client().await;
    let confirmation = resubscribe(&mut client, "rec", &epoch, 153).await;
    assert_eq!(confirmation["recovered"], json!(false), "{confirmation}");
    assert_ne!(confirmation["epoch"], json!(epoch), "{confirmation}");
    assert_eq!(confirmation["seq"], 154, "{confirmation}");
    expect_quiet(&mut client).await;
    expect_quiet(&mut live).await;
}

#[tokio::test]
async fn a_seq_published_straight_into_redis_does_not_move_the_counter() {
    let redis = RedisServer::start().await;
    let a = Node::start(&redis, "a", FAST).await;
    let b = Node::start(&redis, "b", FAST).await;
    let mut client = b.client().await;
    client.subscribe("raw").await;
    let (_, body) = a.post("/api/channels/raw/publish", "1").await;
    assert_eq!(body["seq"], 1);
    expect_run(&mut client, "raw", 1, 1).await;

    let forged = format!(r#"{{"howl":1,"seq":{},"time":5,"data":"x"}}"#, u64::MAX);
    assert_eq!(redis.publish("howl:raw", forged).await, 1);
    let message = next_message(&mut client).await;
    assert_eq!(
        (&message["seq"], &message["data"]),
        (&json!(0), &json!("x"))
    );

    for node in [&a, &b] {
        let (_, body) = node.post("/api/channels/raw/publish", "2").await;
        assert!(body["seq"] == 2 || body["seq"] == 3, "{body}");
    }
    expect_run(&mut client, "raw", 2, 2).await;
    expect_quiet(&mut client).await;
}

#[tokio::test]
async fn a_subscribed_channel_keeps_its_stream_in_redis_past_its_ttl_without_publishes() {
    let redis = RedisServer::start().await;
    let file = tempfile::NamedTempFile::new().unwrap();
    std::fs::write(
        file.path(),
        "[[namespaces]]\nname = \"\"\nhistory-ttl = 1\n",
    )
    .unwrap();
    let config = ["--config", file.path().to_str().unwrap()];
    let a = Node::start(&redis, "a", &config).await;
    let b = Node::start(&redis, "b", &config).await;
    let mut subscriber = a.client().await;
    let confirmation = subscriber.subscribe("idle").await;
    let epoch = epoch_of(&confirmation.to_string());
    let (status, _) = b.post("/api/channels/idle/publish", "1").await;
    assert_eq!(status, 200);
    expect_run(&mut subscriber, "idle", 1, 1).await;

    // Three TTLs without a publish: the keys must still be there (renewed by node a).
    let redis_connection = redis.connection().await;
    let since = std::time::Instant::now();
    howl_testkit::eventually("three TTLs with the stream alive", || {
        let mut connection = redis_connection.clone();
        async move {
            let alive: bool = redis::cmd("EXISTS")
                .arg("howl:!meta:idle")
                .query_async(&mut connection)
                .await
                .unwrap();
            assert!(alive, "the stream of a subscribed channel expired");
            since.elapsed() > std::time::Duration::from_secs(3)
        }
    })
    .await;
    // Same epoch, the numbering goes on, recovery still works.
    let (status, body) = b.post("/api/channels/idle/publish", "2").await;
    assert_eq!((status, &body["seq"]), (200, &json!(2)), "{body}");
    expect_run(&mut subscriber, "idle", 2, 1).await;
    let mut back = b.client().await;
    let confirmation = resubscribe(&mut back, "idle", &epoch, 1).await;
    assert_eq!(confirmation["recovered"], true, "{confirmation}");
    expect_run(&mut back, "idle", 2, 1).await;
}

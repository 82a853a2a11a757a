//! A Redis outage: publishes are refused (`broker_unavailable`, HTTP 503), never numbered by
//! a node alone; clients stay connected; once Redis is back, cross-node delivery and history
//! work again within 3 s. And a flood of channels leaves nothing behind in Redis or in the
//! node's memory once their `history-ttl` has passed.

use howl_testkit::{eventually, Client, Node, RedisServer};
use serde_json::json;
use std::io::Write;
use std::time::{Duration, Instant};

#[tokio::test]
async fn publishes_fail_during_an_outage_and_everything_returns_within_3_s() {
    let mut redis = RedisServer::start().await;
    let a = Node::start(&redis, "a", &[]).await;
    let b = Node::start(&redis, "b", &[]).await;
    let mut sub = b.client().await;
    sub.subscribe("out").await;
    let mut publisher = a.client().await;

    redis.kill();
    eventually("a notices the outage", || async {
        a.health().await["status"] != "ok"
    })
    .await;
    publisher
        .send_event("publish", json!({"channel": "out", "data": 1, "ref": 9}))
        .await;
    let error = publisher.recv_type("error").await;
    assert_eq!(
        (&error["payload"]["code"], &error["payload"]["ref"]),
        (&json!("broker_unavailable"), &json!(9)),
        "{error}"
    );
    let (status, body) = a.post("/api/channels/out/publish", "2").await;
    assert_eq!(status, 503, "{body}");
    assert_eq!(body["error"]["code"], "broker_unavailable", "{body}");
    // Everyone is still connected.
    assert!(sub.sync().await.is_empty());
    assert!(publisher.sync().await.is_empty());

    redis.restart().await;
    let back = Instant::now();
    let mut n = 0;
    let seq = loop {
        assert!(
            back.elapsed() < Duration::from_secs(3),
            "not back within 3 s"
        );
        n += 1;
        let (status, body) = a
            .post("/api/channels/out/publish", json!({"n": n}).to_string())
            .await;
        if status != 200 {
            tokio::time::sleep(howl_testkit::POLL).await;
            continue;
        }
        // b may not have resubscribed yet: then this one is not delivered, a later one is.
        // `sync` waits for b's node, not for Redis, so a delivered message may also arrive
        // after it: once one arrives, the rest published since follow, in order.
        let frames = sub.sync().await;
        let mut messages: Vec<_> = frames
            .into_iter()
            .filter(|f| f["type"] == "message")
            .collect();
        if !messages.is_empty() {
            let ns = |messages: &[serde_json::Value]| -> Vec<u64> {
                messages
                    .iter()
                    .map(|m| m["payload"]["data"]["n"].as_u64().unwrap())
                    .collect()
            };
            while ns(&messages).last() != Some(&n) {
                messages.push(sub.recv_type("message").await);
            }
            let got = ns(&messages);
            assert!(got.windows(2).all(|w| w[0] < w[1]), "in order: {got:?}");
            let message = messages.last().unwrap();
            break message["payload"]["seq"].as_u64().unwrap();
        }
        let _ = body;
        tokio::time::sleep(howl_testkit::POLL).await;
    };
    let took = back.elapsed();
    eprintln!("cross-node delivery back {took:?} after Redis restarted");
    assert!(took < Duration::from_secs(3), "back after {took:?}");

    // History works too: it holds what was published since Redis came back.
    sub.send_event("history", json!({"channel": "out", "limit": 1}))
        .await;
    let history = sub.recv_type("history_result").await;
    let messages = history["payload"]["messages"].as_array().unwrap();
    assert_eq!(messages.last().unwrap()["seq"], seq, "{history}");
    let (_, body) = b.post("/api/channels/out/publish", "3").await;
    assert_eq!(body["seq"], seq + 1, "{body}");
    let message = sub.recv_type("message").await;
    assert_eq!(message["payload"]["seq"], seq + 1, "{message}");
}

#[tokio::test]
async fn a_flood_of_channels_expires_from_redis_and_from_the_node() {
    let redis = RedisServer::start().await;
    let mut file = tempfile::NamedTempFile::new().unwrap();
    writeln!(file, "[[namespaces]]\nname = \"flood\"\nhistory-ttl = 1").unwrap();
    let flags = [
        "--config",
        file.path().to_str().unwrap(),
        "--publish-rate",
        "1000000",
        "--publish-burst",
        "1000000",
        "--client-rate",
        "1000000",
        "--client-burst",
        "1000000",
    ];
    let a = Node::start(&redis, "a", &flags).await;
    let mut connection = redis.connection().await;
    let dbsize = |mut connection: redis::aio::MultiplexedConnection| async move {
        redis::cmd("DBSIZE")
            .query_async::<u64>(&mut connection)
            .await
            .unwrap()
    };
    let baseline = dbsize(connection.clone()).await;

    const CHANNELS: u64 = 20_000;
    let mut publisher = Client::connect(&a.ws_url()).await;
    for i in 0..CHANNELS {
        let fields = json!({"channel": format!("flood:{i}"), "data": i});
        publisher.send_event("publish", fields).await;
    }
    let frames = publisher.sync().await;
    assert!(frames.is_empty(), "{:?}", &frames[..frames.len().min(3)]);
    // The earliest may have expired already (history-ttl is 1 s); the latest are there.
    let peak = dbsize(connection.clone()).await;
    assert!(peak > baseline, "{peak} keys");

    eventually("the flood's keys expire in Redis", || {
        let connection = connection.clone();
        async move { dbsize(connection).await == baseline }
    })
    .await;
    eventually("the node forgets the flood's channels", || async {
        a.metric("howl_streams").await == 0.0
    })
    .await;
    let _: () = redis::cmd("PING")
        .query_async(&mut connection)
        .await
        .unwrap();
}

//! A cluster under failure: one quote distributor for the whole cluster with takeover when
//! its node dies, and Redis outages (publishes are refused with `broker_unavailable` instead
//! of being half-delivered, health degrades, local operations continue, and cross-node
//! delivery resumes after Redis returns without restarting any node).

use futures_util::StreamExt;
use howl_testkit::redis::counts_agree;
use howl_testkit::{eventually, Client, Node, RedisServer};
use serde_json::{json, Value};

/// The next frame must be a `message` on `channel`; returns its seq and data.
async fn next_message(client: &mut Client, channel: &str) -> (u64, Value) {
    let frame = client.recv_json().await;
    assert_eq!(frame["type"], "message", "{frame}");
    assert_eq!(frame["payload"]["channel"], channel, "{frame}");
    let seq = frame["payload"]["seq"].as_u64().expect("a seq");
    (seq, frame["payload"]["data"].clone())
}

/// Receives quotes until one numbered `until` (at least one), checking they carry
/// consecutive sequence numbers: no quote lost, none twice. Returns the first seq.
async fn quotes_until(client: &mut Client, until: u64) -> u64 {
    let (first, quote) = next_message(client, "wisdom").await;
    assert!(howl::quotes::QUOTES.contains(&quote.as_str().expect("a text quote")));
    let mut last = first;
    while last < until {
        let (seq, _) = next_message(client, "wisdom").await;
        assert_eq!(seq, last + 1, "quotes out of sequence");
        last = seq;
    }
    first
}

/// The nodes that have distributed quotes.
async fn distributors<'a>(nodes: &[&'a Node]) -> Vec<&'a str> {
    let mut ids = Vec::new();
    for node in nodes {
        if node.metric("howl_quotes_distributed_total").await > 0.0 {
            ids.push(node.id.as_str());
        }
    }
    ids
}

#[tokio::test]
async fn one_distributor_for_the_cluster_and_takeover_when_it_dies() {
    let redis = RedisServer::start().await;
    let flags = ["--quote-interval", "0.1"];
    let mut nodes = Vec::new();
    for id in ["a", "b", "c"] {
        nodes.push(Node::start(&redis, id, &flags).await);
    }
    let mut listeners = Vec::new();
    for node in &nodes {
        let mut client = node.client().await;
        client.subscribe("wisdom").await;
        listeners.push(client);
    }
    for listener in &mut listeners {
        let first = quotes_until(listener, 0).await;
        quotes_until(listener, first + 4).await;
    }
    // Every node ran its ticker all along, but only one published.
    let all: Vec<&Node> = nodes.iter().collect();
    let leaders = distributors(&all).await;
    assert_eq!(leaders.len(), 1, "distributing nodes: {leaders:?}");
    let leader = nodes.iter().position(|n| n.id == leaders[0]).unwrap();

    // Kill the leader without goodbye; a survivor takes over once the lock expires.
    nodes[leader].kill().await;
    let survivor = (leader + 1) % nodes.len();
    let others: Vec<&Node> = (0..nodes.len())
        .filter(|i| *i != leader)
        .map(|i| &nodes[i])
        .collect();
    eventually("a surviving node distributes quotes", || async {
        !distributors(&others).await.is_empty()
    })
    .await;
    let mut fresh = nodes[survivor].client().await;
    fresh.subscribe("wisdom").await;
    let first = quotes_until(&mut fresh, 0).await;
    quotes_until(&mut fresh, first + 3).await;
    let leaders = distributors(&others).await;
    assert_eq!(leaders.len(), 1, "distributing survivors: {leaders:?}");
    // A listener that stayed on a surviving node saw every quote across the takeover.
    quotes_until(&mut listeners[survivor], first + 3).await;
}

#[tokio::test]
async fn redis_outage_refuses_publishes_and_recovers_without_restarts() {
    let mut redis = RedisServer::start().await;
    let a = Node::start(&redis, "a", &[]).await;
    let b = Node::start(&redis, "b", &[]).await;
    let (mut on_a, mut on_b, mut publisher) =
        (a.client().await, b.client().await, a.client().await);
    on_a.subscribe("news").await;
    on_b.subscribe("news").await;
    counts_agree(&[&a, &b], "news", 2).await;
    publisher
        .send_event("publish", json!({"channel": "news", "data": "before"}))
        .await;
    assert_eq!(next_message(&mut on_a, "news").await, (1, json!("before")));
    assert_eq!(next_message(&mut on_b, "news").await, (1, json!("before")));

    redis.kill();
    for node in [&a, &b] {
        eventually(&format!("node {} reports degraded", node.id), || async {
            let health = node.health().await;
            health["status"] == "degraded" && health["reason"].is_string()
        })
        .await;
    }
    let (status, _) = a.get_json("/api/channels").await;
    assert_eq!(status, 503, "cluster counts are unknown during the outage");

    // A publish cannot be numbered by the cluster, so it is refused, over WebSocket (with
    // the request's ref) and HTTP, and nobody receives it: not even this node's subscribers.
    publisher
        .send_event(
            "publish",
            json!({"channel": "news", "data": "during", "ref": 7}),
        )
        .await;
    let error = publisher.recv_type("error").await;
    assert_eq!(error["payload"]["code"], "broker_unavailable", "{error}");
    assert_eq!(error["payload"]["ref"], 7, "{error}");
    assert_eq!(error["payload"]["channel"], "news", "{error}");
    let (status, body) = a
        .post("/api/channels/news/publish", r#""during http""#)
        .await;
    assert_eq!(status, 503, "{body}");
    assert_eq!(body["error"]["code"], "broker_unavailable", "{body}");
    assert_eq!(a.metric("howl_broker_publish_failures_total").await, 2.0);
    assert_eq!(a.metric("howl_broker_connected").await, 0.0);
    // Local operations go on: the subscriber is still served (its ping is answered) and
    // received nothing from the refused publishes.
    assert_eq!(on_a.sync().await, Vec::<Value>::new());

    // Redis comes back empty on the same port; the nodes reconnect and resubscribe.
    redis.restart().await;
    for node in [&a, &b] {
        eventually(&format!("node {} is healthy again", node.id), || async {
            node.health().await["status"] == "ok"
        })
        .await;
        assert!(node.metric("howl_broker_reconnects_total").await >= 1.0);
    }
    counts_agree(&[&a, &b], "news", 2).await;
    assert_eq!(redis.numsub("howl:news").await, 2);

    // Cross-node delivery works again both ways, and numbering continues above what was
    // used, although Redis lost its counter: no number was spent on the refused messages.
    publisher
        .send_event("publish", json!({"channel": "news", "data": "after"}))
        .await;
    assert_eq!(next_message(&mut on_a, "news").await, (2, json!("after")));
    assert_eq!(next_message(&mut on_b, "news").await, (2, json!("after")));
    let (_, body) = b.post("/api/channels/news/publish", r#""from b""#).await;
    assert_eq!(body, json!({"channel": "news", "seq": 3, "subscribers": 2}));
    assert_eq!(next_message(&mut on_a, "news").await, (3, json!("from b")));
    assert_eq!(next_message(&mut on_b, "news").await, (3, json!("from b")));
}

#[tokio::test]
async fn graceful_shutdown_releases_the_lock_and_removes_the_counts() {
    let redis = RedisServer::start().await;
    // A long TTL: nothing here may be explained by expiry.
    let flags = ["--quote-interval", "0.1", "--redis-ttl", "30"];
    let mut b = Node::start(&redis, "b", &flags).await;
    let mut connection = redis.connection().await;
    eventually("b holds the distributor lock", || {
        let mut connection = connection.clone();
        async move {
            let holder: Option<String> = redis::cmd("GET")
                .arg("howl:!distributor")
                .query_async(&mut connection)
                .await
                .unwrap();
            holder.as_deref() == Some("b")
        }
    })
    .await;
    let a = Node::start(&redis, "a", &flags).await;
    let mut on_b = b.client().await;
    on_b.subscribe("news").await;
    counts_agree(&[&a, &b], "news", 1).await;

    // The client answers the server's close (1001), so shutdown need not wait for it.
    let client_closes = async {
        assert_eq!(on_b.expect_close().await, 1001);
        while let Some(Ok(_)) = on_b.ws.next().await {}
    };
    tokio::join!(b.shutdown(), client_closes);
    let (holder, counts): (Option<String>, bool) = redis::pipe()
        .cmd("GET")
        .arg("howl:!distributor")
        .cmd("EXISTS")
        .arg("howl:!node:b")
        .query_async(&mut connection)
        .await
        .unwrap();
    assert_eq!(holder, None, "b released the lock");
    assert!(!counts, "b removed its counts");
    assert_eq!(a.channel_count("news").await, Some(0));
}

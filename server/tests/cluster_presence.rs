//! Presence across a Redis cluster: members on every node, `join`/`leave` reaching every
//! node's subscribers, and a node that dies: its members drop out within `--redis-ttl`, and
//! its clients, reconnecting to the other nodes with `since`, recover every message published
//! meanwhile (0 lost, 0 duplicated, 0 out of order).

use howl_testkit::{epoch_of, eventually, Client, Node, RedisServer, ThreadedServer};
use serde_json::{json, Value};
use std::io::Write;
use std::time::{Duration, Instant};

/// A config file opening the `room` namespace with presence and `join`/`leave`.
fn config() -> tempfile::NamedTempFile {
    let mut file = tempfile::NamedTempFile::new().unwrap();
    writeln!(
        file,
        "[[namespaces]]\nname = \"room\"\npresence = true\njoin-leave = true\npresence-max-members = 5"
    )
    .unwrap();
    file
}

/// The `presence_result` payload for `channel`.
async fn presence(client: &mut Client, channel: &str) -> Value {
    client
        .send_event("presence", json!({ "channel": channel }))
        .await;
    client.recv_type("presence_result").await["payload"].clone()
}

/// Waits until the presence count seen through `client` is `count`.
async fn presence_count(client: &mut Client, channel: &str, count: u64) {
    let deadline = Instant::now() + howl_testkit::WAIT;
    loop {
        let result = presence(client, channel).await;
        if result["count"] == count {
            return;
        }
        assert!(Instant::now() < deadline, "presence stays at {result}");
        tokio::time::sleep(howl_testkit::POLL).await;
    }
}

/// The next `join` or `leave` frame.
async fn next_presence(client: &mut Client) -> Value {
    loop {
        let frame = client.recv_json().await;
        if frame["type"] == "join" || frame["type"] == "leave" {
            return frame;
        }
    }
}

#[tokio::test]
async fn presence_and_join_leave_span_the_cluster() {
    let redis = RedisServer::start().await;
    let file = config();
    let flags = ["--config", file.path().to_str().unwrap()];
    let a = Node::start(&redis, "a", &flags).await;
    let b = Node::start(&redis, "b", &flags).await;

    let mut on_a = a.client().await;
    on_a.subscribe("room:1").await;
    let own = next_presence(&mut on_a).await;
    assert_eq!(
        (&own["type"], &own["payload"]["member"]["client"]),
        (&json!("join"), &json!(on_a.id))
    );
    let mut on_b = b.client().await;
    on_b.subscribe("room:1").await;
    for client in [&mut on_a, &mut on_b] {
        let join = next_presence(client).await;
        assert_eq!(join["type"], "join", "{join}");
        assert_eq!(join["payload"]["member"]["client"], json!(on_b_id(&join)));
    }
    presence_count(&mut on_a, "room:1", 2).await;
    let result = presence(&mut on_b, "room:1").await;
    let mut clients: Vec<String> = result["members"]
        .as_array()
        .unwrap()
        .iter()
        .map(|m| m["client"].as_str().unwrap().to_owned())
        .collect();
    clients.sort();
    let mut expected = vec![on_a.id.clone(), on_b.id.clone()];
    expected.sort();
    assert_eq!(clients, expected, "{result}");

    // Above presence-max-members only the count is given.
    let mut more = Vec::new();
    for node in [&a, &b, &a, &b] {
        let mut client = node.client().await;
        client.subscribe("room:1").await;
        more.push(client);
    }
    presence_count(&mut on_a, "room:1", 6).await;
    let result = presence(&mut on_b, "room:1").await;
    assert!(result.get("members").is_none(), "{result}");

    on_b.send_event("unsubscribe", json!({"channel": "room:1"}))
        .await;
    let leave = loop {
        let frame = next_presence(&mut on_a).await;
        if frame["type"] == "leave" {
            break frame;
        }
    };
    assert_eq!(leave["payload"]["member"]["client"], json!(on_b.id));
    presence_count(&mut on_a, "room:1", 5).await;
}

fn on_b_id(join: &Value) -> String {
    join["payload"]["member"]["client"]
        .as_str()
        .unwrap()
        .to_owned()
}

/// A subscriber's place in the channel.
struct Reader {
    client: Client,
    epoch: String,
    seq: u64,
}

impl Reader {
    async fn subscribe(client: Client, channel: &str) -> Self {
        let mut client = client;
        let confirmation = client.subscribe(channel).await;
        let epoch = epoch_of(&confirmation.to_string());
        let seq = confirmation["payload"]["seq"].as_u64().unwrap();
        Self { client, epoch, seq }
    }

    /// Reads messages until `seq`, each exactly the next one.
    async fn read_to(&mut self, seq: u64) {
        while self.seq < seq {
            let message = self.client.recv_type("message").await;
            assert_eq!(message["payload"]["seq"], self.seq + 1, "{message}");
            self.seq += 1;
        }
    }
}

#[tokio::test]
async fn clients_of_a_killed_node_recover_everything_on_the_others() {
    let redis = RedisServer::start().await;
    let file = config();
    let path = file.path().to_str().unwrap().to_owned();
    let flags = [
        "--config",
        path.as_str(),
        "--publish-rate",
        "10000",
        "--publish-burst",
        "10000",
    ];
    let a = Node::start(&redis, "a", &flags).await;
    let b = Node::start(&redis, "b", &flags).await;
    let url = redis.url();
    let mut c = ThreadedServer::start(&[
        "--redis-url",
        &url,
        "--node-id",
        "c",
        "--redis-ttl",
        "0.6",
        "--quote-interval",
        "0",
        "--config",
        &path,
    ]);
    eventually("node c is connected to Redis", || async {
        c.health().await["status"] == "ok"
    })
    .await;

    const CHANNEL: &str = "room:crash";
    let mut readers = Vec::new();
    for endpoint in [&*c, &*c, &*c, &**a, &**b, &**a] {
        readers.push(Reader::subscribe(endpoint.client().await, CHANNEL).await);
    }
    let mut watcher = a.client().await;
    presence_count(&mut watcher, CHANNEL, 6).await;

    let publish = |n: u64| {
        let b = &b;
        async move {
            let (status, body) = b
                .post("/api/channels/room:crash/publish", n.to_string())
                .await;
            assert_eq!(status, 200, "{body}");
            body["seq"].as_u64().unwrap()
        }
    };
    let mut last = 0;
    for n in 0..20 {
        last = publish(n).await;
    }
    for reader in &mut readers {
        reader.read_to(last).await;
    }

    c.kill();
    let killed = Instant::now();
    for n in 20..50 {
        last = publish(n).await;
    }
    // The dead node's three members drop out within the TTL (plus a refresh period).
    presence_count(&mut watcher, CHANNEL, 3).await;
    let gone = killed.elapsed();
    eprintln!("the dead node's members dropped out after {gone:?}");
    assert!(
        gone < Duration::from_millis(600 + 200 + 500),
        "took {gone:?}"
    );

    let mut survivors = readers.split_off(3);
    for (i, reader) in readers.iter_mut().enumerate() {
        let node = if i % 2 == 0 { &a } else { &b };
        reader.client = node.client().await;
        let since = json!({"epoch": reader.epoch, "seq": reader.seq});
        reader
            .client
            .send_event("subscribe", json!({"channel": CHANNEL, "since": since}))
            .await;
        let confirmation = reader.client.recv_type("subscribe_confirmation").await;
        assert_eq!(confirmation["payload"]["recovered"], true, "{confirmation}");
        assert_eq!(confirmation["payload"]["seq"], last, "{confirmation}");
        reader.read_to(last).await;
    }
    for reader in &mut survivors {
        reader.read_to(last).await;
    }
    presence_count(&mut watcher, CHANNEL, 6).await;
    for n in 50..55 {
        last = publish(n).await;
    }
    for reader in readers.iter_mut().chain(survivors.iter_mut()) {
        reader.read_to(last).await;
        let strays: Vec<Value> = reader
            .client
            .sync()
            .await
            .into_iter()
            .filter(|f| f["type"] == "message")
            .collect();
        assert!(strays.is_empty(), "duplicates: {strays:?}");
    }
}

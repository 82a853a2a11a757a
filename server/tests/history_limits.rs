//! The bounds of history on one node: idle streams expire after their `history-ttl`, and
//! `--history-max-bytes` drops the least recently published channels' history first.

use howl_testkit::{eventually, TestServer};
use serde_json::json;
use std::io::Write;

/// A server with `settings` (TOML) in its config file.
async fn server_with(settings: &str) -> (TestServer, tempfile::NamedTempFile) {
    let mut file = tempfile::NamedTempFile::new().unwrap();
    write!(
        file,
        "quote-interval = 0\npublish-rate = 1000000\npublish-burst = 1000000\n\
         client-rate = 1000000\nclient-burst = 1000000\n{settings}"
    )
    .unwrap();
    let server = TestServer::start(&["--config", file.path().to_str().unwrap()]).await;
    (server, file)
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_flood_of_channel_names_is_forgotten_after_the_ttl() {
    const CHANNELS: usize = 20_000;
    let (server, _file) = server_with("[[namespaces]]\nname = \"\"\nhistory-ttl = 1\n").await;
    // A channel with a subscriber stays; the idle ones go.
    let mut watcher = server.client().await;
    watcher.subscribe("flood-0").await;
    let mut publisher = server.client().await;
    for i in 0..CHANNELS {
        let data = json!({"channel": format!("flood-{i}"), "data": i});
        publisher.send_event("publish", data).await;
    }
    assert!(publisher.sync().await.is_empty(), "every publish accepted");
    eventually("the idle streams expire", || async {
        server.metric("howl_streams").await == 1.0
    })
    .await;
    assert_eq!(
        server.metric("howl_streams_expired_total").await,
        (CHANNELS - 1) as f64
    );
    let kept = server.get_json("/api/channels/flood-0/history").await.1;
    assert_eq!(kept["messages"][0]["data"], 0, "{kept}");
}

#[tokio::test]
async fn past_the_byte_cap_the_least_recently_published_history_goes_first() {
    let (server, _file) = server_with("history-max-bytes = 100000\n").await;
    let epoch = |channel: &'static str| {
        let server = &server;
        async move {
            let path = format!("/api/channels/{channel}/history");
            server.get_json(&path).await.1["epoch"].clone()
        }
    };
    let (old_epoch, new_epoch) = (epoch("old").await, epoch("new").await);
    let blob = "x".repeat(2_000);
    let mut publisher = server.client().await;
    // "old" first, then "new": together well over the cap.
    for channel in ["old", "new"] {
        for _ in 0..30 {
            let data = json!({"channel": channel, "data": blob});
            publisher.send_event("publish", data).await;
        }
    }
    assert!(publisher.sync().await.is_empty());
    eventually("history is back within the cap", || async {
        server.metric("howl_history_bytes").await <= 100_000.0
    })
    .await;
    assert_eq!(server.metric("howl_history_evictions_total").await, 1.0);
    assert_ne!(epoch("old").await, old_epoch, "evicted: a new epoch");
    assert_eq!(
        epoch("new").await,
        new_epoch,
        "the recent channel kept its history"
    );
    let mut client = server.client().await;
    client
        .send_event(
            "subscribe",
            json!({"channel": "old", "since": {"epoch": old_epoch, "seq": 0}}),
        )
        .await;
    let confirmation = client.recv_type("subscribe_confirmation").await;
    assert_eq!(confirmation["payload"]["recovered"], false);
    assert_eq!(
        confirmation["payload"]["seq"], 30,
        "the numbering continues"
    );
}

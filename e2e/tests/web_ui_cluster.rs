//! The demo web UI against a two-node cluster (a real `redis-server`), with the demo's own
//! settings (`scripts/demo.toml`: presence and join/leave on its channels): a page whose node
//! restarts recovers every message published meanwhile on the other node and shows each once,
//! in order; and every page shows who is in each channel.

use howl_e2e::demo_page::*;
use howl_e2e::{RedisServer, ThreadedServer};
use serde_json::{json, Value};
use std::time::Duration;

/// A node of the cluster on `redis` serving the UI with the demo's settings.
fn node(redis: &RedisServer, id: &str) -> anyhow::Result<ThreadedServer> {
    let dist = ui_dist()?;
    let config = howl_e2e::workspace_root().join("scripts/demo.toml");
    let url = redis.url();
    Ok(ThreadedServer::start(&[
        "--redis-url",
        &url,
        "--node-id",
        id,
        "--redis-ttl",
        "1",
        "--quote-interval",
        "0",
        "--shutdown-timeout",
        "2",
        "--config",
        config.to_str().expect("a UTF-8 path"),
        "--ui-dir",
        dist.to_str().expect("a UTF-8 path"),
    ]))
}

/// Subscribes the page to `channel` through its form, and waits for the confirmation.
async fn subscribe(page: &howl_e2e::Browser, channel: &str) -> anyhow::Result<Value> {
    fill(page, "#subscribe-channel", channel).await?;
    click(page, "#subscribe").await?;
    wait_page(page, "the subscription", |p| subscribed(p, channel)).await
}

/// The feed's texts on `channel`, oldest first.
fn texts(page: &Value, channel: &str) -> Vec<String> {
    let mut texts: Vec<String> = feed(page)
        .iter()
        .filter(|m| m["channel"] == channel)
        .map(|m| m["text"].as_str().unwrap_or_default().to_owned())
        .collect();
    texts.reverse();
    texts
}

/// What the subscription list says about who is in `channel`.
fn here(page: &Value, channel: &str) -> String {
    let subs = page["subs"].as_array().into_iter().flatten();
    let mut found = subs.filter(|s| s["channel"] == channel);
    found.next().map_or(String::new(), |s| {
        s["here"].as_str().unwrap_or_default().to_owned()
    })
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_page_recovers_what_was_published_while_its_node_restarted() -> anyhow::Result<()> {
    let redis = RedisServer::start().await;
    let mut a = node(&redis, "a")?;
    let b = node(&redis, "b")?;
    let page = open_page(&a).await?;
    wait_page(&page, "open", |p| p["state"] == "open").await?;
    subscribe(&page, "news").await?;
    let publish = |text: String| {
        let b = &b;
        async move {
            let (status, body) = b
                .post_json("/api/channels/news/publish", &json!(text))
                .await;
            anyhow::ensure!(status == 200, "publish on b: {status} {body}");
            Ok(())
        }
    };
    publish("before".into()).await?;
    wait_page(&page, "the first message", |p| {
        texts(p, "news") == ["before"]
    })
    .await?;

    a.stop();
    wait_page(&page, "the reconnecting state", |p| {
        p["state"] == "reconnecting"
    })
    .await?;
    let missed: Vec<String> = (1..=5).map(|i| format!("missed {i}")).collect();
    for text in &missed {
        publish(text.clone()).await?;
    }
    a.restart();
    // The SDK's backoff waits up to 10 s between attempts.
    let expected: Vec<String> = std::iter::once("before".to_owned()).chain(missed).collect();
    let shown = wait_page_within(&page, Duration::from_secs(30), "the missed messages", |p| {
        p["state"] == "open" && texts(p, "news").len() >= expected.len()
    })
    .await?;
    assert_eq!(texts(&shown, "news"), expected, "each once, in order");
    assert!(
        shown["errors"].as_array().is_none_or(Vec::is_empty),
        "{shown:#}"
    );
    page.quit().await?;
    Ok(())
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn pages_on_both_nodes_show_who_is_in_a_channel() -> anyhow::Result<()> {
    let redis = RedisServer::start().await;
    let (a, b) = (node(&redis, "a")?, node(&redis, "b")?);
    let first = open_page(&a).await?;
    wait_page(&first, "open", |p| p["state"] == "open").await?;
    subscribe(&first, "lobby").await?;
    wait_page(&first, "alone", |p| here(p, "lobby") == "1 here: you").await?;

    let second = open_page(&b).await?;
    wait_page(&second, "open", |p| p["state"] == "open").await?;
    subscribe(&second, "lobby").await?;
    let shown = wait_page(&second, "both", |p| here(p, "lobby").starts_with("2 here:")).await?;
    assert!(here(&shown, "lobby").contains("you"), "{shown:#}");
    wait_page(&first, "the join", |p| {
        here(p, "lobby").starts_with("2 here:")
    })
    .await?;

    second.quit().await?;
    wait_page(&first, "the leave", |p| here(p, "lobby") == "1 here: you").await?;
    first.quit().await?;
    Ok(())
}

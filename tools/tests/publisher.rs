//! `howl-pub` against a real server: it publishes only while its channel has subscribers.

use howl_testkit::{Client, TestServer, Tool};
use std::time::{Duration, Instant};

const PUB: &str = env!("CARGO_BIN_EXE_howl-pub");

/// Subscribes a fresh client and returns it with how long its first message took.
async fn first_message_after_subscribing(server: &TestServer) -> (Client, Duration, u64) {
    let mut client = Client::connect(&server.ws_url()).await;
    client.subscribe("den").await;
    let subscribed = Instant::now();
    let message = client.recv_type("message").await;
    assert_eq!(message["payload"]["channel"], "den");
    assert!(message["payload"]["data"]["text"]
        .as_str()
        .unwrap()
        .starts_with("Howl #"));
    let n = message["payload"]["data"]["n"].as_u64().unwrap();
    (client, subscribed.elapsed(), n)
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn pauses_without_subscribers_and_resumes_within_a_second_of_the_first() {
    let server = TestServer::start(&["--quote-interval", "0"]).await;
    let url = server.ws_url();
    let mut publisher = Tool::spawn(
        PUB,
        &["--url", &url, "--channel", "den", "--interval", "0.2"],
    );
    let before = publisher
        .wait_log("paused: the channel has no subscribers")
        .await;
    assert!(
        before.iter().all(|l| !l.contains("published")),
        "published with nobody listening: {before:#?}"
    );

    let (first, waited, n) = first_message_after_subscribing(&server).await;
    assert!(
        waited < Duration::from_secs(1),
        "first message after {waited:?}"
    );
    assert_eq!(
        n, 1,
        "the first message published is the first one received"
    );
    publisher
        .wait_log("resumed: the channel has subscribers")
        .await;
    publisher.wait_log("published").await;

    // The only subscriber leaves: the publisher pauses and stays silent until the next one.
    first.close().await;
    publisher
        .wait_log("paused: the channel has no subscribers")
        .await;
    let (second, waited, _) = first_message_after_subscribing(&server).await;
    assert!(
        waited < Duration::from_secs(1),
        "first message after {waited:?}"
    );
    let while_paused = publisher
        .wait_log("resumed: the channel has subscribers")
        .await;
    assert!(
        while_paused.iter().all(|l| !l.contains("published")),
        "published while paused: {while_paused:#?}"
    );
    second.close().await;
    publisher.kill().await;
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn reconnects_after_a_server_restart_and_publishes_again() {
    let mut server = TestServer::start(&["--quote-interval", "0"]).await;
    let url = server.ws_url();
    let mut publisher = Tool::spawn(
        PUB,
        &["--url", &url, "--channel", "den", "--interval", "0.2"],
    );
    let (client, _, _) = first_message_after_subscribing(&server).await;
    client.close().await;
    publisher
        .wait_log("paused: the channel has no subscribers")
        .await;

    server.shutdown().await.unwrap();
    publisher.wait_log("connection lost").await;
    server.restart();
    // After reconnecting it watches the channel again, so a new subscriber resumes it.
    publisher.wait_log("connected").await;
    let (client, _, n) = first_message_after_subscribing(&server).await;
    assert!(n > 1, "the numbering continues across the restart, got {n}");
    publisher
        .wait_log("resumed: the channel has subscribers")
        .await;
    client.close().await;
    publisher.kill().await;
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn publishes_the_lines_of_a_file_in_order_then_exits() {
    let server = TestServer::start(&["--quote-interval", "0"]).await;
    let url = server.ws_url();
    let dir = tempfile::tempdir().unwrap();
    let lines = dir.path().join("lines.txt");
    std::fs::write(&lines, "first howl\n\nsecond howl\n").unwrap();
    let mut client = Client::connect(&url).await;
    client.subscribe("den").await;
    let publisher = Tool::spawn(
        PUB,
        &[
            "--url",
            &url,
            "--channel",
            "den",
            "--interval",
            "0.1",
            "--lines",
            lines.to_str().unwrap(),
        ],
    );
    for (n, text) in [(1, "first howl"), (2, "second howl")] {
        let message = client.recv_type("message").await;
        assert_eq!(message["payload"]["data"]["text"], text);
        assert_eq!(message["payload"]["data"]["n"], n);
    }
    assert!(publisher.wait().await.success());
    client.close().await;
}

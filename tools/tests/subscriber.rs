//! `howl-sub` against a real server: prints messages and survives a server restart.

use howl_testkit::{Client, TestServer, Tool};
use serde_json::json;

const SUB: &str = env!("CARGO_BIN_EXE_howl-sub");

/// Waits until `howl-sub` is subscribed to `channel`, then publishes `text` there.
async fn publish_when_subscribed(server: &TestServer, channel: &str, text: &str) {
    let mut client = Client::connect(&server.ws_url()).await;
    client.wait_occupied(channel, true).await;
    client
        .send_event(
            "publish",
            json!({"channel": channel, "data": {"text": text}}),
        )
        .await;
    // A ping answered proves the publish was processed before the client leaves.
    client.send_event("ping", json!({})).await;
    client.recv_type("pong").await;
    client.close().await;
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn prints_messages_and_resubscribes_after_a_server_restart() {
    let mut server = TestServer::start(&["--quote-interval", "0"]).await;
    let url = server.ws_url();
    let mut sub = Tool::spawn(
        SUB,
        &["--url", &url, "--channel", "howls", "--channel", "other"],
    );

    publish_when_subscribed(&server, "howls", "before").await;
    let line = sub.next_output().await;
    assert!(line.starts_with("howls #1 latency="), "{line}");
    assert!(line.ends_with(r#"{"text":"before"}"#), "{line}");

    // Restart: shut the server down and start a new one on the same address.
    server.shutdown().await.unwrap();
    sub.wait_log("connection lost").await;
    server.restart();
    publish_when_subscribed(&server, "howls", "after").await;
    let line = sub.next_output().await;
    assert!(line.starts_with("howls #1 latency="), "{line}");
    assert!(line.ends_with(r#"{"text":"after"}"#), "{line}");
    // Both channels came back.
    publish_when_subscribed(&server, "other", "too").await;
    let line = sub.next_output().await;
    assert!(line.starts_with("other #1 latency="), "{line}");
    sub.kill().await;
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_token_connects_to_a_secured_hub_and_a_refused_one_stops_the_tool() {
    const SECRET: &str = "tools-test-secret";
    let server = TestServer::start(&["--quote-interval", "0", "--token-secret", SECRET]).await;
    let url = server.ws_url();
    let claims = json!({"sub": "sub-tool", "exp": howl_testkit::token::now_secs() + 600});
    let token = howl_testkit::token::hs256(SECRET, &claims);
    let mut sub = Tool::spawn(
        SUB,
        &["--url", &url, "--channel", "news", "--token", &token],
    );
    // Clients may not publish in secured mode: the server API does.
    howl_testkit::eventually("howl-sub is subscribed", || async {
        server.subscribers("news").await == 1
    })
    .await;
    let (status, _) = server
        .post("/api/channels/news/publish", r#"{"text":"secured"}"#)
        .await;
    assert_eq!(status, 200);
    let line = sub.next_output().await;
    assert!(line.ends_with(r#"{"text":"secured"}"#), "{line}");
    sub.kill().await;

    let forged = howl_testkit::token::hs256("another-secret", &claims);
    let refused = Tool::spawn(
        SUB,
        &["--url", &url, "--channel", "news", "--token", &forged],
    );
    let status = refused.wait().await;
    assert!(
        !status.success(),
        "howl-sub kept going with a refused token"
    );
}

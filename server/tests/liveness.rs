//! Heartbeats, slow consumers and graceful shutdown.

use howl_testkit::{Client, TestServer, WAIT};
use serde_json::json;

#[tokio::test]
async fn a_client_that_stops_pinging_is_dropped_and_leaves_its_channels() {
    let server = TestServer::start(&["--quote-interval", "0", "--heartbeat-timeout", "1"]).await;
    let mut watcher = server.client().await;
    watcher
        .send_event("watch", json!({"channel": "room"}))
        .await;
    assert_eq!(watcher.recv_json().await["payload"]["occupied"], false);

    let mut silent = server.client().await;
    silent
        .send_event("subscribe", json!({"channel": "room"}))
        .await;
    silent.recv_type("subscribe_confirmation").await;
    assert_eq!(watcher.recv_json().await["payload"]["occupied"], true);

    // The watcher keeps pinging (each sync is a ping) while the silent client says nothing.
    let dropped = async {
        loop {
            watcher.send_event("ping", json!({})).await;
            let frame = watcher.recv_json().await;
            if frame["type"] == "channel_status" {
                return frame;
            }
        }
    };
    let frame = tokio::time::timeout(WAIT, dropped)
        .await
        .expect("silent client dropped in time");
    assert_eq!(
        frame["payload"],
        json!({"channel": "room", "occupied": false})
    );
    assert_eq!(silent.expect_close().await, 4000);
    let (_, channels) = server.get_json("/api/channels").await;
    assert_eq!(channels, json!({"channels": []}));
    assert_eq!(server.metric("howl_heartbeat_timeouts_total").await, 1.0);
}

#[tokio::test]
async fn pinging_keeps_a_connection_alive_past_the_timeout() {
    // The client pings in a tight loop, far above the default rate limit it is not about.
    let server = TestServer::start(&[
        "--quote-interval",
        "0",
        "--heartbeat-timeout",
        "1",
        "--client-rate",
        "1e6",
        "--client-burst",
        "1000000",
    ])
    .await;
    let mut client = server.client().await;
    let mut other = server.client().await;
    // Several heartbeat periods pass, measured by the other client being dropped for silence.
    let mut pongs = 0;
    let dropped = async {
        loop {
            client.send_event("ping", json!({})).await;
            client.recv_type("pong").await;
            pongs += 1;
            if server.metric("howl_heartbeat_timeouts_total").await >= 1.0 {
                return;
            }
        }
    };
    tokio::time::timeout(WAIT, dropped)
        .await
        .expect("the silent client is dropped");
    assert_eq!(other.expect_close().await, 4000);
    assert!(pongs > 0);
    assert_eq!(client.sync().await, Vec::<serde_json::Value>::new());
}

#[tokio::test]
async fn a_stalled_subscriber_is_dropped_while_a_fast_one_gets_everything_in_order() {
    let server = TestServer::start(&[
        "--quote-interval",
        "0",
        "--outbox-capacity",
        "64",
        "--write-timeout",
        "2",
        // The publisher sends thousands of messages as fast as it can.
        "--publish-rate",
        "1e6",
        "--publish-burst",
        "1000000",
    ])
    .await;
    let subscribe = |mut client: Client| async move {
        client
            .send_event("subscribe", json!({"channel": "firehose"}))
            .await;
        client.recv_type("subscribe_confirmation").await;
        client
    };
    let _stalled = subscribe(server.client().await).await; // never reads again
    let mut fast = subscribe(server.client().await).await;
    let mut publisher = server.client().await;

    let payload = "z".repeat(32 * 1024);
    let mut sent = 0u64;
    // Bounded: the stalled client's socket buffers and queue fill long before this.
    while server.metric("howl_slow_consumers_dropped_total").await < 1.0 {
        assert!(sent < 4000, "the stalled subscriber was never dropped");
        for _ in 0..32 {
            publisher
                .send_event(
                    "publish",
                    json!({"channel": "firehose", "data": {"n": sent, "pad": payload}}),
                )
                .await;
            sent += 1;
        }
        // Keep the fast subscriber within its queue: read this batch before the next.
        for expected in sent - 32..sent {
            let frame = fast.recv_json().await;
            assert_eq!(
                frame["payload"]["data"]["n"], expected,
                "out of order or lost"
            );
        }
    }
    let (_, channels) = server.get_json("/api/channels").await;
    assert_eq!(
        channels,
        json!({"channels": [{"name": "firehose", "subscribers": 1}]})
    );
    assert!(server.metric("howl_frames_dropped_total").await >= 1.0);
}

#[tokio::test]
async fn shutdown_flushes_queued_frames_then_sends_going_away() {
    let mut server = TestServer::start(&["--quote-interval", "0"]).await;
    let mut clients = Vec::new();
    for _ in 0..3 {
        let mut client = server.client().await;
        client
            .send_event("subscribe", json!({"channel": "last-words"}))
            .await;
        client.recv_type("subscribe_confirmation").await;
        clients.push(client);
    }
    let (status, _) = server
        .post("/api/channels/last-words/publish", r#""goodbye""#)
        .await;
    assert_eq!(status, 200);
    server.shutdown().await.expect("run returns Ok");
    for client in &mut clients {
        assert_eq!(client.recv_json().await["payload"]["data"], "goodbye");
        assert_eq!(client.expect_close().await, 1001);
    }
    assert!(
        Client::try_open(&server.ws_url()).await.is_err(),
        "still accepting after shutdown"
    );
}

#[tokio::test]
async fn websocket_pings_keep_a_client_that_only_reads_alive() {
    let server = TestServer::start(&[
        "--quote-interval",
        "0",
        "--heartbeat-timeout",
        "1",
        "--ws-ping-interval",
        "0.2",
    ])
    .await;
    // Like a browser tab whose timers are throttled: it sends nothing, but its WebSocket
    // answers Pings (tungstenite does as it reads, as browsers do without running scripts).
    let mut reader = server.client().await;
    // A client that reads nothing answers no Ping. (Its close frame is not read: behind the
    // unanswered Pings, whose Pongs would go to a closed socket.)
    let _deaf = server.client().await;
    let pings_after_drop = async {
        howl_testkit::eventually("the deaf client is dropped", || async {
            server.metric("howl_heartbeat_timeouts_total").await >= 1.0
        })
        .await;
        let pings = server.metric("howl_ws_pings_total").await;
        // Six more Pings to the reader alone: 1.2 s, past its heartbeat timeout.
        howl_testkit::eventually("the reader gets six more Pings", || async {
            server.metric("howl_ws_pings_total").await >= pings + 6.0
        })
        .await;
    };
    tokio::select! {
        frame = reader.recv_text() => panic!("unexpected frame {frame}"),
        () = pings_after_drop => {}
    }
    assert_eq!(reader.sync().await, Vec::<serde_json::Value>::new());
    assert_eq!(server.metric("howl_heartbeat_timeouts_total").await, 1.0);

    // With server pings off, reading is not enough: the client must ping.
    let quiet = TestServer::start(&[
        "--quote-interval",
        "0",
        "--heartbeat-timeout",
        "1",
        "--ws-ping-interval",
        "0",
    ])
    .await;
    let mut reader = quiet.client().await;
    assert_eq!(reader.expect_close().await, 4000);
    assert_eq!(quiet.metric("howl_ws_pings_total").await, 0.0);
}

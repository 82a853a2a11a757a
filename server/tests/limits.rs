//! Abuse limits against a real server: a connection that never sends `connect`, too many
//! connections, floods of publishes and of bad frames, and protocol violations. Each offender
//! gets its documented error or close code; the server and every other client carry on with
//! nothing lost. Every loop is bounded in count and time.

use futures_util::{SinkExt, StreamExt};
use howl_testkit::tungstenite::protocol::frame::coding::{Data, OpCode};
use howl_testkit::tungstenite::protocol::frame::Frame;
use howl_testkit::tungstenite::Message;
use howl_testkit::{eventually, Client, Endpoint, TestServer};
use serde_json::{json, Value};
use std::time::{Duration, Instant};

/// Publishes `count` numbered messages over HTTP and checks `subscriber` receives exactly
/// those, in order, with consecutive seqs from `first_seq`.
async fn publish_and_receive_all(server: &Endpoint, subscriber: &mut Client, count: u64) {
    let mut first_seq = None;
    for n in 0..count {
        let (status, body) = server
            .post_json("/api/channels/calm/publish", &json!({ "n": n }))
            .await;
        assert_eq!(status, 200, "{body}");
        first_seq.get_or_insert(body["seq"].as_u64().unwrap());
    }
    let first_seq = first_seq.unwrap_or(1);
    for n in 0..count {
        let frame = subscriber.recv_type("message").await;
        assert_eq!(frame["payload"]["data"]["n"], n, "{frame}");
        assert_eq!(frame["payload"]["seq"], first_seq + n, "{frame}");
    }
}

#[tokio::test]
async fn a_client_that_never_connects_is_closed_even_while_pinging() {
    let server = TestServer::start(&["--quote-interval", "0", "--connect-timeout", "0.5"]).await;
    let mut connected = server.client().await;
    let mut silent = Client::open(&server.ws_url()).await;
    let initial = silent.recv_json().await;
    silent.id = initial["payload"]["id"].as_str().unwrap().to_owned();
    // Pings are answered before `connect`, but do not extend the deadline.
    for _ in 0..3 {
        silent.send_event("ping", json!({})).await;
        assert_eq!(silent.recv_json().await["type"], "pong");
    }
    let started = Instant::now();
    assert_eq!(silent.expect_close().await, 4002);
    assert!(started.elapsed() < Duration::from_secs(5));
    // The connected client, opened at the same moment, is still served.
    assert!(connected.sync().await.is_empty());
    assert_eq!(server.metric("howl_connect_timeouts_total").await, 1.0);
}

#[tokio::test]
async fn five_thousand_silent_connections_are_closed_while_others_lose_nothing() {
    let server = TestServer::start(&[
        "--quote-interval",
        "0",
        "--connect-timeout",
        "2",
        "--max-connections-per-ip",
        "10000",
        // Opening 5,000 sockets in a debug build can take longer than the subscriber's
        // default heartbeat timeout; the subscriber does not ping.
        "--heartbeat-timeout",
        "300",
    ])
    .await;
    let mut subscriber = server.client().await;
    subscriber.subscribe("calm").await;
    let url = server.ws_url();
    let mut silent = Vec::new();
    for chunk in 0..20 {
        let opened = futures_util::future::join_all((0..250).map(|_| Client::open(&url))).await;
        silent.extend(opened);
        assert!(chunk < 20);
    }
    publish_and_receive_all(&server, &mut subscriber, 100).await;
    let closes = silent
        .into_iter()
        .map(|mut client| tokio::spawn(async move { client.expect_close().await }));
    for close in futures_util::future::join_all(closes).await {
        assert_eq!(close.unwrap(), 4002);
    }
    assert_eq!(server.metric("howl_connect_timeouts_total").await, 5000.0);
    publish_and_receive_all(&server, &mut subscriber, 10).await;
}

/// The HTTP status and JSON body an upgrade was refused with.
async fn refused(url: &str) -> (u16, Value) {
    match Client::try_open(url).await {
        Err(howl_testkit::tungstenite::Error::Http(response)) => (
            response.status().as_u16(),
            serde_json::from_slice(response.body().as_deref().unwrap()).unwrap(),
        ),
        other => panic!("expected an HTTP refusal, got {other:?}"),
    }
}

#[tokio::test]
async fn connections_over_the_limits_are_refused_with_a_json_error() {
    let server =
        TestServer::start(&["--quote-interval", "0", "--max-connections-per-ip", "2"]).await;
    let first = server.client().await;
    let mut second = server.client().await;
    let (status, body) = refused(&server.ws_url()).await;
    assert_eq!(status, 429);
    assert_eq!(body["error"]["code"], "too_many_connections", "{body}");
    assert!(second.sync().await.is_empty(), "admitted clients carry on");
    // A place freed is a place taken again.
    first.close().await;
    eventually("the closed connection's place is free", || async {
        server.metric("howl_connections_open").await == 1.0
    })
    .await;
    server.client().await;
    assert_eq!(
        server.metric("howl_connections_refused_per_ip_total").await,
        1.0
    );

    let full = TestServer::start(&["--quote-interval", "0", "--max-connections", "1"]).await;
    let _only = full.client().await;
    let (status, body) = refused(&full.ws_url()).await;
    assert_eq!(status, 503);
    assert_eq!(body["error"]["code"], "too_many_connections", "{body}");
    assert_eq!(full.metric("howl_connections_refused_max_total").await, 1.0);
}

#[tokio::test]
async fn a_publish_flood_is_refused_then_closed_and_subscribers_lose_nothing() {
    let server = TestServer::start(&[
        "--quote-interval",
        "0",
        "--publish-rate",
        "20",
        "--publish-burst",
        "10",
        "--client-rate-grace",
        "1",
    ])
    .await;
    let mut subscriber = server.client().await;
    subscriber.subscribe("flood").await;
    let flooder = server.client().await;
    let id = flooder.id.clone();
    let (mut sink, mut stream) = flooder.ws.split();
    // Writes until the server closes the connection, at most 200,000 frames or 20 s.
    let writer = tokio::spawn(async move {
        let deadline = Instant::now() + Duration::from_secs(20);
        let mut sent = 0u64;
        while sent < 200_000 && Instant::now() < deadline {
            let frame = json!({"type": "publish", "payload": {"id": id, "channel": "flood", "data": sent, "ref": sent}});
            if sink.send(Message::text(frame.to_string())).await.is_err() {
                break;
            }
            sent += 1;
        }
        sent
    });
    let (mut confirmed, mut refused, mut close) = (Vec::new(), 0u64, None);
    while let Some(frame) = tokio::time::timeout(howl_testkit::WAIT, stream.next())
        .await
        .expect("the flooder hears from the server")
    {
        match frame.expect("frame reads") {
            Message::Text(text) => {
                let frame: Value = serde_json::from_str(&text).unwrap();
                match frame["type"].as_str().unwrap() {
                    "publish_confirmation" => {
                        confirmed.push(frame["payload"]["ref"].as_u64().unwrap())
                    }
                    "error" => {
                        assert_eq!(frame["payload"]["code"], "rate_limited", "{frame}");
                        assert!(frame["payload"]["ref"].is_u64(), "{frame}");
                        refused += 1;
                    }
                    _ => {}
                }
            }
            Message::Close(frame) => {
                close = frame.map(|f| u16::from(f.code));
                break;
            }
            _ => {}
        }
    }
    let sent = writer.await.unwrap();
    assert_eq!(close, Some(4005), "after {sent} frames");
    assert!(refused > 0 && !confirmed.is_empty());
    assert!(
        confirmed.len() < 200,
        "{} publishes got through",
        confirmed.len()
    );
    // The subscriber got exactly the accepted publishes, in order, and is still served.
    for (n, data) in confirmed.iter().enumerate() {
        let frame = subscriber.recv_type("message").await;
        assert_eq!(frame["payload"]["data"], *data, "{frame}");
        assert_eq!(frame["payload"]["seq"], n as u64 + 1, "{frame}");
    }
    assert!(subscriber.sync().await.is_empty());
    assert_eq!(server.metric("howl_rate_limit_closes_total").await, 1.0);
    assert_eq!(
        server.metric("howl_slow_consumers_dropped_total").await,
        0.0
    );
}

#[tokio::test]
async fn ten_thousand_bad_frames_get_their_errors_and_nobody_else_notices() {
    let server = TestServer::start(&[
        "--quote-interval",
        "0",
        "--client-rate",
        "1000000",
        "--client-burst",
        "1000000",
        "--publish-rate",
        "1000000",
        "--publish-burst",
        "1000000",
    ])
    .await;
    let mut subscriber = server.client().await;
    subscriber.subscribe("calm").await;
    let flooder = server.client().await;
    let (mut sink, mut stream) = flooder.ws.split();
    const FRAMES: usize = 10_000;
    let nested = "[".repeat(60_000);
    let writer = tokio::spawn(async move {
        for n in 0..FRAMES {
            let message = match n % 4 {
                _ if n % 500 == 0 => Message::text(nested.clone()),
                0 => Message::text("{oops"),
                1 => Message::binary(vec![0u8, 159, 146, 150]),
                2 => Message::text(r#"{"type":"shout","payload":{}}"#),
                _ => Message::text(
                    r#"{"type":"publish","payload":{"id":"not-me","channel":"calm","data":1}}"#,
                ),
            };
            sink.send(message).await.unwrap();
        }
        sink
    });
    publish_and_receive_all(&server, &mut subscriber, 50).await;
    let mut codes = std::collections::BTreeMap::<String, usize>::new();
    for _ in 0..FRAMES {
        let frame = tokio::time::timeout(howl_testkit::WAIT, stream.next())
            .await
            .expect("an error per frame")
            .unwrap()
            .unwrap();
        let frame: Value = serde_json::from_str(frame.to_text().unwrap()).unwrap();
        assert_eq!(frame["type"], "error", "{frame}");
        *codes
            .entry(frame["payload"]["code"].as_str().unwrap().to_owned())
            .or_default() += 1;
    }
    let _sink = writer.await.unwrap();
    assert_eq!(codes.values().sum::<usize>(), FRAMES, "{codes:?}");
    for code in ["malformed_json", "binary_frame", "unknown_type", "wrong_id"] {
        assert!(codes[code] > 2000, "{codes:?}");
    }
    publish_and_receive_all(&server, &mut subscriber, 50).await;
    assert_eq!(
        server.metric("howl_slow_consumers_dropped_total").await,
        0.0
    );
}

#[tokio::test]
async fn protocol_violations_close_with_their_codes() {
    let server = TestServer::start(&["--quote-interval", "0"]).await;
    let mut subscriber = server.client().await;
    subscriber.subscribe("calm").await;

    let mut oversized = server.client().await;
    let _ = oversized.ws.send(Message::text("x".repeat(70_000))).await;
    assert_eq!(oversized.expect_close().await, 1009);

    let mut invalid_utf8 = server.client().await;
    let frame = Frame::message(vec![b'{', 0xff, 0xfe, b'}'], OpCode::Data(Data::Text), true);
    invalid_utf8.ws.send(Message::Frame(frame)).await.unwrap();
    assert_eq!(invalid_utf8.expect_close().await, 1007);

    publish_and_receive_all(&server, &mut subscriber, 10).await;
    assert_eq!(server.metric("howl_protocol_errors_total").await, 1.0);
}

#[tokio::test]
async fn a_few_large_messages_overflow_a_stalled_subscribers_byte_limit() {
    let server = TestServer::start(&[
        "--quote-interval",
        "0",
        "--outbox-capacity",
        "100000",
        "--outbox-max-bytes",
        "262144",
        "--write-timeout",
        "60",
        // Filling the stalled client's socket buffers can outlast the default heartbeat
        // timeout on a loaded machine; the fast subscriber does not ping.
        "--heartbeat-timeout",
        "300",
    ])
    .await;
    let mut stalled = server.client().await;
    stalled.subscribe("big").await; // reads nothing more until it is dropped
    let mut fast = server.client().await;
    fast.subscribe("big").await;
    let pad = "z".repeat(60 * 1024);
    let mut sent = 0u64;
    // Bounded: the stalled client's socket buffers and its 256 KiB fill long before this.
    while server.metric("howl_outbox_bytes_overflows_total").await < 1.0 {
        assert!(sent < 2_000, "the stalled subscriber was never dropped");
        for n in sent..sent + 8 {
            let (status, body) = server
                .post_json("/api/channels/big/publish", &json!({"n": n, "pad": pad}))
                .await;
            assert_eq!(status, 200, "{body}");
        }
        for n in sent..sent + 8 {
            let frame = fast.recv_type("message").await;
            assert_eq!(frame["payload"]["data"]["n"], n, "lost or out of order");
        }
        sent += 8;
    }
    assert_eq!(stalled.expect_close().await, 4001);
    assert_eq!(
        server.metric("howl_slow_consumers_dropped_total").await,
        1.0
    );
    assert!(
        fast.sync().await.is_empty(),
        "the fast subscriber is still served"
    );
}

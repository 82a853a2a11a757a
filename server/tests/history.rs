//! Channel history and recovery on one node (the embedded broker): positions in
//! confirmations, gapless recovery with `since`, the `history` request and its HTTP twin.
//! Every delivery scenario checks 0 lost, 0 duplicated, 0 out of order.

use howl_testkit::{epoch_of, Client, TestServer};
use serde_json::{json, Value};
use std::io::Write;

/// A server whose config file holds `namespaces` (TOML `[[namespaces]]` tables).
async fn server_with(namespaces: &str) -> (TestServer, tempfile::NamedTempFile) {
    let mut file = tempfile::NamedTempFile::new().unwrap();
    write!(file, "quote-interval = 0\n{namespaces}").unwrap();
    let server = TestServer::start(&["--config", file.path().to_str().unwrap()]).await;
    (server, file)
}

/// Publishes `n` messages `{"n": i}` over HTTP; returns the last seq.
async fn publish_http(server: &TestServer, channel: &str, n: u64) -> u64 {
    let mut last = 0;
    for i in 0..n {
        let path = format!("/api/channels/{channel}/publish");
        let (status, body) = server.post_json(&path, &json!({"n": i})).await;
        assert_eq!(status, 200, "{body}");
        last = body["seq"].as_u64().unwrap();
    }
    last
}

/// Subscribes with `fields` added to the payload; returns the confirmation's payload.
async fn subscribe_with(client: &mut Client, channel: &str, fields: Value) -> Value {
    let mut payload = json!({"channel": channel});
    payload
        .as_object_mut()
        .unwrap()
        .extend(fields.as_object().unwrap().clone());
    client.send_event("subscribe", payload).await;
    let confirmation = client.recv_json().await;
    assert_eq!(
        confirmation["type"], "subscribe_confirmation",
        "{confirmation}"
    );
    confirmation["payload"].clone()
}

/// The next `count` messages' seqs, checking each is a `message` on `channel`.
async fn next_seqs(client: &mut Client, channel: &str, count: usize) -> Vec<u64> {
    let mut seqs = Vec::with_capacity(count);
    while seqs.len() < count {
        let frame = client.recv_json().await;
        assert_eq!(frame["type"], "message", "{frame}");
        assert_eq!(frame["payload"]["channel"], channel);
        seqs.push(frame["payload"]["seq"].as_u64().unwrap());
    }
    seqs
}

#[tokio::test]
async fn a_client_back_with_since_gets_exactly_what_it_missed_then_live_messages() {
    let server = TestServer::start(&["--quote-interval", "0"]).await;
    let mut client = server.client().await;
    let first = subscribe_with(&mut client, "news", json!({})).await;
    assert_eq!(first["seq"], 0, "a fresh channel starts at 0: {first}");
    let epoch = first["epoch"].as_str().unwrap().to_owned();
    client.close().await;

    assert_eq!(publish_http(&server, "news", 50).await, 50);

    let mut back = server.client().await;
    let since = json!({"since": {"epoch": epoch, "seq": 0}, "ref": "r"});
    let confirmation = subscribe_with(&mut back, "news", since).await;
    assert_eq!(
        confirmation,
        json!({"status": "ok", "channel": "news", "epoch": epoch, "seq": 50,
               "recovered": true, "ref": "r"})
    );
    let recovered = next_seqs(&mut back, "news", 50).await;
    assert_eq!(recovered, (1..=50).collect::<Vec<_>>());
    // The data is the publisher's, in order.
    publish_http(&server, "news", 1).await;
    assert_eq!(next_seqs(&mut back, "news", 1).await, [51]);
    assert!(back.sync().await.is_empty(), "nothing more");
    assert_eq!(server.metric("howl_recoveries_total").await, 1.0);
    assert_eq!(server.metric("howl_recovered_messages_total").await, 50.0);
}

/// Reads `channel`'s messages on `client` in a task until `last` arrives (none when the
/// client starts after `from == last`); returns their seqs.
fn collect_until(
    mut client: Client,
    channel: &'static str,
    from: u64,
    last: u64,
) -> tokio::task::JoinHandle<Vec<u64>> {
    tokio::spawn(async move {
        let mut seqs = Vec::new();
        while from < last && seqs.last() != Some(&last) {
            seqs.extend(next_seqs(&mut client, channel, 1).await);
        }
        seqs
    })
}

#[tokio::test]
async fn subscribing_while_a_publisher_runs_at_full_speed_misses_nothing() {
    const TOTAL: u64 = 3_000;
    // No rate limit in the way, room for every frame in each queue, and history enough to
    // recover from the start.
    let (server, _file) = server_with(
        "publish-rate = 1000000\npublish-burst = 1000000\nclient-rate = 1000000\n\
         client-burst = 1000000\noutbox-capacity = 10000\noutbox-max-bytes = 67108864\n[[namespaces]]\nname = \"\"\nhistory-size = 10000\n",
    )
    .await;
    let mut publisher = server.client().await;
    // Publishing over one socket at full speed; the subscribers join along the way.
    let publishing = tokio::spawn(async move {
        for n in 0..TOTAL {
            publisher
                .send_event("publish", json!({"channel": "race", "data": n}))
                .await;
        }
        assert!(publisher.sync().await.is_empty(), "every publish accepted");
    });
    let mut early = server.client().await;
    let start = subscribe_with(&mut early, "race", json!({})).await;
    let (epoch, from) = (start["epoch"].clone(), start["seq"].as_u64().unwrap());
    let early = collect_until(early, "race", from, TOTAL);
    // A second subscriber recovers from the first one's starting point, mid-stream.
    let mut recovering = server.client().await;
    let since = json!({"since": {"epoch": epoch, "seq": from}});
    let confirmation = subscribe_with(&mut recovering, "race", since).await;
    assert_eq!(confirmation["recovered"], true, "{confirmation}");
    let recovering = collect_until(recovering, "race", from, TOTAL);
    let mut late = server.client().await;
    let late_from = subscribe_with(&mut late, "race", json!({})).await["seq"]
        .as_u64()
        .unwrap();
    let late = collect_until(late, "race", late_from, TOTAL);
    publishing.await.unwrap();
    for (reader, from) in [(early, from), (recovering, from), (late, late_from)] {
        let expected: Vec<u64> = (from + 1..=TOTAL).collect();
        assert_eq!(
            reader.await.unwrap(),
            expected,
            "0 lost, 0 duplicated, 0 out of order"
        );
    }
}

#[tokio::test]
async fn recovery_past_the_history_size_is_refused_with_the_current_position() {
    let (server, _file) =
        server_with("[[namespaces]]\nname = \"short\"\nhistory-size = 10\n").await;
    let mut client = server.client().await;
    let epoch = subscribe_with(&mut client, "short:a", json!({})).await["epoch"].clone();
    client.close().await;
    publish_http(&server, "short:a", 11).await;

    let mut back = server.client().await;
    let since = json!({"since": {"epoch": epoch, "seq": 0}});
    let confirmation = subscribe_with(&mut back, "short:a", since.clone()).await;
    assert_eq!(confirmation["recovered"], false, "{confirmation}");
    assert_eq!(
        (confirmation["epoch"].clone(), confirmation["seq"].clone()),
        (epoch.clone(), json!(11))
    );
    publish_http(&server, "short:a", 1).await;
    assert_eq!(
        next_seqs(&mut back, "short:a", 1).await,
        [12],
        "no replay, then live"
    );
    // One message fewer missed fits.
    let mut other = server.client().await;
    let since = json!({"since": {"epoch": epoch, "seq": 2}});
    assert_eq!(
        subscribe_with(&mut other, "short:a", since).await["recovered"],
        true
    );
    assert_eq!(
        next_seqs(&mut other, "short:a", 10).await,
        (3..=12).collect::<Vec<_>>()
    );
    assert_eq!(server.metric("howl_recoveries_failed_total").await, 1.0);
}

#[tokio::test]
async fn a_restarted_node_has_a_new_epoch_and_says_recovery_failed() {
    let mut server = TestServer::start(&["--quote-interval", "0"]).await;
    publish_http(&server, "news", 3).await;
    let mut client = server.client().await;
    let before = subscribe_with(&mut client, "news", json!({})).await;
    assert_eq!(before["seq"], 3);
    drop(client);
    server.shutdown().await.unwrap();
    server.restart();
    publish_http(&server, "news", 1).await;

    let mut back = server.client().await;
    let since = json!({"since": {"epoch": before["epoch"], "seq": 3}});
    let after = subscribe_with(&mut back, "news", since).await;
    assert_eq!(after["recovered"], false, "{after}");
    assert_ne!(after["epoch"], before["epoch"]);
    assert_eq!(after["seq"], 1, "numbering restarts with the new epoch");
}

#[tokio::test]
async fn the_original_channel_less_subscribe_is_unchanged() {
    let server = TestServer::start(&["--quote-interval", "0"]).await;
    let mut client = server.client().await;
    client.send_event("subscribe", json!({})).await;
    assert_eq!(
        client.recv_text().await,
        r#"{"type":"subscribe_confirmation","payload":{"status":"ok"}}"#
    );
}

#[tokio::test]
async fn history_requests_read_the_latest_or_after_a_position() {
    let server = TestServer::start(&["--quote-interval", "0"]).await;
    publish_http(&server, "news", 5).await;
    let mut client = server.client().await;
    client
        .send_event("history", json!({"channel": "news", "limit": 2, "ref": 1}))
        .await;
    let text = client.recv_text().await;
    let epoch = epoch_of(&text);
    let (t1, t2) = times(&text);
    assert_eq!(
        text,
        format!(
            r#"{{"type":"history_result","payload":{{"channel":"news","epoch":"{epoch}","seq":5,"messages":[{{"seq":4,"time":{t1},"data":{{"n":3}}}},{{"seq":5,"time":{t2},"data":{{"n":4}}}}],"ref":1}}}}"#
        )
    );
    client
        .send_event(
            "history",
            json!({"channel": "news", "since": {"epoch": epoch, "seq": 2}}),
        )
        .await;
    let result = client.recv_json().await;
    let seqs: Vec<_> = result["payload"]["messages"]
        .as_array()
        .unwrap()
        .iter()
        .map(|m| m["seq"].clone())
        .collect();
    assert_eq!(seqs, [3, 4, 5]);
    // A channel never published to has a stream too: an epoch and seq 0.
    client
        .send_event("history", json!({"channel": "quiet"}))
        .await;
    let quiet = client.recv_json().await;
    assert_eq!(quiet["payload"]["seq"], 0);
    assert_eq!(quiet["payload"]["messages"], json!([]));
    // Over HTTP: the same payload.
    let (status, body) = server
        .get_json(&format!("/api/channels/news/history?since={epoch}:3"))
        .await;
    assert_eq!(status, 200, "{body}");
    assert_eq!(body["epoch"], epoch);
    assert_eq!(body["messages"].as_array().unwrap().len(), 2);
    let (status, body) = server.get_json("/api/channels/news/history?limit=1").await;
    assert_eq!(
        (status, body["messages"][0]["seq"].clone()),
        (200, json!(5))
    );
}

fn times(frame: &str) -> (u64, u64) {
    let value: Value = serde_json::from_str(frame).unwrap();
    let messages = &value["payload"]["messages"];
    (
        messages[0]["time"].as_u64().unwrap(),
        messages[1]["time"].as_u64().unwrap(),
    )
}

#[tokio::test]
async fn bad_history_requests_get_clear_errors_and_change_nothing() {
    let (server, _file) = server_with("[[namespaces]]\nname = \"live\"\nhistory-size = 0\n").await;
    publish_http(&server, "news", 1).await;
    let mut client = server.client().await;
    let cases = [
        (json!({"channel": "live:x", "ref": 1}), "not_available"),
        (json!({"channel": "bad name", "ref": 2}), "invalid_channel"),
        (json!({"channel": "#bob", "ref": 3}), "permission_denied"),
        (
            json!({"channel": "news", "limit": -1, "ref": 4}),
            "invalid_payload",
        ),
        (
            json!({"channel": "news", "since": {"seq": 1}, "ref": 5}),
            "invalid_payload",
        ),
    ];
    for (payload, code) in cases {
        let reference = payload["ref"].clone();
        client.send_event("history", payload).await;
        let error = client.recv_json().await;
        assert_eq!(error["type"], "error", "{error}");
        assert_eq!(error["payload"]["code"], code, "{error}");
        assert_eq!(error["payload"]["ref"], reference, "{error}");
    }
    for (path, status, code) in [
        ("/api/channels/live:x/history", 404, "not_available"),
        (
            "/api/channels/news/history?since=17",
            400,
            "invalid_payload",
        ),
        ("/api/channels/news/history?limit=x", 400, "invalid_payload"),
        ("/api/channels/news/history?other=1", 400, "invalid_payload"),
        ("/api/channels/bad%20name/history", 400, "invalid_channel"),
    ] {
        let (got, body) = server.get_json(path).await;
        assert_eq!(
            (got, body["error"]["code"].as_str()),
            (status, Some(code)),
            "{path}: {body}"
        );
    }
    // The channel and the connection are unaffected.
    client
        .send_event("history", json!({"channel": "news"}))
        .await;
    let result = client.recv_json().await;
    assert_eq!(result["payload"]["seq"], 1, "{result}");
}

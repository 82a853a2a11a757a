//! The original protocol, byte for byte, against a real server.

use howl_testkit::{Client, TestServer};

#[tokio::test]
async fn original_handshake_quotes_and_unsubscribe() {
    let server = TestServer::start(&["--quote-interval", "0.1"]).await;
    let mut client = Client::open(&server.ws_url()).await;

    let initial = client.recv_text().await;
    let id = initial
        .strip_prefix(r#"{"type":"initial","payload":{"id":""#)
        .and_then(|rest| rest.strip_suffix(r#""}}"#))
        .unwrap_or_else(|| panic!("unexpected initial frame {initial}"))
        .to_owned();
    assert!(uuid_v4(&id), "{id} is not a UUID v4");

    client
        .send_text(format!(r#"{{"type":"connect","payload":{{"id":"{id}"}}}}"#))
        .await;
    client
        .send_text(format!(
            r#"{{"type":"subscribe","payload":{{"id":"{id}"}}}}"#
        ))
        .await;
    assert_eq!(
        client.recv_text().await,
        r#"{"type":"subscribe_confirmation","payload":{"status":"ok"}}"#
    );

    for _ in 0..2 {
        let quote: serde_json::Value = serde_json::from_str(&client.recv_text().await).unwrap();
        assert_eq!(quote["type"], "wisdom_distribution");
        let message = quote["payload"]["message"].as_str().expect("a text quote");
        assert!(howl::quotes::QUOTES.contains(&message));
        assert_eq!(
            quote["payload"].as_object().unwrap().len(),
            1,
            "original shape only: {quote}"
        );
    }

    client
        .send_text(format!(
            r#"{{"type":"unsubscribe","payload":{{"id":"{id}"}}}}"#
        ))
        .await;
    // Frames that were already queued may still arrive before the server reads the unsubscribe.
    client.id = id.clone();
    client.sync().await;

    // A second listener sees two more quotes go out; the unsubscribed client gets none.
    let mut listener = server.client().await;
    listener
        .send_event("subscribe", serde_json::json!({}))
        .await;
    listener.recv_type("subscribe_confirmation").await;
    listener.recv_type("wisdom_distribution").await;
    listener.recv_type("wisdom_distribution").await;
    let after = client.sync().await;
    assert!(after.is_empty(), "frames after unsubscribe: {after:?}");

    client
        .send_text(format!(
            r#"{{"type":"disconnect","payload":{{"id":"{id}"}}}}"#
        ))
        .await;
    assert_eq!(client.expect_close().await, 1000);
}

fn uuid_v4(text: &str) -> bool {
    uuid::Uuid::parse_str(text).is_ok_and(|u| u.get_version_num() == 4)
}

/// Sends `request` as is on a new connection: the status and the JSON body of the answer.
async fn raw_http(server: &TestServer, request: &str) -> (u16, serde_json::Value) {
    use tokio::io::{AsyncReadExt, AsyncWriteExt};
    let url = server.ws_url();
    let host = url.trim_start_matches("ws://").split('/').next().unwrap();
    let mut stream = tokio::net::TcpStream::connect(host).await.unwrap();
    stream.write_all(request.as_bytes()).await.unwrap();
    let mut answer = Vec::new();
    let read = tokio::time::timeout(std::time::Duration::from_secs(10), async {
        let mut buf = [0; 4096];
        loop {
            let n = stream.read(&mut buf).await.unwrap();
            answer.extend_from_slice(&buf[..n]);
            let text = String::from_utf8_lossy(&answer);
            if let Some((head, body)) = text.split_once("\r\n\r\n") {
                let length = head
                    .lines()
                    .find_map(|l| {
                        l.to_ascii_lowercase()
                            .strip_prefix("content-length:")
                            .map(|v| v.trim().parse::<usize>().unwrap())
                    })
                    .expect("a content-length");
                if body.len() >= length || n == 0 {
                    let status = head[9..12].parse().unwrap();
                    return (status, serde_json::from_str(&body[..length]).unwrap());
                }
            }
            assert!(n > 0, "the server closed before answering");
        }
    });
    read.await.expect("an answer in time")
}

#[tokio::test]
async fn bad_upgrade_requests_get_a_status_and_a_json_error_and_the_server_goes_on() {
    let server = TestServer::start(&["--quote-interval", "0"]).await;
    let (status, body) = raw_http(&server, "GET /ws HTTP/1.1\r\nHost: x\r\n\r\n").await;
    assert_eq!(status, 400);
    assert_eq!(
        body,
        serde_json::json!({"error": {"code": "invalid_payload", "message": "not a WebSocket upgrade request"}})
    );
    let (status, body) = raw_http(
        &server,
        "GET /ws HTTP/1.1\r\nHost: x\r\nConnection: Upgrade\r\nUpgrade: websocket\r\n\
         Sec-WebSocket-Key: dGhlIHNhbXBsZSBub25jZQ==\r\nSec-WebSocket-Version: 8\r\n\r\n",
    )
    .await;
    assert_eq!(status, 400);
    assert_eq!(
        body,
        serde_json::json!({"error": {"code": "invalid_payload", "message": "Sec-WebSocket-Version must be 13"}})
    );
    // A real client is still served.
    let mut client = Client::open(&server.ws_url()).await;
    assert!(client.recv_text().await.starts_with(r#"{"type":"initial""#));
}

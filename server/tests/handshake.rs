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

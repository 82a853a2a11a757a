//! How the hub ends a connection whose token it refuses: the `error`, the close frame and a
//! clean end of the TCP connection reach the client even when it already sent more frames
//! behind the refused one (as the SDK does: a `ping` right behind `connect`). With those frames
//! left unread the kernel would reset the connection, and a browser would report 1006 instead
//! of 4003 or 4004, the codes that tell it whether to reconnect.

use futures_util::StreamExt;
use howl_testkit::token::{hs256, now_secs};
use howl_testkit::{Client, TestServer};
use serde_json::json;

const SECRET: &str = "test-secret-for-howl";

async fn secured() -> TestServer {
    TestServer::start(&["--quote-interval", "0", "--token-secret", SECRET]).await
}

/// Reads the `error` with `code`, the close frame with `close`, then expects the connection to
/// end cleanly (no reset).
async fn refused_cleanly(client: &mut Client, code: &str, close: u16, what: &str) {
    let error = client.recv_type("error").await;
    assert_eq!(error["payload"]["code"], code, "{what}: {error}");
    assert_eq!(client.expect_close().await, close, "{what}");
    let after = client.ws.next().await;
    assert!(
        after.is_none(),
        "{what}: the connection should end cleanly, got {after:?}"
    );
}

#[tokio::test]
async fn a_refused_connect_ends_cleanly_with_frames_queued_behind_it() {
    let server = secured().await;
    let forged = hs256(
        "another secret",
        &json!({ "sub": "mallory", "exp": now_secs() + 60 }),
    );
    for round in 0..10 {
        let mut client = Client::open(&server.ws_url()).await;
        client.handshake_with(json!({ "token": forged })).await;
        client.send_event("ping", json!({})).await;
        client
            .send_event("subscribe", json!({ "channel": "news" }))
            .await;
        refused_cleanly(&mut client, "unauthorized", 4003, &format!("round {round}")).await;
    }
}

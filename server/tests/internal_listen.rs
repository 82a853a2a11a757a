//! `--internal-listen` against a real server: the server API and metrics move to the
//! internal address, and WebSockets there are trusted publishers.

use howl_testkit::token::{hs256, now_secs};
use howl_testkit::{Client, TestServer};
use serde_json::json;

const SECRET: &str = "internal-listen-test-secret";

async fn with_internal(extra: &[&str]) -> TestServer {
    let mut flags = vec!["--quote-interval", "0", "--internal-listen", "127.0.0.1:0"];
    flags.extend(extra);
    TestServer::start(&flags).await
}

#[tokio::test]
async fn the_api_and_metrics_move_to_the_internal_address() {
    let server = with_internal(&[]).await;
    let public = &*server;
    let internal = server.internal();
    for path in ["/api/channels", "/api/anything", "/metrics"] {
        let (status, body) = public.get_json(path).await;
        assert_eq!(status, 404, "{path}: {body}");
        assert_eq!(body["error"]["code"], "not_found", "{path}: {body}");
        assert!(
            body["error"]["message"]
                .as_str()
                .unwrap()
                .contains("--internal-listen"),
            "{body}"
        );
    }
    let (status, body) = public.post("/api/channels/news/publish", "1").await;
    assert_eq!((status, &body["error"]["code"]), (404, &json!("not_found")));

    let (status, _) = internal.get_json("/api/channels").await;
    assert_eq!(status, 200);
    assert!(internal.metrics().await.contains("howl_connections_open"));
    // Health on both; clients connect on the public side as before.
    assert_eq!(public.health().await["status"], "ok");
    assert_eq!(internal.health().await["status"], "ok");
    let mut client = public.client().await;
    client.subscribe("news").await;
    let (status, _) = internal.post("/api/channels/news/publish", "5").await;
    assert_eq!(status, 200);
    assert_eq!(client.recv_type("message").await["payload"]["data"], 5);
}

#[tokio::test]
async fn websockets_on_the_internal_address_are_trusted_publishers() {
    let server = with_internal(&["--token-secret", SECRET]).await;
    let token = hs256(SECRET, &json!({"sub": "alice", "exp": now_secs() + 600}));
    let mut alice = Client::connect_with_token(&server.ws_url(), &token).await;
    alice.subscribe("news").await;
    alice.subscribe("wisdom").await;

    // A public client may not publish in secured mode, nor to the quote channel.
    for channel in ["news", "wisdom"] {
        alice
            .send_event("publish", json!({"channel": channel, "data": 0}))
            .await;
        let error = alice.recv_type("error").await;
        assert_eq!(error["payload"]["code"], "permission_denied", "{error}");
    }
    // A public client without a token is refused as before.
    let mut anonymous = Client::open(&server.ws_url()).await;
    anonymous.handshake().await;
    assert_eq!(
        anonymous.recv_type("error").await["payload"]["code"],
        "unauthorized"
    );
    assert_eq!(anonymous.expect_close().await, 4003);

    // A backend on the internal address needs no token and publishes anywhere.
    let mut backend = server.internal().client().await;
    for (channel, data) in [("news", json!("breaking")), ("wisdom", json!("a quote"))] {
        backend
            .send_event(
                "publish",
                json!({"channel": channel, "data": data, "ref": 1}),
            )
            .await;
        let confirmation = backend.recv_type("publish_confirmation").await;
        assert_eq!(confirmation["payload"]["channel"], channel);
        let message = alice.recv_type("message").await;
        assert_eq!(
            (&message["payload"]["channel"], &message["payload"]["data"]),
            (&json!(channel), &data)
        );
    }
    // It may also subscribe to a personal channel of anyone.
    let confirmation = backend.subscribe("#alice").await;
    assert_eq!(confirmation["payload"]["status"], "ok", "{confirmation}");
}

#[tokio::test]
async fn the_api_key_still_guards_the_internal_api() {
    let server = with_internal(&["--api-key", "s3cret"]).await;
    let internal = server.internal();
    let (status, body) = internal.get_json("/api/channels").await;
    assert_eq!(
        (status, &body["error"]["code"]),
        (401, &json!("unauthorized"))
    );
    let (status, _) = internal
        .get_with("/api/channels", &[("authorization", "Bearer s3cret")])
        .await;
    assert_eq!(status, 200);
}

#[test]
fn the_internal_address_must_differ_from_the_public_one() {
    let error = howl::Config::from_args([
        "howl",
        "--listen",
        "127.0.0.1:8123",
        "--internal-listen",
        "127.0.0.1:8123",
    ])
    .unwrap_err();
    assert_eq!(
        error.to_string(),
        "invalid setting --internal-listen 127.0.0.1:8123: must differ from --listen"
    );
}

//! Access to the server API against a real server: the API key, loopback-only without one,
//! and the JSON content type publishes need.

use howl_testkit::TestServer;
use serde_json::Value;
use std::net::{IpAddr, SocketAddr, UdpSocket};

const KEY: &str = "api-key-for-tests-0123456789";

#[tokio::test]
async fn with_an_api_key_every_api_request_needs_it() {
    let server = TestServer::start(&["--quote-interval", "0", "--api-key", KEY]).await;
    let same_length_wrong = "x".repeat(KEY.len());
    for headers in [
        vec![],
        vec![("authorization", "Bearer wrong")],
        vec![("authorization", "Basic YWxhZGRpbjpvcGVuc2VzYW1l")],
    ] {
        let (status, body) = server.get_with("/api/channels", &headers).await;
        assert_eq!(status, 401, "{headers:?}: {body}");
        assert_eq!(body["error"]["code"], "unauthorized", "{body}");
    }
    let wrong = format!("Bearer {same_length_wrong}");
    let (status, body) = server
        .post_with(
            "/api/channels/news/publish",
            "1",
            &[
                ("authorization", &wrong),
                ("content-type", "application/json"),
            ],
        )
        .await;
    assert_eq!(status, 401, "{body}");
    assert_eq!(body["error"]["code"], "unauthorized");

    let right = format!("Bearer {KEY}");
    let (status, body) = server
        .get_with("/api/channels", &[("authorization", &right)])
        .await;
    assert_eq!(status, 200, "{body}");
    let (status, body) = server
        .post_with(
            "/api/channels/news/publish",
            "1",
            &[
                ("authorization", &right),
                ("content-type", "application/json"),
            ],
        )
        .await;
    assert_eq!(status, 200, "{body}");
    // Health and metrics are not part of the API.
    assert_eq!(server.health().await["status"], "ok");
}

#[tokio::test]
async fn publish_needs_a_json_content_type() {
    let server = TestServer::start(&["--quote-interval", "0"]).await;
    for headers in [
        vec![],
        vec![("content-type", "text/plain")],
        vec![("content-type", "application/x-www-form-urlencoded")],
    ] {
        let (status, body) = server
            .post_with("/api/channels/news/publish", r#"{"a":1}"#, &headers)
            .await;
        assert_eq!(status, 415, "{headers:?}: {body}");
        assert_eq!(body["error"]["code"], "unsupported_media_type", "{body}");
    }
    let (status, body) = server
        .post_with(
            "/api/channels/news/publish",
            r#"{"a":1}"#,
            &[("content-type", "Application/JSON; charset=utf-8")],
        )
        .await;
    assert_eq!(status, 200, "{body}");
}

/// This machine's address on its default route, if it has one that is not loopback.
fn non_loopback_ip() -> Option<IpAddr> {
    // Connecting a UDP socket sends nothing; it only picks the source address.
    let socket = UdpSocket::bind("0.0.0.0:0").ok()?;
    socket.connect("192.0.2.1:9").ok()?;
    let ip = socket.local_addr().ok()?.ip();
    (!ip.is_loopback() && !ip.is_unspecified()).then_some(ip)
}

async fn get(url: String, key: Option<&str>) -> (u16, Value) {
    let mut request = reqwest::Client::new().get(url);
    if let Some(key) = key {
        request = request.bearer_auth(key);
    }
    let response = request.send().await.unwrap();
    let status = response.status().as_u16();
    (status, response.json().await.unwrap())
}

/// Serves on every interface (TestServer listens on loopback only).
fn serve_everywhere(flags: &[&str]) -> u16 {
    let config = howl::Config::for_tests(flags);
    let listener = std::net::TcpListener::bind("0.0.0.0:0").unwrap();
    listener.set_nonblocking(true).unwrap();
    let port = listener.local_addr().unwrap().port();
    tokio::spawn(async move {
        let listener = tokio::net::TcpListener::from_std(listener).unwrap();
        howl::run(config, listener, std::future::pending()).await
    });
    port
}

#[tokio::test]
async fn without_an_api_key_only_loopback_callers_get_the_api() {
    let Some(ip) = non_loopback_ip() else {
        eprintln!("skipped: this machine has no non-loopback address");
        return;
    };
    let port = serve_everywhere(&["--quote-interval", "0"]);
    let outside = |path: &str| format!("http://{}{path}", SocketAddr::new(ip, port));
    let (status, body) = get(outside("/api/channels"), None).await;
    assert_eq!(status, 403, "{body}");
    assert_eq!(body["error"]["code"], "permission_denied", "{body}");
    let (status, _) = get(format!("http://127.0.0.1:{port}/api/channels"), None).await;
    assert_eq!(status, 200);
    // Health stays public.
    let (status, _) = get(outside("/healthz"), None).await;
    assert_eq!(status, 200);

    // With a key, any address may call the API with it.
    let port = serve_everywhere(&["--quote-interval", "0", "--api-key", KEY]);
    let outside = format!("http://{}/api/channels", SocketAddr::new(ip, port));
    assert_eq!(get(outside.clone(), Some(KEY)).await.0, 200);
    assert_eq!(get(outside, None).await.0, 401);
}

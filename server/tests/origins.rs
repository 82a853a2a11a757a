//! `--allowed-origins` against a real server: origins compare normalised (scheme, host and
//! port, case-insensitive, default ports stripped), and the list tolerates spaces.

use howl_testkit::TestServer;
use tokio_tungstenite::tungstenite::client::IntoClientRequest;
use tokio_tungstenite::tungstenite::http::HeaderValue;

async fn status_for(server: &TestServer, origin: &'static str) -> u16 {
    let mut request = server.ws_url().into_client_request().unwrap();
    request
        .headers_mut()
        .insert("origin", HeaderValue::from_static(origin));
    match tokio_tungstenite::connect_async(request).await {
        Ok(_) => 101,
        Err(tokio_tungstenite::tungstenite::Error::Http(response)) => response.status().as_u16(),
        Err(other) => panic!("{origin}: {other}"),
    }
}

#[tokio::test]
async fn origins_that_differ_only_in_case_or_default_port_are_the_same() {
    let server = TestServer::start(&[
        "--quote-interval",
        "0",
        "--allowed-origins",
        "HTTPS://App.Example.com:443, http://localhost:8080 ,http://127.0.0.1",
    ])
    .await;
    for origin in [
        "https://app.example.com",
        "https://APP.example.COM:443",
        "http://LOCALHOST:8080",
        "http://127.0.0.1:80",
    ] {
        assert_eq!(status_for(&server, origin).await, 101, "{origin}");
    }
    for origin in [
        "http://app.example.com",
        "https://app.example.com:8443",
        "http://localhost",
        "http://localhost:8081",
        "null",
        "https://evil.example.com",
    ] {
        assert_eq!(status_for(&server, origin).await, 403, "{origin}");
    }
}

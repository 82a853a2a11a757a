//! HTTP abuse resistance: header, body and idle timeouts, the `/api` concurrency limit, a
//! shutdown that half-sent requests cannot hold up, and settings refused at startup.
//!
//! Raw TCP clients on 127.0.0.1 send exactly the bytes each case needs; every wait has a
//! deadline.

use howl_testkit::{TestServer, WAIT};
use serde_json::Value;
use std::process::Stdio;
use std::time::Duration;
use tokio::io::{AsyncBufReadExt, AsyncReadExt, AsyncWriteExt, BufReader};
use tokio::net::TcpStream;
use tokio::process::Command;
use tokio::time::Instant;

/// A publish request whose head is complete but whose body stops after 5 of 20 bytes.
const HALF_SENT_POST: &[u8] = b"POST /api/channels/news/publish HTTP/1.1\r\nHost: howl\r\n\
    Content-Type: application/json\r\nContent-Length: 20\r\n\r\n{\"a\":";

async fn send(addr: impl tokio::net::ToSocketAddrs, bytes: &[u8]) -> TcpStream {
    let mut stream = TcpStream::connect(addr).await.unwrap();
    stream.write_all(bytes).await.unwrap();
    stream
}

/// Everything the server sends until it closes the connection.
async fn read_until_closed(stream: &mut TcpStream) -> Vec<u8> {
    let mut received = Vec::new();
    tokio::time::timeout(WAIT, stream.read_to_end(&mut received))
        .await
        .expect("the server closes the connection in time")
        .expect("the connection closes cleanly");
    received
}

/// Polls `name` until `accept` holds for its value.
async fn wait_metric(server: &TestServer, name: &str, accept: impl Fn(f64) -> bool) {
    let deadline = Instant::now() + WAIT;
    loop {
        let value = server.metric(name).await;
        if accept(value) {
            return;
        }
        assert!(Instant::now() < deadline, "{name} stayed at {value}");
        tokio::time::sleep(Duration::from_millis(20)).await; // polling interval, not a wait for an outcome
    }
}

#[tokio::test]
async fn header_timeout_closes_half_sent_heads_and_silent_connections() {
    let server =
        TestServer::start(&["--quote-interval", "0", "--http-header-timeout", "0.3"]).await;
    let started = Instant::now();
    let mut half_head = send(server.addr, b"GET /healthz HTTP/1.1\r\nHost: howl\r\n").await;
    let mut silent = send(server.addr, b"").await;
    assert!(read_until_closed(&mut half_head).await.is_empty());
    assert!(read_until_closed(&mut silent).await.is_empty());
    assert!(started.elapsed() >= Duration::from_millis(250));
    wait_metric(&server, "howl_http_timeouts_total{kind=\"header\"}", |v| {
        v == 2.0
    })
    .await;

    // A kept-alive connection is closed the same way once its response is sent.
    let mut kept = send(server.addr, b"GET /healthz HTTP/1.1\r\nHost: howl\r\n\r\n").await;
    let response = String::from_utf8(read_until_closed(&mut kept).await).unwrap();
    assert!(response.starts_with("HTTP/1.1 200"), "{response}");
}

#[tokio::test]
async fn body_timeout_answers_408_and_closes_the_connection() {
    let server = TestServer::start(&["--quote-interval", "0", "--http-body-timeout", "0.3"]).await;
    let mut post = send(server.addr, HALF_SENT_POST).await;
    let response = String::from_utf8(read_until_closed(&mut post).await).unwrap();
    assert!(response.starts_with("HTTP/1.1 408"), "{response}");
    assert!(response.contains("connection: close"), "{response}");
    let body: Value = serde_json::from_str(response.split("\r\n\r\n").nth(1).unwrap()).unwrap();
    assert_eq!(body["error"]["code"], "request_timeout", "{body}");
    assert_eq!(
        server
            .metric("howl_http_timeouts_total{kind=\"body\"}")
            .await,
        1.0
    );
    assert_eq!(
        server
            .metric("howl_errors_total{code=\"request_timeout\"}")
            .await,
        1.0
    );
    // Nothing was published.
    assert_eq!(server.metric("howl_messages_published_total").await, 0.0);
}

#[tokio::test]
async fn api_concurrency_limit_answers_503_overloaded() {
    let server = TestServer::start(&["--quote-interval", "0", "--api-max-concurrent", "2"]).await;
    let mut first = send(server.addr, HALF_SENT_POST).await;
    let _second = send(server.addr, HALF_SENT_POST).await;
    wait_metric(&server, "howl_api_requests_in_flight", |v| v == 2.0).await;

    let (status, body) = server.post("/api/channels/news/publish", "1").await;
    assert_eq!(status, 503, "{body}");
    assert_eq!(body["error"]["code"], "overloaded", "{body}");
    assert!(body["error"]["message"].is_string(), "{body}");
    assert_eq!(server.metric("howl_api_requests_rejected_total").await, 1.0);
    assert_eq!(
        server
            .metric("howl_errors_total{code=\"overloaded\"}")
            .await,
        1.0
    );
    // Only /api is limited.
    let (status, _) = server.get_json("/healthz").await;
    assert_eq!(status, 200);

    // A request that ends frees its place.
    // The rest of the 20 bytes: `{"a":1}` and spaces.
    first
        .write_all(format!("{:<15}", "1}").as_bytes())
        .await
        .unwrap();
    let response = String::from_utf8(read_response(&mut first).await).unwrap();
    assert!(response.starts_with("HTTP/1.1 200"), "{response}");
    wait_metric(&server, "howl_api_requests_in_flight", |v| v == 1.0).await;
    let (status, body) = server.post("/api/channels/news/publish", "2").await;
    assert_eq!(status, 200, "{body}");
}

/// The first response on a kept-alive connection, up to the end of its JSON body.
async fn read_response(stream: &mut TcpStream) -> Vec<u8> {
    let mut received = Vec::new();
    let mut buf = [0; 4096];
    let deadline = Instant::now() + WAIT;
    while !String::from_utf8_lossy(&received).contains("}") {
        let n = tokio::time::timeout_at(deadline, stream.read(&mut buf))
            .await
            .expect("a response arrives in time")
            .unwrap();
        assert!(n > 0, "connection closed before the response");
        received.extend_from_slice(&buf[..n]);
    }
    received
}

#[tokio::test]
async fn idle_timeout_closes_a_connection_that_stops_reading() {
    let dir = tempfile::tempdir().unwrap();
    // A sparse file: far more than the socket buffers hold, and no disk to write.
    let size = 256 << 20;
    std::fs::File::create(dir.path().join("big.bin"))
        .unwrap()
        .set_len(size)
        .unwrap();
    let ui_dir = dir.path().to_str().unwrap();
    let server = TestServer::start(&[
        "--quote-interval",
        "0",
        "--ui-dir",
        ui_dir,
        "--http-idle-timeout",
        "0.3",
    ])
    .await;
    let mut reader = send(server.addr, b"GET /big.bin HTTP/1.1\r\nHost: howl\r\n\r\n").await;
    wait_metric(&server, "howl_http_timeouts_total{kind=\"idle\"}", |v| {
        v == 1.0
    })
    .await;
    let received = read_until_closed(&mut reader).await;
    assert!(received.starts_with(b"HTTP/1.1 200"));
    assert!((received.len() as u64) < size, "the whole file was sent");
}

/// A `howl` process, killed if the test fails before it exits.
fn howl(args: &[&str]) -> Command {
    let mut command = Command::new(env!("CARGO_BIN_EXE_howl"));
    command
        .args(args)
        .env_remove("RUST_LOG")
        .stdin(Stdio::null())
        .stdout(Stdio::piped())
        .stderr(Stdio::piped())
        .kill_on_drop(true);
    command
}

#[tokio::test]
async fn five_hundred_half_sent_posts_do_not_hold_up_sigterm() {
    let mut child = howl(&[
        "--listen",
        "127.0.0.1:0",
        "--log-format",
        "json",
        "--quote-interval",
        "0",
        "--shutdown-timeout",
        "2",
        "--http-body-timeout",
        "600",
        "--api-max-concurrent",
        "1000",
    ])
    .env("RUST_LOG", "info")
    .spawn()
    .expect("howl starts");
    // The bound address is only known from the log, so read lines until the listening line
    // and keep reading to the end so the pipe never fills and blocks howl.
    let mut lines = BufReader::new(child.stdout.take().unwrap()).lines();
    let address = tokio::time::timeout(WAIT, async {
        while let Some(line) = lines.next_line().await.unwrap() {
            if let Ok(event) = serde_json::from_str::<Value>(&line) {
                if let Some(address) = event["address"].as_str() {
                    return address.to_owned();
                }
            }
        }
        panic!("howl ended without logging its address");
    })
    .await
    .expect("howl logs its address");
    tokio::spawn(async move { while let Ok(Some(_)) = lines.next_line().await {} });

    let mut posts = Vec::new();
    for _ in 0..500 {
        posts.push(send(address.as_str(), HALF_SENT_POST).await);
    }
    let deadline = Instant::now() + WAIT;
    let metrics = format!("http://{address}/metrics");
    loop {
        let text = reqwest::get(&metrics).await.unwrap().text().await.unwrap();
        if text.contains("\nhowl_api_requests_in_flight 500\n") {
            break;
        }
        assert!(
            Instant::now() < deadline,
            "the 500 requests never all arrived"
        );
        tokio::time::sleep(Duration::from_millis(20)).await; // polling interval, not a wait for an outcome
    }

    let signalled = Instant::now();
    let pid = child.id().unwrap().to_string();
    let status = Command::new("kill")
        .args(["-TERM", &pid])
        .status()
        .await
        .unwrap();
    assert!(status.success());
    let exit = tokio::time::timeout(Duration::from_secs(2 + 5), child.wait())
        .await
        .expect("howl exits within the shutdown timeout")
        .unwrap();
    let took = signalled.elapsed();
    assert!(exit.success(), "howl exited with {exit}");
    // The requests did hold the connections until the timeout.
    assert!(took >= Duration::from_millis(1500), "exited after {took:?}");
    // And then they were dropped unanswered.
    let mut buf = [0; 64];
    let read = tokio::time::timeout(WAIT, posts[0].read(&mut buf))
        .await
        .expect("the connection is gone");
    assert!(matches!(read, Ok(0) | Err(_)), "{read:?}");
}

/// Runs `howl` with `args` (and `env`) to its end; its exit code and standard error.
async fn run_to_end(args: &[&str], env: &[(&str, &str)]) -> (Option<i32>, String) {
    let mut command = howl(args);
    command.envs(env.iter().copied());
    let output = tokio::time::timeout(WAIT, command.output())
        .await
        .expect("howl exits in time")
        .unwrap();
    (
        output.status.code(),
        String::from_utf8_lossy(&output.stderr).into_owned(),
    )
}

#[tokio::test]
async fn unusable_settings_exit_2_naming_the_setting() {
    let file = tempfile::NamedTempFile::new().unwrap();
    std::fs::write(file.path(), "http-idle-timeout = 0\n").unwrap();
    let config = file.path().to_str().unwrap();
    // (flags, environment, the setting the message must name)
    type Case<'a> = (&'a [&'a str], &'a [(&'a str, &'a str)], &'a str);
    let cases: &[Case<'_>] = &[
        (&["--write-timeout", "0"], &[], "--write-timeout"),
        (&["--heartbeat-timeout", "1e19"], &[], "--heartbeat-timeout"),
        (&["--heartbeat-timeout=-1"], &[], "--heartbeat-timeout"),
        (&["--ws-ping-interval", "0.001"], &[], "--ws-ping-interval"),
        (
            &[],
            &[("HOWL_WS_PING_INTERVAL", "1e9")],
            "--ws-ping-interval",
        ),
        (&["--internal-listen", "nowhere"], &[], "--internal-listen"),
        (&["--shutdown-timeout", "0"], &[], "--shutdown-timeout"),
        (&["--quote-interval", "1e9"], &[], "--quote-interval"),
        (&["--redis-ttl", "0"], &[], "--redis-ttl"),
        (
            &["--http-header-timeout", "0"],
            &[],
            "--http-header-timeout",
        ),
        (&["--http-body-timeout", "nan"], &[], "--http-body-timeout"),
        (&["--config", config], &[], "--http-idle-timeout"),
        (&["--outbox-capacity", "0"], &[], "--outbox-capacity"),
        (&["--max-message-size", "1"], &[], "--max-message-size"),
        (&["--max-subscriptions", "0"], &[], "--max-subscriptions"),
        (&["--read-buffer-size", "0"], &[], "--read-buffer-size"),
        (
            &["--write-buffer-size", "100000000000"],
            &[],
            "--write-buffer-size",
        ),
        (
            &[],
            &[("HOWL_API_MAX_CONCURRENT", "0")],
            "--api-max-concurrent",
        ),
        (&["--ws-path", "ws"], &[], "--ws-path"),
    ];
    for (args, env, setting) in cases {
        let mut all = vec!["--listen", "127.0.0.1:0"];
        all.extend_from_slice(args);
        let (code, stderr) = run_to_end(&all, env).await;
        assert_eq!(code, Some(2), "{args:?} {env:?}: {stderr}");
        assert!(stderr.contains(setting), "{args:?} {env:?}: {stderr}");
    }
}

#[tokio::test]
async fn port_in_use_is_reported_in_one_line_without_a_backtrace() {
    let taken = std::net::TcpListener::bind("127.0.0.1:0").unwrap();
    let address = taken.local_addr().unwrap().to_string();
    let public = ["--listen", &address];
    let internal = ["--listen", "127.0.0.1:0", "--internal-listen", &address];
    for args in [&public[..], &internal[..]] {
        let (code, stderr) = run_to_end(args, &[("RUST_BACKTRACE", "1")]).await;
        assert_eq!(code, Some(1), "{stderr}");
        let lines: Vec<&str> = stderr.lines().filter(|l| !l.trim().is_empty()).collect();
        assert_eq!(lines.len(), 1, "{stderr}");
        assert!(
            lines[0].starts_with(&format!("error: cannot listen on {address}")),
            "{stderr}"
        );
        assert!(lines[0].contains("in use"), "{stderr}");
        assert!(!stderr.to_lowercase().contains("backtrace"), "{stderr}");
    }
}

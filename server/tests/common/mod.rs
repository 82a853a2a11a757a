//! Test harness: a real `howl` on 127.0.0.1 with an ephemeral port, and real WebSocket and
//! HTTP clients. Every wait has a timeout; nothing sleeps.
#![allow(dead_code)]

pub mod redis;

use futures_util::{SinkExt, StreamExt};
use howl::Config;
use serde_json::Value;
use std::net::SocketAddr;
use std::time::Duration;
use tokio::net::TcpStream;
use tokio::sync::oneshot;
use tokio::task::JoinHandle;
use tokio_tungstenite::tungstenite::protocol::frame::coding::CloseCode;
use tokio_tungstenite::tungstenite::protocol::CloseFrame;
use tokio_tungstenite::tungstenite::Message;
use tokio_tungstenite::{MaybeTlsStream, WebSocketStream};

/// How long any single expected event may take.
pub const WAIT: Duration = Duration::from_secs(10);

/// A server running in this process.
pub struct TestServer {
    endpoint: Endpoint,
    stop: Option<oneshot::Sender<()>>,
    task: Option<JoinHandle<Result<(), howl::ServerError>>>,
}

impl TestServer {
    /// Starts a server with the default settings plus `flags`.
    pub async fn start(flags: &[&str]) -> Self {
        let config = Config::for_tests(flags);
        let listener = tokio::net::TcpListener::bind(config.listen).await.unwrap();
        let addr = listener.local_addr().unwrap();
        let (stop, stopped) = oneshot::channel::<()>();
        let task = tokio::spawn(howl::run(config, listener, async move {
            let _ = stopped.await;
        }));
        Self {
            endpoint: Endpoint { addr },
            stop: Some(stop),
            task: Some(task),
        }
    }

    /// Triggers graceful shutdown and waits for `run` to return.
    pub async fn shutdown(&mut self) -> Result<(), howl::ServerError> {
        let _ = self.stop.take().expect("not stopped yet").send(());
        let task = self.task.take().unwrap();
        tokio::time::timeout(WAIT, task)
            .await
            .expect("shutdown finished in time")
            .unwrap()
    }

    /// Kills the server without goodbye: its task is aborted, so connections just drop and
    /// nothing is cleaned up (in Redis, say).
    pub async fn kill(&mut self) {
        let task = self.task.take().expect("not stopped yet");
        task.abort();
        let _ = task.await;
    }
}

impl std::ops::Deref for TestServer {
    type Target = Endpoint;
    fn deref(&self) -> &Endpoint {
        &self.endpoint
    }
}

impl Drop for TestServer {
    fn drop(&mut self) {
        if let Some(task) = self.task.take() {
            task.abort();
        }
    }
}

/// Where a server listens, with the requests tests make to it.
pub struct Endpoint {
    pub addr: SocketAddr,
}

impl Endpoint {
    pub fn ws_url(&self) -> String {
        format!("ws://{}/ws", self.addr)
    }

    pub fn http_url(&self, path: &str) -> String {
        format!("http://{}{}", self.addr, path)
    }

    /// A connected client that has completed `initial` + `connect`.
    pub async fn client(&self) -> Client {
        let mut client = Client::open(&self.ws_url()).await;
        client.handshake().await;
        client
    }

    pub async fn get_json(&self, path: &str) -> (u16, Value) {
        let response = reqwest::get(self.http_url(path)).await.unwrap();
        let status = response.status().as_u16();
        (status, response.json().await.unwrap())
    }

    pub async fn post(&self, path: &str, body: impl Into<reqwest::Body>) -> (u16, Value) {
        let response = reqwest::Client::new()
            .post(self.http_url(path))
            .body(body)
            .send()
            .await
            .unwrap();
        let status = response.status().as_u16();
        (status, response.json().await.unwrap())
    }

    pub async fn metrics(&self) -> String {
        reqwest::get(self.http_url("/metrics"))
            .await
            .unwrap()
            .text()
            .await
            .unwrap()
    }

    /// The value of one metric line, e.g. `metric("howl_deliveries_total")`.
    pub async fn metric(&self, name: &str) -> f64 {
        let text = self.metrics().await;
        let line = text
            .lines()
            .find(|l| l.starts_with(&format!("{name} ")))
            .unwrap_or_else(|| panic!("{name} missing"));
        line[name.len() + 1..].parse().unwrap()
    }

    /// Waits until the metric reaches at least `value`, polling with a deadline.
    pub async fn wait_metric_at_least(&self, name: &str, value: f64) {
        let deadline = tokio::time::Instant::now() + WAIT;
        loop {
            if self.metric(name).await >= value {
                return;
            }
            assert!(
                tokio::time::Instant::now() < deadline,
                "{name} never reached {value}"
            );
            tokio::time::sleep(Duration::from_millis(20)).await; // polling interval, not a wait for an outcome
        }
    }
}

/// A WebSocket client speaking raw protocol frames.
pub struct Client {
    pub ws: WebSocketStream<MaybeTlsStream<TcpStream>>,
    pub id: String,
}

impl Client {
    pub async fn open(url: &str) -> Self {
        let (ws, _) = tokio_tungstenite::connect_async(url)
            .await
            .expect("WebSocket connects");
        Self {
            ws,
            id: String::new(),
        }
    }

    /// Tries to open a WebSocket; the error when the server does not accept it.
    pub async fn try_open(url: &str) -> Result<(), tokio_tungstenite::tungstenite::Error> {
        tokio_tungstenite::connect_async(url).await.map(|_| ())
    }

    /// Reads `initial` (checking its exact text) and answers `connect`.
    pub async fn handshake(&mut self) {
        let initial = self.recv_text().await;
        let value: Value = serde_json::from_str(&initial).unwrap();
        self.id = value["payload"]["id"]
            .as_str()
            .expect("initial carries an id")
            .to_owned();
        assert_eq!(
            initial,
            format!(r#"{{"type":"initial","payload":{{"id":"{}"}}}}"#, self.id)
        );
        self.send_event("connect", serde_json::json!({})).await;
    }

    pub async fn send_text(&mut self, text: impl Into<String>) {
        self.ws.send(Message::text(text.into())).await.unwrap();
    }

    /// Sends `{"type": kind, "payload": {"id": <own id>, ...fields}}`.
    pub async fn send_event(&mut self, kind: &str, fields: Value) {
        let mut payload = serde_json::json!({"id": self.id});
        if let Value::Object(extra) = fields {
            payload.as_object_mut().unwrap().extend(extra);
        }
        let text = serde_json::json!({"type": kind, "payload": payload}).to_string();
        self.send_text(text).await;
    }

    /// The next text frame, skipping WebSocket pings and pongs.
    pub async fn recv_text(&mut self) -> String {
        loop {
            let message = tokio::time::timeout(WAIT, self.ws.next())
                .await
                .expect("a frame arrives in time")
                .expect("connection open")
                .expect("frame reads");
            match message {
                Message::Text(text) => return text.to_string(),
                Message::Ping(_) | Message::Pong(_) => continue,
                other => panic!("expected a text frame, got {other:?}"),
            }
        }
    }

    pub async fn recv_json(&mut self) -> Value {
        serde_json::from_str(&self.recv_text().await).unwrap()
    }

    /// Skips frames until one of `kind` arrives; returns it and the skipped frames' types.
    pub async fn recv_type(&mut self, kind: &str) -> Value {
        loop {
            let frame = self.recv_json().await;
            if frame["type"] == kind {
                return frame;
            }
        }
    }

    /// Sends a ping and returns every frame received before the pong: a barrier proving the
    /// server processed everything sent before it.
    pub async fn sync(&mut self) -> Vec<Value> {
        self.send_event("ping", serde_json::json!({})).await;
        let mut before = Vec::new();
        loop {
            let frame = self.recv_json().await;
            if frame["type"] == "pong" {
                return before;
            }
            before.push(frame);
        }
    }

    /// Waits for the server's close frame and returns its code.
    pub async fn expect_close(&mut self) -> u16 {
        loop {
            match tokio::time::timeout(WAIT, self.ws.next())
                .await
                .expect("close arrives in time")
            {
                Some(Ok(Message::Close(frame))) => {
                    return frame.map_or(1005, |f: CloseFrame| u16::from(f.code))
                }
                Some(Ok(_)) => continue,
                Some(Err(e)) => panic!("connection failed instead of closing: {e}"),
                None => panic!("connection ended without a close frame"),
            }
        }
    }

    pub async fn close(mut self) {
        let _ = self
            .ws
            .close(Some(CloseFrame {
                code: CloseCode::Normal,
                reason: "".into(),
            }))
            .await;
    }
}

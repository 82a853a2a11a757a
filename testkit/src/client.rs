//! A WebSocket client speaking raw protocol frames, every receive bounded by [`WAIT`].

use crate::WAIT;
use futures_util::{SinkExt, StreamExt};
use serde_json::{json, Value};
use tokio::net::TcpStream;
use tokio_tungstenite::tungstenite::protocol::frame::coding::CloseCode;
use tokio_tungstenite::tungstenite::protocol::CloseFrame;
use tokio_tungstenite::tungstenite::{Error, Message};
use tokio_tungstenite::{MaybeTlsStream, WebSocketStream};

/// A WebSocket client speaking raw protocol frames.
pub struct Client {
    /// The socket, for frames the helpers do not cover.
    pub ws: WebSocketStream<MaybeTlsStream<TcpStream>>,
    /// The connection id from `initial` (empty until the handshake, or set by the test).
    pub id: String,
}

impl Client {
    /// Opens a WebSocket to `url` without any protocol step.
    pub async fn open(url: &str) -> Self {
        let (ws, _) = tokio::time::timeout(WAIT, tokio_tungstenite::connect_async(url))
            .await
            .expect("connects in time")
            .expect("WebSocket connects");
        Self {
            ws,
            id: String::new(),
        }
    }

    /// Tries to open a WebSocket; the error when the server does not accept it.
    pub async fn try_open(url: &str) -> Result<(), Error> {
        tokio::time::timeout(WAIT, tokio_tungstenite::connect_async(url))
            .await
            .expect("an answer in time")
            .map(|_| ())
    }

    /// Opens a WebSocket to `url` and completes `initial` + `connect`.
    pub async fn connect(url: &str) -> Self {
        let mut client = Self::open(url).await;
        client.handshake().await;
        client
    }

    /// Opens a WebSocket to `url`, reads `initial` and sends `connect` with `token` (secured
    /// mode); the reply, if any, is left for the test to read.
    pub async fn connect_with_token(url: &str, token: &str) -> Self {
        let mut client = Self::open(url).await;
        client.handshake_with(json!({ "token": token })).await;
        client
    }

    /// Reads `initial` (checking its exact text) and answers `connect`.
    pub async fn handshake(&mut self) {
        self.handshake_with(json!({})).await;
    }

    /// Reads `initial` (checking its exact text) and answers `connect` with `fields` added
    /// to its payload (e.g. a `token`).
    pub async fn handshake_with(&mut self, fields: Value) {
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
        self.send_event("connect", fields).await;
    }

    /// Sends a text frame as it is.
    pub async fn send_text(&mut self, text: impl Into<String>) {
        self.ws.send(Message::text(text.into())).await.unwrap();
    }

    /// Sends `{"type": kind, "payload": {"id": <own id>, ...fields}}`.
    pub async fn send_event(&mut self, kind: &str, fields: Value) {
        let mut payload = json!({"id": self.id});
        if let Value::Object(extra) = fields {
            payload.as_object_mut().unwrap().extend(extra);
        }
        let text = json!({"type": kind, "payload": payload}).to_string();
        self.send_text(text).await;
    }

    /// The next text frame, skipping WebSocket pings and pongs.
    pub async fn recv_text(&mut self) -> String {
        // One deadline for the whole wait: WebSocket pings must not keep it alive forever.
        let deadline = tokio::time::Instant::now() + WAIT;
        loop {
            let message = tokio::time::timeout_at(deadline, self.ws.next())
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

    /// The next text frame, parsed as JSON.
    pub async fn recv_json(&mut self) -> Value {
        serde_json::from_str(&self.recv_text().await).unwrap()
    }

    /// Skips frames until one of type `kind` arrives, and returns it.
    pub async fn recv_type(&mut self, kind: &str) -> Value {
        let deadline = tokio::time::Instant::now() + WAIT;
        let mut skipped = Vec::new();
        loop {
            let frame = tokio::time::timeout_at(deadline, self.recv_json())
                .await
                .unwrap_or_else(|_| panic!("no {kind} in time; skipped {skipped:?}"));
            if frame["type"] == kind {
                return frame;
            }
            if skipped.len() < 20 {
                skipped.push(frame);
            }
        }
    }

    /// Subscribes to `channel` and returns the `subscribe_confirmation`.
    pub async fn subscribe(&mut self, channel: &str) -> Value {
        self.send_event("subscribe", json!({ "channel": channel }))
            .await;
        self.recv_type("subscribe_confirmation").await
    }

    /// Watches `channel` and waits until a `channel_status` says it is `occupied`.
    pub async fn wait_occupied(&mut self, channel: &str, occupied: bool) {
        self.send_event("watch", json!({ "channel": channel }))
            .await;
        loop {
            let status = self.recv_type("channel_status").await;
            if status["payload"]["channel"] == channel && status["payload"]["occupied"] == occupied
            {
                return;
            }
        }
    }

    /// Sends a ping and returns every frame received before the pong: a barrier proving the
    /// server processed everything sent before it.
    pub async fn sync(&mut self) -> Vec<Value> {
        self.send_event("ping", json!({})).await;
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

    /// Closes the socket with 1000.
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

//! Test harness: a real `howl` in this process on 127.0.0.1, a raw WebSocket client, and
//! the tools' binaries as child processes whose output lines are awaited with timeouts.
#![allow(dead_code)]

use futures_util::{SinkExt, StreamExt};
use serde_json::{json, Value};
use std::net::SocketAddr;
use std::process::Stdio;
use std::time::Duration;
use tokio::io::{AsyncBufReadExt, BufReader, Lines};
use tokio::net::TcpStream;
use tokio::process::{Child, ChildStderr, ChildStdout, Command};
use tokio::sync::oneshot;
use tokio::task::JoinHandle;
use tokio_tungstenite::tungstenite::Message;
use tokio_tungstenite::{MaybeTlsStream, WebSocketStream};

/// How long any single expected event may take.
pub const WAIT: Duration = Duration::from_secs(15);

/// A server running in this process.
pub struct TestServer {
    pub addr: SocketAddr,
    stop: Option<oneshot::Sender<()>>,
    task: Option<JoinHandle<Result<(), howl::ServerError>>>,
}

impl TestServer {
    /// Starts a server on `listen` (e.g. `127.0.0.1:0`) with the quote distributor off.
    pub async fn start(listen: &str) -> Self {
        let config = howl::Config::from_args(["howl", "--listen", listen, "--quote-interval", "0"])
            .expect("valid settings");
        let listener = tokio::net::TcpListener::bind(config.listen).await.unwrap();
        let addr = listener.local_addr().unwrap();
        let (stop, stopped) = oneshot::channel::<()>();
        let task = tokio::spawn(howl::run(config, listener, async move {
            let _ = stopped.await;
        }));
        Self {
            addr,
            stop: Some(stop),
            task: Some(task),
        }
    }

    pub fn ws_url(&self) -> String {
        format!("ws://{}/ws", self.addr)
    }

    /// Graceful shutdown; waits for `run` to return.
    pub async fn shutdown(&mut self) {
        let _ = self.stop.take().expect("not stopped yet").send(());
        let task = self.task.take().unwrap();
        tokio::time::timeout(WAIT, task)
            .await
            .expect("shutdown finished in time")
            .unwrap()
            .unwrap();
    }
}

/// A WebSocket client speaking raw protocol frames.
pub struct Client {
    ws: WebSocketStream<MaybeTlsStream<TcpStream>>,
    pub id: String,
}

impl Client {
    /// Connects and completes `initial` + `connect`.
    pub async fn connect(url: &str) -> Self {
        let (ws, _) = tokio::time::timeout(WAIT, tokio_tungstenite::connect_async(url))
            .await
            .expect("connects in time")
            .expect("WebSocket connects");
        let mut client = Self {
            ws,
            id: String::new(),
        };
        let initial = client.recv_type("initial").await;
        client.id = initial["payload"]["id"].as_str().unwrap().to_owned();
        client.send("connect", json!({})).await;
        client
    }

    /// Sends `{"type": kind, "payload": {"id": <own id>, ...fields}}`.
    pub async fn send(&mut self, kind: &str, fields: Value) {
        let mut payload = json!({"id": self.id});
        if let Value::Object(extra) = fields {
            payload.as_object_mut().unwrap().extend(extra);
        }
        let text = json!({"type": kind, "payload": payload}).to_string();
        self.ws.send(Message::text(text)).await.unwrap();
    }

    /// The next JSON text frame.
    pub async fn recv(&mut self) -> Value {
        loop {
            let message = tokio::time::timeout(WAIT, self.ws.next())
                .await
                .expect("a frame arrives in time")
                .expect("connection open")
                .expect("frame reads");
            if let Message::Text(text) = message {
                return serde_json::from_str(text.as_str()).unwrap();
            }
        }
    }

    /// Skips frames until one of type `kind` arrives.
    pub async fn recv_type(&mut self, kind: &str) -> Value {
        loop {
            let frame = self.recv().await;
            if frame["type"] == kind {
                return frame;
            }
        }
    }

    /// Subscribes to `channel` and waits for the confirmation.
    pub async fn subscribe(&mut self, channel: &str) {
        self.send("subscribe", json!({"channel": channel})).await;
        self.recv_type("subscribe_confirmation").await;
    }

    /// Watches `channel` and waits until a notice says it is `occupied`.
    pub async fn wait_occupied(&mut self, channel: &str, occupied: bool) {
        self.send("watch", json!({"channel": channel})).await;
        loop {
            let status = self.recv_type("channel_status").await;
            if status["payload"]["channel"] == channel && status["payload"]["occupied"] == occupied
            {
                return;
            }
        }
    }

    pub async fn close(mut self) {
        let _ = self.ws.close(None).await;
    }
}

/// A tools binary running as a child process, its output read line by line.
pub struct Tool {
    child: Child,
    stdout: Lines<BufReader<ChildStdout>>,
    stderr: Lines<BufReader<ChildStderr>>,
    /// Every stderr (log) line read so far.
    pub log: Vec<String>,
}

impl Tool {
    /// Starts `binary` (a path from `env!("CARGO_BIN_EXE_…")`) with `args`.
    pub fn spawn(binary: &str, args: &[&str]) -> Self {
        let mut child = Command::new(binary)
            .args(args)
            .env("RUST_LOG", "info")
            .env_remove("RUST_BACKTRACE")
            .stdin(Stdio::null())
            .stdout(Stdio::piped())
            .stderr(Stdio::piped())
            .kill_on_drop(true)
            .spawn()
            .expect("the tool starts");
        let stdout = BufReader::new(child.stdout.take().unwrap()).lines();
        let stderr = BufReader::new(child.stderr.take().unwrap()).lines();
        Self {
            child,
            stdout,
            stderr,
            log: Vec::new(),
        }
    }

    /// Reads log lines until one contains `needle`; returns the lines read, that one last.
    pub async fn wait_log(&mut self, needle: &str) -> Vec<String> {
        let mut seen = Vec::new();
        loop {
            let line = tokio::time::timeout(WAIT, self.stderr.next_line())
                .await
                .unwrap_or_else(|_| panic!("no log line with {needle:?} in time; saw {seen:#?}"))
                .unwrap()
                .unwrap_or_else(|| {
                    panic!("the tool exited before logging {needle:?}; saw {seen:#?}")
                });
            self.log.push(line.clone());
            seen.push(line.clone());
            if line.contains(needle) {
                return seen;
            }
        }
    }

    /// The next line the tool prints on stdout.
    pub async fn next_output(&mut self) -> String {
        tokio::time::timeout(WAIT, self.stdout.next_line())
            .await
            .expect("an output line in time")
            .unwrap()
            .expect("the tool is still running")
    }

    /// Waits for the tool to exit by itself and returns its status.
    pub async fn wait(mut self) -> std::process::ExitStatus {
        tokio::time::timeout(WAIT, self.child.wait())
            .await
            .expect("the tool exits in time")
            .unwrap()
    }

    /// Kills the tool and waits for it.
    pub async fn kill(mut self) {
        let _ = self.child.kill().await;
    }
}

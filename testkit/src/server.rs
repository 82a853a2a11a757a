//! A real `howl` in this process on 127.0.0.1, and the HTTP requests tests make to it.
//!
//! [`TestServer`] runs on the test's own tokio runtime; [`ThreadedServer`] on a thread and
//! runtime of its own, for tests that drive something else (a browser) and want stop, kill
//! and restart as plain blocking calls. Both start with [`howl::Config::for_tests`] plus the
//! given flags, listen on a port chosen by the system and keep it across restarts.

use crate::wait::eventually;
use crate::{Client, WAIT};
use serde_json::Value;
use std::net::SocketAddr;
use tokio::sync::oneshot;

/// Where a server listens, with the requests tests make to it.
pub struct Endpoint {
    /// The address the server listens on (kept across restarts).
    pub addr: SocketAddr,
}

impl Endpoint {
    /// `ws://<addr>/ws`.
    pub fn ws_url(&self) -> String {
        format!("ws://{}/ws", self.addr)
    }

    /// `http://<addr><path>`.
    pub fn http_url(&self, path: &str) -> String {
        format!("http://{}{}", self.addr, path)
    }

    /// A connected client that has completed `initial` + `connect`.
    pub async fn client(&self) -> Client {
        Client::connect(&self.ws_url()).await
    }

    /// GET `path`: the status and the JSON body.
    pub async fn get_json(&self, path: &str) -> (u16, Value) {
        let response = reqwest::get(self.http_url(path)).await.unwrap();
        let status = response.status().as_u16();
        (status, response.json().await.unwrap())
    }

    /// POST `body` as it is to `path`, declared `Content-Type: application/json`: the status
    /// and the JSON answer.
    pub async fn post(&self, path: &str, body: impl Into<reqwest::Body>) -> (u16, Value) {
        self.post_with(path, body, &[("content-type", "application/json")])
            .await
    }

    /// POST `body` as it is to `path` with exactly these `headers`: the status and the JSON
    /// answer.
    pub async fn post_with(
        &self,
        path: &str,
        body: impl Into<reqwest::Body>,
        headers: &[(&str, &str)],
    ) -> (u16, Value) {
        let mut request = reqwest::Client::new().post(self.http_url(path)).body(body);
        for (name, value) in headers {
            request = request.header(*name, *value);
        }
        let response = request.send().await.unwrap();
        let status = response.status().as_u16();
        (status, response.json().await.unwrap())
    }

    /// GET `path` with exactly these `headers`: the status and the JSON answer.
    pub async fn get_with(&self, path: &str, headers: &[(&str, &str)]) -> (u16, Value) {
        let mut request = reqwest::Client::new().get(self.http_url(path));
        for (name, value) in headers {
            request = request.header(*name, *value);
        }
        let response = request.send().await.unwrap();
        let status = response.status().as_u16();
        (status, response.json().await.unwrap())
    }

    /// POST `body` as JSON text to `path`: the status and the JSON answer.
    pub async fn post_json(&self, path: &str, body: &Value) -> (u16, Value) {
        self.post(path, body.to_string()).await
    }

    /// The `/healthz` body.
    pub async fn health(&self) -> Value {
        self.get_json("/healthz").await.1
    }

    /// The `/metrics` text.
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

    /// Waits until the metric reaches at least `value`.
    pub async fn wait_metric_at_least(&self, name: &str, value: f64) {
        eventually(&format!("{name} reaches {value}"), || async {
            self.metric(name).await >= value
        })
        .await;
    }

    /// The (cluster-wide) subscriber count of `channel` from `GET /api/channels`, 0 when it is
    /// not listed; None when the server cannot tell (no 200).
    pub async fn channel_count(&self, channel: &str) -> Option<u64> {
        let (status, body) = self.get_json("/api/channels").await;
        if status != 200 {
            return None;
        }
        let channels = body["channels"].as_array().expect("a channel list");
        Some(
            channels
                .iter()
                .find(|c| c["name"] == channel)
                .map_or(0, |c| c["subscribers"].as_u64().unwrap()),
        )
    }

    /// [`Endpoint::channel_count`] of a server that can tell.
    pub async fn subscribers(&self, channel: &str) -> u64 {
        self.channel_count(channel)
            .await
            .unwrap_or_else(|| panic!("no channel list from {}", self.addr))
    }
}

/// What both kinds of server share: the flags, and the addresses to listen on again.
struct Launch {
    endpoint: Endpoint,
    /// The internal side, when the flags hold `--internal-listen` (whose value is ignored:
    /// the test server picks a free port on 127.0.0.1).
    internal: Option<Endpoint>,
    flags: Vec<String>,
}

/// The sockets a test server listens on.
struct Sockets {
    public: std::net::TcpListener,
    internal: Option<std::net::TcpListener>,
}

/// Listens on `endpoint`'s address (a free port the first time) and records the address.
fn listen(endpoint: &mut Endpoint) -> std::net::TcpListener {
    // std sets SO_REUSEADDR on Unix, so the old address is free at once after a stop.
    let listener = std::net::TcpListener::bind(endpoint.addr)
        .unwrap_or_else(|e| panic!("cannot listen on {}: {e}", endpoint.addr));
    listener.set_nonblocking(true).unwrap();
    endpoint.addr = listener.local_addr().unwrap();
    listener
}

impl Launch {
    fn new(flags: &[&str]) -> Self {
        let loopback = || Endpoint {
            addr: SocketAddr::from(([127, 0, 0, 1], 0)),
        };
        Self {
            endpoint: loopback(),
            internal: flags.contains(&"--internal-listen").then(loopback),
            flags: flags.iter().map(|f| f.to_string()).collect(),
        }
    }

    /// The settings, and listeners on the addresses (free ports the first time).
    fn bind(&mut self) -> (howl::Config, Sockets) {
        let flags: Vec<&str> = self.flags.iter().map(String::as_str).collect();
        let config = howl::Config::for_tests(&flags);
        let sockets = Sockets {
            public: listen(&mut self.endpoint),
            internal: self.internal.as_mut().map(listen),
        };
        (config, sockets)
    }

    fn internal(&self) -> &Endpoint {
        self.internal
            .as_ref()
            .expect("the server was started with --internal-listen")
    }
}

/// Serves `howl` on `sockets` until `stop` fires (or is dropped).
async fn serve(
    config: howl::Config,
    sockets: Sockets,
    stop: oneshot::Receiver<()>,
) -> Result<(), howl::ServerError> {
    let listeners = howl::Listeners {
        public: tokio::net::TcpListener::from_std(sockets.public)?,
        internal: match sockets.internal {
            Some(internal) => Some(tokio::net::TcpListener::from_std(internal)?),
            None => None,
        },
    };
    howl::run(config, listeners, async move {
        let _ = stop.await;
    })
    .await
}

/// A server on the test's tokio runtime.
pub struct TestServer {
    launch: Launch,
    running: Option<Task>,
}

struct Task {
    stop: oneshot::Sender<()>,
    task: tokio::task::JoinHandle<Result<(), howl::ServerError>>,
}

impl TestServer {
    /// Starts a server with the test settings plus `flags` (e.g. `["--quote-interval", "0"]`).
    // `async` although nothing is awaited: the server is spawned on the caller's runtime,
    // which an `async fn` guarantees exists.
    #[allow(clippy::unused_async)]
    pub async fn start(flags: &[&str]) -> Self {
        let mut server = Self {
            launch: Launch::new(flags),
            running: None,
        };
        server.restart();
        server
    }

    /// Starts it again on the same address, after [`TestServer::shutdown`] or
    /// [`TestServer::kill`].
    pub fn restart(&mut self) {
        assert!(self.running.is_none(), "the server is already running");
        let (config, sockets) = self.launch.bind();
        let (stop, stopped) = oneshot::channel();
        let task = tokio::spawn(serve(config, sockets, stopped));
        self.running = Some(Task { stop, task });
    }

    /// Triggers graceful shutdown (clients get close 1001) and waits for `run` to return.
    pub async fn shutdown(&mut self) -> Result<(), howl::ServerError> {
        let Task { stop, task } = self.running.take().expect("the server is running");
        let _ = stop.send(());
        tokio::time::timeout(WAIT, task)
            .await
            .expect("shutdown finished in time")
            .unwrap()
    }

    /// Kills the server without goodbye: its task is aborted, so it stops serving and
    /// nothing is cleaned up (in Redis, say).
    pub async fn kill(&mut self) {
        let Task { task, .. } = self.running.take().expect("the server is running");
        task.abort();
        let _ = task.await;
    }
}

impl TestServer {
    /// The internal side (`--internal-listen` in the flags): the server API, metrics and
    /// trusted publishers.
    pub fn internal(&self) -> &Endpoint {
        self.launch.internal()
    }
}

impl std::ops::Deref for TestServer {
    type Target = Endpoint;
    fn deref(&self) -> &Endpoint {
        &self.launch.endpoint
    }
}

impl Drop for TestServer {
    fn drop(&mut self) {
        if let Some(running) = self.running.take() {
            running.task.abort();
        }
    }
}

/// A server on a thread and tokio runtime of its own: [`ThreadedServer::stop`] and
/// [`ThreadedServer::kill`] return once it has ended, [`ThreadedServer::restart`] once it
/// listens again.
pub struct ThreadedServer {
    launch: Launch,
    running: Option<Thread>,
}

struct Thread {
    stop: oneshot::Sender<()>,
    kill: oneshot::Sender<()>,
    thread: std::thread::JoinHandle<()>,
}

impl ThreadedServer {
    /// Starts a server with the test settings plus `flags` (e.g. `["--quote-interval", "0.2"]`).
    pub fn start(flags: &[&str]) -> Self {
        let mut server = Self {
            launch: Launch::new(flags),
            running: None,
        };
        server.restart();
        server
    }

    /// Starts it again on the same address, after [`ThreadedServer::stop`] or
    /// [`ThreadedServer::kill`].
    pub fn restart(&mut self) {
        assert!(self.running.is_none(), "the server is already running");
        let (config, sockets) = self.launch.bind();
        let (stop, stopped) = oneshot::channel();
        let (kill, killed) = oneshot::channel::<()>();
        let runtime = tokio::runtime::Builder::new_multi_thread()
            .worker_threads(2)
            .enable_all()
            .build()
            .expect("a tokio runtime");
        let thread = std::thread::Builder::new()
            .name("howl".into())
            .spawn(move || {
                runtime.block_on(async move {
                    tokio::select! {
                        result = serve(config, sockets, stopped) => {
                            if let Err(e) = result {
                                eprintln!("howl stopped with an error: {e}");
                            }
                        }
                        _ = killed => {}
                    }
                });
                // Dropping the runtime drops every task: connections vanish without close frames.
                runtime.shutdown_timeout(std::time::Duration::from_secs(5));
            })
            .expect("a thread for howl");
        self.running = Some(Thread { stop, kill, thread });
    }

    /// Graceful shutdown (clients get close 1001); returns once the server has finished.
    pub fn stop(&mut self) {
        if let Some(running) = self.running.take() {
            let _ = running.stop.send(());
            let _ = running.thread.join();
        }
    }

    /// Abrupt end, like a crash: every connection drops without a close frame.
    pub fn kill(&mut self) {
        if let Some(running) = self.running.take() {
            let _ = running.kill.send(());
            let _ = running.thread.join();
        }
    }
}

impl ThreadedServer {
    /// The internal side (`--internal-listen` in the flags).
    pub fn internal(&self) -> &Endpoint {
        self.launch.internal()
    }
}

impl std::ops::Deref for ThreadedServer {
    type Target = Endpoint;
    fn deref(&self) -> &Endpoint {
        &self.launch.endpoint
    }
}

impl Drop for ThreadedServer {
    fn drop(&mut self) {
        self.kill();
    }
}

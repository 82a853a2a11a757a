//! A real `howl` server in this process, on its own thread and tokio runtime, so a test can
//! stop it (gracefully: close 1001 to every client) or kill it (abruptly: sockets just drop),
//! and start it again on the same address.

use std::net::SocketAddr;
use std::thread::JoinHandle;
use tokio::sync::oneshot;

/// A running (or stopped) `howl`.
pub struct Howl {
    /// The address it listens on (kept across restarts).
    pub addr: SocketAddr,
    flags: Vec<String>,
    running: Option<Running>,
}

struct Running {
    stop: oneshot::Sender<()>,
    kill: oneshot::Sender<()>,
    thread: JoinHandle<()>,
}

impl Howl {
    /// Starts `howl` with the test defaults plus `flags` (e.g. `["--quote-interval", "0.2"]`)
    /// on 127.0.0.1, port 0.
    pub fn start(flags: &[&str]) -> anyhow::Result<Self> {
        let mut howl = Self {
            addr: "127.0.0.1:0".parse()?,
            flags: flags.iter().map(|f| f.to_string()).collect(),
            running: None,
        };
        howl.restart()?;
        Ok(howl)
    }

    /// Starts it again on the same address (after [`Howl::stop`] or [`Howl::kill`]).
    pub fn restart(&mut self) -> anyhow::Result<()> {
        anyhow::ensure!(self.running.is_none(), "howl is already running");
        let flags: Vec<&str> = self.flags.iter().map(String::as_str).collect();
        let config = howl::Config::for_tests(&flags);
        // std sets SO_REUSEADDR on Unix, so the old address is free at once after a stop.
        let listener = std::net::TcpListener::bind(self.addr)?;
        listener.set_nonblocking(true)?;
        self.addr = listener.local_addr()?;
        let (stop, stopped) = oneshot::channel::<()>();
        let (kill, killed) = oneshot::channel::<()>();
        let runtime = tokio::runtime::Builder::new_multi_thread()
            .worker_threads(2)
            .enable_all()
            .build()?;
        let thread = std::thread::Builder::new()
            .name("howl".into())
            .spawn(move || {
                runtime.block_on(async move {
                    let listener = tokio::net::TcpListener::from_std(listener).expect("listener");
                    let shutdown = async move {
                        let _ = stopped.await;
                    };
                    tokio::select! {
                        result = howl::run(config, listener, shutdown) => {
                            if let Err(e) = result {
                                eprintln!("howl stopped with an error: {e}");
                            }
                        }
                        _ = killed => {}
                    }
                });
                // Dropping the runtime drops every task: connections vanish without close frames.
                runtime.shutdown_timeout(std::time::Duration::from_secs(5));
            })?;
        self.running = Some(Running { stop, kill, thread });
        Ok(())
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

    /// `http://<addr><path>`.
    pub fn http_url(&self, path: &str) -> String {
        format!("http://{}{}", self.addr, path)
    }

    /// `ws://<addr>/ws`.
    pub fn ws_url(&self) -> String {
        format!("ws://{}/ws", self.addr)
    }

    /// GET `path`, parsed as JSON.
    pub async fn get_json(&self, path: &str) -> anyhow::Result<serde_json::Value> {
        Ok(reqwest::get(self.http_url(path)).await?.json().await?)
    }

    /// POST a JSON body to `path`; the status and the JSON answer.
    pub async fn post_json(
        &self,
        path: &str,
        body: &serde_json::Value,
    ) -> anyhow::Result<(u16, serde_json::Value)> {
        let response = reqwest::Client::new()
            .post(self.http_url(path))
            .json(body)
            .send()
            .await?;
        Ok((response.status().as_u16(), response.json().await?))
    }

    /// Subscribers of `channel` according to `GET /api/channels` (0 when not listed).
    pub async fn subscribers(&self, channel: &str) -> anyhow::Result<u64> {
        let list = self.get_json("/api/channels").await?;
        Ok(list["channels"]
            .as_array()
            .into_iter()
            .flatten()
            .find(|c| c["name"] == channel)
            .and_then(|c| c["subscribers"].as_u64())
            .unwrap_or(0))
    }
}

impl Drop for Howl {
    fn drop(&mut self) {
        self.kill();
    }
}

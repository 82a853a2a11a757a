//! The HTTP/1 layer under the routes: accepting TCP connections and serving each with hyper
//! (header-read and idle timeouts, WebSocket upgrades, a shutdown bounded in time), and the
//! limits of `/api` (concurrent requests, body timeout).
//!
//! Timeouts, by phase of a connection:
//! - waiting for a request head (a new connection, or a kept-alive one after its response):
//!   `--http-header-timeout`, hyper's header-read timer, which also closes idle keep-alive
//!   connections;
//! - reading an `/api` request body: `--http-body-timeout`, counted from the end of the head,
//!   answered 408 `request_timeout` and the connection closed;
//! - anything else (a handler, a response the client does not read): `--http-idle-timeout`
//!   of nothing read or written;
//! - after a WebSocket upgrade none of these apply: the connection has its heartbeat and write
//!   timeouts.

use crate::config::Config;
use crate::http_api::ApiError;
use crate::metrics::Metrics;
use axum::body::Body;
use axum::extract::{ConnectInfo, Request, State};
use axum::http::{header, HeaderValue, StatusCode};
use axum::middleware::Next;
use axum::response::{IntoResponse, Response};
use axum::Router;
use futures_util::StreamExt;
use howl_protocol::ErrorCode;
use hyper::server::conn::http1;
use hyper_util::rt::{TokioIo, TokioTimer};
use std::io;
use std::net::SocketAddr;
use std::pin::{pin, Pin};
use std::sync::atomic::{AtomicBool, Ordering::Relaxed};
use std::sync::Arc;
use std::task::{Context, Poll};
use std::time::Duration;
use tokio::io::{AsyncRead, AsyncWrite, ReadBuf};
use tokio::net::{TcpListener, TcpStream};
use tokio::sync::Semaphore;
use tokio::time::{sleep, timeout_at, Instant};
use tokio_util::sync::CancellationToken;
use tokio_util::task::TaskTracker;
use tower::ServiceExt;
use tracing::{debug, error, warn};

/// The HTTP connections being served, and the means to end them.
pub struct HttpConnections {
    tracker: TaskTracker,
    /// Asks every connection to close once its request in progress is answered.
    graceful: CancellationToken,
    /// Drops every connection at once.
    abort: CancellationToken,
    metrics: Arc<Metrics>,
    header_timeout: Duration,
    idle_timeout: Duration,
}

impl HttpConnections {
    /// No connections yet; each will have the timeouts in `config`.
    pub fn new(config: &Config, metrics: Arc<Metrics>) -> Self {
        Self {
            tracker: TaskTracker::new(),
            graceful: CancellationToken::new(),
            abort: CancellationToken::new(),
            metrics,
            header_timeout: config.http_header_timeout,
            idle_timeout: config.http_idle_timeout,
        }
    }

    /// Accepts connections on `listener` and serves `app` on each (with `TCP_NODELAY`, the
    /// peer's address as [`ConnectInfo`], and upgrades); never returns: drop the future to
    /// stop accepting.
    pub async fn accept(&self, listener: TcpListener, app: Router) {
        let mut builder = http1::Builder::new();
        builder
            .timer(TokioTimer::new())
            .header_read_timeout(self.header_timeout);
        loop {
            let (tcp, peer) = match listener.accept().await {
                Ok(accepted) => accepted,
                Err(error) => {
                    accept_failed(error).await;
                    continue;
                }
            };
            // Nagle's algorithm would hold a small frame back while an earlier one is
            // unacknowledged: tens of milliseconds on a real-time stream.
            if let Err(error) = tcp.set_nodelay(true) {
                debug!(%error, "cannot set TCP_NODELAY");
            }
            self.tracker
                .spawn(self.serve(builder.clone(), tcp, peer, app.clone()));
        }
    }

    /// Serves one connection until it closes, is upgraded, times out or is dropped at
    /// shutdown.
    fn serve(
        &self,
        builder: http1::Builder,
        tcp: TcpStream,
        peer: SocketAddr,
        app: Router,
    ) -> impl std::future::Future<Output = ()> + Send + 'static {
        let graceful = self.graceful.clone();
        let abort = self.abort.clone();
        let metrics = self.metrics.clone();
        let idle_timeout = self.idle_timeout;
        async move {
            let active = Arc::new(AtomicBool::new(false));
            let io = TokioIo::new(Watched {
                inner: tcp,
                active: active.clone(),
            });
            let service = hyper::service::service_fn(move |mut request: Request<_>| {
                request.extensions_mut().insert(ConnectInfo(peer));
                app.clone().oneshot(request.map(Body::new))
            });
            let mut conn = pin!(builder.serve_connection(io, service).with_upgrades());
            // The idle check runs four times per timeout: a connection is closed after a
            // quarter more than the timeout at most.
            let tick = idle_timeout / 4;
            let mut quiet_ticks = 0;
            let mut next_tick = Instant::now() + tick;
            let mut closing = false;
            loop {
                tokio::select! {
                    result = conn.as_mut() => {
                        match result {
                            Err(error) if error.is_timeout() => {
                                metrics.http.header_timeouts.fetch_add(1, Relaxed);
                                debug!(%peer, "no complete request head within the header timeout");
                            }
                            Err(error) => debug!(%peer, %error, "HTTP connection failed"),
                            Ok(()) => {}
                        }
                        return;
                    }
                    () = graceful.cancelled(), if !closing => {
                        closing = true;
                        conn.as_mut().graceful_shutdown();
                    }
                    () = abort.cancelled() => {
                        metrics.http.dropped_at_shutdown.fetch_add(1, Relaxed);
                        return;
                    }
                    () = tokio::time::sleep_until(next_tick) => {
                        next_tick = Instant::now() + tick;
                        if active.swap(false, Relaxed) {
                            quiet_ticks = 0;
                        } else {
                            quiet_ticks += 1;
                        }
                        if quiet_ticks >= 4 {
                            metrics.http.idle_timeouts.fetch_add(1, Relaxed);
                            debug!(%peer, "HTTP connection idle past the idle timeout");
                            return;
                        }
                    }
                }
            }
        }
    }

    /// Stops the connections: each closes once its request in progress is answered (idle
    /// ones at once); those still open at `deadline` are dropped. Returns how many were.
    pub async fn shut_down(&self, deadline: Instant) -> usize {
        self.tracker.close();
        self.graceful.cancel();
        if timeout_at(deadline, self.tracker.wait()).await.is_ok() {
            return 0;
        }
        let left = self.tracker.len();
        self.abort.cancel();
        self.tracker.wait().await;
        left
    }
}

async fn accept_failed(error: io::Error) {
    // A connection reset before it was accepted concerns that connection only.
    if matches!(
        error.kind(),
        io::ErrorKind::ConnectionRefused
            | io::ErrorKind::ConnectionAborted
            | io::ErrorKind::ConnectionReset
    ) {
        return;
    }
    // Out of file descriptors, say: accepting again at once would fail again at once.
    error!(%error, "cannot accept connections; retrying in a second");
    sleep(Duration::from_secs(1)).await;
}

/// The TCP stream under an upgraded HTTP connection of [`HttpConnections::accept`], with the
/// bytes the client sent past its request; the connection back when it is not one.
pub(crate) fn into_tcp(
    upgraded: hyper::upgrade::Upgraded,
) -> Result<crate::transport::upgrade::Upgraded, hyper::upgrade::Upgraded> {
    let parts = upgraded.downcast::<TokioIo<Watched>>()?;
    Ok(crate::transport::upgrade::Upgraded {
        stream: parts.io.into_inner().inner,
        read: parts.read_buf,
    })
}

/// A TCP stream that notes whether any byte moved since the idle check last looked.
struct Watched {
    inner: TcpStream,
    active: Arc<AtomicBool>,
}

impl AsyncRead for Watched {
    fn poll_read(
        self: Pin<&mut Self>,
        cx: &mut Context<'_>,
        buf: &mut ReadBuf<'_>,
    ) -> Poll<io::Result<()>> {
        let this = self.get_mut();
        let before = buf.filled().len();
        let result = Pin::new(&mut this.inner).poll_read(cx, buf);
        if buf.filled().len() > before {
            this.active.store(true, Relaxed);
        }
        result
    }
}

impl AsyncWrite for Watched {
    fn poll_write(
        self: Pin<&mut Self>,
        cx: &mut Context<'_>,
        buf: &[u8],
    ) -> Poll<io::Result<usize>> {
        let this = self.get_mut();
        let result = Pin::new(&mut this.inner).poll_write(cx, buf);
        if matches!(result, Poll::Ready(Ok(n)) if n > 0) {
            this.active.store(true, Relaxed);
        }
        result
    }

    fn poll_write_vectored(
        self: Pin<&mut Self>,
        cx: &mut Context<'_>,
        bufs: &[io::IoSlice<'_>],
    ) -> Poll<io::Result<usize>> {
        let this = self.get_mut();
        let result = Pin::new(&mut this.inner).poll_write_vectored(cx, bufs);
        if matches!(result, Poll::Ready(Ok(n)) if n > 0) {
            this.active.store(true, Relaxed);
        }
        result
    }

    fn is_write_vectored(&self) -> bool {
        self.inner.is_write_vectored()
    }

    fn poll_flush(self: Pin<&mut Self>, cx: &mut Context<'_>) -> Poll<io::Result<()>> {
        Pin::new(&mut self.get_mut().inner).poll_flush(cx)
    }

    fn poll_shutdown(self: Pin<&mut Self>, cx: &mut Context<'_>) -> Poll<io::Result<()>> {
        Pin::new(&mut self.get_mut().inner).poll_shutdown(cx)
    }
}

/// What `/api` requests share: the permits of `--api-max-concurrent` and the body timeout.
#[derive(Clone)]
pub struct ApiLimits {
    permits: Arc<Semaphore>,
    body_timeout: Duration,
    metrics: Arc<Metrics>,
}

impl ApiLimits {
    /// The limits in `config`, counted in `metrics`.
    pub fn new(config: &Config, metrics: Arc<Metrics>) -> Self {
        Self {
            permits: Arc::new(Semaphore::new(config.api_max_concurrent)),
            body_timeout: config.http_body_timeout,
            metrics,
        }
    }
}

/// The error a request body yields when it has not arrived whole within
/// `--http-body-timeout` of the request head.
#[derive(Debug, thiserror::Error)]
#[error("the request body did not arrive within {} s", .0.as_secs_f64())]
pub struct BodyTimeout(Duration);

impl BodyTimeout {
    /// The body timeout that caused `error` (found in its chain of sources), if one did.
    pub fn find<'a>(error: &'a (dyn std::error::Error + 'static)) -> Option<&'a BodyTimeout> {
        let mut next = Some(error);
        while let Some(error) = next {
            if let Some(timeout) = error.downcast_ref() {
                return Some(timeout);
            }
            next = error.source();
        }
        None
    }
}

/// Middleware of every `/api` request: refuses it with 503 `overloaded` when
/// `--api-max-concurrent` are in progress; gives its body a deadline and, when the body
/// missed it, closes the connection after the answer (408 `request_timeout`, see
/// [`BodyTimeout`]).
pub async fn limit_api(State(limits): State<ApiLimits>, request: Request, next: Next) -> Response {
    let metrics = &limits.metrics;
    let Ok(_permit) = limits.permits.clone().try_acquire_owned() else {
        metrics.http.api_rejected.fetch_add(1, Relaxed);
        metrics.count_error(ErrorCode::Overloaded);
        let mut response = ApiError::new(
            StatusCode::SERVICE_UNAVAILABLE,
            ErrorCode::Overloaded,
            "too many API requests at once; retry later",
        )
        .into_response();
        let retry = HeaderValue::from_static("1");
        response.headers_mut().insert(header::RETRY_AFTER, retry);
        return response;
    };
    let _in_flight = InFlight::enter(metrics);
    let timed_out = Arc::new(AtomicBool::new(false));
    let deadline = Instant::now() + limits.body_timeout;
    let request =
        request.map(|body| with_deadline(body, deadline, limits.body_timeout, timed_out.clone()));
    let mut response = next.run(request).await;
    if timed_out.load(Relaxed) {
        metrics.http.body_timeouts.fetch_add(1, Relaxed);
        warn!("request body timeout: closing the connection");
        let close = HeaderValue::from_static("close");
        response.headers_mut().insert(header::CONNECTION, close);
    }
    response
}

/// `body`, failing with [`BodyTimeout`] (and setting `timed_out`) if it has not ended by
/// `deadline`.
fn with_deadline(
    body: Body,
    deadline: Instant,
    timeout: Duration,
    timed_out: Arc<AtomicBool>,
) -> Body {
    let stream = futures_util::stream::unfold(Some(body.into_data_stream()), move |stream| {
        let timed_out = timed_out.clone();
        async move {
            let mut stream = stream?;
            match timeout_at(deadline, stream.next()).await {
                Ok(Some(chunk)) => Some((chunk, Some(stream))),
                Ok(None) => None,
                Err(_) => {
                    timed_out.store(true, Relaxed);
                    Some((Err(axum::Error::new(BodyTimeout(timeout))), None))
                }
            }
        }
    });
    Body::from_stream(stream)
}

/// Counts one `/api` request in progress for as long as it lives.
struct InFlight<'a>(&'a Metrics);

impl<'a> InFlight<'a> {
    fn enter(metrics: &'a Metrics) -> Self {
        metrics.http.api_in_flight.fetch_add(1, Relaxed);
        Self(metrics)
    }
}

impl Drop for InFlight<'_> {
    fn drop(&mut self) {
        self.0.http.api_in_flight.fetch_sub(1, Relaxed);
    }
}

//! The server: routes, the WebSocket upgrade, and [`run`] with graceful shutdown (the HTTP
//! connections themselves are served by [`crate::http_server`]).

use crate::config::Config;
use crate::connection;
use crate::http_api::{self, ApiError};
use crate::http_server::{ApiLimits, HttpConnections};
use crate::limits::{ConnectionLimits, Refusal};
use crate::logging::LogThrottle;
use crate::node::Node;
use crate::transport::upgrade::WebSocketUpgrade;
use axum::extract::{ConnectInfo, DefaultBodyLimit, State};
use axum::http::{header, HeaderMap, StatusCode};
use axum::response::{IntoResponse, Response};
use axum::routing::{any, get, post};
use axum::Router;
use howl_protocol::ErrorCode;
use std::future::Future;
use std::net::SocketAddr;
use std::sync::atomic::Ordering::Relaxed;
use std::sync::Arc;
use tokio::net::TcpListener;
use tokio_util::sync::CancellationToken;
use tokio_util::task::TaskTracker;
use tower_http::services::{ServeDir, ServeFile};
use tracing::{debug, info, warn};

/// What the request handlers share.
#[derive(Clone)]
struct AppState {
    node: Arc<Node>,
    config: Arc<Config>,
    shutdown: CancellationToken,
    connections: TaskTracker,
    limits: Arc<ConnectionLimits>,
    refusal_log: Arc<LogThrottle>,
    /// Whether this is the internal side (`--internal-listen`): the server API without the
    /// loopback rule, and WebSockets of trusted publishers.
    internal: bool,
}

/// The sockets Howl serves on: the public one, and the internal one of `--internal-listen`.
pub struct Listeners {
    /// Clients: WebSockets, the demo UI, `/healthz` (and `/api`, `/metrics` when there is no
    /// internal listener).
    pub public: TcpListener,
    /// Backends: `/api`, `/metrics`, `/healthz` and trusted publishers' WebSockets. When
    /// `None` and `--internal-listen` is set, [`run`] binds that address itself.
    pub internal: Option<TcpListener>,
}

impl From<TcpListener> for Listeners {
    fn from(public: TcpListener) -> Self {
        Self {
            public,
            internal: None,
        }
    }
}

impl axum::extract::FromRef<AppState> for Arc<Node> {
    fn from_ref(state: &AppState) -> Self {
        state.node.clone()
    }
}

/// Why the server stopped with an error.
#[derive(Debug, thiserror::Error)]
pub enum ServerError {
    /// Accepting or serving connections failed.
    #[error("server failed: {0}")]
    Io(#[from] std::io::Error),
    /// The broker could not be set up from the settings.
    #[error(transparent)]
    Broker(#[from] crate::broker::BrokerError),
    /// The internal address could not be bound.
    #[error("cannot listen on {address} (--internal-listen): {source}")]
    Bind {
        /// The address.
        address: SocketAddr,
        /// Why binding failed.
        source: std::io::Error,
    },
}

/// Serves Howl on `listeners` (a [`TcpListener`] for the public side alone) until
/// `shutdown` completes, with the Redis broker when `--redis-url` is set and the embedded
/// one otherwise.
pub async fn run(
    config: Config,
    listeners: impl Into<Listeners>,
    shutdown: impl Future<Output = ()> + Send + 'static,
) -> Result<(), ServerError> {
    let node = Node::from_config(&config)?;
    run_with_node(config, Arc::new(node), listeners, shutdown).await
}

/// Serves Howl on `listener` with a prepared node (and so any broker) until `shutdown`
/// completes; then stops accepting, answers the HTTP requests in progress, sends every
/// WebSocket client close 1001 after what was queued for it, and once all have closed or the
/// shutdown timeout has passed (dropping what is left), stops the broker and returns.
pub async fn run_with_node(
    config: Config,
    node: Arc<Node>,
    listeners: impl Into<Listeners>,
    shutdown: impl Future<Output = ()> + Send + 'static,
) -> Result<(), ServerError> {
    let Listeners { public, internal } = listeners.into();
    let internal = match (internal, config.internal_listen) {
        (Some(listener), _) => Some(listener),
        (None, Some(address)) => Some(
            TcpListener::bind(address)
                .await
                .map_err(|source| ServerError::Bind { address, source })?,
        ),
        (None, None) => None,
    };
    let config = Arc::new(config);
    let stop = CancellationToken::new();
    let state = AppState {
        node: node.clone(),
        config: config.clone(),
        shutdown: stop.clone(),
        connections: TaskTracker::new(),
        limits: ConnectionLimits::new(config.max_connections(), config.max_connections_per_ip),
        refusal_log: Arc::default(),
        internal: false,
    };
    let distributor = (!config.quote_interval.is_zero()).then(|| {
        tokio::spawn(crate::distributor::run(
            node.clone(),
            config.quote_interval,
            stop.clone(),
        ))
    });
    // Stopped only after the clients have gone, so their unsubscribes still reach the
    // cluster; dropped with this future (an aborted server), it dies without goodbye.
    let broker_stop = CancellationToken::new();
    let mut broker_tasks = node.broker.start(broker_stop.clone());

    info!(address = %public.local_addr()?, ws_path = %config.ws_path, broker = node.broker.kind(), "howl listening");
    if let Some(internal) = &internal {
        info!(address = %internal.local_addr()?, "internal side listening: server API, metrics, trusted publishers");
    }
    match &config.verifier {
        Some(verifier) => info!(algorithm = ?verifier.algorithm(), "secured mode: connections need a token"),
        None => warn!("open mode: no token key configured (--token-secret or --token-public-key), so any client may subscribe and publish"),
    }
    let http = HttpConnections::new(&config, node.metrics.clone());
    let public_side = http.accept(public, router(state.clone(), internal.is_some()));
    let internal_side = async {
        match internal {
            Some(listener) => {
                let state = AppState {
                    internal: true,
                    ..state.clone()
                };
                http.accept(listener, internal_router(state)).await;
            }
            None => std::future::pending().await,
        }
    };
    tokio::select! {
        () = public_side => {}
        () = internal_side => {}
        () = shutdown => {}
    }
    // The listener is closed. One deadline for everything the clients still get: HTTP
    // requests in progress are answered (idle connections close at once), WebSockets get
    // what was queued for them and close 1001; whatever is left then is dropped.
    info!("shutting down");
    let deadline = tokio::time::Instant::now() + config.shutdown_timeout;
    stop.cancel();
    state.connections.close();
    let (http_dropped, websockets) = tokio::join!(
        http.shut_down(deadline),
        tokio::time::timeout_at(deadline, state.connections.wait())
    );
    if http_dropped > 0 {
        warn!(
            dropped = http_dropped,
            "shutdown timeout passed with HTTP requests in progress: connections dropped"
        );
    }
    if websockets.is_err() {
        warn!(
            left = state.connections.len(),
            "shutdown timeout passed with connections still closing"
        );
    }
    if let Some(distributor) = distributor {
        let _ = distributor.await;
    }
    broker_stop.cancel();
    let broker_done = async { while broker_tasks.join_next().await.is_some() {} };
    if tokio::time::timeout(config.shutdown_timeout, broker_done)
        .await
        .is_err()
    {
        warn!("shutdown timeout passed with the broker still saying goodbye");
    }
    info!("stopped");
    Ok(())
}

/// `/api`: the server API, behind its key (or the loopback rule) and its limits.
fn api(state: &AppState) -> Router<AppState> {
    Router::new()
        .route("/channels", get(http_api::list_channels))
        .route("/channels/{channel}/publish", post(http_api::publish))
        .route("/channels/{channel}/history", get(http_api::history))
        .route("/channels/{channel}/presence", get(http_api::presence))
        .route("/users/{user}/{command}", post(http_api::user_command))
        .fallback(http_api::not_found)
        .layer(DefaultBodyLimit::max(state.config.max_message_size))
        .layer(axum::middleware::from_fn_with_state(
            ApiLimits::new(&state.config, state.node.metrics.clone()),
            crate::http_server::limit_api,
        ))
        .layer(axum::middleware::from_fn_with_state(
            state.clone(),
            guard_api,
        ))
}

/// The public side: WebSockets, the demo UI and `/healthz`, plus `/api` and `/metrics`
/// unless an internal side serves them.
fn router(state: AppState, has_internal: bool) -> Router {
    let router = Router::new()
        .route(&state.config.ws_path, any(upgrade))
        .route("/healthz", get(http_api::health));
    let router = if has_internal {
        router
            .route("/api", any(http_api::internal_only))
            .route("/api/{*rest}", any(http_api::internal_only))
            .route("/metrics", any(http_api::internal_only))
    } else {
        router
            .nest("/api", api(&state))
            .route("/metrics", get(http_api::metrics))
    };
    let router = match &state.config.ui_dir {
        Some(dir) => {
            let index = ServeFile::new(dir.join("index.html"));
            router.fallback_service(ServeDir::new(dir).fallback(index))
        }
        None if crate::ui::embedded_available() => router.fallback(crate::ui::embedded),
        None => router.route("/", get(crate::ui::not_built)),
    };
    router.with_state(state)
}

/// The internal side: the server API, metrics, health and trusted publishers' WebSockets.
fn internal_router(state: AppState) -> Router {
    Router::new()
        .route(&state.config.ws_path, any(upgrade))
        .nest("/api", api(&state))
        .route("/healthz", get(http_api::health))
        .route("/metrics", get(http_api::metrics))
        .fallback(http_api::not_found)
        .with_state(state)
}

/// Lets an `/api` request through only with the API key (`--api-key`, compared in constant
/// time) or, without one configured, from a loopback address or over the internal side
/// (whose address the operator keeps private).
async fn guard_api(
    State(state): State<AppState>,
    ConnectInfo(peer): ConnectInfo<SocketAddr>,
    request: axum::extract::Request,
    next: axum::middleware::Next,
) -> Response {
    let refusal = match &state.config.api_key {
        Some(key) => {
            let presented = request
                .headers()
                .get(header::AUTHORIZATION)
                .and_then(|v| v.to_str().ok())
                .and_then(|v| {
                    v.strip_prefix("Bearer ")
                        .or_else(|| v.strip_prefix("bearer "))
                })
                .map(str::trim);
            let matches = presented.is_some_and(|presented| {
                bool::from(subtle::ConstantTimeEq::ct_eq(
                    presented.as_bytes(),
                    key.expose().as_bytes(),
                ))
            });
            (!matches).then(|| {
                ApiError::new(
                    StatusCode::UNAUTHORIZED,
                    ErrorCode::Unauthorized,
                    "this API needs Authorization: Bearer <the API key>",
                )
            })
        }
        None if state.internal => None,
        None => (!peer.ip().to_canonical().is_loopback()).then(|| {
            ApiError::new(
                StatusCode::FORBIDDEN,
                ErrorCode::PermissionDenied,
                "without --api-key the API answers only loopback addresses",
            )
        }),
    };
    match refusal {
        Some(error) => {
            debug!(%peer, code = %error.code(), "API request refused");
            state.node.metrics.count_error(error.code());
            error.into_response()
        }
        None => next.run(request).await,
    }
}

async fn upgrade(
    State(state): State<AppState>,
    ConnectInfo(peer): ConnectInfo<SocketAddr>,
    headers: HeaderMap,
    ws: WebSocketUpgrade,
) -> Response {
    if state.shutdown.is_cancelled() {
        return ApiError::new(
            StatusCode::SERVICE_UNAVAILABLE,
            ErrorCode::ShuttingDown,
            "the server is shutting down",
        )
        .into_response();
    }
    if !origin_allowed(&state.config.allowed_origins, &headers) {
        warn!(%peer, origin = ?headers.get(header::ORIGIN), "WebSocket from a disallowed origin refused");
        state.node.metrics.count_error(ErrorCode::OriginNotAllowed);
        return ApiError::new(
            StatusCode::FORBIDDEN,
            ErrorCode::OriginNotAllowed,
            "this origin may not open WebSockets here",
        )
        .into_response();
    }
    let permit = match state.limits.admit(peer) {
        Ok(permit) => permit,
        Err(refusal) => return refuse(&state, peer, refusal),
    };
    ws.on_upgrade(
        move |socket| {
            let AppState {
                node,
                config,
                shutdown,
                connections,
                internal,
                ..
            } = state;
            let access = connection::Access {
                permit,
                trusted: internal,
            };
            connections.track_future(connection::serve(node, config, socket, access, shutdown))
        },
        move |error| warn!(%peer, %error, "WebSocket upgrade failed"),
    )
}

/// The answer to an upgrade over a connection limit: 503 when the node is full, 429 when
/// this address holds its share; counted, and logged at most once a second.
fn refuse(state: &AppState, peer: SocketAddr, refusal: Refusal) -> Response {
    let metrics = &state.node.metrics;
    metrics.count_error(ErrorCode::TooManyConnections);
    let (status, message) = match refusal {
        Refusal::Total(max) => {
            metrics.connections_refused_max.fetch_add(1, Relaxed);
            let message = format!("the server holds its maximum of {max} connections; retry later");
            (StatusCode::SERVICE_UNAVAILABLE, message)
        }
        Refusal::PerIp(max) => {
            metrics.connections_refused_per_ip.fetch_add(1, Relaxed);
            let message = format!("this address holds its maximum of {max} connections");
            (StatusCode::TOO_MANY_REQUESTS, message)
        }
    };
    if state.refusal_log.ready(crate::clock::now_millis()) {
        warn!(%peer, ?refusal, "WebSocket refused at a connection limit");
    }
    ApiError::new(status, ErrorCode::TooManyConnections, message).into_response()
}

fn origin_allowed(allowed: &[String], headers: &HeaderMap) -> bool {
    if allowed.is_empty() {
        return true;
    }
    // Clients that are not browsers send no Origin; the check guards against foreign pages.
    let Some(origin) = headers.get(header::ORIGIN) else {
        return true;
    };
    let Some(origin) = origin.to_str().ok().and_then(normalize_origin) else {
        return false;
    };
    allowed
        .iter()
        .filter_map(|a| normalize_origin(a))
        .any(|a| a == origin)
}

/// An origin in the form compared: `scheme://host[:port]`, lower case, without surrounding
/// spaces or a trailing `/`, and without the scheme's default port (http 80, https 443).
/// `None` for what is no origin (`null`, no scheme, no host, a bad port).
pub fn normalize_origin(text: &str) -> Option<String> {
    let text = text.trim().trim_end_matches('/').to_ascii_lowercase();
    let (scheme, authority) = text.split_once("://")?;
    if scheme.is_empty() || authority.is_empty() || authority.contains(['/', '@', ' ']) {
        return None;
    }
    // The port follows the last `:` outside an IPv6 literal's brackets.
    let (host, port) = match authority.rsplit_once(':') {
        Some((host, port)) if !port.contains(']') => (host, Some(port)),
        _ => (authority, None),
    };
    if host.is_empty() {
        return None;
    }
    let port = match port {
        Some(port) => Some(port.parse::<u16>().ok()?),
        None => None,
    };
    let default = match scheme {
        "http" | "ws" => Some(80),
        "https" | "wss" => Some(443),
        _ => None,
    };
    Some(match port {
        Some(port) if Some(port) != default => format!("{scheme}://{host}:{port}"),
        _ => format!("{scheme}://{host}"),
    })
}

#[cfg(test)]
mod tests {
    use super::normalize_origin;

    #[test]
    fn origins_compare_by_scheme_host_and_port() {
        let n = |s| normalize_origin(s);
        assert_eq!(
            n("HTTPS://App.Example.com:443"),
            n("https://app.example.com")
        );
        assert_eq!(n(" http://localhost:80/ "), n("http://localhost"));
        assert_eq!(
            n("http://localhost:8080").as_deref(),
            Some("http://localhost:8080")
        );
        assert_ne!(n("http://app.example.com"), n("https://app.example.com"));
        assert_ne!(
            n("https://app.example.com:8443"),
            n("https://app.example.com")
        );
        assert_eq!(n("http://[::1]:80").as_deref(), Some("http://[::1]"));
        assert_eq!(n("http://[::1]").as_deref(), Some("http://[::1]"));
        for bad in [
            "null",
            "",
            "app.example.com",
            "http://",
            "http://h:99999",
            "http://h:x",
        ] {
            assert_eq!(n(bad), None, "{bad}");
        }
    }
}

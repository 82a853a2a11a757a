//! One WebSocket connection: frames read from the socket go through its [`Session`]; frames
//! queued in its [`Outbox`] are written in batches, one flush per batch.
//!
//! - `requests`: carrying out what the session decided for each frame and user command.

mod requests;

use crate::clock::now_millis;
use crate::config::Config;
use crate::hub::ConnId;
use crate::limits::ConnectionPermit;
use crate::node::Node;
use crate::outbox::{Batch, Closing, Limit, Outbox};
use crate::session::{Admission, Session};
use crate::users::Commands;
use axum::extract::ws::{CloseFrame, Message, Utf8Bytes, WebSocket};
use futures_util::SinkExt;
use howl_protocol::{close, ErrorCode, ErrorPayload};
use std::net::SocketAddr;
use std::pin::Pin;
use std::sync::atomic::Ordering::Relaxed;
use std::sync::Arc;
use std::time::Duration;
use tokio::time::{sleep, timeout, Instant, Sleep};
use tokio_util::sync::CancellationToken;
use tracing::{debug, info, info_span, warn, Instrument, Span};

/// Why a connection ended.
#[derive(Debug)]
enum End {
    /// The client sent a close frame.
    ClientClosed,
    /// The client sent `disconnect`.
    Disconnect,
    /// The transport failed or closed without a close frame.
    Lost(String),
    /// Nothing arrived within the heartbeat timeout.
    HeartbeatTimeout,
    /// The outgoing queue overflowed.
    SlowConsumer(Limit),
    /// No valid `connect` arrived within the connect timeout.
    ConnectTimeout,
    /// The client kept exceeding its rate limits past the grace period.
    RateLimited,
    /// A write stayed blocked past the write timeout.
    WriteStalled,
    /// The client sent a message over the size limit.
    TooLarge(String),
    /// The client broke the WebSocket protocol; the close code says how.
    Protocol(u16, String),
    /// The server is shutting down.
    Shutdown,
    /// A token was refused (`error` already queued); the close code says how: 4003 or 4004.
    AuthFailed(u16),
    /// The server API disconnected the connection's user.
    Disconnected,
}

/// Serves one upgraded WebSocket until it ends, then removes it from every channel.
///
/// A plain function returning the future, not an `async fn`: a wrapping `async fn` would keep
/// its own copy of the moved-in socket in its state, and that state lives in every
/// connection's task for the connection's whole life.
pub fn serve(
    node: Arc<Node>,
    config: Arc<Config>,
    socket: WebSocket,
    peer: SocketAddr,
    access: Access,
    shutdown: CancellationToken,
) -> impl std::future::Future<Output = ()> + Send {
    let id = uuid::Uuid::new_v4().to_string();
    run(node, config, socket, id, peer, access, shutdown)
}

/// What a connection was let in with.
pub struct Access {
    /// Its place among the node's connections, held for the connection's life.
    pub permit: ConnectionPermit,
    /// Whether it is a trusted publisher (it came in on `--internal-listen`).
    pub trusted: bool,
}

/// The most one write takes from the queue: large enough that a saturated connection still
/// writes in big batches, small enough that it reads its client between them.
const BATCH: Batch = Batch {
    frames: 256,
    bytes: 256 * 1024,
};

struct Connection {
    node: Arc<Node>,
    config: Arc<Config>,
    conn: ConnId,
    outbox: Arc<Outbox>,
    session: Session,
    /// The client's address, for the log lines' span.
    peer: SocketAddr,
    /// The server API's commands for the connection's user, once it has one.
    commands: Option<Commands>,
    // Held for the connection's life: its place among the node's connections.
    _permit: ConnectionPermit,
}

// Builds the state outside the async block so the block captures each value once: an
// `async fn` keeps its arguments in its state beside whatever they are moved into, and that
// state is resident for the connection's whole life.
fn run(
    node: Arc<Node>,
    config: Arc<Config>,
    mut socket: WebSocket,
    id: String,
    peer: SocketAddr,
    access: Access,
    shutdown: CancellationToken,
) -> impl std::future::Future<Output = ()> + Send {
    let mut this = Connection {
        conn: node.next_conn_id(),
        outbox: Arc::new(Outbox::new(config.outbox_capacity, config.outbox_max_bytes)),
        session: Session::new(id, &config.session_limits())
            .secured(config.verifier.clone())
            .with_permissions(config.permissions.clone())
            .trusted(access.trusted),
        peer,
        commands: None,
        node,
        config,
        _permit: access.permit,
    };
    async move {
        this.node.metrics.connections_open.fetch_add(1, Relaxed);
        this.node.metrics.connections_total.fetch_add(1, Relaxed);
        this.span().in_scope(|| info!("connected"));
        this.push(&this.session.initial());

        // One timer for liveness: it fires when the client has been silent for the ping
        // interval (then it gets a WebSocket Ping) or for the heartbeat timeout (then it is
        // dropped), whichever comes first.
        let mut last_heard = Instant::now();
        let liveness = sleep(this.config.silence_before_check());
        tokio::pin!(liveness);
        // Its own timer: what arrives before `connect` (pings included) resets only the
        // heartbeat, never this deadline.
        let connect_deadline = sleep(this.config.connect_timeout);
        tokio::pin!(connect_deadline);
        // Only a connection whose token has an `exp` gets a timer for it (boxed, so an idle
        // connection without one pays nothing); `armed_for` is the expiry it is set to.
        let mut expiry: Option<Pin<Box<Sleep>>> = None;
        let mut armed_for: Option<u64> = None;
        // Not `biased`: under a steady fan-out the queue is always ready, and a fixed order
        // would never get to reading the client (pings, unsubscribes) or to the timers.
        let end = loop {
            tokio::select! {
                _ = shutdown.cancelled() => break End::Shutdown,
                _ = &mut connect_deadline, if !this.session.is_connected() => break End::ConnectTimeout,
                _ = this.outbox.ready() => {
                    // Boxed: the write state lives only while writing, not in every idle connection.
                    if let Err(end) = Box::pin(this.write_queued(&mut socket)).await {
                        break end;
                    }
                }
                incoming = socket.recv() => {
                    last_heard = Instant::now();
                    liveness.as_mut().reset(last_heard + this.config.silence_before_check());
                    match incoming {
                        None => break End::Lost("closed without a close frame".into()),
                        Some(Err(error)) => break read_error(error),
                        Some(Ok(Message::Text(text))) => {
                            let span = this.span();
                            if let Some(end) = Box::pin(this.on_text(&text).instrument(span.clone())).await {
                                break end;
                            }
                            let _entered = span.enter();
                            if this.commands.is_none() {
                                if let Some(user) = this.session.user() {
                                    this.commands = Some(this.node.hub.users.add(&user.id, this.conn));
                                }
                            }
                            let expires = this.session.expires_at_ms();
                            if expires != armed_for {
                                armed_for = expires;
                                expiry = expires.map(|at| {
                                    let left = Duration::from_millis(at.saturating_sub(now_millis()));
                                    Box::pin(sleep(left))
                                });
                            }
                        }
                        Some(Ok(Message::Binary(_))) => match this.session.admit_other(now_millis()) {
                            Admission::Admitted => this.span().in_scope(|| this.reject(ErrorPayload::new(
                                ErrorCode::BinaryFrame,
                                "binary frames are not supported; send JSON text frames",
                            ))),
                            Admission::Close => break End::RateLimited,
                            Admission::RateLimited => this.span().in_scope(|| this.reject(ErrorPayload::new(
                                ErrorCode::RateLimited,
                                "too many frames: this one was not processed; slow down",
                            ))),
                        },
                        Some(Ok(Message::Close(_))) => break End::ClientClosed,
                        // tungstenite answers WebSocket pings itself; both count as activity.
                        Some(Ok(Message::Ping(_) | Message::Pong(_))) => {}
                    }
                }
                _ = &mut liveness => {
                    let now = Instant::now();
                    let deadline = last_heard + this.config.heartbeat_timeout;
                    if now >= deadline {
                        break End::HeartbeatTimeout;
                    }
                    if let Err(end) = Box::pin(this.ping(&mut socket)).await {
                        break end;
                    }
                    liveness.as_mut().reset((now + this.config.ws_ping_interval).min(deadline));
                }
                Some(command) = async {
                    match this.commands.as_mut() {
                        Some(commands) => commands.recv().await,
                        None => std::future::pending().await,
                    }
                } => {
                    // Boxed like the frame handler: inline, its state (a subscribe through the
                    // broker, ~1.1 KB) would be reserved in every idle connection's task.
                    let span = this.span();
                    if let Some(end) = Box::pin(this.on_command(command).instrument(span)).await {
                        break end;
                    }
                }
                _ = async {
                    match expiry.as_mut() {
                        Some(timer) => timer.await,
                        None => std::future::pending().await,
                    }
                } => {
                    this.span().in_scope(|| this.reject(Session::expired_error()));
                    break End::AuthFailed(close::TOKEN_EXPIRED);
                }
            }
        };

        let span = this.span();
        {
            let _entered = span.enter();
            // Leave every channel first, so nothing more is queued while the connection closes.
            for channel in this.session.subscriptions() {
                this.node.unsubscribe(channel, this.conn);
            }
            for channel in this.session.watches() {
                this.node.unwatch(channel, this.conn);
            }
            if let (Some(_), Some(user)) = (this.commands.take(), this.session.user()) {
                this.node.hub.users.remove(&user.id, this.conn);
            }
        }
        Box::pin(this.finish(&mut socket, end).instrument(span.clone())).await;
        let (undelivered, _) = this.outbox.drain();
        if !undelivered.is_empty() {
            this.node
                .metrics
                .frames_dropped
                .fetch_add(undelivered.len() as u64, Relaxed);
            span.in_scope(|| {
                warn!(
                    frames = undelivered.len(),
                    "connection ended with frames it never received"
                )
            });
        }
        this.node.metrics.connections_open.fetch_sub(1, Relaxed);
    }
}

fn read_error(error: axum::Error) -> End {
    match error.into_inner().downcast::<tungstenite::Error>() {
        Ok(error) => match *error {
            tungstenite::Error::Capacity(e) => End::TooLarge(e.to_string()),
            tungstenite::Error::Utf8(e) => End::Protocol(close::INVALID_DATA, e),
            tungstenite::Error::Protocol(e) => End::Protocol(close::PROTOCOL_ERROR, e.to_string()),
            other => End::Lost(other.to_string()),
        },
        Err(other) => End::Lost(other.to_string()),
    }
}

fn close_message(code: u16, reason: &'static str) -> Message {
    Message::Close(Some(CloseFrame {
        code,
        reason: Utf8Bytes::from_static(reason),
    }))
}

impl Connection {
    /// The span of the connection's log lines (`connection{id, peer}`). Made for each piece
    /// of work that may log rather than held for the connection's life: a span lives in the
    /// log subscriber's registry with its formatted fields (~400 B per idle connection),
    /// and entering it on every poll of the write path cost CPU per delivery.
    fn span(&self) -> Span {
        info_span!("connection", id = %self.session.id(), peer = %self.peer)
    }

    /// Sends a WebSocket Ping. Browsers answer it without running any script, so a page whose
    /// timers are throttled in a background tab still counts as alive.
    async fn ping(&self, socket: &mut WebSocket) -> Result<(), End> {
        self.node.metrics.ws_pings.fetch_add(1, Relaxed);
        match timeout(
            self.config.write_timeout,
            socket.send(Message::Ping(Default::default())),
        )
        .await
        {
            Err(_) => Err(End::WriteStalled),
            Ok(Err(error)) => Err(End::Lost(error.to_string())),
            Ok(Ok(())) => Ok(()),
        }
    }

    /// Writes the queued frames, up to one batch, with one flush.
    async fn write_queued(&self, socket: &mut WebSocket) -> Result<(), End> {
        let (frames, close) = self.outbox.drain_batch(BATCH);
        if !frames.is_empty() {
            let write = timeout(self.config.write_timeout, async {
                for frame in frames {
                    socket.feed(Message::Text(frame)).await?;
                }
                socket.flush().await
            });
            tokio::pin!(write);
            // While a write is blocked the fan-out keeps queueing: an overflow drops the
            // client at once instead of after the write timeout.
            let written = loop {
                tokio::select! {
                    written = &mut write => break written,
                    _ = self.outbox.ready() => {
                        if let Some(Closing::SlowConsumer(limit)) = self.outbox.closing() {
                            return Err(End::SlowConsumer(limit));
                        }
                    }
                }
            };
            // The wake-ups taken above were for frames still queued: keep the writer going.
            if !self.outbox.is_empty() {
                self.outbox.wake();
            }
            match written {
                Err(_) => return Err(End::WriteStalled),
                Ok(Err(error)) => return Err(End::Lost(error.to_string())),
                Ok(Ok(())) => {}
            }
        }
        match close {
            Some(Closing::SlowConsumer(limit)) => Err(End::SlowConsumer(limit)),
            None => Ok(()),
        }
    }

    /// Logs and counts how the connection ended and sends the close frame that says why.
    async fn finish(&self, socket: &mut WebSocket, end: End) {
        let metrics = &self.node.metrics;
        let close = match &end {
            End::ClientClosed => {
                info!("client closed the connection");
                None
            }
            End::Disconnect => {
                info!("client disconnected");
                Some((close::NORMAL, "disconnect"))
            }
            End::Lost(reason) => {
                info!(%reason, "connection lost");
                return;
            }
            End::HeartbeatTimeout => {
                metrics.heartbeat_timeouts.fetch_add(1, Relaxed);
                info!(timeout = ?self.config.heartbeat_timeout, "no ping within the heartbeat timeout");
                Some((close::HEARTBEAT_TIMEOUT, "heartbeat timeout"))
            }
            End::SlowConsumer(limit) => {
                metrics.slow_consumers_dropped.fetch_add(1, Relaxed);
                if *limit == Limit::Bytes {
                    metrics.outbox_bytes_overflows.fetch_add(1, Relaxed);
                }
                warn!(
                    capacity = self.config.outbox_capacity,
                    max_bytes = self.config.outbox_max_bytes,
                    ?limit,
                    "outgoing queue overflowed: dropping slow consumer"
                );
                Some((close::SLOW_CONSUMER, "slow consumer"))
            }
            End::ConnectTimeout => {
                metrics.connect_timeouts.fetch_add(1, Relaxed);
                debug!(timeout = ?self.config.connect_timeout, "no connect within the connect timeout");
                Some((close::HANDSHAKE_TIMEOUT, "connect timeout"))
            }
            End::RateLimited => {
                metrics.rate_limit_closes.fetch_add(1, Relaxed);
                warn!(grace = ?self.config.client_rate_grace, "client kept exceeding its rate limits: closing");
                Some((close::RATE_LIMITED, "rate limited"))
            }
            End::WriteStalled => {
                metrics.slow_consumers_dropped.fetch_add(1, Relaxed);
                warn!(timeout = ?self.config.write_timeout, "write blocked past the write timeout: dropping slow consumer");
                // The socket does not take writes, so a close frame could not go out either.
                return;
            }
            End::TooLarge(reason) => {
                metrics.oversized_messages.fetch_add(1, Relaxed);
                metrics.count_error(ErrorCode::MessageTooLarge);
                warn!(%reason, limit = self.config.max_message_size, "message over the size limit");
                Some((close::MESSAGE_TOO_BIG, "message too big"))
            }
            End::Protocol(code, reason) => {
                metrics.protocol_errors.fetch_add(1, Relaxed);
                info!(%reason, code, "client broke the WebSocket protocol");
                Some((*code, "protocol error"))
            }
            End::Shutdown => {
                debug!("server shutting down");
                Some((close::GOING_AWAY, "server shutting down"))
            }
            End::AuthFailed(code) if *code == close::TOKEN_EXPIRED => {
                info!("token expired: closing");
                Some((close::TOKEN_EXPIRED, "token expired"))
            }
            End::AuthFailed(code) => {
                info!(code, "token refused: closing");
                Some((*code, "unauthorized"))
            }
            End::Disconnected => {
                metrics.user_disconnects.fetch_add(1, Relaxed);
                info!("disconnected through the server API");
                Some((close::DISCONNECTED, "disconnected"))
            }
        };
        let closing = async {
            // What was queued before the end is still delivered, so a client closed for its
            // own behaviour still hears the replies (and `rate_limited` errors) it was sent.
            if matches!(
                end,
                End::Shutdown
                    | End::Disconnect
                    | End::RateLimited
                    | End::ConnectTimeout
                    | End::AuthFailed(_)
                    | End::Disconnected
            ) {
                while !self.outbox.is_empty() {
                    if self.write_queued(socket).await.is_err() {
                        break;
                    }
                }
            }
            if let Some((code, reason)) = close {
                let _ = socket.send(close_message(code, reason)).await;
            }
            // A refused client may have sent frames right behind the refused one (the SDK pings
            // behind `connect`). Closing the TCP connection with those unread makes the kernel
            // answer with a reset, and a browser then reports 1006 instead of 4003/4004, the
            // codes that decide whether it may reconnect (as does 4006). So finish the closing
            // handshake: read (and drop) what the client sent until its close frame.
            if matches!(end, End::AuthFailed(_) | End::Disconnected) {
                while let Some(Ok(message)) = socket.recv().await {
                    if matches!(message, Message::Close(_)) {
                        break;
                    }
                }
            }
            let _ = socket.close().await;
        };
        if timeout(
            self.config.write_timeout.min(Duration::from_secs(5)),
            closing,
        )
        .await
        .is_err()
        {
            debug!("client did not take the close frame in time");
        }
    }
}

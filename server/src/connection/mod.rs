//! One WebSocket connection: frames read from the socket go through its [`Session`]; frames
//! for it are written by whoever pushes them to its [`Outbox`] while nothing is queued, and
//! by this loop, one `sendmsg` per wake-up, once something is.
//!
//! - `requests`: carrying out what the session decided for each frame and user command.

mod requests;

use crate::clock::now_millis;
use crate::config::Config;
use crate::hub::ConnId;
use crate::limits::ConnectionPermit;
use crate::node::Node;
use crate::outbox::{Frame, Limit, Outbox, WriteError};
use crate::session::{Admission, Session};
use crate::transport::upgrade::Upgraded;
use crate::transport::{Incoming, ReadError, Reader};
use crate::users::{Commands, UserCommand};
use howl_protocol::{close, ErrorCode, ErrorPayload};
use std::future::Future;
use std::pin::Pin;
use std::sync::atomic::Ordering::Relaxed;
use std::sync::Arc;
use std::task::{Context, Poll};
use std::time::Duration;
use tokio::time::{sleep, sleep_until, timeout, Instant, Sleep};
use tokio_util::sync::{CancellationToken, WaitForCancellationFuture};
use tracing::{debug, info, info_span, warn, Instrument, Span};

/// Why a connection ended.
#[derive(Debug)]
enum End {
    /// The client sent a close frame (with this code, if any).
    ClientClosed(Option<u16>),
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

/// What woke a connection's loop.
enum Wake {
    /// The server is shutting down.
    Shutdown,
    /// Frames are queued (or the queue overflowed).
    Queued,
    /// The client's socket has bytes (or an error) to read.
    Readable,
    /// The connect deadline or the liveness check is due.
    Timer,
    /// The server API sent a command for the connection's user.
    Command(UserCommand),
    /// The token expired.
    Expired,
}

/// Serves one upgraded WebSocket until it ends, then removes it from every channel.
///
/// A plain function returning the future, not an `async fn`: a wrapping `async fn` would keep
/// its own copy of the moved-in socket in its state, and that state lives in every
/// connection's task for the connection's whole life. The connection's tracing span is made
/// only while it handles something (see `Connection::span`), so an idle connection holds
/// none.
pub fn serve(
    node: Arc<Node>,
    config: Arc<Config>,
    socket: Upgraded,
    access: Access,
    shutdown: CancellationToken,
) -> impl std::future::Future<Output = ()> + Send {
    let id = uuid::Uuid::new_v4();
    run(node, config, socket, id, access, shutdown)
}

/// What a connection was let in with.
pub struct Access {
    /// Its place among the node's connections, held for the connection's life (with the
    /// client's address).
    pub permit: ConnectionPermit,
    /// Whether it is a trusted publisher (it came in on `--internal-listen`).
    pub trusted: bool,
}

struct Connection {
    node: Arc<Node>,
    reader: Reader,
    config: Arc<Config>,
    conn: ConnId,
    outbox: Arc<Outbox>,
    session: Session,
    /// The server API's commands for the connection's user, once it has one.
    commands: Option<Commands>,
    /// Held for the connection's life: its place among the node's connections (and the
    /// client's address, for the log lines' span).
    permit: ConnectionPermit,
}

// Builds the state outside the async block so the block captures each value once: an
// `async fn` keeps its arguments in its state beside whatever they are moved into, and that
// state is resident for the connection's whole life.
fn run(
    node: Arc<Node>,
    config: Arc<Config>,
    socket: Upgraded,
    id: uuid::Uuid,
    access: Access,
    shutdown: CancellationToken,
) -> impl std::future::Future<Output = ()> + Send {
    let mut this = Connection {
        conn: node.next_conn_id(),
        reader: Reader::new(
            socket.read,
            config.max_message_size,
            config.read_buffer_size,
        ),
        outbox: Arc::new(Outbox::for_socket(
            config.outbox_capacity,
            config.outbox_max_bytes,
            config.write_buffer_size,
            socket.stream,
        )),
        session: Session::new(id, &config.session_limits())
            .secured(config.verifier.clone())
            .with_permissions(config.permissions.clone())
            .trusted(access.trusted),
        commands: None,
        node,
        config,
        permit: access.permit,
    };
    async move {
        this.node.metrics.connections_open.fetch_add(1, Relaxed);
        this.node.metrics.connections_total.fetch_add(1, Relaxed);
        this.span().in_scope(|| info!("connected"));
        this.push(&this.session.initial());

        // One timer for the connect deadline (until `connect`) and for liveness: the client
        // gets a WebSocket Ping once silent for the ping interval, and is dropped once
        // silent for the heartbeat timeout. What arrives before `connect` (pings included)
        // moves only the liveness check, never the connect deadline.
        let connect_by = Instant::now() + this.config.connect_timeout;
        let mut last_heard = Instant::now();
        let timer = sleep_until((last_heard + this.config.silence_before_check()).min(connect_by));
        tokio::pin!(timer);
        // Made once: a fresh one per wait would be more state to poll and to keep.
        let cancelled = shutdown.cancelled();
        tokio::pin!(cancelled);
        // Only a connection whose token has an `exp` gets a timer for it (boxed, so an idle
        // connection without one pays nothing), with the expiry (Unix ms) it is set to.
        let mut expiry: Option<(u64, Pin<Box<Sleep>>)> = None;
        let mut reads_first = false;
        let end = loop {
            // Polled in place rather than through `select!`: `select!` keeps a future per
            // branch in the task (~420 B per idle connection); these polls keep none.
            reads_first = !reads_first;
            let wake = std::future::poll_fn(|cx| {
                this.poll_wake(
                    cx,
                    cancelled.as_mut(),
                    timer.as_mut(),
                    &mut expiry,
                    reads_first,
                )
            })
            .await;
            match wake {
                Wake::Shutdown => break End::Shutdown,
                Wake::Queued => {
                    if let Err(end) = this.write_queued().await {
                        break end;
                    }
                }
                Wake::Timer => {
                    // Due: the connect deadline, else the liveness check (the timer is set
                    // to the earlier of the two).
                    let now = Instant::now();
                    if !this.session.is_connected() && now >= connect_by {
                        break End::ConnectTimeout;
                    }
                    let deadline = last_heard + this.config.heartbeat_timeout;
                    if now >= deadline {
                        break End::HeartbeatTimeout;
                    }
                    let quiet_since = last_heard + this.config.silence_before_check();
                    if now < quiet_since {
                        // The connect deadline the timer was set to before `connect` came.
                        timer.as_mut().reset(quiet_since);
                        continue;
                    }
                    this.ping();
                    let check_at = (now + this.config.ws_ping_interval).min(deadline);
                    timer.as_mut().reset(this.next_check(check_at, connect_by));
                }
                Wake::Readable => {
                    let incoming = match this.reader.try_recv(
                        this.outbox
                            .socket()
                            .expect("a connection's outbox has its socket"),
                    ) {
                        Ok(None) => continue,
                        Ok(Some(incoming)) => Ok(incoming),
                        Err(error) => Err(error),
                    };
                    last_heard = Instant::now();
                    let check_at = last_heard + this.config.silence_before_check();
                    timer.as_mut().reset(this.next_check(check_at, connect_by));
                    match incoming {
                        Err(error) => break read_error(error),
                        Ok(Incoming::Text(text)) => {
                            if let Some(end) = Box::pin(this.on_text_frame(text)).await {
                                break end;
                            }
                            let expires = this.session.expires_at_ms();
                            if expires != expiry.as_ref().map(|(at, _)| *at) {
                                expiry = expires.map(|at| {
                                    let left =
                                        Duration::from_millis(at.saturating_sub(now_millis()));
                                    (at, Box::pin(sleep(left)))
                                });
                            }
                        }
                        Ok(Incoming::Binary(_)) => match this.session.admit_other(now_millis()) {
                            Admission::Admitted => this.span().in_scope(|| {
                                this.reject(ErrorPayload::new(
                                    ErrorCode::BinaryFrame,
                                    "binary frames are not supported; send JSON text frames",
                                ))
                            }),
                            Admission::Close => break End::RateLimited,
                            Admission::RateLimited => this.span().in_scope(|| {
                                this.reject(ErrorPayload::new(
                                    ErrorCode::RateLimited,
                                    "too many frames: this one was not processed; slow down",
                                ))
                            }),
                        },
                        Ok(Incoming::Close(close)) => {
                            break End::ClientClosed(close.map(|(code, _)| code))
                        }
                        // Both count as activity.
                        Ok(Incoming::Ping(payload)) => {
                            this.outbox.push(Frame::pong(&payload));
                        }
                        Ok(Incoming::Pong) => {}
                    }
                }
                Wake::Command(command) => {
                    // Boxed like the frame handler: inline, its state (a subscribe through the
                    // broker, ~1.1 KB) would be reserved in every idle connection's task.
                    let span = this.span();
                    if let Some(end) = Box::pin(this.on_command(command).instrument(span)).await {
                        break end;
                    }
                }
                Wake::Expired => {
                    this.span()
                        .in_scope(|| this.reject(Session::expired_error()));
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
        let dropped = Box::pin(this.finish(end).instrument(span.clone())).await;
        let undelivered = dropped + this.outbox.drain().0.len();
        if undelivered > 0 {
            this.node
                .metrics
                .frames_dropped
                .fetch_add(undelivered as u64, Relaxed);
            span.in_scope(|| {
                warn!(
                    frames = undelivered,
                    "connection ended with frames it never received"
                )
            });
        }
        this.node.metrics.connections_open.fetch_sub(1, Relaxed);
    }
}

fn read_error(error: ReadError) -> End {
    match error {
        ReadError::TooLarge { .. } => End::TooLarge(error.to_string()),
        ReadError::InvalidUtf8 => End::Protocol(close::INVALID_DATA, error.to_string()),
        ReadError::Protocol(_) => End::Protocol(close::PROTOCOL_ERROR, error.to_string()),
        ReadError::Io(_) | ReadError::Eof => End::Lost(error.to_string()),
    }
}

impl Connection {
    /// The span of the connection's log lines (`connection{id, peer}`). Made for each piece
    /// of work that may log rather than held for the connection's life: a span lives in the
    /// log subscriber's registry with its formatted fields (~400 B per idle connection),
    /// and entering it on every poll of the write path cost CPU per delivery.
    fn span(&self) -> Span {
        info_span!("connection", id = %self.session.id(), peer = %self.permit.peer())
    }

    /// Handles a text frame, in its span; boxed by the caller, so the frame and the span
    /// take room in the connection's task only while a frame is handled.
    async fn on_text_frame(&mut self, text: String) -> Option<End> {
        let span = self.span();
        if let Some(end) = self.on_text(&text).instrument(span.clone()).await {
            return Some(end);
        }
        if self.commands.is_none() {
            if let Some(user) = self.session.user() {
                let _entered = span.enter();
                self.commands = Some(self.node.hub.users.add(&user.id, self.conn));
            }
        }
        None
    }

    /// What the connection has to do next, if anything: the shutdown first, then its
    /// client's frames and its queued frames, alternately first (`reads_first`) so neither
    /// starves the other under a steady fan-out, then its timers and user commands.
    fn poll_wake(
        &mut self,
        cx: &mut Context<'_>,
        cancelled: Pin<&mut WaitForCancellationFuture<'_>>,
        timer: Pin<&mut Sleep>,
        expiry: &mut Option<(u64, Pin<Box<Sleep>>)>,
        reads_first: bool,
    ) -> Poll<Wake> {
        if cancelled.poll(cx).is_ready() {
            return Poll::Ready(Wake::Shutdown);
        }
        // A read error is found by the read itself.
        let socket = self
            .outbox
            .socket()
            .expect("a connection's outbox has its socket");
        let readable = |cx: &mut Context<'_>| socket.poll_read_ready(cx).is_ready();
        if reads_first && readable(cx) {
            return Poll::Ready(Wake::Readable);
        }
        if self.outbox.poll_ready(cx).is_ready() {
            return Poll::Ready(Wake::Queued);
        }
        if !reads_first && readable(cx) {
            return Poll::Ready(Wake::Readable);
        }
        if timer.poll(cx).is_ready() {
            return Poll::Ready(Wake::Timer);
        }
        if let Some(commands) = self.commands.as_mut() {
            if let Poll::Ready(Some(command)) = commands.poll_recv(cx) {
                return Poll::Ready(Wake::Command(command));
            }
        }
        if let Some((_, timer)) = expiry.as_mut() {
            if timer.as_mut().poll(cx).is_ready() {
                return Poll::Ready(Wake::Expired);
            }
        }
        Poll::Pending
    }

    /// When the timer should next fire: at the liveness check, or at the connect deadline
    /// while the client has not connected.
    fn next_check(&self, check_at: Instant, connect_by: Instant) -> Instant {
        if self.session.is_connected() {
            check_at
        } else {
            check_at.min(connect_by)
        }
    }

    /// Sends a WebSocket Ping. Browsers answer it without running any script, so a page whose
    /// timers are throttled in a background tab still counts as alive.
    fn ping(&self) {
        self.node.metrics.ws_pings.fetch_add(1, Relaxed);
        self.outbox.push(Frame::ping());
    }

    /// Writes the queued frames, up to one batch, with one `sendmsg`; waits (boxed, so the
    /// waiting state exists only while a socket is blocked) when the socket takes less.
    async fn write_queued(&self) -> Result<(), End> {
        let written = match self.outbox.write_now(self.outbox.batch()) {
            Ok(true) => Ok(()),
            Ok(false) => {
                Box::pin(
                    self.outbox
                        .write(self.outbox.batch(), self.config.write_timeout),
                )
                .await
            }
            Err(error) => Err(error),
        };
        written.map_err(|error| match error {
            WriteError::SlowConsumer(limit) => End::SlowConsumer(limit),
            WriteError::Stalled => End::WriteStalled,
            WriteError::Io(error) => End::Lost(error.to_string()),
        })
    }

    /// Logs and counts how the connection ended and sends the close frame that says why.
    /// Returns how many queued frames were dropped.
    async fn finish(&mut self, end: End) -> usize {
        let metrics = &self.node.metrics;
        let close = match &end {
            End::ClientClosed(code) => {
                info!("client closed the connection");
                // The reply echoes the client's code (RFC 6455 §5.5.1).
                code.map(|code| (code, ""))
            }
            End::Disconnect => {
                info!("client disconnected");
                Some((close::NORMAL, "disconnect"))
            }
            End::Lost(reason) => {
                info!(%reason, "connection lost");
                return 0;
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
                return 0;
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
        // What was queued before the end is still delivered, so a client closed for its
        // own behaviour still hears the replies (and `rate_limited` errors) it was sent.
        let keep_queued = matches!(
            end,
            End::Shutdown
                | End::Disconnect
                | End::RateLimited
                | End::ConnectTimeout
                | End::AuthFailed(_)
                | End::Disconnected
        );
        let dropped = self.outbox.seal(keep_queued, Some(Frame::close(close)));
        let (outbox, reader) = (&self.outbox, &mut self.reader);
        let stream = outbox
            .socket()
            .expect("a connection's outbox has its socket");
        let closing = async {
            if outbox.flush().await.is_err() {
                return;
            }
            // A refused client may have sent frames right behind the refused one (the SDK pings
            // behind `connect`). Closing the TCP connection with those unread makes the kernel
            // answer with a reset, and a browser then reports 1006 instead of 4003/4004, the
            // codes that decide whether it may reconnect (as does 4006). So finish the closing
            // handshake: read (and drop) what the client sent until its close frame.
            if matches!(end, End::AuthFailed(_) | End::Disconnected) {
                while let Ok(message) = reader.recv(stream).await {
                    if matches!(message, Incoming::Close(_)) {
                        break;
                    }
                }
            }
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
        dropped
    }
}

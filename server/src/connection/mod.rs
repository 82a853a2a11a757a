//! One WebSocket connection: frames read from the socket go through its [`Session`]; frames
//! for it are written by the fan-out's flush (a reply: by whoever pushes it to its
//! [`Outbox`] while nothing is queued), and by this loop, one `sendmsg` per wake-up, for what
//! the socket did not take at once.
//!
//! - `requests`: carrying out what the session decided for each frame and user command.
//! - `end`: how a connection ends, and the close frame that says why.

mod end;
mod requests;

use crate::clock::now_millis;
use crate::config::Config;
use crate::hub::ConnId;
use crate::limits::ConnectionPermit;
use crate::node::Node;
use crate::outbox::{Frame, Outbox, WriteError};
use crate::session::{Admission, Session};
use crate::transport::upgrade::Upgraded;
use crate::transport::{Incoming, Reader};
use crate::users::{Commands, UserCommand};
use end::{read_error, End};
use howl_protocol::{close, ErrorCode, ErrorPayload};
use std::future::Future;
use std::pin::Pin;
use std::sync::atomic::Ordering::Relaxed;
use std::sync::Arc;
use std::task::{Context, Poll};
use std::time::Duration;
use tokio::time::{sleep, sleep_until, Instant, Sleep};
use tokio_util::sync::{CancellationToken, WaitForCancellationFuture};
use tracing::{info, info_span, warn, Instrument, Span};

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
}

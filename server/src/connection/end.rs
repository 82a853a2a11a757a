//! How a connection ends: why ([`End`]), what is logged and counted, and the close frame
//! that tells the client.

use super::Connection;
use crate::outbox::{Frame, Limit};
use crate::transport::{Incoming, ReadError};
use howl_protocol::{close, ErrorCode};
use std::sync::atomic::Ordering::Relaxed;
use std::time::Duration;
use tokio::time::timeout;
use tracing::{debug, info, warn};

/// Why a connection ended.
#[derive(Debug)]
pub(super) enum End {
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

pub(super) fn read_error(error: ReadError) -> End {
    match error {
        ReadError::TooLarge { .. } => End::TooLarge(error.to_string()),
        ReadError::InvalidUtf8 => End::Protocol(close::INVALID_DATA, error.to_string()),
        ReadError::Protocol(_) => End::Protocol(close::PROTOCOL_ERROR, error.to_string()),
        ReadError::Io(_) | ReadError::Eof => End::Lost(error.to_string()),
    }
}

impl Connection {
    /// Logs and counts how the connection ended and sends the close frame that says why.
    /// Returns how many queued frames were dropped.
    pub(super) async fn finish(&mut self, end: End) -> usize {
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

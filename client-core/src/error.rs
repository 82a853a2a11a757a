//! Typed errors, and the reasons a connection or a session ended.

use howl_protocol::{ChannelNameError, ErrorCode};
use std::fmt;

/// Why a request or command failed. [`ClientError::code`] gives a stable machine-readable
/// string (the JS SDK puts it in `Error.code`).
#[derive(Debug, Clone, PartialEq, thiserror::Error)]
pub enum ClientError {
    /// The server refused the request with an `error` frame.
    #[error("the server refused the request ({code}): {message}")]
    Server {
        /// The server's error code.
        code: ErrorCode,
        /// The server's explanation.
        message: String,
    },
    /// No confirmation arrived within the request timeout (milliseconds).
    #[error("no confirmation from the server within {0} ms")]
    Timeout(u64),
    /// The session is closed (the user disconnected, or reconnecting gave up).
    #[error("the session is closed")]
    Closed,
    /// The command needs an open connection and there is none right now.
    #[error("not connected to the server")]
    NotConnected,
    /// The channel name breaks the protocol's naming rules.
    #[error("invalid channel name: {0}")]
    InvalidChannel(ChannelNameError),
    /// The encoded frame is larger than the configured limit.
    #[error("the message is {size} bytes encoded, the limit is {limit}")]
    TooLarge {
        /// Encoded size of the frame.
        size: usize,
        /// The configured limit.
        limit: usize,
    },
    /// The subscribe was superseded by an unsubscribe of the same channel before it reached
    /// the server.
    #[error("cancelled by an unsubscribe of the same channel")]
    Cancelled,
    /// The publish could not wait for the connection: the queue already holds this many.
    #[error("the publish queue is full ({0} publishes wait for the connection)")]
    PublishQueueFull(usize),
    /// The connection dropped after the publish was sent and before the server answered: it
    /// may or may not have been published.
    #[error("the connection was lost before the server confirmed the publish")]
    ConnectionLost,
    /// The session closed before its connection ever opened.
    #[error("could not connect: {0}")]
    ConnectionFailed(CloseReason),
    /// The session settings are inconsistent.
    #[error("invalid configuration: {0}")]
    InvalidConfig(String),
    /// The caller could not provide a token: `getToken` or `getSubscriptionToken` failed,
    /// answered nothing, or did not answer in time. The reason never contains a token.
    #[error("no token: {0}")]
    TokenUnavailable(String),
}

impl ClientError {
    /// A stable machine-readable code: the server's code for [`ClientError::Server`] (e.g.
    /// `"too_many_subscriptions"`), otherwise `"timeout"`, `"closed"`, `"not_connected"`,
    /// `"invalid_channel"`, `"message_too_large"`, `"cancelled"`, `"publish_queue_full"`,
    /// `"connection_lost"`, `"connection_failed"`,
    /// `"invalid_config"` or `"token_unavailable"`.
    pub fn code(&self) -> &'static str {
        match self {
            Self::Server { code, .. } => code.as_str(),
            Self::Timeout(_) => "timeout",
            Self::Closed => "closed",
            Self::NotConnected => "not_connected",
            Self::InvalidChannel(_) => "invalid_channel",
            Self::TooLarge { .. } => "message_too_large",
            Self::Cancelled => "cancelled",
            Self::PublishQueueFull(_) => "publish_queue_full",
            Self::ConnectionLost => "connection_lost",
            Self::ConnectionFailed(_) => "connection_failed",
            Self::InvalidConfig(_) => "invalid_config",
            Self::TokenUnavailable(_) => "token_unavailable",
        }
    }

    /// How a session that closed for `reason` is reported to whoever still waited for it:
    /// the server's own `unauthorized` or `token_expired` error (code and message) when it
    /// refused the connection token, [`ClientError::ConnectionFailed`] otherwise.
    pub fn from_close(reason: &CloseReason) -> Self {
        match reason {
            CloseReason::Unauthorized(message) => Self::Server {
                code: ErrorCode::Unauthorized,
                message: message.clone(),
            },
            CloseReason::TokenExpired(message) => Self::Server {
                code: ErrorCode::TokenExpired,
                message: message.clone(),
            },
            other => Self::ConnectionFailed(other.clone()),
        }
    }
}

impl From<ChannelNameError> for ClientError {
    fn from(e: ChannelNameError) -> Self {
        Self::InvalidChannel(e)
    }
}

/// Why one connection ended (the session may reconnect).
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum LostReason {
    /// The socket closed (or failed to open) with this close code (1006 when abnormal).
    Closed {
        /// The WebSocket close code.
        code: u16,
    },
    /// The server stayed silent for the pong timeout after a ping.
    PingTimeout,
    /// The socket did not open or `initial` did not arrive within the handshake timeout.
    HandshakeTimeout,
    /// No connection token to connect with (reported as [`crate::Event::TokenUnavailable`]).
    TokenUnavailable,
}

impl fmt::Display for LostReason {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        match self {
            Self::Closed { code } => write!(f, "the connection closed (code {code})"),
            Self::PingTimeout => write!(f, "the server stopped answering pings"),
            Self::HandshakeTimeout => write!(f, "the handshake timed out"),
            Self::TokenUnavailable => write!(f, "no connection token"),
        }
    }
}

/// Why the session closed for good.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum CloseReason {
    /// The application called `disconnect`.
    Disconnected,
    /// The server ended the session and does not want the client back: close 1000 (the
    /// protocol's normal end) or 4006 (the backend disconnected the user).
    EndedByServer,
    /// The connection was lost and reconnecting is disabled.
    ReconnectDisabled(LostReason),
    /// Reconnecting failed `attempts` times in a row; `last` is the last failure.
    AttemptsExhausted {
        /// How many attempts were made.
        attempts: u32,
        /// Why the last one failed.
        last: LostReason,
    },
    /// The server refused the connection token (close 4003, after an `unauthorized` error
    /// whose message this is): the same credentials would only be refused again.
    Unauthorized(String),
    /// The connection token expired (close 4004, after a `token_expired` error whose message
    /// this is) and the session has no way to get a new one ([`crate::TokenSource::Static`]
    /// or no token at all).
    TokenExpired(String),
}

impl fmt::Display for CloseReason {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        match self {
            Self::Disconnected => write!(f, "disconnected by the application"),
            Self::EndedByServer => write!(
                f,
                "the server ended the session and does not want it back (close 1000 or 4006)"
            ),
            Self::ReconnectDisabled(lost) => write!(f, "{lost}, and reconnecting is disabled"),
            Self::AttemptsExhausted { attempts, last } => {
                write!(
                    f,
                    "gave up after {attempts} reconnect attempts; last: {last}"
                )
            }
            Self::Unauthorized(message) => {
                write!(f, "the server refused the connection token: {message}")
            }
            Self::TokenExpired(message) => write!(
                f,
                "the connection token expired and cannot be renewed: {message}"
            ),
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn codes_and_messages() {
        let server = ClientError::Server {
            code: ErrorCode::TooManySubscriptions,
            message: "limit is 100".into(),
        };
        assert_eq!(server.code(), "too_many_subscriptions");
        assert!(server.to_string().contains("limit is 100"));
        assert_eq!(ClientError::Timeout(10).code(), "timeout");
        assert_eq!(
            ClientError::from(ChannelNameError::Empty).code(),
            "invalid_channel"
        );
        let failed = ClientError::ConnectionFailed(CloseReason::AttemptsExhausted {
            attempts: 3,
            last: LostReason::Closed { code: 1006 },
        });
        assert_eq!(failed.code(), "connection_failed");
        assert_eq!(
            failed.to_string(),
            "could not connect: gave up after 3 reconnect attempts; last: the connection closed (code 1006)"
        );
        assert_eq!(
            ClientError::TokenUnavailable("getToken failed".into()).code(),
            "token_unavailable"
        );
    }

    #[test]
    fn a_refused_token_is_reported_with_the_server_code() {
        let refused = ClientError::from_close(&CloseReason::Unauthorized("bad signature".into()));
        assert_eq!(refused.code(), "unauthorized");
        assert!(refused.to_string().contains("bad signature"), "{refused}");
        let expired = ClientError::from_close(&CloseReason::TokenExpired("expired".into()));
        assert_eq!(expired.code(), "token_expired");
        let gave_up = ClientError::from_close(&CloseReason::EndedByServer);
        assert_eq!(
            gave_up,
            ClientError::ConnectionFailed(CloseReason::EndedByServer)
        );
    }
}

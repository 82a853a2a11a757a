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
    /// The session closed before its connection ever opened.
    #[error("could not connect: {0}")]
    ConnectionFailed(CloseReason),
    /// The session settings are inconsistent.
    #[error("invalid configuration: {0}")]
    InvalidConfig(String),
}

impl ClientError {
    /// A stable machine-readable code: the server's code for [`ClientError::Server`] (e.g.
    /// `"too_many_subscriptions"`), otherwise `"timeout"`, `"closed"`, `"not_connected"`,
    /// `"invalid_channel"`, `"message_too_large"`, `"cancelled"`, `"connection_failed"` or
    /// `"invalid_config"`.
    pub fn code(&self) -> &'static str {
        match self {
            Self::Server { code, .. } => code.as_str(),
            Self::Timeout(_) => "timeout",
            Self::Closed => "closed",
            Self::NotConnected => "not_connected",
            Self::InvalidChannel(_) => "invalid_channel",
            Self::TooLarge { .. } => "message_too_large",
            Self::Cancelled => "cancelled",
            Self::ConnectionFailed(_) => "connection_failed",
            Self::InvalidConfig(_) => "invalid_config",
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
}

impl fmt::Display for LostReason {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        match self {
            Self::Closed { code } => write!(f, "the connection closed (code {code})"),
            Self::PingTimeout => write!(f, "the server stopped answering pings"),
            Self::HandshakeTimeout => write!(f, "the handshake timed out"),
        }
    }
}

/// Why the session closed for good.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum CloseReason {
    /// The application called `disconnect`.
    Disconnected,
    /// The server ended the session normally (close code 1000: the protocol's "do not
    /// reconnect").
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
}

impl fmt::Display for CloseReason {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        match self {
            Self::Disconnected => write!(f, "disconnected by the application"),
            Self::EndedByServer => write!(f, "the server ended the session (code 1000)"),
            Self::ReconnectDisabled(lost) => write!(f, "{lost}, and reconnecting is disabled"),
            Self::AttemptsExhausted { attempts, last } => {
                write!(
                    f,
                    "gave up after {attempts} reconnect attempts; last: {last}"
                )
            }
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
    }
}

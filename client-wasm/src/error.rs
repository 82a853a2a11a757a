//! The SDK's error type.

use howl_client_core::ClientError;

/// Why an SDK call failed. [`Error::code`] is the stable string JavaScript sees as
/// `error.code`.
#[derive(Debug, Clone, PartialEq, thiserror::Error)]
pub enum Error {
    /// A session error: refused by the server, timed out, closed, not connected, …
    #[error(transparent)]
    Client(#[from] ClientError),
    /// The server URL cannot be used for a WebSocket.
    #[error("invalid server URL {0:?}: use ws://, wss://, http://, https:// or a path")]
    InvalidUrl(String),
    /// An option has the wrong type or value.
    #[error("invalid option: {0}")]
    InvalidOptions(String),
    /// The caller's `AbortSignal` (JavaScript) or [`crate::AbortHandle`] (Rust) aborted the
    /// operation.
    #[error("aborted by the caller's signal")]
    Aborted,
    /// Data to publish cannot be encoded as JSON.
    #[error("data cannot be sent as JSON: {0}")]
    InvalidData(String),
}

impl Error {
    /// Stable machine-readable code: a [`ClientError::code`], or `"invalid_url"`,
    /// `"invalid_options"`, `"invalid_data"`, `"aborted"`.
    pub fn code(&self) -> &'static str {
        match self {
            Self::Client(e) => e.code(),
            Self::InvalidUrl(_) => "invalid_url",
            Self::InvalidOptions(_) => "invalid_options",
            Self::InvalidData(_) => "invalid_data",
            Self::Aborted => "aborted",
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn codes() {
        assert_eq!(Error::from(ClientError::Timeout(5)).code(), "timeout");
        assert_eq!(Error::InvalidUrl("x".into()).code(), "invalid_url");
        assert_eq!(
            Error::from(ClientError::NotConnected).to_string(),
            "not connected to the server"
        );
    }
}

//! Channel names.

use std::fmt;

/// The channel the quote distributor publishes to, and the one a `subscribe` without a
/// `channel` joins.
pub const DEFAULT_CHANNEL: &str = "wisdom";

/// The longest channel name accepted, in bytes.
pub const MAX_CHANNEL_LEN: usize = 128;

/// Why a channel name was refused.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum ChannelNameError {
    /// The name is the empty string.
    Empty,
    /// The name is longer than [`MAX_CHANNEL_LEN`] bytes.
    TooLong(usize),
    /// The name holds a character outside `A-Z a-z 0-9 _ - . : @ / # ,`.
    InvalidChar(char),
}

impl fmt::Display for ChannelNameError {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        match self {
            Self::Empty => write!(f, "channel name is empty"),
            Self::TooLong(len) => {
                write!(
                    f,
                    "channel name is {len} bytes long, the limit is {MAX_CHANNEL_LEN}"
                )
            }
            Self::InvalidChar(c) => write!(
                f,
                "channel name contains {c:?}; allowed are letters, digits and _ - . : @ / # ,"
            ),
        }
    }
}

impl std::error::Error for ChannelNameError {}

/// Checks a channel name: 1 to [`MAX_CHANNEL_LEN`] bytes of ASCII letters, digits and
/// `_ - . : @ / # ,`. The alphabet is kept narrow so names are safe in log lines and Redis
/// keys without escaping (`#` and `,`, for personal channels such as `chat:dm#alice,bob`,
/// are percent-encoded in an HTTP API path: `%23`, `%2C`).
pub fn validate_channel(name: &str) -> Result<(), ChannelNameError> {
    if name.is_empty() {
        return Err(ChannelNameError::Empty);
    }
    if name.len() > MAX_CHANNEL_LEN {
        return Err(ChannelNameError::TooLong(name.len()));
    }
    match name.chars().find(|c| {
        !(c.is_ascii_alphanumeric() || matches!(c, '_' | '-' | '.' | ':' | '@' | '/' | '#' | ','))
    }) {
        Some(c) => Err(ChannelNameError::InvalidChar(c)),
        None => Ok(()),
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn accepts_ordinary_names() {
        for name in [
            "wisdom",
            "news",
            "room:42",
            "a/b.c-d_e@f",
            "#alice",
            "chat:dm#alice,bob",
            &"x".repeat(MAX_CHANNEL_LEN),
        ] {
            assert_eq!(validate_channel(name), Ok(()), "{name}");
        }
    }

    #[test]
    fn refuses_bad_names() {
        assert_eq!(validate_channel(""), Err(ChannelNameError::Empty));
        assert_eq!(
            validate_channel(&"x".repeat(MAX_CHANNEL_LEN + 1)),
            Err(ChannelNameError::TooLong(MAX_CHANNEL_LEN + 1))
        );
        assert_eq!(
            validate_channel("a b"),
            Err(ChannelNameError::InvalidChar(' '))
        );
        assert_eq!(
            validate_channel("é"),
            Err(ChannelNameError::InvalidChar('é'))
        );
    }
}

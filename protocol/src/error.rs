//! Stable, machine-readable error codes carried by `error` frames and HTTP error bodies.

use serde::{Deserialize, Serialize};
use std::fmt;

/// Why the hub rejected something. The snake_case wire names never change meaning; new codes
/// may be added, so clients must treat an unknown code as a generic error ([`ErrorCode::Other`]).
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, Serialize, Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum ErrorCode {
    /// The frame is not valid JSON, or not a JSON object.
    MalformedJson,
    /// The frame's `type` is not an event the hub knows.
    UnknownType,
    /// The payload is missing a field or has a field of the wrong type.
    InvalidPayload,
    /// A binary WebSocket frame; the protocol is JSON text only.
    BinaryFrame,
    /// The `id` in the payload is not this connection's id.
    WrongId,
    /// The event needs a completed `connect` first.
    NotConnected,
    /// `connect` was sent twice.
    AlreadyConnected,
    /// The channel name breaks the naming rules.
    InvalidChannel,
    /// The connection holds as many subscriptions as the hub allows.
    TooManySubscriptions,
    /// The message or request body is larger than the hub accepts.
    MessageTooLarge,
    /// The connection sends faster than the hub accepts: the frame was not processed.
    RateLimited,
    /// The hub holds as many connections as it allows, in total (HTTP 503) or from this
    /// client's address (HTTP 429).
    TooManyConnections,
    /// The cluster broker could not carry the message to other nodes.
    BrokerUnavailable,
    /// The requested resource does not exist (HTTP API).
    NotFound,
    /// The hub is shutting down.
    ShuttingDown,
    /// A browser page from an origin not in `--allowed-origins` tried to open a WebSocket.
    OriginNotAllowed,
    /// The hub is serving as many HTTP API requests as `--api-max-concurrent` allows (HTTP
    /// 503); retry later.
    Overloaded,
    /// The request body did not arrive within `--http-body-timeout` (HTTP 408); the
    /// connection is closed.
    RequestTimeout,
    /// The connection token (or refresh token) is missing, malformed, badly signed, for
    /// another algorithm or for another user; on WebSocket, close 4003 follows. On the HTTP
    /// API: a missing or wrong API key (HTTP 401).
    Unauthorized,
    /// The connection token expired; on WebSocket, close 4004 follows.
    TokenExpired,
    /// The connection may not do this on this channel; on the HTTP API (403), a caller that
    /// is not on loopback while no `--api-key` is set.
    PermissionDenied,
    /// (HTTP 415) The request body is not declared as `Content-Type: application/json`.
    UnsupportedMediaType,
    /// The channel's namespace does not keep what was asked for (`history` with
    /// `history-size = 0`, `presence` without `presence = true`); HTTP 404 on the API.
    NotAvailable,
    /// A code this version of the protocol does not know (never sent by the hub).
    #[serde(other)]
    Other,
}

impl ErrorCode {
    /// Every code the hub can send, in declaration order (used for metrics labels).
    pub const ALL: [ErrorCode; 23] = [
        Self::MalformedJson,
        Self::UnknownType,
        Self::InvalidPayload,
        Self::BinaryFrame,
        Self::WrongId,
        Self::NotConnected,
        Self::AlreadyConnected,
        Self::InvalidChannel,
        Self::TooManySubscriptions,
        Self::MessageTooLarge,
        Self::RateLimited,
        Self::TooManyConnections,
        Self::BrokerUnavailable,
        Self::NotFound,
        Self::ShuttingDown,
        Self::OriginNotAllowed,
        Self::Overloaded,
        Self::RequestTimeout,
        Self::Unauthorized,
        Self::TokenExpired,
        Self::PermissionDenied,
        Self::UnsupportedMediaType,
        Self::NotAvailable,
    ];

    /// The wire name, e.g. `"wrong_id"`.
    pub fn as_str(self) -> &'static str {
        match self {
            Self::MalformedJson => "malformed_json",
            Self::UnknownType => "unknown_type",
            Self::InvalidPayload => "invalid_payload",
            Self::BinaryFrame => "binary_frame",
            Self::WrongId => "wrong_id",
            Self::NotConnected => "not_connected",
            Self::AlreadyConnected => "already_connected",
            Self::InvalidChannel => "invalid_channel",
            Self::TooManySubscriptions => "too_many_subscriptions",
            Self::MessageTooLarge => "message_too_large",
            Self::RateLimited => "rate_limited",
            Self::TooManyConnections => "too_many_connections",
            Self::BrokerUnavailable => "broker_unavailable",
            Self::NotFound => "not_found",
            Self::ShuttingDown => "shutting_down",
            Self::OriginNotAllowed => "origin_not_allowed",
            Self::Overloaded => "overloaded",
            Self::RequestTimeout => "request_timeout",
            Self::Unauthorized => "unauthorized",
            Self::TokenExpired => "token_expired",
            Self::PermissionDenied => "permission_denied",
            Self::UnsupportedMediaType => "unsupported_media_type",
            Self::NotAvailable => "not_available",
            Self::Other => "other",
        }
    }
}

impl fmt::Display for ErrorCode {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(self.as_str())
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn wire_names_match_as_str() {
        for code in ErrorCode::ALL {
            assert_eq!(serde_json::to_string(&code).unwrap(), format!("\"{code}\""));
        }
    }

    #[test]
    fn unknown_codes_decode_as_other() {
        let code: ErrorCode = serde_json::from_str("\"from_the_future\"").unwrap();
        assert_eq!(code, ErrorCode::Other);
    }
}

//! The WebSocket close codes of the protocol: the one table the server, the client session,
//! the SDK and the tools use. Every code has one meaning, whichever side sends it, and
//! [`should_reconnect`] is the single place where the reconnect rule lives.

/// The session ended normally (after `disconnect`, or the user closed the client).
pub const NORMAL: u16 = 1000;
/// The server is shutting down; reconnect later (or to another node).
pub const GOING_AWAY: u16 = 1001;
/// The peer broke the WebSocket protocol (reserved bits, a bad opcode, an unmasked client
/// frame, ...).
pub const PROTOCOL_ERROR: u16 = 1002;
/// A text message was not valid UTF-8.
pub const INVALID_DATA: u16 = 1007;
/// A message exceeded the size limit.
pub const MESSAGE_TOO_BIG: u16 = 1009;
/// The peer went silent: nothing (no ping, no pong, no frame) arrived within the heartbeat
/// timeout. The server sends it for a silent client, the client for a silent server.
pub const HEARTBEAT_TIMEOUT: u16 = 4000;
/// The client read too slowly: its outgoing queue overflowed or a write stalled.
pub const SLOW_CONSUMER: u16 = 4001;
/// The `connect` handshake did not finish in time: the server sends it when no valid
/// `connect` arrived within `--connect-timeout`, the client session when no `initial` did.
pub const HANDSHAKE_TIMEOUT: u16 = 4002;
/// The connection token (or a refresh token) was missing, malformed, badly signed, for
/// another algorithm, or for another user. Reconnecting with the same token cannot succeed,
/// so clients do not reconnect.
pub const UNAUTHORIZED: u16 = 4003;
/// The connection token expired (no valid `refresh` arrived by its `exp`). The client gets a
/// fresh token, then reconnects.
pub const TOKEN_EXPIRED: u16 = 4004;
/// The client kept sending faster than the rate limit allowed for longer than the grace
/// period (`--client-rate-grace`); it may reconnect after backing off.
pub const RATE_LIMITED: u16 = 4005;
/// The backend disconnected the user through the server API (`POST
/// /api/users/{user}/disconnect`), e.g. after a ban or a logout elsewhere. The client does not
/// reconnect: the same credentials would let it straight back in.
pub const DISCONNECTED: u16 = 4006;

/// Whether a client should reconnect after a connection closed with `code`: always, except
/// after a normal end or [`DISCONNECTED`], which mean the other side does not want this client
/// back, and after [`UNAUTHORIZED`], which the same credentials would only meet again.
pub fn should_reconnect(code: u16) -> bool {
    !matches!(code, NORMAL | UNAUTHORIZED | DISCONNECTED)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn only_a_normal_end_unauthorized_or_disconnected_stops_reconnecting() {
        assert!(!should_reconnect(NORMAL));
        assert!(!should_reconnect(UNAUTHORIZED));
        assert!(!should_reconnect(DISCONNECTED));
        for code in [
            GOING_AWAY,
            PROTOCOL_ERROR,
            INVALID_DATA,
            MESSAGE_TOO_BIG,
            HEARTBEAT_TIMEOUT,
            SLOW_CONSUMER,
            HANDSHAKE_TIMEOUT,
            RATE_LIMITED,
            TOKEN_EXPIRED,
            1006,
            1011,
        ] {
            assert!(should_reconnect(code), "{code}");
        }
    }
}

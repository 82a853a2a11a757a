//! WebSocket close codes the hub uses.

/// The session ended normally (after `disconnect`).
pub const NORMAL: u16 = 1000;
/// The hub is shutting down; reconnect later (or to another node).
pub const GOING_AWAY: u16 = 1001;
/// A message exceeded the hub's size limit.
pub const MESSAGE_TOO_BIG: u16 = 1009;
/// The hub heard nothing (no ping, no frame) within the heartbeat timeout.
pub const HEARTBEAT_TIMEOUT: u16 = 4000;
/// The client read too slowly: its outgoing queue overflowed or a write stalled.
pub const SLOW_CONSUMER: u16 = 4001;

/// Whether a client should reconnect after the hub closed with `code`.
pub fn should_reconnect(code: u16) -> bool {
    code != NORMAL
}

//! ClientSession settings.

use crate::backoff::ReconnectPolicy;
use crate::token::TokenSource;
use crate::ClientError;

/// Timeouts, ping schedule, reconnect policy and tokens of a [`crate::ClientSession`]. All
/// durations are in milliseconds.
#[derive(Debug, Clone, PartialEq)]
pub struct ClientConfig {
    /// How often to send `ping` while open; 0 turns pings and dead-connection detection off.
    pub ping_interval_ms: u64,
    /// After a ping, how long the server may stay completely silent (no `pong`, no other
    /// frame) before the connection counts as lost.
    pub pong_timeout_ms: u64,
    /// How long a subscribe or unsubscribe may wait for its confirmation.
    pub request_timeout_ms: u64,
    /// How long opening the socket plus receiving `initial` may take; with
    /// [`TokenSource::GetToken`], also how long getting the token before that may take.
    pub handshake_timeout_ms: u64,
    /// Largest encoded frame `publish` will send (the server's default limit is 64 KiB);
    /// 0 means no client-side limit.
    pub max_frame_bytes: usize,
    /// What to do when the connection is lost.
    pub reconnect: ReconnectPolicy,
    /// The connection token `connect` carries (secured mode).
    pub token: TokenSource,
    /// Ask the caller for a subscription token ([`crate::Output::GetSubscriptionToken`])
    /// before every subscribe, re-subscriptions after a reconnect included (tokens expire);
    /// the caller may answer that the channel needs none.
    pub get_subscription_token: bool,
    /// How many confirmed publishes ([`crate::ClientSession::publish_confirmed`]) may wait
    /// while the connection is down; one more fails at once. 0: none wait.
    pub publish_queue_limit: usize,
}

impl Default for ClientConfig {
    fn default() -> Self {
        Self {
            ping_interval_ms: 5_000,
            pong_timeout_ms: 10_000,
            request_timeout_ms: 10_000,
            handshake_timeout_ms: 10_000,
            max_frame_bytes: 64 * 1024,
            reconnect: ReconnectPolicy::default(),
            token: TokenSource::None,
            get_subscription_token: false,
            publish_queue_limit: 100,
        }
    }
}

impl ClientConfig {
    /// Checks the settings; [`ClientError::InvalidConfig`] names the first problem.
    pub fn validate(&self) -> Result<(), ClientError> {
        let positive = [
            ("pong timeout", self.pong_timeout_ms),
            ("request timeout", self.request_timeout_ms),
            ("handshake timeout", self.handshake_timeout_ms),
        ];
        if let Some((name, _)) = positive.iter().find(|(_, v)| *v == 0) {
            return Err(ClientError::InvalidConfig(format!(
                "{name} must be greater than 0"
            )));
        }
        if self.token == TokenSource::Static(String::new()) {
            return Err(ClientError::InvalidConfig("the token is empty".into()));
        }
        self.reconnect
            .validate()
            .map_err(ClientError::InvalidConfig)
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn defaults_are_valid_and_zero_timeouts_are_not() {
        assert_eq!(ClientConfig::default().validate(), Ok(()));
        let bad = ClientConfig {
            request_timeout_ms: 0,
            ..Default::default()
        };
        assert!(
            matches!(bad.validate(), Err(ClientError::InvalidConfig(m)) if m.contains("request"))
        );
        let off = ClientConfig {
            ping_interval_ms: 0,
            ..Default::default()
        };
        assert_eq!(off.validate(), Ok(()));
        let empty_token = ClientConfig {
            token: TokenSource::Static(String::new()),
            ..Default::default()
        };
        assert!(
            matches!(empty_token.validate(), Err(ClientError::InvalidConfig(m)) if m.contains("token"))
        );
    }
}

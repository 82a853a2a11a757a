//! Checking the settings once they are read: every number within a range that makes sense,
//! so a typo (`--write-timeout 0`, `--heartbeat-timeout 1e19`) stops the server at startup
//! with a message naming the setting instead of misbehaving later.

use super::Config;
use std::time::Duration;

/// A setting outside the range it may take, e.g. `--write-timeout 0`.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
#[error("invalid setting --{setting} {value}: {rule}")]
pub struct InvalidSetting {
    /// The setting's long flag name without the dashes (also its TOML key).
    pub setting: &'static str,
    /// The value given, as shown to the user.
    pub value: String,
    /// The range the value must be in.
    pub rule: String,
}

/// The longest duration any timeout or interval may be: longer ones are mistakes, and far
/// longer ones would overflow the clock.
pub const MAX_DURATION: Duration = Duration::from_secs(24 * 60 * 60);

/// The shortest timeout or interval: anything shorter acts as no time at all.
pub const MIN_DURATION: Duration = Duration::from_millis(10);

/// The largest buffer or message size in bytes (64 MiB).
pub const MAX_BYTES: usize = 64 << 20;

impl Config {
    /// Checks every numeric setting (and the WebSocket path) against the range it may take;
    /// [`Config::from_args`] calls it, so a [`Config`] it returns is always usable.
    pub fn validate(&self) -> Result<(), InvalidSetting> {
        seconds("quote-interval", self.quote_interval, MIN_DURATION, true)?;
        timeout("heartbeat-timeout", self.heartbeat_timeout)?;
        seconds(
            "ws-ping-interval",
            self.ws_ping_interval,
            MIN_DURATION,
            true,
        )?;
        timeout("write-timeout", self.write_timeout)?;
        timeout("shutdown-timeout", self.shutdown_timeout)?;
        // The Redis broker refreshes its keys every third of the TTL, in whole milliseconds.
        seconds(
            "redis-ttl",
            self.redis_ttl,
            Duration::from_millis(30),
            false,
        )?;
        count("outbox-capacity", self.outbox_capacity, 1, 1 << 20)?;
        // Smaller could not carry a subscribe to a channel with a long name.
        count("max-message-size", self.max_message_size, 256, MAX_BYTES)?;
        count("max-subscriptions", self.max_subscriptions, 1, 1 << 16)?;
        count("read-buffer-size", self.read_buffer_size, 64, MAX_BYTES)?;
        count("write-buffer-size", self.write_buffer_size, 0, MAX_BYTES)?;
        timeout("http-header-timeout", self.http_header_timeout)?;
        timeout("http-body-timeout", self.http_body_timeout)?;
        timeout("http-idle-timeout", self.http_idle_timeout)?;
        count("api-max-concurrent", self.api_max_concurrent, 1, 1 << 16)?;
        timeout("connect-timeout", self.connect_timeout)?;
        timeout("client-rate-grace", self.client_rate_grace)?;
        if let Some(max) = self.max_connections {
            count("max-connections", max, 1, MAX_CONNECTIONS)?;
        }
        count(
            "max-connections-per-ip",
            self.max_connections_per_ip,
            1,
            MAX_CONNECTIONS,
        )?;
        rate("client-rate", self.client_rate)?;
        rate("publish-rate", self.publish_rate)?;
        count(
            "client-burst",
            self.client_burst as usize,
            1,
            u32::MAX as usize,
        )?;
        count(
            "publish-burst",
            self.publish_burst as usize,
            1,
            u32::MAX as usize,
        )?;
        // One message, in its frame with a channel name and seq, must always fit.
        let frame = self.max_message_size.saturating_add(512);
        count("outbox-max-bytes", self.outbox_max_bytes, frame, 1 << 40)?;
        count("history-max-bytes", self.history_max_bytes, frame, 1 << 40)?;
        let path = &self.ws_path;
        let reserved = ["/healthz", "/metrics", "/api"]
            .iter()
            .any(|r| path == r || path.starts_with(&format!("{r}/")));
        if !path.starts_with('/') || path == "/" || reserved || path.contains(['{', '}', '*']) {
            return Err(InvalidSetting {
                setting: "ws-path",
                value: format!("{path:?}"),
                rule: "must start with / and not be /, /api, /healthz, /metrics or hold { } *"
                    .into(),
            });
        }
        if let Some(internal) = self.internal_listen {
            if internal == self.listen && internal.port() != 0 {
                return Err(InvalidSetting {
                    setting: "internal-listen",
                    value: internal.to_string(),
                    rule: "must differ from --listen".into(),
                });
            }
        }
        if self.node_id.as_deref() == Some("") {
            return Err(InvalidSetting {
                setting: "node-id",
                value: "\"\"".into(),
                rule: "must not be empty".into(),
            });
        }
        Ok(())
    }
}

/// The most connections a limit may name: far above what one process can hold.
const MAX_CONNECTIONS: usize = 100_000_000;

/// Checks that a per-second rate is a positive number no larger than a billion.
fn rate(setting: &'static str, value: f64) -> Result<(), InvalidSetting> {
    if value.is_finite() && value > 0.0 && value <= 1e9 {
        return Ok(());
    }
    Err(InvalidSetting {
        setting,
        value: value.to_string(),
        rule: "must be a number of frames per second above 0 and at most 1e9".into(),
    })
}

/// Checks that `value` is between [`MIN_DURATION`] and [`MAX_DURATION`].
fn timeout(setting: &'static str, value: Duration) -> Result<(), InvalidSetting> {
    seconds(setting, value, MIN_DURATION, false)
}

/// Checks that `value` is between `min` and [`MAX_DURATION`], or 0 where `zero_is_off`.
fn seconds(
    setting: &'static str,
    value: Duration,
    min: Duration,
    zero_is_off: bool,
) -> Result<(), InvalidSetting> {
    if (zero_is_off && value.is_zero()) || (min..=MAX_DURATION).contains(&value) {
        return Ok(());
    }
    let off = if zero_is_off { "0 (off) or " } else { "" };
    Err(InvalidSetting {
        setting,
        value: value.as_secs_f64().to_string(),
        rule: format!(
            "must be {off}between {} and {} seconds",
            min.as_secs_f64(),
            MAX_DURATION.as_secs()
        ),
    })
}

/// Checks that `value` is between `min` and `max`.
fn count(
    setting: &'static str,
    value: usize,
    min: usize,
    max: usize,
) -> Result<(), InvalidSetting> {
    if (min..=max).contains(&value) {
        return Ok(());
    }
    Err(InvalidSetting {
        setting,
        value: value.to_string(),
        rule: format!("must be between {min} and {max}"),
    })
}

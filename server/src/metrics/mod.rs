//! Counters and gauges, rendered in the Prometheus text format at `/metrics`.
//!
//! Plain atomics owned by each server instance, rather than a global recorder, so several
//! servers in one test process keep separate figures.

mod streams;

pub use streams::StreamMetrics;

use howl_protocol::ErrorCode;
use std::fmt::Write;
use std::sync::atomic::{AtomicI64, AtomicU64, Ordering::Relaxed};

/// Every figure the server reports.
#[derive(Default)]
pub struct Metrics {
    /// Open WebSocket connections.
    pub connections_open: AtomicI64,
    /// WebSocket connections accepted since start.
    pub connections_total: AtomicU64,
    /// Current (connection, channel) subscriptions on this node.
    pub subscriptions: AtomicI64,
    /// Messages published through this node (WebSocket, HTTP, distributor).
    pub messages_published: AtomicU64,
    /// Frames queued to local subscribers.
    pub deliveries: AtomicU64,
    /// Connections closed because their outgoing queue overflowed or a write stalled.
    pub slow_consumers_dropped: AtomicU64,
    /// Frames dropped when a slow consumer's queue was discarded.
    pub frames_dropped: AtomicU64,
    /// Connections closed because they stopped sending pings.
    pub heartbeat_timeouts: AtomicU64,
    /// Incoming messages refused for exceeding the size limit.
    pub oversized_messages: AtomicU64,
    /// Messages that could not be handed to other nodes.
    pub broker_publish_failures: AtomicU64,
    /// 1 while the cluster broker is connected to Redis, else 0.
    pub broker_connected: AtomicI64,
    /// Times the cluster broker reconnected to Redis after losing it.
    pub broker_reconnects: AtomicU64,
    /// Messages from other nodes or Redis clients delivered on this node.
    pub broker_messages_received: AtomicU64,
    /// Messages and notices from Redis dropped because they could not be read.
    pub broker_invalid_payloads: AtomicU64,
    /// Quotes this node's distributor published.
    pub quotes_distributed: AtomicU64,
    /// Connections closed for breaking the WebSocket protocol (1002) or sending invalid UTF-8
    /// text (1007).
    pub protocol_errors: AtomicU64,
    /// Connections closed because no valid `connect` arrived within `--connect-timeout`.
    pub connect_timeouts: AtomicU64,
    /// Upgrades refused because the node held `--max-connections`.
    pub connections_refused_max: AtomicU64,
    /// Upgrades refused because the address held `--max-connections-per-ip`.
    pub connections_refused_per_ip: AtomicU64,
    /// Connections closed for exceeding their rate limits past `--client-rate-grace`.
    pub rate_limit_closes: AtomicU64,
    /// Slow consumers dropped because their queue reached `--outbox-max-bytes` (also counted
    /// in `slow_consumers_dropped`).
    pub outbox_bytes_overflows: AtomicU64,
    /// WebSocket Pings sent to silent clients (`--ws-ping-interval`).
    pub ws_pings: AtomicU64,
    /// Server API user commands (`/api/users/...`) this node received, for any user.
    pub user_commands: AtomicU64,
    /// User commands a connection missed because its command queue was full.
    pub user_commands_dropped: AtomicU64,
    /// Connections closed by `POST /api/users/{user}/disconnect` (4006).
    pub user_disconnects: AtomicU64,
    /// The HTTP server's timeouts and limits.
    pub http: HttpMetrics,
    /// Channel streams: history, recovery, presence.
    pub streams: StreamMetrics,
    errors: [AtomicU64; ErrorCode::ALL.len()],
}

impl Metrics {
    /// Counts one `error` sent (or HTTP error answered) with `code`.
    pub fn count_error(&self, code: ErrorCode) {
        if let Some(i) = ErrorCode::ALL.iter().position(|c| *c == code) {
            self.errors[i].fetch_add(1, Relaxed);
        }
    }

    /// How many errors with `code` were counted.
    pub fn errors(&self, code: ErrorCode) -> u64 {
        ErrorCode::ALL
            .iter()
            .position(|c| *c == code)
            .map_or(0, |i| self.errors[i].load(Relaxed))
    }

    /// The Prometheus text exposition of every figure.
    pub fn render(&self) -> String {
        let mut out = String::with_capacity(2048);
        let mut metric = |name: &str, kind: &str, help: &str, value: String| {
            let _ = writeln!(out, "# HELP howl_{name} {help}\n# TYPE howl_{name} {kind}");
            let _ = writeln!(out, "howl_{name} {value}");
        };
        let gauge = |v: &AtomicI64| v.load(Relaxed).to_string();
        let count = |v: &AtomicU64| v.load(Relaxed).to_string();
        metric(
            "connections_open",
            "gauge",
            "Open WebSocket connections.",
            gauge(&self.connections_open),
        );
        metric(
            "connections_total",
            "counter",
            "WebSocket connections accepted.",
            count(&self.connections_total),
        );
        metric(
            "subscriptions",
            "gauge",
            "Current subscriptions on this node.",
            gauge(&self.subscriptions),
        );
        metric(
            "messages_published_total",
            "counter",
            "Messages published through this node.",
            count(&self.messages_published),
        );
        metric(
            "deliveries_total",
            "counter",
            "Frames queued to local subscribers.",
            count(&self.deliveries),
        );
        metric(
            "slow_consumers_dropped_total",
            "counter",
            "Connections closed for falling behind.",
            count(&self.slow_consumers_dropped),
        );
        metric(
            "frames_dropped_total",
            "counter",
            "Frames never delivered: discarded with a slow consumer queue or left at close.",
            count(&self.frames_dropped),
        );
        metric(
            "heartbeat_timeouts_total",
            "counter",
            "Connections closed for missing pings.",
            count(&self.heartbeat_timeouts),
        );
        metric(
            "oversized_messages_total",
            "counter",
            "Incoming messages over the size limit.",
            count(&self.oversized_messages),
        );
        metric(
            "broker_publish_failures_total",
            "counter",
            "Messages that could not reach other nodes.",
            count(&self.broker_publish_failures),
        );
        metric(
            "broker_connected",
            "gauge",
            "1 while the cluster broker is connected to Redis.",
            gauge(&self.broker_connected),
        );
        metric(
            "broker_reconnects_total",
            "counter",
            "Reconnections to Redis after losing it.",
            count(&self.broker_reconnects),
        );
        metric(
            "broker_messages_received_total",
            "counter",
            "Messages from other nodes or Redis clients delivered here.",
            count(&self.broker_messages_received),
        );
        metric(
            "broker_invalid_payloads_total",
            "counter",
            "Unreadable messages from Redis dropped.",
            count(&self.broker_invalid_payloads),
        );
        metric(
            "quotes_distributed_total",
            "counter",
            "Quotes published by this node's distributor.",
            count(&self.quotes_distributed),
        );
        metric(
            "protocol_errors_total",
            "counter",
            "Connections closed for breaking the WebSocket protocol or sending invalid UTF-8.",
            count(&self.protocol_errors),
        );
        metric(
            "connect_timeouts_total",
            "counter",
            "Connections closed for not sending connect in time.",
            count(&self.connect_timeouts),
        );
        metric(
            "connections_refused_max_total",
            "counter",
            "WebSocket upgrades refused at --max-connections.",
            count(&self.connections_refused_max),
        );
        metric(
            "connections_refused_per_ip_total",
            "counter",
            "WebSocket upgrades refused at --max-connections-per-ip.",
            count(&self.connections_refused_per_ip),
        );
        metric(
            "rate_limit_closes_total",
            "counter",
            "Connections closed for exceeding their rate limits past the grace period.",
            count(&self.rate_limit_closes),
        );
        metric(
            "outbox_bytes_overflows_total",
            "counter",
            "Slow consumers dropped at --outbox-max-bytes.",
            count(&self.outbox_bytes_overflows),
        );
        metric(
            "ws_pings_total",
            "counter",
            "WebSocket Pings sent to silent clients.",
            count(&self.ws_pings),
        );
        metric(
            "user_commands_total",
            "counter",
            "Server API user commands (subscribe, unsubscribe, disconnect) received.",
            count(&self.user_commands),
        );
        metric(
            "user_commands_dropped_total",
            "counter",
            "User commands a connection missed because its command queue was full.",
            count(&self.user_commands_dropped),
        );
        metric(
            "user_disconnects_total",
            "counter",
            "Connections closed by the server API's disconnect.",
            count(&self.user_disconnects),
        );
        self.http.render(&mut out);
        self.streams.render(&mut out);
        let _ = writeln!(
            out,
            "# HELP howl_errors_total Errors sent to clients, by code."
        );
        let _ = writeln!(out, "# TYPE howl_errors_total counter");
        for (code, value) in ErrorCode::ALL.iter().zip(&self.errors) {
            let _ = writeln!(
                out,
                "howl_errors_total{{code=\"{code}\"}} {}",
                value.load(Relaxed)
            );
        }
        out
    }
}

/// The HTTP server's timeouts and limits (`--http-*-timeout`, `--api-max-concurrent`).
#[derive(Default)]
pub struct HttpMetrics {
    /// Connections closed for not sending a request head within `--http-header-timeout`.
    pub header_timeouts: AtomicU64,
    /// Requests answered 408 because their body did not arrive within `--http-body-timeout`.
    pub body_timeouts: AtomicU64,
    /// Connections closed after `--http-idle-timeout` with nothing read or written.
    pub idle_timeouts: AtomicU64,
    /// `/api` requests being served.
    pub api_in_flight: AtomicI64,
    /// `/api` requests refused with 503 for exceeding `--api-max-concurrent`.
    pub api_rejected: AtomicU64,
    /// HTTP connections still busy when the shutdown timeout passed, dropped unanswered.
    pub dropped_at_shutdown: AtomicU64,
}

impl HttpMetrics {
    fn render(&self, out: &mut String) {
        let _ = writeln!(
            out,
            "# HELP howl_http_timeouts_total HTTP connections and requests ended by a timeout, by kind.\n\
             # TYPE howl_http_timeouts_total counter"
        );
        for (kind, value) in [
            ("header", &self.header_timeouts),
            ("body", &self.body_timeouts),
            ("idle", &self.idle_timeouts),
        ] {
            let _ = writeln!(
                out,
                "howl_http_timeouts_total{{kind=\"{kind}\"}} {}",
                value.load(Relaxed)
            );
        }
        let figures = [
            (
                "api_requests_in_flight",
                "gauge",
                "/api requests being served.",
                self.api_in_flight.load(Relaxed).to_string(),
            ),
            (
                "api_requests_rejected_total",
                "counter",
                "/api requests refused over --api-max-concurrent.",
                self.api_rejected.load(Relaxed).to_string(),
            ),
            (
                "http_dropped_at_shutdown_total",
                "counter",
                "HTTP connections dropped when the shutdown timeout passed.",
                self.dropped_at_shutdown.load(Relaxed).to_string(),
            ),
        ];
        for (name, kind, help, value) in figures {
            let _ = writeln!(
                out,
                "# HELP howl_{name} {help}\n# TYPE howl_{name} {kind}\nhowl_{name} {value}"
            );
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn renders_errors_by_code() {
        let metrics = Metrics::default();
        metrics.count_error(ErrorCode::WrongId);
        metrics.count_error(ErrorCode::WrongId);
        let text = metrics.render();
        assert!(
            text.contains("howl_errors_total{code=\"wrong_id\"} 2\n"),
            "{text}"
        );
        assert!(text.contains("howl_connections_open 0\n"), "{text}");
        assert!(
            text.contains("howl_http_timeouts_total{kind=\"body\"} 0\n"),
            "{text}"
        );
        assert!(
            text.contains("howl_api_requests_rejected_total 0\n"),
            "{text}"
        );
        assert_eq!(metrics.errors(ErrorCode::WrongId), 2);
    }
}

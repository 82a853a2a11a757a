//! `howl-sub`: subscribes to one or more channels and prints each message with its latency;
//! reconnects and re-subscribes through the client session.

use crate::clock::now_millis;
use crate::driver::{self, Handler};
use howl_client_core::{ClientSession, ConnectionState, Event, Message};
use howl_protocol::validate_channel;
use std::future::Future;
use std::io::Write;
use tracing::{info, warn};

/// Command-line options of `howl-sub`.
#[derive(Debug, Clone, clap::Parser)]
#[command(
    name = "howl-sub",
    version,
    about = "Subscribe to Howl channels and print each message with its latency"
)]
pub struct SubOptions {
    /// WebSocket URL of the node.
    #[arg(long, env = "HOWL_URL", default_value = "ws://127.0.0.1:8000/ws")]
    pub url: String,
    /// Channel to subscribe to; repeat for several (default: the quote channel).
    #[arg(long = "channel", env = "HOWL_CHANNELS", value_delimiter = ',')]
    pub channels: Vec<String>,
    /// Connection token (a JWT) for a hub in secured mode; sent on every connection. It is
    /// not renewed: when it expires the tool stops with `token_expired`. On a hub's
    /// `--internal-listen` address none is needed.
    #[arg(long, env = "HOWL_TOKEN", hide_env_values = true)]
    pub token: Option<String>,
}

/// The latency of a message in ms: from the publisher's `sent_at` (howl-pub stamps it into
/// the data) when present, otherwise from the hub's own timestamp.
pub fn latency_ms(message: &Message, now_ms: u64) -> u64 {
    let sent = message
        .data
        .get("sent_at")
        .and_then(serde_json::Value::as_u64)
        .unwrap_or(message.time);
    now_ms.saturating_sub(sent)
}

/// One printed line: `<channel> #<seq> latency=<ms>ms <data>`.
pub fn format_line(message: &Message, now_ms: u64) -> String {
    format!(
        "{} #{} latency={}ms {}",
        message.channel,
        message.seq,
        latency_ms(message, now_ms),
        message.data
    )
}

/// The subscriber's state, driven by [`driver::run`].
pub struct Subscriber<W: Write> {
    out: W,
    channels: Vec<String>,
    received: u64,
}

impl<W: Write> Handler for Subscriber<W> {
    fn start(&mut self, session: &mut ClientSession, now: u64) {
        if self.channels.is_empty() {
            session.subscribe(None, now);
        }
        for channel in &self.channels {
            session.subscribe(Some(channel), now);
        }
    }

    fn on_event(&mut self, event: Event, _session: &mut ClientSession, _now: u64) {
        match event {
            Event::Message(message) => {
                self.received += 1;
                let line = format_line(&message, now_millis());
                // A closed stdout (e.g. `| head`) is not worth a crash.
                let _ = writeln!(self.out, "{line}").and_then(|_| self.out.flush());
            }
            Event::StateChanged(ConnectionState::Open) => info!("connected"),
            Event::RequestDone {
                result: Err(error), ..
            } => warn!(%error, "subscribe failed"),
            Event::SubscriptionFailed { channel, error } => {
                warn!(%channel, %error, "re-subscribing failed")
            }
            Event::ConnectionLost(reason) => warn!(%reason, "connection lost"),
            Event::ReconnectScheduled { attempt, delay_ms } => {
                info!(attempt, delay_ms, "reconnecting")
            }
            Event::ServerError(error) => {
                warn!(code = %error.code, message = %error.message, "the hub refused a frame")
            }
            Event::Closed(reason) => info!(%reason, "session closed"),
            _ => {}
        }
    }
}

/// Runs `howl-sub`, printing to `out`, until `shutdown` completes; returns how many messages
/// were printed, or why the session ended on its own (e.g. a refused token).
pub async fn run<W: Write>(
    options: &SubOptions,
    out: W,
    shutdown: impl Future<Output = ()>,
) -> anyhow::Result<u64> {
    let seed = now_millis() ^ u64::from(std::process::id()).rotate_left(32);
    for channel in &options.channels {
        validate_channel(channel)?;
    }
    let session = ClientSession::new(driver::client_config(options.token.as_deref()), seed)?;
    let mut subscriber = Subscriber {
        out,
        channels: options.channels.clone(),
        received: 0,
    };
    info!(url = %options.url, channels = ?options.channels, "starting");
    if let Some(reason) = driver::run(&options.url, session, &mut subscriber, shutdown).await {
        anyhow::bail!("the session ended: {reason}");
    }
    Ok(subscriber.received)
}

#[cfg(test)]
mod tests {
    use super::*;
    use serde_json::json;

    #[test]
    fn latency_prefers_the_publishers_stamp() {
        let mut m = Message {
            channel: "pack".into(),
            data: json!({"text": "hi", "sent_at": 1_000}),
            seq: 4,
            time: 1_010,
        };
        assert_eq!(latency_ms(&m, 1_025), 25);
        // The data is printed as its JSON text; key order depends on serde_json's features,
        // which the workspace may unify differently, so compare with the value's own text.
        assert_eq!(
            format_line(&m, 1_025),
            format!("pack #4 latency=25ms {}", m.data)
        );
        m.data = json!("plain");
        assert_eq!(latency_ms(&m, 1_025), 15);
    }
}

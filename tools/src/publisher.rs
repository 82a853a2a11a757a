//! `howl-pub`: publishes a message to a channel every interval, but only while the channel
//! has subscribers (it watches the channel and follows the hub's `channel_status` notices);
//! logs when it pauses and resumes; reconnects through the client session.

use crate::clock::now_millis;
use crate::driver::{self, Handler};
use howl_client_core::{ClientSession, ConnectionState, Event};
use howl_protocol::validate_channel;
use serde_json::json;
use std::future::Future;
use std::path::PathBuf;
use std::time::Duration;
use tracing::{info, warn};

/// Command-line options of `howl-pub`.
#[derive(Debug, Clone, clap::Parser)]
#[command(
    name = "howl-pub",
    version,
    about = "Publish to a Howl channel every interval, only while it has subscribers"
)]
pub struct PubOptions {
    /// WebSocket URL of the node.
    #[arg(long, env = "HOWL_URL", default_value = "ws://127.0.0.1:8000/ws")]
    pub url: String,
    /// Channel to publish to.
    #[arg(long, env = "HOWL_CHANNEL", default_value = "pack")]
    pub channel: String,
    /// Seconds between messages (fractions allowed).
    #[arg(long, env = "HOWL_INTERVAL", default_value = "1", value_parser = parse_interval)]
    pub interval: Duration,
    /// Text of every message; `{n}` is replaced by the message number.
    #[arg(
        long,
        env = "HOWL_MESSAGE",
        default_value = "Howl #{n}",
        conflicts_with = "lines"
    )]
    pub message: String,
    /// Publish the lines of this file instead (`-` for stdin), one per interval, in order;
    /// the publisher exits after the last one.
    #[arg(long)]
    pub lines: Option<PathBuf>,
    /// Stop after this many messages.
    #[arg(long)]
    pub count: Option<u64>,
    /// Connection token (a JWT) for a hub in secured mode; sent on every connection. It is
    /// not renewed: when it expires the tool stops with `token_expired`. On a hub's
    /// `--internal-listen` address none is needed.
    #[arg(long, env = "HOWL_TOKEN", hide_env_values = true)]
    pub token: Option<String>,
}

/// Parses a positive number of seconds.
pub fn parse_interval(text: &str) -> Result<Duration, String> {
    let seconds: f64 = text
        .trim_end_matches('s')
        .parse()
        .map_err(|_| format!("{text:?} is not a number of seconds"))?;
    if seconds.is_nan() || seconds <= 0.0 {
        return Err(format!("interval must be positive, got {text:?}"));
    }
    Duration::try_from_secs_f64(seconds).map_err(|e| e.to_string())
}

/// Where message texts come from.
#[derive(Debug, Clone)]
pub enum Source {
    /// The same template every time, `{n}` replaced by the message number.
    Template(String),
    /// These lines in order, then stop.
    Lines(Vec<String>),
}

impl Source {
    /// The text of message number `n` (1-based); `None` when the source is exhausted.
    pub fn text(&self, n: u64) -> Option<String> {
        match self {
            Self::Template(t) => Some(t.replace("{n}", &n.to_string())),
            Self::Lines(lines) => lines.get((n - 1) as usize).cloned(),
        }
    }
}

/// The pause/resume gate: publishing is allowed only while the channel is known to be
/// occupied. Pure logic, fed with the hub's notices and connection losses.
#[derive(Debug, Default, Clone, Copy, PartialEq, Eq)]
pub struct Gate {
    occupied: Option<bool>,
}

/// A change of the gate worth logging.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Transition {
    /// Publishing stops.
    Paused,
    /// Publishing starts again.
    Resumed,
}

impl Gate {
    /// The hub says whether the channel has subscribers.
    pub fn on_status(&mut self, occupied: bool) -> Option<Transition> {
        let was = self.occupied.replace(occupied);
        match (was, occupied) {
            (Some(true), true) | (Some(false), false) => None,
            (_, true) => Some(Transition::Resumed),
            (_, false) => Some(Transition::Paused),
        }
    }

    /// The connection was lost: occupancy is unknown until the next notice.
    pub fn on_lost(&mut self) -> Option<Transition> {
        match self.occupied.take() {
            Some(true) => Some(Transition::Paused),
            _ => None,
        }
    }

    /// Whether publishing is allowed.
    pub fn open(&self) -> bool {
        self.occupied == Some(true)
    }
}

/// The publisher's state, driven by [`driver::run`].
pub struct Publisher {
    channel: String,
    interval_ms: u64,
    source: Source,
    limit: Option<u64>,
    gate: Gate,
    published: u64,
    next_at: Option<u64>,
    exhausted: bool,
}

impl Publisher {
    /// A publisher for `options` taking texts from `source`.
    pub fn new(options: &PubOptions, source: Source) -> Self {
        Self {
            channel: options.channel.clone(),
            interval_ms: options.interval.as_millis().max(1) as u64,
            source,
            limit: options.count,
            gate: Gate::default(),
            published: 0,
            next_at: None,
            exhausted: false,
        }
    }

    /// How many messages were published.
    pub fn published(&self) -> u64 {
        self.published
    }

    fn log(&self, transition: Transition, why: &str) {
        match transition {
            Transition::Paused => info!(channel = %self.channel, "paused: {why}"),
            Transition::Resumed => info!(channel = %self.channel, "resumed: {why}"),
        }
    }
}

impl Handler for Publisher {
    fn start(&mut self, session: &mut ClientSession, _now: u64) {
        if let Err(error) = session.watch(&self.channel) {
            warn!(%error, channel = %self.channel, "cannot watch the channel");
            self.exhausted = true;
        }
    }

    fn on_event(&mut self, event: Event, _session: &mut ClientSession, now: u64) {
        match event {
            Event::StateChanged(ConnectionState::Open) => info!("connected"),
            Event::StateChanged(_) => {}
            Event::ChannelStatus { channel, occupied } if channel == self.channel => {
                match self.gate.on_status(occupied) {
                    Some(Transition::Resumed) => {
                        self.log(Transition::Resumed, "the channel has subscribers");
                        self.next_at = Some(now);
                    }
                    Some(Transition::Paused) => {
                        self.log(Transition::Paused, "the channel has no subscribers");
                        self.next_at = None;
                    }
                    None => {}
                }
            }
            Event::ConnectionLost(reason) => {
                warn!(%reason, "connection lost");
                if let Some(t) = self.gate.on_lost() {
                    self.log(t, "connection lost");
                }
                self.next_at = None;
            }
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

    fn wakeup(&self) -> Option<u64> {
        self.next_at.filter(|_| self.gate.open())
    }

    fn on_wakeup(&mut self, session: &mut ClientSession, now: u64) {
        let n = self.published + 1;
        let Some(text) = self.source.text(n) else {
            self.exhausted = true;
            return;
        };
        let data = json!({"text": text, "n": n, "sent_at": now_millis()});
        match session.publish(&self.channel, data, false) {
            Ok(()) => {
                self.published = n;
                info!(channel = %self.channel, n, %text, "published");
                if self.limit.is_some_and(|limit| n >= limit)
                    || matches!(&self.source, Source::Lines(l) if n as usize >= l.len())
                {
                    self.exhausted = true;
                }
            }
            Err(error) => warn!(%error, "publish failed"),
        }
        self.next_at = Some(now + self.interval_ms);
    }

    fn finished(&self) -> bool {
        self.exhausted
    }
}

/// Runs `howl-pub` until `shutdown` completes or the source is exhausted; returns how many
/// messages were published.
pub async fn run(
    options: &PubOptions,
    source: Source,
    shutdown: impl Future<Output = ()>,
) -> anyhow::Result<u64> {
    let seed = now_millis() ^ u64::from(std::process::id());
    validate_channel(&options.channel)?;
    let session = ClientSession::new(driver::client_config(options.token.as_deref()), seed)?;
    let mut publisher = Publisher::new(options, source);
    info!(url = %options.url, channel = %options.channel, interval = ?options.interval, "starting");
    if let Some(reason) = driver::run(&options.url, session, &mut publisher, shutdown).await {
        anyhow::bail!("the session ended: {reason}");
    }
    Ok(publisher.published())
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn gate_follows_notices_and_losses() {
        let mut gate = Gate::default();
        assert!(!gate.open());
        assert_eq!(gate.on_status(false), Some(Transition::Paused));
        assert_eq!(gate.on_status(false), None);
        assert_eq!(gate.on_status(true), Some(Transition::Resumed));
        assert!(gate.open());
        assert_eq!(gate.on_status(true), None);
        assert_eq!(gate.on_lost(), Some(Transition::Paused));
        assert!(!gate.open());
        assert_eq!(gate.on_lost(), None);
        assert_eq!(gate.on_status(true), Some(Transition::Resumed));
    }

    #[test]
    fn sources_give_texts_in_order() {
        let t = Source::Template("Howl #{n}".into());
        assert_eq!(t.text(3).as_deref(), Some("Howl #3"));
        let l = Source::Lines(vec!["a".into(), "b".into()]);
        assert_eq!(l.text(2).as_deref(), Some("b"));
        assert_eq!(l.text(3), None);
    }

    #[test]
    fn interval_must_be_positive() {
        assert_eq!(parse_interval("0.25"), Ok(Duration::from_millis(250)));
        assert!(parse_interval("0").is_err());
        assert!(parse_interval("-1").is_err());
        assert!(parse_interval("soon").is_err());
    }
}

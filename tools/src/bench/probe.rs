//! The fairness probe: a few of the loaded channel's subscribers, while they receive the full
//! stream, also send requests carrying a `ref` (`ping` every interval, and periodically
//! `unsubscribe` + `subscribe` of a second, quiet channel) and time each request until its
//! reply (`pong`, `unsubscribe_confirmation`, `subscribe_confirmation` echoing the `ref`)
//! arrives between the stream's message frames.
//!
//! [`Tracker`] is the bookkeeping of one probing connection (pure, no I/O); [`ProbeStats`]
//! sums the trackers of a run; [`request_frame`] and [`parse_reply`] are the wire side.

use super::wire::{self, opcode};
use hdrhistogram::Histogram;
use howl_protocol::{
    decode_server, ClientMessage, IdPayload, Ref, ServerMessage, SubscriptionPayload,
};
use serde::Serialize;
use std::collections::VecDeque;

/// Requests a probe may have outstanding at once; older ones beyond this count as unanswered
/// (keeps the bookkeeping bounded if a server stops answering).
pub const MAX_PENDING: usize = 4096;

/// The kinds of request the probe times.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Request {
    /// `ping`, answered by `pong`.
    Ping,
    /// `unsubscribe`, answered by `unsubscribe_confirmation`.
    Unsubscribe,
    /// `subscribe`, answered by `subscribe_confirmation`.
    Subscribe,
}

impl Request {
    /// Every kind, in the order of [`ProbeStats`]' arrays.
    pub const ALL: [Request; 3] = [Request::Ping, Request::Unsubscribe, Request::Subscribe];

    /// Index into [`ProbeStats`]' arrays.
    fn index(self) -> usize {
        self as usize
    }
}

/// A latency histogram in µs with the bench's bounds (1 µs to 1 h, 3 significant digits).
fn histogram() -> Histogram<u64> {
    Histogram::new_with_bounds(1, 3_600_000_000, 3).expect("valid histogram bounds")
}

/// Request → reply latencies and counts, per kind of request.
#[derive(Debug, Clone)]
pub struct ProbeStats {
    /// Latencies in µs, indexed like [`Request::ALL`].
    pub latency: [Histogram<u64>; 3],
    /// Requests sent, per kind.
    pub sent: [u64; 3],
    /// Requests still without a reply when the probe stopped, per kind.
    pub unanswered: [u64; 3],
    /// How long the oldest unanswered request of each kind had waited, in µs.
    pub oldest_unanswered_us: [u64; 3],
    /// Replies whose `ref` matched no outstanding request of their kind.
    pub unexpected: u64,
}

impl Default for ProbeStats {
    fn default() -> Self {
        Self {
            latency: [histogram(), histogram(), histogram()],
            sent: [0; 3],
            unanswered: [0; 3],
            oldest_unanswered_us: [0; 3],
            unexpected: 0,
        }
    }
}

impl ProbeStats {
    /// Adds another probe's figures to these.
    pub fn merge(&mut self, other: &ProbeStats) {
        for i in 0..3 {
            self.latency[i]
                .add(&other.latency[i])
                .expect("histograms with the same bounds");
            self.sent[i] += other.sent[i];
            self.unanswered[i] += other.unanswered[i];
            self.oldest_unanswered_us[i] =
                self.oldest_unanswered_us[i].max(other.oldest_unanswered_us[i]);
        }
        self.unexpected += other.unexpected;
    }

    /// The report's figures for `kind`.
    pub fn figures(&self, kind: Request) -> ProbeLatency {
        let i = kind.index();
        let h = &self.latency[i];
        ProbeLatency {
            sent: self.sent[i],
            answered: h.len(),
            unanswered: self.unanswered[i],
            oldest_unanswered_us: self.oldest_unanswered_us[i],
            mean_us: if h.is_empty() { 0.0 } else { h.mean() },
            p50_us: h.value_at_quantile(0.5),
            p99_us: h.value_at_quantile(0.99),
            max_us: h.max(),
        }
    }
}

/// One kind of request's figures in the report, in µs.
#[derive(Debug, Clone, Default, PartialEq, Serialize)]
pub struct ProbeLatency {
    /// Requests sent.
    pub sent: u64,
    /// Replies received (each one timed).
    pub answered: u64,
    /// Requests without a reply when the run ended.
    pub unanswered: u64,
    /// How long the oldest unanswered request had waited when the run ended (0 if none).
    pub oldest_unanswered_us: u64,
    /// Mean request → reply time.
    pub mean_us: f64,
    /// Median.
    pub p50_us: u64,
    /// 99th percentile.
    pub p99_us: u64,
    /// Largest.
    pub max_us: u64,
}

/// One probing connection's outstanding requests and measured latencies.
#[derive(Debug)]
pub struct Tracker {
    next_ref: i64,
    /// Outstanding requests, oldest first: (kind, ref, sent at µs).
    pending: VecDeque<(Request, i64, u64)>,
    stats: ProbeStats,
}

impl Default for Tracker {
    fn default() -> Self {
        Self::new()
    }
}

impl Tracker {
    /// A tracker with nothing outstanding; refs start at 1.
    pub fn new() -> Self {
        Self {
            next_ref: 1,
            pending: VecDeque::new(),
            stats: ProbeStats::default(),
        }
    }

    /// Records a request of `kind` sent at `now_us`; returns the `ref` to put on it.
    pub fn send(&mut self, kind: Request, now_us: u64) -> i64 {
        let reference = self.next_ref;
        self.next_ref += 1;
        if self.pending.len() >= MAX_PENDING {
            if let Some((old, _, sent)) = self.pending.pop_front() {
                self.give_up(old, sent, now_us);
            }
        }
        self.pending.push_back((kind, reference, now_us));
        self.stats.sent[kind.index()] += 1;
        reference
    }

    /// Matches a reply of `kind` carrying `reference` that arrived at `now_us`; returns the
    /// request → reply latency in µs, or `None` (counted as unexpected) when no outstanding
    /// request of that kind has that ref.
    pub fn reply(&mut self, kind: Request, reference: i64, now_us: u64) -> Option<u64> {
        let at = self
            .pending
            .iter()
            .position(|&(k, r, _)| k == kind && r == reference);
        let Some(at) = at else {
            self.stats.unexpected += 1;
            return None;
        };
        let (_, _, sent) = self.pending.remove(at).expect("position is in range");
        let latency = now_us.saturating_sub(sent);
        self.stats.latency[kind.index()].saturating_record(latency.max(1));
        Some(latency)
    }

    /// Requests still waiting for their reply.
    pub fn outstanding(&self) -> usize {
        self.pending.len()
    }

    /// Ends the probe at `now_us`: what is still outstanding counts as unanswered.
    pub fn finish(mut self, now_us: u64) -> ProbeStats {
        while let Some((kind, _, sent)) = self.pending.pop_front() {
            self.give_up(kind, sent, now_us);
        }
        self.stats
    }

    fn give_up(&mut self, kind: Request, sent: u64, now_us: u64) {
        let i = kind.index();
        self.stats.unanswered[i] += 1;
        self.stats.oldest_unanswered_us[i] =
            self.stats.oldest_unanswered_us[i].max(now_us.saturating_sub(sent));
    }
}

/// Appends the masked text frame of a `kind` request from connection `id` with `reference`
/// to `out`; `channel` is the channel of `unsubscribe`/`subscribe` (unused for `ping`).
pub fn request_frame(kind: Request, id: &str, channel: &str, reference: i64, out: &mut Vec<u8>) {
    let reference = Some(Ref::Int(reference));
    let subscription = || SubscriptionPayload {
        id: id.to_owned(),
        channel: Some(channel.to_owned()),
        reference: reference.clone(),
        token: None,
        since: None,
    };
    let message = match kind {
        Request::Ping => ClientMessage::Ping(IdPayload {
            id: id.to_owned(),
            reference: reference.clone(),
        }),
        Request::Unsubscribe => ClientMessage::Unsubscribe(subscription()),
        Request::Subscribe => ClientMessage::Subscribe(subscription()),
    };
    wire::encode(opcode::TEXT, message.to_json().as_bytes(), out);
}

/// The kind and integer `ref` of a reply the probe waits for; `None` for any other frame
/// (message frames, replies without a `ref`, e.g. heartbeat pongs).
pub fn parse_reply(text: &[u8]) -> Option<(Request, i64)> {
    let text = std::str::from_utf8(text).ok()?;
    let (kind, reference) = match decode_server(text).ok()? {
        ServerMessage::Pong(p) => (Request::Ping, p.reference),
        ServerMessage::UnsubscribeConfirmation(c) => (Request::Unsubscribe, c.reference),
        ServerMessage::SubscribeConfirmation(c) => (Request::Subscribe, c.reference),
        _ => return None,
    };
    match reference? {
        Ref::Int(n) => Some((kind, n)),
        Ref::Str(_) => None,
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use howl_protocol::{decode_client, PongPayload};

    #[test]
    fn times_each_reply_against_its_own_request() {
        let mut t = Tracker::new();
        let ping1 = t.send(Request::Ping, 1_000);
        let unsub = t.send(Request::Unsubscribe, 1_500);
        let ping2 = t.send(Request::Ping, 2_000);
        assert_eq!((ping1, unsub, ping2), (1, 2, 3));
        assert_eq!(t.outstanding(), 3);
        // Replies may come out of order relative to the requests of other kinds.
        assert_eq!(t.reply(Request::Ping, ping2, 2_250), Some(250));
        assert_eq!(t.reply(Request::Unsubscribe, unsub, 9_500), Some(8_000));
        // A ref of the wrong kind, or one already answered, matches nothing.
        assert_eq!(t.reply(Request::Subscribe, ping1, 9_600), None);
        assert_eq!(t.reply(Request::Ping, ping2, 9_600), None);
        assert_eq!(t.outstanding(), 1);
        let stats = t.finish(101_000);
        let ping = stats.figures(Request::Ping);
        assert_eq!((ping.sent, ping.answered, ping.unanswered), (2, 1, 1));
        assert_eq!(ping.oldest_unanswered_us, 100_000);
        assert_eq!((ping.p50_us, ping.max_us), (250, 250));
        let unsub = stats.figures(Request::Unsubscribe);
        assert_eq!((unsub.sent, unsub.answered, unsub.unanswered), (1, 1, 0));
        // The histogram keeps 3 significant digits.
        assert!((8_000..=8_008).contains(&unsub.max_us), "{}", unsub.max_us);
        assert_eq!(stats.figures(Request::Subscribe), ProbeLatency::default());
        assert_eq!(stats.unexpected, 2);
    }

    #[test]
    fn merges_probes_and_reads_percentiles() {
        let mut total = ProbeStats::default();
        for probe in 0..2u64 {
            let mut t = Tracker::new();
            for i in 0..100u64 {
                let sent = i * 100_000;
                let r = t.send(Request::Ping, sent);
                // Latencies 1..=100 ms, plus 1 µs for the second probe.
                t.reply(Request::Ping, r, sent + (i + 1) * 1_000 + probe);
            }
            t.send(Request::Subscribe, 0);
            total.merge(&t.finish(5_000));
        }
        let ping = total.figures(Request::Ping);
        assert_eq!((ping.sent, ping.answered, ping.unanswered), (200, 200, 0));
        // 3 significant digits: within 0.1 %.
        assert!((49_900..=50_100).contains(&ping.p50_us), "{}", ping.p50_us);
        assert!((98_900..=99_100).contains(&ping.p99_us), "{}", ping.p99_us);
        assert!((99_900..=100_100).contains(&ping.max_us), "{}", ping.max_us);
        let sub = total.figures(Request::Subscribe);
        assert_eq!((sub.unanswered, sub.oldest_unanswered_us), (2, 5_000));
    }

    #[test]
    fn bounds_what_is_outstanding() {
        let mut t = Tracker::new();
        for i in 0..(MAX_PENDING as u64 + 10) {
            t.send(Request::Ping, i);
        }
        assert_eq!(t.outstanding(), MAX_PENDING);
        let stats = t.finish(MAX_PENDING as u64 + 10);
        // Every request went unanswered; the ones pushed out had waited MAX_PENDING µs (one
        // per µs), as had the oldest left at the end.
        assert_eq!(stats.unanswered[0], MAX_PENDING as u64 + 10);
        assert_eq!(stats.oldest_unanswered_us[0], MAX_PENDING as u64);
    }

    fn unmasked_text(frame: &[u8]) -> String {
        assert_eq!(frame[0], 0x81);
        let len = usize::from(frame[1] & 0x7f);
        assert!(len < 126 && frame.len() == 6 + len);
        let mask = &frame[2..6];
        let bytes: Vec<u8> = frame[6..]
            .iter()
            .enumerate()
            .map(|(i, b)| b ^ mask[i & 3])
            .collect();
        String::from_utf8(bytes).unwrap()
    }

    #[test]
    fn requests_are_protocol_frames_with_the_ref() {
        let mut out = Vec::new();
        request_frame(Request::Ping, "c1", "quiet", 7, &mut out);
        let text = unmasked_text(&out);
        assert_eq!(text, r#"{"type":"ping","payload":{"id":"c1","ref":7}}"#);
        assert!(matches!(decode_client(&text), Ok(ClientMessage::Ping(_))));
        for (kind, name) in [
            (Request::Unsubscribe, "unsubscribe"),
            (Request::Subscribe, "subscribe"),
        ] {
            out.clear();
            request_frame(kind, "c1", "quiet", 8, &mut out);
            let decoded = decode_client(&unmasked_text(&out)).unwrap();
            assert_eq!(decoded.type_name(), name);
            assert_eq!(decoded.reference(), Some(&Ref::Int(8)));
        }
    }

    #[test]
    fn reads_the_replies_the_hub_sends() {
        let pong = ServerMessage::Pong(PongPayload {
            time: 1,
            reference: Some(Ref::Int(5)),
        });
        assert_eq!(
            parse_reply(pong.to_json().as_bytes()),
            Some((Request::Ping, 5))
        );
        let unsub = ServerMessage::unsubscribed(Some("quiet".into()), Some(Ref::Int(6)));
        assert_eq!(
            parse_reply(unsub.to_json().as_bytes()),
            Some((Request::Unsubscribe, 6))
        );
        let sub = ServerMessage::subscribed(Some("quiet".into()), Some(Ref::Int(9)));
        assert_eq!(
            parse_reply(sub.to_json().as_bytes()),
            Some((Request::Subscribe, 9))
        );
        // A heartbeat pong without a ref, a string ref and a message frame are not replies.
        let plain = ServerMessage::Pong(PongPayload {
            time: 1,
            reference: None,
        });
        assert_eq!(parse_reply(plain.to_json().as_bytes()), None);
        let named = ServerMessage::subscribed(None, Some(Ref::from("x")));
        assert_eq!(parse_reply(named.to_json().as_bytes()), None);
        let message =
            br#"{"type":"message","payload":{"channel":"bench","seq":1,"time":1,"data":"s1t2-x"}}"#;
        assert_eq!(parse_reply(message), None);
    }
}

//! Stream positions: where each subscription of the set is in its channel's stream, recovery
//! after a reconnect (`subscribe` with `since`), and live gaps filled from history.
//!
//! Within one subscription the server delivers a channel's messages in `seq` order, one apart.
//! So a message at the expected `seq` is delivered, one at or below the last is a duplicate,
//! and one further ahead reveals a gap: the session asks `history` for the missing ones
//! (`since` the last delivered position) and holds live messages back until they are in, so
//! the application still sees every message once, in order. Only what cannot be recovered is
//! reported, as [`Event::Gap`]. Positions are tracked once the server confirmed a position
//! (`epoch`, `seq`), for channels in the subscription set; channels the server subscribed
//! and unnumbered messages (`seq` 0) get duplicate suppression only.

use super::ClientSession;
use crate::dedup::Verdict;
use crate::event::{Event, Message, RequestId};
use crate::history::parse;
use howl_protocol::{
    ChannelMessage, ClientMessage, ConfirmationPayload, HistoryPayload, HistoryResult, Ref,
    StreamPosition,
};
use serde_json::value::RawValue;

/// At most this many live messages are held back while a gap is filled; one more gives up
/// filling it (the gap is reported).
pub(super) const MAX_HELD: usize = 1_000;

/// One subscription's place in its channel's stream.
#[derive(Debug)]
pub(super) struct Stream {
    /// The last message delivered, or before any the confirmation's position.
    position: StreamPosition,
    /// A gap being filled from history.
    fill: Option<Fill>,
    /// `seq`s after the position of this connection's own publishes with `exclude_self`,
    /// which the server does not send back (see `excluded`).
    skip: Vec<u64>,
}

impl Stream {
    /// Moves the position past this connection's own messages right after it.
    fn pass_own(&mut self) {
        while let Some(next) = self.position.seq.checked_add(1) {
            let Some(i) = self.skip.iter().position(|s| *s == next) else {
                break;
            };
            self.skip.swap_remove(i);
            self.position.seq = next;
        }
        let seq = self.position.seq;
        self.skip.retain(|s| *s > seq);
    }
}

/// A `history` request filling a gap, and the live messages held back meanwhile.
#[derive(Debug)]
struct Fill {
    id: RequestId,
    deadline: u64,
    /// In arrival order, which is `seq` order.
    held: Vec<ChannelMessage>,
}

/// What a `subscribe_confirmation` says about the subscription's stream.
pub(super) struct Confirmed {
    pub(super) position: Option<StreamPosition>,
    pub(super) recovered: Option<bool>,
    pub(super) recovered_count: u64,
    /// Lost for good: the position before and after the loss.
    pub(super) gap: Option<(StreamPosition, StreamPosition)>,
}

impl ClientSession {
    /// Where a subscribe of `channel` resumes from: the last position delivered, if any.
    pub(super) fn since(&self, channel: &str) -> Option<StreamPosition> {
        self.streams.get(channel).map(|s| s.position.clone())
    }

    /// A subscribe of `channel` was confirmed with `p`: the stream's position now, and with
    /// `since` (the position before) whether everything after it follows.
    pub(super) fn confirm_stream(&mut self, channel: &str, p: &ConfirmationPayload) -> Confirmed {
        let (before, mut skip) = match self.streams.remove(channel) {
            Some(stream) => (Some(stream.position), stream.skip),
            None => (None, Vec::new()),
        };
        let (Some(epoch), Some(seq)) = (p.epoch.clone(), p.seq) else {
            // No position: nothing to track, nothing recovered.
            return Confirmed {
                position: None,
                recovered: before.as_ref().map(|_| false),
                recovered_count: 0,
                gap: None,
            };
        };
        let now = StreamPosition { epoch, seq };
        let mut confirmed = Confirmed {
            position: Some(now.clone()),
            recovered: None,
            recovered_count: 0,
            gap: None,
        };
        let start = match before {
            None => now,
            // Recovered: the missed messages follow, from `since` on.
            Some(since)
                if since.epoch == now.epoch
                    && since.seq <= now.seq
                    && (p.recovered == Some(true)
                        || p.recovered.is_none() && since.seq == now.seq) =>
            {
                confirmed.recovered = Some(true);
                let own = skip.iter().filter(|s| since.seq < **s && **s <= now.seq);
                confirmed.recovered_count = now.seq - since.seq - own.count() as u64;
                since
            }
            Some(since) => {
                confirmed.recovered = Some(false);
                if since.epoch != now.epoch {
                    // A new stream: its numbers say nothing about the old one's.
                    self.dedup.forget(channel);
                }
                skip.retain(|s| since.epoch == now.epoch && *s > now.seq);
                confirmed.gap = Some((since, now.clone()));
                now
            }
        };
        self.streams.insert(
            channel,
            Stream {
                position: start,
                fill: None,
                skip,
            },
        );
        confirmed
    }

    /// A message of a subscribed channel: delivered in order, held back while a gap is
    /// filled, dropped if seen, or the start of a gap fill.
    pub(super) fn deliver(&mut self, m: ChannelMessage, now: u64) {
        let confirmed = self.channels.get(&m.channel) == Some(&true);
        let stream = self.streams.get_mut(&m.channel).filter(|_| confirmed);
        let Some(stream) = stream.filter(|_| m.seq != 0) else {
            self.emit_message(&m.channel, m.seq, m.time, &m.data);
            return;
        };
        if let Some(fill) = &mut stream.fill {
            if fill.held.len() < MAX_HELD {
                fill.held.push(m);
            } else {
                // Too much to hold: the gap stays, delivery goes on.
                let channel = m.channel.clone();
                self.end_fill(&channel, None, now);
                self.deliver(m, now);
            }
            return;
        }
        let own = stream.skip.contains(&m.seq);
        stream.pass_own();
        let last = stream.position.seq;
        if m.seq <= last {
            if !own {
                self.stats.duplicates_dropped += 1;
            }
        } else if m.seq > last.saturating_add(1) {
            self.start_fill(m, now);
        } else {
            stream.position.seq = m.seq;
            self.emit_message(&m.channel, m.seq, m.time, &m.data);
        }
    }

    /// Hands a message to the application unless it is a duplicate.
    fn emit_message(&mut self, channel: &str, seq: u64, time: u64, data: &RawValue) {
        if self.dedup.admit(channel, seq, time) == Verdict::Duplicate {
            self.stats.duplicates_dropped += 1;
            return;
        }
        self.emit(Event::Message(Message {
            channel: channel.to_owned(),
            data: parse(data),
            seq,
            time,
        }));
    }

    pub(super) fn emit_gap(&mut self, channel: &str, from: StreamPosition, to: StreamPosition) {
        self.stats.gaps += 1;
        self.emit(Event::Gap {
            channel: channel.to_owned(),
            from,
            to,
        });
    }

    /// `m` skipped messages: asks `history` for them and holds `m` back.
    fn start_fill(&mut self, m: ChannelMessage, now: u64) {
        let id = self.next_request_id();
        let deadline = now.saturating_add(self.config.request_timeout_ms);
        let channel = m.channel.clone();
        let Some(stream) = self.streams.get_mut(&channel) else {
            return;
        };
        let since = stream.position.clone();
        let missing = m.seq - since.seq - 1;
        stream.fill = Some(Fill {
            id,
            deadline,
            held: vec![m],
        });
        self.send(ClientMessage::History(HistoryPayload {
            id: self.id.clone().unwrap_or_default(),
            channel,
            limit: Some(u32::try_from(missing).unwrap_or(u32::MAX)),
            since: Some(since),
            reference: i64::try_from(id.0).ok().map(Ref::Int),
        }));
    }

    /// The channel whose gap fill `reference` names.
    fn filling(&self, reference: Option<&Ref>) -> Option<String> {
        let Some(Ref::Int(n)) = reference else {
            return None;
        };
        self.streams.iter().find_map(|(channel, s)| {
            let fill = s.fill.as_ref()?;
            (i64::try_from(fill.id.0).ok() == Some(*n)).then(|| channel.to_owned())
        })
    }

    /// A `history_result` for a gap fill: delivers it; hands back one that answers none.
    pub(super) fn on_fill_result(
        &mut self,
        result: HistoryResult,
        now: u64,
    ) -> Option<HistoryResult> {
        let Some(channel) = self.filling(result.reference.as_ref()) else {
            return Some(result);
        };
        self.end_fill(&channel, Some(result), now);
        None
    }

    /// An `error` answering a gap fill: the gap stays; `false` if it answers none.
    pub(super) fn on_fill_error(&mut self, reference: Option<&Ref>, now: u64) -> bool {
        let Some(channel) = self.filling(reference) else {
            return false;
        };
        self.end_fill(&channel, None, now);
        true
    }

    /// Ends `channel`'s gap fill with its history (`None`: it failed): delivers what
    /// history had, reports what is missing, then the held messages.
    fn end_fill(&mut self, channel: &str, result: Option<HistoryResult>, now: u64) {
        let Some(stream) = self.streams.get_mut(channel) else {
            return;
        };
        let Some(fill) = stream.fill.take() else {
            return;
        };
        let mut position = stream.position.clone();
        let mut skip = std::mem::take(&mut stream.skip);
        let resume = fill.held.first().map_or(u64::MAX, |m| m.seq);
        match result {
            Some(r) if r.epoch == position.epoch => {
                for h in r.messages {
                    if h.seq <= position.seq || h.seq >= resume {
                        continue;
                    }
                    if h.seq > position.seq.saturating_add(1) {
                        // The oldest missing ones already left the history.
                        let to = StreamPosition {
                            epoch: position.epoch.clone(),
                            seq: h.seq - 1,
                        };
                        self.emit_gap(channel, position.clone(), to);
                    }
                    position.seq = h.seq;
                    if !skip.contains(&h.seq) {
                        self.emit_message(channel, h.seq, h.time, &h.data);
                    }
                }
                while let Some(next) = position.seq.checked_add(1).filter(|n| skip.contains(n)) {
                    position.seq = next;
                }
            }
            Some(r) => {
                // The stream restarted: the missing messages are gone with the old epoch.
                self.dedup.forget(channel);
                skip.clear();
                let to = StreamPosition {
                    epoch: r.epoch,
                    seq: resume.saturating_sub(1),
                };
                self.emit_gap(channel, position.clone(), to.clone());
                position = to;
            }
            None => {}
        }
        if resume != u64::MAX && position.seq.saturating_add(1) < resume {
            let to = StreamPosition {
                epoch: position.epoch.clone(),
                seq: resume - 1,
            };
            self.emit_gap(channel, position, to.clone());
            position = to;
        }
        if let Some(stream) = self.streams.get_mut(channel) {
            stream.position = position;
            stream.skip = skip;
            stream.pass_own();
        }
        for m in fill.held {
            self.deliver(m, now);
        }
    }

    /// This connection published `seq` to `channel` with `exclude_self`: it will not come
    /// back, and is no gap.
    pub(super) fn skip_own(&mut self, channel: &str, seq: u64) {
        let Some(stream) = self.streams.get_mut(channel) else {
            return;
        };
        if seq > stream.position.seq && !stream.skip.contains(&seq) {
            stream.skip.push(seq);
            if stream.fill.is_none() {
                stream.pass_own();
            }
        }
    }

    /// Gives up gap fills whose answer is overdue.
    pub(super) fn expire_fills(&mut self, now: u64) {
        let overdue: Vec<String> = self
            .streams
            .iter()
            .filter(|(_, s)| s.fill.as_ref().is_some_and(|f| now >= f.deadline))
            .map(|(channel, _)| channel.to_owned())
            .collect();
        for channel in overdue {
            self.end_fill(&channel, None, now);
        }
    }

    /// The earliest gap fill deadline.
    pub(super) fn fill_deadline(&self) -> Option<u64> {
        self.streams
            .iter()
            .filter_map(|(_, s)| s.fill.as_ref().map(|f| f.deadline))
            .min()
    }

    /// The connection is gone: gap fills are moot (held messages were not delivered, so the
    /// re-subscription recovers them with everything else since the last one delivered).
    pub(super) fn fills_dropped(&mut self) {
        for stream in self.streams.values_mut() {
            stream.fill = None;
        }
    }

    /// `channel` left the subscription set: forget its position and what it delivered.
    pub(super) fn forget_stream(&mut self, channel: &str) {
        self.streams.remove(channel);
        self.dedup.forget(channel);
    }
}

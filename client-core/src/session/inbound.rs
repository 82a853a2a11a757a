//! Frames from the server. Nothing here panics on bad input: undecodable frames are reported
//! as [`Event::ProtocolViolation`], unknown event types are ignored (a newer server may send
//! them), and frames that make no sense in the current state are counted and ignored.

use super::requests::Kind;
use super::{ClientSession, Conn};
use crate::dedup::Verdict;
use crate::event::{Event, Message};
use howl_protocol::{decode_server, ChannelMessage, ErrorCode, ServerMessage};
use serde_json::Value;

impl ClientSession {
    /// A text frame arrived on the current socket. Any frame proves the server is alive.
    pub fn on_frame(&mut self, text: &str, now: u64) {
        match &mut self.conn {
            Conn::None => return,
            Conn::Handshaking { .. } => {}
            Conn::Ready(live) => live.silent_since = None,
        }
        let msg = match decode_server(text) {
            Ok(msg) => msg,
            Err(e) if e.code == ErrorCode::UnknownType => {
                self.stats.unknown_ignored += 1;
                return;
            }
            Err(e) => {
                self.stats.invalid_frames += 1;
                self.emit(Event::ProtocolViolation(e.to_string()));
                return;
            }
        };
        if !self.is_ready() {
            match msg {
                ServerMessage::Initial(p) => self.handshake_done(p.id, now),
                ServerMessage::Error(p) => self.emit(Event::ServerError(p)),
                _ => self.stats.unexpected_ignored += 1,
            }
            return;
        }
        match msg {
            ServerMessage::Initial(_) => self.stats.unexpected_ignored += 1,
            ServerMessage::SubscribeConfirmation(p) => {
                self.on_confirmation(Kind::Subscribe, p.channel)
            }
            ServerMessage::UnsubscribeConfirmation(p) => {
                self.on_confirmation(Kind::Unsubscribe, p.channel)
            }
            // This session always subscribes by name, so the original protocol's
            // `wisdom_distribution` and confirmations of publishes it did not ask for
            // (it sends no `ref`) are unexpected here.
            ServerMessage::WisdomDistribution(_) | ServerMessage::PublishConfirmation(_) => {
                self.stats.unexpected_ignored += 1
            }
            ServerMessage::Message(m) => self.deliver(m),
            ServerMessage::ChannelStatus(s) => {
                if self.watches.contains_key(&s.channel) {
                    self.emit(Event::ChannelStatus {
                        channel: s.channel,
                        occupied: s.occupied,
                    });
                } else {
                    self.stats.unexpected_ignored += 1;
                }
            }
            ServerMessage::Pong(p) => {
                let sent = match &mut self.conn {
                    Conn::Ready(live) => live.pings_in_flight.pop_front(),
                    _ => None,
                };
                match sent {
                    Some(sent) => self.emit(Event::Pong {
                        rtt_ms: now.saturating_sub(sent),
                        server_time: p.time,
                    }),
                    None => self.stats.unexpected_ignored += 1,
                }
            }
            ServerMessage::Error(p) => self.on_error(p),
            // Server-side subscriptions are not tracked by this session yet.
            ServerMessage::Subscribed(_) | ServerMessage::Unsubscribed(_) => {
                self.stats.unexpected_ignored += 1
            }
        }
    }

    fn deliver(&mut self, m: ChannelMessage) {
        if !self.channels.contains_key(&m.channel) {
            self.stats.unsolicited_dropped += 1;
            return;
        }
        if self.dedup.admit(&m.channel, m.seq, m.time) == Verdict::Duplicate {
            self.stats.duplicates_dropped += 1;
            return;
        }
        // The frame was valid JSON, so its data parses.
        let data = serde_json::from_str::<Value>(m.data.get()).unwrap_or(Value::Null);
        self.emit(Event::Message(Message {
            channel: m.channel,
            data,
            seq: m.seq,
            time: m.time,
        }));
    }
}

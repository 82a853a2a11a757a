//! Frames from the server. Nothing here panics on bad input: undecodable frames are reported
//! as [`Event::ProtocolViolation`], unknown event types are ignored (a newer server may send
//! them), and frames that make no sense in the current state are counted and ignored.

use super::requests::Kind;
use super::{ClientSession, Conn};
use crate::event::Event;
use howl_protocol::{decode_server, ErrorCode, ServerMessage};

impl ClientSession {
    /// A text frame arrived on the current socket. Any frame proves the server is alive.
    pub fn on_frame(&mut self, text: &str, now: u64) {
        match &mut self.conn {
            Conn::None | Conn::FetchingToken { .. } => return,
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
            ServerMessage::SubscribeConfirmation(p) => self.on_confirmation(Kind::Subscribe, p),
            ServerMessage::UnsubscribeConfirmation(p) => self.on_confirmation(Kind::Unsubscribe, p),
            // This session always subscribes by name, so the original protocol's
            // `wisdom_distribution` is unexpected here.
            ServerMessage::WisdomDistribution(_) => self.stats.unexpected_ignored += 1,
            ServerMessage::PublishConfirmation(p) => self.on_publish_confirmation(p),
            ServerMessage::Message(m) => {
                if self.is_subscribed(&m.channel) {
                    self.deliver(m, now);
                } else {
                    self.stats.unsolicited_dropped += 1;
                }
            }
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
            ServerMessage::Pong(p) => self.on_pong(p.time, now),
            ServerMessage::Error(p) => {
                let p = self.on_publish_error(p);
                if let Some(p) = p.and_then(|p| self.on_read_error(p, now)) {
                    self.on_error(p);
                }
            }
            ServerMessage::Subscribed(p) => {
                if self.server_channels.insert(&p.channel, ()) {
                    self.emit(Event::Subscribed { channel: p.channel });
                } else {
                    self.stats.unexpected_ignored += 1;
                }
            }
            ServerMessage::Unsubscribed(p) => {
                let by_server = self.server_channels.remove(&p.channel).is_some();
                // The server is the authority on this connection's subscriptions: a channel
                // it dropped leaves the set too, so a reconnect does not join it again.
                let by_client = self.channels.remove(&p.channel).is_some();
                if by_server || by_client {
                    self.forget_stream(&p.channel);
                    self.emit(Event::Unsubscribed { channel: p.channel });
                } else {
                    self.stats.unexpected_ignored += 1;
                }
            }
            ServerMessage::HistoryResult(r) => self.on_history_result(r, now),
            ServerMessage::PresenceResult(r) => self.on_presence_result(r),
            ServerMessage::Join(e) if self.is_subscribed(&e.channel) => self.emit(Event::Join {
                channel: e.channel,
                member: e.member.into(),
            }),
            ServerMessage::Leave(e) if self.is_subscribed(&e.channel) => self.emit(Event::Leave {
                channel: e.channel,
                member: e.member.into(),
            }),
            ServerMessage::Join(_) | ServerMessage::Leave(_) => self.stats.unexpected_ignored += 1,
        }
    }

    /// Whether `channel` is in the subscription set or the server subscribed it.
    fn is_subscribed(&self, channel: &str) -> bool {
        self.channels.contains_key(channel) || self.server_channels.contains_key(channel)
    }
}

//! The application's reads: `history` and `presence`. Each is sent with a `ref` (its id) and
//! settled by the `history_result`, `presence_result` or `error` that echoes it. Reads change
//! nothing on the server, so they wait while the connection is down and are sent (again)
//! once it is open, until their request timeout.

use super::ClientSession;
use crate::error::ClientError;
use crate::event::{ConnectionState, Event, Message, RequestId};
use crate::history::{parse, History, HistoryOptions, Member, Presence};
use howl_protocol::client::ChannelPayload;
use howl_protocol::{
    validate_channel, ClientMessage, ErrorPayload, HistoryPayload, HistoryResult, PresenceResult,
    Ref, StreamPosition,
};

/// A read waiting to be sent (`sent` false) or for its answer.
#[derive(Debug)]
pub(super) struct Read {
    id: RequestId,
    channel: String,
    kind: ReadKind,
    sent: bool,
    deadline: u64,
}

#[derive(Debug)]
enum ReadKind {
    History(HistoryOptions),
    Presence,
}

impl ClientSession {
    /// Reads `channel`'s history (the whole of it by default; see [`HistoryOptions`]). The
    /// answer arrives as [`Event::HistoryDone`] with the returned id: the stream's position
    /// and the messages, oldest first, or the server's refusal (`not_available` when the
    /// channel keeps no history, `permission_denied`, `broker_unavailable`, …). While the
    /// session is connecting or reconnecting the request waits and is sent once it is open.
    /// It fails with [`ClientError::Timeout`] when no answer arrived within the request
    /// timeout of the call, with [`ClientError::Closed`] when the session closes, and at once
    /// for a bad channel or a closed session.
    pub fn history(&mut self, channel: &str, options: HistoryOptions, now: u64) -> RequestId {
        self.read(channel, ReadKind::History(options), now)
    }

    /// Asks who is subscribed to `channel`. The answer arrives as [`Event::PresenceDone`]
    /// with the returned id (`not_available` when the channel keeps no presence); otherwise
    /// like [`ClientSession::history`].
    pub fn presence(&mut self, channel: &str, now: u64) -> RequestId {
        self.read(channel, ReadKind::Presence, now)
    }

    fn read(&mut self, channel: &str, kind: ReadKind, now: u64) -> RequestId {
        let id = self.next_request_id();
        let refused = match validate_channel(channel) {
            Err(e) => Some(ClientError::from(e)),
            Ok(()) if self.state == ConnectionState::Closed => Some(ClientError::Closed),
            Ok(()) => None,
        };
        let mut read = Read {
            id,
            channel: channel.to_owned(),
            kind,
            sent: false,
            deadline: now.saturating_add(self.config.request_timeout_ms),
        };
        match refused {
            Some(error) => self.fail(read, error),
            None => {
                if self.state == ConnectionState::Open {
                    self.send_read(&mut read);
                }
                self.reads.push(read);
            }
        }
        id
    }

    fn send_read(&mut self, read: &mut Read) {
        let id = self.id.clone().unwrap_or_default();
        let reference = i64::try_from(read.id.0).ok().map(Ref::Int);
        let channel = read.channel.clone();
        self.send(match &read.kind {
            ReadKind::History(options) => ClientMessage::History(HistoryPayload {
                id,
                channel,
                limit: options.limit,
                since: options.since.clone(),
                reference,
            }),
            ReadKind::Presence => ClientMessage::Presence(ChannelPayload {
                id,
                channel,
                reference,
            }),
        });
        read.sent = true;
    }

    /// The session is open: send the reads not sent on this connection, oldest first.
    pub(super) fn flush_reads(&mut self) {
        let mut reads = std::mem::take(&mut self.reads);
        for read in reads.iter_mut().filter(|r| !r.sent) {
            self.send_read(read);
        }
        // Reads made while flushing were sent already.
        reads.append(&mut self.reads);
        self.reads = reads;
    }

    /// The connection dropped: no answer will come; send the reads again once open.
    pub(super) fn reads_dropped(&mut self) {
        for read in &mut self.reads {
            read.sent = false;
        }
    }

    /// The session closed: every read fails with `error`.
    pub(super) fn fail_reads(&mut self, error: &ClientError) {
        for read in std::mem::take(&mut self.reads) {
            self.fail(read, error.clone());
        }
    }

    /// Fails reads whose deadline passed.
    pub(super) fn expire_reads(&mut self, now: u64) {
        let (expired, pending): (Vec<Read>, Vec<Read>) = std::mem::take(&mut self.reads)
            .into_iter()
            .partition(|r| now >= r.deadline);
        self.reads = pending;
        let timeout = self.config.request_timeout_ms;
        for read in expired {
            self.fail(read, ClientError::Timeout(timeout));
        }
    }

    /// The earliest read deadline.
    pub(super) fn read_deadline(&self) -> Option<u64> {
        self.reads.iter().map(|r| r.deadline).min()
    }

    /// A `history_result`: fills a gap, or answers the history read it names.
    pub(super) fn on_history_result(&mut self, result: HistoryResult, now: u64) {
        let Some(result) = self.on_fill_result(result, now) else {
            return;
        };
        match self.take_read(result.reference.as_ref(), Some(true)) {
            Some(read) => {
                let channel = &result.channel;
                let messages = result
                    .messages
                    .iter()
                    .map(|m| Message {
                        channel: channel.clone(),
                        data: parse(&m.data),
                        seq: m.seq,
                        time: m.time,
                    })
                    .collect();
                let history = History {
                    position: StreamPosition {
                        epoch: result.epoch,
                        seq: result.seq,
                    },
                    messages,
                };
                self.emit(Event::HistoryDone {
                    id: read.id,
                    result: Ok(history),
                });
            }
            None => self.stats.unexpected_ignored += 1,
        }
    }

    /// A `presence_result`: answers the presence read it names.
    pub(super) fn on_presence_result(&mut self, result: PresenceResult) {
        match self.take_read(result.reference.as_ref(), Some(false)) {
            Some(read) => {
                let presence = Presence {
                    count: result.count,
                    members: result
                        .members
                        .map(|list| list.into_iter().map(Member::from).collect()),
                };
                self.emit(Event::PresenceDone {
                    id: read.id,
                    result: Ok(presence),
                });
            }
            None => self.stats.unexpected_ignored += 1,
        }
    }

    /// An `error` answering a read or a gap fill (by its `ref`) settles it; any other is
    /// handed back.
    pub(super) fn on_read_error(
        &mut self,
        payload: ErrorPayload,
        now: u64,
    ) -> Option<ErrorPayload> {
        if self.on_fill_error(payload.reference.as_ref(), now) {
            return None;
        }
        let Some(read) = self.take_read(payload.reference.as_ref(), None) else {
            return Some(payload);
        };
        let error = ClientError::Server {
            code: payload.code,
            message: payload.message,
        };
        self.fail(read, error);
        None
    }

    /// The sent read `reference` names; with `history`, only a history (`true`) or a
    /// presence (`false`) read.
    fn take_read(&mut self, reference: Option<&Ref>, history: Option<bool>) -> Option<Read> {
        let Some(Ref::Int(n)) = reference else {
            return None;
        };
        let index = self.reads.iter().position(|r| {
            r.sent
                && i64::try_from(r.id.0).ok() == Some(*n)
                && history.is_none_or(|h| matches!(r.kind, ReadKind::History(_)) == h)
        })?;
        Some(self.reads.remove(index))
    }

    /// Reports a read that failed with `error`.
    fn fail(&mut self, read: Read, error: ClientError) {
        let id = read.id;
        self.emit(match read.kind {
            ReadKind::History(_) => Event::HistoryDone {
                id,
                result: Err(error),
            },
            ReadKind::Presence => Event::PresenceDone {
                id,
                result: Err(error),
            },
        });
    }
}

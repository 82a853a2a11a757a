//! Publishes that want the server's answer: each is sent with a `ref` and settled by the
//! `publish_confirmation` or `error` that echoes it. While the connection is down they wait
//! in a bounded queue and are sent once it is open again.

use super::ClientSession;
use crate::error::ClientError;
use crate::event::{ConnectionState, Event, PublishAck, RequestId};
use howl_protocol::{
    validate_channel, ClientMessage, ErrorPayload, PublishConfirmation, PublishPayload, Ref,
};
use serde_json::value::RawValue;
use serde_json::Value;

/// A publish waiting to be sent (`sent` false) or for its answer.
#[derive(Debug)]
pub(super) struct Publish {
    id: RequestId,
    channel: String,
    data: Box<RawValue>,
    exclude_self: bool,
    sent: bool,
    deadline: u64,
}

impl ClientSession {
    /// Publishes `data` to `channel` and reports the server's answer as
    /// [`Event::PublishDone`] with the returned id: `Ok` with the message's `seq` on
    /// `publish_confirmation`, or the server's refusal (e.g. `permission_denied`,
    /// `rate_limited`, `broker_unavailable`). The frame carries a `ref` (the id) to match the
    /// answer. While the session is connecting or reconnecting the publish waits in a queue
    /// of at most [`crate::ClientConfig::publish_queue_limit`] and is sent once the connection
    /// is open; a full queue fails it at once with [`ClientError::PublishQueueFull`]. It fails
    /// with [`ClientError::Timeout`] when no answer arrived within the request timeout of
    /// the call (queued time included), with [`ClientError::ConnectionLost`] when the
    /// connection dropped after it was sent (it may or may not have been published), with
    /// [`ClientError::Closed`] when the session closes, and at once for a bad channel, a
    /// closed session or a frame over the size limit.
    pub fn publish_confirmed(
        &mut self,
        channel: &str,
        data: Value,
        exclude_self: bool,
        now: u64,
    ) -> RequestId {
        let id = self.next_request_id();
        let result = self.check_publish(id, channel, &data, exclude_self);
        match result {
            Err(error) => self.emit(Event::PublishDone {
                id,
                result: Err(error),
            }),
            Ok(data) => {
                let mut publish = Publish {
                    id,
                    channel: channel.to_owned(),
                    data,
                    exclude_self,
                    sent: false,
                    deadline: now.saturating_add(self.config.request_timeout_ms),
                };
                if self.state == ConnectionState::Open {
                    self.send_publish(&mut publish);
                }
                self.publishes.push(publish);
            }
        }
        id
    }

    /// Publishes not yet answered (queued or sent).
    pub fn pending_publishes(&self) -> usize {
        self.publishes.len()
    }

    fn check_publish(
        &self,
        id: RequestId,
        channel: &str,
        data: &Value,
        exclude_self: bool,
    ) -> Result<Box<RawValue>, ClientError> {
        validate_channel(channel)?;
        if self.state == ConnectionState::Closed {
            return Err(ClientError::Closed);
        }
        let data = serde_json::value::to_raw_value(data).expect("a JSON value encodes");
        // Measured with the connection id, or a stand-in as long as a UUID before there is one.
        let frame = publish_frame(
            self.id.clone().unwrap_or_else(|| "x".repeat(36)),
            channel,
            &data,
            exclude_self,
            id,
        );
        let limit = self.config.max_frame_bytes;
        if limit > 0 && frame.len() > limit {
            return Err(ClientError::TooLarge {
                size: frame.len(),
                limit,
            });
        }
        let queued = self.publishes.iter().filter(|p| !p.sent).count();
        if self.state != ConnectionState::Open && queued >= self.config.publish_queue_limit {
            return Err(ClientError::PublishQueueFull(
                self.config.publish_queue_limit,
            ));
        }
        Ok(data)
    }

    fn send_publish(&mut self, publish: &mut Publish) {
        let id = self.id.clone().unwrap_or_default();
        let frame = publish_frame(
            id,
            &publish.channel,
            &publish.data,
            publish.exclude_self,
            publish.id,
        );
        self.out.push_back(crate::Output::Send(frame));
        publish.sent = true;
    }

    /// The session is open: send the queued publishes, oldest first.
    pub(super) fn flush_publishes(&mut self) {
        let mut publishes = std::mem::take(&mut self.publishes);
        for publish in publishes.iter_mut().filter(|p| !p.sent) {
            self.send_publish(publish);
        }
        self.publishes = publishes;
    }

    /// The connection dropped: publishes already sent cannot be answered any more.
    pub(super) fn publishes_lost(&mut self) {
        let (lost, queued): (Vec<Publish>, Vec<Publish>) = std::mem::take(&mut self.publishes)
            .into_iter()
            .partition(|p| p.sent);
        self.publishes = queued;
        for publish in lost {
            self.emit(Event::PublishDone {
                id: publish.id,
                result: Err(ClientError::ConnectionLost),
            });
        }
    }

    /// The session closed: every publish fails with `error`.
    pub(super) fn fail_publishes(&mut self, error: &ClientError) {
        for publish in std::mem::take(&mut self.publishes) {
            self.emit(Event::PublishDone {
                id: publish.id,
                result: Err(error.clone()),
            });
        }
    }

    /// Fails publishes whose deadline passed.
    pub(super) fn expire_publishes(&mut self, now: u64) {
        let (expired, pending): (Vec<Publish>, Vec<Publish>) = std::mem::take(&mut self.publishes)
            .into_iter()
            .partition(|p| now >= p.deadline);
        self.publishes = pending;
        let timeout = self.config.request_timeout_ms;
        for publish in expired {
            self.emit(Event::PublishDone {
                id: publish.id,
                result: Err(ClientError::Timeout(timeout)),
            });
        }
    }

    /// The earliest publish deadline.
    pub(super) fn publish_deadline(&self) -> Option<u64> {
        self.publishes.iter().map(|p| p.deadline).min()
    }

    /// A `publish_confirmation`: settles the publish whose `ref` it echoes.
    pub(super) fn on_publish_confirmation(&mut self, confirmation: PublishConfirmation) {
        match self.take_publish(confirmation.reference.as_ref()) {
            Some(publish) => {
                if publish.exclude_self {
                    self.skip_own(&confirmation.channel, confirmation.seq);
                }
                self.emit(Event::PublishDone {
                    id: publish.id,
                    result: Ok(PublishAck {
                        seq: confirmation.seq,
                    }),
                })
            }
            None if self.on_own_confirmation(&confirmation) => {}
            None => self.stats.unexpected_ignored += 1,
        }
    }

    /// An `error` frame answering one of these publishes (by its `ref`) rejects it; any other
    /// is handed back.
    pub(super) fn on_publish_error(&mut self, payload: ErrorPayload) -> Option<ErrorPayload> {
        let Some(publish) = self.take_publish(payload.reference.as_ref()) else {
            self.on_own_error(payload.reference.as_ref());
            return Some(payload);
        };
        self.emit(Event::PublishDone {
            id: publish.id,
            result: Err(ClientError::Server {
                code: payload.code,
                message: payload.message,
            }),
        });
        None
    }

    fn take_publish(&mut self, reference: Option<&Ref>) -> Option<Publish> {
        let Some(Ref::Int(n)) = reference else {
            return None;
        };
        let index = self
            .publishes
            .iter()
            .position(|p| p.sent && i64::try_from(p.id.0).ok() == Some(*n))?;
        Some(self.publishes.remove(index))
    }
}

fn publish_frame(
    id: String,
    channel: &str,
    data: &RawValue,
    exclude_self: bool,
    request: RequestId,
) -> String {
    ClientMessage::Publish(PublishPayload {
        id,
        channel: channel.to_owned(),
        data: data.to_owned(),
        exclude_self,
        reference: i64::try_from(request.0).ok().map(Ref::Int),
    })
    .to_json()
}

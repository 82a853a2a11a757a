//! The application's commands, the subscription set and pending requests.
//!
//! Invariant while the connection is ready: every channel in the set that is not confirmed
//! has a subscribe frame (or a request for its subscription token) in flight and at least one
//! pending [`Request`] for it. Concurrent requests for the same channel and kind share one
//! frame and one confirmation.

use super::ClientSession;
use crate::error::ClientError;
use crate::event::{ConnectionState, Event, Output, RequestId};
use howl_protocol::client::ChannelPayload;
use howl_protocol::{
    validate_channel, ClientMessage, ConfirmationPayload, ErrorPayload, PublishPayload, Ref,
    SubscriptionPayload, DEFAULT_CHANNEL,
};
use serde_json::Value;

/// Which confirmation a request waits for.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub(super) enum Kind {
    Subscribe,
    Unsubscribe,
}

/// A subscribe or unsubscribe waiting for the server.
#[derive(Debug)]
pub(super) struct Request {
    /// `None` for the session's own re-subscription after a reconnect.
    pub(super) id: Option<RequestId>,
    pub(super) kind: Kind,
    pub(super) channel: String,
    pub(super) deadline: u64,
}

impl ClientSession {
    /// Adds `channel` (default: [`DEFAULT_CHANNEL`]) to the subscription set and asks the
    /// server for it now, or as soon as the connection opens (with
    /// [`crate::ClientConfig::get_subscription_token`], once its token arrives). The outcome
    /// arrives as
    /// [`Event::RequestDone`] with the returned id: `Ok` on `subscribe_confirmation`, an error
    /// on a matching `error` frame, on timeout, or when the session closes. Subscribing to a
    /// channel already confirmed succeeds at once without a frame.
    pub fn subscribe(&mut self, channel: Option<&str>, now: u64) -> RequestId {
        let id = self.next_request_id();
        let channel = channel.unwrap_or(DEFAULT_CHANNEL);
        if let Err(e) = self.check_command(channel) {
            self.emit(Event::RequestDone { id, result: Err(e) });
            return id;
        }
        match self.channels.get(channel) {
            Some(true) => self.emit(Event::RequestDone { id, result: Ok(()) }),
            Some(false) => self.add_request(Some(id), Kind::Subscribe, channel, now),
            None => {
                self.channels.insert(channel, false);
                self.add_request(Some(id), Kind::Subscribe, channel, now);
                if self.is_ready() {
                    self.request_subscription(channel);
                }
            }
        }
        id
    }

    /// Removes `channel` (default: [`DEFAULT_CHANNEL`]) from the subscription set, or from
    /// the channels the server subscribed, at once (no more of its messages are delivered)
    /// and tells the server when connected. The outcome
    /// arrives as [`Event::RequestDone`]: `Ok` on `unsubscribe_confirmation`, or at once
    /// when there is no connection (the server forgets subscriptions with the connection) or
    /// the channel was not subscribed. A subscribe of the channel still waiting for a
    /// connection fails with [`ClientError::Cancelled`].
    pub fn unsubscribe(&mut self, channel: Option<&str>, now: u64) -> RequestId {
        let id = self.next_request_id();
        let channel = channel.unwrap_or(DEFAULT_CHANNEL);
        if let Err(e) = self.check_command(channel) {
            self.emit(Event::RequestDone { id, result: Err(e) });
            return id;
        }
        let in_set = self.channels.remove(channel).is_some();
        let by_server = self.server_channels.remove(channel).is_some();
        let was_subscribed = in_set || by_server;
        if was_subscribed {
            self.emit(Event::SubscriptionEnded {
                channel: channel.to_owned(),
            });
        }
        self.forget_stream(channel);
        // Waiting for its subscription token: the server has not heard of it yet.
        let never_sent = self.forget_subscription_token(channel);
        if !self.is_ready() || never_sent {
            for request in self.take_requests(Kind::Subscribe, channel) {
                self.finish(request, Err(ClientError::Cancelled));
            }
            self.emit(Event::RequestDone { id, result: Ok(()) });
        } else if was_subscribed {
            self.add_request(Some(id), Kind::Unsubscribe, channel, now);
            self.send_subscription(Kind::Unsubscribe, channel, None);
        } else if self.has_pending(Kind::Unsubscribe, channel) {
            self.add_request(Some(id), Kind::Unsubscribe, channel, now);
        } else {
            self.emit(Event::RequestDone { id, result: Ok(()) });
        }
        id
    }

    /// Publishes `data` to `channel` (subscribers receive it unchanged); with `exclude_self`
    /// this connection does not receive its own message. Fire-and-forget: a refusal by the
    /// server arrives as [`Event::ServerError`]. Fails at once with
    /// [`ClientError::NotConnected`] unless open (nothing is queued), with
    /// [`ClientError::InvalidChannel`] or with [`ClientError::TooLarge`].
    pub fn publish(
        &mut self,
        channel: &str,
        data: Value,
        exclude_self: bool,
    ) -> Result<(), ClientError> {
        self.check_command(channel)?;
        let id = self.ready_id().ok_or(ClientError::NotConnected)?;
        let data = serde_json::value::to_raw_value(&data).expect("a JSON value encodes");
        let own = self.own_publish_ref(channel, exclude_self);
        let frame = ClientMessage::Publish(PublishPayload {
            id,
            channel: channel.to_owned(),
            data,
            exclude_self,
            reference: own.and_then(|own| i64::try_from(own.0).ok()).map(Ref::Int),
        })
        .to_json();
        let limit = self.config.max_frame_bytes;
        if limit > 0 && frame.len() > limit {
            return Err(ClientError::TooLarge {
                size: frame.len(),
                limit,
            });
        }
        self.out.push_back(Output::Send(frame));
        if let Some(own) = own {
            self.own_publish_sent(own, channel);
        }
        Ok(())
    }

    /// Asks for [`Event::ChannelStatus`] notices about `channel` (one now, then one whenever
    /// its subscriber count moves between zero and non-zero); kept across reconnects.
    pub fn watch(&mut self, channel: &str) -> Result<(), ClientError> {
        self.check_command(channel)?;
        if self.watches.insert(channel, ()) {
            if let Some(id) = self.ready_id() {
                self.send(ClientMessage::Watch(ChannelPayload {
                    id,
                    channel: channel.to_owned(),
                    reference: None,
                }));
            }
        }
        Ok(())
    }

    /// Stops the notices asked for with [`ClientSession::watch`].
    pub fn unwatch(&mut self, channel: &str) -> Result<(), ClientError> {
        self.check_command(channel)?;
        if self.watches.remove(channel).is_some() {
            if let Some(id) = self.ready_id() {
                self.send(ClientMessage::Unwatch(ChannelPayload {
                    id,
                    channel: channel.to_owned(),
                    reference: None,
                }));
            }
        }
        Ok(())
    }

    /// After a handshake: subscribe every channel of the set again and renew watches. Channels
    /// the server subscribes by itself (`subscribed`) are not in the set, and are left to it.
    pub(super) fn restore_subscriptions(&mut self, now: u64) {
        let channels: Vec<String> = self.channels.keys().map(str::to_owned).collect();
        for channel in channels {
            if !self.has_pending(Kind::Subscribe, &channel) {
                self.add_request(None, Kind::Subscribe, &channel, now);
            }
            self.request_subscription(&channel);
        }
        let id = self.id.clone().unwrap_or_default();
        let watches: Vec<String> = self.watches.keys().map(str::to_owned).collect();
        for channel in watches {
            self.send(ClientMessage::Watch(ChannelPayload {
                id: id.clone(),
                channel,
                reference: None,
            }));
        }
    }

    /// The connection is gone, and with it the server's subscriptions: nothing is confirmed,
    /// the server-side channels are gone (the next connection's server subscribes them
    /// again), subscription tokens asked for are moot (the next connection asks again),
    /// pending unsubscribes are done, and subscribes of channels since unsubscribed are moot.
    pub(super) fn connection_dropped(&mut self) {
        for confirmed in self.channels.values_mut() {
            *confirmed = false;
        }
        self.server_channels.clear();
        self.subscription_tokens.clear();
        for request in std::mem::take(&mut self.requests) {
            match request.kind {
                Kind::Unsubscribe => self.finish(request, Ok(())),
                Kind::Subscribe if !self.channels.contains_key(&request.channel) => {
                    self.finish(request, Err(ClientError::Cancelled))
                }
                Kind::Subscribe => self.requests.push(request),
            }
        }
    }

    /// A `subscribe_confirmation` or `unsubscribe_confirmation`. Without an echoed channel
    /// (an old server) it answers the oldest pending request of its kind.
    /// A first confirmation of a channel in the set records its stream position and reports
    /// what its re-subscription recovered.
    pub(super) fn on_confirmation(&mut self, kind: Kind, p: ConfirmationPayload) {
        let Some(channel) = p.channel.clone().or_else(|| self.oldest_pending(kind)) else {
            self.stats.unexpected_ignored += 1;
            return;
        };
        if kind == Kind::Subscribe && self.channels.get(&channel) == Some(&false) {
            self.channels.insert(&channel, true);
            let confirmed = self.confirm_stream(&channel, &p);
            self.emit(Event::SubscriptionConfirmed {
                channel: channel.clone(),
                position: confirmed.position,
                recovered: confirmed.recovered,
                recovered_count: confirmed.recovered_count,
            });
            if let Some((from, to)) = confirmed.gap {
                self.emit_gap(&channel, from, to);
            }
        }
        let matched = self.take_requests(kind, &channel);
        if matched.is_empty() {
            self.stats.unexpected_ignored += 1;
        }
        for request in matched {
            self.finish(request, Ok(()));
        }
    }

    /// An `error` frame: rejects the pending requests it answers (matched by `request` and
    /// `channel`), keeps a refused connection token's reason for the close that follows, or
    /// reports it as [`Event::ServerError`].
    pub(super) fn on_error(&mut self, payload: ErrorPayload) {
        let kind = match payload.request.as_deref() {
            Some("subscribe") => Some(Kind::Subscribe),
            Some("unsubscribe") => Some(Kind::Unsubscribe),
            _ => None,
        };
        if let Some(kind) = kind {
            if let Some(channel) = payload
                .channel
                .clone()
                .or_else(|| self.oldest_pending(kind))
            {
                let matched = self.take_requests(kind, &channel);
                if !matched.is_empty() {
                    if kind == Kind::Subscribe {
                        self.channels.remove(&channel);
                        self.forget_stream(&channel);
                    }
                    let error = ClientError::Server {
                        code: payload.code,
                        message: payload.message,
                    };
                    for request in matched {
                        self.finish(request, Err(error.clone()));
                    }
                    return;
                }
            }
        }
        if kind.is_none() && self.note_auth_error(payload.code, &payload.message) {
            return;
        }
        self.emit(Event::ServerError(payload));
    }

    /// Fails requests whose deadline passed. A subscribe that timed out leaves the set (the
    /// application was told it failed); if connected, an unsubscribe makes sure the server
    /// agrees even if it was merely slow.
    pub(super) fn expire_requests(&mut self, now: u64) {
        let (expired, pending): (Vec<Request>, Vec<Request>) = std::mem::take(&mut self.requests)
            .into_iter()
            .partition(|r| now >= r.deadline);
        self.requests = pending;
        for request in expired {
            if request.kind == Kind::Subscribe
                && !self.has_pending(Kind::Subscribe, &request.channel)
                && self.channels.get(&request.channel) == Some(&false)
            {
                self.channels.remove(&request.channel);
                self.forget_stream(&request.channel);
                if self.is_ready() && !self.forget_subscription_token(&request.channel) {
                    self.send_subscription(Kind::Unsubscribe, &request.channel, None);
                }
            }
            let timeout = self.config.request_timeout_ms;
            self.finish(request, Err(ClientError::Timeout(timeout)));
        }
    }

    /// Reports a finished request: [`Event::RequestDone`] for the application's own, and
    /// [`Event::SubscriptionFailed`] when a re-subscription failed (not when merely closed).
    pub(super) fn finish(&mut self, request: Request, result: Result<(), ClientError>) {
        match (request.id, result) {
            (Some(id), result) => self.emit(Event::RequestDone { id, result }),
            (None, Err(ClientError::Closed)) | (None, Ok(())) => {}
            (None, Err(error)) => self.emit(Event::SubscriptionFailed {
                channel: request.channel,
                error,
            }),
        }
    }

    fn check_command(&self, channel: &str) -> Result<(), ClientError> {
        validate_channel(channel)?;
        if self.state == ConnectionState::Closed {
            return Err(ClientError::Closed);
        }
        Ok(())
    }

    fn add_request(&mut self, id: Option<RequestId>, kind: Kind, channel: &str, now: u64) {
        let deadline = now.saturating_add(self.config.request_timeout_ms);
        self.requests.push(Request {
            id,
            kind,
            channel: channel.to_owned(),
            deadline,
        });
    }

    pub(super) fn has_pending(&self, kind: Kind, channel: &str) -> bool {
        self.requests
            .iter()
            .any(|r| r.kind == kind && r.channel == channel)
    }

    fn oldest_pending(&self, kind: Kind) -> Option<String> {
        self.requests
            .iter()
            .find(|r| r.kind == kind)
            .map(|r| r.channel.clone())
    }

    pub(super) fn take_requests(&mut self, kind: Kind, channel: &str) -> Vec<Request> {
        let (matched, rest) = std::mem::take(&mut self.requests)
            .into_iter()
            .partition(|r| r.kind == kind && r.channel == channel);
        self.requests = rest;
        matched
    }

    /// Sends `subscribe` (with its subscription `token`, if any) or `unsubscribe`.
    pub(super) fn send_subscription(&mut self, kind: Kind, channel: &str, token: Option<String>) {
        let payload = SubscriptionPayload {
            id: self.id.clone().unwrap_or_default(),
            channel: Some(channel.to_owned()),
            token,
            since: match kind {
                Kind::Subscribe => self.since(channel),
                Kind::Unsubscribe => None,
            },
            reference: None,
        };
        self.send(match kind {
            Kind::Subscribe => ClientMessage::Subscribe(payload),
            Kind::Unsubscribe => ClientMessage::Unsubscribe(payload),
        });
    }

    pub(super) fn is_ready(&self) -> bool {
        matches!(self.conn, super::Conn::Ready(_))
    }

    fn ready_id(&self) -> Option<String> {
        if self.is_ready() {
            self.id.clone()
        } else {
            None
        }
    }
}

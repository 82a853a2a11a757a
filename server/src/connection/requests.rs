//! Carrying out what the [`Session`](crate::session::Session) decided for a frame, and the
//! server API's user commands.

use super::{Connection, End};
use crate::broker::{BrokerError, HistoryQuery};
use crate::clock::now_millis;
use crate::hub::Form;
use crate::node::{Opening, ReadError, Subscription};
use crate::outbox::Frame;
use crate::session::Action;
use crate::users::UserCommand;
use howl_protocol::{
    ErrorCode, ErrorPayload, PresenceResult, PublishConfirmation, Ref, ServerMessage,
    StreamPosition,
};
use tracing::debug;

impl Connection {
    pub(super) fn push(&self, message: &ServerMessage) {
        self.outbox.push(Frame::from(message.to_json()));
    }

    pub(super) fn reject(&self, error: ErrorPayload) {
        debug!(code = %error.code, reason = %error.message, "rejected a frame");
        self.node.metrics.count_error(error.code);
        self.push(&ServerMessage::Error(error));
    }

    /// Refuses a request the broker could not carry out.
    fn unavailable(
        &self,
        request: &str,
        channel: String,
        reference: Option<Ref>,
        error: impl ToString,
    ) {
        self.reject(ErrorPayload {
            code: ErrorCode::BrokerUnavailable,
            message: error.to_string(),
            request: Some(request.into()),
            channel: Some(channel),
            reference,
        });
    }

    /// Carries out one text frame; returns how the connection ends, if it does.
    pub(super) async fn on_text(&mut self, text: &str) -> Option<End> {
        let action = match self.session.handle_text(text, now_millis()) {
            Ok(action) => action,
            Err(error) => {
                self.reject(error);
                return None;
            }
        };
        match action {
            Action::Nothing => {}
            Action::Reply(reply) => self.push(&reply),
            Action::Subscribe {
                channel,
                form,
                confirmation,
                since,
            } => {
                let reference = confirmation.reference.clone();
                let opening = Opening::Confirm {
                    confirmation,
                    since,
                };
                if let Err(error) = self.subscribe(&channel, form, opening).await {
                    self.session.unsubscribe_server_side(&channel);
                    self.unavailable("subscribe", channel, reference, error);
                }
            }
            Action::Unsubscribe {
                channel,
                confirmation,
            } => {
                self.node.unsubscribe(&channel, self.conn);
                if let Some(confirmation) = confirmation {
                    self.push(&confirmation);
                }
            }
            Action::Publish {
                channel,
                data,
                exclude_self,
                reference,
            } => self.publish(channel, data, exclude_self, reference).await,
            Action::History {
                channel,
                limit,
                since,
                reference,
            } => self.history(channel, limit, since, reference).await,
            Action::Presence { channel, reference } => self.presence(channel, reference).await,
            Action::Watch { channel } => self.node.watch(&channel, self.conn, &self.outbox),
            Action::Unwatch { channel } => self.node.unwatch(&channel, self.conn),
            Action::SubscribeServerSide { channels } => {
                for channel in channels {
                    self.subscribe_server_side(channel).await;
                }
            }
            Action::AuthFailed { error, close } => {
                self.reject(error);
                return Some(End::AuthFailed(close));
            }
            Action::Disconnect => return Some(End::Disconnect),
            Action::RateLimitExceeded => return Some(End::RateLimited),
        }
        None
    }

    /// Carries out a server API command for the connection's user; returns how the
    /// connection ends, if it does.
    pub(super) async fn on_command(&mut self, command: UserCommand) -> Option<End> {
        match command {
            UserCommand::Subscribe { channel } => {
                match self.session.subscribe_server_side(&channel) {
                    Ok(true) => self.subscribe_server_side(channel).await,
                    Ok(false) => {}
                    Err(error) => self.reject(error),
                }
            }
            UserCommand::Unsubscribe { channel } => {
                if self.session.unsubscribe_server_side(&channel) {
                    self.node.unsubscribe(&channel, self.conn);
                    let payload = howl_protocol::SubscribedPayload { channel };
                    self.push(&ServerMessage::Unsubscribed(payload));
                }
            }
            UserCommand::Disconnect => return Some(End::Disconnected),
        }
        None
    }

    async fn subscribe(
        &self,
        channel: &str,
        form: Form,
        opening: Opening,
    ) -> Result<(), BrokerError> {
        let subscription = Subscription {
            channel,
            conn: self.conn,
            outbox: &self.outbox,
            form,
            member: Some(self.session.member()),
        };
        self.node.subscribe(subscription, opening).await
    }

    /// A subscription the session already recorded (token `channels`, the server API): the
    /// client hears `subscribed` before the channel's data.
    async fn subscribe_server_side(&mut self, channel: String) {
        if let Err(error) = self
            .subscribe(&channel, Form::Named, Opening::Subscribed)
            .await
        {
            self.session.unsubscribe_server_side(&channel);
            self.unavailable("subscribe", channel, None, error);
        }
    }

    async fn publish(
        &self,
        channel: String,
        data: Box<serde_json::value::RawValue>,
        exclude_self: bool,
        reference: Option<Ref>,
    ) {
        let exclude = exclude_self.then_some(self.conn);
        match self.node.publish(channel.clone(), data, exclude).await {
            // Without a `ref` success has no reply, as in the original protocol.
            Ok(receipt) => {
                if reference.is_some() {
                    self.push(&ServerMessage::PublishConfirmation(PublishConfirmation {
                        channel,
                        seq: receipt.seq,
                        reference,
                    }));
                }
            }
            Err(error) => {
                debug!(%channel, %error, "publish refused");
                self.unavailable("publish", channel, reference, error);
            }
        }
    }

    async fn history(
        &self,
        channel: String,
        limit: Option<usize>,
        since: Option<StreamPosition>,
        reference: Option<Ref>,
    ) {
        let query = HistoryQuery { since, limit };
        match self.node.history(&channel, query).await {
            Ok(history) => {
                let frame = history.to_json(&channel, reference.as_ref(), true);
                self.outbox.push(Frame::from(frame));
            }
            Err(error) => self.read_failed("history", channel, reference, error),
        }
    }

    async fn presence(&self, channel: String, reference: Option<Ref>) {
        match self.node.presence(&channel).await {
            Ok(presence) => self.push(&ServerMessage::PresenceResult(PresenceResult {
                channel,
                count: presence.count,
                members: presence.members,
                reference,
            })),
            Err(error) => self.read_failed("presence", channel, reference, error),
        }
    }

    fn read_failed(
        &self,
        request: &str,
        channel: String,
        reference: Option<Ref>,
        error: ReadError,
    ) {
        self.reject(ErrorPayload {
            code: error.code(),
            message: error.to_string(),
            request: Some(request.into()),
            channel: Some(channel),
            reference,
        });
    }
}

//! The protocol rules of one connection, as a state machine without I/O.
//!
//! The connection loop feeds it each text frame; it answers with the [`Action`] to carry out
//! or the `error` to send, and remembers the connection's subscriptions so they can be
//! removed when it ends.

use crate::auth::{TokenError, Verifier};
use crate::hub::Form;
use crate::permissions::{Asker, Permissions};
use crate::rate::{Abuse, TokenBucket};
use howl_protocol::{
    close, decode_client, validate_channel, ClientMessage, ConfirmationPayload, ErrorCode,
    ErrorPayload, Member, PongPayload, Ref, ServerMessage, StreamPosition, DEFAULT_CHANNEL,
};
use serde_json::value::RawValue;
use std::collections::HashSet;
use std::sync::Arc;
use subscriptions::Subscriptions;

/// What the connection must do for an accepted frame.
#[derive(Debug, Clone)]
pub enum Action {
    /// Nothing beyond what the session already recorded.
    Nothing,
    /// Send this reply.
    Reply(ServerMessage),
    /// Subscribe, then send the confirmation (completed with the stream's position), then
    /// what was missed since `since`.
    Subscribe {
        /// The validated channel name (the default channel for a channel-less subscribe).
        channel: String,
        /// How the client asked, which decides the frames it receives.
        form: Form,
        /// The `subscribe_confirmation` to send.
        confirmation: ConfirmationPayload,
        /// Where the client left off, to recover from.
        since: Option<StreamPosition>,
    },
    /// Answer with the channel's history.
    History {
        /// The validated channel name.
        channel: String,
        /// At most this many messages.
        limit: Option<usize>,
        /// Only messages after this position.
        since: Option<StreamPosition>,
        /// The request's `ref`.
        reference: Option<Ref>,
    },
    /// Answer with the channel's presence.
    Presence {
        /// The validated channel name.
        channel: String,
        /// The request's `ref`.
        reference: Option<Ref>,
    },
    /// Unsubscribe (when subscribed), then send the confirmation, if any.
    Unsubscribe {
        /// The validated channel name.
        channel: String,
        /// The confirmation to send; `None` for the original protocol's channel-less
        /// unsubscribe, which gets none.
        confirmation: Option<ServerMessage>,
    },
    /// Publish `data` to `channel`; with a `reference`, confirm with `publish_confirmation`.
    Publish {
        /// The validated channel name.
        channel: String,
        /// The client's JSON value, exactly as it was written.
        data: Box<RawValue>,
        /// Whether this connection must not receive its own message.
        exclude_self: bool,
        /// The request's `ref`: confirm with it when present.
        reference: Option<Ref>,
    },
    /// Start `channel_status` notices for `channel`.
    Watch {
        /// The validated channel name.
        channel: String,
    },
    /// Stop them.
    Unwatch {
        /// The validated channel name.
        channel: String,
    },
    /// The client ended the session: close with 1000.
    Disconnect,
    /// The client kept exceeding its rate limits past the grace period: close with 4005.
    RateLimitExceeded,
    /// The connection token named these channels: subscribe to each (already recorded in the
    /// session) and tell the client with a `subscribed` event.
    SubscribeServerSide {
        /// The validated channel names.
        channels: Vec<String>,
    },
    /// A token was refused: send `error`, then close with `close` (4003 or 4004).
    AuthFailed {
        /// The `unauthorized` or `token_expired` error.
        error: ErrorPayload,
        /// The close code.
        close: u16,
    },
}

/// Whether a frame fits the rate limits.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Admission {
    /// Process it.
    Admitted,
    /// Refuse it with `rate_limited`.
    RateLimited,
    /// The client kept exceeding the limits past the grace period: close with 4005.
    Close,
}

/// The limits one connection's session enforces.
#[derive(Debug, Clone, PartialEq)]
pub struct Limits {
    /// Channels the connection may subscribe to (and, separately, watch).
    pub max_subscriptions: usize,
    /// Frames per second the client may send, on average.
    pub client_rate: f64,
    /// Frames the client may send at once, above the average.
    pub client_burst: u32,
    /// Publishes per second, on average (each also counts as a frame).
    pub publish_rate: f64,
    /// Publishes at once, above the average.
    pub publish_burst: u32,
    /// Milliseconds a client may keep exceeding the limits before it is closed.
    pub rate_grace_ms: u64,
}

impl Default for Limits {
    /// The defaults of the corresponding `howl` flags.
    fn default() -> Self {
        Self {
            max_subscriptions: 256,
            client_rate: 50.0,
            client_burst: 200,
            publish_rate: 20.0,
            publish_burst: 50,
            rate_grace_ms: 10_000,
        }
    }
}

// `RawValue` has no `PartialEq`; publish data compares by its text.
impl PartialEq for Action {
    fn eq(&self, other: &Self) -> bool {
        use Action::*;
        match (self, other) {
            (Nothing, Nothing) | (Disconnect, Disconnect) => true,
            (RateLimitExceeded, RateLimitExceeded) => true,
            (SubscribeServerSide { channels }, SubscribeServerSide { channels: c }) => {
                channels == c
            }
            (AuthFailed { error, close }, AuthFailed { error: e, close: c }) => {
                (error, close) == (e, c)
            }
            (Reply(a), Reply(b)) => a == b,
            (
                Subscribe {
                    channel,
                    form,
                    confirmation,
                    since,
                },
                Subscribe {
                    channel: c,
                    form: f,
                    confirmation: k,
                    since: s,
                },
            ) => (channel, form, confirmation, since) == (c, f, k, s),
            (
                Unsubscribe {
                    channel,
                    confirmation,
                },
                Unsubscribe {
                    channel: c,
                    confirmation: k,
                },
            ) => (channel, confirmation) == (c, k),
            (
                Publish {
                    channel,
                    data,
                    exclude_self,
                    reference,
                },
                Publish {
                    channel: c,
                    data: d,
                    exclude_self: e,
                    reference: r,
                },
            ) => (channel, data.get(), exclude_self, reference) == (c, d.get(), e, r),
            (Watch { channel }, Watch { channel: c })
            | (Unwatch { channel }, Unwatch { channel: c }) => channel == c,
            (
                History {
                    channel,
                    limit,
                    since,
                    reference,
                },
                History {
                    channel: c,
                    limit: l,
                    since: s,
                    reference: r,
                },
            ) => (channel, limit, since, reference) == (c, l, s, r),
            (
                Presence { channel, reference },
                Presence {
                    channel: c,
                    reference: r,
                },
            ) => (channel, reference) == (c, r),
            _ => false,
        }
    }
}

/// One connection's protocol state.
#[derive(Debug)]
pub struct Session {
    /// Kept as the UUID, not its text: 16 B in the connection's task and no allocation.
    id: uuid::Uuid,
    connected: bool,
    subscriptions: Subscriptions,
    /// Boxed: most connections never watch a channel (40 B less in every idle
    /// connection's task, for one more allocation in the few that watch).
    #[allow(clippy::box_collection)]
    watches: Option<Box<HashSet<String>>>,
    // u32 here (the settings are bounded): the session lives in every connection's task.
    max_subscriptions: u32,
    frames: TokenBucket,
    publishes: TokenBucket,
    abuse: Abuse,
    rate_grace_ms: u32,
    /// Secured mode: the key tokens are checked against.
    verifier: Option<Arc<Verifier>>,
    /// The authenticated user, in secured mode.
    /// Boxed: an open-mode connection has none (64 B less per idle connection).
    user: Option<Box<User>>,
    /// Who may subscribe and publish where.
    permissions: Arc<Permissions>,
    /// A trusted publisher (a WebSocket on `--internal-listen`): no token needed, and no
    /// permission rule applies to it.
    trusted: bool,
}

/// Who a connection is, from its verified token.
#[derive(Debug, Clone, PartialEq)]
pub struct User {
    /// The user id (the token's `sub`).
    pub id: String,
    /// The token's `info` claim, kept for presence.
    pub info: Option<serde_json::Value>,
    /// When the current token expires (Unix milliseconds), if it does.
    pub expires_at_ms: Option<u64>,
}

impl Session {
    /// A session for the connection with `id`, held to `limits`.
    pub fn new(id: uuid::Uuid, limits: &Limits) -> Self {
        Self {
            id,
            connected: false,
            subscriptions: Subscriptions::default(),
            watches: None,
            max_subscriptions: u32::try_from(limits.max_subscriptions).unwrap_or(u32::MAX),
            frames: TokenBucket::new(limits.client_rate, limits.client_burst),
            publishes: TokenBucket::new(limits.publish_rate, limits.publish_burst),
            abuse: Abuse::default(),
            rate_grace_ms: u32::try_from(limits.rate_grace_ms).unwrap_or(u32::MAX),
            verifier: None,
            user: None,
            permissions: Arc::default(),
            trusted: false,
        }
    }

    /// A trusted publisher's session (the internal port): it needs no connection token and
    /// may subscribe, watch and publish anywhere.
    pub fn trusted(mut self, trusted: bool) -> Self {
        self.trusted = trusted;
        self
    }

    /// Records a subscription the server made (a server API user command): `Ok(true)` when
    /// it is new, `Ok(false)` when the connection was subscribed already, and the
    /// `too_many_subscriptions` error to send when the connection holds its maximum.
    pub fn subscribe_server_side(&mut self, channel: &str) -> Result<bool, ErrorPayload> {
        if self.subscriptions.contains_key(channel) {
            return Ok(false);
        }
        if self.subscriptions.len() >= self.max_subscriptions() {
            return Err(ErrorPayload {
                code: ErrorCode::TooManySubscriptions,
                message: format!(
                    "the server could not subscribe this connection: it holds its maximum of {} subscriptions",
                    self.max_subscriptions()
                ),
                request: None,
                channel: Some(channel.to_owned()),
                reference: None,
            });
        }
        self.subscriptions.insert(channel.to_owned(), Form::Named);
        Ok(true)
    }

    /// Forgets a subscription the server removed; whether there was one.
    pub fn unsubscribe_server_side(&mut self, channel: &str) -> bool {
        self.subscriptions.remove(channel).is_some()
    }

    /// The rules of subscribing and publishing (open mode's when not set).
    pub fn with_permissions(mut self, permissions: Arc<Permissions>) -> Self {
        self.permissions = permissions;
        self
    }

    fn asker(&self, channel: &str) -> Asker<'_> {
        Asker {
            user: self.user.as_ref().map(|u| u.id.as_str()),
            subscribed: self.subscriptions.contains_key(channel),
        }
    }

    /// Checks that this connection may join `channel`, with the subscription `token` when
    /// the channel's namespace needs one; the error's code and message otherwise.
    fn may_subscribe(
        &self,
        channel: &str,
        token: Option<&str>,
        now_ms: u64,
    ) -> Result<(), (ErrorCode, String)> {
        let denied = |text: String| (ErrorCode::PermissionDenied, text);
        if self.trusted {
            return Ok(());
        }
        let needs_token = self
            .permissions
            .may_subscribe(channel, self.asker(channel))
            .map_err(|d| denied(d.to_string()))?;
        if !needs_token {
            return Ok(());
        }
        let (Some(verifier), Some(user), Some(token)) = (&self.verifier, &self.user, token) else {
            return Err(denied("this channel needs a subscription token".into()));
        };
        match verifier.verify_subscription(token, now_ms) {
            Err(TokenError::Expired) => Err((
                ErrorCode::TokenExpired,
                "the subscription token expired".into(),
            )),
            Err(e) => Err(denied(format!("subscription token refused: {e}"))),
            Ok(claims) if claims.user != user.id => {
                Err(denied("the subscription token is for another user".into()))
            }
            Ok(claims) if claims.channel != channel => Err(denied(
                "the subscription token is for another channel".into(),
            )),
            Ok(_) => Ok(()),
        }
    }

    /// Secured mode: `connect` needs a token that `verifier` accepts.
    pub fn secured(mut self, verifier: Option<Arc<Verifier>>) -> Self {
        self.verifier = verifier;
        self
    }

    /// Most channels the connection may subscribe (and, apart, watch).
    fn max_subscriptions(&self) -> usize {
        self.max_subscriptions as usize
    }

    /// The authenticated user (secured mode, after `connect`).
    pub fn user(&self) -> Option<&User> {
        self.user.as_deref()
    }

    /// When the connection's token expires (Unix milliseconds): the connection must be
    /// closed with 4004 then, unless a `refresh` moved it.
    pub fn expires_at_ms(&self) -> Option<u64> {
        self.user.as_ref().and_then(|u| u.expires_at_ms)
    }

    /// The `token_expired` error sent before closing with 4004 when the token's time ran out.
    pub fn expired_error() -> ErrorPayload {
        ErrorPayload::new(
            ErrorCode::TokenExpired,
            "the connection token expired: refresh it, then reconnect",
        )
    }

    /// Whether the client has sent a valid `connect`.
    pub fn is_connected(&self) -> bool {
        self.connected
    }

    /// The connection's id.
    pub fn id(&self) -> uuid::Uuid {
        self.id
    }

    /// The `initial` event that opens the session.
    pub fn initial(&self) -> ServerMessage {
        ServerMessage::Initial(howl_protocol::InitialPayload {
            id: self.id.to_string(),
        })
    }

    /// Who the connection is, for presence.
    pub fn member(&self) -> Member {
        let user = self.user.as_ref();
        Member {
            client: self.id.to_string(),
            user: user.map(|u| u.id.clone()),
            info: user
                .and_then(|u| u.info.as_ref())
                .and_then(|info| serde_json::value::to_raw_value(info).ok()),
        }
    }

    /// The channels the connection subscribes to.
    pub fn subscriptions(&self) -> impl Iterator<Item = &str> {
        self.subscriptions.keys()
    }

    /// The channels the connection watches.
    pub fn watches(&self) -> impl Iterator<Item = &str> {
        self.watches
            .iter()
            .flat_map(|w| w.iter())
            .map(String::as_str)
    }

    /// Handles one text frame received at `now_ms` (Unix milliseconds). Every frame, valid
    /// or not, counts against the rate limits; a frame over them is refused unprocessed.
    pub fn handle_text(&mut self, text: &str, now_ms: u64) -> Result<Action, ErrorPayload> {
        let decoded = decode_client(text).map_err(|e| ErrorPayload {
            code: e.code,
            message: e.message,
            request: e.request,
            channel: None,
            reference: e.reference,
        });
        let is_publish = matches!(decoded, Ok(ClientMessage::Publish(_)));
        if !self.admit(is_publish, now_ms) {
            return self.rate_limited(decoded, is_publish, now_ms);
        }
        self.handle(decoded?, now_ms)
    }

    /// Counts a frame that is not text (binary) against the rate limits.
    pub fn admit_other(&mut self, now_ms: u64) -> Admission {
        if self.admit(false, now_ms) {
            Admission::Admitted
        } else if self.abuse.refused(now_ms) >= u64::from(self.rate_grace_ms) {
            Admission::Close
        } else {
            Admission::RateLimited
        }
    }

    fn admit(&mut self, is_publish: bool, now_ms: u64) -> bool {
        self.frames.take(now_ms) && (!is_publish || self.publishes.take(now_ms))
    }

    fn rate_limited(
        &mut self,
        decoded: Result<ClientMessage, ErrorPayload>,
        is_publish: bool,
        now_ms: u64,
    ) -> Result<Action, ErrorPayload> {
        if self.abuse.refused(now_ms) >= u64::from(self.rate_grace_ms) {
            return Ok(Action::RateLimitExceeded);
        }
        let (request, channel, reference) = match decoded {
            Ok(message) => {
                let channel = match &message {
                    ClientMessage::Publish(p) => Some(p.channel.clone()),
                    _ => None,
                };
                (
                    Some(message.type_name().to_owned()),
                    channel,
                    message.reference().cloned(),
                )
            }
            Err(error) => (error.request, None, error.reference),
        };
        let what = if is_publish { "publishes" } else { "frames" };
        Err(ErrorPayload {
            code: ErrorCode::RateLimited,
            message: format!("too many {what}: this one was not processed; slow down"),
            request,
            channel,
            reference,
        })
    }

    /// Handles one decoded event received at `now_ms`.
    pub fn handle(&mut self, message: ClientMessage, now_ms: u64) -> Result<Action, ErrorPayload> {
        let request = message.type_name();
        let reference = message.reference().cloned();
        let reject = |code, text: String, channel: Option<&str>| ErrorPayload {
            code,
            message: text,
            request: Some(request.to_owned()),
            channel: channel.map(str::to_owned),
            reference: reference.clone(),
        };
        if message.id()
            != self
                .id
                .hyphenated()
                .encode_lower(&mut uuid::Uuid::encode_buffer())
        {
            let text = format!("id {:?} is not this connection's id", message.id());
            return Err(reject(ErrorCode::WrongId, text, None));
        }
        let needs_connect = !matches!(
            message,
            ClientMessage::Connect(_) | ClientMessage::Ping(_) | ClientMessage::Disconnect(_)
        );
        if needs_connect && !self.connected {
            let text = format!("send \"connect\" before \"{request}\"");
            return Err(reject(ErrorCode::NotConnected, text, None));
        }
        let check_channel = |channel: &str| {
            validate_channel(channel)
                .map_err(|e| reject(ErrorCode::InvalidChannel, e.to_string(), Some(channel)))
        };
        Ok(match message {
            ClientMessage::Connect(_) if self.connected => {
                let text = "this connection already sent \"connect\"".to_owned();
                return Err(reject(ErrorCode::AlreadyConnected, text, None));
            }
            ClientMessage::Connect(p) => {
                let Some(verifier) = self.verifier.clone() else {
                    // Open mode: a token, if any, is not looked at.
                    self.connected = true;
                    return Ok(Action::Nothing);
                };
                let Some(token) = p.token.as_deref() else {
                    if self.trusted {
                        self.connected = true;
                        return Ok(Action::Nothing);
                    }
                    let error = reject(
                        ErrorCode::Unauthorized,
                        "this hub needs a connection \"token\" in \"connect\"".into(),
                        None,
                    );
                    return Ok(auth_failed(error, close::UNAUTHORIZED));
                };
                let claims = match verifier.verify_connection(token, now_ms) {
                    Ok(claims) => claims,
                    Err(e) => return Ok(token_refused(&e, &reject)),
                };
                let mut listed = claims.channels;
                let mut seen = HashSet::new();
                listed.retain(|c| seen.insert(c.clone()));
                if listed.len() > self.max_subscriptions() {
                    let text = format!(
                        "invalid token: \"channels\" lists {} channels, more than the {} subscriptions a connection may hold",
                        listed.len(),
                        self.max_subscriptions()
                    );
                    return Ok(auth_failed(
                        reject(ErrorCode::Unauthorized, text, None),
                        close::UNAUTHORIZED,
                    ));
                }
                let mut channels = Vec::new();
                for channel in listed {
                    if let Err(e) = validate_channel(&channel) {
                        let text =
                            format!("invalid token: channel {channel:?} in \"channels\": {e}");
                        return Ok(auth_failed(
                            reject(ErrorCode::Unauthorized, text, None),
                            close::UNAUTHORIZED,
                        ));
                    }
                    if self
                        .subscriptions
                        .insert(channel.clone(), Form::Named)
                        .is_none()
                    {
                        channels.push(channel);
                    }
                }
                self.user = Some(Box::new(User {
                    id: claims.user,
                    info: claims.info,
                    expires_at_ms: claims.expires_at_ms,
                }));
                self.connected = true;
                if channels.is_empty() {
                    Action::Nothing
                } else {
                    Action::SubscribeServerSide { channels }
                }
            }
            ClientMessage::Refresh(p) => {
                let (Some(verifier), Some(user)) = (self.verifier.clone(), self.user.as_mut())
                else {
                    // Open mode: there is no token to refresh.
                    return Ok(Action::Nothing);
                };
                let claims = match verifier.verify_connection(&p.token, now_ms) {
                    Ok(claims) => claims,
                    Err(e) => return Ok(token_refused(&e, &reject)),
                };
                if claims.user != user.id {
                    let text = "the refresh token is for another user".to_owned();
                    return Ok(auth_failed(
                        reject(ErrorCode::Unauthorized, text, None),
                        close::UNAUTHORIZED,
                    ));
                }
                user.expires_at_ms = claims.expires_at_ms;
                user.info = claims.info;
                Action::Nothing
            }
            ClientMessage::Subscribe(p) => {
                let (channel, form) = match p.channel.as_deref() {
                    Some(name) => (name, Form::Named),
                    None => (DEFAULT_CHANNEL, Form::Wisdom),
                };
                check_channel(channel)?;
                self.may_subscribe(channel, p.token.as_deref(), now_ms)
                    .map_err(|(code, text)| reject(code, text, Some(channel)))?;
                if !self.subscriptions.contains_key(channel)
                    && self.subscriptions.len() >= self.max_subscriptions()
                {
                    let text = format!(
                        "at most {} subscriptions per connection",
                        self.max_subscriptions()
                    );
                    return Err(reject(ErrorCode::TooManySubscriptions, text, Some(channel)));
                }
                self.subscriptions.insert(channel.to_owned(), form);
                let channel = channel.to_owned();
                Action::Subscribe {
                    channel,
                    form,
                    confirmation: ConfirmationPayload::ok(p.channel, p.reference),
                    since: p.since,
                }
            }
            ClientMessage::History(p) => {
                check_channel(&p.channel)?;
                // History is the channel's messages: whoever may receive them may read it.
                self.may_subscribe(&p.channel, None, now_ms)
                    .map_err(|(code, text)| reject(code, text, Some(&p.channel)))?;
                Action::History {
                    channel: p.channel,
                    limit: p.limit.map(|l| l as usize),
                    since: p.since,
                    reference: p.reference,
                }
            }
            ClientMessage::Presence(p) => {
                check_channel(&p.channel)?;
                self.may_subscribe(&p.channel, None, now_ms)
                    .map_err(|(code, text)| reject(code, text, Some(&p.channel)))?;
                Action::Presence {
                    channel: p.channel,
                    reference: p.reference,
                }
            }
            ClientMessage::Unsubscribe(p) => {
                let channel = p.channel.as_deref().unwrap_or(DEFAULT_CHANNEL);
                check_channel(channel)?;
                self.subscriptions.remove(channel);
                // The original protocol has no unsubscribe confirmation: only a client that
                // names the channel or gives a `ref` (and so speaks the extended protocol)
                // gets one.
                let confirmation = (p.channel.is_some() || p.reference.is_some())
                    .then(|| ServerMessage::unsubscribed(p.channel.clone(), p.reference));
                Action::Unsubscribe {
                    channel: channel.to_owned(),
                    confirmation,
                }
            }
            ClientMessage::Publish(p) => {
                check_channel(&p.channel)?;
                let permission = match self.trusted {
                    true => Ok(()),
                    false => self
                        .permissions
                        .may_publish(&p.channel, self.asker(&p.channel)),
                };
                if let Err(denial) = permission {
                    let text = denial.to_string();
                    return Err(reject(ErrorCode::PermissionDenied, text, Some(&p.channel)));
                }
                Action::Publish {
                    channel: p.channel,
                    data: p.data,
                    exclude_self: p.exclude_self,
                    reference: p.reference,
                }
            }
            ClientMessage::Watch(p) => {
                check_channel(&p.channel)?;
                // Whether a channel has subscribers is the channel's business: only who may
                // join it may watch it (a watch carries no subscription token).
                self.may_subscribe(&p.channel, None, now_ms)
                    .map_err(|(code, text)| reject(code, text, Some(&p.channel)))?;
                let max = self.max_subscriptions();
                let watches = self.watches.get_or_insert_default();
                if !watches.contains(&p.channel) && watches.len() >= max {
                    let text = format!("at most {max} watches per connection");
                    return Err(reject(
                        ErrorCode::TooManySubscriptions,
                        text,
                        Some(&p.channel),
                    ));
                }
                watches.insert(p.channel.clone());
                Action::Watch { channel: p.channel }
            }
            ClientMessage::Unwatch(p) => {
                check_channel(&p.channel)?;
                if let Some(watches) = self.watches.as_mut() {
                    watches.remove(&p.channel);
                }
                Action::Unwatch { channel: p.channel }
            }
            ClientMessage::Ping(p) => Action::Reply(ServerMessage::Pong(PongPayload {
                time: now_ms,
                reference: p.reference,
            })),
            ClientMessage::Disconnect(_) => Action::Disconnect,
        })
    }
}

fn auth_failed(error: ErrorPayload, close: u16) -> Action {
    Action::AuthFailed { error, close }
}

/// The error and close code for a refused token: an expired one may be refreshed, anything
/// else is final.
fn token_refused(
    error: &TokenError,
    reject: &impl Fn(ErrorCode, String, Option<&str>) -> ErrorPayload,
) -> Action {
    match error {
        TokenError::Expired => auth_failed(
            reject(ErrorCode::TokenExpired, error.to_string(), None),
            close::TOKEN_EXPIRED,
        ),
        _ => auth_failed(
            reject(ErrorCode::Unauthorized, error.to_string(), None),
            close::UNAUTHORIZED,
        ),
    }
}

mod subscriptions;
#[cfg(test)]
mod tests;

//! Tokens: the connection token got before each attempt and renewed with `refresh` before its
//! `exp`, subscription tokens got before each subscribe, and the server's refusals (close
//! 4003 and 4004).
//!
//! The session never waits on the caller: it asks with [`Output::GetToken`] or
//! [`Output::GetSubscriptionToken`] and goes on when the answer arrives (the browser's
//! `getToken` returns a Promise). Each request has an id, so a late answer to a request the
//! session gave up on (the connection dropped, the user disconnected) is ignored.

use super::requests::Kind;
use super::{ClientSession, Conn};
use crate::error::{ClientError, CloseReason, LostReason};
use crate::event::{Event, Output};
use crate::token::{refresh_delay, TokenRequestId, TokenSource};
use howl_protocol::client::RefreshPayload;
use howl_protocol::{close, ClientMessage, ErrorCode};
use std::fmt;

/// A token the session holds; never shown in debug output (logs).
pub(super) struct Secret(String);

impl Secret {
    pub(super) fn expose(self) -> String {
        self.0
    }
}

impl fmt::Debug for Secret {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str("<redacted>")
    }
}

/// Renewal of a ready connection's token.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub(super) enum Refresh {
    /// Nothing to renew: no token, no `exp`, or the caller could not provide the last one.
    Idle,
    /// Ask for a new token at this time.
    At(u64),
    /// Waiting for the caller's answer to this request.
    Fetching(TokenRequestId),
}

impl ClientSession {
    /// The caller's answer to [`Output::GetToken`] `request`: the token, or why there is none
    /// (a reason for the application, never containing a token). `unix_ms` is the caller's
    /// wall clock (Unix ms), against which the token's `exp` is read to schedule its renewal.
    ///
    /// Before a connection attempt, the token opens the socket and goes in `connect`; no token
    /// fails the attempt ([`Event::TokenUnavailable`], then a reconnect with backoff). On a
    /// ready connection, the token goes in `refresh`; no token is reported the same way, and
    /// the server closes with 4004 when the current token expires. An answer to a request the
    /// session no longer waits for is ignored.
    pub fn provide_token(
        &mut self,
        request: TokenRequestId,
        token: Result<String, String>,
        now: u64,
        unix_ms: u64,
    ) {
        let token = token.and_then(|t| {
            if t.is_empty() {
                Err("the token is empty".to_owned())
            } else {
                Ok(t)
            }
        });
        match &mut self.conn {
            Conn::FetchingToken { request: asked, .. } if *asked == request => match token {
                Ok(token) => {
                    self.token_refresh_at =
                        refresh_delay(&token, unix_ms).map(|delay| now.saturating_add(delay));
                    self.token = Some(Secret(token));
                    self.open_socket(now);
                }
                Err(reason) => self.token_unavailable(reason, now),
            },
            Conn::Ready(live) if live.refresh == Refresh::Fetching(request) => {
                live.refresh = match &token {
                    Ok(token) => refresh_delay(token, unix_ms).map_or(Refresh::Idle, |delay| {
                        Refresh::At(now.saturating_add(delay))
                    }),
                    Err(_) => Refresh::Idle,
                };
                match token {
                    Ok(token) => {
                        let id = self.id.clone().unwrap_or_default();
                        self.stats.refreshes += 1;
                        self.send(ClientMessage::Refresh(RefreshPayload {
                            id,
                            token,
                            reference: None,
                        }));
                    }
                    Err(reason) => self.emit(Event::TokenUnavailable(reason)),
                }
            }
            _ => {}
        }
    }

    /// The caller's answer to [`Output::GetSubscriptionToken`] `request`: a token for the
    /// channel, `None` when the channel needs none, or why there is none (which fails the
    /// subscribe with [`ClientError::TokenUnavailable`], and removes the channel from the
    /// set). An answer to a request the session no longer waits for is ignored.
    pub fn provide_subscription_token(
        &mut self,
        request: TokenRequestId,
        token: Result<Option<String>, String>,
        _now: u64,
    ) {
        let Some(index) = self
            .subscription_tokens
            .iter()
            .position(|(asked, _)| *asked == request)
        else {
            return;
        };
        let (_, channel) = self.subscription_tokens.remove(index);
        // Still wanted and not yet confirmed: otherwise its requests were already finished
        // (unsubscribed, timed out).
        if self.channels.get(&channel) != Some(&false) {
            return;
        }
        match token {
            Ok(token) => {
                let token = token.filter(|t| !t.is_empty());
                self.send_subscription(Kind::Subscribe, &channel, token);
            }
            Err(reason) => {
                self.channels.remove(&channel);
                self.forget_stream(&channel);
                let error = ClientError::TokenUnavailable(reason);
                for request in self.take_requests(Kind::Subscribe, &channel) {
                    self.finish(request, Err(error.clone()));
                }
            }
        }
    }

    /// Starts a connection attempt: asks for its token first with
    /// [`TokenSource::GetToken`], opens the socket at once otherwise.
    pub(super) fn start_attempt(&mut self, now: u64) {
        self.token = None;
        self.token_refresh_at = None;
        self.auth_error = None;
        if self.config.token == TokenSource::GetToken {
            let request = self.next_token_request();
            self.conn = Conn::FetchingToken {
                request,
                deadline: now.saturating_add(self.config.handshake_timeout_ms),
            };
            self.out.push_back(Output::GetToken(request));
        } else {
            self.open_socket(now);
        }
    }

    /// The attempt has no token: report why and count it as a failed attempt.
    pub(super) fn token_unavailable(&mut self, reason: String, now: u64) {
        self.emit(Event::TokenUnavailable(reason));
        self.lose_connection(LostReason::TokenUnavailable, now);
    }

    /// Asks for a new connection token when its renewal is due.
    pub(super) fn tick_refresh(&mut self, now: u64) {
        let due = matches!(&self.conn, Conn::Ready(live)
            if matches!(live.refresh, Refresh::At(at) if now >= at));
        if !due {
            return;
        }
        let request = self.next_token_request();
        if let Conn::Ready(live) = &mut self.conn {
            live.refresh = Refresh::Fetching(request);
        }
        self.out.push_back(Output::GetToken(request));
    }

    /// Asks the server for `channel`: at once, or first for its subscription token.
    pub(super) fn request_subscription(&mut self, channel: &str) {
        if !self.config.get_subscription_token {
            self.send_subscription(Kind::Subscribe, channel, None);
            return;
        }
        if self.subscription_tokens.iter().any(|(_, c)| c == channel) {
            return; // already asked for
        }
        let request = self.next_token_request();
        self.subscription_tokens.push((request, channel.to_owned()));
        self.out.push_back(Output::GetSubscriptionToken {
            request,
            channel: channel.to_owned(),
        });
    }

    /// Forgets the subscription token asked for `channel`, if any; returns whether there was
    /// one (then no `subscribe` for it was sent on this connection yet).
    pub(super) fn forget_subscription_token(&mut self, channel: &str) -> bool {
        let before = self.subscription_tokens.len();
        self.subscription_tokens.retain(|(_, c)| c != channel);
        self.subscription_tokens.len() != before
    }

    /// An `unauthorized` or `token_expired` error that no request claims: the server refused
    /// the connection (or refresh) token and is closing the connection. Kept to explain the
    /// close; returns false for any other error.
    pub(super) fn note_auth_error(&mut self, code: ErrorCode, message: &str) -> bool {
        if matches!(code, ErrorCode::Unauthorized | ErrorCode::TokenExpired) {
            self.auth_error = Some((code, message.to_owned()));
            true
        } else {
            false
        }
    }

    /// The final reason when the loss is one reconnecting cannot fix: the token was refused
    /// (4003), or it expired (4004) and there is no way to get another. The server's error
    /// decides too when the close code itself got lost (a reset connection reports 1006).
    pub(super) fn refused(&mut self, reason: &LostReason) -> Option<CloseReason> {
        let error = self.auth_error.take();
        let verdict = match reason {
            LostReason::Closed {
                code: close::UNAUTHORIZED,
            } => ErrorCode::Unauthorized,
            LostReason::Closed {
                code: close::TOKEN_EXPIRED,
            } => ErrorCode::TokenExpired,
            _ => error.as_ref().map(|(code, _)| *code)?,
        };
        let message = |close: u16| match error {
            Some((_, message)) => message,
            None => format!("the server closed the connection with {close}"),
        };
        match verdict {
            ErrorCode::Unauthorized => {
                Some(CloseReason::Unauthorized(message(close::UNAUTHORIZED)))
            }
            ErrorCode::TokenExpired if self.config.token != TokenSource::GetToken => {
                Some(CloseReason::TokenExpired(message(close::TOKEN_EXPIRED)))
            }
            _ => None,
        }
    }
}

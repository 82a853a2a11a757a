//! [`ClientBuilder`]: a [`Client`] with its settings and, for a hub in secured mode, where its
//! tokens come from.
//!
//! ```no_run
//! # async fn demo() -> Result<(), howl_client_wasm::Error> {
//! use howl_client_wasm::{Client, ClientConfig};
//!
//! let client = Client::builder("/ws")
//!     .config(ClientConfig { ping_interval_ms: 10_000, ..ClientConfig::default() })
//!     // Called before every connection attempt and shortly before the token's `exp`.
//!     .get_token(|| async { fetch_text("/api/howl-token").await })
//!     // Called before every subscribe; `None`: the channel needs no token.
//!     .get_subscription_token(|channel| async move {
//!         if channel.starts_with("vip:") {
//!             fetch_text(&format!("/api/howl-token?channel={channel}")).await.map(Some)
//!         } else {
//!             Ok(None)
//!         }
//!     })
//!     .connect()
//!     .await?;
//! # Ok(()) }
//! # async fn fetch_text(_: &str) -> Result<String, String> { Ok(String::new()) }
//! ```

use crate::connect::{self, Abort, AbortHandle, Limits};
use crate::tokens::{SubscriptionTokenFuture, TokenCallbacks, TokenFuture};
use crate::{Client, Error};
use howl_client_core::{ClientConfig, TokenSource};
use std::fmt::Display;
use std::future::Future;
use std::rc::Rc;
use std::time::Duration;

/// Builds a [`Client`] (see [`Client::builder`]). The token settings made here —
/// [`ClientBuilder::token`], [`ClientBuilder::get_token`],
/// [`ClientBuilder::get_subscription_token`] — take precedence over the matching fields of
/// [`ClientBuilder::config`], whatever the order of the calls.
#[must_use = "a builder does nothing until `build` or `connect`"]
pub struct ClientBuilder {
    url: String,
    config: ClientConfig,
    source: Option<TokenSource>,
    tokens: TokenCallbacks,
    connect_timeout: Option<Duration>,
    abort: Option<AbortHandle>,
}

impl ClientBuilder {
    pub(crate) fn new(url: &str) -> Self {
        Self {
            url: url.to_owned(),
            config: ClientConfig::default(),
            source: None,
            tokens: TokenCallbacks::default(),
            connect_timeout: None,
            abort: None,
        }
    }

    /// Timeouts, pings and the reconnect policy (default: [`ClientConfig::default`]).
    pub fn config(mut self, config: ClientConfig) -> Self {
        self.config = config;
        self
    }

    /// The same connection token on every connection. It cannot be renewed: when it expires
    /// (close 4004) the client closes with a `token_expired` error. Replaces
    /// [`ClientBuilder::get_token`].
    pub fn token(mut self, token: impl Into<String>) -> Self {
        self.source = Some(TokenSource::Static(token.into()));
        self.tokens.get_token = None;
        self
    }

    /// Gets a connection token: called before every connection attempt (a reconnect after
    /// 4004 included, so never the expired token again) and shortly before the current token's
    /// `exp` (the client then sends `refresh`, and the connection goes on). An error (its
    /// text, which must not contain a token, is reported as `token_unavailable`) fails that
    /// attempt, which is retried with backoff; before `exp`, the server then closes with 4004
    /// and the client reconnects with a new token. Replaces [`ClientBuilder::token`].
    pub fn get_token<F, Fut, E>(mut self, get: F) -> Self
    where
        F: Fn() -> Fut + 'static,
        Fut: Future<Output = Result<String, E>> + 'static,
        E: Display,
    {
        self.source = Some(TokenSource::GetToken);
        self.tokens.get_token = Some(Rc::new(move || -> TokenFuture {
            let token = get();
            Box::pin(async move { token.await.map_err(|e| e.to_string()) })
        }));
        self
    }

    /// Gets a subscription token for a channel: called before every subscribe and every
    /// re-subscription after a reconnect (tokens expire). `Ok(None)` means the channel needs
    /// no token; an error fails that subscribe with `token_unavailable`.
    pub fn get_subscription_token<F, Fut, E>(mut self, get: F) -> Self
    where
        F: Fn(String) -> Fut + 'static,
        Fut: Future<Output = Result<Option<String>, E>> + 'static,
        E: Display,
    {
        self.tokens.get_subscription_token =
            Some(Rc::new(move |channel| -> SubscriptionTokenFuture {
                let token = get(channel);
                Box::pin(async move { token.await.map_err(|e| e.to_string()) })
            }));
        self
    }

    /// How long [`ClientBuilder::connect`] waits for the handshake (the reconnect attempts it
    /// makes meanwhile included): past it, `connect` fails with
    /// [`howl_client_core::ClientError::Timeout`] and the client is closed. JavaScript's
    /// `HowlClient.connect(url, { timeout })`. Default: no limit.
    pub fn connect_timeout(mut self, timeout: Duration) -> Self {
        self.connect_timeout = Some(timeout);
        self
    }

    /// Lets `abort` end a pending [`ClientBuilder::connect`]: it fails with [`Error::Aborted`]
    /// and the client is closed (at once if `abort` already aborted). JavaScript's
    /// `HowlClient.connect(url, { signal })`. Dropping the `connect` future before it
    /// finishes closes the client too.
    pub fn abort_handle(mut self, abort: &AbortHandle) -> Self {
        self.abort = Some(abort.clone());
        self
    }

    /// Starts connecting and returns at once (see [`Client::new`]). Fails for a bad URL, bad
    /// settings, or settings that ask for tokens without the callback to get them.
    pub fn build(self) -> Result<Client, Error> {
        let mut config = self.config;
        if let Some(source) = self.source {
            config.token = source;
        }
        if self.tokens.get_subscription_token.is_some() {
            config.get_subscription_token = true;
        }
        if config.token == TokenSource::GetToken && self.tokens.get_token.is_none() {
            return Err(Error::InvalidOptions(
                "TokenSource::GetToken needs a get_token callback".into(),
            ));
        }
        if config.get_subscription_token && self.tokens.get_subscription_token.is_none() {
            return Err(Error::InvalidOptions(
                "get_subscription_token is set without a callback".into(),
            ));
        }
        Client::start(&self.url, config, self.tokens)
    }

    /// Builds the client and waits for the handshake (see [`Client::connect`]), at most
    /// [`ClientBuilder::connect_timeout`] and until [`ClientBuilder::abort_handle`]'s handle
    /// aborts. A client that does not open is closed — also when this future is dropped before
    /// it finishes (cancelled).
    pub async fn connect(mut self) -> Result<Client, Error> {
        let limits = Limits {
            timeout_ms: self
                .connect_timeout
                .map(|t| u64::try_from(t.as_millis()).unwrap_or(u64::MAX)),
            abort: self.abort.take().map(Abort::Handle),
        };
        if limits.aborted() {
            return Err(Error::Aborted);
        }
        connect::opened_within(self.build()?, limits).await
    }
}

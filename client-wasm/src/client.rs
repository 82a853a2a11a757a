//! The Rust API, for Rust front ends.
//!
//! ```no_run
//! # async fn demo() -> Result<(), howl_client_wasm::Error> {
//! use howl_client_wasm::{Client, ClientConfig};
//!
//! let client = Client::connect("/ws", ClientConfig::default()).await?;
//! client.on_state_change(|state| web_sys_log(state.as_str()));
//! client.on_message(|m| web_sys_log(&format!("{} #{:?}: {}", m.channel, m.seq, m.data)));
//! client.subscribe(None).await?; // the quote channel
//! client.publish("news", serde_json::json!({"headline": "Moon is full"}), false)?;
//! client.close();
//! # Ok(()) }
//! # fn web_sys_log(_: &str) {}
//! ```

use crate::driver::{Completion, Engine};
use crate::reply::{self, Reply};
use crate::tokens::TokenCallbacks;
use crate::{platform, ClientBuilder, Error};
use howl_client_core::{
    ClientConfig, ClientSession, ConnectionState, Event, History, HistoryOptions, Message,
    Presence, Stats,
};
use serde_json::Value;
use std::rc::Rc;

/// Identifies a listener registered with [`Client::on_event`] and friends, for
/// [`Client::off`].
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, PartialOrd, Ord)]
pub struct ListenerId(pub u64);

/// A Howl connection. Cheap to clone (all clones are the same client). Not `Send`: it lives
/// on the browser's main thread (or one worker).
#[derive(Clone)]
pub struct Client {
    pub(crate) engine: Rc<Engine>,
}

impl Client {
    /// Starts connecting to `url` and returns at once, in [`ConnectionState::Connecting`].
    /// `url` may be `ws://`/`wss://`, `http://`/`https://` (mapped to `ws`/`wss`), or a path
    /// such as `"/ws"` resolved against the page. Register listeners right away to see every
    /// state change; [`Client::opened`] waits for the handshake. For a hub in secured mode,
    /// [`Client::builder`] adds where tokens come from (a static
    /// [`howl_client_core::TokenSource::Static`] token in `config` works here too).
    pub fn new(url: &str, config: ClientConfig) -> Result<Self, Error> {
        Self::builder(url).config(config).build()
    }

    /// A client with settings and token callbacks (see [`ClientBuilder`]).
    pub fn builder(url: &str) -> ClientBuilder {
        ClientBuilder::new(url)
    }

    pub(crate) fn start(
        url: &str,
        config: ClientConfig,
        tokens: TokenCallbacks,
    ) -> Result<Self, Error> {
        console_error_panic_hook::set_once();
        let url = platform::resolve_url(url)?;
        let session = ClientSession::new(config, platform::random_seed())?;
        Ok(Self {
            engine: Engine::start(session, url, tokens),
        })
    }

    /// Connects and waits for the handshake. With reconnect enabled, a server that is down
    /// is retried per the policy; fails with [`howl_client_core::ClientError::ConnectionFailed`]
    /// when the session gives up first, or with the server's `unauthorized` or
    /// `token_expired` error when it refused the token for good
    /// ([`howl_client_core::ClientError::from_close`]).
    pub async fn connect(url: &str, config: ClientConfig) -> Result<Self, Error> {
        let client = Self::new(url, config)?;
        client.opened().await?;
        Ok(client)
    }

    /// Resolves once the connection is open (at once if it is), or fails if the session
    /// closes first.
    pub fn opened(&self) -> Reply {
        let (resolver, reply) = reply::channel();
        self.opened_with(move |r| resolver.resolve(r));
        reply
    }

    /// [`Client::opened`] with a callback instead of a future.
    pub fn opened_with(&self, done: impl FnOnce(Result<(), Error>) + 'static) {
        self.engine.await_open(Box::new(done));
    }

    /// The id the server assigned to the current connection (new after each reconnect).
    pub fn id(&self) -> Option<String> {
        self.engine.read(|s| s.id().map(str::to_owned))
    }

    /// The connection state.
    pub fn state(&self) -> ConnectionState {
        self.engine.read(|s| s.state())
    }

    /// Reconnect attempts since the connection was last open (0 while open).
    pub fn reconnect_attempt(&self) -> u32 {
        self.engine.read(|s| s.reconnect_attempt())
    }

    /// The subscription set: each channel with whether the current connection confirmed it.
    pub fn subscriptions(&self) -> Vec<(String, bool)> {
        self.engine.read(|s| {
            s.subscriptions()
                .map(|(c, ok)| (c.to_owned(), ok))
                .collect()
        })
    }

    /// Channels the server subscribed this connection to (e.g. the token's `channels`),
    /// reported as [`Event::Subscribed`]; the server does so again after every reconnect.
    pub fn server_subscriptions(&self) -> Vec<String> {
        self.engine
            .read(|s| s.server_subscriptions().map(str::to_owned).collect())
    }

    /// Diagnostic counters (duplicates dropped, unknown frames ignored, reconnects, token
    /// refreshes, …).
    pub fn stats(&self) -> Stats {
        self.engine.read(|s| s.stats().clone())
    }

    /// Calls `f` with every session event: state changes, messages, request outcomes,
    /// re-subscription failures, channel status, server errors, pongs (round-trip time),
    /// lost connections, scheduled reconnects (attempt number), closing, tokens that could not
    /// be got, and subscriptions the server made or ended.
    pub fn on_event(&self, f: impl FnMut(&Event) + 'static) -> ListenerId {
        ListenerId(self.engine.add_listener(Box::new(f)))
    }

    /// Calls `f` with each new connection state.
    pub fn on_state_change(&self, mut f: impl FnMut(ConnectionState) + 'static) -> ListenerId {
        self.on_event(move |e| {
            if let Event::StateChanged(state) = e {
                f(*state)
            }
        })
    }

    /// Calls `f` with each message of a subscribed channel.
    pub fn on_message(&self, mut f: impl FnMut(&Message) + 'static) -> ListenerId {
        self.on_event(move |e| {
            if let Event::Message(m) = e {
                f(m)
            }
        })
    }

    /// Removes a listener; false if it was not registered (or already released).
    pub fn off(&self, id: ListenerId) -> bool {
        self.engine.remove_listener(id.0)
    }

    /// Subscribes to `channel` (`None`: the default quote channel). Kept across reconnects.
    pub fn subscribe(&self, channel: Option<&str>) -> Reply {
        let (resolver, reply) = reply::channel();
        self.subscribe_with(channel, move |r| resolver.resolve(r));
        reply
    }

    /// [`Client::subscribe`] with a callback instead of a future.
    pub fn subscribe_with(
        &self,
        channel: Option<&str>,
        done: impl FnOnce(Result<(), Error>) + 'static,
    ) {
        self.request(Box::new(done), |s, now| s.subscribe(channel, now));
    }

    /// Unsubscribes from `channel` (`None`: the default quote channel); its messages stop at
    /// once.
    pub fn unsubscribe(&self, channel: Option<&str>) -> Reply {
        let (resolver, reply) = reply::channel();
        self.unsubscribe_with(channel, move |r| resolver.resolve(r));
        reply
    }

    /// [`Client::unsubscribe`] with a callback instead of a future.
    pub fn unsubscribe_with(
        &self,
        channel: Option<&str>,
        done: impl FnOnce(Result<(), Error>) + 'static,
    ) {
        self.request(Box::new(done), |s, now| s.unsubscribe(channel, now));
    }

    /// Publishes `data` to `channel`; with `exclude_self` this client does not receive it.
    /// Fails at once unless open (nothing is queued); a refusal by the server arrives as
    /// [`Event::ServerError`].
    pub fn publish(&self, channel: &str, data: Value, exclude_self: bool) -> Result<(), Error> {
        Ok(self
            .engine
            .input(|s, _| s.publish(channel, data, exclude_self))?)
    }

    /// Asks for [`Event::ChannelStatus`] notices about `channel` (kept across reconnects).
    pub fn watch(&self, channel: &str) -> Result<(), Error> {
        Ok(self.engine.input(|s, _| s.watch(channel))?)
    }

    /// Stops [`Client::watch`] notices.
    pub fn unwatch(&self, channel: &str) -> Result<(), Error> {
        Ok(self.engine.input(|s, _| s.unwatch(channel))?)
    }

    /// Reads `channel`'s history (all of it by default; `options` limits it or asks for what
    /// came after a position): the stream's position and the messages, oldest first. Fails
    /// with the server's code (`not_available` when the channel keeps no history,
    /// `permission_denied`, `broker_unavailable`, …), `timeout` or `closed`. While the client
    /// is reconnecting the request waits, and is sent once it is back.
    pub fn history(&self, channel: &str, options: HistoryOptions) -> Reply<History> {
        let (resolver, reply) = reply::channel();
        let channel = channel.to_owned();
        self.engine.read_request(
            move |s, now| s.history(&channel, options, now),
            Box::new(move |event| {
                if let Event::HistoryDone { result, .. } = event {
                    resolver.resolve(result.clone().map_err(Error::from));
                }
            }),
        );
        reply
    }

    /// Who is subscribed to `channel`: their count, and the members unless there are more
    /// than the namespace lists. Fails like [`Client::history`] (`not_available` when the
    /// channel keeps no presence).
    pub fn presence(&self, channel: &str) -> Reply<Presence> {
        let (resolver, reply) = reply::channel();
        let channel = channel.to_owned();
        self.engine.read_request(
            move |s, now| s.presence(&channel, now),
            Box::new(move |event| {
                if let Event::PresenceDone { result, .. } = event {
                    resolver.resolve(result.clone().map_err(Error::from));
                }
            }),
        );
        reply
    }

    /// Sends `disconnect`, closes the socket with 1000, stops every timer and releases every
    /// callback (after delivering the final `Closed` state). Idempotent. Like the JavaScript
    /// `close()`.
    pub fn close(&self) {
        self.engine.input(|s, now| s.disconnect(now));
    }

    /// The older name of [`Client::close`], kept for one version (deprecated, like the
    /// JavaScript `disconnect()`).
    pub fn disconnect(&self) {
        self.close();
    }

    /// Whether a timer is pending (false once closed).
    pub fn timer_pending(&self) -> bool {
        self.engine.timer_pending()
    }

    /// Whether the client released its socket, timer and callbacks (it is closed for good).
    pub fn released(&self) -> bool {
        self.engine.released()
    }

    fn request(
        &self,
        done: Completion,
        f: impl FnOnce(&mut ClientSession, u64) -> howl_client_core::RequestId,
    ) {
        self.engine.request(f, done);
    }
}

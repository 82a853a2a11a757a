//! The JavaScript/TypeScript API: the `HowlClient` class.
//!
//! ```js
//! import init, { HowlClient } from "./pkg/howl_client_wasm.js";
//! await init();
//! const client = await HowlClient.connect("ws://localhost:8000/ws", { timeout: 10000 });
//! const news = client.channel("news");
//! const off = news.on("message", (m) => console.log(m.channel, m.seq, m.data));
//! await news.subscribe();
//! const { seq } = await news.publish({ hi: 1 }, { excludeSelf: true });
//! off();
//! client.close();
//! ```
//!
//! The older `onMessage`/`off(id)`/`subscribe(channel)`/`publish(channel, …)`/`disconnect()`
//! methods are deprecated (client-wasm/README.md) and kept for one version.
//!
//! For a hub in secured mode, the options carry `token`, or `getToken` (and
//! `getSubscriptionToken`): see `js/tokens.rs`.

use crate::{Client, Error};
use howl_client_core::{ConnectionState, Event, Message};
use js_sys::{Function, Object, Promise, Reflect};
use wasm_bindgen::prelude::*;

mod connect;
mod events;
mod history;
mod options;
mod subscription;
mod tokens;
mod types;

pub use subscription::JsSubscription;
pub use types::{HistoryOptions, HowlOptions, PublishOptions};

/// A Howl client for JavaScript (see the `.d.ts` for the full contract).
#[wasm_bindgen]
pub struct HowlClient {
    client: Client,
}

#[wasm_bindgen]
impl HowlClient {
    /// Starts connecting and returns at once (state "connecting"); throws a `HowlError` for a
    /// bad URL or options. Register listeners, then `await client.opened()` if needed.
    #[wasm_bindgen(constructor)]
    pub fn new(url: &str, options: Option<HowlOptions>) -> Result<HowlClient, JsValue> {
        let client = build(url, options).map_err(|e| to_js_error(&e))?;
        Ok(HowlClient { client })
    }

    /// Connects and resolves once the handshake is done; rejects with a `HowlError` (code
    /// "connection_failed", or "unauthorized" / "token_expired" when the server refused the
    /// token for good) if the client gives up first, "timeout" after `options.timeout` ms,
    /// "aborted" when `options.signal` aborts (the client is closed then), or for a bad URL or
    /// options.
    #[wasm_bindgen(unchecked_return_type = "Promise<HowlClient>")]
    pub fn connect(url: &str, options: Option<HowlOptions>) -> Promise {
        let options = options.map(JsValue::from);
        let limits = match connect::limits(options.as_ref()) {
            Ok(limits) => limits,
            Err(e) => return Promise::reject(&to_js_error(&e)),
        };
        if limits.aborted() {
            return Promise::reject(&to_js_error(&Error::Aborted));
        }
        let client = match build_from(url, options.as_ref()) {
            Ok(client) => client,
            Err(e) => return Promise::reject(&to_js_error(&e)),
        };
        promise(|done| {
            crate::connect::settle(
                client,
                limits,
                Box::new(move |r| done(r.map(|client| JsValue::from(HowlClient { client })))),
            )
        })
    }

    /// Resolves once the connection is open (at once if it is); rejects if the client closes
    /// first.
    #[wasm_bindgen(unchecked_return_type = "Promise<void>")]
    pub fn opened(&self) -> Promise {
        let client = self.client.clone();
        promise(move |done| client.opened_with(move |r| done(r.map(|()| JsValue::UNDEFINED))))
    }

    /// The id the server assigned to the current connection (new after each reconnect);
    /// undefined unless open.
    #[wasm_bindgen(getter)]
    pub fn id(&self) -> Option<String> {
        self.client.id()
    }

    /// The connection state.
    #[wasm_bindgen(getter, unchecked_return_type = "HowlState")]
    pub fn state(&self) -> String {
        self.client.state().as_str().to_owned()
    }

    /// Reconnect attempts since the connection was last open (0 while open).
    #[wasm_bindgen(getter, js_name = reconnectAttempt)]
    pub fn reconnect_attempt(&self) -> u32 {
        self.client.reconnect_attempt()
    }

    /// Channels this client is subscribed to (kept across reconnects).
    #[wasm_bindgen(getter)]
    pub fn subscriptions(&self) -> Vec<String> {
        self.client
            .subscriptions()
            .into_iter()
            .map(|(c, _)| c)
            .collect()
    }

    /// Channels the server subscribed this client to (e.g. the token's `channels`); the server
    /// subscribes them again after every reconnect.
    #[wasm_bindgen(getter, js_name = serverSubscriptions)]
    pub fn server_subscriptions(&self) -> Vec<String> {
        self.client.server_subscriptions()
    }

    /// Deprecated: use `on("state", …)`. Calls `callback(state)` on every state change;
    /// returns an id for `off`.
    #[wasm_bindgen(js_name = onStateChange)]
    pub fn on_state_change(
        &self,
        #[wasm_bindgen(unchecked_param_type = "(state: HowlState) => void")] callback: Function,
    ) -> u32 {
        self.listen(callback, |e| match e {
            Event::StateChanged(s) => Some(JsValue::from_str(ConnectionState::as_str(*s))),
            _ => None,
        })
    }

    /// Deprecated: use `channel(name).on("message", …)`.
    /// Calls `callback(message)` for each message on a subscribed channel (never twice for
    /// one channel and sequence number); returns an id for `off`.
    #[wasm_bindgen(js_name = onMessage)]
    pub fn on_message(
        &self,
        #[wasm_bindgen(unchecked_param_type = "(message: HowlMessage) => void")] callback: Function,
    ) -> u32 {
        self.listen(callback, |e| match e {
            Event::Message(m) => Some(message_to_js(m)),
            _ => None,
        })
    }

    /// Deprecated: use `on("error", …)`.
    /// Calls `callback(error)` for errors not tied to a pending promise: a publish refused by
    /// the server, a subscription lost after a reconnect, an undecodable server frame, a
    /// token `getToken` could not provide ("token_unavailable"), the server refusing the
    /// connection token for good ("unauthorized", or "token_expired" with a static token:
    /// the client is closed then).
    #[wasm_bindgen(js_name = onError)]
    pub fn on_error(
        &self,
        #[wasm_bindgen(unchecked_param_type = "(error: HowlError) => void")] callback: Function,
    ) -> u32 {
        self.listen(callback, events::error_event)
    }

    /// Deprecated: use `channel(name).on("subscribed", …)`.
    /// Calls `callback(channel)` when the server subscribes this client to a channel (e.g.
    /// one listed in the connection token's `channels`); its messages reach `onMessage`.
    #[wasm_bindgen(js_name = onSubscribed)]
    pub fn on_subscribed(
        &self,
        #[wasm_bindgen(unchecked_param_type = "(channel: string) => void")] callback: Function,
    ) -> u32 {
        self.listen(callback, |e| match e {
            Event::Subscribed { channel } => Some(JsValue::from_str(channel)),
            _ => None,
        })
    }

    /// Deprecated: use `channel(name).on("unsubscribed", …)`.
    /// Calls `callback(channel)` when the server unsubscribes this client from a channel: no
    /// more of its messages arrive, and it leaves `subscriptions`.
    #[wasm_bindgen(js_name = onUnsubscribed)]
    pub fn on_unsubscribed(
        &self,
        #[wasm_bindgen(unchecked_param_type = "(channel: string) => void")] callback: Function,
    ) -> u32 {
        self.listen(callback, |e| match e {
            Event::Unsubscribed { channel } => Some(JsValue::from_str(channel)),
            _ => None,
        })
    }

    /// Deprecated: use the off-function `on(…)` returns. Removes a listener registered with
    /// `onStateChange`, `onMessage`, `onError`,
    /// `onSubscribed` or `onUnsubscribed`.
    pub fn off(&self, id: u32) -> bool {
        self.client.off(crate::ListenerId(u64::from(id)))
    }

    /// Deprecated: use `channel(name).subscribe()`.
    /// Subscribes to `channel` (default: the quote channel "wisdom"); resolves on the
    /// server's confirmation, rejects with a `HowlError` on refusal or timeout.
    #[wasm_bindgen(unchecked_return_type = "Promise<void>")]
    pub fn subscribe(&self, channel: Option<String>) -> Promise {
        let client = self.client.clone();
        promise(move |done| {
            client.subscribe_with(channel.as_deref(), move |r| {
                done(r.map(|()| JsValue::UNDEFINED))
            })
        })
    }

    /// Deprecated: use `channel(name).unsubscribe()`.
    /// Unsubscribes from `channel` (default: the quote channel); its messages stop at once.
    #[wasm_bindgen(unchecked_return_type = "Promise<void>")]
    pub fn unsubscribe(&self, channel: Option<String>) -> Promise {
        let client = self.client.clone();
        promise(move |done| {
            client.unsubscribe_with(channel.as_deref(), move |r| {
                done(r.map(|()| JsValue::UNDEFINED))
            })
        })
    }

    /// Deprecated: use `channel(name).publish(data)`, a promise of `{seq}`.
    /// Publishes any JSON-serializable `data` to `channel`. Throws a `HowlError` when not
    /// open ("not_connected"), for a bad channel or data, or when too large; a refusal by the
    /// server is reported to `onError`.
    pub fn publish(
        &self,
        channel: &str,
        #[wasm_bindgen(unchecked_param_type = "unknown")] data: JsValue,
        options: Option<PublishOptions>,
    ) -> Result<(), JsValue> {
        let run = || -> Result<(), Error> {
            let exclude_self = options::exclude_self(options.map(JsValue::from).as_ref())?;
            self.client.publish(channel, to_json(&data)?, exclude_self)
        };
        run().map_err(|e| to_js_error(&e))
    }

    /// Deprecated: use `close()`. The same.
    pub fn disconnect(&self) {
        self.client.close();
    }

    /// Sends `disconnect`, closes the socket with code 1000, stops every timer and releases
    /// every callback (listeners get the final "closed" state first). Idempotent.
    /// `Symbol.dispose` and `Symbol.asyncDispose` do the same.
    pub fn close(&self) {
        self.client.close();
    }

    /// The channel `name`: subscribe, listen and publish with confirmation.
    pub fn channel(&self, name: &str) -> JsSubscription {
        JsSubscription {
            inner: self.client.channel(name),
        }
    }

    /// Calls `listener` for the client-level `event`: "state" (the new state),
    /// "connecting" (`{attempt, delayMs}` of a scheduled reconnect), "connected"
    /// (`{clientId}`), "disconnected" (`{code, reason, willReconnect}`) or "error" (a
    /// `HowlError`). Returns a function that removes it.
    #[wasm_bindgen(unchecked_return_type = "() => void")]
    pub fn on(
        &self,
        #[wasm_bindgen(unchecked_param_type = "HowlClientEventName")] event: &str,
        #[wasm_bindgen(unchecked_param_type = "(arg: any) => void")] listener: Function,
    ) -> Result<Function, JsValue> {
        if !events::CLIENT_EVENTS.contains(&event) {
            return Err(events::unknown_event(event, &events::CLIENT_EVENTS));
        }
        let name = event.to_owned();
        let client = self.client.clone();
        let id = events::listen(&self.client, listener, move |e| {
            events::client_event(&name, &client, e)
        });
        Ok(events::off_function(&self.client, id))
    }
}

impl HowlClient {
    fn listen(
        &self,
        callback: Function,
        convert: impl Fn(&Event) -> Option<JsValue> + 'static,
    ) -> u32 {
        let id = events::listen(&self.client, callback, convert);
        // Ids stay far below 2^32 in any real program; JS numbers hold them exactly anyway.
        id.0 as u32
    }
}

/// A client from JavaScript options: settings, then tokens.
fn build(url: &str, options: Option<HowlOptions>) -> Result<Client, Error> {
    build_from(url, options.map(JsValue::from).as_ref())
}

fn build_from(url: &str, options: Option<&JsValue>) -> Result<Client, Error> {
    let config = options::parse(options)?;
    tokens::apply(Client::builder(url).config(config), options)?.build()
}

/// Any JSON-serializable JavaScript value as JSON.
fn to_json(data: &JsValue) -> Result<serde_json::Value, Error> {
    let json = js_sys::JSON::stringify(data)
        .ok()
        .and_then(|s| s.as_string())
        .ok_or_else(|| Error::InvalidData("not JSON-serializable".into()))?;
    serde_json::from_str(&json).map_err(|e| Error::InvalidData(e.to_string()))
}

/// A Promise settled by `start`'s completion.
fn promise(start: impl FnOnce(Box<dyn FnOnce(Result<JsValue, Error>)>)) -> Promise {
    let mut settle = None;
    let promise = Promise::new(&mut |resolve, reject| settle = Some((resolve, reject)));
    let (resolve, reject) = settle.expect("the Promise executor runs synchronously");
    start(Box::new(move |result| {
        let _ = match result {
            Ok(value) => resolve.call1(&JsValue::NULL, &value),
            Err(e) => reject.call1(&JsValue::NULL, &to_js_error(&e)),
        };
    }));
    promise
}

/// An `Error` named "HowlError" with a `code`.
fn error_object(message: &str, code: &str) -> JsValue {
    let err = js_sys::Error::new(message);
    err.set_name("HowlError");
    let err = JsValue::from(err);
    set(&err, "code", Some(JsValue::from_str(code)));
    err
}

pub(crate) fn to_js_error(e: &Error) -> JsValue {
    error_object(&e.to_string(), e.code())
}

fn set(target: &JsValue, key: &str, value: Option<JsValue>) {
    if let Some(value) = value {
        let _ = Reflect::set(target, &JsValue::from_str(key), &value);
    }
}

fn message_to_js(m: &Message) -> JsValue {
    let obj = JsValue::from(Object::new());
    set(&obj, "channel", Some(JsValue::from_str(&m.channel)));
    // serde_json output is always valid JSON for JSON.parse.
    let data = js_sys::JSON::parse(&m.data.to_string()).unwrap_or(JsValue::NULL);
    set(&obj, "data", Some(data));
    set(&obj, "seq", Some(JsValue::from_f64(m.seq as f64)));
    set(&obj, "time", Some(JsValue::from_f64(m.time as f64)));
    obj
}

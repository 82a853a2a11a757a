//! The JavaScript `Subscription` class: `client.channel(name)`.

use super::events::{listen, listen2, object, off_function, unknown_event};
use super::history::{self, gap_to_js, member_to_js, subscribed_to_js};
use super::{
    message_to_js, options, promise, to_js_error, to_json, HistoryOptions, PublishOptions,
};
use crate::subscription::{channel_error, subscribed_info};
use crate::Subscription;
use howl_client_core::Event;
use js_sys::{Function, Promise};
use wasm_bindgen::prelude::*;

/// The names `Subscription.on` accepts.
const EVENTS: [&str; 7] = [
    "message",
    "subscribed",
    "unsubscribed",
    "error",
    "gap",
    "join",
    "leave",
];

/// One channel of a `HowlClient` (see the `.d.ts` for the typed `on` overloads).
#[wasm_bindgen(js_name = Subscription)]
pub struct JsSubscription {
    pub(crate) inner: Subscription,
}

#[wasm_bindgen(js_class = Subscription)]
impl JsSubscription {
    /// The channel's name.
    #[wasm_bindgen(getter)]
    pub fn name(&self) -> String {
        self.inner.name().to_owned()
    }

    /// Whether the current connection confirmed the subscription.
    #[wasm_bindgen(getter)]
    pub fn subscribed(&self) -> bool {
        self.inner.is_subscribed()
    }

    /// Subscribes (kept across reconnects); resolves on the server's confirmation, rejects
    /// with a `HowlError` on refusal or timeout.
    #[wasm_bindgen(unchecked_return_type = "Promise<void>")]
    pub fn subscribe(&self) -> Promise {
        let reply = self.inner.subscribe();
        settle_unit(reply)
    }

    /// Unsubscribes; its messages stop at once. Resolves on the server's confirmation.
    #[wasm_bindgen(unchecked_return_type = "Promise<void>")]
    pub fn unsubscribe(&self) -> Promise {
        settle_unit(self.inner.unsubscribe())
    }

    /// Resolves once the channel is subscribed (subscribing it if nobody did yet).
    #[wasm_bindgen(unchecked_return_type = "Promise<void>")]
    pub fn ready(&self) -> Promise {
        settle_unit(self.inner.ready())
    }

    /// Publishes any JSON-serializable `data`; resolves with `{seq}` once the server
    /// confirmed it, rejects with a `HowlError` ("permission_denied", "rate_limited",
    /// "broker_unavailable", "timeout", "publish_queue_full", "connection_lost", "closed",
    /// "invalid_data", …). While the client is reconnecting it waits in a bounded queue.
    #[wasm_bindgen(unchecked_return_type = "Promise<{ seq: number }>")]
    pub fn publish(
        &self,
        #[wasm_bindgen(unchecked_param_type = "unknown")] data: JsValue,
        options: Option<PublishOptions>,
    ) -> Promise {
        let value = options::exclude_self(options.map(JsValue::from).as_ref())
            .and_then(|exclude| Ok((exclude, to_json(&data)?)));
        let (exclude_self, value) = match value {
            Ok(v) => v,
            Err(e) => return Promise::reject(&to_js_error(&e)),
        };
        let reply = self.inner.publish_with(value, exclude_self);
        promise(move |done| {
            wasm_bindgen_futures::spawn_local(async move {
                done(
                    reply
                        .await
                        .map(|ack| object(&[("seq", JsValue::from_f64(ack.seq as f64))])),
                )
            })
        })
    }

    /// Reads the channel's history: resolves with `{epoch, seq, messages}` (the stream's
    /// position and the messages, oldest first); `options` is `{limit?, since?: {epoch,
    /// seq}}`. Rejects with a `HowlError` ("not_available" when the channel keeps no history,
    /// "permission_denied", "broker_unavailable", "timeout", "closed", "invalid_options", …).
    /// While the client is reconnecting the request waits and is sent once it is back.
    #[wasm_bindgen(unchecked_return_type = "Promise<HowlHistory>")]
    pub fn history(&self, options: Option<HistoryOptions>) -> Promise {
        let options = match history::parse_options(options.map(JsValue::from).as_ref()) {
            Ok(options) => options,
            Err(e) => return Promise::reject(&to_js_error(&e)),
        };
        let reply = self.inner.history(options);
        promise(move |done| {
            wasm_bindgen_futures::spawn_local(async move {
                done(reply.await.map(|h| history::history_to_js(&h)))
            })
        })
    }

    /// Who is subscribed to the channel: resolves with `{count, members}` (`members` null
    /// when there are more than the namespace lists). Rejects like `history` ("not_available"
    /// when the channel keeps no presence).
    #[wasm_bindgen(unchecked_return_type = "Promise<HowlPresence>")]
    pub fn presence(&self) -> Promise {
        let reply = self.inner.presence();
        promise(move |done| {
            wasm_bindgen_futures::spawn_local(async move {
                done(reply.await.map(|p| history::presence_to_js(&p)))
            })
        })
    }

    /// Calls `listener` for `event` of this channel ("message", "subscribed" — with the
    /// channel and `{recovered, recoveredCount, epoch, seq}` —, "unsubscribed", "error",
    /// "gap", "join" or "leave"); returns a function that removes it.
    #[wasm_bindgen(unchecked_return_type = "() => void")]
    pub fn on(
        &self,
        #[wasm_bindgen(unchecked_param_type = "SubscriptionEventName")] event: &str,
        #[wasm_bindgen(unchecked_param_type = "(arg: any) => void")] listener: Function,
    ) -> Result<Function, JsValue> {
        let channel = self.inner.name().to_owned();
        let client = self.inner.client();
        let id = match event {
            "message" => listen(client, listener, move |e| match e {
                Event::Message(m) if m.channel == channel => Some(message_to_js(m)),
                _ => None,
            }),
            "subscribed" => listen2(client, listener, move |e| {
                subscribed_info(e, &channel)
                    .map(|info| (JsValue::from_str(&channel), subscribed_to_js(&info)))
            }),
            "gap" => listen(client, listener, move |e| match e {
                Event::Gap {
                    channel: c,
                    from,
                    to,
                } if *c == channel => Some(gap_to_js(c, from, to)),
                _ => None,
            }),
            "join" => listen(client, listener, move |e| match e {
                Event::Join { channel: c, member } if *c == channel => Some(member_to_js(member)),
                _ => None,
            }),
            "leave" => listen(client, listener, move |e| match e {
                Event::Leave { channel: c, member } if *c == channel => Some(member_to_js(member)),
                _ => None,
            }),
            "unsubscribed" => listen(client, listener, move |e| match e {
                Event::SubscriptionEnded { channel: c } | Event::Unsubscribed { channel: c }
                    if *c == channel =>
                {
                    Some(JsValue::from_str(c))
                }
                _ => None,
            }),
            "error" => listen(client, listener, move |e| {
                channel_error(e, &channel).map(|error| {
                    let err = to_js_error(&error);
                    super::set(&err, "channel", Some(JsValue::from_str(&channel)));
                    err
                })
            }),
            other => return Err(unknown_event(other, &EVENTS)),
        };
        Ok(off_function(client, id))
    }
}

/// A Promise for a `()` reply.
fn settle_unit(reply: crate::Reply) -> Promise {
    promise(move |done| {
        wasm_bindgen_futures::spawn_local(
            async move { done(reply.await.map(|()| JsValue::UNDEFINED)) },
        )
    })
}

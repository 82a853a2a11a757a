//! The JavaScript `Subscription` class: `client.channel(name)`.

use super::events::{listen, object, off_function, unknown_event};
use super::{message_to_js, options, promise, to_js_error, to_json, PublishOptions};
use crate::subscription::channel_error;
use crate::Subscription;
use howl_client_core::Event;
use js_sys::{Function, Promise};
use wasm_bindgen::prelude::*;

/// The names `Subscription.on` accepts.
const EVENTS: [&str; 4] = ["message", "subscribed", "unsubscribed", "error"];

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

    /// Calls `listener` for `event` ("message", "subscribed", "unsubscribed" or "error") of
    /// this channel; returns a function that removes it.
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
            "subscribed" => listen(client, listener, move |e| match e {
                Event::SubscriptionConfirmed { channel: c } | Event::Subscribed { channel: c }
                    if *c == channel =>
                {
                    Some(JsValue::from_str(c))
                }
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

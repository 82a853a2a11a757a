//! Session events as the JavaScript values listeners receive, and the off-functions that
//! `on(...)` returns.

use super::{error_object, set, to_js_error};
use crate::{Client, Error, ListenerId};
use howl_client_core::{close, ClientError, CloseReason, ConnectionState, Event, LostReason};
use js_sys::{Function, Object};
use wasm_bindgen::prelude::*;

/// The names `HowlClient.on` accepts.
pub(crate) const CLIENT_EVENTS: [&str; 5] =
    ["state", "connecting", "connected", "disconnected", "error"];

/// Registers `callback` for the events `convert` turns into its argument, and returns the
/// function that removes it (calling it again does nothing).
pub(crate) fn listen(
    client: &Client,
    callback: Function,
    convert: impl Fn(&Event) -> Option<JsValue> + 'static,
) -> ListenerId {
    client.on_event(move |event| {
        if let Some(arg) = convert(event) {
            if let Err(e) = callback.call1(&JsValue::NULL, &arg) {
                crate::platform::console_error("howl: a listener threw", &e);
            }
        }
    })
}

/// [`listen`] for listeners called with two arguments.
pub(crate) fn listen2(
    client: &Client,
    callback: Function,
    convert: impl Fn(&Event) -> Option<(JsValue, JsValue)> + 'static,
) -> ListenerId {
    client.on_event(move |event| {
        if let Some((first, second)) = convert(event) {
            if let Err(e) = callback.call2(&JsValue::NULL, &first, &second) {
                crate::platform::console_error("howl: a listener threw", &e);
            }
        }
    })
}

/// A JS function that removes listener `id` of `client`.
pub(crate) fn off_function(client: &Client, id: ListenerId) -> Function {
    let client = client.clone();
    Closure::<dyn FnMut()>::new(move || {
        client.off(id);
    })
    .into_js_value()
    .unchecked_into()
}

/// An unknown event name: a `HowlError` with code "invalid_options".
pub(crate) fn unknown_event(name: &str, known: &[&str]) -> JsValue {
    to_js_error(&Error::InvalidOptions(format!(
        "unknown event {name:?}; use one of {}",
        known.join(", ")
    )))
}

/// The argument of the client-level event `name` for `event`, if it is one (`client` reads
/// the id and state at delivery).
pub(crate) fn client_event(name: &str, client: &Client, event: &Event) -> Option<JsValue> {
    match (name, event) {
        ("state", Event::StateChanged(s)) => Some(JsValue::from_str(s.as_str())),
        ("connecting", Event::ReconnectScheduled { attempt, delay_ms }) => Some(object(&[
            ("attempt", JsValue::from_f64(f64::from(*attempt))),
            ("delayMs", JsValue::from_f64(*delay_ms as f64)),
        ])),
        ("connected", Event::StateChanged(ConnectionState::Open)) => Some(object(&[(
            "clientId",
            client
                .id()
                .map_or(JsValue::NULL, |id| JsValue::from_str(&id)),
        )])),
        ("disconnected", Event::ConnectionLost(reason)) => {
            let code = match reason {
                LostReason::Closed { code } => *code,
                LostReason::PingTimeout => close::HEARTBEAT_TIMEOUT,
                LostReason::HandshakeTimeout => close::HANDSHAKE_TIMEOUT,
                LostReason::TokenUnavailable => 1006,
            };
            // Listeners run after the session handled the loss: its state says what follows.
            let will_reconnect = client.state() != ConnectionState::Closed;
            Some(disconnected(code, &reason.to_string(), will_reconnect))
        }
        ("disconnected", Event::Closed(CloseReason::Disconnected)) => Some(disconnected(
            close::NORMAL,
            &CloseReason::Disconnected.to_string(),
            false,
        )),
        ("error", event) => error_event(event),
        _ => None,
    }
}

fn disconnected(code: u16, reason: &str, will_reconnect: bool) -> JsValue {
    object(&[
        ("code", JsValue::from_f64(f64::from(code))),
        ("reason", JsValue::from_str(reason)),
        ("willReconnect", JsValue::from_bool(will_reconnect)),
    ])
}

/// The `HowlError` for events that report an error not tied to a pending promise.
pub(crate) fn error_event(event: &Event) -> Option<JsValue> {
    match event {
        Event::ServerError(p) => {
            let err = error_object(&p.message, p.code.as_str());
            set(&err, "request", p.request.as_deref().map(JsValue::from_str));
            set(&err, "channel", p.channel.as_deref().map(JsValue::from_str));
            Some(err)
        }
        Event::SubscriptionFailed { channel, error } => {
            let err = error_object(
                &format!("subscription to {channel:?} lost: {error}"),
                error.code(),
            );
            set(&err, "channel", Some(JsValue::from_str(channel)));
            Some(err)
        }
        Event::ProtocolViolation(what) => Some(error_object(what, "protocol_violation")),
        Event::TokenUnavailable(reason) => Some(to_js_error(
            &ClientError::TokenUnavailable(reason.clone()).into(),
        )),
        Event::Closed(reason @ (CloseReason::Unauthorized(_) | CloseReason::TokenExpired(_))) => {
            Some(to_js_error(&ClientError::from_close(reason).into()))
        }
        _ => None,
    }
}

/// A plain object with these fields.
pub(crate) fn object(fields: &[(&str, JsValue)]) -> JsValue {
    let obj = JsValue::from(Object::new());
    for (key, value) in fields {
        set(&obj, key, Some(value.clone()));
    }
    obj
}

//! `HowlClient.connect`'s own options: `timeout` (ms) and `signal` (an `AbortSignal`). The
//! promise always settles: opened, given up, timed out or aborted — and a client that did
//! not open in time, or whose signal aborted, is closed.

use super::HowlClient;
use crate::platform::{self, Timeout};
use crate::{Client, Error};
use howl_client_core::ClientError;
use js_sys::{Function, Reflect};
use std::cell::RefCell;
use std::rc::Rc;
use wasm_bindgen::prelude::*;
use wasm_bindgen::JsCast;
use web_sys::EventTarget;

/// The `timeout` and `signal` of the options.
pub(super) struct Limits {
    timeout_ms: Option<u64>,
    signal: Option<EventTarget>,
}

/// The error an aborted connect rejects with.
pub(super) fn aborted() -> Error {
    Error::Aborted
}

impl Limits {
    pub(super) fn parse(options: Option<&JsValue>) -> Result<Self, Error> {
        let Some(o) = options.filter(|o| o.is_object()) else {
            return Ok(Self {
                timeout_ms: None,
                signal: None,
            });
        };
        let get = |key: &str| {
            Reflect::get(o, &JsValue::from_str(key))
                .ok()
                .filter(|v| !v.is_undefined() && !v.is_null())
        };
        let timeout_ms = match get("timeout") {
            None => None,
            Some(v) => match v.as_f64() {
                Some(n) if n.is_finite() && n >= 0.0 => Some(n.round() as u64),
                _ => {
                    return Err(Error::InvalidOptions(
                        "timeout must be a non-negative number".into(),
                    ))
                }
            },
        };
        let signal = match get("signal") {
            None => None,
            Some(v) => Some(
                v.dyn_into::<EventTarget>()
                    .map_err(|_| Error::InvalidOptions("signal must be an AbortSignal".into()))?,
            ),
        };
        Ok(Self { timeout_ms, signal })
    }

    /// Whether the signal already aborted.
    pub(super) fn aborted(&self) -> bool {
        self.signal.as_ref().is_some_and(|s| {
            Reflect::get(s, &"aborted".into())
                .ok()
                .and_then(|v| v.as_bool())
                .unwrap_or(false)
        })
    }
}

type Done = Box<dyn FnOnce(Result<JsValue, Error>)>;

/// What a pending connect holds until it settles; dropping it clears the timer and removes
/// the abort listener.
struct Pending {
    done: Option<Done>,
    _timeout: Option<(Timeout, Closure<dyn FnMut()>)>,
    abort: Option<(EventTarget, Closure<dyn FnMut()>)>,
}

impl Drop for Pending {
    fn drop(&mut self) {
        if let Some((signal, listener)) = &self.abort {
            let f: &Function = listener.as_ref().unchecked_ref();
            let _ = signal.remove_event_listener_with_callback("abort", f);
        }
    }
}

/// Settles `done` with the client once it opens, or with why it did not.
pub(super) fn settle(client: Client, limits: Limits, done: Done) {
    let pending = Rc::new(RefCell::new(Some(Pending {
        done: Some(done),
        _timeout: None,
        abort: None,
    })));
    // Takes the pending state (once) and settles; a timeout or abort also closes the client.
    let finish = {
        let pending = pending.clone();
        let client = client.clone();
        move |result: Result<JsValue, Error>| {
            let Some(mut state) = pending.borrow_mut().take() else {
                return;
            };
            let failed = result.is_err();
            if let Some(done) = state.done.take() {
                done(result);
            }
            drop(state);
            if failed {
                client.close();
            }
        }
    };
    if let Some(ms) = limits.timeout_ms {
        let finish = finish.clone();
        let handler = Closure::<dyn FnMut()>::new(move || {
            finish(Err(ClientError::Timeout(ms).into()));
        });
        let now = platform::now_ms();
        let timeout = Timeout::start(handler.as_ref().unchecked_ref(), now + ms, now);
        if let Some(p) = pending.borrow_mut().as_mut() {
            p._timeout = Some((timeout, handler));
        }
    }
    if let Some(signal) = limits.signal {
        let finish = finish.clone();
        let listener = Closure::<dyn FnMut()>::new(move || finish(Err(aborted())));
        let _ = signal.add_event_listener_with_callback("abort", listener.as_ref().unchecked_ref());
        if let Some(p) = pending.borrow_mut().as_mut() {
            p.abort = Some((signal, listener));
        }
    }
    let handle = client.clone();
    client.opened_with(move |r| finish(r.map(|()| JsValue::from(HowlClient { client: handle }))));
}

//! The few browser facilities the driver needs, reached through the JS global scope so the
//! SDK works in a window and in a worker alike.

use crate::Error;
use js_sys::Function;
use wasm_bindgen::prelude::*;

#[wasm_bindgen]
extern "C" {
    #[wasm_bindgen(js_namespace = performance, js_name = now)]
    fn performance_now() -> f64;

    #[wasm_bindgen(js_name = setTimeout)]
    fn set_timeout(handler: &Function, timeout_ms: i32) -> JsValue;

    #[wasm_bindgen(js_name = clearTimeout)]
    fn clear_timeout(id: &JsValue);

    #[wasm_bindgen(js_namespace = console, js_name = warn)]
    pub(crate) fn console_warn(message: &str);

    #[wasm_bindgen(js_namespace = console, js_name = error)]
    pub(crate) fn console_error(message: &str, value: &JsValue);
}

/// Milliseconds from the page's monotonic clock.
pub(crate) fn now_ms() -> u64 {
    performance_now() as u64
}

/// The wall clock in Unix milliseconds (to read a token's `exp` against).
pub(crate) fn unix_ms() -> u64 {
    js_sys::Date::now() as u64
}

/// A seed for reconnect jitter that differs between clients.
pub(crate) fn random_seed() -> u64 {
    let high = (js_sys::Math::random() * 4_294_967_296.0) as u64;
    let low = (js_sys::Math::random() * 4_294_967_296.0) as u64;
    (high << 32) ^ low ^ performance_now().to_bits()
}

/// A pending `setTimeout`; cleared when dropped.
pub(crate) struct Timeout {
    id: JsValue,
    pub(crate) deadline: u64,
}

impl Timeout {
    pub(crate) fn start(handler: &Function, deadline: u64, now: u64) -> Self {
        // setTimeout takes a signed 32-bit delay; longer ones would fire at once.
        let delay = deadline.saturating_sub(now).min(i32::MAX as u64) as i32;
        Self {
            id: set_timeout(handler, delay),
            deadline,
        }
    }
}

impl Drop for Timeout {
    fn drop(&mut self) {
        clear_timeout(&self.id);
    }
}

/// Resolves `url` against the page's location (so `"/ws"` works) and maps `http(s)` to
/// `ws(s)`. Anything else is [`Error::InvalidUrl`].
pub(crate) fn resolve_url(url: &str) -> Result<String, Error> {
    let invalid = || Error::InvalidUrl(url.to_owned());
    let global = js_sys::global();
    let base = js_sys::Reflect::get(&global, &"location".into())
        .ok()
        .filter(|l| !l.is_undefined())
        .and_then(|l| js_sys::Reflect::get(&l, &"href".into()).ok())
        .and_then(|h| h.as_string());
    let parsed = match base {
        Some(base) => web_sys::Url::new_with_base(url, &base),
        None => web_sys::Url::new(url),
    }
    .map_err(|_| invalid())?;
    match parsed.protocol().as_str() {
        "ws:" | "wss:" => {}
        "http:" => parsed.set_protocol("ws:"),
        "https:" => parsed.set_protocol("wss:"),
        _ => return Err(invalid()),
    }
    // A WebSocket URL must not carry a fragment.
    parsed.set_hash("");
    Ok(parsed.href())
}

//! `HowlClient.connect`'s own options: `timeout` (ms) and `signal` (an `AbortSignal`), read
//! into the [`Limits`] that `crate::connect::settle` waits with.

use crate::connect::{Abort, Limits};
use crate::Error;
use js_sys::Reflect;
use wasm_bindgen::prelude::*;
use wasm_bindgen::JsCast;
use web_sys::EventTarget;

/// The `timeout` and `signal` of the options.
pub(super) fn limits(options: Option<&JsValue>) -> Result<Limits, Error> {
    let Some(o) = options.filter(|o| o.is_object()) else {
        return Ok(Limits::default());
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
    let abort = match get("signal") {
        None => None,
        Some(v) => Some(Abort::Signal(v.dyn_into::<EventTarget>().map_err(
            |_| Error::InvalidOptions("signal must be an AbortSignal".into()),
        )?)),
    };
    Ok(Limits { timeout_ms, abort })
}

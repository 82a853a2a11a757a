//! Reading the JavaScript options objects.

use crate::Error;
use howl_client_core::{ClientConfig, ReconnectPolicy};
use js_sys::{Object, Reflect};
use wasm_bindgen::{JsCast, JsValue};

fn get(options: &Object, key: &str) -> Option<JsValue> {
    Reflect::get(options, &JsValue::from_str(key))
        .ok()
        .filter(|v| !v.is_undefined())
}

fn number(options: &Object, key: &str) -> Result<Option<f64>, Error> {
    match get(options, key) {
        None => Ok(None),
        Some(v) => match v.as_f64() {
            Some(n) if n.is_finite() && n >= 0.0 => Ok(Some(n)),
            _ => Err(Error::InvalidOptions(format!(
                "{key} must be a non-negative number"
            ))),
        },
    }
}

fn millis(options: &Object, key: &str) -> Result<Option<u64>, Error> {
    Ok(number(options, key)?.map(|n| n.round() as u64))
}

fn boolean(options: &Object, key: &str) -> Result<Option<bool>, Error> {
    match get(options, key) {
        None => Ok(None),
        Some(v) => v
            .as_bool()
            .map(Some)
            .ok_or_else(|| Error::InvalidOptions(format!("{key} must be a boolean"))),
    }
}

fn object(options: Option<&JsValue>, what: &str) -> Result<Option<Object>, Error> {
    match options {
        None => Ok(None),
        Some(o) if o.is_undefined() || o.is_null() => Ok(None),
        Some(o) if o.is_object() => Ok(Some(o.clone().unchecked_into())),
        Some(_) => Err(Error::InvalidOptions(format!("{what} must be an object"))),
    }
}

/// `HowlOptions` → session settings (unknown keys are ignored, wrong types refused).
pub(crate) fn parse(options: Option<&JsValue>) -> Result<ClientConfig, Error> {
    let mut config = ClientConfig::default();
    let Some(o) = object(options, "options")? else {
        return Ok(config);
    };
    let defaults = ReconnectPolicy::default();
    if let Some(v) = millis(&o, "pingIntervalMs")? {
        config.ping_interval_ms = v;
    }
    if let Some(v) = millis(&o, "pongTimeoutMs")? {
        config.pong_timeout_ms = v;
    }
    if let Some(v) = millis(&o, "requestTimeoutMs")? {
        config.request_timeout_ms = v;
    }
    if let Some(v) = millis(&o, "handshakeTimeoutMs")? {
        config.handshake_timeout_ms = v;
    }
    if let Some(v) = millis(&o, "publishQueueLimit")? {
        config.publish_queue_limit = v as usize;
    }
    if let Some(v) = millis(&o, "maxFrameBytes")? {
        config.max_frame_bytes = v as usize;
    }
    let policy = &mut config.reconnect;
    policy.enabled = boolean(&o, "reconnect")?.unwrap_or(defaults.enabled);
    if let Some(v) = millis(&o, "reconnectInitialDelayMs")? {
        policy.initial_delay_ms = v;
    }
    if let Some(v) = millis(&o, "reconnectMaxDelayMs")? {
        policy.max_delay_ms = v;
    }
    if let Some(v) = number(&o, "reconnectMultiplier")? {
        policy.multiplier = v;
    }
    if let Some(v) = number(&o, "reconnectJitter")? {
        policy.jitter = v;
    }
    match get(&o, "reconnectMaxAttempts") {
        Some(v) if v.is_null() => policy.max_attempts = None,
        Some(_) => policy.max_attempts = number(&o, "reconnectMaxAttempts")?.map(|n| n as u32),
        None => {}
    }
    config.validate()?;
    Ok(config)
}

/// `PublishOptions.excludeSelf`.
pub(crate) fn exclude_self(options: Option<&JsValue>) -> Result<bool, Error> {
    match object(options, "publish options")? {
        Some(o) => Ok(boolean(&o, "excludeSelf")?.unwrap_or(false)),
        None => Ok(false),
    }
}

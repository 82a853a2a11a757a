//! The token options of `HowlOptions` — `token`, `getToken`, `getSubscriptionToken` — and
//! calling those JavaScript callbacks from the Rust side.

use crate::{ClientBuilder, Error};
use js_sys::{Function, Object, Promise, Reflect};
use wasm_bindgen::{JsCast, JsValue};
use wasm_bindgen_futures::JsFuture;

/// Adds the token options of `options` to `builder` (unknown keys are ignored, wrong types
/// refused).
pub(crate) fn apply(
    builder: ClientBuilder,
    options: Option<&JsValue>,
) -> Result<ClientBuilder, Error> {
    let Some(options) = options.filter(|o| o.is_object()) else {
        return Ok(builder);
    };
    let options: &Object = options.unchecked_ref();
    let token = get(options, "token")
        .map(|v| {
            v.as_string()
                .filter(|t| !t.is_empty())
                .ok_or_else(|| Error::InvalidOptions("token must be a non-empty string".into()))
        })
        .transpose()?;
    let get_token = function(options, "getToken")?;
    let get_subscription_token = function(options, "getSubscriptionToken")?;
    let mut builder = builder;
    match (token, get_token) {
        (Some(_), Some(_)) => {
            return Err(Error::InvalidOptions(
                "token and getToken are exclusive: use getToken to renew tokens".into(),
            ))
        }
        (Some(token), None) => builder = builder.token(token),
        (None, Some(f)) => {
            builder = builder.get_token(move || {
                let f = f.clone();
                async move { connection_token(&f).await }
            })
        }
        (None, None) => {}
    }
    if let Some(f) = get_subscription_token {
        builder = builder.get_subscription_token(move |channel| {
            let f = f.clone();
            async move { subscription_token(&f, &channel).await }
        });
    }
    Ok(builder)
}

/// `getToken()`: a string, or a Promise of one.
async fn connection_token(get_token: &Function) -> Result<String, String> {
    let value = settle(get_token.call0(&JsValue::NULL))
        .await
        .map_err(|reason| format!("getToken failed: {reason}"))?;
    if value.is_null() || value.is_undefined() {
        return Err("getToken returned no token".into());
    }
    value
        .as_string()
        .ok_or_else(|| "getToken must return a string".into())
}

/// `getSubscriptionToken(channel)`: a string, null or undefined (no token needed), or a
/// Promise of one.
async fn subscription_token(get: &Function, channel: &str) -> Result<Option<String>, String> {
    let value = settle(get.call1(&JsValue::NULL, &JsValue::from_str(channel)))
        .await
        .map_err(|reason| format!("getSubscriptionToken failed: {reason}"))?;
    if value.is_null() || value.is_undefined() {
        return Ok(None);
    }
    value
        .as_string()
        .map(Some)
        .ok_or_else(|| "getSubscriptionToken must return a string, null or undefined".into())
}

/// The value a callback returned, awaited if it is a Promise; or why it threw or rejected.
async fn settle(returned: Result<JsValue, JsValue>) -> Result<JsValue, String> {
    let value = returned.map_err(|e| reason(&e))?;
    JsFuture::from(Promise::resolve(&value))
        .await
        .map_err(|e| reason(&e))
}

/// An exception's message (an `Error`'s `message`, or the thrown string).
fn reason(thrown: &JsValue) -> String {
    match thrown.dyn_ref::<js_sys::Error>() {
        Some(error) => String::from(error.message()),
        None => thrown
            .as_string()
            .unwrap_or_else(|| "a value that is not an Error".into()),
    }
}

fn get(options: &Object, key: &str) -> Option<JsValue> {
    Reflect::get(options, &JsValue::from_str(key))
        .ok()
        .filter(|v| !v.is_undefined() && !v.is_null())
}

fn function(options: &Object, key: &str) -> Result<Option<Function>, Error> {
    get(options, key)
        .map(|v| {
            v.dyn_into::<Function>()
                .map_err(|_| Error::InvalidOptions(format!("{key} must be a function")))
        })
        .transpose()
}

//! History, presence and recovery as JavaScript values: `HistoryOptions` read from JS, and
//! the objects `history()`, `presence()` and the "subscribed", "gap", "join" and "leave"
//! listeners receive.

use super::events::object;
use super::{message_to_js, set, to_json};
use crate::{Error, History, HistoryOptions, Member, Presence, StreamPosition, SubscribedInfo};
use js_sys::Array;
use serde_json::Value;
use wasm_bindgen::JsValue;

/// `{limit?, since?: {epoch, seq}}` → [`HistoryOptions`] (unknown keys are ignored, wrong
/// types refused with "invalid_options").
pub(crate) fn parse_options(options: Option<&JsValue>) -> Result<HistoryOptions, Error> {
    let Some(options) = options.filter(|o| !o.is_undefined() && !o.is_null()) else {
        return Ok(HistoryOptions::default());
    };
    let bad = |what: &str| Error::InvalidOptions(format!("history options: {what}"));
    let json = to_json(options).map_err(|_| bad("not an object"))?;
    let Value::Object(map) = json else {
        return Err(bad("not an object"));
    };
    let limit = match map.get("limit") {
        None | Some(Value::Null) => None,
        Some(n) => Some(
            n.as_u64()
                .and_then(|n| u32::try_from(n).ok())
                .ok_or_else(|| bad("limit must be a non-negative integer"))?,
        ),
    };
    let since = match map.get("since") {
        None | Some(Value::Null) => None,
        Some(since) => Some(StreamPosition {
            epoch: since["epoch"]
                .as_str()
                .ok_or_else(|| bad("since.epoch must be a string"))?
                .to_owned(),
            seq: since["seq"]
                .as_u64()
                .ok_or_else(|| bad("since.seq must be a non-negative integer"))?,
        }),
    };
    Ok(HistoryOptions { limit, since })
}

/// `{epoch, seq}`.
pub(crate) fn position_to_js(p: &StreamPosition) -> JsValue {
    object(&[
        ("epoch", JsValue::from_str(&p.epoch)),
        ("seq", JsValue::from_f64(p.seq as f64)),
    ])
}

/// `{epoch, seq, messages}`.
pub(crate) fn history_to_js(h: &History) -> JsValue {
    let messages: Array = h.messages.iter().map(message_to_js).collect();
    object(&[
        ("epoch", JsValue::from_str(&h.position.epoch)),
        ("seq", JsValue::from_f64(h.position.seq as f64)),
        ("messages", messages.into()),
    ])
}

/// `{count, members}` (`members` null when there are too many to list).
pub(crate) fn presence_to_js(p: &Presence) -> JsValue {
    let members = p.members.as_ref().map_or(JsValue::NULL, |list| {
        list.iter().map(member_to_js).collect::<Array>().into()
    });
    object(&[
        ("count", JsValue::from_f64(p.count as f64)),
        ("members", members),
    ])
}

/// `{client, user?, info?}`.
pub(crate) fn member_to_js(m: &Member) -> JsValue {
    let obj = object(&[("client", JsValue::from_str(&m.client))]);
    set(&obj, "user", m.user.as_deref().map(JsValue::from_str));
    let info = m.info.as_ref().map(|info| {
        // serde_json output is always valid JSON for JSON.parse.
        js_sys::JSON::parse(&info.to_string()).unwrap_or(JsValue::NULL)
    });
    set(&obj, "info", info);
    obj
}

/// The "subscribed" listener's second argument: `{recovered, recoveredCount, epoch, seq}`
/// (`epoch` and `seq` null when the server sent no position).
pub(crate) fn subscribed_to_js(info: &SubscribedInfo) -> JsValue {
    let (epoch, seq) = match &info.position {
        Some(p) => (JsValue::from_str(&p.epoch), JsValue::from_f64(p.seq as f64)),
        None => (JsValue::NULL, JsValue::NULL),
    };
    object(&[
        ("recovered", JsValue::from_bool(info.recovered)),
        (
            "recoveredCount",
            JsValue::from_f64(info.recovered_count as f64),
        ),
        ("epoch", epoch),
        ("seq", seq),
    ])
}

/// The "gap" listener's argument: `{channel, from, to}`.
pub(crate) fn gap_to_js(channel: &str, from: &StreamPosition, to: &StreamPosition) -> JsValue {
    object(&[
        ("channel", JsValue::from_str(channel)),
        ("from", position_to_js(from)),
        ("to", position_to_js(to)),
    ])
}

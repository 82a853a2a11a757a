//! `GET /api/channels/{channel}/history` and `/presence`: what a channel kept, and who is in
//! it, as the `history_result` and `presence_result` payloads.

use super::{broker_unavailable, check_channel, counted, ApiError};
use crate::broker::HistoryQuery;
use crate::node::{Node, ReadError};
use axum::extract::rejection::QueryRejection;
use axum::extract::{Path, Query, State};
use axum::http::{header, StatusCode};
use axum::response::{IntoResponse, Response};
use axum::Json;
use howl_protocol::{ErrorCode, StreamPosition};
use serde::Deserialize;
use serde_json::json;
use std::sync::Arc;

/// The query of a history request.
#[derive(Debug, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct HistoryParams {
    /// At most this many messages.
    limit: Option<u32>,
    /// `EPOCH:SEQ`: only messages after that position.
    since: Option<String>,
}

fn invalid(node: &Node, message: String) -> ApiError {
    let error = ApiError::new(StatusCode::BAD_REQUEST, ErrorCode::InvalidPayload, message);
    counted(node, error)
}

fn read_failed(node: &Node, error: ReadError) -> ApiError {
    match error {
        ReadError::Broker(error) => broker_unavailable(node, error),
        other => {
            let error = ApiError::new(StatusCode::NOT_FOUND, other.code(), other.to_string());
            counted(node, error)
        }
    }
}

/// Reads `EPOCH:SEQ`.
fn parse_since(text: &str) -> Option<StreamPosition> {
    let (epoch, seq) = text.rsplit_once(':')?;
    let seq = seq.parse().ok()?;
    (!epoch.is_empty()).then(|| StreamPosition {
        epoch: epoch.to_owned(),
        seq,
    })
}

/// `GET /api/channels/{channel}/history?limit=N&since=EPOCH:SEQ`: the channel's kept
/// messages (after `since`, or the latest `limit`), as a `history_result` payload.
pub async fn history(
    State(node): State<Arc<Node>>,
    Path(channel): Path<String>,
    params: Result<Query<HistoryParams>, QueryRejection>,
) -> Result<Response, ApiError> {
    check_channel(&node, &channel)?;
    let Query(params) = params.map_err(|e| invalid(&node, e.body_text()))?;
    let since = match params.since.as_deref() {
        Some(text) => Some(parse_since(text).ok_or_else(|| {
            let message =
                format!("since must be EPOCH:SEQ (as in a stream position), not {text:?}");
            invalid(&node, message)
        })?),
        None => None,
    };
    let query = HistoryQuery {
        since,
        limit: params.limit.map(|l| l as usize),
    };
    let history = node
        .history(&channel, query)
        .await
        .map_err(|e| read_failed(&node, e))?;
    let body = history.to_json(&channel, None, false);
    Ok(([(header::CONTENT_TYPE, "application/json")], body).into_response())
}

/// `GET /api/channels/{channel}/presence`: who is in the channel across the cluster, as a
/// `presence_result` payload (`members` only up to the namespace's `presence-max-members`).
pub async fn presence(
    State(node): State<Arc<Node>>,
    Path(channel): Path<String>,
) -> Result<Json<serde_json::Value>, ApiError> {
    check_channel(&node, &channel)?;
    let presence = node
        .presence(&channel)
        .await
        .map_err(|e| read_failed(&node, e))?;
    let mut body = json!({"channel": channel, "count": presence.count});
    if let Some(members) = presence.members {
        body["members"] = json!(members);
    }
    Ok(Json(body))
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn since_is_epoch_colon_seq() {
        let position = parse_since("ab12cd34:17").unwrap();
        assert_eq!((position.epoch.as_str(), position.seq), ("ab12cd34", 17));
        for bad in ["17", ":17", "ab:", "ab:x", "ab:-1", ""] {
            assert_eq!(parse_since(bad), None, "{bad}");
        }
    }
}

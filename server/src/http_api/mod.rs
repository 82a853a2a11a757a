//! The HTTP API: publish to a channel, list channels, act on a user's connections, health
//! and metrics.
//!
//! - `streams`: a channel's history and presence.

mod streams;

pub use streams::{history, presence};

use crate::node::Node;
use crate::users::UserCommand;
use axum::body::Bytes;
use axum::extract::rejection::BytesRejection;
use axum::extract::{Path, State};
use axum::http::{header, HeaderMap, StatusCode};
use axum::response::{IntoResponse, Response};
use axum::Json;
use howl_protocol::{validate_channel, ErrorCode};
use serde_json::json;
use std::sync::Arc;

/// An HTTP error: status plus `{"error": {"code": ..., "message": ...}}`.
#[derive(Debug)]
pub struct ApiError {
    status: StatusCode,
    code: ErrorCode,
    message: String,
}

impl ApiError {
    /// An error with this status, code and message.
    pub fn new(status: StatusCode, code: ErrorCode, message: impl Into<String>) -> Self {
        Self {
            status,
            code,
            message: message.into(),
        }
    }

    /// Its error code.
    pub fn code(&self) -> ErrorCode {
        self.code
    }
}

impl IntoResponse for ApiError {
    fn into_response(self) -> Response {
        let body = json!({"error": {"code": self.code, "message": self.message}});
        (self.status, Json(body)).into_response()
    }
}

fn counted(node: &Node, error: ApiError) -> ApiError {
    node.metrics.count_error(error.code);
    error
}

fn broker_unavailable(node: &Node, error: crate::broker::BrokerError) -> ApiError {
    let error = ApiError::new(
        StatusCode::SERVICE_UNAVAILABLE,
        ErrorCode::BrokerUnavailable,
        error.to_string(),
    );
    counted(node, error)
}

/// Whether the request declares a JSON body (`application/json`, parameters allowed).
fn is_json(headers: &HeaderMap) -> bool {
    headers
        .get(header::CONTENT_TYPE)
        .and_then(|v| v.to_str().ok())
        .and_then(|v| v.split(';').next())
        .is_some_and(|essence| essence.trim().eq_ignore_ascii_case("application/json"))
}

/// Refuses a body not declared `Content-Type: application/json` (415), which a cross-site
/// form or `no-cors` fetch cannot send.
fn require_json(node: &Node, headers: &HeaderMap) -> Result<(), ApiError> {
    if is_json(headers) {
        return Ok(());
    }
    Err(counted(
        node,
        ApiError::new(
            StatusCode::UNSUPPORTED_MEDIA_TYPE,
            ErrorCode::UnsupportedMediaType,
            "the body must be sent with Content-Type: application/json",
        ),
    ))
}

fn check_channel(node: &Node, channel: &str) -> Result<(), ApiError> {
    validate_channel(channel).map_err(|e| {
        counted(
            node,
            ApiError::new(
                StatusCode::BAD_REQUEST,
                ErrorCode::InvalidChannel,
                e.to_string(),
            ),
        )
    })
}

/// The request body, or the error for one that was too large, too slow or unreadable.
fn read_body(node: &Node, body: Result<Bytes, BytesRejection>) -> Result<Bytes, ApiError> {
    body.map_err(|rejection| {
        if let Some(timeout) = crate::http_server::BodyTimeout::find(&rejection) {
            let (status, code) = (StatusCode::REQUEST_TIMEOUT, ErrorCode::RequestTimeout);
            return counted(node, ApiError::new(status, code, timeout.to_string()));
        }
        let (status, code) = match rejection.status() {
            StatusCode::PAYLOAD_TOO_LARGE => {
                (StatusCode::PAYLOAD_TOO_LARGE, ErrorCode::MessageTooLarge)
            }
            status => (status, ErrorCode::InvalidPayload),
        };
        counted(node, ApiError::new(status, code, rejection.body_text()))
    })
}

/// `POST /api/channels/{channel}/publish`: the body is any JSON value, delivered as `data`.
/// It must be declared `Content-Type: application/json` (415 otherwise).
pub async fn publish(
    State(node): State<Arc<Node>>,
    Path(channel): Path<String>,
    headers: HeaderMap,
    body: Result<Bytes, BytesRejection>,
) -> Result<Json<serde_json::Value>, ApiError> {
    require_json(&node, &headers)?;
    check_channel(&node, &channel)?;
    let body = read_body(&node, body)?;
    let data: Box<serde_json::value::RawValue> = serde_json::from_slice(&body).map_err(|e| {
        let message = format!("the request body must be a JSON value: {e}");
        counted(
            &node,
            ApiError::new(StatusCode::BAD_REQUEST, ErrorCode::MalformedJson, message),
        )
    })?;
    let receipt = node
        .publish(channel.clone(), data, None)
        .await
        .map_err(|e| broker_unavailable(&node, e))?;
    Ok(Json(
        json!({"channel": channel, "seq": receipt.seq, "subscribers": receipt.subscribers}),
    ))
}

/// The longest user id the API takes, in bytes.
pub const MAX_USER_BYTES: usize = 256;

/// The body of a user's `subscribe` and `unsubscribe`.
#[derive(serde::Deserialize)]
#[serde(deny_unknown_fields)]
struct ChannelBody {
    channel: String,
}

/// `POST /api/users/{user}/subscribe|unsubscribe` with `{"channel": "..."}`, and
/// `POST /api/users/{user}/disconnect` (no body, or `{}`): acts on every connection of the
/// user (the token's `sub`) on every node. Connections are told with `subscribed` /
/// `unsubscribed`, or closed with 4006.
pub async fn user_command(
    State(node): State<Arc<Node>>,
    Path((user, command)): Path<(String, String)>,
    headers: HeaderMap,
    body: Result<Bytes, BytesRejection>,
) -> Result<Json<serde_json::Value>, ApiError> {
    let bad = |message: String| {
        let error = ApiError::new(StatusCode::BAD_REQUEST, ErrorCode::InvalidPayload, message);
        counted(&node, error)
    };
    let takes_channel = match command.as_str() {
        "subscribe" | "unsubscribe" => true,
        "disconnect" => false,
        _ => return Err(not_found().await),
    };
    if user.is_empty() || user.len() > MAX_USER_BYTES {
        return Err(bad(format!(
            "the user id must be 1 to {MAX_USER_BYTES} bytes long"
        )));
    }
    let body = read_body(&node, body)?;
    let command = if takes_channel {
        require_json(&node, &headers)?;
        let ChannelBody { channel } = serde_json::from_slice(&body)
            .map_err(|e| bad(format!("the body must be {{\"channel\": \"...\"}}: {e}")))?;
        check_channel(&node, &channel)?;
        if command == "subscribe" {
            UserCommand::Subscribe { channel }
        } else {
            UserCommand::Unsubscribe { channel }
        }
    } else {
        if !body.is_empty() {
            require_json(&node, &headers)?;
            serde_json::from_slice::<serde_json::Map<String, serde_json::Value>>(&body)
                .map_err(|e| bad(format!("the body must be empty or {{}}: {e}")))?;
        }
        UserCommand::Disconnect
    };
    // `{"user": ..., "op": ..., "channel": ...}`: what was done, for whom.
    let mut answer = serde_json::to_value(&command).expect("a user command encodes");
    answer["user"] = json!(user);
    node.user_command(&user, command)
        .await
        .map_err(|e| broker_unavailable(&node, e))?;
    Ok(Json(answer))
}

/// `GET /api/channels`: every channel with subscribers, with its count.
pub async fn list_channels(
    State(node): State<Arc<Node>>,
) -> Result<Json<serde_json::Value>, ApiError> {
    let channels = node
        .broker
        .channel_counts()
        .await
        .map_err(|e| broker_unavailable(&node, e))?;
    Ok(Json(json!({ "channels": channels })))
}

/// `GET /healthz`: `{"status": "ok" | "degraded", "broker": ..., "connections": n}`.
pub async fn health(State(node): State<Arc<Node>>) -> Json<serde_json::Value> {
    let connections = node
        .metrics
        .connections_open
        .load(std::sync::atomic::Ordering::Relaxed);
    let mut body =
        json!({"status": "ok", "broker": node.broker.kind(), "connections": connections});
    if let crate::broker::BrokerHealth::Degraded(reason) = node.broker.health() {
        body["status"] = json!("degraded");
        body["reason"] = json!(reason);
    }
    Json(body)
}

/// `GET /metrics`: Prometheus text format.
pub async fn metrics(State(node): State<Arc<Node>>) -> impl IntoResponse {
    (
        [(header::CONTENT_TYPE, "text/plain; version=0.0.4")],
        node.metrics.render(),
    )
}

/// `/api` and `/metrics` on the public side when `--internal-listen` serves them.
pub async fn internal_only() -> ApiError {
    ApiError::new(
        StatusCode::NOT_FOUND,
        ErrorCode::NotFound,
        "not served on this address: the server API and metrics are on --internal-listen",
    )
}

/// Any other path under `/api`.
pub async fn not_found() -> ApiError {
    ApiError::new(
        StatusCode::NOT_FOUND,
        ErrorCode::NotFound,
        "no such API endpoint",
    )
}

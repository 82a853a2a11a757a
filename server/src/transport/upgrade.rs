//! The WebSocket opening handshake (RFC 6455 §4.2) as an axum extractor: the request is
//! checked the way axum's own `WebSocketUpgrade` checks it, the answer is `101 Switching
//! Protocols`, and the upgraded connection comes back as the plain [`TcpStream`] it runs on,
//! which Howl's fan-out writes to directly.

use crate::http_api::ApiError;
use axum::extract::FromRequestParts;
use axum::http::request::Parts;
use axum::http::{header, HeaderMap, HeaderName, HeaderValue, Method, StatusCode};
use axum::response::{IntoResponse, Response};
use bytes::Bytes;
use futures_util::FutureExt;
use howl_protocol::ErrorCode;
use hyper::upgrade::OnUpgrade;
use std::future::Future;
use tokio::net::TcpStream;

/// A request to open a WebSocket, checked and ready to be answered with
/// [`WebSocketUpgrade::on_upgrade`].
pub struct WebSocketUpgrade {
    key: HeaderValue,
    on_upgrade: OnUpgrade,
}

/// Why a request could not be upgraded; answered with its HTTP status.
#[derive(Debug, Clone, Copy, PartialEq, Eq, thiserror::Error)]
pub enum Rejection {
    /// Not a GET (405).
    #[error("WebSocket upgrades need a GET request")]
    MethodNotGet,
    /// `Connection: upgrade`, `Upgrade: websocket` or `Sec-WebSocket-Key` missing (400).
    #[error("not a WebSocket upgrade request")]
    NotUpgrade,
    /// `Sec-WebSocket-Version` is not 13 (400).
    #[error("Sec-WebSocket-Version must be 13")]
    Version,
    /// The HTTP connection cannot be upgraded (426).
    #[error("this connection cannot be upgraded")]
    NotUpgradable,
}

impl IntoResponse for Rejection {
    /// The status, and the JSON error body every HTTP answer of Howl's has
    /// (`{"error": {"code": "invalid_payload", "message": …}}`).
    fn into_response(self) -> Response {
        let status = match self {
            Rejection::MethodNotGet => StatusCode::METHOD_NOT_ALLOWED,
            Rejection::NotUpgrade | Rejection::Version => StatusCode::BAD_REQUEST,
            Rejection::NotUpgradable => StatusCode::UPGRADE_REQUIRED,
        };
        ApiError::new(status, ErrorCode::InvalidPayload, self.to_string()).into_response()
    }
}

fn header_is(headers: &HeaderMap, name: HeaderName, value: &str) -> bool {
    headers
        .get(name)
        .is_some_and(|v| v.as_bytes().eq_ignore_ascii_case(value.as_bytes()))
}

fn header_contains(headers: &HeaderMap, name: HeaderName, token: &str) -> bool {
    headers.get_all(name).iter().any(|v| {
        v.to_str().is_ok_and(|v| {
            v.split(',')
                .any(|part| part.trim().eq_ignore_ascii_case(token))
        })
    })
}

impl<S: Send + Sync> FromRequestParts<S> for WebSocketUpgrade {
    type Rejection = Rejection;

    async fn from_request_parts(parts: &mut Parts, _state: &S) -> Result<Self, Rejection> {
        if parts.method != Method::GET {
            return Err(Rejection::MethodNotGet);
        }
        let headers = &parts.headers;
        if !header_contains(headers, header::CONNECTION, "upgrade")
            || !header_is(headers, header::UPGRADE, "websocket")
        {
            return Err(Rejection::NotUpgrade);
        }
        let key = headers
            .get(header::SEC_WEBSOCKET_KEY)
            .ok_or(Rejection::NotUpgrade)?
            .clone();
        if !header_is(headers, header::SEC_WEBSOCKET_VERSION, "13") {
            return Err(Rejection::Version);
        }
        let on_upgrade = parts
            .extensions
            .remove::<OnUpgrade>()
            .ok_or(Rejection::NotUpgradable)?;
        Ok(Self { key, on_upgrade })
    }
}

/// An upgraded connection: its TCP stream and the bytes the client sent right behind the
/// handshake (already read by the HTTP layer).
pub struct Upgraded {
    /// The socket.
    pub stream: TcpStream,
    /// Bytes read past the HTTP request.
    pub read: Bytes,
}

impl WebSocketUpgrade {
    /// Answers `101 Switching Protocols` and, once the HTTP layer has handed the connection
    /// over, spawns `serve` with it. A connection that is not a plain TCP stream of
    /// [`crate::http_server`] (never the case in Howl) or that fails to upgrade is passed to
    /// `failed` instead.
    pub fn on_upgrade<F, Fut>(
        self,
        serve: F,
        failed: impl FnOnce(String) + Send + 'static,
    ) -> Response
    where
        F: FnOnce(Upgraded) -> Fut + Send + 'static,
        Fut: Future<Output = ()> + Send + 'static,
    {
        let accept = tungstenite::handshake::derive_accept_key(self.key.as_bytes());
        // `then` keeps the two stages in one enum: the upgrade's state and the connection's
        // future never take room side by side in the task of an idle connection.
        let task = self.on_upgrade.then(move |upgraded| {
            let upgraded = upgraded
                .map_err(|error| error.to_string())
                .and_then(|upgraded| {
                    crate::http_server::into_tcp(upgraded)
                        .map_err(|_| "the upgraded connection is not a TCP stream".to_owned())
                });
            match upgraded {
                Ok(upgraded) => serve(upgraded).left_future(),
                Err(error) => {
                    failed(error);
                    std::future::ready(()).right_future()
                }
            }
        });
        tokio::spawn(task);
        let mut response = StatusCode::SWITCHING_PROTOCOLS.into_response();
        let headers = response.headers_mut();
        headers.insert(header::CONNECTION, HeaderValue::from_static("upgrade"));
        headers.insert(header::UPGRADE, HeaderValue::from_static("websocket"));
        headers.insert(
            header::SEC_WEBSOCKET_ACCEPT,
            HeaderValue::from_str(&accept).expect("base64 is a valid header value"),
        );
        response
    }
}

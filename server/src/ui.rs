//! The demo web UI at `/`: from `--ui-dir` when given, otherwise the UI embedded in the binary
//! at build time (`dist/`, built by `trunk build --release`), otherwise a page that explains
//! how to build it.
//!
//! Release builds carry the files inside the binary; debug builds read them from `dist/` at
//! run time (`rust-embed`'s behaviour), so a rebuilt UI shows up without recompiling.

use axum::http::{header, HeaderMap, HeaderValue, Method, StatusCode, Uri};
use axum::response::{Html, IntoResponse, Response};
use rust_embed::Embed;

/// The files Trunk wrote to the repository's `dist/` when the server was built; empty when it
/// had not been built.
#[derive(Embed)]
#[folder = "../dist/"]
#[allow_missing = true]
struct Dist;

/// Whether a built UI (an `index.html`) was embedded at build time.
pub fn embedded_available() -> bool {
    Dist::get(INDEX).is_some()
}

/// Serves a file of the embedded UI; any other path that is not an API route gets
/// `index.html`, so the single-page app can handle it.
pub async fn embedded(method: Method, uri: Uri, headers: HeaderMap) -> Response {
    if method != Method::GET && method != Method::HEAD {
        return (
            StatusCode::METHOD_NOT_ALLOWED,
            [(header::ALLOW, HeaderValue::from_static("GET, HEAD"))],
        )
            .into_response();
    }
    let path = uri.path().trim_start_matches('/');
    let (path, file) = match Dist::get(path).filter(|_| !path.is_empty()) {
        Some(file) => (path, file),
        None => match Dist::get(INDEX) {
            Some(file) => (INDEX, file),
            // The files were removed from disk after start (debug builds read them there).
            None => return not_built().await.into_response(),
        },
    };
    let etag = format!("\"{}\"", hex(&file.metadata.sha256_hash()));
    let cache = if path == INDEX {
        // index.html names the hashed assets of the current build: always revalidate it.
        "no-cache"
    } else {
        // Trunk puts a content hash in every asset's name, so an asset never changes.
        "public, max-age=31536000, immutable"
    };
    let fresh = headers
        .get(header::IF_NONE_MATCH)
        .is_some_and(|tags| tags.as_bytes() == etag.as_bytes());
    let mut response = if fresh {
        StatusCode::NOT_MODIFIED.into_response()
    } else {
        file.data.into_response()
    };
    let out = response.headers_mut();
    let mime = file.metadata.mimetype();
    let kind = if mime.starts_with("text/") || mime.ends_with("javascript") {
        format!("{mime}; charset=utf-8")
    } else {
        mime.to_owned()
    };
    if let Ok(kind) = HeaderValue::from_str(&kind) {
        out.insert(header::CONTENT_TYPE, kind);
    }
    if let Ok(etag) = HeaderValue::from_str(&etag) {
        out.insert(header::ETAG, etag);
    }
    out.insert(header::CACHE_CONTROL, HeaderValue::from_static(cache));
    response
}

/// The page shown at `/` when no built UI is available.
pub async fn not_built() -> Html<&'static str> {
    Html(NOT_BUILT)
}

const INDEX: &str = "index.html";

fn hex(bytes: &[u8]) -> String {
    bytes.iter().map(|b| format!("{b:02x}")).collect()
}

const NOT_BUILT: &str = r#"<!doctype html>
<html lang="en"><head><meta charset="utf-8"><title>Howl</title>
<meta name="viewport" content="width=device-width, initial-scale=1">
<style>body{font-family:system-ui,sans-serif;max-width:40rem;margin:3rem auto;padding:0 1rem;line-height:1.5}
code,pre{background:#f2f2f2;padding:.1rem .3rem;border-radius:4px}</style></head>
<body><h1>Howl is running</h1>
<p>The WebSocket endpoint is live, but this server has no built web UI to show.</p>
<p>Build and serve it from the repository root with:</p>
<pre>scripts/run</pre>
<p>or build it yourself with <code>trunk build --release</code> and start
<code>howl --ui-dir dist</code> (a release build of <code>howl</code> made after
<code>trunk build --release</code> carries the UI inside the binary).</p>
<p>Health: <a href="/healthz">/healthz</a> · Metrics: <a href="/metrics">/metrics</a> ·
Channels: <a href="/api/channels">/api/channels</a></p>
</body></html>
"#;

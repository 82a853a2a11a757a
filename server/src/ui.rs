//! The demo web UI at `/`: served from `--ui-dir` when given, otherwise a page that explains
//! how to build it.

use axum::response::Html;

/// The page shown at `/` when no built UI is available.
pub async fn not_built() -> Html<&'static str> {
    Html(NOT_BUILT)
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
<code>howl --ui-dir dist</code>.</p>
<p>Health: <a href="/healthz">/healthz</a> · Metrics: <a href="/metrics">/metrics</a> ·
Channels: <a href="/api/channels">/api/channels</a></p>
</body></html>
"#;

//! Test-only: a WebSocket echo server over exactly Howl's transport (its HTTP layer, upgrade,
//! frame reader and writer, with Howl's settings), for the Autobahn|Testsuite fuzzing client
//! (`scripts/autobahn`). It echoes every text and binary message back and nothing else; it is
//! not part of the `howl` binary and never built into a release.
//!
//! ```sh
//! cargo run --release -p howl-server --example autobahn_echo -- 127.0.0.1:9101 [HOWL FLAGS...]
//! ```
//! Listens on loopback only (refuses any other address); further arguments are `howl` flags,
//! e.g. `--max-message-size 20000000` for the suite's 16 MiB messages.

use axum::extract::ws::{Message, WebSocket, WebSocketUpgrade};
use axum::routing::any;
use axum::Router;
use futures_util::SinkExt;
use howl::http_server::HttpConnections;
use howl::Config;
use std::net::SocketAddr;
use std::sync::Arc;

#[tokio::main]
async fn main() -> anyhow::Result<()> {
    let mut args = std::env::args().skip(1);
    let address: SocketAddr = args
        .next()
        .unwrap_or_else(|| "127.0.0.1:9101".into())
        .parse()?;
    anyhow::ensure!(address.ip().is_loopback(), "loopback addresses only");
    let flags: Vec<String> = args.collect();
    let flags: Vec<&str> = flags.iter().map(String::as_str).collect();
    let config = Arc::new(Config::for_tests(&flags));
    let listener = tokio::net::TcpListener::bind(address).await?;
    println!("echo listening on ws://{}", listener.local_addr()?);
    let settings = config.clone();
    let app = Router::new().route(
        "/",
        any(move |ws: WebSocketUpgrade| {
            let config = settings.clone();
            async move {
                ws.read_buffer_size(config.read_buffer_size)
                    .write_buffer_size(config.write_buffer_size)
                    .max_message_size(config.max_message_size)
                    .max_frame_size(config.max_message_size)
                    .on_upgrade(echo)
            }
        }),
    );
    let http = HttpConnections::new(&config, Arc::default());
    http.accept(listener, app).await;
    Ok(())
}

async fn echo(mut socket: WebSocket) {
    while let Some(Ok(message)) = socket.recv().await {
        let reply = match message {
            Message::Text(_) | Message::Binary(_) => message,
            Message::Close(_) => break,
            Message::Ping(_) | Message::Pong(_) => continue,
        };
        if socket.send(reply).await.is_err() {
            break;
        }
    }
    // As a Howl connection does when its client closed: flush the close reply, then close.
    let _ = socket.close().await;
}

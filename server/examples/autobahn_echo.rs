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

use axum::routing::any;
use axum::Router;
use howl::http_server::HttpConnections;
use howl::outbox::{Frame, Outbox};
use howl::transport::upgrade::{Upgraded, WebSocketUpgrade};
use howl::transport::{Incoming, Reader};
use howl::Config;
use std::net::SocketAddr;
use std::sync::Arc;
use std::time::Duration;

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
                ws.on_upgrade(
                    move |socket| echo(config, socket),
                    |error| eprintln!("upgrade failed: {error}"),
                )
            }
        }),
    );
    let http = HttpConnections::new(&config, Arc::default());
    http.accept(listener, app).await;
    Ok(())
}

/// The parts of a Howl connection's loop that make up the WebSocket protocol: read, answer
/// pings, echo, close (with the code a Howl connection would use).
async fn echo(config: Arc<Config>, socket: Upgraded) {
    let mut reader = Reader::new(
        socket.read,
        config.max_message_size,
        config.read_buffer_size,
    );
    let outbox = Outbox::for_socket(
        config.outbox_capacity,
        config.outbox_max_bytes,
        config.write_buffer_size,
        socket.stream,
    );
    let stream = outbox.socket().expect("made with a socket");
    let batch = outbox.batch();
    let close = loop {
        let incoming = tokio::select! {
            incoming = reader.recv(stream) => incoming,
            () = outbox.ready() => {
                if outbox.write(batch, config.write_timeout).await.is_err() {
                    return;
                }
                continue;
            }
        };
        match incoming {
            Ok(Incoming::Text(text)) => outbox.push(Frame::text(&text)),
            Ok(Incoming::Binary(data)) => outbox.push(Frame::binary(&data)),
            Ok(Incoming::Ping(payload)) => outbox.push(Frame::pong(&payload)),
            Ok(Incoming::Pong) => continue,
            Ok(Incoming::Close(close)) => break close.map(|(code, _)| (code, "")),
            Err(error) => match error.close_code() {
                Some(code) => break Some((code, "protocol error")),
                None => return,
            },
        };
    };
    outbox.seal(false, Some(Frame::close(close)));
    let _ = tokio::time::timeout(Duration::from_secs(5), outbox.flush()).await;
}

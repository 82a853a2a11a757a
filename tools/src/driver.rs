//! Runs a sans-IO [`ClientSession`] over a real socket: carries out its outputs with
//! tokio-tungstenite, feeds it frames, closes and the clock, and hands its events to a
//! [`Handler`].

use futures_util::{SinkExt, StreamExt};
use howl_client_core::{ClientConfig, ClientSession, CloseReason, Event, Output, TokenSource};
use std::future::Future;
use std::time::Duration;
use tokio::net::TcpStream;
use tokio::time::Instant;
use tokio_tungstenite::tungstenite::protocol::frame::coding::CloseCode;
use tokio_tungstenite::tungstenite::protocol::CloseFrame;
use tokio_tungstenite::tungstenite::Message;
use tokio_tungstenite::{MaybeTlsStream, WebSocketStream};
use tracing::debug;

/// The tools' session settings: the defaults, with `token` (if any) as the connection token
/// sent on every connection.
pub fn client_config(token: Option<&str>) -> ClientConfig {
    ClientConfig {
        token: token.map_or(TokenSource::None, |t| TokenSource::Static(t.to_owned())),
        ..ClientConfig::default()
    }
}

type Socket = WebSocketStream<MaybeTlsStream<TcpStream>>;

/// Close code reported to the session when a socket fails without a close frame.
const ABNORMAL: u16 = 1006;

/// Why the driver's loop woke up.
enum Wake {
    Shutdown,
    Timer,
    Incoming(Option<Result<Message, tokio_tungstenite::tungstenite::Error>>),
}

/// What a tool does with the session's events, plus an optional timer of its own.
pub trait Handler {
    /// Called once, right after the session starts connecting: issue the first commands
    /// (subscribe, watch) here.
    fn start(&mut self, session: &mut ClientSession, now: u64);

    /// An event from the session; `session` may be given commands (publish, subscribe, ...).
    fn on_event(&mut self, event: Event, session: &mut ClientSession, now: u64);

    /// When [`Handler::on_wakeup`] should run next, on the driver's clock (ms).
    fn wakeup(&self) -> Option<u64> {
        None
    }

    /// The time asked for with [`Handler::wakeup`] has come.
    fn on_wakeup(&mut self, _session: &mut ClientSession, _now: u64) {}

    /// Whether the tool has finished its work; the driver then disconnects and returns.
    fn finished(&self) -> bool {
        false
    }
}

/// Drives `session` against `url` until `shutdown` completes, the handler is finished or the
/// session closes for good; then disconnects cleanly. Returns why the session closed when it
/// closed on its own (e.g. the hub refused the token), `None` after `shutdown` or `finished`.
pub async fn run<H: Handler>(
    url: &str,
    mut session: ClientSession,
    handler: &mut H,
    shutdown: impl Future<Output = ()>,
) -> Option<CloseReason> {
    let mut closed = None;
    let epoch = Instant::now();
    let now = || epoch.elapsed().as_millis() as u64;
    let mut socket: Option<Socket> = None;
    tokio::pin!(shutdown);
    session.connect(now());
    handler.start(&mut session, now());
    loop {
        let mut open = false;
        while let Some(output) = session.poll_output() {
            match output {
                Output::OpenSocket => open = true,
                Output::Send(text) => {
                    if let Some(ws) = socket.as_mut() {
                        if let Err(error) = ws.send(Message::text(text)).await {
                            debug!(%error, "send failed");
                            socket = None;
                            session.on_close(ABNORMAL, now());
                        }
                    }
                }
                Output::Close { code, reason } => {
                    if let Some(mut ws) = socket.take() {
                        let frame = CloseFrame {
                            code: CloseCode::from(code),
                            reason: reason.into(),
                        };
                        let _ = tokio::time::timeout(Duration::from_secs(2), ws.close(Some(frame)))
                            .await;
                    }
                }
                Output::Event(event) => {
                    if let Event::Closed(reason) = &event {
                        closed = Some(reason.clone());
                    }
                    handler.on_event(event, &mut session, now());
                }
                // The tools send a static token at most (`TokenSource::Static`) and no
                // subscription tokens, so the session never asks for one.
                Output::GetToken(_) | Output::GetSubscriptionToken { .. } => {}
            }
        }
        if open {
            let limit = Duration::from_millis(session.config().handshake_timeout_ms);
            match tokio::time::timeout(limit, tokio_tungstenite::connect_async(url)).await {
                Ok(Ok((ws, _))) => {
                    socket = Some(ws);
                    session.on_open(now());
                }
                Ok(Err(error)) => {
                    debug!(%error, "connect failed");
                    session.on_close(ABNORMAL, now());
                }
                Err(_) => session.on_close(ABNORMAL, now()),
            }
            continue;
        }
        if handler.finished() || session.state() == howl_client_core::ConnectionState::Closed {
            break;
        }
        let deadline = [session.next_deadline(), handler.wakeup()]
            .into_iter()
            .flatten()
            .min()
            .map(|ms| epoch + Duration::from_millis(ms));
        let wake = {
            let timer = async {
                match deadline {
                    Some(at) => tokio::time::sleep_until(at).await,
                    None => std::future::pending().await,
                }
            };
            let incoming = async {
                match socket.as_mut() {
                    Some(ws) => ws.next().await,
                    None => std::future::pending().await,
                }
            };
            tokio::select! {
                _ = &mut shutdown => Wake::Shutdown,
                _ = timer => Wake::Timer,
                message = incoming => Wake::Incoming(message),
            }
        };
        match wake {
            Wake::Shutdown => break,
            Wake::Timer => {
                let t = now();
                session.tick(t);
                if handler.wakeup().is_some_and(|w| t >= w) {
                    handler.on_wakeup(&mut session, t);
                }
            }
            Wake::Incoming(Some(Ok(Message::Text(text)))) => session.on_frame(text.as_str(), now()),
            Wake::Incoming(Some(Ok(Message::Close(frame)))) => {
                socket = None;
                let code = frame.map_or(1005, |f| u16::from(f.code));
                session.on_close(code, now());
            }
            Wake::Incoming(Some(Ok(_))) => {}
            Wake::Incoming(Some(Err(error))) => {
                debug!(%error, "socket failed");
                socket = None;
                session.on_close(ABNORMAL, now());
            }
            Wake::Incoming(None) => {
                socket = None;
                session.on_close(ABNORMAL, now());
            }
        }
    }
    session.disconnect(now());
    while let Some(output) = session.poll_output() {
        match output {
            Output::Send(text) => {
                if let Some(ws) = socket.as_mut() {
                    let _ = ws.send(Message::text(text)).await;
                }
            }
            Output::Close { code, reason } => {
                if let Some(mut ws) = socket.take() {
                    let frame = CloseFrame {
                        code: CloseCode::from(code),
                        reason: reason.into(),
                    };
                    let _ =
                        tokio::time::timeout(Duration::from_secs(2), ws.close(Some(frame))).await;
                }
            }
            Output::Event(event) => handler.on_event(event, &mut session, now()),
            Output::OpenSocket | Output::GetToken(_) | Output::GetSubscriptionToken { .. } => {}
        }
    }
    closed
}

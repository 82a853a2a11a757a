//! The connect limits in a real browser, against an address where nothing listens: every
//! attempt is refused and the client keeps retrying (every 50 ms) until a limit ends the wait.

use super::*;
use crate::ClientConfig;
use howl_client_core::{ConnectionState, ReconnectPolicy};
use std::future::Future;
use std::task::{Context, Waker};
use std::time::Duration;
use wasm_bindgen_test::{wasm_bindgen_test, wasm_bindgen_test_configure};

wasm_bindgen_test_configure!(run_in_browser);

/// Port 9 (discard) on loopback: nothing listens there.
const NOBODY: &str = "ws://127.0.0.1:9/ws";

fn retrying() -> ClientConfig {
    ClientConfig {
        reconnect: ReconnectPolicy {
            initial_delay_ms: 50,
            max_delay_ms: 50,
            ..ReconnectPolicy::default()
        },
        ..ClientConfig::default()
    }
}

/// The client gave up connecting for good and released everything (socket, timer, callbacks).
fn assert_closed(client: &Client) {
    assert_eq!(client.state(), ConnectionState::Closed);
    assert!(client.engine.released(), "released");
    assert!(!client.engine.timer_pending(), "no timer left");
}

/// Calls `f` after `ms` from a browser timer; the returned pair keeps it scheduled.
fn after(ms: u64, f: impl FnOnce() + 'static) -> (Timeout, Closure<dyn FnMut()>) {
    let mut f = Some(f);
    let handler = Closure::<dyn FnMut()>::new(move || {
        if let Some(f) = f.take() {
            f();
        }
    });
    let now = platform::now_ms();
    (
        Timeout::start(handler.as_ref().unchecked_ref(), now + ms, now),
        handler,
    )
}

#[wasm_bindgen_test]
async fn connect_timeout_fails_with_timeout_and_closes_the_client() {
    let client = Client::new(NOBODY, retrying()).unwrap();
    let limits = Limits {
        timeout_ms: Some(300),
        abort: None,
    };
    let started = platform::now_ms();
    let result = opened_within(client.clone(), limits).await;
    let waited = platform::now_ms() - started;
    assert_eq!(result.err(), Some(ClientError::Timeout(300).into()));
    assert!((290..5_000).contains(&waited), "waited {waited} ms");
    assert_closed(&client);

    // The builder's path, with a Duration.
    let result = Client::builder(NOBODY)
        .config(retrying())
        .connect_timeout(Duration::from_millis(200))
        .connect()
        .await;
    assert_eq!(result.err(), Some(ClientError::Timeout(200).into()));
}

#[wasm_bindgen_test]
async fn an_abort_handle_fails_the_connect_with_aborted_and_closes_the_client() {
    let client = Client::new(NOBODY, retrying()).unwrap();
    let abort = AbortHandle::new();
    let limits = Limits {
        timeout_ms: Some(10_000),
        abort: Some(Abort::Handle(abort.clone())),
    };
    let _timer = after(150, {
        let abort = abort.clone();
        move || abort.abort()
    });
    let result = opened_within(client.clone(), limits).await;
    assert_eq!(result.err(), Some(Error::Aborted));
    assert!(abort.is_aborted());
    assert_closed(&client);
    // The settled connect removed its listener from the handle.
    assert!(abort.state.listeners.borrow().is_empty());

    // Already aborted: the builder fails at once, before creating a client.
    let result = Client::builder(NOBODY).abort_handle(&abort).connect().await;
    assert_eq!(result.err(), Some(Error::Aborted));
}

#[wasm_bindgen_test]
fn dropping_the_connect_future_closes_the_client() {
    let client = Client::new(NOBODY, retrying()).unwrap();
    let mut connecting = Box::pin(opened_within(client.clone(), Limits::default()));
    let mut cx = Context::from_waker(Waker::noop());
    assert!(connecting.as_mut().poll(&mut cx).is_pending());
    assert_ne!(client.state(), ConnectionState::Closed);
    drop(connecting);
    assert_closed(&client);
}

//! Waiting for a client to open, with a time limit and a way to give up: what
//! [`crate::ClientBuilder::connect`] (with [`crate::ClientBuilder::connect_timeout`] and
//! [`crate::ClientBuilder::abort_handle`]) and JavaScript's `HowlClient.connect({timeout,
//! signal})` share. The wait always settles — opened, given up, timed out or aborted — and a
//! client that did not open in time, or whose wait was aborted, is closed.

use crate::platform::{self, Timeout};
use crate::reply;
use crate::{Client, Error};
use howl_client_core::ClientError;
use js_sys::Function;
use std::cell::{Cell, RefCell};
use std::rc::Rc;
use wasm_bindgen::prelude::*;
use wasm_bindgen::JsCast;
use web_sys::EventTarget;

/// Aborts a pending [`crate::ClientBuilder::connect`]: it fails with [`Error::Aborted`] and
/// its client is closed — the Rust counterpart of an `AbortSignal`. Cheap to clone (all
/// clones are one handle); aborting is permanent and idempotent, and aborting after the
/// client opened does nothing to it.
///
/// ```no_run
/// # async fn demo() -> Result<(), howl_client_wasm::Error> {
/// use howl_client_wasm::{AbortHandle, Client};
/// use std::time::Duration;
///
/// let abort = AbortHandle::new(); // e.g. kept by a "Cancel" button's handler
/// let client = Client::builder("/ws")
///     .connect_timeout(Duration::from_secs(10))
///     .abort_handle(&abort)
///     .connect()
///     .await?;
/// # Ok(()) }
/// ```
#[derive(Clone, Default)]
pub struct AbortHandle {
    state: Rc<AbortState>,
}

/// Runs once, on abort.
type AbortListener = Box<dyn FnOnce()>;

#[derive(Default)]
struct AbortState {
    aborted: Cell<bool>,
    next_id: Cell<u64>,
    listeners: RefCell<Vec<(u64, AbortListener)>>,
}

impl AbortHandle {
    /// A handle that has not aborted.
    pub fn new() -> Self {
        Self::default()
    }

    /// Aborts every connect this handle was given that is still waiting.
    pub fn abort(&self) {
        if self.state.aborted.replace(true) {
            return;
        }
        let listeners = std::mem::take(&mut *self.state.listeners.borrow_mut());
        for (_, listener) in listeners {
            listener();
        }
    }

    /// Whether [`AbortHandle::abort`] was called.
    pub fn is_aborted(&self) -> bool {
        self.state.aborted.get()
    }

    /// Calls `listener` once on abort; the id removes it.
    fn listen(&self, listener: AbortListener) -> u64 {
        let id = self.state.next_id.get();
        self.state.next_id.set(id + 1);
        self.state.listeners.borrow_mut().push((id, listener));
        id
    }

    fn unlisten(&self, id: u64) {
        self.state.listeners.borrow_mut().retain(|(i, _)| *i != id);
    }
}

impl std::fmt::Debug for AbortHandle {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("AbortHandle")
            .field("aborted", &self.is_aborted())
            .finish()
    }
}

/// Where an abort comes from.
pub(crate) enum Abort {
    /// A JavaScript `AbortSignal` (its `abort` event).
    Signal(EventTarget),
    /// An [`AbortHandle`].
    Handle(AbortHandle),
}

impl Abort {
    /// Whether it already aborted.
    pub(crate) fn aborted(&self) -> bool {
        match self {
            Self::Signal(signal) => js_sys::Reflect::get(signal, &"aborted".into())
                .ok()
                .and_then(|v| v.as_bool())
                .unwrap_or(false),
            Self::Handle(handle) => handle.is_aborted(),
        }
    }
}

/// A connect's limits: at most `timeout_ms`, until `abort` aborts.
#[derive(Default)]
pub(crate) struct Limits {
    pub(crate) timeout_ms: Option<u64>,
    pub(crate) abort: Option<Abort>,
}

impl Limits {
    /// Whether the abort source already aborted (the connect fails before it starts).
    pub(crate) fn aborted(&self) -> bool {
        self.abort.as_ref().is_some_and(Abort::aborted)
    }
}

/// Calls a settled connect's completion.
pub(crate) type Done = Box<dyn FnOnce(Result<Client, Error>)>;

/// What a pending connect holds until it settles; dropping it clears the timer and removes
/// the abort listener.
struct Pending {
    done: Option<Done>,
    _timeout: Option<(Timeout, Closure<dyn FnMut()>)>,
    abort: Option<Listening>,
}

enum Listening {
    Signal(EventTarget, Closure<dyn FnMut()>),
    Handle(AbortHandle, u64),
}

impl Drop for Pending {
    fn drop(&mut self) {
        match &self.abort {
            Some(Listening::Signal(signal, listener)) => {
                let f: &Function = listener.as_ref().unchecked_ref();
                let _ = signal.remove_event_listener_with_callback("abort", f);
            }
            Some(Listening::Handle(handle, id)) => handle.unlisten(*id),
            None => {}
        }
    }
}

/// Settles `done` with the client once it opens, or with why it did not: the session gave up,
/// `limits.timeout_ms` passed ([`ClientError::Timeout`]) or `limits.abort` aborted
/// ([`Error::Aborted`]); in the last two cases the client is closed.
pub(crate) fn settle(client: Client, limits: Limits, done: Done) {
    let pending = Rc::new(RefCell::new(Some(Pending {
        done: Some(done),
        _timeout: None,
        abort: None,
    })));
    // Takes the pending state (once) and settles; a timeout or abort also closes the client.
    let finish = {
        let pending = pending.clone();
        let client = client.clone();
        move |result: Result<(), Error>| {
            let Some(mut state) = pending.borrow_mut().take() else {
                return;
            };
            let failed = result.is_err();
            if let Some(done) = state.done.take() {
                done(result.map(|()| client.clone()));
            }
            drop(state);
            if failed {
                client.close();
            }
        }
    };
    if let Some(ms) = limits.timeout_ms {
        let finish = finish.clone();
        let handler = Closure::<dyn FnMut()>::new(move || {
            finish(Err(ClientError::Timeout(ms).into()));
        });
        let now = platform::now_ms();
        let timeout = Timeout::start(handler.as_ref().unchecked_ref(), now + ms, now);
        if let Some(p) = pending.borrow_mut().as_mut() {
            p._timeout = Some((timeout, handler));
        }
    }
    let listening = match limits.abort {
        None => None,
        Some(Abort::Signal(signal)) => {
            let finish = finish.clone();
            let listener = Closure::<dyn FnMut()>::new(move || finish(Err(Error::Aborted)));
            let f: &Function = listener.as_ref().unchecked_ref();
            let _ = signal.add_event_listener_with_callback("abort", f);
            Some(Listening::Signal(signal, listener))
        }
        Some(Abort::Handle(handle)) => {
            let finish = finish.clone();
            let id = handle.listen(Box::new(move || finish(Err(Error::Aborted))));
            Some(Listening::Handle(handle, id))
        }
    };
    if let Some(p) = pending.borrow_mut().as_mut() {
        p.abort = listening;
    }
    client.opened_with(finish);
}

/// Waits for `client` to open within `limits` (see [`settle`]). Dropping the future before it
/// finishes closes the client.
pub(crate) async fn opened_within(client: Client, limits: Limits) -> Result<Client, Error> {
    let mut unless_opened = CloseOnDrop(Some(client.clone()));
    let (resolver, reply) = reply::channel();
    settle(client, limits, Box::new(move |r| resolver.resolve(r)));
    let result = reply.await;
    unless_opened.0 = None;
    result
}

/// Closes the client when dropped holding it: a connect future dropped before it finished.
struct CloseOnDrop(Option<Client>);

impl Drop for CloseOnDrop {
    fn drop(&mut self) {
        if let Some(client) = self.0.take() {
            client.close();
        }
    }
}

// In headless Chromium: `CARGO_TARGET_WASM32_UNKNOWN_UNKNOWN_RUNNER=wasm-bindgen-test-runner
// cargo test -p howl-client-wasm --lib --target wasm32-unknown-unknown` (client-wasm/README.md).
#[cfg(all(test, target_arch = "wasm32"))]
#[path = "connect_tests.rs"]
mod tests;
